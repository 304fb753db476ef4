// Read kernels of the bandwidth measurement (bandwidth_avx2.cpp, bandwidth_avx512.cpp): each
// reads every byte of [a, a + bytes) and [b, b + bytes) once, 256 bytes of each in turn (two
// sequential streams), and returns a value that depends on all of them, so that the loads
// cannot be optimised away. REQUIRES a and b 64-byte aligned, bytes % 256 == 0, and the file's
// ISA level on this CPU.
#pragma once

#include <cstddef>
#include <cstdint>

namespace inferd::backend::cpu {
namespace avx2 {
uint64_t read_two(const uint8_t* a, const uint8_t* b, size_t bytes);
}  // namespace avx2
namespace avx512 {
uint64_t read_two(const uint8_t* a, const uint8_t* b, size_t bytes);
}  // namespace avx512
}  // namespace inferd::backend::cpu
