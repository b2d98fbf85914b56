// LabInfo: what a test knows about the lab's domain controller, read from the
// lab.json that `cordon lab up` writes (src/lab/README.md describes it).
//
// Tests that need the DC declare ${CORDON_LAB_TEST_PROPERTIES} (ctest fixture
// "lab" + lock "dc") and call TheLab().
//
// Thread-safety: LoadLabInfo() and ReadSecretFile() are reentrant; TheLab()
// loads once (thread-safe static) and then hands out a const object.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace cordon::testing {

struct LabAccount {
  std::string sam;
  std::string bind_dn;        // UPN form, usable as a simple-bind name
  std::string password_file;  // no trailing newline
  std::string keytab;         // action account only
  std::string principal;      // action account only
};

// Staff users (in OU=Staff, within the delegation) on which a forced password
// reset forces nothing; they are not in LabInfo::staff_users.
struct LabSpecialUsers {
  std::string password_never_expires;  // userAccountControl 0x10200
  std::string smartcard_required;      // userAccountControl 0x40200
};

// The Okta emulator `cordon lab up` started (lab.json's `okta`).
struct LabOkta {
  std::string url, ca_file, token_file, client_id, private_key_file;
};

// The Graph emulator `cordon lab up` started (lab.json's `entra`).
struct LabEntra {
  std::string authority, graph_url, tenant, client_id, client_secret_file, certificate_file, private_key_file,
      ca_file;
};

struct LabInfo {
  std::string dir;  // the folder lab.json was read from
  std::string realm, domain, base_dn, dc_host;
  std::string ldaps_url, ldap_url, gssapi_url;
  std::string ca_file, krb5_conf;
  LabAccount admin;
  LabAccount action_account;
  std::string user_password_file;
  std::string staff_ou;
  std::vector<std::string> staff_users;
  LabSpecialUsers special_users;
  std::string bulk_ou;
  std::string bulk_prefix = "bulk";
  int bulk_count = 0;
  int bulk_digits = 4;
  std::string other_ou;
  std::vector<std::string> other_users;
  std::vector<std::string> domain_admins;
  LabOkta okta;    // empty strings when lab.json has no `okta`
  LabEntra entra;  // empty strings when lab.json has no `entra`

  // The i-th bulk user, 1-based: BulkUser(1) == "bulk0001".
  [[nodiscard]] std::string BulkUser(int i) const;
  // "alice.adams" -> "alice.adams@corp.example.test"
  [[nodiscard]] std::string Upn(std::string_view sam) const;
};

[[nodiscard]] Result<LabInfo> LoadLabInfo(const std::string& path);

// The lab of this build (${CORDON_LAB_DIR}/lab.json), loaded once. Throws
// std::runtime_error with a clear message if the lab is not up, which fails
// the calling test with that message.
const LabInfo& TheLab();

// The secret in `path` (first line, without the newline). Throws
// std::runtime_error naming the file (never the content) if it is unreadable.
std::string ReadSecretFile(const std::string& path);

// BulkUser(i) of the default lab layout (prefix "bulk", 4 digits).
std::string BulkUser(int i);

}  // namespace cordon::testing
