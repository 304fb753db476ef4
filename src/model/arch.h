// Architectures as data (DESIGN.md section 3): one table row per model family says which
// tensors a layer has and how the shared transformer blocks are combined. Adding a family that
// fits these options is one row in arch.cpp.
#pragma once

#include <array>
#include <string_view>

namespace inferd::model {

enum class RopeStyle {
  kNormal,  // rotate adjacent pairs (x[2i], x[2i+1]); GGUF llama q/k weights are permuted for it
  kNeox,    // rotate halves (x[i], x[i + n_rot/2]), as Hugging Face's rotate_half
};

enum class FfnActivation {
  kSilu,      // SwiGLU: silu(gate) * up
  kGeluTanh,  // GeGLU: gelu_tanh(gate) * up
};

// Which layers use sliding-window (local) attention when a window is configured.
enum class SlidingLayers {
  kNone,         // the window is ignored
  kAll,          // every layer
  kEven,         // layers 0, 2, 4 ... (Gemma 2)
  kFiveOfSix,    // all but every sixth layer (Gemma 3: layer i is global when (i + 1) % 6 == 0)
};

struct ArchSpec {
  std::string_view gguf_name;                 // general.architecture
  std::array<std::string_view, 3> hf_classes; // config.json "architectures" names
  RopeStyle rope = RopeStyle::kNormal;
  FfnActivation activation = FfnActivation::kSilu;
  bool qkv_bias = false;         // attn_q/k/v.bias required
  bool qk_norm = false;          // attn_q_norm / attn_k_norm (RMSNorm per head, before RoPE)
  bool post_norms = false;       // post_attention_norm and post_ffw_norm around both blocks
  bool embedding_scale = false;  // scale token embeddings by sqrt(embedding_length)
  bool fused_qkv = false;        // one attn_qkv matrix (q, k, v rows in that order)
  bool fused_gate_up = false;    // one ffn_up matrix holding gate rows then up rows
  SlidingLayers sliding = SlidingLayers::kNone;
  // RoPE base of sliding-window layers when it differs from rope.freq_base (0 = same).
  float local_rope_base = 0.0f;
  // The attention scale multiplies the query before q.k instead of the scores (same value,
  // different rounding; the reference implementation of these families does it this way).
  bool scale_query = false;
  // Models of this family with exactly this many layers scale attention by
  // 1/sqrt(n_embd / n_head) instead of 1/sqrt(head_dim) (Gemma 2/3 27B set query_pre_attn_scalar
  // that way; GGUF files do not record it). 0 = never.
  int embd_query_scale_layers = 0;
  // Hugging Face checkpoints store RMSNorm weights as w - 1 (the norm multiplies by 1 + w);
  // GGUF files and inferd hold w.
  bool hf_norm_plus_one = false;
  // Mixture of experts: sparse layers route each token to the top-k of n_expert SwiGLU experts
  // (router blk.N.ffn_gate_inp, experts ffn_{gate,up,down}_exps or per expert
  // ffn_{gate,up,down}.E); the other layers use the dense feed-forward block
  // (HParams::is_moe_layer).
  bool moe = false;
};

// The table entry for a GGUF architecture name, or nullptr.
const ArchSpec* find_arch(std::string_view gguf_name);
// The table entry whose hf_classes holds a config.json "architectures" name, or nullptr.
const ArchSpec* find_arch_by_hf_class(std::string_view hf_class);
// Comma-separated list of supported names (for error messages).
std::string_view supported_arch_names();

}  // namespace inferd::model
