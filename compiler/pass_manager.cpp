#include "compiler/pass_manager.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "ir/printer.h"
#include "ir/suggest.h"
#include "ir/verifier.h"

namespace kiln {

Status PassManager::add(const std::string& name) {
  auto p = createPass(name);
  if (!p) {
    std::string known;
    for (const auto& n : registeredPassNames()) known += (known.empty() ? "" : ", ") + n;
    std::string hint = nearestName(name, registeredPassNames());
    return makeError({}, "unknown pass '" + name + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                             "; known passes: " + known);
  }
  passes_.push_back(std::move(p));
  return okStatus();
}

Status PassManager::addPipeline(const std::string& list) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    std::string name = list.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!name.empty())
      if (auto s = add(name); !s) return s;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return okStatus();
}

Status PassManager::dump(const Module& m, int index, const std::string& name) {
  std::error_code ec;
  std::filesystem::create_directories(opts_.dumpDir, ec);
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%02d", index);
  std::string path = opts_.dumpDir + "/" + prefix + "-" + name + ".kir";
  std::ofstream out(path);
  out << "# IR after pass " << index << ": " << name << "\n";
  printModule(m, out);
  out.close();
  if (!out) return makeError({}, "cannot write dump file " + path);
  return okStatus();
}

Status PassManager::run(Module& m, std::ostream& irOut, std::ostream& timingOut) {
  timings_.clear();
  if (!opts_.dumpDir.empty())
    if (auto s = dump(m, 0, "input"); !s) return s;
  int index = 0;
  for (auto& pass : passes_) {
    ++index;
    std::string name = pass->name();
    if (selected(opts_.printBefore, name)) {
      irOut << "# ---- IR before " << name << " ----\n";
      printModule(m, irOut);
    }
    auto t0 = std::chrono::steady_clock::now();
    bool changed = pass->run(m);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    timings_.push_back({name, secs, changed});
    if (opts_.verifyEach) {
      auto diags = verifyModule(m);
      if (!diags.empty())
        return makeError({}, "internal error: pass '" + name + "' produced invalid IR: " + diags[0].str());
    }
    if (selected(opts_.printAfter, name)) {
      irOut << "# ---- IR after " << name << (changed ? "" : " (unchanged)") << " ----\n";
      printModule(m, irOut);
    }
    if (!opts_.dumpDir.empty())
      if (auto s = dump(m, index, name); !s) return s;
    if (opts_.stopAfter == name) break;
  }
  if (opts_.timePasses) {
    double total = 0;
    for (const auto& t : timings_) total += t.seconds;
    timingOut << "===- pass timing -===\n";
    for (const auto& t : timings_) {
      char line[160];
      std::snprintf(line, sizeof line, "  %10.6f s  %5.1f%%  %s%s\n", t.seconds,
                    total > 0 ? 100.0 * t.seconds / total : 0.0, t.pass.c_str(), t.changed ? "" : " (unchanged)");
      timingOut << line;
    }
    char line[80];
    std::snprintf(line, sizeof line, "  %10.6f s  total\n", total);
    timingOut << line;
  }
  return okStatus();
}

}  // namespace kiln
