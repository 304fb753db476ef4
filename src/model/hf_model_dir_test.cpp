#include "model/hf_model_dir.h"

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "backend/cpu/type_ops.h"
#include "backend/mlx_affine.h"
#include "base/half.h"
#include "format/safetensors_writer.h"
#include "model/model.h"
#include "model/model_export.h"
#include "model/synth_model.h"

namespace inferd::model {
namespace {

namespace fs = std::filesystem;
using format::SafetensorsDType;
using format::SafetensorsFile;
using format::SafetensorsWriter;

class HfModelDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("inferd_hfdir_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    SynthOptions opt;
    opt.dim = 64;
    opt.layers = 1;
    opt.heads = 2;
    opt.kv_heads = 1;
    opt.ffn = 128;
    opt.vocab = 300;
    opt.context = 64;
    opt.type = backend::DType::kF32;
    ASSERT_TRUE(write_synth_model(opt, (root_ / "s.gguf").string()).ok());
    auto m = Model::load((root_ / "s.gguf").string());
    ASSERT_TRUE(m.ok());
    dir_ = (root_ / "mlx").string();
    ASSERT_TRUE(export_hf_dir(**m, *parse_hf_dir_format("mlx_q4_g64"), dir_).ok());
  }
  void TearDown() override { fs::remove_all(root_); }

  // Rewrites model.safetensors through `edit`, which may change, drop or add tensors.
  void rewrite(
      const std::function<void(const format::SafetensorsTensor&, SafetensorsWriter&)>& edit) {
    const std::string path = dir_ + "/model.safetensors";
    SafetensorsWriter w;
    {
      auto f = SafetensorsFile::open(path);
      ASSERT_TRUE(f.ok());
      for (const auto& t : (*f)->tensors()) edit(t, w);
    }
    ASSERT_TRUE(w.write(path).ok());
  }
  static void keep(const format::SafetensorsTensor& t, SafetensorsWriter& w) {
    w.add(t.name, t.dtype, t.shape, std::vector<uint8_t>(t.bytes.begin(), t.bytes.end()));
  }
  Status load_status() {
    auto m = Model::load(dir_);
    return m.ok() ? Status::ok_status() : m.status();
  }

  fs::path root_;
  std::string dir_;
};

// The loader's blocks decode to fmaf(scale, code, bias) of the file's own codes, scales and biases.
TEST_F(HfModelDirTest, RepacksMlxCodesExactly) {
  auto m = Model::load(dir_, {.keep_tensors = true});
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  auto f = SafetensorsFile::open(dir_ + "/model.safetensors");
  ASSERT_TRUE(f.ok());
  const auto* codes = (*f)->find("model.layers.0.mlp.down_proj.weight");
  const auto* scales = (*f)->find("model.layers.0.mlp.down_proj.scales");
  const auto* biases = (*f)->find("model.layers.0.mlp.down_proj.biases");
  ASSERT_TRUE(codes && scales && biases);
  const TensorInfo* t = (*m)->tensors().find_tensor("blk.0.ffn_down.weight");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->type, backend::DType::kMlxQ4G64);
  const int64_t rows = t->dims[1], cols = t->dims[0];
  EXPECT_EQ(rows, 64);
  EXPECT_EQ(cols, 128);
  std::vector<float> row(cols);
  const size_t row_bytes = backend::dtype_bytes(t->type, cols);
  for (int64_t r = 0; r < rows; ++r) {
    backend::cpu::type_ops(t->type).to_float(t->data + r * row_bytes, row.data(), cols);
    for (int64_t k = 0; k < cols; ++k) {
      const int64_t g = r * (cols / 64) + k / 64;
      uint16_t s, b;
      std::memcpy(&s, scales->bytes.data() + 2 * g, 2);
      std::memcpy(&b, biases->bytes.data() + 2 * g, 2);
      const uint32_t q = backend::mlx_code(codes->bytes.data() + r * cols / 2, k, 4);
      ASSERT_EQ(row[k], std::fmaf(f16_to_f32(s), static_cast<float>(q), f16_to_f32(b)))
          << r << " " << k;
    }
  }
}

TEST_F(HfModelDirTest, RejectsMismatchedQuantizedTensors) {
  const std::string target = "model.layers.0.mlp.up_proj";
  struct Edit {
    const char* what;
    std::function<void(const format::SafetensorsTensor&, SafetensorsWriter&)> fn;
  };
  const Edit edits[] = {
      {"scales of the wrong shape",
       [&](const auto& t, auto& w) {
         if (t.name != target + ".scales") return keep(t, w);
         w.add(t.name, t.dtype, {t.shape[0], t.shape[1] + 1},
               std::vector<uint8_t>(t.bytes.size() + 2 * t.shape[0]));
       }},
      {"biases missing",
       [&](const auto& t, auto& w) {
         if (t.name != target + ".biases") keep(t, w);
       }},
      {"codes not U32",
       [&](const auto& t, auto& w) {
         if (t.name != target + ".weight") return keep(t, w);
         w.add(t.name, SafetensorsDType::kF32, t.shape,
               std::vector<uint8_t>(t.bytes.begin(), t.bytes.end()));
       }},
      {"codes of the wrong width",
       [&](const auto& t, auto& w) {
         if (t.name != target + ".weight") return keep(t, w);
         w.add(t.name, t.dtype, {t.shape[0], t.shape[1] / 2},
               std::vector<uint8_t>(t.bytes.size() / 2));
       }},
      {"scales of an integer type",
       [&](const auto& t, auto& w) {
         if (t.name != target + ".scales") return keep(t, w);
         w.add(t.name, SafetensorsDType::kI16, t.shape,
               std::vector<uint8_t>(t.bytes.begin(), t.bytes.end()));
       }},
      {"a norm of an integer type",
       [&](const auto& t, auto& w) {
         if (t.name != "model.norm.weight") return keep(t, w);
         w.add(t.name, SafetensorsDType::kI32, t.shape,
               std::vector<uint8_t>(t.bytes.begin(), t.bytes.end()));
       }},
      {"a missing matrix",
       [&](const auto& t, auto& w) {
         if (t.name.find("o_proj") == std::string::npos) keep(t, w);
       }},
  };
  const std::string original = dir_ + "/model.safetensors.orig";
  fs::copy_file(dir_ + "/model.safetensors", original);
  for (const Edit& e : edits) {
    fs::copy_file(original, dir_ + "/model.safetensors", fs::copy_options::overwrite_existing);
    rewrite(e.fn);
    Status st = load_status();
    EXPECT_FALSE(st.ok()) << e.what;
    EXPECT_FALSE(st.message().empty()) << e.what;
  }
}

TEST_F(HfModelDirTest, RejectsConfigsThatDisagreeWithTheWeights) {
  std::ifstream in(dir_ + "/config.json");
  auto config = nlohmann::json::parse(in);
  in.close();
  auto write = [&](const nlohmann::json& j) { std::ofstream(dir_ + "/config.json") << j.dump(); };
  auto no_quant = config;
  no_quant.erase("quantization");
  no_quant.erase("quantization_config");
  write(no_quant);
  EXPECT_FALSE(load_status().ok());
  auto other_bits = config;
  other_bits["quantization"] = {{"group_size", 64}, {"bits", 3}};
  other_bits.erase("quantization_config");
  write(other_bits);
  EXPECT_EQ(load_status().code(), StatusCode::kInvalidArgument);  // 4-bit codes read as 3-bit
  auto wider = config;
  wider["hidden_size"] = 128;
  write(wider);
  EXPECT_FALSE(load_status().ok());
  write(config);
  EXPECT_TRUE(load_status().ok());
}

}  // namespace
}  // namespace inferd::model
