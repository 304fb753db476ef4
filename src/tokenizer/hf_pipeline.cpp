#include "tokenizer/hf_pipeline.h"

namespace inferd::tokenizer {

void HfPipeline::encode(std::string_view text, bool at_text_start,
                        std::vector<TokenId>& out) const {
  std::string normalized(text);
  normalizer_.apply(normalized);
  thread_local std::vector<std::string> words;
  pre_tokenizer_.split(normalized, at_text_start, words);
  for (const std::string& w : words) model_.encode(w, out);
  if (words.capacity() > 4096) std::vector<std::string>().swap(words);
}

}  // namespace inferd::tokenizer
