// Layouts: `Fragment(...)` thread layouts, checked for a bijection at compile time,
// `loop_layout=` arguments, and `annotate_safe_value({A: v})`.
#include <cmath>
#include <limits>

#include "ir/Rewrite.h"
#include "sema/Analyzer.h"

namespace tlc::sema {

namespace {

// Why a lambda body is not a pure function of its parameters, or "".
std::string impureReason(const ExprRef& e, const std::vector<VarRef>& params) {
  if (!e) return "";
  switch (e->kind) {
    case ExprKind::IntImm: return "";
    case ExprKind::FloatImm: return "it computes with floats";
    case ExprKind::Var:
      for (const auto& p : params)
        if (p.get() == e.get()) return "";
      return "it reads '" + e->as<VarNode>().name + "', which is not one of its parameters";
    case ExprKind::Binary: {
      auto r = impureReason(e->as<BinaryNode>().a, params);
      return r.empty() ? impureReason(e->as<BinaryNode>().b, params) : r;
    }
    case ExprKind::Unary: return impureReason(e->as<UnaryNode>().a, params);
    case ExprKind::Select: {
      const auto& s = e->as<SelectNode>();
      for (const auto& x : {s.cond, s.t, s.f})
        if (auto r = impureReason(x, params); !r.empty()) return r;
      return "";
    }
    case ExprKind::Cast: return impureReason(e->as<CastNode>().a, params);
    case ExprKind::Call:
      if (e->as<CallNode>().builtin == Builtin::ThreadIdx) return "it reads the thread index";
      if (e->as<CallNode>().builtin == Builtin::BlockIdx) return "it reads the block index";
      return std::string("it calls ") + name(e->as<CallNode>().builtin);
    case ExprKind::Load: return "it reads buffer '" + e->as<LoadNode>().buffer->name + "'";
  }
  return "";
}

std::string tupleText(const std::vector<int64_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + ")";
}

}  // namespace

StmtRef Analyzer::layoutDecl(const std::string& n, const ast::Assign& a, const ast::Call& c) {
  ThreadLayoutRef layout;
  try {
    layout = fragmentLayout(n, c);
  } catch (Failed&) {
    if (!scopes_.back().count(n)) define(n, Value{}, a.target->range);  // later uses stay quiet
    throw;
  }
  auto named = std::make_shared<ThreadLayout>(*layout);
  named->declRange = a.target->range;
  Value v;
  v.kind = Value::Layout;
  v.layout = named;
  define(n, v, a.target->range);
  return nullptr;
}

std::string Analyzer::iterationText(const std::vector<int64_t>& shape, int64_t flat) const {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::string names = "(";
  for (size_t d = 0; d < lambdaNames_.size(); ++d) names += (d ? ", " : "") + lambdaNames_[d];
  return names + ") = " + tupleText(idx);
}

Analyzer::LambdaExpr Analyzer::lambdaExpr(const ast::Expr& e, const std::string& what, const std::vector<int64_t>& shape,
                                          const ast::Expr* part) {
  if (e.kind != ast::ExprKind::Lambda)
    fail(e.range, what + "= must be a lambda over the iteration, e.g. " + what + "=(i, j) -> i * 32 + j");
  const auto& lambda = e.as<ast::Lambda>();
  if (lambda.params.size() != shape.size())
    fail(e.range, what + "= takes " + std::to_string(shape.size()) + " parameter" + (shape.size() == 1 ? "" : "s") +
                      " (one per dimension of " + tupleText(shape) + "), not " + std::to_string(lambda.params.size()));
  std::vector<VarRef> params;
  scopes_.emplace_back();
  lambdaNames_.clear();
  for (const auto& p : lambda.params) {
    params.push_back(makeVar(p.name, DType::Int32));
    lambdaNames_.push_back(p.name);
    Value v;
    v.kind = Value::Scalar;
    v.expr = params.back();
    scopes_.back()[p.name] = v;
  }
  const ast::Expr& source = part ? *part : *lambda.body;
  ExprRef body;
  try {
    body = scalarExpr(source);
  } catch (Failed&) {
    scopes_.pop_back();
    throw;
  }
  scopes_.pop_back();
  if (!isInt(body->dtype))
    fail(source.range, what + "= must give an integer, not " + std::string(name(body->dtype)));
  if (auto why = impureReason(body, params); !why.empty())
    fail(source.range, what + "= may use only its parameters and constants; " + why);
  return LambdaExpr{params, body, &source};
}

std::vector<int64_t> Analyzer::evalLambda(const ast::Expr& e, const std::string& what, const std::vector<int64_t>& shape,
                                          const ast::Expr* part) {
  return evalLambdaAt(lambdaExpr(e, what, shape, part), what, shape);
}

std::vector<int64_t> Analyzer::evalLambdaAt(const LambdaExpr& l, const std::string& what,
                                            const std::vector<int64_t>& shape) {
  const auto& [params, body, sourcePtr] = l;
  const ast::Expr& source = *sourcePtr;
  int64_t numel = 1;
  for (auto s : shape) numel *= s;
  std::vector<int64_t> values(numel);
  std::vector<std::pair<const VarNode*, int64_t>> vars(shape.size());
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t f = 0; f < numel; ++f) {
    for (size_t d = 0; d < shape.size(); ++d) vars[d] = {params[d].get(), idx[d]};
    auto v = evalInt(body, vars);
    if (!v || *v < INT32_MIN || *v > INT32_MAX)
      fail(source.range, what + "= cannot be evaluated at " + iterationText(shape, f) +
                                   ": a division by zero or an integer overflow");
    values[f] = *v;
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return values;
}

ThreadLayoutRef Analyzer::fragmentLayout(const std::string& n, const ast::Call& c) {
  for (const auto& kw : c.kwargs)
    if (kw.name == "replicate")
      fail(kw.nameRange, "not yet supported: Fragment(replicate=...) (TileLang's layout that holds each element in "
                         "several threads)");
  checkKeywords(c, "Fragment", {"thread", "index"});
  if (c.args.size() != 1) fail(c.range, "Fragment takes (shape, thread=(i, j) -> ..., index=(i, j) -> ...)");
  if (!threads_) fail(c.range, "a Fragment layout needs the block's threads: declare it inside 'with Kernel(...)'");
  auto layout = std::make_shared<ThreadLayout>();
  layout->name = n;
  layout->threads = threads_;
  // A bijection onto threads x local indices with at most 4096 local indices (what
  // fits a thread, checked below) covers at most threads x 4096 iterations: beyond
  // that the layout is refused before its lambdas are evaluated at every iteration
  // (a (32, 65535) layout on 256 threads took 2 M evaluations of each to refuse).
  const int64_t maxIterations = int64_t(threads_) * 4096;
  int64_t numel = 1;
  for (const auto& s : constShape(*c.args[0])) {
    layout->shape.push_back(*asConstInt(s));
    if (__builtin_mul_overflow(numel, layout->shape.back(), &numel) || numel > maxIterations)
      fail(c.args[0]->range, "a Fragment layout over " + std::to_string(threads_) + " threads covers at most " +
                                 std::to_string(maxIterations) + " iterations (at most 4096 fit a thread)");
  }
  const ast::Expr* threadFn = keyword(c, "thread");
  const ast::Expr* indexFn = keyword(c, "index");
  if (!threadFn) fail(c.range, "Fragment needs thread=(i, j) -> ..., the thread that runs each iteration");
  countLayoutIterations(numel, c.args[0]->range, "this Fragment layout's " + std::to_string(numel) + " iterations");
  std::vector<int64_t> thread = evalLambda(*threadFn, "thread", layout->shape);
  std::vector<int64_t> index = indexFn ? evalLambda(*indexFn, "index", layout->shape) : rankWithinThread(thread);

  LayoutProblem p = checkBijection(threads_, thread, index);
  std::string what = n.empty() ? "the layout" : "layout '" + n + "'";
  switch (p.kind) {
    case LayoutProblem::None: break;
    case LayoutProblem::ThreadOutOfRange:
      fail(threadFn->range, what + " maps iteration " + iterationText(layout->shape, p.flat) + " to thread " +
                                std::to_string(p.thread) + ", but the block has " + std::to_string(threads_) +
                                " threads (0 to " + std::to_string(threads_ - 1) + ")");
    case LayoutProblem::NegativeIndex:
      fail(indexFn->range, what + " maps iteration " + iterationText(layout->shape, p.flat) + " to local index " +
                               std::to_string(p.index) + "; local indices start at 0");
    case LayoutProblem::Collision:
      fail(c.range, what + " is not a bijection: iterations " + iterationText(layout->shape, p.other) + " and " +
                        tupleText([&] {
                          std::vector<int64_t> idx(layout->shape.size());
                          int64_t f = p.flat;
                          for (size_t d = layout->shape.size(); d-- > 0;) {
                            idx[d] = f % layout->shape[d];
                            f /= layout->shape[d];
                          }
                          return idx;
                        }()) +
                        " both map to thread " + std::to_string(p.thread) + ", local index " + std::to_string(p.index));
    case LayoutProblem::Gap:
      fail(c.range, what + " is not a bijection: no iteration maps to thread " + std::to_string(p.thread) +
                        ", local index " + std::to_string(p.index) + " (" + std::to_string(threads_) + " threads x " +
                        std::to_string(p.localSize) + " local indices = " +
                        std::to_string((int64_t)threads_ * p.localSize) + " slots for " + std::to_string(numel) +
                        " iterations)");
  }
  if (p.localSize > 4096)
    fail(c.range, what + " gives each thread " + std::to_string(p.localSize) + " elements; at most 4096 fit a thread");
  layout->localSize = p.localSize;
  layout->threadOf.assign(thread.begin(), thread.end());
  layout->indexOf.assign(index.begin(), index.end());

  // The inverse: which iteration thread t runs at local index k, per dimension,
  // as digit fields of t (how lowering computes it without a table).
  // iterationAt[k * threads + t]: one table (a vector a local index cost an allocation
  // each, 4096 of them for the largest layouts).
  std::vector<int64_t> iterationAt(p.localSize * threads_);
  for (int64_t f = 0; f < numel; ++f) iterationAt[index[f] * threads_ + thread[f]] = f;
  layout->inverse.resize(p.localSize);
  for (int64_t k = 0; k < p.localSize; ++k) {
    int64_t stride = 1;
    std::vector<BitLinear> dims(layout->shape.size());
    for (size_t d = layout->shape.size(); d-- > 0;) {
      int64_t extent = layout->shape[d];
      const int64_t* at = &iterationAt[k * threads_];
      auto form = fitBitLinear(threads_, [&](int64_t t) { return at[t] / stride % extent; });
      if (!form)
        fail(c.range, "not yet supported: " + what + ": the iteration a thread runs at local index " +
                          std::to_string(k) + " is not a sum of digit fields ((t // d) % m) * c of the thread index t (" +
                          "one built from +, *, // and % by powers of two, or by the odd factor of the thread " +
                          "count, is)");
      dims[d] = *form;
      stride *= extent;
    }
    layout->inverse[k] = std::move(dims);
  }
  return layout;
}

void Analyzer::countLayoutIterations(int64_t iterations, const SourceRange& where, const std::string& what) {
  const int64_t budget = options_.layoutIterationsPerFile;
  if (iterations <= budget - layoutIterationsInFile_) {
    layoutIterationsInFile_ += iterations;
    return;
  }
  fail(where, what + " would bring the file's layouts to " + std::to_string(layoutIterationsInFile_ + iterations) +
                  " evaluated iterations, past the budget of " + std::to_string(budget) +
                  " a file (each Fragment and Layout map is evaluated at every iteration): split the file");
}

// A layout's shape argument: `(32, 64)`, or TileLang's spelling `tile.shape` (a
// buffer's constant shape).
std::vector<int64_t> Analyzer::layoutShapeArg(const ast::Expr& shapeArg, const std::string& what) {
  std::vector<int64_t> shape;
  if (shapeArg.kind == ast::ExprKind::Attribute && shapeArg.as<ast::Attribute>().name == "shape") {
    for (const auto& e : bufferOf(*shapeArg.as<ast::Attribute>().base)->shape) {
      auto c = asConstInt(e);
      if (!c) fail(shapeArg.range, "a " + what + "'s shape must be a compile-time constant");
      shape.push_back(*c);
    }
  } else {
    for (const auto& e : constShape(shapeArg)) shape.push_back(*asConstInt(e));
  }
  return shape;
}

// TileLang's `Layout(shape, forward_fn)` on a shared tile: element (i, j) lives at
// the physical index forward_fn(i, j) of a row-major array whose extents are each
// output's largest value + 1 (TileLang infers the output shape the same way, from
// the map's range). Evaluated here at every element: outputs non-negative, within
// int32, no two elements at one place. `mapRun` is measured, not derived: the
// widest power-of-two run (up to 16 bytes) that every aligned group of the last axis
// keeps consecutive and aligned in memory, so a vector access stays one access.
// (The evaluation is bounded: alloc_shared refuses a tile larger than a block's
// shared memory.)
void Analyzer::sharedIndexMap(const BufferRef& tile, const ast::Call& call) {
  checkKeywords(call, "Layout", {"forward_fn"});
  const ast::Expr* fn = keyword(call, "forward_fn");
  if (call.args.size() != (fn ? 1u : 2u))
    fail(call.range, "Layout takes (shape, forward_fn): Layout(" + tile->name + ".shape, lambda i, j: (p, q))");
  if (!fn) fn = call.args[1].get();
  std::vector<int64_t> shape = layoutShapeArg(*call.args[0], "Layout"), own;
  for (const auto& e : tile->shape) own.push_back(*asConstInt(e));
  if (shape != own)
    failAbout(call.args[0]->range, "the Layout's shape " + tupleText(shape) + " is not the shape of '" + tile->name +
                                       "', " + tupleText(own), tile);
  if (fn->kind != ast::ExprKind::Lambda)
    fail(fn->range, "forward_fn= must be a lambda from the tile's indices to where they live, e.g. lambda i, j: (j, i)");
  const ast::Expr& body = *fn->as<ast::Lambda>().body;
  std::vector<const ast::Expr*> parts;
  if (body.kind == ast::ExprKind::Tuple)
    for (const auto& x : body.as<ast::Tuple>().elements) parts.push_back(x.get());
  else
    parts.push_back(&body);
  if (parts.empty()) fail(body.range, "forward_fn= gives at least one index");
  int64_t elements = 1;
  for (int64_t extent : shape) elements *= extent;  // a shared tile's: no overflow
  countLayoutIterations(elements * (int64_t)parts.size(), call.args[0]->range,
                        "this Layout's " + std::to_string(parts.size()) + " outputs at " + std::to_string(elements) +
                            " elements");
  SharedLayout l;
  l.annotated = true;
  l.why = "annotate_layout";
  std::vector<std::vector<int64_t>> values;
  for (const ast::Expr* part : parts) {
    LambdaExpr e = lambdaExpr(*fn, "forward_fn", shape, part);
    values.push_back(evalLambdaAt(e, "forward_fn", shape));
    // One set of parameters for all outputs: later outputs' variables are renamed to the first's.
    if (l.mapParams.empty()) {
      l.mapParams = e.params;
      l.mapOutputs.push_back(e.body);
    } else {
      VarMap rename;
      for (size_t a = 0; a < e.params.size(); ++a) rename[e.params[a].get()] = l.mapParams[a];
      l.mapOutputs.push_back(substitute(e.body, rename));
    }
    int64_t top = 0;
    for (size_t f = 0; f < values.back().size(); ++f) {
      if (values.back()[f] < 0)
        fail(part->range, "the Layout for '" + tile->name + "' puts element " + iterationText(shape, (int64_t)f) +
                              " at index " + std::to_string(values.back()[f]) + "; indices start at 0");
      top = std::max(top, values.back()[f]);
    }
    l.mapShape.push_back(top + 1);
  }
  // The array lives in the block's shared memory: larger is an error here, before
  // anything is sized by it.
  const int64_t limitBytes = target_.maxSharedBytesPerBlock();
  const int64_t elemBytes = bits(tile->dtype) / 8;
  int64_t storage = 1;
  for (int64_t e : l.mapShape) {
    storage *= e;
    if (storage * elemBytes > limitBytes)
      fail(body.range, "the Layout for '" + tile->name + "' places elements in an array of " + tupleText(l.mapShape) +
                           " " + name(tile->dtype) + ", more than the " + std::to_string(limitBytes) +
                           " bytes of shared memory a block may use");
  }
  // Physical offsets, row-major over mapShape; no two elements may share one.
  const size_t numel = values[0].size();
  std::vector<int64_t> offset(numel, 0);
  for (size_t f = 0; f < numel; ++f)
    for (size_t k = 0; k < values.size(); ++k) offset[f] = offset[f] * l.mapShape[k] + values[k][f];
  std::vector<int64_t> owner(storage, -1);
  for (size_t f = 0; f < numel; ++f) {
    if (owner[offset[f]] >= 0) {
      std::vector<int64_t> at;
      for (const auto& v : values) at.push_back(v[f]);
      failAbout(body.range, "the Layout for '" + tile->name + "' is not injective: elements " +
                                iterationText(shape, owner[offset[f]]) + " and " + iterationText(shape, (int64_t)f) +
                                " both live at " + tupleText(at),
                tile);
    }
    owner[offset[f]] = (int64_t)f;
  }
  l.mapRun = measureMapRun(offset, shape.back(), tile->dtype);
  tile->sharedLayout = l;
}

// A view of a tile whose layout annotate_layout fixed reads the tile's logical
// elements, as TileLang's view does: element k (row-major) of the view is element k
// of the tile, wherever the tile's layout puts it. The view takes that composition
// as its own index map, over the tile's storage, so every access to it (and its
// vectors' widths) follows the tile's layout.
SharedLayout Analyzer::viewIndexMap(const Buffer& view, const Buffer& tile) {
  static const char* kNames[] = {"i", "j", "k", "l", "m", "n", "o", "p"};
  SharedLayout l;
  l.annotated = true;
  l.why = "a view of '" + tile.name + "', whose layout " + tile.sharedLayout.why + " gave";
  std::vector<int64_t> shape, tileShape;
  for (const auto& e : view.shape) shape.push_back(*asConstInt(e));
  for (const auto& e : tile.shape) tileShape.push_back(*asConstInt(e));
  ExprRef linear = intImm(0);
  for (size_t a = 0; a < shape.size(); ++a) {
    l.mapParams.push_back(makeVar(a < 8 ? kNames[a] : "i" + std::to_string(a), DType::Int32));
    linear = add(mul(linear, intImm(shape[a])), l.mapParams.back());
  }
  std::vector<ExprRef> at(tileShape.size());
  for (size_t d = tileShape.size(); d-- > 0;) {
    at[d] = d == 0 ? linear : floorMod(linear, intImm(tileShape[d]));
    linear = floorDiv(linear, intImm(tileShape[d]));
  }
  l.mapOutputs = {sharedElementOffset(tile, at)};
  l.mapShape = {sharedStorageElems(tile)};
  int64_t numel = 1;
  for (int64_t e : shape) numel *= e;
  std::vector<int64_t> offsets(numel), idx(shape.size(), 0);
  std::vector<std::pair<const VarNode*, int64_t>> vars(shape.size());
  for (int64_t f = 0; f < numel; ++f) {
    for (size_t d = 0; d < shape.size(); ++d) vars[d] = {l.mapParams[d].get(), idx[d]};
    auto v = evalInt(l.mapOutputs[0], vars);
    if (!v) fail(view.declRange, "the index map of view '" + view.name + "' cannot be evaluated");
    offsets[f] = *v;
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  l.mapRun = measureMapRun(offsets, shape.back(), view.dtype);
  return l;
}

// TileLang's `Fragment(shape, forward_fn=lambda i, j[, rep]: (thread, index),
// replicate=n)` (or forward_thread_fn= / forward_index_fn=) in annotate_layout on a
// fragment: checked (its shape, each lambda's arity, a thread of the block and
// non-negative local indices at every element and replica), then set aside with a
// warning. tlc's own fragment layouts (LayoutFragments) are bijections over all of
// the block's threads or broadcasts it derives; which thread holds an element
// changes no result, so a program computes the same either way.
void Analyzer::fragmentLayoutHint(const BufferRef& frag, const ast::Call& call) {
  checkKeywords(call, "Fragment", {"forward_fn", "forward_thread_fn", "forward_index_fn", "replicate"});
  if (call.args.size() != 1)
    fail(call.range, "Fragment takes (shape, forward_fn=lambda i, j: (thread, index), replicate=n) in annotate_layout");
  std::vector<int64_t> shape = layoutShapeArg(*call.args[0], "Fragment"), own;
  for (const auto& e : frag->shape) own.push_back(*asConstInt(e));
  if (shape != own)
    failAbout(call.args[0]->range, "the Fragment's shape " + tupleText(shape) + " is not the shape of '" + frag->name +
                                       "', " + tupleText(own), frag);
  int64_t replicate = 1;
  if (const ast::Expr* r = keyword(call, "replicate")) {
    replicate = constIntArg(*r, "replicate");
    if (replicate < 1 || replicate > threads_)
      fail(r->range, "replicate=" + std::to_string(replicate) + ": each element is held by 1 to " +
                         std::to_string(threads_) + " threads (the block's)");
  }
  const ast::Expr* both = keyword(call, "forward_fn");
  const ast::Expr* threadFn = keyword(call, "forward_thread_fn");
  const ast::Expr* indexFn = keyword(call, "forward_index_fn");
  if (both && (threadFn || indexFn))
    fail(call.range, "Fragment takes forward_fn= (giving (thread, index)) or forward_thread_fn= and forward_index_fn=, "
                     "not both");
  if (!both && !threadFn)
    fail(call.range, "Fragment needs forward_fn=lambda i, j: (thread, index), the thread and local index of each element");
  // The thread map's iteration space: the fragment's axes, then the replica.
  std::vector<int64_t> space = shape;
  if (replicate > 1) space.push_back(replicate);
  auto arity = [&](const ast::Expr& fn, const std::string& what, size_t want) {
    if (fn.kind != ast::ExprKind::Lambda) fail(fn.range, what + "= must be a lambda");
    size_t got = fn.as<ast::Lambda>().params.size();
    if (got != want)
      fail(fn.range, what + "= of a Fragment of shape " + tupleText(shape) +
                         (replicate > 1 ? " with replicate=" + std::to_string(replicate) : std::string()) + " takes " +
                         std::to_string(want) + " parameter" + (want == 1 ? "" : "s") + " (one per axis" +
                         (replicate > 1 ? ", then the replica" : "") + "), not " + std::to_string(got));
  };
  // The parts of a result: `x` or `(x, y, ...)`.
  auto parts = [](const ast::Expr& e) {
    std::vector<const ast::Expr*> out;
    if (e.kind == ast::ExprKind::Tuple)
      for (const auto& x : e.as<ast::Tuple>().elements) out.push_back(x.get());
    else
      out.push_back(&e);
    return out;
  };
  std::vector<int64_t> thread;
  std::vector<std::pair<std::vector<int64_t>, const ast::Expr*>> indices;  // values per part, where
  if (both) {
    arity(*both, "forward_fn", space.size());
    const ast::Expr& body = *both->as<ast::Lambda>().body;
    auto ps = parts(body);
    if (body.kind != ast::ExprKind::Tuple || ps.size() != 2)
      fail(body.range, "forward_fn= gives a pair (thread, index): the thread that holds the element and its local index");
    thread = evalLambda(*both, "forward_fn", space, ps[0]);
    for (const ast::Expr* x : parts(*ps[1])) indices.push_back({evalLambda(*both, "forward_fn", space, x), x});
  } else {
    arity(*threadFn, "forward_thread_fn", space.size());
    thread = evalLambda(*threadFn, "forward_thread_fn", space);
    if (indexFn) {
      arity(*indexFn, "forward_index_fn", shape.size());
      for (const ast::Expr* x : parts(*indexFn->as<ast::Lambda>().body))
        indices.push_back({evalLambda(*indexFn, "forward_index_fn", shape, x), x});
    }
  }
  const ast::Expr& threadAt = both ? *parts(*both->as<ast::Lambda>().body)[0] : *threadFn->as<ast::Lambda>().body;
  for (size_t f = 0; f < thread.size(); ++f)
    if (thread[f] < 0 || thread[f] >= threads_)
      fail(threadAt.range, "the Fragment for '" + frag->name + "' puts element " + iterationText(space, (int64_t)f) +
                               " on thread " + std::to_string(thread[f]) + ", but the block has " +
                               std::to_string(threads_) + " threads (0 to " + std::to_string(threads_ - 1) + ")");
  for (const auto& [values, at] : indices)
    for (size_t f = 0; f < values.size(); ++f)
      if (values[f] < 0)
        fail(at->range, "the Fragment for '" + frag->name + "' puts element " +
                            iterationText(both ? space : shape, (int64_t)f) + " at local index " +
                            std::to_string(values[f]) + "; local indices start at 0");
  warning(Warning::FragmentLayoutHint, call.range,
          "annotate_layout of fragment '" + frag->name + "' is checked but not honoured: tlc spreads a fragment by " +
              "its own layout (a bijection over all " + std::to_string(threads_) +
              " threads, or a broadcast it derives), which gives the same results");
}

ThreadLayoutRef Analyzer::layoutArg(const ast::Expr& e) {
  if (e.kind == ast::ExprKind::Call && calleeName(e.as<ast::Call>()) == "Fragment") {
    auto layout = fragmentLayout("", e.as<ast::Call>());
    auto named = std::make_shared<ThreadLayout>(*layout);
    named->name = "Fragment(...)";
    named->declRange = e.range;
    return named;
  }
  if (e.kind == ast::ExprKind::Name) {
    const auto& n = e.as<ast::Name>().name;
    const Value* v = lookup(n);
    if (!v) failUnknown(e.range, "use of undeclared name '" + n + "'", n, namesInScope());
    if (v->kind == Value::None) throw Failed{};
    if (v->kind == Value::Layout) return v->layout;
    error(e.range, "loop_layout must be a Fragment layout; '" + n + "' is " + describe(*v));
    noteDecl(n, v->decl);
    throw Failed{};
  }
  fail(e.range, "loop_layout must be a Fragment layout: L = Fragment(shape, thread=..., index=...)");
}

void Analyzer::checkLayoutShape(const ThreadLayoutRef& layout, const std::vector<int64_t>& extents, SourceRange at,
                                const std::string& what) {
  if (sema::nonUnitExtents(layout->shape) == sema::nonUnitExtents(extents)) return;
  error(at, "loop_layout '" + layout->name + "' has shape " + tupleText(layout->shape) + " but the " + what +
                " has extents " + tupleText(extents));
  noteDecl(layout->name, layout->declRange);
  throw Failed{};
}

ExprRef Analyzer::safeValueOf(const ast::Expr& e, const BufferRef& buf) {
  ExprRef v = scalarExpr(e);
  auto i = asConstInt(v);
  std::optional<double> f;
  if (v->kind == ExprKind::FloatImm) f = v->as<FloatImm>().value;
  if (!i && !f) fail(e.range, "a safe value must be a compile-time number");
  DType t = buf->dtype;
  std::string value = i ? std::to_string(*i) : toString(v);
  auto notFit = [&]() {
    failAbout(e.range, "safe value " + value + " does not fit '" + buf->name + "' (" + name(t) + ")", buf);
  };
  bool zero = i ? *i == 0 : (*f == 0 && !std::signbit(*f));
  if (zero) return nullptr;
  if (isStorageOnly(t))
    failAbout(e.range, std::string("not yet supported: a non-zero safe value for a ") + name(t) + " tensor", buf);
  if (t == DType::Bool) {
    if (!i || (*i != 0 && *i != 1)) notFit();
    return intImm(*i, t);
  }
  if (isInt(t)) {
    if (!i) {
      if (std::floor(*f) != *f || std::isinf(*f))
        failAbout(e.range, "safe value " + value + " is not an integer, but '" + buf->name + "' is " + name(t), buf);
      if (std::fabs(*f) > 9.2e18) notFit();
      i = (int64_t)*f;
    }
    int w = bits(t);
    bool fits = isSigned(t) ? (w >= 64 || (*i >= -(int64_t(1) << (w - 1)) && *i < (int64_t(1) << (w - 1))))
                            : (*i >= 0 && (w >= 64 || *i < (int64_t(1) << w)));
    if (!fits) notFit();
    return intImm(*i, t);
  }
  double d = i ? (double)*i : *f;
  double max = t == DType::Float16 ? 65504.0
               : t == DType::Float32 || t == DType::BFloat16 ? (double)std::numeric_limits<float>::max()
                                                              : std::numeric_limits<double>::max();
  if (std::isfinite(d) && std::fabs(d) > max) notFit();
  return floatImm(d, t);
}

StmtRef Analyzer::annotateSafeValue(const ast::Call& c) {
  checkKeywords(c, "annotate_safe_value", {});
  if (inParallel_) fail(c.callee->range, "annotate_safe_value() cannot be called inside a Parallel loop");
  if (c.args.size() != 1 || c.args[0]->kind != ast::ExprKind::Dict)
    fail(c.range, "annotate_safe_value takes a dict {tensor: value, ...}");
  for (const auto& entry : c.args[0]->as<ast::Dict>().entries) {
    BufferRef buf = bufferOf(*entry.key);
    if (buf->scope != MemScope::Global)
      failAbout(entry.key->range, "annotate_safe_value applies to global tensors; '" + buf->name + "' is " +
                                      name(buf->scope) + " (reads of a tile are never out of bounds)",
                buf);
    ExprRef v = safeValueOf(*entry.value, buf);
    // Inside a nested scope (with sblock), a tensor that has another safe value
    // already gets this one for the scope's copies: the name is bound there to a
    // twin of the tensor (the same memory) that carries it.
    bool differs = safeValueAt_.count(buf.get()) &&
                   !((!v && !buf->safeValue) || (v && buf->safeValue && toString(v) == toString(buf->safeValue)));
    if (differs && entry.key->kind == ast::ExprKind::Name && sblockDepth_ > 0 &&
        !scopes_.back().count(entry.key->as<ast::Name>().name)) {
      auto twin = std::make_shared<Buffer>(*buf);
      twin->safeValue = v;
      safeValueAt_.emplace(twin.get(), std::make_pair(entry.key->range, twin));
      Value tv = *lookup(entry.key->as<ast::Name>().name);
      tv.buffer = twin;
      scopes_.back()[entry.key->as<ast::Name>().name] = tv;
      continue;
    }
    auto [it, fresh] = safeValueAt_.emplace(buf.get(), std::make_pair(entry.key->range, buf));
    if (!fresh) {
      bool same = (!v && !buf->safeValue) || (v && buf->safeValue && toString(v) == toString(buf->safeValue));
      if (!same) {
        error(entry.key->range, "'" + buf->name + "' already has a different safe value");
        diags_.note(it->second.first, "the first safe value of '" + buf->name + "' is given here");
        throw Failed{};
      }
    }
    buf->safeValue = v;
  }
  return nullptr;
}

}  // namespace tlc::sema
