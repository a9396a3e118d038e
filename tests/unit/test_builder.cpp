#include "ir/builder.h"
#include "eval/interpreter.h"
#include "test_helpers.h"

namespace kiln {

TEST_CASE("the builder writes verifiable IR with component names and locations") {
  Module m;
  m.addState("fc.weight", {DType::F32, {3, 2}}, Initializer{InitKind::Normal, 0, 0.1, 5}, true);
  m.addState("fc.bias", {DType::F32, {2}}, Initializer{InitKind::Zeros}, true);
  Builder b(m, m.addFunction("forward"));
  Value* x = b.param("x", {DType::F32, {4, 3}});
  Value* labels = b.param("labels", {DType::I32, {4}});
  b.setLocation(Location{"net.toml", 3, 1});
  Value* logits;
  {
    auto fc = b.scope("fc");
    Value* h = b.matmul(x, b.readState("fc.weight"));
    logits = b.add(h, b.readState("fc.bias"));
    CHECK(b.currentName() == "fc");
    {
      auto inner = b.scope("act");
      CHECK(b.currentName() == "fc.act");
    }
  }
  CHECK(b.currentName().empty());
  Value* loss = b.crossEntropy(logits, labels);
  b.output("loss", loss);

  CHECK(verifyModule(m).empty());
  CHECK(logits->type == TensorType{DType::F32, {4, 2}});
  CHECK(logits->def->name == "fc");
  CHECK(logits->def->loc == Location{"net.toml", 3, 1});
  CHECK(loss->type == TensorType{DType::F32, {}});

  std::string text = printModule(m);
  INFO(text);
  CHECK(text.find("add %1, %2 : f32[4,2] \"fc\" loc(\"net.toml\":3:1)") != std::string::npos);
  // What the builder prints parses back to the same text.
  Module again = test::parseValid(text);
  CHECK(printModule(again) == text);

  auto state = ref::initialState(m);
  REQUIRE(state.ok());
  auto outs = ref::run(m, *m.functions[0],
                       {ref::Tensor({DType::F32, {4, 3}}, std::vector<double>(12, 1.0)),
                        ref::Tensor({DType::I32, {4}}, {0, 1, 0, 1})},
                       *state);
  REQUIRE(outs.ok());
  CHECK((*outs)[0][0] > 0);
}

TEST_CASE("builder constants keep integer values exact") {
  Module m;
  Builder b(m, m.addFunction("f"));
  Value* c = b.constant({3, 4}, {DType::I64, {2}});
  b.output("c", c);
  CHECK(printModule(m).find("constant {value = [3, 4]} : i64[2]") != std::string::npos);
}

}  // namespace kiln
