#include "format/gguf_file.h"

#include <sys/mman.h>

#include <cstring>

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

TEST(GgufFile, ZeroSizedTensorRoundTrips) {
  // Regression: writing a tensor with no bytes passed a null pointer to memcpy (UBSan).
  GgufWriter w;
  w.add_tensor_bytes("empty", DType::kF32, {0, 4}, {});
  w.add_tensor_bytes("one", DType::kF32, {1}, std::vector<uint8_t>(4, 1));
  const auto bytes = w.to_bytes();
  auto f = GgufFile::parse(bytes, "mem");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ((*f)->find_tensor("empty")->size_bytes, 0u);
  EXPECT_EQ((*f)->find_tensor("one")->size_bytes, 4u);
}

// A huge, mostly unbacked (zero) region standing for a hostile multi-terabyte file: counts in its
// header may claim as many entries as its size allows.
class HugeRegion {
 public:
  static constexpr size_t kBytes = size_t{2} << 40;  // 2 TiB of address space, no memory
  HugeRegion() {
    void* p = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    data_ = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
  }
  ~HugeRegion() {
    if (data_) munmap(data_, kBytes);
  }
  bool ok() const { return data_ != nullptr; }
  std::span<const uint8_t> bytes() const { return {data_, kBytes}; }
  // Writes little-endian values from `pos` on; returns the position after them.
  template <typename T>
  size_t put(size_t pos, T v) {
    std::memcpy(data_ + pos, &v, sizeof(v));
    return pos + sizeof(v);
  }
  size_t put_header(uint64_t num_tensors, uint64_t num_kv) {
    size_t pos = put<uint32_t>(0, 0x46554747);
    pos = put<uint32_t>(pos, 3);
    pos = put<uint64_t>(pos, num_tensors);
    return put<uint64_t>(pos, num_kv);
  }

 private:
  uint8_t* data_ = nullptr;
};

TEST(GgufFile, HugeClaimedCountsDoNotAllocateUpFront) {
  // Regression: the reader reserved memory for every entry a header or an array length claimed
  // (up to ~5 bytes of memory per byte of file) before reading any, so a hostile file of a few
  // terabytes (or a sparse one) aborted the process with bad_alloc instead of returning an error.
  HugeRegion r;
  if (!r.ok()) GTEST_SKIP() << "cannot reserve 2 TiB of address space";
  const uint64_t room = HugeRegion::kBytes - 24;

  // Metadata count: zero bytes parse as entries with the empty key, so the second is a duplicate.
  r.put_header(0, room / 13);
  auto f = GgufFile::parse(r.bytes(), "huge-kv");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("duplicate metadata key"), std::string::npos) << f.status().to_string();

  // Tensor count: a zero-filled tensor info has no dimensions.
  r.put_header(room / 32, 0);
  f = GgufFile::parse(r.bytes(), "huge-tensors");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("dimensions"), std::string::npos) << f.status().to_string();

  // Array lengths (string and nested arrays), whose first element is corrupt.
  for (uint32_t elem_type : {8u, 9u}) {
    size_t pos = r.put_header(0, 1);
    pos = r.put<uint64_t>(pos, 1);  // key "a"
    pos = r.put<uint8_t>(pos, 'a');
    pos = r.put<uint32_t>(pos, 9);  // array
    pos = r.put<uint32_t>(pos, elem_type);
    pos = r.put<uint64_t>(pos, (HugeRegion::kBytes - pos - 8) / 12);
    // A string claiming more bytes than remain, or an inner array of type 99.
    if (elem_type == 8) r.put<uint64_t>(pos, ~uint64_t{0});
    else r.put<uint32_t>(pos, 99);
    f = GgufFile::parse(r.bytes(), "huge-array");
    EXPECT_FALSE(f.ok()) << "array of type " << elem_type;
    r.put<uint64_t>(pos, 0);
  }
}

TEST(GgufFile, MissingFileIsNotFound) {
  auto f = GgufFile::open("/nonexistent/model.gguf");
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace inferd::format
