// Fills an inventory directly, as a sync would have: the accounts are
// correlated (inventory/correlate.h) and written in one UpsertAccounts, for
// tests and benchmarks that need identities without providers to list.
//
// Thread-safety: as the store's.
#pragma once

#include <vector>

#include "core/account.h"
#include "core/error.h"
#include "inventory/inventory_store.h"

namespace cordon::testing {

// Correlates `accounts` together with those the store already holds, and writes them.
[[nodiscard]] Status SeedInventory(InventoryStore& store, const std::vector<AccountView>& accounts,
                                   TimePoint seen_at = Now());

}  // namespace cordon::testing
