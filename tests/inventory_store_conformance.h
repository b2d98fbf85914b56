// The inventory store conformance suite's fixture: every InventoryStore
// backend (SQLite today, PostgreSQL later) is held to the same tests
// (inventory_store_conformance_test.cpp).
//
// The inventory lives in the action center's database (an account's Cordon
// risk level is the action center's), so a backend opens both: its Store
// and its InventoryStore over the same data, one object or two. A backend
// instantiates the suite once, e.g. in sqlite_store_test.cpp:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, InventoryStoreConformance,
//                            ::testing::Values(InventoryBackend{"sqlite", OpenSqliteInventoryIn}),
//                            InventoryBackendName);
//
// Thread-safety: the fixture is used by one test thread; the stores it makes
// are shared by the threads a test starts.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "inventory/inventory_store.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace cordon::testing {

// A backend's two faces over one database, opened and migrated.
struct InventoryStores {
  std::shared_ptr<Store> actions;
  std::shared_ptr<InventoryStore> inventory;
};

struct InventoryBackend {
  std::string name;
  // Opens the stores on the data kept in `scratch_dir`; twice with the same
  // folder reaches the same data.
  std::function<InventoryStores(const std::filesystem::path& scratch_dir)> open;
};

inline std::string InventoryBackendName(const ::testing::TestParamInfo<InventoryBackend>& info) {
  return info.param.name;
}

class InventoryStoreConformance : public ::testing::TestWithParam<InventoryBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The accounts of a complete listing of `provider`, all as one write
  // (identity ids and headers as given), at the store's current generation.
  [[nodiscard]] Result<InventoryWriteResult> Replace(Provider provider, std::vector<InventoryAccount> accounts,
                                                     std::vector<IdentityHeader> identities, TimePoint at,
                                                     std::vector<AccountPlacement> moved = {});
  [[nodiscard]] Result<InventoryWriteResult> Upsert(std::vector<InventoryAccount> accounts,
                                                    std::vector<IdentityHeader> identities,
                                                    std::vector<AccountPlacement> moved = {});
  [[nodiscard]] int64_t Generation();
  // Ids of the identities a filter lists (one page).
  [[nodiscard]] std::vector<std::string> Listed(IdentityFilter filter);

  TempDir dir_{"cordon-inventory-store"};
  InventoryStores stores_;
  Store* actions_ = nullptr;
  InventoryStore* inventory_ = nullptr;
  // A fixed, round clock: the store must take time only from its callers.
  const TimePoint t0_ = FromUnixMillis(1'800'000'000'000);
};

}  // namespace cordon::testing
