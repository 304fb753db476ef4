// TensorTable: a model's tensors under inferd's internal (GGUF) names and layouts, whatever file
// format they came from: GGUF tensors point into the file mapping; tensors of Hugging Face / MLX
// directories point into the safetensors mappings or, where the loader converted or repacked them
// (MLX blocks, Gemma norms, data not aligned to its element), into buffers the table owns.
// Immutable after loading; safe to share between threads.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/aligned_buffer.h"
#include "format/gguf_file.h"

namespace inferd::model {

using TensorInfo = format::GgufTensorInfo;

class TensorTable {
 public:
  static TensorTable from_gguf(const format::GgufFile& file);

  // Adds a tensor (REQUIRES: a new name; data stays valid for the table's lifetime).
  void add(TensorInfo t);
  // A zeroed buffer the table owns for the rest of its life (converted tensor data).
  uint8_t* allocate(size_t num_bytes);

  const TensorInfo* find_tensor(const std::string& name) const;
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  uint64_t tensor_bytes() const;

 private:
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::vector<std::unique_ptr<AlignedBuffer>> owned_;
};

}  // namespace inferd::model
