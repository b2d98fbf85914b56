// AdConnector: Cordon's response actions on on-premises Active Directory.
//
// Disable / Enable flip ACCOUNTDISABLE (0x2) in userAccountControl with one
// modify that deletes the value just read and adds the new one, so a change
// made by someone else in between makes the DC answer noSuchAttribute (16)
// instead of being overwritten; the connector then re-reads and retries a
// bounded number of times, and reports Conflict (retryable) if it keeps
// losing. ForcePasswordReset sets pwdLastSet = 0 (must change at next logon);
// ClearPasswordReset sets -1, its undo. Each action reads the account first:
// already in the target state is a success noted as such.
//
// Accounts are found by sAMAccountName, userPrincipalName, objectSid or
// objectGUID (account_filter.h), restricted to user objects under base_dn.
// ExecuteBatch resolves all targets with one OR-filter search and pipelines
// the modifies on the one connection.
//
// Every outcome and error records the LDAP result code ("ldap:50") and the
// DC's own diagnostic text, and the DN the target resolved to. The bind
// password is loaded only to bind and never logged or returned.
//
// Thread-safety: one instance per engine worker, used by one thread at a
// time (Connector contract). It holds one LDAP connection, opened on first
// use and reopened lazily after the connection is lost.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "connectors/ad/account_filter.h"
#include "connectors/ad/ad_config.h"
#include "connectors/ad/ldap_connection.h"
#include "connectors/connector.h"
#include "connectors/registry.h"

namespace cordon::ad {

// userAccountControl's ACCOUNTDISABLE bit.
inline constexpr uint32_t kAccountDisable = 0x2;
// How often one action re-reads and retries after losing an optimistic race.
inline constexpr int kMaxConflictRetries = 3;

// Validates [connectors.ad] and returns a factory of AdConnector instances.
// With bind_mode = "gssapi" it sets the process-wide Kerberos environment
// (ConfigureKerberosEnvironment), and it ignores SIGPIPE if nothing handles
// it yet (a dropped DC connection must be an error, not the process's end):
// call it at start-up, before threads.
[[nodiscard]] Result<ConnectorFactory> LoadAdConnector(const toml::table& section, std::string_view key_path);

class AdConnector final : public Connector {
 public:
  explicit AdConnector(std::shared_ptr<const AdConfig> config);

  [[nodiscard]] Provider provider() const override { return Provider::kActiveDirectory; }
  [[nodiscard]] bool Supports(ActionType type) const override;
  [[nodiscard]] Result<ExecutionOutcome> Execute(const Action& action) override;
  [[nodiscard]] std::vector<Result<ExecutionOutcome>> ExecuteBatch(std::span<const Action> actions) override;
  [[nodiscard]] Result<AccountView> Lookup(const std::string& account) override;

  // Test seam: runs after the account's state was read and before the
  // modify is sent (single-action path), so a test can race a change in.
  void SetBeforeWriteHookForTest(std::function<void(const std::string& dn)> hook) {
    before_write_ = std::move(hook);
  }

 private:
  // What one account looks like now, as far as Cordon's actions care.
  struct AccountState {
    std::string dn;
    std::string uac_raw;  // exactly as read: the value the optimistic modify deletes
    uint32_t uac = 0;
    int64_t pwd_last_set = 0;
    LdapEntry entry;
  };
  // Either "already there" (mods empty) or the modify to send.
  struct Plan {
    std::vector<Modification> mods;
    std::string summary;  // for the action center
  };

  [[nodiscard]] static Result<AccountState> StateOf(LdapEntry entry);
  [[nodiscard]] static Result<Plan> PlanFor(ActionType type, const AccountState& state);
  [[nodiscard]] static ExecutionOutcome Succeeded(const AccountState& state, Plan plan, LdapAnswer answer);

  Result<LdapConnection*> Connection();
  Result<SearchResult> SearchWithReconnect(const std::string& filter, int size_limit);
  Result<AccountState> ReadAccount(const AccountId& id);
  Result<ExecutionOutcome> ExecuteOnce(const Action& action, const AccountId& id);

  std::shared_ptr<const AdConfig> config_;
  std::unique_ptr<LdapConnection> connection_;
  std::function<void(const std::string&)> before_write_;
};

}  // namespace cordon::ad
