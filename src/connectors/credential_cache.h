// CredentialCache: the credential a provider's connectors present — the
// action account's password, an OAuth access token — shared by every
// connector instance of that provider.
//
// The first Get() loads it through the loader; later calls get the cached
// value until it is about to expire (renewed `renew_before` ahead of its
// expiry) or the provider rejected it (Invalidate). So a rotated password file
// or a revoked token is picked up by the next Get() without a restart, and an
// instance that is thrown away after a lost connection takes nothing with it.
// One load runs at a time: concurrent callers wait for it rather than all
// asking the provider (a token endpoint has rate limits of its own). A failed
// load is not cached: the engine pauses a provider whose credentials fail, and
// its probe asks again.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "core/action.h"
#include "core/error.h"
#include "core/secret.h"

namespace cordon {

class CredentialCache {
 public:
  struct Credential {
    Secret value;
    TimePoint expires_at{};  // epoch: does not expire
  };
  using Loader = std::function<Result<Credential>()>;

  // What Get() hands out: the value, and which load it came from.
  struct Current {
    Secret value;
    uint64_t generation = 0;
  };

  explicit CredentialCache(Loader loader, Millis renew_before = Millis(60000));
  CredentialCache(const CredentialCache&) = delete;
  CredentialCache& operator=(const CredentialCache&) = delete;

  [[nodiscard]] Result<Current> Get(TimePoint now);
  // The provider refused the credential of `generation`; the next Get()
  // loads afresh. A stale report (an older generation) changes nothing, so a
  // burst of refusals of one credential causes one reload.
  void Invalidate(uint64_t generation);
  // How many times the loader ran.
  [[nodiscard]] uint64_t loads() const;

 private:
  const Loader loader_;
  const Millis renew_before_;
  mutable std::mutex mu_;  // held during a load: one load at a time
  std::optional<Credential> cached_;
  uint64_t generation_ = 0;
  uint64_t loads_ = 0;
};

}  // namespace cordon
