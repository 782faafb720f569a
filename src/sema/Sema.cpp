// Sema: names, consts, types, macros, scopes and regions; builds the tile IR.
//
// The analysis walks each kernel's AST once, with a stack of scopes mapping names
// to Values (a folded constant, a dtype, a scalar expression, a mutable local, a
// buffer, a raw pointer). Macros are inlined at their calls in a fresh scope that
// sees only the file's consts, its own parameters and its own locals. Each side of
// a copy becomes a region (start, extent and access type per axis), settled with
// the rule documented in docs/language.md and implemented in Regions.cpp: a head
// address takes the other side's extents, then the extents, right-aligned with unit
// dimensions dropped, must be equal. Every op checks its keyword arguments and the
// scopes it accepts. Diagnostics are collected and then reported in source order
// (see reportInSourceOrder at the end).
//
// The Analyzer's steps are spread over the files of src/sema/ (Analyzer.h says
// which holds what); this one has its utilities, the file level (consts, macros,
// -D overrides) and the entry point `analyze`.
#include "sema/Sema.h"

#include <limits>

#include "sema/Analyzer.h"

namespace tlc::sema {

std::unique_ptr<Module> Analyzer::runWithDefines(const ast::File& file) {
  collectGlobals(file);
  applyDefines();
  refold(file);
  // Kernels past the budget are refused before any is analyzed: the work it bounds
  // (the module, the cubin, the header) is the file's.
  int64_t kernels = 0;
  for (const auto& decl : file.decls) {
    if (decl->kind != ast::DeclKind::Kernel || ++kernels <= limits::KernelsPerFile) continue;
    const auto& k = decl->as<ast::FunctionDecl>();
    diags_.error(k.nameRange, "kernel '" + k.name + "' is kernel number " + std::to_string(kernels) + " of this file; a file holds at most " +
                                  std::to_string(limits::KernelsPerFile) + " kernels (the budget of kernels per file): split it");
    return nullptr;
  }
  auto module = std::make_unique<Module>();
  for (const auto& decl : file.decls) {
    if (decl->kind != ast::DeclKind::Kernel) continue;
    auto kernel = analyzeKernel(decl->as<ast::FunctionDecl>());
    if (kernel) module->kernels.push_back(std::move(*kernel));
    if (expandedInFile_ > options_.expandedStatementsPerFile) break;  // reported; the rest would only repeat it
  }
  if (diags_.hasErrors()) return nullptr;
  return module;
}

void Analyzer::chargeExpansion(SourceRange r, int64_t count) {
  if (overBudget_) throw Failed{};
  // Saturating: a region of 2^62 elements counts as past every budget, not as a wrap.
  if (__builtin_add_overflow(expanded_, count, &expanded_)) expanded_ = std::numeric_limits<int64_t>::max();
  if (__builtin_add_overflow(expandedInFile_, count, &expandedInFile_))
    expandedInFile_ = std::numeric_limits<int64_t>::max();
  bool perKernel = expanded_ > limits::ExpandedStatementsPerKernel;
  if (!perKernel && expandedInFile_ <= options_.expandedStatementsPerFile) return;
  overBudget_ = true;
  std::string who = perKernel ? "kernel '" + kernel_->name + "'" : std::string("the file");
  int64_t total = perKernel ? expanded_ : expandedInFile_;
  int64_t budget = perKernel ? limits::ExpandedStatementsPerKernel : options_.expandedStatementsPerFile;
  fail(r, "this statement brings " + who + " to " + std::to_string(total) + " statements after expansion, past the budget of " +
              std::to_string(budget) + " expanded statements " + (perKernel ? "per kernel" : "per file") +
              " (each macro call expands its body; a copy, fill or Parallel loop counts once per element a thread "
              "unrolls, up to " + std::to_string(limits::UnrolledElementsPerThread) + ")");
}

int64_t Analyzer::saturatingMul(int64_t a, int64_t b) {
  int64_t product;
  return __builtin_mul_overflow(a, b, &product) ? std::numeric_limits<int64_t>::max() : product;
}

int64_t Analyzer::regionElements(SourceRange r, const std::vector<int64_t>& extents, const std::string& what) {
  int64_t numel = 1;
  for (int64_t e : extents) numel = saturatingMul(numel, e);
  // The bound tiles have too (Limits.def says why).
  if (numel > limits::ElementsPerRegion)
    fail(r, what + " of " + (numel == std::numeric_limits<int64_t>::max() ? std::string("2^63 - 1 or more")
                                                                            : std::to_string(numel)) +
                " elements is too large (at most 2^40)");
  return numel;
}

int64_t Analyzer::unrolledCopies(int64_t numel, int threads, bool followsLayout, bool touchesFragment) {
  // Rounded up without numel + threads - 1, which a saturated count would overflow.
  const int64_t t = std::max(threads, 1);
  int64_t perThread = numel / t + (numel % t != 0 ? 1 : 0);
  if (followsLayout) return perThread;
  return std::min(perThread, touchesFragment ? limits::UnrolledElementsPerThread : int64_t{32});
}

void Analyzer::fail(SourceRange r, const std::string& msg) {
  error(r, msg);
  throw Failed{};
}

void Analyzer::error(SourceRange r, const std::string& msg) {
  diags_.error(r, msg);
  noteExpansions(r);
}

void Analyzer::warning(Warning kind, SourceRange r, const std::string& msg) {
  diags_.warning(kind, r, msg);
  noteExpansions(r);
}

void Analyzer::noteExpansions(SourceRange r) {
  auto inside = [&](const ast::FunctionDecl* m) {
    return r.valid() && r.begin.offset >= m->range.begin.offset && r.begin.offset < m->range.end.offset;
  };
  size_t level = expansions_.size();
  while (level > 0 && !inside(expansions_[level - 1].macro)) --level;
  // Innermost first; a deep chain (recursion) shows its two innermost calls and
  // the outermost one.
  for (size_t shown = 0; level > 0; ++shown) {
    const Expansion& e = expansions_[--level];
    std::string text = "in the expansion of macro '" + e.macro->name + "' here";
    if (shown == 2 && level > 0) {
      const Expansion& outer = expansions_.front();
      diags_.note(outer.call, "in the expansion of macro '" + outer.macro->name + "' here (" +
                                  std::to_string(level) + " nested expansions not shown)");
      break;
    }
    diags_.note(e.call, text);
  }
}

void Analyzer::noteDecl(const std::string& name, SourceRange decl) {
  if (decl.valid()) diags_.note(decl, "'" + name + "' declared here");
}

void Analyzer::suggest(SourceRange r, const std::string& word, const std::vector<std::string>& candidates) {
  if (auto near = closestSpelling(word, candidates)) diags_.note(r, "did you mean '" + *near + "'?");
}

void Analyzer::failUnknown(SourceRange r, const std::string& msg, const std::string& word,
                           const std::vector<std::string>& candidates) {
  error(r, msg);
  suggest(r, word, candidates);
  throw Failed{};
}

std::vector<std::string> Analyzer::namesInScope() const {
  std::vector<std::string> names;
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
    for (const auto& [name, value] : *it) names.push_back(name);
  for (const auto& [name, value] : globals_) names.push_back(name);
  return names;
}

std::vector<std::string> Analyzer::functionNames() const {
  using vocabulary::Kind;
  auto names = vocabulary::namesOf({Kind::Statement, Kind::Value, Kind::Named, Kind::Layout, Kind::Math});
  for (const auto& [name, macro] : macros_) names.push_back(name);
  return names;
}

void Analyzer::failAttribute(const ast::Attribute& a) {
  if (a.base->kind == ast::ExprKind::Name && a.base->as<ast::Name>().name == "T")
    failUnknown(a.nameRange, "'T." + a.name + "' names no built-in of the language (T. is TileLang's module prefix)", a.name,
                vocabulary::namesOf({vocabulary::Kind::Statement, vocabulary::Kind::Value, vocabulary::Kind::Named,
                                     vocabulary::Kind::Loop, vocabulary::Kind::Type, vocabulary::Kind::Launch,
                                     vocabulary::Kind::Layout, vocabulary::Kind::DType, vocabulary::Kind::Math}));
  fail(a.range, "unknown attribute '" + a.name + "'");
}

void Analyzer::failUnknownFunction(const ast::Call& c, const std::string& callee) {
  if (c.callee->kind == ast::ExprKind::Attribute) failAttribute(c.callee->as<ast::Attribute>());
  failUnknown(c.callee->range, "unknown function '" + callee + "'", callee, functionNames());
}

void Analyzer::checkKeywords(const ast::Call& c, const std::string& op, const std::vector<std::string>& valid) {
  for (size_t i = 0; i < c.kwargs.size(); ++i) {
    const auto& kw = c.kwargs[i];
    if (std::find(valid.begin(), valid.end(), kw.name) == valid.end())
      failUnknown(kw.nameRange, "unknown keyword argument '" + kw.name + "' for " + op +
                                    (valid.empty() ? "; it takes none" : "; valid: " + joined(valid)),
                  kw.name, valid);
    for (size_t j = 0; j < i; ++j)
      if (c.kwargs[j].name == kw.name) {
        error(kw.nameRange, "keyword argument '" + kw.name + "' is given twice");
        diags_.note(c.kwargs[j].nameRange, "first given here");
        throw Failed{};
      }
  }
}

const ast::Expr* Analyzer::keyword(const ast::Call& c, const std::string& name) const {
  for (const auto& kw : c.kwargs)
    if (kw.name == name) return kw.value.get();
  return nullptr;
}

std::string Analyzer::stringValue(const ast::Expr& e, const std::string& what, const std::string& valid) {
  if (e.kind != ast::ExprKind::StringLit) fail(e.range, what + " must be a string; valid: " + valid);
  return e.as<ast::StringLit>().value;
}

const Value* Analyzer::lookup(const std::string& name) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    auto f = it->find(name);
    if (f != it->end()) {
      if (f->second.kind == Value::BufferV) usedBuffers_.insert(f->second.buffer);
      return &f->second;
    }
  }
  auto g = globals_.find(name);
  return g == globals_.end() ? nullptr : &g->second;
}

void Analyzer::define(const std::string& name, Value v, SourceRange r) {
  auto& scope = scopes_.back();
  if (auto it = scope.find(name); it != scope.end()) {
    error(r, "redefinition of '" + name + "'");
    noteDecl(name, it->second.decl);
    throw Failed{};
  }
  v.decl = r;
  scope[name] = std::move(v);
}

std::string Analyzer::uniqueName(const std::string& base) {
  int n = localNames_[base]++;
  return n == 0 ? base : base + "_" + std::to_string(n);
}

void Analyzer::collectGlobals(const ast::File& file) {
  // The built-in constants (ir/Constants.def) are globals no declaration may take.
  std::map<std::string, int64_t> builtinConstants;
#define TLC_CONSTANT(Name, Number, Summary) builtinConstants[#Name] = Number;
#include "ir/Constants.def"
#undef TLC_CONSTANT
  for (const auto& [name, number] : builtinConstants) {
    Value v;
    v.kind = Value::ConstInt;
    v.intValue = number;
    globals_[name] = v;
  }
  for (const auto& decl : file.decls) {
    if (auto b = builtinConstants.find(decl->name); b != builtinConstants.end()) {
      error(decl->nameRange, "'" + decl->name + "' is a built-in constant (" + std::to_string(b->second) +
                                 "); choose another name");
      continue;
    }
    if (auto it = declaredAt_.find(decl->name); it != declaredAt_.end()) {
      error(decl->nameRange, "redefinition of '" + decl->name + "'");
      noteDecl(decl->name, it->second);
      continue;
    }
    declaredAt_[decl->name] = decl->nameRange;
    switch (decl->kind) {
      case ast::DeclKind::Const: {
        try {
          Value v = evalConst(*decl->as<ast::ConstDecl>().value);
          v.decl = decl->nameRange;
          globals_[decl->name] = v;
        } catch (Failed&) {
        }
        break;
      }
      case ast::DeclKind::Macro:
        macros_[decl->name] = MacroDef{&decl->as<ast::FunctionDecl>()};
        break;
      case ast::DeclKind::Kernel: checkKernelName(decl->as<ast::FunctionDecl>()); break;
    }
  }
  checkVariantNames(file);
}

// Kernel names stay out of the namespace of generated symbols (see
// ir::kGeneratedSymbolPrefix for why that namespace is reserved, not mangled).
void Analyzer::checkKernelName(const ast::FunctionDecl& kernel) {
  const std::string& name = kernel.name;
  for (const char* reserved : {ir::kGeneratedSymbolPrefix, "__"})
    if (name.rfind(reserved, 0) == 0)
      error(kernel.nameRange, "kernel name '" + name + "' starts with '" + reserved +
                                  "', which is reserved for the symbols tlc generates");
}

// `k` may get a fast variant named `k` + kFastVariantSuffix: no other kernel may
// have that name, whether or not `k` ends up with two variants (which depends on
// lowering, and a name should not become invalid when a copy changes).
void Analyzer::checkVariantNames(const ast::File& file) {
  const std::string suffix = ir::kFastVariantSuffix;
  std::map<std::string, SourceRange> kernels;
  for (const auto& decl : file.decls)
    if (decl->kind == ast::DeclKind::Kernel) kernels.emplace(decl->name, decl->nameRange);
  for (const auto& decl : file.decls) {
    if (decl->kind != ast::DeclKind::Kernel || decl->name.size() <= suffix.size()) continue;
    if (decl->name.compare(decl->name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    std::string stem = decl->name.substr(0, decl->name.size() - suffix.size());
    auto it = kernels.find(stem);
    if (it == kernels.end()) continue;
    error(decl->nameRange, "kernel name '" + decl->name + "' is reserved for the aligned variant of kernel '" +
                               stem + "'");
    noteDecl(stem, it->second);
  }
}

void Analyzer::applyDefines() {
  if (options_.defines.empty()) return;
  std::map<std::string, Value> overrides;
  for (const auto& d : options_.defines) {
    auto it = globals_.find(d.name);
    if (it != globals_.end() && !declaredAt_.count(d.name)) {
      error(SourceRange{}, "-D " + d.name + "=" + d.value + ": '" + d.name + "' is a built-in constant, not a const of the file");
      continue;
    }
    if (it == globals_.end()) {
      error(SourceRange{}, "-D " + d.name + "=" + d.value + ": the file declares no const named '" + d.name + "'");
      continue;
    }
    Value v;
    if (auto t = dtypeFromName(d.value)) {
      v.kind = Value::DTypeName;
      v.dtype = *t;
    } else {
      char* end = nullptr;
      errno = 0;
      long long parsed = std::strtoll(d.value.c_str(), &end, 0);
      if (errno == ERANGE) {
        error(SourceRange{}, "-D " + d.name + "=" + d.value + ": the value does not fit a 64-bit integer");
        continue;
      }
      if (d.value.empty() || *end != '\0') {
        error(SourceRange{}, "-D " + d.name + "=" + d.value + ": the value must be an integer or a dtype name");
        continue;
      }
      v.kind = Value::ConstInt;
      v.intValue = parsed;
    }
    if ((v.kind == Value::DTypeName) != (it->second.kind == Value::DTypeName)) {
      error(SourceRange{}, "-D " + d.name + "=" + d.value + ": '" + d.name + "' is " +
                                      (it->second.kind == Value::DTypeName ? "a dtype" : "a number") +
                                      " in the file");
      noteDecl(d.name, it->second.decl);
      continue;
    }
    overrides[d.name] = v;
  }
  overrides_ = overrides;
}

void Analyzer::refold(const ast::File& file) {
  if (overrides_.empty()) return;
  for (const auto& decl : file.decls) {
    if (decl->kind != ast::DeclKind::Const) continue;
    if (auto o = overrides_.find(decl->name); o != overrides_.end()) {
      Value v = o->second;
      v.decl = decl->nameRange;
      globals_[decl->name] = v;
      continue;
    }
    try {
      Value v = evalConst(*decl->as<ast::ConstDecl>().value);
      v.decl = decl->nameRange;
      globals_[decl->name] = v;
    } catch (Failed&) {
    }
  }
}

}  // namespace tlc::sema

namespace tlc {

// The analysis meets mistakes in the order it walks (consts first, a macro's body
// at each call); they are reported in source order, each with its notes, and a
// mistake found again by a second expansion of the same macro is reported once.
static void reportInSourceOrder(const std::vector<Diagnostic>& found, DiagnosticEngine& diags) {
  struct Group {
    size_t first, last;  // [first, last): a diagnostic and the notes after it
  };
  std::vector<Group> groups;
  for (size_t i = 0; i < found.size(); ++i) {
    if (found[i].severity == Severity::Note && !groups.empty()) groups.back().last = i + 1;
    else groups.push_back({i, i + 1});
  }
  auto key = [&](const Group& g) {
    const SourceRange& r = found[g.first].range;
    return std::make_pair(r.valid() ? 1 : 0, r.begin.offset);
  };
  std::stable_sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) { return key(a) < key(b); });
  std::set<std::tuple<int, uint32_t, uint32_t, std::string>> seen;
  auto isExpansionNote = [](const Diagnostic& d) { return d.message.rfind("in the expansion of macro", 0) == 0; };
  for (const Group& g : groups) {
    const Diagnostic& d = found[g.first];
    // The notes about the mistake itself first, then the chain of macro calls.
    std::vector<const Diagnostic*> ordered;
    for (size_t i = g.first; i < g.last; ++i)
      if (i == g.first || !isExpansionNote(found[i])) ordered.push_back(&found[i]);
    for (size_t i = g.first + 1; i < g.last; ++i)
      if (isExpansionNote(found[i])) ordered.push_back(&found[i]);
    if (!seen.insert({(int)d.severity, d.range.begin.offset, d.range.end.offset, d.message}).second) continue;
    for (const Diagnostic* each : ordered) {
      const Diagnostic& x = *each;
      // A warning is replayed by name, so the -W flags decide what becomes of it.
      if (x.warning) {
        diags.warning(*x.warning, x.range, x.message);
        continue;
      }
      switch (x.severity) {
        case Severity::Error: diags.error(x.range, x.message); break;
        case Severity::Warning: break;  // every warning has a name
        case Severity::Note: diags.note(x.range, x.message); break;
        case Severity::Remark: diags.remark(x.range, x.message); break;
      }
    }
  }
}

std::unique_ptr<ir::Module> analyze(const ast::File& file, const SemaOptions& options, DiagnosticEngine& diags) {
  std::ostringstream unused;  // the collecting engine's own rendering is not shown
  DiagnosticEngine collected(unused);
  collected.setFile(diags.file());
  collected.setErrorLimit(0);
  collected.setShowRemarks(true);  // collected all: the caller's engine decides what shows
  sema::Analyzer analyzer(options, collected);
  auto module = analyzer.runWithDefines(file);
  reportInSourceOrder(collected.all(), diags);
  return collected.hasErrors() ? nullptr : std::move(module);
}

}  // namespace tlc
