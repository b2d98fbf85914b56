// LdapConnection: one authenticated libldap session to a domain controller.
//
// Opening it applies Cordon's transport policy: LDAPv3, referral chasing off
// (AD answers subtree searches with referrals to other partitions), network
// and operation timeouts, TLS (ldaps:// or StartTLS) with certificate and
// host name verification demanded against the configured CA file and nothing
// else: every TLS option that ldap.conf, an ldaprc or an LDAPTLS_* variable
// could have set for the process is set again for this connection
// (then LDAP_OPT_X_TLS_NEWCTX), and LoadAdConnector stops libldap from reading
// those at all (LDAPNOINIT). Then a simple bind with the action account's
// password (handed in by the caller, from the provider's credential cache) or
// a SASL GSSAPI bind.
//
// Every operation is bounded by the configured timeout and by the deadline
// the caller sets (the engine's lease on the work), whichever comes first.
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
#include "core/action.h"
#include "core/error.h"
#include "core/secret.h"


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

// One page of a paged search (RFC 2696).
struct SearchPage {
  std::vector<LdapEntry> entries;
  std::string cookie;  // for the next page; empty: this was the last
};

enum class ModOp { kAdd, kDelete, kReplace };

struct Modification {
  ModOp op = ModOp::kReplace;
  std::string attribute;
  std::vector<std::string> values;
};

class LdapConnection {
 public:
  // Connects, secures and binds (simple bind with `password`; GSSAPI ignores
  // it), all by `deadline` (epoch: twice the configured timeout). Errors
  // carry the LDAP code and diagnostic, and are the provider's (Blame): a DC
  // that cannot be reached or refuses the action account fails every action
  // alike.
  [[nodiscard]] static Result<std::unique_ptr<LdapConnection>> Open(const AdConfig& config, const Secret& password,
                                                                    TimePoint deadline);

  LdapConnection(const LdapConnection&) = delete;
  LdapConnection& operator=(const LdapConnection&) = delete;
  ~LdapConnection();

  // Subtree search under config.base_dn. size_limit 0 = the server's limit.
  [[nodiscard]] Result<SearchResult> Search(const std::string& filter, const std::vector<std::string>& attributes,
                                            int size_limit);

  // One page of a subtree search under config.base_dn with the simple paged
  // results control (RFC 2696), marked critical: a DC that cannot page
  // refuses instead of answering part of the list. `cookie`: empty for the
  // first page, then the one the previous page returned, on this same
  // connection (the DC keeps the search's state per connection).
  [[nodiscard]] Result<SearchPage> SearchPaged(const std::string& filter, const std::vector<std::string>& attributes,
                                               int page_size, const std::string& cookie);

  // One synchronous modify; returns the DC's answer (code may be non-zero).
  // An Error only when the request could not be sent or answered at all.
  [[nodiscard]] Result<LdapAnswer> Modify(const std::string& dn, const std::vector<Modification>& mods);

  // Pipelining: send a modify now, collect its answer later with Await. Many
  // may be outstanding on the one connection.
  [[nodiscard]] Result<int> SendModify(const std::string& dn, const std::vector<Modification>& mods);
  [[nodiscard]] Result<LdapAnswer> Await(int message_id);

  // Reads the root DSE: the cheapest question that proves the DC answers on
  // this connection.
  [[nodiscard]] Status ReadRootDse();

  // Later operations end by `deadline` at the latest (epoch: no deadline).
  void set_deadline(TimePoint deadline) { deadline_ = deadline; }
  [[nodiscard]] bool broken() const { return broken_; }
  // Unique per connection opened by this process: a message id means
  // something only on the connection that sent it.
  [[nodiscard]] uint64_t serial() const { return serial_; }

 private:
  struct SocketWatch;  // see ldap_connection.cpp: bounds the TLS handshake and bind
  LdapConnection(LDAP* ld, std::unique_ptr<SocketWatch> watch, const AdConfig& config);
  Error Failure(int code, std::string_view context);
  [[nodiscard]] std::string SessionDiagnostic();
  // The entries of a search's answer, attributes by lower-cased name.
  [[nodiscard]] std::vector<LdapEntry> EntriesOf(LDAPMessage* answer);
  // This operation's time limit: the configured timeout, cut by the deadline.
  [[nodiscard]] int TimeoutMs() const;

  std::unique_ptr<SocketWatch> watch_;  // outlives ld_: libldap keeps a pointer to its callback
  LDAP* ld_;
  std::string base_dn_;
  int timeout_ms_;
  TimePoint deadline_{};
  bool broken_ = false;
  uint64_t serial_;
};

// Stops libldap from reading ldap.conf, ~/.ldaprc, ./ldaprc and the LDAP*
// environment variables (LDAPNOINIT), so that only Cordon's config decides
// how it connects. Process-wide, and it must come before the first libldap
// call of the process: call once at start-up, before worker threads exist.
void IgnoreLdapClientConfiguration();

// Sets the process-wide Kerberos environment for bind_mode = "gssapi":
// KRB5_CLIENT_KTNAME (the keytab MIT Kerberos uses to get the action
// account's ticket without kinit), KRB5_CONFIG (when krb5_conf is set) and
// KRB5CCNAME (a private in-memory credential cache, so Cordon neither reads
// nor pollutes the user's ticket cache). These are environment variables of
// the whole process: call once at start-up, before worker threads exist, and
// only one Kerberos identity can be used per Cordon process.
void ConfigureKerberosEnvironment(const AdConfig& config);

}  // namespace cordon::ad
