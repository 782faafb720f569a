// Codegen: loop IR -> one LLVM module for nvptx64-nvidia-cuda.
//
// Before: a loop-IR module (every Load/Store has one flat index, no tile operations).
// After: per ir::Kernel one `.entry` function (params in Kernel::params order,
// `.maxntid` = threads), dynamic shared memory as one extern addrspace(3) array,
// per-thread Local arrays as entry-block allocas (registers after SROA), the
// module verified and optimized at the target's level.
//
// Scalar variables live in entry-block allocas (mem2reg/SROA turn them into SSA);
// Unrolled loop variables are bound to constants instead, so that indices into
// Local arrays fold to constants and the arrays never touch local memory.
#include <llvm/BinaryFormat/Dwarf.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/DIBuilder.h>
#include <llvm/IR/DebugInfoMetadata.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/InlineAsm.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsNVPTX.h>
#include <llvm/IR/Metadata.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <cctype>
#include <cmath>
#include <functional>
#include <unordered_map>

#include "backend/LLVMSupport.h"
#include "backend/ValueReuse.h"
#include "ir/MathAlgorithms.h"
#include "ir/Target.h"

namespace tlc {

LLVMModule::~LLVMModule() = default;

std::string LLVMModule::text() const {
  if (!impl) return {};
  // The modules one after another, as the pipeline joins its groups' texts.
  std::string text;
  llvm::raw_string_ostream stream(text);
  for (size_t i = 0; i < impl->modules.size(); ++i) {
    if (i) stream << "\n";
    impl->modules[i]->print(stream, nullptr);
  }
  stream.flush();
  return text;
}

namespace {

constexpr unsigned kGlobalAddressSpace = 1;
constexpr unsigned kSharedAddressSpace = 3;

using ir::BinOp;
using ir::DType;

// `!{ptr @kernel, !"key", value}` in !nvvm.annotations: how NVPTX learns that a
// function is an entry and what its launch bounds are.
void addKernelAnnotation(llvm::Function& kernel, llvm::StringRef key, llvm::Metadata* value) {
  llvm::LLVMContext& context = kernel.getContext();
  llvm::NamedMDNode* annotations = kernel.getParent()->getOrInsertNamedMetadata("nvvm.annotations");
  annotations->addOperand(llvm::MDNode::get(
      context, {llvm::ValueAsMetadata::get(&kernel), llvm::MDString::get(context, key), value}));
}

llvm::Metadata* i32Metadata(llvm::LLVMContext& context, uint32_t value) {
  return llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(llvm::Type::getInt32Ty(context), value));
}

void markAsKernel(llvm::Function& function, int maxThreads) {
  llvm::LLVMContext& context = function.getContext();
  // Both spellings give `.entry` in LLVM 19; the calling convention is what newer
  // LLVMs keep, the annotation what LLVM 19's NVPTX passes still consult.
  function.setCallingConv(llvm::CallingConv::PTX_Kernel);
  addKernelAnnotation(function, "kernel", i32Metadata(context, 1));
  if (maxThreads > 0) addKernelAnnotation(function, "maxntidx", i32Metadata(context, (uint32_t)maxThreads));
  function.addFnAttr(llvm::Attribute::NoUnwind);
}

std::optional<int64_t> constantInt(const ir::ExprRef& e) {
  if (e && e->kind == ir::ExprKind::IntImm) return e->as<ir::IntImm>().value;
  return std::nullopt;
}

bool isComparison(BinOp op) {
  switch (op) {
    case BinOp::Lt: case BinOp::Le: case BinOp::Gt: case BinOp::Ge: case BinOp::Eq: case BinOp::Ne:
      return true;
    default:
      return false;
  }
}

// A variable is either an immutable value (a kernel parameter, an Unrolled loop
// variable) or a stack slot (locals, Serial loop variables).
struct VarBinding {
  llvm::Value* value = nullptr;
  llvm::AllocaInst* slot = nullptr;
};

bool isFloat8(DType t) { return t == DType::Float8E4M3 || t == DType::Float8E5M2; }

// -lineinfo: a compile unit whose debug info is only the `.file`/`.loc` directives
// (DebugDirectivesOnly: no .debug_info section, which ptxas would want -g for), one
// subprogram per kernel, and on each instruction the line of the statement it comes
// from. The file is named as given on the command line, in no directory, so the PTX
// is the same bytes wherever the build runs.
class LineTable {
 public:
  LineTable(llvm::Module& module, const TargetOptions& target) : builder_(module) {
    module.addModuleFlag(llvm::Module::Warning, "Debug Info Version", llvm::DEBUG_METADATA_VERSION);
    module.addModuleFlag(llvm::Module::Warning, "Dwarf Version", 2);
    file_ = builder_.createFile(target.sourceName, "");
    builder_.createCompileUnit(llvm::dwarf::DW_LANG_C, file_, "tlc", target.optLevel > 0, "", 0, "",
                               llvm::DICompileUnit::DebugDirectivesOnly);
  }
  llvm::DISubprogram* subprogramFor(llvm::Function& function, unsigned line) {
    llvm::DISubroutineType* type = builder_.createSubroutineType(builder_.getOrCreateTypeArray({}));
    llvm::DISubprogram* subprogram =
        builder_.createFunction(file_, function.getName(), function.getName(), file_, line, type, line,
                                llvm::DINode::FlagPrototyped, llvm::DISubprogram::SPFlagDefinition);
    function.setSubprogram(subprogram);
    return subprogram;
  }
  void finalize() { builder_.finalize(); }

 private:
  llvm::DIBuilder builder_;
  llvm::DIFile* file_ = nullptr;
};

class KernelEmitter {
 public:
  KernelEmitter(llvm::Module& module, const ir::Kernel& kernel, const TargetOptions& target, DiagnosticEngine& diags,
                LineTable* lineTable = nullptr)
      : module_(module), context_(module.getContext()), kernel_(kernel), target_(target), diags_(diags),
        builder_(context_, ReusingFolder(&reuse_), RecordingInserter(&reuse_)), lineTable_(lineTable) {
    reuse_.attach(&builder_);
  }

  void emit();

 private:
  // ---- types
  llvm::Type* elementType(DType t);  // a value's scalar type: Bool -> i1
  llvm::Type* memoryType(DType t);   // its in-memory type: Bool -> i8
  llvm::Type* valueType(DType t, int lanes) {
    llvm::Type* scalar = elementType(t);
    return lanes > 1 ? llvm::FixedVectorType::get(scalar, lanes) : scalar;
  }
  unsigned elementBytes(DType t) { return (unsigned)module_.getDataLayout().getTypeStoreSize(memoryType(t)); }

  // ---- variables and buffers
  llvm::AllocaInst* entryAlloca(llvm::Type* type, const llvm::Twine& name);
  llvm::AllocaInst* slotFor(const ir::VarRef& var);
  llvm::Value* elementAddress(const ir::Buffer& buffer, const std::vector<ir::ExprRef>& indices);
  llvm::Value* localArray(const ir::Buffer& buffer);
  llvm::Value* sharedBase();
  // A special register (threadIdx, blockIdx, ...), read once where one read dominates the rest.
  llvm::Value* specialRegister(llvm::Intrinsic::ID id);
  void emitIntrinsic(const ir::IntrinsicStmt& op);
  llvm::Value* sharedAddress32(const ir::ExprRef& byteOffset);
  void inlineAsm(const std::string& text, const std::string& constraints, const std::vector<llvm::Value*>& operands);
  llvm::Value* cachePolicy(int64_t hint);
  // A global load of `type` at `address` in inline PTX: with an L2 cache `policy`
  // (from cachePolicy; null for none), guarded by `predicate` (i1; null for none),
  // `fallback` (of `type`) being its value where the predicate is false.
  llvm::Type* loadType(const ir::LoadNode& load);  // the in-memory type it reads
  llvm::Value* inlineGlobalLoad(llvm::Type* type, llvm::Value* address, llvm::Value* policy,
                                llvm::Value* predicate, llvm::Value* fallback);
  // A global store of `value` at `address` with an L2 cache policy
  // (StoreStmt::cacheHint): `st.global.L2::cache_hint`, inline PTX.
  void hintedStore(llvm::Value* value, llvm::Value* address, int64_t hint);

  // ---- statements
  void emitStmt(const ir::StmtRef& stmt);
  void emitFor(const ir::ForStmt& loop);
  void emitSerialFor(const ir::ForStmt& loop);
  void emitUnrolledFor(const ir::ForStmt& loop);
  void emitIf(const ir::IfStmt& branch);
  void emitStore(const ir::StoreStmt& store);
  void emitAtomic(const ir::StoreStmt& store, llvm::Value* value, llvm::Value* address);
  void emitRelaxedAtomic(const ir::StoreStmt& store, llvm::Value* value, llvm::Value* address);
  void emitBarrier(const ir::BarrierStmt& barrier);

  // ---- expressions
  llvm::Value* emitExpr(const ir::ExprRef& expr);
  llvm::Value* emitExprOnce(const ir::ExprRef& expr);  // emitExpr without the statement's reuse
  bool reusable(const ir::ExprRef& expr);
  llvm::Value* emitCondition(const ir::ExprRef& expr);  // any scalar -> i1
  llvm::Value* emitVar(const ir::VarNode& var);
  llvm::Value* emitBinary(const ir::BinaryNode& node);
  llvm::Value* emitArithmetic(BinOp op, llvm::Value* a, llvm::Value* b, DType type);
  llvm::Value* emitComparison(BinOp op, llvm::Value* a, llvm::Value* b, DType type);
  llvm::Value* emitFloorDivMod(BinOp op, llvm::Value* a, llvm::Value* b, DType type);
  llvm::Value* emitPow(llvm::Value* base, llvm::Value* exponent, const ir::ExprRef& exponentExpr, DType type);
  llvm::Value* emitIntegerPowLoop(llvm::Value* base, llvm::Value* exponent);
  llvm::Value* emitUnary(const ir::UnaryNode& node);
  llvm::Value* emitCall(const ir::CallNode& node);
  llvm::Value* emitPrint(const ir::CallNode& node);
  llvm::Value* emitFloatMath(ir::Builtin builtin, llvm::Value* x, DType type);
  llvm::Value* emitMathCall(ir::Builtin builtin, const std::vector<llvm::Value*>& args, DType type);
  llvm::Value* emitFastMath(ir::Builtin builtin, llvm::Value* x);
  llvm::Value* emitLogFloat32(llvm::Value* x, bool base2);
  llvm::Value* emitLoad(const ir::LoadNode& load);
  llvm::Value* loadFromMemory(const ir::LoadNode& load);
  llvm::Value* convert(llvm::Value* value, DType from, DType to);
  llvm::Value* fp4ToFloat32(llvm::Value* code);
  llvm::Value* floatToFp4(llvm::Value* x);
  llvm::Value* convertE8m0(llvm::Value* value, DType from, DType to);
  llvm::Value* convertFp8(llvm::Value* value, DType from, DType to);
  llvm::Value* fp8ToHalf(llvm::Value* code, DType from);
  llvm::Value* float32ToFp8(llvm::Value* x, DType to);
  llvm::Value* laneByLane(llvm::Value* value, llvm::Type* resultLane,
                          const std::function<llvm::Value*(llvm::Value*)>& convertLane);
  llvm::Value* splatTo(llvm::Value* value, int lanes);
  llvm::Value* toMemory(llvm::Value* value, DType t);    // Bool i1 -> i8
  llvm::Value* fromMemory(llvm::Value* value, DType t);  // Bool i8 -> i1

  llvm::Value* unsupported(const std::string& what, llvm::Type* type) {
    diags_.error(currentRange_, what + " is not yet supported");
    return llvm::PoisonValue::get(type);
  }
  [[noreturn]] void internal(const std::string& message) { diags_.internalError(currentRange_, message); }

  llvm::Module& module_;
  llvm::LLVMContext& context_;
  const ir::Kernel& kernel_;
  const TargetOptions& target_;
  DiagnosticEngine& diags_;
  ValueReuse reuse_;  // before builder_, which holds its address
  ReusingIRBuilder builder_;
  llvm::Function* function_ = nullptr;
  llvm::BasicBlock* allocaBlock_ = nullptr;  // the entry block: allocas only, then a branch
  std::unordered_map<const ir::VarNode*, VarBinding> vars_;
  std::unordered_map<const ir::Buffer*, llvm::Value*> localArrays_;
  std::unordered_map<int64_t, llvm::Value*> cachePolicies_;  // by IntrinsicStmt::cacheHint
  std::unordered_map<unsigned, llvm::Value*> specialRegisters_;  // by intrinsic ID
  // The values of the statement being emitted, by expression node: lowering shares a
  // subexpression (a step's linear index, a guard's coordinates) between the index,
  // the value and the guard of a statement, and emitting it once keeps LLVM's input
  // small (emitExpr says when a value is reused). Cleared at every statement; a
  // node's value is kept with the block it was made in.
  struct StatementValue {
    llvm::BasicBlock* block;
    llvm::Value* value;
  };
  std::unordered_map<const ir::ExprNode*, StatementValue> statementValues_;
  std::unordered_map<const ir::ExprNode*, bool> reusable_;  // reusable(), by node
  SourceRange currentRange_ = kernel_.range;
  LineTable* lineTable_;                       // -lineinfo, else null
  int printsEmitted_ = 0;                      // names each print's format string
  llvm::DISubprogram* subprogram_ = nullptr;   // this kernel's, under -lineinfo

  // The statement being emitted: named by diagnostics, and under -lineinfo the
  // source line of every instruction made for it.
  void setCurrentRange(const SourceRange& range) {
    currentRange_ = range;
    if (subprogram_ && range.valid())
      builder_.SetCurrentDebugLocation(llvm::DILocation::get(context_, range.begin.line, range.begin.column, subprogram_));
  }
};

// ------------------------------------------------------------------- types

llvm::Type* KernelEmitter::elementType(DType t) {
  // The LLVM column of ir/DTypes.def: llvm::Type::get<LLVM>Ty, or a global pointer.
  auto pointer = [&]() -> llvm::Type* { return llvm::PointerType::get(context_, kGlobalAddressSpace); };
  switch (t) {
#define TLC_DTYPE(Id, Name, Bits, Class, Signed, StorageOnly, CType, TensorMap, Llvm) \
  case DType::Id: return TLC_LLVM_TYPE_##Llvm;
#define TLC_LLVM_TYPE_Ptr pointer()
#define TLC_LLVM_TYPE_Int1 llvm::Type::getInt1Ty(context_)
#define TLC_LLVM_TYPE_Int8 llvm::Type::getInt8Ty(context_)
#define TLC_LLVM_TYPE_Int16 llvm::Type::getInt16Ty(context_)
#define TLC_LLVM_TYPE_Int32 llvm::Type::getInt32Ty(context_)
#define TLC_LLVM_TYPE_Int64 llvm::Type::getInt64Ty(context_)
#define TLC_LLVM_TYPE_Half llvm::Type::getHalfTy(context_)
#define TLC_LLVM_TYPE_BFloat llvm::Type::getBFloatTy(context_)
#define TLC_LLVM_TYPE_Float llvm::Type::getFloatTy(context_)
#define TLC_LLVM_TYPE_Double llvm::Type::getDoubleTy(context_)
#include "ir/DTypes.def"
#undef TLC_LLVM_TYPE_Ptr
#undef TLC_LLVM_TYPE_Int1
#undef TLC_LLVM_TYPE_Int8
#undef TLC_LLVM_TYPE_Int16
#undef TLC_LLVM_TYPE_Int32
#undef TLC_LLVM_TYPE_Int64
#undef TLC_LLVM_TYPE_Half
#undef TLC_LLVM_TYPE_BFloat
#undef TLC_LLVM_TYPE_Float
#undef TLC_LLVM_TYPE_Double
  }
  internal("unknown dtype");
}

llvm::Type* KernelEmitter::memoryType(DType t) {
  return t == DType::Bool ? llvm::Type::getInt8Ty(context_) : elementType(t);
}

llvm::Value* KernelEmitter::toMemory(llvm::Value* value, DType t) {
  if (t != DType::Bool) return value;
  llvm::Type* type = value->getType()->isVectorTy()
                         ? (llvm::Type*)llvm::VectorType::get(builder_.getInt8Ty(),
                                                              llvm::cast<llvm::VectorType>(value->getType()))
                         : builder_.getInt8Ty();
  return builder_.CreateZExt(value, type);
}

llvm::Value* KernelEmitter::fromMemory(llvm::Value* value, DType t) {
  if (t != DType::Bool) return value;
  return builder_.CreateICmpNE(value, llvm::Constant::getNullValue(value->getType()));
}

llvm::Value* KernelEmitter::splatTo(llvm::Value* value, int lanes) {
  if (lanes <= 1 || value->getType()->isVectorTy()) return value;
  return builder_.CreateVectorSplat(lanes, value);
}

// ---------------------------------------------------------- variables, buffers

llvm::AllocaInst* KernelEmitter::entryAlloca(llvm::Type* type, const llvm::Twine& name) {
  // Allocas in the entry block are what mem2reg and SROA promote.
  llvm::IRBuilder<> entry(allocaBlock_);
  return entry.CreateAlloca(type, nullptr, name);
}

llvm::AllocaInst* KernelEmitter::slotFor(const ir::VarRef& var) {
  VarBinding& binding = vars_[var.get()];
  if (binding.value) internal("'" + var->name + "' is immutable here (a parameter or an unrolled loop variable)");
  if (!binding.slot) binding.slot = entryAlloca(elementType(var->dtype), var->name);
  return binding.slot;
}

llvm::Value* KernelEmitter::specialRegister(llvm::Intrinsic::ID id) {
  // The registers do not change during a thread's life: a read that dominates this
  // point serves it (not one hoisted to the entry block, which would change where
  // ptxas reads it and so the machine code).
  llvm::Value*& value = specialRegisters_[(unsigned)id];
  if (!value || !reuse_.dominatesInsertionPoint(llvm::cast<llvm::Instruction>(value)->getParent()))
    value = builder_.CreateIntrinsic(id, {}, {});
  return value;
}

llvm::Value* KernelEmitter::sharedBase() {
  // One extern array for the whole module, like CUDA's `extern __shared__`: the
  // launcher sets its size per kernel (Kernel::dynamicSharedBytes).
  if (llvm::GlobalVariable* existing = module_.getNamedGlobal(ir::kDynamicSharedSymbol)) return existing;
  auto* shared = new llvm::GlobalVariable(
      module_, llvm::ArrayType::get(builder_.getInt8Ty(), 0), /*isConstant=*/false,
      llvm::GlobalValue::ExternalLinkage, nullptr, ir::kDynamicSharedSymbol, nullptr,
      llvm::GlobalValue::NotThreadLocal, kSharedAddressSpace);
  // 1024 bytes: the strictest alignment TMA's 128-byte swizzle needs of a tile.
  shared->setAlignment(llvm::Align(1024));
  return shared;
}

llvm::Value* KernelEmitter::localArray(const ir::Buffer& buffer) {
  auto found = localArrays_.find(&buffer);
  if (found != localArrays_.end()) return found->second;
  int64_t elements = 1;
  if (buffer.scope == ir::MemScope::Fragment && buffer.layout.localSize > 0) {
    elements = buffer.layout.localSize;  // a fragment not yet rewritten: its per-thread part
  } else {
    for (const ir::ExprRef& extent : buffer.shape) {
      std::optional<int64_t> value = constantInt(extent);
      if (!value || *value < 0) internal("local buffer '" + buffer.name + "' needs a constant shape");
      elements *= *value;
    }
  }
  llvm::AllocaInst* array = entryAlloca(llvm::ArrayType::get(memoryType(buffer.dtype), (uint64_t)elements),
                                        buffer.name);
  array->setAlignment(llvm::Align(16));  // lets vector accesses into the array stay vectors
  localArrays_[&buffer] = array;
  return array;
}

llvm::Value* KernelEmitter::elementAddress(const ir::Buffer& buffer, const std::vector<ir::ExprRef>& indices) {
  if (indices.size() != 1) internal("loop IR access to '" + buffer.name + "' must have one flat index");
  const ir::ExprRef& indexExpr = indices[0];
  llvm::Value* index = emitExpr(indexExpr);
  if (!index->getType()->isIntegerTy()) internal("index into '" + buffer.name + "' is not an integer");
  // 64-bit offsets: a flat index times the element size may exceed 2^31 bytes.
  index = ir::isSigned(indexExpr->dtype) ? builder_.CreateSExt(index, builder_.getInt64Ty())
                                         : builder_.CreateZExt(index, builder_.getInt64Ty());
  llvm::Type* element = memoryType(buffer.dtype);
  if (buffer.dtype == DType::Float4E2M1) {
    unsupported(std::string("addressing ") + ir::name(buffer.dtype) + " elements (two per byte)", element);
  }
  switch (buffer.scope) {
    case ir::MemScope::Global: {
      if (!buffer.data) internal("global buffer '" + buffer.name + "' has no data pointer");
      llvm::Value* base = emitVar(*buffer.data);
      if (!base->getType()->isPointerTy()) internal("data of '" + buffer.name + "' is not a pointer");
      return builder_.CreateGEP(element, base, index, buffer.name);
    }
    case ir::MemScope::Shared: {
      if (buffer.sharedOffset < 0) internal("shared buffer '" + buffer.name + "' has no offset");
      llvm::Value* tile = builder_.CreateGEP(builder_.getInt8Ty(), sharedBase(),
                                             builder_.getInt64(buffer.sharedOffset), buffer.name + ".base");
      llvm::Value* address = builder_.CreateGEP(element, tile, index, buffer.name);
      if (!buffer.clusterRank) return address;
      // Another block's tile: `mapa` maps the generic address of our element to the
      // same element in the shared memory of the cluster's block of that rank
      // (distributed shared memory); ordinary generic loads and stores reach it.
      llvm::Value* generic = builder_.CreateAddrSpaceCast(address, llvm::PointerType::get(context_, 0));
      llvm::Value* rank = convert(emitExpr(buffer.clusterRank), buffer.clusterRank->dtype, DType::Int32);
      return builder_.CreateIntrinsic(llvm::Intrinsic::nvvm_mapa, {}, {generic, rank}, nullptr, buffer.name + ".remote");
    }
    case ir::MemScope::Local:
    case ir::MemScope::Fragment:
      return builder_.CreateInBoundsGEP(element, localArray(buffer), index, buffer.name);
  }
  internal("unknown memory scope");
}

// --------------------------------------------------------- async copies

// A shared-memory byte offset as the 32-bit shared-window address PTX wants: added in
// 32 bits to the window's base, one PTX instruction where a 64-bit pointer cost three
// (a widening, an add, a truncation) for the same value. No no-wrap flag: a lane that
// is masked off may compute any offset.
llvm::Value* KernelEmitter::sharedAddress32(const ir::ExprRef& byteOffset) {
  llvm::Value* offset = convert(emitExpr(byteOffset), byteOffset->dtype, DType::Int32);
  llvm::Value* base = builder_.CreatePtrToInt(sharedBase(), builder_.getInt32Ty());
  return builder_.CreateAdd(base, offset);
}

void KernelEmitter::inlineAsm(const std::string& text, const std::string& constraints,
                              const std::vector<llvm::Value*>& operands) {
  std::vector<llvm::Type*> types;
  for (llvm::Value* v : operands) types.push_back(v->getType());
  auto* asmType = llvm::FunctionType::get(builder_.getVoidTy(), types, false);
  // `~{memory}`: LLVM must not move other memory accesses across these operations.
  auto* code = llvm::InlineAsm::get(asmType, text, constraints + (constraints.empty() ? "" : ",") + "~{memory}",
                                    /*hasSideEffects=*/true);
  builder_.CreateCall(code, operands);
}

// The 64-bit L2 cache policy for an IntrinsicStmt::cacheHint, made once per kernel
// by `createpolicy` in the entry block (so it dominates every use): evict_first or
// evict_last for all of the accessed lines.
llvm::Value* KernelEmitter::cachePolicy(int64_t hint) {
  auto found = cachePolicies_.find(hint);
  if (found != cachePolicies_.end()) return found->second;
  std::optional<ir::EvictionPolicy> eviction = ir::evictionPolicyWithHint(hint);
  if (!eviction || *eviction == ir::EvictionPolicy::Normal) internal("unknown L2 cache hint");
  const char* priority = ir::name(*eviction);  // the PTX spelling (ir/EvictionPolicies.def)
  llvm::IRBuilder<> entry(allocaBlock_);
  auto* type = llvm::FunctionType::get(entry.getInt64Ty(), {}, false);
  auto* code = llvm::InlineAsm::get(type, std::string("createpolicy.fractional.L2::") + priority + ".b64 $0, 1.0;", "=l",
                                    /*hasSideEffects=*/false);
  llvm::Value* policy = entry.CreateCall(code, {}, std::string("policy.") + priority);
  cachePolicies_[hint] = policy;
  return policy;
}

// LLVM 19 has no intrinsic for the `.L2::cache_hint` forms of ld and st, nor for a
// predicated ld: inline PTX moves the access's bytes as integer registers (b8 through
// a 16-bit register, b16, b32, b64; a load of 8 or 16 bytes of narrower elements as
// v2.b32 / v4.b32, a store of 16 bytes as two 64-bit halves, v2.b64), and a bitcast
// gives them the access's type. The `~{memory}` clobber keeps LLVM from moving other
// memory accesses across them, as it would not move an ordinary volatile-free access
// either past an aliasing one; the store also counts as having side effects.
//
// A predicated load is one `@p ld.global` whose destination registers start with the
// fallback's bits (tied operands), so the code stays straight. A branch around an
// ordinary load gave the general variants a basic block for each element they read,
// and LLVM, NVPTX and ptxas spent time on each (docs/performance.md, Compile speed,
// twenty-first session). The call only reads memory: LLVM may drop it when unused,
// but not move it across a store or barrier that may alias.
llvm::Value* KernelEmitter::inlineGlobalLoad(llvm::Type* type, llvm::Value* address, llvm::Value* policy,
                                             llvm::Value* predicate, llvm::Value* fallback) {
  const unsigned bytes = (unsigned)module_.getDataLayout().getTypeStoreSize(type);
  if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8 && bytes != 16)
    internal("an inline global load of " + std::to_string(bytes) + " bytes");
  // Vectors of elements up to 4 bytes wide move in 32-bit registers (v2.b32, v4.b32),
  // which hold whole elements or pairs of them; 8-byte elements in 64-bit ones.
  const unsigned word = bytes <= 4 ? bytes : type->getScalarSizeInBits() == 64 ? 8 : 4;
  const unsigned registers = bytes / word;
  const std::string suffix = (registers > 1 ? "v" + std::to_string(registers) + "." : std::string()) + "b" +
                             std::to_string(8 * word);
  auto* i64 = builder_.getInt64Ty();
  llvm::Type* reg = word <= 2 ? builder_.getInt16Ty() : builder_.getIntNTy(8 * word);
  const std::string letter = word <= 2 ? "h" : word == 4 ? "r" : "l";
  // Operands: the destination registers, the address, the policy, the predicate (as
  // an i32 tested in the asm; LLVM 19 also takes an i1 in a predicate register, the
  // "b" constraint, but that changed the machine code of 115 outputs and saved no
  // compile time: twenty-second session), then the fallback's registers tied to the
  // destinations.
  std::string destinations, constraints;
  for (unsigned k = 0; k < registers; ++k) {
    destinations += (k ? ", $" : "$") + std::to_string(k);
    constraints += "=" + letter + ",";
  }
  if (registers > 1) destinations = "{" + destinations + "}";
  std::vector<llvm::Type*> types{i64};
  std::vector<llvm::Value*> operands{builder_.CreatePtrToInt(address, i64)};
  std::string access = std::string("ld.global") + (policy ? ".L2::cache_hint." : ".") + suffix + " " + destinations +
                       ", [$" + std::to_string(registers) + "]";
  constraints += "l";
  if (policy) {
    access += ", $" + std::to_string(registers + operands.size());
    operands.push_back(policy);
    types.push_back(i64);
    constraints += ",l";
  }
  access += ";";
  std::string text = access;
  if (predicate) {
    text = "{ .reg .pred p; setp.ne.u32 p, $" + std::to_string(registers + operands.size()) + ", 0; @p " + access + " }";
    operands.push_back(builder_.CreateZExt(predicate, builder_.getInt32Ty()));
    types.push_back(builder_.getInt32Ty());
    constraints += ",r";
    llvm::Type* wordType = builder_.getIntNTy(8 * word);
    llvm::Value* bits = builder_.CreateBitCast(
        fallback, registers > 1 ? (llvm::Type*)llvm::FixedVectorType::get(wordType, registers) : wordType);
    for (unsigned k = 0; k < registers; ++k) {
      llvm::Value* part = registers > 1 ? builder_.CreateExtractElement(bits, builder_.getInt32(k)) : bits;
      if (word == 1) part = builder_.CreateZExt(part, reg);
      operands.push_back(part);
      types.push_back(reg);
      constraints += "," + std::to_string(k);
    }
  }
  constraints += ",~{memory}";
  llvm::Type* result = reg;
  if (registers > 1) result = llvm::StructType::get(context_, std::vector<llvm::Type*>(registers, reg));
  auto* code = llvm::InlineAsm::get(llvm::FunctionType::get(result, types, false), text, constraints,
                                    /*hasSideEffects=*/false);
  llvm::CallInst* call = builder_.CreateCall(code, operands);
  call->setOnlyReadsMemory();
  if (registers > 1) {
    llvm::Value* vector = llvm::PoisonValue::get(llvm::FixedVectorType::get(reg, registers));
    for (unsigned k = 0; k < registers; ++k)
      vector = builder_.CreateInsertElement(vector, builder_.CreateExtractValue(call, k), builder_.getInt32(k));
    return builder_.CreateBitCast(vector, type);
  }
  llvm::Value* bits = call;
  if (bytes == 1) bits = builder_.CreateTrunc(bits, builder_.getInt8Ty());
  return builder_.CreateBitCast(bits, type);
}

void KernelEmitter::hintedStore(llvm::Value* value, llvm::Value* address, int64_t hint) {
  unsigned bytes = (unsigned)module_.getDataLayout().getTypeStoreSize(value->getType());
  llvm::Value* policy = cachePolicy(hint);
  llvm::Value* at = builder_.CreatePtrToInt(address, builder_.getInt64Ty());
  auto* i64 = builder_.getInt64Ty();
  if (bytes == 16) {
    llvm::Value* vector = builder_.CreateBitCast(value, llvm::FixedVectorType::get(i64, 2));
    inlineAsm("st.global.L2::cache_hint.v2.b64 [$0], {$1, $2}, $3;", "l,l,l,l",
            {at, builder_.CreateExtractElement(vector, builder_.getInt32(0)),
             builder_.CreateExtractElement(vector, builder_.getInt32(1)), policy});
    return;
  }
  const char* suffix = bytes == 1 ? "b8" : bytes == 2 ? "b16" : bytes == 4 ? "b32" : bytes == 8 ? "b64" : nullptr;
  if (!suffix) internal("an L2-hinted store of " + std::to_string(bytes) + " bytes");
  llvm::Value* bits = builder_.CreateBitCast(value, builder_.getIntNTy(8 * bytes));
  if (bytes == 1) bits = builder_.CreateZExt(bits, builder_.getInt16Ty());
  const char* constraint = bytes <= 2 ? "l,h,l" : bytes == 4 ? "l,r,l" : "l,l,l";
  inlineAsm(std::string("st.global.L2::cache_hint.") + suffix + " [$0], $1, $2;", constraint, {at, bits, policy});
}

void KernelEmitter::emitIntrinsic(const ir::IntrinsicStmt& op) {
  using ir::IntrinsicOp;
  auto i32 = [&](const ir::ExprRef& e) { return convert(emitExpr(e), e->dtype, DType::Int32); };
  auto mapAddress = [&]() -> llvm::Value* {
    if (!op.tensorMap) internal("tensor-map operation without a tensor map");
    for (size_t i = 0; i < kernel_.params.size(); ++i)
      if (kernel_.params[i].var == op.tensorMap)
        return builder_.CreatePtrToInt(function_->getArg((unsigned)i), builder_.getInt64Ty());
    internal("tensor map '" + op.tensorMap->name + "' is not a parameter");
  };
  auto coordList = [](size_t first, size_t count) {
    std::string s = "{";
    for (size_t i = 0; i < count; ++i) s += (i ? ", $" : "$") + std::to_string(first + i);
    return s + "}";
  };
  // eviction_policy= on a bulk tensor copy: `.L2::cache_hint` and one more operand,
  // the policy; returns its ", $n" for the operand list (empty without a hint).
  auto withCacheHint = [&](std::string& text, std::string& constraints, std::vector<llvm::Value*>& operands) {
    if (!op.cacheHint) return std::string();
    text += ".L2::cache_hint";
    constraints += ",l";
    operands.push_back(cachePolicy(op.cacheHint));
    return ", $" + std::to_string(operands.size() - 1);
  };
  switch (op.op) {
    case IntrinsicOp::MbarrierInit:
      inlineAsm("mbarrier.init.shared::cta.b64 [$0], $1;", "r,r", {sharedAddress32(op.args[0]), i32(op.args[1])});
      return;
    case IntrinsicOp::MbarrierArriveExpectTx:
      inlineAsm("mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r",
                {sharedAddress32(op.args[0]), i32(op.args[1])});
      return;
    case IntrinsicOp::MbarrierArrive:
      inlineAsm("mbarrier.arrive.shared::cta.b64 _, [$0];", "r", {sharedAddress32(op.args[0])});
      return;
    case IntrinsicOp::MbarrierExpectTx:
      inlineAsm("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [$0], $1;", "r,r",
                {sharedAddress32(op.args[0]), i32(op.args[1])});
      return;
    case IntrinsicOp::FenceMbarrierInit:
      inlineAsm("fence.mbarrier_init.release.cluster;", "", {});
      return;
    case IntrinsicOp::MbarrierWaitParity:
      // try_wait suspends for a while in hardware; the loop covers its time-outs.
      // Cluster scope where another block arrives on the barrier with release at
      // cluster scope (copy_cluster's remote_barrier=): the default is .acquire.cta.
      inlineAsm(
          std::string("{\n\t.reg .pred tlc_ready;\n"
                      "tlc_wait_${:uid}:\n\t"
                      "mbarrier.try_wait.parity") +
              (op.immediate ? ".acquire.cluster" : "") +
              ".shared::cta.b64 tlc_ready, [$0], $1;\n\t"
              "@!tlc_ready bra tlc_wait_${:uid};\n}",
          "r,r", {sharedAddress32(op.args[0]), i32(op.args[1])});
      return;
    case IntrinsicOp::MbarrierArriveRemote: {
      // One arrival on the barrier at the same offset in block `rank` (mapa gives
      // its shared::cluster address), released at cluster scope: this thread's
      // writes before it (and, through the block barrier before it, the block's)
      // are visible to that block's waiters, which acquire at cluster scope.
      int64_t bytes = 0;
      if (auto k = ir::asConstInt(op.args[2])) bytes = *k;
      std::string text = "{\n\t.reg .b32 tlc_bar;\n\tmapa.shared::cluster.u32 tlc_bar, $0, $1;\n\t";
      if (bytes)
        text += "mbarrier.arrive.expect_tx.release.cluster.shared::cluster.b64 _, [tlc_bar], $2;\n}";
      else
        text += "mbarrier.arrive.release.cluster.shared::cluster.b64 _, [tlc_bar];\n}";
      std::vector<llvm::Value*> operands = {sharedAddress32(op.args[0]), i32(op.args[1])};
      if (bytes) operands.push_back(i32(op.args[2]));
      inlineAsm(text, bytes ? "r,r,r" : "r,r", operands);
      return;
    }
    case IntrinsicOp::BulkCopyDsmem:
      // This block's shared::cta source into block `rank`'s shared memory: the
      // destination and the barrier, at the same offsets there, mapped with mapa.
      inlineAsm("{\n\t.reg .b32 tlc_dst, tlc_bar;\n\t"
                "mapa.shared::cluster.u32 tlc_dst, $0, $4;\n\t"
                "mapa.shared::cluster.u32 tlc_bar, $3, $4;\n\t"
                "cp.async.bulk.shared::cluster.shared::cta.mbarrier::complete_tx::bytes [tlc_dst], [$1], $2, [tlc_bar];\n}",
                "r,r,r,r,r",
                {sharedAddress32(op.args[0]), sharedAddress32(op.args[1]), i32(op.args[2]), sharedAddress32(op.args[3]),
                 i32(op.args[4])});
      return;
    case IntrinsicOp::TmaLoad: {
      size_t rank = op.args.size() - 2;
      std::vector<llvm::Value*> operands = {sharedAddress32(op.args[0]), mapAddress()};
      for (size_t i = 0; i < rank; ++i) operands.push_back(i32(op.args[2 + i]));
      operands.push_back(sharedAddress32(op.args[1]));
      std::string constraints = "r,l";
      for (size_t i = 0; i < rank + 1; ++i) constraints += ",r";
      std::string text = "cp.async.bulk.tensor." + std::to_string(rank) +
                         "d.shared::cluster.global.mbarrier::complete_tx::bytes";
      // A multicast writes the box, and signals the barrier, at the same shared
      // offsets in every block of the cluster whose bit is set in the 16-bit ctaMask.
      if (op.immediate) text += ".multicast::cluster";
      if (op.cacheHint) text += ".L2::cache_hint";
      text += " [$0], [$1, " + coordList(2, rank) + "], [$" + std::to_string(2 + rank) + "]";
      size_t next = 3 + rank;
      if (op.immediate) {
        text += ", $" + std::to_string(next++);
        operands.push_back(builder_.getInt16((uint16_t)op.immediate));
        constraints += ",h";
      }
      if (op.cacheHint) {
        text += ", $" + std::to_string(next);
        operands.push_back(cachePolicy(op.cacheHint));
        constraints += ",l";
      }
      inlineAsm(text + ";", constraints, operands);
      return;
    }
    case IntrinsicOp::TmaLoadIm2col: {
      // args: shared, barrier, coords c, w, h, n, im2col offsets w, h (16-bit).
      if (op.args.size() != 8) internal("an im2col TMA load takes 8 operands");
      std::vector<llvm::Value*> operands = {sharedAddress32(op.args[0]), mapAddress()};
      for (size_t i = 2; i < 6; ++i) operands.push_back(i32(op.args[i]));
      operands.push_back(sharedAddress32(op.args[1]));
      for (size_t i = 6; i < 8; ++i) operands.push_back(builder_.CreateTrunc(i32(op.args[i]), builder_.getInt16Ty()));
      std::string constraints = "r,l,r,r,r,r,r,h,h";
      std::string text = "cp.async.bulk.tensor.4d.shared::cluster.global.im2col.mbarrier::complete_tx::bytes";
      if (op.cacheHint) text += ".L2::cache_hint";
      text += " [$0], [$1, " + coordList(2, 4) + "], [$6], {$7, $8}";
      if (op.cacheHint) {
        text += ", $9";
        operands.push_back(cachePolicy(op.cacheHint));
        constraints += ",l";
      }
      inlineAsm(text + ";", constraints, operands);
      return;
    }
    case IntrinsicOp::TmaStore: {
      size_t rank = op.args.size() - 1;
      std::vector<llvm::Value*> operands = {mapAddress()};
      for (size_t i = 0; i < rank; ++i) operands.push_back(i32(op.args[1 + i]));
      operands.push_back(sharedAddress32(op.args[0]));
      std::string constraints = "l";
      for (size_t i = 0; i < rank + 1; ++i) constraints += ",r";
      std::string text = "cp.async.bulk.tensor." + std::to_string(rank) + "d.global.shared::cta.bulk_group";
      if (op.cacheHint) text += ".L2::cache_hint";
      text += " [$0, " + coordList(1, rank) + "], [$" + std::to_string(1 + rank) + "]";
      if (op.cacheHint) {
        text += ", $" + std::to_string(2 + rank);
        operands.push_back(cachePolicy(op.cacheHint));
        constraints += ",l";
      }
      inlineAsm(text + ";", constraints, operands);
      return;
    }
    case IntrinsicOp::BulkCommitGroup:
      inlineAsm("cp.async.bulk.commit_group;", "", {});
      return;
    case IntrinsicOp::BulkWaitGroupRead:
      inlineAsm("cp.async.bulk.wait_group.read " + std::to_string(op.immediate) + ";", "", {});
      return;
    case IntrinsicOp::BulkWaitGroup:
      inlineAsm("cp.async.bulk.wait_group " + std::to_string(op.immediate) + ";", "", {});
      return;
    case IntrinsicOp::PrefetchTensorMap:
      inlineAsm("prefetch.tensormap [$0];", "l", {mapAddress()});
      return;
    case IntrinsicOp::CpAsync: {
      if (!op.buffer) internal("cp.async without a source buffer");
      llvm::Value* source = builder_.CreatePtrToInt(elementAddress(*op.buffer, {op.args[1]}), builder_.getInt64Ty());
      // .cg (L2 only) exists for 16 bytes; smaller copies go through L1 (.ca).
      bool global = op.cacheOp == ir::IntrinsicStmt::CacheOp::CG ||
                    (op.cacheOp == ir::IntrinsicStmt::CacheOp::Auto && op.immediate == 16);
      std::string text = std::string(global ? "cp.async.cg" : "cp.async.ca") + ".shared.global";
      if (op.cacheHint) {
        text += ".L2::cache_hint [$0], [$1], " + std::to_string(op.immediate) + ", $2, $3;";
        inlineAsm(text, "r,l,r,l", {sharedAddress32(op.args[0]), source, i32(op.args[2]), cachePolicy(op.cacheHint)});
        return;
      }
      text += " [$0], [$1], " + std::to_string(op.immediate) + ", $2;";
      inlineAsm(text, "r,l,r", {sharedAddress32(op.args[0]), source, i32(op.args[2])});
      return;
    }
    case IntrinsicOp::CpAsyncCommitGroup:
      inlineAsm("cp.async.commit_group;", "", {});
      return;
    case IntrinsicOp::CpAsyncWaitGroup:
      inlineAsm("cp.async.wait_group " + std::to_string(op.immediate) + ";", "", {});
      return;
    // Blackwell (sm_100a) only; sema refuses them for other targets, and the
    // assembler checks them against sm_100a's rules (Retarget.cpp). The tensor
    // coordinates are the column, then the four rows.
    case IntrinsicOp::TmaGather4: {
      std::vector<llvm::Value*> operands = {sharedAddress32(op.args[1]), mapAddress()};
      for (size_t i = 2; i < 7; ++i) operands.push_back(i32(op.args[i]));
      operands.push_back(sharedAddress32(op.args[0]));
      std::string text = "cp.async.bulk.tensor.2d.shared::cluster.global.tile::gather4.mbarrier::complete_tx::bytes";
      std::string constraints = "r,l,r,r,r,r,r,r";
      std::string hint = withCacheHint(text, constraints, operands);  // the L2 priority of the reads
      inlineAsm(text + " [$0], [$1, " + coordList(2, 5) + "], [$7]" + hint + ";", constraints, operands);
      return;
    }
    // A plain bulk copy of one contiguous run (no tensor map): the lowering has
    // proved or tested that both addresses are 16-byte aligned, the size a multiple
    // of 16 and every byte inside the tensor.
    case IntrinsicOp::BulkLoad: {
      if (!op.buffer) internal("a bulk load without a global buffer");
      llvm::Value* source = builder_.CreatePtrToInt(elementAddress(*op.buffer, {op.args[2]}), builder_.getInt64Ty());
      std::vector<llvm::Value*> operands = {sharedAddress32(op.args[0]), source, i32(op.args[3]),
                                            sharedAddress32(op.args[1])};
      std::string text = "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes";
      std::string constraints = "r,l,r,r";
      std::string hint = withCacheHint(text, constraints, operands);
      inlineAsm(text + " [$0], [$1], $2, [$3]" + hint + ";", constraints, operands);
      return;
    }
    case IntrinsicOp::BulkStore: {
      if (!op.buffer) internal("a bulk store without a global buffer");
      llvm::Value* target = builder_.CreatePtrToInt(elementAddress(*op.buffer, {op.args[1]}), builder_.getInt64Ty());
      std::vector<llvm::Value*> operands = {target, sharedAddress32(op.args[0]), i32(op.args[2])};
      std::string text = "cp.async.bulk.global.shared::cta.bulk_group";
      std::string constraints = "l,r,r";
      std::string hint = withCacheHint(text, constraints, operands);
      inlineAsm(text + " [$0], [$1], $2" + hint + ";", constraints, operands);
      return;
    }
    case IntrinsicOp::TmaScatter4: {
      std::vector<llvm::Value*> operands = {mapAddress()};
      for (size_t i = 1; i < 6; ++i) operands.push_back(i32(op.args[i]));
      operands.push_back(sharedAddress32(op.args[0]));
      std::string text = "cp.async.bulk.tensor.2d.global.shared::cta.tile::scatter4.bulk_group";
      std::string constraints = "l,r,r,r,r,r,r";
      std::string hint = withCacheHint(text, constraints, operands);  // the L2 priority of the writes
      inlineAsm(text + " [$0, " + coordList(1, 5) + "], [$6]" + hint + ";", constraints, operands);
      return;
    }
  }
  internal("unknown intrinsic");
}

// ------------------------------------------------------------------ kernel

void KernelEmitter::emit() {
  std::vector<llvm::Type*> paramTypes;
  for (const ir::Param& param : kernel_.params) {
    if (!param.var) internal("parameter '" + param.name + "' has no variable");
    switch (param.kind) {
      case ir::ParamKind::Pointer:
        // No `noalias`: in-place kernels pass the same tensor twice.
        paramTypes.push_back(llvm::PointerType::get(context_, kGlobalAddressSpace));
        break;
      case ir::ParamKind::Dim:
        paramTypes.push_back(builder_.getInt32Ty());
        break;
      case ir::ParamKind::Scalar:
        // A bool argument is one byte in the launcher's argument buffer.
        paramTypes.push_back(memoryType(param.var->dtype));
        break;
      case ir::ParamKind::TensorMap:
        // 128 bytes by value (byval, made a grid constant below).
        paramTypes.push_back(llvm::PointerType::get(context_, 0));
        break;
    }
  }
  auto* type = llvm::FunctionType::get(builder_.getVoidTy(), paramTypes, /*isVarArg=*/false);
  if (module_.getFunction(kernel_.name)) internal("two kernels named '" + kernel_.name + "'");
  // The launcher looks the entry up by this exact name, so it must be a PTX
  // identifier as is (LLVM would otherwise rename it).
  bool validName = !kernel_.name.empty() && !std::isdigit((unsigned char)kernel_.name[0]);
  for (char c : kernel_.name) validName = validName && (std::isalnum((unsigned char)c) || c == '_' || c == '$');
  if (!validName) internal("kernel name '" + kernel_.name + "' is not a PTX identifier");
  function_ = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, kernel_.name, module_);
  markAsKernel(*function_, kernel_.threads);
  if (lineTable_) {
    subprogram_ = lineTable_->subprogramFor(*function_, kernel_.range.begin.line);
    setCurrentRange(kernel_.range);
  }
  std::vector<unsigned> tensorMaps;
  for (size_t i = 0; i < kernel_.params.size(); ++i)
    if (kernel_.params[i].kind == ir::ParamKind::TensorMap) tensorMaps.push_back((unsigned)i);
  // Without the annotation LLVM copies the map into local memory and TMA would be
  // handed a local address.
  markGridConstantParams(*function_, tensorMaps);

  allocaBlock_ = llvm::BasicBlock::Create(context_, "entry", function_);
  llvm::BasicBlock* body = llvm::BasicBlock::Create(context_, "body", function_);
  reuse_.enteredFrom(body, allocaBlock_);
  builder_.SetInsertPoint(body);

  for (size_t i = 0; i < kernel_.params.size(); ++i) {
    const ir::Param& param = kernel_.params[i];
    llvm::Argument* argument = function_->getArg((unsigned)i);
    argument->setName(param.name);
    llvm::Value* value = argument;
    if (param.kind == ir::ParamKind::Scalar) value = fromMemory(argument, param.var->dtype);
    if (param.kind == ir::ParamKind::Dim && param.var->dtype != DType::Int32)
      value = convert(argument, DType::Int32, param.var->dtype);
    vars_[param.var.get()].value = value;
  }

  for (const ir::BufferRef& buffer : kernel_.allocations)
    if (buffer && (buffer->scope == ir::MemScope::Local || buffer->scope == ir::MemScope::Fragment))
      localArray(*buffer);

  if (kernel_.body) emitStmt(kernel_.body);
  builder_.CreateRetVoid();
  llvm::BranchInst::Create(body, allocaBlock_);
}

// -------------------------------------------------------------- statements

void KernelEmitter::emitStmt(const ir::StmtRef& stmt) {
  if (!stmt) return;
  // A statement may change what an expression evaluates to (an assignment, a store,
  // the next binding of an unrolled loop's variable): values are reused only within one.
  statementValues_.clear();
  SourceRange outer = currentRange_;
  if (stmt->range.valid()) setCurrentRange(stmt->range);
  switch (stmt->kind) {
    case ir::StmtKind::Seq:
      for (const ir::StmtRef& child : stmt->as<ir::SeqStmt>().stmts) emitStmt(child);
      break;
    case ir::StmtKind::For:
      emitFor(stmt->as<ir::ForStmt>());
      break;
    case ir::StmtKind::If:
      emitIf(stmt->as<ir::IfStmt>());
      break;
    case ir::StmtKind::Let:
    case ir::StmtKind::Assign: {
      const ir::VarRef& var = stmt->kind == ir::StmtKind::Let ? stmt->as<ir::LetStmt>().var
                                                               : stmt->as<ir::AssignStmt>().var;
      const ir::ExprRef& valueExpr = stmt->kind == ir::StmtKind::Let ? stmt->as<ir::LetStmt>().value
                                                                      : stmt->as<ir::AssignStmt>().value;
      llvm::Value* value = convert(emitExpr(valueExpr), valueExpr->dtype, var->dtype);
      builder_.CreateStore(value, slotFor(var));
      break;
    }
    case ir::StmtKind::Store:
      emitStore(stmt->as<ir::StoreStmt>());
      break;
    case ir::StmtKind::Intrinsic:
      emitIntrinsic(stmt->as<ir::IntrinsicStmt>());
      break;
    case ir::StmtKind::Barrier:
      emitBarrier(stmt->as<ir::BarrierStmt>());
      break;
    case ir::StmtKind::Copy:
    case ir::StmtKind::Parallel:
    case ir::StmtKind::Fill:
    case ir::StmtKind::Reduce:
      internal("a tile operation reached the backend (the loop IR must have none)");
  }
  setCurrentRange(outer);
}

void KernelEmitter::emitFor(const ir::ForStmt& loop) {
  if (!loop.var || !loop.min || !loop.extent) internal("incomplete for loop");
  if (!ir::isInt(loop.var->dtype)) internal("loop variable '" + loop.var->name + "' is not an integer");
  if (loop.kind == ir::ForKind::Unrolled)
    emitUnrolledFor(loop);
  else
    emitSerialFor(loop);  // Pipelined has become Serial in lowering; treat a leftover alike
}

void KernelEmitter::emitSerialFor(const ir::ForStmt& loop) {
  DType type = loop.var->dtype;
  bool isSignedVar = ir::isSigned(type);
  llvm::Value* start = convert(emitExpr(loop.min), loop.min->dtype, type);
  llvm::Value* extent = convert(emitExpr(loop.extent), loop.extent->dtype, type);
  llvm::Value* step = loop.step ? convert(emitExpr(loop.step), loop.step->dtype, type)
                                : llvm::ConstantInt::get(elementType(type), 1);
  llvm::Value* end = builder_.CreateAdd(start, extent, loop.var->name + ".end");
  llvm::AllocaInst* slot = slotFor(loop.var);

  llvm::BasicBlock* preheader = builder_.GetInsertBlock();
  llvm::BasicBlock* header = llvm::BasicBlock::Create(context_, loop.var->name + ".header", function_);
  llvm::BasicBlock* body = llvm::BasicBlock::Create(context_, loop.var->name + ".body", function_);
  llvm::BasicBlock* exit = llvm::BasicBlock::Create(context_, loop.var->name + ".exit", function_);
  reuse_.enteredFrom(header, preheader);
  reuse_.enteredFrom(body, header);
  reuse_.enteredFrom(exit, header);
  builder_.CreateBr(header);

  // The trip is driven by a hidden counter, not by the variable's slot: as in
  // Python's `for`, an assignment to the variable in the body does not change
  // the iterations.
  builder_.SetInsertPoint(header);
  llvm::PHINode* counter = builder_.CreatePHI(elementType(type), 2, loop.var->name + ".counter");
  counter->addIncoming(start, preheader);
  llvm::Value* upward = isSignedVar ? builder_.CreateICmpSLT(counter, end) : builder_.CreateICmpULT(counter, end);
  llvm::Value* downward = isSignedVar ? builder_.CreateICmpSGT(counter, end) : builder_.CreateICmpUGT(counter, end);
  llvm::Value* inRange;
  if (auto* constantStep = llvm::dyn_cast<llvm::ConstantInt>(step)) {
    if (constantStep->isZero()) internal("for loop with step 0");
    inRange = constantStep->isNegative() && isSignedVar ? downward : upward;
  } else {
    llvm::Value* stepIsNegative = builder_.CreateICmpSLT(step, llvm::Constant::getNullValue(step->getType()));
    inRange = builder_.CreateSelect(stepIsNegative, downward, upward);
  }
  builder_.CreateCondBr(inRange, body, exit);

  builder_.SetInsertPoint(body);
  builder_.CreateStore(counter, slot);
  emitStmt(loop.body);
  llvm::Value* next = builder_.CreateAdd(counter, step, loop.var->name + ".next");
  counter->addIncoming(next, builder_.GetInsertBlock());
  llvm::BranchInst* backEdge = builder_.CreateBr(header);
  // Lowering kept this loop rolled to bound the compile (limits::UnrolledElementsPerThread);
  // LLVM's full unroll would undo that (a constant trip count over a local array
  // looks profitable to it), so the loop says not to.
  if (loop.keepRolled) {
    llvm::Metadata* disable = llvm::MDNode::get(context_, {llvm::MDString::get(context_, "llvm.loop.unroll.disable")});
    llvm::MDNode* id = llvm::MDNode::getDistinct(context_, {nullptr, disable});
    id->replaceOperandWith(0, id);
    backEdge->setMetadata(llvm::LLVMContext::MD_loop, id);
  }

  builder_.SetInsertPoint(exit);
}

void KernelEmitter::emitUnrolledFor(const ir::ForStmt& loop) {
  std::optional<int64_t> extent = constantInt(loop.extent);
  std::optional<int64_t> step = loop.step ? constantInt(loop.step) : std::optional<int64_t>(1);
  if (!extent) internal("unrolled loop over '" + loop.var->name + "' needs a constant extent");
  if (!step || *step == 0) internal("unrolled loop over '" + loop.var->name + "' needs a constant nonzero step");
  // Iterations of [min, min + extent) by step, for either sign of step.
  int64_t trips = 0;
  if (*step > 0 && *extent > 0) trips = (*extent + *step - 1) / *step;
  if (*step < 0 && *extent < 0) trips = (-*extent + -*step - 1) / -*step;

  DType type = loop.var->dtype;
  llvm::Value* start = convert(emitExpr(loop.min), loop.min->dtype, type);
  VarBinding& binding = vars_[loop.var.get()];
  VarBinding saved = binding;
  for (int64_t k = 0; k < trips; ++k) {
    // A constant when `min` is one: the IRBuilder folds the sum, and every index
    // computed from the variable folds with it.
    vars_[loop.var.get()] = VarBinding{
        builder_.CreateAdd(start, llvm::ConstantInt::get(elementType(type), k * *step, /*isSigned=*/true)),
        nullptr};
    emitStmt(loop.body);
  }
  vars_[loop.var.get()] = saved;
}

void KernelEmitter::emitIf(const ir::IfStmt& branch) {
  llvm::Value* condition = emitCondition(branch.cond);
  llvm::BasicBlock* thenBlock = llvm::BasicBlock::Create(context_, "then", function_);
  llvm::BasicBlock* merge = llvm::BasicBlock::Create(context_, "endif", function_);
  llvm::BasicBlock* elseBlock =
      branch.elseBody ? llvm::BasicBlock::Create(context_, "else", function_) : merge;
  for (llvm::BasicBlock* block : {thenBlock, elseBlock, merge}) reuse_.enteredFrom(block, builder_.GetInsertBlock());
  builder_.CreateCondBr(condition, thenBlock, elseBlock);
  builder_.SetInsertPoint(thenBlock);
  emitStmt(branch.thenBody);
  builder_.CreateBr(merge);
  if (branch.elseBody) {
    builder_.SetInsertPoint(elseBlock);
    emitStmt(branch.elseBody);
    builder_.CreateBr(merge);
  }
  builder_.SetInsertPoint(merge);
}

void KernelEmitter::emitStore(const ir::StoreStmt& store) {
  if (!store.buffer || !store.value) internal("incomplete store");
  llvm::BasicBlock* skip = nullptr;
  if (store.predicate) {
    // The index and value are computed only when the store happens: a masked-off
    // lane may have an out-of-bounds index and a value that reads out of bounds.
    llvm::Value* predicate = emitCondition(store.predicate);
    llvm::BasicBlock* doStore = llvm::BasicBlock::Create(context_, "store", function_);
    skip = llvm::BasicBlock::Create(context_, "store.done", function_);
    reuse_.enteredFrom(doStore, builder_.GetInsertBlock());
    reuse_.enteredFrom(skip, builder_.GetInsertBlock());
    builder_.CreateCondBr(predicate, doStore, skip);
    builder_.SetInsertPoint(doStore);
  }
  const ir::Buffer& buffer = *store.buffer;
  int lanes = store.value->lanes;
  llvm::Value* value = convert(emitExpr(store.value), store.value->dtype, buffer.dtype);
  value = toMemory(splatTo(value, lanes), buffer.dtype);
  llvm::Value* address = elementAddress(buffer, store.indices);
  unsigned align = store.alignBytes > 0 ? (unsigned)store.alignBytes : elementBytes(buffer.dtype);
  if (store.atomic != ir::AtomicOp::None) {
    emitAtomic(store, value, address);
  } else if (store.bitMask) {
    // Other threads may change the element's other bits meanwhile: clear ours, then
    // set them, each atomically. The two steps touch only our bits, so they commute
    // with every other thread's; NVPTX widens a byte-sized atomic to the aligned
    // 32-bit word around it (atom.and/or.b32), which keeps the other bytes as they are.
    if (lanes != 1) internal("an atomic store of bits must be scalar");
    llvm::Value* mask = toMemory(convert(emitExpr(store.bitMask), store.bitMask->dtype, buffer.dtype), buffer.dtype);
    if (!mask->getType()->isIntegerTy()) internal("an atomic store of bits to a buffer that is not integer");
    builder_.CreateAtomicRMW(llvm::AtomicRMWInst::And, address, builder_.CreateNot(mask, "keep"), llvm::MaybeAlign(align),
                             llvm::AtomicOrdering::Monotonic);
    builder_.CreateAtomicRMW(llvm::AtomicRMWInst::Or, address, builder_.CreateAnd(value, mask, "bits"),
                             llvm::MaybeAlign(align), llvm::AtomicOrdering::Monotonic);
  } else if (store.cacheHint && buffer.scope == ir::MemScope::Global) {
    hintedStore(value, address, store.cacheHint);
  } else {
    builder_.CreateAlignedStore(value, address, llvm::Align(align));
  }
  if (skip) {
    builder_.CreateBr(skip);
    builder_.SetInsertPoint(skip);
  }
}

// atomic_add / atomic_max / atomic_min (StoreStmt::atomic), relaxed at GPU scope
// (emitRelaxedAtomic), with emitAtomic's fences for a memory_order.
// An unused old value is `red` (inline PTX: NVPTX writes `atom` for every
// atomicrmw); a used one is LLVM's atomicrmw where NVPTX has it (integer add, max
// and min, float32 add: `atom.global.add.f32` ...), inline `atom` otherwise
// (float16 / bfloat16, float32 max / min). float32 max / min take integer
// instructions on the bits: floats of one sign order like their bits, as signed
// integers for >= +0 and reversed as unsigned ones for the negative, so
// max(x) = x >= +0 ? max.s32 : min.u32 and min(x) = x >= +0 ? min.s32 : max.u32 (NaN
// and -0.0 as their bits say: -0.0 < +0.0; src/interp does the same).
void KernelEmitter::emitAtomic(const ir::StoreStmt& store, llvm::Value* value, llvm::Value* address) {
  // memory_order: GPU-scope fences around the relaxed atomic (stronger than the
  // atom.release / atom.acquire forms would be, the same guarantees).
  using Order = ir::MemoryOrder;
  if (store.order == Order::Release || store.order == Order::AcqRel) inlineAsm("fence.acq_rel.gpu;", "", {});
  if (store.order == Order::SeqCst) inlineAsm("fence.sc.gpu;", "", {});
  emitRelaxedAtomic(store, value, address);
  if (store.order == Order::Acquire || store.order == Order::AcqRel || store.order == Order::SeqCst)
    inlineAsm("fence.acq_rel.gpu;", "", {});
}

void KernelEmitter::emitRelaxedAtomic(const ir::StoreStmt& store, llvm::Value* value, llvm::Value* address) {
  const ir::Buffer& buffer = *store.buffer;
  DType t = buffer.dtype;
  int lanes = store.value->lanes;
  bool global = buffer.scope == ir::MemScope::Global;
  if (!global && (buffer.scope != ir::MemScope::Shared || buffer.clusterRank))
    internal("an atomic on '" + buffer.name + "', which is not global or this block's shared memory");
  bool pair = lanes == 2 && (t == DType::Float16 || t == DType::BFloat16) && store.atomic == ir::AtomicOp::Add;
  if (lanes != 1 && !pair) internal("an atomic of " + std::to_string(lanes) + " lanes");
  const char* space = global ? ".global" : ".shared";
  llvm::Value* where = global ? builder_.CreatePtrToInt(address, builder_.getInt64Ty())
                              : builder_.CreatePtrToInt(address, builder_.getInt32Ty());
  const char* addressConstraint = global ? "l" : "r";
  // The value as the register PTX takes: .b16 (h) for a half, .b32 (r) for a pair
  // or an integer, .f32 (f).
  llvm::Value* operand = value;
  std::string valueConstraint;
  std::string type;
  switch (t) {
    case DType::Int32: valueConstraint = "r"; type = "s32"; break;
    case DType::UInt32: valueConstraint = "r"; type = "u32"; break;
    case DType::Float32: valueConstraint = "f"; type = "f32"; break;
    case DType::Float16:
    case DType::BFloat16:
      operand = builder_.CreateBitCast(value, pair ? builder_.getInt32Ty() : builder_.getInt16Ty());
      valueConstraint = pair ? "r" : "h";
      type = std::string("noftz.") + (t == DType::Float16 ? "f16" : "bf16") + (pair ? "x2" : "");
      break;
    default: internal(std::string("an atomic on ") + ir::name(t) + " (sema allows int32, uint32, float32, float16, bfloat16)");
  }
  bool add = store.atomic == ir::AtomicOp::Add, max = store.atomic == ir::AtomicOp::Max;
  bool floatOrder = t == DType::Float32 && !add;
  if (floatOrder) {
    operand = builder_.CreateBitCast(value, builder_.getInt32Ty());
    valueConstraint = "r";
  }
  if (!add && t != DType::Int32 && t != DType::UInt32 && t != DType::Float32)
    internal(std::string(ir::name(store.atomic)) + " on " + ir::name(t));
  std::string op = add ? "add" : max ? "max" : "min";
  // The float32 max / min pair of integer instructions, chosen by the sign bit.
  auto floatOrderText = [&](const std::string& head, const std::string& dst, int v) {
    std::string vs = "$" + std::to_string(v);
    return "{\n\t.reg .pred %neg;\n\tsetp.lt.s32 %neg, " + vs + ", 0;\n\t@!%neg " + head + "." +
           (max ? "max.s32 " : "min.s32 ") + dst + "[$" + std::to_string(v - 1) + "], " + vs + ";\n\t@%neg " + head + "." +
           (max ? "min.u32 " : "max.u32 ") + dst + "[$" + std::to_string(v - 1) + "], " + vs + ";\n\t}";
  };
  if (!store.result) {
    std::string head = std::string("red") + space;
    std::string text = floatOrder ? floatOrderText(head, "", 1) : head + "." + op + "." + type + " [$0], $1;";
    inlineAsm(text, std::string(addressConstraint) + "," + valueConstraint, {where, operand});
    return;
  }
  if (lanes != 1) internal("an atomic with a result of more than one lane");
  llvm::Value* old = nullptr;
  bool isInt = t == DType::Int32 || t == DType::UInt32;
  if (isInt || (t == DType::Float32 && add)) {
    using RMW = llvm::AtomicRMWInst;
    RMW::BinOp rmw = add ? (isInt ? RMW::Add : RMW::FAdd)
                         : t == DType::Int32 ? (max ? RMW::Max : RMW::Min) : (max ? RMW::UMax : RMW::UMin);
    old = builder_.CreateAtomicRMW(rmw, address, value, llvm::MaybeAlign(elementBytes(t)), llvm::AtomicOrdering::Monotonic);
  } else {
    std::string head = std::string("atom") + space;
    std::string text = floatOrder ? floatOrderText(head, "$0, ", 2) : head + "." + op + "." + type + " $0, [$1], $2;";
    std::string resultConstraint = floatOrder ? "r" : valueConstraint;
    auto* asmType = llvm::FunctionType::get(operand->getType(), {where->getType(), operand->getType()}, false);
    auto* code = llvm::InlineAsm::get(asmType, text, "=" + resultConstraint + "," + addressConstraint + "," + valueConstraint + ",~{memory}",
                                      /*hasSideEffects=*/true);
    old = builder_.CreateBitCast(builder_.CreateCall(code, {where, operand}), memoryType(t));
  }
  builder_.CreateStore(convert(old, t, store.result->dtype), slotFor(store.result));
}

void KernelEmitter::emitBarrier(const ir::BarrierStmt& barrier) {
  switch (barrier.barrier) {
    case ir::BarrierKind::SyncThreads:
      builder_.CreateIntrinsic(llvm::Intrinsic::nvvm_barrier0, {}, {});  // bar.sync 0
      return;
    case ir::BarrierKind::FenceProxyAsync: {
      // LLVM 19 has no intrinsic for it. `~{memory}` keeps shared-memory accesses
      // from moving across the fence.
      auto* fence = llvm::InlineAsm::get(llvm::FunctionType::get(builder_.getVoidTy(), false),
                                         "fence.proxy.async.shared::cta;", "~{memory}",
                                         /*hasSideEffects=*/true);
      builder_.CreateCall(fence);
      return;
    }
    case ir::BarrierKind::ClusterSync: {
      // Every thread of every block of the cluster arrives, then waits for all:
      // release on arrive, acquire on wait, so the writes (distributed shared memory
      // included) before it are visible to every thread of the cluster after it.
      // Not `.aligned`: a user's cluster_sync() need not be warp-convergent.
      auto* sync = llvm::InlineAsm::get(llvm::FunctionType::get(builder_.getVoidTy(), false),
                                        "barrier.cluster.arrive.release;\n\tbarrier.cluster.wait.acquire;", "~{memory}",
                                        /*hasSideEffects=*/true);
      builder_.CreateCall(sync);
      return;
    }
    case ir::BarrierKind::ClusterArrive:
    case ir::BarrierKind::ClusterWait: {
      // cluster_arrive() / cluster_wait(): the halves of cluster_sync, with its
      // release / acquire and, like it, not `.aligned`.
      bool arrive = barrier.barrier == ir::BarrierKind::ClusterArrive;
      auto* half = llvm::InlineAsm::get(llvm::FunctionType::get(builder_.getVoidTy(), false),
                                        arrive ? "barrier.cluster.arrive.release;" : "barrier.cluster.wait.acquire;",
                                        "~{memory}", /*hasSideEffects=*/true);
      builder_.CreateCall(half);
      return;
    }
  }
  internal("unknown barrier");
}

// ------------------------------------------------------------- expressions

llvm::Value* KernelEmitter::emitCondition(const ir::ExprRef& expr) {
  if (expr->lanes != 1) internal("a condition must be a scalar");
  return convert(emitExpr(expr), expr->dtype, DType::Bool);
}

llvm::Value* KernelEmitter::emitVar(const ir::VarNode& var) {
  auto found = vars_.find(&var);
  if (found == vars_.end() || (!found->second.value && !found->second.slot))
    internal("variable '" + var.name + "' is used but never defined");
  if (found->second.value) return found->second.value;
  return builder_.CreateLoad(found->second.slot->getAllocatedType(), found->second.slot, var.name);
}

namespace {

// The builtins that are not pure (ir/Builtins.def): every lane of a warp must reach
// shuffle_elect and shfl_bfly together, and print has an effect.
bool collectiveOrEffectful(ir::Builtin builtin) {
  return builtin == ir::Builtin::ShuffleElect || builtin == ir::Builtin::ShflBfly || builtin == ir::Builtin::Print;
}

}  // namespace

// Whether an expression's value may be reused for another occurrence of the same node
// in one statement: arithmetic on variables and constants. Not with a load inside (a
// guarded load may branch, and each read stays where the program puts it) nor a
// builtin that is collective or has an effect. Leaves are not kept: a constant costs
// nothing, a variable one load of its slot.
bool KernelEmitter::reusable(const ir::ExprRef& expr) {
  using ir::ExprKind;
  switch (expr->kind) {
    case ExprKind::IntImm:
    case ExprKind::FloatImm:
    case ExprKind::Var:
    case ExprKind::Load:
      return false;
    default:
      break;
  }
  auto known = reusable_.find(expr.get());
  if (known != reusable_.end()) return known->second;
  auto pure = [&](const ir::ExprRef& e) {
    return e->kind == ExprKind::IntImm || e->kind == ExprKind::FloatImm || e->kind == ExprKind::Var || reusable(e);
  };
  bool result = false;
  switch (expr->kind) {
    case ExprKind::Unary: result = pure(expr->as<ir::UnaryNode>().a); break;
    case ExprKind::Cast: result = pure(expr->as<ir::CastNode>().a); break;
    case ExprKind::Binary: {
      const auto& binary = expr->as<ir::BinaryNode>();
      result = pure(binary.a) && pure(binary.b);
      break;
    }
    case ExprKind::Select: {
      const auto& select = expr->as<ir::SelectNode>();
      result = pure(select.cond) && pure(select.t) && pure(select.f);
      break;
    }
    case ExprKind::Call: {
      const auto& call = expr->as<ir::CallNode>();
      result = !collectiveOrEffectful(call.builtin);
      for (const ir::ExprRef& arg : call.args) result = result && pure(arg);
      break;
    }
    default: break;
  }
  reusable_[expr.get()] = result;
  return result;
}

llvm::Value* KernelEmitter::emitExpr(const ir::ExprRef& expr) {
  if (!expr) internal("missing expression");
  if (!reusable(expr)) return emitExprOnce(expr);
  auto found = statementValues_.find(expr.get());
  if (found != statementValues_.end() && reuse_.dominatesInsertionPoint(found->second.block)) return found->second.value;
  llvm::Value* value = emitExprOnce(expr);
  statementValues_[expr.get()] = StatementValue{builder_.GetInsertBlock(), value};
  return value;
}

llvm::Value* KernelEmitter::emitExprOnce(const ir::ExprRef& expr) {
  switch (expr->kind) {
    case ir::ExprKind::IntImm: {
      const auto& imm = expr->as<ir::IntImm>();
      if (imm.dtype == DType::Bool) return builder_.getInt1(imm.value != 0);
      if (!ir::isInt(imm.dtype)) return convert(builder_.getInt64(imm.value), DType::Int64, imm.dtype);
      return llvm::ConstantInt::get(elementType(imm.dtype), (uint64_t)imm.value, ir::isSigned(imm.dtype));
    }
    case ir::ExprKind::FloatImm: {
      const auto& imm = expr->as<ir::FloatImm>();
      if (ir::isStorageOnly(imm.dtype))
        return unsupported(std::string("a ") + ir::name(imm.dtype) + " constant", elementType(imm.dtype));
      if (!ir::isFloat(imm.dtype))
        return convert(llvm::ConstantFP::get(builder_.getDoubleTy(), imm.value), DType::Float64, imm.dtype);
      return llvm::ConstantFP::get(elementType(imm.dtype), imm.value);
    }
    case ir::ExprKind::Var:
      return emitVar(expr->as<ir::VarNode>());
    case ir::ExprKind::Binary:
      return emitBinary(expr->as<ir::BinaryNode>());
    case ir::ExprKind::Unary:
      return emitUnary(expr->as<ir::UnaryNode>());
    case ir::ExprKind::Select: {
      const auto& node = expr->as<ir::SelectNode>();
      llvm::Value* condition = convert(emitExpr(node.cond), node.cond->dtype, DType::Bool);
      llvm::Value* whenTrue = splatTo(convert(emitExpr(node.t), node.t->dtype, node.dtype), node.lanes);
      llvm::Value* whenFalse = splatTo(convert(emitExpr(node.f), node.f->dtype, node.dtype), node.lanes);
      return builder_.CreateSelect(condition, whenTrue, whenFalse);
    }
    case ir::ExprKind::Cast: {
      const auto& node = expr->as<ir::CastNode>();
      return convert(emitExpr(node.a), node.a->dtype, node.dtype);
    }
    case ir::ExprKind::Call:
      return emitCall(expr->as<ir::CallNode>());
    case ir::ExprKind::Load:
      return emitLoad(expr->as<ir::LoadNode>());
  }
  internal("unknown expression kind");
}

llvm::Value* KernelEmitter::emitBinary(const ir::BinaryNode& node) {
  BinOp op = node.op;
  // The type the operation is done in: the result's, except for comparisons
  // (Bool result) where it is the operands' (the wider one, should they differ).
  DType operandType = node.dtype;
  if (isComparison(op)) {
    DType a = node.a->dtype, b = node.b->dtype;
    operandType = a;
    if (a != b && ((ir::isFloat(b) && !ir::isFloat(a)) || (ir::isFloat(b) == ir::isFloat(a) && ir::bits(b) > ir::bits(a))))
      operandType = b;
  } else if (op == BinOp::And || op == BinOp::Or) {
    operandType = DType::Bool;
  }
  int lanes = std::max(node.a->lanes, node.b->lanes);
  llvm::Value* a = splatTo(convert(emitExpr(node.a), node.a->dtype, operandType), lanes);
  llvm::Value* b = splatTo(convert(emitExpr(node.b), node.b->dtype, operandType), lanes);
  if (isComparison(op)) return emitComparison(op, a, b, operandType);
  if (op == BinOp::Pow) return emitPow(a, b, node.b, operandType);
  return emitArithmetic(op, a, b, operandType);
}

llvm::Value* KernelEmitter::emitComparison(BinOp op, llvm::Value* a, llvm::Value* b, DType type) {
  using P = llvm::CmpInst::Predicate;
  if (ir::isFloat(type)) {
    if (ir::isStorageOnly(type)) return unsupported(std::string("comparing ") + ir::name(type) + " values", builder_.getInt1Ty());
    // Ordered comparisons, except `!=`, which is true for NaN as in C and Python.
    P predicate = op == BinOp::Lt ? P::FCMP_OLT : op == BinOp::Le ? P::FCMP_OLE : op == BinOp::Gt ? P::FCMP_OGT
                : op == BinOp::Ge ? P::FCMP_OGE : op == BinOp::Eq ? P::FCMP_OEQ : P::FCMP_UNE;
    return builder_.CreateFCmp(predicate, a, b);
  }
  bool isSignedType = ir::isSigned(type);
  P predicate = op == BinOp::Lt ? (isSignedType ? P::ICMP_SLT : P::ICMP_ULT)
              : op == BinOp::Le ? (isSignedType ? P::ICMP_SLE : P::ICMP_ULE)
              : op == BinOp::Gt ? (isSignedType ? P::ICMP_SGT : P::ICMP_UGT)
              : op == BinOp::Ge ? (isSignedType ? P::ICMP_SGE : P::ICMP_UGE)
              : op == BinOp::Eq ? P::ICMP_EQ : P::ICMP_NE;
  return builder_.CreateICmp(predicate, a, b);
}

llvm::Value* KernelEmitter::emitArithmetic(BinOp op, llvm::Value* a, llvm::Value* b, DType type) {
  bool isFloatType = ir::isFloat(type);
  if (ir::isStorageOnly(type))
    return unsupported(std::string("arithmetic on ") + ir::name(type), a->getType());
  bool isSignedType = ir::isSigned(type);
  switch (op) {
    case BinOp::Add: return isFloatType ? builder_.CreateFAdd(a, b) : builder_.CreateAdd(a, b);
    case BinOp::Sub: return isFloatType ? builder_.CreateFSub(a, b) : builder_.CreateSub(a, b);
    case BinOp::Mul: return isFloatType ? builder_.CreateFMul(a, b) : builder_.CreateMul(a, b);
    case BinOp::Div:
      // Integer `/` is not produced by sema; if it appears, it truncates like C.
      if (isFloatType) return builder_.CreateFDiv(a, b);
      return isSignedType ? builder_.CreateSDiv(a, b) : builder_.CreateUDiv(a, b);
    case BinOp::FloorDiv:
    case BinOp::FloorMod:
      return emitFloorDivMod(op, a, b, type);
    case BinOp::Min:
      if (isFloatType) return builder_.CreateMinNum(a, b);
      return builder_.CreateBinaryIntrinsic(isSignedType ? llvm::Intrinsic::smin : llvm::Intrinsic::umin, a, b);
    case BinOp::Max:
      if (isFloatType) return builder_.CreateMaxNum(a, b);
      return builder_.CreateBinaryIntrinsic(isSignedType ? llvm::Intrinsic::smax : llvm::Intrinsic::umax, a, b);
    case BinOp::BitAnd: case BinOp::And: return builder_.CreateAnd(a, b);
    case BinOp::BitOr: case BinOp::Or: return builder_.CreateOr(a, b);
    case BinOp::BitXor: return builder_.CreateXor(a, b);
    case BinOp::Shl: return builder_.CreateShl(a, b);
    case BinOp::Shr: return isSignedType ? builder_.CreateAShr(a, b) : builder_.CreateLShr(a, b);
    default:
      break;
  }
  internal(std::string("binary operator '") + ir::spelling(op) + "' on " + ir::name(type));
}

llvm::Value* KernelEmitter::emitFloorDivMod(BinOp op, llvm::Value* a, llvm::Value* b, DType type) {
  if (ir::isFloat(type)) {
    llvm::Value* quotient = builder_.CreateUnaryIntrinsic(llvm::Intrinsic::floor, builder_.CreateFDiv(a, b));
    if (op == BinOp::FloorDiv) return quotient;
    return builder_.CreateFSub(a, builder_.CreateFMul(quotient, b));
  }
  if (!ir::isSigned(type))
    return op == BinOp::FloorDiv ? builder_.CreateUDiv(a, b) : builder_.CreateURem(a, b);
  // Python semantics: C's truncating sdiv/srem, corrected by one where the
  // remainder is nonzero and its sign differs from the divisor's. LLVM drops the
  // correction where it can prove the operands non-negative.
  llvm::Value* zero = llvm::Constant::getNullValue(a->getType());
  llvm::Value* remainder = builder_.CreateSRem(a, b);
  // Each operand named: C++ leaves the order of a call's arguments (so of these
  // instructions) to the compiler that built tlc, and the PTX must not depend on it.
  llvm::Value* inexact = builder_.CreateICmpNE(remainder, zero);
  llvm::Value* signsDiffer = builder_.CreateICmpSLT(builder_.CreateXor(remainder, b), zero);
  llvm::Value* needsCorrection = builder_.CreateAnd(inexact, signsDiffer);
  if (op == BinOp::FloorMod)
    return builder_.CreateSelect(needsCorrection, builder_.CreateAdd(remainder, b), remainder);
  llvm::Value* quotient = builder_.CreateSDiv(a, b);
  return builder_.CreateSub(quotient, builder_.CreateZExt(needsCorrection, a->getType()));
}

llvm::Value* KernelEmitter::emitIntegerPowLoop(llvm::Value* base, llvm::Value* exponent) {
  // Square-and-multiply; a negative exponent gives 1 (the loop does not run).
  llvm::Type* type = base->getType();
  llvm::BasicBlock* before = builder_.GetInsertBlock();
  llvm::BasicBlock* header = llvm::BasicBlock::Create(context_, "pow.header", function_);
  llvm::BasicBlock* body = llvm::BasicBlock::Create(context_, "pow.body", function_);
  llvm::BasicBlock* exit = llvm::BasicBlock::Create(context_, "pow.exit", function_);
  reuse_.enteredFrom(header, before);
  reuse_.enteredFrom(body, header);
  reuse_.enteredFrom(exit, header);
  builder_.CreateBr(header);
  builder_.SetInsertPoint(header);
  llvm::PHINode* result = builder_.CreatePHI(type, 2, "pow.result");
  llvm::PHINode* square = builder_.CreatePHI(type, 2, "pow.square");
  llvm::PHINode* remaining = builder_.CreatePHI(exponent->getType(), 2, "pow.exponent");
  result->addIncoming(llvm::ConstantInt::get(type, 1), before);
  square->addIncoming(base, before);
  remaining->addIncoming(exponent, before);
  llvm::Value* zero = llvm::Constant::getNullValue(exponent->getType());
  builder_.CreateCondBr(builder_.CreateICmpSGT(remaining, zero), body, exit);
  builder_.SetInsertPoint(body);
  llvm::Value* odd = builder_.CreateICmpNE(builder_.CreateAnd(remaining, 1), zero);
  result->addIncoming(builder_.CreateSelect(odd, builder_.CreateMul(result, square), result), body);
  square->addIncoming(builder_.CreateMul(square, square), body);
  remaining->addIncoming(builder_.CreateLShr(remaining, 1), body);
  builder_.CreateBr(header);
  builder_.SetInsertPoint(exit);
  return result;
}

llvm::Value* KernelEmitter::emitPow(llvm::Value* base, llvm::Value* exponent, const ir::ExprRef& exponentExpr,
                                    DType type) {
  if (ir::isStorageOnly(type)) return unsupported(std::string("** on ") + ir::name(type), base->getType());
  if (!ir::isFloat(type)) {
    if (base->getType()->isVectorTy()) return unsupported("integer ** on vectors", base->getType());
    return emitIntegerPowLoop(base, exponent);
  }
  // Small integral constant exponents are exact as products (x**2 is common).
  std::optional<double> constant;
  if (exponentExpr->kind == ir::ExprKind::FloatImm) constant = exponentExpr->as<ir::FloatImm>().value;
  if (auto c = constantInt(exponentExpr)) constant = (double)*c;
  if (constant && std::abs(*constant) <= 8 && *constant == (double)(int)*constant) {
    int n = (int)*constant;
    llvm::Value* product = llvm::ConstantFP::get(base->getType(), 1.0);
    for (int i = 0; i < std::abs(n); ++i) product = i == 0 ? base : builder_.CreateFMul(product, base);
    return n < 0 ? builder_.CreateFDiv(llvm::ConstantFP::get(base->getType(), 1.0), product) : product;
  }
  if (constant && *constant == 0.5 && !base->getType()->isVectorTy())
    return emitFloatMath(ir::Builtin::Sqrt, base, type);
  if (base->getType()->isVectorTy()) return unsupported("** on vectors", base->getType());
  // Sema allows float64 ** only with the exponents handled above (Analyzer::arith).
  if (type == DType::Float64) internal("float64 ** with a non-integral exponent");
  if (type == DType::Float16 || type == DType::BFloat16) {
    // Computed in float32: y * log2|x| in 16 bits would lose most of the result's bits.
    llvm::Type* f32 = builder_.getFloatTy();
    llvm::Value* wide = emitPow(builder_.CreateFPExt(base, f32), builder_.CreateFPExt(exponent, f32), exponentExpr,
                                DType::Float32);
    return builder_.CreateFPTrunc(wide, base->getType());
  }
  // General case: |x|**y = exp2(y * log2|x|); the sign is negative for a negative
  // base and an odd integral exponent, NaN for a negative base and a fractional
  // exponent; anything ** 0 is 1.
  llvm::Value* magnitude = emitFloatMath(
      ir::Builtin::Exp2,
      builder_.CreateFMul(exponent, emitFloatMath(ir::Builtin::Log2, emitFloatMath(ir::Builtin::Abs, base, type), type)),
      type);
  llvm::Type* t = base->getType();
  llvm::Value* zero = llvm::ConstantFP::get(t, 0.0);
  llvm::Value* integral = builder_.CreateFCmpOEQ(builder_.CreateUnaryIntrinsic(llvm::Intrinsic::trunc, exponent), exponent);
  llvm::Value* half = builder_.CreateFMul(exponent, llvm::ConstantFP::get(t, 0.5));
  llvm::Value* odd = builder_.CreateAnd(
      integral, builder_.CreateFCmpUNE(builder_.CreateUnaryIntrinsic(llvm::Intrinsic::trunc, half), half));
  llvm::Value* negativeBase = builder_.CreateFCmpOLT(base, zero);
  llvm::Value* flips = builder_.CreateAnd(negativeBase, odd);  // named: argument order is the compiler's
  llvm::Value* negated = builder_.CreateFNeg(magnitude);
  llvm::Value* signed_ = builder_.CreateSelect(flips, negated, magnitude);
  llvm::Value* fractional = builder_.CreateNot(integral);
  llvm::Value* result = builder_.CreateSelect(builder_.CreateAnd(negativeBase, fractional),
                                              llvm::ConstantFP::getNaN(t), signed_);
  return builder_.CreateSelect(builder_.CreateFCmpOEQ(exponent, zero), llvm::ConstantFP::get(t, 1.0), result);
}

llvm::Value* KernelEmitter::emitUnary(const ir::UnaryNode& node) {
  llvm::Value* a = emitExpr(node.a);
  switch (node.op) {
    case ir::UnOp::Neg:
      if (ir::isStorageOnly(node.dtype)) return unsupported(std::string("negating ") + ir::name(node.dtype), a->getType());
      return ir::isFloat(node.dtype) ? builder_.CreateFNeg(a) : builder_.CreateNeg(a);
    case ir::UnOp::BitNot:
      return builder_.CreateNot(a);
    case ir::UnOp::Not:
      return builder_.CreateNot(convert(a, node.a->dtype, DType::Bool));
  }
  internal("unknown unary operator");
}

namespace {
// The arithmetic of ir/MathAlgorithms.h as LLVM IR on scalars: float64 operations
// as the nvvm .rn intrinsics, which neither LLVM (AllowFPOpFusion::Fast) nor ptxas
// contracts, so the PTX performs exactly the roundings the algorithm writes.
// The arithmetic ir/MathAlgorithms.h is written over, building LLVM IR. The
// algorithms nest calls (`a.seli(a.ilt(s, a.i(0)), a.lshrv(p, ...), a.shlv(p, s))`),
// and C++ leaves the order of a call's arguments to the compiler (gcc and clang
// differ), so emitting as they are called would order the instructions, and the PTX,
// by the compiler that built tlc. Each operation makes a node of a graph instead;
// `emit` builds it in one canonical order: operands first, left to right.
struct IRArith {
  struct Node {
    std::function<llvm::Value*(const std::vector<llvm::Value*>&)> make;
    std::vector<std::shared_ptr<Node>> operands;
    llvm::Value* value = nullptr;  // a leaf's, or once emitted
  };
  using D = std::shared_ptr<Node>;
  using I = D;
  using B = D;
  llvm::IRBuilderBase& b;

  D leaf(llvm::Value* v) {
    auto n = std::make_shared<Node>();
    n->value = v;
    return n;
  }
  llvm::Value* emit(const D& n) {
    if (!n->value) {
      std::vector<llvm::Value*> values;
      for (const D& o : n->operands) values.push_back(emit(o));
      n->value = n->make(values);
    }
    return n->value;
  }
  D op(std::vector<D> operands, std::function<llvm::Value*(const std::vector<llvm::Value*>&)> make) {
    auto n = std::make_shared<Node>();
    n->operands = std::move(operands);
    n->make = std::move(make);
    return n;
  }
  D intrinsic(llvm::Intrinsic::ID id, std::vector<D> operands) {
    return op(std::move(operands), [this, id](const std::vector<llvm::Value*>& v) { return b.CreateIntrinsic(id, {}, v); });
  }
  using Values = const std::vector<llvm::Value*>&;

  D d(double c) { return leaf(llvm::ConstantFP::get(b.getDoubleTy(), c)); }
  I i(int64_t c) { return leaf(b.getInt64(uint64_t(c))); }
  D add(D x, D y) { return intrinsic(llvm::Intrinsic::nvvm_add_rn_d, {x, y}); }
  D sub(D x, D y) { return add(x, neg(y)); }
  D mul(D x, D y) { return intrinsic(llvm::Intrinsic::nvvm_mul_rn_d, {x, y}); }
  D div(D x, D y) { return intrinsic(llvm::Intrinsic::nvvm_div_rn_d, {x, y}); }
  D fma(D x, D y, D z) { return intrinsic(llvm::Intrinsic::nvvm_fma_rn_d, {x, y, z}); }
  D rint(D x) { return op({x}, [this](Values v) { return b.CreateUnaryIntrinsic(llvm::Intrinsic::rint, v[0]); }); }  // cvt.rni.f64.f64
  D abs(D x) { return op({x}, [this](Values v) { return b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, v[0]); }); }
  D neg(D x) { return op({x}, [this](Values v) { return b.CreateFNeg(v[0]); }); }
  B lt(D x, D y) { return op({x, y}, [this](Values v) { return b.CreateFCmpOLT(v[0], v[1]); }); }
  B eq(D x, D y) { return op({x, y}, [this](Values v) { return b.CreateFCmpOEQ(v[0], v[1]); }); }
  B isnan(D x) { return op({x}, [this](Values v) { return b.CreateFCmpUNO(v[0], v[0]); }); }
  B isinf(D x) { return op({abs(x), d(__builtin_inf())}, [this](Values v) { return b.CreateFCmpOEQ(v[0], v[1]); }); }
  B signbit(D x) { return op({bits(x), i(0)}, [this](Values v) { return b.CreateICmpSLT(v[0], v[1]); }); }
  D sel(B c, D x, D y) { return op({c, x, y}, [this](Values v) { return b.CreateSelect(v[0], v[1], v[2]); }); }
  I seli(B c, I x, I y) { return sel(c, x, y); }
  B band(B x, B y) { return op({x, y}, [this](Values v) { return b.CreateAnd(v[0], v[1]); }); }
  B bor(B x, B y) { return op({x, y}, [this](Values v) { return b.CreateOr(v[0], v[1]); }); }
  B bnot(B x) { return op({x}, [this](Values v) { return b.CreateNot(v[0]); }); }
  I bits(D x) { return op({x}, [this](Values v) { return b.CreateBitCast(v[0], b.getInt64Ty()); }); }
  D fromBits(I x) { return op({x}, [this](Values v) { return b.CreateBitCast(v[0], b.getDoubleTy()); }); }
  D toD(I x) { return op({x}, [this](Values v) { return b.CreateSIToFP(v[0], b.getDoubleTy()); }); }
  I toI(D x) { return op({x}, [this](Values v) { return b.CreateFPToSI(v[0], b.getInt64Ty()); }); }
  I iadd(I x, I y) { return op({x, y}, [this](Values v) { return b.CreateAdd(v[0], v[1]); }); }
  I isub(I x, I y) { return op({x, y}, [this](Values v) { return b.CreateSub(v[0], v[1]); }); }
  I imul(I x, I y) { return op({x, y}, [this](Values v) { return b.CreateMul(v[0], v[1]); }); }
  I iand(I x, I y) { return op({x, y}, [this](Values v) { return b.CreateAnd(v[0], v[1]); }); }
  I urem(I x, I y) { return op({x, y}, [this](Values v) { return b.CreateURem(v[0], v[1]); }); }
  I shl(I x, int n) { return op({x}, [this, n](Values v) { return b.CreateShl(v[0], uint64_t(n)); }); }
  I lshr(I x, int n) { return op({x}, [this, n](Values v) { return b.CreateLShr(v[0], uint64_t(n)); }); }
  // An amount outside [0, 63] gives 0 (the shift itself would be poison).
  I shlv(I x, I n) {
    return op({x, n}, [this](Values v) {
      llvm::Value* inRange = b.CreateICmpULT(v[1], b.getInt64(64));
      llvm::Value* amount = b.CreateAnd(v[1], b.getInt64(63));
      llvm::Value* shifted = b.CreateShl(v[0], amount);
      return b.CreateSelect(inRange, shifted, b.getInt64(0));
    });
  }
  I lshrv(I x, I n) {
    return op({x, n}, [this](Values v) {
      llvm::Value* inRange = b.CreateICmpULT(v[1], b.getInt64(64));
      llvm::Value* amount = b.CreateAnd(v[1], b.getInt64(63));
      llvm::Value* shifted = b.CreateLShr(v[0], amount);
      return b.CreateSelect(inRange, shifted, b.getInt64(0));
    });
  }
  B ilt(I x, I y) { return op({x, y}, [this](Values v) { return b.CreateICmpSLT(v[0], v[1]); }); }
  B ieq(I x, I y) { return op({x, y}, [this](Values v) { return b.CreateICmpEQ(v[0], v[1]); }); }
};
}  // namespace

llvm::Value* KernelEmitter::emitMathCall(ir::Builtin builtin, const std::vector<llvm::Value*>& args, DType type) {
  using ir::Builtin;
  llvm::Type* valueType = args[0]->getType();
  if (auto* vector = llvm::dyn_cast<llvm::FixedVectorType>(valueType)) {
    // Lane by lane: the algorithms below are scalar.
    llvm::Type* resultElement = ir::info(builtin).result == ir::BuiltinResult::Bool ? builder_.getInt1Ty()
                                                                                     : vector->getElementType();
    llvm::Value* result = llvm::PoisonValue::get(llvm::FixedVectorType::get(resultElement, vector->getNumElements()));
    for (unsigned lane = 0; lane < vector->getNumElements(); ++lane) {
      std::vector<llvm::Value*> scalars;
      for (llvm::Value* a : args) scalars.push_back(builder_.CreateExtractElement(a, lane));
      result = builder_.CreateInsertElement(result, emitMathCall(builtin, scalars, type), lane);
    }
    return result;
  }
  llvm::Type* f32 = builder_.getFloatTy();
  llvm::Type* f64 = builder_.getDoubleTy();
  bool narrow = type == DType::Float16 || type == DType::BFloat16;
  auto widen = [&](llvm::Value* v) { return narrow ? builder_.CreateFPExt(v, f32) : v; };
  auto narrowTo = [&](llvm::Value* v) { return narrow ? builder_.CreateFPTrunc(v, valueType) : v; };
  switch (builtin) {
    case Builtin::Isnan:
      return builder_.CreateFCmpUNO(args[0], args[0]);
    case Builtin::Isinf:
    case Builtin::Isfinite: {
      llvm::Value* magnitude = builder_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, widen(args[0]));
      llvm::Value* inf = llvm::ConstantFP::getInfinity(magnitude->getType());
      return builtin == Builtin::Isinf ? builder_.CreateFCmpOEQ(magnitude, inf) : builder_.CreateFCmpOLT(magnitude, inf);
    }
    case Builtin::Floor:
    case Builtin::Ceil:
    case Builtin::Trunc:
    case Builtin::Round:
    case Builtin::Nearbyint: {
      // Exact: float16 / bfloat16 through float32 (the integral result is representable).
      llvm::Intrinsic::ID id = builtin == Builtin::Floor  ? llvm::Intrinsic::floor
                               : builtin == Builtin::Ceil ? llvm::Intrinsic::ceil
                               : builtin == Builtin::Trunc ? llvm::Intrinsic::trunc
                               : builtin == Builtin::Round ? llvm::Intrinsic::round
                                                           : llvm::Intrinsic::roundeven;
      return narrowTo(builder_.CreateUnaryIntrinsic(id, widen(args[0])));
    }
    case Builtin::Sin:
    case Builtin::Cos:
    case Builtin::Erf:
    case Builtin::Sigmoid:
    case Builtin::Pow:
    case Builtin::Fmod: {
      if (type == DType::Float64) internal(std::string("float64 ") + ir::name(builtin));
      IRArith a{builder_};
      auto wide = [&](llvm::Value* v) { return builder_.CreateFPExt(widen(v), f64); };
      IRArith::D x = a.leaf(wide(args[0]));
      IRArith::D y = args.size() > 1 ? a.leaf(wide(args[1])) : nullptr;
      IRArith::D r;
      switch (builtin) {
        case Builtin::Sin: r = math::sinCosWide(a, x, false); break;
        case Builtin::Cos: r = math::sinCosWide(a, x, true); break;
        case Builtin::Erf: r = math::erfWide(a, x); break;
        case Builtin::Sigmoid: r = math::sigmoidWide(a, x); break;
        case Builtin::Pow: r = math::powWide(a, x, y); break;
        default: r = math::fmodWide(a, x, y); break;
      }
      return narrowTo(builder_.CreateFPTrunc(a.emit(r), f32));
    }
    case Builtin::FastExp:
    case Builtin::FastExp2:
    case Builtin::FastExp10:
    case Builtin::FastLog:
    case Builtin::FastLog2:
    case Builtin::FastLog10:
    case Builtin::FastSin:
    case Builtin::FastCos:
    case Builtin::FastTan:
      if (type == DType::Float64) internal(std::string("float64 ") + ir::name(builtin));
      return narrowTo(emitFastMath(builtin, widen(args[0])));
    default:
      if (args.size() != 1) internal(std::string(ir::name(builtin)) + " takes one argument");
      return emitFloatMath(builtin, args[0], type);
  }
}

llvm::Value* KernelEmitter::emitFastMath(ir::Builtin builtin, llvm::Value* x) {
  // float32 x; PTX's approximate instructions (no .ftz: subnormals are kept).
  using ir::Builtin;
  llvm::Type* f32 = builder_.getFloatTy();
  auto constant = [&](double c) { return llvm::ConstantFP::get(f32, c); };
  auto ex2 = [&](llvm::Value* v) { return builder_.CreateIntrinsic(llvm::Intrinsic::nvvm_ex2_approx_f, {}, {v}); };
  auto lg2 = [&](llvm::Value* v) { return builder_.CreateIntrinsic(llvm::Intrinsic::nvvm_lg2_approx_f, {}, {v}); };
  auto reduced = [&]() {
    // sin.approx / cos.approx are accurate on [-pi, pi] only: x - k 2pi, k = rint(x / 2pi),
    // with 2pi in three pieces (12 + 12 + 24 bits: k times the first two is exact for
    // |k| < 2^12, i.e. |x| < ~25700; beyond, the reduction's error grows with |x|).
    llvm::Value* k = builder_.CreateUnaryIntrinsic(llvm::Intrinsic::rint,
                                                   builder_.CreateFMul(x, constant(0.15915494309189535)));
    llvm::Value* negK = builder_.CreateFNeg(k);
    llvm::Value* r = x;
    for (double piece : {6.28125, 0.0019350051879882812, 3.019915981956753e-07})
      r = builder_.CreateIntrinsic(llvm::Intrinsic::fma, {f32}, {negK, constant(piece), r});
    return r;
  };
  switch (builtin) {
    case Builtin::FastExp2: return ex2(x);
    case Builtin::FastExp: return ex2(builder_.CreateFMul(x, constant(1.4426950408889634)));
    case Builtin::FastExp10: return ex2(builder_.CreateFMul(x, constant(3.321928094887362)));
    case Builtin::FastLog2: return lg2(x);
    case Builtin::FastLog: return builder_.CreateFMul(lg2(x), constant(0.6931471805599453));
    case Builtin::FastLog10: return builder_.CreateFMul(lg2(x), constant(0.30102999566398120));
    case Builtin::FastSin: return builder_.CreateIntrinsic(llvm::Intrinsic::nvvm_sin_approx_f, {}, {reduced()});
    case Builtin::FastCos: return builder_.CreateIntrinsic(llvm::Intrinsic::nvvm_cos_approx_f, {}, {reduced()});
    case Builtin::FastTan: {
      llvm::Value* r = reduced();
      // Named, not nested as arguments: C++ leaves argument order to the compiler, and
      // the instructions' order (so the PTX) must not depend on which one built tlc.
      llvm::Value* sine = builder_.CreateIntrinsic(llvm::Intrinsic::nvvm_sin_approx_f, {}, {r});
      llvm::Value* cosine = builder_.CreateIntrinsic(llvm::Intrinsic::nvvm_cos_approx_f, {}, {r});
      return builder_.CreateFDiv(sine, cosine);
    }
    default: internal(std::string("unexpected builtin ") + ir::name(builtin));
  }
}

llvm::Value* KernelEmitter::emitFloatMath(ir::Builtin builtin, llvm::Value* x, DType type) {
  using ir::Builtin;
  llvm::Type* resultType = x->getType();
  switch (builtin) {
    // Exact everywhere: computed in the value's own type.
    case Builtin::Abs: return builder_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
    default: break;
  }
  if (type == DType::Float64) {
    switch (builtin) {
      case Builtin::Sqrt: return builder_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x);
      case Builtin::Rsqrt:
        return builder_.CreateFDiv(llvm::ConstantFP::get(resultType, 1.0),
                                   builder_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x));
      default:
        // PTX has no float64 ex2/lg2; these need libdevice-style code. Sema allows
        // float64 only for the WithFloat64 rows of ir/Builtins.def.
        internal(std::string("float64 ") + ir::name(builtin));
    }
  }
  // float16 and bfloat16 are computed in float32 and rounded once at the end.
  llvm::Type* f32 = builder_.getFloatTy();
  llvm::Value* v = resultType->isFloatTy() ? x : builder_.CreateFPExt(x, f32);
  auto exp2 = [&](llvm::Value* y) {
    // ex2.approx.f32: at most 2 ulp; keeps subnormals (no .ftz). llvm.exp2 has no
    // NVPTX lowering in LLVM 19 (it becomes a libcall that does not exist).
    return builder_.CreateIntrinsic(llvm::Intrinsic::nvvm_ex2_approx_f, {}, {y});
  };
  auto constant = [&](double c) { return llvm::ConstantFP::get(f32, c); };
  // y + 64 as add.rn.f32, which neither LLVM nor ptxas contracts: fused with the
  // product that made y (fma(x, log2e, 64)) it would carry that product's rounding
  // error, which exp's `low` term already corrects (the H200 measured exp(-88.5) 7
  // subnormal ulp off until this was an explicit add).
  auto plus64 = [&](llvm::Value* y) {
    return builder_.CreateIntrinsic(llvm::Intrinsic::nvvm_add_rn_f, {}, {y, constant(64.0)});
  };
  llvm::Value* r = nullptr;
  switch (builtin) {
    case Builtin::Exp2: {
      // Subnormal results computed 2^64 higher and scaled back (see Exp).
      llvm::Value* tiny = builder_.CreateFCmpOLT(v, constant(-126.0));
      llvm::Value* power = exp2(builder_.CreateSelect(tiny, plus64(v), v));
      r = builder_.CreateSelect(tiny, builder_.CreateFMul(power, constant(0x1p-64)), power);
      break;
    }
    case Builtin::Exp: {
      // exp(x) = 2^(x*log2e), with x*log2e carried as hi + lo: rounding the product
      // alone costs up to |x*log2e| * 2^-24 of relative error (5e-6 near x = 88).
      // 2^hi * 2^lo ~= 2^hi + 2^hi * lo * ln2 since |lo| is tiny.
      const float log2eHigh = 1.44269502162933349609375f;  // float(log2 e)
      const double log2eLow = 1.4426950408889634 - (double)log2eHigh;
      llvm::Value* high = builder_.CreateFMul(v, constant(log2eHigh));
      llvm::Value* productError = builder_.CreateIntrinsic(llvm::Intrinsic::fma, {f32},
                                                           {v, constant(log2eHigh), builder_.CreateFNeg(high)});
      llvm::Value* low = builder_.CreateIntrinsic(llvm::Intrinsic::fma, {f32}, {v, constant(log2eLow), productError});
      // A subnormal 2^hi (hi < -126) is computed 2^64 higher and scaled back by one
      // multiply: ex2.approx's subnormal results are short of its 2 ulp (the H200 gave
      // exp(-89.1241) 8 subnormal ulp off). hi + 64 is exact there.
      llvm::Value* tiny = builder_.CreateFCmpOLT(high, constant(-126.0));
      llvm::Value* shifted = builder_.CreateSelect(tiny, plus64(high), high);
      llvm::Value* power = exp2(shifted);
      llvm::Value* corrected = builder_.CreateIntrinsic(
          llvm::Intrinsic::fma, {f32}, {power, builder_.CreateFMul(low, constant(0.6931471805599453)), power});
      // Past the float range 2^hi is 0 or inf already, and `low` is inf or NaN there.
      // The range is the shifted exponent's: subnormal results have hi down to -150,
      // below -128, and need the correction as much as any (the H200 measured
      // exp(-88.9488), hi = -128.3, 5 subnormal ulp off while this tested hi).
      llvm::Value* inRange =
          builder_.CreateFCmpOLT(builder_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, shifted), constant(128.0));
      llvm::Value* scaled = builder_.CreateSelect(inRange, corrected, power);
      r = builder_.CreateSelect(tiny, builder_.CreateFMul(scaled, constant(0x1p-64)), scaled);
      break;
    }
    case Builtin::Log2: r = emitLogFloat32(v, /*base2=*/true); break;
    case Builtin::Log: r = emitLogFloat32(v, /*base2=*/false); break;
    case Builtin::Sqrt: r = builder_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, v); break;  // sqrt.rn.f32
    case Builtin::Rsqrt:
      r = builder_.CreateFDiv(constant(1.0), builder_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, v));
      break;
    case Builtin::Tanh: {
      // tanh.approx.f32 is only good to ~2^-11. Instead: an odd polynomial near 0
      // (Cephes tanhf, |x| < 0.625), else 1 - 2/(e^{2|x|} + 1) with x's sign;
      // e^{2|x|} overflowing to inf gives exactly 1.
      llvm::Value* magnitude = builder_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, v);
      llvm::Value* z = builder_.CreateFMul(v, v);
      llvm::Value* poly = constant(-5.70498872745e-3);
      for (double c : {2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1})
        poly = builder_.CreateFAdd(builder_.CreateFMul(poly, z), constant(c));
      llvm::Value* small = builder_.CreateFAdd(builder_.CreateFMul(builder_.CreateFMul(poly, z), v), v);
      llvm::Value* e2x = exp2(builder_.CreateFMul(magnitude, constant(2.0 * 1.4426950408889634)));
      llvm::Value* large = builder_.CreateFSub(constant(1.0),
                                               builder_.CreateFDiv(constant(2.0), builder_.CreateFAdd(e2x, constant(1.0))));
      large = builder_.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, large, v);
      r = builder_.CreateSelect(builder_.CreateFCmpOLT(magnitude, constant(0.625)), small, large);
      break;
    }
    default:
      internal(std::string("unexpected builtin ") + ir::name(builtin));
  }
  return resultType->isFloatTy() ? r : builder_.CreateFPTrunc(r, resultType);
}

llvm::Value* KernelEmitter::emitLogFloat32(llvm::Value* x, bool base2) {
  // lg2.approx.f32 has an absolute error of ~2^-22, i.e. a large relative error
  // for x near 1 (1e-5 measured for log(0.997)). Instead, like libm: x = m * 2^e
  // with m in [sqrt(1/2), sqrt(2)), and log(m) = 2 atanh(u), u = (m-1)/(m+1),
  // |u| <= 0.1716, by its odd series through u^11 (the next term is below 2^-30
  // of the sum). Within ~2 ulp on the whole range.
  llvm::Type* f32 = builder_.getFloatTy();
  llvm::Type* i32 = builder_.getInt32Ty();
  auto constant = [&](double c) { return llvm::ConstantFP::get(f32, c); };
  auto fma = [&](llvm::Value* a, llvm::Value* b, llvm::Value* c) {
    return builder_.CreateIntrinsic(llvm::Intrinsic::fma, {f32}, {a, b, c});
  };
  // Subnormals: scale by 2^23 first so the exponent field holds the exponent.
  llvm::Value* subnormal = builder_.CreateFCmpOLT(x, constant(1.1754943508222875e-38));
  llvm::Value* scaled = builder_.CreateSelect(subnormal, builder_.CreateFMul(x, constant(8388608.0)), x);
  llvm::Value* bits = builder_.CreateBitCast(scaled, i32);
  llvm::Value* exponent = builder_.CreateSub(builder_.CreateLShr(bits, 23), builder_.getInt32(127));
  exponent = builder_.CreateSub(exponent, builder_.CreateSelect(subnormal, builder_.getInt32(23), builder_.getInt32(0)));
  llvm::Value* mantissa = builder_.CreateBitCast(
      builder_.CreateOr(builder_.CreateAnd(bits, builder_.getInt32(0x007fffff)), builder_.getInt32(0x3f800000)), f32);
  llvm::Value* large = builder_.CreateFCmpOGE(mantissa, constant(1.4142135623730951));
  mantissa = builder_.CreateSelect(large, builder_.CreateFMul(mantissa, constant(0.5)), mantissa);
  exponent = builder_.CreateAdd(exponent, builder_.CreateZExt(large, i32));
  llvm::Value* e = builder_.CreateSIToFP(exponent, f32);
  // m - 1 is exact (Sterbenz); the division is IEEE (div.rn).
  // (Each operand named: C++ leaves the order of a call's arguments, so of these
  // instructions, to the compiler that built tlc.)
  llvm::Value* numerator = builder_.CreateFSub(mantissa, constant(1.0));
  llvm::Value* denominator = builder_.CreateFAdd(mantissa, constant(1.0));
  llvm::Value* u = builder_.CreateFDiv(numerator, denominator);
  llvm::Value* u2 = builder_.CreateFMul(u, u);
  llvm::Value* series = constant(2.0 / 11);
  for (double c : {2.0 / 9, 2.0 / 7, 2.0 / 5, 2.0 / 3}) series = fma(series, u2, constant(c));
  // log(m) = 2u + u * u2 * series
  llvm::Value* u3 = builder_.CreateFMul(u, u2);
  llvm::Value* twoU = builder_.CreateFAdd(u, u);
  llvm::Value* logMantissa = fma(u3, series, twoU);
  llvm::Value* result;
  if (base2) {
    result = fma(logMantissa, constant(1.4426950408889634), e);
  } else {
    // ln2 = high + low, high with trailing zero bits so e * high is exact.
    const float ln2High = 0.693145751953125f;
    result = fma(e, constant(ln2High), fma(e, constant(0.6931471805599453 - (double)ln2High), logMantissa));
  }
  // Special values: log(+inf) = +inf, log(+-0) = -inf, log(x < 0) = log(NaN) = NaN.
  result = builder_.CreateSelect(builder_.CreateFCmpOEQ(x, constant(INFINITY)), x, result);
  result = builder_.CreateSelect(builder_.CreateFCmpOEQ(x, constant(0.0)), constant(-INFINITY), result);
  return builder_.CreateSelect(builder_.CreateFCmpOGE(x, constant(0.0)), result, llvm::ConstantFP::getNaN(f32));
}

// print(...): vprintf(format, buffer), as CUDA C's printf lowers it. The buffer holds
// the values at their natural alignment (a struct): the block's and thread's indices,
// then each argument, integers as int32 / uint32 (narrower ones widened) or int64 /
// uint64, bool as int32, floats as double. The format (the labels, the message) is a
// constant; a '%' in them is escaped.
llvm::Value* KernelEmitter::emitPrint(const ir::CallNode& node) {
  auto escape = [](const std::string& text) {
    std::string out;
    for (char c : text) out += c == '%' ? std::string("%%") : std::string(1, c);
    return out;
  };
  std::string format = "[block (%d, %d, %d) thread %d]";
  if (!node.strings.empty() && !node.strings[0].empty()) format += " " + escape(node.strings[0]);
  std::vector<llvm::Value*> values = {
      specialRegister(llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x),
      specialRegister(llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_y),
      specialRegister(llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_z),
      specialRegister(llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x)};
  for (size_t i = 0; i < node.args.size(); ++i) {
    const ir::ExprRef& arg = node.args[i];
    DType t = arg->dtype;
    llvm::Value* v = emitExpr(arg);
    std::string spec;
    if (ir::isFloat(t)) {
      v = convert(v, t, DType::Float64);
      spec = "%g";
    } else if (t == DType::Bool) {
      v = convert(v, t, DType::Int32);
      spec = "%d";
    } else if (ir::bits(t) == 64) {
      spec = ir::isSigned(t) ? "%lld" : "%llu";
    } else {
      v = convert(v, t, ir::isSigned(t) ? DType::Int32 : DType::UInt32);
      spec = ir::isSigned(t) ? "%d" : "%u";
    }
    values.push_back(v);
    const std::string label = i + 1 < node.strings.size() ? node.strings[i + 1] : "?";
    format += (i ? ", " : " ") + escape(label) + " = " + spec;
  }
  format += "\n";
  std::vector<llvm::Type*> fields;
  for (llvm::Value* v : values) fields.push_back(v->getType());
  llvm::StructType* layout = llvm::StructType::get(context_, fields);
  llvm::AllocaInst* buffer = entryAlloca(layout, "tlc_print_args");
  for (size_t i = 0; i < values.size(); ++i) builder_.CreateStore(values[i], builder_.CreateStructGEP(layout, buffer, (unsigned)i));
  // The format in the constant space, seen through a generic pointer (what vprintf takes).
  // Named `tlc_print_format_<variant>_<n>`, the variant's n-th print: the file's kernels
  // are generated into several modules whose PTX is joined into one ptxas input, where
  // a second `tlc_print_format` was a duplicate definition (LLVM makes names unique
  // only within a module, by a suffix that could meet another kernel's name). The
  // trailing number can be split off the name, so no two prints share one, and the
  // prefix is reserved (ir::kGeneratedSymbolPrefix): no kernel is named so.
  const std::string symbol = std::string(ir::kGeneratedSymbolPrefix) + "print_format_" + kernel_.name + "_" +
                             std::to_string(printsEmitted_++);
  llvm::GlobalVariable* text = builder_.CreateGlobalString(format, symbol, /*AddressSpace=*/4, &module_);
  llvm::Value* generic = builder_.CreateAddrSpaceCast(text, builder_.getPtrTy(0));
  llvm::FunctionCallee vprintf = module_.getOrInsertFunction(
      "vprintf", llvm::FunctionType::get(builder_.getInt32Ty(), {builder_.getPtrTy(0), builder_.getPtrTy(0)}, false));
  return builder_.CreateCall(vprintf, {generic, buffer});
}

llvm::Value* KernelEmitter::emitCall(const ir::CallNode& node) {
  using ir::Builtin;
  switch (node.builtin) {
    case Builtin::Print:
      return emitPrint(node);
    case Builtin::ThreadIdx:
    case Builtin::BlockIdx: {
      static const llvm::Intrinsic::ID threadIds[3] = {llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x,
                                                       llvm::Intrinsic::nvvm_read_ptx_sreg_tid_y,
                                                       llvm::Intrinsic::nvvm_read_ptx_sreg_tid_z};
      static const llvm::Intrinsic::ID blockIds[3] = {llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x,
                                                      llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_y,
                                                      llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_z};
      if (node.dim < 0 || node.dim > 2) internal("thread/block index dimension out of range");
      llvm::Intrinsic::ID id = node.builtin == Builtin::ThreadIdx ? threadIds[node.dim] : blockIds[node.dim];
      return convert(specialRegister(id), DType::Int32, node.dtype);
    }
    case Builtin::ShuffleElect: {
      // One thread of each group of n: the group's first warp (a warp-uniform test),
      // and in it the lane elect.sync picks. Every lane of that warp must be here.
      auto n = node.args.size() == 1 ? ir::asConstInt(node.args[0]) : std::nullopt;
      if (!n || *n <= 0 || *n % 32 != 0) internal("shuffle_elect needs a positive multiple of 32");
      auto* electType = llvm::FunctionType::get(builder_.getInt32Ty(), false);
      auto* elect = llvm::InlineAsm::get(electType,
                                         "{\n\t.reg .pred tlc_elected;\n\t"
                                         "elect.sync _|tlc_elected, 0xffffffff;\n\t"
                                         "selp.u32 $0, 1, 0, tlc_elected;\n}",
                                         "=r", /*hasSideEffects=*/true, /*isAlignStack=*/false,
                                         llvm::InlineAsm::AD_ATT, /*canThrow=*/false);
      llvm::Value* elected = builder_.CreateICmpNE(builder_.CreateCall(elect), builder_.getInt32(0));
      if (*n == 32) return elected;
      llvm::Value* tid = specialRegister(llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x);
      llvm::Value* warpInGroup = builder_.CreateURem(builder_.CreateLShr(tid, 5), builder_.getInt32((uint32_t)(*n / 32)));
      return builder_.CreateAnd(builder_.CreateICmpEQ(warpInGroup, builder_.getInt32(0)), elected);
    }
    case Builtin::ShflBfly: {
      // shfl.sync.bfly over the whole warp (lowering emits it only where every lane
      // is there). The instruction moves 32 bits: narrower values go widened (floats
      // to f32, integers sign- or zero-extended), 64-bit ones as two halves.
      auto mask = node.args.size() == 2 ? ir::asConstInt(node.args[1]) : std::nullopt;
      if (!mask || *mask < 1 || *mask > 31) internal("shfl_bfly needs a constant lane mask in [1, 31]");
      DType t = node.dtype;
      llvm::Value* x = emitExpr(node.args[0]);
      llvm::Value* full = builder_.getInt32(0xffffffffu);
      llvm::Value* laneMask = builder_.getInt32((uint32_t)*mask);
      llvm::Value* clamp = builder_.getInt32(0x1f);
      auto shuffleI32 = [&](llvm::Value* v) {
        return builder_.CreateIntrinsic(llvm::Intrinsic::nvvm_shfl_sync_bfly_i32, {}, {full, v, laneMask, clamp});
      };
      if (ir::isFloat(t) && ir::bits(t) <= 32) {
        llvm::Value* f = convert(x, t, DType::Float32);
        llvm::Value* r =
            builder_.CreateIntrinsic(llvm::Intrinsic::nvvm_shfl_sync_bfly_f32, {}, {full, f, laneMask, clamp});
        return convert(r, DType::Float32, t);
      }
      if (ir::bits(t) == 64) {
        llvm::Value* halves = builder_.CreateBitCast(x, llvm::FixedVectorType::get(builder_.getInt32Ty(), 2));
        llvm::Value* lo = shuffleI32(builder_.CreateExtractElement(halves, (uint64_t)0));
        llvm::Value* hi = shuffleI32(builder_.CreateExtractElement(halves, (uint64_t)1));
        llvm::Value* both = builder_.CreateInsertElement(halves, lo, (uint64_t)0);
        both = builder_.CreateInsertElement(both, hi, (uint64_t)1);
        return builder_.CreateBitCast(both, x->getType());
      }
      if (ir::bits(t) > 32 || ir::isStorageOnly(t) || t == DType::Bool)
        internal(std::string("shfl_bfly of ") + ir::name(t));
      llvm::Value* wide = ir::isSigned(t) ? builder_.CreateSExtOrTrunc(x, builder_.getInt32Ty())
                                          : builder_.CreateZExtOrTrunc(x, builder_.getInt32Ty());
      return builder_.CreateTrunc(shuffleI32(wide), x->getType());
    }
    case Builtin::TensorMapAddress: {
      // The parameter's own (generic) address, as the TMA instructions take it.
      const ir::ExprRef& map = node.args.at(0);
      for (size_t i = 0; i < kernel_.params.size(); ++i)
        if (kernel_.params[i].kind == ir::ParamKind::TensorMap && kernel_.params[i].var == map)
          return builder_.CreatePtrToInt(function_->getArg((unsigned)i), builder_.getInt64Ty());
      internal("tensormap_address of something that is not a tensor-map parameter");
    }
    case Builtin::ClusterCtaRank: {
      llvm::Value* rank = specialRegister(llvm::Intrinsic::nvvm_read_ptx_sreg_cluster_ctarank);
      return convert(rank, DType::Int32, node.dtype);
    }
    case Builtin::Fp4FromBits:
    case Builtin::Fp4Bits: {
      // float4_e2m1fn values travel as their code in an i8 (PackFloat4 made the
      // nibble accesses): both are the identity on the bits.
      if (node.args.size() != 1) internal(std::string(ir::name(node.builtin)) + " takes one argument");
      llvm::Value* x = emitExpr(node.args[0]);
      llvm::Type* target = elementType(node.dtype);
      if (auto* vector = llvm::dyn_cast<llvm::VectorType>(x->getType())) target = llvm::VectorType::get(target, vector);
      return builder_.CreateZExtOrTrunc(x, target);
    }
    default:
      break;
  }
  if ((int)node.args.size() != ir::info(node.builtin).arity)
    internal(std::string(ir::name(node.builtin)) + " with the wrong number of arguments");
  // A math builtin's operands all have its operand type (sema converted them): the
  // result type, or the argument's for the Bool-valued classifications.
  DType operand = ir::info(node.builtin).result == ir::BuiltinResult::Bool ? node.args[0]->dtype : node.dtype;
  if (ir::isStorageOnly(operand))
    return unsupported(std::string(ir::name(node.builtin)) + " on " + ir::name(operand), elementType(node.dtype));
  std::vector<llvm::Value*> args;
  for (const ir::ExprRef& argument : node.args) args.push_back(convert(emitExpr(argument), argument->dtype, operand));
  if (!ir::isFloat(operand)) {
    switch (node.builtin) {
      case Builtin::Abs:
        if (!ir::isSigned(operand)) return args[0];
        return builder_.CreateBinaryIntrinsic(llvm::Intrinsic::abs, args[0], builder_.getFalse());
      case Builtin::Floor:
      case Builtin::Ceil:
      case Builtin::Trunc:
      case Builtin::Round:
      case Builtin::Nearbyint:
        return args[0];
      default:
        internal(std::string(ir::name(node.builtin)) + " on " + ir::name(operand));
    }
  }
  return emitMathCall(node.builtin, args, operand);
}

llvm::Type* KernelEmitter::loadType(const ir::LoadNode& load) {
  llvm::Type* type = memoryType(load.buffer->dtype);
  return load.lanes > 1 ? llvm::FixedVectorType::get(type, load.lanes) : type;
}

llvm::Value* KernelEmitter::loadFromMemory(const ir::LoadNode& load) {
  const ir::Buffer& buffer = *load.buffer;
  llvm::Value* address = elementAddress(buffer, load.indices);
  llvm::Type* type = loadType(load);
  unsigned align = load.alignBytes > 0 ? (unsigned)load.alignBytes : elementBytes(buffer.dtype);
  llvm::Value* raw = load.cacheHint && buffer.scope == ir::MemScope::Global
                        ? inlineGlobalLoad(type, address, cachePolicy(load.cacheHint), nullptr, nullptr)
                        : builder_.CreateAlignedLoad(type, address, llvm::Align(align), buffer.name);
  llvm::Value* value = fromMemory(raw, buffer.dtype);
  return convert(value, buffer.dtype, load.dtype);
}

namespace {

// Whether `expr` may be computed where its statement or load would not run: it
// neither touches memory that may be out of bounds there (only registers: local and
// fragment buffers) nor has undefined behaviour for some operands (an integer
// division by a divisor that is not a known constant other than 0 and -1) nor is a
// collective or has side effects (shuffle_elect, shfl_bfly, print).
bool speculatable(const ir::ExprRef& expr) {
  using ir::ExprKind;
  switch (expr->kind) {
    case ExprKind::IntImm:
    case ExprKind::FloatImm:
    case ExprKind::Var:
      return true;
    case ExprKind::Unary:
      return speculatable(expr->as<ir::UnaryNode>().a);
    case ExprKind::Cast:
      return speculatable(expr->as<ir::CastNode>().a);
    case ExprKind::Select: {
      const auto& select = expr->as<ir::SelectNode>();
      return speculatable(select.cond) && speculatable(select.t) && speculatable(select.f);
    }
    case ExprKind::Binary: {
      const auto& binary = expr->as<ir::BinaryNode>();
      const bool division = binary.op == BinOp::Div || binary.op == BinOp::FloorDiv || binary.op == BinOp::FloorMod;
      if (division && !ir::isFloat(binary.dtype)) {
        if (binary.b->kind != ExprKind::IntImm) return false;
        const int64_t divisor = binary.b->as<ir::IntImm>().value;
        if (divisor == 0 || divisor == -1) return false;
      }
      return speculatable(binary.a) && speculatable(binary.b);
    }
    case ExprKind::Call: {
      const auto& call = expr->as<ir::CallNode>();
      if (collectiveOrEffectful(call.builtin)) return false;
      for (const ir::ExprRef& arg : call.args)
        if (!speculatable(arg)) return false;
      return true;
    }
    case ExprKind::Load: {
      const auto& load = expr->as<ir::LoadNode>();
      if (load.predicate) return false;
      if (load.buffer->scope != ir::MemScope::Local && load.buffer->scope != ir::MemScope::Fragment) return false;
      for (const ir::ExprRef& index : load.indices)
        if (!speculatable(index)) return false;
      return true;
    }
  }
  return false;
}

}  // namespace

llvm::Value* KernelEmitter::emitLoad(const ir::LoadNode& load) {
  if (!load.buffer) internal("load without a buffer");
  if (!load.predicate) return loadFromMemory(load);
  // Predicated: memory is touched only when the predicate holds, so a masked-off
  // lane may point outside the buffer.
  llvm::Value* predicate = emitCondition(load.predicate);
  // A global load whose address may be computed in every lane is one predicated
  // instruction (inlineGlobalLoad says why); other loads go in a branch.
  const ir::Buffer& buffer = *load.buffer;
  llvm::Type* type = loadType(load);
  const unsigned bytes = (unsigned)module_.getDataLayout().getTypeStoreSize(type);
  const unsigned align = load.alignBytes > 0 ? (unsigned)load.alignBytes : elementBytes(buffer.dtype);
  bool straight = buffer.scope == ir::MemScope::Global && align >= bytes && !type->isPtrOrPtrVectorTy() &&
                  (bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8 || bytes == 16);
  for (const ir::ExprRef& index : load.indices) straight = straight && speculatable(index);
  if (straight) {
    // The registers start with the safe value as the buffer holds it (LoadNode::otherwise
    // has the buffer's dtype), converted with the loaded value afterwards.
    llvm::Value* safe = load.otherwise ? convert(emitExpr(load.otherwise), load.otherwise->dtype, buffer.dtype)
                                       : llvm::Constant::getNullValue(elementType(buffer.dtype));
    safe = toMemory(splatTo(safe, load.lanes), buffer.dtype);
    llvm::Value* policy = load.cacheHint ? cachePolicy(load.cacheHint) : nullptr;
    llvm::Value* raw = inlineGlobalLoad(type, elementAddress(buffer, load.indices), policy, predicate, safe);
    return convert(fromMemory(raw, buffer.dtype), buffer.dtype, load.dtype);
  }
  llvm::Value* fallback = load.otherwise ? convert(emitExpr(load.otherwise), load.otherwise->dtype, load.dtype)
                                         : llvm::Constant::getNullValue(elementType(load.dtype));
  fallback = splatTo(fallback, load.lanes);
  llvm::BasicBlock* origin = builder_.GetInsertBlock();
  llvm::BasicBlock* doLoad = llvm::BasicBlock::Create(context_, "load", function_);
  llvm::BasicBlock* join = llvm::BasicBlock::Create(context_, "load.done", function_);
  reuse_.enteredFrom(doLoad, origin);
  reuse_.enteredFrom(join, origin);
  builder_.CreateCondBr(predicate, doLoad, join);
  builder_.SetInsertPoint(doLoad);
  llvm::Value* loaded = loadFromMemory(load);
  llvm::BasicBlock* loadEnd = builder_.GetInsertBlock();
  builder_.CreateBr(join);
  builder_.SetInsertPoint(join);
  llvm::PHINode* value = builder_.CreatePHI(loaded->getType(), 2, load.buffer->name + ".value");
  value->addIncoming(loaded, loadEnd);
  value->addIncoming(fallback, origin);
  return value;
}

// Converts a value of dtype `from` to dtype `to`, lane by lane.
llvm::Value* KernelEmitter::convert(llvm::Value* value, DType from, DType to) {
  if (from == to) return value;
  llvm::Type* target = elementType(to);
  if (auto* vector = llvm::dyn_cast<llvm::VectorType>(value->getType()))
    target = llvm::VectorType::get(target, vector);
  if (from == DType::Float8E8M0 || to == DType::Float8E8M0) return convertE8m0(value, from, to);
  if (isFloat8(from) || isFloat8(to)) return convertFp8(value, from, to);
  if (from == DType::Float4E2M1) return convert(fp4ToFloat32(value), DType::Float32, to);
  if (to == DType::Float4E2M1 && !ir::isStorageOnly(from) && from != DType::Handle) {
    // Integers and bools become float32 first (exact for every magnitude that does not
    // saturate); floats are rounded from their own type, so nothing rounds twice.
    if (!ir::isFloat(from)) value = convert(value, from, DType::Float32);
    return floatToFp4(value);
  }
  if (ir::isStorageOnly(from) || ir::isStorageOnly(to))
    return unsupported(std::string("a cast from ") + ir::name(from) + " to " + ir::name(to), target);
  if (from == DType::Handle || to == DType::Handle) {
    if (from == DType::Handle && ir::isInt(to)) return builder_.CreatePtrToInt(value, target);
    if (to == DType::Handle && ir::isInt(from)) return builder_.CreateIntToPtr(value, target);
    internal(std::string("cast from ") + ir::name(from) + " to " + ir::name(to));
  }
  llvm::Value* zero = llvm::Constant::getNullValue(value->getType());
  if (to == DType::Bool)
    return ir::isFloat(from) ? builder_.CreateFCmpUNE(value, zero) : builder_.CreateICmpNE(value, zero);
  if (from == DType::Bool)
    return ir::isFloat(to) ? builder_.CreateUIToFP(value, target) : builder_.CreateZExt(value, target);
  bool fromFloat = ir::isFloat(from), toFloat = ir::isFloat(to);
  if (!fromFloat && !toFloat) return builder_.CreateIntCast(value, target, ir::isSigned(from));
  if (!fromFloat) return ir::isSigned(from) ? builder_.CreateSIToFP(value, target) : builder_.CreateUIToFP(value, target);
  if (!toFloat) {
    // Saturating (NaN -> 0), like PTX's cvt.rzi; plain fptosi is poison out of range.
    llvm::Value* source = value;
    if (ir::bits(from) < 32) {
      llvm::Type* f32 = builder_.getFloatTy();
      if (auto* vector = llvm::dyn_cast<llvm::VectorType>(value->getType())) f32 = llvm::VectorType::get(f32, vector);
      source = builder_.CreateFPExt(value, f32);
    }
    return builder_.CreateIntrinsic(ir::isSigned(to) ? llvm::Intrinsic::fptosi_sat : llvm::Intrinsic::fptoui_sat,
                                    {target, source->getType()}, {source});
  }
  // float <-> float; half <-> bfloat go through float32 (neither holds the other).
  if (ir::bits(from) == ir::bits(to)) {
    llvm::Type* f32 = builder_.getFloatTy();
    if (auto* vector = llvm::dyn_cast<llvm::VectorType>(value->getType())) f32 = llvm::VectorType::get(f32, vector);
    return builder_.CreateFPTrunc(builder_.CreateFPExt(value, f32), target);
  }
  return ir::bits(from) < ir::bits(to) ? builder_.CreateFPExt(value, target) : builder_.CreateFPTrunc(value, target);
}

}  // namespace

// float8_e4m3 / float8_e5m2 <-> anything numeric, through the conversions Ada and
// Hopper have (sm_89+, PTX 7.8): an fp8 code widens exactly to float16 (cvt.rn.f16x2.
// e4m3x2 / e5m2x2), and from there to `to`; a value becomes fp8 from float32 with one
// rounding (cvt.rn.satfinite.e4m3x2.f32: nearest even, beyond the largest finite value
// and +-Inf saturate to it, NaN stays NaN). Integers, bools and 16-bit floats reach
// float32 exactly first; float64 is rounded to float32 first; float4_e2m1fn values are
// exact in both fp8 formats.
llvm::Value* KernelEmitter::convertFp8(llvm::Value* value, DType from, DType to) {
  llvm::Type* target = elementType(to);
  if (auto* vector = llvm::dyn_cast<llvm::VectorType>(value->getType())) target = llvm::VectorType::get(target, vector);
  std::string what = std::string("a cast from ") + ir::name(from) + " to " + ir::name(to);
  if (from == DType::Handle || to == DType::Handle) return unsupported(what, target);
  int sm = 0;
  if (target_.arch.rfind("sm_", 0) == 0) sm = std::atoi(target_.arch.c_str() + 3);
  // Sema rejects fp8 conversions on a target without them (checkConversion).
  if (sm < 89) internal(what + " on " + target_.arch + ", which has no fp8 cvt instructions");
  if (isFloat8(from)) return convert(fp8ToHalf(value, from), DType::Float16, to);
  if (from == DType::Float4E2M1) value = fp4ToFloat32(value);
  else value = convert(value, from, DType::Float32);
  return float32ToFp8(value, to);
}

// Applies `convertLane` to each lane of a vector (or to a scalar).
llvm::Value* KernelEmitter::laneByLane(llvm::Value* value, llvm::Type* resultLane,
                                       const std::function<llvm::Value*(llvm::Value*)>& convertLane) {
  auto* vector = llvm::dyn_cast<llvm::FixedVectorType>(value->getType());
  if (!vector) return convertLane(value);
  llvm::Value* result = llvm::PoisonValue::get(llvm::FixedVectorType::get(resultLane, vector->getNumElements()));
  for (unsigned lane = 0; lane < vector->getNumElements(); ++lane)
    result = builder_.CreateInsertElement(result, convertLane(builder_.CreateExtractElement(value, lane)), lane);
  return result;
}

llvm::Value* KernelEmitter::fp8ToHalf(llvm::Value* code, DType from) {
  const char* text = from == DType::Float8E4M3 ? "cvt.rn.f16x2.e4m3x2 $0, $1;" : "cvt.rn.f16x2.e5m2x2 $0, $1;";
  auto* type = llvm::FunctionType::get(builder_.getInt32Ty(), {builder_.getInt16Ty()}, false);
  auto* cvt = llvm::InlineAsm::get(type, text, "=r,h", /*hasSideEffects=*/false);
  return laneByLane(code, builder_.getHalfTy(), [&](llvm::Value* lane) -> llvm::Value* {
    // The code in the low byte converts into the low half; the high byte is +0.
    llvm::Value* pair = builder_.CreateCall(cvt, {builder_.CreateZExt(lane, builder_.getInt16Ty())});
    return builder_.CreateBitCast(builder_.CreateTrunc(pair, builder_.getInt16Ty()), builder_.getHalfTy(), "fp8.value");
  });
}

llvm::Value* KernelEmitter::float32ToFp8(llvm::Value* x, DType to) {
  const char* text = to == DType::Float8E4M3 ? "cvt.rn.satfinite.e4m3x2.f32 $0, $1, $2;"
                                             : "cvt.rn.satfinite.e5m2x2.f32 $0, $1, $2;";
  auto* type = llvm::FunctionType::get(builder_.getInt16Ty(), {builder_.getFloatTy(), builder_.getFloatTy()}, false);
  auto* cvt = llvm::InlineAsm::get(type, text, "=h,f,f", /*hasSideEffects=*/false);
  llvm::Value* zero = llvm::ConstantFP::get(builder_.getFloatTy(), 0.0);
  return laneByLane(x, builder_.getInt8Ty(), [&](llvm::Value* lane) -> llvm::Value* {
    // The second source lands in the low byte of the pair (the first in the high one).
    return builder_.CreateTrunc(builder_.CreateCall(cvt, {zero, lane}), builder_.getInt8Ty(), "fp8.code");
  });
}

// float4_e2m1fn code (i8, low 4 bits) -> float32, lane by lane: magnitudes 0 and 1
// are 0 and 0.5; m = 2..7 are exponent m >> 1 (bias 1) and mantissa bit m & 1,
// which as float32 bits is (m + 252) << 22 (exponent + 126 at bit 23, mantissa at
// bit 22). The sign is bit 3. Integer arithmetic and a select: no table, no
// sm_100a-only cvt.
// float8_e8m0fnu <-> anything numeric (ir/Float8E8M0.h says what each gives). From
// e8m0: the float32 of the code (code << 23; code 0 is the subnormal 2^-127, 255 a
// NaN), then to `to`. To e8m0: on sm_100a a float32 (float16 and bfloat16 widen to it
// exactly) takes cvt.rp.satfinite.ue8m0x2.f32; everything else, and every source on
// other targets, is widened to float64 exactly (integers beyond 2^53 round first) and
// converted with integer operations on its bits: the biased exponent, plus one when
// the mantissa is not zero (rounding toward +Inf), clamped to [0, 254]; Inf gives 254,
// NaN 255, the sign is ignored.
llvm::Value* KernelEmitter::convertE8m0(llvm::Value* value, DType from, DType to) {
  std::string what = std::string("a cast from ") + ir::name(from) + " to " + ir::name(to);
  llvm::Type* target = elementType(to);
  if (auto* vector = llvm::dyn_cast<llvm::VectorType>(value->getType())) target = llvm::VectorType::get(target, vector);
  if (from == DType::Handle || to == DType::Handle) return unsupported(what, target);
  if (from == to) return value;
  if (from == DType::Float8E8M0) {
    llvm::Type* i32 = builder_.getInt32Ty();
    llvm::Type* f32 = builder_.getFloatTy();
    if (auto* vector = llvm::dyn_cast<llvm::VectorType>(value->getType())) {
      i32 = llvm::VectorType::get(i32, vector);
      f32 = llvm::VectorType::get(f32, vector);
    }
    auto k = [&](uint32_t v) { return llvm::ConstantInt::get(i32, v); };
    llvm::Value* c = builder_.CreateZExt(value, i32);
    llvm::Value* bits = builder_.CreateShl(c, k(23));
    bits = builder_.CreateSelect(builder_.CreateICmpEQ(c, k(0)), k(0x00400000u), bits);
    bits = builder_.CreateSelect(builder_.CreateICmpEQ(c, k(255)), k(0x7FFFFFFFu), bits);
    return convert(builder_.CreateBitCast(bits, f32, "e8m0.value"), DType::Float32, to);
  }
  // to e8m0: storage-only sources become float32 first (exact).
  if (ir::isStorageOnly(from)) {
    value = convert(value, from, DType::Float32);
    from = DType::Float32;
  }
  auto arch = Target::fromArch(target_.arch);
  bool hardware = arch && arch->has(TargetFeature::Ue8m0Convert);
  if (hardware && (from == DType::Float32 || from == DType::Float16 || from == DType::BFloat16)) {
    value = convert(value, from, DType::Float32);
    auto* type = llvm::FunctionType::get(builder_.getInt16Ty(), {builder_.getFloatTy(), builder_.getFloatTy()}, false);
    // The pair's first source is its high byte: x goes to the low byte.
    auto* cvt = llvm::InlineAsm::get(type, "cvt.rp.satfinite.ue8m0x2.f32 $0, $2, $1;", "=h,f,f", /*hasSideEffects=*/false);
    llvm::Value* zero = llvm::ConstantFP::get(builder_.getFloatTy(), 0.0);
    return laneByLane(value, builder_.getInt8Ty(), [&](llvm::Value* lane) -> llvm::Value* {
      return builder_.CreateTrunc(builder_.CreateCall(cvt, {lane, zero}), builder_.getInt8Ty(), "e8m0.code");
    });
  }
  value = convert(value, from, DType::Float64);
  llvm::Type* i64 = builder_.getInt64Ty();
  if (auto* vector = llvm::dyn_cast<llvm::VectorType>(value->getType())) i64 = llvm::VectorType::get(i64, vector);
  auto k = [&](uint64_t v) { return llvm::ConstantInt::get(i64, v); };
  llvm::Value* u = builder_.CreateAnd(builder_.CreateBitCast(value, i64), k(0x7FFFFFFFFFFFFFFFull));
  llvm::Value* exponent = builder_.CreateLShr(u, k(52));
  llvm::Value* up = builder_.CreateZExt(builder_.CreateICmpNE(builder_.CreateAnd(u, k((uint64_t(1) << 52) - 1)), k(0)), i64);
  // exponent - 1023 + 127 + up, clamped to [0, 254] (signed: small exponents go below 0).
  llvm::Value* code = builder_.CreateAdd(builder_.CreateSub(exponent, k(896)), up);
  code = builder_.CreateSelect(builder_.CreateICmpSLT(code, k(0)), k(0), code);
  code = builder_.CreateSelect(builder_.CreateICmpSGT(code, k(254)), k(254), code);
  code = builder_.CreateSelect(builder_.CreateICmpEQ(exponent, k(0)), k(0), code);
  code = builder_.CreateSelect(builder_.CreateICmpEQ(u, k(0x7FF0000000000000ull)), k(254), code);
  code = builder_.CreateSelect(builder_.CreateICmpUGT(u, k(0x7FF0000000000000ull)), k(255), code);
  return builder_.CreateTrunc(code, target, "e8m0.code");
}

llvm::Value* KernelEmitter::fp4ToFloat32(llvm::Value* code) {
  llvm::Type* i32 = builder_.getInt32Ty();
  llvm::Type* f32 = builder_.getFloatTy();
  if (auto* vector = llvm::dyn_cast<llvm::VectorType>(code->getType())) {
    i32 = llvm::VectorType::get(i32, vector);
    f32 = llvm::VectorType::get(f32, vector);
  }
  auto k = [&](uint32_t v) { return llvm::ConstantInt::get(i32, v); };
  llvm::Value* c = builder_.CreateZExt(code, i32);
  llvm::Value* m = builder_.CreateAnd(c, k(7));
  llvm::Value* normal = builder_.CreateShl(builder_.CreateAdd(m, k(252)), k(22));
  llvm::Value* small = builder_.CreateSelect(builder_.CreateICmpEQ(m, k(1)), k(0x3f000000u), k(0));  // 0.5 or +0
  llvm::Value* bits = builder_.CreateSelect(builder_.CreateICmpULT(m, k(2)), small, normal);
  bits = builder_.CreateOr(bits, builder_.CreateShl(builder_.CreateAnd(c, k(8)), k(28)));
  return builder_.CreateBitCast(bits, f32, "fp4.value");
}

// A float (any width, lane by lane) -> float4_e2m1fn code in an i8: round to nearest,
// ties to the even code, by counting the thresholds between neighbouring magnitudes
// that |x| passes (> where the tie goes down, >= where it goes up); beyond 6 and
// +-Inf saturate to +-6 (the count stops at 7); NaN becomes +6 (0x7). The compares
// are in x's own type (every threshold is exact there), so nothing rounds twice.
// Matches tlc::fp4::fromFloat (ir/Float4.h).
llvm::Value* KernelEmitter::floatToFp4(llvm::Value* x) {
  llvm::Type* ft = x->getType();
  llvm::Type* i8 = builder_.getInt8Ty();
  llvm::Type* bitsType = builder_.getIntNTy(ft->getScalarSizeInBits());
  if (auto* vector = llvm::dyn_cast<llvm::VectorType>(ft)) {
    i8 = llvm::VectorType::get(i8, vector);
    bitsType = llvm::VectorType::get(bitsType, vector);
  }
  llvm::Value* a = builder_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  llvm::Value* code = llvm::Constant::getNullValue(i8);
  const struct { double threshold; bool tieUp; } steps[] = {
      {0.25, false}, {0.75, true}, {1.25, false}, {1.75, true}, {2.5, false}, {3.5, true}, {5.0, false}};
  for (const auto& step : steps) {
    llvm::Value* t = llvm::ConstantFP::get(ft, step.threshold);
    llvm::Value* passed = step.tieUp ? builder_.CreateFCmpOGE(a, t) : builder_.CreateFCmpOGT(a, t);
    code = builder_.CreateAdd(code, builder_.CreateZExt(passed, i8));
  }
  llvm::Value* negative = builder_.CreateICmpSLT(builder_.CreateBitCast(x, bitsType), llvm::Constant::getNullValue(bitsType));
  code = builder_.CreateOr(code, builder_.CreateSelect(negative, llvm::ConstantInt::get(i8, 8), llvm::Constant::getNullValue(i8)));
  llvm::Value* isNaN = builder_.CreateFCmpUNO(x, x);
  return builder_.CreateSelect(isNaN, llvm::ConstantInt::get(i8, 7), code, "fp4.code");
}

// ------------------------------------------------------------ grid constants

void markGridConstantParams(llvm::Function& kernel, const std::vector<unsigned>& argNos) {
  if (argNos.empty()) return;
  llvm::LLVMContext& context = kernel.getContext();
  std::vector<llvm::Metadata*> oneBased;
  for (unsigned argNo : argNos) {
    kernel.addParamAttr(argNo, llvm::Attribute::getWithByValType(
                                   context, llvm::ArrayType::get(llvm::Type::getInt8Ty(context), 128)));
    kernel.addParamAttr(argNo, llvm::Attribute::getWithAlignment(context, llvm::Align(64)));
    oneBased.push_back(i32Metadata(context, argNo + 1));
  }
  addKernelAnnotation(kernel, "grid_constant", llvm::MDNode::get(context, oneBased));
}

std::optional<std::string> emitGridConstantProbePTX(bool annotateGridConstant, DiagnosticEngine& diags) {
  TargetOptions target;
  std::unique_ptr<llvm::TargetMachine> machine = createNVPTXTargetMachine(target, diags);
  if (!machine) return std::nullopt;
  llvm::LLVMContext context;
  llvm::Module module("grid_constant_probe", context);
  module.setTargetTriple(kNVPTXTriple);
  module.setDataLayout(machine->createDataLayout());
  llvm::IRBuilder<> builder(context);
  llvm::Type* tensorMap = llvm::PointerType::get(context, 0);
  auto* type = llvm::FunctionType::get(builder.getVoidTy(),
                                       {llvm::PointerType::get(context, kGlobalAddressSpace), tensorMap}, false);
  llvm::Function* kernel = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, "grid_constant_probe", module);
  markAsKernel(*kernel, 128);
  if (annotateGridConstant) {
    markGridConstantParams(*kernel, {1});
  } else {
    kernel->addParamAttr(1, llvm::Attribute::getWithByValType(context, llvm::ArrayType::get(builder.getInt8Ty(), 128)));
    kernel->addParamAttr(1, llvm::Attribute::getWithAlignment(context, llvm::Align(64)));
  }
  builder.SetInsertPoint(llvm::BasicBlock::Create(context, "entry", kernel));
  // What a TMA copy does with its descriptor: hand its generic address to PTX.
  llvm::Value* address = builder.CreatePtrToInt(kernel->getArg(1), builder.getInt64Ty());
  auto* prefetch = llvm::InlineAsm::get(llvm::FunctionType::get(builder.getVoidTy(), {builder.getInt64Ty()}, false),
                                        "prefetch.tensormap [$0];", "l,~{memory}", true);
  builder.CreateCall(prefetch, {address});
  builder.CreateRetVoid();
  std::string errors;
  llvm::raw_string_ostream errorStream(errors);
  if (llvm::verifyModule(module, &errorStream)) diags.internalError({}, "grid-constant probe: " + errors);
  optimizeModule(module, *machine, target.optLevel);
  return printPTX(module, *machine);
}

// ------------------------------------------------------------------- entry

std::unique_ptr<LLVMModule> generateLLVM(const ir::Module& loopIR, const TargetOptions& target,
                                         DiagnosticEngine& diags) {
  auto result = std::make_unique<LLVMModule>();
  result->impl = std::make_unique<LLVMModule::Impl>();
  LLVMModule::Impl& impl = *result->impl;
  impl.targetMachine = createNVPTXTargetMachine(target, diags);
  if (!impl.targetMachine) return nullptr;
  for (const ir::Kernel& kernel : loopIR.kernels) {
    const int* cluster = kernel.clusterDims;
    if (cluster[0] * cluster[1] * cluster[2] > 1)
      impl.clusterShapes.push_back({kernel.name, {cluster[0], cluster[1], cluster[2]}});
  }
  // The source kernels: [begin, end) of adjacent variants that share a source name.
  std::vector<std::pair<size_t, size_t>> sources;
  for (size_t begin = 0, end; begin < loopIR.kernels.size(); begin = end) {
    for (end = begin + 1; end < loopIR.kernels.size() && loopIR.kernels[end].sourceName == loopIR.kernels[begin].sourceName;)
      ++end;
    sources.push_back({begin, end});
  }
  // A module of the kernels [begin, end), with its line table (-lineinfo) finalized.
  auto emitModule = [&](size_t begin, size_t end) {
    auto module = std::make_unique<llvm::Module>("tlc", impl.context);
    module->setTargetTriple(kNVPTXTriple);
    module->setDataLayout(impl.targetMachine->createDataLayout());
    std::optional<LineTable> lineTable;
    if (target.lineInfo) lineTable.emplace(*module, target);
    for (size_t k = begin; k < end; ++k)
      KernelEmitter(*module, loopIR.kernels[k], target, diags, lineTable ? &*lineTable : nullptr).emit();
    if (lineTable) lineTable->finalize();
    return module;
  };
  // Each source kernel alone first, to see whether its code has loops: one that has
  // keeps that module (O3 is for its loops alone). Neighbours without loops are then
  // generated again into one module (O1 for all of them: each gets the code it has
  // alone, labels numbered on), which spares a module's fixed cost per small kernel
  // (a file of 1000 one-line kernels: 29% more CPU time with a module each).
  unsigned errorsBefore = diags.errorCount();
  std::vector<std::unique_ptr<llvm::Module>> alone;
  for (auto [begin, end] : sources) alone.push_back(emitModule(begin, end));
  if (diags.errorCount() != errorsBefore) return nullptr;
  if (sources.empty()) impl.modules.push_back(emitModule(0, 0));  // a file without kernels
  for (size_t i = 0, j; i < sources.size(); i = j) {
    j = i + 1;
    if (!hasLoops(*alone[i]))
      while (j < sources.size() && !hasLoops(*alone[j])) ++j;
    if (j == i + 1)
      impl.modules.push_back(std::move(alone[i]));
    else
      impl.modules.push_back(emitModule(sources[i].first, sources[j - 1].second));
    for (size_t k = i; k < j; ++k) alone[k].reset();
  }

  for (const std::unique_ptr<llvm::Module>& module : impl.modules) {
    std::string errors;
    llvm::raw_string_ostream errorStream(errors);
    if (llvm::verifyModule(*module, &errorStream)) {
      errorStream.flush();
      diags.internalError({}, "generated LLVM IR does not verify: " + errors);
    }
    optimizeModule(*module, *impl.targetMachine, target.optLevel);
  }
  return result;
}

}  // namespace tlc
