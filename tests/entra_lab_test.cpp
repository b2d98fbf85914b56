// The lab's Graph emulator as `cordon lab up` starts it: lab.json describes
// it, its secrets are files only the owner reads, its synced users carry
// their AD objectSid (compared with an LDAP search of the DC), and the lab's
// app gets a token with its secret and with its certificate.
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/subprocess.h"
#include "support/lab_info.h"
#include "support/okta_wire.h"

namespace cordon {
namespace {

using cordon::testing::Base64Url;
using cordon::testing::Call;
using cordon::testing::EpochNow;
using cordon::testing::FormEncode;
using cordon::testing::KeyPair;
using cordon::testing::WireRequest;
using cordon::testing::WireResponse;
using nlohmann::json;

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A binary objectSid (MS-DTYP 2.4.2.2) in its string form.
std::string SidString(const std::string& raw) {
  if (raw.size() < 8) return {};
  uint64_t authority = 0;
  for (size_t i = 2; i < 8; ++i) authority = (authority << 8) | static_cast<unsigned char>(raw[i]);
  std::string sid = "S-" + std::to_string(static_cast<unsigned char>(raw[0])) + "-" + std::to_string(authority);
  for (size_t at = 8; at + 4 <= raw.size(); at += 4)
    sid += "-" + std::to_string(static_cast<uint32_t>(static_cast<unsigned char>(raw[at])) |
                                static_cast<uint32_t>(static_cast<unsigned char>(raw[at + 1])) << 8 |
                                static_cast<uint32_t>(static_cast<unsigned char>(raw[at + 2])) << 16 |
                                static_cast<uint32_t>(static_cast<unsigned char>(raw[at + 3])) << 24);
  return sid;
}

// The objectSid of `sam` as the DC says it, over LDAPS as the lab's Administrator.
std::string AdSid(const cordon::testing::LabInfo& lab, const std::string& sam) {
  auto r = RunProgram({.argv = {"ldapsearch", "-x", "-H", lab.ldaps_url, "-D", lab.admin.bind_dn, "-y",
                                lab.admin.password_file, "-b", lab.base_dn, "-LLL", "-o", "ldif-wrap=no",
                                "(sAMAccountName=" + sam + ")", "objectSid"},
                       .env = {{"LDAPTLS_CACERT", lab.ca_file}, {"LDAPRC", "/dev/null"}}});
  if (!r || !r->ok()) return {};
  const auto at = r->out.find("objectSid:: ");
  if (at == std::string::npos) return {};
  std::string b64 = r->out.substr(at + 12);
  b64 = b64.substr(0, b64.find('\n'));
  std::string raw(b64.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return {};
  size_t len = static_cast<size_t>(n);
  for (size_t i = b64.size(); i > 0 && b64[i - 1] == '='; --i) --len;
  raw.resize(len);
  return SidString(raw);
}

class EntraLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const json lab = json::parse(ReadWhole(std::string(CORDON_LAB_DIR) + "/lab.json"), nullptr, false);
    ASSERT_TRUE(lab.is_object()) << "no lab.json in " << CORDON_LAB_DIR;
    ASSERT_TRUE(lab.contains("entra")) << lab.dump(2);
    entra_ = lab["entra"];
  }
  std::string S(const char* key) const { return entra_.value(key, ""); }
  std::string TokenUrl() const { return S("authority") + "/" + S("tenant") + "/oauth2/v2.0/token"; }
  WireResponse TokenWith(const std::string& credential) {
    WireRequest r;
    r.method = "POST";
    r.url = TokenUrl();
    r.content_type = "application/x-www-form-urlencoded";
    r.body = "grant_type=client_credentials&client_id=" + FormEncode(S("client_id")) +
             "&scope=" + FormEncode(S("graph_url") + "/.default") + "&" + credential;
    return Call(r, S("ca_file"));
  }
  WireResponse Get(const std::string& path, const std::string& token) {
    WireRequest r;
    r.url = S("graph_url") + path;
    r.authorization = "Bearer " + token;
    return Call(r, S("ca_file"));
  }
  std::string SecretToken() {
    const auto t = TokenWith("client_secret=" + FormEncode(cordon::testing::ReadSecretFile(S("client_secret_file"))));
    EXPECT_EQ(t.status, 200) << t.body;
    return t.Json().value("access_token", "");
  }

  json entra_;
};

TEST_F(EntraLabTest, LabJsonDescribesItAndSecretsAreOwnerOnly) {
  for (const char* key : {"authority", "graph_url", "tenant", "client_id", "client_secret_file", "certificate_file",
                          "private_key_file", "ca_file", "pid_file", "log_file"})
    EXPECT_FALSE(S(key).empty()) << key;
  EXPECT_EQ(S("authority").rfind("https://127.0.0.1:", 0), 0u);
  EXPECT_EQ(S("authority"), S("graph_url"));
  EXPECT_EQ(S("tenant").size(), 36u);
  for (const char* key : {"client_secret_file", "private_key_file"}) {
    struct stat st {};
    ASSERT_EQ(::stat(S(key).c_str(), &st), 0) << key;
    EXPECT_EQ(st.st_mode & 0777, 0600) << key;
  }
  const std::string secret = cordon::testing::ReadSecretFile(S("client_secret_file"));
  ASSERT_FALSE(secret.empty());
  EXPECT_EQ(ReadWhole(std::string(CORDON_LAB_DIR) + "/lab.json").find(secret), std::string::npos);
}

TEST_F(EntraLabTest, SyncedUsersCarryTheirAdObjectSid) {
  const std::string token = SecretToken();
  const auto& lab = cordon::testing::TheLab();
  for (const std::string sam : {"alice.adams", "dana.admin", "bulk0500", "carl.contractor"}) {
    SCOPED_TRACE(sam);
    const std::string ad_sid = AdSid(lab, sam);
    ASSERT_EQ(ad_sid.rfind("S-1-5-21-", 0), 0u) << "the DC gave no SID";
    const auto r = Get("/v1.0/users/" + sam + "@corp.example.test?$select=id,onPremisesSyncEnabled,"
                                              "onPremisesSecurityIdentifier",
                       token);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Json().value("onPremisesSecurityIdentifier", ""), ad_sid);
    EXPECT_EQ(r.Json().value("onPremisesSyncEnabled", false), true);
  }
  const auto cloud = Get("/v1.0/users/chloe.cloudonly@corp.example.test?$select=onPremisesSecurityIdentifier", token);
  ASSERT_EQ(cloud.status, 200) << cloud.body;
  EXPECT_TRUE(cloud.Json()["onPremisesSecurityIdentifier"].is_null());
  EXPECT_EQ(Get("/v1.0/users/" + FormEncode("gary.guest_partner.example#EXT#@corp.example.test"), token).status, 200);
}

TEST_F(EntraLabTest, TheLabsAppGetsATokenWithItsCertificate) {
  const KeyPair key(S("private_key_file"));
  const std::string pem = ReadWhole(S("certificate_file"));
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(cert, nullptr);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha1(), digest, &len);
  X509_free(cert);
  const json header = {{"alg", "RS256"}, {"typ", "JWT"},
                       {"x5t", Base64Url(std::string(reinterpret_cast<const char*>(digest), len))}};
  const json claims = {{"aud", TokenUrl()}, {"iss", S("client_id")}, {"sub", S("client_id")},
                       {"jti", "lab-test-" + std::to_string(EpochNow())}, {"nbf", EpochNow()},
                       {"exp", EpochNow() + 300}};
  const std::string input = Base64Url(header.dump()) + "." + Base64Url(claims.dump());
  const auto t = TokenWith("client_assertion_type=" +
                           FormEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                           "&client_assertion=" + FormEncode(input + "." + Base64Url(key.SignRs256(input))));
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(Get("/v1.0/users/alice.adams@corp.example.test", t.Json().value("access_token", "")).status, 200);
  EXPECT_EQ(TokenWith("client_secret=not-the-secret").status, 401);
}

}  // namespace
}  // namespace cordon
