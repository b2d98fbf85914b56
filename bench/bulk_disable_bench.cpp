// Bulk disable of 1,000 lab users through Cordon's API versus `ldapmodify -f`
// of the same 1,000 changes, on the same DC, in the same run.
//
//   make bench            (or: build/bench/bulk_disable_bench [LAB_DIR] [ROUNDS])
//
// Each round: reset the users (as Administrator), time `ldapmodify -f` as the
// delegated action account over LDAPS, reset again, time Cordon from the bulk
// POST until every action has ended. Reports the median of each, their ratio,
// and the server's resident memory when idle and its peak during the run.
// It measures; nothing here enforces a figure.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/ad_probe.h"
#include "support/lab_info.h"
#include "support/test_server.h"

using namespace cordon;
using namespace cordon::testing;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kUsers = 1000;

long ProcStatusKb(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field) + 1));
  return -1;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool LdapModify(const LabInfo& lab, const LabAccount& as, const std::string& ldif, double* seconds) {
  const auto start = Clock::now();
  auto r = RunProgram({.argv = {"ldapmodify", "-x", "-H", lab.ldaps_url, "-D", as.bind_dn, "-y", as.password_file, "-f", ldif},
                .env = {{"LDAPTLS_CACERT", lab.ca_file}, {"LDAPTLS_REQCERT", "demand"}},
                .timeout = std::chrono::minutes(5)});
  if (seconds) *seconds = Seconds(Clock::now() - start);
  if (!r || !r->ok()) {
    std::cerr << "ldapmodify failed: " << (r ? r->Describe() + " " + r->err.substr(0, 500) : r.error().message)
              << "\n";
    return false;
  }
  return true;
}

int CountSucceeded(cli::ApiClient& client, const std::string& bulk_id) {
  auto r = client.Get("/api/v1/actions?limit=1000&status=succeeded&bulkId=" + bulk_id);
  return r && r->status == 200 ? static_cast<int>(r->body["value"].size()) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string lab_dir = argc > 1 ? argv[1] : CORDON_LAB_DIR;
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  auto lab_or = LoadLabInfo(lab_dir + "/lab.json");
  if (!lab_or) {
    std::cerr << "bench: the lab is not up (" << lab_or.error().message << "); run `cordon lab up --dir " << lab_dir
              << "`\n";
    return 1;
  }
  const LabInfo& lab = *lab_or;
  auto probe = AdProbe::ConnectAsAdmin(lab);
  if (!probe) {
    std::cerr << "bench: " << probe.error().message << "\n";
    return 1;
  }

  // The same 1,000 changes for both: userAccountControl 512 -> 514 on each bulk user.
  std::vector<std::string> dns;
  json accounts = json::array();
  for (int i = 1; i <= kUsers; ++i) {
    auto u = probe->ReadUser(lab.BulkUser(i));
    if (!u) {
      std::cerr << "bench: " << u.error().message << "\n";
      return 1;
    }
    dns.push_back(u->dn);
    accounts.push_back(lab.BulkUser(i));
  }
  // BENCH_AD_KEYS adds keys to [connectors.ad], e.g. "workers = 1\nbatch_size = 100\n".
  const char* ad_keys = std::getenv("BENCH_AD_KEYS");
  // BENCH_STORE_KEYS adds keys to [store], e.g. "synchronous = \"normal\"\n".
  const char* store_keys = std::getenv("BENCH_STORE_KEYS");
  auto server_or = TestServer::Create({.connectors_toml = LabAdSection(lab, ad_keys ? ad_keys : ""),
                                       .store_toml = store_keys ? store_keys : "",
                                       .log_level = "info"});
  if (!server_or) {
    std::cerr << "bench: " << server_or.error().message << "\n";
    return 1;
  }
  TestServer& server = **server_or;
  auto write_ldif = [&](const std::string& path, int uac) {
    std::ofstream out(path);
    for (const auto& dn : dns)
      out << "dn: " << dn << "\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: " << uac
          << "\n-\n\n";
  };
  const std::string disable_ldif = server.dir() + "/disable.ldif", enable_ldif = server.dir() + "/enable.ldif";
  write_ldif(disable_ldif, 514);
  write_ldif(enable_ldif, 512);

  if (!server.Token("security_operator") || !server.Start()) {
    std::cerr << "bench: the server did not start: " << server.ServerOutput() << "\n";
    return 1;
  }
  auto client = server.Client("security_operator");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const pid_t pid = server.pid();
  const long idle_rss_kb = ProcStatusKb(pid, "VmRSS:");

  std::vector<double> ldapmodify_s, cordon_s, ratios;
  for (int round = 1; round <= rounds; ++round) {
    double t = 0;
    if (!LdapModify(lab, lab.admin, enable_ldif, nullptr)) return 1;
    if (!LdapModify(lab, lab.action_account, disable_ldif, &t)) return 1;
    ldapmodify_s.push_back(t);
    if (!LdapModify(lab, lab.admin, enable_ldif, nullptr)) return 1;

    const auto start = Clock::now();
    auto r = client->Post("/api/v1/actions/bulk", json{{"action", "disable"},
                                                        {"provider", "ad"},
                                                        {"accounts", accounts},
                                                        {"reason", "bench round " + std::to_string(round)}});
    if (!r || r->status != 202) {
      std::cerr << "bench: bulk submit failed\n";
      return 1;
    }
    const std::string bulk_id = r->body["bulkId"];
    while (BulkHasUnfinished(*client, bulk_id)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const double cordon = Seconds(Clock::now() - start);
    const int ok = CountSucceeded(*client, bulk_id);
    if (ok != kUsers) {
      std::cerr << "bench: only " << ok << " of " << kUsers << " actions succeeded\n";
      return 1;
    }
    cordon_s.push_back(cordon);
    ratios.push_back(cordon / t);
    std::printf("round %d: ldapmodify -f %.3f s, cordon %.3f s, ratio %.2f\n", round, t, cordon, cordon / t);
  }
  const long peak_rss_kb = ProcStatusKb(pid, "VmHWM:");
  (void)LdapModify(lab, lab.admin, enable_ldif, nullptr);

  const double lm = Median(ldapmodify_s), co = Median(cordon_s);
  std::printf("\nbulk disable of %d users on the lab DC (median of %d rounds)\n", kUsers, rounds);
  std::printf("  ldapmodify -f (one connection, as the action account, ldaps): %.3f s\n", lm);
  std::printf("  cordon (POST /api/v1/actions/bulk until all ended):          %.3f s\n", co);
  std::printf("  ratio of the medians: %.2f; median of the per-round ratios: %.2f  (target <= 1.10)\n", co / lm,
              Median(ratios));
  std::printf("  server resident memory: idle %.1f MB (target < 30), peak %.1f MB (target < 100)\n",
              idle_rss_kb / 1024.0, peak_rss_kb / 1024.0);
  (void)server.Stop();
  return 0;
}
