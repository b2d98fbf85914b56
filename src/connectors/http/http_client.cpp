#include "connectors/http/http_client.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <memory>

namespace cordon::http {
namespace {

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* answer = static_cast<HttpAnswer*>(user);
  if (answer->body.size() + size * count > kMaxAnswerBytes) return 0;  // libcurl stops: CURLE_WRITE_ERROR
  answer->body.append(data, size * count);
  return size * count;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* answer = static_cast<HttpAnswer*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    answer->headers.clear();  // a new answer (after 100 Continue): only its own headers count
    return size * count;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return size * count;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  answer->headers[name].emplace_back(Trim(line.substr(colon + 1)));
  return size * count;
}

}  // namespace

std::string HttpAnswer::Last(std::string_view lowercase_name) const {
  auto it = headers.find(std::string(lowercase_name));
  return it == headers.end() || it->second.empty() ? std::string() : it->second.back();
}

bool CurlReady() {
  static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ready;
}

Result<HttpAnswer> Perform(CURL* curl, const HttpOptions& options, const HttpRequest& request) {
  HttpAnswer answer;
  curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, options.allow_plaintext ? "http,https" : "https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.ca_file.empty()) {
    // This CA only: no other trust store.
    curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr);
    curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_PROXY, "");  // not inherited from *_proxy variables
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "POST" || request.method == "PATCH" || request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(options.timeout.count(), 1)));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer);
  const CURLcode sent = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  const std::string what = request.method + " " + request.url.substr(0, request.url.find('?'));
  if (sent == CURLE_OPERATION_TIMEDOUT)
    return Fail(Error::Timeout(what + ": no answer in time").WithProvider("curl:28", "").BlameProvider());
  if (sent != CURLE_OK)
    return Fail(Error::Unavailable(what + ": " + curl_easy_strerror(sent))
                    .WithProvider("curl:" + std::to_string(sent), curl_easy_strerror(sent))
                    .BlameProvider());
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

std::optional<TimePoint> ParseHttpDate(std::string_view v) {
  v = Trim(v);
  if (v.empty() || v.size() > 64) return std::nullopt;
  // libcurl's own date parser: the three forms HTTP allows (IMF-fixdate,
  // RFC 850, asctime) and the zone names; -1 when it reads no date.
  const time_t t = curl_getdate(std::string(v).c_str(), nullptr);
  if (t < 0) return std::nullopt;
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(t)));
}

namespace {

struct UrlParts {
  std::string scheme, host, port, path, query;
  bool has_userinfo = false;
};

std::optional<UrlParts> Split(std::string_view url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), &curl_url_cleanup);
  if (!handle || url.empty() || url.size() > 8192) return std::nullopt;
  // Absolute URLs only: no default scheme is guessed for "host/path".
  if (curl_url_set(handle.get(), CURLUPART_URL, std::string(url).c_str(), 0) != CURLUE_OK) return std::nullopt;
  auto part = [&](CURLUPart which, unsigned flags) -> std::optional<std::string> {
    char* text = nullptr;
    if (curl_url_get(handle.get(), which, &text, flags) != CURLUE_OK) return std::nullopt;
    std::string out(text);
    curl_free(text);
    return out;
  };
  UrlParts parts;
  auto scheme = part(CURLUPART_SCHEME, 0);
  auto host = part(CURLUPART_HOST, 0);
  auto port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || !port) return std::nullopt;
  parts.scheme = std::move(*scheme);
  parts.host = std::move(*host);
  parts.port = std::move(*port);
  for (std::string* s : {&parts.scheme, &parts.host})
    for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  parts.path = part(CURLUPART_PATH, 0).value_or("/");
  parts.query = part(CURLUPART_QUERY, 0).value_or("");
  parts.has_userinfo = part(CURLUPART_USER, 0).has_value() || part(CURLUPART_PASSWORD, 0).has_value();
  return parts;
}

}  // namespace

std::optional<std::string> PathOnOrigin(std::string_view base, std::string_view url) {
  const auto from = Split(base);
  const auto to = Split(url);
  if (!from || !to || to->has_userinfo) return std::nullopt;
  if (to->scheme != "https" && to->scheme != "http") return std::nullopt;
  if (to->scheme != from->scheme || to->host != from->host || to->port != from->port) return std::nullopt;
  return to->path + (to->query.empty() ? "" : "?" + to->query);
}

std::string Escape(CURL* curl, std::string_view s) {
  char* escaped = curl_easy_escape(curl, s.data(), static_cast<int>(s.size()));
  std::string out(escaped != nullptr ? escaped : "");
  curl_free(escaped);
  return out;
}

}  // namespace cordon::http
