// Gather4: Blackwell's four-row TMA copies, `tma_gather4`, `tma_scatter4` and
// `tma_gather4_bytes` (--arch=sm_100a only; an error naming the target elsewhere).
#include "sema/Analyzer.h"

namespace tlc::sema {

void Analyzer::requireBlackwell(const ast::Call& c, const std::string& callee) {
  if (options_.arch == "sm_100a") return;
  fail(c.callee->range, callee + " needs --arch=sm_100a (Blackwell); this build targets " + options_.arch);
}

// The bytes one gather4 moves: four rows of K_box elements. A compile-time integer,
// so that it can feed mbarrier_expect_tx and consts alike.
ExprRef Analyzer::gather4Bytes(const ast::Call& c) {
  requireBlackwell(c, "tma_gather4_bytes");
  checkKeywords(c, "tma_gather4_bytes", {});
  if (c.args.size() != 2) fail(c.range, "tma_gather4_bytes takes (K_box, dtype)");
  int64_t box = constIntArg(*c.args[0], "K_box");
  DType dtype = dtypeArg(*c.args[1]);
  checkGather4Box(box, dtype, c.args[0]->range, c.args[1]->range);
  return intImm(4 * box * (bits(dtype) / 8));
}

// What a tile::gather4 / scatter4 box row must be: 1 to 256 elements of a type TMA
// moves, a multiple of 16 bytes (cuTensorMapEncodeTiled's rule for boxDim[0]).
void Analyzer::checkGather4Box(int64_t box, DType dtype, SourceRange r, SourceRange dtypeRange) {
  if (bits(dtype) < 8 || dtype == DType::Bool || dtype == DType::Handle)
    fail(dtypeRange, std::string("tile::gather4 cannot move ") + name(dtype));
  if (box < 1 || box > 256) fail(r, "a gather4 row (K_box) has 1 to 256 elements, not " + std::to_string(box));
  int64_t rowBytes = box * (bits(dtype) / 8);
  if (rowBytes % 16 != 0)
    fail(r, "a gather4 row is " + std::to_string(box) + " x " + std::to_string(bits(dtype) / 8) + " = " +
                std::to_string(rowBytes) + " bytes; TMA needs a multiple of 16");
}

}  // namespace tlc::sema
