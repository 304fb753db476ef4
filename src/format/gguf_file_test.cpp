#include "format/gguf_file.h"

#include <gtest/gtest.h>

#include "format/gguf_writer.h"

namespace inferd::format {
namespace {

using backend::DType;

std::vector<uint8_t> small_file() {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 2);
  w.set_f32("llama.rope.freq_base", 10000.0f);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  GgufArray tokens;
  tokens.items = std::vector<std::string>{"<s>", "</s>", "hello"};
  tokens.elem_type = GgufType::kString;
  w.set_array("tokenizer.ggml.tokens", tokens);
  std::vector<uint8_t> data(4 * 8 * 4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  w.add_tensor_bytes("a", DType::kF32, {8, 4}, data);
  w.add_tensor_bytes("b", DType::kQ8_0, {32, 2}, std::vector<uint8_t>(68, 7));
  return w.to_bytes();
}

TEST(GgufFile, RoundTripsWriterOutput) {
  auto bytes = small_file();
  auto f = GgufFile::parse(bytes, "mem");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ((*f)->version(), 3u);
  EXPECT_EQ(*(*f)->get_string("general.architecture"), "llama");
  EXPECT_EQ(*(*f)->get_int("llama.block_count"), 2);
  EXPECT_FLOAT_EQ(*(*f)->get_float("llama.rope.freq_base"), 10000.0);
  EXPECT_TRUE(*(*f)->get_bool("tokenizer.ggml.add_bos_token"));
  auto tokens = (*f)->get_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ((*tokens)->get<std::string>()->size(), 3u);
  EXPECT_EQ((*tokens)->get<std::string>()->at(2), "hello");
  const GgufTensorInfo* a = (*f)->find_tensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dims[0], 8);
  EXPECT_EQ(a->dims[1], 4);
  EXPECT_EQ(a->size_bytes, 128u);
  EXPECT_EQ(a->data[5], 5);
  EXPECT_EQ(static_cast<size_t>(a->data - bytes.data()) % 32, 0u);
  const GgufTensorInfo* b = (*f)->find_tensor("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->type, DType::kQ8_0);
  EXPECT_EQ(b->size_bytes, 68u);
}

TEST(GgufFile, TypedAccessorsReportMissingAndWrongTypes) {
  auto bytes = small_file();
  auto f = GgufFile::parse(bytes, "mem");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->get_int("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*f)->get_int("general.architecture").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*(*f)->get_int_or("nope", 42), 42);
  EXPECT_FALSE((*f)->get_int_or("general.architecture", 1).ok());
}

TEST(GgufFile, EveryTruncationIsAnError) {
  auto bytes = small_file();
  auto full = GgufFile::parse(bytes, "full");
  ASSERT_TRUE(full.ok());
  const GgufTensorInfo* last = (*full)->find_tensor("b");
  const size_t data_end = static_cast<size_t>(last->data + last->size_bytes - bytes.data());
  for (size_t n = 0; n < data_end; ++n) {  // bytes after data_end are padding
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
    auto f = GgufFile::parse(cut, "cut");
    EXPECT_FALSE(f.ok()) << "truncated to " << n << " bytes parsed";
  }
}

TEST(GgufFile, RejectsHostileHeaders) {
  auto bytes = small_file();
  auto corrupt = [&](size_t at, std::vector<uint8_t> patch) {
    auto b = bytes;
    std::copy(patch.begin(), patch.end(), b.begin() + at);
    return GgufFile::parse(b, "bad");
  };
  EXPECT_EQ(corrupt(0, {'G', 'G', 'M', 'L'}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(corrupt(4, {1, 0, 0, 0}).status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(corrupt(4, {0, 0, 0, 3}).status().code(), StatusCode::kUnsupported);
  // Huge tensor and metadata counts.
  EXPECT_FALSE(corrupt(8, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}).ok());
  EXPECT_FALSE(corrupt(16, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).ok());
  // First key's length claims more than the file.
  EXPECT_FALSE(corrupt(24, {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}).ok());
}

TEST(GgufFile, EverySingleByteCorruptionIsHandled) {
  // Flip each byte of the header region; the parser must return (ok or error), never crash.
  auto bytes = small_file();
  const size_t header_end = bytes.size() - 128 - 96;
  for (size_t i = 0; i < header_end; ++i) {
    for (uint8_t v : {uint8_t{0}, uint8_t{0xff}, static_cast<uint8_t>(bytes[i] ^ 0x80)}) {
      auto b = bytes;
      b[i] = v;
      auto f = GgufFile::parse(b, "flip");
      if (!f.ok()) continue;
      for (const auto& t : (*f)->tensors()) ASSERT_LE(t.data + t.size_bytes, b.data() + b.size());
    }
  }
}

TEST(GgufFile, MissingFileIsNotFound) {
  auto f = GgufFile::open("/nonexistent/model.gguf");
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace inferd::format
