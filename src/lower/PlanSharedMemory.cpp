// PlanSharedMemory: a bump allocator; every tile lives for the whole kernel.
#include "lower/PlanSharedMemory.h"

namespace tlc {

using namespace ir;

bool planSharedMemory(Kernel& kernel, DiagnosticEngine& diags) {
  constexpr int64_t kAlign = 1024;
  int64_t offset = 0;
  for (const auto& b : kernel.allocations) {
    if (b->scope != MemScope::Shared) continue;
    int64_t numel = 1;
    for (const auto& s : b->shape) numel *= *asConstInt(s);
    // mbarriers need 8 bytes; tiles 1024 (the 128-byte swizzle's period).
    int64_t align = b->isBarrier ? 8 : kAlign;
    offset = (offset + align - 1) / align * align;
    b->sharedOffset = offset;
    offset += (numel * bits(b->dtype) + 7) / 8;
  }
  kernel.dynamicSharedBytes = offset;
  if (offset > kMaxDynamicSharedBytes) {
    diags.error(kernel.range, "kernel '" + kernel.sourceName + "' needs " + std::to_string(offset) +
                                  " bytes of shared memory; a block may use at most " +
                                  std::to_string(kMaxDynamicSharedBytes));
    for (const auto& b : kernel.allocations)
      if (b->scope == MemScope::Shared) diags.note(b->declRange, "'" + b->name + "' declared here");
    return false;
  }
  return true;
}

}  // namespace tlc
