#include "inventory/correlate.h"

#include <algorithm>
#include <map>
#include <random>

#include <gtest/gtest.h>

namespace cordon {
namespace {

AccountKeys Ad(std::string id, std::string sam, std::string name, std::string upn, std::string sid,
               std::string mail = "", std::string dn = "") {
  return {Provider::kActiveDirectory, std::move(id), std::move(sam), std::move(name), std::move(upn), std::move(sid),
          std::move(mail), std::move(dn), ""};
}
AccountKeys Entra(std::string id, std::string upn, std::string name, std::string sid, std::string mail = "") {
  return {Provider::kEntra, std::move(id), upn, std::move(name), upn, std::move(sid), std::move(mail), "", ""};
}
AccountKeys Okta(std::string id, std::string login, std::string name, std::string mail = "") {
  return {Provider::kOkta, std::move(id), login, std::move(name), login, "", std::move(mail), "", ""};
}

// The identity id each account ended up in, by "provider:id".
std::map<std::string, std::string> IdentityOfEach(const std::vector<AccountKeys>& accounts) {
  const Correlation c = Correlate(accounts);
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < accounts.size(); ++i)
    out[std::string(ToString(accounts[i].provider)) + ":" + accounts[i].id] = c.identities[c.identity_of[i]].id;
  return out;
}

TEST(IdentityId, IsSha256OfTheAnchorAsAVersion5Guid) {
  // Known answers, computed independently (Python's hashlib).
  EXPECT_EQ(IdentityIdOf(Provider::kActiveDirectory, "6f3c2a10-0000-4000-8000-000000000001"),
            "6eab1eb6-04a6-5ad9-82bc-e5d73ab64871");
  EXPECT_EQ(IdentityIdOf(Provider::kOkta, "00u1abcd"), "4ac190cc-26de-52e5-8bce-4663e3e4b8a3");
  const std::string id = IdentityIdOf(Provider::kEntra, "x");
  EXPECT_TRUE(IsIdentityId(id)) << id;
  EXPECT_EQ(id[14], '5');
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
  EXPECT_FALSE(IsIdentityId("6EAB1EB6-04A6-5AD9-82BC-E5D73AB64871")) << "ids are lower case";
  EXPECT_FALSE(IsIdentityId("6eab1eb6-04a6-5ad9-82bc-e5d73ab6487"));
  EXPECT_FALSE(IsIdentityId("6eab1eb6004a6-5ad9-82bc-e5d73ab64871"));
  EXPECT_FALSE(IsIdentityId(""));
}

TEST(DnsDomainOfDn, TakesTheDomainComponents) {
  EXPECT_EQ(DnsDomainOfDn("CN=Alice Smith,OU=Staff,DC=Corp,DC=Example,DC=com"), "corp.example.com");
  EXPECT_EQ(DnsDomainOfDn("CN=Smith\\, Alice,OU=Staff,dc=lab,dc=test"), "lab.test");
  EXPECT_EQ(DnsDomainOfDn("CN=Alice,OU=Staff"), "");
  EXPECT_EQ(DnsDomainOfDn(""), "");
}

TEST(Correlate, AccountsSharingASidUpnOrMailAreOnePersonAnchoredAtAd) {
  const std::vector<AccountKeys> accounts = {
      Okta("00u1", "Alice.Smith@corp.example.com", "Alice S."),
      Entra("e-1", "alice.smith@corp.example.com", "Alice Smith (cloud)", "S-1-5-21-1-2-3-1104"),
      Ad("g-1", "asmith", "Alice Smith", "alice.smith@corp.example.com", "s-1-5-21-1-2-3-1104", "",
         "CN=Alice Smith,OU=Staff,DC=corp,DC=example,DC=com"),
      Ad("g-2", "bjones", "Bob Jones", "bob.jones@corp.example.com", "S-1-5-21-1-2-3-1105"),
  };
  const Correlation c = Correlate(accounts);
  ASSERT_EQ(c.identities.size(), 2u);
  EXPECT_EQ(c.identity_of[0], c.identity_of[1]) << "okta login = entra upn, ignoring case";
  EXPECT_EQ(c.identity_of[1], c.identity_of[2]) << "entra onPremisesSecurityIdentifier = ad objectSid";
  EXPECT_NE(c.identity_of[2], c.identity_of[3]);
  const IdentityHeader& alice = c.identities[c.identity_of[0]];
  EXPECT_EQ(alice.id, IdentityIdOf(Provider::kActiveDirectory, "g-1")) << "the AD account anchors";
  EXPECT_EQ(alice.display_name, "Alice Smith");
  EXPECT_EQ(alice.domain, "corp.example.com");
  EXPECT_TRUE(std::is_sorted(c.identities.begin(), c.identities.end(),
                             [](const IdentityHeader& a, const IdentityHeader& b) { return a.id < b.id; }));
}

TEST(Correlate, KeysChainAndMailJoinsToo) {
  // a -sid- b -mail- c: one person, though a and c share nothing.
  const std::vector<AccountKeys> accounts = {
      Ad("g-1", "carol", "Carol", "carol@corp.example.com", "S-1-5-21-9-1001"),
      Entra("e-1", "carol@corp.onmicrosoft.com", "Carol", "S-1-5-21-9-1001", "Carol@Corp.Example.com"),
      Okta("00u9", "carol.k@partner.example", "Carol K", "carol@corp.example.com"),
  };
  const Correlation c = Correlate(accounts);
  ASSERT_EQ(c.identities.size(), 1u);
}

TEST(Correlate, KeysOfDifferentKindsAndEmptyKeysJoinNothing) {
  const std::vector<AccountKeys> accounts = {
      Okta("00u1", "dave@corp.example.com", "Dave"),
      Entra("e-1", "erin@corp.example.com", "Erin", "", "dave@corp.example.com"),  // a mail, not a UPN
      Ad("g-1", "frank", "Frank", "", ""),
      Ad("g-2", "grace", "Grace", "", ""),
  };
  EXPECT_EQ(Correlate(accounts).identities.size(), 4u);
}

TEST(Correlate, WithoutAdEntraAnchorsThenOktaAndTiesGoToTheLowestId) {
  {
    const std::vector<AccountKeys> accounts = {Okta("00u1", "hank@corp.example.com", "Hank Okta"),
                                               Entra("e-2", "hank@corp.example.com", "Hank Entra", "")};
    const Correlation c = Correlate(accounts);
    ASSERT_EQ(c.identities.size(), 1u);
    EXPECT_EQ(c.identities[0].id, IdentityIdOf(Provider::kEntra, "e-2"));
    EXPECT_EQ(c.identities[0].display_name, "Hank Entra");
  }
  {
    const std::vector<AccountKeys> accounts = {Okta("00u9", "ivy@corp.example.com", "Ivy 9", "ivy@corp.example.com"),
                                               Okta("00u3", "ivy.k@corp.example.com", "Ivy 3", "ivy@corp.example.com")};
    const Correlation c = Correlate(accounts);
    ASSERT_EQ(c.identities.size(), 1u);
    EXPECT_EQ(c.identities[0].id, IdentityIdOf(Provider::kOkta, "00u3"));
    EXPECT_EQ(c.identities[0].display_name, "Ivy 3");
    EXPECT_EQ(c.identities[0].domain, "corp.example.com");
  }
}

TEST(Correlate, DisplayNameFallsBackToTheLoginAndDomainToTheDn) {
  const std::vector<AccountKeys> accounts = {
      Ad("g-1", "svc-backup", "", "", "S-1-5-21-9-2001", "", "CN=svc-backup,OU=Services,DC=Lab,DC=Test"),
      Okta("00u1", "nobody", "No Domain"),
  };
  const Correlation c = Correlate(accounts);
  ASSERT_EQ(c.identities.size(), 2u);
  const IdentityHeader& svc = c.identities[c.identity_of[0]];
  EXPECT_EQ(svc.display_name, "svc-backup");
  EXPECT_EQ(svc.domain, "lab.test");
  EXPECT_EQ(c.identities[c.identity_of[1]].domain, "") << "no UPN domain, not AD";
}

TEST(Correlate, TheSameAccountTwiceIsOneAccount) {
  const std::vector<AccountKeys> accounts = {Okta("00u1", "jo@corp.example.com", "Jo"),
                                             Okta("00u1", "joanna@corp.example.com", "Joanna")};
  EXPECT_EQ(Correlate(accounts).identities.size(), 1u);
}

TEST(Correlate, HeaderOfMembersIsTheAnchors) {
  const std::vector<AccountKeys> members = {Okta("00u1", "kim@corp.example.com", "Kim O"),
                                            Entra("e-1", "kim@corp.example.com", "Kim E", "")};
  const IdentityHeader h = HeaderOf(members);
  EXPECT_EQ(h.id, IdentityIdOf(Provider::kEntra, "e-1"));
  EXPECT_EQ(h.display_name, "Kim E");
  EXPECT_TRUE(HeaderOf({}).id.empty());
}

// Correlation depends on the set of accounts, never on their order.
TEST(Correlate, IsTheSameWhateverTheOrder) {
  std::vector<AccountKeys> accounts;
  std::mt19937 rng(7);
  // 100 people with an account at each provider, joined by SID, UPN or
  // login (not all have each), and pairs of people joined by a shared mail.
  for (int n = 0; n < 100; ++n) {
    const std::string p = std::to_string(n);
    const std::string upn = "user" + p + "@corp.example.com";
    accounts.push_back(Ad("g-" + p, "u" + p, "User " + p, upn, "S-1-5-21-" + p));
    accounts.push_back(Entra("e-" + p, n % 2 ? upn : "x" + p + "@t", "User " + p, n % 3 ? "S-1-5-21-" + p : ""));
    accounts.push_back(Okta("o-" + p, n % 5 ? upn : "solo" + p, "User " + p, "m" + std::to_string(n / 2)));
  }
  const auto expected = IdentityOfEach(accounts);
  const size_t identities = Correlate(accounts).identities.size();
  EXPECT_GT(identities, 1u);
  EXPECT_LT(identities, accounts.size());
  for (int round = 0; round < 20; ++round) {
    std::shuffle(accounts.begin(), accounts.end(), rng);
    EXPECT_EQ(IdentityOfEach(accounts), expected) << "round " << round;
    EXPECT_EQ(Correlate(accounts).identities.size(), identities);
  }
}

}  // namespace
}  // namespace cordon
