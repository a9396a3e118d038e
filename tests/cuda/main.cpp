// The GPU tests: the cuda kernels against the reference device. Where no GPU answers (CI, a
// build machine) they say so in one line and exit 77, which CTest counts as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <cstdio>


int main(int argc, char** argv) {
  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess || count == 0) {
    std::printf("no CUDA GPU here (cudaGetDeviceCount: %s): the GPU tests are skipped\n",
                e != cudaSuccess ? cudaGetErrorName(e) : "no devices");
    return 77;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  int driver = 0;
  cudaDriverGetVersion(&driver);
  std::printf("GPU 0: %s, sm_%d%d, %.1f GiB, driver API %d.%d\n", prop.name, prop.major, prop.minor,
              double(prop.totalGlobalMem) / (1 << 30), driver / 1000, driver % 1000 / 10);
  doctest::Context context(argc, argv);
  return context.run();
}
