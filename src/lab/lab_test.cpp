// Checks that the lab DC started by the ctest fixture `lab.up` is seeded as
// lab.json describes, that the action account's delegation works and is
// limited to OU=Staff, that TLS is verified with the lab CA, and that the
// keytab gives a GSSAPI bind.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

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
  EXPECT_EQ(static_cast<std::size_t>(direct), lab().staff_users.size());
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
