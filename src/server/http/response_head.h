// ResponseHead: the status line and header block the transport writes, and the chunk framing of
// streamed bodies (RFC 9112 sections 4, 6 and 7.1).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/http/header_map.h"

namespace inferd::server {

enum class BodyFraming : uint8_t {
  kContentLength,  // Content-Length: content_length (omitted for 204 and 304)
  kChunked,        // Transfer-Encoding: chunked
  kUntilClose,     // the body ends when the connection closes (HTTP/1.0 streams)
};

struct ResponseHead {
  int status = 200;
  std::string_view content_type;        // empty: no Content-Type
  const HeaderList* headers = nullptr;  // extra fields, already validated
  const HeaderList* caller_headers = nullptr;  // fields of the request's caller (Caller::response_headers)
  std::string_view request_id;          // X-Request-Id; empty: none
  std::string_view traceparent;         // traceparent; empty: none
  // Preformatted "Name: value\r\n" lines the transport adds to every response (security
  // fields) and to those of an allowed CORS origin; empty: none.
  std::string_view security_fields;
  std::string_view cors_fields;
  BodyFraming framing = BodyFraming::kContentLength;
  uint64_t content_length = 0;
  bool keep_alive = true;  // false: "Connection: close"
  bool http10 = false;     // the request was HTTP/1.0: keep-alive must be explicit
};

// "HTTP/1.1 <status> <reason>\r\n" + Date, Server, fields + "\r\n".
std::string format_response_head(const ResponseHead& head);

// The standard reason phrase, or "Unknown".
std::string_view reason_phrase(int status);

// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::chrono::system_clock::time_point time);

// Appends one chunk "<hex size>\r\n<data>\r\n"; `data` must not be empty.
void append_chunk(std::string& out, std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace inferd::server
