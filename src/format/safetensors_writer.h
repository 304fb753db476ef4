// SafetensorsWriter: writes one .safetensors file (quantized model directories, tests). The
// header is padded with spaces to a multiple of 8 bytes so that tensor data starts 8-aligned;
// tensors are laid out in insertion order. write() goes to a temporary file renamed into place.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "format/safetensors_dtype.h"

namespace inferd::format {

class SafetensorsWriter {
 public:
  // REQUIRES data.size() == product(shape) * element size of dtype; names are unique.
  void add(std::string name, SafetensorsDType dtype, std::vector<int64_t> shape,
           std::vector<uint8_t> data);
  void set_metadata(std::string key, std::string value) {
    metadata_[std::move(key)] = std::move(value);
  }

  Status write(const std::string& path) const;
  std::vector<uint8_t> to_bytes() const;
  size_t num_tensors() const { return tensors_.size(); }

 private:
  struct Tensor {
    std::string name;
    SafetensorsDType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;
  };
  std::string header() const;

  std::vector<Tensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace inferd::format
