#include "connectors/ad/ad_config.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <optional>

namespace cordon::ad {
namespace {

constexpr std::array<std::string_view, 16> kKnownKeys = {
    "url",      "start_tls",     "allow_plaintext", "ca_file", "system_ca", "base_dn",  "bind_mode", "bind_dn",
    "password_file", "password_env", "keytab",      "principal", "krb5_conf", "timeout_ms", "password", "tls_verify",
};

// ldap[s]://host[:port] with nothing after it (a trailing '/' is tolerated).
bool ValidHostPort(std::string_view rest) {
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) return false;
  std::string_view host = rest;
  std::size_t colon = rest.rfind(':');
  bool bracketed = !rest.empty() && rest.front() == '[';
  if (colon != std::string_view::npos && (!bracketed || colon > rest.find(']'))) {
    std::string_view port = rest.substr(colon + 1);
    int p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p < 1 || p > 65535) return false;
    host = rest.substr(0, colon);
  }
  if (host.empty()) return false;
  return std::none_of(host.begin(), host.end(), [](char c) {
    return c == '/' || c == '?' || c == '#' || c == '@' || c == ' ' || static_cast<unsigned char>(c) < 0x21;
  });
}

}  // namespace

Result<AdConfig> ParseAdConfig(const ConnectorSection& context) {
  const toml::table& section = context.table;
  SectionReader r(section, context.key_path);
  for (auto&& [key, node] : section) {
    std::string_view k = key.str();
    if (std::find(kKnownKeys.begin(), kKnownKeys.end(), k) == kKnownKeys.end())
      return Fail(r.Wrong(k, "unknown key"));
  }
  if (r.Has("password"))
    return Fail(r.Wrong("password",
                        "a password is never written in the config; use password_file or password_env instead"));
  if (r.Has("tls_verify"))
    return Fail(r.Wrong("tls_verify",
                        "certificate verification cannot be turned off; set ca_file to the CA that signed the "
                        "DC's certificate"));

  AdConfig c;
  auto url = r.RequiredString("url");
  if (!url) return Fail(url.error());
  c.url = std::move(*url);
  std::string_view rest;
  if (c.url.rfind("ldaps://", 0) == 0) {
    rest = std::string_view(c.url).substr(8);
  } else if (c.url.rfind("ldap://", 0) == 0) {
    rest = std::string_view(c.url).substr(7);
  } else {
    return Fail(r.Wrong("url", "must start with ldaps:// or ldap://"));
  }
  if (!ValidHostPort(rest)) return Fail(r.Wrong("url", "must be ldaps://host[:port] or ldap://host[:port]"));

  auto mode = r.String("bind_mode");
  if (!mode) return Fail(mode.error());
  if (!*mode || **mode == "simple") {
    c.bind_mode = BindMode::kSimple;
  } else if (**mode == "gssapi") {
    c.bind_mode = BindMode::kGssapi;
  } else {
    return Fail(r.Wrong("bind_mode", "must be \"simple\" or \"gssapi\""));
  }

  auto start_tls = r.Bool("start_tls", false);
  if (!start_tls) return Fail(start_tls.error());
  c.start_tls = *start_tls;
  auto plaintext = r.Bool("allow_plaintext", false);
  if (!plaintext) return Fail(plaintext.error());
  c.allow_plaintext = *plaintext;
  if (c.UsesLdaps() && c.start_tls)
    return Fail(r.Wrong("start_tls", "must not be set with ldaps:// (the connection is already TLS)"));
  // GSSAPI seals the traffic itself (the connector requires a SASL security
  // layer of at least 56 bits) and Kerberos authenticates the DC, so plain
  // ldap:// is acceptable there without allow_plaintext.
  if (!c.UsesTls() && !c.allow_plaintext && c.bind_mode == BindMode::kSimple)
    return Fail(r.Wrong("start_tls", "must be true with ldap:// (or set allow_plaintext = true, which sends the "
                                     "password in clear text)"));

  auto ca = r.String("ca_file");
  if (!ca) return Fail(ca.error());
  auto system_ca = r.Bool("system_ca", false);
  if (!system_ca) return Fail(system_ca.error());
  if (*ca && *system_ca) return Fail(r.Wrong("system_ca", "give either ca_file or system_ca = true, not both"));
  if (*ca) {
    c.ca_file = context.Resolve(**ca);
    if (auto ok = r.Readable("ca_file", c.ca_file); !ok) return Fail(ok.error());
  } else if (*system_ca) {
    for (std::string_view bundle : kSystemCaBundles) {
      if (std::ifstream(std::string(bundle)).good()) {
        c.ca_file = std::string(bundle);
        break;
      }
    }
    if (c.ca_file.empty()) return Fail(r.Wrong("system_ca", "no system CA bundle found on this machine; set ca_file"));
  } else if (c.UsesTls()) {
    // Nothing implicit: not libldap's ldap.conf, not LDAPTLS_* variables.
    return Fail(r.Wrong("ca_file", "is required with ldaps:// or StartTLS: the PEM file of the CA that signed the "
                                   "DC's certificate (or system_ca = true to trust the system's CA bundle)"));
  }

  auto base = r.RequiredString("base_dn");
  if (!base) return Fail(base.error());
  c.base_dn = std::move(*base);

  if (c.bind_mode == BindMode::kSimple) {
    for (std::string_view k : {"keytab", "principal", "krb5_conf"})
      if (r.Has(k)) return Fail(r.Wrong(k, "is only used with bind_mode = \"gssapi\""));
    auto dn = r.RequiredString("bind_dn");
    if (!dn) return Fail(dn.error());
    c.bind_dn = std::move(*dn);
    auto file = r.String("password_file");
    if (!file) return Fail(file.error());
    auto env = r.String("password_env");
    if (!env) return Fail(env.error());
    if (*file && *env) return Fail(r.Wrong("password_env", "give either password_file or password_env, not both"));
    if (!*file && !*env) return Fail(r.Wrong("password_file", "is required (or password_env) with bind_mode = \"simple\""));
    if (*file) {
      c.password.file = context.Resolve(**file);
      if (auto ok = r.Readable("password_file", c.password.file); !ok) return Fail(ok.error());
    } else {
      c.password.env = std::move(**env);
    }
  } else {
    for (std::string_view k : {"bind_dn", "password_file", "password_env"})
      if (r.Has(k)) return Fail(r.Wrong(k, "is only used with bind_mode = \"simple\""));
    auto keytab = r.RequiredString("keytab", "is required with bind_mode = \"gssapi\"");
    if (!keytab) return Fail(keytab.error());
    c.keytab = context.Resolve(*keytab);
    if (auto ok = r.Readable("keytab", c.keytab); !ok) return Fail(ok.error());
    auto principal = r.RequiredString("principal", "is required with bind_mode = \"gssapi\"");
    if (!principal) return Fail(principal.error());
    c.principal = std::move(*principal);
    auto krb5 = r.String("krb5_conf");
    if (!krb5) return Fail(krb5.error());
    if (*krb5) {
      c.krb5_conf = context.Resolve(**krb5);
      if (auto ok = r.Readable("krb5_conf", c.krb5_conf); !ok) return Fail(ok.error());
    }
  }

  auto timeout = r.Int("timeout_ms", 10000, 100, 600000);
  if (!timeout) return Fail(timeout.error());
  c.timeout_ms = *timeout;
  return c;
}

}  // namespace cordon::ad
