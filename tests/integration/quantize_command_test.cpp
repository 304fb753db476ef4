// `inferd quantize`: a synthetic model goes GGUF F32 -> MLX 4-bit directory -> GGUF Q8_0 and
// GGUF F32 -> GGUF Q4_0 (tokenizer metadata kept, so `inferd run` still works on it); bad types,
// targets and inputs fail with a message and exit status.
#include <filesystem>

#include <gtest/gtest.h>

#include "model/model.h"
#include "testing/subprocess.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

using ::inferd::testing::inferd_binary;
using ::inferd::testing::run_process;

class QuantizeCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::inferd::testing::temp_dir();
    synth_ = (dir_ / "synth.gguf").string();
    const auto r =
        run_process({inferd_binary(), "synth", synth_, "--type", "f32", "--dim", "64", "--layers",
                     "1", "--heads", "2", "--kv-heads", "1", "--ffn", "128", "--vocab", "300"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::filesystem::path dir_;
  std::string synth_;
};

TEST_F(QuantizeCommand, WritesMlxDirectoriesAndGgufFiles) {
  const std::string mlx = (dir_ / "mlx4").string();
  auto r = run_process({inferd_binary(), "quantize", synth_, mlx, "--type", "mlx_q4_g64"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(mlx + "/config.json"));
  EXPECT_TRUE(std::filesystem::exists(mlx + "/model.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(mlx + "/generation_config.json"));

  const std::string q8 = (dir_ / "from_mlx_q8_0.gguf").string();
  r = run_process({inferd_binary(), "quantize", mlx, q8, "--type", "q8_0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto m = model::Model::load(q8);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ((*m)->tensors().find_tensor("blk.0.attn_q.weight")->type, backend::DType::kQ8_0);
  EXPECT_EQ((*m)->tensors().find_tensor("blk.0.attn_norm.weight")->type, backend::DType::kF32);

  const std::string q4 = (dir_ / "q4_0.gguf").string();
  r = run_process({inferd_binary(), "quantize", synth_, q4, "--type", "q4_0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_process({inferd_binary(), "run", "-m", q4, "-p", "hello", "-n", "4", "--temp", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(QuantizeCommand, ReportsErrors) {
  auto r = run_process(
      {inferd_binary(), "quantize", synth_, (dir_ / "x.gguf").string(), "--type", "q9_9"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown GGUF type"), std::string::npos) << r.err;
  r = run_process({inferd_binary(), "quantize", synth_, (dir_ / "d").string(), "--type", "q4_0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown model directory type"), std::string::npos) << r.err;
  r = run_process(
      {inferd_binary(), "quantize", synth_, (dir_ / "d").string(), "--type", "mlx_q7_g64"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_process(
      {inferd_binary(), "quantize", synth_, (dir_ / "x.gguf").string(), "--type", "mlx_q4_g64"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot write GGUF"), std::string::npos) << r.err;
  r = run_process({inferd_binary(), "quantize", "/nonexistent.gguf", (dir_ / "x.gguf").string(),
                   "--type", "f16"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(r.err.empty());
}

}  // namespace
}  // namespace inferd
