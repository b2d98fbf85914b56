// API bearer tokens: how they are made, how they are stored, how they are
// issued to an actor.
//
// A token is "cdn_" + base64url(32 random bytes): 256 bits from OpenSSL's
// CSPRNG. Cordon stores only its SHA-256 digest (Store::CreateToken) and finds
// the caller by the digest of what it presents (Store::FindTokenByDigest).
// The token is not a password (it has full entropy), so a slow hash would add
// nothing and cost every request.
//
// Thread-safety: free functions, safe from any thread (the Store is).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "authz/permissions.h"
#include "core/error.h"
#include "core/secret.h"
#include "store/store.h"

namespace cordon {

inline constexpr std::string_view kTokenPrefix = "cdn_";
// Longest Authorization value the API considers; a real token is 47 bytes.
inline constexpr size_t kMaxTokenBytes = 256;

// A fresh bearer token, returned to its owner once and never stored.
[[nodiscard]] Result<Secret> GenerateToken();

// Lowercase hex SHA-256 of the token, the only form Cordon keeps.
[[nodiscard]] std::string TokenDigest(std::string_view token);

struct IssuedToken {
  Secret token;        // show once to the operator, then forget
  TokenRecord record;  // what the store holds (digest, name, role)
};

// A token's lifetime as an operator writes it: a positive whole number of
// days, hours or minutes ("90d", "12h", "30m"), at most ten years.
[[nodiscard]] Result<Millis> ParseTokenLifetime(std::string_view text);

// Creates a token for `name` with `role` and stores its digest. With
// `expires_at`, the token is refused from that time on.
[[nodiscard]] Result<IssuedToken> IssueToken(Store& store, std::string_view name, Role role,
                                             std::optional<TimePoint> expires_at = std::nullopt);

}  // namespace cordon
