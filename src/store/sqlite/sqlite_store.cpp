#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <variant>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include "store/sqlite/sqlite_statement.h"

namespace cordon {
namespace {

using sqlite::CheckField;
using sqlite::HexDecode;
using sqlite::HexEncode;
using sqlite::kMaxFieldLen;
using sqlite::kMaxPageLimit;

constexpr int kMaxClaim = 1000;
constexpr int kMaxAttemptsCeiling = 100;
constexpr std::string_view kSystemActor = "cordon";

constexpr int kSchemaVersion = 4;

// Version 1: the first schema. Each later version is a list of statements
// that moves a store from the version before it; a new store runs them all.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS actions (
  id               TEXT PRIMARY KEY,
  type             TEXT NOT NULL,
  provider         TEXT NOT NULL,
  target           TEXT NOT NULL COLLATE NOCASE,
  requested_by     TEXT NOT NULL COLLATE NOCASE,
  reason           TEXT NOT NULL,
  status           TEXT NOT NULL,
  undo_of          TEXT REFERENCES actions(id),
  undone_by        TEXT REFERENCES actions(id),
  bulk_id          TEXT,
  attempt_count    INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  next_attempt_at  INTEGER NOT NULL,
  lease_owner      TEXT NOT NULL DEFAULT '',
  lease_expires_at INTEGER NOT NULL DEFAULT 0,
  claimed_at       INTEGER NOT NULL DEFAULT 0,
  outcome          TEXT NOT NULL DEFAULT '',
  resolved_account TEXT NOT NULL DEFAULT '',
  already_in_state INTEGER NOT NULL DEFAULT 0,
  provider_code    TEXT NOT NULL DEFAULT '',
  provider_detail  TEXT NOT NULL DEFAULT ''
);
-- ClaimDue: due pending work of one provider, oldest first.
CREATE INDEX IF NOT EXISTS actions_due ON actions(provider, next_attempt_at, created_at, id) WHERE status = 'pending';
-- RecoverExpiredLeases.
CREATE INDEX IF NOT EXISTS actions_leases ON actions(lease_expires_at) WHERE status = 'in_progress';
-- The action center: newest first, and the filters it offers.
CREATE INDEX IF NOT EXISTS actions_created ON actions(created_at, id);
CREATE INDEX IF NOT EXISTS actions_status ON actions(status, created_at, id);
CREATE INDEX IF NOT EXISTS actions_target ON actions(target, created_at, id);
CREATE INDEX IF NOT EXISTS actions_requested_by ON actions(requested_by, created_at, id);
CREATE INDEX IF NOT EXISTS actions_bulk ON actions(bulk_id, created_at, id) WHERE bulk_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS attempts (
  action_id       TEXT NOT NULL REFERENCES actions(id),
  number          INTEGER NOT NULL,
  worker          TEXT NOT NULL,
  started_at      INTEGER NOT NULL,
  finished_at     INTEGER NOT NULL,
  result          TEXT NOT NULL,
  message         TEXT NOT NULL,
  provider_code   TEXT NOT NULL DEFAULT '',
  provider_detail TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (action_id, number)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS audit (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  action_id   TEXT REFERENCES actions(id),
  at          INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  event       TEXT NOT NULL,
  from_status TEXT NOT NULL DEFAULT '',
  to_status   TEXT NOT NULL DEFAULT '',
  reason      TEXT NOT NULL DEFAULT '',
  detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_action ON audit(action_id, seq);
CREATE INDEX IF NOT EXISTS audit_event ON audit(event, seq);

CREATE TABLE IF NOT EXISTS tokens (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  role       TEXT NOT NULL,
  sha256_hex TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked    INTEGER NOT NULL DEFAULT 0
);

-- Nothing is ever deleted, and the trail cannot be rewritten.
CREATE TRIGGER IF NOT EXISTS audit_append_only_u BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only_d BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS attempts_append_only_u BEFORE UPDATE ON attempts
  BEGIN SELECT RAISE(ABORT, 'attempts are append-only'); END;
CREATE TRIGGER IF NOT EXISTS attempts_append_only_d BEFORE DELETE ON attempts
  BEGIN SELECT RAISE(ABORT, 'attempts are append-only'); END;
CREATE TRIGGER IF NOT EXISTS actions_never_deleted BEFORE DELETE ON actions
  BEGIN SELECT RAISE(ABORT, 'actions are never deleted'); END;
)sql";

// Version 2: what an action saw before its change and the immutable id it
// resolved to (undo), its time budget, the token behind every actor, refused
// calls audited in aggregate, and the token life cycle.
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE actions ADD COLUMN requested_by_token TEXT NOT NULL DEFAULT '';
ALTER TABLE actions ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
ALTER TABLE actions ADD COLUMN prior_in_target INTEGER;
ALTER TABLE actions ADD COLUMN prior_state TEXT NOT NULL DEFAULT '';
ALTER TABLE actions ADD COLUMN deadline_at INTEGER NOT NULL DEFAULT 0;
-- Live undos of an action (CreateUndo refuses a second one while one runs).
CREATE INDEX IF NOT EXISTS actions_undo_of ON actions(undo_of) WHERE undo_of IS NOT NULL;
-- FailOverdue: pending work of a provider by time budget.
CREATE INDEX IF NOT EXISTS actions_deadline ON actions(provider, deadline_at) WHERE status = 'pending' AND deadline_at > 0;
ALTER TABLE audit ADD COLUMN actor_token TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN client_address TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tokens ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 3: Cordon's own risk level per account (one row per marked
// account; cleared by deleting it, the audit trail keeps the history), and
// the links between actions taken together on one person (an Entra suspend
// and the AD disable of its on-premises account, or their undos).
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE IF NOT EXISTS risk_levels (
  provider         TEXT NOT NULL,
  account_key      TEXT NOT NULL COLLATE NOCASE,
  account          TEXT NOT NULL COLLATE NOCASE,
  resolved_account TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  account_id       TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  level            TEXT NOT NULL,
  since            INTEGER NOT NULL,
  action_id        TEXT NOT NULL REFERENCES actions(id),
  PRIMARY KEY (provider, account_key)
);
CREATE INDEX IF NOT EXISTS risk_levels_action ON risk_levels(action_id);
CREATE INDEX IF NOT EXISTS risk_levels_since ON risk_levels(since);

CREATE TABLE IF NOT EXISTS action_links (
  action_id TEXT NOT NULL REFERENCES actions(id),
  linked_id TEXT NOT NULL REFERENCES actions(id),
  PRIMARY KEY (action_id, linked_id)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS action_links_never_deleted BEFORE DELETE ON action_links
  BEGIN SELECT RAISE(ABORT, 'links between actions are never deleted'); END;
)sql";

// Version 4: the identity inventory (inventory/inventory_store.h): every
// provider's accounts, the identities they are correlated into, the terms
// identities are found by, each provider's last sync, and the generation
// that fences a correlation against a concurrent writer. Also an index for
// the actions on one account by its immutable id (the user page's recent
// actions).
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE IF NOT EXISTS inventory_accounts (
  provider             TEXT NOT NULL,
  account_id           TEXT NOT NULL COLLATE NOCASE,
  identity_id          TEXT NOT NULL,
  login                TEXT NOT NULL COLLATE NOCASE,
  display_name         TEXT NOT NULL,
  status               TEXT NOT NULL,
  must_change_password INTEGER NOT NULL,
  upn                  TEXT NOT NULL COLLATE NOCASE,
  sid                  TEXT NOT NULL COLLATE NOCASE,
  mail                 TEXT NOT NULL COLLATE NOCASE,
  dn                   TEXT NOT NULL,
  provider_risk        TEXT NOT NULL,
  admin_protected      INTEGER NOT NULL,
  synced_from_ad       INTEGER NOT NULL,
  guest                INTEGER NOT NULL,
  identifiers          TEXT NOT NULL,
  seen_at              INTEGER NOT NULL,
  digest               TEXT NOT NULL,
  PRIMARY KEY (provider, account_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS inventory_accounts_identity ON inventory_accounts(identity_id);
CREATE INDEX IF NOT EXISTS inventory_accounts_login ON inventory_accounts(provider, login);
CREATE INDEX IF NOT EXISTS inventory_accounts_upn ON inventory_accounts(provider, upn);

-- display_key: the display name in lower case, cut at 200 bytes: the order of
-- every listing, and what a cursor names. terms: the identity's search terms,
-- each after a newline and the last followed by one (no term holds one): what
-- its rows in identity_terms are, and what a walk in display order matches.
CREATE TABLE IF NOT EXISTS identities (
  id           TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  display_key  TEXT NOT NULL,
  domain       TEXT NOT NULL,
  terms        TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS identities_display ON identities(display_key, id);
CREATE INDEX IF NOT EXISTS identities_domain ON identities(domain, display_key, id);

-- A prefix is a range of the primary key; the rows carry the display key so
-- a short result is ordered without reading the identities.
CREATE TABLE IF NOT EXISTS identity_terms (
  term        TEXT NOT NULL,
  identity_id TEXT NOT NULL,
  display_key TEXT NOT NULL,
  PRIMARY KEY (term, identity_id)
) WITHOUT ROWID;

-- Each provider's last sync; listed_at: when its last complete listing began.
CREATE TABLE IF NOT EXISTS inventory_syncs (
  provider    TEXT PRIMARY KEY,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  accounts    INTEGER NOT NULL,
  error       TEXT NOT NULL DEFAULT '',
  listed_at   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS inventory_generation (
  one        INTEGER PRIMARY KEY CHECK (one = 1),
  generation INTEGER NOT NULL
);
INSERT OR IGNORE INTO inventory_generation (one, generation) VALUES (1, 0);

CREATE INDEX IF NOT EXISTS actions_account_id ON actions(account_id, created_at, id);
)sql";

constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4};
static_assert(std::size(kMigrations) == kSchemaVersion);

constexpr const char* kActionColumns =
    "id, type, provider, target, requested_by, reason, status, undo_of, undone_by, bulk_id, attempt_count, "
    "max_attempts, created_at, updated_at, next_attempt_at, lease_owner, lease_expires_at, outcome, "
    "resolved_account, already_in_state, provider_code, provider_detail, requested_by_token, account_id, "
    "prior_in_target, prior_state, deadline_at";
// kActionColumns and what is kept beside the row: its links and the risk level it set.
constexpr const char* kActionColumnsWithLinks =
    "id, type, provider, target, requested_by, reason, status, undo_of, undone_by, bulk_id, attempt_count, "
    "max_attempts, created_at, updated_at, next_attempt_at, lease_owner, lease_expires_at, outcome, "
    "resolved_account, already_in_state, provider_code, provider_detail, requested_by_token, account_id, "
    "prior_in_target, prior_state, deadline_at, "
    "(SELECT group_concat(linked_id, ',') FROM action_links WHERE action_links.action_id = actions.id), "
    "(SELECT level FROM risk_levels WHERE risk_levels.action_id = actions.id)";

// Crockford's base32, lower case: no i, l, o, u, so ids read back unambiguously.
constexpr std::string_view kBase32 = "0123456789abcdefghjkmnpqrstvwxyz";

// An id is 26 characters of Crockford base32 over 128 bits: a 48-bit
// millisecond timestamp, then 80 bits from OpenSSL's CSPRNG (the ULID layout).
// The time prefix keeps inserts at the right edge of the primary-key index,
// which is what keeps a 1,000-action bulk insert fast as the table grows;
// 80 random bits keep ids unguessable and collision-free.
std::string NewActionId(TimePoint now) {
  std::array<unsigned char, 16> bytes{};
  uint64_t ms = static_cast<uint64_t>(std::max<int64_t>(ToUnixMillis(now), 0));
  for (int i = 0; i < 6; ++i) bytes[static_cast<size_t>(i)] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  if (RAND_bytes(bytes.data() + 6, 10) != 1) {
    // OpenSSL's CSPRNG failing means the process cannot be trusted with
    // anything random; an id collision would silently merge two actions.
    std::abort();
  }
  std::string out = "act_";
  // 128 bits as 26 base32 digits, most significant first (2 leading zero bits).
  uint32_t buffer = 0;
  int bits = 2;
  for (unsigned char b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  return out;  // "act_" + 26 characters
}

// The cursor names the last row of a page by (created_at, id), the order of
// the listing, so a page boundary stays put however many rows arrive later.
std::string EncodeCursor(const Action& last) {
  return HexEncode(std::to_string(ToUnixMillis(last.created_at)) + ":" + last.id);
}

struct CursorPosition {
  int64_t created_at = 0;
  std::string id;
};

std::optional<CursorPosition> DecodeCursor(std::string_view cursor) {
  if (cursor.size() > 256) return std::nullopt;
  auto raw = HexDecode(cursor);
  if (!raw) return std::nullopt;
  size_t colon = raw->find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= raw->size()) return std::nullopt;
  CursorPosition pos;
  auto [ptr, ec] = std::from_chars(raw->data(), raw->data() + colon, pos.created_at);
  if (ec != std::errc() || ptr != raw->data() + colon) return std::nullopt;
  pos.id = raw->substr(colon + 1);
  return pos;
}

std::string_view AttemptResultName(AttemptOutcome o) {
  switch (o) {
    case AttemptOutcome::kSucceeded: return "succeeded";
    case AttemptOutcome::kPermanentError: return "permanent_error";
    case AttemptOutcome::kTransientError: return "transient_error";
    case AttemptOutcome::kProviderError: return "provider_error";
  }
  return "permanent_error";
}

}  // namespace


namespace {

Result<Action> RowToAction(const auto& row) {
  Action a;
  a.id = row.Text(0);
  auto type = ParseActionType(row.Text(1));
  auto provider = ParseProvider(row.Text(2));
  auto status = ParseActionStatus(row.Text(6));
  if (!type || !provider || !status)
    return Fail(Error::Internal("action " + a.id + " has an unknown type, provider or status"));
  a.type = *type;
  a.provider = *provider;
  a.target = row.Text(3);
  a.requested_by = row.Text(4);
  a.reason = row.Text(5);
  a.status = *status;
  a.undo_of = row.Text(7);
  a.undone_by = row.Text(8);
  a.bulk_id = row.Text(9);
  a.attempt_count = static_cast<int>(row.Int(10));
  a.max_attempts = static_cast<int>(row.Int(11));
  a.created_at = FromUnixMillis(row.Int(12));
  a.updated_at = FromUnixMillis(row.Int(13));
  a.next_attempt_at = FromUnixMillis(row.Int(14));
  a.lease_owner = row.Text(15);
  a.lease_expires_at = FromUnixMillis(row.Int(16));
  a.outcome = row.Text(17);
  a.resolved_account = row.Text(18);
  a.already_in_state = row.Int(19) != 0;
  a.provider_answer.code = row.Text(20);
  a.provider_answer.detail = row.Text(21);
  a.requested_by_token = row.Text(22);
  a.account_id = row.Text(23);
  if (!row.IsNull(24)) a.prior_in_target = row.Int(24) != 0;
  a.prior_state = row.Text(25);
  a.deadline = FromUnixMillis(row.Int(26));
  if (row.Columns() > 28) {
    const std::string links = row.Text(27);
    for (size_t start = 0; start < links.size();) {
      size_t comma = links.find(',', start);
      if (comma == std::string::npos) comma = links.size();
      if (comma > start) a.linked_actions.push_back(links.substr(start, comma - start));
      start = comma + 1;
    }
    std::sort(a.linked_actions.begin(), a.linked_actions.end());
    if (!row.IsNull(28)) a.risk_level = ParseRiskLevel(row.Text(28));
  }
  return a;
}

}  // namespace

namespace {

Result<sqlite3*> OpenConnection(const std::string& path, int flags, SqliteStoreOptions options) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Fail(Error::Unavailable("cannot open the SQLite store at " + path + ": " + msg));
  }
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
  sqlite3_extended_result_codes(db, 1);
  return db;
}

}  // namespace

// The action center holds who did what to whom: owner-only from its first
// byte. SQLite gives its -wal and -shm files the database file's mode, so
// creating the file 0600 before SQLite opens it covers all three.
Status CreatePrivately(const std::string& path) {
  if (path == ":memory:" || path.empty()) return {};
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return Fail(Error::Unavailable("cannot open the SQLite store at " + path + ": " + std::strerror(errno)));
  struct stat st {};
  const bool loose = ::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0;
  ::close(fd);
  if (loose)
    spdlog::warn("store {}: readable by others (mode {:o}); `chmod 600` it and its -wal and -shm files", path,
                 st.st_mode & 0777);
  return {};
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, SqliteStoreOptions options) {
  if (auto s = CreatePrivately(path); !s) return Fail(s.error());
  auto writer = OpenConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options);
  if (!writer) return Fail(writer.error());
  std::unique_ptr<SqliteStore> store(new SqliteStore());
  store->writer_.db = *writer;
  store->search_scan_rows_ = std::max(options.search_scan_rows, 1);

  {
    std::lock_guard lock(store->writer_.mu);
    // journal_mode answers with the mode it ended up in; a file system without
    // shared memory support silently stays in "delete" mode, which we refuse.
    {
      auto stmt = store->Prepare(store->writer_, "PRAGMA journal_mode=WAL");
      if (!stmt) return Fail(stmt.error());
      if (stmt->Step() != SQLITE_ROW || stmt->Text(0) != "wal")
        return Fail(Error::Unavailable("the SQLite store at " + path + " cannot use WAL mode"));
    }
    const char* sync = options.sync == SqliteSync::kFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
    if (auto s = store->Exec(sync); !s) return Fail(s.error());
    // Read back what SQLite applied: 2 is FULL, 1 NORMAL.
    {
      auto stmt = store->Prepare(store->writer_, "PRAGMA synchronous");
      if (!stmt) return Fail(stmt.error());
      const int64_t level = stmt->Step() == SQLITE_ROW ? stmt->Int(0) : -1;
      if (level != (options.sync == SqliteSync::kFull ? 2 : 1))
        return Fail(Error::Unavailable("the SQLite store at " + path + " did not accept its synchronous setting"));
      store->sync_ = options.sync;
    }
    if (auto s = store->Exec("PRAGMA foreign_keys=ON"); !s) return Fail(s.error());
    // More page cache for the writer than SQLite's default 2 MiB (sqlite_statement.h).
    if (auto s = store->Exec(sqlite::kWriterCache); !s) return Fail(s.error());
  }

  // In WAL mode readers never wait for the writer: the action center and
  // token checks stay fast while a bulk request is being written.
  auto reader = OpenConnection(path, SQLITE_OPEN_READONLY, options);
  if (!reader) return Fail(reader.error());
  store->reader_.db = *reader;
  return store;
}

SqliteStore::SqliteStore() = default;

SqliteStore::~SqliteStore() {
  for (Connection* c : {&writer_, &reader_}) {
    for (auto& [sql, stmt] : c->statements) sqlite3_finalize(stmt);
    sqlite3_close(c->db);
  }
}

Error SqliteStore::SqlError(const Connection& c, std::string_view what) {
  int code = sqlite3_extended_errcode(c.db);
  std::string msg = "store: " + std::string(what) + ": " + sqlite3_errmsg(c.db);
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Error::Unavailable(std::move(msg));
    case SQLITE_CONSTRAINT:
      if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY)
        return Error::AlreadyExists(std::move(msg));
      return Error::FailedPrecondition(std::move(msg));
    default: return Error::Internal(std::move(msg));
  }
}

Status SqliteStore::Exec(const char* sql) {
  if (sqlite3_exec(writer_.db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Fail(SqlError(writer_, sql));
  return {};
}

Result<SqliteStore::Stmt> SqliteStore::Prepare(Connection& c, const std::string& sql) {
  auto it = c.statements.find(sql);
  if (it != c.statements.end()) return Stmt(it->second);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(c.db, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
      SQLITE_OK)
    return Fail(SqlError(c, "prepare"));
  c.statements.emplace(sql, stmt);
  return Stmt(stmt);
}

Status SqliteStore::Migrate() {
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return s;
  int64_t version = 0;
  {
    auto stmt = Prepare(writer_, "PRAGMA user_version");
    if (!stmt) return Fail(stmt.error());
    if (stmt->Step() == SQLITE_ROW) version = stmt->Int(0);
  }
  if (version > kSchemaVersion)
    return Fail(
        Error::FailedPrecondition("the store was written by a newer Cordon (schema " + std::to_string(version) + ")"));
  for (int64_t v = version; v < kSchemaVersion; ++v) {
    if (sqlite3_exec(writer_.db, kMigrations[v], nullptr, nullptr, nullptr) != SQLITE_OK)
      return Fail(SqlError(writer_, "migrate the schema to version " + std::to_string(v + 1)));
  }
  if (version != kSchemaVersion) {
    const std::string set_version = "PRAGMA user_version=" + std::to_string(kSchemaVersion);
    if (auto s = Exec(set_version.c_str()); !s) return s;
  }
  return tx.Commit();
}

Status SqliteStore::InsertAudit(const AuditEvent& e) {
  auto stmt = Prepare(writer_,
                      "INSERT INTO audit (action_id, at, actor, event, from_status, to_status, reason, detail, "
                      "actor_token, client_address, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  if (!stmt) return Fail(stmt.error());
  stmt->BindOrNull(1, e.action_id)
      .Bind(2, ToUnixMillis(e.at))
      .Bind(3, e.actor)
      .Bind(4, e.event)
      .Bind(5, e.from_status)
      .Bind(6, e.to_status)
      .Bind(7, e.reason)
      .Bind(8, e.detail)
      .Bind(9, e.actor_token)
      .Bind(10, e.client_address)
      .Bind(11, std::max<int64_t>(e.count, 1));
  if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "append audit"));
  return {};
}

Status SqliteStore::InsertAttempt(const Attempt& a) {
  // Numbered in the order attempts happened, counted or not (Action::attempt_count
  // counts only those the action paid for).
  auto stmt = Prepare(
      writer_,
      "INSERT INTO attempts (action_id, number, worker, started_at, finished_at, result, message, provider_code, "
      "provider_detail) VALUES (?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM attempts WHERE action_id = ?1), "
      "?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(1, a.action_id)
      .Bind(2, a.worker)
      .Bind(3, ToUnixMillis(a.started_at))
      .Bind(4, ToUnixMillis(a.finished_at))
      .Bind(5, a.result)
      .Bind(6, a.message)
      .Bind(7, a.provider_answer.code)
      .Bind(8, a.provider_answer.detail);
  if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "record attempt"));
  return {};
}

Result<Action> SqliteStore::LoadAction(Connection& c, std::string_view id) {
  auto stmt = Prepare(c, std::string("SELECT ") + kActionColumnsWithLinks + " FROM actions WHERE id = ?1");
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(1, id);
  int rc = stmt->Step();
  if (rc == SQLITE_DONE) return Fail(Error::NotFound("no action " + std::string(id)));
  if (rc != SQLITE_ROW) return Fail(SqlError(c, "read action"));
  return RowToAction(*stmt);
}

Result<Action> SqliteStore::InsertAction(const NewAction& n, TimePoint now) {
  if (n.initial_status != ActionStatus::kPending && n.initial_status != ActionStatus::kAwaitingApproval)
    return Fail(Error::InvalidArgument("a new action starts pending or awaiting approval"));
  if (n.max_attempts < 1 || n.max_attempts > kMaxAttemptsCeiling)
    return Fail(Error::InvalidArgument("max_attempts must be between 1 and " + std::to_string(kMaxAttemptsCeiling)));
  if (n.target.empty()) return Fail(Error::InvalidArgument("target is required"));
  for (auto [name, value] : {std::pair<std::string_view, std::string_view>{"target", n.target},
                             {"requested_by", n.requested_by},
                             {"requested_by_token", n.requested_by_token},
                             {"account_id", n.account_id},
                             {"reason", n.reason},
                             {"undo_of", n.undo_of},
                             {"bulk_id", n.bulk_id}}) {
    if (auto s = CheckField(name, value); !s) return Fail(s.error());
  }

  Action a;
  a.id = NewActionId(now);
  a.type = n.type;
  a.provider = n.provider;
  a.target = n.target;
  a.account_id = n.account_id;
  a.requested_by = n.requested_by;
  a.requested_by_token = n.requested_by_token;
  a.reason = n.reason;
  a.status = n.initial_status;
  a.undo_of = n.undo_of;
  a.bulk_id = n.bulk_id;
  a.max_attempts = n.max_attempts;
  a.created_at = now;
  a.updated_at = now;
  a.next_attempt_at = now;
  a.deadline = n.deadline;

  auto stmt =
      Prepare(writer_,
              "INSERT INTO actions (id, type, provider, target, requested_by, reason, status, undo_of, bulk_id, "
              "max_attempts, created_at, updated_at, next_attempt_at, requested_by_token, account_id, deadline_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?11, ?12, ?13, ?14)");
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(1, a.id)
      .Bind(2, ToString(a.type))
      .Bind(3, ToString(a.provider))
      .Bind(4, a.target)
      .Bind(5, a.requested_by)
      .Bind(6, a.reason)
      .Bind(7, ToString(a.status))
      .BindOrNull(8, a.undo_of)
      .BindOrNull(9, a.bulk_id)
      .Bind(10, int64_t{a.max_attempts})
      .Bind(11, ToUnixMillis(now))
      .Bind(12, a.requested_by_token)
      .Bind(13, a.account_id)
      .Bind(14, ToUnixMillis(a.deadline));
  if (stmt->Step() != SQLITE_DONE) {
    if ((sqlite3_extended_errcode(writer_.db)) == SQLITE_CONSTRAINT_FOREIGNKEY)
      return Fail(Error::NotFound("no action " + a.undo_of + " to undo"));
    return Fail(SqlError(writer_, "create action"));
  }

  AuditEvent e;
  e.action_id = a.id;
  e.at = now;
  e.actor = a.requested_by;
  e.actor_token = a.requested_by_token;
  e.event = "created";
  e.to_status = ToString(a.status);
  e.reason = a.reason;
  e.detail = std::string(ToString(a.provider)) + " " + std::string(ToString(a.type)) + " " + a.target;
  if (!a.undo_of.empty()) e.detail += " (undo of " + a.undo_of + ")";
  if (auto s = InsertAudit(e); !s) return Fail(s.error());
  return a;
}

Result<std::vector<Action>> SqliteStore::CreateActions(std::span<const NewAction> actions, TimePoint now) {
  std::vector<Action> out;
  if (actions.empty()) return out;
  out.reserve(actions.size());
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return Fail(s.error());
  for (const NewAction& n : actions) {
    if (auto s = CheckField("link group", n.link_group); !s) return Fail(s.error());
    auto a = InsertAction(n, now);
    if (!a) return Fail(a.error());
    out.push_back(std::move(*a));
  }
  std::map<std::string, std::vector<Action*>> groups;
  for (size_t i = 0; i < actions.size(); ++i)
    if (!actions[i].link_group.empty()) groups[actions[i].link_group].push_back(&out[i]);
  for (auto& [group, members] : groups)
    if (auto s = LinkActions(members, members.front()->requested_by, now); !s) return Fail(s.error());
  if (auto s = tx.Commit(); !s) return Fail(s.error());
  return out;
}

Status SqliteStore::LinkActions(std::span<Action*> group, std::string_view actor, TimePoint now) {
  if (group.size() < 2) return {};
  auto stmt = Prepare(writer_, "INSERT OR IGNORE INTO action_links (action_id, linked_id) VALUES (?1, ?2)");
  if (!stmt) return Fail(stmt.error());
  for (Action* a : group) {
    for (const Action* b : group) {
      if (a == b) continue;
      stmt->Bind(1, a->id).Bind(2, b->id);
      if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "link actions"));
      stmt->Reset();
      a->linked_actions.push_back(b->id);
    }
    std::sort(a->linked_actions.begin(), a->linked_actions.end());
  }
  for (const Action* a : group) {
    AuditEvent e;
    e.action_id = a->id;
    e.at = now;
    e.actor = std::string(actor);
    e.actor_token = a->requested_by_token;
    e.event = "linked";
    e.detail = "linked with";
    for (const std::string& other : a->linked_actions) e.detail += " " + other;
    if (auto s = InsertAudit(e); !s) return s;
  }
  return {};
}

namespace {

// The account a risk level belongs to: the provider's immutable id when it
// gave one, else what the action resolved to, else the name as typed.
std::string RiskKey(const Action& a) {
  if (!a.account_id.empty()) return a.account_id;
  if (!a.resolved_account.empty()) return a.resolved_account;
  return a.target;
}

}  // namespace

Status SqliteStore::ApplyRisk(const Action& done, TimePoint now, std::string_view actor) {
  AuditEvent e;
  e.action_id = done.id;
  e.at = now;
  e.actor = std::string(actor);
  if (done.type == ActionType::kMarkCompromised) {
    auto stmt = Prepare(writer_,
                        "INSERT INTO risk_levels (provider, account_key, account, resolved_account, account_id, level, "
                        "since, action_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                        "ON CONFLICT (provider, account_key) DO NOTHING");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, ToString(done.provider))
        .Bind(2, RiskKey(done))
        .Bind(3, done.target)
        .Bind(4, done.resolved_account)
        .Bind(5, done.account_id)
        .Bind(6, ToString(RiskLevel::kHigh))
        .Bind(7, ToUnixMillis(now))
        .Bind(8, done.id);
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "set the risk level"));
    if (sqlite3_changes(writer_.db) == 0) return {};  // the first mark stands
    e.event = "risk.set";
    e.to_status = ToString(RiskLevel::kHigh);
    e.detail = "Cordon's risk level of " + std::string(ToString(done.provider)) + " account " + RiskKey(done) +
               " set to high";
    return InsertAudit(e);
  }
  if (done.type == ActionType::kDismissRisk) {
    auto stmt = Prepare(writer_, "DELETE FROM risk_levels WHERE provider = ?1 AND account_key = ?2 RETURNING action_id");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, ToString(done.provider)).Bind(2, RiskKey(done));
    std::string cleared;
    int rc;
    while ((rc = stmt->Step()) == SQLITE_ROW) cleared = stmt->Text(0);
    if (rc != SQLITE_DONE) return Fail(SqlError(writer_, "clear the risk level"));
    if (cleared.empty()) return {};
    e.event = "risk.cleared";
    e.from_status = ToString(RiskLevel::kHigh);
    e.detail = "Cordon's risk level of " + std::string(ToString(done.provider)) + " account " + RiskKey(done) +
               " cleared (set by " + cleared + ")";
    return InsertAudit(e);
  }
  return {};
}

Result<std::vector<RiskMark>> SqliteStore::ListRisks(const RiskFilter& f) {
  if (f.limit < 1 || f.limit > kMaxPageLimit)
    return Fail(Error::InvalidArgument("limit must be between 1 and " + std::to_string(kMaxPageLimit)));
  if (f.account) {
    if (auto s = CheckField("account", *f.account); !s) return Fail(s.error());
  }
  std::lock_guard lock(reader_.mu);
  auto stmt = Prepare(reader_,
                      "SELECT provider, account, resolved_account, account_id, level, since, action_id FROM risk_levels "
                      "WHERE (?1 IS NULL OR provider = ?1) "
                      "AND (?2 IS NULL OR account = ?2 OR resolved_account = ?2 OR account_id = ?2) "
                      "ORDER BY since DESC, action_id DESC LIMIT ?3");
  if (!stmt) return Fail(stmt.error());
  if (f.provider) stmt->Bind(1, ToString(*f.provider));
  if (f.account) stmt->Bind(2, *f.account);
  stmt->Bind(3, int64_t{f.limit});
  std::vector<RiskMark> out;
  int rc;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
    RiskMark m;
    auto provider = ParseProvider(stmt->Text(0));
    auto level = ParseRiskLevel(stmt->Text(4));
    if (!provider || !level) return Fail(Error::Internal("a risk level has an unknown provider or level"));
    m.provider = *provider;
    m.account = stmt->Text(1);
    m.resolved_account = stmt->Text(2);
    m.account_id = stmt->Text(3);
    m.level = *level;
    m.since = FromUnixMillis(stmt->Int(5));
    m.action_id = stmt->Text(6);
    out.push_back(std::move(m));
  }
  if (rc != SQLITE_DONE) return Fail(SqlError(reader_, "list risk levels"));
  return out;
}

Result<Action> SqliteStore::GetAction(std::string_view id) {
  std::lock_guard lock(reader_.mu);
  return LoadAction(reader_, id);
}

Result<std::vector<Attempt>> SqliteStore::GetAttempts(std::string_view action_id) {
  std::lock_guard lock(reader_.mu);
  auto stmt = Prepare(
      reader_,
      "SELECT action_id, number, worker, started_at, finished_at, result, message, provider_code, provider_detail "
      "FROM attempts WHERE action_id = ?1 ORDER BY number");
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(1, action_id);
  std::vector<Attempt> out;
  int rc;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
    Attempt a;
    a.action_id = stmt->Text(0);
    a.number = static_cast<int>(stmt->Int(1));
    a.worker = stmt->Text(2);
    a.started_at = FromUnixMillis(stmt->Int(3));
    a.finished_at = FromUnixMillis(stmt->Int(4));
    a.result = stmt->Text(5);
    a.message = stmt->Text(6);
    a.provider_answer.code = stmt->Text(7);
    a.provider_answer.detail = stmt->Text(8);
    out.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) return Fail(SqlError(reader_, "read attempts"));
  return out;
}

namespace {

template <typename StmtT>
Result<std::vector<AuditEvent>> ReadAudit(StmtT& stmt, auto&& sql_error) {
  std::vector<AuditEvent> out;
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) {
    AuditEvent e;
    e.seq = stmt.Int(0);
    e.action_id = stmt.Text(1);
    e.at = FromUnixMillis(stmt.Int(2));
    e.actor = stmt.Text(3);
    e.event = stmt.Text(4);
    e.from_status = stmt.Text(5);
    e.to_status = stmt.Text(6);
    e.reason = stmt.Text(7);
    e.detail = stmt.Text(8);
    e.actor_token = stmt.Text(9);
    e.client_address = stmt.Text(10);
    e.count = stmt.Int(11);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return Fail(sql_error());
  return out;
}

constexpr const char* kAuditColumns =
    "seq, action_id, at, actor, event, from_status, to_status, reason, detail, actor_token, client_address, count";

}  // namespace

Result<std::vector<AuditEvent>> SqliteStore::GetAudit(std::string_view action_id) {
  std::lock_guard lock(reader_.mu);
  auto stmt =
      Prepare(reader_, std::string("SELECT ") + kAuditColumns + " FROM audit WHERE action_id = ?1 ORDER BY seq");
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(1, action_id);
  return ReadAudit(*stmt, [this] { return SqlError(reader_, "read audit"); });
}

Result<ActionPage> SqliteStore::ListActions(const ActionFilter& f) {
  if (f.limit < 1 || f.limit > kMaxPageLimit)
    return Fail(Error::InvalidArgument("limit must be between 1 and " + std::to_string(kMaxPageLimit)));
  std::optional<CursorPosition> after;
  if (!f.cursor.empty()) {
    after = DecodeCursor(f.cursor);
    if (!after) return Fail(Error::InvalidArgument("the cursor is not one this server handed out"));
  }

  using Arg = std::variant<int64_t, std::string>;
  std::vector<Arg> args;
  std::string sql = std::string("SELECT ") + kActionColumnsWithLinks + " FROM actions WHERE 1=1";
  auto add = [&](const char* clause, Arg value) {
    args.push_back(std::move(value));
    sql += " AND ";
    sql += clause;
    sql += " ?" + std::to_string(args.size());
  };
  if (f.status) add("status =", std::string(ToString(*f.status)));
  if (f.type) add("type =", std::string(ToString(*f.type)));
  if (f.provider) add("provider =", std::string(ToString(*f.provider)));
  if (f.target) add("target =", *f.target);
  if (f.requested_by) add("requested_by =", *f.requested_by);
  if (f.bulk_id) add("bulk_id =", *f.bulk_id);
  if (f.created_after) add("created_at >=", ToUnixMillis(*f.created_after));
  if (f.created_before) add("created_at <", ToUnixMillis(*f.created_before));
  if (!f.accounts.empty()) {
    if (f.accounts.size() > kMaxFilterAccounts)
      return Fail(Error::InvalidArgument("at most " + std::to_string(kMaxFilterAccounts) + " accounts at a time"));
    // One disjunct per indexed column, so each is a search of its own index
    // (account_id, or target) and SQLite unites them.
    auto arg = [&](Arg value) {
      args.push_back(std::move(value));
      return "?" + std::to_string(args.size());
    };
    std::string any;
    for (const ActionAccount& account : f.accounts) {
      if (account.names.size() > kMaxFilterAccountNames)
        return Fail(Error::InvalidArgument("at most " + std::to_string(kMaxFilterAccountNames) +
                                           " names per account"));
      const std::string provider(ToString(account.provider));
      if (!account.account_id.empty()) {
        if (auto s = CheckField("account id", account.account_id); !s) return Fail(s.error());
        if (!any.empty()) any += " OR ";
        const std::string id = arg(account.account_id);
        any += "(account_id = " + id + " AND provider = " + arg(provider) + ")";
      }
      std::string names;
      for (const std::string& name : account.names) {
        if (name.empty()) continue;
        if (auto s = CheckField("account name", name); !s) return Fail(s.error());
        names += (names.empty() ? "" : ", ") + arg(name);
      }
      if (names.empty()) continue;
      if (!any.empty()) any += " OR ";
      any += "(target IN (" + names + ") AND provider = " + arg(provider) + ")";
    }
    // Accounts without an id or a name are on no action.
    sql += any.empty() ? " AND 0" : " AND (" + any + ")";
  }
  if (after) {
    args.emplace_back(after->created_at);
    args.emplace_back(after->id);
    sql += " AND (created_at, id) < (?" + std::to_string(args.size() - 1) + ", ?" + std::to_string(args.size()) + ")";
  }
  args.emplace_back(int64_t{f.limit + 1});
  sql += " ORDER BY created_at DESC, id DESC LIMIT ?" + std::to_string(args.size());

  std::lock_guard lock(reader_.mu);
  auto stmt = Prepare(reader_, sql);
  if (!stmt) return Fail(stmt.error());
  for (size_t i = 0; i < args.size(); ++i) {
    int index = static_cast<int>(i + 1);
    std::visit([&](const auto& v) { stmt->Bind(index, v); }, args[i]);
  }
  ActionPage page;
  int rc;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
    auto a = RowToAction(*stmt);
    if (!a) return Fail(a.error());
    page.actions.push_back(std::move(*a));
  }
  if (rc != SQLITE_DONE) return Fail(SqlError(reader_, "list actions"));
  if (page.actions.size() > static_cast<size_t>(f.limit)) {
    page.actions.pop_back();
    page.next_cursor = EncodeCursor(page.actions.back());
  }
  return page;
}

Result<std::vector<Action>> SqliteStore::ClaimDue(Provider provider, std::string_view worker, int max, TimePoint now,
                                                  Millis lease) {
  if (max < 1 || max > kMaxClaim)
    return Fail(Error::InvalidArgument("a claim takes between 1 and " + std::to_string(kMaxClaim) + " actions"));
  if (worker.empty() || lease.count() <= 0) return Fail(Error::InvalidArgument("a claim needs a worker and a lease"));
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return Fail(s.error());
  std::vector<Action> claimed;
  {
    auto stmt = Prepare(
        writer_, std::string("UPDATE actions SET status = 'in_progress', lease_owner = ?1, lease_expires_at = ?2, "
                             "claimed_at = ?3, updated_at = ?3, attempt_count = attempt_count + 1 "
                             "WHERE id IN (SELECT id FROM actions WHERE status = 'pending' AND provider = ?4 "
                             "AND next_attempt_at <= ?3 AND (deadline_at = 0 OR deadline_at > ?3) "
                             "ORDER BY next_attempt_at, created_at, id LIMIT ?5) "
                             "RETURNING ") +
                     kActionColumns);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, worker)
        .Bind(2, ToUnixMillis(now + lease))
        .Bind(3, ToUnixMillis(now))
        .Bind(4, ToString(provider))
        .Bind(5, int64_t{max});
    int rc;
    while ((rc = stmt->Step()) == SQLITE_ROW) {
      auto a = RowToAction(*stmt);
      if (!a) return Fail(a.error());
      claimed.push_back(std::move(*a));
    }
    if (rc != SQLITE_DONE) return Fail(SqlError(writer_, "claim actions"));
  }
  // RETURNING gives no order guarantee.
  std::sort(claimed.begin(), claimed.end(), [](const Action& x, const Action& y) {
    return std::tie(x.next_attempt_at, x.created_at, x.id) < std::tie(y.next_attempt_at, y.created_at, y.id);
  });
  for (const Action& a : claimed) {
    AuditEvent e;
    e.action_id = a.id;
    e.at = now;
    e.actor = std::string(worker);
    e.event = "transition";
    e.from_status = ToString(ActionStatus::kPending);
    e.to_status = ToString(ActionStatus::kInProgress);
    e.reason = "claimed for attempt " + std::to_string(a.attempt_count) + " of " + std::to_string(a.max_attempts);
    if (auto s = InsertAudit(e); !s) return Fail(s.error());
  }
  if (auto s = tx.Commit(); !s) return Fail(s.error());
  return claimed;
}

Status SqliteStore::RenewLeases(std::span<const std::string> action_ids, std::string_view worker, TimePoint now,
                                Millis lease) {
  if (action_ids.empty()) return {};
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return s;
  auto stmt =
      Prepare(writer_,
              "UPDATE actions SET lease_expires_at = ?1 WHERE id = ?2 AND lease_owner = ?3 AND status = 'in_progress'");
  if (!stmt) return Fail(stmt.error());
  int lost = 0;
  for (const std::string& id : action_ids) {
    stmt->Bind(1, ToUnixMillis(now + lease)).Bind(2, id).Bind(3, worker);
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "renew lease"));
    if (sqlite3_changes(writer_.db) == 0) ++lost;
    stmt->Reset();
  }
  if (auto s = tx.Commit(); !s) return s;
  if (lost > 0)
    return Fail(Error::Conflict(std::to_string(lost) + " lease(s) are no longer held by " + std::string(worker)));
  return {};
}

namespace {

AuditEvent Transition(std::string_view action_id, TimePoint at, std::string_view actor, ActionStatus from,
                      ActionStatus to, std::string reason) {
  AuditEvent e;
  e.action_id = std::string(action_id);
  e.at = at;
  e.actor = std::string(actor);
  e.event = "transition";
  e.from_status = ToString(from);
  e.to_status = ToString(to);
  e.reason = std::move(reason);
  return e;
}

constexpr const char* kSettleSql =
    "UPDATE actions SET status = ?2, updated_at = ?3, next_attempt_at = ?4, lease_owner = '', lease_expires_at = 0, "
    "outcome = ?5, resolved_account = CASE WHEN ?6 <> '' THEN ?6 ELSE resolved_account END, already_in_state = ?7, "
    "provider_code = ?8, provider_detail = ?9, attempt_count = ?10, "
    "account_id = CASE WHEN ?11 <> '' THEN ?11 ELSE account_id END WHERE id = ?1";

bool BudgetSpent(const Action& a, TimePoint at) { return a.deadline != TimePoint{} && at >= a.deadline; }

std::string BudgetSpentMessage(const Action& a, std::string_view why) {
  return "its time budget ran out at " + FormatTime(a.deadline) + ": " + std::string(why);
}

}  // namespace

Status SqliteStore::RecordObservations(std::span<const Observation> observations, std::string_view worker,
                                       TimePoint now) {
  if (observations.empty()) return {};
  for (const Observation& o : observations) {
    for (auto [name, value] : {std::pair<std::string_view, std::string_view>{"resolved account", o.resolved_account},
                               {"account id", o.account_id},
                               {"state", o.state}}) {
      if (auto s = CheckField(name, value); !s) return s;
    }
  }
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return s;
  auto stmt = Prepare(
      writer_,
      "UPDATE actions SET updated_at = ?2, "
      "resolved_account = CASE WHEN ?3 <> '' THEN ?3 ELSE resolved_account END, "
      "account_id = CASE WHEN ?4 <> '' THEN ?4 ELSE account_id END, "
      "prior_in_target = COALESCE(prior_in_target, ?5), "
      "prior_state = CASE WHEN prior_in_target IS NULL THEN ?6 ELSE prior_state END "
      "WHERE id = ?1 AND status = 'in_progress' AND lease_owner = ?7");
  if (!stmt) return Fail(stmt.error());
  for (const Observation& o : observations) {
    stmt->Bind(1, o.action_id)
        .Bind(2, ToUnixMillis(now))
        .Bind(3, o.resolved_account)
        .Bind(4, o.account_id)
        .Bind(5, int64_t{o.in_target_state ? 1 : 0})
        .Bind(6, o.state)
        .Bind(7, worker);
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "record what the account looked like"));
    if (sqlite3_changes(writer_.db) == 0)
      return Fail(Error::Conflict("the lease on " + o.action_id + " is no longer held by " + std::string(worker)));
    stmt->Reset();
  }
  return tx.Commit();
}

Result<Action> SqliteStore::FinishAttempt(const AttemptReport& r) {
  for (auto [name, value] : {std::pair<std::string_view, std::string_view>{"message", r.message},
                             {"provider code", r.provider_answer.code},
                             {"provider detail", r.provider_answer.detail},
                             {"resolved account", r.resolved_account},
                             {"account id", r.account_id}}) {
    if (auto s = CheckField(name, value); !s) return Fail(s.error());
  }
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return Fail(s.error());
  auto current = LoadAction(writer_, r.action_id);
  if (!current) return Fail(current.error());
  if (current->status != ActionStatus::kInProgress || current->lease_owner != r.worker || r.worker.empty())
    return Fail(Error::Conflict("the lease on " + current->id + " is no longer held by " + r.worker));

  Attempt attempt;
  attempt.action_id = current->id;
  attempt.worker = r.worker;
  attempt.started_at = r.started_at;
  attempt.finished_at = r.finished_at;
  attempt.result = AttemptResultName(r.outcome);
  attempt.message = r.message;
  attempt.provider_answer = r.provider_answer;
  if (auto s = InsertAttempt(attempt); !s) return Fail(s.error());

  ActionStatus to = ActionStatus::kFailed;
  std::string outcome = r.message;
  TimePoint next = current->next_attempt_at;
  int spent = current->attempt_count;
  switch (r.outcome) {
    case AttemptOutcome::kSucceeded: to = ActionStatus::kSucceeded; break;
    case AttemptOutcome::kPermanentError: to = ActionStatus::kFailed; break;
    case AttemptOutcome::kTransientError:
      if (current->attempt_count >= current->max_attempts) {
        outcome = "gave up after " + std::to_string(current->attempt_count) + " attempts: " + r.message;
      } else if (BudgetSpent(*current, r.retry_at)) {
        outcome = BudgetSpentMessage(*current, r.message);
      } else {
        to = ActionStatus::kPending;
        next = r.retry_at;
      }
      break;
    case AttemptOutcome::kProviderError:
      // The provider's failure, not the action's: the attempt ClaimDue spent is given back.
      spent = std::max(0, current->attempt_count - 1);
      if (BudgetSpent(*current, r.retry_at)) {
        outcome = BudgetSpentMessage(*current, r.message);
      } else {
        to = ActionStatus::kPending;
        next = r.retry_at;
      }
      break;
  }
  {
    auto stmt = Prepare(writer_, kSettleSql);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, current->id)
        .Bind(2, ToString(to))
        .Bind(3, ToUnixMillis(r.finished_at))
        .Bind(4, ToUnixMillis(next))
        .Bind(5, outcome)
        .Bind(6, r.resolved_account)
        .Bind(7, int64_t{r.already_in_state && to == ActionStatus::kSucceeded ? 1 : 0})
        .Bind(8, r.provider_answer.code)
        .Bind(9, r.provider_answer.detail)
        .Bind(10, int64_t{spent})
        .Bind(11, r.account_id);
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "finish attempt"));
  }
  AuditEvent e = Transition(current->id, r.finished_at, r.worker, ActionStatus::kInProgress, to, outcome);
  if (to == ActionStatus::kPending) e.detail = "retry at " + FormatTime(next);
  if (to == ActionStatus::kPending && r.outcome == AttemptOutcome::kProviderError)
    e.detail += " (the provider's failure: no attempt spent)";
  if (to == ActionStatus::kSucceeded && r.already_in_state) e.detail = "already in the target state";
  if (auto s = InsertAudit(e); !s) return Fail(s.error());

  // An undo is linked to what it reverses only once it has reversed it.
  if (to == ActionStatus::kSucceeded && !current->undo_of.empty()) {
    auto stmt = Prepare(writer_,
                        "UPDATE actions SET undone_by = ?2, updated_at = ?3 WHERE id = ?1 AND undone_by IS NULL");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, current->undo_of).Bind(2, current->id).Bind(3, ToUnixMillis(r.finished_at));
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "link the undo"));
    if (sqlite3_changes(writer_.db) > 0) {
      AuditEvent undone;
      undone.action_id = current->undo_of;
      undone.at = r.finished_at;
      undone.actor = r.worker;
      undone.event = "undone";
      undone.detail = "undone by " + current->id;
      if (auto s = InsertAudit(undone); !s) return Fail(s.error());
    }
  }
  if (to == ActionStatus::kSucceeded &&
      (current->type == ActionType::kMarkCompromised || current->type == ActionType::kDismissRisk)) {
    auto settled = LoadAction(writer_, current->id);
    if (!settled) return Fail(settled.error());
    if (auto s = ApplyRisk(*settled, r.finished_at, r.worker); !s) return Fail(s.error());
  }
  auto updated = LoadAction(writer_, current->id);
  if (!updated) return Fail(updated.error());
  if (auto s = tx.Commit(); !s) return Fail(s.error());
  return updated;
}

Result<int> SqliteStore::FailOverdue(Provider provider, TimePoint now, std::string_view why) {
  if (auto s = CheckField("reason", why); !s) return Fail(s.error());
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return Fail(s.error());
  struct Overdue {
    std::string id;
    std::string last;
    int64_t deadline;
  };
  std::vector<Overdue> overdue;
  {
    auto stmt = Prepare(writer_,
                        "SELECT id, outcome, deadline_at FROM actions WHERE status = 'pending' AND provider = ?1 "
                        "AND deadline_at > 0 AND deadline_at <= ?2");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, ToString(provider)).Bind(2, ToUnixMillis(now));
    int rc;
    while ((rc = stmt->Step()) == SQLITE_ROW) overdue.push_back({stmt->Text(0), stmt->Text(1), stmt->Int(2)});
    if (rc != SQLITE_DONE) return Fail(SqlError(writer_, "find actions out of time"));
  }
  auto stmt = Prepare(writer_,
                      "UPDATE actions SET status = 'failed', updated_at = ?2, outcome = ?3 WHERE id = ?1 "
                      "AND status = 'pending'");
  if (!stmt) return Fail(stmt.error());
  for (const Overdue& o : overdue) {
    std::string outcome = "its time budget ran out at " + FormatTime(FromUnixMillis(o.deadline)) + ": " +
                          std::string(why);
    if (!o.last.empty()) outcome += " (last attempt: " + o.last + ")";
    outcome = outcome.substr(0, kMaxFieldLen);
    stmt->Bind(1, o.id).Bind(2, ToUnixMillis(now)).Bind(3, outcome);
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "fail an action out of time"));
    stmt->Reset();
    if (auto s = InsertAudit(Transition(o.id, now, kSystemActor, ActionStatus::kPending, ActionStatus::kFailed,
                                        outcome));
        !s)
      return Fail(s.error());
  }
  if (auto s = tx.Commit(); !s) return Fail(s.error());
  return static_cast<int>(overdue.size());
}

Result<int> SqliteStore::RecoverExpiredLeases(TimePoint now) {
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return Fail(s.error());
  struct Expired {
    std::string id;
    std::string owner;
    int attempt_count;
    int max_attempts;
    int64_t claimed_at;
  };
  std::vector<Expired> expired;
  {
    auto stmt = Prepare(writer_,
                        "SELECT id, lease_owner, attempt_count, max_attempts, claimed_at FROM actions "
                        "WHERE status = 'in_progress' AND lease_expires_at <= ?1");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, ToUnixMillis(now));
    int rc;
    while ((rc = stmt->Step()) == SQLITE_ROW)
      expired.push_back(
          {stmt->Text(0), stmt->Text(1), static_cast<int>(stmt->Int(2)), static_cast<int>(stmt->Int(3)), stmt->Int(4)});
    if (rc != SQLITE_DONE) return Fail(SqlError(writer_, "find expired leases"));
  }
  for (const Expired& x : expired) {
    std::string message = "lease of worker " + x.owner + " expired before it reported";
    Attempt attempt;
    attempt.action_id = x.id;
    attempt.number = x.attempt_count;
    attempt.worker = x.owner;
    attempt.started_at = FromUnixMillis(x.claimed_at);
    attempt.finished_at = now;
    attempt.result = "lease_expired";
    attempt.message = message;
    if (auto s = InsertAttempt(attempt); !s) return Fail(s.error());

    // A lease that keeps expiring (a target that crashes its worker) must not
    // loop for ever: it spends attempts like any transient error.
    bool give_up = x.attempt_count >= x.max_attempts;
    ActionStatus to = give_up ? ActionStatus::kFailed : ActionStatus::kPending;
    std::string outcome =
        give_up ? "gave up after " + std::to_string(x.attempt_count) + " attempts: " + message : message;
    auto stmt = Prepare(writer_,
                        "UPDATE actions SET status = ?2, updated_at = ?3, next_attempt_at = ?3, lease_owner = '', "
                        "lease_expires_at = 0, outcome = ?4 WHERE id = ?1");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, x.id).Bind(2, ToString(to)).Bind(3, ToUnixMillis(now)).Bind(4, outcome);
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "recover lease"));
    if (auto s = InsertAudit(Transition(x.id, now, kSystemActor, ActionStatus::kInProgress, to, outcome)); !s)
      return Fail(s.error());
  }
  if (auto s = tx.Commit(); !s) return Fail(s.error());
  return static_cast<int>(expired.size());
}

Result<Action> SqliteStore::Cancel(std::string_view id, const Actor& actor, std::string_view reason,
                                   TimePoint now) {
  if (auto s = CheckField("reason", reason); !s) return Fail(s.error());
  if (auto s = CheckField("actor", actor.name); !s) return Fail(s.error());
  if (auto s = CheckField("actor token", actor.token_id); !s) return Fail(s.error());
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return Fail(s.error());
  auto current = LoadAction(writer_, id);
  if (!current) return Fail(current.error());
  if (current->status != ActionStatus::kPending && current->status != ActionStatus::kAwaitingApproval)
    return Fail(Error::FailedPrecondition("action " + current->id + " is " + std::string(ToString(current->status)) +
                                          "; only pending or awaiting_approval actions can be cancelled"));
  std::string outcome = "cancelled by " + actor.name;
  {
    auto stmt =
        Prepare(writer_, "UPDATE actions SET status = 'cancelled', updated_at = ?2, outcome = ?3 WHERE id = ?1");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, current->id).Bind(2, ToUnixMillis(now)).Bind(3, outcome);
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "cancel action"));
  }
  AuditEvent cancelled =
      Transition(current->id, now, actor.name, current->status, ActionStatus::kCancelled, std::string(reason));
  cancelled.actor_token = actor.token_id;
  if (auto s = InsertAudit(cancelled); !s) return Fail(s.error());
  auto updated = LoadAction(writer_, current->id);
  if (!updated) return Fail(updated.error());
  if (auto s = tx.Commit(); !s) return Fail(s.error());
  return updated;
}

Result<std::vector<Action>> SqliteStore::CreateUndos(std::span<const NewAction> undos, TimePoint now) {
  for (const NewAction& undo : undos)
    if (undo.undo_of.empty()) return Fail(Error::InvalidArgument("an undo must name the action it reverses"));
  std::vector<Action> out;
  if (undos.empty()) return out;
  out.reserve(undos.size());
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return Fail(s.error());
  for (const NewAction& undo : undos) {
    auto original = LoadAction(writer_, undo.undo_of);
    if (!original) return Fail(original.error());
    if (original->status != ActionStatus::kSucceeded)
      return Fail(Error::FailedPrecondition("action " + original->id + " is " +
                                            std::string(ToString(original->status)) +
                                            "; only a succeeded action can be undone"));
    if (!original->undone_by.empty())
      return Fail(
          Error::FailedPrecondition("action " + original->id + " was already undone by " + original->undone_by));
    {
      // Sees the undos inserted above too: one call never asks twice for the same original.
      auto stmt = Prepare(writer_,
                          "SELECT id, status FROM actions WHERE undo_of = ?1 AND status IN "
                          "('awaiting_approval', 'pending', 'in_progress') LIMIT 1");
      if (!stmt) return Fail(stmt.error());
      stmt->Bind(1, original->id);
      const int rc = stmt->Step();
      if (rc == SQLITE_ROW)
        return Fail(Error::FailedPrecondition("action " + original->id + " is already being undone by " +
                                              stmt->Text(0) + " (" + stmt->Text(1) + ")"));
      if (rc != SQLITE_DONE) return Fail(SqlError(writer_, "look for a running undo"));
    }
    auto created = InsertAction(undo, now);
    if (!created) return Fail(created.error());
    AuditEvent e;
    e.action_id = original->id;
    e.at = now;
    e.actor = undo.requested_by;
    e.actor_token = undo.requested_by_token;
    e.event = "undo_requested";
    e.reason = undo.reason;
    e.detail = "undo " + created->id;
    if (auto s = InsertAudit(e); !s) return Fail(s.error());
    out.push_back(std::move(*created));
  }
  std::vector<Action*> group;
  for (Action& a : out) group.push_back(&a);
  if (auto s = LinkActions(group, undos.front().requested_by, now); !s) return Fail(s.error());
  if (auto s = tx.Commit(); !s) return Fail(s.error());
  return out;
}

Status SqliteStore::AppendAudit(std::span<const AuditEvent> events) {
  for (const AuditEvent& event : events) {
    for (auto [name, value] : {std::pair<std::string_view, std::string_view>{"actor", event.actor},
                               {"actor token", event.actor_token},
                               {"client address", event.client_address},
                               {"event", event.event},
                               {"reason", event.reason},
                               {"detail", event.detail}}) {
      if (auto s = CheckField(name, value); !s) return s;
    }
    if (event.event.empty()) return Fail(Error::InvalidArgument("an audit event needs a name"));
  }
  if (events.empty()) return {};
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return s;
  for (const AuditEvent& event : events) {
    if (auto s = InsertAudit(event); !s) {
      if (sqlite3_extended_errcode(writer_.db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        return Fail(Error::NotFound("no action " + event.action_id));
      return s;
    }
  }
  return tx.Commit();
}

Result<std::vector<AuditEvent>> SqliteStore::ListAudit(std::string_view event_prefix, int limit) {
  if (limit < 1 || limit > kMaxPageLimit)
    return Fail(Error::InvalidArgument("limit must be between 1 and " + std::to_string(kMaxPageLimit)));
  if (auto s = CheckField("event prefix", event_prefix); !s) return Fail(s.error());
  std::lock_guard lock(reader_.mu);
  // Byte-wise range on the index: UTF-8 never contains 0xff, so every event
  // starting with the prefix sorts below prefix + "\xff".
  auto stmt = Prepare(reader_, std::string("SELECT ") + kAuditColumns +
                                   " FROM audit WHERE event >= ?1 AND event < ?2 ORDER BY seq DESC LIMIT ?3");
  if (!stmt) return Fail(stmt.error());
  std::string upper = std::string(event_prefix) + "\xff";
  stmt->Bind(1, event_prefix).Bind(2, upper).Bind(3, int64_t{limit});
  return ReadAudit(*stmt, [this] { return SqlError(reader_, "list audit"); });
}

namespace {

constexpr const char* kTokenColumns = "id, name, role, sha256_hex, created_at, revoked, expires_at, last_used_at, revoked_at";

template <typename StmtT>
TokenRecord RowToToken(const StmtT& row) {
  TokenRecord t;
  t.id = row.Text(0);
  t.name = row.Text(1);
  t.role = row.Text(2);
  t.sha256_hex = row.Text(3);
  t.created_at = FromUnixMillis(row.Int(4));
  t.revoked = row.Int(5) != 0;
  t.expires_at = FromUnixMillis(row.Int(6));
  t.last_used_at = FromUnixMillis(row.Int(7));
  t.revoked_at = FromUnixMillis(row.Int(8));
  return t;
}

}  // namespace

Status SqliteStore::CreateToken(const TokenRecord& t) {
  if (t.id.empty() || t.name.empty() || t.role.empty() || t.sha256_hex.size() != 64)
    return Fail(Error::InvalidArgument("a token needs an id, a name, a role and a SHA-256 digest"));
  for (auto [name, value] :
       {std::pair<std::string_view, std::string_view>{"token id", t.id}, {"token name", t.name}, {"role", t.role}}) {
    if (auto s = CheckField(name, value); !s) return s;
  }
  std::lock_guard lock(writer_.mu);
  auto stmt = Prepare(writer_,
                      "INSERT INTO tokens (id, name, role, sha256_hex, created_at, revoked, expires_at, revoked_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(1, t.id)
      .Bind(2, t.name)
      .Bind(3, t.role)
      .Bind(4, t.sha256_hex)
      .Bind(5, ToUnixMillis(t.created_at))
      .Bind(6, int64_t{t.revoked ? 1 : 0})
      .Bind(7, ToUnixMillis(t.expires_at))
      .Bind(8, ToUnixMillis(t.revoked_at));
  if (stmt->Step() != SQLITE_DONE) {
    if (sqlite3_extended_errcode(writer_.db) == SQLITE_CONSTRAINT_UNIQUE ||
        sqlite3_extended_errcode(writer_.db) == SQLITE_CONSTRAINT_PRIMARYKEY)
      return Fail(Error::AlreadyExists("a token with this id or digest already exists"));
    return Fail(SqlError(writer_, "create token"));
  }
  return {};
}

Result<std::optional<TokenRecord>> SqliteStore::FindTokenByDigest(std::string_view sha256_hex) {
  if (sha256_hex.size() != 64) return std::optional<TokenRecord>();
  std::lock_guard lock(reader_.mu);
  auto stmt = Prepare(reader_, std::string("SELECT ") + kTokenColumns + " FROM tokens WHERE sha256_hex = ?1");
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(1, sha256_hex);
  int rc = stmt->Step();
  if (rc == SQLITE_DONE) return std::optional<TokenRecord>();
  if (rc != SQLITE_ROW) return Fail(SqlError(reader_, "find token"));
  return std::optional<TokenRecord>(RowToToken(*stmt));
}

Result<std::vector<TokenRecord>> SqliteStore::ListTokens() {
  std::lock_guard lock(reader_.mu);
  auto stmt = Prepare(reader_, std::string("SELECT ") + kTokenColumns + " FROM tokens ORDER BY created_at DESC, id");
  if (!stmt) return Fail(stmt.error());
  std::vector<TokenRecord> out;
  int rc;
  while ((rc = stmt->Step()) == SQLITE_ROW) out.push_back(RowToToken(*stmt));
  if (rc != SQLITE_DONE) return Fail(SqlError(reader_, "list tokens"));
  return out;
}

Result<TokenRecord> SqliteStore::RevokeToken(std::string_view id, const Actor& actor, std::string_view reason,
                                             TimePoint now) {
  for (auto [name, value] : {std::pair<std::string_view, std::string_view>{"token id", id},
                             {"actor", actor.name},
                             {"actor token", actor.token_id},
                             {"reason", reason}}) {
    if (auto s = CheckField(name, value); !s) return Fail(s.error());
  }
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return Fail(s.error());
  auto load = [&]() -> Result<TokenRecord> {
    auto stmt = Prepare(writer_, std::string("SELECT ") + kTokenColumns + " FROM tokens WHERE id = ?1");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, id);
    const int rc = stmt->Step();
    if (rc == SQLITE_DONE) return Fail(Error::NotFound("no token " + std::string(id)));
    if (rc != SQLITE_ROW) return Fail(SqlError(writer_, "read token"));
    return RowToToken(*stmt);
  };
  auto token = load();
  if (!token) return token;
  if (token->revoked) return token;
  {
    auto stmt = Prepare(writer_, "UPDATE tokens SET revoked = 1, revoked_at = ?2 WHERE id = ?1");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, id).Bind(2, ToUnixMillis(now));
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "revoke token"));
  }
  AuditEvent e;
  e.at = now;
  e.actor = actor.name;
  e.actor_token = actor.token_id;
  e.event = "token.revoked";
  e.reason = std::string(reason);
  e.detail = "token " + token->id + " (" + token->name + ", " + token->role + ")";
  if (auto s = InsertAudit(e); !s) return Fail(s.error());
  auto revoked = load();
  if (!revoked) return revoked;
  if (auto s = tx.Commit(); !s) return Fail(s.error());
  return revoked;
}

Status SqliteStore::TouchTokens(std::span<const std::pair<std::string, TimePoint>> used) {
  if (used.empty()) return {};
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return s;
  auto stmt = Prepare(writer_, "UPDATE tokens SET last_used_at = MAX(last_used_at, ?2) WHERE id = ?1");
  if (!stmt) return Fail(stmt.error());
  for (const auto& [id, at] : used) {
    stmt->Bind(1, id).Bind(2, ToUnixMillis(at));
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "record token use"));
    stmt->Reset();
  }
  return tx.Commit();
}

Status SqliteStore::Ping() {
  std::lock_guard lock(reader_.mu);
  auto stmt = Prepare(reader_, "SELECT 1");
  if (!stmt) return Fail(stmt.error());
  if (stmt->Step() != SQLITE_ROW) return Fail(SqlError(reader_, "ping"));
  return {};
}

Result<int64_t> SqliteStore::CountDue(Provider provider, TimePoint now) {
  std::lock_guard lock(reader_.mu);
  auto stmt = Prepare(reader_,
                      "SELECT COUNT(*) FROM actions WHERE status = 'pending' AND provider = ?1 "
                      "AND next_attempt_at <= ?2 AND (deadline_at = 0 OR deadline_at > ?2)");
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(1, ToString(provider)).Bind(2, ToUnixMillis(now));
  if (stmt->Step() != SQLITE_ROW) return Fail(SqlError(reader_, "count due actions"));
  return static_cast<int64_t>(stmt->Int(0));
}

Result<std::vector<StatusCount>> SqliteStore::CountByStatus() {
  std::lock_guard lock(reader_.mu);
  auto stmt = Prepare(reader_, "SELECT status, COUNT(*) FROM actions GROUP BY status");
  if (!stmt) return Fail(stmt.error());
  constexpr ActionStatus kAll[] = {ActionStatus::kAwaitingApproval, ActionStatus::kPending, ActionStatus::kInProgress,
                                   ActionStatus::kSucceeded,        ActionStatus::kFailed,  ActionStatus::kCancelled,
                                   ActionStatus::kRejected};
  std::vector<StatusCount> out;
  for (ActionStatus s : kAll) out.push_back({s, 0});
  int rc;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
    auto status = ParseActionStatus(stmt->Text(0));
    if (!status) continue;
    for (StatusCount& c : out)
      if (c.status == *status) c.count = stmt->Int(1);
  }
  if (rc != SQLITE_DONE) return Fail(SqlError(reader_, "count actions"));
  return out;
}

}  // namespace cordon
