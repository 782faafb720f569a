// Async: the user-level synchronisation and asynchronous-copy operations — barriers
// and barrier arrays (alloc_barrier, barrier_arrive / mbarrier_arrive,
// mbarrier_wait_parity / barrier_wait, mbarrier_expect_tx),
// shuffle_elect, the bulk-store groups (tma_store_arrive, tma_store_wait).
// Each becomes an IntrinsicStmt (or a ShuffleElect call) whose shared operands
// name their buffer; LowerTileOps gives them byte offsets.
#include "sema/Analyzer.h"

namespace tlc::sema {

// An mbarrier's pending arrival count and transaction count are 20-bit fields.
static constexpr int64_t kMaxArrivals = (int64_t(1) << 20) - 1;

// bar = alloc_barrier(n): one mbarrier; alloc_barrier([n0, n1, ...]): an array of
// them, one per arrival count, named bar[i] in the barrier operations.
StmtRef Analyzer::allocBarrier(const std::string& n, const ast::Assign& a, const ast::Call& c) {
  checkKeywords(c, "alloc_barrier", {"arrive_count"});
  const ast::Expr* count = c.args.size() == 1 && c.kwargs.empty() ? c.args[0].get()
                           : c.args.empty() && c.kwargs.size() == 1 ? c.kwargs[0].value.get()
                                                                     : nullptr;
  if (!count)
    fail(c.range, "alloc_barrier takes the arrival count, or a list of them for an array of barriers: "
                  "alloc_barrier(arrive_count) or alloc_barrier([n0, n1])");
  if (inParallel_) fail(c.callee->range, "alloc_barrier() cannot be called inside a Parallel loop");
  std::vector<const ast::Expr*> counts;
  if (count->kind == ast::ExprKind::Tuple || repeatedList(*count)) {
    counts = tupleItems(*count);
    if (counts.empty()) fail(count->range, "an array of barriers needs at least one arrival count");
    if (int64_t(counts.size()) > ir::limits::BarriersPerArray)
      fail(count->range, "an array of barriers holds at most " + std::to_string(ir::limits::BarriersPerArray) + " barriers, not " +
                             std::to_string(counts.size()));
  } else {
    counts.push_back(count);
  }
  std::vector<int64_t> arrivals;
  for (const ast::Expr* e : counts) {
    int64_t k = constIntArg(*e, "the arrival count of a barrier");
    if (k < 1 || k > kMaxArrivals)
      fail(e->range, "a barrier's arrival count must be between 1 and " + std::to_string(kMaxArrivals) + ", not " +
                         std::to_string(k));
    arrivals.push_back(k);
  }
  auto buf = std::make_shared<Buffer>();
  buf->name = n;
  buf->scope = MemScope::Shared;
  buf->dtype = DType::UInt64;
  buf->shape = {intImm(int64_t(arrivals.size()))};
  buf->strides = {intImm(1)};
  buf->isBarrier = true;
  buf->barrierArrivals = arrivals;
  buf->declRange = a.target->range;
  kernel_->allocations.push_back(buf);
  Value v;
  v.kind = Value::BufferV;
  v.buffer = buf;
  define(n, v, a.target->range);
  return nullptr;
}

// A barrier operand: `bar` (an array's first barrier, as in TileLang) or `bar[i]`, i a
// constant inside the array or an integer expression of the program's keeping.
Analyzer::BarrierOperand Analyzer::barrierOperand(const ast::Expr& e, const std::string& op) {
  if (e.kind != ast::ExprKind::Index) return {barrierArg(e, op), nullptr};
  const auto& ix = e.as<ast::Index>();
  BufferRef buf = barrierArg(*ix.base, op);
  if (ix.items.size() != 1 || ix.items[0].isSlice)
    fail(e.range, op + " needs one barrier: index the array '" + buf->name + "' with one integer, " + buf->name + "[i]");
  const ast::Expr& at = *ix.items[0].value;
  ExprRef index = integerArg(at, "the index of a barrier");
  int64_t size = int64_t(buf->barrierArrivals.size());
  if (auto k = asConstInt(index); k && (*k < 0 || *k >= size))
    failAbout(at.range, "barrier index " + std::to_string(*k) + " is outside '" + buf->name + "', an array of " +
                            std::to_string(size) + (size == 1 ? " barrier" : " barriers"),
              buf);
  return {buf, index};
}

// The copies' barrier operands (barrier=, remote_barrier=, tma_load's) are one buffer:
// a barrier or an array's first barrier.
BufferRef Analyzer::barrierArg(const ast::Expr& e, const std::string& op) {
  if (e.kind == ast::ExprKind::Index && e.as<ast::Index>().base->kind == ast::ExprKind::Name) {
    BarrierOperand b = barrierOperand(e, op);
    if (auto k = asConstInt(b.index); !k || *k != 0)
      fail(e.range, "not yet supported: " + op + " on an element of barrier array '" + b.buffer->name +
                        "' other than the first; the barrier operations and tma_copy / tma_load / tma_gather4 take any");
    return b.buffer;
  }
  if (e.kind != ast::ExprKind::Name) fail(e.range, op + " needs a barrier made by alloc_barrier(arrive_count)");
  const auto& n = e.as<ast::Name>().name;
  const Value* v = lookup(n);
  if (!v) failUnknown(e.range, "use of undeclared name '" + n + "'", n, namesInScope());
  if (v->kind == Value::None) throw Failed{};  // its declaration already failed
  if (v->kind != Value::BufferV || !v->buffer->isBarrier) {
    error(e.range, op + " needs a barrier made by alloc_barrier(arrive_count); '" + n + "' is " + describe(*v));
    noteDecl(n, v->decl);
    throw Failed{};
  }
  return v->buffer;
}

void Analyzer::rejectBarrier(const BufferRef& buf, SourceRange r) {
  // Every use of a buffer passes here: a float4_e2m1_unpacked tile has one use.
  if (buf->dtype == DType::Float4E2M1Unpacked && !unpackedFp4Use_)
    failAbout(r, "'" + buf->name + "' is a float4_e2m1_unpacked tile: only a tma_copy load of float4_e2m1fn fills it "
                     "(TMA's 16U4_ALIGN16B unpacking), and nothing reads or writes its elements",
              buf);
  if (!buf->isBarrier) return;
  failAbout(r, "'" + buf->name + "' is a barrier, not a tile; use it with barrier_arrive, mbarrier_wait_parity, "
                   "mbarrier_expect_tx or barrier=",
            buf);
}

ExprRef Analyzer::integerArg(const ast::Expr& e, const std::string& what) {
  ExprRef v = scalarExpr(e);
  if (v->dtype == DType::Bool) v = cast(DType::Int32, v);
  if (!isInt(v->dtype)) fail(e.range, what + " must be an integer, not " + name(v->dtype));
  return cast(DType::Int32, v);
}

std::vector<const ast::Expr*> Analyzer::boundArgs(const ast::Call& c, const std::string& op,
                                                  const std::vector<std::vector<std::string>>& params,
                                                  const std::string& usage) {
  std::vector<std::string> valid;
  for (const auto& spellings : params) valid.insert(valid.end(), spellings.begin(), spellings.end());
  checkKeywords(c, op, valid);
  if (c.args.size() > params.size()) fail(c.args[params.size()]->range, usage);
  std::vector<const ast::Expr*> args(params.size(), nullptr);
  for (size_t i = 0; i < c.args.size(); ++i) args[i] = c.args[i].get();
  for (const auto& kw : c.kwargs)
    for (size_t i = 0; i < params.size(); ++i)
      if (std::find(params[i].begin(), params[i].end(), kw.name) != params[i].end()) {
        if (args[i]) fail(kw.nameRange, "argument '" + kw.name + "' of " + op + " is given twice");
        args[i] = kw.value.get();
      }
  for (const ast::Expr* a : args)
    if (!a) fail(c.range, usage);
  return args;
}

StmtRef Analyzer::syncOp(const ast::Call& c, const std::string& callee) {
  if (inParallel_) fail(c.callee->range, callee + "() cannot be called inside a Parallel loop");
  auto withBarrier = [](std::shared_ptr<IntrinsicStmt> op, const BarrierOperand& bar) {
    op->barrier = bar.buffer;
    op->barrierIndex = bar.index;
    return op;
  };
  // TileLang's spellings: barrier_arrive(barrier_id) is mbarrier_arrive(mbarrier), an
  // arrival without a transaction count; barrier_wait(barrier_id, parity) is
  // mbarrier_wait_parity(mbarrier, parity) (TileLang's newer signatures name the barrier mbar=).
  if (callee == "barrier_arrive" || callee == "mbarrier_arrive") {
    std::string param = callee == "barrier_arrive" ? "barrier_id" : "mbarrier";
    if (c.args.size() == 2 || keyword(c, "cta_id")) {
      // mbarrier_arrive(bar, cta_id), barrier_arrive(bar, cta_id=): one arrival (release,
      // cluster scope) on the same
      // barrier of block cta_id of the cluster; its waiters acquire at cluster scope,
      // and the barriers are initialised before a cluster barrier (LowerTileOps).
      auto a = boundArgs(c, callee, {{param}, {"cta_id"}},
                         callee + " takes a barrier and a block of the cluster: " + callee + "(bar, cta_id)");
      if (std::string why = targetLacks(TargetFeature::Clusters, callee + " with a cta_id"); !why.empty())
        fail(c.callee->range, why);
      const int* dims = kernel_->clusterDims;
      int blocks = dims[0] * dims[1] * dims[2];
      if (blocks == 1)
        fail(a[1]->range, callee + " with a cta_id arrives on another block's barrier: give the kernel's launch "
                          "more than one block per cluster, e.g. Kernel(..., cluster_dims=(2, 1, 1))");
      auto bar = barrierOperand(*a[0], callee);
      ExprRef rank = integerArg(*a[1], "the cta_id");
      if (auto k = asConstInt(rank); k && (*k < 0 || *k >= blocks))
        fail(a[1]->range, "cta_id " + std::to_string(*k) + " is not a block of the cluster: the cluster has " +
                              std::to_string(blocks) + " blocks (ranks 0 to " + std::to_string(blocks - 1) + ")");
      return withBarrier(
          std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierArriveRemote, std::vector<ExprRef>{rank, intImm(0)}),
          bar);
    }
    auto a = boundArgs(c, callee, {{param}}, callee + " takes a barrier: " + callee + "(bar) or " + callee + "(bar[i])");
    return withBarrier(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierArrive), barrierOperand(*a[0], callee));
  }
  if (callee == "mbarrier_wait_parity" || callee == "barrier_wait") {
    std::vector<std::string> barParam = callee == "barrier_wait" ? std::vector<std::string>{"barrier_id"}
                                                                 : std::vector<std::string>{"mbarrier", "mbar"};
    auto a = boundArgs(c, callee, {barParam, {"parity"}},
                       callee + " takes a barrier and the parity of the phase to wait for: " + callee + "(bar, parity)");
    auto bar = barrierOperand(*a[0], callee);
    ExprRef parity = integerArg(*a[1], "the parity");
    if (auto k = asConstInt(parity); k && *k != 0 && *k != 1)
      fail(a[1]->range, "the parity of a barrier phase is 0 or 1, not " + std::to_string(*k));
    return withBarrier(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierWaitParity,
                                                       std::vector<ExprRef>{binary(BinOp::BitAnd, parity, intImm(1))}),
                       bar);
  }
  if (callee == "mbarrier_expect_tx") {
    checkKeywords(c, callee, {});  // TileLang's takes *args
    auto a = boundArgs(c, callee, {{"mbarrier"}, {"bytes"}},
                       "mbarrier_expect_tx takes a barrier and a byte count: mbarrier_expect_tx(bar, bytes)");
    auto bar = barrierOperand(*a[0], callee);
    ExprRef bytes = integerArg(*a[1], "the transaction byte count");
    if (auto k = asConstInt(bytes); k && (*k < 0 || *k > kMaxArrivals))
      fail(a[1]->range, "a barrier's transaction count must be between 0 and " + std::to_string(kMaxArrivals) +
                            " bytes, not " + std::to_string(*k));
    return withBarrier(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierExpectTx, std::vector<ExprRef>{bytes}),
                       bar);
  }
  if (callee == "tma_store_arrive") {
    checkKeywords(c, callee, {});
    if (!c.args.empty()) fail(c.args[0]->range, "tma_store_arrive() takes no arguments");
    return std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::BulkCommitGroup);
  }
  // tma_store_wait(count=0, read=True): wait until at most `count` bulk-store groups
  // are pending; with read=True only until their reads of shared memory are done.
  checkKeywords(c, callee, {"count", "read"});
  if (c.args.size() > 2) fail(c.args[2]->range, "tma_store_wait takes (count=0, read=True)");
  const ast::Expr* countArg = c.args.size() >= 1 ? c.args[0].get() : keyword(c, "count");
  const ast::Expr* readArg = c.args.size() >= 2 ? c.args[1].get() : keyword(c, "read");
  if (c.args.size() >= 1 && keyword(c, "count")) fail(c.range, "tma_store_wait: 'count' is given twice");
  if (c.args.size() >= 2 && keyword(c, "read")) fail(c.range, "tma_store_wait: 'read' is given twice");
  int64_t count = countArg ? constIntArg(*countArg, "the number of bulk-store groups allowed in flight") : 0;
  if (count < 0 || count > 63)
    fail(countArg->range, "tma_store_wait takes 0 to 63 groups in flight, not " + std::to_string(count));
  bool read = readArg ? boolArg(*readArg, "read") : true;
  auto op = std::make_shared<IntrinsicStmt>(c.range, read ? IntrinsicOp::BulkWaitGroupRead : IntrinsicOp::BulkWaitGroup);
  op->immediate = count;
  return op;
}

ExprRef Analyzer::shuffleElect(const ast::Call& c) {
  checkKeywords(c, "shuffle_elect", {});
  if (c.args.size() != 1)
    fail(c.range, "shuffle_elect takes the size of a thread group, a multiple of 32: shuffle_elect(128)");
  if (inParallel_) fail(c.callee->range, "shuffle_elect() cannot be called inside a Parallel loop");
  int64_t n = constIntArg(*c.args[0], "the group size of shuffle_elect");
  if (n <= 0 || n % 32 != 0)
    fail(c.args[0]->range, "shuffle_elect needs a positive multiple of 32 threads (whole warps), not " + std::to_string(n));
  if (threads_ % n != 0)
    fail(c.args[0]->range, "shuffle_elect(" + std::to_string(n) + ") does not divide the block's " +
                               std::to_string(threads_) + " threads into whole groups");
  if (!target_.has(TargetFeature::ElectSync))
    // Without elect.sync: the group's first thread. Every thread of the group reaches
    // the call (the rule above), so that thread is one of them.
    return binary(BinOp::Eq, floorMod(call(Builtin::ThreadIdx, {}, DType::Int32, 0), intImm(n)), intImm(0));
  return call(Builtin::ShuffleElect, {intImm(n)}, DType::Bool);
}

}  // namespace tlc::sema

namespace tlc::sema {

void Analyzer::tmaCopyOption(CopyOptions& o, const std::string& key, const ast::Expr& value, SourceRange keyRange,
                             bool fromAnnotations, SourceRange& barrierAt, SourceRange& preferAt) {
  if (key == "barrier") {
    BarrierOperand b = barrierOperand(value, "tma_copy's barrier=");
    o.barrier = b.buffer;
    o.barrierIndex = b.index;
    barrierAt = value.range;
    return;
  }
  if (key == "leader_scope_threads") {
    int64_t n = constIntArg(value, "leader_scope_threads");
    if (n <= 0 || n % 32 != 0)
      fail(value.range, "leader_scope_threads must be a positive multiple of 32 (whole warps), not " + std::to_string(n));
    if (threads_ % n != 0)
      fail(value.range, "leader_scope_threads=" + std::to_string(n) + " does not divide the block's " +
                            std::to_string(threads_) + " threads into whole groups");
    o.leaderScope = (int)n;
    return;
  }
  copyOption("tma_copy", o, key, value, keyRange, fromAnnotations, preferAt);
}

// A tma_copy load into float4_e2m1_unpacked storage: from a float4_e2m1fn tensor,
// on a target whose TMA unpacks fp4, rows of exactly the 128 elements the map type
// moves per box row (cuTensorMapEncodeTiled: boxDim[0] must be 128). The tensor's
// base (32 bytes), row strides (32 bytes) and innermost dimension (a multiple of 128)
// are the launcher's checks.
void Analyzer::checkUnpackedFp4Load(const ast::Call& c, const Region& s, const Region& d) {
  if (s.buffer->dtype != DType::Float4E2M1)
    failAbout(s.range, "a float4_e2m1_unpacked tile is filled from a float4_e2m1fn tensor; '" + s.buffer->name +
                           "' holds " + name(s.buffer->dtype),
              s.buffer);
  if (!target_.has(TargetFeature::TmaUnpackFp4))
    fail(c.callee->range, "a tma_copy into float4_e2m1_unpacked needs --arch=sm_100a (" +
                              std::string(tlc::describe(TargetFeature::TmaUnpackFp4)) +
                              "; Hopper's TMA has no sub-byte types); this build targets " + target_.arch());
  if (d.extents.empty() || d.extents.back() != 128)
    failAbout(d.range, "a tma_copy into float4_e2m1_unpacked moves rows of exactly 128 elements (the box TMA's "
                           "16U4_ALIGN16B type takes); this region's rows are " +
                           (d.extents.empty() ? std::string("scalars") : std::to_string(d.extents.back()) + " elements"),
              d.buffer);
}

StmtRef Analyzer::tmaCopyOp(const ast::Call& c) {
  const std::string op = "tma_copy";
  checkKeywords(c, op, copyKeywords(op));
  if (c.args.size() != 2) fail(c.range, "tma_copy takes (src, dst) and keyword arguments");
  if (inParallel_) fail(c.callee->range, "tma_copy() cannot be called inside a Parallel loop");
  unpackedFp4Use_ = true;
  RegionSpec src, dst;
  try {
    src = regionSpec(*c.args[0], Access::Read);
    dst = regionSpec(*c.args[1], Access::Write);
  } catch (...) {
    unpackedFp4Use_ = false;
    throw;
  }
  unpackedFp4Use_ = false;
  CopyOptions options;
  options.tmaCopy = true;
  options.prefer = PreferInstruction::Tma;
  SourceRange barrierAt, preferAt;
  const ast::Dict* annotations = nullptr;
  const ast::Expr* mask = nullptr;  // cluster_mask=: a multicast load (TileLang's)
  SourceRange maskAt;
  for (const auto& kw : c.kwargs) {
    if (kw.name == "annotations") {
      if (kw.value->kind != ast::ExprKind::Dict) fail(kw.value->range, "annotations must be a dict {\"key\": value, ...}");
      annotations = &kw.value->as<ast::Dict>();
      continue;
    }
    if (kw.name == "cluster_mask") {
      mask = kw.value.get();
      maskAt = kw.nameRange;
      continue;
    }
    tmaCopyOption(options, kw.name, *kw.value, kw.nameRange, false, barrierAt, preferAt);
  }
  if (annotations) {  // annotations={...} win over the keyword arguments
    std::set<std::string> seen;
    for (const auto& entry : annotations->entries) {
      if (entry.key->kind != ast::ExprKind::StringLit) fail(entry.key->range, "annotation keys must be strings");
      const std::string& key = entry.key->as<ast::StringLit>().value;
      if (!seen.insert(key).second) fail(entry.key->range, "annotation \"" + key + "\" is given twice");
      if (key == "annotations")
        fail(entry.key->range, "unknown annotation \"annotations\" for tma_copy; valid: barrier, cluster_mask, "
                               "leader_scope_threads, eviction_policy");
      if (key == "cluster_mask") {
        mask = entry.value.get();
        maskAt = entry.key->range;
        continue;
      }
      tmaCopyOption(options, key, *entry.value, entry.key->range, true, barrierAt, preferAt);
    }
  }
  if (threads_ % 32 != 0)
    fail(c.range, "tma_copy elects its issuing thread per warp; the block's " + std::to_string(threads_) +
                      " threads are not whole warps");
  if (!options.leaderScope) options.leaderScope = threads_;
  auto [s, d] = settleRegions(std::move(src), std::move(dst), c.range);
  MemScope from = s.buffer->scope, to = d.buffer->scope;
  bool load = from == MemScope::Global && to == MemScope::Shared;
  bool store = from == MemScope::Shared && to == MemScope::Global;
  if (!load && !store)
    fail(c.range, std::string("tma_copy copies global -> shared.dyn or shared.dyn -> global; this copy is ") + name(from) +
                      " -> " + name(to));
  for (const Region* r : {&s, &d})
    if (r->buffer->autoBroadcast)
      failAbout(r->range, "tma_copy cannot read or write auto_broadcast tensor '" + r->buffer->name +
                              "': a tensor map has no stride 0 to repeat an axis of extent 1 (use copy, which runs "
                              "element by element)",
                r->buffer);
  if (s.buffer->dtype == DType::Float4E2M1Unpacked)
    failAbout(s.range, "'" + s.buffer->name + "' is a float4_e2m1_unpacked tile, which cannot be stored: TMA unpacks "
                           "fp4 on load only (CU_TENSOR_MAP_DATA_TYPE_16U4_ALIGN16B); store a float4_e2m1fn tile",
              s.buffer);
  if (d.buffer->dtype == DType::Float4E2M1Unpacked) {
    checkUnpackedFp4Load(c, s, d);
  } else if (s.buffer->dtype != d.buffer->dtype) {
    fail(c.range, std::string("tma_copy copies without converting; this copy converts ") + name(s.buffer->dtype) + " to " +
                      name(d.buffer->dtype));
  }
  if (load && !options.barrier)
    fail(c.range, "a tma_copy load needs barrier=: the mbarrier its bytes complete on (bar = alloc_barrier(n))");
  if (store && options.barrier)
    fail(barrierAt, "a tma_copy store signals no barrier; wait for it with tma_store_wait()");
  int clusterMask = 0;
  if (mask) {
    clusterMask = clusterMaskArg(*mask, op, c.callee->range);
    if (store)
      fail(maskAt, "cluster_mask multicasts a load to blocks of the cluster; a tma_copy store (shared -> global) has "
                   "no multicast");
  }
  auto result = std::make_shared<CopyOp>(c.range, s, d);
  result->options = options;
  result->clusterMask = clusterMask;
  return result;
}

}  // namespace tlc::sema

namespace tlc::sema {

BufferRef Analyzer::elementOperand(const ast::Expr& e, MemScope scope, const std::string& what,
                                   std::vector<ExprRef>& indices) {
  if (e.kind != ast::ExprKind::Index)
    fail(e.range, what + " must be an element of a " + name(scope) + " buffer, such as X[i, j] (its address is used)");
  const auto& ix = e.as<ast::Index>();
  BufferRef buf = bufferOf(*ix.base);
  if (buf->scope != scope)
    failAbout(e.range, what + " must be an element of a " + std::string(name(scope)) + " buffer; '" + buf->name + "' is " +
                           name(buf->scope),
              buf);
  indices = elementIndices(ix, buf);
  return buf;
}

StmtRef Analyzer::cpAsyncIntrinsic(const ast::Call& c, const std::string& callee) {
  if (inParallel_) fail(c.callee->range, callee + "() cannot be called inside a Parallel loop");
  const bool lowLevel = callee == "cp_async_shared_global";
  const bool conditional = callee == "cp_async_gs_conditional";
  checkKeywords(c, callee, lowLevel ? std::vector<std::string>{"src_size"} : std::vector<std::string>{});
  size_t want = lowLevel ? 4 : conditional ? 4 : 3;
  if (c.args.size() != want)
    fail(c.range, lowLevel ? "cp_async_shared_global takes (dst, src, cp_size, modifier, src_size=)"
                  : conditional ? "cp_async_gs_conditional takes (size, dst, src, cond)"
                                : "cp_async_gs takes (size, dst, src)");
  const ast::Expr& sizeArg = lowLevel ? *c.args[2] : *c.args[0];
  const ast::Expr& dstArg = lowLevel ? *c.args[0] : *c.args[1];
  const ast::Expr& srcArg = lowLevel ? *c.args[1] : *c.args[2];
  int64_t size = constIntArg(sizeArg, "the copy size");
  if (size != 4 && size != 8 && size != 16)
    fail(sizeArg.range, "cp.async copies 4, 8 or 16 bytes, not " + std::to_string(size));
  std::vector<ExprRef> dstIdx, srcIdx;
  BufferRef dst = elementOperand(dstArg, MemScope::Shared, "the destination of " + callee, dstIdx);
  BufferRef src = elementOperand(srcArg, MemScope::Global, "the source of " + callee, srcIdx);
  // The bytes written must lie in the tile (a constant element only: else the user's).
  ExprRef sharedElement = intImm(0);
  for (size_t a = 0; a < dstIdx.size(); ++a) sharedElement = add(sharedElement, mul(dstIdx[a], dst->strides[a]));
  int64_t tileBytes = bits(dst->dtype) / 8;
  for (const auto& e : dst->shape) tileBytes *= *asConstInt(e);
  if (auto k = asConstInt(sharedElement); k && *k * (bits(dst->dtype) / 8) + size > tileBytes)
    failAbout(dstArg.range, "the " + std::to_string(size) + " bytes from this element run past the end of '" + dst->name + "'",
              dst);
  ExprRef offset = src->elemOffset ? cast(DType::Int64, src->elemOffset) : intImm(0, DType::Int64);
  for (size_t a = 0; a < srcIdx.size(); ++a)
    offset = add(offset, mul(cast(DType::Int64, srcIdx[a]), cast(DType::Int64, src->strides[a])));
  auto op = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsync);
  op->immediate = size;
  op->shared = dst;
  op->sharedElement = sharedElement;
  op->buffer = src;
  ExprRef srcSize = intImm(size);
  if (lowLevel) {
    // A spelling, or cutedsl's integer enum (nvvm.LoadCacheModifierKind: CA = 0,
    // CG = 1, CS = 2, LU = 3, CV = 4, of which cp.async takes CA and CG).
    const ast::Expr& modifier = *c.args[3];
    bool cg;
    if (modifier.kind == ast::ExprKind::StringLit) {
      cg = stringArg(modifier, "modifier", {"ca", "cg", ".ca", ".cg"}).back() == 'g';
    } else {
      ExprRef v = scalarExpr(modifier);
      auto k = asConstInt(v);
      if (!k || !isInt(v->dtype))
        fail(modifier.range, "modifier must be a string (\"ca\", \"cg\") or cutedsl's LoadCacheModifierKind as a "
                             "compile-time integer (0 = CA, 1 = CG)");
      static const char* const kinds[] = {"ca", "cg", "cs", "lu", "cv"};
      if (*k >= 2 && *k <= 4)
        fail(modifier.range, "cache modifier " + std::to_string(*k) + " (" + kinds[*k] +
                                 ") is not one cp.async takes; valid: 0 (ca), 1 (cg)");
      if (*k != 0 && *k != 1)
        fail(modifier.range, "invalid cache modifier " + std::to_string(*k) +
                                 "; cutedsl's LoadCacheModifierKind is 0 (ca), 1 (cg), 2 (cs), 3 (lu), 4 (cv), and cp.async "
                                 "takes 0 and 1");
      cg = *k == 1;
    }
    op->cacheOp = cg ? IntrinsicStmt::CacheOp::CG : IntrinsicStmt::CacheOp::CA;
    if (op->cacheOp == IntrinsicStmt::CacheOp::CG && size != 16)
      fail(c.args[3]->range, "cp.async.cg (L2 only) copies 16 bytes; this copy is " + std::to_string(size) + " bytes");
    if (const ast::Expr* s = keyword(c, "src_size")) {
      srcSize = integerArg(*s, "src_size");
      if (auto k = asConstInt(srcSize); k && (*k < 0 || *k > size))
        fail(s->range, "src_size is the number of bytes read (the rest is zero-filled): 0 to " + std::to_string(size) +
                           ", not " + std::to_string(*k));
    }
  }
  op->args = {offset, srcSize};
  if (conditional) op->args.push_back(toBool(scalarExpr(*c.args[3]), c.args[3]->range));
  return op;
}

}  // namespace tlc::sema

namespace tlc::sema {

StmtRef Analyzer::tmaDescriptor(const std::string& n, const ast::Assign& a, const ast::Call& c) {
  checkKeywords(c, "tma_descriptor", {"box", "swizzle"});
  if (c.args.size() != 1 || !keyword(c, "box"))
    fail(c.range, "tma_descriptor takes a global tensor parameter and its box: tma_descriptor(A, box=(..), swizzle=0)");
  BufferRef t = bufferOf(*c.args[0]);
  if (t->scope != MemScope::Global || !t->data)
    failAbout(c.args[0]->range, "tma_descriptor describes a global tensor parameter; '" + t->name + "' is " + name(t->scope), t);
  if (t->elemOffset) failAbout(c.args[0]->range, "a tensor map starts at the pointer itself; '" + t->name + "' has an elem_offset", t);
  int elemBytes = bits(t->dtype) / 8;
  if (t->dtype == DType::Float4E2M1 || t->dtype == DType::Handle || t->dtype == DType::Bool)
    failAbout(c.args[0]->range, std::string("TMA cannot move ") + name(t->dtype), t);
  if (t->shape.size() > 5) failAbout(c.args[0]->range, "TMA handles tensors of rank 1 to 5", t);
  auto inner = asConstInt(t->strides.back());
  if (!inner || *inner != 1) failAbout(c.args[0]->range, "a tensor map needs an innermost stride of 1", t);
  const ast::Expr* boxArg = keyword(c, "box");
  auto items = tupleItems(*boxArg);
  if (items.size() != t->shape.size())
    fail(boxArg->range, "the box has " + std::to_string(items.size()) + " entries but '" + t->name + "' has rank " +
                            std::to_string(t->shape.size()));
  auto info = std::make_shared<TensorMapInfo>();
  info->tensor = t;
  for (const auto* e : items) {
    int64_t v = constIntArg(*e, "a box extent");
    if (v < 1 || v > 256) fail(e->range, "a TMA box extent is 1 to 256, not " + std::to_string(v));
    info->box.push_back(v);
  }
  if (info->box.back() * elemBytes % 16 != 0)
    fail(boxArg->range, "the box's innermost extent is " + std::to_string(info->box.back() * elemBytes) +
                            " bytes; TMA needs a multiple of 16");
  if (const ast::Expr* sw = keyword(c, "swizzle")) {
    int64_t v = constIntArg(*sw, "swizzle");
    if (v != 0 && v != 32 && v != 64 && v != 128) fail(sw->range, "swizzle is 0, 32, 64 or 128 (bytes), not " + std::to_string(v));
    if (v && info->box.back() * elemBytes > v)
      fail(sw->range, "with swizzle=" + std::to_string(v) + " the box's innermost extent may be at most " + std::to_string(v) +
                          " bytes, not " + std::to_string(info->box.back() * elemBytes));
    info->swizzleBytes = (int)v;
  }
  Param p;
  p.name = uniqueName(n);
  p.kind = ParamKind::TensorMap;
  p.var = makeVar(p.name, DType::Handle);
  p.elementType = t->dtype;
  p.range = a.target->range;
  p.tensorMap = info;
  kernel_->params.push_back(p);
  Value v;
  v.kind = Value::Descriptor;
  v.var = p.var;
  v.tensor = t;
  define(n, v, a.target->range);
  return nullptr;
}

Value Analyzer::tensorMapPointer(const ast::Call& c) {
  checkKeywords(c, "extract_tensormap_ptr", {});
  if (c.args.size() != 1) fail(c.range, "extract_tensormap_ptr takes one descriptor: extract_tensormap_ptr(D)");
  const ast::Expr& d = *c.args[0];
  const Value* v = d.kind == ast::ExprKind::Name ? lookup(d.as<ast::Name>().name) : nullptr;
  if (v && v->kind == Value::None) throw Failed{};
  if (!v || v->kind != Value::Descriptor)
    fail(d.range, "extract_tensormap_ptr needs a descriptor made by tma_descriptor(A, box=(..))");
  Value p = *v;
  p.expr = call(Builtin::TensorMapAddress, {v->var}, DType::UInt64);
  return p;
}

Value Analyzer::descriptorArg(const ast::Expr& d, const std::string& callee) {
  if (d.kind == ast::ExprKind::Call && calleeName(d.as<ast::Call>()) == "extract_tensormap_ptr")
    return tensorMapPointer(d.as<ast::Call>());
  const Value* v = d.kind == ast::ExprKind::Name ? lookup(d.as<ast::Name>().name) : nullptr;
  if (v && v->kind == Value::None) throw Failed{};
  if (!v || v->kind != Value::Descriptor)
    fail(d.range, callee + " needs a descriptor made by tma_descriptor(A, box=(..)) (or extract_tensormap_ptr of one)");
  return *v;
}

StmtRef Analyzer::tensorMapIntrinsic(const ast::Call& c, const std::string& callee) {
  checkKeywords(c, callee, {});
  if (inParallel_) fail(c.callee->range, callee + "() cannot be called inside a Parallel loop");
  size_t want = callee == "tma_load" ? 4 : callee == "tma_store" ? 3 : 1;
  if (c.args.size() != want)
    fail(c.range, callee == "tma_load" ? "tma_load takes (desc, mbar, smem, coords)"
                  : callee == "tma_store" ? "tma_store takes (desc, smem, coords)"
                                          : "prefetch_tma_descriptor takes (desc)");
  const Value descriptor = descriptorArg(*c.args[0], callee);
  const Value* v = &descriptor;
  const Param* param = nullptr;
  for (const auto& p : kernel_->params)
    if (p.var == v->var) param = &p;
  auto op = std::make_shared<IntrinsicStmt>(c.range, callee == "tma_load" ? IntrinsicOp::TmaLoad
                                                     : callee == "tma_store" ? IntrinsicOp::TmaStore
                                                                             : IntrinsicOp::PrefetchTensorMap);
  op->tensorMap = v->var;
  if (callee == "prefetch_tma_descriptor") return op;
  const TensorMapInfo& info = *param->tensorMap;
  if (callee == "tma_load") {
    BarrierOperand b = barrierOperand(*c.args[1], "tma_load");
    op->barrier = b.buffer;
    op->barrierIndex = b.index;
  }
  const ast::Expr& smem = *c.args[callee == "tma_load" ? 2 : 1];
  const ast::Expr& coords = *c.args[callee == "tma_load" ? 3 : 2];
  BufferRef tile;
  if (smem.kind == ast::ExprKind::Name) {
    tile = bufferOf(smem);
    rejectBarrier(tile, smem.range);
    op->sharedElement = intImm(0);
  } else {
    std::vector<ExprRef> idx;
    tile = elementOperand(smem, MemScope::Shared, "the shared operand of " + callee, idx);
    ExprRef e = intImm(0);
    for (size_t a = 0; a < idx.size(); ++a) e = add(e, mul(idx[a], tile->strides[a]));
    op->sharedElement = e;
  }
  if (tile->scope != MemScope::Shared)
    failAbout(smem.range, "the shared operand of " + callee + " must be a shared tile; '" + tile->name + "' is " + name(tile->scope),
              tile);
  int64_t boxBytes = bits(info.tensor->dtype) / 8, tileBytes = bits(tile->dtype) / 8;
  for (auto b : info.box) boxBytes *= b;
  for (const auto& s : tile->shape) tileBytes *= *asConstInt(s);
  if (auto k = asConstInt(op->sharedElement); k && *k * (bits(tile->dtype) / 8) + boxBytes > tileBytes)
    failAbout(smem.range, "the box (" + std::to_string(boxBytes) + " bytes) does not fit in '" + tile->name + "' from here (" +
                              std::to_string(tileBytes) + " bytes)",
              tile);
  op->shared = tile;
  auto items = tupleItems(coords);
  if (items.size() != info.box.size())
    fail(coords.range, callee + " takes one coordinate per axis of '" + info.tensor->name + "' (" +
                           std::to_string(info.box.size()) + "), in index order (row, column)");
  for (size_t i = items.size(); i-- > 0;) op->args.push_back(integerArg(*items[i], "a coordinate"));  // innermost first
  return op;
}

}  // namespace tlc::sema
