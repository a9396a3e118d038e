// The corpus and JSON-lines readers: the UTF-8 check, document splitting and labeled lines on
// arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/data/corpus.h"
#include "runtime/data/labeled_data.h"
#include "runtime/data/utf8_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (!kiln::checkUtf8Text(text, "fuzz.txt")) return 0;
  (void)kiln::splitDocuments(text, "%");
  (void)kiln::parseJsonLines(text, "fuzz.jsonl");
  return 0;
}
