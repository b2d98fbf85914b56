#include "support/test_certificates.h"

#include <fstream>
#include <vector>

#include "core/subprocess.h"

namespace cordon::testing {
namespace {

Status Openssl(std::vector<std::string> argv) {
  auto r = RunProgram({.argv = std::move(argv)});
  if (!r) return Fail(r.error());
  if (!r->ok()) return Fail(Error::Internal("openssl failed: " + r->err));
  return {};
}

}  // namespace

Result<TestCertificates> TestCertificates::Make(const std::filesystem::path& dir) {
  const std::string d = dir.string();
  if (auto s = Openssl({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/ca.key", "-out",
                        d + "/ca.pem", "-days", "2", "-subj", "/CN=Cordon Test CA", "-addext",
                        "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
      !s)
    return Fail(s.error());
  std::ofstream(d + "/ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n";
  if (auto s = Openssl({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/server.key", "-out",
                        d + "/server.csr", "-subj", "/CN=localhost"});
      !s)
    return Fail(s.error());
  if (auto s = Openssl({"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem", "-CAkey",
                        d + "/ca.key", "-CAcreateserial", "-out", d + "/server.pem", "-days", "2", "-extfile",
                        d + "/ext"});
      !s)
    return Fail(s.error());
  return TestCertificates(dir);
}

}  // namespace cordon::testing
