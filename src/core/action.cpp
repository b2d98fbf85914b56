#include "core/action.h"

#include <array>
#include <cstdint>
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

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The value of s[pos, pos + n), which the caller has checked holds only digits.
int Digits(std::string_view s, size_t pos, size_t n) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int month) {
  constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(y) ? 29 : kDays[static_cast<size_t>(month - 1)];
}

}  // namespace

std::string_view ToString(Provider p) { return NameOf(kProviderNames, p); }
std::string_view ToString(ActionType t) { return NameOf(kActionNames, t); }
std::string_view ToString(ActionStatus s) { return NameOf(kStatusNames, s); }
std::optional<Provider> ParseProvider(std::string_view s) { return ValueOf<Provider>(kProviderNames, s); }
std::optional<ActionType> ParseActionType(std::string_view s) { return ValueOf<ActionType>(kActionNames, s); }
std::optional<ActionStatus> ParseActionStatus(std::string_view s) { return ValueOf<ActionStatus>(kStatusNames, s); }

std::string_view ToString(RiskLevel l) {
  switch (l) {
    case RiskLevel::kHigh: return "high";
  }
  return "unknown";
}

std::optional<RiskLevel> ParseRiskLevel(std::string_view s) {
  if (s == "high") return RiskLevel::kHigh;
  return std::nullopt;
}

bool IsTerminal(ActionStatus s) {
  return s == ActionStatus::kSucceeded || s == ActionStatus::kFailed || s == ActionStatus::kCancelled ||
         s == ActionStatus::kRejected;
}

bool IsActionId(std::string_view id) {
  constexpr std::string_view kPrefix = "act_";
  constexpr std::string_view kDigits = "0123456789abcdefghjkmnpqrstvwxyz";
  if (id.size() != kPrefix.size() + 26 || id.substr(0, kPrefix.size()) != kPrefix) return false;
  const std::string_view digits = id.substr(kPrefix.size());
  if (digits.front() < '0' || digits.front() > '7') return false;
  return digits.find_first_not_of(kDigits) == std::string_view::npos;
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
  // Exactly YYYY-MM-DDTHH:MM:SS[.fraction]Z: UTC only, as the API documents, so an offset is refused
  // rather than guessed at. Every field is a fixed run of digits; no sign, no space.
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (s.size() < kShape.size() + 1) return std::nullopt;
  for (size_t i = 0; i < kShape.size(); ++i) {
    const char c = s[i];
    switch (kShape[i]) {
      case 'd':
        if (!IsDigit(c)) return std::nullopt;
        break;
      case 'T':
        if (c != 'T' && c != 't') return std::nullopt;
        break;
      default:
        if (c != kShape[i]) return std::nullopt;
    }
  }
  const int y = Digits(s, 0, 4), mo = Digits(s, 5, 2), d = Digits(s, 8, 2);
  const int h = Digits(s, 11, 2), mi = Digits(s, 14, 2), sec = Digits(s, 17, 2);
  // A leap second (:60) is refused: timegm would silently move it into the next minute, and a time
  // the caller did not write is worse than an error.
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return std::nullopt;

  size_t pos = kShape.size();
  int64_t ms = 0;
  if (s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && IsDigit(s[pos])) {
      if (digits < 3) ms = ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  if (pos + 1 != s.size() || (s[pos] != 'Z' && s[pos] != 'z')) return std::nullopt;

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
