// The command-line reader of the kiln driver and of every trainer: `--name=value`,
// `--name value`, flags and positionals, with errors for unknown options and missing values.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln::cli {

struct OptionSpec {
  std::string name;  // without leading dashes
  bool takesValue;
  std::string help;
};

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;  // name -> every value given
  std::set<std::string> flags;

  bool has(const std::string& n) const { return values.count(n) || flags.count(n); }
  std::string get(const std::string& n, const std::string& def = "") const {
    auto it = values.find(n);
    return it == values.end() ? def : it->second.back();
  }
  std::vector<std::string> all(const std::string& n) const {
    auto it = values.find(n);
    return it == values.end() ? std::vector<std::string>{} : it->second;
  }
};

Expected<Args> parseArgs(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs);
std::string usageLines(const std::vector<OptionSpec>& specs);
// Parses a non-negative integer option value.
Expected<long long> parseCount(const std::string& option, const std::string& text);

}  // namespace kiln::cli
