// Copies: regions (start, extent and access per axis) and the ops on them — copy,
// async_copy, fill, clear — with the extent rule (Regions.cpp), bounds and options.
#include "sema/Analyzer.h"

#include <functional>

namespace tlc::sema {

bool Analyzer::isRegionHelper(const std::string& callee) {
  return callee == "region" || callee == "buffer_to_tile_region" || callee == "buffer_load_to_tile_region" ||
         callee == "buffer_region_to_tile_region";
}

// The region helpers (TileLang's tilelang/language/utils.py): an explicit start,
// extents and access type for one side of a tile operation. The access type names
// what the region may be used for: "r" a source, "w" a destination, "rw" either.
RegionSpec Analyzer::regionHelper(const ast::Call& c, const std::string& helper, Access use) {
  checkKeywords(c, helper, {});
  const bool whole = helper == "buffer_to_tile_region";
  const std::string usage =
      helper == "region"                  ? "region(A[i, ...], access, extent, ...): an element, \"r\", \"w\" or \"rw\", one extent per index"
      : whole                             ? "buffer_to_tile_region(A, access): a buffer and \"r\", \"w\" or \"rw\""
      : helper == "buffer_load_to_tile_region" ? "buffer_load_to_tile_region(A[i, ...], access, (extent, ...))"
                                               : "buffer_region_to_tile_region(A[a:b, ...], access, (extent, ...))";
  size_t want = helper == "region" ? 2 : whole ? 2 : 3;
  if (helper == "region" ? c.args.size() < 2 : c.args.size() != want) fail(c.range, usage);
  // The access type first: what the region may be used for.
  const ast::Expr& accessArg = *c.args[1];
  std::string declared = stringArg(accessArg, "access type", {"r", "w", "rw"});
  bool readable = declared != "w", writable = declared != "r";
  if (use != Access::Write && !readable)
    fail(accessArg.range, "this region's access type is \"w\" (written only) but it is read here (the source); "
                          "give \"r\" or \"rw\"");
  if (use != Access::Read && !writable)
    fail(accessArg.range, "this region's access type is \"r\" (read only) but it is written here (the destination); "
                          "give \"w\" or \"rw\"");
  const ast::Expr& base = *c.args[0];
  if (whole) {
    if (base.kind != ast::ExprKind::Name) fail(base.range, "buffer_to_tile_region takes a whole buffer A; for part of one use "
                                                           "region or buffer_region_to_tile_region");
    return regionSpec(base, use);
  }
  auto sliced = [&] {
    if (base.kind != ast::ExprKind::Index) return false;
    for (const auto& item : base.as<ast::Index>().items)
      if (item.isSlice) return true;
    return false;
  };
  auto extentValue = [&](const ast::Expr& x) {
    int64_t v = constIntArg(x, "a region's extent");
    if (v <= 0) fail(x.range, "a region's extent must be positive, not " + std::to_string(v));
    return v;
  };
  if (helper == "buffer_region_to_tile_region") {
    if (!sliced())
      fail(base.range, "buffer_region_to_tile_region takes a region A[a:b, ...]; for an element use "
                       "buffer_load_to_tile_region, for a whole buffer buffer_to_tile_region");
    RegionSpec r = regionSpec(base, use);
    std::vector<int64_t> given;
    for (const auto* x : tupleItems(*c.args[2])) given.push_back(extentValue(*x));
    auto clamped = sema::clampedRegionExtents(r.extents, given);
    if (!clamped)
      fail(c.args[2]->range, "buffer_region_to_tile_region: " + std::to_string(given.size()) + " extents for a region of rank " +
                                 std::to_string(r.extents.size()) + "; give at most one per axis");
    r.extents = *clamped;
    r.range = c.range;
    return r;
  }
  // region and buffer_load_to_tile_region: an element A[i, ...] and the extents from there.
  if (base.kind != ast::ExprKind::Index || sliced())
    fail(base.range, helper + " takes an element A[i, ...] (the region's first element); for a region A[a:b, ...] use "
                              "buffer_region_to_tile_region, for a whole buffer buffer_to_tile_region");
  RegionSpec r = regionSpec(base, use);
  std::vector<int64_t> given;
  const ast::Expr* extentsAt = nullptr;
  if (helper == "region") {
    for (size_t i = 2; i < c.args.size(); ++i) given.push_back(extentValue(*c.args[i]));
    if (given.size() != r.mins.size())
      fail(c.range, "region gives " + std::to_string(given.size()) + (given.size() == 1 ? " extent" : " extents") + " for an element of rank " +
                        std::to_string(r.mins.size()) + "; give one extent per index");
  } else {
    extentsAt = c.args[2].get();
    for (const auto* x : tupleItems(*extentsAt)) given.push_back(extentValue(*x));
    auto padded = sema::loadRegionExtents(r.mins.size(), given);
    if (!padded)
      fail(extentsAt->range, "buffer_load_to_tile_region: " + std::to_string(given.size()) +
                                 " extents for an element of rank " + std::to_string(r.mins.size()) +
                                 "; give at most one per index (missing leading ones are 1)");
    given = *padded;
  }
  r.extents.assign(given.begin(), given.end());
  r.isHead = false;
  r.range = c.range;
  return r;
}

RegionSpec Analyzer::regionSpec(const ast::Expr& e, Access access) {
  bool wholeView = false;  // view(s, shape) / reshape(...) written in place of a buffer
  if (e.kind == ast::ExprKind::Call) {
    const auto& c = e.as<ast::Call>();
    std::string callee = calleeName(c);
    if (isRegionHelper(callee)) return regionHelper(c, callee, access);
    wholeView = callee == "view" || callee == "reshape";
  }
  RegionSpec r;
  r.range = e.range;
  r.access = access;
  if (e.kind == ast::ExprKind::Name || wholeView) {
    r.buffer = bufferOf(e);
    rejectBarrier(r.buffer, e.range);
    if (r.buffer->pointerTable) failPointerTable(e.range, r.buffer);
    r.isWhole = true;
    for (const auto& s : r.buffer->shape) {
      r.mins.push_back(intImm(0));
      r.extents.push_back(asConstInt(s));
      r.limits.push_back(asConstInt(s) ? nullptr : s);
    }
    return r;
  }
  if (e.kind != ast::ExprKind::Index) fail(e.range, "expected a buffer, a region A[a:b, ...] or an element A[i, ...]");
  const auto& ix = e.as<ast::Index>();
  r.buffer = bufferOf(*ix.base);
  rejectBarrier(r.buffer, e.range);
  if (r.buffer->pointerTable) failPointerTable(e.range, r.buffer);
  checkRank(ix, r.buffer);
  bool anySlice = false;
  auto index = [&](const ast::Expr& x) {
    ExprRef v = scalarExpr(x);
    if (!isInt(v->dtype)) fail(x.range, std::string("an index must be an integer, not ") + name(v->dtype));
    return cast(DType::Int32, v);
  };
  for (size_t i = 0; i < ix.items.size(); ++i) {
    const auto& item = ix.items[i];
    if (!item.isSlice) {
      r.mins.push_back(index(*item.value));
      r.extents.push_back(1);
      r.limits.push_back(nullptr);
      continue;
    }
    anySlice = true;
    ExprRef lo = item.lo ? index(*item.lo) : intImm(0);
    ExprRef hi = item.hi ? index(*item.hi) : r.buffer->shape[i];
    auto ext = constantDifference(hi, lo);
    if (!ext && asConstInt(hi) && asConstInt(lo)) fail(item.range, "this slice's extent overflows a 64-bit integer");
    if (ext && *ext <= 0) fail(item.range, "empty slice: its extent is " + std::to_string(*ext));
    r.mins.push_back(lo);
    r.extents.push_back(ext);
    r.limits.push_back(ext ? nullptr : sub(hi, lo));
  }
  r.isHead = !anySlice;
  return r;
}

bool Analyzer::extentsKnown(const RegionSpec& r) {
  for (const auto& e : r.extents)
    if (!e) return false;
  return true;
}

void Analyzer::headFrom(RegionSpec& head, const RegionSpec& other) {
  if (!extentsKnown(other))
    fail(other.range, "cannot deduce the copy's extents: '" + other.buffer->name +
                          "' has a dimension whose extent is not a compile-time constant; give a slice with a constant extent");
  auto ext = sema::headExtents(head.mins.size(), constExtents(other));
  if (!ext)
    fail(head.range, "cannot use '" + head.buffer->name + "[...]' (rank " + std::to_string(head.mins.size()) +
                         ") as the head of a region with extents " + extentsText(constExtents(other)) + "; give '" +
                         head.buffer->name + "' a slice instead");
  head.extents.assign(ext->begin(), ext->end());
}

void Analyzer::wholeAsHead(RegionSpec& whole, const RegionSpec& other) {
  headFrom(whole, other);
  const Buffer& b = *whole.buffer;
  for (size_t a = 0; a < b.shape.size(); ++a) {
    int64_t need = *whole.extents[a];
    if (auto dim = asConstInt(b.shape[a])) {
      if (*dim < need)
        failAbout(whole.range, "'" + b.name + "' (extent " + std::to_string(*dim) + " in dimension " + std::to_string(a) +
                                   ") does not hold the copy's extent " + std::to_string(need) + " there",
                  whole.buffer);
      continue;
    }
    // A symbolic dimension (a Dim parameter, or a view's expression over parameters).
    std::function<bool(const ExprRef&)> launcherKnows = [&](const ExprRef& e) -> bool {
      switch (e->kind) {
        case ExprKind::IntImm: return true;
        case ExprKind::Var:
          for (const Param& p : kernel_->params)
            if (p.var.get() == &e->as<VarNode>()) return p.kind == ParamKind::Dim || p.kind == ParamKind::Scalar;
          return false;
        case ExprKind::Cast: return launcherKnows(e->as<CastNode>().a);
        case ExprKind::Binary: return launcherKnows(e->as<BinaryNode>().a) && launcherKnows(e->as<BinaryNode>().b);
        default: return false;
      }
    };
    if (!launcherKnows(b.shape[a]))
      failAbout(whole.range, "not yet supported: a copy of the whole of '" + b.name + "', whose dimension " +
                                 std::to_string(a) + " depends on values the launcher does not know; give a slice",
                whole.buffer);
    std::string text = toString(b.shape[a]);
    if (text.size() > 2 && text.front() == '(' && text.back() == ')') text = text.substr(1, text.size() - 2);
    std::string what = "dimension " + std::to_string(a) + " of tensor '" + b.name + "' (" + text + ")";
    bool merged = false;
    for (auto& r : kernel_->requirements)
      if (r.minimum > 0 && r.value == b.shape[a]) {
        if (need > r.minimum) {
          r.minimum = need;
          r.what = what;
        }
        merged = true;
      }
    if (!merged)
      kernel_->requirements.push_back({b.shape[a], 1, what, " (the whole tensor is copied with a tile of that extent)", need});
  }
}

std::pair<Region, Region> Analyzer::settleRegions(RegionSpec src, RegionSpec dst, SourceRange callRange) {
  if (src.isHead && dst.isHead) {
    for (auto& e : src.extents) e = 1;  // two elements: one store
    for (auto& e : dst.extents) e = 1;
  } else if (src.isHead) {
    headFrom(src, dst);
  } else if (dst.isHead) {
    headFrom(dst, src);
  } else if ((src.isWhole && !extentsKnown(src) && extentsKnown(dst)) ||
             (dst.isWhole && !extentsKnown(dst) && extentsKnown(src))) {
    // A whole tensor of symbolic shape with a region of known extents (`copy(A, s)`):
    // the seed's head-address rule, the side with known extents is the base, so `A`
    // is read as `A[0, ..., 0]`; a whole-buffer copy stays inside the buffer, so the
    // launcher refuses an `A` that does not hold the region.
    bool srcIsHead = src.isWhole && !extentsKnown(src);
    wholeAsHead(srcIsHead ? src : dst, srcIsHead ? dst : src);
  }
  for (auto* r : {&src, &dst})
    if (!extentsKnown(*r))
      fail(r->range, "cannot deduce the copy's extents: a dimension of '" + r->buffer->name +
                         "' has no compile-time extent; slice it with a constant extent or use an element as head address");
  auto se = constExtents(src), de = constExtents(dst);
  if (!sema::extentsAgree(se, de)) {
    error(callRange, "copy extents do not match: source " + extentsText(se) + ", destination " + extentsText(de) +
                         " (after dropping unit dimensions: " + extentsText(sema::nonUnitExtents(se)) + " vs " +
                         extentsText(sema::nonUnitExtents(de)) + ")");
    // A whole buffer's extents are its declared shape: show where that is.
    for (const auto* r : {&src, &dst})
      if (r->isWhole) noteDecl(r->buffer->name, r->buffer->declRange);
    throw Failed{};
  }
  checkRegionInside(src);
  checkRegionInside(dst);
  return {toRegion(src), toRegion(dst)};
}

void Analyzer::checkRegionInside(const RegionSpec& r) {
  bool tile = r.buffer->scope != MemScope::Global;
  for (size_t i = 0; i < r.mins.size(); ++i) {
    auto lo = asConstInt(r.mins[i]);
    auto dim = asConstInt(r.buffer->shape[i]);
    int64_t e = *r.extents[i];
    auto text = [&](int64_t from) {
      int64_t end;  // a start near INT64_MAX must not overflow (found by fuzz_frontend_tokens)
      std::string endText = __builtin_add_overflow(from, e, &end) ? std::to_string(from) + " + " + std::to_string(e)
                                                                   : std::to_string(end);
      return "region [" + std::to_string(from) + ", " + endText + ") of dimension " + std::to_string(i) +
             " is outside '" + r.buffer->name + "'" + (dim ? " (extent " + std::to_string(*dim) + ")" : "");
    };
    if (lo && *lo < 0) failAbout(r.range, text(*lo), r.buffer);
    if (!dim || broadcastAxis(r.buffer, i)) continue;
    if (lo && (tile ? *lo > *dim - e : *lo >= *dim)) failAbout(r.range, text(*lo), r.buffer);
    if (tile && e > *dim)
      failAbout(r.range, "a region of extent " + std::to_string(e) + " does not fit dimension " + std::to_string(i) +
                               " of '" + r.buffer->name + "' (extent " + std::to_string(*dim) + ")",
                  r.buffer);
  }
}

std::vector<int64_t> Analyzer::constExtents(const RegionSpec& r) {
  std::vector<int64_t> out;
  for (const auto& e : r.extents) out.push_back(e ? *e : -1);
  return out;
}

Region Analyzer::toRegion(const RegionSpec& s) {
  Region r;
  r.buffer = s.buffer;
  r.mins = s.mins;
  for (const auto& e : s.extents) r.extents.push_back(*e);
  r.access = s.access;
  r.range = s.range;
  return r;
}

std::string Analyzer::stringArg(const ast::Expr& e, const std::string& what, const std::vector<std::string>& valid) {
  if (e.kind == ast::ExprKind::StringLit) {
    const auto& s = e.as<ast::StringLit>().value;
    if (std::find(valid.begin(), valid.end(), s) != valid.end()) return s;
    fail(e.range, "invalid " + what + " \"" + s + "\"; valid: \"" + joinedQuoted(valid));
  }
  fail(e.range, what + " must be a string; valid: \"" + joinedQuoted(valid));
}

std::string Analyzer::joinedQuoted(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "\", \"" : "") + v[i];
  return s + "\"";
}

bool Analyzer::boolArg(const ast::Expr& e, const std::string& what) {
  ExprRef v = scalarExpr(e);
  auto c = asConstInt(v);
  if (!c || (v->dtype != DType::Bool && *c != 0 && *c != 1))
    fail(e.range, what + " must be a compile-time bool; valid: True, False");
  return *c != 0;
}

const std::vector<std::string>& Analyzer::copyKeywords(const std::string& op) {
  static const std::vector<std::string> copy = {"coalesced_width", "disable_tma", "eviction_policy",
                                                "prefer_instruction", "annotations", "loop_layout"};
  static const std::vector<std::string> async = {"coalesced_width", "annotations", "loop_layout"};
  static const std::vector<std::string> tma = {"barrier", "cluster_mask", "leader_scope_threads", "eviction_policy",
                                               "annotations"};
  static const std::vector<std::string> cluster = {"dst_block", "cluster_mask", "remote_barrier",
                                                   "eviction_policy", "coalesced_width", "loop_layout", "annotations"};
  return op == "async_copy" ? async : op == "tma_copy" ? tma : op == "copy_cluster" ? cluster : copy;
}

// A namespaced annotation key ("test.copy", as TileLang's users tag ops for their
// own passes) means nothing to tlc: a warning, and the key is skipped. A plain key
// that names no option stays an error (most likely a misspelt one).
bool Analyzer::ignoredAnnotation(const std::string& key, const std::string& op, SourceRange at) {
  if (key.find('.') == std::string::npos) return false;
  warning(Warning::UnknownAnnotation, at,
          "annotation \"" + key + "\" on " + op + " is not one tlc knows; ignored (namespaced keys are for other tools)");
  return true;
}

// A copy's keyword arguments, then its annotations={...} (which win over them).
CopyOptions Analyzer::copyOptions(const std::string& op, const ast::Call& c, SourceRange& preferAt) {
  CopyOptions options;
  const ast::Dict* annotations = nullptr;
  for (const auto& kw : c.kwargs) {
    copyOption(op, options, kw.name, *kw.value, kw.nameRange, false, preferAt);
    if (kw.name == "annotations") annotations = &kw.value->as<ast::Dict>();
  }
  if (annotations) {
    std::set<std::string> seen;
    for (const auto& entry : annotations->entries) {
      if (entry.key->kind != ast::ExprKind::StringLit) fail(entry.key->range, "annotation keys must be strings");
      const std::string& key = entry.key->as<ast::StringLit>().value;
      if (!seen.insert(key).second) fail(entry.key->range, "annotation \"" + key + "\" is given twice");
      copyOption(op, options, key, *entry.value, entry.key->range, true, preferAt);
    }
  }
  return options;
}

// The options of a copy that runs as a guarded Parallel loop of element accesses (a
// run-time extent, an auto_broadcast side, an fp4 conversion; `what` says which):
// checked as any copy's. TMA and cp.async cannot move it (they need compile-time
// extents and whole elements), nor can a loop_layout place it (yet); disable_tma,
// prefer_instruction="sync" and coalesced_width (a hint: one element moves per
// access) ask for nothing it does not do; eviction_policy applies to its global
// accesses.
CopyOptions Analyzer::elementCopyOptions(const std::string& op, const ast::Call& c, const std::string& what) {
  SourceRange preferAt;
  CopyOptions options = copyOptions(op, c, preferAt);
  if (options.prefer == PreferInstruction::Tma || options.prefer == PreferInstruction::CpAsync)
    fail(preferAt, std::string("prefer_instruction=\"") + (options.prefer == PreferInstruction::Tma ? "tma" : "cp_async") +
                       "\" cannot move a copy of " + what + ": it runs as a guarded Parallel loop, one element per access " +
                       "(TMA and cp.async move blocks of bytes fixed at compile time)");
  if (options.layout)
    fail(options.layoutAt, "not yet supported: loop_layout on a copy of " + what +
                               " (it runs as a guarded Parallel loop, spread over the threads like one)");
  return options;
}

void Analyzer::copyOption(const std::string& op, CopyOptions& o, const std::string& key, const ast::Expr& value, SourceRange keyRange,
                bool fromAnnotations, SourceRange& preferAt) {
  const auto& keys = copyKeywords(op);
  if (fromAnnotations && ignoredAnnotation(key, op, keyRange)) return;
  if (std::find(keys.begin(), keys.end(), key) == keys.end() || (fromAnnotations && key == "annotations")) {
    std::vector<std::string> valid = keys;
    if (fromAnnotations) valid.erase(std::find(valid.begin(), valid.end(), "annotations"));
    fail(keyRange, std::string(fromAnnotations ? "unknown annotation \"" + key + "\"" : "unknown keyword argument '" + key + "'") +
                       " for " + op + "; valid: " + joined(valid));
  }
  if (key == "coalesced_width") {
    auto w = constIntArg(value, "coalesced_width");
    if (w != 1 && w != 2 && w != 4 && w != 8 && w != 16)
      fail(value.range, "invalid coalesced_width " + std::to_string(w) + "; valid: 1, 2, 4, 8, 16 (elements per access)");
    o.coalescedWidth = (int)w;
  } else if (key == "disable_tma") {
    o.disableTma = boolArg(value, "disable_tma");
  } else if (key == "eviction_policy") {
    o.eviction = evictionPolicyArg(value);
  } else if (key == "prefer_instruction") {
    auto s = stringArg(value, "prefer_instruction", {"tma", "cp_async", "sync"});
    o.prefer = s == "tma" ? PreferInstruction::Tma : s == "cp_async" ? PreferInstruction::CpAsync : PreferInstruction::Sync;
    preferAt = value.range;
  } else if (key == "loop_layout") {
    o.layout = layoutArg(value);
    o.layoutAt = value.range;
  } else if (key == "annotations") {
    if (value.kind != ast::ExprKind::Dict) fail(value.range, "annotations must be a dict {\"key\": value, ...}");
  }
}

void Analyzer::forEachAnnotation(const ast::Call& c, const std::string& op, const std::vector<std::string>& valid,
                                 const std::function<void(const std::string&, const ast::Expr&, SourceRange)>& apply) {
  const ast::Expr* value = keyword(c, "annotations");
  if (!value) return;
  if (value->kind != ast::ExprKind::Dict) fail(value->range, "annotations must be a dict {\"key\": value, ...}");
  std::set<std::string> seen;
  for (const auto& entry : value->as<ast::Dict>().entries) {
    if (entry.key->kind != ast::ExprKind::StringLit) fail(entry.key->range, "annotation keys must be strings");
    const std::string& key = entry.key->as<ast::StringLit>().value;
    if (!seen.insert(key).second) fail(entry.key->range, "annotation \"" + key + "\" is given twice");
    if (std::find(valid.begin(), valid.end(), key) == valid.end() && ignoredAnnotation(key, op, entry.key->range))
      continue;
    if (std::find(valid.begin(), valid.end(), key) == valid.end())
      fail(entry.key->range, "unknown annotation \"" + key + "\" for " + op +
                                 (valid.empty() ? "; it takes none (" + op + " has no copy options)" : "; valid: " + joined(valid)));
    apply(key, *entry.value, entry.key->range);
  }
}

// A copy's loop over its elements (the statement itself was counted once).
void Analyzer::chargeCopyLoop(SourceRange r, const Region& s, const Region& d, const CopyOptions& options,
                              const std::string& what) {
  int64_t numel = regionElements(r, s.extents, what);
  // Part of a fragment: the threads walk the whole fragment (partialFragmentCopy).
  for (const Region* side : {&s, &d})
    if (side->buffer->scope == MemScope::Fragment && numel > 1) {
      numel = 1;
      for (const auto& e : side->buffer->shape) numel = saturatingMul(numel, *asConstInt(e));
    }
  const MemScope from = s.buffer->scope, to = d.buffer->scope;
  const bool anyLocal = from == MemScope::Local || to == MemScope::Local;
  chargeExpansion(r, saturatingMul(expansionWeight_, unrolledCopies(numel, anyLocal ? 1 : threads_, options.layout != nullptr,
                                                                    from == MemScope::Fragment || to == MemScope::Fragment) - 1));
}

StmtRef Analyzer::copyOp(const ast::Call& c, const std::string& op) {
  checkKeywords(c, op, copyKeywords(op));
  if (c.args.size() != 2) fail(c.range, op + " takes (src, dst) and keyword arguments");
  if (inParallel_) return elementCopy(c, op);
  RegionSpec src = regionSpec(*c.args[0], Access::Read);
  RegionSpec dst = regionSpec(*c.args[1], Access::Write);
  // Through a view, one copy's threads could read bytes that others overwrite.
  if (src.buffer != dst.buffer && storageOf(src.buffer.get()) == storageOf(dst.buffer.get()))
    failAbout(dst.range, "not yet supported: a copy between '" + src.buffer->name + "' and '" + dst.buffer->name +
                             "', two names of the same " +
                             (src.buffer->scope == MemScope::Fragment ? "fragment's registers"
                              : src.buffer->scope == MemScope::Local ? "local buffer"
                                                                     : "shared memory") + " (" +
                             aliasText(src.buffer, dst.buffer) + ")",
              dst.buffer);
  // A whole tensor of symbolic shape against known extents is the seed's head-address
  // rule (settleRegions), not a run-time extent: `copy(A, s)` reads A's head tile.
  bool wholeAsHeadTile = (src.isWhole && !extentsKnown(src) && extentsKnown(dst)) ||
                         (dst.isWhole && !extentsKnown(dst) && extentsKnown(src));
  // A float4_e2m1fn source converted to another dtype: fp4 copies move packed bytes
  // (PackFloat4), so a converting one reads element by element (nibbles) instead.
  bool fp4Converts = src.buffer->dtype == DType::Float4E2M1 && dst.buffer->dtype != DType::Float4E2M1 &&
                     dst.buffer->dtype != DType::Float4E2M1Unpacked;
  if (src.buffer->autoBroadcast || dst.buffer->autoBroadcast || fp4Converts) {
    // An auto_broadcast tensor repeats its extent-1 axes, which no bulk copy does:
    // the copy runs as a guarded Parallel loop of element accesses.
    const RegionSpec& b = src.buffer->autoBroadcast ? src : dst.buffer->autoBroadcast ? dst : src;
    std::string what = fp4Converts && !b.buffer->autoBroadcast
                           ? "float4_e2m1fn '" + b.buffer->name + "' converted to " + name(dst.buffer->dtype)
                           : "auto_broadcast tensor '" + b.buffer->name + "'";
    if (op != "copy")
      failAbout(b.range, "not yet supported: " + op + " of " + what + " (only copy, which runs element by element)",
                b.buffer);
    CopyOptions options = elementCopyOptions(op, c, what);
    if (fp4Converts && src.buffer->scope == MemScope::Fragment)
      failAbout(src.range, "not yet supported: a copy converting float4_e2m1fn fragment '" + src.buffer->name +
                               "' (element accesses to fp4 fragments are not supported)",
                src.buffer);
    // The head-address rules of settleRegions, then the element-by-element copy.
    if (src.isHead && dst.isHead) {
      for (auto& e : src.extents) e = 1;
      for (auto& e : dst.extents) e = 1;
    } else if (src.isHead) {
      headFrom(src, dst);
    } else if (dst.isHead) {
      headFrom(dst, src);
    } else if (wholeAsHeadTile) {
      bool srcIsHead = src.isWhole && !extentsKnown(src);
      wholeAsHead(srcIsHead ? src : dst, srcIsHead ? dst : src);
    }
    src.isHead = dst.isHead = false;
    return runtimeCopy(c, src, dst, options);
  }
  if (!wholeAsHeadTile && (!extentsKnown(src) || !extentsKnown(dst))) {
    if (op != "copy") fail(c.range, "not yet supported: " + op + " of a region with a run-time extent");
    CopyOptions options = elementCopyOptions(op, c, "a region with a run-time extent");
    return runtimeCopy(c, src, dst, options);
  }
  SourceRange preferAt;
  CopyOptions options = copyOptions(op, c, preferAt);
  if (options.prefer == PreferInstruction::Tma && options.disableTma)
    fail(preferAt, "prefer_instruction=\"tma\" contradicts disable_tma=True");
  if (options.layout && options.prefer == PreferInstruction::Tma)
    fail(options.layoutAt, "loop_layout cannot be used with prefer_instruction=\"tma\": a TMA copy is one bulk "
                           "transfer issued by a single thread, so no per-thread layout applies (loop_layout is for "
                           "SIMT copies)");
  auto [s, d] = settleRegions(std::move(src), std::move(dst), c.range);
  if (s.buffer->dtype == DType::Float4E2M1 || d.buffer->dtype == DType::Float4E2M1) {
    checkPackedCopy(s, d, c.range);
    if (options.layout)
      fail(options.layoutAt, "not yet supported: loop_layout on a copy of float4_e2m1fn (the copy moves bytes, two "
                             "elements each; a layout places elements)");
  }
  if (options.layout) checkLayoutShape(options.layout, s.extents, options.layoutAt, "copy");
  // The instruction asked for fixes the scope pairs: TMA moves a tile between
  // global and shared memory (either way); cp.async loads global into shared.
  MemScope from = s.buffer->scope, to = d.buffer->scope;
  std::string pair = std::string(name(from)) + " -> " + name(to);
  if (op == "async_copy") {
    options.async = true;
    if (!(from == MemScope::Global && to == MemScope::Shared))
      fail(c.range, "async_copy copies global -> shared.dyn; this copy is " + pair);
    if (s.buffer->dtype != d.buffer->dtype)
      fail(c.range, std::string("async_copy copies without converting; this copy converts ") + name(s.buffer->dtype) +
                        " to " + name(d.buffer->dtype));
  }
  if (options.prefer == PreferInstruction::Tma &&
      !((from == MemScope::Global && to == MemScope::Shared) || (from == MemScope::Shared && to == MemScope::Global)))
    fail(preferAt, "prefer_instruction=\"tma\" copies global -> shared.dyn or shared.dyn -> global; this copy is " + pair);
  if (options.prefer == PreferInstruction::CpAsync && !(from == MemScope::Global && to == MemScope::Shared))
    fail(preferAt, "prefer_instruction=\"cp_async\" copies global -> shared.dyn; this copy is " + pair);
  if (options.prefer != PreferInstruction::Auto && options.prefer != PreferInstruction::Sync &&
      s.buffer->dtype != d.buffer->dtype)
    fail(preferAt, std::string("prefer_instruction=\"") + (options.prefer == PreferInstruction::Tma ? "tma" : "cp_async") +
                       "\" copies without converting; this copy converts " + name(s.buffer->dtype) + " to " +
                       name(d.buffer->dtype));
  // Part of a fragment (a region, or one element) is copied by the threads that own
  // its elements (lowering, partialFragmentCopy), to or from global or shared memory.
  for (auto* r : {&s, &d}) {
    if (r->buffer->scope != MemScope::Fragment) continue;
    bool whole = true;
    for (size_t i = 0; i < r->extents.size(); ++i) whole = whole && r->extents[i] == *asConstInt(r->buffer->shape[i]);
    if (whole) continue;
    const Region& other = r == &s ? d : s;
    if (other.buffer->scope == MemScope::Fragment || other.buffer->scope == MemScope::Local)
      failAbout(r->range, "not yet supported: a copy of part of fragment '" + r->buffer->name + "' to or from a " +
                              name(other.buffer->scope) + " buffer (global and shared.dyn are supported)",
                r->buffer);
    if (options.layout)
      failAbout(r->range, "not yet supported: loop_layout on a copy of part of fragment '" + r->buffer->name +
                              "' (the fragment's own layout decides who copies each element)",
                r->buffer);
  }
  checkThreadCopy(s, d, options, c.range);
  chargeCopyLoop(c.range, s, d, options);
  auto result = std::make_shared<CopyOp>(c.range, s, d);
  result->options = options;
  return result;
}

// What holds for any copy the threads may carry out (copy, async_copy,
// copy_cluster), whichever path lowering then picks.
void Analyzer::checkThreadCopy(const Region& s, const Region& d, const CopyOptions& options, SourceRange callRange) {
  // Every thread copies a local buffer whole, so no layout can place its elements
  // (a single element, or a fragment with a local buffer, is decided elsewhere).
  bool anyLocal = s.buffer->scope == MemScope::Local || d.buffer->scope == MemScope::Local;
  bool anyFragment = s.buffer->scope == MemScope::Fragment || d.buffer->scope == MemScope::Fragment;
  bool single = std::all_of(s.extents.begin(), s.extents.end(), [](int64_t e) { return e == 1; });
  if (options.layout && anyLocal && !anyFragment && !single)
    fail(callRange, "loop_layout cannot be used on a copy to or from a local buffer (every thread copies it whole)");
  // The threads copy coalesced_width elements at a time along the innermost axis
  // that is not 1 (lowering's copy loops drop unit axes); a loop_layout places the
  // elements itself.
  if (options.coalescedWidth && !options.layout) {
    int64_t inner = 1;
    for (int64_t e : s.extents)
      if (e != 1) inner = e;
    if (inner % options.coalescedWidth != 0)
      fail(callRange, "coalesced_width=" + std::to_string(options.coalescedWidth) +
                          " does not divide the copy's innermost extent " + std::to_string(inner));
  }
  if (s.buffer->dtype != d.buffer->dtype) checkConversion(s.buffer->dtype, d.buffer->dtype, callRange);
}

// float4_e2m1fn is packed two to a byte (element k of a row in byte k / 2, low
// nibble first) and its copies move bytes: both sides fp4, and each region's last
// axis an even number of elements from an even column. What only the launch knows
// (a tensor's last dimension and row strides) the launcher checks (PackFloat4).
void Analyzer::checkPackedCopy(const Region& s, const Region& d, SourceRange callRange) {
  if (s.buffer->dtype != d.buffer->dtype)
    fail(callRange, std::string("not yet supported: a copy converting ") + name(s.buffer->dtype) + " to " +
                        name(d.buffer->dtype) + " (float4_e2m1fn copies move packed bytes); convert elements with "
                        "cast() in a Parallel loop");
  for (const Region* r : {&s, &d}) {
    const BufferRef& b = r->buffer;
    if (b->shape.empty()) continue;
    int64_t width = r->extents.back();
    if (width % 2 != 0)
      failAbout(r->range, "the region of float4_e2m1fn '" + b->name + "' is " + std::to_string(width) +
                              " elements wide in its last axis; fp4 is packed two to a byte and a copy moves whole "
                              "bytes, so the width must be even", b);
    const ExprRef& start = r->mins.back();
    if (auto k = asConstInt(start); k && *k % 2 != 0)
      failAbout(r->range, "the region of float4_e2m1fn '" + b->name + "' starts at column " + std::to_string(*k) +
                              " of its last axis; fp4 is packed two to a byte and a copy moves whole bytes, so the "
                              "start must be even", b);
    if (knownMultiple(start) % 2 != 0)
      failAbout(r->range, "not yet supported: the region of float4_e2m1fn '" + b->name + "' starts at column " +
                              toString(start) + " of its last axis, which is not provably even (fp4 copies move whole "
                              "bytes); write the start as a multiple of 2", b);
    for (size_t a = 0; a + 1 < b->strides.size(); ++a)
      if (auto k = asConstInt(b->strides[a]); k && *k % 2 != 0)
        failAbout(r->range, "rows of float4_e2m1fn '" + b->name + "' are " + std::to_string(*k) +
                                " elements apart (axis " + std::to_string(a) + "); fp4 rows must start on whole bytes",
                  b);
  }
}

StmtRef Analyzer::transposeOp(const ast::Call& c) {
  checkKeywords(c, "transpose", {"annotations"});
  if (c.args.size() != 2) fail(c.range, "transpose takes (src, dst): two shared tiles, or regions of them");
  if (inParallel_) fail(c.callee->range, "transpose() cannot be called inside a Parallel loop");
  // annotations={...}: transpose has no copy options, so no key applies.
  forEachAnnotation(c, "transpose", {}, [](const std::string&, const ast::Expr&, SourceRange) {});
  // Each side a tile or a region of one (a slice, a region helper): TileLang's
  // (..., M, N) -> (..., N, M) on the regions' extents.
  RegionSpec sides[2] = {regionSpec(*c.args[0], Access::Read), regionSpec(*c.args[1], Access::Write)};
  for (int k = 0; k < 2; ++k) {
    const RegionSpec& r = sides[k];
    const BufferRef& b = r.buffer;
    if (b->scope != MemScope::Shared)
      failAbout(c.args[k]->range, "transpose moves between shared tiles; '" + b->name + "' is " + name(b->scope), b);
    if (b->shape.size() < 2)
      failAbout(c.args[k]->range, "transpose swaps the last two axes; '" + b->name + "' has rank " +
                                      std::to_string(b->shape.size()), b);
    if (r.isHead)
      fail(c.args[k]->range, "transpose needs the extents of both sides: pass the tile '" + b->name +
                                 "' or a region of it (" + b->name + "[a:b, c:d]), not an element");
    if (!extentsKnown(r))
      fail(c.args[k]->range, "a region of a transpose needs compile-time extents; slice '" + b->name +
                                 "' with a constant extent");
    checkRegionInside(r);
  }
  const BufferRef& src = sides[0].buffer;
  const BufferRef& dst = sides[1].buffer;
  if (src == dst) fail(c.args[1]->range, "transpose cannot work in place: '" + dst->name + "' is also the source");
  if (storageOf(src.get()) == storageOf(dst.get()))
    failAbout(c.args[1]->range, "transpose cannot work in place: '" + dst->name + "' holds the source's bytes (" +
                                    aliasText(src, dst) + ")",
              dst);
  if (src->dtype != dst->dtype)
    failAbout(c.args[1]->range, std::string("transpose does not convert: '") + src->name + "' is " + name(src->dtype) +
                                    " and '" + dst->name + "' is " + name(dst->dtype), dst);
  if (src->dtype == DType::Float4E2M1) fail(c.range, "not yet supported: transpose of float4_e2m1fn");
  std::vector<int64_t> from = constExtents(sides[0]), to = constExtents(sides[1]);
  std::vector<int64_t> want = from;
  std::swap(want[want.size() - 1], want[want.size() - 2]);
  // The messages speak of a tile's shape, or of a region's extents.
  auto called = [&](int k) {
    return sides[k].isWhole ? "'" + sides[k].buffer->name + "'" : "the region of '" + sides[k].buffer->name + "'";
  };
  const std::string noun = sides[0].isWhole && sides[1].isWhole ? "shape" : "extents";
  if (from.size() != to.size())
    failAbout(c.args[1]->range, "transpose keeps the rank: '" + src->name + "' has rank " + std::to_string(from.size()) +
                                    ", '" + dst->name + "' rank " + std::to_string(to.size()), dst);
  if (to != want)
    failAbout(c.args[1]->range, called(1) + " has " + (sides[1].isWhole ? "shape " : "extents ") + extentsText(to) +
                                    "; the transpose of " + called(0) + " " + extentsText(from) + " has " + noun + " " +
                                    extentsText(want), dst);
  auto result = std::make_shared<CopyOp>(c.range, toRegion(sides[0]), toRegion(sides[1]));
  result->transpose = true;
  return result;
}

int Analyzer::clusterMaskArg(const ast::Expr& value, const std::string& op, SourceRange callee) {
  const int* dims = kernel_->clusterDims;
  int blocks = dims[0] * dims[1] * dims[2];
  if (blocks == 1)
    fail(callee, op + " with cluster_mask needs thread block clusters: give the kernel's launch more than one block "
                      "per cluster, e.g. Kernel(..., cluster_dims=(2, 1, 1))");
  int64_t mask = constIntArg(value, "cluster_mask");
  if (mask <= 0) fail(value.range, "cluster_mask must name at least one block (a positive bit mask), not " + std::to_string(mask));
  if (mask >= (int64_t(1) << blocks)) {
    int high = 63 - __builtin_clzll((unsigned long long)mask);
    fail(value.range, "cluster_mask names block " + std::to_string(high) + " but the cluster has " + std::to_string(blocks) +
                          " blocks (ranks 0 to " + std::to_string(blocks - 1) + ")");
  }
  return int(mask);
}

StmtRef Analyzer::copyClusterOp(const ast::Call& c) {
  const std::string op = "copy_cluster";
  checkKeywords(c, op, copyKeywords(op));
  if (c.args.size() != 2) fail(c.range, "copy_cluster takes (src, dst) and cluster_mask= or dst_block=");
  if (inParallel_) fail(c.callee->range, "copy_cluster() cannot be called inside a Parallel loop");
  const int* dims = kernel_->clusterDims;
  int blocks = dims[0] * dims[1] * dims[2];
  if (blocks == 1)
    fail(c.callee->range, "copy_cluster needs thread block clusters: give the kernel's launch more than one block "
                          "per cluster, e.g. Kernel(..., cluster_dims=(2, 1, 1))");
  RegionSpec src = regionSpec(*c.args[0], Access::Read);
  RegionSpec dst = regionSpec(*c.args[1], Access::Write);
  if (src.buffer->dtype == DType::Float4E2M1 || dst.buffer->dtype == DType::Float4E2M1)
    fail(c.range, "not yet supported: copies of float4_e2m1fn");
  CopyOptions options;
  SourceRange unused;
  const ast::KeywordArg* mask = nullptr;
  const ast::KeywordArg* block = nullptr;
  std::optional<SourceRange> eviction;  // where an eviction_policy was given
  const ast::KeywordArg* remote = nullptr;
  for (const auto& kw : c.kwargs) {
    if (kw.name == "cluster_mask") mask = &kw;
    else if (kw.name == "dst_block") block = &kw;
    else if (kw.name == "remote_barrier") remote = &kw;
    else {
      if (kw.name == "eviction_policy") eviction = kw.nameRange;
      copyOption(op, options, kw.name, *kw.value, kw.nameRange, false, unused);
    }
  }
  // annotations={...}: the copy options, winning over the keywords.
  forEachAnnotation(c, op, {"eviction_policy", "coalesced_width", "loop_layout"},
                    [&](const std::string& key, const ast::Expr& value, SourceRange keyRange) {
                      if (key == "eviction_policy") eviction = keyRange;
                      copyOption(op, options, key, value, keyRange, true, unused);
                    });
  if (!mask && !block)
    fail(c.range, "copy_cluster needs cluster_mask= (a global tile multicast to blocks of the cluster) or dst_block= "
                  "(a shared tile copied into another block of the cluster)");
  if (mask && block) {
    error(block->nameRange, "copy_cluster takes cluster_mask= or dst_block=, not both");
    diags_.note(mask->nameRange, "cluster_mask given here");
    throw Failed{};
  }
  auto rankText = [&] { return "the cluster has " + std::to_string(blocks) + " blocks (ranks 0 to " + std::to_string(blocks - 1) + ")"; };
  MemScope from = src.buffer->scope, to = dst.buffer->scope;
  std::string pair = std::string(name(from)) + " -> " + name(to);
  int64_t maskValue = 0;
  ExprRef dstBlock;
  if (mask) {
    maskValue = clusterMaskArg(*mask->value, op, c.callee->range);
    if (!(from == MemScope::Global && to == MemScope::Shared))
      fail(c.range, "copy_cluster with cluster_mask copies global -> shared.dyn (a multicast); this copy is " + pair);
  } else {
    dstBlock = scalarExpr(*block->value);
    if (!isInt(dstBlock->dtype)) fail(block->value->range, std::string("dst_block must be an integer, not ") + name(dstBlock->dtype));
    dstBlock = cast(DType::Int32, dstBlock);
    if (auto k = asConstInt(dstBlock); k && (*k < 0 || *k >= blocks))
      fail(block->value->range, "dst_block " + std::to_string(*k) + " is not a block of the cluster: " + rankText());
    if (!(from == MemScope::Shared && to == MemScope::Shared))
      fail(c.range, "copy_cluster with dst_block copies shared.dyn -> shared.dyn (into another block's tile); this copy is " + pair);
    if (eviction)
      fail(*eviction, "eviction_policy is a hint for reads of global memory; a copy with dst_block reads shared memory");
  }
  // remote_barrier=bar: the copy signals `bar` of the destination block (the same
  // alloc_barrier variable there) instead of synchronising the cluster; only a copy
  // into another block (dst_block=) has a destination block to signal.
  if (remote) {
    if (!block)
      fail(remote->nameRange, "remote_barrier= signals the barrier of the block that dst_block= names; a copy with "
                              "cluster_mask completes on each block's own barrier and takes no remote_barrier");
    BarrierOperand b = barrierOperand(*remote->value, "copy_cluster's remote_barrier=");
    options.barrier = b.buffer;
    options.barrierIndex = b.index;  // bars[i]: the same element in the destination block
  }
  auto [s, d] = settleRegions(std::move(src), std::move(dst), c.range);
  checkThreadCopy(s, d, options, c.range);
  chargeCopyLoop(c.range, s, d, options);
  auto result = std::make_shared<CopyOp>(c.range, s, d);
  result->options = options;
  result->clusterMask = (int)maskValue;
  result->dstBlock = dstBlock;
  return result;
}

void Analyzer::annotateLayout(const ast::Call& c) {
  checkKeywords(c, "annotate_layout", {});
  if (c.args.size() != 1 || c.args[0]->kind != ast::ExprKind::Dict)
    fail(c.range, "annotate_layout takes one dict: annotate_layout({tile: swizzled(tile, 128)})");
  if (inParallel_) fail(c.callee->range, "annotate_layout() cannot be called inside a Parallel loop");
  for (const auto& entry : c.args[0]->as<ast::Dict>().entries) {
    BufferRef tile = bufferOf(*entry.key);
    if (tile->scope == MemScope::Fragment && entry.value->kind == ast::ExprKind::Call &&
        calleeName(entry.value->as<ast::Call>()) == "Fragment") {
      fragmentLayoutHint(tile, entry.value->as<ast::Call>());
      continue;
    }
    if (tile->scope != MemScope::Shared)
      failAbout(entry.key->range, "annotate_layout fixes the layout of shared tiles; '" + tile->name + "' is " +
                                      name(tile->scope), tile);
    const ast::Expr& v = *entry.value;
    std::string layout = v.kind == ast::ExprKind::Call ? calleeName(v.as<ast::Call>()) : "";
    if (layout != "swizzled" && layout != "padded" && layout != "Layout")
      fail(v.range, "expected a layout for '" + tile->name + "': swizzled(" + tile->name + ", 32|64|128), padded(" +
                        tile->name + ", n) or Layout(" + tile->name + ".shape, lambda i, j: (p, q))");
    if (layout == "Layout") {
      if (tile->sharedLayout.annotated) fail(entry.key->range, "the layout of '" + tile->name + "' is already annotated");
      rejectLayoutOfAliased(tile, entry.key->range);
      if (bits(tile->dtype) < 8)
        failAbout(entry.key->range, std::string("not yet supported: a layout for a tile of ") + name(tile->dtype), tile);
      sharedIndexMap(tile, v.as<ast::Call>());
      continue;
    }
    const auto& call = v.as<ast::Call>();
    checkKeywords(call, layout, {});
    if (call.args.size() != 2)
      fail(call.range, layout + " takes (tile, " + (layout == "swizzled" ? "bytes)" : "elements)"));
    BufferRef of = bufferOf(*call.args[0]);
    if (of != tile)
      fail(call.args[0]->range, "the layout is for '" + of->name + "' but annotates '" + tile->name + "'");
    if (tile->sharedLayout.annotated) fail(entry.key->range, "the layout of '" + tile->name + "' is already annotated");
    rejectLayoutOfAliased(tile, entry.key->range);
    if (bits(tile->dtype) < 8)
      failAbout(entry.key->range, std::string("not yet supported: a layout for a tile of ") + name(tile->dtype), tile);
    int64_t n = constIntArg(*call.args[1], layout == "swizzled" ? "the swizzle span in bytes" : "the padding in elements");
    SharedLayout l;
    l.annotated = true;
    l.why = "annotate_layout";
    int64_t rowBytes = *asConstInt(tile->shape.back()) * bits(tile->dtype) / 8;
    if (layout == "swizzled") {
      if (n != 32 && n != 64 && n != 128)
        fail(call.args[1]->range, "swizzled(" + tile->name + ", " + std::to_string(n) + "): the span is 32, 64 or 128 bytes");
      if (rowBytes % 16 != 0)
        failAbout(call.range, "swizzled(" + tile->name + ", " + std::to_string(n) + ") permutes 16-byte chunks; rows of '" +
                                  tile->name + "' are " + std::to_string(rowBytes) + " bytes", tile);
      l.swizzleBytes = (int)n;
    } else {
      if (tile->shape.size() < 2)
        failAbout(call.range, "padded(" + tile->name + ", n) pads rows; '" + tile->name + "' has rank 1", tile);
      if (n <= 0 || n > 1024)
        fail(call.args[1]->range, "padded(" + tile->name + ", " + std::to_string(n) + "): the padding is 1 to 1024 elements");
      l.pad = (int)n;
      // The strides say it: rows of shape[-1] + n elements.
      size_t rank = tile->shape.size();
      tile->strides[rank - 1] = intImm(1);
      ExprRef acc = intImm(*asConstInt(tile->shape[rank - 1]) + n);
      for (size_t a = rank - 1; a-- > 0;) {
        tile->strides[a] = acc;
        acc = intImm(*asConstInt(acc) * *asConstInt(tile->shape[a]));
      }
    }
    tile->sharedLayout = l;
  }
}

StmtRef Analyzer::cpAsyncGroup(const ast::Call& c, const std::string& callee) {
  checkKeywords(c, callee, {});
  if (inParallel_) fail(c.callee->range, callee + "() cannot be called inside a Parallel loop");
  // ptx_commit_group() / ptx_wait_group(n): TileLang's names of the same two
  // instructions (cp.async.commit_group, cp.async.wait_group n).
  if (callee == "cp_async_commit" || callee == "ptx_commit_group") {
    if (!c.args.empty()) fail(c.args[0]->range, callee + "() takes no arguments");
    return std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncCommitGroup);
  }
  if (c.args.size() != 1)
    fail(c.range, callee + " takes the number of groups allowed in flight: " + callee + "(0)");
  int64_t n = constIntArg(*c.args[0], "the number of groups in flight");
  if (n < 0 || n > 7) fail(c.args[0]->range, callee + " takes 0 to 7 groups in flight, not " + std::to_string(n));
  auto wait = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncWaitGroup);
  wait->immediate = n;
  return wait;
}

StmtRef Analyzer::fillOp(const ast::Call& c, const std::string& callee) {
  checkKeywords(c, callee, {});
  size_t want = callee == "fill" ? 2 : 1;
  if (c.args.size() != want) fail(c.range, callee == "fill" ? "fill takes (buffer, value)" : "clear takes (buffer)");
  if (inParallel_) fail(c.callee->range, callee + "() cannot be called inside a Parallel loop");
  RegionSpec r = regionSpec(*c.args[0], Access::Write);
  if (r.isHead) for (auto& e : r.extents) e = 1;
  ExprRef v = want == 2 ? scalarExpr(*c.args[1]) : intImm(0);
  if (v->dtype == DType::Handle) fail(c.args[1]->range, "a pointer cannot be stored in a buffer");
  if (!extentsKnown(r) || r.buffer->autoBroadcast) return runtimeFill(c, r, v);
  checkRegionInside(r);
  std::vector<int64_t> extents;
  for (const auto& e : r.extents) extents.push_back(*e);
  const int64_t numel = regionElements(c.range, extents, "this " + callee);
  chargeExpansion(c.range, saturatingMul(expansionWeight_, unrolledCopies(numel, r.buffer->scope == MemScope::Local ? 1 : threads_, false,
                                                                 r.buffer->scope == MemScope::Fragment) - 1));
  return std::make_shared<FillOp>(c.range, toRegion(r), convert(r.buffer->dtype, v, c.range));
}

}  // namespace tlc::sema

namespace tlc::sema {

StmtRef Analyzer::im2colOp(const ast::Call& c, const std::string& op) {
  // The parameters as TileLang names them; each positionally or by keyword.
  static const std::vector<std::string> params = {"img", "col", "nhw_step", "c_step", "kernel", "stride", "dilation", "pad"};
  std::vector<std::string> valid = params;
  valid.push_back("eviction_policy");
  valid.push_back("annotations");
  checkKeywords(c, op, valid);
  if (inParallel_) fail(c.callee->range, op + "() cannot be called inside a Parallel loop");
  if (op == "c2d_im2col")
    warning(Warning::Deprecated, c.callee->range, "c2d_im2col is deprecated; use im2col (same arguments)");
  const std::string usage = op + " takes (img, col, nhw_step, c_step, kernel, stride, dilation, pad)";
  if (c.args.size() > params.size())
    fail(c.args[params.size()]->range, usage + " and eviction_policy=, annotations=; this is a 9th argument");
  std::vector<const ast::Expr*> args(params.size(), nullptr);
  for (size_t i = 0; i < c.args.size(); ++i) args[i] = c.args[i].get();
  for (const auto& kw : c.kwargs) {
    auto it = std::find(params.begin(), params.end(), kw.name);
    if (it == params.end()) continue;
    size_t i = it - params.begin();
    if (args[i]) fail(kw.nameRange, "argument '" + kw.name + "' of " + op + " is given twice (positionally and by keyword)");
    args[i] = kw.value.get();
  }
  for (size_t i = 0; i < params.size(); ++i)
    if (!args[i]) fail(c.range, usage + "; '" + params[i] + "' is missing");

  // The image: a whole NHWC tensor in global memory.
  if (args[0]->kind != ast::ExprKind::Name)
    fail(args[0]->range, op + "'s image must be a whole global tensor (N, H, W, C), not a region");
  BufferRef img = bufferOf(*args[0]);
  if (img->scope != MemScope::Global)
    failAbout(args[0]->range, op + "'s image must be a global tensor (N, H, W, C); '" + img->name + "' is " +
                                  name(img->scope), img);
  if (img->shape.size() != 4)
    failAbout(args[0]->range, op + "'s image must have rank 4 (N, H, W, C); '" + img->name + "' has rank " +
                                  std::to_string(img->shape.size()), img);
  // The column tile: a whole shared (BM, BK) tile.
  if (args[1]->kind != ast::ExprKind::Name)
    fail(args[1]->range, op + "'s column tile must be a whole shared tile (BM, BK), not a region");
  BufferRef col = bufferOf(*args[1]);
  if (col->scope != MemScope::Shared || col->isBarrier)
    failAbout(args[1]->range, op + " writes a shared tile (BM, BK); '" + col->name + "' is " + name(col->scope), col);
  if (col->shape.size() != 2)
    failAbout(args[1]->range, op + "'s column tile must have rank 2 (BM, BK); '" + col->name + "' has rank " +
                                  std::to_string(col->shape.size()), col);
  if (img->dtype != col->dtype)
    fail(c.range, op + " copies without converting; the image is " + std::string(name(img->dtype)) +
                      " and the column tile " + name(col->dtype));
  if (img->dtype == DType::Float4E2M1) fail(c.range, "not yet supported: " + op + " of float4_e2m1fn");
  if (img->elemOffset) fail(args[0]->range, "not yet supported: " + op + " of a tensor with an elem_offset");

  // The tile's position: any integer expressions (block indices, loop variables).
  auto step = [&](const ast::Expr& e, const char* what) {
    ExprRef v = scalarExpr(e);
    if (!isInt(v->dtype)) fail(e.range, std::string(what) + " must be an integer, not " + name(v->dtype));
    if (auto k = asConstInt(v); k && *k < 0) fail(e.range, std::string(what) + " must not be negative, not " + std::to_string(*k));
    return cast(DType::Int32, v);
  };
  ExprRef nhwStep = step(*args[2], "nhw_step");
  ExprRef cStep = step(*args[3], "c_step");

  // The convolution's geometry: compile-time integers (they fix the loop nest).
  Im2col m;
  m.opName = op;
  m.kernel = constIntArg(*args[4], "the kernel size");
  m.stride = constIntArg(*args[5], "the stride");
  m.dilation = constIntArg(*args[6], "the dilation");
  m.pad = constIntArg(*args[7], "the padding");
  if (m.kernel < 1 || m.kernel > 1024) fail(args[4]->range, "the kernel size must be 1 to 1024, not " + std::to_string(m.kernel));
  if (m.stride < 1 || m.stride > 1024) fail(args[5]->range, "the stride must be 1 to 1024, not " + std::to_string(m.stride));
  if (m.dilation < 1 || m.dilation > 1024)
    fail(args[6]->range, "the dilation must be 1 to 1024, not " + std::to_string(m.dilation));
  if (m.pad < 0 || m.pad > 1024) fail(args[7]->range, "the padding must be 0 to 1024, not " + std::to_string(m.pad));

  // OH = (H + 2P - D(K-1) - 1) // S + 1, likewise OW; an empty output is an error
  // where the image size is known.
  int64_t span = m.dilation * (m.kernel - 1) + 1;  // the dilated kernel's extent
  auto outSize = [&](const ExprRef& size, const char* axis) {
    if (auto k = asConstInt(size); k && *k + 2 * m.pad < span)
      failAbout(c.range, std::string("the image's ") + axis + " (" + std::to_string(*k) + ", padded by " +
                             std::to_string(m.pad) + " on each side) is smaller than the dilated kernel (" +
                             std::to_string(span) + "): the output is empty",
                img);
    return add(floorDiv(sub(add(size, intImm(2 * m.pad)), intImm(span)), intImm(m.stride)), intImm(1));
  };
  m.outH = outSize(img->shape[1], "height");
  m.outW = outSize(img->shape[2], "width");

  int64_t bm = *asConstInt(col->shape[0]), bk = *asConstInt(col->shape[1]);
  m.rowStart = mul(nhwStep, intImm(bm));
  m.colStart = mul(cStep, intImm(bk));

  CopyOptions options;
  if (const ast::Expr* e = keyword(c, "eviction_policy")) {
    options.eviction = evictionPolicyArg(*e);
  }
  // annotations={"eviction_policy": ...} wins over the keyword, as on copy.
  forEachAnnotation(c, op, {"eviction_policy"}, [&](const std::string&, const ast::Expr& value, SourceRange) {
    options.eviction = evictionPolicyArg(value);
  });

  Region src;
  src.buffer = img;
  src.access = Access::Read;
  src.range = args[0]->range;
  for (const auto& s : img->shape) {
    src.mins.push_back(intImm(0));
    src.extents.push_back(asConstInt(s).value_or(-1));
  }
  Region dst;
  dst.buffer = col;
  dst.access = Access::Write;
  dst.range = args[1]->range;
  dst.mins = {intImm(0), intImm(0)};
  dst.extents = {bm, bk};
  auto result = std::make_shared<CopyOp>(c.range, src, dst);
  result->im2col = m;
  result->options = options;
  return result;
}

}  // namespace tlc::sema

namespace tlc::sema {

StmtRef Analyzer::elementCopy(const ast::Call& c, const std::string& op) {
  if (op != "copy") fail(c.callee->range, op + "() cannot be called inside a Parallel loop");
  if (!c.kwargs.empty())
    fail(c.kwargs[0].nameRange, "keyword arguments do not apply to a copy of one element inside a Parallel loop");
  std::vector<std::pair<BufferRef, std::vector<ExprRef>>> sides;
  for (const auto& arg : c.args) {
    bool element = arg->kind == ast::ExprKind::Index;
    if (element)
      for (const auto& item : arg->as<ast::Index>().items) element = element && !item.isSlice;
    if (!element)
      fail(arg->range, "inside a Parallel loop, copy() moves one element: write copy(A[i, j], B[i, j]) (or assign "
                       "B[i, j] = A[i, j])");
    const auto& ix = arg->as<ast::Index>();
    BufferRef buf = bufferOf(*ix.base);
    sides.push_back({buf, elementIndices(ix, buf)});
  }
  const auto& [src, srcIdx] = sides[0];
  const auto& [dst, dstIdx] = sides[1];
  checkStoreScope(dst, c.args[1]->range);
  ExprRef load = std::make_shared<LoadNode>(src, srcIdx, src->dtype, 1);
  return std::make_shared<StoreStmt>(c.range, dst, dstIdx, convert(dst->dtype, load, c.range));
}

StmtRef Analyzer::runtimeNest(SourceRange r, const std::string& what, const std::vector<NestAxis>& axes,
                              const std::function<StmtRef(const std::vector<ExprRef>&)>& make) {
  size_t unbounded = 0, looping = 0;
  for (const auto& a : axes) {
    if (a.bound == 0) ++unbounded;
    if (a.bound != 1) ++looping;
  }
  if (unbounded > 1 || (unbounded == 1 && looping > 1))
    fail(r, what + " has a run-time extent with no compile-time bound next to other axes; bound it (min(extent, K) "
                   "with a constant K, or a tile on the other side) or slice with a constant extent");
  std::vector<VarRef> vars;
  std::vector<int64_t> extents;
  std::vector<ExprRef> indices;
  ExprRef guard;
  VarRef chunk;
  ExprRef chunkCount;
  int64_t iterations = 1;
  for (const auto& a : axes) {
    int64_t bound = a.bound;
    if (bound == 1 && !a.limit) {  // a unit axis: no loop
      indices.push_back(intImm(0));
      continue;
    }
    auto var = makeVar(uniqueName("i"), DType::Int32);
    ExprRef index = var;
    if (bound == 0) {
      bound = threads_;
      chunk = makeVar(uniqueName("chunk"), DType::Int32);
      chunkCount = unary(UnOp::Neg, floorDiv(unary(UnOp::Neg, a.limit), intImm(threads_)));
      index = add(mul(chunk, intImm(bound)), var);
    }
    if (__builtin_mul_overflow(iterations, bound, &iterations) || iterations > INT32_MAX)
      fail(r, what + " has more than 2147483647 elements");
    if (a.limit) guard = logicalAnd(guard, lt(index, a.limit));
    vars.push_back(var);
    extents.push_back(bound);
    indices.push_back(index);
  }
  chargeExpansion(r, saturatingMul(expansionWeight_, unrolledCopies(iterations, threads_, false, true) - 1));
  StmtRef body = make(indices);
  if (guard) body = std::make_shared<IfStmt>(r, guard, body, nullptr);
  if (vars.empty()) return body;  // one element
  StmtRef loop = std::make_shared<ParallelOp>(r, vars, extents, body);
  if (chunk) loop = std::make_shared<ForStmt>(r, chunk, intImm(0), chunkCount, ForKind::Serial, loop);
  return loop;
}

// Inside a tile, an index from a run-time start (`S[a:b]`) is only known at run time:
// the store or load is guarded by it too (shared memory has no bounds of its own).
static ExprRef tileGuard(const RegionSpec& r, const std::vector<ExprRef>& at) {
  ExprRef guard;
  if (r.buffer->scope == MemScope::Global) return guard;
  for (size_t k = 0; k < at.size(); ++k)
    if (!asConstInt(r.mins[k]))
      guard = logicalAnd(guard, logicalAnd(binary(BinOp::Ge, at[k], intImm(0)), lt(at[k], r.buffer->shape[k])));
  return guard;
}

static StmtRef guarded(ExprRef guard, StmtRef s) {
  if (!guard) return s;
  SourceRange r = s->range;
  return std::make_shared<IfStmt>(r, guard, s, nullptr);
}

// A run-time axis's bound: its own (min(len, 512)), or a tile's dimension.
static std::optional<int64_t> tileBound(const RegionSpec& r, size_t axis) {
  if (r.buffer->scope == MemScope::Global) return std::nullopt;
  auto dim = asConstInt(r.buffer->shape[axis]);
  auto lo = asConstInt(r.mins[axis]);
  if (dim && lo) return *dim - *lo;
  return dim;
}

StmtRef Analyzer::runtimeFill(const ast::Call& c, const RegionSpec& r, ExprRef value) {
  const BufferRef& buf = r.buffer;
  if (buf->scope == MemScope::Fragment || buf->scope == MemScope::Local || buf->dtype == DType::Float4E2M1)
    failAbout(r.range, std::string("not yet supported: a run-time extent in a fill of a ") +
                           (buf->dtype == DType::Float4E2M1 ? "float4_e2m1fn buffer" : name(buf->scope)) +
                           " buffer; fill it whole",
              buf);
  std::vector<NestAxis> axes;
  for (size_t k = 0; k < r.extents.size(); ++k) {
    NestAxis a;
    if (r.extents[k]) {
      a.bound = *r.extents[k];
    } else {
      a.limit = cast(DType::Int32, r.limits[k]);
      auto own = upperBound(a.limit);
      auto tile = tileBound(r, k);
      if (own && tile) own = std::min(*own, *tile);
      else if (!own) own = tile;
      if (own && *own <= 0) fail(r.range, "this region's run-time extent is at most " + std::to_string(*own) + ": it is empty");
      a.bound = own.value_or(0);
    }
    axes.push_back(a);
  }
  ExprRef v = convert(buf->dtype, value, c.range);
  std::string callee = calleeName(c);
  return runtimeNest(c.range, callee + " of '" + buf->name + "'", axes, [&](const std::vector<ExprRef>& idx) {
    std::vector<ExprRef> at;
    for (size_t k = 0; k < idx.size(); ++k) at.push_back(add(r.mins[k], idx[k]));
    return guarded(tileGuard(r, at), std::make_shared<StoreStmt>(c.range, buf, broadcastIndices(buf, at), v));
  });
}

StmtRef Analyzer::runtimeCopy(const ast::Call& c, const RegionSpec& src, const RegionSpec& dst,
                              const CopyOptions& options) {
  for (const RegionSpec* r : {&src, &dst}) {
    if (r->isHead)
      fail(r->range, "the other side of a region with a run-time extent must have extents of its own (a tile or a "
                     "slice), not an element: its extents cannot come from the run-time side");
    // fp4 element reads work from global and shared memory (a converting copy's source).
    bool fp4Source = r == &src && dst.buffer->dtype != DType::Float4E2M1 && r->buffer->scope != MemScope::Fragment;
    if (r->buffer->scope == MemScope::Local || (r->buffer->dtype == DType::Float4E2M1 && !fp4Source))
      failAbout(r->range, std::string("not yet supported: a copy with a run-time extent to or from a ") +
                              (r->buffer->dtype == DType::Float4E2M1 ? "float4_e2m1fn" : "local") + " buffer",
                r->buffer);
    if (r->buffer->scope == MemScope::Fragment)
      for (size_t i = 0; i < r->extents.size(); ++i)
        if (!r->extents[i] || *r->extents[i] != *asConstInt(r->buffer->shape[i]))
          failAbout(r->range, "not yet supported: a copy of part of fragment '" + r->buffer->name + "'; copy the whole fragment",
                    r->buffer);
    if (extentsKnown(*r)) checkRegionInside(*r);
  }
  // The loop runs over the axes of each side that are not a constant 1, paired in
  // order (the copy rule, with run-time extents guarded instead of compared). A
  // pair's bound is its constant extent, else a bound of a run-time one (min(len,
  // 512), a tile's axis); each run-time extent guards `index < extent`.
  auto loopAxes = [](const RegionSpec& r) {
    std::vector<size_t> axes;
    for (size_t k = 0; k < r.extents.size(); ++k)
      if (!r.extents[k] || *r.extents[k] != 1) axes.push_back(k);
    return axes;
  };
  std::vector<size_t> srcAxes = loopAxes(src), dstAxes = loopAxes(dst);
  if (srcAxes.size() != dstAxes.size())
    fail(c.range, "copy extents do not match: '" + src.buffer->name + "' has " + std::to_string(srcAxes.size()) +
                      (srcAxes.size() == 1 ? " axis" : " axes") + " of extent other than 1 and '" + dst.buffer->name +
                      "' " + std::to_string(dstAxes.size()) + " (counting run-time extents)");
  std::vector<NestAxis> axes;
  for (size_t n = 0; n < srcAxes.size(); ++n) {
    NestAxis a;
    std::optional<int64_t> known;
    for (auto [r, k] : {std::pair{&src, srcAxes[n]}, std::pair{&dst, dstAxes[n]}}) {
      if (r->extents[k]) {
        if (known && *known != *r->extents[k])
          fail(c.range, "copy extents do not match: the paired axes " + std::to_string(srcAxes[n]) + " of '" +
                            src.buffer->name + "' and " + std::to_string(dstAxes[n]) + " of '" + dst.buffer->name +
                            "' have extents " + std::to_string(*known) + " and " + std::to_string(*r->extents[k]));
        known = r->extents[k];
        continue;
      }
      ExprRef limit = cast(DType::Int32, r->limits[k]);
      auto own = upperBound(limit);
      if (own && *own <= 0)
        fail(r->range, "this region's run-time extent is at most " + std::to_string(*own) + ": it is empty");
      if (auto tile = tileBound(*r, k)) own = own ? std::min(*own, *tile) : *tile;
      if (own) a.bound = a.bound ? std::min(a.bound, *own) : *own;
      auto same = a.limit ? constantDifference(a.limit, limit) : std::nullopt;
      if (!a.limit) a.limit = limit;
      else if (!same || *same != 0) a.limit = binary(BinOp::Min, a.limit, limit);  // both sides' run-time extents
    }
    if (known) a.bound = a.bound ? std::min(a.bound, *known) : *known;
    axes.push_back(a);
  }
  // A run-time axis paired with nothing (its partner, a unit axis, was dropped)
  // holds one element: guard 0 < extent.
  ExprRef unitGuard;
  for (auto [r, ax] : {std::pair{&src, &srcAxes}, std::pair{&dst, &dstAxes}})
    for (size_t k = 0; k < r->extents.size(); ++k)
      if (!r->extents[k] && std::find(ax->begin(), ax->end(), k) == ax->end())
        unitGuard = logicalAnd(unitGuard, lt(intImm(0), cast(DType::Int32, r->limits[k])));
  if (src.buffer->dtype != dst.buffer->dtype) checkConversion(src.buffer->dtype, dst.buffer->dtype, c.range);
  auto indicesOf = [&](const RegionSpec& r, const std::vector<size_t>& loop, const std::vector<ExprRef>& idx) {
    std::vector<ExprRef> at = r.mins;
    for (size_t n = 0; n < loop.size(); ++n) at[loop[n]] = add(r.mins[loop[n]], idx[n]);
    return at;
  };
  StmtRef nest = runtimeNest(c.range, "this copy", axes, [&](const std::vector<ExprRef>& idx) {
    auto srcAt = indicesOf(src, srcAxes, idx);
    auto dstAt = indicesOf(dst, dstAxes, idx);
    auto load = std::make_shared<LoadNode>(src.buffer, broadcastIndices(src.buffer, srcAt), src.buffer->dtype, 1);
    // eviction_policy= on the global side(s), as a SIMT copy's accesses take it.
    const int64_t hint = cacheHint(options.eviction);
    if (src.buffer->scope == MemScope::Global) load->cacheHint = hint;
    auto store = std::make_shared<StoreStmt>(c.range, dst.buffer, broadcastIndices(dst.buffer, dstAt),
                                             cast(dst.buffer->dtype, load));
    if (dst.buffer->scope == MemScope::Global) store->cacheHint = hint;
    return guarded(logicalAnd(tileGuard(src, srcAt), tileGuard(dst, dstAt)), store);
  });
  if (unitGuard) nest = std::make_shared<IfStmt>(c.range, unitGuard, nest, nullptr);
  std::string bounds;
  for (const auto& a : axes) bounds += (bounds.empty() ? "" : ", ") + (a.bound ? std::to_string(a.bound) : "chunks of " + std::to_string(threads_));
  const Buffer* broadcast = src.buffer->autoBroadcast ? src.buffer.get() : dst.buffer->autoBroadcast ? dst.buffer.get() : nullptr;
  if (src.buffer->dtype == DType::Float4E2M1 && dst.buffer->dtype != DType::Float4E2M1 && !broadcast)
    diags_.remark(c.range, "copy " + src.buffer->name + " -> " + dst.buffer->name + " converts float4_e2m1fn to " +
                               name(dst.buffer->dtype) + ": lowered to a Parallel loop over (" + bounds +
                               "), one element per access (fp4 bulk copies move packed bytes, unconverted)");
  else if (broadcast)
    diags_.remark(c.range, "copy " + src.buffer->name + " -> " + dst.buffer->name + " reads auto_broadcast tensor '" +
                               broadcast->name + "': lowered to a Parallel loop over (" + bounds +
                               "), one element per access, each index along an axis of extent 1 reading element 0 "
                               "(no bulk copy repeats elements)");
  else
    diags_.remark(c.range, "copy " + src.buffer->name + " -> " + dst.buffer->name +
                               " has a run-time extent: lowered to a Parallel loop over (" + bounds +
                               ") whose body runs where each index is below its extent, one element per access "
                               "(TMA and cp.async need compile-time extents)");
  return nest;
}

}  // namespace tlc::sema
