// MLX affine quantization: a row of `cols` weights is split into groups of `group_size`; each
// group has a scale s and a bias b and each weight an unsigned `bits`-bit code q, with
// w = s * q + b. MLX files store the codes of a row as one LSB-first bit stream in uint32 words
// (code k of the row occupies bits [k * bits, (k + 1) * bits) of the little-endian stream) and
// the scales and biases as separate [rows, cols / group_size] tensors.
//
// At load, inferd repacks each group into one block of its DType kMlx*: f32 scale, f32 bias,
// then the codes at their own width (bits * group_size / 8 bytes), per 32 codes one chunk of
// 4 * bits bytes in the order of Q8_0 activations, so that SIMD kernels unpack a chunk into the
// 32 bytes of an activation block with shifts and masks. A chunk is one or two bit planes
// (mlx_chunk_planes): the low bits of every code, then for 3, 5 and 6 bits the remaining high
// bits. A plane of width w holds 4 * w bytes; code e's w bits are bits [w * (e / (4 * w)),
// w * (e / (4 * w)) + w) of byte e % (4 * w). So 8-bit codes are one byte each in order; 4-bit
// codes share byte j as code j (low nibble) and code j + 16 (high nibble); 2-bit planes hold
// codes j, j + 8, j + 16, j + 24 in byte j; 1-bit planes are bit e / 4 of byte e % 4.
// Dequantization is w = fmaf(s, q, b); the matmul kernels multiply the codes with int8
// activations and apply s and b per 32-element block (backend/cpu/mlx_affine_ops.cpp). Model
// matrices of every kMlx* type are also repacked at load into the row panels of
// backend/cpu/panel_ops.h where the CPU has those kernels; the panels keep these planes (same
// bytes per row, interleaved across rows), so they stay the block form's size.
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
// The block type weights of a valid spec load into: its own type (every valid spec has one, so
// codes keep the file's width in memory). nullopt for invalid specs.
std::optional<DType> mlx_affine_load_type(MlxAffineSpec spec);
// The spec of a kMlx* type; nullopt for other types.
std::optional<MlxAffineSpec> mlx_affine_spec(DType type);
// True for the specs MLX files may use (bits 2, 3, 4, 5, 6, 8; group 32, 64, 128).
bool mlx_affine_spec_valid(MlxAffineSpec spec);

// Code k of an LSB-first bit stream of `bits`-bit codes.
uint32_t mlx_code(const uint8_t* stream, int64_t k, int bits);

// The bit planes of a chunk of `bits`-bit codes in a block, low code bits first: 2 -> {2, 0},
// 3 -> {2, 1}, 4 -> {4, 0}, 5 -> {4, 1}, 6 -> {4, 2}, 8 -> {8, 0} (high_bits 0: one plane).
struct MlxChunkPlanes {
  int low_bits;
  int high_bits;
};
constexpr MlxChunkPlanes mlx_chunk_planes(int bits) {
  const int low = bits >= 8 ? 8 : bits >= 4 ? 4 : 2;
  return {low, bits - low};
}
// Field of code e (< 32) in a plane of width w: bits [w * (e / (4 * w)), +w) of byte e % (4 * w).
inline uint32_t mlx_plane_field(const uint8_t* plane, int w, int e) {
  return (static_cast<uint32_t>(plane[e % (4 * w)]) >> (w * (e / (4 * w)))) & ((1u << w) - 1u);
}
// Code e (< 32) of a chunk of `bits`-bit codes in block layout (4 * bits bytes). Inline, so that
// kernels with a constant `bits` decode without calls.
inline uint32_t mlx_chunk_code(const uint8_t* chunk, int bits, int e) {
  const MlxChunkPlanes planes = mlx_chunk_planes(bits);
  uint32_t code = mlx_plane_field(chunk, planes.low_bits, e);
  if (planes.high_bits > 0)
    code |= mlx_plane_field(chunk + 4 * planes.low_bits, planes.high_bits, e) << planes.low_bits;
  return code;
}

// Repacks one row from MLX layout (stream of `code_bits`-bit codes, per-group scales and biases
// as f32) into blocks of `type`. REQUIRES mlx_affine_spec(type) with code_bits <= its bits (fewer
// bits widen the codes: same values, wider storage) and the same group size,
// cols % group_size == 0.
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
