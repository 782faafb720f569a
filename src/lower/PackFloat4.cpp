// PackFloat4: see the header. fp4 buffers -> uint8 byte twins, nibble loads and
// read-modify-write stores, Parallel loops that store fp4 split into pairs.
#include "lower/PackFloat4.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "ir/Rewrite.h"
#include "ir/StmtVisitor.h"

namespace tlc {

using namespace ir;

namespace {

bool isFp4(const BufferRef& b) { return b && b->dtype == DType::Float4E2M1; }

class Packer {
 public:
  Packer(Kernel& k, DiagnosticEngine& d) : kernel_(k), diags_(d) {}

  bool run() {
    if (!usesFp4()) return true;
    // Twin every fp4 buffer first: the split below asks which extents the launcher
    // makes even (an fp4 tensor's last dimension), and twinning records them.
    AccessVisitor early;
    early.access = [&](const BufferRef& b, bool) { twin(b); };
    forEachAccess(kernel_.body, early);
    StmtRef body = splitStoringLoops(kernel_.body, nullptr);
    if (!ok_) return false;
    RewriteHooks hooks;
    hooks.load = [&](const LoadNode& l, std::vector<ExprRef> idx) { return loadNibble(l, std::move(idx)); };
    hooks.store = [&](const StoreStmt& st, std::vector<ExprRef> idx, ExprRef value) {
      return storeNibble(st, std::move(idx), std::move(value));
    };
    body = rewriteStmt(body, {}, hooks);
    RegionFixer(*this).visit(body);
    for (auto& b : kernel_.allocations) b = twin(b);
    kernel_.body = body;
    return ok_;
  }

 private:
  void error(SourceRange r, const std::string& message) {
    diags_.error(r, message);
    ok_ = false;
  }

  bool usesFp4() {
    bool any = false;
    for (const auto& b : kernel_.allocations) any = any || isFp4(b);
    AccessVisitor v;
    v.access = [&](const BufferRef& b, bool) { any = any || isFp4(b); };
    forEachAccess(kernel_.body, v);
    return any;
  }

  // ----------------------------------------------------------- byte twins

  // `e` / 2 for an extent or stride of fp4 buffer `b` that must be even: a constant
  // is checked now, anything else becomes a launch-time requirement.
  ExprRef halve(const ExprRef& e, const Buffer& b, const std::string& what) {
    if (auto c = asConstInt(e)) {
      if (*c % 2 != 0)
        error(b.declRange, what + " of float4_e2m1fn " + (b.scope == MemScope::Global ? "tensor '" : "tile '") + b.name +
                               "' is " + std::to_string(*c) +
                               "; fp4 is packed two to a byte, so rows must hold whole bytes (an even number)");
      return intImm(*c / 2, e->dtype);
    }
    if (knownMultiple(e) % 2 != 0) {
      // One requirement per expression, naming every tensor that needs it; none for a
      // product with a factor already required to be even (a row stride L * N).
      std::string text = toString(e);
      if (text.size() > 2 && text.front() == '(' && text.back() == ')') text = text.substr(1, text.size() - 2);
      auto found = required_.find(text);
      if (found != required_.end()) {
        std::string& w = kernel_.requirements[found->second].what;
        if (w.find("'" + b.name + "'") == std::string::npos) {
          w.insert(w.rfind(" ("), ", '" + b.name + "'");
          if (size_t t = w.find("float4_e2m1fn tensor '"); t != std::string::npos) w.replace(t, 20, "float4_e2m1fn tensors");
        }
      } else if (!evenGiven(e)) {
        if (!onlyParameters(e)) {
          error(b.declRange, "not yet supported: " + what + " of float4_e2m1fn tensor '" + b.name + "' (" + text +
                                 ") is not provably even and depends on values the launcher does not know; fp4 rows "
                                 "must be whole bytes (write it as a multiple of 2)");
          return floorDiv(e, intImm(2, e->dtype));
        }
        required_.emplace(text, kernel_.requirements.size());
        kernel_.requirements.push_back({e, 2, what + " of float4_e2m1fn tensor '" + b.name + "' (" + text + ")",
                                         " (fp4 is packed two to a byte: rows must be whole bytes)"});
      }
    }
    return floorDiv(e, intImm(2, e->dtype));
  }

  // Whether the launcher can evaluate `e`: integer arithmetic on scalar parameters.
  bool onlyParameters(const ExprRef& e) {
    if (!e) return true;
    switch (e->kind) {
      case ExprKind::IntImm: return true;
      case ExprKind::Var:
        for (const Param& p : kernel_.params)
          if (p.var.get() == &e->as<VarNode>()) return p.kind == ParamKind::Dim || p.kind == ParamKind::Scalar;
        return false;
      case ExprKind::Cast: return onlyParameters(e->as<CastNode>().a);
      case ExprKind::Unary: return onlyParameters(e->as<UnaryNode>().a);
      case ExprKind::Binary: return onlyParameters(e->as<BinaryNode>().a) && onlyParameters(e->as<BinaryNode>().b);
      case ExprKind::Select:
        return onlyParameters(e->as<SelectNode>().cond) && onlyParameters(e->as<SelectNode>().t) &&
               onlyParameters(e->as<SelectNode>().f);
      default: return false;
    }
  }

  // Whether `e` is even for every run: provably, or because it is a product with a
  // factor already required to be even (a row stride L * N once L is).
  bool evenGiven(const ExprRef& e) {
    if (knownMultiple(e) % 2 == 0) return true;
    if (e->kind == ExprKind::Var) {
      std::string text = toString(e);
      return required_.count(text) != 0;
    }
    if (e->kind == ExprKind::Cast) return evenGiven(e->as<CastNode>().a);
    if (e->kind == ExprKind::Binary && e->as<BinaryNode>().op == BinOp::Mul)
      return evenGiven(e->as<BinaryNode>().a) || evenGiven(e->as<BinaryNode>().b);
    return false;
  }

  BufferRef twin(const BufferRef& b) {
    if (!isFp4(b)) return b;
    auto found = twins_.find(b.get());
    if (found != twins_.end()) return found->second;
    auto t = std::make_shared<Buffer>(*b);
    twins_[b.get()] = t;
    t->dtype = DType::UInt8;
    if (b->shape.empty()) {
      error(b->declRange, "not yet supported: a float4_e2m1fn buffer of rank 0 ('" + b->name + "')");
      return t;
    }
    auto inner = asConstInt(b->strides.back());
    if (!inner || *inner != 1) {
      error(b->declRange, "not yet supported: float4_e2m1fn " + std::string(b->scope == MemScope::Global ? "tensor '" : "tile '") +
                              b->name + "' with a last-axis stride other than 1 (" + toString(b->strides.back()) +
                              "); fp4 is packed two to a byte along the last axis");
      return t;
    }
    t->shape.back() = halve(b->shape.back(), *b, "the last dimension");
    for (size_t a = 0; a + 1 < b->strides.size(); ++a)
      t->strides[a] = halve(b->strides[a], *b, "the stride of axis " + std::to_string(a));
    if (b->elemOffset) t->elemOffset = halve(b->elemOffset, *b, "the elem_offset");
    if (b->safeValue) error(b->declRange, "not yet supported: a safe value for float4_e2m1fn tensor '" + b->name + "'");
    return t;
  }

  // ------------------------------------------------ stores: who owns a byte

  // Walks the tile IR before any rewriting: splits each Parallel loop that stores fp4
  // elements so that one thread writes both nibbles of every byte it touches, and
  // marks as atomic nibble updates (StoreStmt::bitMask) the stores for which that
  // cannot be shown.
  StmtRef splitStoringLoops(const StmtRef& s, const ParallelOp* par) {
    if (!s) return s;
    switch (s->kind) {
      case StmtKind::Seq: {
        auto out = std::make_shared<SeqStmt>(s->range);
        for (const auto& c : s->as<SeqStmt>().stmts) out->stmts.push_back(splitStoringLoops(c, par));
        return out;
      }
      case StmtKind::For: {
        auto out = std::make_shared<ForStmt>(s->as<ForStmt>());
        out->body = splitStoringLoops(out->body, par);
        return out;
      }
      case StmtKind::If: {
        auto out = std::make_shared<IfStmt>(s->as<IfStmt>());
        out->thenBody = splitStoringLoops(out->thenBody, par);
        out->elseBody = splitStoringLoops(out->elseBody, par);
        return out;
      }
      case StmtKind::Parallel: return splitParallel(s->as<ParallelOp>());
      case StmtKind::Store: {
        // Outside a Parallel loop every thread runs the store.
        checkFragmentLoads(s);
        const auto& st = s->as<StoreStmt>();
        if (par || !sharesBytes(st)) return s;
        return atomicNibble(st);
      }
      case StmtKind::Intrinsic: {
        const auto& in = s->as<IntrinsicStmt>();
        for (const BufferRef& b : {in.shared, in.buffer, in.barrier})
          if (isFp4(b)) error(in.range, std::string("not yet supported: ") + name(in.op) + " on float4_e2m1fn '" + b->name + "'");
        return s;
      }
      case StmtKind::Fill: return s;  // fixRegions makes it a fill of bytes
      case StmtKind::Reduce: return s;  // sema refuses float4_e2m1fn reductions
      default: checkFragmentLoads(s); return s;
    }
  }

  void checkFragmentLoads(const StmtRef& s) {
    AccessVisitor v;
    v.access = [&](const BufferRef& b, bool) {
      if (isFp4(b) && b->scope == MemScope::Fragment && s->kind != StmtKind::Copy && reportedFragments_.insert(b.get()).second)
        error(s->range, "not yet supported: element access to float4_e2m1fn fragment '" + b->name +
                            "' (a fragment spreads bytes, not nibbles, over the threads); copy it to a shared tile first");
    };
    forEachAccess(s, v);
  }

  // The form of fp4 store for which the split gives one thread both nibbles of each
  // byte it writes: the last index is the loop's innermost variable plus an even
  // offset. Other stores in the loop become atomic nibble updates.
  bool pairable(const StoreStmt& st, const ParallelOp& par) {
    // index = v + rest, where rest does not depend on v and is provably even.
    const VarRef& v = par.vars.back();
    const ExprRef& index = st.indices.back();
    ExprRef rest = substitute(index, VarMap{{v.get(), intImm(0, v->dtype)}});
    auto d = constantDifference(index, add(v, rest));
    if (!d || *d != 0 || knownMultiple(rest) % 2 != 0) return false;
    // The other indices must not change between j = 2m and 2m + 1, or the pair would
    // write two bytes and another thread the other halves of them.
    VarRef probe = makeVar(v->name, v->dtype);
    for (size_t a = 0; a + 1 < st.indices.size(); ++a)
      if (substitute(st.indices[a], VarMap{{v.get(), probe}}) != st.indices[a]) return false;
    // Two threads must never meet in one byte, whatever the guards around the store
    // select: every other loop variable (of extent > 1) is told apart by an index of
    // its own, `var + offset` with an offset that depends on no loop variable, so
    // different threads write different rows.
    auto dependsOnLoop = [&](const ExprRef& e) {
      for (const VarRef& w : par.vars)
        if (substitute(e, VarMap{{w.get(), makeVar(w->name, w->dtype)}}) != e) return true;
      return false;
    };
    for (size_t d = 0; d + 1 < par.vars.size(); ++d) {
      if (par.extents[d] == 1) continue;
      const VarRef& w = par.vars[d];
      bool own = false;
      for (size_t a = 0; a + 1 < st.indices.size() && !own; ++a) {
        const ExprRef& e = st.indices[a];
        ExprRef offset = substitute(e, VarMap{{w.get(), intImm(0, w->dtype)}});
        auto diff = constantDifference(e, add(w, offset));
        own = diff && *diff == 0 && !dependsOnLoop(offset);
      }
      if (!own) return false;
    }
    if (par.extents.back() % 2 != 0) return false;
    if (par.layout) return false;
    return true;
  }

  // An fp4 store whose byte other threads may write too: not to a thread's own local
  // buffer (fragments are reported by checkFragmentLoads).
  static bool sharesBytes(const StoreStmt& st) {
    return isFp4(st.buffer) && st.buffer->scope != MemScope::Local && st.buffer->scope != MemScope::Fragment;
  }

  static StmtRef atomicNibble(const StoreStmt& st) {
    auto out = std::make_shared<StoreStmt>(st);
    out->bitMask = intImm(15);  // the whole element; storeNibble places it in the byte
    return out;
  }

  StmtRef splitParallel(const ParallelOp& par) {
    // The fp4 stores the body makes (nested loops inside a Parallel loop are reported
    // by sema), and those that cannot be paired: they become atomic nibble updates.
    std::vector<const StoreStmt*> stores;
    std::set<const StoreStmt*> atomic;
    std::function<void(const StmtRef&)> scan = [&](const StmtRef& s) {
      if (!s) return;
      switch (s->kind) {
        case StmtKind::Seq: for (const auto& c : s->as<SeqStmt>().stmts) scan(c); break;
        case StmtKind::For: scan(s->as<ForStmt>().body); break;
        case StmtKind::If: scan(s->as<IfStmt>().thenBody); scan(s->as<IfStmt>().elseBody); break;
        case StmtKind::Store: {
          const auto& st = s->as<StoreStmt>();
          checkFragmentLoads(s);
          if (!sharesBytes(st)) break;
          stores.push_back(&st);
          if (!pairable(st, par)) atomic.insert(&st);
          break;
        }
        default: checkFragmentLoads(s); break;
      }
    };
    scan(par.body);
    if (stores.empty() || !ok_) return std::make_shared<ParallelOp>(par);
    // The split changes the loop's shape, which a fragment's layout follows; it needs
    // an even innermost extent (pairable checks it) and no loop_layout. Without it,
    // every fp4 store is atomic.
    AccessVisitor v;
    bool fragment = false;
    v.access = [&](const BufferRef& b, bool) { fragment = fragment || (b && b->scope == MemScope::Fragment); };
    forEachAccess(par.body, v);
    const VarRef& j = par.vars.back();
    VarSet locals;
    LocalsCollector(locals).visit(par.body);
    if (fragment || atomic.size() == stores.size()) {
      atomic.insert(stores.begin(), stores.end());
      auto out = std::make_shared<ParallelOp>(par);
      out->body = markSharedByteStores(par.body, j, locals, true, atomic);
      return out;
    }
    // for .., j in Parallel(.., 2n) { body }  ->  for .., m in Parallel(.., n) { body[j=2m]; body[j=2m+1] }
    VarRef m = makeVar(j->name + "_pair", j->dtype);
    std::vector<VarRef> vars = par.vars;
    vars.back() = m;
    std::vector<int64_t> extents = par.extents;
    extents.back() /= 2;
    StmtRef marked = markSharedByteStores(par.body, j, locals, true, atomic);
    auto body = std::make_shared<SeqStmt>(par.range);
    for (int64_t half = 0; half < 2; ++half) {
      ExprRef value = add(mul(m, intImm(2, j->dtype)), intImm(half, j->dtype));
      body->stmts.push_back(substitute(marked, VarMap{{j.get(), value}}));
    }
    auto out = std::make_shared<ParallelOp>(par.range, vars, extents, body);
    return out;
  }

  // ------------------------------------------ stores that share their byte
  //
  // After the split one thread runs j = 2m and then j = 2m + 1, so it writes both
  // nibbles of its byte; no other thread of this loop touches that byte. But where a
  // condition around the store can hold for one of the two and not the other, the
  // thread writes one nibble only, and the other may be written by another block or
  // by another iteration of an enclosing loop, unordered. Such stores become atomic
  // updates of their own nibble (StoreStmt::bitMask). A condition that holds for both
  // or neither ("pair-uniform"), such as the bounds guard `bx * 64 + j < N` of a
  // tile starting at an even column with N even, keeps the plain store.

  static bool mentions(const ExprRef& e, const VarNode* v) {
    VarRef probe = makeVar(v->name, v->dtype);
    return substitute(e, VarMap{{v, probe}}) != e;
  }

  // The locals a statement declares or assigns (loop variables, Lets, Assigns),
  // outside nested Parallel loops.
  class LocalsCollector : public StmtVisitor {
   public:
    explicit LocalsCollector(VarSet& out) : out_(out) {}

   protected:
    void visitFor(ForStmt& f) override {
      out_.insert(f.var.get());
      StmtVisitor::visitFor(f);
    }
    void visitLet(LetStmt& l) override { out_.insert(l.var.get()); }
    void visitAssign(AssignStmt& a) override { out_.insert(a.var.get()); }
    void visitParallel(ParallelOp&) override {}

   private:
    VarSet& out_;
  };

  // Whether `cond` has the same value for j = 2m and j = 2m + 1, for every m and
  // every value of the other variables. Locals of the loop body are opaque (they may
  // hold anything derived from j), so a condition that reads one is not.
  bool pairUniform(const ExprRef& cond, const VarRef& j, const VarSet& locals) {
    if (!cond) return true;
    for (const VarNode* l : locals)
      if (mentions(cond, l)) return false;
    if (!mentions(cond, j.get())) return true;
    if (cond->kind == ExprKind::Unary && cond->as<UnaryNode>().op == UnOp::Not)
      return pairUniform(cond->as<UnaryNode>().a, j, locals);
    if (cond->kind != ExprKind::Binary) return false;
    const auto& b = cond->as<BinaryNode>();
    if (b.op == BinOp::And || b.op == BinOp::Or) return pairUniform(b.a, j, locals) && pairUniform(b.b, j, locals);
    // `j + r < e` and `j + r >= e` with r and e even: 2m + r < e exactly when
    // 2m + 1 + r < e. (`<=` and `>` would need e odd.) Written the other way round:
    // `e > j + r` and `e <= j + r`.
    auto evenStep = [&](const ExprRef& x, const ExprRef& bound) {
      if (mentions(bound, j.get())) return false;
      ExprRef rest = substitute(x, VarMap{{j.get(), intImm(0, j->dtype)}});
      auto d = constantDifference(x, add(j, rest));
      return d && *d == 0 && evenGiven(rest) && evenGiven(bound);
    };
    switch (b.op) {
      case BinOp::Lt: case BinOp::Ge: return evenStep(b.a, b.b);
      case BinOp::Gt: case BinOp::Le: return evenStep(b.b, b.a);
      default: return false;
    }
  }

  // Marks (with a bitMask, made per byte by storeNibble) the fp4 stores of a Parallel
  // loop body that may write one nibble of a byte without the other.
  StmtRef markSharedByteStores(const StmtRef& s, const VarRef& j, const VarSet& locals,
                               bool uniform, const std::set<const StoreStmt*>& atomic) {
    if (!s) return s;
    switch (s->kind) {
      case StmtKind::Seq: {
        auto out = std::make_shared<SeqStmt>(s->range);
        for (const auto& c : s->as<SeqStmt>().stmts) out->stmts.push_back(markSharedByteStores(c, j, locals, uniform, atomic));
        return out;
      }
      case StmtKind::If: {
        auto out = std::make_shared<IfStmt>(s->as<IfStmt>());
        bool inside = uniform && pairUniform(out->cond, j, locals);
        out->thenBody = markSharedByteStores(out->thenBody, j, locals, inside, atomic);
        out->elseBody = markSharedByteStores(out->elseBody, j, locals, inside, atomic);
        return out;
      }
      case StmtKind::Store: {
        const auto& st = s->as<StoreStmt>();
        if (!sharesBytes(st)) return s;
        if (!atomic.count(&st) && uniform && pairUniform(st.predicate, j, locals)) return s;
        return atomicNibble(st);
      }
      default: return s;
    }
  }

  // ------------------------------------------------------ element accesses

  ExprRef loadNibble(const LoadNode& l, std::vector<ExprRef> idx) {
    if (!isFp4(l.buffer)) return nullptr;
    if (l.lanes != 1 || l.predicate || l.otherwise)
      diags_.internalError(kernel_.range, "a vector or predicated float4_e2m1fn load before lowering");
    ExprRef j = idx.back();
    idx.back() = floorDiv(j, intImm(2, j->dtype));
    ExprRef byte = cast(DType::Int32, std::make_shared<LoadNode>(twin(l.buffer), idx, DType::UInt8, 1));
    ExprRef shift = cast(DType::Int32, mul(floorMod(j, intImm(2, j->dtype)), intImm(4, j->dtype)));
    ExprRef code = binary(BinOp::BitAnd, binary(BinOp::Shr, byte, shift), intImm(15));
    return call(Builtin::Fp4FromBits, {code}, DType::Float4E2M1);
  }

  StmtRef storeNibble(const StoreStmt& st, std::vector<ExprRef> idx, ExprRef value) {
    if (!isFp4(st.buffer)) return nullptr;
    if (value->dtype != DType::Float4E2M1 || value->lanes != 1)
      diags_.internalError(st.range, "a float4_e2m1fn store of a value that is not one float4_e2m1fn");
    BufferRef t = twin(st.buffer);
    ExprRef j = idx.back();
    idx.back() = floorDiv(j, intImm(2, j->dtype));
    ExprRef shift = cast(DType::Int32, mul(floorMod(j, intImm(2, j->dtype)), intImm(4, j->dtype)));
    ExprRef code = binary(BinOp::BitAnd, call(Builtin::Fp4Bits, {value}, DType::Int32), intImm(15));
    if (st.bitMask) {  // marked by markSharedByteStores: an atomic update of the nibble
      auto out = std::make_shared<StoreStmt>(st.range, t, idx, cast(DType::UInt8, binary(BinOp::Shl, code, shift)));
      out->bitMask = cast(DType::UInt8, binary(BinOp::Shl, intImm(15), shift));
      out->predicate = st.predicate;
      return out;
    }
    ExprRef old = cast(DType::Int32, std::make_shared<LoadNode>(t, idx, DType::UInt8, 1));
    ExprRef kept = binary(BinOp::BitAnd, old, unary(UnOp::BitNot, binary(BinOp::Shl, intImm(15), shift)));
    ExprRef next = binary(BinOp::BitOr, kept, binary(BinOp::Shl, code, shift));
    auto out = std::make_shared<StoreStmt>(st.range, t, idx, cast(DType::UInt8, next));
    out->predicate = st.predicate;
    return out;
  }

  // ---------------------------------------------------------------- copies

  void twinRegion(Region& r, SourceRange at, const std::string& op = "copy") {
    if (!isFp4(r.buffer)) return;
    const Buffer& b = *r.buffer;
    const std::string verb = op == "copy" ? "move" : "write";
    ExprRef start = r.mins.back();
    if (auto c = asConstInt(start); c && *c % 2 != 0) {
      error(r.range.begin.line ? r.range : at, "a " + op + " of float4_e2m1fn '" + b.name + "' starting at column " +
                                                   std::to_string(*c) + " of its last axis, which is odd; fp4 " + op +
                                                   "s " + verb + " whole bytes (two elements), so the start must be even");
      return;
    }
    if (knownMultiple(start) % 2 != 0) {
      error(r.range.begin.line ? r.range : at,
            "not yet supported: a " + op + " of float4_e2m1fn '" + b.name + "' starting at column " + toString(start) +
                " of its last axis, which is not provably even; fp4 " + op + "s " + verb + " whole bytes (two elements)");
      return;
    }
    if (r.extents.back() % 2 != 0) {
      error(r.range.begin.line ? r.range : at, "a " + op + " of float4_e2m1fn '" + b.name + "' " +
                                                   std::to_string(r.extents.back()) +
                                                   " elements wide in its last axis; fp4 " + op + "s " + verb +
                                                   " whole bytes (two elements), so the width must be even");
      return;
    }
    r.mins.back() = floorDiv(start, intImm(2, start->dtype));
    r.extents.back() /= 2;
    r.buffer = twin(r.buffer);
  }

  // The tile operations on fp4 buffers, anywhere in the body: their regions move to
  // the byte twins.
  class RegionFixer : public StmtVisitor {
   public:
    explicit RegionFixer(Packer& packer) : packer_(packer) {}

   protected:
    void visitFill(FillOp& f) override { packer_.fixFill(f); }
    void visitCopy(CopyOp& c) override { packer_.fixCopy(c); }

   private:
    Packer& packer_;
  };

  void fixFill(FillOp& f) {
    // fill(t, v) of fp4 fills t's bytes with v's code in both nibbles.
    if (!isFp4(f.dst.buffer)) return;
    twinRegion(f.dst, f.range, "fill");
    ExprRef code = binary(BinOp::BitAnd, call(Builtin::Fp4Bits, {cast(DType::Float4E2M1, f.value)}, DType::Int32),
                          intImm(15));
    f.value = cast(DType::UInt8, binary(BinOp::BitOr, code, binary(BinOp::Shl, code, intImm(4))));
  }

  void fixCopy(CopyOp& c) {
    if (!isFp4(c.src.buffer) && !isFp4(c.dst.buffer)) return;
    if (isFp4(c.src.buffer) && c.dst.buffer->dtype == DType::Float4E2M1Unpacked && c.options.tmaCopy) {
      // tma_copy into unpacked storage (sema checked it): the tensor moves to its twin,
      // the tile keeps one byte slot an element; the map unpacks (lowerTmaTransfer).
      twinRegion(c.src, c.range);
      c.options.packedFp4 = true;
      return;
    }
    if (c.src.buffer->dtype != c.dst.buffer->dtype || c.im2col || c.transpose) {
      error(c.range, "not yet supported: this copy of float4_e2m1fn (only copies between fp4 regions)");
      return;
    }
    twinRegion(c.src, c.range);
    twinRegion(c.dst, c.range);
    c.options.packedFp4 = true;
    // coalesced_width counts elements; the copy now counts bytes (at least one).
    if (c.options.coalescedWidth) c.options.coalescedWidth = std::max(1, c.options.coalescedWidth / 2);
  }

  Kernel& kernel_;
  DiagnosticEngine& diags_;
  bool ok_ = true;
  std::map<const Buffer*, BufferRef, ById> twins_;
  std::map<std::string, size_t> required_;  // a requirement's expression -> its index
  BufferSet reportedFragments_;
};

}  // namespace

bool packFloat4(Kernel& kernel, DiagnosticEngine& diags) { return Packer(kernel, diags).run(); }

}  // namespace tlc
