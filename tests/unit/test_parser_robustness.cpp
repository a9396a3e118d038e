// Malformed IR is user input: every mutation of valid files must give a located error or a
// valid module, never a crash, hang or assertion. Run under ASan/UBSan too (see README).
#include "eval/random.h"
#include "test_helpers.h"

namespace kiln {

TEST_CASE("mutated IR never crashes the parser or verifier") {
  std::vector<std::string> seeds;
  for (const char* f : {"/all_ops.kir", "/affine.kir", "/gather_oob.kir"}) {
    auto text = readFile(test::inputsDir() + f);
    REQUIRE(text.ok());
    seeds.push_back(*text);
  }
  const std::string alphabet = "%@[](){},:=->\"#0123456789.-eE abcfixz\n\xff\xc3";
  int errors = 0, valid = 0;
  for (uint64_t iter = 0; iter < 3000; ++iter) {
    std::string s = seeds[iter % seeds.size()];
    uint64_t draw = 0;
    auto rnd = [&](size_t n) { return size_t(counterUniform(iter, draw++) * double(n)); };
    int edits = 1 + int(rnd(4));
    for (int e = 0; e < edits && !s.empty(); ++e) {
      size_t pos = rnd(s.size());
      switch (rnd(4)) {
        case 0: s[pos] = alphabet[rnd(alphabet.size())]; break;
        case 1: s.erase(pos, 1 + rnd(8)); break;
        case 2: s.insert(pos, 1, alphabet[rnd(alphabet.size())]); break;
        case 3: s.resize(pos); break;  // truncation
      }
    }
    auto m = parseModule(s, "fuzz.kir");
    if (!m) {
      ++errors;
      CHECK(m.error().loc.file == "fuzz.kir");
      CHECK(m.error().loc.line >= 1);
      continue;
    }
    auto diags = verifyModule(*m);
    if (diags.empty()) {
      ++valid;
      // A valid mutant still round-trips.
      std::string printed = printModule(*m);
      auto again = parseModule(printed, "again.kir");
      REQUIRE(again.ok());
      CHECK(printModule(*again) == printed);
    } else {
      ++errors;
      for (const auto& d : diags) CHECK(d.loc.line >= 1);
    }
  }
  CHECK(errors > 1000);
  CHECK(valid > 10);
}

TEST_CASE("literal edge cases") {
  CHECK(test::firstError("state @w : f32[2] = full(value = 1e999)") ==
        "t.kir:1:34: error: number 1e999 is out of range");
  CHECK(test::firstError("state @w : f32[2] = full(value = 1.5.5)") ==
        "t.kir:1:34: error: malformed number '1.5.5'");
  CHECK(test::firstError("state @w : f32[2] = normal(sigma = 1.0)") ==
        "t.kir:1:28: error: unknown argument 'sigma' of normal (allowed: mean, seed, std)");
  CHECK(test::firstError("state @w : i32[2] = normal(std = 1.0)") ==
        "t.kir:1:1: error: state @w: random initializers need a floating point type");
  CHECK(test::firstError("state @w : f32[2] = full(value = -inf) trainable").empty());
  CHECK(test::firstError("func @f() -> () {\n  return\n}\nfunc @f() -> () {\n  return\n}\n") ==
        "t.kir:4:1: error: function @f is defined twice");
}

}  // namespace kiln
