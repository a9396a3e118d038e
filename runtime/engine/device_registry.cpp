#include "runtime/engine/device_registry.h"

#include "ir/suggest.h"

namespace kiln {

namespace {

struct Entry {
  std::string summary;
  DeviceFactory factory;
  DeviceDescriber describe;
  DeviceMemoryLimit memory;
};

std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> devices;
  return devices;
}

}  // namespace

void registerDevice(const std::string& name, const std::string& summary, DeviceFactory factory,
                    DeviceDescriber describe, DeviceMemoryLimit memory) {
  registry()[name] = Entry{summary, factory, describe, memory};
}

bool hasDevice(const std::string& name) { return registry().count(name) > 0; }

std::vector<std::string> deviceNames() {
  std::vector<std::string> out;
  for (const auto& [name, e] : registry()) out.push_back(name);
  return out;
}

std::string deviceNameList() { return joinAlternatives(deviceNames()); }

Expected<std::unique_ptr<Engine>> makeEngine(const std::string& name, const DeviceInputs& in) {
  auto it = registry().find(name);
  if (it == registry().end()) return makeError({}, "unknown device '" + name + "' (this trainer has " + deviceNameList() + ")");
  return it->second.factory(in);
}

std::string describeDevice(const std::string& name, const DeviceInputs& in) {
  auto it = registry().find(name);
  if (it == registry().end()) return "unknown device";
  return it->second.describe ? it->second.describe(in) : it->second.summary;
}

MemoryLimit deviceMemoryLimit(const std::string& name) {
  auto it = registry().find(name);
  return it != registry().end() && it->second.memory ? it->second.memory() : availableMemory();
}

}  // namespace kiln
