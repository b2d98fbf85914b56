// Latency of a valid read while bad tokens flood the API.
//
//   build/bench/auth_flood_bench [REQUESTS] [FLOODERS]
//
// A real ApiServer (HTTPS, shipped options) over a real SqliteStore, in
// process. It times REQUESTS valid `GET /api/v1/actions/{id}` on one
// keep-alive connection, first alone, then while FLOODERS connections send
// requests with bad tokens as fast as they are answered (401, then 429 once
// the address is throttled), and prints p50/p99 of both, the flood's rate and
// the audit rows it left. The log is on at info, into a sink that drops it, so
// formatting costs count but no terminal does. It measures; nothing here
// enforces a figure.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "support/api_fixture.h"

using namespace cordon;
using namespace cordon::api::testing;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Latency {
  double p50_ms = 0;
  double p99_ms = 0;
  int failed = 0;
};

Latency Measure(TestClient& client, const std::string& path, const std::string& token, int requests) {
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(requests));
  Latency out;
  for (int i = 0; i < requests; ++i) {
    const auto start = SteadyClock::now();
    const HttpResult r = client.Get(path, token);
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
    if (r.status != 200) ++out.failed;
  }
  std::sort(ms.begin(), ms.end());
  out.p50_ms = ms[ms.size() / 2];
  out.p99_ms = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int requests = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int flooders = argc > 2 ? std::atoi(argv[2]) : 4;
  if (requests < 10 || flooders < 1) {
    std::fprintf(stderr, "usage: auth_flood_bench [REQUESTS >= 10] [FLOODERS >= 1]\n");
    return 2;
  }
  auto logger = std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);

  auto started = ApiFixture::Start();
  if (!started) {
    std::fprintf(stderr, "cannot start the API: %s\n", started.error().message.c_str());
    return 1;
  }
  ApiFixture& f = **started;
  const std::string token = f.Token(Role::kSecurityReader);
  NewAction existing;
  existing.target = "bench.user";
  existing.requested_by = "bench";
  existing.reason = "read during a flood";
  auto created = f.store().CreateActions(std::span(&existing, 1), Now());
  if (!created) {
    std::fprintf(stderr, "cannot create the action: %s\n", created.error().message.c_str());
    return 1;
  }
  const std::string path = "/api/v1/actions/" + created->front().id;

  TestClient reader = f.Client();
  (void)Measure(reader, path, token, 50);  // warm the connection, the caches and the pools
  const Latency quiet = Measure(reader, path, token, requests);

  std::atomic<bool> stop{false};
  std::atomic<int64_t> refused{0};
  std::atomic<int64_t> other{0};
  std::vector<std::thread> flood;
  for (int i = 0; i < flooders; ++i) {
    flood.emplace_back([&, i] {
      TestClient client = f.Client();
      const std::string bad = "cdn_bad-token-" + std::to_string(i);
      while (!stop) {
        const unsigned status = client.Get(path, bad).status;
        (status == 401 || status == 429 ? refused : other)++;
      }
    });
  }
  // Let the flood reach its pace (and the limiter start refusing) first.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int64_t refused_before = refused;
  const auto flood_start = SteadyClock::now();
  const Latency flooded = Measure(reader, path, token, requests);
  const double flood_seconds = std::chrono::duration<double>(SteadyClock::now() - flood_start).count();
  const int64_t refused_during = refused - refused_before;
  stop = true;
  for (auto& t : flood) t.join();
  (void)f.Flush();
  auto rows = f.store().ListAudit("auth.", 1000);

  std::printf("valid GET /api/v1/actions/{id}, %d requests on one keep-alive HTTPS connection\n", requests);
  std::printf("  without flood: p50 %.3f ms  p99 %.3f ms\n", quiet.p50_ms, quiet.p99_ms);
  std::printf("  during flood:  p50 %.3f ms  p99 %.3f ms  (%d connections with bad tokens, %.0f refusals/s)\n",
              flooded.p50_ms, flooded.p99_ms, flooders, refused_during / flood_seconds);
  std::printf("  ratio during/without: p50 %.2f  p99 %.2f\n", flooded.p50_ms / quiet.p50_ms,
              flooded.p99_ms / quiet.p99_ms);
  std::printf("  refusals in all: %lld; audit rows for them: %zu; reads that failed: %d; other flood answers: %lld\n",
              static_cast<long long>(refused.load()), rows ? rows->size() : size_t{0}, quiet.failed + flooded.failed,
              static_cast<long long>(other.load()));
  return quiet.failed + flooded.failed == 0 ? 0 : 1;
}
