// GgufWriter: writes GGUF v3 files (synthetic models, quantized models, test files).
// Tensor data is produced on demand by a fill callback, so a model larger than memory can be
// written one tensor at a time. write() goes to a temporary file renamed into place on success.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "backend/dtype.h"
#include "base/status.h"
#include "format/gguf_value.h"

namespace inferd::format {

class GgufWriter {
 public:
  // Fills exactly the tensor's bytes.
  using FillFn = std::function<void(std::span<uint8_t> out)>;

  explicit GgufWriter(uint32_t alignment = 32) : alignment_(alignment) {}

  // Adds or replaces a metadata entry (entries keep their first insertion order).
  void set(const std::string& key, GgufValue value);
  void set_u32(const std::string& key, uint32_t v) { set(key, GgufValue(GgufValue::Storage(v))); }
  void set_i32(const std::string& key, int32_t v) { set(key, GgufValue(GgufValue::Storage(v))); }
  void set_u64(const std::string& key, uint64_t v) { set(key, GgufValue(GgufValue::Storage(v))); }
  void set_f32(const std::string& key, float v) { set(key, GgufValue(GgufValue::Storage(v))); }
  void set_bool(const std::string& key, bool v) { set(key, GgufValue(GgufValue::Storage(v))); }
  void set_string(const std::string& key, std::string v) {
    set(key, GgufValue(GgufValue::Storage(std::move(v))));
  }
  void set_array(const std::string& key, GgufArray array);

  // dims[0] is the row length. The tensor's byte size follows from type and dims.
  void add_tensor(std::string name, backend::DType type, std::vector<int64_t> dims, FillFn fill);
  // Copies `data` (which must have the tensor's exact size) into the file.
  void add_tensor_bytes(std::string name, backend::DType type, std::vector<int64_t> dims,
                        std::vector<uint8_t> data);

  Status write(const std::string& path) const;
  // The whole file in memory (tests, fuzz seeds).
  std::vector<uint8_t> to_bytes() const;

 private:
  struct Tensor {
    std::string name;
    backend::DType type;
    std::vector<int64_t> dims;
    uint64_t size_bytes;
    FillFn fill;
  };
  template <typename Sink>
  void emit(Sink& sink) const;

  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace inferd::format
