// One HTTP exchange over libcurl, shared by the connectors that speak HTTP
// (okta, entra), and the parts of an answer every provider's HTTP shares.
//
// Perform sets every TLS option on each request (verification on, the CA
// from HttpOptions::ca_file only when one is given, else the system's trust
// store; no proxy from the environment, no redirects), so nothing of a
// previous request or of the environment leaks in; the handle keeps only its
// connection. Answers of any status are returned: mapping them to errors is
// the caller's. Transport failures (no connection, TLS refused, timeout) are
// the provider's (Blame::kProvider, retryable).
//
// Thread-safety: free functions; a CURL handle must not be shared between threads.
#pragma once

#include <curl/curl.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/action.h"
#include "core/error.h"

namespace cordon::http {

// How one request is sent, whoever the provider is.
struct HttpOptions {
  std::string ca_file;           // PEM bundle the server's certificate must chain to; empty: the system's store
  bool allow_plaintext = false;  // http:// allowed too (a loopback test provider); https:// only otherwise
  Millis timeout{10000};         // the whole exchange
};

struct HttpRequest {
  std::string method;  // GET, POST, PATCH, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent with POST, PATCH and PUT
};

struct HttpAnswer {
  long status = 0;
  std::string body;
  // Header names lowercased; every value of a repeated header, in order.
  std::map<std::string, std::vector<std::string>> headers;

  // The last value of a header (the one a repeated header settles on), or empty.
  [[nodiscard]] std::string Last(std::string_view lowercase_name) const;
};

// libcurl's global state, set up once; false if it cannot start.
[[nodiscard]] bool CurlReady();

// The longest answer body read (a provider's answer beyond it is a transport failure).
inline constexpr std::size_t kMaxAnswerBytes = 16 * 1024 * 1024;

[[nodiscard]] Result<HttpAnswer> Perform(CURL* curl, const HttpOptions& options, const HttpRequest& request);

// An HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT", or the older forms HTTP
// still allows), read by libcurl; none when it is not a date.
[[nodiscard]] std::optional<TimePoint> ParseHttpDate(std::string_view value);

// `s` percent-encoded for a URL path segment or a form value.
[[nodiscard]] std::string Escape(CURL* curl, std::string_view s);

// The path and query of `url` ("/v1.0/users?$skiptoken=..."), when `url` is
// an absolute http(s) URL of the same origin as `base` (scheme, host and
// port; default ports made explicit, case ignored) and names no user or
// password; none otherwise. A provider's paging link is followed with the
// action account's credential only on this condition: a link that points
// anywhere else would hand the credential to whoever it names.
[[nodiscard]] std::optional<std::string> PathOnOrigin(std::string_view base, std::string_view url);

}  // namespace cordon::http
