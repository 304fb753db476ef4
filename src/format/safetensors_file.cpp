#include "format/safetensors_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

namespace inferd::format {
namespace {

using json = nlohmann::json;

Result<int64_t> json_non_negative(const json& v, const std::string& what) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return data_loss("{} {} is too large", what, u);
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<int64_t>();
  return data_loss("{} must be a non-negative integer, got {}", what, v.dump());
}

}  // namespace

int64_t SafetensorsTensor::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // checked against overflow when the header was parsed
  return n;
}

std::string SafetensorsTensor::shape_string() const {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::open(const std::string& path) {
  INFERD_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->file_ = std::move(mapped);
  f->bytes_ = f->file_.bytes();
  f->name_ = path;
  if (Status st = f->parse_header(); !st.ok()) return st.with_context(path);
  return f;
}

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::parse(std::span<const uint8_t> bytes,
                                                                std::string name) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->bytes_ = bytes;
  f->name_ = std::move(name);
  if (Status st = f->parse_header(); !st.ok()) return st.with_context(f->name_);
  return f;
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Status SafetensorsFile::parse_header() {
  if (bytes_.size() < 8)
    return data_loss("file of {} bytes is too short for a safetensors header", bytes_.size());
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | bytes_[i];
  if (header_bytes > kMaxHeaderBytes)
    return data_loss("header of {} bytes exceeds the limit of {}", header_bytes, kMaxHeaderBytes);
  if (header_bytes > bytes_.size() - 8)
    return data_loss("header of {} bytes runs past the end of the {}-byte file", header_bytes,
                     bytes_.size());
  if (header_bytes < 2)
    return data_loss("header of {} bytes cannot hold a JSON object", header_bytes);
  const char* text = reinterpret_cast<const char*>(bytes_.data() + 8);
  json header = json::parse(text, text + header_bytes, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) return data_loss("header is not valid JSON");
  if (!header.is_object()) return data_loss("header is not a JSON object");

  const std::span<const uint8_t> data = bytes_.subspan(8 + header_bytes);
  struct Range {
    uint64_t begin, end;
    size_t idx;
  };
  std::vector<Range> ranges;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) return data_loss("__metadata__ is not an object");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) return data_loss("__metadata__ value of '{}' is not a string", mk);
        metadata_[mk] = mv.get<std::string>();
      }
      continue;
    }
    if (!value.is_object()) return data_loss("entry of tensor '{}' is not an object", key);
    SafetensorsTensor t;
    t.name = key;
    auto dtype_it = value.find("dtype");
    auto shape_it = value.find("shape");
    auto offsets_it = value.find("data_offsets");
    if (dtype_it == value.end() || shape_it == value.end() || offsets_it == value.end())
      return data_loss("tensor '{}' lacks dtype, shape or data_offsets", key);
    if (!dtype_it->is_string()) return data_loss("tensor '{}' dtype is not a string", key);
    const auto info = safetensors_dtype(dtype_it->get_ref<const std::string&>());
    if (!info)
      return unsupported("tensor '{}' has unknown dtype '{}'", key, dtype_it->get<std::string>());
    t.dtype = info->type;
    if (!shape_it->is_array()) return data_loss("tensor '{}' shape is not an array", key);
    if (shape_it->size() > kMaxDims)
      return data_loss("tensor '{}' has {} dimensions (at most {})", key, shape_it->size(),
                       kMaxDims);
    uint64_t num_bytes = static_cast<uint64_t>(info->elem_bytes);
    for (const json& d : *shape_it) {
      INFERD_ASSIGN_OR_RETURN(int64_t dim,
                              json_non_negative(d, fmt::format("tensor '{}' dimension", key)));
      t.shape.push_back(dim);
      if (__builtin_mul_overflow(num_bytes, static_cast<uint64_t>(dim), &num_bytes))
        return data_loss("tensor '{}' shape {} overflows", key, t.shape_string());
    }
    if (!offsets_it->is_array() || offsets_it->size() != 2)
      return data_loss("tensor '{}' data_offsets is not a pair", key);
    INFERD_ASSIGN_OR_RETURN(
        int64_t begin,
        json_non_negative((*offsets_it)[0], fmt::format("tensor '{}' begin offset", key)));
    INFERD_ASSIGN_OR_RETURN(
        int64_t end,
        json_non_negative((*offsets_it)[1], fmt::format("tensor '{}' end offset", key)));
    if (begin > end || static_cast<uint64_t>(end) > data.size())
      return data_loss("tensor '{}' data_offsets [{}, {}] lie outside the {}-byte data section",
                       key, begin, end, data.size());
    if (static_cast<uint64_t>(end - begin) != num_bytes)
      return data_loss("tensor '{}' of dtype {} and shape {} needs {} bytes, data_offsets give {}",
                       key, info->name, t.shape_string(), num_bytes, end - begin);
    t.bytes = data.subspan(static_cast<size_t>(begin), static_cast<size_t>(end - begin));
    ranges.push_back({static_cast<uint64_t>(begin), static_cast<uint64_t>(end), tensors_.size()});
    tensors_.push_back(std::move(t));
  }
  // The data section must be tiled exactly: in offset order, each tensor starts where the
  // previous one ends, and the last one ends at the end of the file.
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t pos = 0;
  for (const Range& r : ranges) {
    if (r.begin != pos)
      return data_loss(
          "tensor '{}' starts at {} but the previous data ends at {} (overlap or hole)",
          tensors_[r.idx].name, r.begin, pos);
    pos = r.end;
  }
  if (pos != data.size())
    return data_loss("tensor data ends at {} but the data section has {} bytes", pos, data.size());
  std::vector<SafetensorsTensor> ordered;
  ordered.reserve(tensors_.size());
  for (const Range& r : ranges) ordered.push_back(std::move(tensors_[r.idx]));
  tensors_ = std::move(ordered);
  for (size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
  return Status::ok_status();
}

}  // namespace inferd::format
