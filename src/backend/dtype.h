// DType: element and block types of tensors, numbered as in GGUF files (ggml type ids), and the
// one table of their storage sizes. Quantized types store blocks of `block_elems` elements in
// `block_bytes` bytes; a row's length must be a multiple of block_elems.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace inferd::backend {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  // MLX affine quantization (backend/mlx_affine.h), in inferd's load-time block layout. These ids
  // are inferd's own, never valid in a GGUF file.
  kMlxQ4G32 = 1000,
  kMlxQ4G64 = 1001,
  kMlxQ4G128 = 1002,
  kMlxQ8G32 = 1003,
  kMlxQ8G64 = 1004,
  kMlxQ8G128 = 1005,
  kMlxQ2G32 = 1006,
  kMlxQ2G64 = 1007,
  kMlxQ2G128 = 1008,
  kMlxQ3G32 = 1009,
  kMlxQ3G64 = 1010,
  kMlxQ3G128 = 1011,
  kMlxQ5G32 = 1012,
  kMlxQ5G64 = 1013,
  kMlxQ5G128 = 1014,
  kMlxQ6G32 = 1015,
  kMlxQ6G64 = 1016,
  kMlxQ6G128 = 1017,
};

struct DTypeInfo {
  DType type;
  const char* name;     // lower case, as users write it: "q4_0", "f16"
  int32_t block_elems;  // elements per block (1 for plain types)
  int32_t block_bytes;  // bytes per block
  bool computable;      // inferd has kernels for it (others can be read but not used)
  bool in_gguf = true;  // a GGUF tensor may have this type (false: in-memory layouts only)
};

// Info for a type id read from a GGUF file; nullopt for ids this build does not know and for
// in-memory types (in_gguf false).
std::optional<DTypeInfo> dtype_info(uint32_t raw_type);
const DTypeInfo& dtype_info(DType type);
inline const char* dtype_name(DType type) { return dtype_info(type).name; }
// Parses a name such as "q4_k" or "F16" (case-insensitive).
std::optional<DType> dtype_from_name(std::string_view name);

// Bytes for `num_elems` elements; REQUIRES num_elems % block_elems == 0.
int64_t dtype_bytes(DType type, int64_t num_elems);

}  // namespace inferd::backend
