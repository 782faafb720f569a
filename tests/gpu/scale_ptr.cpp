// scale_ptr: q = s * p over raw float32 pointers (examples/scale_ptr.tl).
//
// One multiplication: the result must be exactly what the CPU's float multiply
// gives (0 ULP). n covers one element, a partial block and 2^24 + 3 (a partial
// last block after many full ones).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "scale_ptr.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

// `offset` shifts p and q by that many bytes; `wantEntry`, when given, is the variant
// the launcher must pick.
void testLength(int n, size_t offset = 0, const char* wantEntry = nullptr) {
  Gpu& g = gpu();
  const size_t bytes = size_t(n) * sizeof(float);
  const float s = -2.3125f;
  Checker check;

  std::vector<float> p(n), q(n);
  fillUniform(p, 17u + n, -100.0f, 100.0f);
  const int sets = rotationSets(2 * bytes);
  std::vector<DeviceBuffer> ps, qs;
  for (int k = 0; k < sets; ++k) {
    ps.emplace_back(bytes, offset);
    qs.emplace_back(bytes, offset);
  }
  ps[0].upload(p.data());
  for (int k = 1; k < sets; ++k) ps[k].copyFrom(ps[0]);
  qs[0].poison();

  const char* entry = scale_variant_entry(scale_select_variant(ps[0].ptr(), qs[0].ptr(), n, s));
  const std::string shape = "n=" + std::to_string(n) + " fp32" + (offset ? " p,q+" + std::to_string(offset) + "B" : "");
  if (wantEntry) expectVariant(entry, wantEntry, shape, check);
  if (launchAndWait(scale_launch(ps[0].ptr(), qs[0].ptr(), n, s, g.stream), check)) {
    qs[0].download(q.data());
    for (int i = 0; i < n; ++i) check.add(size_t(i), q[i], double(s * p[i]));
    if (!qs[0].guardsIntact()) check.fail("wrote outside q");
  }

  Result r;
  r.name = "scale_ptr";
  r.shape = shape;
  r.variant = entry ? entry : "?";
  r.bytes = 2.0 * bytes;
  if (check.passed())
    r.ms = medianMs([&](int rep) {
      int k = rep % sets;
      return scale_launch(ps[k].ptr(), qs[k].ptr(), n, s, g.stream);
    });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  std::printf("# scale_ptr on %s\n", gpu().name.c_str());
  testLength(1);
  testLength(1000, 0, "scale_aligned");
  testLength(1000, 8, "scale");  // 8 bytes past 16-byte alignment: the general variant
  testLength(1025);
  testLength((1 << 24) + 3);
  testLength(1 << 27);  // 512 MiB in, 512 MiB out: bandwidth
  return finish();
}
