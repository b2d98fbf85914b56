// TestServer: the real `cordon serve` binary in a temp dir, for end-to-end
// tests. It writes a cordon.toml (HTTPS with a throwaway certificate, port 0,
// SQLite store, JSON log file), creates tokens with `cordon token create`,
// starts the server, learns its port from the "listening ..." line, and can
// SIGKILL and restart it on the same store. Beside it, helpers to submit and
// follow actions through the API, and the lab DC's pid (to hang it).
//
// Thread-safety: use from one test thread; the free functions are reentrant.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "core/error.h"
#include "core/subprocess.h"
#include "support/lab_info.h"

namespace cordon::testing {

struct TestServerOptions {
  std::string connectors_toml;  // [connectors.*] sections, appended to the config
  std::string engine_toml;      // keys of [engine], e.g. "lease_seconds = 2\n"
  std::string store_toml;       // keys of [store] besides path, e.g. "synchronous = \"normal\"\n"
  bool plain_http = false;
  std::string log_level = "debug";
};

class TestServer {
 public:
  // Creates the folder, config and certificate; does not start the server.
  [[nodiscard]] static Result<std::unique_ptr<TestServer>> Create(const TestServerOptions& options);
  ~TestServer();

  [[nodiscard]] Status Start();
  void Kill();  // SIGKILL, as a crash would
  [[nodiscard]] Status Stop();

  // Creates (once per role) a token; returns it.
  [[nodiscard]] Result<std::string> Token(const std::string& role);
  // A client for the token of `role`.
  [[nodiscard]] std::unique_ptr<cli::ApiClient> Client(const std::string& role);

  // `cordon inventory sync --wait` as a security_operator: asks every provider
  // for a sync (joining one under way) and waits until each has ended; fails
  // with the CLI's words when one failed or the wait ran out.
  [[nodiscard]] Status SyncInventory();

  // GET /metrics with the token of `role`: the Prometheus text.
  [[nodiscard]] Result<std::string> Metrics(const std::string& role);

  // Runs the cordon binary with these arguments (and --server/--ca-file/--token-file
  // of `role` appended when role is not empty).
  [[nodiscard]] RunResult Cli(std::vector<std::string> args, const std::string& role = "");

  pid_t pid() const { return process_.pid(); }
  const std::string& dir() const { return dir_; }
  const std::string& base_url() const { return base_url_; }
  const std::string& ca_file() const { return ca_file_; }
  const std::string& config_path() const { return config_path_; }
  const std::string& log_path() const { return log_path_; }
  const std::string& db_path() const { return db_path_; }
  // Everything the server wrote to stdout/stderr (besides the log file).
  std::string ServerOutput() const;
  // Paths of every file that holds token text, so secret scans know them.
  std::map<std::string, std::string> tokens() const { return tokens_; }

 private:
  TestServer() = default;
  std::string dir_, config_path_, log_path_, db_path_, ca_file_, base_url_;
  std::map<std::string, std::string> tokens_;       // role -> token
  std::map<std::string, std::string> token_files_;  // role -> file
  Process process_;
};

// A [connectors.ad] section for the lab's DC and its delegated action account.
// `extra` holds more keys (e.g. "timeout_ms = 1000\n").
std::string LabAdSection(const LabInfo& lab, const std::string& extra = "");
// The [connectors.okta] (private_key_jwt) and [connectors.entra] (a certificate)
// sections exactly as `cordon lab config` prints them for this lab; "" when it
// prints none.
std::string LabOktaSection(const LabInfo& lab);
std::string LabEntraSection(const LabInfo& lab);

// Runs the cordon binary with these arguments (no server options added).
RunResult Cordon(std::vector<std::string> args);

// Reads a whole file ("" if missing).
std::string ReadFile(const std::string& path);

// Following actions through the API.
// The string at `key` of a JSON object; "" when the key is absent, null (the
// API's "does not apply") or not a string, or when `object` is not an object.
std::string StringAt(const nlohmann::json& object, std::string_view key);
// POST /api/v1/actions; the new action's id, or "" if the server refused it.
std::string SubmitAction(cli::ApiClient& client, const std::string& action, const std::string& account,
                         const std::string& reason = "end-to-end test", const std::string& provider = "ad");
// Polls GET /api/v1/actions/{id} until done(answer) or `limit` passes; returns the last answer.
nlohmann::json WaitForAction(cli::ApiClient& client, const std::string& id,
                             const std::function<bool(const nlohmann::json&)>& done, std::chrono::seconds limit);
// succeeded, failed, cancelled or rejected.
bool IsFinished(const nlohmann::json& action);
// Every action of a bulk request, following the cursor.
std::vector<nlohmann::json> BulkActions(cli::ApiClient& client, const std::string& bulk_id);
// Whether any action of a bulk is still pending or in progress (or the API did
// not say): two small queries, cheap enough to poll while a bench times the bulk.
bool BulkHasUnfinished(cli::ApiClient& client, const std::string& bulk_id);

// The pid of the lab's DC (from its pid file), or -1.
pid_t LabDcPid(const LabInfo& lab);

}  // namespace cordon::testing
