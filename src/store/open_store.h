// OpenStore: the one place that turns [store] into a ready Store (opened and
// migrated), and OpenStores into the Store and the InventoryStore kept in
// the same database. New backends (PostgreSQL) are added here.
//
// Thread-safety: call from one thread at start.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "inventory/inventory_store.h"
#include "store/store.h"

namespace cordon {

[[nodiscard]] Result<std::unique_ptr<Store>> OpenStore(const Config& config);

// The action center and the identity inventory, over one database.
struct Stores {
  std::shared_ptr<Store> actions;
  std::shared_ptr<InventoryStore> inventory;
};
[[nodiscard]] Result<Stores> OpenStores(const Config& config);

}  // namespace cordon
