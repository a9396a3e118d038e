#include "runtime/data/wordpiece_tokenizer.h"

#include <algorithm>
#include <sstream>

#include "runtime/data/unicode_tables.h"

namespace kiln {

namespace {

// Decodes one UTF-8 character at s[i] (advancing i); an invalid byte is U+FFFD.
char32_t nextChar(std::string_view s, size_t& i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  const int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + size_t(n) > s.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = n == 1 ? c : c & (0x7F >> n);
  for (int k = 1; k < n; ++k) {
    const unsigned char d = static_cast<unsigned char>(s[i + size_t(k)]);
    if ((d & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (d & 0x3F);
  }
  i += size_t(n);
  return cp;
}

void appendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6)), out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12)), out += char(0x80 | ((cp >> 6) & 0x3F)), out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18)), out += char(0x80 | ((cp >> 12) & 0x3F)), out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

bool inRange(char32_t c, char32_t lo, char32_t hi) { return c >= lo && c <= hi; }

template <size_t N>
bool inRanges(const unicode::CodeRange (&table)[N], char32_t c) {
  auto it = std::upper_bound(std::begin(table), std::end(table), c, [](char32_t v, const unicode::CodeRange& r) { return v < r.first; });
  return it != std::begin(table) && c <= (it - 1)->second;
}

// BERT's whitespace: \t \n \r and Unicode's space separators (Zs).
bool isWhitespace(char32_t c) { return c == '\t' || c == '\n' || c == '\r' || inRanges(unicode::kSpaceSeparators, c); }
// Control and format characters (Cc, Cf) other than \t \n \r: dropped.
bool isControl(char32_t c) { return inRanges(unicode::kControl, c); }
// BERT's punctuation: every non-alphanumeric ASCII character, and Unicode's P* categories.
bool isPunctuation(char32_t c) {
  return inRange(c, 33, 47) || inRange(c, 58, 64) || inRange(c, 91, 96) || inRange(c, 123, 126) || inRanges(unicode::kPunctuation, c);
}
bool isNonSpacingMark(char32_t c) { return inRanges(unicode::kNonSpacingMarks, c); }

// The CJK ideograph blocks BERT splits into single characters.
bool isCjk(char32_t c) {
  return inRange(c, 0x4E00, 0x9FFF) || inRange(c, 0x3400, 0x4DBF) || inRange(c, 0x20000, 0x2A6DF) || inRange(c, 0x2A700, 0x2B73F) ||
         inRange(c, 0x2B740, 0x2B81F) || inRange(c, 0x2B820, 0x2CEAF) || inRange(c, 0xF900, 0xFAFF) || inRange(c, 0x2F800, 0x2FA1F);
}

char32_t toLower(char32_t c) {
  auto it = std::lower_bound(std::begin(unicode::kLowerCase), std::end(unicode::kLowerCase), c,
                             [](const unicode::CodeRange& r, char32_t v) { return r.first < v; });
  return it != std::end(unicode::kLowerCase) && it->first == c ? it->second : c;
}

// c's canonical decomposition (NFD) appended to `out`.
void decompose(char32_t c, std::u32string& out) {
  if (inRange(c, 0xAC00, 0xD7A3)) {  // Hangul syllables: leading consonant, vowel, trailing consonant
    const char32_t s = c - 0xAC00;
    out += char32_t(0x1100 + s / 588);
    out += char32_t(0x1161 + (s % 588) / 28);
    if (s % 28) out += char32_t(0x11A7 + s % 28);
    return;
  }
  auto it = std::lower_bound(std::begin(unicode::kDecompositions), std::end(unicode::kDecompositions), c,
                             [](const unicode::Decomposition& d, char32_t v) { return d.code < v; });
  if (it == std::end(unicode::kDecompositions) || it->code != c) {
    out += c;
    return;
  }
  for (char32_t x : it->into)
    if (x) out += x;
}

}  // namespace

Expected<WordPieceTokenizer> WordPieceTokenizer::fromVocab(const std::string& vocabTxt, bool lowerCase, const std::string& origin) {
  WordPieceTokenizer t;
  t.lowerCase_ = lowerCase;
  std::istringstream in(vocabTxt);
  std::string line;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (t.ids_.count(line)) return makeError(Location{origin, lineNo, 0}, "token '" + line + "' is listed twice");
    t.ids_[line] = int32_t(t.tokens_.size());
    t.tokens_.push_back(line);
  }
  if (t.tokens_.empty()) return makeError(Location{origin, 0, 0}, "an empty vocabulary");
  t.unk_ = t.idOf("[UNK]");
  if (t.unk_ < 0) return makeError(Location{origin, 0, 0}, "no [UNK] token: a WordPiece vocabulary needs one");
  return t;
}

int32_t WordPieceTokenizer::idOf(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

std::string WordPieceTokenizer::vocabTxt() const {
  std::string out;
  for (const std::string& t : tokens_) out += t + "\n";
  return out;
}

std::vector<std::string> WordPieceTokenizer::basicTokens(std::string_view text) const {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (size_t i = 0; i < text.size();) {
    const char32_t c0 = nextChar(text, i);
    if (c0 == 0 || c0 == 0xFFFD || isControl(c0)) continue;
    if (isWhitespace(c0)) {
      flush();
      continue;
    }
    // Uncased: lower case, then NFD without its non-spacing marks (the accents).
    std::u32string chars;
    if (lowerCase_) decompose(toLower(c0), chars);
    else chars = c0;
    for (char32_t c : chars) {
      if (lowerCase_ && isNonSpacingMark(c)) continue;
      if (isCjk(c) || isPunctuation(c)) {
        flush();
        appendUtf8(word, c);
        flush();
        continue;
      }
      appendUtf8(word, c);
    }
  }
  flush();
  return words;
}

std::vector<int32_t> WordPieceTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  for (const std::string& word : basicTokens(text)) {
    size_t chars = 0;
    for (size_t i = 0; i < word.size();) nextChar(word, i), ++chars;
    if (chars > 100) {
      ids.push_back(unk_);
      continue;
    }
    // Greedy longest match from each start, on character boundaries.
    std::vector<int32_t> pieces;
    size_t start = 0;
    bool bad = false;
    while (start < word.size()) {
      size_t end = word.size();
      int32_t found = -1;
      while (end > start) {
        const std::string piece = (start > 0 ? "##" : "") + word.substr(start, end - start);
        if (auto it = ids_.find(piece); it != ids_.end()) {
          found = it->second;
          break;
        }
        do --end;
        while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
      }
      if (found < 0) {
        bad = true;
        break;
      }
      pieces.push_back(found);
      start = end;
    }
    if (bad) ids.push_back(unk_);
    else ids.insert(ids.end(), pieces.begin(), pieces.end());
  }
  return ids;
}

std::string WordPieceTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || id >= int32_t(tokens_.size())) continue;
    const std::string& t = tokens_[size_t(id)];
    if (t.rfind("##", 0) == 0) out += t.substr(2);
    else out += (out.empty() ? "" : " ") + t;
  }
  return out;
}

}  // namespace kiln
