// GuardGlobalAccesses and the verifier's check of it: what the prover proves (and
// so leaves unguarded), what it guards, and that verifyLoopIR refuses a global
// access that is neither proven nor guarded (an internal error: the process aborts,
// so the check runs in a forked child).
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

#include "LowerForTest.h"
#include "frontend/Parser.h"
#include "ir/Rewrite.h"
#include "ir/Target.h"
#include "lower/GuardGlobalAccesses.h"
#include "lower/Lower.h"
#include "sema/Sema.h"

using namespace tlc;
using namespace tlc::ir;

namespace {

std::unique_ptr<Module> lowered(const std::string& text) { return test::lowerForTest(text); }

std::string printed(const Kernel& k) {
  std::ostringstream os;
  print(k, os);
  return os.str();
}

// The kernel's one statement that stores into `buffer`, printed.
std::string storeLine(const Kernel& k, const std::string& buffer) {
  std::istringstream lines(printed(k));
  std::string line, found;
  while (std::getline(lines, line))
    if (line.find(buffer + "[") != std::string::npos && line.find("] = ") != std::string::npos &&
        line.find(buffer + "[") < line.find("] = "))
      found = line;
  return found;
}

// A 1-D kernel reading A at `index` (any expression over i, bx, n, k) into Y[i]
// under `guard` (a condition, or "True"), Y's index proven by its own if.
std::string oneRead(const std::string& index, const std::string& guard = "True") {
  return "kernel k(A: Tensor((n,), float32), Y: Tensor((n,), float32), k: int32) {\n"
         "  with Kernel(ceildiv(n, 128), threads=128) as (bx) {\n"
         "    i = bx * 128 + get_thread_binding();\n"
         "    if (i < n) {\n"
         "      if (" + guard + ") {\n"
         "        Y[i] = A[" + index + "];\n"
         "      }\n"
         "    }\n"
         "  }\n"
         "}\n";
}

std::string readOf(const std::string& index, const std::string& guard = "True") {
  auto m = lowered(oneRead(index, guard));
  REQUIRE(m->kernels.size() == 1);
  return storeLine(m->kernels[0], "Y");
}

bool guarded(const std::string& line) { return line.find("] if (") != std::string::npos; }

}  // namespace

// Runs `body` in a forked child whose internal errors go to a file; returns what it
// wrote and whether it died of a signal (internalError aborts).
static std::pair<std::string, bool> inChild(const std::function<void(DiagnosticEngine&)>& body) {
  char path[] = "/tmp/tlc_guard_child_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::fflush(nullptr);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGABRT, SIG_DFL);  // not doctest's handler: the child only aborts
    std::ofstream out(path);
    DiagnosticEngine diags(out);
    body(diags);
    out.flush();  // _exit skips the stream's destructor
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(path);
  return {text.str(), WIFSIGNALED(status)};
}

TEST_CASE("guards: what the prover proves") {
  // The enclosing if (i < n), blockIdx and threadIdx non-negative.
  CHECK_FALSE(guarded(readOf("i")));
  // A constant step back from a proven index, inside a condition that covers it.
  CHECK_FALSE(guarded(readOf("i - 1", "i >= 1")));
  // min() with the last element, a select on the index itself.
  CHECK_FALSE(guarded(readOf("min(i + 1, n - 1)")));
  CHECK_FALSE(guarded(readOf("if_then_else(i + 1 < n, i + 1, i)")));
  // A remainder by a constant is in [0, k).
  CHECK_FALSE(guarded(readOf("i % 64", "n >= 64")));
}

TEST_CASE("guards: what the prover guards") {
  // Past the end: nothing bounds i + 1 by n.
  std::string next = readOf("i + 1");
  CHECK(next.find("if (((i + 1) < n)) else 0") == std::string::npos);  // one bound, not wrapped twice
  CHECK(next.find("A[cast<int64>((i + 1))] if ((i + 1) < n) else 0") != std::string::npos);
  // Before the start.
  CHECK(readOf("i - 1").find("if ((i + -1) >= 0) else 0") != std::string::npos);
  // An index read from memory: both bounds.
  CHECK(readOf("cast(A[i], int32)").find(">= 0) and") != std::string::npos);
  // A scalar parameter with no range.
  CHECK(readOf("k").find("if ((k >= 0) and (k < n)) else 0") != std::string::npos);
  // A condition on something else proves nothing about the index.
  CHECK(guarded(readOf("i + 1", "k < n")));
  // Sound but incomplete: i // 2 <= i is not known to the prover, so this read
  // keeps a guard that never fails.
  CHECK(readOf("i // 2").find("if ((i >> 1) < n) else 0") != std::string::npos);
}

TEST_CASE("guards: a grid of ceildiv(E, T) proves blockIdx * T + [0, T) < E only where E % T == 0 is assumed") {
  const std::string source =
      "kernel s(X: Tensor((M, N), float32), C: Tensor((N,), float32), Y: Tensor((M, N), float32)) {\n"
      "  with Kernel(ceildiv(N, 4), ceildiv(M, 32), threads=128) as (bx, by) {\n"
      "    x = alloc_fragment((32, 4), float32);\n"
      "    copy(X[by * 32, bx * 4], x);\n"
      "    for i, j in Parallel(32, 4) { x[i, j] = x[i, j] * C[bx * 4 + j]; }\n"
      "    copy(x, Y[by * 32, bx * 4]);\n"
      "  }\n"
      "}\n";
  auto m = lowered(source);
  REQUIRE(m->kernels.size() == 2);
  std::string aligned = printed(m->kernels[0]), general = printed(m->kernels[1]);
  CHECK(aligned.find("assume N % 4 == 0") != std::string::npos);
  CHECK(aligned.find(" < N) else 0)  @5") == std::string::npos);  // C's read: proven
  CHECK(general.find(" < N) else 0)  @5") != std::string::npos);  // C's read: guarded
}

TEST_CASE("guards: every global access of the loop IR is marked, and the verifier accepts it") {
  // A gather: the guard of A[A[i]] reads A[i] itself, which is flattened like any load.
  for (const char* index : {"i + 1", "cast(A[i], int32)"}) {
    CAPTURE(index);
    auto m = lowered(oneRead(index));
    std::ostringstream sink;
    DiagnosticEngine diags(sink);
    for (const Kernel& k : m->kernels) verifyLoopIR(k, diags);
    CHECK(sink.str().empty());
  }
}

TEST_CASE("guards: a tile index wholly outside its extent at lowering is an error at the access") {
  // Loop IR (before flattening) a lowering bug could make: a local of 4 elements
  // written at 4 + (threadIdx.x & 3), every value past its end.
  Kernel k;
  k.name = k.sourceName = "bad";
  k.threads = 128;
  for (auto& g : k.grid) g = intImm(1);
  auto local = std::make_shared<Buffer>();
  local->name = "r";
  local->dtype = DType::Float32;
  local->scope = MemScope::Local;
  local->shape = {intImm(4)};
  local->strides = {intImm(1)};
  k.allocations = {local};
  ExprRef index = add(intImm(4), binary(BinOp::BitAnd, call(Builtin::ThreadIdx, {}, DType::Int32), intImm(3)));
  k.body = std::make_shared<StoreStmt>(SourceRange{}, local, std::vector<ExprRef>{index}, floatImm(1.0));
  auto [text, died] = inChild([&](DiagnosticEngine& diags) { guardGlobalAccesses(k, diags); });
  // An error at the access, not an internal one: a variable the user bound to a
  // constant reaches this check the same way (fail_local_index_through_variable.tl).
  CHECK_FALSE(died);
  CHECK(text.find("error: local 'r' is indexed at (4 + (threadIdx.x & 3)), which is always 4..7, outside its extent 4") !=
        std::string::npos);
  // In bounds: nothing reported.
  k.body = std::make_shared<StoreStmt>(SourceRange{}, local, std::vector<ExprRef>{sub(index, intImm(4))}, floatImm(1.0));
  auto [quiet, quietDied] = inChild([&](DiagnosticEngine& diags) { guardGlobalAccesses(k, diags); });
  CHECK_FALSE(quietDied);
  CHECK(quiet.empty());
}

TEST_CASE("guards: verifyLoopIR refuses a global load that is neither proven nor guarded (an internal error)") {
  // The lowered kernel with its global loads' marks removed: what a pass added
  // after GuardGlobalAccesses, or a forgotten guard, would look like.
  auto m = lowered(oneRead("i + 1"));
  Kernel& k = m->kernels[0];
  int unmarked = 0;
  RewriteHooks hooks;
  hooks.load = [&](const LoadNode& l, std::vector<ExprRef> idx) -> ExprRef {
    if (l.buffer->scope != MemScope::Global) return nullptr;
    auto n = std::make_shared<LoadNode>(l.buffer, idx, l.dtype, l.lanes);  // no predicate, no mark
    ++unmarked;
    return n;
  };
  k.body = rewriteStmt(k.body, {}, hooks);
  REQUIRE(unmarked == 1);
  auto [text, died] = inChild([&](DiagnosticEngine& diags) { verifyLoopIR(k, diags); });
  CHECK(died);
  CHECK(text.find("internal compiler error: loop IR: load from global 'A' is neither proven in bounds nor guarded") !=
        std::string::npos);
}
