// AdProbe: an administrator's view of the lab's DC for tests, written
// directly on libldap (not on Cordon's AD connector, which it checks).
//
// What tests need: read a user's userAccountControl / pwdLastSet / objectGUID
// / objectSid / userPrincipalName / adminCount,
// try a simple bind as a user and see the DC's answer (e.g. "data 533" for a
// disabled account), try a modify as some account, reset users to the seeded
// state (enabled, pwdLastSet -1) as Administrator, and rename, add and delete
// users (to set up what happens to accounts between an action and its undo).
//
// Every connection verifies the DC's certificate with the lab CA unless a
// test passes another CA file on purpose.
//
// Thread-safety: an AdProbe object holds one LDAP connection; use it from one
// thread at a time. The free functions open their own connections.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "support/lab_info.h"

namespace cordon::testing {

// An LDAP operation's outcome: the result code and the DC's diagnostic text.
struct LdapAnswer {
  int code = -1;           // LDAP result code; 0 success, 49 invalid credentials, 50 insufficient access, -1 no server
  std::string diagnostic;  // e.g. "80090308: LdapErr: ..., data 533, v1db1"

  [[nodiscard]] bool ok() const { return code == 0; }
  // True if the diagnostic carries AD's "data <hex>" sub-code, e.g. HasData("533").
  [[nodiscard]] bool HasData(std::string_view sub_code) const;
  [[nodiscard]] std::string Describe() const;
};

struct UserState {
  std::string dn;
  std::string guid;  // objectGUID, "00112233-4455-6677-8899-aabbccddeeff" (first three groups little-endian)
  std::string sid;   // objectSid, "S-1-5-21-..."
  std::string upn;   // userPrincipalName, empty if none
  std::int64_t admin_count = 0;  // adminCount (1: protected by AdminSDHolder)
  std::int64_t user_account_control = 0;
  std::int64_t pwd_last_set = 0;
  std::int64_t uac_computed = 0;  // msDS-User-Account-Control-Computed (0x800000: password expired)
  std::int64_t lockout_time = 0;

  [[nodiscard]] bool disabled() const { return (user_account_control & 0x2) != 0; }
  [[nodiscard]] bool must_change_password() const { return pwd_last_set == 0; }
};

class AdProbe {
 public:
  // Binds as the lab's Administrator over LDAPS.
  [[nodiscard]] static Result<AdProbe> ConnectAsAdmin(const LabInfo& lab);

  AdProbe(AdProbe&&) noexcept;
  AdProbe& operator=(AdProbe&&) noexcept;
  ~AdProbe();

  [[nodiscard]] Result<UserState> ReadUser(std::string_view sam);
  // The DNs of user objects under `base` (subtree), e.g. to count OU members.
  [[nodiscard]] Result<std::vector<std::string>> UsersUnder(std::string_view base);
  // The `member` values of a group given by its DN.
  [[nodiscard]] Result<std::vector<std::string>> GroupMembers(std::string_view group_dn);
  // Enables the user, sets pwdLastSet to -1 and clears lockoutTime.
  [[nodiscard]] Status ResetUser(std::string_view sam);
  // Sets or clears ACCOUNTDISABLE directly (to prepare a test's starting state).
  [[nodiscard]] Status SetDisabled(std::string_view sam, bool disabled);
  // Renames a user as an administrator would: sAMAccountName, userPrincipalName
  // (new_sam@the domain) and displayName, and the RDN to CN=new_cn in the same
  // OU. The object (its objectGUID) stays the same.
  [[nodiscard]] Status RenameUser(std::string_view sam, std::string_view new_sam, std::string_view new_cn);
  // Adds a user CN=cn in `ou` with this sAMAccountName, UPN sam@the domain
  // and password, enabled or disabled.
  [[nodiscard]] Status AddUser(std::string_view ou, std::string_view cn, std::string_view sam,
                               const std::string& password, bool disabled);
  // Deletes the user with this sAMAccountName.
  [[nodiscard]] Status DeleteUser(std::string_view sam);

 private:
  struct Conn;
  explicit AdProbe(std::unique_ptr<Conn> conn);
  std::unique_ptr<Conn> conn_;
};

// Simple bind over `lab.ldaps_url` as `bind_name` (UPN or DN), verifying the
// DC with `ca_file` (empty: the lab CA); on success also reads the root DSE.
[[nodiscard]] LdapAnswer TryBind(const LabInfo& lab, std::string_view bind_name, const std::string& password,
                                 const std::string& ca_file = "");

// SASL GSSAPI bind to `lab.gssapi_url` with the action account's keytab
// (KRB5_CONFIG, KRB5_CLIENT_KTNAME and an in-memory ccache are set in this
// process), then a root DSE read.
[[nodiscard]] LdapAnswer TryGssapiBind(const LabInfo& lab);

// Binds as `bind_name` and replaces one attribute of `target_dn`.
[[nodiscard]] LdapAnswer ReplaceAs(const LabInfo& lab, std::string_view bind_name, const std::string& password,
                                   std::string_view target_dn, std::string_view attribute, std::string_view value);

// RFC 4515 escaping of a value for use in a search filter.
[[nodiscard]] std::string EscapeFilterValue(std::string_view value);

}  // namespace cordon::testing
