// Header: writes the C launcher header for a compiled module.
//
// The header is the product's public face: it must read like hand-written C and
// compile without a warning as C11 and C++17 (-Wall -Wextra -Werror), twice in one
// program and next to other tlc headers. So every symbol is `static` or
// `static inline`, module-level names carry the prefix, launcher locals carry a
// `tlc_` prefix that parameter names are kept out of, and the only compiler
// extensions used are the GCC/Clang `__atomic` and `__builtin_*_overflow` builtins.
// docs/header.md describes the API this file produces.
#include "backend/Header.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

namespace tlc {
namespace {

using ir::BinOp;
using ir::DType;
using ir::ExprKind;
using ir::ParamKind;

// ------------------------------------------------------------- identifiers

// Words a C11 or C++17 compiler will not accept as a parameter name, plus the
// names the launcher itself uses for its own arguments.
bool isReservedWord(const std::string& word) {
  static const std::set<std::string> words = {
      // C11
      "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
      "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
      "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
      "typedef", "union", "unsigned", "void", "volatile", "while", "_Alignas", "_Alignof",
      "_Atomic", "_Bool", "_Complex", "_Generic", "_Imaginary", "_Noreturn", "_Static_assert",
      "_Thread_local",
      // C++17 on top
      "alignas", "alignof", "and", "and_eq", "asm", "bitand", "bitor", "bool", "catch",
      "char16_t", "char32_t", "class", "compl", "constexpr", "const_cast", "decltype", "delete",
      "dynamic_cast", "explicit", "export", "false", "friend", "mutable", "namespace", "new",
      "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq", "private", "protected",
      "public", "reinterpret_cast", "static_assert", "static_cast", "template", "this",
      "thread_local", "throw", "true", "try", "typeid", "typename", "using", "virtual",
      "wchar_t", "xor", "xor_eq",
      // C23 and C++20 on top
      "typeof", "typeof_unqual", "_BitInt", "_Decimal32", "_Decimal64", "_Decimal128", "char8_t", "concept",
      "consteval", "constinit", "co_await", "co_return", "co_yield", "requires",
      // the launcher's own argument
      "stream", "main",
      // macros and identifiers of the headers it includes (<stdarg.h>, <stddef.h>,
      // <stdint.h>, <stdio.h>, <string.h>) that a parameter would be replaced by or
      // would hide inside the launcher (names ending in _t are refused by rule below)
      "NULL", "offsetof", "va_list", "va_start", "va_end", "va_arg", "va_copy", "EOF", "BUFSIZ",
      "FILENAME_MAX", "FOPEN_MAX", "L_tmpnam", "TMP_MAX", "SEEK_SET", "SEEK_CUR", "SEEK_END", "FILE",
      "stdin", "stdout", "stderr", "errno", "assert", "printf", "fprintf", "sprintf", "snprintf", "vprintf",
      "vfprintf", "vsprintf", "vsnprintf", "scanf", "fscanf", "sscanf", "puts", "fputs", "gets", "fgets",
      "putc", "getc", "putchar", "getchar", "fputc", "fgetc", "fopen", "fclose", "fflush", "fread",
      "fwrite", "remove", "rename", "perror", "memcpy", "memmove", "memset", "memcmp", "memchr", "strcpy",
      "strncpy", "strcat", "strncat", "strcmp", "strncmp", "strlen", "strchr", "strrchr", "strstr",
      "strerror", "strtok", "SIZE_MAX", "PTRDIFF_MIN", "PTRDIFF_MAX", "SIG_ATOMIC_MIN", "SIG_ATOMIC_MAX",
      "WCHAR_MIN", "WCHAR_MAX", "WINT_MIN", "WINT_MAX"};
  return words.count(word) != 0;
}

// Names a parameter may not take in the header whatever the list above says:
// reserved to the implementation (`__x`, `_X`), POSIX's `_t` types, the fixed-width
// integer macros (INT32_MAX, UINT8_C, INTPTR_MIN, ...), the CUDA driver's names
// (cuLaunchKernel and its `_v2` macros, CUresult, CU_*, CUDA_SUCCESS, CUDA_VERSION),
// and the header's own (TLC_* macros, tlc_* locals).
bool isReservedByRule(const std::string& word) {
  auto startsWith = [&](const char* p) { return word.rfind(p, 0) == 0; };
  auto endsWith = [&](const std::string& s) {
    return word.size() >= s.size() && word.compare(word.size() - s.size(), s.size(), s) == 0;
  };
  if (startsWith("__") || (word.size() > 1 && word[0] == '_' && std::isupper(static_cast<unsigned char>(word[1]))))
    return true;
  if (endsWith("_t")) return true;
  if ((startsWith("INT") || startsWith("UINT")) && (endsWith("_MAX") || endsWith("_MIN") || endsWith("_C")))
    return true;
  if (startsWith("CU") || startsWith("tlc_") || startsWith("TLC_")) return true;
  if (startsWith("cu") && word.size() > 2 && std::isupper(static_cast<unsigned char>(word[2]))) return true;
  return false;
}

// Any string as a C identifier: other characters become '_', and a leading digit
// gets a 'k' in front (not '_': `_X` names are reserved to the implementation).
std::string sanitizeIdentifier(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 1);
  for (char c : text) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    out += ok ? c : '_';
  }
  if (out.empty()) out = "unnamed";
  if (std::isdigit(static_cast<unsigned char>(out[0]))) out = "k" + out;
  return out;
}

// A parameter's name as a launcher argument: sanitized, and moved out of the way of
// C keywords, the headers' macros, the driver's names and the launcher's own `tlc_`
// locals by a trailing underscore (a reserved `_X` / `__x` start gets `arg` in front).
std::string argumentName(const std::string& paramName) {
  std::string name = sanitizeIdentifier(paramName);
  if (name[0] == '_' && isReservedByRule(name)) name = "arg" + name;
  if (isReservedWord(name) || isReservedByRule(name)) name += "_";
  return name;
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// ------------------------------------------------------------------ dtypes

// Bytes of one element in memory (fp4 packs two to a byte: a pointer to it only
// needs byte alignment).
int elementBytes(DType t) { return std::max(1, ir::bits(t) / 8); }

bool isSignedIntegerScalar(DType t) {
  return t == DType::Int8 || t == DType::Int16 || t == DType::Int32 || t == DType::Int64;
}

// ------------------------------------------------------------ kernel groups

// One launch function: the variants of one source kernel, most specialized first.
struct KernelGroup {
  std::string sourceName;  // as written in the .tl file
  std::string cName;       // sanitized: the launch function is `<cName>_launch`
  size_t first = 0;        // index of the first variant in Module::kernels
  size_t count = 0;
};

std::vector<KernelGroup> groupKernels(const ir::Module& module, const std::string& kernelPrefix) {
  std::vector<KernelGroup> groups;
  for (size_t i = 0; i < module.kernels.size(); ++i) {
    const ir::Kernel& k = module.kernels[i];
    std::string source = k.sourceName.empty() ? k.name : k.sourceName;
    if (!groups.empty() && groups.back().sourceName == source) {
      ++groups.back().count;
      continue;
    }
    groups.push_back({source, kernelPrefix + sanitizeIdentifier(source), i, 1});
  }
  return groups;
}

// The launcher's view of a parameter: its C argument name and type.
struct Argument {
  const ir::Param* param = nullptr;
  std::string name;
  std::string type;
};

// Pointer params first, then Dim params, then Scalar params, each in params order:
// the order a user reads best (`copy(A, B, M, N, stream)`).
// `functionPrefixes` are the starts of the header's functions the launcher calls
// (`<prefix>_`, `<kernel>_`): an argument named like one would hide it, so it gets
// `arg_` in front (no function of the header starts so); an argument whose escaped
// name another parameter already has gets trailing underscores until it is unique.
// Names that need no escaping keep their spelling.
std::vector<Argument> launcherArguments(const ir::Kernel& k, const std::vector<std::string>& functionPrefixes) {
  std::vector<Argument> args;
  std::set<std::string> taken;
  for (const ir::Param& p : k.params) taken.insert(p.name);
  for (ParamKind kind : {ParamKind::Pointer, ParamKind::Dim, ParamKind::Scalar}) {
    for (const ir::Param& p : k.params) {
      if (p.kind != kind) continue;
      Argument a;
      a.param = &p;
      a.name = argumentName(p.name);
      for (const std::string& start : functionPrefixes)
        if (a.name.rfind(start, 0) == 0) a.name = "arg_" + a.name;
      if (a.name != p.name)
        while (taken.count(a.name)) a.name += "_";
      taken.insert(a.name);
      switch (kind) {
        case ParamKind::Pointer: a.type = "CUdeviceptr"; break;
        case ParamKind::Dim: a.type = "int32_t"; break;
        case ParamKind::Scalar:
          a.type = ir::headerCType(p.var ? p.var->dtype : DType::Int32);
          break;
        case ParamKind::TensorMap: break;  // built by the launcher, never passed in
      }
      args.push_back(a);
    }
  }
  return args;
}

const Argument* findArgument(const std::vector<Argument>& args, const ir::VarNode* var,
                             const std::string& name) {
  for (const Argument& a : args)
    if (var && a.param->var.get() == var) return &a;
  for (const Argument& a : args)
    if (a.param->name == name) return &a;
  return nullptr;
}

// -------------------------------------------------------- grid expressions

// The variables a grid expression reads.
void collectVars(const ir::ExprRef& e, std::set<const ir::VarNode*, ir::ById>& vars) {
  if (!e) return;
  switch (e->kind) {
    case ExprKind::Var: vars.insert(&e->as<ir::VarNode>()); break;
    case ExprKind::Binary:
      collectVars(e->as<ir::BinaryNode>().a, vars);
      collectVars(e->as<ir::BinaryNode>().b, vars);
      break;
    case ExprKind::Unary: collectVars(e->as<ir::UnaryNode>().a, vars); break;
    case ExprKind::Cast: collectVars(e->as<ir::CastNode>().a, vars); break;
    case ExprKind::Select:
      collectVars(e->as<ir::SelectNode>().cond, vars);
      collectVars(e->as<ir::SelectNode>().t, vars);
      collectVars(e->as<ir::SelectNode>().f, vars);
      break;
    default: break;
  }
}

// Prints a grid expression (over Dim/Scalar parameters and constants) as C that
// evaluates it in int64_t. Checked mode calls the header's overflow-checked helpers,
// which set `tlc_bad` instead of overflowing; plain mode is the readable form for
// comments.
// `text` inside a C string literal that is a printf format: quotes, backslashes and
// percent signs escaped.
std::string printfLiteral(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '%') out += '%';
    out += c;
  }
  return out;
}

class GridPrinter {
 public:
  GridPrinter(const std::string& prefix, const std::vector<Argument>& args, bool checked)
      : prefix_(prefix), args_(args), checked_(checked) {}

  std::string print(const ir::ExprRef& e) const {
    if (!e) return "1";
    switch (e->kind) {
      case ExprKind::IntImm:
        return intLiteral(e->as<ir::IntImm>().value);
      case ExprKind::Var: {
        const auto& v = e->as<ir::VarNode>();
        const Argument* a = findArgument(args_, &v, v.name);
        TLC_ASSERT(a != nullptr, "grid expression names '" + v.name + "', which is no parameter");
        return checked_ ? "(int64_t)" + a->name : a->name;
      }
      case ExprKind::Cast:
        return print(e->as<ir::CastNode>().a);
      case ExprKind::Unary: {
        const auto& u = e->as<ir::UnaryNode>();
        if (!checked_ && u.op == ir::UnOp::Neg) {
          // -((-x) // c), also spelled -((-x) >> k), is ceildiv(x, c).
          if (auto args = negatedFloorDivisorArgs(u.a)) return "ceildiv(" + *args + ")";
        }
        switch (u.op) {
          case ir::UnOp::Neg:
            return checked_ ? helper("sub", "0", print(u.a)) : "-" + print(u.a);
          case ir::UnOp::Not: return "(int64_t)!(" + print(u.a) + ")";
          case ir::UnOp::BitNot: return "~" + print(u.a);
        }
        break;
      }
      case ExprKind::Select: {
        const auto& s = e->as<ir::SelectNode>();
        return "(" + print(s.cond) + " ? " + print(s.t) + " : " + print(s.f) + ")";
      }
      case ExprKind::Binary:
        return binary(e->as<ir::BinaryNode>());
      default:
        break;
    }
    TLC_ASSERT(false, "grid expressions may use only integer arithmetic on parameters");
    return "";
  }

 private:
  // For e = (-x) // c or (-x) >> k: "x, c" as printed; else nothing.
  std::optional<std::string> negatedFloorDivisorArgs(const ir::ExprRef& e) const {
    if (!e || e->kind != ExprKind::Binary) return std::nullopt;
    const auto& b = e->as<ir::BinaryNode>();
    auto rhs = ir::asConstInt(b.b);
    if (!rhs || b.a->kind != ExprKind::Unary || b.a->as<ir::UnaryNode>().op != ir::UnOp::Neg)
      return std::nullopt;
    int64_t divisor;
    if (b.op == BinOp::FloorDiv && *rhs > 0)
      divisor = *rhs;
    else if (b.op == BinOp::Shr && *rhs >= 0 && *rhs < 62)
      divisor = int64_t(1) << *rhs;
    else
      return std::nullopt;
    return print(b.a->as<ir::UnaryNode>().a) + ", " + std::to_string(divisor);
  }

  static std::string intLiteral(int64_t v) {
    if (v == INT64_MIN) return "INT64_MIN";
    return std::to_string(v);
  }

  std::string helper(const char* op, const std::string& a, const std::string& b) const {
    return prefix_ + "_" + op + "_(" + a + ", " + b + ", &tlc_bad)";
  }

  std::string binary(const ir::BinaryNode& b) const {
    std::string x = print(b.a), y = print(b.b);
    auto infix = [&](const char* op) { return "(" + x + " " + op + " " + y + ")"; };
    auto call = [&](const char* name, const char* plainName) {
      return checked_ ? helper(name, x, y) : std::string(plainName) + "(" + x + ", " + y + ")";
    };
    switch (b.op) {
      case BinOp::Add: return checked_ ? helper("add", x, y) : infix("+");
      case BinOp::Sub: return checked_ ? helper("sub", x, y) : infix("-");
      case BinOp::Mul: return checked_ ? helper("mul", x, y) : infix("*");
      case BinOp::FloorDiv:
        if (!checked_) {
          // Name the common idiom: (x + (c - 1)) // c is ceildiv(x, c).
          auto divisor = ir::asConstInt(b.b);
          if (divisor && b.a->kind == ExprKind::Binary) {
            const auto& sum = b.a->as<ir::BinaryNode>();
            if (sum.op == BinOp::Add && ir::asConstInt(sum.b) == *divisor - 1)
              return "ceildiv(" + print(sum.a) + ", " + y + ")";
          }
        }
        return call("floordiv", "floordiv");
      case BinOp::FloorMod: return call("floormod", "floormod");
      case BinOp::Min: return call("min", "min");
      case BinOp::Max: return call("max", "max");
      case BinOp::Lt: return "(int64_t)" + infix("<");
      case BinOp::Le: return "(int64_t)" + infix("<=");
      case BinOp::Gt: return "(int64_t)" + infix(">");
      case BinOp::Ge: return "(int64_t)" + infix(">=");
      case BinOp::Eq: return "(int64_t)" + infix("==");
      case BinOp::Ne: return "(int64_t)" + infix("!=");
      case BinOp::And: return "(int64_t)" + infix("&&");
      case BinOp::Or: return "(int64_t)" + infix("||");
      case BinOp::Shl: return checked_ ? helper("shl", x, y) : infix("<<");
      case BinOp::Shr:
        if (!checked_) {
          // (x + (2^k - 1)) >> k is ceildiv(x, 2^k): the builders turn floor division
          // by a power of two into a shift.
          auto shift = ir::asConstInt(b.b);
          if (shift && *shift >= 0 && *shift < 62 && b.a->kind == ExprKind::Binary) {
            const auto& sum = b.a->as<ir::BinaryNode>();
            int64_t divisor = int64_t(1) << *shift;
            if (sum.op == BinOp::Add && ir::asConstInt(sum.b) == divisor - 1)
              return "ceildiv(" + print(sum.a) + ", " + std::to_string(divisor) + ")";
          }
        }
        return checked_ ? helper("shr", x, y) : infix(">>");
      case BinOp::BitAnd: return infix("&");
      case BinOp::BitOr: return infix("|");
      case BinOp::BitXor: return infix("^");
      default: break;
    }
    TLC_ASSERT(false, std::string("grid expressions may not use '") + ir::spelling(b.op) + "'");
    return "";
  }

  const std::string& prefix_;
  const std::vector<Argument>& args_;
  bool checked_;
};

// ------------------------------------------------------------------ writer

class HeaderWriter {
 public:
  HeaderWriter(const ir::Module& module, const std::vector<uint8_t>& cubin, const HeaderOptions& options,
               const std::vector<ArchBuild>* cubins = nullptr, std::vector<int> archOf = {})
      : module_(module), cubin_(cubin), options_(options), cubins_(cubins), archOf_(std::move(archOf)),
        prefix_(sanitizeIdentifier(options.prefix.empty() ? "tlc_module" : options.prefix)),
        groups_(groupKernels(module, options.kernelPrefix)) {}

  std::string write() {
    if (options_.mode == HeaderOptions::Mode::PairHeader) return writeDeclarations();
    if (options_.mode == HeaderOptions::Mode::PairSource) {
      api_ = "";
      guard_ = guardName("_C");
      out_ << "/* " << prefix_ << ": the definitions behind " << options_.headerInclude
           << " (generated by tlc; do not edit). */\n"
           << "#include \"" << options_.headerInclude << "\"\n\n";
    }
    writeBanner();
    writeOpening();
    writeCubin();
    writeModuleState();
    writeHelpers();
    for (const KernelGroup& g : groups_) writeLauncher(g);
    writeClosing();
    return out_.str();
  }

 private:
  // ------------------------------------------------------------ pieces

  std::string signature(const std::vector<Argument>& args, bool withStream) const {
    std::string s;
    for (const Argument& a : args) {
      if (!s.empty()) s += ", ";
      s += a.type + " " + a.name;
    }
    if (withStream) s += std::string(s.empty() ? "" : ", ") + "CUstream stream";
    return s.empty() ? "void" : s;
  }

  std::string describeAssumption(const ir::Assumption& a, const std::vector<Argument>& args) const {
    const Argument* arg = findArgument(args, a.param.get(), a.param ? a.param->name : "");
    std::string name = arg ? arg->name : (a.param ? a.param->name : "?");
    if (arg && arg->param->kind == ParamKind::Pointer)
      return name + " aligned to " + std::to_string(a.multiple) + " bytes";
    return name + " % " + std::to_string(a.multiple) + " == 0";
  }

  std::string assumptionTest(const ir::Assumption& a, const std::vector<Argument>& args) const {
    const Argument* arg = findArgument(args, a.param.get(), a.param ? a.param->name : "");
    TLC_ASSERT(arg != nullptr, "a variant assumes something of a value that is no parameter");
    if (arg->param->kind == ParamKind::Pointer)
      return arg->name + " % " + std::to_string(a.multiple) + "u == 0";
    return arg->name + " % " + std::to_string(a.multiple) + " == 0";
  }

  static std::string callArgsWithStream(const std::vector<Argument>& args) {
    std::string s;
    for (const Argument& a : args) s += a.name + ", ";
    return s + "stream";
  }

  // Several architectures: `<kernel>_select_variant_for_(arch, ...)` picks among the
  // variants built for `arch` (an index into _archs_), the first whose assumptions
  // hold, else that architecture's general variant; `<kernel>_select_variant(...)`
  // asks it for the current context's device (-1 when there is none or no cubin
  // fits it).
  void writeMultiArchSelectVariant(const KernelGroup& g, const std::vector<Argument>& args) {
    const std::string P = prefix_, N = g.cName;
    std::string params = signature(args, false);
    std::string callArgs;
    for (const Argument& a : args) callArgs += ", " + a.name;
    out_ << "static inline int " << N << "_select_variant_for_(int tlc_arch" << (args.empty() ? "" : ", " + params)
         << ") {\n";
    // The arguments the tests below name: each architecture's last variant is tested
    // for its architecture only, so its assumptions name none.
    std::set<std::string> usedInTests;
    for (size_t v = 0; v < g.count; ++v) {
      if (v + 1 == archVariants(g, archOf_[g.first + v]).second) continue;
      for (const ir::Assumption& a : module_.kernels[g.first + v].assumptions) {
        const Argument* arg = findArgument(args, a.param.get(), a.param ? a.param->name : "");
        if (arg) usedInTests.insert(arg->name);
      }
    }
    for (const Argument& a : args)
      if (!usedInTests.count(a.name)) out_ << "  (void)" << a.name << ";\n";
    for (size_t v = 0; v < g.count; ++v) {
      const ir::Kernel& k = module_.kernels[g.first + v];
      const int arch = archOf_[g.first + v];
      std::string test = "tlc_arch == " + std::to_string(arch);
      if (v + 1 != archVariants(g, arch).second)  // the architecture's last variant assumes nothing
        for (const ir::Assumption& a : k.assumptions) test += " && " + assumptionTest(a, args);
      out_ << "  if (" << test << ") return " << v << ";\n";
    }
    out_ << "  return -1;\n}\n\n"
         << "/* The variant " << N << "_launch runs for these arguments on the current context's device\n"
         << " * (0 = the most specialized of the first architecture's); -1 when no cubin fits it. */\n"
         << api_ << "int " << N << "_select_variant(" << params << ") {\n"
         << "  int arch = 0;\n"
         << "  if (" << P << "_arch_index_(&arch) != CUDA_SUCCESS) return -1;\n"
         << "  return " << N << "_select_variant_for_(arch" << callArgs << ");\n"
         << "}\n\n";
  }

  // <kernel>_info(variant): the launch shape of each variant, for logs and tuning.
  void writeInfo(const KernelGroup& g) {
    out_ << "/* The launch shape of variant `variant` of " << g.sourceName << ", or NULL past the last one. */\n"
         << api_ << "const tlc_kernel_info *" << g.cName << "_info(int variant) {\n"
         << "  static const tlc_kernel_info tlc_info[" << g.count << "] = {\n";
    for (size_t v = 0; v < g.count; ++v) {
      const ir::Kernel& k = module_.kernels[g.first + v];
      out_ << "    {\"" << g.sourceName << "\", \"" << k.name << "\", \"" << archOfKernel(g.first + v) << "\", " << v << ", " << g.count
           << ", {" << k.threads << "u, 1u, 1u}, {" << k.clusterDims[0] << "u, " << k.clusterDims[1] << "u, "
           << k.clusterDims[2] << "u}, " << k.dynamicSharedBytes << "u}" << (v + 1 < g.count ? "," : "") << "\n";
    }
    out_ << "  };\n"
         << "  return variant >= 0 && variant < " << g.count << " ? &tlc_info[variant] : NULL;\n"
         << "}\n\n";
  }

  // The header of a .h + .c pair: the public functions' prototypes and the types
  // they use; the definitions are in the .c file (PairSource).
  std::string writeDeclarations() {
    const std::string P = prefix_;
    const std::string guard = guardName("_H");
    std::string source = options_.sourceName.empty() ? "<input>" : options_.sourceName;
    out_ << "/* " << prefix_ << ": launchers for the kernels of " << source << ".\n"
         << " * Generated by tlc for " << archList(", ") << "; do not edit. The definitions and the\n"
         << " * embedded cubin are in the .c file generated with this header: compile it once\n"
         << " * into the program (its module state is then shared by every caller). The\n"
         << " * functions behave as in the single-header mode (docs/header.md).\n"
         << " */\n"
         << "#ifndef " << guard << "\n#define " << guard << "\n\n"
         << "#include <cuda.h>\n#include <stdint.h>\n\n"
         << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
    writeInfoType();
    out_ << "CUresult " << P << "_load(void);\n"
         << "CUresult " << P << "_unload(void);\n"
         << "const char *" << P << "_last_error(void);\n"
         << "const char *" << P << "_arch(void);\n\n";
    for (const KernelGroup& g : groups_) {
      std::vector<Argument> args = launcherArguments(module_.kernels[g.first + g.count - 1], functionPrefixes(g));
      out_ << "/* " << g.sourceName << " */\n"
           << "CUresult " << g.cName << "_launch(" << signature(args, true) << ");\n"
           << "int " << g.cName << "_select_variant(" << signature(args, false) << ");\n"
           << "const char *" << g.cName << "_variant_entry(int variant);\n"
           << "const tlc_kernel_info *" << g.cName << "_info(int variant);\n\n";
    }
    out_ << "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n"
         << "#endif /* " << guard << " */\n";
    return out_.str();
  }

  void writeBanner() {
    std::string source = options_.sourceName.empty() ? "<input>" : options_.sourceName;
    out_ << "/* " << prefix_ << ".h: launchers for the kernels of " << source << ".\n"
         << " * Generated by tlc for " << archList(", ") << "; do not edit.\n"
         << " *\n"
         << " * Module (thread-safe; each translation unit that includes this header keeps\n"
         << " * its own handle):\n"
         << " *   CUresult " << prefix_ << "_load(void);    load the embedded cubin and its kernels\n"
         << " *                                  now (the first launch does it otherwise)\n"
         << " *   CUresult " << prefix_ << "_unload(void);  release them, once no launch from this\n"
         << " *                                  module is being made or still running\n"
         << " *   const char *" << prefix_ << "_last_error(void);  what the last failed call of this\n"
         << " *                                  header on this thread returned, and why\n"
         << " *\n"
         << " * Kernels (a launch needs a current context; it checks its arguments, computes\n"
         << " * the grid, picks the first variant whose conditions hold, and returns the\n"
         << " * CUresult of cuLaunchKernel; CUDA_ERROR_INVALID_VALUE for bad arguments):\n";
    for (const KernelGroup& g : groups_) {
      const ir::Kernel& first = module_.kernels[g.first];
      std::vector<Argument> args = launcherArguments(first, functionPrefixes(g));
      out_ << " *   CUresult " << g.cName << "_launch(" << signature(args, true) << ");\n"
           << " *   const tlc_kernel_info *" << g.cName << "_info(int variant);  block, cluster, shared memory\n";
      for (size_t v = 0; v < g.count; ++v) {
        const ir::Kernel& k = module_.kernels[g.first + v];
        out_ << " *     variant " << v;
        if (multiArch()) out_ << " (" << archOfKernel(g.first + v) << ")";
        out_ << ": " << k.name << ", " << k.threads << " threads";
        if (k.dynamicSharedBytes) out_ << ", " << k.dynamicSharedBytes << " B shared";
        if (k.clusterDims[0] * k.clusterDims[1] * k.clusterDims[2] != 1)
          out_ << ", cluster " << k.clusterDims[0] << "x" << k.clusterDims[1] << "x" << k.clusterDims[2];
        if (k.assumptions.empty()) {
          out_ << "\n";
          continue;
        }
        out_ << ", when";
        for (size_t i = 0; i < k.assumptions.size(); ++i)
          out_ << (i ? "," : "") << " " << describeAssumption(k.assumptions[i], args);
        out_ << "\n";
      }
    }
    out_ << " *\n"
         << " * Argument order: device pointers, then dimensions, then scalars, then the\n"
         << " * stream. float16/bfloat16/fp8 scalars are passed as their raw bits.\n"
         << " */\n";
  }

  void writeOpening() {
    std::string guard = guard_.empty() ? guardName("_H") : guard_;
    out_ << "#ifndef " << guard << "\n#define " << guard << "\n\n"
         << "#include <cuda.h>\n#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <stdio.h>\n"
         << "#include <string.h>\n"
         << (options_.nvtx ? "#include <nvtx3/nvToolsExt.h> /* --nvtx: header-only NVTX 3 (CUDA's include/nvtx3) */\n"
                           : "")
         << "\n"
         << "#if !defined(CUDA_VERSION) || CUDA_VERSION < 12000\n"
         << "#error \"" << prefix_ << ".h needs cuda.h from CUDA 12.0 or newer (cuLibraryLoadData)\"\n"
         << "#endif\n\n"
         << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
         << "/* Alignment spelled for either language (identical in every tlc header). */\n"
         << "#ifndef TLC_ALIGNAS\n#ifdef __cplusplus\n#define TLC_ALIGNAS(n) alignas(n)\n"
         << "#else\n#define TLC_ALIGNAS(n) _Alignas(n)\n#endif\n#endif\n"
         << "#ifndef TLC_THREAD_LOCAL\n#ifdef __cplusplus\n#define TLC_THREAD_LOCAL thread_local\n"
         << "#else\n#define TLC_THREAD_LOCAL _Thread_local\n#endif\n#endif\n\n"
         ;
    writeInfoType();
  }

  void writeInfoType() {
    out_ << "/* What <kernel>_info(variant) returns (identical in every tlc header). */\n"
         << "#ifndef TLC_KERNEL_INFO_DEFINED\n#define TLC_KERNEL_INFO_DEFINED\n"
         << "typedef struct tlc_kernel_info {\n"
         << "  const char *kernel;        /* the kernel's name in the .tl file */\n"
         << "  const char *entry;         /* this variant's device entry */\n"
         << "  const char *arch;          /* the cubin's target, e.g. \"sm_90a\" */\n"
         << "  int variant;               /* 0 = the most specialized */\n"
         << "  int variant_count;\n"
         << "  unsigned int block[3];     /* threads per block */\n"
         << "  unsigned int cluster[3];   /* blocks per cluster; 1, 1, 1 without clusters */\n"
         << "  unsigned int shared_bytes; /* dynamic shared memory per block */\n"
         << "} tlc_kernel_info;\n#endif\n\n";
  }

  // TLC_<PREFIX>_<hash>_H: two headers with one prefix (a/k.tl and b/k.tl, or
  // my-kernel.tl and my_kernel.tl) get different guards, so including both is a
  // compile error about their functions (choose --prefix) instead of the second one
  // silently skipped. The hash is of what the header holds: the source's name and
  // every cubin, so the same inputs give the same guard on every machine.
  std::string guardName(const char* suffix) const {
    uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a, 64 bits
    auto mix = [&](const void* data, size_t size) {
      for (size_t i = 0; i < size; ++i) {
        hash ^= static_cast<const unsigned char*>(data)[i];
        hash *= 0x100000001b3ull;
      }
    };
    mix(options_.sourceName.data(), options_.sourceName.size());
    if (multiArch())
      for (const ArchBuild& b : *cubins_) {
        mix(b.arch.data(), b.arch.size());
        mix(b.cubin.data(), b.cubin.size());
      }
    else
      mix(cubin_.data(), cubin_.size());
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
    return "TLC_" + upper(prefix_) + "_" + upper(hex) + suffix;
  }

  bool multiArch() const { return cubins_ != nullptr && cubins_->size() > 1; }
  // The starts of the header's own functions a launcher of `g` calls.
  std::vector<std::string> functionPrefixes(const KernelGroup& g) const { return {prefix_ + "_", g.cName + "_"}; }
  // The architecture kernel `index` of module_ was built for.
  const std::string& archOfKernel(size_t index) const {
    return multiArch() ? (*cubins_)[archOf_[index]].arch : options_.arch;
  }
  // Several architectures: the variants of group `g` built for architecture `arch`,
  // as [begin, end) relative to g.first (adjacent, most specialized first).
  std::pair<size_t, size_t> archVariants(const KernelGroup& g, int arch) const {
    size_t begin = g.count, end = g.count;
    for (size_t v = 0; v < g.count; ++v)
      if (archOf_[g.first + v] == arch) {
        if (begin == g.count) begin = v;
        end = v + 1;
      }
    return {begin, end};
  }
  // "sm_80, sm_90a": the architectures, for comments and _info.
  std::string archList(const char* separator) const {
    if (!multiArch()) return options_.arch;
    std::string list;
    for (const ArchBuild& c : *cubins_) list += (list.empty() ? "" : separator) + c.arch;
    return list;
  }

  // `NAME[size + 1] = "..."`: the bytes as a string literal (printable characters
  // as themselves, the rest as octal escapes, as short as the next character
  // allows), about 2.7 characters per cubin byte where a `0x..,` list takes 6.3, and
  // ten times faster to compile (a 750 KB cubin: 0.2 s instead of 1.8 s with GCC 12).
  // The array holds one more byte than the cubin, the literal's closing NUL (C++
  // requires room for it).
  void writeBytesArray(const std::string& name, const std::vector<uint8_t>& bytes) {
    out_ << "TLC_ALIGNAS(64) static const unsigned char " << name << "[" << bytes.size() + 1 << "] =";
    std::string line = "\n    \"";
    char escape[8];
    for (size_t i = 0; i < bytes.size(); ++i) {
      const unsigned char c = bytes[i];
      // '?' is escaped against trigraphs, '"' and '\\' as C requires; no hex escapes
      // (they would swallow a following hex digit).
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?') {
        line += static_cast<char>(c);
      } else {
        // An escape takes up to three octal digits: a shorter one only where the
        // next character is not a digit it would absorb.
        const bool nextIsDigit = i + 1 < bytes.size() && bytes[i + 1] >= '0' && bytes[i + 1] <= '9';
        std::snprintf(escape, sizeof escape, nextIsDigit ? "\\%03o" : "\\%o", c);
        line += escape;
      }
      if (line.size() >= 100 && i + 1 < bytes.size()) {
        out_ << line << "\"";
        line = "\n    \"";
      }
    }
    out_ << line << "\";\n\n";
  }

  // Several architectures: one array per cubin, and tables to pick one by the
  // device's compute capability.
  void writeCubins() {
    const std::string P = prefix_;
    const size_t k = cubins_->size();
    std::string names, archs, ccs, exact;
    for (size_t i = 0; i < k; ++i) {
      const ArchBuild& c = (*cubins_)[i];
      std::string name = P + "_cubin_" + sanitizeIdentifier(c.arch);
      out_ << "/* The cubin for " << c.arch << " (" << c.cubin.size() << " bytes). */\n";
      writeBytesArray(name, c.cubin);
      int number = std::atoi(c.arch.c_str() + 3);  // sm_90a -> 90, sm_100a -> 100
      names += (i ? ", " : "") + name;
      archs += std::string(i ? ", " : "") + "\"" + c.arch + "\"";
      ccs += (i ? ", " : "") + std::to_string(number);
      exact += std::string(i ? ", " : "") + (c.arch.back() == 'a' ? "1" : "0");
    }
    out_ << "/* Per cubin: its architecture, compute capability (major * 10 + minor), and\n"
         << " * whether it runs on that exact capability only (sm_XXa) or on any later minor one. */\n"
         << "static const unsigned char *const " << P << "_cubins_[" << k << "] = {" << names << "};\n"
         << "static const char *const " << P << "_archs_[" << k << "] = {" << archs << "};\n"
         << "static const int " << P << "_arch_cc_[" << k << "] = {" << ccs << "};\n"
         << "static const int " << P << "_arch_exact_[" << k << "] = {" << exact << "};\n\n";
  }

  void writeCubin() {
    // The literals are longer than the 4095 characters ISO C promises every compiler
    // reads; GCC and Clang (the compilers this header is for: it uses their __atomic
    // builtins) read any length, and -Wpedantic's warning is switched off for them.
    out_ << "#if defined(__GNUC__) || defined(__clang__)\n"
         << "#pragma GCC diagnostic push\n"
         << "#pragma GCC diagnostic ignored \"-Woverlength-strings\"\n"
         << "#endif\n";
    if (multiArch()) {
      writeCubins();
    } else {
      out_ << "/* The cubin (" << options_.arch << ", " << cubin_.size() << " bytes). */\n";
      writeBytesArray(prefix_ + "_cubin", cubin_);
    }
    out_ << "#if defined(__GNUC__) || defined(__clang__)\n#pragma GCC diagnostic pop\n#endif\n\n";
  }

  void writeErrorState() {
    const std::string P = prefix_;
    out_ << "/* The message of the last failed call of this header on this thread. */\n"
         << "static TLC_THREAD_LOCAL char " << P << "_last_error_[384];\n\n"
         << "/* Why a launcher refused its arguments, when it says more than the status does;\n"
         << " * taken (and cleared) by the next _fail_. */\n"
         << "static TLC_THREAD_LOCAL char " << P << "_why_[256];\n\n"
         << "static inline CUresult " << P << "_fail_(const char *call, CUresult status) {\n"
         << "  const char *name = NULL, *text = NULL;\n"
         << "  if (cuGetErrorName(status, &name) != CUDA_SUCCESS || name == NULL) name = \"CUDA_ERROR_UNKNOWN\";\n"
         << "  if (" << P << "_why_[0])\n"
         << "    text = " << P << "_why_;\n"
         << "  else if (status == CUDA_ERROR_INVALID_VALUE)\n"
         << "    text = \"an argument is out of range (a negative size, a null or misaligned pointer, a grid \"\n"
         << "           \"beyond the device's limits or not whole clusters), or the driver refused one\";\n"
         << "  else if (cuGetErrorString(status, &text) != CUDA_SUCCESS)\n"
         << "    text = NULL;\n"
         << "  /* A message that does not fit is cut short (testing the result keeps GCC's\n"
         << "   * -Wformat-truncation quiet about that). */\n"
         << "  if (snprintf(" << P << "_last_error_, sizeof " << P << "_last_error_, \"%s: %s%s%s\", call, name,\n"
         << "               text ? \": \" : \"\", text ? text : \"\") < 0)\n"
         << "    " << P << "_last_error_[0] = 0;\n"
         << "  " << P << "_why_[0] = 0;\n"
         << "  return status;\n"
         << "}\n\n"
         << "/* A launcher refuses an argument: says why (printf-style, naming the argument)\n"
         << " * for the _fail_ that follows, and returns CUDA_ERROR_INVALID_VALUE. */\n"
         << "#if defined(__GNUC__) || defined(__clang__)\n"
         << "__attribute__((format(printf, 1, 2)))\n"
         << "#endif\n"
         << "static inline CUresult " << P << "_refuse_(const char *format, ...) {\n"
         << "  va_list args;\n"
         << "  va_start(args, format);\n"
         << "  vsnprintf(" << P << "_why_, sizeof " << P << "_why_, format, args);\n"
         << "  va_end(args);\n"
         << "  return CUDA_ERROR_INVALID_VALUE;\n"
         << "}\n\n"
         << "/* What the last call of this header that failed on this thread returned, and why\n"
         << " * (\"tile_copy_launch: CUDA_ERROR_INVALID_VALUE: ...\"); \"\" before any failure. A\n"
         << " * call that succeeds leaves it as it was. */\n"
         << api_ << "const char *" << P << "_last_error(void) {\n"
         << "  return " << P << "_last_error_;\n"
         << "}\n\n";
  }

  // Several architectures: a library and kernel handles per cubin; each call finds
  // the cubin for the current context's device.
  // The body of `<prefix>_load_` when there are kernels: resolve each, first failure wins.
  void writeResolveEveryKernel(size_t n) {
    if (multiArch()) {  // the current architecture's kernels only: the others are not in its cubin
      out_ << "  int arch = 0, index;\n"
           << "  CUresult status = " << prefix_ << "_arch_index_(&arch);\n"
           << "  if (status != CUDA_SUCCESS) return status;\n"
           << "  for (index = 0; index < " << n << "; ++index) {\n"
           << "    CUkernel kernel;\n"
           << "    if (" << prefix_ << "_entry_arch_[index] != arch) continue;\n"
           << "    status = " << prefix_ << "_kernel_get_(index, &kernel);\n"
           << "    if (status != CUDA_SUCCESS) return status;\n"
           << "  }\n"
           << "  return CUDA_SUCCESS;\n";
      return;
    }
    out_ << "  int index;\n"
         << "  for (index = 0; index < " << n << "; ++index) {\n"
         << "    CUkernel kernel;\n"
         << "    CUresult status = " << prefix_ << "_kernel_get_(index, &kernel);\n"
         << "    if (status != CUDA_SUCCESS) return status;\n"
         << "  }\n"
         << "  return CUDA_SUCCESS;\n";
  }

  // The public `<prefix>_load`, which records a failure for `<prefix>_last_error`.
  void writeLoadWrapper(const char* comment) {
    const std::string& P = prefix_;
    out_ << "/* " << comment << " */\n"
         << api_ << "CUresult " << P << "_load(void) {\n"
         << "  CUresult status = " << P << "_load_();\n"
         << "  return status == CUDA_SUCCESS ? status : " << P << "_fail_(\"" << P << "_load\", status);\n"
         << "}\n\n";
  }

  // `<prefix>_library_get_` and `<prefix>_kernel_get_`: load the library and resolve a
  // kernel on first use, published with a compare-and-swap. One cubin, or one per
  // architecture (perArch: the handles are indexed by `_arch_index_`'s choice).
  void writeHandleGetters(bool perArch, size_t n) {
    const std::string& P = prefix_;
    const std::string library = perArch ? P + "_libraries_[arch]" : P + "_library_";
    const std::string cubin = perArch ? P + "_cubins_[arch]" : P + "_cubin";
    const std::string kernelSlot = P + (perArch ? "_kernels_[arch][index]" : "_kernels_[index]");
    out_ << "static inline CUresult " << P << "_library_get_(" << (perArch ? "int arch, " : "")
         << "CUlibrary *library_out) {\n"
         << "  CUlibrary library = __atomic_load_n(&" << library << ", __ATOMIC_ACQUIRE);\n"
         << "  if (library == NULL) {\n"
         << "    CUlibrary expected = NULL;\n";
    if (perArch) {
      out_ << "    CUresult status = cuLibraryLoadData(&library, " << cubin << ", NULL, NULL, 0, NULL, NULL, 0);\n";
    } else {  // cuInit is _arch_index_'s in the multi-architecture header
      out_ << "    CUresult status = cuInit(0);\n"
           << "    if (status != CUDA_SUCCESS) return status;\n"
           << "    status = cuLibraryLoadData(&library, " << cubin << ", NULL, NULL, 0, NULL, NULL, 0);\n";
    }
    out_ << "    if (status != CUDA_SUCCESS) return status;\n"
         << "    if (!__atomic_compare_exchange_n(&" << library << ", &expected, library, 0,\n"
         << "                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {\n"
         << "      cuLibraryUnload(library); /* another thread published its copy first */\n"
         << "      library = expected;\n"
         << "    }\n"
         << "  }\n"
         << "  *library_out = library;\n"
         << "  return CUDA_SUCCESS;\n"
         << "}\n\n";
    if (n == 0) return;
    out_ << "static inline CUresult " << P << "_kernel_get_(int index, CUkernel *kernel_out) {\n";
    if (perArch) {
      out_ << "  int arch = 0;\n"
           << "  CUkernel kernel;\n"
           << "  CUresult status = " << P << "_arch_index_(&arch);\n"
           << "  if (status != CUDA_SUCCESS) return status;\n"
           << "  kernel = __atomic_load_n(&" << kernelSlot << ", __ATOMIC_ACQUIRE);\n"
           << "  if (kernel == NULL) {\n"
           << "    CUkernel expected = NULL;\n"
           << "    CUlibrary library;\n"
           << "    status = " << P << "_library_get_(arch, &library);\n";
    } else {
      out_ << "  CUkernel kernel = __atomic_load_n(&" << kernelSlot << ", __ATOMIC_ACQUIRE);\n"
           << "  if (kernel == NULL) {\n"
           << "    CUkernel expected = NULL;\n"
           << "    CUlibrary library;\n"
           << "    CUresult status = " << P << "_library_get_(&library);\n";
    }
    out_ << "    if (status != CUDA_SUCCESS) return status;\n"
         << "    status = cuLibraryGetKernel(&kernel, library, " << P << "_entries_[index]);\n"
         << "    if (status != CUDA_SUCCESS) return status;\n"
         << "    if (!__atomic_compare_exchange_n(&" << kernelSlot << ", &expected, kernel, 0,\n"
         << "                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))\n"
         << "      kernel = expected;\n"
         << "  }\n"
         << "  *kernel_out = kernel;\n"
         << "  return CUDA_SUCCESS;\n"
         << "}\n\n";
  }

  void writeModuleStateMulti() {
    const size_t n = module_.kernels.size();
    const size_t k = cubins_->size();
    const std::string P = prefix_;
    out_ << "/* Module state, per architecture. Each CUlibrary is context-independent: it loads\n"
         << " * into each context on first use there. Handles are published with a\n"
         << " * compare-and-swap, so racing first calls agree on one copy. */\n"
         << "static CUlibrary " << P << "_libraries_[" << k << "];\n";
    if (n != 0) {
      out_ << "static CUkernel " << P << "_kernels_[" << k << "][" << n << "];\n"
           << "static const char *const " << P << "_entries_[" << n << "] = {";
      for (size_t i = 0; i < n; ++i) out_ << (i ? ", " : "") << "\"" << module_.kernels[i].name << "\"";
      out_ << "};\n"
           << "/* The architecture (an index into " << P << "_archs_) each entry was built for. */\n"
           << "static const int " << P << "_entry_arch_[" << n << "] = {";
      for (size_t i = 0; i < n; ++i) out_ << (i ? ", " : "") << archOf_[i];
      out_ << "};\n";
    }
    out_ << "\n/* The cubin for the current context's device: one built for exactly its compute\n"
         << " * capability (sm_XXa or sm_XX), else the newest sm_XX of its major version not\n"
         << " * newer than it; CUDA_ERROR_NO_BINARY_FOR_GPU when none fits. */\n"
         << "static inline CUresult " << P << "_arch_index_(int *index_out) {\n"
         << "  CUdevice device;\n"
         << "  int major = 0, minor = 0, cc, index, best = -1;\n"
         << "  CUresult status = cuInit(0);\n"
         << "  if (status == CUDA_SUCCESS) status = cuCtxGetDevice(&device);\n"
         << "  if (status == CUDA_SUCCESS)\n"
         << "    status = cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);\n"
         << "  if (status == CUDA_SUCCESS)\n"
         << "    status = cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);\n"
         << "  if (status != CUDA_SUCCESS) return status;\n"
         << "  cc = major * 10 + minor;\n"
         << "  for (index = 0; index < " << k << "; ++index)\n"
         << "    if (" << P << "_arch_cc_[index] == cc && (best < 0 || " << P << "_arch_exact_[index])) best = index;\n"
         << "  if (best < 0) /* else the newest sm_XX of the same major version below it */\n"
         << "    for (index = 0; index < " << k << "; ++index)\n"
         << "      if (!" << P << "_arch_exact_[index] && " << P << "_arch_cc_[index] / 10 == major && " << P
         << "_arch_cc_[index] < cc &&\n"
         << "          (best < 0 || " << P << "_arch_cc_[index] > " << P << "_arch_cc_[best]))\n"
         << "        best = index;\n"
         << "  if (best < 0) return CUDA_ERROR_NO_BINARY_FOR_GPU;\n"
         << "  *index_out = best;\n"
         << "  return CUDA_SUCCESS;\n"
         << "}\n\n";
    writeHandleGetters(/*perArch=*/true, n);
    writeErrorState();
    out_ << "/* The architecture of the cubin the current context's device runs (\"sm_90a\"), or\n"
         << " * NULL when none fits it or there is no current context. */\n"
         << api_ << "const char *" << P << "_arch(void) {\n"
         << "  int arch = 0;\n"
         << "  return " << P << "_arch_index_(&arch) == CUDA_SUCCESS ? " << P << "_archs_[arch] : NULL;\n"
         << "}\n\n"
         << "static inline CUresult " << P << "_load_(void) {\n";
    if (n == 0) {
      out_ << "  int arch = 0;\n"
           << "  CUlibrary library;\n"
           << "  CUresult status = " << P << "_arch_index_(&arch);\n"
           << "  return status != CUDA_SUCCESS ? status : " << P << "_library_get_(arch, &library);\n";
    } else {
      writeResolveEveryKernel(n);
    }
    out_ << "}\n\n";
    writeLoadWrapper("Loads the cubin for the current device and resolves every kernel, so that a bad\n"
                     " * image, a missing entry or no cubin for this GPU shows up here. Optional.");
    out_
         << "/* Releases every architecture's module (a later launch loads it again). Call it\n"
         << " * when no thread is launching from this module and its kernels have finished. */\n"
         << api_ << "CUresult " << P << "_unload(void) {\n"
         << "  int arch;\n"
         << "  CUresult result = CUDA_SUCCESS;\n"
         << "  for (arch = 0; arch < " << k << "; ++arch) {\n"
         << "    CUlibrary library;\n";
    if (n != 0)
      out_ << "    int index;\n"
           << "    for (index = 0; index < " << n << "; ++index)\n"
           << "      __atomic_store_n(&" << P << "_kernels_[arch][index], (CUkernel)NULL, __ATOMIC_RELEASE);\n";
    out_ << "    library = __atomic_exchange_n(&" << P << "_libraries_[arch], (CUlibrary)NULL, __ATOMIC_ACQ_REL);\n"
         << "    if (library != NULL) {\n"
         << "      CUresult status = cuLibraryUnload(library);\n"
         << "      if (status != CUDA_SUCCESS && result == CUDA_SUCCESS) result = " << P << "_fail_(\"" << P
         << "_unload\", status);\n"
         << "    }\n"
         << "  }\n"
         << "  return result;\n"
         << "}\n\n";
  }

  void writeModuleState() {
    if (multiArch()) {
      writeModuleStateMulti();
      return;
    }
    const size_t n = module_.kernels.size();
    const std::string P = prefix_;
    out_ << "/* Module state. The CUlibrary is context-independent: it loads into each context\n"
         << " * on first use there. Both handles are published with a compare-and-swap, so\n"
         << " * racing first calls agree on one copy. */\n"
         << "static CUlibrary " << P << "_library_;\n";
    if (n == 0) {
      out_ << "\n";
    } else {
      out_ << "static CUkernel " << P << "_kernels_[" << n << "];\n"
           << "static const char *const " << P << "_entries_[" << n << "] = {";
      for (size_t i = 0; i < n; ++i) out_ << (i ? ", " : "") << "\"" << module_.kernels[i].name << "\"";
      out_ << "};\n\n";
    }

    writeHandleGetters(/*perArch=*/false, n);

    writeErrorState();
    out_ << "/* The architecture of the embedded cubin. */\n"
         << api_ << "const char *" << P << "_arch(void) {\n"
         << "  return \"" << options_.arch << "\";\n"
         << "}\n\n"
         << "static inline CUresult " << P << "_load_(void) {\n";
    if (n == 0) {
      out_ << "  CUlibrary library;\n"
           << "  return " << P << "_library_get_(&library);\n";
    } else {
      writeResolveEveryKernel(n);
    }
    out_ << "}\n\n";
    writeLoadWrapper("Loads the cubin and resolves every kernel, so that a bad image or a missing\n"
                     " * entry shows up here rather than at the first launch. Optional.");
    out_
         << "/* Releases the module (a later launch loads it again). Call it when no thread is\n"
         << " * launching from this module and its launched kernels have finished. */\n"
         << api_ << "CUresult " << P << "_unload(void) {\n";
    if (n != 0) {
      out_ << "  int index;\n"
           << "  CUlibrary library;\n"
           << "  for (index = 0; index < " << n << "; ++index)\n"
           << "    __atomic_store_n(&" << P << "_kernels_[index], (CUkernel)NULL, __ATOMIC_RELEASE);\n";
    } else {
      out_ << "  CUlibrary library;\n";
    }
    out_ << "  library = __atomic_exchange_n(&" << P << "_library_, (CUlibrary)NULL, __ATOMIC_ACQ_REL);\n"
         << "  if (library != NULL) {\n"
         << "    CUresult status = cuLibraryUnload(library);\n"
         << "    if (status != CUDA_SUCCESS) return " << P << "_fail_(\"" << P << "_unload\", status);\n"
         << "  }\n"
         << "  return CUDA_SUCCESS;\n"
         << "}\n\n";
  }

  void writeHelpers() {
    const std::string P = prefix_;
    out_ << "/* Grid arithmetic in int64_t: Python-style floor division and modulo, and\n"
         << " * operations that flag overflow (or a zero divisor) in *bad instead of failing. */\n"
         << "static inline int64_t " << P << "_add_(int64_t a, int64_t b, int *bad) {\n"
         << "  int64_t r;\n  if (__builtin_add_overflow(a, b, &r)) *bad = 1;\n  return r;\n}\n"
         << "static inline int64_t " << P << "_sub_(int64_t a, int64_t b, int *bad) {\n"
         << "  int64_t r;\n  if (__builtin_sub_overflow(a, b, &r)) *bad = 1;\n  return r;\n}\n"
         << "static inline int64_t " << P << "_mul_(int64_t a, int64_t b, int *bad) {\n"
         << "  int64_t r;\n  if (__builtin_mul_overflow(a, b, &r)) *bad = 1;\n  return r;\n}\n"
         << "static inline int64_t " << P << "_floordiv_(int64_t a, int64_t b, int *bad) {\n"
         << "  int64_t q;\n"
         << "  if (b == 0 || (a == INT64_MIN && b == -1)) {\n    *bad = 1;\n    return 0;\n  }\n"
         << "  q = a / b;\n"
         << "  if (a % b != 0 && ((a < 0) != (b < 0))) --q;\n"
         << "  return q;\n}\n"
         << "static inline int64_t " << P << "_floormod_(int64_t a, int64_t b, int *bad) {\n"
         << "  int64_t r;\n"
         << "  if (b == 0 || (a == INT64_MIN && b == -1)) {\n    *bad = 1;\n    return 0;\n  }\n"
         << "  r = a % b;\n"
         << "  if (r != 0 && ((r < 0) != (b < 0))) r += b;\n"
         << "  return r;\n}\n"
         << "static inline int64_t " << P << "_shl_(int64_t a, int64_t b, int *bad) {\n"
         << "  int64_t r = 0;\n"
         << "  if (b < 0 || b > 62 || __builtin_mul_overflow(a, (int64_t)1 << b, &r)) *bad = 1;\n"
         << "  return r;\n}\n"
         << "static inline int64_t " << P << "_shr_(int64_t a, int64_t b, int *bad) {\n"
         << "  if (b < 0 || b > 63) {\n    *bad = 1;\n    return 0;\n  }\n"
         << "  return a >= 0 ? a >> b : ~(~a >> b); /* floor, for either sign */\n}\n"
         << "static inline int64_t " << P << "_min_(int64_t a, int64_t b, int *bad) {\n"
         << "  (void)bad;\n  return a < b ? a : b;\n}\n"
         << "static inline int64_t " << P << "_max_(int64_t a, int64_t b, int *bad) {\n"
         << "  (void)bad;\n  return a > b ? a : b;\n}\n\n";
  }

  void writeLauncher(const KernelGroup& g) {
    const std::string P = prefix_;
    const ir::Kernel& general = module_.kernels[g.first + g.count - 1];
    std::vector<Argument> args = launcherArguments(general, functionPrefixes(g));
    const std::string N = g.cName;

    // Every variant takes the general variant's parameters, plus tensor maps that the
    // launcher builds (a TMA variant).
    size_t maxParams = 0;
    bool anyTensorMap = false;
    for (size_t v = 0; v < g.count; ++v) {
      const ir::Kernel& k = module_.kernels[g.first + v];
      maxParams = std::max(maxParams, k.params.size());
      for (const ir::Param& p : k.params) {
        if (p.kind == ParamKind::TensorMap) {
          anyTensorMap = true;
          continue;
        }
        TLC_ASSERT(findArgument(args, nullptr, p.name) != nullptr,
                   "the variants of kernel '" + g.sourceName + "' take different parameters");
      }
    }

    out_ << "/* ------------------------------------------------------------ " << g.sourceName << " */\n\n";

    // The variant chooser: a separate function so that tests and users can see which
    // variant a launch would run.
    if (multiArch()) {
      writeMultiArchSelectVariant(g, args);
    } else {
    out_ << "/* The variant " << N << "_launch runs for these arguments (0 = most specialized). */\n"
         << api_ << "int " << N << "_select_variant(" << signature(args, false) << ") {\n";
    std::set<std::string> usedInTests;
    for (size_t v = 0; v + 1 < g.count; ++v)
      for (const ir::Assumption& a : module_.kernels[g.first + v].assumptions) {
        const Argument* arg = findArgument(args, a.param.get(), a.param ? a.param->name : "");
        if (arg) usedInTests.insert(arg->name);
      }
    for (const Argument& a : args)
      if (!usedInTests.count(a.name)) out_ << "  (void)" << a.name << ";\n";
    for (size_t v = 0; v + 1 < g.count; ++v) {
      const ir::Kernel& k = module_.kernels[g.first + v];
      std::string test;
      for (const ir::Assumption& a : k.assumptions)
        test += (test.empty() ? "" : " && ") + assumptionTest(a, args);
      if (test.empty()) test = "1";
      out_ << "  if (" << test << ") return " << v << ";\n";
    }
    out_ << "  return " << g.count - 1 << ";\n}\n\n";
    }

    // The entry name of a variant, for messages and tests.
    out_ << "/* The device entry of variant `variant`, or NULL past the last one. */\n"
         << api_ << "const char *" << N << "_variant_entry(int variant) {\n"
         << "  return variant >= 0 && variant < " << g.count << " ? " << P << "_entries_[" << g.first
         << " + variant] : NULL;\n}\n\n";

    // The launcher.
    out_ << "/* Launches " << g.sourceName << " on `stream`.";
    for (const Argument& a : args) {
      out_ << "\n *   " << a.name << ": ";
      switch (a.param->kind) {
        case ParamKind::Pointer:
          if (a.param->pointerTable)
            out_ << "device address of a table of device addresses (int64 each; the launcher cannot check them)";
          else
            out_ << "device address of " << ir::name(a.param->elementType) << " data";
          break;
        case ParamKind::Dim: out_ << "dimension (>= 0)"; break;
        case ParamKind::TensorMap: break;  // not an argument: the launcher builds it
        case ParamKind::Scalar: {
          DType t = a.param->var ? a.param->var->dtype : DType::Int32;
          out_ << ir::name(t);
          if (t == DType::Float16 || t == DType::BFloat16 || t == DType::Float8E4M3 ||
              t == DType::Float8E5M2 || t == DType::Float8E8M0 || t == DType::Float4E2M1)
            out_ << " (raw bits)";
          break;
        }
      }
    }
    out_ << "\n * Returns CUDA_SUCCESS without launching when the grid is empty; on failure, the\n"
         << " * CUresult (" << P << "_last_error() says more). */\n"
         << "static inline CUresult " << N << "_launch_(" << signature(args, true) << ");\n"
         << api_ << "CUresult " << N << "_launch(" << signature(args, true) << ") {\n";
    if (options_.nvtx)
      // A range around the checks and the launch (not the kernel's run, which is
      // asynchronous): Nsight Systems shows which launcher call made which kernel.
      out_ << "  CUresult tlc_status;\n"
           << "  nvtxRangePushA(\"" << g.sourceName << "\"); /* --nvtx */\n"
           << "  tlc_status = " << N << "_launch_(" << callArgsWithStream(args) << ");\n"
           << "  nvtxRangePop();\n";
    else
      out_ << "  CUresult tlc_status = " << N << "_launch_(" << callArgsWithStream(args) << ");\n";
    out_ << "  return tlc_status == CUDA_SUCCESS ? tlc_status : " << P << "_fail_(\"" << N << "_launch\", tlc_status);\n"
         << "}\n\n";
    writeInfo(g);
    out_ << "static inline CUresult " << N << "_launch_(" << signature(args, true) << ") {\n";

    // Per-variant launch shapes.
    std::string threads, shared;
    bool anyCluster = false, anyLargeShared = false;
    for (size_t v = 0; v < g.count; ++v) {
      const ir::Kernel& k = module_.kernels[g.first + v];
      threads += (v ? ", " : "") + std::to_string(k.threads) + "u";
      shared += (v ? ", " : "") + std::to_string(k.dynamicSharedBytes) + "u";
      if (k.clusterDims[0] * k.clusterDims[1] * k.clusterDims[2] != 1) anyCluster = true;
      if (k.dynamicSharedBytes > 48 * 1024) anyLargeShared = true;
    }
    out_ << "  static const unsigned int tlc_threads[" << g.count << "] = {" << threads << "};\n"
         << "  static const unsigned int tlc_shared_bytes[" << g.count << "] = {" << shared << "};\n";
    if (anyCluster) {
      std::string cluster;
      for (size_t v = 0; v < g.count; ++v) {
        const ir::Kernel& k = module_.kernels[g.first + v];
        cluster += std::string(v ? ", " : "") + "{" + std::to_string(k.clusterDims[0]) + "u, " +
                   std::to_string(k.clusterDims[1]) + "u, " + std::to_string(k.clusterDims[2]) + "u}";
      }
      out_ << "  static const unsigned int tlc_cluster[" << g.count << "][3] = {" << cluster << "};\n";
    }
    out_ << "  int tlc_bad = 0;\n"
         << "  int64_t tlc_grid_x, tlc_grid_y, tlc_grid_z;\n"
         << "  int tlc_variant;\n"
         << (multiArch() ? "  int tlc_arch = 0;\n" : "")
         << "  CUkernel tlc_kernel;\n"
         << "  CUfunction tlc_function;\n"
         << "  CUresult tlc_status;\n";
    // Arguments whose kernel-side representation differs from the C one.
    for (const Argument& a : args)
      if (a.param->kind == ParamKind::Scalar && a.param->var && a.param->var->dtype == DType::Bool)
        out_ << "  uint8_t tlc_" << a.name << " = (uint8_t)(" << a.name << " != 0);\n";
    if (maxParams == 0) {
      out_ << "  void **tlc_args = NULL;\n";
    } else {
      out_ << "  void *tlc_args[" << maxParams << "];\n";
    }
    for (size_t v = 0; v < g.count; ++v)
      for (const ir::Param& p : module_.kernels[g.first + v].params)
        if (p.kind == ParamKind::TensorMap) out_ << "  CUtensorMap tlc_" << v << "_" << argumentName(p.name) << ";\n";
    out_ << "\n";

    // Sizes may not be negative: every Dim, and every signed integer scalar the grid
    // depends on (`n: int32` used as an extent).
    // (By name: each variant may have its own parameter variables.)
    std::set<const ir::VarNode*, ir::ById> gridVars;
    for (size_t v = 0; v < g.count; ++v)
      for (const ir::ExprRef& e : module_.kernels[g.first + v].grid) collectVars(e, gridVars);
    std::set<std::string> gridVarNames;
    for (const ir::VarNode* var : gridVars) gridVarNames.insert(var->name);
    // Each refusal names its argument (docs/header.md lists the messages).
    for (const Argument& a : args) {
      bool isDim = a.param->kind == ParamKind::Dim;
      bool isSize = isDim || (a.param->kind == ParamKind::Scalar && a.param->var &&
                              isSignedIntegerScalar(a.param->var->dtype) && gridVarNames.count(a.param->name));
      if (!isSize) continue;
      out_ << "  if (" << a.name << " < 0)\n"
           << refusal("    ", std::string(isDim ? "dimension" : "argument") + " '" + a.name + "' = %lld must not be negative" +
                                  (isDim ? "" : " (it sizes the grid)"),
                      "(long long)" + a.name);
    }

    // Unsigned 64-bit extents: the grid and the kernels' indices are int64 arithmetic
    // (the grid's, here; the kernels', where lowering bounded the argument:
    // Kernel::argumentBounds), so a value past 2^63 - 1 is refused, not wrapped.
    {
      std::map<std::string, uint64_t> bound;
      for (const ir::VarNode* var : gridVars)
        if (var->dtype == DType::UInt64) bound[var->name] = uint64_t(INT64_MAX);
      for (size_t v = 0; v < g.count; ++v)
        for (const ir::Kernel::ArgumentBound& b : module_.kernels[g.first + v].argumentBounds) {
          auto [it, fresh] = bound.emplace(b.param->name, b.max);
          if (!fresh) it->second = std::min(it->second, b.max);
        }
      for (const Argument& a : args) {
        auto it = bound.find(a.param->name);
        if (it == bound.end() || a.param->kind == ParamKind::Pointer || a.param->kind == ParamKind::TensorMap) continue;
        std::string max = std::to_string(it->second);
        out_ << "  if ((unsigned long long)" << a.name << " > " << max << "ull)\n"
             << refusal("    ", "argument '" + a.name + "' = %llu exceeds " + max +
                                    " (2^63 - 1): the kernel indexes it in 64-bit signed arithmetic",
                        "(unsigned long long)" + a.name);
      }
    }

    // What every variant needs of the arguments (float4_e2m1fn rows of whole bytes).
    {
      // 64-bit arithmetic with overflow checks (an overflow refuses too).
      GridPrinter value(P, args, true);
      // Tensors whose last element's offset may pass int64 (a product of several
      // dimensions, Kernel::tensorSpans): the kernels index them in int64.
      GridPrinter readable(P, args, false);
      std::set<std::string> spanned;
      for (size_t v = 0; v < g.count; ++v)
        for (const ir::Kernel::TensorSpan& t : module_.kernels[g.first + v].tensorSpans) {
          std::string code = value.print(t.lastOffset);
          if (!spanned.insert(t.tensor + "\n" + code).second) continue;
          std::string last = readable.print(t.lastOffset);
          if (last.size() > 100) last = last.substr(0, 97) + "...";  // the message fits its buffer
          out_ << "  if (((void)(" << code << "), tlc_bad)) /* the offset overflowed */\n"
               << refusal("    ", "tensor '" + printfLiteral(t.tensor) + "' is too large: the offset of its last element, " +
                                      printfLiteral(last) + ", overflows 64-bit arithmetic");
        }
      for (const ir::Kernel::Requirement& r : general.requirements) {
        std::string v = value.print(r.value);
        if (r.minimum > 0)
          out_ << "  if ((" << v << ") < " << r.minimum << " || tlc_bad)\n"
               << refusal("    ", printfLiteral(r.what) + " = %lld is less than " + std::to_string(r.minimum) +
                                      printfLiteral(r.why),
                          "(long long)(" + v + ")");
        if (r.multiple <= 1) continue;
        out_ << "  if ((" << v << ") % " << r.multiple << " != 0 || tlc_bad)\n"
             << refusal("    ", printfLiteral(r.what) + " = %lld is not a multiple of " + std::to_string(r.multiple) +
                                    printfLiteral(r.why),
                        "(long long)(" + v + ")");
      }
    }

    // The variant: it decides the grid when the variants' grids differ.
    std::string callArgs;
    for (const Argument& a : args) callArgs += (callArgs.empty() ? "" : ", ") + a.name;
    if (multiArch()) {
      // The current device's architecture decides which variants may run.
      out_ << "  tlc_status = " << P << "_arch_index_(&tlc_arch);\n"
           << "  if (tlc_status != CUDA_SUCCESS) return tlc_status;\n"
           << "  tlc_variant = " << N << "_select_variant_for_(tlc_arch" << (callArgs.empty() ? "" : ", ") << callArgs
           << ");\n"
           << "  if (tlc_variant < 0) return CUDA_ERROR_NO_BINARY_FOR_GPU;\n";
    } else {
      out_ << "  tlc_variant = " << N << "_select_variant(" << callArgs << ");\n";
    }
    if (anyTensorMap) writeTensorMapEncoding(g, args);

    // The grid: one computation when every variant has the same, else one per variant.
    GridPrinter plain(P, args, false), checked(P, args, true);
    const char* axis[3] = {"x", "y", "z"};
    auto gridCode = [&](const ir::Kernel& k, const std::string& indent) {
      std::string code = indent + "/* grid = (" + plain.print(k.grid[0]) + ", " + plain.print(k.grid[1]) +
                         ", " + plain.print(k.grid[2]) + ") */\n";
      for (int d = 0; d < 3; ++d)
        code += indent + "tlc_grid_" + axis[d] + " = " + checked.print(k.grid[d]) + ";\n";
      return code;
    };
    bool sameGrid = true;
    for (size_t v = 0; v + 1 < g.count; ++v)
      for (int d = 0; d < 3; ++d)
        sameGrid = sameGrid && checked.print(module_.kernels[g.first + v].grid[d]) == checked.print(general.grid[d]);
    if (sameGrid) {
      out_ << gridCode(general, "  ");
    } else {
      out_ << "  switch (tlc_variant) {\n";
      for (size_t v = 0; v < g.count; ++v) {
        out_ << (v + 1 < g.count ? "    case " + std::to_string(v) + ":\n" : std::string("    default:\n"))
             << gridCode(module_.kernels[g.first + v], "      ") << "      break;\n";
      }
      out_ << "  }\n";
    }
    writeGridChecks(g, sameGrid, plain);
    out_ << "  if (tlc_grid_x == 0 || tlc_grid_y == 0 || tlc_grid_z == 0) return CUDA_SUCCESS; /* nothing to do */\n";
    // A kernel without a general variant (tma_copy, tensor-map intrinsics): arguments
    // that break its assumptions, or whose tensor maps the driver refuses, are an
    // error that names them, never a kernel that would run wrong.
    // (Several architectures: each architecture's last variant, on its devices.)
    for (size_t v = 0; v < g.count; ++v) {
      const bool lastOfItsArch = multiArch() ? v + 1 == archVariants(g, archOf_[g.first + v]).second : v + 1 == g.count;
      const ir::Kernel& last = module_.kernels[g.first + v];
      if (!lastOfItsArch || !last.assumptionsRequired) continue;
      const std::string onArch = multiArch() ? "tlc_arch == " + std::to_string(archOf_[g.first + v]) + " && " : "";
      for (const ir::Assumption& a : last.assumptions) {
        std::string why = describeAssumption(a, args) + " is required: " + last.sourceName +
                          " uses TMA (tma_copy or a tensor map) and has no fallback";
        out_ << "  if (" << onArch << "!(" << assumptionTest(a, args) << "))\n"
             << "    return " << P << "_refuse_(\"%s\", \"" << why << "\");\n";
      }
    }

    if (anyTensorMap && lastVariantHasTensorMaps(g)) {
      // No variant runs without these maps (tile::gather4 / scatter4): say which.
      std::string tensors;
      for (const ir::Param& p : module_.kernels[g.first + g.count - 1].params)
        if (p.kind == ParamKind::TensorMap) tensors += (tensors.empty() ? "'" : ", '") + p.tensorMap->tensor->name + "'";
      out_ << "  if (tlc_status != CUDA_SUCCESS) /* the driver refused a tensor map every variant needs */\n"
           << refusal("    ", "no TMA tensor map for " + tensors + " (cuTensorMapEncodeTiled: %d): its base must be "
                              "16-byte aligned, its row stride a multiple of 16 bytes and no dimension 0",
                      "(int)tlc_status");
    }

    // Pointers: non-null, aligned to their element. (Alignment for TMA or vectors is
    // not an error: select_variant picks a variant that does not need it.)
    for (const Argument& a : args) {
      if (a.param->kind != ParamKind::Pointer) continue;
      out_ << "  if (" << a.name << " == 0)\n" << refusal("    ", "argument '" + a.name + "' is a null pointer");
    }
    for (const Argument& a : args) {
      if (a.param->kind != ParamKind::Pointer) continue;
      int bytes = elementBytes(a.param->elementType);
      if (bytes <= 1) continue;
      out_ << "  if (" << a.name << " % " << bytes << "u != 0)\n"
           << refusal("    ", "argument '" + a.name + "' = 0x%llx is not aligned to its " + std::to_string(bytes) +
                                  "-byte " + ir::name(a.param->elementType) + " elements",
                      "(unsigned long long)" + a.name);
    }

    // Kernel handle, launch.
    if (anyCluster) {
      // The grid must be whole clusters: per clustered axis, a refusal naming the
      // axis, its expression (the arguments it comes from), its value and the cluster
      // shape. Every variant of a kernel has the same cluster shape.
      const int* cluster = general.clusterDims;
      std::string shape = "(" + std::to_string(cluster[0]) + ", " + std::to_string(cluster[1]) + ", " +
                          std::to_string(cluster[2]) + ")";
      static const char* axis[3] = {"x", "y", "z"};
      for (int d = 0; d < 3; ++d) {
        if (cluster[d] == 1) continue;
        std::string extent = plain.print(general.grid[d]);
        if (extent.size() > 60) extent = extent.substr(0, 57) + "...";  // the message fits its buffer
        out_ << "  if (tlc_grid_" << axis[d] << " % " << cluster[d] << " != 0)\n"
             << refusal("    ",
                        std::string("grid ") + axis[d] + " = " + printfLiteral(extent) + " = %lld is not a multiple of " +
                            std::to_string(cluster[d]) + ", the cluster's extent (cluster_dims=" + shape +
                            "): the grid must be whole clusters",
                        std::string("(long long)tlc_grid_") + axis[d]);
      }
    }
    out_ << "  tlc_status = " << P << "_kernel_get_(" << g.first << " + tlc_variant, &tlc_kernel);\n"
         << "  if (tlc_status != CUDA_SUCCESS) return tlc_status;\n"
         << "  tlc_status = cuKernelGetFunction(&tlc_function, tlc_kernel); /* for the current context */\n"
         << "  if (tlc_status != CUDA_SUCCESS) return tlc_status;\n";
    if (general.clusterDims[0] * general.clusterDims[1] * general.clusterDims[2] > 8)
      // 9 to 16 blocks per cluster: beyond the portable 8, allowed where the kernel opts in.
      out_ << "  tlc_status = cuFuncSetAttribute(tlc_function, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1);\n"
           << "  if (tlc_status != CUDA_SUCCESS) return tlc_status;\n";
    if (anyLargeShared)
      out_ << "  if (tlc_shared_bytes[tlc_variant] > 48u * 1024u) {\n"
           << "    tlc_status = cuFuncSetAttribute(tlc_function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,\n"
           << "                                    (int)tlc_shared_bytes[tlc_variant]);\n"
           << "    if (tlc_status != CUDA_SUCCESS) {\n"
           << "      /* Say why when it is the device's limit (asked only now: launches that\n"
           << "       * succeed pay nothing for the message). */\n"
           << "      CUdevice tlc_device;\n"
           << "      int tlc_limit = 0, tlc_static = 0;\n"
           << "      if (cuCtxGetDevice(&tlc_device) == CUDA_SUCCESS &&\n"
           << "          cuDeviceGetAttribute(&tlc_limit, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,\n"
           << "                               tlc_device) == CUDA_SUCCESS &&\n"
           << "          cuFuncGetAttribute(&tlc_static, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, tlc_function) == CUDA_SUCCESS &&\n"
           << "          (long long)tlc_shared_bytes[tlc_variant] + tlc_static > tlc_limit)\n"
           << "        return " << P << "_refuse_(\"dynamic shared memory %u B (and %d B static) exceeds \"\n"
           << "        " << std::string(P.size() + 16, ' ') << "\"the device's opt-in limit of %d B per block\",\n"
           << "        " << std::string(P.size() + 16, ' ')
           << "tlc_shared_bytes[tlc_variant], tlc_static, tlc_limit);\n"
           << "      return tlc_status;\n"
           << "    }\n"
           << "  }\n";

    // The args array in kernel-parameter order (per variant when they differ).
    auto argsCode = [&](size_t v, const std::string& indent) {
      std::string code;
      const ir::Kernel& k = module_.kernels[g.first + v];
      for (size_t i = 0; i < k.params.size(); ++i) {
        const ir::Param& p = k.params[i];
        std::string value;
        if (p.kind == ParamKind::TensorMap) {
          value = "tlc_" + std::to_string(v) + "_" + argumentName(p.name);
        } else {
          const Argument* a = findArgument(args, nullptr, p.name);
          bool isBool = p.kind == ParamKind::Scalar && p.var && p.var->dtype == DType::Bool;
          value = (isBool ? "tlc_" : "") + a->name;
        }
        code += indent + "tlc_args[" + std::to_string(i) + "] = &" + value + ";\n";
      }
      return code;
    };
    if (!anyTensorMap) {
      out_ << argsCode(g.count - 1, "  ");
    } else {
      out_ << "  switch (tlc_variant) {\n";
      for (size_t v = 0; v < g.count; ++v)
        out_ << (v + 1 < g.count ? "    case " + std::to_string(v) + ":\n" : std::string("    default:\n"))
             << argsCode(v, "      ") << "      break;\n";
      out_ << "  }\n";
    }

    if (anyCluster) {
      out_ << "  if (tlc_cluster[tlc_variant][0] * tlc_cluster[tlc_variant][1] * tlc_cluster[tlc_variant][2] != 1u) {\n"
           << "    CUlaunchConfig tlc_config;\n"
           << "    CUlaunchAttribute tlc_attribute;\n"
           << "    memset(&tlc_config, 0, sizeof tlc_config);\n"
           << "    memset(&tlc_attribute, 0, sizeof tlc_attribute);\n"
           << "    tlc_attribute.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;\n"
           << "    tlc_attribute.value.clusterDim.x = tlc_cluster[tlc_variant][0];\n"
           << "    tlc_attribute.value.clusterDim.y = tlc_cluster[tlc_variant][1];\n"
           << "    tlc_attribute.value.clusterDim.z = tlc_cluster[tlc_variant][2];\n"
           << "    tlc_config.gridDimX = (unsigned int)tlc_grid_x;\n"
           << "    tlc_config.gridDimY = (unsigned int)tlc_grid_y;\n"
           << "    tlc_config.gridDimZ = (unsigned int)tlc_grid_z;\n"
           << "    tlc_config.blockDimX = tlc_threads[tlc_variant];\n"
           << "    tlc_config.blockDimY = 1;\n"
           << "    tlc_config.blockDimZ = 1;\n"
           << "    tlc_config.sharedMemBytes = tlc_shared_bytes[tlc_variant];\n"
           << "    tlc_config.hStream = stream;\n"
           << "    tlc_config.attrs = &tlc_attribute;\n"
           << "    tlc_config.numAttrs = 1;\n"
           << "    return cuLaunchKernelEx(&tlc_config, tlc_function, tlc_args, NULL);\n"
           << "  }\n";
    }
    out_ << "  return cuLaunchKernel(tlc_function, (unsigned int)tlc_grid_x, (unsigned int)tlc_grid_y,\n"
         << "                        (unsigned int)tlc_grid_z, tlc_threads[tlc_variant], 1, 1,\n"
         << "                        tlc_shared_bytes[tlc_variant], stream, tlc_args, NULL);\n"
         << "}\n\n";
  }

  // `return <prefix>_refuse_("format", values);` at `indent`, the values on a line of
  // their own when the line would be long. `format` is already a C string's contents.
  std::string refusal(const std::string& indent, const std::string& format, const std::string& values = "") const {
    std::string call = "return " + prefix_ + "_refuse_(";
    std::string line = indent + call + "\"" + format + "\"";
    if (values.empty()) return line + ");\n";
    if (line.size() + values.size() + 4 <= 110) return line + ", " + values + ");\n";
    return line + ",\n" + indent + std::string(call.size(), ' ') + values + ");\n";
  }

  // The grid against the device's limits (x up to 2^31 - 1 blocks, y and z up to
  // 65535; the same on every GPU since compute capability 3.0): per axis whose extent
  // depends on the arguments, a refusal naming the axis, its expression and value.
  void writeGridChecks(const KernelGroup& g, bool sameGrid, const GridPrinter& plain) {
    const std::string P = prefix_;
    const ir::Kernel& general = module_.kernels[g.first + g.count - 1];
    const char* axis[3] = {"x", "y", "z"};
    const char* limit[3] = {"2147483647", "65535", "65535"};
    std::string shape;
    for (int d = 0; d < 3; ++d) shape += std::string(d ? ", " : "") + plain.print(general.grid[d]);
    if (shape.size() > 120) shape = shape.substr(0, 117) + "...";  // the message fits its buffer
    out_ << "  if (tlc_bad)\n"
         << refusal("    ", "the grid" + (sameGrid ? " (" + printfLiteral(shape) + ")" : std::string()) +
                                " overflows 64-bit arithmetic for these arguments");
    for (int d = 0; d < 3; ++d) {
      // An axis that is the same constant in every variant was checked by the compiler.
      bool constant = true;
      for (size_t v = 0; v < g.count; ++v) {
        std::optional<int64_t> c = ir::asConstInt(module_.kernels[g.first + v].grid[d]);
        constant = constant && c && *c >= 0 && *c <= std::stoll(limit[d]);
      }
      if (constant) continue;
      // The axis's expression, when every variant has the same one.
      bool sameAxis = true;
      for (size_t v = 0; v + 1 < g.count; ++v)
        sameAxis = sameAxis && plain.print(module_.kernels[g.first + v].grid[d]) == plain.print(general.grid[d]);
      std::string extent = sameAxis ? plain.print(general.grid[d]) : std::string();
      if (extent.size() > 60) extent = extent.substr(0, 57) + "...";
      std::string what = std::string("grid ") + axis[d] + (extent.empty() ? "" : " = " + printfLiteral(extent));
      std::string value = std::string("(long long)tlc_grid_") + axis[d];
      out_ << "  if (tlc_grid_" << axis[d] << " < 0)\n"
           << refusal("    ", what + " = %lld is negative", value)
           << "  if (tlc_grid_" << axis[d] << " > " << limit[d] << ")\n"
           << refusal("    ", what + " = %lld exceeds the device limit of " + limit[d] + " blocks", value);
    }
  }

  // Encodes the tensor maps of the chosen variant. A variant whose maps the driver
  // refuses for these arguments (a dimension or stride beyond what TMA takes) gives
  // way to the next one, so every launch still runs a kernel that is right.
  //
  // The last variant has tensor maps only when an operation needs TMA in every
  // variant (tile::gather4 / scatter4): then there is nothing to fall back to, and
  // a refused map is the launch's error, reported after the empty-grid check.
  void writeTensorMapEncoding(const KernelGroup& g, const std::vector<Argument>& args) {
    GridPrinter checked(prefix_, args, true);
    out_ << "  for (;;) {\n"
         << "    tlc_bad = 0;\n"
         << "    tlc_status = CUDA_SUCCESS;\n"
         << "    switch (tlc_variant) {\n";
    for (size_t v = 0; v < g.count; ++v) {
      const ir::Kernel& k = module_.kernels[g.first + v];
      bool any = false;
      for (const ir::Param& p : k.params) any = any || p.kind == ParamKind::TensorMap;
      if (!any) continue;
      out_ << "      case " << v << ": {\n";
      for (const ir::Param& p : k.params) {
        if (p.kind != ParamKind::TensorMap) continue;
        const ir::TensorMapInfo& info = *p.tensorMap;
        const ir::Buffer& t = *info.tensor;
        const Argument* base = findArgument(args, t.data.get(), t.data ? t.data->name : "");
        TLC_ASSERT(base != nullptr, "a tensor map's tensor has no pointer parameter");
        if (info.im2col) {
          writeIm2colMap("tlc_" + std::to_string(v) + "_" + argumentName(p.name), p, *base, checked);
          continue;
        }
        size_t rank = t.shape.size();
        int elemBytes = elementBytes(t.dtype);
        std::string dims, strides, box, ones;
        for (size_t i = 0; i < rank; ++i) {
          size_t axis = rank - 1 - i;  // innermost first
          // An unpacking map counts the byte twin's innermost dimension in fp4 elements.
          dims += (i ? ", " : "") + std::string("(cuuint64_t)") + checked.print(t.shape[axis]) +
                  (info.unpackFp4 && i == 0 ? " * 2u" : "");
          box += (i ? ", " : "") + std::to_string(info.box[axis]) + "u";
          ones += (i ? ", 1u" : "1u");
          if (i > 0)
            strides += (i > 1 ? ", " : "") + std::string("(cuuint64_t)") + checked.print(t.strides[axis]) + " * " +
                       std::to_string(elemBytes) + "u";
        }
        std::string map = "tlc_" + std::to_string(v) + "_" + argumentName(p.name);
        out_ << "        /* " << p.name << ": " << t.name << " in boxes of ";
        for (size_t i = 0; i < rank; ++i) out_ << (i ? "x" : "") << info.box[i];
        out_ << (info.unpackFp4 ? " fp4 elements, unpacked into float4_e2m1_unpacked" : "") << " */\n"
             << "        cuuint64_t " << map << "_dims[" << rank << "] = {" << dims << "};\n";
        // A rank-1 map has no stride, but the driver refuses a null globalStrides
        // (CUDA_ERROR_INVALID_VALUE on the H100): it gets the row's byte size rounded
        // up to 16, which the driver reads as the (unused) stride past the last element.
        if (rank == 1)
          strides = "((cuuint64_t)" + checked.print(t.shape[0]) + " * " + std::to_string(elemBytes) +
                    "u + 15u) & ~(cuuint64_t)15u";
        out_ << "        cuuint64_t " << map << "_strides[" << std::max<size_t>(rank - 1, 1) << "] = {" << strides
             << "};\n";
        // What the driver would refuse anyway (a null or misaligned base, a row stride
        // not a multiple of 16 bytes, an empty dimension) is settled here, so the
        // fallback or the refusal happens without a failing driver call (which
        // compute-sanitizer reports as an API error).
        // 16U4_ALIGN16B asks more (cuTensorMapEncodeTiled): a 32-byte aligned base, row
        // strides multiples of 32 bytes, an innermost dimension a multiple of 128.
        std::string align = info.unpackFp4 ? "32u" : "16u";
        std::string refused = base->name + " == 0 || " + base->name + " % " + align + " != 0";
        for (size_t i = 0; i < rank; ++i) refused += " || " + map + "_dims[" + std::to_string(i) + "] == 0";
        for (size_t i = 0; i + 1 < rank; ++i)
          refused += " || " + map + "_strides[" + std::to_string(i) + "] % " + align + " != 0";
        if (info.unpackFp4) refused += " || " + map + "_dims[0] % 128u != 0";
        // A rank-1 map whose end is off a 16-byte boundary: a store through it writes
        // the rest of the last 16 bytes (H100), so such a tensor takes the next variant
        // (or is refused where TMA is all there is).
        if (rank == 1 && !info.unpackFp4)
          refused += " || (" + map + "_dims[0] * " + std::to_string(elemBytes) + "u) % 16u != 0";
        out_ << "        cuuint32_t " << map << "_box[" << rank << "] = {" << box << "};\n"
             << "        cuuint32_t " << map << "_steps[" << rank << "] = {" << ones << "};\n"
             << "        if (" << refused << ") tlc_bad = 1;\n"
             << "        if (tlc_status == CUDA_SUCCESS && !tlc_bad)\n"
             << "          tlc_status = cuTensorMapEncodeTiled(&" << map << ", "
             << (info.unpackFp4 ? "CU_TENSOR_MAP_DATA_TYPE_16U4_ALIGN16B" : tensorMapType(t.dtype)) << ", " << rank
             << ", (void *)(uintptr_t)" << base->name << ",\n"
             << "                                              " << map << "_dims, "
             << map << "_strides, " << map << "_box, " << map << "_steps,\n"
             << "                                              CU_TENSOR_MAP_INTERLEAVE_NONE, "
             << swizzleName(info.swizzleBytes) << ",\n"
             << "                                              CU_TENSOR_MAP_L2_PROMOTION_L2_128B, "
                "CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);\n";
      }
      out_ << "        break;\n      }\n";
    }
    // The next variant must be of the same architecture: past its last, stop.
    std::string end = std::to_string(g.count);
    if (multiArch()) {
      out_ << "      default:\n        break;\n    }\n";
      end = "";
      for (size_t a = 0; a < cubins_->size(); ++a)
        end += "tlc_arch == " + std::to_string(a) + " ? " + std::to_string(archVariants(g, int(a)).second) + " : ";
      end = "(" + end + std::to_string(g.count) + ")";
    } else {
      out_ << "      default:\n        break;\n    }\n";
    }
    out_ << "    if ((tlc_status == CUDA_SUCCESS && !tlc_bad) || tlc_variant + 1 >= " << end << ") break;\n"
         << "    ++tlc_variant; /* these arguments do not suit TMA: run the next variant */\n"
         << "  }\n";
    if (lastVariantHasTensorMaps(g))
      out_ << "  /* Every variant needs its tensor maps: a refused one fails the launch (below). */\n"
           << "  if (tlc_status == CUDA_SUCCESS && tlc_bad) tlc_status = CUDA_ERROR_INVALID_VALUE;\n";
    out_ << "  tlc_bad = 0;\n";
  }

  // An im2col-mode map of an NHWC image (lower/Im2colTma.h): rank 4, the bounding box
  // of filter bases from the corners, BM pixels x BK channels per load, the stride as
  // the traversal stride along W and H. Besides what the tiled maps settle first, an
  // image too small for any output (W + 2P or H + 2P below the dilated filter: an
  // empty bounding box) goes to the next variant without a driver call.
  void writeIm2colMap(const std::string& map, const ir::Param& p, const Argument& base, GridPrinter& checked) {
    const ir::TensorMapInfo& info = *p.tensorMap;
    const ir::Im2colMapInfo& m = *info.im2col;
    const ir::Buffer& t = *info.tensor;
    int elemBytes = elementBytes(t.dtype);
    std::string dims, strides;
    for (size_t i = 0; i < 4; ++i) {
      size_t axis = 3 - i;  // innermost first: C, W, H, N
      dims += (i ? ", " : "") + std::string("(cuuint64_t)") + checked.print(t.shape[axis]);
      if (i > 0)
        strides += (i > 1 ? ", " : "") + std::string("(cuuint64_t)") + checked.print(t.strides[axis]) + " * " +
                   std::to_string(elemBytes) + "u";
    }
    std::string stride = std::to_string(m.stride) + "u";
    out_ << "        /* " << p.name << ": " << t.name << " in im2col mode, " << m.pixels << " pixels x " << m.channels
         << " channels per load, stride " << m.stride << " */\n"
         << "        cuuint64_t " << map << "_dims[4] = {" << dims << "};\n"
         << "        cuuint64_t " << map << "_strides[3] = {" << strides << "};\n"
         << "        int " << map << "_lower[2] = {" << m.lowerCorner[0] << ", " << m.lowerCorner[1] << "}; /* W, H */\n"
         << "        int " << map << "_upper[2] = {" << m.upperCorner[0] << ", " << m.upperCorner[1] << "};\n"
         << "        cuuint32_t " << map << "_steps[4] = {1u, " << stride << ", " << stride << ", 1u};\n";
    std::string refused = base.name + " == 0 || " + base.name + " % 16u != 0";
    for (size_t i = 0; i < 4; ++i) refused += " || " + map + "_dims[" + std::to_string(i) + "] == 0";
    for (size_t i = 0; i < 3; ++i) refused += " || " + map + "_strides[" + std::to_string(i) + "] % 16u != 0";
    for (int i = 1; i <= 2; ++i)
      refused += " || " + map + "_dims[" + std::to_string(i) + "] + " + std::to_string(2 * m.pad) + "u < " +
                 std::to_string(m.span) + "u";
    out_ << "        if (" << refused << ") tlc_bad = 1;\n"
         << "        if (tlc_status == CUDA_SUCCESS && !tlc_bad)\n"
         << "          tlc_status = cuTensorMapEncodeIm2col(&" << map << ", " << tensorMapType(t.dtype)
         << ", 4, (void *)(uintptr_t)" << base.name << ",\n"
         << "                                               " << map << "_dims, " << map << "_strides, " << map
         << "_lower, " << map << "_upper,\n"
         << "                                               " << m.channels << "u, " << m.pixels << "u, " << map
         << "_steps, CU_TENSOR_MAP_INTERLEAVE_NONE,\n"
         << "                                               " << swizzleName(info.swizzleBytes)
         << ", CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);\n";
  }

  bool lastVariantHasTensorMaps(const KernelGroup& g) const {
    for (const ir::Param& p : module_.kernels[g.first + g.count - 1].params)
      if (p.kind == ParamKind::TensorMap) return true;
    return false;
  }

  // One-byte types TMA cannot move unpacked (float4_e2m1fn) reach the header
  // packed: they move as bytes.
  static const char* tensorMapType(DType t) {
    const char* type = ir::tensorMapDataTypeName(t);
    return type ? type : "CU_TENSOR_MAP_DATA_TYPE_UINT8";
  }
  static const char* swizzleName(int bytes) {
    switch (bytes) {
      case 32: return "CU_TENSOR_MAP_SWIZZLE_32B";
      case 64: return "CU_TENSOR_MAP_SWIZZLE_64B";
      case 128: return "CU_TENSOR_MAP_SWIZZLE_128B";
      default: return "CU_TENSOR_MAP_SWIZZLE_NONE";
    }
  }

  void writeClosing() {
    out_ << "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n"
         << "#endif /* " << (guard_.empty() ? guardName("_H") : guard_) << " */\n";
  }

  const ir::Module& module_;
  const std::vector<uint8_t>& cubin_;
  const HeaderOptions& options_;
  const std::vector<ArchBuild>* cubins_;  // several architectures; null: one (cubin_)
  std::vector<int> archOf_;  // several architectures: the index into cubins_ of each kernel's
  std::string api_ = "static inline ";  // the public functions' linkage ("" in a .c file)
  std::string guard_;                   // the include guard, when not guardName("_H")
  std::string prefix_;
  std::vector<KernelGroup> groups_;
  std::ostringstream out_;
};

}  // namespace

std::string generateHeader(const ir::Module& loopIR, const std::vector<uint8_t>& cubin,
                           const HeaderOptions& options) {
  return HeaderWriter(loopIR, cubin, options).write();
}

std::string generateMultiArchHeader(const std::vector<ArchBuild>& builds, const HeaderOptions& options) {
  TLC_ASSERT(!builds.empty(), "a header needs at least one cubin");
  if (builds.size() == 1) {
    HeaderOptions one = options;
    one.arch = builds[0].arch;
    return HeaderWriter(*builds[0].loopIR, builds[0].cubin, one).write();
  }
  // One module of every architecture's variants: per source kernel, the variants of
  // the first architecture, then the second's, ... (archOf says whose each is), so
  // that a launcher's variants stay adjacent and each architecture's are in their
  // own order, most specialized first.
  std::vector<std::vector<KernelGroup>> perArch;
  for (const ArchBuild& b : builds) perArch.push_back(groupKernels(*b.loopIR, options.kernelPrefix));
  ir::Module all;
  std::vector<int> archOf;
  for (size_t g = 0; g < perArch[0].size(); ++g)
    for (size_t a = 0; a < builds.size(); ++a) {
      TLC_ASSERT(perArch[a].size() == perArch[0].size() && perArch[a][g].sourceName == perArch[0][g].sourceName,
                 "the architectures' builds have different kernels");
      for (size_t v = 0; v < perArch[a][g].count; ++v) {
        all.kernels.push_back(builds[a].loopIR->kernels[perArch[a][g].first + v]);
        archOf.push_back(int(a));
      }
    }
  return HeaderWriter(all, builds[0].cubin, options, &builds, std::move(archOf)).write();
}

}  // namespace tlc
