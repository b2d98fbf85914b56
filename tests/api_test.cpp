// The REST API end to end: a real ApiServer (HTTPS with a throwaway
// certificate, and plain HTTP on loopback) over a real SqliteStore and a real
// ActionService, driven by a verifying HTTP client.
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/router.h"
#include "authz/tokens.h"
#include "engine/action_service.h"
#include "support/api_fixture.h"
#include "support/log_capture.h"

namespace cordon::api {
namespace {

using nlohmann::json;
using cordon::testing::LogCapture;
using testing::ApiFixture;
using testing::ApiFixtureOptions;
using testing::HttpResult;
using testing::RawRequest;
using testing::TestClient;
namespace http = boost::beast::http;

constexpr const char* kActions = "/api/v1/actions";

json Disable(const std::string& account) {
  return json{{"action", "disable"}, {"provider", "ad"}, {"account", account}, {"reason", "phishing incident"}};
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = ApiFixture::Start(Options());
    ASSERT_TRUE(f.has_value()) << f.error().message;
    fixture_ = std::move(*f);
    client_.emplace(fixture_->Client());
    operator_token_ = fixture_->Token(Role::kSecurityOperator);
    reader_token_ = fixture_->Token(Role::kSecurityReader);
    ASSERT_FALSE(operator_token_.empty());
    ASSERT_FALSE(reader_token_.empty());
  }
  void TearDown() override {
    client_.reset();
    fixture_.reset();
  }
  virtual ApiFixtureOptions Options() { return {}; }

  // How many actions the action center holds, read through the store.
  size_t ActionCount() {
    ActionFilter filter;
    filter.limit = 1000;
    auto page = fixture_->store().ListActions(filter);
    EXPECT_TRUE(page.has_value());
    return page ? page->actions.size() : 0;
  }

  HttpResult Submit(const json& body) { return client_->Post(kActions, body, operator_token_); }

  std::unique_ptr<ApiFixture> fixture_;
  std::optional<TestClient> client_;
  std::string operator_token_;
  std::string reader_token_;
};


void ExpectProblem(const HttpResult& r, unsigned status, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(r.status, status) << r.transport_error << " " << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  const json doc = r.Json();
  ASSERT_TRUE(doc.is_object()) << r.body;
  EXPECT_TRUE(doc.contains("type") && doc["type"].is_string());
  EXPECT_TRUE(doc.contains("title") && doc["title"].is_string());
  EXPECT_EQ(doc.value("status", 0u), status);
  EXPECT_TRUE(doc.contains("detail") && doc["detail"].is_string());
  // The instance is the request's id, never its path; the header carries it too.
  ASSERT_TRUE(doc.contains("instance") && doc["instance"].is_string());
  EXPECT_EQ(doc["instance"].get<std::string>().rfind("urn:cordon:request:", 0), 0u) << r.body;
  EXPECT_EQ(r.Header("x-request-id"), doc["instance"].get<std::string>());
}

// Every audit row of refused calls whose event starts with `prefix`.
std::vector<AuditEvent> Refusals(Store& store, const std::string& prefix) {
  auto rows = store.ListAudit(prefix, 1000);
  EXPECT_TRUE(rows.has_value());
  return rows ? *rows : std::vector<AuditEvent>{};
}

int64_t CountOf(const std::vector<AuditEvent>& rows) {
  int64_t n = 0;
  for (const AuditEvent& e : rows) n += e.count;
  return n;
}

TEST_F(ApiTest, HealthzAnswersWithoutToken) {
  const HttpResult r = client_->Get("/healthz", "");
  ASSERT_EQ(r.status, 200u) << r.transport_error;
  EXPECT_EQ(r.Json(), json({{"status", "ok"}, {"store", "ok"}, {"providers", json::array()}}));
}

TEST_F(ApiTest, HealthzShowsAPausedProviderWithoutItsWords) {
  ActionService service(fixture_->store(), nullptr, {Provider::kActiveDirectory});
  HttpMetrics metrics;
  ProviderHealth paused;
  paused.provider = Provider::kActiveDirectory;
  paused.state = ProviderState::kPaused;
  paused.since = FromUnixMillis(1'800'000'000'000);
  paused.until = paused.since + Millis(4000);
  paused.cause = "credentials_refused";
  paused.reason = "bind as svc-cordon@corp.example.test: Invalid credentials (49) 80090308: data 52e";
  paused.pauses = 1;
  ProviderHealth running;
  running.provider = Provider::kOkta;
  Router router(fixture_->store(), service, metrics, nullptr, [&] { return std::vector{paused, running}; });

  HttpRequest get(http::verb::get, "/healthz", 11);
  const RoutedResponse health = router.Handle(get);
  EXPECT_EQ(health.response.result_int(), 200u);
  const json doc = json::parse(health.response.body());
  EXPECT_EQ(doc.at("status"), "degraded");
  ASSERT_EQ(doc.at("providers").size(), 2u);
  EXPECT_EQ(doc.at("providers")[0],
            json({{"provider", "ad"}, {"state", "paused"}, {"since", "2027-01-15T08:00:00.000Z"},
                  {"cause", "credentials_refused"}, {"nextProbe", "2027-01-15T08:00:04.000Z"}}));
  EXPECT_EQ(doc.at("providers")[1], json({{"provider", "okta"}, {"state", "running"}}));
  EXPECT_EQ(health.response.body().find("svc-cordon"), std::string::npos) << "the provider's words need a token";

  HttpRequest scrape(http::verb::get, "/metrics", 11);
  scrape.set(http::field::authorization, "Bearer " + reader_token_);
  const RoutedResponse metrics_text = router.Handle(scrape);
  ASSERT_EQ(metrics_text.response.result_int(), 200u);
  const std::string& text = metrics_text.response.body();
  EXPECT_NE(text.find("cordon_provider_state{provider=\"ad\",state=\"paused\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("cordon_provider_state_since_seconds{provider=\"ad\",cause=\"credentials_refused\"} "
                      "1800000000.000"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cordon_provider_pauses_total{provider=\"ad\"} 1"), std::string::npos) << text;
}

TEST_F(ApiTest, HealthzAndMetricsShowEachRateLimitWindowAndTheProvidersRefusals) {
  ActionService service(fixture_->store(), nullptr, {Provider::kOkta});
  HttpMetrics metrics;
  ProviderHealth okta;
  okta.provider = Provider::kOkta;
  okta.rate_limited = 3;
  okta.rate_windows = {{"users.manage", 200, 120, 20, Millis(2500)}, {"users.read", 600, 590, 590, Millis(41000)}};
  Router router(fixture_->store(), service, metrics, nullptr, [&] { return std::vector{okta}; });

  HttpRequest get(http::verb::get, "/healthz", 11);
  const json doc = json::parse(router.Handle(get).response.body());
  EXPECT_EQ(doc.at("status"), "ok") << "a rate limit being spent is no outage";
  const json& entry = doc.at("providers").at(0);
  EXPECT_EQ(entry.at("rateLimited"), 3);
  ASSERT_EQ(entry.at("rateLimits").size(), 2u);
  EXPECT_EQ(entry.at("rateLimits")[0], json({{"bucket", "users.manage"},
                                             {"limit", 200},
                                             {"remaining", 120},
                                             {"budgetLeft", 20},
                                             {"resetsInSeconds", 2.5}}));
  EXPECT_EQ(entry.at("rateLimits")[1].at("bucket"), "users.read");

  HttpRequest scrape(http::verb::get, "/metrics", 11);
  scrape.set(http::field::authorization, "Bearer " + reader_token_);
  const std::string text = router.Handle(scrape).response.body();
  for (const char* line : {"cordon_provider_rate_limited_total{provider=\"okta\"} 3",
                           "cordon_provider_rate_limit{provider=\"okta\",bucket=\"users.manage\"} 200",
                           "cordon_provider_rate_limit_remaining{provider=\"okta\",bucket=\"users.manage\"} 120",
                           "cordon_provider_rate_budget_left{provider=\"okta\",bucket=\"users.manage\"} 20",
                           "cordon_provider_rate_limit_resets_in_seconds{provider=\"okta\",bucket=\"users.manage\"} 2.500",
                           "cordon_provider_rate_limit{provider=\"okta\",bucket=\"users.read\"} 600"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
}

TEST_F(ApiTest, SubmitReturns202WithLocationAndTheStoredAction) {
  const HttpResult r = Submit(Disable("alice.adams"));
  ASSERT_EQ(r.status, 202u) << r.body;
  const json a = r.Json();
  const std::string id = a.at("id");
  EXPECT_EQ(r.Header("location"), std::string(kActions) + "/" + id);
  EXPECT_EQ(a.at("action"), "disable");
  EXPECT_EQ(a.at("provider"), "ad");
  EXPECT_EQ(a.at("account"), "alice.adams");
  EXPECT_EQ(a.at("reason"), "phishing incident");
  EXPECT_EQ(a.at("status"), "pending");
  EXPECT_EQ(a.at("requestedBy"), "security_operator-token");
  EXPECT_TRUE(a.at("createdAt").is_string());
  EXPECT_TRUE(a.at("undoOf").is_null());

  auto stored = fixture_->store().GetAction(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->requested_by, "security_operator-token");
  EXPECT_EQ(stored->target, "alice.adams");
}

TEST_F(ApiTest, GetOneShowsAttemptsAndAudit) {
  const HttpResult created = Submit(Disable("bob.baker"));
  ASSERT_EQ(created.status, 202u);
  const std::string id = created.Json().at("id");
  ASSERT_TRUE(fixture_->Succeed(id).has_value());

  const HttpResult r = client_->Get(std::string(kActions) + "/" + id, reader_token_);
  ASSERT_EQ(r.status, 200u) << r.body;
  const json a = r.Json();
  EXPECT_EQ(a.at("status"), "succeeded");
  ASSERT_EQ(a.at("attempts").size(), 1u);
  EXPECT_EQ(a.at("attempts")[0].at("result"), "succeeded");
  EXPECT_EQ(a.at("attempts")[0].at("providerAnswer").at("code"), "ldap:0");
  EXPECT_EQ(a.at("providerAnswer").at("code"), "ldap:0");
  ASSERT_GE(a.at("audit").size(), 2u);
  EXPECT_EQ(a.at("audit")[0].at("event"), "created");
  EXPECT_EQ(a.at("audit").back().at("toStatus"), "succeeded");

  ExpectProblem(client_->Get(std::string(kActions) + "/act_does_not_exist", reader_token_), 404, "unknown id");
}

TEST_F(ApiTest, BulkSubmitCreatesOneActionPerAccount) {
  const json body{{"action", "force_password_reset"},
                  {"provider", "ad"},
                  {"accounts", {"bulk0001", "bulk0002", "bulk0003"}},
                  {"reason", "credential stuffing"}};
  const HttpResult r = client_->Post(std::string(kActions) + "/bulk", body, operator_token_);
  ASSERT_EQ(r.status, 202u) << r.body;
  const json out = r.Json();
  ASSERT_TRUE(out.at("bulkId").is_string());
  EXPECT_EQ(out.at("count"), 3);
  ASSERT_EQ(out.at("actions").size(), 3u);

  const std::string bulk_id = out.at("bulkId");
  const HttpResult listed = client_->Get(std::string(kActions) + "?bulkId=" + bulk_id, reader_token_);
  ASSERT_EQ(listed.status, 200u) << listed.body;
  const json page = listed.Json();
  ASSERT_EQ(page.at("value").size(), 3u) << listed.body;
  std::set<std::string> accounts;
  for (const json& a : page.at("value")) {
    EXPECT_EQ(a.at("bulkId"), bulk_id);
    EXPECT_EQ(a.at("action"), "force_password_reset");
    accounts.insert(a.at("account").get<std::string>());
  }
  EXPECT_EQ(accounts, (std::set<std::string>{"bulk0001", "bulk0002", "bulk0003"}));
}

TEST_F(ApiTest, CancelMovesPendingToCancelledAndRefusesTwice) {
  const HttpResult created = Submit(Disable("carol.clark"));
  ASSERT_EQ(created.status, 202u);
  const std::string id = created.Json().at("id");
  const std::string cancel = std::string(kActions) + "/" + id + "/cancel";

  const HttpResult r = client_->Post(cancel, json{{"reason", "wrong user"}}, operator_token_);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().at("status"), "cancelled");

  ExpectProblem(client_->Post(cancel, json{{"reason", "again"}}, operator_token_), 409, "cancel twice");
  ExpectProblem(client_->Post(cancel, json::object(), operator_token_), 400, "cancel without reason");
  ExpectProblem(client_->Post(std::string(kActions) + "/act_nope/cancel", json{{"reason", "x"}}, operator_token_),
                404, "cancel unknown");
}

TEST_F(ApiTest, UndoCreatesALinkedReverseAction) {
  const HttpResult created = Submit(Disable("dave.dunn"));
  ASSERT_EQ(created.status, 202u);
  const std::string id = created.Json().at("id");
  const std::string undo = std::string(kActions) + "/" + id + "/undo";

  ExpectProblem(client_->Post(undo, json{{"reason", "too early"}}, operator_token_), 409, "undo of a pending action");

  ASSERT_TRUE(fixture_->Succeed(id).has_value());
  const HttpResult r = client_->Post(undo, json{{"reason", "false positive"}}, operator_token_);
  ASSERT_EQ(r.status, 202u) << r.body;
  const json reverse = r.Json();
  EXPECT_EQ(reverse.at("action"), "enable");
  EXPECT_EQ(reverse.at("account"), "dave.dunn");
  EXPECT_EQ(reverse.at("undoOf"), id);
  EXPECT_EQ(r.Header("location"), std::string(kActions) + "/" + reverse.at("id").get<std::string>());

  // Linked once the undo has done its work; until then a second undo is refused.
  HttpResult original = client_->Get(std::string(kActions) + "/" + id, reader_token_);
  ASSERT_EQ(original.status, 200u);
  EXPECT_TRUE(original.Json().at("undoneBy").is_null());
  ExpectProblem(client_->Post(undo, json{{"reason", "twice"}}, operator_token_), 409, "undo while one runs");
  ASSERT_TRUE(fixture_->Succeed(reverse.at("id")).has_value());
  original = client_->Get(std::string(kActions) + "/" + id, reader_token_);
  ASSERT_EQ(original.status, 200u);
  EXPECT_EQ(original.Json().at("undoneBy"), reverse.at("id"));

  ExpectProblem(client_->Post(undo, json{{"reason", "twice"}}, operator_token_), 409, "undo twice");
}

TEST_F(ApiTest, ListFiltersByEveryField) {
  ASSERT_EQ(Submit(Disable("erin.evans")).status, 202u);
  ASSERT_EQ(Submit(Disable("frank.ford")).status, 202u);
  const json suspend{{"action", "suspend"}, {"provider", "okta"}, {"account", "erin.evans"}, {"reason", "r"}};
  ASSERT_EQ(client_->Post(kActions, suspend, fixture_->Token(Role::kGlobalAdministrator)).status, 202u);

  auto count = [&](const std::string& query) -> int {
    const HttpResult r = client_->Get(std::string(kActions) + "?" + query, reader_token_);
    EXPECT_EQ(r.status, 200u) << query << ": " << r.body;
    return r.status == 200 ? static_cast<int>(r.Json().at("value").size()) : -1;
  };
  EXPECT_EQ(count("status=pending"), 3);
  EXPECT_EQ(count("status=succeeded"), 0);
  EXPECT_EQ(count("type=disable"), 2);
  EXPECT_EQ(count("provider=okta"), 1);
  EXPECT_EQ(count("target=erin.evans"), 2);
  EXPECT_EQ(count("requestedBy=global_administrator-token"), 1);
  EXPECT_EQ(count("requestedBy=security_operator-token&provider=ad&type=disable"), 2);
  EXPECT_EQ(count("createdAfter=2000-01-01T00:00:00Z"), 3);
  EXPECT_EQ(count("createdBefore=2000-01-01T00:00:00Z"), 0);
  EXPECT_EQ(count("createdAfter=2000-01-01T00:00:00.000Z&createdBefore=2999-01-01T00:00:00Z"), 3);
}

TEST_F(ApiTest, ListRejectsUnknownParametersAndBadValues) {
  for (const char* query : {"colour=red", "status=done", "type=explode", "provider=ldap", "limit=0", "limit=1001",
                            "limit=ten", "limit=-1", "createdAfter=yesterday", "createdBefore=2026-13-01T00:00:00Z",
                            "status=pending&status=failed", "target=", "cursor=%zz"}) {
    ExpectProblem(client_->Get(std::string(kActions) + "?" + query, reader_token_), 400, query);
  }
}

TEST_F(ApiTest, CursorPagingWalksEveryActionOnce) {
  json accounts = json::array();
  for (int i = 0; i < 25; ++i) accounts.push_back("pager" + std::to_string(i));
  const json body{{"action", "disable"}, {"provider", "ad"}, {"accounts", accounts}, {"reason", "paging"}};
  ASSERT_EQ(client_->Post(std::string(kActions) + "/bulk", body, operator_token_).status, 202u);

  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    std::string target = std::string(kActions) + "?limit=10";
    if (!cursor.empty()) target += "&cursor=" + cursor;
    const HttpResult r = client_->Get(target, reader_token_);
    ASSERT_EQ(r.status, 200u) << r.body;
    const json page = r.Json();
    ASSERT_LE(page.at("value").size(), 10u);
    for (const json& a : page.at("value")) EXPECT_TRUE(seen.insert(a.at("id").get<std::string>()).second) << "seen twice";
    cursor = page.at("nextCursor").is_string() ? page.at("nextCursor").get<std::string>() : "";
    ASSERT_LT(++pages, 10) << "paging does not end";
  } while (!cursor.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 25u);
}

TEST_F(ApiTest, BadRequestsGetProblemsWriteNothingAndTheServerGoesOn) {
  ASSERT_EQ(Submit(Disable("grace.green")).status, 202u);
  const size_t before = ActionCount();

  struct Case {
    std::string name;
    RawRequest request;
    unsigned status;
  };
  auto post = [&](std::string target, std::string body) {
    RawRequest r;
    r.method = http::verb::post;
    r.target = std::move(target);
    r.body = std::move(body);
    r.token = operator_token_;
    return r;
  };
  std::vector<Case> cases;
  cases.push_back({"malformed json", post(kActions, R"({"action": "disable", )"), 400});
  cases.push_back({"not an object", post(kActions, R"(["disable"])"), 400});
  cases.push_back({"empty body", post(kActions, ""), 400});
  cases.push_back({"wrong type", post(kActions, R"({"action":"disable","provider":"ad","account":5,"reason":"r"})"), 400});
  cases.push_back({"missing account", post(kActions, R"({"action":"disable","provider":"ad","reason":"r"})"), 400});
  cases.push_back({"missing reason", post(kActions, R"({"action":"disable","provider":"ad","account":"a"})"), 400});
  cases.push_back({"empty reason", post(kActions, R"({"action":"disable","provider":"ad","account":"a","reason":" "})"), 400});
  cases.push_back({"unknown field",
                   post(kActions, R"({"action":"disable","provider":"ad","account":"a","reason":"r","acount":"b"})"), 400});
  cases.push_back({"unknown action",
                   post(kActions, R"({"action":"explode","provider":"ad","account":"a","reason":"r"})"), 422});
  cases.push_back({"unknown provider",
                   post(kActions, R"({"action":"disable","provider":"ldap","account":"a","reason":"r"})"), 422});
  cases.push_back({"action not offered by provider",
                   post(kActions, R"({"action":"suspend","provider":"ad","account":"a","reason":"r"})"), 422});
  cases.push_back({"control character in account",
                   post(kActions, R"({"action":"disable","provider":"ad","account":"a\nb","reason":"r"})"), 400});
  cases.push_back({"deep nesting", post(kActions, std::string(5000, '[') + std::string(5000, ']')), 400});
  cases.push_back({"bulk accounts not an array",
                   post(std::string(kActions) + "/bulk", R"({"action":"disable","provider":"ad","accounts":"a","reason":"r"})"), 400});
  cases.push_back({"bulk empty", post(std::string(kActions) + "/bulk", R"({"action":"disable","provider":"ad","accounts":[],"reason":"r"})"), 400});
  cases.push_back({"bulk with a number",
                   post(std::string(kActions) + "/bulk", R"({"action":"disable","provider":"ad","accounts":["a",1],"reason":"r"})"), 400});
  {
    RawRequest r = post(kActions, Disable("x").dump());
    r.content_type = "text/plain";
    cases.push_back({"wrong content type", r, 415});
  }
  {
    std::string big = Disable("x").dump();
    big.insert(1, "\"pad\":\"" + std::string(1024 * 1024, 'p') + "\",");
    cases.push_back({"body over 1 MiB", post(kActions, big), 413});
    RawRequest chunked = post(kActions, big);
    chunked.chunked = true;
    cases.push_back({"chunked body over 1 MiB", chunked, 413});
  }
  cases.push_back({"unknown route", post("/api/v1/nothing", Disable("x").dump()), 404});
  cases.push_back({"unknown sub-route", post(std::string(kActions) + "/abc/explode", "{}"), 404});
  {
    RawRequest r;
    r.method = http::verb::delete_;
    r.target = kActions;
    r.token = operator_token_;
    cases.push_back({"wrong method", r, 405});
    r.method = http::verb::get;
    r.target = std::string(kActions) + "/bulk";
    cases.push_back({"GET on bulk", r, 405});
    r.method = http::verb::post;
    r.target = "/healthz";
    cases.push_back({"POST on healthz", r, 405});
  }
  {
    RawRequest r = post(kActions, Disable("x").dump());
    r.token.clear();
    cases.push_back({"no token", r, 401});
    r.token = "cdn_not-a-real-token";
    cases.push_back({"bad token", r, 401});
    r.token.clear();
    r.headers["Authorization"] = "Basic YWRtaW46YWRtaW4=";
    cases.push_back({"basic auth", r, 401});
    r.headers.clear();
    r.token = reader_token_;
    cases.push_back({"reader may not act", r, 403});
  }

  for (const Case& c : cases) {
    const HttpResult r = client_->Send(c.request);
    ExpectProblem(r, c.status, c.name);
    if (c.status == 401) {
      EXPECT_EQ(r.Header("www-authenticate").rfind("Bearer", 0), 0u) << c.name;
    }
    if (c.status == 405) {
      EXPECT_FALSE(r.Header("allow").empty()) << c.name;
    }
    EXPECT_EQ(ActionCount(), before) << c.name << " wrote an action";
    EXPECT_EQ(client_->Get("/healthz", "").status, 200u) << "server gone after " << c.name;
  }
}

TEST_F(ApiTest, RefusalsAreAuditedAggregatedWithoutTheToken) {
  ASSERT_EQ(client_->Post(kActions, Disable("x"), "").status, 401u);
  ASSERT_EQ(client_->Post(kActions, Disable("x"), "cdn_wrong").status, 401u);
  ASSERT_EQ(client_->Get(std::string(kActions) + "?status=pending", "cdn_wrong").status, 401u);
  ASSERT_EQ(client_->Post(kActions, Disable("x"), reader_token_).status, 403u);
  // Written off the request path: nothing yet, until the flush.
  EXPECT_TRUE(Refusals(fixture_->store(), "auth.").empty());
  ASSERT_TRUE(fixture_->Flush().has_value());

  // One row per (event, address, token, route class), with a count.
  auto unauthenticated = Refusals(fixture_->store(), "auth.unauthenticated");
  ASSERT_EQ(unauthenticated.size(), 2u);
  EXPECT_EQ(CountOf(unauthenticated), 3);
  for (const AuditEvent& e : unauthenticated) {
    EXPECT_EQ(e.actor, "anonymous");
    EXPECT_TRUE(e.actor_token.empty()) << "an unknown token has no id";
    EXPECT_EQ(e.client_address, "127.0.0.1");
    EXPECT_EQ(e.detail.find("cdn_"), std::string::npos);
    EXPECT_EQ(e.detail.find("status=pending"), std::string::npos) << "the query string stays out: " << e.detail;
    if (e.count == 2) {
      EXPECT_EQ(e.detail.rfind("POST /api/v1/actions", 0), 0u) << e.detail;
      EXPECT_NE(e.detail.find("route actions.submit"), std::string::npos) << e.detail;
    } else {
      EXPECT_EQ(e.detail.rfind("GET /api/v1/actions", 0), 0u) << e.detail;
    }
  }
  auto forbidden = Refusals(fixture_->store(), "auth.forbidden");
  ASSERT_EQ(forbidden.size(), 1u);
  EXPECT_EQ(forbidden.front().actor, "security_reader-token");
  auto reader = fixture_->store().FindTokenByDigest(TokenDigest(reader_token_));
  ASSERT_TRUE(reader.has_value() && reader->has_value());
  EXPECT_EQ(forbidden.front().actor_token, (*reader)->id);
  EXPECT_NE(forbidden.front().detail.find("disable at ad"), std::string::npos) << forbidden.front().detail;
  EXPECT_EQ(forbidden.front().detail.find(reader_token_), std::string::npos);

  ASSERT_TRUE(fixture_->Flush().has_value());
  EXPECT_EQ(Refusals(fixture_->store(), "auth.").size(), 3u) << "a flush writes each refusal once";
}

TEST_F(ApiTest, CancelAndUndoNeedTheRightToRunTheAction) {
  const HttpResult created = Submit(Disable("henry.hill"));
  ASSERT_EQ(created.status, 202u);
  const std::string id = created.Json().at("id");
  ExpectProblem(client_->Post(std::string(kActions) + "/" + id + "/cancel", json{{"reason", "r"}}, reader_token_), 403,
                "reader cancels");
  ASSERT_TRUE(fixture_->Succeed(id).has_value());
  ExpectProblem(client_->Post(std::string(kActions) + "/" + id + "/undo", json{{"reason", "r"}}, reader_token_), 403,
                "reader undoes");
  auto action = fixture_->store().GetAction(id);
  ASSERT_TRUE(action.has_value());
  EXPECT_TRUE(action->undone_by.empty());
  ASSERT_TRUE(fixture_->Flush().has_value());
  const auto forbidden = Refusals(fixture_->store(), "auth.forbidden");
  EXPECT_EQ(forbidden.size(), 2u) << "cancel and undo are two route classes";
  EXPECT_EQ(CountOf(forbidden), 2);
}

TEST_F(ApiTest, MetricsNeedATokenAndCountActionsRequestsAndRefusals) {
  ASSERT_EQ(Submit(Disable("ivy.irwin")).status, 202u);
  ASSERT_EQ(client_->Post(kActions, Disable("x"), "").status, 401u);
  ExpectProblem(client_->Get("/metrics", ""), 401, "metrics without token");

  const HttpResult r = client_->Get("/metrics", reader_token_);
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.Header("content-type").rfind("text/plain", 0), 0u);
  EXPECT_NE(r.body.find("cordon_actions{status=\"pending\"} 1\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("cordon_http_requests_total{route=\"actions.submit\",code=\"202\"} 1\n"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("cordon_auth_failures_total{reason=\"unauthenticated\"} 2\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("cordon_auth_failures_total{reason=\"throttled\"} 0\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("cordon_store_up 1\n"), std::string::npos);
}

TEST_F(ApiTest, ExpectContinueIsHonoured) {
  json accounts = json::array();
  for (int i = 0; i < 200; ++i) accounts.push_back("continue" + std::to_string(i));
  RawRequest r;
  r.method = http::verb::post;
  r.target = std::string(kActions) + "/bulk";
  r.token = operator_token_;
  r.headers["Expect"] = "100-continue";
  r.body = json{{"action", "disable"}, {"provider", "ad"}, {"accounts", accounts}, {"reason", "big bulk"}}.dump();
  const HttpResult out = client_->Send(r);
  ASSERT_EQ(out.status, 202u) << out.transport_error << out.body;
  EXPECT_EQ(out.Json().at("count"), 200);

  r.body.insert(1, "\"pad\":\"" + std::string(1024 * 1024, 'p') + "\",");
  ExpectProblem(client_->Send(r), 413, "expect-continue with a body over the limit");
}

TEST_F(ApiTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(client_->Get("/healthz", "").status, 200u);
  ASSERT_EQ(client_->Get(kActions, reader_token_).status, 200u);
  EXPECT_EQ(client_->connections_opened(), 1);
}

TEST_F(ApiTest, GarbageOnTheWireDoesNotHurtTheServer) {
  TestClient raw = fixture_->Client();
  raw.SendBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  raw.SendBytes(std::string("\x16\x03\x01\x00\x05hello", 10));
  raw.SendBytes(std::string(100000, 'A'));
  raw.SendBytes("");
  EXPECT_EQ(client_->Get("/healthz", "").status, 200u);
}

TEST_F(ApiTest, OversizedHeadersAreRefused) {
  RawRequest r;
  r.target = "/healthz";
  r.headers["X-Padding"] = std::string(32 * 1024, 'h');
  const HttpResult out = client_->Send(r);
  EXPECT_EQ(out.status, 431u) << out.transport_error;
  EXPECT_EQ(client_->Get("/healthz", "").status, 200u);
}

TEST_F(ApiTest, TokensNeverReachTheLog) {
  std::string log;
  {
    LogCapture capture;
    ASSERT_EQ(Submit(Disable("jack.jones")).status, 202u);
    ASSERT_EQ(client_->Post(kActions, Disable("x"), reader_token_).status, 403u);
    ASSERT_EQ(client_->Get(std::string(kActions) + "?target=jack.jones", operator_token_).status, 200u);
    ASSERT_EQ(client_->Post(kActions, Disable("x"), "cdn_guessed-token").status, 401u);
    ASSERT_EQ(client_->Get(std::string(kActions) + "/" + operator_token_, operator_token_).status, 404u);
    log = capture.Text();
  }

  EXPECT_NE(log.find("POST /api/v1/actions 202"), std::string::npos) << log;
  EXPECT_NE(log.find("actor=security_operator-token"), std::string::npos) << log;
  auto op = fixture_->store().FindTokenByDigest(TokenDigest(operator_token_));
  ASSERT_TRUE(op.has_value() && op->has_value());
  EXPECT_NE(log.find("token=" + (*op)->id), std::string::npos) << "the log names the token by its id: " << log;
  EXPECT_NE(log.find("GET /api/v1/actions/cdn_*** 404"), std::string::npos) << "a token in a path is masked: " << log;
  EXPECT_EQ(log.find("target=jack.jones"), std::string::npos) << "the query string is not logged";
  for (const std::string& token : fixture_->AllTokens()) EXPECT_EQ(log.find(token), std::string::npos);
  for (size_t at = log.find("cdn_"); at != std::string::npos; at = log.find("cdn_", at + 1))
    EXPECT_EQ(log.compare(at, 7, "cdn_***"), 0) << "token-shaped text unmasked: " << log.substr(at, 40);
  EXPECT_EQ(log.find("Bearer"), std::string::npos);
}

TEST_F(ApiTest, FailedAuthenticationIsThrottledPerAddressWhileValidTokensAreServed) {
  // The shipped burst: 20 failures in a row from one address are answered 401.
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client_->Get(kActions, "cdn_guess" + std::to_string(i)).status, 401u) << i;
  const HttpResult throttled = client_->Get(kActions, "cdn_one-more-guess");
  ExpectProblem(throttled, 429, "the 21st failure");
  EXPECT_GE(std::stoi(throttled.Header("retry-after")), 1) << throttled.Header("retry-after");
  ExpectProblem(client_->Get(kActions, ""), 429, "no token at all");

  // A valid token from the same address is served as ever.
  EXPECT_EQ(client_->Get(kActions, reader_token_).status, 200u);
  EXPECT_EQ(Submit(Disable("lena.lund")).status, 202u);
  EXPECT_EQ(client_->Get("/healthz", "").status, 200u);

  const HttpResult metrics = client_->Get("/metrics", reader_token_);
  ASSERT_EQ(metrics.status, 200u);
  EXPECT_NE(metrics.body.find("cordon_auth_failures_total{reason=\"unauthenticated\"} 20\n"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("cordon_auth_failures_total{reason=\"throttled\"} 2\n"), std::string::npos)
      << metrics.body;

  // Throttled refusals are refusals too: counted in the trail.
  ASSERT_TRUE(fixture_->Flush().has_value());
  EXPECT_EQ(CountOf(Refusals(fixture_->store(), "auth.unauthenticated")), 22);
}

// The store's size in bytes as a reader sees it (WAL frames included).
int64_t StoreBytes(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  auto pragma = [&](const char* sql) -> int64_t {
    sqlite3_stmt* stmt = nullptr;
    int64_t value = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
      value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
  };
  const int64_t bytes = pragma("PRAGMA page_count") * pragma("PRAGMA page_size");
  sqlite3_close(db);
  return bytes;
}

TEST_F(ApiTest, AFloodOfBadTokensAddsABoundedNumberOfRowsToTheStore) {
  ASSERT_TRUE(fixture_->Flush().has_value());
  const int64_t before = StoreBytes(fixture_->db_path());
  ASSERT_GT(before, 0);

  constexpr int kConnections = 4;
  constexpr int kPerConnection = 5000;
  std::vector<std::thread> flooders;
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  for (int c = 0; c < kConnections; ++c) {
    flooders.emplace_back([&, c] {
      TestClient client = fixture_->Client();
      for (int i = 0; i < kPerConnection; ++i) {
        const unsigned status =
            client.Get(std::string(kActions) + "/act_01hzx3k9m2qv7w8e5r4t6y1n0b", "cdn_flood-" + std::to_string(c))
                .status;
        (status == 401 || status == 429 ? refused : other)++;
      }
      EXPECT_EQ(client.connections_opened(), 1) << "keep-alive holds through refusals";
    });
  }
  for (auto& t : flooders) t.join();
  ASSERT_EQ(refused.load(), kConnections * kPerConnection);
  ASSERT_EQ(other.load(), 0);
  ASSERT_TRUE(fixture_->Flush().has_value());

  const auto rows = Refusals(fixture_->store(), "auth.");
  EXPECT_EQ(CountOf(rows), kConnections * kPerConnection) << "every refusal is counted";
  // One row per key and interval (here one key: one address, no known token,
  // one route class), not one per request.
  EXPECT_LE(rows.size(), 50u);
  for (const AuditEvent& e : rows) EXPECT_EQ(e.event, "auth.unauthenticated");
  const int64_t growth = StoreBytes(fixture_->db_path()) - before;
  EXPECT_LT(growth, 1024 * 1024) << growth << " bytes for " << rows.size() << " rows";
}

TEST_F(ApiTest, RevokedAndExpiredTokensAreRefusedAtOnce) {
  auto issued = IssueToken(fixture_->store(), "contractor", Role::kSecurityOperator, Now() + Millis(3600 * 1000));
  ASSERT_TRUE(issued.has_value()) << issued.error().message;
  const std::string token = issued->token.Reveal();
  ASSERT_EQ(client_->Get(kActions, token).status, 200u);
  auto revoked = fixture_->store().RevokeToken(issued->record.id, Actor{"local:test", ""}, "contract ended", Now());
  ASSERT_TRUE(revoked.has_value());
  ExpectProblem(client_->Get(kActions, token), 401, "revoked, the very next request");

  // A token whose expiry has passed (written straight to the store: IssueToken
  // refuses an expiry in the past).
  auto secret = GenerateToken();
  ASSERT_TRUE(secret.has_value());
  TokenRecord expired;
  expired.id = "tok_expired0000001";
  expired.name = "old-automation";
  expired.role = "security_operator";
  expired.sha256_hex = TokenDigest(secret->Reveal());
  expired.created_at = Now() - Millis(7200 * 1000);
  expired.expires_at = Now() - Millis(1000);
  ASSERT_TRUE(fixture_->store().CreateToken(expired).has_value());
  ExpectProblem(client_->Get(kActions, secret->Reveal()), 401, "expired");

  // The trail knows which token it was: a revoked or expired token is known.
  ASSERT_TRUE(fixture_->Flush().has_value());
  std::map<std::string, std::string> details;
  for (const AuditEvent& e : Refusals(fixture_->store(), "auth.unauthenticated")) details[e.actor_token] = e.detail;
  ASSERT_EQ(details.count(issued->record.id), 1u);
  EXPECT_NE(details[issued->record.id].find("revoked token"), std::string::npos) << details[issued->record.id];
  ASSERT_EQ(details.count(expired.id), 1u);
  EXPECT_NE(details[expired.id].find("expired token"), std::string::npos) << details[expired.id];
}

TEST_F(ApiTest, LastUseIsRecordedOffTheRequestPath) {
  auto find = [&](const std::string& token) -> TokenRecord {
    auto record = fixture_->store().FindTokenByDigest(TokenDigest(token));
    EXPECT_TRUE(record.has_value() && record->has_value());
    return record && *record ? **record : TokenRecord{};
  };
  EXPECT_EQ(find(operator_token_).last_used_at, TimePoint{}) << "never used yet";
  const TimePoint before = Now();
  ASSERT_EQ(client_->Get(kActions, operator_token_).status, 200u);
  ASSERT_EQ(client_->Get(kActions, operator_token_).status, 200u);
  EXPECT_EQ(find(operator_token_).last_used_at, TimePoint{}) << "not written on the request path";
  ASSERT_TRUE(fixture_->Flush().has_value());
  const TokenRecord used = find(operator_token_);
  EXPECT_GE(used.last_used_at, before);
  EXPECT_LE(used.last_used_at, Now());
  EXPECT_EQ(find(reader_token_).last_used_at, TimePoint{}) << "the reader's token was not used";
}

TEST_F(ApiTest, ProblemDocumentsNeverEchoTheRequest) {
  auto post = [&](const std::string& target, const std::string& body) {
    RawRequest r;
    r.method = http::verb::post;
    r.target = target;
    r.body = body;
    r.token = operator_token_;
    return client_->Send(r);
  };
  struct Case {
    std::string name;
    HttpResult result;
    unsigned status;
    std::string detail;
  };
  const std::string marker = "zq7marker";
  std::vector<Case> cases;
  cases.push_back({"unknown field named by the token",
                   post(kActions, json{{"action", "disable"}, {"provider", "ad"}, {"account", "a"}, {"reason", "r"},
                                       {operator_token_, "x"}}
                                      .dump()),
                   400, "unknown field; allowed: action, provider, account, reason, alsoOnPrem"});
  cases.push_back({"unknown action",
                   post(kActions,
                        json{{"action", marker}, {"provider", "ad"}, {"account", "a"}, {"reason", "r"}}.dump()),
                   422,
                   "unknown action; known: disable, enable, force_password_reset, clear_password_reset, suspend, "
                   "unsuspend, deactivate, activate, revoke_sessions, mark_compromised, dismiss_risk"});
  cases.push_back({"unknown provider",
                   post(kActions,
                        json{{"action", "disable"}, {"provider", marker}, {"account", "a"}, {"reason", "r"}}.dump()),
                   422, "unknown provider; known: ad, entra, okta"});
  cases.push_back({"unknown query parameter", client_->Get(std::string(kActions) + "?" + marker + "=1", reader_token_),
                   400,
                   "unknown query parameter; known: status, type, provider, target, requestedBy, createdAfter, "
                   "createdBefore, bulkId, limit, cursor"});
  cases.push_back({"unknown query parameter without a value",
                   client_->Get(std::string(kActions) + "?" + marker, reader_token_), 400,
                   "unknown query parameter; known: status, type, provider, target, requestedBy, createdAfter, "
                   "createdBefore, bulkId, limit, cursor"});
  cases.push_back({"bad status value", client_->Get(std::string(kActions) + "?status=" + marker, reader_token_), 400,
                   "query parameter 'status': unknown status; known: awaiting_approval, pending, in_progress, "
                   "succeeded, failed, cancelled, rejected"});
  cases.push_back({"over-long query value",
                   client_->Get(std::string(kActions) + "?" + marker + "=" + std::string(2000, 'v'), reader_token_),
                   400,
                   "a query parameter value is longer than 1024 bytes"});
  cases.push_back({"unknown route", client_->Get("/api/v1/" + marker, reader_token_), 404, "no such route"});
  cases.push_back({"malformed action id", client_->Get(std::string(kActions) + "/" + marker, reader_token_), 404,
                   "no action has this id"});
  cases.push_back({"unknown action id",
                   client_->Get(std::string(kActions) + "/act_01hzx3k9m2qv7w8e5r4t6y1n0b", reader_token_), 404,
                   "no action has this id"});
  cases.push_back({"wrong method", client_->Post("/healthz", json::object(), reader_token_), 405,
                   "allowed methods on this route: GET"});
  for (const Case& c : cases) {
    ExpectProblem(c.result, c.status, c.name);
    EXPECT_EQ(c.result.Json().value("detail", ""), c.detail) << c.name;
    EXPECT_EQ(c.result.body.find(marker), std::string::npos) << c.name << ": " << c.result.body;
    EXPECT_EQ(c.result.body.find(operator_token_), std::string::npos) << c.name << ": " << c.result.body;
    EXPECT_EQ(c.result.body.find("/api/v1"), std::string::npos) << c.name << ": the path is not echoed";
  }

  // A finished action's refusal names it "the action", not by the id the client sent.
  const HttpResult created = Submit(Disable("mona.moss"));
  ASSERT_EQ(created.status, 202u);
  const std::string id = created.Json().at("id");
  ASSERT_TRUE(fixture_->Succeed(id).has_value());
  const HttpResult twice = client_->Post(std::string(kActions) + "/" + id + "/cancel", json{{"reason", "r"}},
                                         operator_token_);
  ExpectProblem(twice, 409, "cancel a finished action");
  EXPECT_EQ(twice.Json().value("detail", ""),
            "the action is succeeded; only pending or awaiting_approval actions can be cancelled");
}

TEST_F(ApiTest, TheLogLineCarriesTheProblemsRequestId) {
  std::string log;
  HttpResult missing;
  {
    LogCapture capture;
    missing = client_->Get(std::string(kActions) + "/act_01hzx3k9m2qv7w8e5r4t6y1n0b", reader_token_);
    log = capture.Text();
  }
  ExpectProblem(missing, 404, "unknown id");
  const std::string id = missing.Json().at("instance");
  EXPECT_NE(log.find("GET /api/v1/actions/act_01hzx3k9m2qv7w8e5r4t6y1n0b 404"), std::string::npos) << log;
  EXPECT_NE(log.find("request=" + id), std::string::npos) << log;
}

TEST_F(ApiTest, ControlCharactersInPathsNeverReachLogsOrAudit) {
  std::string log;
  {
    LogCapture capture;
    // Percent-encoded line breaks, raw bytes that are not UTF-8, and a C1
    // control character (U+009B, the 8-bit CSI), with a bad token so that the
    // refusal is audited.
    const std::string target = std::string(kActions) + "/%0a%0dforged%20200\xff\xfe\xc2\x9b" + "[2J";
    ExpectProblem(client_->Get(target, "cdn_wrong"), 401, "bad token, odd path");
    ExpectProblem(client_->Get(target, reader_token_), 404, "odd path");
    // A raw control byte in the request line: Beast refuses it before the router.
    const std::string raw =
        client_->SendBytes("GET /api/v1/actions/\x01\x1b[31m HTTP/1.1\r\nHost: localhost\r\n\r\n");
    log = capture.Text();
  }
  ASSERT_TRUE(fixture_->Flush().has_value());
  const auto rows = Refusals(fixture_->store(), "auth.");
  ASSERT_EQ(rows.size(), 1u);

  auto clean = [](const std::string& text, const std::string& where) {
    for (size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      const bool line_end = c == '\n' && where == "log";
      EXPECT_TRUE(line_end || (c >= 0x20 && c != 0x7f && c != 0xff && c != 0xfe)) << where << " byte " << i;
      if (c == 0xc2 && i + 1 < text.size()) {
        EXPECT_GE(static_cast<unsigned char>(text[i + 1]), 0xa0) << where;
      }
    }
  };
  clean(log, "log");
  clean(rows.front().detail, "audit");
  EXPECT_NE(rows.front().detail.find("%0a%0dforged%20200\\xff\\xfe\\xc2\\x9b[2J"), std::string::npos)
      << rows.front().detail;
  EXPECT_NE(log.find("%0a%0dforged%20200\\xff\\xfe\\xc2\\x9b[2J 404"), std::string::npos) << log;
}

TEST_F(ApiTest, StopClosesIdleKeepAliveConnections) {
  ASSERT_EQ(client_->Get("/healthz", "").status, 200u);
  fixture_->server().Stop();  // would wait for the 30 s read timeout if idle connections were not closed
  EXPECT_EQ(client_->Get("/healthz", "").status, 0u);
}

// Two bulk submits of 10,000 accounts on two connections, held in the store
// until a read on a third connection has been answered: reads do not wait
// for writes to leave the handler threads. The hold has a deadline so that a
// server that cannot answer the read meanwhile fails the test instead of
// hanging it.
TEST(HandlerPoolTest, ReadsAreAnsweredWhileBulkSubmitsAreInTheStore) {
  std::mutex mu;
  std::condition_variable cv;
  int entered = 0;
  bool released = false;
  bool held_to_deadline = false;
  ApiFixtureOptions options;
  options.before_create_actions = [&] {
    std::unique_lock lock(mu);
    ++entered;
    cv.notify_all();
    if (!cv.wait_for(lock, std::chrono::seconds(20), [&] { return released; })) held_to_deadline = true;
  };
  auto started = ApiFixture::Start(options);
  ASSERT_TRUE(started.has_value()) << started.error().message;
  ApiFixture& f = **started;
  const std::string token = f.Token(Role::kSecurityOperator);

  // The action to read, written straight to the store (the hook is for the API's writes).
  NewAction existing;
  existing.target = "nina.north";
  existing.requested_by = "test";
  existing.reason = "to read";
  auto created = f.store().CreateActions(std::span(&existing, 1), Now());
  ASSERT_TRUE(created.has_value());
  const std::string existing_path = std::string(kActions) + "/" + created->front().id;

  std::atomic<int> sequence{0};
  std::atomic<int> bulks_answered{0};
  std::vector<int> bulk_order(2, 0);
  std::vector<unsigned> bulk_status(2, 0);
  std::vector<std::thread> bulks;
  for (int b = 0; b < 2; ++b) {
    bulks.emplace_back([&, b] {
      json accounts = json::array();
      for (int i = 0; i < 10000; ++i) accounts.push_back("held" + std::to_string(b) + "-" + std::to_string(i));
      TestClient client = f.Client();
      const HttpResult r = client.Post(
          std::string(kActions) + "/bulk",
          json{{"action", "disable"}, {"provider", "ad"}, {"accounts", accounts}, {"reason", "campaign"}}, token);
      bulk_order[b] = ++sequence;
      bulk_status[b] = r.status;
      ++bulks_answered;
    });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return entered == 2; }))
        << "both bulk submits reach the store";
  }

  TestClient reader = f.Client();
  int first_read = 0;
  int reads = 0;
  while (bulks_answered < 2) {
    const HttpResult health = reader.Get("/healthz", "");
    const HttpResult action = reader.Get(existing_path, token);
    EXPECT_EQ(health.status, 200u) << health.transport_error;
    EXPECT_EQ(action.status, 200u) << action.transport_error;
    ++reads;
    if (first_read == 0) {
      first_read = ++sequence;
      std::lock_guard lock(mu);
      released = true;
      cv.notify_all();
    }
  }
  for (auto& t : bulks) t.join();

  EXPECT_EQ(bulk_status[0], 202u);
  EXPECT_EQ(bulk_status[1], 202u);
  EXPECT_GE(reads, 1);
  EXPECT_FALSE(held_to_deadline) << "no read was answered while the bulk submits were in the store";
  EXPECT_LT(first_read, bulk_order[0]);
  EXPECT_LT(first_read, bulk_order[1]);
  ActionFilter all;
  all.limit = 1;
  all.target = "held1-9999";
  auto last = f.store().ListActions(all);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->actions.size(), 1u);
}

class PlainHttpApiTest : public ApiTest {
 protected:
  ApiFixtureOptions Options() override {
    ApiFixtureOptions o;
    o.plain_http = true;
    return o;
  }
};

TEST_F(PlainHttpApiTest, ServesOnLoopback) {
  EXPECT_EQ(client_->Get("/healthz", "").status, 200u);
  EXPECT_EQ(Submit(Disable("kate.king")).status, 202u);
}

// A temp dir removed at scope exit.
struct TempDir {
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cordon-api-options-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
  std::string path;
};

TEST(ApiServerOptionsTest, PlainHttpIsRefusedOffLoopback) {
  const TempDir dir;
  auto store = SqliteStore::Open(dir.path + "/cordon.db");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  ASSERT_TRUE((*store)->Migrate().has_value());
  ActionService service(**store, nullptr, {Provider::kActiveDirectory});
  for (const char* address : {"0.0.0.0", "192.0.2.10", "::"}) {
    ApiOptions options;
    options.address = address;
    options.plain_http = true;
    auto server = ApiServer::Create(options, ApiDeps{**store, service});
    ASSERT_FALSE(server.has_value()) << address;
    EXPECT_EQ(server.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(server.error().message.find("loopback"), std::string::npos);
  }
  for (const char* address : {"127.0.0.1", "::1", "localhost"}) {
    ApiOptions options;
    options.address = address;
    options.plain_http = true;
    auto server = ApiServer::Create(options, ApiDeps{**store, service});
    EXPECT_TRUE(server.has_value()) << address << ": " << (server ? "" : server.error().message);
  }
}

TEST(ApiServerOptionsTest, HttpsNeedsALoadableCertificate) {
  const TempDir dir;
  auto store = SqliteStore::Open(dir.path + "/cordon.db");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  ASSERT_TRUE((*store)->Migrate().has_value());
  ActionService service(**store, nullptr, {Provider::kActiveDirectory});
  ApiOptions options;
  auto none = ApiServer::Create(options, ApiDeps{**store, service});
  ASSERT_FALSE(none.has_value());
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  auto missing = ApiServer::Create(options, ApiDeps{**store, service});
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("/nonexistent/cert.pem"), std::string::npos);
}

}  // namespace
}  // namespace cordon::api
