#include "connectors/okta/okta_config.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <optional>
#include <string_view>

#include "connectors/section_reader.h"

namespace cordon::okta {
namespace {

constexpr std::array<std::string_view, 14> kKnownKeys = {
    "org_url",          "allow_plaintext", "ca_file", "system_ca",  "auth_mode", "token_file", "token_env",
    "client_id",        "private_key_file", "scope",  "rate_share", "timeout_ms", "token",     "tls_verify",
};

// host[:port] with nothing after it but an optional '/'; `host` receives the host.
bool ValidHostPort(std::string_view rest, std::string_view& host) {
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) return false;
  host = rest;
  const std::size_t colon = rest.rfind(':');
  const bool bracketed = rest.front() == '[';
  if (colon != std::string_view::npos && (!bracketed || colon > rest.find(']'))) {
    std::string_view port = rest.substr(colon + 1);
    int p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p < 1 || p > 65535) return false;
    host = rest.substr(0, colon);
  }
  if (host.empty()) return false;
  return std::none_of(host.begin(), host.end(), [](char c) {
    return c == '/' || c == '?' || c == '#' || c == '@' || c == ' ' || c == '%' || static_cast<unsigned char>(c) < 0x21;
  });
}

bool IsLoopback(std::string_view host) {
  return host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

}  // namespace

Result<OktaConfig> ParseOktaConfig(const ConnectorSection& context) {
  SectionReader r(context.table, context.key_path);
  for (auto&& [key, node] : context.table) {
    std::string_view k = key.str();
    if (std::find(kKnownKeys.begin(), kKnownKeys.end(), k) == kKnownKeys.end()) return Fail(r.Wrong(k, "unknown key"));
  }
  if (r.Has("token"))
    return Fail(r.Wrong("token", "an API token is never written in the config; use token_file or token_env instead"));
  if (r.Has("tls_verify"))
    return Fail(r.Wrong("tls_verify", "certificate verification cannot be turned off; set ca_file to the CA that "
                                      "signed Okta's certificate, or system_ca = true"));
  OktaConfig c;

  auto url = r.String("org_url");
  if (!url) return Fail(url.error());
  if (!*url) return Fail(r.Wrong("org_url", "is required, e.g. \"https://example.okta.com\""));
  c.org_url = std::move(**url);
  auto plaintext = r.Bool("allow_plaintext", false);
  if (!plaintext) return Fail(plaintext.error());
  c.allow_plaintext = *plaintext;
  std::string_view rest, host;
  const bool https = c.org_url.starts_with("https://");
  if (https) {
    rest = std::string_view(c.org_url).substr(8);
  } else if (c.org_url.starts_with("http://")) {
    rest = std::string_view(c.org_url).substr(7);
  } else {
    return Fail(r.Wrong("org_url", "must start with https://"));
  }
  if (!ValidHostPort(rest, host)) return Fail(r.Wrong("org_url", "must be https://host[:port], with no path"));
  if (!https && !(c.allow_plaintext && IsLoopback(host)))
    return Fail(r.Wrong("org_url", "must start with https:// (http:// only to a loopback address, with "
                                   "allow_plaintext = true)"));
  if (https && c.allow_plaintext) return Fail(r.Wrong("allow_plaintext", "is only used with an http:// org_url"));
  while (c.org_url.ends_with('/')) c.org_url.pop_back();

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
  } else if (https) {
    return Fail(r.Wrong("ca_file", "is required with https://: the PEM file of the CA that signed Okta's "
                                   "certificate (or system_ca = true to trust the system's CA bundle)"));
  }

  auto mode = r.String("auth_mode");
  if (!mode) return Fail(mode.error());
  if (!*mode) return Fail(r.Wrong("auth_mode", "is required: \"ssws\" (an API token) or \"private_key_jwt\""));
  if (**mode == "ssws") {
    c.auth = AuthMode::kSsws;
  } else if (**mode == "private_key_jwt") {
    c.auth = AuthMode::kPrivateKeyJwt;
  } else {
    return Fail(r.Wrong("auth_mode", "must be \"ssws\" or \"private_key_jwt\""));
  }
  if (c.auth == AuthMode::kSsws) {
    for (std::string_view k : {"client_id", "private_key_file", "scope"})
      if (r.Has(k)) return Fail(r.Wrong(k, "is only used with auth_mode = \"private_key_jwt\""));
    auto file = r.String("token_file");
    if (!file) return Fail(file.error());
    auto env = r.String("token_env");
    if (!env) return Fail(env.error());
    if (*file && *env) return Fail(r.Wrong("token_env", "give either token_file or token_env, not both"));
    if (!*file && !*env) return Fail(r.Wrong("token_file", "is required (or token_env) with auth_mode = \"ssws\""));
    if (*file) {
      c.token.file = context.Resolve(**file);
      if (auto ok = r.Readable("token_file", c.token.file); !ok) return Fail(ok.error());
    } else {
      c.token.env = std::move(**env);
    }
  } else {
    for (std::string_view k : {"token_file", "token_env"})
      if (r.Has(k)) return Fail(r.Wrong(k, "is only used with auth_mode = \"ssws\""));
    auto id = r.String("client_id");
    if (!id) return Fail(id.error());
    if (!*id) return Fail(r.Wrong("client_id", "is required with auth_mode = \"private_key_jwt\""));
    c.client_id = std::move(**id);
    auto key = r.String("private_key_file");
    if (!key) return Fail(key.error());
    if (!*key) return Fail(r.Wrong("private_key_file", "is required with auth_mode = \"private_key_jwt\""));
    c.private_key_file = context.Resolve(**key);
    if (auto ok = r.Readable("private_key_file", c.private_key_file); !ok) return Fail(ok.error());
    auto scope = r.String("scope");
    if (!scope) return Fail(scope.error());
    if (*scope) c.scope = std::move(**scope);
  }

  if (const toml::node* share = context.table.get("rate_share"); share != nullptr) {
    std::optional<double> v = share->is_integer() ? std::optional<double>(static_cast<double>(*share->value<int64_t>()))
                                                  : share->value<double>();
    if (!v || !(share->is_floating_point() || share->is_integer()))
      return Fail(r.Wrong("rate_share", "must be a number"));
    if (!(*v > 0.0 && *v <= 1.0)) return Fail(r.Wrong("rate_share", "must be more than 0 and at most 1"));
    c.rate_share = *v;
  }
  if (const toml::node* t = context.table.get("timeout_ms"); t != nullptr) {
    if (!t->is_integer()) return Fail(r.Wrong("timeout_ms", "must be an integer"));
    const int64_t v = *t->value<int64_t>();
    if (v < 100 || v > 300000) return Fail(r.Wrong("timeout_ms", "must be between 100 and 300000"));
    c.timeout_ms = static_cast<int>(v);
  }
  return c;
}

}  // namespace cordon::okta
