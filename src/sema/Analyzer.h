// Analyzer: the semantic analysis's state and steps, shared by the files of src/sema/.
//
// One Analyzer runs per compilation (sema::analyze in Sema.cpp). Its steps live in:
//   Sema.cpp         utilities (diagnostics, "did you mean" notes, keywords, scopes of
//                    names), file level (consts, macros, -D), and the entry point
//   Consts.cpp       folding of `const` expressions
//   Kernels.cpp      kernel parameters (Tensor, StridedTensor, Buffer, ptr, dims), the launch block
//   Proxies.cpp      the proxy types read into one form (call or subscript, TileLang defaults),
//                    the global tensor a parameter or a body view (data=) declares
//   Statements.cpp   statements, loops (nested Parallel loops, run-time extents),
//                    allocations, alloc_var, make_tensor, macros
//   Copies.cpp       regions, copy / async_copy / fill, bounds, copy options, copies and
//                    fills of run-time extents (guarded Parallel loops), element copies
//   Reductions.cpp   reduce_sum / max / min / abssum / absmax as Parallel loops
//   Scans.cpp        cumsum as Parallel loops of serial scans (through shared memory)
//   Layouts.cpp      Fragment thread layouts (loop_layout=) and annotate_safe_value
//   Expressions.cpp  scalar expressions and built-in calls
// The extent rule itself is pure and lives in Regions.cpp. Internal to src/sema/.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "frontend/Vocabulary.h"
#include "ir/Limits.h"
#include "support/Spelling.h"
#include "ir/ThreadLayout.h"
#include "sema/Regions.h"
#include "sema/Sema.h"

namespace tlc::sema {

using namespace ir;

// ------------------------------------------------------------------ values

struct Value {
  enum Kind { None, ConstInt, ConstFloat, DTypeName, Scalar, Mutable, BufferV, Pointer, Layout, Descriptor } kind = None;
  int64_t intValue = 0;
  double floatValue = 0;
  DType dtype = DType::Int32;  // DTypeName: the type; Pointer: its element type
  bool untyped = false;        // Pointer: `ptr()`, whose views choose their dtype (float32 by default)
  ExprRef expr;                // Scalar: the expression; Mutable: the var
  VarRef var;                  // Mutable / Pointer: the variable; Descriptor: the TensorMap parameter
  BufferRef tensor;            // Descriptor: the global tensor it describes
  BufferRef buffer;            // BufferV
  ThreadLayoutRef layout;      // Layout
  SourceRange decl;            // where the name was declared
  bool varCell = false;        // Mutable made by alloc_var: `x[0]` is `x`
};

struct MacroDef {
  const ast::FunctionDecl* decl = nullptr;
};

// A kernel's block size when `Kernel(...)` gives no threads=: TileLang's default.
inline constexpr int kDefaultThreads = 128;

// The names of every operator the spec defines but this build does not lower yet.
inline const std::set<std::string> kNotYetSupported = {
};

inline std::string joined(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s;
}

// The spellings of a memory scope, as `scope=` strings take them.
inline std::optional<MemScope> scopeFromName(const std::string& s) {
  if (s == "global") return MemScope::Global;
  if (s == "shared.dyn" || s == "shared") return MemScope::Shared;
  if (s == "local.fragment") return MemScope::Fragment;
  if (s == "local") return MemScope::Local;
  return std::nullopt;
}
inline constexpr const char* kValidScopes = "\"global\", \"shared.dyn\", \"shared\", \"local.fragment\", \"local\"";

// A side of a copy before its extents are settled.
struct RegionSpec {
  BufferRef buffer;
  std::vector<ExprRef> mins;
  std::vector<std::optional<int64_t>> extents;  // per axis; nullopt = unknown (symbolic)
  std::vector<ExprRef> limits;  // per axis: the run-time extent where `extents` has none (hi - lo), else null
  bool isHead = false;   // an element `A[i, j]`: extents come from the other side
  bool isWhole = false;  // a bare buffer name: extents come from its declaration
  Access access = Access::Read;
  SourceRange range;
};

// A proxy type as written (Proxies.cpp): `Tensor((M, N), float16)`,
// `Tensor[(M, N), float16]`, `Buffer(shape, dtype, data=p, ...)`, each argument bound
// to its TileLang name (shape, dtype, data, strides, elem_offset, scope, align,
// offset_factor, buffer_type, axis_separators).
struct ProxySpec {
  std::string kind;  // Tensor, StridedTensor, Buffer, BaseTensor, SharedBuffer, ...
  SourceRange kindRange, range;
  bool hasShape = false;
  std::vector<const ast::Expr*> shape;  // the shape's entries
  SourceRange shapeRange;
  std::map<std::string, const ast::Expr*> args;  // every other argument, by name
  std::map<std::string, SourceRange> named;      // where a keyword's name was written
  const ast::Expr* arg(const std::string& n) const {
    auto it = args.find(n);
    return it == args.end() ? nullptr : it->second;
  }
};

// Reports an error and makes the enclosing analysis step give up.
struct Failed {};

class Analyzer {
 public:
  // Until the pipeline fills SemaOptions::target, `arch` (when it names a known
  // target) decides.
  Analyzer(const SemaOptions& options, DiagnosticEngine& diags)
      : options_(options), target_(options.target), diags_(diags) {}

  std::unique_ptr<Module> runWithDefines(const ast::File& file);

 private:
  const SemaOptions& options_;
  // What the target has: the constructs it lacks are errors at their line.
  Target target_;
  DiagnosticEngine& diags_;
  std::map<std::string, Value> globals_;
  std::map<std::string, MacroDef> macros_;
  std::map<std::string, SourceRange> declaredAt_;

  // Per kernel.
  Kernel* kernel_ = nullptr;
  std::vector<std::map<std::string, Value>> scopes_;
  std::map<std::string, VarRef> dimParams_;
  int macroDepth_ = 0;
  struct Expansion {
    const ast::FunctionDecl* macro;
    SourceRange call;
  };
  std::vector<Expansion> expansions_;  // the macro calls being expanded, outermost first
  bool inParallel_ = false;
  // Set while tma_copy reads its regions: the one use of a float4_e2m1_unpacked tile.
  bool unpackedFp4Use_ = false;
  // The values each loop variable takes, for loops with constant bounds (Parallel,
  // serial, range) entered since the innermost enclosing `if` (a condition may
  // narrow them, so an `if` starts afresh): an index into a tile whose values over
  // these ranges leave the tile's constant shape is an error (checkIndexRange).
  std::map<VarRef, std::pair<int64_t, int64_t>, ById> loopRanges_;  // held: never ordered by a freed node
  std::optional<std::pair<int64_t, int64_t>> indexRange(const ExprRef& e) const;
  // The chunk counters of Parallel loops of a run-time extent with no bound: an index
  // reading one has no compile-time range, so it may not index a tile (shared memory
  // has no bounds of its own; a global access is guarded at run time).
  std::set<VarRef, ById> unboundedChunks_;  // held: never ordered by a freed node
  void checkIndexRange(const ExprRef& index, size_t axis, const BufferRef& buf, SourceRange r);
  int threads_ = 0;
  // The expansion budgets (ir/Limits.def): statements are counted as they are
  // expanded, so a macro chain that would expand to millions stops at the statement
  // that crosses the budget, before it is built.
  int64_t expanded_ = 0;        // this kernel's statements so far
  int64_t expandedInFile_ = 0;  // every kernel's
  int64_t layoutIterationsInFile_ = 0;  // evaluated so far (countLayoutIterations)
  int64_t expansionWeight_ = 1;  // copies of the statement being analyzed lowering makes (a Parallel body: one per unrolled element)
  bool overBudget_ = false;     // reported once; what follows stops quietly
  // Counts `count` statements at `r` against the budgets: past one, an error there.
  void chargeExpansion(SourceRange r, int64_t count);
  // How many times lowering repeats the body of a tile operation over `numel`
  // elements spread over `threads` threads, at most: once per element a thread
  // handles where it unrolls the loop (a fragment's up to
  // limits::UnrolledElementsPerThread, other tiles' up to 32 steps: partitionFor),
  // every one under a loop_layout (never rolled).
  static int64_t unrolledCopies(int64_t numel, int threads, bool followsLayout, bool touchesFragment);
  // a * b, or INT64_MAX where that overflows: element counts of regions whose extents
  // are constants the program chose (a block of 2^63 - 1 rows).
  static int64_t saturatingMul(int64_t a, int64_t b);
  // The elements of a region of these constant extents (saturating); fails at r when
  // there are more than limits::ElementsPerRegion (what: "this copy", ...).
  int64_t regionElements(SourceRange r, const std::vector<int64_t>& extents, const std::string& what);
  // Charges a copy's loop over its elements to the expansion budget (what: "this copy",
  // "this atomic_add", ... for regionElements' message).
  void chargeCopyLoop(SourceRange r, const Region& s, const Region& d, const CopyOptions& options,
                      const std::string& what = "this copy");
  std::map<std::string, int> localNames_;  // for unique IR names of shadowing locals
  // The buffers some name lookup reached (a lookup is a use): -Wunused-tile.
  mutable std::set<BufferRef, ById> usedBuffers_;  // held: never ordered by a freed node

  // ------------------------------------------------------------- utilities

  [[noreturn]] void fail(SourceRange r, const std::string& msg);
  // Every error and warning goes through here: one inside a macro's body (found
  // while expanding it) gets a note at each call that led to it, innermost first.
  void error(SourceRange r, const std::string& msg);
  void warning(Warning kind, SourceRange r, const std::string& msg);
  void noteExpansions(SourceRange r);
  void noteDecl(const std::string& name, SourceRange decl);
  // "did you mean 'X'?" at `r` when a candidate is near `word` (support/Spelling.h).
  void suggest(SourceRange r, const std::string& word, const std::vector<std::string>& candidates);
  // An error about the unknown `word`, with the suggestion; gives up on the statement.
  [[noreturn]] void failUnknown(SourceRange r, const std::string& msg, const std::string& word,
                                const std::vector<std::string>& candidates);
  // The names a scalar or buffer reference could mean here: scopes, then consts.
  std::vector<std::string> namesInScope() const;
  // The functions a call could mean: the vocabulary's and the file's macros.
  std::vector<std::string> functionNames() const;
  // `T.x` where x is no built-in (the parser turned every built-in's into a name).
  [[noreturn]] void failAttribute(const ast::Attribute& a);
  // A call of no built-in and no macro.
  [[noreturn]] void failUnknownFunction(const ast::Call& c, const std::string& callee);

  // Every op checks its keyword names before anything else: an unknown one is an
  // error that lists the valid ones (or says there are none), a repeated one an
  // error with a note at its first use.
  void checkKeywords(const ast::Call& c, const std::string& op, const std::vector<std::string>& valid);
  const ast::Expr* keyword(const ast::Call& c, const std::string& name) const;
  std::string stringValue(const ast::Expr& e, const std::string& what, const std::string& valid);

  // Finds a name in the scopes, then the globals; a buffer found counts as used.
  const Value* lookup(const std::string& name) const;
  void define(const std::string& name, Value v, SourceRange r);
  std::string uniqueName(const std::string& base);

  // --------------------------------------------------------- file level

  void collectGlobals(const ast::File& file);
  // Kernel names that would collide with a generated symbol are errors.
  void checkKernelName(const ast::FunctionDecl& kernel);
  void checkVariantNames(const ast::File& file);

  // -D NAME=VALUE: replaces a const's value. Consts that depend on it were folded
  // already, so the file is re-folded in order with the override in place.
  void applyDefines();
  std::map<std::string, Value> overrides_;

 public:
  // Re-folds consts in source order with -D overrides applied (called by analyze()).
  void refold(const ast::File& file);

 private:
  // ------------------------------------------------------- const folding

  Value evalConst(const ast::Expr& e);
  static int64_t floorDivI(int64_t a, int64_t b);
  Value foldIntBinary(const ast::Binary& b, int64_t x, int64_t y);

  // ----------------------------------------------------------- kernels

  std::optional<Kernel> analyzeKernel(const ast::FunctionDecl& decl);
  void warnUnusedTiles(const Kernel& k);
  static bool holdsCopy(const StmtRef& s);

  VarRef dimParam(const std::string& name, SourceRange r);

  // A shape or stride entry of a parameter: a const, or a symbolic dimension.
  // Constant shape entries are positive, constant strides non-negative.
  ExprRef shapeEntry(const ast::Expr& e, bool isStride = false);
  Value evalShapeConst(const ast::Expr& e);

  const ast::Expr* repeatedList(const ast::Expr& e);
  std::vector<const ast::Expr*> tupleItems(const ast::Expr& e);

  // `sharedStorage`: alloc_shared's dtype, where float4_e2m1_unpacked is allowed.
  bool broadcastAxis(const BufferRef& buf, size_t axis);
  std::vector<ExprRef> broadcastIndices(const BufferRef& buf, std::vector<ExprRef> indices);
  void checkUnpackedFp4Load(const ast::Call& c, const Region& s, const Region& d);
  DType dtypeArg(const ast::Expr& e, bool sharedStorage = false);

  static std::string calleeName(const ast::Call& c);

  void analyzeKernelParam(const ast::Param& p);

  // ------------------------------------------------ proxies (Proxies.cpp)

  static bool isProxyKind(const std::string& kind);
  // `ptr` in a dtype's place: TileLang's T.ptr (a Tensor of it is a table of pointers).
  static bool namesPtr(const ast::Expr& e);
  // The proxy a parameter type names (a call's callee, a subscript's base), or "".
  static std::string proxyKind(const ast::Expr& t);
  ProxySpec readProxy(const ast::Expr& t);
  // The global tensor a proxy declares: a kernel parameter (`isParam`: a bare name in
  // a shape is a symbolic dimension) or a view of a pointer in the body (data=).
  BufferRef globalTensor(const std::string& n, const ProxySpec& p, SourceRange declRange, bool isParam,
                        SourceRange paramRange = {});
  StmtRef proxyView(const std::string& n, const ast::Assign& a, const ast::Call& c);
  const Value& dataPointer(const ast::Expr& e, const std::string& what);
  DType viewDtype(const Value& p, const std::string& ptrName, const ast::Expr* given);
  ExprRef viewEntry(const ast::Expr& s, bool isStride);

  // A parameter `n: int32` whose name an earlier shape introduced as a dimension
  // becomes that dimension: one value, passed once, at the scalar's position.
  bool adoptDimAsScalar(const ast::Param& p, const Value& existing);

  static std::vector<ExprRef> rowMajorStrides(const std::vector<ExprRef>& shape);

  StmtRef analyzeLaunch(const ast::With& w);

  int64_t constIntArg(const ast::Expr& e, const std::string& what);

  // ----------------------------------------------------------- statements

  StmtRef block(const ast::Block& b, bool newScope = true);

  StmtRef stmt(const ast::Stmt& s);

  ExprRef condition(const ast::Expr& e);

  static BinOp binOpOf(ast::AssignOp op);

  ExprRef arith(BinOp op, ExprRef a, ExprRef b, SourceRange opRange);
  // `v` as a `to` (a cast(), store, assignment, fill or macro argument), after
  // checkConversion; an error at `r` when the target cannot convert.
  ExprRef convert(DType to, ExprRef v, SourceRange r);
  void checkConversion(DType from, DType to, SourceRange r);
  void checkThreadCopy(const Region& s, const Region& d, const CopyOptions& options, SourceRange callRange);

  // Integer operations on constants fold at compile time. A result that does not
  // fit its type, INT64_MIN // -1, or a shift by the operand's width or more is an
  // error, never a silent wrap (or a crash of the folding itself).
  void checkIntegerFold(BinOp op, const ExprRef& a, const ExprRef& b, SourceRange opRange);
  ExprRef checkFits(ExprRef e, SourceRange r);

  StmtRef assign(const ast::Assign& a);

  void checkStoreScope(const BufferRef& buf, SourceRange r);
  StmtRef atomicAssign(const std::string& n, const ast::Assign& a, const ast::Call& c, const std::string& callee);

  std::string describe(const Value& v);

  std::vector<ExprRef> constShape(const ast::Expr& e);

  StmtRef allocation(const std::string& n, const ast::Assign& a, const ast::Call& c, const std::string& callee);
  // x = alloc_var(dtype[, init][, scope]): TileLang's one-element variable, a local here
  // (read and assigned as `x` or `x[0]`), 0 unless init= gives its first value.
  StmtRef allocVar(const std::string& n, const ast::Assign& a, const ast::Call& c);
  // The alloc_var local an index expression `x[0]` names, or null when `ix` is no such access.
  const Value* varCell(const ast::Index& ix);

  // make_tensor(p, shape, dtype, strides) and Tensor.from_ptr(...): each argument
  // positionally or by keyword (ptr=, shape=, dtype=, strides=), as in TileLang.
  StmtRef makeTensor(const std::string& n, const ast::Assign& a, const ast::Call& c, const std::string& callee);
  BufferRef pointerTableOf(const ast::Expr& e);
  StmtRef makeTensorOfTable(const std::string& n, const ast::Assign& a, const ast::Expr* const* args, const BufferRef& table);
  void makeTensorShape(Buffer& buf, const std::string& callee, const ast::Expr* const* args);
  [[noreturn]] void failPointerElement(const ast::Index& ix, const BufferRef& buf);
  [[noreturn]] void failPointerTable(SourceRange r, const BufferRef& buf);
  // view(A, shape, dtype=) / reshape(A, shape): the same bytes of global tensor or
  // shared tile A (a fragment's registers, in its dtype) under a new shape (and
  // dtype), row-major; the byte sizes must agree provably. A tile's or a fragment's view is an allocation with Buffer::viewOf set.
  StmtRef viewOf(const std::string& n, const ast::Assign& a, const ast::Call& c, const std::string& callee);
  BufferRef makeView(const ast::Call& c, const std::string& callee, const std::string& n, SourceRange declRange);
  BufferRef inlineView(const ast::Call& c, const std::string& callee);  // view(...) where a buffer is expected
  static std::string aliasText(const BufferRef& a, const BufferRef& b);  // two names of one tile's bytes
  void rejectLayoutOfAliased(const BufferRef& tile, SourceRange at);    // annotate_layout of a view or viewed tile
  // C = alloc_global(shape, dtype): TileLang's global workspace, a global tensor the
  // caller allocates and passes (a CUdeviceptr argument of the launch function named C).
  StmtRef allocGlobal(const std::string& n, const ast::Assign& a, const ast::Call& c);

  StmtRef forStmt(const ast::For& f);
  void pipelineSchedule(const ast::Call& c, bool stagesGiven, int& stages, SourceRange& stagesAt);

  StmtRef parallel(const ast::For& f, const ast::Call& c);
  // A compile-time bound on the values of an integer expression (constants, loop
  // variables of constant bounds, min / max / if_then_else / + / % of bounded parts):
  // the loop extent of a run-time Parallel extent, fill or copy.
  std::optional<int64_t> upperBound(const ExprRef& e) const;

  // ------------------------------------------------------- call statements

  StmtRef exprStmt(const ast::ExprStmt& s);
  // TargetChecks.cpp: an operation the target cannot run is an error at its call.
  void requireTargetFor(const ast::Call& c, const std::string& callee);
  std::string targetLacks(TargetFeature f, const std::string& what) const;  // "" when it has it
  // eviction_policy="..." (a keyword or an annotation's value): the policy, or
  // evict_normal with a warning where the target has no L2 cache policies.
  EvictionPolicy evictionPolicyArg(const ast::Expr& value);

  static bool makesBuffer(const std::string& n);  // vocabulary kind Named, a proxy view or X.from_ptr
  // `Tensor.from_ptr`, `Buffer.from_ptr`, ... (every proxy; the non-global ones are errors).
  static bool isFromPtr(const std::string& n);
  static bool isPureBuiltin(const std::string& n);  // kind Value or Math

  StmtRef inlineMacro(const ast::Call& c, const ast::FunctionDecl& m);

  StmtRef expandMacro(const ast::Call& c, const ast::FunctionDecl& m);

  Value macroArgument(const ast::Param& p, const ast::Expr& arg, const ast::FunctionDecl& m);

  BufferRef bufferOf(const ast::Expr& e);

  // reduce_sum / _max / _min / _abssum / _absmax (Reductions.cpp).
  static bool isReduction(const std::string& callee);
  // The shared scratch tile each fragment reduced so far goes through: one per source,
  // reused by its later reductions (InsertBarriers orders the reuse).
  std::map<BufferRef, BufferRef, ById> reductionScratch_;
  StmtRef reduceOp(const ast::Call& c, const std::string& callee);
  // cumsum(src, dst=None, dim=0, reverse=False) (Scans.cpp).
  StmtRef cumsumOp(const ast::Call& c);

  // The indices of an element access `A[i, j]`.
  std::vector<ExprRef> elementIndices(const ast::Index& ix, const BufferRef& buf);

  void checkRank(const ast::Index& ix, const BufferRef& buf);

  // An error about a buffer, with a note at its declaration.
  [[noreturn]] void failAbout(SourceRange r, const std::string& msg, const BufferRef& buf);

  // A constant index provably outside its axis (constant shape). Element accesses
  // are not predicated, so this holds for global tensors too.
  void checkElementInside(int64_t index, size_t axis, const BufferRef& buf, SourceRange r);

  // ------------------------------------------------------------- regions

  RegionSpec regionSpec(const ast::Expr& e, Access access);
  // region / buffer_to_tile_region / buffer_load_to_tile_region /
  // buffer_region_to_tile_region as one side of a tile operation used for `use`.
  static bool isRegionHelper(const std::string& callee);
  RegionSpec regionHelper(const ast::Call& c, const std::string& helper, Access use);

  static bool extentsKnown(const RegionSpec& r);

  // A head address takes its extents from the other side (sema::headExtents).
  void headFrom(RegionSpec& head, const RegionSpec& other);
  // A whole buffer of symbolic shape copied with a region of known extents: its head
  // (A[0, ...]) with those extents, and a launcher requirement that it holds them.
  void wholeAsHead(RegionSpec& whole, const RegionSpec& other);

  // The documented rule: right-align, drop unit dimensions, remaining extents equal.
  std::pair<Region, Region> settleRegions(RegionSpec src, RegionSpec dst, SourceRange callRange);
  void checkPackedCopy(const Region& s, const Region& d, SourceRange callRange);

  // A region provably outside its buffer (constant start, constant shape) is an
  // error. A tile (shared, fragment, local) must hold the whole region; a global
  // tensor's region may run past its end (a ragged edge: predicated at run time)
  // but must start inside it. A symbolic start is not checked here.
  void checkRegionInside(const RegionSpec& r);

  static std::vector<int64_t> constExtents(const RegionSpec& r);
  static Region toRegion(const RegionSpec& s);

  std::string stringArg(const ast::Expr& e, const std::string& what, const std::vector<std::string>& valid);
  static std::string joinedQuoted(const std::vector<std::string>& v);
  bool boolArg(const ast::Expr& e, const std::string& what);

  static const std::vector<std::string>& copyKeywords(const std::string& op);

  // One copy option, from a keyword argument or an annotations={...} entry.
  bool ignoredAnnotation(const std::string& key, const std::string& op, SourceRange at);
  CopyOptions copyOptions(const std::string& op, const ast::Call& c, SourceRange& preferAt);
  CopyOptions elementCopyOptions(const std::string& op, const ast::Call& c, const std::string& what);
  void copyOption(const std::string& op, CopyOptions& o, const std::string& key, const ast::Expr& value, SourceRange keyRange,
                  bool fromAnnotations, SourceRange& preferAt);

  // annotations={"key": value, ...} of an operation other than copy: string keys, each
  // once, each one of `valid` (the keyword it stands for); `apply` takes each entry,
  // after the keyword arguments, so an annotation wins over its keyword (as on copy).
  void forEachAnnotation(const ast::Call& c, const std::string& op, const std::vector<std::string>& valid,
                         const std::function<void(const std::string&, const ast::Expr&, SourceRange)>& apply);

  // copy(src, dst, ...) and async_copy(src, dst, ...): the same regions and options;
  // async_copy issues cp.async and commits a group without waiting for it.
  StmtRef copyOp(const ast::Call& c, const std::string& op);
  // atomic_add / atomic_max / atomic_min (Atomics.cpp). `result` non-null: the call is
  // the value of an assignment (return_prev=True); it receives the local holding the
  // old value, declared by the returned statements.
  static bool isAtomicName(const std::string& callee);
  StmtRef atomicOp(const ast::Call& c, const std::string& callee, VarRef* result);
  void withUnitAxis(std::vector<VarRef>& vars, std::vector<int64_t>& extents, StmtRef& body);
  int sblockDepth_ = 0;  // with sblock(...) scopes around the statement being analyzed
  StmtRef scopeBlock(const ast::With& w);
  StmtRef atomicAddVector(const ast::Call& c, const std::string& callee);
  // copy(A[i, j], B[k, l]) inside a Parallel loop: one element, one store (the rule of
  // two scalar elements, per iteration).
  StmtRef elementCopy(const ast::Call& c, const std::string& op);
  // A copy or fill whose region has a run-time extent (a slice `x[0:len]`, a whole
  // tensor of symbolic shape) becomes a Parallel loop over compile-time bounds whose
  // body is guarded by `index < extent` on each run-time axis (runtimeNest).
  StmtRef runtimeCopy(const ast::Call& c, const RegionSpec& src, const RegionSpec& dst, const CopyOptions& options);
  StmtRef runtimeFill(const ast::Call& c, const RegionSpec& r, ExprRef value);
  struct NestAxis {
    int64_t bound = 0;  // the loop's extent; 0: none known (one such axis alone runs in chunks of the threads)
    ExprRef limit;      // the run-time extent the index must stay below, or null
  };
  // The Parallel loop (or serial loop of chunks of one) over `axes`; `make` builds the
  // body from the indices, which the guard then wraps.
  StmtRef runtimeNest(SourceRange r, const std::string& what, const std::vector<NestAxis>& axes,
                      const std::function<StmtRef(const std::vector<ExprRef>&)>& make);

  // transpose(src, dst): two whole shared tiles of one dtype, dst's shape src's
  // with the last two axes swapped.
  StmtRef transposeOp(const ast::Call& c);
  StmtRef printStmt(const ast::Call& c);

  // im2col(img, col, nhw_step, c_step, kernel, stride, dilation, pad, eviction_policy=)
  // (and the deprecated c2d_im2col): a copy read through the column matrix of an
  // NHWC image (ir::Im2col). The image's dims may be symbolic; the geometry may not.
  StmtRef im2colOp(const ast::Call& c, const std::string& op);

  // copy_cluster(src, dst, cluster_mask= | dst_block=, ...): a global tile multicast to
  // the blocks of the cluster named by the mask, or a shared tile copied into the
  // shared memory of the cluster's block `dst_block`.
  StmtRef copyClusterOp(const ast::Call& c);
  // cluster_mask=M of copy_cluster or tma_copy: a constant positive bit mask naming
  // blocks of this kernel's cluster (bit r: rank r); `op` needs clusters.
  int clusterMaskArg(const ast::Expr& value, const std::string& op, SourceRange callee);

  // annotate_layout({tile: swizzled(tile, 32|64|128) | padded(tile, n), ...}): fixes
  // the shared tiles' layouts (ir::SharedLayout) for every access in the kernel.
  void annotateLayout(const ast::Call& c);

  // cp_async_commit() closes the group of cp.async copies issued so far;
  // cp_async_wait(n) waits until at most n groups are in flight.
  StmtRef cpAsyncGroup(const ast::Call& c, const std::string& callee);

  // fill(region, value) / clear(region): any scope; the region's extents must be
  // compile-time constants (an element is a region of one).
  StmtRef fillOp(const ast::Call& c, const std::string& callee);

  // ------------------------------------------------- gather4 (Gather4.cpp)

  // tma_gather4 / tma_scatter4 / tma_gather4_bytes exist on sm_100a only: elsewhere
  // an error at the call that names the target.
  void requireBlackwell(const ast::Call& c, const std::string& callee);
  ExprRef gather4Bytes(const ast::Call& c);
  void checkGather4Box(int64_t box, DType dtype, SourceRange r, SourceRange dtypeRange);
  StmtRef gather4Op(const ast::Call& c, const std::string& callee);
  void gather4Swizzle(const ast::Call& c, const std::string& callee, const BufferRef& tile, int64_t rowBytes);

  // -------------------------------------------------------------- layouts

  // `L = Fragment(shape, thread=(i, j) -> .., index=(i, j) -> ..)`: evaluates both
  // maps at every iteration and checks the bijection (ir/ThreadLayout.h).
  StmtRef layoutDecl(const std::string& n, const ast::Assign& a, const ast::Call& c);
  ThreadLayoutRef fragmentLayout(const std::string& n, const ast::Call& c);
  // Adds a layout's `iterations` to the file's count before they are evaluated; an
  // error at `where` past SemaOptions::layoutIterationsPerFile.
  void countLayoutIterations(int64_t iterations, const SourceRange& where, const std::string& what);
  // Lambda `e` at every iteration of `shape`: its body, or `part` of it (an element of a tuple it gives).
  // A lambda's parameters (Int32 variables) and one of its results as an expression
  // over them, checked pure; `part` is that result (default: the whole body).
  struct LambdaExpr {
    std::vector<ir::VarRef> params;
    ir::ExprRef body;
    const ast::Expr* source = nullptr;
  };
  LambdaExpr lambdaExpr(const ast::Expr& e, const std::string& what, const std::vector<int64_t>& shape,
                        const ast::Expr* part = nullptr);
  std::vector<int64_t> evalLambdaAt(const LambdaExpr& l, const std::string& what, const std::vector<int64_t>& shape);
  std::vector<int64_t> evalLambda(const ast::Expr& e, const std::string& what, const std::vector<int64_t>& shape,
                                  const ast::Expr* part = nullptr);
  // annotate_layout({tile: Layout(shape, lambda i, j: (p, q))}): the tile's index map
  // (ir::SharedLayout), evaluated at every element and checked injective.
  void sharedIndexMap(const BufferRef& tile, const ast::Call& call);
  ir::SharedLayout viewIndexMap(const ir::Buffer& view, const ir::Buffer& tile);
  std::vector<int64_t> layoutShapeArg(const ast::Expr& shapeArg, const std::string& what);
  // annotate_layout({frag: Fragment(shape, forward_fn=..., replicate=n)}): checked, not honoured (a warning).
  void fragmentLayoutHint(const BufferRef& frag, const ast::Call& call);
  std::string iterationText(const std::vector<int64_t>& shape, int64_t flat) const;
  std::vector<std::string> lambdaNames_;  // the parameters of the Fragment being checked, for messages
  // loop_layout=L (a name bound to a Fragment, or a Fragment(...) call).
  ThreadLayoutRef layoutArg(const ast::Expr& e);
  // The layout's shape must equal the operation's extents (unit dimensions dropped).
  void checkLayoutShape(const ThreadLayoutRef& layout, const std::vector<int64_t>& extents, SourceRange at,
                        const std::string& what);

  // assume(cond) (Assumes.cpp): facts about the parameters, checked by the launcher.
  StmtRef assumeStmt(const ast::Call& c);
  void addAssumption(const ast::Expr& cond, const std::string& text);
  ExprRef assumedValue(const ast::Expr& e);
  bool readsOnlyParameters(const ExprRef& e) const;

  // annotate_safe_value({A: v, ...}): the value of A's out-of-bounds reads.
  StmtRef annotateSafeValue(const ast::Call& c);
  ExprRef safeValueOf(const ast::Expr& e, const BufferRef& buf);
  // Where each tensor of this kernel got its safe value; the key's buffer is held so
  // that the map never orders by a freed node (cleared at each kernel).
  std::map<const Buffer*, std::pair<SourceRange, BufferRef>, ById> safeValueAt_;

  // ---------------------------------------------------------- expressions

  ExprRef scalarExpr(const ast::Expr& e);

  ExprRef toBool(const ExprRef& v, SourceRange r);

  ExprRef callExpr(const ast::Call& c);

  // --------------------------------------------------- barriers (Async.cpp)

  // bar = alloc_barrier(arrive_count): one mbarrier in shared memory; alloc_barrier([n0, n1])
  // (and alloc_cluster_barrier): an array of them.
  StmtRef allocBarrier(const std::string& n, const ast::Assign& a, const ast::Call& c);
  // An argument that must name an alloc_barrier buffer.
  BufferRef barrierArg(const ast::Expr& e, const std::string& op);
  // A barrier operand of barrier_arrive / mbarrier_wait_parity / mbarrier_expect_tx:
  // `bar` or `bar[i]` (index null for `bar`: the first barrier).
  struct BarrierOperand {
    BufferRef buffer;
    ExprRef index;
  };
  BarrierOperand barrierOperand(const ast::Expr& e, const std::string& op);
  // Positional arguments, then keywords (each parameter may have several spellings):
  // one expression or null per parameter; a parameter given twice is an error.
  std::vector<const ast::Expr*> boundArgs(const ast::Call& c, const std::string& op,
                                          const std::vector<std::vector<std::string>>& params, const std::string& usage);
  // A barrier used where a tile is expected is an error.
  void rejectBarrier(const BufferRef& buf, SourceRange r);
  ExprRef integerArg(const ast::Expr& e, const std::string& what);
  // barrier_arrive, mbarrier_wait_parity, mbarrier_expect_tx, tma_store_arrive, tma_store_wait.
  StmtRef syncOp(const ast::Call& c, const std::string& callee);
  ExprRef shuffleElect(const ast::Call& c);
  // tma_copy(src, dst, barrier=, leader_scope_threads=, eviction_policy=, annotations=).
  StmtRef tmaCopyOp(const ast::Call& c);
  // cp_async_gs(size, dst, src), cp_async_gs_conditional(size, dst, src, cond),
  // cp_async_shared_global(dst, src, cp_size, modifier, src_size=).
  StmtRef cpAsyncIntrinsic(const ast::Call& c, const std::string& callee);
  // D = tma_descriptor(A, box=(..), swizzle=..); tma_load, tma_store, prefetch_tma_descriptor.
  StmtRef tmaDescriptor(const std::string& n, const ast::Assign& a, const ast::Call& c);
  StmtRef tensorMapIntrinsic(const ast::Call& c, const std::string& callee);
  // extract_tensormap_ptr(D): a descriptor whose `expr` is the map's generic address
  // (a uint64 in scalar expressions); tma_load / tma_store / prefetch take it as D.
  Value tensorMapPointer(const ast::Call& c);
  // The descriptor an operand names: D, a name bound to extract_tensormap_ptr(D), or
  // that call itself.
  Value descriptorArg(const ast::Expr& d, const std::string& callee);
  // An element A[i, ...] of a buffer of `scope`, as an operand address.
  BufferRef elementOperand(const ast::Expr& e, MemScope scope, const std::string& what, std::vector<ExprRef>& indices);
  void tmaCopyOption(CopyOptions& o, const std::string& key, const ast::Expr& value, SourceRange keyRange,
                     bool fromAnnotations, SourceRange& barrierAt, SourceRange& preferAt);
};

}  // namespace tlc::sema
