// ModelFootprint: the memory a model takes once loaded: its weights plus its KV cache pool.
// Estimated from the GGUF header before loading (no tensor data is read), measured after.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "server/served_model.h"

namespace inferd::server {

struct ModelFootprint {
  uint64_t weight_bytes = 0;
  uint64_t kv_bytes = 0;
  uint64_t kv_bytes_per_position = 0;  // keys and values of every layer (f16)

  uint64_t total_bytes() const { return weight_bytes + kv_bytes; }
};

// The footprint `options` will have: the file's tensor bytes and the KV pool the engine will
// allocate (options.engine.kv_budget_bytes, else max_slots contexts). Errors: an unreadable or
// malformed GGUF file, or one without the attention hyperparameters.
Result<ModelFootprint> estimate_footprint(const ServedModelOptions& options);

// The footprint of a loaded model: its weights and its engine's KV pool.
ModelFootprint measured_footprint(const ServedModel& model);

}  // namespace inferd::server
