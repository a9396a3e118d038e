// metrics.jsonl lines are valid JSON whatever the values, and a failed write is an error.
#include <doctest/doctest.h>

#include <cmath>

#include "runtime/checkpoint/json.h"
#include "runtime/trainer/metrics_log.h"

namespace kiln {

TEST_CASE("metrics log: names quoted, integers exact, non-finite numbers as null, every line parses") {
  MetricsLog::Fields f = {{"step", int64_t(12)}, {"loss", 2.5}, {"grad_norm", std::nan("")},
                          {"weird \"name\"", -INFINITY}};
  std::string line = MetricsLog::format(f);
  CHECK(line == "{\"step\": 12, \"loss\": 2.5, \"grad_norm\": null, \"weird \\\"name\\\"\": null}");
  CHECK(json::parse(line, "line").ok());
}

TEST_CASE("metrics log: a write that fails (a full disk) is reported, not dropped") {
  auto log = MetricsLog::open("/dev/full", false);
  REQUIRE(log.ok());
  auto s = log->write({{"step", int64_t(1)}});
  REQUIRE(!s.ok());
  CHECK(s.error().str().find("/dev/full") != std::string::npos);
  CHECK(!MetricsLog::open("/nonexistent-dir/metrics.jsonl", false).ok());
}

}  // namespace kiln
