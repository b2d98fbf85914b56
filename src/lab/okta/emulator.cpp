#include "lab/okta/emulator.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "lab/lab.h"

namespace cordon::lab::okta {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr uint32_t kHeaderLimitBytes = 16 * 1024;
constexpr uint64_t kBodyLimitBytes = 64 * 1024;
constexpr int kIdleSeconds = 30;
constexpr std::string_view kTypeId = "oty1lab0emulated0cor";
constexpr std::string_view kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
// Okta refuses client assertions whose exp lies more than an hour ahead.
constexpr int64_t kMaxAssertionSeconds = 3600;

std::string Iso8601(TimePoint t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, ms % 1000);
}

std::string HttpDate(TimePoint t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} GMT", kDays[tm.tm_wday], tm.tm_mday, kMonths[tm.tm_mon],
                     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// A JSON array of quirk names; nullopt when it is not one.
std::optional<std::vector<HeaderQuirk>> ParseQuirks(const json& names) {
  if (!names.is_array()) return std::nullopt;
  std::vector<HeaderQuirk> quirks;
  for (const json& name : names) {
    const auto quirk = name.is_string() ? ParseHeaderQuirk(name.get<std::string>()) : std::nullopt;
    if (!quirk) return std::nullopt;
    quirks.push_back(*quirk);
  }
  return quirks;
}

int64_t EpochSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

json OptionalTime(const std::optional<TimePoint>& t) { return t ? json(Iso8601(*t)) : json(nullptr); }

std::string RandomToken(size_t bytes) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  std::string out;
  for (unsigned char b : raw) out += kAlphabet[b % kAlphabet.size()];
  return out;
}

std::string PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() &&
               std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string PercentEncode(std::string_view in) {
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '@')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

// application/x-www-form-urlencoded, also the query string.
std::multimap<std::string, std::string> ParseForm(std::string_view text) {
  std::multimap<std::string, std::string> out;
  while (!text.empty()) {
    const size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      out.emplace(PercentDecode(pair.substr(0, eq), true),
                  eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true));
    }
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<std::string> Param(const std::multimap<std::string, std::string>& params, const std::string& name) {
  const auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

// JOSE uses base64url without padding (RFC 7515 §2); OpenSSL's EVP codec
// knows only the standard alphabet with padding, so the input is mapped to
// that alphabet, padded, decoded, and the padding bytes are taken off again.
std::optional<std::string> Base64UrlDecode(std::string_view in) {
  std::string b64;
  b64.reserve(in.size() + 3);
  for (char c : in) {
    if (c == '-') b64 += '+';
    else if (c == '_') b64 += '/';
    else if (std::isalnum(static_cast<unsigned char>(c))) b64 += c;
    else return std::nullopt;
  }
  if (b64.size() % 4 == 1) return std::nullopt;
  const size_t pad = (4 - b64.size() % 4) % 4;
  b64.append(pad, '=');
  std::string out(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey LoadPublicKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return nullptr;
  Pkey key(PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return key;
}

bool VerifyRs256(EVP_PKEY* key, std::string_view signed_part, std::string_view signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerifyUpdate(ctx, signed_part.data(), signed_part.size()) == 1 &&
            EVP_DigestVerifyFinal(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

bool HasScope(const std::vector<std::string>& scopes, std::string_view scope) {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

struct Client {
  OAuthClient registration;
  Pkey key;
};

struct AccessToken {
  std::string client_id;
  std::vector<std::string> scopes;
  TimePoint expires;
};

// Who a request comes from: the API token, or an access token's scopes.
struct Caller {
  bool api_token = false;
  std::vector<std::string> scopes;
  bool May(std::string_view scope) const {
    if (api_token) return true;
    if (HasScope(scopes, scope)) return true;
    return scope == "okta.users.read" && HasScope(scopes, "okta.users.manage");
  }
};

struct Budget {
  RateLimit limit;
  int64_t window_start = 0;
  int used = 0;
};

// What one family's clients sent, for GET /lab/stats: every request, the
// 429s, and per fixed window what the budget admitted and refused.
struct FamilyStats {
  int64_t requests = 0;
  int64_t rate_limited = 0;          // 429s of the window's budget
  int64_t concurrency_limited = 0;   // 429s of the concurrency limit
  struct Window {
    int64_t admitted = 0;
    int64_t refused = 0;
  };
  std::map<int64_t, Window> windows;  // by window start, epoch seconds
};

struct RateAnswer {
  bool allowed = true;
  int limit = 0;
  int remaining = 0;
  int64_t reset = 0;
};

}  // namespace

std::vector<SeedUser> LabSeedUsers() {
  std::vector<SeedUser> users;
  const std::string domain = "@" + std::string(kDnsDomain);
  auto add = [&](const std::string& sam, UserStatus status = UserStatus::kActive) {
    const size_t dot = sam.find('.');
    auto cap = [](std::string s) {
      if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
      return s;
    };
    SeedUser u;
    u.login = sam + domain;
    u.first_name = cap(sam.substr(0, dot));
    u.last_name = dot == std::string::npos ? "User" : cap(sam.substr(dot + 1));
    u.status = status;
    users.push_back(std::move(u));
  };
  for (const auto& sam : StaffUsers()) add(sam);
  add(std::string(kPasswordNeverExpiresUser));
  add(std::string(kSmartcardRequiredUser));
  for (const auto& sam : OtherUsers()) add(sam);
  for (const auto& sam : DomainAdmins())
    if (sam != "Administrator") add(sam);
  for (int i = 1; i <= kBulkCount; ++i) {
    SeedUser u;
    u.login = BulkUser(i) + domain;
    u.first_name = "Bulk";
    u.last_name = fmt::format("{:0{}}", i, kBulkDigits);
    users.push_back(std::move(u));
  }
  // Only in Okta: one of each status a lab directory cannot show.
  users.push_back({"olga.oktaonly@corp.example.test", "Olga", "Oktaonly", UserStatus::kActive});
  users.push_back({"stella.staged@corp.example.test", "Stella", "Staged", UserStatus::kStaged});
  users.push_back({"paul.provisioned@corp.example.test", "Paul", "Provisioned", UserStatus::kProvisioned});
  users.push_back({"rita.recovery@corp.example.test", "Rita", "Recovery", UserStatus::kRecovery});
  users.push_back({"larry.locked@corp.example.test", "Larry", "Locked", UserStatus::kLockedOut});
  users.push_back({"pete.expired@corp.example.test", "Pete", "Expired", UserStatus::kPasswordExpired});
  users.push_back({"susan.suspended@corp.example.test", "Susan", "Suspended", UserStatus::kSuspended});
  users.push_back({"dirk.deprovisioned@corp.example.test", "Dirk", "Deprovisioned", UserStatus::kDeprovisioned});
  return users;
}

class OktaEmulator::Impl {
 public:
  explicit Impl(EmulatorOptions options)
      : options_(std::move(options)),
        clock_offset_seconds_(options_.clock_offset.count()),
        token_lifetime_seconds_(options_.access_token_lifetime.count()),
        concurrency_limit_(options_.concurrency_limit),
        org_([this] { return Now(); }, options_.deactivate_delay, options_.id_seed),
        tls_(ssl::context::tls_server),
        acceptor_(ioc_),
        faults_(options_.faults),
        rng_(std::random_device{}()) {
    for (const auto& [family, limit] : options_.rate_limits) budgets_[family].limit = limit;
  }

  ~Impl() { Stop(); }

  Status Init() {
    beast::error_code ec;
    tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls_.use_certificate_chain_file(options_.tls_cert_file, ec);
    if (ec) return Fail(Error::InvalidArgument("cannot load the TLS certificate " + options_.tls_cert_file));
    tls_.use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
    if (ec) return Fail(Error::InvalidArgument("cannot load the TLS key " + options_.tls_key_file));
    if (options_.api_token.empty()) return Fail(Error::InvalidArgument("the emulator needs an API token"));
    for (const auto& c : options_.clients) {
      Client client{c, LoadPublicKey(c.public_key_pem)};
      if (!client.key) return Fail(Error::InvalidArgument("the public key of client " + c.client_id + " is not PEM"));
      clients_.emplace(c.client_id, std::move(client));
    }
    const auto address = asio::ip::make_address(options_.address, ec);
    if (ec || !address.is_loopback())
      return Fail(Error::InvalidArgument("the emulator listens on a loopback address only, not " + options_.address));
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Fail(Error::Unavailable(fmt::format("cannot listen on {}:{}: {}", options_.address, options_.port,
                                                       ec.message())));
    port_ = acceptor_.local_endpoint().port();
    url_ = options_.org_url.empty() ? fmt::format("https://127.0.0.1:{}", port_) : options_.org_url;
    org_.Seed(options_.users);
    return {};
  }

  uint16_t port() const { return port_; }
  const std::string& url() const { return url_; }

  void Start() {
    if (started_) return;
    started_ = true;
    accept_thread_ = std::thread([this] { AcceptLoop(); });
    spdlog::info("okta emulator: listening on {}", url_);
  }

  void Stop() {
    if (stopping_.exchange(true)) return;
    // shutdown() wakes a thread blocked in accept() or read() on Linux.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    if (accept_thread_.joinable()) accept_thread_.join();
    std::list<std::shared_ptr<Connection>> connections;
    {
      std::lock_guard lock(connections_mu_);
      connections.swap(connections_);
    }
    for (auto& c : connections) ::shutdown(c->fd, SHUT_RDWR);
    for (auto& c : connections)
      if (c->thread.joinable()) c->thread.join();
    beast::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  struct Connection {
    std::thread thread;
    int fd = -1;
    std::atomic<bool> done{false};
  };

  TimePoint Now() const { return std::chrono::system_clock::now() + std::chrono::seconds(clock_offset_seconds_.load()); }

  void AcceptLoop() {
    while (!stopping_) {
      tcp::socket socket(ioc_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_) return;
      if (ec) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      timeval idle{kIdleSeconds, 0};
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &idle, sizeof idle);
      auto connection = std::make_shared<Connection>();
      connection->fd = socket.native_handle();
      std::lock_guard lock(connections_mu_);
      connections_.remove_if([](const std::shared_ptr<Connection>& c) {
        if (!c->done) return false;
        c->thread.join();
        return true;
      });
      connection->thread = std::thread([this, connection, s = std::move(socket)]() mutable {
        Serve(std::move(s));
        connection->done = true;
      });
      connections_.push_back(std::move(connection));
    }
  }

  void Serve(tcp::socket socket) {
    beast::ssl_stream<tcp::socket> stream(std::move(socket), tls_);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) return;
    beast::flat_buffer buffer;
    while (!stopping_) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(kHeaderLimitBytes);
      parser.body_limit(kBodyLimitBytes);
      http::read(stream, buffer, parser, ec);
      if (ec) return;
      Request request = parser.release();
      std::optional<Response> response;
      try {
        response = Handle(request);
      } catch (const std::exception& e) {
        spdlog::error("okta emulator: {} {}: {}", std::string(request.method_string()),
                      std::string(request.target()), e.what());
        response = Error(request, http::status::internal_server_error, "E0000009", "Internal Server Error");
      }
      if (!response) {
        beast::error_code ignored;
        stream.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
        return;
      }
      response->keep_alive(request.keep_alive());
      response->prepare_payload();
      http::write(stream, *response, ec);
      if (ec || !response->keep_alive()) break;
    }
    stream.shutdown(ec);
  }

  // Answers are built with the emulator's clock in `Date`.
  Response Answer(const Request& request, http::status status, const json& body) {
    Response r(status, request.version());
    r.set(http::field::date, HttpDate(Now()));
    r.set(http::field::server, "nginx");
    if (!body.is_null()) {
      r.set(http::field::content_type, "application/json");
      r.body() = body.dump();
    }
    return r;
  }

  Response Error(const Request& request, http::status status, std::string_view code, const std::string& summary,
                 bool with_cause = false) {
    return Error(request, status, code, summary, with_cause ? std::vector<std::string>{summary} : std::vector<std::string>{});
  }

  Response Error(const Request& request, http::status status, std::string_view code, const std::string& summary,
                 const std::vector<std::string>& cause_summaries) {
    json causes = json::array();
    for (const std::string& cause : cause_summaries) causes.push_back({{"errorSummary", cause}});
    const std::string error_id = "oae" + RandomToken(22);
    Response r = Answer(request, status,
                        {{"errorCode", code},
                         {"errorSummary", summary},
                         {"errorLink", code},
                         {"errorId", error_id},
                         {"errorCauses", causes}});
    r.set("X-Okta-Request-Id", error_id);
    return r;
  }

  Response OAuthError(const Request& request, http::status status, std::string_view error, std::string_view detail) {
    Response r = Answer(request, status, {{"error", error}, {"error_description", detail}});
    r.set(http::field::cache_control, "no-store");
    r.set(http::field::pragma, "no-cache");
    return r;
  }

  RateAnswer TakeBudget(std::string_view family) {
    std::lock_guard lock(budgets_mu_);
    Budget& b = budgets_[std::string(family)];
    const int64_t now = EpochSeconds(Now());
    const int64_t window = std::max(1, b.limit.window_seconds);
    const int64_t start = now - now % window;
    if (start != b.window_start) {
      b.window_start = start;
      b.used = 0;
    }
    RateAnswer a;
    a.limit = b.limit.limit;
    a.reset = start + window;
    a.allowed = b.used < b.limit.limit;
    if (a.allowed) ++b.used;
    a.remaining = std::max(0, b.limit.limit - b.used);
    FamilyStats& stats = stats_[std::string(family)];
    FamilyStats::Window& counted = stats.windows[start];
    ++(a.allowed ? counted.admitted : counted.refused);
    if (!a.allowed) ++stats.rate_limited;
    return a;
  }

  static void SetRateHeaders(Response& r, int limit, int remaining, int64_t reset) {
    r.set("X-Rate-Limit-Limit", std::to_string(limit));
    r.set("X-Rate-Limit-Remaining", std::to_string(remaining));
    r.set("X-Rate-Limit-Reset", std::to_string(reset));
  }

  bool Roll(double rate) {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    std::lock_guard lock(faults_mu_);
    return std::uniform_real_distribution<double>(0, 1)(rng_) < rate;
  }

  std::optional<Response> Handle(const Request& request) {
    const std::string target(request.target());
    const size_t qmark = target.find('?');
    const std::string path = target.substr(0, qmark);
    const auto query = ParseForm(qmark == std::string::npos ? std::string_view() : std::string_view(target).substr(qmark + 1));

    if (path.rfind("/lab/", 0) == 0) return HandleLab(request, path);

    std::string_view family;
    if (path == "/oauth2/v1/token") family = kToken;
    else if (path.rfind("/api/v1/users", 0) == 0)
      family = request.method() == http::verb::get ? kUsersRead : kUsersManage;
    else
      return Error(request, http::status::not_found, "E0000022", "The endpoint does not support the provided HTTP method");

    {
      std::lock_guard lock(budgets_mu_);
      ++stats_[std::string(family)].requests;
    }
    // The concurrency limit counts requests from arrival to answer.
    struct InFlight {
      std::atomic<int>& n;
      explicit InFlight(std::atomic<int>& count) : n(count) { ++n; }
      ~InFlight() { --n; }
    } in_flight(in_flight_);
    const int concurrency = concurrency_limit_.load();
    if (in_flight_.load() > concurrency) {
      Response r = Error(request, http::status::too_many_requests, "E0000047",
                         "API call exceeded rate limit due to too many requests.");
      SetRateHeaders(r, concurrency, 0, EpochSeconds(Now()) + 1);
      std::lock_guard lock(budgets_mu_);
      ++stats_[std::string(family)].concurrency_limited;
      return r;
    }

    Faults faults;
    {
      std::lock_guard lock(faults_mu_);
      faults = faults_;
    }
    if (faults.latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(faults.latency_ms));
    if (Roll(faults.drop_rate)) return std::nullopt;

    const RateAnswer budget = TakeBudget(family);
    Response r = [&] {
      if (!budget.allowed)
        return Error(request, http::status::too_many_requests, "E0000047",
                     "API call exceeded rate limit due to too many requests.");
      if (Roll(faults.error_rate))
        return Error(request, http::status::internal_server_error, "E0000009", "Internal Server Error");
      if (family == kToken) return IssueToken(request);
      return HandleApi(request, path, query);
    }();
    SetRateHeaders(r, budget.limit, budget.remaining, budget.reset);
    ApplyHeaderQuirks(r, faults.header_quirks);
    return r;
  }

  // After the real headers are set: what clients have reported of Okta's. The
  // replacing quirks go first, so a repeated Reset follows a past one.
  void ApplyHeaderQuirks(Response& r, const std::vector<HeaderQuirk>& quirks) {
    auto on = [&](HeaderQuirk q) { return std::find(quirks.begin(), quirks.end(), q) != quirks.end(); };
    const int64_t now = EpochSeconds(Now());
    if (on(HeaderQuirk::kPastReset)) r.set("X-Rate-Limit-Reset", std::to_string(now - 10));
    // Date-shaped, and no date: a strict parser refuses it, a lenient one must not believe it.
    if (on(HeaderQuirk::kBadDate)) r.set(http::field::date, "Xyz, 99 Foo 2026 99:99:99 GMT");
    // A second limiter's view (the concurrency limiter's, one second ahead) after the window's.
    if (on(HeaderQuirk::kDuplicateReset)) r.insert("X-Rate-Limit-Reset", std::to_string(now + 1));
  }

  // Authorization: SSWS <api token> or Bearer <access token>.
  std::optional<Caller> Authenticate(const Request& request) {
    const auto it = request.find(http::field::authorization);
    if (it == request.end()) return std::nullopt;
    const std::string value(it->value());
    if (value.rfind("SSWS ", 0) == 0) {
      const std::string_view given = std::string_view(value).substr(5);
      const std::string& expected = options_.api_token.Reveal();
      if (given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0)
        return Caller{true, {}};
      return std::nullopt;
    }
    if (value.rfind("Bearer ", 0) == 0) {
      const std::string token = value.substr(7);
      std::lock_guard lock(tokens_mu_);
      const auto t = access_tokens_.find(token);
      if (t == access_tokens_.end()) return std::nullopt;
      if (Now() >= t->second.expires) {
        access_tokens_.erase(t);
        return std::nullopt;
      }
      return Caller{false, t->second.scopes};
    }
    return std::nullopt;
  }

  Response Unauthorized(const Request& request) {
    Response r = Error(request, http::status::unauthorized, "E0000011", "Invalid token provided");
    return r;
  }

  Response Forbidden(const Request& request, std::string_view scope) {
    Response r = Error(request, http::status::forbidden, "E0000006",
                       "You do not have permission to perform the requested action");
    r.set(http::field::www_authenticate,
          fmt::format("Bearer authorization_uri=\"{}/oauth2/v1/authorize\", realm=\"IdpRealm\", scope=\"{}\", "
                      "error=\"insufficient_scope\", error_description=\"The access token provided does not contain "
                      "the required scopes.\", resource=\"{}\"",
                      url_, scope, std::string(request.target().substr(0, request.target().find('?')))));
    return r;
  }

  json UserJson(const OrgUser& u) const {
    const std::string self = url_ + "/api/v1/users/" + u.id;
    json links = {{"self", {{"href", self}}}};
    auto action = [&](const char* name, const std::string& path) {
      links[name] = {{"href", self + path}, {"method", "POST"}};
    };
    switch (u.status) {
      case UserStatus::kActive:
      case UserStatus::kPasswordExpired:
      case UserStatus::kRecovery:
        action("resetPassword", "/lifecycle/reset_password");
        action("expirePassword", "/lifecycle/expire_password");
        if (u.status == UserStatus::kActive) action("suspend", "/lifecycle/suspend");
        if (u.status == UserStatus::kRecovery) action("reactivate", "/lifecycle/reactivate");
        action("deactivate", "/lifecycle/deactivate");
        break;
      case UserStatus::kSuspended:
        action("unsuspend", "/lifecycle/unsuspend");
        action("deactivate", "/lifecycle/deactivate");
        break;
      case UserStatus::kLockedOut:
        action("unlock", "/lifecycle/unlock");
        action("deactivate", "/lifecycle/deactivate");
        break;
      case UserStatus::kStaged:
        action("activate", "/lifecycle/activate");
        action("deactivate", "/lifecycle/deactivate");
        break;
      case UserStatus::kProvisioned:
        action("activate", "/lifecycle/activate");
        action("reactivate", "/lifecycle/reactivate");
        action("deactivate", "/lifecycle/deactivate");
        break;
      case UserStatus::kDeprovisioned:
        action("activate", "/lifecycle/activate");
        break;
    }
    links["type"] = {{"href", url_ + "/api/v1/meta/types/user/" + std::string(kTypeId)}};
    json credentials = {{"provider", {{"type", "OKTA"}, {"name", "OKTA"}}}};
    if (u.has_password) credentials["password"] = json::object();
    json j = {{"id", u.id},
              {"status", StatusName(u.status)},
              {"created", Iso8601(u.created)},
              {"activated", OptionalTime(u.activated)},
              {"statusChanged", OptionalTime(u.status_changed)},
              {"lastLogin", OptionalTime(u.last_login)},
              {"lastUpdated", Iso8601(u.last_updated)},
              {"passwordChanged", OptionalTime(u.password_changed)},
              {"type", {{"id", kTypeId}}},
              {"profile",
               {{"firstName", u.first_name},
                {"lastName", u.last_name},
                {"displayName", u.display_name.empty() ? json(nullptr) : json(u.display_name)},
                {"mobilePhone", nullptr},
                {"secondEmail", nullptr},
                {"login", u.login},
                {"email", u.email}}},
              {"credentials", credentials},
              {"_links", links}};
    if (u.transitioning_to) j["transitioningToStatus"] = StatusName(*u.transitioning_to);
    return j;
  }

  static bool PreferAsync(const Request& request) {
    const auto it = request.find("Prefer");
    return it != request.end() && std::string(it->value()).find("respond-async") != std::string::npos;
  }

  Response TransitionAnswer(const Request& request, const Transition& t, const std::string& id) {
    if (t.outcome == Transition::Outcome::kNotFound)
      return Error(request, http::status::not_found, "E0000007", "Not found: Resource not found: " + id + " (User)");
    return Error(request, http::status::bad_request, "E0000001", t.refusal, true);
  }

  Response HandleApi(const Request& request, const std::string& path,
                     const std::multimap<std::string, std::string>& query) {
    const auto caller = Authenticate(request);
    if (!caller) return Unauthorized(request);
    const std::string_view rest = std::string_view(path).substr(std::string_view("/api/v1/users").size());
    const bool get = request.method() == http::verb::get;
    const char* needed = get ? "okta.users.read" : "okta.users.manage";
    if (!caller->May(needed)) return Forbidden(request, needed);

    if (rest.empty() || rest == "/") {
      if (get) return ListUsers(request, query);
      if (request.method() == http::verb::post) return CreateUser(request, query);
      return Error(request, http::status::method_not_allowed, "E0000022",
                   "The endpoint does not support the provided HTTP method");
    }
    // /{id}[/lifecycle/{op} | /sessions]
    std::string_view tail = rest.substr(1);
    const size_t slash = tail.find('/');
    const std::string id = PercentDecode(tail.substr(0, slash), false);
    const std::string_view sub = slash == std::string_view::npos ? std::string_view() : tail.substr(slash);

    if (sub.empty()) {
      if (get) {
        const auto u = org_.Find(id);
        if (!u) return TransitionAnswer(request, {Transition::Outcome::kNotFound}, id);
        return Answer(request, http::status::ok, UserJson(*u));
      }
      if (request.method() == http::verb::delete_) return DeleteUser(request, id);
      if (request.method() == http::verb::post) return UpdateUser(request, id);
      return Error(request, http::status::method_not_allowed, "E0000022",
                   "The endpoint does not support the provided HTTP method");
    }
    if (sub == "/sessions" && request.method() == http::verb::delete_) {
      const bool oauth = Param(query, "oauthTokens").value_or("false") == "true";
      if (!org_.RevokeSessions(id, oauth)) return TransitionAnswer(request, {Transition::Outcome::kNotFound}, id);
      return Answer(request, http::status::no_content, nullptr);
    }
    if (sub.rfind("/lifecycle/", 0) == 0 && request.method() == http::verb::post) {
      const std::string_view op = sub.substr(std::string_view("/lifecycle/").size());
      Transition t;
      bool token_answer = false;
      if (op == "suspend") t = org_.Suspend(id);
      else if (op == "unsuspend") t = org_.Unsuspend(id);
      else if (op == "unlock") t = org_.Unlock(id);
      else if (op == "deactivate") return Deactivate(request, id, false);
      else if (op == "activate") {
        t = org_.Activate(id);
        token_answer = Param(query, "sendEmail").value_or("true") == "false";
      } else if (op == "reactivate") {
        t = org_.Reactivate(id);
        token_answer = Param(query, "sendEmail").value_or("false") == "false";
      } else {
        return Error(request, http::status::not_found, "E0000022",
                     "The endpoint does not support the provided HTTP method");
      }
      if (t.outcome != Transition::Outcome::kDone) return TransitionAnswer(request, t, id);
      if (token_answer) {
        const std::string token = RandomToken(20);
        return Answer(request, http::status::ok,
                      {{"activationUrl", url_ + "/tokens/" + token + "/verify"}, {"activationToken", token}});
      }
      return Answer(request, http::status::ok, json::object());
    }
    return Error(request, http::status::not_found, "E0000022", "The endpoint does not support the provided HTTP method");
  }

  // Without `Prefer: respond-async` the answer waits until the user is
  // DEPROVISIONED; with it, 202 at once while the user is transitioning.
  Response Deactivate(const Request& request, const std::string& id, bool by_delete) {
    const Transition t = org_.Deactivate(id);
    if (t.outcome != Transition::Outcome::kDone) return TransitionAnswer(request, t, id);
    if (PreferAsync(request)) return Answer(request, http::status::accepted, nullptr);
    org_.AwaitSettled(t.user_id);
    return by_delete ? Answer(request, http::status::no_content, nullptr)
                     : Answer(request, http::status::ok, json::object());
  }

  Response DeleteUser(const Request& request, const std::string& id) {
    const auto u = org_.Find(id);
    if (!u) return TransitionAnswer(request, {Transition::Outcome::kNotFound}, id);
    if (u->status != UserStatus::kDeprovisioned) return Deactivate(request, id, true);
    const Transition t = org_.Remove(u->id);
    if (t.outcome != Transition::Outcome::kDone) return TransitionAnswer(request, t, id);
    return Answer(request, PreferAsync(request) ? http::status::accepted : http::status::no_content, nullptr);
  }

  // The profile of a create or a partial update, checked as Okta's default
  // user profile schema says (login and email 5 to 100 characters, the login
  // shaped like an email address; firstName and lastName 1 to 50, or null;
  // displayName any text, or null). On a create, login, email, firstName and
  // lastName are required. Okta's description gives no wording for the
  // causes; a login already taken reads as Okta's answers to clients do, the
  // rest follow the same "property: why" form.
  struct ProfileInput {
    ProfileChange change;
    std::vector<std::string> causes;
    std::string first_field;  // the first property at fault, for the summary
  };
  static ProfileInput ReadProfile(const json& profile, bool create) {
    ProfileInput in;
    auto fault = [&](const std::string& name, const std::string& why) {
      if (in.first_field.empty()) in.first_field = name;
      in.causes.push_back(name + ": " + why);
    };
    struct Rule {
      const char* name;
      std::optional<std::string> ProfileChange::*field;
      size_t min, max;
      bool nullable;
    };
    static constexpr size_t kAny = 0;
    const Rule rules[] = {{"login", &ProfileChange::login, 5, 100, false},
                          {"email", &ProfileChange::email, 5, 100, false},
                          {"firstName", &ProfileChange::first_name, 1, 50, true},
                          {"lastName", &ProfileChange::last_name, 1, 50, true},
                          {"displayName", &ProfileChange::display_name, kAny, kAny, true}};
    auto email_shaped = [](const std::string& text) {
      const size_t at = text.find('@');
      return at != std::string::npos && at > 0 && at + 1 < text.size() &&
             text.find('@', at + 1) == std::string::npos && text.find(' ') == std::string::npos;
    };
    for (const auto& [name, value] : profile.items()) {
      const Rule* rule = nullptr;
      for (const Rule& r : rules)
        if (name == r.name) rule = &r;
      if (rule == nullptr) fault(name, "Property name '" + name + "' is not defined in profile");
    }
    for (const Rule& r : rules) {
      if (!profile.contains(r.name)) {
        if (create && std::string_view(r.name) != "displayName") fault(r.name, "The field cannot be left blank");
        continue;
      }
      const json& v = profile[r.name];
      if (v.is_null() && r.nullable) {
        in.change.*r.field = std::string();
        continue;
      }
      if (!v.is_string()) {
        fault(r.name, "Does not match required type");
        continue;
      }
      const std::string text = v.get<std::string>();
      if (r.max != kAny && (text.size() < r.min || text.size() > r.max)) {
        fault(r.name, text.empty() ? "The field cannot be left blank"
                                   : fmt::format("The field must be {} to {} characters long", r.min, r.max));
        continue;
      }
      if (std::string_view(r.name) == "login" && !email_shaped(text)) {
        fault(r.name, "Username must be in the form of an email address");
        continue;
      }
      if (std::string_view(r.name) == "email" && !email_shaped(text)) {
        fault(r.name, "Does not match required pattern");
        continue;
      }
      in.change.*r.field = text;
    }
    return in;
  }

  Response ProfileRefused(const Request& request, const ProfileInput& in) {
    return Error(request, http::status::bad_request, "E0000001", "Api validation failed: " + in.first_field, in.causes);
  }

  Response LoginTaken(const Request& request) {
    return Error(request, http::status::bad_request, "E0000001", "Api validation failed: login",
                 std::vector<std::string>{"login: An object with this field already exists in the current organization"});
  }

  // POST /api/v1/users?activate=true|false: Okta's create-user call.
  Response CreateUser(const Request& request, const std::multimap<std::string, std::string>& query) {
    const std::string activate = Param(query, "activate").value_or("true");
    if (activate != "true" && activate != "false")
      return Error(request, http::status::bad_request, "E0000001", "Api validation failed: activate", true);
    const json body = json::parse(request.body(), nullptr, false);
    if (!body.is_object() || !body.contains("profile") || !body["profile"].is_object())
      return Error(request, http::status::bad_request, "E0000003", "The request body was not well-formed.", true);
    const ProfileInput in = ReadProfile(body["profile"], true);
    if (!in.causes.empty()) return ProfileRefused(request, in);
    NewUser n;
    n.login = *in.change.login;
    n.email = *in.change.email;
    n.first_name = in.change.first_name.value_or("");
    n.last_name = in.change.last_name.value_or("");
    n.display_name = in.change.display_name.value_or("");
    if (body.contains("credentials")) {
      const json& credentials = body["credentials"];
      const json password = credentials.is_object() ? credentials.value("password", json()) : json();
      if (!password.is_null() && (!password.is_object() || !password.value("value", json()).is_string()))
        return Error(request, http::status::bad_request, "E0000001", "Api validation failed: password", true);
      n.has_password = !password.is_null();
    }
    const Written w = org_.Create(n, activate == "true");
    if (w.outcome == Written::Outcome::kLoginTaken) return LoginTaken(request);
    return Answer(request, http::status::ok, UserJson(w.user));
  }

  // POST /api/v1/users/{id}: Okta's partial update of the profile.
  Response UpdateUser(const Request& request, const std::string& id) {
    const json body = json::parse(request.body(), nullptr, false);
    if (!body.is_object())
      return Error(request, http::status::bad_request, "E0000003", "The request body was not well-formed.", true);
    ProfileInput in;
    if (body.contains("profile")) {
      if (!body["profile"].is_object())
        return Error(request, http::status::bad_request, "E0000003", "The request body was not well-formed.", true);
      in = ReadProfile(body["profile"], false);
      if (!in.causes.empty()) return ProfileRefused(request, in);
    }
    const Written w = org_.UpdateProfile(id, in.change);
    if (w.outcome == Written::Outcome::kNotFound)
      return TransitionAnswer(request, {Transition::Outcome::kNotFound}, id);
    if (w.outcome == Written::Outcome::kLoginTaken) return LoginTaken(request);
    return Answer(request, http::status::ok, UserJson(w.user));
  }

  Response ListUsers(const Request& request, const std::multimap<std::string, std::string>& query) {
    ListQuery q;
    q.search = Param(query, "search");
    q.filter = Param(query, "filter");
    q.q = Param(query, "q");
    q.after = Param(query, "after");
    q.limit = q.q ? 10 : 200;
    if (const auto limit = Param(query, "limit")) {
      try {
        q.limit = std::stoi(*limit);
      } catch (const std::exception&) {
        return Error(request, http::status::bad_request, "E0000001", "Api validation failed: limit", true);
      }
    }
    const ListPage page = org_.List(q);
    if (page.invalid) return Error(request, http::status::bad_request, "E0000031", *page.invalid, true);
    json body = json::array();
    for (const auto& u : page.users) body.push_back(UserJson(u));
    Response r = Answer(request, http::status::ok, body);
    std::string params;
    auto add = [&](const char* name, const std::optional<std::string>& value) {
      if (value) params += fmt::format("{}{}={}", params.empty() ? "" : "&", name, PercentEncode(*value));
    };
    add("search", q.search);
    add("filter", q.filter);
    add("q", q.q);
    add("limit", std::to_string(std::clamp(q.limit, 1, 200)));
    const std::string base = url_ + "/api/v1/users?";
    std::string self = params;
    if (q.after) self += "&after=" + PercentEncode(*q.after);
    r.insert(http::field::link, fmt::format("<{}{}>; rel=\"self\"", base, self));
    if (page.next_after)
      r.insert(http::field::link,
               fmt::format("<{}{}&after={}>; rel=\"next\"", base, params, PercentEncode(*page.next_after)));
    return r;
  }

  // POST /oauth2/v1/token: client credentials with private_key_jwt.
  Response IssueToken(const Request& request) {
    if (request.method() != http::verb::post)
      return OAuthError(request, http::status::method_not_allowed, "invalid_request", "Only POST is supported.");
    const auto form = ParseForm(request.body());
    if (Param(form, "grant_type").value_or("") != "client_credentials")
      return OAuthError(request, http::status::bad_request, "unsupported_grant_type",
                        "The authorization server does not support the requested grant type.");
    if (Param(form, "client_assertion_type").value_or("") != kAssertionType)
      return OAuthError(request, http::status::bad_request, "invalid_client",
                        "The client_assertion_type is missing or not supported.");
    const std::string assertion = Param(form, "client_assertion").value_or("");
    const size_t dot1 = assertion.find('.');
    const size_t dot2 = dot1 == std::string::npos ? std::string::npos : assertion.find('.', dot1 + 1);
    auto invalid = [&](std::string_view why) {
      return OAuthError(request, http::status::unauthorized, "invalid_client", why);
    };
    if (dot2 == std::string::npos) return invalid("The client_assertion is not a well-formed JWT.");
    const auto header_text = Base64UrlDecode(std::string_view(assertion).substr(0, dot1));
    const auto claims_text = Base64UrlDecode(std::string_view(assertion).substr(dot1 + 1, dot2 - dot1 - 1));
    const auto signature = Base64UrlDecode(std::string_view(assertion).substr(dot2 + 1));
    if (!header_text || !claims_text || !signature) return invalid("The client_assertion is not a well-formed JWT.");
    const json header = json::parse(*header_text, nullptr, false);
    const json claims = json::parse(*claims_text, nullptr, false);
    if (!header.is_object() || !claims.is_object()) return invalid("The client_assertion is not a well-formed JWT.");
    if (header.value("alg", "") != "RS256")
      return invalid("The client_assertion token has an unsupported signing algorithm.");
    const std::string iss = claims.value("iss", ""), sub = claims.value("sub", "");
    const auto client = clients_.find(iss);
    if (client == clients_.end() || sub != iss)
      return invalid("The client_assertion token must have iss and sub of a registered client_id.");
    if (const auto client_id = Param(form, "client_id"); client_id && *client_id != iss)
      return invalid("The client_id does not match the client_assertion.");
    if (!VerifyRs256(client->second.key.get(), std::string_view(assertion).substr(0, dot2), *signature))
      return invalid("The client_assertion signature is invalid.");
    const std::string audience = url_ + "/oauth2/v1/token";
    const json& aud = claims.contains("aud") ? claims["aud"] : json();
    const bool aud_ok = (aud.is_string() && aud == audience) ||
                        (aud.is_array() && std::find(aud.begin(), aud.end(), json(audience)) != aud.end());
    if (!aud_ok)
      return invalid("The audience claim for client_assertion must be the endpoint invoking the client_assertion.");
    if (!claims.contains("exp") || !claims["exp"].is_number()) return invalid("The client_assertion token has no exp.");
    const int64_t now = EpochSeconds(Now());
    const int64_t exp = claims["exp"].get<int64_t>();
    if (exp <= now) return invalid("The client_assertion token is expired.");
    if (exp - now > kMaxAssertionSeconds)
      return invalid("The client_assertion token has an expiration too far in the future.");
    if (!claims.contains("jti") || !claims["jti"].is_string())
      return invalid("The client_assertion token has no jti.");
    {
      std::lock_guard lock(tokens_mu_);
      std::erase_if(used_jti_, [now](const auto& e) { return e.second <= now; });
      if (!used_jti_.emplace(claims["jti"].get<std::string>(), exp).second)
        return invalid("The client_assertion token has already been used.");
    }
    const std::string scope_text = Param(form, "scope").value_or("");
    std::vector<std::string> scopes;
    for (size_t at = 0; at < scope_text.size();) {
      const size_t space = scope_text.find(' ', at);
      const std::string s = scope_text.substr(at, space == std::string::npos ? std::string::npos : space - at);
      if (!s.empty()) scopes.push_back(s);
      if (space == std::string::npos) break;
      at = space + 1;
    }
    if (scopes.empty())
      return OAuthError(request, http::status::bad_request, "invalid_scope",
                        "The authorization server resource does not have any configured default scopes, 'scope' "
                        "must be provided.");
    for (const auto& s : scopes)
      if (!HasScope(client->second.registration.scopes, s))
        return OAuthError(request, http::status::bad_request, "invalid_scope",
                          "The following scopes were requested, but not granted: " + s);
    const int64_t lifetime = token_lifetime_seconds_.load();
    const std::string token = RandomToken(48);
    {
      std::lock_guard lock(tokens_mu_);
      access_tokens_[token] = {iss, scopes, Now() + std::chrono::seconds(lifetime)};
    }
    std::string scope_out;
    for (const auto& s : scopes) scope_out += (scope_out.empty() ? "" : " ") + s;
    Response r = Answer(request, http::status::ok,
                        {{"token_type", "Bearer"}, {"expires_in", lifetime}, {"access_token", token}, {"scope", scope_out}});
    r.set(http::field::cache_control, "no-store");
    r.set(http::field::pragma, "no-cache");
    return r;
  }

  // The lab-only routes; they need the API token.
  Response HandleLab(const Request& request, const std::string& path) {
    const auto caller = Authenticate(request);
    if (!caller || !caller->api_token) return Unauthorized(request);
    json body = json::object();
    if (request.method() == http::verb::post && !request.body().empty()) {
      body = json::parse(request.body(), nullptr, false);
      if (!body.is_object())
        return Error(request, http::status::bad_request, "E0000003", "The request body was not well-formed.", true);
    }
    const bool post = request.method() == http::verb::post;
    if (path == "/lab/faults") {
      std::lock_guard lock(faults_mu_);
      if (post) {
        std::optional<std::vector<HeaderQuirk>> quirks;
        if (body.contains("header_quirks")) {
          quirks = ParseQuirks(body["header_quirks"]);
          if (!quirks)
            return Error(request, http::status::bad_request, "E0000001",
                         "header_quirks: a list of duplicate_reset, bad_date, past_reset", true);
        }
        faults_.error_rate = body.value("error_rate", faults_.error_rate);
        faults_.drop_rate = body.value("drop_rate", faults_.drop_rate);
        faults_.latency_ms = body.value("latency_ms", faults_.latency_ms);
        if (quirks) faults_.header_quirks = std::move(*quirks);
      }
      json quirk_names = json::array();
      for (const HeaderQuirk q : faults_.header_quirks) quirk_names.push_back(HeaderQuirkName(q));
      return Answer(request, http::status::ok,
                    {{"error_rate", faults_.error_rate},
                     {"drop_rate", faults_.drop_rate},
                     {"latency_ms", faults_.latency_ms},
                     {"header_quirks", quirk_names}});
    }
    if (path == "/lab/settings") {
      if (post) {
        if (body.contains("clock_offset_seconds")) clock_offset_seconds_ = body["clock_offset_seconds"].get<int64_t>();
        if (body.contains("access_token_lifetime_seconds"))
          token_lifetime_seconds_ = body["access_token_lifetime_seconds"].get<int64_t>();
        if (body.contains("concurrency_limit")) concurrency_limit_ = body["concurrency_limit"].get<int>();
        if (body.contains("rate_limits")) {
          std::lock_guard lock(budgets_mu_);
          for (const auto& [family, limit] : body["rate_limits"].items()) {
            Budget& b = budgets_[family];
            b.limit.limit = limit.value("limit", b.limit.limit);
            b.limit.window_seconds = std::max(1, limit.value("window_seconds", b.limit.window_seconds));
            b.window_start = 0;
            b.used = 0;
          }
        }
      }
      json limits = json::object();
      {
        std::lock_guard lock(budgets_mu_);
        for (const auto& [family, b] : budgets_)
          limits[family] = {{"limit", b.limit.limit}, {"window_seconds", b.limit.window_seconds}};
      }
      return Answer(request, http::status::ok,
                    {{"clock_offset_seconds", clock_offset_seconds_.load()},
                     {"access_token_lifetime_seconds", token_lifetime_seconds_.load()},
                     {"concurrency_limit", concurrency_limit_.load()},
                     {"rate_limits", limits}});
    }
    if (path == "/lab/stats") {
      std::lock_guard lock(budgets_mu_);
      if (request.method() == http::verb::delete_) {
        stats_.clear();
        return Answer(request, http::status::no_content, nullptr);
      }
      json families = json::object();
      for (const auto& [family, stats] : stats_) {
        json windows = json::array();
        int64_t most = 0;
        for (const auto& [start, w] : stats.windows) {
          windows.push_back({{"start", start}, {"admitted", w.admitted}, {"refused", w.refused}});
          most = std::max(most, w.admitted);
        }
        families[family] = {{"requests", stats.requests},
                            {"rate_limited", stats.rate_limited + stats.concurrency_limited},
                            {"concurrency_limited", stats.concurrency_limited},
                            {"max_admitted_in_a_window", most},
                            {"windows", windows}};
      }
      return Answer(request, http::status::ok, {{"families", families}});
    }
    // /lab/users/{id}/sessions
    constexpr std::string_view kUsers = "/lab/users/";
    const size_t tail = path.rfind("/sessions");
    if (path.rfind(kUsers, 0) == 0 && tail != std::string::npos && tail + 9 == path.size()) {
      const std::string id = PercentDecode(std::string_view(path).substr(kUsers.size(), tail - kUsers.size()), false);
      if (post) {
        const auto s = org_.AddSession(id, body.value("oauthTokens", 0));
        if (!s) return TransitionAnswer(request, {Transition::Outcome::kNotFound}, id);
        return Answer(request, http::status::created,
                      {{"id", s->id}, {"createdAt", Iso8601(s->created)}, {"expiresAt", Iso8601(s->expires)},
                       {"status", "ACTIVE"}});
      }
      const auto u = org_.Find(id);
      if (!u) return TransitionAnswer(request, {Transition::Outcome::kNotFound}, id);
      json sessions = json::array();
      for (const auto& s : u->sessions)
        sessions.push_back({{"id", s.id}, {"createdAt", Iso8601(s.created)}, {"expiresAt", Iso8601(s.expires)}});
      return Answer(request, http::status::ok, {{"userId", u->id}, {"sessions", sessions}, {"oauthTokens", u->oauth_tokens}});
    }
    return Error(request, http::status::not_found, "E0000022", "The endpoint does not support the provided HTTP method");
  }

  EmulatorOptions options_;
  std::atomic<int64_t> clock_offset_seconds_;
  std::atomic<int64_t> token_lifetime_seconds_;
  std::atomic<int> concurrency_limit_;
  std::atomic<int> in_flight_{0};
  OktaOrg org_;
  asio::io_context ioc_;
  ssl::context tls_;
  tcp::acceptor acceptor_;
  std::map<std::string, Client> clients_;
  std::mutex tokens_mu_;
  std::map<std::string, AccessToken> access_tokens_;
  std::map<std::string, int64_t> used_jti_;  // jti -> its exp: a replayed assertion is refused
  std::mutex budgets_mu_;
  std::map<std::string, Budget> budgets_;
  std::map<std::string, FamilyStats> stats_;  // guarded by budgets_mu_
  std::mutex faults_mu_;
  Faults faults_;
  std::mt19937_64 rng_;
  std::mutex connections_mu_;
  std::list<std::shared_ptr<Connection>> connections_;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  uint16_t port_ = 0;
  std::string url_;
};

Result<std::unique_ptr<OktaEmulator>> OktaEmulator::Create(EmulatorOptions options) {
  try {
    auto impl = std::make_unique<Impl>(std::move(options));
    if (auto s = impl->Init(); !s) return Fail(s.error());
    return std::unique_ptr<OktaEmulator>(new OktaEmulator(std::move(impl)));
  } catch (const std::exception& e) {
    return Fail(Error::Internal(std::string("cannot create the Okta emulator: ") + e.what()));
  }
}

OktaEmulator::OktaEmulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OktaEmulator::~OktaEmulator() = default;

std::string_view HeaderQuirkName(HeaderQuirk quirk) {
  switch (quirk) {
    case HeaderQuirk::kDuplicateReset: return "duplicate_reset";
    case HeaderQuirk::kBadDate: return "bad_date";
    case HeaderQuirk::kPastReset: return "past_reset";
  }
  return "";
}

std::optional<HeaderQuirk> ParseHeaderQuirk(std::string_view name) {
  for (const HeaderQuirk q : {HeaderQuirk::kDuplicateReset, HeaderQuirk::kBadDate, HeaderQuirk::kPastReset})
    if (HeaderQuirkName(q) == name) return q;
  return std::nullopt;
}
uint16_t OktaEmulator::port() const { return impl_->port(); }
std::string OktaEmulator::url() const { return impl_->url(); }
void OktaEmulator::Start() { impl_->Start(); }
void OktaEmulator::Stop() { impl_->Stop(); }

}  // namespace cordon::lab::okta
