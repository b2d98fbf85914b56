// OktaWire: what a test needs to speak to the Okta emulator over real HTTPS,
// written from Okta's wire format alone (libcurl and OpenSSL, nothing of
// Cordon's connectors): requests with every response header kept, and RS256
// client assertions for private_key_jwt.
//
// Thread-safety: Call() may run on several threads at once; a KeyPair is
// immutable after construction.
#pragma once

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace cordon::testing {

struct WireResponse {
  long status = 0;      // 0: no HTTP answer (see curl_error)
  std::string curl_error;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;

  [[nodiscard]] nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
  [[nodiscard]] std::string Header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  [[nodiscard]] std::vector<std::string> Headers(const std::string& name) const {
    std::vector<std::string> out;
    for (auto [it, end] = headers.equal_range(name); it != end; ++it) out.push_back(it->second);
    return out;
  }
};

struct WireRequest {
  std::string method = "GET";
  std::string url;
  std::string authorization;  // the whole header value, e.g. "SSWS abc"
  std::string body;
  std::string content_type;
  std::vector<std::string> extra_headers;  // "Name: value"
};

inline WireResponse Call(const WireRequest& req, const std::string& ca_file) {
  WireResponse out;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw std::runtime_error("curl_easy_init failed");
  curl_slist* headers = nullptr;
  if (!req.authorization.empty()) headers = curl_slist_append(headers, ("Authorization: " + req.authorization).c_str());
  if (!req.content_type.empty()) headers = curl_slist_append(headers, ("Content-Type: " + req.content_type).c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  for (const auto& h : req.extra_headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (req.method != "GET" && req.method != "DELETE") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* ud) {
    static_cast<std::string*>(ud)->append(p, s * n);
    return s * n;
  });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, +[](char* p, size_t s, size_t n, void* ud) {
    std::string line(p, s * n);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
      static_cast<WireResponse*>(ud)->headers.emplace(name, value);
    }
    return s * n;
  });
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out);
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  else
    out.curl_error = curl_easy_strerror(rc);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return out;
}

inline std::string FormEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// JOSE wants base64url without padding; OpenSSL's encoder writes the
// standard alphabet with padding, which is mapped and trimmed here.
inline std::string Base64Url(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

class KeyPair {
 public:
  // A fresh RSA-2048 key.
  KeyPair() : key_(EVP_RSA_gen(2048), EVP_PKEY_free) {
    if (!key_) throw std::runtime_error("EVP_RSA_gen failed");
  }
  // A private key from a PEM file.
  explicit KeyPair(const std::string& pem_file) : key_(nullptr, EVP_PKEY_free) {
    FILE* f = std::fopen(pem_file.c_str(), "r");
    if (f == nullptr) throw std::runtime_error("cannot open " + pem_file);
    key_.reset(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    if (!key_) throw std::runtime_error("not a private key: " + pem_file);
  }

  [[nodiscard]] std::string PublicPem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key_.get());
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(n));
    BIO_free(bio);
    return pem;
  }

  [[nodiscard]] std::string SignRs256(const std::string& input) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    std::string sig;
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1) {
      sig.resize(len);
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size());
      sig.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    return sig;
  }

  // A compact RS256 JWT of these claims.
  [[nodiscard]] std::string Jwt(const nlohmann::json& claims) const {
    const std::string signing_input =
        Base64Url(nlohmann::json{{"alg", "RS256"}, {"typ", "JWT"}}.dump()) + "." + Base64Url(claims.dump());
    return signing_input + "." + Base64Url(SignRs256(signing_input));
  }

 private:
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key_;
};

inline int64_t EpochNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Okta's rate-limit windows are fixed: they start on a multiple of their length
// and end at X-Rate-Limit-Reset. A test that must see several calls meet one
// window waits here until the current window has at least `left` still to run.
inline void AwaitWindowWithTimeLeft(std::chrono::seconds window, std::chrono::milliseconds left) {
  using namespace std::chrono;
  const auto length = duration_cast<milliseconds>(window).count();
  while (length - duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() % length <
         left.count())
    std::this_thread::sleep_for(milliseconds(20));
}

// Claims of a client assertion as Okta wants them.
inline nlohmann::json AssertionClaims(const std::string& client_id, const std::string& org_url, int64_t exp_in = 300) {
  static int counter = 0;
  return {{"iss", client_id},
          {"sub", client_id},
          {"aud", org_url + "/oauth2/v1/token"},
          {"iat", EpochNow()},
          {"exp", EpochNow() + exp_in},
          {"jti", "jti-" + std::to_string(EpochNow()) + "-" + std::to_string(++counter)}};
}

inline std::string TokenForm(const std::string& assertion, const std::string& scope) {
  std::string form = "grant_type=client_credentials&client_assertion_type=" +
                     FormEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                     "&client_assertion=" + FormEncode(assertion);
  if (!scope.empty()) form += "&scope=" + FormEncode(scope);
  return form;
}

}  // namespace cordon::testing
