// HParams: the shape and numeric options of a transformer, read from GGUF metadata
// ("<arch>.embedding_length" ...) and validated so the forward pass can trust them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "format/gguf_file.h"
#include "model/arch.h"

namespace inferd::model {

// kDynamic (NTK-aware) and kLongRope come from Hugging Face configs only; see Rope for the
// context length each is evaluated at.
enum class RopeScaling { kNone, kLinear, kYarn, kDynamic, kLongRope };

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
  int64_t rope_orig_ctx = 0;          // original training context (YaRN, dynamic)
  // Magnitude of RoPE's cos/sin (YaRN's rope.scaling.attn_factor, LongRoPE's attention factor).
  float rope_attn_factor = 1.0f;
  float yarn_beta_fast = 32.0f;
  float yarn_beta_slow = 1.0f;
  int64_t sliding_window = 0;         // 0 = none
  float attn_softcap = 0.0f;          // 0 = off
  float final_softcap = 0.0f;         // 0 = off
  float attn_scale = 0.0f;            // multiplier of q.k
  // Mixture of experts (arch->moe): experts of a sparse layer, experts each token uses, the
  // hidden size of one expert, and whether the selected experts' routing weights are
  // renormalised to sum to 1 (norm_topk_prob).
  int64_t n_expert = 0;
  int64_t n_expert_used = 0;
  int64_t n_ff_expert = 0;
  bool expert_weights_norm = false;
  // Per layer, 1 when the layer is sparse (MoE), 0 when it uses the dense feed-forward block
  // (n_ff); empty for families without experts.
  std::vector<uint8_t> moe_layers;

  int64_t q_dim() const { return n_head * head_dim_k; }
  int64_t kv_dim() const { return n_head_kv * head_dim_k; }
  int64_t v_dim() const { return n_head_kv * head_dim_v; }
  int64_t attn_out_dim() const { return n_head * head_dim_v; }
  bool is_sliding_layer(int64_t layer) const;
  bool is_moe_layer(int64_t layer) const {
    return layer >= 0 && layer < static_cast<int64_t>(moe_layers.size()) && moe_layers[layer] != 0;
  }
  bool has_moe_layers() const;
  // Checks that dimensions are positive, plausible and consistent (heads, head sizes, n_rot,
  // expert counts).
  Status validate() const;
};

// Reads and validates the hyper-parameters. n_vocab comes from the token embedding's row count
// when the metadata omits it.
Result<HParams> read_hparams(const format::GgufFile& file);

}  // namespace inferd::model
