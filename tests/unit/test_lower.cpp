// Unit tests for the IR helpers and the lowering passes, on hand-built tile IR.
#include <doctest/doctest.h>

#include <iostream>
#include <set>
#include <sstream>

#include "ir/IR.h"
#include "ir/Limits.h"
#include "ir/Rewrite.h"
#include "lower/ChooseCopyPaths.h"
#include "lower/copy/BulkDsmem.h"
#include "lower/copy/CopyStrategy.h"
#include "lower/AllocateCopyBarriers.h"
#include "lower/PlanSharedMemory.h"
#include "lower/WidenIndices.h"
#include "lower/InsertBarriers.h"
#include "lower/LayoutFragments.h"
#include "lower/Lower.h"
#include "lower/LowerTileOps.h"

using namespace tlc;
using namespace tlc::ir;

namespace {

BufferRef makeBuffer(const std::string& name, MemScope scope, DType t, std::vector<ExprRef> shape) {
  auto b = std::make_shared<Buffer>();
  b->name = name;
  b->scope = scope;
  b->dtype = t;
  b->shape = shape;
  b->strides.resize(shape.size());
  ExprRef acc = intImm(1);
  for (size_t i = shape.size(); i-- > 0;) {
    b->strides[i] = acc;
    acc = mul(acc, shape[i]);
  }
  return b;
}

Region whole(const BufferRef& b) {
  Region r;
  r.buffer = b;
  for (const auto& s : b->shape) {
    r.mins.push_back(intImm(0));
    r.extents.push_back(*asConstInt(s));
  }
  return r;
}

// The tile_copy kernel: A[by*128, bx*128] -> A_s -> B[...], M and N symbolic.
struct TileCopy {
  Kernel kernel;
  VarRef M = makeVar("M", DType::Int32), N = makeVar("N", DType::Int32);
  VarRef A = makeVar("A", DType::Handle), B = makeVar("B", DType::Handle);
  BufferRef shared = makeBuffer("A_s", MemScope::Shared, DType::Float16, {intImm(128), intImm(128)});

  explicit TileCopy(int rows = 128, int cols = 128) {
    shared = makeBuffer("A_s", MemScope::Shared, DType::Float16, {intImm(rows), intImm(cols)});
    kernel.name = kernel.sourceName = "tile_copy";
    kernel.threads = 128;
    kernel.params = {{"A", ParamKind::Pointer, A, DType::Float16, {}}, {"M", ParamKind::Dim, M, DType::Int32, {}},
                     {"N", ParamKind::Dim, N, DType::Int32, {}}, {"B", ParamKind::Pointer, B, DType::Float16, {}}};
    for (auto& g : kernel.grid) g = intImm(1);
    kernel.allocations = {shared};
    auto ga = makeBuffer("A", MemScope::Global, DType::Float16, {M, N});
    ga->data = A;
    auto gb = makeBuffer("B", MemScope::Global, DType::Float16, {M, N});
    gb->data = B;
    ExprRef by = call(Builtin::BlockIdx, {}, DType::Int32, 1), bx = call(Builtin::BlockIdx, {}, DType::Int32, 0);
    Region src{ga, {mul(by, intImm(rows)), mul(bx, intImm(cols))}, {rows, cols}, {}};
    Region dst{gb, src.mins, {rows, cols}, {}};
    auto load = std::make_shared<CopyOp>(SourceRange{}, src, whole(shared));
    auto store = std::make_shared<CopyOp>(SourceRange{}, whole(shared), dst);
    kernel.body = std::make_shared<SeqStmt>(SourceRange{}, std::vector<StmtRef>{load, store});
  }
};

std::string text(const Kernel& k) {
  std::ostringstream os;
  print(k, os);
  return os.str();
}

}  // namespace

TEST_CASE("folding builders and known multiples") {
  auto n = makeVar("n", DType::Int32);
  CHECK(toString(add(intImm(2), intImm(3))) == "5");
  CHECK(toString(floorDiv(intImm(-7), intImm(2))) == "-4");
  CHECK(toString(floorMod(intImm(-7), intImm(2))) == "1");
  CHECK(knownMultiple(mul(n, intImm(128))) == 128);
  CHECK(knownMultiple(add(mul(n, intImm(128)), intImm(8))) == 8);
  CHECK(knownMultiple(n) == 1);
  CHECK(constantDifference(add(mul(n, intImm(32)), intImm(32)), mul(n, intImm(32))) == 32);
  CHECK_FALSE(constantDifference(n, intImm(0)).has_value());
}

TEST_CASE("copy strategies: one name each, SIMT last, the choice recorded with the target's reason") {
  std::set<std::string> names;
  for (const CopyStrategy* s : copyStrategies()) CHECK(names.insert(s->name()).second);
  CHECK(std::string(copyStrategies().back()->name()) == "Simt");
  CHECK(std::string(copyStrategyNamed("CpAsync").name()) == "CpAsync");

  DiagnosticEngine diags(std::cerr);
  SUBCASE("sm_90a: an unpipelined load is cp.async (measured faster), the store SIMT") {
    TileCopy t;
    REQUIRE(chooseCopyPaths(t.kernel, {}, diags));
    const auto& stmts = t.kernel.body->as<SeqStmt>().stmts;
    const auto& load = stmts[0]->as<CopyOp>();
    const auto& store = stmts[1]->as<CopyOp>();
    REQUIRE(load.plan);
    CHECK(load.plan->strategy == "CpAsync");
    CHECK(load.path == CopyPath::CpAsync);
    CHECK(load.pathReason == "TMA not used: cp.async measured faster for a load that is not pipelined");
    CHECK(store.plan->strategy == "Simt");
    CHECK(store.pathReason == "TMA not used: 16-byte stores measured faster than a TMA store");
  }
  SUBCASE("prefer_instruction=\"tma\": TMA on sm_90a; on sm_80 cp.async, no error, the reason names sm_80") {
    TileCopy t;
    auto& load = t.kernel.body->as<SeqStmt>().stmts[0]->as<CopyOp>();
    load.options.prefer = PreferInstruction::Tma;
    TileCopy u;
    auto& load80 = u.kernel.body->as<SeqStmt>().stmts[0]->as<CopyOp>();
    load80.options.prefer = PreferInstruction::Tma;
    REQUIRE(chooseCopyPaths(t.kernel, {}, diags));
    CHECK(load.plan->strategy == "TmaLoad");
    CopyPathOptions sm80;
    sm80.target = *Target::fromArch("sm_80");
    REQUIRE(chooseCopyPaths(u.kernel, sm80, diags));
    CHECK(load80.plan->strategy == "CpAsync");
    CHECK(load80.pathReason == "TMA not used: " + sm80.target.lacks(TargetFeature::Tma));
    CHECK_FALSE(diags.hasErrors());
  }
  SUBCASE("the automatic mbarrier is allocated before PlanSharedMemory, which counts it") {
    TileCopy t;
    auto& load = t.kernel.body->as<SeqStmt>().stmts[0]->as<CopyOp>();
    load.options.prefer = PreferInstruction::Tma;
    REQUIRE(chooseCopyPaths(t.kernel, {}, diags));
    allocateCopyBarriers(t.kernel);
    REQUIRE(load.mbarriers);
    CHECK(load.mbarrierIndex == 0);
    REQUIRE(planSharedMemory(t.kernel, Target::hopper(), diags));
    CHECK(load.mbarriers->sharedOffset == 128 * 128 * 2);
    CHECK(t.kernel.dynamicSharedBytes == 128 * 128 * 2 + 8);
  }
}

// A TMA swizzle permutes 16-byte chunks inside each 128-byte line, so a swizzled
// tile owns its last line whole, even when its rows end inside it: a (3, 32) float16
// tile under the 64-byte swizzle holds 192 bytes but reserves 256. What follows it
// (the mbarrier of a TMA load, 8-byte aligned, or the end of the dynamic shared
// memory) must start past that line, or a swizzled access would reach it.
TEST_CASE("shared memory plan: a swizzled tile reserves its last 128-byte line whole") {
  DiagnosticEngine diags(std::cerr);
  TileCopy t;
  auto& load = t.kernel.body->as<SeqStmt>().stmts[0]->as<CopyOp>();
  load.options.prefer = PreferInstruction::Tma;
  BufferRef swizzled = makeBuffer("S", MemScope::Shared, DType::Float16, {intImm(3), intImm(32)});
  swizzled->sharedLayout.swizzleBytes = 64;
  t.kernel.allocations.push_back(swizzled);
  REQUIRE(chooseCopyPaths(t.kernel, {}, diags));
  allocateCopyBarriers(t.kernel);
  REQUIRE(load.mbarriers);
  REQUIRE(planSharedMemory(t.kernel, Target::hopper(), diags));
  CHECK(t.shared->sharedOffset == 0);
  CHECK(swizzled->sharedOffset == 128 * 128 * 2);          // tiles are 1024-aligned
  CHECK(load.mbarriers->sharedOffset == 128 * 128 * 2 + 256);  // past the whole line, not at + 192
  CHECK(load.mbarriers->sharedOffset % 8 == 0);
  CHECK(t.kernel.dynamicSharedBytes == 128 * 128 * 2 + 256 + 8);

  // The swizzled tile last: the dynamic shared size covers its whole last line;
  // a 32-byte swizzle of (5, 16) float16 (160 bytes) reserves 256 as well.
  for (int swizzle : {32, 64, 128}) {
    CAPTURE(swizzle);
    Kernel k;
    k.name = k.sourceName = "k";
    BufferRef a = makeBuffer("a", MemScope::Shared, DType::Float32, {intImm(4), intImm(4)});
    BufferRef b = makeBuffer("b", MemScope::Shared, DType::Float16, {intImm(5), intImm(16)});
    b->sharedLayout.swizzleBytes = swizzle;
    k.allocations = {a, b};
    REQUIRE(planSharedMemory(k, Target::hopper(), diags));
    CHECK(b->sharedOffset == 1024);
    CHECK(k.dynamicSharedBytes == 1024 + 256);
  }
  // Unswizzled, the same tile ends where its rows do.
  Kernel k;
  k.name = k.sourceName = "k";
  k.allocations = {makeBuffer("b", MemScope::Shared, DType::Float16, {intImm(5), intImm(16)})};
  REQUIRE(planSharedMemory(k, Target::hopper(), diags));
  CHECK(k.dynamicSharedBytes == 160);
}

TEST_CASE("vector width choice") {
  CHECK(widestVector(DType::Float16, 128) == 8);
  CHECK(widestVector(DType::Float32, 128) == 4);
  CHECK(widestVector(DType::Float32, 6) == 2);
  CHECK(widestVector(DType::Float8E4M3, 64) == 16);
  CHECK(widestVector(DType::Float64, 7) == 1);
}

TEST_CASE("a shared tile written then read gets one barrier") {
  TileCopy t;
  insertBarriers(t.kernel);
  const auto& stmts = t.kernel.body->as<SeqStmt>().stmts;
  REQUIRE(stmts.size() == 3);
  CHECK(stmts[1]->kind == StmtKind::Barrier);
}

TEST_CASE("a loop reusing a shared tile gets the write-after-read barrier") {
  TileCopy t;
  auto k = makeVar("k", DType::Int32);
  auto loop = std::make_shared<ForStmt>(SourceRange{}, k, intImm(0), t.N, ForKind::Serial, t.kernel.body);
  t.kernel.body = std::make_shared<SeqStmt>(SourceRange{}, std::vector<StmtRef>{loop});
  insertBarriers(t.kernel);
  const auto& body = t.kernel.body->as<SeqStmt>().stmts[0]->as<ForStmt>().body->as<SeqStmt>().stmts;
  REQUIRE(body.size() == 4);  // barrier (WAR across iterations), load, barrier (RAW), store
  CHECK(body[0]->kind == StmtKind::Barrier);
  CHECK(body[2]->kind == StmtKind::Barrier);
}

TEST_CASE("tile copy: a fast variant with assumptions and a general one") {
  TileCopy t;
  DiagnosticEngine diags(std::cerr);
  Module m;
  m.kernels.push_back(t.kernel);
  auto lowered = lower(m, {}, diags);
  REQUIRE(lowered);
  REQUIRE(lowered->kernels.size() == 2);
  const Kernel& fast = lowered->kernels[0];
  const Kernel& general = lowered->kernels[1];
  CHECK(fast.name == "tile_copy_aligned");
  CHECK(general.name == "tile_copy");
  CHECK(general.assumptions.empty());
  // The fast variant assumes 16-byte aligned pointers and N % 8 == 0.
  bool alignedA = false, evenN = false;
  for (const auto& a : fast.assumptions) {
    if (a.param == t.A && a.multiple == 16) alignedA = true;
    if (a.param == t.N && a.multiple == 8) evenN = true;
  }
  CHECK(alignedA);
  CHECK(evenN);
  // Outside a Pipelined loop the fast variant loads with 16-byte cp.async and stores
  // 16 bytes per thread (TMA only pays off in pipelined loops; ChooseCopyPaths).
  CHECK(text(fast).find("cp_async(A") != std::string::npos);
  CHECK(text(fast).find("]x8 = A_s[") != std::string::npos);
  CHECK(text(fast).find("tma_") == std::string::npos);
  CHECK(text(general).find("tma_") == std::string::npos);
  CHECK(fast.dynamicSharedBytes == 128 * 128 * 2);
  CHECK(general.dynamicSharedBytes == 128 * 128 * 2);
}

TEST_CASE("tile copy with TMA disabled: 16-byte SIMT vectors in the fast variant") {
  TileCopy t;
  for (auto& s : t.kernel.body->as<SeqStmt>().stmts) s->as<CopyOp>().options.disableTma = true;
  DiagnosticEngine diags(std::cerr);
  Module m;
  m.kernels.push_back(t.kernel);
  auto lowered = lower(m, {}, diags);
  REQUIRE(lowered);
  REQUIRE(lowered->kernels.size() == 2);
  CHECK(text(lowered->kernels[0]).find("x8") != std::string::npos);
  CHECK(text(lowered->kernels[1]).find("x8") == std::string::npos);
}

namespace {
// A (64, 256) float32 fragment on 256 threads, doubled by a Parallel loop, lowered as
// the aligned variant (allowAssumptions) or the general one.
std::string lowerFragmentParallel(bool allowAssumptions) {
  Kernel k;
  k.name = k.sourceName = "axpy";
  k.threads = 256;
  for (auto& g : k.grid) g = intImm(1);
  auto frag = makeBuffer("a", MemScope::Fragment, DType::Float32, {intImm(64), intImm(256)});
  k.allocations = {frag};
  auto i = makeVar("i", DType::Int32), j = makeVar("j", DType::Int32);
  auto loadA = std::make_shared<LoadNode>(frag, std::vector<ExprRef>{i, j}, DType::Float32, 1);
  auto body = std::make_shared<StoreStmt>(SourceRange{}, frag, std::vector<ExprRef>{i, j},
                                          mul(loadA, floatImm(2.0)));
  auto par = std::make_shared<ParallelOp>(SourceRange{}, std::vector<VarRef>{i, j}, std::vector<int64_t>{64, 256}, body);
  k.body = std::make_shared<SeqStmt>(SourceRange{}, std::vector<StmtRef>{par});
  DiagnosticEngine diags(std::cerr);
  std::vector<CopyLoweringNote> notes;
  REQUIRE(layoutFragments(k, diags, notes));
  CHECK(frag->layout.vec == 4);
  CHECK(frag->layout.localSize == 64);
  TileOpLoweringOptions options;
  options.allowAssumptions = allowAssumptions;
  REQUIRE(lowerTileOps(k, options, diags, notes));
  return text(k);
}
}  // namespace

TEST_CASE("a fragment's layout is shared by its copy and its Parallel loop") {
  std::string s = lowerFragmentParallel(true);
  CHECK(s.find("unrolled") != std::string::npos);
  CHECK(s.find("alloc a: local float32[64]") != std::string::npos);
}

TEST_CASE("the general variant unrolls a fragment of 64 elements a thread, like the aligned one") {
  // limits::GeneralUnrolledElementsPerThread: 64 elements a thread are within it (past
  // it the fragment is kept rolled: test_interpreter.cpp checks that side).
  static_assert(limits::GeneralUnrolledElementsPerThread >= 64);
  std::string s = lowerFragmentParallel(false);
  CHECK(s.find("unrolled") != std::string::npos);
  CHECK(s.find("kept rolled") == std::string::npos);
  CHECK(s.find("alloc a: local float32[64]") != std::string::npos);
}

// ------------------------------------------------- bulk DSMEM copy plans

namespace {
Region part(const BufferRef& b, std::vector<int64_t> mins, std::vector<int64_t> extents) {
  Region r;
  r.buffer = b;
  for (auto m : mins) r.mins.push_back(intImm(m));
  r.extents = extents;
  return r;
}
CopyOp remoteCopy(Region s, Region d) {
  CopyOp c({}, std::move(s), std::move(d));
  c.dstBlock = intImm(1);
  return c;
}
}  // namespace

TEST_CASE("planBulkDsmem: whole tiles, rows, and what rules it out") {
  auto s = makeBuffer("s", MemScope::Shared, DType::Float32, {intImm(64), intImm(64)});
  auto t = makeBuffer("t", MemScope::Shared, DType::Float32, {intImm(64), intImm(64)});
  std::string why;
  SUBCASE("two whole row-major tiles: one run of the tile's bytes") {
    auto plan = planBulkDsmem(remoteCopy(whole(s), whole(t)), why);
    REQUIRE(plan);
    CHECK(plan->runBytes == 16384);
    CHECK(plan->rows() == 1);
    CHECK(plan->totalBytes() == 16384);
  }
  SUBCASE("whole rows merge into one run; a part of each row gives one run per row") {
    auto plan = planBulkDsmem(remoteCopy(part(s, {8, 0}, {16, 64}), part(t, {0, 0}, {16, 64})), why);
    REQUIRE(plan);
    CHECK(plan->runBytes == 16 * 256);
    CHECK(plan->srcStart == 8 * 256);
    plan = planBulkDsmem(remoteCopy(part(s, {0, 16}, {8, 32}), part(t, {4, 0}, {8, 32})), why);
    REQUIRE(plan);
    CHECK(plan->runBytes == 128);
    CHECK(plan->rowExtents == std::vector<int64_t>{8});
    CHECK(plan->srcStrides == std::vector<int64_t>{256});
    CHECK(plan->srcStart == 64);
    CHECK(plan->dstStart == 4 * 256);
    CHECK(plan->totalBytes() == 8 * 128);
  }
  SUBCASE("a padded side: rows") {
    s->strides = {intImm(68), intImm(1)};
    s->sharedLayout.pad = 4;
    auto plan = planBulkDsmem(remoteCopy(whole(s), whole(t)), why);
    REQUIRE(plan);
    CHECK(plan->runBytes == 256);
    CHECK(plan->srcStrides == std::vector<int64_t>{272});
    CHECK(plan->dstStrides == std::vector<int64_t>{256});
  }
  SUBCASE("swizzled alike: the whole tile; swizzled on one side: no plan") {
    s->sharedLayout.swizzleBytes = 128;
    CHECK_FALSE(planBulkDsmem(remoteCopy(whole(s), whole(t)), why));
    CHECK(why.find("tile 's' has the layout swizzle(128B") != std::string::npos);
    t->sharedLayout.swizzleBytes = 128;
    auto plan = planBulkDsmem(remoteCopy(whole(s), whole(t)), why);
    REQUIRE(plan);
    CHECK(plan->runBytes == 16384);
  }
  SUBCASE("runs, starts and row distances must be multiples of 16 bytes") {
    CHECK_FALSE(planBulkDsmem(remoteCopy(part(s, {0, 0}, {64, 2}), part(t, {0, 0}, {64, 2})), why));
    CHECK(why == "its contiguous rows are 8 bytes; a bulk copy moves a multiple of 16 bytes");
    CHECK_FALSE(planBulkDsmem(remoteCopy(part(s, {0, 2}, {64, 4}), part(t, {0, 0}, {64, 4})), why));
    CHECK(why == "the region starts at byte 8 of tile 's'; a bulk copy needs 16-byte aligned addresses");
    auto odd = makeBuffer("o", MemScope::Shared, DType::Float32, {intImm(64), intImm(6)});
    CHECK_FALSE(planBulkDsmem(remoteCopy(part(odd, {0, 0}, {64, 4}), part(t, {0, 0}, {64, 4})), why));
    CHECK(why == "rows of tile 'o' are 24 bytes apart; a bulk copy needs 16-byte aligned addresses");
  }
  SUBCASE("a conversion or a run-time start: no plan") {
    auto h = makeBuffer("h", MemScope::Shared, DType::Float16, {intImm(64), intImm(64)});
    CHECK_FALSE(planBulkDsmem(remoteCopy(whole(s), whole(h)), why));
    CHECK(why == "the copy converts float32 to float16; a bulk copy moves bytes");
    Region r = part(s, {0, 0}, {1, 64});
    r.mins[0] = makeVar("k", DType::Int32);
    CHECK_FALSE(planBulkDsmem(remoteCopy(r, part(t, {0, 0}, {1, 64})), why));
    CHECK(why.find("known only at run time") != std::string::npos);
  }
}

namespace {

// B[bx * block + t] = 1 where bx * block + t < n: bx and t either loop variables
// (bx over ceildiv(n, block), t over block) or blockIdx.x and threadIdx.x of a grid of
// ceildiv(n, block) blocks of `block` threads. Loop IR, flat int64 offsets.
struct IndexKernel {
  Kernel kernel;
  VarRef n = makeVar("n", DType::Int32), B = makeVar("B", DType::Handle);
  VarRef bx = makeVar("bx", DType::Int32), t = makeVar("t", DType::Int32);
  std::shared_ptr<StoreStmt> store;

  IndexKernel(int block, bool loops) {
    kernel.name = kernel.sourceName = "k";
    kernel.threads = loops ? 1 : block;
    kernel.params = {{"B", ParamKind::Pointer, B, DType::Float32, {}}, {"n", ParamKind::Dim, n, DType::Int32, {}}};
    ExprRef blocks = floorDiv(add(n, intImm(block - 1)), intImm(block));
    for (auto& g : kernel.grid) g = intImm(1);
    if (!loops) kernel.grid[0] = blocks;
    auto gb = makeBuffer("B", MemScope::Global, DType::Float32, {n});
    gb->data = B;
    ExprRef x = loops ? ExprRef(bx) : call(Builtin::BlockIdx, {}, DType::Int32, 0);
    ExprRef y = loops ? ExprRef(t) : call(Builtin::ThreadIdx, {}, DType::Int32, 0);
    ExprRef idx = add(mul(x, intImm(block)), y);
    store = std::make_shared<StoreStmt>(SourceRange{}, gb, std::vector<ExprRef>{cast(DType::Int64, idx)}, floatImm(1));
    store->predicate = lt(idx, n);
    StmtRef body = store;
    if (loops) {
      body = std::make_shared<ForStmt>(SourceRange{}, t, intImm(0), intImm(block), ForKind::Serial, body);
      body = std::make_shared<ForStmt>(SourceRange{}, bx, intImm(0), blocks, ForKind::Serial, body);
    }
    kernel.body = std::make_shared<SeqStmt>(SourceRange{}, std::vector<StmtRef>{body});
  }

  // The (only) store after the pass.
  const StoreStmt& widenedStore() const {
    const StmtNode* s = kernel.body->as<SeqStmt>().stmts[0].get();
    while (s->kind == StmtKind::For) s = s->as<ForStmt>().body.get();
    return s->as<StoreStmt>();
  }
};

}  // namespace

TEST_CASE("WidenIndices: bx * 1000 + t reaches 2^31 for n = 2^31 - 1; int64 index and compare") {
  IndexKernel k(1000, /*loops=*/true);
  std::vector<std::pair<const VarNode*, int64_t>> last = {{k.n.get(), INT32_MAX}, {k.bx.get(), 2147483}, {k.t.get(), 999}};
  // In int32 the last block's index 2147483999 overflows (evalInt: nullopt; the GPU
  // wraps to a negative index that passes `< n`).
  CHECK_FALSE(evalInt(k.store->predicate, last).has_value());
  widenIndices(k.kernel);
  const StoreStmt& st = k.widenedStore();
  CHECK(evalInt(st.predicate, last) == 0);  // past n: skipped
  CHECK(evalInt(st.indices[0], last) == 2147483999);
  std::vector<std::pair<const VarNode*, int64_t>> lastIn = {{k.n.get(), INT32_MAX}, {k.bx.get(), 2147483}, {k.t.get(), 646}};
  CHECK(evalInt(st.predicate, lastIn) == 1);  // element 2^31 - 2, the last one
  CHECK(st.predicate->as<BinaryNode>().a->dtype == DType::Int64);
  CHECK(k.kernel.argumentBounds.empty());
  CHECK(k.kernel.tensorSpans.empty());
}

TEST_CASE("WidenIndices: blockIdx and threadIdx take their ranges from the grid and the block") {
  IndexKernel wide(1000, /*loops=*/false);
  widenIndices(wide.kernel);
  CHECK(wide.widenedStore().predicate->as<BinaryNode>().a->dtype == DType::Int64);
  // A block of 1024 divides 2^31: bx * 1024 + t <= 2^31 - 1, proven. Nothing changes.
  IndexKernel small(1024, /*loops=*/false);
  StmtRef before = small.kernel.body;
  widenIndices(small.kernel);
  CHECK(small.kernel.body == before);
  CHECK(small.widenedStore().predicate->as<BinaryNode>().a->dtype == DType::Int32);
}

TEST_CASE("WidenIndices: a uint64 extent is bounded by the launcher, a product of three dims is checked") {
  Kernel k;
  k.name = k.sourceName = "k";
  k.threads = 32;
  VarRef n = makeVar("n", DType::UInt64), P = makeVar("P", DType::Handle);
  VarRef J = makeVar("J", DType::Int32), K = makeVar("K", DType::Int32), M = makeVar("M", DType::Int32);
  k.params = {{"P", ParamKind::Pointer, P, DType::Float32, {}}, {"n", ParamKind::Scalar, n, DType::UInt64, {}},
              {"J", ParamKind::Dim, J, DType::Int32, {}}, {"K", ParamKind::Dim, K, DType::Int32, {}},
              {"M", ParamKind::Dim, M, DType::Int32, {}}};
  for (auto& g : k.grid) g = intImm(1);
  auto flat = makeBuffer("X", MemScope::Global, DType::Float32, {cast(DType::Int32, n)});
  flat->data = P;
  auto cube = makeBuffer("Y", MemScope::Global, DType::Float32, {J, K, M});
  cube->data = P;
  ExprRef tid = call(Builtin::ThreadIdx, {}, DType::Int32, 0);
  auto s1 = std::make_shared<StoreStmt>(SourceRange{}, flat, std::vector<ExprRef>{cast(DType::Int64, tid)}, floatImm(1));
  s1->predicate = lt(tid, flat->shape[0]);
  auto s2 = std::make_shared<StoreStmt>(SourceRange{}, cube, std::vector<ExprRef>{cast(DType::Int64, tid)}, floatImm(1));
  k.body = std::make_shared<SeqStmt>(SourceRange{}, std::vector<StmtRef>{s1, s2});
  widenIndices(k);
  REQUIRE(k.argumentBounds.size() == 1);
  CHECK(k.argumentBounds[0].param == n);
  CHECK(k.argumentBounds[0].max == uint64_t(INT64_MAX));
  REQUIRE(k.tensorSpans.size() == 1);
  CHECK(k.tensorSpans[0].tensor == "Y");
}
