// How a `fused` op runs as generated code, shared by codegen (which emits the kernels) and the
// cpu device (which calls them), so both agree on symbols and shapes without talking.
//
// The result shape is coalesced (size-1 dims dropped, neighbours merged when every operand is
// broadcast along both or neither) and split into blocks of rows along its first dim. A kernel
// takes bare f32 pointers (operands, then the result) to one block, with every shape static;
// operands broadcast along dim 0 are passed whole. `symbol` computes `blockRows` rows,
// `symbol_tail` the last `tailRows` (when rows is not a multiple). Blocks run in parallel.
//
// A `fused_sum` (`sums`) has one output per row (rows = outputs, rowElems = the elements summed
// into each) and every operand whole or a single value. A kernel adds the program over one
// chunk of `blockRows` elements of a row (`tailRows` for a row's last, shorter chunk) into one
// float; the device adds the chunks of a row in order, so results do not depend on threads.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/module.h"

namespace kiln {

struct FusedKernelPlan {
  struct Operand {
    Shape shape;          // coalesced: the result's dims, 1 where broadcast
    bool spansRows;       // not broadcast along dim 0: advance by rowElems per row
    int64_t rowElems;     // elements per row (product of shape[1:])
  };
  std::string symbol;
  std::string expr;
  Shape shape;            // coalesced result shape, rank >= 1
  std::vector<Operand> operands;
  int64_t rows = 0;       // shape[0]
  int64_t rowElems = 0;   // result elements per row
  int64_t blockRows = 0;
  int64_t tailRows = 0;
  bool sums = false;
  int64_t numBlocks() const { return rows / blockRows; }
  int64_t chunksPerRow() const { return rowElems / blockRows + (tailRows ? 1 : 0); }  // sums
  std::string tailSymbol() const { return symbol + "_tail"; }
};

// The elements of the operands broadcast together (what a fused_sum sums over).
int64_t wholeElements(const Op& op);
// Whether generated code can run the op: every fused op; a fused_sum whose operands are each
// whole (the program's shape) or a single value.
bool hasFusedKernelPlan(const Op& op);
// For an op with hasFusedKernelPlan, f32 operands and a non-empty result.
FusedKernelPlan planFusedKernel(const Op& op);

// The distinct plans of every fused op in the module (one kernel serves equal plans).
std::vector<FusedKernelPlan> planFusedKernels(const Module& m);

// The plan of each fused op that generated code runs, by op. The compiler plans them once and
// stores them (section cpu.kernel_plans); the device loads them instead of planning again.
using KernelPlans = std::unordered_map<const Op*, FusedKernelPlan>;
KernelPlans planKernels(const Module& m);
// Versioned text: a header line, then one line per op, "@fn op=INDEX symbol sums=0|1
// shape=AxB block=N tail=N operands=r:AxB,b:1xB" (r: the operand advances with the rows, b: it
// is broadcast along them).
std::string formatKernelPlans(const Module& m, const KernelPlans& plans);
// Reads them back for `m`, checking every plan against its op (shapes, blocks, operands), so a
// damaged section is refused with the line at fault and never makes a kernel read or write
// outside its buffers. `origin` names the section in messages.
Expected<KernelPlans> parseKernelPlans(const Module& m, const std::string& text, const std::string& origin);

// Generated kernels by symbol. The cpu device falls back to the portable kernel for an op whose
// symbol a library lacks.
class KernelLibrary {
 public:
  virtual ~KernelLibrary() = default;
  virtual void* lookup(const std::string& symbol) const = 0;
  virtual std::string describe() const = 0;
};

// Loads a shared object held in memory (a trainer's "kernels.so" section) without a file on disk.
Expected<std::shared_ptr<KernelLibrary>> loadKernelLibrary(const std::string& sharedObject, const std::string& origin);

// Calls a kernel with `n` pointers (operands, then the result); n <= 9.
void callFusedKernel(void* fn, float* const* args, int n);

}  // namespace kiln
