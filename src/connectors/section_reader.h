// Reads the keys of one [connectors.<name>] section with the checks every
// connector's loader shares: strings bounded and non-empty, booleans and
// integers typed and in range, named files readable; every error names the
// key as `connectors.<name>.<key>`.
//
// Thread-safety: a reader is used by one loader call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "core/error.h"

namespace cordon {

// Where system_ca = true finds the operating system's CA bundle: the first
// of these that exists (Debian and Ubuntu, RHEL and Fedora, SUSE).
inline constexpr std::string_view kSystemCaBundles[] = {
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
};

class SectionReader {
 public:
  SectionReader(const toml::table& section, std::string_view key_path) : section_(section), path_(key_path) {}

  [[nodiscard]] Error Wrong(std::string_view key, std::string_view what) const {
    return Error::InvalidArgument(path_ + "." + std::string(key) + ": " + std::string(what));
  }
  [[nodiscard]] bool Has(std::string_view key) const { return section_.contains(key); }

  [[nodiscard]] Result<std::optional<std::string>> String(std::string_view key) const {
    const toml::node* node = section_.get(key);
    if (node == nullptr) return std::optional<std::string>{};
    auto value = node->value<std::string>();
    if (!node->is_string() || !value) return Fail(Wrong(key, "must be a string"));
    if (value->empty()) return Fail(Wrong(key, "must not be empty"));
    if (value->size() > kMaxStringBytes) return Fail(Wrong(key, "is too long"));
    return std::optional<std::string>(std::move(*value));
  }
  [[nodiscard]] Result<std::string> RequiredString(std::string_view key, std::string_view why = "") const {
    auto value = String(key);
    if (!value) return Fail(value.error());
    if (!*value) return Fail(Wrong(key, why.empty() ? "is required" : why));
    return std::move(**value);
  }
  [[nodiscard]] Result<bool> Bool(std::string_view key, bool fallback) const {
    const toml::node* node = section_.get(key);
    if (node == nullptr) return fallback;
    if (!node->is_boolean()) return Fail(Wrong(key, "must be true or false"));
    return *node->value<bool>();
  }
  [[nodiscard]] Result<int> Int(std::string_view key, int fallback, int min, int max) const {
    const toml::node* node = section_.get(key);
    if (node == nullptr) return fallback;
    if (!node->is_integer()) return Fail(Wrong(key, "must be an integer"));
    int64_t v = *node->value<int64_t>();
    if (v < min || v > max)
      return Fail(Wrong(key, "must be between " + std::to_string(min) + " and " + std::to_string(max)));
    return static_cast<int>(v);
  }
  [[nodiscard]] Status Readable(std::string_view key, const std::string& path) const {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(Wrong(key, "cannot read file " + path));
    return {};
  }

 private:
  static constexpr std::size_t kMaxStringBytes = 4096;
  const toml::table& section_;
  std::string path_;
};

}  // namespace cordon
