#include "model/hparams.h"

#include <cmath>
#include <filesystem>

namespace inferd::model {

bool HParams::is_sliding_layer(int64_t layer) const {
  if (sliding_window <= 0) return false;
  switch (arch->sliding) {
    case SlidingLayers::kNone: return false;
    case SlidingLayers::kAll: return true;
    case SlidingLayers::kEven: return layer % 2 == 0;
    case SlidingLayers::kFiveOfSix: return (layer + 1) % 6 != 0;
  }
  return false;
}

Status HParams::validate() const {
  const HParams& hp = *this;
  if (hp.n_embd <= 0 || hp.n_layer <= 0 || hp.n_ff <= 0 || hp.n_head <= 0 || hp.n_head_kv <= 0 ||
      hp.n_ctx_train <= 0)
    return invalid_argument("non-positive model dimension in metadata");
  if (hp.n_embd > (1 << 20) || hp.n_layer > 4096 || hp.n_ff > (1 << 22) || hp.n_head > 4096)
    return invalid_argument("model dimensions in metadata are implausibly large");
  if (hp.n_head % hp.n_head_kv != 0)
    return invalid_argument("head_count {} is not a multiple of head_count_kv {}", hp.n_head,
                            hp.n_head_kv);
  if (hp.head_dim_k <= 0 || hp.head_dim_v <= 0 || hp.head_dim_k > 1024 || hp.head_dim_v > 1024)
    return invalid_argument("attention head size {} / {} is out of range", hp.head_dim_k, hp.head_dim_v);
  if (hp.n_rot <= 0 || hp.n_rot > hp.head_dim_k || hp.n_rot % 2 != 0)
    return invalid_argument("rope.dimension_count {} must be even and at most the head size {}",
                            hp.n_rot, hp.head_dim_k);
  if (!hp.moe_layers.empty() && static_cast<int64_t>(hp.moe_layers.size()) != hp.n_layer)
    return invalid_argument("{} sparse-layer flags for {} layers", hp.moe_layers.size(),
                            hp.n_layer);
  if (hp.has_moe_layers()) {
    if (hp.n_expert <= 0 || hp.n_expert > 4096)
      return invalid_argument("expert count {} is out of range [1, 4096]", hp.n_expert);
    if (hp.n_expert_used <= 0 || hp.n_expert_used > hp.n_expert)
      return invalid_argument("experts used per token ({}) must be in [1, expert count {}]",
                              hp.n_expert_used, hp.n_expert);
    if (hp.n_ff_expert <= 0 || hp.n_ff_expert > (1 << 22))
      return invalid_argument("expert feed-forward length {} is out of range", hp.n_ff_expert);
  }
  return Status::ok_status();
}

bool HParams::has_moe_layers() const {
  for (uint8_t m : moe_layers)
    if (m) return true;
  return false;
}

Result<HParams> read_hparams(const format::GgufFile& f) {
  HParams hp;
  INFERD_ASSIGN_OR_RETURN(std::string arch_name, f.get_string("general.architecture"));
  hp.arch = find_arch(arch_name);
  if (!hp.arch)
    return unsupported("architecture '{}' is not supported (supported: {})", arch_name,
                       supported_arch_names());
  hp.rope_style = hp.arch->rope;
  const std::string p = arch_name + ".";
  INFERD_ASSIGN_OR_RETURN(hp.name, f.get_string_or("general.name",
                                                   std::filesystem::path(f.path()).stem().string()));
  INFERD_ASSIGN_OR_RETURN(hp.n_embd, f.get_int(p + "embedding_length"));
  INFERD_ASSIGN_OR_RETURN(hp.n_layer, f.get_int(p + "block_count"));
  INFERD_ASSIGN_OR_RETURN(hp.n_ff, f.get_int(p + "feed_forward_length"));
  INFERD_ASSIGN_OR_RETURN(hp.n_head, f.get_int(p + "attention.head_count"));
  INFERD_ASSIGN_OR_RETURN(hp.n_head_kv, f.get_int_or(p + "attention.head_count_kv", hp.n_head));
  INFERD_ASSIGN_OR_RETURN(hp.n_ctx_train, f.get_int_or(p + "context_length", 2048));
  if (hp.n_head <= 0) return invalid_argument("non-positive model dimension in metadata");
  INFERD_ASSIGN_OR_RETURN(hp.head_dim_k, f.get_int_or(p + "attention.key_length", hp.n_embd / hp.n_head));
  INFERD_ASSIGN_OR_RETURN(hp.head_dim_v, f.get_int_or(p + "attention.value_length", hp.head_dim_k));
  INFERD_ASSIGN_OR_RETURN(hp.n_rot, f.get_int_or(p + "rope.dimension_count", hp.head_dim_k));
  if (hp.arch->moe) {
    INFERD_ASSIGN_OR_RETURN(hp.n_expert, f.get_int(p + "expert_count"));
    INFERD_ASSIGN_OR_RETURN(hp.n_expert_used, f.get_int(p + "expert_used_count"));
    INFERD_ASSIGN_OR_RETURN(hp.n_ff_expert, f.get_int(p + "expert_feed_forward_length"));
    // Files without the key renormalise, as the reference implementation of qwen3moe does.
    INFERD_ASSIGN_OR_RETURN(hp.expert_weights_norm, f.get_bool_or(p + "expert_weights_norm", true));
    // A layer is sparse when it has a router; the others use the dense block.
    if (hp.n_layer > 0 && hp.n_layer <= 4096) {
      hp.moe_layers.resize(hp.n_layer);
      for (int64_t il = 0; il < hp.n_layer; ++il)
        hp.moe_layers[il] =
            f.find_tensor("blk." + std::to_string(il) + ".ffn_gate_inp.weight") != nullptr;
    }
  }
  INFERD_RETURN_IF_ERROR(hp.validate());
  INFERD_ASSIGN_OR_RETURN(double eps, f.get_float_or(p + "attention.layer_norm_rms_epsilon", 1e-5));
  hp.norm_eps = static_cast<float>(eps);
  INFERD_ASSIGN_OR_RETURN(double base, f.get_float_or(p + "rope.freq_base", 10000.0));
  hp.rope_base = static_cast<float>(base);
  hp.rope_base_local = hp.arch->local_rope_base > 0 ? hp.arch->local_rope_base : hp.rope_base;
  if (!(hp.rope_base > 0) || !(eps > 0)) return invalid_argument("rope.freq_base and norm epsilon must be positive");

  INFERD_ASSIGN_OR_RETURN(std::string scaling, f.get_string_or(p + "rope.scaling.type", "none"));
  INFERD_ASSIGN_OR_RETURN(double factor, f.get_float_or(p + "rope.scaling.factor", 0.0));
  if (factor == 0.0) {
    // Older files record the inverse as rope.scale_linear.
    INFERD_ASSIGN_OR_RETURN(double linear, f.get_float_or(p + "rope.scale_linear", 0.0));
    if (linear > 0) {
      factor = linear;
      if (scaling == "none") scaling = "linear";
    }
  }
  if (scaling == "none" || factor <= 1.0) {
    hp.rope_scaling = RopeScaling::kNone;
  } else if (scaling == "linear") {
    hp.rope_scaling = RopeScaling::kLinear;
  } else if (scaling == "yarn") {
    hp.rope_scaling = RopeScaling::kYarn;
  } else {
    return unsupported("rope scaling type '{}' is not supported (none, linear, yarn)", scaling);
  }
  hp.rope_scale_factor = hp.rope_scaling == RopeScaling::kNone ? 1.0f : static_cast<float>(factor);
  INFERD_ASSIGN_OR_RETURN(hp.rope_orig_ctx,
                          f.get_int_or(p + "rope.scaling.original_context_length", hp.n_ctx_train));
  INFERD_ASSIGN_OR_RETURN(double attn_factor, f.get_float_or(p + "rope.scaling.attn_factor", 0.0));
  if (hp.rope_scaling == RopeScaling::kYarn)
    hp.rope_attn_factor = attn_factor > 0 ? static_cast<float>(attn_factor)
                                          : 0.1f * std::log(hp.rope_scale_factor) + 1.0f;
  // LongRoPE (Phi-3 128k) in GGUF: per-frequency factor tensors, not a scaling type. Which of
  // the two lists applies is decided in Weights, by the same rule as for config.json.
  if (hp.rope_scaling == RopeScaling::kNone && f.find_tensor("rope_factors_long.weight") &&
      f.find_tensor("rope_factors_short.weight")) {
    if (hp.rope_orig_ctx <= 1) return invalid_argument("LongRoPE needs an original context above 1");
    const double longrope_factor =
        static_cast<double>(hp.n_ctx_train) / static_cast<double>(hp.rope_orig_ctx);
    hp.rope_scaling = RopeScaling::kLongRope;
    hp.rope_scale_factor = static_cast<float>(longrope_factor);
    hp.rope_attn_factor = static_cast<float>(
        attn_factor > 0 ? attn_factor
        : longrope_factor <= 1.0
            ? 1.0
            : std::sqrt(1.0 + std::log(longrope_factor) / std::log(static_cast<double>(hp.rope_orig_ctx))));
  }
  INFERD_ASSIGN_OR_RETURN(double beta_fast, f.get_float_or(p + "rope.scaling.yarn_beta_fast", 32.0));
  INFERD_ASSIGN_OR_RETURN(double beta_slow, f.get_float_or(p + "rope.scaling.yarn_beta_slow", 1.0));
  hp.yarn_beta_fast = static_cast<float>(beta_fast);
  hp.yarn_beta_slow = static_cast<float>(beta_slow);

  INFERD_ASSIGN_OR_RETURN(hp.sliding_window, f.get_int_or(p + "attention.sliding_window", 0));
  if (hp.sliding_window < 0) return invalid_argument("negative attention.sliding_window");
  INFERD_ASSIGN_OR_RETURN(double attn_cap, f.get_float_or(p + "attn_logit_softcapping", 0.0));
  INFERD_ASSIGN_OR_RETURN(double final_cap, f.get_float_or(p + "final_logit_softcapping", 0.0));
  if (attn_cap < 0 || final_cap < 0) return invalid_argument("negative soft-capping value");
  hp.attn_softcap = static_cast<float>(attn_cap);
  hp.final_softcap = static_cast<float>(final_cap);

  const bool embd_scale = hp.arch->embd_query_scale_layers == hp.n_layer;
  hp.attn_scale = 1.0f / std::sqrt(static_cast<float>(embd_scale ? hp.n_embd / hp.n_head : hp.head_dim_k));

  // Vocabulary size: explicit key, else the token list, else the embedding's rows.
  if (auto v = f.get_int(p + "vocab_size"); v.ok()) {
    hp.n_vocab = *v;
  } else if (const format::GgufValue* tokens = f.find("tokenizer.ggml.tokens"); tokens && tokens->as_array()) {
    hp.n_vocab = static_cast<int64_t>(tokens->as_array()->size());
  } else if (const auto* emb = f.find_tensor("token_embd.weight"); emb) {
    hp.n_vocab = emb->dims[1];
  }
  if (hp.n_vocab <= 0) return invalid_argument("cannot determine the vocabulary size");
  return hp;
}

}  // namespace inferd::model
