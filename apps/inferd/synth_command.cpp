// inferd synth OUT.gguf: writes a deterministic random-weight llama model.
#include <cstdio>

#include "backend/dtype.h"
#include "commands.h"
#include "model/synth_model.h"

namespace inferd::cli {

Command add_synth_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("synth", "Write a random-weight GGUF model (llama architecture by default)");
  auto opt = std::make_shared<model::SynthOptions>();
  auto out = std::make_shared<std::string>();
  auto type = std::make_shared<std::string>("q8_0");
  cmd->add_option("output", *out, "Output .gguf path")->required();
  cmd->add_option("--arch", opt->arch,
                  "Architecture: llama, qwen2, qwen3, qwen3moe, gemma2, gemma3, phi3")
      ->capture_default_str();
  cmd->add_option("--dim", opt->dim, "Embedding size")->capture_default_str();
  cmd->add_option("--layers", opt->layers, "Transformer layers")->capture_default_str();
  cmd->add_option("--heads", opt->heads, "Attention heads")->capture_default_str();
  cmd->add_option("--kv-heads", opt->kv_heads, "Key/value heads")->capture_default_str();
  cmd->add_option("--ffn", opt->ffn, "Feed-forward size")->capture_default_str();
  cmd->add_option("--vocab", opt->vocab, "Vocabulary size")->capture_default_str();
  cmd->add_option("--context", opt->context, "Training context length")->capture_default_str();
  cmd->add_option("--head-dim", opt->head_dim, "Head size (0 = dim / heads)")->capture_default_str();
  cmd->add_option("--sliding-window", opt->sliding_window, "Sliding window (families that use one)")
      ->capture_default_str();
  cmd->add_option("--experts", opt->experts, "Experts per layer (qwen3moe)")->capture_default_str();
  cmd->add_option("--experts-used", opt->experts_used, "Experts per token (qwen3moe)")
      ->capture_default_str();
  cmd->add_option("--expert-ffn", opt->expert_ffn, "Expert feed-forward size (0 = --ffn)")
      ->capture_default_str();
  cmd->add_option("--type", *type, "Weight type: f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_k..q6_k")
      ->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Random seed")->capture_default_str();
  cmd->add_option("--name", opt->name, "general.name")->capture_default_str();
  return {cmd, [=] {
    auto t = backend::dtype_from_name(*type);
    if (!t) {
      std::fprintf(stderr, "inferd synth: unknown type '%s'\n", type->c_str());
      return 2;
    }
    opt->type = *t;
    if (Status st = model::write_synth_model(*opt, *out); !st.ok()) {
      std::fprintf(stderr, "inferd synth: %s\n", st.to_string().c_str());
      return 1;
    }
    std::fprintf(stderr, "wrote %s\n", out->c_str());
    return 0;
  }};
}

}  // namespace inferd::cli
