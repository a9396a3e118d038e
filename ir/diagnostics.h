// User-facing errors. One style everywhere: functions that can fail on user input return
// Expected<T> (a value or a located Diagnostic); internal invariants use KILN_ASSERT.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace kiln {

// A position in a user file (a spec, an IR file). line/col are 1-based; 0 means unknown.
struct Location {
  std::string file;
  int line = 0;
  int col = 0;

  bool known() const { return !file.empty(); }
  std::string str() const;
  bool operator==(const Location&) const = default;
};

struct Diagnostic {
  Location loc;
  std::string message;

  // "file:line:col: error: message" (or "error: message" without a location).
  std::string str() const;
};

// A value of type T or the Diagnostic that explains why there is none.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Diagnostic d) : v_(std::move(d)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& operator*() { return std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const Diagnostic& error() const { return std::get<1>(v_); }
  T take() { return std::move(std::get<0>(v_)); }

 private:
  std::variant<T, Diagnostic> v_;
};

// For operations that produce nothing but can fail.
struct Ok {};
using Status = Expected<Ok>;
inline Status okStatus() { return Ok{}; }

inline Diagnostic makeError(Location loc, std::string message) {
  return Diagnostic{std::move(loc), std::move(message)};
}

[[noreturn]] void internalError(const char* file, int line, const std::string& what);

}  // namespace kiln

// Internal invariant: a failure is a bug in kiln, not in the user's input.
#define KILN_ASSERT(cond, what)                                          \
  do {                                                                   \
    if (!(cond)) ::kiln::internalError(__FILE__, __LINE__, (what));      \
  } while (0)
