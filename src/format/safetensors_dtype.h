// SafetensorsDType: the element types a safetensors header may name, with their sizes and the
// engine type each maps to (if any). Every standard name is recognised so that a file holding a
// type the engine cannot compute with still opens; users of the tensor decide what they accept.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "backend/dtype.h"

namespace inferd::format {

enum class SafetensorsDType : uint8_t {
  kBool,
  kU8,
  kI8,
  kF8_E5M2,
  kF8_E4M3,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kF64,
  kI64,
  kU64,
};

struct SafetensorsDTypeInfo {
  SafetensorsDType type;
  std::string_view name;  // as written in headers: "F16", "BF16", "U32" ...
  int32_t elem_bytes;
  // The engine type of the same bits, when the engine can hold such a tensor as weights.
  std::optional<backend::DType> engine_type;
};

// Info for a header's dtype string; nullopt for names that are not safetensors types.
std::optional<SafetensorsDTypeInfo> safetensors_dtype(std::string_view name);
const SafetensorsDTypeInfo& safetensors_dtype_info(SafetensorsDType type);

}  // namespace inferd::format
