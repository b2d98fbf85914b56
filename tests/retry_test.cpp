// An outage belongs to the provider, not to the action. Shown on the lab's
// real DC through the real server with the shipped defaults (no [engine]
// keys; the connector's own timeout, workers and batch size):
// * a 1,000-user bulk disable rides out a DC that hangs for a minute
//   (SIGSTOP) and a DC that is stopped and started again a minute later
//   (`cordon lab stop` / `cordon lab start`, which keep its directory): AD is
//   paused, /healthz and /metrics say so, no action fails or spends an
//   attempt on the outage, and all 1,000 succeed once the DC is back;
// * a wrong action-account password pauses AD (credentials_refused) for as
//   long as it takes, spending nothing, until the right one is written into
//   the same file: AD resumes without a restart;
// * only the time budget (engine.action_budget_seconds, the one setting a
//   test here changes) ends such a wait, with an outcome naming the outage;
// * a permanent error still fails at once, with the DC's words.
// Every test leaves the DC running and answering and the users it touched as
// seeded. Waiting limits are generous bounds for a loaded machine, never goals.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/ad_probe.h"
#include "support/lab_info.h"
#include "support/temp_dir.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::seconds;

constexpr int kBulkUsers = 1000;
// How long the DC stays away: several times the connector's timeout and the
// engine's first probes, so the pause and its probing are what carries the
// work through.
constexpr seconds kOutage{60};
// How long a wrong password is left in place: far longer than the retries
// of an action's own errors (max_attempts with backoff) would last.
constexpr seconds kWrongPasswordWatch{40};
// Upper bounds for a loaded machine, not expectations.
constexpr seconds kLongWait{600};
constexpr seconds kShortWait{180};

const std::string kPausedMetric = "cordon_provider_state{provider=\"ad\",state=\"paused\"} 1";

// The "ad" entry of a /healthz answer (null if absent).
json AdHealth(const json& healthz) {
  if (healthz.is_object() && healthz.contains("providers"))
    for (const auto& p : healthz["providers"])
      if (StringAt(p, "provider") == "ad") return p;
  return json();
}

json Healthz(cli::ApiClient& client) {
  auto r = client.Get("/healthz");
  return r && r->status == 200 ? r->body : json();
}

bool AdPaused(const json& healthz, const std::string& cause = "") {
  const json ad = AdHealth(healthz);
  return StringAt(healthz, "status") == "degraded" && StringAt(ad, "state") == "paused" && ad.contains("since") &&
         ad["since"].is_string() && (cause.empty() || StringAt(ad, "cause") == cause);
}

std::map<std::string, int> CountStatuses(const std::vector<json>& actions) {
  std::map<std::string, int> counts;
  for (const auto& a : actions) ++counts[StringAt(a, "status")];
  return counts;
}

// How many actions of a bulk request have this status (at most `limit`).
int CountWithStatus(cli::ApiClient& client, const std::string& bulk_id, const std::string& status, int limit) {
  auto r = client.Get("/api/v1/actions?limit=" + std::to_string(limit) + "&status=" + status + "&bulkId=" + bulk_id);
  return r && r->status == 200 ? static_cast<int>(r->body["value"].size()) : -1;
}

// Polls a bulk request until every action has ended or `limit` passes.
std::vector<json> WaitForBulk(cli::ApiClient& client, const std::string& bulk_id, size_t count, seconds limit) {
  std::vector<json> actions;
  const auto deadline = SteadyClock::now() + limit;
  while (SteadyClock::now() < deadline) {
    actions = BulkActions(client, bulk_id);
    if (actions.size() == count &&
        std::all_of(actions.begin(), actions.end(), [](const json& a) { return IsFinished(a); }))
      break;
    std::this_thread::sleep_for(seconds(2));
  }
  return actions;
}

// A [connectors.ad] section for the lab whose password comes from `file`.
std::string AdSectionWithPasswordFile(const LabInfo& lab, const std::string& file) {
  std::string section = LabAdSection(lab);
  const std::string from = "password_file = \"" + lab.action_account.password_file + "\"";
  section.replace(section.find(from), from.size(), "password_file = \"" + file + "\"");
  return section;
}

void WriteOwnerOnly(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

class RetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The probe's connection dies with the DC in the stop/start test; a write
    // to it must be an error, not a signal that ends the test.
    ::signal(SIGPIPE, SIG_IGN);
    ASSERT_TRUE(ConnectProbe());
  }

  void TearDown() override {
    // Whatever happened, leave the DC answering and the users as seeded.
    if (const pid_t dc = LabDcPid(lab_); dc > 0) ::kill(dc, SIGCONT);
    if (!std::filesystem::exists(lab_.dir + "/lab.json")) {
      const RunResult started = Lab("start");
      EXPECT_EQ(started.exit_code, 0) << started.err;
    }
    if (ConnectProbe()) ResetUsers(touched_);
  }

  bool ConnectProbe() {
    auto probe = AdProbe::ConnectAsAdmin(lab_);
    if (!probe) {
      ADD_FAILURE() << "cannot reach the lab DC as Administrator: " << probe.error().message;
      return false;
    }
    probe_ = std::make_unique<AdProbe>(std::move(*probe));
    return true;
  }

  // Writes only where needed: the DC serialises writes, reads are cheap.
  void ResetUsers(const std::vector<std::string>& users) {
    for (const auto& sam : users) {
      auto u = probe_->ReadUser(sam);
      ASSERT_TRUE(u.has_value()) << sam << ": " << u.error().message;
      if (u->disabled() || u->must_change_password()) {
        ASSERT_TRUE(probe_->ResetUser(sam).has_value()) << sam;
      }
    }
  }

  // The users a test changes: reset before it starts and after it ends.
  void Touch(std::vector<std::string> users) {
    touched_ = std::move(users);
    ResetUsers(touched_);
  }

  std::vector<std::string> BulkUsers(int first, int last) const {
    std::vector<std::string> users;
    for (int i = first; i <= last; ++i) users.push_back(lab_.BulkUser(i));
    return users;
  }

  RunResult Lab(const std::string& verb) {
    auto r = RunProgram({.argv = {CORDON_BINARY, "lab", verb, "--dir", lab_.dir, "-q"}, .timeout = seconds(300)});
    if (!r) {
      RunResult failed;
      failed.err = r.error().message;
      return failed;
    }
    return *r;
  }

  std::unique_ptr<TestServer> StartServer(const std::string& connectors_toml, const std::string& engine_toml = "") {
    auto server = TestServer::Create({.connectors_toml = connectors_toml, .engine_toml = engine_toml});
    EXPECT_TRUE(server.has_value()) << (server ? "" : server.error().message);
    if (!server) return nullptr;
    EXPECT_TRUE((*server)->Token("security_operator").has_value());
    auto started = (*server)->Start();
    EXPECT_TRUE(started.has_value()) << (started ? "" : started.error().message);
    if (!started) return nullptr;
    return std::move(*server);
  }

  std::string SubmitBulk(cli::ApiClient& client, const std::vector<std::string>& accounts, const std::string& action) {
    const json body{{"action", action}, {"provider", "ad"}, {"accounts", accounts}, {"reason", "outage drill"}};
    auto r = client.Post("/api/v1/actions/bulk", body);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    if (!r) return "";
    EXPECT_EQ(r->status, 202) << r->body.dump();
    return r->status == 202 ? StringAt(r->body, "bulkId") : "";
  }

  // The drill both outages share: a bulk disable of every bulk user; once
  // some of it is done, `begin` takes the DC away and, kOutage later, `end`
  // brings it back.
  void BulkDisableRidesOutAnOutage(const std::function<bool()>& begin, const std::function<bool()>& end) {
    Touch(BulkUsers(1, kBulkUsers));
    auto server = StartServer(LabAdSection(lab_));
    ASSERT_TRUE(server);
    auto client = server->Client("security_operator");
    const std::string bulk_id = SubmitBulk(*client, BulkUsers(1, kBulkUsers), "disable");
    ASSERT_FALSE(bulk_id.empty());

    const auto progress_by = SteadyClock::now() + kShortWait;
    int done = 0;
    while (SteadyClock::now() < progress_by && (done = CountWithStatus(*client, bulk_id, "succeeded", 50)) < 50)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_GE(done, 50) << "the bulk request made no progress before the outage";
    ASSERT_TRUE(begin()) << "could not take the DC away";
    const auto outage_began = SteadyClock::now();
    std::vector<std::string> disabled_before;
    for (const json& a : BulkActions(*client, bulk_id))
      if (StringAt(a, "status") == "succeeded") disabled_before.push_back(StringAt(a, "account"));

    // While the DC is away: AD paused, and said so; nothing fails.
    json paused_health;
    bool metric_showed_pause = false;
    int failed_during = 0;
    while (SteadyClock::now() - outage_began < kOutage) {
      if (paused_health.is_null()) {
        if (json h = Healthz(*client); AdPaused(h)) paused_health = h;
      }
      if (!metric_showed_pause) {
        auto metrics = server->Metrics("security_operator");
        metric_showed_pause = metrics && metrics->find(kPausedMetric) != std::string::npos;
      }
      failed_during = std::max(failed_during, CountWithStatus(*client, bulk_id, "failed", 1000));
      std::this_thread::sleep_for(seconds(1));
    }
    const auto during = CountStatuses(BulkActions(*client, bulk_id));
    ASSERT_TRUE(end()) << "could not bring the DC back";

    EXPECT_FALSE(paused_health.is_null()) << "/healthz never showed ad paused during the outage: "
                                          << Healthz(*client).dump();
    if (!paused_health.is_null()) {
      EXPECT_EQ(StringAt(paused_health, "status"), "degraded");
      EXPECT_FALSE(StringAt(AdHealth(paused_health), "cause").empty()) << paused_health.dump();
      EXPECT_TRUE(AdHealth(paused_health).contains("nextProbe")) << paused_health.dump();
    }
    EXPECT_TRUE(metric_showed_pause) << "/metrics never showed " << kPausedMetric;
    EXPECT_EQ(failed_during, 0) << "actions failed during the outage";
    EXPECT_LT(during.count("succeeded") ? during.at("succeeded") : 0, kBulkUsers)
        << json(during).dump() << ": everything was done before the DC came back; the test proves nothing";

    // Once the DC is back, everything is done.
    const std::vector<json> actions = WaitForBulk(*client, bulk_id, kBulkUsers, kLongWait);
    const auto counts = CountStatuses(actions);
    ASSERT_EQ(actions.size(), static_cast<size_t>(kBulkUsers));
    EXPECT_EQ(counts.count("succeeded") ? counts.at("succeeded") : 0, kBulkUsers) << json(counts).dump();
    EXPECT_EQ(StringAt(Healthz(*client), "status"), "ok") << Healthz(*client).dump();

    // The outage shows in the attempts, and spent none: every action was
    // counted one attempt, the one that succeeded.
    int provider_errors = 0;
    for (const json& listed : actions) {
      EXPECT_EQ(listed.value("attemptCount", -1), 1) << listed.dump();
      auto detail = client->Get("/api/v1/actions/" + StringAt(listed, "id"));
      ASSERT_TRUE(detail.has_value() && detail->status == 200);
      for (const json& attempt : detail->body["attempts"])
        if (StringAt(attempt, "result") == "provider_error") ++provider_errors;
    }
    EXPECT_GT(provider_errors, 0) << "no attempt met the outage";

    // The directory agrees, read independently of the connector; what was
    // disabled before the outage is still disabled.
    ASSERT_TRUE(ConnectProbe());
    int disabled = 0;
    for (int i = 1; i <= kBulkUsers; ++i) {
      auto u = probe_->ReadUser(lab_.BulkUser(i));
      ASSERT_TRUE(u.has_value()) << u.error().message;
      if (u->disabled()) ++disabled;
    }
    EXPECT_EQ(disabled, kBulkUsers);
    for (const std::string& sam : disabled_before) {
      auto u = probe_->ReadUser(sam);
      ASSERT_TRUE(u.has_value());
      EXPECT_TRUE(u->disabled()) << sam;
    }
    ASSERT_TRUE(server->Stop().has_value());
  }

  const LabInfo& lab_ = TheLab();
  std::unique_ptr<AdProbe> probe_;
  std::vector<std::string> touched_;
};

TEST_F(RetryTest, BulkDisableRidesOutAHungDc) {
  pid_t dc = -1;
  BulkDisableRidesOutAnOutage(
      [&] {
        dc = LabDcPid(lab_);
        return dc > 0 && ::kill(dc, SIGSTOP) == 0;  // connections and operations time out
      },
      [&] { return ::kill(dc, SIGCONT) == 0; });
}

TEST_F(RetryTest, BulkDisableRidesOutADcStoppedAndStartedAgain) {
  pid_t before = LabDcPid(lab_);
  BulkDisableRidesOutAnOutage(
      [&] {
        const RunResult stopped = Lab("stop");
        EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
        return stopped.exit_code == 0;
      },
      [&] {
        const RunResult started = Lab("start");
        EXPECT_EQ(started.exit_code, 0) << started.err;
        EXPECT_NE(LabDcPid(lab_), before) << "the DC process did not start again";
        return started.exit_code == 0;
      });
}

TEST_F(RetryTest, AWrongPasswordPausesAdUntilTheFileHoldsTheRightOne) {
  Touch(BulkUsers(901, 910));
  TempDir dir("cordon-retry-password");
  const auto password_file = dir / "svc-cordon.pw";
  WriteOwnerOnly(password_file, "Not-The-Password-" + std::to_string(::getpid()));
  auto server = StartServer(AdSectionWithPasswordFile(lab_, password_file.string()));
  ASSERT_TRUE(server);
  const pid_t server_pid = server->pid();
  auto client = server->Client("security_operator");
  const std::string bulk_id = SubmitBulk(*client, touched_, "disable");
  ASSERT_FALSE(bulk_id.empty());

  // AD pauses, and the batch that met the refusal is back to pending.
  json health;
  std::vector<json> actions;
  auto all_pending = [&] {
    actions = BulkActions(*client, bulk_id);
    return actions.size() == touched_.size() && std::all_of(actions.begin(), actions.end(), [](const json& a) {
             return StringAt(a, "status") == "pending";
           });
  };
  const auto paused_by = SteadyClock::now() + kShortWait;
  while (SteadyClock::now() < paused_by &&
         !(AdPaused(health = Healthz(*client), "credentials_refused") && all_pending()))
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(AdPaused(health, "credentials_refused")) << health.dump();
  ASSERT_TRUE(all_pending()) << json(actions).dump(2);

  // Left so for a good while: the actions wait, spending nothing.
  const auto watch_began = SteadyClock::now();
  while (SteadyClock::now() - watch_began < kWrongPasswordWatch) {
    actions = BulkActions(*client, bulk_id);
    ASSERT_EQ(actions.size(), touched_.size());
    for (const json& a : actions) {
      ASSERT_EQ(StringAt(a, "status"), "pending") << a.dump();
      ASSERT_EQ(a.value("attemptCount", -1), 0) << a.dump();
    }
    EXPECT_TRUE(AdPaused(Healthz(*client), "credentials_refused"));
    std::this_thread::sleep_for(seconds(2));
  }
  bool saw_refusal = false;
  for (const json& listed : actions) {
    auto detail = client->Get("/api/v1/actions/" + StringAt(listed, "id"));
    ASSERT_TRUE(detail.has_value() && detail->status == 200);
    for (const json& attempt : detail->body["attempts"])
      if (StringAt(attempt, "result") == "provider_error" &&
          StringAt(attempt.value("providerAnswer", json()), "code") == "ldap:49")
        saw_refusal = true;
  }
  EXPECT_TRUE(saw_refusal) << "no attempt records the DC's refusal of the password";
  for (const std::string& sam : touched_) {
    auto u = probe_->ReadUser(sam);
    ASSERT_TRUE(u.has_value());
    EXPECT_FALSE(u->disabled()) << sam;
  }

  // The operator writes the right password where Cordon reads it.
  WriteOwnerOnly(password_file, ReadSecretFile(lab_.action_account.password_file));
  actions = WaitForBulk(*client, bulk_id, touched_.size(), kLongWait);
  const auto counts = CountStatuses(actions);
  EXPECT_EQ(counts.count("succeeded") ? counts.at("succeeded") : 0, static_cast<int>(touched_.size()))
      << json(counts).dump();
  for (const json& a : actions) EXPECT_EQ(a.value("attemptCount", -1), 1) << a.dump();
  EXPECT_EQ(StringAt(Healthz(*client), "status"), "ok") << Healthz(*client).dump();
  EXPECT_EQ(server->pid(), server_pid) << "the server was restarted";
  for (const std::string& sam : touched_) {
    auto u = probe_->ReadUser(sam);
    ASSERT_TRUE(u.has_value());
    EXPECT_TRUE(u->disabled()) << sam;
  }
}

TEST_F(RetryTest, TheTimeBudgetEndsTheWaitNamingTheOutage) {
  Touch(BulkUsers(911, 913));
  TempDir dir("cordon-retry-budget");
  const auto password_file = dir / "svc-cordon.pw";
  WriteOwnerOnly(password_file, "Not-The-Password-" + std::to_string(::getpid()));
  // The setting under test: a 20-second time budget instead of a day.
  auto server = StartServer(AdSectionWithPasswordFile(lab_, password_file.string()), "action_budget_seconds = 20\n");
  ASSERT_TRUE(server);
  auto client = server->Client("security_operator");
  std::vector<std::string> ids;
  for (const std::string& sam : touched_) {
    ids.push_back(SubmitAction(*client, "disable", sam, "outage drill"));
    ASSERT_FALSE(ids.back().empty()) << sam;
  }
  for (const std::string& id : ids) {
    const json a = WaitForAction(*client, id, IsFinished, kShortWait);
    ASSERT_TRUE(a.is_object()) << "no answer about " << id;
    EXPECT_EQ(StringAt(a, "status"), "failed") << a.dump(2);
    const std::string outcome = StringAt(a, "outcome");
    for (const char* words : {"time budget ran out", "ad has been paused since", "credentials_refused", "ldap:49"})
      EXPECT_NE(outcome.find(words), std::string::npos) << "'" << words << "' missing from: " << outcome;
    EXPECT_EQ(a.value("attemptCount", -1), 0) << a.dump(2);
  }
  for (const std::string& sam : touched_) {
    auto u = probe_->ReadUser(sam);
    ASSERT_TRUE(u.has_value());
    EXPECT_FALSE(u->disabled()) << sam;
  }
}

TEST_F(RetryTest, PermanentErrorFailsAtOnceWithTheDcsWords) {
  auto server = StartServer(LabAdSection(lab_));
  ASSERT_TRUE(server);
  auto client = server->Client("security_operator");
  const std::string id = SubmitAction(*client, "disable", "Administrator", "outage drill");
  ASSERT_FALSE(id.empty());
  json a = WaitForAction(*client, id, IsFinished, kShortWait);
  ASSERT_TRUE(a.is_object()) << "no answer about " << id;
  EXPECT_EQ(StringAt(a, "status"), "failed") << a.dump(2);
  EXPECT_EQ(a.value("attemptCount", 0), 1) << a.dump(2);
  EXPECT_EQ(StringAt(a["providerAnswer"], "code"), "ldap:50") << a.dump(2);
  EXPECT_NE(StringAt(a["providerAnswer"], "detail").find("has no write property access"), std::string::npos)
      << a.dump(2);
  EXPECT_EQ(StringAt(Healthz(*client), "status"), "ok") << "one account's refusal is not an outage";
  auto admin = probe_->ReadUser("Administrator");
  ASSERT_TRUE(admin.has_value());
  EXPECT_FALSE(admin->disabled());
}

}  // namespace
}  // namespace cordon::testing
