// Store micro-benchmarks (SQLite): the paths a bulk request takes through the
// store, timed on the wall clock (a commit's fsync is time the caller waits,
// not CPU).
//   Submit<sync>/N: N actions submitted in one CreateActions transaction — a
//     single submit (1), a 1,000-user and a 10,000-user bulk request — under
//     synchronous=FULL (the default: every commit fsynced) and NORMAL.
//   ClaimAndFinish<sync>/B: a worker's loop, ClaimDue(B) then FinishAttempt
//     each (one commit per action), under both settings.
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "store/sqlite/sqlite_store.h"

namespace cordon {
namespace {

class ScratchStore {
 public:
  explicit ScratchStore(SqliteSync sync = SqliteStoreOptions{}.sync) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cordon-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir_ = tmpl;
    SqliteStoreOptions options;
    options.sync = sync;
    auto store = SqliteStore::Open((dir_ / "cordon.db").string(), options);
    if (!store || !(*store)->Migrate()) std::abort();
    store_ = std::move(*store);
  }
  ~ScratchStore() {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  SqliteStore& operator*() { return *store_; }
  SqliteStore* operator->() { return store_.get(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
};

std::vector<NewAction> Bulk(int n) {
  std::vector<NewAction> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    NewAction a;
    a.target = "bulk" + std::to_string(i);
    a.requested_by = "bench";
    a.reason = "benchmark";
    a.bulk_id = "bulk_bench";
    out.push_back(std::move(a));
  }
  return out;
}

template <SqliteSync kSync>
void BM_Submit(benchmark::State& state) {
  ScratchStore store(kSync);
  if (store->sync() != kSync) state.SkipWithError("the store did not take the synchronous setting");
  auto batch = Bulk(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto created = store->CreateActions(batch, Now());
    if (!created) state.SkipWithError(created.error().message.c_str());
    benchmark::DoNotOptimize(created);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK_TEMPLATE(BM_Submit, SqliteSync::kFull)->Arg(1)->Arg(1000)->Arg(10000)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Submit, SqliteSync::kNormal)->Arg(1)->Arg(1000)->Arg(10000)->UseRealTime()->Unit(benchmark::kMillisecond);

template <SqliteSync kSync>
void BM_ClaimAndFinish(benchmark::State& state) {
  ScratchStore store(kSync);
  const int batch = static_cast<int>(state.range(0));
  int64_t done = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto work = Bulk(batch);
    if (!store->CreateActions(work, Now())) state.SkipWithError("create failed");
    state.ResumeTiming();
    auto claimed = store->ClaimDue(Provider::kActiveDirectory, "bench-worker", batch, Now(), Millis(30000));
    if (!claimed) {
      state.SkipWithError(claimed.error().message.c_str());
      break;
    }
    for (const Action& a : *claimed) {
      AttemptReport r;
      r.action_id = a.id;
      r.worker = "bench-worker";
      r.outcome = AttemptOutcome::kSucceeded;
      r.started_at = r.finished_at = Now();
      r.message = "disabled";
      r.provider_answer = {"ldap:0", "Success"};
      if (!store->FinishAttempt(r)) state.SkipWithError("finish failed");
      ++done;
    }
  }
  state.SetItemsProcessed(done);
}
BENCHMARK_TEMPLATE(BM_ClaimAndFinish, SqliteSync::kFull)->Arg(1)->Arg(50)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_ClaimAndFinish, SqliteSync::kNormal)->Arg(1)->Arg(50)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cordon
