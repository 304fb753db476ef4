// String formats of JSON Schema as grammar expressions for the characters between the quotes.
//
//   date       YYYY-MM-DD with real month lengths; February 29 only in leap years
//   time       HH:MM:SS, optional fraction (1-9 digits), then Z or +HH:MM / -HH:MM
//              (RFC 3339 full-time; hours 00-23, no leap second)
//   date-time  date "T" time
//   uuid       8-4-4-4-12 hexadecimal digits (either case)
//   email      local@domain: local is dot-separated runs of [A-Za-z0-9_%+-], domain is
//              dot-separated labels of letters, digits and inner hyphens, ending in a label of
//              2 or more letters ("simple": no quoted local parts or address literals)
#pragma once

#include <string_view>

#include "engine/grammar/grammar.h"

namespace inferd::engine {

// The expression for `format`, or -1 when the format is not one of the above. Adds helper rules
// (named "format-...") to `g` on first use.
ExprId json_string_format(Grammar& g, std::string_view format);

}  // namespace inferd::engine
