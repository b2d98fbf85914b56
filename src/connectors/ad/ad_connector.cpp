#include "connectors/ad/ad_connector.h"

#include <csignal>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include <ldap.h>

#include "connectors/ad/ldap_error.h"

namespace cordon::ad {
namespace {

// What Cordon reads of an account, for an action, a lookup or a listing.
const std::vector<std::string> kAccountAttributes = {
    "objectGUID", "sAMAccountName",     "userPrincipalName", "displayName", "cn",
    "mail",       "objectSid",          "userAccountControl", "pwdLastSet", "adminCount",
    "distinguishedName",
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

// The container an entry sits in: its DN without the first RDN, as libldap
// reads DNs (escaped commas included). The DN itself when it cannot be read.
std::string ParentOf(const std::string& dn) {
  LDAPDN parsed = nullptr;
  if (ldap_str2dn(dn.c_str(), &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || parsed == nullptr) return dn;
  std::string parent = dn;
  char* text = nullptr;
  if (parsed[0] != nullptr && parsed[1] != nullptr &&
      ldap_dn2str(parsed + 1, &text, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && text != nullptr) {
    parent = text;
    ldap_memfree(text);
  }
  ldap_dnfree(parsed);
  return parent;
}

// Where one attribute is writable for the action account, by container.
struct Writability {
  int checked = 0;
  int writable = 0;
  std::map<std::string, int> refused_under;  // container -> accounts on which it is not

  [[nodiscard]] std::string Refusals() const {
    constexpr int kMostContainers = 5;
    std::string out;
    int shown = 0;
    for (const auto& [container, count] : refused_under) {
      if (shown++ == kMostContainers) {
        out += ", and under " + std::to_string(refused_under.size() - kMostContainers) + " more containers";
        break;
      }
      out += (out.empty() ? "" : ", ") + std::to_string(count) + " under " + container;
    }
    return out;
  }
  [[nodiscard]] std::string Detail(std::string_view attribute) const {
    if (writable == checked)
      return std::string(attribute) + " writable on all " + std::to_string(checked) + " user accounts checked";
    if (writable == 0)
      return std::string(attribute) + " writable on none of the " + std::to_string(checked) +
             " user accounts checked (" + Refusals() + ")";
    return std::string(attribute) + " writable on " + std::to_string(writable) + " of " + std::to_string(checked) +
           " user accounts checked; not on " + std::to_string(checked - writable) + " (" + Refusals() + ")";
  }
};

bool IsProviderOutage(const Error& e) { return e.blame == Blame::kProvider; }

// The account as the inventory and the user page show it; Lookup and
// ListAccounts both read entries through this. An attribute the action
// account may not read leaves its field empty (an unreadable
// userAccountControl: status "other") rather than failing a whole listing.
AccountView AccountViewOf(const LdapEntry& entry) {
  auto text = [&](std::string_view attribute) {
    const std::string* v = entry.First(attribute);
    return v != nullptr ? *v : std::string();
  };
  AccountView view;
  view.provider = Provider::kActiveDirectory;
  if (const std::string* guid = entry.First("objectGUID"))
    if (auto g = FormatGuid(*guid)) view.id = *g;
  view.login = text("sAMAccountName");
  view.upn = text("userPrincipalName");
  view.display_name = text("displayName");
  if (view.display_name.empty()) view.display_name = text("cn");
  view.mail = text("mail");
  if (const std::string* sid = entry.First("objectSid"))
    if (auto s = FormatSid(*sid)) view.sid = *s;
  int64_t uac = 0;
  view.status = !ParseInteger(entry.First("userAccountControl"), uac) ? AccountStatus::kOther
                : (uac & kAccountDisable) != 0                        ? AccountStatus::kDisabled
                                                                      : AccountStatus::kEnabled;
  int64_t pwd_last_set = -1;
  view.must_change_password = ParseInteger(entry.First("pwdLastSet"), pwd_last_set) && pwd_last_set == 0;
  int64_t admin_count = 0;
  view.admin_protected = ParseInteger(entry.First("adminCount"), admin_count) && admin_count == 1;
  view.identifiers["dn"] = entry.dn;
  return view;
}

// The engine could not record what the account looked like, so no change may
// be sent: try again later.
Error NotRecorded(const Error& why) {
  return Error::Unavailable("did not change the account: could not record its state first (" + why.message + ")");
}

}  // namespace

Result<ConnectorFactory> LoadAdConnector(const ConnectorSection& section) {
  auto config = ParseAdConfig(section);
  if (!config) return Fail(config.error());
  IgnoreLdapClientConfiguration();
  ConfigureKerberosEnvironment(*config);
  // libldap writes with write(2): a DC that drops the connection must give
  // an LDAP_SERVER_DOWN error to retry, not kill the process with SIGPIPE.
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) std::signal(SIGPIPE, SIG_IGN);
  auto shared = std::make_shared<const AdConfig>(std::move(*config));
  auto password = MakePasswordCache(*shared);
  return ConnectorFactory([shared, password]() -> Result<std::unique_ptr<Connector>> {
    return std::unique_ptr<Connector>(std::make_unique<AdConnector>(shared, password));
  });
}

std::shared_ptr<CredentialCache> MakePasswordCache(const AdConfig& config) {
  if (config.bind_mode != BindMode::kSimple)
    return std::make_shared<CredentialCache>(
        []() -> Result<CredentialCache::Credential> { return CredentialCache::Credential{}; });
  const SecretRef ref = config.password;
  return std::make_shared<CredentialCache>([ref]() -> Result<CredentialCache::Credential> {
    auto secret = LoadSecret(ref);
    if (!secret) {
      Error e = secret.error();
      e.message = "action account password (" + ref.Describe() + "): " + e.message;
      e.retryable = true;
      return Fail(std::move(e).BlameProvider());
    }
    return CredentialCache::Credential{std::move(*secret), {}};
  });
}

AdConnector::AdConnector(std::shared_ptr<const AdConfig> config, std::shared_ptr<CredentialCache> password)
    : config_(std::move(config)), password_(std::move(password)) {}

bool AdConnector::Supports(ActionType type) const {
  return type == ActionType::kDisable || type == ActionType::kEnable || type == ActionType::kForcePasswordReset ||
         type == ActionType::kClearPasswordReset;
}

Result<LdapConnection*> AdConnector::Connection(const ExecutionContext& context) {
  if (connection_ == nullptr || connection_->broken()) {
    connection_.reset();
    auto password = password_->Get(Now());
    if (!password) return Fail(password.error());
    auto opened = LdapConnection::Open(*config_, password->value, context.deadline);
    if (!opened) {
      // A refused password may have been rotated: read it again next time.
      if (opened.error().code == ErrorCode::kUnauthenticated) password_->Invalidate(password->generation);
      return Fail(opened.error());
    }
    connection_ = std::move(*opened);
  }
  connection_->set_deadline(context.deadline);
  return connection_.get();
}

Result<SearchResult> AdConnector::SearchWithReconnect(const std::string& filter, int size_limit,
                                                      const ExecutionContext& context) {
  return RetryOnLostConnection(connection_, [&]() -> Result<SearchResult> {
    auto conn = Connection(context);
    if (!conn) return Fail(conn.error());
    if (auto paced = context.Pace(); !paced) return Fail(paced.error());
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
  if (const std::string* guid = entry.First("objectGUID"))
    if (auto g = FormatGuid(*guid)) state.guid = *g;
  state.entry = std::move(entry);
  return state;
}

Result<AccountId> AdConnector::IdOf(const Action& action) {
  if (action.account_id.empty()) return ParseAccountId(action.target);
  // Only ever an objectGUID this connector resolved itself.
  auto binary = ParseGuid(action.account_id);
  if (!binary)
    return Fail(Error::InvalidArgument("the account id " + action.account_id + " is not an objectGUID"));
  return AccountId{AccountIdKind::kObjectGuid, action.account_id, std::move(*binary)};
}

Result<AdConnector::AccountState> AdConnector::ReadAccount(const AccountId& id, const ExecutionContext& context) {
  auto conn = Connection(context);
  if (!conn) return Fail(conn.error());
  if (auto paced = context.Pace(); !paced) return Fail(paced.error());
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
      // pwdLastSet = 0 forces a change only where a password can expire and is
      // what the user signs in with; AD accepts the write either way, so a
      // "succeeded" here would promise a containment that never happens.
      if (state.uac & kDontExpirePassword)
        return Fail(Error::FailedPrecondition(
            "cannot force a password change on " + state.dn + ": its password never expires (userAccountControl " +
            Hex(state.uac) + " has DONT_EXPIRE_PASSWORD 0x10000), so pwdLastSet = 0 would not make the user change "
            "it at next logon; clear \"Password never expires\" first, or disable the account"));
      if (state.uac & kSmartcardRequired)
        return Fail(Error::FailedPrecondition(
            "cannot force a password change on " + state.dn + ": a smart card is required for interactive logon "
            "(userAccountControl " + Hex(state.uac) + " has SMARTCARD_REQUIRED 0x40000), so the user does not sign "
            "in with the password at all; disable the account or revoke the card's certificate instead"));
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

Observation AdConnector::ObservationOf(const Action& action, const AccountState& state, const Plan& plan) {
  Observation o;
  o.action_id = action.id;
  o.resolved_account = state.dn;
  o.account_id = state.guid;
  o.state = "userAccountControl " + Hex(state.uac) + ", pwdLastSet " + std::to_string(state.pwd_last_set);
  o.in_target_state = plan.mods.empty();
  return o;
}

ExecutionOutcome AdConnector::Succeeded(const AccountState& state, Plan plan, LdapAnswer answer) {
  ExecutionOutcome out;
  out.already_in_state = plan.mods.empty();
  out.message = std::move(plan.summary);
  out.resolved_account = state.dn;
  out.account_id = state.guid;
  out.provider_answer = {ProviderCode(answer.code), std::move(answer.diagnostic)};
  return out;
}

Result<ExecutionOutcome> AdConnector::ExecuteOnce(const Action& action, const AccountId& id,
                                                 const ExecutionContext& context) {
  LdapAnswer last;
  for (int round = 0; round <= kMaxConflictRetries; ++round) {
    auto state = ReadAccount(id, context);
    if (!state) return Fail(state.error());
    auto plan = PlanFor(action.type, *state);
    if (!plan) return Fail(plan.error());
    const Observation seen = ObservationOf(action, *state, *plan);
    if (auto recorded = context.Record(std::span(&seen, 1)); !recorded) return Fail(NotRecorded(recorded.error()));
    if (plan->mods.empty()) return Succeeded(*state, std::move(*plan), {});
    auto conn = Connection(context);
    if (!conn) return Fail(conn.error());
    if (auto paced = context.Pace(); !paced) return Fail(paced.error());
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

Result<ExecutionOutcome> AdConnector::Execute(const Action& action, const ExecutionContext& context) {
  if (!Supports(action.type))
    return Fail(Error::InvalidArgument("action " + std::string(ToString(action.type)) +
                                       " is not supported by the Active Directory connector"));
  auto id = IdOf(action);
  if (!id) return Fail(id.error());
  return RetryOnLostConnection(connection_, [&] { return ExecuteOnce(action, *id, context); });
}

std::vector<Result<ExecutionOutcome>> AdConnector::ExecuteBatch(std::span<const Action> actions,
                                                                const ExecutionContext& context) {
  std::vector<std::optional<Result<ExecutionOutcome>>> results(actions.size());
  std::vector<std::optional<AccountId>> ids(actions.size());
  std::vector<std::size_t> sequential;  // resolved one by one with Execute, after the pipelined ones

  std::set<std::string> assertions;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    if (!Supports(actions[i].type)) {
      sequential.push_back(i);
      continue;
    }
    auto id = IdOf(actions[i]);
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
    auto found = SearchWithReconnect(filter, 0, context);
    if (!found && (found.error().retryable || IsProviderOutage(found.error()))) {
      for (std::size_t i = 0; i < actions.size(); ++i)
        if (!results[i] && ids[i]) results[i] = Fail(found.error());
    } else if (found && !found->truncated) {  // a cut-off answer cannot prove a match unique
      entries = std::move(found->entries);
      for (std::size_t e = 0; e < entries.size(); ++e)
        for (std::string& key : KeysOf(entries[e])) entries_by_key[std::move(key)].push_back(e);
    }
  }

  struct Planned {
    std::size_t index;
    AccountState state;
    Plan plan;
  };
  std::vector<Planned> planned;
  std::vector<Observation> observations;
  std::set<std::string> dns_in_batch;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    if (results[i] || !ids[i]) continue;
    auto it = entries_by_key.find(KeyOf(*ids[i]));
    if (it == entries_by_key.end() || it->second.size() != 1) {
      sequential.push_back(i);
      continue;
    }
    const LdapEntry& entry = entries[it->second.front()];
    // A second action on the same account must see the first one's effect.
    if (!dns_in_batch.insert(AsciiLower(entry.dn)).second) {
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
    observations.push_back(ObservationOf(actions[i], *state, *plan));
    planned.push_back({i, std::move(*state), std::move(*plan)});
  }

  // What every account looked like is on record before the first change goes out.
  if (auto recorded = context.Record(observations); !recorded) {
    for (Planned& p : planned) results[p.index] = Fail(NotRecorded(recorded.error()));
    planned.clear();
  }

  // Pipelining: every modify goes out on one connection, and each answer is
  // collected from that same connection by its own message id. If a send
  // fails, the connection is in doubt: nothing more is sent on it, and the
  // rest goes the single-action way on a new connection (which re-reads
  // first, so a modify that did land shows as already in state).
  struct Sent {
    std::size_t planned;
    int message_id;
  };
  std::vector<Sent> sent;
  LdapConnection* pipe = nullptr;
  uint64_t pipe_serial = 0;
  std::optional<Error> cannot_open;
  bool pipe_in_doubt = false;
  for (std::size_t k = 0; k < planned.size(); ++k) {
    Planned& p = planned[k];
    if (p.plan.mods.empty()) {
      results[p.index] = Succeeded(p.state, std::move(p.plan), {});
      continue;
    }
    if (cannot_open) {
      results[p.index] = Fail(*cannot_open);
      continue;
    }
    if (pipe == nullptr) {
      auto conn = Connection(context);
      if (!conn) {
        cannot_open = conn.error();
        results[p.index] = Fail(conn.error());
        continue;
      }
      pipe = *conn;
      pipe_serial = pipe->serial();
    }
    if (pipe_in_doubt || pipe->broken()) {
      sequential.push_back(p.index);
      continue;
    }
    if (auto paced = context.Pace(); !paced) {
      results[p.index] = Fail(paced.error());
      continue;
    }
    auto id = pipe->SendModify(p.state.dn, p.plan.mods);
    if (!id) {
      pipe_in_doubt = true;
      sequential.push_back(p.index);
      continue;
    }
    sent.push_back({k, *id});
  }

  for (const Sent& s : sent) {
    Planned& p = planned[s.planned];
    // Only the connection that carried the modify can carry its answer.
    if (connection_ == nullptr || connection_.get() != pipe || connection_->serial() != pipe_serial ||
        connection_->broken()) {
      sequential.push_back(p.index);
      continue;
    }
    auto answer = connection_->Await(s.message_id);
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
    // Once the DC cannot be worked with, do not wait out a timeout per action.
    if (dc_unreachable && ids[i]) {
      results[i] = Fail(*dc_unreachable);
      continue;
    }
    results[i] = Execute(actions[i], context);
    if (!*results[i] && IsProviderOutage(results[i]->error())) dc_unreachable = results[i]->error();
  }

  std::vector<Result<ExecutionOutcome>> out;
  out.reserve(actions.size());
  for (auto& r : results) out.push_back(std::move(*r));
  return out;
}

Status AdConnector::Probe(const ExecutionContext& context) {
  connection_.reset();
  auto conn = Connection(context);
  if (!conn) return Fail(conn.error());
  if (auto paced = context.Pace(); !paced) return paced;
  return (*conn)->ReadRootDse();
}

Result<CheckReport> AdConnector::Check(const ExecutionContext& context) {
  connection_.reset();
  auto conn = Connection(context);
  if (!conn) return Fail(conn.error());
  CheckReport report;
  const std::string who = config_->bind_mode == BindMode::kSimple ? config_->bind_dn : config_->principal + " (GSSAPI)";
  report.checks.push_back({"bind", true,
                           "bound to " + config_->url + " as " + who +
                               (config_->UsesTls() ? " over TLS" : " with a SASL security layer or in clear text")});

  // allowedAttributesEffective is constructed by the DC for the bound
  // account: the attributes it may write on that very object, after every
  // allow and deny of its security descriptor, inherited ones included.
  if (auto paced = context.Pace(); !paced) return Fail(paced.error());
  auto found = (*conn)->Search("(&" + std::string(kUserClassFilter) + ")",
                               {"sAMAccountName", "allowedAttributesEffective"}, kCheckSampleSize);
  if (!found && IsProviderOutage(found.error())) return Fail(found.error());
  std::map<std::string, Writability> rights = {{"userAccountControl", {}}, {"pwdLastSet", {}}};
  if (!found) {
    report.checks.push_back({"read user accounts", false,
                             "search under " + config_->base_dn + ": " + found.error().message + " [" +
                                 found.error().provider_code + "]"});
  } else if (found->entries.empty()) {
    report.checks.push_back(
        {"read user accounts", false, "the action account sees no user account under " + config_->base_dn});
  } else {
    report.checks.push_back(
        {"read user accounts", true,
         "read " + std::to_string(found->entries.size()) + " user accounts under " + config_->base_dn +
             (found->truncated ? " (the first ones: the DC's size limit ends the list there)" : "")});
    for (const LdapEntry& entry : found->entries) {
      std::set<std::string> writable;
      if (auto it = entry.attributes.find("allowedattributeseffective"); it != entry.attributes.end())
        for (const std::string& name : it->second) writable.insert(AsciiLower(name));
      for (auto& [attribute, w] : rights) {
        ++w.checked;
        if (writable.count(AsciiLower(attribute)) != 0)
          ++w.writable;
        else
          ++w.refused_under[ParentOf(entry.dn)];
      }
    }
    for (const char* attribute : {"userAccountControl", "pwdLastSet"})
      report.checks.push_back({"write " + std::string(attribute), rights[attribute].writable > 0,
                               rights[attribute].Detail(attribute)});
  }

  for (ActionType type : {ActionType::kDisable, ActionType::kEnable, ActionType::kForcePasswordReset,
                          ActionType::kClearPasswordReset}) {
    const bool uac = type == ActionType::kDisable || type == ActionType::kEnable;
    const std::string attribute = uac ? "userAccountControl" : "pwdLastSet";
    const Writability& w = rights[attribute];
    ActionReadiness ready{type, w.writable > 0, ""};
    if (w.checked == 0)
      ready.why = "no user account could be read under " + config_->base_dn;
    else if (w.writable == 0)
      ready.why = "the action account may not write " + attribute + " on any user account under " +
                  config_->base_dn + "; delegate read/write " + attribute + " on the OUs of the accounts to contain";
    else if (w.writable < w.checked)
      ready.why = "on " + std::to_string(w.writable) + " of " + std::to_string(w.checked) +
                  " user accounts checked; the DC refuses it (ldap:50) on the other " +
                  std::to_string(w.checked - w.writable) + " (see write " + attribute + ")";
    else
      ready.why = "on all " + std::to_string(w.checked) + " user accounts checked";
    if (ready.ready && type == ActionType::kForcePasswordReset)
      ready.why += "; refused on accounts whose password never expires or that need a smart card";
    report.actions.push_back(std::move(ready));
  }
  return report;
}

Result<AccountView> AdConnector::Lookup(const std::string& account) {
  auto id = ParseAccountId(account);
  if (!id) return Fail(id.error());
  const ExecutionContext context;
  auto state = RetryOnLostConnection(connection_, [&] { return ReadAccount(*id, context); });
  if (!state) return Fail(state.error());
  return AccountViewOf(state->entry);
}

Status AdConnector::ListAccounts(const ExecutionContext& context,
                                 const std::function<Status(std::vector<AccountView>&&)>& page) {
  const std::string filter = "(&" + std::string(kUserClassFilter) + ")";
  std::string cookie;
  int pages = 0;
  std::size_t accounts = 0;
  // Ends a listing cut short: dropping the connection drops the DC's state
  // of the paged search with it (RFC 2696 would also take a page size of 0).
  auto abandon = [&](Status why) {
    if (!cookie.empty()) connection_.reset();
    return why;
  };
  do {
    if (context.deadline != TimePoint{} && Now() >= context.deadline)
      return abandon(Fail(Error::Timeout("listing the user accounts under " + config_->base_dn +
                                         " ran out of time after " + std::to_string(pages) + " pages (" +
                                         std::to_string(accounts) + " accounts)")));
    auto ask = [&]() -> Result<SearchPage> {
      auto conn = Connection(context);
      if (!conn) return Fail(conn.error());
      if (auto paced = context.Pace(); !paced) return Fail(paced.error());
      return (*conn)->SearchPaged(filter, kAccountAttributes, kListPageSize, cookie);
    };
    // The cookie means something only on the connection that began the
    // search: the first page may go again on a fresh connection, a later one
    // fails with its connection (the provider's, retryable) and the next
    // listing starts over.
    auto got = cookie.empty() ? RetryOnLostConnection(connection_, ask) : ask();
    if (!got) return abandon(Fail(got.error()));
    cookie = std::move(got->cookie);
    std::vector<AccountView> views;
    views.reserve(got->entries.size());
    for (const LdapEntry& entry : got->entries) views.push_back(AccountViewOf(entry));
    ++pages;
    accounts += views.size();
    if (auto taken = page(std::move(views)); !taken) return abandon(taken);
  } while (!cookie.empty());
  return {};
}

}  // namespace cordon::ad
