#include "cli/lab_command.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/secret.h"
#include "lab/lab.h"
#include "lab/entra/emulator.h"
#include "lab/okta/emulator.h"

namespace cordon::cli {
namespace {

// Shared exit codes (cli/commands.h): the lab maps onto two of them.
constexpr int kExitFailed = kExitActionFailed;
constexpr int kExitNotRunning = kExitUnavailable;

struct LabArgs {
  std::string dir = DefaultLabDir();
  std::string output = "text";
  bool quiet = false;
  bool reset = false;
};

[[noreturn]] void Exit(int code);

lab::Lab MakeLab(const LabArgs& args) {
  lab::ProgressFn progress;
  if (!args.quiet) progress = [](std::string_view line) { std::cerr << "lab: " << line << std::endl; };
  lab::Lab lab(args.dir, std::move(progress));
  // The Okta emulator runs as this same binary, `cordon lab okta`.
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    lab.EnableOkta({self.string(), "lab", "okta"});
    lab.EnableEntra({self.string(), "lab", "entra"});
  }
  return lab;
}

std::string ReadWhole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `cordon lab okta`: serves the lab's Okta emulator from the files `lab up`
// prepared in DIR until SIGTERM or SIGINT; writes DIR/okta/okta.port once
// it listens.
void RunOkta(const LabArgs& args) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::absolute(args.dir);
  const fs::path okta = dir / "okta";
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  // Blocked before any thread starts, so only sigwait() below receives them.
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  lab::okta::EmulatorOptions options;
  options.tls_cert_file = (okta / "server.pem").string();
  options.tls_key_file = (okta / "server.key").string();
  auto token = LoadSecret({.file = (dir / "secrets" / "okta.token").string()});
  if (!token) {
    std::cerr << "cordon lab okta: " << token.error().message << " (run `cordon lab up --dir " << args.dir << "`)\n";
    Exit(kExitFailed);
  }
  options.api_token = std::move(*token);
  options.clients = {{std::string(lab::kOktaClientId), ReadWhole(okta / "client.pub"), {"okta.users.manage"}}};
  options.users = lab::okta::LabSeedUsers();
  auto emulator = lab::okta::OktaEmulator::Create(std::move(options));
  if (!emulator) {
    std::cerr << "cordon lab okta: " << emulator.error().message << "\n";
    Exit(kExitFailed);
  }
  (*emulator)->Start();
  const fs::path tmp = okta / "okta.port.tmp";
  std::ofstream(tmp) << (*emulator)->port();
  std::error_code ec;
  fs::rename(tmp, okta / "okta.port", ec);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  (*emulator)->Stop();
  std::cout.flush();
  std::_Exit(0);
}

// `cordon lab entra`: serves the lab's Graph emulator from the files `lab up`
// prepared in DIR until SIGTERM or SIGINT; writes DIR/entra/entra.port once
// it listens.
void RunEntra(const LabArgs& args) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::absolute(args.dir);
  const fs::path entra = dir / "entra";
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  // Blocked before any thread starts, so only sigwait() below receives them.
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  lab::entra::EmulatorOptions options;
  options.tls_cert_file = (entra / "server.pem").string();
  options.tls_key_file = (entra / "server.key").string();
  options.tenant_id = std::string(lab::kEntraTenantId);
  options.tenant_domain = std::string(lab::kDnsDomain);
  auto secret = LoadSecret({.file = (dir / "secrets" / "entra-client.secret").string()});
  if (!secret) {
    std::cerr << "cordon lab entra: " << secret.error().message << " (run `cordon lab up --dir " << args.dir << "`)\n";
    Exit(kExitFailed);
  }
  options.app.client_id = std::string(lab::kEntraClientId);
  options.app.client_secret = std::move(*secret);
  options.app.certificate_pem = ReadWhole(entra / "client.pem");
  options.users = lab::entra::LabSeedUsers(lab::entra::ReadPeopleFile((entra / "people.json").string()));
  auto emulator = lab::entra::GraphEmulator::Create(std::move(options));
  if (!emulator) {
    std::cerr << "cordon lab entra: " << emulator.error().message << "\n";
    Exit(kExitFailed);
  }
  (*emulator)->Start();
  const fs::path tmp = entra / "entra.port.tmp";
  std::ofstream(tmp) << (*emulator)->port();
  std::error_code ec;
  fs::rename(tmp, entra / "entra.port", ec);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  (*emulator)->Stop();
  std::cout.flush();
  std::_Exit(0);
}

[[noreturn]] void Exit(int code) {
  std::cout.flush();
  std::cerr.flush();
  std::exit(code);
}

void RunUp(const LabArgs& args) {
  auto lab = MakeLab(args);
  if (args.reset) {
    if (auto s = lab.Reset(); !s) {
      std::cerr << "cordon lab up: " << s.error().message << "\n";
      Exit(kExitFailed);
    }
  }
  auto report = lab.Up();
  if (!report) {
    std::cerr << "cordon lab up: " << report.error().message << "\n";
    Exit(kExitFailed);
  }
  if (args.output == "json") {
    nlohmann::json j = {{"lab_json", report->lab_json.string()},
                        {"pid", report->pid},
                        {"provisioned", report->provisioned},
                        {"provision_seconds", report->provision_seconds},
                        {"start_seconds", report->start_seconds}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "lab up: ldaps://127.0.0.1 (pid " << report->pid << "), started in " << report->start_seconds
              << " s" << (report->provisioned ? " after provisioning" : " from the snapshot") << "\n"
              << "lab description: " << report->lab_json.string() << "\n";
  }
  Exit(0);
}

void RunStart(const LabArgs& args) {
  auto lab = MakeLab(args);
  auto report = lab.Start();
  if (!report) {
    std::cerr << "cordon lab start: " << report.error().message << "\n";
    Exit(kExitFailed);
  }
  if (args.output == "json") {
    nlohmann::json j = {{"lab_json", report->lab_json.string()},
                        {"pid", report->pid},
                        {"already_running", report->already_running},
                        {"start_seconds", report->start_seconds}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "lab start: ldaps://127.0.0.1 (pid " << report->pid << "), "
              << (report->already_running ? std::string("already running")
                                          : "started in " + std::to_string(report->start_seconds) +
                                                " s on its working copy")
              << "\n"
              << "lab description: " << report->lab_json.string() << "\n";
  }
  Exit(0);
}

void RunStop(const LabArgs& args) {
  auto lab = MakeLab(args);
  if (auto s = lab.Stop(); !s) {
    std::cerr << "cordon lab stop: " << s.error().message << "\n";
    Exit(kExitFailed);
  }
  if (!args.quiet)
    std::cerr << "lab: stopped; its directory is kept in " << (lab.dir() / "dc").string()
              << " (`cordon lab start` runs it again as it is, `cordon lab up` from a clean copy)\n";
  Exit(0);
}

void RunDown(const LabArgs& args) {
  auto lab = MakeLab(args);
  if (auto s = lab.Down(); !s) {
    std::cerr << "cordon lab down: " << s.error().message << "\n";
    Exit(kExitFailed);
  }
  if (!args.quiet) std::cerr << "lab: stopped (snapshot kept in " << lab.dir().string() << ")\n";
  Exit(0);
}

void RunStatus(const LabArgs& args) {
  auto lab = MakeLab(args);
  auto st = lab.Status();
  if (!st) {
    std::cerr << "cordon lab status: " << st.error().message << "\n";
    Exit(kExitFailed);
  }
  if (args.output == "json") {
    nlohmann::json j = {{"dir", st->dir.string()},         {"snapshot", st->snapshot},
                        {"snapshot_outdated", st->snapshot_outdated}, {"snapshot_seed", st->snapshot_seed},
                        {"working_copy", st->working_copy},
                        {"running", st->running},          {"answering", st->answering},
                        {"pid", st->running ? st->pid : -1}, {"ldaps_url", st->ldaps_url},
                        {"lab_json", (st->dir / "lab.json").string()},
                        {"counts",
                         {{"staff_users", st->staff_users},
                          {"bulk_users", st->bulk_users},
                          {"other_users", st->other_users},
                          {"special_users", st->special_users},
                          {"domain_admins", st->domain_admins}}}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "dir:       " << st->dir.string() << "\n"
              << "snapshot:  "
              << (st->snapshot ? "yes (seed " + std::to_string(st->snapshot_seed) + ")"
                  : st->snapshot_outdated
                      ? std::string("of an older seed (the next `lab up` provisions again, 1-2 minutes)")
                      : std::string("no (the next `lab up` provisions, 1-2 minutes)"))
              << "\n"
              << "running:   " << (st->running ? "yes, pid " + std::to_string(st->pid) : std::string("no")) << "\n";
    if (st->running)
      std::cout << "answering: " << (st->answering ? "yes, " + st->ldaps_url + " (CA verified)" : std::string("no"))
                << "\n";
    if (st->staff_users > 0)
      std::cout << "users:     " << st->staff_users << " staff (+" << st->special_users
                << " on which a forced reset forces nothing), " << st->bulk_users << " bulk, " << st->other_users
                << " contractors, " << st->domain_admins << " domain admins\n";
  }
  Exit(st->running && st->answering ? 0 : kExitNotRunning);
}

// Prints [connectors.ad], [connectors.okta] and [connectors.entra] sections for the running lab
// (scripts/demo.sh appends them to the demo's cordon.toml). Secrets are referenced
// by file, never copied.
void RunConfig(const LabArgs& args) {
  const std::string path = args.dir + "/lab.json";
  std::ifstream in(path);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!in || j.is_discarded() || !j.is_object()) {
    std::cerr << "cordon lab config: cannot read " << path << " (is the lab up? `cordon lab up --dir " << args.dir
              << "`)\n";
    Exit(kExitNotRunning);
  }
  const auto& account = j.value("action_account", nlohmann::json::object());
  // TOML basic strings: the values are paths and DNs the lab wrote; quote and escape them anyway.
  auto q = [](const nlohmann::json& v) { return v.is_string() ? v.dump() : std::string("\"\""); };
  std::cout << "[connectors.ad]\n"
            << "url = " << q(j.value("ldaps_url", nlohmann::json())) << "\n"
            << "ca_file = " << q(j.value("ca_file", nlohmann::json())) << "\n"
            << "base_dn = " << q(j.value("base_dn", nlohmann::json())) << "\n"
            << "bind_mode = \"simple\"\n"
            << "bind_dn = " << q(account.value("bind_dn", nlohmann::json())) << "\n"
            << "password_file = " << q(account.value("password_file", nlohmann::json())) << "\n";
  // The Okta emulator, when `lab up` started it: the API service app's key pair
  // (private_key_jwt, as docs/okta.md recommends); the SSWS token works too.
  if (const auto& okta = j.value("okta", nlohmann::json::object()); okta.is_object() && okta.contains("url")) {
    std::cout << "\n[connectors.okta]\n"
              << "org_url = " << q(okta.value("url", nlohmann::json())) << "\n"
              << "ca_file = " << q(okta.value("ca_file", nlohmann::json())) << "\n"
              << "auth_mode = \"private_key_jwt\"\n"
              << "client_id = " << q(okta.value("client_id", nlohmann::json())) << "\n"
              << "private_key_file = " << q(okta.value("private_key_file", nlohmann::json())) << "\n"
              << "# auth_mode = \"ssws\"\n"
              << "# token_file = " << q(okta.value("token_file", nlohmann::json())) << "\n";
  }
  // The Graph emulator, when `lab up` started it: the app's certificate; its
  // client secret works too.
  if (const auto& entra = j.value("entra", nlohmann::json::object()); entra.is_object() && entra.contains("graph_url")) {
    std::cout << "\n[connectors.entra]\n"
              << "tenant = " << q(entra.value("tenant", nlohmann::json())) << "\n"
              << "client_id = " << q(entra.value("client_id", nlohmann::json())) << "\n"
              << "certificate_file = " << q(entra.value("certificate_file", nlohmann::json())) << "\n"
              << "private_key_file = " << q(entra.value("private_key_file", nlohmann::json())) << "\n"
              << "# client_secret_file = " << q(entra.value("client_secret_file", nlohmann::json())) << "\n"
              << "authority = " << q(entra.value("authority", nlohmann::json())) << "\n"
              << "graph_url = " << q(entra.value("graph_url", nlohmann::json())) << "\n"
              << "ca_file = " << q(entra.value("ca_file", nlohmann::json())) << "\n";
  }
  Exit(0);
}

}  // namespace

std::string DefaultLabDir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg == '/')
    return std::string(xdg) + "/cordon/lab";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return std::string(home) + "/.local/state/cordon/lab";
  return "/var/tmp/cordon/lab";
}

void AddLabCommands(CLI::App& app) {
  auto args = std::make_shared<LabArgs>();
  CLI::App* lab = app.add_subcommand(
      "lab", "A throwaway Active Directory (Samba AD DC) on 127.0.0.1 with its own CA, seeded users and a "
             "delegated action account");
  lab->require_subcommand(1);
  auto add_dir = [&](CLI::App* cmd) {
    cmd->add_option("--dir", args->dir, "State folder of the lab (snapshot, secrets, logs, lab.json)")
        ->capture_default_str();
    cmd->add_flag("-q,--quiet", args->quiet, "No progress lines on stderr");
  };

  CLI::App* up = lab->add_subcommand(
      "up", "Start the lab DC from a clean copy of its snapshot (provisions it first if there is none); writes "
            "DIR/lab.json. Exit 0 once LDAPS answers, 1 on failure");
  add_dir(up);
  up->add_flag("--reset", args->reset, "Throw the snapshot away and provision from scratch (new passwords, new CA)");
  up->add_option("-o,--output", args->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  up->callback([args] { RunUp(*args); });

  CLI::App* down = lab->add_subcommand(
      "down", "Stop the lab DC (the snapshot is kept; the next `up` starts from a clean copy). Exit 0 when stopped");
  add_dir(down);
  down->callback([args] { RunDown(*args); });

  CLI::App* stop = lab->add_subcommand(
      "stop", "Stop the lab DC and keep its directory as it is, changes included (half of a DC reboot; `start` is "
              "the other). Exit 0 when stopped");
  add_dir(stop);
  stop->callback([args] { RunStop(*args); });

  CLI::App* start = lab->add_subcommand(
      "start", "Start the lab DC again on the directory `stop` kept (not a clean copy: use `up` for that); writes "
               "DIR/lab.json. Exit 0 once LDAPS answers, 1 on failure (e.g. no working copy: run `up`)");
  add_dir(start);
  start->add_option("-o,--output", args->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  start->callback([args] { RunStart(*args); });

  CLI::App* status = lab->add_subcommand(
      "status", "Show whether the lab DC runs and answers. Exit 0 if it answers, 5 if not running, 1 on error");
  add_dir(status);
  status->add_option("-o,--output", args->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  status->callback([args] { RunStatus(*args); });

  CLI::App* okta = lab->add_subcommand(
      "okta", "Serve the lab's Okta emulator in the foreground (`lab up` starts it; DIR/lab.json describes it)");
  add_dir(okta);
  okta->callback([args] { RunOkta(*args); });

  CLI::App* entra = lab->add_subcommand(
      "entra", "Serve the lab's Microsoft Graph emulator (Entra ID) in the foreground (`lab up` starts it; "
               "DIR/lab.json describes it)");
  add_dir(entra);
  entra->callback([args] { RunEntra(*args); });

  CLI::App* config = lab->add_subcommand(
      "config", "Print the [connectors.ad] (its delegated action account), [connectors.okta] (the emulator's "
                "API service app) and [connectors.entra] (the Graph emulator's app) sections of cordon.toml for "
                "the running lab");
  add_dir(config);
  config->callback([args] { RunConfig(*args); });
}

}  // namespace cordon::cli
