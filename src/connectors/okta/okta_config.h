// The [connectors.okta] configuration section, validated.
//
// Every error names the exact key that is wrong, as
// "connectors.okta.<key>: <what is wrong>". Secrets are accepted by
// reference only (token_file / token_env, private_key_file) and loaded when
// a credential is needed, never while validating. TLS is always verified,
// against exactly the CA the section names (ca_file, or the system's bundle
// only with system_ca = true); plain http:// only to a loopback address and
// only with allow_plaintext = true (a local test provider). See README.md.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <string>

#include "connectors/connector.h"
#include "core/error.h"
#include "core/secret.h"

namespace cordon::okta {

enum class AuthMode {
  kSsws,            // Authorization: SSWS <API token>
  kPrivateKeyJwt,   // OAuth 2.0 client credentials, the client authenticated by an RS256 assertion
};

struct OktaConfig {
  std::string org_url;           // https://example.okta.com, no trailing slash
  bool allow_plaintext = false;  // http:// to a loopback address
  std::string ca_file;           // PEM bundle Okta's certificate must chain to
  AuthMode auth = AuthMode::kSsws;
  SecretRef token;               // ssws
  std::string client_id;         // private_key_jwt
  std::string private_key_file;  // private_key_jwt: PEM RSA private key
  std::string scope = "okta.users.manage";
  // The part of the org's rate limits Cordon may use: every integration of
  // the org draws on the same limits.
  double rate_share = 1.0;
  int timeout_ms = 10000;
  // How often a user in transition (transitioningToStatus) is read again, at first.
  Millis transition_poll{500};
};

[[nodiscard]] Result<OktaConfig> ParseOktaConfig(const ConnectorSection& section);

}  // namespace cordon::okta
