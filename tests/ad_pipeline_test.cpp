// Proof on the lab's DC that a pipelined batch never credits an answer to the
// wrong modify, even when the connection dies in the middle of the pipeline.
//
// ExecuteBatch sends up to a batch of modifies on one connection before it
// reads any answer. A proxy in front of the DC's LDAPS port (TcpProxy) cuts
// that connection after a chosen number of bytes: first a clean run through
// the proxy measures where the modifies start (after the bind and the search)
// and how long each is, then each round cuts at another place — between two
// modifies, in the middle of one, or while the answers come back — and
// checks, as Administrator on a separate connection:
//  * no action is reported succeeded for an account the directory does not
//    show disabled;
//  * after the engine's next try (ExecuteBatch again for the actions that did
//    not succeed), every action succeeded and every account is disabled.
// In "paced" rounds the test waits, before each request the connector sends
// (ExecutionContext::pace, where the engine's rate budget waits), until the
// proxy has relayed everything: the cut then falls exactly where the byte
// count says, and the connector's next send fails on the dead connection.
// In the other rounds the connector writes the whole pipeline at its own
// speed and learns of the cut when it reads the answers.
//
// Users touched: bulk0901..bulk0950, restored after each round.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include "connectors/ad/ad_connector.h"
#include "support/ad_probe.h"
#include "support/lab_info.h"
#include "support/tcp_proxy.h"

namespace cordon::ad {
namespace {

using testing::TcpCut;
using testing::TcpProxy;
using testing::TheLab;

constexpr int kFirstUser = 901;
constexpr int kUsers = 50;

// Where a round cuts, counted in modifies (or their answers) after the bind
// and the search: 0 is where the first begins, 2.5 the middle of the third,
// -0.5 inside the search.
struct Round {
  const char* name;
  bool client_to_server;  // cut the modifies going out, else the answers coming back
  double at;
  bool paced;
};

const Round kRounds[] = {
    {"in the search", true, -0.5, true},
    {"before the first modify", true, 0.0, true},
    {"before the first answer", false, 0.0, true},
    {"in the first modify", true, 0.5, true},
    {"between the 3rd and the 4th modify", true, 3.0, true},
    {"in the 8th modify", true, 7.5, true},
    {"in the 13th modify", true, 12.5, true},
    {"between the 20th and the 21st modify", true, 20.0, true},
    {"in the 25th modify", true, 24.5, true},
    {"in the 41st modify", true, 40.5, true},
    {"in the last modify", true, 49.5, true},
    {"in the 11th modify, unpaced", true, 10.5, false},
    {"between the 30th and the 31st modify, unpaced", true, 30.0, false},
    {"in the answers, a fifth of the way", false, 10.5, true},
    {"in the answers, half way", false, 25.0, false},
};

class AdPipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(TheLab().base_dn.empty()) << "lab.json not loaded";
    auto probe = testing::AdProbe::ConnectAsAdmin(TheLab());
    ASSERT_TRUE(probe) << probe.error().message;
    admin_ = std::make_unique<testing::AdProbe>(std::move(*probe));
    auto proxy = TcpProxy::Start({.target_port = 636});
    ASSERT_TRUE(proxy) << proxy.error().message;
    proxy_ = std::move(*proxy);
    for (int i = 0; i < kUsers; ++i) users_.push_back(TheLab().BulkUser(kFirstUser + i));
    RestoreUsers();
  }
  void TearDown() override {
    if (admin_) RestoreUsers();
  }

  void RestoreUsers() {
    for (const std::string& u : users_) {
      auto ok = admin_->ResetUser(u);
      ASSERT_TRUE(ok) << u << ": " << ok.error().message;
    }
  }
  bool DisabledInDirectory(const std::string& sam) {
    auto u = admin_->ReadUser(sam);
    if (!u) throw std::runtime_error(sam + ": " + u.error().message);
    return u->disabled();
  }

  // A connector with the shipped defaults, reaching the DC through the proxy.
  std::unique_ptr<Connector> MakeConnector() {
    toml::table section{{"url", "ldaps://127.0.0.1:" + std::to_string(proxy_->port())},
                        {"ca_file", TheLab().ca_file},
                        {"base_dn", TheLab().base_dn},
                        {"bind_dn", TheLab().action_account.bind_dn},
                        {"password_file", TheLab().action_account.password_file}};
    auto factory = LoadAdConnector(ConnectorSection{section, "connectors.ad", {}});
    if (!factory) throw std::runtime_error(factory.error().message);
    auto connector = (*factory)();
    if (!connector) throw std::runtime_error(connector.error().message);
    return std::move(*connector);
  }

  static std::vector<Action> Disables(const std::vector<std::string>& users) {
    std::vector<Action> actions;
    for (const std::string& u : users) {
      Action a;
      a.id = "act_" + u;
      a.type = ActionType::kDisable;
      a.target = u;
      actions.push_back(a);
    }
    return actions;
  }

  ExecutionContext Context(bool paced) {
    ExecutionContext context;
    if (paced) {
      context.pace = [this](std::string_view) -> Status {
        if (!proxy_->Settle()) return Fail(Error::Timeout("the proxy did not settle"));
        return {};
      };
    }
    return context;
  }

  std::unique_ptr<testing::AdProbe> admin_;
  std::unique_ptr<TcpProxy> proxy_;
  std::vector<std::string> users_;
};

TEST_F(AdPipeline, EveryAnswerIsCreditedToItsOwnModifyWhenTheConnectionIsCut) {
  // Measure a clean run. With every account already disabled the batch sends
  // the bind and the search and no modify: what it carried is where the
  // modifies of the real run begin.
  for (const std::string& u : users_) ASSERT_TRUE(admin_->SetDisabled(u, true));
  testing::TcpTraffic before_modifies;
  {
    auto ad = MakeConnector();
    const int connection = proxy_->accepted() + 1;
    auto results = ad->ExecuteBatch(Disables(users_), Context(true));
    for (const auto& r : results) {
      ASSERT_TRUE(r) << r.error().message;
      ASSERT_TRUE(r->already_in_state);
    }
    ASSERT_TRUE(proxy_->Settle());
    before_modifies = proxy_->Traffic(connection);
  }
  RestoreUsers();
  testing::TcpTraffic after_modifies;
  {
    auto ad = MakeConnector();
    const int connection = proxy_->accepted() + 1;
    auto results = ad->ExecuteBatch(Disables(users_), Context(true));
    for (const auto& r : results) {
      ASSERT_TRUE(r) << r.error().message;
      ASSERT_FALSE(r->already_in_state);
    }
    ASSERT_TRUE(proxy_->Settle());
    after_modifies = proxy_->Traffic(connection);
    ASSERT_EQ(proxy_->accepted(), connection) << "the clean run needed a second connection";
  }
  ASSERT_GT(after_modifies.client_to_server, before_modifies.client_to_server);
  ASSERT_GT(after_modifies.server_to_client, before_modifies.server_to_client);
  const double modify_bytes =
      static_cast<double>(after_modifies.client_to_server - before_modifies.client_to_server) / kUsers;
  const double answer_bytes =
      static_cast<double>(after_modifies.server_to_client - before_modifies.server_to_client) / kUsers;
  std::printf("bind and search: %llu bytes out, %llu back; a modify %.1f bytes, its answer %.1f\n",
              static_cast<unsigned long long>(before_modifies.client_to_server),
              static_cast<unsigned long long>(before_modifies.server_to_client), modify_bytes, answer_bytes);

  for (const Round& round : kRounds) {
    SCOPED_TRACE(round.name);
    RestoreUsers();
    auto ad = MakeConnector();
    const std::vector<Action> actions = Disables(users_);
    TcpCut cut{.connection = proxy_->accepted() + 1};
    if (round.client_to_server) {
      cut.after_client_bytes = static_cast<uint64_t>(before_modifies.client_to_server + round.at * modify_bytes);
    } else {
      cut.after_server_bytes = static_cast<uint64_t>(before_modifies.server_to_client + round.at * answer_bytes);
    }
    proxy_->CutAt(cut);

    auto results = ad->ExecuteBatch(actions, Context(round.paced));
    ASSERT_EQ(results.size(), actions.size());
    ASSERT_TRUE(proxy_->Traffic(cut.connection).cut) << "the pipeline's connection was not cut: nothing was shown";

    const int connections = proxy_->accepted() - cut.connection + 1;
    std::vector<Action> again;
    std::vector<std::size_t> again_index;
    for (std::size_t i = 0; i < actions.size(); ++i) {
      if (results[i]) {
        EXPECT_TRUE(DisabledInDirectory(users_[i]))
            << users_[i] << " was reported disabled (" << results[i]->message << ") but is not";
      } else {
        again.push_back(actions[i]);
        again_index.push_back(i);
      }
    }
    std::printf("cut %s: %zu of %d succeeded on the first try, over %d connection(s)\n", round.name,
                actions.size() - again.size(), kUsers, connections);
    // The engine's next try of what did not succeed.
    if (!again.empty()) {
      auto retried = ad->ExecuteBatch(again, Context(false));
      ASSERT_EQ(retried.size(), again.size());
      for (std::size_t k = 0; k < again.size(); ++k) results[again_index[k]] = std::move(retried[k]);
    }
    for (std::size_t i = 0; i < actions.size(); ++i) {
      EXPECT_TRUE(results[i]) << users_[i] << ": " << results[i].error().message;
      EXPECT_TRUE(DisabledInDirectory(users_[i])) << users_[i];
    }
  }
}

}  // namespace
}  // namespace cordon::ad
