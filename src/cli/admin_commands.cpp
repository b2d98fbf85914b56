// Local administration: `cordon token create|list|revoke` and `cordon config
// check`. They work on the files named by cordon.toml, not through the API:
// creating the first token cannot need a token, and revoking a leaked one
// must not depend on it.
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
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
  std::string expires_in;
  std::string expires_at;
  std::string output = "text";
  std::string id;
  std::string reason;
};

// The store named by the config, or an exit code after saying why.
std::unique_ptr<Store> OpenConfiguredStore(std::string_view who, const std::string& config_path, int* exit_code) {
  auto config = LoadConfig(config_path);
  if (!config) {
    std::cerr << who << ": " << config.error().message << "\n";
    *exit_code = kExitUsage;
    return nullptr;
  }
  auto store = OpenStore(*config);
  if (!store) {
    std::cerr << who << ": store: " << store.error().message << "\n";
    *exit_code = kExitUnavailable;
    return nullptr;
  }
  return std::move(*store);
}

// The operator at this terminal, as the audit trail names a local actor.
std::string LocalActor() {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(::geteuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && found->pw_name[0] != '\0')
    return std::string("local:") + found->pw_name;
  return "local:uid " + std::to_string(::geteuid());
}

std::string TimeOrNever(TimePoint t, const char* never) { return t == TimePoint{} ? never : FormatTime(t); }

nlohmann::json TimeOrNull(TimePoint t) {
  return t == TimePoint{} ? nlohmann::json(nullptr) : nlohmann::json(FormatTime(t));
}

// A token as `token list` and `token revoke` show it: never its digest.
nlohmann::json TokenJson(const TokenRecord& t) {
  return nlohmann::json{{"id", t.id},
                        {"name", t.name},
                        {"role", t.role},
                        {"createdAt", FormatTime(t.created_at)},
                        {"expiresAt", TimeOrNull(t.expires_at)},
                        {"lastUsedAt", TimeOrNull(t.last_used_at)},
                        {"revoked", t.revoked},
                        {"revokedAt", t.revoked ? TimeOrNull(t.revoked_at) : nlohmann::json(nullptr)}};
}

int CreateToken(const TokenOptions& opts) {
  auto role = ParseRole(opts.role);
  if (!role) {
    std::cerr << "cordon token create: --role: unknown role '" << opts.role << "' (one of:";
    for (Role r : kAllRoles) std::cerr << " " << ToString(r);
    std::cerr << ")\n";
    return kExitUsage;
  }
  std::optional<TimePoint> expires_at;
  if (!opts.expires_in.empty()) {
    auto lifetime = ParseTokenLifetime(opts.expires_in);
    if (!lifetime) {
      std::cerr << "cordon token create: --expires-in: " << lifetime.error().message << "\n";
      return kExitUsage;
    }
    expires_at = Now() + *lifetime;
  } else if (!opts.expires_at.empty()) {
    expires_at = ParseTime(opts.expires_at);
    if (!expires_at) {
      std::cerr << "cordon token create: --expires-at: not an RFC 3339 UTC time, e.g. 2027-01-15T08:00:00Z\n";
      return kExitUsage;
    }
  }
  int exit_code = kExitOk;
  auto store = OpenConfiguredStore("cordon token create", opts.config_path, &exit_code);
  if (!store) return exit_code;
  auto issued = IssueToken(*store, opts.name, *role, expires_at);
  if (!issued) {
    std::cerr << "cordon token create: " << issued.error().message << "\n";
    return kExitUsage;
  }
  // The token is shown once, here, on stdout only; the store keeps its digest.
  if (opts.output == "json") {
    std::cout << nlohmann::json{{"id", issued->record.id},
                                {"name", issued->record.name},
                                {"role", issued->record.role},
                                {"expiresAt", TimeOrNull(issued->record.expires_at)},
                                {"token", issued->token.Reveal()}}
                     .dump()
              << "\n";
  } else {
    std::cout << issued->token.Reveal() << "\n";
    std::cerr << "token " << issued->record.id << " for '" << issued->record.name << "' with role "
              << issued->record.role << " created, expires " << TimeOrNever(issued->record.expires_at, "never")
              << "; it is shown only once.\n";
  }
  return kExitOk;
}

int ListTokens(const TokenOptions& opts) {
  int exit_code = kExitOk;
  auto store = OpenConfiguredStore("cordon token list", opts.config_path, &exit_code);
  if (!store) return exit_code;
  auto tokens = store->ListTokens();
  if (!tokens) {
    std::cerr << "cordon token list: " << tokens.error().message << "\n";
    return kExitUnavailable;
  }
  if (opts.output == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const TokenRecord& t : *tokens) out.push_back(TokenJson(t));
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("%-22s %-24s %-22s %-24s %-24s %-24s %s\n", "ID", "NAME", "ROLE", "CREATED", "EXPIRES", "LAST USED",
              "REVOKED");
  for (const TokenRecord& t : *tokens)
    std::printf("%-22s %-24s %-22s %-24s %-24s %-24s %s\n", t.id.c_str(), t.name.c_str(), t.role.c_str(),
                FormatTime(t.created_at).c_str(), TimeOrNever(t.expires_at, "never").c_str(),
                TimeOrNever(t.last_used_at, "never").c_str(),
                t.revoked ? TimeOrNever(t.revoked_at, "yes").c_str() : "-");
  return kExitOk;
}

int RevokeToken(const TokenOptions& opts) {
  if (opts.reason.find_first_not_of(" \t") == std::string::npos) {
    std::cerr << "cordon token revoke: --reason must say why\n";
    return kExitUsage;
  }
  int exit_code = kExitOk;
  auto store = OpenConfiguredStore("cordon token revoke", opts.config_path, &exit_code);
  if (!store) return exit_code;
  const TimePoint now = Now();
  auto revoked = store->RevokeToken(opts.id, Actor{LocalActor(), ""}, opts.reason, now);
  if (!revoked) {
    std::cerr << "cordon token revoke: " << revoked.error().message << "\n";
    if (revoked.error().code == ErrorCode::kNotFound) return kExitNotFound;
    if (revoked.error().code == ErrorCode::kInvalidArgument) return kExitUsage;
    return kExitUnavailable;
  }
  if (opts.output == "json") {
    std::cout << TokenJson(*revoked).dump(2) << "\n";
  } else {
    // Revoking twice keeps the first time.
    std::cout << "token " << revoked->id << " ('" << revoked->name << "', " << revoked->role << ") "
              << (revoked->revoked_at == now ? "revoked at " : "was already revoked at ")
              << TimeOrNever(revoked->revoked_at, "an unknown time") << "\n";
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
  CLI::App* create = token->add_subcommand(
      "create", "Create a bearer token for a role, optionally with an expiry; prints it once on stdout.");
  create->add_option("--role", opts->role,
                     "security_reader | response_manager | security_operator | security_administrator | "
                     "global_administrator")
      ->required();
  create->add_option("--name", opts->name, "Who holds it (recorded as the actor of every action)")->required();
  auto* expires_in = create->add_option("--expires-in", opts->expires_in,
                                        "Lifetime: days, hours or minutes, e.g. 90d, 12h, 30m (default: no expiry)");
  create->add_option("--expires-at", opts->expires_at, "Expiry as an RFC 3339 UTC time, e.g. 2027-01-15T08:00:00Z")
      ->excludes(expires_in);
  create->add_option("-c,--config", opts->config_path, "Path of cordon.toml")->envname("CORDON_CONFIG")->capture_default_str();
  create->add_option("-o,--output", opts->output, "text | json")->check(CLI::IsMember({"text", "json"}));
  create->callback([opts] {
    const int rc = CreateToken(*opts);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  CLI::App* list = token->add_subcommand(
      "list", "List the tokens: id, name, role, created, expires, last used (recorded about once a minute), revoked.");
  list->add_option("-c,--config", opts->config_path, "Path of cordon.toml")
      ->envname("CORDON_CONFIG")
      ->capture_default_str();
  list->add_option("-o,--output", opts->output, "text | json")->check(CLI::IsMember({"text", "json"}));
  list->callback([opts] {
    const int rc = ListTokens(*opts);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  CLI::App* revoke = token->add_subcommand(
      "revoke", "Revoke a token by its id: refused from the next request on; audited with this OS user as the actor.");
  revoke->add_option("id", opts->id, "Token id (tok_..., see `cordon token list`)")->required();
  revoke->add_option("-r,--reason", opts->reason, "Why (recorded in the audit trail)")->required();
  revoke->add_option("-c,--config", opts->config_path, "Path of cordon.toml")
      ->envname("CORDON_CONFIG")
      ->capture_default_str();
  revoke->add_option("-o,--output", opts->output, "text | json")->check(CLI::IsMember({"text", "json"}));
  revoke->callback([opts] {
    const int rc = RevokeToken(*opts);
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
