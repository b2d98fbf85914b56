#include "cli/api_client.h"

#include <curl/curl.h>

namespace cordon::cli {
namespace {

constexpr size_t kMaxResponseBytes = 64u << 20;

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > kMaxResponseBytes) return 0;  // aborts the transfer
  out->append(data, size * n);
  return size * n;
}

}  // namespace

ApiClient::ApiClient(std::string base_url, Secret token, std::string ca_file, long timeout_ms)
    : base_url_(std::move(base_url)), token_(std::move(token)), ca_file_(std::move(ca_file)), timeout_ms_(timeout_ms) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl_ = curl_easy_init();
}

ApiClient::~ApiClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<ApiResponse> ApiClient::Get(std::string_view path) { return Send("GET", path, nullptr); }

Result<ApiResponse> ApiClient::Post(std::string_view path, const nlohmann::json& body) {
  const std::string text = body.dump();
  return Send("POST", path, &text);
}

Result<ApiResponse> ApiClient::Send(std::string_view method, std::string_view path, const std::string* body) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return Fail(Error::Internal("libcurl could not be initialised"));
  curl_easy_reset(curl);
  const std::string url = base_url_ + std::string(path);
  std::string received;
  char error_buffer[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms_);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!ca_file_.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);

  struct curl_slist* headers = nullptr;
  const std::string auth = "Authorization: Bearer " + token_.Reveal();
  headers = curl_slist_append(headers, auth.c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  if (body != nullptr) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, std::string(method).c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    std::string what = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    Error e = rc == CURLE_OPERATION_TIMEDOUT ? Error::Timeout("request to " + url + " timed out: " + what)
                                             : Error::Unavailable("cannot reach " + url + ": " + what);
    return Fail(std::move(e));
  }
  ApiResponse response;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  if (!received.empty()) {
    response.body = nlohmann::json::parse(received, nullptr, /*allow_exceptions=*/false);
    if (response.body.is_discarded()) response.body = nlohmann::json{{"detail", received.substr(0, 500)}};
  }
  return response;
}

std::string DescribeProblem(const ApiResponse& response) {
  const auto& b = response.body;
  std::string text = "HTTP " + std::to_string(response.status);
  if (b.is_object()) {
    if (b.contains("title") && b["title"].is_string()) text += ": " + b["title"].get<std::string>();
    if (b.contains("detail") && b["detail"].is_string()) text += " — " + b["detail"].get<std::string>();
    // The server's log has the request under this id.
    if (b.contains("instance") && b["instance"].is_string()) text += " (" + b["instance"].get<std::string>() + ")";
  }
  return text;
}

}  // namespace cordon::cli
