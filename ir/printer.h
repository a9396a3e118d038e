// The IR text printer (grammar in docs/ir.md). Canonical: attributes equal to their schema
// default are omitted, so print -> parse -> print is the identity.
#pragma once

#include <ostream>
#include <string>

#include "ir/module.h"

namespace kiln {

void printModule(const Module& m, std::ostream& os);
std::string printModule(const Module& m);
void printFunction(const Module& m, const Function& f, std::ostream& os);
std::string quoteString(const std::string& s);

}  // namespace kiln
