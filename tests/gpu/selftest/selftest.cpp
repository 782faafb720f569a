// selftest: the generated launcher header against the real driver, without tlc.
//
// The kernels are hand-written CUDA (kernels.cu, built with nvcc on the build
// machine); their header comes from the real generator (make_header.cpp). Checked:
// variant choice (a wrong one faults: the vectorized copy needs 16-byte alignment),
// per-variant grids, argument checks, a cluster launch with 100 KB of dynamic shared
// memory, scalar passing (float, bool, raw fp16 bits), unload and reload, eight
// threads racing for the first load, and a launch from a second context.
#include <thread>

#include "harness.h"
#include "selftest.h"

using namespace gpu_test;

namespace {

void copyShape(int M, int N, size_t offset, int wantVariant) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * N, bytes = count * 2;
  Checker check;
  std::vector<uint16_t> a(count), b(count);
  fillRandomBits(a, 7u * M + N);
  DeviceBuffer da(bytes, offset), db(bytes, offset);
  da.upload(a.data());
  db.poison();
  const int variant = copy_select_variant(da.ptr(), db.ptr(), M, N);
  if (variant != wantVariant) check.fail("unexpected variant");
  if (launchAndWait(copy_launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, b[i], a[i]);
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = "header_selftest copy";
  r.shape = shapeString({M, N}, "fp16") + (offset ? " +" + std::to_string(offset) + "B" : "");
  r.variant = copy_variant_entry(variant);
  r.bytes = 2.0 * bytes;
  if (check.passed() && count >= (1u << 20))
    r.ms = medianMs([&](int) { return copy_launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

void argumentChecks() {
  Gpu& g = gpu();
  Checker check;
  DeviceBuffer a(4096), b(4096), p(8192 * 4), q(8192 * 4);
  auto expect = [&](CUresult got, CUresult want, const char* what) {
    if (got != want) {
      std::fprintf(stderr, "    %s: got %s, want %s\n", what, errorName(got), errorName(want));
      check.fail(what);
    }
  };
  expect(copy_launch(a.ptr(), b.ptr(), 0, 10, g.stream), CUDA_SUCCESS, "M = 0");
  expect(copy_launch(a.ptr(), b.ptr(), -1, 10, g.stream), CUDA_ERROR_INVALID_VALUE, "M = -1");
  expect(copy_launch(0, b.ptr(), 10, 10, g.stream), CUDA_ERROR_INVALID_VALUE, "A = NULL");
  expect(copy_launch(a.ptr() + 1, b.ptr(), 10, 10, g.stream), CUDA_ERROR_INVALID_VALUE, "A odd");
  expect(scale_launch(p.ptr(), q.ptr(), 1000, 1.0f, 1, 0, g.stream), CUDA_ERROR_INVALID_VALUE,
         "grid of 1 block with 2-CTA clusters");
  expect(scale_launch(p.ptr(), q.ptr(), -4, 1.0f, 1, 0, g.stream), CUDA_ERROR_INVALID_VALUE, "n = -4");
  expect(cuStreamSynchronize(g.stream), CUDA_SUCCESS, "stream");
  Result r;
  r.name = "header_selftest";
  r.shape = "argument checks";
  r.pass = check.passed();
  r.variant = "-";
  report(r);
}

// Cluster launch, > 48 KB dynamic shared memory, float / bool / fp16-bits scalars.
void scaleCluster(int n, uint8_t flag) {
  Gpu& g = gpu();
  Checker check;
  std::vector<float> p(n), q(n);
  fillUniform(p, 5u + n);
  DeviceBuffer dp(n * 4), dq(n * 4);
  dp.upload(p.data());
  dq.poison();
  const float s = 1.5f, h = 0.25f;  // 0x3400 is 0.25 in fp16
  if (launchAndWait(scale_launch(dp.ptr(), dq.ptr(), n, s, flag, 0x3400, g.stream), check)) {
    dq.download(q.data());
    for (int i = 0; i < n; ++i) check.add(size_t(i), q[i], flag ? double(s * p[i] + h) : double(p[i]));
    if (!dq.guardsIntact()) check.fail("wrote outside q");
  }
  Result r;
  r.name = "header_selftest scale";
  r.shape = "n=" + std::to_string(n) + (flag ? " flag" : " no flag") + ", cluster 2, 100 KB smem";
  r.variant = scale_variant_entry(0);
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

// Unload, then eight threads launch at once: one library load wins, every launch works.
void racingFirstLoad() {
  Gpu& g = gpu();
  Checker check;
  if (selftest_unload() != CUDA_SUCCESS) check.fail("unload");
  const int threads = 8, M = 256, N = 1024;
  std::vector<uint16_t> a(size_t(M) * N);
  fillRandomBits(a, 99);
  std::vector<DeviceBuffer> as, bs;
  for (int t = 0; t < threads; ++t) {
    as.emplace_back(a.size() * 2);
    bs.emplace_back(a.size() * 2);
    as.back().upload(a.data());
    bs.back().poison();
  }
  std::vector<CUresult> results(threads, CUDA_ERROR_UNKNOWN);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      cuCtxSetCurrent(g.context);
      CUstream stream;
      if (cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING) != CUDA_SUCCESS) return;
      results[t] = copy_launch(as[t].ptr(), bs[t].ptr(), M, N, stream);
      if (results[t] == CUDA_SUCCESS) results[t] = cuStreamSynchronize(stream);
      cuStreamDestroy(stream);
    });
  for (std::thread& t : pool) t.join();
  std::vector<uint16_t> b(a.size());
  for (int t = 0; t < threads; ++t) {
    if (results[t] != CUDA_SUCCESS) {
      std::fprintf(stderr, "    thread %d: %s\n", t, errorName(results[t]));
      check.fail("a racing launch failed");
      continue;
    }
    bs[t].download(b.data());
    for (size_t i = 0; i < b.size(); ++i) check.addBits(i, b[i], a[i]);
  }
  if (selftest_load() != CUDA_SUCCESS) check.fail("load after the race");
  Result r;
  r.name = "header_selftest";
  r.shape = "unload, then 8 threads race the first load";
  r.pass = check.passed();
  r.variant = "-";
  report(r);
}

// A second context on the same device: the CUlibrary loads into it on first use.
void secondContext() {
  Gpu& g = gpu();
  Checker check;
  CUcontext other = nullptr;
#if CUDA_VERSION >= 13000
  CU_CHECK(cuCtxCreate(&other, nullptr, 0, g.device));
#else
  CU_CHECK(cuCtxCreate(&other, 0, g.device));
#endif
  {
    const int M = 100, N = 200;
    std::vector<uint16_t> a(size_t(M) * N), b(a.size());
    fillRandomBits(a, 3);
    DeviceBuffer da(a.size() * 2), db(a.size() * 2);
    da.upload(a.data());
    db.poison();
    CUresult launched = copy_launch(da.ptr(), db.ptr(), M, N, nullptr);
    if (launched == CUDA_SUCCESS) launched = cuCtxSynchronize();
    if (launched != CUDA_SUCCESS) {
      std::fprintf(stderr, "    second context: %s\n", errorName(launched));
      check.fail("launch in a second context");
    } else {
      db.download(b.data());
      for (size_t i = 0; i < b.size(); ++i) check.addBits(i, b[i], a[i]);
    }
  }
  CU_CHECK(cuCtxDestroy(other));
  CU_CHECK(cuCtxSetCurrent(g.context));
  Result r;
  r.name = "header_selftest";
  r.shape = "launch from a second context";
  r.pass = check.passed();
  r.variant = "-";
  report(r);
}

}  // namespace

int main() {
  std::printf("# header self-test on %s\n", gpu().name.c_str());
  if (selftest_load() != CUDA_SUCCESS) std::printf("# selftest_load failed\n");
  copyShape(1000, 1000, 0, 0);      // aligned, N % 8 == 0: vectorized
  copyShape(1001, 999, 0, 1);       // N odd: general
  copyShape(1000, 1000, 2, 1);      // pointers 2 bytes off: general
  copyShape(1, 1, 0, 1);
  copyShape(129, 136, 0, 0);        // ragged rows, N % 8 == 0
  copyShape(8192, 8192, 0, 0);
  argumentChecks();
  scaleCluster(4096, 1);
  scaleCluster(8 * 1024 - 100, 0);  // 8 blocks, the last one partial
  racingFirstLoad();
  secondContext();
  return finish();
}
