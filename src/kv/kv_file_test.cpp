#include "kv/kv_file.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "testing/test_paths.h"

namespace inferd::kv {
namespace {

KvFileShape shape() {
  KvFileShape s;
  s.block_size = 4;
  s.model_fingerprint = 0x1234;
  s.layers = 2;
  s.key_row_bytes = 8;
  s.value_row_bytes = 6;
  return s;
}

KvFileContents contents(int blocks) {
  KvFileContents c;
  for (int i = 0; i < blocks * 4; ++i) c.tokens.push_back(100 + i);
  for (size_t i = 0; i < blocks * shape().block_key_bytes(); ++i) c.keys.push_back(static_cast<uint8_t>(i * 7));
  for (size_t i = 0; i < blocks * shape().block_value_bytes(); ++i) c.values.push_back(static_cast<uint8_t>(i * 3));
  return c;
}

std::string temp(const char* name) { return (inferd::testing::temp_dir() / name).string(); }

TEST(KvFileTest, RoundTrips) {
  const std::string path = temp("round.kv");
  ASSERT_TRUE(write_kv_file(path, shape(), contents(3)).ok());
  auto read = read_kv_file(path, shape());
  ASSERT_TRUE(read.ok()) << read.status().to_string();
  EXPECT_EQ(read->tokens, contents(3).tokens);
  EXPECT_EQ(read->keys, contents(3).keys);
  EXPECT_EQ(read->values, contents(3).values);
}

TEST(KvFileTest, RejectsCorruptTruncatedAndForeignFiles) {
  const std::string path = temp("bad.kv");
  ASSERT_TRUE(write_kv_file(path, shape(), contents(2)).ok());
  std::string bytes;
  {
    std::ifstream f(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  const auto write_bytes = [&](const std::string& b) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(b.data(), static_cast<std::streamsize>(b.size()));
  };
  auto flipped = bytes;
  flipped[60] ^= 1;
  write_bytes(flipped);
  EXPECT_NE(read_kv_file(path, shape()).status().message().find("checksum"), std::string::npos);
  for (size_t cut : {size_t{0}, size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    write_bytes(bytes.substr(0, cut));
    EXPECT_FALSE(read_kv_file(path, shape()).ok()) << cut;
  }
  write_bytes(bytes);
  KvFileShape other = shape();
  other.model_fingerprint = 99;
  EXPECT_NE(read_kv_file(path, other).status().message().find("another model"), std::string::npos);
  other = shape();
  other.layers = 3;
  EXPECT_FALSE(read_kv_file(path, other).ok());
  EXPECT_EQ(read_kv_file(temp("missing.kv"), shape()).status().code(), StatusCode::kNotFound);
}

TEST(KvFileTest, RefusesPartialBlocks) {
  auto c = contents(1);
  c.tokens.pop_back();
  EXPECT_FALSE(write_kv_file(temp("partial.kv"), shape(), c).ok());
}

}  // namespace
}  // namespace inferd::kv
