// HttpTestConnector: a Connector for FakeHttpProvider's users API over
// libcurl, built the way an HTTP provider's connector (Okta, Entra ID) is
// built on the seam, so that tests can drive the real engine against a real
// HTTP exchange:
// * context.Pace() before every request, so the provider settings' rate
//   budget holds for what the provider sees;
// * each request bounded by the batch's deadline;
// * the bearer credential comes from a CredentialCache shared by every
//   instance of the provider, and is invalidated when the provider refuses it;
// * answers map to errors the engine acts on: 429 -> ResourceExhausted and
//   503 -> Unavailable (the provider's, so no attempt is spent; 429 carries
//   Retry-After as retry_after), 401 -> Unauthenticated (the provider's),
//   404 -> NotFound (the action's: it fails at once).
// Suspend reads the account, records what it saw, and changes it only if
// it is not suspended already.
//
// Thread-safety: one instance per engine worker (it keeps one curl handle,
// and with it a connection); the shared CredentialCache is thread-safe.
#pragma once

#include <memory>
#include <string>

#include <curl/curl.h>

#include "connectors/connector.h"
#include "connectors/credential_cache.h"

namespace cordon::testing {

class HttpTestConnector final : public Connector {
 public:
  HttpTestConnector(std::string base_url, std::shared_ptr<CredentialCache> credentials);
  ~HttpTestConnector() override;
  HttpTestConnector(const HttpTestConnector&) = delete;
  HttpTestConnector& operator=(const HttpTestConnector&) = delete;

  [[nodiscard]] Provider provider() const override { return Provider::kOkta; }
  [[nodiscard]] bool Supports(ActionType type) const override { return type == ActionType::kSuspend; }
  [[nodiscard]] Result<ExecutionOutcome> Execute(const Action& action, const ExecutionContext& context) override;
  [[nodiscard]] Status Probe(const ExecutionContext& context) override;
  [[nodiscard]] Result<AccountView> Lookup(const std::string& account) override;

 private:
  struct Answer {
    long status = 0;
    std::string body;
  };
  // One request: paced, authenticated, bounded by the deadline; an answer
  // outside 2xx is returned as the error it means.
  [[nodiscard]] Result<Answer> Send(const std::string& method, const std::string& path,
                                    const ExecutionContext& context);
  [[nodiscard]] std::string UserPath(const std::string& login) const;

  const std::string base_url_;
  const std::shared_ptr<CredentialCache> credentials_;
  CURL* curl_ = nullptr;  // kept between requests for its connection
};

}  // namespace cordon::testing
