// A Hugging Face BERT folder as objective.init_from (config.json, model.safetensors, vocab.txt):
// the spec takes the folder's architecture where it does not set it, and must agree where it does;
// the tokenizer becomes the folder's WordPiece unless the spec names the same folder.
#pragma once

#include <string>
#include <vector>

#include "frontends/spec/spec.h"

namespace kiln {

// The folder objective.init_from names, when it is one (relative to the spec), else "".
std::string hfInitFolder(const Spec& s);

// Reads the folder's config.json into `s` (see above); `adopted` lists what was taken from it
// ("model.d_model = 768", ...). An error at the spec's line on a conflict, or naming the file.
Status adoptHfBertFolder(Spec& s, std::vector<std::string>& adopted);

}  // namespace kiln
