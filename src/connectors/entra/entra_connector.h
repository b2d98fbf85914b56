// EntraConnector: response actions on Microsoft Entra ID users over Microsoft Graph v1.0.
//
//   suspend          GET the user, then PATCH /users/{id} {"accountEnabled": false}   (undo: unsuspend)
//   unsuspend        GET the user, then PATCH /users/{id} {"accountEnabled": true}
//   revoke_sessions  POST /users/{id or UPN}/revokeSignInSessions, no read first (irreversible;
//                    Graph applies it within minutes; no effect on a guest's home tenant)
//   mark_compromised GET the user and its riskyUser, then POST
//                    /identityProtection/riskyUsers/confirmCompromised {"userIds": [id]}  (undo: dismiss_risk)
//   dismiss_risk     the same with .../dismiss
//
// What each action saw is recorded (ExecutionContext::Record) before any
// change; an account already in the target state is a success, noted.
// ExecuteBatch sends the requests of several actions through POST /$batch
// (at most 20 items each, config `batch`), paces once per item, and retries
// an item Graph throttled or failed (429, 5xx, 401) on its own with its body,
// honouring Retry-After (integer or decimal seconds; missing: exponential
// backoff) within the batch's deadline.
//
// ListAccounts lists every user for the inventory, with Identity
// Protection's risk level where the tenant has it.
//
// Errors: 401 is the provider's (the engine pauses it; the token is fetched
// again once first); 403 fails the action and says whether the app lacks a
// permission (named) or the target holds an admin role (the higher privilege
// named) or the tenant lacks Identity Protection; 404 fails at once; 429, 503,
// 504 and transport errors are the provider's, with Retry-After.
//
// Thread-safety: one instance per engine worker (it keeps one curl handle and
// with it a connection); the shared CredentialCache is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "connectors/connector.h"
#include "connectors/credential_cache.h"
#include "connectors/entra/entra_config.h"

namespace cordon::entra {

class EntraConnector final : public Connector {
 public:
  EntraConnector(std::shared_ptr<const EntraConfig> config, std::shared_ptr<CredentialCache> credentials);
  ~EntraConnector() override;
  EntraConnector(const EntraConnector&) = delete;
  EntraConnector& operator=(const EntraConnector&) = delete;

  [[nodiscard]] Provider provider() const override { return Provider::kEntra; }
  [[nodiscard]] bool Supports(ActionType type) const override;
  [[nodiscard]] Result<ExecutionOutcome> Execute(const Action& action, const ExecutionContext& context) override;
  [[nodiscard]] std::vector<Result<ExecutionOutcome>> ExecuteBatch(std::span<const Action> actions,
                                                                  const ExecutionContext& context) override;
  [[nodiscard]] Status Probe(const ExecutionContext& context) override;
  // The user, and its Identity Protection level (riskyUsers/{id}: 404 none,
  // 403 left empty).
  [[nodiscard]] Result<AccountView> Lookup(const std::string& account) override;
  // Identity Protection's levels (GET /identityProtection/riskyUsers, all
  // pages; a 403 — no P2 licence, no permission — leaves every level empty
  // and is logged once), then GET /users, 999 a page, each page handed over
  // before the next is asked for. @odata.nextLink is followed only on
  // graph_url's origin, under /v1.0. Paced, throttling waited out and the
  // token renewed as every request is (Send); the deadline ends it between pages.
  [[nodiscard]] Status ListAccounts(const ExecutionContext& context,
                                    const std::function<Status(std::vector<AccountView>&& page)>& page) override;
  [[nodiscard]] Result<CheckReport> Check(const ExecutionContext& context) override;

  // One Graph request (a path under /v1.0) and what Graph answered to it.
  struct Call {
    std::string method;
    std::string path;
    std::string body;  // JSON, or empty
  };
  struct Reply {
    long status = 0;
    std::string body;
    std::string request_id;   // the request-id header, when any
    std::string retry_after;  // the Retry-After header, as sent
  };

 private:
  // Paced, authenticated (a refused token is fetched again once), retried on
  // 429/503/504 within the deadline; any other answer is returned as it is.
  [[nodiscard]] Result<Reply> Send(const Call& call, const ExecutionContext& context, bool paced = false);
  // Several calls: through $batch when the config allows and there are two or more.
  [[nodiscard]] std::vector<Result<Reply>> SendAll(const std::vector<Call>& calls, const ExecutionContext& context);
  // `round`: how many times these calls were sent in a batch already; the
  // items Graph throttled or failed go again, in a batch of their own while
  // there are several and rounds are left, else one by one.
  [[nodiscard]] std::vector<Result<Reply>> SendBatch(std::span<const Call> calls, const ExecutionContext& context,
                                                     int round = 1);
  [[nodiscard]] std::string UserPath(const std::string& id_or_upn) const;
  // The path under /v1.0 of an @odata.nextLink on graph_url's origin; none for any other link.
  [[nodiscard]] std::optional<std::string> NextPath(const std::string& link) const;
  // GETs `first` and each @odata.nextLink after it, handing each page's
  // `value` array to `each`; a non-200 answer is the error it means (ErrorOf).
  [[nodiscard]] Status FollowPages(const std::string& first, const ExecutionContext& context,
                                   const std::function<Status(const nlohmann::json& value)>& each);
  // The failure `reply` means for an action of `type` (or a read when none).
  [[nodiscard]] Error ErrorOf(const Reply& reply, const Call& call, std::optional<ActionType> type) const;

  const std::shared_ptr<const EntraConfig> config_;
  const std::shared_ptr<CredentialCache> credentials_;
  CURL* curl_ = nullptr;      // kept between requests for its connection
  std::set<std::string> roles_;  // the application permissions of the last token used
  bool roles_known_ = false;
};

// The application permissions (`roles` claim) of an access token, read without checking its signature; none
// when the token is not a JWT.
[[nodiscard]] std::optional<std::set<std::string>> RolesOfToken(const std::string& access_token);

// The shared access token: client credentials (secret or certificate
// assertion) at <authority>/<tenant>/oauth2/v2.0/token, renewed before it expires.
[[nodiscard]] std::shared_ptr<CredentialCache> MakeEntraCredentials(std::shared_ptr<const EntraConfig> config);

[[nodiscard]] Result<ConnectorFactory> LoadEntraConnector(const ConnectorSection& section);

}  // namespace cordon::entra
