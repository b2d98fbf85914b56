// Proof on the lab's real Samba AD DC that the AD connector does what it
// promises: Disable/Enable and ForcePasswordReset/ClearPasswordReset as seen
// by a user's own bind (data 533 / data 773), a forced reset refused where it
// would force nothing ("password never expires", "smart card required"),
// already-in-state, least
// privilege (insufficient access outside OU=Staff, with the DC's words,
// nothing changed), filter injection, lookup by every id kind, StartTLS,
// GSSAPI with a keytab, optimistic concurrency, reconnection after a cut
// connection, batches, and no secret in any answer. (A DC that cannot be
// reached at all is covered without the lab in
// src/connectors/ad/ad_connector_test.cpp.)
//
// Every check of the directory's state is made as Administrator over a
// separate libldap connection, never through the connector under test.
// Users touched: the last five staff users, the lab's special users (never
// changed) and bulk0951..bulk1000; each test restores them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <ldap.h>
#include <toml++/toml.h>

#include "connectors/ad/account_filter.h"
#include "connectors/ad/ad_config.h"
#include "connectors/ad/ad_connector.h"
#include "support/ad_probe.h"
#include "support/lab_info.h"
#include "support/tcp_proxy.h"

namespace cordon::ad {
namespace {

using testing::AdProbe;
using testing::LabInfo;
using testing::ReadSecretFile;
using testing::TheLab;

// The staff user this test may change: counted from the end of the list.
std::string StaffUser(int from_end) {
  const auto& users = TheLab().staff_users;
  return users.at(users.size() - 1 - from_end);
}

testing::LdapAnswer BindAsUser(const std::string& sam) {
  return testing::TryBind(TheLab(), TheLab().Upn(sam), ReadSecretFile(TheLab().user_password_file));
}

// An administrator's independent view of the directory (tests/support).
class Admin {
 public:
  Admin() {
    auto probe = AdProbe::ConnectAsAdmin(TheLab());
    if (!probe) throw std::runtime_error("admin connection: " + probe.error().message);
    probe_ = std::make_unique<AdProbe>(std::move(*probe));
  }

  testing::UserState Read(const std::string& sam) {
    auto u = probe_->ReadUser(sam);
    EXPECT_TRUE(u) << sam << ": " << u.error().message;
    return u ? *u : testing::UserState{};
  }
  // Enabled, pwdLastSet -1, not locked out: the seeded state.
  void Restore(const std::string& sam) {
    auto ok = probe_->ResetUser(sam);
    ASSERT_TRUE(ok) << sam << ": " << ok.error().message;
  }
  void Disable(const std::string& sam) {
    auto ok = probe_->SetDisabled(sam, true);
    ASSERT_TRUE(ok) << sam << ": " << ok.error().message;
  }
  // Writes userAccountControl as Administrator (to race the connector).
  int SetUac(const std::string& dn, long long value) {
    return testing::ReplaceAs(TheLab(), TheLab().admin.bind_dn, ReadSecretFile(TheLab().admin.password_file), dn,
                              "userAccountControl", std::to_string(value))
        .code;
  }

 private:
  std::unique_ptr<AdProbe> probe_;
};


// ---- the connector under test ------------------------------------------------

toml::table SimpleSection(const std::string& url) {
  toml::table t{{"url", url},
                {"ca_file", TheLab().ca_file},
                {"base_dn", TheLab().base_dn},
                {"bind_dn", TheLab().action_account.bind_dn},
                {"password_file", TheLab().action_account.password_file},
                {"timeout_ms", 5000}};
  return t;
}

std::unique_ptr<Connector> Make(const toml::table& section) {
  auto factory = LoadAdConnector(ConnectorSection{section, "connectors.ad", {}});
  EXPECT_TRUE(factory) << factory.error().message;
  if (!factory) return nullptr;
  auto c = (*factory)();
  EXPECT_TRUE(c) << c.error().message;
  return c ? std::move(*c) : nullptr;
}

// The connector as the engine drives it, without an action center behind it
// (nothing is recorded) unless a test passes its own context.
Result<ExecutionOutcome> Exec(Connector& c, const Action& a, const ExecutionContext& context = {}) {
  return c.Execute(a, context);
}
std::vector<Result<ExecutionOutcome>> ExecBatch(Connector& c, std::span<const Action> actions,
                                                const ExecutionContext& context = {}) {
  return c.ExecuteBatch(actions, context);
}

Action MakeAction(ActionType type, const std::string& target) {
  Action a;
  a.id = "test";
  a.type = type;
  a.target = target;
  return a;
}

// No answer the connector gives may contain a lab secret.
void ExpectNoSecret(const std::string& text) {
  for (const std::string& file : {TheLab().action_account.password_file, TheLab().admin.password_file,
                                  TheLab().user_password_file}) {
    std::string secret = ReadSecretFile(file);
    ASSERT_FALSE(secret.empty());
    EXPECT_EQ(text.find(secret), std::string::npos) << "a secret leaked into: " << text;
  }
}
void ExpectNoSecret(const Result<ExecutionOutcome>& r) {
  if (r) {
    ExpectNoSecret(r->message + r->provider_answer.detail + r->resolved_account);
  } else {
    ExpectNoSecret(r.error().message + r.error().provider_detail);
  }
}

class AdProof : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(TheLab().base_dn.empty()) << "lab.json not loaded";
  }
  Admin admin_;
};

TEST_F(AdProof, DisableMakesTheUsersBindFailWithData533AndEnableUndoesIt) {
  const std::string user = StaffUser(0);
  admin_.Restore(user);
  ASSERT_EQ(BindAsUser(user).code, LDAP_SUCCESS);
  auto ad = Make(SimpleSection(TheLab().ldaps_url));

  auto disabled = Exec(*ad, MakeAction(ActionType::kDisable, user));
  ASSERT_TRUE(disabled) << disabled.error().message;
  EXPECT_FALSE(disabled->already_in_state);
  EXPECT_EQ(disabled->provider_answer.code, "ldap:0");
  EXPECT_EQ(disabled->resolved_account, admin_.Read(user).dn);
  EXPECT_EQ(admin_.Read(user).user_account_control, 514);
  testing::LdapAnswer bind = BindAsUser(user);
  EXPECT_EQ(bind.code, LDAP_INVALID_CREDENTIALS);
  EXPECT_TRUE(bind.HasData("533")) << bind.Describe();

  auto again = Exec(*ad, MakeAction(ActionType::kDisable, user));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->already_in_state);
  EXPECT_NE(again->message.find("already disabled"), std::string::npos) << again->message;

  auto enabled = Exec(*ad, MakeAction(ActionType::kEnable, user));
  ASSERT_TRUE(enabled) << enabled.error().message;
  EXPECT_FALSE(enabled->already_in_state);
  EXPECT_EQ(admin_.Read(user).user_account_control, 512);
  EXPECT_EQ(BindAsUser(user).code, LDAP_SUCCESS);

  auto enabled_again = Exec(*ad, MakeAction(ActionType::kEnable, user));
  ASSERT_TRUE(enabled_again);
  EXPECT_TRUE(enabled_again->already_in_state);
  for (const auto* r : {&disabled, &again, &enabled, &enabled_again}) ExpectNoSecret(*r);
}

TEST_F(AdProof, ForcePasswordResetMakesTheBindFailWithData773AndClearUndoesIt) {
  const std::string user = StaffUser(1);
  admin_.Restore(user);
  ASSERT_EQ(BindAsUser(user).code, LDAP_SUCCESS);
  auto ad = Make(SimpleSection(TheLab().ldaps_url));

  auto forced = Exec(*ad, MakeAction(ActionType::kForcePasswordReset, user));
  ASSERT_TRUE(forced) << forced.error().message;
  EXPECT_FALSE(forced->already_in_state);
  EXPECT_EQ(admin_.Read(user).pwd_last_set, 0);
  testing::LdapAnswer bind = BindAsUser(user);
  EXPECT_EQ(bind.code, LDAP_INVALID_CREDENTIALS);
  EXPECT_TRUE(bind.HasData("773")) << bind.Describe();
  auto view = ad->Lookup(user);
  ASSERT_TRUE(view);
  EXPECT_TRUE(view->must_change_password);

  auto again = Exec(*ad, MakeAction(ActionType::kForcePasswordReset, user));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->already_in_state);
  EXPECT_NE(again->message.find("already"), std::string::npos);

  auto cleared = Exec(*ad, MakeAction(ActionType::kClearPasswordReset, user));
  ASSERT_TRUE(cleared) << cleared.error().message;
  EXPECT_FALSE(cleared->already_in_state);
  EXPECT_NE(admin_.Read(user).pwd_last_set, 0);
  EXPECT_EQ(BindAsUser(user).code, LDAP_SUCCESS);

  auto cleared_again = Exec(*ad, MakeAction(ActionType::kClearPasswordReset, user));
  ASSERT_TRUE(cleared_again);
  EXPECT_TRUE(cleared_again->already_in_state);
}

// pwdLastSet = 0 makes a user change the password at next logon only where the
// password can expire and is what the user signs in with. AD accepts the write
// on the other accounts too, so the connector refuses it, once and for all,
// naming the flag: a "succeeded" would promise a containment that never happens.
TEST_F(AdProof, AForcedResetThatWouldForceNothingFailsNamingTheFlag) {
  struct Case {
    std::string sam;
    std::string flag;   // the userAccountControl bit, as the explanation names it
    std::string words;  // and in the analyst's words
  };
  const std::vector<Case> cases = {
      {TheLab().special_users.password_never_expires, "DONT_EXPIRE_PASSWORD 0x10000", "password never expires"},
      {TheLab().special_users.smartcard_required, "SMARTCARD_REQUIRED 0x40000", "smart card is required"},
  };
  auto ad = Make(SimpleSection(TheLab().ldaps_url));
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sam);
    const testing::UserState before = admin_.Read(c.sam);
    ASSERT_FALSE(before.dn.empty());
    ASSERT_EQ(BindAsUser(c.sam).code, LDAP_SUCCESS) << "the lab's " << c.sam << " must sign in with the password";

    auto r = Exec(*ad, MakeAction(ActionType::kForcePasswordReset, c.sam));
    ASSERT_FALSE(r) << "a reset that forces nothing was reported done: " << r->message;
    EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition) << r.error().message;
    EXPECT_FALSE(r.error().retryable) << "no retry can change the answer";
    EXPECT_EQ(r.error().blame, Blame::kAction) << "the account's, not the DC's: AD must not be paused";
    EXPECT_NE(r.error().message.find(c.flag), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(c.words), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(before.dn), std::string::npos) << r.error().message;
    ExpectNoSecret(r);

    const testing::UserState after = admin_.Read(c.sam);
    EXPECT_EQ(after.pwd_last_set, before.pwd_last_set) << "pwdLastSet was written";
    EXPECT_NE(after.pwd_last_set, 0);
    EXPECT_EQ(after.user_account_control, before.user_account_control);
    const testing::LdapAnswer bind = BindAsUser(c.sam);
    EXPECT_EQ(bind.code, LDAP_SUCCESS) << "the user's password must still work: " << bind.Describe();
  }

  // In a batch, beside an account on which the reset does force a change:
  // each gets its own answer.
  const std::string ordinary = StaffUser(1);
  admin_.Restore(ordinary);
  std::vector<Action> batch = {MakeAction(ActionType::kForcePasswordReset, cases[0].sam),
                               MakeAction(ActionType::kForcePasswordReset, ordinary),
                               MakeAction(ActionType::kForcePasswordReset, cases[1].sam)};
  auto results = ExecBatch(*ad, batch);
  ASSERT_EQ(results.size(), 3u);
  ASSERT_TRUE(results[1]) << results[1].error().message;
  EXPECT_EQ(admin_.Read(ordinary).pwd_last_set, 0);
  for (int i : {0, 2}) {
    ASSERT_FALSE(results[i]) << batch[i].target;
    EXPECT_EQ(results[i].error().code, ErrorCode::kFailedPrecondition);
    EXPECT_FALSE(results[i].error().retryable);
    EXPECT_NE(admin_.Read(batch[i].target).pwd_last_set, 0) << batch[i].target;
  }
  admin_.Restore(ordinary);
}

TEST_F(AdProof, OutsideStaffTheDelegatedAccountGetsInsufficientAccessAndNothingChanges) {
  auto ad = Make(SimpleSection(TheLab().ldaps_url));
  for (const std::string& user : {std::string("Administrator"), TheLab().other_users.at(0)}) {
    testing::UserState before = admin_.Read(user);
    ASSERT_FALSE(before.dn.empty()) << user;
    for (ActionType type : {ActionType::kDisable, ActionType::kForcePasswordReset}) {
      auto r = Exec(*ad, MakeAction(type, user));
      ASSERT_FALSE(r) << user << " " << ToString(type) << " was allowed";
      EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied) << r.error().message;
      EXPECT_FALSE(r.error().retryable);
      EXPECT_EQ(r.error().provider_code, "ldap:50");
      // The DC's own words, e.g. "00002098: ... INSUFF_ACCESS_RIGHTS ...".
      EXPECT_FALSE(r.error().provider_detail.empty());
      EXPECT_NE(r.error().message.find(r.error().provider_detail), std::string::npos);
      ExpectNoSecret(r);
    }
    testing::UserState after = admin_.Read(user);
    EXPECT_EQ(after.user_account_control, before.user_account_control) << user;
    EXPECT_EQ(after.pwd_last_set, before.pwd_last_set) << user;
  }
}

TEST_F(AdProof, FilterInjectionMatchesNothingAndChangesNothing) {
  auto ad = Make(SimpleSection(TheLab().ldaps_url));
  const std::string victim = StaffUser(4);
  admin_.Restore(victim);
  for (const std::string& evil : {std::string("*)(sAMAccountName=*"), std::string("*"),
                                  std::string(victim + ")(|(sAMAccountName=*"), std::string("*@*")}) {
    auto r = Exec(*ad, MakeAction(ActionType::kDisable, evil));
    ASSERT_FALSE(r) << evil << " matched " << r->resolved_account;
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound) << r.error().message;
    EXPECT_FALSE(r.error().retryable);
    EXPECT_FALSE(ad->Lookup(evil));
  }
  std::vector<Action> batch = {MakeAction(ActionType::kDisable, "*)(sAMAccountName=*"),
                               MakeAction(ActionType::kDisable, "*")};
  for (auto& r : ExecBatch(*ad, batch)) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  }
  EXPECT_EQ(admin_.Read(victim).user_account_control, 512);
  EXPECT_EQ(admin_.Read(StaffUser(0)).user_account_control, 512);
  EXPECT_EQ(admin_.Read(TheLab().BulkUser(1)).user_account_control, 512);
}

TEST_F(AdProof, LooksUpBySamUpnSidAndGuid) {
  auto ad = Make(SimpleSection(TheLab().ldaps_url));
  const std::string user = StaffUser(4);
  auto by_sam = ad->Lookup(user);
  ASSERT_TRUE(by_sam) << by_sam.error().message;
  const std::string dn = by_sam->identifiers.at("dn");
  const std::string sid = by_sam->sid;
  EXPECT_EQ(by_sam->provider, Provider::kActiveDirectory);
  EXPECT_EQ(by_sam->login, user);
  EXPECT_EQ(by_sam->status, AccountStatus::kEnabled);
  EXPECT_EQ(dn, admin_.Read(user).dn);
  EXPECT_EQ(dn.rfind("CN=", 0), 0u);
  EXPECT_NE(dn.find(TheLab().staff_ou), std::string::npos);
  EXPECT_EQ(sid.rfind("S-1-5-21-", 0), 0u) << sid;
  EXPECT_EQ(by_sam->id.size(), 36u) << by_sam->id;
  EXPECT_FALSE(by_sam->display_name.empty());
  for (const std::string& key :
       {by_sam->upn, sid, by_sam->id, "{" + by_sam->id + "}", "sid:" + sid}) {
    auto v = ad->Lookup(key);
    ASSERT_TRUE(v) << key << ": " << v.error().message;
    EXPECT_EQ(v->identifiers.at("dn"), dn) << key;
  }
  // An action addressed by SID acts on the same account.
  auto r = Exec(*ad, MakeAction(ActionType::kEnable, sid));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->resolved_account, dn);
  EXPECT_EQ(r->account_id, by_sam->id);
  EXPECT_TRUE(r->already_in_state);
  EXPECT_FALSE(ad->Lookup("no.such.user"));
  EXPECT_EQ(ad->Lookup("no.such.user").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(ad->Lookup("S-1-5-21-1-2-3-4").error().code, ErrorCode::kNotFound);
}

TEST_F(AdProof, StartTlsWorks) {
  toml::table section = SimpleSection(TheLab().ldap_url);
  section.insert_or_assign("start_tls", true);
  auto ad = Make(section);
  auto v = ad->Lookup(StaffUser(4));
  ASSERT_TRUE(v) << v.error().message;
}

TEST_F(AdProof, GssapiBindWithTheKeytabActs) {
  const std::string user = StaffUser(3);
  admin_.Restore(user);
  toml::table section{{"url", TheLab().gssapi_url},
                      {"base_dn", TheLab().base_dn},
                      {"bind_mode", "gssapi"},
                      {"keytab", TheLab().action_account.keytab},
                      {"principal", TheLab().action_account.principal},
                      {"krb5_conf", TheLab().krb5_conf}};
  auto ad = Make(section);
  auto disabled = Exec(*ad, MakeAction(ActionType::kDisable, user));
  ASSERT_TRUE(disabled) << disabled.error().message << " / " << disabled.error().provider_detail;
  EXPECT_EQ(admin_.Read(user).user_account_control, 514);
  auto enabled = Exec(*ad, MakeAction(ActionType::kEnable, user));
  ASSERT_TRUE(enabled) << enabled.error().message;
  EXPECT_EQ(admin_.Read(user).user_account_control, 512);
  // Still the delegated identity: no rights outside OU=Staff.
  auto refused = Exec(*ad, MakeAction(ActionType::kDisable, TheLab().other_users.at(0)));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().provider_code, "ldap:50");

  // A keytab for another principal than the configured one is refused.
  section.insert_or_assign("principal", "someone-else@" + TheLab().realm);
  auto other = Make(section);
  auto mismatch = other->Lookup(user);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code, ErrorCode::kUnauthenticated) << mismatch.error().message;
  EXPECT_EQ(mismatch.error().blame, Blame::kProvider) << "every action would meet it: the engine pauses AD";
}

TEST_F(AdProof, AConcurrentChangeIsNeverOverwritten) {
  const std::string user = StaffUser(2);
  admin_.Restore(user);
  const std::string dn = admin_.Read(user).dn;
  ASSERT_EQ(admin_.SetUac(dn, 512), LDAP_SUCCESS);
  auto ad = Make(SimpleSection(TheLab().ldaps_url));
  // Between Cordon's read and its write — when it reports what it saw, as it
  // must before any change — an administrator sets DONT_EXPIRE_PASSWORD (0x10000).
  int calls = 0;
  ExecutionContext racing;
  racing.record_observations = [&](std::span<const Observation> seen) -> Status {
    EXPECT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].resolved_account, dn);
    if (calls++ == 0) {
      EXPECT_EQ(admin_.SetUac(dn, 66048), LDAP_SUCCESS);
    }
    return {};
  };
  auto r = Exec(*ad, MakeAction(ActionType::kDisable, user), racing);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(calls, 2) << "the stale write must have been refused and retried after a re-read";
  EXPECT_EQ(admin_.Read(user).user_account_control, 66048 | 2) << "the administrator's bit must survive";

  // Someone who keeps changing it: bounded retries, then a retryable Conflict.
  int flips = 0;
  ExecutionContext flipping;
  flipping.record_observations = [&](std::span<const Observation>) -> Status {
    ++flips;
    long long now = admin_.Read(user).user_account_control;
    EXPECT_EQ(admin_.SetUac(dn, now ^ 0x10000), LDAP_SUCCESS);
    return {};
  };
  auto conflict = Exec(*ad, MakeAction(ActionType::kEnable, user), flipping);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(conflict.error().retryable);
  EXPECT_EQ(conflict.error().blame, Blame::kAction);
  EXPECT_EQ(conflict.error().provider_code, "ldap:16");
  EXPECT_EQ(flips, kMaxConflictRetries + 1);
  EXPECT_EQ(admin_.SetUac(dn, 512), LDAP_SUCCESS);
}

TEST_F(AdProof, NothingIsChangedUnlessWhatWasSeenIsRecordedFirst) {
  const std::string user = StaffUser(2);
  admin_.Restore(user);
  auto ad = Make(SimpleSection(TheLab().ldaps_url));
  std::vector<Observation> recorded;
  ExecutionContext failing;
  failing.record_observations = [&](std::span<const Observation> seen) -> Status {
    recorded.insert(recorded.end(), seen.begin(), seen.end());
    return Fail(Error::Unavailable("the action center is busy"));
  };
  auto single = Exec(*ad, MakeAction(ActionType::kDisable, user), failing);
  ASSERT_FALSE(single);
  EXPECT_TRUE(single.error().retryable);
  std::vector<Action> batch = {MakeAction(ActionType::kDisable, user),
                               MakeAction(ActionType::kDisable, TheLab().BulkUser(2))};
  for (auto& r : ExecBatch(*ad, batch, failing)) EXPECT_FALSE(r);
  EXPECT_EQ(admin_.Read(user).user_account_control, 512);
  EXPECT_EQ(admin_.Read(TheLab().BulkUser(2)).user_account_control, 512);
  ASSERT_FALSE(recorded.empty());
  EXPECT_EQ(recorded.front().state.rfind("userAccountControl 0x200", 0), 0u) << recorded.front().state;
  EXPECT_FALSE(recorded.front().in_target_state);
  EXPECT_EQ(recorded.front().account_id.size(), 36u);
}

TEST_F(AdProof, ReconnectsAfterTheConnectionIsCut) {
  const std::string user = StaffUser(0);
  admin_.Restore(user);
  // A proxy in front of the DC's LDAPS port cuts the connections as a DC
  // restart or a firewall's idle timeout would, without disturbing the DC.
  auto proxy = testing::TcpProxy::Start({.target_port = 636});
  ASSERT_TRUE(proxy) << proxy.error().message;
  auto ad = Make(SimpleSection("ldaps://127.0.0.1:" + std::to_string((*proxy)->port())));
  ASSERT_TRUE(ad->Lookup(user));

  (*proxy)->CutAll();  // the open connection is now dead; the connector does not know yet
  auto disabled = Exec(*ad, MakeAction(ActionType::kDisable, user));
  ASSERT_TRUE(disabled) << disabled.error().message;
  EXPECT_EQ(admin_.Read(user).user_account_control, 514);

  (*proxy)->CutAll();
  std::vector<Action> batch = {MakeAction(ActionType::kEnable, user),
                               MakeAction(ActionType::kEnable, TheLab().BulkUser(1))};
  auto results = ExecBatch(*ad, batch);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  ASSERT_TRUE(results[1]) << results[1].error().message;
  EXPECT_FALSE(results[0]->already_in_state);
  EXPECT_TRUE(results[1]->already_in_state);
  EXPECT_EQ(admin_.Read(user).user_account_control, 512);
}

TEST_F(AdProof, AnUntrustedCertificateIsRefused) {
  toml::table section = SimpleSection(TheLab().ldaps_url);
  section.erase("ca_file");
  section.insert_or_assign("system_ca", true);  // the system's CAs do not know the lab's
  auto ad = Make(section);
  auto r = ad->Lookup(StaffUser(4));
  ASSERT_FALSE(r) << "connected without verifying the DC's certificate";
  EXPECT_EQ(r.error().blame, Blame::kProvider);
}

TEST_F(AdProof, AWrongServicePasswordPausesNotFailsAndARotationIsPickedUp) {
  const std::string user = StaffUser(0);
  admin_.Restore(user);
  const std::string wrong = "Wrong-Password-" + std::to_string(getpid());
  setenv("CORDON_TEST_AD_PW", wrong.c_str(), 1);
  toml::table section = SimpleSection(TheLab().ldaps_url);
  section.erase("password_file");
  section.insert_or_assign("password_env", "CORDON_TEST_AD_PW");
  auto ad = Make(section);
  auto r = Exec(*ad, MakeAction(ActionType::kDisable, user));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated) << r.error().message;
  EXPECT_EQ(r.error().blame, Blame::kProvider) << "not this action's fault: the engine pauses AD";
  EXPECT_EQ(r.error().provider_code, "ldap:49");
  EXPECT_EQ(r.error().message.find(wrong), std::string::npos);
  EXPECT_EQ(r.error().provider_detail.find(wrong), std::string::npos);
  auto probe = ad->Probe(ExecutionContext{});
  ASSERT_FALSE(probe);
  EXPECT_EQ(probe.error().provider_code, "ldap:49");

  // The operator fixes the password where Cordon reads it: the same
  // connector picks it up, no restart.
  setenv("CORDON_TEST_AD_PW", ReadSecretFile(TheLab().action_account.password_file).c_str(), 1);
  EXPECT_TRUE(ad->Probe(ExecutionContext{}));
  auto fixed = Exec(*ad, MakeAction(ActionType::kDisable, user));
  ASSERT_TRUE(fixed) << fixed.error().message;
  EXPECT_EQ(admin_.Read(user).user_account_control, 514);
  admin_.Restore(user);
}

TEST_F(AdProof, BatchResolvesMixedIdsInOneSearchAndStaysCorrect) {
  auto ad = Make(SimpleSection(TheLab().ldaps_url));
  const LabInfo& lab = TheLab();
  std::vector<std::string> users;
  for (int i = 951; i <= 960; ++i) users.push_back(lab.BulkUser(i));
  for (const auto& u : users) admin_.Restore(u);
  auto sid_of = ad->Lookup(users[2]);
  auto guid_of = ad->Lookup(users[3]);
  ASSERT_TRUE(sid_of && guid_of);
  admin_.Disable(users[4]);  // already disabled

  std::vector<Action> batch = {
      MakeAction(ActionType::kDisable, users[0]),
      MakeAction(ActionType::kDisable, users[1] + "@corp.example.test"),
      MakeAction(ActionType::kDisable, sid_of->sid),
      MakeAction(ActionType::kDisable, guid_of->id),
      MakeAction(ActionType::kDisable, users[4]),
      MakeAction(ActionType::kDisable, "*)(sAMAccountName=*"),
      MakeAction(ActionType::kDisable, "no.such.user"),
      MakeAction(ActionType::kForcePasswordReset, users[5]),
      MakeAction(ActionType::kDisable, users[6]),
      MakeAction(ActionType::kEnable, users[6]),  // same account: must see the disable
      MakeAction(ActionType::kDisable, TheLab().other_users.at(0)),
      MakeAction(ActionType::kSuspend, users[7]),
  };
  auto results = ExecBatch(*ad, batch);
  ASSERT_EQ(results.size(), batch.size());
  for (int i : {0, 1, 2, 3, 4, 7, 8, 9}) ASSERT_TRUE(results[i]) << i << ": " << results[i].error().message;
  for (int i : {0, 1, 2, 3}) {
    EXPECT_FALSE(results[i]->already_in_state) << i;
    EXPECT_EQ(admin_.Read(users[i]).user_account_control, 514) << users[i];
    EXPECT_EQ(results[i]->resolved_account, admin_.Read(users[i]).dn);
  }
  EXPECT_TRUE(results[4]->already_in_state);
  EXPECT_EQ(results[5].error().code, ErrorCode::kNotFound);
  EXPECT_EQ(results[6].error().code, ErrorCode::kNotFound);
  EXPECT_EQ(admin_.Read(users[5]).pwd_last_set, 0);
  EXPECT_FALSE(results[8]->already_in_state);
  EXPECT_FALSE(results[9]->already_in_state) << "the enable must come after the disable";
  EXPECT_EQ(admin_.Read(users[6]).user_account_control, 512);
  EXPECT_EQ(results[10].error().provider_code, "ldap:50");
  EXPECT_EQ(results[11].error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(admin_.Read(users[7]).user_account_control, 512);
  for (auto& r : results) ExpectNoSecret(r);
  for (const auto& u : users) admin_.Restore(u);
}

// Disables and re-enables the 50 last bulk users in batches, and prints how
// long the DC took (a measurement, not an assertion).
TEST_F(AdProof, BatchOfFiftyRoundTrips) {
  auto ad = Make(SimpleSection(TheLab().ldaps_url));
  std::vector<std::string> users;
  for (int i = TheLab().bulk_count - 49; i <= TheLab().bulk_count; ++i) users.push_back(TheLab().BulkUser(i));
  for (const auto& u : users) admin_.Restore(u);
  for (ActionType type : {ActionType::kDisable, ActionType::kEnable}) {
    std::vector<Action> batch;
    for (const auto& u : users) batch.push_back(MakeAction(type, u));
    auto start = std::chrono::steady_clock::now();
    auto results = ExecBatch(*ad, batch);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::printf("%s of %zu accounts in one batch: %lld ms\n", std::string(ToString(type)).c_str(), users.size(),
                static_cast<long long>(ms.count()));
    for (std::size_t i = 0; i < results.size(); ++i) {
      ASSERT_TRUE(results[i]) << users[i] << ": " << results[i].error().message;
      EXPECT_FALSE(results[i]->already_in_state) << users[i];
    }
    for (const auto& u : users) EXPECT_EQ(admin_.Read(u).user_account_control, type == ActionType::kDisable ? 514 : 512) << u;
  }
}

}  // namespace
}  // namespace cordon::ad
