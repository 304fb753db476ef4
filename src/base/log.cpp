#include "base/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

namespace inferd {

void init_logging(const char* level) {
  auto logger = spdlog::stderr_color_mt("inferd");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  const char* env = std::getenv("INFERD_LOG_LEVEL");
  spdlog::set_level(spdlog::level::from_str(level ? level : env ? env : "info"));
}

}  // namespace inferd
