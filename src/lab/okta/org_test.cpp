#include "lab/okta/org.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <thread>

namespace cordon::lab::okta {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<OktaOrg> MakeOrg(milliseconds delay = milliseconds(200)) {
  auto org = std::make_unique<OktaOrg>([] { return std::chrono::system_clock::now(); }, delay);
  std::vector<SeedUser> users = {{"ann.active@x.test", "Ann", "Active", UserStatus::kActive},
                                 {"sue.susp@x.test", "Sue", "Susp", UserStatus::kSuspended},
                                 {"stan.staged@x.test", "Stan", "Staged", UserStatus::kStaged},
                                 {"dora.gone@x.test", "Dora", "Gone", UserStatus::kDeprovisioned}};
  for (int i = 0; i < 450; ++i) users.push_back({"bulk" + std::to_string(i) + "@x.test", "Bulk", "N", UserStatus::kActive});
  org->Seed(users);
  return org;
}

TEST(OktaOrg, IdsAreOktaShapedAndStablePerSeed) {
  auto pa = MakeOrg(), pb = MakeOrg();
  OktaOrg& a = *pa;
  OktaOrg& b = *pb;
  const auto ua = a.Find("ann.active@x.test"), ub = b.Find("ann.active@x.test");
  ASSERT_TRUE(ua && ub);
  EXPECT_EQ(ua->id.size(), 20u);
  EXPECT_EQ(ua->id.substr(0, 3), "00u");
  EXPECT_EQ(ua->id, ub->id);
  EXPECT_EQ(a.Find(ua->id)->login, "ann.active@x.test");
  EXPECT_EQ(a.Find("ANN.ACTIVE@x.test")->id, ua->id);
  EXPECT_EQ(a.Find("ann.active")->id, ua->id);
  EXPECT_FALSE(a.Find("nobody@x.test"));
}

TEST(OktaOrg, SuspendOnlyActiveUnsuspendOnlySuspended) {
  auto owned = MakeOrg();
  OktaOrg& org = *owned;
  EXPECT_EQ(org.Suspend("sue.susp@x.test").outcome, Transition::Outcome::kIllegal);
  EXPECT_EQ(org.Suspend("sue.susp@x.test").refusal, "Cannot suspend a user that is not active");
  EXPECT_EQ(org.Unsuspend("ann.active@x.test").outcome, Transition::Outcome::kIllegal);
  EXPECT_EQ(org.Suspend("ann.active@x.test").outcome, Transition::Outcome::kDone);
  EXPECT_EQ(org.Find("ann.active@x.test")->status, UserStatus::kSuspended);
  EXPECT_EQ(org.Unsuspend("ann.active@x.test").outcome, Transition::Outcome::kDone);
  EXPECT_EQ(org.Find("ann.active@x.test")->status, UserStatus::kActive);
  EXPECT_EQ(org.Suspend("nobody").outcome, Transition::Outcome::kNotFound);
}

TEST(OktaOrg, DeactivateIsAsynchronousThenRemovable) {
  auto owned = MakeOrg(milliseconds(300));
  OktaOrg& org = *owned;
  EXPECT_EQ(org.Remove("ann.active@x.test").outcome, Transition::Outcome::kIllegal);
  ASSERT_EQ(org.Deactivate("ann.active@x.test").outcome, Transition::Outcome::kDone);
  auto u = org.Find("ann.active@x.test");
  EXPECT_EQ(u->status, UserStatus::kActive);
  ASSERT_TRUE(u->transitioning_to);
  EXPECT_EQ(*u->transitioning_to, UserStatus::kDeprovisioned);
  std::this_thread::sleep_for(milliseconds(400));
  u = org.Find("ann.active@x.test");
  EXPECT_EQ(u->status, UserStatus::kDeprovisioned);
  EXPECT_FALSE(u->transitioning_to);
  EXPECT_EQ(org.Deactivate("ann.active@x.test").outcome, Transition::Outcome::kIllegal);
  EXPECT_EQ(org.Remove("ann.active@x.test").outcome, Transition::Outcome::kDone);
  EXPECT_FALSE(org.Find("ann.active@x.test"));
}

TEST(OktaOrg, ActivateAndReactivateOnlyFromTheirStates) {
  auto owned = MakeOrg();
  OktaOrg& org = *owned;
  EXPECT_EQ(org.Activate("ann.active@x.test").outcome, Transition::Outcome::kIllegal);
  EXPECT_EQ(org.Reactivate("ann.active@x.test").outcome, Transition::Outcome::kIllegal);
  EXPECT_EQ(org.Activate("stan.staged@x.test").outcome, Transition::Outcome::kDone);
  // Staged users have no password: they wait in PROVISIONED for the welcome flow.
  EXPECT_EQ(org.Find("stan.staged@x.test")->status, UserStatus::kProvisioned);
  EXPECT_EQ(org.Reactivate("stan.staged@x.test").outcome, Transition::Outcome::kDone);
  EXPECT_EQ(org.Activate("dora.gone@x.test").outcome, Transition::Outcome::kDone);
  EXPECT_EQ(org.Find("dora.gone@x.test")->status, UserStatus::kActive);
}

TEST(OktaOrg, ListingPagesByCursorAndLeavesOutDeprovisioned) {
  auto owned = MakeOrg();
  OktaOrg& org = *owned;
  std::set<std::string> seen;
  ListQuery q;
  int pages = 0;
  for (;;) {
    const ListPage page = org.List(q);
    ASSERT_FALSE(page.invalid);
    ++pages;
    for (const auto& u : page.users) EXPECT_TRUE(seen.insert(u.id).second);
    if (!page.next_after) break;
    q.after = page.next_after;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 453u);  // 454 seeded, one DEPROVISIONED
  EXPECT_FALSE(seen.contains(org.Find("dora.gone@x.test")->id));
}

TEST(OktaOrg, SearchFilterAndQ) {
  auto owned = MakeOrg();
  OktaOrg& org = *owned;
  ListQuery q;
  q.search = "profile.login eq \"DORA.GONE@x.test\"";
  auto page = org.List(q);
  ASSERT_EQ(page.users.size(), 1u);  // search ignores the case of values and includes DEPROVISIONED
  q = {};
  q.filter = "profile.login eq \"DORA.GONE@x.test\"";
  EXPECT_TRUE(org.List(q).users.empty());  // filter does not
  q.filter = "status eq \"SUSPENDED\" or status eq \"STAGED\"";
  EXPECT_EQ(org.List(q).users.size(), 2u);
  q.filter = "profile.login sw \"ann\"";  // filter knows only eq
  EXPECT_TRUE(org.List(q).invalid);
  q = {};
  q.search = "profile.firstName sw \"bu\" and (status eq \"ACTIVE\")";
  q.limit = 500;
  EXPECT_EQ(org.List(q).users.size(), 200u);
  q = {};
  q.q = "bulk";
  q.limit = 10;
  page = org.List(q);
  EXPECT_EQ(page.users.size(), 10u);
  EXPECT_FALSE(page.next_after);
}

}  // namespace
}  // namespace cordon::lab::okta
