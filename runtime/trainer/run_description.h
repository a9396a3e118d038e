// Where a training run describes itself for `kiln report`: beside its metrics log, named after it
// (metrics.jsonl -> metrics.run.json). The trainer writes it (Trainer::describeRun) when a run
// starts or resumes; the report reads it.
#pragma once

#include <string>

namespace kiln {

std::string runDescriptionPath(const std::string& metricsPath);

}  // namespace kiln
