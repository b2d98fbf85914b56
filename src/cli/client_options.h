// What every command that talks to a running server shares: the options
// that say which server and which token (--server, --token-file, --ca-file,
// -o), connecting with them, and turning an answer into an exit code.
//
// Thread-safety: plain functions; an ApiClient is used by one thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "core/error.h"

namespace cordon::cli {

struct ClientOptions {
  std::string server = "https://127.0.0.1:8443";
  std::string token_file;
  std::string ca_file;
  std::string output = "text";
};

void AddClientOptions(CLI::App* cmd, ClientOptions& o);

// A client with the token the options name (file, or CORDON_TOKEN).
[[nodiscard]] Result<std::unique_ptr<ApiClient>> Connect(const ClientOptions& o);
// Connect(), printing why it failed (prefixed by `who`) into `exit_code`.
[[nodiscard]] std::unique_ptr<ApiClient> ConnectOrSay(std::string_view who, const ClientOptions& o, int* exit_code);

[[nodiscard]] int ExitFor(const Error& e);
[[nodiscard]] int ExitForStatus(long status);
// For a failed call: prints why (prefixed by `who`) and gives the exit code.
// Empty when the server answered 2xx.
[[nodiscard]] std::optional<int> Refused(std::string_view who, const Result<ApiResponse>& r);

// The string at `key` of a JSON object; "" when absent, null or not a string.
[[nodiscard]] std::string Str(const nlohmann::json& j, const char* key);
// Percent-encodes a query value (RFC 3986 unreserved characters pass).
[[nodiscard]] std::string UrlEncode(const std::string& value);

// Makes `f`'s result the command's exit code.
template <typename F>
void Run(CLI::App* cmd, F f) {
  cmd->callback([f] {
    const int rc = f();
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace cordon::cli
