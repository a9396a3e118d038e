// The run report: one self-contained HTML page (inline CSS and SVG, no script, nothing fetched)
// with every run on shared axes: losses against steps and tokens with the baselines, learning
// rate, gradient norm, tokens/s, the objective's metrics, the memory plans and the specs.
#pragma once

#include <string>
#include <vector>

#include "tools/kiln/report/run_log.h"

namespace kiln::report {

std::string renderReport(const std::vector<RunLog>& runs, const std::string& generatedAt);

}  // namespace kiln::report
