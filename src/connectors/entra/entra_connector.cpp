#include "connectors/entra/entra_connector.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "connectors/entra/entra_token.h"
#include "connectors/entra/graph_words.h"
#include "connectors/http/http_client.h"
#include "connectors/http/jwt.h"
#include "core/catalogue.h"

namespace cordon::entra {
namespace {

constexpr std::size_t kBatchItems = 20;  // Graph's limit per $batch
constexpr int kMaxTries = 6;             // sends of one request while Graph throttles
constexpr Millis kNoDeadlineBudget{30000};
// What Cordon reads of a user, for an action, a lookup or a listing.
constexpr std::string_view kUserSelect =
    "$select=id,displayName,userPrincipalName,mail,accountEnabled,onPremisesSecurityIdentifier,onPremisesSyncEnabled,"
    "userType";
// Graph's largest pages: 999 users; riskyUsers are asked 500 at a time.
constexpr int kUserPageSize = 999;
constexpr int kRiskyUserPageSize = 500;

// The application permissions each thing needs, and what else grants it.
constexpr std::string_view kRead = "User.Read.All";
constexpr std::string_view kEnableDisable = "User.EnableDisableAccount.All";
constexpr std::string_view kRevoke = "User.RevokeSessions.All";
constexpr std::string_view kRisk = "IdentityRiskyUser.ReadWrite.All";
constexpr std::string_view kRiskRead = "IdentityRiskyUser.Read.All";
constexpr std::string_view kAdminRole = "Privileged Authentication Administrator";

bool Grants(const std::set<std::string>& roles, std::string_view need) {
  auto has = [&](std::string_view r) { return roles.count(std::string(r)) != 0; };
  if (has(need)) return true;
  if (need == kRead) return has("User.ReadWrite.All") || has("Directory.Read.All") || has("Directory.ReadWrite.All");
  if (need == kEnableDisable) return has("User.ReadWrite.All") || has("Directory.ReadWrite.All");
  if (need == kRevoke) return has("Directory.ReadWrite.All");
  if (need == kRiskRead) return has(kRisk);
  return false;
}

std::string_view PermissionFor(ActionType type) {
  switch (type) {
    case ActionType::kSuspend:
    case ActionType::kUnsuspend: return kEnableDisable;
    case ActionType::kRevokeSessions: return kRevoke;
    default: return kRisk;
  }
}

bool IsRetryable(long status) { return status == 429 || status == 503 || status == 504; }

struct GraphUser {
  std::string id, upn, display_name, mail, sid, user_type;
  std::optional<bool> enabled, synced;

  [[nodiscard]] bool guest() const {
    return user_type == "Guest" || upn.find("#EXT#") != std::string::npos;
  }
};

std::string Field(const nlohmann::json& doc, const char* name) {
  if (!doc.is_object()) return {};
  auto it = doc.find(name);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::optional<bool> BoolField(const nlohmann::json& doc, const char* name) {
  if (!doc.is_object()) return std::nullopt;
  auto it = doc.find(name);
  return it != doc.end() && it->is_boolean() ? std::optional<bool>(it->get<bool>()) : std::nullopt;
}

Result<GraphUser> ParseUser(const nlohmann::json& doc) {
  GraphUser u;
  u.id = Field(doc, "id");
  u.upn = Field(doc, "userPrincipalName");
  u.display_name = Field(doc, "displayName");
  u.mail = Field(doc, "mail");
  u.sid = Field(doc, "onPremisesSecurityIdentifier");
  u.user_type = Field(doc, "userType");
  u.enabled = BoolField(doc, "accountEnabled");
  u.synced = BoolField(doc, "onPremisesSyncEnabled");
  if (u.id.empty())
    return Fail(Error::Internal("Graph's user has no id").WithProvider("http:200", doc.dump().substr(0, 200)));
  return u;
}

Result<GraphUser> ParseUser(const std::string& body) { return ParseUser(nlohmann::json::parse(body, nullptr, false)); }

// The account as the inventory and the user page show it; Lookup and
// ListAccounts both read users through this. `risk`: Identity Protection's
// riskLevel, empty when it cannot be read.
AccountView ViewOf(const GraphUser& user, std::string risk) {
  AccountView view;
  view.provider = Provider::kEntra;
  view.id = user.id;
  view.login = user.upn;
  view.upn = user.upn;
  view.display_name = user.display_name;
  view.mail = user.mail;
  view.sid = user.sid;
  view.status = !user.enabled ? AccountStatus::kOther : *user.enabled ? AccountStatus::kEnabled : AccountStatus::kDisabled;
  view.provider_risk = std::move(risk);
  view.synced_from_ad = user.synced.value_or(false);
  view.guest = user.user_type == "Guest";
  if (user.synced) view.identifiers["onPremisesSyncEnabled"] = *user.synced ? "true" : "false";
  if (!user.user_type.empty()) view.identifiers["userType"] = user.user_type;
  return view;
}

// Whether Identity Protection could be read when last asked, for one log
// line when that changes rather than one per listing: -1 not asked yet.
std::atomic<int> identity_protection_readable{-1};

void NoteRiskReadable(bool readable, const std::string& why) {
  const int previous = identity_protection_readable.exchange(readable ? 1 : 0);
  if (!readable && previous != 0)
    spdlog::warn("entra: Identity Protection cannot be read ({}); Entra ID accounts are listed without Entra's risk "
                 "level",
                 why);
  else if (readable && previous == 0)
    spdlog::info("entra: Identity Protection can be read again; Entra ID accounts are listed with Entra's risk level");
}

bool IsGuestName(const std::string& name) {
  std::string upper = name;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper.find("#EXT#") != std::string::npos;
}

std::string SyncNote(const GraphUser& u) {
  if (!u.synced.value_or(false)) return "";
  return "; this user is synced from on-premises AD (onPremisesSyncEnabled): the next directory sync from AD will "
         "re-enable the account unless it is disabled in AD too (submit with --also-on-prem to disable it in AD "
         "as well)";
}

std::string GuestNote(const std::string& named) {
  return "; " + named + " is a guest: this has no effect on the guest's sessions in their home tenant";
}

// What one action has become so far.
struct Work {
  const Action* action = nullptr;
  std::string named;  // the id or UPN requests use
  std::optional<GraphUser> user;
  std::string risk_state, risk_level;
  Observation seen;
  std::optional<Result<ExecutionOutcome>> result;  // set once decided
};

}  // namespace

std::optional<std::set<std::string>> RolesOfToken(const std::string& access_token) {
  // The client reads its own token only to report what it was granted; the
  // signature is Graph's to check, not the client's, so it is not checked here.
  auto payload = http::UnverifiedJwtPayload(access_token);
  if (!payload) return std::nullopt;
  std::set<std::string> roles;
  if (auto it = payload->find("roles"); it != payload->end() && it->is_array())
    for (const auto& r : *it)
      if (r.is_string()) roles.insert(r.get<std::string>());
  return roles;
}

EntraConnector::EntraConnector(std::shared_ptr<const EntraConfig> config, std::shared_ptr<CredentialCache> credentials)
    : config_(std::move(config)), credentials_(std::move(credentials)) {
  if (!http::CurlReady() || (curl_ = curl_easy_init()) == nullptr) throw std::runtime_error("libcurl cannot start");
}

EntraConnector::~EntraConnector() { curl_easy_cleanup(curl_); }

bool EntraConnector::Supports(ActionType type) const {
  return type == ActionType::kSuspend || type == ActionType::kUnsuspend || type == ActionType::kRevokeSessions ||
         type == ActionType::kMarkCompromised || type == ActionType::kDismissRisk;
}

std::string EntraConnector::UserPath(const std::string& id_or_upn) const {
  return "/users/" + http::Escape(curl_, id_or_upn);
}

Result<EntraConnector::Reply> EntraConnector::Send(const Call& call, const ExecutionContext& context, bool paced) {
  const TimePoint deadline = context.deadline != TimePoint{} ? context.deadline : Now() + kNoDeadlineBudget;
  Millis backoff = config_->backoff;
  bool renewed = false;
  for (int attempt = 1;; ++attempt) {
    if (!paced || attempt > 1)
      if (auto ok = context.Pace(""); !ok) return Fail(ok.error());
    auto credential = credentials_->Get(Now());
    if (!credential) return Fail(Error(credential.error()).BlameProvider());
    const std::string& bearer = credential->value.Reveal();
    if (auto roles = RolesOfToken(bearer.substr(bearer.find(' ') + 1))) {
      roles_ = std::move(*roles);
      roles_known_ = true;
    } else {
      roles_known_ = false;
    }
    http::HttpRequest request{call.method, config_->graph_url + "/v1.0" + call.path,
                              {"Authorization: " + bearer, "Accept: application/json"}, call.body};
    if (!call.body.empty()) request.headers.emplace_back("Content-Type: application/json");
    const Millis timeout = std::min(Millis(config_->timeout_ms), context.Remaining(Millis(config_->timeout_ms)));
    auto answer = http::Perform(curl_, http::HttpOptions{config_->ca_file, false, timeout}, request);
    if (!answer) return Fail(answer.error());
    Reply reply{answer->status, std::move(answer->body), answer->Last("request-id"), answer->Last("retry-after")};
    if (reply.status == 401 && !renewed) {
      // The token expired early or was revoked: fetch a new one once (a
      // burst of refusals of the same token costs one fetch) and send again.
      credentials_->Invalidate(credential->generation);
      renewed = true;
      continue;
    }
    if (IsRetryable(reply.status) && attempt < kMaxTries) {
      const auto asked = ParseRetryAfter(reply.retry_after);
      const Millis wait = asked.value_or(backoff);
      if (!asked) backoff = std::min(backoff * 2, kLongestRetryAfter);
      if (Now() + wait < deadline) {
        std::this_thread::sleep_for(wait);
        continue;
      }
    }
    return reply;
  }
}

std::vector<Result<EntraConnector::Reply>> EntraConnector::SendAll(const std::vector<Call>& calls,
                                                                   const ExecutionContext& context) {
  std::vector<Result<Reply>> out;
  out.reserve(calls.size());
  if (!config_->batch || calls.size() < 2) {
    for (const Call& call : calls) out.push_back(Send(call, context));
    return out;
  }
  for (std::size_t start = 0; start < calls.size(); start += kBatchItems) {
    const std::size_t n = std::min(kBatchItems, calls.size() - start);
    auto part = SendBatch(std::span(calls).subspan(start, n), context);
    for (auto& r : part) out.push_back(std::move(r));
  }
  return out;
}

std::vector<Result<EntraConnector::Reply>> EntraConnector::SendBatch(std::span<const Call> calls,
                                                                     const ExecutionContext& context, int round) {
  std::vector<std::optional<Result<Reply>>> results(calls.size());
  nlohmann::json requests = nlohmann::json::array();
  for (std::size_t i = 0; i < calls.size(); ++i) {
    // Each item counts against Graph's throttle as a request of its own.
    if (auto ok = context.Pace(""); !ok) {
      results[i] = Fail(ok.error());
      continue;
    }
    nlohmann::json item = {{"id", std::to_string(i + 1)}, {"method", calls[i].method}, {"url", calls[i].path}};
    if (!calls[i].body.empty()) {
      item["headers"] = {{"Content-Type", "application/json"}};
      item["body"] = nlohmann::json::parse(calls[i].body, nullptr, false);
    }
    requests.push_back(std::move(item));
  }
  if (!requests.empty()) {
    const Call batch{"POST", "/$batch", nlohmann::json{{"requests", requests}}.dump()};
    auto answer = Send(batch, context, /*paced=*/true);
    std::vector<std::size_t> again;  // items to send on their own
    Millis wait{0};
    if (!answer || answer->status != 200) {
      // The batch as a whole failed: every item in it shares its answer.
      for (const auto& item : requests) {
        const std::size_t i = std::stoul(item["id"].get<std::string>()) - 1;
        results[i] = answer ? Result<Reply>(*answer) : Result<Reply>(Fail(answer.error()));
      }
    } else {
      const auto doc = nlohmann::json::parse(answer->body, nullptr, false);
      if (doc.is_object() && doc.contains("responses") && doc["responses"].is_array()) {
        for (const auto& r : doc["responses"]) {
          const std::string id = Field(r, "id");
          std::size_t i = 0;
          auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), i);
          if (ec != std::errc() || i < 1 || i > calls.size() || results[i - 1]) continue;
          Reply reply;
          reply.status = r.contains("status") && r["status"].is_number_integer() ? r["status"].get<long>() : 0;
          reply.body = r.contains("body") ? r["body"].dump() : std::string();
          if (r.contains("headers") && r["headers"].is_object())
            for (const auto& [name, value] : r["headers"].items()) {
              std::string lower = name;
              for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
              if (!value.is_string()) continue;
              if (lower == "retry-after") reply.retry_after = value.get<std::string>();
              if (lower == "request-id") reply.request_id = value.get<std::string>();
            }
          if (reply.request_id.empty()) reply.request_id = answer->request_id;
          results[i - 1] = std::move(reply);
        }
      }
      for (const auto& item : requests) {
        const std::size_t i = std::stoul(item["id"].get<std::string>()) - 1;
        if (!results[i] || (*results[i])->status == 401 || IsRetryable((*results[i])->status) ||
            (*results[i])->status >= 500) {
          if (results[i]) wait = std::max(wait, ParseRetryAfter((*results[i])->retry_after).value_or(config_->backoff));
          again.push_back(i);
        }
      }
    }
    // Throttled or failed items go again, each with its own body, once the
    // longest Retry-After among them has passed: several together in a batch
    // of their own (what was done is not sent again, and a throttled bulk
    // costs a few more requests, not one per item), a last one alone.
    if (!again.empty()) {
      const TimePoint deadline = context.deadline != TimePoint{} ? context.deadline : Now() + kNoDeadlineBudget;
      if (Now() + wait < deadline) {
        std::this_thread::sleep_for(wait);
        if (again.size() > 1 && round < kMaxTries) {
          std::vector<Call> subset;
          subset.reserve(again.size());
          for (std::size_t i : again) subset.push_back(calls[i]);
          auto replies = SendBatch(subset, context, round + 1);
          for (std::size_t k = 0; k < again.size(); ++k) results[again[k]] = std::move(replies[k]);
        } else {
          for (std::size_t i : again) results[i] = Send(calls[i], context);
        }
      } else {
        for (std::size_t i : again)
          if (!results[i]) results[i] = Fail(Error::Timeout("Graph's $batch left the item unanswered").BlameProvider());
      }
    }
  }
  std::vector<Result<Reply>> out;
  out.reserve(calls.size());
  for (auto& r : results) out.push_back(r ? std::move(*r) : Fail(Error::Internal("no answer")));
  return out;
}

Error EntraConnector::ErrorOf(const Reply& reply, const Call& call, std::optional<ActionType> type) const {
  const std::string code = "http:" + std::to_string(reply.status);
  const std::string words = GraphWords(reply.body, reply.request_id);
  const std::string what = call.method + " " + call.path.substr(0, call.path.find('?'));
  const long status = reply.status;
  if (status == 401)
    return Error::Unauthenticated("Graph refused the app's access token").WithProvider(code, words).BlameProvider();
  if (IsRetryable(status) || status >= 500) {
    Error e = status == 429 ? Error::ResourceExhausted("Graph throttles (" + code + ")")
                            : Error::Unavailable("Graph is unavailable (" + code + ")");
    e.provider_code = code;
    e.provider_detail = words;
    e.blame = Blame::kProvider;
    if (auto wait = ParseRetryAfter(reply.retry_after)) e.retry_after = *wait;
    return e;
  }
  if (status == 404)
    return Error::NotFound("Entra ID has no such user (" + what + ")").WithProvider(code, words);
  if (status == 403) {
    const bool risky = call.path.starts_with("/identityProtection/");
    const bool read = call.method == "GET";
    // A plain read of risk (a listing, a lookup) needs less than an action's read of it.
    const std::string_view need = risky ? (type ? kRisk : kRiskRead) : read ? kRead : type ? PermissionFor(*type) : kRead;
    std::string message;
    if (roles_known_ && !Grants(roles_, need)) {
      message = "Graph refused " + what + ": the app lacks the application permission " + std::string(need) +
                " (grant it to the app registration, with admin consent)";
    } else if (risky) {
      message = "Graph refused " + what + ": the app holds " + std::string(need) +
                ", so the tenant lacks the Identity Protection licence (Microsoft Entra ID P2) it needs";
    } else if (roles_known_) {
      message = "Graph refused " + what + " although the app holds " + std::string(need) +
                ": the target holds an administrator role, and acting on it needs a higher privilege: assign the "
                "app the " + std::string(kAdminRole) + " directory role";
    } else {
      message = "Graph refused " + what + ": either the app lacks the application permission " + std::string(need) +
                " or the target holds an administrator role (which needs the app to hold the " +
                std::string(kAdminRole) + " directory role)";
    }
    return Error::PermissionDenied(message).WithProvider(code, words);
  }
  if (status == 400 || status == 409)
    return Error::FailedPrecondition("Graph refused " + what + ": " + words).WithProvider(code, words);
  return Error::Internal("Graph answered " + what + " with " + code).WithProvider(code, words);
}

Result<ExecutionOutcome> EntraConnector::Execute(const Action& action, const ExecutionContext& context) {
  auto out = ExecuteBatch(std::span(&action, 1), context);
  return std::move(out.front());
}

std::vector<Result<ExecutionOutcome>> EntraConnector::ExecuteBatch(std::span<const Action> actions,
                                                                  const ExecutionContext& context) {
  std::vector<Work> work(actions.size());
  for (std::size_t i = 0; i < actions.size(); ++i) {
    Work& w = work[i];
    w.action = &actions[i];
    w.named = actions[i].account_id.empty() ? actions[i].target : actions[i].account_id;
    if (!Supports(actions[i].type))
      w.result = Fail(Error::InvalidArgument("the entra connector does not support " +
                                             std::string(ToString(actions[i].type))));
  }
  // Runs one round of calls, one per chosen action; a failure decides the action.
  auto round = [&](auto&& want, auto&& make, auto&& take) {
    std::vector<std::size_t> who;
    std::vector<Call> calls;
    for (std::size_t i = 0; i < work.size(); ++i)
      if (!work[i].result && want(work[i])) {
        who.push_back(i);
        calls.push_back(make(work[i]));
      }
    auto replies = SendAll(calls, context);
    for (std::size_t k = 0; k < who.size(); ++k) {
      Work& w = work[who[k]];
      if (!replies[k]) {
        w.result = Fail(replies[k].error());
        continue;
      }
      take(w, *replies[k], calls[k]);
    }
  };
  auto is = [](Work& w, std::initializer_list<ActionType> types) {
    return std::find(types.begin(), types.end(), w.action->type) != types.end();
  };
  auto reads_user = [&](Work& w) {
    return is(w, {ActionType::kSuspend, ActionType::kUnsuspend, ActionType::kMarkCompromised, ActionType::kDismissRisk});
  };
  auto reads_risk = [&](Work& w) { return is(w, {ActionType::kMarkCompromised, ActionType::kDismissRisk}); };

  // 1. Read the users (revoking sessions reads nothing: one request per user).
  round(reads_user, [&](Work& w) { return Call{"GET", UserPath(w.named) + "?" + std::string(kUserSelect), ""}; },
        [&](Work& w, const Reply& r, const Call& c) {
          if (r.status != 200) return void(w.result = Fail(ErrorOf(r, c, std::nullopt)));
          auto user = ParseUser(r.body);
          if (!user) return void(w.result = Fail(user.error()));
          w.user = std::move(*user);
        });
  // 2. Their risk, for the Identity Protection actions (404: never risky).
  round(reads_risk, [&](Work& w) { return Call{"GET", "/identityProtection/riskyUsers/" + http::Escape(curl_, w.user->id), ""}; },
        [&](Work& w, const Reply& r, const Call& c) {
          if (r.status == 404) {
            w.risk_state = "none";
            w.risk_level = "none";
            return;
          }
          if (r.status != 200) return void(w.result = Fail(ErrorOf(r, c, w.action->type)));
          const auto doc = nlohmann::json::parse(r.body, nullptr, false);
          w.risk_state = Field(doc, "riskState");
          w.risk_level = Field(doc, "riskLevel");
          if (w.risk_state.empty()) w.risk_state = "none";
        });

  // 3. Record what each account looked like, before any change.
  std::vector<Observation> seen;
  std::vector<std::size_t> seen_of;
  for (std::size_t i = 0; i < work.size(); ++i) {
    Work& w = work[i];
    if (w.result) continue;
    Observation& o = w.seen;
    o.action_id = w.action->id;
    const ActionType t = w.action->type;
    if (w.user) {
      o.resolved_account = w.user->upn.empty() ? w.action->target : w.user->upn;
      o.account_id = w.user->id;
    } else {
      o.resolved_account = w.action->target;
      o.account_id = w.action->account_id;
    }
    if (t == ActionType::kSuspend || t == ActionType::kUnsuspend) {
      const bool enabled = w.user->enabled.value_or(true);
      o.state = std::string("accountEnabled ") + (enabled ? "true" : "false");
      o.in_target_state = t == ActionType::kSuspend ? !enabled : enabled;
    } else if (t == ActionType::kRevokeSessions) {
      o.state = "sign-in sessions not read (Graph does not show them)";
    } else {
      o.state = "riskState " + w.risk_state + ", riskLevel " + (w.risk_level.empty() ? "none" : w.risk_level);
      o.in_target_state = t == ActionType::kMarkCompromised
                              ? w.risk_state == "confirmedCompromised"
                              : w.risk_state != "atRisk" && w.risk_state != "confirmedCompromised";
    }
    seen.push_back(o);
    seen_of.push_back(i);
  }
  if (!seen.empty()) {
    if (auto recorded = context.Record(seen); !recorded)
      for (std::size_t i : seen_of)
        work[i].result =
            Fail(Error::Unavailable("what the account looked like was not recorded: " + recorded.error().message));
  }

  // 4. Already in the target state: a success, noted.
  for (Work& w : work) {
    if (w.result || !w.seen.in_target_state) continue;
    ExecutionOutcome out;
    out.already_in_state = true;
    out.resolved_account = w.seen.resolved_account;
    out.account_id = w.seen.account_id;
    const ActionType t = w.action->type;
    const std::string already = t == ActionType::kSuspend     ? "already disabled"
                                : t == ActionType::kUnsuspend ? "already enabled"
                                : t == ActionType::kMarkCompromised ? "already confirmed compromised"
                                                                    : "no risk to dismiss";
    out.message = already + " (" + w.seen.state + "); nothing changed" +
                  (t == ActionType::kSuspend && w.user ? SyncNote(*w.user) : "");
    out.provider_answer = {"http:200", w.seen.state};
    w.result = std::move(out);
  }

  // 5. The changes.
  round([](Work&) { return true; },
        [&](Work& w) -> Call {
          switch (w.action->type) {
            case ActionType::kSuspend: return {"PATCH", UserPath(w.user->id), R"({"accountEnabled":false})"};
            case ActionType::kUnsuspend: return {"PATCH", UserPath(w.user->id), R"({"accountEnabled":true})"};
            case ActionType::kRevokeSessions: return {"POST", UserPath(w.named) + "/revokeSignInSessions", ""};
            case ActionType::kMarkCompromised:
              return {"POST", "/identityProtection/riskyUsers/confirmCompromised",
                      nlohmann::json{{"userIds", {w.user->id}}}.dump()};
            default:
              return {"POST", "/identityProtection/riskyUsers/dismiss", nlohmann::json{{"userIds", {w.user->id}}}.dump()};
          }
        },
        [&](Work& w, const Reply& r, const Call& c) {
          if (r.status < 200 || r.status >= 300) return void(w.result = Fail(ErrorOf(r, c, w.action->type)));
          ExecutionOutcome out;
          out.resolved_account = w.seen.resolved_account;
          out.account_id = w.seen.account_id;
          const std::string code = "http:" + std::to_string(r.status);
          switch (w.action->type) {
            case ActionType::kSuspend:
              out.message = "account disabled (accountEnabled false)" + SyncNote(*w.user);
              out.provider_answer = {code, "accountEnabled false"};
              break;
            case ActionType::kUnsuspend:
              out.message = "account enabled (accountEnabled true)";
              out.provider_answer = {code, "accountEnabled true"};
              break;
            case ActionType::kRevokeSessions:
              out.message = "revocation requested; Graph applies it within minutes";
              if (IsGuestName(w.named) || (w.user && w.user->guest())) out.message += GuestNote(w.named);
              out.provider_answer = {code, r.body.substr(0, 200)};
              break;
            case ActionType::kMarkCompromised:
              out.message = "confirmed compromised (was " + w.seen.state + ")";
              out.provider_answer = {code, "riskState confirmedCompromised"};
              break;
            default:
              out.message = "risk dismissed (was " + w.seen.state + ")";
              out.provider_answer = {code, "riskState dismissed"};
              break;
          }
          w.result = std::move(out);
        });

  std::vector<Result<ExecutionOutcome>> out;
  out.reserve(work.size());
  for (Work& w : work) out.push_back(w.result ? std::move(*w.result) : Fail(Error::Internal("not executed")));
  return out;
}

Status EntraConnector::Probe(const ExecutionContext& context) {
  const Call call{"GET", "/users?$top=1&$select=id", ""};
  auto reply = Send(call, context);
  if (!reply) return Fail(reply.error());
  if (reply->status != 200) {
    Error e = ErrorOf(*reply, call, std::nullopt);
    // A probe that Graph refuses means the provider cannot be worked with.
    return Fail(std::move(e).BlameProvider());
  }
  return {};
}

Result<AccountView> EntraConnector::Lookup(const std::string& account) {
  const ExecutionContext context;
  const Call call{"GET", UserPath(account) + "?" + std::string(kUserSelect), ""};
  auto reply = Send(call, context);
  if (!reply) return Fail(reply.error());
  if (reply->status != 200) return Fail(ErrorOf(*reply, call, std::nullopt));
  auto user = ParseUser(reply->body);
  if (!user) return Fail(user.error());
  // Identity Protection's level: a user never flagged may be 404 ("none");
  // 403 (no P2 licence, or no permission to read it) leaves it empty.
  const Call risk_call{"GET", "/identityProtection/riskyUsers/" + http::Escape(curl_, user->id), ""};
  auto risk = Send(risk_call, context);
  if (!risk) return Fail(risk.error());
  std::string level;
  if (risk->status == 200) {
    level = Field(nlohmann::json::parse(risk->body, nullptr, false), "riskLevel");
    if (level.empty()) level = "none";
  } else if (risk->status == 404) {
    level = "none";
  } else if (risk->status == 403) {
    NoteRiskReadable(false, ErrorOf(*risk, risk_call, std::nullopt).message);
  } else {
    return Fail(ErrorOf(*risk, risk_call, std::nullopt));
  }
  AccountView view = ViewOf(*user, std::move(level));
  if (view.login.empty()) view.login = account;
  return view;
}

std::optional<std::string> EntraConnector::NextPath(const std::string& link) const {
  auto path = http::PathOnOrigin(config_->graph_url, link);
  if (!path || !path->starts_with("/v1.0/")) return std::nullopt;
  return path->substr(std::string_view("/v1.0").size());
}

Status EntraConnector::FollowPages(const std::string& first, const ExecutionContext& context,
                                   const std::function<Status(const nlohmann::json& value)>& each) {
  std::optional<std::string> path = first;
  for (int pages = 0; path; ++pages) {
    if (context.deadline != TimePoint{} && Now() >= context.deadline)
      return Fail(Error::Timeout("listing " + first.substr(0, first.find('?')) + " ran out of time after " +
                                 std::to_string(pages) + " pages"));
    const Call call{"GET", *path, ""};
    auto reply = Send(call, context);
    if (!reply) return Fail(reply.error());
    if (reply->status != 200) return Fail(ErrorOf(*reply, call, std::nullopt));
    const auto doc = nlohmann::json::parse(reply->body, nullptr, false);
    if (!doc.is_object() || !doc.contains("value") || !doc["value"].is_array())
      return Fail(Error::Internal("Graph answered GET " + first.substr(0, first.find('?')) + " without a value list")
                      .WithProvider("http:200", reply->body.substr(0, 200)));
    path.reset();
    if (const std::string link = Field(doc, "@odata.nextLink"); !link.empty()) {
      // The next page goes to Graph with the access token: only on graph_url's origin.
      path = NextPath(link);
      if (!path)
        return Fail(Error::FailedPrecondition("Graph's @odata.nextLink is not on " + config_->graph_url +
                                              "/v1.0: not followed, the access token goes to Graph only")
                        .WithProvider("http:200", link.substr(0, 200)));
    }
    if (auto taken = each(doc["value"]); !taken) return taken;
  }
  return {};
}

Status EntraConnector::ListAccounts(const ExecutionContext& context,
                                    const std::function<Status(std::vector<AccountView>&&)>& page) {
  // Identity Protection's levels first, so that each page of users goes out
  // complete. Without the licence or the permission (403) the accounts are
  // listed all the same, with no level.
  std::map<std::string, std::string> levels;
  auto risky = FollowPages("/identityProtection/riskyUsers?$select=id,riskLevel&$top=" +
                               std::to_string(kRiskyUserPageSize),
                           context, [&](const nlohmann::json& value) -> Status {
                             for (const auto& item : value)
                               if (std::string id = Field(item, "id"); !id.empty()) levels[id] = Field(item, "riskLevel");
                             return {};
                           });
  const bool risk_readable = risky.has_value();
  if (!risky && !(risky.error().code == ErrorCode::kPermissionDenied && risky.error().provider_code == "http:403"))
    return risky;
  NoteRiskReadable(risk_readable, risk_readable ? "" : risky.error().message);

  return FollowPages(
      "/users?" + std::string(kUserSelect) + "&$top=" + std::to_string(kUserPageSize), context,
      [&](const nlohmann::json& value) -> Status {
        std::vector<AccountView> views;
        views.reserve(value.size());
        for (const auto& item : value) {
          auto user = ParseUser(item);
          if (!user) return Fail(user.error());
          std::string level;
          if (risk_readable) {
            const auto it = levels.find(user->id);
            level = it == levels.end() || it->second.empty() ? "none" : it->second;
          }
          views.push_back(ViewOf(*user, std::move(level)));
        }
        return page(std::move(views));
      });
}

Result<CheckReport> EntraConnector::Check(const ExecutionContext& context) {
  CheckReport report;
  auto credential = credentials_->Get(Now());
  if (!credential) {
    report.checks.push_back({"token", false, credential.error().message + " (" + credential.error().provider_detail + ")"});
    for (ActionType t : {ActionType::kSuspend, ActionType::kUnsuspend, ActionType::kRevokeSessions,
                         ActionType::kMarkCompromised, ActionType::kDismissRisk})
      report.actions.push_back({t, false, "no access token: the app cannot sign in"});
    return report;
  }
  const std::string& bearer = credential->value.Reveal();
  auto roles = RolesOfToken(bearer.substr(bearer.find(' ') + 1));
  report.checks.push_back({"token", true, "the token endpoint issued an access token for " + config_->scope()});
  const std::set<std::string> granted = roles.value_or(std::set<std::string>{});
  for (std::string_view need : {kRead, kEnableDisable, kRevoke, kRisk}) {
    const bool ok = roles && Grants(granted, need);
    report.checks.push_back(
        {std::string(need), ok,
         !roles ? "the access token is not a JWT: its roles cannot be read"
         : ok   ? "granted (the access token's roles claim)"
                : "missing from the access token's roles claim: grant it to the app registration, with admin consent"});
  }
  const Call risky{"GET", "/identityProtection/riskyUsers?$top=1", ""};
  auto probe = Send(risky, context);
  bool licence = false;
  std::string licence_detail;
  if (!probe) {
    licence_detail = "Graph could not be asked: " + probe.error().message;
  } else if (probe->status == 200) {
    licence = true;
    licence_detail = "GET /v1.0/identityProtection/riskyUsers answered 200";
  } else if (probe->status == 403) {
    licence_detail = std::string("GET /v1.0/identityProtection/riskyUsers answered 403: ") +
                     (Grants(granted, kRisk) ? "the app holds " + std::string(kRisk) +
                                                   ", so the tenant lacks the Microsoft Entra ID P2 licence"
                                             : "the app lacks " + std::string(kRisk) + " (or the tenant the licence)") +
                     " — " + GraphWords(probe->body, probe->request_id);
  } else {
    licence_detail = "GET /v1.0/identityProtection/riskyUsers answered http:" + std::to_string(probe->status) + " — " +
                     GraphWords(probe->body, probe->request_id);
  }
  report.checks.push_back({"Identity Protection licence", licence, licence_detail});

  const bool read = roles && Grants(granted, kRead);
  auto ready = [&](ActionType t) -> ActionReadiness {
    const std::string_view need = PermissionFor(t);
    const bool has = roles && Grants(granted, need);
    if (!has) return {t, false, "the app lacks " + std::string(need)};
    if (t == ActionType::kRevokeSessions)
      return {t, true, "Graph applies it within minutes; no effect on a guest's home tenant sessions"};
    if (!read) return {t, false, "the app lacks " + std::string(kRead) + " (the user is read first)"};
    if (t == ActionType::kMarkCompromised || t == ActionType::kDismissRisk) {
      if (!licence) return {t, false, "Identity Protection is not available: " + licence_detail};
      return {t, true, ""};
    }
    return {t, true,
            "not on users holding an administrator role unless the app holds the " + std::string(kAdminRole) +
                " directory role; a user synced from AD is re-enabled by the next sync unless disabled in AD too"};
  };
  for (ActionType t : {ActionType::kSuspend, ActionType::kUnsuspend, ActionType::kRevokeSessions,
                       ActionType::kMarkCompromised, ActionType::kDismissRisk})
    report.actions.push_back(ready(t));
  return report;
}

std::shared_ptr<CredentialCache> MakeEntraCredentials(std::shared_ptr<const EntraConfig> config) {
  // FetchEntraToken already moves the expiry RenewEarly() ahead.
  return std::make_shared<CredentialCache>([config] { return FetchEntraToken(*config); }, Millis(0));
}

Result<ConnectorFactory> LoadEntraConnector(const ConnectorSection& section) {
  auto config = ParseEntraConfig(section);
  if (!config) return Fail(config.error());
  if (!http::CurlReady()) return Fail(Error::Internal(section.key_path + ": libcurl cannot start"));
  auto shared = std::make_shared<const EntraConfig>(std::move(*config));
  auto credentials = MakeEntraCredentials(shared);
  return ConnectorFactory([shared, credentials]() -> Result<std::unique_ptr<Connector>> {
    return std::unique_ptr<Connector>(std::make_unique<EntraConnector>(shared, credentials));
  });
}

}  // namespace cordon::entra
