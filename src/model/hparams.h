// HParams: the shape and numeric options of a transformer, read from GGUF metadata
// ("<arch>.embedding_length" ...) and validated so the forward pass can trust them.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "format/gguf_file.h"
#include "model/arch.h"

namespace inferd::model {

enum class RopeScaling { kNone, kLinear, kYarn };

struct HParams {
  const ArchSpec* arch = nullptr;
  // How q/k rows pair up for RoPE: the family's style for GGUF files (whose llama q/k rows are
  // permuted for adjacent pairs), kNeox for Hugging Face checkpoints of every family.
  RopeStyle rope_style = RopeStyle::kNormal;
  std::string name;            // general.name, or the file name
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_ff = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim_k = 0;      // attention.key_length (default n_embd / n_head)
  int64_t head_dim_v = 0;      // attention.value_length (default head_dim_k)
  int64_t n_rot = 0;           // rope.dimension_count (default head_dim_k)
  float norm_eps = 1e-5f;
  float rope_base = 10000.0f;
  float rope_base_local = 10000.0f;  // sliding-window layers
  RopeScaling rope_scaling = RopeScaling::kNone;
  float rope_scale_factor = 1.0f;     // context extension factor (> 1 for linear and YaRN)
  int64_t rope_orig_ctx = 0;          // original training context for YaRN
  float yarn_attn_factor = 1.0f;      // rope.scaling.attn_factor
  float yarn_beta_fast = 32.0f;
  float yarn_beta_slow = 1.0f;
  int64_t sliding_window = 0;         // 0 = none
  float attn_softcap = 0.0f;          // 0 = off
  float final_softcap = 0.0f;         // 0 = off
  float attn_scale = 0.0f;            // multiplier of q.k

  int64_t q_dim() const { return n_head * head_dim_k; }
  int64_t kv_dim() const { return n_head_kv * head_dim_k; }
  int64_t v_dim() const { return n_head_kv * head_dim_v; }
  int64_t attn_out_dim() const { return n_head * head_dim_v; }
  bool is_sliding_layer(int64_t layer) const;
  // Checks that dimensions are positive, plausible and consistent (heads, head sizes, n_rot).
  Status validate() const;
};

// Reads and validates the hyper-parameters. n_vocab comes from the token embedding's row count
// when the metadata omits it.
Result<HParams> read_hparams(const format::GgufFile& file);

}  // namespace inferd::model
