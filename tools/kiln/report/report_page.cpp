#include "tools/kiln/report/report_page.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "tools/kiln/report/svg_chart.h"

namespace kiln::report {

namespace {

const char* const kRunColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
const char* runColor(size_t i) { return kRunColors[i % (sizeof kRunColors / sizeof kRunColors[0])]; }

const char* const kStyle = R"(
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1320px; }
h1 { font-size: 22px; margin: 0 0 4px 0; } h2 { font-size: 17px; margin: 26px 0 8px 0; border-bottom: 1px solid #ddd; }
.sub { color: #666; font-size: 13px; }
table.runs { border-collapse: collapse; font-size: 13px; margin-top: 10px; }
table.runs th, table.runs td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
table.runs th { background: #f4f4f4; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
svg.chart { background: #fff; border: 1px solid #e4e4e4; }
svg .title { font-size: 14px; font-weight: bold; fill: #222; }
svg .tick, svg .legend, svg .reflabel { font-size: 11px; fill: #444; }
svg .axis { font-size: 12px; fill: #333; }
svg .note { font-size: 13px; fill: #888; }
svg .frame { fill: none; stroke: #bbb; }
svg .grid { stroke: #eee; }
svg .series { fill: none; stroke-width: 1.6; }
svg .dashed { stroke-dasharray: 6 3; }
svg .reference { stroke-width: 1.2; stroke-dasharray: 2 3; }
svg .legendbox { fill: #fff; fill-opacity: 0.85; stroke: #ddd; }
pre { background: #f7f7f7; border: 1px solid #e4e4e4; padding: 10px; font-size: 12px; overflow-x: auto; }
.note { color: #777; font-size: 13px; }
)";

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::vector<std::pair<double, double>> points(const std::map<int64_t, double>& bySteps, double xScale = 1) {
  std::vector<std::pair<double, double>> out;
  for (auto [step, v] : bySteps) out.emplace_back(double(step) * xScale, v);
  return out;
}

const std::map<int64_t, double>* find(const MetricSeries& m, const std::string& name) {
  auto it = m.find(name);
  return it == m.end() ? nullptr : &it->second;
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// "loss" for loss, "accuracy" for val_accuracy: the name a chart groups a train and an
// evaluation metric under.
std::string baseName(const std::string& metric) { return metric.rfind("val_", 0) == 0 ? metric.substr(4) : metric; }

std::string pretty(std::string name) {
  for (char& c : name) c = c == '_' ? ' ' : c;
  return name;
}

// One metric (train and validation) of every run against steps, or tokens.
Chart metricChart(const std::vector<RunLog>& runs, const std::string& name, bool perToken) {
  Chart c;
  c.title = pretty(name) + (perToken ? " against tokens" : "");
  c.xLabel = perToken ? "tokens" : "step";
  c.yLabel = pretty(name);
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunLog& r = runs[i];
    if (perToken && r.tokensPerStep <= 0) continue;
    const double scale = perToken ? double(r.tokensPerStep) : 1.0;
    const std::string who = runs.size() > 1 ? r.label + " " : "";
    if (const auto* t = find(r.train, name)) c.series.push_back({who + "train", runColor(i), points(*t, scale)});
    if (const auto* v = find(r.eval, "val_" + name)) c.series.push_back({who + "validation", runColor(i), points(*v, scale), true, true});
    for (const Baseline& b : r.baselines) {
      if (baseName(b.metric) != name) continue;
      // Runs on the same data share their baseline: one line, in grey, without run names.
      auto same = std::find_if(c.references.begin(), c.references.end(), [&](const ReferenceLine& l) {
        return std::fabs(l.y - b.value) <= 1e-9 * std::fabs(b.value) && l.label.size() >= b.name.size() + 9 &&
               l.label.compare(l.label.size() - b.name.size() - 9, std::string::npos, b.name + " baseline") == 0;
      });
      if (same != c.references.end()) *same = {b.name + " baseline", "#666666", b.value};
      else c.references.push_back({who + b.name + " baseline", runColor(i), b.value});
    }
  }
  return c;
}

std::string runsTable(const std::vector<RunLog>& runs) {
  std::string h = "<table class=\"runs\"><tr><th>run</th><th>metrics</th><th>objective</th><th>model</th><th>parameters</th><th>device</th>"
                  "<th>last step</th><th>final loss</th><th>validation</th><th>tokens/s (median)</th></tr>\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunLog& r = runs[i];
    int64_t last = 0;
    for (const auto& [n, s] : r.train) last = std::max(last, s.empty() ? 0 : s.rbegin()->first);
    std::string finalLoss = "-", validation, tps = "-";
    if (const auto* l = find(r.train, "loss"); l && !l->empty()) finalLoss = fmt("%.4f", l->rbegin()->second);
    for (const auto& [n, s] : r.eval)
      if (!s.empty()) validation += (validation.empty() ? "" : ", ") + pretty(baseName(n)) + " " + fmt("%.4f", s.rbegin()->second);
    for (const Baseline& b : r.baselines) validation += "; " + b.name + " baseline " + pretty(baseName(b.metric)) + " " + fmt("%.4f", b.value);
    if (const auto* t = find(r.train, "tokens_per_s"); t && !t->empty()) {
      std::vector<double> v;
      for (auto [s, x] : *t) v.push_back(x);
      tps = fmt("%.0f", median(v));
    }
    std::string device = r.device.substr(0, r.device.find(';'));
    if (r.ranks > 1) device += ", " + std::to_string(r.ranks) + " ranks";
    if (!r.divergedSteps.empty()) finalLoss += " (" + std::to_string(r.divergedSteps.size()) + " diverged step(s))";
    h += "<tr><td><span class=\"swatch\" style=\"background:" + std::string(runColor(i)) + "\"></span>" + escapeXml(r.label) + "</td><td>" +
         escapeXml(r.metricsPath) + "</td><td>" + escapeXml(r.described ? r.objective : "-") + "</td><td>" +
         escapeXml(r.described ? r.model : "-") + "</td><td>" + (r.parameters > 0 ? std::to_string(r.parameters) : "-") + "</td><td>" +
         escapeXml(device.empty() ? "-" : device) + "</td><td>" + std::to_string(last) + "</td><td>" + finalLoss + "</td><td>" +
         escapeXml(validation.empty() ? "-" : validation) + "</td><td>" + tps + "</td></tr>\n";
  }
  return h + "</table>\n";
}

// Each run's plan as one stacked bar (parameters, optimizer state, other state, activation
// arena, workspace), all bars on the scale of the largest.
std::string memoryBars(const std::vector<RunLog>& runs) {
  static const std::vector<std::pair<std::string, std::string>> parts = {
      {"parameters", "#4e79a7"}, {"optimizer state", "#f28e2b"}, {"other state", "#bab0ac"}, {"activation arena", "#59a14f"}, {"workspace", "#e15759"}};
  double largest = 0;
  int described = 0;
  for (const RunLog& r : runs)
    for (const auto& [k, b] : r.planBytes)
      if (k == "total planned") largest = std::max(largest, double(b)), ++described;
  if (described == 0) return "<p class=\"note\">No memory plan: the runs have no run description (trainers before kiln report).</p>\n";
  const double width = 980, barLeft = 200, barW = width - barLeft - 130, rowH = 34;
  const double height = rowH * double(described) + 40;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", width) + "\" height=\"" + fmt("%.0f", height) +
                    "\" class=\"chart\">\n";
  double y = 10;
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunLog& r = runs[i];
    if (r.planBytes.empty()) continue;
    auto bytes = [&](const std::string& k) {
      for (const auto& [name, b] : r.planBytes)
        if (name == k) return double(b);
      return 0.0;
    };
    svg += "<text x=\"8\" y=\"" + fmt("%.1f", y + 17) + "\" class=\"legend\">" + escapeXml(r.label) + "</text>\n";
    double x = barLeft;
    for (const auto& [k, color] : parts) {
      const double w = bytes(k) / largest * barW;
      if (w <= 0) continue;
      svg += "<rect x=\"" + fmt("%.1f", x) + "\" y=\"" + fmt("%.1f", y) + "\" width=\"" + fmt("%.2f", w) + "\" height=\"24\" fill=\"" + color +
             "\"><title>" + escapeXml(k) + ": " + fmt("%.2f", bytes(k) / (1 << 20)) + " MiB</title></rect>\n";
      x += w;
    }
    svg += "<text x=\"" + fmt("%.1f", x + 6) + "\" y=\"" + fmt("%.1f", y + 17) + "\" class=\"legend\">" +
           fmt("%.2f", bytes("total planned") / (1 << 20)) + " MiB</text>\n";
    y += rowH;
  }
  double lx = barLeft;
  for (const auto& [k, color] : parts) {
    svg += "<rect x=\"" + fmt("%.1f", lx) + "\" y=\"" + fmt("%.1f", y + 4) + "\" width=\"12\" height=\"12\" fill=\"" + color + "\"/>";
    svg += "<text x=\"" + fmt("%.1f", lx + 16) + "\" y=\"" + fmt("%.1f", y + 14) + "\" class=\"legend\">" + escapeXml(k) + "</text>\n";
    lx += 24 + 7.0 * double(k.size()) + 16;
  }
  svg += "</svg>\n";
  std::string details;
  for (const RunLog& r : runs)
    if (!r.planText.empty()) details += "<p class=\"note\">" + escapeXml(r.label) + ":</p><pre>" + escapeXml(r.planText) + "</pre>\n";
  return svg + details;
}

}  // namespace

std::string renderReport(const std::vector<RunLog>& runs, const std::string& generatedAt) {
  std::string names;
  for (const RunLog& r : runs) names += (names.empty() ? "" : ", ") + r.label;
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>kiln report: " + escapeXml(names) +
                  "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  h += "<h1>kiln run report</h1>\n<div class=\"sub\">" + std::to_string(runs.size()) + " run(s); generated " + escapeXml(generatedAt) + "</div>\n";
  h += runsTable(runs);

  h += "<h2>Loss</h2>\n<div class=\"charts\">\n" + renderChart(metricChart(runs, "loss", false));
  bool tokens = false;
  for (const RunLog& r : runs) tokens |= r.tokensPerStep > 0;
  if (tokens) h += renderChart(metricChart(runs, "loss", true));
  h += "</div>\n";
  if (!tokens) h += "<p class=\"note\">Loss against tokens needs the run description (the tokens per step).</p>\n";

  h += "<h2>Optimization and throughput</h2>\n<div class=\"charts\">\n";
  for (const char* name : {"lr", "grad_norm", "tokens_per_s"}) {
    Chart c = metricChart(runs, name, false);
    if (std::string(name) == "lr") c.title = c.yLabel = "learning rate";
    if (std::string(name) == "tokens_per_s") c.title = c.yLabel = "tokens/s";
    h += renderChart(c);
  }
  h += "</div>\n";

  // The objective's metrics: every other name logged by any run, train and validation together.
  std::set<std::string> others;
  for (const RunLog& r : runs) {
    for (const auto& [n, s] : r.train)
      if (n != "loss" && n != "lr" && n != "grad_norm" && n != "tokens_per_s" && n != "step_s") others.insert(n);
    for (const auto& [n, s] : r.eval)
      if (n != "val_loss") others.insert(baseName(n));
  }
  if (!others.empty()) {
    h += "<h2>Objective metrics</h2>\n<div class=\"charts\">\n";
    for (const std::string& n : others) h += renderChart(metricChart(runs, n, false));
    h += "</div>\n";
  }

  h += "<h2>Memory plan (train step)</h2>\n" + memoryBars(runs);

  h += "<h2>Spec</h2>\n";
  for (const RunLog& r : runs) {
    if (!r.described) {
      h += "<p class=\"note\">" + escapeXml(r.label) + ": no run description beside " + escapeXml(r.metricsPath) + ".</p>\n";
      continue;
    }
    h += "<details open=\"open\"><summary>" + escapeXml(r.label) + ": " + escapeXml(r.specPath) + "</summary><pre>" + escapeXml(r.spec) +
         "</pre></details>\n";
  }
  return h + "</body>\n</html>\n";
}

}  // namespace kiln::report
