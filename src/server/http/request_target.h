// RequestTarget: the request-target of an HTTP request, split and decoded for routing.
//
// Accepted forms: origin-form ("/path?query") and absolute-form ("http://host/path?query",
// RFC 9112 section 3.2.2; the authority is dropped). Rejected (the caller answers 400): an empty
// target, bytes outside visible ASCII, a fragment, a path not starting with '/', malformed
// percent escapes, and path traversal: a segment that is, or after decoding contains a
// '/'- or '\'-separated component that is, "." or "..". Decoded segments may not contain control
// bytes. Empty segments are dropped, so "//v1//models/" routes like "/v1/models".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/http/param_list.h"

namespace inferd::server {

struct RequestTarget {
  std::string path;                   // raw path as received, without the query
  std::vector<std::string> segments;  // percent-decoded, non-empty
  ParamList query;                    // percent-decoded, '+' as space, in order
};

Result<RequestTarget> parse_request_target(std::string_view target);

// Decodes %XX escapes (and '+' as a space when plus_is_space). Malformed escapes are errors.
Result<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace inferd::server
