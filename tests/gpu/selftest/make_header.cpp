// make_header: writes the launcher header of the self-test kernels (kernels.cu).
//
//   make_header kernels.cubin selftest.h
//
// The module is built by hand as the lowering would for kernels of this shape, then
// handed to the real generator (src/backend/Header.cpp), so the self-test runs the
// generated launcher against the real driver without needing the rest of tlc.
#include <fstream>
#include <iostream>
#include <iterator>

#include "backend/Header.h"

using namespace tlc;

namespace {

ir::Param param(const std::string& name, ir::ParamKind kind, ir::DType type,
                ir::DType element = ir::DType::Float32) {
  ir::Param p;
  p.name = name;
  p.kind = kind;
  p.var = ir::makeVar(name, type);
  p.elementType = element;
  return p;
}

ir::ExprRef ceilDiv(const ir::ExprRef& a, int64_t b) {
  return ir::floorDiv(ir::add(a, ir::intImm(b - 1)), ir::intImm(b));
}

ir::Module selftestModule() {
  using ir::DType;
  using ir::ParamKind;
  ir::Module m;

  // copy(A: Tensor((M, N), float16), B: Tensor((M, N), float16)): a vectorized variant
  // for 16-byte aligned pointers and N % 8 == 0, then the general one.
  ir::Kernel general;
  general.name = "copy_general";
  general.sourceName = "copy";
  general.params = {param("A", ParamKind::Pointer, DType::Handle, DType::Float16),
                    param("M", ParamKind::Dim, DType::Int32),
                    param("N", ParamKind::Dim, DType::Int32),
                    param("B", ParamKind::Pointer, DType::Handle, DType::Float16)};
  general.threads = 128;
  general.grid[1] = ceilDiv(general.params[1].var, 128);
  ir::Kernel vec8 = general;
  vec8.name = "copy_vec8";
  vec8.grid[0] = ceilDiv(vec8.params[2].var, 1024);  // 128 threads x 8 elements per block
  vec8.assumptions = {{vec8.params[0].var, 16}, {vec8.params[3].var, 16}, {vec8.params[2].var, 8}};
  general.grid[0] = ceilDiv(general.params[2].var, 128);
  m.kernels.push_back(vec8);
  m.kernels.push_back(general);

  // scale(p: ptr(float32), q: ptr(float32), n: int32, s: float32, flag: bool, h: float16)
  ir::Kernel scale;
  scale.name = "scale_cluster";
  scale.sourceName = "scale";
  scale.params = {param("p", ParamKind::Pointer, DType::Handle), param("q", ParamKind::Pointer, DType::Handle),
                  param("n", ParamKind::Scalar, DType::Int32), param("s", ParamKind::Scalar, DType::Float32),
                  param("flag", ParamKind::Scalar, DType::Bool), param("h", ParamKind::Scalar, DType::Float16)};
  scale.threads = 256;
  scale.grid[0] = ceilDiv(scale.params[2].var, 1024);
  scale.clusterDims[0] = 2;
  scale.dynamicSharedBytes = 25600 * 4;
  m.kernels.push_back(scale);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: make_header kernels.cubin out.h\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<uint8_t> cubin((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (cubin.empty()) {
    std::cerr << "make_header: cannot read " << argv[1] << "\n";
    return 1;
  }
  HeaderOptions options;
  options.prefix = "selftest";
  options.sourceName = "tests/gpu/selftest/kernels.cu";
  std::ofstream(argv[2]) << generateHeader(selftestModule(), cubin, options);
  return 0;
}
