#include "targets/cuda/nvrtc_compiler.h"

#include <nvrtc.h>

#include <regex>
#include <sstream>

namespace kiln::cuda {

namespace {

struct Program {
  nvrtcProgram p = nullptr;
  Program() = default;
  Program(Program&& o) noexcept : p(o.p) { o.p = nullptr; }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  Program& operator=(Program&&) = delete;
  ~Program() {
    if (p) nvrtcDestroyProgram(&p);
  }
  std::string log() const {
    size_t n = 0;
    nvrtcGetProgramLogSize(p, &n);
    std::string s(n, '\0');
    if (n) nvrtcGetProgramLog(p, s.data());
    while (!s.empty() && (s.back() == '\0' || s.back() == '\n')) s.pop_back();
    return s;
  }
};

Expected<Program> compile(const std::string& source, const std::string& name, const std::string& arch, bool verbose) {
  Program prog;
  if (nvrtcResult r = nvrtcCreateProgram(&prog.p, source.c_str(), name.c_str(), 0, nullptr, nullptr); r != NVRTC_SUCCESS)
    return makeError({}, name + ": NVRTC cannot take the source: " + nvrtcGetErrorString(r));
  const std::string archOption = "--gpu-architecture=" + arch;
  // Precise division, square root and denormals, as the reference device computes.
  std::vector<const char*> options = {archOption.c_str(), "-std=c++17", "--fmad=true", "-lineinfo"};
  if (verbose) options.push_back("--ptxas-options=-v");
  if (nvrtcResult r = nvrtcCompileProgram(prog.p, int(options.size()), options.data()); r != NVRTC_SUCCESS)
    return makeError({}, name + ": generated CUDA code does not compile for " + arch + " (" + nvrtcGetErrorString(r) +
                             "):\n" + prog.log());
  return prog;
}

}  // namespace

Expected<DeviceCode> compileDeviceCode(const std::string& source, const std::string& name) {
  DeviceCode code;
  {
    auto prog = compile(source, name, "sm_90", true);
    if (!prog) return prog.error();
    size_t n = 0;
    nvrtcGetCUBINSize(prog->p, &n);
    code.cubin.resize(n);
    if (n == 0 || nvrtcGetCUBIN(prog->p, code.cubin.data()) != NVRTC_SUCCESS)
      return makeError({}, name + ": NVRTC gave no sm_90 cubin");
    code.ptxasInfo = prog->log();
  }
  {
    auto prog = compile(source, name, "compute_90", false);
    if (!prog) return prog.error();
    size_t n = 0;
    nvrtcGetPTXSize(prog->p, &n);
    code.ptx.resize(n);
    if (n == 0 || nvrtcGetPTX(prog->p, code.ptx.data()) != NVRTC_SUCCESS)
      return makeError({}, name + ": NVRTC gave no compute_90 PTX");
    while (!code.ptx.empty() && code.ptx.back() == '\0') code.ptx.pop_back();
  }
  return code;
}

std::vector<std::string> kernelsWithSpills(const std::string& ptxasInfo) {
  // "Function properties for NAME" is followed by "N bytes stack frame, S bytes spill stores, L
  // bytes spill loads".
  std::vector<std::string> out;
  std::istringstream in(ptxasInfo);
  std::string line, current;
  static const std::regex props("Function properties for (\\S+)"), spills("(\\d+) bytes spill stores, (\\d+) bytes spill loads");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, props)) current = m[1];
    else if (std::regex_search(line, m, spills) && (m[1] != "0" || m[2] != "0")) out.push_back(current);
  }
  return out;
}

}  // namespace kiln::cuda
