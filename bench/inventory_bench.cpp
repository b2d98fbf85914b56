// The identity inventory at 100,000 people.
//
//   build/bench/inventory_bench [IDENTITIES] [SAMPLES]
//
// Generates IDENTITIES people (100,000 by default), each with an Active
// Directory, an Entra ID and an Okta account (realistic names, so names
// repeat and UPNs are numbered), served by fake connectors that list them
// in pages of 200. A real ApiServer (HTTPS, shipped options) over a real
// SqliteStore runs the real Inventory: its first sync of the three
// providers is timed (listings in parallel, correlations and writes one at
// a time), then a second sync of each provider that changes nothing (the
// steady state), and a refresh of one account after an action. Then, over
// SAMPLES samples each (2,000 by default), with 20,000 actions in the
// action center: a prefix search in the store (a random 1 to 4 character
// prefix of a name word, a UPN or a SID), the same through
// GET /api/v1/identities?q=, and a user page load (GET /api/v1/identities/{id})
// on one keep-alive HTTPS connection, as the console does. Prints p50, p95
// and p99 of each, the time of each sync and the process's peak memory. It
// measures; nothing here enforces a figure.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "inventory/correlate.h"
#include "inventory/search_terms.h"
#include "support/api_fixture.h"

using namespace cordon;
using namespace cordon::api::testing;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr const char* kFirstNames[] = {
    "James",   "Mary",    "Robert",  "Patricia", "John",    "Jennifer", "Michael", "Linda",   "David",   "Elizabeth",
    "William", "Barbara", "Richard", "Susan",    "Joseph",  "Jessica",  "Thomas",  "Sarah",   "Charles", "Karen",
    "Chris",   "Lisa",    "Daniel",  "Nancy",    "Matthew", "Betty",    "Anthony", "Sandra",  "Mark",    "Margaret",
    "Donald",  "Ashley",  "Steven",  "Kimberly", "Andrew",  "Emily",    "Paul",    "Donna",   "Joshua",  "Michelle",
    "Kenneth", "Carol",   "Kevin",   "Amanda",   "Brian",   "Melissa",  "George",  "Deborah", "Timothy", "Stephanie",
    "Ronald",  "Dorothy", "Jason",   "Rebecca",  "Edward",  "Sharon",   "Jeffrey", "Laura",   "Ryan",    "Cynthia",
    "Jacob",   "Amy",     "Gary",    "Kathleen", "Nicholas", "Angela",  "Eric",    "Shirley", "Jonathan", "Brenda",
    "Stephen", "Emma",    "Larry",   "Anna",     "Justin",  "Pamela",   "Scott",   "Nicole",  "Brandon", "Samantha",
    "Benjamin", "Katherine", "Samuel", "Christine", "Gregory", "Helen", "Alexander", "Debra", "Patrick", "Rachel",
    "Frank",   "Carolyn", "Raymond", "Janet",    "Jack",    "Maria",    "Dennis",  "Olivia",  "Jerry",   "Heather",
    "Ahmed",   "Fatima",  "Wei",     "Mei",      "Hiroshi", "Yuki",     "Raj",     "Priya",   "Olga",    "Ivan",
    "Zoë",     "José",    "François", "Søren",   "Björn",   "Ana",      "Luis",    "Chloé",   "Lars",    "Ingrid"};
constexpr const char* kLastNames[] = {
    "Smith",    "Johnson",  "Williams", "Brown",    "Jones",     "Garcia",    "Miller",    "Davis",     "Rodriguez",
    "Martinez", "Hernandez", "Lopez",   "Gonzalez", "Wilson",    "Anderson",  "Thomas",    "Taylor",    "Moore",
    "Jackson",  "Martin",   "Lee",      "Perez",    "Thompson",  "White",     "Harris",    "Sanchez",   "Clark",
    "Ramirez",  "Lewis",    "Robinson", "Walker",   "Young",     "Allen",     "King",      "Wright",    "Scott",
    "Torres",   "Nguyen",   "Hill",     "Flores",   "Green",     "Adams",     "Nelson",    "Baker",     "Hall",
    "Rivera",   "Campbell", "Mitchell", "Carter",   "Roberts",   "Gomez",     "Phillips",  "Evans",     "Turner",
    "Diaz",     "Parker",   "Cruz",     "Edwards",  "Collins",   "Reyes",     "Stewart",   "Morris",    "Morales",
    "Murphy",   "Cook",     "Rogers",   "Gutierrez", "Ortiz",    "Morgan",    "Cooper",    "Peterson",  "Bailey",
    "Reed",     "Kelly",    "Howard",   "Ramos",    "Kim",       "Cox",       "Ward",      "Richardson", "Watson",
    "Brooks",   "Chavez",   "Wood",     "James",    "Bennett",   "Gray",      "Mendoza",   "Ruiz",      "Hughes",
    "Price",    "Alvarez",  "Castillo", "Sanders",  "Patel",     "Myers",     "Long",      "Ross",      "Foster",
    "Jimenez",  "Powell",   "Jenkins",  "Perry",    "Russell",   "Sullivan",  "Bell",      "Coleman",   "Butler",
    "Henderson", "Barnes",  "Gonzales", "Fisher",   "Vasquez",   "Simmons",   "Romero",    "Jordan",    "Patterson",
    "Alexander", "Hamilton", "Graham",  "Reynolds", "Griffin",   "Wallace",   "Moreno",    "West",      "Cole",
    "Hayes",    "Bryant",   "Herrera",  "Gibson",   "Ellis",     "Tran",      "Medina",    "Aguilar",   "Stevens",
    "Murray",   "Ford",     "Castro",   "Marshall", "Owens",     "Harrison",  "Fernandez", "McDonald",  "Woods",
    "Washington", "Kennedy", "Wells",   "Vargas",   "Henry",     "Chen",      "Freeman",   "Webb",      "Tucker",
    "O'Brien",  "Müller",   "Schmidt",  "Tanaka",   "Suzuki",    "Wang",      "Li",        "Zhang",     "Singh",
    "Kowalski", "Novak",    "Larsen",   "Johansson", "Dubois",   "Lefèvre",   "Rossi",     "Bianchi",   "Svensson"};

// ASCII for logins: what is not a letter or digit is dropped.
std::string LoginPart(std::string_view name) {
  std::string out;
  for (char c : name) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out += c;
    if (c >= 'A' && c <= 'Z') out += static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

struct Generated {
  std::map<Provider, std::vector<AccountView>> accounts;
  std::map<Provider, std::unordered_map<std::string, size_t>> by_id;
  std::vector<std::string> anchors;        // each person's AD objectGUID
  std::vector<std::string> search_words;   // name words, UPNs and SIDs to take prefixes of
};

Generated Generate(int people, std::mt19937& rng) {
  Generated g;
  std::map<std::string, int> taken;
  const size_t first_count = std::size(kFirstNames), last_count = std::size(kLastNames);
  std::uniform_int_distribution<size_t> first_of(0, first_count - 1), last_of(0, last_count - 1);
  for (auto p : kAllProviders) g.accounts[p].reserve(static_cast<size_t>(people));
  for (int i = 0; i < people; ++i) {
    const std::string first = kFirstNames[first_of(rng)];
    const std::string last = kLastNames[last_of(rng)];
    const std::string base = LoginPart(first) + "." + LoginPart(last);
    const int n = taken[base]++;
    const std::string upn = base + (n > 0 ? std::to_string(n) : "") + "@corp.example.com";
    std::string sam = (LoginPart(first).substr(0, 1) + LoginPart(last)).substr(0, 16) + (n > 0 ? std::to_string(n) : "");
    const std::string name = first + " " + last;
    const std::string sid = "S-1-5-21-3623811015-3361044348-30300820-" + std::to_string(1100 + i);
    char guid[40];
    std::snprintf(guid, sizeof guid, "%08x-%04x-4%03x-8%03x-%012x", static_cast<unsigned>(rng()), i & 0xffff,
                  static_cast<unsigned>(rng()) & 0xfff, static_cast<unsigned>(rng()) & 0xfff, i);
    char object[40];
    std::snprintf(object, sizeof object, "%08x-%04x-4%03x-9%03x-%012x", static_cast<unsigned>(rng()),
                  static_cast<unsigned>(rng()) & 0xffff, static_cast<unsigned>(rng()) & 0xfff,
                  static_cast<unsigned>(rng()) & 0xfff, i);
    char okta[24];
    std::snprintf(okta, sizeof okta, "00u%08x%06x", static_cast<unsigned>(rng()), i);

    AccountView ad;
    ad.provider = Provider::kActiveDirectory;
    ad.id = guid;
    ad.login = sam;
    ad.display_name = name;
    ad.upn = upn;
    ad.sid = sid;
    ad.mail = upn;
    ad.status = i % 50 == 0 ? AccountStatus::kDisabled : AccountStatus::kEnabled;
    ad.admin_protected = i % 1000 == 0;
    ad.identifiers["dn"] = "CN=" + name + ",OU=Staff,DC=corp,DC=example,DC=com";
    AccountView entra;
    entra.provider = Provider::kEntra;
    entra.id = object;
    entra.login = upn;
    entra.display_name = name;
    entra.upn = upn;
    entra.sid = sid;
    entra.mail = upn;
    entra.status = AccountStatus::kEnabled;
    entra.synced_from_ad = true;
    entra.identifiers["onPremisesSyncEnabled"] = "true";
    entra.identifiers["userType"] = "Member";
    AccountView o;
    o.provider = Provider::kOkta;
    o.id = okta;
    o.login = upn;
    o.display_name = name;
    o.upn = upn;
    o.mail = upn;
    o.status = AccountStatus::kEnabled;
    o.identifiers["status"] = "ACTIVE";
    g.anchors.push_back(ad.id);
    if (i % 25 == 0) {
      g.search_words.push_back(first);
      g.search_words.push_back(last);
      g.search_words.push_back(upn);
      g.search_words.push_back(sid);
    }
    g.by_id[Provider::kActiveDirectory][ad.id] = static_cast<size_t>(i);
    g.by_id[Provider::kEntra][entra.id] = static_cast<size_t>(i);
    g.by_id[Provider::kOkta][o.id] = static_cast<size_t>(i);
    g.accounts[Provider::kActiveDirectory].push_back(std::move(ad));
    g.accounts[Provider::kEntra].push_back(std::move(entra));
    g.accounts[Provider::kOkta].push_back(std::move(o));
  }
  return g;
}

// Serves a generated provider: pages of 200, each paced; lookups by id.
class GeneratedConnector final : public Connector {
 public:
  GeneratedConnector(Provider provider, const std::vector<AccountView>& accounts,
                     const std::unordered_map<std::string, size_t>& by_id, const std::atomic<bool>& go)
      : provider_(provider), accounts_(accounts), by_id_(by_id), go_(go) {}
  Provider provider() const override { return provider_; }
  bool Supports(ActionType) const override { return false; }
  Result<ExecutionOutcome> Execute(const Action&, const ExecutionContext&) override {
    return Fail(Error::Internal("reads only"));
  }
  Status Probe(const ExecutionContext&) override { return {}; }
  Result<AccountView> Lookup(const std::string& account) override {
    const auto it = by_id_.find(account);
    if (it == by_id_.end()) return Fail(Error::NotFound("no such account"));
    return accounts_[it->second];
  }
  Status ListAccounts(const ExecutionContext& context,
                      const std::function<Status(std::vector<AccountView>&&)>& page) override {
    while (!go_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (size_t i = 0; i < accounts_.size(); i += 200) {
      if (auto paced = context.Pace(); !paced) return paced;
      std::vector<AccountView> chunk(accounts_.begin() + static_cast<std::ptrdiff_t>(i),
                                     accounts_.begin() + static_cast<std::ptrdiff_t>(std::min(i + 200, accounts_.size())));
      if (auto s = page(std::move(chunk)); !s) return s;
    }
    return {};
  }

 private:
  Provider provider_;
  const std::vector<AccountView>& accounts_;
  const std::unordered_map<std::string, size_t>& by_id_;
  const std::atomic<bool>& go_;
};

struct Percentiles {
  double p50 = 0, p95 = 0, p99 = 0;
};

Percentiles Of(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](int per_cent) { return ms[std::min(ms.size() - 1, ms.size() * static_cast<size_t>(per_cent) / 100)]; };
  return {at(50), at(95), at(99)};
}

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

// VmRSS of /proc/self/status, in MB.
long CurrentRssMb() {
  std::FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return -1;
  char line[256];
  long kb = -1;
  while (std::fgets(line, sizeof line, status) != nullptr)
    if (std::sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
  std::fclose(status);
  return kb < 0 ? -1 : kb / 1024;
}

long PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

// A random 1 to 4 character prefix of a search word, in the query's form.
std::string RandomPrefix(const std::vector<std::string>& words, std::mt19937& rng) {
  const std::string word = NormalizeSearchText(words[std::uniform_int_distribution<size_t>(0, words.size() - 1)(rng)]);
  size_t length = std::uniform_int_distribution<size_t>(1, 4)(rng);
  length = std::min(length, word.size());
  // Whole characters only.
  while (length < word.size() && (static_cast<unsigned char>(word[length]) & 0xc0) == 0x80) ++length;
  return word.substr(0, length);
}

std::string UrlEncode(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int people = argc > 1 ? std::atoi(argv[1]) : 100000;
  const int samples = argc > 2 ? std::atoi(argv[2]) : 2000;
  if (people < 100 || samples < 10) {
    std::fprintf(stderr, "usage: inventory_bench [IDENTITIES >= 100] [SAMPLES >= 10]\n");
    return 2;
  }
  auto logger = std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
  std::mt19937 rng(20261124);

  auto started = SteadyClock::now();
  const Generated g = Generate(people, rng);
  std::printf("generated %d people, %d accounts in %.2f s\n", people, people * 3, Seconds(started));

  std::atomic<bool> go{false};
  ApiFixtureOptions options;
  for (Provider p : kAllProviders) {
    const std::vector<AccountView>& accounts = g.accounts.at(p);
    const std::unordered_map<std::string, size_t>& by_id = g.by_id.at(p);
    options.inventory_connectors[p] = [p, &accounts, &by_id, &go]() -> Result<std::unique_ptr<Connector>> {
      return std::unique_ptr<Connector>(new GeneratedConnector(p, accounts, by_id, go));
    };
  }
  auto fixture = ApiFixture::Start(options);
  if (!fixture) {
    std::fprintf(stderr, "cannot start the API: %s\n", fixture.error().message.c_str());
    return 1;
  }
  ApiFixture& f = **fixture;
  Inventory& inventory = *f.inventory();

  // The first syncs started with the server, each waiting for `go`.
  std::printf("resident memory before the syncs (the generated accounts included): %ld MB\n", CurrentRssMb());
  started = SteadyClock::now();
  go = true;
  for (bool finished = false; !finished;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    finished = true;
    for (const SyncRun& run : inventory.Runs()) {
      finished &= !run.running && run.finished_at != TimePoint{};
      if (!run.running && !run.error.empty()) {
        std::fprintf(stderr, "the first %s sync failed: %s\n", std::string(ToString(run.provider)).c_str(),
                     run.error.c_str());
        return 1;
      }
    }
  }
  std::printf("first sync of the three providers: %.2f s\n", Seconds(started));
  auto counts = f.inventory_store().CountInventory();
  if (!counts || counts->identities != people || counts->accounts != 3LL * people) {
    std::fprintf(stderr, "the inventory holds %lld identities and %lld accounts\n",
                 counts ? static_cast<long long>(counts->identities) : -1LL,
                 counts ? static_cast<long long>(counts->accounts) : -1LL);
    return 1;
  }
  for (Provider p : kAllProviders) {
    started = SteadyClock::now();
    auto run = inventory.SyncAndWait(p);
    if (!run || !run->error.empty()) return 1;
    std::printf("sync of %-5s again, nothing changed: %.2f s\n", std::string(ToString(p)).c_str(), Seconds(started));
  }
  {
    std::vector<double> ms;
    for (int i = 0; i < 20; ++i) {
      const std::string& id = g.accounts.at(Provider::kOkta)[static_cast<size_t>(i) * 997 % people].id;
      const auto t = SteadyClock::now();
      if (!inventory.Refresh(Provider::kOkta, id)) return 1;
      ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count());
    }
    const Percentiles p = Of(ms);
    std::printf("refresh of one account after an action: p50 %.2f ms (lookup included)\n", p.p50);
  }
  std::printf("resident memory after the syncs: %ld MB (peak %ld MB)\n", CurrentRssMb(), PeakRssMb());

  // 20,000 actions on random accounts, for the user page's recent actions.
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<NewAction> actions;
    for (int i = 0; i < 1000; ++i) {
      const size_t who = std::uniform_int_distribution<size_t>(0, static_cast<size_t>(people) - 1)(rng);
      NewAction n;
      n.type = i % 2 ? ActionType::kDisable : ActionType::kEnable;
      n.provider = Provider::kActiveDirectory;
      n.target = g.accounts.at(Provider::kActiveDirectory)[who].login;
      n.requested_by = "bench";
      n.reason = "incident";
      actions.push_back(std::move(n));
    }
    if (!f.store().CreateActions(actions, Now())) return 1;
  }

  std::vector<std::string> prefixes;
  for (int i = 0; i < samples; ++i) prefixes.push_back(RandomPrefix(g.search_words, rng));
  {
    std::vector<double> ms;
    size_t found = 0;
    for (const std::string& prefix : prefixes) {
      IdentityFilter filter;
      filter.text = prefix;
      const auto t = SteadyClock::now();
      auto page = f.inventory_store().ListIdentities(filter);
      ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count());
      if (!page) return 1;
      found += page->identities.size();
    }
    const Percentiles p = Of(ms);
    std::printf("prefix search in the store (%d random 1-4 character prefixes, a page of 20): p50 %.2f ms, p95 %.2f "
                "ms, p99 %.2f ms; %.1f identities a page\n",
                samples, p.p50, p.p95, p.p99, static_cast<double>(found) / samples);
  }
  TestClient client = f.Client();
  const std::string token = f.Token(Role::kSecurityOperator);
  {
    std::vector<double> ms;
    int failed = 0;
    for (const std::string& prefix : prefixes) {
      const auto t = SteadyClock::now();
      const HttpResult r = client.Get("/api/v1/identities?q=" + UrlEncode(prefix), token);
      ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count());
      if (r.status != 200) ++failed;
    }
    const Percentiles p = Of(ms);
    std::printf("GET /api/v1/identities?q= (same prefixes, HTTPS, keep-alive): p50 %.2f ms, p95 %.2f ms, p99 %.2f ms; "
                "%d failed\n",
                p.p50, p.p95, p.p99, failed);
  }
  {
    std::vector<double> ms;
    int failed = 0;
    size_t recent = 0;
    for (int i = 0; i < samples; ++i) {
      const std::string& anchor =
          g.anchors[std::uniform_int_distribution<size_t>(0, g.anchors.size() - 1)(rng)];
      const std::string id = IdentityIdOf(Provider::kActiveDirectory, anchor);
      const auto t = SteadyClock::now();
      const HttpResult r = client.Get("/api/v1/identities/" + id, token);
      ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count());
      if (r.status != 200) ++failed;
      else recent += r.Json()["recentActions"].size();
    }
    const Percentiles p = Of(ms);
    std::printf("user page, GET /api/v1/identities/{id} (3 accounts, 20,000 actions in the store): p50 %.2f ms, p95 "
                "%.2f ms, p99 %.2f ms; %d failed, %.2f recent actions a page\n",
                p.p50, p.p95, p.p99, failed, static_cast<double>(recent) / samples);
  }
  std::printf("resident memory at the end: %ld MB (peak %ld MB)\n", CurrentRssMb(), PeakRssMb());
  return 0;
}
