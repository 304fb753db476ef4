// The end-of-turn and end-of-generation tokens of a vocabulary, found by their texts when the
// tokenizer files do not name them. Shared by the GGUF and tokenizer.json builders.
#pragma once

#include <cstdint>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace inferd::tokenizer {

// Sets special.eot (when unset) and special.eom (when unset) from the vocabulary's texts; fills
// `eog` (sorted ids: EOS, EOT, EOM and every known end marker present) and `is_eog` (one flag per
// token). End markers that are not yet partition tokens become control tokens.
void mark_end_of_generation(Vocab& vocab, SpecialTokens& special, std::vector<TokenId>& eog,
                            std::vector<uint8_t>& is_eog);

}  // namespace inferd::tokenizer
