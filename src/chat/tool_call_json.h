// JSON pieces of tool-call syntax: an incremental syntax check that finds where a JSON object or
// array written by a model ends (or that it cannot be JSON) while the text is still arriving,
// and the conversion of a parsed call object into a tool call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace inferd::chat {

// The outcome of reading a piece of syntax from text that may still grow.
//   kNeedMore: the text so far is a proper prefix of a match (never returned for final text)
//   kMatched:  a match; more text cannot change it
//   kFailed:   no match; more text cannot change that
enum class ParseStep : uint8_t { kNeedMore, kMatched, kFailed };

// Deepest nesting accepted in tool-call JSON; deeper text is not a call.
inline constexpr size_t kMaxToolJsonDepth = 64;

struct JsonSpan {
  ParseStep step = ParseStep::kNeedMore;
  size_t end = 0;  // kMatched: one past the closing bracket
};

// Checks the JSON object or array that starts at text[pos] ('{' or '['; anything else fails)
// against RFC 8259 syntax, byte by byte: kFailed at the first byte no JSON text can continue
// with, kMatched when the outermost bracket closes, kNeedMore when the text ends before that.
// Nesting deeper than kMaxToolJsonDepth fails. Bytes inside strings are not UTF-8 checked.
JsonSpan scan_json_container(std::string_view text, size_t pos);

// Parses a JSON text that scan_json_container() matched; nullopt when it is not valid JSON
// after all (ill-formed UTF-8, lone surrogate escapes, numbers out of range).
std::optional<nlohmann::ordered_json> parse_json_text(std::string_view text);

// A call as written by the model. `arguments` is a compact JSON object text; `id` is empty when
// the model gave none.
struct RawToolCall {
  std::string name;
  std::string arguments;
  std::string id;
};

// Which keys of a call object hold what, per format. Empty keys are unused.
struct CallObjectKeys {
  std::string_view name;
  std::string_view arguments;
  std::string_view arguments_alt;
  std::string_view id;
  // A bare JSON message is a call only when it has an arguments key; inside call tags an
  // absent one means no arguments.
  bool require_arguments = false;
};

// Reads a call object: `name` must be a non-empty string. Arguments: an object (serialised
// compactly, keys in the model's order); a string holding a JSON object (as the object); absent
// (unless required) or null ({}); anything else rejects the call. The id is taken when it is a
// non-empty string.
std::optional<RawToolCall> call_from_object(const nlohmann::ordered_json& object,
                                            const CallObjectKeys& keys);

// Compact serialisation used for every arguments text.
std::string compact_json(const nlohmann::ordered_json& value);

}  // namespace inferd::chat
