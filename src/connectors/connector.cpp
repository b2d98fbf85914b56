#include "connectors/connector.h"

#include <algorithm>

#include "core/catalogue.h"

namespace cordon {

Millis ExecutionContext::Remaining(Millis fallback) const {
  if (deadline == TimePoint{}) return fallback;
  return std::max(Millis(1), std::chrono::duration_cast<Millis>(deadline - Now()));
}

Result<CheckReport> Connector::Check(const ExecutionContext& context) {
  CheckReport report;
  const Status probe = Probe(context);
  report.checks.push_back({"connection", probe.has_value(), probe ? "the provider answered" : probe.error().message});
  for (const CatalogueEntry& e : Catalogue()) {
    if (e.provider != provider() || !Supports(e.type)) continue;
    report.actions.push_back({e.type, probe.has_value(),
                              probe ? "the connection works; the action account's rights were not asked"
                                         : "the provider cannot be reached with the action account"});
  }
  return report;
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
