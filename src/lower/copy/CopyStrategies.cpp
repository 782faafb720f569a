// CopyStrategies: the ordered list ChooseCopyPaths walks. A copy goes to the first
// strategy that considers it, has no obstacle and makes a plan, so the preferred
// ways come first: the user's TMA, the cluster copies, the shared -> shared
// transpose, im2col, then for a plain copy TMA, cp.async and, last, SIMT (which
// takes any copy).
#include "lower/copy/CopyStrategy.h"

namespace tlc {

const CopyStrategy& userTmaStrategy();
const CopyStrategy& multicastStrategy();
const CopyStrategy& clusterLoadEachStrategy();
const CopyStrategy& bulkDsmemStrategy();
const CopyStrategy& signalledStoresStrategy();
const CopyStrategy& remoteStoresStrategy();
const CopyStrategy& transposeStrategy();
const CopyStrategy& im2colTmaStrategy();
const CopyStrategy& im2colGatherStrategy();
const CopyStrategy& tmaLoadStrategy();
const CopyStrategy& tmaStoreStrategy();
const CopyStrategy& cpAsyncStrategy();
const CopyStrategy& simtStrategy();

const std::vector<const CopyStrategy*>& copyStrategies() {
  static const std::vector<const CopyStrategy*> ordered = {
      &userTmaStrategy(),          // tma_copy: TMA or an error
      &multicastStrategy(),        // copy_cluster(cluster_mask=): one TMA multicast
      &clusterLoadEachStrategy(),  //   else each block of the mask loads its tile
      &bulkDsmemStrategy(),        // copy_cluster(dst_block=, remote_barrier=): bulk copies
      &signalledStoresStrategy(),  //   else remote stores and a remote arrival
      &remoteStoresStrategy(),     // copy_cluster(dst_block=): remote stores
      &transposeStrategy(),        // transpose(): micro-blocks in registers
      &im2colTmaStrategy(),        // im2col: TMA's im2col mode
      &im2colGatherStrategy(),     //   else a cp.async / SIMT gather
      &tmaLoadStrategy(),          // global -> shared by TMA
      &tmaStoreStrategy(),         // shared -> global by TMA
      &cpAsyncStrategy(),          // global -> shared by cp.async
      &simtStrategy(),             // any copy, element by element
  };
  return ordered;
}

const CopyStrategy& copyStrategyNamed(const std::string& name) {
  for (const CopyStrategy* s : copyStrategies())
    if (name == s->name()) return *s;
  TLC_ASSERT(false, "no copy strategy named '" + name + "'");
  return simtStrategy();
}

std::shared_ptr<const ir::CopyPlan> CopyStrategy::plan(const ir::CopyOp&, const CopySite&, std::string&) const {
  return std::make_shared<ir::CopyPlan>(name());
}

}  // namespace tlc
