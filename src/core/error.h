// Error and Result: the value every fallible call in Cordon returns.
//
// An Error carries what the action center needs: a code, a message fit for
// an analyst, whether retrying can help, whose problem it is (this action's,
// or the whole provider's), the provider's own hint of when to come back, and
// the provider's own answer (LDAP result code + diagnostic text, HTTP status +
// errorCode). Library exceptions are caught at the adapter boundary and
// turned into an Error.
//
// Thread-safety: plain value types.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace cordon {

enum class ErrorCode {
  kInvalidArgument,     // the request is malformed; never retried
  kNotFound,            // the account or action does not exist
  kAlreadyExists,
  kPermissionDenied,    // authorised caller, but the provider or policy refuses
  kUnauthenticated,     // bad or missing credentials
  kFailedPrecondition,  // illegal transition (e.g. cancel a finished action)
  kConflict,            // a concurrent change won; retrying re-reads state
  kUnavailable,         // the provider is down, busy or unreachable
  kTimeout,
  kResourceExhausted,   // throttled
  kInternal,
};

std::string_view ToString(ErrorCode code);

// Whose problem an error is. It decides what a failure costs:
// * kAction: something about this action or its account (no such user, no
//   access to it, a lost race). A retryable one spends one of the action's
//   attempts.
// * kProvider: the provider as a whole cannot be worked with right now (it
//   does not answer, it refuses the action account's credentials, it
//   throttles). Every queued action would get the same answer, so the action
//   spends nothing: the engine pauses the provider, probes it, and resumes.
enum class Blame { kAction, kProvider };

std::string_view ToString(Blame blame);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;          // shown in the action center; never holds a secret
  bool retryable = false;
  std::string provider_code;    // e.g. "ldap:50" or "http:429"
  std::string provider_detail;  // the provider's own words (diagnostic message)
  Blame blame = Blame::kAction;
  // The provider's own "come back after" (HTTP Retry-After, X-Rate-Limit-Reset),
  // honoured by the engine's backoff; none when the provider gave no hint.
  std::optional<std::chrono::milliseconds> retry_after;

  static Error InvalidArgument(std::string msg) { return Make(ErrorCode::kInvalidArgument, std::move(msg), false); }
  static Error NotFound(std::string msg) { return Make(ErrorCode::kNotFound, std::move(msg), false); }
  static Error AlreadyExists(std::string msg) { return Make(ErrorCode::kAlreadyExists, std::move(msg), false); }
  static Error PermissionDenied(std::string msg) { return Make(ErrorCode::kPermissionDenied, std::move(msg), false); }
  static Error Unauthenticated(std::string msg) { return Make(ErrorCode::kUnauthenticated, std::move(msg), false); }
  static Error FailedPrecondition(std::string msg) { return Make(ErrorCode::kFailedPrecondition, std::move(msg), false); }
  static Error Conflict(std::string msg) { return Make(ErrorCode::kConflict, std::move(msg), true); }
  static Error Unavailable(std::string msg) { return Make(ErrorCode::kUnavailable, std::move(msg), true); }
  static Error Timeout(std::string msg) { return Make(ErrorCode::kTimeout, std::move(msg), true); }
  static Error ResourceExhausted(std::string msg) { return Make(ErrorCode::kResourceExhausted, std::move(msg), true); }
  static Error Internal(std::string msg) { return Make(ErrorCode::kInternal, std::move(msg), false); }

  static Error Make(ErrorCode code, std::string msg, bool retryable) {
    Error e;
    e.code = code;
    e.message = std::move(msg);
    e.retryable = retryable;
    return e;
  }

  Error&& WithProvider(std::string code, std::string detail) && {
    provider_code = std::move(code);
    provider_detail = std::move(detail);
    return std::move(*this);
  }
  Error&& BlameProvider() && {
    blame = Blame::kProvider;
    return std::move(*this);
  }
  Error&& WithRetryAfter(std::chrono::milliseconds after) && {
    retry_after = after;
    return std::move(*this);
  }
};

template <typename T>
using Result = tl::expected<T, Error>;

// For functions that return nothing on success: `return {};` / `return Fail(...)`.
using Status = Result<void>;

inline tl::unexpected<Error> Fail(Error e) { return tl::unexpected<Error>(std::move(e)); }

}  // namespace cordon
