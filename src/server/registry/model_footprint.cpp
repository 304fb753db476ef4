#include "server/registry/model_footprint.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "backend/cpu/panel_ops.h"
#include "backend/dtype.h"
#include "backend/mlx_affine.h"
#include "base/check.h"
#include "engine/kv_cache_type.h"
#include "format/gguf_file.h"
#include "format/safetensors_set.h"
#include "model/hf_config.h"
#include "model/hf_model_dir.h"
#include "model/hf_tensor_names.h"
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

// Loaded bytes of an MLX group of `spec` (codes, f32 scale and bias) per byte of the group in a
// file with MLX's f16 (or bf16) scales and biases; files with f32 ones give a smaller ratio.
double load_ratio(backend::MlxAffineSpec spec) {
  const auto type = backend::mlx_affine_load_type(spec);
  INFERD_CHECK(type.has_value());  // parse_mlx_quant_config accepts valid specs only
  const double file_bytes = spec.group_size * spec.bits / 8.0 + 4.0;
  return static_cast<double>(backend::dtype_bytes(*type, spec.group_size)) / file_bytes;
}

// A model directory's hyper-parameters (config.json) and weight bytes: its safetensors files,
// widened by the largest load ratio of its MLX specs. Panel copies replace the blocks of the
// matrices they pack (Weights), except the token embedding's, kept for row lookups: a tied
// output's panels come on top when this CPU has panel kernels for the embedding's type.
Result<std::pair<model::HParams, uint64_t>> read_model_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::ifstream in(fs::path(dir) / "config.json");
  const auto config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) return invalid_argument("{}/config.json is not a JSON object", dir);
  INFERD_ASSIGN_OR_RETURN(model::HfConfig hf, model::parse_hf_config(config, nullptr, ""));
  INFERD_ASSIGN_OR_RETURN(auto files, format::SafetensorsSet::open_dir(dir));
  uint64_t bytes = files->file_size_bytes();
  if (!hf.quant) return std::make_pair(hf.hp, bytes);
  double ratio = load_ratio(hf.quant->default_spec);
  for (const auto& [module, spec] : hf.quant->overrides)
    if (spec) ratio = std::max(ratio, load_ratio(*spec));
  bytes = static_cast<uint64_t>(std::ceil(static_cast<double>(bytes) * ratio));
  bool tied = true;
  for (const format::SafetensorsTensor* t : files->tensors())
    if (model::hf_to_internal_name(*hf.hp.arch, t->name) == "output.weight") tied = false;
  if (const auto spec = hf.quant->spec_for("model.embed_tokens"); tied && spec) {
    const auto type = backend::mlx_affine_load_type(*spec);
    const auto* ops = type ? backend::cpu::panel_ops(*type) : nullptr;
    if (ops && hf.hp.n_embd % ops->group_elems == 0)
      bytes += backend::cpu::panel_matrix_bytes(*ops, hf.hp.n_vocab, hf.hp.n_embd);
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
