// FakeHttpProvider: a small HTTP identity provider on 127.0.0.1 (plain HTTP,
// a port of the kernel's choosing) that throttles, fails and refuses
// credentials on demand, for tests of the engine against HTTP providers.
//
// It speaks a trimmed Okta-like users API, every call with
// `Authorization: Bearer <credential>`:
//   GET  /api/v1/users/<login>                   {"id","status","profile":{"login"}}
//   POST /api/v1/users/<login>/lifecycle/suspend  the user becomes SUSPENDED
//   GET  /api/v1/ping                             {"ok":true}: can we work with you?
// Users exist on first sight as ACTIVE, except logins starting with
// "unknown", which are 404.
//
// How it answers follows a Plan, by the order requests arrive: of every
// `cycle` requests (counting those that pass the credential check), the
// first `throttled` get 429 (with `Retry-After: <seconds>`, or none), the next
// `unavailable` get 503, and the rest are served. A refused credential gets
// 401 before the plan is consulted. Every request is recorded: when it
// arrived (steady clock), what it asked, what it was answered.
//
// Thread-safety: every method may be called from any thread; the server
// answers on a thread of its own until it is destroyed.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cordon::testing {

class FakeHttpProvider {
 public:
  struct Plan {
    int cycle = 1;
    int throttled = 0;
    int unavailable = 0;
    // The Retry-After of a 429, in whole seconds; none: the header is left out.
    std::optional<int> retry_after_seconds = 1;
  };

  struct Request {
    std::chrono::steady_clock::time_point arrived;
    std::string method;
    std::string target;
    std::string credential;  // the bearer token as sent
    int status = 0;          // what it was answered
  };

  // Listens at once; throws std::runtime_error if it cannot.
  FakeHttpProvider();
  ~FakeHttpProvider();
  FakeHttpProvider(const FakeHttpProvider&) = delete;
  FakeHttpProvider& operator=(const FakeHttpProvider&) = delete;

  // e.g. "http://127.0.0.1:41234"
  [[nodiscard]] std::string base_url() const;

  void SetPlan(const Plan& plan);
  // Requests bearing `credential` get 401 until AcceptAllCredentials().
  void RefuseCredential(const std::string& credential);
  void AcceptAllCredentials();

  [[nodiscard]] std::vector<Request> Requests() const;
  [[nodiscard]] int64_t CountAnswered(int status) const;
  // The account's state as the provider holds it ("ACTIVE", "SUSPENDED"), or
  // empty if it never saw the login.
  [[nodiscard]] std::string UserStatus(const std::string& login) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cordon::testing
