#include "connectors/entra/entra_token.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "connectors/entra/graph_words.h"
#include "connectors/http/http_client.h"
#include "connectors/http/jwt.h"

namespace cordon::entra {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr ReadCertificate(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return X509Ptr(nullptr, &X509_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
}

Result<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::Unavailable(std::string(what) + " (file " + path + "): cannot be read"));
  std::ostringstream all;
  all << in.rdbuf();
  if (all.str().size() > 1024 * 1024) return Fail(Error::Unavailable(std::string(what) + " (file " + path + "): too large"));
  return all.str();
}

std::string Form(CURL* curl, std::string_view name, std::string_view value) {
  return std::string(name) + "=" + http::Escape(curl, value);
}

}  // namespace

Result<std::string> CertificateThumbprint(std::string_view certificate_pem) {
  X509Ptr cert = ReadCertificate(certificate_pem);
  if (!cert) return Fail(Error::InvalidArgument("the certificate is not a PEM certificate"));
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (X509_digest(cert.get(), EVP_sha1(), digest.data(), &length) != 1)
    return Fail(Error::Internal("the certificate's thumbprint cannot be computed"));
  return http::Base64Url(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

Result<Secret> MakeCertificateAssertion(std::string_view client_id, std::string_view audience,
                                        std::string_view certificate_pem, const Secret& private_key_pem,
                                        TimePoint now) {
  auto x5t = CertificateThumbprint(certificate_pem);
  if (!x5t) return Fail(x5t.error());
  auto jti = http::RandomJwtId();
  if (!jti) return Fail(jti.error());
  const int64_t nbf = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const nlohmann::json header = {{"typ", "JWT"}, {"x5t", *x5t}};
  const nlohmann::json claims = {
      {"aud", audience},
      {"iss", client_id},
      {"sub", client_id},
      {"jti", *jti},
      {"nbf", nbf},
      {"exp", nbf + std::chrono::duration_cast<std::chrono::seconds>(kAssertionLifetime).count()},
  };
  return http::SignRs256Jwt(header, claims, private_key_pem);
}

Millis RenewEarly(Millis lifetime) { return std::min(Millis(5 * 60 * 1000), lifetime / 10); }

Result<CredentialCache::Credential> FetchEntraToken(const EntraConfig& config) {
  if (!http::CurlReady()) return Fail(Error::Internal("libcurl cannot start").BlameProvider());
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return Fail(Error::Internal("libcurl cannot start").BlameProvider());
  const TimePoint now = Now();
  const std::string endpoint = config.token_url();
  std::string body = Form(curl.get(), "client_id", config.client_id) + "&" +
                     Form(curl.get(), "scope", config.scope()) + "&grant_type=client_credentials&";
  if (config.uses_certificate()) {
    auto cert = ReadFile(config.certificate_file, "certificate");
    if (!cert) return Fail(std::move(cert.error()).BlameProvider());
    auto key = ReadFile(config.private_key_file, "private key");
    if (!key) return Fail(std::move(key.error()).BlameProvider());
    auto assertion = MakeCertificateAssertion(config.client_id, endpoint, *cert, Secret(std::move(*key)), now);
    if (!assertion) {
      Error e = assertion.error();
      e.message = "certificate " + config.certificate_file + " / private key " + config.private_key_file + ": " +
                  e.message;
      return Fail(std::move(e).BlameProvider());
    }
    body += "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&" +
            Form(curl.get(), "client_assertion", assertion->Reveal());
  } else {
    auto secret = LoadSecret(SecretRef{config.client_secret_file, ""});
    if (!secret) {
      Error e = secret.error();
      e.message = "client secret (file " + config.client_secret_file + "): " + e.message;
      e.retryable = true;
      return Fail(std::move(e).BlameProvider());
    }
    body += Form(curl.get(), "client_secret", secret->Reveal());
  }
  http::HttpRequest request{"POST", endpoint,
                            {"Accept: application/json", "Content-Type: application/x-www-form-urlencoded"},
                            std::move(body)};
  auto answer = http::Perform(curl.get(), http::HttpOptions{config.ca_file, false, Millis(config.timeout_ms)}, request);
  // The form held the secret or the assertion: wipe it before anything else.
  std::fill(request.body.begin(), request.body.end(), '\0');
  if (!answer) return Fail(answer.error());
  const std::string code = "http:" + std::to_string(answer->status);
  const std::string words = TokenEndpointWords(answer->body);
  if (answer->status == 429) {
    Error e = Error::ResourceExhausted("the token endpoint throttles").WithProvider(code, words);
    if (auto wait = ParseRetryAfter(answer->Last("retry-after"))) e.retry_after = *wait;
    return Fail(std::move(e).BlameProvider());
  }
  if (answer->status >= 500)
    return Fail(Error::Unavailable("the token endpoint is unavailable").WithProvider(code, words).BlameProvider());
  if (answer->status != 200)
    return Fail(Error::Unauthenticated("the token endpoint refused app " + config.client_id + " of tenant " +
                                       config.tenant + (config.uses_certificate() ? " (certificate)" : " (client secret)"))
                    .WithProvider(code, words)
                    .BlameProvider());
  const auto doc = nlohmann::json::parse(answer->body, nullptr, false);
  const std::string token = doc.is_object() && doc.contains("access_token") && doc["access_token"].is_string()
                                ? doc["access_token"].get<std::string>()
                                : std::string();
  if (token.empty())
    return Fail(Error::Unavailable("the token endpoint answered without an access token")
                    .WithProvider(code, "")
                    .BlameProvider());
  int64_t expires_in = 3600;
  if (doc.contains("expires_in")) {
    // An integer from the v2.0 endpoint; older endpoints send a string.
    if (doc["expires_in"].is_number_integer()) expires_in = doc["expires_in"].get<int64_t>();
    if (doc["expires_in"].is_string()) expires_in = std::atoll(doc["expires_in"].get<std::string>().c_str());
  }
  const Millis lifetime(std::clamp<int64_t>(expires_in, 1, 24 * 3600) * 1000);
  return CredentialCache::Credential{Secret("Bearer " + token), now + lifetime - RenewEarly(lifetime)};
}

}  // namespace cordon::entra
