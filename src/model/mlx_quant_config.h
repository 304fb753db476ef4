// MlxQuantConfig: the "quantization" (or "quantization_config") object of an MLX config.json:
// a default {group_size, bits} and per-module overrides keyed by HF module path
// ("model.layers.0.mlp.down_proj": {"group_size": 32, "bits": 8}, or false for a module left
// unquantized).
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "backend/mlx_affine.h"
#include "base/status.h"

namespace inferd::model {

struct MlxQuantConfig {
  backend::MlxAffineSpec default_spec;
  // nullopt: the module is not quantized.
  std::map<std::string, std::optional<backend::MlxAffineSpec>> overrides;

  // The spec of module `hf_module` (its HF path without ".weight"), or nullopt when unquantized.
  std::optional<backend::MlxAffineSpec> spec_for(const std::string& hf_module) const;
};

// Parses the object; InvalidArgument for bits or group sizes MLX does not define, Unsupported for
// quantization methods other than MLX's affine one.
Result<MlxQuantConfig> parse_mlx_quant_config(const nlohmann::json& q);

}  // namespace inferd::model
