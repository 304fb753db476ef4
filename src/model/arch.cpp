#include "model/arch.h"

namespace inferd::model {
namespace {

using enum RopeStyle;
using enum FfnActivation;
using enum SlidingLayers;

// clang-format off
constexpr ArchSpec kArchs[] = {
    {.gguf_name = "llama", .hf_classes = {"LlamaForCausalLM", "MistralForCausalLM"},
     .rope = kNormal},
    {.gguf_name = "qwen2", .hf_classes = {"Qwen2ForCausalLM"},
     .rope = kNeox, .qkv_bias = true},
    {.gguf_name = "qwen3", .hf_classes = {"Qwen3ForCausalLM"},
     .rope = kNeox, .qk_norm = true},
    {.gguf_name = "qwen3moe", .hf_classes = {"Qwen3MoeForCausalLM"},
     .rope = kNeox, .qk_norm = true, .moe = true},
    {.gguf_name = "gemma2", .hf_classes = {"Gemma2ForCausalLM"},
     .rope = kNeox, .activation = kGeluTanh, .post_norms = true, .embedding_scale = true,
     .sliding = kEven, .scale_query = true, .embd_query_scale_layers = 46,
     .hf_norm_plus_one = true},
    {.gguf_name = "gemma3", .hf_classes = {"Gemma3ForCausalLM", "Gemma3ForConditionalGeneration"},
     .rope = kNeox, .activation = kGeluTanh, .qk_norm = true, .post_norms = true,
     .embedding_scale = true, .sliding = kFiveOfSix, .local_rope_base = 10000.0f,
     .scale_query = true, .embd_query_scale_layers = 62, .hf_norm_plus_one = true},
    {.gguf_name = "phi3", .hf_classes = {"Phi3ForCausalLM"},
     .rope = kNeox, .fused_qkv = true, .fused_gate_up = true, .sliding = kAll},
};
// clang-format on

}  // namespace

const ArchSpec* find_arch(std::string_view gguf_name) {
  for (const auto& a : kArchs)
    if (a.gguf_name == gguf_name) return &a;
  return nullptr;
}

const ArchSpec* find_arch_by_hf_class(std::string_view hf_class) {
  for (const auto& a : kArchs)
    for (std::string_view c : a.hf_classes)
      if (!c.empty() && c == hf_class) return &a;
  return nullptr;
}

std::string_view supported_arch_names() {
  return "llama, qwen2, qwen3, qwen3moe, gemma2, gemma3, phi3";
}

}  // namespace inferd::model
