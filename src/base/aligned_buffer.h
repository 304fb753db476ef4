// AlignedBuffer: an owned, 64-byte aligned, zero-initialised byte buffer (scratch and weights).
// Buffers of 2 MiB and more are aligned to 2 MiB and asked to be backed by transparent huge
// pages: weights streamed once per token then cost one TLB entry per 2 MiB instead of one per
// 4 KiB page (where the system has huge pages off or none free, they are ordinary pages).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <sys/mman.h>

namespace inferd {

class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;
  static constexpr size_t kHugePageBytes = size_t{2} << 20;

  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t size_bytes) { resize(size_bytes); }
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_bytes_(std::exchange(o.size_bytes_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_bytes_, o.size_bytes_);
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { std::free(data_); }

  // Discards the contents; the new buffer is zero-filled.
  void resize(size_t size_bytes) {
    std::free(data_);
    data_ = nullptr;
    size_bytes_ = size_bytes;
    if (size_bytes == 0) return;
    const size_t rounded = (size_bytes + kAlignment - 1) / kAlignment * kAlignment;
    const bool huge = rounded >= kHugePageBytes;
    const size_t align = huge ? kHugePageBytes : kAlignment;
    const size_t allocated = (rounded + align - 1) / align * align;
    data_ = static_cast<uint8_t*>(std::aligned_alloc(align, allocated));
    if (!data_) std::abort();
    if (huge) madvise(data_, allocated, MADV_HUGEPAGE);  // advice only: failure changes nothing
    std::memset(data_, 0, rounded);
  }

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  template <typename T> T* as() { return reinterpret_cast<T*>(data_); }
  template <typename T> const T* as() const { return reinterpret_cast<const T*>(data_); }
  size_t size_bytes() const { return size_bytes_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_bytes_ = 0;
};

}  // namespace inferd
