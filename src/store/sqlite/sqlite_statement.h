// Private to src/store/sqlite: what both halves of SqliteStore — the action
// center (sqlite_store.cpp) and the identity inventory
// (sqlite_inventory.cpp) — use to talk to SQLite: cached prepared
// statements, write transactions, field limits and cursor encoding.
//
// Thread-safety: a Stmt and a Transaction belong to the thread holding their
// connection's mutex.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <sqlite3.h>

#include "store/sqlite/sqlite_store.h"

namespace cordon {
namespace sqlite {

// Far above anything the ActionService or the inventory lets through; the
// store still refuses absurd rows so that no caller can bloat the database
// by mistake.
inline constexpr size_t kMaxFieldLen = 64 * 1024;
inline constexpr int kMaxPageLimit = 1000;
// The writer's page cache: "PRAGMA cache_size" as it sets it (negative: KiB).
// 8 MiB: the index pages a bulk insert touches stay in memory, and an idle
// server stays small; a large inventory write gets 64 MiB while it runs.
inline constexpr const char* kWriterCache = "PRAGMA cache_size=-8192";
inline constexpr const char* kLargeWriteCache = "PRAGMA cache_size=-65536";

inline constexpr std::string_view kHex = "0123456789abcdef";

inline std::string HexEncode(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 2);
  for (unsigned char c : in) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

inline std::optional<std::string> HexDecode(std::string_view in) {
  if (in.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size() / 2);
  for (size_t i = 0; i < in.size(); i += 2) {
    int hi = nibble(in[i]);
    int lo = nibble(in[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

inline Status CheckField(std::string_view name, std::string_view value) {
  if (value.size() > kMaxFieldLen) return Fail(Error::InvalidArgument(std::string(name) + " is too long"));
  return {};
}

}  // namespace sqlite

// A cached prepared statement, reset and unbound when it goes out of scope so
// that the next user finds it clean.
class SqliteStore::Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  Stmt(Stmt&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  ~Stmt() {
    if (s_ == nullptr) return;
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Empty strings are stored as NULL (for columns that reference other rows).
  Stmt& BindOrNull(int i, std::string_view v) {
    if (v.empty()) {
      sqlite3_bind_null(s_, i);
      return *this;
    }
    return Bind(i, v);
  }

  // Makes the statement ready for another round of binds in the same scope.
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int Step() { return sqlite3_step(s_); }
  [[nodiscard]] int Columns() const { return sqlite3_column_count(s_); }

  [[nodiscard]] int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  [[nodiscard]] bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  [[nodiscard]] std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    if (p == nullptr) return {};
    return std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col)));
  }
  // The column's text without a copy, valid until the next Step or Reset.
  [[nodiscard]] std::string_view TextView(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    if (p == nullptr) return {};
    return {p, static_cast<size_t>(sqlite3_column_bytes(s_, col))};
  }

 private:
  sqlite3_stmt* s_;
};

// BEGIN IMMEDIATE takes the write lock up front: a transaction that reads then
// writes can never fail half-way with SQLITE_BUSY on the upgrade.
class SqliteStore::Transaction {
 public:
  explicit Transaction(SqliteStore& store) : store_(store) {}
  ~Transaction() {
    if (open_ && !committed_) sqlite3_exec(store_.writer_.db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  [[nodiscard]] Status Begin() {
    if (auto s = store_.Exec("BEGIN IMMEDIATE"); !s) return s;
    open_ = true;
    return {};
  }
  [[nodiscard]] Status Commit() {
    if (auto s = store_.Exec("COMMIT"); !s) return s;
    committed_ = true;
    return {};
  }

 private:
  SqliteStore& store_;
  bool open_ = false;
  bool committed_ = false;
};

}  // namespace cordon
