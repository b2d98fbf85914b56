#include "support/emulator_admin.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace cordon::testing {

using nlohmann::json;

OktaAdmin::OktaAdmin(const LabInfo& lab) : lab_(lab.okta) {
  if (lab_.url.empty()) throw std::runtime_error("lab.json has no okta section (is the lab up?)");
  token_ = ReadSecretFile(lab_.token_file);
}

WireResponse OktaAdmin::Send(const std::string& method, const std::string& path, const std::string& body) const {
  WireRequest r;
  r.method = method;
  r.url = lab_.url + path;
  r.authorization = "SSWS " + token_;
  r.body = body;
  if (!body.empty()) r.content_type = "application/json";
  return Call(r, lab_.ca_file);
}

json OktaAdmin::User(const std::string& id_or_login) const { return Send("GET", "/api/v1/users/" + id_or_login).Json(); }

std::string OktaAdmin::Status(const std::string& id_or_login) const { return User(id_or_login).value("status", ""); }

json OktaAdmin::Sessions(const std::string& id) const { return Send("GET", "/lab/users/" + id + "/sessions").Json(); }

void OktaAdmin::AddSession(const std::string& id, int oauth_tokens) const {
  const auto r = Send("POST", "/lab/users/" + id + "/sessions", json{{"oauthTokens", oauth_tokens}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
}

void OktaAdmin::Settings(const json& settings) const {
  const auto r = Send("POST", "/lab/settings", settings.dump());
  ASSERT_EQ(r.status, 200) << r.body;
}

void OktaAdmin::Faults(const json& faults) const {
  const auto r = Send("POST", "/lab/faults", faults.dump());
  ASSERT_EQ(r.status, 200) << r.body;
}

void OktaAdmin::ResetToDefaults() const {
  const json limit{{"limit", 600}, {"window_seconds", 60}};
  Faults({{"error_rate", 0}, {"drop_rate", 0}, {"latency_ms", 0}, {"header_quirks", json::array()}});
  Settings({{"clock_offset_seconds", 0},
            {"access_token_lifetime_seconds", 3600},
            {"concurrency_limit", 75},
            {"rate_limits", {{"users.read", limit}, {"users.manage", limit}, {"token", limit}}}});
}

void OktaAdmin::EnsureActive(const std::string& login) const {
  for (int i = 0; i < 100; ++i) {
    const json u = User(login);
    const std::string status = u.value("status", "");
    if (!u.value("transitioningToStatus", json()).is_null()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (status == "ACTIVE") return;
    if (status == "SUSPENDED") (void)Send("POST", "/api/v1/users/" + login + "/lifecycle/unsuspend");
    else if (status == "DEPROVISIONED") (void)Send("POST", "/api/v1/users/" + login + "/lifecycle/activate?sendEmail=false");
    else FAIL() << login << " is " << status;
  }
  FAIL() << login << " did not become ACTIVE";
}

std::string OktaAdmin::CreateUser(const json& profile, const std::string& password) const {
  const auto r = Send("POST", "/api/v1/users?activate=true",
                      json{{"profile", profile}, {"credentials", {{"password", {{"value", password}}}}}}.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? r.Json().value("id", "") : "";
}

void OktaAdmin::DeleteUser(const std::string& id) const {
  // Without Prefer: respond-async the first DELETE answers once the user is DEPROVISIONED.
  for (int i = 0; i < 2; ++i) {
    const auto r = Send("DELETE", "/api/v1/users/" + id);
    EXPECT_TRUE(r.status == 204 || r.status == 404) << r.status << " " << r.body;
    if (r.status == 404) return;
  }
}

GraphAdmin::GraphAdmin(const LabInfo& lab) : lab_(lab.entra) {
  if (lab_.graph_url.empty()) throw std::runtime_error("lab.json has no entra section (is the lab up?)");
}

const json& GraphAdmin::LabRoles() {
  static const json roles = {"User.Read.All", "User.EnableDisableAccount.All", "User.RevokeSessions.All",
                             "IdentityRiskyUser.ReadWrite.All"};
  return roles;
}

WireResponse GraphAdmin::Send(const std::string& method, const std::string& path, const std::string& body) {
  WireRequest r;
  r.method = method;
  r.url = lab_.graph_url + path;
  r.authorization = "Bearer " + Token();
  r.body = body;
  if (!body.empty()) r.content_type = "application/json";
  WireResponse answer = Call(r, lab_.ca_file);
  for (int tries = 0; (answer.status == 401 || answer.status == 429) && tries < 30; ++tries) {
    if (answer.status == 401) token_.clear();
    else std::this_thread::sleep_for(std::chrono::milliseconds(500));
    r.authorization = "Bearer " + Token();
    answer = Call(r, lab_.ca_file);
  }
  return answer;
}

json GraphAdmin::User(const std::string& id_or_upn) {
  return Send("GET", "/v1.0/users/" + FormEncode(id_or_upn) +
                         "?$select=id,userPrincipalName,displayName,accountEnabled,onPremisesSyncEnabled,"
                         "onPremisesSecurityIdentifier,userType")
      .Json();
}

bool GraphAdmin::Enabled(const std::string& upn) { return User(upn).value("accountEnabled", false); }

json GraphAdmin::Risk(const std::string& object_id) {
  return Send("GET", "/v1.0/identityProtection/riskyUsers/" + object_id).Json();
}

json GraphAdmin::Sessions(const std::string& upn) { return Send("GET", "/lab/users/" + FormEncode(upn) + "/sessions").Json(); }

void GraphAdmin::AddSession(const std::string& upn) {
  const auto r = Send("POST", "/lab/users/" + FormEncode(upn) + "/sessions", "{}");
  ASSERT_TRUE(r.status == 200 || r.status == 201) << r.status << " " << r.body;
}

void GraphAdmin::Settings(const json& settings) {
  const auto r = Send("POST", "/lab/settings", settings.dump());
  ASSERT_EQ(r.status, 200) << r.body;
}

void GraphAdmin::Faults(const json& faults) {
  const auto r = Send("POST", "/lab/faults", faults.dump());
  ASSERT_EQ(r.status, 200) << r.body;
}

json GraphAdmin::Stats() { return Send("GET", "/lab/stats").Json(); }

void GraphAdmin::ClearStats() { (void)Send("DELETE", "/lab/stats"); }

void GraphAdmin::ResetToDefaults() {
  Faults({{"error_rate", 0}, {"drop_rate", 0}, {"latency_ms", 0}});
  Settings({{"token_lifetime_seconds", 3599},
            {"clock_offset_seconds", 0},
            {"throttle", {{"requests_per_second", 0}, {"window_seconds", 10}, {"retry_after", "integer"}}},
            {"identity_protection_licence", true},
            {"app_roles", LabRoles()}});
}

void GraphAdmin::Restore(const std::string& upn) {
  const json u = User(upn);
  const std::string id = u.value("id", "");
  ASSERT_FALSE(id.empty()) << upn << ": " << u.dump();
  if (!u.value("accountEnabled", true)) {
    const auto r = Send("PATCH", "/v1.0/users/" + id, R"({"accountEnabled":true})");
    ASSERT_EQ(r.status, 204) << r.body;
  }
  const json risk = Risk(id);
  if (risk.value("riskState", "none") != "none" && risk.value("riskState", "") != "dismissed") {
    const auto r = Send("POST", "/v1.0/identityProtection/riskyUsers/dismiss", json{{"userIds", {id}}}.dump());
    ASSERT_EQ(r.status, 204) << r.body;
  }
}

std::string GraphAdmin::CreateUser(const json& user) {
  json roles = LabRoles();
  roles.push_back("User.ReadWrite.All");
  // A change of the app's roles reaches the next token only, as in Entra ID.
  Settings({{"app_roles", roles}});
  token_.clear();
  const auto r = Send("POST", "/v1.0/users", user.dump());
  Settings({{"app_roles", LabRoles()}});
  token_.clear();
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? r.Json().value("id", "") : "";
}

std::string GraphAdmin::Token() {
  if (!token_.empty()) return token_;
  WireRequest r;
  r.method = "POST";
  r.url = lab_.authority + "/" + lab_.tenant + "/oauth2/v2.0/token";
  r.content_type = "application/x-www-form-urlencoded";
  r.body = "grant_type=client_credentials&client_id=" + FormEncode(lab_.client_id) +
           "&scope=" + FormEncode(lab_.graph_url + "/.default") +
           "&client_secret=" + FormEncode(ReadSecretFile(lab_.client_secret_file));
  const WireResponse answer = Call(r, lab_.ca_file);
  if (answer.status != 200) throw std::runtime_error("the lab's app got no token: " + std::to_string(answer.status));
  token_ = answer.Json().value("access_token", "");
  return token_;
}

}  // namespace cordon::testing
