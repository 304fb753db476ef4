#include "server/registry/model_footprint.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "backend/cpu/panel_ops.h"
#include "backend/dtype.h"
#include "backend/mlx_affine.h"
#include "engine/kv_cache_type.h"
#include "format/gguf_file.h"
#include "model/hf_config.h"
#include "model/hf_model_dir.h"
#include "model/hparams.h"
#include "model/model.h"

namespace inferd::server {
namespace {

// The engine's rule (EngineLoop::create): ctx_per_slot, else the trained context up to 4096.
int64_t context_of(const EngineOptions& o, int64_t n_ctx_train) {
  return o.ctx_per_slot > 0 ? o.ctx_per_slot : std::min<int64_t>(n_ctx_train, 4096);
}

uint64_t bytes_per_position(const model::HParams& hp, KvCacheType type) {
  const backend::DType t = engine::kv_cache_dtype(type);
  return static_cast<uint64_t>(hp.n_layer * (backend::dtype_bytes(t, hp.kv_dim()) + backend::dtype_bytes(t, hp.v_dim())));
}

// A model directory's hyper-parameters (config.json) and weight bytes: its safetensors files,
// plus an eighth for MLX groups, whose scales and biases are widened to f32 at load; twice that
// when this CPU also keeps panel copies of matrices of the directory's (default) type.
Result<std::pair<model::HParams, uint64_t>> read_model_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::ifstream in(fs::path(dir) / "config.json");
  const auto config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) return invalid_argument("{}/config.json is not a JSON object", dir);
  INFERD_ASSIGN_OR_RETURN(model::HfConfig hf, model::parse_hf_config(config, nullptr, ""));
  uint64_t bytes = 0;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir, ec))
    if (f.path().extension() == ".safetensors") bytes += f.file_size(ec);
  if (hf.quant) {
    bytes += bytes / 8;
    const auto type = backend::mlx_affine_load_type(hf.quant->default_spec);
    if (type && backend::cpu::panel_ops(*type)) bytes *= 2;
  }
  return std::make_pair(hf.hp, bytes);
}

}  // namespace

Result<ModelFootprint> estimate_footprint(const ServedModelOptions& o) {
  model::HParams hp;
  ModelFootprint f;
  if (model::HfModelDir::is_model_dir(o.path)) {
    INFERD_ASSIGN_OR_RETURN(auto dir, read_model_dir(o.path));
    std::tie(hp, f.weight_bytes) = dir;
  } else {
    INFERD_ASSIGN_OR_RETURN(auto file, format::GgufFile::open(o.path));
    INFERD_ASSIGN_OR_RETURN(hp, model::read_hparams(*file));
    f.weight_bytes = file->tensor_bytes();
  }
  f.kv_bytes_per_position = bytes_per_position(hp, o.engine.kv_type);
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
  f.weight_bytes = m.model().info().resident_weight_bytes;
  f.kv_bytes_per_position = bytes_per_position(m.model().core().hparams(), m.engine().kv_type());
  const EngineStats s = m.engine().stats();
  f.kv_bytes = static_cast<uint64_t>(s.kv_blocks_total * s.kv_block_size) * f.kv_bytes_per_position;
  return f;
}

}  // namespace inferd::server
