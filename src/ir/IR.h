// IR: the tile IR and the loop IR, one set of nodes at two levels.
//
// Tile IR (made by semantic analysis): a kernel's body holds tile operations
// (CopyOp, ParallelOp, FillOp) next to scalar code; element accesses are
// multi-dimensional (`Load.indices.size() == buffer rank`).
// Loop IR (made by lowering): no tile operations remain; every Load/Store has one
// flat element index into its buffer (`indices.size() == 1`), fragments have
// become per-thread `Local` arrays, and barriers are explicit. The backend accepts
// only loop IR (`verifyLoopIR` checks it).
//
// Expressions are immutable and shared (ExprRef). Variables and buffers are
// identified by node (the same object), and ordered by their CreationId, never by
// address (see "identity" below). Every statement keeps the source range it came from.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/Diagnostics.h"

namespace tlc::ir {

// ------------------------------------------------------------------- types

// The rows of DTypes.def. Handle is an untyped global pointer (a `ptr(...)`
// parameter or a tensor's data).
enum class DType : uint8_t {
#define TLC_DTYPE(Id, Name, Bits, Class, Signed, StorageOnly, CType, TensorMap, Llvm) Id,
#include "ir/DTypes.def"
};

const char* name(DType t);                            // "float16"
std::optional<DType> dtypeFromName(std::string_view);  // accepts the spec's spellings
int bits(DType t);                                     // Float4E2M1: 4; Handle: 64; Bool: 8
bool isFloat(DType t);                                 // fp8/fp4 included
bool isInt(DType t);                                   // Bool excluded
bool isSigned(DType t);
// Storage-only float types (fp8, fp4): loadable and castable, no arithmetic.
bool isStorageOnly(DType t);
// The C type the launcher header passes a scalar parameter of type `t` as.
const char* headerCType(DType t);
// The CUtensorMapDataType TMA moves `t` as ("CU_TENSOR_MAP_DATA_TYPE_UINT8"), or
// nullptr when TMA cannot move it (float4_e2m1fn unpacked, handles).
const char* tensorMapDataTypeName(DType t);

enum class MemScope { Global, Shared, Fragment, Local };
const char* name(MemScope s);  // "global", "shared.dyn", "local.fragment", "local"

// ------------------------------------------------------------- expressions

enum class ExprKind { IntImm, FloatImm, Var, Binary, Unary, Select, Cast, Call, Load };

enum class BinOp {
  Add, Sub, Mul,
  Div,       // floats: IEEE division. integers: not produced by sema (use FloorDiv)
  FloorDiv,  // integers: floor division (Python `//`); floats: floor(a / b)
  FloorMod,  // integers: Python `%` (sign of the divisor); floats: a - floor(a/b)*b
  Min, Max, Pow,
  BitAnd, BitOr, BitXor, Shl, Shr,
  Lt, Le, Gt, Ge, Eq, Ne,  // result dtype Bool
  And, Or,                 // on Bool
};
enum class UnOp { Neg, BitNot, Not };

// Builtin calls: the rows of Builtins.def. Pure unless noted there.
enum class Builtin {
#define TLC_BUILTIN(Id, Name, Arity, Result, Varies, Math) Id,
#include "ir/Builtins.def"
};
enum class BuiltinResult { SameAsArgument, Int32, UInt64, Bool, Float4E2M1 };
enum class BuiltinVaries { None, Thread, Block };
enum class BuiltinMath { Internal, NoFloat64, WithFloat64 };
// A row of Builtins.def (see there for what each column means).
struct BuiltinInfo {
  const char* name;
  int arity;
  BuiltinResult result;
  BuiltinVaries varies;
  BuiltinMath math;
};
const BuiltinInfo& info(Builtin b);
const char* name(Builtin b);
// The elementwise math function a .tl file calls `name` ("exp"), if any.
std::optional<Builtin> mathFunctionNamed(std::string_view name);
// The rows of RoundingModes.def: round(x, mode); the first is round(x)'s.
enum class RoundingMode {
#define TLC_ROUNDING_MODE(Id, Spelling, Via) Id,
#include "ir/RoundingModes.def"
};
struct RoundingModeInfo {
  const char* spelling;  // "ties-to-even"
  Builtin builtin;       // the math builtin that rounds this way
};
inline constexpr RoundingModeInfo kRoundingModes[] = {
#define TLC_ROUNDING_MODE(Id, Spelling, Via) {Spelling, Builtin::Via},
#include "ir/RoundingModes.def"
};
constexpr const char* name(RoundingMode m) { return kRoundingModes[static_cast<int>(m)].spelling; }
constexpr Builtin roundingBuiltin(RoundingMode m) { return kRoundingModes[static_cast<int>(m)].builtin; }
std::optional<RoundingMode> roundingModeNamed(std::string_view spelling);
std::vector<std::string> roundingModeSpellings();  // for "valid: ..." lists
const char* spelling(BinOp op);

struct Buffer;
using BufferRef = std::shared_ptr<Buffer>;

// ---------------------------------------------------------------- identity

// Where a variable or buffer stands in the order of creation. Passes keep them in
// ordered containers whose iteration can reach an output (a variant's assumptions,
// remarks, the header's checks); ordered by address, that output would change
// with the allocator (issue 16). Such containers order by CreationId (`ById`).
//
// The numbers come from one process-wide atomic counter (IR.cpp). Only their
// relative order matters, and it is deterministic: sema runs on one thread, and each
// group of kernels is lowered on one thread (tlc -j), which creates its nodes in an
// order that depends only on the input and the flags. The counter is monotonic, so
// the nodes one thread creates keep their relative order whatever other threads
// take numbers in between, and a kernel's lowering compares only its own nodes and
// the tile IR's (all older). Two compilations in one process (the unit tests) give
// each file the same relative order, only shifted.
//
// A copy (`std::make_shared<Buffer>(*b)`: a kernel's own copy of its buffers, a
// pipelined tile's ring, an fp4 buffer's byte twin) is a new node with a new
// `serial`, but it keeps the original's `order`: it sorts right after its
// original (and that original's earlier copies), so a pass that swaps buffers for
// copies keeps the order they had. Assigning one node's fields to another keeps
// the target's identity.
struct CreationId {
  CreationId();                             // a new node: the next number for both keys
  CreationId(const CreationId& original);   // a copy: the original's order, a new serial
  CreationId& operator=(const CreationId&) { return *this; }
  uint64_t order;   // the creation number of the first node of this one's copy chain
  uint64_t serial;  // this node's own creation number: unique in the process
  friend bool operator<(const CreationId& a, const CreationId& b) {
    return a.order != b.order ? a.order < b.order : a.serial < b.serial;
  }
};

// Orders variables and buffers (raw or shared pointers) by CreationId, null first
// (a lookup of a null key is a miss, not a crash):
// `std::map<const VarNode*, T, ById>`, `std::set<const Buffer*, ById>`.
struct ById {
  template <class T> bool operator()(const T* a, const T* b) const {
    if (!a || !b) return !a && b;
    return a->id < b->id;
  }
  template <class T> bool operator()(const std::shared_ptr<T>& a, const std::shared_ptr<T>& b) const {
    return (*this)(a.get(), b.get());
  }
};

struct ExprNode {
  ExprNode(ExprKind k, DType t, int lanes = 1) : kind(k), dtype(t), lanes(lanes) {}
  virtual ~ExprNode() = default;
  ExprKind kind;
  DType dtype;
  int lanes;  // > 1: a vector of `lanes` elements (only Load, Cast, Binary, Unary of vectors)
  // The node as its kind's struct (T::kKind); debug builds check the kind.
  template <class T> const T& as() const {
#ifndef NDEBUG
    TLC_ASSERT(kind == T::kKind, "expression node read as another kind");
#endif
    return static_cast<const T&>(*this);
  }
};
using ExprRef = std::shared_ptr<const ExprNode>;

struct IntImm : ExprNode {
  static constexpr ExprKind kKind = ExprKind::IntImm;
  IntImm(DType t, int64_t v) : ExprNode(ExprKind::IntImm, t), value(v) {}
  int64_t value;
};
struct FloatImm : ExprNode {
  static constexpr ExprKind kKind = ExprKind::FloatImm;
  FloatImm(DType t, double v) : ExprNode(ExprKind::FloatImm, t), value(v) {}
  double value;
};
// A scalar variable: a kernel parameter, a loop variable or a mutable local.
struct VarNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Var;
  VarNode(std::string n, DType t) : ExprNode(ExprKind::Var, t), name(std::move(n)) {}
  std::string name;
  CreationId id;
};
using VarRef = std::shared_ptr<const VarNode>;

struct BinaryNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Binary;
  BinaryNode(BinOp o, ExprRef a, ExprRef b, DType t, int lanes)
      : ExprNode(ExprKind::Binary, t, lanes), op(o), a(std::move(a)), b(std::move(b)) {}
  BinOp op;
  ExprRef a, b;
};
struct UnaryNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Unary;
  UnaryNode(UnOp o, ExprRef a) : ExprNode(ExprKind::Unary, a->dtype, a->lanes), op(o), a(std::move(a)) {}
  UnOp op;
  ExprRef a;
};
struct SelectNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Select;
  SelectNode(ExprRef c, ExprRef t, ExprRef f)
      : ExprNode(ExprKind::Select, t->dtype, t->lanes), cond(std::move(c)), t(std::move(t)), f(std::move(f)) {}
  ExprRef cond, t, f;  // both arms are evaluated: only pure, in-bounds arms
};
struct CastNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Cast;
  CastNode(DType to, ExprRef a) : ExprNode(ExprKind::Cast, to, a->lanes), a(std::move(a)) {}
  ExprRef a;
};
struct CallNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Call;
  CallNode(Builtin b, std::vector<ExprRef> args, DType t)
      : ExprNode(ExprKind::Call, t), builtin(b), args(std::move(args)) {}
  Builtin builtin;
  std::vector<ExprRef> args;
  int dim = 0;  // ThreadIdx / BlockIdx: 0 = x, 1 = y, 2 = z
  // Print: the message ("" for none), then one label per argument (as written).
  std::vector<std::string> strings;
};
// Reads `lanes` consecutive elements starting at `indices`.
// When `predicate` is set and false, no memory is touched and the value is `otherwise`
// (or zero when `otherwise` is null).
struct LoadNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Load;
  LoadNode(BufferRef buf, std::vector<ExprRef> idx, DType t, int lanes)
      : ExprNode(ExprKind::Load, t, lanes), buffer(std::move(buf)), indices(std::move(idx)) {}
  BufferRef buffer;
  std::vector<ExprRef> indices;
  ExprRef predicate;  // Bool scalar or null
  ExprRef otherwise;  // scalar of the buffer's dtype or null (= 0)
  int alignBytes = 0; // known alignment of the first element's address (0 = element size)
  // Global buffers, loop IR: GuardGlobalAccesses proved every index in bounds or put
  // the unproven bounds into `predicate`. verifyLoopIR refuses a global load without
  // it (one made after that pass, or one it never saw: a forgotten guard).
  bool boundsChecked = false;
  // Global buffers: an L2 cache policy for the access (an EvictionPolicies.def
  // CacheHint, from a copy's eviction_policy=); codegen makes the policy with
  // createpolicy and reads with ld.global.L2::cache_hint. 0: none.
  int64_t cacheHint = 0;
};

// --------------------------------------------------------------- layouts

// A thread layout, `L = Fragment(shape, thread=(i, j) -> .., index=(i, j) -> ..)`:
// iteration number `flat` (row-major over `shape`) runs on thread `threadOf[flat]`
// and its fragment element lives at local index `indexOf[flat]`. Sema builds it
// only when the map is a bijection onto threads x localSize (ir/ThreadLayout.h), and
// records the inverse that lowering uses: for each local index k, the loop index of
// each dimension as a sum of digit fields of the thread index (mixed radix: binary
// digits, and the odd factor of a thread count that is not a power of two).
struct BitField {
  int64_t divisor = 1;
  int64_t modulus = 1;  // ((t // divisor) % modulus) * coef
  int64_t coef = 0;
};
struct BitLinear {
  int64_t constant = 0;
  std::vector<BitField> fields;  // value(t) = constant + sum of the fields
};
struct ThreadLayout {
  std::string name;
  std::vector<int64_t> shape;
  int threads = 0;
  int64_t localSize = 0;
  std::vector<int32_t> threadOf, indexOf;  // per iteration, row-major
  std::vector<std::vector<BitLinear>> inverse;  // [k][dimension]: the iteration thread t runs at index k
  SourceRange declRange;
  bool sameMapping(const ThreadLayout& o) const {
    return threads == o.threads && threadOf == o.threadOf && indexOf == o.indexOf;
  }
};
using ThreadLayoutRef = std::shared_ptr<const ThreadLayout>;

// --------------------------------------------------------------- buffers

// How a fragment's elements are spread over the block's threads: element number
// `flat` (row-major over the fragment's shape) is owned by thread
// `(flat / vec) % threads` at local index `(flat / (vec * threads)) * vec + flat % vec`.
// With `custom` set (a `loop_layout` imposed on a use of the fragment), the custom
// layout decides instead, and vec is 1.
//
// A broadcast fragment (`broadcastFrom` set: a fragment read in a Parallel loop of a
// larger shape, each of its indices a loop variable, a loop variable floor-divided by
// a constant, or 0 along an axis of extent 1, as `scale[i]` or `a[i, j // 32]` in
// Parallel(BM, BN)) is the image of that loop's layout instead: thread t's register
// r holds the element the loop's thread t reads at its group `r / lanes` (lane
// `r % lanes`), with `vec` and `threads` the loop's, `lanes` = vec when the innermost
// loop axis is read with a divisor that vec does not divide and 1 otherwise (all of
// a group's lanes then read one element). Several threads hold the same element (a
// row's scale lives in every thread that has part of the row), so every use finds
// it in a register with a constant index. LayoutFragments makes it one only when
// every element is some iteration's (the map is onto the fragment).
struct BroadcastIndex {
  int axis = -1;         // the loop axis; -1: the constant 0
  int64_t divisor = 1;   // the index is the loop index floor-divided by this
  bool operator==(const BroadcastIndex& o) const { return axis == o.axis && divisor == o.divisor; }
  bool operator!=(const BroadcastIndex& o) const { return !(*this == o); }
};
// How index `e` of a fragment read in a Parallel loop over `vars` reads the loop:
// `v`, `v // k` or `v >> s` (k, 2^s positive constants; v one of `vars`) or the
// constant 0 (axis -1); nullopt for anything else.
std::optional<BroadcastIndex> broadcastIndexOf(const ExprRef& e, const std::vector<VarRef>& vars);

struct FragmentLayout {
  int threads = 0;
  int vec = 1;
  int64_t localSize = 0;  // elements per thread: ceil(numel / (vec*threads)) * vec
  ThreadLayoutRef custom;
  std::vector<int64_t> broadcastFrom;  // the larger loop's extents; empty: not a broadcast
  std::vector<BroadcastIndex> keptAxes;  // broadcast: per axis of this fragment, how it reads the loop
  bool isBroadcast() const { return !broadcastFrom.empty(); }
  // broadcast: the registers per group of the loop (see above)
  int lanes() const {
    for (const auto& k : keptAxes)
      if (k.axis + 1 == (int)broadcastFrom.size() && k.divisor % vec != 0) return vec;
    return 1;
  }
  bool sameBroadcast(const FragmentLayout& o) const {
    return broadcastFrom == o.broadcastFrom && keptAxes == o.keptAxes && vec == o.vec;
  }
};

// Where a shared tile's elements sit in memory. Row-major (with the buffer's
// strides) unless one of these applies; every shared access goes through
// ir::sharedElementOffset (FlattenBufferAccess, the cp.async offsets), so all ops
// on a tile agree.
//  - Pieces (chosen by lowering for a transpose's destination, LayoutSharedTiles):
//    within each row (the last axis) pieces of `unit` elements are permuted:
//    element (.., r, c) lives at column c ^ (((r / rowDiv) % span) * unit). Rows
//    stay in place and a piece stays contiguous, so an access of at most `unit`
//    elements that starts on a multiple of its width is still one access.
//  - TMA swizzle (annotate_layout swizzled(t, 32|64|128)): the byte offset o of
//    the row-major element becomes o ^ (((o >> 7) % (bytes / 16)) << 4), the
//    pattern CU_TENSOR_MAP_SWIZZLE_{32,64,128}B writes (Sw<b,4,3>): 16-byte chunks
//    permuted inside each 128-byte line, so accesses of up to 16 bytes stay whole.
//  - Padding (annotate_layout padded(t, n)): `pad` elements after each row; the
//    buffer's strides say it, this only records it.
//  - Index map (annotate_layout Layout(shape, lambda i, j: (p, q))): element
//    (i, j) lives at the physical index (p, q) of a row-major array of `mapShape`
//    (each output's largest value + 1). Sema evaluated it at every element
//    (injective, within int32); `mapRun` is the longest run of consecutive elements
//    of the last axis that stays consecutive and aligned in memory (the widest
//    vector an access may use).
struct SharedLayout {
  int unit = 0;    // Pieces: elements per piece; 0 = none
  int span = 1;    // Pieces: XORed together (a power of two dividing the row's piece count)
  int rowDiv = 1;  // Pieces: consecutive rows that share one key
  int swizzleBytes = 0;  // TMA swizzle: 32, 64 or 128; 0 = none
  int pad = 0;           // padding: elements after each row
  // Index map: the lambda's parameters (one per axis) and its outputs over them.
  std::vector<VarRef> mapParams;
  std::vector<ExprRef> mapOutputs;
  std::vector<int64_t> mapShape;  // the physical array; its element count is the tile's storage
  int mapRun = 1;                 // elements an access may move at once (a power of two)
  bool annotated = false;  // fixed by annotate_layout (lowering keeps it)
  std::string why;         // who chose it (for --remarks)
  bool permutesPieces() const { return unit > 0 && span > 1; }
  bool mapped() const { return !mapOutputs.empty(); }
  // The buffer's strides place every element (row-major, or padded rows): no
  // permutation and no map to apply on top of them.
  bool plainStrides() const { return !permutesPieces() && !swizzleBytes && !mapped(); }
  bool rowMajor() const { return plainStrides() && !pad; }
  // The most consecutive elements of a row an access may move at once; 0 = no limit
  // from the layout (a swizzle keeps 16-byte chunks whole; vectors are no wider).
  int maxRun() const { return mapped() ? mapRun : permutesPieces() ? unit : 0; }
};

struct Buffer {
  std::string name;
  DType dtype = DType::Float32;
  MemScope scope = MemScope::Global;
  std::vector<ExprRef> shape;    // Int32 expressions (constants or parameter vars)
  std::vector<ExprRef> strides;  // in elements, same rank as shape
  VarRef data;                   // Global: the Handle parameter (or loadedBase local) holding the base address
  int64_t sharedOffset = -1;     // Shared: byte offset in dynamic shared memory
  int alignBytes = 16;           // Global: alignment the launcher guarantees (16 for tensors)
  // Global: an offset in elements added to `data` before indexing (`Buffer(elem_offset=)`);
  // null = 0. Sema does not set it yet: it reports `not yet supported` until lowering adds it.
  ExprRef elemOffset;
  bool isBarrier = false;        // Shared: an array of 8-byte mbarriers (placed 8-byte aligned)
  // Shared, isBarrier: user barriers from `alloc_barrier(n)` or `alloc_barrier([n0, n1, ...])`:
  // the arrival count of each mbarrier of the array (shape[0] of them; empty = not a user
  // barrier). Lowering initialises each once at kernel entry (one thread, then a fence and
  // a block barrier).
  std::vector<int64_t> barrierArrivals;
  // Shared, isBarrier: the automatic mbarriers of the kernel's TMA loads, one per
  // load or per stage of a pipelined load's ring (AllocateCopyBarriers); lowering
  // initialises each with one arrival.
  bool copyBarriers = false;
  // Global: what a predicated-off read returns (`annotate_safe_value`), a constant of
  // `dtype`; null = 0. Only a non-zero value is recorded.
  ExprRef safeValue;
  // Global: `buffer_type="auto_broadcast"` (TVM's kAutoBroadcast): an axis whose extent
  // is 1 broadcasts, its stride 0, so any index along it reads or writes element 0.
  // Sema applies it: every index along such an axis (constant extent 1, or a run-time
  // extent that may be 1) becomes `extent == 1 ? 0 : index`, and copies of the buffer
  // run as guarded Parallel loops of element accesses; lowering sees no other trace.
  bool autoBroadcast = false;
  // Global parameter: a table of device addresses (TileLang's `Tensor(shape, ptr)`),
  // int64 elements; sema lets only make_tensor(table[i], ...) read an element.
  bool pointerTable = false;
  // Global: `data` is not a parameter but a local (a LetStmt) holding an address loaded
  // in the kernel (make_tensor(table[i], ...)). The launcher knows nothing of it: no
  // alignment beyond the element size may be assumed, and no tensor map describes it.
  bool loadedBase = false;
  // Shared, loop IR only: a view of this tile (same offset, shape, strides) in the
  // shared memory of the cluster's block of rank `clusterRank` (distributed shared
  // memory, reached through `mapa`); null = this block's own tile. Made by lowering
  // for copy_cluster(..., dst_block=); only stored to.
  ExprRef clusterRank;
  // Shared: a view of a tile (`view` / `reshape` of a shared tile, TileLang's T.view):
  // another name, shape and possibly dtype for the same bytes of `viewOf`, the tile
  // that owns them (never itself a view). The view is listed in the allocations after
  // its tile and owns no memory: PlanSharedMemory gives it the tile's offset,
  // InsertBarriers counts its accesses as the tile's (storageOf), and both stay
  // row-major (sema refuses annotated layouts with views, LayoutSharedTiles and
  // PipelineLoops leave such tiles alone). Fragment: a view of a fragment (same dtype
  // and element count): the same registers, as the plain layout places the flat
  // row-major index whatever the shape; LayoutFragments gives both one layout and
  // LowerTileOps one Local array. Local: a view of a local buffer (same dtype and
  // element count): FlattenBufferAccess makes its accesses the buffer's, at the same
  // row-major offset. Null: a buffer of its own.
  BufferRef viewOf;
  FragmentLayout layout;         // Fragment: set by lowering
  SharedLayout sharedLayout;     // Shared: set by lowering (row-major unless a swizzle pays)
  SourceRange declRange;
  CreationId id;                 // new for every Buffer, copies included (see CreationId)
};

// The buffer that owns `b`'s memory: the tile or fragment a view names, else `b`.
inline const Buffer* storageOf(const Buffer* b) { return b->viewOf ? b->viewOf.get() : b; }

// ------------------------------------------------------------ statements

enum class StmtKind {
  Seq, For, If, Let, Assign, Store, Barrier,
  Intrinsic,             // loop IR: asynchronous copies and their barriers
  Copy, Parallel, Fill, Reduce,  // tile IR only
};

struct StmtNode {
  StmtNode(StmtKind k, SourceRange r) : kind(k), range(r) {}
  virtual ~StmtNode() = default;
  StmtKind kind;
  SourceRange range;
  // The node as its kind's struct (T::kKind); debug builds check the kind.
  template <class T> const T& as() const {
#ifndef NDEBUG
    TLC_ASSERT(kind == T::kKind, "statement node read as another kind");
#endif
    return static_cast<const T&>(*this);
  }
  template <class T> T& as() { return const_cast<T&>(static_cast<const StmtNode*>(this)->as<T>()); }
};
using StmtRef = std::shared_ptr<StmtNode>;

struct SeqStmt : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Seq;
  explicit SeqStmt(SourceRange r, std::vector<StmtRef> s = {}) : StmtNode(StmtKind::Seq, r), stmts(std::move(s)) {}
  std::vector<StmtRef> stmts;
};

enum class ForKind {
  Serial,
  Unrolled,   // the backend emits the body once per iteration (extent must be constant)
  Pipelined,  // tile IR: `Pipelined(n, num_stages=)`; lowered to Serial
};
struct ForStmt : StmtNode {
  static constexpr StmtKind kKind = StmtKind::For;
  ForStmt(SourceRange r, VarRef v, ExprRef mn, ExprRef ext, ForKind k, StmtRef b)
      : StmtNode(StmtKind::For, r), var(std::move(v)), min(std::move(mn)), extent(std::move(ext)), kind(k), body(std::move(b)) {}
  VarRef var;
  ExprRef min, extent;  // var runs over [min, min + extent) by `step`
  ExprRef step;         // null = 1; a positive or negative Int32 otherwise
  ForKind kind;
  int stages = 0;       // Pipelined
  // A Serial loop lowering kept rolled past limits::UnrolledElementsPerThread (a
  // fragment indexed by its variable): the backend asks LLVM not to unroll it, which
  // would cost the compile time that keeping it rolled saves.
  bool keepRolled = false;
  StmtRef body;
};
struct IfStmt : StmtNode {
  static constexpr StmtKind kKind = StmtKind::If;
  IfStmt(SourceRange r, ExprRef c, StmtRef t, StmtRef e)
      : StmtNode(StmtKind::If, r), cond(std::move(c)), thenBody(std::move(t)), elseBody(std::move(e)) {}
  ExprRef cond;
  StmtRef thenBody, elseBody;  // elseBody may be null
};
// Declares a mutable scalar local and gives it its first value.
struct LetStmt : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Let;
  LetStmt(SourceRange r, VarRef v, ExprRef val) : StmtNode(StmtKind::Let, r), var(std::move(v)), value(std::move(val)) {}
  VarRef var;
  ExprRef value;
};
// Updates a scalar local declared by a LetStmt (or a loop variable's shadow).
struct AssignStmt : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Assign;
  AssignStmt(SourceRange r, VarRef v, ExprRef val) : StmtNode(StmtKind::Assign, r), var(std::move(v)), value(std::move(val)) {}
  VarRef var;
  ExprRef value;
};
// StoreStmt::atomic, CopyOptions::atomic: atomic_add / atomic_max / atomic_min.
enum class AtomicOp : uint8_t { None, Add, Max, Min };
const char* name(AtomicOp op);  // "atomic_add", ...
// An atomic's memory_order (TileLang's): Relaxed is the atomic alone; the others add
// GPU-scope fences around it (codegen): release before, acquire after, both for
// acq_rel; seq_cst a sequentially consistent fence before and acquire after.
enum class MemoryOrder : uint8_t { Relaxed, Acquire, Release, AcqRel, SeqCst };
const char* name(MemoryOrder order);  // "relaxed", "acquire", ...
// Writes `value` (of `value->lanes` lanes) at `indices`; skipped when `predicate` is false.
struct StoreStmt : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Store;
  StoreStmt(SourceRange r, BufferRef b, std::vector<ExprRef> idx, ExprRef v)
      : StmtNode(StmtKind::Store, r), buffer(std::move(b)), indices(std::move(idx)), value(std::move(v)) {}
  BufferRef buffer;
  std::vector<ExprRef> indices;
  ExprRef value;
  ExprRef predicate;   // Bool scalar or null
  int alignBytes = 0;  // known alignment of the first element's address (0 = element size)
  bool boundsChecked = false;  // as LoadNode::boundsChecked (a store is skipped when out of bounds)
  int64_t cacheHint = 0;       // as LoadNode::cacheHint (st.global.L2::cache_hint)
  // Null for a plain store. Otherwise other threads may write the element's other
  // bits at the same time (a float4_e2m1fn nibble stored under a condition that may
  // hold for one element of a byte and not the other): the store is an atomic
  // read-modify-write that replaces only the bits set in `bitMask` (a scalar of the
  // buffer's dtype) by those of `value`.
  ExprRef bitMask;
  // Not None: an atomic read-modify-write (atomic_add / atomic_max / atomic_min) of
  // each lane, `value` combined with the element in memory; lanes > 1 only for a
  // float16 / bfloat16 pair (one f16x2 / bf16x2 instruction). Atomics of one kind
  // on one element commute, so they are no hazard among themselves. `result`
  // (scalar only): a local (declared before) that receives the element's old value;
  // a predicated-off atomic leaves it unchanged. Null: the old value is unused (PTX
  // `red`, else `atom`).
  AtomicOp atomic = AtomicOp::None;
  VarRef result;
  MemoryOrder order = MemoryOrder::Relaxed;  // atomics only
};
// The same store to another place: a copy of `st` with a new buffer, indices and
// value that keeps its predicate, alignment and bit mask. Passes that move a store
// (flattening, ring buffers, a kernel's own buffers) go through this, so a field
// added to StoreStmt is not dropped by one of them.
std::shared_ptr<StoreStmt> moveStore(const StoreStmt& st, BufferRef buffer, std::vector<ExprRef> indices,
                                     ExprRef value);
// The same for a load: a copy of `l` at a new buffer and indices that keeps its
// predicate, safe value, alignment and bounds mark (a pass that rebuilt a load by
// hand once dropped `boundsChecked`, and verifyLoopIR refused the kernel).
std::shared_ptr<LoadNode> moveLoad(const LoadNode& l, BufferRef buffer, std::vector<ExprRef> indices);
enum class BarrierKind {
  SyncThreads,       // bar.sync 0: all threads of the block
  FenceProxyAsync,   // fence.proxy.async.shared::cta
  ClusterSync,       // barrier.cluster.arrive.release + wait.acquire: all threads of the cluster
  // The split form (cluster_arrive() / cluster_wait()): a thread arrives, may go on
  // with work that needs no other block, then waits until every thread of the
  // cluster has arrived; each thread alternates arrive and wait.
  ClusterArrive,     // barrier.cluster.arrive.release
  ClusterWait,       // barrier.cluster.wait.acquire
};
struct BarrierStmt : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Barrier;
  BarrierStmt(SourceRange r, BarrierKind k) : StmtNode(StmtKind::Barrier, r), barrier(k) {}
  BarrierKind barrier;
};

// How an operation uses a region: copy reads its source and writes its
// destination; fill writes; later ops (reductions, atomics) read and write.
enum class Access : uint8_t { Read, Write, ReadWrite };
inline const char* name(Access a) { return a == Access::Read ? "r" : a == Access::Write ? "w" : "rw"; }

// A rectangular part of a buffer: per axis a start and an extent.
// Rank equals the buffer's rank; unit axes are kept (extent 1).
struct Region {
  BufferRef buffer;
  std::vector<ExprRef> mins;
  std::vector<int64_t> extents;  // tile regions have constant extents
  Access access = Access::Read;
  SourceRange range;
  // Global regions: the axes whose start may be negative (MarkRegionStarts), which
  // a copy's bounds test checks from below too; empty: none.
  std::vector<bool> startMayBeNegative;
};

enum class PreferInstruction { Auto, Tma, CpAsync, Sync };
// How a copy is carried out; chosen by lowering (ChooseCopyPaths).
// BulkDsmem: copy_cluster(shared, shared, dst_block=, remote_barrier=) as bulk
// shared::cta -> shared::cluster copies completing on the destination's barrier.
enum class CopyPath { Undecided, Simt, TmaLoad, TmaStore, CpAsync, TmaMulticast, BulkDsmem };
// The rows of EvictionPolicies.def.
enum class EvictionPolicy {
#define TLC_EVICTION_POLICY(Id, Spelling, CacheHint) Id,
#include "ir/EvictionPolicies.def"
};
struct EvictionPolicyInfo {
  const char* spelling;  // "evict_first"
  int64_t cacheHint;     // IntrinsicStmt::cacheHint; 0 is none
};
inline constexpr EvictionPolicyInfo kEvictionPolicies[] = {
#define TLC_EVICTION_POLICY(Id, Spelling, CacheHint) {Spelling, CacheHint},
#include "ir/EvictionPolicies.def"
};
constexpr const char* name(EvictionPolicy e) { return kEvictionPolicies[static_cast<int>(e)].spelling; }
constexpr int64_t cacheHint(EvictionPolicy e) { return kEvictionPolicies[static_cast<int>(e)].cacheHint; }
// The policy spelled `spelling`, or the one whose cache hint is `hint`.
std::optional<EvictionPolicy> evictionPolicyNamed(std::string_view spelling);
std::optional<EvictionPolicy> evictionPolicyWithHint(int64_t hint);
std::vector<std::string> evictionPolicySpellings();  // for "valid: ..." lists
// IntrinsicStmt::cacheHint values: the L2 eviction priority a copy asks for.
constexpr int64_t kCacheHintEvictFirst = cacheHint(EvictionPolicy::First);
constexpr int64_t kCacheHintEvictLast = cacheHint(EvictionPolicy::Last);
struct CopyOptions {
  int coalescedWidth = 0;  // 0 = choose
  bool disableTma = false;
  EvictionPolicy eviction = EvictionPolicy::Normal;
  PreferInstruction prefer = PreferInstruction::Auto;
  bool async = false;  // async_copy: cp.async and a commit, no wait (cp_async_wait(n) is the user's)
  ThreadLayoutRef layout;  // loop_layout=: which thread runs each element (SIMT and cp.async paths only)
  SourceRange layoutAt;    // where loop_layout was given
  // tma_copy: TMA only, split-phase under the user's protocol. A load expects its
  // bytes on `barrier` and issues; a store issues and commits a bulk group; neither
  // waits. One elected thread of each group of `leaderScope` threads issues.
  bool tmaCopy = false;
  // tma_copy loads: an alloc_barrier buffer; copy_cluster(dst_block=, remote_barrier=):
  // the barrier, the same variable in the destination block, that the copy signals.
  BufferRef barrier;
  ExprRef barrierIndex;  // tma_copy: which of the barrier array's mbarriers (Int32; null = the first)
  int leaderScope = 0;  // tma_copy: a multiple of 32 dividing the block's threads
  // Set by PackFloat4: a float4_e2m1fn copy, now of its uint8 byte twins (remarks
  // say so: their element counts are bytes).
  bool packedFp4 = false;
  // atomic_add(dst_region, src_region): each element of the destination (global)
  // gets the source's added atomically (StoreStmt::atomic); SIMT only.
  AtomicOp atomic = AtomicOp::None;
};
// im2col(img, col, nhw_step, c_step, kernel, stride, dilation, pad): a copy whose
// source is read through the column matrix of an implicit-GEMM convolution,
//   M[(n*OH + oh)*OW + ow, (kh*K + kw)*C + c] = img[n, oh*S - P + kh*D, ow*S - P + kw*D, c]
// (zero outside the image and past M's end). The destination's last two axes hold
// rows [rowStart, rowStart + BM) and columns [colStart, colStart + BK) of M.
struct Im2col {
  ExprRef rowStart, colStart;  // Int32: nhw_step * BM, c_step * BK
  int64_t kernel = 1, stride = 1, dilation = 1, pad = 0;
  ExprRef outH, outW;          // Int32: OH and OW, from the image's H and W
  std::string opName = "im2col";  // or the deprecated "c2d_im2col"
};
// How ChooseCopyPaths decided to carry out a copy: the strategy's name (one of
// lower/copy's ordered list) and, in a derived struct, whatever that strategy
// planned (a TMA copy's assumptions, a bulk DSMEM copy's runs). Immutable once
// made: the copies of a CopyOp share it.
struct CopyPlan {
  explicit CopyPlan(std::string s) : strategy(std::move(s)) {}
  virtual ~CopyPlan() = default;
  std::string strategy;  // "TmaLoad", "CpAsync", ...
};
struct CopyOp : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Copy;
  CopyOp(SourceRange r, Region s, Region d) : StmtNode(StmtKind::Copy, r), src(std::move(s)), dst(std::move(d)) {}
  // After sema: the non-unit extents of both sides agree, in order; except for an
  // im2col copy, whose source is the whole NHWC image (extent -1 on a symbolic axis)
  // and whose destination is a shared (BM, BK) tile.
  Region src, dst;
  std::optional<Im2col> im2col;
  CopyOptions options;
  // transpose(src, dst): shared (.., M, N) -> shared (.., N, M); the regions are the
  // two whole tiles (their extents do not agree: the last two axes are swapped).
  bool transpose = false;
  // copy_cluster: `clusterMask` (non-zero) multicasts a global tile to the blocks of
  // the cluster whose rank bit is set; `dstBlock` (non-null) writes the destination
  // tile of the cluster's block of that rank instead of this block's.
  int clusterMask = 0;
  ExprRef dstBlock;
  // copy_cluster(dst_block=) without remote_barrier under a condition on the block
  // (set by ChooseCopyPaths): the remote stores alone, as in TileLang; the program's
  // cluster_sync() orders them (the kernel also starts and ends with a cluster barrier).
  bool storesOnly = false;
  CopyPath path = CopyPath::Undecided;
  std::string pathReason;  // why not TMA, when it is not (for --remarks)
  std::shared_ptr<const CopyPlan> plan;  // set by ChooseCopyPaths, with `path`
  // Set by AllocateCopyBarriers on an automatic TMA load: the kernel's copyBarriers
  // buffer and the index of this copy's barrier in it (of its ring's first one).
  BufferRef mbarriers;
  int mbarrierIndex = -1;
  // Set by PipelineLoops on a TMA load split in two: the issue runs iterations
  // ahead, the wait where the copy stood. Both name the ring of mbarriers that
  // serves the copy's ring of tiles, the stage (an index into both rings) and, for
  // the wait, the parity of that stage's current phase.
  enum class Part { Whole, IssueOnly, WaitOnly } part = Part::Whole;
  int ring = -1;     // which ring of barriers (one per pipelined copy)
  int ringSize = 0;  // stages in it
  ExprRef stage;     // Int32 in [0, ringSize)
  ExprRef parity;    // WaitOnly: 0 or 1
};
// `for i, j in Parallel(E0, E1) { body }`: every iteration independent.
struct ParallelOp : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Parallel;
  ParallelOp(SourceRange r, std::vector<VarRef> v, std::vector<int64_t> e, StmtRef b)
      : StmtNode(StmtKind::Parallel, r), vars(std::move(v)), extents(std::move(e)), body(std::move(b)) {}
  std::vector<VarRef> vars;
  std::vector<int64_t> extents;
  StmtRef body;
  ThreadLayoutRef layout;  // loop_layout=, or null
  SourceRange layoutAt;
};
// Asynchronous-copy machinery (Hopper). Shared-memory operands are byte offsets
// into the block's dynamic shared memory; `tensorMap` names a TensorMap parameter.
enum class IntrinsicOp {
  MbarrierInit,            // args: barrier offset, arrival count
  MbarrierArriveExpectTx,  // args: barrier offset, transaction bytes
  MbarrierWaitParity,      // args: barrier offset, parity (0/1); every caller waits;
                           // immediate 1: acquire at cluster scope (a barrier that
                           // another block's remote arrive releases), else CTA scope
  MbarrierArrive,          // args: barrier offset (barrier_arrive)
  MbarrierExpectTx,        // args: barrier offset, transaction bytes (no arrival)
  FenceMbarrierInit,       // no args: makes barrier initialisation visible (fence.mbarrier_init)
  TmaLoad,                 // args: shared offset, barrier offset, coords (innermost first);
                           // immediate: 0, or a multicast ctaMask (the tile and the barrier
                           // complete_tx reach the same offsets in each block of the mask)
  TmaStore,                // args: shared offset, coords (innermost first)
  TmaLoadIm2col,           // args: shared offset, barrier offset, coords (c, w, h, n: the first
                           // filter base), im2col offsets (w, h: the filter tap's kw*D, kh*D)
  BulkCommitGroup,         // no args
  BulkWaitGroupRead,       // immediate: groups allowed in flight (reads of shared memory done)
  BulkWaitGroup,           // immediate: groups allowed in flight (writes done)
  PrefetchTensorMap,       // no args
  CpAsync,                 // args: shared offset, element offset into `buffer` (Int64), bytes to read
                           // (the rest of `immediate` bytes are zero-filled); immediate: 4, 8 or 16
  CpAsyncCommitGroup,      // no args
  CpAsyncWaitGroup,        // immediate: groups allowed in flight
  // Blackwell (sm_100a) four-row tensor copies of a 2-D tensor: row `K_box` elements
  // long (`immediate`), the box of `tensorMap` is 1 x K_box. Tile IR: `barrier`
  // (gather only), `shared` + `sharedElement` (the first of 4 x K_box contiguous
  // elements), `buffer` (the global tensor) and args {column, row0..row3};
  // LowerTileOps makes the offsets the front args and `buffer` a tensor map.
  TmaGather4,              // args: barrier offset, shared offset, column, row0, row1, row2, row3
  TmaScatter4,             // args: shared offset, column, row0, row1, row2, row3 (a bulk group)
  // Distributed shared memory (copy_cluster with remote_barrier=). `rank` is the
  // cluster rank of the block whose barrier / tile the offset names (mapa).
  MbarrierArriveRemote,    // args: barrier offset, rank, transaction bytes: one arrival
                           // (release, cluster scope) on that block's barrier; with bytes
                           // > 0 it also expects them (arrive.expect_tx)
  BulkCopyDsmem,           // args: destination offset, source offset, bytes, barrier offset,
                           // rank: cp.async.bulk of `bytes` (a multiple of 16, both offsets
                           // 16-byte aligned) from this block's shared memory into block
                           // `rank`'s, completing the bytes on its barrier
  // One contiguous run of global memory, no tensor map (tma_copy of a row longer
  // than a TMA box). `bytes` a multiple of 16, both addresses 16-byte aligned, every
  // byte inside the tensor (the lowering proves or tests it at run time).
  BulkLoad,                // args: shared offset, barrier offset, element offset into `buffer`
                           // (Int64), bytes: cp.async.bulk global -> shared, complete_tx on the barrier
  BulkStore,               // args: shared offset, element offset into `buffer` (Int64), bytes:
                           // cp.async.bulk shared -> global, in the thread's bulk group
};
const char* name(IntrinsicOp op);
struct IntrinsicStmt : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Intrinsic;
  IntrinsicStmt(SourceRange r, IntrinsicOp o, std::vector<ExprRef> a = {})
      : StmtNode(StmtKind::Intrinsic, r), op(o), args(std::move(a)) {}
  IntrinsicOp op;
  std::vector<ExprRef> args;
  // Tile IR only (user-level operations made by sema, whose shared operands have no
  // byte offset yet): LowerTileOps turns each into a byte offset at the front of
  // `args` (the barrier's first, then the shared element's) and clears these.
  BufferRef barrier;                   // an alloc_barrier buffer
  ExprRef barrierIndex;                // ... and which of its mbarriers (Int32; null = the first)
  BufferRef shared;                    // a shared tile ...
  ExprRef sharedElement;               // ... and the element (row-major number, Int32) the operand starts at
  VarRef tensorMap;        // TmaLoad / TmaStore / PrefetchTensorMap / TmaGather4 / TmaScatter4
  BufferRef buffer;        // CpAsync / BulkLoad / BulkStore: the global side; tile IR TmaGather4 / TmaScatter4: the tensor
  int64_t immediate = 0;   // BulkWaitGroup*: the count; TmaLoad: the multicast mask
  int64_t cacheHint = 0;   // TmaLoad(Im2col) / TmaStore / CpAsync: an L2 cache-policy operand, 0 = none
  // CpAsync: the cache operator; Auto picks .cg for 16 bytes, .ca otherwise.
  enum class CacheOp : uint8_t { Auto, CA, CG } cacheOp = CacheOp::Auto;
};

// fill(buf, v) / clear(buf): every element of `dst` becomes `value`.
struct FillOp : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Fill;
  FillOp(SourceRange r, Region d, ExprRef v) : StmtNode(StmtKind::Fill, r), dst(std::move(d)), value(std::move(v)) {}
  Region dst;
  ExprRef value;
};

// reduce_sum / _max / _min / _abssum / _absmax of a fragment or shared tile into a
// fragment or shared tile (tile IR only): dst[kept...] = fold over axis `dim` of src, each element through
// abs first for AbsSum / AbsMax, in `acc` (float32 for float16 / bfloat16 sources,
// float64 if either side is; an integer dst's own dtype), combined with dst's old
// value when `clear` is false. Sema makes it with `fallback`, the same reduction as
// Parallel loops through shared scratch tiles (`fallbackScratch`, allocated by sema).
// LayoutFragments decides whether per-thread partials and warp shuffles can do it
// (along the innermost axis or axis 0)
// (`shuffle`, else `why` says what rules them out) and gives dst the broadcast
// layout of src's partition; ChooseReductions puts the fallback in place of the
// others and splits a shuffle reduction whose rows span warps in two parts around
// `scratch` (one partial per warp), so that InsertBarriers orders them.
enum class ReduceKind : uint8_t { Sum, Max, Min, AbsSum, AbsMax };
const char* name(ReduceKind k);  // "reduce_sum", ...
struct ReduceOp : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Reduce;
  ReduceOp(SourceRange r, BufferRef s, BufferRef d) : StmtNode(StmtKind::Reduce, r), src(std::move(s)), dst(std::move(d)) {}
  BufferRef src, dst;
  int dim = 0;
  ReduceKind op = ReduceKind::Sum;
  bool clear = true;
  DType acc = DType::Float32;
  StmtRef fallback;                       // null once the shuffle path is chosen
  std::vector<BufferRef> fallbackScratch;  // the shared tiles only `fallback` uses
  bool shuffle = false;                   // LayoutFragments: warp shuffles do it
  std::string why;                        // ... or why not (for --remarks)
  // ChooseReductions: Whole, or the two halves around `scratch` (shared, (slots,
  // warps) of `acc`): each warp's partial of each row it holds, then their fold.
  enum class Part : uint8_t { Whole, WarpPartials, FoldWarps } part = Part::Whole;
  BufferRef scratch;
};

// -------------------------------------------------------------- kernels

enum class ParamKind {
  Pointer,    // a global base address (a tensor's data or a `ptr(...)` parameter)
  Dim,        // a symbolic dimension or stride (int32), shared by every tensor naming it
  Scalar,     // a scalar argument (`alpha: float32`)
  TensorMap,  // a 128-byte CUtensorMap the launcher encodes, passed as a __grid_constant__
};

// What the launcher needs to encode a tensor map (cuTensorMapEncodeTiled).
// An im2col-mode tensor map (cuTensorMapEncodeIm2col) of an NHWC image: each load
// gathers `pixels` filter bases (output pixels) of `channels` channels each. Spatial
// values are in the driver's order, W first.
struct Im2colMapInfo {
  int lowerCorner[2] = {0, 0};  // W, H: the bounding box of filter bases, from the image's
  int upperCorner[2] = {0, 0};  // top-left and bottom-right corners
  int channels = 0;             // channelsPerPixel (BK)
  int pixels = 0;               // pixelsPerColumn (BM)
  int stride = 1;               // the traversal stride along W and H (the convolution's)
  int span = 1;                 // D*(K-1)+1: an image smaller than span - 2P has no output
  int pad = 0;
};
struct TensorMapInfo {
  BufferRef tensor;            // the global buffer: its data pointer, shape and strides
  std::vector<int64_t> box;    // per axis of the tensor, outermost first (tiled mode)
  int swizzleBytes = 0;        // 0 (none), 32, 64 or 128
  // CU_TENSOR_MAP_DATA_TYPE_16U4_ALIGN16B: `tensor` is an fp4 tensor's byte twin
  // (its innermost dimension counts bytes); the map counts fp4 elements there (twice
  // the bytes), and so do `box` and the innermost coordinate. Each 16 elements land
  // as 8 packed bytes and 8 bytes left alone in a float4_e2m1_unpacked tile.
  bool unpackFp4 = false;
  std::optional<Im2colMapInfo> im2col;  // set: an im2col-mode map (box unused)
};
struct Param {
  std::string name;
  ParamKind kind = ParamKind::Scalar;
  VarRef var;                       // the value inside the kernel
  DType elementType = DType::Float32;  // Pointer: the element type it is used with
  // Pointer: a table of device addresses (Buffer::pointerTable); the launcher checks the
  // table's own address, not the addresses in it.
  bool pointerTable = false;
  SourceRange range;
  std::shared_ptr<TensorMapInfo> tensorMap;  // TensorMap: how to encode it
};

// What a launcher must make true before it may run a kernel variant.
struct Assumption {
  VarRef param;        // a Pointer or Dim parameter
  int64_t multiple;    // Pointer: the address is a multiple of this many bytes; Dim: value % multiple == 0
};

// ------------------------------------------------------- generated symbols

// Device symbols tlc generates next to each kernel's entry (named as the user
// wrote it). Sema reserves their namespace for kernel names, so no user kernel can
// ever collide with one: a kernel may not start with kGeneratedSymbolPrefix (nor
// with `__`, reserved in C, where kernel names become launcher names), and may not
// be another kernel's name plus kFastVariantSuffix. Reserving beats mangling here:
// the entry names stay the user's own (in profilers, cuobjdump, cuLibraryGetKernel),
// and the grammar lets identifiers contain any run of `_`, so every mangling scheme
// would have to reserve something anyway.
inline constexpr const char kGeneratedSymbolPrefix[] = "tlc_";
// The variant lowering makes under launcher-checked assumptions: `<kernel>_aligned`.
inline constexpr const char kFastVariantSuffix[] = "_aligned";
// The module's dynamic shared memory array (extern, align 1024).
inline constexpr const char kDynamicSharedSymbol[] = "tlc_dynamic_shared";

struct Kernel {
  std::string name;        // the device entry symbol
  std::string sourceName;  // the `kernel NAME` it comes from (variants share it)
  SourceRange range;
  std::vector<Param> params;  // in kernel-parameter order
  ExprRef grid[3];            // over Dim/Scalar params and constants; Int32
  int threads = 128;
  int clusterDims[3] = {1, 1, 1};
  // The kernel has no general variant (it uses tma_copy or tensor-map intrinsics,
  // which mean nothing without TMA): the launcher rejects arguments that break an
  // assumption, or whose tensor maps the driver refuses, instead of falling back.
  bool assumptionsRequired = false;
  std::vector<BufferRef> allocations;  // Shared, Fragment and Local buffers
  int64_t dynamicSharedBytes = 0;      // set by lowering
  std::vector<Assumption> assumptions; // this variant is valid only where these hold
  // Facts every variant needs of the arguments: `value` (over Dim parameters) is a
  // multiple of `multiple`. The launcher refuses arguments that break one, naming it
  // with `what`. (float4_e2m1fn tensors: an even last dimension and even row
  // strides, so that every row starts on a whole byte; lowering, PackFloat4. A
  // Buffer's offset_factor: its elem_offset; sema.) Lowering may rely on them.
  struct Requirement {
    ExprRef value;
    int64_t multiple = 2;
    std::string what;  // "the last dimension of float4_e2m1fn tensor 'A' (N)"
    std::string why;   // appended to the launcher's message: " (fp4 is packed two to a byte: ...)"
    // When positive, also `value >= minimum`: a whole tensor of symbolic shape copied
    // to or from a tile (sema, the head-address rule) must hold the tile.
    int64_t minimum = 0;
  };
  std::vector<Requirement> requirements;
  // Integer parameters whose value the kernel's index arithmetic assumes at most
  // `max` (lowering, WidenIndices: a uint64 extent is indexed in int64). The launcher
  // refuses a larger argument, naming it.
  struct ArgumentBound {
    VarRef param;
    uint64_t max = 0;
  };
  std::vector<ArgumentBound> argumentBounds;
  // Global tensors whose offsets the kernel computes in int64: the offset of each
  // one's last element (over Dim and Scalar parameters). The launcher evaluates it in
  // checked 64-bit arithmetic and refuses arguments for which it overflows, naming
  // the tensor (lowering, WidenIndices).
  struct TensorSpan {
    std::string tensor;
    ExprRef lastOffset;
  };
  std::vector<TensorSpan> tensorSpans;
  // The parameters as the source declares them, in order (sema): what a caller
  // outside C passes (`--emit=meta`, the Python package). Dimensions are not among
  // them: a caller's tensors give them (shapes, strides); `params` has them all.
  struct SourceParam {
    enum class Kind { Tensor, Pointer, Scalar };
    std::string name;
    Kind kind = Kind::Scalar;
    BufferRef tensor;  // Tensor: the global buffer (shape, strides, dtype, elem_offset)
    VarRef var;        // Pointer: the address; Scalar: the value
    DType dtype = DType::Float32;  // Pointer: the element type; Scalar: its type
  };
  std::vector<SourceParam> signature;
  // Sema's count of the kernel's statements after expansion (ir/Limits.def): a
  // bound of the code it lowers to, by which the pipeline groups small kernels.
  int64_t expandedStatements = 0;
  StmtRef body;
};

// A compiled file: kernels in source order; the variants of one source kernel are
// adjacent, most specialized first, and the last one has no assumptions.
struct Module {
  std::vector<Kernel> kernels;
};

// ------------------------------------------------------------- helpers

// Builders that fold constants and pick result types (integer ops stay Int32 unless
// an operand is Int64).
ExprRef intImm(int64_t v, DType t = DType::Int32);
ExprRef floatImm(double v, DType t = DType::Float32);
VarRef makeVar(std::string name, DType t);
ExprRef binary(BinOp op, ExprRef a, ExprRef b);
ExprRef unary(UnOp op, ExprRef a);
ExprRef select(ExprRef c, ExprRef t, ExprRef f);
ExprRef cast(DType to, ExprRef a);
ExprRef call(Builtin b, std::vector<ExprRef> args, DType t, int dim = 0);
// The call `c` with other arguments (its dim and strings kept): for rewriters.
ExprRef callWithArgs(const CallNode& c, std::vector<ExprRef> args);
ExprRef add(ExprRef a, ExprRef b);
ExprRef sub(ExprRef a, ExprRef b);
ExprRef mul(ExprRef a, ExprRef b);
ExprRef floorDiv(ExprRef a, ExprRef b);
ExprRef floorMod(ExprRef a, ExprRef b);
ExprRef lt(ExprRef a, ExprRef b);
ExprRef logicalAnd(ExprRef a, ExprRef b);  // null-tolerant: and(null, x) = x
std::optional<int64_t> asConstInt(const ExprRef& e);
// The largest power of two (up to 2^30) that provably divides `e` for every value of
// its variables (a variable counts as 1, a constant as itself).
int64_t knownMultiple(const ExprRef& e);

// The value of an integer expression whose variables are all given in `vars`;
// nullopt when it reads anything else, divides by zero or overflows.
std::optional<int64_t> evalInt(const ExprRef& e, const std::vector<std::pair<const VarNode*, int64_t>>& vars);

// a - b when it is a constant for every value of the variables (both sides are
// linearized: sums of constant multiples of the same sub-expressions cancel).
std::optional<int64_t> constantDifference(const ExprRef& a, const ExprRef& b);

// The element offset (Int32) at which element `idx` of shared tile `b` sits: the
// strides' offset with the tile's SharedLayout applied.
ExprRef sharedElementOffset(const Buffer& b, const std::vector<ExprRef>& idx);
// The same on constants: `linear` is the strides' offset of element (.., row, col).
int64_t sharedElementOffset(const SharedLayout& l, DType t, int64_t linear, int64_t row, int64_t col);
// Pieces only: the column where (row, col) lives.
int64_t swizzledColumn(const SharedLayout& l, int64_t row, int64_t col);
// How `l` reads in --emit=loops and remarks ("" for plain row-major).
std::string describe(const SharedLayout& l, DType t);
// Elements of storage a shared tile takes (padded rows and index maps take more than
// its element count).
int64_t sharedStorageElems(const Buffer& b);
// An index map's longest run (SharedLayout::mapRun): the widest power of two `w`, up
// to 16 bytes of `t`, such that every group of `w` elements of the last axis (of
// extent `inner`, a multiple of `w`) starting at a multiple of `w` sits at
// consecutive offsets starting at a multiple of `w`. `offsets`: every element's, in
// row-major order.
int measureMapRun(const std::vector<int64_t>& offsets, int64_t inner, DType t);

// Text forms: `--emit=ir` (tile IR and loop IR alike).
std::string toString(const ExprRef& e);
void print(const Module& m, std::ostream& out);
void print(const Kernel& k, std::ostream& out);

// Checks the loop-IR invariants listed at the top of this file; reports violations as
// internal errors.
void verifyLoopIR(const Kernel& k, DiagnosticEngine& diags);

}  // namespace tlc::ir
