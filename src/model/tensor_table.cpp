#include "model/tensor_table.h"

#include <cstring>

#include "base/check.h"

namespace inferd::model {

TensorTable TensorTable::from_gguf(const format::GgufFile& file) {
  TensorTable t;
  for (const TensorInfo& info : file.tensors()) t.add(info);
  return t;
}

void TensorTable::add(TensorInfo t) {
  const bool inserted = index_.emplace(t.name, tensors_.size()).second;
  INFERD_CHECK_MSG(inserted, "duplicate tensor name");
  tensors_.push_back(std::move(t));
}

uint8_t* TensorTable::allocate(size_t num_bytes) {
  owned_.push_back(std::make_unique<AlignedBuffer>());
  owned_.back()->resize(num_bytes);
  std::memset(owned_.back()->data(), 0, num_bytes);
  return owned_.back()->data();
}

const TensorInfo* TensorTable::find_tensor(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

uint64_t TensorTable::tensor_bytes() const {
  uint64_t n = 0;
  for (const TensorInfo& t : tensors_) n += t.size_bytes;
  return n;
}

}  // namespace inferd::model
