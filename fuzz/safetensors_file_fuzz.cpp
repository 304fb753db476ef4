// libFuzzer target for the safetensors reader: SafetensorsFile::parse must return (a file or an
// error) for any input, never crash, hang or read out of bounds. On success it touches every byte
// of every tensor, so ASan reports any span that reaches past the input, and it checks the
// contracts safetensors_file.h promises (sizes match shapes, data tiles the data section).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "format/safetensors_file.h"

namespace {

using inferd::format::SafetensorsFile;

[[noreturn]] void contract_broken(const char* what) {
  std::fprintf(stderr, "safetensors_file_fuzz: contract broken: %s\n", what);
  std::abort();
}
#define FUZZ_EXPECT(cond)                \
  do {                                   \
    if (!(cond)) contract_broken(#cond); \
  } while (0)

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  auto parsed = inferd::format::SafetensorsFile::parse(input, "fuzz");
  uint64_t h = 1469598103934665603ull;
  if (parsed.ok()) {
    uint64_t total = 0;
    for (const auto& t : (*parsed)->tensors()) {
      FUZZ_EXPECT((*parsed)->find(t.name) == &t);
      FUZZ_EXPECT(t.bytes.data() >= input.data() &&
                  t.bytes.data() + t.bytes.size() <= input.data() + input.size());
      const auto& info = inferd::format::safetensors_dtype_info(t.dtype);
      FUZZ_EXPECT(static_cast<uint64_t>(t.num_elements()) * info.elem_bytes == t.bytes.size());
      for (uint8_t b : t.bytes) h = (h ^ b) * 1099511628211ull;
      total += t.bytes.size();
      h ^= t.shape_string().size();
    }
    FUZZ_EXPECT(total <= input.size());
  } else {
    FUZZ_EXPECT(!parsed.status().message().empty());
  }
  volatile uint64_t sink = h;
  (void)sink;
  return 0;
}
