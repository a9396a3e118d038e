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
