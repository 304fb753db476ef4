// libFuzzer target for the GGUF reader: GgufFile::parse must return (a file or an error) for any
// input, never crash, leak, hang or read out of bounds. On success it touches every metadata value,
// every array element and every byte of every tensor, so ASan reports any span that reaches past
// the input, and it checks the contracts gguf_file.h promises (tensor bytes inside the file,
// aligned, not overlapping; lookups consistent with the lists).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "format/gguf_file.h"

namespace {

using inferd::format::GgufArray;
using inferd::format::GgufFile;
using inferd::format::GgufTensorInfo;
using inferd::format::GgufValue;

[[noreturn]] void contract_broken(const char* what) {
  std::fprintf(stderr, "gguf_file_fuzz: contract broken: %s\n", what);
  std::abort();
}
#define FUZZ_EXPECT(cond)                \
  do {                                   \
    if (!(cond)) contract_broken(#cond); \
  } while (0)

// Folds bytes into a checksum so no read can be optimised away.
struct Digest {
  uint64_t h = 1469598103934665603ull;
  void add(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
  template <typename T>
  void add_value(const T& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      add(v.data(), v.size());
    } else if constexpr (std::is_same_v<T, bool>) {
      const uint8_t b = v ? 1 : 0;
      add(&b, 1);
    } else {
      add(&v, sizeof(v));
    }
  }
};

void touch_array(const GgufArray& a, Digest& d, int depth) {
  FUZZ_EXPECT(depth < 64);
  FUZZ_EXPECT(static_cast<uint32_t>(a.elem_type) == a.items.index());
  std::visit(
      [&](const auto& vec) {
        using T = typename std::decay_t<decltype(vec)>::value_type;
        for (const auto& x : vec) {
          if constexpr (std::is_same_v<T, GgufArray>)
            touch_array(x, d, depth + 1);
          else
            d.add_value(static_cast<T>(x));
        }
      },
      a.items);
  const size_t n = a.size();
  d.add(&n, sizeof(n));
}

void touch_value(const GgufValue& v, Digest& d) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::shared_ptr<const GgufArray>>) {
          FUZZ_EXPECT(x != nullptr);
          touch_array(*x, d, 0);
        } else {
          d.add_value(x);
        }
      },
      v.storage());
  if (v.is_integer()) d.add_value(v.as_int());
  if (v.is_integer() || v.is_float()) d.add_value(v.as_double());
  d.add_value(v.to_display_string());
}

void touch_file(const GgufFile& f, std::span<const uint8_t> input, Digest& d) {
  for (const auto& [key, value] : f.metadata()) {
    FUZZ_EXPECT(f.find(key) == &value);
    d.add_value(key);
    touch_value(value, d);
    // Typed accessors must answer (value or error) for every key, whatever its type.
    if (auto r = f.get_int(key); r.ok()) d.add_value(*r);
    if (auto r = f.get_float(key); r.ok()) d.add_value(*r);
    if (auto r = f.get_bool(key); r.ok()) d.add_value(*r);
    if (auto r = f.get_string(key); r.ok()) d.add_value(*r);
    if (auto r = f.get_array(key); r.ok()) FUZZ_EXPECT(*r == value.as_array());
    FUZZ_EXPECT(f.get_int_or(key, 0).ok() == f.get_int(key).ok());
    FUZZ_EXPECT(f.get_float_or(key, 0).ok() == f.get_float(key).ok());
    FUZZ_EXPECT(f.get_bool_or(key, false).ok() == f.get_bool(key).ok());
    FUZZ_EXPECT(f.get_string_or(key, "").ok() == f.get_string(key).ok());
  }
  // An absent key gives the fallback.
  const std::string absent = "\001absent";
  if (!f.find(absent)) FUZZ_EXPECT(*f.get_int_or(absent, 7) == 7);

  const uint32_t alignment = f.alignment();
  FUZZ_EXPECT(alignment > 0 && (alignment & (alignment - 1)) == 0);
  FUZZ_EXPECT(f.data_offset() % alignment == 0);
  uint64_t total = 0;
  std::vector<const GgufTensorInfo*> by_offset;
  for (const GgufTensorInfo& t : f.tensors()) {
    FUZZ_EXPECT(f.find_tensor(t.name) == &t);
    FUZZ_EXPECT(t.num_dims >= 1 && t.num_dims <= GgufFile::kMaxDims);
    for (int64_t dim : t.dims) FUZZ_EXPECT(dim >= 0);
    FUZZ_EXPECT(t.offset % alignment == 0);
    FUZZ_EXPECT(t.data == input.data() + f.data_offset() + t.offset);
    FUZZ_EXPECT(t.size_bytes <= input.size());
    FUZZ_EXPECT(t.data >= input.data() && t.data + t.size_bytes <= input.data() + input.size());
    d.add(t.data, t.size_bytes);  // ASan reports any byte outside the input buffer
    d.add_value(t.shape_string());
    d.add_value(t.num_elements());
    d.add_value(t.num_rows());
    total += t.size_bytes;
    by_offset.push_back(&t);
  }
  FUZZ_EXPECT(f.tensor_bytes() == total);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const auto* a, const auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    FUZZ_EXPECT(by_offset[i - 1]->offset + by_offset[i - 1]->size_bytes <= by_offset[i]->offset);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // libFuzzer's buffer is an exact-size heap copy, so ASan catches a read one byte past the end.
  const std::span<const uint8_t> input(data, size);
  auto parsed = GgufFile::parse(input, "fuzz");
  Digest d;
  if (parsed.ok()) {
    touch_file(**parsed, input, d);
  } else {
    FUZZ_EXPECT(!parsed.status().message().empty());
    d.add_value(parsed.status().to_string());
  }
  volatile uint64_t sink = d.h;
  (void)sink;
  return 0;
}
