// Bulk suspend of the lab's 1,000 bulk users against the lab's Okta emulator
// with its lifecycle limit (users.manage) at 200 requests per 5 s window:
// Cordon at rate_share 1.0, the official Okta Node.js SDK, the floor the
// limit allows, and Cordon at rate_share 0.5.
//
//   bench/run.sh BUILD        (or: build/bench/okta_suspend_bench [LAB_DIR] [ROUNDS])
//
// users.read is raised to 10,000 per 5 s: Cordon reads each user before it
// changes it (to record what the undo restores) and the SDK does not, so the
// read limit would otherwise measure that difference, not how each spends the
// lifecycle limit. Each run starts just after a window opens, with every bulk
// user ACTIVE and the emulator's counts cleared (GET/DELETE /lab/stats). The
// floor: 1,000 suspends need five windows, the fifth opens 20 s after the
// first (19.98 s after the run's start), plus the time the lab takes to answer
// 200 suspends (measured here with 8 keep-alive connections). It measures; nothing here enforces a figure.
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/subprocess.h"
#include "support/test_server.h"

using namespace cordon;
using namespace cordon::testing;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kUsers = 1000;
constexpr int kLimit = 200;
constexpr int kWindowSeconds = 5;

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string Login(int i) {
  char name[64];
  std::snprintf(name, sizeof name, "bulk%04d@corp.example.test", i);
  return name;
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One keep-alive connection to the emulator, SSWS.
class Okta {
 public:
  Okta(std::string url, std::string ca, std::string token)
      : url_(std::move(url)), ca_(std::move(ca)), auth_("Authorization: SSWS " + token), curl_(curl_easy_init()) {}
  ~Okta() { curl_easy_cleanup(curl_); }
  long Call(const std::string& method, const std::string& path, const std::string& body, std::string* answer) {
    std::string out;
    curl_slist* headers = curl_slist_append(nullptr, auth_.c_str());
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl_, CURLOPT_URL, (url_ + path).c_str());
    curl_easy_setopt(curl_, CURLOPT_CAINFO, ca_.c_str());
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, method == "GET" || method == "DELETE" ? nullptr : body.c_str());
    if (method == "GET") curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &out);
    long status = 0;
    if (curl_easy_perform(curl_) == CURLE_OK) curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    if (answer) *answer = std::move(out);
    return status;
  }

 private:
  std::string url_, ca_, auth_;
  CURL* curl_;
};

struct Lab {
  std::string url, ca, token_file, client_id, key_file, token;
  Okta Client() const { return Okta(url, ca, token); }
  json Lab_(const std::string& method, const std::string& path, const json& body = json::object()) const {
    Okta c = Client();
    std::string answer;
    c.Call(method, path, body.dump(), &answer);
    return json::parse(answer, nullptr, false);
  }
  void SetManageLimit(int limit) const {
    Lab_("POST", "/lab/settings",
         {{"rate_limits", {{"users.manage", {{"limit", limit}, {"window_seconds", kWindowSeconds}}},
                           {"users.read", {{"limit", 10000}, {"window_seconds", kWindowSeconds}}}}}});
  }
  // `users` lifecycle requests over 8 keep-alive connections; seconds taken.
  double Lifecycle(const std::string& what, int users) const {
    std::atomic<int> next{1};
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&] {
        Okta c = Client();
        for (int i; (i = next++) <= users;) c.Call("POST", "/api/v1/users/" + Login(i) + "/lifecycle/" + what, "", nullptr);
      });
    for (auto& t : threads) t.join();
    return std::chrono::duration<double>(Clock::now() - start).count();
  }
  // Every bulk user ACTIVE again, then the bench's limits and clean counts.
  void Reset() const {
    SetManageLimit(100000);
    Lifecycle("unsuspend", kUsers);
    SetManageLimit(kLimit);
    Lab_("DELETE", "/lab/stats");
  }
};

// Runs start this long after a window of the emulator's (epoch-aligned) opens.
constexpr std::chrono::milliseconds kAfterOpening{20};

// When the next run starts (epoch ms): just after a window opens, at least
// two seconds ahead so that a client has started by then.
int64_t NextStartMs() {
  using std::chrono::milliseconds;
  const auto now = std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  const milliseconds window = std::chrono::seconds(kWindowSeconds);
  auto start = now - now % window + window + kAfterOpening;
  while (start - now < std::chrono::seconds(2)) start += window;
  return start.count();
}

void SleepUntilMs(int64_t epoch_ms) {
  std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::milliseconds(epoch_ms)));
}

struct Figures {
  double seconds = 0;
  int64_t rate_limited = 0;
  int64_t max_in_window = 0;
  std::string windows;  // lifecycle requests admitted in each window, in order
};

Figures Counted(const Lab& lab, double seconds) {
  const json stats = lab.Lab_("GET", "/lab/stats");
  Figures f{seconds};
  const json manage = stats["families"].value("users.manage", json::object());
  f.rate_limited = manage.value("rate_limited", int64_t{0});
  f.max_in_window = manage.value("max_admitted_in_a_window", int64_t{0});
  for (const json& w : manage.value("windows", json::array()))
    f.windows += (f.windows.empty() ? "" : " ") + std::to_string(w.value("admitted", 0));
  if (const json read = stats["families"].value("users.read", json::object()); !read.empty())
    f.rate_limited += read.value("rate_limited", int64_t{0});
  return f;
}

std::optional<Figures> RunCordon(const Lab& lab, double share) {
  std::ostringstream section;
  section << "[connectors.okta]\norg_url = \"" << lab.url << "\"\nca_file = \"" << lab.ca
          << "\"\nauth_mode = \"private_key_jwt\"\nclient_id = \"" << lab.client_id << "\"\nprivate_key_file = \""
          << lab.key_file << "\"\nrate_share = " << share << "\n";
  auto server_or = TestServer::Create({.connectors_toml = section.str(), .log_level = "info"});
  if (!server_or) {
    std::cerr << "bench: " << server_or.error().message << "\n";
    return std::nullopt;
  }
  TestServer& server = **server_or;
  if (!server.Token("security_operator") || !server.Start()) {
    std::cerr << "bench: the server did not start: " << server.ServerOutput() << "\n";
    return std::nullopt;
  }
  auto client = server.Client("security_operator");
  json accounts = json::array();
  for (int i = 1; i <= kUsers; ++i) accounts.push_back(Login(i));
  lab.Reset();
  SleepUntilMs(NextStartMs());
  const auto start = Clock::now();
  auto r = client->Post("/api/v1/actions/bulk", json{{"action", "suspend"},
                                                      {"provider", "okta"},
                                                      {"accounts", accounts},
                                                      {"reason", "okta suspend bench"}});
  if (!r || r->status != 202) {
    std::cerr << "bench: bulk submit failed\n";
    return std::nullopt;
  }
  const std::string bulk_id = r->body["bulkId"];
  while (BulkHasUnfinished(*client, bulk_id)) {
    if (Clock::now() - start > std::chrono::minutes(3)) {
      std::cerr << "bench: the bulk has not ended after 3 minutes; the server said:\n"
                << server.ServerOutput().substr(0, 4000) << "\n";
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  auto ok = client->Get("/api/v1/actions?limit=1000&status=succeeded&bulkId=" + bulk_id);
  const int succeeded = ok && ok->status == 200 ? static_cast<int>(ok->body["value"].size()) : -1;
  (void)server.Stop();
  if (succeeded != kUsers) {
    std::cerr << "bench: only " << succeeded << " of " << kUsers << " suspends succeeded\n";
    return std::nullopt;
  }
  return Counted(lab, seconds);
}

std::optional<Figures> RunSdk(const Lab& lab, const std::string& sdk_dir, int concurrency) {
  lab.Reset();
  // The script loads the SDK first and starts its clock at START_AT_MS, as Cordon's run does.
  auto r = RunProgram({.argv = {"node", sdk_dir + "/suspend.js"},
                       .env = {{"START_AT_MS", std::to_string(NextStartMs())},
                               {"ORG_URL", lab.url},
                               {"TOKEN_FILE", lab.token_file},
                               {"USERS", std::to_string(kUsers)},
                               {"CONCURRENCY", std::to_string(concurrency)},
                               {"NODE_EXTRA_CA_CERTS", lab.ca},
                               {"PATH", std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"}},
                       .timeout = std::chrono::minutes(10)});
  if (!r || !r->ok()) {
    std::cerr << "bench: the SDK run failed: " << (r ? r->Describe() + " " + r->err.substr(0, 500) : r.error().message)
              << "\n";
    return std::nullopt;
  }
  const json out = json::parse(r->out.substr(r->out.rfind('{')), nullptr, false);
  if (!out.is_object() || out.value("suspended", 0) != kUsers) {
    std::cerr << "bench: the SDK suspended " << r->out << "\n";
    return std::nullopt;
  }
  return Counted(lab, out.value("seconds", 0.0));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string lab_dir = argc > 1 ? argv[1] : CORDON_LAB_DIR;
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  const std::string sdk_dir = std::getenv("OKTA_SDK_DIR") ? std::getenv("OKTA_SDK_DIR") : CORDON_SOURCE_DIR "/bench/okta-sdk";
  const int sdk_concurrency = std::getenv("SDK_CONCURRENCY") ? std::atoi(std::getenv("SDK_CONCURRENCY")) : 10;
  std::ifstream in(lab_dir + "/lab.json");
  const json doc = json::parse(in, nullptr, false);
  if (!doc.is_object() || !doc.contains("okta")) {
    std::cerr << "bench: the lab is not up with its Okta emulator; run `cordon lab up --dir " << lab_dir << "`\n";
    return 1;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const json& o = doc["okta"];
  Lab lab{o["url"], o["ca_file"], o["token_file"], o["client_id"], o["private_key_file"], ""};
  lab.token = ReadFirstLine(lab.token_file);

  std::printf("bulk suspend of %d Okta users, users.manage at %d per %d s\n", kUsers, kLimit, kWindowSeconds);
  std::printf("%-28s %9s %7s %6s %14s   %s\n", "run", "seconds", "÷floor", "429s", "max in window",
              "[lifecycle requests admitted per window]");
  for (int round = 1; round <= rounds; ++round) {
    // The floor's tail: the lab answering 200 suspends with nobody waiting.
    lab.SetManageLimit(100000);
    lab.Lifecycle("unsuspend", kLimit);
    const double tail = lab.Lifecycle("suspend", kLimit);
    const double floor = 4.0 * kWindowSeconds - std::chrono::duration<double>(kAfterOpening).count() + tail;
    auto line = [&](const char* name, const std::optional<Figures>& f) {
      if (!f) {
        std::printf("%-28s failed\n", name);
        return;
      }
      std::printf("%-28s %9.3f %7.3f %6lld %14lld   [%s]\n", name, f->seconds, f->seconds / floor,
                  static_cast<long long>(f->rate_limited), static_cast<long long>(f->max_in_window),
                  f->windows.c_str());
    };
    std::printf("round %d\n", round);
    line("cordon, rate_share 1.0", RunCordon(lab, 1.0));
    char sdk_name[64];
    std::snprintf(sdk_name, sizeof sdk_name, "okta-sdk-nodejs, pool of %d", sdk_concurrency);
    line(sdk_name, RunSdk(lab, sdk_dir, sdk_concurrency));
    std::printf("%-28s %9.3f %7.3f %6d %14d\n", "floor (20 s + 200 suspends)", floor, 1.0, 0, kLimit);
    line("cordon, rate_share 0.5", RunCordon(lab, 0.5));
    std::fflush(stdout);
  }
  lab.Reset();
  return 0;
}
