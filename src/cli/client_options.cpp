#include "cli/client_options.h"

#include <curl/curl.h>

#include <iostream>
#include <new>

#include "cli/commands.h"
#include "core/secret.h"

namespace cordon::cli {

using nlohmann::json;

void AddClientOptions(CLI::App* cmd, ClientOptions& o) {
  cmd->add_option("--server", o.server, "Base URL of the Cordon server")->envname("CORDON_SERVER")->capture_default_str();
  cmd->add_option("--token-file", o.token_file, "File holding the bearer token (or set CORDON_TOKEN)")
      ->envname("CORDON_TOKEN_FILE");
  cmd->add_option("--ca-file", o.ca_file, "CA certificate (PEM) that signed the server's certificate")
      ->envname("CORDON_CA_FILE");
  cmd->add_option("-o,--output", o.output, "text | json")->check(CLI::IsMember({"text", "json"}));
}

Result<std::unique_ptr<ApiClient>> Connect(const ClientOptions& o) {
  SecretRef ref;
  if (!o.token_file.empty()) ref.file = o.token_file;
  else ref.env = "CORDON_TOKEN";
  auto token = LoadSecret(ref);
  if (!token)
    return Fail(Error::Unauthenticated("no API token: " + token.error().message +
                                       " (use --token-file or set CORDON_TOKEN; `cordon token create` makes one)"));
  return std::make_unique<ApiClient>(o.server, std::move(*token), o.ca_file);
}

int ExitFor(const Error& e) {
  switch (e.code) {
    case ErrorCode::kUnauthenticated: return kExitDenied;
    case ErrorCode::kTimeout: return kExitTimeout;
    default: return kExitUnavailable;
  }
}

int ExitForStatus(long status) {
  if (status == 401 || status == 403) return kExitDenied;
  if (status == 404) return kExitNotFound;
  if (status >= 400 && status < 500) return kExitUsage;
  return kExitUnavailable;
}

std::optional<int> Refused(std::string_view who, const Result<ApiResponse>& r) {
  if (!r) {
    std::cerr << who << ": " << r.error().message << "\n";
    return ExitFor(r.error());
  }
  if (r->status < 200 || r->status >= 300) {
    std::cerr << who << ": " << DescribeProblem(*r) << "\n";
    return ExitForStatus(r->status);
  }
  return std::nullopt;
}

std::unique_ptr<ApiClient> ConnectOrSay(std::string_view who, const ClientOptions& o, int* exit_code) {
  auto client = Connect(o);
  if (client) return std::move(*client);
  std::cerr << who << ": " << client.error().message << "\n";
  *exit_code = ExitFor(client.error());
  return nullptr;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string UrlEncode(const std::string& value) {
  // libcurl's escaping: every byte but RFC 3986's unreserved ones as %XX.
  char* escaped = curl_easy_escape(nullptr, value.data(), static_cast<int>(value.size()));
  if (escaped == nullptr) throw std::bad_alloc();
  std::string out(escaped);
  curl_free(escaped);
  return out;
}

}  // namespace cordon::cli
