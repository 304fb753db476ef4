#include "server/http/sse.h"

namespace inferd::server {
namespace {

// Appends "<field>: <line>\n" for every line of `value` (split at CRLF, CR or LF).
void append_field_lines(std::string& out, std::string_view field, std::string_view value) {
  size_t start = 0;
  while (true) {
    const size_t end = value.find_first_of("\r\n", start);
    out += field;
    out += ": ";
    out +=
        value.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out += '\n';
    if (end == std::string_view::npos) break;
    start = end + 1;
    if (value[end] == '\r' && start < value.size() && value[start] == '\n') ++start;
  }
}

}  // namespace

std::string sse_data(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 8);
  append_field_lines(out, "data", data);
  out += '\n';
  return out;
}

std::string sse_event(std::string_view event, std::string_view data) {
  std::string name(event);
  for (char& c : name) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  std::string out;
  out.reserve(name.size() + data.size() + 16);
  out += "event: ";
  out += name;
  out += '\n';
  append_field_lines(out, "data", data);
  out += '\n';
  return out;
}

std::string sse_error(const ApiError& error) {
  return sse_event("error", error_json(error));
}

std::string sse_comment(std::string_view text) {
  std::string out;
  append_field_lines(out, "", text);
  out += '\n';
  return out;
}

HeaderList sse_headers() {
  return {{"Content-Type", "text/event-stream"},
          {"Cache-Control", "no-cache"},
          {"X-Accel-Buffering", "no"}};
}

}  // namespace inferd::server
