#include "support/inventory_seed.h"

#include <set>
#include <vector>

#include "inventory/correlate.h"

namespace cordon::testing {

Status SeedInventory(InventoryStore& inventory, std::span<const AccountView> accounts) {
  auto snapshot = inventory.AccountsForCorrelation();
  if (!snapshot) return Fail(std::move(snapshot.error()));
  std::vector<AccountKeys> keys = snapshot->accounts;
  const size_t first_new = keys.size();
  for (const AccountView& a : accounts) keys.push_back(KeysOf(a));
  const Correlation correlation = Correlate(keys);

  InventoryWrite write;
  write.generation = snapshot->generation;
  std::set<size_t> touched;
  const TimePoint now = Now();
  for (size_t i = 0; i < accounts.size(); ++i) {
    const size_t identity = correlation.identity_of[first_new + i];
    touched.insert(identity);
    InventoryAccount account;
    account.account = accounts[i];
    account.identity_id = correlation.identities[identity].id;
    account.seen_at = now;
    write.accounts.push_back(std::move(account));
  }
  // Accounts already held whose identity the new ones change move with it.
  for (size_t i = 0; i < first_new; ++i) {
    const size_t identity = correlation.identity_of[i];
    if (keys[i].identity_id == correlation.identities[identity].id) continue;
    touched.insert(identity);
    write.moved.push_back({keys[i].provider, keys[i].id, correlation.identities[identity].id});
  }
  for (const size_t identity : touched) write.identities.push_back(correlation.identities[identity]);
  auto written = inventory.UpsertAccounts(write);
  if (!written) return Fail(std::move(written.error()));
  return {};
}

AccountView TestAccount(Provider provider, std::string id, std::string login, std::string display_name,
                        std::string upn, std::string sid, std::string mail) {
  AccountView a;
  a.provider = provider;
  a.id = std::move(id);
  a.login = std::move(login);
  a.display_name = std::move(display_name);
  a.status = AccountStatus::kEnabled;
  a.upn = std::move(upn);
  a.sid = std::move(sid);
  a.mail = std::move(mail);
  return a;
}

}  // namespace cordon::testing
