#include "connectors/ad/ad_connector.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace cordon::ad {
namespace {

// ldaps:// on a loopback port where nothing listens: any attempt to reach
// the DC fails fast with ldap:-1, so a test can tell "refused before
// connecting" from "tried the DC".
std::string DeadUrl() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return "ldaps://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

std::unique_ptr<Connector> MakeDead() {
  setenv("CORDON_AD_CONNECTOR_TEST_PW", "not-used", 1);
  // Never read: nothing answers at the URL.
  static const std::string ca = [] {
    std::string path = "/tmp/cordon-ad-connector-test-" + std::to_string(getpid()) + ".pem";
    std::ofstream(path) << "not a certificate\n";
    return path;
  }();
  toml::table section{{"url", DeadUrl()},
                      {"ca_file", ca},
                      {"base_dn", "DC=corp,DC=example,DC=test"},
                      {"bind_dn", "svc@corp.example.test"},
                      {"password_env", "CORDON_AD_CONNECTOR_TEST_PW"},
                      {"timeout_ms", 2000}};
  auto factory = LoadAdConnector(ConnectorSection{section, "connectors.ad", {}});
  EXPECT_TRUE(factory) << factory.error().message;
  auto c = (*factory)();
  EXPECT_TRUE(c);
  return std::move(*c);
}

Action MakeAction(ActionType type, std::string target) {
  Action a;
  a.type = type;
  a.target = std::move(target);
  return a;
}

TEST(AdConnector, SupportsExactlyTheAdActions) {
  auto ad = MakeDead();
  EXPECT_EQ(ad->provider(), Provider::kActiveDirectory);
  for (ActionType t : kAllActionTypes) {
    bool expected = t == ActionType::kDisable || t == ActionType::kEnable || t == ActionType::kForcePasswordReset ||
                    t == ActionType::kClearPasswordReset;
    EXPECT_EQ(ad->Supports(t), expected) << ToString(t);
  }
}

TEST(AdConnector, RefusesBadRequestsBeforeContactingTheDc) {
  auto ad = MakeDead();
  for (const Action& a : {MakeAction(ActionType::kSuspend, "alice"), MakeAction(ActionType::kDisable, ""),
                          MakeAction(ActionType::kDisable, std::string(kMaxAccountNameBytes + 1, 'x')),
                          MakeAction(ActionType::kDisable, "sid:not-a-sid")}) {
    auto r = ad->Execute(a, ExecutionContext{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;
    EXPECT_FALSE(r.error().retryable);
    EXPECT_TRUE(r.error().provider_code.empty()) << "the DC must not have been asked";
  }
}

TEST(AdConnector, AnUnreachableDcIsTheProvidersFailureForSingleBatchAndProbe) {
  auto ad = MakeDead();
  auto r = ad->Execute(MakeAction(ActionType::kDisable, "alice.adams"), ExecutionContext{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(r.error().retryable);
  EXPECT_EQ(r.error().blame, Blame::kProvider);
  EXPECT_EQ(r.error().provider_code, "ldap:-1");
  auto probe = ad->Probe(ExecutionContext{});
  ASSERT_FALSE(probe);
  EXPECT_EQ(probe.error().blame, Blame::kProvider);

  std::vector<Action> batch = {MakeAction(ActionType::kDisable, "alice.adams"),
                               MakeAction(ActionType::kEnable, "bob.baker@corp.example.test"),
                               MakeAction(ActionType::kDisable, "*)(cn=*"), MakeAction(ActionType::kSuspend, "x"),
                               MakeAction(ActionType::kDisable, "")};
  auto results = ad->ExecuteBatch(batch, ExecutionContext{});
  ASSERT_EQ(results.size(), batch.size());
  for (int i : {0, 1, 2}) {
    ASSERT_FALSE(results[i]);
    EXPECT_TRUE(results[i].error().retryable) << i;
    EXPECT_EQ(results[i].error().blame, Blame::kProvider) << i;
  }
  for (int i : {3, 4}) {
    ASSERT_FALSE(results[i]);
    EXPECT_EQ(results[i].error().code, ErrorCode::kInvalidArgument) << i;
  }
  EXPECT_FALSE(ad->Lookup("alice.adams"));
}

TEST(AdConnector, AListingOfAnUnreachableDcIsTheProvidersFailureAndHandsOverNothing) {
  auto ad = MakeDead();
  int pages = 0;
  int paced = 0;
  ExecutionContext context;
  context.pace = [&](std::string_view) {
    ++paced;
    return Status{};
  };
  auto listed = ad->ListAccounts(context, [&](std::vector<AccountView>&&) {
    ++pages;
    return Status{};
  });
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().blame, Blame::kProvider);
  EXPECT_TRUE(listed.error().retryable);
  EXPECT_EQ(listed.error().provider_code, "ldap:-1");
  EXPECT_EQ(pages, 0);
  EXPECT_EQ(paced, 0) << "no page was asked for: the connection failed first";
}

TEST(AdConnector, AListingPastItsDeadlineAsksTheDcNothing) {
  auto ad = MakeDead();
  ExecutionContext context;
  context.deadline = Now() - Millis(1);
  auto listed = ad->ListAccounts(context, [](std::vector<AccountView>&&) { return Status{}; });
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().code, ErrorCode::kTimeout);
  EXPECT_TRUE(listed.error().retryable);
  EXPECT_TRUE(listed.error().provider_code.empty()) << "the DC must not have been asked";
}

TEST(AdConnector, AnUndoActsOnTheImmutableIdAlone) {
  auto ad = MakeDead();
  Action undo = MakeAction(ActionType::kEnable, "alice.adams");
  undo.account_id = "not-a-guid";
  auto r = ad->Execute(undo, ExecutionContext{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(r.error().provider_code.empty()) << "refused before the DC was asked";
}

TEST(AdConnector, LoaderNamesTheWrongKey) {
  toml::table section{{"url", "ldaps://dc1"}, {"base_dn", "DC=x"}, {"bind_dn", "a"}, {"password", "x"}};
  auto factory = LoadAdConnector(ConnectorSection{section, "connectors.ad", {}});
  ASSERT_FALSE(factory);
  EXPECT_EQ(factory.error().message.rfind("connectors.ad.password: ", 0), 0u) << factory.error().message;
}

}  // namespace
}  // namespace cordon::ad
