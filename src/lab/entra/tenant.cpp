#include "lab/entra/tenant.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace cordon::lab::entra {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// An OData string literal: 'text' with '' for a quote. The whole input must be one.
std::optional<std::string> StringLiteral(std::string_view s) {
  s = Trim(s);
  if (s.size() < 2 || s.front() != '\'' || s.back() != '\'') return std::nullopt;
  s = s.substr(1, s.size() - 2);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\'') {
      if (i + 1 >= s.size() || s[i + 1] != '\'') return std::nullopt;
      ++i;
    }
    out += s[i];
  }
  return out;
}

const std::string* StringProperty(const TenantUser& u, std::string_view property) {
  if (property == "id") return &u.id;
  if (property == "userPrincipalName") return &u.user_principal_name;
  if (property == "mail") return &u.mail;
  if (property == "displayName") return &u.display_name;
  if (property == "onPremisesSecurityIdentifier") return &u.on_premises_security_identifier;
  return nullptr;
}

bool Matches(const TenantUser& u, const UserFilter& f) {
  if (f.property == "accountEnabled") return (u.account_enabled ? "true" : "false") == f.value;
  const std::string* value = StringProperty(u, f.property);
  if (value == nullptr) return false;
  const std::string have = Lower(*value), want = Lower(f.value);
  return f.op == UserFilter::Op::kEq ? have == want : have.rfind(want, 0) == 0;
}

}  // namespace

std::string NameGuid(std::string_view ns, std::string_view name) {
  const std::string input = std::string(ns) + "\n" + std::string(name);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest.data(), &len, EVP_sha1(), nullptr);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // version 5
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string hex;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
    hex += fmt::format("{:02x}", digest[static_cast<size_t>(i)]);
  }
  return hex;
}

std::optional<UserFilter> ParseUserFilter(std::string_view text) {
  text = Trim(text);
  UserFilter f;
  constexpr std::string_view kStartsWith = "startswith(";
  if (text.size() > kStartsWith.size() && Lower(text.substr(0, kStartsWith.size())) == kStartsWith &&
      text.back() == ')') {
    const std::string_view inner = text.substr(kStartsWith.size(), text.size() - kStartsWith.size() - 1);
    const size_t comma = inner.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    f.op = UserFilter::Op::kStartsWith;
    f.property = std::string(Trim(inner.substr(0, comma)));
    const auto value = StringLiteral(inner.substr(comma + 1));
    if (!value) return std::nullopt;
    f.value = *value;
    if (f.property != "userPrincipalName" && f.property != "displayName" && f.property != "mail") return std::nullopt;
    return f;
  }
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  f.property = std::string(text.substr(0, space));
  std::string_view rest = Trim(text.substr(space));
  if (rest.size() < 3 || Lower(rest.substr(0, 3)) != "eq ") return std::nullopt;
  rest = Trim(rest.substr(3));
  if (f.property == "accountEnabled") {
    if (rest != "true" && rest != "false") return std::nullopt;
    f.value = std::string(rest);
    return f;
  }
  if (f.property != "id" && f.property != "userPrincipalName" && f.property != "mail" &&
      f.property != "displayName" && f.property != "onPremisesSecurityIdentifier")
    return std::nullopt;
  const auto value = StringLiteral(rest);
  if (!value) return std::nullopt;
  f.value = *value;
  return f;
}

EntraTenant::EntraTenant(ClockFn clock, std::string tenant_id)
    : clock_(std::move(clock)), tenant_id_(std::move(tenant_id)) {}

void EntraTenant::Seed(const std::vector<SeedUser>& users) {
  std::lock_guard lock(mu_);
  const TimePoint now = clock_();
  for (const SeedUser& s : users) {
    if (by_key_.count(Lower(s.user_principal_name)) != 0) continue;
    TenantUser u;
    u.user_principal_name = s.user_principal_name;
    u.given_name = s.given_name;
    u.surname = s.surname;
    u.display_name = s.display_name.empty() ? s.given_name + (s.surname.empty() ? "" : " " + s.surname)
                                            : s.display_name;
    u.mail = s.user_type == "Guest" ? "" : s.user_principal_name;
    u.user_type = s.user_type;
    u.on_premises_sync_enabled = s.synced;
    u.on_premises_sam_account_name = s.synced ? s.sam_account_name : "";
    u.on_premises_security_identifier = s.synced ? s.security_identifier : "";
    u.directory_roles = s.directory_roles;
    u.risk = s.risk;
    if (u.risk.state != "none" && !u.risk.updated) u.risk.updated = now;
    u.created = now;
    Insert(std::move(u));
  }
}

const TenantUser& EntraTenant::Insert(TenantUser user) {
  user.id = NameGuid(tenant_id_, Lower(user.user_principal_name));
  by_key_[user.id] = users_.size();
  by_key_[Lower(user.user_principal_name)] = users_.size();
  users_.push_back(std::move(user));
  return users_.back();
}

std::optional<TenantUser> EntraTenant::Create(TenantUser user) {
  std::lock_guard lock(mu_);
  if (by_key_.count(Lower(user.user_principal_name)) != 0) return std::nullopt;
  user.created = clock_();
  return Insert(std::move(user));
}

TenantUser* EntraTenant::Locate(std::string_view id_or_upn) {
  const auto it = by_key_.find(Lower(id_or_upn));
  return it == by_key_.end() ? nullptr : &users_[it->second];
}

std::optional<TenantUser> EntraTenant::Find(std::string_view id_or_upn) {
  std::lock_guard lock(mu_);
  const TenantUser* u = Locate(id_or_upn);
  if (u == nullptr) return std::nullopt;
  return *u;
}

bool EntraTenant::Update(std::string_view id_or_upn, const std::function<void(TenantUser&)>& change) {
  std::lock_guard lock(mu_);
  TenantUser* u = Locate(id_or_upn);
  if (u == nullptr) return false;
  change(*u);
  return true;
}

std::optional<Session> EntraTenant::AddSession(std::string_view id_or_upn) {
  std::lock_guard lock(mu_);
  TenantUser* u = Locate(id_or_upn);
  if (u == nullptr) return std::nullopt;
  Session s{NameGuid(tenant_id_, "session/" + std::to_string(next_session_++)), clock_()};
  u->sessions.push_back(s);
  return s;
}

bool EntraTenant::RevokeSessions(std::string_view id_or_upn) {
  std::lock_guard lock(mu_);
  TenantUser* u = Locate(id_or_upn);
  if (u == nullptr) return false;
  u->sessions.clear();
  return true;
}

int EntraTenant::ConfirmCompromised(const std::vector<std::string>& ids) {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& id : ids)
    if (TenantUser* u = Locate(id)) {
      u->risk = {"high", "confirmedCompromised", "adminConfirmedUserCompromised", clock_()};
      ++n;
    }
  return n;
}

int EntraTenant::Dismiss(const std::vector<std::string>& ids) {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& id : ids)
    if (TenantUser* u = Locate(id)) {
      u->risk = {"none", "dismissed", "adminDismissedAllRiskForUser", clock_()};
      ++n;
    }
  return n;
}

UserPage EntraTenant::Page(const std::function<bool(const TenantUser&)>& match, uint64_t from, int top) {
  std::lock_guard lock(mu_);
  UserPage page;
  for (size_t i = static_cast<size_t>(std::min<uint64_t>(from, users_.size())); i < users_.size(); ++i) {
    if (!match(users_[i])) continue;
    if (static_cast<int>(page.users.size()) == top) {
      page.next = i;
      break;
    }
    page.users.push_back(users_[i]);
  }
  return page;
}

UserPage EntraTenant::List(const std::optional<UserFilter>& filter, uint64_t from, int top) {
  return Page([&](const TenantUser& u) { return !filter || Matches(u, *filter); }, from, top);
}

UserPage EntraTenant::ListRisky(uint64_t from, int top) {
  return Page([](const TenantUser& u) { return u.risk.state != "none"; }, from, top);
}

size_t EntraTenant::size() {
  std::lock_guard lock(mu_);
  return users_.size();
}

}  // namespace cordon::lab::entra
