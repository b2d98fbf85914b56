// The routes of the user page, the side panel and search: who the caller is
// (/api/v1/me), the identities of the inventory (/api/v1/identities) with
// every account, what each role may do to it and what that would do, and
// the inventory's syncs (/api/v1/inventory). Shapes: src/api/README.md.
#include <algorithm>
#include <cctype>
#include <set>

#include "api/action_json.h"
#include "api/route_context.h"
#include "core/catalogue.h"
#include "engine/action_service.h"
#include "inventory/inventory.h"
#include "inventory/inventory_store.h"
#include "inventory/search_terms.h"

namespace cordon::api {
namespace {

constexpr int kDefaultIdentityLimit = 20;
constexpr int kMaxIdentityLimit = 100;
// The newest actions the user page shows.
constexpr int kRecentActions = 20;

json OrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
json TimeOrNull(TimePoint t) { return t == TimePoint{} ? json(nullptr) : json(FormatTime(t)); }

std::string ProviderStatusOf(const AccountView& a) {
  const auto it = a.identifiers.find("status");
  return it == a.identifiers.end() ? std::string() : it->second;
}

// The provider's risk in Graph's words, or null for anything else.
json ProviderRiskJson(const std::string& risk) {
  static const std::set<std::string> kWords{"none", "low", "medium", "high", "hidden"};
  return kWords.count(risk) ? json(risk) : json(nullptr);
}

json RiskJson(const std::optional<RiskLevel>& level) {
  return level ? json(std::string(ToString(*level))) : json(nullptr);
}

std::optional<RiskLevel> IdentityRisk(const Identity& identity) {
  for (const InventoryAccount& a : identity.accounts)
    if (a.risk_level) return a.risk_level;
  return std::nullopt;
}

// How the confirmation names the account: its display name and login.
std::string AccountLabel(const AccountView& a) {
  if (a.display_name.empty() || a.display_name == a.login) return a.login.empty() ? a.id : a.login;
  return a.display_name + " (" + (a.login.empty() ? a.id : a.login) + ")";
}

const InventoryAccount* AdAccountOf(const Identity& identity) {
  for (const InventoryAccount& a : identity.accounts)
    if (a.account.provider == Provider::kActiveDirectory) return &a;
  return nullptr;
}

// Whether the account's state makes the action change anything.
bool Applicable(const InventoryAccount& account, ActionType type) {
  const AccountView& a = account.account;
  const bool provider_risk = a.provider_risk == "low" || a.provider_risk == "medium" || a.provider_risk == "high";
  switch (type) {
    case ActionType::kDisable: return a.status != AccountStatus::kDisabled;
    case ActionType::kEnable: return a.status == AccountStatus::kDisabled;
    case ActionType::kForcePasswordReset: return !a.must_change_password;
    case ActionType::kClearPasswordReset: return a.must_change_password;
    case ActionType::kSuspend:
      // Okta suspends ACTIVE users only; Entra blocks sign-in of any enabled one.
      return a.provider == Provider::kOkta ? a.status == AccountStatus::kEnabled : a.status != AccountStatus::kDisabled;
    case ActionType::kUnsuspend:
      return a.status == (a.provider == Provider::kOkta ? AccountStatus::kSuspended : AccountStatus::kDisabled);
    case ActionType::kDeactivate: return a.status != AccountStatus::kDeactivated;
    case ActionType::kActivate: return a.status == AccountStatus::kDeactivated || ProviderStatusOf(a) == "STAGED";
    case ActionType::kRevokeSessions: return true;  // Cordon cannot see sessions
    case ActionType::kMarkCompromised: return !account.risk_level;
    case ActionType::kDismissRisk: return account.risk_level.has_value() || (a.provider == Provider::kEntra && provider_risk);
  }
  return true;
}

// What the analyst must know before the click.
std::vector<std::string> Warnings(const Identity& identity, const InventoryAccount& account, ActionType type) {
  std::vector<std::string> out;
  const AccountView& a = account.account;
  if (a.provider == Provider::kActiveDirectory && a.admin_protected && !IsCordonOnly(a.provider, type))
    out.push_back("adminCount=1: the account is protected by AdminSDHolder, so the delegated action account cannot "
                  "change it; the domain controller will refuse this");
  if (a.provider == Provider::kEntra && a.synced_from_ad) {
    if (type == ActionType::kSuspend)
      out.push_back(std::string("synced from Active Directory: the next directory sync reverts a suspend made only in "
                                "Entra ID; ") +
                    (AdAccountOf(identity) != nullptr ? "disable the AD account too (alsoOnPrem)"
                                                      : "disable its on-premises AD account too"));
    if (type == ActionType::kUnsuspend)
      out.push_back("synced from Active Directory: the next directory sync sets sign-in as the AD account has it");
  }
  if (a.provider == Provider::kEntra && a.guest && type == ActionType::kRevokeSessions)
    out.push_back("a guest: its sessions belong to its home tenant, so revoking them here has no effect");
  return out;
}

json AccountActionsJson(const Identity& identity, const InventoryAccount& account, Role role) {
  json out = json::array();
  const AccountView& a = account.account;
  const InventoryAccount* ad = AdAccountOf(identity);
  for (const CatalogueEntry& entry : Catalogue()) {
    if (entry.provider != a.provider) continue;
    const bool allowed = MayRun(role, entry.provider, entry.type);
    const bool also_on_prem =
        entry.provider == Provider::kEntra && entry.type == ActionType::kSuspend && a.synced_from_ad && ad != nullptr;
    std::string summary = WhatItDoes(entry.provider, entry.type, AccountLabel(a));
    if (also_on_prem) {
      std::string also = WhatItDoes(Provider::kActiveDirectory, ActionType::kDisable, AccountLabel(ad->account));
      if (!also.empty()) also[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(also[0])));
      summary += " With alsoOnPrem it also " + also;
    }
    json undo = nullptr;
    if (const auto reverse = UndoOf(entry.provider, entry.type)) {
      const std::string_view limits = UndoLimitsOf(entry.provider, entry.type);
      undo = {{"action", ToString(*reverse)},
              {"limits", limits.empty() ? json(nullptr) : json(std::string(limits))}};
    }
    out.push_back({{"action", ToString(entry.type)},
                   {"allowed", allowed},
                   {"why", allowed ? json(nullptr)
                                   : json(fmt::format("your role ({}) may not {} at {}", ToString(role),
                                                      ToString(entry.type), ToString(entry.provider)))},
                   {"applicable", Applicable(account, entry.type)},
                   {"warnings", Warnings(identity, account, entry.type)},
                   {"alsoOnPrem", also_on_prem},
                   {"undo", std::move(undo)},
                   {"summary", std::move(summary)}});
  }
  return out;
}

json AccountJson(const Identity& identity, const InventoryAccount& account, Role role) {
  const AccountView& a = account.account;
  json identifiers = json::object();
  for (const auto& [name, value] : a.identifiers) identifiers[name] = value;
  return {{"provider", ToString(a.provider)},
          {"id", a.id},
          {"login", a.login},
          {"displayName", a.display_name},
          {"upn", a.upn},
          {"sid", a.sid},
          {"mail", a.mail},
          {"status", ToString(a.status)},
          {"providerStatus", OrNull(ProviderStatusOf(a))},
          {"mustChangePassword", a.must_change_password},
          {"providerRisk", ProviderRiskJson(a.provider_risk)},
          {"riskLevel", RiskJson(account.risk_level)},
          {"adminProtected", a.admin_protected},
          {"syncedFromAd", a.synced_from_ad},
          {"guest", a.guest},
          {"identifiers", std::move(identifiers)},
          {"seenAt", FormatTime(account.seen_at)},
          {"actions", AccountActionsJson(identity, account, role)}};
}

json IdentitySummaryJson(const Identity& identity) {
  json accounts = json::array();
  for (const InventoryAccount& account : identity.accounts) {
    const AccountView& a = account.account;
    accounts.push_back({{"provider", ToString(a.provider)},
                        {"id", a.id},
                        {"login", a.login},
                        {"displayName", a.display_name},
                        {"status", ToString(a.status)},
                        {"providerStatus", OrNull(ProviderStatusOf(a))}});
  }
  return {{"id", identity.id},
          {"displayName", identity.display_name},
          {"domain", identity.domain},
          {"riskLevel", RiskJson(IdentityRisk(identity))},
          {"accounts", std::move(accounts)}};
}

json SyncRunJson(const SyncRun& run) {
  return {{"provider", ToString(run.provider)},
          {"state", run.running ? "running" : "idle"},
          {"startedAt", TimeOrNull(run.started_at)},
          {"finishedAt", run.running ? json(nullptr) : TimeOrNull(run.finished_at)},
          {"accounts", run.accounts},
          {"error", OrNull(run.error)},
          {"nextAt", run.next_at ? json(FormatTime(*run.next_at)) : json(nullptr)}};
}

// The actions on any of the identity's accounts: by the id each resolved to,
// or the name it was asked for (login, UPN, the id itself).
ActionFilter RecentActionsOf(const Identity& identity) {
  ActionFilter filter;
  filter.limit = kRecentActions;
  for (const InventoryAccount& account : identity.accounts) {
    if (filter.accounts.size() >= kMaxFilterAccounts) break;
    const AccountView& a = account.account;
    ActionAccount on{a.provider, a.id, {}};
    for (const std::string& name : {a.login, a.upn, a.id})
      if (!name.empty() && std::find(on.names.begin(), on.names.end(), name) == on.names.end()) on.names.push_back(name);
    filter.accounts.push_back(std::move(on));
  }
  return filter;
}

std::string KnownIdentityParameters() { return "q, limit, cursor"; }

}  // namespace

RoutedResponse Router::Me(Context& ctx) {
  ctx.route_class = "me";
  if (ctx.request.method() != http::verb::get) return ctx.MethodNotAllowed("GET");
  auto caller = Authenticate(ctx);
  if (!caller) return ctx.AuthFailed(caller.error());
  if (!ctx.params.empty())
    return ctx.Fail(http::status::bad_request, "invalid-query", "this route takes no query parameters");
  json may = json::array();
  for (const CatalogueEntry& entry : Catalogue())
    if (MayRun(caller->role, entry.provider, entry.type))
      may.push_back({{"provider", ToString(entry.provider)}, {"action", ToString(entry.type)}});
  json providers = json::array();
  for (Provider p : actions_.providers()) providers.push_back(ToString(p));
  return ctx.Json(http::status::ok, json{{"name", caller->actor.name},
                                         {"tokenId", caller->actor.token_id},
                                         {"role", ToString(caller->role)},
                                         {"may", std::move(may)},
                                         {"providers", std::move(providers)}});
}

RoutedResponse Router::ListIdentities(Context& ctx) {
  ctx.route_class = "identities.list";
  if (ctx.request.method() != http::verb::get) return ctx.MethodNotAllowed("GET");
  auto caller = Authenticate(ctx);
  if (!caller) return ctx.AuthFailed(caller.error());
  IdentityFilter filter;
  filter.limit = kDefaultIdentityLimit;
  for (const auto& param : ctx.params) {
    const std::string& key = param.first;
    const std::string& value = param.second;
    if (key != "q" && key != "limit" && key != "cursor")
      return ctx.Fail(http::status::bad_request, "invalid-query",
                      fmt::format("unknown query parameter; known: {}", KnownIdentityParameters()));
    auto bad = [&](std::string_view why) {
      return ctx.Fail(http::status::bad_request, "invalid-query", fmt::format("query parameter '{}': {}", key, why));
    };
    if (key == "q") {
      // Empty is everyone, as the search box starts.
      if (value.size() > kMaxTermBytes) return bad(fmt::format("at most {} bytes", kMaxTermBytes));
      if (HasControlCharacter(value)) return bad("must not hold control characters");
      filter.text = value;
    } else if (key == "limit") {
      if (value.empty() || value.size() > 3 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return bad(fmt::format("must be an integer from 1 to {}", kMaxIdentityLimit));
      filter.limit = std::stoi(value);
      if (filter.limit < 1 || filter.limit > kMaxIdentityLimit)
        return bad(fmt::format("must be an integer from 1 to {}", kMaxIdentityLimit));
    } else {
      if (value.empty()) return bad("must not be empty");
      if (value.size() > kMaxCursorBytes) return bad("too long");
      filter.cursor = value;
    }
  }
  if (inventory_.store == nullptr)
    return ctx.Fail(http::status::service_unavailable, "unavailable", "this server keeps no identity inventory");
  auto page = inventory_.store->ListIdentities(filter);
  if (!page) return ctx.FailWith(page.error());
  json value = json::array();
  for (const Identity& identity : page->identities) value.push_back(IdentitySummaryJson(identity));
  return ctx.Json(http::status::ok, json{{"value", std::move(value)}, {"nextCursor", OrNull(page->next_cursor)}});
}

RoutedResponse Router::GetIdentity(Context& ctx, std::string_view id) {
  ctx.route_class = "identities.get";
  if (ctx.request.method() != http::verb::get) return ctx.MethodNotAllowed("GET");
  auto caller = Authenticate(ctx);
  if (!caller) return ctx.AuthFailed(caller.error());
  if (!ctx.params.empty())
    return ctx.Fail(http::status::bad_request, "invalid-query", "this route takes no query parameters");
  // Anything but an identity id is nobody, without a lookup.
  if (!IsIdentityId(id)) return ctx.Fail(http::status::not_found, "not-found", "no identity has this id");
  if (inventory_.store == nullptr)
    return ctx.Fail(http::status::service_unavailable, "unavailable", "this server keeps no identity inventory");
  auto found = inventory_.store->GetIdentity(id);
  if (!found) return ctx.FailWith(found.error());
  if (!found->has_value()) return ctx.Fail(http::status::not_found, "not-found", "no identity has this id");
  const Identity& identity = **found;
  auto recent = store_.ListActions(RecentActionsOf(identity));
  if (!recent) return ctx.FailWith(recent.error());
  json accounts = json::array();
  for (const InventoryAccount& account : identity.accounts)
    accounts.push_back(AccountJson(identity, account, caller->role));
  json actions = json::array();
  for (const Action& a : recent->actions) actions.push_back(ActionToJson(a));
  return ctx.Json(http::status::ok, json{{"id", identity.id},
                                         {"displayName", identity.display_name},
                                         {"domain", identity.domain},
                                         {"riskLevel", RiskJson(IdentityRisk(identity))},
                                         {"accounts", std::move(accounts)},
                                         {"recentActions", std::move(actions)}});
}

RoutedResponse Router::SyncInventory(Context& ctx) {
  ctx.route_class = "inventory.sync";
  if (ctx.request.method() != http::verb::post) return ctx.MethodNotAllowed("POST");
  auto caller = Authenticate(ctx);
  if (!caller) return ctx.AuthFailed(caller.error());
  auto body = ctx.ParseObject({"provider"});
  if (!body) return ctx.Fail(body.error());
  std::optional<Provider> provider;
  if (const auto it = body->find("provider"); it != body->end() && !it->is_null()) {
    if (!it->is_string())
      return ctx.Fail(http::status::bad_request, "wrong-type", "the field 'provider' must be a string");
    provider = ParseProvider(it->get<std::string>());
    if (!provider)
      return ctx.Fail(http::status::unprocessable_entity, "unknown-provider",
                      fmt::format("unknown provider; known: {}", KnownProviders()));
  }
  if (!MaySyncInventory(caller->role)) {
    metrics_.CountAuthFailure(AuthFailure::kForbidden);
    RecordRefusal(ctx, "auth.forbidden", caller->actor.name, caller->actor.token_id, "inventory sync");
    return ctx.Fail(http::status::forbidden, "forbidden",
                    fmt::format("the role '{}' may not start an inventory sync", ToString(caller->role)));
  }
  if (inventory_.sync == nullptr)
    return ctx.Fail(http::status::service_unavailable, "unavailable", "this server runs no inventory sync");
  if (provider && !inventory_.sync->providers().count(*provider))
    return ctx.Fail(http::status::bad_request, "provider-not-configured",
                    fmt::format("the provider '{}' is not configured on this server", ToString(*provider)));
  auto runs = inventory_.sync->RequestSync(provider);
  if (!runs) return ctx.FailWith(runs.error());
  json value = json::array();
  for (const SyncRun& run : *runs) value.push_back(SyncRunJson(run));
  RoutedResponse out = ctx.Json(http::status::accepted, json{{"value", std::move(value)}});
  out.response.set(http::field::location, "/api/v1/inventory");
  return out;
}

RoutedResponse Router::InventoryStatus(Context& ctx) {
  ctx.route_class = "inventory.get";
  if (ctx.request.method() != http::verb::get) return ctx.MethodNotAllowed("GET");
  auto caller = Authenticate(ctx);
  if (!caller) return ctx.AuthFailed(caller.error());
  if (!ctx.params.empty())
    return ctx.Fail(http::status::bad_request, "invalid-query", "this route takes no query parameters");
  if (inventory_.store == nullptr)
    return ctx.Fail(http::status::service_unavailable, "unavailable", "this server keeps no identity inventory");
  auto counts = inventory_.store->CountInventory();
  if (!counts) return ctx.FailWith(counts.error());
  std::vector<SyncRun> runs;
  if (inventory_.sync != nullptr) {
    runs = inventory_.sync->Runs();
  } else {
    auto stored = inventory_.store->ListSyncRuns();
    if (!stored) return ctx.FailWith(stored.error());
    runs = std::move(*stored);
  }
  json providers = json::array();
  for (const SyncRun& run : runs) providers.push_back(SyncRunJson(run));
  return ctx.Json(http::status::ok, json{{"identities", counts->identities},
                                         {"accounts", counts->accounts},
                                         {"providers", std::move(providers)}});
}

}  // namespace cordon::api
