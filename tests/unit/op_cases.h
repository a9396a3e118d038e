// Random op cases for the gradient checks and the device conformance suite.
#pragma once

#include <vector>

#include "gradcheck.h"

namespace kiln::test {

std::vector<GradCase> elementwiseCases(int trial);
std::vector<GradCase> structuralCases(int trial);
std::vector<GradCase> compositeCases(int trial);
std::vector<GradCase> allOpCases(int trial);  // all three

}  // namespace kiln::test
