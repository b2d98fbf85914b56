// `cordon connectors check`: asks each configured provider, as its action
// account, what that account may really do (Connector::Check), and says which
// actions will work before an analyst finds out in the middle of an incident.
// Local, like `config check`: it reads cordon.toml and the secrets it names,
// builds each connector through the registry and needs no server. Nothing is
// changed at any provider, and no secret is printed: what is shown is the
// connectors' CheckReport, which never holds one.
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "config/config.h"
#include "connectors/registry.h"

namespace cordon::cli {
namespace {

struct CheckOptions {
  std::string config_path = "cordon.toml";
  std::string provider;  // empty: every configured provider
  int timeout_seconds = 30;
  std::string output = "text";
};

// One provider's answer: a report, or why it could not be asked.
struct ProviderCheck {
  Provider provider = Provider::kActiveDirectory;
  std::optional<CheckReport> report;
  std::optional<Error> error;

  [[nodiscard]] bool AllReady() const {
    if (!report) return false;
    for (const ActionReadiness& a : report->actions)
      if (!a.ready) return false;
    return true;
  }
};

nlohmann::json ErrorJson(const Error& e) {
  return nlohmann::json{{"code", std::string(ToString(e.code))},
                        {"message", e.message},
                        {"providerCode", e.provider_code.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.provider_code)},
                        {"providerMessage",
                         e.provider_detail.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.provider_detail)}};
}

nlohmann::json CheckJson(const ProviderCheck& c) {
  nlohmann::json out{{"provider", std::string(ToString(c.provider))}, {"reachable", c.report.has_value()}};
  if (c.error) out["error"] = ErrorJson(*c.error);
  if (c.report) {
    nlohmann::json checks = nlohmann::json::array();
    for (const CapabilityCheck& k : c.report->checks)
      checks.push_back({{"name", k.name}, {"ok", k.ok}, {"detail", k.detail}});
    nlohmann::json actions = nlohmann::json::array();
    for (const ActionReadiness& a : c.report->actions)
      actions.push_back({{"action", std::string(ToString(a.type))}, {"ready", a.ready}, {"why", a.why}});
    out["checks"] = std::move(checks);
    out["actions"] = std::move(actions);
  }
  out["ready"] = c.AllReady();
  return out;
}

void PrintText(const ProviderCheck& c) {
  std::cout << ToString(c.provider) << ":\n";
  if (c.error) {
    std::cout << "  cannot be checked: " << c.error->message;
    if (!c.error->provider_code.empty()) std::cout << " [" << c.error->provider_code << "]";
    if (!c.error->provider_detail.empty() && c.error->message.find(c.error->provider_detail) == std::string::npos)
      std::cout << " " << c.error->provider_detail;
    std::cout << "\n";
    return;
  }
  for (const CapabilityCheck& k : c.report->checks)
    std::cout << "  check  " << (k.ok ? "ok       " : "missing  ") << k.name << (k.detail.empty() ? "" : ": ")
              << k.detail << "\n";
  for (const ActionReadiness& a : c.report->actions)
    std::cout << "  action " << (a.ready ? "will work     " : "will not work ") << ToString(a.type)
              << (a.why.empty() ? "" : ": ") << a.why << "\n";
}

int CheckConnectors(const CheckOptions& opts) {
  std::optional<Provider> only;
  if (!opts.provider.empty()) {
    only = ParseProvider(opts.provider);
    if (!only) {
      std::cerr << "cordon connectors check: --provider: unknown provider '" << opts.provider
                << "' (one of: ad, entra, okta)\n";
      return kExitUsage;
    }
  }
  auto config = LoadConfig(opts.config_path);
  if (!config) {
    std::cerr << "cordon connectors check: " << config.error().message << "\n";
    return kExitUsage;
  }
  if (only && config->connectors.count(*only) == 0) {
    std::cerr << "cordon connectors check: " << config->source << " has no [connectors." << ToString(*only)
              << "] section\n";
    return kExitUsage;
  }
  if (config->connectors.empty()) {
    std::cerr << "cordon connectors check: " << config->source << " configures no provider ([connectors.<name>])\n";
    return kExitUsage;
  }

  // Every section is validated before any provider is asked: a wrong key is
  // a wrong config (exit 2), whichever provider it belongs to.
  const ConnectorRegistry registry = BuiltinConnectors();
  std::vector<std::pair<Provider, LoadedConnector>> loaded;
  for (const auto& [provider, section] : config->connectors) {
    if (only && provider != *only) continue;
    const std::string name = "connectors." + std::string(ToString(provider));
    auto connector = registry.Load(provider, section, name, ConfigFolder(*config));
    if (!connector) {
      std::cerr << "cordon connectors check: " << config->source << ": " << connector.error().message << "\n";
      return kExitUsage;
    }
    loaded.emplace_back(provider, std::move(*connector));
  }

  std::vector<ProviderCheck> results;
  for (const auto& [provider, connector] : loaded) {
    ProviderCheck c;
    c.provider = provider;
    ExecutionContext context;
    context.deadline = Now() + std::chrono::seconds(opts.timeout_seconds);
    auto instance = connector.factory();
    auto report = instance ? (*instance)->Check(context) : Result<CheckReport>(Fail(instance.error()));
    if (report)
      c.report = std::move(*report);
    else
      c.error = report.error();
    results.push_back(std::move(c));
  }

  bool unreachable = false;
  bool all_ready = true;
  for (const ProviderCheck& c : results) {
    unreachable = unreachable || !c.report;
    all_ready = all_ready && c.AllReady();
  }
  if (opts.output == "json") {
    nlohmann::json providers = nlohmann::json::array();
    for (const ProviderCheck& c : results) providers.push_back(CheckJson(c));
    std::cout << nlohmann::json{{"ready", all_ready}, {"providers", std::move(providers)}}.dump(2) << "\n";
  } else {
    for (const ProviderCheck& c : results) PrintText(c);
  }
  if (unreachable) return kExitUnavailable;
  return all_ready ? kExitOk : kExitNotReady;
}

}  // namespace

void AddConnectorsCommands(CLI::App& app) {
  CLI::App* connectors = app.add_subcommand("connectors", "Work with the configured providers' connectors.");
  connectors->require_subcommand(1);
  auto opts = std::make_shared<CheckOptions>();
  CLI::App* check = connectors->add_subcommand(
      "check",
      "Ask each configured provider, as its action account, what that account may really do (rights, "
      "permissions, scopes, licences), and print which actions will work; nothing is changed. Exit 0 if every "
      "supported action of every checked provider will work, 7 if some will not, 5 if a provider cannot be "
      "reached or refuses the action account's credentials, 2 if the config is wrong.");
  check->add_option("-c,--config", opts->config_path, "Path of cordon.toml")
      ->envname("CORDON_CONFIG")
      ->capture_default_str();
  check->add_option("-p,--provider", opts->provider, "Check only this provider: ad | entra | okta")
      ->check(CLI::IsMember({"ad", "entra", "okta"}));
  check->add_option("--timeout", opts->timeout_seconds,
                    "Seconds each provider has to answer every question of the check")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  check->add_option("-o,--output", opts->output, "text | json")->check(CLI::IsMember({"text", "json"}));
  check->callback([opts] {
    const int rc = CheckConnectors(*opts);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace cordon::cli
