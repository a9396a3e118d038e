#include "ir/shape_inference.h"
#include "ir/verifier.h"
#include "test_helpers.h"

namespace kiln {
namespace {

TensorType f32(Shape s) { return {DType::F32, std::move(s)}; }
TensorType i32(Shape s) { return {DType::I32, std::move(s)}; }

InferResult infer(OpKind k, std::vector<TensorType> in, Attrs a = {}, std::vector<TensorType> decl = {}) {
  fillDefaultAttrs(k, a);
  return inferResultTypes(k, in, a, decl);
}

Attrs attrs(std::initializer_list<std::pair<const char*, Attr>> kv) {
  Attrs a;
  for (auto& [k, v] : kv) a.set(k, v);
  return a;
}

}  // namespace

TEST_CASE("broadcasting rules") {
  CHECK(broadcastShapes({2, 1, 3}, {4, 1}) == Shape{2, 4, 3});
  CHECK(broadcastShapes({}, {5}) == Shape{5});
  CHECK_FALSE(broadcastShapes({2, 3}, {3, 2}).has_value());
  CHECK(broadcastsTo({3}, {2, 3}));
  CHECK_FALSE(broadcastsTo({2, 3}, {3}));
  CHECK(broadcastShapes({0}, {1}) == Shape{0});
}

TEST_CASE("elementwise inference") {
  CHECK(infer(OpKind::Add, {f32({2, 1}), f32({3})}).types[0] == f32({2, 3}));
  CHECK(infer(OpKind::Lt, {f32({2}), f32({2})}).types[0] == TensorType{DType::Bool, {2}});
  CHECK(infer(OpKind::Eq, {TensorType{DType::Bool, {2}}, TensorType{DType::Bool, {}}}).ok());
  CHECK_FALSE(infer(OpKind::Add, {TensorType{DType::Bool, {2}}, TensorType{DType::Bool, {2}}}).ok());
  CHECK(infer(OpKind::Add, {f32({2}), i32({2})}).error.find("same dtype") != std::string::npos);
  CHECK(infer(OpKind::Exp, {i32({2})}).error.find("floating point") != std::string::npos);
  CHECK(infer(OpKind::Select, {TensorType{DType::Bool, {2, 1}}, f32({3}), f32({})}).types[0] == f32({2, 3}));
  CHECK_FALSE(infer(OpKind::Select, {f32({2}), f32({2}), f32({2})}).ok());
  CHECK(infer(OpKind::Cast, {f32({2})}, {}, {i32({2})}).types[0] == i32({2}));
  CHECK_FALSE(infer(OpKind::Cast, {f32({2})}, {}, {i32({3})}).ok());
}

TEST_CASE("reduction inference") {
  auto a = attrs({{"axes", std::vector<int64_t>{0, -1}}});
  CHECK(infer(OpKind::ReduceSum, {f32({2, 3, 4})}, a).types[0] == f32({3}));
  a.set("keepdims", true);
  CHECK(infer(OpKind::ReduceMean, {f32({2, 3, 4})}, a).types[0] == f32({1, 3, 1}));
  CHECK_FALSE(infer(OpKind::ReduceMax, {f32({2})}, attrs({{"axes", std::vector<int64_t>{1}}})).ok());
  CHECK_FALSE(infer(OpKind::ReduceMax, {f32({2})}, attrs({{"axes", std::vector<int64_t>{0, -1}}})).ok());
  CHECK_FALSE(infer(OpKind::ReduceMean, {i32({2})}, attrs({{"axes", std::vector<int64_t>{0}}})).ok());
}

TEST_CASE("shape op inference") {
  CHECK(infer(OpKind::Transpose, {f32({2, 3, 4})}, attrs({{"perm", std::vector<int64_t>{2, 0, 1}}})).types[0] ==
        f32({4, 2, 3}));
  CHECK(infer(OpKind::Slice, {f32({5, 6})},
              attrs({{"start", std::vector<int64_t>{1, 0}}, {"limit", std::vector<int64_t>{5, 6}},
                     {"stride", std::vector<int64_t>{2, 4}}}))
            .types[0] == f32({2, 2}));
  CHECK_FALSE(infer(OpKind::Slice, {f32({5})},
                    attrs({{"start", std::vector<int64_t>{3}}, {"limit", std::vector<int64_t>{6}}}))
                  .ok());
  CHECK(infer(OpKind::Concat, {f32({2, 1}), f32({2, 3})}, attrs({{"axis", int64_t(-1)}})).types[0] == f32({2, 4}));
  CHECK_FALSE(infer(OpKind::Concat, {f32({2, 1}), f32({3, 3})}, attrs({{"axis", int64_t(1)}})).ok());
  CHECK(infer(OpKind::Pad, {f32({2})}, attrs({{"low", std::vector<int64_t>{1}}, {"high", std::vector<int64_t>{2}}}))
            .types[0] == f32({5}));
  CHECK(infer(OpKind::Reshape, {f32({2, 3})}, {}, {f32({6})}).ok());
  CHECK(infer(OpKind::BroadcastTo, {f32({3})}, {}, {f32({2, 3})}).ok());
  CHECK_FALSE(infer(OpKind::BroadcastTo, {f32({2})}, {}, {f32({2, 3})}).ok());
}

TEST_CASE("indexing and contraction inference") {
  CHECK(infer(OpKind::Gather, {f32({10, 4}), i32({2, 3})}).types[0] == f32({2, 3, 4}));
  CHECK(infer(OpKind::Gather, {f32({10, 4}), i32({2})}, attrs({{"axis", int64_t(1)}})).types[0] == f32({10, 2}));
  CHECK_FALSE(infer(OpKind::Gather, {f32({10, 4}), f32({2})}).ok());
  CHECK(infer(OpKind::ScatterAdd, {f32({10, 4}), i32({3}), f32({3, 4})}).types[0] == f32({10, 4}));
  CHECK_FALSE(infer(OpKind::ScatterAdd, {f32({10, 4}), i32({3}), f32({3, 5})}).ok());
  CHECK(infer(OpKind::Matmul, {f32({8, 2, 3}), f32({3, 5})}).types[0] == f32({8, 2, 5}));
  CHECK(infer(OpKind::Matmul, {f32({3, 2}), f32({5, 3})},
              attrs({{"transpose_a", true}, {"transpose_b", true}}))
            .types[0] == f32({2, 5}));
  CHECK(infer(OpKind::Matmul, {f32({4, 1, 2, 3}), f32({6, 3, 5})}).types[0] == f32({4, 6, 2, 5}));
  CHECK_FALSE(infer(OpKind::Matmul, {f32({2, 3}), f32({4, 5})}).ok());
  CHECK_FALSE(infer(OpKind::Matmul, {f32({3}), f32({3, 5})}).ok());
}

TEST_CASE("composite inference") {
  CHECK(infer(OpKind::LayerNorm, {f32({2, 8}), f32({8}), f32({8})}).types[0] == f32({2, 8}));
  CHECK_FALSE(infer(OpKind::LayerNorm, {f32({2, 8}), f32({2}), f32({8})}).ok());
  CHECK(infer(OpKind::CrossEntropy, {f32({4, 7, 10}), i32({4, 7})}).types[0] == f32({}));
  CHECK(infer(OpKind::CrossEntropy, {f32({4, 10}), i32({4})}, attrs({{"reduction", std::string("none")}}))
            .types[0] == f32({4}));
  CHECK_FALSE(infer(OpKind::CrossEntropy, {f32({4, 10}), i32({5})}).ok());
  CHECK(infer(OpKind::Attention, {f32({2, 4, 8, 16}), f32({2, 4, 12, 16}), f32({2, 4, 12, 32})}).types[0] ==
        f32({2, 4, 8, 32}));
  CHECK(infer(OpKind::Attention, {f32({2, 4, 8, 16}), f32({2, 4, 8, 16}), f32({2, 4, 8, 16}), f32({8, 8})}).ok());
  CHECK_FALSE(infer(OpKind::Attention, {f32({2, 4, 8, 16}), f32({2, 4, 8, 16}), f32({2, 4, 8, 16}), f32({3, 8})}).ok());
  CHECK_FALSE(infer(OpKind::Attention, {f32({2, 4, 9, 16}), f32({2, 4, 8, 16}), f32({2, 4, 8, 16})},
                    attrs({{"causal", true}}))
                  .ok());
  CHECK(infer(OpKind::Dropout, {f32({3}), TensorType{DType::I64, {}}}, attrs({{"rate", 0.1}})).ok());
  CHECK_FALSE(infer(OpKind::Dropout, {f32({3}), TensorType{DType::I64, {}}}, attrs({{"rate", 1.0}})).ok());
  CHECK_FALSE(infer(OpKind::Dropout, {f32({3}), f32({})}, attrs({{"rate", 0.1}})).ok());
}

TEST_CASE("attribute schema checks") {
  CHECK(checkAttrs(OpKind::Transpose, {}).find("needs attribute 'perm'") != std::string::npos);
  CHECK(checkAttrs(OpKind::Neg, attrs({{"x", int64_t(1)}})).find("takes none") != std::string::npos);
  CHECK(checkAttrs(OpKind::Constant, attrs({{"value", std::vector<int64_t>{1}}})).empty());
  CHECK(checkAttrs(OpKind::Constant, attrs({{"value", std::vector<double>{1.5}}})).empty());
  CHECK_FALSE(checkAttrs(OpKind::Constant, attrs({{"value", 1.5}})).empty());
}

TEST_CASE("type limits") {
  CHECK(checkTypeLimits(f32({1 << 20, 1 << 20})).empty());
  CHECK_FALSE(checkTypeLimits(f32({1 << 20, 1 << 20, 2})).empty());
  CHECK_FALSE(checkTypeLimits(f32({1, 1, 1, 1, 1, 1, 1, 1, 1})).empty());
}

}  // namespace kiln
