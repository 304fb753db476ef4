#include "chat/tool_call_syntax.h"

namespace inferd::chat {

void SyntaxCursor::skip_ws() {
  while (pos < text.size() && is_syntax_ws(text[pos])) ++pos;
}

ParseStep SyntaxCursor::literal(std::string_view lit) {
  const size_t avail = text.size() - pos;
  const size_t n = avail < lit.size() ? avail : lit.size();
  if (text.compare(pos, n, lit, 0, n) != 0) return ParseStep::kFailed;
  if (n < lit.size()) return final ? ParseStep::kFailed : ParseStep::kNeedMore;
  pos += lit.size();
  return ParseStep::kMatched;
}

ParseStep SyntaxCursor::json(nlohmann::ordered_json* out) {
  const JsonSpan span = scan_json_container(text, pos);
  if (span.step == ParseStep::kNeedMore) return final ? ParseStep::kFailed : ParseStep::kNeedMore;
  if (span.step == ParseStep::kFailed) return ParseStep::kFailed;
  std::optional<nlohmann::ordered_json> value = parse_json_text(text.substr(pos, span.end - pos));
  if (!value) return ParseStep::kFailed;
  *out = std::move(*value);
  pos = span.end;
  return ParseStep::kMatched;
}

ParseStep SyntaxCursor::until_any(std::string_view stops, std::string_view forbidden,
                                  size_t max_len, std::string_view* out) {
  size_t i = pos;
  while (i < text.size() && stops.find(text[i]) == std::string_view::npos) {
    if (forbidden.find(text[i]) != std::string_view::npos) return ParseStep::kFailed;
    if (i - pos >= max_len) return ParseStep::kFailed;
    ++i;
  }
  if (i == text.size()) return final ? ParseStep::kFailed : ParseStep::kNeedMore;
  if (i == pos) return ParseStep::kFailed;
  *out = text.substr(pos, i - pos);
  pos = i;
  return ParseStep::kMatched;
}

ParseStep SyntaxCursor::need_byte() const {
  if (!at_end()) return ParseStep::kMatched;
  return final ? ParseStep::kFailed : ParseStep::kNeedMore;
}

}  // namespace inferd::chat
