// The [connectors.ad] configuration section, validated.
//
// Every error names the exact key that is wrong, as
// "connectors.ad.<key>: <what is wrong>". Secrets are accepted by reference
// only (password_file / password_env); the password itself is loaded later,
// when a connection is opened, and never appears in an error. See README.md
// for every key with an example.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "core/error.h"
#include "core/secret.h"

namespace cordon::ad {

enum class BindMode { kSimple, kGssapi };

struct AdConfig {
  std::string url;             // ldaps://host[:port] or ldap://host[:port]
  bool start_tls = false;      // StartTLS on ldap://
  bool allow_plaintext = false;
  std::string ca_file;         // PEM bundle; certificate verification is always on
  std::string base_dn;
  BindMode bind_mode = BindMode::kSimple;
  std::string bind_dn;         // simple
  SecretRef password;          // simple
  std::string keytab;          // gssapi
  std::string principal;       // gssapi
  std::string krb5_conf;       // gssapi, optional
  int timeout_ms = 10000;
  int workers = 4;
  int batch_size = 50;

  [[nodiscard]] bool UsesLdaps() const { return url.rfind("ldaps://", 0) == 0; }
  // True when traffic is protected by TLS (ldaps:// or StartTLS).
  [[nodiscard]] bool UsesTls() const { return UsesLdaps() || start_tls; }
};

inline constexpr int kDefaultWorkers = 4;
inline constexpr int kMaxWorkers = 64;
inline constexpr int kMaxBatchSize = 500;

// Validates `section`; key_path is its dotted name for messages ("connectors.ad").
[[nodiscard]] Result<AdConfig> ParseAdConfig(const toml::table& section, std::string_view key_path);

// The `workers` key of a [connectors.ad] section (default 4), for the engine;
// an invalid value yields the default (ParseAdConfig reports it).
[[nodiscard]] int WorkerCount(const toml::table& section);

}  // namespace cordon::ad
