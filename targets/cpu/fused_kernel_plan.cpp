#include "targets/cpu/fused_kernel_plan.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "ir/shape_inference.h"

namespace kiln {

namespace {

// Elements a block aims at: big enough to amortize the call, small enough to balance two cores.
constexpr int64_t kBlockElems = 1 << 15;
// Elements a fused_sum kernel adds per call (fixed, so the sum's order is too).
constexpr int64_t kSumChunk = 1 << 14;

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string symbolOf(const std::string& key) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(key)));
  return std::string("kiln_fused_") + hex;
}

FusedKernelPlan planFusedSum(const Op& op) {
  FusedKernelPlan p;
  p.sums = true;
  p.expr = op.attrs.getStr("expr");
  p.rows = std::max<int64_t>(op.result()->type.numElements(), 1);
  p.rowElems = wholeElements(op) / p.rows;
  p.blockRows = std::min(p.rowElems, kSumChunk);
  p.tailRows = p.rowElems % p.blockRows;
  p.shape = {p.rowElems};
  std::string key = "sum|" + p.expr + "|" + std::to_string(p.blockRows) + "|" + std::to_string(p.tailRows);
  for (const Value* v : op.operands) {
    bool whole = v->type.numElements() > 1;
    p.operands.push_back({Shape{whole ? p.blockRows : 1}, whole, whole ? p.rowElems : 0});
    key += whole ? "|w" : "|1";
  }
  p.symbol = symbolOf(key);
  return p;
}

}  // namespace

int64_t wholeElements(const Op& op) {
  Shape whole;
  for (const Value* v : op.operands) whole = *broadcastShapes(whole, v->type.shape);
  int64_t n = 1;
  for (int64_t d : whole) n *= d;
  return n;
}

bool hasFusedKernelPlan(const Op& op) {
  if (op.kind == OpKind::Fused) return true;
  if (op.kind != OpKind::FusedSum) return false;
  const int64_t whole = wholeElements(op);
  for (const Value* v : op.operands)
    if (v->type.numElements() != 1 && v->type.numElements() != whole) return false;
  return whole > 0;
}

FusedKernelPlan planFusedKernel(const Op& op) {
  if (op.kind == OpKind::FusedSum) return planFusedSum(op);
  const Shape& out = op.result()->type.shape;
  const size_t r = out.size();
  // broadcast[i][d]: operand i is broadcast along result dim d.
  std::vector<std::vector<bool>> broadcast;
  for (const Value* v : op.operands) {
    std::vector<bool> b(r);
    const Shape& s = v->type.shape;
    for (size_t d = 0; d < r; ++d) {
      int64_t dim = d < r - s.size() ? 1 : s[d - (r - s.size())];
      b[d] = dim == 1 && out[d] != 1;
    }
    broadcast.push_back(std::move(b));
  }
  // Coalesce: keep dims > 1, merge a dim into the previous kept one when no operand differs.
  Shape shape;
  std::vector<std::vector<bool>> cb(op.operands.size());
  for (size_t d = 0; d < r; ++d) {
    if (out[d] == 1) continue;
    bool merge = !shape.empty();
    for (size_t i = 0; merge && i < op.operands.size(); ++i) merge = cb[i].back() == broadcast[i][d];
    if (merge) {
      shape.back() *= out[d];
    } else {
      shape.push_back(out[d]);
      for (size_t i = 0; i < op.operands.size(); ++i) cb[i].push_back(broadcast[i][d]);
    }
  }
  if (shape.empty()) {
    shape.push_back(1);
    for (auto& b : cb) b.push_back(false);
  }

  FusedKernelPlan p;
  p.expr = op.attrs.getStr("expr");
  p.shape = shape;
  p.rows = shape[0];
  p.rowElems = 1;
  for (size_t d = 1; d < shape.size(); ++d) p.rowElems *= shape[d];
  for (size_t i = 0; i < op.operands.size(); ++i) {
    FusedKernelPlan::Operand o;
    o.rowElems = 1;
    for (size_t d = 0; d < shape.size(); ++d) {
      o.shape.push_back(cb[i][d] ? 1 : shape[d]);
      if (d > 0) o.rowElems *= o.shape.back();
    }
    o.spansRows = !cb[i][0];
    p.operands.push_back(std::move(o));
  }
  p.blockRows = std::clamp<int64_t>(kBlockElems / std::max<int64_t>(p.rowElems, 1), 1, p.rows);
  p.tailRows = p.rows % p.blockRows;

  std::string key = p.expr + "|" + shapeStr(p.shape) + "|" + std::to_string(p.blockRows);
  for (const auto& o : p.operands) key += "|" + shapeStr(o.shape);
  p.symbol = symbolOf(key);
  return p;
}

KernelPlans planKernels(const Module& m) {
  KernelPlans plans;
  for (const auto& f : m.functions)
    for (const auto& op : f->ops)
      if (hasFusedKernelPlan(*op) && op->result()->type.numElements() > 0) plans.emplace(op.get(), planFusedKernel(*op));
  return plans;
}

std::vector<FusedKernelPlan> planFusedKernels(const Module& m) {
  std::vector<FusedKernelPlan> plans;
  std::set<std::string> seen;
  for (const auto& f : m.functions)
    for (const auto& op : f->ops) {
      if (!hasFusedKernelPlan(*op) || op->result()->type.numElements() == 0) continue;
      FusedKernelPlan p = planFusedKernel(*op);
      if (seen.insert(p.symbol).second) plans.push_back(std::move(p));
    }
  return plans;
}

namespace {

class SharedObjectLibrary : public KernelLibrary {
 public:
  SharedObjectLibrary(void* handle, int fd, std::string origin) : handle_(handle), fd_(fd), origin_(std::move(origin)) {}
  ~SharedObjectLibrary() override {
    dlclose(handle_);
    close(fd_);
  }
  void* lookup(const std::string& symbol) const override { return dlsym(handle_, symbol.c_str()); }
  std::string describe() const override { return "generated kernels from " + origin_; }

 private:
  void* handle_;
  int fd_;  // open while loaded: dlopen matches names, and /proc/self/fd/N must stay unique
  std::string origin_;
};

}  // namespace

Expected<std::shared_ptr<KernelLibrary>> loadKernelLibrary(const std::string& sharedObject, const std::string& origin) {
  // An anonymous in-memory file: nothing to clean up, nothing another process can swap.
  int fd = memfd_create("kiln-kernels", MFD_CLOEXEC);
  if (fd < 0) return makeError({}, origin + ": cannot create an in-memory file for the kernel library");
  size_t done = 0;
  while (done < sharedObject.size()) {
    ssize_t w = write(fd, sharedObject.data() + done, sharedObject.size() - done);
    if (w <= 0) {
      close(fd);
      return makeError({}, origin + ": cannot write the kernel library to memory");
    }
    done += size_t(w);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    close(fd);
    return makeError({}, origin + ": cannot load its generated kernels: " + std::string(dlerror()));
  }
  return std::shared_ptr<KernelLibrary>(std::make_shared<SharedObjectLibrary>(h, fd, origin));
}

void callFusedKernel(void* fn, float* const* a, int n) {
  using P = float*;
  switch (n) {
    case 2: reinterpret_cast<void (*)(P, P)>(fn)(a[0], a[1]); return;
    case 3: reinterpret_cast<void (*)(P, P, P)>(fn)(a[0], a[1], a[2]); return;
    case 4: reinterpret_cast<void (*)(P, P, P, P)>(fn)(a[0], a[1], a[2], a[3]); return;
    case 5: reinterpret_cast<void (*)(P, P, P, P, P)>(fn)(a[0], a[1], a[2], a[3], a[4]); return;
    case 6: reinterpret_cast<void (*)(P, P, P, P, P, P)>(fn)(a[0], a[1], a[2], a[3], a[4], a[5]); return;
    case 7: reinterpret_cast<void (*)(P, P, P, P, P, P, P)>(fn)(a[0], a[1], a[2], a[3], a[4], a[5], a[6]); return;
    case 8: reinterpret_cast<void (*)(P, P, P, P, P, P, P, P)>(fn)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]); return;
    case 9:
      reinterpret_cast<void (*)(P, P, P, P, P, P, P, P, P)>(fn)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]);
      return;
    default: KILN_ASSERT(false, "a fused kernel takes 2 to 9 pointers");
  }
}

}  // namespace kiln
