// K-quant gemm kernels, single-threaded, on the matrix shapes of a 1.1B llama (rows x cols:
// 2048x2048 attention, 5632x2048 gate/up, 2048x5632 down), reported as bytes/s of weights.
//
//   decode/<type>/<isa>/<shape>/hot    one activation row, the matrix stays in cache
//   decode/<type>/<isa>/<shape>/dram   one activation row, each iteration reads a different copy
//                                      of the matrix from a pool larger than the caches
//   tile/<type>/<isa>/<shape>          a full tile of activation rows (prefill), matrix in cache
//   stream_read/<bytes>                plain sequential read of the same pool: the bandwidth the
//                                      decode figures should be compared with
//   q8_k_from_float/<isa>/<n>          activation quantization
//
// The pool size is KQUANT_BENCH_POOL_MB (default 512). Rates are per CPU second of the (single)
// benchmark thread, which time slices lost to other processes do not inflate; on a shared
// machine still use --benchmark_repetitions and compare the best runs.
#include <benchmark/benchmark.h>
#include <emmintrin.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/blocks.h"
#include "backend/cpu/type_ops.h"
#include "base/aligned_buffer.h"
#include "base/cpu_features.h"
#include "base/half.h"

namespace inferd::backend::cpu {
namespace {

struct Shape {
  int64_t rows, cols;
};
constexpr Shape kShapes[] = {{2048, 2048}, {5632, 2048}, {2048, 5632}};
constexpr DType kTypes[] = {DType::kQ4_K, DType::kQ6_K, DType::kQ2_K, DType::kQ3_K, DType::kQ5_K};

size_t pool_bytes() {
  const char* env = std::getenv("KQUANT_BENCH_POOL_MB");
  const long mb = env ? std::atol(env) : 512;
  return static_cast<size_t>(mb > 0 ? mb : 512) << 20;
}

// Offset of the half-precision d (and dmin after it, where present) inside each block.
size_t d_offset(DType type) {
  switch (type) {
    case DType::kQ2_K: return offsetof(BlockQ2_K, d);
    case DType::kQ3_K: return offsetof(BlockQ3_K, d);
    case DType::kQ4_K: return offsetof(BlockQ4_K, d);
    case DType::kQ5_K: return offsetof(BlockQ5_K, d);
    case DType::kQ6_K: return offsetof(BlockQ6_K, d);
    default: return 0;
  }
}
bool has_dmin(DType type) {
  return type == DType::kQ2_K || type == DType::kQ4_K || type == DType::kQ5_K;
}

// Random valid blocks: random codes and sub-block scales, small finite super-block scales.
void fill_random_matrix(DType type, uint8_t* data, size_t bytes) {
  std::mt19937_64 rng(42);
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    const uint64_t v = rng();
    std::memcpy(data + i, &v, 8);
  }
  const size_t block_bytes = static_cast<size_t>(dtype_info(type).block_bytes);
  const f16_t d = f32_to_f16(1e-3f);
  for (size_t b = 0; b + block_bytes <= bytes; b += block_bytes) {
    std::memcpy(data + b + d_offset(type), &d, 2);
    if (has_dmin(type)) std::memcpy(data + b + d_offset(type) + 2, &d, 2);
  }
}

// One pool of weight copies, refilled when a benchmark needs another type or shape.
struct WeightPool {
  AlignedBuffer buffer;
  DType type = DType::kF32;
  int64_t rows = 0, cols = 0;
  size_t matrix_bytes = 0;
  size_t copies = 0;

  const uint8_t* matrix(size_t copy) const { return buffer.data() + copy * matrix_bytes; }

  void prepare(DType t, Shape s, bool many_copies) {
    const size_t bytes = static_cast<size_t>(dtype_bytes(t, s.rows * s.cols));
    const size_t want_copies = many_copies ? std::max<size_t>(1, pool_bytes() / bytes) : 1;
    if (t == type && s.rows == rows && s.cols == cols && copies == want_copies) return;
    if (buffer.size_bytes() < bytes * want_copies) buffer.resize(bytes * want_copies);
    fill_random_matrix(t, buffer.data(), bytes);
    for (size_t c = 1; c < want_copies; ++c)
      std::memcpy(buffer.data() + c * bytes, buffer.data(), bytes);
    type = t;
    rows = s.rows;
    cols = s.cols;
    matrix_bytes = bytes;
    copies = want_copies;
  }
};

WeightPool& pool() {
  static WeightPool p;
  return p;
}

void run_gemm(const TypeOps& ops, const WeightPool& p, size_t copy, const uint8_t* act,
              size_t act_stride, int num_acts, float* out) {
  const size_t row_bytes = p.matrix_bytes / static_cast<size_t>(p.rows);
  const uint8_t* w = p.matrix(copy);
  for (int64_t r = 0; r < p.rows; r += ops.max_rows)
    ops.gemm(p.cols, w + r * row_bytes, row_bytes,
             static_cast<int>(std::min<int64_t>(ops.max_rows, p.rows - r)), act, act_stride,
             num_acts, out + r, static_cast<size_t>(p.rows));
}

void bm_gemm(benchmark::State& state, DType type, IsaLevel level, Shape shape, bool tile,
             bool dram) {
  const TypeOps& ops = type_ops(type, level);
  const TypeOps& act_ops = type_ops(ops.act_type, level);
  WeightPool& p = pool();
  p.prepare(type, shape, dram);
  const int num_acts = tile ? ops.max_acts : 1;
  const size_t act_stride = static_cast<size_t>(dtype_bytes(ops.act_type, shape.cols));
  std::vector<float> x(static_cast<size_t>(shape.cols * num_acts));
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : x) v = normal(rng);
  AlignedBuffer act(act_stride * num_acts);
  act_ops.from_float(x.data(), act.data(), shape.cols * num_acts);
  std::vector<float> out(static_cast<size_t>(shape.rows * num_acts));

  size_t copy = 0;
  for (auto _ : state) {
    run_gemm(ops, p, copy, act.data(), act_stride, num_acts, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    if (++copy == p.copies) copy = 0;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * p.matrix_bytes));
  state.counters["act_rows"] = num_acts;
  state.counters["GMAC/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * shape.rows * shape.cols * num_acts * 1e-9,
      benchmark::Counter::kIsRate);
}

// Sequential read of `bytes` of the pool, 16 bytes per load with four independent sums.
void bm_stream_read(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  static AlignedBuffer buffer;
  if (buffer.size_bytes() < bytes) {
    buffer.resize(bytes);
    std::memset(buffer.data(), 1, bytes);
  }
  for (auto _ : state) {
    __m128i s0 = _mm_setzero_si128(), s1 = s0, s2 = s0, s3 = s0;
    const uint8_t* p = buffer.data();
    for (size_t i = 0; i + 64 <= bytes; i += 64) {
      s0 = _mm_add_epi64(s0, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i)));
      s1 = _mm_add_epi64(s1, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 16)));
      s2 = _mm_add_epi64(s2, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 32)));
      s3 = _mm_add_epi64(s3, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 48)));
    }
    __m128i s = _mm_add_epi64(_mm_add_epi64(s0, s1), _mm_add_epi64(s2, s3));
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void bm_q8_k_from_float(benchmark::State& state, IsaLevel level) {
  const int64_t n = state.range(0);
  const TypeOps& ops = type_ops(DType::kQ8_K, level);
  std::vector<float> x(static_cast<size_t>(n));
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : x) v = normal(rng);
  AlignedBuffer q(static_cast<size_t>(dtype_bytes(DType::kQ8_K, n)));
  for (auto _ : state) {
    ops.from_float(x.data(), q.data(), n);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * sizeof(float)));
}

std::string shape_name(Shape s) {
  return std::to_string(s.rows) + "x" + std::to_string(s.cols);
}

void register_all() {
  std::vector<IsaLevel> levels;
  for (IsaLevel l : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512})
    if (l <= cpu_features().level) levels.push_back(l);
  for (DType type : kTypes)
    for (IsaLevel level : levels)
      for (Shape shape : kShapes) {
        const std::string suffix =
            std::string(dtype_name(type)) + "/" + isa_level_name(level) + "/" + shape_name(shape);
        benchmark::RegisterBenchmark(("decode/" + suffix + "/hot").c_str(), bm_gemm, type, level,
                                     shape, false, false);
        if (level == IsaLevel::kScalar) continue;  // the reference is far from memory-bound
        benchmark::RegisterBenchmark(("decode/" + suffix + "/dram").c_str(), bm_gemm, type, level,
                                     shape, false, true);
        benchmark::RegisterBenchmark(("tile/" + suffix).c_str(), bm_gemm, type, level, shape, true,
                                     false);
      }
  benchmark::RegisterBenchmark("stream_read", bm_stream_read)
      ->Arg(int64_t{4} << 20)
      ->Arg(static_cast<int64_t>(pool_bytes()));
  for (IsaLevel level : levels)
    benchmark::RegisterBenchmark((std::string("q8_k_from_float/") + isa_level_name(level)).c_str(),
                                 bm_q8_k_from_float, level)
        ->Arg(2048)
        ->Arg(5632);
}

}  // namespace
}  // namespace inferd::backend::cpu

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  inferd::backend::cpu::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
