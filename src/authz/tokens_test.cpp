#include "authz/tokens.h"

#include <set>
#include <sstream>

#include <gtest/gtest.h>

namespace cordon {
namespace {

// Records CreateToken calls; nothing else of the Store is used by IssueToken.
class TokenOnlyStore : public Store {
 public:
  std::vector<TokenRecord> tokens;
  bool fail_create = false;

  Status Migrate() override { return {}; }
  Result<std::vector<Action>> CreateActions(std::span<const NewAction>, TimePoint) override { return Unused(); }
  Result<Action> GetAction(std::string_view) override { return Unused(); }
  Result<std::vector<Attempt>> GetAttempts(std::string_view) override { return Unused(); }
  Result<std::vector<AuditEvent>> GetAudit(std::string_view) override { return Unused(); }
  Result<ActionPage> ListActions(const ActionFilter&) override { return Unused(); }
  Result<int64_t> CountDue(Provider, TimePoint) override { return Unused(); }
  Result<std::vector<Action>> ClaimDue(Provider, std::string_view, int, TimePoint, Millis) override {
    return Unused();
  }
  Status RenewLeases(std::span<const std::string>, std::string_view, TimePoint, Millis) override { return Unused(); }
  Status RecordObservations(std::span<const Observation>, std::string_view, TimePoint) override { return Unused(); }
  Result<Action> FinishAttempt(const AttemptReport&) override { return Unused(); }
  Result<int> FailOverdue(Provider, TimePoint, std::string_view) override { return Unused(); }
  Result<int> RecoverExpiredLeases(TimePoint) override { return Unused(); }
  Result<Action> Cancel(std::string_view, const Actor&, std::string_view, TimePoint) override { return Unused(); }
  Result<std::vector<Action>> CreateUndos(std::span<const NewAction>, TimePoint) override { return Unused(); }
  Result<std::vector<RiskMark>> ListRisks(const RiskFilter&) override { return Unused(); }
  Status AppendAudit(std::span<const AuditEvent>) override { return Unused(); }
  Result<std::vector<AuditEvent>> ListAudit(std::string_view, int) override { return Unused(); }
  Status CreateToken(const TokenRecord& token) override {
    if (fail_create) return Fail(Error::Unavailable("store down"));
    tokens.push_back(token);
    return {};
  }
  Result<std::optional<TokenRecord>> FindTokenByDigest(std::string_view) override { return Unused(); }
  Result<std::vector<TokenRecord>> ListTokens() override { return Unused(); }
  Result<TokenRecord> RevokeToken(std::string_view, const Actor&, std::string_view, TimePoint) override {
    return Unused();
  }
  Status TouchTokens(std::span<const std::pair<std::string, TimePoint>>) override { return Unused(); }
  Result<std::vector<StatusCount>> CountByStatus() override { return Unused(); }
  Status Ping() override { return Unused(); }

 private:
  static tl::unexpected<Error> Unused() { return Fail(Error::Internal("not used by this test")); }
};

TEST(TokensTest, GeneratedTokenHasPrefixAnd256BitsOfBase64Url) {
  auto token = GenerateToken();
  ASSERT_TRUE(token.has_value());
  const std::string& value = token->Reveal();
  ASSERT_EQ(value.rfind("cdn_", 0), 0u);
  // 32 bytes -> 43 base64url characters without padding.
  EXPECT_EQ(value.size(), 4u + 43u);
  for (const char c : value.substr(4)) {
    EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
        << "unexpected character in token";
  }
}

TEST(TokensTest, GeneratedTokensDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    auto token = GenerateToken();
    ASSERT_TRUE(token.has_value());
    seen.insert(token->Reveal());
  }
  EXPECT_EQ(seen.size(), 64u);
}

TEST(TokensTest, TokenNeverPrints) {
  auto token = GenerateToken();
  ASSERT_TRUE(token.has_value());
  std::ostringstream os;
  os << *token;
  EXPECT_EQ(os.str(), "***");
  EXPECT_EQ(token->ToString(), "***");
}

TEST(TokensTest, DigestIsLowercaseHexSha256) {
  EXPECT_EQ(TokenDigest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(TokenDigest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_NE(TokenDigest("cdn_a"), TokenDigest("cdn_b"));
}

TEST(TokensTest, IssueStoresOnlyTheDigest) {
  TokenOnlyStore store;
  auto issued = IssueToken(store, "alice-analyst", Role::kSecurityOperator);
  ASSERT_TRUE(issued.has_value()) << issued.error().message;
  ASSERT_EQ(store.tokens.size(), 1u);
  const TokenRecord& stored = store.tokens[0];
  EXPECT_EQ(stored.name, "alice-analyst");
  EXPECT_EQ(stored.role, "security_operator");
  EXPECT_EQ(stored.sha256_hex, TokenDigest(issued->token.Reveal()));
  EXPECT_EQ(stored.id.rfind("tok_", 0), 0u);
  EXPECT_EQ(stored.id, issued->record.id);
  EXPECT_EQ(stored.sha256_hex.find(issued->token.Reveal()), std::string::npos);
  EXPECT_EQ(stored.id.find(issued->token.Reveal().substr(4, 8)), std::string::npos);
}

TEST(TokensTest, IssueRejectsBadNames) {
  TokenOnlyStore store;
  EXPECT_FALSE(IssueToken(store, "", Role::kSecurityReader).has_value());
  EXPECT_FALSE(IssueToken(store, std::string(129, 'a'), Role::kSecurityReader).has_value());
  EXPECT_FALSE(IssueToken(store, "bad\nname", Role::kSecurityReader).has_value());
  EXPECT_TRUE(store.tokens.empty());
}

TEST(TokensTest, IssuePassesStoreErrorsOn) {
  TokenOnlyStore store;
  store.fail_create = true;
  auto issued = IssueToken(store, "ops", Role::kGlobalAdministrator);
  ASSERT_FALSE(issued.has_value());
  EXPECT_EQ(issued.error().code, ErrorCode::kUnavailable);
}

TEST(TokensTest, IssueWithAnExpiry) {
  TokenOnlyStore store;
  const TimePoint in_a_day = Now() + Millis(24 * 3600 * 1000);
  auto issued = IssueToken(store, "contractor", Role::kSecurityReader, in_a_day);
  ASSERT_TRUE(issued.has_value()) << issued.error().message;
  ASSERT_EQ(store.tokens.size(), 1u);
  EXPECT_EQ(store.tokens[0].expires_at, in_a_day);
  EXPECT_TRUE(store.tokens[0].UsableAt(in_a_day - Millis(1)));
  EXPECT_FALSE(store.tokens[0].UsableAt(in_a_day)) << "refused from the expiry on";

  auto past = IssueToken(store, "late", Role::kSecurityReader, Now() - Millis(1000));
  ASSERT_FALSE(past.has_value());
  EXPECT_EQ(past.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store.tokens.size(), 1u);
}

TEST(TokensTest, RevokedTokensAreNeverUsable) {
  TokenRecord record;
  EXPECT_TRUE(record.UsableAt(Now())) << "no expiry, not revoked";
  record.revoked = true;
  record.revoked_at = Now();
  EXPECT_FALSE(record.UsableAt(Now()));
}

TEST(TokensTest, LifetimesInDaysHoursOrMinutes) {
  EXPECT_EQ(ParseTokenLifetime("90d").value(), Millis(int64_t{90} * 24 * 3600 * 1000));
  EXPECT_EQ(ParseTokenLifetime("12h").value(), Millis(int64_t{12} * 3600 * 1000));
  EXPECT_EQ(ParseTokenLifetime("30m").value(), Millis(int64_t{30} * 60 * 1000));
  EXPECT_EQ(ParseTokenLifetime("3650d").value(), Millis(int64_t{3650} * 24 * 3600 * 1000));
  for (const char* bad : {"", "d", "90", "0d", "-1d", "1.5d", "90 d", "90D", "1w", "3651d", "99999999999d", "1dd"}) {
    EXPECT_FALSE(ParseTokenLifetime(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace cordon
