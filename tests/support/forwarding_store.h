// ForwardingStore: a Store that hands every call to another one. Tests derive
// from it to watch or hold one method of a real store (e.g. to know that a
// request has reached the store) while the rest behaves as the real thing.
//
// Thread-safety: that of the inner store, plus whatever the derived class adds.
#pragma once

#include "store/store.h"

namespace cordon::testing {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store& inner) : inner_(inner) {}

  Status Migrate() override { return inner_.Migrate(); }
  Result<std::vector<Action>> CreateActions(std::span<const NewAction> actions, TimePoint now) override {
    return inner_.CreateActions(actions, now);
  }
  Result<Action> GetAction(std::string_view id) override { return inner_.GetAction(id); }
  Result<std::vector<Attempt>> GetAttempts(std::string_view id) override { return inner_.GetAttempts(id); }
  Result<std::vector<AuditEvent>> GetAudit(std::string_view id) override { return inner_.GetAudit(id); }
  Result<ActionPage> ListActions(const ActionFilter& filter) override { return inner_.ListActions(filter); }
  Result<int64_t> CountDue(Provider provider, TimePoint now) override { return inner_.CountDue(provider, now); }
  Result<std::vector<Action>> ClaimDue(Provider provider, std::string_view worker, int max, TimePoint now,
                                       Millis lease) override {
    return inner_.ClaimDue(provider, worker, max, now, lease);
  }
  Status RecordObservations(std::span<const Observation> observations, std::string_view worker,
                            TimePoint now) override {
    return inner_.RecordObservations(observations, worker, now);
  }
  Status RenewLeases(std::span<const std::string> ids, std::string_view worker, TimePoint now, Millis lease) override {
    return inner_.RenewLeases(ids, worker, now, lease);
  }
  Result<Action> FinishAttempt(const AttemptReport& report) override { return inner_.FinishAttempt(report); }
  Result<int> FailOverdue(Provider provider, TimePoint now, std::string_view why) override {
    return inner_.FailOverdue(provider, now, why);
  }
  Result<int> RecoverExpiredLeases(TimePoint now) override { return inner_.RecoverExpiredLeases(now); }
  Result<Action> Cancel(std::string_view id, const Actor& actor, std::string_view reason, TimePoint now) override {
    return inner_.Cancel(id, actor, reason, now);
  }
  Result<std::vector<Action>> CreateUndos(std::span<const NewAction> undos, TimePoint now) override {
    return inner_.CreateUndos(undos, now);
  }
  Result<std::vector<RiskMark>> ListRisks(const RiskFilter& filter) override { return inner_.ListRisks(filter); }
  using Store::AppendAudit;
  Status AppendAudit(std::span<const AuditEvent> events) override { return inner_.AppendAudit(events); }
  Result<std::vector<AuditEvent>> ListAudit(std::string_view prefix, int limit) override {
    return inner_.ListAudit(prefix, limit);
  }
  Status CreateToken(const TokenRecord& token) override { return inner_.CreateToken(token); }
  Result<std::optional<TokenRecord>> FindTokenByDigest(std::string_view digest) override {
    return inner_.FindTokenByDigest(digest);
  }
  Result<std::vector<TokenRecord>> ListTokens() override { return inner_.ListTokens(); }
  Result<TokenRecord> RevokeToken(std::string_view id, const Actor& actor, std::string_view reason,
                                  TimePoint now) override {
    return inner_.RevokeToken(id, actor, reason, now);
  }
  Status TouchTokens(std::span<const std::pair<std::string, TimePoint>> used) override {
    return inner_.TouchTokens(used);
  }
  Result<std::vector<StatusCount>> CountByStatus() override { return inner_.CountByStatus(); }
  Status Ping() override { return inner_.Ping(); }

 private:
  Store& inner_;
};

}  // namespace cordon::testing
