// Every op in ops.def: printed, parsed back identically, verified (which checks the inferred
// result types against the declared ones) and executed by the reference device with
// hand-computed expected values. tests/lit/Inputs/all_ops.kir holds one function per op.
#include <map>
#include <set>

#include "eval/interpreter.h"
#include "test_helpers.h"

namespace kiln {
namespace {

// function -> expected "name: type = values" lines, one per output.
const std::map<std::string, std::vector<std::string>> kExpected = {
    {"op_constant", {"y: f32[3] = [1, 2.5, -3]"}},
    {"op_iota", {"y: i32[2,3] = [[0, 1, 2], [0, 1, 2]]"}},
    {"op_random_uniform", {"y: f64[3] = [2, 2, 2]"}},
    {"op_random_normal", {"y: f64[2] = [1.5, 1.5]"}},
    {"op_neg", {"y: i32[3] = [1, 0, -2]"}},
    {"op_abs", {"y: f32[3] = [1.5, 0, 2]"}},
    {"op_exp", {"y: f64[3] = [0.36787944117144233, 1, 7.38905609893065]"}},
    {"op_log", {"y: f64[3] = [0, 0.6931471805599453, -inf]"}},
    {"op_sqrt", {"y: f64[3] = [2, 1.4142135623730951, 0]"}},
    {"op_rsqrt", {"y: f64[2] = [0.5, 2]"}},
    {"op_tanh", {"y: f64[2] = [0, 0.7615941559557649]"}},
    {"op_sin_cos", {"s: f64[2] = [0, 1]", "c: f64[2] = [1, 6.123233995736766e-17]"}},
    {"op_sigmoid", {"y: f64[2] = [0.5, 0.8807970779778823]"}},
    {"op_relu", {"y: f32[3] = [0, 0, 3.5]"}},
    // Published values: GELU(1) = 0.8413447460685429 exactly, 0.8411919906082768 (tanh form).
    {"op_gelu",
     {"y: f64[2] = [0.8411919906082768, -0.15880800939172324]",
      "z: f64[2] = [0.8413447460685429, -0.15865525393145707]"}},
    // 1 + 2^-8 is a tie between bf16 neighbours 1 and 1 + 2^-7: rounds to even (1).
    {"op_cast", {"y: i32[4] = [1, -1, 3, 0]", "z: bf16[2] = [1, 3.140625]", "b: bool[2] = [false, true]"}},
    {"op_add", {"y: f32[2,3] = [[11, 22, 33], [14, 25, 36]]"}},
    {"op_sub", {"y: f32[2,2] = [[4, 3], [5, 4]]"}},
    {"op_mul", {"y: i64[3] = [10, -15, 20]"}},
    {"op_div", {"y: f32[2] = [0.25, -1.5]", "z: i32[2] = [3, -3]"}},
    {"op_max", {"y: f32[3] = [1, 5, 0]"}},
    {"op_min", {"y: f32[3] = [0, 0, -2]"}},
    {"op_pow", {"y: f64[3] = [8, 3, 0.25]"}},
    {"op_compare",
     {"eq: bool[3] = [false, true, false]", "ne: bool[3] = [true, false, true]",
      "lt: bool[3] = [true, false, false]", "le: bool[3] = [true, true, false]",
      "gt: bool[3] = [false, false, true]", "ge: bool[3] = [false, true, true]"}},
    {"op_select", {"y: f32[2,2] = [[1, -1], [3, -1]]"}},
    {"op_reduce_sum", {"y: f32[3] = [5, 7, 9]", "z: f32[2,1] = [[6], [15]]"}},
    {"op_reduce_max", {"y: f32[2] = [7, -4]", "z: i32[] = 9"}},
    {"op_reduce_mean", {"y: f32[1,3] = [[2.5, 3.5, 4.5]]"}},
    {"op_reshape", {"y: f32[3,2] = [[1, 2], [3, 4], [5, 6]]"}},
    {"op_transpose", {"y: f32[3,2] = [[1, 4], [2, 5], [3, 6]]", "z: f32[2,1,2] = [[[1, 3]], [[2, 4]]]"}},
    {"op_broadcast_to", {"y: f32[2,3] = [[1, 1, 1], [2, 2, 2]]"}},
    {"op_slice", {"y: f32[2,2] = [[10, 13], [20, 23]]"}},
    {"op_concat", {"y: f32[2,3] = [[1, 3, 4], [2, 5, 6]]"}},
    {"op_pad", {"y: f32[2,4] = [[-1, 1, 2, -1], [-1, -1, -1, -1]]", "z: f32[6] = [0, 1, 0, 2, 0, 3]"}},
    {"op_gather", {"y: f32[2,2,2] = [[[20, 21], [0, 1]], [[10, 11], [20, 21]]]", "z: f32[3,1] = [[1], [11], [21]]"}},
    {"op_scatter_add", {"y: f32[3,2] = [[3, 4], [0, 0], [6, 8]]"}},
    {"op_matmul", {"y: f32[2,2] = [[4, 5], [10, 11]]", "z: f32[2,1,2] = [[[21, 2100]], [[43, 4300]]]"}},
    {"op_softmax", {"y: f64[3] = [0.25, 0.25, 0.5]"}},
    {"op_log_softmax",
     {"y: f64[2,2] = [[-0.6931471805599453, -0.6931471805599453], [-0.6931471805599453, -0.6931471805599453]]"}},
    // mean 2.5, variance 1.25: (x - 2.5) / sqrt(1.25) * gain + bias.
    {"op_layer_norm",
     {"y: f64[1,4] = [[-1.3416407864998738, -0.4472135954999579, 0.8944271909999159, 3.6832815729997477]]"}},
    // Row 0: ln 3; row 1: ln 4 - ln 2 = ln 2; row 2 ignored.
    {"op_cross_entropy",
     {"mean: f64[] = 0.8958797346140275", "none: f64[3] = [1.0986122886681098, 0.6931471805599453, 0]",
      "sum: f64[] = 1.791759469228055"}},
    {"op_attention", {"y: f64[1,1,2,1] = [[[[10], [15]]]]", "m: f64[1,1,2,1] = [[[[10], [20]]]]"}},
    // rate 0 keeps everything; rate 0.5 gives 0 or 2, so z * (z - 2) is 0.
    {"op_dropout", {"y: f32[4] = [1, 2, 3, 4]", "z: f32[2] = [0, 0]"}},
    // Backward ops; the values were computed independently in Python from the textbook formulas
    // (gelu' at 1 times g = 2; softmax' = y (g - sum g y); log_softmax' = g - exp(y) sum g).
    {"op_gelu_grad", {"t: f64[2] = [0.5, 2.165928167691565]", "e: f64[2] = [0.5, 2.166630941175373]"}},
    {"op_matmul_bias", {"y: f64[2,2] = [[11, 22], [13, 24]]", "r: f64[2,2] = [[12, 24], [16, 28]]"}},
    {"op_fused", {"y: f64[2,3] = [[1.5, 0, 3], [2, 0, 5]]"}},
    {"op_softmax_grad",
     {"s: f64[3] = [0.1875, -0.0625, -0.125]",
      "l: f64[3] = [0.6321205588285577, -0.1353352832366127, -0.049787068367863944]"}},
    {"op_layer_norm_grad",
     {"dx: f64[1,4] = [[0.2683281572999747, -0.35777087639996635, -0.08944271909999159, 0.17888543819998318]]",
      "dgain: f64[4] = [-1.3416407864998738, 0, 0, 0]", "dbias: f64[4] = [1, 0, 0, 0]"}},
    // op_layer_norm_grad's dx plus the addend.
    {"op_layer_norm_grad_addend",
     {"dx: f64[1,4] = [[10.268328157299974, 19.642229123600032, 29.910557280900008, 40.178885438199984]]",
      "dgain: f64[4] = [-1.3416407864998738, 0, 0, 0]", "dbias: f64[4] = [1, 0, 0, 0]"}},
    // Rows [1, 3] and [2, 6]: each normalizes to [-1, 1], then gain and bias.
    {"op_add_layer_norm", {"s: f64[2,2] = [[1, 3], [2, 6]]", "y: f64[2,2] = [[-1, 2.5], [-1, 2.5]]"}},
    // g = 3 over one counted row: 3 (softmax - onehot) = [1, -2, 1]; the ignored row is 0.
    {"op_cross_entropy_grad", {"d: f64[2,3] = [[1, -2, 1], [0, 0, 0]]"}},
    // op_cross_entropy_grad's gradient, and the loss ln 3 of the one counted row.
    {"op_cross_entropy_with_grad", {"loss: f64[] = 1.0986122886681098", "d: f64[2,3] = [[1, -2, 1], [0, 0, 0]]"}},
    // Row 0 sees key 0 only; row 1 averages both: dv = [1.5, 0.5], ds = [-2.5, 2.5], dq = 2.5.
    {"op_attention_grad",
     {"dq: f64[1,1,2,1] = [[[[0], [2.5]]]]", "dk: f64[1,1,2,1] = [[[[0], [0]]]]", "dv: f64[1,1,2,1] = [[[[1.5], [0.5]]]]"}},
    // AdamW from zero moments, t = 1 (values from the same formula evaluated in Python).
    {"op_adamw_update",
     {"p: f64[2] = [0.890000002, 2.079999999]", "m: f64[2] = [0.04999999999999999, -0.09999999999999998]",
      "v: f64[2] = [0.0002500000000000002, 0.0010000000000000009]"}},
    // 2 (1 + 4 + 9), 2 (1 + 0.25 + 4); the sum of |x|.
    {"op_fused_sum", {"rows: f64[2] = [28, 10.5]", "all: f64[] = 9.5"}},
    // The first parameter's gradient times 0.5 is op_adamw_update's gradient.
    {"op_adamw_group",
     {"p: f64[2] = [0.890000002, 2.079999999]", "m: f64[2] = [0.04999999999999999, -0.09999999999999998]",
      "v: f64[2] = [0.0002500000000000002, 0.0010000000000000009]", "q: f64[1] = [2.9000000005]",
      "mq: f64[1] = [0.19999999999999996]", "vq: f64[1] = [0.0040000000000000036]"}},
    {"op_all_reduce", {"y: f32[2,2] = [[1, -2], [3.5, 0]]", "z: f32[] = 4"}},
    {"op_state", {"y: f64[2] = [1, -2]", "c: i64[] = 41"}},
};

TEST_CASE("every op is printed, parsed, verified, inferred and executed with known values") {
  std::string path = test::inputsDir() + "/all_ops.kir";
  auto text = readFile(path);
  REQUIRE(text.ok());
  Module m = test::parseValid(*text, path);
  CHECK(printModule(m) == *text);  // the file is in canonical form: parse -> print is identity

  std::set<OpKind> covered;
  for (const auto& f : m.functions) {
    INFO("function @" << f->name);
    auto expected = kExpected.find(f->name);
    REQUIRE_MESSAGE(expected != kExpected.end(), "no expected values for @" << f->name);
    auto state = ref::initialState(m);
    REQUIRE(state.ok());
    std::vector<ref::Tensor> inputs;
    for (const auto& p : f->params) inputs.emplace_back(p->type, std::vector<double>{2.0, -4.0});
    auto outs = ref::run(m, *f, inputs, *state);
    REQUIRE_MESSAGE(outs.ok(), (outs.ok() ? "" : outs.error().str()));
    REQUIRE(outs->size() == expected->second.size());
    for (size_t i = 0; i < outs->size(); ++i)
      CHECK(f->outputNames[i] + ": " + (*outs)[i].type.str() + " = " + ref::formatTensor((*outs)[i]) ==
            expected->second[i]);
    for (const auto& op : f->ops) covered.insert(op->kind);
    if (f->name == "op_state") CHECK(state->at("counter")[0] == 42);
  }
  for (OpKind k : kAllOpKinds) CHECK_MESSAGE(covered.count(k), "op '" << mnemonic(k) << "' has no test in all_ops.kir");
}

}  // namespace
}  // namespace kiln
