// Backend unit tests: hand-built loop-IR kernels through generateLLVM -> emitPTX ->
// assembleCubin, checked on the LLVM IR, the PTX text and the cubin's ELF magic.
// Semantics (floor division, loop bounds) are checked by letting LLVM's optimizer
// fold kernels whose inputs are constants, then reading the stored constants.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "backend/Backend.h"
#include "ir/IR.h"

using namespace tlc;
using namespace tlc::ir;

namespace {

struct Compiled {
  std::string llvm;  // after the optimization pipeline
  std::string ptx;
  std::vector<uint8_t> cubin;
  std::string diagnostics;
  unsigned errors = 0;
};

Compiled compile(const Module& module, TargetOptions target = {}) {
  Compiled result;
  std::ostringstream out;
  DiagnosticEngine diags(out);
  for (const Kernel& kernel : module.kernels) verifyLoopIR(kernel, diags);
  if (auto llvmModule = generateLLVM(module, target, diags)) {
    result.llvm = llvmModule->text();
    if (auto ptx = emitPTX(*llvmModule, target, diags)) {
      result.ptx = *ptx;
      if (auto cubin = assembleCubin(*ptx, target, diags)) result.cubin = *cubin;
    }
  }
  result.diagnostics = out.str();
  result.errors = diags.errorCount();
  // TLC_DUMP_BACKEND_TESTS=1 prints what each test compiled, for debugging.
  if (std::getenv("TLC_DUMP_BACKEND_TESTS"))
    std::fprintf(stderr, "%s\n%s\n%s\n", result.llvm.c_str(), result.ptx.c_str(), result.diagnostics.c_str());
  return result;
}

Compiled compile(const Kernel& kernel, TargetOptions target = {}) {
  Module module;
  module.kernels.push_back(kernel);
  return compile(module, target);
}

bool isElf(const std::vector<uint8_t>& bytes) {
  return bytes.size() > 4 && bytes[0] == 0x7f && bytes[1] == 'E' && bytes[2] == 'L' && bytes[3] == 'F';
}

// Whitespace runs count as one space, so that `bar.sync\t0` matches "bar.sync 0".
std::string collapseSpaces(const std::string& text) {
  std::string result;
  for (char c : text) {
    bool space = c == ' ' || c == '\t';
    if (space && !result.empty() && result.back() == ' ') continue;
    result += space ? ' ' : c;
  }
  return result;
}

bool contains(const std::string& text, const std::string& piece) {
  return collapseSpaces(text).find(collapseSpaces(piece)) != std::string::npos;
}

size_t occurrences(const std::string& text, const std::string& piece) {
  std::string haystack = collapseSpaces(text), needle = collapseSpaces(piece);
  size_t count = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++count;
  return count;
}

Param param(const std::string& name, ParamKind kind, DType varType, DType elementType = DType::Float32) {
  Param p;
  p.name = name;
  p.kind = kind;
  p.var = makeVar(name, varType);
  p.elementType = elementType;
  return p;
}

Param pointer(const std::string& name, DType elementType) {
  return param(name, ParamKind::Pointer, DType::Handle, elementType);
}

BufferRef globalBuffer(const Param& data, DType dtype, ExprRef size) {
  auto buffer = std::make_shared<Buffer>();
  buffer->name = data.name;
  buffer->dtype = dtype;
  buffer->scope = MemScope::Global;
  buffer->shape = {std::move(size)};
  buffer->strides = {intImm(1)};
  buffer->data = data.var;
  return buffer;
}

BufferRef onChipBuffer(const std::string& name, DType dtype, MemScope scope, int64_t elements,
                       int64_t sharedOffset = -1) {
  auto buffer = std::make_shared<Buffer>();
  buffer->name = name;
  buffer->dtype = dtype;
  buffer->scope = scope;
  buffer->shape = {intImm(elements)};
  buffer->strides = {intImm(1)};
  buffer->sharedOffset = sharedOffset;
  return buffer;
}

ExprRef load(const BufferRef& buffer, ExprRef index, int lanes = 1, ExprRef predicate = nullptr,
             int alignBytes = 0) {
  auto node = std::make_shared<LoadNode>(buffer, std::vector<ExprRef>{std::move(index)}, buffer->dtype, lanes);
  node->predicate = std::move(predicate);
  node->alignBytes = alignBytes;
  node->boundsChecked = true;  // hand-built loop IR: each test's kernel stays in bounds
  return node;
}

StmtRef store(const BufferRef& buffer, ExprRef index, ExprRef value, ExprRef predicate = nullptr,
              int alignBytes = 0) {
  auto node = std::make_shared<StoreStmt>(SourceRange{}, buffer, std::vector<ExprRef>{std::move(index)},
                                          std::move(value));
  node->predicate = std::move(predicate);
  node->alignBytes = alignBytes;
  node->boundsChecked = true;
  return node;
}

StmtRef seq(std::vector<StmtRef> stmts) { return std::make_shared<SeqStmt>(SourceRange{}, std::move(stmts)); }

StmtRef loop(const VarRef& var, ExprRef min, ExprRef extent, ForKind kind, StmtRef body, ExprRef step = nullptr) {
  auto node = std::make_shared<ForStmt>(SourceRange{}, var, std::move(min), std::move(extent), kind, std::move(body));
  node->step = std::move(step);
  return node;
}

StmtRef let(const VarRef& var, ExprRef value) { return std::make_shared<LetStmt>(SourceRange{}, var, std::move(value)); }
StmtRef assign(const VarRef& var, ExprRef value) {
  return std::make_shared<AssignStmt>(SourceRange{}, var, std::move(value));
}
StmtRef syncThreads() { return std::make_shared<BarrierStmt>(SourceRange{}, BarrierKind::SyncThreads); }

ExprRef threadIdx() { return call(Builtin::ThreadIdx, {}, DType::Int32, 0); }
ExprRef blockIdx() { return call(Builtin::BlockIdx, {}, DType::Int32, 0); }

Kernel kernelNamed(const std::string& name, int threads = 128) {
  Kernel kernel;
  kernel.name = name;
  kernel.sourceName = name;
  kernel.threads = threads;
  kernel.grid[0] = intImm(1);
  kernel.grid[1] = intImm(1);
  kernel.grid[2] = intImm(1);
  return kernel;
}

// B[i:i+8] = A[i:i+8] for i = (block*128 + thread) * 8, when i < n: 16-byte fp16 vectors.
Kernel vectorizedCopy() {
  Kernel kernel = kernelNamed("vector_copy");
  Param a = pointer("A", DType::Float16), b = pointer("B", DType::Float16);
  Param n = param("n", ParamKind::Dim, DType::Int32);
  kernel.params = {a, b, n};
  BufferRef source = globalBuffer(a, DType::Float16, n.var), target = globalBuffer(b, DType::Float16, n.var);
  VarRef i = makeVar("i", DType::Int32);
  ExprRef inBounds = lt(i, n.var);
  kernel.body = seq({
      let(i, mul(add(mul(blockIdx(), intImm(128)), threadIdx()), intImm(8))),
      store(target, i, load(source, i, 8, inBounds, 16), inBounds, 16),
  });
  return kernel;
}

}  // namespace

TEST_CASE("backend: a vectorized, predicated fp16 copy becomes 16-byte global accesses") {
  Compiled compiled = compile(vectorizedCopy());
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  // The guarded load: one predicated 16-byte ld.global (inline PTX), no branch around it.
  CHECK(contains(compiled.llvm, "@p ld.global.v4.b32"));
  CHECK(!contains(compiled.llvm, "load.done"));
  CHECK(contains(compiled.llvm, "align 16"));
  CHECK(contains(compiled.ptx, ".visible .entry vector_copy("));
  CHECK(contains(compiled.ptx, ".maxntid 128, 1, 1"));
  CHECK((contains(compiled.ptx, "ld.global.v4.u32") || contains(compiled.ptx, "ld.global.v4.b32")));
  CHECK((contains(compiled.ptx, "st.global.v4.u32") || contains(compiled.ptx, "st.global.v4.b32")));
  CHECK(contains(compiled.ptx, "setp."));  // the predicate guards the access
  CHECK(isElf(compiled.cubin));
}

TEST_CASE("backend: every optimization level compiles the copy to a cubin") {
  for (int level = 0; level <= 3; ++level) {
    CAPTURE(level);
    TargetOptions target;
    target.optLevel = level;
    Compiled compiled = compile(vectorizedCopy(), target);
    REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
    CHECK(isElf(compiled.cubin));
  }
}

TEST_CASE("backend: a Local array indexed by Unrolled loops lives in registers") {
  Kernel kernel = kernelNamed("fragment_scale");
  Param a = pointer("A", DType::Float32), b = pointer("B", DType::Float32);
  kernel.params = {a, b};
  BufferRef source = globalBuffer(a, DType::Float32, intImm(1024)), target = globalBuffer(b, DType::Float32, intImm(1024));
  BufferRef fragment = onChipBuffer("acc", DType::Float32, MemScope::Local, 8);
  kernel.allocations = {fragment};
  VarRef j = makeVar("j", DType::Int32), k = makeVar("k", DType::Int32);
  ExprRef base = mul(threadIdx(), intImm(8));
  kernel.body = seq({
      loop(j, intImm(0), intImm(8), ForKind::Unrolled,
           store(fragment, j, mul(load(source, add(base, j)), floatImm(2.0)))),
      // A reversed walk exercises negative steps on unrolled loops: k = 7, 6, ..., 0.
      loop(k, intImm(7), intImm(-8), ForKind::Unrolled,
           store(target, add(base, k), add(load(fragment, k), floatImm(1.0))), intImm(-1)),
  });
  Compiled compiled = compile(kernel);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  CHECK_FALSE(contains(compiled.llvm, "alloca"));
  CHECK_FALSE(contains(compiled.ptx, "__local_depot"));
  CHECK_FALSE(contains(compiled.ptx, "ld.local"));
  CHECK(occurrences(compiled.ptx, "ld.global.f32") == 8);
  CHECK(occurrences(compiled.ptx, "st.global.f32") == 8);
  CHECK(isElf(compiled.cubin));
}

TEST_CASE("backend: shfl_bfly moves 32 bits: narrow values widened, 64-bit ones as two halves") {
  Kernel kernel = kernelNamed("butterfly", 64);
  std::vector<DType> types = {DType::Float32, DType::Float16, DType::BFloat16, DType::Int8,
                              DType::UInt16, DType::Int32, DType::Float64, DType::Int64};
  std::vector<StmtRef> body;
  for (size_t i = 0; i < types.size(); ++i) {
    Param p = pointer("P" + std::to_string(i), types[i]);
    kernel.params.push_back(p);
    BufferRef b = globalBuffer(p, types[i], intImm(64));
    VarRef v = makeVar("v" + std::to_string(i), types[i]), w = makeVar("w" + std::to_string(i), types[i]);
    body.push_back(let(v, load(b, threadIdx())));
    body.push_back(let(w, call(Builtin::ShflBfly, {v, intImm(int64_t(1) << (i % 5))}, types[i])));
    body.push_back(store(b, threadIdx(), w));
  }
  kernel.body = seq(body);
  Compiled compiled = compile(kernel);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  CHECK(occurrences(compiled.ptx, "shfl.sync.bfly.b32") == 10);  // six 32-bit ones, two pairs
  CHECK(contains(compiled.ptx, "shfl.sync.bfly.b32 %f"));         // the float32 one as f32
  CHECK(contains(compiled.ptx, ", 16, 31, -1;"));                 // lane mask 16, clamp 31, the whole warp
  CHECK(contains(compiled.ptx, "cvt.f32.f16"));                   // float16 widened
  CHECK(isElf(compiled.cubin));
}

TEST_CASE("backend: shared memory round trip with a barrier") {
  Kernel kernel = kernelNamed("shared_reverse");
  Param a = pointer("A", DType::Float32), b = pointer("B", DType::Float32);
  kernel.params = {a, b};
  BufferRef source = globalBuffer(a, DType::Float32, intImm(4096)), target = globalBuffer(b, DType::Float32, intImm(4096));
  BufferRef tile = onChipBuffer("tile", DType::Float32, MemScope::Shared, 128, /*sharedOffset=*/512);
  kernel.allocations = {tile};
  kernel.dynamicSharedBytes = 512 + 128 * 4;
  ExprRef global = add(mul(blockIdx(), intImm(128)), threadIdx());
  kernel.body = seq({
      store(tile, threadIdx(), load(source, global)),
      syncThreads(),
      store(target, global, load(tile, sub(intImm(127), threadIdx()))),
      std::make_shared<BarrierStmt>(SourceRange{}, BarrierKind::FenceProxyAsync),
  });
  Compiled compiled = compile(kernel);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  CHECK(contains(compiled.ptx, ".extern .shared .align 1024 .b8 tlc_dynamic_shared[]"));
  CHECK(contains(compiled.ptx, "bar.sync 0"));
  CHECK(contains(compiled.ptx, "st.shared.f32"));
  CHECK(contains(compiled.ptx, "ld.shared.f32"));
  CHECK(contains(compiled.ptx, "fence.proxy.async.shared::cta"));
  CHECK(contains(compiled.ptx, ", tlc_dynamic_shared;"));
  CHECK(contains(compiled.ptx, ", 512;"));  // the tile's byte offset
  CHECK(isElf(compiled.cubin));
}

TEST_CASE("backend: integer // and % floor like Python on negative operands") {
  // Operands go through mutable locals so that the IR builders do not fold them;
  // LLVM's optimizer then folds the backend's code, and the stored constants
  // show what the generated arithmetic computes.
  Kernel kernel = kernelNamed("floor_ops");
  struct Case { int64_t a, b, quotient, remainder; };
  std::vector<Case> cases = {{-7, 2, -4, 1}, {7, -2, -4, -1}, {-7, -2, 3, -1}, {7, 2, 3, 1}, {-8, 2, -4, 0}, {-1, 5, -1, 4}};
  std::vector<StmtRef> body;
  VarRef x = makeVar("x", DType::Int32), y = makeVar("y", DType::Int32);
  body.push_back(let(x, intImm(0)));
  body.push_back(let(y, intImm(1)));
  for (size_t c = 0; c < cases.size(); ++c) {
    Param q = pointer("q" + std::to_string(c), DType::Int32), r = pointer("r" + std::to_string(c), DType::Int32);
    kernel.params.push_back(q);
    kernel.params.push_back(r);
    body.push_back(assign(x, intImm(cases[c].a)));
    body.push_back(assign(y, intImm(cases[c].b)));
    body.push_back(store(globalBuffer(q, DType::Int32, intImm(1)), intImm(0), floorDiv(x, y)));
    body.push_back(store(globalBuffer(r, DType::Int32, intImm(1)), intImm(0), floorMod(x, y)));
  }
  kernel.body = seq(body);
  Compiled compiled = compile(kernel);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  for (size_t c = 0; c < cases.size(); ++c) {
    CAPTURE(c);
    CHECK(contains(compiled.llvm, "store i32 " + std::to_string(cases[c].quotient) + ", ptr addrspace(1) %q" +
                                      std::to_string(c) + ","));
    CHECK(contains(compiled.llvm, "store i32 " + std::to_string(cases[c].remainder) + ", ptr addrspace(1) %r" +
                                      std::to_string(c) + ","));
  }
  CHECK(isElf(compiled.cubin));
}

// What the generated integer code computes, folded by LLVM's optimizer from
// operands held in mutable locals (so the IR builders cannot fold them first): an
// arithmetic >> on signed values, a logical one on unsigned; integer ** by
// square-and-multiply for every exponent from 0 to 9 and a negative one; a Serial
// loop over a signed range that starts below zero; and a negative signed index,
// which must address memory before the buffer's start (sign-, not zero-extended).
TEST_CASE("backend: signed shifts, integer powers, negative loop starts and indices compute as on the host") {
  Kernel kernel = kernelNamed("integer_semantics");
  Param shr = pointer("shr", DType::Int32), ushr = pointer("ushr", DType::UInt32), pw = pointer("pw", DType::Int32);
  Param sum = pointer("sum", DType::Int32), neg = pointer("neg", DType::Int32), mid = pointer("mid", DType::Float32);
  kernel.params = {shr, ushr, pw, sum, neg, mid};
  VarRef x = makeVar("x", DType::Int32), u = makeVar("u", DType::UInt32), e = makeVar("e", DType::Int32);
  VarRef acc = makeVar("acc", DType::Int32), i = makeVar("i", DType::Int32), lo = makeVar("lo", DType::Int32);
  std::vector<StmtRef> body = {let(x, intImm(0)), let(u, intImm(0, DType::UInt32)), let(e, intImm(0)),
                               let(lo, intImm(0))};
  // -8 >> 1 == -4, -1 >> 31 == -1; as uint32, 0xFFFFFFF8 >> 1 == 0x7FFFFFFC.
  body.push_back(assign(x, intImm(-8)));
  body.push_back(store(globalBuffer(shr, DType::Int32, intImm(2)), intImm(0), binary(BinOp::Shr, x, intImm(1))));
  body.push_back(assign(x, intImm(-1)));
  body.push_back(store(globalBuffer(shr, DType::Int32, intImm(2)), intImm(1), binary(BinOp::Shr, x, intImm(31))));
  body.push_back(assign(u, intImm(0xFFFFFFF8LL, DType::UInt32)));
  body.push_back(store(globalBuffer(ushr, DType::UInt32, intImm(1)), intImm(0), binary(BinOp::Shr, u, intImm(1, DType::UInt32))));
  // 3 ** n for n = -1, 0, ..., 9 (a negative exponent gives 1); (-2) ** 5 == -32.
  BufferRef powers = globalBuffer(pw, DType::Int32, intImm(12));
  body.push_back(assign(x, intImm(3)));
  for (int n = -1; n <= 9; ++n) {
    body.push_back(assign(e, intImm(n)));
    body.push_back(store(powers, intImm(n + 1), binary(BinOp::Pow, x, e)));
  }
  body.push_back(assign(x, intImm(-2)));
  body.push_back(assign(e, intImm(5)));
  body.push_back(store(powers, intImm(11), binary(BinOp::Pow, x, e)));
  // min and max: signed on int32 (min(-1, 5) == -1), unsigned on uint32.
  Param mm = pointer("mm", DType::Int32), umm = pointer("umm", DType::UInt32);
  kernel.params.push_back(mm);
  kernel.params.push_back(umm);
  BufferRef minmax = globalBuffer(mm, DType::Int32, intImm(2));
  BufferRef uminmax = globalBuffer(umm, DType::UInt32, intImm(2));
  body.push_back(assign(x, intImm(-1)));
  body.push_back(store(minmax, intImm(0), binary(BinOp::Min, x, intImm(5))));
  body.push_back(store(minmax, intImm(1), binary(BinOp::Max, x, intImm(-7))));
  body.push_back(assign(u, intImm(0xFFFFFFFFLL, DType::UInt32)));
  body.push_back(store(uminmax, intImm(0), binary(BinOp::Min, u, intImm(5, DType::UInt32))));
  body.push_back(store(uminmax, intImm(1), binary(BinOp::Max, u, intImm(5, DType::UInt32))));
  // uint32 // and %: 4294967288 // 16 == 268435455, 4294967288 % 10 == 8.
  Param ud = pointer("ud", DType::UInt32);
  kernel.params.push_back(ud);
  BufferRef udiv = globalBuffer(ud, DType::UInt32, intImm(2));
  body.push_back(assign(u, intImm(0xFFFFFFF8LL, DType::UInt32)));
  body.push_back(store(udiv, intImm(0), floorDiv(u, intImm(16, DType::UInt32))));
  body.push_back(store(udiv, intImm(1), floorMod(u, intImm(10, DType::UInt32))));
  // sum of i for i in range(lo, lo + 6) with lo = -3: -3 - 2 - 1 + 0 + 1 + 2 == -3.
  body.push_back(assign(lo, intImm(-3)));
  body.push_back(let(acc, intImm(0)));
  body.push_back(loop(i, lo, intImm(6), ForKind::Serial, assign(acc, add(acc, i))));
  body.push_back(store(globalBuffer(sum, DType::Int32, intImm(1)), intImm(0), acc));
  // neg[x - 4] = 7 with x = 1: the element 3 before the pointer, 12 bytes before.
  body.push_back(assign(x, intImm(1)));
  body.push_back(store(globalBuffer(neg, DType::Int32, intImm(1)), sub(x, intImm(4)), intImm(7)));
  // mid[x - 2] = 1.5 with x = 1 (a float32 pointer into the middle of an array).
  body.push_back(store(globalBuffer(mid, DType::Float32, intImm(1)), sub(x, intImm(2)), floatImm(1.5)));
  kernel.body = seq(body);
  Compiled compiled = compile(kernel);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  CHECK(contains(compiled.llvm, "store i32 -4, ptr addrspace(1) %shr,"));
  CHECK(contains(compiled.llvm, "store i32 -1, ptr addrspace(1) %"));
  CHECK(contains(compiled.llvm, "store i32 2147483644, ptr addrspace(1) %ushr,"));
  int64_t power = 1;
  for (int n = -1; n <= 9; ++n) {
    CAPTURE(n);
    int64_t want = n < 0 ? 1 : power;
    if (n >= 0) power *= 3;
    std::string where = n + 1 == 0 ? "%pw," : "%";
    CHECK(contains(compiled.llvm, "store i32 " + std::to_string(want) + ", ptr addrspace(1) " + where));
  }
  CHECK(contains(compiled.llvm, "store i32 -32, ptr addrspace(1) %"));
  CHECK(contains(compiled.llvm, "store i32 -3, ptr addrspace(1) %sum,"));
  CHECK(contains(compiled.llvm, "store i32 -1, ptr addrspace(1) %mm,"));
  CHECK(contains(compiled.llvm, "store i32 268435455, ptr addrspace(1) %ud,"));
  CHECK(contains(compiled.llvm, "store i32 8, ptr addrspace(1) %ud"));  // element 1
  CHECK(contains(compiled.llvm, "store i32 5, ptr addrspace(1) %umm,"));
  CHECK(contains(compiled.llvm, "store i32 -1, ptr addrspace(1) %umm"));  // umax(0xFFFFFFFF, 5), element 1
  CHECK(contains(compiled.llvm, "i8, ptr addrspace(1) %neg, i64 -12\n"));
  CHECK(contains(compiled.llvm, "i8, ptr addrspace(1) %mid, i64 -4\n"));
  CHECK_FALSE(contains(compiled.llvm, "i64 4294967"));  // no zero-extended negative index anywhere
  CHECK_FALSE(contains(compiled.llvm, "17179869"));
  CHECK(isElf(compiled.cubin));
}

TEST_CASE("backend: floor division of runtime values keeps the sign correction") {
  Kernel kernel = kernelNamed("floor_runtime");
  Param out = pointer("out", DType::Int32);
  Param a = param("a", ParamKind::Dim, DType::Int32), b = param("b", ParamKind::Dim, DType::Int32);
  kernel.params = {out, a, b};
  BufferRef result = globalBuffer(out, DType::Int32, intImm(2));
  kernel.body = seq({store(result, intImm(0), floorDiv(a.var, b.var)), store(result, intImm(1), floorMod(a.var, b.var))});
  TargetOptions target;
  target.optLevel = 0;
  Compiled compiled = compile(kernel, target);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  CHECK(contains(compiled.llvm, "sdiv i32 %a, %b"));
  CHECK(contains(compiled.llvm, "srem i32 %a, %b"));
  CHECK(contains(compiled.llvm, "select i1"));
  CHECK(contains(compiled.ptx, "div.s32"));
  CHECK(isElf(compiled.cubin));
}

TEST_CASE("backend: Serial loops cover [min, min+extent) by step, also downward") {
  Kernel kernel = kernelNamed("loop_sums");
  Param up = pointer("up", DType::Int32), down = pointer("down", DType::Int32), unrolled = pointer("unrolled", DType::Int32);
  kernel.params = {up, down, unrolled};
  VarRef sum = makeVar("sum", DType::Int32), i = makeVar("i", DType::Int32);
  auto sumLoop = [&](ForKind kind, int64_t min, int64_t extent, int64_t step, const Param& out) {
    return seq({let(sum, intImm(0)), loop(i, intImm(min), intImm(extent), kind, assign(sum, add(sum, i)), intImm(step)),
                store(globalBuffer(out, DType::Int32, intImm(1)), intImm(0), sum)});
  };
  kernel.body = seq({
      sumLoop(ForKind::Serial, 0, 10, 3, up),          // 0 + 3 + 6 + 9
      sumLoop(ForKind::Serial, 10, -10, -2, down),     // 10 + 8 + 6 + 4 + 2
      sumLoop(ForKind::Unrolled, 10, -10, -2, unrolled),
  });
  Compiled compiled = compile(kernel);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  CHECK(contains(compiled.llvm, "store i32 18, ptr addrspace(1) %up,"));
  CHECK(contains(compiled.llvm, "store i32 30, ptr addrspace(1) %down,"));
  CHECK(contains(compiled.llvm, "store i32 30, ptr addrspace(1) %unrolled,"));
}

TEST_CASE("backend: a runtime-bounded Serial loop with an if") {
  Kernel kernel = kernelNamed("serial_runtime", 256);
  Param out = pointer("out", DType::Float32), n = param("n", ParamKind::Dim, DType::Int32);
  kernel.params = {out, n};
  BufferRef result = globalBuffer(out, DType::Float32, n.var);
  VarRef i = makeVar("i", DType::Int32);
  auto branch = std::make_shared<IfStmt>(SourceRange{}, binary(BinOp::Eq, floorMod(i, intImm(2)), intImm(0)),
                                         store(result, i, floatImm(1.0)), store(result, i, floatImm(-1.0)));
  kernel.body = loop(i, threadIdx(), n.var, ForKind::Serial, branch, intImm(256));
  Compiled compiled = compile(kernel);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  CHECK(contains(compiled.ptx, ".maxntid 256, 1, 1"));
  CHECK(isElf(compiled.cubin));
}

TEST_CASE("backend: parameter kinds map to PTX parameter types in order") {
  Kernel kernel = kernelNamed("param_kinds");
  Param p = pointer("p", DType::Float32), n = param("n", ParamKind::Dim, DType::Int32);
  Param alpha = param("alpha", ParamKind::Scalar, DType::Float32), h = param("h", ParamKind::Scalar, DType::Float16);
  Param bf = param("bf", ParamKind::Scalar, DType::BFloat16), k = param("k", ParamKind::Scalar, DType::Int64);
  Param flag = param("flag", ParamKind::Scalar, DType::Bool);
  kernel.params = {p, n, alpha, h, bf, k, flag};
  BufferRef out = globalBuffer(p, DType::Float32, n.var);
  ExprRef value = add(add(add(alpha.var, cast(DType::Float32, h.var)), cast(DType::Float32, bf.var)),
                      cast(DType::Float32, k.var));
  kernel.body = store(out, threadIdx(), select(flag.var, value, floatImm(0.0)));
  Compiled compiled = compile(kernel);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  CHECK(contains(compiled.llvm, "@param_kinds(ptr addrspace(1) "));
  CHECK(contains(compiled.llvm, " %p, i32 %n, float %alpha, half %h, bfloat %bf, i64 %k, i8 %flag)"));
  CHECK(contains(compiled.llvm, "!\"maxntidx\", i32 128"));
  CHECK(contains(compiled.ptx, ".param .u64 param_kinds_param_0"));
  CHECK(contains(compiled.ptx, ".param .u32 param_kinds_param_1"));
  CHECK(contains(compiled.ptx, ".param .f32 param_kinds_param_2"));
  CHECK(contains(compiled.ptx, "param_kinds_param_6"));
  CHECK_FALSE(contains(compiled.llvm, "noalias"));  // in-place kernels alias their pointers
  CHECK(isElf(compiled.cubin));
}

TEST_CASE("backend: the float64-arithmetic math builtins, the rounding functions and the fast variants") {
  // sin cos erf sigmoid pow fmod: float64 .rn arithmetic (never contracted: the
  // interpreter's bits), no libdevice call; float16 through float32. The rounding functions are one cvt each; the __ variants .approx.
  Kernel kernel = kernelNamed("wide_math");
  Param out = pointer("out", DType::Float32), half = pointer("half", DType::Float16), flag = pointer("flag", DType::Bool);
  Param x = param("x", ParamKind::Scalar, DType::Float32), y = param("y", ParamKind::Scalar, DType::Float32);
  kernel.params = {out, half, flag, x, y};
  BufferRef result = globalBuffer(out, DType::Float32, intImm(128));
  BufferRef halves = globalBuffer(half, DType::Float16, intImm(128));
  BufferRef flags = globalBuffer(flag, DType::Bool, intImm(128));
  std::vector<StmtRef> body;
  int slot = 0;
  for (Builtin b : {Builtin::Sin, Builtin::Cos, Builtin::Erf, Builtin::Sigmoid, Builtin::Floor, Builtin::Ceil,
                    Builtin::Trunc, Builtin::Round, Builtin::Nearbyint, Builtin::FastExp, Builtin::FastExp2,
                    Builtin::FastExp10, Builtin::FastLog, Builtin::FastLog2, Builtin::FastLog10, Builtin::FastSin,
                    Builtin::FastCos, Builtin::FastTan}) {
    body.push_back(store(result, intImm(slot++), call(b, {x.var}, DType::Float32)));
    body.push_back(store(halves, intImm(slot++), call(b, {cast(DType::Float16, x.var)}, DType::Float16)));
  }
  for (Builtin b : {Builtin::Pow, Builtin::Fmod})
    body.push_back(store(result, intImm(slot++), call(b, {x.var, y.var}, DType::Float32)));
  for (Builtin b : {Builtin::Isnan, Builtin::Isinf, Builtin::Isfinite})
    body.push_back(store(flags, intImm(slot++), call(b, {x.var}, DType::Bool)));
  kernel.body = seq(body);
  for (int level : {0, 3}) {
    CAPTURE(level);
    TargetOptions target;
    target.optLevel = level;
    Compiled compiled = compile(kernel, target);
    REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
    for (const char* instruction : {"fma.rn.f64", "mul.rn.f64", "cvt.rni.f64.f64", "cvt.rn.f32.f64", "mul.lo.s64",
                                    "rem.u", "cvt.rmi.f32.f32", "cvt.rpi.f32.f32", "cvt.rzi.f32.f32",
                                    "cvt.rni.f32.f32", "ex2.approx.f32", "lg2.approx.f32", "sin.approx.f32",
                                    "cos.approx.f32", "setp.nan.f32"}) {
      CAPTURE(instruction);
      CHECK(contains(compiled.ptx, instruction));
    }
    CHECK_FALSE(contains(compiled.ptx, "call"));
    CHECK_FALSE(contains(compiled.ptx, ".ftz"));
    CHECK_FALSE(contains(compiled.ptx, "add.f64"));  // every float64 add is add.rn
    CHECK(isElf(compiled.cubin));
  }
}

TEST_CASE("backend: math builtins, casts and mixed precision select on sm_90a") {
  Kernel kernel = kernelNamed("math");
  Param out = pointer("out", DType::Float32), half = pointer("half", DType::Float16), ints = pointer("ints", DType::Int32);
  Param x = param("x", ParamKind::Scalar, DType::Float32), e = param("e", ParamKind::Scalar, DType::Float32);
  kernel.params = {out, half, ints, x, e};
  BufferRef result = globalBuffer(out, DType::Float32, intImm(64));
  BufferRef halves = globalBuffer(half, DType::Float16, intImm(64));
  BufferRef integers = globalBuffer(ints, DType::Int32, intImm(64));
  std::vector<StmtRef> body;
  int slot = 0;
  for (Builtin builtin : {Builtin::Exp, Builtin::Exp2, Builtin::Log, Builtin::Log2, Builtin::Sqrt, Builtin::Rsqrt,
                          Builtin::Tanh, Builtin::Abs, Builtin::Floor, Builtin::Ceil}) {
    body.push_back(store(result, intImm(slot++), call(builtin, {x.var}, DType::Float32)));
    body.push_back(store(halves, intImm(slot++), call(builtin, {cast(DType::Float16, x.var)}, DType::Float16)));
  }
  body.push_back(store(result, intImm(slot++), binary(BinOp::Pow, x.var, e.var)));
  body.push_back(store(result, intImm(slot++), binary(BinOp::Pow, x.var, floatImm(2.0))));
  body.push_back(store(result, intImm(slot++), binary(BinOp::Min, x.var, e.var)));
  body.push_back(store(result, intImm(slot++), binary(BinOp::Max, x.var, e.var)));
  body.push_back(store(result, intImm(slot++), binary(BinOp::FloorMod, x.var, e.var)));
  body.push_back(store(halves, intImm(slot++), binary(BinOp::Pow, cast(DType::Float16, x.var), cast(DType::Float16, e.var))));
  body.push_back(store(halves, intImm(slot++), cast(DType::Float16, cast(DType::BFloat16, x.var))));
  body.push_back(store(halves, intImm(slot++), mul(cast(DType::Float16, x.var), cast(DType::Float16, e.var))));
  body.push_back(store(integers, intImm(slot++), cast(DType::Int32, x.var)));
  body.push_back(store(integers, intImm(slot++), cast(DType::Int32, cast(DType::Float16, x.var))));
  body.push_back(store(integers, intImm(slot++), binary(BinOp::Pow, cast(DType::Int32, x.var), intImm(3))));
  body.push_back(store(integers, intImm(slot++), call(Builtin::Abs, {cast(DType::Int32, e.var)}, DType::Int32)));
  body.push_back(store(integers, intImm(slot++), binary(BinOp::Shr, cast(DType::Int32, x.var), intImm(2))));
  kernel.body = seq(body);
  for (int level : {0, 3}) {
    CAPTURE(level);
    TargetOptions target;
    target.optLevel = level;
    Compiled compiled = compile(kernel, target);
    REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
    CHECK(contains(compiled.ptx, "ex2.approx.f32"));
    CHECK_FALSE(contains(compiled.ptx, "lg2.approx"));  // log is computed to ~2 ulp, not approximated
    CHECK(contains(compiled.ptx, "sqrt.rn.f32"));
    CHECK(contains(compiled.ptx, "cvt.rn.bf16.f32"));
    CHECK(isElf(compiled.cubin));
  }
}

// (An older target is sema's error: tests/golden/sema/fail_fp8_cast_sm80.tl.)
TEST_CASE("backend: fp8 casts use sm_89's cvt") {
  Kernel kernel = kernelNamed("fp8_cast");
  Param out = pointer("out", DType::Float8E4M3), x = param("x", ParamKind::Scalar, DType::Float32);
  kernel.params = {out, x};
  kernel.body = store(globalBuffer(out, DType::Float8E4M3, intImm(1)), intImm(0), cast(DType::Float8E4M3, x.var));
  Compiled compiled = compile(kernel);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  CHECK(contains(compiled.ptx, "cvt.rn.satfinite.e4m3x2.f32"));
  CHECK(isElf(compiled.cubin));
}

TEST_CASE("backend: fp8 data is copied as bytes") {
  Kernel kernel = kernelNamed("fp8_copy");
  Param a = pointer("a", DType::Float8E5M2), b = pointer("b", DType::Float8E5M2);
  kernel.params = {a, b};
  kernel.body = store(globalBuffer(b, DType::Float8E5M2, intImm(128)), threadIdx(),
                      load(globalBuffer(a, DType::Float8E5M2, intImm(128)), threadIdx()));
  Compiled compiled = compile(kernel);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  CHECK(contains(compiled.ptx, "ld.global.u8"));
  CHECK(isElf(compiled.cubin));
}

TEST_CASE("backend: older archs LLVM 19 knows compile to their own target") {
  for (const char* arch : {"sm_90", "sm_80"}) {
    CAPTURE(arch);
    TargetOptions target;
    target.arch = arch;
    Compiled compiled = compile(vectorizedCopy(), target);
    REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
    CHECK(contains(compiled.ptx, std::string(".target ") + arch + "\n"));
    CHECK(isElf(compiled.cubin));
  }
}

TEST_CASE("backend: an arch LLVM 19 does not know is a diagnostic") {
  for (const char* arch : {"sm_100", "compute_90", "gfx90a"}) {
    CAPTURE(arch);
    TargetOptions target;
    target.arch = arch;
    Compiled compiled = compile(vectorizedCopy(), target);
    CHECK(compiled.errors == 1);
    CHECK(contains(compiled.diagnostics, std::string("target '") + arch + "' is not supported"));
  }
}

TEST_CASE("backend: sm_100a is generated as plain sm_90 and retargeted to PTX 8.6") {
  TargetOptions target;
  target.arch = "sm_100a";
  Compiled compiled = compile(vectorizedCopy(), target);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  CHECK(contains(compiled.ptx, ".version 8.6\n.target sm_100a\n"));
  CHECK_FALSE(contains(compiled.ptx, "sm_90"));
  REQUIRE(isElf(compiled.cubin));
  // e_flags (offset 48) hold the SM number in bits 8..15: 100, not 90.
  CHECK(compiled.cubin[49] == 100);
  // The body is LLVM's sm_90 output, byte for byte.
  TargetOptions sm90;
  sm90.arch = "sm_90";
  Compiled base = compile(vectorizedCopy(), sm90);
  REQUIRE(base.errors == 0);
  std::string header90 = ".version 8.5\n.target sm_90\n", header100 = ".version 8.6\n.target sm_100a\n";
  std::string expected = base.ptx;
  expected.replace(expected.find(header90), header90.size(), header100);
  CHECK(compiled.ptx == expected);
}

TEST_CASE("backend: retargetPTX swaps only the header lines") {
  const PTXRoute* route = retargetRouteFor("sm_100a");
  REQUIRE(route != nullptr);
  CHECK(std::string(route->llvmCPU) == "sm_90");
  CHECK(retargetRouteFor("sm_90a") == nullptr);
  CHECK(retargetRouteFor("sm_100") == nullptr);
  std::ostringstream out;
  DiagnosticEngine diags(out);
  std::string ptx = "//\n// Generated by LLVM NVPTX Back-End\n//\n\n.version 8.5\n.target sm_90\n.address_size 64\n"
                    "// .target sm_90 in a comment stays\n.visible .entry k()\n{\n\tret;\n}\n";
  std::string result = retargetPTX(ptx, *route, diags);
  CHECK(result == "//\n// Generated by LLVM NVPTX Back-End\n//\n\n.version 8.6\n.target sm_100a\n.address_size 64\n"
                  "// .target sm_90 in a comment stays\n.visible .entry k()\n{\n\tret;\n}\n");
  CHECK(diags.errorCount() == 0);
}

TEST_CASE("backend: sm_90a-specific instructions are found wherever a statement starts") {
  CHECK_FALSE(findArchSpecificInstruction(".version 8.5\n.target sm_90\n{\n\tbar.sync 0;\n"
                                          "\tcp.async.bulk.tensor.2d.shared::cluster.global.tile::gather4"
                                          ".mbarrier::complete_tx::bytes [%r1], [%rd1, {%r2, %r3, %r4, %r5, %r6}], [%r7];\n}\n"));
  // A comment that names one is not an instruction.
  CHECK_FALSE(findArchSpecificInstruction("\t// wgmma.fence.sync.aligned; is not used\n\tret;\n"));
  CHECK(findArchSpecificInstruction("\twgmma.fence.sync.aligned;\n") == std::optional<std::string>("wgmma.fence.sync.aligned"));
  CHECK(findArchSpecificInstruction("\t@%p1 setmaxnreg.inc.sync.aligned.u32 232;\n") ==
        std::optional<std::string>("setmaxnreg.inc.sync.aligned.u32"));
  // Inline assembly: several statements on a line, inside braces, after a label.
  CHECK(findArchSpecificInstruction("\t{ .reg .pred p; mov.u32 %r1, 0; wgmma.commit_group.sync.aligned; }\n") ==
        std::optional<std::string>("wgmma.commit_group.sync.aligned"));
  CHECK(findArchSpecificInstruction("$L__BB0_1: wgmma.wait_group.sync.aligned 0;\n") ==
        std::optional<std::string>("wgmma.wait_group.sync.aligned"));
}

TEST_CASE("backend: a PTX syntax error is a diagnostic with ptxas's log, naming the module, not a temporary file") {
  std::ostringstream out;
  DiagnosticEngine diags(out);
  std::string ptx = ".version 8.5\n.target sm_90a\n.address_size 64\n"
                    ".visible .entry broken() {\n  this is not ptx;\n  ret;\n}\n";
  std::optional<std::vector<uint8_t>> cubin = assembleCubin(ptx, TargetOptions{}, diags);
  CHECK_FALSE(cubin.has_value());
  CHECK(diags.errorCount() == 1);
  CHECK(contains(out.str(), "ptx assembly failed"));
  CHECK(contains(out.str(), "syntax error"));
  CHECK(contains(out.str(), "tlc.ptx, line 5"));  // the name assembleCubin gives the module
  CHECK_FALSE(contains(out.str(), "/tlc-"));      // the temporary directory is never shown
}

TEST_CASE("backend: a tensor map parameter is a grid constant only with the annotation") {
  std::ostringstream out;
  DiagnosticEngine diags(out);
  std::optional<std::string> annotated = emitGridConstantProbePTX(true, diags);
  REQUIRE(annotated.has_value());
  CHECK(contains(*annotated, ".param .align 64 .b8 grid_constant_probe_param_1[128]"));
  CHECK(contains(*annotated, "cvta.param.u64"));
  CHECK(contains(*annotated, ", grid_constant_probe_param_1;"));  // mov.b64 %rdN, <param>
  CHECK_FALSE(contains(*annotated, "__local_depot"));
  std::optional<std::vector<uint8_t>> cubin = assembleCubin(*annotated, TargetOptions{}, diags);
  REQUIRE_MESSAGE(cubin.has_value(), out.str());
  CHECK(isElf(*cubin));

  // Without it, LLVM copies the parameter into local memory and PTX sees a local
  // address: ptxas accepts that silently, and TMA would read garbage.
  std::optional<std::string> copied = emitGridConstantProbePTX(false, diags);
  REQUIRE(copied.has_value());
  CHECK(contains(*copied, "__local_depot"));
  CHECK(diags.errorCount() == 0);
}

TEST_CASE("backend: two kernels share one module and one dynamic shared array") {
  Module module;
  Kernel first = vectorizedCopy();
  Kernel second = vectorizedCopy();
  second.name = "vector_copy_tail";
  module.kernels = {first, second};
  Compiled compiled = compile(module);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  CHECK(contains(compiled.ptx, ".entry vector_copy("));
  CHECK(contains(compiled.ptx, ".entry vector_copy_tail("));
  CHECK(isElf(compiled.cubin));
}

TEST_CASE("backend: 16-byte vectors of every element width, with vector arithmetic and casts") {
  struct Case { DType dtype; int lanes; };
  for (Case c : {Case{DType::BFloat16, 8}, Case{DType::Float32, 4}, Case{DType::Int8, 16},
                 Case{DType::Float8E4M3, 16}, Case{DType::Float64, 2}, Case{DType::Float16, 8}}) {
    CAPTURE(name(c.dtype));
    Kernel kernel = kernelNamed("vector_ops");
    Param a = pointer("A", c.dtype), b = pointer("B", c.dtype), f = pointer("F", DType::Float32);
    kernel.params = {a, b, f};
    BufferRef source = globalBuffer(a, c.dtype, intImm(1 << 20)), target = globalBuffer(b, c.dtype, intImm(1 << 20));
    BufferRef widened = globalBuffer(f, DType::Float32, intImm(1 << 20));
    ExprRef index = mul(threadIdx(), intImm(c.lanes));
    ExprRef loaded = load(source, index, c.lanes, nullptr, 16);
    std::vector<StmtRef> body;
    if (isStorageOnly(c.dtype)) {
      body.push_back(store(target, index, loaded, nullptr, 16));
    } else {
      // x * 3 + x, the scalar splatted to the vector; then widened to float32.
      ExprRef scaled = add(mul(loaded, cast(c.dtype, intImm(3))), loaded);
      body.push_back(store(target, index, scaled, nullptr, 16));
      body.push_back(store(widened, index, cast(DType::Float32, loaded), nullptr, 4 * c.lanes >= 16 ? 16 : 4 * c.lanes));
    }
    kernel.body = seq(body);
    Compiled compiled = compile(kernel);
    REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
    CHECK(contains(compiled.llvm, "<" + std::to_string(c.lanes) + " x "));
    CHECK((contains(compiled.ptx, "ld.global.v4.") || contains(compiled.ptx, "ld.global.v2.f64")));
    CHECK((contains(compiled.ptx, "st.global.v4.") || contains(compiled.ptx, "st.global.v2.f64")));
    CHECK(isElf(compiled.cubin));
  }
}

TEST_CASE("backend: a cluster shape becomes .reqnctapercluster on that entry only") {
  Module module;
  Kernel clustered = vectorizedCopy();
  clustered.name = "clustered";
  clustered.clusterDims[0] = 2;
  module.kernels = {vectorizedCopy(), clustered};
  Compiled compiled = compile(module);
  REQUIRE_MESSAGE(compiled.errors == 0, compiled.diagnostics);
  CHECK(occurrences(compiled.ptx, ".reqnctapercluster 2, 1, 1") == 1);
  size_t entry = compiled.ptx.find(".entry clustered(");
  REQUIRE(entry != std::string::npos);
  CHECK(compiled.ptx.find(".reqnctapercluster", entry) != std::string::npos);
  CHECK(isElf(compiled.cubin));
}

TEST_CASE("backend: ptxas resource usage comes back as one remark per kernel") {
  std::ostringstream out;
  DiagnosticEngine diags(out);
  diags.setShowRemarks(true);
  Module module;
  module.kernels = {vectorizedCopy()};
  auto llvmModule = generateLLVM(module, TargetOptions{}, diags);
  REQUIRE(llvmModule);
  std::optional<std::string> ptx = emitPTX(*llvmModule, TargetOptions{}, diags);
  REQUIRE(ptx.has_value());
  REQUIRE(assembleCubin(*ptx, TargetOptions{}, diags).has_value());
  CHECK(diags.errorCount() == 0);
  CHECK(contains(out.str(), "remark: kernel 'vector_copy' used "));
  CHECK(contains(out.str(), " registers"));
  CHECK(contains(out.str(), "bytes lmem"));
}
