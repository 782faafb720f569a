// Meta: writes the launch metadata sidecar (Meta.h says what it holds). Its reader
// is python/tlc/meta.py; docs/python.md describes the format. The writer mirrors
// the header's launcher (Header.cpp) rule for rule: whatever the header checks or
// computes before cuLaunchKernel is here as data.
#include "backend/Meta.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>

#include "ir/IR.h"
#include "support/Diagnostics.h"

namespace tlc {
namespace {

using ir::BinOp;
using ir::DType;
using ir::ExprKind;
using ir::ParamKind;

std::string quote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  return out + "\"";
}

int elementBytes(DType t) { return std::max(1, ir::bits(t) / 8); }

const char* binaryName(BinOp op) {
  switch (op) {
    case BinOp::Add: return "add";
    case BinOp::Sub: return "sub";
    case BinOp::Mul: return "mul";
    case BinOp::FloorDiv: return "floordiv";
    case BinOp::FloorMod: return "floormod";
    case BinOp::Min: return "min";
    case BinOp::Max: return "max";
    case BinOp::BitAnd: return "bitand";
    case BinOp::BitOr: return "bitor";
    case BinOp::BitXor: return "bitxor";
    case BinOp::Shl: return "shl";
    case BinOp::Shr: return "shr";
    case BinOp::Lt: return "lt";
    case BinOp::Le: return "le";
    case BinOp::Gt: return "gt";
    case BinOp::Ge: return "ge";
    case BinOp::Eq: return "eq";
    case BinOp::Ne: return "ne";
    case BinOp::And: return "and";
    case BinOp::Or: return "or";
    default: return nullptr;
  }
}

// An integer expression over parameters and constants (a grid, a requirement, a
// shape) as a JSON tree: a number, a parameter's name, or [op, operands...].
// Casts are transparent (the header evaluates every launch expression in int64).
std::string expr(const ir::ExprRef& e) {
  if (!e) return "1";
  switch (e->kind) {
    case ExprKind::IntImm: return std::to_string(e->as<ir::IntImm>().value);
    case ExprKind::Var: return quote(e->as<ir::VarNode>().name);
    case ExprKind::Cast: return expr(e->as<ir::CastNode>().a);
    case ExprKind::Unary: {
      const auto& u = e->as<ir::UnaryNode>();
      const char* op = u.op == ir::UnOp::Neg ? "neg" : u.op == ir::UnOp::Not ? "not" : "bitnot";
      return std::string("[\"") + op + "\", " + expr(u.a) + "]";
    }
    case ExprKind::Select: {
      const auto& s = e->as<ir::SelectNode>();
      return "[\"select\", " + expr(s.cond) + ", " + expr(s.t) + ", " + expr(s.f) + "]";
    }
    case ExprKind::Binary: {
      const auto& b = e->as<ir::BinaryNode>();
      const char* op = binaryName(b.op);
      TLC_ASSERT(op != nullptr, std::string("a launch expression may not use '") + ir::spelling(b.op) + "'");
      return std::string("[\"") + op + "\", " + expr(b.a) + ", " + expr(b.b) + "]";
    }
    default: break;
  }
  TLC_ASSERT(false, "launch expressions may use only integer arithmetic on parameters");
  return "";
}

std::string exprList(const std::vector<ir::ExprRef>& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + expr(list[i]);
  return out + "]";
}

void collectVars(const ir::ExprRef& e, std::set<std::string>& names) {
  if (!e) return;
  switch (e->kind) {
    case ExprKind::Var: names.insert(e->as<ir::VarNode>().name); break;
    case ExprKind::Binary:
      collectVars(e->as<ir::BinaryNode>().a, names);
      collectVars(e->as<ir::BinaryNode>().b, names);
      break;
    case ExprKind::Unary: collectVars(e->as<ir::UnaryNode>().a, names); break;
    case ExprKind::Cast: collectVars(e->as<ir::CastNode>().a, names); break;
    case ExprKind::Select:
      collectVars(e->as<ir::SelectNode>().cond, names);
      collectVars(e->as<ir::SelectNode>().t, names);
      collectVars(e->as<ir::SelectNode>().f, names);
      break;
    default: break;
  }
}

const char* paramKindName(ParamKind k) {
  switch (k) {
    case ParamKind::Pointer: return "pointer";
    case ParamKind::Dim: return "dim";
    case ParamKind::Scalar: return "scalar";
    case ParamKind::TensorMap: return "tensor_map";
  }
  return "?";
}

class MetaWriter {
 public:
  MetaWriter(const std::vector<ArchBuild>& builds, const MetaOptions& options) : builds_(builds), options_(options) {}

  std::string write() {
    out_ << "{\n  \"format\": \"tlc-meta\",\n  \"version\": 1,\n"
         << "  \"source\": " << quote(options_.sourceName) << ",\n  \"archs\": [";
    for (size_t a = 0; a < builds_.size(); ++a) {
      const std::string file = a < options_.cubinFiles.size() ? options_.cubinFiles[a] : "";
      out_ << (a ? ", " : "") << "{\"arch\": " << quote(builds_[a].arch) << ", \"cubin\": "
           << (file.empty() ? "null" : quote(file)) << "}";
    }
    out_ << "],\n  \"kernels\": [";
    // Per source kernel: the variants of every architecture, adjacent (Module's rule).
    std::vector<std::vector<std::pair<size_t, size_t>>> perArch;  // [arch][kernel] = [begin, end)
    for (const ArchBuild& b : builds_) perArch.push_back(groups(*b.loopIR));
    for (size_t g = 0; g < perArch[0].size(); ++g) {
      for (size_t a = 1; a < builds_.size(); ++a)
        TLC_ASSERT(perArch[a].size() == perArch[0].size(), "the architectures' builds have different kernels");
      writeKernel(g, perArch);
    }
    out_ << (perArch[0].empty() ? "]\n}\n" : "\n  ]\n}\n");
    return out_.str();
  }

 private:
  static std::vector<std::pair<size_t, size_t>> groups(const ir::Module& m) {
    std::vector<std::pair<size_t, size_t>> out;
    for (size_t i = 0; i < m.kernels.size();) {
      size_t j = i + 1;
      while (j < m.kernels.size() && m.kernels[j].sourceName == m.kernels[i].sourceName) ++j;
      out.push_back({i, j});
      i = j;
    }
    return out;
  }

  void writeKernel(size_t g, const std::vector<std::vector<std::pair<size_t, size_t>>>& perArch) {
    const ir::Module& first = *builds_[0].loopIR;
    const ir::Kernel& general = first.kernels[perArch[0][g].second - 1];
    out_ << (g ? ",\n" : "\n") << "    {\n      \"name\": " << quote(general.sourceName) << ",\n";

    // The parameters a caller passes, in source order.
    std::map<std::string, const ir::Param*> byName;
    for (const ir::Param& p : general.params) byName[p.name] = &p;
    out_ << "      \"params\": [";
    for (size_t i = 0; i < general.signature.size(); ++i) {
      const ir::Kernel::SourceParam& s = general.signature[i];
      out_ << (i ? "," : "") << "\n        {\"name\": " << quote(s.name);
      switch (s.kind) {
        case ir::Kernel::SourceParam::Kind::Tensor: {
          const ir::Buffer& t = *s.tensor;
          out_ << ", \"kind\": \"tensor\", \"dtype\": " << quote(ir::name(t.dtype)) << ", \"element_bits\": "
               << ir::bits(t.dtype) << ", \"rank\": " << t.shape.size() << ", \"shape\": " << exprList(t.shape)
               << ", \"strides\": " << exprList(t.strides) << ", \"elem_offset\": " << (t.elemOffset ? expr(t.elemOffset) : "0")
               << ", \"align\": " << std::max(t.alignBytes == 16 ? 0 : t.alignBytes, elementBytes(t.dtype))
               << ", \"pointer\": " << quote(t.data ? t.data->name : s.name) << "}";
          break;
        }
        case ir::Kernel::SourceParam::Kind::Pointer: {
          auto it = byName.find(s.name);
          DType dt = it != byName.end() ? it->second->elementType : s.dtype;
          out_ << ", \"kind\": \"pointer\", \"dtype\": " << quote(ir::name(dt)) << ", \"element_bits\": " << ir::bits(dt)
               << ", \"align\": " << elementBytes(dt) << "}";
          break;
        }
        case ir::Kernel::SourceParam::Kind::Scalar:
          out_ << ", \"kind\": \"scalar\", \"dtype\": " << quote(ir::name(s.var ? s.var->dtype : s.dtype)) << "}";
          break;
      }
    }
    out_ << "\n      ],\n";

    // Every dimension (a launcher argument the tensors' shapes and strides give).
    out_ << "      \"dims\": [";
    bool any = false;
    for (const ir::Param& p : general.params)
      if (p.kind == ParamKind::Dim) {
        out_ << (any ? ", " : "") << quote(p.name);
        any = true;
      }
    out_ << "],\n";

    writeChecks(g, perArch);

    out_ << "      \"variants\": [";
    size_t index = 0;
    for (size_t a = 0; a < builds_.size(); ++a)
      for (size_t v = perArch[a][g].first; v < perArch[a][g].second; ++v)
        writeVariant(builds_[a].arch, builds_[a].loopIR->kernels[v], index++);
    out_ << "\n      ]\n    }";
  }

  // What the header's launcher refuses before choosing a variant (Header.cpp,
  // writeLauncher): negative sizes, unsigned extents past 2^63 - 1, tensors whose
  // last offset overflows int64, requirements of every variant.
  void writeChecks(size_t g, const std::vector<std::vector<std::pair<size_t, size_t>>>& perArch) {
    const ir::Kernel& general = builds_[0].loopIR->kernels[perArch[0][g].second - 1];
    std::set<std::string> gridVars;
    std::map<std::string, uint64_t> bound;
    std::vector<std::pair<std::string, std::string>> spans;  // tensor, expression
    std::set<std::string> seenSpans;
    for (size_t a = 0; a < builds_.size(); ++a)
      for (size_t v = perArch[a][g].first; v < perArch[a][g].second; ++v) {
        const ir::Kernel& k = builds_[a].loopIR->kernels[v];
        for (const ir::ExprRef& e : k.grid) collectVars(e, gridVars);
        for (const ir::Kernel::ArgumentBound& b : k.argumentBounds) {
          auto [it, fresh] = bound.emplace(b.param->name, b.max);
          if (!fresh) it->second = std::min(it->second, b.max);
        }
        for (const ir::Kernel::TensorSpan& t : k.tensorSpans) {
          std::string e = expr(t.lastOffset);
          if (seenSpans.insert(t.tensor + "\n" + e).second) spans.push_back({t.tensor, e});
        }
      }
    std::vector<std::string> nonNegative;
    for (const ir::Param& p : general.params) {
      bool isSize = p.kind == ParamKind::Dim ||
                    (p.kind == ParamKind::Scalar && p.var && ir::isInt(p.var->dtype) && ir::isSigned(p.var->dtype) &&
                     gridVars.count(p.name));
      if (isSize) nonNegative.push_back(p.name);
      if (p.var && p.var->dtype == DType::UInt64 && gridVars.count(p.name)) {
        auto [it, fresh] = bound.emplace(p.name, uint64_t(INT64_MAX));
        if (!fresh) it->second = std::min(it->second, uint64_t(INT64_MAX));
      }
    }
    out_ << "      \"checks\": {\n        \"non_negative\": [";
    for (size_t i = 0; i < nonNegative.size(); ++i) out_ << (i ? ", " : "") << quote(nonNegative[i]);
    out_ << "],\n        \"max\": [";
    bool first = true;
    for (const ir::Param& p : general.params) {  // parameter order, not the map's
      auto it = bound.find(p.name);
      if (it == bound.end() || p.kind == ParamKind::Pointer || p.kind == ParamKind::TensorMap) continue;
      out_ << (first ? "" : ", ") << "{\"arg\": " << quote(p.name) << ", \"max\": " << it->second << "}";
      first = false;
    }
    out_ << "],\n        \"spans\": [";
    for (size_t i = 0; i < spans.size(); ++i)
      out_ << (i ? ", " : "") << "{\"tensor\": " << quote(spans[i].first) << ", \"last_offset\": " << spans[i].second << "}";
    out_ << "],\n        \"requirements\": [";
    for (size_t i = 0; i < general.requirements.size(); ++i) {
      const ir::Kernel::Requirement& r = general.requirements[i];
      out_ << (i ? ", " : "") << "\n          {\"value\": " << expr(r.value) << ", \"multiple\": " << r.multiple
           << ", \"minimum\": " << r.minimum << ", \"what\": " << quote(r.what) << ", \"why\": " << quote(r.why) << "}";
    }
    out_ << (general.requirements.empty() ? "]" : "\n        ]") << "\n      },\n";
  }

  void writeVariant(const std::string& arch, const ir::Kernel& k, size_t index) {
    out_ << (index ? "," : "") << "\n        {\"entry\": " << quote(k.name) << ", \"arch\": " << quote(arch)
         << ", \"threads\": " << k.threads << ", \"cluster\": [" << k.clusterDims[0] << ", " << k.clusterDims[1] << ", "
         << k.clusterDims[2] << "], \"shared_bytes\": " << k.dynamicSharedBytes << ",\n         \"grid\": ["
         << expr(k.grid[0]) << ", " << expr(k.grid[1]) << ", " << expr(k.grid[2]) << "],\n         \"grid_text\": "
         << quote("(" + ir::toString(k.grid[0]) + ", " + ir::toString(k.grid[1]) + ", " + ir::toString(k.grid[2]) + ")")
         << ",\n         \"assumptions\": [";
    for (size_t i = 0; i < k.assumptions.size(); ++i) {
      const ir::Assumption& a = k.assumptions[i];
      const ir::Param* p = nullptr;
      for (const ir::Param& q : k.params)
        if (q.var == a.param || (a.param && q.name == a.param->name)) p = &q;
      const bool pointer = p && p->kind == ParamKind::Pointer;
      out_ << (i ? ", " : "") << "{\"arg\": " << quote(a.param ? a.param->name : "?") << ", \"kind\": "
           << (pointer ? "\"address\"" : "\"value\"") << ", \"multiple\": " << a.multiple << "}";
    }
    out_ << "], \"assumptions_required\": " << (k.assumptionsRequired ? "true" : "false") << ",\n         \"params\": [";
    for (size_t i = 0; i < k.params.size(); ++i) {
      const ir::Param& p = k.params[i];
      out_ << (i ? "," : "") << "\n           {\"name\": " << quote(p.name) << ", \"kind\": \"" << paramKindName(p.kind) << "\"";
      if (p.kind == ParamKind::Pointer)
        out_ << ", \"dtype\": " << quote(ir::name(p.elementType));
      else if (p.var && p.kind != ParamKind::TensorMap)
        out_ << ", \"dtype\": " << quote(ir::name(p.var->dtype));
      if (p.kind == ParamKind::TensorMap) writeTensorMap(*p.tensorMap);
      out_ << "}";
    }
    out_ << "\n         ]}";
  }

  // What cuTensorMapEncodeTiled / Im2col need (Header.cpp, writeTensorMapEncoding):
  // the tensor's dims and strides (outermost first, in elements; the header passes
  // them innermost first, strides in bytes), the box, swizzle, element type.
  void writeTensorMap(const ir::TensorMapInfo& info) {
    const ir::Buffer& t = *info.tensor;
    const char* type = ir::tensorMapDataTypeName(t.dtype);
    out_ << ", \"base\": " << quote(t.data ? t.data->name : t.name) << ", \"tensor\": " << quote(t.name)
         << ", \"data_type\": " << quote(type ? type : "CU_TENSOR_MAP_DATA_TYPE_UINT8")
         << ", \"element_bytes\": " << elementBytes(t.dtype) << ", \"dims\": " << exprList(t.shape)
         << ", \"strides\": " << exprList(t.strides) << ", \"swizzle\": " << info.swizzleBytes;
    if (info.im2col) {
      const ir::Im2colMapInfo& m = *info.im2col;
      out_ << ", \"mode\": \"im2col\", \"lower\": [" << m.lowerCorner[0] << ", " << m.lowerCorner[1] << "], \"upper\": ["
           << m.upperCorner[0] << ", " << m.upperCorner[1] << "], \"channels\": " << m.channels
           << ", \"pixels\": " << m.pixels << ", \"stride\": " << m.stride << ", \"span\": " << m.span
           << ", \"pad\": " << m.pad;
    } else {
      out_ << ", \"mode\": \"tiled\", \"box\": [";
      for (size_t i = 0; i < info.box.size(); ++i) out_ << (i ? ", " : "") << info.box[i];
      out_ << "]";
    }
  }

  const std::vector<ArchBuild>& builds_;
  const MetaOptions& options_;
  std::ostringstream out_;
};

}  // namespace

std::string generateMeta(const std::vector<ArchBuild>& builds, const MetaOptions& options) {
  TLC_ASSERT(!builds.empty() && builds[0].loopIR, "the metadata needs at least one build");
  return MetaWriter(builds, options).write();
}

}  // namespace tlc
