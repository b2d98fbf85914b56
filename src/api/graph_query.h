// The OData query options of the Graph-compatible API: what a client may ask
// of GET .../security/identities/identityAccounts and of one identityAccounts.
//
// Served: $filter on displayName (`eq`, `startswith(displayName,'...')`) and
// domain (`eq`), joined by `and`, with optional parentheses; $top; $select;
// $skiptoken (the position the previous page's @odata.nextLink carries).
// Anything else is refused with a fixed message in Graph's style that never
// repeats the client's text, since the message goes back in an error body.
//
// OData's grammar is small enough here that a hand-written parser is the
// honest size: no library in use parses OData, and a general one would accept
// far more than the inventory can answer.
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace cordon::api {

// Graph's page size for lists such as /users: 100 unless $top says otherwise,
// and $top at most 999.
inline constexpr int kGraphDefaultTop = 100;
inline constexpr int kGraphMaxTop = 999;
// Parentheses deeper than this are refused (no real filter needs them).
inline constexpr int kGraphMaxFilterDepth = 8;

// What a $filter asks, each condition at most once. Case is ignored when the
// inventory compares (IdentityFilter).
struct GraphFilter {
  std::optional<std::string> display_name;         // displayName eq '...'
  std::optional<std::string> display_name_prefix;  // startswith(displayName,'...')
  std::optional<std::string> domain;               // domain eq '...'

  friend bool operator==(const GraphFilter&, const GraphFilter&) = default;
};

// The properties of microsoft.graph.security.identityAccounts, as Graph names
// them, in the order answers list them.
inline constexpr std::string_view kIdentityAccountsProperties[] = {
    "id",     "displayName", "domain", "isEnabled", "onPremisesSecurityIdentifier", "cloudSecurityIdentifier",
    "accounts"};

struct GraphListQuery {
  GraphFilter filter;
  int top = kGraphDefaultTop;
  std::string skiptoken;            // empty: the first page
  std::vector<std::string> select;  // canonical property names, in the order asked; empty: all
};

// Parses a $filter expression. Errors are kInvalidArgument with a message fit
// for Graph's error body.
[[nodiscard]] Result<GraphFilter> ParseGraphFilter(std::string_view text);

// Parses a $select list ("displayName,accounts"): names are matched ignoring
// case and returned as Graph spells them, duplicates dropped.
[[nodiscard]] Result<std::vector<std::string>> ParseGraphSelect(std::string_view text);

// The query options of the list (decoded query parameters, as ParseTarget
// gives them). `max_skiptoken` bounds the opaque position.
[[nodiscard]] Result<GraphListQuery> ParseGraphListQuery(const std::map<std::string, std::string>& params,
                                                         size_t max_skiptoken);

// The query options of one identityAccounts ($select only).
[[nodiscard]] Result<std::vector<std::string>> ParseGraphGetQuery(const std::map<std::string, std::string>& params);

// An OData string literal: 'O''Brien' for O'Brien.
[[nodiscard]] std::string ODataString(std::string_view value);

// A $filter that asks what `filter` holds (for the next page's link), or
// empty when it holds nothing.
[[nodiscard]] std::string FormatGraphFilter(const GraphFilter& filter);

}  // namespace cordon::api
