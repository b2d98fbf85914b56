// TestServer: the real `cordon serve` binary in a temp dir, for end-to-end
// tests. It writes a cordon.toml (HTTPS with a throwaway certificate, port 0,
// SQLite store, JSON log file), creates tokens with `cordon token create`,
// starts the server, learns its port from the "listening ..." line, and can
// SIGKILL and restart it on the same store.
//
// Thread-safety: use from one test thread.
#pragma once

#include <map>
#include <memory>
#include <string>

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

// Runs the cordon binary with these arguments (no server options added).
RunResult Cordon(std::vector<std::string> args);

// Reads a whole file ("" if missing).
std::string ReadFile(const std::string& path);

}  // namespace cordon::testing
