// ConnectorRegistry: the one place where connectors are made known to Cordon.
//
// Each connector registers a loader that validates its own config section
// ([connectors.<name>]) and names the exact key that is wrong, then returns a
// factory that makes instances (one per engine worker). Registration is
// explicit in registry.cpp (BuiltinConnectors), never by static initialisers.
//
// Thread-safety: build once at start, then read-only; factories must be
// callable from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "connectors/connector.h"
#include "core/error.h"

namespace cordon {

using ConnectorFactory = std::function<Result<std::unique_ptr<Connector>>()>;

// section: the [connectors.<name>] table; key_path: its dotted name for error
// messages, e.g. "connectors.ad".
using ConnectorLoader = std::function<Result<ConnectorFactory>(const toml::table& section, std::string_view key_path)>;

class ConnectorRegistry {
 public:
  void Register(Provider provider, ConnectorLoader loader);
  [[nodiscard]] bool Has(Provider provider) const { return loaders_.count(provider) != 0; }
  [[nodiscard]] Result<ConnectorFactory> Load(Provider provider, const toml::table& section,
                                              std::string_view key_path) const;

 private:
  std::map<Provider, ConnectorLoader> loaders_;
};

// The connectors compiled into this build.
ConnectorRegistry BuiltinConnectors();

}  // namespace cordon
