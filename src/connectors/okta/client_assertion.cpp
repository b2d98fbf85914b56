#include "connectors/okta/client_assertion.h"

#include <array>
#include <memory>

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

namespace cordon::okta {

std::string Base64Url(std::string_view bytes) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

Result<Secret> MakeClientAssertion(std::string_view client_id, std::string_view audience,
                                   const Secret& private_key_pem, TimePoint now) {
  const std::string& pem = private_key_pem.Reveal();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return Fail(Error::Internal("the private key cannot be read (out of memory)"));
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>("")), &EVP_PKEY_free);
  if (!key) return Fail(Error::InvalidArgument("the private key is not a PEM private key (or it is encrypted)"));
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA)
    return Fail(Error::InvalidArgument("the private key is not an RSA key (RS256 needs one)"));

  std::array<unsigned char, 16> jti{};
  if (RAND_bytes(jti.data(), static_cast<int>(jti.size())) != 1)
    return Fail(Error::Internal("no random bytes for the assertion's jti"));
  const int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  const nlohmann::json claims = {
      {"iss", client_id},
      {"sub", client_id},
      {"aud", audience},
      {"iat", iat},
      {"exp", iat + std::chrono::duration_cast<std::chrono::seconds>(kAssertionLifetime).count()},
      {"jti", Base64Url(std::string_view(reinterpret_cast<const char*>(jti.data()), jti.size()))},
  };
  const std::string signing_input = Base64Url(header.dump()) + "." + Base64Url(claims.dump());

  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1)
    return Fail(Error::Internal("the assertion cannot be signed"));
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1)
    return Fail(Error::Internal("the assertion cannot be signed"));
  signature.resize(length);
  return Secret(signing_input + "." + Base64Url(signature));
}

}  // namespace cordon::okta
