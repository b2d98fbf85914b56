#include "connectors/connector.h"

#include <algorithm>

namespace cordon {

Millis ExecutionContext::Remaining(Millis fallback) const {
  if (deadline == TimePoint{}) return fallback;
  return std::max(Millis(1), std::chrono::duration_cast<Millis>(deadline - Now()));
}

std::string ConnectorSection::Resolve(const std::string& path) const {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return (base_dir / path).lexically_normal().string();
}

std::string_view ToString(AccountStatus status) {
  switch (status) {
    case AccountStatus::kEnabled: return "enabled";
    case AccountStatus::kDisabled: return "disabled";
    case AccountStatus::kSuspended: return "suspended";
    case AccountStatus::kDeactivated: return "deactivated";
    case AccountStatus::kOther: return "other";
  }
  return "other";
}

}  // namespace cordon
