// Writes the seed corpus for gguf_file_fuzz into a directory:
//   - small valid GGUF files made with GgufWriter: every metadata value type, nested arrays,
//     several tensor types and shapes, default and non-default alignment, no tensors, no metadata;
//   - for each real GGUF file named on the command line: its first 64 KiB, and a "shrunk" copy
//     that keeps its metadata keys and tensor names and types but clips arrays to a few elements
//     and tensors to one small row (so the whole structure fits under the fuzzer's -max_len).
// Usage: gguf_seed_corpus OUT_DIR [REAL.gguf ...]
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "backend/dtype.h"
#include "format/gguf_file.h"
#include "format/gguf_writer.h"

namespace {

using inferd::backend::DType;
using inferd::format::GgufArray;
using inferd::format::GgufFile;
using inferd::format::GgufType;
using inferd::format::GgufValue;
using inferd::format::GgufWriter;
namespace fs = std::filesystem;

constexpr size_t kHeadBytes = 64 * 1024;
constexpr size_t kMaxArrayElems = 8;

bool write_bytes(const fs::path& path, const uint8_t* data, size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
  if (!out) {
    std::fprintf(stderr, "gguf_seed_corpus: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

bool write_seed(const fs::path& dir, const std::string& name, const GgufWriter& w) {
  const std::vector<uint8_t> bytes = w.to_bytes();
  // Every generated seed must be accepted by the reader, or the corpus starts from errors only.
  auto parsed = GgufFile::parse(bytes, name);
  if (!parsed.ok()) {
    std::fprintf(stderr, "gguf_seed_corpus: seed %s does not parse: %s\n", name.c_str(),
                 parsed.status().to_string().c_str());
    return false;
  }
  return write_bytes(dir / (name + ".gguf"), bytes.data(), bytes.size());
}

template <typename T>
GgufArray make_array(GgufType type, std::vector<T> items) {
  GgufArray a;
  a.elem_type = type;
  a.items = std::move(items);
  return a;
}

std::vector<uint8_t> pattern(size_t n, uint8_t start) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(start + i * 7);
  return v;
}

void add_tensor(GgufWriter& w, const std::string& name, DType type, std::vector<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  const auto bytes = static_cast<size_t>(inferd::backend::dtype_bytes(type, n));
  w.add_tensor_bytes(name, type, std::move(dims),
                     pattern(bytes, static_cast<uint8_t>(name.size())));
}

// One entry of every scalar type and every array element type.
void add_all_value_types(GgufWriter& w) {
  using S = GgufValue::Storage;
  w.set("v.u8", GgufValue(S(uint8_t{200})));
  w.set("v.i8", GgufValue(S(int8_t{-100})));
  w.set("v.u16", GgufValue(S(uint16_t{60000})));
  w.set("v.i16", GgufValue(S(int16_t{-30000})));
  w.set("v.u32", GgufValue(S(uint32_t{4000000000u})));
  w.set("v.i32", GgufValue(S(int32_t{-2000000000})));
  w.set("v.f32", GgufValue(S(1.5f)));
  w.set("v.bool", GgufValue(S(true)));
  w.set("v.string", GgufValue(S(std::string("h\xc3\xa9llo"))));
  w.set("v.u64", GgufValue(S(uint64_t{18000000000000000000ull})));
  w.set("v.i64", GgufValue(S(int64_t{-9000000000000000000ll})));
  w.set("v.f64", GgufValue(S(-2.25)));
  w.set_array("a.u8", make_array(GgufType::kU8, std::vector<uint8_t>{0, 1, 255}));
  w.set_array("a.i8", make_array(GgufType::kI8, std::vector<int8_t>{-128, 0, 127}));
  w.set_array("a.u16", make_array(GgufType::kU16, std::vector<uint16_t>{1, 65535}));
  w.set_array("a.i16", make_array(GgufType::kI16, std::vector<int16_t>{-1, 2}));
  w.set_array("a.u32", make_array(GgufType::kU32, std::vector<uint32_t>{7, 8, 9}));
  w.set_array("a.i32", make_array(GgufType::kI32, std::vector<int32_t>{-7, 8}));
  w.set_array("a.f32", make_array(GgufType::kF32, std::vector<float>{0.5f, -1e30f}));
  w.set_array("a.bool", make_array(GgufType::kBool, std::vector<bool>{true, false, true}));
  w.set_array("a.string", make_array(GgufType::kString, std::vector<std::string>{"", "a", "bc"}));
  w.set_array("a.u64", make_array(GgufType::kU64, std::vector<uint64_t>{1, ~0ull}));
  w.set_array("a.i64", make_array(GgufType::kI64, std::vector<int64_t>{-1, 1}));
  w.set_array("a.f64", make_array(GgufType::kF64, std::vector<double>{3.0, -0.0}));
  w.set_array("a.empty", make_array(GgufType::kU32, std::vector<uint32_t>{}));
}

void add_nested_arrays(GgufWriter& w) {
  GgufArray inner1 = make_array(GgufType::kI32, std::vector<int32_t>{1, 2, 3});
  GgufArray inner2 = make_array(GgufType::kString, std::vector<std::string>{"x", "yz"});
  GgufArray mid = make_array(GgufType::kArray, std::vector<GgufArray>{inner1, inner2});
  GgufArray empty_nested = make_array(GgufType::kArray, std::vector<GgufArray>{});
  w.set_array("n.two_levels", mid);
  w.set_array("n.three_levels",
              make_array(GgufType::kArray, std::vector<GgufArray>{mid, empty_nested}));
  GgufArray deep = make_array(GgufType::kU8, std::vector<uint8_t>{42});
  for (int i = 0; i < 7; ++i) deep = make_array(GgufType::kArray, std::vector<GgufArray>{deep});
  w.set_array("n.deep", deep);
}

bool write_synthetic(const fs::path& dir) {
  bool ok = true;
  {
    GgufWriter w;
    ok &= write_seed(dir, "empty", w);
  }
  {
    GgufWriter w;
    add_all_value_types(w);
    ok &= write_seed(dir, "all_value_types", w);
  }
  {
    GgufWriter w;
    add_nested_arrays(w);
    ok &= write_seed(dir, "nested_arrays", w);
  }
  {
    GgufWriter w;
    w.set_string("general.architecture", "llama");
    w.set_u32("llama.block_count", 1);
    add_tensor(w, "f32.2d", DType::kF32, {4, 3});
    add_tensor(w, "f16.1d", DType::kF16, {10});
    add_tensor(w, "bf16.3d", DType::kBF16, {2, 2, 2});
    add_tensor(w, "q4_0", DType::kQ4_0, {64, 2});
    add_tensor(w, "q8_0.4d", DType::kQ8_0, {32, 1, 2, 1});
    add_tensor(w, "q4_k", DType::kQ4_K, {256});
    add_tensor(w, "q6_k", DType::kQ6_K, {256, 2});
    add_tensor(w, "empty", DType::kF32, {0, 4});
    ok &= write_seed(dir, "tensor_types", w);
  }
  for (uint32_t alignment : {1u, 8u, 64u, 4096u}) {
    GgufWriter w(alignment);
    w.set_string("general.name", "aligned");
    add_tensor(w, "a", DType::kF32, {3});
    add_tensor(w, "b", DType::kF16, {5, 2});
    add_tensor(w, "c", DType::kQ5_1, {32});
    ok &= write_seed(dir, "alignment_" + std::to_string(alignment), w);
  }
  {
    GgufWriter w(16);
    add_all_value_types(w);
    add_nested_arrays(w);
    add_tensor(w, "x", DType::kQ2_K, {256});
    add_tensor(w, "y", DType::kI32, {4});
    ok &= write_seed(dir, "everything", w);
  }
  return ok;
}

// Clips every array (recursively) to its first kMaxArrayElems elements.
GgufArray clip_array(const GgufArray& a) {
  GgufArray out;
  out.elem_type = a.elem_type;
  std::visit(
      [&](const auto& vec) {
        using V = std::decay_t<decltype(vec)>;
        V clipped;
        for (size_t i = 0; i < vec.size() && i < kMaxArrayElems; ++i) {
          if constexpr (std::is_same_v<typename V::value_type, GgufArray>)
            clipped.push_back(clip_array(vec[i]));
          else
            clipped.push_back(vec[i]);
        }
        out.items = std::move(clipped);
      },
      a.items);
  return out;
}

bool write_real(const fs::path& dir, const fs::path& real) {
  const std::string stem = real.stem().string();
  std::ifstream in(real, std::ios::binary);
  std::vector<uint8_t> head(kHeadBytes);
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.empty()) {
    std::fprintf(stderr, "gguf_seed_corpus: cannot read %s\n", real.c_str());
    return false;
  }
  bool ok = write_bytes(dir / (stem + ".head64k.gguf"), head.data(), head.size());

  auto file = GgufFile::open(real.string());
  if (!file.ok()) {
    std::fprintf(stderr, "gguf_seed_corpus: %s\n", file.status().to_string().c_str());
    return false;
  }
  GgufWriter w((*file)->alignment());
  for (const auto& [key, value] : (*file)->metadata()) {
    if (key == "general.alignment") continue;  // the writer adds it for non-default alignment
    if (const GgufArray* a = value.as_array())
      w.set_array(key, clip_array(*a));
    else
      w.set(key, value);
  }
  for (const auto& t : (*file)->tensors()) {
    const auto& info = inferd::backend::dtype_info(t.type);
    const int64_t row = std::min<int64_t>(t.dims[0], 2 * info.block_elems);
    std::vector<int64_t> dims(static_cast<size_t>(t.num_dims), 1);
    dims[0] = row;
    const size_t bytes = static_cast<size_t>(inferd::backend::dtype_bytes(t.type, row));
    w.add_tensor_bytes(t.name, t.type, dims, std::vector<uint8_t>(t.data, t.data + bytes));
  }
  ok &= write_seed(dir, stem + ".shrunk", w);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [REAL.gguf ...]\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "gguf_seed_corpus: cannot create %s: %s\n", argv[1], ec.message().c_str());
    return 1;
  }
  bool ok = write_synthetic(dir);
  for (int i = 2; i < argc; ++i) ok &= write_real(dir, argv[i]);
  return ok ? 0 : 1;
}
