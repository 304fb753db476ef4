#include "format/safetensors_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/check.h"

namespace inferd::format {

void SafetensorsWriter::add(std::string name, SafetensorsDType dtype, std::vector<int64_t> shape,
                            std::vector<uint8_t> data) {
  uint64_t n = static_cast<uint64_t>(safetensors_dtype_info(dtype).elem_bytes);
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  INFERD_CHECK_MSG(n == data.size(), "tensor data size does not match its shape");
  tensors_.push_back({std::move(name), dtype, std::move(shape), std::move(data)});
}

std::string SafetensorsWriter::header() const {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata_.empty()) h["__metadata__"] = metadata_;
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    h[t.name] = {{"dtype", safetensors_dtype_info(t.dtype).name},
                 {"shape", t.shape},
                 {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string s = h.dump();
  s.resize((s.size() + 7) / 8 * 8, ' ');
  return s;
}

std::vector<uint8_t> SafetensorsWriter::to_bytes() const {
  const std::string h = header();
  size_t total = 8 + h.size();
  for (const Tensor& t : tensors_) total += t.data.size();
  std::vector<uint8_t> out;
  out.reserve(total);
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(h.size()) >> (8 * i)));
  out.insert(out.end(), h.begin(), h.end());
  for (const Tensor& t : tensors_) out.insert(out.end(), t.data.begin(), t.data.end());
  return out;
}

Status SafetensorsWriter::write(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return io_error("{}: cannot create: {}", tmp, std::strerror(errno));
  const std::string h = header();
  uint8_t len[8];
  for (int i = 0; i < 8; ++i)
    len[i] = static_cast<uint8_t>(static_cast<uint64_t>(h.size()) >> (8 * i));
  bool ok = std::fwrite(len, 1, 8, f) == 8 && std::fwrite(h.data(), 1, h.size(), f) == h.size();
  for (const Tensor& t : tensors_)
    ok = ok && (t.data.empty() || std::fwrite(t.data.data(), 1, t.data.size(), f) == t.data.size());
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return io_error("{}: write failed", tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return io_error("{}: cannot rename into place: {}", path, ec.message());
  }
  return Status::ok_status();
}

}  // namespace inferd::format
