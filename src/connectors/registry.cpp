#include "connectors/registry.h"

#include <array>
#include <cstdint>

#include "connectors/ad/ad_connector.h"
#include "connectors/entra/entra_connector.h"
#include "connectors/okta/okta_connector.h"

namespace cordon {
namespace {

constexpr std::array<std::string_view, 4> kSettingKeys = {"workers", "batch_size", "rate_limit",
                                                           "rate_window_seconds"};

Error Wrong(std::string_view key_path, std::string_view key, std::string_view what) {
  return Error::InvalidArgument(std::string(key_path) + "." + std::string(key) + ": " + std::string(what));
}

Status ReadInt(const toml::table& section, std::string_view key_path, std::string_view key, int64_t min, int64_t max,
               int64_t& out) {
  const toml::node* node = section.get(key);
  if (node == nullptr) return {};
  if (!node->is_integer()) return Fail(Wrong(key_path, key, "must be an integer"));
  const int64_t v = *node->value<int64_t>();
  if (v < min || v > max)
    return Fail(Wrong(key_path, key, "must be between " + std::to_string(min) + " and " + std::to_string(max)));
  out = v;
  return {};
}

Result<ProviderSettings> ReadSettings(const toml::table& section, std::string_view key_path,
                                      ProviderSettings s) {
  int64_t workers = s.workers, batch = s.batch_size, rate = s.rate_limit, window = s.rate_window.count() / 1000;
  if (auto r = ReadInt(section, key_path, "workers", 1, kMaxWorkers, workers); !r) return Fail(r.error());
  if (auto r = ReadInt(section, key_path, "batch_size", 1, kMaxBatchSize, batch); !r) return Fail(r.error());
  if (auto r = ReadInt(section, key_path, "rate_limit", 0, 1'000'000, rate); !r) return Fail(r.error());
  if (auto r = ReadInt(section, key_path, "rate_window_seconds", 1, 86400, window); !r) return Fail(r.error());
  if (section.contains("rate_window_seconds") && rate == 0)
    return Fail(Wrong(key_path, "rate_window_seconds", "is only used with rate_limit"));
  s.workers = static_cast<int>(workers);
  s.batch_size = static_cast<int>(batch);
  s.rate_limit = static_cast<int>(rate);
  s.rate_window = Millis(window * 1000);
  return s;
}

}  // namespace

void ConnectorRegistry::Register(Provider provider, ConnectorLoader loader, ProviderSettings defaults) {
  loaders_[provider] = std::move(loader);
  defaults_[provider] = defaults;
}

Result<LoadedConnector> ConnectorRegistry::Load(Provider provider, const toml::table& section,
                                                std::string_view key_path,
                                                const std::filesystem::path& base_dir) const {
  auto it = loaders_.find(provider);
  if (it == loaders_.end())
    return Fail(Error::InvalidArgument(std::string(key_path) + ": provider '" + std::string(ToString(provider)) +
                                       "' is not available in this build"));
  auto settings = ReadSettings(section, key_path, defaults_.at(provider));
  if (!settings) return Fail(settings.error());
  toml::table own = section;
  for (std::string_view key : kSettingKeys) own.erase(key);
  auto factory = it->second(ConnectorSection{own, std::string(key_path), base_dir});
  if (!factory) return Fail(factory.error());
  return LoadedConnector{std::move(*factory), *settings};
}

ConnectorRegistry BuiltinConnectors() {
  ConnectorRegistry registry;
  registry.Register(Provider::kActiveDirectory, &ad::LoadAdConnector);
  // A claim of 60 is three full $batch requests of Graph's 20 (50 would send 20 + 20 + 10).
  registry.Register(Provider::kEntra, &entra::LoadEntraConnector, ProviderSettings{.batch_size = 60});
  registry.Register(Provider::kOkta, &okta::LoadOktaConnector);
  return registry;
}

}  // namespace cordon
