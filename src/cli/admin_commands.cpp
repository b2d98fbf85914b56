// Local administration: `cordon token create` and `cordon config check`.
// Both work on the files named by cordon.toml, not through the API: creating
// the first token cannot need a token.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "authz/permissions.h"
#include "authz/tokens.h"
#include "cli/commands.h"
#include "config/config.h"
#include "connectors/registry.h"
#include "store/open_store.h"

namespace cordon::cli {
namespace {

struct TokenOptions {
  std::string config_path = "cordon.toml";
  std::string role;
  std::string name;
  std::string output = "text";
};

int CreateToken(const TokenOptions& opts) {
  auto role = ParseRole(opts.role);
  if (!role) {
    std::cerr << "cordon token create: --role: unknown role '" << opts.role << "' (one of:";
    for (Role r : kAllRoles) std::cerr << " " << ToString(r);
    std::cerr << ")\n";
    return kExitUsage;
  }
  auto config = LoadConfig(opts.config_path);
  if (!config) {
    std::cerr << "cordon token create: " << config.error().message << "\n";
    return kExitUsage;
  }
  auto store = OpenStore(*config);
  if (!store) {
    std::cerr << "cordon token create: store: " << store.error().message << "\n";
    return kExitUnavailable;
  }
  auto issued = IssueToken(**store, opts.name, *role);
  if (!issued) {
    std::cerr << "cordon token create: " << issued.error().message << "\n";
    return kExitUsage;
  }
  // The token is shown once, here, on stdout only; the store keeps its digest.
  if (opts.output == "json") {
    std::cout << nlohmann::json{{"id", issued->record.id},
                                {"name", issued->record.name},
                                {"role", issued->record.role},
                                {"token", issued->token.Reveal()}}
                     .dump()
              << "\n";
  } else {
    std::cout << issued->token.Reveal() << "\n";
    std::cerr << "token " << issued->record.id << " for '" << issued->record.name << "' with role "
              << issued->record.role << " created; it is shown only once.\n";
  }
  return kExitOk;
}

int CheckConfig(const std::string& path) {
  auto config = LoadConfig(path);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return kExitUsage;
  }
  const ConnectorRegistry registry = BuiltinConnectors();
  for (const auto& [provider, section] : config->connectors) {
    auto loaded =
        registry.Load(provider, section, "connectors." + std::string(ToString(provider)), ConfigFolder(*config));
    if (!loaded) {
      std::cerr << config->source << ": " << loaded.error().message << "\n";
      return kExitUsage;
    }
  }
  std::cout << path << ": ok\n";
  return kExitOk;
}

}  // namespace

void AddTokenCommands(CLI::App& app) {
  CLI::App* token = app.add_subcommand("token", "Manage API tokens (local: works on the store named by the config).");
  token->require_subcommand(1);
  auto opts = std::make_shared<TokenOptions>();
  CLI::App* create = token->add_subcommand("create", "Create a bearer token for a role; prints it once on stdout.");
  create->add_option("--role", opts->role,
                     "security_reader | response_manager | security_operator | security_administrator | "
                     "global_administrator")
      ->required();
  create->add_option("--name", opts->name, "Who holds it (recorded as the actor of every action)")->required();
  create->add_option("-c,--config", opts->config_path, "Path of cordon.toml")->envname("CORDON_CONFIG")->capture_default_str();
  create->add_option("-o,--output", opts->output, "text | json")->check(CLI::IsMember({"text", "json"}));
  create->callback([opts] {
    const int rc = CreateToken(*opts);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

void AddConfigCommands(CLI::App& app) {
  CLI::App* config = app.add_subcommand("config", "Work with cordon.toml.");
  config->require_subcommand(1);
  auto path = std::make_shared<std::string>("cordon.toml");
  CLI::App* check = config->add_subcommand("check", "Validate the config, connector sections and secret references.");
  check->add_option("-c,--config", *path, "Path of cordon.toml")->envname("CORDON_CONFIG")->capture_default_str();
  check->callback([path] {
    const int rc = CheckConfig(*path);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace cordon::cli
