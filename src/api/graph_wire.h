// Graph's wire conventions the Graph-compatible API follows, apart from the
// identities themselves: the version prefixes, request ids as GUIDs, the
// error body, and the @odata.context of each answer.
//
// Graph's error body:
//   {"error":{"code":"BadRequest","message":"...",
//             "innerError":{"date":"2026-08-01T12:00:00","request-id":"<guid>","client-request-id":"<guid>"}}}
// with `request-id` and `client-request-id` also as response headers.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/action.h"

namespace cordon::api {

// The Graph versions served, as their path prefixes name them.
inline constexpr std::string_view kGraphVersions[] = {"v1.0", "beta"};

// The path below the version that holds the identity accounts.
inline constexpr std::string_view kIdentityAccountsPath = "security/identities/identityAccounts";

// The version ("v1.0" or "beta") a path starts with ("/v1.0/..."), if any.
[[nodiscard]] std::optional<std::string_view> GraphVersionOf(std::string_view path);

// Whether `s` is a GUID in its 8-4-4-4-12 hex form (either case).
[[nodiscard]] bool IsGuid(std::string_view s);

// The request id in Graph's GUID form: the 24 hex digits of Cordon's request
// id ("urn:cordon:request:<24 hex>") after eight zeros, so the two name the
// same request: 00000000-hhhh-hhhh-hhhh-hhhhhhhhhhhh.
[[nodiscard]] std::string GraphRequestId(std::string_view cordon_request_id);

// The client's client-request-id if it sent a GUID (lower-cased), otherwise
// the request id, as Graph answers a request that brought none.
[[nodiscard]] std::string ClientRequestId(std::string_view sent, std::string_view graph_request_id);

// innerError.date: UTC, to the second, without a zone letter, as Graph writes it.
[[nodiscard]] std::string GraphErrorDate(TimePoint at);

struct GraphRequestIds {
  std::string request_id;
  std::string client_request_id;
};

// Graph's error body. `message` is the server's own words.
[[nodiscard]] nlohmann::json GraphErrorBody(std::string_view code, std::string_view message,
                                            const GraphRequestIds& ids, TimePoint at);

// @odata.context: "<origin>/<version>/$metadata#<what>", where <what> is the
// entity set path, with "(p1,p2)" for a $select and "/$entity" for one entity.
[[nodiscard]] std::string IdentityAccountsContext(std::string_view origin, std::string_view version,
                                                  const std::vector<std::string>& select, bool entity);
// @odata.context of an answer whose value is of the named type.
[[nodiscard]] std::string TypeContext(std::string_view origin, std::string_view version,
                                      std::string_view qualified_type);

// Percent-encodes a query parameter value (RFC 3986 unreserved characters
// stay as they are). Written here: Boost 1.74 has no Boost.URL, and the API
// server does not link libcurl for one loop.
[[nodiscard]] std::string EncodeQueryValue(std::string_view value);

}  // namespace cordon::api
