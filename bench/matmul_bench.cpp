// matmul() on the weight shapes of a 1.1B llama model (dim 2048, ffn 5632, 4 kv heads x 64,
// vocab 32000, 22 layers), for one token (decode: bound by memory bandwidth) and 128 tokens
// (prefill: bound by arithmetic), plus a 4096 x 4096 matrix (Square/) for the types most compared
// (GGUF Q4_0 and Q8_0 beside MLX 4-bit group 64 and 8-bit group 32). Matmul/ reads the file
// layout; Panels/ the panel form that loaded models use for the types with panel kernels
// (Q4_0, Q8_0 and MLX of every width; --benchmark_filter=Panels/ for them).
//
// Counters: bytes_per_second counts weight bytes, items_per_second multiply-adds, bw_frac is the
// weight read rate as a fraction of the machine's streaming read bandwidth (measured at start
// and printed in the context). Every benchmark cycles through enough copies of its weights
// (>= 512 MiB) that they come from memory, not from the last-level cache.
//
// Threads: 2, or INFERD_BENCH_THREADS. Run the release build: build/release/bench/matmul_bench
// (--benchmark_filter=Model/ for the whole-model figures).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/bandwidth.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/panel_ops.h"
#include "backend/cpu/type_ops.h"
#include "backend/dtype.h"
#include "base/aligned_buffer.h"

namespace inferd::backend::cpu {
namespace {

constexpr size_t kMinFootprintBytes = size_t{512} << 20;
constexpr int kLayers = 22;

struct Shape {
  const char* name;
  int64_t rows, cols;
};
constexpr Shape kShapes[] = {
    {"attn_q", 2048, 2048},   {"attn_kv", 256, 2048}, {"attn_out", 2048, 2048},
    {"ffn_gate", 5632, 2048}, {"ffn_up", 5632, 2048}, {"ffn_down", 2048, 5632},
    {"output", 32000, 2048},
};
constexpr Shape kSquare = {"4096x4096", 4096, 4096};
// Weight matrices of one layer (attn_kv twice: k and v).
constexpr int kLayerMatrices[] = {0, 1, 1, 2, 3, 4, 5};

int bench_threads() {
  const char* env = std::getenv("INFERD_BENCH_THREADS");
  return env && std::atoi(env) > 0 ? std::atoi(env) : 2;
}

ThreadPool& pool() {
  static ThreadPool p(bench_threads());
  return p;
}

double read_bandwidth_gbps() {
  static const double gbps = measure_read_bandwidth_gbps(pool());
  return gbps;
}

// `copies` matrices of `type`, back to back, holding valid blocks of random values.
struct Weights {
  AlignedBuffer data;
  size_t row_bytes = 0, matrix_bytes = 0;
  int copies = 0;
};

Weights make_weights(DType type, int64_t rows, int64_t cols, int copies) {
  Weights w;
  w.row_bytes = dtype_bytes(type, cols);
  w.matrix_bytes = w.row_bytes * rows;
  w.copies = copies;
  w.data.resize(w.matrix_bytes * copies);
  // Quantize a few distinct rows and repeat them: content does not change the speed.
  constexpr int64_t kDistinct = 16;
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> row(cols);
  std::vector<uint8_t> enc(w.row_bytes * kDistinct);
  const TypeOps& ops = type_ops(type, IsaLevel::kScalar);
  for (int64_t r = 0; r < kDistinct; ++r) {
    for (float& v : row) v = normal(rng);
    ops.from_float(row.data(), enc.data() + r * w.row_bytes, cols);
  }
  for (int64_t r = 0; r < rows * copies; ++r)
    std::memcpy(w.data.data() + r * w.row_bytes, enc.data() + (r % kDistinct) * w.row_bytes,
                w.row_bytes);
  return w;
}

std::vector<float> random_activations(int64_t n) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  return x;
}

// `seconds`: wall time of all iterations.
void set_counters(benchmark::State& state, double weight_bytes, double multiply_adds,
                  double seconds) {
  const double iters = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(weight_bytes * iters));
  state.SetItemsProcessed(static_cast<int64_t>(multiply_adds * iters));
  state.counters["bw_frac"] = weight_bytes * iters / seconds / (read_bandwidth_gbps() * 1e9);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The panel form (panel_ops.h) of every copy of `w`, each panel_matrix_bytes apart.
AlignedBuffer make_panels(const PanelOps& ops, const Weights& w, int64_t rows, int64_t cols) {
  const size_t bytes = panel_matrix_bytes(ops, rows, cols);
  AlignedBuffer panels(bytes * w.copies);
  for (int c = 0; c < w.copies; ++c)
    pack_panels(ops, w.data.data() + c * w.matrix_bytes, rows, cols, w.row_bytes,
                panels.data() + c * bytes);
  return panels;
}

// `use_panels`: the matrix also has its panel form, which matmul() then reads (the path models
// take for the types with panel kernels).
void BM_Matmul(benchmark::State& state, DType type, Shape shape, bool use_panels) {
  const int64_t tokens = state.range(0);
  const size_t matrix_bytes = dtype_bytes(type, shape.cols) * shape.rows;
  const int copies = static_cast<int>((kMinFootprintBytes + matrix_bytes - 1) / matrix_bytes);
  const Weights w = make_weights(type, shape.rows, shape.cols, copies);
  const PanelOps* ops = use_panels ? panel_ops(type) : nullptr;
  if (use_panels && !ops) {
    state.SkipWithError("no panel kernels for this type on this CPU");
    return;
  }
  const AlignedBuffer panels = ops ? make_panels(*ops, w, shape.rows, shape.cols) : AlignedBuffer();
  const size_t panel_stride = ops ? panel_matrix_bytes(*ops, shape.rows, shape.cols) : 0;
  const std::vector<float> x = random_activations(tokens * shape.cols);
  std::vector<float> y(tokens * shape.rows);
  MatmulScratch scratch;
  scratch.reserve(tokens, shape.cols, pool().num_threads());
  read_bandwidth_gbps();
  int i = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const int copy = i++ % copies;
    MatrixRef m{type, shape.rows, shape.cols, w.data.data() + copy * matrix_bytes, w.row_bytes};
    if (ops) m.panels = panels.data() + copy * panel_stride;
    matmul(m, x.data(), tokens, y.data(), pool(), scratch);
    benchmark::DoNotOptimize(y.data());
  }
  const double seconds = seconds_since(start);
  set_counters(state, static_cast<double>(matrix_bytes),
               static_cast<double>(shape.rows) * shape.cols * tokens, seconds);
}

// Every weight matrix of the model once (22 layers, then the output matrix), each layer's
// matrices in their own memory: the matmul part of one forward pass.
void BM_Model(benchmark::State& state, DType type) {
  const int64_t tokens = state.range(0);
  std::vector<Weights> shapes;
  for (int s = 0; s < 7; ++s) {
    const int copies = s == 6 ? 1 : s == 1 ? 2 * kLayers : kLayers;
    shapes.push_back(make_weights(type, kShapes[s].rows, kShapes[s].cols, copies));
  }
  const std::vector<float> x = random_activations(tokens * 5632);
  std::vector<float> y(tokens * 32000);
  MatmulScratch scratch;
  scratch.reserve(tokens, 5632, pool().num_threads());
  read_bandwidth_gbps();
  double bytes = 0.0, macs = 0.0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    bytes = macs = 0.0;
    for (int layer = 0; layer < kLayers; ++layer) {
      int kv = 0;
      for (int s : kLayerMatrices) {
        const Shape& sh = kShapes[s];
        const Weights& w = shapes[s];
        const int copy = s == 1 ? 2 * layer + kv++ : layer;
        const MatrixRef m{type, sh.rows, sh.cols, w.data.data() + copy * w.matrix_bytes,
                          w.row_bytes};
        matmul(m, x.data(), tokens, y.data(), pool(), scratch);
        bytes += static_cast<double>(w.matrix_bytes);
        macs += static_cast<double>(sh.rows) * sh.cols * tokens;
      }
    }
    const Shape& out = kShapes[6];
    matmul({type, out.rows, out.cols, shapes[6].data.data(), shapes[6].row_bytes}, x.data(), tokens,
           y.data(), pool(), scratch);
    bytes += static_cast<double>(shapes[6].matrix_bytes);
    macs += static_cast<double>(out.rows) * out.cols * tokens;
    benchmark::DoNotOptimize(y.data());
  }
  const double seconds = seconds_since(start);
  set_counters(state, bytes, macs, seconds);
}

void register_all() {
  benchmark::AddCustomContext("threads", std::to_string(bench_threads()));
  benchmark::AddCustomContext("read_bandwidth_gbps", std::to_string(read_bandwidth_gbps()));
  benchmark::AddCustomContext("isa", isa_level_name(cpu_features().level));
  // MLX 3 and 6-bit group 64 beside 8-bit group 64, the layout they were widened into before.
  const DType types[] = {DType::kQ4_0,     DType::kQ8_0,     DType::kMlxQ4G64, DType::kMlxQ8G32,
                         DType::kMlxQ3G64, DType::kMlxQ6G64, DType::kMlxQ8G64, DType::kF16,
                         DType::kQ4_1,     DType::kQ5_0,     DType::kQ5_1,     DType::kBF16,
                         DType::kF32};
  for (DType type : types) {
    for (const Shape& s : kShapes) {
      const std::string name = std::string("Matmul/") + dtype_name(type) + "/" + s.name;
      benchmark::RegisterBenchmark(name.c_str(), BM_Matmul, type, s, false)
          ->Arg(1)
          ->Arg(128)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  // The panel path of the types that have it, at every MLX width.
  for (DType type : {DType::kQ4_0, DType::kQ8_0, DType::kMlxQ2G64, DType::kMlxQ3G64,
                     DType::kMlxQ4G64, DType::kMlxQ5G64, DType::kMlxQ6G64, DType::kMlxQ8G64}) {
    for (const Shape& s : kShapes) {
      const std::string name = std::string("Panels/") + dtype_name(type) + "/" + s.name;
      benchmark::RegisterBenchmark(name.c_str(), BM_Matmul, type, s, true)
          ->Arg(1)
          ->Arg(128)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (DType type : {DType::kQ4_0, DType::kQ8_0, DType::kMlxQ4G64, DType::kMlxQ8G32}) {
    const std::string name = std::string("Square/") + dtype_name(type) + "/" + kSquare.name;
    benchmark::RegisterBenchmark(name.c_str(), BM_Matmul, type, kSquare, false)
        ->Arg(1)
        ->Arg(128)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  for (DType type : {DType::kQ4_0, DType::kQ8_0, DType::kMlxQ4G64, DType::kMlxQ8G32, DType::kF16,
                     DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kBF16}) {
    const std::string name = std::string("Model/") + dtype_name(type);
    benchmark::RegisterBenchmark(name.c_str(), BM_Model, type)
        ->Arg(1)
        ->Arg(128)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace
}  // namespace inferd::backend::cpu

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  inferd::backend::cpu::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
