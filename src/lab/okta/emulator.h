// OktaEmulator: a stateful stand-in for Okta's management API on loopback
// HTTPS, for the lab and the tests. It answers as Okta's documentation says
// Okta answers — user lifecycle, sessions, listings with cursor paging, SSWS
// API tokens and OAuth 2.0 client credentials with private_key_jwt, rate
// limits with their headers, Okta's error bodies — and adds a few lab-only
// routes under /lab/ to create sessions, read them back, inject faults and
// change settings at runtime (README.md lists them).
//
// One thread per connection, each request handled synchronously: an
// emulator serves a handful of clients, and blocking handlers make added
// latency, dropped connections and the concurrency limit exact.
//
// Thread-safety: Create, Start and Stop are called by one owning thread;
// port() and url() from any. The destructor stops the emulator.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "lab/okta/org.h"

namespace cordon::lab::okta {

// A service app allowed to use client credentials with private_key_jwt.
struct OAuthClient {
  std::string client_id;
  std::string public_key_pem;                          // its RSA public key (SubjectPublicKeyInfo PEM)
  std::vector<std::string> scopes = {"okta.users.manage"};  // what it was granted
};

// A request budget of one endpoint family: `limit` requests per fixed window.
struct RateLimit {
  int limit = 600;
  int window_seconds = 60;
};

// Endpoint families with their own budget.
inline constexpr std::string_view kUsersRead = "users.read";      // GET /api/v1/users[/{id}]
inline constexpr std::string_view kUsersManage = "users.manage";  // lifecycle, DELETE user, sessions
inline constexpr std::string_view kToken = "token";               // POST /oauth2/v1/token

// Odd headers clients have met in Okta's answers, put on every API answer
// while set (README.md describes each).
enum class HeaderQuirk {
  kDuplicateReset,  // "duplicate_reset": a second X-Rate-Limit-Reset, with another value
  kBadDate,         // "bad_date": a Date that is no HTTP date
  kPastReset,       // "past_reset": X-Rate-Limit-Reset already in the past
};
[[nodiscard]] std::string_view HeaderQuirkName(HeaderQuirk quirk);
[[nodiscard]] std::optional<HeaderQuirk> ParseHeaderQuirk(std::string_view name);

struct Faults {
  double error_rate = 0;  // share of API requests answered 500 E0000009
  double drop_rate = 0;   // share of API requests whose connection is closed unanswered
  int latency_ms = 0;     // added before every API request is handled
  std::vector<HeaderQuirk> header_quirks;
};

struct EmulatorOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port, see port()
  std::string tls_cert_file;
  std::string tls_key_file;
  // The org's base URL in links and the expected `aud` of client assertions;
  // empty: https://127.0.0.1:<port>.
  std::string org_url;
  Secret api_token;  // accepted as `Authorization: SSWS <token>`
  std::vector<OAuthClient> clients;
  std::chrono::seconds access_token_lifetime{3600};
  std::chrono::milliseconds deactivate_delay{1000};
  std::chrono::seconds clock_offset{0};
  std::map<std::string, RateLimit, std::less<>> rate_limits = {
      {std::string(kUsersRead), {}}, {std::string(kUsersManage), {}}, {std::string(kToken), {}}};
  int concurrency_limit = 75;  // API requests in flight at once
  Faults faults;
  std::vector<SeedUser> users;
  uint32_t id_seed = 1;
};

// The people of the lab: the lab directory's users under their
// userPrincipalName (staff, special users, contractors, domain admin, bulk),
// then a few Okta-only users in other states.
[[nodiscard]] std::vector<SeedUser> LabSeedUsers();

class OktaEmulator {
 public:
  // Loads the certificate and the clients' keys and binds the socket, so
  // port() is known; accepts nothing before Start().
  [[nodiscard]] static Result<std::unique_ptr<OktaEmulator>> Create(EmulatorOptions options);
  ~OktaEmulator();
  OktaEmulator(const OktaEmulator&) = delete;
  OktaEmulator& operator=(const OktaEmulator&) = delete;

  [[nodiscard]] uint16_t port() const;
  [[nodiscard]] std::string url() const;
  void Start();
  // Closes the listener and every connection, joins the threads. Idempotent.
  void Stop();

  class Impl;

 private:
  explicit OktaEmulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cordon::lab::okta
