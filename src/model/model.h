// Model: a loaded model (its tensors, hyper-parameters, bound weights and the forward pass),
// from a GGUF file or a Hugging Face / MLX directory (config.json, *.safetensors). Immutable after
// load; share it between contexts and threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "format/gguf_file.h"
#include "model/hparams.h"
#include "model/tensor_table.h"
#include "model/transformer.h"
#include "model/weights.h"

namespace inferd::model {

class HfModelDir;

class Model {
 public:
  struct LoadOptions {
    // Keep every tensor's data readable through tensors() (conversion: model_export.h). By
    // default the block forms of a directory's matrices are released once their panels exist
    // (Weights), so the model holds its weights once.
    bool keep_tensors = false;
  };
  // Loads a GGUF file, or a model directory when `path` is a directory.
  static Result<std::unique_ptr<Model>> load(const std::string& path, LoadOptions options);
  static Result<std::unique_ptr<Model>> load(const std::string& path) { return load(path, {}); }
  // Takes ownership of an already opened file.
  static Result<std::unique_ptr<Model>> from_file(std::unique_ptr<format::GgufFile> file);
  ~Model();

  const std::string& path() const { return path_; }
  // The GGUF file (metadata, tokenizer), or nullptr for a model directory.
  const format::GgufFile* gguf() const { return file_.get(); }
  // The directory's contents (config, generation config), or nullptr for a GGUF file.
  const HfModelDir* hf_dir() const { return hf_dir_.get(); }
  // End-of-generation token ids the model's own files name (generation_config.json and
  // config.json for directories; empty for GGUF files, whose tokenizer metadata has them).
  const std::vector<int32_t>& eos_token_ids() const { return eos_token_ids_; }
  // Bytes of the model's files (the GGUF file, or every safetensors shard).
  uint64_t file_size_bytes() const { return file_size_bytes_; }
  // Weight memory held while serving (ModelInfo::resident_weight_bytes): a GGUF file's tensors
  // (its panels stand in for a mapping the system can drop); a directory's tensors still held
  // (released block forms not counted) plus the panel copies of matrices.
  uint64_t resident_weight_bytes() const {
    return gguf() ? weights().total_bytes : tensors_.held_bytes() + weights().panel_bytes();
  }

  const TensorTable& tensors() const { return tensors_; }
  const HParams& hparams() const { return hp_; }
  const Weights& weights() const { return weights_; }
  const Transformer& transformer() const { return *transformer_; }

 private:
  Model() = default;
  Status bind(const LoadOptions& options);

  std::string path_;
  std::unique_ptr<format::GgufFile> file_;
  std::unique_ptr<HfModelDir> hf_dir_;
  std::vector<int32_t> eos_token_ids_;
  uint64_t file_size_bytes_ = 0;
  TensorTable tensors_;
  HParams hp_;
  Weights weights_;
  std::unique_ptr<Transformer> transformer_;
};

}  // namespace inferd::model
