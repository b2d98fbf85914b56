// The `cordon lab` subcommand: up, down, stop, start, status, config of the
// local lab (src/lab).
//
// Exit codes (cli/commands.h): 0 success; 1 the operation failed (message on
// stderr); 5 `status` found the lab not running or not answering.
//
// Thread-safety: call from main() only.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace cordon::cli {

// Adds `lab` with `up`, `down`, `stop`, `start`, `status`, `config` to `app`.
// The subcommands run from their callbacks and end the process with their
// exit code.
void AddLabCommands(CLI::App& app);

// The default state folder: $XDG_STATE_HOME/cordon/lab, else ~/.local/state/cordon/lab.
std::string DefaultLabDir();

}  // namespace cordon::cli
