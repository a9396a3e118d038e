#include "runtime/trainer/metrics_log.h"

#include <cmath>

#include "ir/attributes.h"
#include "runtime/checkpoint/json.h"

namespace kiln {

Expected<MetricsLog> MetricsLog::open(const std::string& path, bool append) {
  MetricsLog log;
  log.path_ = path;
  log.out_.open(path, append ? std::ios::app : std::ios::trunc);
  if (!log.out_) return makeError(Location{path, 0, 0}, "cannot write the metrics log");
  return log;
}

std::string MetricsLog::format(const Fields& fields) {
  std::string line = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    line += (i ? ", " : "") + json::quote(fields[i].first) + ": ";
    if (const auto* n = std::get_if<int64_t>(&fields[i].second)) line += std::to_string(*n);
    else {
      double x = std::get<double>(fields[i].second);
      line += std::isfinite(x) ? formatDouble(x) : "null";  // JSON has no NaN or infinity
    }
  }
  return line + "}";
}

Status MetricsLog::write(const Fields& fields) {
  out_ << format(fields) << '\n';
  out_.flush();
  if (!out_) return makeError(Location{path_, 0, 0}, "cannot write the metrics log (disk full, or the file went away?)");
  return okStatus();
}

}  // namespace kiln
