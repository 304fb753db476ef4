// Run-time CPU feature detection. Kernels are chosen once from cpu_features(); the environment
// variable INFERD_CPU=scalar|avx2|avx512 caps the level (for tests and comparisons).
#pragma once

namespace inferd {

enum class IsaLevel {
  kScalar = 0,  // plain C++: the reference
  kAvx2 = 1,    // AVX2 + FMA + F16C
  kAvx512 = 2,  // AVX-512 F/BW/VL/DQ + VNNI
};

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false, bmi2 = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false, avxvnni = false;
  // Highest level usable on this CPU, after the INFERD_CPU cap.
  IsaLevel level = IsaLevel::kScalar;
};

const CpuFeatures& cpu_features();
const char* isa_level_name(IsaLevel level);

}  // namespace inferd
