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
