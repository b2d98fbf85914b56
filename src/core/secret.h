// Secret: a credential that never prints.
//
// Secrets reach Cordon only by reference (a file path or an environment
// variable name, see SecretRef) and are held in a Secret, whose every
// printable form is "***". Code that must hand the value to a library calls
// Reveal() at that single point. Secret wipes its buffer on destruction.
//
// Thread-safety: immutable after construction; safe to share const.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "core/error.h"

namespace cordon {

class Secret {
 public:
  static constexpr std::string_view kRedacted = "***";

  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  Secret(Secret&&) noexcept = default;
  Secret& operator=(Secret&&) noexcept = default;
  ~Secret();

  [[nodiscard]] const std::string& Reveal() const { return value_; }
  [[nodiscard]] bool empty() const { return value_.empty(); }
  [[nodiscard]] std::string_view ToString() const { return kRedacted; }

  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << kRedacted; }

 private:
  std::string value_;
};

// Where a secret lives. Exactly one of file / env is set.
struct SecretRef {
  std::string file;  // path; the first line (without the trailing newline) is the secret
  std::string env;   // environment variable name

  [[nodiscard]] bool empty() const { return file.empty() && env.empty(); }
  // Describes the reference (never the value), e.g. "file /etc/cordon/ad.pw".
  [[nodiscard]] std::string Describe() const;
};

// Loads the secret. Errors name the reference, never any content.
[[nodiscard]] Result<Secret> LoadSecret(const SecretRef& ref);

}  // namespace cordon
