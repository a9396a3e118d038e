// CUDA C++ to device code at `kiln compile` time, with NVRTC (no GPU needed): a cubin for sm_90
// and the same code as compute_90 PTX, which the driver JIT-compiles on newer GPUs. ptxas's
// report (registers, spills per kernel) comes back with them.
#pragma once

#include <string>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln::cuda {

struct DeviceCode {
  std::string cubin;      // ELF for sm_90
  std::string ptx;        // compute_90
  std::string ptxasInfo;  // ptxas -v: per kernel "Used N registers", spill stores and loads
};

// `name` is the source's file name in messages; a compile error comes back with NVRTC's log.
Expected<DeviceCode> compileDeviceCode(const std::string& source, const std::string& name);

// Kernels whose ptxas report shows spill stores or loads, by their names in the report.
std::vector<std::string> kernelsWithSpills(const std::string& ptxasInfo);

}  // namespace kiln::cuda
