// AVX2 kernels of the float weight types: 8 elements per step, weights converted to float in
// registers and multiplied with F32 activations by FMA into per-lane accumulators; the last
// n % 8 elements go through a scalar loop. One horizontal sum per output at the end.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backend/cpu/float_kernels.h"
#include "backend/cpu/tile_prefetch.h"

namespace inferd::backend::cpu::avx2 {
namespace {

struct F32W {
  using Elem = float;
  static __m256 load(const Elem* p) { return _mm256_loadu_ps(p); }
  static float load1(const Elem* p) { return *p; }
};
struct F16W {
  using Elem = uint16_t;
  static __m256 load(const Elem* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float load1(const Elem* p) { return _cvtsh_ss(*p); }
};
struct BF16W {
  using Elem = uint16_t;
  static __m256 load(const Elem* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
  static float load1(const Elem* p) {
    const uint32_t bits = static_cast<uint32_t>(*p) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
};

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

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

  __m256 acc[R][T];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  TilePrefetch prefetch(w, R * w_stride, n / 8);
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    prefetch.step();
    __m256 a[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) a[t] = _mm256_loadu_ps(acts[t] + k);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 wv = W::load(rows[r] + k);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, a[t], acc[r][t]);
    }
  }
  // Unrolled with constant indices, so that acc stays in registers.
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    if (r >= num_rows) break;
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      float sum = hsum(acc[r][t]);
      for (int64_t i = k; i < n; ++i) sum += W::load1(rows[r] + i) * acts[t][i];
      out[t * out_stride + r] = sum;
    }
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
    if (num_acts == 1) {
      tile<W, 4, 1>(n, rw, w_stride, nr, ab, act_stride, o, out_stride);
    } else {
      tile<W, 4, 2>(n, rw, w_stride, nr, ab, act_stride, o, out_stride);
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
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, F16W::load(s + i));
  for (; i < n; ++i) dst[i] = _cvtsh_ss(s[i]);
}

// vcvtps2ph rounds to nearest even, like f32_to_f16, for every non-NaN value (including
// overflow to infinity and half subnormals).
void f16_from_float(const float* src, void* dst, int64_t n) {
  auto* d = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) d[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
}

}  // namespace inferd::backend::cpu::avx2
