// The Inventory over the real SQLite store and the real engine (its paced
// read path and finished hook), with fake connectors whose accounts a test
// changes.
#include "inventory/inventory.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/catalogue.h"
#include "engine/action_service.h"
#include "store/sqlite/sqlite_store.h"
#include "support/inventory_seed.h"
#include "support/temp_dir.h"

namespace cordon {
namespace {

using ::testing::HasSubstr;
using testing::TestAccount;

// Holds whoever passes it while closed, and counts who came.
class Gate {
 public:
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  void Open() {
    std::lock_guard lock(mu_);
    closed_ = false;
    cv_.notify_all();
  }
  void Pass() {
    std::unique_lock lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !closed_; });
  }
  void WaitEntered(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int entered_ = 0;
};

// One provider's accounts, shared by its connector instances.
struct FakeOrg {
  Provider provider = Provider::kActiveDirectory;
  std::mutex mu;
  std::vector<AccountView> accounts;
  size_t page_size = 2;
  std::optional<Error> listing_fails_after_first_page;
  std::atomic<bool> refuses_credentials{false};
  std::atomic<int> listings{0};
  std::atomic<int> lookups{0};
  Gate after_first_page;
  Gate lookup;

  AccountView* Find(const std::string& account) {
    for (AccountView& a : accounts)
      if (LowerAscii(a.id) == LowerAscii(account) || LowerAscii(a.login) == LowerAscii(account)) return &a;
    return nullptr;
  }
  void Set(const std::string& account, const std::function<void(AccountView&)>& change) {
    std::lock_guard lock(mu);
    if (AccountView* a = Find(account)) change(*a);
  }
};

class FakeConnector final : public Connector {
 public:
  explicit FakeConnector(FakeOrg& org) : org_(org) {}
  Provider provider() const override { return org_.provider; }
  bool Supports(ActionType type) const override { return CatalogueHas(org_.provider, type); }
  Result<ExecutionOutcome> Execute(const Action& action, const ExecutionContext& context) override {
    if (auto paced = context.Pace(); !paced) return Fail(paced.error());
    if (org_.refuses_credentials)
      return Fail(Error::Unauthenticated("the action account's credentials are refused").BlameProvider());
    std::lock_guard lock(org_.mu);
    AccountView* a = org_.Find(action.account_id.empty() ? action.target : action.account_id);
    if (a == nullptr) return Fail(Error::NotFound("no such account"));
    switch (action.type) {
      case ActionType::kDisable: a->status = AccountStatus::kDisabled; break;
      case ActionType::kEnable:
      case ActionType::kUnsuspend: a->status = AccountStatus::kEnabled; break;
      case ActionType::kSuspend:
        a->status = org_.provider == Provider::kOkta ? AccountStatus::kSuspended : AccountStatus::kDisabled;
        break;
      default: break;
    }
    ExecutionOutcome out;
    out.account_id = a->id;
    out.resolved_account = a->login;
    out.message = "done";
    return out;
  }
  Status Probe(const ExecutionContext&) override {
    if (org_.refuses_credentials) return Fail(Error::Unauthenticated("refused").BlameProvider());
    return {};
  }
  Result<AccountView> Lookup(const std::string& account) override {
    ++org_.lookups;
    org_.lookup.Pass();
    std::lock_guard lock(org_.mu);
    const AccountView* a = org_.Find(account);
    if (a == nullptr) return Fail(Error::NotFound("no such account"));
    return *a;
  }
  Status ListAccounts(const ExecutionContext& context,
                      const std::function<Status(std::vector<AccountView>&&)>& page) override {
    ++org_.listings;
    std::vector<AccountView> all;
    std::optional<Error> fails;
    {
      std::lock_guard lock(org_.mu);
      all = org_.accounts;
      fails = org_.listing_fails_after_first_page;
    }
    for (size_t i = 0; i < all.size() || i == 0; i += org_.page_size) {
      if (auto paced = context.Pace(); !paced) return paced;
      std::vector<AccountView> chunk(all.begin() + static_cast<std::ptrdiff_t>(std::min(i, all.size())),
                                     all.begin() + static_cast<std::ptrdiff_t>(std::min(i + org_.page_size, all.size())));
      if (auto s = page(std::move(chunk)); !s) return s;
      if (i == 0) {
        if (fails) return Fail(*fails);
        org_.after_first_page.Pass();
      }
    }
    return {};
  }

 private:
  FakeOrg& org_;
};


constexpr const char* kAliceGuid = "6f3c2a10-0000-4000-8000-000000000001";

class InventoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open((dir_ / "cordon.db").string());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate());
    ad_.provider = Provider::kActiveDirectory;
    entra_.provider = Provider::kEntra;
    okta_.provider = Provider::kOkta;
    ad_.accounts = {
        TestAccount(Provider::kActiveDirectory, kAliceGuid, "asmith", "Alice Smith", "alice.smith@corp.example.com",
                "S-1-5-21-1-2-3-1104"),
        TestAccount(Provider::kActiveDirectory, "6f3c2a10-0000-4000-8000-000000000002", "bjones", "Bob Jones",
                "bob.jones@corp.example.com", "S-1-5-21-1-2-3-1105"),
        TestAccount(Provider::kActiveDirectory, "6f3c2a10-0000-4000-8000-000000000003", "svc-backup", "svc-backup", ""),
    };
    entra_.accounts = {
        TestAccount(Provider::kEntra, "e0000000-0000-0000-0000-000000000001", "alice.smith@corp.example.com",
                "Alice Smith", "alice.smith@corp.example.com", "S-1-5-21-1-2-3-1104"),
        TestAccount(Provider::kEntra, "e0000000-0000-0000-0000-000000000003", "carol@corp.example.com", "Carol White",
                "carol@corp.example.com", "", "carol@corp.example.com"),
    };
    okta_.accounts = {
        TestAccount(Provider::kOkta, "00u1", "alice.smith@corp.example.com", "Alice Smith",
                "alice.smith@corp.example.com", "", "alice.smith@corp.example.com"),
        TestAccount(Provider::kOkta, "00u3", "carol.w@partner.example", "Carol W", "carol.w@partner.example", "",
                "carol@corp.example.com"),
        TestAccount(Provider::kOkta, "00u4", "dave@corp.example.com", "Dave Green", "dave@corp.example.com"),
    };
  }
  void TearDown() override {
    if (inventory_) inventory_->Stop();
    if (engine_) engine_->Stop();
    inventory_.reset();
    service_.reset();
    engine_.reset();
  }

  void Build(InventoryOptions options = {}, ProviderSettings settings = {}) {
    options.sync_interval = Millis(0);
    settings.workers = 1;
    EngineOptions engine_options;
    engine_options.poll_interval = Millis(20);
    engine_options.governor.probe_initial = Millis(50);
    engine_ = std::make_unique<Engine>(*store_, engine_options);
    for (FakeOrg* org : {&ad_, &entra_, &okta_}) {
      engine_->AddWorkers(
          org->provider,
          [org]() -> Result<std::unique_ptr<Connector>> { return std::unique_ptr<Connector>(new FakeConnector(*org)); },
          settings);
    }
    inventory_ = std::make_unique<Inventory>(
        *store_, *engine_, std::set<Provider>{Provider::kActiveDirectory, Provider::kEntra, Provider::kOkta}, options);
    engine_->SetFinishedHook([this](const Action& a) { inventory_->ActionFinished(a); });
    service_ = std::make_unique<ActionService>(
        *store_, engine_.get(), std::set<Provider>{Provider::kActiveDirectory, Provider::kEntra, Provider::kOkta});
  }

  void SyncAll() {
    for (Provider p : {Provider::kActiveDirectory, Provider::kEntra, Provider::kOkta}) {
      auto run = inventory_->SyncAndWait(p);
      ASSERT_TRUE(run) << run.error().message;
      ASSERT_EQ(run->error, "") << ToString(p);
    }
  }

  Identity IdentityOf(Provider provider, const std::string& account) {
    auto found = store_->FindIdentityOfAccount(provider, account);
    EXPECT_TRUE(found) << found.error().message;
    if (!found || !found->has_value()) {
      ADD_FAILURE() << "no identity holds " << ToString(provider) << " account " << account;
      return {};
    }
    return **found;
  }

  const InventoryAccount* AccountIn(const Identity& identity, Provider provider) {
    for (const InventoryAccount& a : identity.accounts)
      if (a.account.provider == provider) return &a;
    return nullptr;
  }

  Action WaitForAction(const std::string& id) {
    for (int i = 0; i < 1000; ++i) {
      auto a = store_->GetAction(id);
      if (a && IsTerminal(a->status)) return *a;
      std::this_thread::sleep_for(Millis(10));
    }
    ADD_FAILURE() << "action " << id << " did not finish";
    return {};
  }

  testing::TempDir dir_{"cordon-inventory"};
  std::unique_ptr<SqliteStore> store_;
  FakeOrg ad_, entra_, okta_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Inventory> inventory_;
  std::unique_ptr<ActionService> service_;
};

TEST_F(InventoryTest, SyncCorrelatesEveryProvidersAccountsIntoIdentities) {
  Build();
  inventory_->Start();
  SyncAll();
  auto counts = store_->CountInventory();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->accounts, 8);
  // Alice (ad, entra, okta), Bob, svc-backup, Carol (entra, okta by mail), Dave.
  EXPECT_EQ(counts->identities, 5);
  const Identity alice = IdentityOf(Provider::kOkta, "ALICE.SMITH@corp.example.com");
  EXPECT_EQ(alice.id, IdentityIdOf(Provider::kActiveDirectory, kAliceGuid));
  EXPECT_EQ(alice.display_name, "Alice Smith");
  EXPECT_EQ(alice.domain, "corp.example.com");
  ASSERT_EQ(alice.accounts.size(), 3u);
  EXPECT_EQ(alice.accounts[0].account.provider, Provider::kActiveDirectory);
  EXPECT_EQ(alice.accounts[1].account.provider, Provider::kEntra);
  EXPECT_EQ(alice.accounts[2].account.provider, Provider::kOkta);
  EXPECT_EQ(IdentityOf(Provider::kOkta, "00u3").accounts.size(), 2u) << "carol: entra and okta share a mail";
  EXPECT_EQ(IdentityOf(Provider::kActiveDirectory, "svc-backup").domain, "corp.example.com") << "from the DN";
  IdentityFilter smith;
  smith.text = "smi";
  auto found = store_->ListIdentities(smith);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->identities.size(), 1u);
  EXPECT_EQ(found->identities[0].id, alice.id);

  const auto runs = inventory_->Runs();
  ASSERT_EQ(runs.size(), 3u);
  for (const SyncRun& run : runs) {
    EXPECT_FALSE(run.running);
    EXPECT_EQ(run.error, "");
    EXPECT_GE(run.finished_at, run.started_at);
    EXPECT_FALSE(run.next_at.has_value()) << "syncs on demand only";
  }
}

TEST_F(InventoryTest, ListingsArePacedByTheProvidersGovernor) {
  ProviderSettings settings;
  settings.rate_limit = 1000;
  settings.rate_window = Millis(1000);
  Build({}, settings);
  inventory_->Start();
  SyncAll();
  ProviderHealth ad;
  for (const ProviderHealth& h : engine_->Health())
    if (h.provider == Provider::kActiveDirectory) ad = h;
  // Three accounts in pages of two: every page asked the budget first.
  EXPECT_GE(ad.permits, 2);
  EXPECT_GE(ad_.listings.load(), 1);
}

TEST_F(InventoryTest, ANewListingAddsUpdatesAndRemoves) {
  Build();
  inventory_->Start();
  SyncAll();
  ad_.Set("bjones", [](AccountView& a) { a.status = AccountStatus::kDisabled; });
  {
    std::lock_guard lock(ad_.mu);
    std::erase_if(ad_.accounts, [](const AccountView& a) { return a.login == "svc-backup"; });
    ad_.accounts.push_back(TestAccount(Provider::kActiveDirectory, "6f3c2a10-0000-4000-8000-000000000004", "dgreen",
                                   "Dave Green", "dave@corp.example.com", "S-1-5-21-1-2-3-1106"));
  }
  auto run = inventory_->SyncAndWait(Provider::kActiveDirectory);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->accounts, 3);
  EXPECT_EQ(IdentityOf(Provider::kActiveDirectory, "bjones").accounts[0].account.status, AccountStatus::kDisabled);
  auto gone = store_->FindIdentityOfAccount(Provider::kActiveDirectory, "svc-backup");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value()) << "no longer listed: removed";
  // Dave's new AD account anchors his identity now: his Okta account moved into it.
  const Identity dave = IdentityOf(Provider::kOkta, "00u4");
  EXPECT_EQ(dave.id, IdentityIdOf(Provider::kActiveDirectory, "6f3c2a10-0000-4000-8000-000000000004"));
  EXPECT_EQ(dave.accounts.size(), 2u);
  auto counts = store_->CountInventory();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->identities, 4);
}

TEST_F(InventoryTest, AFailedListingKeepsThePreviousAccountsAndRecordsTheError) {
  Build();
  inventory_->Start();
  SyncAll();
  {
    std::lock_guard lock(okta_.mu);
    okta_.accounts.pop_back();
    okta_.listing_fails_after_first_page =
        Error::PermissionDenied("the action account may not list users").WithProvider("http:403", "E0000006");
  }
  auto run = inventory_->SyncAndWait(Provider::kOkta);
  ASSERT_TRUE(run);
  EXPECT_THAT(run->error, HasSubstr("may not list users"));
  EXPECT_THAT(run->error, HasSubstr("http:403"));
  EXPECT_EQ(run->accounts, 2) << "the first page was read";
  EXPECT_EQ(IdentityOf(Provider::kOkta, "00u4").accounts.size(), 1u) << "the previous accounts stay";
  auto stored = store_->ListSyncRuns();
  ASSERT_TRUE(stored);
  bool found = false;
  for (const SyncRun& r : *stored)
    if (r.provider == Provider::kOkta) {
      found = true;
      EXPECT_THAT(r.error, HasSubstr("may not list users"));
    }
  EXPECT_TRUE(found);
  // The next good listing clears it.
  {
    std::lock_guard lock(okta_.mu);
    okta_.listing_fails_after_first_page.reset();
  }
  run = inventory_->SyncAndWait(Provider::kOkta);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->error, "");
  auto dave = store_->FindIdentityOfAccount(Provider::kOkta, "00u4");
  ASSERT_TRUE(dave);
  EXPECT_FALSE(dave->has_value());
}

TEST_F(InventoryTest, ARequestWhileASyncRunsJoinsItAndShowsItsProgress) {
  Build();
  ad_.after_first_page.Close();
  inventory_->Start();  // every provider's first sync starts now
  ad_.after_first_page.WaitEntered(1);
  SyncRun ad_run;
  for (const SyncRun& r : inventory_->Runs())
    if (r.provider == Provider::kActiveDirectory) ad_run = r;
  EXPECT_TRUE(ad_run.running);
  EXPECT_EQ(ad_run.accounts, 2) << "the first page, read so far";
  auto asked = inventory_->RequestSync(Provider::kActiveDirectory);
  ASSERT_TRUE(asked);
  ASSERT_EQ(asked->size(), 1u);
  EXPECT_TRUE((*asked)[0].running);
  EXPECT_EQ((*asked)[0].started_at, ad_run.started_at) << "joined, not a second sync";
  std::thread release([&] {
    std::this_thread::sleep_for(Millis(50));
    ad_.after_first_page.Open();
  });
  auto run = inventory_->SyncAndWait(Provider::kActiveDirectory);
  release.join();
  ASSERT_TRUE(run);
  EXPECT_EQ(run->accounts, 3);
  EXPECT_EQ(ad_.listings.load(), 1);
  EXPECT_FALSE(inventory_->RequestSync(Provider::kActiveDirectory).value().empty());
  auto unknown = Inventory(*store_, *engine_, {Provider::kOkta}).RequestSync(Provider::kOkta);
  ASSERT_FALSE(unknown) << "not started";
  EXPECT_EQ(unknown.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(InventoryTest, ASucceededActionRefreshesItsAccountAtOnce) {
  Build();
  inventory_->Start();
  SyncAll();
  engine_->Start();
  SubmitRequest request;
  request.type = ActionType::kDisable;
  request.provider = Provider::kActiveDirectory;
  request.targets = {"asmith"};
  request.reason = "incident 7";
  request.actor = {"analyst", "tok_1"};
  auto created = service_->Submit(request);
  ASSERT_TRUE(created) << created.error().message;
  const Action done = WaitForAction(created->front().id);
  ASSERT_EQ(done.status, ActionStatus::kSucceeded) << done.outcome;
  inventory_->WaitForRefreshes();
  const Identity alice = IdentityOf(Provider::kActiveDirectory, kAliceGuid);
  const InventoryAccount* ad = AccountIn(alice, Provider::kActiveDirectory);
  ASSERT_NE(ad, nullptr);
  EXPECT_EQ(ad->account.status, AccountStatus::kDisabled) << "read again, without a sync";
  EXPECT_EQ(ad_.listings.load(), 1);
  EXPECT_EQ(ad_.lookups.load(), 1) << "by the id the action resolved to";
  EXPECT_GE(ad->seen_at, done.updated_at);
  EXPECT_EQ(alice.accounts.size(), 3u) << "still one person";
}

TEST_F(InventoryTest, RepeatedRefreshesOfOneAccountAreCoalesced) {
  Build();
  inventory_->Start();
  SyncAll();
  Action succeeded;
  succeeded.type = ActionType::kSuspend;
  succeeded.provider = Provider::kOkta;
  succeeded.status = ActionStatus::kSucceeded;
  succeeded.target = "alice.smith@corp.example.com";
  succeeded.account_id = "00u1";
  okta_.lookup.Close();
  inventory_->ActionFinished(succeeded);
  okta_.lookup.WaitEntered(1);
  okta_.Set("00u1", [](AccountView& a) { a.status = AccountStatus::kSuspended; });
  for (int i = 0; i < 3; ++i) inventory_->ActionFinished(succeeded);
  okta_.lookup.Open();
  inventory_->WaitForRefreshes();
  EXPECT_EQ(okta_.lookups.load(), 2) << "the one in flight, then one for the three that came meanwhile";
  EXPECT_EQ(AccountIn(IdentityOf(Provider::kOkta, "00u1"), Provider::kOkta)->account.status, AccountStatus::kSuspended);

  // Nothing to read again: a failure, or an action Cordon carries out alone.
  Action failed = succeeded;
  failed.status = ActionStatus::kFailed;
  inventory_->ActionFinished(failed);
  Action cordon_only = succeeded;
  cordon_only.type = ActionType::kMarkCompromised;
  inventory_->ActionFinished(cordon_only);
  Action sessions = succeeded;
  sessions.type = ActionType::kRevokeSessions;
  inventory_->ActionFinished(sessions);
  inventory_->WaitForRefreshes();
  EXPECT_EQ(okta_.lookups.load(), 2);
}

TEST_F(InventoryTest, ABurstOfRefreshesBecomesOneSync) {
  Build();
  inventory_->Start();
  SyncAll();
  const int listings = okta_.listings.load();
  Action succeeded;
  succeeded.type = ActionType::kSuspend;
  succeeded.provider = Provider::kOkta;
  succeeded.status = ActionStatus::kSucceeded;
  succeeded.account_id = "00u1";
  okta_.lookup.Close();
  inventory_->ActionFinished(succeeded);
  okta_.lookup.WaitEntered(1);
  // A bulk: 120 more accounts while the first is read.
  for (int i = 0; i < 120; ++i) {
    succeeded.account_id = "00ubulk" + std::to_string(i);
    inventory_->ActionFinished(succeeded);
  }
  okta_.lookup.Open();
  inventory_->WaitForRefreshes();
  auto run = inventory_->SyncAndWait(Provider::kOkta);
  ASSERT_TRUE(run);
  // The 101st queued made the first 100 one sync; the 19 after it were read one by one.
  EXPECT_EQ(okta_.lookups.load(), 1 + 19);
  EXPECT_GE(okta_.listings.load(), listings + 1);
}

TEST_F(InventoryTest, RefreshesWaitWhileTheProvidersActionsAreUnderWay) {
  Build();
  inventory_->Start();
  SyncAll();
  // An action due at Okta (the engine is not started, so it stays due).
  SubmitRequest request;
  request.type = ActionType::kSuspend;
  request.provider = Provider::kOkta;
  request.targets = {"dave@corp.example.com"};
  request.reason = "incident 9";
  request.actor = {"analyst", "tok_1"};
  auto created = service_->Submit(request);
  ASSERT_TRUE(created) << created.error().message;
  Action succeeded;
  succeeded.type = ActionType::kSuspend;
  succeeded.provider = Provider::kOkta;
  succeeded.status = ActionStatus::kSucceeded;
  succeeded.account_id = "00u1";
  inventory_->ActionFinished(succeeded);
  std::this_thread::sleep_for(Millis(1500));  // three times the refresh backoff
  EXPECT_EQ(okta_.lookups.load(), 0) << "the action comes first";
  ASSERT_TRUE(service_->Cancel(created->front().id, {"analyst", "tok_1"}, "not needed"));
  inventory_->WaitForRefreshes();
  EXPECT_EQ(okta_.lookups.load(), 1) << "read once nothing waits";
}

TEST_F(InventoryTest, ARefreshThatChangesWhatCorrelatesAnAccountMovesIt) {
  Build();
  inventory_->Start();
  SyncAll();
  const std::string dave_before = IdentityOf(Provider::kOkta, "00u4").id;
  // Dave's Okta login becomes Bob's UPN: the account is Bob's now.
  okta_.Set("00u4", [](AccountView& a) {
    a.login = a.upn = "bob.jones@corp.example.com";
    a.display_name = "Bob J";
  });
  ASSERT_TRUE(inventory_->Refresh(Provider::kOkta, "00u4"));
  const Identity bob = IdentityOf(Provider::kOkta, "00u4");
  EXPECT_EQ(bob.display_name, "Bob Jones");
  EXPECT_EQ(bob.accounts.size(), 2u);
  auto gone = store_->GetIdentity(dave_before);
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value()) << "an identity left without accounts is removed";
  IdentityFilter dave;
  dave.text = "dave";
  EXPECT_TRUE(store_->ListIdentities(dave)->identities.empty());
  IdentityFilter bob_j;
  bob_j.text = "bob j";
  EXPECT_EQ(store_->ListIdentities(bob_j)->identities.size(), 1u);

  // A rename that changes nothing else keeps the identity and its id; the anchor's name is the identity's.
  ad_.Set("bjones", [](AccountView& a) { a.display_name = "Robert Jones"; });
  ASSERT_TRUE(inventory_->Refresh(Provider::kActiveDirectory, "bjones"));
  const Identity robert = IdentityOf(Provider::kOkta, "00u4");
  EXPECT_EQ(robert.id, bob.id);
  EXPECT_EQ(robert.display_name, "Robert Jones");
  IdentityFilter rob;
  rob.text = "rob";
  EXPECT_EQ(store_->ListIdentities(rob)->identities.size(), 1u);
}

TEST_F(InventoryTest, NothingIsReadFromAPausedProvider) {
  Build();
  inventory_->Start();
  SyncAll();
  engine_->Start();
  // The action account's credentials are refused: the engine pauses AD.
  ad_.refuses_credentials = true;
  SubmitRequest request;
  request.type = ActionType::kDisable;
  request.provider = Provider::kActiveDirectory;
  request.targets = {"bjones"};
  request.reason = "incident 8";
  request.actor = {"analyst", "tok_1"};
  ASSERT_TRUE(service_->Submit(request));
  for (int i = 0; i < 500; ++i) {
    bool paused = false;
    for (const ProviderHealth& h : engine_->Health())
      paused |= h.provider == Provider::kActiveDirectory && h.state == ProviderState::kPaused;
    if (paused) break;
    std::this_thread::sleep_for(Millis(10));
  }
  const int listings = ad_.listings.load();
  auto run = inventory_->SyncAndWait(Provider::kActiveDirectory);
  ASSERT_TRUE(run);
  EXPECT_THAT(run->error, HasSubstr("paused"));
  EXPECT_EQ(ad_.listings.load(), listings) << "the provider was not called";
  EXPECT_EQ(IdentityOf(Provider::kActiveDirectory, "bjones").accounts.size(), 1u) << "accounts kept";
  auto refreshed = inventory_->Refresh(Provider::kActiveDirectory, "bjones");
  ASSERT_FALSE(refreshed);
  EXPECT_EQ(refreshed.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(ad_.lookups.load(), 0);
}

TEST_F(InventoryTest, StopEndsAListingInProgressKeepingWhatWasThere) {
  Build();
  ad_.after_first_page.Close();
  inventory_->Start();
  ad_.after_first_page.WaitEntered(1);
  std::thread stopper([&] { inventory_->Stop(); });
  std::this_thread::sleep_for(Millis(50));
  ad_.after_first_page.Open();
  stopper.join();
  auto counts = store_->CountInventory();
  ASSERT_TRUE(counts);
  auto runs = store_->ListSyncRuns();
  ASSERT_TRUE(runs);
  for (const SyncRun& r : *runs)
    if (r.provider == Provider::kActiveDirectory) {
      EXPECT_THAT(r.error, HasSubstr("stopping"));
    }
  auto bob = store_->FindIdentityOfAccount(Provider::kActiveDirectory, "bjones");
  ASSERT_TRUE(bob);
  EXPECT_FALSE(bob->has_value()) << "the listing that was ended wrote nothing";
}

}  // namespace
}  // namespace cordon
