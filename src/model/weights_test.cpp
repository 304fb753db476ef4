#include "model/weights.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "backend/cpu/panel_ops.h"
#include "model/model.h"
#include "model/synth_model.h"

namespace inferd::model {
namespace {

namespace fs = std::filesystem;

// A layer's dense matrices lie in one panel buffer, one after another in the order a forward
// pass reads them, so that each matmul's weights continue where the previous one's ended.
TEST(Weights, ALayersPanelsFollowEachOtherInReadOrder) {
  const backend::cpu::PanelOps* ops = backend::cpu::panel_ops(backend::DType::kQ4_0);
  if (!ops) GTEST_SKIP() << "no Q4_0 panel kernels on this CPU (they need AVX-512 VNNI)";
  const fs::path path = fs::temp_directory_path() /
                        ("inferd_weights_" + std::to_string(::getpid()) + ".gguf");
  SynthOptions opt;
  opt.dim = 128;
  opt.layers = 2;
  opt.heads = 4;
  opt.kv_heads = 2;
  opt.ffn = 320;  // 5 panels of 64 rows
  opt.vocab = 300;
  opt.type = backend::DType::kQ4_0;
  ASSERT_TRUE(write_synth_model(opt, path.string()).ok());
  auto model = Model::load(path.string());
  fs::remove(path);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  const Weights& w = (*model)->weights();
  for (const LayerWeights& L : w.layers) {
    const MatrixRef* order[] = {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down};
    for (size_t i = 1; i < std::size(order); ++i) {
      const MatrixRef& prev = *order[i - 1];
      ASSERT_NE(order[i]->panels, nullptr);
      EXPECT_EQ(order[i]->panels,
                prev.panels + backend::cpu::panel_matrix_bytes(*ops, prev.rows, prev.cols))
          << "matrix " << i;
    }
  }
  EXPECT_NE(w.output.panels, nullptr);
}

}  // namespace
}  // namespace inferd::model
