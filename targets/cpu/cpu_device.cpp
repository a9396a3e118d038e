// The cpu device's factory: everything it needs comes from the executable's cpu sections.
#include "targets/cpu/cpu_device.h"

#include <sstream>

#include "runtime/engine/device_registry.h"
#include "targets/cpu/cpu_features.h"

namespace kiln {

namespace {

Expected<std::unique_ptr<Engine>> makeCpuDevice(const DeviceInputs& in) {
  auto section = [&](const char* name) -> const std::string* {
    auto it = in.sections.find(name);
    return it == in.sections.end() ? nullptr : &it->second;
  };
  // Code built for vector extensions this CPU lacks would die of SIGILL: say so instead.
  std::vector<std::string> need = runtimeCpuFeatures();
  if (const std::string* f = section(kCpuKernelFeaturesSection)) {
    std::istringstream features(*f);
    for (std::string x; features >> x;) need.push_back(x);
  }
  if (auto missing = missingCpuFeatures(need); !missing.empty())
    return makeError({}, in.origin + " was built for a CPU with " + joinFeatures(missing) +
                             ", which this one lacks; compile the spec again on this machine (kiln compile)");
  const std::string* planText = section(kCpuArenaPlanSection);
  if (!planText)
    return makeError({}, in.origin + " holds no cpu memory plan: it was compiled for another target "
                                     "(compile the spec with --target cpu to run it on the cpu device)");
  auto plans = parseArenaPlans(in.module, *planText, in.origin + " [" + kCpuArenaPlanSection + "]", 4);
  if (!plans) return plans.error();
  std::shared_ptr<const KernelLibrary> kernels;
  KernelPlans kernelPlans;
  if (const std::string* so = section(kCpuKernelsSection)) {
    const std::string* planned = section(kCpuKernelPlansSection);
    if (!planned) return makeError({}, "damaged executable: " + in.origin + " has generated kernels but no " + kCpuKernelPlansSection);
    auto loaded = parseKernelPlans(in.module, *planned, in.origin + " [" + kCpuKernelPlansSection + "]");
    if (!loaded) return loaded.error();
    kernelPlans = loaded.take();
    auto lib = loadKernelLibrary(*so, in.origin);
    if (!lib) return lib.error();
    kernels = *lib;
  }
  return makeCpuEngine(in.module, std::move(kernels), plans.take(), std::move(kernelPlans));
}

std::string describeCpu(const DeviceInputs& in) {
  auto it = in.sections.find(kCpuKernelFeaturesSection);
  return describeCpuVectorUse(it != in.sections.end() && in.sections.count(kCpuKernelsSection) ? it->second : "");
}

}  // namespace

void registerCpuDevice() {
  registerDevice("cpu", "f32, oneDNN matmuls, generated fused kernels, one planned arena", makeCpuDevice, describeCpu);
}

}  // namespace kiln
