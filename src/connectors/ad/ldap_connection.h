// LdapConnection: one authenticated libldap session to a domain controller.
//
// Opening it applies Cordon's transport policy: LDAPv3, referral chasing off
// (AD answers subtree searches with referrals to other partitions), network
// and operation timeouts, TLS (ldaps:// or StartTLS) with certificate
// verification demanded against the configured CA file, set per connection
// (LDAP_OPT_X_TLS_CACERTFILE then LDAP_OPT_X_TLS_NEWCTX), then a simple bind
// with the action account's password (loaded from its file or environment
// variable for the bind and wiped right after) or a SASL GSSAPI bind.
//
// Every LDAP failure comes back as an Error classified by ClassifyLdapError
// with the DC's diagnostic text. After a result that means the connection is
// gone (IsConnectionLost), broken() is true and the owner opens a new one.
//
// Thread-safety: not thread-safe; one owner (one engine worker) at a time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <ldap.h>

#include "connectors/ad/ad_config.h"
#include "core/error.h"


namespace cordon::ad {

// Longest diagnostic text kept from the DC (untrusted input, bounded).
inline constexpr std::size_t kMaxDiagnosticBytes = 1024;

struct LdapEntry {
  std::string dn;
  // Attribute name in lower case -> raw values (binary-safe).
  std::map<std::string, std::vector<std::string>> attributes;

  // The first value of `attribute` (any case), or nullptr.
  [[nodiscard]] const std::string* First(std::string_view attribute) const;
};

struct LdapAnswer {
  int code = 0;            // LDAP result code; 0 = success
  std::string diagnostic;  // the DC's diagnostic message, bounded
};

struct SearchResult {
  std::vector<LdapEntry> entries;
  bool truncated = false;  // the size limit was reached
};

enum class ModOp { kAdd, kDelete, kReplace };

struct Modification {
  ModOp op = ModOp::kReplace;
  std::string attribute;
  std::vector<std::string> values;
};

class LdapConnection {
 public:
  // Connects, secures and binds. Errors carry the LDAP code and diagnostic.
  [[nodiscard]] static Result<std::unique_ptr<LdapConnection>> Open(const AdConfig& config);

  LdapConnection(const LdapConnection&) = delete;
  LdapConnection& operator=(const LdapConnection&) = delete;
  ~LdapConnection();

  // Subtree search under config.base_dn. size_limit 0 = the server's limit.
  [[nodiscard]] Result<SearchResult> Search(const std::string& filter, const std::vector<std::string>& attributes,
                                            int size_limit);

  // One synchronous modify; returns the DC's answer (code may be non-zero).
  // An Error only when the request could not be sent or answered at all.
  [[nodiscard]] Result<LdapAnswer> Modify(const std::string& dn, const std::vector<Modification>& mods);

  // Pipelining: send a modify now, collect its answer later with Await. Many
  // may be outstanding on the one connection.
  [[nodiscard]] Result<int> SendModify(const std::string& dn, const std::vector<Modification>& mods);
  [[nodiscard]] Result<LdapAnswer> Await(int message_id);

  [[nodiscard]] bool broken() const { return broken_; }

 private:
  struct SocketWatch;  // see ldap_connection.cpp: bounds the TLS handshake and bind
  LdapConnection(LDAP* ld, std::unique_ptr<SocketWatch> watch, const AdConfig& config);
  Error Failure(int code, std::string_view context);
  [[nodiscard]] std::string SessionDiagnostic();

  std::unique_ptr<SocketWatch> watch_;  // outlives ld_: libldap keeps a pointer to its callback
  LDAP* ld_;
  std::string base_dn_;
  int timeout_ms_;
  bool broken_ = false;
};

// Sets the process-wide Kerberos environment for bind_mode = "gssapi":
// KRB5_CLIENT_KTNAME (the keytab MIT Kerberos uses to get the action
// account's ticket without kinit), KRB5_CONFIG (when krb5_conf is set) and
// KRB5CCNAME (a private in-memory credential cache, so Cordon neither reads
// nor pollutes the user's ticket cache). These are environment variables of
// the whole process: call once at start-up, before worker threads exist, and
// only one Kerberos identity can be used per Cordon process.
void ConfigureKerberosEnvironment(const AdConfig& config);

}  // namespace cordon::ad
