#include "core/action.h"

#include <array>
#include <cstdio>
#include <ctime>
#include <utility>

namespace cordon {
namespace {

constexpr std::array<std::pair<Provider, std::string_view>, 3> kProviderNames{{
    {Provider::kActiveDirectory, "ad"},
    {Provider::kEntra, "entra"},
    {Provider::kOkta, "okta"},
}};

constexpr std::array<std::pair<ActionType, std::string_view>, 11> kActionNames{{
    {ActionType::kDisable, "disable"},
    {ActionType::kEnable, "enable"},
    {ActionType::kForcePasswordReset, "force_password_reset"},
    {ActionType::kClearPasswordReset, "clear_password_reset"},
    {ActionType::kSuspend, "suspend"},
    {ActionType::kUnsuspend, "unsuspend"},
    {ActionType::kDeactivate, "deactivate"},
    {ActionType::kActivate, "activate"},
    {ActionType::kRevokeSessions, "revoke_sessions"},
    {ActionType::kMarkCompromised, "mark_compromised"},
    {ActionType::kDismissRisk, "dismiss_risk"},
}};

constexpr std::array<std::pair<ActionStatus, std::string_view>, 7> kStatusNames{{
    {ActionStatus::kAwaitingApproval, "awaiting_approval"},
    {ActionStatus::kPending, "pending"},
    {ActionStatus::kInProgress, "in_progress"},
    {ActionStatus::kSucceeded, "succeeded"},
    {ActionStatus::kFailed, "failed"},
    {ActionStatus::kCancelled, "cancelled"},
    {ActionStatus::kRejected, "rejected"},
}};

template <typename Table, typename E>
std::string_view NameOf(const Table& table, E e) {
  for (const auto& [value, name] : table)
    if (value == e) return name;
  return "unknown";
}

template <typename E, typename Table>
std::optional<E> ValueOf(const Table& table, std::string_view s) {
  for (const auto& [value, name] : table)
    if (name == s) return value;
  return std::nullopt;
}

}  // namespace

std::string_view ToString(Provider p) { return NameOf(kProviderNames, p); }
std::string_view ToString(ActionType t) { return NameOf(kActionNames, t); }
std::string_view ToString(ActionStatus s) { return NameOf(kStatusNames, s); }
std::optional<Provider> ParseProvider(std::string_view s) { return ValueOf<Provider>(kProviderNames, s); }
std::optional<ActionType> ParseActionType(std::string_view s) { return ValueOf<ActionType>(kActionNames, s); }
std::optional<ActionStatus> ParseActionStatus(std::string_view s) { return ValueOf<ActionStatus>(kStatusNames, s); }

bool IsTerminal(ActionStatus s) {
  return s == ActionStatus::kSucceeded || s == ActionStatus::kFailed || s == ActionStatus::kCancelled ||
         s == ActionStatus::kRejected;
}

std::string FormatTime(TimePoint t) {
  const int64_t ms = ToUnixMillis(t);
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(frac));
  return buf;
}

std::optional<TimePoint> ParseTime(std::string_view s) {
  // Accepts YYYY-MM-DDTHH:MM:SS[.fff]Z (UTC only: the API documents this form).
  int y, mo, d, h, mi, sec;
  int consumed = 0;
  std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &consumed) != 6)
    return std::nullopt;
  int64_t ms = 0;
  size_t pos = static_cast<size_t>(consumed);
  if (pos < str.size() && str[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < str.size() && str[pos] >= '0' && str[pos] <= '9') {
      if (digits < 3) ms = ms * 10 + (str[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  if (pos + 1 != str.size() || (str[pos] != 'Z' && str[pos] != 'z')) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const std::time_t secs = timegm(&tm);
  return FromUnixMillis(static_cast<int64_t>(secs) * 1000 + ms);
}

}  // namespace cordon
