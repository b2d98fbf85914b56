// The store conformance suite on SQLite, plus what only SQLite has (WAL mode,
// the append-only triggers).
#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include "store_conformance.h"
#include "support/temp_dir.h"

namespace cordon::testing {
namespace {

std::unique_ptr<Store> OpenSqliteIn(const std::filesystem::path& dir) {
  auto store = SqliteStore::Open((dir / "cordon.db").string());
  EXPECT_TRUE(store) << store.error().message;
  if (!store) return nullptr;
  return std::move(*store);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance, ::testing::Values(StoreBackend{"sqlite", OpenSqliteIn}),
                         StoreBackendName);

class SqliteOnly : public ::testing::Test {
 protected:
  void SetUp() override { path_ = (dir_ / "cordon.db").string(); }
  // Runs SQL on a second, raw connection; returns the SQLite result code.
  int RawExec(const std::string& sql, std::string* first_value = nullptr) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    auto cb = [](void* out, int, char** values, char**) {
      if (out != nullptr && values[0] != nullptr) *static_cast<std::string*>(out) = values[0];
      return 0;
    };
    int rc = sqlite3_exec(db, sql.c_str(), cb, first_value, nullptr);
    sqlite3_close(db);
    return rc;
  }

  testing::TempDir dir_{"cordon-sqlite"};
  std::string path_;
};

TEST_F(SqliteOnly, UsesWalMode) {
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->Migrate());
  std::string mode;
  EXPECT_EQ(RawExec("PRAGMA journal_mode", &mode), SQLITE_OK);
  EXPECT_EQ(mode, "wal");
}

TEST_F(SqliteOnly, AuditTrailAndActionsCannotBeRewrittenOrDeleted) {
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->Migrate());
  NewAction n;
  n.target = "alice";
  n.requested_by = "analyst";
  n.reason = "r";
  ASSERT_TRUE((*store)->CreateActions(std::span(&n, 1), Now()));
  EXPECT_NE(RawExec("UPDATE audit SET actor = 'someone else'"), SQLITE_OK);
  EXPECT_NE(RawExec("DELETE FROM audit"), SQLITE_OK);
  EXPECT_NE(RawExec("DELETE FROM actions"), SQLITE_OK);
  std::string count;
  EXPECT_EQ(RawExec("SELECT COUNT(*) FROM audit WHERE actor = 'analyst'", &count), SQLITE_OK);
  EXPECT_EQ(count, "1");
}

TEST_F(SqliteOnly, MigrateIsIdempotent) {
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->Migrate());
  ASSERT_TRUE((*store)->Migrate());
}

TEST_F(SqliteOnly, RefusesASchemaFromTheFuture) {
  {
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->Migrate());
  }
  ASSERT_EQ(RawExec("PRAGMA user_version = 99"), SQLITE_OK);
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store);
  auto migrated = (*store)->Migrate();
  ASSERT_FALSE(migrated);
  EXPECT_EQ(migrated.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(SqliteOnly, UnopenablePathIsUnavailable) {
  auto store = SqliteStore::Open((dir_ / "no" / "such" / "dir" / "cordon.db").string());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
}

TEST_F(SqliteOnly, FullSyncIsAvailable) {
  SqliteStoreOptions options;
  options.sync = SqliteSync::kFull;
  auto store = SqliteStore::Open(path_, options);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->Migrate());
}

}  // namespace
}  // namespace cordon::testing
