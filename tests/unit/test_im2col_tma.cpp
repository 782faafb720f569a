// Unit tests for lower/Im2colTma: the im2col-mode tensor map's parameters, checked
// against the column matrix's definition through a model of TMA's im2col traversal
// (PTX ISA, "im2col mode": filter bases walk W, then H, then N, `stride` apart inside
// the bounding box [lower, size - 1 + upper]; each loads the pixel at base + offset,
// zero outside the tensor), and the constraints that keep TMA out.
#include <doctest/doctest.h>

#include <vector>

#include "lower/Im2colTma.h"

using namespace tlc;

namespace {

struct Geometry {
  int N, H, W, C, K, S, D, P;
  int OH() const { return (H + 2 * P - D * (K - 1) - 1) / S + 1; }
  int OW() const { return (W + 2 * P - D * (K - 1) - 1) / S + 1; }
};

// The image element (n, y, x, c) as a distinct non-zero value, 0 outside.
int pixel(const Geometry& g, int n, int y, int x, int c) {
  if (n < 0 || n >= g.N || y < 0 || y >= g.H || x < 0 || x >= g.W || c < 0 || c >= g.C) return 0;
  return 1 + ((n * g.H + y) * g.W + x) * g.C + c;
}

// The tile one TMA im2col load fills, as the hardware walks it (the model).
std::vector<int> tmaTile(const Geometry& g, const ir::Im2colMapInfo& m, int c0, int w0, int h0, int n0, int offW,
                         int offH) {
  std::vector<int> tile;
  int w = w0, h = h0, n = n0;
  for (int p = 0; p < m.pixels; ++p) {
    for (int ch = 0; ch < m.channels; ++ch) tile.push_back(pixel(g, n, h + offH, w + offW, c0 + ch));
    w += m.stride;
    if (w > g.W - 1 + m.upperCorner[0]) {
      w = m.lowerCorner[0];
      h += m.stride;
      if (h > g.H - 1 + m.upperCorner[1]) {
        h = m.lowerCorner[1];
        ++n;
      }
    }
  }
  return tile;
}

// The same tile from the definition: M[(n*OH + oh)*OW + ow, (kh*K + kw)*C + c].
std::vector<int> definedTile(const Geometry& g, int rowStart, int colStart, int bm, int bk) {
  std::vector<int> tile;
  int rows = g.N * g.OH() * g.OW();
  for (int i = 0; i < bm; ++i)
    for (int j = 0; j < bk; ++j) {
      int r = rowStart + i, k = colStart + j;
      int n = r / (g.OH() * g.OW()), oh = r / g.OW() % g.OH(), ow = r % g.OW();
      int tap = k / g.C, kh = tap / g.K, kw = tap % g.K;
      tile.push_back(r < rows ? pixel(g, n, oh * g.S - g.P + kh * g.D, ow * g.S - g.P + kw * g.D, k % g.C) : 0);
    }
  return tile;
}

// What LowerTileOps issues for tile (nhw_step, c_step): the first output pixel's
// filter base, the tap's offsets.
std::vector<int> loweredTile(const Geometry& g, const ir::Im2colMapInfo& m, int rowStart, int colStart) {
  int pixels = g.OH() * g.OW();
  int n = rowStart / pixels, pix = rowStart % pixels, oh = pix / g.OW(), ow = pix % g.OW();
  int tap = colStart / g.C;
  return tmaTile(g, m, colStart % g.C, ow * g.S - g.P, oh * g.S - g.P, n, tap % g.K * g.D, tap / g.K * g.D);
}

}  // namespace

TEST_CASE("im2col TMA map: every tile equals the column matrix, strides and dilations included") {
  int cases = 0;
  for (int K : {1, 3, 5})
    for (int S : {1, 2, 3})
      for (int D : {1, 2})
        for (int P : {0, 1, 2})
          for (int H : {7, 10})
            for (int W : {9, 13}) {
              Geometry g{2, H, W, 8, K, S, D, P};
              if (g.OH() <= 0 || g.OW() <= 0) continue;
              for (int bm : {16, 64}) {
                Im2colTmaShape shape;
                shape.kernel = K;
                shape.stride = S;
                shape.dilation = D;
                shape.pad = P;
                shape.bm = bm;
                shape.bk = 8;
                shape.elemBytes = 2;
                shape.channels = g.C;
                REQUIRE(im2colTmaObstacle(shape) == "");
                ir::Im2colMapInfo m = im2colTensorMap(shape);
                CHECK(m.lowerCorner[0] == -P);
                CHECK(m.upperCorner[1] == P - D * (K - 1));
                int rows = g.N * g.OH() * g.OW();
                for (int rowStart = 0; rowStart < rows; rowStart += bm)  // the last tile is ragged
                  for (int tap = 0; tap < K * K; ++tap) {
                    INFO("K=" << K << " S=" << S << " D=" << D << " P=" << P << " H=" << H << " W=" << W << " BM=" << bm
                              << " rows from " << rowStart << " tap " << tap);
                    CHECK(loweredTile(g, m, rowStart, tap * g.C) == definedTile(g, rowStart, tap * g.C, bm, 8));
                    ++cases;
                  }
              }
            }
  CHECK(cases > 1000);
}

TEST_CASE("im2col TMA map: two channel boxes of one tap (BK = C / 2)") {
  Geometry g{1, 6, 6, 16, 3, 1, 1, 1};
  Im2colTmaShape shape;
  shape.kernel = 3;
  shape.pad = 1;
  shape.bm = 32;
  shape.bk = 8;
  shape.channels = 16;
  REQUIRE(im2colTmaObstacle(shape) == "");
  ir::Im2colMapInfo m = im2colTensorMap(shape);
  for (int colStart = 0; colStart < 9 * 16; colStart += 8)
    CHECK(loweredTile(g, m, 32, colStart) == definedTile(g, 32, colStart, 32, 8));
}

TEST_CASE("im2col TMA map: the constraints that keep TMA out, each named") {
  Im2colTmaShape s;
  s.kernel = 3;
  s.pad = 1;
  s.bm = 64;
  s.bk = 64;
  s.elemBytes = 2;
  s.channels = 64;
  CHECK(im2colTmaObstacle(s) == "");
  auto with = [&](auto change) {
    Im2colTmaShape t = s;
    change(t);
    return im2colTmaObstacle(t);
  };
  CHECK(with([](Im2colTmaShape& t) { t.bk = 36; t.channels = 72; }) ==
        "the column tile's rows are 72 bytes; TMA's im2col mode loads channels in multiples of 16 bytes");
  CHECK(with([](Im2colTmaShape& t) { t.bk = 512; t.channels = 512; }) ==
        "BK = 512 channels per pixel; TMA's im2col mode loads at most 256");
  CHECK(with([](Im2colTmaShape& t) { t.bm = 2048; }) == "BM = 2048 pixels per load; TMA's im2col mode loads at most 1024");
  CHECK(with([](Im2colTmaShape& t) { t.channels = 40; }) ==
        "C = 40 is not a multiple of BK = 64, so a tile's columns would span two filter taps (TMA's im2col mode loads "
        "one tap per copy)");
  CHECK(with([](Im2colTmaShape& t) { t.channels = std::nullopt; }) == "");  // an assumption of the fast variant
  CHECK(with([](Im2colTmaShape& t) { t.stride = 9; }) == "the stride 9 exceeds 8, TMA's largest traversal stride");
  CHECK(with([](Im2colTmaShape& t) { t.kernel = 33; t.dilation = 8; }) ==
        "the filter's last tap is 256 pixels from its base (D*(K-1)); im2col offsets of a 4-D tensor go up to 255");
  CHECK(with([](Im2colTmaShape& t) { t.pad = 129; }) ==
        "the padding 129 exceeds 128 (the bounding box's lower corner -P of a 4-D tensor is at least -128)");
  CHECK(with([](Im2colTmaShape& t) { t.kernel = 65; t.dilation = 3; t.pad = 0; }) ==
        "the bounding box's upper corner P - D*(K-1) = -192 is outside [-128, 127] (a 4-D tensor's range)");
}
