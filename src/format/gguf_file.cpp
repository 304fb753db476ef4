#include "format/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include <fmt/format.h>

namespace inferd::format {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr int kMaxArrayDepth = 8;
// Counts come from the file: at most this many entries are reserved before they are read, so
// memory follows what the file really holds, not what its header or an array length claims.
constexpr uint64_t kMaxReservedEntries = 1 << 16;

uint64_t reservation(uint64_t claimed) { return std::min(claimed, kMaxReservedEntries); }

// Bounded little-endian reader over the mapped bytes. Every read checks the remaining length.
class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }

  template <typename T>
  Status read(T* out, const char* what) {
    if (remaining() < sizeof(T))
      return data_loss("truncated at byte {} while reading {}", pos_, what);
    std::memcpy(out, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return {};
  }

  Status read_string(std::string* out, const char* what) {
    uint64_t len = 0;
    INFERD_RETURN_IF_ERROR(read(&len, what));
    if (len > remaining())
      return data_loss("{} at byte {} claims {} bytes but only {} remain", what, pos_ - 8, len,
                       remaining());
    out->assign(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return {};
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

// Smallest number of bytes one value of `t` occupies in a file (bounds array counts).
uint64_t min_encoded_bytes(GgufType t) {
  switch (t) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kBool: return 1;
    case GgufType::kU16: case GgufType::kI16: return 2;
    case GgufType::kU32: case GgufType::kI32: case GgufType::kF32: return 4;
    case GgufType::kU64: case GgufType::kI64: case GgufType::kF64: case GgufType::kString: return 8;
    case GgufType::kArray: return 12;
  }
  return 1;
}

bool valid_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kF64); }

Status read_value(Cursor& c, GgufType type, int depth, GgufValue* out);

// Fixed-size elements: `count` fits in the remaining bytes (checked by the caller), so the vector
// is no larger than the file region it is read from.
template <typename T>
Status read_scalar_vector(Cursor& c, uint64_t count, std::vector<T>* v, const char* what) {
  v->resize(count);
  for (uint64_t i = 0; i < count; ++i) INFERD_RETURN_IF_ERROR(c.read(&(*v)[i], what));
  return {};
}

Status read_array(Cursor& c, int depth, GgufArray* arr) {
  if (depth >= kMaxArrayDepth) return data_loss("arrays nested deeper than {}", kMaxArrayDepth);
  uint32_t raw_type = 0;
  uint64_t count = 0;
  INFERD_RETURN_IF_ERROR(c.read(&raw_type, "array element type"));
  if (!valid_type(raw_type)) return data_loss("array element type {} is not a GGUF type", raw_type);
  INFERD_RETURN_IF_ERROR(c.read(&count, "array length"));
  const auto elem = static_cast<GgufType>(raw_type);
  if (count > c.remaining() / min_encoded_bytes(elem))
    return data_loss("array of {} claims {} elements but only {} bytes remain",
                     gguf_type_name(elem), count, c.remaining());
  arr->elem_type = elem;
  switch (elem) {
    case GgufType::kU8: return read_scalar_vector(c, count, &arr->items.emplace<0>(), "u8");
    case GgufType::kI8: return read_scalar_vector(c, count, &arr->items.emplace<1>(), "i8");
    case GgufType::kU16: return read_scalar_vector(c, count, &arr->items.emplace<2>(), "u16");
    case GgufType::kI16: return read_scalar_vector(c, count, &arr->items.emplace<3>(), "i16");
    case GgufType::kU32: return read_scalar_vector(c, count, &arr->items.emplace<4>(), "u32");
    case GgufType::kI32: return read_scalar_vector(c, count, &arr->items.emplace<5>(), "i32");
    case GgufType::kF32: return read_scalar_vector(c, count, &arr->items.emplace<6>(), "f32");
    case GgufType::kU64: return read_scalar_vector(c, count, &arr->items.emplace<10>(), "u64");
    case GgufType::kI64: return read_scalar_vector(c, count, &arr->items.emplace<11>(), "i64");
    case GgufType::kF64: return read_scalar_vector(c, count, &arr->items.emplace<12>(), "f64");
    case GgufType::kBool: {
      auto& v = arr->items.emplace<7>();
      v.resize(count);
      for (uint64_t i = 0; i < count; ++i) {
        uint8_t b = 0;
        INFERD_RETURN_IF_ERROR(c.read(&b, "bool"));
        if (b > 1) return data_loss("bool array element {} has value {}", i, b);
        v[i] = b != 0;
      }
      return {};
    }
    case GgufType::kString: {
      auto& v = arr->items.emplace<8>();
      v.reserve(reservation(count));
      for (uint64_t i = 0; i < count; ++i)
        INFERD_RETURN_IF_ERROR(c.read_string(&v.emplace_back(), "string"));
      return {};
    }
    case GgufType::kArray: {
      auto& v = arr->items.emplace<9>();
      v.reserve(reservation(count));
      for (uint64_t i = 0; i < count; ++i)
        INFERD_RETURN_IF_ERROR(read_array(c, depth + 1, &v.emplace_back()));
      return {};
    }
  }
  return data_loss("unreachable array type");
}

template <typename T>
Status read_scalar(Cursor& c, GgufValue* out, const char* what) {
  T v{};
  INFERD_RETURN_IF_ERROR(c.read(&v, what));
  *out = GgufValue(GgufValue::Storage(v));
  return {};
}

Status read_value(Cursor& c, GgufType type, int depth, GgufValue* out) {
  switch (type) {
    case GgufType::kU8: return read_scalar<uint8_t>(c, out, "u8");
    case GgufType::kI8: return read_scalar<int8_t>(c, out, "i8");
    case GgufType::kU16: return read_scalar<uint16_t>(c, out, "u16");
    case GgufType::kI16: return read_scalar<int16_t>(c, out, "i16");
    case GgufType::kU32: return read_scalar<uint32_t>(c, out, "u32");
    case GgufType::kI32: return read_scalar<int32_t>(c, out, "i32");
    case GgufType::kF32: return read_scalar<float>(c, out, "f32");
    case GgufType::kU64: return read_scalar<uint64_t>(c, out, "u64");
    case GgufType::kI64: return read_scalar<int64_t>(c, out, "i64");
    case GgufType::kF64: return read_scalar<double>(c, out, "f64");
    case GgufType::kBool: {
      uint8_t b = 0;
      INFERD_RETURN_IF_ERROR(c.read(&b, "bool"));
      if (b > 1) return data_loss("bool value {} (must be 0 or 1)", b);
      *out = GgufValue(GgufValue::Storage(b != 0));
      return {};
    }
    case GgufType::kString: {
      std::string s;
      INFERD_RETURN_IF_ERROR(c.read_string(&s, "string"));
      *out = GgufValue(GgufValue::Storage(std::move(s)));
      return {};
    }
    case GgufType::kArray: {
      auto arr = std::make_shared<GgufArray>();
      INFERD_RETURN_IF_ERROR(read_array(c, depth, arr.get()));
      *out = GgufValue(GgufValue::Storage(std::shared_ptr<const GgufArray>(std::move(arr))));
      return {};
    }
  }
  return data_loss("unreachable value type");
}

}  // namespace

std::string GgufTensorInfo::shape_string() const {
  std::string s = "[";
  for (int i = 0; i < num_dims; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  INFERD_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->file_ = std::move(mapped);
  f->bytes_ = f->file_.bytes();
  f->name_ = path;
  INFERD_RETURN_IF_ERROR(f->parse_all().with_context(path));
  return f;
}

Result<std::unique_ptr<GgufFile>> GgufFile::parse(std::span<const uint8_t> bytes, std::string name) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->bytes_ = bytes;
  f->name_ = std::move(name);
  INFERD_RETURN_IF_ERROR(f->parse_all().with_context(f->name_));
  return f;
}

Status GgufFile::parse_all() {
  Cursor c(bytes_);
  uint32_t magic = 0;
  if (bytes_.size() < 4) return data_loss("file of {} bytes is too short to be GGUF", bytes_.size());
  INFERD_RETURN_IF_ERROR(c.read(&magic, "magic"));
  if (magic != kMagic) return invalid_argument("not a GGUF file (bad magic)");
  INFERD_RETURN_IF_ERROR(c.read(&version_, "version"));
  if (version_ == 1) return unsupported("GGUF version 1 is not supported (convert to v3)");
  if (version_ != 2 && version_ != 3) {
    if (version_ > 0xffff) return unsupported("big-endian or corrupt GGUF (version field {:#x})", version_);
    return unsupported("GGUF version {} is not supported (expected 2 or 3)", version_);
  }
  uint64_t num_tensors = 0, num_kv = 0;
  INFERD_RETURN_IF_ERROR(c.read(&num_tensors, "tensor count"));
  INFERD_RETURN_IF_ERROR(c.read(&num_kv, "metadata count"));
  // Each key/value takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info 8 + 4 + 8 + 4 + 8.
  if (num_kv > c.remaining() / 13)
    return data_loss("header claims {} metadata entries; the file is too small", num_kv);
  if (num_tensors > c.remaining() / 32)
    return data_loss("header claims {} tensors; the file is too small", num_tensors);

  kv_.reserve(reservation(num_kv));
  for (uint64_t i = 0; i < num_kv; ++i) {
    std::string key;
    INFERD_RETURN_IF_ERROR(c.read_string(&key, "metadata key"));
    uint32_t raw_type = 0;
    INFERD_RETURN_IF_ERROR(c.read(&raw_type, "metadata type"));
    if (!valid_type(raw_type))
      return data_loss("metadata '{}' has unknown value type {}", key, raw_type);
    GgufValue value;
    INFERD_RETURN_IF_ERROR(
        read_value(c, static_cast<GgufType>(raw_type), 0, &value).with_context("metadata '" + key + "'"));
    if (kv_index_.count(key)) return data_loss("duplicate metadata key '{}'", key);
    kv_index_.emplace(key, kv_.size());
    kv_.emplace_back(std::move(key), std::move(value));
  }

  if (const GgufValue* a = find("general.alignment")) {
    if (!a->is_integer()) return data_loss("general.alignment is not an integer");
    const int64_t al = a->as_int();
    if (al <= 0 || al > (1 << 24) || (al & (al - 1)) != 0)
      return data_loss("general.alignment {} is not a power of two", al);
    alignment_ = static_cast<uint32_t>(al);
  }

  tensors_.reserve(reservation(num_tensors));
  for (uint64_t i = 0; i < num_tensors; ++i) {
    GgufTensorInfo t;
    INFERD_RETURN_IF_ERROR(c.read_string(&t.name, "tensor name"));
    uint32_t num_dims = 0;
    INFERD_RETURN_IF_ERROR(c.read(&num_dims, "tensor dimension count"));
    if (num_dims < 1 || num_dims > kMaxDims)
      return data_loss("tensor '{}' has {} dimensions (1 to {} allowed)", t.name, num_dims, kMaxDims);
    t.num_dims = static_cast<int>(num_dims);
    for (uint32_t d = 0; d < num_dims; ++d) {
      uint64_t dim = 0;
      INFERD_RETURN_IF_ERROR(c.read(&dim, "tensor dimension"));
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return data_loss("tensor '{}' dimension {} is too large", t.name, d);
      t.dims[d] = static_cast<int64_t>(dim);
    }
    uint32_t raw_type = 0;
    INFERD_RETURN_IF_ERROR(c.read(&raw_type, "tensor type"));
    INFERD_RETURN_IF_ERROR(c.read(&t.offset, "tensor offset"));
    const auto info = backend::dtype_info(raw_type);
    if (!info) return unsupported("tensor '{}' has unknown type id {}", t.name, raw_type);
    t.type = info->type;

    int64_t n = 1;
    for (int d = 0; d < kMaxDims; ++d)
      if (__builtin_mul_overflow(n, t.dims[d], &n))
        return data_loss("tensor '{}' shape {} overflows", t.name, t.shape_string());
    if (t.dims[0] % info->block_elems != 0)
      return data_loss("tensor '{}' of type {} has row length {}, not a multiple of {}", t.name,
                       info->name, t.dims[0], info->block_elems);
    uint64_t size = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(n / info->block_elems),
                               static_cast<uint64_t>(info->block_bytes), &size))
      return data_loss("tensor '{}' size overflows", t.name);
    t.size_bytes = size;
    if (t.offset % alignment_ != 0)
      return data_loss("tensor '{}' offset {} is not a multiple of the alignment {}", t.name,
                       t.offset, alignment_);
    if (tensor_index_.count(t.name)) return data_loss("duplicate tensor name '{}'", t.name);
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  const uint64_t end_of_infos = c.pos();
  data_offset_ = (end_of_infos + alignment_ - 1) / alignment_ * alignment_;
  if (!tensors_.empty() && data_offset_ > bytes_.size())
    return data_loss("tensor data section starts at {} beyond the end of the file ({} bytes)",
                     data_offset_, bytes_.size());
  const uint64_t data_bytes = bytes_.size() > data_offset_ ? bytes_.size() - data_offset_ : 0;

  // Every tensor lies inside the file and no two overlap.
  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(tensors_.size());
  for (auto& t : tensors_) {
    if (t.offset > data_bytes || t.size_bytes > data_bytes - t.offset)
      return data_loss("tensor '{}' ({} bytes at data offset {}) extends past the end of the file",
                       t.name, t.size_bytes, t.offset);
    t.data = bytes_.data() + data_offset_ + t.offset;
    by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](auto* a, auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const auto* prev = by_offset[i - 1];
    if (prev->offset + prev->size_bytes > by_offset[i]->offset)
      return data_loss("tensors '{}' and '{}' overlap", prev->name, by_offset[i]->name);
  }
  return {};
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

uint64_t GgufFile::tensor_bytes() const {
  uint64_t total = 0;
  for (const auto& t : tensors_) total += t.size_bytes;
  return total;
}

namespace {
Status wrong_type(const std::string& key, const GgufValue& v, const char* want) {
  return invalid_argument("metadata '{}' is {}, expected {}", key, gguf_type_name(v.type()), want);
}
}  // namespace

Result<int64_t> GgufFile::get_int(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return not_found("metadata '{}' is missing", key);
  if (!v->is_integer()) return wrong_type(key, *v, "an integer");
  return v->as_int();
}

Result<double> GgufFile::get_float(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return not_found("metadata '{}' is missing", key);
  if (!v->is_float() && !v->is_integer()) return wrong_type(key, *v, "a number");
  return v->as_double();
}

Result<bool> GgufFile::get_bool(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return not_found("metadata '{}' is missing", key);
  if (const bool* b = v->as_bool()) return *b;
  return wrong_type(key, *v, "a bool");
}

Result<std::string> GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return not_found("metadata '{}' is missing", key);
  if (const std::string* s = v->as_string()) return *s;
  return wrong_type(key, *v, "a string");
}

Result<const GgufArray*> GgufFile::get_array(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return not_found("metadata '{}' is missing", key);
  if (const GgufArray* a = v->as_array()) return a;
  return wrong_type(key, *v, "an array");
}

Result<int64_t> GgufFile::get_int_or(const std::string& key, int64_t fallback) const {
  return find(key) ? get_int(key) : Result<int64_t>(fallback);
}
Result<double> GgufFile::get_float_or(const std::string& key, double fallback) const {
  return find(key) ? get_float(key) : Result<double>(fallback);
}
Result<bool> GgufFile::get_bool_or(const std::string& key, bool fallback) const {
  return find(key) ? get_bool(key) : Result<bool>(fallback);
}
Result<std::string> GgufFile::get_string_or(const std::string& key, std::string fallback) const {
  return find(key) ? get_string(key) : Result<std::string>(std::move(fallback));
}

}  // namespace inferd::format
