#include "store/open_store.h"

#include "store/sqlite/sqlite_store.h"

namespace cordon {
namespace {

Result<std::unique_ptr<SqliteStore>> OpenSqlite(const Config& config) {
  if (config.store.backend != "sqlite")
    return Fail(Error::InvalidArgument("store.backend: '" + config.store.backend + "' is not available"));
  SqliteStoreOptions options;
  options.sync = config.store.synchronous == "normal" ? SqliteSync::kNormal : SqliteSync::kFull;
  auto store = SqliteStore::Open(ResolvePath(config, config.store.path), options);
  if (!store) return Fail(store.error());
  if (auto m = (*store)->Migrate(); !m) return Fail(m.error());
  return store;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenStore(const Config& config) {
  auto store = OpenSqlite(config);
  if (!store) return Fail(store.error());
  return std::unique_ptr<Store>(std::move(*store));
}

Result<Stores> OpenStores(const Config& config) {
  auto store = OpenSqlite(config);
  if (!store) return Fail(store.error());
  std::shared_ptr<SqliteStore> shared = std::move(*store);
  return Stores{shared, shared};
}

}  // namespace cordon
