// LowerTileOps: the walk over the kernel's tile operations; see the header. Each
// copy is lowered by the strategy ChooseCopyPaths chose for it (lower/copy/); the
// Parallel loops and fills are partitioned here, and the user's asynchronous-copy
// intrinsics get their shared offsets.
#include "lower/LowerTileOps.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>

#include "ir/Limits.h"
#include "ir/Rewrite.h"
#include "lower/ChooseReductions.h"
#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"

namespace tlc {
namespace {

using namespace ir;

class TileOpLowering {
 public:
  TileOpLowering(Kernel& kernel, const TileOpLoweringOptions& options, DiagnosticEngine& diags,
                 std::vector<CopyLoweringNote>& notes)
      : kernel_(kernel), options_(options), copies_(kernel, options, diags, notes) {}

  bool run() {
    // Each fragment becomes a per-thread Local array of its layout's local size; a
    // view of a fragment (listed after it, the same layout: LayoutFragments) names
    // its fragment's array and owns none.
    for (auto& b : kernel_.allocations) {
      if (b->scope != MemScope::Fragment) continue;
      if (b->viewOf) {
        fragments_.push_back(b);
        copies_.fragmentLocal[b.get()] = copies_.fragmentLocal.at(b->viewOf.get());
        continue;
      }
      auto local = std::make_shared<Buffer>(*b);
      local->scope = MemScope::Local;
      local->shape = {intImm(b->layout.localSize)};
      local->strides = {intImm(1)};
      // The map compares its keys by id, so the fragment must outlive it: an unused
      // fragment has no other owner once its allocation is replaced (a use after free
      // found by fuzz_frontend under ASan).
      fragments_.push_back(b);
      copies_.fragmentLocal[b.get()] = local;
      b = local;
    }
    kernel_.allocations.erase(std::remove_if(kernel_.allocations.begin(), kernel_.allocations.end(),
                                             [](const BufferRef& b) { return b->scope == MemScope::Fragment && b->viewOf; }),
                              kernel_.allocations.end());
    collectRemoteBarriers(kernel_.body);
    copies_.hasUserLoop = hasLoop(kernel_.body);
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
    if (copies_.anyMulticast || !copies_.remoteBarriers.empty() || copies_.anyStoresOnly)
      kernel_.body = std::make_shared<SeqStmt>(
          kernel_.range, std::vector<StmtRef>{kernel_.body, CopyLowering::clusterSync(kernel_.range)});
    // Remote stores with no cluster barrier of their own: every block of the cluster
    // has started (its shared memory exists) before any stores into it.
    if (copies_.anyStoresOnly)
      kernel_.body = std::make_shared<SeqStmt>(
          kernel_.range, std::vector<StmtRef>{CopyLowering::clusterSync(kernel_.range), kernel_.body});
    for (const auto& a : copies_.assumptions()) kernel_.assumptions.push_back(a);
    return true;
  }

 private:
  Kernel& kernel_;
  std::vector<BufferRef> fragments_;  // the fragments replaced by their Local arrays, kept alive
  const TileOpLoweringOptions& options_;
  CopyLowering copies_;

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
          copies_.fail(st.range, "element '" + st.buffer->name + "[...]' of a fragment can only be written inside a Parallel loop");
        for (const auto& i : st.indices) checkScalar(i, st.range);
        checkScalar(st.value, st.range);
        return s;
      }
      case StmtKind::Barrier: return s;
      case StmtKind::Intrinsic: return lowerUserIntrinsic(s);
      case StmtKind::Copy: {
        const auto& c = s->as<CopyOp>();
        TLC_ASSERT(c.plan, "a copy without a strategy reached LowerTileOps");
        return copyStrategyNamed(c.plan->strategy).lower(c, copies_);
      }
      case StmtKind::Parallel: return lowerParallel(s->as<ParallelOp>());
      case StmtKind::Fill: return lowerFill(s->as<FillOp>());
      case StmtKind::Reduce: return lowerReduce(s->as<ReduceOp>());
    }
    return s;
  }

  // A user-level intrinsic names its barrier and shared operand by buffer: they
  // become byte offsets at the front of its arguments (barrier first).
  StmtRef lowerUserIntrinsic(const StmtRef& s) {
    const auto& in = s->as<IntrinsicStmt>();
    // The wait is a mbarrier.try_wait loop (the backend); sema reports the
    // constructs a target lacks, this keeps any it let through from ptxas.
    if (in.op == IntrinsicOp::MbarrierWaitParity && !options_.target.has(TargetFeature::MbarrierTryWait))
      copies_.fail(in.range, std::string("not yet supported: ") + name(in.op) + ": " +
                                 options_.target.lacks(TargetFeature::MbarrierTryWait));
    if (!in.barrier && !in.shared) return s;
    // TMA writes and reads the tile row-major; a tile another operation swizzles
    // (LayoutSharedTiles) would need the tensor map's matching swizzle mode.
    if ((in.op == IntrinsicOp::TmaGather4 || in.op == IntrinsicOp::TmaScatter4) && in.shared->sharedLayout.permutesPieces())
      copies_.fail(in.range, std::string("not yet supported: ") + name(in.op) + " on '" + in.shared->name +
                         "', whose layout is swizzled for " + in.shared->sharedLayout.why);
    auto out = std::make_shared<IntrinsicStmt>(in);
    if (in.op == IntrinsicOp::CpAsync) return lowerUserCpAsync(in);
    std::vector<ExprRef> front;
    ExprRef sharedAt = in.shared ? add(intImm(in.shared->sharedOffset), mul(in.sharedElement, intImm(bits(in.shared->dtype) / 8)))
                                 : nullptr;
    if (in.op == IntrinsicOp::TmaLoad && sharedAt) front.push_back(sharedAt);  // tma_load: shared, then barrier
    // An element of a barrier array: 8 bytes per mbarrier (sema checked a constant index;
    // a run-time one is the program's to keep in range, as in TileLang).
    if (in.barrier)
      front.push_back(in.barrierIndex ? add(intImm(in.barrier->sharedOffset), mul(checkScalar(in.barrierIndex, in.range), intImm(8)))
                                      : intImm(in.barrier->sharedOffset));
    if (in.op != IntrinsicOp::TmaLoad && sharedAt) front.push_back(sharedAt);
    for (const auto& a : in.args) front.push_back(checkScalar(a, in.range));
    out->args = front;
    // A barrier another block arrives on (remote_barrier=) with release at cluster
    // scope: its waiters acquire at cluster scope, so that the SIMT path's remote
    // stores are visible to them (the bulk path's bytes are, through complete_tx).
    if (in.op == IntrinsicOp::MbarrierWaitParity && copies_.remoteBarriers.count(in.barrier.get())) out->immediate = 1;
    out->barrier = nullptr;
    out->barrierIndex = nullptr;
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
          copies_.fail(in.range, "not yet supported: a gather4/scatter4 with tile '" + tile.name + "' in layout " +
                             describe(tile.sharedLayout, tile.dtype) + " (TMA swizzles need rows of exactly the span)");
      }
      out->tensorMap = copies_.tensorMapFor(in.buffer, {1, in.immediate}, swizzle);
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
      AssumptionMap need;
      need[t.data.get()] = 16;
      for (size_t a = t.strides.size() - 1; a-- > 0;)
        if (!options_.allowAssumptions || !copies_.provablyMultiple(t.strides[a], std::max(1, 16 / elemBytes), need))
          copies_.fail(p.range, "tma_descriptor: stride " + toString(t.strides[a]) + " of '" + t.name +
                            "' cannot be a multiple of 16 bytes");
      copies_.commit(need);
    }
  }

  // cp_async_gs / cp_async_shared_global. Tile IR args: source element offset
  // (Int64), bytes to read, and (conditional form) a Bool; when it is false nothing
  // is read (source size 0, offset 0) and the destination is zero-filled. Both
  // addresses must be multiples of the copy size: the shared one provably, the
  // global one by the variant's assumptions (required: the kernel has no fallback).
  // Locals given one value and never reassigned, for alignment proofs (`c = (tx % 16) * 4`).
  VarMap singleLets_;
  void collectLets(const StmtRef& s, VarSet& assigned) {
    if (!s) return;
    switch (s->kind) {
      case StmtKind::Seq: for (const auto& c : s->as<SeqStmt>().stmts) collectLets(c, assigned); break;
      case StmtKind::For: collectLets(s->as<ForStmt>().body, assigned); break;
      case StmtKind::If: collectLets(s->as<IfStmt>().thenBody, assigned); collectLets(s->as<IfStmt>().elseBody, assigned); break;
      case StmtKind::Let: singleLets_[s->as<LetStmt>().var.get()] = s->as<LetStmt>().value; break;
      case StmtKind::Assign: assigned.insert(s->as<AssignStmt>().var.get()); break;
      case StmtKind::Store:  // an atomic's old value is assigned to its local
        if (s->as<StoreStmt>().result) assigned.insert(s->as<StoreStmt>().result.get());
        break;
      default: break;
    }
  }
  ExprRef expandLets(ExprRef e) {
    if (singleLets_.empty()) {
      VarSet assigned;
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
      copies_.fail(in.range, "the shared address of this " + std::to_string(size) + "-byte cp.async ('" + in.shared->name + "' element " +
                         toString(in.sharedElement) + ") is not provably a multiple of " + std::to_string(size) + " bytes");
    int64_t srcBytes = std::max(1, bits(in.buffer->dtype) / 8);
    AssumptionMap need;
    if (in.buffer->loadedBase && size > in.buffer->alignBytes)
      copies_.fail(in.range, "'" + in.buffer->name + "' views an address loaded in the kernel (make_tensor of a table of "
                                 "pointers), known aligned only to its " + std::to_string(in.buffer->alignBytes) +
                                 "-byte elements: a " + std::to_string(size) + "-byte cp.async cannot be proven aligned");
    if (in.buffer->data && !in.buffer->loadedBase) need[in.buffer->data.get()] = size;
    if (!options_.allowAssumptions ||
        !copies_.provablyMultiple(expandLets(in.args[0]), std::max<int64_t>(1, size / srcBytes), need))
      copies_.fail(in.range, "the global address of this " + std::to_string(size) + "-byte cp.async ('" + in.buffer->name +
                         "' element offset " + toString(in.args[0]) + ") cannot be a multiple of " + std::to_string(size) +
                         " bytes");
    copies_.commit(need);
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
    copies_.describeAssumptions(how, need);
    copies_.notes.push_back({in.range, "cp.async " + in.buffer->name + " -> " + in.shared->name, how.str(), ""});
    return out;
  }

  // Scalar code outside Parallel loops may not read fragment elements: which thread
  // holds an element is the layout's business.
  ExprRef checkScalar(const ExprRef& e, SourceRange r) {
    forEachLoad(e, [&](const LoadNode& l) {
      if (l.buffer->scope == MemScope::Fragment)
        copies_.fail(r, "not yet supported: reading fragment '" + l.buffer->name +
                    "' outside a Parallel loop (each element lives in one thread's registers)");
    });
    return e;
  }

  // Barrier initialization and descriptor prefetch at entry; outstanding bulk
  // stores drained at exit.
  void addAsyncPrologueAndEpilogue() {
    std::vector<BufferRef> userBarriers;
    for (const auto& b : kernel_.allocations)
      if (b->isBarrier && !b->barrierArrivals.empty()) userBarriers.push_back(b);
    // The automatic mbarriers of the TMA loads (AllocateCopyBarriers).
    int64_t barrierBase = 0, barrierCount = 0;
    for (const auto& b : kernel_.allocations)
      if (b->copyBarriers) {
        barrierBase = b->sharedOffset;
        barrierCount = *asConstInt(b->shape[0]);
      }
    if (barrierCount == 0 && copies_.tensorMaps.empty() && userBarriers.empty()) return;
    auto body = std::make_shared<SeqStmt>(kernel_.range);
    auto leader = std::make_shared<SeqStmt>(kernel_.range);
    for (int64_t i = 0; i < barrierCount; ++i)
      leader->stmts.push_back(std::make_shared<IntrinsicStmt>(
          kernel_.range, IntrinsicOp::MbarrierInit, std::vector<ExprRef>{intImm(barrierBase + 8 * i), intImm(1)}));
    // alloc_barrier's barriers: initialised once, made visible (to the async proxy
    // too, which completes their transactions) before the block barrier below.
    for (const auto& b : userBarriers)
      for (size_t i = 0; i < b->barrierArrivals.size(); ++i)
        leader->stmts.push_back(std::make_shared<IntrinsicStmt>(
            b->declRange, IntrinsicOp::MbarrierInit,
            std::vector<ExprRef>{intImm(b->sharedOffset + 8 * int64_t(i)), intImm(b->barrierArrivals[i])}));
    if (!userBarriers.empty() || (copies_.anyMulticast && barrierCount))
      leader->stmts.push_back(std::make_shared<IntrinsicStmt>(kernel_.range, IntrinsicOp::FenceMbarrierInit));
    for (const auto& map : copies_.tensorMaps) {
      auto prefetch = std::make_shared<IntrinsicStmt>(kernel_.range, IntrinsicOp::PrefetchTensorMap);
      prefetch->tensorMap = map;
      leader->stmts.push_back(prefetch);
    }
    for (const auto& phase : copies_.phases) body->stmts.push_back(std::make_shared<LetStmt>(kernel_.range, phase, intImm(0)));
    body->stmts.push_back(std::make_shared<IfStmt>(kernel_.range, CopyLowering::isLeader(), leader, nullptr));
    // Barriers that other blocks signal (remote_barrier=, a tma_copy multicast's
    // complete_tx) must be initialised before any block of the cluster may arrive on
    // them: a cluster barrier then.
    if (barrierCount || !userBarriers.empty())
      body->stmts.push_back(std::make_shared<BarrierStmt>(
          kernel_.range, copies_.remoteBarriers.empty() && !copies_.anyUserMulticast ? BarrierKind::SyncThreads
                                                                                      : BarrierKind::ClusterSync));
    body->stmts.push_back(kernel_.body);
    // No drain at exit: each store already waited until its tile was read, which is
    // all the block's shared memory needs; the global writes complete on their own.
    kernel_.body = body;
    // Listed last, as PlanSharedMemory placed them after every tile.
    std::stable_partition(kernel_.allocations.begin(), kernel_.allocations.end(),
                          [](const BufferRef& b) { return !b->copyBarriers; });
  }

  // Whether the tile IR has a `for` (every one is the user's: copies, fills and
  // Parallel loops are still operations here).
  static bool hasLoop(const StmtRef& s) {
    if (!s) return false;
    switch (s->kind) {
      case StmtKind::Seq:
        for (const auto& c : s->as<SeqStmt>().stmts)
          if (hasLoop(c)) return true;
        return false;
      case StmtKind::For: return true;
      case StmtKind::If: return hasLoop(s->as<IfStmt>().thenBody) || hasLoop(s->as<IfStmt>().elseBody);
      default: return false;
    }
  }

  // ------------------------------------------- remote barriers (DSMEM)

  // The barriers some copy_cluster(remote_barrier=) signals: their waiters acquire
  // at cluster scope (lowerUserIntrinsic).
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
          copies_.remoteBarriers.insert(s->as<CopyOp>().options.barrier.get());
        break;
      case StmtKind::Intrinsic:  // mbarrier_arrive(bar, cta_id)
        if (s->as<IntrinsicStmt>().op == IntrinsicOp::MbarrierArriveRemote && s->as<IntrinsicStmt>().barrier)
          copies_.remoteBarriers.insert(s->as<IntrinsicStmt>().barrier.get());
        break;
      default: break;
    }
  }

  // ----------------------------------------------------------- parallel

  StmtRef lowerParallel(const ParallelOp& par) {
    TileLoops loops{par.extents};
    // The fragments of the loop's shape decide the partition; one of another shape
    // is a broadcast (LayoutFragments checked how it is read and gave it the
    // projection of this loop's partition).
    const Buffer* frag = nullptr;
    const Buffer* broadcast = nullptr;
    forEachAccess(par.body, AccessVisitor{[&](const BufferRef& b, bool) {
      if (b->scope != MemScope::Fragment) return;
      bool loopShape = b->shape.size() == par.extents.size() && [&] {
        for (size_t d = 0; d < par.extents.size(); ++d)
          if (*asConstInt(b->shape[d]) != par.extents[d]) return false;
        return true;
      }();
      if (!loopShape && b->layout.isBroadcast() && b->layout.broadcastFrom == par.extents) {
        broadcast = b.get();
        return;
      }
      if (!loopShape)
        copies_.diags.internalError(par.range, "fragment '" + b->name + "' of another shape than its Parallel loop " +
                                                   extentsText(par.extents) + " has no broadcast layout");
      frag = b.get();
    }});
    if (frag && frag->layout.isBroadcast()) return lowerBroadcastParallel(par, frag->layout);
    // A loop_layout, or the layout its fragments follow, decides who runs what.
    ThreadLayoutRef layout = par.layout;
    if (!layout && frag) layout = frag->layout.custom;
    if (layout) {
      if (frag && frag->layout.custom && !frag->layout.custom->sameMapping(*layout))
        copies_.diags.internalError(par.range, "fragment '" + frag->name + "' follows another layout than its Parallel loop");
      if (broadcast) copies_.diags.internalError(par.range, "a broadcast fragment in a Parallel loop with a loop_layout");
      auto seq = std::make_shared<SeqStmt>(par.range);
      for (int64_t k = 0; k < layout->localSize; ++k)
        seq->stmts.push_back(parallelIteration(par, copies_.layoutIndices(*layout, k, par.extents), intImm(k), nullptr, 0));
      return seq;
    }
    Partition p = frag ? copies_.partitionFor(frag->layout.threads, frag->layout.vec, loops.numel(), true)
                       : copies_.partitionFor(kernel_.threads, 1, loops.numel(), false);
    if (broadcast && (broadcast->layout.vec != p.vec || broadcast->layout.threads != p.threads))
      copies_.diags.internalError(par.range, "broadcast fragment '" + broadcast->name + "' does not follow its loop's partition");
    if (broadcast && !frag) {
      // Unrolled as a fragment's loop, so that the broadcast's registers have constant indices.
      Partition f = copies_.partitionFor(kernel_.threads, 1, loops.numel(), true);
      p.unrolled = f.unrolled;
      p.keepRolled = f.keepRolled;
    }
    int64_t groups = loops.numel() / p.vec;
    auto body = [&](const ExprRef& it, const ExprRef& group) -> StmtRef {
      auto seq = std::make_shared<SeqStmt>(par.range);
      for (int lane = 0; lane < p.vec; ++lane) {
        ExprRef flat = add(mul(group, intImm(p.vec)), intImm(lane));
        ExprRef local = add(mul(it, intImm(p.vec)), intImm(lane));
        seq->stmts.push_back(parallelIteration(par, CopyLowering::unflatten(flat, loops.extents), local, it, lane));
      }
      return seq;
    };
    return copies_.partitionLoop(p, par.range, groups, body);
  }

  // A Parallel loop over a broadcast fragment's own shape: each thread runs the
  // iterations whose elements it holds (those of its groups of the larger loop), so
  // several threads compute the same element, each into its own registers. Stores to
  // memory are left to one of them, the thread whose group starts the dropped axes
  // (their index 0).
  StmtRef lowerBroadcastParallel(const ParallelOp& par, const FragmentLayout& layout) {
    TileLoops full{layout.broadcastFrom};
    Partition p = copies_.partitionFor(layout.threads, layout.vec, full.numel(), true);
    int lanes = layout.lanes();
    int64_t groups = full.numel() / p.vec;
    auto body = [&](const ExprRef& it, const ExprRef& group) -> StmtRef {
      auto seq = std::make_shared<SeqStmt>(par.range);
      for (int lane = 0; lane < lanes; ++lane) {
        auto [loopIdx, owner] = CopyLowering::broadcastElement(layout, group, lane);
        ExprRef local = add(mul(it, intImm(lanes)), intImm(lane));
        seq->stmts.push_back(parallelIteration(par, loopIdx, local, nullptr, 0, owner));
      }
      return seq;
    };
    return copies_.partitionLoop(p, par.range, groups, body);
  }

  // One iteration of a Parallel loop's body: the loop variables are `loopIdx`, a
  // fragment element is the calling thread's register `local`, a broadcast
  // fragment's the register of group `it` (lane `lane` when it keeps the innermost
  // axis). A read of a global tensor that has a safe value is bounds-checked
  // (annotate_safe_value). With `owner`, stores to memory happen only where it holds.
  StmtRef parallelIteration(const ParallelOp& par, const std::vector<ExprRef>& loopIdx, const ExprRef& local,
                            const ExprRef& it, int lane, const ExprRef& owner = nullptr) {
    VarMap vars;
    for (size_t d = 0; d < par.vars.size(); ++d) vars[par.vars[d].get()] = loopIdx[d];
    RewriteHooks hooks;
    auto isBroadcastHere = [&](const Buffer& b) {
      if (!b.layout.isBroadcast() || b.layout.broadcastFrom != par.extents) return false;
      bool loopShape = b.shape.size() == par.extents.size();
      for (size_t d = 0; loopShape && d < par.extents.size(); ++d) loopShape = *asConstInt(b.shape[d]) == par.extents[d];
      return !loopShape;
    };
    auto ownElement = [&](const Buffer& b, const std::vector<ExprRef>& idx, SourceRange r,
                          const std::vector<ExprRef>* source) {
      if (isBroadcastHere(b)) {
        // `idx` is rewritten; the read as written is checked against the layout.
        bool same = source && source->size() == b.layout.keptAxes.size();
        for (size_t d = 0; same && d < source->size(); ++d) {
          auto k = broadcastIndexOf((*source)[d], par.vars);
          same = k && *k == b.layout.keptAxes[d];
        }
        if (!same) copies_.diags.internalError(r, "broadcast fragment '" + b.name + "' read other than LayoutFragments checked");
        return;
      }
      for (size_t d = 0; d < idx.size(); ++d)
        if (idx[d] != loopIdx[d])
          copies_.fail(r, "not yet supported: fragment '" + b.name + "' indexed with something other than the loop's own " +
                      "variables in order; only " + b.name + "[" + varList(par) + "] is supported here");
    };
    auto registerOf = [&](const Buffer& b) -> ExprRef {
      if (!isBroadcastHere(b)) return local;
      if (!it) copies_.diags.internalError(par.range, "a broadcast fragment outside a partitioned Parallel loop");
      int lanes = b.layout.lanes();
      return add(mul(it, intImm(lanes)), intImm(lanes > 1 ? lane : 0));
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
      ownElement(*l.buffer, idx, par.range, &l.indices);
      return std::make_shared<LoadNode>(copies_.fragmentLocal.at(l.buffer.get()), std::vector<ExprRef>{registerOf(*l.buffer)},
                                        l.dtype, 1);
    };
    hooks.store = [&](const StoreStmt& st, std::vector<ExprRef> idx, ExprRef value) -> StmtRef {
      if (st.buffer->scope != MemScope::Fragment) {
        if (!owner) return nullptr;
        auto n = moveStore(st, st.buffer, idx, value);
        n->predicate = logicalAnd(st.predicate, owner);
        return n;
      }
      ownElement(*st.buffer, idx, st.range, nullptr);
      return std::make_shared<StoreStmt>(st.range, copies_.fragmentLocal.at(st.buffer.get()), std::vector<ExprRef>{local}, value);
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

  // ------------------------------------------------------------ reduce

  // A shuffle reduction (ChooseReductions; the plan is ShuffleReductionPlan's), for
  // each slot of the calling thread (an iteration of the source's partition, or a
  // row that spans G / T of them): the fold of its elements, then the butterfly
  // `part = part (op) shfl_bfly(part, m)` for m = lanesPerRow / 2 .. 1, after which
  // every lane of the row holds the row's value. Whole: that value goes into dst's
  // registers of the slot (dst has the broadcast layout of the source's partition).
  // WarpPartials: lane 0 of each warp stores it at scratch[slot, warp]; FoldWarps:
  // every thread folds the partials of its row's warps, in warp order (the same
  // value in every thread), into dst. A thread with no group in the last iteration
  // offers 0: its row is the same for all the lanes it meets.
  StmtRef lowerReduce(const ReduceOp& r) {
    if (!r.shuffle || r.fallback)
      copies_.diags.internalError(r.range, "a reduction reached LowerTileOps without its lowering chosen");
    ShuffleReductionPlan p = shuffleReductionPlan(r);
    const BufferRef& src = copies_.fragmentLocal.at(r.src.get());
    const BufferRef& dst = copies_.fragmentLocal.at(r.dst.get());
    if (r.dst->layout.localSize != p.iterations * (p.columns ? p.vec : 1))
      copies_.diags.internalError(r.range, "reduction result '" + r.dst->name + "' does not follow its source's partition");
    DType acc = r.acc;
    bool unrolled = copies_.partitionFor(p.threads, p.vec, p.rows * p.rowGroups * p.vec, true).unrolled;
    ForKind kind = unrolled ? ForKind::Unrolled : ForKind::Serial;
    auto loop = [&](const VarRef& v, int64_t from, int64_t count, const StmtRef& body) -> StmtRef {
      if (count == 1) return substitute(body, VarMap{{v.get(), intImm(from)}});
      auto f = std::make_shared<ForStmt>(r.range, v, intImm(from), intImm(count), kind, body);
      f->keepRolled = !unrolled;
      return f;
    };
    auto asAcc = [&](ExprRef x) { return x->dtype == acc ? x : cast(acc, x); };
    auto combine = [&](const ExprRef& a, const ExprRef& b) {
      switch (r.op) {
        case ReduceKind::Max:
        case ReduceKind::AbsMax: return binary(BinOp::Max, a, b);
        case ReduceKind::Min: return binary(BinOp::Min, a, b);
        default: return binary(BinOp::Add, a, b);
      }
    };
    auto element = [&](const ExprRef& reg) {
      ExprRef x = asAcc(std::make_shared<LoadNode>(src, std::vector<ExprRef>{reg}, src->dtype, 1));
      if (r.op == ReduceKind::AbsSum || r.op == ReduceKind::AbsMax) x = call(Builtin::Abs, {x}, acc);
      return x;
    };
    // The fold of the vec elements of iteration `it`.
    auto iterationFold = [&](const ExprRef& it) {
      ExprRef v;
      for (int l = 0; l < p.vec; ++l) {
        ExprRef x = element(add(mul(it, intImm(p.vec)), intImm(l)));
        v = v ? combine(v, x) : x;
      }
      return v;
    };
    ExprRef tid = CopyLowering::threadIndex();
    ExprRef warp = floorDiv(tid, intImm(32));
    // The slot's (or column's) value into dst register `reg`.
    auto storeDst = [&](const ExprRef& reg, const ExprRef& value) -> StmtRef {
      ExprRef v = value;
      if (!r.clear) v = combine(asAcc(std::make_shared<LoadNode>(dst, std::vector<ExprRef>{reg}, dst->dtype, 1)), v);
      if (v->dtype != dst->dtype) v = cast(dst->dtype, v);
      return std::make_shared<StoreStmt>(r.range, dst, std::vector<ExprRef>{reg}, v);
    };
    if (p.columns) return lowerReduceColumns(r, p, loop, combine, element, storeDst);
    VarRef slot = makeVar("slot", DType::Int32);
    VarRef part = makeVar("part", acc);
    auto body = std::make_shared<SeqStmt>(r.range);
    if (r.part != ReduceOp::Part::FoldWarps) {
      ExprRef firstIt = mul(slot, intImm(p.iterationsPerSlot));
      if (p.guard) {  // (iterationsPerSlot is 1 then: T | G leaves no thread idle)
        ExprRef zero = isFloat(acc) ? floatImm(0, acc) : intImm(0, acc);
        body->stmts.push_back(std::make_shared<LetStmt>(r.range, part, zero));
        ExprRef active = lt(add(mul(slot, intImm(p.threads)), tid), intImm(p.rows * p.rowGroups));
        body->stmts.push_back(std::make_shared<IfStmt>(
            r.range, active, std::make_shared<AssignStmt>(r.range, part, iterationFold(firstIt)), nullptr));
      } else {
        body->stmts.push_back(std::make_shared<LetStmt>(r.range, part, iterationFold(firstIt)));
      }
      if (p.iterationsPerSlot > 1) {
        VarRef j = makeVar("j", DType::Int32);
        auto step = std::make_shared<AssignStmt>(r.range, part, combine(part, iterationFold(add(firstIt, j))));
        body->stmts.push_back(loop(j, 1, p.iterationsPerSlot - 1, step));
      }
      for (int mask = p.lanesPerRow / 2; mask >= 1; mask /= 2) {
        VarRef other = makeVar("other", acc);
        body->stmts.push_back(
            std::make_shared<LetStmt>(r.range, other, call(Builtin::ShflBfly, {part, intImm(mask)}, acc)));
        body->stmts.push_back(std::make_shared<AssignStmt>(r.range, part, combine(part, other)));
      }
      if (r.part == ReduceOp::Part::WarpPartials) {
        auto st = std::make_shared<StoreStmt>(r.range, r.scratch, std::vector<ExprRef>{slot, warp}, ExprRef(part));
        st->predicate = binary(BinOp::Eq, floorMod(tid, intImm(32)), intImm(0));
        body->stmts.push_back(st);
        return loop(slot, 0, p.slots, body);
      }
    } else {
      // The warps of this thread's row: warpsPerRow consecutive ones.
      ExprRef base = mul(floorDiv(warp, intImm(p.warpsPerRow)), intImm(p.warpsPerRow));
      auto at = [&](int k) {
        return std::make_shared<LoadNode>(r.scratch, std::vector<ExprRef>{ExprRef(slot), add(base, intImm(k))}, acc, 1);
      };
      body->stmts.push_back(std::make_shared<LetStmt>(r.range, part, at(0)));
      for (int k = 1; k < p.warpsPerRow; ++k)
        body->stmts.push_back(std::make_shared<AssignStmt>(r.range, part, combine(part, at(k))));
    }
    // The slot's value into each of dst's registers it covers (one per iteration).
    for (int64_t j = 0; j < p.iterationsPerSlot; ++j)
      body->stmts.push_back(storeDst(add(mul(slot, intImm(p.iterationsPerSlot)), intImm(j)), part));
    return loop(slot, 0, p.slots, body);
  }

  // A shuffle reduction down the columns (dim 0 of a (K, B) source; the plan's
  // `columns`). G | T: thread t holds column group t % G at every iteration, so it
  // folds each of its vec lanes over all its iterations (one that has no group in the
  // last iteration adds the operation's identity: it meets lanes that do), then the
  // butterfly over the lanes t % G + G s of its warp (masks G .. 16), then, with
  // several partials a column, lanes t % 32 < G store theirs at scratch[column,
  // t / max(G, 32)] (WarpPartials) and every thread folds them in order (FoldWarps).
  // T | G: thread t's column groups are those of iterations j, j + G / T, ...: each
  // is folded alone, no shuffle. The result of lane l goes into every register of
  // dst (broadcast layout, innermost axis kept: vec registers an iteration) that
  // holds that column.
  template <class Loop, class Combine, class Element, class StoreDst>
  StmtRef lowerReduceColumns(const ReduceOp& r, const ShuffleReductionPlan& p, Loop& loop, Combine& combine,
                             Element& element, StoreDst& storeDst) {
    DType acc = r.acc;
    ExprRef tid = CopyLowering::threadIndex();
    auto seq = std::make_shared<SeqStmt>(r.range);
    int64_t G = p.rowGroups, V = p.vec, T = p.threads;
    if (G > T) {
      int64_t m = p.iterationsPerSlot;
      VarRef j = makeVar("j", DType::Int32);
      auto body = std::make_shared<SeqStmt>(r.range);
      for (int64_t l = 0; l < V; ++l) {
        auto reg = [&](const ExprRef& k) { return add(mul(add(mul(k, intImm(m)), j), intImm(V)), intImm(l)); };
        VarRef part = makeVar("part", acc);
        body->stmts.push_back(std::make_shared<LetStmt>(r.range, part, element(reg(intImm(0)))));
        VarRef k = makeVar("k", DType::Int32);
        body->stmts.push_back(loop(k, 1, p.rows - 1, std::make_shared<AssignStmt>(r.range, part, combine(part, element(reg(k))))));
        VarRef k2 = makeVar("k", DType::Int32);
        body->stmts.push_back(loop(k2, 0, p.rows, storeDst(reg(k2), part)));
      }
      return loop(j, 0, m, body);
    }
    auto identity = [&]() -> ExprRef {
      bool lowest = r.op == ReduceKind::Max, highest = r.op == ReduceKind::Min;
      if (!lowest && !highest) return isFloat(acc) ? floatImm(0, acc) : intImm(0, acc);
      if (isFloat(acc)) return floatImm(lowest ? -INFINITY : INFINITY, acc);
      int b = bits(acc);
      if (isSigned(acc)) return intImm(lowest ? (b == 64 ? INT64_MIN : -(int64_t(1) << (b - 1)))
                                              : (b == 64 ? INT64_MAX : (int64_t(1) << (b - 1)) - 1), acc);
      return intImm(lowest ? 0 : (b == 64 ? -1 : (int64_t(1) << b) - 1), acc);
    };
    ExprRef column = floorMod(tid, intImm(G));  // the thread's column group
    std::vector<VarRef> parts;
    for (int64_t l = 0; l < V; ++l) parts.push_back(makeVar("part" + std::to_string(l), acc));
    if (r.part != ReduceOp::Part::FoldWarps) {
      for (const auto& part : parts) seq->stmts.push_back(std::make_shared<LetStmt>(r.range, part, identity()));
      VarRef it = makeVar("it", DType::Int32);
      auto step = std::make_shared<SeqStmt>(r.range);
      for (int64_t l = 0; l < V; ++l)
        step->stmts.push_back(std::make_shared<AssignStmt>(
            r.range, parts[size_t(l)], combine(parts[size_t(l)], element(add(mul(it, intImm(V)), intImm(l))))));
      StmtRef stepStmt = step;
      if (p.guard)
        stepStmt = std::make_shared<IfStmt>(r.range, lt(add(mul(it, intImm(T)), tid), intImm(p.rows * G)), step, nullptr);
      seq->stmts.push_back(loop(it, 0, p.iterations, stepStmt));
      for (int mask = int(std::min<int64_t>(G, 32)); mask < 32; mask *= 2)
        for (const auto& part : parts) {
          VarRef other = makeVar("other", acc);
          seq->stmts.push_back(std::make_shared<LetStmt>(r.range, other, call(Builtin::ShflBfly, {part, intImm(mask)}, acc)));
          seq->stmts.push_back(std::make_shared<AssignStmt>(r.range, part, combine(part, other)));
        }
      if (r.part == ReduceOp::Part::WarpPartials) {
        ExprRef partial = floorDiv(tid, intImm(std::max<int64_t>(G, 32)));
        for (int64_t l = 0; l < V; ++l) {
          auto st = std::make_shared<StoreStmt>(
              r.range, r.scratch, std::vector<ExprRef>{add(mul(column, intImm(V)), intImm(l)), partial}, ExprRef(parts[size_t(l)]));
          if (G < 32) st->predicate = lt(floorMod(tid, intImm(32)), intImm(G));
          seq->stmts.push_back(st);
        }
        return seq;
      }
    } else {
      for (int64_t l = 0; l < V; ++l) {
        auto at = [&](int s) {
          return std::make_shared<LoadNode>(
              r.scratch, std::vector<ExprRef>{add(mul(column, intImm(V)), intImm(l)), intImm(s)}, acc, 1);
        };
        seq->stmts.push_back(std::make_shared<LetStmt>(r.range, parts[size_t(l)], at(0)));
        for (int s = 1; s < p.partials; ++s)
          seq->stmts.push_back(std::make_shared<AssignStmt>(r.range, parts[size_t(l)], combine(parts[size_t(l)], at(s))));
      }
    }
    VarRef it = makeVar("it", DType::Int32);
    auto stores = std::make_shared<SeqStmt>(r.range);
    for (int64_t l = 0; l < V; ++l) stores->stmts.push_back(storeDst(add(mul(it, intImm(V)), intImm(l)), parts[size_t(l)]));
    seq->stmts.push_back(loop(it, 0, p.iterations, stores));
    return seq;
  }

  // --------------------------------------------------------------- fill

  StmtRef lowerFill(const FillOp& f) {
    const Region& r = f.dst;
    if (r.buffer->scope == MemScope::Fragment && !CopyLowering::coversFragment(r)) {
      // Part of a fragment: each thread sets the elements it holds inside the region
      // (a copy of part of a fragment walks them the same way). Not yet for a
      // broadcast fragment, whose elements follow a larger loop (as a copy of part of one).
      if (r.buffer->layout.isBroadcast())
        copies_.fail(f.range, "not yet supported: a fill of part of broadcast fragment '" + r.buffer->name +
                                  "' (its elements follow the larger loop that reads it)");
      const auto& local = copies_.fragmentLocal.at(r.buffer.get());
      return copies_.ownedElements(*r.buffer, f.range, [&](const std::vector<ExprRef>& at, const ExprRef& reg) -> StmtRef {
        auto st = std::make_shared<StoreStmt>(f.range, local, std::vector<ExprRef>{reg}, f.value);
        st->predicate = CopyLowering::regionContains(r, at);
        return st;
      });
    }
    if (r.buffer->scope == MemScope::Fragment) {
      // Every register slot, padding included: cheap, and no guard needed.
      const auto& local = copies_.fragmentLocal.at(r.buffer.get());
      int64_t slots = r.buffer->layout.localSize;
      if (slots > copies_.fragmentUnrollLimit()) {  // a loop, as the fragment's other loops are (partitionFor)
        auto i = makeVar("i", DType::Int32);
        auto loop = std::make_shared<ForStmt>(f.range, i, intImm(0), intImm(slots), ForKind::Serial,
                                              std::make_shared<StoreStmt>(f.range, local, std::vector<ExprRef>{i}, f.value));
        loop->keepRolled = true;
        return loop;
      }
      auto seq = std::make_shared<SeqStmt>(f.range);
      for (int64_t i = 0; i < r.buffer->layout.localSize; ++i)
        seq->stmts.push_back(std::make_shared<StoreStmt>(f.range, local, std::vector<ExprRef>{intImm(i)}, f.value));
      return seq;
    }
    auto axes = CopyLowering::loopAxes(r);
    TileLoops loops;
    for (int a : axes) loops.extents.push_back(r.extents[a]);
    if (loops.extents.empty()) {
      auto st = std::make_shared<StoreStmt>(f.range, r.buffer, r.mins, f.value);
      st->predicate = CopyLowering::inBounds(r, r.mins);
      return st;
    }
    const bool local = r.buffer->scope == MemScope::Local;
    Partition p = copies_.partitionFor(local ? 1 : kernel_.threads, 1, loops.numel(), false, local);
    auto body = [&](const ExprRef&, const ExprRef& group) -> StmtRef {
      auto idx = CopyLowering::sideIndices(r, axes, CopyLowering::unflatten(group, loops.extents));
      auto st = std::make_shared<StoreStmt>(f.range, r.buffer, idx, f.value);
      st->predicate = CopyLowering::inBounds(r, idx);
      return st;
    };
    return copies_.partitionLoop(p, f.range, loops.numel(), body);
  }
};

}  // namespace

bool lowerTileOps(Kernel& kernel, const TileOpLoweringOptions& options, DiagnosticEngine& diags,
                  std::vector<CopyLoweringNote>& notes) {
  TileOpLowering lowering(kernel, options, diags, notes);
  return lowering.run();
}

}  // namespace tlc
