#include "support/ad_probe.h"

#include <array>
#include <cstdlib>
#include <cstring>

#include <ldap.h>
#include <sasl/sasl.h>

namespace cordon::testing {
namespace {

struct LdapDeleter {
  void operator()(LDAP* ld) const {
    if (ld != nullptr) ldap_unbind_ext_s(ld, nullptr, nullptr);
  }
};
using LdapPtr = std::unique_ptr<LDAP, LdapDeleter>;

struct MessageDeleter {
  void operator()(LDAPMessage* m) const {
    if (m != nullptr) ldap_msgfree(m);
  }
};
using MessagePtr = std::unique_ptr<LDAPMessage, MessageDeleter>;

LdapAnswer AnswerOf(LDAP* ld, int code) {
  LdapAnswer a;
  a.code = code;
  char* diag = nullptr;
  if (ld != nullptr && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS && diag != nullptr) {
    a.diagnostic = diag;
    ldap_memfree(diag);
  }
  if (a.diagnostic.empty() && code != 0) a.diagnostic = ldap_err2string(code);
  return a;
}

// A handle that verifies the DC with `ca_file`; nothing is sent yet.
Result<LdapPtr> Open(const std::string& url, const std::string& ca_file) {
  LDAP* raw = nullptr;
  if (ldap_initialize(&raw, url.c_str()) != LDAP_SUCCESS) return Fail(Error::InvalidArgument("bad LDAP URL " + url));
  LdapPtr ld(raw);
  const int version = LDAP_VERSION3;
  ldap_set_option(ld.get(), LDAP_OPT_PROTOCOL_VERSION, &version);
  ldap_set_option(ld.get(), LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
  timeval tv{10, 0};
  ldap_set_option(ld.get(), LDAP_OPT_NETWORK_TIMEOUT, &tv);
  ldap_set_option(ld.get(), LDAP_OPT_TIMEOUT, &tv);
  const int demand = LDAP_OPT_X_TLS_DEMAND;
  ldap_set_option(ld.get(), LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
  if (!ca_file.empty()) ldap_set_option(ld.get(), LDAP_OPT_X_TLS_CACERTFILE, ca_file.c_str());
  const int is_server = 0;
  ldap_set_option(ld.get(), LDAP_OPT_X_TLS_NEWCTX, &is_server);
  return ld;
}

int SimpleBind(LDAP* ld, std::string_view name, const std::string& password) {
  berval cred{};
  cred.bv_val = const_cast<char*>(password.data());
  cred.bv_len = password.size();
  const std::string who(name);
  return ldap_sasl_bind_s(ld, who.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
}

int ReadRootDse(LDAP* ld) {
  LDAPMessage* res = nullptr;
  char attr[] = "dnsHostName";
  char* attrs[] = {attr, nullptr};
  const int rc = ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, nullptr, nullptr, nullptr, 1, &res);
  MessagePtr hold(res);
  return rc;
}

int SaslDefaults(LDAP*, unsigned, void*, void* in) {
  for (auto* interact = static_cast<sasl_interact_t*>(in); interact->id != SASL_CB_LIST_END; ++interact) {
    interact->result = interact->defresult != nullptr ? interact->defresult : "";
    interact->len = static_cast<unsigned>(std::strlen(static_cast<const char*>(interact->result)));
  }
  return LDAP_SUCCESS;
}

// AD's objectGUID bytes as text: the first three groups are little-endian.
std::string GuidText(LDAP* ld, LDAPMessage* entry) {
  berval** vals = ldap_get_values_len(ld, entry, "objectGUID");
  if (vals == nullptr) return {};
  std::string out;
  if (vals[0] != nullptr && vals[0]->bv_len == 16) {
    const auto* b = reinterpret_cast<const unsigned char*>(vals[0]->bv_val);
    static constexpr int kOrder[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
      out += kHex[b[kOrder[i]] >> 4];
      out += kHex[b[kOrder[i]] & 0xf];
    }
  }
  ldap_value_free_len(vals);
  return out;
}

// A binary objectSid (MS-DTYP 2.4.2.2) as "S-1-5-21-...": revision, the
// 48-bit big-endian authority, then little-endian 32-bit sub-authorities.
std::string SidText(LDAP* ld, LDAPMessage* entry) {
  berval** vals = ldap_get_values_len(ld, entry, "objectSid");
  if (vals == nullptr) return {};
  std::string out;
  if (vals[0] != nullptr && vals[0]->bv_len >= 8) {
    const auto* b = reinterpret_cast<const unsigned char*>(vals[0]->bv_val);
    const std::size_t count = b[1];
    if (vals[0]->bv_len == 8 + 4 * count) {
      std::uint64_t authority = 0;
      for (int i = 2; i < 8; ++i) authority = (authority << 8) | b[i];
      out = "S-" + std::to_string(b[0]) + "-" + std::to_string(authority);
      for (std::size_t k = 0; k < count; ++k) {
        const unsigned char* p = b + 8 + 4 * k;
        out += "-" + std::to_string(std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
                                    std::uint32_t{p[3]} << 24);
      }
    }
  }
  ldap_value_free_len(vals);
  return out;
}

// unicodePwd wants the password in double quotes, in UTF-16LE.
std::string UnicodePwd(const std::string& password) {
  std::string out;
  for (char c : "\"" + password + "\"") {
    out += c;
    out += '\0';
  }
  return out;
}

std::int64_t FirstInt(LDAP* ld, LDAPMessage* entry, const char* attr) {
  berval** vals = ldap_get_values_len(ld, entry, attr);
  if (vals == nullptr) return 0;
  std::int64_t v = 0;
  if (vals[0] != nullptr) v = std::strtoll(std::string(vals[0]->bv_val, vals[0]->bv_len).c_str(), nullptr, 10);
  ldap_value_free_len(vals);
  return v;
}

std::vector<std::string> AllValues(LDAP* ld, LDAPMessage* entry, const char* attr) {
  std::vector<std::string> out;
  berval** vals = ldap_get_values_len(ld, entry, attr);
  if (vals == nullptr) return out;
  for (int i = 0; vals[i] != nullptr; ++i) out.emplace_back(vals[i]->bv_val, vals[i]->bv_len);
  ldap_value_free_len(vals);
  return out;
}

Error LdapError(std::string_view what, LDAP* ld, int rc) {
  const LdapAnswer a = AnswerOf(ld, rc);
  return Error::Internal(std::string(what) + ": " + a.Describe());
}

int Replace(LDAP* ld, const std::string& dn, std::vector<std::pair<std::string, std::string>> changes) {
  std::vector<LDAPMod> mods(changes.size());
  std::vector<std::array<char*, 2>> values(changes.size());
  std::vector<LDAPMod*> list;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    values[i] = {changes[i].second.data(), nullptr};
    mods[i].mod_op = LDAP_MOD_REPLACE;
    mods[i].mod_type = changes[i].first.data();
    mods[i].mod_values = values[i].data();
    list.push_back(&mods[i]);
  }
  list.push_back(nullptr);
  return ldap_modify_ext_s(ld, dn.c_str(), list.data(), nullptr, nullptr);
}

}  // namespace

bool LdapAnswer::HasData(std::string_view sub_code) const {
  return diagnostic.find("data " + std::string(sub_code)) != std::string::npos;
}

std::string LdapAnswer::Describe() const {
  return "LDAP " + std::to_string(code) + " (" + ldap_err2string(code) + "): " + diagnostic;
}

std::string EscapeFilterValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : value) {
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0' || c >= 0x80) {
      out += '\\';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

struct AdProbe::Conn {
  LdapPtr ld;
  std::string base_dn;
  std::string upn_domain;  // "corp.example.test"
};

AdProbe::AdProbe(std::unique_ptr<Conn> conn) : conn_(std::move(conn)) {}
AdProbe::AdProbe(AdProbe&&) noexcept = default;
AdProbe& AdProbe::operator=(AdProbe&&) noexcept = default;
AdProbe::~AdProbe() = default;

Result<AdProbe> AdProbe::ConnectAsAdmin(const LabInfo& lab) {
  auto ld = Open(lab.ldaps_url, lab.ca_file);
  if (!ld) return Fail(ld.error());
  const std::string password = ReadSecretFile(lab.admin.password_file);
  if (const int rc = SimpleBind(ld->get(), lab.admin.bind_dn, password); rc != LDAP_SUCCESS)
    return Fail(LdapError("bind as " + lab.admin.bind_dn, ld->get(), rc));
  auto conn = std::make_unique<Conn>();
  conn->ld = std::move(*ld);
  conn->base_dn = lab.base_dn;
  conn->upn_domain = lab.Upn("").substr(1);
  return AdProbe(std::move(conn));
}

Result<UserState> AdProbe::ReadUser(std::string_view sam) {
  const std::string filter = "(&(objectClass=user)(sAMAccountName=" + EscapeFilterValue(sam) + "))";
  char a1[] = "userAccountControl", a2[] = "pwdLastSet", a3[] = "msDS-User-Account-Control-Computed",
       a4[] = "lockoutTime", a5[] = "objectGUID", a6[] = "objectSid", a7[] = "userPrincipalName", a8[] = "adminCount";
  char* attrs[] = {a1, a2, a3, a4, a5, a6, a7, a8, nullptr};
  LDAPMessage* raw = nullptr;
  const int rc = ldap_search_ext_s(conn_->ld.get(), conn_->base_dn.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), attrs,
                                   0, nullptr, nullptr, nullptr, 2, &raw);
  MessagePtr res(raw);
  if (rc != LDAP_SUCCESS) return Fail(LdapError("search for " + std::string(sam), conn_->ld.get(), rc));
  LDAPMessage* entry = ldap_first_entry(conn_->ld.get(), res.get());
  if (entry == nullptr) return Fail(Error::NotFound("no user " + std::string(sam)));
  UserState st;
  char* dn = ldap_get_dn(conn_->ld.get(), entry);
  if (dn != nullptr) {
    st.dn = dn;
    ldap_memfree(dn);
  }
  st.user_account_control = FirstInt(conn_->ld.get(), entry, a1);
  st.pwd_last_set = FirstInt(conn_->ld.get(), entry, a2);
  st.uac_computed = FirstInt(conn_->ld.get(), entry, a3);
  st.lockout_time = FirstInt(conn_->ld.get(), entry, a4);
  st.guid = GuidText(conn_->ld.get(), entry);
  st.sid = SidText(conn_->ld.get(), entry);
  const auto upn = AllValues(conn_->ld.get(), entry, a7);
  if (!upn.empty()) st.upn = upn.front();
  st.admin_count = FirstInt(conn_->ld.get(), entry, a8);
  return st;
}

Result<std::vector<std::string>> AdProbe::UsersUnder(std::string_view base) {
  char a1[] = "1.1";
  char* attrs[] = {a1, nullptr};
  LDAPMessage* raw = nullptr;
  const std::string b(base);
  const int rc = ldap_search_ext_s(conn_->ld.get(), b.c_str(), LDAP_SCOPE_SUBTREE,
                                   "(&(objectClass=user)(!(objectClass=computer)))", attrs, 0, nullptr, nullptr,
                                   nullptr, 0, &raw);
  MessagePtr res(raw);
  if (rc != LDAP_SUCCESS) return Fail(LdapError("search under " + b, conn_->ld.get(), rc));
  std::vector<std::string> dns;
  for (LDAPMessage* e = ldap_first_entry(conn_->ld.get(), res.get()); e != nullptr;
       e = ldap_next_entry(conn_->ld.get(), e)) {
    char* dn = ldap_get_dn(conn_->ld.get(), e);
    if (dn != nullptr) {
      dns.emplace_back(dn);
      ldap_memfree(dn);
    }
  }
  return dns;
}

Result<std::vector<std::string>> AdProbe::GroupMembers(std::string_view group_dn) {
  char a1[] = "member";
  char* attrs[] = {a1, nullptr};
  LDAPMessage* raw = nullptr;
  const std::string b(group_dn);
  const int rc = ldap_search_ext_s(conn_->ld.get(), b.c_str(), LDAP_SCOPE_BASE, "(objectClass=group)", attrs, 0,
                                   nullptr, nullptr, nullptr, 1, &raw);
  MessagePtr res(raw);
  if (rc != LDAP_SUCCESS) return Fail(LdapError("read group " + b, conn_->ld.get(), rc));
  LDAPMessage* e = ldap_first_entry(conn_->ld.get(), res.get());
  if (e == nullptr) return Fail(Error::NotFound("no group " + b));
  return AllValues(conn_->ld.get(), e, a1);
}

Status AdProbe::ResetUser(std::string_view sam) {
  auto st = ReadUser(sam);
  if (!st) return Fail(st.error());
  const int rc = Replace(conn_->ld.get(), st->dn,
                         {{"userAccountControl", std::to_string(st->user_account_control & ~std::int64_t{0x2})},
                          {"pwdLastSet", "-1"},
                          {"lockoutTime", "0"}});
  if (rc != LDAP_SUCCESS) return Fail(LdapError("reset " + std::string(sam), conn_->ld.get(), rc));
  return {};
}

Status AdProbe::SetDisabled(std::string_view sam, bool disabled) {
  auto st = ReadUser(sam);
  if (!st) return Fail(st.error());
  const std::int64_t uac = disabled ? (st->user_account_control | 0x2) : (st->user_account_control & ~std::int64_t{0x2});
  const int rc = Replace(conn_->ld.get(), st->dn, {{"userAccountControl", std::to_string(uac)}});
  if (rc != LDAP_SUCCESS) return Fail(LdapError("set userAccountControl of " + std::string(sam), conn_->ld.get(), rc));
  return {};
}

Status AdProbe::RenameUser(std::string_view sam, std::string_view new_sam, std::string_view new_cn) {
  auto st = ReadUser(sam);
  if (!st) return Fail(st.error());
  const std::string upn = std::string(new_sam) + "@" + conn_->upn_domain;
  int rc = Replace(conn_->ld.get(), st->dn,
                   {{"sAMAccountName", std::string(new_sam)}, {"userPrincipalName", upn},
                    {"displayName", std::string(new_cn)}});
  if (rc != LDAP_SUCCESS) return Fail(LdapError("rename " + std::string(sam), conn_->ld.get(), rc));
  const std::string rdn = "CN=" + std::string(new_cn);
  rc = ldap_rename_s(conn_->ld.get(), st->dn.c_str(), rdn.c_str(), nullptr, 1, nullptr, nullptr);
  if (rc != LDAP_SUCCESS) return Fail(LdapError("move " + st->dn + " to " + rdn, conn_->ld.get(), rc));
  return {};
}

Status AdProbe::AddUser(std::string_view ou, std::string_view cn, std::string_view sam, const std::string& password,
                        bool disabled) {
  const std::string dn = "CN=" + std::string(cn) + "," + std::string(ou);
  std::string object_class = "user", sam_value(sam), upn = std::string(sam) + "@" + conn_->upn_domain,
              display(cn), uac = disabled ? "514" : "512", pwd = UnicodePwd(password);
  char* oc_vals[] = {object_class.data(), nullptr};
  char* sam_vals[] = {sam_value.data(), nullptr};
  char* upn_vals[] = {upn.data(), nullptr};
  char* display_vals[] = {display.data(), nullptr};
  char* uac_vals[] = {uac.data(), nullptr};
  berval pwd_val{static_cast<ber_len_t>(pwd.size()), pwd.data()};
  berval* pwd_vals[] = {&pwd_val, nullptr};
  char t_oc[] = "objectClass", t_sam[] = "sAMAccountName", t_upn[] = "userPrincipalName", t_display[] = "displayName",
       t_uac[] = "userAccountControl", t_pwd[] = "unicodePwd";
  LDAPMod oc{LDAP_MOD_ADD, t_oc, {oc_vals}}, sam_mod{LDAP_MOD_ADD, t_sam, {sam_vals}},
      upn_mod{LDAP_MOD_ADD, t_upn, {upn_vals}}, display_mod{LDAP_MOD_ADD, t_display, {display_vals}},
      uac_mod{LDAP_MOD_ADD, t_uac, {uac_vals}}, pwd_mod{LDAP_MOD_ADD | LDAP_MOD_BVALUES, t_pwd, {nullptr}};
  pwd_mod.mod_bvalues = pwd_vals;
  LDAPMod* mods[] = {&oc, &sam_mod, &upn_mod, &display_mod, &uac_mod, &pwd_mod, nullptr};
  const int rc = ldap_add_ext_s(conn_->ld.get(), dn.c_str(), mods, nullptr, nullptr);
  if (rc != LDAP_SUCCESS) return Fail(LdapError("add " + dn, conn_->ld.get(), rc));
  return {};
}

Status AdProbe::DeleteUser(std::string_view sam) {
  auto st = ReadUser(sam);
  if (!st) return Fail(st.error());
  const int rc = ldap_delete_ext_s(conn_->ld.get(), st->dn.c_str(), nullptr, nullptr);
  if (rc != LDAP_SUCCESS) return Fail(LdapError("delete " + st->dn, conn_->ld.get(), rc));
  return {};
}

LdapAnswer TryBind(const LabInfo& lab, std::string_view bind_name, const std::string& password,
                   const std::string& ca_file) {
  auto ld = Open(lab.ldaps_url, ca_file.empty() ? lab.ca_file : ca_file);
  if (!ld) return {LDAP_PARAM_ERROR, ld.error().message};
  const int rc = SimpleBind(ld->get(), bind_name, password);
  if (rc != LDAP_SUCCESS) return AnswerOf(ld->get(), rc);
  return AnswerOf(ld->get(), ReadRootDse(ld->get()));
}

LdapAnswer TryGssapiBind(const LabInfo& lab) {
  ::setenv("KRB5_CONFIG", lab.krb5_conf.c_str(), 1);
  ::setenv("KRB5_CLIENT_KTNAME", lab.action_account.keytab.c_str(), 1);
  ::setenv("KRB5CCNAME", "MEMORY:cordon-test", 1);
  auto ld = Open(lab.gssapi_url, lab.ca_file);
  if (!ld) return {LDAP_PARAM_ERROR, ld.error().message};
  // Ask for a ticket to ldap/<the name dialled>, not to what 127.0.0.1 resolves back to.
  ldap_set_option(ld->get(), LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON);
  const int rc = ldap_sasl_interactive_bind_s(ld->get(), nullptr, "GSSAPI", nullptr, nullptr, LDAP_SASL_QUIET,
                                              SaslDefaults, nullptr);
  if (rc != LDAP_SUCCESS) return AnswerOf(ld->get(), rc);
  return AnswerOf(ld->get(), ReadRootDse(ld->get()));
}

LdapAnswer ReplaceAs(const LabInfo& lab, std::string_view bind_name, const std::string& password,
                     std::string_view target_dn, std::string_view attribute, std::string_view value) {
  auto ld = Open(lab.ldaps_url, lab.ca_file);
  if (!ld) return {LDAP_PARAM_ERROR, ld.error().message};
  if (const int rc = SimpleBind(ld->get(), bind_name, password); rc != LDAP_SUCCESS) return AnswerOf(ld->get(), rc);
  return AnswerOf(ld->get(), Replace(ld->get(), std::string(target_dn), {{std::string(attribute), std::string(value)}}));
}

}  // namespace cordon::testing
