#include "backend/cpu/type_ops.h"

#include <array>

#include "base/check.h"

namespace inferd::backend::cpu {
namespace {

const TypeOps* exact_ops(DType type, IsaLevel level) {
  if (const TypeOps* t = float_type_ops(type, level)) return t;
  if (const TypeOps* t = legacy_type_ops(type, level)) return t;
  if (const TypeOps* t = kquant_type_ops(type, level)) return t;
  return mlx_affine_type_ops(type, level);
}

}  // namespace

const TypeOps& type_ops(DType type, IsaLevel level) {
  for (int l = static_cast<int>(level); l >= 0; --l)
    if (const TypeOps* t = exact_ops(type, static_cast<IsaLevel>(l))) return *t;
  INFERD_CHECK_MSG(false, dtype_name(type));
  __builtin_unreachable();
}

}  // namespace inferd::backend::cpu
