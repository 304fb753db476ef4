// PlainTransformer: an independent, deliberately naive reference of the supported decoder
// architectures, written from the published model definitions (Hugging Face modeling code) and
// evaluated in double precision over a whole sequence without a KV cache. It shares nothing
// with src/model except the GGUF reader and the scalar dequantisation reference, so the engine's
// forward pass (cache, batching, fused weights, kernels) can be checked against it.
#pragma once

#include <string>
#include <vector>

#include "inferd/status.h"

namespace inferd::testing {

// Logits ([tokens.size()][n_vocab]) of every position of `tokens` for the model at `path`.
Result<std::vector<std::vector<double>>> plain_transformer_logits(const std::string& path,
                                                                   const std::vector<int>& tokens);

}  // namespace inferd::testing
