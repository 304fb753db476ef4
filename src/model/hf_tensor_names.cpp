#include "model/hf_tensor_names.h"

#include <charconv>
#include <string_view>

namespace inferd::model {
namespace {

// When a row applies: to every family, or only to families with / without post norms (Gemma's
// post_attention_layernorm is the post-attention norm; Llama's is the pre-FFN norm).
enum class When { kAlways, kPostNorms, kNoPostNorms };

struct NameRow {
  std::string_view hf;        // after "model.layers.N." for layer tensors
  std::string_view internal;  // after "blk.N."
  When when = When::kAlways;
};

// clang-format off
constexpr NameRow kLayerNames[] = {
    {"input_layernorm.weight",            "attn_norm.weight"},
    {"self_attn.q_proj.weight",           "attn_q.weight"},
    {"self_attn.k_proj.weight",           "attn_k.weight"},
    {"self_attn.v_proj.weight",           "attn_v.weight"},
    {"self_attn.q_proj.bias",             "attn_q.bias"},
    {"self_attn.k_proj.bias",             "attn_k.bias"},
    {"self_attn.v_proj.bias",             "attn_v.bias"},
    {"self_attn.qkv_proj.weight",         "attn_qkv.weight"},
    {"self_attn.o_proj.weight",           "attn_output.weight"},
    {"self_attn.q_norm.weight",           "attn_q_norm.weight"},
    {"self_attn.k_norm.weight",           "attn_k_norm.weight"},
    {"post_attention_layernorm.weight",   "ffn_norm.weight",            When::kNoPostNorms},
    {"post_attention_layernorm.weight",   "post_attention_norm.weight", When::kPostNorms},
    {"pre_feedforward_layernorm.weight",  "ffn_norm.weight",            When::kPostNorms},
    {"post_feedforward_layernorm.weight", "post_ffw_norm.weight",       When::kPostNorms},
    {"mlp.gate_proj.weight",              "ffn_gate.weight"},
    {"mlp.up_proj.weight",                "ffn_up.weight"},
    {"mlp.gate_up_proj.weight",           "ffn_up.weight"},
    {"mlp.down_proj.weight",              "ffn_down.weight"},
    // Mixture of experts: the router, and MLX's experts stacked along a leading dimension.
    {"mlp.gate.weight",                   "ffn_gate_inp.weight"},
    {"mlp.switch_mlp.gate_proj.weight",   "ffn_gate_exps.weight"},
    {"mlp.switch_mlp.up_proj.weight",     "ffn_up_exps.weight"},
    {"mlp.switch_mlp.down_proj.weight",   "ffn_down_exps.weight"},
};

// One expert's matrices: "mlp.experts.<E>.<hf>" <-> "<internal>.<E>.weight".
constexpr NameRow kExpertNames[] = {
    {"gate_proj.weight", "ffn_gate"},
    {"up_proj.weight",   "ffn_up"},
    {"down_proj.weight", "ffn_down"},
};

constexpr NameRow kModelNames[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight",         "output_norm.weight"},
    {"lm_head.weight",            "output.weight"},
};
// clang-format on

bool applies(const NameRow& row, const ArchSpec& arch) {
  switch (row.when) {
    case When::kAlways: return true;
    case When::kPostNorms: return arch.post_norms;
    case When::kNoPostNorms: return !arch.post_norms;
  }
  return false;
}

// The fused rows only apply to fused families and the split ones only to the others.
bool fits_fusion(const NameRow& row, const ArchSpec& arch) {
  if (row.hf == "mlp.gate_up_proj.weight") return arch.fused_gate_up;
  if (row.hf == "mlp.up_proj.weight" || row.hf == "mlp.gate_proj.weight")
    return !arch.fused_gate_up;
  return true;
}

// Splits "<prefix><N>.<rest>" into N and rest.
bool split_layer(std::string_view name, std::string_view prefix, int* layer,
                 std::string_view* rest) {
  if (!name.starts_with(prefix)) return false;
  name.remove_prefix(prefix.size());
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  const auto [ptr, ec] = std::from_chars(name.data(), name.data() + dot, *layer);
  if (ec != std::errc() || ptr != name.data() + dot || *layer < 0) return false;
  *rest = name.substr(dot + 1);
  return true;
}

}  // namespace

std::optional<std::string> hf_to_internal_name(const ArchSpec& arch, const std::string& hf_name) {
  std::string_view name = hf_name;
  std::string normalized;
  if (name.starts_with("model.language_model.")) {
    normalized = "model." + std::string(name.substr(sizeof("model.language_model.") - 1));
    name = normalized;
  } else if (name.starts_with("language_model.")) {
    name.remove_prefix(sizeof("language_model.") - 1);
  }
  for (const NameRow& row : kModelNames)
    if (row.hf == name) return std::string(row.internal);
  int layer = 0;
  std::string_view rest;
  if (!split_layer(name, "model.layers.", &layer, &rest)) return std::nullopt;
  for (const NameRow& row : kLayerNames)
    if (row.hf == rest && applies(row, arch) && fits_fusion(row, arch))
      return "blk." + std::to_string(layer) + "." + std::string(row.internal);
  int expert = 0;
  std::string_view expert_rest;
  if (arch.moe && split_layer(rest, "mlp.experts.", &expert, &expert_rest))
    for (const NameRow& row : kExpertNames)
      if (row.hf == expert_rest)
        return "blk." + std::to_string(layer) + "." + std::string(row.internal) + "." +
               std::to_string(expert) + ".weight";
  return std::nullopt;
}

std::optional<std::string> internal_to_hf_name(const ArchSpec& arch, const std::string& name) {
  for (const NameRow& row : kModelNames)
    if (row.internal == name) return std::string(row.hf);
  int layer = 0;
  std::string_view rest;
  if (!split_layer(name, "blk.", &layer, &rest)) return std::nullopt;
  for (const NameRow& row : kLayerNames)
    if (row.internal == rest && applies(row, arch) && fits_fusion(row, arch))
      return "model.layers." + std::to_string(layer) + "." + std::string(row.hf);
  if (!arch.moe) return std::nullopt;
  for (const NameRow& row : kExpertNames) {
    int expert = 0;
    std::string_view tail;
    if (split_layer(rest, std::string(row.internal) + ".", &expert, &tail) && tail == "weight")
      return "model.layers." + std::to_string(layer) + ".mlp.experts." + std::to_string(expert) +
             "." + std::string(row.hf);
  }
  return std::nullopt;
}

}  // namespace inferd::model
