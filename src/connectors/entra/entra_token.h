// The app's access token for Graph: OAuth 2.0 client credentials at
// <authority>/<tenant>/oauth2/v2.0/token, scope <graph_url>/.default, the
// app authenticated by its client secret or by a certificate assertion (an
// RS256 JWT whose header `x5t` is the base64url SHA-1 thumbprint of the
// certificate registered on the app; aud = the token URL, iss = sub = the
// client id, a random jti, nbf = now, exp ten minutes on).
//
// Thread-safety: pure functions (FetchEntraToken opens its own connection).
#pragma once

#include <string>
#include <string_view>

#include "connectors/credential_cache.h"
#include "connectors/entra/entra_config.h"
#include "core/action.h"
#include "core/error.h"
#include "core/secret.h"

namespace cordon::entra {

inline constexpr Millis kAssertionLifetime{10 * 60 * 1000};

// The SHA-1 thumbprint of a PEM certificate, base64url (the assertion's x5t).
[[nodiscard]] Result<std::string> CertificateThumbprint(std::string_view certificate_pem);

// The signed client assertion. Errors never hold any part of the key.
[[nodiscard]] Result<Secret> MakeCertificateAssertion(std::string_view client_id, std::string_view audience,
                                                      std::string_view certificate_pem, const Secret& private_key_pem,
                                                      TimePoint now);

// How early a token of `lifetime` is renewed: 5 minutes, or a tenth of its lifetime when that is less.
[[nodiscard]] Millis RenewEarly(Millis lifetime);

// Asks the token endpoint. The credential is "Bearer <token>", its expires_at
// already moved RenewEarly() ahead of the token's own expiry. Every failure
// is the provider's (the engine pauses it); none names the secret.
[[nodiscard]] Result<CredentialCache::Credential> FetchEntraToken(const EntraConfig& config);

}  // namespace cordon::entra
