// TargetChecks: which operations need what the target has.
//
// A construct the target lacks is an error at its call, naming the construct, the
// hardware it needs and the target (`tma_copy needs sm_90 or newer (TMA ...); this
// build targets sm_80`), so no later phase meets an instruction it cannot emit.
// Copies that may take TMA but need not (copy, im2col, Pipelined loads) are not
// listed: lowering picks a route the target has (src/lower/copy/).
#include "sema/Analyzer.h"

namespace tlc::sema {

namespace {
struct OperationNeed {
  const char* callee;
  TargetFeature feature;
};
// The operations whose every lowering uses the feature.
constexpr OperationNeed kOperationNeeds[] = {
    {"tma_copy", TargetFeature::Tma},
    {"tma_load", TargetFeature::Tma},
    {"tma_store", TargetFeature::Tma},
    {"prefetch_tma_descriptor", TargetFeature::Tma},
    {"tma_descriptor", TargetFeature::Tma},
    {"mbarrier_expect_tx", TargetFeature::Tma},
    {"mbarrier_wait_parity", TargetFeature::MbarrierTryWait},
    {"alloc_barrier", TargetFeature::MbarrierTryWait},
    {"barrier_arrive", TargetFeature::MbarrierTryWait},
    {"mbarrier_arrive", TargetFeature::MbarrierTryWait},
    {"barrier_wait", TargetFeature::MbarrierTryWait},
    {"tma_store_arrive", TargetFeature::BulkCopy},
    {"tma_store_wait", TargetFeature::BulkCopy},
    {"copy_cluster", TargetFeature::Clusters},
    {"cluster_sync", TargetFeature::Clusters},
    {"cluster_arrive", TargetFeature::Clusters},
    {"alloc_cluster_barrier", TargetFeature::Clusters},
    {"cluster_wait", TargetFeature::Clusters},
    {"block_rank_in_cluster", TargetFeature::Clusters},
    // cp.async by name: async_copy promises cp.async (the user commits and waits), and
    // the low-level forms are its instructions. copy(..., prefer_instruction="cp_async")
    // is a preference: on a target without it the copy is SIMT and the remark says why.
    {"async_copy", TargetFeature::CpAsync},
    {"cp_async_gs", TargetFeature::CpAsync},
    {"cp_async_gs_conditional", TargetFeature::CpAsync},
    {"cp_async_shared_global", TargetFeature::CpAsync},
    {"cp_async_commit", TargetFeature::CpAsync},
    {"cp_async_wait", TargetFeature::CpAsync},
    {"ptx_commit_group", TargetFeature::CpAsync},
    {"ptx_wait_group", TargetFeature::CpAsync},
};

int minimumSm(TargetFeature f) {
  // The oldest row of Targets.def that has it.
  for (const std::string& arch : Target::supportedArchs())
    if (Target::fromArch(arch)->has(f)) return Target::fromArch(arch)->smVersion();
  return 0;
}
}  // namespace

std::string Analyzer::targetLacks(TargetFeature f, const std::string& what) const {
  if (target_.has(f)) return "";
  return what + " needs sm_" + std::to_string(minimumSm(f)) + " or newer (" + tlc::describe(f) + "); this build targets " +
         target_.arch();
}

void Analyzer::requireTargetFor(const ast::Call& c, const std::string& callee) {
  for (const OperationNeed& need : kOperationNeeds)
    if (callee == need.callee)
      if (std::string why = targetLacks(need.feature, callee); !why.empty()) fail(c.callee->range, why);
}

EvictionPolicy Analyzer::evictionPolicyArg(const ast::Expr& value) {
  EvictionPolicy policy = *evictionPolicyNamed(stringArg(value, "eviction_policy", evictionPolicySpellings()));
  if (policy == EvictionPolicy::Normal || target_.has(TargetFeature::L2CacheHint)) return policy;
  // A hint, not a meaning: the copy is correct without it, so a build for an older
  // target (one of several --arch) still compiles; ptxas would refuse the instructions.
  warning(Warning::EvictionPolicy, value.range,
          std::string("eviction_policy=\"") + name(policy) + "\" not honoured: " + target_.lacks(TargetFeature::L2CacheHint) +
              "; the copy's accesses carry no L2 policy");
  return EvictionPolicy::Normal;
}

}  // namespace tlc::sema
