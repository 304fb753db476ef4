// TensorTable: a model's tensors under inferd's internal (GGUF) names and layouts, whatever file
// format they came from: GGUF tensors point into the file mapping; tensors of Hugging Face / MLX
// directories point into the safetensors mappings or, where the loader converted or repacked them
// (MLX blocks, Gemma norms, data not aligned to its element), into a buffer the table owns for
// that one tensor.
//
// Released tensors: while a model is being loaded (Weights::bind, before the table is shared),
// the data of an owned tensor whose every matrix has been repacked into panels may be released:
// its buffer is freed at once and its `data` becomes nullptr; name, type, shape and size_bytes
// stay. Nobody reads a released tensor's data (tools that read tensor data, such as conversion,
// load the model keeping every tensor: Model::LoadOptions::keep_tensors). Tensors in a file
// mapping are never released.
// Immutable after loading; safe to share between threads.
#pragma once

#include <map>
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
  // Adds a tensor whose data the table owns (REQUIRES: a new name): a zeroed buffer of
  // t.size_bytes, returned for the caller to fill before the table is shared.
  uint8_t* add_owned(TensorInfo t);
  // Frees the data of the owned tensor `name` and sets its data to nullptr; returns the bytes
  // freed, 0 (and nothing changes) when the tensor points into a file mapping or is already
  // released. REQUIRES: the tensor exists and nothing reads its data from now on.
  uint64_t release(const std::string& name);

  const TensorInfo* find_tensor(const std::string& name) const;
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // Bytes of every tensor, released ones included (the model's weights as loaded).
  uint64_t tensor_bytes() const;
  // Bytes of the tensors whose data is still held (released tensors not counted).
  uint64_t held_bytes() const;

 private:
  std::vector<TensorInfo> tensors_;
  std::vector<AlignedBuffer> owned_;  // parallel to tensors_: the data of owned tensors, else empty
  std::map<std::string, size_t, std::less<>> index_;
};

}  // namespace inferd::model
