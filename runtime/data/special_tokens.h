// The encoder models' special tokens ([PAD], [CLS], [SEP], [MASK]): a fact of the data and its
// tokenizer, shared by the batch makers (runtime) and the models that size their embeddings.
#pragma once

#include <cstdint>

namespace kiln {

// The four special tokens sit after the tokenizer's own vocabulary: vocab_size - 4 ... - 1.
struct EncoderSpecials {
  int32_t pad, cls, sep, mask;
  static EncoderSpecials after(int64_t tokenizerVocab) {
    int32_t b = int32_t(tokenizerVocab);
    return {b, b + 1, b + 2, b + 3};
  }
};
inline constexpr int64_t kEncoderSpecialCount = 4;

}  // namespace kiln
