#include "connectors/credential_cache.h"

#include <utility>

namespace cordon {

CredentialCache::CredentialCache(Loader loader, Millis renew_before)
    : loader_(std::move(loader)), renew_before_(renew_before) {}

Result<CredentialCache::Current> CredentialCache::Get(TimePoint now) {
  std::lock_guard lock(mu_);
  const bool fresh = cached_ && (cached_->expires_at == TimePoint{} || now + renew_before_ < cached_->expires_at);
  if (!fresh) {
    ++loads_;
    auto loaded = loader_();
    if (!loaded) {
      cached_.reset();
      return Fail(loaded.error());
    }
    cached_ = std::move(*loaded);
    ++generation_;
  }
  return Current{cached_->value, generation_};
}

void CredentialCache::Invalidate(uint64_t generation) {
  std::lock_guard lock(mu_);
  if (generation == generation_) cached_.reset();
}

uint64_t CredentialCache::loads() const {
  std::lock_guard lock(mu_);
  return loads_;
}

}  // namespace cordon
