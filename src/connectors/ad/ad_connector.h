// placeholder: the AD connector helper replaces this file.
#pragma once
#include <string_view>
#include <toml++/toml.h>
#include "connectors/registry.h"
namespace cordon::ad {
Result<ConnectorFactory> LoadAdConnector(const toml::table& section, std::string_view key_path);
}
