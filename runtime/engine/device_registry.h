// Devices by name. Each target's run half registers a factory (targets/devices.cpp); the
// trainer makes engines through this registry and never names a device itself.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/module.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/memory_limits.h"

namespace kiln {

// What a device gets from a compiled executable: the module, every section (a target reads
// its own, e.g. "cpu.arena_plan", "cpu.kernels.so"), and where it came from, for messages.
struct DeviceInputs {
  const Module& module;
  const std::map<std::string, std::string>& sections;
  std::string origin;
};

// Both read `in` during the call only.
using DeviceFactory = Expected<std::unique_ptr<Engine>> (*)(const DeviceInputs& in);
// One line on the hardware and what the executable's code for it uses (info, the trainer's start).
using DeviceDescriber = std::string (*)(const DeviceInputs& in);

// The memory a device's plan must fit in (a trainer refuses a plan larger than it before
// allocating anything); null: this process's host memory (memory_limits.h).
using DeviceMemoryLimit = MemoryLimit (*)();

// `summary` is one line for --help ("f32, oneDNN matmuls, generated kernels").
void registerDevice(const std::string& name, const std::string& summary, DeviceFactory factory,
                    DeviceDescriber describe = nullptr, DeviceMemoryLimit memory = nullptr);
bool hasDevice(const std::string& name);
std::vector<std::string> deviceNames();
std::string deviceNameList();  // "cpu or reference"
Expected<std::unique_ptr<Engine>> makeEngine(const std::string& name, const DeviceInputs& in);
// The device's description of itself for `in` (its summary when it has no describer).
std::string describeDevice(const std::string& name, const DeviceInputs& in);
// What `name`'s plan must fit in now (MemoryLimit::bytes 0: unknown).
MemoryLimit deviceMemoryLimit(const std::string& name);

}  // namespace kiln
