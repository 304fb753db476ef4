// Logging: spdlog to stderr (stdout stays free for program output such as `inferd run`).
#pragma once

#include <spdlog/spdlog.h>

namespace inferd {

// Sets up the process-wide logger once; level is "trace".."off" (default "info").
void init_logging(const char* level = nullptr);

}  // namespace inferd
