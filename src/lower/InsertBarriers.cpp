// InsertBarriers: see the header for the rule. The analysis keeps, between
// barriers, the shared buffers read and written so far, each view of a tile counted
// as its tile (storageOf): a write through one name and a read through another are
// the same bytes.
#include "lower/InsertBarriers.h"

#include <map>
#include <set>

#include "ir/Rewrite.h"

namespace tlc {
namespace {

using namespace ir;

// Atomics of one kind on one buffer commute (each thread's read-modify-write is
// indivisible), so they need no barrier among themselves; `atomicOnly` holds the
// written buffers whose every pending write is an atomic of that kind (they are in
// `writes` too, so every other access conflicts with them).
using AtomicWrites = std::map<const Buffer*, AtomicOp, ById>;

struct Pending {
  BufferSet reads, writes;
  AtomicWrites atomicOnly;
  // Written by ordinary stores since the last async-proxy fence: a TMA store of
  // such a tile needs `fence.proxy.async` in every writing thread first.
  BufferSet unfenced;
  void clear() { reads.clear(); writes.clear(); atomicOnly.clear(); }
  void merge(const Pending& o) {
    reads.insert(o.reads.begin(), o.reads.end());
    for (const Buffer* b : o.writes) {
      auto mine = atomicOnly.find(b);
      auto theirs = o.atomicOnly.find(b);
      bool atomicBoth = theirs != o.atomicOnly.end() && (!writes.count(b) || (mine != atomicOnly.end() && mine->second == theirs->second));
      if (atomicBoth) atomicOnly[b] = theirs->second;
      else atomicOnly.erase(b);
    }
    writes.insert(o.writes.begin(), o.writes.end());
    unfenced.insert(o.unfenced.begin(), o.unfenced.end());
  }
};

struct Accesses {
  BufferSet reads, writes;
  AtomicWrites atomics;  // one kind per buffer; a second kind counts as a plain write
};

Accesses sharedAccesses(const StmtRef& s) {
  Accesses a;
  AccessVisitor v{[&](const BufferRef& b, bool write) {
    if (b->scope != MemScope::Shared) return;
    (write ? a.writes : a.reads).insert(storageOf(b.get()));
  }};
  v.atomic = [&](const BufferRef& b, AtomicOp op) {
    if (b->scope != MemScope::Shared) return;
    auto [it, fresh] = a.atomics.emplace(storageOf(b.get()), op);
    if (!fresh && it->second != op) a.writes.insert(storageOf(b.get()));
  };
  forEachAccess(s, v);
  for (const Buffer* b : a.writes) a.atomics.erase(b);
  return a;
}

bool conflicts(const Accesses& a, const Pending& p) {
  for (auto* b : a.reads) if (p.writes.count(b)) return true;
  for (auto* b : a.writes) if (p.writes.count(b) || p.reads.count(b)) return true;
  for (auto [b, op] : a.atomics) {
    if (p.reads.count(b)) return true;
    auto only = p.atomicOnly.find(b);
    if (p.writes.count(b) && (only == p.atomicOnly.end() || only->second != op)) return true;
  }
  return false;
}

// Records `a` as pending in `state`.
void note(const Accesses& a, Pending& state) {
  state.reads.insert(a.reads.begin(), a.reads.end());
  for (const Buffer* b : a.writes) state.atomicOnly.erase(b);
  state.writes.insert(a.writes.begin(), a.writes.end());
  state.unfenced.insert(a.writes.begin(), a.writes.end());
  for (auto [b, op] : a.atomics) {
    if (!state.writes.count(b)) state.atomicOnly[b] = op;
    state.writes.insert(b);
    state.unfenced.insert(b);
  }
}

class BarrierInserter {
 public:
  // Processes a statement list in place; `state` flows through it.
  void list(std::vector<StmtRef>& stmts, Pending& state) {
    for (size_t i = 0; i < stmts.size(); ++i) {
      StmtRef s = stmts[i];  // a copy: inserting barriers below reallocates `stmts`
      if (s->kind == StmtKind::Barrier) {
        // A cluster barrier includes every thread of this block: it orders like one.
        BarrierKind kind = s->as<BarrierStmt>().barrier;
        if (kind == BarrierKind::SyncThreads || kind == BarrierKind::ClusterSync) state.clear();
        else if (kind == BarrierKind::FenceProxyAsync) state.unfenced.clear();
        // cluster_arrive / cluster_wait: the pair orders only what came before the
        // arrive, and this pass does not pair them: it orders nothing (a block
        // barrier may be added where the split one already orders; never one fewer).
        continue;
      }
      if (s->kind == StmtKind::Copy && s->as<CopyOp>().part == CopyOp::Part::WaitOnly) continue;  // writes nothing
      if (s->kind == StmtKind::Copy &&
          (s->as<CopyOp>().path == CopyPath::TmaLoad || s->as<CopyOp>().path == CopyPath::TmaMulticast)) {
        // Every thread waits for the load, so its data is visible to all afterwards:
        // only the tile's earlier readers and writers must be done (WAR, WAW).
        const Buffer* tile = storageOf(s->as<CopyOp>().dst.buffer.get());
        if (state.reads.count(tile) || state.writes.count(tile)) {
          stmts.insert(stmts.begin() + i, barrier(s->range));
          ++i;
          state.clear();
        }
        continue;
      }
      if (s->kind == StmtKind::Copy && s->as<CopyOp>().path == CopyPath::TmaStore) {
        // One thread hands the tile to the copy engine: every thread's ordinary
        // writes must be fenced for the async proxy and finished (RAW).
        const Buffer* tile = storageOf(s->as<CopyOp>().src.buffer.get());
        bool fence = state.unfenced.count(tile) != 0;
        if (fence) {
          stmts.insert(stmts.begin() + i, std::make_shared<BarrierStmt>(s->range, BarrierKind::FenceProxyAsync));
          ++i;
          state.unfenced.clear();
        }
        if (fence || state.writes.count(tile)) {
          stmts.insert(stmts.begin() + i, barrier(s->range));
          ++i;
          state.clear();
        }
        // The issuing thread waits until the tile has been read before it reaches
        // the next barrier, so later writers only need that barrier.
        state.reads.insert(tile);
        continue;
      }
      if (s->kind == StmtKind::Copy && s->as<CopyOp>().path == CopyPath::BulkDsmem) {
        // One thread hands the source tile to the bulk-copy engine (the async proxy):
        // every thread's earlier writes of it are fenced for the async proxy, then
        // finished (a block barrier), before it issues. Always both, whatever this
        // analysis saw write the tile: the fence is cheap and the copy's data must
        // never be stale.
        auto is = [&](size_t k, BarrierKind kind) {
          return stmts[k]->kind == StmtKind::Barrier && stmts[k]->as<BarrierStmt>().barrier == kind;
        };
        // (A loop body is processed twice: the first pass's pair is already there.)
        if (!(i >= 2 && is(i - 2, BarrierKind::FenceProxyAsync) && is(i - 1, BarrierKind::SyncThreads))) {
          stmts.insert(stmts.begin() + i, std::make_shared<BarrierStmt>(s->range, BarrierKind::FenceProxyAsync));
          stmts.insert(stmts.begin() + i + 1, barrier(s->range));
          i += 2;
        }
        state.clear();
        state.unfenced.clear();
        // The engine reads the tile while the copy is in flight; only the destination
        // block's barrier says when it is done, so the program must not rewrite it
        // before (docs/language.md). Its local writers still come after a barrier.
        // Nothing is written here: the destination tile is another block's.
        state.reads.insert(storageOf(s->as<CopyOp>().src.buffer.get()));
        continue;
      }
      if (s->kind == StmtKind::Let) noteVarying(s->as<LetStmt>().var, s->as<LetStmt>().value);
      if (s->kind == StmtKind::Assign) noteVarying(s->as<AssignStmt>().var, s->as<AssignStmt>().value);
      // An atomic's old value differs between the threads.
      if (s->kind == StmtKind::Store && s->as<StoreStmt>().result) varying_.insert(s->as<StoreStmt>().result.get());
      if (isUniformCompound(s)) {
        // Barriers may go inside: every thread runs the same path.
        if (needsBarrierAtEntry(s, state)) {
          stmts.insert(stmts.begin() + i, barrier(s->range));
          ++i;
          state.clear();
        }
        compound(s, state);
        continue;
      }
      Accesses a = sharedAccesses(s);
      if (conflicts(a, state)) {
        stmts.insert(stmts.begin() + i, barrier(s->range));
        ++i;
        state.clear();
      }
      note(a, state);
    }
  }

 private:
  VarSet varying_;

  void noteVarying(const VarRef& v, const ExprRef& value) {
    if (dependsOnThread(value, varying_)) varying_.insert(v.get());
  }

  static StmtRef barrier(SourceRange r) { return std::make_shared<BarrierStmt>(r, BarrierKind::SyncThreads); }

  bool isUniformCompound(const StmtRef& s) {
    if (s->kind == StmtKind::Seq) return true;
    if (s->kind == StmtKind::If) return !dependsOnThread(s->as<IfStmt>().cond, varying_);
    if (s->kind == StmtKind::For) {
      const auto& f = s->as<ForStmt>();
      return !dependsOnThread(f.min, varying_) && !dependsOnThread(f.extent, varying_);
    }
    return false;
  }

  // A uniform compound statement gets a barrier at its entry only when its condition
  // or bounds read shared memory that is pending; its body places its own.
  bool needsBarrierAtEntry(const StmtRef& s, const Pending& state) {
    Accesses a;
    auto reads = [&](const ExprRef& e) {
      forEachLoad(e, [&](const LoadNode& l) {
        if (l.buffer->scope == MemScope::Shared) a.reads.insert(storageOf(l.buffer.get()));
      });
    };
    if (s->kind == StmtKind::If) reads(s->as<IfStmt>().cond);
    if (s->kind == StmtKind::For) { reads(s->as<ForStmt>().min); reads(s->as<ForStmt>().extent); }
    return conflicts(a, state);
  }

  std::vector<StmtRef>& bodyList(StmtRef& body) {
    if (body->kind != StmtKind::Seq) body = std::make_shared<SeqStmt>(body->range, std::vector<StmtRef>{body});
    return body->as<SeqStmt>().stmts;
  }

  void compound(StmtRef& s, Pending& state) {
    switch (s->kind) {
      case StmtKind::Seq: list(s->as<SeqStmt>().stmts, state); break;
      case StmtKind::If: {
        auto& i = s->as<IfStmt>();
        Pending thenState = state, elseState = state;
        list(bodyList(i.thenBody), thenState);
        if (i.elseBody) list(bodyList(i.elseBody), elseState);
        thenState.merge(elseState);
        state = thenState;
        break;
      }
      case StmtKind::For: {
        auto& f = s->as<ForStmt>();
        auto& body = bodyList(f.body);
        // Twice: the second pass sees what the end of one iteration leaves pending
        // for the start of the next; the barriers of the first pass stay in place.
        Pending entry = state;
        Pending iter = state;
        list(body, iter);
        list(body, iter);
        entry.merge(iter);  // the loop may run zero times
        state = entry;
        break;
      }
      default: break;
    }
  }
};

}  // namespace

void insertBarriers(ir::Kernel& kernel) {
  BarrierInserter inserter;
  Pending state;
  if (kernel.body->kind != StmtKind::Seq)
    kernel.body = std::make_shared<SeqStmt>(kernel.body->range, std::vector<StmtRef>{kernel.body});
  inserter.list(kernel.body->as<SeqStmt>().stmts, state);
}

}  // namespace tlc
