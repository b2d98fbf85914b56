// The store conformance suite's fixture: every Store backend (SQLite today,
// PostgreSQL later) is held to the same tests (store_conformance_test.cpp).
//
// A backend instantiates the suite once, e.g. in sqlite_store_test.cpp:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
//                            ::testing::Values(StoreBackend{"sqlite", OpenSqliteIn}),
//                            StoreBackendName);
//
// The factory takes a scratch folder rather than nothing: the crash test must
// reopen the *same* store after the writer died, so calling `open` twice with
// the same folder has to reach the same data (a file in it for SQLite; a
// database or schema named after it for a server backend).
//
// Thread-safety: the fixture is used by one test thread; the stores it makes
// are shared by the threads a test starts.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/store.h"
#include "support/temp_dir.h"

namespace cordon::testing {

struct StoreBackend {
  std::string name;
  std::function<std::unique_ptr<Store>(const std::filesystem::path& scratch_dir)> open;
};

inline std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; }

class StoreConformance : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A new, migrated store on this test's data (the old one stays usable).
  std::unique_ptr<Store> Reopen();

  NewAction MakeAction(std::string target, ActionType type = ActionType::kDisable,
                       Provider provider = Provider::kActiveDirectory) const;
  // Creates one action at `at`, asserting success.
  Action CreateOne(const NewAction& n, TimePoint at);

  TempDir dir_{"cordon-store"};
  std::unique_ptr<Store> store_;
  // A fixed, round clock: the store must take time only from its callers.
  const TimePoint t0_ = FromUnixMillis(1'800'000'000'000);
};

}  // namespace cordon::testing
