#include "api/router.h"

#include <algorithm>
#include <array>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/action_json.h"
#include "api/query.h"
#include "authz/permissions.h"
#include "core/catalogue.h"
#include "authz/tokens.h"
#include "engine/action_service.h"

namespace cordon::api {
namespace {

using nlohmann::json;

constexpr std::string_view kActionsPath = "/api/v1/actions";
constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxAccountBytes = 256;
constexpr size_t kMaxReasonBytes = 1024;
constexpr size_t kMaxBulkAccounts = 10000;
constexpr size_t kMaxJsonDepth = 16;
constexpr size_t kMaxCursorBytes = 512;

// Request-supplied text goes into problem details and JSON answers; replace
// invalid UTF-8 instead of letting dump() throw.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string ProblemSlug(ErrorCode code) {
  std::string slug(ToString(code));
  std::replace(slug.begin(), slug.end(), '_', '-');
  return slug;
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

bool HasControlCharacter(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// nlohmann's parser keeps its own stack, but a deeply nested document still
// costs memory and recursion when destroyed or dumped; no Cordon request nests
// more than a few levels, so refuse early.
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

// A problem with the request body, reported as 400 (shape) or 422 (values).
struct BodyProblem {
  http::status status = http::status::bad_request;
  std::string slug;
  std::string detail;
};

using BodyResult = tl::expected<json, BodyProblem>;

BodyProblem BadRequest(std::string slug, std::string detail) {
  return {http::status::bad_request, std::move(slug), std::move(detail)};
}

}  // namespace

struct Router::Caller {
  Actor actor;
  Role role = Role::kSecurityReader;
};

struct Router::Context {
  const HttpRequest& request;
  std::string path;
  std::map<std::string, std::string> params;
  std::string actor = "anonymous";
  std::string route_class = "unknown";

  // Bounded: Beast accepts any token as a method, and it reaches logs and the audit trail.
  [[nodiscard]] std::string Method() const { return std::string(ToStd(request.method_string()).substr(0, 16)); }

  [[nodiscard]] RoutedResponse Done(HttpResponse response) const {
    response.set(http::field::cache_control, "no-store");
    response.set("X-Content-Type-Options", "nosniff");
    response.prepare_payload();
    return {std::move(response), route_class, actor};
  }

  [[nodiscard]] RoutedResponse Fail(http::status status, std::string_view slug, std::string_view detail) const {
    return Done(Problem(status, slug, detail, path, request.version(), request.keep_alive()));
  }

  [[nodiscard]] RoutedResponse FailWith(const Error& error) const {
    const http::status status = HttpStatusFor(error.code);
    if (status == http::status::internal_server_error) {
      spdlog::error("api: {} {}: internal error: {}", Method(), path, error.message);
      return Fail(status, ProblemSlug(error.code), "internal error; see the server log");
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
                                    fmt::format("allowed methods on {}: {}", path, allow), path,
                                    request.version(), request.keep_alive());
    response.set(http::field::allow, ToBeast(allow));
    return Done(std::move(response));
  }

  [[nodiscard]] RoutedResponse AuthFailed(const Error& error) const {
    if (error.code != ErrorCode::kUnauthenticated) return FailWith(error);
    HttpResponse response = Problem(http::status::unauthorized, "unauthenticated", error.message, path,
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
        return tl::unexpected(BadRequest("unknown-field", fmt::format("unknown field '{}'", key.substr(0, 64))));
    }
    return parsed;
  }
};

namespace {

// Reads a required, non-empty string field of at most `max` bytes.
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

// Each provider's standing in Prometheus text. Labels are fixed words
// (provider names, states, causes), never provider text.
std::string RenderProviderHealth(const std::vector<ProviderHealth>& providers) {
  std::string out;
  out += "# HELP cordon_provider_state Whether each provider is running, held (throttled) or paused (outage).\n";
  out += "# TYPE cordon_provider_state gauge\n";
  for (const ProviderHealth& h : providers)
    for (ProviderState state : {ProviderState::kRunning, ProviderState::kHeld, ProviderState::kPaused})
      out += fmt::format("cordon_provider_state{{provider=\"{}\",state=\"{}\"}} {}\n", ToString(h.provider),
                         ToString(state), h.state == state ? 1 : 0);
  out += "# HELP cordon_provider_state_since_seconds When the provider entered its current state (Unix time).\n";
  out += "# TYPE cordon_provider_state_since_seconds gauge\n";
  for (const ProviderHealth& h : providers)
    out += fmt::format("cordon_provider_state_since_seconds{{provider=\"{}\",cause=\"{}\"}} {:.3f}\n",
                       ToString(h.provider), h.state == ProviderState::kRunning ? "" : h.cause,
                       static_cast<double>(ToUnixMillis(h.since)) / 1000.0);
  auto counter = [&](std::string_view name, std::string_view help, int64_t ProviderHealth::*field) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, help, name);
    for (const ProviderHealth& h : providers)
      out += fmt::format("{}{{provider=\"{}\"}} {}\n", name, ToString(h.provider), h.*field);
  };
  counter("cordon_provider_pauses_total", "Times the provider was paused for an outage.", &ProviderHealth::pauses);
  counter("cordon_provider_holds_total", "Times the provider throttled Cordon.", &ProviderHealth::holds);
  counter("cordon_provider_probes_total", "Probes of a paused provider.", &ProviderHealth::probes);
  counter("cordon_provider_probes_failed_total", "Probes that found the provider still failing.",
          &ProviderHealth::probes_failed);
  counter("cordon_provider_errors_total", "Failures of the provider as a whole (no action spent an attempt).",
          &ProviderHealth::provider_errors);
  counter("cordon_provider_requests_permitted_total", "Requests the rate budget let through.",
          &ProviderHealth::permits);
  return out;
}

}  // namespace

http::status HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return http::status::bad_request;
    case ErrorCode::kNotFound: return http::status::not_found;
    case ErrorCode::kAlreadyExists: return http::status::conflict;
    case ErrorCode::kPermissionDenied: return http::status::forbidden;
    case ErrorCode::kUnauthenticated: return http::status::unauthorized;
    case ErrorCode::kFailedPrecondition: return http::status::conflict;
    case ErrorCode::kConflict: return http::status::conflict;
    case ErrorCode::kUnavailable: return http::status::service_unavailable;
    case ErrorCode::kTimeout: return http::status::service_unavailable;
    case ErrorCode::kResourceExhausted: return http::status::too_many_requests;
    case ErrorCode::kInternal: return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

HttpResponse Problem(http::status status, std::string_view slug, std::string_view detail, std::string_view instance,
                     unsigned version, bool keep_alive) {
  HttpResponse response(status, version);
  response.set(http::field::content_type, ToBeast(kProblemContentType));
  response.keep_alive(keep_alive);
  const json doc{
      {"type", fmt::format("urn:cordon:problem:{}", slug)},
      {"title", std::string(http::obsolete_reason(status))},
      {"status", static_cast<unsigned>(status)},
      {"detail", std::string(detail)},
      {"instance", std::string(instance)},
  };
  response.body() = Dump(doc);
  response.prepare_payload();
  return response;
}

Router::Router(Store& store, ActionService& actions, HttpMetrics& metrics,
               std::function<std::string()> metrics_extra,
               std::function<std::vector<ProviderHealth>()> provider_health)
    : store_(store),
      actions_(actions),
      metrics_(metrics),
      metrics_extra_(std::move(metrics_extra)),
      provider_health_(std::move(provider_health)) {}

RoutedResponse Router::Handle(const HttpRequest& request) {
  Context ctx{request};
  try {
    auto target = ParseTarget(ToStd(request.target()));
    if (!target) {
      ctx.path = "/";
      return ctx.Fail(http::status::bad_request, "malformed-target", target.error().message);
    }
    ctx.path = std::move(target->path);
    ctx.params = std::move(target->params);
    return Route(ctx);
  } catch (const std::exception& e) {
    spdlog::error("api: {} {}: unexpected exception: {}", ctx.Method(), ctx.path, e.what());
  } catch (...) {
    spdlog::error("api: {} {}: unexpected exception", ctx.Method(), ctx.path);
  }
  return ctx.Fail(http::status::internal_server_error, "internal", "internal error; see the server log");
}

RoutedResponse Router::Route(Context& ctx) {
  const http::verb method = ctx.request.method();
  const std::string_view path = ctx.path;

  if (path == "/healthz") {
    ctx.route_class = "healthz";
    if (method != http::verb::get) return ctx.MethodNotAllowed("GET");
    return Healthz(ctx);
  }
  if (path == "/metrics") {
    ctx.route_class = "metrics";
    if (method != http::verb::get) return ctx.MethodNotAllowed("GET");
    return Metrics(ctx);
  }
  if (path.substr(0, kActionsPath.size()) == kActionsPath) {
    const std::string_view rest = path.substr(kActionsPath.size());
    if (rest.empty()) {
      if (method == http::verb::get) {
        ctx.route_class = "actions.list";
        return List(ctx);
      }
      if (method == http::verb::post) {
        ctx.route_class = "actions.submit";
        return Submit(ctx, false);
      }
      ctx.route_class = "actions";
      return ctx.MethodNotAllowed("GET, POST");
    }
    if (rest == "/bulk") {
      ctx.route_class = "actions.bulk";
      if (method != http::verb::post) return ctx.MethodNotAllowed("POST");
      return Submit(ctx, true);
    }
    if (rest.front() == '/') {
      const auto segments = SplitPath(rest.substr(1));
      if (segments.size() == 1 && IsValidId(segments[0])) {
        ctx.route_class = "actions.get";
        if (method != http::verb::get) return ctx.MethodNotAllowed("GET");
        return GetOne(ctx, std::string(segments[0]));
      }
      if (segments.size() == 2 && IsValidId(segments[0]) && (segments[1] == "cancel" || segments[1] == "undo")) {
        const bool undo = segments[1] == "undo";
        ctx.route_class = undo ? "actions.undo" : "actions.cancel";
        if (method != http::verb::post) return ctx.MethodNotAllowed("POST");
        return CancelOrUndo(ctx, std::string(segments[0]), undo);
      }
    }
  }
  return ctx.Fail(http::status::not_found, "not-found", "no such route");
}

void Router::AuditRefusal(Context& ctx, std::string_view event, std::string_view actor, std::string_view detail) {
  AuditEvent audit;
  audit.at = Now();
  audit.actor = std::string(actor);
  audit.event = std::string(event);
  // Method and path only: the query may carry search terms and the headers
  // the token; neither belongs in the trail.
  audit.detail = fmt::format("{} {}", ctx.Method(), ctx.path.substr(0, 512));
  if (!detail.empty()) audit.detail += fmt::format(" ({})", detail);
  if (auto st = store_.AppendAudit(audit); !st)
    spdlog::error("api: cannot audit a refused call: {}", st.error().message);
}

Result<Router::Caller> Router::Authenticate(Context& ctx) {
  auto refuse = [&](std::string message) -> Result<Caller> {
    metrics_.CountAuthFailure(AuthFailure::kUnauthenticated);
    AuditRefusal(ctx, "auth.unauthenticated", "anonymous", "");
    return cordon::Fail(Error::Unauthenticated(std::move(message)));
  };

  const auto header = ctx.request.find(http::field::authorization);
  if (header == ctx.request.end()) return refuse("a bearer token is required");
  const std::string_view value = Trim(ToStd(header->value()));
  if (value.size() > kMaxTokenBytes || !StartsWithNoCase(value, "bearer "))
    return refuse("the Authorization header must be 'Bearer <token>'");
  const std::string_view token = Trim(value.substr(7));
  if (token.empty()) return refuse("the Authorization header must be 'Bearer <token>'");

  auto record = store_.FindTokenByDigest(TokenDigest(token));
  if (!record) return cordon::Fail(std::move(record.error()));
  if (!record->has_value() || !(*record)->UsableAt(Now())) return refuse("the token is unknown, revoked or expired");
  const auto role = ParseRole((*record)->role);
  if (!role) return refuse("the token has no valid role");
  ctx.actor = (*record)->name;
  return Caller{Actor{(*record)->name, (*record)->id}, *role};
}

// Unauthenticated, so it says little and costs the same whatever the store
// holds: one constant query, and the engine's view of each provider from
// memory. A paused or held provider makes the server "degraded" (still 200:
// it accepts and records work; the provider is what cannot take it now), with
// which provider, since when and a fixed word for why; the provider's own
// words stay behind authentication (/metrics, the actions' attempts).
RoutedResponse Router::Healthz(Context& ctx) {
  if (auto ping = store_.Ping(); !ping) {
    spdlog::warn("api: health check: store unreachable: {}", ping.error().message);
    return ctx.Json(http::status::service_unavailable, json{{"status", "unavailable"}, {"store", "unreachable"}});
  }
  json providers = json::array();
  bool degraded = false;
  if (provider_health_) {
    for (const ProviderHealth& h : provider_health_()) {
      json p{{"provider", ToString(h.provider)}, {"state", ToString(h.state)}};
      if (h.state != ProviderState::kRunning) {
        degraded = true;
        p["since"] = FormatTime(h.since);
        p["cause"] = h.cause;
        p[h.state == ProviderState::kHeld ? "until" : "nextProbe"] = FormatTime(h.until);
      }
      providers.push_back(std::move(p));
    }
  }
  return ctx.Json(http::status::ok,
                  json{{"status", degraded ? "degraded" : "ok"}, {"store", "ok"}, {"providers", std::move(providers)}});
}

RoutedResponse Router::Metrics(Context& ctx) {
  auto caller = Authenticate(ctx);
  if (!caller) return ctx.AuthFailed(caller.error());

  std::string text;
  auto counts = store_.CountByStatus();
  text += "# HELP cordon_store_up Whether the action center's store answered this scrape.\n";
  text += "# TYPE cordon_store_up gauge\n";
  text += fmt::format("cordon_store_up {}\n", counts ? 1 : 0);
  if (counts) {
    text += "# HELP cordon_actions Actions in the action center, by status.\n";
    text += "# TYPE cordon_actions gauge\n";
    for (const ActionStatus status : {ActionStatus::kAwaitingApproval, ActionStatus::kPending,
                                      ActionStatus::kInProgress, ActionStatus::kSucceeded, ActionStatus::kFailed,
                                      ActionStatus::kCancelled, ActionStatus::kRejected}) {
      int64_t n = 0;
      for (const StatusCount& c : *counts)
        if (c.status == status) n += c.count;
      text += fmt::format("cordon_actions{{status=\"{}\"}} {}\n", ToString(status), n);
    }
  }
  text += metrics_.Render();
  if (provider_health_) text += RenderProviderHealth(provider_health_());
  if (metrics_extra_) text += metrics_extra_();

  HttpResponse response(http::status::ok, ctx.request.version());
  response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  response.keep_alive(ctx.request.keep_alive());
  response.body() = std::move(text);
  return ctx.Done(std::move(response));
}

RoutedResponse Router::Submit(Context& ctx, bool bulk) {
  auto caller = Authenticate(ctx);
  if (!caller) return ctx.AuthFailed(caller.error());

  auto body = bulk ? ctx.ParseObject({"action", "provider", "accounts", "reason"})
                   : ctx.ParseObject({"action", "provider", "account", "reason"});
  if (!body) return ctx.Fail(body.error());

  auto action_name = RequiredString(*body, "action", 64);
  if (!action_name) return ctx.Fail(action_name.error());
  auto provider_name = RequiredString(*body, "provider", 64);
  if (!provider_name) return ctx.Fail(provider_name.error());
  auto reason = RequiredString(*body, "reason", kMaxReasonBytes);
  if (!reason) return ctx.Fail(reason.error());

  std::vector<std::string> targets;
  if (bulk) {
    const auto it = body->find("accounts");
    if (it == body->end() || it->is_null())
      return ctx.Fail(http::status::bad_request, "missing-field", "the field 'accounts' is required");
    if (!it->is_array())
      return ctx.Fail(http::status::bad_request, "wrong-type", "the field 'accounts' must be an array of strings");
    if (it->empty() || it->size() > kMaxBulkAccounts)
      return ctx.Fail(http::status::bad_request, "bulk-size",
                      fmt::format("'accounts' must list 1 to {} accounts", kMaxBulkAccounts));
    targets.reserve(it->size());
    for (const json& entry : *it) {
      if (!entry.is_string())
        return ctx.Fail(http::status::bad_request, "wrong-type", "the field 'accounts' must be an array of strings");
      auto account = ValidAccount(entry.get<std::string>(), "accounts");
      if (!account) return ctx.Fail(account.error());
      targets.push_back(std::move(*account));
    }
  } else {
    auto account = RequiredString(*body, "account", kMaxAccountBytes);
    if (!account) return ctx.Fail(account.error());
    auto valid = ValidAccount(std::move(*account), "account");
    if (!valid) return ctx.Fail(valid.error());
    targets.push_back(std::move(*valid));
  }

  const auto type = ParseActionType(*action_name);
  if (!type)
    return ctx.Fail(http::status::unprocessable_entity, "unknown-action",
                    fmt::format("unknown action '{}'", action_name->substr(0, 64)));
  const auto provider = ParseProvider(*provider_name);
  if (!provider)
    return ctx.Fail(http::status::unprocessable_entity, "unknown-provider",
                    fmt::format("unknown provider '{}'", provider_name->substr(0, 64)));
  if (!CatalogueHas(*provider, *type))
    return ctx.Fail(http::status::unprocessable_entity, "action-not-offered",
                    fmt::format("the provider '{}' does not offer the action '{}'", ToString(*provider),
                                ToString(*type)));
  if (!MayRun(caller->role, *provider, *type)) {
    const std::string what = fmt::format("{} at {}", ToString(*type), ToString(*provider));
    metrics_.CountAuthFailure(AuthFailure::kForbidden);
    AuditRefusal(ctx, "auth.forbidden", caller->actor.name, what);
    return ctx.Fail(http::status::forbidden, "forbidden",
                    fmt::format("the role '{}' may not run {}", ToString(caller->role), what));
  }

  SubmitRequest request;
  request.type = *type;
  request.provider = *provider;
  request.targets = std::move(targets);
  request.reason = std::move(*reason);
  request.actor = caller->actor;
  request.bulk = bulk;
  auto created = actions_.Submit(request);
  if (!created) return ctx.FailWith(created.error());
  if (created->empty()) return ctx.Fail(http::status::internal_server_error, "internal", "no action was created");

  if (!bulk) {
    const Action& action = created->front();
    RoutedResponse out = ctx.Json(http::status::accepted, ActionToJson(action));
    out.response.set(http::field::location, fmt::format("{}/{}", kActionsPath, action.id));
    return out;
  }
  json ids = json::array();
  for (const Action& a : *created) ids.push_back(a.id);
  const std::string& bulk_id = created->front().bulk_id;
  RoutedResponse out = ctx.Json(http::status::accepted, json{{"bulkId", bulk_id.empty() ? json(nullptr) : json(bulk_id)},
                                                             {"count", created->size()},
                                                             {"actions", std::move(ids)}});
  if (!bulk_id.empty()) out.response.set(http::field::location, fmt::format("{}?bulkId={}", kActionsPath, bulk_id));
  return out;
}

RoutedResponse Router::GetOne(Context& ctx, const std::string& id) {
  auto caller = Authenticate(ctx);
  if (!caller) return ctx.AuthFailed(caller.error());

  auto action = store_.GetAction(id);
  if (!action) return ctx.FailWith(action.error());
  auto attempts = store_.GetAttempts(id);
  if (!attempts) return ctx.FailWith(attempts.error());
  auto audit = store_.GetAudit(id);
  if (!audit) return ctx.FailWith(audit.error());
  return ctx.Json(http::status::ok, ActionDetailToJson(*action, *attempts, *audit));
}

RoutedResponse Router::List(Context& ctx) {
  auto caller = Authenticate(ctx);
  if (!caller) return ctx.AuthFailed(caller.error());

  ActionFilter filter;
  for (const auto& param : ctx.params) {
    // Named references rather than a structured binding: the lambda below
    // captures them, which clang 14 refuses for bindings.
    const std::string& key = param.first;
    const std::string& value = param.second;
    auto bad = [&](std::string_view why) {
      return ctx.Fail(http::status::bad_request, "invalid-query", fmt::format("query parameter '{}': {}", key, why));
    };
    if (value.empty()) return bad("must not be empty");
    if (key == "status") {
      filter.status = ParseActionStatus(value);
      if (!filter.status) return bad("unknown status");
    } else if (key == "type") {
      filter.type = ParseActionType(value);
      if (!filter.type) return bad("unknown action");
    } else if (key == "provider") {
      filter.provider = ParseProvider(value);
      if (!filter.provider) return bad("unknown provider");
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
      int limit = 0;
      if (value.size() > 4 || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return bad("must be an integer from 1 to 1000");
      limit = std::stoi(value);
      if (limit < 1 || limit > 1000) return bad("must be an integer from 1 to 1000");
      filter.limit = limit;
    } else if (key == "cursor") {
      if (value.size() > kMaxCursorBytes) return bad("too long");
      filter.cursor = value;
    } else {
      return ctx.Fail(http::status::bad_request, "invalid-query",
                      fmt::format("unknown query parameter '{}'", key.substr(0, 64)));
    }
  }
  auto page = store_.ListActions(filter);
  if (!page) return ctx.FailWith(page.error());
  json value = json::array();
  for (const Action& a : page->actions) value.push_back(ActionToJson(a));
  return ctx.Json(http::status::ok,
                  json{{"value", std::move(value)},
                       {"nextCursor", page->next_cursor.empty() ? json(nullptr) : json(page->next_cursor)}});
}

RoutedResponse Router::CancelOrUndo(Context& ctx, const std::string& id, bool undo) {
  auto caller = Authenticate(ctx);
  if (!caller) return ctx.AuthFailed(caller.error());

  auto body = ctx.ParseObject({"reason"});
  if (!body) return ctx.Fail(body.error());
  auto reason = RequiredString(*body, "reason", kMaxReasonBytes);
  if (!reason) return ctx.Fail(reason.error());

  auto original = store_.GetAction(id);
  if (!original) return ctx.FailWith(original.error());

  // Cancelling needs the right to run the action itself; undoing needs the
  // right to run the reverse action.
  ActionType needed = original->type;
  if (undo) {
    const auto reverse = UndoOf(original->provider, original->type);
    if (!reverse)
      return ctx.Fail(http::status::conflict, "irreversible",
                      fmt::format("{} at {} cannot be undone", ToString(original->type),
                                  ToString(original->provider)));
    needed = *reverse;
  }
  if (!MayRun(caller->role, original->provider, needed)) {
    const std::string what = fmt::format("{} of {} at {}", undo ? "undo" : "cancel", ToString(original->type),
                                         ToString(original->provider));
    metrics_.CountAuthFailure(AuthFailure::kForbidden);
    AuditRefusal(ctx, "auth.forbidden", caller->actor.name, what);
    return ctx.Fail(http::status::forbidden, "forbidden",
                    fmt::format("the role '{}' may not {}", ToString(caller->role), what));
  }

  if (!undo) {
    auto cancelled = actions_.Cancel(id, caller->actor, *reason);
    if (!cancelled) return ctx.FailWith(cancelled.error());
    return ctx.Json(http::status::ok, ActionToJson(*cancelled));
  }
  auto created = actions_.Undo(id, caller->actor, *reason);
  if (!created) return ctx.FailWith(created.error());
  RoutedResponse out = ctx.Json(http::status::accepted, ActionToJson(*created));
  out.response.set(http::field::location, fmt::format("{}/{}", kActionsPath, created->id));
  return out;
}

}  // namespace cordon::api
