// Writing a loaded model in another format and weight type (`inferd quantize`): a GGUF file
// (f32, f16, bf16, q8_0, q4_0, q4_k ...: any type with a quantizer) or a Hugging Face / MLX
// directory (config.json, generation_config.json, model.safetensors) with F32/F16/BF16 weights
// or MLX affine quantization of any bits and group size MLX defines (scales and biases F16).
//
// Every tensor is dequantized to f32 and re-encoded; matrices (2-D ".weight" tensors other than
// norms) take the target type, falling back to F32 when their row length does not fit its
// blocks; vectors stay F32 (directories of a float type use that type throughout). Layout
// conventions are converted: llama q/k rows are permuted between GGUF's interleaved RoPE pairs
// and HF's half-split layout, and Gemma norms get HF's "w - 1" form. GGUF metadata (tokenizer
// included) is copied when the source is a GGUF file; from a directory, only the architecture
// keys are written (the tokenizer is not converted).
//
// Both read every tensor's data: the model must be loaded with Model::LoadOptions::keep_tensors
// (a tensor released after packing is an error, not a crash).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "backend/dtype.h"
#include "backend/mlx_affine.h"
#include "base/status.h"
#include "model/model.h"

namespace inferd::model {

Status export_gguf(const Model& model, backend::DType type, const std::string& out_path);
// The weights of a model directory: one float type throughout, or MLX affine quantization of
// the matrices (other tensors F32).
struct HfDirFormat {
  backend::DType float_type = backend::DType::kF32;
  std::optional<backend::MlxAffineSpec> quant;
};
// Parses "f32", "f16", "bf16" or "mlx_q<bits>_g<group>" (bits 2, 3, 4, 5, 6, 8; group 32, 64, 128).
std::optional<HfDirFormat> parse_hf_dir_format(std::string_view name);

Status export_hf_dir(const Model& model, const HfDirFormat& format, const std::string& out_dir);

}  // namespace inferd::model
