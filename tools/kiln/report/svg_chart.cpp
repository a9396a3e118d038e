#include "tools/kiln/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace kiln::report {

std::string escapeXml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> niceTicks(double lo, double hi, int count) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(1, count);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw) {
      step = m * power;
      break;
    }
  std::vector<double> ticks;
  for (double i = std::ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i += 1) ticks.push_back(i * step + 0.0);  // multiples: no drift; + 0.0: no "-0"
  return ticks;
}

namespace {

std::string number(double v) {
  char buf[32];
  const double a = std::fabs(v);
  if (a != 0 && (a >= 1e6 || a < 1e-3)) std::snprintf(buf, sizeof buf, "%.3g", v);
  else std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string px(double v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

std::string renderChart(const Chart& chart, int width, int height) {
  const double left = 64, right = 16, top = 30, bottom = 46;
  const double plotW = width - left - right, plotH = height - top - bottom;
  const double inf = std::numeric_limits<double>::infinity();
  double x0 = inf, x1 = -inf, y0 = inf, y1 = -inf;
  auto usable = [&](double y) { return std::isfinite(y) && (!chart.logY || y > 0); };
  for (const Series& s : chart.series)
    for (auto [x, y] : s.points)
      if (std::isfinite(x) && usable(y)) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(height) +
                    "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) + "\" class=\"chart\">\n";
  svg += "<text x=\"" + px(left) + "\" y=\"18\" class=\"title\">" + escapeXml(chart.title) + "</text>\n";
  if (!(x1 >= x0)) {
    svg += "<text x=\"" + px(left) + "\" y=\"" + px(top + plotH / 2) + "\" class=\"note\">nothing logged</text>\n</svg>\n";
    return svg;
  }
  for (const ReferenceLine& r : chart.references)
    if (usable(r.y)) y0 = std::min(y0, r.y), y1 = std::max(y1, r.y);
  auto ty = [&](double y) { return chart.logY ? std::log10(y) : y; };
  double ly0 = ty(y0), ly1 = ty(y1);
  if (ly1 - ly0 < 1e-12) ly0 -= 0.5, ly1 += 0.5;
  const double pad = (ly1 - ly0) * 0.05;
  ly0 -= pad, ly1 += pad;
  if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
  auto sx = [&](double x) { return left + (x - x0) / (x1 - x0) * plotW; };
  auto sy = [&](double y) { return top + (ly1 - ty(y)) / (ly1 - ly0) * plotH; };

  // Axes, grid and ticks.
  svg += "<rect x=\"" + px(left) + "\" y=\"" + px(top) + "\" width=\"" + px(plotW) + "\" height=\"" + px(plotH) + "\" class=\"frame\"/>\n";
  for (double t : niceTicks(x0, x1, 6)) {
    svg += "<line x1=\"" + px(sx(t)) + "\" y1=\"" + px(top) + "\" x2=\"" + px(sx(t)) + "\" y2=\"" + px(top + plotH) + "\" class=\"grid\"/>";
    svg += "<text x=\"" + px(sx(t)) + "\" y=\"" + px(top + plotH + 15) + "\" class=\"tick\" text-anchor=\"middle\">" + number(t) + "</text>\n";
  }
  std::vector<double> yTicks;
  if (chart.logY)
    for (double e = std::ceil(ly0); e <= ly1; e += 1) yTicks.push_back(std::pow(10.0, e));
  if (yTicks.size() < 2) {
    yTicks.clear();
    for (double t : niceTicks(chart.logY ? std::pow(10.0, ly0) : ly0, chart.logY ? std::pow(10.0, ly1) : ly1, 5))
      if (usable(t)) yTicks.push_back(t);
  }
  for (double t : yTicks) {
    svg += "<line x1=\"" + px(left) + "\" y1=\"" + px(sy(t)) + "\" x2=\"" + px(left + plotW) + "\" y2=\"" + px(sy(t)) + "\" class=\"grid\"/>";
    svg += "<text x=\"" + px(left - 6) + "\" y=\"" + px(sy(t) + 4) + "\" class=\"tick\" text-anchor=\"end\">" + number(t) + "</text>\n";
  }
  svg += "<text x=\"" + px(left + plotW / 2) + "\" y=\"" + px(height - 8) + "\" class=\"axis\" text-anchor=\"middle\">" + escapeXml(chart.xLabel) + "</text>\n";
  svg += "<text x=\"14\" y=\"" + px(top + plotH / 2) + "\" class=\"axis\" text-anchor=\"middle\" transform=\"rotate(-90 14 " + px(top + plotH / 2) +
         ")\">" + escapeXml(chart.yLabel) + "</text>\n";

  // Baselines, then the series, clipped to the plot.
  for (const ReferenceLine& r : chart.references) {
    if (!usable(r.y)) continue;
    svg += "<line x1=\"" + px(left) + "\" y1=\"" + px(sy(r.y)) + "\" x2=\"" + px(left + plotW) + "\" y2=\"" + px(sy(r.y)) + "\" stroke=\"" +
           escapeXml(r.color) + "\" class=\"reference\"><title>" + escapeXml(r.label) + ": " + number(r.y) + "</title></line>\n";
    svg += "<text x=\"" + px(left + plotW - 4) + "\" y=\"" + px(sy(r.y) - 4) + "\" class=\"reflabel\" text-anchor=\"end\" fill=\"" + escapeXml(r.color) +
           "\">" + escapeXml(r.label) + "</text>\n";
  }
  for (const Series& s : chart.series) {
    std::vector<std::pair<double, double>> pts;
    for (auto p : s.points)
      if (std::isfinite(p.first) && usable(p.second)) pts.push_back(p);
    std::sort(pts.begin(), pts.end());
    if (pts.empty()) continue;
    std::string path;
    for (auto [x, y] : pts) path += (path.empty() ? "M" : " L") + px(sx(x)) + " " + px(sy(y));
    svg += "<path d=\"" + path + "\" stroke=\"" + escapeXml(s.color) + "\" class=\"series" + (s.dashed ? " dashed" : "") + "\"><title>" +
           escapeXml(s.label) + "</title></path>\n";
    if (s.markers)
      for (auto [x, y] : pts)
        svg += "<circle cx=\"" + px(sx(x)) + "\" cy=\"" + px(sy(y)) + "\" r=\"3\" fill=\"" + escapeXml(s.color) + "\"><title>" + escapeXml(s.label) +
               " at " + number(x) + ": " + number(y) + "</title></circle>\n";
  }

  // Legend: one entry per series, top right inside the plot.
  int entries = 0;
  for (const Series& s : chart.series) entries += !s.points.empty();
  const double lx = left + plotW - 196;
  if (entries > 0)
    svg += "<rect x=\"" + px(lx - 6) + "\" y=\"" + px(top + 2) + "\" width=\"198\" height=\"" + px(15.0 * entries + 6) + "\" class=\"legendbox\"/>\n";
  double ly = top + 16;
  for (const Series& s : chart.series) {
    if (s.points.empty()) continue;
    svg += "<line x1=\"" + px(lx) + "\" y1=\"" + px(ly - 4) + "\" x2=\"" + px(lx + 22) + "\" y2=\"" + px(ly - 4) + "\" stroke=\"" + escapeXml(s.color) +
           "\" class=\"series" + (s.dashed ? " dashed" : "") + "\"/>";
    svg += "<text x=\"" + px(lx + 28) + "\" y=\"" + px(ly) + "\" class=\"legend\">" + escapeXml(s.label) + "</text>\n";
    ly += 15;
  }
  return svg + "</svg>\n";
}

}  // namespace kiln::report
