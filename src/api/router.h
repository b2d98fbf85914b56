// Router: the REST API's request handling, without the network.
//
// It authenticates the bearer token, authorises the call (authz/permissions.h),
// validates the JSON body, calls the ActionService or the Store and renders
// the answer (JSON, or an RFC 9457 problem document). The server (server.h)
// feeds it complete requests; tests and the fuzz harness may too.
//
// What a refusal costs is bounded: failed authentications are counted per
// client address (FailureLimiter: 429 once an address fails too often), and
// refusals and token uses reach the store aggregated, off the request path
// (AuthRecorder). A problem document never echoes what the client sent: it
// names the server's own vocabulary, and its `instance` is the request id
// that the access log line carries too.
//
// Thread-safety: Handle and Flush may be called from any thread concurrently
// (the Store and the ActionService are thread-safe; the rest locks).
// StartBackground and StopBackground are called by one owner.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "api/auth_recorder.h"
#include "api/failure_limiter.h"
#include "api/http_metrics.h"
#include "api/server_origin.h"
#include "core/error.h"
#include "engine/governor.h"
#include "store/store.h"

namespace cordon {
class ActionService;
class Inventory;
class InventoryStore;
}

namespace cordon::api {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

inline constexpr std::string_view kProblemContentType = "application/problem+json";

// Boost 1.74's Beast speaks boost::string_view; Cordon speaks std::string_view.
inline std::string_view ToStd(boost::beast::string_view s) { return {s.data(), s.size()}; }
inline boost::beast::string_view ToBeast(std::string_view s) { return {s.data(), s.size()}; }

inline constexpr std::string_view kRequestIdPrefix = "urn:cordon:request:";

// What the server knows of a request besides its bytes.
struct RequestMeta {
  std::string client_address;  // the peer's IP address; empty when unknown (in-process callers)
  std::string request_id;      // see NewRequestId; empty: the router makes one
  bool tls = false;            // it came over TLS: the server's own origin is https://<Host>
};

// What Router::Handle produced, with what the access log needs.
struct RoutedResponse {
  HttpResponse response;
  std::string route_class;  // fixed name, e.g. "actions.submit", for metrics
  std::string actor;        // token name, or "anonymous"
  std::string token_id;     // the authenticated token's id, or empty
  std::string request_id;   // the problem documents' `instance`
  bool throttled = false;   // a 429 for repeated failed authentication: logged at debug level only
};

// A fresh request id: kRequestIdPrefix and 24 random hex digits.
[[nodiscard]] std::string NewRequestId();

// Whether a request may change the action center (submit, bulk, cancel,
// undo): the server runs those on its writer pool, everything else on its
// reader pool.
[[nodiscard]] bool IsMutation(const HttpRequest& request);

// The access log line of one answered request: method, safe path (never the
// query string), status, time, route class, actor name, token id and request id.
[[nodiscard]] std::string AccessLogLine(std::string_view method, std::string_view target, unsigned status,
                                        int64_t millis, const RoutedResponse& routed);

// The HTTP status that stands for an Error code (the one place this is decided).
[[nodiscard]] http::status HttpStatusFor(ErrorCode code);

// An RFC 9457 problem document. `slug` names the problem type
// ("urn:cordon:problem:<slug>"); `instance` is the request id; `detail` is
// the server's own words, never text from the request.
[[nodiscard]] HttpResponse Problem(http::status status, std::string_view slug, std::string_view detail,
                                   std::string_view instance, unsigned version, bool keep_alive);

// The console's session (router_console.cpp): the token in an HttpOnly
// cookie, and a random value in a cookie the page reads and repeats in a
// header on every request that changes state (double-submit, with Origin).
inline constexpr std::string_view kSessionCookie = "cordon_session";
inline constexpr std::string_view kCsrfCookie = "cordon_csrf";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

// The value of the cookie `name` in the request's Cookie headers; empty when absent.
[[nodiscard]] std::string CookieValue(const HttpRequest& request, std::string_view name);

struct RouterOptions {
  FailureLimiter::Options failures;
  AuthRecorder::Options records;
};

// The identity inventory the identity routes read and sync; either may be
// null (a server without it answers those routes 503).
struct RouterInventory {
  InventoryStore* store = nullptr;
  Inventory* sync = nullptr;
};

class Router {
 public:
  // provider_health: each provider's standing (engine), for /healthz and
  // /metrics; may be empty (no engine).
  Router(Store& store, ActionService& actions, HttpMetrics& metrics, std::function<std::string()> metrics_extra,
         std::function<std::vector<ProviderHealth>()> provider_health = {}, RouterOptions options = {},
         RouterInventory inventory = {});

  // This server's scheme, port and names, for the absolute links of the
  // Graph-compatible API; set once, before the first request.
  void SetOrigin(ServerOrigin origin) { origin_ = std::move(origin); }

  [[nodiscard]] RoutedResponse Handle(const HttpRequest& request, const RequestMeta& meta = {});

  // Writes the refusals and token uses noted so far to the store now.
  Status Flush();
  // Writes them every interval from a background thread, until StopBackground
  // (which writes what is left).
  void StartBackground();
  void StopBackground();

 private:
  struct Caller;
  struct Context;

  RoutedResponse Route(Context& ctx);
  // A bearer token, or else the console's session cookie (then CheckCsrf).
  Result<Caller> Authenticate(Context& ctx);
  // The presented token against the store; a failure is refused as below.
  Result<Caller> CheckToken(Context& ctx, std::string_view token);
  // A failed authentication: audited, counted per address (429 past the limit).
  Result<Caller> Refuse(Context& ctx, std::string message, std::string_view why, const TokenRecord* known);
  void RecordRefusal(Context& ctx, std::string_view event, std::string_view actor, std::string_view token_id,
                     std::string_view what);

  RoutedResponse Healthz(Context& ctx);
  RoutedResponse Metrics(Context& ctx);
  RoutedResponse Submit(Context& ctx, bool bulk);
  RoutedResponse GetOne(Context& ctx, const std::string& id);
  RoutedResponse List(Context& ctx);
  RoutedResponse CancelOrUndo(Context& ctx, const std::string& id, bool undo);
  RoutedResponse Risks(Context& ctx);
  // The user page, side panel and search (router_identities.cpp).
  RoutedResponse Me(Context& ctx);
  RoutedResponse ListIdentities(Context& ctx);
  RoutedResponse GetIdentity(Context& ctx, std::string_view id);
  RoutedResponse SyncInventory(Context& ctx);
  RoutedResponse InventoryStatus(Context& ctx);

  RoutedResponse ExportActions(Context& ctx);  // router_export.cpp

  // router_console.cpp: `/` and `/console/...`: the app, its assets, sign-in and sign-out.
  RoutedResponse Console(Context& ctx);
  RoutedResponse ConsoleRoute(Context& ctx);
  RoutedResponse ConsoleSession(Context& ctx);
  // A cookie-authenticated request that changes state must repeat the CSRF
  // cookie in kCsrfHeader and, when it has an Origin, come from this server.
  [[nodiscard]] Status CheckCsrf(Context& ctx) const;

  // router_graph.cpp: the Graph-compatible API under /v1.0 and /beta.
  RoutedResponse GraphRoute(Context& ctx, std::string_view version);
  RoutedResponse GraphBadTarget(Context& ctx, const Error& error);
  RoutedResponse GraphList(Context& ctx, std::string_view version);
  RoutedResponse GraphGet(Context& ctx, std::string_view version, const std::string& id);
  RoutedResponse GraphInvokeAction(Context& ctx, std::string_view version, const std::string& id);

  Store& store_;
  ActionService& actions_;
  HttpMetrics& metrics_;
  std::function<std::string()> metrics_extra_;
  std::function<std::vector<ProviderHealth>()> provider_health_;
  RouterInventory inventory_;
  FailureLimiter failures_;
  AuthRecorder records_;
  ServerOrigin origin_;
};

}  // namespace cordon::api
