#include "format/safetensors_dtype.h"

#include "base/check.h"

namespace inferd::format {
namespace {

using backend::DType;
using enum SafetensorsDType;

constexpr SafetensorsDTypeInfo kTypes[] = {
    {kBool, "BOOL", 1, std::nullopt},
    {kU8, "U8", 1, std::nullopt},
    {kI8, "I8", 1, DType::kI8},
    {kF8_E5M2, "F8_E5M2", 1, std::nullopt},
    {kF8_E4M3, "F8_E4M3", 1, std::nullopt},
    {kI16, "I16", 2, DType::kI16},
    {kU16, "U16", 2, std::nullopt},
    {kF16, "F16", 2, DType::kF16},
    {kBF16, "BF16", 2, DType::kBF16},
    {kI32, "I32", 4, DType::kI32},
    {kU32, "U32", 4, std::nullopt},
    {kF32, "F32", 4, DType::kF32},
    {kF64, "F64", 8, DType::kF64},
    {kI64, "I64", 8, DType::kI64},
    {kU64, "U64", 8, std::nullopt},
};

}  // namespace

std::optional<SafetensorsDTypeInfo> safetensors_dtype(std::string_view name) {
  for (const auto& t : kTypes)
    if (t.name == name) return t;
  return std::nullopt;
}

const SafetensorsDTypeInfo& safetensors_dtype_info(SafetensorsDType type) {
  for (const auto& t : kTypes)
    if (t.type == type) return t;
  INFERD_CHECK_MSG(false, "unknown SafetensorsDType");
  __builtin_unreachable();
}

}  // namespace inferd::format
