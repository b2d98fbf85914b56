#include "lab/entra/emulator.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <ctime>
#include <fstream>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <variant>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include "lab/lab.h"

namespace cordon::lab::entra {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using Query = std::multimap<std::string, std::string>;

constexpr uint32_t kHeaderLimitBytes = 16 * 1024;
constexpr uint64_t kBodyLimitBytes = 1024 * 1024;  // a $batch of 20 items fits many times over
constexpr int kIdleSeconds = 30;
constexpr size_t kBatchLimit = 20;
constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 999;
constexpr std::string_view kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
constexpr std::string_view kGraphOrigin = "https://graph.microsoft.com";
constexpr std::string_view kInsufficient = "Insufficient privileges to complete the operation.";
// Template ids of the directory roles the emulator knows (the token's `wids`).
const std::map<std::string, std::string, std::less<>> kDirectoryRoles = {
    {std::string(kGlobalAdministrator), "62e90394-69f5-4237-9190-012177145e10"},
    {std::string(kPrivilegedAuthenticationAdministrator), "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"},
    {"User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"},
};

int64_t EpochSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// ISO 8601 in UTC; Graph writes seconds (createdDateTime, innerError.date)
// or fractions (riskLastUpdatedDateTime).
std::string Iso8601(TimePoint t, bool fraction) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fraction ? fmt::format("{}.{:03}Z", buf, ms % 1000) : fmt::format("{}Z", buf);
}

std::string HttpDate(TimePoint t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string RandomGuid() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  std::string out;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += fmt::format("{:02x}", b[i]);
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
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
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '@' || c == ',' || c == '$' ||
        c == '\'' || c == '(' || c == ')')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

// application/x-www-form-urlencoded, also the query string.
Query ParseForm(std::string_view text) {
  Query out;
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

std::optional<std::string> Param(const Query& params, const std::string& name) {
  const auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

// JOSE's base64url without padding (RFC 7515 §2) over OpenSSL's standard codec.
std::string Base64Url(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

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

// A compact JWT split into its decoded parts.
struct Jwt {
  json header, claims;
  std::string signed_part, signature;
};

std::optional<Jwt> SplitJwt(std::string_view text) {
  const size_t dot1 = text.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? std::string_view::npos : text.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || text.find('.', dot2 + 1) != std::string_view::npos) return std::nullopt;
  const auto header = Base64UrlDecode(text.substr(0, dot1));
  const auto claims = Base64UrlDecode(text.substr(dot1 + 1, dot2 - dot1 - 1));
  const auto signature = Base64UrlDecode(text.substr(dot2 + 1));
  if (!header || !claims || !signature) return std::nullopt;
  Jwt jwt{json::parse(*header, nullptr, false), json::parse(*claims, nullptr, false),
          std::string(text.substr(0, dot2)), *signature};
  if (!jwt.header.is_object() || !jwt.claims.is_object()) return std::nullopt;
  return jwt;
}

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

bool VerifyRs256(EVP_PKEY* key, std::string_view signed_part, std::string_view signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerifyUpdate(ctx, signed_part.data(), signed_part.size()) == 1 &&
      EVP_DigestVerifyFinal(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string HmacSha256(const std::string& key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac.data(), &len);
  return std::string(reinterpret_cast<const char*>(mac.data()), len);
}

bool SameBytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string RetryAfterName(RetryAfterForm form) {
  switch (form) {
    case RetryAfterForm::kInteger: return "integer";
    case RetryAfterForm::kDecimal: return "decimal";
    case RetryAfterForm::kMissing: return "missing";
  }
  return "integer";
}

std::optional<RetryAfterForm> ParseRetryAfter(const json& name) {
  if (!name.is_string()) return std::nullopt;
  for (const RetryAfterForm f : {RetryAfterForm::kInteger, RetryAfterForm::kDecimal, RetryAfterForm::kMissing})
    if (RetryAfterName(f) == name.get<std::string>()) return f;
  return std::nullopt;
}

// Who a Graph request comes from: the app's permissions and directory roles
// as its token carries them.
struct Caller {
  std::set<std::string> roles;
  std::set<std::string> wids;
  bool Has(std::initializer_list<std::string_view> any) const {
    for (const auto p : any)
      if (roles.count(std::string(p)) != 0) return true;
    return false;
  }
  bool HoldsRole(std::string_view name) const {
    const auto it = kDirectoryRoles.find(name);
    return it != kDirectoryRoles.end() && wids.count(it->second) != 0;
  }
};

// What a Graph route answers, before it becomes an HTTP answer or a batch item.
struct GraphAnswer {
  int status = 200;
  json body;  // null: no body
  std::vector<std::pair<std::string, std::string>> headers;
};

// The request ids one answer carries (Graph's request-id, the client's own).
struct Ids {
  std::string request_id;
  std::string client_request_id;
};

// The user properties the emulator renders, for `$select`.
const std::vector<std::string>& UserProperties() {
  static const std::vector<std::string> props = {
      "id", "userPrincipalName", "displayName", "givenName", "surname", "mail", "mailNickname", "accountEnabled",
      "userType", "jobTitle", "department", "officeLocation", "mobilePhone", "businessPhones", "preferredLanguage",
      "usageLocation", "createdDateTime", "onPremisesSyncEnabled", "onPremisesSecurityIdentifier",
      "onPremisesSamAccountName", "onPremisesDomainName", "onPremisesUserPrincipalName"};
  return props;
}
// What Graph returns for a user without $select.
const std::vector<std::string>& DefaultUserProperties() {
  static const std::vector<std::string> props = {"businessPhones", "displayName", "givenName", "jobTitle",
                                                 "mail", "mobilePhone", "officeLocation", "preferredLanguage",
                                                 "surname", "userPrincipalName", "id"};
  return props;
}

json NullIfEmpty(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json UserProperty(const TenantUser& u, std::string_view name) {
  if (name == "id") return u.id;
  if (name == "userPrincipalName") return u.user_principal_name;
  if (name == "displayName") return NullIfEmpty(u.display_name);
  if (name == "givenName") return NullIfEmpty(u.given_name);
  if (name == "surname") return NullIfEmpty(u.surname);
  if (name == "mail") return NullIfEmpty(u.mail);
  if (name == "mailNickname") return u.user_principal_name.substr(0, u.user_principal_name.find('@'));
  if (name == "accountEnabled") return u.account_enabled;
  if (name == "userType") return u.user_type;
  if (name == "jobTitle") return NullIfEmpty(u.job_title);
  if (name == "department") return NullIfEmpty(u.department);
  if (name == "officeLocation") return NullIfEmpty(u.office_location);
  if (name == "mobilePhone") return NullIfEmpty(u.mobile_phone);
  if (name == "businessPhones") return json::array();
  if (name == "preferredLanguage") return nullptr;
  if (name == "usageLocation") return NullIfEmpty(u.usage_location);
  if (name == "createdDateTime") return Iso8601(u.created, false);
  if (name == "onPremisesSyncEnabled") return u.on_premises_sync_enabled ? json(true) : json(nullptr);
  if (name == "onPremisesSecurityIdentifier") return NullIfEmpty(u.on_premises_security_identifier);
  if (name == "onPremisesSamAccountName") return NullIfEmpty(u.on_premises_sam_account_name);
  if (name == "onPremisesDomainName")
    return u.on_premises_sync_enabled ? json(std::string(kDnsDomain)) : json(nullptr);
  if (name == "onPremisesUserPrincipalName")
    return u.on_premises_sync_enabled ? json(u.user_principal_name) : json(nullptr);
  return nullptr;
}

json UserJson(const TenantUser& u, const std::vector<std::string>& select) {
  json j = json::object();
  for (const auto& p : select) j[p] = UserProperty(u, p);
  return j;
}

// A riskyUser's properties, all of which Graph returns without $select.
const std::vector<std::string>& RiskyUserProperties() {
  static const std::vector<std::string> props = {"id", "isDeleted", "isProcessing", "riskLastUpdatedDateTime",
                                                 "riskLevel", "riskState", "riskDetail", "userDisplayName",
                                                 "userPrincipalName"};
  return props;
}

json RiskyUserJson(const TenantUser& u, const std::vector<std::string>& select) {
  const json all = {{"id", u.id},
                    {"isDeleted", false},
                    {"isProcessing", false},
                    {"riskLastUpdatedDateTime", u.risk.updated ? json(Iso8601(*u.risk.updated, true)) : json(nullptr)},
                    {"riskLevel", u.risk.level},
                    {"riskState", u.risk.state},
                    {"riskDetail", u.risk.detail},
                    {"userDisplayName", u.display_name},
                    {"userPrincipalName", u.user_principal_name}};
  json j = json::object();
  for (const auto& p : select) j[p] = all.at(p);
  return j;
}

// Page tokens are opaque to clients: the position to go on from.
std::string SkipToken(uint64_t position) { return Base64Url("cordon-lab-skip:" + std::to_string(position)); }
std::optional<uint64_t> ParseSkipToken(const std::string& token) {
  const auto text = Base64UrlDecode(token);
  constexpr std::string_view kPrefix = "cordon-lab-skip:";
  if (!text || text->rfind(kPrefix, 0) != 0) return std::nullopt;
  try {
    return std::stoull(text->substr(kPrefix.size()));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

struct Client {
  AppRegistration registration;
  Pkey certificate_key;
  std::string x5t;       // base64url SHA-1 thumbprint of the certificate
  std::string x5t_s256;  // base64url SHA-256 thumbprint
};

struct Stats {
  int64_t http_requests = 0;
  int64_t batch_requests = 0;
  int64_t batch_items = 0;
  int64_t throttled = 0;
  std::map<std::string, int64_t> by_route;
};

}  // namespace

std::map<std::string, std::string> ReadPeopleFile(const std::string& path) {
  std::map<std::string, std::string> sids;
  std::ifstream in(path);
  if (!in) return sids;
  const json j = json::parse(in, nullptr, false);
  if (!j.is_object() || !j.contains("sids") || !j["sids"].is_object()) return sids;
  for (const auto& [sam, sid] : j["sids"].items())
    if (sid.is_string()) sids[sam] = sid.get<std::string>();
  return sids;
}

std::vector<SeedUser> LabSeedUsers(const std::map<std::string, std::string>& sids) {
  std::vector<SeedUser> users;
  const std::string domain = "@" + std::string(kDnsDomain);
  auto cap = [](std::string s) {
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
  };
  auto synced = [&](const std::string& sam, std::string given, std::string surname, std::string display) {
    SeedUser u;
    u.user_principal_name = sam + domain;
    u.given_name = std::move(given);
    u.surname = std::move(surname);
    u.display_name = std::move(display);
    u.synced = true;
    u.sam_account_name = sam;
    if (const auto it = sids.find(sam); it != sids.end()) u.security_identifier = it->second;
    users.push_back(std::move(u));
    return users.size() - 1;
  };
  auto person = [&](const std::string& sam) {
    const size_t dot = sam.find('.');
    const std::string given = cap(sam.substr(0, dot));
    const std::string surname = dot == std::string::npos ? "" : cap(sam.substr(dot + 1));
    return synced(sam, given, surname, given + " " + surname);
  };
  for (const auto& sam : StaffUsers()) person(sam);
  person(std::string(kPasswordNeverExpiresUser));
  person(std::string(kSmartcardRequiredUser));
  for (const auto& sam : OtherUsers()) person(sam);
  for (const auto& sam : DomainAdmins())
    if (sam != "Administrator") users[person(sam)].directory_roles = {std::string(kGlobalAdministrator)};
  for (int i = 1; i <= kBulkCount; ++i) {
    const std::string sam = BulkUser(i);
    synced(sam, "Bulk", sam, sam);  // as the lab's AD names them
  }
  // Only in Entra ID.
  auto cloud = [&](const std::string& upn, const std::string& given, const std::string& surname) {
    SeedUser u;
    u.user_principal_name = upn;
    u.given_name = given;
    u.surname = surname;
    users.push_back(std::move(u));
  };
  cloud("chloe.cloudonly" + domain, "Chloe", "Cloudonly");
  cloud("colin.cloudonly" + domain, "Colin", "Cloudonly");
  for (int i = 1; i <= kBulkCount; ++i) cloud(fmt::format("cloud{:04}{}", i, domain), "Cloud", fmt::format("{:04}", i));
  SeedUser guest;
  guest.user_principal_name = "gary.guest_partner.example#EXT#" + domain;
  guest.given_name = "Gary";
  guest.surname = "Guest";
  guest.user_type = "Guest";
  users.push_back(std::move(guest));
  return users;
}

class GraphEmulator::Impl {
 public:
  explicit Impl(EmulatorOptions options)
      : options_(std::move(options)),
        clock_offset_seconds_(options_.clock_offset.count()),
        token_lifetime_seconds_(options_.token_lifetime.count()),
        tenant_([this] { return Now(); }, options_.tenant_id),
        tls_(ssl::context::tls_server),
        acceptor_(ioc_),
        throttle_(options_.throttle),
        licence_(options_.identity_protection_licence),
        app_roles_(options_.app.app_roles),
        faults_(options_.faults),
        rng_(std::random_device{}()) {}

  ~Impl() { Stop(); }

  Status Init() {
    beast::error_code ec;
    tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls_.use_certificate_chain_file(options_.tls_cert_file, ec);
    if (ec) return Fail(Error::InvalidArgument("cannot load the TLS certificate " + options_.tls_cert_file));
    tls_.use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
    if (ec) return Fail(Error::InvalidArgument("cannot load the TLS key " + options_.tls_key_file));
    if (options_.tenant_id.empty() || options_.app.client_id.empty())
      return Fail(Error::InvalidArgument("the emulator needs a tenant id and a client id"));
    client_.registration = options_.app;
    if (!options_.app.certificate_pem.empty()) {
      BIO* bio = BIO_new_mem_buf(options_.app.certificate_pem.data(), static_cast<int>(options_.app.certificate_pem.size()));
      X509* cert = bio == nullptr ? nullptr : PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
      if (bio != nullptr) BIO_free(bio);
      if (cert == nullptr) return Fail(Error::InvalidArgument("the app's certificate is not a PEM certificate"));
      std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
      unsigned int len = 0;
      X509_digest(cert, EVP_sha1(), digest.data(), &len);
      client_.x5t = Base64Url(std::string_view(reinterpret_cast<const char*>(digest.data()), len));
      X509_digest(cert, EVP_sha256(), digest.data(), &len);
      client_.x5t_s256 = Base64Url(std::string_view(reinterpret_cast<const char*>(digest.data()), len));
      client_.certificate_key.reset(X509_get_pubkey(cert));
      X509_free(cert);
      if (!client_.certificate_key) return Fail(Error::InvalidArgument("the app's certificate has no public key"));
    }
    std::array<unsigned char, 32> key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
      return Fail(Error::Internal("the random generator failed"));
    token_key_.assign(reinterpret_cast<const char*>(key.data()), key.size());
    const auto address = asio::ip::make_address(options_.address, ec);
    if (ec || !address.is_loopback())
      return Fail(Error::InvalidArgument("the emulator listens on a loopback address only, not " + options_.address));
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return Fail(Error::Unavailable(
          fmt::format("cannot listen on {}:{}: {}", options_.address, options_.port, ec.message())));
    port_ = acceptor_.local_endpoint().port();
    url_ = options_.url.empty() ? fmt::format("https://127.0.0.1:{}", port_) : options_.url;
    tenant_.Seed(options_.users);
    return {};
  }

  uint16_t port() const { return port_; }
  const std::string& url() const { return url_; }

  void Start() {
    if (started_) return;
    started_ = true;
    accept_thread_ = std::thread([this] { AcceptLoop(); });
    spdlog::info("entra emulator: listening on {} (tenant {})", url_, options_.tenant_id);
  }

  void Stop() {
    if (stopping_.exchange(true)) return;
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

  TimePoint Now() const {
    return std::chrono::system_clock::now() + std::chrono::seconds(clock_offset_seconds_.load());
  }

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
      Ids ids{RandomGuid(), ""};
      if (const auto it = request.find("client-request-id"); it != request.end())
        ids.client_request_id = std::string(it->value()).substr(0, 128);
      if (ids.client_request_id.empty()) ids.client_request_id = ids.request_id;
      std::optional<Response> response;
      try {
        response = Handle(request, ids);
      } catch (const std::exception& e) {
        spdlog::error("entra emulator: {} {}: {}", std::string(request.method_string()),
                      std::string(request.target()), e.what());
        response = ToResponse(request, ids, GraphError(ids, 500, "generalException", "An unspecified error has occurred."));
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

  // --- answers -------------------------------------------------------------

  GraphAnswer GraphError(const Ids& ids, int status, std::string_view code, const std::string& message) const {
    return {status,
            {{"error",
              {{"code", code},
               {"message", message},
               {"innerError",
                {{"date", Iso8601(Now(), false)},
                 {"request-id", ids.request_id},
                 {"client-request-id", ids.client_request_id}}}}}},
            {}};
  }

  GraphAnswer NotFound(const Ids& ids, const std::string& key) const {
    return GraphError(ids, 404, "Request_ResourceNotFound",
                      "Resource '" + key +
                          "' does not exist or one of its queried reference-property objects are not present.");
  }
  GraphAnswer Denied(const Ids& ids) const { return GraphError(ids, 403, "Authorization_RequestDenied", std::string(kInsufficient)); }
  GraphAnswer BadRequest(const Ids& ids, const std::string& message, std::string_view code = "Request_BadRequest") const {
    return GraphError(ids, 400, code, message);
  }

  Response ToResponse(const Request& request, const Ids& ids, const GraphAnswer& a) const {
    Response r(static_cast<http::status>(a.status), request.version());
    r.set(http::field::date, HttpDate(Now()));
    r.set("request-id", ids.request_id);
    r.set("client-request-id", ids.client_request_id);
    r.set(http::field::cache_control, "no-cache");
    r.set("Strict-Transport-Security", "max-age=31536000");
    for (const auto& [name, value] : a.headers) r.set(name, value);
    if (!a.body.is_null()) {
      r.set(http::field::content_type, "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8");
      r.body() = a.body.dump();
    }
    return r;
  }

  // AAD's error shape for the token endpoint.
  GraphAnswer AadError(const Ids& ids, int status, std::string_view error, int code, const std::string& message) const {
    const std::string timestamp = [&] {
      std::string t = Iso8601(Now(), false);
      t[10] = ' ';
      return t;
    }();
    const std::string description = fmt::format("AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
                                                code, message, ids.request_id, ids.client_request_id, timestamp);
    return {status,
            {{"error", error},
             {"error_description", description},
             {"error_codes", {code}},
             {"timestamp", timestamp},
             {"trace_id", ids.request_id},
             {"correlation_id", ids.client_request_id},
             {"error_uri", url_ + "/error?code=" + std::to_string(code)}},
            {{"Pragma", "no-cache"}, {"Cache-Control", "no-store"}}};
  }

  bool Roll(double rate) {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    std::lock_guard lock(faults_mu_);
    return std::uniform_real_distribution<double>(0, 1)(rng_) < rate;
  }

  Faults CurrentFaults() {
    std::lock_guard lock(faults_mu_);
    return faults_;
  }

  void Count(const std::string& route) {
    std::lock_guard lock(stats_mu_);
    ++stats_.by_route[route];
  }

  // One request or batch item against the throttle: nullopt if admitted,
  // else the 429 to answer. Windows are fixed, window_seconds long, starting
  // on multiples of their length on the emulator's clock; each admits
  // requests_per_second x window_seconds.
  std::optional<GraphAnswer> Throttled(const Ids& ids) {
    Throttle t;
    int64_t ms_left = 0;
    {
      std::lock_guard lock(throttle_mu_);
      t = throttle_;
      if (t.requests_per_second <= 0) return std::nullopt;
      const int64_t length = int64_t{1000} * std::max(1, t.window_seconds);
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch()).count();
      const int64_t start = ms - ms % length;
      ms_left = start + length - ms;
      if (start != window_start_ms_) {
        window_start_ms_ = start;
        window_used_ = 0;
      }
      if (window_used_ < int64_t{t.requests_per_second} * std::max(1, t.window_seconds)) {
        ++window_used_;
        return std::nullopt;
      }
    }
    {
      std::lock_guard lock(stats_mu_);
      ++stats_.throttled;
    }
    GraphAnswer a = GraphError(ids, 429, "TooManyRequests", "Too many requests");
    const double wait = static_cast<double>(ms_left) / 1000.0;
    if (t.retry_after == RetryAfterForm::kInteger)
      a.headers.emplace_back("Retry-After", std::to_string(static_cast<int>(std::ceil(wait))));
    else if (t.retry_after == RetryAfterForm::kDecimal)
      a.headers.emplace_back("Retry-After", fmt::format("{:.3f}", std::max(0.001, wait)));
    return a;
  }

  std::optional<GraphAnswer> InjectedError(const Ids& ids, const Faults& faults) {
    if (!Roll(faults.error_rate)) return std::nullopt;
    if (Roll(0.5)) return GraphError(ids, 503, "serviceNotAvailable", "The service is temporarily unavailable.");
    return GraphError(ids, 500, "generalException", "An unspecified error has occurred.");
  }

  // --- dispatch --------------------------------------------------------------

  std::optional<Response> Handle(const Request& request, const Ids& ids) {
    const std::string target(request.target());
    const size_t qmark = target.find('?');
    const std::string path = PercentDecode(std::string_view(target).substr(0, qmark), false);
    const Query query =
        ParseForm(qmark == std::string::npos ? std::string_view() : std::string_view(target).substr(qmark + 1));

    if (path.rfind("/lab/", 0) == 0) return ToResponse(request, ids, HandleLab(request, ids, path));

    {
      std::lock_guard lock(stats_mu_);
      ++stats_.http_requests;
    }
    const Faults faults = CurrentFaults();
    if (faults.latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(faults.latency_ms));
    if (Roll(faults.drop_rate)) return std::nullopt;

    const std::string method(request.method_string());
    constexpr std::string_view kTokenTail = "/oauth2/v2.0/token";
    if (path.size() > kTokenTail.size() && path.compare(path.size() - kTokenTail.size(), kTokenTail.size(), kTokenTail) == 0 &&
        path.find('/', 1) == path.size() - kTokenTail.size()) {
      Count("POST /{tenant}/oauth2/v2.0/token");
      if (auto e = InjectedError(ids, faults)) return ToResponse(request, ids, *e);
      return ToResponse(request, ids, IssueToken(request, ids, path.substr(1, path.size() - kTokenTail.size() - 1)));
    }

    std::string version, rest;
    for (const std::string_view v : {"/v1.0", "/beta"})
      if (path.rfind(v, 0) == 0 && (path.size() == v.size() || path[v.size()] == '/')) {
        version = std::string(v.substr(1));
        rest = path.substr(v.size());
      }
    if (version.empty()) {
      const std::string first = path.substr(1, path.find('/', 1) == std::string::npos ? std::string::npos : path.find('/', 1) - 1);
      return ToResponse(request, ids, BadRequest(ids, "Invalid version: " + first, "BadRequest"));
    }
    const auto caller = Authenticate(request);
    if (!caller) return ToResponse(request, ids, TokenRefused(ids, request));
    if (rest == "/$batch") {
      Count("POST /$batch");
      if (request.method() != http::verb::post)
        return ToResponse(request, ids, GraphError(ids, 405, "Request_BadRequest",
                                                   "Specified HTTP method is not allowed for the request target."));
      return ToResponse(request, ids, Batch(ids, version, *caller, request.body(), faults));
    }
    if (auto t = Throttled(ids)) {
      Count(RouteName(method, rest));
      return ToResponse(request, ids, *t);
    }
    if (auto e = InjectedError(ids, faults)) {
      Count(RouteName(method, rest));
      return ToResponse(request, ids, *e);
    }
    return ToResponse(request, ids, Dispatch(ids, version, *caller, method, rest, query, request.body()));
  }

  // The route a request counts under in /lab/stats: ids replaced by {id}.
  static std::string RouteName(const std::string& method, const std::string& rest) {
    std::string route;
    size_t at = 1;
    int segment = 0;
    std::string first;
    while (at <= rest.size()) {
      const size_t slash = rest.find('/', at);
      std::string part = rest.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
      if (segment == 0) first = part;
      const bool id = (segment == 1 && first == "users") ||
                      (segment == 2 && first == "identityProtection" && part != "confirmCompromised" &&
                       part != "dismiss");
      route += "/" + (id ? std::string("{id}") : part);
      ++segment;
      if (slash == std::string::npos) break;
      at = slash + 1;
    }
    return method + " " + route;
  }

  GraphAnswer Dispatch(const Ids& ids, const std::string& version, const Caller& caller, const std::string& method,
                       const std::string& rest, const Query& query, const std::string& body) {
    Count(RouteName(method, rest));
    std::vector<std::string> segments;
    for (size_t at = 1; at <= rest.size();) {
      const size_t slash = rest.find('/', at);
      segments.push_back(rest.substr(at, slash == std::string::npos ? std::string::npos : slash - at));
      if (slash == std::string::npos) break;
      at = slash + 1;
    }
    auto not_allowed = [&] {
      return GraphError(ids, 405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.");
    };
    const std::string context = url_ + "/" + version + "/$metadata#";
    if (!segments.empty() && segments[0] == "users") {
      if (segments.size() == 1) {
        if (method == "GET") return ListUsers(ids, context, version, caller, query);
        if (method == "POST") return CreateUser(ids, context, caller, body);
        return not_allowed();
      }
      if (segments.size() == 2) {
        if (method == "GET") return GetUser(ids, context, caller, segments[1], query);
        if (method == "PATCH") return PatchUser(ids, caller, segments[1], body);
        return not_allowed();
      }
      if (segments.size() == 3 && segments[2] == "revokeSignInSessions")
        return method == "POST" ? Revoke(ids, context, caller, segments[1]) : not_allowed();
    }
    if (segments.size() >= 2 && segments[0] == "identityProtection" && segments[1] == "riskyUsers") {
      if (!caller.Has({kIdentityRiskyUserReadAll, kIdentityRiskyUserReadWriteAll})) return Denied(ids);
      if (!licence_.load())
        return GraphError(ids, 403, "Forbidden",
                          "Your tenant is not licensed for this feature. Microsoft Entra ID P2 is required.");
      if (segments.size() == 2) return method == "GET" ? ListRisky(ids, context, version, query) : not_allowed();
      const auto select = RiskySelect(query);
      if (const auto* e = std::get_if<std::string>(&select)) return BadRequest(ids, *e);
      const auto& props = std::get<std::vector<std::string>>(select);
      if (segments.size() == 3 && (segments[2] == "confirmCompromised" || segments[2] == "dismiss"))
        return method == "POST" ? SetRisk(ids, caller, segments[2] == "confirmCompromised", body) : not_allowed();
      if (segments.size() == 3) {
        if (method != "GET") return not_allowed();
        const auto u = tenant_.Find(segments[2]);
        if (!u || u->id != segments[2]) return NotFound(ids, segments[2]);
        json j = {{"@odata.context", context + "identityProtection/riskyUsers" + SelectSuffix(query, props) + "/$entity"}};
        j.update(RiskyUserJson(*u, props));
        return {200, j, {}};
      }
    }
    const std::string segment = segments.empty() ? "" : segments.back();
    return BadRequest(ids, "Resource not found for the segment '" + segment + "'.", "BadRequest");
  }

  // $select over `known` properties: the ones asked for, `defaults` without
  // one, or the error text naming an unknown one.
  static std::variant<std::vector<std::string>, std::string> SelectOf(const Query& query,
                                                                      const std::vector<std::string>& known,
                                                                      const std::vector<std::string>& defaults,
                                                                      std::string_view type) {
    const auto select = Param(query, "$select");
    if (!select) return defaults;
    std::vector<std::string> props;
    std::stringstream in(*select);
    for (std::string p; std::getline(in, p, ',');) {
      while (!p.empty() && p.front() == ' ') p.erase(0, 1);
      while (!p.empty() && p.back() == ' ') p.pop_back();
      if (p.empty()) continue;
      if (std::find(known.begin(), known.end(), p) == known.end())
        return "Could not find a property named '" + p + "' on type '" + std::string(type) + "'.";
      if (std::find(props.begin(), props.end(), p) == props.end()) props.push_back(p);
    }
    if (props.empty()) return defaults;
    return props;
  }
  static std::variant<std::vector<std::string>, std::string> Select(const Query& query) {
    return SelectOf(query, UserProperties(), DefaultUserProperties(), "Microsoft.DirectoryServices.User");
  }
  static std::variant<std::vector<std::string>, std::string> RiskySelect(const Query& query) {
    return SelectOf(query, RiskyUserProperties(), RiskyUserProperties(), "microsoft.graph.riskyUser");
  }

  static std::string SelectSuffix(const Query& query, const std::vector<std::string>& props) {
    if (!Param(query, "$select")) return "";
    std::string s;
    for (const auto& p : props) s += (s.empty() ? "" : ",") + p;
    return "(" + s + ")";
  }

  static bool MayRead(const Caller& caller) {
    return caller.Has({kUserReadAll, kUserReadWriteAll, kDirectoryReadAll, kDirectoryReadWriteAll});
  }

  // $top (1..999) and $skiptoken; an error text when either is wrong.
  std::variant<std::pair<int, uint64_t>, GraphAnswer> Paging(const Ids& ids, const Query& query, int default_top) const {
    int top = default_top;
    if (const auto t = Param(query, "$top")) {
      try {
        size_t used = 0;
        top = std::stoi(*t, &used);
        if (used != t->size()) throw std::invalid_argument("top");
      } catch (const std::exception&) {
        return BadRequest(ids, "Invalid page size specified: '" + *t + "'. Must be between 1 and 999 inclusive.",
                          "Request_UnsupportedQuery");
      }
      if (top < 1 || top > kMaxPage)
        return BadRequest(ids, "Invalid page size specified: '" + *t + "'. Must be between 1 and 999 inclusive.",
                          "Request_UnsupportedQuery");
    }
    uint64_t from = 0;
    if (const auto s = Param(query, "$skiptoken")) {
      const auto position = ParseSkipToken(*s);
      if (!position) return BadRequest(ids, "Invalid paging token.", "Directory_InvalidSkipToken");
      from = *position;
    }
    return std::pair{top, from};
  }

  std::string NextLink(const std::string& version, const std::string& path, const Query& query, uint64_t next) const {
    std::string q;
    for (const auto& [name, value] : query)
      if (name != "$skiptoken") q += (q.empty() ? "" : "&") + PercentEncode(name) + "=" + PercentEncode(value);
    q += (q.empty() ? "" : "&") + std::string("$skiptoken=") + SkipToken(next);
    return url_ + "/" + version + path + "?" + q;
  }

  GraphAnswer ListUsers(const Ids& ids, const std::string& context, const std::string& version, const Caller& caller,
                        const Query& query) {
    if (!MayRead(caller)) return Denied(ids);
    const auto select = Select(query);
    if (const auto* e = std::get_if<std::string>(&select)) return BadRequest(ids, *e);
    const auto& props = std::get<std::vector<std::string>>(select);
    std::optional<UserFilter> filter;
    if (const auto f = Param(query, "$filter")) {
      filter = ParseUserFilter(*f);
      if (!filter) return BadRequest(ids, "Unsupported or invalid query filter clause specified for property '" +
                                              f->substr(0, f->find(' ')) + "' of resource 'User'.",
                                     "Request_UnsupportedQuery");
    }
    const auto paging = Paging(ids, query, kDefaultPage);
    if (const auto* e = std::get_if<GraphAnswer>(&paging)) return *e;
    const auto [top, from] = std::get<std::pair<int, uint64_t>>(paging);
    const UserPage page = tenant_.List(filter, from, top);
    json value = json::array();
    for (const auto& u : page.users) value.push_back(UserJson(u, props));
    json j = {{"@odata.context", context + "users" + SelectSuffix(query, props)}};
    if (page.next) j["@odata.nextLink"] = NextLink(version, "/users", query, *page.next);
    j["value"] = std::move(value);
    return {200, j, {}};
  }

  GraphAnswer GetUser(const Ids& ids, const std::string& context, const Caller& caller, const std::string& key,
                      const Query& query) {
    if (!MayRead(caller)) return Denied(ids);
    const auto select = Select(query);
    if (const auto* e = std::get_if<std::string>(&select)) return BadRequest(ids, *e);
    const auto& props = std::get<std::vector<std::string>>(select);
    const auto u = tenant_.Find(key);
    if (!u) return NotFound(ids, key);
    json j = {{"@odata.context", context + "users" + SelectSuffix(query, props) + "/$entity"}};
    j.update(UserJson(*u, props));
    return {200, j, {}};
  }

  GraphAnswer PatchUser(const Ids& ids, const Caller& caller, const std::string& key, const std::string& text) {
    if (text.empty()) return BadRequest(ids, "Empty Payload. JSON content expected.");
    const json body = json::parse(text, nullptr, false);
    if (!body.is_object())
      return BadRequest(ids, "Unable to read JSON request payload. Please ensure Content-Type header is set and payload "
                             "is of valid JSON format.",
                        "BadRequest");
    static const std::set<std::string> kStrings = {"displayName", "givenName", "surname", "jobTitle", "department",
                                                   "officeLocation", "mobilePhone", "usageLocation"};
    static const std::set<std::string> kReadOnly = {"id", "createdDateTime", "onPremisesSyncEnabled",
                                                    "onPremisesSecurityIdentifier", "onPremisesSamAccountName",
                                                    "onPremisesDomainName", "onPremisesUserPrincipalName",
                                                    "userType", "mail", "userPrincipalName"};
    // Properties only the cloud may change on a user synced from AD.
    static const std::set<std::string> kCloudWritable = {"accountEnabled", "usageLocation"};
    bool account_enabled = false, other = false;
    for (const auto& [name, value] : body.items()) {
      if (name.rfind("@odata.", 0) == 0) continue;
      if (kReadOnly.count(name) != 0)
        return BadRequest(ids, "Property '" + name + "' is read-only and cannot be set.");
      if (name == "accountEnabled") {
        if (!value.is_boolean())
          return BadRequest(ids, "Invalid value specified for property 'accountEnabled' of resource 'User'.");
        account_enabled = true;
      } else if (name == "passwordProfile") {
        if (!value.is_object() || !value.value("password", json()).is_string())
          return BadRequest(ids, "Invalid value specified for property 'passwordProfile' of resource 'User'.");
        other = true;
      } else if (kStrings.count(name) != 0) {
        if (!value.is_string() && !value.is_null())
          return BadRequest(ids, "Invalid value specified for property '" + name + "' of resource 'User'.");
        other = true;
      } else {
        return BadRequest(ids, "Property '" + name + "' does not exist as a declared property or extension property.");
      }
    }
    const bool write_all = caller.Has({kUserReadWriteAll, kDirectoryReadWriteAll});
    if (account_enabled && !write_all && !caller.Has({kUserEnableDisableAccountAll})) return Denied(ids);
    if (other && !write_all) return Denied(ids);
    const auto u = tenant_.Find(key);
    if (!u) return NotFound(ids, key);
    if (u->on_premises_sync_enabled)
      for (const auto& [name, value] : body.items())
        if (name.rfind("@odata.", 0) != 0 && kCloudWritable.count(name) == 0)
          return BadRequest(ids, "Unable to update the specified properties for on-premises mastered Directory Sync "
                                 "objects or objects currently undergoing migration.");
    // Sensitive properties of a user holding an admin role: only an app
    // holding a higher privileged directory role may change them.
    const bool sensitive = account_enabled || body.contains("passwordProfile") || body.contains("mobilePhone");
    if (sensitive && !u->directory_roles.empty() &&
        !caller.HoldsRole(kPrivilegedAuthenticationAdministrator) && !caller.HoldsRole(kGlobalAdministrator))
      return Denied(ids);
    (void)tenant_.Update(u->id, [&](TenantUser& t) {
      for (const auto& [name, value] : body.items()) {
        const std::string s = value.is_string() ? value.get<std::string>() : "";
        if (name == "accountEnabled") t.account_enabled = value.get<bool>();
        else if (name == "displayName") t.display_name = s;
        else if (name == "givenName") t.given_name = s;
        else if (name == "surname") t.surname = s;
        else if (name == "jobTitle") t.job_title = s;
        else if (name == "department") t.department = s;
        else if (name == "officeLocation") t.office_location = s;
        else if (name == "mobilePhone") t.mobile_phone = s;
        else if (name == "usageLocation") t.usage_location = s;
      }
    });
    return {204, nullptr, {}};
  }

  // POST /users: Graph's create-user call. accountEnabled, displayName,
  // mailNickname, userPrincipalName (on the tenant's verified domain) and
  // passwordProfile are required; the password is checked for shape and not
  // kept. Answers 201 with the user's default properties.
  GraphAnswer CreateUser(const Ids& ids, const std::string& context, const Caller& caller, const std::string& text) {
    if (!caller.Has({kUserReadWriteAll, kDirectoryReadWriteAll})) return Denied(ids);
    if (text.empty()) return BadRequest(ids, "Empty Payload. JSON content expected.");
    const json body = json::parse(text, nullptr, false);
    if (!body.is_object())
      return BadRequest(ids, "Unable to read JSON request payload. Please ensure Content-Type header is set and payload "
                             "is of valid JSON format.",
                        "BadRequest");
    static const std::set<std::string> kStrings = {"displayName", "mailNickname", "userPrincipalName", "givenName",
                                                   "surname", "jobTitle", "department", "officeLocation",
                                                   "mobilePhone", "usageLocation", "mail"};
    static const std::set<std::string> kReadOnly = {"id", "createdDateTime", "onPremisesSyncEnabled",
                                                    "onPremisesSecurityIdentifier", "onPremisesSamAccountName",
                                                    "onPremisesDomainName", "onPremisesUserPrincipalName"};
    auto invalid = [&](const std::string& name) {
      return BadRequest(ids, "Invalid value specified for property '" + name + "' of resource 'User'.");
    };
    for (const auto& [name, value] : body.items()) {
      if (name.rfind("@odata.", 0) == 0) continue;
      if (kReadOnly.count(name) != 0) return BadRequest(ids, "Property '" + name + "' is read-only and cannot be set.");
      if (name == "accountEnabled") {
        if (!value.is_boolean()) return invalid(name);
      } else if (name == "passwordProfile") {
        if (!value.is_object() || !value.value("password", json()).is_string()) return invalid(name);
      } else if (name == "userType") {
        if (value != "Member" && value != "Guest") return invalid(name);
      } else if (kStrings.count(name) != 0) {
        if (!value.is_string() && !value.is_null()) return invalid(name);
      } else {
        return BadRequest(ids, "Property '" + name + "' does not exist as a declared property or extension property.");
      }
    }
    if (!body.contains("passwordProfile")) return BadRequest(ids, "A password must be specified to create a new user.");
    // Graph's limits: displayName 256 characters, mailNickname 64, a UPN's
    // alias 64 (113 in all).
    for (const auto& [name, longest] : {std::pair<const char*, size_t>{"accountEnabled", 0}, {"displayName", 256},
                                        {"mailNickname", 64}, {"userPrincipalName", 113}}) {
      if (!body.contains(name) || body[name].is_null()) return invalid(name);
      if (longest > 0 && (body[name].get<std::string>().empty() || body[name].get<std::string>().size() > longest))
        return invalid(name);
    }
    const std::string upn = body["userPrincipalName"];
    const size_t at = upn.find('@');
    if (at == std::string::npos || at == 0 || at > 64 ||
        (!options_.tenant_domain.empty() && Lower(upn.substr(at + 1)) != Lower(options_.tenant_domain)))
      return BadRequest(ids, "The domain portion of the userPrincipalName property is invalid. You must use one of "
                             "the verified domain names in your organization.");
    TenantUser u;
    u.user_principal_name = upn;
    u.account_enabled = body["accountEnabled"].get<bool>();
    u.user_type = body.value("userType", "Member");
    auto text_of = [&](const char* name) {
      return body.contains(name) && body[name].is_string() ? body[name].get<std::string>() : std::string();
    };
    u.display_name = text_of("displayName");
    u.given_name = text_of("givenName");
    u.surname = text_of("surname");
    u.mail = text_of("mail");
    u.job_title = text_of("jobTitle");
    u.department = text_of("department");
    u.office_location = text_of("officeLocation");
    u.mobile_phone = text_of("mobilePhone");
    u.usage_location = text_of("usageLocation");
    const auto created = tenant_.Create(std::move(u));
    if (!created)
      return BadRequest(ids, "Another object with the same value for property userPrincipalName already exists.");
    json j = {{"@odata.context", context + "users/$entity"}};
    j.update(UserJson(*created, DefaultUserProperties()));
    return {201, j, {}};
  }

  GraphAnswer Revoke(const Ids& ids, const std::string& context, const Caller& caller, const std::string& key) {
    if (!caller.Has({kUserRevokeSessionsAll, kDirectoryReadWriteAll})) return Denied(ids);
    if (!tenant_.RevokeSessions(key)) return NotFound(ids, key);
    return {200, {{"@odata.context", context + "Edm.Boolean"}, {"value", true}}, {}};
  }

  GraphAnswer ListRisky(const Ids& ids, const std::string& context, const std::string& version, const Query& query) {
    const auto select = RiskySelect(query);
    if (const auto* e = std::get_if<std::string>(&select)) return BadRequest(ids, *e);
    const auto& props = std::get<std::vector<std::string>>(select);
    const auto paging = Paging(ids, query, 20);
    if (const auto* e = std::get_if<GraphAnswer>(&paging)) return *e;
    const auto [top, from] = std::get<std::pair<int, uint64_t>>(paging);
    const UserPage page = tenant_.ListRisky(from, top);
    json value = json::array();
    for (const auto& u : page.users) value.push_back(RiskyUserJson(u, props));
    json j = {{"@odata.context", context + "identityProtection/riskyUsers" + SelectSuffix(query, props)}};
    if (page.next) j["@odata.nextLink"] = NextLink(version, "/identityProtection/riskyUsers", query, *page.next);
    j["value"] = std::move(value);
    return {200, j, {}};
  }

  GraphAnswer SetRisk(const Ids& ids, const Caller& caller, bool compromised, const std::string& text) {
    if (!caller.Has({kIdentityRiskyUserReadWriteAll})) return Denied(ids);
    const json body = json::parse(text, nullptr, false);
    if (!body.is_object() || !body.contains("userIds") || !body["userIds"].is_array() || body["userIds"].empty())
      return BadRequest(ids, "The request body must hold userIds, a list of user object ids.", "BadRequest");
    std::vector<std::string> user_ids;
    for (const json& id : body["userIds"]) {
      if (!id.is_string()) return BadRequest(ids, "userIds: object ids (strings) expected.", "BadRequest");
      user_ids.push_back(id.get<std::string>());
    }
    if (compromised) tenant_.ConfirmCompromised(user_ids);
    else tenant_.Dismiss(user_ids);
    return {204, nullptr, {}};
  }

  // --- $batch ----------------------------------------------------------------

  GraphAnswer Batch(const Ids& ids, const std::string& version, const Caller& caller, const std::string& text,
                    const Faults& faults) {
    const json body = json::parse(text, nullptr, false);
    if (!body.is_object() || !body.contains("requests") || !body["requests"].is_array())
      return BadRequest(ids, "Invalid batch payload format.", "BadRequest");
    const json& items = body["requests"];
    if (items.size() > kBatchLimit)
      return BadRequest(ids, fmt::format("The number of requests in the batch ({}) exceeds the limit of {}.",
                                         items.size(), kBatchLimit),
                        "BadRequest");
    std::set<std::string> seen;
    for (const json& item : items) {
      if (!item.is_object() || !item.contains("id") || !item["id"].is_string() || !item.contains("method") ||
          !item["method"].is_string() || !item.contains("url") || !item["url"].is_string())
        return BadRequest(ids, "Each request of a batch needs id, method and url.", "BadRequest");
      if (!seen.insert(item["id"].get<std::string>()).second)
        return BadRequest(ids, "Batch request ids must be unique: " + item["id"].get<std::string>(), "BadRequest");
    }
    {
      std::lock_guard lock(stats_mu_);
      ++stats_.batch_requests;
      stats_.batch_items += static_cast<int64_t>(items.size());
    }
    std::map<std::string, int> statuses;
    json responses = json::array();
    for (const json& item : items) {
      const std::string id = item["id"];
      Ids item_ids{RandomGuid(), ids.client_request_id};
      const json& headers = item.value("headers", json::object());
      if (headers.is_object())
        for (const auto& [name, value] : headers.items())
          if (value.is_string() && (name == "client-request-id" || name == "Client-Request-Id"))
            item_ids.client_request_id = value.get<std::string>().substr(0, 128);
      const GraphAnswer a = BatchItem(item_ids, version, caller, item, statuses, faults);
      statuses[id] = a.status;
      json h = {{"request-id", item_ids.request_id}, {"client-request-id", item_ids.client_request_id}};
      for (const auto& [name, value] : a.headers) h[name] = value;
      json r = {{"id", id}, {"status", a.status}, {"headers", h}};
      if (!a.body.is_null()) {
        r["headers"]["Content-Type"] = "application/json";
        r["body"] = a.body;
      }
      responses.push_back(std::move(r));
    }
    return {200, {{"responses", responses}}, {}};
  }

  GraphAnswer BatchItem(const Ids& ids, const std::string& version, const Caller& caller, const json& item,
                        const std::map<std::string, int>& statuses, const Faults& faults) {
    if (const json& deps = item.value("dependsOn", json::array()); deps.is_array())
      for (const json& d : deps) {
        const auto it = d.is_string() ? statuses.find(d.get<std::string>()) : statuses.end();
        if (it == statuses.end() || it->second < 200 || it->second > 299)
          return GraphError(ids, 424, "FailedDependency", "The request depends on a request that failed.");
      }
    std::string method = item["method"];
    std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
    std::string url = item["url"];
    if (url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0)
      return BadRequest(ids, "The url of a batch request must be relative.", "BadRequest");
    if (url.empty() || url[0] != '/') url.insert(0, "/");
    const size_t qmark = url.find('?');
    const std::string rest = PercentDecode(std::string_view(url).substr(0, qmark), false);
    const Query query = ParseForm(qmark == std::string::npos ? std::string_view() : std::string_view(url).substr(qmark + 1));
    if (rest == "/$batch") return BadRequest(ids, "A batch cannot hold a batch.", "BadRequest");
    std::string body;
    if (item.contains("body") && !item["body"].is_null())
      body = item["body"].is_string() ? item["body"].get<std::string>() : item["body"].dump();
    if (auto t = Throttled(ids)) {
      Count(RouteName(method, rest));
      return *t;
    }
    if (auto e = InjectedError(ids, faults)) {
      Count(RouteName(method, rest));
      return *e;
    }
    return Dispatch(ids, version, caller, method, rest, query, body);
  }

  // --- tokens ----------------------------------------------------------------

  std::optional<Caller> Authenticate(const Request& request) {
    const auto it = request.find(http::field::authorization);
    if (it == request.end()) return std::nullopt;
    const std::string value(it->value());
    if (value.size() < 7 || (value.rfind("Bearer ", 0) != 0 && value.rfind("bearer ", 0) != 0)) return std::nullopt;
    const auto jwt = SplitJwt(std::string_view(value).substr(7));
    if (!jwt || jwt->header.value("alg", "") != "HS256") return std::nullopt;
    if (!SameBytes(HmacSha256(token_key_, jwt->signed_part), jwt->signature)) return std::nullopt;
    const json& c = jwt->claims;
    if (!c.contains("exp") || !c["exp"].is_number() || c["exp"].get<int64_t>() <= EpochSeconds(Now()))
      return std::nullopt;
    Caller caller;
    for (const json& r : c.value("roles", json::array()))
      if (r.is_string()) caller.roles.insert(r.get<std::string>());
    for (const json& w : c.value("wids", json::array()))
      if (w.is_string()) caller.wids.insert(w.get<std::string>());
    return caller;
  }

  // Why a bearer token was refused, in Graph's words.
  GraphAnswer TokenRefused(const Ids& ids, const Request& request) {
    const auto it = request.find(http::field::authorization);
    std::string message = "Access token is empty.";
    if (it != request.end()) {
      message = "Access token validation failure. Invalid audience.";
      const std::string value(it->value());
      const auto jwt = value.size() > 7 ? SplitJwt(std::string_view(value).substr(7)) : std::nullopt;
      if (!jwt) message = "IDX14100: JWT is not well formed, there are no dots (.).";
      else if (SameBytes(HmacSha256(token_key_, jwt->signed_part), jwt->signature) &&
               jwt->claims.value("exp", int64_t{0}) <= EpochSeconds(Now()))
        message = "Lifetime validation failed, the token is expired.";
      else message = "Access token validation failure.";
    }
    GraphAnswer a = GraphError(ids, 401, "InvalidAuthenticationToken", message);
    a.headers.emplace_back("WWW-Authenticate",
                           fmt::format("Bearer realm=\"\", authorization_uri=\"{}/{}/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
                                       url_, options_.tenant_id));
    return a;
  }

  GraphAnswer IssueToken(const Request& request, const Ids& ids, const std::string& tenant) {
    if (request.method() != http::verb::post)
      return AadError(ids, 405, "invalid_request", 900561, "The endpoint only accepts POST requests.");
    if (tenant != options_.tenant_id && (options_.tenant_domain.empty() || tenant != options_.tenant_domain))
      return AadError(ids, 400, "invalid_request", 90002,
                      "Tenant '" + tenant + "' not found. Check to make sure you have the correct tenant ID and are "
                      "signing into the correct cloud.");
    const Query form = ParseForm(request.body());
    const std::string grant = Param(form, "grant_type").value_or("");
    if (grant.empty())
      return AadError(ids, 400, "invalid_request", 900144,
                      "The request body must contain the following parameter: 'grant_type'.");
    if (grant != "client_credentials")
      return AadError(ids, 400, "unsupported_grant_type", 70003,
                      "The app requested an unsupported grant type '" + grant + "'.");
    const auto assertion = Param(form, "client_assertion");
    std::string client_id = Param(form, "client_id").value_or("");
    std::optional<Jwt> jwt;
    if (assertion) {
      jwt = SplitJwt(*assertion);
      if (!jwt) return AadError(ids, 401, "invalid_client", 50027, "JWT token is invalid or malformed.");
      if (client_id.empty()) client_id = jwt->claims.value("sub", "");
    }
    if (client_id.empty())
      return AadError(ids, 400, "invalid_request", 900144,
                      "The request body must contain the following parameter: 'client_id'.");
    if (client_id != client_.registration.client_id)
      return AadError(ids, 400, "unauthorized_client", 700016,
                      "Application with identifier '" + client_id + "' was not found in the directory '" + tenant +
                          "'. This can happen if the application has not been installed by the administrator of the "
                          "tenant or consented to by any user in the tenant.");
    const std::string scope = Param(form, "scope").value_or("");
    if (scope.empty())
      return AadError(ids, 400, "invalid_request", 900144,
                      "The request body must contain the following parameter: 'scope'.");
    if (scope.size() < 9 || scope.compare(scope.size() - 9, 9, "/.default") != 0 || scope.find(' ') != std::string::npos)
      return AadError(ids, 400, "invalid_scope", 1002012,
                      "The provided value for scope " + scope + " is not valid. Client credential flows must have a "
                      "scope value with /.default suffixed to the resource identifier (application ID URI).");
    const std::string resource = scope.substr(0, scope.size() - 9);
    if (resource != url_ && resource != kGraphOrigin && resource != url_ + "/" && resource != std::string(kGraphOrigin) + "/")
      return AadError(ids, 400, "invalid_resource", 500011,
                      "The resource principal named " + resource + " was not found in the tenant named " + tenant +
                          ". This can happen if the application has not been installed by the administrator of the "
                          "tenant or consented to by any user in the tenant.");
    if (assertion) {
      if (Param(form, "client_assertion_type").value_or("") != kAssertionType)
        return AadError(ids, 400, "invalid_request", 700021,
                        "The client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.");
      if (auto refused = CheckAssertion(ids, *jwt, client_id)) return *refused;
    } else if (const auto secret = Param(form, "client_secret")) {
      const Secret& expected = client_.registration.client_secret;
      if (expected.empty() || !SameBytes(*secret, expected.Reveal()))
        return AadError(ids, 401, "invalid_client", 7000215,
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                        "secret value, not the client secret ID, for a secret added to app '" + client_id + "'.");
    } else {
      return AadError(ids, 401, "invalid_client", 7000218,
                      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    return {200, Token(client_id), {{"Pragma", "no-cache"}, {"Cache-Control", "no-store"}}};
  }

  std::optional<GraphAnswer> CheckAssertion(const Ids& ids, const Jwt& jwt, const std::string& client_id) {
    auto refuse = [&](int code, const std::string& message) {
      return AadError(ids, 401, "invalid_client", code, message);
    };
    if (jwt.header.value("alg", "") != "RS256")
      return refuse(5002738, "Invalid JWT token. '" + jwt.header.value("alg", "") + "' is not a supported signature algorithm.");
    if (!client_.certificate_key)
      return refuse(700027, "Client assertion failed signature validation. [Reason - The key was not found.]");
    const std::string x5t = jwt.header.value("x5t", ""), x5t_s256 = jwt.header.value("x5t#S256", "");
    const bool key_named = (!x5t.empty() && x5t == client_.x5t) || (!x5t_s256.empty() && x5t_s256 == client_.x5t_s256);
    if (!key_named)
      return refuse(700027, "Client assertion failed signature validation. [Reason - The key was not found., "
                            "Thumbprint of key used by client: '" + (x5t.empty() ? x5t_s256 : x5t) + "']");
    if (!VerifyRs256(client_.certificate_key.get(), jwt.signed_part, jwt.signature))
      return refuse(700027, "Client assertion failed signature validation.");
    if (jwt.claims.value("iss", "") != client_id || jwt.claims.value("sub", "") != client_id)
      return refuse(700023, "Client assertion issuer and subject must both be the application's client id.");
    const std::string token_url = url_ + "/" + options_.tenant_id + "/oauth2/v2.0/token";
    const std::string domain_url = url_ + "/" + options_.tenant_domain + "/oauth2/v2.0/token";
    const json& aud = jwt.claims.contains("aud") ? jwt.claims["aud"] : json();
    if (!aud.is_string() || (aud != token_url && (options_.tenant_domain.empty() || aud != domain_url)))
      return refuse(700212, "Client assertion audience claim does not match the token endpoint. Expected '" +
                                token_url + "'.");
    const int64_t now = EpochSeconds(Now());
    const json& exp = jwt.claims.contains("exp") ? jwt.claims["exp"] : json();
    const json& nbf = jwt.claims.contains("nbf") ? jwt.claims["nbf"] : json();
    if (!exp.is_number() || exp.get<int64_t>() <= now || (nbf.is_number() && nbf.get<int64_t>() > now))
      return refuse(700024, fmt::format("Client assertion is not within its valid time range. Current time: {}, "
                                        "assertion valid from {}, expiry time of assertion {}.",
                                        Iso8601(Now(), true), nbf.is_number() ? std::to_string(nbf.get<int64_t>()) : "-",
                                        exp.is_number() ? std::to_string(exp.get<int64_t>()) : "-"));
    return std::nullopt;
  }

  // An access token: a JWT (HS256 with the emulator's own key) carrying the
  // app's permissions in `roles` and its directory roles in `wids`.
  json Token(const std::string& client_id) {
    const int64_t lifetime = token_lifetime_seconds_.load();
    const int64_t now = EpochSeconds(Now());
    json roles = json::array(), wids = json::array();
    {
      std::lock_guard lock(settings_mu_);
      for (const auto& r : app_roles_) {
        if (const auto it = kDirectoryRoles.find(r); it != kDirectoryRoles.end()) wids.push_back(it->second);
        else roles.push_back(r);
      }
    }
    const json claims = {{"aud", url_},
                         {"iss", "https://sts.windows.net/" + options_.tenant_id + "/"},
                         {"iat", now},
                         {"nbf", now},
                         {"exp", now + lifetime},
                         {"app_displayname", client_.registration.display_name},
                         {"appid", client_id},
                         {"appidacr", "1"},
                         {"idtyp", "app"},
                         {"oid", NameGuid(options_.tenant_id, "service-principal/" + client_id)},
                         {"roles", roles},
                         {"wids", wids},
                         {"sub", NameGuid(options_.tenant_id, "service-principal/" + client_id)},
                         {"tid", options_.tenant_id},
                         {"uti", RandomGuid()},
                         {"ver", "1.0"}};
    const std::string signed_part =
        Base64Url(json{{"typ", "JWT"}, {"alg", "HS256"}}.dump()) + "." + Base64Url(claims.dump());
    return {{"token_type", "Bearer"},
            {"expires_in", lifetime},
            {"ext_expires_in", lifetime},
            {"access_token", signed_part + "." + Base64Url(HmacSha256(token_key_, signed_part))}};
  }

  // --- lab routes ------------------------------------------------------------

  GraphAnswer HandleLab(const Request& request, const Ids& ids, const std::string& path) {
    if (!Authenticate(request)) return TokenRefused(ids, request);
    json body = json::object();
    const bool post = request.method() == http::verb::post;
    if (post && !request.body().empty()) {
      body = json::parse(request.body(), nullptr, false);
      if (!body.is_object()) return BadRequest(ids, "The request body is not a JSON object.", "BadRequest");
    }
    try {
      if (path == "/lab/settings") return Settings(ids, post, body);
      if (path == "/lab/faults") {
        std::lock_guard lock(faults_mu_);
        if (post) {
          faults_.error_rate = body.value("error_rate", faults_.error_rate);
          faults_.drop_rate = body.value("drop_rate", faults_.drop_rate);
          faults_.latency_ms = body.value("latency_ms", faults_.latency_ms);
        }
        return {200,
                {{"error_rate", faults_.error_rate}, {"drop_rate", faults_.drop_rate}, {"latency_ms", faults_.latency_ms}},
                {}};
      }
      if (path == "/lab/stats") {
        std::lock_guard lock(stats_mu_);
        if (request.method() == http::verb::delete_) {
          stats_ = {};
          return {204, nullptr, {}};
        }
        return {200,
                {{"http_requests", stats_.http_requests},
                 {"batch_requests", stats_.batch_requests},
                 {"batch_items", stats_.batch_items},
                 {"throttled", stats_.throttled},
                 {"by_route", stats_.by_route}},
                {}};
      }
    } catch (const json::exception& e) {
      return BadRequest(ids, std::string("a setting has the wrong type: ") + e.what(), "BadRequest");
    }
    constexpr std::string_view kUsers = "/lab/users/";
    constexpr std::string_view kSessions = "/sessions";
    if (path.rfind(kUsers, 0) == 0 && path.size() > kUsers.size() + kSessions.size() &&
        path.compare(path.size() - kSessions.size(), kSessions.size(), kSessions) == 0) {
      const std::string key = path.substr(kUsers.size(), path.size() - kUsers.size() - kSessions.size());
      if (post) {
        const auto s = tenant_.AddSession(key);
        if (!s) return NotFound(ids, key);
        return {201, {{"id", s->id}, {"createdDateTime", Iso8601(s->created, true)}}, {}};
      }
      const auto u = tenant_.Find(key);
      if (!u) return NotFound(ids, key);
      json sessions = json::array();
      for (const auto& s : u->sessions) sessions.push_back({{"id", s.id}, {"createdDateTime", Iso8601(s.created, true)}});
      return {200, {{"userId", u->id}, {"userPrincipalName", u->user_principal_name}, {"sessions", sessions}}, {}};
    }
    return BadRequest(ids, "Resource not found for the segment '" + path.substr(path.rfind('/') + 1) + "'.", "BadRequest");
  }

  GraphAnswer Settings(const Ids& ids, bool post, const json& body) {
    std::lock_guard lock(settings_mu_);
    if (post) {
      // Checked before anything changes, so a refused request changes nothing.
      std::optional<RetryAfterForm> form;
      if (body.contains("throttle")) {
        const json& t = body["throttle"];
        if (!t.is_object()) return BadRequest(ids, "throttle: an object", "BadRequest");
        if (t.contains("retry_after")) {
          form = ParseRetryAfter(t["retry_after"]);
          if (!form) return BadRequest(ids, "throttle.retry_after: integer, decimal or missing", "BadRequest");
        }
        if (t.contains("window_seconds") &&
            (!t["window_seconds"].is_number_integer() || t["window_seconds"].get<int64_t>() < 1 ||
             t["window_seconds"].get<int64_t>() > 3600))
          return BadRequest(ids, "throttle.window_seconds: 1 to 3600", "BadRequest");
      }
      if (body.contains("app_roles")) {
        if (!body["app_roles"].is_array()) return BadRequest(ids, "app_roles: a list of names", "BadRequest");
        for (const json& r : body["app_roles"])
          if (!r.is_string()) return BadRequest(ids, "app_roles: a list of names", "BadRequest");
      }
      if (body.contains("token_lifetime_seconds")) {
        const int64_t s = body["token_lifetime_seconds"].get<int64_t>();
        if (s < 1) return BadRequest(ids, "token_lifetime_seconds: at least 1", "BadRequest");
        token_lifetime_seconds_ = s;
      }
      if (body.contains("clock_offset_seconds")) clock_offset_seconds_ = body["clock_offset_seconds"].get<int64_t>();
      if (body.contains("identity_protection_licence")) licence_ = body["identity_protection_licence"].get<bool>();
      if (body.contains("app_roles")) app_roles_ = body["app_roles"].get<std::vector<std::string>>();
      if (body.contains("throttle")) {
        std::lock_guard tlock(throttle_mu_);
        throttle_.requests_per_second =
            std::max(0, body["throttle"].value("requests_per_second", throttle_.requests_per_second));
        throttle_.window_seconds = body["throttle"].value("window_seconds", throttle_.window_seconds);
        if (form) throttle_.retry_after = *form;
        window_start_ms_ = 0;
        window_used_ = 0;
      }
    }
    Throttle t;
    {
      std::lock_guard tlock(throttle_mu_);
      t = throttle_;
    }
    return {200,
            {{"token_lifetime_seconds", token_lifetime_seconds_.load()},
             {"clock_offset_seconds", clock_offset_seconds_.load()},
             {"throttle",
              {{"requests_per_second", t.requests_per_second},
               {"window_seconds", t.window_seconds},
               {"retry_after", RetryAfterName(t.retry_after)}}},
             {"identity_protection_licence", licence_.load()},
             {"app_roles", app_roles_}},
            {}};
  }

  EmulatorOptions options_;
  std::atomic<int64_t> clock_offset_seconds_;
  std::atomic<int64_t> token_lifetime_seconds_;
  EntraTenant tenant_;
  asio::io_context ioc_;
  ssl::context tls_;
  tcp::acceptor acceptor_;
  Client client_;
  std::string token_key_;
  std::mutex throttle_mu_;
  Throttle throttle_;
  int64_t window_start_ms_ = 0;
  int64_t window_used_ = 0;
  std::atomic<bool> licence_;
  std::mutex settings_mu_;
  std::vector<std::string> app_roles_;
  std::mutex stats_mu_;
  Stats stats_;
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

Result<std::unique_ptr<GraphEmulator>> GraphEmulator::Create(EmulatorOptions options) {
  try {
    auto impl = std::make_unique<Impl>(std::move(options));
    if (auto s = impl->Init(); !s) return Fail(s.error());
    return std::unique_ptr<GraphEmulator>(new GraphEmulator(std::move(impl)));
  } catch (const std::exception& e) {
    return Fail(Error::Internal(std::string("cannot create the Graph emulator: ") + e.what()));
  }
}

GraphEmulator::GraphEmulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GraphEmulator::~GraphEmulator() = default;
uint16_t GraphEmulator::port() const { return impl_->port(); }
std::string GraphEmulator::url() const { return impl_->url(); }
void GraphEmulator::Start() { impl_->Start(); }
void GraphEmulator::Stop() { impl_->Stop(); }

}  // namespace cordon::lab::entra
