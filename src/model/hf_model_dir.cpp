#include "model/hf_model_dir.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/ranges.h>

#include "backend/mlx_affine.h"
#include "base/check.h"
#include "base/half.h"
#include "model/hf_tensor_names.h"

namespace inferd::model {
namespace {

namespace fs = std::filesystem;
using format::SafetensorsDType;
using format::SafetensorsTensor;
using json = nlohmann::json;

Result<json> read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("{}: cannot open", path.string());
  std::ostringstream s;
  s << in.rdbuf();
  json j = json::parse(s.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_argument("{}: not valid JSON", path.string());
  return j;
}

// Element i of a 1-byte-aligned F32/F16/BF16 tensor as float.
float load_float(const SafetensorsTensor& t, int64_t i) {
  switch (t.dtype) {
    case SafetensorsDType::kF32: {
      float v;
      std::memcpy(&v, t.bytes.data() + 4 * i, 4);
      return v;
    }
    case SafetensorsDType::kF16:
    case SafetensorsDType::kBF16: {
      uint16_t h;
      std::memcpy(&h, t.bytes.data() + 2 * i, 2);
      return t.dtype == SafetensorsDType::kF16 ? f16_to_f32(h) : bf16_to_f32(h);
    }
    default: return 0.0f;
  }
}

bool is_float(SafetensorsDType d) {
  return d == SafetensorsDType::kF32 || d == SafetensorsDType::kF16 || d == SafetensorsDType::kBF16;
}

std::string_view dtype_name(SafetensorsDType d) {
  return format::safetensors_dtype_info(d).name;
}

TensorInfo info_for(std::string name, backend::DType type, const std::vector<int64_t>& shape) {
  TensorInfo t;
  t.name = std::move(name);
  t.type = type;
  t.num_dims = std::max<int>(1, static_cast<int>(shape.size()));
  for (size_t d = 0; d < shape.size(); ++d) t.dims[d] = shape[shape.size() - 1 - d];
  return t;
}

}  // namespace

bool HfModelDir::is_model_dir(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::exists(fs::path(path) / "config.json", ec);
}

Result<std::unique_ptr<HfModelDir>> HfModelDir::open(const std::string& dir, TensorTable* tensors) {
  std::unique_ptr<HfModelDir> d(new HfModelDir());
  d->dir_ = dir;
  const fs::path root(dir);
  INFERD_ASSIGN_OR_RETURN(d->config_json_, read_json(root / "config.json"));
  json generation;
  std::error_code ec;
  if (fs::exists(root / "generation_config.json", ec)) {
    INFERD_ASSIGN_OR_RETURN(generation, read_json(root / "generation_config.json"));
  }
  std::string name = fs::path(dir).lexically_normal().filename().string();
  if (name.empty()) name = fs::path(dir).lexically_normal().parent_path().filename().string();
  INFERD_ASSIGN_OR_RETURN(d->config_, parse_hf_config(d->config_json_, &generation, name));
  INFERD_ASSIGN_OR_RETURN(d->set_, format::SafetensorsSet::open_dir(dir));
  INFERD_RETURN_IF_ERROR(d->add_tensors(tensors));
  return d;
}

Status HfModelDir::add_tensors(TensorTable* tensors) const {
  const ArchSpec& arch = *config_.hp.arch;
  for (const SafetensorsTensor* st : set_->tensors()) {
    const std::string& hf_name = st->name;
    if (hf_name.ends_with(".scales") || hf_name.ends_with(".biases")) continue;
    const auto internal = hf_to_internal_name(arch, hf_name);
    if (!internal) continue;  // not used by inferd (rotary caches, vision towers)
    if (tensors->find_tensor(*internal))
      return invalid_argument("tensors '{}' and another name both map to '{}'", hf_name, *internal);
    const std::string module =
        hf_name.ends_with(".weight") ? hf_name.substr(0, hf_name.size() - 7) : hf_name;
    const SafetensorsTensor* scales = set_->find(module + ".scales");

    if (scales) {
      // MLX affine: weight [rows, cols * bits / 32] uint32, scales/biases [rows, cols / group].
      const SafetensorsTensor* biases = set_->find(module + ".biases");
      if (!biases)
        return invalid_argument("quantized tensor '{}' has scales but no biases", hf_name);
      if (!config_.quant)
        return invalid_argument("tensor '{}' is quantized but config.json has no \"quantization\"",
                                hf_name);
      const auto spec = config_.quant->spec_for(module);
      if (!spec)
        return invalid_argument(
            "tensor '{}' has scales but its module is unquantized in config.json", hf_name);
      const auto type = backend::mlx_affine_load_type(*spec);
      INFERD_CHECK(type.has_value());  // parse_mlx_quant_config accepts valid specs only
      // Experts stacked MLX's switch_mlp way have a leading expert dimension: [n, rows, ...].
      const size_t nd = st->shape.size();
      if (st->dtype != SafetensorsDType::kU32 || (nd != 2 && nd != 3))
        return invalid_argument("quantized tensor '{}' must be a 2-D or 3-D U32 tensor, is {} {}",
                                hf_name, dtype_name(st->dtype), st->shape_string());
      const int64_t num_stacked = nd == 3 ? st->shape[0] : 1;
      const int64_t matrix_rows = st->shape[nd - 2];
      const int64_t rows = num_stacked * matrix_rows;
      const int64_t cols = st->shape[nd - 1] * 32 / spec->bits;
      if (st->shape[nd - 1] * 32 % spec->bits != 0 || cols % spec->group_size != 0 ||
          matrix_rows <= 0 || num_stacked <= 0 || cols <= 0)
        return invalid_argument("quantized tensor '{}' shape {} does not fit {}-bit groups of {}",
                                hf_name, st->shape_string(), spec->bits, spec->group_size);
      std::vector<int64_t> shape = st->shape;
      shape[nd - 1] = cols;
      std::vector<int64_t> param_shape = st->shape;
      param_shape[nd - 1] = cols / spec->group_size;
      for (const SafetensorsTensor* p : {scales, biases})
        if (!is_float(p->dtype) || p->shape != param_shape)
          return invalid_argument("tensor '{}' must be F32/F16/BF16 of shape {}, is {} {}", p->name,
                                  fmt::format("[{}]", fmt::join(param_shape, ", ")),
                                  dtype_name(p->dtype), p->shape_string());
      TensorInfo t = info_for(*internal, *type, shape);
      const size_t row_bytes = static_cast<size_t>(backend::dtype_bytes(*type, cols));
      t.size_bytes = row_bytes * rows;
      uint8_t* dst = tensors->add_owned(std::move(t));
      const int64_t groups = cols / spec->group_size;
      std::vector<float> s(groups), b(groups);
      const size_t code_row_bytes = static_cast<size_t>(st->shape[nd - 1]) * 4;
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t g = 0; g < groups; ++g) {
          s[g] = load_float(*scales, r * groups + g);
          b[g] = load_float(*biases, r * groups + g);
        }
        backend::mlx_pack_row(st->bytes.data() + r * code_row_bytes, spec->bits, s.data(), b.data(),
                              cols, *type, dst + r * row_bytes);
      }
      continue;
    }

    if (!is_float(st->dtype))
      return unsupported(
          "tensor '{}' has dtype {}; inferd uses F32, F16, BF16 or MLX-quantized U32", hf_name,
          dtype_name(st->dtype));
    if (st->shape.size() > 4)
      return invalid_argument("tensor '{}' has {} dimensions", hf_name, st->shape.size());
    const backend::DType type = *format::safetensors_dtype_info(st->dtype).engine_type;
    const int64_t n = st->num_elements();
    const bool norm = internal->ends_with("norm.weight");
    if (norm && arch.hf_norm_plus_one) {
      TensorInfo t = info_for(*internal, backend::DType::kF32, st->shape);
      t.size_bytes = static_cast<uint64_t>(n) * 4;
      auto* dst = reinterpret_cast<float*>(tensors->add_owned(std::move(t)));
      for (int64_t i = 0; i < n; ++i) dst[i] = load_float(*st, i) + 1.0f;
      continue;
    }
    TensorInfo t = info_for(*internal, type, st->shape);
    t.size_bytes = st->bytes.size();
    const size_t elem = static_cast<size_t>(format::safetensors_dtype_info(st->dtype).elem_bytes);
    if (reinterpret_cast<uintptr_t>(st->bytes.data()) % elem == 0) {
      t.data = st->bytes.data();
      tensors->add(std::move(t));
    } else {
      std::memcpy(tensors->add_owned(std::move(t)), st->bytes.data(), st->bytes.size());
    }
  }
  if (!config_.rope_freq_factors.empty()) {
    const auto& f = config_.rope_freq_factors;
    TensorInfo t =
        info_for("rope_freqs.weight", backend::DType::kF32, {static_cast<int64_t>(f.size())});
    t.size_bytes = f.size() * 4;
    std::memcpy(tensors->add_owned(std::move(t)), f.data(), f.size() * 4);
  }
  return Status::ok_status();
}

}  // namespace inferd::model
