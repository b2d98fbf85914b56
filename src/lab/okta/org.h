// OktaOrg: the state of an emulated Okta org — users with Okta's statuses and
// lifecycle transitions, their sessions, and user listings with Okta's
// search, filter and cursor semantics. No HTTP here: the emulator
// (emulator.h) maps requests onto these calls and answers in Okta's shapes.
//
// Deactivation is asynchronous as in Okta: the user carries
// `transitioningToStatus: DEPROVISIONED` until `deactivate_delay` has passed,
// then its status is DEPROVISIONED. The transition settles lazily, on the
// next read of the user.
//
// Thread-safety: every public member may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cordon::lab::okta {

enum class UserStatus {
  kStaged,
  kProvisioned,
  kActive,
  kRecovery,
  kLockedOut,
  kPasswordExpired,
  kSuspended,
  kDeprovisioned,
};

[[nodiscard]] std::string_view StatusName(UserStatus status);
[[nodiscard]] std::optional<UserStatus> ParseStatus(std::string_view name);

// Wall-clock time of the emulated org (system time plus a settable offset).
using TimePoint = std::chrono::system_clock::time_point;
using ClockFn = std::function<TimePoint()>;

struct Session {
  std::string id;
  TimePoint created;
  TimePoint expires;
};

struct OrgUser {
  std::string id;
  UserStatus status = UserStatus::kActive;
  std::optional<UserStatus> transitioning_to;
  std::chrono::steady_clock::time_point settles_at{};
  bool has_password = true;
  TimePoint created{};
  std::optional<TimePoint> activated;
  std::optional<TimePoint> status_changed;
  std::optional<TimePoint> last_login;
  TimePoint last_updated{};
  std::optional<TimePoint> password_changed;
  std::string login, email, first_name, last_name;
  std::string display_name;  // profile.displayName; empty: not set (null)
  std::vector<Session> sessions;
  int oauth_tokens = 0;
};

// Who the org starts with.
struct SeedUser {
  std::string login;
  std::string first_name;
  std::string last_name;
  UserStatus status = UserStatus::kActive;
};

// The outcome of a lifecycle call; `refusal` names why it is illegal.
struct Transition {
  enum class Outcome { kDone, kNotFound, kIllegal };
  Outcome outcome = Outcome::kDone;
  std::string refusal;
  std::string user_id;
};

// A user as an administrator creates one (Okta's create-user call).
struct NewUser {
  std::string login, email, first_name, last_name, display_name;
  bool has_password = false;  // credentials.password given (the value itself is never kept)
};

// Profile properties a partial update changes; those not given stay as they are.
struct ProfileChange {
  std::optional<std::string> login, email, first_name, last_name, display_name;
};

// The outcome of a create or a profile update.
struct Written {
  enum class Outcome { kDone, kNotFound, kLoginTaken };
  Outcome outcome = Outcome::kDone;
  OrgUser user;  // the user as it is now, when done
};

struct ListQuery {
  std::optional<std::string> search;  // Okta's `search` expression
  std::optional<std::string> filter;  // Okta's `filter` expression
  std::optional<std::string> q;       // prefix of firstName, lastName or email
  std::optional<std::string> after;   // cursor: the id of the last user of the previous page
  int limit = 200;
};

struct ListPage {
  std::vector<OrgUser> users;
  std::optional<std::string> next_after;  // set when there may be more
  std::optional<std::string> invalid;     // the expression could not be understood
};

class OktaOrg {
 public:
  OktaOrg(ClockFn clock, std::chrono::milliseconds deactivate_delay, uint32_t id_seed = 1);

  // Adds users in order; their ids are derived from `id_seed` and the order,
  // so the same seed gives the same ids.
  void Seed(const std::vector<SeedUser>& users);

  // By id, login, or login short name (the part before '@', if unique).
  [[nodiscard]] std::optional<OrgUser> Find(std::string_view id_or_login);

  [[nodiscard]] Transition Suspend(std::string_view id_or_login);
  [[nodiscard]] Transition Unsuspend(std::string_view id_or_login);
  [[nodiscard]] Transition Activate(std::string_view id_or_login);
  [[nodiscard]] Transition Reactivate(std::string_view id_or_login);
  [[nodiscard]] Transition Unlock(std::string_view id_or_login);
  // Starts the asynchronous deactivation; a user already transitioning to
  // DEPROVISIONED is left as it is. Illegal on a DEPROVISIONED user.
  [[nodiscard]] Transition Deactivate(std::string_view id_or_login);
  // Removes a DEPROVISIONED user for good; illegal on any other.
  [[nodiscard]] Transition Remove(std::string_view id_or_login);
  // Blocks until the user's pending transition, if any, has settled.
  void AwaitSettled(std::string_view id);

  // Creates a user as Okta does: STAGED without activation; with it ACTIVE
  // when a password was given, else PROVISIONED (activation by email).
  // Logins are unique regardless of case.
  [[nodiscard]] Written Create(const NewUser& user, bool activate);
  // Okta's partial profile update; a new login must still be unique.
  [[nodiscard]] Written UpdateProfile(std::string_view id_or_login, const ProfileChange& change);

  [[nodiscard]] std::optional<Session> AddSession(std::string_view id_or_login, int oauth_tokens);
  // Removes every session, and the OAuth tokens if asked; false if no such user.
  [[nodiscard]] bool RevokeSessions(std::string_view id_or_login, bool oauth_tokens);

  // One page of users in creation order. Without search or filter,
  // DEPROVISIONED users are left out, as Okta does; `q` never pages.
  [[nodiscard]] ListPage List(const ListQuery& query);

 private:
  std::string NewId();
  OrgUser* Locate(std::string_view id_or_login);  // mu_ held; settles the user
  bool LoginTaken(std::string_view login, std::string_view except_id) const;  // mu_ held
  void Settle(OrgUser& user);                     // mu_ held
  void SetStatus(OrgUser& user, UserStatus status);

  ClockFn clock_;
  std::chrono::milliseconds deactivate_delay_;
  uint64_t id_state_;
  std::mutex mu_;
  uint64_t next_ordinal_ = 1;
  std::map<uint64_t, OrgUser> users_;            // by ordinal: creation order, the listing order
  std::map<std::string, uint64_t> ordinal_of_;  // every id ever issued, deleted ones too (cursors)
};

}  // namespace cordon::lab::okta
