#include "connectors/ad/ad_connector.h"

#include <csignal>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <unordered_map>

#include <ldap.h>

#include "connectors/ad/ldap_error.h"

namespace cordon::ad {
namespace {

const std::vector<std::string> kAccountAttributes = {
    "sAMAccountName", "userPrincipalName", "objectSid", "objectGUID", "displayName",
    "cn",             "userAccountControl", "pwdLastSet",
};

std::string Hex(uint32_t v) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  return "0x" + std::string(buf, end);
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

template <typename T>
bool ParseInteger(const std::string* text, T& out) {
  if (text == nullptr || text->empty()) return false;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), out);
  return ec == std::errc() && ptr == text->data() + text->size();
}

std::string Describe(const AccountId& id) { return std::string(ToString(id.kind)) + " " + id.canonical; }

// Keys under which a search entry can answer an AccountId (see KeyOf).
std::vector<std::string> KeysOf(const LdapEntry& entry) {
  std::vector<std::string> keys;
  if (const std::string* v = entry.First("sAMAccountName")) keys.push_back("sam:" + AsciiLower(*v));
  if (const std::string* v = entry.First("userPrincipalName")) keys.push_back("upn:" + AsciiLower(*v));
  if (const std::string* v = entry.First("objectSid"))
    if (auto s = FormatSid(*v)) keys.push_back("sid:" + *s);
  if (const std::string* v = entry.First("objectGUID"))
    if (auto g = FormatGuid(*v)) keys.push_back("guid:" + *g);
  return keys;
}

std::string KeyOf(const AccountId& id) {
  switch (id.kind) {
    case AccountIdKind::kSamAccountName: return "sam:" + AsciiLower(id.canonical);
    case AccountIdKind::kUserPrincipalName: return "upn:" + AsciiLower(id.canonical);
    case AccountIdKind::kObjectSid: return "sid:" + id.canonical;
    case AccountIdKind::kObjectGuid: return "guid:" + id.canonical;
  }
  return {};
}

bool IsOptimisticConflict(int code) { return code == LDAP_NO_SUCH_ATTRIBUTE || code == LDAP_TYPE_OR_VALUE_EXISTS; }

// Runs `attempt`; if it failed because a connection that had been open
// before turned out dead (DC restarted, idle timeout), runs it once more on
// a fresh one. A fresh connection that fails is reported as is.
template <typename F>
auto RetryOnLostConnection(std::unique_ptr<LdapConnection>& connection, F&& attempt) -> decltype(attempt()) {
  bool reused = connection != nullptr && !connection->broken();
  auto result = attempt();
  if (!result && reused && connection != nullptr && connection->broken()) return attempt();
  return result;
}

}  // namespace

Result<ConnectorFactory> LoadAdConnector(const toml::table& section, std::string_view key_path) {
  auto config = ParseAdConfig(section, key_path);
  if (!config) return Fail(config.error());
  ConfigureKerberosEnvironment(*config);
  // libldap writes with write(2): a DC that drops the connection must give
  // an LDAP_SERVER_DOWN error to retry, not kill the process with SIGPIPE.
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) std::signal(SIGPIPE, SIG_IGN);
  auto shared = std::make_shared<const AdConfig>(std::move(*config));
  return ConnectorFactory([shared]() -> Result<std::unique_ptr<Connector>> {
    return std::unique_ptr<Connector>(std::make_unique<AdConnector>(shared));
  });
}

AdConnector::AdConnector(std::shared_ptr<const AdConfig> config) : config_(std::move(config)) {}

bool AdConnector::Supports(ActionType type) const {
  return type == ActionType::kDisable || type == ActionType::kEnable || type == ActionType::kForcePasswordReset ||
         type == ActionType::kClearPasswordReset;
}

Result<LdapConnection*> AdConnector::Connection() {
  if (connection_ == nullptr || connection_->broken()) {
    connection_.reset();
    auto opened = LdapConnection::Open(*config_);
    if (!opened) return Fail(opened.error());
    connection_ = std::move(*opened);
  }
  return connection_.get();
}

Result<SearchResult> AdConnector::SearchWithReconnect(const std::string& filter, int size_limit) {
  return RetryOnLostConnection(connection_, [&]() -> Result<SearchResult> {
    auto conn = Connection();
    if (!conn) return Fail(conn.error());
    return (*conn)->Search(filter, kAccountAttributes, size_limit);
  });
}

Result<AdConnector::AccountState> AdConnector::StateOf(LdapEntry entry) {
  AccountState state;
  state.dn = entry.dn;
  const std::string* uac = entry.First("userAccountControl");
  int64_t uac_value = 0;
  if (!ParseInteger(uac, uac_value) || uac_value < INT32_MIN || uac_value > UINT32_MAX)
    return Fail(Error::PermissionDenied("cannot read userAccountControl of " + entry.dn +
                                        " (is read access delegated to the action account?)"));
  state.uac_raw = *uac;
  state.uac = static_cast<uint32_t>(uac_value);
  // An account that never had a password set has no pwdLastSet: like 0.
  if (const std::string* pls = entry.First("pwdLastSet"); pls != nullptr && !ParseInteger(pls, state.pwd_last_set))
    return Fail(Error::Internal("unreadable pwdLastSet on " + entry.dn));
  state.entry = std::move(entry);
  return state;
}

Result<AdConnector::AccountState> AdConnector::ReadAccount(const AccountId& id) {
  auto conn = Connection();
  if (!conn) return Fail(conn.error());
  auto found = (*conn)->Search(AccountFilter(id), kAccountAttributes, 2);
  if (!found) return Fail(found.error());
  if (found->entries.empty())
    return Fail(Error::NotFound("no user account with " + Describe(id) + " under " + config_->base_dn)
                    .WithProvider(ProviderCode(LDAP_SUCCESS), "search returned no entry"));
  if (found->entries.size() > 1 || found->truncated)
    return Fail(Error::InvalidArgument("ambiguous: several user accounts have " + Describe(id) + " (" +
                                       found->entries[0].dn +
                                       (found->entries.size() > 1 ? ", " + found->entries[1].dn : "") + ", ...)")
                    .WithProvider(ProviderCode(found->truncated ? LDAP_SIZELIMIT_EXCEEDED : LDAP_SUCCESS),
                                  "search returned more than one entry"));
  return StateOf(std::move(found->entries.front()));
}

Result<AdConnector::Plan> AdConnector::PlanFor(ActionType type, const AccountState& state) {
  Plan plan;
  auto uac_change = [&](uint32_t next, std::string_view verb) {
    plan.mods = {{ModOp::kDelete, "userAccountControl", {state.uac_raw}},
                 {ModOp::kAdd, "userAccountControl", {std::to_string(next)}}};
    plan.summary = std::string(verb) + " " + state.dn + ": userAccountControl " + Hex(state.uac) + " -> " + Hex(next);
  };
  auto pwd_change = [&](std::string_view value, std::string_view verb) {
    plan.mods = {{ModOp::kReplace, "pwdLastSet", {std::string(value)}}};
    plan.summary = std::string(verb) + " " + state.dn + ": pwdLastSet " + std::to_string(state.pwd_last_set) +
                   " -> " + std::string(value);
  };
  switch (type) {
    case ActionType::kDisable:
      if (state.uac & kAccountDisable)
        plan.summary = "already disabled: " + state.dn + " (userAccountControl " + Hex(state.uac) + "); nothing changed";
      else
        uac_change(state.uac | kAccountDisable, "disabled");
      return plan;
    case ActionType::kEnable:
      if (!(state.uac & kAccountDisable))
        plan.summary = "already enabled: " + state.dn + " (userAccountControl " + Hex(state.uac) + "); nothing changed";
      else
        uac_change(state.uac & ~kAccountDisable, "enabled");
      return plan;
    case ActionType::kForcePasswordReset:
      if (state.pwd_last_set == 0)
        plan.summary = "already must change password at next logon: " + state.dn + " (pwdLastSet 0); nothing changed";
      else
        pwd_change("0", "password reset forced for");
      return plan;
    case ActionType::kClearPasswordReset:
      if (state.pwd_last_set != 0)
        plan.summary = "already not required to change password: " + state.dn + " (pwdLastSet " +
                       std::to_string(state.pwd_last_set) + "); nothing changed";
      else
        pwd_change("-1", "password reset requirement cleared for");
      return plan;
    default:
      return Fail(Error::InvalidArgument("action " + std::string(ToString(type)) +
                                         " is not supported by the Active Directory connector"));
  }
}

ExecutionOutcome AdConnector::Succeeded(const AccountState& state, Plan plan, LdapAnswer answer) {
  ExecutionOutcome out;
  out.already_in_state = plan.mods.empty();
  out.message = std::move(plan.summary);
  out.resolved_account = state.dn;
  out.provider_answer = {ProviderCode(answer.code), std::move(answer.diagnostic)};
  return out;
}

Result<ExecutionOutcome> AdConnector::ExecuteOnce(const Action& action, const AccountId& id) {
  LdapAnswer last;
  for (int round = 0; round <= kMaxConflictRetries; ++round) {
    auto state = ReadAccount(id);
    if (!state) return Fail(state.error());
    auto plan = PlanFor(action.type, *state);
    if (!plan) return Fail(plan.error());
    if (plan->mods.empty()) return Succeeded(*state, std::move(*plan), {});
    if (before_write_) before_write_(state->dn);
    auto conn = Connection();
    if (!conn) return Fail(conn.error());
    auto answer = (*conn)->Modify(state->dn, plan->mods);
    if (!answer) return Fail(answer.error());
    if (answer->code == LDAP_SUCCESS) return Succeeded(*state, std::move(*plan), std::move(*answer));
    if (!IsOptimisticConflict(answer->code))
      return Fail(ClassifyLdapError(answer->code, answer->diagnostic,
                                    std::string(ToString(action.type)) + " " + state->dn));
    last = std::move(*answer);
  }
  return Fail(Error::Conflict("userAccountControl of the account kept changing while Cordon changed it (" +
                              std::to_string(kMaxConflictRetries + 1) + " tries); retrying later")
                  .WithProvider(ProviderCode(last.code), last.diagnostic));
}

Result<ExecutionOutcome> AdConnector::Execute(const Action& action) {
  if (!Supports(action.type))
    return Fail(Error::InvalidArgument("action " + std::string(ToString(action.type)) +
                                       " is not supported by the Active Directory connector"));
  auto id = ParseAccountId(action.target);
  if (!id) return Fail(id.error());
  return RetryOnLostConnection(connection_, [&] { return ExecuteOnce(action, *id); });
}

std::vector<Result<ExecutionOutcome>> AdConnector::ExecuteBatch(std::span<const Action> actions) {
  std::vector<std::optional<Result<ExecutionOutcome>>> results(actions.size());
  std::vector<std::optional<AccountId>> ids(actions.size());
  std::vector<std::size_t> sequential;  // resolved one by one with Execute, after the pipelined ones

  std::set<std::string> assertions;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    if (!Supports(actions[i].type)) {
      sequential.push_back(i);
      continue;
    }
    auto id = ParseAccountId(actions[i].target);
    if (!id) {
      results[i] = Fail(id.error());
      continue;
    }
    assertions.insert(AssertionFor(*id));
    ids[i] = std::move(*id);
  }

  // One search resolves every target; anything it cannot settle unambiguously
  // (no match, several, a case the key folding missed) goes the single-action
  // way, which is authoritative.
  std::unordered_map<std::string, std::vector<std::size_t>> entries_by_key;
  std::vector<LdapEntry> entries;
  if (!assertions.empty()) {
    std::string filter = "(&" + std::string(kUserClassFilter) + "(|";
    for (const std::string& a : assertions) filter += a;
    filter += "))";
    auto found = SearchWithReconnect(filter, 0);
    if (!found && found.error().retryable) {
      for (std::size_t i = 0; i < actions.size(); ++i)
        if (!results[i] && ids[i]) results[i] = Fail(found.error());
    } else if (found && !found->truncated) {  // a cut-off answer cannot prove a match unique
      entries = std::move(found->entries);
      for (std::size_t e = 0; e < entries.size(); ++e)
        for (std::string& key : KeysOf(entries[e])) entries_by_key[std::move(key)].push_back(e);
    }
  }

  struct Pending {
    std::size_t index;
    AccountState state;
    Plan plan;
    int message_id;
  };
  std::vector<Pending> pending;
  std::set<std::string> dns_in_flight;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    if (results[i] || !ids[i]) continue;
    auto it = entries_by_key.find(KeyOf(*ids[i]));
    if (it == entries_by_key.end() || it->second.size() != 1) {
      sequential.push_back(i);
      continue;
    }
    const LdapEntry& entry = entries[it->second.front()];
    // A second action on the same account must see the first one's effect.
    if (!dns_in_flight.insert(AsciiLower(entry.dn)).second) {
      sequential.push_back(i);
      continue;
    }
    auto state = StateOf(entry);
    if (!state) {
      results[i] = Fail(state.error());
      continue;
    }
    auto plan = PlanFor(actions[i].type, *state);
    if (!plan) {
      results[i] = Fail(plan.error());
      continue;
    }
    if (plan->mods.empty()) {
      results[i] = Succeeded(*state, std::move(*plan), {});
      continue;
    }
    auto conn = Connection();
    if (!conn) {
      results[i] = Fail(conn.error());
      continue;
    }
    auto sent = (*conn)->SendModify(state->dn, plan->mods);
    if (!sent) {
      sequential.push_back(i);
      continue;
    }
    pending.push_back({i, std::move(*state), std::move(*plan), *sent});
  }

  for (Pending& p : pending) {
    if (connection_ == nullptr || connection_->broken()) {
      sequential.push_back(p.index);
      continue;
    }
    auto answer = connection_->Await(p.message_id);
    if (!answer || IsOptimisticConflict(answer->code)) {
      // Lost connection or lost race: the single-action path re-reads the
      // account, so a modify that did land shows as already in state.
      sequential.push_back(p.index);
    } else if (answer->code == LDAP_SUCCESS) {
      results[p.index] = Succeeded(p.state, std::move(p.plan), std::move(*answer));
    } else {
      results[p.index] = Fail(ClassifyLdapError(answer->code, answer->diagnostic,
                                                std::string(ToString(actions[p.index].type)) + " " + p.state.dn));
    }
  }

  std::sort(sequential.begin(), sequential.end());
  std::optional<Error> dc_unreachable;
  for (std::size_t i : sequential) {
    // Once the DC cannot be reached, do not wait out a timeout per action.
    if (dc_unreachable && ids[i]) {
      results[i] = Fail(*dc_unreachable);
      continue;
    }
    results[i] = Execute(actions[i]);
    if (!*results[i] && results[i]->error().retryable &&
        (results[i]->error().code == ErrorCode::kUnavailable || results[i]->error().code == ErrorCode::kTimeout))
      dc_unreachable = results[i]->error();
  }

  std::vector<Result<ExecutionOutcome>> out;
  out.reserve(actions.size());
  for (auto& r : results) out.push_back(std::move(*r));
  return out;
}

Result<AccountView> AdConnector::Lookup(const std::string& account) {
  auto id = ParseAccountId(account);
  if (!id) return Fail(id.error());
  auto state = RetryOnLostConnection(connection_, [&] { return ReadAccount(*id); });
  if (!state) return Fail(state.error());
  const LdapEntry& e = state->entry;
  auto text = [&](std::string_view attr) {
    const std::string* v = e.First(attr);
    return v != nullptr ? *v : std::string();
  };
  AccountView view;
  if (const std::string* guid = e.First("objectGUID"))
    if (auto g = FormatGuid(*guid)) view.id = *g;
  if (const std::string* sid = e.First("objectSid"))
    if (auto s = FormatSid(*sid)) view.sid = *s;
  view.display_name = text("displayName");
  if (view.display_name.empty()) view.display_name = text("cn");
  view.principal = text("sAMAccountName");
  view.upn = text("userPrincipalName");
  view.distinguished_name = state->dn;
  view.enabled = (state->uac & kAccountDisable) == 0;
  view.must_change_password = state->pwd_last_set == 0;
  return view;
}

}  // namespace cordon::ad
