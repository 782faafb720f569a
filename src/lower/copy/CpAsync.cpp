// CpAsync: a global -> shared copy by the block's threads with cp.async (4, 8 or 16
// bytes per instruction, zero-filled past the tensor's end), committed and waited
// for like a synchronous copy (async_copy: committed, the wait is the user's).
// The default for a load that is not pipelined (measured faster than TMA there,
// docs/performance.md). Where the access width it can prove is not 4, 8 or 16
// bytes, the copy is a SIMT loop and the remark says why.
#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"
#include "lower/copy/TmaConstraints.h"

namespace tlc {

using namespace ir;

namespace {

class CpAsync final : public CopyStrategy {
 public:
  const char* name() const override { return "CpAsync"; }
  const char* label() const override { return "cp.async"; }
  bool considers(const CopyOp& c) const override {
    return !c.transpose && !c.im2col && !c.clusterMask && !c.dstBlock && !c.options.tmaCopy &&
           c.src.buffer->scope == MemScope::Global && c.dst.buffer->scope == MemScope::Shared &&
           c.src.buffer->dtype == c.dst.buffer->dtype;
  }
  std::string obstacle(const CopyOp& c, const CopySite& site) const override {
    if (!site.target.has(TargetFeature::CpAsync)) return site.target.lacks(TargetFeature::CpAsync);
    bool requested = c.options.prefer == PreferInstruction::CpAsync || c.options.async;
    if (c.options.prefer == PreferInstruction::Sync) return "prefer_instruction=\"sync\"";
    if (c.options.disableTma && !requested) return "disable_tma is set";
    if (std::string why = zeroFillObstacle(c); !why.empty()) return why;
    // cp.async carries no L2 hint (withEvictionNotApplied); a SIMT loop's hinted
    // loads do, so an eviction_policy goes there unless cp.async was asked for.
    if (c.options.eviction != EvictionPolicy::Normal && !requested)
      return std::string("eviction_policy=\"") + ir::name(c.options.eviction) +
             "\" asks for an L2 hint, which cp.async cannot carry (a SIMT loop's ld.global.L2::cache_hint does)";
    // The general variant of a copy the fast one gives TMA (a pipelined load, or
    // prefer_instruction="tma") is a SIMT loop.
    if (!site.allowTma && !requested && site.target.has(TargetFeature::Tma) &&
        (c.options.prefer == PreferInstruction::Tma || site.pipelined) && tmaObstacle(c).empty() && site.uniform &&
        !c.options.layout)
      return "the general variant copies what the fast one loads by TMA with plain loads";
    return "";
  }
  CopyPath path(const CopyOp&, const CopySite&) const override { return CopyPath::CpAsync; }
  StmtRef lower(const CopyOp& c, CopyLowering& lowering) const override { return lowering.elementwiseCopy(c); }
};

}  // namespace

const CopyStrategy& cpAsyncStrategy() {
  static const CpAsync strategy;
  return strategy;
}

}  // namespace tlc
