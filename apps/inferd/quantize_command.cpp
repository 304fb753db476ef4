// inferd quantize IN OUT --type T: rewrites a model (GGUF file or Hugging Face / MLX directory)
// as a GGUF file (OUT ends in .gguf) or as a model directory (anything else), with its matrices
// in type T (model/model_export.h).
#include <cstdio>
#include <string>

#include "backend/dtype.h"
#include "commands.h"
#include "model/model.h"
#include "model/model_export.h"

namespace inferd::cli {

Command add_quantize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "quantize", "Rewrite a model as GGUF (OUT.gguf) or as an MLX / Hugging Face directory (OUT)");
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto type = std::make_shared<std::string>();
  cmd->add_option("input", *in, "Input .gguf file or model directory")->required();
  cmd->add_option("output", *out, "Output .gguf path, or a directory")->required();
  cmd->add_option("--type", *type,
                  "Weight type. GGUF: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k..q6_k; "
                  "directory: f32, f16, bf16, or mlx_q<bits>_g<group> (bits 2, 3, 4, 5, 6, 8; "
                  "group 32, 64, 128), e.g. mlx_q4_g64, mlx_q8_g32")
      ->required();
  return {cmd, [=] {
            const bool to_gguf = out->size() > 5 && out->ends_with(".gguf");
            const auto gguf_type = backend::dtype_from_name(*type);
            const auto dir_format = model::parse_hf_dir_format(*type);
            if (to_gguf ? !gguf_type : !dir_format) {
              std::fprintf(stderr, "inferd quantize: unknown %s type '%s'\n",
                           to_gguf ? "GGUF" : "model directory", type->c_str());
              return 2;
            }
            auto model = model::Model::load(*in, {.keep_tensors = true});
            if (!model.ok()) {
              std::fprintf(stderr, "inferd quantize: %s\n", model.status().to_string().c_str());
              return 1;
            }
            const Status st = to_gguf ? model::export_gguf(**model, *gguf_type, *out)
                                      : model::export_hf_dir(**model, *dir_format, *out);
            if (!st.ok()) {
              std::fprintf(stderr, "inferd quantize: %s\n", st.to_string().c_str());
              return 1;
            }
            std::fprintf(stderr, "wrote %s\n", out->c_str());
            return 0;
          }};
}

}  // namespace inferd::cli
