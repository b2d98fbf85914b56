// `/` and `/console/...`: the web console (its embedded files), its sign-in
// and sign-out, and the console's part of authentication (the session
// cookie's CSRF check). docs: web/README.md, src/api/README.md.
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <optional>

#include "api/console_assets.h"
#include "api/route_context.h"
#include "authz/tokens.h"

namespace cordon::api {
namespace {

// No inline script or style anywhere in the console, so nothing but its own
// files may run or style the page; it may only talk to this server.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
constexpr std::string_view kConsolePrefix = "/console/";
constexpr std::string_view kAssetsPrefix = "/console/assets/";
constexpr std::string_view kSessionPath = "/console/session";
// Content-hashed names: a new build serves new names, so an old one never goes stale.
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr size_t kCsrfBytes = 32;

bool ChangesState(http::verb method) {
  return method != http::verb::get && method != http::verb::head && method != http::verb::options;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// scheme://host[:port] of this server as the client reached it.
std::string OwnOrigin(const HttpRequest& request, bool tls) {
  const auto host = request.find(http::field::host);
  if (host == request.end()) return {};
  return Lower(fmt::format("{}://{}", tls ? "https" : "http", Trim(ToStd(host->value()))));
}

// An Origin header, when the request has one, names this server.
bool FromOwnOrigin(const HttpRequest& request, bool tls) {
  const auto origin = request.find(http::field::origin);
  if (origin == request.end()) return true;
  const std::string own = OwnOrigin(request, tls);
  return !own.empty() && Lower(Trim(ToStd(origin->value()))) == own;
}

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string> NewCsrfValue() {
  std::array<unsigned char, kCsrfBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return std::nullopt;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string value;
  for (const unsigned char b : bytes) {
    value += kHex[b >> 4];
    value += kHex[b & 15];
  }
  return value;
}

std::string SessionCookie(std::string_view name, std::string_view value, bool http_only) {
  // Max-Age=0 when clearing; otherwise a browser-session cookie: the token's
  // own expiry and revocation are checked on every request.
  return fmt::format("{}={}; {}Secure; SameSite=Strict; Path=/{}", name, value, http_only ? "HttpOnly; " : "",
                     value.empty() ? "; Max-Age=0" : "");
}

RoutedResponse WithConsoleHeaders(RoutedResponse routed) {
  HttpResponse& r = routed.response;
  const bool asset = routed.route_class == "console.asset" && r.result() == http::status::ok;
  r.set("Content-Security-Policy", ToBeast(kContentSecurityPolicy));
  r.set("X-Content-Type-Options", "nosniff");
  r.set("Referrer-Policy", "no-referrer");
  r.set("X-Frame-Options", "DENY");
  r.set(http::field::cache_control, ToBeast(asset ? kImmutable : std::string_view("no-store")));
  return routed;
}

}  // namespace

const ConsoleAsset* FindConsoleAsset(std::string_view name) {
  for (const ConsoleAsset& asset : ConsoleAssets())
    if (asset.name == name) return &asset;
  return nullptr;
}

std::string CookieValue(const HttpRequest& request, std::string_view name) {
  for (const auto& field : request) {
    if (field.name() != http::field::cookie) continue;
    std::string_view rest = ToStd(field.value());
    while (!rest.empty()) {
      const size_t end = rest.find(';');
      const std::string_view pair = Trim(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      const size_t eq = pair.find('=');
      if (eq != std::string_view::npos && Trim(pair.substr(0, eq)) == name)
        return std::string(Trim(pair.substr(eq + 1)));
    }
  }
  return {};
}

Status Router::CheckCsrf(Context& ctx) const {
  if (!ChangesState(ctx.request.method())) return {};
  auto refuse = [&ctx](std::string message) -> Status {
    ctx.csrf_refused = true;
    return cordon::Fail(Error::PermissionDenied(std::move(message)));
  };
  if (!FromOwnOrigin(ctx.request, ctx.meta.tls))
    return refuse("the request comes from another origin than this server's console");
  const std::string expected = CookieValue(ctx.request, kCsrfCookie);
  const auto header = ctx.request.find(ToBeast(kCsrfHeader));
  if (expected.empty() || header == ctx.request.end() || !SameSecret(Trim(ToStd(header->value())), expected))
    return refuse(
        fmt::format("a console request that changes something must carry the {} header equal to the {} cookie",
                    kCsrfHeader, kCsrfCookie));
  return {};
}

RoutedResponse Router::Console(Context& ctx) { return WithConsoleHeaders(ConsoleRoute(ctx)); }

RoutedResponse Router::ConsoleRoute(Context& ctx) {
  const std::string_view path = ctx.path;
  const http::verb method = ctx.request.method();
  if (path == kSessionPath) return ConsoleSession(ctx);

  ctx.route_class = "console";
  if (method != http::verb::get) return ctx.MethodNotAllowed("GET");
  if (path == "/" || path == "/console") {
    HttpResponse response(http::status::found, ctx.request.version());
    response.set(http::field::location, ToBeast(kConsolePrefix));
    response.keep_alive(ctx.request.keep_alive());
    return ctx.Done(std::move(response));
  }
  auto serve = [&ctx](const ConsoleAsset& asset) {
    HttpResponse response(http::status::ok, ctx.request.version());
    response.set(http::field::content_type, ToBeast(asset.content_type));
    response.keep_alive(ctx.request.keep_alive());
    response.body() = std::string(asset.body);
    return ctx.Done(std::move(response));
  };
  if (path.starts_with(kAssetsPrefix)) {
    ctx.route_class = "console.asset";
    const ConsoleAsset* asset = FindConsoleAsset(path.substr(kAssetsPrefix.size()));
    if (asset == nullptr || asset->name == kConsoleIndex)
      return ctx.Fail(http::status::not_found, "not-found", "no such file");
    return serve(*asset);
  }
  // Every other path is one of the app's own pages: it routes them itself.
  const ConsoleAsset* index = FindConsoleAsset(kConsoleIndex);
  if (index == nullptr) return ctx.Fail(http::status::not_found, "not-found", "the console is not built in");
  return serve(*index);
}

RoutedResponse Router::ConsoleSession(Context& ctx) {
  ctx.route_class = "console.session";
  const http::verb method = ctx.request.method();
  // A token in a URL would reach histories, proxies and logs: the body only.
  if (!ctx.params.empty())
    return ctx.Fail(http::status::bad_request, "invalid-query",
                    "this route takes no query parameters; the token goes in the JSON body");
  if (method == http::verb::post) {
    // Signing in from another site's page would put its token in this browser.
    if (!FromOwnOrigin(ctx.request, ctx.meta.tls))
      return ctx.Fail(http::status::forbidden, "csrf",
                      "the request comes from another origin than this server's console");
    auto body = ctx.ParseObject({"token"});
    if (!body) return ctx.Fail(body.error());
    auto token = RequiredString(*body, "token", kMaxTokenBytes);
    if (!token) return ctx.Fail(token.error());
    // The same check, limiter and audit as a bearer token.
    auto caller = CheckToken(ctx, Trim(*token));
    if (!caller) return ctx.AuthFailed(caller.error());
    const auto csrf = NewCsrfValue();
    if (!csrf) return ctx.Fail(http::status::internal_server_error, "internal", "no random value for the session");
    HttpResponse response(http::status::no_content, ctx.request.version());
    response.keep_alive(ctx.request.keep_alive());
    response.insert(http::field::set_cookie, SessionCookie(kSessionCookie, Trim(*token), true));
    response.insert(http::field::set_cookie, SessionCookie(kCsrfCookie, *csrf, false));
    return ctx.Done(std::move(response));
  }
  if (method == http::verb::delete_) {
    // Signing out needs no valid token (an expired one must be able to
    // leave), but a browser holding a session must show it asked.
    if (!CookieValue(ctx.request, kSessionCookie).empty())
      if (auto csrf = CheckCsrf(ctx); !csrf) return ctx.Fail(http::status::forbidden, "csrf", csrf.error().message);
    HttpResponse response(http::status::no_content, ctx.request.version());
    response.keep_alive(ctx.request.keep_alive());
    response.insert(http::field::set_cookie, SessionCookie(kSessionCookie, "", true));
    response.insert(http::field::set_cookie, SessionCookie(kCsrfCookie, "", false));
    return ctx.Done(std::move(response));
  }
  return ctx.MethodNotAllowed("POST, DELETE");
}

}  // namespace cordon::api
