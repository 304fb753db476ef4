// Server-Sent Events framing (WHATWG HTML, "server-sent events"), as OpenAI streams use it:
//   data: {"id":"chatcmpl-1",...}\n\n      one event per JSON object
//   data: [DONE]\n\n                         end of the stream
//   event: error\ndata: {"error":{...}}\n\n  an error after the stream has started
// Data holding line breaks becomes several "data:" lines, which a client joins with '\n'.
#pragma once

#include <string>
#include <string_view>

#include "server/http/error_response.h"
#include "server/http/header_map.h"

namespace inferd::server {

inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

// "data: <data>\n\n"
std::string sse_data(std::string_view data);
// "event: <event>\ndata: <data>\n\n"; line breaks in `event` become spaces.
std::string sse_event(std::string_view event, std::string_view data);
// "event: error\ndata: <error_json(error)>\n\n"
std::string sse_error(const ApiError& error);
// ": <text>\n\n", a comment clients ignore (keeps idle streams alive through proxies).
std::string sse_comment(std::string_view text);
// Content-Type: text/event-stream, Cache-Control: no-cache, X-Accel-Buffering: no.
HeaderList sse_headers();

}  // namespace inferd::server
