#include "runtime/cli/args.h"

#include <charconv>

#include "ir/suggest.h"

namespace kiln::cli {

Expected<Args> parseArgs(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs) {
  Args args;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() < 2 || a[0] != '-' || a == "-") {
      args.positional.push_back(a);
      continue;
    }
    std::string body = a.substr(a[1] == '-' ? 2 : 1);
    std::string name = body, value;
    bool hasValue = false;
    if (size_t eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      hasValue = true;
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs)
      if (s.name == name) spec = &s;
    if (!spec) {
      std::vector<std::string> names;
      for (const auto& s : specs) names.push_back(s.name);
      std::string hint = nearestName(name, names);
      return makeError({}, "unknown option '" + a + "'" + (hint.empty() ? "" : " (did you mean '--" + hint + "'?)"));
    }
    if (!spec->takesValue) {
      if (hasValue) return makeError({}, "option --" + name + " takes no value");
      args.flags.insert(name);
      continue;
    }
    if (!hasValue) {
      if (i + 1 >= argv.size()) return makeError({}, "option --" + name + " needs a value");
      value = argv[++i];
    }
    args.values[name].push_back(value);
  }
  return args;
}

std::string usageLines(const std::vector<OptionSpec>& specs) {
  std::string out;
  for (const auto& s : specs) {
    std::string left = "  --" + s.name + (s.takesValue ? "=VALUE" : "");
    if (left.size() < 28) left.resize(28, ' ');
    else left += "  ";
    out += left + s.help + "\n";
  }
  return out;
}

Expected<long long> parseCount(const std::string& option, const std::string& text) {
  long long v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || v < 0)
    return makeError({}, "option --" + option + " needs a non-negative integer, got '" + text + "'");
  return v;
}

}  // namespace kiln::cli
