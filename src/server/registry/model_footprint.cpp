#include "server/registry/model_footprint.h"

#include <algorithm>

#include "format/gguf_file.h"
#include "model/hparams.h"
#include "model/model.h"

namespace inferd::server {
namespace {

// The engine's rule (EngineLoop::create): ctx_per_slot, else the trained context up to 4096.
int64_t context_of(const EngineOptions& o, int64_t n_ctx_train) {
  return o.ctx_per_slot > 0 ? o.ctx_per_slot : std::min<int64_t>(n_ctx_train, 4096);
}

uint64_t bytes_per_position(const model::HParams& hp) {
  return static_cast<uint64_t>(hp.n_layer * (hp.kv_dim() + hp.v_dim())) * sizeof(uint16_t);
}

}  // namespace

Result<ModelFootprint> estimate_footprint(const ServedModelOptions& o) {
  INFERD_ASSIGN_OR_RETURN(auto file, format::GgufFile::open(o.path));
  INFERD_ASSIGN_OR_RETURN(model::HParams hp, model::read_hparams(*file));
  ModelFootprint f;
  f.weight_bytes = file->tensor_bytes();
  f.kv_bytes_per_position = bytes_per_position(hp);
  const EngineOptions& e = o.engine;
  if (e.kv_budget_bytes > 0) {
    f.kv_bytes = static_cast<uint64_t>(e.kv_budget_bytes);
  } else {
    const int64_t bs = std::max<int64_t>(e.kv_block_size, 1);
    const int64_t blocks_per_ctx = (context_of(e, hp.n_ctx_train) + bs - 1) / bs;
    f.kv_bytes = static_cast<uint64_t>(blocks_per_ctx * bs * std::max(e.max_slots, 1)) *
                 f.kv_bytes_per_position;
  }
  return f;
}

ModelFootprint measured_footprint(const ServedModel& m) {
  ModelFootprint f;
  f.weight_bytes = m.model().info().weight_bytes;
  f.kv_bytes_per_position = bytes_per_position(m.model().core().hparams());
  const EngineStats s = m.engine().stats();
  f.kv_bytes = static_cast<uint64_t>(s.kv_blocks_total * s.kv_block_size) * f.kv_bytes_per_position;
  return f;
}

}  // namespace inferd::server
