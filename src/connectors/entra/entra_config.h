// The [connectors.entra] configuration section, validated.
//
// Every error names the exact key that is wrong, as
// "connectors.entra.<key>: <what is wrong>". The client secret and the
// private key are accepted by file only and read when a token is needed,
// never while validating (nor ever printed). TLS is always verified: against
// ca_file when given (for both the authority and Graph), else the system's
// trust store. See README.md.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <string>

#include "connectors/connector.h"
#include "core/action.h"
#include "core/error.h"

namespace cordon::entra {

struct EntraConfig {
  std::string tenant;     // tenant id (GUID) or verified domain
  std::string client_id;  // the app registration's application id
  // Exactly one way to authenticate: a client secret, or a certificate
  // registered on the app with its private key.
  std::string client_secret_file;
  std::string certificate_file;
  std::string private_key_file;
  std::string authority = "https://login.microsoftonline.com";  // no trailing slash
  std::string graph_url = "https://graph.microsoft.com";        // no trailing slash
  std::string ca_file;  // empty: the system's trust store
  bool batch = true;    // several actions' requests in one $batch
  int timeout_ms = 10000;
  // The first wait when Graph throttles without Retry-After; it doubles on each repeat.
  Millis backoff{1000};

  [[nodiscard]] bool uses_certificate() const { return !certificate_file.empty(); }
  [[nodiscard]] std::string token_url() const { return authority + "/" + tenant + "/oauth2/v2.0/token"; }
  [[nodiscard]] std::string scope() const { return graph_url + "/.default"; }
};

[[nodiscard]] Result<EntraConfig> ParseEntraConfig(const ConnectorSection& section);

}  // namespace cordon::entra
