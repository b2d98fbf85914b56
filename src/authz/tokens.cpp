#include "authz/tokens.h"

#include <array>
#include <cstdint>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/limits.h"

namespace cordon {
namespace {

constexpr size_t kTokenRandomBytes = 32;
// A token's name is the actor of what it requests.
constexpr size_t kMaxTokenNameBytes = kMaxActorBytes;

std::string Base64Url(const unsigned char* data, size_t size) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const size_t rest = size - i;
  if (rest == 1) {
    const uint32_t v = uint32_t{data[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

}  // namespace

Result<Secret> GenerateToken() {
  std::array<unsigned char, kTokenRandomBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    return Fail(Error::Internal("the system random generator failed"));
  Secret token(std::string(kTokenPrefix) + Base64Url(bytes.data(), bytes.size()));
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return token;
}

std::string TokenDigest(std::string_view token) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  // Lookup is by digest, not by comparing the presented token with a stored
  // one, so there is no secret-dependent early exit for a timing attack to
  // measure: the attacker only learns how long SHA-256 and an index probe
  // take on a value they chose. Hence no constant-time comparison here.
  if (EVP_Digest(token.data(), token.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) return {};
  return Hex(digest.data(), size);
}

Result<Millis> ParseTokenLifetime(std::string_view text) {
  constexpr int64_t kMaxMinutes = int64_t{3650} * 24 * 60;
  const auto bad = [&] {
    return Fail(Error::InvalidArgument(
        "a lifetime is a whole number of days, hours or minutes, such as 90d, 12h or 30m, of at most 3650d"));
  };
  if (text.size() < 2 || text.size() > 12) return bad();
  const char unit = text.back();
  const std::string_view digits = text.substr(0, text.size() - 1);
  if (digits.find_first_not_of("0123456789") != std::string_view::npos) return bad();
  int64_t value = 0;
  for (const char c : digits) value = value * 10 + (c - '0');
  int64_t minutes = 0;
  switch (unit) {
    case 'd': minutes = value * 24 * 60; break;
    case 'h': minutes = value * 60; break;
    case 'm': minutes = value; break;
    default: return bad();
  }
  if (value <= 0 || minutes > kMaxMinutes) return bad();
  return Millis(minutes * 60 * 1000);
}

Result<IssuedToken> IssueToken(Store& store, std::string_view name, Role role, std::optional<TimePoint> expires_at) {
  if (name.empty() || name.size() > kMaxTokenNameBytes)
    return Fail(Error::InvalidArgument("a token name must be 1 to 128 characters"));
  for (const char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return Fail(Error::InvalidArgument("a token name must not contain control characters"));
  }
  auto token = GenerateToken();
  if (!token) return Fail(std::move(token.error()));

  std::array<unsigned char, 8> id_bytes{};
  if (RAND_bytes(id_bytes.data(), static_cast<int>(id_bytes.size())) != 1)
    return Fail(Error::Internal("the system random generator failed"));

  IssuedToken issued;
  issued.record.id = "tok_" + Hex(id_bytes.data(), id_bytes.size());
  issued.record.name = std::string(name);
  issued.record.role = std::string(ToString(role));
  issued.record.sha256_hex = TokenDigest(token->Reveal());
  issued.record.created_at = Now();
  if (expires_at) {
    if (*expires_at <= issued.record.created_at) return Fail(Error::InvalidArgument("the expiry must be in the future"));
    issued.record.expires_at = *expires_at;
  }
  if (issued.record.sha256_hex.empty()) return Fail(Error::Internal("cannot digest the new token"));
  if (auto st = store.CreateToken(issued.record); !st) return Fail(std::move(st.error()));
  issued.token = std::move(*token);
  return issued;
}

}  // namespace cordon
