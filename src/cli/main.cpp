// cordon: the one binary — server, lab, and the analyst's command line.
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/lab_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Cordon: contain compromised identities — act on Active Directory accounts and prove what happened.",
               "cordon"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("cordon 0.1.0"));
  app.footer("Run `cordon <command> --help` for the options of each command.");

  cordon::cli::AddServeCommand(app);
  cordon::cli::AddClientCommands(app);
  cordon::cli::AddIdentityCommands(app);
  cordon::cli::AddTokenCommands(app);
  cordon::cli::AddConfigCommands(app);
  cordon::cli::AddConnectorsCommands(app);
  cordon::cli::AddLabCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    // A command's own outcome (CLI11 derives RuntimeError from ParseError: catch it first).
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : cordon::cli::kExitUsage;
  }
  return 0;
}
