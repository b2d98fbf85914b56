#include "connectors/ad/ldap_connection.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include <sasl/sasl.h>

#include "connectors/ad/ldap_error.h"
#include "core/secret.h"

namespace cordon::ad {
namespace {

timeval ToTimeval(int ms) {
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  return tv;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string Bounded(const char* text) {
  if (text == nullptr) return {};
  std::string_view v(text);
  return std::string(v.substr(0, kMaxDiagnosticBytes));
}

// Owns the LDAPMod array libldap wants, pointing into `mods`.
class ModArray {
 public:
  explicit ModArray(const std::vector<Modification>& mods) {
    storage_.reserve(mods.size());
    values_.reserve(mods.size());
    bervals_.reserve(mods.size());
    for (const Modification& m : mods) {
      auto& vals = values_.emplace_back();
      auto& ptrs = bervals_.emplace_back();
      vals.reserve(m.values.size());
      for (const std::string& v : m.values)
        vals.push_back(berval{static_cast<ber_len_t>(v.size()), const_cast<char*>(v.data())});
      for (berval& b : vals) ptrs.push_back(&b);
      ptrs.push_back(nullptr);
      LDAPMod mod{};
      mod.mod_op = LDAP_MOD_BVALUES | (m.op == ModOp::kAdd      ? LDAP_MOD_ADD
                                       : m.op == ModOp::kDelete ? LDAP_MOD_DELETE
                                                                : LDAP_MOD_REPLACE);
      mod.mod_type = const_cast<char*>(m.attribute.c_str());
      mod.mod_bvalues = ptrs.data();
      storage_.push_back(mod);
    }
    for (LDAPMod& m : storage_) pointers_.push_back(&m);
    pointers_.push_back(nullptr);
  }
  LDAPMod** get() { return pointers_.data(); }

 private:
  std::vector<LDAPMod> storage_;
  std::vector<std::vector<berval>> values_;
  std::vector<std::vector<berval*>> bervals_;
  std::vector<LDAPMod*> pointers_;
};

// GSSAPI needs no interaction: the identity comes from the client keytab.
// Any prompt (e.g. an authorization id) gets its default, or nothing.
int SaslInteract(LDAP*, unsigned, void*, void* prompts) {
  for (auto* p = static_cast<sasl_interact_t*>(prompts); p->id != SASL_CB_LIST_END; ++p) {
    const char* answer = p->defresult != nullptr ? p->defresult : "";
    p->result = answer;
    p->len = static_cast<unsigned>(std::strlen(answer));
  }
  return LDAP_SUCCESS;
}

// Whatever stops a connection from opening stops every action alike: the
// provider's problem (the engine pauses AD and probes it).
Error OpenFailure(LDAP* ld, int code, std::string_view context) {
  char* diag = nullptr;
  if (ld != nullptr) ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
  std::string text = Bounded(diag);
  if (diag != nullptr) ldap_memfree(diag);
  return ClassifyLdapError(code, text, context).BlameProvider();
}

std::atomic<uint64_t> next_serial{1};

// TLS 1.2: AD has offered it since Windows Server 2008 R2; older versions are
// broken.
constexpr int kTlsProtocolMin = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;

}  // namespace

// libldap's network timeout covers the TCP connect but neither the TLS
// handshake of ldaps:// nor StartTLS nor the bind: a DC that accepts
// connections but does not answer (hung, stopped with SIGSTOP, overloaded)
// would hold a worker forever — in a busy loop, for ldaps. SocketWatch learns
// the socket from libldap's connect callback and, if connection set-up is not
// done by the deadline, shuts the socket down, which makes the blocked call
// fail at once with "Can't contact LDAP server" (retryable).
struct LdapConnection::SocketWatch {
  ldap_conncb callback{};
  std::mutex mu;
  std::condition_variable cv;
  int fd = -1;
  bool armed = false;
  bool expired = false;

  SocketWatch() {
    callback.lc_add = &OnConnect;
    callback.lc_del = &OnDisconnect;
    callback.lc_arg = this;
  }

  static int OnConnect(LDAP*, Sockbuf* sb, LDAPURLDesc*, sockaddr*, ldap_conncb* ctx) {
    auto* self = static_cast<SocketWatch*>(ctx->lc_arg);
    ber_socket_t fd = -1;
    ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd);
    std::lock_guard lock(self->mu);
    self->fd = fd;
    if (self->expired && fd >= 0) ::shutdown(fd, SHUT_RDWR);
    return 0;
  }
  static void OnDisconnect(LDAP*, Sockbuf*, ldap_conncb* ctx) {
    auto* self = static_cast<SocketWatch*>(ctx->lc_arg);
    std::lock_guard lock(self->mu);
    self->fd = -1;
  }

  // Runs `work` with the deadline armed; a helper thread fires it.
  template <typename F>
  auto Bounded(std::chrono::milliseconds limit, F work) {
    {
      std::lock_guard lock(mu);
      armed = true;
      expired = false;
    }
    std::thread timer([this, limit] {
      std::unique_lock lock(mu);
      if (!cv.wait_for(lock, limit, [this] { return !armed; })) {
        expired = true;
        if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
      }
    });
    auto result = work();
    {
      std::lock_guard lock(mu);
      armed = false;
    }
    cv.notify_all();
    timer.join();
    return result;
  }
};

LdapConnection::LdapConnection(LDAP* ld, std::unique_ptr<SocketWatch> watch, const AdConfig& config)
    : watch_(std::move(watch)),
      ld_(ld),
      base_dn_(config.base_dn),
      timeout_ms_(config.timeout_ms),
      serial_(next_serial.fetch_add(1)) {}

int LdapConnection::TimeoutMs() const {
  if (deadline_ == TimePoint{}) return timeout_ms_;
  const auto left = std::chrono::duration_cast<Millis>(deadline_ - Now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 1, timeout_ms_));
}

const std::string* LdapEntry::First(std::string_view attribute) const {
  auto it = attributes.find(Lower(attribute));
  if (it == attributes.end() || it->second.empty()) return nullptr;
  return &it->second.front();
}

Result<std::unique_ptr<LdapConnection>> LdapConnection::Open(const AdConfig& config, const Secret& password,
                                                             TimePoint deadline) {
  auto watch = std::make_unique<SocketWatch>();
  LDAP* raw = nullptr;
  int rc = ldap_initialize(&raw, config.url.c_str());
  if (rc != LDAP_SUCCESS) return Fail(ClassifyLdapError(rc, "", "connect to " + config.url).BlameProvider());
  std::unique_ptr<LDAP, void (*)(LDAP*)> ld(raw, [](LDAP* l) { ldap_unbind_ext_s(l, nullptr, nullptr); });
  if ((rc = ldap_set_option(ld.get(), LDAP_OPT_CONNECT_CB, &watch->callback)) != LDAP_OPT_SUCCESS)
    return Fail(OpenFailure(ld.get(), rc, "set the connect callback"));
  // Connection set-up (TCP, TLS, bind) gets the configured timeout twice over
  // (one for the network, one for the DC's answer), and no more than the
  // caller's deadline leaves.
  Millis setup(2 * static_cast<int64_t>(config.timeout_ms));
  if (deadline != TimePoint{})
    setup = std::clamp(std::chrono::duration_cast<Millis>(deadline - Now()), Millis(1), setup);
  const int op_timeout_ms = static_cast<int>(std::min<int64_t>(config.timeout_ms, setup.count()));
  return watch->Bounded(setup, [&]() -> Result<std::unique_ptr<LdapConnection>> {
  auto fail = [&](int code, std::string_view what) {
    return Fail(OpenFailure(ld.get(), code, what));
  };

  int version = LDAP_VERSION3;
  timeval network = ToTimeval(op_timeout_ms);
  timeval operation = ToTimeval(op_timeout_ms);
  if ((rc = ldap_set_option(ld.get(), LDAP_OPT_PROTOCOL_VERSION, &version)) != LDAP_OPT_SUCCESS ||
      (rc = ldap_set_option(ld.get(), LDAP_OPT_REFERRALS, LDAP_OPT_OFF)) != LDAP_OPT_SUCCESS ||
      (rc = ldap_set_option(ld.get(), LDAP_OPT_NETWORK_TIMEOUT, &network)) != LDAP_OPT_SUCCESS ||
      (rc = ldap_set_option(ld.get(), LDAP_OPT_TIMEOUT, &operation)) != LDAP_OPT_SUCCESS)
    return fail(rc, "set LDAP options");
  if (config.UsesTls()) {
    // Every TLS option a process-wide default could have set (ldap.conf, an
    // ldaprc, LDAPTLS_* variables, an earlier caller in this process) is set
    // again here: trust exactly ca_file, verify the certificate and the host
    // name always, present no client certificate, pin nothing, and use the
    // library's own cipher defaults.
    int demand = LDAP_OPT_X_TLS_DEMAND;
    int protocol_min = kTlsProtocolMin;
    int new_ctx = 0;
    if ((rc = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_REQUIRE_CERT, &demand)) != LDAP_OPT_SUCCESS ||
        (rc = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_CACERTFILE, config.ca_file.c_str())) != LDAP_OPT_SUCCESS ||
        (rc = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_CACERTDIR, nullptr)) != LDAP_OPT_SUCCESS ||
        (rc = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_CERTFILE, nullptr)) != LDAP_OPT_SUCCESS ||
        (rc = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_KEYFILE, nullptr)) != LDAP_OPT_SUCCESS ||
        (rc = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_CIPHER_SUITE, nullptr)) != LDAP_OPT_SUCCESS ||
        (rc = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_PEERKEY_HASH, nullptr)) != LDAP_OPT_SUCCESS ||
        (rc = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_PROTOCOL_MIN, &protocol_min)) != LDAP_OPT_SUCCESS)
      return fail(rc, "set TLS options (CA file " + config.ca_file + ")");
    // The TLS context must be rebuilt for this handle, or the options set
    // above are ignored in favour of the process-wide default context.
    if ((rc = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_NEWCTX, &new_ctx)) != LDAP_OPT_SUCCESS)
      return fail(rc, "create TLS context");
  }

  if (config.start_tls) {
    rc = ldap_start_tls_s(ld.get(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) return fail(rc, "StartTLS with " + config.url);
  }

  if (config.bind_mode == BindMode::kSimple) {
    berval cred{static_cast<ber_len_t>(password.Reveal().size()), const_cast<char*>(password.Reveal().data())};
    rc = ldap_sasl_bind_s(ld.get(), config.bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) return fail(rc, "bind as " + config.bind_dn + " to " + config.url);
  } else {
    // Without TLS the SASL layer must encrypt; over TLS no second layer is
    // negotiated (AD refuses sign/seal inside TLS).
    const char* secprops = config.UsesTls() ? "maxssf=0" : "minssf=56";
    if ((rc = ldap_set_option(ld.get(), LDAP_OPT_X_SASL_SECPROPS, secprops)) != LDAP_OPT_SUCCESS)
      return fail(rc, "set SASL security properties");
    // Ask for a ticket to ldap/<the host in url>, not to whatever reverse DNS
    // makes of it: the SPN the operator configured is the one to trust.
    if ((rc = ldap_set_option(ld.get(), LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON)) != LDAP_OPT_SUCCESS)
      return fail(rc, "set SASL no-canonicalisation");
    rc = ldap_sasl_interactive_bind_s(ld.get(), nullptr, "GSSAPI", nullptr, nullptr, LDAP_SASL_QUIET, SaslInteract,
                                      nullptr);
    if (rc != LDAP_SUCCESS) return fail(rc, "GSSAPI bind as " + config.principal + " to " + config.url);
    // The keytab decides who we are; make sure it is the configured account.
    char* who = nullptr;
    ldap_get_option(ld.get(), LDAP_OPT_X_SASL_USERNAME, &who);
    std::string bound = who != nullptr ? Bounded(who) : "";
    if (who != nullptr) ldap_memfree(who);
    if (!bound.empty() && Lower(bound) != Lower(config.principal))
      return Fail(Error::Unauthenticated("the keytab " + config.keytab + " authenticated as " + bound +
                                         ", not as the configured principal " + config.principal)
                      .BlameProvider());
  }
  return std::unique_ptr<LdapConnection>(new LdapConnection(ld.release(), std::move(watch), config));
  });
}

LdapConnection::~LdapConnection() {
  if (ld_ != nullptr) ldap_unbind_ext_s(ld_, nullptr, nullptr);
}

std::string LdapConnection::SessionDiagnostic() {
  char* diag = nullptr;
  ldap_get_option(ld_, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
  std::string text = Bounded(diag);
  if (diag != nullptr) ldap_memfree(diag);
  return text;
}

Error LdapConnection::Failure(int code, std::string_view context) {
  if (IsConnectionLost(code)) broken_ = true;
  return ClassifyLdapError(code, SessionDiagnostic(), context);
}

Result<SearchResult> LdapConnection::Search(const std::string& filter, const std::vector<std::string>& attributes,
                                            int size_limit) {
  std::vector<char*> attrs;
  for (const std::string& a : attributes) attrs.push_back(const_cast<char*>(a.c_str()));
  attrs.push_back(nullptr);
  timeval timeout = ToTimeval(TimeoutMs());
  LDAPMessage* raw = nullptr;
  int rc = ldap_search_ext_s(ld_, base_dn_.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), attrs.data(), 0, nullptr,
                             nullptr, &timeout, size_limit, &raw);
  std::unique_ptr<LDAPMessage, int (*)(LDAPMessage*)> res(raw, ldap_msgfree);
  if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) return Fail(Failure(rc, "search " + base_dn_));

  SearchResult out;
  out.truncated = rc == LDAP_SIZELIMIT_EXCEEDED;
  out.entries = EntriesOf(res.get());
  return out;
}

std::vector<LdapEntry> LdapConnection::EntriesOf(LDAPMessage* answer) {
  std::vector<LdapEntry> entries;
  for (LDAPMessage* e = ldap_first_entry(ld_, answer); e != nullptr; e = ldap_next_entry(ld_, e)) {
    LdapEntry entry;
    if (char* dn = ldap_get_dn(ld_, e)) {
      entry.dn = dn;
      ldap_memfree(dn);
    }
    BerElement* ber = nullptr;
    for (char* a = ldap_first_attribute(ld_, e, &ber); a != nullptr; a = ldap_next_attribute(ld_, e, ber)) {
      auto& values = entry.attributes[Lower(a)];
      if (berval** vals = ldap_get_values_len(ld_, e, a)) {
        for (berval** v = vals; *v != nullptr; ++v) values.emplace_back((*v)->bv_val, (*v)->bv_len);
        ldap_value_free_len(vals);
      }
      ldap_memfree(a);
    }
    if (ber != nullptr) ber_free(ber, 0);
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<SearchPage> LdapConnection::SearchPaged(const std::string& filter, const std::vector<std::string>& attributes,
                                               int page_size, const std::string& cookie) {
  std::vector<char*> attrs;
  for (const std::string& a : attributes) attrs.push_back(const_cast<char*>(a.c_str()));
  attrs.push_back(nullptr);
  berval given{static_cast<ber_len_t>(cookie.size()), const_cast<char*>(cookie.data())};
  LDAPControl* raw_control = nullptr;
  int rc = ldap_create_page_control(ld_, static_cast<ber_int_t>(page_size), cookie.empty() ? nullptr : &given,
                                    /*iscritical=*/1, &raw_control);
  if (rc != LDAP_SUCCESS) return Fail(Failure(rc, "create the paged results control"));
  std::unique_ptr<LDAPControl, void (*)(LDAPControl*)> control(raw_control, ldap_control_free);
  LDAPControl* server_controls[] = {control.get(), nullptr};
  timeval timeout = ToTimeval(TimeoutMs());
  LDAPMessage* raw = nullptr;
  rc = ldap_search_ext_s(ld_, base_dn_.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), attrs.data(), 0, server_controls,
                         nullptr, &timeout, 0, &raw);
  std::unique_ptr<LDAPMessage, int (*)(LDAPMessage*)> res(raw, ldap_msgfree);
  // A size limit is an error here: a listing cut short must not pass for whole.
  if (rc != LDAP_SUCCESS) return Fail(Failure(rc, "paged search " + base_dn_));

  SearchPage out;
  out.entries = EntriesOf(res.get());
  // The result code is the search's (rc above); only the controls are read here.
  LDAPControl** raw_returned = nullptr;
  rc = ldap_parse_result(ld_, res.get(), nullptr, nullptr, nullptr, nullptr, &raw_returned, 0);
  std::unique_ptr<LDAPControl*, void (*)(LDAPControl**)> returned(raw_returned, ldap_controls_free);
  if (rc != LDAP_SUCCESS) return Fail(Failure(rc, "read the paged search's result"));
  LDAPControl* response = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, returned.get(), nullptr);
  if (response == nullptr)
    return Fail(ClassifyLdapError(LDAP_PROTOCOL_ERROR, "no paged results control in the answer",
                                  "paged search " + base_dn_));
  berval next{0, nullptr};
  rc = ldap_parse_pageresponse_control(ld_, response, nullptr, &next);
  if (rc != LDAP_SUCCESS) return Fail(Failure(rc, "read the paged results control"));
  if (next.bv_val != nullptr) {
    out.cookie.assign(next.bv_val, next.bv_len);
    ber_memfree(next.bv_val);
  }
  return out;
}

Result<int> LdapConnection::SendModify(const std::string& dn, const std::vector<Modification>& mods) {
  ModArray array(mods);
  int message_id = 0;
  int rc = ldap_modify_ext(ld_, dn.c_str(), array.get(), nullptr, nullptr, &message_id);
  if (rc != LDAP_SUCCESS) return Fail(Failure(rc, "modify " + dn));
  return message_id;
}

Result<LdapAnswer> LdapConnection::Await(int message_id) {
  timeval timeout = ToTimeval(TimeoutMs());
  LDAPMessage* raw = nullptr;
  int type = ldap_result(ld_, message_id, LDAP_MSG_ALL, &timeout, &raw);
  std::unique_ptr<LDAPMessage, int (*)(LDAPMessage*)> res(raw, ldap_msgfree);
  if (type == 0) {
    // The answer may still arrive and would be read as another request's:
    // the session can no longer be trusted.
    ldap_abandon_ext(ld_, message_id, nullptr, nullptr);
    broken_ = true;
    return Fail(ClassifyLdapError(LDAP_TIMEOUT, "", "waiting for the DC's answer"));
  }
  if (type < 0) {
    int code = LDAP_OTHER;
    ldap_get_option(ld_, LDAP_OPT_RESULT_CODE, &code);
    return Fail(Failure(code, "waiting for the DC's answer"));
  }
  int code = LDAP_OTHER;
  char* diag = nullptr;
  int rc = ldap_parse_result(ld_, res.get(), &code, nullptr, &diag, nullptr, nullptr, 0);
  LdapAnswer answer{code, Bounded(diag)};
  if (diag != nullptr) ldap_memfree(diag);
  if (rc != LDAP_SUCCESS) return Fail(Failure(rc, "reading the DC's answer"));
  return answer;
}

Result<LdapAnswer> LdapConnection::Modify(const std::string& dn, const std::vector<Modification>& mods) {
  auto id = SendModify(dn, mods);
  if (!id) return Fail(id.error());
  return Await(*id);
}

Status LdapConnection::ReadRootDse() {
  char no_attributes[] = "1.1";
  char* attrs[] = {no_attributes, nullptr};
  timeval timeout = ToTimeval(TimeoutMs());
  LDAPMessage* raw = nullptr;
  int rc = ldap_search_ext_s(ld_, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, nullptr, nullptr, &timeout, 1,
                             &raw);
  std::unique_ptr<LDAPMessage, int (*)(LDAPMessage*)> res(raw, ldap_msgfree);
  if (rc != LDAP_SUCCESS) return Fail(Failure(rc, "read the root DSE"));
  return {};
}

void IgnoreLdapClientConfiguration() { setenv("LDAPNOINIT", "1", 1); }

void ConfigureKerberosEnvironment(const AdConfig& config) {
  if (config.bind_mode != BindMode::kGssapi) return;
  setenv("KRB5_CLIENT_KTNAME", config.keytab.c_str(), 1);
  if (!config.krb5_conf.empty()) setenv("KRB5_CONFIG", config.krb5_conf.c_str(), 1);
  setenv("KRB5CCNAME", "MEMORY:cordon-ad", 1);
}

}  // namespace cordon::ad
