// SqliteStore as the InventoryStore (inventory/inventory_store.h): the
// identity inventory in the action center's SQLite file (schema version 4,
// sqlite_store.cpp).
#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "inventory/search_terms.h"
#include "store/sqlite/sqlite_statement.h"
#include "store/sqlite/sqlite_store.h"

namespace cordon {
namespace {

using sqlite::CheckField;
using sqlite::HexDecode;
using sqlite::HexEncode;
using sqlite::kMaxPageLimit;

// The display key (the order of listings) is the display name in lower
// case, cut here: a cursor carries it, and 200 bytes of a name order anyone.
constexpr size_t kMaxDisplayKeyBytes = 200;

// Separates the terms in identities.terms: before each, and after the last.
// No term holds it (NormalizeSearchText turns white space into spaces), so a
// prefix P of a term is found as "\nP".
constexpr std::string_view kTermSeparator = "\n";

std::string JoinTerms(const std::vector<std::string>& terms) {
  std::string out(kTermSeparator);
  for (const std::string& t : terms) {
    out += t;
    out += kTermSeparator;
  }
  return out;
}

// The sorted terms of identities.terms.
std::vector<std::string> SplitTerms(std::string_view joined) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < joined.size()) {
    size_t end = joined.find(kTermSeparator, start);
    if (end == std::string_view::npos) end = joined.size();
    if (end > start) out.emplace_back(joined.substr(start, end - start));
    start = end + kTermSeparator.size();
  }
  return out;
}

// Writes of more accounts than this get a larger page cache while they run.
constexpr size_t kLargeWrite = 10000;

// A prefix search reads the term rows in its range (they carry the display
// key) and keeps the first page; that is fast while the range is short. A
// prefix that matches very many rows (one letter; "s-1-5-21-" matches every
// SID) would read them all, so past SqliteStoreOptions::search_scan_rows the
// search walks the identities in display order instead, keeping those with
// a matching term: with so many matches, a page comes within a few rows.
// Either way a page costs at most about that many index rows.

// Cuts at `max` bytes without splitting a UTF-8 character.
std::string CutUtf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80) --end;
  s.resize(end);
  return s;
}

std::string DisplayKey(std::string_view display_name) {
  return CutUtf8(LowerAscii(display_name), kMaxDisplayKeyBytes);
}

// A cursor names the last identity of a page by (display key, id), the
// order of the listing, so a page boundary stays put as identities come and go.
std::string EncodeIdentityCursor(const std::string& display_key, const std::string& id) {
  return HexEncode(id + display_key);
}

struct IdentityCursor {
  std::string display_key;
  std::string id;
};

std::optional<IdentityCursor> DecodeIdentityCursor(std::string_view cursor) {
  if (cursor.size() > kMaxIdentityCursorBytes) return std::nullopt;
  auto raw = HexDecode(cursor);
  if (!raw || raw->size() < 36) return std::nullopt;
  IdentityCursor c{raw->substr(36), raw->substr(0, 36)};
  if (!IsIdentityId(c.id) || c.display_key.size() > kMaxDisplayKeyBytes) return std::nullopt;
  return c;
}

std::string IdentifiersJson(const std::map<std::string, std::string>& identifiers) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : identifiers) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::map<std::string, std::string> ParseIdentifiers(const std::string& text) {
  std::map<std::string, std::string> out;
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items())
    if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

// What an account looked like, as a short digest: a listing compares it
// with the stored one and writes only the accounts that changed.
std::string DigestOf(const AccountView& a) {
  const nlohmann::json fields = {ToString(a.provider), a.id,      a.login,           a.display_name,
                                 ToString(a.status),   a.must_change_password, a.upn, a.sid,
                                 a.mail,               a.provider_risk,        a.admin_protected,
                                 a.synced_from_ad,     a.guest,                IdentifiersJson(a.identifiers)};
  const std::string text = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) return {};
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), std::min<unsigned int>(size, 16)));
}

std::string Dn(const AccountView& a) {
  if (a.provider != Provider::kActiveDirectory) return {};
  const auto it = a.identifiers.find("dn");
  return it == a.identifiers.end() ? std::string() : it->second;
}

Status CheckAccount(const InventoryAccount& a) {
  const AccountView& v = a.account;
  if (v.id.empty()) return Fail(Error::InvalidArgument("an account needs its provider's id"));
  if (!IsIdentityId(a.identity_id))
    return Fail(Error::InvalidArgument("account " + v.id + " has no valid identity id"));
  for (auto [name, value] : {std::pair<std::string_view, std::string_view>{"account id", v.id},
                             {"login", v.login},
                             {"display name", v.display_name},
                             {"upn", v.upn},
                             {"sid", v.sid},
                             {"mail", v.mail},
                             {"provider risk", v.provider_risk}}) {
    if (auto s = CheckField(name, value); !s) return s;
  }
  size_t identifiers = 0;
  for (const auto& [k, val] : v.identifiers) identifiers += k.size() + val.size();
  if (identifiers > sqlite::kMaxFieldLen) return Fail(Error::InvalidArgument("identifiers is too long"));
  return {};
}

// A read transaction on the read-only connection: every statement of one
// call sees the same state of the file.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(sqlite3* db) : db_(db) {}
  ~ReadSnapshot() {
    if (open_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  [[nodiscard]] bool Begin() {
    open_ = sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
    return open_;
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

constexpr const char* kAccountColumns =
    "a.provider, a.account_id, a.identity_id, a.login, a.display_name, a.status, a.must_change_password, a.upn, "
    "a.sid, a.mail, a.provider_risk, a.admin_protected, a.synced_from_ad, a.guest, a.identifiers, "
    // seen: a complete listing saw every account it did not change.
    "MAX(a.seen_at, COALESCE((SELECT s.listed_at FROM inventory_syncs s WHERE s.provider = a.provider), 0)), "
    // Cordon's own level, kept by the action center under the account's
    // immutable id, or the name its action gave.
    "(SELECT r.level FROM risk_levels r WHERE r.provider = a.provider "
    "AND r.account_key IN (a.account_id, a.login, a.upn) LIMIT 1)";

template <typename Row>
Result<InventoryAccount> RowToAccount(const Row& row) {
  InventoryAccount out;
  AccountView& v = out.account;
  const auto provider = ParseProvider(row.Text(0));
  const auto status = ParseAccountStatus(row.Text(5));
  if (!provider || !status) return Fail(Error::Internal("an inventory account has an unknown provider or status"));
  v.provider = *provider;
  v.id = row.Text(1);
  out.identity_id = row.Text(2);
  v.login = row.Text(3);
  v.display_name = row.Text(4);
  v.status = *status;
  v.must_change_password = row.Int(6) != 0;
  v.upn = row.Text(7);
  v.sid = row.Text(8);
  v.mail = row.Text(9);
  v.provider_risk = row.Text(10);
  v.admin_protected = row.Int(11) != 0;
  v.synced_from_ad = row.Int(12) != 0;
  v.guest = row.Int(13) != 0;
  v.identifiers = ParseIdentifiers(row.Text(14));
  out.seen_at = FromUnixMillis(row.Int(15));
  if (!row.IsNull(16)) out.risk_level = ParseRiskLevel(row.Text(16));
  return out;
}

constexpr const char* kKeyColumns = "provider, account_id, login, display_name, upn, sid, mail, dn, identity_id";

template <typename Row>
Result<AccountKeys> RowToKeys(const Row& row) {
  const auto provider = ParseProvider(row.Text(0));
  if (!provider) return Fail(Error::Internal("an inventory account has an unknown provider"));
  AccountKeys k;
  k.provider = *provider;
  k.id = row.Text(1);
  k.login = row.Text(2);
  k.display_name = row.Text(3);
  k.upn = row.Text(4);
  k.sid = row.Text(5);
  k.mail = row.Text(6);
  k.dn = row.Text(7);
  k.identity_id = row.Text(8);
  return k;
}

using Arg = std::variant<int64_t, std::string>;

}  // namespace

Result<std::vector<Identity>> SqliteStore::LoadIdentities(Connection& c, const std::vector<std::string>& ids) {
  std::vector<Identity> out;
  out.reserve(ids.size());
  auto header = Prepare(c, "SELECT id, display_name, domain FROM identities WHERE id = ?1");
  if (!header) return Fail(header.error());
  auto accounts = Prepare(c, std::string("SELECT ") + kAccountColumns +
                                 " FROM inventory_accounts a WHERE a.identity_id = ?1 "
                                 "ORDER BY a.provider, a.login, a.account_id");
  if (!accounts) return Fail(accounts.error());
  for (const std::string& id : ids) {
    header->Bind(1, id);
    const int rc = header->Step();
    if (rc == SQLITE_DONE) {
      header->Reset();
      continue;
    }
    if (rc != SQLITE_ROW) return Fail(SqlError(c, "read identity"));
    Identity identity;
    identity.id = header->Text(0);
    identity.display_name = header->Text(1);
    identity.domain = header->Text(2);
    header->Reset();
    accounts->Bind(1, id);
    int arc;
    while ((arc = accounts->Step()) == SQLITE_ROW) {
      auto account = RowToAccount(*accounts);
      if (!account) return Fail(account.error());
      identity.accounts.push_back(std::move(*account));
    }
    if (arc != SQLITE_DONE) return Fail(SqlError(c, "read identity accounts"));
    accounts->Reset();
    out.push_back(std::move(identity));
  }
  return out;
}

Result<IdentityPage> SqliteStore::ListIdentities(const IdentityFilter& f) {
  if (f.limit < 1 || f.limit > kMaxPageLimit)
    return Fail(Error::InvalidArgument("limit must be between 1 and " + std::to_string(kMaxPageLimit)));
  std::optional<IdentityCursor> after;
  if (!f.cursor.empty()) {
    after = DecodeIdentityCursor(f.cursor);
    if (!after) return Fail(Error::InvalidArgument("the cursor is not one this server handed out"));
  }
  for (const auto* value : {&f.text, f.display_name ? &*f.display_name : nullptr,
                            f.display_name_prefix ? &*f.display_name_prefix : nullptr, f.domain ? &*f.domain : nullptr})
    if (value != nullptr)
      if (auto s = CheckField("filter", *value); !s) return Fail(s.error());
  const std::string text = NormalizeSearchText(f.text);
  const bool structured = f.display_name || f.display_name_prefix || f.domain;
  const size_t want = static_cast<size_t>(f.limit) + 1;

  std::lock_guard lock(reader_.mu);
  ReadSnapshot snapshot(reader_.db);
  if (!snapshot.Begin()) return Fail(SqlError(reader_, "begin a read"));

  // (display key, id) of the page and one more, in order.
  std::vector<std::pair<std::string, std::string>> found;
  bool walk = structured || text.empty();
  if (!walk) {
    auto stmt = Prepare(reader_, "SELECT display_key, identity_id FROM identity_terms WHERE term >= ?1 AND term < ?2");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, text).Bind(2, PrefixEnd(text));
    std::set<std::pair<std::string, std::string>> best;
    int rows = 0;
    int rc;
    while ((rc = stmt->Step()) == SQLITE_ROW) {
      if (++rows > search_scan_rows_) {
        walk = true;
        break;
      }
      // Most rows are neither after the cursor nor among the first: compared in place.
      const std::pair<std::string_view, std::string_view> row{stmt->TextView(0), stmt->TextView(1)};
      if (after && row <= std::pair<std::string_view, std::string_view>(after->display_key, after->id)) continue;
      if (best.size() == want &&
          !(row < std::pair<std::string_view, std::string_view>(best.rbegin()->first, best.rbegin()->second)))
        continue;
      best.emplace(row.first, row.second);
      if (best.size() > want) best.erase(std::prev(best.end()));
    }
    if (!walk && rc != SQLITE_DONE) return Fail(SqlError(reader_, "search identities"));
    if (!walk) found.assign(best.begin(), best.end());
  }
  if (walk) {
    std::vector<Arg> args;
    std::string sql = "SELECT display_key, id FROM identities WHERE 1=1";
    auto arg = [&](Arg value) {
      args.push_back(std::move(value));
      return "?" + std::to_string(args.size());
    };
    if (f.display_name) {
      sql += " AND display_key = " + arg(DisplayKey(*f.display_name));
      sql += " AND display_name = " + arg(*f.display_name) + " COLLATE NOCASE";
    }
    if (f.display_name_prefix) {
      const std::string prefix = DisplayKey(*f.display_name_prefix);
      sql += " AND display_key >= " + arg(prefix);
      sql += " AND display_key < " + arg(PrefixEnd(prefix));
    }
    if (f.domain) sql += " AND domain = " + arg(LowerAscii(*f.domain));
    if (after) {
      const std::string key = arg(after->display_key);
      sql += " AND (display_key, id) > (" + key + ", " + arg(after->id) + ")";
    }
    if (!text.empty()) sql += " AND instr(terms, " + arg(std::string(kTermSeparator) + text) + ") > 0";
    sql += " ORDER BY display_key, id LIMIT " + arg(static_cast<int64_t>(want));
    auto stmt = Prepare(reader_, sql);
    if (!stmt) return Fail(stmt.error());
    for (size_t i = 0; i < args.size(); ++i)
      std::visit([&](const auto& v) { stmt->Bind(static_cast<int>(i + 1), v); }, args[i]);
    int rc;
    while ((rc = stmt->Step()) == SQLITE_ROW) found.emplace_back(stmt->Text(0), stmt->Text(1));
    if (rc != SQLITE_DONE) return Fail(SqlError(reader_, "list identities"));
  }

  IdentityPage page;
  if (found.size() > static_cast<size_t>(f.limit)) {
    found.resize(static_cast<size_t>(f.limit));
    page.next_cursor = EncodeIdentityCursor(found.back().first, found.back().second);
  }
  std::vector<std::string> ids;
  ids.reserve(found.size());
  for (auto& [key, id] : found) ids.push_back(std::move(id));
  auto identities = LoadIdentities(reader_, ids);
  if (!identities) return Fail(identities.error());
  page.identities = std::move(*identities);
  return page;
}

Result<std::optional<Identity>> SqliteStore::GetIdentity(std::string_view id) {
  // Ids are always the store's own form: anything else is nobody, unread.
  if (!IsIdentityId(id)) return std::optional<Identity>();
  std::lock_guard lock(reader_.mu);
  ReadSnapshot snapshot(reader_.db);
  if (!snapshot.Begin()) return Fail(SqlError(reader_, "begin a read"));
  auto found = LoadIdentities(reader_, {std::string(id)});
  if (!found) return Fail(found.error());
  if (found->empty()) return std::optional<Identity>();
  return std::optional<Identity>(std::move(found->front()));
}

Result<std::optional<Identity>> SqliteStore::FindIdentityOfAccount(Provider provider,
                                                                  std::string_view account_id_or_login) {
  if (auto s = CheckField("account", account_id_or_login); !s) return Fail(s.error());
  if (account_id_or_login.empty()) return std::optional<Identity>();
  std::lock_guard lock(reader_.mu);
  ReadSnapshot snapshot(reader_.db);
  if (!snapshot.Begin()) return Fail(SqlError(reader_, "begin a read"));
  std::string identity_id;
  {
    // The immutable id wins over a login or UPN another account may share.
    auto stmt = Prepare(reader_,
                        "SELECT identity_id FROM inventory_accounts WHERE provider = ?1 "
                        "AND (account_id = ?2 OR login = ?2 OR upn = ?2) "
                        "ORDER BY account_id = ?2 DESC, login = ?2 DESC, account_id LIMIT 1");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, ToString(provider)).Bind(2, account_id_or_login);
    const int rc = stmt->Step();
    if (rc == SQLITE_DONE) return std::optional<Identity>();
    if (rc != SQLITE_ROW) return Fail(SqlError(reader_, "find an account"));
    identity_id = stmt->Text(0);
  }
  auto found = LoadIdentities(reader_, {identity_id});
  if (!found) return Fail(found.error());
  if (found->empty()) return std::optional<Identity>();
  return std::optional<Identity>(std::move(found->front()));
}

Result<CorrelationSnapshot> SqliteStore::ReadKeys(Connection& c, const char* where,
                                                  std::initializer_list<std::string_view> args) {
  CorrelationSnapshot out;
  {
    auto stmt = Prepare(c, "SELECT generation FROM inventory_generation WHERE one = 1");
    if (!stmt) return Fail(stmt.error());
    if (stmt->Step() != SQLITE_ROW) return Fail(SqlError(c, "read the inventory's generation"));
    out.generation = stmt->Int(0);
  }
  auto stmt = Prepare(c, std::string("SELECT ") + kKeyColumns + " FROM inventory_accounts" + where);
  if (!stmt) return Fail(stmt.error());
  int index = 0;
  for (std::string_view arg : args) stmt->Bind(++index, arg);
  int rc;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
    auto keys = RowToKeys(*stmt);
    if (!keys) return Fail(keys.error());
    out.accounts.push_back(std::move(*keys));
  }
  if (rc != SQLITE_DONE) return Fail(SqlError(c, "read accounts for correlation"));
  return out;
}

Result<CorrelationSnapshot> SqliteStore::AccountsForCorrelation(std::optional<Provider> except) {
  std::lock_guard lock(reader_.mu);
  ReadSnapshot snapshot(reader_.db);
  if (!snapshot.Begin()) return Fail(SqlError(reader_, "begin a read"));
  if (!except) return ReadKeys(reader_, "", {});
  return ReadKeys(reader_, " WHERE provider <> ?1", {ToString(*except)});
}

Result<CorrelationSnapshot> SqliteStore::IdentityMembersOf(Provider provider, std::string_view account_id) {
  if (auto s = CheckField("account id", account_id); !s) return Fail(s.error());
  std::lock_guard lock(reader_.mu);
  ReadSnapshot snapshot(reader_.db);
  if (!snapshot.Begin()) return Fail(SqlError(reader_, "begin a read"));
  return ReadKeys(reader_,
                  " WHERE identity_id = (SELECT identity_id FROM inventory_accounts WHERE provider = ?1 "
                  "AND account_id = ?2)",
                  {ToString(provider), account_id});
}

Result<InventoryWriteResult> SqliteStore::ReplaceAccounts(Provider provider, const InventoryWrite& write,
                                                          const SyncRun& run) {
  if (run.provider != provider) return Fail(Error::InvalidArgument("the sync run is another provider's"));
  return WriteInventory(write, provider, &run);
}

Result<InventoryWriteResult> SqliteStore::UpsertAccounts(const InventoryWrite& write) {
  return WriteInventory(write, std::nullopt, nullptr);
}

Result<InventoryWriteResult> SqliteStore::WriteInventory(const InventoryWrite& write, std::optional<Provider> replace,
                                                         const SyncRun* run) {
  std::map<std::string, const IdentityHeader*> headers;
  for (const IdentityHeader& h : write.identities) {
    if (!IsIdentityId(h.id)) return Fail(Error::InvalidArgument("an identity header has no valid id"));
    for (auto [name, value] : {std::pair<std::string_view, std::string_view>{"display name", h.display_name},
                               {"domain", h.domain}}) {
      if (auto s = CheckField(name, value); !s) return Fail(s.error());
    }
    headers[h.id] = &h;
  }
  {
    std::set<std::pair<Provider, std::string>> seen;
    for (const InventoryAccount& a : write.accounts) {
      if (auto s = CheckAccount(a); !s) return Fail(s.error());
      if (replace && a.account.provider != *replace)
        return Fail(Error::InvalidArgument("a listing of " + std::string(ToString(*replace)) + " holds an account of " +
                                           std::string(ToString(a.account.provider))));
      if (!seen.emplace(a.account.provider, LowerAscii(a.account.id)).second)
        return Fail(Error::InvalidArgument("account " + a.account.id + " is written twice"));
    }
    for (const AccountPlacement& m : write.moved) {
      if (!IsIdentityId(m.identity_id) || m.account_id.empty())
        return Fail(Error::InvalidArgument("a moved account needs its id and a valid identity id"));
      if (auto s = CheckField("account id", m.account_id); !s) return Fail(s.error());
    }
  }
  if (run != nullptr)
    if (auto s = CheckField("sync error", run->error); !s) return Fail(s.error());
  // Computed before the writer is taken: the action center waits for it.
  std::vector<std::string> digests;
  digests.reserve(write.accounts.size());
  for (const InventoryAccount& a : write.accounts) digests.push_back(DigestOf(a.account));

  std::lock_guard lock(writer_.mu);
  // A listing of a large directory touches index pages all over the file:
  // more page cache for its write (a third less time at 100,000 accounts),
  // given back when it ends, so an idle server stays small.
  const bool large = write.accounts.size() + write.moved.size() > kLargeWrite;
  if (large)
    if (auto s = Exec(sqlite::kLargeWriteCache); !s) return Fail(s.error());
  struct CacheBack {
    SqliteStore& store;
    bool large;
    ~CacheBack() {
      if (large) (void)store.Exec(sqlite::kWriterCache);
    }
  } cache_back{*this, large};
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return Fail(s.error());
  {
    auto stmt = Prepare(writer_, "SELECT generation FROM inventory_generation WHERE one = 1");
    if (!stmt) return Fail(stmt.error());
    if (stmt->Step() != SQLITE_ROW) return Fail(SqlError(writer_, "read the inventory's generation"));
    if (stmt->Int(0) != write.generation)
      return Fail(Error::Conflict("the inventory changed since it was read for this correlation"));
  }

  struct Existing {
    std::string identity_id;
    std::string digest;
    int64_t seen_at = 0;
  };
  // By lower-case account id: the column ignores case.
  std::unordered_map<std::string, Existing> existing;
  if (replace) {
    auto stmt = Prepare(writer_,
                        "SELECT account_id, identity_id, digest, seen_at FROM inventory_accounts WHERE provider = ?1");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, ToString(*replace));
    int rc;
    while ((rc = stmt->Step()) == SQLITE_ROW)
      existing.emplace(LowerAscii(stmt->Text(0)), Existing{stmt->Text(1), stmt->Text(2), stmt->Int(3)});
    if (rc != SQLITE_DONE) return Fail(SqlError(writer_, "read the provider's accounts"));
  }
  auto find_one = [&](Provider provider, const std::string& id) -> Result<std::optional<Existing>> {
    auto stmt = Prepare(writer_,
                        "SELECT identity_id, digest, seen_at FROM inventory_accounts WHERE provider = ?1 "
                        "AND account_id = ?2");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, ToString(provider)).Bind(2, id);
    const int rc = stmt->Step();
    if (rc == SQLITE_DONE) return std::optional<Existing>();
    if (rc != SQLITE_ROW) return Fail(SqlError(writer_, "read an account"));
    return std::optional<Existing>(Existing{stmt->Text(0), stmt->Text(1), stmt->Int(2)});
  };

  InventoryWriteResult result;
  std::set<std::string> touched;
  const int64_t listed_since = run != nullptr ? ToUnixMillis(run->started_at) : 0;
  for (size_t i = 0; i < write.accounts.size(); ++i) {
    const InventoryAccount& a = write.accounts[i];
    const AccountView& v = a.account;
    std::optional<Existing> before;
    if (replace) {
      if (auto it = existing.find(LowerAscii(v.id)); it != existing.end()) {
        before = std::move(it->second);
        existing.erase(it);
      }
    } else {
      auto one = find_one(v.provider, v.id);
      if (!one) return Fail(one.error());
      before = std::move(*one);
    }
    const std::string& digest = digests[i];
    if (before && replace && before->seen_at > listed_since) {
      // Read again after the listing began (a refresh): fresher than the listing.
      if (before->identity_id == a.identity_id) {
        ++result.unchanged;
        continue;
      }
      auto stmt = Prepare(writer_,
                          "UPDATE inventory_accounts SET identity_id = ?3 WHERE provider = ?1 AND account_id = ?2");
      if (!stmt) return Fail(stmt.error());
      stmt->Bind(1, ToString(v.provider)).Bind(2, v.id).Bind(3, a.identity_id);
      if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "move an account"));
      touched.insert(before->identity_id);
      touched.insert(a.identity_id);
      ++result.updated;
      continue;
    }
    if (before && before->digest == digest && before->identity_id == a.identity_id) {
      ++result.unchanged;
      if (!replace) {
        auto stmt = Prepare(writer_,
                            "UPDATE inventory_accounts SET seen_at = MAX(seen_at, ?3) WHERE provider = ?1 "
                            "AND account_id = ?2");
        if (!stmt) return Fail(stmt.error());
        stmt->Bind(1, ToString(v.provider)).Bind(2, v.id).Bind(3, ToUnixMillis(a.seen_at));
        if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "record when an account was read"));
      }
      continue;
    }
    auto stmt = Prepare(
        writer_,
        "INSERT INTO inventory_accounts (provider, account_id, identity_id, login, display_name, status, "
        "must_change_password, upn, sid, mail, dn, provider_risk, admin_protected, synced_from_ad, guest, identifiers, "
        "seen_at, digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) "
        "ON CONFLICT (provider, account_id) DO UPDATE SET "
        "identity_id = excluded.identity_id, login = excluded.login, display_name = excluded.display_name, "
        "status = excluded.status, must_change_password = excluded.must_change_password, upn = excluded.upn, "
        "sid = excluded.sid, mail = excluded.mail, dn = excluded.dn, provider_risk = excluded.provider_risk, "
        "admin_protected = excluded.admin_protected, synced_from_ad = excluded.synced_from_ad, "
        "guest = excluded.guest, identifiers = excluded.identifiers, seen_at = excluded.seen_at, "
        "digest = excluded.digest");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, ToString(v.provider))
        .Bind(2, v.id)
        .Bind(3, a.identity_id)
        .Bind(4, v.login)
        .Bind(5, v.display_name)
        .Bind(6, ToString(v.status))
        .Bind(7, int64_t{v.must_change_password ? 1 : 0})
        .Bind(8, v.upn)
        .Bind(9, v.sid)
        .Bind(10, v.mail)
        .Bind(11, Dn(v))
        .Bind(12, v.provider_risk)
        .Bind(13, int64_t{v.admin_protected ? 1 : 0})
        .Bind(14, int64_t{v.synced_from_ad ? 1 : 0})
        .Bind(15, int64_t{v.guest ? 1 : 0})
        .Bind(16, IdentifiersJson(v.identifiers))
        .Bind(17, ToUnixMillis(a.seen_at))
        .Bind(18, digest);
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "write an account"));
    if (before) {
      ++result.updated;
      touched.insert(before->identity_id);
    } else {
      ++result.added;
    }
    touched.insert(a.identity_id);
  }
  if (replace) {
    auto stmt = Prepare(writer_, "DELETE FROM inventory_accounts WHERE provider = ?1 AND account_id = ?2");
    if (!stmt) return Fail(stmt.error());
    for (const auto& [id, gone] : existing) {
      if (gone.seen_at > listed_since) continue;  // read again since the listing began: it exists
      stmt->Bind(1, ToString(*replace)).Bind(2, id);
      if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "remove an account"));
      stmt->Reset();
      ++result.removed;
      touched.insert(gone.identity_id);
    }
  }
  for (const AccountPlacement& m : write.moved) {
    auto one = find_one(m.provider, m.account_id);
    if (!one) return Fail(one.error());
    if (!*one)
      return Fail(Error::InvalidArgument("the inventory holds no " + std::string(ToString(m.provider)) +
                                         " account " + m.account_id + " to move"));
    if ((*one)->identity_id == m.identity_id) continue;
    auto stmt =
        Prepare(writer_, "UPDATE inventory_accounts SET identity_id = ?3 WHERE provider = ?1 AND account_id = ?2");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, ToString(m.provider)).Bind(2, m.account_id).Bind(3, m.identity_id);
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "move an account"));
    ++result.updated;
    touched.insert((*one)->identity_id);
    touched.insert(m.identity_id);
  }
  for (const std::string& id : touched) {
    const auto header = headers.find(id);
    auto changed = RebuildIdentity(id, header == headers.end() ? nullptr : header->second);
    if (!changed) return Fail(changed.error());
    if (*changed) ++result.identities;
  }
  if (result.added + result.updated + result.removed + result.identities > 0) {
    auto stmt = Prepare(writer_, "UPDATE inventory_generation SET generation = generation + 1 WHERE one = 1");
    if (!stmt) return Fail(stmt.error());
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "advance the inventory's generation"));
  }
  if (run != nullptr)
    if (auto s = WriteSyncRun(*run, true); !s) return Fail(s.error());
  if (auto s = tx.Commit(); !s) return Fail(s.error());
  return result;
}

Result<bool> SqliteStore::RebuildIdentity(const std::string& id, const IdentityHeader* header) {
  std::vector<AccountKeys> members;
  {
    auto stmt = Prepare(writer_, std::string("SELECT ") + kKeyColumns + " FROM inventory_accounts WHERE identity_id = ?1");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, id);
    int rc;
    while ((rc = stmt->Step()) == SQLITE_ROW) {
      auto keys = RowToKeys(*stmt);
      if (!keys) return Fail(keys.error());
      members.push_back(std::move(*keys));
    }
    if (rc != SQLITE_DONE) return Fail(SqlError(writer_, "read an identity's accounts"));
  }
  IdentityHeader current;
  std::string current_key;
  std::vector<std::string> stored;
  bool known = false;
  {
    auto stmt = Prepare(writer_, "SELECT display_name, domain, display_key, terms FROM identities WHERE id = ?1");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, id);
    const int rc = stmt->Step();
    if (rc == SQLITE_ROW) {
      known = true;
      current = {id, stmt->Text(0), stmt->Text(1)};
      current_key = stmt->Text(2);
      stored = SplitTerms(stmt->TextView(3));
    } else if (rc != SQLITE_DONE) {
      return Fail(SqlError(writer_, "read an identity"));
    }
  }
  if (!members.empty() && header == nullptr && !known)
    return Fail(Error::InvalidArgument("identity " + id + " has accounts but the write gave no header for it"));
  const IdentityHeader& wanted = header != nullptr ? *header : current;
  const std::string display_key = DisplayKey(wanted.display_name);
  // Without accounts, the identity goes, and all its terms with it.
  const std::vector<std::string> terms =
      members.empty() ? std::vector<std::string>{} : SearchTermsOf(wanted.display_name, members);
  const bool rekeyed = known && current_key != display_key;

  // Only what changed: a listing that adds one account to each of 100,000
  // identities writes one term each, not all of them again. A new display
  // key is in every row, so then all are written again.
  std::vector<std::string> gone, added;
  if (rekeyed || members.empty()) {
    gone = stored;
    added = terms;
  } else {
    std::set_difference(stored.begin(), stored.end(), terms.begin(), terms.end(), std::back_inserter(gone));
    std::set_difference(terms.begin(), terms.end(), stored.begin(), stored.end(), std::back_inserter(added));
  }
  auto remove = Prepare(writer_, "DELETE FROM identity_terms WHERE term = ?1 AND identity_id = ?2");
  if (!remove) return Fail(remove.error());
  for (const std::string& term : gone) {
    remove->Bind(1, term).Bind(2, id);
    if (remove->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "remove an identity's term"));
    remove->Reset();
  }
  if (members.empty()) {
    if (!known) return false;
    auto stmt = Prepare(writer_, "DELETE FROM identities WHERE id = ?1");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, id);
    if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "remove an identity"));
    return true;
  }
  auto insert = Prepare(writer_, "INSERT INTO identity_terms (term, identity_id, display_key) VALUES (?1, ?2, ?3)");
  if (!insert) return Fail(insert.error());
  for (const std::string& term : added) {
    insert->Bind(1, term).Bind(2, id).Bind(3, display_key);
    if (insert->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "write an identity's terms"));
    insert->Reset();
  }
  if (known && current.display_name == wanted.display_name && current.domain == wanted.domain && stored == terms)
    return false;
  auto stmt = Prepare(writer_,
                      "INSERT INTO identities (id, display_name, display_key, domain, terms) VALUES (?1, ?2, ?3, ?4, ?5) "
                      "ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, "
                      "display_key = excluded.display_key, domain = excluded.domain, terms = excluded.terms");
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(1, id).Bind(2, wanted.display_name).Bind(3, display_key).Bind(4, wanted.domain).Bind(5, JoinTerms(terms));
  if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "write an identity"));
  return true;
}

Status SqliteStore::WriteSyncRun(const SyncRun& run, bool listed) {
  auto stmt = Prepare(writer_,
                      "INSERT INTO inventory_syncs (provider, started_at, finished_at, accounts, error, listed_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?6 THEN ?2 ELSE 0 END) "
                      "ON CONFLICT (provider) DO UPDATE SET started_at = excluded.started_at, "
                      "finished_at = excluded.finished_at, accounts = excluded.accounts, error = excluded.error, "
                      "listed_at = CASE WHEN ?6 THEN excluded.started_at ELSE listed_at END");
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(1, ToString(run.provider))
      .Bind(2, ToUnixMillis(run.started_at))
      .Bind(3, ToUnixMillis(run.finished_at))
      .Bind(4, run.accounts)
      .Bind(5, run.error)
      .Bind(6, int64_t{listed ? 1 : 0});
  if (stmt->Step() != SQLITE_DONE) return Fail(SqlError(writer_, "record a sync"));
  return {};
}

Status SqliteStore::RecordSyncRun(const SyncRun& run) {
  if (auto s = CheckField("sync error", run.error); !s) return s;
  std::lock_guard lock(writer_.mu);
  Transaction tx(*this);
  if (auto s = tx.Begin(); !s) return s;
  if (auto s = WriteSyncRun(run, false); !s) return s;
  return tx.Commit();
}

Result<std::vector<SyncRun>> SqliteStore::ListSyncRuns() {
  std::lock_guard lock(reader_.mu);
  auto stmt = Prepare(reader_,
                      "SELECT provider, started_at, finished_at, accounts, error FROM inventory_syncs ORDER BY provider");
  if (!stmt) return Fail(stmt.error());
  std::vector<SyncRun> out;
  int rc;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
    const auto provider = ParseProvider(stmt->Text(0));
    if (!provider) return Fail(Error::Internal("a sync run has an unknown provider"));
    SyncRun run;
    run.provider = *provider;
    run.started_at = FromUnixMillis(stmt->Int(1));
    run.finished_at = FromUnixMillis(stmt->Int(2));
    run.accounts = stmt->Int(3);
    run.error = stmt->Text(4);
    out.push_back(std::move(run));
  }
  if (rc != SQLITE_DONE) return Fail(SqlError(reader_, "list syncs"));
  return out;
}

Result<InventoryCounts> SqliteStore::CountInventory() {
  std::lock_guard lock(reader_.mu);
  auto stmt = Prepare(reader_, "SELECT (SELECT COUNT(*) FROM identities), (SELECT COUNT(*) FROM inventory_accounts)");
  if (!stmt) return Fail(stmt.error());
  if (stmt->Step() != SQLITE_ROW) return Fail(SqlError(reader_, "count the inventory"));
  return InventoryCounts{stmt->Int(0), stmt->Int(1)};
}

}  // namespace cordon
