#include "model/tensor_table.h"

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
  owned_.emplace_back();
}

uint8_t* TensorTable::add_owned(TensorInfo t) {
  AlignedBuffer buf(t.size_bytes);
  uint8_t* data = buf.data();
  t.data = data;
  add(std::move(t));
  owned_.back() = std::move(buf);
  return data;
}

uint64_t TensorTable::release(const std::string& name) {
  auto it = index_.find(name);
  INFERD_CHECK_MSG(it != index_.end(), "release of an unknown tensor");
  AlignedBuffer& buf = owned_[it->second];
  if (buf.data() == nullptr) return 0;
  const uint64_t bytes = tensors_[it->second].size_bytes;
  buf = AlignedBuffer();
  tensors_[it->second].data = nullptr;
  return bytes;
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

uint64_t TensorTable::held_bytes() const {
  uint64_t n = 0;
  for (const TensorInfo& t : tensors_)
    if (t.data) n += t.size_bytes;
  return n;
}

}  // namespace inferd::model
