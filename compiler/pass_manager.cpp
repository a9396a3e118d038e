#include "compiler/pass_manager.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "ir/printer.h"
#include "ir/verifier.h"

namespace kiln {

std::unordered_map<const Value*, int> countUses(const Function& f) {
  std::unordered_map<const Value*, int> uses;
  for (const auto& op : f.ops)
    for (const Value* v : op->operands) ++uses[v];
  for (const Value* v : f.outputs) uses[v] += 2;
  return uses;
}

Status PassManager::add(const std::string& name, const PassOptions& options) {
  auto p = createPass(name, options);
  if (!p) return p.error();
  passes_.push_back(p.take());
  return okStatus();
}

Expected<std::vector<PipelineEntry>> parsePipeline(const std::string& text) {
  std::vector<PipelineEntry> out;
  size_t i = 0;
  auto bad = [&](const std::string& why) {
    return makeError({}, "malformed pass pipeline '" + text + "': " + why);
  };
  while (i < text.size()) {
    size_t end = text.find_first_of(",{", i);
    PipelineEntry e;
    e.name = text.substr(i, end == std::string::npos ? std::string::npos : end - i);
    if (e.name.empty()) return bad("empty pass name");
    i = end == std::string::npos ? text.size() : end;
    if (i < text.size() && text[i] == '{') {
      size_t close = text.find('}', i);
      if (close == std::string::npos) return bad("missing '}'");
      std::string body = text.substr(i + 1, close - i - 1);
      size_t k = 0;
      while (k < body.size()) {
        size_t comma = body.find(',', k);
        std::string kv = body.substr(k, comma == std::string::npos ? std::string::npos : comma - k);
        size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) return bad("option '" + kv + "' is not key=value");
        e.options[kv.substr(0, eq)] = kv.substr(eq + 1);
        k = comma == std::string::npos ? body.size() : comma + 1;
      }
      i = close + 1;
    }
    out.push_back(std::move(e));
    if (i < text.size()) {
      if (text[i] != ',') return bad("expected ',' after '" + out.back().name + "'");
      ++i;
    }
  }
  return out;
}

Status PassManager::addPipeline(const std::string& list) {
  auto entries = parsePipeline(list);
  if (!entries) return entries.error();
  for (const auto& e : *entries)
    if (auto s = add(e.name, e.options); !s) return s;
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
    auto result = pass->run(m);
    if (!result) return result.error();
    bool changed = *result;
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
