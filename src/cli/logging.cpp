#include "cli/logging.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace cordon::cli {
namespace {

// %j: the message as a JSON string (quotes included). spdlog has no JSON
// escaping of its own; nlohmann's dump does it correctly for any UTF-8.
class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string escaped =
        nlohmann::json(std::string(msg.payload.data(), msg.payload.size())).dump(-1, ' ', false,
                                                                               nlohmann::json::error_handler_t::replace);
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

}  // namespace

Status SetUpLogging(const LogConfig& config) {
  std::shared_ptr<spdlog::logger> logger;
  if (!config.file.empty()) {
    // The log names accounts, analysts and what was done to whom: owner-only
    // from its first byte (spdlog would create it with the process umask).
    const int fd = ::open(config.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return Fail(Error::InvalidArgument("log.file: cannot open " + config.file + ": " + std::strerror(errno)));
    ::close(fd);
  }
  try {
    if (config.file.empty()) {
      logger = std::make_shared<spdlog::logger>("cordon", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    } else {
      logger = std::make_shared<spdlog::logger>(
          "cordon", std::make_shared<spdlog::sinks::basic_file_sink_mt>(config.file, /*truncate=*/false));
    }
  } catch (const spdlog::spdlog_ex& e) {
    return Fail(Error::InvalidArgument(std::string("log.file: ") + e.what()));
  }
  if (config.format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessageFlag>('j').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,"msg":%j})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(config.level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return {};
}

}  // namespace cordon::cli
