// The run description beside a metrics log: what `kiln report` shows besides the numbers of each
// step (the spec, the model, the tokens per step, the baselines, the memory plan, the device).
#include <chrono>
#include <ctime>

#include "runtime/checkpoint/json.h"
#include "runtime/checkpoint/safetensors.h"
#include "runtime/trainer/run_description.h"
#include "runtime/trainer/trainer_session.h"

namespace kiln {

std::string runDescriptionPath(const std::string& metricsPath) {
  const std::string ext = ".jsonl";
  const bool jsonl = metricsPath.size() > ext.size() && metricsPath.compare(metricsPath.size() - ext.size(), ext.size(), ext) == 0;
  return (jsonl ? metricsPath.substr(0, metricsPath.size() - ext.size()) : metricsPath) + ".run.json";
}

Status Trainer::describeRun(const std::string& metricsPath, const BatchSource& data, int ranks, int64_t tokensPerStep,
                            int64_t fromStep) const {
  using json::quote;
  auto section = [&](const std::string& name) {
    auto it = exe_.sections.find(name);
    return it == exe_.sections.end() ? std::string() : it->second;
  };
  std::string baselines;
  for (const BatchSource::Baseline& b : data.baselines())
    baselines += std::string(baselines.empty() ? "" : ", ") + "{\"metric\": " + quote(b.metric) + ", \"name\": " + quote(b.name) +
                 ", \"value\": " + formatDouble(b.value) + "}";
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char started[32];
  std::strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const std::string plan = section("plan.json");
  std::string text = "{\n  \"kiln_run\": 1,\n  \"spec_path\": " + quote(cfg("spec")) + ",\n  \"spec\": " + quote(section("spec")) +
                     ",\n  \"objective\": " + quote(cfg("objective")) + ",\n  \"model\": {\"kind\": " + quote(cfg("model.kind")) +
                     ", \"layers\": " + cfg("model.layers") + ", \"d_model\": " + cfg("model.d_model") + ", \"vocab\": " + cfg("model.vocab") +
                     ", \"context\": " + cfg("model.context") + ", \"batch\": " + cfg("model.batch") + ", \"parameters\": " + cfg("model.parameters") +
                     "},\n  \"flops_per_step\": " + cfg("model.flops_per_step") + ",\n  \"tokens_per_step\": " + std::to_string(tokensPerStep) +
                     ",\n  \"ranks\": " + std::to_string(ranks) + ",\n  \"device\": " + quote(device_ + " on " + describeDevice(device_, deviceInputs())) +
                     ",\n  \"plan\": " + quote(section("plan")) +
                     ",\n  \"baselines\": [" + baselines + "],\n  \"plan_bytes\": " + (plan.empty() ? "null" : plan) +
                     ",\n  \"started\": " + quote(started) + ",\n  \"from_step\": " + std::to_string(fromStep) + "\n}\n";
  return writeFileAtomically(runDescriptionPath(metricsPath), text);
}

}  // namespace kiln
