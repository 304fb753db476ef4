// OutputParser: turns a model's generated text, as it streams in, into OpenAI's assistant message
// parts: content, reasoning_content and tool_calls, in the syntax of an OutputFormat
// (tool_call_format.h).
//
// One parser per generation. push() takes each text delta and returns the events that are now
// certain; finish() ends the text and returns the rest. Text that may still turn out to be part
// of a marker (a tool-call tag, the reasoning close tag) or of a call is held back until that is
// decided, so no marker text is ever emitted as content. A call is emitted whole once its text is
// complete and valid: a kToolCallStart event (index, id, name) followed by one
// kToolCallArguments event holding its full arguments (a compact JSON object text). Malformed
// call text (an unterminated tag, invalid JSON, a call object without a name) is emitted as
// content, exactly as written. The non-streaming result is the fold of the same events
// (parse_output()), and it does not depend on how the text was split into deltas.
//
// Whitespace: the reasoning text is trimmed; whitespace between content and a marker (reasoning
// close tag, tool-call section) is dropped; other content is passed through unchanged. Bytes that
// are not well-formed UTF-8 become U+FFFD, so every event's text is valid UTF-8.
//
// The markers are special tokens in most vocabularies (<|python_tag|>, [TOOL_CALLS],
// <｜tool▁calls▁begin｜>, <|START_ACTION|>, and <tool_call>/<think> in Qwen's): the text fed in
// must be detokenized with special tokens rendered as their text, except end-of-turn tokens.
//
// Not thread-safe; one generation's deltas arrive in order on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/output_parser_utf8.h"
#include "chat/tool_call_format.h"
#include "chat/tool_call_json.h"
#include "chat/tool_call_syntax.h"

namespace inferd::chat {

// Returns the id of the call with the given 0-based index.
using ToolCallIdGenerator = std::function<std::string(size_t call_index)>;

struct OutputParserOptions {
  OutputFormat format = OutputFormat::kGeneric;
  // Parse tool calls: the request has tools and tool_choice is not "none". When false only
  // reasoning is separated and tool-call text stays content.
  bool parse_tool_calls = false;
  // Separate the reasoning block into reasoning text; when false it stays content as written.
  bool parse_reasoning = true;
  // The prompt ended inside an open reasoning block (prompt_opens_reasoning()): the output is
  // reasoning until the close tag (all of it when the close tag never comes).
  bool starts_in_reasoning = false;
  // Ids of calls the model gave none for; empty: random_tool_call_id(format).
  ToolCallIdGenerator id_generator;
};

enum class OutputEventKind : uint8_t {
  kContent,            // text: content
  kReasoning,          // text: reasoning_content
  kToolCallStart,      // tool_index, id, name
  kToolCallArguments,  // tool_index, text: a fragment of the call's arguments JSON text
};

struct OutputEvent {
  OutputEventKind kind = OutputEventKind::kContent;
  size_t tool_index = 0;
  std::string text;
  std::string id;
  std::string name;

  friend bool operator==(const OutputEvent&, const OutputEvent&) = default;
};

using OutputEvents = std::vector<OutputEvent>;

class OutputParser {
 public:
  explicit OutputParser(OutputParserOptions options);

  // Appends the events that `delta` makes certain to *events. REQUIRES: !finished().
  void push(std::string_view delta, OutputEvents* events);
  OutputEvents push(std::string_view delta);
  // Ends the text: appends all remaining events. REQUIRES: !finished().
  void finish(OutputEvents* events);
  OutputEvents finish();

  bool finished() const { return finished_; }
  // Calls emitted so far (finish_reason "tool_calls" when non-zero at the end).
  size_t num_tool_calls() const { return num_calls_; }

 private:
  enum class Phase : uint8_t { kStart, kReasoning, kContent };

  void drain(bool final, OutputEvents* events);
  bool step_start(bool final);
  bool step_reasoning(bool final, OutputEvents* events);
  bool step_content(bool final, OutputEvents* events);
  // Runs `parse` on buf_[start..]. While a section stays incomplete it is re-parsed only after
  // the text has grown (by 1 byte, or by 1/8 of the section beyond kEagerSectionBytes), which
  // keeps long calls linear; final text is always parsed.
  SectionResult attempt_section(SectionParser parse, size_t start, bool final);
  // Settles pending_ when its text allows; false while it is still incomplete.
  bool resolve_section(bool final, OutputEvents* events);
  void emit_calls(std::vector<RawToolCall>& calls, OutputEvents* events);
  void emit_content(std::string_view text, OutputEvents* events);
  void emit_reasoning(std::string_view text, OutputEvents* events);

  const FormatRow* row_;
  OutputParserOptions options_;
  Utf8Sanitizer utf8_;
  std::string buf_;  // sanitised text not yet emitted
  Phase phase_ = Phase::kStart;
  bool message_start_ = true;     // no content decided yet (bare-JSON calls are still possible)
  bool drop_content_ws_ = false;  // drop content whitespace up to the next non-whitespace
  std::string content_ws_;        // trailing content whitespace, held until text follows
  bool reasoning_started_ = false;
  std::string reasoning_ws_;  // trailing reasoning whitespace, held until text follows
  // The section buf_ holds at buf_[start] while its text is incomplete; parse is nullptr when
  // there is none. A section from a trigger starts at 0 (trigger holds its text); a bare-JSON
  // message starts after its leading whitespace (trigger empty).
  struct PendingSection {
    SectionParser parse = nullptr;
    size_t start = 0;
    std::string_view trigger;
  };
  PendingSection pending_;
  size_t next_attempt_bytes_ = 0;  // an incomplete section is re-parsed from this size on
  size_t num_calls_ = 0;
  bool finished_ = false;
};

// A call of the folded result.
struct ParsedToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON object text

  friend bool operator==(const ParsedToolCall&, const ParsedToolCall&) = default;
};

// The whole message: the fold of a generation's events.
struct ParsedOutput {
  std::string content;
  std::string reasoning;
  std::vector<ParsedToolCall> tool_calls;

  // OpenAI sends content null when the message is only tool calls.
  bool content_is_null() const { return content.empty() && !tool_calls.empty(); }
  friend bool operator==(const ParsedOutput&, const ParsedOutput&) = default;
};

// Applies events, in order, to *output.
void fold_output_events(const OutputEvents& events, ParsedOutput* output);

// Parses a whole generation: push(text) then finish(), folded.
ParsedOutput parse_output(std::string_view text, const OutputParserOptions& options);

}  // namespace inferd::chat
