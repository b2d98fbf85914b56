// An undo restores what was, end to end through the real server on the lab's
// DC:
// * it acts on the account the original resolved to (its objectGUID), not on
//   the name as typed: after a rename, and with a new account holding the old
//   name (and the old DN), the renamed account is restored and the other one
//   is left alone;
// * an action that changed nothing (its account was already in the target
//   state) cannot be undone: 409, a problem document saying so, nothing
//   created;
// * the original is linked to its undo (undoneBy) only once the undo
//   succeeded, so an undo that was cancelled can be asked for again.
// Users touched: three staff users (and an account created and deleted here);
// each test puts them back as seeded.
#include <signal.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/ad_probe.h"
#include "support/lab_info.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::seconds;

// Upper bound for a loaded machine, not an expectation.
constexpr seconds kWait{180};

bool Succeeded(const json& a) { return StringAt(a, "status") == "succeeded"; }

// "CN=Frank Foster,OU=Staff,..." -> "Frank Foster"
std::string CommonName(const std::string& dn) { return dn.substr(3, dn.find(',') - 3); }

class UndoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    auto probe = AdProbe::ConnectAsAdmin(lab_);
    ASSERT_TRUE(probe.has_value()) << probe.error().message;
    probe_ = std::make_unique<AdProbe>(std::move(*probe));
    for (const std::string& sam : Users()) ASSERT_TRUE(probe_->ResetUser(sam).has_value()) << sam;
    auto server = TestServer::Create({.connectors_toml = LabAdSection(lab_)});
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(*server);
    ASSERT_TRUE(server_->Token("security_operator").has_value());
    ASSERT_TRUE(server_->Start().has_value());
    client_ = server_->Client("security_operator");
  }

  void TearDown() override {
    if (const pid_t dc = LabDcPid(lab_); dc > 0) ::kill(dc, SIGCONT);
    auto probe = AdProbe::ConnectAsAdmin(lab_);
    if (!probe) return;
    probe_ = std::make_unique<AdProbe>(std::move(*probe));
    UndoRename();
    for (const std::string& sam : Users()) (void)probe_->ResetUser(sam);
  }

  // A rename to put back at the end, whatever happened.
  struct Rename {
    std::string sam, cn, guid;  // as seeded
    std::string new_sam;
  };
  void UndoRename() {
    if (rename_.new_sam.empty()) return;
    if (auto decoy = probe_->ReadUser(rename_.sam); decoy && decoy->guid != rename_.guid) {
      EXPECT_TRUE(probe_->DeleteUser(rename_.sam).has_value());
    }
    if (probe_->ReadUser(rename_.new_sam)) {
      EXPECT_TRUE(probe_->RenameUser(rename_.new_sam, rename_.sam, rename_.cn).has_value());
    }
    rename_ = {};
  }

  std::vector<std::string> Users() const {
    return {lab_.staff_users.at(5), lab_.staff_users.at(6), lab_.staff_users.at(7)};
  }

  json Undo(const std::string& id, int expected_status) {
    auto r = client_->Post("/api/v1/actions/" + id + "/undo", json{{"reason", "false positive"}});
    EXPECT_TRUE(r.has_value()) << r.error().message;
    if (!r) return json();
    EXPECT_EQ(r->status, expected_status) << r->body.dump(2);
    return r->body;
  }

  json Get(const std::string& id) {
    auto r = client_->Get("/api/v1/actions/" + id);
    EXPECT_TRUE(r.has_value() && r->status == 200);
    return r ? r->body : json();
  }

  int ActionCount() {
    auto r = client_->Get("/api/v1/actions?limit=1000");
    EXPECT_TRUE(r.has_value() && r->status == 200);
    return r ? static_cast<int>(r->body["value"].size()) : -1;
  }

  const LabInfo& lab_ = TheLab();
  std::unique_ptr<AdProbe> probe_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<cli::ApiClient> client_;
  Rename rename_;
};

TEST_F(UndoTest, RestoresTheRenamedAccountNotTheOneNowBearingItsName) {
  const std::string sam = Users()[0];
  auto original = probe_->ReadUser(sam);
  ASSERT_TRUE(original.has_value());
  ASSERT_EQ(original->guid.size(), 36u) << original->guid;
  const std::string old_cn = CommonName(original->dn);
  const std::string new_sam = sam.substr(0, 12) + ".ren";
  const std::string new_cn = old_cn + " (renamed)";

  const std::string id = SubmitAction(*client_, "disable", sam, "phishing");
  ASSERT_FALSE(id.empty());
  const json disabled = WaitForAction(*client_, id, IsFinished, kWait);
  ASSERT_TRUE(Succeeded(disabled)) << disabled.dump(2);
  EXPECT_EQ(StringAt(disabled, "accountId"), original->guid) << disabled.dump(2);
  EXPECT_EQ(StringAt(disabled, "resolvedAccount"), original->dn);

  // After the disable, the account is renamed (name, UPN and DN), and a new,
  // disabled account takes its old name and its old DN.
  rename_ = {sam, old_cn, original->guid, new_sam};
  ASSERT_TRUE(probe_->RenameUser(sam, new_sam, new_cn).has_value());
  auto decoy_added = probe_->AddUser(lab_.staff_ou, old_cn, sam, ReadSecretFile(lab_.user_password_file), true);
  ASSERT_TRUE(decoy_added.has_value()) << decoy_added.error().message;
  auto decoy = probe_->ReadUser(sam);
  ASSERT_TRUE(decoy.has_value());
  EXPECT_EQ(decoy->dn, original->dn) << "the decoy must hold the old DN too";
  EXPECT_NE(decoy->guid, original->guid);
  EXPECT_TRUE(decoy->disabled());

  const json undo = Undo(id, 202);
  const std::string undo_id = StringAt(undo, "id");
  EXPECT_EQ(StringAt(undo, "action"), "enable");
  EXPECT_EQ(StringAt(undo, "undoOf"), id);
  EXPECT_EQ(StringAt(undo, "accountId"), original->guid) << "the undo acts on the id, not the name";
  const json enabled = WaitForAction(*client_, undo_id, IsFinished, kWait);
  EXPECT_TRUE(Succeeded(enabled)) << enabled.dump(2);
  EXPECT_EQ(StringAt(enabled, "accountId"), original->guid) << enabled.dump(2);
  EXPECT_EQ(StringAt(enabled, "resolvedAccount"), "CN=" + new_cn + "," + lab_.staff_ou) << enabled.dump(2);
  EXPECT_EQ(StringAt(Get(id), "undoneBy"), undo_id);

  auto renamed = probe_->ReadUser(new_sam);
  ASSERT_TRUE(renamed.has_value());
  EXPECT_EQ(renamed->guid, original->guid);
  EXPECT_FALSE(renamed->disabled()) << "the account Cordon disabled is enabled again";
  decoy = probe_->ReadUser(sam);
  ASSERT_TRUE(decoy.has_value());
  EXPECT_NE(decoy->guid, original->guid);
  EXPECT_TRUE(decoy->disabled()) << "the account that only bears the old name was touched";

  UndoRename();
  auto back = probe_->ReadUser(sam);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->guid, original->guid);
  EXPECT_EQ(back->dn, original->dn);
}

TEST_F(UndoTest, AnActionThatChangedNothingCannotBeUndone) {
  const std::string sam = Users()[1];
  ASSERT_TRUE(probe_->SetDisabled(sam, true).has_value());  // disabled before Cordon came

  const std::string id = SubmitAction(*client_, "disable", sam, "phishing");
  ASSERT_FALSE(id.empty());
  const json done = WaitForAction(*client_, id, IsFinished, kWait);
  ASSERT_TRUE(Succeeded(done)) << done.dump(2);
  EXPECT_TRUE(done.value("alreadyInState", false)) << done.dump(2);

  const int before = ActionCount();
  auto r = client_->Post("/api/v1/actions/" + id + "/undo", json{{"reason", "false positive"}});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 409) << r->body.dump(2);
  EXPECT_EQ(r->body.value("status", 0), 409) << r->body.dump(2);
  EXPECT_EQ(StringAt(r->body, "type").rfind("urn:cordon:problem:", 0), 0u) << r->body.dump(2);
  EXPECT_NE(StringAt(r->body, "detail").find("changed nothing"), std::string::npos) << r->body.dump(2);
  EXPECT_EQ(ActionCount(), before) << "a refused undo created an action";
  EXPECT_TRUE(Get(id)["undoneBy"].is_null());

  auto u = probe_->ReadUser(sam);
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->disabled()) << "the account was disabled before Cordon; it must stay so";
}

TEST_F(UndoTest, UndoneByIsSetOnlyOnceTheUndoSucceededAndACancelledUndoCanBeAskedAgain) {
  const std::string sam = Users()[2];
  const std::string id = SubmitAction(*client_, "disable", sam, "phishing");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(Succeeded(WaitForAction(*client_, id, IsFinished, kWait)));

  // The DC hangs, so the undo cannot run; once AD is paused the undo waits
  // pending, where it can be cancelled.
  const pid_t dc = LabDcPid(lab_);
  ASSERT_GT(dc, 0);
  ASSERT_EQ(::kill(dc, SIGSTOP), 0);
  const json first = Undo(id, 202);
  const std::string first_id = StringAt(first, "id");
  ASSERT_FALSE(first_id.empty());
  EXPECT_TRUE(Get(id)["undoneBy"].is_null()) << "linked before the undo did anything";

  json cancelled;
  const auto cancel_by = SteadyClock::now() + kWait;
  while (SteadyClock::now() < cancel_by) {
    auto r = client_->Post("/api/v1/actions/" + first_id + "/cancel", json{{"reason", "wrong account"}});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    if (r->status == 200) {
      cancelled = r->body;
      break;
    }
    ASSERT_EQ(r->status, 409) << r->body.dump(2);  // in progress right now: asked again below
    EXPECT_TRUE(Get(id)["undoneBy"].is_null()) << "linked before the undo succeeded";
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_EQ(::kill(dc, SIGCONT), 0);
  ASSERT_EQ(StringAt(cancelled, "status"), "cancelled") << cancelled.dump(2);
  EXPECT_TRUE(Get(id)["undoneBy"].is_null()) << "a cancelled undo is linked to the original";
  auto still = probe_->ReadUser(sam);
  ASSERT_TRUE(still.has_value());
  EXPECT_TRUE(still->disabled()) << "the cancelled undo changed the account";

  // Asked again, the undo runs and the original is linked to it.
  const json second = Undo(id, 202);
  const std::string second_id = StringAt(second, "id");
  ASSERT_FALSE(second_id.empty());
  EXPECT_NE(second_id, first_id);
  const json enabled = WaitForAction(*client_, second_id, IsFinished, seconds(300));
  EXPECT_TRUE(Succeeded(enabled)) << enabled.dump(2);
  const json original = Get(id);
  EXPECT_EQ(StringAt(original, "undoneBy"), second_id) << original.dump(2);
  EXPECT_EQ(StringAt(Get(first_id), "status"), "cancelled");
  auto u = probe_->ReadUser(sam);
  ASSERT_TRUE(u.has_value());
  EXPECT_FALSE(u->disabled());
}

}  // namespace
}  // namespace cordon::testing
