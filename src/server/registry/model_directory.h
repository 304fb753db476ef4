// Models found in a directory (the ancestor's MODELS_DIR): every GGUF file and every Hugging
// Face / MLX model directory (config.json beside *.safetensors) below it, with its size and
// architecture.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace inferd::server {

struct FoundModel {
  std::string path;
  std::string format;        // "gguf" or "safetensors"
  uint64_t size_bytes = 0;   // the file, or every file of the directory
  std::string architecture;  // general.architecture, or config.json's architectures[0]/model_type
  std::string error;         // why the header could not be read (the model is listed anyway)
};

// Scans `dir` recursively; results sorted by path. Errors: `dir` is not a readable directory.
Result<std::vector<FoundModel>> scan_models_dir(const std::string& dir);

}  // namespace inferd::server
