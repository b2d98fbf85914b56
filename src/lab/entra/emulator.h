// GraphEmulator: a stateful stand-in for Microsoft Graph and the Microsoft
// identity platform's token endpoint on loopback HTTPS, for the lab and the
// tests. It answers as Microsoft documents — client credentials with a
// client secret or a certificate assertion, application permissions in the
// token's `roles`, users, sign-in sessions, Identity Protection's risky
// users, JSON batching, throttling with Retry-After, AAD's and Graph's error
// bodies with request ids — and adds lab-only routes under /lab/ to create
// sessions, read them back, inject faults, change settings at runtime and
// count what clients sent (README.md lists them).
//
// One thread per connection (keep-alive honoured), each request handled
// synchronously: an emulator serves a handful of clients, and blocking
// handlers make added latency and dropped connections exact.
//
// Thread-safety: Create, Start and Stop are called by one owning thread;
// port() and url() from any. The destructor stops the emulator.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "lab/entra/tenant.h"

namespace cordon::lab::entra {

// The application permissions the emulator knows by name (the token's `roles`).
inline constexpr std::string_view kUserReadAll = "User.Read.All";
inline constexpr std::string_view kUserReadWriteAll = "User.ReadWrite.All";
inline constexpr std::string_view kUserEnableDisableAccountAll = "User.EnableDisableAccount.All";
inline constexpr std::string_view kUserRevokeSessionsAll = "User.RevokeSessions.All";
inline constexpr std::string_view kDirectoryReadAll = "Directory.Read.All";
inline constexpr std::string_view kDirectoryReadWriteAll = "Directory.ReadWrite.All";
inline constexpr std::string_view kIdentityRiskyUserReadAll = "IdentityRiskyUser.Read.All";
inline constexpr std::string_view kIdentityRiskyUserReadWriteAll = "IdentityRiskyUser.ReadWrite.All";
// The higher privilege an app needs, in app-only calls, to change sensitive
// properties (accountEnabled among them) of a user holding an admin role: a
// privileged directory role assigned to the app (the token's `wids`). Granted
// like a permission, through `app_roles`.
inline constexpr std::string_view kPrivilegedAuthenticationAdministrator = "Privileged Authentication Administrator";

// How a 429 says when to come back.
enum class RetryAfterForm { kInteger, kDecimal, kMissing };

// Graph states its identity limits as a budget per app and tenant over a
// window of seconds (so many requests per 10 seconds); the emulator keeps one
// such budget: requests_per_second x window_seconds per fixed window.
struct Throttle {
  int requests_per_second = 0;  // 0: no throttling
  int window_seconds = 10;
  RetryAfterForm retry_after = RetryAfterForm::kInteger;
};

struct Faults {
  double error_rate = 0;  // share of Graph requests and batch items answered 503 or 500
  double drop_rate = 0;   // share of requests whose connection is closed unanswered
  int latency_ms = 0;     // added before every request is handled
};

// The app registration that signs in with client credentials.
struct AppRegistration {
  std::string client_id;
  std::string display_name = "Cordon";
  Secret client_secret;             // empty: no secret registered
  std::string certificate_pem;      // empty: no certificate registered
  std::vector<std::string> app_roles = {std::string(kUserReadAll), std::string(kUserEnableDisableAccountAll),
                                        std::string(kUserRevokeSessionsAll),
                                        std::string(kIdentityRiskyUserReadWriteAll)};
};

struct EmulatorOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port, see port()
  std::string tls_cert_file;
  std::string tls_key_file;
  // The origin of both the token endpoint and Graph; empty: https://127.0.0.1:<port>.
  std::string url;
  std::string tenant_id;      // a GUID
  std::string tenant_domain;  // a verified domain, also accepted in the token URL
  AppRegistration app;
  std::chrono::seconds token_lifetime{3599};
  std::chrono::seconds clock_offset{0};
  Throttle throttle;
  bool identity_protection_licence = true;  // Microsoft Entra ID P2
  Faults faults;
  std::vector<SeedUser> users;
};

// The people of the lab's tenant: the lab directory's users, synced, with
// their AD objectSid from `sids` (sAMAccountName -> SID string) where known;
// cloud-only users (chloe.cloudonly, colin.cloudonly, cloud0001 … cloud1000);
// a guest; dana.admin holds Global Administrator.
[[nodiscard]] std::vector<SeedUser> LabSeedUsers(const std::map<std::string, std::string>& sids);

// Reads the SIDs the lab exported ({"sids": {"alice.adams": "S-1-5-21-…"}});
// an empty map if the file is missing or malformed.
[[nodiscard]] std::map<std::string, std::string> ReadPeopleFile(const std::string& path);

class GraphEmulator {
 public:
  // Loads the certificates and binds the socket, so port() is known;
  // accepts nothing before Start().
  [[nodiscard]] static Result<std::unique_ptr<GraphEmulator>> Create(EmulatorOptions options);
  ~GraphEmulator();
  GraphEmulator(const GraphEmulator&) = delete;
  GraphEmulator& operator=(const GraphEmulator&) = delete;

  [[nodiscard]] uint16_t port() const;
  [[nodiscard]] std::string url() const;
  void Start();
  // Closes the listener and every connection, joins the threads. Idempotent.
  void Stop();

  class Impl;

 private:
  explicit GraphEmulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cordon::lab::entra
