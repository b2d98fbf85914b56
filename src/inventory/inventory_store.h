// InventoryStore: where the identity inventory is kept — every provider's
// accounts, the identities they are correlated into, their search terms and
// each provider's last sync — in the same database as the action center, so
// an account's Cordon risk level (Store::FinishAttempt keeps it) is read
// with the account. One interface, one implementation per backend
// (src/store/sqlite today), all held to the same conformance suite
// (tests/inventory_store_conformance_test.cpp).
//
// Reads (the API parts use them): ListIdentities, GetIdentity,
// FindIdentityOfAccount. Writes (the Inventory's sync and refresh): the
// caller correlates (inventory/correlate.h) a snapshot of the accounts
// (AccountsForCorrelation, IdentityMembersOf) with what it read from the
// provider, and writes the result with ReplaceAccounts or UpsertAccounts.
// The write names the snapshot's generation and is refused (kConflict) if
// anything else wrote the inventory since, so two writers (two nodes on one
// database) never interleave a correlation; the caller takes a new snapshot
// and correlates again. The store keeps the search terms: it rewrites those
// of every identity a write touches (inventory/search_terms.h).
//
// Every method is one transaction. Thread-safety: every method may be called
// from any thread concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/identity.h"
#include "inventory/correlate.h"

namespace cordon {

// One provider's sync: running now, or the last one.
struct SyncRun {
  Provider provider = Provider::kActiveDirectory;
  bool running = false;
  TimePoint started_at{};   // epoch: it never ran
  TimePoint finished_at{};  // epoch: running, or it never ran
  int64_t accounts = 0;     // accounts read so far (running) or in the last listing
  std::string error;        // why the last run failed (its previous accounts were kept); empty if it did not
  std::optional<TimePoint> next_at;  // the next scheduled run; none when syncs run on demand only (not stored)
};

// The accounts as correlation needs them, and the inventory's generation
// they were read at.
struct CorrelationSnapshot {
  int64_t generation = 0;
  std::vector<AccountKeys> accounts;  // AccountKeys::identity_id set
};

// An account that is not written but whose identity changed.
struct AccountPlacement {
  Provider provider = Provider::kActiveDirectory;
  std::string account_id;
  std::string identity_id;
};

// What a sync or a refresh writes.
struct InventoryWrite {
  // The generation of the snapshot the correlation was computed on.
  int64_t generation = 0;
  // Accounts as read from their provider, each with its identity id and
  // seen_at (risk_level is ignored: Cordon's risk level is the action
  // center's). At most one per (provider, id).
  std::vector<InventoryAccount> accounts;
  std::vector<AccountPlacement> moved;
  // The header of each identity an account written or moved now belongs to.
  // An identity the write leaves without accounts is removed.
  std::vector<IdentityHeader> identities;
};

struct InventoryWriteResult {
  int64_t added = 0;
  int64_t updated = 0;    // changed, or now in another identity
  int64_t removed = 0;
  int64_t unchanged = 0;  // read again as they were
  int64_t identities = 0;  // identities created, changed or removed
};

struct InventoryCounts {
  int64_t identities = 0;
  int64_t accounts = 0;
};

// Longest cursor ListIdentities hands out.
inline constexpr size_t kMaxIdentityCursorBytes = 512;

class InventoryStore {
 public:
  virtual ~InventoryStore() = default;

  // Identities matching the filter (core/identity.h), by display name
  // ignoring case, then id, with their accounts. kInvalidArgument for a
  // limit outside 1..1000 or a cursor this store did not hand out.
  [[nodiscard]] virtual Result<IdentityPage> ListIdentities(const IdentityFilter& filter) = 0;
  [[nodiscard]] virtual Result<std::optional<Identity>> GetIdentity(std::string_view id) = 0;
  // The identity of the account of `provider` whose id, login or UPN is
  // `account_id_or_login` (ignoring ASCII case).
  [[nodiscard]] virtual Result<std::optional<Identity>> FindIdentityOfAccount(Provider provider,
                                                                              std::string_view account_id_or_login) = 0;

  // Every account, but those of `except`: what a complete listing of that
  // provider is correlated with (none: every account).
  [[nodiscard]] virtual Result<CorrelationSnapshot> AccountsForCorrelation(std::optional<Provider> except) = 0;
  // The accounts of the identity that holds the account (`provider`,
  // `account_id`); none when the inventory does not hold that account.
  [[nodiscard]] virtual Result<CorrelationSnapshot> IdentityMembersOf(Provider provider,
                                                                      std::string_view account_id) = 0;

  // A complete listing of `provider`: its accounts in `write` are added or
  // updated, those it no longer lists are removed, and `run` becomes the
  // provider's last sync, all at once. Accounts written after the listing
  // began (seen_at later than run.started_at: a refresh after an action)
  // are fresher than the listing: they keep what the refresh wrote (only
  // their identity follows the write) and are not removed. kConflict if the
  // inventory changed since write.generation; kInvalidArgument if an
  // account is not `provider`'s or an identity lacks its header.
  [[nodiscard]] virtual Result<InventoryWriteResult> ReplaceAccounts(Provider provider, const InventoryWrite& write,
                                                                     const SyncRun& run) = 0;
  // Adds or updates the accounts of `write`; removes nothing else.
  [[nodiscard]] virtual Result<InventoryWriteResult> UpsertAccounts(const InventoryWrite& write) = 0;

  // Records a sync that failed (its provider's accounts stay as they were).
  [[nodiscard]] virtual Status RecordSyncRun(const SyncRun& run) = 0;
  // Each provider's last sync (never running), by provider.
  [[nodiscard]] virtual Result<std::vector<SyncRun>> ListSyncRuns() = 0;
  [[nodiscard]] virtual Result<InventoryCounts> CountInventory() = 0;
};

}  // namespace cordon
