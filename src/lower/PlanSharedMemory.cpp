// PlanSharedMemory: a bump allocator; every tile lives for the whole kernel, and a
// view of a tile shares its bytes.
#include "lower/PlanSharedMemory.h"

namespace tlc {

using namespace ir;

bool planSharedMemory(Kernel& kernel, const Target& target, DiagnosticEngine& diags) {
  constexpr int64_t kAlign = 1024;
  int64_t offset = 0;
  for (const auto& b : kernel.allocations) {
    if (b->scope != MemScope::Shared || b->viewOf) continue;
    int64_t numel = sharedStorageElems(*b);
    // mbarriers need 8 bytes; tiles 1024 (the 128-byte swizzle's period).
    int64_t align = b->isBarrier ? 8 : kAlign;
    offset = (offset + align - 1) / align * align;
    b->sharedOffset = offset;
    int64_t bytes = (numel * bits(b->dtype) + 7) / 8;
    // A TMA swizzle permutes 16-byte chunks inside each 128-byte line: the last
    // line is whole.
    if (b->sharedLayout.swizzleBytes) bytes = (bytes + 127) / 128 * 128;
    offset += bytes;
  }
  // A view owns no memory: it starts where its tile does (sema: it holds exactly the
  // tile's bytes).
  for (const auto& b : kernel.allocations)
    if (b->viewOf) b->sharedOffset = b->viewOf->sharedOffset;
  kernel.dynamicSharedBytes = offset;
  const int64_t limit = target.maxSharedBytesPerBlock();
  if (offset > limit) {
    diags.error(kernel.range, "kernel '" + kernel.sourceName + "' needs " + std::to_string(offset) +
                                  " bytes of shared memory; a block may use at most " + std::to_string(limit) +
                                  (target.arch() == Target::hopper().arch() ? "" : " on " + target.arch()));
    for (const auto& b : kernel.allocations) {
      if (b->scope != MemScope::Shared || b->viewOf) continue;
      if (b->copyBarriers)
        diags.note(kernel.range, std::to_string(8 * *asConstInt(b->shape[0])) +
                                     " bytes of them are the mbarriers of the kernel's TMA loads");
      else
        diags.note(b->declRange, "'" + b->name + "' declared here");
    }
    return false;
  }
  return true;
}

}  // namespace tlc
