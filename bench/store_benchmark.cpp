// Store micro-benchmarks (SQLite): the two paths a 1,000-user bulk request
// takes through the store.
//   CreateActions/1000: one bulk request, one transaction (target: < 50 ms).
//   ClaimAndFinish: a worker's loop, ClaimDue(batch) then FinishAttempt each.
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "store/sqlite/sqlite_store.h"

namespace cordon {
namespace {

class ScratchStore {
 public:
  ScratchStore() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cordon-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir_ = tmpl;
    auto store = SqliteStore::Open((dir_ / "cordon.db").string());
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

void BM_CreateActions(benchmark::State& state) {
  ScratchStore store;
  auto batch = Bulk(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto created = store->CreateActions(batch, Now());
    if (!created) state.SkipWithError(created.error().message.c_str());
    benchmark::DoNotOptimize(created);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_CreateActions)->Arg(1)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_ClaimAndFinish(benchmark::State& state) {
  ScratchStore store;
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
BENCHMARK(BM_ClaimAndFinish)->Arg(1)->Arg(50)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cordon
