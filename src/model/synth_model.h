// Synthetic models: deterministic random-weight GGUF files of any shape and of any architecture
// in the table (llama by default), with a small generated SentencePiece-style vocabulary, for
// benchmarks, tests and the demo model.
#pragma once

#include <cstdint>
#include <string>

#include "backend/dtype.h"
#include "base/status.h"

namespace inferd::model {

struct SynthOptions {
  std::string arch = "llama";  // a gguf_name of the architecture table
  int64_t dim = 256;
  int64_t layers = 2;
  int64_t heads = 4;
  int64_t kv_heads = 2;
  int64_t ffn = 768;
  int64_t vocab = 4096;   // at least 259 (3 control tokens + 256 byte tokens)
  int64_t context = 4096;
  int64_t head_dim = 0;        // 0 = dim / heads
  int64_t sliding_window = 0;  // for families with sliding-window layers; 0 = none
  float attn_softcap = 0.0f;   // 0 = none
  float final_softcap = 0.0f;  // 0 = none
  float rope_base = 10000.0f;
  float rope_linear_factor = 0.0f;  // > 1 writes linear RoPE scaling
  // Mixture-of-experts families (qwen3moe): every layer is sparse, with `experts` experts of
  // hidden size `expert_ffn` (0 = ffn), `experts_used` of them per token; the router is F32.
  int64_t experts = 8;
  int64_t experts_used = 2;
  int64_t expert_ffn = 0;
  backend::DType type = backend::DType::kQ8_0;  // every matrix, including the output
  uint64_t seed = 1;
  std::string name = "inferd-synth";
};

// Checks shapes against the type's block size and basic sanity.
Status validate(const SynthOptions& opt);

// Writes the model to `path` (atomically). The same options always produce the same bytes.
Status write_synth_model(const SynthOptions& opt, const std::string& path);

}  // namespace inferd::model
