// Seeding an inventory for tests of what reads it: accounts are correlated
// into identities exactly as a sync would (inventory/correlate.h) and written
// through the InventoryStore's own write (UpsertAccounts), so the identities,
// their ids and their search terms are the store's.
//
// Thread-safety: as the InventoryStore; use from one test thread.
#pragma once

#include <span>
#include <string>

#include "core/account.h"
#include "core/error.h"
#include "inventory/inventory_store.h"

namespace cordon::testing {

// Adds (or updates) these accounts, each seen now, with every account the
// inventory already holds taking part in the correlation.
[[nodiscard]] Status SeedInventory(InventoryStore& inventory, std::span<const AccountView> accounts);

// A plain account for tests: enabled, no risk, nothing special.
[[nodiscard]] AccountView TestAccount(Provider provider, std::string id, std::string login, std::string display_name,
                                      std::string upn = "", std::string sid = "", std::string mail = "");

}  // namespace cordon::testing
