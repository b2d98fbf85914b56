#include "api/graph_wire.h"

#include <gtest/gtest.h>

namespace cordon::api {
namespace {

TEST(GraphWire, FindsTheVersionPrefix) {
  EXPECT_EQ(GraphVersionOf("/v1.0/security/identities/identityAccounts"), "v1.0");
  EXPECT_EQ(GraphVersionOf("/beta/security"), "beta");
  EXPECT_FALSE(GraphVersionOf("/v1.0"));
  EXPECT_FALSE(GraphVersionOf("/v1.0x/security"));
  EXPECT_FALSE(GraphVersionOf("/v2.0/security"));
  EXPECT_FALSE(GraphVersionOf("/BETA/security"));
  EXPECT_FALSE(GraphVersionOf("/api/v1/actions"));
  EXPECT_FALSE(GraphVersionOf(""));
}

TEST(GraphWire, RequestIdsAreGuidsNamingCordonsRequestId) {
  const std::string id = GraphRequestId("urn:cordon:request:0123456789abcdef01234567");
  EXPECT_EQ(id, "00000000-0123-4567-89ab-cdef01234567");
  EXPECT_TRUE(IsGuid(id));
  EXPECT_EQ(GraphRequestId("garbage"), "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(GraphRequestId("urn:cordon:request:0123456789abcdef0123456<"), "00000000-0000-0000-0000-000000000000");
}

TEST(GraphWire, EchoesTheClientsRequestIdOnlyWhenItIsAGuid) {
  const std::string ours = "00000000-0123-4567-89ab-cdef01234567";
  EXPECT_EQ(ClientRequestId("5A9C3E4B-1D2F-4A6B-8C7D-9E0F1A2B3C4D", ours), "5a9c3e4b-1d2f-4a6b-8c7d-9e0f1a2b3c4d");
  EXPECT_EQ(ClientRequestId("", ours), ours);
  EXPECT_EQ(ClientRequestId("<script>", ours), ours);
  EXPECT_EQ(ClientRequestId("5a9c3e4b-1d2f-4a6b-8c7d-9e0f1a2b3c4d\r\nX: y", ours), ours);
  EXPECT_EQ(ClientRequestId("5a9c3e4b1d2f4a6b8c7d9e0f1a2b3c4d", ours), ours);
  EXPECT_FALSE(IsGuid("5a9c3e4b-1d2f-4a6b-8c7d-9e0f1a2b3c4g"));
}

TEST(GraphWire, ErrorBodyIsGraphs) {
  const TimePoint at = FromUnixMillis(1785585600123);  // 2026-08-01T12:00:00.123Z
  EXPECT_EQ(GraphErrorDate(at), "2026-08-01T12:00:00");
  const nlohmann::json body = GraphErrorBody("BadRequest", "Invalid filter clause", {"rid", "cid"}, at);
  EXPECT_EQ(body, nlohmann::json::parse(R"({"error":{"code":"BadRequest","message":"Invalid filter clause",
      "innerError":{"date":"2026-08-01T12:00:00","request-id":"rid","client-request-id":"cid"}}})"));
}

TEST(GraphWire, ContextsAreGraphs) {
  EXPECT_EQ(IdentityAccountsContext("https://cordon.example:8443", "v1.0", {}, false),
            "https://cordon.example:8443/v1.0/$metadata#security/identities/identityAccounts");
  EXPECT_EQ(IdentityAccountsContext("https://c", "beta", {}, true),
            "https://c/beta/$metadata#security/identities/identityAccounts/$entity");
  EXPECT_EQ(IdentityAccountsContext("https://c", "v1.0", {"displayName", "accounts"}, true),
            "https://c/v1.0/$metadata#security/identities/identityAccounts(displayName,accounts)/$entity");
  EXPECT_EQ(TypeContext("https://c", "v1.0", "microsoft.graph.security.invokeActionResult"),
            "https://c/v1.0/$metadata#microsoft.graph.security.invokeActionResult");
}

TEST(GraphWire, EncodesQueryValues) {
  EXPECT_EQ(EncodeQueryValue("displayName eq 'O''Brien' & x=1#"),
            "displayName%20eq%20%27O%27%27Brien%27%20%26%20x%3D1%23");
  EXPECT_EQ(EncodeQueryValue("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(EncodeQueryValue("ë+/"), "%C3%AB%2B%2F");
}

}  // namespace
}  // namespace cordon::api
