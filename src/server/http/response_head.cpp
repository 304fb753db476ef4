#include "server/http/response_head.h"

#include <ctime>

#include <fmt/format.h>

namespace inferd::server {
namespace {

struct Reason {
  int status;
  std::string_view phrase;
};

constexpr Reason kReasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {422, "Unprocessable Content"},
    {424, "Failed Dependency"},
    {425, "Too Early"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {499, "Client Closed Request"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {507, "Insufficient Storage"},
};

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

}  // namespace

std::string_view reason_phrase(int status) {
  for (const Reason& r : kReasons) {
    if (r.status == status) return r.phrase;
  }
  return "Unknown";
}

std::string format_http_date(std::chrono::system_clock::time_point time) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} GMT", kDays[tm.tm_wday % 7],
                     tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
}

std::string format_response_head(const ResponseHead& head) {
  std::string out;
  out.reserve(384);
  out += fmt::format("HTTP/1.1 {} {}\r\n", head.status, reason_phrase(head.status));
  append_field(out, "Date", format_http_date(std::chrono::system_clock::now()));
  append_field(out, "Server", "inferd");
  if (!head.request_id.empty()) append_field(out, "X-Request-Id", head.request_id);
  if (!head.traceparent.empty()) append_field(out, "traceparent", head.traceparent);
  if (!head.content_type.empty()) append_field(out, "Content-Type", head.content_type);
  out += head.security_fields;
  out += head.cors_fields;
  if (head.headers != nullptr) {
    for (const auto& [name, value] : *head.headers) append_field(out, name, value);
  }
  if (head.caller_headers != nullptr) {
    for (const auto& [name, value] : *head.caller_headers) append_field(out, name, value);
  }
  const bool no_body = head.status == 204 || head.status == 304 || head.status < 200;
  switch (head.framing) {
    case BodyFraming::kContentLength:
      if (!no_body) append_field(out, "Content-Length", std::to_string(head.content_length));
      break;
    case BodyFraming::kChunked: append_field(out, "Transfer-Encoding", "chunked"); break;
    case BodyFraming::kUntilClose: break;
  }
  const bool keep_alive = head.keep_alive && head.framing != BodyFraming::kUntilClose;
  if (!keep_alive) {
    append_field(out, "Connection", "close");
  } else if (head.http10) {
    append_field(out, "Connection", "keep-alive");
  }
  out += "\r\n";
  return out;
}

void append_chunk(std::string& out, std::string_view data) {
  out += fmt::format("{:x}\r\n", data.size());
  out += data;
  out += "\r\n";
}

}  // namespace inferd::server
