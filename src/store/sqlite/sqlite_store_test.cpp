// The store conformance suite on SQLite, plus what only SQLite has (WAL mode,
// the append-only triggers).
#include "store/sqlite/sqlite_store.h"

#include <sys/stat.h>

#include <sqlite3.h>

#include <optional>
#include <utility>

#include <gtest/gtest.h>

#include "inventory_store_conformance.h"
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

// One SqliteStore is both faces; the second backend reads at most one term
// row per search, so every text search walks the identities in display order.
InventoryStores OpenSqliteInventoryIn(const std::filesystem::path& dir, int search_scan_rows) {
  SqliteStoreOptions options;
  options.search_scan_rows = search_scan_rows;
  auto store = SqliteStore::Open((dir / "cordon.db").string(), options);
  EXPECT_TRUE(store) << store.error().message;
  if (!store) return {};
  auto migrated = (*store)->Migrate();
  EXPECT_TRUE(migrated) << migrated.error().message;
  std::shared_ptr<SqliteStore> shared = std::move(*store);
  return {shared, shared};
}

INSTANTIATE_TEST_SUITE_P(
    Sqlite, InventoryStoreConformance,
    ::testing::Values(InventoryBackend{"sqlite",
                                       [](const std::filesystem::path& dir) {
                                         return OpenSqliteInventoryIn(dir, SqliteStoreOptions{}.search_scan_rows);
                                       }},
                      InventoryBackend{"sqlite_walking",
                                       [](const std::filesystem::path& dir) { return OpenSqliteInventoryIn(dir, 1); }}),
    InventoryBackendName);

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

TEST_F(SqliteOnly, DurableByDefaultNormalOnRequest) {
  {
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE(store);
    EXPECT_EQ((*store)->sync(), SqliteSync::kFull);
  }
  SqliteStoreOptions normal;
  normal.sync = SqliteSync::kNormal;
  auto store = SqliteStore::Open(path_, normal);
  ASSERT_TRUE(store);
  EXPECT_EQ((*store)->sync(), SqliteSync::kNormal);
}

TEST_F(SqliteOnly, TheStoreAndItsWalAreOwnerOnlyWhateverTheUmask) {
  const mode_t old = ::umask(0022);
  {
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->Migrate());
    NewAction n;
    n.target = "alice";
    n.requested_by = "analyst";
    n.reason = "r";
    ASSERT_TRUE((*store)->CreateActions(std::span(&n, 1), Now()));
    for (const std::string& file : {path_, path_ + "-wal", path_ + "-shm"}) {
      struct stat st {};
      ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
      EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
    }
  }
  ::umask(old);
}

TEST_F(SqliteOnly, AVersionOneStoreIsMigratedKeepingItsData) {
  // The first schema, as an older Cordon left it, with one action and one token.
  ASSERT_EQ(RawExec(R"sql(
    CREATE TABLE actions (id TEXT PRIMARY KEY, type TEXT NOT NULL, provider TEXT NOT NULL,
      target TEXT NOT NULL COLLATE NOCASE, requested_by TEXT NOT NULL COLLATE NOCASE, reason TEXT NOT NULL,
      status TEXT NOT NULL, undo_of TEXT REFERENCES actions(id), undone_by TEXT REFERENCES actions(id), bulk_id TEXT,
      attempt_count INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL, created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, lease_owner TEXT NOT NULL DEFAULT '',
      lease_expires_at INTEGER NOT NULL DEFAULT 0, claimed_at INTEGER NOT NULL DEFAULT 0,
      outcome TEXT NOT NULL DEFAULT '', resolved_account TEXT NOT NULL DEFAULT '',
      already_in_state INTEGER NOT NULL DEFAULT 0, provider_code TEXT NOT NULL DEFAULT '',
      provider_detail TEXT NOT NULL DEFAULT '');
    CREATE TABLE attempts (action_id TEXT NOT NULL REFERENCES actions(id), number INTEGER NOT NULL,
      worker TEXT NOT NULL, started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL, result TEXT NOT NULL,
      message TEXT NOT NULL, provider_code TEXT NOT NULL DEFAULT '', provider_detail TEXT NOT NULL DEFAULT '',
      PRIMARY KEY (action_id, number)) WITHOUT ROWID;
    CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, action_id TEXT REFERENCES actions(id),
      at INTEGER NOT NULL, actor TEXT NOT NULL, event TEXT NOT NULL, from_status TEXT NOT NULL DEFAULT '',
      to_status TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '');
    CREATE TABLE tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
      sha256_hex TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
    INSERT INTO actions (id, type, provider, target, requested_by, reason, status, max_attempts, created_at,
      updated_at, next_attempt_at, already_in_state) VALUES ('act_old', 'disable', 'ad', 'alice', 'analyst', 'r',
      'succeeded', 5, 1, 1, 1, 1);
    INSERT INTO tokens VALUES ('tok_old', 'ops', 'security_reader',
      'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1, 0);
    PRAGMA user_version = 1;
  )sql"),
            SQLITE_OK);
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store);
  auto migrated = (*store)->Migrate();
  ASSERT_TRUE(migrated) << migrated.error().message;
  auto old = (*store)->GetAction("act_old");
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(old->target, "alice");
  EXPECT_FALSE(old->prior_in_target.has_value()) << "observed before observations were recorded";
  EXPECT_TRUE(old->already_in_state);
  EXPECT_EQ(old->deadline, TimePoint{});
  auto token = (*store)->FindTokenByDigest(std::string(64, 'a'));
  ASSERT_TRUE(token && token->has_value());
  EXPECT_EQ((*token)->expires_at, TimePoint{});
  std::string version;
  ASSERT_EQ(RawExec("PRAGMA user_version", &version), SQLITE_OK);
  EXPECT_EQ(version, "4");
  EXPECT_TRUE(old->linked_actions.empty());
  EXPECT_FALSE(old->risk_level.has_value());
  auto risks = (*store)->ListRisks({});
  ASSERT_TRUE(risks) << risks.error().message;
  EXPECT_TRUE(risks->empty()) << "an older store starts with no risk levels";
  auto identities = (*store)->CountInventory();
  ASSERT_TRUE(identities) << identities.error().message;
  EXPECT_EQ(identities->identities, 0) << "and an empty inventory";
  ASSERT_TRUE((*store)->Migrate()) << "and again: nothing to do";
}

}  // namespace
}  // namespace cordon::testing
