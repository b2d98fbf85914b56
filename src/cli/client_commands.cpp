// The analyst's commands: `cordon act` and `cordon actions list|show|undo|cancel`.
// They talk to a running server over its REST API (cli/api_client.h).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "cli/client_options.h"
#include "cli/commands.h"
#include "core/action.h"
#include "core/catalogue.h"
#include "core/secret.h"

namespace cordon::cli {
namespace {

using nlohmann::json;

void PrintAction(const json& a, std::ostream& os) {
  os << Str(a, "id") << "  " << Str(a, "action") << " " << Str(a, "account") << " @" << Str(a, "provider") << "  "
     << Str(a, "status");
  if (a.value("alreadyInState", false)) os << " (already in that state)";
  os << "\n";
  if (!Str(a, "outcome").empty()) os << "  outcome:   " << Str(a, "outcome") << "\n";
  if (!Str(a, "resolvedAccount").empty() || !Str(a, "accountId").empty()) {
    os << "  account:   " << Str(a, "resolvedAccount");
    if (!Str(a, "accountId").empty())
      os << (Str(a, "resolvedAccount").empty() ? "" : " ") << "(id " << Str(a, "accountId") << ")";
    os << "\n";
  }
  if (!Str(a, "priorState").empty()) os << "  before:    " << Str(a, "priorState") << "\n";
  if (a.contains("providerAnswer") && a["providerAnswer"].is_object() && !Str(a["providerAnswer"], "code").empty())
    os << "  provider:  " << Str(a["providerAnswer"], "code") << " " << Str(a["providerAnswer"], "detail") << "\n";
  os << "  requested: " << Str(a, "requestedBy") << " at " << Str(a, "createdAt") << " — " << Str(a, "reason") << "\n";
  if (const auto undo = a.find("undo"); undo != a.end() && undo->is_object() && !Str(*undo, "limits").empty())
    os << "  undo:      " << Str(*undo, "action") << " — " << Str(*undo, "limits") << "\n";
  if (!Str(a, "undoOf").empty()) os << "  undoes:    " << Str(a, "undoOf") << "\n";
  if (!Str(a, "undoneBy").empty()) os << "  undone by: " << Str(a, "undoneBy") << "\n";
  if (const auto linked = a.find("linkedActions"); linked != a.end() && linked->is_array() && !linked->empty()) {
    os << "  linked:   ";
    for (const auto& id : *linked) os << " " << (id.is_string() ? id.get<std::string>() : std::string());
    os << "\n";
  }
  if (!Str(a, "riskLevel").empty()) os << "  risk:      Cordon's risk level " << Str(a, "riskLevel") << "\n";
  if (const auto notes = a.find("notes"); notes != a.end() && notes->is_array())
    for (const auto& note : *notes)
      if (note.is_string()) os << "  note:      " << note.get<std::string>() << "\n";
}

bool Terminal(const std::string& status) {
  auto s = ParseActionStatus(status);
  return s && IsTerminal(*s);
}

int ExitForActionStatus(const std::string& status) {
  return status == "succeeded" ? kExitOk : kExitActionFailed;
}

// Polls one action until it ends or `timeout` passes.
int WaitForAction(ApiClient& client, const std::string& id, std::chrono::seconds timeout, const ClientOptions& o) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto delay = std::chrono::milliseconds(50);
  while (true) {
    auto r = client.Get("/api/v1/actions/" + id);
    if (auto rc = Refused("cordon", r)) return *rc;
    const std::string status = Str(r->body, "status");
    if (Terminal(status)) {
      if (o.output == "json") std::cout << r->body.dump(2) << "\n";
      else PrintAction(r->body, std::cout);
      return ExitForActionStatus(status);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::cerr << "cordon: action " << id << " is still " << status
                << "; it goes on — follow it with `cordon actions show " << id << "`\n";
      return kExitTimeout;
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(1000));
  }
}

// Draws "[#####.....] 512/1000 succeeded 510 failed 2" on stderr.
void DrawProgress(size_t done, size_t total, size_t failed, bool tty) {
  constexpr int kWidth = 30;
  const int filled = total == 0 ? kWidth : static_cast<int>(kWidth * done / total);
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "%s[%s] %zu/%zu done, %zu failed%s", tty ? "\r" : "", bar.c_str(), done, total, failed,
               tty ? "" : "\n");
  std::fflush(stderr);
}

int WaitForBulk(ApiClient& client, const std::string& bulk_id, size_t total, std::chrono::seconds timeout,
                const ClientOptions& o) {
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto last_draw = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  json all;
  while (true) {
    all = json::array();
    std::string cursor;
    do {
      std::string path = "/api/v1/actions?limit=1000&bulkId=" + UrlEncode(bulk_id);
      if (!cursor.empty()) path += "&cursor=" + UrlEncode(cursor);
      auto r = client.Get(path);
      if (auto rc = Refused("\ncordon", r)) return *rc;
      for (auto& a : r->body["value"]) all.push_back(std::move(a));
      cursor = Str(r->body, "nextCursor");
    } while (!cursor.empty());
    size_t done = 0, failed = 0;
    for (const auto& a : all) {
      const std::string s = Str(a, "status");
      if (Terminal(s)) ++done;
      if (Terminal(s) && s != "succeeded") ++failed;
    }
    const auto now = std::chrono::steady_clock::now();
    const bool finished = done == all.size();
    if (tty || finished || now - last_draw > std::chrono::seconds(2)) {
      DrawProgress(done, total, failed, tty);
      last_draw = now;
    }
    if (finished) {
      if (tty) std::fprintf(stderr, "\n");
      if (o.output == "json") {
        std::cout << json{{"bulkId", bulk_id}, {"value", all}}.dump(2) << "\n";
      } else {
        for (const auto& a : all)
          if (Str(a, "status") != "succeeded") PrintAction(a, std::cout);
        std::cout << "bulk " << bulk_id << ": " << (all.size() - failed) << " succeeded, " << failed << " failed\n";
        // One action type per bulk: its undo's limits are said once.
        if (!all.empty() && all[0].contains("undo") && all[0]["undo"].is_object() &&
            !Str(all[0]["undo"], "limits").empty())
          std::cout << "undo: " << Str(all[0]["undo"], "action") << " — " << Str(all[0]["undo"], "limits") << "\n";
      }
      return failed == 0 ? kExitOk : kExitActionFailed;
    }
    if (now > deadline) {
      std::cerr << "\ncordon: gave up waiting; the bulk request " << bulk_id << " goes on\n";
      return kExitTimeout;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

struct ActOptions {
  ClientOptions client;
  std::string action;
  std::vector<std::string> accounts;
  std::string accounts_file;
  std::string provider = "ad";
  std::string reason;
  bool no_wait = false;
  bool yes = false;
  bool also_on_prem = false;
  int timeout_s = 600;
};

// "Okta user(s)": how the prompt names the accounts of a provider.
std::string AccountsNoun(Provider provider) {
  switch (provider) {
    case Provider::kActiveDirectory: return "AD account(s)";
    case Provider::kEntra: return "Entra user(s)";
    case Provider::kOkta: return "Okta user(s)";
  }
  return "account(s)";
}

// An action whose undo does not bring everything back (the catalogue's
// undo limits, e.g. Okta's deactivate) is confirmed before anything is
// asked of the server: --yes, or "y" on a terminal. Empty: go ahead.
std::optional<int> Unconfirmed(const ActOptions& o) {
  const auto type = ParseActionType(o.action);
  const auto provider = ParseProvider(o.provider);
  if (!type || !provider || o.yes) return std::nullopt;
  const std::string_view limits = UndoLimitsOf(*provider, *type);
  if (limits.empty()) return std::nullopt;
  std::string verb(ToString(*type));
  verb.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(verb.front())));
  const std::string question = verb + " " + std::to_string(o.accounts.size()) + " " + AccountsNoun(*provider) + "?";
  const std::string undo(ToString(*UndoOf(*provider, *type)));
  if (::isatty(STDIN_FILENO) == 0) {
    std::cerr << "cordon act: " << ToString(*type) << " needs confirmation, and there is no terminal to ask on; "
              << "its undo (" << undo << ") does not bring everything back: " << limits
              << ". Run it again with --yes to confirm. Nothing was asked of the server.\n";
    return kExitUsage;
  }
  std::cerr << question << " The undo (" << undo << ") does not bring everything back: " << limits << ". [y/N] ";
  std::string answer;
  std::getline(std::cin, answer);
  if (answer == "y" || answer == "Y" || answer == "yes" || answer == "YES") return std::nullopt;
  std::cerr << "cordon act: not confirmed; nothing was asked of the server\n";
  return kExitUsage;
}

int Act(ActOptions& o) {
  if (!o.accounts_file.empty()) {
    std::ifstream in(o.accounts_file);
    if (!in) {
      std::cerr << "cordon act: cannot read --accounts-file " << o.accounts_file << "\n";
      return kExitUsage;
    }
    for (std::string line; std::getline(in, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty() && line.front() != '#') o.accounts.push_back(line);
    }
  }
  if (o.accounts.empty()) {
    std::cerr << "cordon act: name at least one account (or --accounts-file)\n";
    return kExitUsage;
  }
  if (auto rc = Unconfirmed(o)) return *rc;
  int exit_code = kExitOk;
  auto client = ConnectOrSay("cordon act", o.client, &exit_code);
  if (!client) return exit_code;
  const bool bulk = o.accounts.size() > 1;
  json body{{"action", o.action}, {"provider", o.provider}, {"reason", o.reason}};
  if (bulk) body["accounts"] = o.accounts;
  else body["account"] = o.accounts.front();
  if (o.also_on_prem) body["alsoOnPrem"] = true;
  auto r = client->Post(bulk ? "/api/v1/actions/bulk" : "/api/v1/actions", body);
  if (auto rc = Refused("cordon act", r)) return *rc;
  // The server merges two spellings of one account ("alice", "ALICE") into
  // one action: a bulk request may come back with a single action.
  const json& ids = bulk ? r->body["actions"] : json::array();
  const size_t count = bulk ? ids.size() : 1;
  if (bulk && count == 0) {
    std::cerr << "cordon act: the server created no action\n";
    return kExitInternal;
  }
  if (o.no_wait) {
    if (o.client.output == "json") std::cout << r->body.dump(2) << "\n";
    else if (bulk) std::cout << "bulk " << Str(r->body, "bulkId") << ": " << count << " actions queued\n";
    else std::cout << Str(r->body, "id") << " " << Str(r->body, "status") << "\n";
    return kExitOk;
  }
  const auto timeout = std::chrono::seconds(o.timeout_s);
  if (bulk && count > 1) return WaitForBulk(*client, Str(r->body, "bulkId"), count, timeout, o.client);
  const std::string id = bulk ? (ids[0].is_string() ? ids[0].get<std::string>() : std::string()) : Str(r->body, "id");
  return WaitForAction(*client, id, timeout, o.client);
}

struct ListOptions {
  ClientOptions client;
  std::string status, type, provider, target, requested_by, bulk_id, after, before, cursor;
  int limit = 50;
};

int List(const ListOptions& o) {
  int exit_code = kExitOk;
  auto client = ConnectOrSay("cordon actions list", o.client, &exit_code);
  if (!client) return exit_code;
  std::string query = "?limit=" + std::to_string(o.limit);
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) query += std::string("&") + key + "=" + UrlEncode(value);
  };
  add("status", o.status);
  add("type", o.type);
  add("provider", o.provider);
  add("target", o.target);
  add("requestedBy", o.requested_by);
  add("bulkId", o.bulk_id);
  add("createdAfter", o.after);
  add("createdBefore", o.before);
  add("cursor", o.cursor);
  auto r = client->Get("/api/v1/actions" + query);
  if (auto rc = Refused("cordon actions list", r)) return *rc;
  if (o.client.output == "json") {
    std::cout << r->body.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("%-30s %-22s %-6s %-28s %-18s %s\n", "ID", "ACTION", "PROV", "ACCOUNT", "STATUS", "CREATED");
  for (const auto& a : r->body["value"])
    std::printf("%-30s %-22s %-6s %-28s %-18s %s\n", Str(a, "id").c_str(), Str(a, "action").c_str(),
                Str(a, "provider").c_str(), Str(a, "account").c_str(), Str(a, "status").c_str(),
                Str(a, "createdAt").c_str());
  if (!Str(r->body, "nextCursor").empty()) std::printf("more: --cursor %s\n", Str(r->body, "nextCursor").c_str());
  return kExitOk;
}

struct OneOptions {
  ClientOptions client;
  std::string id;
  std::string reason;
  bool wait = false;
  int timeout_s = 600;
};

int Show(const OneOptions& o) {
  int exit_code = kExitOk;
  auto client = ConnectOrSay("cordon actions show", o.client, &exit_code);
  if (!client) return exit_code;
  auto r = client->Get("/api/v1/actions/" + o.id);
  if (auto rc = Refused("cordon actions show", r)) return *rc;
  if (o.client.output == "json") {
    std::cout << r->body.dump(2) << "\n";
    return kExitOk;
  }
  PrintAction(r->body, std::cout);
  if (r->body.contains("attempts"))
    for (const auto& at : r->body["attempts"]) {
      std::cout << "  attempt " << at.value("number", 0) << ": " << Str(at, "result") << " — " << Str(at, "message");
      if (at.contains("providerAnswer") && at["providerAnswer"].is_object())
        std::cout << " [" << Str(at["providerAnswer"], "code") << " " << Str(at["providerAnswer"], "detail") << "]";
      std::cout << "\n";
    }
  if (r->body.contains("audit"))
    for (const auto& ev : r->body["audit"])
      std::cout << "  " << Str(ev, "at") << " " << Str(ev, "actor") << " " << Str(ev, "event") << " "
                << Str(ev, "fromStatus") << (Str(ev, "toStatus").empty() ? "" : " -> ") << Str(ev, "toStatus")
                << (Str(ev, "reason").empty() ? "" : " (" + Str(ev, "reason") + ")") << "\n";
  return kExitOk;
}

int Transition(const OneOptions& o, const char* verb) {
  int exit_code = kExitOk;
  auto client = ConnectOrSay(std::string("cordon actions ") + verb, o.client, &exit_code);
  if (!client) return exit_code;
  auto r = client->Post("/api/v1/actions/" + o.id + "/" + verb, json{{"reason", o.reason}});
  if (auto rc = Refused(std::string("cordon actions ") + verb, r)) return *rc;
  if (o.wait && std::string(verb) == "undo") {
    // Linked actions are undone together; what was left alone is said first.
    if (const auto notes = r->body.find("notes"); notes != r->body.end() && notes->is_array())
      for (const auto& note : *notes)
        if (note.is_string()) std::cerr << "cordon actions undo: " << note.get<std::string>() << "\n";
    return WaitForAction(*client, Str(r->body, "id"), std::chrono::seconds(o.timeout_s), o.client);
  }
  if (o.client.output == "json") std::cout << r->body.dump(2) << "\n";
  else PrintAction(r->body, std::cout);
  return kExitOk;
}

struct RisksOptions {
  ClientOptions client;
  std::string provider, account;
};

int Risks(const RisksOptions& o) {
  int exit_code = kExitOk;
  auto client = ConnectOrSay("cordon risks", o.client, &exit_code);
  if (!client) return exit_code;
  std::string query;
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) query += std::string(query.empty() ? "?" : "&") + key + "=" + UrlEncode(value);
  };
  add("provider", o.provider);
  add("account", o.account);
  auto r = client->Get("/api/v1/risks" + query);
  if (auto rc = Refused("cordon risks", r)) return *rc;
  if (o.client.output == "json") {
    std::cout << r->body.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("%-6s %-28s %-38s %-6s %-26s %s\n", "PROV", "ACCOUNT", "ACCOUNT ID", "LEVEL", "SINCE", "ACTION");
  for (const auto& m : r->body["value"])
    std::printf("%-6s %-28s %-38s %-6s %-26s %s\n", Str(m, "provider").c_str(), Str(m, "account").c_str(),
                Str(m, "accountId").c_str(), Str(m, "level").c_str(), Str(m, "since").c_str(),
                Str(m, "actionId").c_str());
  return kExitOk;
}

}  // namespace

void AddClientCommands(CLI::App& app) {
  auto act = std::make_shared<ActOptions>();
  CLI::App* a = app.add_subcommand(
      "act", "Take a response action on one or more accounts; waits and prints the outcome (see --no-wait).");
  a->add_option("action", act->action,
                "disable | enable | force_password_reset | clear_password_reset (ad); suspend | unsuspend | "
                "deactivate | activate | revoke_sessions (okta); mark_compromised | dismiss_risk (any provider: "
                "Cordon's own risk level; at entra, Entra's too)")
      ->required();
  a->add_option("accounts", act->accounts,
                "sAMAccountName, userPrincipalName, SID (S-1-5-...) or GUID (ad); login or id (okta)");
  a->add_option("--accounts-file", act->accounts_file, "File with one account per line (bulk)");
  a->add_option("-p,--provider", act->provider, "ad | entra | okta")->capture_default_str();
  a->add_option("-r,--reason", act->reason, "Why (recorded in the action center)")->required();
  a->add_flag("--no-wait", act->no_wait, "Queue the action and return at once");
  a->add_flag("-y,--yes", act->yes,
              "Confirm an action whose undo does not bring everything back (okta deactivate: reactivation is a new "
              "activation) without being asked; without a terminal such an action is refused unless --yes is given");
  a->add_flag("--also-on-prem", act->also_on_prem,
              "With suspend at entra only: also disable the person's on-premises AD account, named as the Entra "
              "user (AD finds it by userPrincipalName); the two actions are linked and undone together");
  a->add_option("--timeout", act->timeout_s, "Seconds to wait for the outcome")->capture_default_str();
  AddClientOptions(a, act->client);
  Run(a, [act] { return Act(*act); });

  auto risks = std::make_shared<RisksOptions>();
  CLI::App* k = app.add_subcommand(
      "risks", "List Cordon's own risk levels: accounts marked compromised (mark_compromised) and not dismissed.");
  k->add_option("--provider", risks->provider, "ad | entra | okta");
  k->add_option("--account", risks->account, "Account as marked, as resolved, or its immutable id");
  AddClientOptions(k, risks->client);
  Run(k, [risks] { return Risks(*risks); });

  CLI::App* actions = app.add_subcommand("actions", "The action center: list, show, undo, cancel.");
  actions->require_subcommand(1);

  auto list = std::make_shared<ListOptions>();
  CLI::App* l = actions->add_subcommand("list", "List actions, newest first, with filters and paging.");
  l->add_option("--status", list->status, "awaiting_approval | pending | in_progress | succeeded | failed | cancelled");
  l->add_option("--type", list->type, "Action type, e.g. disable");
  l->add_option("--provider", list->provider, "ad | entra | okta");
  l->add_option("--target", list->target, "Account as requested");
  l->add_option("--requested-by", list->requested_by, "Token name of the requester");
  l->add_option("--bulk-id", list->bulk_id, "Actions of one bulk request");
  l->add_option("--after", list->after, "Created at or after (RFC 3339 UTC, e.g. 2026-11-24T00:00:00Z)");
  l->add_option("--before", list->before, "Created before (RFC 3339 UTC)");
  l->add_option("--limit", list->limit, "Page size (1-1000)")->check(CLI::Range(1, 1000));
  l->add_option("--cursor", list->cursor, "Next page (printed by the previous page)");
  AddClientOptions(l, list->client);
  Run(l, [list] { return List(*list); });

  auto show = std::make_shared<OneOptions>();
  CLI::App* s = actions->add_subcommand("show", "Show one action with its attempts, provider answers and history.");
  s->add_option("id", show->id, "Action id")->required();
  AddClientOptions(s, show->client);
  Run(s, [show] { return Show(*show); });

  auto undo = std::make_shared<OneOptions>();
  CLI::App* u = actions->add_subcommand(
      "undo", "Undo a succeeded action (creates a new, linked action); actions taken together (--also-on-prem) are "
              "undone together.");
  u->add_option("id", undo->id, "Action id")->required();
  u->add_option("-r,--reason", undo->reason, "Why")->required();
  u->add_flag("--wait", undo->wait, "Wait for the undo's outcome");
  AddClientOptions(u, undo->client);
  Run(u, [undo] { return Transition(*undo, "undo"); });

  auto cancel = std::make_shared<OneOptions>();
  CLI::App* c = actions->add_subcommand("cancel", "Cancel an action that has not started.");
  c->add_option("id", cancel->id, "Action id")->required();
  c->add_option("-r,--reason", cancel->reason, "Why")->required();
  AddClientOptions(c, cancel->client);
  Run(c, [cancel] { return Transition(*cancel, "cancel"); });
}

}  // namespace cordon::cli
