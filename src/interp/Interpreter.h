// Interpreter: runs one loop-IR kernel on the host, so that lowering bugs show on
// a machine without a GPU (tests compare every output element with a reference).
//
// Contract of run():
// Before: `kernel` is loop IR (after tlc::lower: one flat index per access, no tile
//   operations); `args` gives every parameter a value: Pointer params a HostBuffer
//   (a table of pointers: an int64 one whose elements become the simulated addresses
//   of the buffers it lists), Dim params an int32, Scalar params a number. TensorMap params need no value:
//   they are encoded from their TensorMapInfo and the other arguments, as the
//   generated launcher encodes them (backend/Header.cpp).
// After: every block of the grid (Kernel::grid evaluated on the arguments) has run
//   with Kernel::threads threads, blocks one after another, unless an error stopped
//   the run: Result::ok says whether it ran to the end without one, Result::errors
//   says what went wrong, naming the block, the thread and the source line. Errors
//   are: an argument that breaks the variant's assumptions or requirements (the
//   launcher would not run this variant), a tensor map the driver would refuse, an
//   out-of-bounds or misaligned global/shared/local access, a division by zero, an
//   out-of-range shift, a sync_threads that not every thread reaches (or that
//   threads reach at different places), an mbarrier wait that can never complete
//   (deadlock), mbarrier misuse, and constructs the interpreter does not model
//   (gather4/scatter4 TMA, float64 transcendental functions, float4_e2m1fn element
//   addresses, clusters of more than 16 blocks), and a run past
//   Options::maxStatements. The process is never aborted and never hangs; the host
//   buffers hold whatever the kernel wrote before it stopped.
//
// The model: clusters run one after another (a block is a cluster of one); in a
// cluster, one GPU thread runs at a time, until it blocks (sync_threads,
// cluster_sync, an mbarrier wait that is not ready) or exits, then the next
// runnable thread in `Options::order` (block rank-major) goes on; after a barrier
// releases its threads, the first in that order goes on. Remote arrivals,
// shared-to-shared bulk copies, stores to another block's tile and TMA multicasts
// reach the cluster's other blocks, whose shared memory lives until the whole
// cluster has finished. The run is
// deterministic (one host thread), and a kernel whose result depends on the thread
// order (a missing barrier) shows it when run in both orders. Shared memory and Local
// arrays start poisoned (0xA5 bytes) so that reads of never-written data show.
// Asynchronous copies (cp.async, TMA loads) land when they must at the latest
// (cp.async.wait_group, an mbarrier wait) or, with AsyncCopies::AtIssue, at once:
// the first catches a missing wait, the second an overwrite of a tile still being read.
// TMA stores and shared-to-shared bulk copies are applied when issued.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "ir/IR.h"

namespace tlc::interp {

// A global-memory argument: `elements` elements of `dtype`, bytes little-endian.
struct HostBuffer {
  HostBuffer(ir::DType dtype, int64_t elements);
  ir::DType dtype;
  std::vector<uint8_t> bytes;
  // Added to the buffer's simulated device address (16-byte aligned otherwise): a
  // non-zero value misaligns the pointer, as a sub-tensor's data pointer may be.
  int64_t addressOffset = 0;

  int64_t elements() const;
  // Element `i` as a number, and set from one (rounded as a cast to dtype rounds).
  double get(int64_t i) const;
  void set(int64_t i, double value);
  void fill(uint8_t byte);  // every byte, e.g. 0xA5 to poison an output
};

class Arguments {
 public:
  // The buffer must outlive run(); one buffer may be passed for several parameters.
  void pointer(const std::string& param, HostBuffer& buffer) { pointers_[param] = &buffer; }
  // A table of pointers (Tensor((n,), ptr)): `table` (int64, targets.size() elements)
  // is passed for `param`, and before the launch element i is set to the simulated
  // device address of targets[i] (a null target: address 0), as a host fills a
  // table with data_ptr()s. The targets become device memory like arguments.
  void pointerTable(const std::string& param, HostBuffer& table, std::vector<HostBuffer*> targets) {
    pointers_[param] = &table;
    tables_[param] = std::move(targets);
  }
  const std::map<std::string, std::vector<HostBuffer*>>& pointerTables() const { return tables_; }
  void dim(const std::string& param, int32_t value) { dims_[param] = value; }
  void scalar(const std::string& param, double value) { scalars_[param] = value; }

  HostBuffer* pointer(const std::string& param) const;
  const int32_t* dim(const std::string& param) const;
  const double* scalar(const std::string& param) const;

 private:
  std::map<std::string, HostBuffer*> pointers_;
  std::map<std::string, std::vector<HostBuffer*>> tables_;
  std::map<std::string, int32_t> dims_;
  std::map<std::string, double> scalars_;
};

enum class ThreadOrder { Ascending, Descending };
enum class AsyncCopies { AtWait, AtIssue };

struct Options {
  ThreadOrder order = ThreadOrder::Ascending;
  AsyncCopies asyncCopies = AsyncCopies::AtWait;
  int64_t maxStatements = 200'000'000;  // statements entered by all threads (about a minute); beyond: an error
  // Where print(...) writes its lines (the GPU's vprintf format: "[block (0, 0, 0)
  // thread 5] msg x = 1.5"); null: nowhere. Lines come in the order the simulated
  // threads run them.
  std::ostream* printOut = nullptr;
};

struct Result {
  bool ok = true;
  std::vector<std::string> errors;
  int64_t blocksRun = 0;
  std::string text() const;  // the errors, one a line
};

Result run(const ir::Kernel& kernel, const Arguments& args, const Options& options = {});

// Whether `args` satisfy the variant's Kernel::assumptions (the launcher's choice of
// variant); run() reports an error for a variant whose assumptions do not hold.
bool assumptionsHold(const ir::Kernel& kernel, const Arguments& args);

}  // namespace tlc::interp
