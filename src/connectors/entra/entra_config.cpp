#include "connectors/entra/entra_config.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

#include "connectors/section_reader.h"

namespace cordon::entra {
namespace {

constexpr std::array<std::string_view, 13> kKnownKeys = {
    "tenant",    "client_id", "client_secret_file", "certificate_file", "private_key_file", "authority", "graph_url",
    "ca_file",   "batch",     "timeout_ms",         "client_secret",    "tls_verify",       "private_key",
};

// https://host[:port] with nothing after it but an optional '/'.
bool ValidBaseUrl(std::string_view url) {
  if (!url.starts_with("https://")) return false;
  std::string_view rest = url.substr(8);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) return false;
  std::string_view host = rest;
  const std::size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (rest.front() != '[' || colon > rest.find(']'))) {
    const std::string_view port = rest.substr(colon + 1);
    int p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p < 1 || p > 65535) return false;
    host = rest.substr(0, colon);
  }
  if (host.empty()) return false;
  return std::none_of(host.begin(), host.end(), [](char c) {
    return c == '/' || c == '?' || c == '#' || c == '@' || c == '%' || static_cast<unsigned char>(c) < 0x21;
  });
}

// A tenant id or domain: letters, digits, '-' and '.', as a URL path segment needs no escaping.
bool ValidTenant(std::string_view t) {
  return !t.empty() && t.size() <= 253 && t.front() != '.' && std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

bool Printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) > 0x20; });
}

}  // namespace

Result<EntraConfig> ParseEntraConfig(const ConnectorSection& context) {
  SectionReader r(context.table, context.key_path);
  for (auto&& [key, node] : context.table) {
    const std::string_view k = key.str();
    if (std::find(kKnownKeys.begin(), kKnownKeys.end(), k) == kKnownKeys.end()) return Fail(r.Wrong(k, "unknown key"));
  }
  if (r.Has("client_secret"))
    return Fail(r.Wrong("client_secret", "a secret is never written in the config; use client_secret_file instead"));
  if (r.Has("private_key"))
    return Fail(r.Wrong("private_key", "a key is never written in the config; use private_key_file instead"));
  if (r.Has("tls_verify"))
    return Fail(r.Wrong("tls_verify", "certificate verification cannot be turned off; set ca_file to the CA that "
                                      "signed the servers' certificates, or leave it out to use the system's"));
  EntraConfig c;

  auto tenant = r.RequiredString("tenant", "is required: the tenant id (a GUID) or a verified domain");
  if (!tenant) return Fail(tenant.error());
  if (!ValidTenant(*tenant))
    return Fail(r.Wrong("tenant", "must be a tenant id (a GUID) or a domain such as contoso.onmicrosoft.com"));
  c.tenant = std::move(*tenant);
  auto client = r.RequiredString("client_id", "is required: the app registration's application (client) id");
  if (!client) return Fail(client.error());
  if (!Printable(*client)) return Fail(r.Wrong("client_id", "must not hold spaces or control characters"));
  c.client_id = std::move(*client);

  for (auto [key, out] : {std::pair<std::string_view, std::string*>{"authority", &c.authority},
                          std::pair<std::string_view, std::string*>{"graph_url", &c.graph_url}}) {
    auto value = r.String(key);
    if (!value) return Fail(value.error());
    if (!*value) continue;
    if (!ValidBaseUrl(**value)) return Fail(r.Wrong(key, "must be https://host[:port], with no path"));
    *out = std::move(**value);
    while (out->ends_with('/')) out->pop_back();
  }

  auto secret = r.String("client_secret_file");
  if (!secret) return Fail(secret.error());
  auto cert = r.String("certificate_file");
  if (!cert) return Fail(cert.error());
  auto key = r.String("private_key_file");
  if (!key) return Fail(key.error());
  if (*secret && (*cert || *key))
    return Fail(r.Wrong(*cert ? "certificate_file" : "private_key_file",
                        "give either client_secret_file, or certificate_file with private_key_file, not both"));
  if (*secret) {
    c.client_secret_file = context.Resolve(**secret);
    if (auto ok = r.Readable("client_secret_file", c.client_secret_file); !ok) return Fail(ok.error());
  } else if (*cert || *key) {
    if (!*cert) return Fail(r.Wrong("certificate_file", "is required with private_key_file: the PEM certificate "
                                                        "registered on the app"));
    if (!*key) return Fail(r.Wrong("private_key_file", "is required with certificate_file: the PEM private key "
                                                       "of that certificate"));
    c.certificate_file = context.Resolve(**cert);
    if (auto ok = r.Readable("certificate_file", c.certificate_file); !ok) return Fail(ok.error());
    c.private_key_file = context.Resolve(**key);
    if (auto ok = r.Readable("private_key_file", c.private_key_file); !ok) return Fail(ok.error());
  } else {
    return Fail(r.Wrong("client_secret_file", "is required (or certificate_file with private_key_file): how the "
                                              "app authenticates"));
  }

  auto ca = r.String("ca_file");
  if (!ca) return Fail(ca.error());
  if (*ca) {
    c.ca_file = context.Resolve(**ca);
    if (auto ok = r.Readable("ca_file", c.ca_file); !ok) return Fail(ok.error());
  }
  auto batch = r.Bool("batch", true);
  if (!batch) return Fail(batch.error());
  c.batch = *batch;
  auto timeout = r.Int("timeout_ms", c.timeout_ms, 100, 300000);
  if (!timeout) return Fail(timeout.error());
  c.timeout_ms = *timeout;
  return c;
}

}  // namespace cordon::entra
