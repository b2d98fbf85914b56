#include "connectors/okta/okta_connector.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "connectors/okta/client_assertion.h"
#include "core/catalogue.h"

namespace cordon::okta {
namespace {

constexpr Millis kLongestRetryAfter{10 * 60 * 1000};
constexpr Millis kLongestPoll{4000};
// A listing's page that Okta throttles is asked again once the window
// resets, at most this many times, and never sooner than this.
constexpr int kMostListingWaits = 10;
constexpr Millis kShortestListingWait{250};

// The rate-limit bucket a request counts against. Okta keeps separate limits
// for reading users and for changing them (lifecycle, sessions), each with
// its own window; grouping two of Okta's buckets under one name would only
// make Cordon more careful, splitting one would overspend it.
std::string_view BucketOf(const std::string& method) {
  return method == "GET" ? "users.read" : "users.manage";
}

struct OktaUser {
  std::string id;
  std::string login;
  std::string status;
  std::string transitioning;  // transitioningToStatus, or empty
  std::string email, first_name, last_name, display_name;

  [[nodiscard]] std::string State() const {
    return "status " + status + (transitioning.empty() ? "" : ", transitioning to " + transitioning);
  }
};

std::string StringField(const nlohmann::json& doc, const char* name) {
  if (!doc.is_object()) return {};
  auto it = doc.find(name);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<OktaUser> ParseUser(const nlohmann::json& doc) {
  OktaUser u;
  u.id = StringField(doc, "id");
  u.status = StringField(doc, "status");
  u.transitioning = StringField(doc, "transitioningToStatus");
  if (doc.is_object() && doc.contains("profile")) {
    const nlohmann::json& profile = doc["profile"];
    u.login = StringField(profile, "login");
    u.email = StringField(profile, "email");
    u.first_name = StringField(profile, "firstName");
    u.last_name = StringField(profile, "lastName");
    u.display_name = StringField(profile, "displayName");
  }
  if (u.id.empty() || u.status.empty())
    return Fail(Error::Internal("Okta's user has no id or status").WithProvider("http:200", doc.dump().substr(0, 200)));
  return u;
}

Result<OktaUser> ParseUser(const std::string& body) { return ParseUser(nlohmann::json::parse(body, nullptr, false)); }

// The account as the inventory and the user page show it; Lookup and
// ListAccounts both read users through this.
AccountView ViewOf(const OktaUser& user) {
  AccountView view;
  view.provider = Provider::kOkta;
  view.id = user.id;
  view.login = user.login;
  view.upn = user.login;
  view.mail = user.email;
  view.display_name = !user.display_name.empty() ? user.display_name
                                                   : user.first_name +
                                                         (user.first_name.empty() || user.last_name.empty() ? "" : " ") +
                                                         user.last_name;
  view.status = user.status == "ACTIVE"          ? AccountStatus::kEnabled
                : user.status == "SUSPENDED"     ? AccountStatus::kSuspended
                : user.status == "DEPROVISIONED" ? AccountStatus::kDeactivated
                                                 : AccountStatus::kOther;
  view.must_change_password = user.status == "PASSWORD_EXPIRED";
  view.identifiers["status"] = user.status;
  if (!user.transitioning.empty()) view.identifiers["transitioningToStatus"] = user.transitioning;
  return view;
}

// Okta's own words: "E0000001: Api validation failed: ... (errorId oae...)".
std::string OktaWords(const std::string& body) {
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object()) return body.substr(0, 200);
  std::string words = StringField(doc, "errorCode");
  const std::string summary = StringField(doc, "errorSummary");
  if (!summary.empty()) words += (words.empty() ? "" : ": ") + summary;
  if (auto causes = doc.find("errorCauses"); causes != doc.end() && causes->is_array())
    for (const auto& cause : *causes) {
      const std::string s = StringField(cause, "errorSummary");
      if (!s.empty() && s != summary) words += "; " + s;
    }
  const std::string id = StringField(doc, "errorId");
  if (!id.empty()) words += " (errorId " + id + ")";
  // OAuth errors of the token endpoint.
  const std::string oauth = StringField(doc, "error");
  if (!oauth.empty()) {
    words += (words.empty() ? "" : " ") + oauth;
    const std::string description = StringField(doc, "error_description");
    if (!description.empty()) words += ": " + description;
  }
  return words;
}

std::string OktaSummary(const std::string& body) {
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  std::string summary = StringField(doc, "errorSummary");
  return summary.empty() ? OktaWords(body) : summary;
}

// What each action does on the wire, and the state it leads to.
struct Transition {
  std::string_view target;    // the status the action leads to; empty: no state to reach
  std::string_view request;   // method and path after /api/v1/users/{id}
  std::string_view done;      // for the action center
  std::string_view already;
  bool waits = false;         // Okta finishes it asynchronously
};

std::optional<Transition> TransitionOf(ActionType type) {
  switch (type) {
    case ActionType::kSuspend: return Transition{"SUSPENDED", "/lifecycle/suspend", "suspended", "already suspended"};
    case ActionType::kUnsuspend:
      return Transition{"ACTIVE", "/lifecycle/unsuspend", "unsuspended", "already active"};
    case ActionType::kDeactivate:
      return Transition{"DEPROVISIONED", "/lifecycle/deactivate?sendEmail=false", "deactivated",
                        "already deactivated", true};
    case ActionType::kActivate:
      return Transition{"ACTIVE", "/lifecycle/activate?sendEmail=false", "activated (a new activation)",
                        "already active", true};
    case ActionType::kRevokeSessions:
      return Transition{"", "/sessions?oauthTokens=true", "sessions and OAuth tokens revoked", ""};
    default: return std::nullopt;
  }
}

Result<Secret> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::Unavailable("private key (file " + path + "): cannot be read"));
  std::ostringstream all;
  all << in.rdbuf();
  return Secret(all.str());
}

http::HttpOptions OptionsOf(const OktaConfig& config, Millis timeout) {
  return http::HttpOptions{config.ca_file, config.allow_plaintext, timeout};
}

// What Okta's token endpoint answered: the credential, and the scopes it
// granted (RFC 6749 5.1: absent when they are the ones asked for).
struct TokenAnswer {
  CredentialCache::Credential credential;
  std::optional<std::string> scope;
};

Result<TokenAnswer> RequestAccessToken(const OktaConfig& config) {
  auto key = ReadKeyFile(config.private_key_file);
  if (!key) return Fail(std::move(key.error()).BlameProvider());
  const TimePoint now = Now();
  const std::string endpoint = config.org_url + "/oauth2/v1/token";
  auto assertion = MakeClientAssertion(config.client_id, endpoint, *key, now);
  if (!assertion) {
    Error e = assertion.error();
    e.message = "private key (file " + config.private_key_file + "): " + e.message;
    return Fail(std::move(e).BlameProvider());
  }
  if (!http::CurlReady()) return Fail(Error::Internal("libcurl cannot start").BlameProvider());
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return Fail(Error::Internal("libcurl cannot start").BlameProvider());
  http::HttpRequest request;
  request.method = "POST";
  request.url = endpoint;
  request.headers = {"Accept: application/json", "Content-Type: application/x-www-form-urlencoded"};
  request.body = "grant_type=client_credentials&scope=" + http::Escape(curl.get(), config.scope) +
                 "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                 "&client_assertion=" + assertion->Reveal();
  auto answer = http::Perform(curl.get(), OptionsOf(config, Millis(config.timeout_ms)), request);
  if (!answer) return Fail(answer.error());
  const std::string code = "http:" + std::to_string(answer->status);
  if (answer->status == 429) {
    Error e = Error::ResourceExhausted("Okta's token endpoint throttles").WithProvider(code, OktaWords(answer->body));
    if (auto wait = RetryAfterOf(*answer, Now(), kLongestRetryAfter)) e.retry_after = *wait;
    return Fail(std::move(e).BlameProvider());
  }
  if (answer->status >= 500)
    return Fail(Error::Unavailable("Okta's token endpoint is unavailable")
                    .WithProvider(code, OktaWords(answer->body))
                    .BlameProvider());
  if (answer->status != 200)
    return Fail(Error::Unauthenticated("Okta refused the client assertion of client " + config.client_id)
                    .WithProvider(code, OktaWords(answer->body))
                    .BlameProvider());
  const auto doc = nlohmann::json::parse(answer->body, nullptr, false);
  const std::string token = StringField(doc, "access_token");
  if (token.empty())
    return Fail(Error::Unavailable("Okta's token endpoint answered without an access token")
                    .WithProvider(code, "")
                    .BlameProvider());
  int64_t expires_in = 3600;
  if (doc.contains("expires_in") && doc["expires_in"].is_number_integer()) expires_in = doc["expires_in"].get<int64_t>();
  expires_in = std::clamp<int64_t>(expires_in, 1, 24 * 3600);
  TokenAnswer out{CredentialCache::Credential{Secret("Bearer " + token), now + Millis(expires_in * 1000)}, {}};
  if (doc.contains("scope") && doc["scope"].is_string()) out.scope = doc["scope"].get<std::string>();
  return out;
}

Result<CredentialCache::Credential> FetchAccessToken(const OktaConfig& config) {
  auto answer = RequestAccessToken(config);
  if (!answer) return Fail(answer.error());
  return std::move(answer->credential);
}

bool HasWord(const std::string& words, std::string_view word) {
  std::istringstream in(words);
  std::string w;
  while (in >> w)
    if (w == word) return true;
  return false;
}

}  // namespace

OktaConnector::OktaConnector(std::shared_ptr<const OktaConfig> config, std::shared_ptr<CredentialCache> credentials)
    : config_(std::move(config)), credentials_(std::move(credentials)) {
  if (!http::CurlReady() || (curl_ = curl_easy_init()) == nullptr) throw std::runtime_error("libcurl cannot start");
}

OktaConnector::~OktaConnector() { curl_easy_cleanup(curl_); }

bool OktaConnector::Supports(ActionType type) const { return TransitionOf(type).has_value(); }

std::string OktaConnector::UserPath(const std::string& id_or_login) const {
  return "/api/v1/users/" + http::Escape(curl_, id_or_login);
}

Result<http::HttpAnswer> OktaConnector::Send(const std::string& method, const std::string& path,
                                       const ExecutionContext& context) {
  const std::string_view bucket = BucketOf(method);
  if (auto paced = context.Pace(bucket); !paced) return Fail(paced.error());
  auto credential = credentials_->Get(Now());
  if (!credential) return Fail(Error(credential.error()).BlameProvider());
  http::HttpRequest request;
  request.method = method;
  request.url = config_->org_url + path;
  request.headers = {"Authorization: " + credential->value.Reveal(), "Accept: application/json"};
  if (method == "POST") request.headers.emplace_back("Content-Type: application/json");
  const Millis timeout = std::min(Millis(config_->timeout_ms), context.Remaining(Millis(config_->timeout_ms)));
  auto answer = http::Perform(curl_, OptionsOf(*config_, timeout), request);
  if (!answer) return Fail(answer.error());
  if (auto report = RateLimitOf(*answer, config_->rate_share)) {
    report->bucket = std::string(bucket);
    context.ReportRateLimit(*report);
  }
  const long status = answer->status;
  if (status >= 200 && status < 300) return answer;

  const std::string code = "http:" + std::to_string(status);
  const std::string words = OktaWords(answer->body);
  const std::string what = method + " " + path.substr(0, path.find('?'));
  if (status == 401) {
    // Whoever asks next loads the credential afresh; a burst of refusals of
    // this one costs one load.
    credentials_->Invalidate(credential->generation);
    return Fail(Error::Unauthenticated("Okta refused the action account's token").WithProvider(code, words).BlameProvider());
  }
  if (status == 429) {
    Error e = Error::ResourceExhausted("Okta throttles: " + OktaSummary(answer->body)).WithProvider(code, words);
    if (auto wait = RetryAfterOf(*answer, Now(), kLongestRetryAfter)) e.retry_after = *wait;
    return Fail(std::move(e).BlameProvider());
  }
  if (status >= 500)
    return Fail(Error::Unavailable("Okta is unavailable (" + code + ")").WithProvider(code, words).BlameProvider());
  if (status == 404) return Fail(Error::NotFound("Okta: " + OktaSummary(answer->body)).WithProvider(code, words));
  if (status == 403)
    return Fail(Error::PermissionDenied("Okta refused " + what + ": " + OktaSummary(answer->body))
                    .WithProvider(code, words));
  if (status == 400 || status == 409)
    return Fail(Error::FailedPrecondition("Okta refused " + what + ": " + words).WithProvider(code, words));
  return Fail(Error::Internal("Okta answered " + what + " with " + code).WithProvider(code, words));
}

Result<std::string> OktaConnector::AwaitTransition(const std::string& id, const ExecutionContext& context) {
  Millis pause = config_->transition_poll;
  while (true) {
    auto read = Send("GET", UserPath(id), context);
    if (!read) return Fail(read.error());
    auto user = ParseUser(read->body);
    if (!user) return Fail(user.error());
    if (user->transitioning.empty()) return user->status;
    if (context.deadline != TimePoint{} && Now() + pause >= context.deadline)
      return Fail(Error::Timeout("Okta is still moving the user to " + user->transitioning +
                                 "; the next attempt waits for it again")
                      .WithProvider("http:200", user->State()));
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, kLongestPoll);
  }
}

Result<ExecutionOutcome> OktaConnector::Execute(const Action& action, const ExecutionContext& context) {
  const auto transition = TransitionOf(action.type);
  if (!transition)
    return Fail(Error::InvalidArgument("the okta connector does not support " + std::string(ToString(action.type))));
  const std::string& named = action.account_id.empty() ? action.target : action.account_id;
  auto read = Send("GET", UserPath(named), context);
  if (!read) return Fail(read.error());
  auto user = ParseUser(read->body);
  if (!user) return Fail(user.error());

  Observation seen;
  seen.action_id = action.id;
  seen.resolved_account = user->login.empty() ? action.target : user->login;
  seen.account_id = user->id;
  seen.state = user->State();
  seen.in_target_state = !transition->target.empty() && user->status == transition->target && user->transitioning.empty();
  if (auto recorded = context.Record(std::span(&seen, 1)); !recorded)
    return Fail(Error::Unavailable("what the account looked like was not recorded: " + recorded.error().message));

  ExecutionOutcome out;
  out.resolved_account = seen.resolved_account;
  out.account_id = seen.account_id;
  if (seen.in_target_state) {
    out.already_in_state = true;
    out.message = std::string(transition->already) + " (" + seen.state + "); nothing changed";
    out.provider_answer = {"http:200", seen.state};
    return out;
  }

  // A transition already under way towards the target (an earlier attempt's) is waited for, not asked again.
  const bool under_way = !transition->target.empty() && user->transitioning == transition->target;
  std::string code = "http:200";
  if (!under_way) {
    const std::string request(transition->request);
    const std::string method = action.type == ActionType::kRevokeSessions ? "DELETE" : "POST";
    auto changed = Send(method, UserPath(user->id) + request, context);
    if (!changed) return Fail(changed.error());
    code = "http:" + std::to_string(changed->status);
  }
  std::string status = transition->target.empty() ? user->status : std::string(transition->target);
  if (transition->waits) {
    auto settled = AwaitTransition(user->id, context);
    if (!settled) return Fail(settled.error());
    status = *settled;
    if (action.type == ActionType::kDeactivate && status != "DEPROVISIONED")
      return Fail(Error::Conflict("Okta ended the deactivation with the user " + status)
                      .WithProvider("http:200", "status " + status));
  }
  out.message = std::string(transition->done) + (transition->target.empty() ? "" : ": status " + status);
  out.provider_answer = {code, "status " + status};
  return out;
}

Status OktaConnector::Probe(const ExecutionContext& context) {
  auto answer = Send("GET", "/api/v1/users?limit=1", context);
  if (!answer) return Fail(answer.error());
  return {};
}

Result<CheckReport> OktaConnector::Check(const ExecutionContext& context) {
  static constexpr std::string_view kManage = "okta.users.manage";
  CheckReport report;
  bool may_manage = true;
  std::string manage_why;
  if (config_->auth == AuthMode::kPrivateKeyJwt) {
    // A token of its own, to see what Okta grants; the connector's shared one
    // is left as it is.
    auto token = RequestAccessToken(*config_);
    if (!token && token.error().provider_code == "http:400" &&
        token.error().provider_detail.find("invalid_scope") != std::string::npos) {
      // Okta answered, and will not grant the scopes asked for: the
      // permission is missing, the org is there.
      const std::string why = "Okta will not grant client " + config_->client_id + " scope = \"" + config_->scope +
                              "\": " + token.error().provider_detail;
      report.checks.push_back({"token", false, why});
      report.checks.push_back({std::string(kManage), false,
                               "not granted: grant okta.users.manage to the service app (Okta API Scopes) and ask "
                               "for it in scope"});
      for (const CatalogueEntry& e : Catalogue())
        if (e.provider == Provider::kOkta && Supports(e.type))
          report.actions.push_back({e.type, false, "no access token: " + why});
      return report;
    }
    if (!token) return Fail(token.error());
    const std::string granted = token->scope.value_or(config_->scope);
    report.checks.push_back(
        {"token", true,
         "Okta's token endpoint issued an access token to client " + config_->client_id +
             " (private_key_jwt); scopes granted: " + granted +
             (token->scope ? "" : " (the answer names none: those asked for, scope = \"" + config_->scope + "\")")});
    may_manage = HasWord(granted, kManage);
    manage_why = may_manage ? "granted to client " + config_->client_id
                            : "not granted to client " + config_->client_id + " (granted: " + granted +
                                  "); grant okta.users.manage to the service app and ask for it in scope";
    report.checks.push_back({std::string(kManage), may_manage, manage_why});
  }

  bool can_read = false;
  auto read = Send("GET", "/api/v1/users?limit=1", context);
  if (!read && read.error().blame == Blame::kProvider) return Fail(read.error());
  if (read) {
    const auto doc = nlohmann::json::parse(read->body, nullptr, false);
    can_read = doc.is_array();
    std::string login;
    if (can_read && !doc.empty() && doc[0].is_object() && doc[0].contains("profile"))
      login = StringField(doc[0]["profile"], "login");
    report.checks.push_back({"read users", can_read,
                             can_read ? "GET /api/v1/users?limit=1 answered http:" + std::to_string(read->status) +
                                            (login.empty() ? " with no user" : " with " + login)
                                      : "GET /api/v1/users?limit=1 answered something other than a list of users"});
  } else {
    report.checks.push_back({"read users", false,
                             "GET /api/v1/users?limit=1: " + read.error().message + " [" + read.error().provider_code +
                                 "]"});
  }
  if (config_->auth == AuthMode::kSsws)
    report.checks.insert(report.checks.begin(),
                         {"token", can_read,
                          "SSWS API token (" + config_->token.Describe() +
                              "): it acts with the admin role of the Okta user who created it, which Okta does not "
                              "state through the token"});

  for (const CatalogueEntry& e : Catalogue()) {
    if (e.provider != Provider::kOkta || !Supports(e.type)) continue;
    ActionReadiness ready{e.type, can_read && may_manage, ""};
    if (!can_read)
      ready.why = "users cannot be read with the action account's credential";
    else if (!may_manage)
      ready.why = "needs okta.users.manage: " + manage_why;
    else if (config_->auth == AuthMode::kSsws)
      ready.why = "users can be read; changes need an SSWS token of an admin allowed to manage users (else 403 "
                  "E0000006)";
    else
      ready.why = "okta.users.manage granted";
    report.actions.push_back(std::move(ready));
  }
  return report;
}

Result<AccountView> OktaConnector::Lookup(const std::string& account) {
  auto read = Send("GET", UserPath(account), ExecutionContext{});
  if (!read) return Fail(read.error());
  auto user = ParseUser(read->body);
  if (!user) return Fail(user.error());
  AccountView view = ViewOf(*user);
  if (view.login.empty()) view.login = account;
  return view;
}

Result<http::HttpAnswer> OktaConnector::SendWaitingOutThrottle(const std::string& path,
                                                               const ExecutionContext& context) {
  auto answer = Send("GET", path, context);
  for (int waits = 0; !answer && answer.error().code == ErrorCode::kResourceExhausted && waits < kMostListingWaits;
       ++waits) {
    // Okta said when its window resets (X-Rate-Limit-Reset on its own
    // clock): wait for that, not less, and not past the deadline.
    const Millis wait = std::max(answer.error().retry_after.value_or(kShortestListingWait), kShortestListingWait);
    if (context.deadline != TimePoint{} && Now() + wait >= context.deadline) break;
    std::this_thread::sleep_for(wait);
    answer = Send("GET", path, context);
  }
  return answer;
}

Status OktaConnector::ListAccounts(const ExecutionContext& context,
                                   const std::function<Status(std::vector<AccountView>&&)>& page) {
  const std::string limit = "limit=" + std::to_string(kListPageSize);
  // Okta's plain listing leaves DEPROVISIONED users out; a filter on their
  // status brings them (Okta documents `status eq` for `filter`; `search`
  // would do too, but reads an eventually consistent copy).
  const std::string listings[] = {
      "/api/v1/users?" + limit,
      "/api/v1/users?filter=" + http::Escape(curl_, "status eq \"DEPROVISIONED\"") + "&" + limit,
  };
  int pages = 0;
  std::size_t accounts = 0;
  for (const std::string& first : listings) {
    std::optional<std::string> next = first;
    while (next) {
      if (context.deadline != TimePoint{} && Now() >= context.deadline)
        return Fail(Error::Timeout("listing Okta's users ran out of time after " + std::to_string(pages) +
                                   " pages (" + std::to_string(accounts) + " accounts)"));
      auto answer = SendWaitingOutThrottle(*next, context);
      if (!answer) return Fail(answer.error());
      const auto doc = nlohmann::json::parse(answer->body, nullptr, false);
      if (!doc.is_array())
        return Fail(Error::Internal("Okta answered GET /api/v1/users with something other than a list of users")
                        .WithProvider("http:" + std::to_string(answer->status), answer->body.substr(0, 200)));
      std::vector<AccountView> views;
      views.reserve(doc.size());
      for (const auto& item : doc) {
        auto user = ParseUser(item);
        if (!user) return Fail(user.error());
        views.push_back(ViewOf(*user));
      }
      next.reset();
      if (auto link = NextLinkOf(*answer)) {
        // The next page goes to Okta with the credential: only on the org's own origin.
        next = http::PathOnOrigin(config_->org_url, *link);
        if (!next)
          return Fail(Error::FailedPrecondition("Okta's next page link is not on " + config_->org_url +
                                                ": not followed, the credential goes to the org only")
                          .WithProvider("http:" + std::to_string(answer->status), link->substr(0, 200)));
      }
      ++pages;
      accounts += views.size();
      if (auto taken = page(std::move(views)); !taken) return taken;
    }
  }
  return {};
}

std::shared_ptr<CredentialCache> MakeOktaCredentials(std::shared_ptr<const OktaConfig> config) {
  if (config->auth == AuthMode::kPrivateKeyJwt)
    return std::make_shared<CredentialCache>([config] { return FetchAccessToken(*config); });
  return std::make_shared<CredentialCache>([config]() -> Result<CredentialCache::Credential> {
    auto token = LoadSecret(config->token);
    if (!token) {
      Error e = token.error();
      e.message = "Okta API token (" + config->token.Describe() + "): " + e.message;
      e.retryable = true;
      return Fail(std::move(e).BlameProvider());
    }
    return CredentialCache::Credential{Secret("SSWS " + token->Reveal()), {}};
  });
}

Result<ConnectorFactory> LoadOktaConnector(const ConnectorSection& section) {
  auto config = ParseOktaConfig(section);
  if (!config) return Fail(config.error());
  if (!http::CurlReady()) return Fail(Error::Internal(section.key_path + ": libcurl cannot start"));
  auto shared = std::make_shared<const OktaConfig>(std::move(*config));
  auto credentials = MakeOktaCredentials(shared);
  return ConnectorFactory([shared, credentials]() -> Result<std::unique_ptr<Connector>> {
    return std::unique_ptr<Connector>(std::make_unique<OktaConnector>(shared, credentials));
  });
}

}  // namespace cordon::okta
