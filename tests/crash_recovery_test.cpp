// Kill the server with SIGKILL in the middle of a 1,000-user
// bulk disable on the real DC, restart it on the same store: every action ends
// succeeded, none is lost or left in_progress, and every user ends disabled.
#include <chrono>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/sqlite/sqlite_store.h"
#include "support/ad_probe.h"
#include "support/lab_info.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

using nlohmann::json;

std::map<std::string, int> CountStatuses(const std::vector<json>& actions) {
  std::map<std::string, int> counts;
  for (const auto& a : actions) ++counts[a["status"].get<std::string>()];
  return counts;
}

class CrashRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto probe = AdProbe::ConnectAsAdmin(lab_);
    ASSERT_TRUE(probe.has_value()) << probe.error().message;
    probe_ = std::make_unique<AdProbe>(std::move(*probe));
    ResetBulkUsers();
  }
  void TearDown() override {
    if (probe_) ResetBulkUsers();
  }
  // Writes only where needed: the DC serialises writes, reads are cheap.
  void ResetBulkUsers() {
    for (int i = 1; i <= kUsers; ++i) {
      auto u = probe_->ReadUser(lab_.BulkUser(i));
      ASSERT_TRUE(u.has_value()) << u.error().message;
      if (u->disabled() || u->must_change_password()) {
        ASSERT_TRUE(probe_->ResetUser(lab_.BulkUser(i)).has_value()) << i;
      }
    }
  }

  static constexpr int kUsers = 1000;
  const LabInfo& lab_ = TheLab();
  std::unique_ptr<AdProbe> probe_;
};

TEST_F(CrashRecoveryTest, SigkillDuringBulkDisableLosesNothing) {
  auto server = TestServer::Create({.connectors_toml = LabAdSection(lab_, "workers = 4\n"),
                                    .engine_toml = "lease_seconds = 2\npoll_interval_ms = 50\n"});
  ASSERT_TRUE(server.has_value()) << server.error().message;
  TestServer& s = **server;
  ASSERT_TRUE(s.Token("security_operator").has_value());
  ASSERT_TRUE(s.Start().has_value());

  json accounts = json::array();
  for (int i = 1; i <= kUsers; ++i) accounts.push_back(lab_.BulkUser(i));
  auto client = s.Client("security_operator");
  auto submitted = client->Post("/api/v1/actions/bulk", json{{"action", "disable"},
                                                               {"provider", "ad"},
                                                               {"accounts", accounts},
                                                               {"reason", "crash drill"}});
  ASSERT_TRUE(submitted.has_value()) << submitted.error().message;
  ASSERT_EQ(submitted->status, 202) << submitted->body.dump();
  const std::string bulk_id = submitted->body["bulkId"].get<std::string>();

  // Let some work finish, then kill the server while the rest is queued or in flight.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int done = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = client->Get("/api/v1/actions?limit=1000&status=succeeded&bulkId=" + bulk_id);
    ASSERT_TRUE(r.has_value());
    done = static_cast<int>(r->body["value"].size());
    if (done >= 50) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  s.Kill();
  ASSERT_GE(done, 50) << "the bulk request made no progress before the kill";

  {
    // Straight from the store: the kill left work unfinished (otherwise this proves nothing).
    auto store = SqliteStore::Open(s.db_path());
    ASSERT_TRUE(store.has_value()) << store.error().message;
    auto counts = (*store)->CountByStatus();
    ASSERT_TRUE(counts.has_value());
    int64_t unfinished = 0, total = 0;
    for (const auto& c : *counts) {
      total += c.count;
      if (!IsTerminal(c.status)) unfinished += c.count;
    }
    EXPECT_EQ(total, kUsers) << "every action was committed before the kill";
    EXPECT_GT(unfinished, 0) << "the server finished before it was killed; the test proves nothing";
  }

  ASSERT_TRUE(s.Start().has_value());
  client = s.Client("security_operator");
  std::vector<json> actions;
  const auto finish_by = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  while (std::chrono::steady_clock::now() < finish_by) {
    actions = BulkActions(*client, bulk_id);
    const auto counts = CountStatuses(actions);
    if (counts.count("pending") == 0 && counts.count("in_progress") == 0 && actions.size() == kUsers) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const auto counts = CountStatuses(actions);
  ASSERT_EQ(actions.size(), static_cast<size_t>(kUsers));
  EXPECT_EQ(counts.size(), 1u) << json(counts).dump();
  EXPECT_EQ(counts.count("succeeded") ? counts.at("succeeded") : 0, kUsers) << json(counts).dump();

  // The directory agrees: every bulk user is disabled, and nothing else was touched.
  int disabled = 0;
  for (int i = 1; i <= kUsers; ++i) {
    auto u = probe_->ReadUser(lab_.BulkUser(i));
    ASSERT_TRUE(u.has_value()) << u.error().message;
    if (u->disabled()) ++disabled;
    EXPECT_FALSE(u->must_change_password()) << lab_.BulkUser(i);
  }
  EXPECT_EQ(disabled, kUsers);
  for (const std::string& sam : lab_.staff_users) {
    auto u = probe_->ReadUser(sam);
    ASSERT_TRUE(u.has_value());
    EXPECT_FALSE(u->disabled()) << sam;
  }

  // Each account was named once and each action ran to success exactly once.
  std::map<std::string, int> per_account;
  for (const auto& a : actions) ++per_account[a["account"].get<std::string>()];
  EXPECT_EQ(per_account.size(), static_cast<size_t>(kUsers));
  ASSERT_TRUE(s.Stop().has_value());
}

}  // namespace
}  // namespace cordon::testing
