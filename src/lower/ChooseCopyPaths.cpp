// ChooseCopyPaths: see the header for the constraints.
#include "lower/ChooseCopyPaths.h"

#include <set>

#include "ir/Rewrite.h"
#include "lower/Im2colTma.h"

namespace tlc {

using namespace ir;

bool tensorMapDataType(DType t, const char** cuName) {
  const char* n = nullptr;
  switch (t) {
    case DType::Bool:
    case DType::Int8:
    case DType::UInt8:
    case DType::Float8E4M3:
    case DType::Float8E5M2: n = "CU_TENSOR_MAP_DATA_TYPE_UINT8"; break;
    case DType::Int16:
    case DType::UInt16: n = "CU_TENSOR_MAP_DATA_TYPE_UINT16"; break;
    case DType::Int32: n = "CU_TENSOR_MAP_DATA_TYPE_INT32"; break;
    case DType::UInt32: n = "CU_TENSOR_MAP_DATA_TYPE_UINT32"; break;
    case DType::Int64: n = "CU_TENSOR_MAP_DATA_TYPE_INT64"; break;
    case DType::UInt64: n = "CU_TENSOR_MAP_DATA_TYPE_UINT64"; break;
    case DType::Float16: n = "CU_TENSOR_MAP_DATA_TYPE_FLOAT16"; break;
    case DType::BFloat16: n = "CU_TENSOR_MAP_DATA_TYPE_BFLOAT16"; break;
    case DType::Float32: n = "CU_TENSOR_MAP_DATA_TYPE_FLOAT32"; break;
    case DType::Float64: n = "CU_TENSOR_MAP_DATA_TYPE_FLOAT64"; break;
    case DType::Float4E2M1:
    case DType::Handle: return false;
  }
  if (cuName) *cuName = n;
  return true;
}

std::string layoutObstacle(const Buffer& s) {
  const SharedLayout& l = s.sharedLayout;
  int elemBytes = bits(s.dtype) / 8;
  if (l.permutesPieces())
    return "tile '" + s.name + "' has the XOR swizzle chosen for a " + l.why + " (" +
           std::to_string(l.unit * elemBytes) + "-byte pieces, key = row / " + std::to_string(l.rowDiv) + " % " +
           std::to_string(l.span) + "), which no TMA swizzle mode expresses";
  if (l.pad)
    return "tile '" + s.name + "' is padded (" + std::to_string(l.pad) +
           " elements after each row); TMA writes and reads its box densely";
  if (l.swizzleBytes) {
    int64_t rowBytes = *asConstInt(s.shape.back()) * elemBytes;
    if (rowBytes != l.swizzleBytes)
      return "tile '" + s.name + "' has the " + std::to_string(l.swizzleBytes) + "-byte swizzle over rows of " +
             std::to_string(rowBytes) + " bytes; TMA's " + std::to_string(l.swizzleBytes) +
             "-byte swizzle needs rows of exactly " + std::to_string(l.swizzleBytes) + " bytes";
    int64_t rows = 1;
    for (size_t a = 0; a + 1 < s.shape.size(); ++a) rows *= *asConstInt(s.shape[a]);
    if (rows % 8 != 0)
      return "tile '" + s.name + "' has " + std::to_string(rows) + " rows under the " + std::to_string(l.swizzleBytes) +
             "-byte swizzle; TMA needs whole " + std::to_string(8 * l.swizzleBytes) +
             "-byte swizzle periods (a multiple of 8 rows)";
  }
  return "";
}

static bool sameLayout(const SharedLayout& a, const SharedLayout& b) {
  return a.unit == b.unit && a.span == b.span && a.rowDiv == b.rowDiv && a.swizzleBytes == b.swizzleBytes &&
         a.pad == b.pad;
}

std::optional<BulkDsmemPlan> planBulkDsmem(const CopyOp& c, std::string& why) {
  const Buffer& s = *c.src.buffer;
  const Buffer& d = *c.dst.buffer;
  if (s.dtype != d.dtype) {
    why = std::string("the copy converts ") + name(s.dtype) + " to " + name(d.dtype) + "; a bulk copy moves bytes";
    return std::nullopt;
  }
  if (c.options.layout) {
    why = "loop_layout '" + c.options.layout->name + "' asks for a copy by the threads";
    return std::nullopt;
  }
  if (c.options.coalescedWidth) {
    why = "coalesced_width asks for a copy by the threads";
    return std::nullopt;
  }
  const int64_t elem = bits(s.dtype) / 8;
  auto whole = [](const Region& r) {
    for (size_t a = 0; a < r.mins.size(); ++a) {
      auto m = asConstInt(r.mins[a]);
      if (!m || *m != 0 || r.extents[a] != *asConstInt(r.buffer->shape[a])) return false;
    }
    return true;
  };
  auto consts = [](const std::vector<ExprRef>& v) {
    std::vector<int64_t> out;
    for (const auto& e : v) out.push_back(*asConstInt(e));
    return out;
  };
  // Two whole tiles laid out alike: the tile's bytes in order, whatever the layout.
  if (whole(c.src) && whole(c.dst) && consts(s.shape) == consts(d.shape) && consts(s.strides) == consts(d.strides) &&
      sameLayout(s.sharedLayout, d.sharedLayout)) {
    BulkDsmemPlan plan;
    plan.runBytes = *asConstInt(s.shape[0]) * *asConstInt(s.strides[0]) * elem;
    if (plan.runBytes % 16 == 0) return plan;
    why = "the tile is " + std::to_string(plan.runBytes) + " bytes; a bulk copy moves a multiple of 16 bytes";
    return std::nullopt;
  }
  // Otherwise runs of elements contiguous on both sides, which an XOR swizzle breaks.
  for (const Buffer* b : {&s, &d})
    if (b->sharedLayout.permutesPieces() || b->sharedLayout.swizzleBytes) {
      why = "tile '" + b->name + "' has the layout " + describe(b->sharedLayout, b->dtype) +
            " and the copy is not between two whole tiles laid out alike; a bulk copy moves bytes in order";
      return std::nullopt;
    }
  for (const Region* r : {&c.src, &c.dst})
    for (const auto& m : r->mins)
      if (!asConstInt(m)) {
        why = "the region of '" + r->buffer->name + "' starts at " + toString(m) +
              ", known only at run time; a bulk copy needs addresses known to be 16-byte aligned";
        return std::nullopt;
      }
  // The loop dimensions (non-unit extents, the same on both sides) and each side's
  // element stride along them.
  std::vector<int64_t> extents, ss, ds;
  auto strideOf = [](const Region& r, std::vector<int64_t>& out) {
    for (size_t a = 0; a < r.extents.size(); ++a)
      if (r.extents[a] != 1) out.push_back(*asConstInt(r.buffer->strides[a]));
  };
  for (auto e : c.src.extents)
    if (e != 1) extents.push_back(e);
  strideOf(c.src, ss);
  strideOf(c.dst, ds);
  if (ss.size() != extents.size() || ds.size() != extents.size()) {
    why = "the two sides' extents differ";
    return std::nullopt;
  }
  BulkDsmemPlan plan;
  size_t k = extents.size();  // dimensions [k, n) form one contiguous run
  int64_t run = 1;
  if (k > 0 && ss[k - 1] == 1 && ds[k - 1] == 1) {
    run = extents[--k];
    while (k > 0 && ss[k - 1] == run && ds[k - 1] == run) run *= extents[--k];
  }
  plan.runBytes = run * elem;
  for (size_t i = 0; i < k; ++i) {
    plan.rowExtents.push_back(extents[i]);
    plan.srcStrides.push_back(ss[i] * elem);
    plan.dstStrides.push_back(ds[i] * elem);
  }
  for (size_t a = 0; a < c.src.mins.size(); ++a) plan.srcStart += *asConstInt(c.src.mins[a]) * *asConstInt(s.strides[a]) * elem;
  for (size_t a = 0; a < c.dst.mins.size(); ++a) plan.dstStart += *asConstInt(c.dst.mins[a]) * *asConstInt(d.strides[a]) * elem;
  if (plan.runBytes % 16 != 0) {
    why = std::string(plan.rowExtents.empty() ? "the region is " : "its contiguous rows are ") +
          std::to_string(plan.runBytes) + " bytes; a bulk copy moves a multiple of 16 bytes";
    return std::nullopt;
  }
  for (int side = 0; side < 2; ++side) {
    const Buffer& b = side ? d : s;
    int64_t start = side ? plan.dstStart : plan.srcStart;
    if (start % 16 != 0) {
      why = "the region starts at byte " + std::to_string(start) + " of tile '" + b.name +
            "'; a bulk copy needs 16-byte aligned addresses";
      return std::nullopt;
    }
    for (int64_t stride : side ? plan.dstStrides : plan.srcStrides)
      if (stride % 16 != 0) {
        why = "rows of tile '" + b.name + "' are " + std::to_string(stride) +
              " bytes apart; a bulk copy needs 16-byte aligned addresses";
        return std::nullopt;
      }
  }
  return plan;
}

namespace {

// Why `c` cannot be a TMA copy, or "" when it can (static constraints only).
std::string tmaObstacle(const CopyOp& c) {
  const Region* global = nullptr;
  const Region* shared = nullptr;
  if (c.src.buffer->scope == MemScope::Global && c.dst.buffer->scope == MemScope::Shared) {
    global = &c.src;
    shared = &c.dst;
  } else if (c.src.buffer->scope == MemScope::Shared && c.dst.buffer->scope == MemScope::Global) {
    global = &c.dst;
    shared = &c.src;
  } else {
    return "TMA moves data between global and shared memory only";
  }
  const Buffer& g = *global->buffer;
  const Buffer& s = *shared->buffer;
  if (g.dtype != s.dtype)
    return std::string("the two sides have different dtypes (") + name(c.src.buffer->dtype) + " and " +
           name(c.dst.buffer->dtype) + ")";
  if (!tensorMapDataType(g.dtype, nullptr)) return std::string("TMA cannot move ") + name(g.dtype);
  for (size_t a = 0; a < shared->extents.size(); ++a) {
    auto min = asConstInt(shared->mins[a]);
    if (!min || *min != 0 || shared->extents[a] != *asConstInt(s.shape[a]))
      return "the shared side is part of tile '" + s.name + "', not the whole tile";
  }
  if (std::string why = layoutObstacle(s); !why.empty()) return why;
  if (g.shape.size() > 5) return "the tensor has rank " + std::to_string(g.shape.size()) + "; TMA handles at most 5";
  if (g.elemOffset) return "the tensor has an elem_offset (a tensor map starts at the pointer itself)";
  auto inner = asConstInt(g.strides.back());
  if (!inner || *inner != 1) return "the tensor's innermost stride is not 1";
  int elemBytes = bits(g.dtype) / 8;
  int64_t innerBytes = global->extents.back() * elemBytes;
  if (innerBytes % 16 != 0)
    return "the innermost extent is " + std::to_string(innerBytes) + " bytes; TMA needs a multiple of 16";
  for (size_t a = 1; a < global->extents.size(); ++a)
    if (global->extents[a] > 256)
      return "the box extent " + std::to_string(global->extents[a]) + " along axis " + std::to_string(a) +
             " exceeds 256";
  return "";
}

// Why neither TMA nor cp.async may read `c`'s source, or "": both fill what lies
// outside the tensor with zeros, and a non-zero safe value needs another value there.
std::string zeroFillObstacle(const CopyOp& c) {
  const Buffer& s = *c.src.buffer;
  if (s.scope != MemScope::Global || !s.safeValue) return "";
  return "'" + s.name + "' reads " + toString(s.safeValue) +
         " outside its bounds (annotate_safe_value), but TMA and cp.async fill with zeros";
}

// True when `e` may differ between the blocks of a cluster or the threads of a
// block: a thread, block or rank index, a load, or a local computed from one.
bool differsInCluster(const ExprRef& e, const std::set<const VarNode*>& varying) {
  if (!e) return false;
  switch (e->kind) {
    case ExprKind::Call: {
      Builtin b = e->as<CallNode>().builtin;
      if (b == Builtin::ThreadIdx || b == Builtin::BlockIdx || b == Builtin::ClusterCtaRank) return true;
      for (const auto& a : e->as<CallNode>().args)
        if (differsInCluster(a, varying)) return true;
      return false;
    }
    case ExprKind::Binary:
      return differsInCluster(e->as<BinaryNode>().a, varying) || differsInCluster(e->as<BinaryNode>().b, varying);
    case ExprKind::Unary: return differsInCluster(e->as<UnaryNode>().a, varying);
    case ExprKind::Cast: return differsInCluster(e->as<CastNode>().a, varying);
    case ExprKind::Select:
      return differsInCluster(e->as<SelectNode>().cond, varying) || differsInCluster(e->as<SelectNode>().t, varying) ||
             differsInCluster(e->as<SelectNode>().f, varying);
    case ExprKind::Load: return true;
    case ExprKind::Var: return varying.count(&e->as<VarNode>()) != 0;
    default: return false;
  }
}

class PathChooser {
 public:
  PathChooser(const CopyPathOptions& options, DiagnosticEngine& diags) : options_(options), diags_(diags) {}
  bool ok = true;

  void stmt(const StmtRef& s, bool uniform) {
    if (!s) return;
    switch (s->kind) {
      case StmtKind::Seq:
        for (const auto& c : s->as<SeqStmt>().stmts) {
          note(c);
          stmt(c, uniform);
        }
        break;
      case StmtKind::For: {
        const auto& f = s->as<ForStmt>();
        if (f.kind == ForKind::Pipelined && f.stages >= 2) {
          if (f.body->kind == StmtKind::Seq)
            for (const auto& c : f.body->as<SeqStmt>().stmts) pipelined_.insert(c.get());
          else
            pipelined_.insert(f.body.get());
        }
        bool differs = differsInCluster(f.min, clusterVarying_) || differsInCluster(f.extent, clusterVarying_);
        bool byThread = dependsOnThread(f.min, varying_) || dependsOnThread(f.extent, varying_);
        if (differs) divergentInCluster_.push_back(s->range);
        if (byThread) divergentInBlock_.push_back(s->range);
        stmt(f.body, uniform && !byThread);
        if (differs) divergentInCluster_.pop_back();
        if (byThread) divergentInBlock_.pop_back();
        break;
      }
      case StmtKind::If: {
        const auto& i = s->as<IfStmt>();
        bool byThread = dependsOnThread(i.cond, varying_);
        bool u = uniform && !byThread;
        bool differs = differsInCluster(i.cond, clusterVarying_);
        if (differs) divergentInCluster_.push_back(s->range);
        if (byThread) divergentInBlock_.push_back(s->range);
        stmt(i.thenBody, u);
        stmt(i.elseBody, u);
        if (differs) divergentInCluster_.pop_back();
        if (byThread) divergentInBlock_.pop_back();
        break;
      }
      case StmtKind::Copy: copy(s->as<CopyOp>(), uniform); break;
      default: break;
    }
  }

 private:
  const CopyPathOptions& options_;
  DiagnosticEngine& diags_;
  std::set<const VarNode*> varying_;
  std::set<const StmtNode*> pipelined_;  // statements directly in a Pipelined loop's body
  std::set<const VarNode*> clusterVarying_;     // locals that may differ between blocks or threads
  std::vector<SourceRange> divergentInCluster_;  // enclosing ifs / loops that may differ so
  std::vector<SourceRange> divergentInBlock_;    // enclosing ifs / loops that depend on the thread

  void note(const StmtRef& s) {
    if (s->kind == StmtKind::Let && differsInCluster(s->as<LetStmt>().value, clusterVarying_))
      clusterVarying_.insert(s->as<LetStmt>().var.get());
    if (s->kind == StmtKind::Assign && differsInCluster(s->as<AssignStmt>().value, clusterVarying_))
      clusterVarying_.insert(s->as<AssignStmt>().var.get());
    if (s->kind == StmtKind::Let && dependsOnThread(s->as<LetStmt>().value, varying_))
      varying_.insert(s->as<LetStmt>().var.get());
    if (s->kind == StmtKind::Assign && dependsOnThread(s->as<AssignStmt>().value, varying_))
      varying_.insert(s->as<AssignStmt>().var.get());
  }

  // copy_cluster synchronizes the whole cluster (a cluster barrier before it, and
  // after a dst_block copy), so every thread of every block must reach it.
  void clusterCopy(CopyOp& c) {
    if (c.dstBlock && c.options.barrier) {
      signalledCopy(c);
      return;
    }
    if (!divergentInCluster_.empty()) {
      diags_.error(c.range, "copy_cluster waits for every thread of every block in the cluster, but this one is under a "
                            "condition or loop that may differ between threads or blocks");
      diags_.note(divergentInCluster_.back(), "the condition or loop bounds are here");
      ok = false;
      return;
    }
    c.path = CopyPath::Simt;
    if (c.dstBlock) {
      c.pathReason = "";  // remote stores through mapa; the bulk DSMEM copy needs remote_barrier
      return;
    }
    std::string why = tmaObstacle(c);
    bool sameType = c.src.buffer->dtype == c.dst.buffer->dtype;
    if (why.empty() && options_.allowTma) {
      c.path = CopyPath::TmaMulticast;
      return;
    }
    // Each block of the mask loads its own tile: the same result without TMA.
    if (sameType) c.path = CopyPath::CpAsync;
    if (!why.empty()) c.pathReason = "TMA multicast not used: " + why;
  }

  // copy_cluster(dst_block=, remote_barrier=) holds no cluster barrier: each block
  // may send or not (a condition on the block or the rank is fine), but all of its
  // threads take part (a block barrier before the bulk copy or after the stores).
  void signalledCopy(CopyOp& c) {
    if (!divergentInBlock_.empty()) {
      diags_.error(c.range, "copy_cluster with remote_barrier needs every thread of the block (it holds a block "
                            "barrier), but this one is under a condition or loop that depends on the thread");
      diags_.note(divergentInBlock_.back(), "the condition or loop bounds are here");
      ok = false;
      return;
    }
    std::string why;
    if (planBulkDsmem(c, why)) {
      c.path = CopyPath::BulkDsmem;
      return;
    }
    c.path = CopyPath::Simt;
    c.pathReason = "bulk DSMEM copy not used: " + why;
  }

  // An im2col copy: TMA's im2col mode where its constraints hold (one load per
  // tile, lower/Im2colTma.h), else the image's pixels gathered straight into the tile
  // by cp.async where the widths allow (LowerTileOps decides), ordinary loads
  // otherwise. The remark says which constraint kept TMA out.
  void im2colCopy(CopyOp& c, bool uniform) {
    c.path = CopyPath::CpAsync;
    if (!options_.allowTma) return;  // the general variant
    std::string why = im2colObstacle(c, uniform);
    if (!why.empty()) {
      c.pathReason = "TMA im2col mode not used: " + why;
      return;
    }
    c.path = CopyPath::TmaLoad;
  }

  std::string im2colObstacle(const CopyOp& c, bool uniform) {
    const Buffer& img = *c.src.buffer;
    const Buffer& tile = *c.dst.buffer;
    const Im2col& m = *c.im2col;
    if (!tensorMapDataType(img.dtype, nullptr)) return std::string("TMA cannot move ") + name(img.dtype);
    auto inner = asConstInt(img.strides.back());
    if (!inner || *inner != 1) return "the image's innermost (channel) stride is not 1";
    if (std::string why = layoutObstacle(tile); !why.empty()) return why;
    Im2colTmaShape shape;
    shape.kernel = m.kernel;
    shape.stride = m.stride;
    shape.dilation = m.dilation;
    shape.pad = m.pad;
    shape.bm = c.dst.extents[c.dst.extents.size() - 2];
    shape.bk = c.dst.extents.back();
    shape.elemBytes = bits(img.dtype) / 8;
    shape.channels = asConstInt(img.shape[3]);
    if (std::string why = im2colTmaObstacle(shape); !why.empty()) return why;
    // A tile under TMA's swizzle: the rows must be exactly the swizzle's span (checked by
    // layoutObstacle), which the im2col box's channels then are too.
    if (!uniform) return "not every thread reaches the copy (it is under a condition on the thread)";
    int64_t tileBytes = shape.bm * shape.bk * shape.elemBytes;
    if (pipelined_.count(&c) && tileBytes % 128 != 0)
      return "the tile is " + std::to_string(tileBytes) +
             " bytes, so the stages of a pipelined ring would not all be 128-byte aligned as TMA needs";
    return "";
  }

  void copy(CopyOp& c, bool uniform) {
    if (c.clusterMask || c.dstBlock) {
      clusterCopy(c);
      return;
    }
    c.path = CopyPath::Simt;
    if (c.transpose) return;  // shared -> shared, always by the threads
    if (c.im2col) {
      im2colCopy(c, uniform);
      return;
    }
    std::string why = tmaObstacle(c);
    if (c.options.tmaCopy) {
      // Only TMA has the meaning tma_copy promises (bytes completing on the user's
      // barrier); whether every thread of a leader group gets here is the user's.
      if (!why.empty()) {
        diags_.error(c.range, "tma_copy cannot use TMA: " + why);
        ok = false;
        return;
      }
      c.path = c.src.buffer->scope == MemScope::Global ? CopyPath::TmaLoad : CopyPath::TmaStore;
      return;
    }
    // A layout TMA cannot express is not the copy's error: the copy takes another
    // path and --remarks says why.
    const Buffer& tile = c.src.buffer->scope == MemScope::Shared ? *c.src.buffer : *c.dst.buffer;
    bool byLayout = tile.scope == MemScope::Shared && !why.empty() && why == layoutObstacle(tile);
    if (why.empty() && !uniform) why = "not every thread reaches the copy (it is under a condition on the thread)";
    if (why.empty() && c.options.layout)
      why = "loop_layout '" + c.options.layout->name +
            "' maps elements to threads, which a TMA copy (one bulk transfer issued by one thread) cannot follow";
    std::string zeroFill = zeroFillObstacle(c);
    if (why.empty()) why = zeroFill;
    bool globalShared = why.empty() || why.find("global and shared") == std::string::npos;
    if (c.options.prefer == PreferInstruction::Tma && !byLayout) {
      if (!why.empty()) {
        diags_.error(c.range, "prefer_instruction=\"tma\" cannot be honoured: " + why);
        ok = false;
        return;
      }
      if (c.options.disableTma) {
        diags_.error(c.range, "prefer_instruction=\"tma\" contradicts disable_tma=True");
        ok = false;
        return;
      }
    }
    if (c.options.prefer == PreferInstruction::CpAsync || c.options.async) {
      std::string obstacle;
      if (c.src.buffer->scope != MemScope::Global || c.dst.buffer->scope != MemScope::Shared)
        obstacle = "cp.async copies from global to shared memory only";
      else if (c.src.buffer->dtype != c.dst.buffer->dtype)
        obstacle = std::string("cp.async cannot convert ") + name(c.src.buffer->dtype) + " to " + name(c.dst.buffer->dtype);
      if (!obstacle.empty()) {
        diags_.error(c.range, std::string(c.options.async ? "async_copy" : "prefer_instruction=\"cp_async\"") +
                                  " cannot be honoured: " + obstacle);
        ok = false;
        return;
      }
      if (!zeroFill.empty()) {  // a synchronous SIMT copy: correct, only not asynchronous
        c.pathReason = "cp.async not used: " + zeroFill;
        return;
      }
      c.path = CopyPath::CpAsync;
      c.pathReason = "TMA not used: prefer_instruction=\"cp_async\"";
      return;
    }
    bool explicitSimt = c.options.prefer == PreferInstruction::Sync || c.options.disableTma;
    if (c.options.prefer == PreferInstruction::Sync) why = "prefer_instruction=\"sync\"";
    else if (c.options.disableTma) why = "disable_tma is set";
    if (!why.empty()) {
      if (globalShared) c.pathReason = "TMA not used: " + why;
      bool cpAsyncFits = c.src.buffer->scope == MemScope::Global && c.dst.buffer->scope == MemScope::Shared &&
                         c.src.buffer->dtype == c.dst.buffer->dtype;
      if (cpAsyncFits && !explicitSimt && !zeroFill.empty() && why != zeroFill)
        c.pathReason += "; cp.async not used: " + zeroFill;
      // cp.async still serves a global -> shared load TMA cannot do (measured faster
      // than ordinary loads, docs/performance.md), unless SIMT was asked for.
      if (!explicitSimt && cpAsyncFits && zeroFill.empty()) c.path = CopyPath::CpAsync;
      return;
    }
    bool load = c.src.buffer->scope == MemScope::Global;
    if (c.options.prefer == PreferInstruction::Auto) {
      // Measured on Hopper (docs/performance.md): a load that is not pipelined runs
      // faster as cp.async, and a store as 16-byte stores, than as TMA, which pays an
      // elected issue, an mbarrier round trip and a bulk-group wait per tile. TMA wins
      // where loads run ahead of the work in a Pipelined loop.
      if (!load) {
        c.pathReason = "TMA not used: 16-byte stores measured faster than a TMA store";
        return;
      }
      if (!pipelined_.count(&c)) {
        c.path = CopyPath::CpAsync;
        c.pathReason = "TMA not used: cp.async measured faster for a load that is not pipelined";
        return;
      }
    }
    if (!options_.allowTma) return;  // the general variant
    c.path = load ? CopyPath::TmaLoad : CopyPath::TmaStore;
  }
};

}  // namespace

bool chooseCopyPaths(Kernel& kernel, const CopyPathOptions& options, DiagnosticEngine& diags) {
  PathChooser chooser(options, diags);
  chooser.stmt(kernel.body, true);
  return chooser.ok;
}

}  // namespace tlc
