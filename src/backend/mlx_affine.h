// MLX affine quantization: a row of `cols` weights is split into groups of `group_size`; each
// group has a scale s and a bias b and each weight an unsigned `bits`-bit code q, with
// w = s * q + b. MLX files store the codes of a row as one LSB-first bit stream in uint32 words
// (code k of the row occupies bits [k * bits, (k + 1) * bits) of the little-endian stream) and
// the scales and biases as separate [rows, cols / group_size] tensors.
//
// At load, inferd repacks each group into one block of its DType kMlx*: f32 scale, f32 bias,
// then the codes. 8-bit codes are one byte each in order; 4-bit codes are stored per 32 codes as
// 16 bytes, byte j holding code j in its low nibble and code j + 16 in its high nibble (the
// order SIMD kernels unpack without shuffles, the order of Q8_0 activations). Dequantization is
// w = fmaf(s, q, b); the matmul kernels multiply the codes with int8 activations and apply s and b
// per 32-element block (backend/cpu/mlx_affine_ops.cpp). Model matrices of the kMlx* types are
// also repacked at load into the row panels of backend/cpu/panel_ops.h where the CPU has those
// kernels.
#pragma once

#include <cstdint>
#include <optional>

#include "backend/dtype.h"

namespace inferd::backend {

struct MlxAffineSpec {
  int bits = 4;
  int group_size = 64;
};

// The block type for a spec, or nullopt when inferd has no kernels for it.
std::optional<DType> mlx_affine_type(MlxAffineSpec spec);
// The block type weights of a valid spec load into: its own type for 4 and 8 bits; for 2, 3, 5
// and 6 bits the 8-bit type of the same group size (each code widened to a byte, the scales and
// biases unchanged, so every weight keeps its exact value). nullopt for invalid specs.
std::optional<DType> mlx_affine_load_type(MlxAffineSpec spec);
// The spec of a kMlx* type; nullopt for other types.
std::optional<MlxAffineSpec> mlx_affine_spec(DType type);
// True for the specs MLX files may use (bits 2, 3, 4, 5, 6, 8; group 32, 64, 128).
bool mlx_affine_spec_valid(MlxAffineSpec spec);

// Code k of an LSB-first bit stream of `bits`-bit codes.
uint32_t mlx_code(const uint8_t* stream, int64_t k, int bits);

// Repacks one row from MLX layout (stream of `code_bits`-bit codes, per-group scales and biases
// as f32) into blocks of `type`. REQUIRES mlx_affine_spec(type) with code_bits <= its bits and
// the same group size, cols % group_size == 0.
void mlx_pack_row(const uint8_t* codes, int code_bits, const float* scales, const float* biases,
                  int64_t cols, DType type, void* dst);

// Quantizes one row to MLX layout: `codes` receives cols * bits / 8 bytes (REQUIRES cols * bits
// a multiple of 32), scales and biases cols / group_size values each. `round_param` rounds a
// scale or bias to the precision it will be stored in (e.g. to F16 and back), so that the codes
// are chosen for the stored values. Each group maps its minimum to code 0 and its maximum to the
// top code.
void mlx_quantize_row(const float* w, int64_t cols, MlxAffineSpec spec, float (*round_param)(float),
                      uint8_t* codes, float* scales, float* biases);

}  // namespace inferd::backend
