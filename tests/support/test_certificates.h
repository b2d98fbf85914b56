// TestCertificates: a throwaway CA and a server certificate it signed for
// 127.0.0.1 and localhost, made with the openssl command line in a folder the
// caller owns, for a test server that speaks TLS (and clients that verify it).
//
// Thread-safety: a plain value once made.
#pragma once

#include <filesystem>
#include <string>

#include "core/error.h"

namespace cordon::testing {

class TestCertificates {
 public:
  // Writes ca.pem, server.pem and server.key (and their by-products) into `dir`.
  [[nodiscard]] static Result<TestCertificates> Make(const std::filesystem::path& dir);

  [[nodiscard]] std::string ca() const { return (dir_ / "ca.pem").string(); }
  [[nodiscard]] std::string cert() const { return (dir_ / "server.pem").string(); }
  [[nodiscard]] std::string key() const { return (dir_ / "server.key").string(); }

 private:
  explicit TestCertificates(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

}  // namespace cordon::testing
