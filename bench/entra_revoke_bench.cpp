// Require 2,000 users to sign in again (revoke their sessions) against the
// lab's Graph emulator throttled to 50 requests per second — as Graph states
// its limits, a budget per 10-second window: 500 requests or batch items —
// Cordon sending the work through $batch, Cordon sending one request per
// user, and the floor the throttle allows (2,000 / 50 = 40 s).
//
//   bench/run.sh BUILD        (or: build/bench/entra_revoke_bench [LAB_DIR] [ROUNDS])
//
// The users: the lab's bulk0001 … bulk1000 (synced from its AD) and
// cloud0001 … cloud1000 (cloud-only). Cordon's own budget for Entra is set to
// the throttle (rate_limit = 50 per rate_window_seconds = 1), as an operator
// who knows the tenant's limit would; every other setting is the shipped
// default. Each run starts with clean counts (DELETE /lab/stats) and reports
// the time from the bulk request to its last action's end, the HTTP requests
// the emulator received (a $batch is one), the items they carried, and the
// 429s (answers and items). It measures; nothing here enforces a figure.
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/lab_info.h"
#include "support/okta_wire.h"
#include "support/test_server.h"

using namespace cordon;
using namespace cordon::testing;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kUsers = 2000;
constexpr int kPerSecond = 50;
constexpr double kFloorSeconds = static_cast<double>(kUsers) / kPerSecond;

std::string User(int i) {
  char name[64];
  if (i <= 1000) std::snprintf(name, sizeof name, "bulk%04d@corp.example.test", i);
  else std::snprintf(name, sizeof name, "cloud%04d@corp.example.test", i - 1000);
  return name;
}

struct Lab {
  std::string authority, graph_url, tenant, client_id, secret_file, ca_file;
  std::string token;

  void SignIn() {
    WireRequest r;
    r.method = "POST";
    r.url = authority + "/" + tenant + "/oauth2/v2.0/token";
    r.content_type = "application/x-www-form-urlencoded";
    r.body = "grant_type=client_credentials&client_id=" + FormEncode(client_id) +
             "&scope=" + FormEncode(graph_url + "/.default") +
             "&client_secret=" + FormEncode(ReadSecretFile(secret_file));
    token = Call(r, ca_file).Json().value("access_token", "");
  }
  json Send(const std::string& method, const std::string& path, const json& body = nullptr) const {
    WireRequest r;
    r.method = method;
    r.url = graph_url + path;
    r.authorization = "Bearer " + token;
    if (!body.is_null()) {
      r.body = body.dump();
      r.content_type = "application/json";
    }
    return Call(r, ca_file).Json();
  }
  std::string Section(bool batch) const {
    std::ostringstream s;
    s << "[connectors.entra]\ntenant = \"" << tenant << "\"\nclient_id = \"" << client_id
      << "\"\nclient_secret_file = \"" << secret_file << "\"\nauthority = \"" << authority << "\"\ngraph_url = \""
      << graph_url << "\"\nca_file = \"" << ca_file << "\"\nbatch = " << (batch ? "true" : "false")
      << "\nrate_limit = " << kPerSecond << "\nrate_window_seconds = 1\n";
    return s.str();
  }
};

struct Figures {
  double seconds = 0;
  int64_t http_requests = 0, batch_items = 0, throttled = 0;
  int succeeded = 0;
};

std::optional<Figures> RunCordon(Lab& lab, bool batch) {
  auto server_or = TestServer::Create({.connectors_toml = lab.Section(batch), .log_level = "info"});
  if (!server_or) {
    std::cerr << "bench: " << server_or.error().message << "\n";
    return std::nullopt;
  }
  TestServer& server = **server_or;
  if (!server.Token("global_administrator") || !server.Start()) {
    std::cerr << "bench: the server did not start: " << server.ServerOutput() << "\n";
    return std::nullopt;
  }
  auto client = server.Client("global_administrator");
  json accounts = json::array();
  for (int i = 1; i <= kUsers; ++i) accounts.push_back(User(i));
  lab.SignIn();
  lab.Send("POST", "/lab/settings",
           {{"throttle", {{"requests_per_second", kPerSecond}, {"window_seconds", 10}, {"retry_after", "integer"}}}});
  lab.Send("DELETE", "/lab/stats");
  const auto start = Clock::now();
  auto r = client->Post("/api/v1/actions/bulk", json{{"action", "revoke_sessions"},
                                                      {"provider", "entra"},
                                                      {"accounts", accounts},
                                                      {"reason", "entra revoke bench"}});
  if (!r || r->status != 202) {
    std::cerr << "bench: bulk submit failed\n";
    return std::nullopt;
  }
  const std::string bulk_id = r->body["bulkId"];
  while (BulkHasUnfinished(*client, bulk_id)) {
    if (Clock::now() - start > std::chrono::minutes(5)) {
      std::cerr << "bench: the bulk has not ended after 5 minutes\n";
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Figures f;
  f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const json& a : BulkActions(*client, bulk_id)) f.succeeded += StringAt(a, "status") == "succeeded" ? 1 : 0;
  lab.SignIn();
  const json stats = lab.Send("GET", "/lab/stats");
  f.http_requests = stats.value("http_requests", int64_t{0});
  f.batch_items = stats.value("batch_items", int64_t{0});
  f.throttled = stats.value("throttled", int64_t{0});
  lab.Send("POST", "/lab/settings", {{"throttle", {{"requests_per_second", 0}, {"retry_after", "integer"}}}});
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : CORDON_LAB_DIR;
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  const json j = json::parse(ReadFile(dir + "/lab.json"), nullptr, false);
  if (!j.is_object() || !j.contains("entra")) {
    std::cerr << "bench: no entra section in " << dir << "/lab.json (run `cordon lab up --dir " << dir << "`)\n";
    return 2;
  }
  const json& e = j["entra"];
  Lab lab{e.value("authority", ""), e.value("graph_url", ""), e.value("tenant", ""), e.value("client_id", ""),
          e.value("client_secret_file", ""), e.value("ca_file", "")};
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::printf("revoke sessions of %d users, Graph throttled to %d requests/s: floor %.1f s\n", kUsers, kPerSecond,
              kFloorSeconds);
  std::printf("%-22s %5s %9s %8s %13s %11s %6s %9s\n", "run", "round", "seconds", "x floor", "HTTP requests",
              "batch items", "429s", "succeeded");
  for (int round = 1; round <= rounds; ++round)
    for (const bool batch : {true, false}) {
      const auto f = RunCordon(lab, batch);
      if (!f) return 1;
      std::printf("%-22s %5d %9.2f %8.3f %13lld %11lld %6lld %9d\n", batch ? "cordon $batch" : "cordon one per user",
                  round, f->seconds, f->seconds / kFloorSeconds, static_cast<long long>(f->http_requests),
                  static_cast<long long>(f->batch_items), static_cast<long long>(f->throttled), f->succeeded);
      std::fflush(stdout);
    }
  return 0;
}
