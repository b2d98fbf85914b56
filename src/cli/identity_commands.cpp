// The inventory's commands: `cordon identities search|show` (the people
// behind the accounts, what each account looks like and what the caller may
// do to it) and `cordon inventory sync|status`. They talk to a running
// server over its REST API (/api/v1/identities, /api/v1/inventory).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/client_options.h"
#include "cli/commands.h"
#include "core/action.h"
#include "inventory/correlate.h"

namespace cordon::cli {
namespace {

using nlohmann::json;

std::string Lower(std::string s) { return LowerAscii(s); }

std::string Or(const std::string& s, const char* none) { return s.empty() ? std::string(none) : s; }

struct SearchOptions {
  ClientOptions client;
  std::string text;
  int limit = 20;
  std::string cursor;
};

// "ad:asmith enabled, okta:alice@corp.example.com suspended"
std::string AccountsLine(const json& identity) {
  std::string out;
  for (const json& a : identity.value("accounts", json::array())) {
    if (!out.empty()) out += ", ";
    out += Str(a, "provider") + ":" + Str(a, "login") + " " + Str(a, "status");
    if (!Str(a, "providerStatus").empty() && Lower(Str(a, "providerStatus")) != Str(a, "status"))
      out += " (" + Str(a, "providerStatus") + ")";
  }
  return out;
}

int Search(const SearchOptions& o) {
  int exit_code = kExitOk;
  auto client = ConnectOrSay("cordon identities search", o.client, &exit_code);
  if (!client) return exit_code;
  std::string path = "/api/v1/identities?q=" + UrlEncode(o.text) + "&limit=" + std::to_string(o.limit);
  if (!o.cursor.empty()) path += "&cursor=" + UrlEncode(o.cursor);
  auto r = client->Get(path);
  if (auto rc = Refused("cordon identities search", r)) return *rc;
  if (o.client.output == "json") {
    std::cout << r->body.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("%-36s  %-24s  %-20s  %-5s  %s\n", "ID", "NAME", "DOMAIN", "RISK", "ACCOUNTS");
  for (const json& i : r->body["value"])
    std::printf("%-36s  %-24s  %-20s  %-5s  %s\n", Str(i, "id").c_str(), Str(i, "displayName").c_str(),
                Or(Str(i, "domain"), "-").c_str(), Or(Str(i, "riskLevel"), "-").c_str(), AccountsLine(i).c_str());
  if (r->body["value"].empty()) std::cerr << "cordon identities search: nobody matches\n";
  if (!Str(r->body, "nextCursor").empty()) std::printf("more: --cursor %s\n", Str(r->body, "nextCursor").c_str());
  return kExitOk;
}

struct ShowOptions {
  ClientOptions client;
  std::string who;
};

void PrintIdentity(const json& identity, std::ostream& os) {
  os << Str(identity, "displayName") << "  (" << Or(Str(identity, "domain"), "no domain") << ")  id "
     << Str(identity, "id");
  if (!Str(identity, "riskLevel").empty()) os << "  Cordon risk: " << Str(identity, "riskLevel");
  os << "\n";
  for (const json& a : identity["accounts"]) {
    os << "\n" << Str(a, "provider") << "  " << Str(a, "login");
    if (Str(a, "displayName") != Str(a, "login")) os << "  (" << Str(a, "displayName") << ")";
    os << "  " << Str(a, "status");
    if (!Str(a, "providerStatus").empty()) os << " [" << Str(a, "providerStatus") << "]";
    if (a.value("mustChangePassword", false)) os << ", must change password";
    os << "\n";
    os << "    id " << Str(a, "id");
    for (const char* key : {"upn", "sid", "mail"})
      if (!Str(a, key).empty()) os << "  " << key << " " << Str(a, key);
    os << "\n";
    os << "    seen " << Str(a, "seenAt") << "  provider risk " << Or(Str(a, "providerRisk"), "-") << "  Cordon risk "
       << Or(Str(a, "riskLevel"), "-");
    if (a.value("adminProtected", false)) os << "  adminCount=1";
    if (a.value("syncedFromAd", false)) os << "  synced from AD";
    if (a.value("guest", false)) os << "  guest";
    os << "\n";
    const json identifiers = a.value("identifiers", json::object());
    for (const auto& [name, value] : identifiers.items())
      if (value.is_string()) os << "    " << name << ": " << value.get<std::string>() << "\n";
    os << "    actions:\n";
    for (const json& act : a["actions"]) {
      std::string state;
      if (!act.value("allowed", false))
        state = "not allowed: " + Str(act, "why");
      else if (!act.value("applicable", true))
        state = "allowed; changes nothing now";
      else
        state = "allowed";
      os << "      " << Str(act, "action");
      for (size_t pad = Str(act, "action").size(); pad < 22; ++pad) os << ' ';
      os << state;
      if (act.value("alsoOnPrem", false)) os << " (--also-on-prem offered)";
      if (act.contains("undo") && act["undo"].is_null()) os << " (cannot be undone)";
      os << "\n";
      for (const json& w : act.value("warnings", json::array()))
        if (w.is_string()) os << "        ! " << w.get<std::string>() << "\n";
    }
  }
  const json recent = identity.value("recentActions", json::array());
  os << "\nrecent actions" << (recent.empty() ? ": none" : ":") << "\n";
  for (const json& act : recent)
    os << "  " << Str(act, "id") << "  " << Str(act, "action") << " " << Str(act, "account") << " @"
       << Str(act, "provider") << "  " << Str(act, "status") << "  " << Str(act, "createdAt") << "  by "
       << Str(act, "requestedBy") << "\n";
}

// An identity id as is; anything else is an account (id, login, UPN, SID,
// mail) searched for, and it must name one person.
int Show(const ShowOptions& o) {
  int exit_code = kExitOk;
  auto client = ConnectOrSay("cordon identities show", o.client, &exit_code);
  if (!client) return exit_code;
  std::string id = Lower(o.who);
  if (!IsIdentityId(id)) {
    auto r = client->Get("/api/v1/identities?limit=100&q=" + UrlEncode(o.who));
    if (auto rc = Refused("cordon identities show", r)) return *rc;
    const json& found = r->body["value"];
    // A prefix may match several: the one whose account is exactly this name wins.
    std::vector<const json*> exact;
    for (const json& i : found)
      for (const json& a : i["accounts"])
        if (Lower(Str(a, "id")) == Lower(o.who) || Lower(Str(a, "login")) == Lower(o.who)) {
          exact.push_back(&i);
          break;
        }
    if (exact.size() == 1) {
      id = Str(*exact.front(), "id");
    } else if (exact.empty() && found.size() == 1) {
      id = Str(found[0], "id");
    } else if (found.empty()) {
      std::cerr << "cordon identities show: no identity has an account named so\n";
      return kExitNotFound;
    } else {
      std::cerr << "cordon identities show: several identities match; name one by its id:\n";
      for (const json& i : found) std::cerr << "  " << Str(i, "id") << "  " << Str(i, "displayName") << "\n";
      return kExitUsage;
    }
  }
  auto r = client->Get("/api/v1/identities/" + id);
  if (auto rc = Refused("cordon identities show", r)) return *rc;
  if (o.client.output == "json")
    std::cout << r->body.dump(2) << "\n";
  else
    PrintIdentity(r->body, std::cout);
  return kExitOk;
}

struct SyncOptions {
  ClientOptions client;
  std::string provider;
  bool wait = false;
  int timeout_s = 3600;
};

void PrintRuns(const json& runs, std::ostream& os) {
  char line[512];
  std::snprintf(line, sizeof line, "%-6s %-8s %-25s %-25s %9s  %-25s %s\n", "PROV", "STATE", "STARTED", "FINISHED",
                "ACCOUNTS", "NEXT", "ERROR");
  os << line;
  for (const json& run : runs) {
    std::snprintf(line, sizeof line, "%-6s %-8s %-25s %-25s %9lld  %-25s %s\n", Str(run, "provider").c_str(),
                  Str(run, "state").c_str(), Or(Str(run, "startedAt"), "-").c_str(),
                  Or(Str(run, "finishedAt"), "-").c_str(), static_cast<long long>(run.value("accounts", 0LL)),
                  Or(Str(run, "nextAt"), "-").c_str(), Or(Str(run, "error"), "-").c_str());
    os << line;
  }
}

// Follows GET /api/v1/inventory until every sync in `asked` finished.
int WaitForSyncs(ApiClient& client, const json& asked, const SyncOptions& o) {
  std::map<std::string, TimePoint> started;
  for (const json& run : asked)
    if (auto t = ParseTime(Str(run, "startedAt"))) started[Str(run, "provider")] = *t;
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
  std::string last_progress;
  while (true) {
    auto r = client.Get("/api/v1/inventory");
    if (auto rc = Refused("\ncordon inventory sync", r)) return *rc;
    json runs = json::array();
    std::string progress;
    bool done = true;
    for (const json& run : r->body["providers"]) {
      const auto it = started.find(Str(run, "provider"));
      if (it == started.end()) continue;
      runs.push_back(run);
      const auto finished = ParseTime(Str(run, "finishedAt"));
      const auto began = ParseTime(Str(run, "startedAt"));
      const bool over = Str(run, "state") == "idle" && finished && began && *began >= it->second;
      done &= over;
      progress += (progress.empty() ? "" : "  ") + Str(run, "provider") + ": " +
                  (over ? (Str(run, "error").empty() ? "done" : "failed") : "running") + ", " +
                  std::to_string(run.value("accounts", 0LL)) + " accounts";
    }
    if (progress != last_progress || tty) {
      std::fprintf(stderr, "%s%s%s", tty ? "\r\033[K" : "", progress.c_str(), tty ? "" : "\n");
      std::fflush(stderr);
      last_progress = progress;
    }
    if (done) {
      if (tty) std::fprintf(stderr, "\n");
      bool failed = false;
      for (const json& run : runs) failed |= !Str(run, "error").empty();
      if (o.client.output == "json")
        std::cout << json{{"value", runs}}.dump(2) << "\n";
      else
        PrintRuns(runs, std::cout);
      return failed ? kExitActionFailed : kExitOk;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::cerr << "\ncordon inventory sync: gave up waiting; the sync goes on (`cordon inventory status`)\n";
      return kExitTimeout;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

int Sync(const SyncOptions& o) {
  int exit_code = kExitOk;
  auto client = ConnectOrSay("cordon inventory sync", o.client, &exit_code);
  if (!client) return exit_code;
  json body = json::object();
  if (!o.provider.empty()) body["provider"] = o.provider;
  auto r = client->Post("/api/v1/inventory/sync", body);
  if (auto rc = Refused("cordon inventory sync", r)) return *rc;
  if (o.wait) return WaitForSyncs(*client, r->body["value"], o);
  if (o.client.output == "json")
    std::cout << r->body.dump(2) << "\n";
  else
    PrintRuns(r->body["value"], std::cout);
  return kExitOk;
}

int Status(const ClientOptions& o) {
  int exit_code = kExitOk;
  auto client = ConnectOrSay("cordon inventory status", o, &exit_code);
  if (!client) return exit_code;
  auto r = client->Get("/api/v1/inventory");
  if (auto rc = Refused("cordon inventory status", r)) return *rc;
  if (o.output == "json") {
    std::cout << r->body.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << r->body.value("identities", 0LL) << " identities, " << r->body.value("accounts", 0LL)
            << " accounts\n";
  PrintRuns(r->body["providers"], std::cout);
  return kExitOk;
}

}  // namespace

void AddIdentityCommands(CLI::App& app) {
  CLI::App* identities = app.add_subcommand(
      "identities", "The people behind the accounts: every provider's accounts correlated into identities.");
  identities->require_subcommand(1);

  auto search = std::make_shared<SearchOptions>();
  CLI::App* s = identities->add_subcommand(
      "search", "Find identities by a prefix of a name word, the whole name, a UPN, login, mail, SID or account id.");
  s->add_option("text", search->text, "What to look for (ignoring case); empty lists everyone")->required();
  s->add_option("--limit", search->limit, "Page size (1-100)")->check(CLI::Range(1, 100))->capture_default_str();
  s->add_option("--cursor", search->cursor, "Next page (printed by the previous page)");
  AddClientOptions(s, search->client);
  Run(s, [search] { return Search(*search); });

  auto show = std::make_shared<ShowOptions>();
  CLI::App* w = identities->add_subcommand(
      "show", "Show one identity: each account's state and risk, what you may do to it and what it would change, "
              "and the recent actions on it.");
  w->add_option("who", show->who, "The identity's id, or one of its accounts (id, login, UPN, SID, mail)")->required();
  AddClientOptions(w, show->client);
  Run(w, [show] { return Show(*show); });

  CLI::App* inventory =
      app.add_subcommand("inventory", "The identity inventory: sync each provider's accounts, see the syncs.");
  inventory->require_subcommand(1);

  auto sync = std::make_shared<SyncOptions>();
  CLI::App* y = inventory->add_subcommand(
      "sync", "List each provider's accounts again now (a sync already running is joined); needs a role that acts.");
  y->add_option("-p,--provider", sync->provider, "ad | entra | okta (default: every configured provider)");
  y->add_flag("--wait", sync->wait, "Show the progress and wait until the syncs end (exit 1 if one failed)");
  y->add_option("--timeout", sync->timeout_s, "Seconds to wait with --wait")->capture_default_str();
  AddClientOptions(y, sync->client);
  Run(y, [sync] { return Sync(*sync); });

  auto status = std::make_shared<ClientOptions>();
  CLI::App* t = inventory->add_subcommand(
      "status", "How many identities and accounts the inventory holds, and each provider's sync.");
  AddClientOptions(t, *status);
  Run(t, [status] { return Status(*status); });
}

}  // namespace cordon::cli
