// The JWT pieces the HTTP connectors share: base64url (RFC 4648 section 5),
// an RS256 signature over a header and claims with a PEM private key
// (OpenSSL EVP), and reading a JWT's payload without checking its signature
// (what a client may learn of its own access token; the provider checks the
// signature, not the client).
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/secret.h"

namespace cordon::http {

// Base64url without padding.
[[nodiscard]] std::string Base64Url(std::string_view bytes);
// Base64url, with or without padding; none when it is not base64url.
[[nodiscard]] std::optional<std::string> Base64UrlDecode(std::string_view text);

// header.claims.signature, signed RS256 with `private_key_pem` (a PEM RSA
// private key, PKCS#8 or PKCS#1, not encrypted). "alg": "RS256" is set in
// the header. Errors never hold any part of the key.
[[nodiscard]] Result<Secret> SignRs256Jwt(nlohmann::json header, const nlohmann::json& claims,
                                          const Secret& private_key_pem);

// A random jti: 16 bytes, base64url.
[[nodiscard]] Result<std::string> RandomJwtId();

// The payload (claims) of a compact JWT, its signature NOT checked; none when
// it is not a JWT with a JSON object payload.
[[nodiscard]] std::optional<nlohmann::json> UnverifiedJwtPayload(std::string_view jwt);

}  // namespace cordon::http
