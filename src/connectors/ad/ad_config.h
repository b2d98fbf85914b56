// The [connectors.ad] configuration section, validated.
//
// Every error names the exact key that is wrong, as
// "connectors.ad.<key>: <what is wrong>". Secrets are accepted by reference
// only (password_file / password_env); the password itself is loaded later,
// when a connection is opened, and never appears in an error. Relative paths
// are resolved against the config file's folder. TLS trusts exactly what the
// section says: ca_file, or the system's CA bundle only with system_ca = true.
// See README.md for every key with an example.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "connectors/connector.h"
#include "connectors/section_reader.h"
#include "core/error.h"
#include "core/secret.h"

namespace cordon::ad {

enum class BindMode { kSimple, kGssapi };

struct AdConfig {
  std::string url;             // ldaps://host[:port] or ldap://host[:port]
  bool start_tls = false;      // StartTLS on ldap://
  bool allow_plaintext = false;
  std::string ca_file;         // PEM bundle the DC's certificate must chain to; verification is always on
  std::string base_dn;
  BindMode bind_mode = BindMode::kSimple;
  std::string bind_dn;         // simple
  SecretRef password;          // simple
  std::string keytab;          // gssapi
  std::string principal;       // gssapi
  std::string krb5_conf;       // gssapi, optional
  int timeout_ms = 10000;

  [[nodiscard]] bool UsesLdaps() const { return url.rfind("ldaps://", 0) == 0; }
  // True when traffic is protected by TLS (ldaps:// or StartTLS).
  [[nodiscard]] bool UsesTls() const { return UsesLdaps() || start_tls; }
};

// Where system_ca = true finds the operating system's CA bundle
// (connectors/section_reader.h).
using cordon::kSystemCaBundles;

// Validates a [connectors.ad] section; paths are resolved by section.Resolve.
[[nodiscard]] Result<AdConfig> ParseAdConfig(const ConnectorSection& section);

}  // namespace cordon::ad
