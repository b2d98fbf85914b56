#include "connectors/registry.h"

#include "connectors/ad/ad_connector.h"

namespace cordon {

void ConnectorRegistry::Register(Provider provider, ConnectorLoader loader) {
  loaders_[provider] = std::move(loader);
}

Result<ConnectorFactory> ConnectorRegistry::Load(Provider provider, const toml::table& section,
                                                 std::string_view key_path) const {
  auto it = loaders_.find(provider);
  if (it == loaders_.end())
    return Fail(Error::InvalidArgument(std::string(key_path) + ": provider '" + std::string(ToString(provider)) +
                                       "' is not available in this build"));
  return it->second(section, key_path);
}

ConnectorRegistry BuiltinConnectors() {
  ConnectorRegistry registry;
  registry.Register(Provider::kActiveDirectory, &ad::LoadAdConnector);
  return registry;
}

}  // namespace cordon
