// An executable read and checked once, for the trainer and for a reward model loaded from
// another trainer's file: its settings against the schema, its module parsed and verified with
// the functions a trainer calls, and its tokenizer.
#pragma once

#include <map>
#include <string>

#include "ir/module.h"
#include "runtime/data/tokenizer.h"
#include "runtime/trainer/executable.h"

namespace kiln {

struct LoadedExecutable {
  std::map<std::string, std::string> settings;  // checked against settingsSchema()
  Module module;
  Tokenizer tokenizer = Tokenizer(BpeTokenizer::bytes());
};

// `origin` (the trainer's path) is named in every error.
Expected<LoadedExecutable> loadExecutable(const Executable& exe, const std::string& origin);

}  // namespace kiln
