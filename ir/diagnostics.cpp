#include "ir/diagnostics.h"

namespace kiln {

std::string Location::str() const {
  if (!known()) return "<unknown>";
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line) + (col > 0 ? ":" + std::to_string(col) : std::string());  // "file:line" when the column is unknown
  return s;
}

std::string Diagnostic::str() const {
  if (!loc.known()) return "error: " + message;
  return loc.str() + ": error: " + message;
}

void internalError(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "kiln internal error at %s:%d: %s\n", file, line, what.c_str());
  std::abort();
}

}  // namespace kiln
