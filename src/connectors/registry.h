// ConnectorRegistry: the one place where connectors are made known to Cordon.
//
// Each connector registers a loader that validates its own config section
// ([connectors.<name>]) and names the exact key that is wrong, then returns a
// factory that makes instances (one per engine worker). The keys every
// section takes — how the engine drives the provider (ProviderSettings) — are
// read here, once, and never reach the connector's loader. Registration is
// explicit in registry.cpp (BuiltinConnectors), never by static initialisers.
//
// Thread-safety: build once at start, then read-only; factories must be
// callable from any thread.
#pragma once

#include <filesystem>
#include <map>
#include <string_view>

#include <toml++/toml.h>

#include "connectors/connector.h"
#include "core/error.h"

namespace cordon {

// How the engine drives one provider: keys of every [connectors.<name>] section.
struct ProviderSettings {
  int workers = 4;     // concurrent batches (for ad: connections to the DC)
  int batch_size = 50;  // actions claimed and executed together (entra: 60, three full $batch requests)
  // At most rate_limit actions are handed to the provider in any
  // rate_window; 0 = no limit of Cordon's own (the provider's answers still
  // pause or slow it).
  int rate_limit = 0;
  Millis rate_window{60000};
};
inline constexpr int kMaxWorkers = 64;
inline constexpr int kMaxBatchSize = 500;

struct LoadedConnector {
  ConnectorFactory factory;
  ProviderSettings settings;
};

class ConnectorRegistry {
 public:
  // `defaults`: the provider's settings when its section does not set them.
  void Register(Provider provider, ConnectorLoader loader, ProviderSettings defaults = {});
  [[nodiscard]] bool Has(Provider provider) const { return loaders_.count(provider) != 0; }
  // section: the [connectors.<name>] table; key_path its dotted name;
  // base_dir: the config file's folder.
  [[nodiscard]] Result<LoadedConnector> Load(Provider provider, const toml::table& section, std::string_view key_path,
                                             const std::filesystem::path& base_dir) const;

 private:
  std::map<Provider, ConnectorLoader> loaders_;
  std::map<Provider, ProviderSettings> defaults_;
};

// The connectors compiled into this build.
ConnectorRegistry BuiltinConnectors();

}  // namespace cordon
