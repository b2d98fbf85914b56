#include "lab/okta/org.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <thread>

namespace cordon::lab::okta {
namespace {

constexpr std::array<std::string_view, 8> kStatusNames = {
    "STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "LOCKED_OUT", "PASSWORD_EXPIRED", "SUSPENDED", "DEPROVISIONED"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

using Predicate = std::function<bool(const OrgUser&)>;

// Okta's filter and search expressions: `attr op "value"` terms joined by
// `and` / `or`, with parentheses. Filter allows only `eq` on a few
// attributes and compares values case-sensitively; search also allows `sw`
// and (on the four name attributes) `co`, and ignores the case of values.
class Expression {
 public:
  Expression(std::string_view text, bool search) : text_(text), search_(search) {}

  std::optional<Predicate> Parse() {
    auto p = Or();
    Skip();
    if (!p || pos_ != text_.size()) return std::nullopt;
    return p;
  }

 private:
  void Skip() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  std::string Word() {
    Skip();
    const size_t start = pos_;
    while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_])) && text_[pos_] != '(' &&
           text_[pos_] != ')')
      ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  bool Keyword(std::string_view word) {
    Skip();
    const size_t save = pos_;
    if (Lower(Word()) == word) return true;
    pos_ = save;
    return false;
  }
  std::optional<Predicate> Or() {
    auto left = And();
    if (!left) return std::nullopt;
    while (Keyword("or")) {
      auto right = And();
      if (!right) return std::nullopt;
      left = [l = *left, r = *right](const OrgUser& u) { return l(u) || r(u); };
    }
    return left;
  }
  std::optional<Predicate> And() {
    auto left = Factor();
    if (!left) return std::nullopt;
    while (Keyword("and")) {
      auto right = Factor();
      if (!right) return std::nullopt;
      left = [l = *left, r = *right](const OrgUser& u) { return l(u) && r(u); };
    }
    return left;
  }
  std::optional<Predicate> Factor() {
    Skip();
    if (pos_ < text_.size() && text_[pos_] == '(') {
      ++pos_;
      auto inner = Or();
      Skip();
      if (!inner || pos_ >= text_.size() || text_[pos_] != ')') return std::nullopt;
      ++pos_;
      return inner;
    }
    const std::string attr = Word();
    const std::string op = Lower(Word());
    Skip();
    if (pos_ >= text_.size() || text_[pos_] != '"') return std::nullopt;
    const size_t close = text_.find('"', pos_ + 1);
    if (close == std::string_view::npos) return std::nullopt;
    std::string value(text_.substr(pos_ + 1, close - pos_ - 1));
    pos_ = close + 1;
    return Term(attr, op, std::move(value));
  }
  std::optional<Predicate> Term(const std::string& attr, const std::string& op, std::string value) {
    std::function<std::string(const OrgUser&)> field;
    bool name_field = true;
    if (attr == "profile.login") field = [](const OrgUser& u) { return u.login; };
    else if (attr == "profile.email") field = [](const OrgUser& u) { return u.email; };
    else if (attr == "profile.firstName") field = [](const OrgUser& u) { return u.first_name; };
    else if (attr == "profile.lastName") field = [](const OrgUser& u) { return u.last_name; };
    else {
      name_field = false;
      if (attr == "id") field = [](const OrgUser& u) { return u.id; };
      else if (attr == "status") field = [](const OrgUser& u) { return std::string(StatusName(u.status)); };
      else return std::nullopt;
    }
    const bool allowed = op == "eq" || (search_ && op == "sw") || (search_ && op == "co" && name_field);
    if (!allowed) return std::nullopt;
    const bool fold = search_;
    if (fold) value = Lower(value);
    return [field, op, value, fold](const OrgUser& u) {
      const std::string actual = fold ? Lower(field(u)) : field(u);
      if (op == "eq") return actual == value;
      if (op == "sw") return actual.rfind(value, 0) == 0;
      return actual.find(value) != std::string::npos;
    };
  }

  std::string_view text_;
  bool search_;
  size_t pos_ = 0;
};

}  // namespace

std::string_view StatusName(UserStatus status) { return kStatusNames[static_cast<size_t>(status)]; }

std::optional<UserStatus> ParseStatus(std::string_view name) {
  for (size_t i = 0; i < kStatusNames.size(); ++i)
    if (kStatusNames[i] == name) return static_cast<UserStatus>(i);
  return std::nullopt;
}

OktaOrg::OktaOrg(ClockFn clock, std::chrono::milliseconds deactivate_delay, uint32_t id_seed)
    : clock_(std::move(clock)), deactivate_delay_(deactivate_delay), id_state_(0x9E3779B97F4A7C15ULL ^ id_seed) {}

// Okta's user ids: "00u" and 17 letters or digits, 20 characters in all.
// splitmix64, so a seed always gives the same ids.
std::string OktaOrg::NewId() {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  for (;;) {
    std::string id = "00u";
    while (id.size() < 20) {
      uint64_t z = (id_state_ += 0x9E3779B97F4A7C15ULL);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      z ^= z >> 31;
      id += kAlphabet[z % kAlphabet.size()];
    }
    if (!ordinal_of_.contains(id)) return id;
  }
}

void OktaOrg::Seed(const std::vector<SeedUser>& users) {
  std::lock_guard lock(mu_);
  const TimePoint now = clock_();
  const TimePoint created = now - std::chrono::hours(24 * 90);
  for (const auto& s : users) {
    OrgUser u;
    u.id = NewId();
    u.status = s.status;
    u.has_password = s.status != UserStatus::kStaged;
    u.created = created;
    if (s.status != UserStatus::kStaged && s.status != UserStatus::kProvisioned) u.activated = created;
    u.status_changed = s.status == UserStatus::kActive ? std::optional<TimePoint>() : now - std::chrono::hours(24);
    if (s.status == UserStatus::kActive) u.last_login = now - std::chrono::hours(2);
    u.last_updated = u.status_changed.value_or(created);
    if (u.has_password) u.password_changed = created;
    u.login = s.login;
    u.email = s.login;
    u.first_name = s.first_name;
    u.last_name = s.last_name;
    const uint64_t ordinal = next_ordinal_++;
    ordinal_of_[u.id] = ordinal;
    users_.emplace(ordinal, std::move(u));
  }
}

void OktaOrg::Settle(OrgUser& user) {
  if (!user.transitioning_to || std::chrono::steady_clock::now() < user.settles_at) return;
  const UserStatus to = *user.transitioning_to;
  user.transitioning_to.reset();
  SetStatus(user, to);
}

void OktaOrg::SetStatus(OrgUser& user, UserStatus status) {
  const TimePoint now = clock_();
  user.status = status;
  user.status_changed = now;
  user.last_updated = now;
  if (status == UserStatus::kActive && !user.activated) user.activated = now;
  if (status == UserStatus::kDeprovisioned) {
    user.sessions.clear();
    user.oauth_tokens = 0;
  }
}

OrgUser* OktaOrg::Locate(std::string_view id_or_login) {
  OrgUser* found = nullptr;
  if (auto it = ordinal_of_.find(std::string(id_or_login)); it != ordinal_of_.end()) {
    if (auto u = users_.find(it->second); u != users_.end()) found = &u->second;
  }
  if (found == nullptr) {
    // Okta matches logins without regard to case.
    const std::string wanted = Lower(id_or_login);
    OrgUser* short_match = nullptr;
    int short_matches = 0;
    for (auto& [ordinal, u] : users_) {
      const std::string login = Lower(u.login);
      if (login == wanted) {
        found = &u;
        break;
      }
      if (login.substr(0, login.find('@')) == wanted) {
        short_match = &u;
        ++short_matches;
      }
    }
    if (found == nullptr && short_matches == 1) found = short_match;
  }
  if (found != nullptr) Settle(*found);
  return found;
}

std::optional<OrgUser> OktaOrg::Find(std::string_view id_or_login) {
  std::lock_guard lock(mu_);
  OrgUser* u = Locate(id_or_login);
  if (u == nullptr) return std::nullopt;
  return *u;
}

Transition OktaOrg::Suspend(std::string_view id_or_login) {
  std::lock_guard lock(mu_);
  OrgUser* u = Locate(id_or_login);
  if (u == nullptr) return {Transition::Outcome::kNotFound};
  if (u->status != UserStatus::kActive || u->transitioning_to)
    return {Transition::Outcome::kIllegal, "Cannot suspend a user that is not active", u->id};
  SetStatus(*u, UserStatus::kSuspended);
  return {Transition::Outcome::kDone, {}, u->id};
}

Transition OktaOrg::Unsuspend(std::string_view id_or_login) {
  std::lock_guard lock(mu_);
  OrgUser* u = Locate(id_or_login);
  if (u == nullptr) return {Transition::Outcome::kNotFound};
  if (u->status != UserStatus::kSuspended || u->transitioning_to)
    return {Transition::Outcome::kIllegal, "Cannot unsuspend a user that is not suspended", u->id};
  SetStatus(*u, UserStatus::kActive);
  return {Transition::Outcome::kDone, {}, u->id};
}

Transition OktaOrg::Activate(std::string_view id_or_login) {
  std::lock_guard lock(mu_);
  OrgUser* u = Locate(id_or_login);
  if (u == nullptr) return {Transition::Outcome::kNotFound};
  const bool allowed = u->status == UserStatus::kStaged || u->status == UserStatus::kProvisioned ||
                       u->status == UserStatus::kDeprovisioned;
  if (!allowed || u->transitioning_to)
    return {Transition::Outcome::kIllegal, "Activation failed because the user is already active", u->id};
  // A user without a password must finish the welcome flow: PROVISIONED until then.
  SetStatus(*u, u->has_password ? UserStatus::kActive : UserStatus::kProvisioned);
  return {Transition::Outcome::kDone, {}, u->id};
}

Transition OktaOrg::Reactivate(std::string_view id_or_login) {
  std::lock_guard lock(mu_);
  OrgUser* u = Locate(id_or_login);
  if (u == nullptr) return {Transition::Outcome::kNotFound};
  if ((u->status != UserStatus::kProvisioned && u->status != UserStatus::kRecovery) || u->transitioning_to)
    return {Transition::Outcome::kIllegal, "This operation is not allowed in the user's current status.", u->id};
  SetStatus(*u, UserStatus::kProvisioned);
  return {Transition::Outcome::kDone, {}, u->id};
}

Transition OktaOrg::Unlock(std::string_view id_or_login) {
  std::lock_guard lock(mu_);
  OrgUser* u = Locate(id_or_login);
  if (u == nullptr) return {Transition::Outcome::kNotFound};
  if ((u->status != UserStatus::kLockedOut && u->status != UserStatus::kActive) || u->transitioning_to)
    return {Transition::Outcome::kIllegal, "This operation is not allowed in the user's current status.", u->id};
  SetStatus(*u, UserStatus::kActive);
  return {Transition::Outcome::kDone, {}, u->id};
}

Transition OktaOrg::Deactivate(std::string_view id_or_login) {
  std::lock_guard lock(mu_);
  OrgUser* u = Locate(id_or_login);
  if (u == nullptr) return {Transition::Outcome::kNotFound};
  if (u->status == UserStatus::kDeprovisioned)
    return {Transition::Outcome::kIllegal, "Cannot deactivate a user that is already deprovisioned", u->id};
  if (!u->transitioning_to) {
    u->transitioning_to = UserStatus::kDeprovisioned;
    u->settles_at = std::chrono::steady_clock::now() + deactivate_delay_;
    u->last_updated = clock_();
    Settle(*u);
  }
  return {Transition::Outcome::kDone, {}, u->id};
}

Transition OktaOrg::Remove(std::string_view id_or_login) {
  std::lock_guard lock(mu_);
  OrgUser* u = Locate(id_or_login);
  if (u == nullptr) return {Transition::Outcome::kNotFound};
  if (u->status != UserStatus::kDeprovisioned)
    return {Transition::Outcome::kIllegal, "Cannot delete a user that is not deprovisioned", u->id};
  const std::string id = u->id;
  users_.erase(ordinal_of_.at(id));
  return {Transition::Outcome::kDone, {}, id};
}

void OktaOrg::AwaitSettled(std::string_view id) {
  for (;;) {
    std::chrono::steady_clock::time_point until;
    {
      std::lock_guard lock(mu_);
      OrgUser* u = Locate(id);
      if (u == nullptr || !u->transitioning_to) return;
      until = u->settles_at;
    }
    std::this_thread::sleep_until(until);
  }
}

bool OktaOrg::LoginTaken(std::string_view login, std::string_view except_id) const {
  // Okta: logins that differ only in case are the same login.
  const std::string wanted = Lower(login);
  for (const auto& [ordinal, u] : users_)
    if (u.id != except_id && Lower(u.login) == wanted) return true;
  return false;
}

Written OktaOrg::Create(const NewUser& n, bool activate) {
  std::lock_guard lock(mu_);
  if (LoginTaken(n.login, {})) return {Written::Outcome::kLoginTaken, {}};
  const TimePoint now = clock_();
  OrgUser u;
  u.id = NewId();
  u.created = now;
  u.last_updated = now;
  u.has_password = n.has_password;
  if (n.has_password) u.password_changed = now;
  u.login = n.login;
  u.email = n.email;
  u.first_name = n.first_name;
  u.last_name = n.last_name;
  u.display_name = n.display_name;
  u.status = UserStatus::kStaged;
  if (activate) SetStatus(u, n.has_password ? UserStatus::kActive : UserStatus::kProvisioned);
  const uint64_t ordinal = next_ordinal_++;
  ordinal_of_[u.id] = ordinal;
  return {Written::Outcome::kDone, users_.emplace(ordinal, std::move(u)).first->second};
}

Written OktaOrg::UpdateProfile(std::string_view id_or_login, const ProfileChange& change) {
  std::lock_guard lock(mu_);
  OrgUser* u = Locate(id_or_login);
  if (u == nullptr) return {Written::Outcome::kNotFound, {}};
  if (change.login && LoginTaken(*change.login, u->id)) return {Written::Outcome::kLoginTaken, {}};
  if (change.login) u->login = *change.login;
  if (change.email) u->email = *change.email;
  if (change.first_name) u->first_name = *change.first_name;
  if (change.last_name) u->last_name = *change.last_name;
  if (change.display_name) u->display_name = *change.display_name;
  u->last_updated = clock_();
  return {Written::Outcome::kDone, *u};
}

std::optional<Session> OktaOrg::AddSession(std::string_view id_or_login, int oauth_tokens) {
  std::lock_guard lock(mu_);
  OrgUser* u = Locate(id_or_login);
  if (u == nullptr) return std::nullopt;
  Session s;
  s.id = "102" + NewId().substr(3);
  s.created = clock_();
  s.expires = s.created + std::chrono::hours(2);
  u->sessions.push_back(s);
  u->oauth_tokens += std::max(0, oauth_tokens);
  u->last_login = s.created;
  return s;
}

bool OktaOrg::RevokeSessions(std::string_view id_or_login, bool oauth_tokens) {
  std::lock_guard lock(mu_);
  OrgUser* u = Locate(id_or_login);
  if (u == nullptr) return false;
  u->sessions.clear();
  if (oauth_tokens) u->oauth_tokens = 0;
  return true;
}

ListPage OktaOrg::List(const ListQuery& query) {
  ListPage page;
  std::optional<Predicate> match;
  if (query.search || query.filter) {
    match = Expression(query.search ? *query.search : *query.filter, query.search.has_value()).Parse();
    if (!match) {
      page.invalid = "Invalid search criteria.";
      return page;
    }
  }
  const int limit = std::clamp(query.limit, 1, 200);
  std::lock_guard lock(mu_);
  auto it = users_.begin();
  if (query.after && !query.q) {
    const auto at = ordinal_of_.find(*query.after);
    if (at == ordinal_of_.end()) {
      page.invalid = "Invalid after cursor.";
      return page;
    }
    it = users_.upper_bound(at->second);
  }
  const std::string prefix = query.q ? Lower(*query.q) : std::string();
  for (; it != users_.end(); ++it) {
    OrgUser& u = it->second;
    Settle(u);
    if (match) {
      if (!(*match)(u)) continue;
    } else if (u.status == UserStatus::kDeprovisioned) {
      continue;
    }
    if (query.q) {
      const bool hit = Lower(u.first_name).rfind(prefix, 0) == 0 || Lower(u.last_name).rfind(prefix, 0) == 0 ||
                       Lower(u.email).rfind(prefix, 0) == 0;
      if (!hit) continue;
    }
    if (static_cast<int>(page.users.size()) == limit) {
      if (!query.q) page.next_after = page.users.back().id;
      break;
    }
    page.users.push_back(u);
  }
  return page;
}

}  // namespace cordon::lab::okta
