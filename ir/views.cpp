#include "ir/views.h"

namespace kiln {

int64_t typeBytes(const TensorType& t) { return t.numElements() * dtypeBytes(t.dtype); }

int64_t storedElementBytes(DType t, int elementBytes) {
  if (elementBytes <= 0 || t == DType::BF16) return dtypeBytes(t);
  return elementBytes;
}

bool isContiguousSlice(const Op& op) {
  if (op.kind != OpKind::Slice) return false;
  for (int64_t s : op.attrs.getInts("stride"))
    if (s != 1) return false;
  const Shape& in = op.operands[0]->type.shape;
  const Shape& out = op.result()->type.shape;
  // The innermost cut dim may take any range; the dims after it are whole (by its choice),
  // and the dims before it must take a single index.
  size_t cut = in.size();
  while (cut > 0 && out[cut - 1] == in[cut - 1]) --cut;
  if (cut == 0) return true;  // the whole operand
  for (size_t d = 0; d + 1 < cut; ++d)
    if (out[d] != 1) return false;
  return true;
}

bool isView(const Op* op) {
  return op && (op->kind == OpKind::Reshape || op->kind == OpKind::AllReduce || isContiguousSlice(*op));
}

const Value* aliasOf(const Value* v) {
  while (isView(v->def)) v = v->def->operands[0];
  return v;
}

int64_t sliceOffset(const Op& slice) {
  const Shape& in = slice.operands[0]->type.shape;
  const std::vector<int64_t> start = slice.attrs.getInts("start");
  int64_t offset = 0, stride = 1;
  for (size_t d = in.size(); d-- > 0;) {
    offset += start[d] * stride;
    stride *= in[d];
  }
  return offset;
}

int64_t viewOffset(const Value* v) {
  int64_t offset = 0;
  for (; isView(v->def); v = v->def->operands[0])
    if (v->def->kind == OpKind::Slice) offset += sliceOffset(*v->def);
  return offset;
}

}  // namespace kiln
