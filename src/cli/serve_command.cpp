// `cordon serve`: the server — store, engine workers per connector, the
// identity inventory's syncs, REST API.
#include <csignal>
#include <iostream>
#include <memory>
#include <set>

#include <spdlog/spdlog.h>

#include "api/server.h"
#include "cli/commands.h"
#include "cli/logging.h"
#include "config/config.h"
#include "connectors/registry.h"
#include "engine/action_service.h"
#include "engine/engine.h"
#include "inventory/inventory.h"
#include "store/open_store.h"

namespace cordon::cli {
namespace {

struct ServeOptions {
  std::string config_path = "cordon.toml";
  bool plain_http = false;
};

int WaitForSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

int Serve(const ServeOptions& opts) {
  // Block the stop signals before any thread starts, so that only sigwait sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto config = LoadConfig(opts.config_path);
  if (!config) {
    std::cerr << "cordon serve: " << config.error().message << "\n";
    return kExitUsage;
  }
  if (opts.plain_http) config->server.plain_http = true;
  config->log.file = ResolvePath(*config, config->log.file);
  if (auto s = SetUpLogging(config->log); !s) {
    std::cerr << "cordon serve: " << config->source << ": " << s.error().message << "\n";
    return kExitUsage;
  }

  const ConnectorRegistry registry = BuiltinConnectors();
  std::map<Provider, LoadedConnector> connectors;
  for (const auto& [provider, section] : config->connectors) {
    const std::string key_path = "connectors." + std::string(ToString(provider));
    auto loaded = registry.Load(provider, section, key_path, ConfigFolder(*config));
    if (!loaded) {
      std::cerr << "cordon serve: " << config->source << ": " << loaded.error().message << "\n";
      return kExitUsage;
    }
    connectors.emplace(provider, std::move(*loaded));
  }
  if (connectors.empty()) spdlog::warn("no connector is configured: actions will be refused");

  auto stores = OpenStores(*config);
  if (!stores) {
    std::cerr << "cordon serve: store: " << stores.error().message << "\n";
    return kExitUnavailable;
  }
  Store& store = *stores->actions;

  EngineOptions engine_options;
  engine_options.lease = std::chrono::seconds(config->engine.lease_seconds);
  engine_options.poll_interval = Millis(config->engine.poll_interval_ms);
  engine_options.backoff_initial = Millis(config->engine.backoff_initial_ms);
  engine_options.backoff_max = Millis(config->engine.backoff_max_ms);
  Engine engine(store, engine_options);
  std::set<Provider> configured;
  for (auto& [provider, loaded] : connectors) {
    engine.AddWorkers(provider, loaded.factory, loaded.settings);
    configured.insert(provider);
  }

  ActionServiceOptions service_options;
  service_options.max_attempts = config->engine.max_attempts;
  service_options.time_budget = std::chrono::seconds(config->engine.action_budget_seconds);
  ActionService service(store, &engine, configured, service_options);

  InventoryOptions inventory_options;
  inventory_options.sync_interval = std::chrono::seconds(config->inventory.sync_interval_seconds);
  inventory_options.sync_timeout = std::chrono::seconds(config->inventory.sync_timeout_seconds);
  Inventory inventory(*stores->inventory, engine, configured, inventory_options);
  // A succeeded action's account is read again at once, for the user page.
  engine.SetFinishedHook([&inventory](const Action& action) { inventory.ActionFinished(action); });

  ApiOptions api_options;
  api_options.address = config->server.address;
  api_options.port = config->server.port;
  api_options.tls_cert_file = ResolvePath(*config, config->server.tls_cert_file);
  api_options.tls_key_file = ResolvePath(*config, config->server.tls_key_file);
  api_options.plain_http = config->server.plain_http;
  api_options.max_body_bytes = static_cast<size_t>(config->server.max_body_bytes);
  api_options.threads = config->server.threads;
  ApiDeps deps{store, service, &engine};
  deps.inventory_store = stores->inventory.get();
  deps.inventory = &inventory;
  auto api = ApiServer::Create(api_options, deps);
  if (!api) {
    std::cerr << "cordon serve: " << api.error().message << "\n";
    return kExitUsage;
  }

  engine.Start();
  inventory.Start();
  (*api)->Start();
  const std::string scheme = config->server.plain_http ? "http" : "https";
  spdlog::info("cordon serving {}://{}:{} (store {})", scheme, config->server.address, (*api)->port(),
               config->store.path);
  // One machine-readable line on stdout, so scripts and tests learn the port.
  std::cout << "listening " << scheme << "://" << config->server.address << ":" << (*api)->port() << std::endl;

  const int sig = WaitForSignal();
  spdlog::info("signal {}: stopping", sig);
  (*api)->Stop();
  inventory.Stop();
  engine.Stop();
  spdlog::info("stopped");
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto opts = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the Cordon server: REST API, engine workers and the action center.");
  cmd->add_option("-c,--config", opts->config_path, "Path of cordon.toml")->envname("CORDON_CONFIG")->capture_default_str();
  cmd->add_flag("--plain-http", opts->plain_http,
                "Serve plain HTTP instead of HTTPS (refused unless the address is loopback)");
  cmd->callback([opts] {
    const int rc = Serve(*opts);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace cordon::cli
