#include "tokenizer/hf_regex.h"

#include "tokenizer/pcre2_regex.h"

#include "tokenizer/utf8.h"

namespace inferd::tokenizer {

struct HfRegex::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

HfRegex::HfRegex(HfRegex&&) noexcept = default;
HfRegex& HfRegex::operator=(HfRegex&&) noexcept = default;
HfRegex::~HfRegex() = default;

Result<HfRegex> HfRegex::compile(std::string_view pattern, bool literal) {
  HfRegex re;
  if (literal) {
    if (pattern.empty()) return invalid_argument("an empty string pattern matches nothing");
    re.is_literal_ = true;
    re.literal_.assign(pattern);
    return re;
  }
  INFERD_ASSIGN_OR_RETURN(pcre2_code * code, compile_pcre2(pattern));
  re.code_ = std::make_unique<Code>();
  re.code_->code = code;
  return re;
}

std::vector<TextSpan> HfRegex::find_all(std::string_view text) const {
  std::vector<TextSpan> out;
  if (is_literal_) {
    for (size_t pos = text.find(literal_); pos != std::string_view::npos;
         pos = text.find(literal_, pos + literal_.size())) {
      out.push_back({pos, literal_.size()});
    }
    return out;
  }
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_->code, nullptr);
  if (md == nullptr) return out;  // out of memory: no split
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t search = 0;
  while (search <= text.size()) {
    int rc = pcre2_match(code_->code, subject, text.size(), search, 0, md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      // Deeply nested backtracking: the interpreter keeps its frames on the heap.
      rc = pcre2_match(code_->code, subject, text.size(), search, PCRE2_NO_JIT, md, nullptr);
    }
    if (rc < 0) break;  // no further match (or a resource limit)
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(md);
    const size_t begin = ovector[0];
    const size_t end = ovector[1];
    if (end > begin) {
      out.push_back({begin, end - begin});
      search = end;
    } else {
      // An empty match: continue one character further.
      if (begin >= text.size()) break;
      const int step = utf8_valid_length(text, begin);
      search = begin + (step > 0 ? step : 1);
    }
  }
  pcre2_match_data_free(md);
  return out;
}

std::string HfRegex::replace_all(std::string_view text, std::string_view replacement) const {
  std::string out;
  size_t pos = 0;
  for (const TextSpan& m : find_all(text)) {
    out.append(text.substr(pos, m.offset - pos));
    out.append(replacement);
    pos = m.offset + m.length;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace inferd::tokenizer
