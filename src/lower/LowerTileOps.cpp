// LowerTileOps: see the header for the partition and the choice of access width.
#include "lower/LowerTileOps.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "ir/Rewrite.h"
#include "ir/ThreadLayout.h"
#include "lower/ChooseCopyPaths.h"
#include "lower/LayoutFragments.h"
#include "lower/Im2colTma.h"
#include "lower/LayoutSharedTiles.h"

namespace tlc {
namespace {

using namespace ir;

struct LoweringFailed {};

// The loop nest of a tile operation: its non-unit extents and, per side, which
// buffer axis each loop dimension walks.
struct TileLoops {
  std::vector<int64_t> extents;
  int64_t numel() const {
    int64_t n = 1;
    for (auto e : extents) n *= e;
    return n;
  }
};

// How a tile's elements are spread: groups of `vec` elements, group g to thread
// g % threads, accessed `width` elements at a time.
struct Partition {
  int threads = 1;
  int vec = 1;
  int width = 1;
  int64_t iterations = 0;  // groups per thread (rounded up)
  bool guard = false;      // some (iteration, thread) pairs fall past the tile
  bool unrolled = true;
};

class TileOpLowering {
 public:
  TileOpLowering(Kernel& kernel, const TileOpLoweringOptions& options, DiagnosticEngine& diags,
                 std::vector<CopyLoweringNote>& notes)
      : kernel_(kernel), options_(options), diags_(diags), notes_(notes) {}

  bool run() {
    // Each fragment becomes a per-thread Local array of its layout's local size.
    for (auto& b : kernel_.allocations) {
      if (b->scope != MemScope::Fragment) continue;
      auto local = std::make_shared<Buffer>(*b);
      local->scope = MemScope::Local;
      local->shape = {intImm(b->layout.localSize)};
      local->strides = {intImm(1)};
      fragmentLocal_[b.get()] = local;
      b = local;
    }
    barrierBase_ = (kernel_.dynamicSharedBytes + 7) / 8 * 8;
    collectRemoteBarriers(kernel_.body);
    try {
      requireUserTensorMaps();
      kernel_.body = lower(kernel_.body);
    } catch (LoweringFailed&) {
      return false;
    }
    addAsyncPrologueAndEpilogue();
    // No block leaves while a multicast it issued may still be writing into the
    // others (each receiver waits for its own data; this keeps the issuer too).
    // Likewise for a bulk DSMEM copy (it reads this block's tile until the receiver's
    // barrier completes; the receiver waits on it before it gets here).
    if (anyMulticast_ || !remoteBarriers_.empty())
      kernel_.body = std::make_shared<SeqStmt>(kernel_.range, std::vector<StmtRef>{kernel_.body, clusterSync(kernel_.range)});
    // In parameter order: assumed_ is keyed by address, an order that changes from
    // run to run (and with it the header's variant tests and comments).
    for (const auto& [var, multiple] : assumed_) (void)paramVar(var);  // each one is a parameter
    for (const Param& param : kernel_.params) {
      auto assumed = assumed_.find(param.var.get());
      if (assumed != assumed_.end()) kernel_.assumptions.push_back(Assumption{param.var, assumed->second});
    }
    return true;
  }

 private:
  Kernel& kernel_;
  const TileOpLoweringOptions& options_;
  DiagnosticEngine& diags_;
  std::vector<CopyLoweringNote>& notes_;
  std::map<const Buffer*, BufferRef> fragmentLocal_;
  std::map<const VarNode*, int64_t> assumed_;

  [[noreturn]] void fail(SourceRange r, const std::string& msg) {
    diags_.error(r, msg);
    throw LoweringFailed{};
  }

  VarRef paramVar(const VarNode* v) {
    for (const auto& p : kernel_.params)
      if (p.var.get() == v) return p.var;
    diags_.internalError(kernel_.range, "assumption on a variable that is not a parameter");
  }
  bool isParam(const VarNode* v) const {
    for (const auto& p : kernel_.params)
      if (p.var.get() == v) return true;
    return false;
  }

  // ---------------------------------------------------------- statements

  StmtRef lower(const StmtRef& s) {
    if (!s) return s;
    switch (s->kind) {
      case StmtKind::Seq: {
        auto out = std::make_shared<SeqStmt>(s->range);
        for (const auto& c : s->as<SeqStmt>().stmts)
          if (auto r = lower(c)) out->stmts.push_back(r);
        return out;
      }
      case StmtKind::For: {
        const auto& f = s->as<ForStmt>();
        auto out = std::make_shared<ForStmt>(f.range, f.var, checkScalar(f.min, f.range), checkScalar(f.extent, f.range),
                                             f.kind == ForKind::Pipelined ? ForKind::Serial : f.kind, lower(f.body));
        out->step = f.step;
        return out;
      }
      case StmtKind::If: {
        const auto& i = s->as<IfStmt>();
        return std::make_shared<IfStmt>(i.range, checkScalar(i.cond, i.range), lower(i.thenBody), lower(i.elseBody));
      }
      case StmtKind::Let:
        return std::make_shared<LetStmt>(s->range, s->as<LetStmt>().var, checkScalar(s->as<LetStmt>().value, s->range));
      case StmtKind::Assign:
        return std::make_shared<AssignStmt>(s->range, s->as<AssignStmt>().var,
                                            checkScalar(s->as<AssignStmt>().value, s->range));
      case StmtKind::Store: {
        const auto& st = s->as<StoreStmt>();
        if (st.buffer->scope == MemScope::Fragment)
          fail(st.range, "element '" + st.buffer->name + "[...]' of a fragment can only be written inside a Parallel loop");
        for (const auto& i : st.indices) checkScalar(i, st.range);
        checkScalar(st.value, st.range);
        return s;
      }
      case StmtKind::Barrier: return s;
      case StmtKind::Intrinsic: return lowerUserIntrinsic(s);
      case StmtKind::Copy: {
        const auto& c = s->as<CopyOp>();
        if (c.transpose) return lowerTranspose(c);
        if (c.im2col) return lowerIm2col(c);
        if (c.clusterMask) return lowerMulticast(c);
        if (c.dstBlock) return c.options.barrier ? lowerSignalledCopy(c) : lowerRemoteCopy(c);
        if (c.path == CopyPath::TmaLoad || c.path == CopyPath::TmaStore) {
          tmaObstacle_.clear();
          if (auto tma = lowerTmaCopy(c)) return tma;
          // Known at compile time (the fast variant may assume every run-time fact),
          // so every launch will run this copy without TMA: say so where it was asked for.
          if (options_.allowAssumptions && c.options.prefer == PreferInstruction::Tma && !tmaObstacle_.empty())
            diags_.warning(Warning::PreferInstruction, c.range,
                           "prefer_instruction=\"tma\" cannot be honoured: " + tmaObstacle_ +
                               "; the copy runs without TMA");
        }
        return lowerCopy(c);
      }
      case StmtKind::Parallel: return lowerParallel(s->as<ParallelOp>());
      case StmtKind::Fill: return lowerFill(s->as<FillOp>());
    }
    return s;
  }

  // A user-level intrinsic names its barrier and shared operand by buffer: they
  // become byte offsets at the front of its arguments (barrier first).
  StmtRef lowerUserIntrinsic(const StmtRef& s) {
    const auto& in = s->as<IntrinsicStmt>();
    if (!in.barrier && !in.shared) return s;
    // TMA writes and reads the tile row-major; a tile another operation swizzles
    // (LayoutSharedTiles) would need the tensor map's matching swizzle mode.
    if ((in.op == IntrinsicOp::TmaGather4 || in.op == IntrinsicOp::TmaScatter4) && in.shared->sharedLayout.permutesPieces())
      fail(in.range, std::string("not yet supported: ") + name(in.op) + " on '" + in.shared->name +
                         "', whose layout is swizzled for " + in.shared->sharedLayout.why);
    auto out = std::make_shared<IntrinsicStmt>(in);
    if (in.op == IntrinsicOp::CpAsync) return lowerUserCpAsync(in);
    std::vector<ExprRef> front;
    ExprRef sharedAt = in.shared ? add(intImm(in.shared->sharedOffset), mul(in.sharedElement, intImm(bits(in.shared->dtype) / 8)))
                                 : nullptr;
    if (in.op == IntrinsicOp::TmaLoad && sharedAt) front.push_back(sharedAt);  // tma_load: shared, then barrier
    if (in.barrier) front.push_back(intImm(in.barrier->sharedOffset));
    if (in.op != IntrinsicOp::TmaLoad && sharedAt) front.push_back(sharedAt);
    for (const auto& a : in.args) front.push_back(checkScalar(a, in.range));
    out->args = front;
    // A barrier another block arrives on (remote_barrier=) with release at cluster
    // scope: its waiters acquire at cluster scope, so that the SIMT path's remote
    // stores are visible to them (the bulk path's bytes are, through complete_tx).
    if (in.op == IntrinsicOp::MbarrierWaitParity && remoteBarriers_.count(in.barrier.get())) out->immediate = 1;
    out->barrier = nullptr;
    out->shared = nullptr;
    out->sharedElement = nullptr;
    // tile::gather4 / scatter4: a tensor map with a box of one row of K_box elements
    // (four such boxes per copy, one per row coordinate). TMA cannot be skipped here
    // (the user's barrier counts its bytes), so every variant has the map; the
    // launcher reports a tensor the driver refuses (docs/language.md).
    if (in.op == IntrinsicOp::TmaGather4 || in.op == IntrinsicOp::TmaScatter4) {
      TLC_ASSERT(in.buffer && in.immediate > 0, "a gather4/scatter4 without its tensor or box");
      // The shared tile's annotated swizzle is the map's (its rows must span it).
      int swizzle = 0;
      if (in.shared && in.shared->scope == MemScope::Shared && !in.shared->sharedLayout.rowMajor()) {
        const Buffer& tile = *in.shared;
        int64_t rowBytes = *asConstInt(tile.shape.back()) * bits(tile.dtype) / 8;
        if (tile.sharedLayout.swizzleBytes && !tile.sharedLayout.pad && !tile.sharedLayout.permutesPieces() &&
            rowBytes == tile.sharedLayout.swizzleBytes)
          swizzle = tile.sharedLayout.swizzleBytes;
        else
          fail(in.range, "not yet supported: a gather4/scatter4 with tile '" + tile.name + "' in layout " +
                             describe(tile.sharedLayout, tile.dtype) + " (TMA swizzles need rows of exactly the span)");
      }
      out->tensorMap = tensorMapFor(in.buffer, {1, in.immediate}, swizzle);
      out->buffer = nullptr;
    }
    return out;
  }

  // The tensor maps tma_descriptor made: their tensors' bases 16-byte aligned and
  // strides multiples of 16 bytes, as required assumptions (no fallback).
  void requireUserTensorMaps() {
    for (const auto& p : kernel_.params) {
      if (p.kind != ParamKind::TensorMap) continue;
      const Buffer& t = *p.tensorMap->tensor;
      int elemBytes = std::max(1, bits(t.dtype) / 8);
      std::map<const VarNode*, int64_t> need;
      need[t.data.get()] = 16;
      for (size_t a = t.strides.size() - 1; a-- > 0;)
        if (!options_.allowAssumptions || !provablyMultiple(t.strides[a], std::max(1, 16 / elemBytes), need))
          fail(p.range, "tma_descriptor: stride " + toString(t.strides[a]) + " of '" + t.name +
                            "' cannot be a multiple of 16 bytes");
      commit(need);
    }
  }

  // cp_async_gs / cp_async_shared_global. Tile IR args: source element offset
  // (Int64), bytes to read, and (conditional form) a Bool; when it is false nothing
  // is read (source size 0, offset 0) and the destination is zero-filled. Both
  // addresses must be multiples of the copy size: the shared one provably, the
  // global one by the variant's assumptions (required: the kernel has no fallback).
  // Locals given one value and never reassigned, for alignment proofs (`c = (tx % 16) * 4`).
  VarMap singleLets_;
  void collectLets(const StmtRef& s, std::set<const VarNode*>& assigned) {
    if (!s) return;
    switch (s->kind) {
      case StmtKind::Seq: for (const auto& c : s->as<SeqStmt>().stmts) collectLets(c, assigned); break;
      case StmtKind::For: collectLets(s->as<ForStmt>().body, assigned); break;
      case StmtKind::If: collectLets(s->as<IfStmt>().thenBody, assigned); collectLets(s->as<IfStmt>().elseBody, assigned); break;
      case StmtKind::Let: singleLets_[s->as<LetStmt>().var.get()] = s->as<LetStmt>().value; break;
      case StmtKind::Assign: assigned.insert(s->as<AssignStmt>().var.get()); break;
      default: break;
    }
  }
  ExprRef expandLets(ExprRef e) {
    if (singleLets_.empty()) {
      std::set<const VarNode*> assigned;
      collectLets(kernel_.body, assigned);
      for (const auto* v : assigned) singleLets_.erase(v);
      if (singleLets_.empty()) singleLets_[nullptr] = nullptr;  // computed, nothing to expand
    }
    VarMap lets = singleLets_;
    lets.erase(nullptr);
    for (int depth = 0; depth < 8 && !lets.empty(); ++depth) e = substitute(e, lets);
    return e;
  }

  StmtRef lowerUserCpAsync(const IntrinsicStmt& in) {
    int64_t size = in.immediate;
    int64_t elemBytes = std::max(1, bits(in.shared->dtype) / 8);
    int64_t sharedMultiple = knownMultiple(expandLets(in.sharedElement)) * elemBytes;
    if (sharedMultiple % size != 0)
      fail(in.range, "the shared address of this " + std::to_string(size) + "-byte cp.async ('" + in.shared->name + "' element " +
                         toString(in.sharedElement) + ") is not provably a multiple of " + std::to_string(size) + " bytes");
    int64_t srcBytes = std::max(1, bits(in.buffer->dtype) / 8);
    std::map<const VarNode*, int64_t> need;
    if (in.buffer->data) need[in.buffer->data.get()] = size;
    if (!options_.allowAssumptions ||
        !provablyMultiple(expandLets(in.args[0]), std::max<int64_t>(1, size / srcBytes), need))
      fail(in.range, "the global address of this " + std::to_string(size) + "-byte cp.async ('" + in.buffer->name +
                         "' element offset " + toString(in.args[0]) + ") cannot be a multiple of " + std::to_string(size) +
                         " bytes");
    commit(need);
    ExprRef offset = in.args[0], bytes = checkScalar(in.args[1], in.range);
    if (in.args.size() == 3) {
      ExprRef cond = checkScalar(in.args[2], in.range);
      offset = select(cond, offset, intImm(0, DType::Int64));  // never form an address it must not read
      bytes = select(cond, bytes, intImm(0));
    }
    auto out = std::make_shared<IntrinsicStmt>(in);
    out->args = {add(intImm(in.shared->sharedOffset), mul(in.sharedElement, intImm(elemBytes))), checkScalar(offset, in.range),
                 bytes};
    out->shared = nullptr;
    out->sharedElement = nullptr;
    std::ostringstream how;
    how << "cp.async." << (in.cacheOp == IntrinsicStmt::CacheOp::CG || (in.cacheOp == IntrinsicStmt::CacheOp::Auto && size == 16) ? "cg" : "ca")
        << " of " << size << " bytes";
    describeAssumptions(how, need);
    notes_.push_back({in.range, "cp.async " + in.buffer->name + " -> " + in.shared->name, how.str(), ""});
    return out;
  }

  // Scalar code outside Parallel loops may not read fragment elements: which thread
  // holds an element is the layout's business.
  ExprRef checkScalar(const ExprRef& e, SourceRange r) {
    forEachLoad(e, [&](const LoadNode& l) {
      if (l.buffer->scope == MemScope::Fragment)
        fail(r, "not yet supported: reading fragment '" + l.buffer->name +
                    "' outside a Parallel loop (each element lives in one thread's registers)");
    });
    return e;
  }

  // ------------------------------------------------------- access widths

  // True when `e` is a multiple of `m` for every run, possibly by assuming so of a
  // parameter (recorded in `need`).
  bool provablyMultiple(const ExprRef& e, int64_t m, std::map<const VarNode*, int64_t>& need) {
    if (m <= 1) return true;
    if (knownMultiple(e) % m == 0) return true;
    if (!options_.allowAssumptions) return false;
    if (e->kind == ExprKind::Var && isParam(&e->as<VarNode>()) && isInt(e->dtype)) {
      auto& slot = need[&e->as<VarNode>()];
      slot = std::max(slot, m);
      return true;
    }
    if (e->kind == ExprKind::Cast) return provablyMultiple(e->as<CastNode>().a, m, need);
    if (e->kind == ExprKind::Binary) {
      const auto& b = e->as<BinaryNode>();
      // x // c is a multiple of m when x is one of m * c (the halved extents and
      // strides of float4_e2m1fn byte twins, PackFloat4).
      // (x >> k likewise: floor division by 2^k is built as a shift.)
      if (b.op == BinOp::FloorDiv)
        if (auto c = asConstInt(b.b); c && *c > 0 && *c <= (int64_t(1) << 20)) return provablyMultiple(b.a, m * *c, need);
      if (b.op == BinOp::Shr)
        if (auto c = asConstInt(b.b); c && *c >= 0 && *c <= 20) return provablyMultiple(b.a, m << *c, need);
      if (b.op == BinOp::Mul) {
        // Prefer a factor already assumed, so one fact serves every stride.
        for (const auto& f : {b.a, b.b})
          if (f->kind == ExprKind::Var)
            if (auto it = need.find(&f->as<VarNode>()); it != need.end() && it->second % m == 0) return true;
        // Then a factor that needs no new fact (C in (C*W)*H), then the right one.
        auto ta = need, tb = need;
        bool okB = provablyMultiple(b.b, m, tb), okA = provablyMultiple(b.a, m, ta);
        if (okB && tb == need) return true;
        if (okA && ta == need) return true;
        if (okB) { need = tb; return true; }
        if (okA) { need = ta; return true; }
        return false;
      }
      if (b.op == BinOp::Add || b.op == BinOp::Sub) {
        auto trial = need;
        if (provablyMultiple(b.a, m, trial) && provablyMultiple(b.b, m, trial)) { need = trial; return true; }
        return false;
      }
    }
    return false;
  }

  // Whether `width` elements at a time work for this side of a tile operation whose
  // innermost loop dimension walks buffer axis `innerAxis` (-1: none).
  bool widthWorks(const Region& r, int innerAxis, int width, std::map<const VarNode*, int64_t>& need) {
    if (width == 1) return true;
    const Buffer& b = *r.buffer;
    int rank = (int)b.shape.size();
    if (innerAxis != rank - 1) return false;
    auto innerStride = asConstInt(b.strides.back());
    if (!innerStride || *innerStride != 1) return false;
    if (r.extents.back() % width != 0) return false;
    // A swizzled tile keeps pieces of `unit` elements contiguous, nothing longer.
    if (b.scope == MemScope::Shared && b.sharedLayout.permutesPieces() && width > b.sharedLayout.unit) return false;
    auto trial = need;
    if (!provablyMultiple(r.mins.back(), width, trial)) return false;
    if (b.elemOffset && !provablyMultiple(b.elemOffset, width, trial)) return false;
    // A group either lies wholly inside the tensor or wholly outside it.
    if (b.scope == MemScope::Global && !provablyMultiple(b.shape.back(), width, trial)) return false;
    for (int a = rank - 2; a >= 0; --a)
      if (!provablyMultiple(b.strides[a], width, trial)) return false;
    if (b.scope == MemScope::Global) {
      int64_t bytes = (int64_t)width * bits(b.dtype) / 8;
      if (!options_.allowAssumptions) return false;  // a base pointer's alignment is a run-time fact
      auto& slot = trial[b.data.get()];
      slot = std::max(slot, bytes);
    }
    need = trial;
    return true;
  }

  int widestWorking(const Region& r, int innerAxis, int limit, std::map<const VarNode*, int64_t>& need) {
    for (int w = limit; w > 1; w /= 2)
      if (widthWorks(r, innerAxis, w, need)) return w;
    return 1;
  }

  void commit(const std::map<const VarNode*, int64_t>& need) {
    for (const auto& [v, m] : need) assumed_[v] = std::max(assumed_[v], m);
  }

  // ----------------------------------------------------------- indexing

  // The loop index of each dimension for element number `flat` of the tile.
  static std::vector<ExprRef> unflatten(const ExprRef& flat, const std::vector<int64_t>& extents) {
    std::vector<ExprRef> idx(extents.size());
    int64_t stride = 1;
    for (size_t d = extents.size(); d-- > 0;) {
      ExprRef q = floorDiv(flat, intImm(stride));
      idx[d] = d == 0 ? q : floorMod(q, intImm(extents[d]));
      stride *= extents[d];
    }
    return idx;
  }

  // Non-unit axes of a region, in order.
  static std::vector<int> loopAxes(const Region& r) {
    std::vector<int> axes;
    for (size_t a = 0; a < r.extents.size(); ++a)
      if (r.extents[a] != 1) axes.push_back((int)a);
    return axes;
  }

  static std::vector<ExprRef> sideIndices(const Region& r, const std::vector<int>& axes, const std::vector<ExprRef>& loop) {
    std::vector<ExprRef> idx = r.mins;
    for (size_t d = 0; d < axes.size(); ++d) idx[axes[d]] = add(r.mins[axes[d]], loop[d]);
    return idx;
  }

  // In-bounds test for a global side (upper bounds; region starts are non-negative).
  static ExprRef inBounds(const Region& r, const std::vector<ExprRef>& idx) {
    if (r.buffer->scope != MemScope::Global) return nullptr;
    ExprRef pred;
    for (size_t a = 0; a < idx.size(); ++a) {
      ExprRef c = lt(idx[a], r.buffer->shape[a]);
      if (auto k = asConstInt(c); k && *k) continue;
      pred = logicalAnd(pred, c);
    }
    return pred;
  }

  ExprRef threadIndex() const { return call(Builtin::ThreadIdx, {}, DType::Int32, 0); }

  // The loop over a thread's groups: for it in [0, iterations): body(it, access).
  StmtRef partitionLoop(const Partition& p, SourceRange range, int64_t groups,
                        const std::function<StmtRef(const ExprRef& it, const ExprRef& group)>& body) {
    auto it = makeVar("it", DType::Int32);
    ExprRef group = p.threads == 1 ? ExprRef(it) : add(mul(it, intImm(p.threads)), threadIndex());
    StmtRef inner = body(it, group);
    if (p.guard) inner = std::make_shared<IfStmt>(range, lt(group, intImm(groups)), inner, nullptr);
    if (p.iterations == 1) return substitute(inner, VarMap{{it.get(), intImm(0)}});
    return std::make_shared<ForStmt>(range, it, intImm(0), intImm(p.iterations),
                                     p.unrolled ? ForKind::Unrolled : ForKind::Serial, inner);
  }

  Partition partitionFor(int threads, int vec, int64_t numel, bool isFragment) {
    Partition p;
    p.threads = threads;
    p.vec = vec;
    int64_t groups = numel / vec;
    p.iterations = (groups + threads - 1) / threads;
    p.guard = groups % threads != 0;
    p.unrolled = isFragment || p.iterations <= 32;
    return p;
  }

  // ---------------------------------------------------------------- TMA

  int64_t barrierBase_ = 0;
  int barrierCount_ = 0;
  std::map<int, int> ringBarriers_;  // pipelined copy ring -> its first barrier
  std::vector<VarRef> phases_;
  std::vector<VarRef> tensorMaps_;
  bool anyTmaStore_ = false;
  std::string tmaObstacle_;  // why lowerTmaCopy gave up, when it is the tensor's fault

  static ExprRef isLeader() { return binary(BinOp::Eq, call(Builtin::ThreadIdx, {}, DType::Int32, 0), intImm(0)); }

  // The tensor-map parameter for (tensor, box), created on first use.
  VarRef tensorMapFor(const BufferRef& tensor, const std::vector<int64_t>& box, int swizzleBytes) {
    for (const auto& p : kernel_.params)
      if (p.kind == ParamKind::TensorMap && p.tensorMap->tensor == tensor && p.tensorMap->box == box &&
          p.tensorMap->swizzleBytes == swizzleBytes)
        return p.var;
    std::string name = tensor->name + "_tmap";
    int n = 0;
    for (const auto& p : kernel_.params)
      if (p.kind == ParamKind::TensorMap && p.tensorMap->tensor == tensor) ++n;
    if (n) name += std::to_string(n);
    Param p;
    p.name = name;
    p.kind = ParamKind::TensorMap;
    p.var = makeVar(name, DType::Handle);
    p.elementType = tensor->dtype;
    p.tensorMap = std::make_shared<TensorMapInfo>();
    p.tensorMap->tensor = tensor;
    p.tensorMap->box = box;
    p.tensorMap->swizzleBytes = swizzleBytes;
    kernel_.params.push_back(p);
    tensorMaps_.push_back(p.var);
    return p.var;
  }

  // cp.async carries no L2 cache hint (the hinted form with a source size faulted on
  // the H100), so a copy's eviction_policy is said not to apply rather than dropped silently.
  static std::string withEvictionNotApplied(const std::string& why, const CopyOp& c) {
    if (c.options.eviction == EvictionPolicy::Normal) return why;
    std::string note = std::string("eviction_policy=\"") + evictionName(c.options.eviction) +
                       "\" not applied: cp.async takes no L2 cache hint";
    return why.empty() ? note : why + "; " + note;
  }

  static int64_t cacheHint(EvictionPolicy e) {
    // Which L2 policy (the backend makes it with createpolicy) a copy's loads carry.
    switch (e) {
      case EvictionPolicy::First: return kCacheHintEvictFirst;
      case EvictionPolicy::Last: return kCacheHintEvictLast;
      case EvictionPolicy::Normal: break;
    }
    return 0;
  }

  // A TMA load or store; null when a run-time constraint cannot even be assumed
  // (the caller falls back to SIMT, with the reason recorded).
  StmtRef lowerTmaCopy(const CopyOp& c) {
    bool multicast = c.path == CopyPath::TmaMulticast;
    bool load = c.path == CopyPath::TmaLoad || multicast;
    const Region& global = load ? c.src : c.dst;
    const Buffer& tile = load ? *c.dst.buffer : *c.src.buffer;
    const Buffer& tensor = *global.buffer;
    int elemBytes = bits(tensor.dtype) / 8;

    // The tensor map needs a 16-byte aligned base and strides that are multiples of 16 bytes.
    std::map<const VarNode*, int64_t> need;
    need[tensor.data.get()] = 16;
    for (size_t a = tensor.strides.size() - 1; a-- > 0;) {  // inner strides first: N before M*N
      if (provablyMultiple(tensor.strides[a], std::max(1, 16 / elemBytes), need)) continue;
      if (c.options.tmaCopy)
        fail(c.range, "tma_copy cannot use TMA: stride " + toString(tensor.strides[a]) + " of '" + tensor.name +
                          "' cannot be a multiple of 16 bytes");
      std::optional<int64_t> stride = asConstInt(tensor.strides[a]);
      tmaObstacle_ = "the stride of " + tensor.name + "'s axis " + std::to_string(a) + " (" +
                     (stride ? std::to_string(*stride * elemBytes) + " bytes"
                             : toString(tensor.strides[a]) + " elements") +
                     ") is not a multiple of 16 bytes, as a tensor map needs";
      return nullptr;
    }
    commit(need);

    // Box: the region's extents; the outermost may exceed 256 and is then issued in pieces.
    std::vector<int64_t> box = global.extents;
    const Region& shared = load ? c.dst : c.src;
    ExprRef tileOffset = intImm(tile.sharedOffset);  // the tile's (or ring stage's) first byte
    for (size_t a = 0; a < shared.mins.size(); ++a)
      tileOffset = add(tileOffset, mul(mul(shared.mins[a], tile.strides[a]), intImm(elemBytes)));
    int64_t outer = box[0], piece = outer;
    if (outer > 256)
      for (piece = 256; outer % piece != 0; --piece) {}
    box[0] = piece;
    // The tile's annotated swizzle (ChooseCopyPaths checked that TMA can write it).
    VarRef map = tensorMapFor(global.buffer, box, tile.sharedLayout.swizzleBytes);
    int64_t pieceBytes = elemBytes;
    for (auto e : box) pieceBytes *= e;

    auto issue = std::make_shared<SeqStmt>(c.range);
    int64_t hint = cacheHint(c.options.eviction);
    ExprRef barrier = intImm(0);
    const bool user = c.options.tmaCopy;
    if (load && user) {
      // tma_copy: the bytes complete on the user's barrier; the arrivals are the user's.
      barrier = intImm(c.options.barrier->sharedOffset);
      issue->stmts.push_back(std::make_shared<IntrinsicStmt>(
          c.range, IntrinsicOp::MbarrierExpectTx, std::vector<ExprRef>{barrier, intImm(pieceBytes * (outer / piece))}));
    } else if (load) {
      if (c.ring >= 0) {
        // A pipelined copy: one barrier per stage of its ring.
        auto it = ringBarriers_.find(c.ring);
        if (it == ringBarriers_.end()) {
          it = ringBarriers_.emplace(c.ring, barrierCount_).first;
          barrierCount_ += c.ringSize;
        }
        barrier = add(intImm(barrierBase_ + 8 * it->second), mul(c.stage, intImm(8)));
      } else {
        barrier = intImm(barrierBase_ + 8 * barrierCount_++);
      }
      issue->stmts.push_back(std::make_shared<IntrinsicStmt>(
          c.range, IntrinsicOp::MbarrierArriveExpectTx, std::vector<ExprRef>{barrier, intImm(pieceBytes * (outer / piece))}));
    }
    for (int64_t k = 0; k < outer / piece; ++k) {
      std::vector<ExprRef> coords;  // innermost first
      for (size_t a = global.mins.size(); a-- > 0;)
        coords.push_back(a == 0 ? add(global.mins[0], intImm(k * piece)) : global.mins[a]);
      ExprRef smem = add(tileOffset, intImm(k * pieceBytes));
      std::vector<ExprRef> args;
      args.reserve(2 + coords.size());
      args.push_back(smem);
      if (load) args.push_back(barrier);
      for (const auto& coord : coords) args.push_back(coord);
      auto op = std::make_shared<IntrinsicStmt>(c.range, load ? IntrinsicOp::TmaLoad : IntrinsicOp::TmaStore, args);
      op->tensorMap = map;
      op->cacheHint = hint;
      if (multicast) op->immediate = c.clusterMask;
      issue->stmts.push_back(op);
    }
    if (multicast) {
      // Every block of the mask expects the bytes on its own barrier; the lowest
      // rank of the mask alone issues the loads, which fill every block's tile.
      auto loads = std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>(issue->stmts.begin() + 1, issue->stmts.end()));
      ExprRef issuer = binary(BinOp::Eq, clusterRank(), intImm(lowestRank(c.clusterMask)));
      issue->stmts.resize(1);
      issue->stmts.push_back(std::make_shared<IfStmt>(c.range, issuer, loads, nullptr));
    }
    if (!load && user) {
      // tma_copy store: the tile's generic-proxy writes ordered before the engine reads
      // it, then one bulk group; tma_store_wait() is the user's.
      issue->stmts.insert(issue->stmts.begin(), std::make_shared<BarrierStmt>(c.range, BarrierKind::FenceProxyAsync));
      issue->stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::BulkCommitGroup));
    } else if (!load) {
      anyTmaStore_ = true;
      issue->stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::BulkCommitGroup));
      // The tile may be reused once the engine has read it; the issuing thread waits
      // for that before it reaches the next barrier.
      auto wait = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::BulkWaitGroupRead);
      wait->immediate = 0;
      issue->stmts.push_back(wait);
    }
    auto out = std::make_shared<SeqStmt>(c.range);
    ExprRef leader = user ? call(Builtin::ShuffleElect, {intImm(c.options.leaderScope)}, DType::Bool) : isLeader();
    if (c.part != CopyOp::Part::WaitOnly)
      out->stmts.push_back(std::make_shared<IfStmt>(c.range, leader, issue, nullptr));
    if (user) {
    } else if (load && c.part == CopyOp::Part::WaitOnly) {
      out->stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierWaitParity,
                                                           std::vector<ExprRef>{barrier, c.parity}));
    } else if (load && c.part == CopyOp::Part::Whole) {
      auto phase = makeVar("phase" + std::to_string(phases_.size()), DType::Int32);
      phases_.push_back(phase);
      out->stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierWaitParity,
                                                           std::vector<ExprRef>{barrier, phase}));
      out->stmts.push_back(std::make_shared<AssignStmt>(c.range, phase, binary(BinOp::BitXor, phase, intImm(1))));
    }
    if (c.part == CopyOp::Part::IssueOnly) return out;  // reported once, with its wait

    std::ostringstream how;
    if (multicast)
      how << "a TMA multicast load to the blocks of mask 0b" << maskDigits(c.clusterMask) << ", issued by block "
          << lowestRank(c.clusterMask) << " (box ";
    else
      how << "a TMA " << (load ? "load" : "store") << " (box ";
    for (size_t i = 0; i < box.size(); ++i) how << (i ? "x" : "") << box[i];
    if (outer != piece) how << ", " << outer / piece << " pieces";
    if (tile.sharedLayout.swizzleBytes) how << ", swizzle " << tile.sharedLayout.swizzleBytes << "B";
    else how << ", swizzle none";
    if (user) {
      int groups = kernel_.threads / c.options.leaderScope;
      how << (load ? ", expect_tx on '" + c.options.barrier->name + "'" : std::string(", committed"))
          << ", issued by " << (groups == 1 ? std::string("one elected thread")
                                            : "one elected thread in each of " + std::to_string(groups) + " groups")
          << ", no wait";
    }
    how << ")";
    describeAssumptions(how, need);
    notes_.push_back({c.range, copyName(c), how.str(), ""});
    return out;
  }

  static void describeAssumptions(std::ostringstream& os, const std::map<const VarNode*, int64_t>& need) {
    if (need.empty()) return;
    os << " where ";
    bool first = true;
    for (const auto& [v, m] : need) {
      os << (first ? "" : " and ");
      first = false;
      if (v->dtype == DType::Handle) os << v->name << " is " << m << "-byte aligned";
      else os << v->name << " % " << m << " == 0";
    }
  }

  // Barrier initialization and descriptor prefetch at entry; outstanding bulk
  // stores drained at exit.
  void addAsyncPrologueAndEpilogue() {
    std::vector<BufferRef> userBarriers;
    for (const auto& b : kernel_.allocations)
      if (b->isBarrier && b->barrierArrivals > 0) userBarriers.push_back(b);
    if (barrierCount_ == 0 && tensorMaps_.empty() && userBarriers.empty()) return;
    auto body = std::make_shared<SeqStmt>(kernel_.range);
    auto leader = std::make_shared<SeqStmt>(kernel_.range);
    for (int i = 0; i < barrierCount_; ++i)
      leader->stmts.push_back(std::make_shared<IntrinsicStmt>(
          kernel_.range, IntrinsicOp::MbarrierInit, std::vector<ExprRef>{intImm(barrierBase_ + 8 * i), intImm(1)}));
    // alloc_barrier's barriers: initialised once, made visible (to the async proxy
    // too, which completes their transactions) before the block barrier below.
    for (const auto& b : userBarriers)
      leader->stmts.push_back(std::make_shared<IntrinsicStmt>(
          b->declRange, IntrinsicOp::MbarrierInit, std::vector<ExprRef>{intImm(b->sharedOffset), intImm(b->barrierArrivals)}));
    if (!userBarriers.empty() || (anyMulticast_ && barrierCount_))
      leader->stmts.push_back(std::make_shared<IntrinsicStmt>(kernel_.range, IntrinsicOp::FenceMbarrierInit));
    for (const auto& map : tensorMaps_) {
      auto prefetch = std::make_shared<IntrinsicStmt>(kernel_.range, IntrinsicOp::PrefetchTensorMap);
      prefetch->tensorMap = map;
      leader->stmts.push_back(prefetch);
    }
    for (const auto& phase : phases_) body->stmts.push_back(std::make_shared<LetStmt>(kernel_.range, phase, intImm(0)));
    body->stmts.push_back(std::make_shared<IfStmt>(kernel_.range, isLeader(), leader, nullptr));
    // Barriers that other blocks signal (remote_barrier=) must be initialised before
    // any block of the cluster may arrive on them: a cluster barrier then.
    if (barrierCount_ || !userBarriers.empty())
      body->stmts.push_back(std::make_shared<BarrierStmt>(
          kernel_.range, remoteBarriers_.empty() ? BarrierKind::SyncThreads : BarrierKind::ClusterSync));
    body->stmts.push_back(kernel_.body);
    // No drain at exit: each store already waited until its tile was read, which is
    // all the block's shared memory needs; the global writes complete on their own.
    kernel_.body = body;
    if (barrierCount_) {
      auto barriers = std::make_shared<Buffer>();
      barriers->name = "tlc_mbarriers";
      barriers->scope = MemScope::Shared;
      barriers->dtype = DType::UInt64;
      barriers->isBarrier = true;
      barriers->shape = {intImm(barrierCount_)};
      barriers->strides = {intImm(1)};
      barriers->sharedOffset = barrierBase_;
      kernel_.allocations.push_back(barriers);
      kernel_.dynamicSharedBytes = barrierBase_ + 8 * barrierCount_;
    }
  }

  // --------------------------------------------------------------- copy

  StmtRef lowerCopy(const CopyOp& c) {
    const Region& src = c.src;
    const Region& dst = c.dst;
    auto srcAxes = loopAxes(src), dstAxes = loopAxes(dst);
    TileLoops loops;
    for (int a : srcAxes) loops.extents.push_back(src.extents[a]);

    if (loops.extents.empty()) {
      // Two single elements: one store, executed by every thread (same value).
      auto load = std::make_shared<LoadNode>(src.buffer, src.mins, src.buffer->dtype, 1);
      load->predicate = inBounds(src, src.mins);
      if (load->predicate) load->otherwise = src.buffer->safeValue;
      auto st = std::make_shared<StoreStmt>(c.range, dst.buffer, dst.mins, cast(dst.buffer->dtype, load));
      st->predicate = inBounds(dst, dst.mins);
      if (src.buffer->scope == MemScope::Fragment || dst.buffer->scope == MemScope::Fragment)
        fail(c.range, "not yet supported: a single-element copy to or from a fragment");
      notes_.push_back({c.range, copyName(c), "a single element store", ""});
      return st;
    }

    bool srcFrag = src.buffer->scope == MemScope::Fragment, dstFrag = dst.buffer->scope == MemScope::Fragment;
    bool anyLocal = src.buffer->scope == MemScope::Local || dst.buffer->scope == MemScope::Local;
    if ((srcFrag || dstFrag) && anyLocal) fail(c.range, "not yet supported: copies between a fragment and a local buffer");
    // A loop_layout, or the one a fragment side follows, decides who copies what.
    ThreadLayoutRef layout = c.options.layout;
    for (const Region* r : {&src, &dst})
      if (!layout && r->buffer->scope == MemScope::Fragment) layout = r->buffer->layout.custom;
    if (layout) {
      if (anyLocal) fail(c.range, "loop_layout cannot be used on a copy to or from a local buffer (every thread copies it whole)");
      return lowerCopyWithLayout(c, *layout, srcAxes, dstAxes);
    }
    int innerSrc = srcAxes.back(), innerDst = dstAxes.back();
    int elemLimit = std::min(widestVector(src.buffer->dtype, 1 << 20), widestVector(dst.buffer->dtype, 1 << 20));
    int64_t innerExtent = loops.extents.back();
    int cw = c.options.coalescedWidth;
    if (cw && innerExtent % cw != 0)
      fail(c.range, "coalesced_width=" + std::to_string(cw) + " does not divide the copy's innermost extent " +
                        std::to_string(innerExtent));

    std::map<const VarNode*, int64_t> need;
    Partition p;
    if (srcFrag || dstFrag) {
      const Buffer& frag = srcFrag ? *src.buffer : *dst.buffer;
      const Region& other = srcFrag ? dst : src;
      int otherInner = srcFrag ? innerDst : innerSrc;
      p = partitionFor(frag.layout.threads, frag.layout.vec, loops.numel(), true);
      int limit = cw ? std::min(cw, p.vec) : p.vec;
      p.width = (srcFrag && dstFrag) ? p.vec : widestWorking(other, otherInner, limit, need);
      if (srcFrag && dstFrag && src.buffer->layout.vec != dst.buffer->layout.vec)
        diags_.internalError(c.range, "fragments copied into each other have different layouts");
      p.guard = (loops.numel() / p.vec) % p.threads != 0;
    } else {
      int threads = anyLocal ? 1 : kernel_.threads;
      int limit = cw ? cw : std::min<int64_t>(elemLimit, innerExtent);
      while (limit > 1 && innerExtent % limit != 0) limit /= 2;
      int w = limit;
      for (; w > 1; w /= 2) {
        auto trial = need;
        if (widthWorks(src, innerSrc, w, trial) && widthWorks(dst, innerDst, w, trial)) {
          need = trial;
          break;
        }
      }
      p = partitionFor(threads, w, loops.numel(), false);
      p.width = w;
    }
    commit(need);

    // cp.async moves 4, 8 or 16 bytes per instruction; narrower accesses (a
    // misaligned variant) stay ordinary loads and stores.
    int accessBytes = p.width * bits(src.buffer->dtype) / 8;
    bool cpAsync = c.path == CopyPath::CpAsync && (accessBytes == 4 || accessBytes == 8 || accessBytes == 16);

    int64_t groups = loops.numel() / p.vec;
    auto body = [&](const ExprRef& it, const ExprRef& group) -> StmtRef {
      auto seq = std::make_shared<SeqStmt>(c.range);
      for (int chunk = 0; chunk < p.vec / p.width; ++chunk) {
        ExprRef flat = add(mul(group, intImm(p.vec)), intImm(chunk * p.width));
        ExprRef local = add(mul(it, intImm(p.vec)), intImm(chunk * p.width));
        auto loopIdx = unflatten(flat, loops.extents);
        if (cpAsync) {
          seq->stmts.push_back(cpAsyncChunk(c, srcAxes, dstAxes, loopIdx, accessBytes));
          continue;
        }
        ExprRef value = sideLoad(src, srcAxes, loopIdx, local, p.width);
        if (value->dtype != dst.buffer->dtype) value = cast(dst.buffer->dtype, value);
        seq->stmts.push_back(sideStore(dst, dstAxes, loopIdx, local, value, c.range));
      }
      return seq;
    };
    StmtRef out = partitionLoop(p, c.range, groups, body);
    std::string how = describeCopy(c, p, need) + safeValueText(c);
    if (cpAsync) {
      // A synchronous copy: the thread's groups complete before it goes on; the
      // block barrier before the tile's readers comes from InsertBarriers.
      auto wait = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncWaitGroup);
      wait->immediate = 0;
      auto commit = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncCommitGroup);
      out = c.options.async ? std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>{out, commit})
                            : std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>{out, commit, wait});
      how.replace(0, std::string("a SIMT loop").size(), "cp.async");
    }
    std::string why = c.pathReason;
    if (c.path == CopyPath::CpAsync && !cpAsync)
      why = (why.empty() ? "" : why + "; ") + "cp.async not used: " + std::to_string(accessBytes) +
            "-byte accesses (it moves 4, 8 or 16 bytes)";
    if (cpAsync) why = withEvictionNotApplied(why, c);
    notes_.push_back({c.range, copyName(c), how, why});
    return out;
  }

  // ---------------------------------------------------------- transpose

  // transpose(src, dst): the plan of LayoutSharedTiles (V x V micro-blocks, block b
  // to thread b % threads). Each thread loads V row vectors of its block into a
  // register array, transposes them there (constant indices: SROA keeps it in
  // registers) and stores V row vectors; both tiles' layouts apply when the
  // accesses are flattened.
  StmtRef lowerTranspose(const CopyOp& c) {
    const Buffer& src = *c.src.buffer;
    const Buffer& dst = *c.dst.buffer;
    auto plan = planTranspose(src.dtype, c.src.extents, kernel_.threads, transposeVecLimit(src, dst));
    int v = plan.vec;
    size_t rank = c.src.extents.size();
    auto regs = std::make_shared<Buffer>();
    regs->name = src.name + "_T_regs";
    regs->dtype = src.dtype;
    regs->scope = MemScope::Local;
    regs->shape = {intImm(2 * v * v)};
    regs->strides = {intImm(1)};
    regs->declRange = c.range;
    kernel_.allocations.push_back(regs);

    Partition p = partitionFor(kernel_.threads, 1, plan.blocks(), false);
    p.unrolled = p.iterations <= 8;
    int align = alignOf(src, v);
    auto body = [&](const ExprRef&, const ExprRef& block) -> StmtRef {
      auto seq = std::make_shared<SeqStmt>(c.range);
      ExprRef bc = floorMod(block, intImm(plan.colBlocks));
      ExprRef rest = floorDiv(block, intImm(plan.colBlocks));
      ExprRef br = plan.batch == 1 ? rest : floorMod(rest, intImm(plan.rowBlocks));
      // The leading axes, row-major over the batch.
      std::vector<ExprRef> lead(rank - 2);
      ExprRef b = floorDiv(rest, intImm(plan.rowBlocks));
      for (size_t a = rank - 2; a-- > 0;) {
        lead[a] = a == 0 ? b : floorMod(b, intImm(c.src.extents[a]));
        b = floorDiv(b, intImm(c.src.extents[a]));
      }
      ExprRef row0 = mul(br, intImm(v)), col0 = mul(bc, intImm(v));
      auto at = [&](const ExprRef& r, const ExprRef& col) {
        std::vector<ExprRef> idx = lead;
        idx.push_back(r);
        idx.push_back(col);
        return idx;
      };
      for (int i = 0; i < v; ++i) {
        auto load = std::make_shared<LoadNode>(c.src.buffer, at(add(row0, intImm(i)), col0), src.dtype, v);
        load->alignBytes = align;
        auto st = std::make_shared<StoreStmt>(c.range, regs, std::vector<ExprRef>{intImm(i * v)}, load);
        st->alignBytes = align;
        seq->stmts.push_back(st);
      }
      for (int i = 0; i < v; ++i)
        for (int j = 0; j < v; ++j) {
          auto e = std::make_shared<LoadNode>(regs, std::vector<ExprRef>{intImm(i * v + j)}, src.dtype, 1);
          seq->stmts.push_back(std::make_shared<StoreStmt>(c.range, regs, std::vector<ExprRef>{intImm(v * v + j * v + i)}, e));
        }
      for (int j = 0; j < v; ++j) {
        auto vecLoad = std::make_shared<LoadNode>(regs, std::vector<ExprRef>{intImm(v * v + j * v)}, src.dtype, v);
        vecLoad->alignBytes = align;
        auto st = std::make_shared<StoreStmt>(c.range, c.dst.buffer, at(add(col0, intImm(j)), row0), vecLoad);
        st->alignBytes = align;
        seq->stmts.push_back(st);
      }
      return seq;
    };
    StmtRef out = partitionLoop(p, c.range, plan.blocks(), body);
    std::ostringstream how;
    int bytes = v * bits(src.dtype) / 8;
    how << v << "x" << v << " micro-blocks per thread (" << bytes << "-byte vectors, " << plan.blocks() << " blocks)";
    if (dst.sharedLayout.permutesPieces() && !dst.sharedLayout.annotated)
      how << ", '" << dst.name << "' swizzled: " << bytes << "-byte piece ^= (row / " << dst.sharedLayout.rowDiv << ") % "
          << dst.sharedLayout.span;
    else if (!dst.sharedLayout.rowMajor())
      how << ", '" << dst.name << "' keeps its annotated layout " << describe(dst.sharedLayout, dst.dtype);
    notes_.push_back({c.range, "transpose " + src.name + " -> " + dst.name, how.str(), ""});
    return out;
  }

  // The loop index of each of `extents`' dimensions for the iteration the calling
  // thread runs at local index k of `layout` (whose non-unit extents are `extents`').
  std::vector<ExprRef> layoutIndices(const ThreadLayout& layout, int64_t k, const std::vector<int64_t>& extents) {
    std::vector<ExprRef> out;
    size_t d = 0;
    for (int64_t e : extents) {
      if (e == 1) {
        out.push_back(intImm(0));
        continue;
      }
      while (layout.shape[d] == 1) ++d;
      out.push_back(bitLinearExpr(layout.inverse[k][d], threadIndex(), layout.threads));
      ++d;
    }
    return out;
  }

  // A copy that follows a thread layout: thread t copies, at each local index k, the
  // element the layout's inverse names, one element per access (a bijection: no
  // guard). A fragment side's element lives at local index k.
  StmtRef lowerCopyWithLayout(const CopyOp& c, const ThreadLayout& layout, const std::vector<int>& srcAxes,
                              const std::vector<int>& dstAxes) {
    for (const Region* r : {&c.src, &c.dst})
      if (r->buffer->scope == MemScope::Fragment && r->buffer->layout.custom &&
          !r->buffer->layout.custom->sameMapping(layout))
        diags_.internalError(c.range, "fragment '" + r->buffer->name + "' follows another layout than its copy");
    std::vector<int64_t> extents;
    for (int a : srcAxes) extents.push_back(c.src.extents[a]);
    // Vectors where the layout gives each thread runs of consecutive elements
    // along the innermost axis and the memory sides allow that width.
    int limit = std::min(widestVector(c.src.buffer->dtype, 1 << 20), widestVector(c.dst.buffer->dtype, 1 << 20));
    if (c.options.coalescedWidth) limit = std::min(limit, c.options.coalescedWidth);
    std::map<const VarNode*, int64_t> need;
    int width = 1;
    for (int w = limit; w > 1; w /= 2) {
      if (!layoutRunsContiguous(layout, w)) continue;
      auto trial = need;
      bool ok = true;
      if (c.src.buffer->scope != MemScope::Fragment) ok = ok && widthWorks(c.src, srcAxes.back(), w, trial);
      if (c.dst.buffer->scope != MemScope::Fragment) ok = ok && widthWorks(c.dst, dstAxes.back(), w, trial);
      if (ok) {
        width = w;
        need = trial;
        break;
      }
    }
    commit(need);
    int accessBytes = width * bits(c.src.buffer->dtype) / 8;
    bool cpAsync = c.path == CopyPath::CpAsync && (accessBytes == 4 || accessBytes == 8 || accessBytes == 16);
    auto seq = std::make_shared<SeqStmt>(c.range);
    for (int64_t k = 0; k < layout.localSize; k += width) {
      auto loopIdx = layoutIndices(layout, k, extents);
      if (cpAsync) {
        seq->stmts.push_back(cpAsyncChunk(c, srcAxes, dstAxes, loopIdx, accessBytes));
        continue;
      }
      ExprRef value = sideLoad(c.src, srcAxes, loopIdx, intImm(k), width);
      if (value->dtype != c.dst.buffer->dtype) value = cast(c.dst.buffer->dtype, value);
      seq->stmts.push_back(sideStore(c.dst, dstAxes, loopIdx, intImm(k), value, c.range));
    }
    StmtRef out = seq;
    Partition shown;
    shown.width = width;
    std::string how = describeCopy(c, shown, need);
    how.insert(std::string("a SIMT loop").size(), " following layout '" + layout.name + "'");
    if (cpAsync) {
      auto wait = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncWaitGroup);
      wait->immediate = 0;
      auto commit = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncCommitGroup);
      out = c.options.async ? std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>{out, commit})
                            : std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>{out, commit, wait});
      how.replace(0, std::string("a SIMT loop").size(), "cp.async");
    }
    how += safeValueText(c);
    std::string why = c.pathReason;
    if (c.path == CopyPath::CpAsync && !cpAsync)
      why = (why.empty() ? "" : why + "; ") + "cp.async not used: " + std::to_string(accessBytes) +
            "-byte accesses (it moves 4, 8 or 16 bytes)";
    if (cpAsync) why = withEvictionNotApplied(why, c);
    notes_.push_back({c.range, copyName(c), how, why});
    return out;
  }

  static std::string safeValueText(const CopyOp& c) {
    const Buffer& s = *c.src.buffer;
    if (s.scope != MemScope::Global || !s.safeValue) return "";
    return ", reads outside '" + s.name + "' give " + toString(s.safeValue);
  }

  // ------------------------------------------------------------- im2col

  static const char* evictionName(EvictionPolicy e) {
    return e == EvictionPolicy::First ? "evict_first" : e == EvictionPolicy::Last ? "evict_last" : "evict_normal";
  }

  // The im2col-mode tensor map parameter for (image, geometry, swizzle), created on first use.
  VarRef im2colMapFor(const BufferRef& img, const Im2colMapInfo& info, int swizzleBytes) {
    auto same = [&](const Im2colMapInfo& o) {
      return o.lowerCorner[0] == info.lowerCorner[0] && o.lowerCorner[1] == info.lowerCorner[1] &&
             o.upperCorner[0] == info.upperCorner[0] && o.upperCorner[1] == info.upperCorner[1] &&
             o.channels == info.channels && o.pixels == info.pixels && o.stride == info.stride && o.span == info.span &&
             o.pad == info.pad;
    };
    int n = 0;
    for (const auto& p : kernel_.params) {
      if (p.kind != ParamKind::TensorMap || p.tensorMap->tensor != img) continue;
      if (p.tensorMap->im2col && same(*p.tensorMap->im2col) && p.tensorMap->swizzleBytes == swizzleBytes) return p.var;
      ++n;
    }
    Param p;
    p.name = img->name + "_im2col" + (n ? std::to_string(n) : "");
    p.kind = ParamKind::TensorMap;
    p.var = makeVar(p.name, DType::Handle);
    p.elementType = img->dtype;
    p.tensorMap = std::make_shared<TensorMapInfo>();
    p.tensorMap->tensor = img;
    p.tensorMap->swizzleBytes = swizzleBytes;
    p.tensorMap->im2col = info;
    kernel_.params.push_back(p);
    tensorMaps_.push_back(p.var);
    return p.var;
  }

  // The mbarrier an automatic TMA load completes on: its ring stage's when the load
  // is pipelined, else one of its own.
  ExprRef loadBarrier(const CopyOp& c) {
    if (c.ring < 0) return intImm(barrierBase_ + 8 * barrierCount_++);
    auto it = ringBarriers_.find(c.ring);
    if (it == ringBarriers_.end()) {
      it = ringBarriers_.emplace(c.ring, barrierCount_).first;
      barrierCount_ += c.ringSize;
    }
    return add(intImm(barrierBase_ + 8 * it->second), mul(c.stage, intImm(8)));
  }

  // An im2col copy by TMA's im2col mode (lower/Im2colTma.h): thread 0 arms the
  // barrier with the tile's bytes and issues one load of BM filter bases x BK
  // channels of the tile's filter tap; every thread waits (or, pipelined, the issue
  // and the wait are the two parts PipelineLoops made). Null, with `whyNot` set,
  // when a run-time constraint cannot even be assumed.
  StmtRef lowerIm2colTma(const CopyOp& c, std::string& whyNot) {
    const Im2col& m = *c.im2col;
    const BufferRef& img = c.src.buffer;
    const Region& dst = c.dst;
    const Buffer& tile = *dst.buffer;
    int rank = (int)dst.extents.size();
    int64_t bm = dst.extents[rank - 2], bk = dst.extents[rank - 1];
    int elemBytes = bits(img->dtype) / 8;

    // The map needs a 16-byte aligned image and strides that are multiples of 16
    // bytes; the tile's columns one tap: C a multiple of BK.
    std::map<const VarNode*, int64_t> need;
    need[img->data.get()] = 16;
    for (int a = 2; a >= 0; --a)  // inner strides first: C before W*C, so one fact serves them all
      if (!provablyMultiple(img->strides[a], std::max(1, 16 / elemBytes), need)) {
        whyNot = "the stride of " + img->name + "'s axis " + std::to_string(a) + " (" + toString(img->strides[a]) +
                 " elements) cannot be a multiple of 16 bytes, as a tensor map needs";
        return nullptr;
      }
    ExprRef C = img->shape[3];
    if (!provablyMultiple(C, bk, need)) {
      whyNot = "C = " + toString(C) + " cannot be a multiple of BK = " + std::to_string(bk);
      return nullptr;
    }
    commit(need);

    Im2colTmaShape shape;
    shape.kernel = m.kernel;
    shape.stride = m.stride;
    shape.dilation = m.dilation;
    shape.pad = m.pad;
    shape.bm = bm;
    shape.bk = bk;
    shape.elemBytes = elemBytes;
    shape.channels = asConstInt(C);
    VarRef map = im2colMapFor(img, im2colTensorMap(shape), tile.sharedLayout.swizzleBytes);

    // The tile's first output pixel and its filter tap. Columns past K*K*C (a c_step
    // beyond the matrix) read zeros: the image coordinate N is outside the tensor.
    ExprRef K = intImm(m.kernel), S = intImm(m.stride), P = intImm(m.pad), D = intImm(m.dilation);
    ExprRef pixels = mul(m.outH, m.outW);
    ExprRef n = floorDiv(m.rowStart, pixels), pix = floorMod(m.rowStart, pixels);
    ExprRef oh = floorDiv(pix, m.outW), ow = floorMod(pix, m.outW);
    ExprRef tap = floorDiv(m.colStart, C);
    ExprRef inside = lt(tap, mul(K, K));
    ExprRef kh = select(inside, floorDiv(tap, K), intImm(0)), kw = select(inside, floorMod(tap, K), intImm(0));
    std::vector<ExprRef> coords = {floorMod(m.colStart, C), sub(mul(ow, S), P), sub(mul(oh, S), P),
                                   select(inside, n, img->shape[0])};
    std::vector<ExprRef> offsets = {mul(kw, D), mul(kh, D)};

    ExprRef smem = intImm(tile.sharedOffset);  // the tile's (or ring stage's) first byte
    for (int a = 0; a < rank; ++a) smem = add(smem, mul(mul(dst.mins[a], tile.strides[a]), intImm(elemBytes)));
    int64_t bytes = bm * bk * elemBytes;
    ExprRef barrier = loadBarrier(c);
    auto issue = std::make_shared<SeqStmt>(c.range);
    issue->stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierArriveExpectTx,
                                                           std::vector<ExprRef>{barrier, intImm(bytes)}));
    std::vector<ExprRef> args = {smem, barrier};
    for (const auto& e : coords) args.push_back(e);
    for (const auto& e : offsets) args.push_back(e);
    auto load = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::TmaLoadIm2col, args);
    load->tensorMap = map;
    load->cacheHint = cacheHint(c.options.eviction);
    issue->stmts.push_back(load);

    auto out = std::make_shared<SeqStmt>(c.range);
    if (c.part != CopyOp::Part::WaitOnly) out->stmts.push_back(std::make_shared<IfStmt>(c.range, isLeader(), issue, nullptr));
    if (c.part == CopyOp::Part::WaitOnly) {
      out->stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierWaitParity,
                                                           std::vector<ExprRef>{barrier, c.parity}));
    } else if (c.part == CopyOp::Part::Whole) {
      auto phase = makeVar("phase" + std::to_string(phases_.size()), DType::Int32);
      phases_.push_back(phase);
      out->stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierWaitParity,
                                                           std::vector<ExprRef>{barrier, phase}));
      out->stmts.push_back(std::make_shared<AssignStmt>(c.range, phase, binary(BinOp::BitXor, phase, intImm(1))));
    }
    if (c.part == CopyOp::Part::IssueOnly) return out;  // reported once, with its wait

    std::ostringstream how;
    how << "a TMA im2col load (" << bm << " pixels x " << bk << " channels of one filter tap, stride " << m.stride
        << ", swizzle " << (tile.sharedLayout.swizzleBytes ? std::to_string(tile.sharedLayout.swizzleBytes) + "B" : "none");
    if (c.options.eviction != EvictionPolicy::Normal) how << ", " << evictionName(c.options.eviction) << " in L2";
    how << ")";
    describeAssumptions(how, need);
    notes_.push_back({c.range, m.opName + " " + img->name + " -> " + tile.name, how.str(), ""});
    return out;
  }

  // The widest access (elements) for an im2col copy: one group of `w` columns
  // must stay in one kernel tap and be one contiguous, aligned run of channels.
  bool im2colWidthWorks(const CopyOp& c, int w, std::map<const VarNode*, int64_t>& need) {
    if (w == 1) return true;
    const Buffer& img = *c.src.buffer;
    const Buffer& tile = *c.dst.buffer;
    int rank = (int)c.dst.extents.size();
    if (c.dst.extents[rank - 1] % w != 0) return false;  // BK: colStart = c_step * BK
    auto inner = asConstInt(img.strides[3]);
    if (!inner || *inner != 1) return false;
    auto tileInner = asConstInt(tile.strides[rank - 1]);
    if (!tileInner || *tileInner != 1) return false;
    for (int a = 0; a < rank - 1; ++a)
      if (knownMultiple(tile.strides[a]) % w != 0) return false;
    // A swizzled tile (a transpose's destination) keeps only `unit` elements contiguous.
    if (tile.sharedLayout.permutesPieces() && w > tile.sharedLayout.unit) return false;
    auto trial = need;
    if (!provablyMultiple(img.shape[3], w, trial)) return false;  // C: a group never straddles two taps
    for (int a = 2; a >= 0; --a)  // inner strides first: C before W*C, so one fact serves them all
      if (!provablyMultiple(img.strides[a], w, trial)) return false;
    if (!options_.allowAssumptions) return false;  // the image's base alignment is a run-time fact
    auto& slot = trial[img.data.get()];
    slot = std::max<int64_t>(slot, (int64_t)w * bits(img.dtype) / 8);
    need = trial;
    return true;
  }

  StmtRef lowerIm2col(const CopyOp& c) {
    std::string tmaWhyNot;
    if (c.path == CopyPath::TmaLoad) {
      if (auto tma = lowerIm2colTma(c, tmaWhyNot)) return tma;
    }
    const Im2col& m = *c.im2col;
    const BufferRef& img = c.src.buffer;
    const Region& dst = c.dst;
    const Buffer& tile = *dst.buffer;
    int rank = (int)dst.extents.size();
    int64_t bm = dst.extents[rank - 2], bk = dst.extents[rank - 1];
    int elemBytes = bits(img->dtype) / 8;

    std::map<const VarNode*, int64_t> need;
    int w = std::max(1, 16 / elemBytes);
    for (; w > 1; w /= 2)
      if (im2colWidthWorks(c, w, need)) break;
    commit(need);
    Partition p = partitionFor(kernel_.threads, w, bm * bk, false);
    p.width = w;
    int accessBytes = w * elemBytes;
    bool cpAsync = accessBytes == 4 || accessBytes == 8 || accessBytes == 16;

    // The column matrix's geometry.
    ExprRef N = img->shape[0], H = img->shape[1], W = img->shape[2], C = img->shape[3];
    ExprRef K = intImm(m.kernel);
    ExprRef pixels = mul(m.outH, m.outW);
    ExprRef rows = mul(N, pixels);
    ExprRef cols = mul(mul(K, K), C);

    auto body = [&](const ExprRef&, const ExprRef& group) -> StmtRef {
      auto loop = unflatten(mul(group, intImm(w)), {bm, bk});
      ExprRef i = loop[0], j = loop[1];
      ExprRef r = add(m.rowStart, i), k = add(m.colStart, j);
      ExprRef n = floorDiv(r, pixels), pix = floorMod(r, pixels);
      ExprRef oh = floorDiv(pix, m.outW), ow = floorMod(pix, m.outW);
      ExprRef tap = floorDiv(k, C), ch = floorMod(k, C);
      ExprRef kh = floorDiv(tap, K), kw = floorMod(tap, K);
      ExprRef ih = add(sub(mul(oh, intImm(m.stride)), intImm(m.pad)), mul(kh, intImm(m.dilation)));
      ExprRef iw = add(sub(mul(ow, intImm(m.stride)), intImm(m.pad)), mul(kw, intImm(m.dilation)));
      // A symbolic image smaller than the dilated kernel has OH or OW <= 0: no row is valid.
      ExprRef valid = logicalAnd(logicalAnd(lt(intImm(0), m.outH), lt(intImm(0), m.outW)), lt(r, rows));
      valid = logicalAnd(valid, lt(k, cols));
      valid = logicalAnd(valid, logicalAnd(binary(BinOp::Ge, ih, intImm(0)), lt(ih, H)));
      valid = logicalAnd(valid, logicalAnd(binary(BinOp::Ge, iw, intImm(0)), lt(iw, W)));
      std::vector<ExprRef> srcIdx = {n, ih, iw, ch};
      std::vector<ExprRef> dstIdx = dst.mins;  // leading axes: a ring's stage
      dstIdx[rank - 2] = add(dst.mins[rank - 2], i);
      dstIdx[rank - 1] = add(dst.mins[rank - 1], j);
      if (cpAsync) {
        ExprRef srcOffset = intImm(0, DType::Int64);
        for (int a = 0; a < 4; ++a)
          srcOffset = add(srcOffset, mul(cast(DType::Int64, srcIdx[a]), cast(DType::Int64, img->strides[a])));
        ExprRef dstOffset = tileByteOffset(tile, dstIdx);  // the tile's layout
        // Outside the image: read nothing (source size 0, zero-filled) from the base.
        auto op = std::make_shared<IntrinsicStmt>(
            c.range, IntrinsicOp::CpAsync,
            std::vector<ExprRef>{dstOffset, select(valid, srcOffset, intImm(0, DType::Int64)),
                                 select(valid, intImm(accessBytes), intImm(0))});
        op->buffer = img;
        op->immediate = accessBytes;
        // No L2 cache hint on cp.async: the hinted form with a source size faulted on
        // the H100 (CUDA_ERROR_ILLEGAL_INSTRUCTION, spec strided_compact); TMA keeps it.
        return op;
      }
      auto load = std::make_shared<LoadNode>(img, srcIdx, img->dtype, w);
      load->predicate = valid;
      load->alignBytes = alignOf(*img, w);
      auto st = std::make_shared<StoreStmt>(c.range, dst.buffer, dstIdx, load);
      st->alignBytes = alignOf(tile, w);
      return st;
    };
    StmtRef out = partitionLoop(p, c.range, bm * bk / w, body);

    std::ostringstream how;
    how << (cpAsync ? "cp.async" : "a SIMT loop") << ", ";
    if (w == 1) how << "one element (" << accessBytes << " bytes) per access";
    else how << w << "-element (" << accessBytes << "-byte) runs of channels";
    bool first = true;
    for (const auto& [v, mult] : need) {
      how << (first ? " where " : " and ");
      first = false;
      if (v->dtype == DType::Handle) how << v->name << " is " << mult << "-byte aligned";
      else how << v->name << " % " << mult << " == 0";
    }
    if (cpAsync) {
      // Synchronous like a copy: the thread's groups land before it goes on; the
      // block barrier before the tile's readers comes from InsertBarriers.
      auto commitGroup = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncCommitGroup);
      auto wait = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncWaitGroup);
      wait->immediate = 0;
      out = std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>{out, commitGroup, wait});
    }
    std::string why = c.pathReason;
    if (!tmaWhyNot.empty()) why = "TMA im2col mode not used: " + tmaWhyNot;
    if (!cpAsync)
      why += std::string(why.empty() ? "" : "; ") + "cp.async not used: " + std::to_string(accessBytes) +
             "-byte accesses (C, the image's strides or its alignment allow no wider run; cp.async moves 4, 8 or 16 bytes)";
    if (cpAsync) why = withEvictionNotApplied(why, c);
    notes_.push_back({c.range, m.opName + " " + img->name + " -> " + tile.name, how.str(), why});
    return out;
  }

  // The byte offset in shared memory of element `idx` of tile `d` (a cp.async
  // destination): the tile's layout applies (ir::sharedElementOffset), as for every
  // shared access; a row-major (or padded: the strides say it) tile keeps the plain
  // byte sum.
  static ExprRef tileByteOffset(const Buffer& d, const std::vector<ExprRef>& idx) {
    ExprRef offset = intImm(d.sharedOffset);
    int elemBytes = bits(d.dtype) / 8;
    if (d.sharedLayout.permutesPieces() || d.sharedLayout.swizzleBytes)
      return add(offset, mul(sharedElementOffset(d, idx), intImm(elemBytes)));
    for (size_t a = 0; a < idx.size(); ++a) offset = add(offset, mul(mul(idx[a], d.strides[a]), intImm(elemBytes)));
    return offset;
  }

  // One cp.async of `bytes` from the global source into the shared tile; past the
  // tensor's end it reads nothing (source size 0) and zero-fills.
  StmtRef cpAsyncChunk(const CopyOp& c, const std::vector<int>& srcAxes, const std::vector<int>& dstAxes,
                       const std::vector<ExprRef>& loop, int bytes) {
    auto srcIdx = sideIndices(c.src, srcAxes, loop);
    auto dstIdx = sideIndices(c.dst, dstAxes, loop);
    const Buffer& s = *c.src.buffer;
    const Buffer& d = *c.dst.buffer;
    ExprRef srcOffset = s.elemOffset ? cast(DType::Int64, s.elemOffset) : intImm(0, DType::Int64);
    for (size_t a = 0; a < srcIdx.size(); ++a)
      srcOffset = add(srcOffset, mul(cast(DType::Int64, srcIdx[a]), cast(DType::Int64, s.strides[a])));
    ExprRef dstOffset = tileByteOffset(d, dstIdx);
    ExprRef inside = inBounds(c.src, srcIdx);
    ExprRef size = intImm(bytes);
    if (inside) {
      size = select(inside, intImm(bytes), intImm(0));
      srcOffset = select(inside, srcOffset, intImm(0, DType::Int64));  // never form an address past the end
    }
    auto op = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsync, std::vector<ExprRef>{dstOffset, srcOffset, size});
    op->buffer = c.src.buffer;
    op->immediate = bytes;
    // No L2 cache hint on cp.async (see lowerIm2col): only TMA copies carry one.
    return op;
  }

  ExprRef sideLoad(const Region& r, const std::vector<int>& axes, const std::vector<ExprRef>& loop, const ExprRef& local,
                   int width) {
    if (r.buffer->scope == MemScope::Fragment) {
      auto l = std::make_shared<LoadNode>(fragmentLocal_.at(r.buffer.get()), std::vector<ExprRef>{local}, r.buffer->dtype, width);
      l->alignBytes = alignOf(*r.buffer, width);
      return l;
    }
    auto idx = sideIndices(r, axes, loop);
    auto l = std::make_shared<LoadNode>(r.buffer, idx, r.buffer->dtype, width);
    l->predicate = inBounds(r, idx);
    if (l->predicate) l->otherwise = r.buffer->safeValue;  // annotate_safe_value (null = 0)
    l->alignBytes = alignOf(*r.buffer, width);
    return l;
  }

  StmtRef sideStore(const Region& r, const std::vector<int>& axes, const std::vector<ExprRef>& loop, const ExprRef& local,
                    const ExprRef& value, SourceRange range) {
    if (r.buffer->scope == MemScope::Fragment) {
      auto st = std::make_shared<StoreStmt>(range, fragmentLocal_.at(r.buffer.get()), std::vector<ExprRef>{local}, value);
      st->alignBytes = alignOf(*r.buffer, value->lanes);
      return st;
    }
    auto idx = sideIndices(r, axes, loop);
    auto st = std::make_shared<StoreStmt>(range, r.buffer, idx, value);
    st->predicate = inBounds(r, idx);
    st->alignBytes = alignOf(*r.buffer, value->lanes);
    return st;
  }

  static std::string copyName(const CopyOp& c) {
    return std::string(c.clusterMask || c.dstBlock ? "copy_cluster " : "copy ") + c.src.buffer->name + " -> " +
           c.dst.buffer->name + (c.options.packedFp4 ? " (float4_e2m1fn, as bytes)" : "");
  }

  // ------------------------------------------------------------ clusters

  bool anyMulticast_ = false;

  static ExprRef clusterRank() { return call(Builtin::ClusterCtaRank, {}, DType::Int32); }
  static int lowestRank(int mask) { return __builtin_ctz((unsigned)mask); }
  static std::string maskDigits(int mask) {
    std::string s;
    for (; mask > 0; mask >>= 1) s.insert(s.begin(), char('0' + (mask & 1)));
    return s;
  }
  int clusterBlocks() const { return kernel_.clusterDims[0] * kernel_.clusterDims[1] * kernel_.clusterDims[2]; }
  StmtRef clusterSync(SourceRange r) { return std::make_shared<BarrierStmt>(r, BarrierKind::ClusterSync); }

  // copy_cluster(global, shared, cluster_mask=M). A cluster barrier first: every
  // block's mbarriers are initialised (and fenced for the cluster) before the first
  // multicast can signal them, and every block of the mask is done with the tile's
  // previous contents before the multicast overwrites them. Then, in the blocks of
  // the mask, the TMA multicast (each block waits on its own barrier, so none leaves
  // while the data for it is in flight), or without TMA each block's own load.
  StmtRef lowerMulticast(const CopyOp& c) {
    auto out = std::make_shared<SeqStmt>(c.range);
    out->stmts.push_back(clusterSync(c.range));
    StmtRef body;
    if (c.path == CopyPath::TmaMulticast) {
      body = lowerTmaCopy(c);
      if (body) anyMulticast_ = true;
    }
    if (!body) body = lowerCopy(c);
    int all = (1 << clusterBlocks()) - 1;
    if ((c.clusterMask & all) != all) {
      ExprRef bit = binary(BinOp::BitAnd, binary(BinOp::Shr, intImm(c.clusterMask), clusterRank()), intImm(1));
      body = std::make_shared<IfStmt>(c.range, binary(BinOp::Ne, bit, intImm(0)), body, nullptr);
    }
    out->stmts.push_back(body);
    return out;
  }

  // copy_cluster(shared, shared, dst_block=b): every thread stores its part of the
  // tile into block b's tile through `mapa` (distributed shared memory). A cluster
  // barrier before it (block b has started and no longer reads its tile) and one
  // after it (release/acquire at cluster scope: the stores are visible to block b's
  // threads, and no block exits while stores into it are in flight). A rank outside
  // the cluster stores nothing.
  StmtRef lowerRemoteCopy(const CopyOp& c) {
    CopyOp remote = c;
    auto view = std::make_shared<Buffer>(*c.dst.buffer);
    view->clusterRank = c.dstBlock;
    remote.dst.buffer = view;
    StmtRef body = lowerCopy(remote);
    if (!asConstInt(c.dstBlock)) {
      ExprRef inside = logicalAnd(binary(BinOp::Ge, c.dstBlock, intImm(0)), lt(c.dstBlock, intImm(clusterBlocks())));
      body = std::make_shared<IfStmt>(c.range, inside, body, nullptr);
    }
    notes_.back().how = "stores into block " + toString(c.dstBlock) +
                        "'s tile (mapa, distributed shared memory) between two cluster barriers, " + notes_.back().how;
    return std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>{clusterSync(c.range), body, clusterSync(c.range)});
  }

  // ------------------------------------------- remote barriers (DSMEM)

  std::set<const Buffer*> remoteBarriers_;  // barriers some copy_cluster(remote_barrier=) signals

  void collectRemoteBarriers(const StmtRef& s) {
    if (!s) return;
    switch (s->kind) {
      case StmtKind::Seq: for (const auto& c : s->as<SeqStmt>().stmts) collectRemoteBarriers(c); break;
      case StmtKind::For: collectRemoteBarriers(s->as<ForStmt>().body); break;
      case StmtKind::If:
        collectRemoteBarriers(s->as<IfStmt>().thenBody);
        collectRemoteBarriers(s->as<IfStmt>().elseBody);
        break;
      case StmtKind::Copy:
        if (s->as<CopyOp>().dstBlock && s->as<CopyOp>().options.barrier)
          remoteBarriers_.insert(s->as<CopyOp>().options.barrier.get());
        break;
      default: break;
    }
  }

  // copy_cluster(shared, shared, dst_block=b, remote_barrier=bar): split-phase, no
  // cluster barrier. The copy is one arrival on `bar` of block b (the same
  // alloc_barrier there) and completes that phase once its data is in b's tile;
  // block b waits with mbarrier_wait_parity. This block does not wait.
  //  - BulkDsmem: thread 0 (after the fence.proxy.async and block barrier that
  //    InsertBarriers put before the copy) arrives on b's barrier expecting the
  //    copy's bytes (mbarrier.arrive.expect_tx.release.cluster, so the arrival
  //    cannot complete the phase before the bytes land), then issues the bulk
  //    copies, each completing its bytes on that barrier (complete_tx). The
  //    destination and the barrier are mapped into block b with mapa.
  //  - Simt: every thread stores its part into b's tile (mapa, generic stores); a
  //    block barrier; then thread 0 arrives on b's barrier with release at cluster
  //    scope (cumulative over the block's stores through the barrier), and b's
  //    waiters acquire at cluster scope (lowerUserIntrinsic).
  // A run-time rank outside the cluster copies and signals nothing.
  StmtRef lowerSignalledCopy(const CopyOp& c) {
    const Buffer& bar = *c.options.barrier;
    ExprRef barrier = intImm(bar.sharedOffset);
    ExprRef inside;
    if (!asConstInt(c.dstBlock))
      inside = logicalAnd(binary(BinOp::Ge, c.dstBlock, intImm(0)), lt(c.dstBlock, intImm(clusterBlocks())));
    ExprRef issuer = logicalAnd(isLeader(), inside);
    auto arrive = [&](int64_t bytes) {
      return std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierArriveRemote,
                                             std::vector<ExprRef>{barrier, c.dstBlock, intImm(bytes)});
    };
    std::string target = "block " + toString(c.dstBlock);
    if (c.path == CopyPath::BulkDsmem) {
      std::string why;
      auto plan = planBulkDsmem(c, why);
      TLC_ASSERT(plan, "a BulkDsmem copy without a plan: " + why);
      const Buffer& src = *c.src.buffer;
      const Buffer& dst = *c.dst.buffer;
      auto issue = std::make_shared<SeqStmt>(c.range);
      issue->stmts.push_back(arrive(plan->totalBytes()));
      auto run = [&](const std::vector<ExprRef>& idx) -> StmtRef {
        ExprRef from = intImm(src.sharedOffset + plan->srcStart), to = intImm(dst.sharedOffset + plan->dstStart);
        for (size_t d = 0; d < idx.size(); ++d) {
          from = add(from, mul(idx[d], intImm(plan->srcStrides[d])));
          to = add(to, mul(idx[d], intImm(plan->dstStrides[d])));
        }
        return std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::BulkCopyDsmem,
                                               std::vector<ExprRef>{to, from, intImm(plan->runBytes), barrier, c.dstBlock});
      };
      int64_t rows = plan->rows();
      if (rows == 1) {
        issue->stmts.push_back(run(std::vector<ExprRef>(plan->rowExtents.size(), intImm(0))));
      } else {
        auto r = makeVar("row", DType::Int32);
        issue->stmts.push_back(std::make_shared<ForStmt>(c.range, r, intImm(0), intImm(rows), ForKind::Serial,
                                                         run(unflatten(r, plan->rowExtents))));
      }
      std::ostringstream how;
      how << "a bulk DSMEM copy (cp.async.bulk.shared::cluster) into " << target << "'s tile, ";
      if (rows == 1) how << "one run of " << plan->runBytes << " bytes";
      else how << rows << " runs of " << plan->runBytes << " bytes";
      how << ", issued by one thread after fence.proxy.async and a block barrier; one arrival on '" << bar.name
          << "' there expecting " << plan->totalBytes() << " bytes, completed by the copy; no wait";
      notes_.push_back({c.range, copyName(c), how.str(), ""});
      return std::make_shared<IfStmt>(c.range, issuer, issue, nullptr);
    }
    CopyOp remote = c;
    auto view = std::make_shared<Buffer>(*c.dst.buffer);
    view->clusterRank = c.dstBlock;
    remote.dst.buffer = view;
    StmtRef body = lowerCopy(remote);
    if (inside) body = std::make_shared<IfStmt>(c.range, inside, body, nullptr);
    notes_.back().how = "stores into " + target + "'s tile (mapa, distributed shared memory), " + notes_.back().how +
                        ", then a block barrier and one arrival on '" + bar.name +
                        "' there (release at cluster scope); no wait";
    return std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>{
        body, std::make_shared<BarrierStmt>(c.range, BarrierKind::SyncThreads),
        std::make_shared<IfStmt>(c.range, issuer, arrive(0), nullptr)});
  }

  static int alignOf(const Buffer& b, int width) { return std::max(1, width * bits(b.dtype) / 8); }

  std::string describeCopy(const CopyOp& c, const Partition& p, const std::map<const VarNode*, int64_t>& need) {
    std::ostringstream os;
    os << "a SIMT loop, ";
    int bytes = p.width * std::max(bits(c.src.buffer->dtype), bits(c.dst.buffer->dtype)) / 8;
    if (p.width == 1) os << "one element (" << bytes << " bytes) per access";
    else os << p.width << "-element (" << bytes << "-byte) vectors";
    if (!need.empty()) {
      os << " where ";
      bool first = true;
      for (const auto& [v, m] : need) {
        os << (first ? "" : " and ");
        first = false;
        if (v->dtype == DType::Handle) os << v->name << " is " << m << "-byte aligned";
        else os << v->name << " % " << m << " == 0";
      }
    }
    return os.str();
  }

  // ----------------------------------------------------------- parallel

  StmtRef lowerParallel(const ParallelOp& par) {
    TileLoops loops{par.extents};
    // The fragments it touches decide the partition.
    const Buffer* frag = nullptr;
    forEachAccess(par.body, AccessVisitor{[&](const BufferRef& b, bool) {
      if (b->scope != MemScope::Fragment) return;
      if (b->shape.size() != par.extents.size() || [&] {
            for (size_t d = 0; d < par.extents.size(); ++d)
              if (*asConstInt(b->shape[d]) != par.extents[d]) return true;
            return false;
          }())
        fail(par.range, "not yet supported: a Parallel loop over " + extentsText(par.extents) + " that touches fragment '" +
                            b->name + "' of another shape; the loop's extents must equal the fragment's shape");
      frag = b.get();
    }});
    // A loop_layout, or the layout its fragments follow, decides who runs what.
    ThreadLayoutRef layout = par.layout;
    if (!layout && frag) layout = frag->layout.custom;
    if (layout) {
      if (frag && frag->layout.custom && !frag->layout.custom->sameMapping(*layout))
        diags_.internalError(par.range, "fragment '" + frag->name + "' follows another layout than its Parallel loop");
      auto seq = std::make_shared<SeqStmt>(par.range);
      for (int64_t k = 0; k < layout->localSize; ++k)
        seq->stmts.push_back(parallelIteration(par, layoutIndices(*layout, k, par.extents), intImm(k)));
      return seq;
    }
    Partition p = frag ? partitionFor(frag->layout.threads, frag->layout.vec, loops.numel(), true)
                       : partitionFor(kernel_.threads, 1, loops.numel(), false);
    int64_t groups = loops.numel() / p.vec;
    auto body = [&](const ExprRef& it, const ExprRef& group) -> StmtRef {
      auto seq = std::make_shared<SeqStmt>(par.range);
      for (int lane = 0; lane < p.vec; ++lane) {
        ExprRef flat = add(mul(group, intImm(p.vec)), intImm(lane));
        ExprRef local = add(mul(it, intImm(p.vec)), intImm(lane));
        seq->stmts.push_back(parallelIteration(par, unflatten(flat, loops.extents), local));
      }
      return seq;
    };
    return partitionLoop(p, par.range, groups, body);
  }

  // One iteration of a Parallel loop's body: the loop variables are `loopIdx`, a
  // fragment element is the calling thread's register `local`. A read of a global
  // tensor that has a safe value is bounds-checked (annotate_safe_value).
  StmtRef parallelIteration(const ParallelOp& par, const std::vector<ExprRef>& loopIdx, const ExprRef& local) {
    VarMap vars;
    for (size_t d = 0; d < par.vars.size(); ++d) vars[par.vars[d].get()] = loopIdx[d];
    RewriteHooks hooks;
    auto ownElement = [&](const Buffer& b, const std::vector<ExprRef>& idx, SourceRange r) {
      for (size_t d = 0; d < idx.size(); ++d)
        if (idx[d] != loopIdx[d])
          fail(r, "not yet supported: fragment '" + b.name + "' indexed with something other than the loop's own " +
                      "variables in order; only " + b.name + "[" + varList(par) + "] is supported here");
    };
    hooks.load = [&](const LoadNode& l, std::vector<ExprRef> idx) -> ExprRef {
      if (l.buffer->scope == MemScope::Global && l.buffer->safeValue) {
        ExprRef inside;
        for (size_t a = 0; a < idx.size(); ++a)
          inside = logicalAnd(inside, logicalAnd(binary(BinOp::Ge, idx[a], intImm(0, idx[a]->dtype)),
                                                 lt(idx[a], l.buffer->shape[a])));
        auto n = std::make_shared<LoadNode>(l.buffer, idx, l.dtype, l.lanes);
        n->predicate = inside;
        n->otherwise = inside ? l.buffer->safeValue : nullptr;
        n->alignBytes = l.alignBytes;
        return n;
      }
      if (l.buffer->scope != MemScope::Fragment) return nullptr;
      ownElement(*l.buffer, idx, par.range);
      return std::make_shared<LoadNode>(fragmentLocal_.at(l.buffer.get()), std::vector<ExprRef>{local}, l.dtype, 1);
    };
    hooks.store = [&](const StoreStmt& st, std::vector<ExprRef> idx, ExprRef value) -> StmtRef {
      if (st.buffer->scope != MemScope::Fragment) return nullptr;
      ownElement(*st.buffer, idx, st.range);
      return std::make_shared<StoreStmt>(st.range, fragmentLocal_.at(st.buffer.get()), std::vector<ExprRef>{local}, value);
    };
    return rewriteStmt(par.body, vars, hooks);
  }

  static std::string varList(const ParallelOp& par) {
    std::string s;
    for (size_t i = 0; i < par.vars.size(); ++i) s += (i ? ", " : "") + par.vars[i]->name;
    return s;
  }
  static std::string extentsText(const std::vector<int64_t>& e) {
    std::string s = "(";
    for (size_t i = 0; i < e.size(); ++i) s += (i ? ", " : "") + std::to_string(e[i]);
    return s + ")";
  }

  // --------------------------------------------------------------- fill

  StmtRef lowerFill(const FillOp& f) {
    const Region& r = f.dst;
    if (r.buffer->scope == MemScope::Fragment) {
      // Every register slot, padding included: cheap, and no guard needed.
      const auto& local = fragmentLocal_.at(r.buffer.get());
      auto seq = std::make_shared<SeqStmt>(f.range);
      for (int64_t i = 0; i < r.buffer->layout.localSize; ++i)
        seq->stmts.push_back(std::make_shared<StoreStmt>(f.range, local, std::vector<ExprRef>{intImm(i)}, f.value));
      return seq;
    }
    auto axes = loopAxes(r);
    TileLoops loops;
    for (int a : axes) loops.extents.push_back(r.extents[a]);
    if (loops.extents.empty()) {
      auto st = std::make_shared<StoreStmt>(f.range, r.buffer, r.mins, f.value);
      st->predicate = inBounds(r, r.mins);
      return st;
    }
    Partition p = partitionFor(r.buffer->scope == MemScope::Local ? 1 : kernel_.threads, 1, loops.numel(), false);
    auto body = [&](const ExprRef&, const ExprRef& group) -> StmtRef {
      auto idx = sideIndices(r, axes, unflatten(group, loops.extents));
      auto st = std::make_shared<StoreStmt>(f.range, r.buffer, idx, f.value);
      st->predicate = inBounds(r, idx);
      return st;
    };
    return partitionLoop(p, f.range, loops.numel(), body);
  }
};

}  // namespace

bool lowerTileOps(Kernel& kernel, const TileOpLoweringOptions& options, DiagnosticEngine& diags,
                  std::vector<CopyLoweringNote>& notes) {
  TileOpLowering lowering(kernel, options, diags, notes);
  return lowering.run();
}

}  // namespace tlc
