// GgufFile: a GGUF (v2, v3) model file, memory-mapped. Metadata is parsed into memory; tensor
// data stays in the mapping (zero copy). Every structural problem of the file (truncation,
// impossible counts or sizes, overlapping or misaligned data, unknown types) is reported as a
// Status by open(); after a successful open, every tensor's bytes lie inside the file.
// Thread safety: immutable after open(); safe to share.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backend/dtype.h"
#include "base/mapped_file.h"
#include "base/status.h"
#include "format/gguf_value.h"

namespace inferd::format {

struct GgufTensorInfo {
  std::string name;
  backend::DType type;
  // dims[0] is the contiguous (row) dimension; unused dims are 1. num_dims in [1, 4].
  std::array<int64_t, 4> dims{1, 1, 1, 1};
  int num_dims = 1;
  uint64_t offset = 0;     // from the start of the data section
  uint64_t size_bytes = 0;
  const uint8_t* data = nullptr;  // inside the mapping

  int64_t num_elements() const { return dims[0] * dims[1] * dims[2] * dims[3]; }
  int64_t num_rows() const { return dims[1] * dims[2] * dims[3]; }
  std::string shape_string() const;
};

class GgufFile {
 public:
  static constexpr uint32_t kDefaultAlignment = 32;
  static constexpr int kMaxDims = 4;

  // Maps and parses `path`.
  static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
  // Parses bytes that the caller keeps alive for the GgufFile's lifetime (tests, fuzzing).
  static Result<std::unique_ptr<GgufFile>> parse(std::span<const uint8_t> bytes, std::string name);

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  const std::string& path() const { return name_; }
  size_t file_size_bytes() const { return bytes_.size(); }

  // Metadata, in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(const std::string& key) const;

  // Typed accessors: NotFound when absent, InvalidArgument when present with an unusable type.
  Result<int64_t> get_int(const std::string& key) const;
  Result<double> get_float(const std::string& key) const;  // accepts integers too
  Result<bool> get_bool(const std::string& key) const;
  Result<std::string> get_string(const std::string& key) const;
  Result<const GgufArray*> get_array(const std::string& key) const;
  // Convenience: the value, or `fallback` when the key is absent (errors still reported).
  Result<int64_t> get_int_or(const std::string& key, int64_t fallback) const;
  Result<double> get_float_or(const std::string& key, double fallback) const;
  Result<bool> get_bool_or(const std::string& key, bool fallback) const;
  Result<std::string> get_string_or(const std::string& key, std::string fallback) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  uint64_t data_offset() const { return data_offset_; }
  // Total bytes of tensor data.
  uint64_t tensor_bytes() const;

 private:
  GgufFile() = default;
  Status parse_all();

  MappedFile file_;
  std::span<const uint8_t> bytes_;
  std::string name_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace inferd::format
