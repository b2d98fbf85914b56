// The inventory store conformance suite: what every InventoryStore backend
// must do (inventory/inventory_store.h). Instantiated per backend
// (src/store/<backend>/*_test.cpp).
#include "inventory_store_conformance.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include <gmock/gmock.h>

#include "support/inventory_seed.h"

namespace cordon::testing {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

void InventoryStoreConformance::SetUp() {
  stores_ = GetParam().open(dir_.path());
  ASSERT_NE(stores_.actions, nullptr);
  ASSERT_NE(stores_.inventory, nullptr);
  actions_ = stores_.actions.get();
  inventory_ = stores_.inventory.get();
}

void InventoryStoreConformance::TearDown() { stores_ = {}; }

int64_t InventoryStoreConformance::Generation() {
  auto snapshot = inventory_->AccountsForCorrelation(std::nullopt);
  EXPECT_TRUE(snapshot) << snapshot.error().message;
  return snapshot ? snapshot->generation : -1;
}

Result<InventoryWriteResult> InventoryStoreConformance::Replace(Provider provider,
                                                                std::vector<InventoryAccount> accounts,
                                                                std::vector<IdentityHeader> identities, TimePoint at,
                                                                std::vector<AccountPlacement> moved) {
  InventoryWrite write;
  write.generation = Generation();
  write.accounts = std::move(accounts);
  write.identities = std::move(identities);
  write.moved = std::move(moved);
  SyncRun run;
  run.provider = provider;
  run.started_at = at;
  run.finished_at = at + Millis(500);
  run.accounts = static_cast<int64_t>(write.accounts.size());
  return inventory_->ReplaceAccounts(provider, write, run);
}

Result<InventoryWriteResult> InventoryStoreConformance::Upsert(std::vector<InventoryAccount> accounts,
                                                               std::vector<IdentityHeader> identities,
                                                               std::vector<AccountPlacement> moved) {
  InventoryWrite write;
  write.generation = Generation();
  write.accounts = std::move(accounts);
  write.identities = std::move(identities);
  write.moved = std::move(moved);
  return inventory_->UpsertAccounts(write);
}

std::vector<std::string> InventoryStoreConformance::Listed(IdentityFilter filter) {
  auto page = inventory_->ListIdentities(filter);
  EXPECT_TRUE(page) << page.error().message;
  std::vector<std::string> ids;
  if (page)
    for (const Identity& i : page->identities) ids.push_back(i.id);
  return ids;
}

namespace {

constexpr const char* kAliceGuid = "6f3c2a10-0000-4000-8000-000000000001";
constexpr const char* kBobGuid = "6f3c2a10-0000-4000-8000-000000000002";
constexpr const char* kAliceSid = "S-1-5-21-3623811015-3361044348-30300820-1104";


InventoryAccount In(AccountView view, std::string identity, TimePoint seen) {
  return {std::move(view), std::move(identity), seen, std::nullopt};
}

const std::string& AliceId() {
  static const std::string id = IdentityIdOf(Provider::kActiveDirectory, kAliceGuid);
  return id;
}
const std::string& BobId() {
  static const std::string id = IdentityIdOf(Provider::kActiveDirectory, kBobGuid);
  return id;
}
const std::string& CarolId() {
  static const std::string id = IdentityIdOf(Provider::kOkta, "00u3");
  return id;
}

AccountView AliceAd() {
  AccountView a = TestAccount(Provider::kActiveDirectory, kAliceGuid, "asmith", "Alice Smith", "alice.smith@corp.example.com",
                       kAliceSid, "alice@corp.example.com");
  a.identifiers["dn"] = "CN=Alice Smith,OU=Staff,DC=corp,DC=example,DC=com";
  a.must_change_password = true;
  a.admin_protected = true;
  return a;
}
AccountView AliceEntra() {
  AccountView a = TestAccount(Provider::kEntra, "e0000000-0000-0000-0000-000000000001", "alice.smith@corp.example.com",
                       "Alice Smith", "alice.smith@corp.example.com", kAliceSid, "alice@corp.example.com");
  a.status = AccountStatus::kDisabled;
  a.provider_risk = "medium";
  a.synced_from_ad = true;
  a.identifiers["onPremisesSyncEnabled"] = "true";
  a.identifiers["userType"] = "Member";
  return a;
}
AccountView AliceOkta() {
  AccountView a = TestAccount(Provider::kOkta, "00u1", "alice.smith@corp.example.com", "Alice Smith",
                       "alice.smith@corp.example.com", "", "alice@corp.example.com");
  a.status = AccountStatus::kOther;
  a.identifiers["status"] = "STAGED";
  return a;
}
AccountView BobAd() {
  return TestAccount(Provider::kActiveDirectory, kBobGuid, "bjones", "Bob Jones", "bob.jones@corp.example.com",
              "S-1-5-21-3623811015-3361044348-30300820-1105");
}
AccountView CarolOkta() {
  AccountView a = TestAccount(Provider::kOkta, "00u3", "carol@partner.example", "carol white", "carol@partner.example");
  a.guest = true;
  return a;
}

IdentityHeader AliceHeader() { return {AliceId(), "Alice Smith", "corp.example.com"}; }
IdentityHeader BobHeader() { return {BobId(), "Bob Jones", "corp.example.com"}; }
IdentityHeader CarolHeader() { return {CarolId(), "carol white", "partner.example"}; }

}  // namespace

TEST_P(InventoryStoreConformance, AnEmptyInventoryHoldsNobody) {
  auto page = inventory_->ListIdentities({});
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_THAT(page->identities, IsEmpty());
  EXPECT_EQ(page->next_cursor, "");
  auto counts = inventory_->CountInventory();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->identities, 0);
  EXPECT_EQ(counts->accounts, 0);
  auto nobody = inventory_->GetIdentity(AliceId());
  ASSERT_TRUE(nobody);
  EXPECT_FALSE(nobody->has_value());
  auto malformed = inventory_->GetIdentity("not-an-identity' OR 1=1 --");
  ASSERT_TRUE(malformed);
  EXPECT_FALSE(malformed->has_value());
  auto runs = inventory_->ListSyncRuns();
  ASSERT_TRUE(runs);
  EXPECT_THAT(*runs, IsEmpty());
  auto snapshot = inventory_->AccountsForCorrelation(std::nullopt);
  ASSERT_TRUE(snapshot);
  EXPECT_THAT(snapshot->accounts, IsEmpty());
}

TEST_P(InventoryStoreConformance, ListingsStoreEveryFieldOfTheAccountsAndTheirIdentities) {
  ASSERT_TRUE(Replace(Provider::kOkta, {In(AliceOkta(), AliceId(), t0_)}, {AliceHeader()}, t0_));
  ASSERT_TRUE(Replace(Provider::kEntra, {In(AliceEntra(), AliceId(), t0_)}, {AliceHeader()}, t0_));
  auto written = Replace(Provider::kActiveDirectory, {In(AliceAd(), AliceId(), t0_), In(BobAd(), BobId(), t0_)},
                         {AliceHeader(), BobHeader()}, t0_);
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(written->added, 2);

  auto got = inventory_->GetIdentity(AliceId());
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(got->has_value());
  const Identity& alice = **got;
  EXPECT_EQ(alice.id, AliceId());
  EXPECT_EQ(alice.display_name, "Alice Smith");
  EXPECT_EQ(alice.domain, "corp.example.com");
  ASSERT_EQ(alice.accounts.size(), 3u);
  const AccountView& ad = alice.accounts[0].account;
  const AccountView& entra = alice.accounts[1].account;
  const AccountView& okta = alice.accounts[2].account;
  EXPECT_EQ(ad.provider, Provider::kActiveDirectory);
  EXPECT_EQ(entra.provider, Provider::kEntra);
  EXPECT_EQ(okta.provider, Provider::kOkta);
  const AccountView expected_ad = AliceAd();
  EXPECT_EQ(ad.id, expected_ad.id);
  EXPECT_EQ(ad.login, "asmith");
  EXPECT_EQ(ad.display_name, "Alice Smith");
  EXPECT_EQ(ad.status, AccountStatus::kEnabled);
  EXPECT_TRUE(ad.must_change_password);
  EXPECT_EQ(ad.upn, expected_ad.upn);
  EXPECT_EQ(ad.sid, kAliceSid);
  EXPECT_EQ(ad.mail, "alice@corp.example.com");
  EXPECT_TRUE(ad.admin_protected);
  EXPECT_FALSE(ad.synced_from_ad);
  EXPECT_EQ(ad.identifiers, expected_ad.identifiers);
  EXPECT_EQ(entra.status, AccountStatus::kDisabled);
  EXPECT_EQ(entra.provider_risk, "medium");
  EXPECT_TRUE(entra.synced_from_ad);
  EXPECT_EQ(entra.identifiers, AliceEntra().identifiers);
  EXPECT_EQ(okta.status, AccountStatus::kOther);
  EXPECT_EQ(okta.identifiers.at("status"), "STAGED");
  for (const InventoryAccount& a : alice.accounts) {
    EXPECT_EQ(a.identity_id, AliceId());
    EXPECT_EQ(a.seen_at, t0_);
    EXPECT_FALSE(a.risk_level.has_value());
  }
  auto counts = inventory_->CountInventory();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->identities, 2);
  EXPECT_EQ(counts->accounts, 4);

  auto snapshot = inventory_->AccountsForCorrelation(std::nullopt);
  ASSERT_TRUE(snapshot);
  ASSERT_EQ(snapshot->accounts.size(), 4u);
  for (const AccountKeys& k : snapshot->accounts) {
    EXPECT_EQ(k.identity_id, k.id == kBobGuid ? BobId() : AliceId());
    if (k.provider == Provider::kActiveDirectory && k.id == kAliceGuid) {
      EXPECT_EQ(k.dn, "CN=Alice Smith,OU=Staff,DC=corp,DC=example,DC=com");
      EXPECT_EQ(k.sid, kAliceSid);
      EXPECT_EQ(k.upn, "alice.smith@corp.example.com");
      EXPECT_EQ(k.mail, "alice@corp.example.com");
      EXPECT_EQ(k.login, "asmith");
      EXPECT_EQ(k.display_name, "Alice Smith");
    }
  }
  auto members = inventory_->IdentityMembersOf(Provider::kOkta, "00U1");
  ASSERT_TRUE(members);
  EXPECT_EQ(members->accounts.size(), 3u) << "the identity of the account, its id ignoring case";
  EXPECT_EQ(members->generation, snapshot->generation);
  auto stranger = inventory_->IdentityMembersOf(Provider::kEntra, "00u1");
  ASSERT_TRUE(stranger);
  EXPECT_THAT(stranger->accounts, IsEmpty());
}

TEST_P(InventoryStoreConformance, AListingAddsUpdatesAndRemovesTheProvidersAccountsOnly) {
  ASSERT_TRUE(Replace(Provider::kOkta, {In(AliceOkta(), AliceId(), t0_)}, {AliceHeader()}, t0_));
  ASSERT_TRUE(Replace(Provider::kActiveDirectory, {In(AliceAd(), AliceId(), t0_), In(BobAd(), BobId(), t0_)},
                      {AliceHeader(), BobHeader()}, t0_));
  // The same listing again changes nothing.
  auto again = Replace(Provider::kActiveDirectory, {In(AliceAd(), AliceId(), t0_), In(BobAd(), BobId(), t0_)},
                       {AliceHeader(), BobHeader()}, t0_ + Millis(1000));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->unchanged, 2);
  EXPECT_EQ(again->added + again->updated + again->removed + again->identities, 0);

  // Alice disabled, Bob gone, Dan new.
  AccountView alice = AliceAd();
  alice.status = AccountStatus::kDisabled;
  const AccountView dan = TestAccount(Provider::kActiveDirectory, "6f3c2a10-0000-4000-8000-000000000004", "dlee", "Dan Lee",
                               "dan.lee@corp.example.com");
  const std::string dan_id = IdentityIdOf(Provider::kActiveDirectory, dan.id);
  auto changed = Replace(Provider::kActiveDirectory,
                         {In(alice, AliceId(), t0_ + Millis(2000)), In(dan, dan_id, t0_ + Millis(2000))},
                         {AliceHeader(), {dan_id, "Dan Lee", "corp.example.com"}}, t0_ + Millis(2000));
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(changed->added, 1);
  EXPECT_EQ(changed->updated, 1);
  EXPECT_EQ(changed->removed, 1);
  EXPECT_EQ(changed->unchanged, 0);
  EXPECT_GE(changed->identities, 2) << "Bob's removed, Dan's created";
  auto bob = inventory_->GetIdentity(BobId());
  ASSERT_TRUE(bob);
  EXPECT_FALSE(bob->has_value()) << "an identity without accounts is gone";
  auto alice_now = inventory_->GetIdentity(AliceId());
  ASSERT_TRUE(alice_now && alice_now->has_value());
  ASSERT_EQ((*alice_now)->accounts.size(), 2u) << "the okta account is another provider's: kept";
  EXPECT_EQ((*alice_now)->accounts[0].account.status, AccountStatus::kDisabled);
  EXPECT_EQ((*alice_now)->accounts[0].seen_at, t0_ + Millis(2000));
  EXPECT_EQ((*alice_now)->accounts[1].seen_at, t0_) << "okta was last listed at t0";
  IdentityFilter bobs;
  bobs.text = "bob";
  EXPECT_THAT(Listed(bobs), IsEmpty()) << "its search terms went with it";
}

TEST_P(InventoryStoreConformance, AnAccountReadAgainSinceTheListingBeganIsFresherThanTheListing) {
  ASSERT_TRUE(Replace(Provider::kActiveDirectory, {In(AliceAd(), AliceId(), t0_), In(BobAd(), BobId(), t0_)},
                      {AliceHeader(), BobHeader()}, t0_));
  // A listing begins at t0+10s; an action disables Alice and her account is
  // read again at t0+20s; the listing, which read her before, ends at t0+30s
  // without Bob, whom a refresh at t0+25s found.
  AccountView disabled = AliceAd();
  disabled.status = AccountStatus::kDisabled;
  ASSERT_TRUE(Upsert({In(disabled, AliceId(), t0_ + Millis(20000))}, {AliceHeader()}));
  ASSERT_TRUE(Upsert({In(BobAd(), BobId(), t0_ + Millis(25000))}, {BobHeader()}));
  auto listed = Replace(Provider::kActiveDirectory, {In(AliceAd(), AliceId(), t0_ + Millis(10000))}, {AliceHeader()},
                        t0_ + Millis(10000));
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->removed, 0);
  auto alice = inventory_->GetIdentity(AliceId());
  ASSERT_TRUE(alice && alice->has_value());
  EXPECT_EQ((*alice)->accounts[0].account.status, AccountStatus::kDisabled) << "the refresh's state stands";
  EXPECT_EQ((*alice)->accounts[0].seen_at, t0_ + Millis(20000));
  auto bob = inventory_->GetIdentity(BobId());
  ASSERT_TRUE(bob);
  EXPECT_TRUE(bob->has_value()) << "read after the listing began: not removed by it";
}

TEST_P(InventoryStoreConformance, WritesAreFencedByTheGenerationTheyWereCorrelatedOn) {
  const int64_t before = Generation();
  ASSERT_TRUE(Replace(Provider::kActiveDirectory, {In(BobAd(), BobId(), t0_)}, {BobHeader()}, t0_));
  const int64_t after = Generation();
  EXPECT_NE(after, before);
  InventoryWrite stale;
  stale.generation = before;
  stale.accounts = {In(AliceAd(), AliceId(), t0_)};
  stale.identities = {AliceHeader()};
  auto refused = inventory_->UpsertAccounts(stale);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  SyncRun run;
  run.provider = Provider::kActiveDirectory;
  run.started_at = t0_;
  auto refused_listing = inventory_->ReplaceAccounts(Provider::kActiveDirectory, stale, run);
  ASSERT_FALSE(refused_listing);
  EXPECT_EQ(refused_listing.error().code, ErrorCode::kConflict);
  auto alice = inventory_->GetIdentity(AliceId());
  ASSERT_TRUE(alice);
  EXPECT_FALSE(alice->has_value()) << "a refused write writes nothing";
  EXPECT_EQ(Generation(), after);
}

TEST_P(InventoryStoreConformance, MalformedWritesAreRefusedWhole) {
  auto expect_refused = [&](Result<InventoryWriteResult> r, std::string_view what) {
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << what << ": " << r.error().message;
  };
  expect_refused(Replace(Provider::kEntra, {In(AliceAd(), AliceId(), t0_)}, {AliceHeader()}, t0_),
                 "an AD account in an Entra listing");
  expect_refused(Upsert({In(AliceAd(), AliceId(), t0_)}, {}), "a new identity without its header");
  expect_refused(Upsert({In(AliceAd(), AliceId(), t0_), In(AliceAd(), AliceId(), t0_)}, {AliceHeader()}),
                 "one account twice");
  expect_refused(Upsert({In(AliceAd(), "alice", t0_)}, {{"alice", "Alice", ""}}), "an identity id of another form");
  expect_refused(Upsert({In(TestAccount(Provider::kOkta, "", "x", "X", ""), CarolId(), t0_)}, {CarolHeader()}),
                 "an account without an id");
  expect_refused(Upsert({}, {AliceHeader()}, {{Provider::kOkta, "00u404", AliceId()}}), "moving an unknown account");
  auto counts = inventory_->CountInventory();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->accounts, 0);
  EXPECT_EQ(counts->identities, 0);
}

TEST_P(InventoryStoreConformance, UpsertsAddAndChangeAndMoveAccountsBetweenIdentities) {
  ASSERT_TRUE(Upsert({In(CarolOkta(), CarolId(), t0_)}, {CarolHeader()}));
  ASSERT_TRUE(Upsert({In(AliceAd(), AliceId(), t0_)}, {AliceHeader()}));
  // Carol's Okta account turns out to be Alice's: it moves, and Carol's identity goes.
  auto moved = Upsert({}, {AliceHeader()}, {{Provider::kOkta, "00u3", AliceId()}});
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(moved->updated, 1);
  auto carol = inventory_->GetIdentity(CarolId());
  ASSERT_TRUE(carol);
  EXPECT_FALSE(carol->has_value());
  auto alice = inventory_->FindIdentityOfAccount(Provider::kOkta, "00u3");
  ASSERT_TRUE(alice && alice->has_value());
  EXPECT_EQ((*alice)->id, AliceId());
  EXPECT_EQ((*alice)->accounts.size(), 2u);
  IdentityFilter carol_text;
  carol_text.text = "carol";
  EXPECT_THAT(Listed(carol_text), ElementsAre(AliceId())) << "the moved account's terms follow it";

  // The anchor renamed: the header and the terms change with it.
  AccountView renamed = AliceAd();
  renamed.display_name = "Alice Cooper";
  auto written = Upsert({In(renamed, AliceId(), t0_ + Millis(5))}, {{AliceId(), "Alice Cooper", "corp.example.com"}});
  ASSERT_TRUE(written);
  EXPECT_EQ(written->updated, 1);
  IdentityFilter cooper;
  cooper.text = "coo";
  EXPECT_THAT(Listed(cooper), ElementsAre(AliceId()));
  IdentityFilter smith;
  smith.text = "smith";
  EXPECT_THAT(Listed(smith), IsEmpty()) << "the old name's words are gone";
  smith.text = "alice.smith";
  EXPECT_THAT(Listed(smith), ElementsAre(AliceId())) << "her UPN is still hers";
  IdentityFilter whole;
  whole.text = "alice smi";
  EXPECT_THAT(Listed(whole), IsEmpty()) << "the old whole name is gone";
  auto now = inventory_->GetIdentity(AliceId());
  ASSERT_TRUE(now && now->has_value());
  EXPECT_EQ((*now)->display_name, "Alice Cooper");
  EXPECT_EQ((*now)->accounts[0].seen_at, t0_ + Millis(5));
}

TEST_P(InventoryStoreConformance, SearchFindsANamesWordsTheWholeNameAndEveryKeyIgnoringCase) {
  ASSERT_TRUE(Replace(Provider::kActiveDirectory, {In(AliceAd(), AliceId(), t0_), In(BobAd(), BobId(), t0_)},
                      {AliceHeader(), BobHeader()}, t0_));
  ASSERT_TRUE(Replace(Provider::kEntra, {In(AliceEntra(), AliceId(), t0_)}, {AliceHeader()}, t0_));
  ASSERT_TRUE(Replace(Provider::kOkta, {In(CarolOkta(), CarolId(), t0_)}, {CarolHeader()}, t0_));
  auto search = [&](std::string text) {
    IdentityFilter f;
    f.text = std::move(text);
    return Listed(f);
  };
  EXPECT_THAT(search("ali"), ElementsAre(AliceId())) << "a word of the name";
  EXPECT_THAT(search("SMI"), ElementsAre(AliceId())) << "another word, any case";
  EXPECT_THAT(search("  alice   smith "), ElementsAre(AliceId())) << "the whole name, white space as typed";
  EXPECT_THAT(search("alice.smith@corp"), ElementsAre(AliceId())) << "the UPN";
  EXPECT_THAT(search("asmi"), ElementsAre(AliceId())) << "the sAMAccountName";
  EXPECT_THAT(search("alice@"), ElementsAre(AliceId())) << "the mail";
  EXPECT_THAT(search("s-1-5-21-3623811015-3361044348-30300820-1104"), ElementsAre(AliceId())) << "the SID";
  EXPECT_THAT(search("s-1-5-21-3623811015"), UnorderedElementsAre(AliceId(), BobId())) << "a SID's prefix";
  EXPECT_THAT(search("E0000000-0000"), ElementsAre(AliceId())) << "the Entra object id";
  EXPECT_THAT(search("00u3"), ElementsAre(CarolId())) << "the Okta id";
  EXPECT_THAT(search("carol@partner"), ElementsAre(CarolId())) << "the Okta login";
  EXPECT_THAT(search("j"), ElementsAre(BobId()));
  EXPECT_THAT(search("zed"), IsEmpty());
  EXPECT_THAT(search("%"), IsEmpty()) << "no pattern characters";
  EXPECT_THAT(search("_lice"), IsEmpty());
  EXPECT_THAT(search("'); DROP TABLE identities; --"), IsEmpty());
  EXPECT_EQ(search("").size(), 3u) << "no text: everyone";
}

TEST_P(InventoryStoreConformance, ListingsAreByDisplayNameIgnoringCaseThenIdAndPageWithACursor) {
  // 30 people, several with the same name, written in no particular order.
  std::vector<InventoryAccount> accounts;
  std::vector<IdentityHeader> headers;
  std::vector<std::pair<std::string, std::string>> expected;  // (lower name, id)
  const char* names[] = {"zoe adams", "Adam Zed", "adam zed", "Mia Wong", "mia wong", "Ola Berg"};
  for (int i = 0; i < 30; ++i) {
    const std::string id = "00u" + std::to_string(100 + (i * 7) % 30);
    const std::string name = names[i % 6];
    const std::string identity = IdentityIdOf(Provider::kOkta, id);
    accounts.push_back(In(TestAccount(Provider::kOkta, id, "user" + id + "@corp.example.com", name, "user" + id + "@corp.example.com"),
                          identity, t0_));
    headers.push_back({identity, name, "corp.example.com"});
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    expected.emplace_back(lower, identity);
  }
  ASSERT_TRUE(Replace(Provider::kOkta, accounts, headers, t0_));
  std::sort(expected.begin(), expected.end());

  auto walk = [&](IdentityFilter f) {
    std::vector<std::string> seen;
    for (int pages = 0; pages < 50; ++pages) {
      auto page = inventory_->ListIdentities(f);
      EXPECT_TRUE(page) << page.error().message;
      if (!page) break;
      EXPECT_LE(page->identities.size(), static_cast<size_t>(f.limit));
      for (const Identity& i : page->identities) seen.push_back(i.id);
      if (page->next_cursor.empty()) break;
      EXPECT_LE(page->next_cursor.size(), kMaxIdentityCursorBytes);
      f.cursor = page->next_cursor;
    }
    return seen;
  };
  std::vector<std::string> all;
  for (const auto& [name, id] : expected) all.push_back(id);
  IdentityFilter f;
  f.limit = 7;
  EXPECT_EQ(walk(f), all);
  f.limit = 1;
  EXPECT_EQ(walk(f), all);
  f.limit = 1000;
  EXPECT_EQ(walk(f), all);
  // With text too: the matches in the same order.
  f = {};
  f.text = "adam";
  f.limit = 4;
  std::vector<std::string> adams;
  for (const auto& [name, id] : expected)
    if (name.find("adam") != std::string::npos) adams.push_back(id);
  EXPECT_EQ(walk(f), adams);

  IdentityFilter bad;
  bad.cursor = "zz";
  auto refused = inventory_->ListIdentities(bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  bad.cursor = std::string(2000, 'a');
  EXPECT_FALSE(inventory_->ListIdentities(bad));
  for (int limit : {0, 1001, -1}) {
    IdentityFilter l;
    l.limit = limit;
    auto r = inventory_->ListIdentities(l);
    ASSERT_FALSE(r) << limit;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST_P(InventoryStoreConformance, FiltersOnTheDisplayNameAndTheDomain) {
  ASSERT_TRUE(Replace(Provider::kActiveDirectory, {In(AliceAd(), AliceId(), t0_), In(BobAd(), BobId(), t0_)},
                      {AliceHeader(), BobHeader()}, t0_));
  ASSERT_TRUE(Replace(Provider::kOkta, {In(CarolOkta(), CarolId(), t0_)}, {CarolHeader()}, t0_));
  IdentityFilter f;
  f.display_name = "ALICE SMITH";
  EXPECT_THAT(Listed(f), ElementsAre(AliceId()));
  f.display_name = "Alice";
  EXPECT_THAT(Listed(f), IsEmpty()) << "equals, not starts with";
  f = {};
  f.display_name_prefix = "b";
  EXPECT_THAT(Listed(f), ElementsAre(BobId()));
  f = {};
  f.domain = "Corp.Example.COM";
  EXPECT_THAT(Listed(f), ElementsAre(AliceId(), BobId()));
  f.display_name_prefix = "Bob";
  EXPECT_THAT(Listed(f), ElementsAre(BobId()));
  f = {};
  f.domain = "partner.example";
  f.text = "carol";
  EXPECT_THAT(Listed(f), ElementsAre(CarolId()));
  f.text = "alice";
  EXPECT_THAT(Listed(f), IsEmpty());
}

TEST_P(InventoryStoreConformance, TheIdentityOfAnAccountIsFoundByItsIdLoginOrUpn) {
  ASSERT_TRUE(Replace(Provider::kActiveDirectory, {In(AliceAd(), AliceId(), t0_), In(BobAd(), BobId(), t0_)},
                      {AliceHeader(), BobHeader()}, t0_));
  for (const char* name : {kAliceGuid, "6F3C2A10-0000-4000-8000-000000000001", "ASmith", "alice.smith@CORP.example.com"}) {
    auto found = inventory_->FindIdentityOfAccount(Provider::kActiveDirectory, name);
    ASSERT_TRUE(found) << name;
    ASSERT_TRUE(found->has_value()) << name;
    EXPECT_EQ((*found)->id, AliceId()) << name;
  }
  for (const char* name : {"alice", "", "asmith@corp.example.com"}) {
    auto found = inventory_->FindIdentityOfAccount(Provider::kActiveDirectory, name);
    ASSERT_TRUE(found);
    EXPECT_FALSE(found->has_value()) << name;
  }
  auto elsewhere = inventory_->FindIdentityOfAccount(Provider::kOkta, "asmith");
  ASSERT_TRUE(elsewhere);
  EXPECT_FALSE(elsewhere->has_value()) << "another provider's account";
}

TEST_P(InventoryStoreConformance, CordonsRiskLevelIsReadWithTheAccount) {
  ASSERT_TRUE(Replace(Provider::kActiveDirectory, {In(AliceAd(), AliceId(), t0_), In(BobAd(), BobId(), t0_)},
                      {AliceHeader(), BobHeader()}, t0_));
  ASSERT_TRUE(Replace(Provider::kOkta, {In(CarolOkta(), CarolId(), t0_)}, {CarolHeader()}, t0_));
  // A mark on Alice's AD account, resolved to its GUID; one on Carol asked by login, with no id.
  auto finish = [&](const std::string& target, Provider provider, ActionType type, const std::string& account_id) {
    NewAction n;
    n.type = type;
    n.provider = provider;
    n.target = target;
    n.requested_by = "analyst";
    n.reason = "incident 9";
    auto created = actions_->CreateActions(std::span(&n, 1), t0_);
    ASSERT_TRUE(created) << created.error().message;
    auto claimed = actions_->ClaimDue(provider, "w", 10, t0_ + Millis(1), Millis(10000));
    ASSERT_TRUE(claimed && claimed->size() == 1);
    AttemptReport r;
    r.action_id = created->front().id;
    r.worker = "w";
    r.outcome = AttemptOutcome::kSucceeded;
    r.started_at = r.finished_at = t0_ + Millis(2);
    r.account_id = account_id;
    ASSERT_TRUE(actions_->FinishAttempt(r));
  };
  finish("asmith", Provider::kActiveDirectory, ActionType::kMarkCompromised, kAliceGuid);
  finish("CAROL@partner.example", Provider::kOkta, ActionType::kMarkCompromised, "");
  auto alice = inventory_->GetIdentity(AliceId());
  ASSERT_TRUE(alice && alice->has_value());
  EXPECT_EQ((*alice)->accounts[0].risk_level, RiskLevel::kHigh);
  auto carol = inventory_->GetIdentity(CarolId());
  ASSERT_TRUE(carol && carol->has_value());
  EXPECT_EQ((*carol)->accounts[0].risk_level, RiskLevel::kHigh) << "by the name it was marked as";
  auto bob = inventory_->GetIdentity(BobId());
  ASSERT_TRUE(bob && bob->has_value());
  EXPECT_FALSE((*bob)->accounts[0].risk_level.has_value());
  IdentityFilter everyone;
  auto page = inventory_->ListIdentities(everyone);
  ASSERT_TRUE(page);
  for (const Identity& i : page->identities)
    EXPECT_EQ(i.accounts[0].risk_level.has_value(), i.id != BobId()) << i.display_name;

  finish(kAliceGuid, Provider::kActiveDirectory, ActionType::kDismissRisk, kAliceGuid);
  alice = inventory_->GetIdentity(AliceId());
  ASSERT_TRUE(alice && alice->has_value());
  EXPECT_FALSE((*alice)->accounts[0].risk_level.has_value()) << "dismissed";
}

TEST_P(InventoryStoreConformance, EachProvidersLastSyncIsKept) {
  ASSERT_TRUE(Replace(Provider::kActiveDirectory, {In(BobAd(), BobId(), t0_)}, {BobHeader()}, t0_));
  SyncRun failed;
  failed.provider = Provider::kActiveDirectory;
  failed.started_at = t0_ + Millis(60000);
  failed.finished_at = t0_ + Millis(61000);
  failed.accounts = 200;
  failed.error = "the DC did not answer (ldap:-1)";
  ASSERT_TRUE(inventory_->RecordSyncRun(failed));
  SyncRun okta;
  okta.provider = Provider::kOkta;
  okta.started_at = t0_;
  okta.finished_at = t0_ + Millis(10);
  okta.error = "may not list users (http:403)";
  ASSERT_TRUE(inventory_->RecordSyncRun(okta));
  auto runs = inventory_->ListSyncRuns();
  ASSERT_TRUE(runs) << runs.error().message;
  ASSERT_EQ(runs->size(), 2u);
  const SyncRun& ad = (*runs)[0];
  EXPECT_EQ(ad.provider, Provider::kActiveDirectory);
  EXPECT_FALSE(ad.running);
  EXPECT_EQ(ad.started_at, failed.started_at);
  EXPECT_EQ(ad.finished_at, failed.finished_at);
  EXPECT_EQ(ad.accounts, 200);
  EXPECT_EQ(ad.error, failed.error);
  EXPECT_EQ((*runs)[1].provider, Provider::kOkta);
  EXPECT_EQ((*runs)[1].error, okta.error);
  // A failed listing saw nothing: the account was last seen by the good one.
  auto bob = inventory_->GetIdentity(BobId());
  ASSERT_TRUE(bob && bob->has_value());
  EXPECT_EQ((*bob)->accounts[0].seen_at, t0_);
  // The next good listing sees it, unchanged, and clears the error.
  ASSERT_TRUE(Replace(Provider::kActiveDirectory, {In(BobAd(), BobId(), t0_ + Millis(120000))}, {BobHeader()},
                      t0_ + Millis(120000)));
  bob = inventory_->GetIdentity(BobId());
  ASSERT_TRUE(bob && bob->has_value());
  EXPECT_EQ((*bob)->accounts[0].seen_at, t0_ + Millis(120000));
  runs = inventory_->ListSyncRuns();
  ASSERT_TRUE(runs);
  EXPECT_EQ((*runs)[0].error, "");
  EXPECT_EQ((*runs)[0].accounts, 1);
}

TEST_P(InventoryStoreConformance, ReadersReadWhileListingsAreWritten) {
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r)
    readers.emplace_back([&] {
      while (!done) {
        IdentityFilter f;
        f.text = "user";
        auto page = inventory_->ListIdentities(f);
        if (!page) ++failures;
        else
          for (const Identity& i : page->identities)
            if (i.accounts.empty()) ++failures;  // an identity is never seen without its accounts
        ++reads;
      }
    });
  for (int round = 0; round < 20; ++round) {
    std::vector<InventoryAccount> accounts;
    std::vector<IdentityHeader> headers;
    for (int i = 0; i < 50; ++i) {
      const std::string id = "00u" + std::to_string(round % 2 ? i : i + 25);
      const std::string identity = IdentityIdOf(Provider::kOkta, id);
      accounts.push_back(In(TestAccount(Provider::kOkta, id, "user" + id, "User " + id, ""), identity, t0_ + Millis(round)));
      headers.push_back({identity, "User " + id, ""});
    }
    auto written = Replace(Provider::kOkta, accounts, headers, t0_ + Millis(round));
    ASSERT_TRUE(written) << written.error().message;
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

TEST_P(InventoryStoreConformance, TheInventorySurvivesReopening) {
  ASSERT_TRUE(Replace(Provider::kActiveDirectory, {In(AliceAd(), AliceId(), t0_)}, {AliceHeader()}, t0_));
  stores_ = {};
  stores_ = GetParam().open(dir_.path());
  actions_ = stores_.actions.get();
  inventory_ = stores_.inventory.get();
  auto alice = inventory_->GetIdentity(AliceId());
  ASSERT_TRUE(alice && alice->has_value());
  EXPECT_EQ((*alice)->accounts.size(), 1u);
  IdentityFilter f;
  f.text = "alice";
  EXPECT_THAT(Listed(f), ElementsAre(AliceId()));
}

}  // namespace cordon::testing
