#include "base/cpu_features.h"

#include <cpuid.h>

#include <cstdlib>
#include <cstring>

namespace inferd {
namespace {

bool os_saves_avx512_state(bool* avx_ok) {
  unsigned eax, ebx, ecx, edx;
  __cpuid(1, eax, ebx, ecx, edx);
  const bool osxsave = ecx & (1u << 27);
  if (!osxsave) {
    *avx_ok = false;
    return false;
  }
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  *avx_ok = (lo & 0x6) == 0x6;             // XMM and YMM state
  return (lo & 0xe6) == 0xe6;              // plus opmask and ZMM state
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  bool avx_ok = false;
  const bool zmm_ok = os_saves_avx512_state(&avx_ok);
  __cpuid(1, eax, ebx, ecx, edx);
  f.fma = avx_ok && (ecx & (1u << 12));
  f.f16c = avx_ok && (ecx & (1u << 29));
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  f.avx2 = avx_ok && (ebx & (1u << 5));
  f.bmi2 = ebx & (1u << 8);
  f.avx512f = zmm_ok && (ebx & (1u << 16));
  f.avx512dq = zmm_ok && (ebx & (1u << 17));
  f.avx512bw = zmm_ok && (ebx & (1u << 30));
  f.avx512vl = zmm_ok && (ebx & (1u << 31));
  f.avx512vnni = zmm_ok && (ecx & (1u << 11));
  __cpuid_count(7, 1, eax, ebx, ecx, edx);
  f.avxvnni = avx_ok && (eax & (1u << 4));
  f.avx512bf16 = zmm_ok && (eax & (1u << 5));

  if (f.avx2 && f.fma && f.f16c && f.bmi2) f.level = IsaLevel::kAvx2;
  if (f.level == IsaLevel::kAvx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq &&
      f.avx512vnni && f.avx512bf16)
    f.level = IsaLevel::kAvx512;

  if (const char* cap = std::getenv("INFERD_CPU")) {
    IsaLevel want = f.level;
    if (!std::strcmp(cap, "scalar")) want = IsaLevel::kScalar;
    else if (!std::strcmp(cap, "avx2")) want = IsaLevel::kAvx2;
    else if (!std::strcmp(cap, "avx512")) want = IsaLevel::kAvx512;
    if (want < f.level) f.level = want;
  }
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

const char* isa_level_name(IsaLevel level) {
  switch (level) {
    case IsaLevel::kScalar: return "scalar";
    case IsaLevel::kAvx2: return "avx2";
    case IsaLevel::kAvx512: return "avx512";
  }
  return "unknown";
}

}  // namespace inferd
