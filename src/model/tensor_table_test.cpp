#include "model/tensor_table.h"

#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace inferd::model {
namespace {

TensorInfo info(const char* name, uint64_t size_bytes) {
  TensorInfo t;
  t.name = name;
  t.type = backend::DType::kF32;
  t.num_dims = 1;
  t.dims[0] = static_cast<int64_t>(size_bytes / 4);
  t.size_bytes = size_bytes;
  return t;
}

TEST(TensorTable, ReleasesOwnedTensorsOnly) {
  std::vector<uint8_t> mapping(64, 7);
  TensorTable table;
  TensorInfo mapped = info("mapped", mapping.size());
  mapped.data = mapping.data();
  table.add(mapped);
  uint8_t* owned = table.add_owned(info("owned", 256));
  ASSERT_NE(owned, nullptr);
  EXPECT_EQ(owned[255], 0);  // zeroed
  std::memset(owned, 1, 256);
  EXPECT_EQ(table.find_tensor("owned")->data, owned);
  EXPECT_EQ(table.tensor_bytes(), 320u);
  EXPECT_EQ(table.held_bytes(), 320u);

  // A tensor in a file mapping stays readable.
  EXPECT_EQ(table.release("mapped"), 0u);
  EXPECT_EQ(table.find_tensor("mapped")->data, mapping.data());

  EXPECT_EQ(table.release("owned"), 256u);
  const TensorInfo* t = table.find_tensor("owned");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->data, nullptr);
  EXPECT_EQ(t->size_bytes, 256u);  // the shape and size stay
  EXPECT_EQ(table.release("owned"), 0u);
  EXPECT_EQ(table.tensor_bytes(), 320u);
  EXPECT_EQ(table.held_bytes(), 64u);
}

TEST(TensorTable, OwnedDataSurvivesLaterAdditionsAndMoves) {
  TensorTable table;
  uint8_t* first = table.add_owned(info("a", 64));
  first[0] = 42;
  for (int i = 0; i < 100; ++i) table.add_owned(info(fmt::format("t{}", i).c_str(), 64));
  TensorTable moved = std::move(table);
  EXPECT_EQ(moved.find_tensor("a")->data, first);
  EXPECT_EQ(moved.find_tensor("a")->data[0], 42);
}

}  // namespace
}  // namespace inferd::model
