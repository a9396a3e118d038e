// kiln report RUN_DIR_OR_METRICS... -o report.html: every run on the same axes in one
// self-contained HTML file (tools/kiln/report/).
#include <chrono>
#include <ctime>
#include <iostream>

#include "runtime/checkpoint/safetensors.h"
#include "runtime/cli/args.h"
#include "tools/kiln/commands.h"
#include "tools/kiln/report/report_page.h"
#include "tools/kiln/report/run_log.h"

namespace kiln {

namespace {

const std::vector<cli::OptionSpec> kReportOptions = {
    {"o", true, "write the report to FILE (default report.html)"},
    {"help", false, "show this help"},
};

constexpr const char* kReportUsage = "usage: kiln report RUN_DIR_OR_METRICS... [-o report.html]\n";

}  // namespace

int reportCommand(const std::vector<std::string>& argv) {
  auto args = cli::parseArgs(argv, kReportOptions);
  if (!args) {
    std::cerr << args.error().str() << "\n" << kReportUsage;
    return 1;
  }
  if (args->has("help")) {
    std::cout << kReportUsage
              << "A run is a metrics log (metrics.jsonl) or the folder a trainer ran in; several runs share the axes.\n"
              << cli::usageLines(kReportOptions);
    return 0;
  }
  if (args->positional.empty()) {
    std::cerr << "error: kiln report needs a run folder or metrics log\n" << kReportUsage;
    return 1;
  }
  std::vector<report::RunLog> runs;
  for (const std::string& path : args->positional) {
    auto read = report::readRuns(path);
    if (!read) {
      std::cerr << read.error().str() << "\n";
      return 1;
    }
    for (report::RunLog& r : *read) runs.push_back(std::move(r));
  }
  // Runs of the same name (two folders called "run") are told apart by their number.
  for (size_t i = 0; i < runs.size(); ++i)
    for (size_t j = i + 1; j < runs.size(); ++j)
      if (runs[j].label == runs[i].label) runs[j].label += " (" + std::to_string(j + 1) + ")";
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char at[32];
  std::strftime(at, sizeof at, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  const std::string out = args->get("o", "report.html");
  if (auto s = writeFileAtomically(out, report::renderReport(runs, at)); !s) {
    std::cerr << s.error().str() << "\n";
    return 1;
  }
  std::cout << "wrote " << out << " (" << runs.size() << " run(s))\n";
  return 0;
}

}  // namespace kiln
