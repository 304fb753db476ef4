// The tensor type behind each public KvCacheType (inferd/engine.h).
#pragma once

#include "backend/dtype.h"
#include "inferd/engine.h"

namespace inferd::engine {

backend::DType kv_cache_dtype(KvCacheType type);

}  // namespace inferd::engine
