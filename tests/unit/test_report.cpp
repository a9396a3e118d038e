// Run reports: reading metrics logs and run descriptions (errors by file and line, resumed
// steps, values that were not finite), the SVG charts' scales, and the page's sections.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "tools/kiln/report/report_page.h"
#include "tools/kiln/report/run_log.h"
#include "tools/kiln/report/svg_chart.h"

namespace kiln::report {
namespace {

namespace fs = std::filesystem;

struct Folder {
  fs::path path = fs::temp_directory_path() / ("kiln-report-" + std::to_string(::getpid()));
  Folder() { fs::create_directories(path); }
  ~Folder() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("report: a metrics log's steps, evaluations, resumed steps, nulls and divergences") {
  Folder f;
  const std::string log = f.write("metrics.jsonl",
                                  "{\"step\": 1, \"loss\": 6.0, \"lr\": 0.001, \"grad_norm\": 1.0, \"tokens_per_s\": 100}\n"
                                  "{\"step\": 2, \"loss\": 5.0, \"lr\": 0.002, \"grad_norm\": null, \"tokens_per_s\": 120}\n"
                                  "{\"step\": 2, \"val_loss\": 5.5}\n"
                                  "{\"step\": 3, \"loss\": null, \"grad_norm\": null, \"diverged\": 1, \"skipped\": 1}\n"
                                  "\n"
                                  "{\"step\": 2, \"loss\": 4.5, \"lr\": 0.002, \"grad_norm\": 0.5, \"tokens_per_s\": 130}\n");
  auto runs = readRuns(f.path.string());
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 1);
  const RunLog& r = (*runs)[0];
  CHECK(r.label == f.path.filename().string());
  CHECK(r.train.at("loss").size() == 2);
  CHECK(r.train.at("loss").at(2) == 4.5);  // the resumed run's line replaces the first one
  CHECK(r.train.at("grad_norm").at(2) == 0.5);
  CHECK(r.eval.at("val_loss").at(2) == 5.5);
  CHECK(r.train.count("val_loss") == 0);
  CHECK(r.divergedSteps == std::vector<int64_t>{3});
  CHECK_FALSE(r.described);
}

TEST_CASE("report: bad logs and descriptions are refused by file and line") {
  Folder f;
  auto bad = readRuns(f.write("a.jsonl", "{\"step\": 1, \"loss\": 6}\n{\"step\": 2, \"loss\": \n"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().str().find("a.jsonl:2:") != std::string::npos);
  auto noStep = readRuns(f.write("b.jsonl", "{\"loss\": 6}\n"));
  REQUIRE_FALSE(noStep.ok());
  CHECK(noStep.error().str().find("b.jsonl:1:") != std::string::npos);
  CHECK(noStep.error().str().find("without a \"step\"") != std::string::npos);
  auto text = readRuns(f.write("c.jsonl", "{\"step\": 1, \"loss\": \"low\"}\n"));
  REQUIRE_FALSE(text.ok());
  CHECK(text.error().str().find("\"loss\" is not a number") != std::string::npos);
  auto empty = readRuns(f.write("d.jsonl", "\n"));
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().str().find("no steps logged") != std::string::npos);
  CHECK_FALSE(readRuns((f.path / "missing.jsonl").string()).ok());
  f.write("e.jsonl", "{\"step\": 1, \"loss\": 6}\n");
  auto description = readRuns(f.write("e.run.json", "{\"kiln_run\": 1, \"spec\": "));
  description = readRuns((f.path / "e.jsonl").string());
  REQUIRE_FALSE(description.ok());
  CHECK(description.error().str().find("e.run.json") != std::string::npos);
  fs::create_directories(f.path / "empty");
  auto folder = readRuns((f.path / "empty").string());
  REQUIRE_FALSE(folder.ok());
  CHECK(folder.error().str().find("no metrics log") != std::string::npos);
}

TEST_CASE("report: the run description gives baselines, tokens per step and the memory plan") {
  Folder f;
  const std::string log = f.write("m.jsonl", "{\"step\": 1, \"loss\": 6, \"lr\": 0.1, \"grad_norm\": 1, \"tokens_per_s\": 10}\n"
                                             "{\"step\": 1, \"val_loss\": 5.9}\n");
  f.write("m.run.json",
          "{\"kiln_run\": 1, \"spec\": \"[model]\\nkind = \\\"gpt\\\" # <b>\\n\", \"spec_path\": \"/x/gpt.toml\", \"objective\": \"causal_lm\","
          " \"model\": {\"kind\": \"gpt\", \"layers\": 2, \"d_model\": 32, \"context\": 32, \"batch\": 8, \"parameters\": 42880},"
          " \"tokens_per_step\": 256, \"ranks\": 1, \"device\": \"cpu on a CPU; vector extensions used: avx2\","
          " \"baselines\": [{\"metric\": \"val_loss\", \"name\": \"unigram\", \"value\": 5.25}],"
          " \"plan_bytes\": {\"parameters\": 1048576, \"optimizer state\": 2097152, \"activation arena\": 4194304, \"total planned\": 7340032},"
          " \"plan\": \"  parameters 1.00 MiB\\n\"}");
  auto runs = readRuns(log);
  REQUIRE(runs.ok());
  const RunLog& r = (*runs)[0];
  CHECK(r.described);
  CHECK(r.tokensPerStep == 256);
  CHECK(r.parameters == 42880);
  REQUIRE(r.baselines.size() == 1);
  CHECK(r.baselines[0].value == 5.25);
  CHECK(r.planBytes.front() == std::pair<std::string, int64_t>{"parameters", 1048576});

  const std::string page = renderReport(*runs, "now");
  CHECK(page.find("unigram baseline") != std::string::npos);
  CHECK(page.find("loss against tokens") != std::string::npos);
  CHECK(page.find("# &lt;b&gt;") != std::string::npos);  // the spec, escaped
  CHECK(page.find("7.00 MiB") != std::string::npos);    // the plan's bar
  CHECK(count(page, "<svg") == 6);  // loss (steps, tokens), lr, grad norm, tokens/s, memory
  CHECK(page.find("<script") == std::string::npos);
  CHECK(page.find("src=") == std::string::npos);
}

TEST_CASE("report: chart scales and markup") {
  const std::vector<double> unit = niceTicks(0, 1, 5);
  REQUIRE(unit.size() == 6);
  for (size_t i = 0; i < unit.size(); ++i) CHECK(unit[i] == doctest::Approx(0.2 * double(i)));
  CHECK(niceTicks(3, 97, 5) == std::vector<double>{20, 40, 60, 80});
  CHECK(niceTicks(0, 1000, 4) == std::vector<double>{0, 500, 1000});  // steps of 1, 2 or 5 x 10^k only
  CHECK(niceTicks(2, 2, 4) == std::vector<double>{2});
  CHECK(escapeXml("a<b & \"c\"") == "a&lt;b &amp; &quot;c&quot;");

  Chart c;
  c.title = "loss";
  c.series.push_back({"train", "#000", {{1, 3.0}, {3, 1.0}, {2, 2.0}}});
  c.series.push_back({"validation", "#f00", {{2, 2.5}, {3, std::nan("")}}, true, true});
  c.references.push_back({"unigram baseline", "#666", 4.0});
  const std::string svg = renderChart(c, 400, 200);
  CHECK(count(svg, "<path") == 2);
  CHECK(count(svg, "<circle") == 1);  // the value that was not finite is left out
  CHECK(svg.find("unigram baseline") != std::string::npos);
  CHECK(svg.find("nan") == std::string::npos);
  Chart none;
  none.title = "reward";
  CHECK(renderChart(none).find("nothing logged") != std::string::npos);
}

}  // namespace kiln::report
