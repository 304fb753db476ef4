// TokenId: a token's index in a model's vocabulary, in [0, vocab_size).
#pragma once

#include <cstdint>

namespace inferd {

using TokenId = int32_t;

}  // namespace inferd
