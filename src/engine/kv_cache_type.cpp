#include "engine/kv_cache_type.h"

#include <array>

namespace inferd {
namespace {

struct KvCacheTypeRow {
  KvCacheType type;
  const char* name;
  backend::DType dtype;
};

constexpr std::array<KvCacheTypeRow, 2> kKvCacheTypes = {{
    {KvCacheType::kF16, "f16", backend::DType::kF16},
    {KvCacheType::kQ8_0, "q8_0", backend::DType::kQ8_0},
}};

const KvCacheTypeRow& row(KvCacheType type) {
  for (const auto& r : kKvCacheTypes)
    if (r.type == type) return r;
  return kKvCacheTypes[0];
}

}  // namespace

const char* kv_cache_type_name(KvCacheType type) { return row(type).name; }

std::optional<KvCacheType> parse_kv_cache_type(std::string_view name) {
  for (const auto& r : kKvCacheTypes)
    if (name == r.name) return r.type;
  return std::nullopt;
}

namespace engine {

backend::DType kv_cache_dtype(KvCacheType type) { return row(type).dtype; }

}  // namespace engine
}  // namespace inferd
