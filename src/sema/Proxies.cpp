// Proxies: TileLang's buffer types (`tilelang.language.proxy`) read into one form.
//
// `Tensor`, `StridedTensor`, `Buffer`, `BaseTensor`, `SharedBuffer`, `FragmentBuffer`
// and `LocalBuffer` are written as a call (`Tensor((M, N), float16)`) or a subscript
// (`Tensor[(M, N), float16]`), with TileLang's positional order and keyword names and
// its default dtype, float32. `readProxy` binds what was written to those names;
// `globalTensor` makes the global tensor a kernel parameter or a view in the body
// (`X = Tensor(shape, dtype, data=p)`) declares. Macro parameters read the same form
// (Statements.cpp, macroArgument) and match it against their argument.
#include "sema/Analyzer.h"

namespace tlc::sema {

namespace {

const std::vector<std::string> kBufferArgs = {"shape",     "dtype", "data",          "strides",     "elem_offset",
                                              "scope",     "align", "offset_factor", "buffer_type", "axis_separators"};

}  // namespace

bool Analyzer::isProxyKind(const std::string& kind) {
  static const std::set<std::string> kinds = {"Tensor",       "StridedTensor",  "Buffer",     "BaseTensor",
                                              "SharedBuffer", "FragmentBuffer", "LocalBuffer"};
  return kinds.count(kind) != 0;
}

bool Analyzer::namesPtr(const ast::Expr& e) {
  return e.kind == ast::ExprKind::Name && e.as<ast::Name>().name == "ptr";
}

std::string Analyzer::proxyKind(const ast::Expr& t) {
  if (t.kind == ast::ExprKind::Call) return calleeName(t.as<ast::Call>());
  if (t.kind == ast::ExprKind::Index) {
    const auto& ix = t.as<ast::Index>();
    if (ix.base->kind == ast::ExprKind::Name) return ix.base->as<ast::Name>().name;
  }
  return "";
}

// TileLang's signatures: Tensor(shape, dtype, data) (tlc adds scope=, the
// BaseTensor keyword), StridedTensor(shape, strides, dtype) (and scope=), and
// every other proxy BaseTensor's full list.
static const std::vector<std::string>& positionalNames(const std::string& kind) {
  static const std::vector<std::string> tensor = {"shape", "dtype", "data"};
  static const std::vector<std::string> strided = {"shape", "strides", "dtype"};
  return kind == "Tensor" ? tensor : kind == "StridedTensor" ? strided : kBufferArgs;
}

static std::vector<std::string> keywordNames(const std::string& kind) {
  if (kind == "Tensor") return {"shape", "dtype", "data", "scope"};
  if (kind == "StridedTensor") return {"shape", "strides", "dtype", "scope"};
  return kBufferArgs;
}

ProxySpec Analyzer::readProxy(const ast::Expr& t) {
  ProxySpec p;
  p.kind = proxyKind(t);
  p.range = t.range;
  const auto& positional = positionalNames(p.kind);
  std::vector<const ast::Expr*> args;
  if (t.kind == ast::ExprKind::Call) {
    const auto& c = t.as<ast::Call>();
    p.kindRange = c.callee->range;
    checkKeywords(c, p.kind, keywordNames(p.kind));
    for (const auto& a : c.args) args.push_back(a.get());
    if (args.size() > positional.size())
      fail(args[positional.size()]->range, p.kind + " takes at most " + std::to_string(positional.size()) +
                                               " positional arguments (" + joined(positional) + ")");
    for (size_t i = 0; i < args.size(); ++i) p.args[positional[i]] = args[i];
    for (const auto& kw : c.kwargs) {
      if (p.args.count(kw.name)) fail(kw.nameRange, "argument '" + kw.name + "' of " + p.kind + " is given twice");
      p.args[kw.name] = kw.value.get();
      p.named[kw.name] = kw.nameRange;
    }
  } else {
    // The subscript form: `Tensor[(M, N), float16]` is `Tensor((M, N), float16)`;
    // without a tuple the leading entries are the shape (`Tensor[M, N]`, float32).
    const auto& ix = t.as<ast::Index>();
    p.kindRange = ix.base->range;
    for (const auto& item : ix.items) {
      if (item.isSlice) fail(item.range, "a slice is not a " + p.kind + " argument; write " + p.kind + "[(M, N), dtype]");
      args.push_back(item.value.get());
    }
    size_t shapeEnd = 1;
    if (args[0]->kind != ast::ExprKind::Tuple) {
      auto isDtype = [&](const ast::Expr* e) {
        if (e->kind == ast::ExprKind::StringLit) return true;
        if (e->kind != ast::ExprKind::Name) return false;
        const auto& n = e->as<ast::Name>().name;
        const Value* v = lookup(n);
        return dtypeFromName(n).has_value() || (v && v->kind == Value::DTypeName);
      };
      shapeEnd = 0;
      while (shapeEnd < args.size() && !isDtype(args[shapeEnd])) ++shapeEnd;
      if (shapeEnd == 0) fail(args[0]->range, p.kind + "[...] needs a shape first: " + p.kind + "[(M, N), dtype]");
    }
    for (size_t i = 0; i < shapeEnd; ++i) p.shape.push_back(args[i]);
    p.shapeRange = args[0]->range;
    if (shapeEnd > 1) p.shapeRange.end = args[shapeEnd - 1]->range.end;
    if (args[0]->kind == ast::ExprKind::Tuple) p.shape = tupleItems(*args[0]);
    size_t rest = args.size() - shapeEnd;
    if (rest + 1 > positional.size())
      fail(args[shapeEnd + positional.size() - 1]->range,
           p.kind + "[...] takes at most " + std::to_string(positional.size()) + " entries (" + joined(positional) + ")");
    for (size_t i = 0; i < rest; ++i) p.args[positional[i + 1]] = args[shapeEnd + i];
    p.hasShape = true;
  }
  // `None` is TileLang's "not given" (data=None, strides=None, ...).
  for (auto it = p.args.begin(); it != p.args.end();)
    if (it->second->kind == ast::ExprKind::Name && it->second->as<ast::Name>().name == "None") it = p.args.erase(it);
    else ++it;
  if (!p.hasShape) {
    if (const ast::Expr* s = p.arg("shape")) {
      p.shape = tupleItems(*s);
      p.shapeRange = s->range;
      p.hasShape = true;
    }
  }
  if (!p.hasShape)
    fail(t.range, p.kind == "StridedTensor" ? "StridedTensor takes (shape, strides, dtype)"
                                            : p.kind + " takes (shape[, dtype]): the dtype defaults to float32");
  if (p.shape.empty()) fail(p.shapeRange, "a tensor needs at least one dimension");
  if (p.kind == "StridedTensor" && !p.arg("strides")) fail(t.range, "StridedTensor takes (shape, strides, dtype)");
  return p;
}

// `data=p`: a ptr parameter (declared before its use), which the tensor views.
const Value& Analyzer::dataPointer(const ast::Expr& e, const std::string& what) {
  const Value* p = e.kind == ast::ExprKind::Name ? lookup(e.as<ast::Name>().name) : nullptr;
  if (p && p->kind == Value::None) throw Failed{};  // its declaration already failed
  if (p && p->kind == Value::Pointer) return *p;
  if (p) {
    error(e.range, what + " needs a ptr(...) parameter; '" + e.as<ast::Name>().name + "' is " + describe(*p));
    noteDecl(e.as<ast::Name>().name, p->decl);
    throw Failed{};
  }
  fail(e.range, what + " needs a ptr(...) parameter declared before it");
}

// The dtype of a view of pointer `p`: the one given, else the pointer's, else
// float32 (TileLang's default; `ptr()` has none). A typed pointer viewed as another
// type is an error; an untyped one takes the widest type it is viewed as, which the
// launcher checks its alignment against.
DType Analyzer::viewDtype(const Value& p, const std::string& ptrName, const ast::Expr* given) {
  DType dt = given ? dtypeArg(*given) : p.untyped ? DType::Float32 : p.dtype;
  if (!p.untyped && dt != p.dtype) {
    error(given->range, std::string("the pointer is declared as ptr(") + name(p.dtype) + ") but viewed as " + name(dt));
    noteDecl(ptrName, p.decl);
    throw Failed{};
  }
  if (dt == DType::Handle) fail(given->range, "a tensor cannot hold pointers");
  if (p.untyped)
    for (Param& param : kernel_->params)
      if (param.var == p.var && bits(dt) > bits(param.elementType)) param.elementType = dt;
  return dt;
}

// A shape entry, stride or offset of a view in the body: any integer expression.
ExprRef Analyzer::viewEntry(const ast::Expr& s, bool isStride) {
  ExprRef e = scalarExpr(s);
  if (!isInt(e->dtype)) fail(s.range, isStride ? "a stride must be an integer" : "a shape entry must be an integer");
  if (auto k = asConstInt(e)) {
    if (!isStride && (*k <= 0 || *k > INT32_MAX))
      fail(s.range, "a shape entry must be positive and fit in int32, not " + std::to_string(*k));
    if (isStride && (*k < 0 || *k > INT32_MAX))
      fail(s.range, "a stride must not be negative and must fit in int32, not " + std::to_string(*k));
  }
  return cast(DType::Int32, e);
}

BufferRef Analyzer::globalTensor(const std::string& n, const ProxySpec& p, SourceRange declRange, bool isParam,
                                 SourceRange paramRange) {
  const std::string where = isParam ? "a kernel parameter" : "a view in the kernel body";
  if (const ast::Expr* scope = p.arg("scope")) {
    std::string s = stringValue(*scope, "scope", kValidScopes);
    auto sc = scopeFromName(s);
    if (!sc) fail(scope->range, "unknown scope \"" + s + "\"; valid: " + kValidScopes);
    if (*sc != MemScope::Global)
      fail(scope->range, std::string(isParam ? "a kernel parameter lives in global memory"
                                             : "a view of a pointer lies in global memory") +
                             ": scope must be \"global\", not \"" + s + "\"");
  }
  auto buf = std::make_shared<Buffer>();
  buf->name = n;
  buf->scope = MemScope::Global;
  buf->declRange = declRange;

  // The data pointer: a ptr parameter named by data=, else (a kernel parameter)
  // its own pointer argument, which comes before the dimensions it introduces.
  const Value* pointer = nullptr;
  std::string pointerName;
  size_t pointerIndex = SIZE_MAX;
  if (const ast::Expr* data = p.arg("data")) {
    pointer = &dataPointer(*data, p.kind + "(..., data=)");
    pointerName = data->as<ast::Name>().name;
    buf->data = pointer->var;
  } else if (isParam) {
    Param param;
    param.name = n;
    param.kind = ParamKind::Pointer;
    param.var = buf->data = makeVar(n, DType::Handle);
    param.range = paramRange;
    pointerIndex = kernel_->params.size();
    kernel_->params.push_back(param);
  } else if (p.kind == "StridedTensor") {
    fail(p.range, "StridedTensor(...) in a kernel body has no data=; view a ptr parameter with "
                  "StridedTensor.from_ptr(p, shape, dtype, strides), or allocate a tile with alloc_shared, "
                  "alloc_fragment or alloc_local");
  } else {
    fail(p.range, p.kind + "(...) in a kernel body is a view of a pointer: give it data=p (a ptr parameter), or "
                           "allocate a tile with alloc_shared, alloc_fragment or alloc_local");
  }

  for (const auto* s : p.shape) buf->shape.push_back(isParam ? shapeEntry(*s) : viewEntry(*s, false));
  int64_t constantElements = 1;  // element offsets are int64: the constant entries' product must fit
  for (const auto& e : buf->shape)
    if (auto k = asConstInt(e); k && __builtin_mul_overflow(constantElements, *k, &constantElements))
      fail(p.shapeRange, "tensor '" + n + "' has more elements than an int64 offset can address");
  if (const ast::Expr* strides = p.arg("strides")) {
    auto items = tupleItems(*strides);
    if (items.size() != buf->shape.size())
      fail(strides->range, p.kind + " has " + std::to_string(buf->shape.size()) + " shape entries but " +
                               std::to_string(items.size()) + " strides");
    for (const auto* s : items) buf->strides.push_back(isParam ? shapeEntry(*s, /*isStride=*/true) : viewEntry(*s, true));
  } else {
    buf->strides = rowMajorStrides(buf->shape);
  }
  const ast::Expr* dtype = p.arg("dtype");
  if (dtype && namesPtr(*dtype)) {
    // TileLang's table of pointers, Tensor((n,), ptr): the host passes a device buffer
    // of 64-bit addresses (int64, as TileLang's buffer and torch's data_ptr() have it).
    if (!isParam || pointer)
      fail(dtype->range, "a table of pointers is a kernel parameter, Tensor((n,), ptr); a view of a pointer cannot hold pointers");
    if (p.kind != "Tensor")
      fail(dtype->range, "a table of pointers is a Tensor((n, ...), ptr) parameter, not a " + p.kind);
    buf->pointerTable = true;
    buf->dtype = DType::Int64;
  } else {
    buf->dtype = pointer ? viewDtype(*pointer, pointerName, dtype) : dtype ? dtypeArg(*dtype) : DType::Float32;
  }
  if (buf->dtype == DType::Handle) fail(dtype->range, "a tensor cannot hold pointers");
  if (pointerIndex != SIZE_MAX) {
    kernel_->params[pointerIndex].elementType = buf->dtype;
    kernel_->params[pointerIndex].pointerTable = buf->pointerTable;
  }

  if (const ast::Expr* align = p.arg("align")) {
    // The caller's promise about the data pointer, in bytes (TVM's data_alignment);
    // 0 is TileLang's default: no promise beyond the element size.
    int64_t a = constIntArg(*align, "align");
    int64_t elementBytes = std::max(1, bits(buf->dtype) / 8);
    if (a != 0 && (a < elementBytes || (a & (a - 1)) != 0 || a > 1024))
      fail(align->range, "align must be a power of two between the element size (" + std::to_string(elementBytes) +
                             " bytes) and 1024, not " + std::to_string(a));
    if (a != 0) buf->alignBytes = (int)a;
  }
  // elem_offset: the tensor starts that many elements past the pointer (a constant
  // or a symbolic dimension, passed to the launcher like one).
  const ast::Expr* offset = p.arg("elem_offset");
  if (offset) buf->elemOffset = isParam ? shapeEntry(*offset, /*isStride=*/true) : viewEntry(*offset, true);
  if (const ast::Expr* factor = p.arg("offset_factor")) {
    // offset_factor=F: the element offset is a multiple of F (0: no fact, TileLang's
    // default). Without elem_offset the offset is a dimension of its own,
    // `<name>_elem_offset`, as TVM declares it; the launcher checks the multiple and
    // lowering counts it among the alignment facts (vector widths).
    int64_t f = constIntArg(*factor, "offset_factor");
    if (f < 0 || f > (int64_t(1) << 30))
      fail(factor->range, "offset_factor must be between 0 and 2^30, not " + std::to_string(f));
    if (f > 0 && !buf->elemOffset) {
      if (!isParam)
        fail(factor->range, "offset_factor on a view in the kernel body needs a constant elem_offset");
      buf->elemOffset = dimParam(n + "_elem_offset", factor->range);
    }
    if (f > 1) {
      if (auto k = asConstInt(buf->elemOffset)) {
        if (*k % f != 0)
          fail(offset->range, "elem_offset " + std::to_string(*k) + " is not a multiple of offset_factor " + std::to_string(f));
      } else if (!isParam || buf->elemOffset->kind != ExprKind::Var) {
        fail(offset->range, "offset_factor on " + where + " needs a constant elem_offset or a symbolic dimension");
      } else {
        std::string dim = buf->elemOffset->as<VarNode>().name;
        kernel_->requirements.push_back({buf->elemOffset, f, "the elem_offset of tensor '" + n + "' (" + dim + ")", ""});
      }
    }
  }
  if (const ast::Expr* type = p.arg("buffer_type")) {
    std::string s = stringValue(*type, "buffer_type", "\"\", \"auto_broadcast\"");
    if (!s.empty() && s != "auto_broadcast")
      fail(type->range, "unknown buffer_type \"" + s + "\"; valid: \"\", \"auto_broadcast\"");
    buf->autoBroadcast = s == "auto_broadcast";
  }
  if (const ast::Expr* seps = p.arg("axis_separators")) {
    // TVM's axis separators split a buffer into several physical axes (texture
    // memory); global memory has one, so the only flattening is the default.
    if (!(seps->kind == ast::ExprKind::Tuple && seps->as<ast::Tuple>().elements.empty()))
      fail(seps->range, "global memory is flat: axis_separators must be () (one physical axis, row-major flattening); "
                        "separators would ask for a multi-dimensional physical buffer");
  }
  return buf;
}

// `X = Tensor(shape, dtype, data=p)` (or Buffer / BaseTensor / StridedTensor): a
// view of pointer `p`, as TVMScript's `T.Buffer(..., data=p)` declares one.
StmtRef Analyzer::proxyView(const std::string& n, const ast::Assign& a, const ast::Call& c) {
  ProxySpec p = readProxy(c);
  BufferRef buf = globalTensor(n, p, a.target->range, /*isParam=*/false);
  Value v;
  v.kind = Value::BufferV;
  v.buffer = buf;
  define(n, v, a.target->range);
  return nullptr;
}

}  // namespace tlc::sema
