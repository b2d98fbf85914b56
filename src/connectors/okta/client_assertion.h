// The client assertion of OAuth 2.0 private_key_jwt (RFC 7523): a JWT the
// client signs with its private key (RS256) to authenticate itself at Okta's
// token endpoint. iss = sub = the client id, aud = the token endpoint, a
// random jti, valid for five minutes from `now`.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/action.h"
#include "core/error.h"
#include "core/secret.h"

namespace cordon::okta {

inline constexpr Millis kAssertionLifetime{5 * 60 * 1000};

// `private_key_pem`: a PEM RSA private key (PKCS#8 or PKCS#1). Errors never
// hold any part of the key.
[[nodiscard]] Result<Secret> MakeClientAssertion(std::string_view client_id, std::string_view audience,
                                                 const Secret& private_key_pem, TimePoint now);

}  // namespace cordon::okta
