// AdConnector: Cordon's response actions on on-premises Active Directory.
//
// Disable / Enable flip ACCOUNTDISABLE (0x2) in userAccountControl with one
// modify that deletes the value just read and adds the new one, so a change
// made by someone else in between makes the DC answer noSuchAttribute (16)
// instead of being overwritten; the connector then re-reads and retries a
// bounded number of times, and reports Conflict (retryable) if it keeps
// losing. ForcePasswordReset sets pwdLastSet = 0 (must change at next logon)
// and refuses, saying why, an account on which that forces nothing ("password
// never expires", "smart card required"); ClearPasswordReset sets -1, its
// undo. Each action reads the account first and reports what it saw to the
// engine (ExecutionContext::record_observations) before it sends any change:
// already in the target state is a success noted as such.
//
// ListAccounts lists every user account under base_dn for the inventory,
// page by page; Lookup and the listing show an account the same way
// (AccountView: objectGUID, sAMAccountName, UPN, SID, mail, status,
// pwdLastSet = 0, adminCount = 1, DN).
//
// Accounts are found by sAMAccountName, userPrincipalName, objectSid or
// objectGUID (account_filter.h), restricted to user objects under base_dn. An
// action that names an immutable id (an undo: Action::account_id, the
// objectGUID its original resolved to) is looked up by that id alone, so a
// renamed account is still the one acted on. ExecuteBatch resolves all
// targets with one OR-filter search and pipelines the modifies on one
// connection; an answer is credited only to the modify it answers, on the
// connection that carried it.
//
// Every outcome and error records the LDAP result code ("ldap:50") and the
// DC's own diagnostic text, and the DN the target resolved to. Errors that
// concern the DC as a whole (unreachable, timed out, the action account's bind
// refused) are Blame::kProvider, so the engine pauses AD instead of failing
// actions. The bind password comes from the provider's CredentialCache (read
// from its file or variable once, again after the DC refused it: a rotated
// password is picked up without a restart) and is never logged or returned.
//
// Thread-safety: one instance per engine worker, used by one thread at a
// time (Connector contract). It holds one LDAP connection, opened on first
// use and reopened lazily after the connection is lost.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/ad/account_filter.h"
#include "connectors/ad/ad_config.h"
#include "connectors/ad/ldap_connection.h"
#include "connectors/connector.h"
#include "connectors/credential_cache.h"

namespace cordon::ad {

// userAccountControl bits Cordon reads or writes.
inline constexpr uint32_t kAccountDisable = 0x2;
inline constexpr uint32_t kDontExpirePassword = 0x10000;
inline constexpr uint32_t kSmartcardRequired = 0x40000;
// How often one action re-reads and retries after losing an optimistic race.
inline constexpr int kMaxConflictRetries = 3;
// How many user accounts Check asks the DC about (a DC's own page limit,
// 1,000 by default on Windows, may cut it shorter).
inline constexpr int kCheckSampleSize = 1000;
// User accounts per page of a listing (a DC's MaxPageSize, 1,000 by default,
// may make its pages shorter).
inline constexpr int kListPageSize = 500;

// Validates [connectors.ad] and returns a factory of AdConnector instances
// sharing one credential cache. It stops libldap from reading ldap.conf and
// LDAP* variables (IgnoreLdapClientConfiguration), with bind_mode = "gssapi"
// sets the process-wide Kerberos environment (ConfigureKerberosEnvironment),
// and ignores SIGPIPE if nothing handles it yet (a dropped DC connection must
// be an error, not the process's end): call it at start-up, before threads.
[[nodiscard]] Result<ConnectorFactory> LoadAdConnector(const ConnectorSection& section);

// The action account's password for simple binds, as the credential cache
// loads it (its file or environment variable).
[[nodiscard]] std::shared_ptr<CredentialCache> MakePasswordCache(const AdConfig& config);

class AdConnector final : public Connector {
 public:
  AdConnector(std::shared_ptr<const AdConfig> config, std::shared_ptr<CredentialCache> password);

  [[nodiscard]] Provider provider() const override { return Provider::kActiveDirectory; }
  [[nodiscard]] bool Supports(ActionType type) const override;
  [[nodiscard]] Result<ExecutionOutcome> Execute(const Action& action, const ExecutionContext& context) override;
  [[nodiscard]] std::vector<Result<ExecutionOutcome>> ExecuteBatch(std::span<const Action> actions,
                                                                  const ExecutionContext& context) override;
  // Opens a fresh connection (bind included) and reads the root DSE.
  [[nodiscard]] Status Probe(const ExecutionContext& context) override;
  [[nodiscard]] Result<AccountView> Lookup(const std::string& account) override;
  // Every user account under base_dn ((&(objectCategory=person)(objectClass=user))),
  // by a paged search (RFC 2696, kListPageSize a page, on one connection),
  // each page handed over before the next is asked for. Each page request is
  // paced; the first goes again on a fresh connection if the kept one had
  // gone stale, a later one cannot (its cookie belongs to the lost
  // connection): the listing fails, retryable. The deadline ends it between pages.
  [[nodiscard]] Status ListAccounts(const ExecutionContext& context,
                                    const std::function<Status(std::vector<AccountView>&& page)>& page) override;
  // Binds as the action account on a fresh connection and asks the DC which
  // attributes that account may write (allowedAttributesEffective) on up to
  // kCheckSampleSize user accounts under base_dn: disable/enable need
  // userAccountControl, force_password_reset/clear_password_reset pwdLastSet.
  // An action is ready when the attribute is writable on at least one of
  // them; the report says on how many, and under which containers it is not.
  // A DC that cannot be reached or refuses the bind is an error.
  [[nodiscard]] Result<CheckReport> Check(const ExecutionContext& context) override;

 private:
  // What one account looks like now, as far as Cordon's actions care.
  struct AccountState {
    std::string dn;
    std::string guid;     // objectGUID, canonical string form
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
  [[nodiscard]] static Observation ObservationOf(const Action& action, const AccountState& state, const Plan& plan);
  [[nodiscard]] static ExecutionOutcome Succeeded(const AccountState& state, Plan plan, LdapAnswer answer);
  // The account an action acts on: its immutable id when it has one, else its target.
  [[nodiscard]] static Result<AccountId> IdOf(const Action& action);

  Result<LdapConnection*> Connection(const ExecutionContext& context);
  Result<SearchResult> SearchWithReconnect(const std::string& filter, int size_limit, const ExecutionContext& context);
  Result<AccountState> ReadAccount(const AccountId& id, const ExecutionContext& context);
  Result<ExecutionOutcome> ExecuteOnce(const Action& action, const AccountId& id, const ExecutionContext& context);

  std::shared_ptr<const AdConfig> config_;
  std::shared_ptr<CredentialCache> password_;
  std::unique_ptr<LdapConnection> connection_;
};

}  // namespace cordon::ad
