// AuthRecorder: what authentication leaves in the store, written off the
// request path and in batches, so that a flood of refused calls costs the
// store a bounded number of rows.
//
// Refusals (auth.unauthenticated, auth.forbidden) are aggregated per
// (event, client address, token id, route class) over one interval and
// written as one audit row each, with `count`, the time of the first, and the
// first one's detail plus the span of times. At most `max_keys` distinct keys
// are kept per interval; refusals beyond them are aggregated into one row per
// event (client address and token id empty). A token's use is noted at most
// once per `touch_interval` and written with Store::TouchTokens.
//
// A background thread (Start) writes everything every `interval`; Stop
// writes what is left; Flush writes now.
//
// Thread-safety: Refused, Used and Flush may be called from any thread;
// Start and Stop by one owner.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/action.h"
#include "core/error.h"
#include "store/store.h"

namespace cordon::api {

struct Refusal {
  std::string event;           // "auth.unauthenticated" | "auth.forbidden"
  std::string client_address;  // empty when unknown
  std::string actor;           // the token's name, or "anonymous"
  std::string token_id;        // the presented token's id when it is known (revoked and expired ones too)
  std::string route_class;     // the router's fixed name, e.g. "actions.submit"
  std::string detail;          // method, safe path and what was refused
  TimePoint at{};
};

struct AuthRecorderOptions {
  Millis interval{10000};        // refusals aggregate over this long; also how often the flusher writes
  size_t max_keys = 1000;        // distinct (event, address, token, route) keys per interval
  Millis touch_interval{60000};  // a token's use is noted at most once per this long
};

class AuthRecorder {
 public:
  using Options = AuthRecorderOptions;

  AuthRecorder(Store& store, Options options);
  ~AuthRecorder();
  AuthRecorder(const AuthRecorder&) = delete;
  AuthRecorder& operator=(const AuthRecorder&) = delete;

  void Refused(Refusal refusal);
  // Notes that the token `token_id` authenticated a call at `now`.
  void Used(const std::string& token_id, TimePoint now);

  // Writes every refusal and token use noted so far: one AppendAudit, one
  // TouchTokens. Rows the store refused are kept for the next flush.
  Status Flush();

  // Starts the background flusher (idempotent).
  void Start();
  // Stops it and writes what is left (idempotent).
  void Stop();

 private:
  struct Pending {
    std::string event, client_address, actor, token_id, route_class, detail;
    TimePoint first{}, last{};
    int64_t count = 0;
  };

  static AuditEvent ToAudit(const Pending& p);
  void Run();

  Store& store_;
  const Options options_;

  std::mutex mu_;  // guards the maps below
  std::unordered_map<std::string, Pending> refusals_;
  std::unordered_map<std::string, Pending> overflow_;  // by event
  std::unordered_map<std::string, TimePoint> noted_;   // token id -> last noted use
  std::vector<std::pair<std::string, TimePoint>> touches_;

  std::mutex flush_mu_;  // one flush at a time; guards retry_
  std::vector<AuditEvent> retry_;

  std::mutex run_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cordon::api
