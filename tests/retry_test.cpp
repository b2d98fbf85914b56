// Transient errors (DC stopped, DC not answering) are
// retried with backoff up to the configured limit; permanent ones fail at once
// with the DC's own words.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/ad_probe.h"
#include "support/lab_info.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

using nlohmann::json;

pid_t DcPid(const LabInfo& lab) {
  std::ifstream in(lab.dir + "/samba.pid");
  pid_t pid = -1;
  in >> pid;
  return pid;
}

// Polls an action until `done(action)` or the deadline; returns the last answer.
template <typename Pred>
json WaitFor(cli::ApiClient& client, const std::string& id, Pred done, std::chrono::seconds limit) {
  json last;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = client.Get("/api/v1/actions/" + id);
    if (r && r->status == 200) {
      last = r->body;
      if (done(last)) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return last;
}

bool Finished(const json& a) {
  const std::string s = a.value("status", "");
  return s == "succeeded" || s == "failed" || s == "cancelled";
}

std::string Submit(cli::ApiClient& client, const std::string& action, const std::string& account) {
  auto r = client.Post("/api/v1/actions",
                       json{{"action", action}, {"provider", "ad"}, {"account", account}, {"reason", "retry drill"}});
  if (!r || r->status != 202) return "";
  return r->body["id"].get<std::string>();
}

class RetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The probe's connection dies with the DC in the stop/start test; a write
    // to it must be an error, not a signal that ends the test.
    ::signal(SIGPIPE, SIG_IGN);
    auto probe = AdProbe::ConnectAsAdmin(lab_);
    ASSERT_TRUE(probe.has_value()) << probe.error().message;
    probe_ = std::make_unique<AdProbe>(std::move(*probe));
    ASSERT_TRUE(probe_->ResetUser(kUser).has_value());
  }
  void TearDown() override {
    // Whatever happened, leave the DC answering and the user as seeded.
    ::kill(DcPid(lab_), SIGCONT);
    auto probe = AdProbe::ConnectAsAdmin(lab_);
    if (probe) (void)probe->ResetUser(kUser);
  }

  std::unique_ptr<TestServer> StartServer(const std::string& engine, const std::string& ad_extra) {
    auto server = TestServer::Create({.connectors_toml = LabAdSection(lab_, ad_extra), .engine_toml = engine});
    EXPECT_TRUE(server.has_value());
    if (!server) return nullptr;
    EXPECT_TRUE((*server)->Token("security_operator").has_value());
    auto started = (*server)->Start();
    EXPECT_TRUE(started.has_value()) << (started ? "" : started.error().message);
    return std::move(*server);
  }

  const LabInfo& lab_ = TheLab();
  // The first staff user: the AD connector's own tests use the last ones.
  const std::string kUser = lab_.staff_users.at(0);
  std::unique_ptr<AdProbe> probe_;
};

TEST_F(RetryTest, DcNotAnsweringIsRetriedUntilItAnswersAgain) {
  auto server = StartServer("max_attempts = 20\nbackoff_initial_ms = 100\nbackoff_max_ms = 400\n",
                            "timeout_ms = 700\nworkers = 1\n");
  ASSERT_TRUE(server);
  auto client = server->Client("security_operator");
  const pid_t dc = DcPid(lab_);
  ASSERT_GT(dc, 0);

  ASSERT_EQ(::kill(dc, SIGSTOP), 0);  // the DC hangs: connections and operations time out
  const std::string id = Submit(*client, "disable", kUser);
  ASSERT_FALSE(id.empty());
  json a = WaitFor(*client, id, [](const json& x) { return x.value("attemptCount", 0) >= 2; },
                   std::chrono::seconds(60));
  ::kill(dc, SIGCONT);
  EXPECT_GE(a.value("attemptCount", 0), 2) << a.dump(2);
  EXPECT_FALSE(Finished(a)) << "a transient error must not end the action: " << a.dump(2);

  a = WaitFor(*client, id, Finished, std::chrono::seconds(60));
  EXPECT_EQ(a.value("status", ""), "succeeded") << a.dump(2);
  bool saw_transient = false;
  for (const auto& at : a["attempts"])
    if (at.value("result", "") == "transient_error") saw_transient = true;
  EXPECT_TRUE(saw_transient) << a.dump(2);
  auto u = probe_->ReadUser(kUser);
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->disabled());
}

TEST_F(RetryTest, PermanentErrorFailsAtOnceWithTheDcsWords) {
  auto server = StartServer("max_attempts = 5\n", "");
  ASSERT_TRUE(server);
  auto client = server->Client("security_operator");
  const std::string id = Submit(*client, "disable", "Administrator");
  ASSERT_FALSE(id.empty());
  json a = WaitFor(*client, id, Finished, std::chrono::seconds(60));
  EXPECT_EQ(a.value("status", ""), "failed") << a.dump(2);
  EXPECT_EQ(a.value("attemptCount", 0), 1) << a.dump(2);
  EXPECT_EQ(a["providerAnswer"].value("code", ""), "ldap:50") << a.dump(2);
  EXPECT_NE(a["providerAnswer"].value("detail", "").find("has no write property access"), std::string::npos) << a.dump(2);
  auto admin = probe_->ReadUser("Administrator");
  ASSERT_TRUE(admin.has_value());
  EXPECT_FALSE(admin->disabled());
}

TEST_F(RetryTest, DcStoppedAndStartedAgainIsRetried) {
  auto server = StartServer("max_attempts = 30\nbackoff_initial_ms = 100\nbackoff_max_ms = 300\n",
                            "timeout_ms = 1000\nworkers = 1\n");
  ASSERT_TRUE(server);
  auto client = server->Client("security_operator");
  auto down = RunProgram({.argv = {CORDON_BINARY, "lab", "down", "--dir", lab_.dir}, .timeout = std::chrono::seconds(60)});
  ASSERT_TRUE(down.has_value() && down->ok()) << (down ? down->err : down.error().message);
  const std::string id = Submit(*client, "disable", kUser);
  ASSERT_FALSE(id.empty());
  json a = WaitFor(*client, id, [](const json& x) { return x.value("attemptCount", 0) >= 2; },
                   std::chrono::seconds(60));
  auto up = RunProgram({.argv = {CORDON_BINARY, "lab", "up", "--dir", lab_.dir}, .timeout = std::chrono::seconds(300)});
  ASSERT_TRUE(up.has_value() && up->ok()) << (up ? up->err : up.error().message);
  EXPECT_FALSE(Finished(a)) << "a transient error must not end the action: " << a.dump(2);
  a = WaitFor(*client, id, Finished, std::chrono::seconds(90));
  EXPECT_EQ(a.value("status", ""), "succeeded") << a.dump(2);
  auto probe = AdProbe::ConnectAsAdmin(lab_);
  ASSERT_TRUE(probe.has_value());
  auto u = probe->ReadUser(kUser);
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->disabled());
}

}  // namespace
}  // namespace cordon::testing
