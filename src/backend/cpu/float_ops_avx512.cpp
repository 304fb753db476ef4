// AVX-512 kernels of the float weight types: 16 elements per step, weights converted to float
// in registers and multiplied with F32 activations by FMA into per-lane accumulators; the
// ragged end of a row uses masked loads. One horizontal sum per output at the end.
#include <immintrin.h>

#include <cstdint>

#include "backend/cpu/float_kernels.h"
#include "backend/cpu/tile_prefetch.h"

// GCC 12 reports the _mm512_undefined_* placeholders inside its own intrinsics (cvtph_ps,
// reduce_add_ps) as uninitialized once they are inlined; they are not.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace inferd::backend::cpu::avx512 {
namespace {

struct F32W {
  using Elem = float;
  static __m512 load(const Elem* p) { return _mm512_loadu_ps(p); }
  static __m512 load(const Elem* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};
struct F16W {
  using Elem = uint16_t;
  static __m512 load(const Elem* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 load(const Elem* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};
struct BF16W {
  using Elem = uint16_t;
  static __m512 widen(__m256i v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
  }
  static __m512 load(const Elem* p) {
    return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 load(const Elem* p, __mmask16 m) { return widen(_mm256_maskz_loadu_epi16(m, p)); }
};

// R rows x T activations; rows past num_rows repeat the last row and are not stored.
template <class W, int R, int T>
void tile(int64_t n, const uint8_t* w, size_t w_stride, int num_rows, const uint8_t* act,
          size_t act_stride, float* out, size_t out_stride) {
  const typename W::Elem* rows[R];
  const float* acts[T];
  for (int r = 0; r < R; ++r)
    rows[r] =
        reinterpret_cast<const typename W::Elem*>(w + (r < num_rows ? r : num_rows - 1) * w_stride);
  for (int t = 0; t < T; ++t) acts[t] = reinterpret_cast<const float*>(act + t * act_stride);

  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();

  TilePrefetch prefetch(w, R * w_stride, (n + 15) / 16);
  auto step = [&](int64_t k, __mmask16 mask, bool full) __attribute__((always_inline)) {
    prefetch.step();
    __m512 a[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t)
      a[t] = full ? _mm512_loadu_ps(acts[t] + k) : _mm512_maskz_loadu_ps(mask, acts[t] + k);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 wv = full ? W::load(rows[r] + k) : W::load(rows[r] + k, mask);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, a[t], acc[r][t]);
    }
  };
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) step(k, 0xffff, true);
  if (k < n) step(k, static_cast<__mmask16>((1u << (n - k)) - 1), false);

    // Unrolled with constant indices, so that acc stays in registers.
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    if (r >= num_rows) break;
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) out[t * out_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
}

template <class W>
void gemm(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
          size_t act_stride, int num_acts, float* out, size_t out_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(act);
  for (int r = 0; r < num_rows; r += 4) {
    const int nr = num_rows - r < 4 ? num_rows - r : 4;
    const uint8_t* rw = wb + r * w_stride;
    float* o = out + r;
    switch (num_acts) {
      case 1: tile<W, 4, 1>(n, rw, w_stride, nr, ab, act_stride, o, out_stride); break;
      case 2: tile<W, 4, 2>(n, rw, w_stride, nr, ab, act_stride, o, out_stride); break;
      case 3: tile<W, 4, 3>(n, rw, w_stride, nr, ab, act_stride, o, out_stride); break;
      default: tile<W, 4, 4>(n, rw, w_stride, nr, ab, act_stride, o, out_stride); break;
    }
  }
}

}  // namespace

void gemm_f32(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
              float* out, size_t os) {
  gemm<F32W>(n, w, ws, nr, a, as, na, out, os);
}
void gemm_f16(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
              float* out, size_t os) {
  gemm<F16W>(n, w, ws, nr, a, as, na, out, os);
}
void gemm_bf16(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
               float* out, size_t os) {
  gemm<BF16W>(n, w, ws, nr, a, as, na, out, os);
}

void f16_to_float(const void* src, float* dst, int64_t n) {
  const auto* s = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, F16W::load(s + i));
  if (i < n) {
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(dst + i, m, F16W::load(s + i, m));
  }
}

// vcvtps2ph rounds to nearest even, like f32_to_f16, for every non-NaN value (including
// overflow to infinity and half subnormals).
void f16_from_float(const float* src, void* dst, int64_t n) {
  auto* d = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i),
                        _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  if (i < n) {
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm256_mask_storeu_epi16(
        d + i, m, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i), _MM_FROUND_TO_NEAREST_INT));
  }
}

}  // namespace inferd::backend::cpu::avx512
