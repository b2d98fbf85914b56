#include "api/route_context.h"

#include "core/catalogue.h"
#include "core/limits.h"

namespace cordon::api {

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string KnownActions() {
  return Join(kAllActionTypes, [](ActionType t) { return std::string(ToString(t)); });
}
std::string KnownProviders() {
  return Join(kAllProviders, [](Provider p) { return std::string(ToString(p)); });
}

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

std::string ProblemSlug(ErrorCode code) {
  std::string slug(ToString(code));
  std::replace(slug.begin(), slug.end(), '_', '-');
  return slug;
}

bool HasControlCharacter(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool NestsTooDeep(std::string_view body) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : body) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    const char a = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    if (a != prefix[i]) return false;
  }
  return true;
}

std::vector<std::string_view> SplitPath(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t slash = s.find('/', start);
    out.push_back(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

namespace {

std::string KnownStatuses() {
  constexpr ActionStatus kAll[] = {ActionStatus::kAwaitingApproval, ActionStatus::kPending,
                                   ActionStatus::kInProgress,       ActionStatus::kSucceeded,
                                   ActionStatus::kFailed,           ActionStatus::kCancelled,
                                   ActionStatus::kRejected};
  return Join(kAll, [](ActionStatus st) { return std::string(ToString(st)); });
}

constexpr std::string_view kFilterParameters[] = {"status",        "type",   "provider", "target",
                                                  "requestedBy",   "createdAfter", "createdBefore", "bulkId"};
constexpr std::string_view kPagingParameters[] = {"limit", "cursor"};

}  // namespace

tl::expected<ActionFilter, BodyProblem> ActionFilterFrom(const std::map<std::string, std::string>& params,
                                                         bool paging) {
  ActionFilter filter;
  for (const auto& param : params) {
    // Named references rather than a structured binding: the lambda below
    // captures them, which clang 14 refuses for bindings.
    const std::string& key = param.first;
    const std::string& value = param.second;
    const bool known =
        std::find(std::begin(kFilterParameters), std::end(kFilterParameters), key) != std::end(kFilterParameters) ||
        (paging &&
         std::find(std::begin(kPagingParameters), std::end(kPagingParameters), key) != std::end(kPagingParameters));
    // Only a known name is repeated back: it is the server's word, not the client's.
    if (!known) {
      std::vector<std::string_view> names(std::begin(kFilterParameters), std::end(kFilterParameters));
      if (paging) names.insert(names.end(), std::begin(kPagingParameters), std::end(kPagingParameters));
      return tl::unexpected(
          BadRequest("invalid-query", fmt::format("unknown query parameter; known: {}",
                                                  Join(names, [](std::string_view k) { return std::string(k); }))));
    }
    auto bad = [&key](std::string_view why) {
      return tl::unexpected(BadRequest("invalid-query", fmt::format("query parameter '{}': {}", key, why)));
    };
    if (value.empty()) return bad("must not be empty");
    if (key == "status") {
      filter.status = ParseActionStatus(value);
      if (!filter.status) return bad(fmt::format("unknown status; known: {}", KnownStatuses()));
    } else if (key == "type") {
      filter.type = ParseActionType(value);
      if (!filter.type) return bad(fmt::format("unknown action; known: {}", KnownActions()));
    } else if (key == "provider") {
      filter.provider = ParseProvider(value);
      if (!filter.provider) return bad(fmt::format("unknown provider; known: {}", KnownProviders()));
    } else if (key == "target") {
      if (value.size() > kMaxAccountBytes) return bad("too long");
      filter.target = value;
    } else if (key == "requestedBy") {
      filter.requested_by = value;
    } else if (key == "bulkId") {
      filter.bulk_id = value;
    } else if (key == "createdAfter") {
      filter.created_after = ParseTime(value);
      if (!filter.created_after) return bad("must be an RFC 3339 UTC time, e.g. 2026-11-24T20:31:05Z");
    } else if (key == "createdBefore") {
      filter.created_before = ParseTime(value);
      if (!filter.created_before) return bad("must be an RFC 3339 UTC time, e.g. 2026-11-24T20:31:05Z");
    } else if (key == "limit") {
      if (value.size() > 4 || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return bad("must be an integer from 1 to 1000");
      const int limit = std::stoi(value);
      if (limit < 1 || limit > 1000) return bad("must be an integer from 1 to 1000");
      filter.limit = limit;
    } else if (key == "cursor") {
      if (value.size() > kMaxCursorBytes) return bad("too long");
      filter.cursor = value;
    }
  }
  return filter;
}

BodyProblem BadRequest(std::string slug, std::string detail) {
  return {http::status::bad_request, std::move(slug), std::move(detail)};
}

tl::expected<std::string, BodyProblem> RequiredString(const json& body, const char* field, size_t max) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null())
    return tl::unexpected(BadRequest("missing-field", fmt::format("the field '{}' is required", field)));
  if (!it->is_string())
    return tl::unexpected(BadRequest("wrong-type", fmt::format("the field '{}' must be a string", field)));
  std::string value = it->get<std::string>();
  if (Trim(value).empty())
    return tl::unexpected(BadRequest("missing-field", fmt::format("the field '{}' must not be empty", field)));
  if (value.size() > max)
    return tl::unexpected(BadRequest("too-long", fmt::format("the field '{}' is longer than {} bytes", field, max)));
  return value;
}

tl::expected<std::string, BodyProblem> ValidAccount(std::string account, std::string_view field) {
  if (Trim(account).empty())
    return tl::unexpected(BadRequest("missing-field", fmt::format("'{}' holds an empty account name", field)));
  if (account.size() > kMaxAccountBytes)
    return tl::unexpected(
        BadRequest("too-long", fmt::format("an account name in '{}' is longer than {} bytes", field, kMaxAccountBytes)));
  if (HasControlCharacter(account))
    return tl::unexpected(BadRequest("invalid-account", "an account name must not contain control characters"));
  return account;
}

}  // namespace cordon::api
