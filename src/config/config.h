// Config: cordon.toml, parsed and validated once at start.
//
// Every error names the exact key that is wrong ("engine.max_attempts: must be
// between 1 and 100"). Unknown keys are errors, so that a typo never silently
// falls back to a default. Secrets are never values in this file: connector
// sections name a file or an environment variable (see core/secret.h), and the
// connectors' own loaders validate their sections.
//
// Thread-safety: plain values; read-only after LoadConfig.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "core/action.h"
#include "core/error.h"

namespace cordon {

struct ServerConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 8443;
  std::string tls_cert_file;
  std::string tls_key_file;
  bool plain_http = false;  // allowed only on a loopback address (checked by the API server)
  int64_t max_body_bytes = 1 << 20;
  int threads = 2;
};

struct StoreConfig {
  std::string backend = "sqlite";
  std::string path = "cordon.db";
  // "full": every commit is fsynced, so an accepted action survives a power
  // loss; "normal": it survives a crash of the process, not of the machine.
  std::string synchronous = "full";
};

struct EngineConfig {
  int lease_seconds = 30;
  int poll_interval_ms = 250;
  int max_attempts = 5;  // the action's own transient errors; provider outages spend none
  int backoff_initial_ms = 500;
  int backoff_max_ms = 60000;
  // How long an action may wait for its provider (outages, throttling) before
  // it fails naming the outage: a day by default (engine/action_service.h says why).
  int action_budget_seconds = 86400;
};

// The identity inventory (src/inventory): how often each provider's
// accounts are listed again, and how long a listing may take.
struct InventoryConfig {
  int sync_interval_seconds = 900;  // 0: only on demand (the first sync still runs at start)
  int sync_timeout_seconds = 3600;
};

struct LogConfig {
  std::string level = "info";  // trace|debug|info|warn|error
  std::string format = "json"; // json|text
  std::string file;            // empty = stderr
};

struct Config {
  std::string source;  // the file it came from, for messages
  ServerConfig server;
  StoreConfig store;
  EngineConfig engine;
  InventoryConfig inventory;
  LogConfig log;
  // [connectors.<name>] sections, validated by each connector's loader.
  std::map<Provider, toml::table> connectors;
};

[[nodiscard]] Result<Config> ParseConfig(std::string_view text, std::string_view source);
[[nodiscard]] Result<Config> LoadConfig(const std::string& path);

// Resolves a relative path in the config against the config file's folder.
std::string ResolvePath(const Config& config, const std::string& path);
// The config file's folder (absolute), against which its relative paths resolve.
std::string ConfigFolder(const Config& config);

}  // namespace cordon
