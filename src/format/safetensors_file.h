// SafetensorsFile: one .safetensors file, memory-mapped. The JSON header is parsed and checked
// whole by open()/parse(): every tensor has a known dtype, a non-negative shape whose byte size
// (without overflow) equals its data_offsets range, and the ranges tile the data section exactly
// (no overlap, no hole, nothing past the end), as the format requires. After a successful open,
// every tensor's bytes lie inside the file. Tensor data is not copied.
// Thread safety: immutable after open(); safe to share.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "format/safetensors_dtype.h"

namespace inferd::format {

struct SafetensorsTensor {
  std::string name;
  SafetensorsDType dtype = SafetensorsDType::kF32;
  std::vector<int64_t> shape;  // outermost first (row-major, as PyTorch); may be empty (scalar)
  std::span<const uint8_t> bytes;

  int64_t num_elements() const;
  std::string shape_string() const;
};

class SafetensorsFile {
 public:
  // Headers larger than this are rejected (the reference implementation's limit).
  static constexpr uint64_t kMaxHeaderBytes = 100u << 20;
  static constexpr size_t kMaxDims = 8;

  static Result<std::unique_ptr<SafetensorsFile>> open(const std::string& path);
  // Parses bytes that the caller keeps alive for the file's lifetime (tests, fuzzing).
  static Result<std::unique_ptr<SafetensorsFile>> parse(std::span<const uint8_t> bytes,
                                                        std::string name);

  const std::string& path() const { return name_; }
  size_t file_size_bytes() const { return bytes_.size(); }
  // Tensors in data order.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;
  // The optional "__metadata__" string map.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  Status parse_header();

  MappedFile file_;
  std::span<const uint8_t> bytes_;
  std::string name_;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace inferd::format
