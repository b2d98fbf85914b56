// ApiClient: the CLI's HTTPS client for Cordon's REST API (libcurl).
//
// TLS verification is always on; a private CA is given with ca_file. The
// bearer token is a Secret and never appears in errors or verbose output.
//
// Thread-safety: one instance per thread.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/secret.h"

namespace cordon::cli {

struct ApiResponse {
  long status = 0;
  nlohmann::json body;  // parsed JSON (problem documents included); null when empty
};

class ApiClient {
 public:
  ApiClient(std::string base_url, Secret token, std::string ca_file, long timeout_ms = 30000);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // Transport failures (refused, TLS, timeout) are Errors; any HTTP answer is a response.
  [[nodiscard]] Result<ApiResponse> Get(std::string_view path);
  [[nodiscard]] Result<ApiResponse> Post(std::string_view path, const nlohmann::json& body);

 private:
  Result<ApiResponse> Send(std::string_view method, std::string_view path, const std::string* body);

  std::string base_url_;
  Secret token_;
  std::string ca_file_;
  long timeout_ms_;
  void* curl_ = nullptr;  // CURL*, reused so that keep-alive connections are
};

// The text of a problem document or error body, for the terminal, with the
// request id the server logged it under.
std::string DescribeProblem(const ApiResponse& response);

}  // namespace cordon::cli
