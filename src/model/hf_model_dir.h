// HfModelDir: a Hugging Face / MLX model directory opened for inference: config.json (required),
// generation_config.json (optional) and the safetensors weights. open() maps every HF tensor
// name to its internal name once and fills a TensorTable: F32/F16/BF16 tensors point into the
// mappings (copied only when not aligned to their element); MLX-quantized modules (uint32
// "weight" with "scales" and "biases") are repacked into kMlx* blocks (codes at the file's
// width, see mlx_affine_load_type); Gemma norms get their +1; Llama 3 rope scaling becomes a
// rope_freqs.weight tensor. Tokenizer files are not read here.
// Immutable after open(); safe to share.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "format/safetensors_set.h"
#include "model/hf_config.h"
#include "model/tensor_table.h"

namespace inferd::model {

class HfModelDir {
 public:
  // True when `path` is a directory holding a config.json.
  static bool is_model_dir(const std::string& path);
  // Opens the directory and adds its tensors to `tensors` (which must outlive nothing but this
  // object: its entries point into memory this object owns or into `tensors`' own buffers).
  static Result<std::unique_ptr<HfModelDir>> open(const std::string& dir, TensorTable* tensors);

  const std::string& dir() const { return dir_; }
  const nlohmann::json& config_json() const { return config_json_; }
  const HfConfig& config() const { return config_; }
  const format::SafetensorsSet& weights_files() const { return *set_; }

 private:
  HfModelDir() = default;
  Status add_tensors(TensorTable* tensors) const;

  std::string dir_;
  nlohmann::json config_json_;
  HfConfig config_;
  std::unique_ptr<format::SafetensorsSet> set_;
};

}  // namespace inferd::model
