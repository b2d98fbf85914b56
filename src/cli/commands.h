// The subcommands of `cordon`, each added to the CLI11 app by one function.
// main.cpp lists them in one visible place.
#pragma once

#include <CLI/CLI.hpp>

namespace cordon::cli {

// Exit codes shared by every command (documented in src/cli/README.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitActionFailed = 1,   // the action (or some of a bulk), or an inventory sync, failed or was cancelled
  kExitUsage = 2,          // bad arguments, bad config, or the API refused the request as invalid
  kExitDenied = 3,         // 401 / 403
  kExitNotFound = 4,
  kExitUnavailable = 5,    // server unreachable, TLS failure, store unavailable
  kExitTimeout = 6,        // gave up waiting for the outcome (the action goes on)
  kExitNotReady = 7,       // connectors check: some action will not work with the action account's rights
  kExitInternal = 10,
};

void AddServeCommand(CLI::App& app);
void AddTokenCommands(CLI::App& app);
void AddConfigCommands(CLI::App& app);
void AddClientCommands(CLI::App& app);  // act, actions
void AddIdentityCommands(CLI::App& app);  // identities, inventory
void AddConnectorsCommands(CLI::App& app);  // connectors check

}  // namespace cordon::cli
