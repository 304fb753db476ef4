#include "testing/poisoned_model.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <vector>

#include "format/gguf_file.h"

namespace inferd::testing {

Status write_poisoned_copy(const std::filesystem::path& from, const std::filesystem::path& to,
                           const std::string& tensor) {
  uint64_t begin = 0, size = 0;
  backend::DType type{};
  {
    auto file = format::GgufFile::open(from.string());
    if (!file.ok()) return file.status();
    const format::GgufTensorInfo* t = (*file)->find_tensor(tensor);
    if (t == nullptr) return not_found("no tensor '{}' in {}", tensor, from.string());
    begin = (*file)->data_offset() + t->offset;
    size = t->size_bytes;
    type = t->type;
  }
  std::vector<uint8_t> nan_value;
  if (type == backend::DType::kF32) {
    const uint32_t bits = 0x7fc00000u;
    nan_value.resize(4);
    std::memcpy(nan_value.data(), &bits, 4);
  } else if (type == backend::DType::kF16) {
    nan_value = {0x00, 0x7e};
  } else {
    return invalid_argument("tensor '{}' is neither F32 nor F16", tensor);
  }
  std::error_code ec;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return io_error("copying {}: {}", from.string(), ec.message());
  std::fstream out(to, std::ios::in | std::ios::out | std::ios::binary);
  out.seekp(static_cast<std::streamoff>(begin));
  for (uint64_t i = 0; i < size; i += nan_value.size())
    out.write(reinterpret_cast<const char*>(nan_value.data()),
              static_cast<std::streamsize>(nan_value.size()));
  if (!out) return io_error("writing {}", to.string());
  return {};
}

}  // namespace inferd::testing
