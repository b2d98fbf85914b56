#include "connectors/connector.h"

#include <algorithm>

#include "core/catalogue.h"

namespace cordon {

Millis ExecutionContext::Remaining(Millis fallback) const {
  if (deadline == TimePoint{}) return fallback;
  return std::max(Millis(1), std::chrono::duration_cast<Millis>(deadline - Now()));
}

Result<CheckReport> Connector::Check(const ExecutionContext& context) {
  // A provider that cannot be reached, or refuses the action account, cannot
  // be asked anything: that is an error, not a report.
  const Status probe = Probe(context);
  if (!probe && probe.error().blame == Blame::kProvider) return Fail(probe.error());
  CheckReport report;
  report.checks.push_back({"connection", probe.has_value(), probe ? "the provider answered" : probe.error().message});
  for (const CatalogueEntry& e : Catalogue()) {
    if (e.provider != provider() || !Supports(e.type)) continue;
    report.actions.push_back({e.type, probe.has_value(),
                              probe ? "the connection works; the action account's rights were not asked"
                                    : "the provider refused the connection check: " + probe.error().message});
  }
  return report;
}

Status Connector::ListAccounts(const ExecutionContext& /*context*/,
                               const std::function<Status(std::vector<AccountView>&&)>& /*page*/) {
  return Fail(Error::FailedPrecondition("the " + std::string(ToString(provider())) +
                                        " connector does not list its accounts"));
}

std::string ConnectorSection::Resolve(const std::string& path) const {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return (base_dir / path).lexically_normal().string();
}

}  // namespace cordon
