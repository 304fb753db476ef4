#include "model/mlx_quant_config.h"

#include <nlohmann/json.hpp>

namespace inferd::model {
namespace {

Result<backend::MlxAffineSpec> parse_spec(const nlohmann::json& j, const std::string& where) {
  auto g = j.find("group_size");
  auto b = j.find("bits");
  if (g == j.end() || b == j.end() || !g->is_number_integer() || !b->is_number_integer())
    return invalid_argument("{}: needs integer \"group_size\" and \"bits\"", where);
  const backend::MlxAffineSpec spec{static_cast<int>(b->get<int64_t>()),
                                    static_cast<int>(g->get<int64_t>())};
  if (b->get<int64_t>() != spec.bits || g->get<int64_t>() != spec.group_size ||
      !backend::mlx_affine_spec_valid(spec))
    return invalid_argument(
        "{}: bits {} / group_size {} are not an MLX affine quantization "
        "(bits 2, 3, 4, 5, 6, 8; group_size 32, 64, 128)",
        where, b->dump(), g->dump());
  return spec;
}

}  // namespace

std::optional<backend::MlxAffineSpec> MlxQuantConfig::spec_for(const std::string& hf_module) const {
  auto it = overrides.find(hf_module);
  return it == overrides.end() ? std::optional(default_spec) : it->second;
}

Result<MlxQuantConfig> parse_mlx_quant_config(const nlohmann::json& q) {
  if (!q.is_object()) return invalid_argument("quantization: not an object");
  if (auto m = q.find("quant_method");
      m != q.end() && !(m->is_string() && m->get<std::string>() == "mlx"))
    return unsupported("quantization method {} is not supported (MLX affine only)", m->dump());
  if (auto m = q.find("mode");
      m != q.end() && !(m->is_string() && m->get<std::string>() == "affine"))
    return unsupported("MLX quantization mode {} is not supported (affine only)", m->dump());
  MlxQuantConfig c;
  INFERD_ASSIGN_OR_RETURN(c.default_spec, parse_spec(q, "quantization"));
  for (const auto& [key, value] : q.items()) {
    if (value.is_boolean()) {
      if (!value.get<bool>()) c.overrides[key] = std::nullopt;
    } else if (value.is_object()) {
      INFERD_ASSIGN_OR_RETURN(auto spec, parse_spec(value, "quantization." + key));
      c.overrides[key] = spec;
    }
  }
  return c;
}

}  // namespace inferd::model
