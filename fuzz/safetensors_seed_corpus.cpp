// Writes the seed corpus for safetensors_file_fuzz into a directory: small valid files made with
// SafetensorsWriter covering every dtype, scalars, empty and zero-size tensors, metadata, and an
// MLX-style quantized module (uint32 codes with scales and biases).
// Usage: safetensors_seed_corpus OUT_DIR
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "format/safetensors_writer.h"

namespace {

using inferd::format::SafetensorsDType;
using inferd::format::SafetensorsWriter;
using enum SafetensorsDType;

std::vector<uint8_t> bytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 37 + 11);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: safetensors_seed_corpus OUT_DIR\n");
    return 2;
  }
  const std::filesystem::path out(argv[1]);
  std::filesystem::create_directories(out);
  std::vector<std::pair<std::string, SafetensorsWriter>> files;

  SafetensorsWriter every_type;
  int i = 0;
  for (SafetensorsDType t : {kBool, kU8, kI8, kF8_E5M2, kF8_E4M3, kI16, kU16, kF16, kBF16, kI32,
                             kU32, kF32, kF64, kI64, kU64}) {
    const auto& info = inferd::format::safetensors_dtype_info(t);
    every_type.add("t" + std::to_string(i++), t, {2, 3}, bytes(6 * info.elem_bytes));
  }
  files.emplace_back("every_type.safetensors", std::move(every_type));

  SafetensorsWriter shapes;
  shapes.set_metadata("format", "pt");
  shapes.add("scalar", kF32, {}, bytes(4));
  shapes.add("empty", kF16, {0, 7}, {});
  shapes.add("vector", kBF16, {5}, bytes(10));
  shapes.add("rank4", kU8, {1, 2, 1, 3}, bytes(6));
  files.emplace_back("shapes.safetensors", std::move(shapes));

  SafetensorsWriter mlx;
  mlx.set_metadata("format", "mlx");
  mlx.add("model.layers.0.mlp.up_proj.weight", kU32, {4, 8}, bytes(128));
  mlx.add("model.layers.0.mlp.up_proj.scales", kF16, {4, 1}, bytes(8));
  mlx.add("model.layers.0.mlp.up_proj.biases", kF16, {4, 1}, bytes(8));
  files.emplace_back("mlx.safetensors", std::move(mlx));

  files.emplace_back("no_tensors.safetensors", SafetensorsWriter());

  for (const auto& [name, writer] : files) {
    if (auto st = writer.write((out / name).string()); !st.ok()) {
      std::fprintf(stderr, "safetensors_seed_corpus: %s\n", st.to_string().c_str());
      return 1;
    }
  }
  return 0;
}
