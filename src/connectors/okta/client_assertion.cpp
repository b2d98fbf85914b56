#include "connectors/okta/client_assertion.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "connectors/http/jwt.h"

namespace cordon::okta {

Result<Secret> MakeClientAssertion(std::string_view client_id, std::string_view audience,
                                   const Secret& private_key_pem, TimePoint now) {
  auto jti = http::RandomJwtId();
  if (!jti) return Fail(jti.error());
  const int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const nlohmann::json header = {{"typ", "JWT"}};
  const nlohmann::json claims = {
      {"iss", client_id},
      {"sub", client_id},
      {"aud", audience},
      {"iat", iat},
      {"exp", iat + std::chrono::duration_cast<std::chrono::seconds>(kAssertionLifetime).count()},
      {"jti", *jti},
  };
  return http::SignRs256Jwt(header, claims, private_key_pem);
}

}  // namespace cordon::okta
