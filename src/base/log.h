// Logging: spdlog to stderr (stdout stays free for program output such as `inferd run`), as
// text lines or as one JSON object per line.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace inferd {

enum class LogFormat { kText, kJson };

// Where log lines also go besides stderr: a file rotated by size (path, path.1, ... path.N).
struct LogFileOptions {
  std::string path;  // empty: stderr only
  size_t max_bytes = 64u << 20;
  size_t max_files = 5;  // rotated files kept
};

// Sets up the process-wide logger; level is "trace".."off" (default "info"). Text lines look like
// "2025-01-02T03:04:05.678 info message"; JSON lines like
// {"time":"2025-01-02T03:04:05.678Z","level":"info","msg":"message"} plus the fields of
// log_event(). Call again to change the format (a log file is added once). Returns false, with
// the reason in *error, when the log file cannot be opened (stderr logging is set up anyway).
bool init_logging(const char* level = nullptr, LogFormat format = LogFormat::kText, const LogFileOptions& file = {},
                  std::string* error = nullptr);
LogFormat log_format();
// "text" or "json"; false for anything else.
bool parse_log_format(std::string_view name, LogFormat* out);

// One field of a structured event. `number`: the value is a JSON number written as is (the
// caller formats it); otherwise a string.
struct LogField {
  std::string_view key;
  std::string value;
  bool number = false;
};

// Logs `message` with fields: in text format "message key=value ..." (values with spaces or
// quotes are quoted), in JSON format as top-level members of the line's object.
void log_event(spdlog::level::level_enum level, std::string_view message, std::initializer_list<LogField> fields);

// `s` as a JSON string literal, quotes included (control characters and invalid UTF-8 bytes
// escaped as \u00XX).
std::string json_quote(std::string_view s);

}  // namespace inferd
