#include "runtime/data/bpe_tokenizer.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <queue>
#include <set>
#include <sstream>

#include "ir/parser.h"
#include "runtime/checkpoint/json.h"

namespace kiln {

namespace {

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map to U+0100...
const std::vector<std::string>& byteToText() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    auto utf8 = [](uint32_t cp) {
      std::string s;
      if (cp < 0x80) s += char(cp);
      else {
        s += char(0xC0 | (cp >> 6));
        s += char(0x80 | (cp & 0x3F));
      }
      return s;
    };
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[size_t(b)] = utf8(printable ? uint32_t(b) : next++);
    }
    return t;
  }();
  return table;
}

const std::unordered_map<std::string, uint8_t>& textToByte() {
  static const std::unordered_map<std::string, uint8_t> m = [] {
    std::unordered_map<std::string, uint8_t> r;
    for (int b = 0; b < 256; ++b) r[byteToText()[size_t(b)]] = uint8_t(b);
    return r;
  }();
  return m;
}

std::string mapBytes(std::string_view raw) {
  std::string out;
  for (unsigned char c : raw) out += byteToText()[c];
  return out;
}

// Splits a byte-mapped string into its characters (each one byte).
std::vector<std::string> mappedChars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = (static_cast<unsigned char>(s[i]) & 0x80) ? 2 : 1;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

bool isAsciiLetter(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool isSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool isLetter(unsigned char c) { return isAsciiLetter(c) || c >= 0x80; }


}  // namespace

std::vector<std::string_view> preTokenize(std::string_view t) {
  std::vector<std::string_view> out;
  size_t i = 0, n = t.size();
  auto u = [&](size_t k) { return static_cast<unsigned char>(t[k]); };
  static const char* kContractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
  while (i < n) {
    size_t start = i;
    if (t[i] == '\'') {
      bool matched = false;
      for (const char* c : kContractions) {
        std::string_view cv(c);
        if (t.substr(i, cv.size()) == cv) {
          i += cv.size();
          matched = true;
          break;
        }
      }
      if (matched) {
        out.push_back(t.substr(start, i - start));
        continue;
      }
    }
    size_t j = i + (t[i] == ' ' && i + 1 < n && !isSpace(u(i + 1)) ? 1 : 0);
    if (isLetter(u(j)) && !isSpace(u(j))) {
      while (j < n && isLetter(u(j))) ++j;
    } else if (isDigit(u(j))) {
      while (j < n && isDigit(u(j))) ++j;
    } else if (!isSpace(u(j))) {
      while (j < n && !isSpace(u(j)) && !isLetter(u(j)) && !isDigit(u(j))) ++j;
    } else {
      // Whitespace: a run, leaving its last character for what follows (\s+(?!\S)).
      while (j < n && isSpace(u(j))) ++j;
      if (j < n && j - i > 1) --j;
    }
    i = j;
    out.push_back(t.substr(start, i - start));
  }
  return out;
}

void BpeTokenizer::indexTokens() {
  ids_.clear();
  for (size_t i = 0; i < tokens_.size(); ++i) ids_[tokens_[i]] = int32_t(i);
  mergeRank_.clear();
  for (size_t r = 0; r < merges_.size(); ++r) mergeRank_[merges_[r].first + " " + merges_[r].second] = int32_t(r);
  auto eot = ids_.find(kEndOfText);
  endOfText_ = eot == ids_.end() ? -1 : eot->second;
  cache_.clear();
}

BpeTokenizer BpeTokenizer::bytes() {
  BpeTokenizer t;
  t.tokens_ = byteToText();
  t.tokens_.push_back(kEndOfText);
  t.indexTokens();
  return t;
}

BpeTokenizer BpeTokenizer::train(const std::vector<std::string>& documents, int64_t vocabSize) {
  // Unique pre-tokens with their counts, as sequences of symbol ids.
  std::map<std::string, int64_t> wordCounts;
  for (const auto& d : documents)
    for (auto w : preTokenize(d)) ++wordCounts[std::string(w)];
  BpeTokenizer t = bytes();
  t.tokens_.pop_back();  // <|endoftext|> goes last
  std::vector<std::vector<int32_t>> words;
  std::vector<int64_t> freq;
  for (const auto& [w, c] : wordCounts) {
    std::vector<int32_t> syms;
    for (unsigned char ch : w) syms.push_back(int32_t(ch));
    words.push_back(std::move(syms));
    freq.push_back(c);
  }
  auto key = [](int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); };
  std::unordered_map<uint64_t, int64_t> counts;
  std::unordered_map<uint64_t, std::set<size_t>> where;
  for (size_t w = 0; w < words.size(); ++w)
    for (size_t i = 0; i + 1 < words[w].size(); ++i) {
      uint64_t k = key(words[w][i], words[w][i + 1]);
      counts[k] += freq[w];
      where[k].insert(w);
    }
  // Max-heap of (count, -key) with lazy deletion: ties go to the smaller pair, deterministically.
  using Entry = std::pair<int64_t, uint64_t>;
  auto cmp = [](const Entry& x, const Entry& y) { return x.first != y.first ? x.first < y.first : x.second > y.second; };
  std::priority_queue<Entry, std::vector<Entry>, decltype(cmp)> heap(cmp);
  for (const auto& [k, c] : counts) heap.push({c, k});
  while (int64_t(t.tokens_.size()) + 1 < vocabSize && !heap.empty()) {
    auto [c, k] = heap.top();
    heap.pop();
    auto it = counts.find(k);
    if (it == counts.end() || it->second != c) continue;  // stale
    if (c < 2) break;                                     // nothing left worth merging
    int32_t a = int32_t(k >> 32), b = int32_t(k & 0xFFFFFFFF);
    int32_t id = int32_t(t.tokens_.size());
    t.tokens_.push_back(t.tokens_[size_t(a)] + t.tokens_[size_t(b)]);
    t.merges_.emplace_back(t.tokens_[size_t(a)], t.tokens_[size_t(b)]);
    std::set<size_t> affected = std::move(where[k]);
    where.erase(k);
    counts.erase(k);
    std::set<uint64_t> touched;
    for (size_t w : affected) {
      std::vector<int32_t>& s = words[w];
      for (size_t i = 0; i + 1 < s.size(); ++i) {  // remove the word's old pairs
        uint64_t pk = key(s[i], s[i + 1]);
        if (pk == k) continue;
        counts[pk] -= freq[w];
        touched.insert(pk);
      }
      std::vector<int32_t> merged;
      for (size_t i = 0; i < s.size(); ++i) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          merged.push_back(id);
          ++i;
        } else {
          merged.push_back(s[i]);
        }
      }
      s = std::move(merged);
      for (size_t i = 0; i + 1 < s.size(); ++i) {  // add the new ones
        uint64_t pk = key(s[i], s[i + 1]);
        counts[pk] += freq[w];
        where[pk].insert(w);
        touched.insert(pk);
      }
    }
    for (uint64_t pk : touched) {
      auto ct = counts.find(pk);
      if (ct == counts.end()) continue;
      if (ct->second <= 0) {
        counts.erase(ct);
        where.erase(pk);
      } else {
        heap.push({ct->second, pk});
      }
    }
  }
  t.tokens_.push_back(kEndOfText);
  t.indexTokens();
  return t;
}

std::vector<int32_t> BpeTokenizer::encodeWord(const std::string& mapped) const {
  auto hit = cache_.find(mapped);
  if (hit != cache_.end()) return hit->second;
  std::vector<std::string> parts = mappedChars(mapped);
  while (parts.size() > 1) {
    int32_t best = INT32_MAX;
    size_t at = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto r = mergeRank_.find(parts[i] + " " + parts[i + 1]);
      if (r != mergeRank_.end() && r->second < best) {
        best = r->second;
        at = i;
      }
    }
    if (best == INT32_MAX) break;
    const auto& [l, r] = merges_[size_t(best)];
    std::vector<std::string> next;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i + 1 < parts.size() && parts[i] == l && parts[i + 1] == r) {
        next.push_back(l + r);
        ++i;
      } else {
        next.push_back(parts[i]);
      }
    }
    parts = std::move(next);
    (void)at;
  }
  std::vector<int32_t> ids;
  for (const auto& p : parts) {
    auto it = ids_.find(p);
    if (it != ids_.end()) {
      ids.push_back(it->second);
    } else {  // a merge result missing from the vocabulary: fall back to its bytes
      for (const auto& ch : mappedChars(p)) ids.push_back(ids_.at(ch));
    }
  }
  if (cache_.size() < 200000) cache_[mapped] = ids;
  return ids;
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  for (auto w : preTokenize(text)) {
    auto part = encodeWord(mapBytes(w));
    ids.insert(ids.end(), part.begin(), part.end());
  }
  return ids;
}

std::string BpeTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || id >= int32_t(tokens_.size()) || id == endOfText_) continue;
    for (const auto& ch : mappedChars(tokens_[size_t(id)])) {
      auto it = textToByte().find(ch);
      if (it != textToByte().end()) out += char(it->second);
    }
  }
  return out;
}

std::string BpeTokenizer::vocabJson() const {
  std::string out = "{";
  for (size_t i = 0; i < tokens_.size(); ++i) out += (i ? ", " : "") + json::quote(tokens_[i]) + ": " + std::to_string(i);
  return out + "}\n";
}

std::string BpeTokenizer::mergesTxt() const {
  std::string out = "#version: 0.2\n";
  for (const auto& [a, b] : merges_) out += a + " " + b + "\n";
  return out;
}

Expected<BpeTokenizer> BpeTokenizer::fromStrings(const std::string& vocabJson, const std::string& mergesTxt,
                                                 const std::string& origin) {
  auto doc = json::parse(vocabJson, origin + "/vocab.json");
  if (!doc) return doc.error();
  if (!doc->isObject() || doc->object().empty())
    return makeError(Location{origin + "/vocab.json", 0, 0}, "expected a non-empty object of token -> id");
  const json::Object& entries = doc->object();
  BpeTokenizer t;
  t.tokens_.assign(entries.size(), "");
  std::vector<bool> seen(entries.size(), false);
  for (const auto& [tok, value] : entries) {
    // An id is a whole number in [0, N) (checked as a double first: a cast of 3e63 is undefined).
    double idNumber = value.isNumber() ? value.number() : -1;
    bool whole = idNumber >= 0 && idNumber < double(entries.size()) && idNumber == std::floor(idNumber);
    int64_t id = whole ? int64_t(idNumber) : -1;
    if (id < 0 || seen[size_t(id)])
      return makeError(Location{origin + "/vocab.json", 0, 0}, "token ids must be 0..N-1, each once; token " + json::quote(tok) +
                                                                   " has id " + (value.isNumber() ? formatDouble(idNumber) : "(not a number)"));
    seen[size_t(id)] = true;
    t.tokens_[size_t(id)] = tok;
  }
  for (int b = 0; b < 256; ++b)
    if (std::find(t.tokens_.begin(), t.tokens_.end(), byteToText()[size_t(b)]) == t.tokens_.end())
      return makeError(Location{origin + "/vocab.json", 0, 0}, "the vocabulary lacks the token for byte " + std::to_string(b));
  std::istringstream in(mergesTxt);
  std::string line;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty() || line.rfind("#version", 0) == 0) continue;
    size_t sp = line.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 >= line.size())
      return makeError(Location{origin + "/merges.txt", lineNo, 1}, "expected 'left right', got '" + line + "'");
    t.merges_.emplace_back(line.substr(0, sp), line.substr(sp + 1));
  }
  t.indexTokens();
  return t;
}

Expected<BpeTokenizer> BpeTokenizer::load(const std::string& vocabJsonPath, const std::string& mergesPath) {
  auto v = readFile(vocabJsonPath);
  if (!v) return v.error();
  auto mtxt = readFile(mergesPath);
  if (!mtxt) return mtxt.error();
  std::string dir = vocabJsonPath.substr(0, vocabJsonPath.find_last_of('/'));
  return fromStrings(*v, *mtxt, dir);
}

Status BpeTokenizer::save(const std::string& vocabJsonPath, const std::string& mergesPath) const {
  for (const auto& [path, text] : {std::pair{vocabJsonPath, vocabJson()}, std::pair{mergesPath, mergesTxt()}}) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.close();
    if (!out) return makeError(Location{path, 0, 0}, "cannot write file");
  }
  return okStatus();
}

}  // namespace kiln
