// HfPreTokenizer: the "pre_tokenizer" of a tokenizer.json. It splits one normalized run of text
// into the words the model segments independently, and may rewrite them (ByteLevel maps bytes to
// the byte-level alphabet, Metaspace spaces to U+2581). Step types (one table row each, see
// hf_pre_tokenizer.cpp): Split (String or Regex pattern; behaviours Removed, Isolated,
// MergedWithPrevious, MergedWithNext, Contiguous; invert), ByteLevel (add_prefix_space,
// use_regex), Digits (individual_digits), Metaspace (replacement, prepend_scheme, split),
// Whitespace, WhitespaceSplit, Sequence. A null pre-tokenizer keeps the run as one word.
// Thread safety: immutable after build(); split() is const.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/hf_json.h"

namespace inferd::tokenizer {

class HfPreTokenizer {
 public:
  // Rewrites `words` in place. `at_text_start`: words[0] begins at the start of the whole input
  // (Metaspace's "first" prepend scheme).
  using Step = std::function<void(std::vector<std::string>& words, bool at_text_start)>;

  // `spec` is the JSON value at `path` (null allowed). An unknown type is an error naming path.
  static Result<HfPreTokenizer> build(const Json& spec, std::string_view path);

  // Replaces `words` with the words of `text`; none is empty.
  void split(std::string_view text, bool at_text_start, std::vector<std::string>& words) const;

 private:
  Step step_;
};

// Builds the step for one pre-tokenizer object (used by Sequence and build()).
Result<HfPreTokenizer::Step> build_pre_tokenizer_step(const Json& spec, std::string_view path);

}  // namespace inferd::tokenizer
