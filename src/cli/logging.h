// Process-wide logging set-up for `cordon serve` (spdlog, JSON lines by default).
#pragma once

#include "config/config.h"
#include "core/error.h"

namespace cordon::cli {

// Installs the default spdlog logger per [log]. JSON lines carry time, level
// and the message, JSON-escaped.
[[nodiscard]] Status SetUpLogging(const LogConfig& config);

}  // namespace cordon::cli
