// EntraTenant: the state of an emulated Microsoft Entra ID tenant — users
// with the properties Graph shows, the directory roles they hold, their
// sign-in sessions and their Identity Protection risk — and user listings
// with a small `$filter` and page tokens. No HTTP here: the emulator
// (emulator.h) maps Graph requests onto these calls and answers in Graph's
// shapes.
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

namespace cordon::lab::entra {

using TimePoint = std::chrono::system_clock::time_point;
using ClockFn = std::function<TimePoint()>;

// A directory role that makes a user "privileged" in the sense of Graph's
// sensitive actions (see README.md).
inline constexpr std::string_view kGlobalAdministrator = "Global Administrator";

struct Session {
  std::string id;
  TimePoint created;
};

// Identity Protection's view of a user (riskyUser).
struct Risk {
  std::string level = "none";   // none | low | medium | high | hidden
  std::string state = "none";   // none | confirmedSafe | remediated | dismissed | atRisk | confirmedCompromised | ...
  std::string detail = "none";  // riskDetail
  std::optional<TimePoint> updated;
};

struct TenantUser {
  std::string id;  // object id (GUID)
  std::string user_principal_name;
  std::string display_name, given_name, surname, mail;
  std::string job_title, department, office_location, mobile_phone, usage_location;
  bool account_enabled = true;
  std::string user_type = "Member";  // Member | Guest
  bool on_premises_sync_enabled = false;
  std::string on_premises_security_identifier;  // empty: none (cloud-only) or unknown
  std::string on_premises_sam_account_name;
  TimePoint created{};
  std::vector<std::string> directory_roles;  // e.g. "Global Administrator"
  std::vector<Session> sessions;
  Risk risk;
};

// Who the tenant starts with.
struct SeedUser {
  std::string user_principal_name;
  std::string given_name, surname, display_name;
  std::string user_type = "Member";
  bool synced = false;  // from on-premises AD
  std::string sam_account_name;
  std::string security_identifier;  // the AD objectSid, when known
  std::vector<std::string> directory_roles;
  Risk risk;
};

// The part of `$filter` the emulator understands: one comparison
// `prop eq 'value'` (prop: id, userPrincipalName, mail, displayName,
// onPremisesSecurityIdentifier; or accountEnabled eq true|false) or
// `startswith(prop,'value')` (userPrincipalName, displayName, mail).
struct UserFilter {
  enum class Op { kEq, kStartsWith };
  Op op = Op::kEq;
  std::string property;
  std::string value;  // "true"/"false" for accountEnabled
};
// nullopt: not a filter the emulator (or Graph, for users) supports.
[[nodiscard]] std::optional<UserFilter> ParseUserFilter(std::string_view text);

struct UserPage {
  std::vector<TenantUser> users;
  std::optional<uint64_t> next;  // the position to go on from, when there is more
};

class EntraTenant {
 public:
  EntraTenant(ClockFn clock, std::string tenant_id);

  // Adds users in order. A user's object id is derived from the tenant id
  // and the userPrincipalName, so the same seed gives the same ids.
  void Seed(const std::vector<SeedUser>& users);

  // Adds one user as Graph's create-user call does: `user` as the caller
  // gave it, with the object id and creation time the tenant gives it;
  // nullopt when its userPrincipalName is taken (in any case).
  [[nodiscard]] std::optional<TenantUser> Create(TenantUser user);

  // By object id or userPrincipalName (case-insensitive).
  [[nodiscard]] std::optional<TenantUser> Find(std::string_view id_or_upn);
  // Applies `change` to the user under the tenant's lock; false if no such user.
  [[nodiscard]] bool Update(std::string_view id_or_upn, const std::function<void(TenantUser&)>& change);

  [[nodiscard]] std::optional<Session> AddSession(std::string_view id_or_upn);
  // Removes every session; false if no such user.
  [[nodiscard]] bool RevokeSessions(std::string_view id_or_upn);
  // confirmCompromised / dismiss on each id; unknown ids are skipped. Returns how many matched.
  int ConfirmCompromised(const std::vector<std::string>& ids);
  int Dismiss(const std::vector<std::string>& ids);

  // Users in creation order from position `from`, at most `top`.
  [[nodiscard]] UserPage List(const std::optional<UserFilter>& filter, uint64_t from, int top);
  // Users Identity Protection has ever flagged (a risk state other than none).
  [[nodiscard]] UserPage ListRisky(uint64_t from, int top);

  [[nodiscard]] size_t size();

 private:
  TenantUser* Locate(std::string_view id_or_upn);  // mu_ held
  const TenantUser& Insert(TenantUser user);        // mu_ held; the UPN is free
  UserPage Page(const std::function<bool(const TenantUser&)>& match, uint64_t from, int top);

  ClockFn clock_;
  std::string tenant_id_;
  std::mutex mu_;
  uint64_t next_session_ = 1;
  std::vector<TenantUser> users_;               // creation order, the listing order
  std::map<std::string, size_t> by_key_;        // object id and lower-cased UPN -> index
};

// A GUID derived from a name (the UUID version 5 layout over SHA-1): the same
// name always gives the same id.
[[nodiscard]] std::string NameGuid(std::string_view ns, std::string_view name);

}  // namespace cordon::lab::entra
