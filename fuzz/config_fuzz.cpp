// libFuzzer harness for cordon.toml parsing (src/config/config.h): whatever
// the text, ParseConfig returns rather than crashes or throws; an error names
// the file it came from; and a config it accepts holds only values the
// validation promises (so nothing downstream meets a setting it never
// expected).
//
// Built and run by `make fuzz` (fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool OneOf(const std::string& v, std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed)
    if (v == a) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kSource = "fuzz.toml";
  auto config = cordon::ParseConfig(text, kSource);
  if (!config) {
    Check(config.error().code == cordon::ErrorCode::kInvalidArgument);
    Check(config.error().message.starts_with(kSource));
    return 0;
  }
  const cordon::Config& c = *config;
  Check(c.source == kSource);
  Check(c.server.plain_http || (!c.server.tls_cert_file.empty() && !c.server.tls_key_file.empty()));
  Check(c.server.max_body_bytes >= 1024 && c.server.max_body_bytes <= (64 << 20));
  Check(c.server.threads >= 1 && c.server.threads <= 64);
  Check(c.store.backend == "sqlite" && !c.store.path.empty());
  Check(OneOf(c.store.synchronous, {"full", "normal"}));
  Check(c.engine.lease_seconds >= 1 && c.engine.lease_seconds <= 3600);
  Check(c.engine.poll_interval_ms >= 10 && c.engine.poll_interval_ms <= 60000);
  Check(c.engine.max_attempts >= 1 && c.engine.max_attempts <= 100);
  Check(c.engine.backoff_initial_ms >= 1 && c.engine.backoff_initial_ms <= c.engine.backoff_max_ms);
  Check(c.engine.action_budget_seconds >= 10 && c.engine.action_budget_seconds <= 30 * 86400);
  Check(OneOf(c.log.level, {"trace", "debug", "info", "warn", "error"}));
  Check(OneOf(c.log.format, {"json", "text"}));
  return 0;
}
