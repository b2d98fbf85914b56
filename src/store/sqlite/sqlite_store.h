// SqliteStore: the embedded action center, one SQLite file in WAL mode.
//
// The default Store of a single Cordon node, and the InventoryStore beside it
// in the same file (sqlite_inventory.cpp). All writes go through one
// connection guarded by a mutex (SQLite serialises writers anyway); read-only
// methods use a second, read-only connection with its own mutex, which in WAL
// mode never waits for the writer. Each connection caches its prepared
// statements. Every method is one transaction (writes: BEGIN IMMEDIATE, so a
// second process sharing the file waits on busy_timeout instead of failing
// half-way).
//
// Thread-safety: every method may be called from any thread concurrently.
// Do not keep a SqliteStore across fork(): open a new one in the child.
#pragma once

#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/action.h"
#include "core/error.h"
#include "inventory/inventory_store.h"
#include "store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace cordon {

// How hard a commit waits for the disk.
enum class SqliteSync {
  // synchronous=FULL: the WAL is fsynced on every commit, so an action the
  // API accepted survives a power loss or kernel crash too. The default: the
  // action center is the proof of what was done.
  kFull,
  // WAL + synchronous=NORMAL: a commit is in the WAL before it returns, so a
  // process crash (SIGKILL, abort) loses nothing, but a power loss may drop
  // the last commits. Cheaper per commit (bench/store_benchmark measures it).
  kNormal,
};

struct SqliteStoreOptions {
  SqliteSync sync = SqliteSync::kFull;
  Millis busy_timeout{5000};  // how long to wait for another process's write lock
  // How many term rows a prefix search reads before it walks the identities
  // in display order instead (sqlite_inventory.cpp says why); the default
  // suits an inventory of any size.
  int search_scan_rows = 20000;
};

class SqliteStore final : public Store, public InventoryStore {
 public:
  // Opens (creating if needed, owner-only) the database file at `path`. Call
  // Migrate() before anything else.
  [[nodiscard]] static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                                 SqliteStoreOptions options = {});

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  [[nodiscard]] Status Migrate() override;
  [[nodiscard]] Result<std::vector<Action>> CreateActions(std::span<const NewAction> actions, TimePoint now) override;
  [[nodiscard]] Result<Action> GetAction(std::string_view id) override;
  [[nodiscard]] Result<std::vector<Attempt>> GetAttempts(std::string_view action_id) override;
  [[nodiscard]] Result<std::vector<AuditEvent>> GetAudit(std::string_view action_id) override;
  [[nodiscard]] Result<ActionPage> ListActions(const ActionFilter& filter) override;
  [[nodiscard]] Result<int64_t> CountDue(Provider provider, TimePoint now) override;
  [[nodiscard]] Result<std::vector<Action>> ClaimDue(Provider provider, std::string_view worker, int max, TimePoint now,
                                                     Millis lease) override;
  [[nodiscard]] Status RenewLeases(std::span<const std::string> action_ids, std::string_view worker, TimePoint now,
                                   Millis lease) override;
  [[nodiscard]] Status RecordObservations(std::span<const Observation> observations, std::string_view worker,
                                          TimePoint now) override;
  [[nodiscard]] Result<Action> FinishAttempt(const AttemptReport& report) override;
  [[nodiscard]] Result<int> FailOverdue(Provider provider, TimePoint now, std::string_view why) override;
  [[nodiscard]] Result<int> RecoverExpiredLeases(TimePoint now) override;
  [[nodiscard]] Result<Action> Cancel(std::string_view id, const Actor& actor, std::string_view reason,
                                      TimePoint now) override;
  [[nodiscard]] Result<std::vector<Action>> CreateUndos(std::span<const NewAction> undos, TimePoint now) override;
  [[nodiscard]] Result<std::vector<RiskMark>> ListRisks(const RiskFilter& filter) override;
  using Store::AppendAudit;
  [[nodiscard]] Status AppendAudit(std::span<const AuditEvent> events) override;
  [[nodiscard]] Result<std::vector<AuditEvent>> ListAudit(std::string_view event_prefix, int limit) override;
  [[nodiscard]] Status CreateToken(const TokenRecord& token) override;
  [[nodiscard]] Result<std::optional<TokenRecord>> FindTokenByDigest(std::string_view sha256_hex) override;
  [[nodiscard]] Result<std::vector<TokenRecord>> ListTokens() override;
  [[nodiscard]] Result<TokenRecord> RevokeToken(std::string_view id, const Actor& actor, std::string_view reason,
                                                TimePoint now) override;
  [[nodiscard]] Status TouchTokens(std::span<const std::pair<std::string, TimePoint>> used) override;
  [[nodiscard]] Result<std::vector<StatusCount>> CountByStatus() override;
  [[nodiscard]] Status Ping() override;

  // InventoryStore (sqlite_inventory.cpp).
  [[nodiscard]] Result<IdentityPage> ListIdentities(const IdentityFilter& filter) override;
  [[nodiscard]] Result<std::optional<Identity>> GetIdentity(std::string_view id) override;
  [[nodiscard]] Result<std::optional<Identity>> FindIdentityOfAccount(Provider provider,
                                                                      std::string_view account_id_or_login) override;
  [[nodiscard]] Result<CorrelationSnapshot> AccountsForCorrelation(std::optional<Provider> except) override;
  [[nodiscard]] Result<CorrelationSnapshot> IdentityMembersOf(Provider provider, std::string_view account_id) override;
  [[nodiscard]] Result<InventoryWriteResult> ReplaceAccounts(Provider provider, const InventoryWrite& write,
                                                             const SyncRun& run) override;
  [[nodiscard]] Result<InventoryWriteResult> UpsertAccounts(const InventoryWrite& write) override;
  [[nodiscard]] Status RecordSyncRun(const SyncRun& run) override;
  [[nodiscard]] Result<std::vector<SyncRun>> ListSyncRuns() override;
  [[nodiscard]] Result<InventoryCounts> CountInventory() override;

  // How commits reach the disk, as the writer connection reports it.
  [[nodiscard]] SqliteSync sync() const { return sync_; }

 private:
  class Stmt;
  class Transaction;

  // One SQLite connection and its cached statements, used under `mu`.
  struct Connection {
    std::mutex mu;
    sqlite3* db = nullptr;
    std::unordered_map<std::string, sqlite3_stmt*> statements;
  };

  SqliteStore();

  // Helpers expect the connection's mutex to be held; the writer's helpers
  // (Exec, Insert*) always use writer_.
  [[nodiscard]] Result<Stmt> Prepare(Connection& c, const std::string& sql);
  [[nodiscard]] static Error SqlError(const Connection& c, std::string_view what);
  [[nodiscard]] Status Exec(const char* sql);
  [[nodiscard]] Result<Action> LoadAction(Connection& c, std::string_view id);
  [[nodiscard]] Result<Action> InsertAction(const NewAction& a, TimePoint now);
  [[nodiscard]] Status InsertAudit(const AuditEvent& e);
  [[nodiscard]] Status InsertAttempt(const Attempt& a);
  // Links every action of `group` to every other, each way, with a "linked"
  // audit event; fills their linked_actions.
  [[nodiscard]] Status LinkActions(std::span<Action*> group, std::string_view actor, TimePoint now);
  // Cordon's risk level after `done` (a mark_compromised or dismiss_risk) succeeded.
  [[nodiscard]] Status ApplyRisk(const Action& done, TimePoint now, std::string_view actor);

  // The inventory's helpers (sqlite_inventory.cpp).
  // Reads identities by id, with their accounts and Cordon's risk levels, in
  // the order given; ids the store does not hold are left out.
  [[nodiscard]] Result<std::vector<Identity>> LoadIdentities(Connection& c, const std::vector<std::string>& ids);
  // The generation, and the accounts `where` (binding `args` in order) selects.
  [[nodiscard]] Result<CorrelationSnapshot> ReadKeys(Connection& c, const char* where,
                                                     std::initializer_list<std::string_view> args);
  // The write of ReplaceAccounts (`replace`: that provider's listing) and UpsertAccounts.
  [[nodiscard]] Result<InventoryWriteResult> WriteInventory(const InventoryWrite& write,
                                                            std::optional<Provider> replace, const SyncRun* run);
  // Rewrites the identity's header and search terms from its accounts, or
  // removes it when it has none left. Writer connection, in a transaction.
  [[nodiscard]] Result<bool> RebuildIdentity(const std::string& id, const IdentityHeader* header);
  [[nodiscard]] Status WriteSyncRun(const SyncRun& run, bool listed);

  SqliteSync sync_ = SqliteSync::kFull;
  int search_scan_rows_ = 20000;
  Connection writer_;  // every write, and reads inside write transactions
  Connection reader_;  // read-only methods; in WAL it never waits for the writer
};

}  // namespace cordon
