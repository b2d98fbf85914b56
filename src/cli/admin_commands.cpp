// Local administration: `cordon token create` and `cordon config check`.
// Both work on the files named by cordon.toml, not through the API: creating
// the first token cannot need a token.
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

// Connects to each provider with its action account (Connector::Probe) and
// prints "ok" or why not, with the provider's own code and words.
int ProbeConnectors(const std::vector<std::pair<std::string, LoadedConnector>>& connectors) {
  int rc = kExitOk;
  for (const auto& [name, loaded] : connectors) {
    auto connector = loaded.factory();
    Status probed = connector ? (*connector)->Probe(ExecutionContext{}) : Status(Fail(connector.error()));
    if (probed) {
      std::cout << name << ": ok (connected)\n";
      continue;
    }
    const Error& e = probed.error();
    std::cerr << name << ": cannot connect: " << e.message;
    if (!e.provider_code.empty()) std::cerr << " [" << e.provider_code << "]";
    std::cerr << "\n";
    rc = kExitUnavailable;
  }
  return rc;
}

int CheckConfig(const std::string& path, bool connect) {
  auto config = LoadConfig(path);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return kExitUsage;
  }
  const ConnectorRegistry registry = BuiltinConnectors();
  std::vector<std::pair<std::string, LoadedConnector>> loaded_connectors;
  for (const auto& [provider, section] : config->connectors) {
    const std::string name = "connectors." + std::string(ToString(provider));
    auto loaded = registry.Load(provider, section, name, ConfigFolder(*config));
    if (!loaded) {
      std::cerr << config->source << ": " << loaded.error().message << "\n";
      return kExitUsage;
    }
    loaded_connectors.emplace_back(name, std::move(*loaded));
  }
  std::cout << path << ": ok\n";
  return connect ? ProbeConnectors(loaded_connectors) : kExitOk;
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
  auto connect = std::make_shared<bool>(false);
  CLI::App* check = config->add_subcommand(
      "check",
      "Validate the config, connector sections and secret references; with --connect, also connect to each "
      "provider. Exit 0 if all is well, 2 if the config is wrong, 5 if a provider cannot be reached or refuses.");
  check->add_option("-c,--config", *path, "Path of cordon.toml")->envname("CORDON_CONFIG")->capture_default_str();
  check->add_flag("--connect", *connect,
                  "Also connect to every configured provider as its action account (for ad: TLS, bind, a read of "
                  "the root DSE; nothing is changed) and print ok or the provider's answer");
  check->callback([path, connect] {
    const int rc = CheckConfig(*path, *connect);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace cordon::cli
