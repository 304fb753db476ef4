#include "chat/output_parser.h"

#include <utility>

#include "base/check.h"

namespace inferd::chat {
namespace {

// Sections up to this size are re-parsed on every delta; longer ones after 1/8 growth.
constexpr size_t kEagerSectionBytes = 4096;

// Length of the longest proper prefix of `marker` that `text` ends with.
size_t partial_suffix(std::string_view text, std::string_view marker) {
  size_t k = marker.size() - 1;
  if (k > text.size()) k = text.size();
  for (; k > 0; --k) {
    if (text.compare(text.size() - k, k, marker, 0, k) == 0) return k;
  }
  return 0;
}

// Appends text to the events, merging with a preceding event of the same kind.
void append_text(OutputEvents* events, OutputEventKind kind, std::string text) {
  if (text.empty()) return;
  if (!events->empty() && events->back().kind == kind) {
    events->back().text += text;
    return;
  }
  OutputEvent event;
  event.kind = kind;
  event.text = std::move(text);
  events->push_back(std::move(event));
}

size_t leading_ws(std::string_view text) {
  size_t n = 0;
  while (n < text.size() && is_syntax_ws(text[n])) ++n;
  return n;
}

size_t body_end(std::string_view text) {
  size_t n = text.size();
  while (n > 0 && is_syntax_ws(text[n - 1])) --n;
  return n;
}

}  // namespace

OutputParser::OutputParser(OutputParserOptions options)
    : row_(&format_row(options.format)), options_(std::move(options)) {
  if (!options_.parse_reasoning) {
    phase_ = Phase::kContent;
  } else if (options_.starts_in_reasoning) {
    phase_ = Phase::kReasoning;
  }
}

void OutputParser::push(std::string_view delta, OutputEvents* events) {
  INFERD_CHECK_MSG(!finished_, "OutputParser::push after finish");
  utf8_.append(delta, &buf_);
  drain(/*final=*/false, events);
}

OutputEvents OutputParser::push(std::string_view delta) {
  OutputEvents events;
  push(delta, &events);
  return events;
}

void OutputParser::finish(OutputEvents* events) {
  INFERD_CHECK_MSG(!finished_, "OutputParser::finish called twice");
  utf8_.finish(&buf_);
  drain(/*final=*/true, events);
  // Whitespace that ended the content is part of it; reasoning is trimmed.
  append_text(events, OutputEventKind::kContent, std::move(content_ws_));
  content_ws_.clear();
  reasoning_ws_.clear();
  finished_ = true;
}

OutputEvents OutputParser::finish() {
  OutputEvents events;
  finish(&events);
  return events;
}

void OutputParser::drain(bool final, OutputEvents* events) {
  for (;;) {
    bool progress = false;
    switch (phase_) {
      case Phase::kStart: progress = step_start(final); break;
      case Phase::kReasoning: progress = step_reasoning(final, events); break;
      case Phase::kContent: progress = step_content(final, events); break;
    }
    if (!progress) return;
  }
}

// Decides whether the output opens with a reasoning block (whitespace before it dropped).
bool OutputParser::step_start(bool final) {
  const size_t p = leading_ws(buf_);
  if (p == buf_.size() && !final) return false;
  SyntaxCursor c{buf_, p, final};
  const ParseStep step = c.literal(row_->reasoning.open);
  if (step == ParseStep::kNeedMore) return false;
  if (step == ParseStep::kMatched) {
    buf_.erase(0, c.pos);
    phase_ = Phase::kReasoning;
  } else {
    phase_ = Phase::kContent;
  }
  return true;
}

bool OutputParser::step_reasoning(bool final, OutputEvents* events) {
  const std::string_view close = row_->reasoning.close;
  const size_t at = buf_.find(close);
  if (at != std::string::npos) {
    emit_reasoning(std::string_view(buf_).substr(0, at), events);
    reasoning_ws_.clear();
    buf_.erase(0, at + close.size());
    phase_ = Phase::kContent;
    drop_content_ws_ = true;
    return true;
  }
  // Without the close tag all text is reasoning, except what may be its beginning.
  const size_t keep = final ? 0 : partial_suffix(buf_, close);
  emit_reasoning(std::string_view(buf_).substr(0, buf_.size() - keep), events);
  buf_.erase(0, buf_.size() - keep);
  return false;
}

bool OutputParser::step_content(bool final, OutputEvents* events) {
  if (pending_.parse != nullptr) return resolve_section(final, events);
  const bool tools = options_.parse_tool_calls;

  // A message that is a bare JSON call (Llama 3.x, generic).
  if (message_start_) {
    if (!tools || row_->leading_json == nullptr) {
      message_start_ = false;
    } else {
      const size_t p = leading_ws(buf_);
      if (p == buf_.size() && !final) return false;
      message_start_ = false;
      if (p < buf_.size() && (buf_[p] == '{' || buf_[p] == '[')) {
        pending_ = {row_->leading_json, p, {}};
        return resolve_section(final, events);
      }
    }
  }

  // The earliest trigger, complete or (at the end of the text) begun.
  const SectionTrigger* trigger = nullptr;
  size_t trigger_at = std::string::npos;
  size_t partial_at = std::string::npos;
  for (const SectionTrigger& t : row_->triggers) {
    if (t.text.empty() || (t.parse != nullptr && !tools)) continue;
    const size_t at = buf_.find(t.text);
    if (at < trigger_at) {
      trigger_at = at;
      trigger = &t;
    }
    const size_t k = partial_suffix(buf_, t.text);
    if (k > 0 && buf_.size() - k < partial_at) partial_at = buf_.size() - k;
  }

  if (trigger != nullptr && trigger_at < partial_at) {
    emit_content(std::string_view(buf_).substr(0, trigger_at), events);
    buf_.erase(0, trigger_at);
    if (trigger->parse == nullptr) {  // a formatting marker
      buf_.erase(0, trigger->text.size());
      content_ws_.clear();
      drop_content_ws_ = true;
      return true;
    }
    pending_ = {trigger->parse, 0, trigger->text};
    return resolve_section(final, events);
  }
  if (partial_at != std::string::npos && !final) {
    emit_content(std::string_view(buf_).substr(0, partial_at), events);
    buf_.erase(0, partial_at);
    return false;
  }
  emit_content(buf_, events);
  buf_.clear();
  return false;
}

bool OutputParser::resolve_section(bool final, OutputEvents* events) {
  SectionResult r = attempt_section(pending_.parse, pending_.start, final);
  if (r.step == ParseStep::kNeedMore) return false;
  const PendingSection section = pending_;
  pending_ = {};
  if (r.step == ParseStep::kMatched) {
    // Whitespace between content and the section is dropped on both sides.
    content_ws_.clear();
    buf_.erase(0, section.start + r.consumed);
    emit_calls(r.calls, events);
    drop_content_ws_ = true;
    return true;
  }
  // Malformed: the text is content. A trigger is emitted as such and scanning goes on after it;
  // a bare-JSON message is scanned again from its start as ordinary content.
  if (!section.trigger.empty()) {
    emit_content(section.trigger, events);
    buf_.erase(0, section.trigger.size());
  }
  return true;
}

SectionResult OutputParser::attempt_section(SectionParser parse, size_t start, bool final) {
  const size_t avail = buf_.size() - start;
  if (!final && avail < next_attempt_bytes_) return {ParseStep::kNeedMore, 0, {}};
  SectionResult r = parse(std::string_view(buf_).substr(start), final);
  INFERD_CHECK(!(final && r.step == ParseStep::kNeedMore));
  INFERD_CHECK(r.step != ParseStep::kMatched || r.consumed <= avail);
  if (r.step == ParseStep::kNeedMore) {
    next_attempt_bytes_ = avail < kEagerSectionBytes ? avail + 1 : avail + avail / 8;
  } else {
    next_attempt_bytes_ = 0;
  }
  return r;
}

void OutputParser::emit_calls(std::vector<RawToolCall>& calls, OutputEvents* events) {
  for (RawToolCall& call : calls) {
    const size_t index = num_calls_++;
    OutputEvent start;
    start.kind = OutputEventKind::kToolCallStart;
    start.tool_index = index;
    if (!call.id.empty()) {
      start.id = std::move(call.id);
    } else if (options_.id_generator) {
      start.id = options_.id_generator(index);
    } else {
      start.id = random_tool_call_id(options_.format);
    }
    start.name = std::move(call.name);
    events->push_back(std::move(start));
    OutputEvent args;
    args.kind = OutputEventKind::kToolCallArguments;
    args.tool_index = index;
    args.text = std::move(call.arguments);
    events->push_back(std::move(args));
  }
}

void OutputParser::emit_content(std::string_view text, OutputEvents* events) {
  if (drop_content_ws_) {
    text.remove_prefix(leading_ws(text));
    if (text.empty()) return;
    drop_content_ws_ = false;
  }
  const size_t body = body_end(text);
  if (body == 0) {
    content_ws_.append(text);
    return;
  }
  std::string piece = std::move(content_ws_);
  piece.append(text.substr(0, body));
  append_text(events, OutputEventKind::kContent, std::move(piece));
  content_ws_.assign(text.substr(body));
}

void OutputParser::emit_reasoning(std::string_view text, OutputEvents* events) {
  if (!reasoning_started_) {
    text.remove_prefix(leading_ws(text));
    if (text.empty()) return;
    reasoning_started_ = true;
  }
  const size_t body = body_end(text);
  if (body == 0) {
    reasoning_ws_.append(text);
    return;
  }
  std::string piece = std::move(reasoning_ws_);
  piece.append(text.substr(0, body));
  append_text(events, OutputEventKind::kReasoning, std::move(piece));
  reasoning_ws_.assign(text.substr(body));
}

void fold_output_events(const OutputEvents& events, ParsedOutput* output) {
  for (const OutputEvent& event : events) {
    switch (event.kind) {
      case OutputEventKind::kContent: output->content += event.text; break;
      case OutputEventKind::kReasoning: output->reasoning += event.text; break;
      case OutputEventKind::kToolCallStart:
      case OutputEventKind::kToolCallArguments: {
        if (event.tool_index >= output->tool_calls.size()) {
          output->tool_calls.resize(event.tool_index + 1);
        }
        ParsedToolCall& call = output->tool_calls[event.tool_index];
        if (event.kind == OutputEventKind::kToolCallStart) {
          call.id = event.id;
          call.name = event.name;
        } else {
          call.arguments += event.text;
        }
        break;
      }
    }
  }
}

ParsedOutput parse_output(std::string_view text, const OutputParserOptions& options) {
  OutputParser parser(options);
  OutputEvents events;
  parser.push(text, &events);
  parser.finish(&events);
  ParsedOutput output;
  fold_output_events(events, &output);
  return output;
}

}  // namespace inferd::chat
