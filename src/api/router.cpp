#include "api/router.h"

#include <algorithm>
#include <array>
#include <exception>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "api/action_json.h"
#include "api/graph_wire.h"
#include "api/query.h"
#include "api/route_context.h"
#include "api/safe_text.h"
#include "authz/permissions.h"
#include "authz/tokens.h"
#include "core/catalogue.h"
#include "core/limits.h"
#include "engine/action_service.h"

namespace cordon::api {
namespace {

constexpr std::string_view kActionsPath = "/api/v1/actions";
constexpr std::string_view kRisksPath = "/api/v1/risks";

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
  counter("cordon_provider_rate_limited_total", "Requests the provider refused for its rate limit (429).",
          &ProviderHealth::rate_limited);
  // The provider's own limits, one window per bucket while it lasts: what it
  // allows, what it says is left, what Cordon may still send, and when it resets.
  auto window_gauge = [&](std::string_view name, std::string_view help, auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
    for (const ProviderHealth& h : providers)
      for (const RateWindowHealth& w : h.rate_windows)
        out += fmt::format("{}{{provider=\"{}\",bucket=\"{}\"}} {}\n", name, ToString(h.provider), w.bucket, value(w));
  };
  window_gauge("cordon_provider_rate_limit", "Requests the provider allows in its current window.",
               [](const RateWindowHealth& w) { return w.limit; });
  window_gauge("cordon_provider_rate_limit_remaining", "Requests left in the window, as the provider reported.",
               [](const RateWindowHealth& w) { return w.remaining; });
  window_gauge("cordon_provider_rate_budget_left", "Requests Cordon may still send in the window (its share).",
               [](const RateWindowHealth& w) { return w.budget_left; });
  window_gauge("cordon_provider_rate_limit_resets_in_seconds", "Seconds until the window resets.",
               [](const RateWindowHealth& w) { return fmt::format("{:.3f}", w.resets_in.count() / 1000.0); });
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

std::string NewRequestId() {
  std::array<unsigned char, 12> bytes{};
  // Uniqueness is what matters here, not secrecy; should the generator fail,
  // the bytes stay zero and the id is still a well-formed one.
  (void)RAND_bytes(bytes.data(), static_cast<int>(bytes.size()));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(kRequestIdPrefix);
  for (const unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

bool IsMutation(const HttpRequest& request) { return request.method() == http::verb::post; }

std::string AccessLogLine(std::string_view method, std::string_view target, unsigned status, int64_t millis,
                          const RoutedResponse& routed) {
  return fmt::format("http {} {} {} {}ms route={} actor={} token={} request={}", SafeMethod(method),
                     SafePath(target), status, millis, routed.route_class, SafeText(routed.actor, 128),
                     routed.token_id.empty() ? "-" : SafeText(routed.token_id, 64),
                     routed.request_id.empty() ? "-" : routed.request_id);
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
               std::function<std::vector<ProviderHealth>()> provider_health, RouterOptions options,
               RouterInventory inventory)
    : store_(store),
      actions_(actions),
      metrics_(metrics),
      metrics_extra_(std::move(metrics_extra)),
      provider_health_(std::move(provider_health)),
      inventory_(inventory),
      failures_(options.failures),
      records_(store, options.records) {}

Status Router::Flush() { return records_.Flush(); }
void Router::StartBackground() { records_.Start(); }
void Router::StopBackground() { records_.Stop(); }

RoutedResponse Router::Handle(const HttpRequest& request, const RequestMeta& meta) {
  Context ctx{request, meta};
  ctx.request_id = meta.request_id.empty() ? NewRequestId() : meta.request_id;
  try {
    auto target = ParseTarget(ToStd(request.target()));
    if (!target) {
      if (GraphVersionOf(ToStd(request.target()))) return GraphBadTarget(ctx, target.error());
      return ctx.Fail(http::status::bad_request, "malformed-target", target.error().message);
    }
    ctx.path = std::move(target->path);
    ctx.params = std::move(target->params);
    return Route(ctx);
  } catch (const std::exception& e) {
    spdlog::error("api: request {} ({} {}): unexpected exception: {}", ctx.request_id, ctx.Method(), ctx.Path(),
                  SafeText(e.what(), 1024));
  } catch (...) {
    spdlog::error("api: request {} ({} {}): unexpected exception", ctx.request_id, ctx.Method(), ctx.Path());
  }
  return ctx.Fail(http::status::internal_server_error, "internal",
                  "internal error; the server log has it under this request's id");
}

RoutedResponse Router::Route(Context& ctx) {
  const http::verb method = ctx.request.method();
  const std::string_view path = ctx.path;

  if (path == "/" || path == "/console" || path.starts_with("/console/")) return Console(ctx);
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
  if (path == kRisksPath) {
    ctx.route_class = "risks.list";
    if (method != http::verb::get) return ctx.MethodNotAllowed("GET");
    return Risks(ctx);
  }
  if (path == "/api/v1/me") return Me(ctx);
  if (path == "/api/v1/identities") return ListIdentities(ctx);
  if (path.starts_with("/api/v1/identities/")) return GetIdentity(ctx, path.substr(19));
  if (path == "/api/v1/inventory/sync") return SyncInventory(ctx);
  if (path == "/api/v1/inventory") return InventoryStatus(ctx);
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
    if (rest == "/export") {
      ctx.route_class = "actions.export";
      if (method != http::verb::get) return ctx.MethodNotAllowed("GET");
      return ExportActions(ctx);
    }
    if (rest == "/bulk") {
      ctx.route_class = "actions.bulk";
      if (method != http::verb::post) return ctx.MethodNotAllowed("POST");
      return Submit(ctx, true);
    }
    if (rest.front() == '/') {
      const auto segments = SplitPath(rest.substr(1));
      if (segments.size() == 1 && !segments[0].empty()) {
        ctx.route_class = "actions.get";
        if (method != http::verb::get) return ctx.MethodNotAllowed("GET");
        return GetOne(ctx, std::string(segments[0]));
      }
      if (segments.size() == 2 && !segments[0].empty() && (segments[1] == "cancel" || segments[1] == "undo")) {
        const bool undo = segments[1] == "undo";
        ctx.route_class = undo ? "actions.undo" : "actions.cancel";
        if (method != http::verb::post) return ctx.MethodNotAllowed("POST");
        return CancelOrUndo(ctx, std::string(segments[0]), undo);
      }
    }
  }
  if (const auto version = GraphVersionOf(path)) return GraphRoute(ctx, *version);
  return ctx.Fail(http::status::not_found, "not-found", "no such route");
}

void Router::RecordRefusal(Context& ctx, std::string_view event, std::string_view actor, std::string_view token_id,
                           std::string_view what) {
  Refusal refusal;
  refusal.event = std::string(event);
  refusal.client_address = SafeText(ctx.meta.client_address, 64);
  refusal.actor = std::string(actor);
  refusal.token_id = std::string(token_id);
  refusal.route_class = ctx.route_class;
  // Method and path only: the query may carry search terms and the headers
  // the token; neither belongs in the trail.
  refusal.detail = fmt::format("{} {}", ctx.Method(), ctx.Path());
  if (!what.empty()) refusal.detail += fmt::format(" ({})", what);
  refusal.at = Now();
  records_.Refused(std::move(refusal));
}

Result<Router::Caller> Router::Refuse(Context& ctx, std::string message, std::string_view why,
                                      const TokenRecord* known) {
  // `why` is for the audit trail, in the server's words; `known` is the
  // presented token when the store knows it (revoked or expired).
  RecordRefusal(ctx, "auth.unauthenticated", "anonymous", known != nullptr ? known->id : "", why);
  const auto verdict = failures_.Failure(ctx.meta.client_address, std::chrono::steady_clock::now());
  if (verdict.allowed) {
    metrics_.CountAuthFailure(AuthFailure::kUnauthenticated);
    return cordon::Fail(Error::Unauthenticated(std::move(message)));
  }
  metrics_.CountAuthFailure(AuthFailure::kThrottled);
  if (verdict.newly_throttled)
    spdlog::warn("api: too many failed authentications from {}: answering 429 until they slow down",
                 SafeText(ctx.meta.client_address.empty() ? "-" : ctx.meta.client_address, 64));
  Error error = Error::ResourceExhausted("too many failed authentications from this address; retry later");
  error.retry_after = verdict.retry_after;
  return cordon::Fail(std::move(error));
}

Result<Router::Caller> Router::CheckToken(Context& ctx, std::string_view token) {
  // Looked up on every call, never cached: a revocation or an expiry takes
  // effect on the next request.
  auto record = store_.FindTokenByDigest(TokenDigest(token));
  if (!record) return cordon::Fail(std::move(record.error()));
  constexpr std::string_view kRefused = "the token is unknown, revoked or expired";
  if (!record->has_value()) return Refuse(ctx, std::string(kRefused), "unknown token", nullptr);
  const TokenRecord& known = **record;
  const TimePoint now = Now();
  if (known.revoked) return Refuse(ctx, std::string(kRefused), "revoked token", &known);
  if (!known.UsableAt(now)) return Refuse(ctx, std::string(kRefused), "expired token", &known);
  const auto role = ParseRole(known.role);
  if (!role) return Refuse(ctx, "the token has no valid role", "token without a valid role", &known);
  ctx.actor = known.name;
  ctx.token_id = known.id;
  records_.Used(known.id, now);
  return Caller{Actor{known.name, known.id}, *role};
}

Result<Router::Caller> Router::Authenticate(Context& ctx) {
  const auto header = ctx.request.find(http::field::authorization);
  if (header == ctx.request.end()) {
    // The console's session cookie stands in for the header; what it may
    // change is guarded against cross-site requests (CheckCsrf).
    const std::string session = CookieValue(ctx.request, kSessionCookie);
    if (session.empty()) return Refuse(ctx, "a bearer token is required", "no token", nullptr);
    if (session.size() > kMaxTokenBytes)
      return Refuse(ctx, "the session is not valid; sign in again", "bad session cookie", nullptr);
    auto caller = CheckToken(ctx, session);
    if (!caller) return caller;
    if (auto csrf = CheckCsrf(ctx); !csrf) {
      metrics_.CountAuthFailure(AuthFailure::kForbidden);
      RecordRefusal(ctx, "auth.forbidden", caller->actor.name, caller->actor.token_id, "csrf");
      return cordon::Fail(std::move(csrf.error()));
    }
    return caller;
  }
  const std::string_view value = Trim(ToStd(header->value()));
  if (value.size() > kMaxTokenBytes || !StartsWithNoCase(value, "bearer "))
    return Refuse(ctx, "the Authorization header must be 'Bearer <token>'", "not a bearer token", nullptr);
  const std::string_view token = Trim(value.substr(7));
  if (token.empty())
    return Refuse(ctx, "the Authorization header must be 'Bearer <token>'", "not a bearer token", nullptr);
  return CheckToken(ctx, token);
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
      // Numbers only: an operator sees Cordon pausing before the limit, not why a request failed.
      json windows = json::array();
      for (const RateWindowHealth& w : h.rate_windows)
        windows.push_back({{"bucket", w.bucket},
                           {"limit", w.limit},
                           {"remaining", w.remaining},
                           {"budgetLeft", w.budget_left},
                           {"resetsInSeconds", w.resets_in.count() / 1000.0}});
      if (!windows.empty()) p["rateLimits"] = std::move(windows);
      if (h.rate_limited > 0) p["rateLimited"] = h.rate_limited;
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

  auto body = bulk ? ctx.ParseObject({"action", "provider", "accounts", "reason", "alsoOnPrem"})
                   : ctx.ParseObject({"action", "provider", "account", "reason", "alsoOnPrem"});
  if (!body) return ctx.Fail(body.error());
  bool also_on_prem = false;
  if (const auto it = body->find("alsoOnPrem"); it != body->end() && !it->is_null()) {
    if (!it->is_boolean())
      return ctx.Fail(http::status::bad_request, "wrong-type", "the field 'alsoOnPrem' must be true or false");
    also_on_prem = it->get<bool>();
  }

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
                    fmt::format("unknown action; known: {}", KnownActions()));
  const auto provider = ParseProvider(*provider_name);
  if (!provider)
    return ctx.Fail(http::status::unprocessable_entity, "unknown-provider",
                    fmt::format("unknown provider; known: {}", KnownProviders()));
  if (!CatalogueHas(*provider, *type))
    return ctx.Fail(http::status::unprocessable_entity, "action-not-offered",
                    fmt::format("the provider '{}' does not offer the action '{}'", ToString(*provider),
                                ToString(*type)));
  if (also_on_prem && (*provider != Provider::kEntra || *type != ActionType::kSuspend))
    return ctx.Fail(http::status::unprocessable_entity, "also-on-prem-not-applicable",
                    fmt::format("'alsoOnPrem' applies to an entra suspend only (it adds the ad disable of the same "
                                "person); this request is {} {}",
                                ToString(*provider), ToString(*type)));
  // A hybrid request runs two actions: the requester must be allowed both.
  std::vector<std::pair<Provider, ActionType>> needed{{*provider, *type}};
  if (also_on_prem) needed.emplace_back(Provider::kActiveDirectory, ActionType::kDisable);
  for (const auto& [needed_provider, needed_type] : needed) {
    if (MayRun(caller->role, needed_provider, needed_type)) continue;
    const std::string what = fmt::format("{} at {}", ToString(needed_type), ToString(needed_provider));
    metrics_.CountAuthFailure(AuthFailure::kForbidden);
    RecordRefusal(ctx, "auth.forbidden", caller->actor.name, caller->actor.token_id, what);
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
  request.also_on_prem = also_on_prem;
  auto created = actions_.Submit(request);
  if (!created) return ctx.FailWith(created.error());
  if (created->empty()) return ctx.Fail(http::status::internal_server_error, "internal", "no action was created");

  if (!bulk) {
    // With alsoOnPrem, the entra suspend; its linkedActions name the ad disable.
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
  if (!IsActionId(id)) return ctx.Fail(http::status::not_found, "not-found", "no action has this id");
  ctx.action_id = id;

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

  auto filter = ActionFilterFrom(ctx.params, /*paging=*/true);
  if (!filter) return ctx.Fail(filter.error());
  auto page = store_.ListActions(*filter);
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
  if (!IsActionId(id)) return ctx.Fail(http::status::not_found, "not-found", "no action has this id");
  ctx.action_id = id;

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
  // Linked actions are undone together: the right to reverse each is needed.
  std::vector<std::tuple<Provider, ActionType, ActionType>> checks{{original->provider, original->type, needed}};
  if (undo) {
    auto linked = actions_.LinkedActions(*original);
    if (!linked) return ctx.FailWith(linked.error());
    for (const Action& other : *linked)
      if (const auto reverse = UndoOf(other.provider, other.type)) checks.emplace_back(other.provider, other.type, *reverse);
  }
  for (const auto& [check_provider, check_type, check_needed] : checks) {
    if (MayRun(caller->role, check_provider, check_needed)) continue;
    const std::string what =
        fmt::format("{} of {} at {}", undo ? "undo" : "cancel", ToString(check_type), ToString(check_provider));
    metrics_.CountAuthFailure(AuthFailure::kForbidden);
    RecordRefusal(ctx, "auth.forbidden", caller->actor.name, caller->actor.token_id, what);
    return ctx.Fail(http::status::forbidden, "forbidden",
                    fmt::format("the role '{}' may not {}", ToString(caller->role), what));
  }

  if (!undo) {
    auto cancelled = actions_.Cancel(id, caller->actor, *reason);
    if (!cancelled) return ctx.FailWith(cancelled.error());
    return ctx.Json(http::status::ok, ActionToJson(*cancelled));
  }
  auto created = actions_.UndoWithLinked(id, caller->actor, *reason);
  if (!created) return ctx.FailWith(created.error());
  if (created->undos.empty()) return ctx.Fail(http::status::internal_server_error, "internal", "no undo was created");
  // The undo of this action; its linkedActions name the undos of the actions
  // linked to it, and `notes` says why a linked action was left as it is.
  const Action& first = created->undos.front();
  json answer = ActionToJson(first);
  answer["notes"] = created->notes;
  RoutedResponse out = ctx.Json(http::status::accepted, answer);
  out.response.set(http::field::location, fmt::format("{}/{}", kActionsPath, first.id));
  return out;
}

RoutedResponse Router::Risks(Context& ctx) {
  auto caller = Authenticate(ctx);
  if (!caller) return ctx.AuthFailed(caller.error());
  RiskFilter filter;
  for (const auto& param : ctx.params) {
    const std::string& key = param.first;
    const std::string& value = param.second;
    if (key != "provider" && key != "account")
      return ctx.Fail(http::status::bad_request, "invalid-query", "unknown query parameter; known: provider, account");
    if (value.empty())
      return ctx.Fail(http::status::bad_request, "invalid-query",
                      fmt::format("query parameter '{}': must not be empty", key));
    if (key == "provider") {
      filter.provider = ParseProvider(value);
      if (!filter.provider)
        return ctx.Fail(http::status::bad_request, "invalid-query",
                        fmt::format("query parameter 'provider': unknown provider; known: {}", KnownProviders()));
    } else {
      if (value.size() > kMaxAccountBytes)
        return ctx.Fail(http::status::bad_request, "invalid-query", "query parameter 'account': too long");
      filter.account = value;
    }
  }
  auto marks = store_.ListRisks(filter);
  if (!marks) return ctx.FailWith(marks.error());
  json value = json::array();
  for (const RiskMark& m : *marks) value.push_back(RiskToJson(m));
  return ctx.Json(http::status::ok, json{{"value", std::move(value)}});
}

}  // namespace cordon::api
