#include "tools/kiln/report/run_log.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "ir/read_file.h"
#include "runtime/checkpoint/json.h"
#include "runtime/trainer/run_description.h"

namespace kiln::report {

namespace fs = std::filesystem;

namespace {

Diagnostic fileError(const std::string& path, int64_t line, const std::string& what) {
  return makeError(Location{path, int(line), 0}, what);
}

// One metrics line: {"step": N, "name": value-or-null, ...}.
Status readLine(const std::string& text, const std::string& path, int64_t lineNo, RunLog& run) {
  auto v = json::parse(text, path + ":" + std::to_string(lineNo));
  if (!v) return fileError(path, lineNo, v.error().message);
  if (!v->isObject()) return fileError(path, lineNo, "not a JSON object");
  const json::Object& o = v->object();
  auto step = o.find("step");
  if (step == o.end() || !step->second.isNumber() || step->second.number() < 0)
    return fileError(path, lineNo, "a metrics line without a \"step\" number");
  const int64_t at = int64_t(step->second.number());
  if (auto d = o.find("diverged"); d != o.end() && d->second.isNumber() && d->second.number() != 0) {
    run.divergedSteps.push_back(at);
    return okStatus();
  }
  // Evaluation lines hold only val_* metrics; step lines hold the loss, lr and the rest.
  const bool evaluation = o.count("loss") == 0;
  for (const auto& [name, value] : o) {
    if (name == "step") continue;
    if (!value.isNumber()) {
      if (std::holds_alternative<std::nullptr_t>(value.v)) continue;  // not finite when logged
      return fileError(path, lineNo, "\"" + name + "\" is not a number");
    }
    (evaluation ? run.eval : run.train)[name][at] = value.number();
  }
  return okStatus();
}

Status readDescription(const std::string& path, RunLog& run) {
  auto text = readFile(path);
  if (!text) return text.error();
  auto v = json::parse(*text, path);
  if (!v) return fileError(path, 0, "not a run description: " + v.error().message);
  if (!v->isObject()) return fileError(path, 0, "not a run description (a JSON object)");
  const json::Object& o = v->object();
  auto str = [&](const char* k) { return o.count(k) && o.at(k).isString() ? o.at(k).string() : std::string(); };
  auto num = [&](const json::Object& in, const char* k) { return in.count(k) && in.at(k).isNumber() ? in.at(k).number() : 0.0; };
  if (num(o, "kiln_run") != 1) return fileError(path, 0, "not a kiln run description (\"kiln_run\": 1)");
  run.described = true;
  run.spec = str("spec");
  run.specPath = str("spec_path");
  run.objective = str("objective");
  run.device = str("device");
  run.planText = str("plan");
  run.tokensPerStep = int64_t(num(o, "tokens_per_step"));
  run.ranks = std::max<int64_t>(1, int64_t(num(o, "ranks")));
  if (o.count("model") && o.at("model").isObject()) {
    const json::Object& m = o.at("model").object();
    run.parameters = int64_t(num(m, "parameters"));
    std::ostringstream s;
    s << (m.count("kind") && m.at("kind").isString() ? m.at("kind").string() : "?") << ", " << num(m, "layers") << " layers, d_model "
      << num(m, "d_model") << ", context " << num(m, "context") << ", batch " << num(m, "batch");
    run.model = s.str();
  }
  if (o.count("baselines") && o.at("baselines").isArray())
    for (const json::Value& b : o.at("baselines").array())
      if (b.isObject() && b.object().count("metric") && b.object().at("metric").isString())
        run.baselines.push_back({b.object().at("metric").string(),
                                 b.object().count("name") && b.object().at("name").isString() ? b.object().at("name").string() : "baseline",
                                 num(b.object(), "value")});
  // Categories in the order a memory plan lists them; the "of which" parts of the arena apart.
  if (o.count("plan_bytes") && o.at("plan_bytes").isObject()) {
    const json::Object& p = o.at("plan_bytes").object();
    for (const char* k : {"parameters", "optimizer state", "other state", "activation arena", "workspace", "total planned",
                          "activations (peak)", "gradients (peak)"})
      if (p.count(k) && p.at(k).isNumber()) run.planBytes.emplace_back(k, int64_t(p.at(k).number()));
  }
  return okStatus();
}

Expected<RunLog> readRun(const std::string& metricsPath, const std::string& label) {
  auto text = readFile(metricsPath);
  if (!text) return text.error();
  RunLog run;
  run.label = label;
  run.metricsPath = metricsPath;
  std::istringstream lines(*text);
  std::string line;
  int64_t lineNo = 0;
  while (std::getline(lines, line)) {
    ++lineNo;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (auto s = readLine(line, metricsPath, lineNo, run); !s) return s.error();
  }
  if (run.train.empty() && run.eval.empty()) return fileError(metricsPath, 0, "no steps logged");
  const std::string description = runDescriptionPath(metricsPath);
  if (fs::exists(description))
    if (auto s = readDescription(description, run); !s) return s.error();
  return run;
}

}  // namespace

Expected<std::vector<RunLog>> readRuns(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return fileError(path, 0, "no such file or folder");
  if (!fs::is_directory(path, ec)) {
    auto run = readRun(path, fs::path(path).stem().string());
    if (!run) return run.error();
    return std::vector<RunLog>{run.take()};
  }
  // A run folder: its metrics.jsonl, else each *.jsonl in it, named after the folder.
  std::string folder = fs::path(path).lexically_normal().string();
  while (folder.size() > 1 && folder.back() == '/') folder.pop_back();
  const std::string name = fs::path(folder).filename().string().empty() ? folder : fs::path(folder).filename().string();
  std::vector<std::string> logs;
  if (fs::exists(fs::path(path) / "metrics.jsonl")) logs.push_back((fs::path(path) / "metrics.jsonl").string());
  else
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.path().extension() == ".jsonl") logs.push_back(e.path().string());
  if (ec) return fileError(path, 0, "cannot list the folder: " + ec.message());
  if (logs.empty()) return fileError(path, 0, "no metrics log in this folder (metrics.jsonl or another *.jsonl)");
  std::sort(logs.begin(), logs.end());
  std::vector<RunLog> runs;
  for (const std::string& log : logs) {
    auto run = readRun(log, logs.size() == 1 ? name : name + "/" + fs::path(log).stem().string());
    if (!run) return run.error();
    runs.push_back(run.take());
  }
  return runs;
}

}  // namespace kiln::report
