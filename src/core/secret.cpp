#include "core/secret.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <openssl/crypto.h>

namespace cordon {

Secret::~Secret() {
  if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
}

std::string SecretRef::Describe() const {
  if (!file.empty()) return "file " + file;
  if (!env.empty()) return "environment variable " + env;
  return "(none)";
}

Result<Secret> LoadSecret(const SecretRef& ref) {
  if (!ref.file.empty() && !ref.env.empty())
    return Fail(Error::InvalidArgument("a secret is given both as a file and an environment variable"));
  if (!ref.env.empty()) {
    const char* v = std::getenv(ref.env.c_str());
    if (v == nullptr || *v == '\0')
      return Fail(Error::InvalidArgument("environment variable " + ref.env + " is not set or empty"));
    return Secret(v);
  }
  if (!ref.file.empty()) {
    std::ifstream in(ref.file, std::ios::binary);
    if (!in) return Fail(Error::InvalidArgument("cannot read secret file " + ref.file));
    std::string value;
    std::getline(in, value);
    if (!value.empty() && value.back() == '\r') value.pop_back();
    if (value.empty()) return Fail(Error::InvalidArgument("secret file " + ref.file + " is empty"));
    return Secret(std::move(value));
  }
  return Fail(Error::InvalidArgument("no secret reference given"));
}

}  // namespace cordon
