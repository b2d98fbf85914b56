#include "api/server_origin.h"

#include <memory>

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

namespace cordon::api {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

// A certificate carrying only a subjectAltName: enough for CertificateNames,
// which reads names and never checks signatures.
X509Ptr CertificateWith(const char* alt_names) {
  X509Ptr cert(X509_new(), &X509_free);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, alt_names);
  EXPECT_NE(ext, nullptr);
  X509_add_ext(cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  return cert;
}

TEST(CertificateNames, ReadsDnsNamesAndAddresses) {
  const X509Ptr cert = CertificateWith("DNS:Cordon.Corp.Example, DNS:*.svc.example, IP:10.0.0.5, IP:::1, "
                                       "email:soc@corp.example, URI:https://elsewhere.example/");
  EXPECT_EQ(CertificateNames(cert.get()),
            (std::vector<std::string>{"cordon.corp.example", "*.svc.example", "10.0.0.5", "::1"}));
  EXPECT_TRUE(CertificateNames(nullptr).empty());
  const X509Ptr bare(X509_new(), &X509_free);
  EXPECT_TRUE(CertificateNames(bare.get()).empty());
}

TEST(ServerOrigin, UsesTheHostOnlyWhenItIsOneOfOurNames) {
  const X509Ptr cert = CertificateWith("DNS:cordon.corp.example, DNS:*.svc.example, IP:10.0.0.5");
  const ServerOrigin origin = MakeServerOrigin(true, "0.0.0.0", 8443, cert.get());
  EXPECT_EQ(origin.For("cordon.corp.example"), "https://cordon.corp.example:8443");
  EXPECT_EQ(origin.For("CORDON.corp.example.:8443"), "https://cordon.corp.example:8443");
  EXPECT_EQ(origin.For("cordon.corp.example:1"), "https://cordon.corp.example:8443") << "the port is ours";
  EXPECT_EQ(origin.For("api.svc.example"), "https://api.svc.example:8443");
  EXPECT_EQ(origin.For("10.0.0.5:8443"), "https://10.0.0.5:8443");
  // Anything else gets our first name, never the text sent.
  for (const char* forged : {"evil.example", "a.b.svc.example", "svc.example", "cordon.corp.example.evil.example",
                             "cordon.corp.example/x", "", "[::1]", "cordon.corp.example@evil.example", "0.0.0.0"})
    EXPECT_EQ(origin.For(forged), "https://cordon.corp.example:8443") << forged;
}

TEST(ServerOrigin, LoopbackServersAnswerToLocalhostAndTheirAddress) {
  const ServerOrigin plain = MakeServerOrigin(false, "127.0.0.1", 8080, nullptr);
  EXPECT_EQ(plain.For("localhost:8080"), "http://localhost:8080");
  EXPECT_EQ(plain.For("127.0.0.1"), "http://127.0.0.1:8080");
  EXPECT_EQ(plain.For("evil.example"), "http://127.0.0.1:8080");

  const ServerOrigin v6 = MakeServerOrigin(true, "::1", 443, nullptr);
  EXPECT_EQ(v6.For("[::1]:443"), "https://[::1]");
  EXPECT_EQ(v6.For("localhost"), "https://localhost");
  EXPECT_EQ(v6.For("[::2]"), "https://[::1]");
}

}  // namespace
}  // namespace cordon::api
