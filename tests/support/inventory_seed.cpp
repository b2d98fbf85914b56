#include "support/inventory_seed.h"

namespace cordon::testing {

AccountView TestAccount(Provider provider, std::string id, std::string login, std::string name, std::string upn,
                        std::string sid, std::string mail) {
  AccountView a;
  a.provider = provider;
  a.id = std::move(id);
  a.login = std::move(login);
  a.display_name = std::move(name);
  a.upn = std::move(upn);
  a.sid = std::move(sid);
  a.mail = std::move(mail);
  a.status = AccountStatus::kEnabled;
  if (provider == Provider::kActiveDirectory)
    a.identifiers["dn"] = "CN=" + a.display_name + ",OU=Staff,DC=corp,DC=example,DC=com";
  return a;
}

Status SeedInventory(InventoryStore& store, const std::vector<AccountView>& accounts, TimePoint seen_at) {
  auto snapshot = store.AccountsForCorrelation(std::nullopt);
  if (!snapshot) return Fail(snapshot.error());
  std::vector<AccountKeys> keys = std::move(snapshot->accounts);
  const size_t first = keys.size();
  for (const AccountView& a : accounts) keys.push_back(KeysOf(a));
  const Correlation c = Correlate(keys);
  InventoryWrite write;
  write.generation = snapshot->generation;
  write.identities = c.identities;
  for (size_t i = 0; i < first; ++i) {
    const std::string& id = c.identities[c.identity_of[i]].id;
    if (id != keys[i].identity_id) write.moved.push_back({keys[i].provider, keys[i].id, id});
  }
  write.accounts.reserve(accounts.size());
  for (size_t i = 0; i < accounts.size(); ++i)
    write.accounts.push_back({accounts[i], c.identities[c.identity_of[first + i]].id, seen_at, std::nullopt});
  auto written = store.UpsertAccounts(write);
  if (!written) return Fail(written.error());
  return {};
}

}  // namespace cordon::testing
