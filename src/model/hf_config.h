// HfConfig: what inferd reads from a Hugging Face model directory's config.json (and
// generation_config.json): the architecture table row chosen by "architectures", the
// hyper-parameters in inferd's HParams form, tied embeddings, MLX quantization and eos ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"
#include "model/hparams.h"
#include "model/mlx_quant_config.h"

namespace inferd::model {

struct HfConfig {
  HParams hp;  // rope_style kNeox: HF q/k rows are not permuted
  bool tie_word_embeddings = false;
  std::optional<MlxQuantConfig> quant;
  // Llama 3 rope scaling: per-frequency divisors [n_rot / 2] (as GGUF's rope_freqs.weight).
  std::vector<float> rope_freq_factors;
  std::vector<int32_t> eos_token_ids;  // generation_config.json, else config.json
};

// `generation_config` may be null. `name` becomes hp.name.
Result<HfConfig> parse_hf_config(const nlohmann::json& config,
                                 const nlohmann::json* generation_config, std::string name);

}  // namespace inferd::model
