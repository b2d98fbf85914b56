#include "core/account.h"

namespace cordon {

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

std::optional<AccountStatus> ParseAccountStatus(std::string_view s) {
  for (AccountStatus status : {AccountStatus::kEnabled, AccountStatus::kDisabled, AccountStatus::kSuspended,
                               AccountStatus::kDeactivated, AccountStatus::kOther})
    if (ToString(status) == s) return status;
  return std::nullopt;
}

}  // namespace cordon
