// Router: the REST API's request handling, without the network.
//
// It authenticates the bearer token, authorises the call (authz/permissions.h),
// validates the JSON body, calls the ActionService or the Store and renders
// the answer (JSON, or an RFC 9457 problem document). The server (server.h)
// feeds it complete requests; tests and the fuzz harness may too.
//
// Thread-safety: Handle may be called from any thread concurrently (the Store
// and the ActionService are thread-safe; the metrics lock).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "api/http_metrics.h"
#include "core/error.h"
#include "engine/governor.h"
#include "store/store.h"

namespace cordon {
class ActionService;
}

namespace cordon::api {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

inline constexpr std::string_view kProblemContentType = "application/problem+json";

// Boost 1.74's Beast speaks boost::string_view; Cordon speaks std::string_view.
inline std::string_view ToStd(boost::beast::string_view s) { return {s.data(), s.size()}; }
inline boost::beast::string_view ToBeast(std::string_view s) { return {s.data(), s.size()}; }

// What Router::Handle produced, with what the access log needs.
struct RoutedResponse {
  HttpResponse response;
  std::string route_class;  // fixed name, e.g. "actions.submit", for metrics
  std::string actor;        // token name, or "anonymous"
};

// The HTTP status that stands for an Error code (the one place this is decided).
[[nodiscard]] http::status HttpStatusFor(ErrorCode code);

// An RFC 9457 problem document. `slug` names the problem type
// ("urn:cordon:problem:<slug>"); `instance` is the request path.
[[nodiscard]] HttpResponse Problem(http::status status, std::string_view slug, std::string_view detail,
                                   std::string_view instance, unsigned version, bool keep_alive);

class Router {
 public:
  // provider_health: each provider's standing (engine), for /healthz and
  // /metrics; may be empty (no engine).
  Router(Store& store, ActionService& actions, HttpMetrics& metrics, std::function<std::string()> metrics_extra,
         std::function<std::vector<ProviderHealth>()> provider_health = {});

  [[nodiscard]] RoutedResponse Handle(const HttpRequest& request);

 private:
  struct Caller;
  struct Context;

  RoutedResponse Route(Context& ctx);
  Result<Caller> Authenticate(Context& ctx);
  void AuditRefusal(Context& ctx, std::string_view event, std::string_view actor, std::string_view detail);

  RoutedResponse Healthz(Context& ctx);
  RoutedResponse Metrics(Context& ctx);
  RoutedResponse Submit(Context& ctx, bool bulk);
  RoutedResponse GetOne(Context& ctx, const std::string& id);
  RoutedResponse List(Context& ctx);
  RoutedResponse CancelOrUndo(Context& ctx, const std::string& id, bool undo);

  Store& store_;
  ActionService& actions_;
  HttpMetrics& metrics_;
  std::function<std::string()> metrics_extra_;
  std::function<std::vector<ProviderHealth>()> provider_health_;
};

}  // namespace cordon::api
