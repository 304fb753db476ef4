#include "tokenizer/end_of_generation.h"

#include <algorithm>
#include <string_view>

namespace inferd::tokenizer {
namespace {

// Token texts that end a turn, in order of preference for the EOT id when the metadata names none.
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>",      "<|im_end|>", "<|end|>", "<end_of_turn>",         "<|endoftext|>",
    "<|end_of_text|>", "<EOT>",      "_<EOT>",  "<｜end▁of▁sentence｜>", "<end_of_utterance>",
};
// Every token text that ends generation when present.
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>",      "<|im_end|>",         "<|end|>",    "<end_of_turn>",
    "<|endoftext|>",   "<|eom_id|>",         "<EOT>",      "_<EOT>",
    "<|end_of_text|>", "<end_of_utterance>", "<|return|>", "<|call|>",
};

}  // namespace

void mark_end_of_generation(Vocab& vocab, SpecialTokens& special, std::vector<TokenId>& eog,
                            std::vector<uint8_t>& is_eog) {
  if (special.eot == kNoToken) {
    for (std::string_view text : kEotTexts) {
      if (TokenId id = vocab.find(text); id != kNoToken) {
        special.eot = id;
        break;
      }
    }
  }
  if (special.eom == kNoToken) special.eom = vocab.find("<|eom_id|>");
  is_eog.assign(static_cast<size_t>(vocab.size()), 0);
  eog.clear();
  auto add_eog = [&](TokenId id) {
    if (id == kNoToken || is_eog[id]) return;
    is_eog[id] = 1;
    eog.push_back(id);
  };
  add_eog(special.eos);
  add_eog(special.eot);
  add_eog(special.eom);
  for (std::string_view text : kEogTexts) add_eog(vocab.find(text));
  std::sort(eog.begin(), eog.end());
  for (TokenId id : eog)
    if (!is_partition_type(vocab.type(id))) vocab.set_type(id, TokenType::kControl);
}

}  // namespace inferd::tokenizer
