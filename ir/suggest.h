// "Did you mean ...?" hints for misspelt names in user input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kiln {

size_t editDistance(std::string_view a, std::string_view b);
// The candidate closest to `word`, or empty when none is close enough to be a likely typo.
std::string nearestName(std::string_view word, const std::vector<std::string>& candidates);
// "a, b or c": the names a user may choose from, for messages.
std::string joinAlternatives(const std::vector<std::string>& names);

}  // namespace kiln
