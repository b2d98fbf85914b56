// Fills an inventory directly, as a sync would have: the accounts are
// correlated (inventory/correlate.h) and written in one UpsertAccounts, for
// tests and benchmarks that need identities without providers to list; and
// the enabled account such tests start from.
//
// Thread-safety: as the store's.
#pragma once

#include <string>
#include <vector>

#include "core/account.h"
#include "core/error.h"
#include "inventory/inventory_store.h"

namespace cordon::testing {

// An enabled account with these names; an AD account also gets a DN in OU=Staff.
AccountView TestAccount(Provider provider, std::string id, std::string login, std::string name, std::string upn,
                        std::string sid = "", std::string mail = "");

// Correlates `accounts` together with those the store already holds, and writes them.
[[nodiscard]] Status SeedInventory(InventoryStore& store, const std::vector<AccountView>& accounts,
                                   TimePoint seen_at = Now());

}  // namespace cordon::testing
