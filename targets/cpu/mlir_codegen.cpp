#include "targets/cpu/mlir_codegen.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/LLVMCommon/LoweringOptions.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/SubtargetFeature.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <map>
#include <mutex>

#include "ir/fused_expr.h"

namespace kiln {

namespace {

using namespace mlir;
using Value = mlir::Value;  // not kiln's IR values or locations
using Location = mlir::Location;

// ---- building the kernels ----

class KernelBuilder {
 public:
  KernelBuilder(OpBuilder& b, Location loc) : b_(b), loc_(loc) {}

  // func @name(operand memrefs..., result memref) over `rows` rows of the plan.
  void build(const FusedKernelPlan& p, const FusedExpr& e, const std::string& name, int64_t rows) {
    auto f32 = b_.getF32Type();
    const size_t rank = p.shape.size();
    auto blockShape = [&](const Shape& s, bool spans) {
      SmallVector<int64_t> dims(s.begin(), s.end());
      dims[0] = spans ? rows : 1;
      return dims;
    };
    SmallVector<Type> argTypes;
    for (const auto& o : p.operands) argTypes.push_back(MemRefType::get(blockShape(o.shape, o.spansRows), f32));
    SmallVector<int64_t> outDims = blockShape(p.shape, true);
    argTypes.push_back(MemRefType::get(outDims, f32));
    auto fn = b_.create<func::FuncOp>(loc_, name, b_.getFunctionType(argTypes, {}));
    Block* entry = fn.addEntryBlock();
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPointToStart(entry);

    SmallVector<AffineMap> maps;
    SmallVector<Value> inputs;
    MLIRContext* ctx = b_.getContext();
    for (size_t i = 0; i < p.operands.size(); ++i) {
      SmallVector<int64_t> dims = blockShape(p.operands[i].shape, p.operands[i].spansRows);
      SmallVector<AffineExpr> exprs;
      for (size_t d = 0; d < rank; ++d)
        exprs.push_back(dims[d] == 1 && outDims[d] != 1 ? getAffineConstantExpr(0, ctx) : getAffineDimExpr(unsigned(d), ctx));
      maps.push_back(AffineMap::get(unsigned(rank), 0, exprs, ctx));
      inputs.push_back(entry->getArgument(unsigned(i)));
    }
    maps.push_back(AffineMap::getMultiDimIdentityMap(unsigned(rank), ctx));
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    b_.create<linalg::GenericOp>(loc_, ValueRange(inputs), ValueRange{entry->getArgument(unsigned(p.operands.size()))}, maps,
                                 iters, [&](OpBuilder& nb, Location nl, ValueRange args) {
                                   KernelBuilder body(nb, nl);
                                   nb.create<linalg::YieldOp>(nl, body.program(e, args));
                                 });
    b_.create<func::ReturnOp>(loc_);
  }

  // func @name(operand memrefs..., memref<1xf32>) adding the program over `len` elements to the
  // result's one float: a 1-D linalg.generic reduction. The additions may be reassociated
  // (fastmath reassoc), so LLVM vectorizes the loop; operands are marked noalias so the
  // accumulator stays in registers.
  void buildSum(const FusedKernelPlan& p, const FusedExpr& e, const std::string& name, int64_t len) {
    auto f32 = b_.getF32Type();
    MLIRContext* ctx = b_.getContext();
    SmallVector<Type> argTypes;
    for (const auto& o : p.operands) argTypes.push_back(MemRefType::get({o.spansRows ? len : 1}, f32));
    argTypes.push_back(MemRefType::get({1}, f32));
    auto fn = b_.create<func::FuncOp>(loc_, name, b_.getFunctionType(argTypes, {}));
    for (unsigned i = 0; i < argTypes.size(); ++i) fn.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(), b_.getUnitAttr());
    Block* entry = fn.addEntryBlock();
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPointToStart(entry);
    AffineMap each = AffineMap::getMultiDimIdentityMap(1, ctx);
    AffineMap first = AffineMap::get(1, 0, {getAffineConstantExpr(0, ctx)}, ctx);
    SmallVector<AffineMap> maps;
    SmallVector<Value> inputs;
    for (size_t i = 0; i < p.operands.size(); ++i) {
      maps.push_back(p.operands[i].spansRows ? each : first);
      inputs.push_back(entry->getArgument(unsigned(i)));
    }
    maps.push_back(first);
    SmallVector<utils::IteratorType> iters{utils::IteratorType::reduction};
    b_.create<linalg::GenericOp>(loc_, ValueRange(inputs), ValueRange{entry->getArgument(unsigned(p.operands.size()))}, maps,
                                 iters, [&](OpBuilder& nb, Location nl, ValueRange args) {
                                   KernelBuilder body(nb, nl);
                                   Value v = body.program(e, args.drop_back());
                                   Value acc = nb.create<arith::AddFOp>(nl, args.back(), v, arith::FastMathFlags::reassoc);
                                   nb.create<linalg::YieldOp>(nl, acc);
                                 });
    b_.create<func::ReturnOp>(loc_);
  }

 private:
  Value program(const FusedExpr& e, ValueRange inputs) {
    std::vector<Value> temps;
    for (const FusedInstr& ins : e.instrs) {
      auto arg = [&](size_t i) -> Value {
        const FusedArg& a = ins.args[i];
        switch (a.kind) {
          case FusedArg::Input: return inputs[unsigned(a.index)];
          case FusedArg::Temp: return temps[size_t(a.index)];
          case FusedArg::Constant: return cst(a.value);
        }
        return Value();
      };
      temps.push_back(primitive(ins.prim, arg(0), ins.args.size() > 1 ? arg(1) : Value()));
    }
    return temps.back();
  }

  Value cst(double v) { return b_.create<arith::ConstantOp>(loc_, b_.getF32FloatAttr(float(v))); }
  Value add(Value a, Value b) { return b_.create<arith::AddFOp>(loc_, a, b); }
  Value sub(Value a, Value b) { return b_.create<arith::SubFOp>(loc_, a, b); }
  Value mul(Value a, Value b) { return b_.create<arith::MulFOp>(loc_, a, b); }
  Value div(Value a, Value b) { return b_.create<arith::DivFOp>(loc_, a, b); }
  Value cmp(arith::CmpFPredicate p, Value a, Value b) { return b_.create<arith::CmpFOp>(loc_, p, a, b); }
  Value select(Value c, Value a, Value b) { return b_.create<arith::SelectOp>(loc_, c, a, b); }
  Value exp(Value a) { return b_.create<math::ExpOp>(loc_, a); }
  Value tanh(Value a) { return b_.create<math::TanhOp>(loc_, a); }
  Value erf(Value a) { return b_.create<math::ErfOp>(loc_, a); }

  // Same arithmetic as eval/kernels/fused.h (max/min propagate NaN like the kernels do).
  Value primitive(FusedPrim p, Value a, Value b) {
    const double c = 0.7978845608028654, k = 0.044715;
    switch (p) {
      case FusedPrim::Neg: return b_.create<arith::NegFOp>(loc_, a);
      case FusedPrim::Abs: return b_.create<math::AbsFOp>(loc_, a);
      case FusedPrim::Exp: return exp(a);
      case FusedPrim::Log: return b_.create<math::LogOp>(loc_, a);
      case FusedPrim::Sqrt: return b_.create<math::SqrtOp>(loc_, a);
      case FusedPrim::Rsqrt: return div(cst(1.0), b_.create<math::SqrtOp>(loc_, a));
      case FusedPrim::Tanh: return tanh(a);
      case FusedPrim::Sin: return b_.create<math::SinOp>(loc_, a);
      case FusedPrim::Cos: return b_.create<math::CosOp>(loc_, a);
      case FusedPrim::Sigmoid: return div(cst(1.0), add(cst(1.0), exp(b_.create<arith::NegFOp>(loc_, a))));
      case FusedPrim::Relu: return select(cmp(arith::CmpFPredicate::OGT, a, cst(0.0)), a, cst(0.0));
      case FusedPrim::GeluTanh: {
        Value u = mul(cst(c), add(a, mul(cst(k), mul(a, mul(a, a)))));
        return mul(mul(cst(0.5), a), add(cst(1.0), tanh(u)));
      }
      case FusedPrim::GeluErf:
        return mul(mul(cst(0.5), a), add(cst(1.0), erf(mul(a, cst(0.7071067811865476)))));
      case FusedPrim::Add: return add(a, b);
      case FusedPrim::Sub: return sub(a, b);
      case FusedPrim::Mul: return mul(a, b);
      case FusedPrim::Div: return div(a, b);
      case FusedPrim::Max:
      case FusedPrim::Min: {
        Value better = cmp(p == FusedPrim::Max ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT, a, b);
        Value aNan = cmp(arith::CmpFPredicate::UNO, a, a);
        return select(b_.create<arith::OrIOp>(loc_, better, aNan), a, b);
      }
      case FusedPrim::Pow: return b_.create<math::PowFOp>(loc_, a, b);
      case FusedPrim::GeluGradTanh: {
        Value x2 = mul(a, a);
        Value t = tanh(mul(cst(c), add(a, mul(cst(k), mul(x2, a)))));
        Value left = mul(cst(0.5), add(cst(1.0), t));
        Value right = mul(mul(mul(cst(0.5), a), sub(cst(1.0), mul(t, t))), mul(cst(c), add(cst(1.0), mul(cst(3 * k), x2))));
        return mul(b, add(left, right));
      }
      case FusedPrim::GeluGradErf: {
        Value left = mul(cst(0.5), add(cst(1.0), erf(mul(a, cst(0.7071067811865476)))));
        Value right = mul(mul(a, exp(mul(cst(-0.5), mul(a, a)))), cst(0.3989422804014327));
        return mul(b, add(left, right));
      }
    }
    return a;
  }

  OpBuilder& b_;
  Location loc_;
};

void initializeLlvmOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

std::unique_ptr<MLIRContext> makeContext() {
  DialectRegistry registry;
  registry.insert<func::FuncDialect, arith::ArithDialect, linalg::LinalgDialect, memref::MemRefDialect,
                  scf::SCFDialect, cf::ControlFlowDialect, math::MathDialect, vector::VectorDialect,
                  LLVM::LLVMDialect>();
  registerLLVMDialectTranslation(registry);
  auto ctx = std::make_unique<MLIRContext>(registry, MLIRContext::Threading::DISABLED);
  ctx->loadAllAvailableDialects();
  return ctx;
}

Expected<OwningOpRef<ModuleOp>> buildModule(MLIRContext& ctx, const std::vector<FusedKernelPlan>& plans) {
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  for (const auto& p : plans) {
    if (p.operands.size() > 8) continue;  // the device runs these on the portable kernel
    auto e = FusedExpr::parse(p.expr, int(p.operands.size()));
    if (!e) return e.error();
    KernelBuilder kb(b, loc);
    if (p.sums) {
      kb.buildSum(p, *e, p.symbol, p.blockRows);
      if (p.tailRows > 0) kb.buildSum(p, *e, p.tailSymbol(), p.tailRows);
      continue;
    }
    kb.build(p, *e, p.symbol, p.blockRows);
    if (p.tailRows > 0) kb.build(p, *e, p.tailSymbol(), p.tailRows);
  }
  if (failed(verify(*module))) return makeError({}, "internal error: generated kernels do not verify");
  return module;
}

Status lowerToLlvmDialect(ModuleOp m) {
  {
    RewritePatternSet patterns(m.getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(m, std::move(patterns))))
      return makeError({}, "internal error: math approximation did not converge");
  }
  PassManager pm(m.getContext());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createMemRefToLLVMConversionPass());
  LowerToLLVMOptions options(m.getContext());
  options.useBarePtrCallConv = true;  // kernels take plain float pointers
  pm.addPass(createConvertFuncToLLVMPass(options));
  pm.addPass(cf::createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  if (failed(pm.run(m))) return makeError({}, "internal error: lowering the generated kernels to LLVM failed");
  return okStatus();
}

// LLVM 16 does not know every current CPU by name; the host's feature list is what turns on
// AVX-512 and friends.
struct HostTarget {
  std::string cpu, features;
  std::unique_ptr<llvm::TargetMachine> machine;
};

Expected<HostTarget> hostTarget() {
  initializeLlvmOnce();
  std::string triple = llvm::sys::getProcessTriple(), err;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target) return makeError({}, "no LLVM target for " + triple + ": " + err);
  HostTarget h;
  h.cpu = llvm::sys::getHostCPUName().str();
  llvm::SubtargetFeatures sf;
  llvm::StringMap<bool> hf;
  if (llvm::sys::getHostCPUFeatures(hf))
    for (auto& kv : hf) sf.AddFeature(kv.first(), kv.second);
  h.features = sf.getString();
  llvm::TargetOptions opts;
  h.machine.reset(target->createTargetMachine(triple, h.cpu, h.features, opts, llvm::Reloc::PIC_, std::nullopt,
                                              llvm::CodeGenOpt::Aggressive));
  if (!h.machine) return makeError({}, "cannot create an LLVM target machine for " + triple);
  return h;
}

class JitLibrary : public KernelLibrary {
 public:
  JitLibrary(std::unique_ptr<MLIRContext> ctx, std::unique_ptr<ExecutionEngine> engine, size_t kernels)
      : ctx_(std::move(ctx)), engine_(std::move(engine)), kernels_(kernels) {}
  void* lookup(const std::string& symbol) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(symbol);
    if (it != cache_.end()) return it->second;
    auto sym = engine_->lookup(symbol);
    void* p = nullptr;
    if (sym) p = *sym;
    else llvm::consumeError(sym.takeError());
    return cache_[symbol] = p;
  }
  std::string describe() const override { return std::to_string(kernels_) + " JIT-compiled kernel(s)"; }

 private:
  std::unique_ptr<MLIRContext> ctx_;
  std::unique_ptr<ExecutionEngine> engine_;
  size_t kernels_;
  mutable std::mutex mu_;
  mutable std::map<std::string, void*> cache_;
};

}  // namespace

Expected<std::string> fusedKernelsMlir(const std::vector<FusedKernelPlan>& plans) {
  auto ctx = makeContext();
  auto module = buildModule(*ctx, plans);
  if (!module) return module.error();
  std::string text;
  llvm::raw_string_ostream os(text);
  (*module)->print(os);
  return os.str();
}

Expected<std::string> emitFusedKernelObject(const std::vector<FusedKernelPlan>& plans) {
  auto ctx = makeContext();
  auto module = buildModule(*ctx, plans);
  if (!module) return module.error();
  if (auto s = lowerToLlvmDialect(**module); !s) return s.error();
  auto host = hostTarget();
  if (!host) return host.error();
  llvm::LLVMContext lctx;
  auto llmod = translateModuleToLLVMIR(**module, lctx, "kiln_kernels");
  if (!llmod) return makeError({}, "internal error: translating the generated kernels to LLVM IR failed");
  llmod->setTargetTriple(host->machine->getTargetTriple().str());
  llmod->setDataLayout(host->machine->createDataLayout());
  for (auto& fn : *llmod)
    if (!fn.isDeclaration()) {
      fn.addFnAttr("target-cpu", host->cpu);
      fn.addFnAttr("target-features", host->features);
    }
  auto optimize = makeOptimizingTransformer(3, 0, host->machine.get());
  if (auto err = optimize(llmod.get())) {
    std::string msg = llvm::toString(std::move(err));
    return makeError({}, "internal error: optimizing the generated kernels failed: " + msg);
  }
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager cg;
  if (host->machine->addPassesToEmitFile(cg, os, nullptr, llvm::CGFT_ObjectFile))
    return makeError({}, "LLVM cannot emit object code for this machine");
  cg.run(*llmod);
  return std::string(buffer.begin(), buffer.end());
}

Expected<std::shared_ptr<KernelLibrary>> jitFusedKernels(const std::vector<FusedKernelPlan>& plans) {
  auto ctx = makeContext();
  auto module = buildModule(*ctx, plans);
  if (!module) return module.error();
  if (auto s = lowerToLlvmDialect(**module); !s) return s.error();
  auto host = hostTarget();
  if (!host) return host.error();
  // ExecutionEngineOptions::transformer is a function_ref: the function must outlive create().
  auto optimize = makeOptimizingTransformer(3, 0, host->machine.get());
  ExecutionEngineOptions eo;
  eo.transformer = optimize;
  eo.jitCodeGenOptLevel = llvm::CodeGenOpt::Aggressive;
  auto engine = ExecutionEngine::create(**module, eo);
  if (!engine) {
    std::string msg = llvm::toString(engine.takeError());
    return makeError({}, "internal error: JIT compilation of the generated kernels failed: " + msg);
  }
  return std::shared_ptr<KernelLibrary>(std::make_shared<JitLibrary>(std::move(ctx), std::move(*engine), plans.size()));
}

}  // namespace kiln
