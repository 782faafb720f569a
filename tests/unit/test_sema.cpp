// Unit tests for semantic analysis: the extent rule as pure functions, and small
// programs analyzed end to end (tile IR shape, diagnostics order, notes).
#include <doctest/doctest.h>

#include <sstream>

#include "frontend/Parser.h"
#include "sema/Regions.h"
#include "sema/Sema.h"

using namespace tlc;

namespace {

using Extents = std::vector<int64_t>;

struct Analyzed {
  std::unique_ptr<ir::Module> module;
  std::vector<Diagnostic> diagnostics;
  std::string rendered;
};

Analyzed analyzeText(const std::string& text, std::vector<Define> defines = {}) {
  SourceFile source("t.tl", text);
  std::ostringstream sink;
  DiagnosticEngine diags(sink);
  diags.setFile(&source);
  diags.setErrorLimit(0);
  Analyzed result;
  auto file = parseFile(source, diags);
  REQUIRE(file);
  REQUIRE(!diags.hasErrors());
  result.module = analyze(*file, SemaOptions{defines, Target::hopper()}, diags);
  result.diagnostics = diags.all();
  result.rendered = sink.str();
  return result;
}

const ir::CopyOp& firstCopy(const ir::Module& m) {
  for (const auto& s : m.kernels.at(0).body->as<ir::SeqStmt>().stmts)
    if (s->kind == ir::StmtKind::Copy) return s->as<ir::CopyOp>();
  FAIL("no copy");
  throw 0;
}

}  // namespace

TEST_CASE("extent rule: right-align, drop unit dimensions, equal") {
  CHECK(sema::extentsAgree(Extents{1, 64, 128}, Extents{64, 128}));
  CHECK(sema::extentsAgree(Extents{64, 1, 128}, Extents{64, 128, 1}));
  CHECK(sema::extentsAgree(Extents{1}, Extents{1, 1}));
  CHECK_FALSE(sema::extentsAgree(Extents{4, 8}, Extents{4, 16}));
  CHECK_FALSE(sema::extentsAgree(Extents{8, 4}, Extents{4, 8}));  // order matters: no transposition
  CHECK_FALSE(sema::extentsAgree(Extents{64}, Extents{2, 32}));   // no reshaping
  CHECK(sema::nonUnitExtents(Extents{1, 4, 1, 8}) == Extents{4, 8});
  CHECK(sema::extentsText(Extents{8}) == "(8,)");
  CHECK(sema::extentsText(Extents{4, 16}) == "(4, 16)");
}

TEST_CASE("head address extents") {
  // More axes than the other side: padded with leading 1s.
  CHECK(*sema::headExtents(3, Extents{64, 128}) == Extents{1, 64, 128});
  // Same rank: taken as is.
  CHECK(*sema::headExtents(2, Extents{64, 1}) == Extents{64, 1});
  // Fewer axes: surplus leading unit axes go first ...
  CHECK(*sema::headExtents(2, Extents{1, 64, 128}) == Extents{64, 128});
  // ... else the unit axes are dropped, then right-aligned.
  CHECK(*sema::headExtents(1, Extents{64, 1}) == Extents{64});
  CHECK(*sema::headExtents(2, Extents{64, 1, 32}) == Extents{64, 32});
  CHECK(*sema::headExtents(3, Extents{1, 1, 1, 1}) == Extents{1, 1, 1});
  // The non-unit extents need more axes than the head has.
  CHECK_FALSE(sema::headExtents(1, Extents{64, 64}).has_value());
}

TEST_CASE("region helper extents (TileLang's buffer_load_to_tile_region, buffer_region_to_tile_region)") {
  // Fewer extents than indices: leading 1s.
  CHECK(*sema::loadRegionExtents(3, Extents{64, 64}) == Extents{1, 64, 64});
  CHECK(*sema::loadRegionExtents(2, Extents{8, 16}) == Extents{8, 16});
  CHECK(*sema::loadRegionExtents(2, Extents{}) == Extents{1, 1});
  CHECK_FALSE(sema::loadRegionExtents(2, Extents{1, 64, 64}).has_value());
  // Clamped from the first axis; axes past the extents given keep the region's.
  using Opt = std::vector<std::optional<int64_t>>;
  CHECK(*sema::clampedRegionExtents(Opt{64, 64}, Extents{32}) == Opt{32, 64});
  CHECK(*sema::clampedRegionExtents(Opt{16, 64}, Extents{64, 128}) == Opt{16, 64});
  CHECK(*sema::clampedRegionExtents(Opt{std::nullopt, 8}, Extents{4, 4}) == Opt{std::nullopt, 4});
  CHECK_FALSE(sema::clampedRegionExtents(Opt{64, 64}, Extents{1, 64, 64}).has_value());
}

TEST_CASE("copy regions carry access types and settled extents") {
  auto r = analyzeText(R"(
kernel k(A: Tensor((K, M, N), float16)) {
  with Kernel(1, threads=128) as (bx) {
    s = alloc_shared((64, 128), float16);
    copy(A[2, bx * 64, 0], s);
  }
}
)");
  REQUIRE(r.module);
  const auto& c = firstCopy(*r.module);
  CHECK(c.src.access == ir::Access::Read);
  CHECK(c.dst.access == ir::Access::Write);
  CHECK(c.src.extents == Extents{1, 64, 128});
  CHECK(c.dst.extents == Extents{64, 128});
}

TEST_CASE("prefer_instruction and annotations are recorded") {
  auto r = analyzeText(R"(
kernel k(A: Tensor((M, N), float16)) {
  with Kernel(1, threads=128) as (bx) {
    s = alloc_shared((64, 64), float16);
    copy(A[0, 0], s, prefer_instruction="cp_async", eviction_policy="evict_first",
         annotations={"prefer_instruction": "tma"});
  }
}
)");
  REQUIRE(r.module);
  const auto& c = firstCopy(*r.module);
  CHECK(c.options.prefer == ir::PreferInstruction::Tma);  // the annotation wins
  CHECK(c.options.eviction == ir::EvictionPolicy::First);
}

TEST_CASE("a dimension named before its int32 scalar parameter is that parameter") {
  auto r = analyzeText(R"(
kernel k(V: Tensor((n,), float32), n: int32) {
  with Kernel(1, threads=32) as (bx) {
    V[0] = 1.0;
  }
}
)");
  REQUIRE(r.module);
  const auto& params = r.module->kernels[0].params;
  REQUIRE(params.size() == 2);
  CHECK(params[0].name == "V");
  CHECK(params[1].name == "n");
  CHECK(params[1].kind == ir::ParamKind::Scalar);
}

TEST_CASE("diagnostics come in source order; a macro's mistake once, with its expansion") {
  auto r = analyzeText(R"(
macro bad(t: SharedBuffer((8,), float32)) {
  t[8] = 1.0;
}
kernel k(A: Tensor((N,), float32)) {
  with Kernel(1, threads=32) as (bx) {
    s = alloc_shared((8,), float32);
    A[0] = undefined;
    bad(s);
    bad(s);
  }
}
)");
  CHECK_FALSE(r.module);
  std::vector<std::pair<Severity, uint32_t>> seen;
  for (const auto& d : r.diagnostics) seen.push_back({d.severity, d.range.begin.line});
  std::vector<std::pair<Severity, uint32_t>> expected = {
      {Severity::Error, 3},  // t[8], inside the macro
      {Severity::Note, 7},   // 's' declared here
      {Severity::Note, 9},   // in the expansion of macro 'bad' here (the first call; the second repeats it)
      {Severity::Error, 8},  // undefined
  };
  CHECK(seen == expected);
}

TEST_CASE("ptr storage scope and Buffer align") {
  auto ok = analyzeText(R"(
kernel k(p: ptr(float32, "global"), B: Buffer((N,), float16, align=32)) {
  with Kernel(1, threads=32) as (bx) {
    X = make_tensor(p, (N,), float32);
    X[0] = 1.0;
  }
}
)");
  CHECK(ok.module);
  auto bad = analyzeText(R"(
kernel k(p: ptr(float32, storage_scope="shared")) {
  with Kernel(1, threads=32) as (bx) { }
}
)");
  CHECK_FALSE(bad.module);
  CHECK(bad.rendered.find("its storage_scope must be \"global\"") != std::string::npos);
}
