#include "tokenizer/pre_tokenizer.h"

#include <string>

#include "tokenizer/pcre2_regex.h"
#include "tokenizer/utf8.h"

namespace inferd::tokenizer {

struct PreTokenizer::Regex {
  struct CodeDeleter {
    void operator()(pcre2_code* c) const { pcre2_code_free(c); }
  };
  std::unique_ptr<pcre2_code, CodeDeleter> code;
  uint32_t max_captures = 1;
};

PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;
PreTokenizer::~PreTokenizer() = default;

Result<PreTokenizer> PreTokenizer::compile(const PreTokenizerSpec& spec) {
  PreTokenizer pt;
  for (std::string_view pattern : spec.regexes) {
    auto compiled = compile_pcre2(pattern);
    if (!compiled.ok())
      return internal_error("pre-tokenizer '{}': {}", spec.names, compiled.status().message());
    pcre2_code* code = compiled.value();
    Regex re;
    re.code.reset(code);
    uint32_t captures = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &captures);
    re.max_captures = captures + 1;
    pt.regexes_.push_back(std::move(re));
  }
  return pt;
}

void PreTokenizer::split_piece(const Regex& re, std::string_view text, TextSpan piece,
                               std::vector<TextSpan>& out, void* match_data_ptr) {
  auto* match_data = static_cast<pcre2_match_data*>(match_data_ptr);
  // The piece is matched as a subject of its own: anchors and look-arounds see only the piece.
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + piece.offset);
  const size_t length = piece.length;
  size_t gap_start = 0;  // start of the text not yet emitted
  size_t search = 0;
  while (search <= length) {
    int rc = pcre2_match(re.code.get(), subject, length, search, 0, match_data, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      // Deeply nested backtracking: the interpreter keeps its frames on the heap.
      rc = pcre2_match(re.code.get(), subject, length, search, PCRE2_NO_JIT, match_data, nullptr);
    }
    if (rc < 0) break;  // no further match (or a resource limit): the rest stays one piece
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match_data);
    const size_t begin = ovector[0];
    const size_t end = ovector[1];
    if (begin > gap_start) out.push_back({piece.offset + gap_start, begin - gap_start});
    if (end > begin) {
      out.push_back({piece.offset + begin, end - begin});
      gap_start = end;
      search = end;
    } else {
      // An empty match is only a split point; continue one character further.
      gap_start = begin;
      if (begin >= length) break;
      const int step =
          utf8_valid_length(std::string_view(text.data() + piece.offset, length), begin);
      search = begin + (step > 0 ? step : 1);
    }
  }
  if (gap_start < length) out.push_back({piece.offset + gap_start, length - gap_start});
}

void PreTokenizer::split(std::string_view text, std::vector<TextSpan>& pieces,
                         std::vector<TextSpan>& scratch) const {
  pieces.clear();
  if (text.empty()) return;
  pieces.push_back({0, text.size()});
  for (const Regex& re : regexes_) {
    pcre2_match_data* md = pcre2_match_data_create(re.max_captures, nullptr);
    if (md == nullptr) return;  // out of memory: keep the pieces split so far
    scratch.clear();
    for (const TextSpan& piece : pieces) split_piece(re, text, piece, scratch, md);
    pcre2_match_data_free(md);
    pieces.swap(scratch);
  }
}

}  // namespace inferd::tokenizer
