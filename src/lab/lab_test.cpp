// Checks that the lab DC started by the ctest fixture `lab.up` is seeded as
// lab.json describes, that the action account's delegation works and is
// limited to OU=Staff, that TLS is verified with the lab CA, that the
// keytab gives a GSSAPI bind, and that `lab stop` / `lab start` keep the
// directory as it was.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/subprocess.h"
#include "lab/lab.h"
#include "support/ad_probe.h"
#include "support/lab_info.h"

namespace cordon::testing {
namespace {

class LabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto probe = AdProbe::ConnectAsAdmin(lab());
    ASSERT_TRUE(probe) << probe.error().message;
    admin_ = std::make_unique<AdProbe>(std::move(*probe));
  }
  static const LabInfo& lab() { return TheLab(); }
  AdProbe& admin() { return *admin_; }
  std::string UserDn(const std::string& sam) {
    auto st = admin().ReadUser(sam);
    EXPECT_TRUE(st) << st.error().message;
    return st ? st->dn : std::string();
  }
  std::string SvcPassword() { return ReadSecretFile(lab().action_account.password_file); }

 private:
  std::unique_ptr<AdProbe> admin_;
};

TEST_F(LabTest, StaffOuHasAtLeastTwentyNamedUsers) {
  ASSERT_GE(lab().staff_users.size(), 20u);
  auto all = admin().UsersUnder(lab().staff_ou);
  ASSERT_TRUE(all) << all.error().message;
  const auto direct = std::count_if(all->begin(), all->end(), [&](const std::string& dn) {
    return dn.find("," + lab().bulk_ou) == std::string::npos;
  });
  EXPECT_GE(direct, 20);
  // The staff users, and the two on which a forced reset forces nothing.
  EXPECT_EQ(static_cast<std::size_t>(direct), lab().staff_users.size() + 2);
  for (const auto& sam : lab().staff_users) {
    auto st = admin().ReadUser(sam);
    ASSERT_TRUE(st) << sam << ": " << st.error().message;
    EXPECT_FALSE(st->disabled()) << sam;
    EXPECT_NE(st->dn.find(lab().staff_ou), std::string::npos) << st->dn;
  }
}

TEST_F(LabTest, StaffCommonNameIsGivenAndSurname) {
  EXPECT_EQ(UserDn("alice.adams"), "CN=Alice Adams," + lab().staff_ou);
}

TEST_F(LabTest, SpecialUsersCarryTheirFlagsAndTheUsersPassword) {
  const std::vector<std::pair<std::string, std::int64_t>> special = {
      {lab().special_users.password_never_expires, 0x10200}, {lab().special_users.smartcard_required, 0x40200}};
  for (const auto& [sam, uac] : special) {
    ASSERT_FALSE(sam.empty());
    EXPECT_EQ(std::count(lab().staff_users.begin(), lab().staff_users.end(), sam), 0) << sam;
    auto st = admin().ReadUser(sam);
    ASSERT_TRUE(st) << sam << ": " << st.error().message;
    EXPECT_EQ(st->user_account_control, uac) << sam;
    EXPECT_EQ(st->dn.find("," + lab().staff_ou), st->dn.size() - lab().staff_ou.size() - 1) << st->dn;
    const auto bind = TryBind(lab(), lab().Upn(sam), ReadSecretFile(lab().user_password_file));
    EXPECT_TRUE(bind.ok()) << sam << ": " << bind.Describe();
  }
}

TEST_F(LabTest, ActionAccountMayWriteTheSpecialUsers) {
  for (const std::string& sam : {lab().special_users.password_never_expires, lab().special_users.smartcard_required}) {
    auto before = admin().ReadUser(sam);
    ASSERT_TRUE(before) << sam;
    // Their own values written back: allowed, and nothing changes.
    auto answer = ReplaceAs(lab(), lab().action_account.bind_dn, SvcPassword(), before->dn, "userAccountControl",
                            std::to_string(before->user_account_control));
    EXPECT_TRUE(answer.ok()) << sam << ": " << answer.Describe();
    answer = ReplaceAs(lab(), lab().action_account.bind_dn, SvcPassword(), before->dn, "pwdLastSet", "-1");
    EXPECT_TRUE(answer.ok()) << sam << ": " << answer.Describe();
    auto after = admin().ReadUser(sam);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->user_account_control, before->user_account_control) << sam;
  }
}

TEST_F(LabTest, BulkOuHoldsAllBulkUsers) {
  auto bulk = admin().UsersUnder(lab().bulk_ou);
  ASSERT_TRUE(bulk) << bulk.error().message;
  EXPECT_EQ(static_cast<int>(bulk->size()), lab().bulk_count);
  EXPECT_GE(lab().bulk_count, 1000);
  for (int i : {1, lab().bulk_count / 2, lab().bulk_count}) {
    auto st = admin().ReadUser(lab().BulkUser(i));
    ASSERT_TRUE(st) << lab().BulkUser(i) << ": " << st.error().message;
    EXPECT_FALSE(st->disabled());
  }
  EXPECT_EQ(BulkUser(1), "bulk0001");
  EXPECT_EQ(lab().BulkUser(1000), "bulk1000");
}

TEST_F(LabTest, ContractorsLiveOutsideStaff) {
  ASSERT_GE(lab().other_users.size(), 3u);
  auto others = admin().UsersUnder(lab().other_ou);
  ASSERT_TRUE(others) << others.error().message;
  EXPECT_EQ(others->size(), lab().other_users.size());
  for (const auto& sam : lab().other_users) {
    const std::string dn = UserDn(sam);
    EXPECT_NE(dn.find(lab().other_ou), std::string::npos) << dn;
    EXPECT_EQ(dn.find(lab().staff_ou), std::string::npos) << dn;
  }
}

TEST_F(LabTest, DomainAdminsHaveTheSeededMembers) {
  auto members = admin().GroupMembers("CN=Domain Admins,CN=Users," + lab().base_dn);
  ASSERT_TRUE(members) << members.error().message;
  ASSERT_GE(lab().domain_admins.size(), 2u);
  for (const auto& sam : lab().domain_admins) {
    const std::string dn = UserDn(sam);
    EXPECT_NE(std::find(members->begin(), members->end(), dn), members->end()) << sam << " (" << dn << ")";
  }
}

TEST_F(LabTest, StaffUserBindsWithTheLabPassword) {
  const auto answer = TryBind(lab(), lab().Upn("alice.adams"), ReadSecretFile(lab().user_password_file));
  EXPECT_TRUE(answer.ok()) << answer.Describe();
  const auto wrong = TryBind(lab(), lab().Upn("alice.adams"), "not-the-password");
  EXPECT_EQ(wrong.code, 49) << wrong.Describe();
  EXPECT_TRUE(wrong.HasData("52e")) << wrong.Describe();
}

TEST_F(LabTest, ActionAccountForcesPasswordResetOnStaffUser) {
  const std::string sam = "bob.baker";
  const std::string dn = UserDn(sam);
  const auto answer = ReplaceAs(lab(), lab().action_account.bind_dn, SvcPassword(), dn, "pwdLastSet", "0");
  ASSERT_TRUE(answer.ok()) << answer.Describe();
  auto st = admin().ReadUser(sam);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->must_change_password());
  const auto bind = TryBind(lab(), lab().Upn(sam), ReadSecretFile(lab().user_password_file));
  EXPECT_EQ(bind.code, 49) << bind.Describe();
  EXPECT_TRUE(bind.HasData("773")) << bind.Describe();

  ASSERT_TRUE(admin().ResetUser(sam));
  EXPECT_TRUE(TryBind(lab(), lab().Upn(sam), ReadSecretFile(lab().user_password_file)).ok());
}

TEST_F(LabTest, ActionAccountDisablesBulkUser) {
  const std::string sam = lab().BulkUser(lab().bulk_count / 2);
  const std::string dn = UserDn(sam);
  const auto answer = ReplaceAs(lab(), lab().action_account.bind_dn, SvcPassword(), dn, "userAccountControl", "514");
  ASSERT_TRUE(answer.ok()) << answer.Describe();
  auto st = admin().ReadUser(sam);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->disabled());
  const auto bind = TryBind(lab(), lab().Upn(sam), ReadSecretFile(lab().user_password_file));
  EXPECT_TRUE(bind.HasData("533")) << bind.Describe();

  ASSERT_TRUE(admin().ResetUser(sam));
  st = admin().ReadUser(sam);
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->disabled());
}

TEST_F(LabTest, ActionAccountIsRefusedOnAdministrator) {
  auto before = admin().ReadUser("Administrator");
  ASSERT_TRUE(before);
  const auto answer = ReplaceAs(lab(), lab().action_account.bind_dn, SvcPassword(), before->dn, "pwdLastSet", "0");
  EXPECT_EQ(answer.code, 50) << answer.Describe();
  EXPECT_NE(answer.diagnostic.find("00002098"), std::string::npos) << answer.Describe();
  auto after = admin().ReadUser("Administrator");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->pwd_last_set, before->pwd_last_set);
}

TEST_F(LabTest, ActionAccountIsRefusedOnContractor) {
  const std::string sam = lab().other_users.front();
  const auto answer =
      ReplaceAs(lab(), lab().action_account.bind_dn, SvcPassword(), UserDn(sam), "userAccountControl", "514");
  EXPECT_EQ(answer.code, 50) << answer.Describe();
  auto after = admin().ReadUser(sam);
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->disabled());
}

TEST_F(LabTest, ActionAccountCannotChangeOtherStaffAttributes) {
  const auto answer =
      ReplaceAs(lab(), lab().action_account.bind_dn, SvcPassword(), UserDn("carol.clark"), "description", "pwned");
  EXPECT_EQ(answer.code, 50) << answer.Describe();
}

TEST_F(LabTest, TlsVerifiesWithTheLabCa) {
  const auto with_ca = TryBind(lab(), lab().Upn("alice.adams"), ReadSecretFile(lab().user_password_file));
  EXPECT_TRUE(with_ca.ok()) << with_ca.Describe();
}

TEST_F(LabTest, TlsFailsWithoutTheLabCa) {
  // The system trust store does not know the lab CA: the handshake must fail.
  const auto without = TryBind(lab(), lab().Upn("alice.adams"), ReadSecretFile(lab().user_password_file),
                               "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_FALSE(without.ok());
  EXPECT_EQ(without.code, -1) << without.Describe();  // LDAP_SERVER_DOWN: "Can't contact LDAP server"
}

TEST_F(LabTest, GssapiBindWithTheKeytab) {
  const auto answer = TryGssapiBind(lab());
  EXPECT_TRUE(answer.ok()) << answer.Describe();
}

TEST(LabFiles, SecretsAreOwnerOnlyAndPathsAbsolute) {
  const LabInfo& lab = TheLab();
  for (const std::string& path : {lab.admin.password_file, lab.action_account.password_file, lab.user_password_file,
                                  lab.action_account.keytab}) {
    ASSERT_EQ(path.front(), '/') << path;
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
  }
  struct stat key {};
  ASSERT_EQ(::stat((lab.dir + "/ca/dc.key").c_str(), &key), 0);
  EXPECT_EQ(key.st_mode & 0777, 0600u);
  EXPECT_EQ(lab.ca_file.front(), '/');
  EXPECT_EQ(lab.krb5_conf.front(), '/');
}

TEST(LabFiles, PasswordsAreRandomAndDistinct) {
  const LabInfo& lab = TheLab();
  const std::string admin = ReadSecretFile(lab.admin.password_file);
  const std::string svc = ReadSecretFile(lab.action_account.password_file);
  const std::string users = ReadSecretFile(lab.user_password_file);
  EXPECT_GE(admin.size(), 20u);
  EXPECT_NE(admin, svc);
  EXPECT_NE(admin, users);
  EXPECT_NE(svc, users);
}

TEST(LabFiles, LogsHoldNoPassword) {
  const LabInfo& lab = TheLab();
  std::vector<std::string> secrets;
  for (const auto& file : {lab.admin.password_file, lab.action_account.password_file, lab.user_password_file})
    secrets.push_back(ReadSecretFile(file));
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(lab.dir + "/logs")) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ++files;
    for (const auto& secret : secrets) EXPECT_EQ(text.find(secret), std::string::npos) << entry.path();
    // samba-tool announces the random password it chose; the lab keeps only a redacted line.
    const auto at = text.find("Admin password:");
    if (at != std::string::npos) {
      EXPECT_EQ(text.substr(at, text.find('\n', at) - at), "Admin password: (redacted)") << entry.path();
    }
  }
  EXPECT_GT(files, 0);
}

TEST(LabCommand, StatusShowsNoSecret) {
  const LabInfo& lab = TheLab();
  for (const char* output : {"text", "json"}) {
    auto r = RunProgram({.argv = {CORDON_BINARY, "lab", "status", "--dir", lab.dir, "-o", output}});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_code, 0) << r->err;
    EXPECT_NE(r->out.find("ldaps://127.0.0.1"), std::string::npos);
    for (const auto& file : {lab.admin.password_file, lab.action_account.password_file, lab.user_password_file}) {
      const std::string secret = ReadSecretFile(file);
      EXPECT_EQ(r->out.find(secret), std::string::npos);
      EXPECT_EQ(r->err.find(secret), std::string::npos);
    }
  }
}

TEST(LabFiles, SnapshotCarriesTheCurrentSeedVersion) {
  const LabInfo& lab = TheLab();
  std::ifstream in(lab.dir + "/snapshot/seed-version");
  int version = 0;
  ASSERT_TRUE(in >> version) << "no seed version beside the snapshot";
  EXPECT_EQ(version, lab::kSeedVersion);
}

// A snapshot without a seed version (made by a Cordon before its seed was
// versioned) is provisioned again; `lab status` says so before anyone waits.
TEST(LabCommand, StatusCallsAnUnversionedSnapshotOld) {
  const auto dir = std::filesystem::temp_directory_path() / ("cordon-lab-old-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "snapshot");
  std::ofstream(dir / "snapshot" / "dc.tar") << "an old snapshot";
  auto r = RunProgram({.argv = {CORDON_BINARY, "lab", "status", "--dir", dir.string(), "-o", "json"}});
  ASSERT_TRUE(r) << r.error().message;
  const auto j = nlohmann::json::parse(r->out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r->out;
  EXPECT_EQ(j.value("snapshot", true), false) << r->out;
  EXPECT_EQ(j.value("snapshot_outdated", false), true) << r->out;
  EXPECT_EQ(j.value("snapshot_seed", -1), 0) << r->out;
  auto text = RunProgram({.argv = {CORDON_BINARY, "lab", "status", "--dir", dir.string()}});
  ASSERT_TRUE(text);
  EXPECT_NE(text->out.find("provisions again"), std::string::npos) << text->out;
  // `start` has no working copy to run and says what to do instead.
  auto start = RunProgram({.argv = {CORDON_BINARY, "lab", "start", "--dir", dir.string(), "-q"}});
  ASSERT_TRUE(start);
  EXPECT_EQ(start->exit_code, 1) << start->out << start->err;
  EXPECT_NE(start->err.find("cordon lab up"), std::string::npos) << start->err;
  std::filesystem::remove_all(dir);
}

// A DC reboot: what was changed before `lab stop` is still there after `lab
// start`, and the DC answers again.
TEST(LabCommand, StopAndStartKeepTheDirectory) {
  const LabInfo& lab = TheLab();
  const std::string sam = lab.BulkUser(lab.bulk_count / 2 + 1);
  {
    auto probe = AdProbe::ConnectAsAdmin(lab);
    ASSERT_TRUE(probe) << probe.error().message;
    ASSERT_TRUE(probe->SetDisabled(sam, true));
  }
  auto stop = RunProgram({.argv = {CORDON_BINARY, "lab", "stop", "--dir", lab.dir, "-q"},
                          .timeout = std::chrono::seconds(120)});
  ASSERT_TRUE(stop) << stop.error().message;
  EXPECT_EQ(stop->exit_code, 0) << stop->err;
  auto status = RunProgram({.argv = {CORDON_BINARY, "lab", "status", "--dir", lab.dir}});
  ASSERT_TRUE(status);
  EXPECT_EQ(status->exit_code, 5) << status->out;
  EXPECT_FALSE(std::filesystem::exists(lab.dir + "/lab.json"));

  auto start = RunProgram({.argv = {CORDON_BINARY, "lab", "start", "--dir", lab.dir, "-q", "-o", "json"},
                           .timeout = std::chrono::seconds(300)});
  ASSERT_TRUE(start) << start.error().message;
  ASSERT_EQ(start->exit_code, 0) << start->err;
  const auto j = nlohmann::json::parse(start->out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << start->out;
  EXPECT_EQ(j.value("already_running", true), false);
  EXPECT_TRUE(std::filesystem::exists(lab.dir + "/lab.json"));

  auto probe = AdProbe::ConnectAsAdmin(lab);
  ASSERT_TRUE(probe) << probe.error().message;
  auto st = probe->ReadUser(sam);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_TRUE(st->disabled()) << "the change made before the stop is gone: the DC started from a clean copy";
  ASSERT_TRUE(probe->ResetUser(sam));
}

// A lab that is half up is not up: when the Okta emulator cannot start,
// `Start()` fails and stops the DC it had started, so nothing holds the ports.
TEST(LabCommand, AnEmulatorThatCannotStartLeavesNoDcRunning) {
  const LabInfo& lab = TheLab();
  auto stop = RunProgram({.argv = {CORDON_BINARY, "lab", "stop", "--dir", lab.dir, "-q"},
                          .timeout = std::chrono::seconds(120)});
  ASSERT_TRUE(stop) << stop.error().message;
  ASSERT_EQ(stop->exit_code, 0) << stop->err;
  {
    lab::Lab broken(lab.dir);
    broken.EnableOkta({"/bin/false"});  // exits at once, as an emulator that cannot start would
    auto started = broken.Start();
    ASSERT_FALSE(started) << "started although the emulator exited";
    EXPECT_NE(started.error().message.find("Okta emulator"), std::string::npos) << started.error().message;
  }
  auto status = RunProgram({.argv = {CORDON_BINARY, "lab", "status", "--dir", lab.dir, "-o", "json"}});
  ASSERT_TRUE(status);
  EXPECT_EQ(status->exit_code, 5) << status->out;
  EXPECT_NE(status->out.find("\"running\": false"), std::string::npos) << status->out;

  auto start = RunProgram({.argv = {CORDON_BINARY, "lab", "start", "--dir", lab.dir, "-q"},
                           .timeout = std::chrono::seconds(300)});
  ASSERT_TRUE(start) << start.error().message;
  ASSERT_EQ(start->exit_code, 0) << start->err;
  EXPECT_TRUE(std::filesystem::exists(lab.dir + "/lab.json"));
}

TEST(LabCommand, StatusOfAnEmptyDirSaysNotRunning) {
  const auto dir = std::filesystem::temp_directory_path() / ("cordon-lab-empty-" + std::to_string(::getpid()));
  auto r = RunProgram({.argv = {CORDON_BINARY, "lab", "status", "--dir", dir.string(), "-o", "json"}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 5) << r->out << r->err;  // kExitUnavailable
  EXPECT_NE(r->out.find("\"running\": false"), std::string::npos) << r->out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cordon::testing
