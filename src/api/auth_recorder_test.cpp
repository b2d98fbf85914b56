#include "api/auth_recorder.h"

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace cordon::api {
namespace {

class AuthRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open((dir_ / "cordon.db").string());
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate().has_value());
  }

  std::vector<AuditEvent> Rows(const std::string& prefix = "auth.") {
    auto rows = store_->ListAudit(prefix, 1000);
    EXPECT_TRUE(rows.has_value());
    return rows ? *rows : std::vector<AuditEvent>{};
  }

  static Refusal Make(std::string address, std::string route = "actions.get", std::string token = "") {
    Refusal r;
    r.event = "auth.unauthenticated";
    r.client_address = std::move(address);
    r.actor = "anonymous";
    r.token_id = std::move(token);
    r.route_class = std::move(route);
    r.detail = "GET /api/v1/actions (unknown token)";
    r.at = FromUnixMillis(1'800'000'000'000);
    return r;
  }

  testing::TempDir dir_{"cordon-auth-recorder"};
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(AuthRecorderTest, OneRowPerKeyWithItsCount) {
  AuthRecorder recorder(*store_, {});
  for (int i = 0; i < 500; ++i) {
    Refusal r = Make("192.0.2.1");
    r.at += Millis(i);
    recorder.Refused(std::move(r));
  }
  recorder.Refused(Make("192.0.2.1", "actions.list"));
  recorder.Refused(Make("192.0.2.2"));
  recorder.Refused(Make("192.0.2.2", "actions.get", "tok_revoked"));
  EXPECT_TRUE(Rows().empty()) << "nothing is written before a flush";
  ASSERT_TRUE(recorder.Flush().has_value());

  const auto rows = Rows();
  ASSERT_EQ(rows.size(), 4u);
  int64_t total = 0;
  for (const AuditEvent& e : rows) {
    total += e.count;
    if (e.count == 500) {
      EXPECT_EQ(e.client_address, "192.0.2.1");
      EXPECT_EQ(e.at, FromUnixMillis(1'800'000'000'000)) << "the time of the first";
      EXPECT_EQ(e.detail,
                "GET /api/v1/actions (unknown token); route actions.get; 500 times from 2027-01-15T08:00:00.000Z to "
                "2027-01-15T08:00:00.499Z");
    }
  }
  EXPECT_EQ(total, 503);
  bool known_token = false;
  for (const AuditEvent& e : rows) known_token |= e.actor_token == "tok_revoked";
  EXPECT_TRUE(known_token);

  ASSERT_TRUE(recorder.Flush().has_value());
  EXPECT_EQ(Rows().size(), 4u) << "a flush writes each refusal once";
}

TEST_F(AuthRecorderTest, KeysBeyondTheCapAreAggregatedIntoOneRow) {
  AuthRecorder recorder(*store_, {.interval = Millis(10000), .max_keys = 10, .touch_interval = Millis(60000)});
  for (int i = 0; i < 5000; ++i)
    recorder.Refused(Make("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256)));
  ASSERT_TRUE(recorder.Flush().has_value());
  const auto rows = Rows();
  ASSERT_EQ(rows.size(), 11u);
  int64_t total = 0;
  int overflow = 0;
  for (const AuditEvent& e : rows) {
    total += e.count;
    if (e.client_address.empty()) {
      ++overflow;
      EXPECT_EQ(e.count, 4990);
      EXPECT_NE(e.detail.find("beyond 10 distinct"), std::string::npos) << e.detail;
    }
  }
  EXPECT_EQ(overflow, 1);
  EXPECT_EQ(total, 5000);
}

TEST_F(AuthRecorderTest, TokenUseIsNotedAtMostOncePerIntervalAndWrittenInOneBatch) {
  TokenRecord token;
  token.id = "tok_0001";
  token.name = "analyst";
  token.role = "security_reader";
  token.sha256_hex = std::string(64, 'a');
  token.created_at = Now();
  ASSERT_TRUE(store_->CreateToken(token).has_value());
  auto last_used = [&] {
    auto tokens = store_->ListTokens();
    EXPECT_TRUE(tokens.has_value() && tokens->size() == 1);
    return tokens && tokens->size() == 1 ? tokens->front().last_used_at : TimePoint{};
  };

  AuthRecorder recorder(*store_, {});
  const TimePoint t0 = Now();
  recorder.Used("tok_0001", t0);
  recorder.Used("tok_0001", t0 + Millis(30000));  // within the minute: not noted
  EXPECT_EQ(last_used(), TimePoint{}) << "not on the caller's path";
  ASSERT_TRUE(recorder.Flush().has_value());
  EXPECT_EQ(last_used(), t0);
  recorder.Used("tok_0001", t0 + Millis(61000));
  ASSERT_TRUE(recorder.Flush().has_value());
  EXPECT_EQ(last_used(), t0 + Millis(61000));
}

TEST_F(AuthRecorderTest, StopWritesWhatIsLeft) {
  {
    AuthRecorder recorder(*store_, {});
    recorder.Start();
    recorder.Refused(Make("192.0.2.9"));
    recorder.Stop();
    EXPECT_EQ(Rows().size(), 1u);
    recorder.Refused(Make("192.0.2.9"));
  }
  EXPECT_EQ(Rows().size(), 2u) << "and so does the destructor";
}

}  // namespace
}  // namespace cordon::api
