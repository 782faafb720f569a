"""triton_kernels.py: the Triton kernels tlc is compared with, written for this suite.

Imported by peers.py only when Triton imports. Each kernel does exactly the job of
the tlc kernel in its row (same layout, same dtype, same bytes moved):
  copy2d            B = A for a row-strided M x N matrix (tile copy, strided compact)
  transpose2d       At = A^T through a BM x BN tile (Triton stages it in shared memory)
  im2col_nhwc       the column matrix of an NHWC image; the taps of one pixel block are
                    adjacent in the grid, so they share the image in L2 (the best order
                    in peer-baselines.md: 94% against 55% for pixels-first)
  batch_sum         C = sum over k of A[k] (fp16 in, fp32 accumulate and out)
  axpy              C = A + alpha * B
  scale             q = s * p
  twice             B = 2 A and C = 3 A in one pass
  softmax_rows      Y = softmax(X) per row, one row per program (BLOCK >= N), fp32 math
  rmsnorm_rows      Y = X rsqrt(mean X^2 + eps) W, one row per program
  layernorm_rows    Y = (X - mean) rstd W + B, one row per program (two-pass in registers)
  fp8_quant_rows    S = max(amax, 1e-4) / 448, Q = e4m3(X / S), one row per program
  col_sum           S += column sums of a (BM * steps, BN) block, one atomic per column
  bias_gelu         Y = gelu_tanh(X + B) (tanh as 1 - 2 / (e^2z + 1))
Offsets are int32: every tensor here has fewer than 2^31 elements (peers.py checks).
"""
import triton
import triton.language as tl


@triton.jit
def copy2d(src, dst, M, N, stride_src, stride_dst, BM: tl.constexpr, BN: tl.constexpr):
    rows = tl.program_id(1) * BM + tl.arange(0, BM)[:, None]
    cols = tl.program_id(0) * BN + tl.arange(0, BN)[None, :]
    inside = (rows < M) & (cols < N)
    tile = tl.load(src + rows * stride_src + cols, mask=inside)
    tl.store(dst + rows * stride_dst + cols, tile, mask=inside)


@triton.jit
def transpose2d(src, dst, M, N, BM: tl.constexpr, BN: tl.constexpr):
    rows = tl.program_id(1) * BM + tl.arange(0, BM)
    cols = tl.program_id(0) * BN + tl.arange(0, BN)
    tile = tl.load(src + rows[:, None] * N + cols[None, :], mask=(rows[:, None] < M) & (cols[None, :] < N))
    tl.store(dst + cols[:, None] * M + rows[None, :], tl.trans(tile),
             mask=(cols[:, None] < N) & (rows[None, :] < M))


@triton.jit
def im2col_nhwc(img, col, NB, H, W, C, OH, OW,
                KW: tl.constexpr, S: tl.constexpr, D: tl.constexpr, P: tl.constexpr,
                BP: tl.constexpr, BC: tl.constexpr):
    # One program: BP output pixels x BC channels of one tap. Program ids run
    # channel block fastest, then tap, then pixel block.
    pid = tl.program_id(0)
    channel_blocks = tl.cdiv(C, BC)
    per_pixel_block = KW * KW * channel_blocks
    pixel_block = pid // per_pixel_block
    rest = pid % per_pixel_block
    tap = rest // channel_blocks
    kh = tap // KW
    kw = tap % KW
    pixels = pixel_block * BP + tl.arange(0, BP)
    channels = (rest % channel_blocks) * BC + tl.arange(0, BC)
    n = pixels // (OH * OW)
    within = pixels % (OH * OW)
    ih = (within // OW) * S - P + kh * D
    iw = (within % OW) * S - P + kw * D
    real = pixels < NB * OH * OW
    inside = real & (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
    channel_ok = channels[None, :] < C
    values = tl.load(img + (((n * H + ih) * W + iw) * C)[:, None] + channels[None, :],
                     mask=inside[:, None] & channel_ok, other=0.0)
    tl.store(col + (pixels * (KW * KW * C))[:, None] + (tap * C + channels)[None, :], values,
             mask=real[:, None] & channel_ok)


@triton.jit
def batch_sum(a, c, K, MN, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    inside = offsets < MN
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for k in range(K):
        acc += tl.load(a + k * MN + offsets, mask=inside, other=0.0).to(tl.float32)
    tl.store(c + offsets, acc, mask=inside)


@triton.jit
def axpy(a, b, c, n, alpha, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    inside = offsets < n
    x = tl.load(a + offsets, mask=inside)
    y = tl.load(b + offsets, mask=inside)
    tl.store(c + offsets, x + alpha * y, mask=inside)


@triton.jit
def scale(p, q, n, s, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    inside = offsets < n
    tl.store(q + offsets, tl.load(p + offsets, mask=inside) * s, mask=inside)


@triton.jit
def twice(a, b, c, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    inside = offsets < n
    x = tl.load(a + offsets, mask=inside)
    tl.store(b + offsets, x * 2.0, mask=inside)
    tl.store(c + offsets, x * 3.0, mask=inside)


@triton.jit
def softmax_rows(x, y, N, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    inside = cols < N
    v = tl.load(x + row * N + cols, mask=inside, other=-float("inf")).to(tl.float32)
    e = tl.exp(v - tl.max(v, axis=0))
    tl.store(y + row * N + cols, (e / tl.sum(e, axis=0)).to(tl.float16), mask=inside)


@triton.jit
def rmsnorm_rows(x, w, y, N, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    inside = cols < N
    v = tl.load(x + row * N + cols, mask=inside, other=0.0).to(tl.float32)
    r = 1.0 / tl.sqrt(tl.sum(v * v, axis=0) / N + eps)
    g = tl.load(w + cols, mask=inside, other=0.0).to(tl.float32)
    tl.store(y + row * N + cols, (v * r * g).to(tl.float16), mask=inside)


@triton.jit
def layernorm_rows(x, w, b, y, N, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    inside = cols < N
    v = tl.load(x + row * N + cols, mask=inside, other=0.0).to(tl.float32)
    mean = tl.sum(v, axis=0) / N
    d = tl.where(inside, v - mean, 0.0)
    rstd = 1.0 / tl.sqrt(tl.sum(d * d, axis=0) / N + eps)
    g = tl.load(w + cols, mask=inside, other=0.0).to(tl.float32)
    h = tl.load(b + cols, mask=inside, other=0.0).to(tl.float32)
    tl.store(y + row * N + cols, (d * rstd * g + h).to(tl.float16), mask=inside)


@triton.jit
def fp8_quant_rows(x, q, s, N, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    inside = cols < N
    v = tl.load(x + row * N + cols, mask=inside, other=0.0).to(tl.float32)
    scale = tl.maximum(tl.max(tl.abs(v), axis=0), 1e-4) / 448.0
    tl.store(s + row, scale)
    tl.store(q + row * N + cols, (v / scale).to(tl.float8e4nv, fp_downcast_rounding="rtne"), mask=inside)


@triton.jit
def col_sum(x, s, M, N, BM: tl.constexpr, BN: tl.constexpr, STEPS: tl.constexpr):
    cols = tl.program_id(0) * BN + tl.arange(0, BN)
    first = tl.program_id(1) * BM * STEPS
    acc = tl.zeros((BN,), dtype=tl.float32)
    for step in range(STEPS):
        rows = first + step * BM + tl.arange(0, BM)
        tile = tl.load(x + rows[:, None] * N + cols[None, :], mask=(rows[:, None] < M) & (cols[None, :] < N),
                       other=0.0)
        acc += tl.sum(tile.to(tl.float32), axis=0)
    tl.atomic_add(s + cols, acc, mask=cols < N, sem="relaxed")


@triton.jit
def bias_gelu(x, b, y, M, N, BM: tl.constexpr, BN: tl.constexpr):
    rows = tl.program_id(1) * BM + tl.arange(0, BM)
    cols = tl.program_id(0) * BN + tl.arange(0, BN)
    inside = (rows[:, None] < M) & (cols[None, :] < N)
    v = tl.load(x + rows[:, None] * N + cols[None, :], mask=inside, other=0.0).to(tl.float32)
    v += tl.load(b + cols, mask=cols < N, other=0.0).to(tl.float32)[None, :]
    z = 0.7978845608028654 * (v + 0.044715 * v * v * v)
    t = 1.0 - 2.0 / (tl.exp(2.0 * z) + 1.0)
    tl.store(y + rows[:, None] * N + cols[None, :], (0.5 * v * (1.0 + t)).to(tl.float16), mask=inside)
