#include "config/config.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace cordon {
namespace {

std::string Key(std::string_view section, std::string_view key) {
  return std::string(section) + "." + std::string(key);
}

Error KeyError(std::string_view source, const std::string& key, const std::string& what) {
  return Error::InvalidArgument(std::string(source) + ": " + key + ": " + what);
}

// Reads the keys of one [section], refusing unknown ones.
class SectionReader {
 public:
  SectionReader(const toml::table* table, std::string_view name, std::string_view source)
      : table_(table), name_(name), source_(source) {}

  Status CheckKnown(const std::set<std::string>& known) const {
    if (table_ == nullptr) return {};
    for (const auto& [k, v] : *table_) {
      if (!known.count(std::string(k.str())))
        return Fail(KeyError(source_, Key(name_, k.str()), "unknown key"));
    }
    return {};
  }

  Status String(std::string_view key, std::string& out) const {
    const toml::node* n = Find(key);
    if (n == nullptr) return {};
    auto v = n->value<std::string>();
    if (!n->is_string() || !v) return Fail(KeyError(source_, Key(name_, key), "must be a string"));
    out = *v;
    return {};
  }

  Status Bool(std::string_view key, bool& out) const {
    const toml::node* n = Find(key);
    if (n == nullptr) return {};
    if (!n->is_boolean()) return Fail(KeyError(source_, Key(name_, key), "must be true or false"));
    out = *n->value<bool>();
    return {};
  }

  template <typename Int>
  Status Integer(std::string_view key, Int& out, int64_t min, int64_t max) const {
    const toml::node* n = Find(key);
    if (n == nullptr) return {};
    if (!n->is_integer()) return Fail(KeyError(source_, Key(name_, key), "must be an integer"));
    const int64_t v = *n->value<int64_t>();
    if (v < min || v > max)
      return Fail(KeyError(source_, Key(name_, key),
                           "must be between " + std::to_string(min) + " and " + std::to_string(max)));
    out = static_cast<Int>(v);
    return {};
  }

 private:
  const toml::node* Find(std::string_view key) const { return table_ ? table_->get(key) : nullptr; }

  const toml::table* table_;
  std::string name_;
  std::string source_;
};

const toml::table* Section(const toml::table& root, std::string_view name, std::string_view source, Error* err) {
  const toml::node* n = root.get(name);
  if (n == nullptr) return nullptr;
  if (!n->is_table()) {
    *err = KeyError(source, std::string(name), "must be a table ([" + std::string(name) + "])");
    return nullptr;
  }
  return n->as_table();
}

#define CORDON_TRY(expr)                  \
  do {                                    \
    if (auto _s = (expr); !_s) return Fail(std::move(_s.error())); \
  } while (0)

Status ParseServer(const toml::table* t, std::string_view src, ServerConfig& c) {
  SectionReader r(t, "server", src);
  CORDON_TRY(r.CheckKnown({"address", "port", "tls_cert_file", "tls_key_file", "plain_http", "max_body_bytes",
                           "threads"}));
  CORDON_TRY(r.String("address", c.address));
  CORDON_TRY(r.Integer("port", c.port, 0, 65535));
  CORDON_TRY(r.String("tls_cert_file", c.tls_cert_file));
  CORDON_TRY(r.String("tls_key_file", c.tls_key_file));
  CORDON_TRY(r.Bool("plain_http", c.plain_http));
  CORDON_TRY(r.Integer("max_body_bytes", c.max_body_bytes, 1024, 64 << 20));
  CORDON_TRY(r.Integer("threads", c.threads, 1, 64));
  if (!c.plain_http && (c.tls_cert_file.empty() || c.tls_key_file.empty()))
    return Fail(KeyError(src, "server.tls_cert_file",
                         "HTTPS needs tls_cert_file and tls_key_file (plain_http = true is allowed only on loopback)"));
  return {};
}

Status ParseStore(const toml::table* t, std::string_view src, StoreConfig& c) {
  SectionReader r(t, "store", src);
  CORDON_TRY(r.CheckKnown({"backend", "path", "synchronous"}));
  CORDON_TRY(r.String("backend", c.backend));
  CORDON_TRY(r.String("path", c.path));
  CORDON_TRY(r.String("synchronous", c.synchronous));
  if (c.synchronous != "full" && c.synchronous != "normal")
    return Fail(KeyError(src, "store.synchronous", "must be \"full\" or \"normal\""));
  if (c.backend != "sqlite")
    return Fail(KeyError(src, "store.backend", "'" + c.backend + "' is not available (this build has: sqlite)"));
  if (c.path.empty()) return Fail(KeyError(src, "store.path", "must not be empty"));
  return {};
}

Status ParseEngine(const toml::table* t, std::string_view src, EngineConfig& c) {
  SectionReader r(t, "engine", src);
  CORDON_TRY(r.CheckKnown({"lease_seconds", "poll_interval_ms", "max_attempts", "backoff_initial_ms",
                           "backoff_max_ms", "action_budget_seconds"}));
  CORDON_TRY(r.Integer("lease_seconds", c.lease_seconds, 1, 3600));
  CORDON_TRY(r.Integer("poll_interval_ms", c.poll_interval_ms, 10, 60000));
  CORDON_TRY(r.Integer("max_attempts", c.max_attempts, 1, 100));
  CORDON_TRY(r.Integer("backoff_initial_ms", c.backoff_initial_ms, 1, 3600000));
  CORDON_TRY(r.Integer("backoff_max_ms", c.backoff_max_ms, 1, 86400000));
  CORDON_TRY(r.Integer("action_budget_seconds", c.action_budget_seconds, 10, 30 * 86400));
  if (c.backoff_max_ms < c.backoff_initial_ms)
    return Fail(KeyError(src, "engine.backoff_max_ms", "must not be smaller than engine.backoff_initial_ms"));
  return {};
}

Status ParseInventory(const toml::table* t, std::string_view src, InventoryConfig& c) {
  SectionReader r(t, "inventory", src);
  CORDON_TRY(r.CheckKnown({"sync_interval_seconds", "sync_timeout_seconds"}));
  CORDON_TRY(r.Integer("sync_interval_seconds", c.sync_interval_seconds, 0, 7 * 86400));
  CORDON_TRY(r.Integer("sync_timeout_seconds", c.sync_timeout_seconds, 60, 86400));
  // A sync every few seconds would only list the providers for ever and
  // spend the budget actions need.
  if (c.sync_interval_seconds != 0 && c.sync_interval_seconds < 60)
    return Fail(KeyError(src, "inventory.sync_interval_seconds", "must be 0 (on demand only) or at least 60"));
  return {};
}

Status ParseLog(const toml::table* t, std::string_view src, LogConfig& c) {
  SectionReader r(t, "log", src);
  CORDON_TRY(r.CheckKnown({"level", "format", "file"}));
  CORDON_TRY(r.String("level", c.level));
  CORDON_TRY(r.String("format", c.format));
  CORDON_TRY(r.String("file", c.file));
  static const std::set<std::string> kLevels{"trace", "debug", "info", "warn", "error"};
  if (!kLevels.count(c.level)) return Fail(KeyError(src, "log.level", "must be one of trace, debug, info, warn, error"));
  if (c.format != "json" && c.format != "text") return Fail(KeyError(src, "log.format", "must be json or text"));
  return {};
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, std::string_view source) {
  Config config;
  config.source = std::string(source);
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    return Fail(Error::InvalidArgument(os.str()));
  }

  static const std::set<std::string> kSections{"server", "store", "engine", "inventory", "log", "connectors"};
  for (const auto& [k, v] : root)
    if (!kSections.count(std::string(k.str())))
      return Fail(KeyError(source, std::string(k.str()), "unknown section"));

  Error err;
  bool bad = false;
  auto section = [&](std::string_view name) -> const toml::table* {
    Error e;
    const toml::table* t = Section(root, name, source, &e);
    if (!e.message.empty()) {
      err = e;
      bad = true;
    }
    return t;
  };
  const toml::table* server = section("server");
  const toml::table* store = section("store");
  const toml::table* engine = section("engine");
  const toml::table* inventory = section("inventory");
  const toml::table* log = section("log");
  const toml::table* connectors = section("connectors");
  if (bad) return Fail(err);

  CORDON_TRY(ParseServer(server, source, config.server));
  CORDON_TRY(ParseStore(store, source, config.store));
  CORDON_TRY(ParseEngine(engine, source, config.engine));
  CORDON_TRY(ParseInventory(inventory, source, config.inventory));
  CORDON_TRY(ParseLog(log, source, config.log));

  if (connectors != nullptr) {
    for (const auto& [k, v] : *connectors) {
      const std::string name(k.str());
      auto provider = ParseProvider(name);
      if (!provider) return Fail(KeyError(source, "connectors." + name, "unknown provider (known: ad, entra, okta)"));
      if (!v.is_table()) return Fail(KeyError(source, "connectors." + name, "must be a table"));
      config.connectors.emplace(*provider, *v.as_table());
    }
  }
  return config;
}

Result<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::InvalidArgument("cannot read config file " + path));
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (text.size() > (1 << 20)) return Fail(Error::InvalidArgument(path + ": config file larger than 1 MiB"));
  return ParseConfig(text, path);
}

std::string ConfigFolder(const Config& config) {
  if (config.source.empty()) return {};
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(config.source, ec);
  return (ec ? std::filesystem::path(config.source) : absolute).parent_path().lexically_normal().string();
}

std::string ResolvePath(const Config& config, const std::string& path) {
  if (path.empty() || path.front() == '/' || config.source.empty()) return path;
  return (std::filesystem::path(ConfigFolder(config)) / path).lexically_normal().string();
}

}  // namespace cordon
