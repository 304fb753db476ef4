#include "format/safetensors_file.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "format/safetensors_set.h"
#include "format/safetensors_writer.h"

namespace inferd::format {
namespace {

using enum SafetensorsDType;

std::vector<uint8_t> iota_bytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + 1);
  return v;
}

// A file from a raw header string and `data_bytes` bytes of data.
std::vector<uint8_t> raw_file(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> out;
  out.reserve(8 + header.size() + data_bytes);
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  auto data = iota_bytes(data_bytes);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Status parse_status(const std::vector<uint8_t>& bytes) {
  auto f = SafetensorsFile::parse(bytes, "mem");
  return f.ok() ? Status::ok_status() : f.status();
}

TEST(SafetensorsFile, RoundTripsWriterOutput) {
  SafetensorsWriter w;
  w.set_metadata("format", "pt");
  w.add("a", kF32, {2, 3}, iota_bytes(24));
  w.add("b", kBF16, {5}, iota_bytes(10));
  w.add("c", kU32, {1, 2}, iota_bytes(8));
  w.add("empty", kI8, {0, 4}, {});
  auto bytes = w.to_bytes();
  auto f = SafetensorsFile::parse(bytes, "mem");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ((*f)->metadata().at("format"), "pt");
  ASSERT_EQ((*f)->tensors().size(), 4u);
  const SafetensorsTensor* a = (*f)->find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, kF32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->num_elements(), 6);
  ASSERT_EQ(a->bytes.size(), 24u);
  EXPECT_EQ(std::memcmp(a->bytes.data(), iota_bytes(24).data(), 24), 0);
  EXPECT_EQ(static_cast<size_t>(a->bytes.data() - bytes.data()) % 8, 0u);
  EXPECT_EQ((*f)->find("b")->bytes.size(), 10u);
  EXPECT_EQ((*f)->find("c")->dtype, kU32);
  EXPECT_EQ((*f)->find("empty")->bytes.size(), 0u);
  EXPECT_EQ((*f)->find("nope"), nullptr);
}

TEST(SafetensorsFile, KnowsEveryStandardDtype) {
  for (const char* name : {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
                           "I32", "U32", "F32", "F64", "I64", "U64"}) {
    auto info = safetensors_dtype(name);
    ASSERT_TRUE(info.has_value()) << name;
    const std::string header = std::string(R"({"t":{"dtype":")") + name +
                               R"(","shape":[3],"data_offsets":[0,)" +
                               std::to_string(3 * info->elem_bytes) + "]}}";
    EXPECT_TRUE(parse_status(raw_file(header, 3 * info->elem_bytes)).ok()) << name;
  }
  EXPECT_FALSE(safetensors_dtype("F4").has_value());
}

struct Malformed {
  const char* what;
  std::string header;
  size_t data_bytes;
};

TEST(SafetensorsFile, RejectsMalformedHeaders) {
  const Malformed cases[] = {
      {"not json", "{\"a\":", 0},
      {"not an object", "[1,2]", 0},
      {"entry not an object", R"({"a":3})", 0},
      {"missing dtype", R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4},
      {"missing shape", R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4},
      {"missing offsets", R"({"a":{"dtype":"F32","shape":[1]}})", 4},
      {"unknown dtype", R"({"a":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}})", 4},
      {"dtype not string", R"({"a":{"dtype":1,"shape":[1],"data_offsets":[0,4]}})", 4},
      {"negative dim", R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4},
      {"float dim", R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4},
      {"shape overflow",
       R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,4]}})", 4},
      {"too many dims", R"({"a":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,1]}})",
       1},
      {"size mismatch", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4},
      {"end past data", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4},
      {"begin after end", R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", 4},
      {"offsets not pair", R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}})", 1},
      {"huge offset", R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}})",
       1},
      {"overlap",
       R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
       6},
      {"hole",
       R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})",
       6},
      {"trailing bytes", R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 3},
      {"metadata not object", R"({"__metadata__":[1]})", 0},
      {"metadata value not string", R"({"__metadata__":{"a":1}})", 0},
  };
  for (const Malformed& c : cases) {
    Status st = parse_status(raw_file(c.header, c.data_bytes));
    EXPECT_FALSE(st.ok()) << c.what;
    EXPECT_FALSE(st.message().empty()) << c.what;
  }
}

TEST(SafetensorsFile, RejectsBadHeaderLengths) {
  EXPECT_FALSE(parse_status({}).ok());
  EXPECT_FALSE(parse_status({1, 2, 3}).ok());
  auto good = raw_file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 2);
  ASSERT_TRUE(parse_status(good).ok());
  // Header length past the end of the file, far past it, and beyond the limit.
  for (uint64_t len : {uint64_t{good.size()}, uint64_t{1} << 40, ~uint64_t{0},
                       uint64_t{SafetensorsFile::kMaxHeaderBytes} + 1}) {
    auto bad = good;
    for (int i = 0; i < 8; ++i) bad[i] = static_cast<uint8_t>(len >> (8 * i));
    EXPECT_FALSE(parse_status(bad).ok()) << len;
  }
  // Every truncation of a valid file is an error.
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_FALSE(parse_status(std::vector<uint8_t>(good.begin(), good.begin() + n)).ok()) << n;
}

class SafetensorsSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("inferd_st_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write_text(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  void write_shard(const std::string& name, std::vector<std::string> tensors) {
    SafetensorsWriter w;
    for (const auto& t : tensors) w.add(t, kF16, {2}, iota_bytes(4));
    ASSERT_TRUE(w.write((dir_ / name).string()).ok());
  }
  std::filesystem::path dir_;
};

TEST_F(SafetensorsSetTest, ReadsShardsThroughIndex) {
  write_shard("model-00001-of-00002.safetensors", {"a", "b"});
  write_shard("model-00002-of-00002.safetensors", {"c"});
  write_text(SafetensorsSet::kIndexName,
             R"({"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors",
                 "b":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}})");
  auto set = SafetensorsSet::open_dir(dir_.string());
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_EQ((*set)->files().size(), 2u);
  EXPECT_EQ((*set)->tensors().size(), 3u);
  ASSERT_NE((*set)->find("c"), nullptr);
  EXPECT_EQ((*set)->find("c")->dtype, kF16);
}

TEST_F(SafetensorsSetTest, SingleFileAndGlob) {
  write_shard("weights.safetensors", {"x"});
  auto set = SafetensorsSet::open_dir(dir_.string());
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_NE((*set)->find("x"), nullptr);
  write_shard("model.safetensors", {"y"});
  set = SafetensorsSet::open_dir(dir_.string());
  ASSERT_TRUE(set.ok());
  EXPECT_EQ((*set)->find("x"), nullptr);  // model.safetensors alone when present
  EXPECT_NE((*set)->find("y"), nullptr);
}

TEST_F(SafetensorsSetTest, RejectsBadIndexes) {
  write_shard("s1.safetensors", {"a"});
  write_shard("s2.safetensors", {"a"});
  const std::string bad[] = {
      "not json",
      R"({"weight_map":3})",
      R"({"weight_map":{}})",
      R"({"weight_map":{"a":"../s1.safetensors"}})",
      R"({"weight_map":{"a":"/etc/passwd"}})",
      R"({"weight_map":{"a":"missing.safetensors"}})",
      R"({"weight_map":{"b":"s1.safetensors"}})",                       // not in that shard
      R"({"weight_map":{"a":"s1.safetensors","z":"s2.safetensors"}})",  // a in two shards
  };
  for (const std::string& text : bad) {
    write_text(SafetensorsSet::kIndexName, text);
    EXPECT_FALSE(SafetensorsSet::open_dir(dir_.string()).ok()) << text;
  }
  EXPECT_FALSE(SafetensorsSet::open_dir((dir_ / "nope").string()).ok());
}

}  // namespace
}  // namespace inferd::format
