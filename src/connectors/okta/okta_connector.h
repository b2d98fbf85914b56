// OktaConnector: response actions on Okta users over the Management API.
//
//   suspend     POST /api/v1/users/{id}/lifecycle/suspend     (undo: unsuspend)
//   unsuspend   POST /api/v1/users/{id}/lifecycle/unsuspend
//   deactivate  POST /api/v1/users/{id}/lifecycle/deactivate  (undo: activate), then waits,
//               reading the user again within the deadline, until it is no longer in transition.
//               Never DELETE /api/v1/users/{id}: that would delete a deactivated user.
//   activate    POST /api/v1/users/{id}/lifecycle/activate?sendEmail=false, waiting the same way
//   revoke_sessions  DELETE /api/v1/users/{id}/sessions?oauthTokens=true (irreversible)
//
// Each action reads the user first (by the immutable id an undo carries, else
// by id or login as typed), records what it saw (status, Okta id) and changes
// nothing when the user is already in the target state. Okta's refusal of a
// transition (400 E0000001, ...) fails the action at once with Okta's
// errorSummary and errorId. 429, 5xx, transport errors and a refused token are
// the provider's (the engine holds or pauses it); a 429 carries the wait until
// X-Rate-Limit-Reset measured on Okta's clock (its Date header). Every answer's
// rate-limit headers go to the engine (ExecutionContext::ReportRateLimit).
// ListAccounts reads every user, page by page, for the inventory.
//
// Thread-safety: one instance per engine worker (it keeps one curl handle and
// with it a connection); the shared CredentialCache is thread-safe.
#pragma once

#include <memory>
#include <string>

#include <curl/curl.h>

#include "connectors/connector.h"
#include "connectors/credential_cache.h"
#include "connectors/okta/okta_config.h"
#include "connectors/okta/okta_http.h"

namespace cordon::okta {

// Users per page of a listing: Okta's largest.
inline constexpr int kListPageSize = 200;

class OktaConnector final : public Connector {
 public:
  OktaConnector(std::shared_ptr<const OktaConfig> config, std::shared_ptr<CredentialCache> credentials);
  ~OktaConnector() override;
  OktaConnector(const OktaConnector&) = delete;
  OktaConnector& operator=(const OktaConnector&) = delete;

  [[nodiscard]] Provider provider() const override { return Provider::kOkta; }
  [[nodiscard]] bool Supports(ActionType type) const override;
  [[nodiscard]] Result<ExecutionOutcome> Execute(const Action& action, const ExecutionContext& context) override;
  [[nodiscard]] Status Probe(const ExecutionContext& context) override;
  [[nodiscard]] Result<AccountView> Lookup(const std::string& account) override;
  // GET /api/v1/users?limit=200, then the DEPROVISIONED users Okta leaves out
  // of it (filter=status eq "DEPROVISIONED"), each following its
  // `Link: rel="next"` on the org's own origin only; a throttled page is
  // asked again once Okta's window resets, within the deadline.
  [[nodiscard]] Status ListAccounts(const ExecutionContext& context,
                                    const std::function<Status(std::vector<AccountView>&& page)>& page) override;
  // With private_key_jwt, asks Okta's token endpoint for a token of its own
  // and reports the scopes granted (every action needs okta.users.manage);
  // then reads one user (GET /api/v1/users?limit=1) with the connector's
  // credential. An SSWS token's admin role is not visible through the token:
  // the report says so. A refused credential or an Okta that cannot be
  // reached is an error.
  [[nodiscard]] Result<CheckReport> Check(const ExecutionContext& context) override;

 private:
  // One request: paced, authenticated, bounded by the deadline, its rate-limit
  // headers reported; an answer outside 2xx is returned as the error it means.
  [[nodiscard]] Result<http::HttpAnswer> Send(const std::string& method, const std::string& path,
                                        const ExecutionContext& context);
  // A read (users.read) that waits out Okta's 429s within the deadline.
  [[nodiscard]] Result<http::HttpAnswer> SendWaitingOutThrottle(const std::string& path,
                                                                const ExecutionContext& context);
  [[nodiscard]] std::string UserPath(const std::string& id_or_login) const;
  // Reads the user again until it is no longer in transition, within the deadline.
  [[nodiscard]] Result<std::string> AwaitTransition(const std::string& id, const ExecutionContext& context);

  const std::shared_ptr<const OktaConfig> config_;
  const std::shared_ptr<CredentialCache> credentials_;
  CURL* curl_ = nullptr;  // kept between requests for its connection
};

// The credential every instance presents: "SSWS <token>" read from the
// token's file or variable, or "Bearer <access token>" from Okta's token
// endpoint (private_key_jwt), renewed before it expires.
[[nodiscard]] std::shared_ptr<CredentialCache> MakeOktaCredentials(std::shared_ptr<const OktaConfig> config);

[[nodiscard]] Result<ConnectorFactory> LoadOktaConnector(const ConnectorSection& section);

}  // namespace cordon::okta
