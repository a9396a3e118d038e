// CUDA runtime errors as kiln errors: one line naming what failed and the runtime's reason.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "ir/diagnostics.h"

namespace kiln::cuda {

inline Status cudaStatus(cudaError_t e, const std::string& what) {
  if (e == cudaSuccess) return okStatus();
  return makeError({}, what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

#define KILN_CUDA_TRY(call, what)                                   \
  do {                                                              \
    if (::kiln::Status s_ = ::kiln::cuda::cudaStatus((call), (what)); !s_) return s_.error(); \
  } while (0)

// GPU memory owned by one object.
class DeviceMemory {
 public:
  DeviceMemory() = default;
  ~DeviceMemory() { reset(); }
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  DeviceMemory(DeviceMemory&& o) noexcept : p_(o.p_), bytes_(o.bytes_) { o.p_ = nullptr, o.bytes_ = 0; }
  DeviceMemory& operator=(DeviceMemory&& o) noexcept {
    if (this != &o) reset(), p_ = o.p_, bytes_ = o.bytes_, o.p_ = nullptr, o.bytes_ = 0;
    return *this;
  }
  // At least `bytes` (contents lost when it grows).
  Status reserve(size_t bytes, const std::string& what) {
    if (bytes <= bytes_ && p_) return okStatus();
    reset();
    if (cudaError_t e = cudaMalloc(&p_, bytes ? bytes : 1); e != cudaSuccess) {
      p_ = nullptr;
      size_t freeBytes = 0, total = 0;
      cudaMemGetInfo(&freeBytes, &total);
      return makeError({}, "cannot allocate " + std::to_string(bytes >> 20) + " MiB of GPU memory for " + what + " (" +
                               std::to_string(freeBytes >> 20) + " MiB free of " + std::to_string(total >> 20) + ")");
    }
    bytes_ = bytes;
    return okStatus();
  }
  void reset() {
    if (p_) cudaFree(p_);
    p_ = nullptr, bytes_ = 0;
  }
  float* floats() const { return static_cast<float*>(p_); }
  void* get() const { return p_; }
  size_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

// Page-locked host memory: copies from it to the GPU are asynchronous DMA, queued on the stream
// behind whatever runs there, instead of a staged synchronous copy.
class PinnedMemory {
 public:
  PinnedMemory() = default;
  ~PinnedMemory() {
    if (p_) cudaFreeHost(p_);
  }
  PinnedMemory(const PinnedMemory&) = delete;
  PinnedMemory& operator=(const PinnedMemory&) = delete;
  PinnedMemory(PinnedMemory&& o) noexcept : p_(o.p_), bytes_(o.bytes_) { o.p_ = nullptr, o.bytes_ = 0; }
  Status reserve(size_t bytes) {
    if (bytes <= bytes_ && p_) return okStatus();
    if (p_) cudaFreeHost(p_);
    p_ = nullptr, bytes_ = 0;
    if (cudaHostAlloc(&p_, bytes ? bytes : 1, cudaHostAllocDefault) != cudaSuccess) {
      p_ = nullptr;
      return makeError({}, "cannot allocate " + std::to_string(bytes >> 20) + " MiB of page-locked host memory");
    }
    bytes_ = bytes;
    return okStatus();
  }
  float* floats() const { return static_cast<float*>(p_); }

 private:
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace kiln::cuda
