// The lab's Okta emulator as `cordon lab up` starts it: lab.json describes it,
// its secrets are files only the owner reads, and it holds the lab's people.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "support/okta_wire.h"

namespace cordon {
namespace {

using cordon::testing::Call;
using cordon::testing::WireRequest;
using nlohmann::json;

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class OktaLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const json lab = json::parse(ReadWhole(std::string(CORDON_LAB_DIR) + "/lab.json"), nullptr, false);
    ASSERT_TRUE(lab.is_object()) << "no lab.json in " << CORDON_LAB_DIR;
    ASSERT_TRUE(lab.contains("okta")) << lab.dump(2);
    okta_ = lab["okta"];
    token_ = ReadWhole(okta_["token_file"]);
    ASSERT_FALSE(token_.empty());
  }

  cordon::testing::WireResponse Get(const std::string& path_or_url) {
    WireRequest r;
    const std::string url = okta_["url"];
    r.url = path_or_url.rfind("https://", 0) == 0 ? path_or_url : url + path_or_url;
    r.authorization = "SSWS " + token_;
    return Call(r, okta_["ca_file"]);
  }

  json okta_;
  std::string token_;
};

TEST_F(OktaLabTest, LabJsonDescribesItAndSecretsAreOwnerOnly) {
  for (const char* key : {"url", "ca_file", "token_file", "client_id", "private_key_file"})
    EXPECT_TRUE(okta_.contains(key)) << key;
  EXPECT_EQ(okta_["url"].get<std::string>().rfind("https://127.0.0.1:", 0), 0u);
  for (const char* key : {"token_file", "private_key_file"}) {
    struct stat st {};
    ASSERT_EQ(::stat(okta_[key].get<std::string>().c_str(), &st), 0) << key;
    EXPECT_EQ(st.st_mode & 0777, 0600) << key;
  }
  EXPECT_EQ(ReadWhole(std::string(CORDON_LAB_DIR) + "/lab.json").find(token_), std::string::npos);
}

TEST_F(OktaLabTest, HoldsTheLabsPeopleUnderTheirUpn) {
  const auto r = Get("/api/v1/users/alice.adams@corp.example.test");
  ASSERT_EQ(r.status, 200) << r.curl_error << r.body;
  EXPECT_EQ(r.Json()["status"], "ACTIVE");
  EXPECT_EQ(Get("/api/v1/users/bulk1000@corp.example.test").status, 200);
  EXPECT_EQ(Get("/api/v1/users/carl.contractor@corp.example.test").status, 200);
  EXPECT_EQ(Get("/api/v1/users/susan.suspended@corp.example.test").Json()["status"], "SUSPENDED");
}

TEST_F(OktaLabTest, ListingPagesOverEveryone) {
  std::set<std::string> ids;
  std::string next = "/api/v1/users?limit=200";
  int pages = 0;
  while (!next.empty() && pages < 20) {
    const auto r = Get(next);
    ASSERT_EQ(r.status, 200) << r.body;
    ++pages;
    for (const auto& u : r.Json()) ids.insert(u["id"].get<std::string>());
    next.clear();
    for (const auto& l : r.Headers("link"))
      if (l.find("rel=\"next\"") != std::string::npos) next = l.substr(1, l.find('>') - 1);
  }
  EXPECT_GE(pages, 6);
  EXPECT_GE(ids.size(), 1030u);
}

TEST_F(OktaLabTest, LabClientKeyGetsAnAccessToken) {
  const cordon::testing::KeyPair key(okta_["private_key_file"].get<std::string>());
  WireRequest r;
  r.method = "POST";
  r.url = okta_["url"].get<std::string>() + "/oauth2/v1/token";
  r.content_type = "application/x-www-form-urlencoded";
  r.body = cordon::testing::TokenForm(key.Jwt(cordon::testing::AssertionClaims(okta_["client_id"], okta_["url"])),
                                      "okta.users.manage");
  const auto t = Call(r, okta_["ca_file"]);
  ASSERT_EQ(t.status, 200) << t.body;
  WireRequest get;
  get.url = okta_["url"].get<std::string>() + "/api/v1/users/bob.baker@corp.example.test";
  get.authorization = "Bearer " + t.Json()["access_token"].get<std::string>();
  EXPECT_EQ(Call(get, okta_["ca_file"]).status, 200);
}

}  // namespace
}  // namespace cordon
