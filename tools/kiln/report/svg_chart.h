// Line charts as inline SVG (no script, no external resources): several series on shared axes,
// horizontal reference lines (baselines) and a legend. Markup is well-formed XML.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace kiln::report {

struct Series {
  std::string label, color;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in x order
  bool dashed = false;
  bool markers = false;  // a dot at each point (sparse series: evaluations)
};

struct ReferenceLine {
  std::string label, color;
  double y = 0;
};

struct Chart {
  std::string title, xLabel, yLabel;
  std::vector<Series> series;
  std::vector<ReferenceLine> references;
  bool logY = false;  // for values spanning decades (the learning rate's warm-up)
};

// "&lt;" for "<" and so on: text and attribute values in HTML and SVG.
std::string escapeXml(const std::string& s);

// The chart as an <svg> element, `width` x `height` CSS pixels; a note instead of axes when no
// series has a point.
std::string renderChart(const Chart& chart, int width = 600, int height = 320);

// Ticks at 1, 2 or 5 times a power of ten covering [lo, hi], about `count` of them.
std::vector<double> niceTicks(double lo, double hi, int count);

}  // namespace kiln::report
