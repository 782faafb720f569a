// TmaConstraints: see the header.
#include "lower/copy/TmaConstraints.h"

#include <algorithm>

namespace tlc {

using namespace ir;

bool tensorMapDataType(DType t, const char** cuName) {
  const char* n = nullptr;
  switch (t) {
    case DType::Bool:
    case DType::Int8:
    case DType::UInt8:
    case DType::Float8E4M3:
    case DType::Float8E5M2:
    case DType::Float8E8M0: n = "CU_TENSOR_MAP_DATA_TYPE_UINT8"; break;
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
    case DType::Float4E2M1Unpacked:
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
  if (l.mapped())
    return "tile '" + s.name + "' has the layout " + describe(l, s.dtype) + " (" + l.why +
           "), which no TMA swizzle mode expresses";
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

// tma_copy into or out of part of a tile: TMA reads and writes its box densely at
// a 128-byte aligned shared address, so the part must be contiguous in the tile's
// (plain) row-major layout: after its first axis of extent > 1, every axis whole.
static std::string sharedPartObstacle(const Region& shared) {
  const Buffer& s = *shared.buffer;
  bool whole = true;
  for (size_t a = 0; a < shared.extents.size(); ++a) {
    auto min = asConstInt(shared.mins[a]);
    if (!min || *min != 0 || shared.extents[a] != *asConstInt(s.shape[a])) whole = false;
  }
  if (whole) return "";
  const SharedLayout& l = s.sharedLayout;
  if (!l.rowMajor())
    return "the shared side is part of tile '" + s.name + "', whose layout (" + describe(l, s.dtype) +
           ") TMA can only fill whole";
  int64_t start = 0;
  bool cut = false;
  const int elemBytes = bits(s.dtype) / 8;
  for (size_t a = 0; a < shared.extents.size(); ++a) {
    auto min = asConstInt(shared.mins[a]);
    int64_t dim = *asConstInt(s.shape[a]);
    int64_t strideBytes = *asConstInt(s.strides[a]) * elemBytes;
    // A start known only at run time (a[warp, 0:K]) is fine on an axis whose step
    // keeps the 128-byte alignment (and before the part's contiguous run).
    if (!min) {
      if (!cut && strideBytes % 128 == 0) continue;
      return "the shared side starts at " + toString(shared.mins[a]) + " in tile '" + s.name +
             "', known only at run time, on an axis of " + std::to_string(strideBytes) +
             "-byte steps; TMA needs a 128-byte aligned start";
    }
    if (cut && (*min != 0 || shared.extents[a] != dim))
      return "the shared side, part of tile '" + s.name +
             "', is not contiguous (it cuts the tile's rows); TMA writes and reads its box densely";
    if (shared.extents[a] != 1) cut = true;
    start += *min * *asConstInt(s.strides[a]);
  }
  int64_t bytes = start * elemBytes;
  if (bytes % 128 != 0)
    return "the shared side starts " + std::to_string(bytes) + " bytes into tile '" + s.name +
           "'; TMA needs a 128-byte aligned shared address";
  return "";
}

std::string tmaObstacle(const CopyOp& c, bool user) {
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
  if (g.loadedBase)
    return "'" + g.name + "' views an address loaded in the kernel (make_tensor of a table of pointers); "
           "a tensor map is encoded on the host from a parameter";
  // A load into float4_e2m1_unpacked reads an fp4 tensor's byte twin (PackFloat4)
  // through a 16U4_ALIGN16B map.
  bool unpack = s.dtype == DType::Float4E2M1Unpacked;
  if (unpack && (global != &c.src || g.dtype != DType::UInt8 || !c.options.packedFp4))
    return "TMA fills a float4_e2m1_unpacked tile only by loading a float4_e2m1fn tensor";
  if (g.dtype != s.dtype && !unpack)
    return std::string("the two sides have different dtypes (") + name(c.src.buffer->dtype) + " and " +
           name(c.dst.buffer->dtype) + ")";
  if (!unpack && !tensorMapDataType(g.dtype, nullptr)) return std::string("TMA cannot move ") + name(g.dtype);
  if (unpack && s.sharedLayout.swizzleBytes)
    return "not yet supported: a swizzled float4_e2m1_unpacked tile";
  if (user) {
    if (std::string why = sharedPartObstacle(*shared); !why.empty()) return why;
  } else {
    for (size_t a = 0; a < shared->extents.size(); ++a) {
      auto min = asConstInt(shared->mins[a]);
      if (!min || *min != 0 || shared->extents[a] != *asConstInt(s.shape[a]))
        return "the shared side is part of tile '" + s.name + "', not the whole tile";
    }
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
    if (global->extents[a] > 256 && !(user && a + 1 == global->extents.size()))  // rows: tmaRows
      return "the box extent " + std::to_string(global->extents[a]) + " along axis " + std::to_string(a) +
             " exceeds 256";
  return "";
}

std::optional<TmaRows> tmaRows(const CopyOp& c, std::string& why) {
  const Region& global = c.src.buffer->scope == MemScope::Global ? c.src : c.dst;
  int64_t length = global.extents.back();
  if (length <= 256) return std::nullopt;  // one box
  const int elemBytes = bits(global.buffer->dtype) / 8;
  TmaRows r;
  r.length = length;
  for (size_t a = 0; a + 1 < global.extents.size(); ++a) r.rows *= global.extents[a];
  if (r.rows > 256) {
    why = "a region of " + std::to_string(r.rows) + " rows of " + std::to_string(length) +
          " elements (longer than a TMA box) takes one copy per row, at most 256";
    return std::nullopt;
  }
  // Rows past the tensor's end (or not 16-byte aligned) go through the tensor map in
  // pieces, each at a 128-byte aligned shared address: rows of a multiple of 128 bytes.
  if (r.rows > 1 && (length * elemBytes) % 128 != 0) {
    why = "rows of " + std::to_string(length * elemBytes) +
          " bytes (longer than a TMA box) must be a multiple of 128 bytes when the region has several";
    return std::nullopt;
  }
  r.piece = 256;  // 256 elements: a multiple of 128 bytes for every dtype TMA moves
  r.rest = length % r.piece;
  return r;
}

std::string zeroFillObstacle(const CopyOp& c) {
  const Buffer& s = *c.src.buffer;
  if (s.scope != MemScope::Global || !s.safeValue) return "";
  return "'" + s.name + "' reads " + toString(s.safeValue) +
         " outside its bounds (annotate_safe_value), but TMA and cp.async fill with zeros";
}

int tensorMapStrides(const Kernel& kernel, bool allowAssumptions, const Buffer& tensor, AssumptionMap& need,
                     int align) {
  int elemBytes = std::max(1, bits(tensor.dtype) / 8);
  need[tensor.data.get()] = std::max<int64_t>(need[tensor.data.get()], align);
  for (size_t a = tensor.strides.size() - 1; a-- > 0;)  // inner strides first: N before M*N
    if (!provablyMultiple(kernel, allowAssumptions, tensor.strides[a], std::max(1, align / elemBytes), need)) return (int)a;
  return -1;
}

}  // namespace tlc
