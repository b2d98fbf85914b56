#include "api/graph_json.h"

#include <gtest/gtest.h>

namespace cordon::api {
namespace {

InventoryAccount Account(Provider provider, std::string id, AccountStatus status, std::string sid = "") {
  InventoryAccount a;
  a.account.provider = provider;
  a.account.id = std::move(id);
  a.account.login = "alice";
  a.account.status = status;
  a.account.sid = std::move(sid);
  a.identity_id = "0a1b2c3d-4e5f-5a6b-8c7d-8e9fa0b1c2d3";
  return a;
}

Identity Alice() {
  Identity i;
  i.id = "0a1b2c3d-4e5f-5a6b-8c7d-8e9fa0b1c2d3";
  i.display_name = "Alice Adams";
  i.domain = "corp.example.test";
  i.accounts = {Account(Provider::kActiveDirectory, "ad-guid", AccountStatus::kDisabled, "S-1-5-21-1-2-3-1105"),
                Account(Provider::kEntra, "73d664e4-0886-4a73-b745-c694da45ddb4", AccountStatus::kEnabled,
                        "S-1-5-21-1-2-3-1105"),
                Account(Provider::kOkta, "00u1", AccountStatus::kSuspended)};
  return i;
}

TEST(IdentityAccountsJson, IsGraphsIdentityAccountsInGraphsOrder) {
  const ordered_json j = IdentityAccountsJson(Alice(), {});
  EXPECT_EQ(DumpOrdered(j),
            R"({"id":"0a1b2c3d-4e5f-5a6b-8c7d-8e9fa0b1c2d3","displayName":"Alice Adams","domain":"corp.example.test",)"
            R"("isEnabled":true,"onPremisesSecurityIdentifier":"S-1-5-21-1-2-3-1105",)"
            R"("cloudSecurityIdentifier":"S-1-12-1-1943430372-1249052806-2496021943-3034400218","accounts":[)"
            R"({"identifier":"ad-guid","identityProvider":"activeDirectory","actions":["disable","enable","forcePasswordReset"]},)"
            R"({"identifier":"73d664e4-0886-4a73-b745-c694da45ddb4","identityProvider":"entraID","actions":["disable",)"
            R"("enable","revokeAllSessions","requireUserToSignInAgain","markUserAsCompromised"]},)"
            R"({"identifier":"00u1","identityProvider":"okta","actions":["disable","enable","revokeAllSessions"]}]})");
}

TEST(IdentityAccountsJson, NullsWhatTheIdentityHasNotAndSelects) {
  Identity okta_only;
  okta_only.id = "id";
  okta_only.display_name = "carol";
  okta_only.accounts = {Account(Provider::kOkta, "00u2", AccountStatus::kDeactivated)};
  const ordered_json j = IdentityAccountsJson(okta_only, {});
  EXPECT_TRUE(j.at("domain").is_null());
  EXPECT_EQ(j.at("isEnabled"), false);
  EXPECT_TRUE(j.at("onPremisesSecurityIdentifier").is_null());
  EXPECT_TRUE(j.at("cloudSecurityIdentifier").is_null());

  // Without an AD account, the on-premises SID Entra keeps for a synced user.
  Identity synced;
  synced.id = "id";
  synced.accounts = {Account(Provider::kEntra, "not-a-guid", AccountStatus::kEnabled, "S-1-5-21-9-9-9-500")};
  const ordered_json s = IdentityAccountsJson(synced, {});
  EXPECT_EQ(s.at("onPremisesSecurityIdentifier"), "S-1-5-21-9-9-9-500");
  EXPECT_TRUE(s.at("cloudSecurityIdentifier").is_null()) << "an object id that is no GUID has no cloud SID";

  const ordered_json picked = IdentityAccountsJson(Alice(), {"isEnabled", "displayName"});
  EXPECT_EQ(DumpOrdered(picked), R"({"displayName":"Alice Adams","isEnabled":true})");
}

TEST(InvokeActionResultJson, IsGraphsInvokeActionResult) {
  EXPECT_EQ(DumpOrdered(InvokeActionResultJson("00u1", GraphAction::kRevokeAllSessions, Provider::kOkta,
                                               "act_0123456789abcdefghjkmnpqrs")),
            R"({"accountId":"00u1","action":"revokeAllSessions","identityProvider":"okta",)"
            R"("correlationId":"act_0123456789abcdefghjkmnpqrs"})");
}

TEST(DumpOrdered, ReplacesInvalidUtf8InsteadOfThrowing) {
  EXPECT_EQ(DumpOrdered(ordered_json{{"displayName", std::string("a\xff")}}), "{\"displayName\":\"a\xEF\xBF\xBD\"}");
}

}  // namespace
}  // namespace cordon::api
