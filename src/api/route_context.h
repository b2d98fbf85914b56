// What the Router's route handlers share: the request's Context (with the
// helpers that read a body and render an answer), the authenticated Caller,
// and the small text helpers every route uses. Private to src/api: only the
// router's own .cpp files include it, one file per group of routes.
//
// Thread-safety: a Context belongs to one request on one thread.
#pragma once

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <tl/expected.hpp>

#include "api/router.h"
#include "api/safe_text.h"
#include "authz/permissions.h"
#include "core/action.h"

namespace cordon::api {

using json = nlohmann::json;

// Account, reason and bulk sizes come from core/limits.h, shared with the
// ActionService; these two are the API's own (JSON nesting, paging cursor).
inline constexpr size_t kMaxJsonDepth = 16;
inline constexpr size_t kMaxCursorBytes = 512;

// Stored text (accounts, reasons) goes into JSON answers; replace invalid
// UTF-8 instead of letting dump() throw.
std::string Dump(const json& j);

// "a, b, c": the server's own names, for problem details that say what is
// accepted instead of repeating what was sent.
template <typename Range, typename Name>
std::string Join(const Range& items, Name name) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += name(item);
  }
  return out;
}

std::string KnownActions();
std::string KnownProviders();
void ReplaceAll(std::string& text, std::string_view from, std::string_view to);
std::string ProblemSlug(ErrorCode code);
bool HasControlCharacter(std::string_view s);
// nlohmann's parser keeps its own stack, but a deeply nested document still
// costs memory and recursion when destroyed or dumped; no Cordon request nests
// more than a few levels, so refuse early.
bool NestsTooDeep(std::string_view body);
std::string_view Trim(std::string_view s);
// `prefix` in lower case.
bool StartsWithNoCase(std::string_view s, std::string_view prefix);
std::vector<std::string_view> SplitPath(std::string_view s);

// A problem with the request body, reported as 400 (shape) or 422 (values).
struct BodyProblem {
  http::status status = http::status::bad_request;
  std::string slug;
  std::string detail;
};

using BodyResult = tl::expected<json, BodyProblem>;

BodyProblem BadRequest(std::string slug, std::string detail);

// Reads a required, non-empty string field of at most `max` bytes.
tl::expected<std::string, BodyProblem> RequiredString(const json& body, const char* field, size_t max);
// An account name as a request may give it: not blank, not too long, no control characters.
tl::expected<std::string, BodyProblem> ValidAccount(std::string account, std::string_view field);

// The action list's filters from the query (GET /api/v1/actions and its
// export); `paging`: limit and cursor are accepted too. A problem names only
// the server's own words (the parameter's name when it is a known one).
tl::expected<ActionFilter, BodyProblem> ActionFilterFrom(const std::map<std::string, std::string>& params,
                                                         bool paging);

struct Router::Caller {
  Actor actor;
  Role role = Role::kSecurityReader;
};

struct Router::Context {
  const HttpRequest& request;
  const RequestMeta& meta;
  std::string request_id;
  std::string path;  // percent-decoded, for routing only: logs and audit take SafePath of the raw target
  std::map<std::string, std::string> params;
  std::string actor = "anonymous";
  std::string token_id;
  std::string route_class = "unknown";
  std::string action_id;  // the route's action id, once it passed IsActionId
  bool throttled = false;
  bool csrf_refused = false;  // a cookie-authenticated change without the CSRF header or from another origin

  // Method and path as logs and the audit trail may carry them.
  [[nodiscard]] std::string Method() const { return SafeMethod(ToStd(request.method_string())); }
  [[nodiscard]] std::string Path() const { return SafePath(ToStd(request.target())); }

  [[nodiscard]] RoutedResponse Done(HttpResponse response) const {
    response.set(http::field::cache_control, "no-store");
    response.set("X-Content-Type-Options", "nosniff");
    response.set("X-Request-Id", request_id);
    response.prepare_payload();
    return {std::move(response), route_class, actor, token_id, request_id, throttled};
  }

  [[nodiscard]] RoutedResponse Fail(http::status status, std::string_view slug, std::string_view detail) const {
    return Done(Problem(status, slug, detail, request_id, request.version(), request.keep_alive()));
  }

  // A store or service error. Their messages may name the action the route
  // names, which the client sent: it becomes "the action" (it is theirs to
  // know which). Internal errors say nothing but the request id; the log has
  // the rest.
  [[nodiscard]] RoutedResponse FailWith(const Error& error) const {
    const http::status status = HttpStatusFor(error.code);
    if (status == http::status::internal_server_error) {
      spdlog::error("api: request {} ({} {}): internal error: {}", request_id, Method(), Path(),
                    SafeText(error.message, 1024));
      return Fail(status, ProblemSlug(error.code), "internal error; the server log has it under this request's id");
    }
    if (!action_id.empty()) {
      if (error.code == ErrorCode::kNotFound) return Fail(status, ProblemSlug(error.code), "no action has this id");
      std::string detail = error.message;
      ReplaceAll(detail, "action " + action_id, "the action");
      ReplaceAll(detail, action_id, "the action");
      return Fail(status, ProblemSlug(error.code), detail);
    }
    return Fail(status, ProblemSlug(error.code), error.message);
  }

  [[nodiscard]] RoutedResponse Json(http::status status, const json& body) const {
    HttpResponse response(status, request.version());
    response.set(http::field::content_type, "application/json");
    response.keep_alive(request.keep_alive());
    response.body() = Dump(body);
    return Done(std::move(response));
  }

  [[nodiscard]] RoutedResponse MethodNotAllowed(std::string_view allow) const {
    HttpResponse response = Problem(http::status::method_not_allowed, "method-not-allowed",
                                    fmt::format("allowed methods on this route: {}", allow), request_id,
                                    request.version(), request.keep_alive());
    response.set(http::field::allow, ToBeast(allow));
    return Done(std::move(response));
  }

  [[nodiscard]] RoutedResponse AuthFailed(const Error& error) {
    if (error.code == ErrorCode::kResourceExhausted) {
      throttled = true;
      HttpResponse response = Problem(http::status::too_many_requests, "too-many-failed-authentications",
                                      error.message, request_id, request.version(), request.keep_alive());
      const auto wait = std::chrono::duration_cast<std::chrono::seconds>(error.retry_after.value_or(Millis(1000)));
      response.set(http::field::retry_after, std::to_string(std::max<int64_t>(wait.count(), 1)));
      return Done(std::move(response));
    }
    if (csrf_refused) return Fail(http::status::forbidden, "csrf", error.message);
    if (error.code != ErrorCode::kUnauthenticated) return FailWith(error);
    HttpResponse response = Problem(http::status::unauthorized, "unauthenticated", error.message, request_id,
                                    request.version(), request.keep_alive());
    // RFC 6750 section 3: name the error only when a token was presented.
    const bool presented = request.find(http::field::authorization) != request.end();
    response.set(http::field::www_authenticate,
                 presented ? "Bearer realm=\"cordon\", error=\"invalid_token\"" : "Bearer realm=\"cordon\"");
    return Done(std::move(response));
  }

  [[nodiscard]] RoutedResponse Fail(const BodyProblem& problem) const {
    return Fail(problem.status, problem.slug, problem.detail);
  }

  // Parses the body as a JSON object with only the `allowed` keys.
  [[nodiscard]] BodyResult ParseObject(std::initializer_list<std::string_view> allowed) const {
    const auto content_type = request.find(http::field::content_type);
    if (content_type != request.end()) {
      const std::string_view value = ToStd(content_type->value());
      const std::string_view media = Trim(value.substr(0, value.find(';')));
      if (!StartsWithNoCase(media, "application/json") || media.size() != 16)
        return tl::unexpected(BodyProblem{http::status::unsupported_media_type, "unsupported-media-type",
                                          "the body must be application/json"});
    }
    const std::string& body = request.body();
    if (body.empty()) return tl::unexpected(BadRequest("malformed-json", "the body must be a JSON object"));
    if (NestsTooDeep(body)) return tl::unexpected(BadRequest("malformed-json", "the JSON body nests too deeply"));
    json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return tl::unexpected(BadRequest("malformed-json", "the body is not valid JSON"));
    if (!parsed.is_object()) return tl::unexpected(BadRequest("malformed-json", "the body must be a JSON object"));
    for (const auto& [key, value] : parsed.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        return tl::unexpected(BadRequest(
            "unknown-field", fmt::format("unknown field; allowed: {}",
                                         Join(allowed, [](std::string_view a) { return std::string(a); }))));
    }
    return parsed;
  }
};

}  // namespace cordon::api
