#include "base/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <atomic>
#include <cstdlib>

#include <fmt/chrono.h>

namespace inferd {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

// A structured event's payload starts with this byte and holds its fields as JSON members
// (",\"k\":v..."), which the JSON formatter splices into the line's object.
constexpr char kFieldsMarker = '\x1e';

// Bytes of a valid UTF-8 sequence starting at s[i], or 0.
size_t utf8_length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    const size_t n = utf8_length(s, i);
    if (n == 0) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
    ++i;
  }
  out += '"';
}

class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"time\":";
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()) % 1000;
    append_json_string(line, fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(msg.time)),
                                         static_cast<int>(ms.count())));
    line += ",\"level\":";
    const auto level = spdlog::level::to_string_view(msg.level);
    append_json_string(line, std::string_view(level.data(), level.size()));
    std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string_view fields;
    if (!payload.empty() && payload.front() == kFieldsMarker) {
      const size_t end = payload.find(kFieldsMarker, 1);
      fields = payload.substr(end + 1);
      payload = payload.substr(1, end - 1);
    }
    line += ",\"msg\":";
    append_json_string(line, payload);
    line += fields;
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

}  // namespace

std::string json_quote(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

bool parse_log_format(std::string_view name, LogFormat* out) {
  if (name == "text") *out = LogFormat::kText;
  else if (name == "json") *out = LogFormat::kJson;
  else return false;
  return true;
}

LogFormat log_format() { return g_format.load(std::memory_order_relaxed); }

bool init_logging(const char* level, LogFormat format, const LogFileOptions& file, std::string* error) {
  auto logger = spdlog::get("inferd");
  if (!logger) logger = spdlog::stderr_color_mt("inferd");
  bool ok = true;
  static bool file_added = false;
  if (!file.path.empty() && !file_added) {
    try {
      logger->sinks().push_back(
          std::make_shared<spdlog::sinks::rotating_file_sink_mt>(file.path, file.max_bytes, file.max_files));
      file_added = true;
    } catch (const spdlog::spdlog_ex& e) {
      ok = false;
      if (error) *error = e.what();
    }
  }
  if (format == LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  g_format.store(format, std::memory_order_relaxed);
  spdlog::set_default_logger(logger);
  const char* env = std::getenv("INFERD_LOG_LEVEL");
  spdlog::set_level(spdlog::level::from_str(level ? level : env ? env : "info"));
  return ok;
}

void log_event(spdlog::level::level_enum level, std::string_view message, std::initializer_list<LogField> fields) {
  if (!spdlog::should_log(level)) return;
  std::string payload;
  if (log_format() == LogFormat::kJson) {
    payload += kFieldsMarker;
    // The message may not contain the marker itself.
    for (char c : message) payload += c == kFieldsMarker ? ' ' : c;
    payload += kFieldsMarker;
    for (const LogField& f : fields) {
      payload += ',';
      append_json_string(payload, f.key);
      payload += ':';
      if (f.number) {
        payload += f.value;
      } else {
        append_json_string(payload, f.value);
      }
    }
  } else {
    payload = message;
    for (const LogField& f : fields) {
      payload += ' ';
      payload += f.key;
      payload += '=';
      if (needs_quotes(f.value) && !f.number) {
        append_json_string(payload, f.value);
      } else {
        payload += f.value;
      }
    }
  }
  spdlog::log(level, "{}", payload);
}

}  // namespace inferd
