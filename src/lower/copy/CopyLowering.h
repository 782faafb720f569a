// CopyLowering: what the copy strategies' lowerings (and LowerTileOps' walk) share
// while one kernel's tile operations become loops: the thread partition, access
// widths and the assumptions they commit, in-bounds predicates, tensor-map
// parameters, the automatic mbarriers' waits, cluster helpers, and the remarks.
//
// The partition: a tile of `numel` elements is cut into groups of `vec` consecutive
// elements (row-major); group g goes to thread g % threads. A fragment's groups
// follow its FragmentLayout, so a copy into a fragment and a Parallel loop over it
// give each element to the same thread. Memory is accessed `width` elements at a
// time (width divides vec): the widest access that is contiguous, aligned and
// either wholly inside or wholly outside the tensor. Where that width holds only
// under run-time facts and `allowAssumptions` is set, those facts become the
// kernel's Assumptions; otherwise the width shrinks until it is provable.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ir/IR.h"
#include "ir/ThreadLayout.h"
#include "lower/LowerTileOps.h"
#include "lower/copy/Assumptions.h"

namespace tlc {

// Thrown after an error is reported; LowerTileOps catches it.
struct LoweringFailed {};

// The loop nest of a tile operation: its non-unit extents.
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
  // A fragment's loop not unrolled (past limits::UnrolledElementsPerThread): the
  // backend must not unroll it either (ForStmt::keepRolled).
  bool keepRolled = false;
  // A loop not unrolled, over memory (past limits::UnrolledStepsPerThread): this many
  // steps per iteration of a rolled loop (kept rolled), the remainder after it; 0: one.
  int64_t stepsPerIteration = 0;
};

class CopyLowering {
 public:
  CopyLowering(ir::Kernel& kernel, const TileOpLoweringOptions& options, DiagnosticEngine& diags,
               std::vector<CopyLoweringNote>& notes)
      : kernel(kernel), options(options), diags(diags), notes(notes) {}

  ir::Kernel& kernel;
  const TileOpLoweringOptions& options;
  DiagnosticEngine& diags;
  std::vector<CopyLoweringNote>& notes;

  // Each fragment's per-thread Local array.
  std::map<const ir::Buffer*, ir::BufferRef, ir::ById> fragmentLocal;
  // Tensor-map parameters made so far, in order (prefetched at entry).
  std::vector<ir::VarRef> tensorMaps;
  // The phase variable of each automatic, unpipelined TMA load (zero at entry).
  std::vector<ir::VarRef> phases;
  bool anyMulticast = false;
  // A tma_copy multicast (cluster_mask): no cluster barrier of its own, so the kernel
  // starts with one (the barriers it signals in other blocks are initialised).
  bool anyUserMulticast = false;
  // The kernel has a loop of the user's (a serial or pipelined `for`): its fragments
  // may be accumulators that live across it, so the general variant keeps them in
  // registers like the aligned one (fragmentUnrollLimit).
  bool hasUserLoop = false;
  // A copy_cluster(dst_block=) lowered to its stores alone (CopyOp::storesOnly): the
  // kernel starts (every block's shared memory exists) and ends (none exits while
  // stores into it may be in flight) with a cluster barrier.
  bool anyStoresOnly = false;
  // Barriers some copy_cluster(remote_barrier=) signals: their waiters acquire at cluster scope.
  std::set<const ir::Buffer*> remoteBarriers;

  [[noreturn]] void fail(SourceRange r, const std::string& msg);

  // --- assumptions and access widths
  bool provablyMultiple(const ir::ExprRef& e, int64_t m, AssumptionMap& need) const;
  // Whether `width` elements at a time work for this side of a tile operation whose
  // innermost loop dimension walks buffer axis `innerAxis` (-1: none).
  bool widthWorks(const ir::Region& r, int innerAxis, int width, AssumptionMap& need) const;
  int widestWorking(const ir::Region& r, int innerAxis, int limit, AssumptionMap& need) const;
  // The variant assumes `need` from now on.
  void commit(const AssumptionMap& need);
  // The committed assumptions, in parameter order.
  std::vector<ir::Assumption> assumptions() const;
  void describeAssumptions(std::ostringstream& os, const AssumptionMap& need) const;

  // --- indexing and the partition
  // The loop index of each dimension for element number `flat` of the tile.
  static std::vector<ir::ExprRef> unflatten(const ir::ExprRef& flat, const std::vector<int64_t>& extents);
  // The loop indices of element `lane` of group `group` (`vec` consecutive elements)
  // of a tile of `extents`, for a group accessed in narrower pieces. Where the
  // innermost extent E is a multiple of vec the group lies in one row: its indices
  // but the innermost are the group's, and the innermost is `(group % (E/vec)) * vec
  // + lane` (bounded by E - 1, so WidenIndices keeps it 32-bit). Unflattening each
  // lane's own flat number instead gives every element its own row division and
  // 64-bit address, which LLVM does not fold back (axpy's general variant had 255
  // registers and spills). Otherwise: unflatten(group * vec + lane).
  static std::vector<ir::ExprRef> groupElement(const ir::ExprRef& group, int vec, int lane,
                                               const std::vector<int64_t>& extents);
  // For broadcast fragment layout `layout` (FragmentLayout::isBroadcast): the indices
  // of the element read at `lane` of the larger loop's group `group`, one per axis of
  // the fragment, and the condition that makes the calling thread the one that
  // stores it (the first iteration reading it: index 0 along the loop axes not read,
  // a multiple of the divisor along divided ones; null when every iteration reads
  // its own element).
  struct BroadcastElement {
    std::vector<ir::ExprRef> indices;
    ir::ExprRef owner;
  };
  static BroadcastElement broadcastElement(const ir::FragmentLayout& layout, const ir::ExprRef& group, int lane);
  // Non-unit axes of a region, in order.
  static std::vector<int> loopAxes(const ir::Region& r);
  static std::vector<ir::ExprRef> sideIndices(const ir::Region& r, const std::vector<int>& axes,
                                              const std::vector<ir::ExprRef>& loop);
  // In-bounds test for a global side (upper bounds; region starts are non-negative).
  static ir::ExprRef inBounds(const ir::Region& r, const std::vector<ir::ExprRef>& idx);
  static ir::ExprRef threadIndex();
  static ir::ExprRef isLeader();  // thread 0
  // `localArray`: the tile is a per-thread Local buffer (alloc_local), unrolled up to
  // 32 steps so that its elements keep constant indices, as before issue 23.
  // `elementBytes`, for a loop over memory that loads from global memory: enough steps
  // per iteration that each loads limits::PartialUnrollBytes per thread (0:
  // limits::PartialUnrollSteps).
  Partition partitionFor(int threads, int vec, int64_t numel, bool isFragment, bool localArray = false,
                         int elementBytes = 0) const;
  // Elements of a fragment per thread its loops are unrolled over in this variant.
  int64_t fragmentUnrollLimit() const;
  // The loop over a thread's groups: for it in [0, iterations): body(it, group).
  ir::StmtRef partitionLoop(const Partition& p, SourceRange range, int64_t groups,
                            const std::function<ir::StmtRef(const ir::ExprRef& it, const ir::ExprRef& group)>& body);
  // The loop index of each of `extents`' dimensions for the iteration the calling
  // thread runs at local index k of `layout` (whose non-unit extents are `extents`').
  std::vector<ir::ExprRef> layoutIndices(const ir::ThreadLayout& layout, int64_t k, const std::vector<int64_t>& extents) const;
  static int alignOf(const ir::Buffer& b, int width);
  // The widest access an atomic_add copy's stores may make (f16x2 / bf16x2 pairs, else
  // one element); unlimited for other copies.
  static int atomicLanes(const ir::CopyOp& c);
  // The byte offset in shared memory of element `idx` of tile `d` (its layout applies).
  static ir::ExprRef tileByteOffset(const ir::Buffer& d, const std::vector<ir::ExprRef>& idx);

  // --- the element-by-element copy (SIMT loads and stores, or cp.async where the
  // copy's path is CpAsync and the access width allows): partitioned over the block's
  // threads, or following a loop_layout or a fragment's layout.
  ir::StmtRef elementwiseCopy(const ir::CopyOp& c);

  // --- TMA
  // The tensor-map parameter for (tensor, box), created on first use.
  // `unpackFp4`: a 16U4_ALIGN16B map of an fp4 tensor's byte twin (box in elements).
  ir::VarRef tensorMapFor(const ir::BufferRef& tensor, const std::vector<int64_t>& box, int swizzleBytes,
                          bool unpackFp4 = false);
  // The im2col-mode tensor map parameter for (image, geometry, swizzle), created on first use.
  ir::VarRef im2colMapFor(const ir::BufferRef& img, const ir::Im2colMapInfo& info, int swizzleBytes);
  // The byte offset of the automatic mbarrier an automatic TMA load completes on:
  // its ring stage's when pipelined, else its own (AllocateCopyBarriers placed them).
  ir::ExprRef loadBarrier(const ir::CopyOp& c) const;
  // The wait of a load on `barrier`: the ring's parity, or a fresh phase variable.
  void appendWait(const ir::CopyOp& c, const ir::ExprRef& barrier, ir::SeqStmt& out);
  static int64_t cacheHint(ir::EvictionPolicy e);
  static const char* evictionName(ir::EvictionPolicy e);
  // cp.async carries no L2 cache hint: a copy's eviction_policy is said not to apply.
  static std::string withEvictionNotApplied(const std::string& why, const ir::CopyOp& c);

  // --- clusters
  static ir::ExprRef clusterRank();
  static int lowestRank(int mask);
  static std::string maskDigits(int mask);
  int clusterBlocks() const;
  static ir::StmtRef clusterSync(SourceRange r);
  // The shared-memory offset of a copy's barrier= / remote_barrier=: the array's
  // first barrier, or `bars[i]` 8 bytes a barrier further.
  static ir::ExprRef barrierOffset(const ir::CopyOp& c);
  // `body` run by the blocks of `mask` only (all when the mask covers the cluster).
  ir::StmtRef inMaskedBlocks(int mask, const ir::StmtRef& body, SourceRange r) const;
  // A view of the copy's destination tile in the block of rank c.dstBlock (mapa).
  static ir::CopyOp toRemoteTile(const ir::CopyOp& c);

  // Every element of fragment `frag` the running thread holds, as the statements
  // `element(fragment indices, register)` makes: the fragment's layout decides (a
  // custom one: each local index; the default: the partition a copy of the whole
  // fragment walks, one element per access). Not for broadcast fragments.
  using OwnedElement = std::function<ir::StmtRef(const std::vector<ir::ExprRef>&, const ir::ExprRef&)>;
  ir::StmtRef ownedElements(const ir::Buffer& frag, SourceRange range, const OwnedElement& element);
  // Whether indices `at` of region `r`'s buffer lie in the region (null: always,
  // when it covers every axis whole).
  static ir::ExprRef regionContains(const ir::Region& r, const std::vector<ir::ExprRef>& at);
  static bool coversFragment(const ir::Region& r);

  // --- remarks
  static std::string copyName(const ir::CopyOp& c);  // "copy A -> A_s"
  void note(const ir::CopyOp& c, const std::string& how, const std::string& whyNot = "");

 private:
  AssumptionMap assumed_;

  // A copy of part of a fragment, or of one element of it (CopyLowering.cpp).
  ir::StmtRef partialFragmentCopy(const ir::CopyOp& c);
  ir::StmtRef copyWithLayout(const ir::CopyOp& c, const ir::ThreadLayout& layout, const std::vector<int>& srcAxes,
                             const std::vector<int>& dstAxes);
  ir::StmtRef cpAsyncChunk(const ir::CopyOp& c, const std::vector<int>& srcAxes, const std::vector<int>& dstAxes,
                           const std::vector<ir::ExprRef>& loop, int bytes);
  ir::StmtRef copyBroadcast(const ir::CopyOp& c, const ir::Buffer& frag, const std::vector<int>& srcAxes,
                            const std::vector<int>& dstAxes, const std::vector<int64_t>& extents);
  // One access of a side; a global side's carries `hint` (LoadNode::cacheHint).
  ir::ExprRef sideLoad(const ir::Region& r, const std::vector<int>& axes, const std::vector<ir::ExprRef>& loop,
                       const ir::ExprRef& local, int width, int64_t hint = 0);
  ir::StmtRef sideStore(const ir::Region& r, const std::vector<int>& axes, const std::vector<ir::ExprRef>& loop,
                        const ir::ExprRef& local, const ir::ExprRef& value, SourceRange range, int64_t hint = 0,
                        ir::AtomicOp atomic = ir::AtomicOp::None);  // a memory side's stores: atomic (atomic_add)
  // A SIMT copy's eviction_policy: appended to the remark's `how` where its global
  // accesses carry the hint, to `why` where it has none to carry it.
  static void describeEviction(const ir::CopyOp& c, std::string& how, std::string& why);
  std::string describeCopy(const ir::CopyOp& c, const Partition& p, const AssumptionMap& need) const;
  static std::string safeValueText(const ir::CopyOp& c);
  static ir::StmtRef commitCpAsync(const ir::CopyOp& c, ir::StmtRef loop, std::string& how);
};

}  // namespace tlc
