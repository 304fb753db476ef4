#include "format/gguf_writer.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "base/check.h"

namespace inferd::format {
namespace {

class ByteSink {
 public:
  explicit ByteSink(std::vector<uint8_t>* out) : out_(out) {}
  void write(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out_->insert(out_->end(), b, b + n);
  }
  uint64_t pos() const { return out_->size(); }
  bool ok() const { return true; }

 private:
  std::vector<uint8_t>* out_;
};

class FileSink {
 public:
  explicit FileSink(std::FILE* f) : f_(f) {}
  void write(const void* p, size_t n) {
    if (ok_ && n && std::fwrite(p, 1, n, f_) != n) ok_ = false;
    pos_ += n;
  }
  uint64_t pos() const { return pos_; }
  bool ok() const { return ok_; }

 private:
  std::FILE* f_;
  uint64_t pos_ = 0;
  bool ok_ = true;
};

template <typename Sink, typename T>
void put(Sink& s, T v) {
  s.write(&v, sizeof(v));
}

template <typename Sink>
void put_string(Sink& s, const std::string& str) {
  put<Sink, uint64_t>(s, str.size());
  s.write(str.data(), str.size());
}

template <typename Sink>
void put_array(Sink& s, const GgufArray& a);

template <typename Sink>
void put_value_body(Sink& s, const GgufValue& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) put_string(s, x);
        else if constexpr (std::is_same_v<T, bool>) put<Sink, uint8_t>(s, x ? 1 : 0);
        else if constexpr (std::is_same_v<T, std::shared_ptr<const GgufArray>>) put_array(s, *x);
        else put<Sink, T>(s, x);
      },
      v.storage());
}

template <typename Sink>
void put_array(Sink& s, const GgufArray& a) {
  put<Sink, uint32_t>(s, static_cast<uint32_t>(a.elem_type));
  put<Sink, uint64_t>(s, a.size());
  std::visit(
      [&](const auto& vec) {
        using T = typename std::decay_t<decltype(vec)>::value_type;
        for (const auto& x : vec) {
          if constexpr (std::is_same_v<T, std::string>) put_string(s, x);
          else if constexpr (std::is_same_v<T, bool>) put<Sink, uint8_t>(s, x ? 1 : 0);
          else if constexpr (std::is_same_v<T, GgufArray>) put_array(s, x);
          else put<Sink, T>(s, x);
        }
      },
      a.items);
}

template <typename Sink>
void pad_to(Sink& s, uint64_t alignment) {
  static const uint8_t zeros[256] = {};
  uint64_t pad = (alignment - s.pos() % alignment) % alignment;
  while (pad > 0) {
    const uint64_t n = std::min<uint64_t>(pad, sizeof(zeros));
    s.write(zeros, n);
    pad -= n;
  }
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& [k, v] : kv_)
    if (k == key) {
      v = std::move(value);
      return;
    }
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::set_array(const std::string& key, GgufArray array) {
  set(key, GgufValue(GgufValue::Storage(std::make_shared<const GgufArray>(std::move(array)))));
}

void GgufWriter::add_tensor(std::string name, backend::DType type, std::vector<int64_t> dims,
                            FillFn fill) {
  INFERD_CHECK(!dims.empty() && dims.size() <= 4);
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  const uint64_t size = static_cast<uint64_t>(backend::dtype_bytes(type, n));
  tensors_.push_back({std::move(name), type, std::move(dims), size, std::move(fill)});
}

void GgufWriter::add_tensor_bytes(std::string name, backend::DType type, std::vector<int64_t> dims,
                                  std::vector<uint8_t> data) {
  auto shared = std::make_shared<std::vector<uint8_t>>(std::move(data));
  add_tensor(std::move(name), type, std::move(dims), [shared](std::span<uint8_t> out) {
    INFERD_CHECK(out.size() == shared->size());
    if (!out.empty()) std::memcpy(out.data(), shared->data(), out.size());  // empty: data() may be null
  });
}

template <typename Sink>
void GgufWriter::emit(Sink& s) const {
  put<Sink, uint32_t>(s, 0x46554747);
  put<Sink, uint32_t>(s, 3);
  put<Sink, uint64_t>(s, tensors_.size());
  // general.alignment is written when it differs from the default.
  const bool write_alignment = alignment_ != 32;
  put<Sink, uint64_t>(s, kv_.size() + (write_alignment ? 1 : 0));
  for (const auto& [k, v] : kv_) {
    put_string(s, k);
    put<Sink, uint32_t>(s, static_cast<uint32_t>(v.type()));
    put_value_body(s, v);
  }
  if (write_alignment) {
    put_string(s, std::string("general.alignment"));
    put<Sink, uint32_t>(s, static_cast<uint32_t>(GgufType::kU32));
    put<Sink, uint32_t>(s, alignment_);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_string(s, t.name);
    put<Sink, uint32_t>(s, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) put<Sink, uint64_t>(s, static_cast<uint64_t>(d));
    put<Sink, uint32_t>(s, static_cast<uint32_t>(t.type));
    put<Sink, uint64_t>(s, offset);
    offset += (t.size_bytes + alignment_ - 1) / alignment_ * alignment_;
  }
  pad_to(s, alignment_);
  std::vector<uint8_t> buf;
  for (const auto& t : tensors_) {
    buf.assign(t.size_bytes, 0);
    t.fill(buf);
    s.write(buf.data(), buf.size());
    pad_to(s, alignment_);
  }
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<uint8_t> out;
  ByteSink sink(&out);
  emit(sink);
  return out;
}

Status GgufWriter::write(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return io_error("{}: cannot create: {}", tmp, std::strerror(errno));
  FileSink sink(f);
  emit(sink);
  const bool ok = sink.ok() && std::fflush(f) == 0;
  std::fclose(f);
  if (!ok) {
    std::remove(tmp.c_str());
    return io_error("{}: write failed: {}", path, std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return io_error("{}: cannot rename into place: {}", path, ec.message());
  }
  return {};
}

}  // namespace inferd::format
