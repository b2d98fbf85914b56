#include "connectors/http/jwt.h"

#include <array>
#include <cstdint>
#include <memory>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

namespace cordon::http {

std::string Base64Url(std::string_view bytes) {
  if (bytes.empty()) return {};
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string b64(text);
  for (char& c : b64) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
    else if (c == '+' || c == '/') return std::nullopt;
  }
  const std::size_t pad = (4 - b64.size() % 4) % 4;
  b64.append(pad, '=');
  if (b64.empty()) return std::string();
  std::string out(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);  // EVP_DecodeBlock counts the padding as zero bytes
  return out;
}

Result<std::string> RandomJwtId() {
  std::array<unsigned char, 16> jti{};
  if (RAND_bytes(jti.data(), static_cast<int>(jti.size())) != 1)
    return Fail(Error::Internal("no random bytes for the assertion's jti"));
  return Base64Url(std::string_view(reinterpret_cast<const char*>(jti.data()), jti.size()));
}

Result<Secret> SignRs256Jwt(nlohmann::json header, const nlohmann::json& claims, const Secret& private_key_pem) {
  const std::string& pem = private_key_pem.Reveal();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return Fail(Error::Internal("the private key cannot be read (out of memory)"));
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>("")), &EVP_PKEY_free);
  if (!key) return Fail(Error::InvalidArgument("the private key is not a PEM private key (or it is encrypted)"));
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA)
    return Fail(Error::InvalidArgument("the private key is not an RSA key (RS256 needs one)"));
  header["alg"] = "RS256";
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

std::optional<nlohmann::json> UnverifiedJwtPayload(std::string_view jwt) {
  if (jwt.size() > 64 * 1024) return std::nullopt;
  const std::size_t first = jwt.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const std::size_t second = jwt.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  auto payload = Base64UrlDecode(jwt.substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  auto doc = nlohmann::json::parse(*payload, nullptr, false);
  if (!doc.is_object()) return std::nullopt;
  return doc;
}

}  // namespace cordon::http
