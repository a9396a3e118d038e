// Device memory for the GPU tests: a host tensor's values as f32 (or i32) on the GPU and back.
#pragma once

#include <doctest/doctest.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "eval/tensor.h"

namespace kiln::test {

#define KILN_CUDA_REQUIRE(call)                                                                    \
  do {                                                                                             \
    cudaError_t e_ = (call);                                                                       \
    REQUIRE_MESSAGE(e_ == cudaSuccess, #call << ": " << cudaGetErrorName(e_) << " " << cudaGetErrorString(e_)); \
  } while (0)

template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) { KILN_CUDA_REQUIRE(cudaMalloc(&p_, sizeof(T) * (n ? n : 1))); }
  explicit DeviceBuffer(const ref::Tensor& t) : DeviceBuffer(size_t(t.size())) { upload(t); }
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return p_; }

  void upload(const ref::Tensor& t) {
    std::vector<T> host(t.data.begin(), t.data.end());
    KILN_CUDA_REQUIRE(cudaMemcpy(p_, host.data(), sizeof(T) * host.size(), cudaMemcpyHostToDevice));
  }
  // Waits for the device; the values as a host tensor of `type`.
  ref::Tensor download(const TensorType& type) const {
    KILN_CUDA_REQUIRE(cudaDeviceSynchronize());
    std::vector<T> host(size_t(type.numElements()));
    KILN_CUDA_REQUIRE(cudaMemcpy(host.data(), p_, sizeof(T) * host.size(), cudaMemcpyDeviceToHost));
    return ref::Tensor(type, std::vector<double>(host.begin(), host.end()));
  }

 private:
  T* p_ = nullptr;
  size_t n_;
};

}  // namespace kiln::test
