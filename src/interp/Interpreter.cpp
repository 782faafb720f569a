// Interpreter: the loop IR run on the host (contract in Interpreter.h).
//
// One KernelRun per run(): the arguments as simulated device memory (each host
// buffer at its own fake address), parameter values, encoded tensor maps. One
// Cluster per cluster of the grid (one block without clusters): each block's shared
// memory and mbarriers, the pending TMA loads and the threads. A simulated thread is resumable: its position is a stack
// of frames (the Seq child, the loop counter, the If taken), so it can stop at a
// sync_threads or an mbarrier wait and go on later. The block's scheduler runs one
// thread at a time until it blocks or exits, then the next runnable one in the
// schedule order: a deterministic run on one host thread, and a deadlock is seen
// the moment no thread can go on. Executor evaluates one thread's statements and
// expressions with the meaning backend/Codegen.cpp gives them on the GPU.
#include "interp/Interpreter.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "interp/Numerics.h"

namespace tlc::interp {

// ------------------------------------------------------------ host buffers

HostBuffer::HostBuffer(ir::DType dtype, int64_t elements)
    : dtype(dtype), bytes(size_t(std::max<int64_t>(elements, 0) * std::max(elementBytes(dtype), 1)), 0) {}

int64_t HostBuffer::elements() const { return int64_t(bytes.size()) / std::max(elementBytes(dtype), 1); }

double HostBuffer::get(int64_t i) const {
  Scalar s = loadScalar(&bytes.at(size_t(i * elementBytes(dtype))), dtype);
  return holdsFloat(dtype) ? s.f : ir::isStorageOnly(dtype) ? decodeStorageFloat(s.i, dtype)
                             : ir::isSigned(dtype) ? double(s.i) : double(uint64_t(s.i));
}

void HostBuffer::set(int64_t i, double value) {
  storeScalar(&bytes.at(size_t(i * elementBytes(dtype))), convertScalar(floatScalar(value), ir::DType::Float64, dtype),
              dtype);
}

void HostBuffer::fill(uint8_t byte) { std::fill(bytes.begin(), bytes.end(), byte); }

HostBuffer* Arguments::pointer(const std::string& param) const {
  auto found = pointers_.find(param);
  return found == pointers_.end() ? nullptr : found->second;
}
const int32_t* Arguments::dim(const std::string& param) const {
  auto found = dims_.find(param);
  return found == dims_.end() ? nullptr : &found->second;
}
const double* Arguments::scalar(const std::string& param) const {
  auto found = scalars_.find(param);
  return found == scalars_.end() ? nullptr : &found->second;
}

std::string Result::text() const {
  std::string out;
  for (const std::string& e : errors) out += e + "\n";
  return out;
}

namespace {

using ir::DType;

constexpr int kMaxLanes = 16;
constexpr uint8_t kPoison = 0xA5;
// Each host buffer sits at its own multiple of this (a fake device address), so an
// address names its buffer and running off one never reaches another.
constexpr uint64_t kAddressSpacing = uint64_t(1) << 40;

// An error in the kernel (or in its arguments): stops the run.
struct Fault {
  std::string message;
  bool blockWide = false;  // a deadlock or a barrier: not one thread's doing
};

[[noreturn]] void fault(const std::string& message) { throw Fault{message, false}; }

std::string lineOf(const SourceRange& r) {
  if (!r.valid()) return "?";
  return std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
}

struct Value {
  DType dtype = DType::Int32;
  int lanes = 1;
  std::array<Scalar, kMaxLanes> lane;
};

Value scalarValue(DType t, Scalar s) {
  Value v;
  v.dtype = t;
  v.lane[0] = s;
  return v;
}

Value convertValue(const Value& v, DType to) {
  if (v.dtype == to) return v;
  Value r;
  r.dtype = to;
  r.lanes = v.lanes;
  for (int l = 0; l < v.lanes; ++l) r.lane[l] = convertScalar(v.lane[l], v.dtype, to);
  return r;
}

Value splat(Value v, int lanes) {
  if (v.lanes == lanes) return v;
  if (v.lanes != 1) fault("a vector of " + std::to_string(v.lanes) + " lanes where " + std::to_string(lanes) + " are needed");
  for (int l = 1; l < lanes; ++l) v.lane[l] = v.lane[0];
  v.lanes = lanes;
  return v;
}

// One host buffer as device memory.
struct GlobalRegion {
  HostBuffer* buffer = nullptr;
  uint64_t base = 0;  // its simulated address (addressOffset included)
  std::string params;  // the parameters that pass it, for messages
};

// A CUtensorMap as the launcher encodes it: every list innermost axis first.
struct TensorMap {
  std::string name;
  const ir::Buffer* tensor = nullptr;
  int elemBytes = 0;
  uint64_t address = 0;
  std::vector<int64_t> dims, strideBytes, box;
  int swizzleBytes = 0;
  bool im2col = false;
  // 16U4_ALIGN16B over an fp4 tensor's byte twin: dims[0], box[0] and the innermost
  // coordinate count fp4 elements (two a byte); a load writes each 16 elements as 8
  // packed bytes and leaves the next 8 alone.
  bool unpackFp4 = false;
  // im2col mode: the bounding box of filter bases (W, H: from lower to the axis's
  // last index plus upper, inclusive), walked `stride` apart, W first, then H, then
  // N; each load gathers `pixels` bases of `channels` channels.
  int64_t lowerCorner[2] = {0, 0}, upperCorner[2] = {0, 0};
  int64_t channels = 0, pixels = 0, stride = 1;

  // Bytes one load writes to shared memory (and completes on its barrier).
  int64_t boxBytes() const {
    int64_t elements = im2col ? channels * pixels : 1;
    if (!im2col)
      for (int64_t b : box) elements *= b;
    if (unpackFp4) return elements / 2;  // the packed payload
    return elements * elemBytes;
  }
};

struct KernelRun {
  KernelRun(const ir::Kernel& k, const Arguments& a, const Options& o) : kernel(k), args(a), options(o) {}
  const ir::Kernel& kernel;
  const Arguments& args;
  const Options& options;
  std::vector<GlobalRegion> regions;
  std::unordered_map<const ir::VarNode*, Scalar> params;
  std::unordered_map<const ir::VarNode*, TensorMap> tensorMaps;
  std::vector<std::pair<const ir::VarNode*, int64_t>> intParams;  // for ir::evalInt
  std::vector<std::string> errors;
  int64_t statements = 0;

  const GlobalRegion* regionOf(uint64_t address) const {
    for (const GlobalRegion& r : regions)
      if (address / kAddressSpacing == r.base / kAddressSpacing) return &r;
    return nullptr;
  }
  int64_t constant(const ir::ExprRef& e, const std::string& what) const {
    std::optional<int64_t> v = ir::evalInt(e, intParams);
    if (!v) fault("cannot evaluate " + what + " (" + ir::toString(e) + ") on the arguments");
    return *v;
  }
};

enum class ThreadState { Runnable, AtBarrier, WaitingMbarrier, WaitingCluster, WaitingShuffle, Exited };

struct CpAsyncCopy {
  int64_t sharedOffset = 0;
  uint8_t* source = nullptr;  // null when no byte is read
  int64_t sourceBytes = 0, totalBytes = 0;
};

struct PendingTmaLoad {
  const TensorMap* map = nullptr;
  int rank = 0;  // the destination block
  int64_t sharedOffset = 0, barrier = 0;
  std::vector<int64_t> coords;
  std::vector<int64_t> im2colOffsets;  // im2col mode: (w, h) of the filter tap
  const uint8_t* bulkSource = nullptr;  // a plain bulk load (no map): its global bytes
  int64_t bulkBytes = 0;
};

struct MBarrier {
  int64_t count = 0, pending = 0, tx = 0, phase = 0;
  SourceRange initAt;
};

// Where a thread is: one frame per statement it is inside of.
struct Frame {
  const ir::StmtNode* stmt = nullptr;
  size_t next = 0;       // Seq: the next child to run
  bool entered = false;  // For: bounds evaluated; If: branch chosen
  int64_t counter = 0, end = 0, step = 1;  // For
};

struct SimThread {
  int tid = 0;   // threadIdx.x
  int rank = 0;  // its block's rank in the cluster
  int slot = 0;  // its place in Cluster::threads_
  ThreadState state = ThreadState::Runnable;
  std::vector<Frame> frames;
  std::unordered_map<const ir::VarNode*, Scalar> vars;
  std::unordered_map<const ir::Buffer*, std::vector<uint8_t>> locals;
  std::vector<CpAsyncCopy> openGroup;                 // cp.async not yet committed
  std::deque<std::vector<CpAsyncCopy>> committedGroups;
  const ir::StmtNode* barrierSite = nullptr;
  bool atClusterBarrier = false;
  // At a warp shuffle (shfl_bfly): where, the value this lane offers, the lane mask
  // and the local that receives its partner's value.
  const ir::StmtNode* shuffleSite = nullptr;
  Scalar shuffleValue{};
  int shuffleMask = 0;
  const ir::VarNode* shuffleInto = nullptr;
  int64_t waitBarrier = 0, waitParity = 0;
  // cluster_arrive() / cluster_wait(): the phase of the split cluster barrier this
  // thread has arrived at and not yet waited for (-1: none), and where it arrived.
  int64_t clusterArrivedPhase = -1;
  SourceRange clusterArrivedAt;
  SourceRange at;  // the statement being run
};

// One block's own state: its index, its shared memory and the mbarriers in it.
struct Cta {
  int index[3] = {0, 0, 0};
  std::vector<uint8_t> shared;
  std::map<int64_t, MBarrier> mbarriers;
};

// The blocks of one cluster (one block where there are no clusters), run together:
// their threads share one schedule, so that cluster barriers, remote arrivals and
// multicast loads meet. Shared-memory operands name a block by its cluster rank.
class Cluster {
 public:
  Cluster(KernelRun& run, const std::vector<std::array<int, 3>>& blocks) : run_(run) {
    for (const auto& index : blocks) {
      Cta cta;
      for (int d = 0; d < 3; ++d) cta.index[d] = index[size_t(d)];
      cta.shared.assign(size_t(run.kernel.dynamicSharedBytes), kPoison);
      ctas_.push_back(std::move(cta));
    }
  }
  void execute();

  KernelRun& run() { return run_; }
  int blockIndex(int rank, int d) const { return ctas_[size_t(rank)].index[d]; }
  int ranks() const { return int(ctas_.size()); }

  // Shared memory of block `rank`, bounds-checked: `bytes` bytes at byte offset `offset`.
  uint8_t* shared(int rank, int64_t offset, int64_t bytes, const std::string& what);

  // Both return whether `me` must wait (it is resumed once it may go on).
  bool syncThreads(SimThread& me, const ir::StmtNode& site, bool wholeCluster);
  // The split cluster barrier: an arrival (never waits), and the wait for the phase
  // the thread arrived at (every thread of the cluster arrived).
  void clusterArrive(SimThread& me);
  bool clusterWait(SimThread& me);
  bool mbarrierWait(SimThread& me, int64_t offset, int64_t parity);
  // A warp shuffle (`into = shfl_bfly(value, mask)`): the lane waits until all 32
  // lanes of its warp are at the same shuffle, then each gets its partner's value.
  bool warpShuffle(SimThread& me, const ir::StmtNode& site, const ir::VarNode* into, Scalar value, int mask);
  void mbarrierInit(int rank, int64_t offset, int64_t count, const SourceRange& at);
  void mbarrierArrive(int rank, int64_t offset, int64_t expectBytes);
  void mbarrierExpectTx(int rank, int64_t offset, int64_t bytes);
  void mbarrierCompleteTx(int rank, int64_t offset, int64_t bytes);
  // A tiled load (no offsets) or an im2col one (offsets w, h) into the blocks of
  // `ranks`, each at the same offsets.
  void tmaLoad(const TensorMap& map, std::vector<int> ranks, int64_t sharedOffset, int64_t barrier,
               std::vector<int64_t> coords, std::vector<int64_t> im2colOffsets);
  void tmaStore(const TensorMap& map, int rank, int64_t sharedOffset, const std::vector<int64_t>& coords);
  // A plain bulk load of `bytes` from `source` (checked by the caller) to block `rank`.
  void bulkLoad(int rank, int64_t sharedOffset, int64_t barrier, const uint8_t* source, int64_t bytes);

 private:
  void report(const SimThread* culprit, const Fault& f);
  int pickNext(int position);
  bool releaseBarrierIfComplete(const SimThread& me);
  std::string deadlockReport();
  MBarrier& mbarrier(int rank, int64_t offset);
  void completePendingLoads(const int* rank, const int64_t* barrier);
  void tmaBox(const TensorMap& map, int rank, int64_t sharedOffset, const std::vector<int64_t>& coords, bool load);
  void tmaUnpackFp4(const TensorMap& map, int rank, int64_t sharedOffset, const std::vector<int64_t>& coords,
                    int64_t count);
  void tmaIm2col(const TensorMap& map, int rank, int64_t sharedOffset, const std::vector<int64_t>& coords,
                 const std::vector<int64_t>& offsets);
  void landLoad(const PendingTmaLoad& load);
  std::string blockName(int rank) const;

  KernelRun& run_;
  std::vector<Cta> ctas_;
  std::deque<PendingTmaLoad> pendingLoads_;
  std::vector<std::unique_ptr<SimThread>> threads_;  // block rank-major, then thread index
  std::vector<int> order_, position_;  // the schedule order of threads_, and each one's place in it
  // A barrier has just released its threads: they go on from the first in the
  // schedule order (not the last to arrive), as a warp that raced ahead would.
  bool restartSchedule_ = false;
  // The split cluster barrier (cluster_arrive / cluster_wait): its phase and the
  // arrivals at it so far.
  int64_t clusterPhase_ = 0;
  int64_t clusterArrivals_ = 0;
};

// ------------------------------------------------------------ one thread

class Executor {
 public:
  Executor(Cluster& cluster, SimThread& thread) : block_(cluster), run_(cluster.run()), t_(thread) {}
  void enterBody(const ir::StmtRef& body) { enter(body); }
  // Runs the thread until it waits (false) or finishes (true).
  bool resume();

 private:
  Value eval(const ir::ExprRef& e);
  Scalar evalAs(const ir::ExprRef& e, DType t) {
    Value v = eval(e);
    if (v.lanes != 1) fault("a vector where a scalar is needed: " + ir::toString(e));
    return convertScalar(v.lane[0], v.dtype, t);
  }
  int64_t evalInt(const ir::ExprRef& e) { return evalAs(e, DType::Int64).i; }
  bool evalBool(const ir::ExprRef& e) { return evalAs(e, DType::Bool).i != 0; }

  Value evalBinary(const ir::BinaryNode& n);
  Scalar binaryScalar(ir::BinOp op, Scalar a, Scalar b, DType t);
  Value evalUnary(const ir::UnaryNode& n);
  Value evalCall(const ir::CallNode& n);
  Value evalLoad(const ir::LoadNode& n);
  Scalar floatMath(ir::Builtin b, double x, double y, DType t);

  uint8_t* element(const ir::Buffer& buffer, int64_t index, int lanes, int alignBytes, bool write);
  std::vector<uint8_t>& local(const ir::Buffer& buffer);

  void enter(const ir::StmtRef& stmt);
  bool execLeaf(const ir::StmtNode& stmt);  // true: the thread must wait
  void execStore(const ir::StoreStmt& st);
  void execIntrinsic(const ir::IntrinsicStmt& op);
  const TensorMap& tensorMap(const ir::IntrinsicStmt& op);

  Cluster& block_;
  KernelRun& run_;
  SimThread& t_;
};

uint8_t* Executor::element(const ir::Buffer& buffer, int64_t index, int lanes, int alignBytes, bool write) {
  int eb = elementBytes(buffer.dtype);
  if (eb == 0) fault(std::string("addressing ") + ir::name(buffer.dtype) + " elements (two per byte) is not supported");
  int64_t bytes = int64_t(eb) * lanes;
  int align = alignBytes > 0 ? alignBytes : eb;
  const char* access = write ? "write" : "read";
  auto describe = [&](const std::string& scope) {
    std::string s = std::string(access) + " of " + scope + " '" + buffer.name + "' at element " + std::to_string(index);
    if (lanes > 1) s += " (" + std::to_string(lanes) + " elements)";
    return s;
  };
  // Far outside any buffer (and the byte offsets below would overflow).
  constexpr int64_t kFar = int64_t(1) << 40;
  if (index < -kFar || index > kFar) fault("out-of-bounds " + describe(ir::name(buffer.scope)));
  switch (buffer.scope) {
    case ir::MemScope::Global: {
      // An elem_offset is in `index` already (FlattenBufferAccess adds it).
      if (!buffer.data) fault("global buffer '" + buffer.name + "' has no data pointer");
      // A parameter, or (loadedBase) a local holding an address loaded from a table.
      auto found = run_.params.find(buffer.data.get());
      const Scalar* base = found != run_.params.end() ? &found->second : nullptr;
      if (!base && buffer.loadedBase)
        if (auto local = t_.vars.find(buffer.data.get()); local != t_.vars.end()) base = &local->second;
      if (!base) fault("the data pointer of '" + buffer.name + "' is neither a parameter nor a loaded address");
      uint64_t address = uint64_t(base->i) + uint64_t(index * eb);
      const GlobalRegion* region = run_.regionOf(uint64_t(base->i));
      if (!region) fault(describe("global") + ": its pointer is no argument");
      int64_t offset = int64_t(address - region->base);
      int64_t size = int64_t(region->buffer->bytes.size());
      if (index < 0 || offset < 0 || offset + bytes > size)
        fault("out-of-bounds " + describe("global") + ": argument " + region->params + " holds " +
              std::to_string(size / eb) + " elements");
      if (address % uint64_t(align) != 0)
        fault("misaligned " + describe("global") + ": address " + std::to_string(address % 1024) +
              " mod 1024 is not a multiple of " + std::to_string(align) + " bytes");
      return region->buffer->bytes.data() + offset;
    }
    case ir::MemScope::Shared: {
      int rank = t_.rank;
      if (buffer.clusterRank) {
        // Another block of the cluster (distributed shared memory), by its rank.
        int64_t r = evalInt(buffer.clusterRank);
        if (r < 0 || r >= block_.ranks())
          fault("cluster rank " + std::to_string(r) + " of a cluster of " + std::to_string(block_.ranks()) + " blocks");
        rank = int(r);
      }
      if (buffer.sharedOffset < 0) fault("shared buffer '" + buffer.name + "' has no offset");
      int64_t span = 1;
      for (size_t d = 0; d < buffer.shape.size(); ++d) {
        int64_t extent = run_.constant(buffer.shape[d], "the shape of '" + buffer.name + "'");
        int64_t stride = d < buffer.strides.size() ? run_.constant(buffer.strides[d], "a stride of '" + buffer.name + "'") : 1;
        if (extent <= 0) span = 0;
        if (span > 0) span += (extent - 1) * stride;
      }
      // An index map's physical array (sema: every element lands inside it).
      if (buffer.sharedLayout.mapped()) span = ir::sharedStorageElems(buffer);
      if (index < 0 || index + lanes > span)
        fault("out-of-bounds " + describe("shared") + ": the tile spans " + std::to_string(span) + " elements");
      int64_t offset = buffer.sharedOffset + index * eb;
      if (offset % align != 0)
        fault("misaligned " + describe("shared") + ": byte offset " + std::to_string(offset) + " is not a multiple of " +
              std::to_string(align));
      return block_.shared(rank, offset, bytes, describe("shared"));
    }
    case ir::MemScope::Local:
    case ir::MemScope::Fragment: {
      std::vector<uint8_t>& array = local(buffer);
      if (index < 0 || (index + lanes) * eb > int64_t(array.size()))
        fault("out-of-bounds " + describe("local") + ": the array holds " + std::to_string(array.size() / eb) +
              " elements");
      if ((index * eb) % align != 0) fault("misaligned " + describe("local"));
      return array.data() + index * eb;
    }
  }
  fault("unknown memory scope");
}

std::vector<uint8_t>& Executor::local(const ir::Buffer& buffer) {
  auto found = t_.locals.find(&buffer);
  if (found != t_.locals.end()) return found->second;
  int64_t elements = 1;
  if (buffer.scope == ir::MemScope::Fragment && buffer.layout.localSize > 0) {
    elements = buffer.layout.localSize;
  } else {
    for (const ir::ExprRef& extent : buffer.shape) {
      std::optional<int64_t> v = ir::asConstInt(extent);
      if (!v || *v < 0) fault("local buffer '" + buffer.name + "' needs a constant shape");
      elements *= *v;
    }
  }
  return t_.locals.emplace(&buffer, std::vector<uint8_t>(size_t(elements * elementBytes(buffer.dtype)), kPoison))
      .first->second;
}

// ---- expressions

Value Executor::eval(const ir::ExprRef& e) {
  if (!e) fault("a missing expression");
  switch (e->kind) {
    case ir::ExprKind::IntImm: {
      Scalar s = intScalar(normalizeInt(e->as<ir::IntImm>().value, ir::isInt(e->dtype) ? e->dtype : DType::Int64));
      if (!ir::isInt(e->dtype) && e->dtype != DType::Bool) s = convertScalar(s, DType::Int64, e->dtype);
      if (e->dtype == DType::Bool) s.i = s.i != 0;
      return scalarValue(e->dtype, s);
    }
    case ir::ExprKind::FloatImm: {
      if (ir::isStorageOnly(e->dtype)) fault(std::string("a ") + ir::name(e->dtype) + " constant is not supported");
      return scalarValue(e->dtype, convertScalar(floatScalar(e->as<ir::FloatImm>().value), DType::Float64, e->dtype));
    }
    case ir::ExprKind::Var: {
      const auto* var = static_cast<const ir::VarNode*>(e.get());
      auto found = t_.vars.find(var);
      if (found != t_.vars.end()) return scalarValue(var->dtype, found->second);
      auto param = run_.params.find(var);
      if (param != run_.params.end()) return scalarValue(var->dtype, param->second);
      fault("variable '" + var->name + "' is used but never defined");
    }
    case ir::ExprKind::Binary:
      return evalBinary(e->as<ir::BinaryNode>());
    case ir::ExprKind::Unary:
      return evalUnary(e->as<ir::UnaryNode>());
    case ir::ExprKind::Select: {
      const auto& n = e->as<ir::SelectNode>();
      Value cond = convertValue(eval(n.cond), DType::Bool);
      Value a = splat(convertValue(eval(n.t), n.dtype), n.lanes);
      Value b = splat(convertValue(eval(n.f), n.dtype), n.lanes);
      if (cond.lanes == 1) return cond.lane[0].i ? a : b;
      cond = splat(cond, n.lanes);
      for (int l = 0; l < n.lanes; ++l)
        if (!cond.lane[l].i) a.lane[l] = b.lane[l];
      return a;
    }
    case ir::ExprKind::Cast:
      return convertValue(eval(e->as<ir::CastNode>().a), e->dtype);
    case ir::ExprKind::Call:
      return evalCall(e->as<ir::CallNode>());
    case ir::ExprKind::Load:
      return evalLoad(e->as<ir::LoadNode>());
  }
  fault("unknown expression kind");
}

bool isComparison(ir::BinOp op) {
  using ir::BinOp;
  return op == BinOp::Lt || op == BinOp::Le || op == BinOp::Gt || op == BinOp::Ge || op == BinOp::Eq ||
         op == BinOp::Ne;
}

Value Executor::evalBinary(const ir::BinaryNode& n) {
  using ir::BinOp;
  // The type the operation is done in, as Codegen::emitBinary picks it.
  DType operandType = n.dtype;
  if (isComparison(n.op)) {
    DType a = n.a->dtype, b = n.b->dtype;
    operandType = a;
    if (a != b && ((ir::isFloat(b) && !ir::isFloat(a)) || (ir::isFloat(b) == ir::isFloat(a) && ir::bits(b) > ir::bits(a))))
      operandType = b;
  } else if (n.op == BinOp::And || n.op == BinOp::Or) {
    operandType = DType::Bool;
  }
  int lanes = std::max(n.a->lanes, n.b->lanes);
  if (lanes > kMaxLanes) fault("vectors of more than 16 lanes are not supported");
  Value a = splat(convertValue(eval(n.a), operandType), lanes);
  Value b = splat(convertValue(eval(n.b), operandType), lanes);
  Value r;
  r.dtype = isComparison(n.op) ? DType::Bool : operandType;
  r.lanes = lanes;
  for (int l = 0; l < lanes; ++l) r.lane[l] = binaryScalar(n.op, a.lane[l], b.lane[l], operandType);
  return convertValue(r, n.dtype);
}

Scalar Executor::binaryScalar(ir::BinOp op, Scalar a, Scalar b, DType t) {
  using ir::BinOp;
  if (ir::isStorageOnly(t)) fault(std::string("arithmetic on ") + ir::name(t) + " is not supported");
  if (holdsFloat(t)) {
    double x = a.f, y = b.f;
    auto round = [&](double v) { return floatScalar(roundToFloat(v, t)); };
    switch (op) {
      case BinOp::Add: return round(x + y);
      case BinOp::Sub: return round(x - y);
      case BinOp::Mul: return round(x * y);
      case BinOp::Div: return round(x / y);
      case BinOp::FloorDiv: return floatScalar(std::floor(roundToFloat(x / y, t)));
      case BinOp::FloorMod: {
        double q = std::floor(roundToFloat(x / y, t));
        return round(x - roundToFloat(q * y, t));
      }
      case BinOp::Min: return floatScalar(std::isnan(x) ? y : std::isnan(y) ? x : std::min(x, y));
      case BinOp::Max: return floatScalar(std::isnan(x) ? y : std::isnan(y) ? x : std::max(x, y));
      case BinOp::Pow:
        // Integral exponents up to 8 are products on the GPU (exact up to rounding);
        // the rest is exp2(y*log2|x|) there, to a few ulp of this.
        if (t == DType::Float64) return floatScalar(std::pow(x, y));
        return round(double(std::pow(float(x), float(y))));
      case BinOp::Lt: return intScalar(x < y);
      case BinOp::Le: return intScalar(x <= y);
      case BinOp::Gt: return intScalar(x > y);
      case BinOp::Ge: return intScalar(x >= y);
      case BinOp::Eq: return intScalar(x == y);
      case BinOp::Ne: return intScalar(!(x == y));  // unordered: true for NaN
      default: fault(std::string("operator '") + ir::spelling(op) + "' on " + ir::name(t));
    }
  }
  bool isSignedType = ir::isSigned(t) && t != DType::Bool;
  int width = t == DType::Bool ? 1 : ir::bits(t);
  int64_t x = a.i, y = b.i;
  uint64_t ux = uint64_t(x), uy = uint64_t(y);
  auto wrap = [&](uint64_t v) { return intScalar(normalizeInt(int64_t(v), t)); };
  switch (op) {
    case BinOp::Add: return wrap(ux + uy);
    case BinOp::Sub: return wrap(ux - uy);
    case BinOp::Mul: return wrap(ux * uy);
    case BinOp::Div:
    case BinOp::FloorDiv:
    case BinOp::FloorMod: {
      if (y == 0) fault(std::string("integer division by zero ('") + ir::spelling(op) + "' on " + ir::name(t) + ")");
      if (!isSignedType) return wrap(op == BinOp::FloorMod ? ux % uy : ux / uy);
      if (y == -1) return wrap(op == BinOp::FloorMod ? 0 : 0 - ux);  // INT_MIN / -1 wraps
      int64_t q = x / y, r = x % y;
      if (op != BinOp::Div && r != 0 && ((r ^ y) < 0)) {
        q -= 1;
        r += y;
      }
      return wrap(uint64_t(op == BinOp::FloorMod ? r : q));
    }
    case BinOp::Min: return intScalar(isSignedType ? std::min(x, y) : int64_t(std::min(ux, uy)));
    case BinOp::Max: return intScalar(isSignedType ? std::max(x, y) : int64_t(std::max(ux, uy)));
    case BinOp::Pow: {
      uint64_t result = 1, square = ux;
      for (int64_t e = y; e > 0; e >>= 1) {
        if (e & 1) result *= square;
        square *= square;
      }
      return wrap(result);
    }
    case BinOp::BitAnd: case BinOp::And: return wrap(ux & uy);
    case BinOp::BitOr: case BinOp::Or: return wrap(ux | uy);
    case BinOp::BitXor: return wrap(ux ^ uy);
    case BinOp::Shl:
    case BinOp::Shr: {
      if ((isSignedType && y < 0) || uy >= uint64_t(width))
        fault("shift by " + std::to_string(y) + " of a " + std::to_string(width) + "-bit value (poison in LLVM)");
      if (op == BinOp::Shl) return wrap(ux << uy);
      return isSignedType ? intScalar(x >> y) : wrap(ux >> uy);
    }
    case BinOp::Lt: return intScalar(isSignedType ? x < y : ux < uy);
    case BinOp::Le: return intScalar(isSignedType ? x <= y : ux <= uy);
    case BinOp::Gt: return intScalar(isSignedType ? x > y : ux > uy);
    case BinOp::Ge: return intScalar(isSignedType ? x >= y : ux >= uy);
    case BinOp::Eq: return intScalar(x == y);
    case BinOp::Ne: return intScalar(x != y);
  }
  fault("unknown binary operator");
}

Value Executor::evalUnary(const ir::UnaryNode& n) {
  Value a = eval(n.a);
  Value r = a;
  r.dtype = n.dtype;
  for (int l = 0; l < a.lanes; ++l) {
    switch (n.op) {
      case ir::UnOp::Neg:
        if (ir::isStorageOnly(n.dtype)) fault(std::string("negating ") + ir::name(n.dtype) + " is not supported");
        if (holdsFloat(n.dtype)) r.lane[l].f = -a.lane[l].f;
        else r.lane[l].i = normalizeInt(int64_t(0 - uint64_t(a.lane[l].i)), n.dtype);
        break;
      case ir::UnOp::BitNot:
        r.lane[l].i = normalizeInt(~a.lane[l].i, n.dtype);
        break;
      case ir::UnOp::Not: {
        bool truth = convertScalar(a.lane[l], a.dtype, DType::Bool).i != 0;
        r.lane[l] = convertScalar(intScalar(!truth), DType::Bool, n.dtype);
        break;
      }
    }
  }
  return r;
}

Scalar Executor::floatMath(ir::Builtin b, double x, double y, DType t) {
  using ir::Builtin;
  switch (b) {
    case Builtin::Abs: return floatScalar(std::fabs(x));
    // Exact in every float type.
    case Builtin::Floor: return floatScalar(std::floor(x));
    case Builtin::Ceil: return floatScalar(std::ceil(x));
    case Builtin::Trunc: return floatScalar(std::trunc(x));
    case Builtin::Round: return floatScalar(std::round(x));  // half away from zero
    case Builtin::Nearbyint: return floatScalar(std::nearbyint(x));  // the default mode: half to even
    case Builtin::Isnan: return intScalar(std::isnan(x));
    case Builtin::Isinf: return intScalar(std::isinf(x));
    case Builtin::Isfinite: return intScalar(std::isfinite(x));
    default: break;
  }
  if (t == DType::Float64) {
    if (b == Builtin::Sqrt) return floatScalar(std::sqrt(x));
    if (b == Builtin::Rsqrt) return floatScalar(1.0 / std::sqrt(x));
    fault(std::string("float64 ") + ir::name(b) + " is not supported");
  }
  // float16 and bfloat16 are computed in float32 and rounded once, as on the GPU.
  // sin cos erf sigmoid pow fmod run the GPU's own algorithm (the same bits); the
  // GPU's exp2/log/tanh and the fast (__) variants use approximate instructions the
  // host cannot reproduce: here they are the host's libm, within their stated bounds.
  float v = float(x), r = 0;
  if (isWideMath(b)) return floatScalar(roundToFloat(wideMathFloat32(b, v, float(y)), t));
  switch (b) {
    case Builtin::Exp: r = std::exp(v); break;
    case Builtin::Exp2: r = std::exp2(v); break;
    case Builtin::Log: r = std::log(v); break;
    case Builtin::Log2: r = std::log2(v); break;
    case Builtin::Sqrt: r = std::sqrt(v); break;
    case Builtin::Rsqrt: r = 1.0f / std::sqrt(v); break;
    case Builtin::Tanh: r = std::tanh(v); break;
    case Builtin::FastExp: r = float(std::exp(double(v))); break;
    case Builtin::FastExp2: r = float(std::exp2(double(v))); break;
    case Builtin::FastExp10: r = float(std::pow(10.0, double(v))); break;
    case Builtin::FastLog: r = float(std::log(double(v))); break;
    case Builtin::FastLog2: r = float(std::log2(double(v))); break;
    case Builtin::FastLog10: r = float(std::log10(double(v))); break;
    case Builtin::FastSin: r = float(std::sin(double(v))); break;
    case Builtin::FastCos: r = float(std::cos(double(v))); break;
    case Builtin::FastTan: r = float(std::tan(double(v))); break;
    default: fault(std::string("unexpected builtin ") + ir::name(b));
  }
  return floatScalar(roundToFloat(r, t));
}

Value Executor::evalCall(const ir::CallNode& n) {
  using ir::Builtin;
  switch (n.builtin) {
    case Builtin::ThreadIdx:
      return scalarValue(n.dtype, convertScalar(intScalar(n.dim == 0 ? t_.tid : 0), DType::Int32, n.dtype));
    case Builtin::BlockIdx:
      if (n.dim < 0 || n.dim > 2) fault("block index dimension out of range");
      return scalarValue(n.dtype, convertScalar(intScalar(block_.blockIndex(t_.rank, n.dim)), DType::Int32, n.dtype));
    case Builtin::ShuffleElect: {
      auto group = n.args.size() == 1 ? ir::asConstInt(n.args[0]) : std::nullopt;
      if (!group || *group <= 0 || *group % 32 != 0) fault("shuffle_elect needs a positive multiple of 32");
      if (run_.kernel.threads % 32 != 0) fault("shuffle_elect in a block whose threads are not whole warps");
      // elect.sync picks the lowest lane of the group's first warp: all lanes are active.
      return scalarValue(DType::Bool, intScalar(t_.tid % *group == 0));
    }
    case Builtin::ShflBfly:
      fault("shfl_bfly other than as the whole value of a Let or Assign (the lanes meet there)");
    case Builtin::TensorMapAddress: {
      // A tensor map's address: 64-byte aligned, as the driver's __grid_constant__
      // parameters are; one 128-byte slot per parameter, far from any buffer.
      const ir::ExprRef& map = n.args.at(0);
      for (size_t i = 0; i < run_.kernel.params.size(); ++i)
        if (run_.kernel.params[i].kind == ir::ParamKind::TensorMap && run_.kernel.params[i].var == map)
          return scalarValue(DType::UInt64, intScalar(int64_t(0x7f0000000000) + 128 * int64_t(i)));
      fault("tensormap_address of something that is not a tensor-map parameter");
    }
    case Builtin::ClusterCtaRank:
      return scalarValue(n.dtype, convertScalar(intScalar(t_.rank), DType::Int32, n.dtype));
    case Builtin::Print: {
      // The line the GPU's vprintf prints (Codegen's emitPrint): floats as %g of the
      // double they widen to, integers as int32 / uint32 or 64-bit, bool as int.
      std::string line = "[block (" + std::to_string(block_.blockIndex(t_.rank, 0)) + ", " +
                         std::to_string(block_.blockIndex(t_.rank, 1)) + ", " +
                         std::to_string(block_.blockIndex(t_.rank, 2)) + ") thread " + std::to_string(t_.tid) + "]";
      if (!n.strings.empty() && !n.strings[0].empty()) line += " " + n.strings[0];
      for (size_t i = 0; i < n.args.size(); ++i) {
        Value v = eval(n.args[i]);
        DType t = n.args[i]->dtype;
        char text[64];
        if (ir::isFloat(t))
          std::snprintf(text, sizeof text, "%g", convertScalar(v.lane[0], t, DType::Float64).f);
        else if (ir::bits(t) == 64 && !ir::isSigned(t))
          std::snprintf(text, sizeof text, "%llu", (unsigned long long)v.lane[0].i);
        else
          std::snprintf(text, sizeof text, "%lld", (long long)v.lane[0].i);
        line += std::string(i ? ", " : " ") + (i + 1 < n.strings.size() ? n.strings[i + 1] : "?") + " = " + text;
      }
      if (run_.options.printOut) *run_.options.printOut << line << "\n";
      return scalarValue(DType::Int32, intScalar(int64_t(line.size() + 1)));
    }
    case Builtin::Fp4FromBits:
    case Builtin::Fp4Bits: {
      if (n.args.size() != 1) fault(std::string(ir::name(n.builtin)) + " takes one argument");
      Value x = eval(n.args[0]);
      Value r = x;
      r.dtype = n.dtype;
      for (int l = 0; l < x.lanes; ++l) r.lane[l].i = normalizeInt(x.lane[l].i & 0xFF, n.dtype == DType::Float4E2M1 ? DType::UInt8 : n.dtype);
      return r;
    }
    default:
      break;
  }
  if ((int)n.args.size() != ir::info(n.builtin).arity) fault(std::string(ir::name(n.builtin)) + ": wrong number of arguments");
  // The operands have the builtin's operand type: the result's, or the argument's
  // for the Bool-valued classifications (as Codegen's emitCall).
  DType operand = ir::info(n.builtin).result == ir::BuiltinResult::Bool ? n.args[0]->dtype : n.dtype;
  if (ir::isStorageOnly(operand)) fault(std::string(ir::name(n.builtin)) + " on " + ir::name(operand) + " is not supported");
  Value x = convertValue(eval(n.args[0]), operand);
  Value y = n.args.size() > 1 ? convertValue(eval(n.args[1]), operand) : x;
  if (y.lanes != x.lanes) {
    if (x.lanes == 1) x = splat(x, y.lanes);
    else if (y.lanes == 1) y = splat(y, x.lanes);
    else fault("math arguments with different lane counts");
  }
  Value r = x;
  r.dtype = n.dtype;
  for (int l = 0; l < x.lanes; ++l) {
    if (holdsFloat(operand)) {
      r.lane[l] = floatMath(n.builtin, x.lane[l].f, y.lane[l].f, operand);
      continue;
    }
    switch (n.builtin) {
      case Builtin::Abs:
        if (ir::isSigned(operand) && x.lane[l].i < 0) r.lane[l].i = normalizeInt(int64_t(0 - uint64_t(x.lane[l].i)), operand);
        break;
      case Builtin::Floor:
      case Builtin::Ceil:
      case Builtin::Trunc:
      case Builtin::Round:
      case Builtin::Nearbyint:
        break;
      default:
        fault(std::string(ir::name(n.builtin)) + " on " + ir::name(operand));
    }
  }
  return r;
}

Value Executor::evalLoad(const ir::LoadNode& n) {
  if (!n.buffer) fault("a load without a buffer");
  if (n.indices.size() != 1) fault("a loop-IR access to '" + n.buffer->name + "' must have one flat index");
  if (n.lanes > kMaxLanes) fault("vectors of more than 16 lanes are not supported");
  if (n.predicate && !evalBool(n.predicate)) {
    // Predicated off: no memory is touched.
    Value fallback = n.otherwise ? convertValue(eval(n.otherwise), n.dtype) : scalarValue(n.dtype, convertScalar(intScalar(0), DType::Int64, n.dtype));
    return splat(fallback, n.lanes);
  }
  const ir::Buffer& buffer = *n.buffer;
  int64_t index = evalInt(n.indices[0]);
  const uint8_t* bytes = element(buffer, index, n.lanes, n.alignBytes, false);
  Value v;
  v.dtype = buffer.dtype;
  v.lanes = n.lanes;
  int eb = elementBytes(buffer.dtype);
  for (int l = 0; l < n.lanes; ++l) v.lane[l] = loadScalar(bytes + l * eb, buffer.dtype);
  return convertValue(v, n.dtype);
}

// ---- statements

void Executor::enter(const ir::StmtRef& stmt) {
  if (!stmt) return;
  if (++run_.statements > run_.options.maxStatements)
    fault("more than " + std::to_string(run_.options.maxStatements) + " statements executed (Options::maxStatements)");
  Frame frame;
  frame.stmt = stmt.get();
  t_.frames.push_back(frame);
}

bool Executor::resume() {
  while (!t_.frames.empty()) {
    // `frame` is not used after a push (which may move it).
    Frame& frame = t_.frames.back();
    const ir::StmtNode& stmt = *frame.stmt;
    if (stmt.range.valid()) t_.at = stmt.range;
    switch (stmt.kind) {
      case ir::StmtKind::Seq: {
        const auto& stmts = stmt.as<ir::SeqStmt>().stmts;
        if (frame.next < stmts.size()) enter(stmts[frame.next++]);
        else t_.frames.pop_back();
        break;
      }
      case ir::StmtKind::For: {
        const auto& loop = stmt.as<ir::ForStmt>();
        DType type = loop.var ? loop.var->dtype : DType::Int32;
        if (!frame.entered) {
          if (!loop.var || !loop.min || !loop.extent) fault("an incomplete for loop");
          if (!ir::isInt(type)) fault("loop variable '" + loop.var->name + "' is not an integer");
          frame.counter = evalAs(loop.min, type).i;
          int64_t extent = evalAs(loop.extent, type).i;
          frame.step = loop.step ? evalAs(loop.step, type).i : 1;
          if (frame.step == 0) fault("a for loop with step 0");
          frame.end = normalizeInt(int64_t(uint64_t(frame.counter) + uint64_t(extent)), type);
          frame.entered = true;
        }
        // A hidden counter drives the trip (an assignment to the variable in the
        // body does not change the iterations), as in Codegen.
        bool isSignedType = ir::isSigned(type);
        bool inRange = frame.step < 0 && isSignedType ? frame.counter > frame.end
                       : isSignedType                 ? frame.counter < frame.end
                                                      : uint64_t(frame.counter) < uint64_t(frame.end);
        if (!inRange) {
          t_.frames.pop_back();
          break;
        }
        t_.vars[loop.var.get()] = intScalar(frame.counter);
        frame.counter = normalizeInt(int64_t(uint64_t(frame.counter) + uint64_t(frame.step)), type);
        enter(loop.body);
        break;
      }
      case ir::StmtKind::If: {
        if (frame.entered) {
          t_.frames.pop_back();
          break;
        }
        frame.entered = true;
        const auto& branch = stmt.as<ir::IfStmt>();
        enter(evalBool(branch.cond) ? branch.thenBody : branch.elseBody);
        break;
      }
      default:
        t_.frames.pop_back();
        if (execLeaf(stmt)) return false;
        break;
    }
  }
  return true;
}

bool Executor::execLeaf(const ir::StmtNode& stmt) {
  switch (stmt.kind) {
    case ir::StmtKind::Let:
    case ir::StmtKind::Assign: {
      const ir::VarRef& var = stmt.kind == ir::StmtKind::Let ? stmt.as<ir::LetStmt>().var : stmt.as<ir::AssignStmt>().var;
      const ir::ExprRef& value = stmt.kind == ir::StmtKind::Let ? stmt.as<ir::LetStmt>().value : stmt.as<ir::AssignStmt>().value;
      if (value->kind == ir::ExprKind::Call && value->as<ir::CallNode>().builtin == ir::Builtin::ShflBfly) {
        const auto& call = value->as<ir::CallNode>();
        auto mask = call.args.size() == 2 ? ir::asConstInt(call.args[1]) : std::nullopt;
        if (!mask || *mask < 1 || *mask > 31) fault("shfl_bfly needs a constant lane mask in [1, 31]");
        if (call.dtype != var->dtype) fault("shfl_bfly into a local of another type");
        return block_.warpShuffle(t_, stmt, var.get(), evalAs(call.args[0], call.dtype), int(*mask));
      }
      t_.vars[var.get()] = evalAs(value, var->dtype);
      return false;
    }
    case ir::StmtKind::Store:
      execStore(stmt.as<ir::StoreStmt>());
      return false;
    case ir::StmtKind::Barrier:
      switch (stmt.as<ir::BarrierStmt>().barrier) {
        case ir::BarrierKind::SyncThreads:
          return block_.syncThreads(t_, stmt, false);
        case ir::BarrierKind::ClusterSync:
          return block_.syncThreads(t_, stmt, true);
        case ir::BarrierKind::ClusterArrive:
          block_.clusterArrive(t_);
          return false;
        case ir::BarrierKind::ClusterWait:
          return block_.clusterWait(t_);
        case ir::BarrierKind::FenceProxyAsync:
          return false;  // one thread at a time, async copies land at defined points: nothing to order
      }
      return false;
    case ir::StmtKind::Intrinsic: {
      const auto& op = stmt.as<ir::IntrinsicStmt>();
      if (op.op == ir::IntrinsicOp::MbarrierWaitParity) {
        if (op.args.size() != 2) fault("mbarrier_wait_parity takes a barrier and a parity");
        int64_t parity = evalInt(op.args[1]);
        if (parity != 0 && parity != 1) fault("mbarrier wait for parity " + std::to_string(parity));
        return block_.mbarrierWait(t_, evalInt(op.args[0]), parity);
      }
      execIntrinsic(op);
      return false;
    }
    case ir::StmtKind::Copy:
    case ir::StmtKind::Parallel:
    case ir::StmtKind::Fill:
    case ir::StmtKind::Reduce:
      fault("a tile operation in loop IR (the interpreter runs lowered kernels only)");
    default:
      fault("unknown statement kind");
  }
}

void Executor::execStore(const ir::StoreStmt& st) {
  if (!st.buffer || !st.value) fault("an incomplete store");
  if (st.indices.size() != 1) fault("a loop-IR access to '" + st.buffer->name + "' must have one flat index");
  // The index and value are computed only when the store happens.
  if (st.predicate && !evalBool(st.predicate)) return;
  const ir::Buffer& buffer = *st.buffer;
  int lanes = st.value->lanes;
  if (lanes > kMaxLanes) fault("vectors of more than 16 lanes are not supported");
  Value v = splat(convertValue(eval(st.value), buffer.dtype), lanes);
  int64_t index = evalInt(st.indices[0]);
  uint8_t* bytes = element(buffer, index, lanes, st.alignBytes, true);
  int eb = elementBytes(buffer.dtype);
  if (st.atomic != ir::AtomicOp::None) {
    // One simulated thread runs at a time: the read-modify-write is indivisible.
    if (buffer.scope != ir::MemScope::Global && buffer.scope != ir::MemScope::Shared)
      fault("an atomic on '" + buffer.name + "', which is not global or shared memory");
    if (st.result && lanes != 1) fault("an atomic with a result of more than one lane");
    for (int l = 0; l < lanes; ++l) {
      Scalar old = loadScalar(bytes + l * eb, buffer.dtype);
      storeScalar(bytes + l * eb, atomicCombine(st.atomic, buffer.dtype, old, v.lane[l]), buffer.dtype);
      if (st.result) t_.vars[st.result.get()] = convertScalar(old, buffer.dtype, st.result->dtype);
    }
    return;
  }
  if (st.bitMask) {
    if (lanes != 1) fault("an atomic store of bits must be scalar");
    if (holdsFloat(buffer.dtype)) fault("an atomic store of bits to a float buffer");
    int64_t mask = evalAs(st.bitMask, buffer.dtype).i;
    int64_t old = loadScalar(bytes, buffer.dtype).i;
    storeScalar(bytes, intScalar((old & ~mask) | (v.lane[0].i & mask)), buffer.dtype);
    return;
  }
  for (int l = 0; l < lanes; ++l) storeScalar(bytes + l * eb, v.lane[l], buffer.dtype);
}

const TensorMap& Executor::tensorMap(const ir::IntrinsicStmt& op) {
  if (!op.tensorMap) fault(std::string(ir::name(op.op)) + " without a tensor map");
  auto found = run_.tensorMaps.find(op.tensorMap.get());
  if (found == run_.tensorMaps.end()) fault("tensor map '" + op.tensorMap->name + "' is not a parameter");
  return found->second;
}

void Executor::execIntrinsic(const ir::IntrinsicStmt& op) {
  using ir::IntrinsicOp;
  auto arg = [&](size_t i) {
    if (i >= op.args.size()) fault(std::string(ir::name(op.op)) + " lacks operand " + std::to_string(i));
    return evalInt(op.args[i]);
  };
  auto rankArg = [&](size_t i) {
    int64_t r = arg(i);
    if (r < 0 || r >= block_.ranks())
      fault("cluster rank " + std::to_string(r) + " of a cluster of " + std::to_string(block_.ranks()) + " blocks");
    return int(r);
  };
  const int own = t_.rank;
  switch (op.op) {
    case IntrinsicOp::MbarrierInit:
      block_.mbarrierInit(own, arg(0), arg(1), t_.at);
      return;
    case IntrinsicOp::MbarrierArriveExpectTx:
      block_.mbarrierArrive(own, arg(0), arg(1));
      return;
    case IntrinsicOp::MbarrierArrive:
      block_.mbarrierArrive(own, arg(0), 0);
      return;
    case IntrinsicOp::MbarrierExpectTx:
      block_.mbarrierExpectTx(own, arg(0), arg(1));
      return;
    case IntrinsicOp::FenceMbarrierInit:
    case IntrinsicOp::PrefetchTensorMap:
      if (op.op == IntrinsicOp::PrefetchTensorMap) tensorMap(op);
      return;
    case IntrinsicOp::MbarrierWaitParity:
      fault("mbarrier_wait_parity outside the scheduler");
    case IntrinsicOp::MbarrierArriveRemote:
      block_.mbarrierArrive(rankArg(1), arg(0), arg(2));
      return;
    case IntrinsicOp::TmaLoad: {
      const TensorMap& map = tensorMap(op);
      if (op.args.size() < 3) fault("tma_load needs coordinates");
      std::vector<int64_t> coords;
      for (size_t i = 2; i < op.args.size(); ++i) coords.push_back(evalAs(op.args[i], DType::Int32).i);
      // A multicast reaches the blocks whose bit is set in the 16-bit ctaMask.
      std::vector<int> ranks;
      if (op.immediate == 0) ranks.push_back(own);
      for (int r = 0; r < 16; ++r)
        if (op.immediate & (int64_t(1) << r)) {
          if (r >= block_.ranks())
            fault("a multicast to rank " + std::to_string(r) + " of a cluster of " + std::to_string(block_.ranks()) +
                  " blocks");
          ranks.push_back(r);
        }
      block_.tmaLoad(map, ranks, arg(0), arg(1), std::move(coords), {});
      return;
    }
    case IntrinsicOp::TmaStore: {
      const TensorMap& map = tensorMap(op);
      std::vector<int64_t> coords;
      for (size_t i = 1; i < op.args.size(); ++i) coords.push_back(evalAs(op.args[i], DType::Int32).i);
      block_.tmaStore(map, own, arg(0), coords);
      return;
    }
    case IntrinsicOp::BulkCommitGroup:
    case IntrinsicOp::BulkWaitGroupRead:
    case IntrinsicOp::BulkWaitGroup:
      return;  // bulk stores are applied when issued
    case IntrinsicOp::CpAsync: {
      if (!op.buffer) fault("cp.async without a source buffer");
      int64_t size = op.immediate;
      if (size != 4 && size != 8 && size != 16) fault("cp.async of " + std::to_string(size) + " bytes");
      int64_t sharedOffset = arg(0), sourceBytes = arg(2);
      if (sourceBytes < 0 || sourceBytes > size)
        fault("cp.async reads " + std::to_string(sourceBytes) + " of its " + std::to_string(size) + " bytes");
      if (sharedOffset % size != 0)
        fault("cp.async to shared offset " + std::to_string(sharedOffset) + ", not a multiple of " + std::to_string(size));
      block_.shared(own, sharedOffset, size, "cp.async destination");
      CpAsyncCopy copy{sharedOffset, nullptr, sourceBytes, size};
      if (sourceBytes > 0) {
        int eb = elementBytes(op.buffer->dtype);
        if (eb == 0 || sourceBytes % eb != 0) fault("cp.async of a partial element");
        copy.source = element(*op.buffer, arg(1), int(sourceBytes / eb), int(size), false);
      }
      if (run_.options.asyncCopies == AsyncCopies::AtIssue) {
        uint8_t* dst = block_.shared(own, copy.sharedOffset, copy.totalBytes, "cp.async destination");
        std::memset(dst, 0, size_t(copy.totalBytes));
        if (copy.source) std::memcpy(dst, copy.source, size_t(copy.sourceBytes));
      } else {
        t_.openGroup.push_back(copy);
      }
      return;
    }
    case IntrinsicOp::CpAsyncCommitGroup:
      t_.committedGroups.push_back(std::move(t_.openGroup));
      t_.openGroup.clear();
      return;
    case IntrinsicOp::CpAsyncWaitGroup:
      // Only committed groups complete; the newest `immediate` may stay in flight.
      while (int64_t(t_.committedGroups.size()) > op.immediate) {
        for (const CpAsyncCopy& copy : t_.committedGroups.front()) {
          uint8_t* dst = block_.shared(own, copy.sharedOffset, copy.totalBytes, "cp.async destination");
          std::memset(dst, 0, size_t(copy.totalBytes));
          if (copy.source) std::memcpy(dst, copy.source, size_t(copy.sourceBytes));
        }
        t_.committedGroups.pop_front();
      }
      return;
    case IntrinsicOp::BulkCopyDsmem: {
      int rank = rankArg(4);
      int64_t dst = arg(0), src = arg(1), bytes = arg(2);
      if (bytes % 16 != 0 || dst % 16 != 0 || src % 16 != 0)
        fault("a bulk shared-memory copy needs 16-byte multiples (" + std::to_string(bytes) + " bytes)");
      std::memmove(block_.shared(rank, dst, bytes, "bulk copy destination"),
                   block_.shared(own, src, bytes, "bulk copy source"), size_t(bytes));
      block_.mbarrierCompleteTx(rank, arg(3), bytes);
      return;
    }
    case IntrinsicOp::BulkLoad:
    case IntrinsicOp::BulkStore: {
      // cp.async.bulk: 16-byte aligned addresses, a multiple of 16 bytes, every byte
      // inside the global argument (element() faults otherwise).
      if (!op.buffer) fault("a bulk copy without a global buffer");
      bool load = op.op == IntrinsicOp::BulkLoad;
      int64_t sharedOffset = arg(0), bytes = arg(load ? 3 : 2), index = arg(load ? 2 : 1);
      int eb = elementBytes(op.buffer->dtype);
      if (bytes <= 0 || bytes % 16 != 0 || sharedOffset % 16 != 0 || eb == 0 || bytes % eb != 0)
        fault("a bulk copy of " + std::to_string(bytes) + " bytes at shared +" + std::to_string(sharedOffset) +
              " (needs 16-byte multiples)");
      uint8_t* global = element(*op.buffer, index, int(bytes / eb), 16, !load);
      if (!load) {
        std::memcpy(global, block_.shared(own, sharedOffset, bytes, "bulk store source"), size_t(bytes));
        return;
      }
      block_.shared(own, sharedOffset, bytes, "bulk load destination");
      block_.bulkLoad(own, sharedOffset, arg(1), global, bytes);
      return;
    }
    case IntrinsicOp::TmaLoadIm2col: {
      const TensorMap& map = tensorMap(op);
      if (op.args.size() != 8) fault("an im2col TMA load takes 8 operands");
      std::vector<int64_t> coords, offsets;
      for (size_t i = 2; i < 6; ++i) coords.push_back(evalAs(op.args[i], DType::Int32).i);
      for (size_t i = 6; i < 8; ++i) offsets.push_back(evalAs(op.args[i], DType::UInt16).i);  // 16-bit operands
      block_.tmaLoad(map, {own}, arg(0), arg(1), std::move(coords), std::move(offsets));
      return;
    }
    case IntrinsicOp::TmaGather4:
    case IntrinsicOp::TmaScatter4:
      fault(std::string(ir::name(op.op)) + " is not supported by the interpreter");
  }
  fault("unknown intrinsic");
}

// ------------------------------------------------------------ the cluster

std::string Cluster::blockName(int rank) const {
  const Cta& c = ctas_[size_t(rank)];
  return "block (" + std::to_string(c.index[0]) + ", " + std::to_string(c.index[1]) + ", " + std::to_string(c.index[2]) +
         ")";
}

uint8_t* Cluster::shared(int rank, int64_t offset, int64_t bytes, const std::string& what) {
  std::vector<uint8_t>& memory = ctas_[size_t(rank)].shared;
  if (offset < 0 || bytes < 0 || offset + bytes > int64_t(memory.size()))
    fault("out-of-bounds " + what + ": shared bytes [" + std::to_string(offset) + ", " + std::to_string(offset + bytes) +
          ") outside the block's " + std::to_string(memory.size()) + " bytes of dynamic shared memory");
  return memory.data() + offset;
}

MBarrier& Cluster::mbarrier(int rank, int64_t offset) {
  auto& barriers = ctas_[size_t(rank)].mbarriers;
  auto found = barriers.find(offset);
  if (found == barriers.end())
    fault("mbarrier at shared +" + std::to_string(offset) + " of " + blockName(rank) + " used before mbarrier_init");
  return found->second;
}

void Cluster::mbarrierInit(int rank, int64_t offset, int64_t count, const SourceRange& at) {
  if (offset % 8 != 0) fault("mbarrier at shared +" + std::to_string(offset) + " is not 8-byte aligned");
  shared(rank, offset, 8, "mbarrier");
  if (count < 1 || count > (1 << 20)) fault("mbarrier_init with arrival count " + std::to_string(count));
  MBarrier b;
  b.count = b.pending = count;
  b.initAt = at;
  ctas_[size_t(rank)].mbarriers[offset] = b;
}

void Cluster::mbarrierExpectTx(int rank, int64_t offset, int64_t bytes) {
  if (bytes < 0) fault("expect_tx of " + std::to_string(bytes) + " bytes");
  mbarrier(rank, offset).tx += bytes;
}

void Cluster::mbarrierArrive(int rank, int64_t offset, int64_t expectBytes) {
  MBarrier& b = mbarrier(rank, offset);
  if (expectBytes < 0) fault("expect_tx of " + std::to_string(expectBytes) + " bytes");
  b.tx += expectBytes;
  if (b.pending == 0)
    fault("an arrival on the mbarrier at shared +" + std::to_string(offset) + " beyond its count of " +
          std::to_string(b.count) + " (the phase waits for transaction bytes)");
  --b.pending;
  mbarrierCompleteTx(rank, offset, 0);
}

void Cluster::mbarrierCompleteTx(int rank, int64_t offset, int64_t bytes) {
  MBarrier& b = mbarrier(rank, offset);
  b.tx -= bytes;
  if (b.pending != 0 || b.tx != 0) return;
  ++b.phase;
  b.pending = b.count;
  for (auto& t : threads_)
    if (t->state == ThreadState::WaitingMbarrier && t->rank == rank && t->waitBarrier == offset &&
        (b.phase & 1) != t->waitParity)
      t->state = ThreadState::Runnable;
}

bool Cluster::mbarrierWait(SimThread& me, int64_t offset, int64_t parity) {
  auto ready = [&] { return (mbarrier(me.rank, offset).phase & 1) != parity; };
  if (ready()) return false;
  completePendingLoads(&me.rank, &offset);
  if (ready()) return false;
  me.state = ThreadState::WaitingMbarrier;
  me.waitBarrier = offset;
  me.waitParity = parity;
  return true;
}

// The box of `map` at `coords` (innermost first) <-> shared memory at `sharedOffset`,
// row-major and dense, with the map's swizzle applied to each byte offset. Loads
// read zeros outside the tensor; stores drop those elements.
void Cluster::tmaBox(const TensorMap& map, int rank, int64_t sharedOffset, const std::vector<int64_t>& coords,
                     bool load) {
  size_t dims = map.dims.size();
  if (coords.size() != dims)
    fault("a TMA copy with " + std::to_string(coords.size()) + " coordinates through rank-" + std::to_string(dims) +
          " tensor map '" + map.name + "'");
  if (sharedOffset % 128 != 0)
    fault("a TMA copy at shared +" + std::to_string(sharedOffset) + ", not 128-byte aligned");
  // The innermost coordinate must fall on a 16-byte boundary (the GPU raises an
  // illegal instruction otherwise; an unpacking map counts fp4 elements, two a byte).
  if (!coords.empty()) {
    int64_t innerBits = coords[0] * (map.unpackFp4 ? 4 : 8 * int64_t(map.elemBytes));
    if (innerBits % 128 != 0)
      fault("a TMA copy through '" + map.name + "' at innermost coordinate " + std::to_string(coords[0]) +
            ", not on a 16-byte boundary (an illegal instruction on the GPU)");
  }
  int64_t count = 1;
  for (int64_t b : map.box) count *= b;
  int eb = map.elemBytes;
  if (map.unpackFp4) {
    tmaUnpackFp4(map, rank, sharedOffset, coords, count);
    return;
  }
  shared(rank, sharedOffset, count * eb, std::string("TMA ") + (load ? "load" : "store") + " through '" + map.name + "'");
  uint8_t* memory = ctas_[size_t(rank)].shared.data();
  const GlobalRegion* region = run_.regionOf(map.address);
  std::vector<int64_t> position(dims, 0);
  for (int64_t n = 0; n < count; ++n) {
    bool inside = true;
    int64_t offset = int64_t(map.address - region->base);
    for (size_t d = 0; d < dims; ++d) {
      int64_t g = coords[d] + position[d];
      inside = inside && g >= 0 && g < map.dims[d];
      offset += g * map.strideBytes[d];
    }
    int64_t o = sharedOffset + n * eb;
    if (map.swizzleBytes) o ^= ((o >> 7) % (map.swizzleBytes / 16)) << 4;
    uint8_t* tile = memory + o;
    if (inside && (offset < 0 || offset + eb > int64_t(region->buffer->bytes.size())))
      fault("tensor map '" + map.name + "' reaches byte " + std::to_string(offset) + " of argument " + region->params +
            ", which holds " + std::to_string(region->buffer->bytes.size()) + " bytes");
    if (load) {
      if (inside) std::memcpy(tile, region->buffer->bytes.data() + offset, size_t(eb));
      else std::memset(tile, 0, size_t(eb));
    } else if (inside) {
      std::memcpy(region->buffer->bytes.data() + offset, tile, size_t(eb));
    }
    for (size_t d = 0; d < dims && ++position[d] == map.box[d]; ++d) position[d] = 0;
  }
}

// A 16U4_ALIGN16B load: element pairs (one global byte each, the map's rules keep a
// pair wholly inside or outside) to the unpacked tile, a byte slot an element, each
// run of 16 elements as 8 packed bytes followed by 8 bytes left as they were.
void Cluster::tmaUnpackFp4(const TensorMap& map, int rank, int64_t sharedOffset, const std::vector<int64_t>& coords,
                           int64_t count) {
  if (map.box[0] != 128 || coords[0] % 2 != 0 || map.swizzleBytes)
    fault("unpacking tensor map '" + map.name + "' used with an inner box of " + std::to_string(map.box[0]) +
          " elements or an odd coordinate");
  shared(rank, sharedOffset, count, "TMA load through '" + map.name + "'");
  uint8_t* memory = ctas_[size_t(rank)].shared.data();
  const GlobalRegion* region = run_.regionOf(map.address);
  size_t dims = map.dims.size();
  std::vector<int64_t> position(dims, 0);
  for (int64_t n = 0; n < count; n += 2) {
    bool inside = true;
    int64_t offset = int64_t(map.address - region->base);
    for (size_t d = 0; d < dims; ++d) {
      int64_t g = coords[d] + position[d];
      inside = inside && g >= 0 && g < map.dims[d];
      offset += d == 0 ? g / 2 : g * map.strideBytes[d];
    }
    int64_t e = n % 128;  // the element's place in its box row
    uint8_t* slot = memory + sharedOffset + (n - e) + (e / 16) * 16 + (e % 16) / 2;
    if (inside && (offset < 0 || offset + 1 > int64_t(region->buffer->bytes.size())))
      fault("tensor map '" + map.name + "' reaches byte " + std::to_string(offset) + " of argument " + region->params +
            ", which holds " + std::to_string(region->buffer->bytes.size()) + " bytes");
    *slot = inside ? region->buffer->bytes[size_t(offset)] : 0;
    position[0] += 2;
    for (size_t d = 0; d < dims && position[d] == map.box[d]; ++d) {
      position[d] = 0;
      if (d + 1 < dims) ++position[d + 1];
    }
  }
}

// im2col mode: `pixels` filter bases from (w, h, n) = coords[1..3], each the next
// after the one before in the bounding box; base b reads channels [c, c + channels)
// of pixel (n, h + offsets[1], w + offsets[0]), zeros outside the image (and past
// its last N), into row b of the dense (pixels, channels) tile.
void Cluster::tmaIm2col(const TensorMap& map, int rank, int64_t sharedOffset, const std::vector<int64_t>& coords,
                        const std::vector<int64_t>& offsets) {
  if (map.dims.size() != 4 || coords.size() != 4 || offsets.size() != 2)
    fault("an im2col TMA load needs a rank-4 map, 4 coordinates and 2 offsets");
  if (sharedOffset % 128 != 0)
    fault("a TMA copy at shared +" + std::to_string(sharedOffset) + ", not 128-byte aligned");
  int eb = map.elemBytes;
  shared(rank, sharedOffset, map.boxBytes(), "TMA im2col load through '" + map.name + "'");
  uint8_t* memory = ctas_[size_t(rank)].shared.data();
  const GlobalRegion* region = run_.regionOf(map.address);
  int64_t lastW = map.dims[1] - 1 + map.upperCorner[0], lastH = map.dims[2] - 1 + map.upperCorner[1];
  int64_t w = coords[1], h = coords[2], n = coords[3];
  if (w < map.lowerCorner[0] || w > lastW || h < map.lowerCorner[1] || h > lastH)
    fault("an im2col TMA load starting at base (w " + std::to_string(w) + ", h " + std::to_string(h) +
          ") outside the bounding box of '" + map.name + "'");
  for (int64_t pixel = 0; pixel < map.pixels; ++pixel) {
    int64_t x = w + offsets[0], y = h + offsets[1];
    bool pixelInside = x >= 0 && x < map.dims[1] && y >= 0 && y < map.dims[2] && n >= 0 && n < map.dims[3];
    for (int64_t k = 0; k < map.channels; ++k) {
      int64_t c = coords[0] + k;
      int64_t o = sharedOffset + (pixel * map.channels + k) * eb;
      if (map.swizzleBytes) o ^= ((o >> 7) % (map.swizzleBytes / 16)) << 4;
      uint8_t* tile = memory + o;
      if (!pixelInside || c < 0 || c >= map.dims[0]) {
        std::memset(tile, 0, size_t(eb));
        continue;
      }
      int64_t offset = int64_t(map.address - region->base) + c * map.strideBytes[0] + x * map.strideBytes[1] +
                       y * map.strideBytes[2] + n * map.strideBytes[3];
      if (offset < 0 || offset + eb > int64_t(region->buffer->bytes.size()))
        fault("tensor map '" + map.name + "' reaches byte " + std::to_string(offset) + " of argument " +
              region->params + ", which holds " + std::to_string(region->buffer->bytes.size()) + " bytes");
      std::memcpy(tile, region->buffer->bytes.data() + offset, size_t(eb));
    }
    // The next base: `stride` on along W, else the next row of bases, else the next image.
    w += map.stride;
    if (w > lastW) {
      w = map.lowerCorner[0];
      h += map.stride;
      if (h > lastH) {
        h = map.lowerCorner[1];
        ++n;
      }
    }
  }
}

void Cluster::landLoad(const PendingTmaLoad& load) {
  if (load.bulkSource) {
    std::memcpy(shared(load.rank, load.sharedOffset, load.bulkBytes, "bulk load destination"), load.bulkSource,
                size_t(load.bulkBytes));
    mbarrierCompleteTx(load.rank, load.barrier, load.bulkBytes);
    return;
  }
  if (load.im2colOffsets.empty()) tmaBox(*load.map, load.rank, load.sharedOffset, load.coords, true);
  else tmaIm2col(*load.map, load.rank, load.sharedOffset, load.coords, load.im2colOffsets);
  mbarrierCompleteTx(load.rank, load.barrier, load.map->boxBytes());
}

void Cluster::tmaLoad(const TensorMap& map, std::vector<int> ranks, int64_t sharedOffset, int64_t barrier,
                      std::vector<int64_t> coords, std::vector<int64_t> im2colOffsets) {
  if (map.im2col != !im2colOffsets.empty())
    fault(std::string(map.im2col ? "a tiled" : "an im2col") + " TMA load through tensor map '" + map.name + "'");
  for (int rank : ranks) {
    mbarrier(rank, barrier);
    PendingTmaLoad load{&map, rank, sharedOffset, barrier, coords, im2colOffsets};
    if (run_.options.asyncCopies == AsyncCopies::AtIssue) landLoad(load);
    else pendingLoads_.push_back(std::move(load));
  }
}

// Lands the pending loads on the barrier at `barrier` of block `rank` (all when null).
void Cluster::completePendingLoads(const int* rank, const int64_t* barrier) {
  for (auto it = pendingLoads_.begin(); it != pendingLoads_.end();) {
    if (barrier && (it->barrier != *barrier || it->rank != *rank)) {
      ++it;
      continue;
    }
    PendingTmaLoad load = std::move(*it);
    it = pendingLoads_.erase(it);
    landLoad(load);
  }
}

void Cluster::bulkLoad(int rank, int64_t sharedOffset, int64_t barrier, const uint8_t* source, int64_t bytes) {
  mbarrier(rank, barrier);
  PendingTmaLoad load;
  load.rank = rank;
  load.sharedOffset = sharedOffset;
  load.barrier = barrier;
  load.bulkSource = source;
  load.bulkBytes = bytes;
  if (run_.options.asyncCopies == AsyncCopies::AtIssue) landLoad(load);
  else pendingLoads_.push_back(std::move(load));
}

void Cluster::tmaStore(const TensorMap& map, int rank, int64_t sharedOffset, const std::vector<int64_t>& coords) {
  if (map.im2col) fault("a TMA store through im2col tensor map '" + map.name + "'");
  tmaBox(map, rank, sharedOffset, coords, false);
}

// ---- the schedule

bool Cluster::syncThreads(SimThread& me, const ir::StmtNode& site, bool wholeCluster) {
  me.state = ThreadState::AtBarrier;
  me.barrierSite = &site;
  me.atClusterBarrier = wholeCluster;
  if (releaseBarrierIfComplete(me)) restartSchedule_ = true;
  return true;  // released or not, the scheduler picks who goes on
}

// The lanes of me's warp: all at this shuffle, they exchange values and go on. A
// lane that has exited, waits at a block barrier or at another shuffle never gets
// here: a divergent shuffle (undefined on the GPU), reported at once.
bool Cluster::warpShuffle(SimThread& me, const ir::StmtNode& site, const ir::VarNode* into, Scalar value, int mask) {
  int perBlock = run_.kernel.threads;
  if (perBlock % 32 != 0) fault("a warp shuffle in a block of " + std::to_string(perBlock) + " threads (not whole warps)");
  me.state = ThreadState::WaitingShuffle;
  me.shuffleSite = &site;
  me.shuffleValue = value;
  me.shuffleMask = mask;
  me.shuffleInto = into;
  int first = me.rank * perBlock + me.tid / 32 * 32;
  bool all = true;
  for (int lane = 0; lane < 32; ++lane) {
    const SimThread& t = *threads_[size_t(first + lane)];
    if (t.state == ThreadState::WaitingShuffle && (t.shuffleSite != &site || t.shuffleMask != mask))
      throw Fault{"divergent warp shuffle: lane " + std::to_string(lane) + " of warp " + std::to_string(me.tid / 32) +
                      " waits at the shuffle at line " + lineOf(t.shuffleSite->range) + ", lane " +
                      std::to_string(me.tid % 32) + " at line " + lineOf(site.range),
                  true};
    if (t.state == ThreadState::Exited || t.state == ThreadState::AtBarrier)
      throw Fault{"divergent warp shuffle at line " + lineOf(site.range) + ": lane " + std::to_string(lane) + " of warp " +
                      std::to_string(me.tid / 32) +
                      (t.state == ThreadState::Exited ? " has exited" : " waits at a barrier (line " + lineOf(t.barrierSite->range) + ")"),
                  true};
    all = all && t.state == ThreadState::WaitingShuffle;
  }
  if (!all) return true;
  std::vector<Scalar> offered;
  for (int lane = 0; lane < 32; ++lane) offered.push_back(threads_[size_t(first + lane)]->shuffleValue);
  for (int lane = 0; lane < 32; ++lane) {
    SimThread& t = *threads_[size_t(first + lane)];
    t.vars[t.shuffleInto] = offered[size_t(lane ^ mask)];
    t.state = ThreadState::Runnable;
    t.shuffleSite = nullptr;
  }
  return true;
}

// cluster_arrive(): one arrival at the current phase; the last thread of the
// cluster to arrive completes it and releases the threads waiting for it. A second
// arrival before the thread's wait is a fault (PTX: undefined).
void Cluster::clusterArrive(SimThread& me) {
  if (me.clusterArrivedPhase >= 0)
    fault("cluster_arrive twice without a cluster_wait between (the first at line " + lineOf(me.clusterArrivedAt) + ")");
  me.clusterArrivedPhase = clusterPhase_;
  me.clusterArrivedAt = me.at;
  if (++clusterArrivals_ < int64_t(threads_.size())) return;
  ++clusterPhase_;
  clusterArrivals_ = 0;
  for (auto& t : threads_)
    if (t->state == ThreadState::WaitingCluster) {
      t->state = ThreadState::Runnable;
      t->clusterArrivedPhase = -1;
    }
  restartSchedule_ = true;
}

// cluster_wait(): goes on once the phase it arrived at is complete; a wait without
// an arrival is a fault (it would wait for a phase the thread never joins).
bool Cluster::clusterWait(SimThread& me) {
  if (me.clusterArrivedPhase < 0) fault("cluster_wait without a cluster_arrive before it");
  if (clusterPhase_ > me.clusterArrivedPhase) {
    me.clusterArrivedPhase = -1;
    return false;
  }
  me.state = ThreadState::WaitingCluster;
  me.barrierSite = nullptr;
  return true;
}

// Every thread of the barrier's scope (me's block, or the cluster) at it: all go
// on. Threads still running, waiting elsewhere or exited: not yet (an exited thread
// never arrives: pickNext reports the deadlock).
bool Cluster::releaseBarrierIfComplete(const SimThread& me) {
  bool cluster = me.atClusterBarrier;
  std::map<const ir::StmtNode*, int> sites;
  for (auto& t : threads_) {
    if (!cluster && t->rank != me.rank) continue;
    if (t->state != ThreadState::AtBarrier || t->atClusterBarrier != cluster) return false;
    ++sites[t->barrierSite];
  }
  if (sites.size() > 1) {
    std::string where;
    for (auto& [site, n] : sites)
      where += (where.empty() ? "" : ", ") + std::string("line ") + lineOf(site->range) + " (" + std::to_string(n) +
               " threads)";
    throw Fault{"threads meet at different " + std::string(cluster ? "cluster_sync" : "sync_threads") + ": " + where,
                true};
  }
  for (auto& t : threads_)
    if (cluster || t->rank == me.rank) t->state = ThreadState::Runnable;
  return true;
}

std::string Cluster::deadlockReport() {
  std::map<std::string, int> groups;
  for (auto& t : threads_) {
    std::string block = ranks() > 1 ? " in " + blockName(t->rank) : "";
    switch (t->state) {
      case ThreadState::AtBarrier:
        ++groups[std::string("wait at ") + (t->atClusterBarrier ? "cluster_sync" : "sync_threads") + " (line " +
                 lineOf(t->barrierSite->range) + ")" + block];
        break;
      case ThreadState::WaitingMbarrier: {
        const MBarrier& b = ctas_[size_t(t->rank)].mbarriers.at(t->waitBarrier);
        ++groups["wait on the mbarrier at shared +" + std::to_string(t->waitBarrier) + " for parity " +
                 std::to_string(t->waitParity) + " (phase " + std::to_string(b.phase) + ": " +
                 std::to_string(b.pending) + " of " + std::to_string(b.count) + " arrivals and " +
                 std::to_string(b.tx) + " transaction bytes outstanding)" + block];
        break;
      }
      case ThreadState::WaitingCluster:
        ++groups["wait at cluster_wait (arrived at line " + lineOf(t->clusterArrivedAt) + "; " +
                 std::to_string(clusterArrivals_) + " of " + std::to_string(threads_.size()) +
                 " threads of the cluster have arrived)" + block];
        break;
      case ThreadState::WaitingShuffle:
        ++groups["wait at a warp shuffle (line " + lineOf(t->shuffleSite->range) + ") that lanes of their warp never reach (divergent)" + block];
        break;
      case ThreadState::Exited:
        ++groups["have exited" + block];
        break;
      case ThreadState::Runnable:
        break;
    }
  }
  std::string report = "deadlock: no thread can go on:";
  for (auto& [what, n] : groups) report += " " + std::to_string(n) + " thread(s) " + what + ";";
  report.pop_back();
  return report;
}

// The next runnable thread after place `position` of the schedule order (cyclic),
// or -1 when every thread has exited. Pending TMA loads land before a deadlock is
// declared: the copy engine is the one agent that never waits.
int Cluster::pickNext(int position) {
  int n = int(threads_.size());
  for (;;) {
    for (int k = 1; k <= n; ++k) {
      int slot = order_[size_t((position + k) % n)];
      if (threads_[size_t(slot)]->state == ThreadState::Runnable) return slot;
    }
    if (!pendingLoads_.empty()) {
      completePendingLoads(nullptr, nullptr);
      continue;
    }
    bool allExited = std::all_of(threads_.begin(), threads_.end(),
                                 [](const auto& t) { return t->state == ThreadState::Exited; });
    if (allExited) return -1;
    throw Fault{deadlockReport(), true};
  }
}

void Cluster::report(const SimThread* culprit, const Fault& f) {
  std::string where = blockName(culprit ? culprit->rank : 0);
  if (f.blockWide && ranks() > 1) where = "the cluster of " + blockName(0);
  if (culprit && !f.blockWide) where += ", thread " + std::to_string(culprit->tid) + ", line " + lineOf(culprit->at);
  run_.errors.push_back(where + ": " + f.message);
}

void Cluster::execute() {
  int perBlock = run_.kernel.threads;
  int n = perBlock * ranks();
  for (int slot = 0; slot < n; ++slot) {
    threads_.push_back(std::make_unique<SimThread>());
    threads_.back()->tid = slot % perBlock;
    threads_.back()->rank = slot / perBlock;
    threads_.back()->slot = slot;
    order_.push_back(run_.options.order == ThreadOrder::Ascending ? slot : n - 1 - slot);
  }
  position_.resize(size_t(n));
  for (int k = 0; k < n; ++k) position_[size_t(order_[size_t(k)])] = k;
  SimThread* current = threads_[size_t(order_[0])].get();
  try {
    for (auto& t : threads_) Executor(*this, *t).enterBody(run_.kernel.body);
    for (;;) {
      if (Executor(*this, *current).resume()) current->state = ThreadState::Exited;
      int next = pickNext(restartSchedule_ ? n - 1 : position_[size_t(current->slot)]);
      restartSchedule_ = false;
      if (next < 0) return;  // every thread has exited
      current = threads_[size_t(next)].get();
    }
  } catch (const Fault& f) {
    report(current, f);
  } catch (const std::exception& e) {  // std::bad_alloc: a kernel asking for too much
    report(current, Fault{std::string("the interpreter failed: ") + e.what(), false});
  }
}

// ------------------------------------------------------------ the kernel

// Parameters, tensor maps, assumptions, requirements: what the launcher settles
// before a launch. Throws Fault for an argument the launch could not take.
void prepare(KernelRun& run) {
  const ir::Kernel& k = run.kernel;
  std::map<const HostBuffer*, uint64_t> bases;
  for (const ir::Param& p : k.params) {
    if (!p.var) fault("parameter '" + p.name + "' has no variable");
    switch (p.kind) {
      case ir::ParamKind::Pointer: {
        HostBuffer* buffer = run.args.pointer(p.name);
        if (!buffer) fault("no argument for pointer parameter '" + p.name + "'");
        auto [it, added] = bases.emplace(buffer, 0);
        if (added) {
          it->second = kAddressSpacing * (bases.size()) + uint64_t(buffer->addressOffset);
          run.regions.push_back(GlobalRegion{buffer, it->second, "'" + p.name + "'"});
        } else {
          for (GlobalRegion& r : run.regions)
            if (r.buffer == buffer) r.params += " = '" + p.name + "'";
        }
        run.params[p.var.get()] = intScalar(int64_t(it->second));
        break;
      }
      case ir::ParamKind::Dim: {
        const int32_t* value = run.args.dim(p.name);
        if (!value) fault("no argument for dimension '" + p.name + "'");
        run.params[p.var.get()] = convertScalar(intScalar(*value), DType::Int32, p.var->dtype);
        run.intParams.emplace_back(p.var.get(), *value);
        break;
      }
      case ir::ParamKind::Scalar: {
        const double* value = run.args.scalar(p.name);
        if (!value) fault("no argument for scalar '" + p.name + "'");
        Scalar s = convertScalar(floatScalar(*value), DType::Float64, p.var->dtype);
        run.params[p.var.get()] = s;
        if (ir::isInt(p.var->dtype)) run.intParams.emplace_back(p.var.get(), s.i);
        break;
      }
      case ir::ParamKind::TensorMap:
        break;  // below, once every pointer has its address
    }
  }
  // Tables of pointers: each target becomes device memory, its address an element.
  for (const auto& [param, targets] : run.args.pointerTables()) {
    HostBuffer* table = run.args.pointer(param);
    if (table->dtype != DType::Int64 || table->elements() != int64_t(targets.size()))
      fault("the table of pointers for '" + param + "' must be int64 with one element per target");
    for (size_t i = 0; i < targets.size(); ++i) {
      uint64_t address = 0;
      if (HostBuffer* target = targets[i]) {
        auto [it, added] = bases.emplace(target, 0);
        if (added) {
          it->second = kAddressSpacing * (bases.size()) + uint64_t(target->addressOffset);
          run.regions.push_back(GlobalRegion{target, it->second, "'" + param + "'[" + std::to_string(i) + "]"});
        }
        address = it->second;
      }
      std::memcpy(table->bytes.data() + i * sizeof(uint64_t), &address, sizeof(uint64_t));  // little-endian host
    }
  }
  // Assumptions and requirements: the launcher would pick another variant, or refuse.
  for (const ir::Assumption& a : k.assumptions) {
    auto value = run.params.find(a.param.get());
    if (value == run.params.end()) fault("an assumption on '" + a.param->name + "', which is not a parameter");
    if (a.multiple > 0 && value->second.i % a.multiple != 0)
      fault("the arguments break this variant's assumption " + a.param->name + " % " + std::to_string(a.multiple) +
            " == 0 (the launcher would run another variant)");
  }
  for (const ir::Kernel::Requirement& r : k.requirements) {
    int64_t v = run.constant(r.value, r.what);
    if (r.multiple > 0 && v % r.multiple != 0)
      fault(r.what + " must be a multiple of " + std::to_string(r.multiple) + " (the launcher refuses the arguments)");
    if (v < r.minimum)
      fault(r.what + " must be at least " + std::to_string(r.minimum) + " (the launcher refuses the arguments)");
  }
  for (const ir::Param& p : k.params) {
    if (p.kind != ir::ParamKind::TensorMap) continue;
    if (!p.tensorMap || !p.tensorMap->tensor) fault("tensor map '" + p.name + "' has no TensorMapInfo");
    const ir::TensorMapInfo& info = *p.tensorMap;
    const ir::Buffer& t = *info.tensor;
    TensorMap map;
    map.name = p.name;
    map.tensor = &t;
    map.elemBytes = elementBytes(t.dtype);
    map.swizzleBytes = info.swizzleBytes;
    map.im2col = info.im2col.has_value();
    map.unpackFp4 = info.unpackFp4;
    if (map.im2col) {
      const ir::Im2colMapInfo& m = *info.im2col;
      for (int a = 0; a < 2; ++a) {
        map.lowerCorner[a] = m.lowerCorner[a];
        map.upperCorner[a] = m.upperCorner[a];
      }
      map.channels = m.channels;
      map.pixels = m.pixels;
      map.stride = m.stride;
      if (t.shape.size() != 4 || m.channels < 1 || m.pixels < 1 || m.stride < 1)
        fault("im2col tensor map '" + p.name + "' is not a rank-4 map of whole pixels");
    }
    auto base = t.data ? run.params.find(t.data.get()) : run.params.end();
    if (base == run.params.end()) fault("tensor map '" + p.name + "': its tensor has no pointer parameter");
    map.address = uint64_t(base->second.i);
    size_t rank = t.shape.size();
    if (rank < 1 || rank > 5 || t.strides.size() != rank || (!map.im2col && info.box.size() != rank))
      fault("tensor map '" + p.name + "' of rank " + std::to_string(rank));
    std::string refused;
    for (size_t i = 0; i < rank; ++i) {
      size_t axis = rank - 1 - i;  // innermost first
      map.dims.push_back(run.constant(t.shape[axis], "a dimension of '" + t.name + "'") * (map.unpackFp4 && i == 0 ? 2 : 1));
      map.strideBytes.push_back(run.constant(t.strides[axis], "a stride of '" + t.name + "'") * map.elemBytes);
      if (!map.im2col) map.box.push_back(info.box[axis]);
      if (map.dims.back() == 0) refused = "an empty dimension";
      if (i > 0 && map.strideBytes.back() % 16 != 0) refused = "a stride that is not a multiple of 16 bytes";
    }
    if (map.address % 16 != 0) refused = "a base address that is not 16-byte aligned";
    if (map.unpackFp4) {
      if (map.address % 32 != 0) refused = "a base address that is not 32-byte aligned (16U4_ALIGN16B)";
      for (size_t i = 1; i < rank; ++i)
        if (map.strideBytes[i] % 32 != 0) refused = "a stride that is not a multiple of 32 bytes (16U4_ALIGN16B)";
      if (map.dims[0] % 128 != 0) refused = "an innermost dimension that is not a multiple of 128 (16U4_ALIGN16B)";
    }
    if (map.im2col && rank == 4 &&
        (map.dims[1] - 1 + map.upperCorner[0] < map.lowerCorner[0] || map.dims[2] - 1 + map.upperCorner[1] < map.lowerCorner[1]))
      refused = "an image smaller than the filter: an empty bounding box";
    if (!refused.empty())
      fault("the driver refuses tensor map '" + p.name + "' (" + refused + "); the launcher would run another variant");
    if (!map.im2col) {
      for (int64_t b : map.box)
        if (b < 1 || b > 256) fault("tensor map '" + p.name + "' has a box extent of " + std::to_string(b));
      if (!map.unpackFp4 && (map.box[0] * map.elemBytes) % 16 != 0)
        fault("tensor map '" + p.name + "': the inner box extent is not a multiple of 16 bytes");
      if (map.swizzleBytes && map.box[0] * map.elemBytes > map.swizzleBytes)
        fault("tensor map '" + p.name + "': the inner box is wider than its " + std::to_string(map.swizzleBytes) +
              "-byte swizzle");
    }
    run.tensorMaps[p.var.get()] = std::move(map);
  }
}

}  // namespace

bool assumptionsHold(const ir::Kernel& kernel, const Arguments& args) {
  for (const ir::Assumption& a : kernel.assumptions) {
    for (const ir::Param& p : kernel.params) {
      if (p.var != a.param) continue;
      int64_t value = 0;
      if (p.kind == ir::ParamKind::Pointer) {
        HostBuffer* b = args.pointer(p.name);
        if (!b) return false;
        value = b->addressOffset;  // every buffer's base is otherwise 16-byte aligned
      } else if (const int32_t* d = args.dim(p.name)) {
        value = *d;
      } else if (const double* v = args.scalar(p.name)) {
        value = int64_t(*v);
      } else {
        return false;
      }
      if (a.multiple > 0 && value % a.multiple != 0) return false;
    }
  }
  return true;
}

Result run(const ir::Kernel& kernel, const Arguments& args, const Options& options) {
  Result result;
  KernelRun run(kernel, args, options);
  int grid[3] = {1, 1, 1};
  const int* cluster = kernel.clusterDims;
  try {
    for (int d = 0; d < 3; ++d)
      if (cluster[d] < 1) fault("cluster dimensions must be positive");
    if (int64_t(cluster[0]) * cluster[1] * cluster[2] > 16) fault("a cluster of more than 16 blocks");
    if (kernel.threads < 1 || kernel.threads > 1024) fault("a block of " + std::to_string(kernel.threads) + " threads");
    if (!kernel.body) fault("the kernel has no body");
    prepare(run);
    for (int d = 0; d < 3; ++d) {
      int64_t extent = kernel.grid[d] ? run.constant(kernel.grid[d], "the grid") : 1;
      if (extent < 0 || extent > (int64_t(1) << 31) - 1) fault("grid extent " + std::to_string(extent));
      grid[d] = int(extent);
      if (grid[d] % cluster[d] != 0)
        fault("grid " + std::string(1, "xyz"[d]) + " = " + std::to_string(extent) + " is not a multiple of " +
              std::to_string(cluster[d]) + ", the cluster's extent: the launcher refuses it");
    }
  } catch (const Fault& f) {
    result.ok = false;
    result.errors.push_back(f.message);
    return result;
  }
  // Clusters one after another (x fastest); in one, the blocks by rank
  // (%cluster_ctarank: x fastest within the cluster).
  for (int cz = 0; cz < grid[2] && run.errors.empty(); cz += cluster[2])
    for (int cy = 0; cy < grid[1] && run.errors.empty(); cy += cluster[1])
      for (int cx = 0; cx < grid[0] && run.errors.empty(); cx += cluster[0]) {
        std::vector<std::array<int, 3>> blocks;
        for (int z = 0; z < cluster[2]; ++z)
          for (int y = 0; y < cluster[1]; ++y)
            for (int x = 0; x < cluster[0]; ++x) blocks.push_back({cx + x, cy + y, cz + z});
        Cluster(run, blocks).execute();
        result.blocksRun += int64_t(blocks.size());
      }
  result.errors = std::move(run.errors);
  result.ok = result.errors.empty();
  return result;
}

}  // namespace tlc::interp
