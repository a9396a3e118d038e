#include "frontends/spec/spec.h"
#include "test_helpers.h"

namespace kiln {

TEST_CASE("every spec key is documented in docs/spec.md") {
  auto doc = readFile(std::string(KILN_EXAMPLES_DIR) + "/../docs/spec.md");
  REQUIRE(doc.ok());
  for (const auto& key : specKeys()) CHECK_MESSAGE(doc->find("`" + key + "`") != std::string::npos, key);
}

TEST_CASE("a spec sets the model, optimizer, training and data settings") {
  auto spec = parseSpec(
      "[model]\nvocab_size = 1000\ncontext = 64\nlayers = 3\nheads = 4\nd_model = 64\n"
      "[optimizer]\nkind = \"sgd\"\nlr = 0.5\nmomentum = 0.9\nschedule = \"linear\"\nwarmup = 5\n"
      "[train]\nsteps = 100\nbatch = 3\nseed = 9\n[data]\nfiles = [\"a.txt\", \"b/*.txt\"]\n",
      "s.toml");
  REQUIRE_MESSAGE(spec.ok(), (spec.ok() ? "" : spec.error().str()));
  CHECK(spec->model.vocab == 1000);
  CHECK(spec->model.dFF == 256);  // 4 * d_model when unset
  CHECK(spec->model.batch == 3);
  CHECK(spec->optimizer.kind == "sgd");
  CHECK(spec->optimizer.totalSteps == 100);
  CHECK(spec->train.seed == 9);
  CHECK(spec->data.files.size() == 2);
  CHECK(spec->locationOf("model.layers") == Location{"s.toml", 4, 10});
}

}  // namespace kiln

#include "runtime/trainer/executable.h"

namespace kiln {

TEST_CASE("config lists keep every item, empty ones too") {
  for (const std::vector<std::string>& v : std::vector<std::vector<std::string>>{
           {}, {"a"}, {"a", "b c"}, {"x", ""}, {"", "y"}, {"", ""}, {"/path/with spaces/*"}})
    CHECK(splitConfigList(joinConfigList(v)) == v);
  CHECK(splitConfigList(joinConfigList({""})).empty());  // the one ambiguous case
}

}  // namespace kiln

namespace kiln {

TEST_CASE("spec numbers: an integer a double cannot hold exactly is a range error, not a crash (found by fuzz_spec)") {
  auto s = parseSpec("[optimizer]\nlr = 222222222222222221\n", "big.toml");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().str() == "big.toml:2:6: error: optimizer.lr must be between 1e-12 and 100, got 222222222222222208.0");
}

}  // namespace kiln
