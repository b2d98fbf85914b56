#include "api/graph_json.h"

#include <algorithm>

namespace cordon::api {
namespace {

ordered_json NullIfEmpty(const std::string& s) { return s.empty() ? ordered_json(nullptr) : ordered_json(s); }

const AccountView* FirstAt(const Identity& identity, Provider provider) {
  for (const InventoryAccount& a : identity.accounts)
    if (a.account.provider == provider) return &a.account;
  return nullptr;
}

std::string OnPremisesSid(const Identity& identity) {
  if (const AccountView* ad = FirstAt(identity, Provider::kActiveDirectory); ad != nullptr && !ad->sid.empty())
    return ad->sid;
  for (const InventoryAccount& a : identity.accounts)
    if (!a.account.sid.empty()) return a.account.sid;
  return {};
}

}  // namespace

ordered_json IdentityAccountsJson(const Identity& identity, const std::vector<std::string>& select) {
  auto wanted = [&](std::string_view property) {
    return select.empty() || std::find(select.begin(), select.end(), property) != select.end();
  };
  ordered_json out = ordered_json::object();
  if (wanted("id")) out["id"] = identity.id;
  if (wanted("displayName")) out["displayName"] = identity.display_name;
  if (wanted("domain")) out["domain"] = NullIfEmpty(identity.domain);
  if (wanted("isEnabled"))
    out["isEnabled"] = std::any_of(identity.accounts.begin(), identity.accounts.end(), [](const InventoryAccount& a) {
      return a.account.status == AccountStatus::kEnabled;
    });
  if (wanted("onPremisesSecurityIdentifier")) out["onPremisesSecurityIdentifier"] = NullIfEmpty(OnPremisesSid(identity));
  if (wanted("cloudSecurityIdentifier")) {
    const AccountView* entra = FirstAt(identity, Provider::kEntra);
    const auto sid = entra != nullptr ? CloudSecurityIdentifier(entra->id) : std::nullopt;
    out["cloudSecurityIdentifier"] = sid ? ordered_json(*sid) : ordered_json(nullptr);
  }
  if (wanted("accounts")) {
    ordered_json accounts = ordered_json::array();
    for (const InventoryAccount& a : identity.accounts) {
      ordered_json actions = ordered_json::array();
      for (const GraphAction action : GraphActionsAt(a.account.provider)) actions.push_back(ToString(action));
      accounts.push_back(ordered_json{{"identifier", a.account.id},
                                      {"identityProvider", GraphProviderName(a.account.provider)},
                                      {"actions", std::move(actions)}});
    }
    out["accounts"] = std::move(accounts);
  }
  return out;
}

ordered_json InvokeActionResultJson(std::string_view account_id, GraphAction action, Provider provider,
                                    std::string_view correlation_id) {
  return ordered_json{{"accountId", account_id},
                      {"action", ToString(action)},
                      {"identityProvider", GraphProviderName(provider)},
                      {"correlationId", correlation_id}};
}

std::string DumpOrdered(const ordered_json& j) { return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace); }

}  // namespace cordon::api
