#include "backend/cpu/type_ops.h"

namespace inferd::backend::cpu {

// Registration point of this family's kernels (filled in by the family's implementation).
const TypeOps* kquant_type_ops(DType, IsaLevel) { return nullptr; }

}  // namespace inferd::backend::cpu
