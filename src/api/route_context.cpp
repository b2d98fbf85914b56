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
