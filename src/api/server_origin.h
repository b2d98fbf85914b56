// ServerOrigin: the scheme, port and host names this server answers to, so
// that the absolute links it writes (Graph's @odata.nextLink and
// @odata.context) name this server and nothing else.
//
// A request's Host header is the client's to write. A link built from it
// as sent would point a client wherever a forged Host said (a cache or a
// proxy may then serve that link to others), so the Host is only used when it
// is one of this server's own names: those in its TLS certificate
// (subjectAltName DNS names, "*.example.com" matching one label, and IP
// addresses) and its listening address (with "localhost" when that is
// loopback). Any other Host gets the server's first name. The port is always
// the listening port.
//
// Thread-safety: a value; const methods may be called from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

namespace cordon::api {

struct ServerOrigin {
  std::string scheme = "https";
  uint16_t port = 0;
  // Lower-case DNS names (a leading "*." for a wildcard) and IP addresses as
  // text (IPv6 without brackets). The first one that is not a wildcard is the
  // one used for a Host that is not ours.
  std::vector<std::string> names;

  // "https://name:port" (no port when it is the scheme's default) for a
  // request whose Host header was `host_header`.
  [[nodiscard]] std::string For(std::string_view host_header) const;
};

// The subjectAltName DNS names and IP addresses of `certificate`, lower case.
[[nodiscard]] std::vector<std::string> CertificateNames(X509* certificate);

// The origin of a server listening on `address`:`port`, reached by the names
// of its certificate (may be null: plain HTTP).
[[nodiscard]] ServerOrigin MakeServerOrigin(bool tls, std::string_view address, uint16_t port, X509* certificate);

}  // namespace cordon::api
