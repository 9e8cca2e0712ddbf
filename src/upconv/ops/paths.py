"""Which path computes a convolution: the rules that choose a compiled kernel, and their tuning constants.

im2col + one GEMM per group (:func:`matmul`) is the general path of :mod:`upconv.ops.correlation`; compiled
kernels take the shapes where they measured faster: direct loops for one or two channels per group, and
float32 vector kernels (register blocks of 8-lane vectors) for few channels.  Each rule and constant
says what it decides and why; the measurements behind the numbers are in ``benchmarks/README.md``
(*Transposed convolution*, *Vector kernels and convolution*, *Where each path is taken*).  The engines
read the constants from this module when they run (``paths.NAME``), so setting one here changes every
path that uses it.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from upconv.shapes import ConvGeometry, ceil_div, zero_insertion_geometry

# Bytes of one im2col block (forward and weight gradient); larger batches are processed in chunks.
BLOCK_BYTES = 64 * 2**20
# Largest im2col matrix a layer keeps from its forward pass for its weight gradient.
KEEP_COLS_BYTES = 256 * 2**20
# Below this many kernel stamps (or im2col elements, or outputs) starting the threaded compiled kernels
# costs more than they save over NumPy.
COMPILED_MIN_SIZE = 2**16
# Up to this many input channels per group (conv_transpose) or output channels per group (conv) the
# compiled kernels compute directly: a GEMM with so few rows or columns is mostly reading its operands.
DIRECT_MAX_CHANNELS = 2
# Output channels per register block of the float32 vector kernels (fixed by the kernels).
SIMD_BLOCK = 4
# Single-thread speeds of the vector kernels and of the padded copy: parallel_for's cost estimates.
SIMD_FLOPS_PER_NS = 80
# A low estimate of the direct kernels' single-thread speed: jobs it puts under the pool's threshold run inline.
DIRECT_FLOPS_PER_NS = 10
# Tiles of the fixed-order matrix product (matmul): parallel_for's items; and a low estimate of its speed.
GEMM_ROWS = 168
GEMM_COLS = 512
GEMM_FLOPS_PER_NS = 40
# Products with fewer columns than this (and more rows) are computed transposed, vectors along the rows: a
# register block is two vectors of 8 to 16 columns wide.
GEMM_NARROW = 32
COPY_ELEMENTS_PER_NS = 3
# Where the vector convolution beats im2col + GEMM (OpenBLAS runs matrices with few rows at a fraction of
# its rate): output channels per group, channel pairs C_in/g * C_out/g, and output rows long enough to
# fill the blocks of 24 outputs.
SIMD_MAX_CHANNELS = 128
SIMD_MAX_PRODUCT = 16384
SIMD_MIN_WIDTH = 24
# (input channel, tap) entries per chunk of the transposed vector kernel's reduction: the channel blocks
# read a chunk's input from L2; smaller (L1-sized) chunks only added read-backs of the output.
CHUNK = 2048
# The transposed vector kernel's items are whole inputs (n, g) that pad their own input while it is in
# cache, when there are this many per thread (to balance the threads) and one fits in half of L2.
FUSED_ITEMS_PER_THREAD = 4
FUSED_MAX_BYTES = 512 * 2**10
# Results of at least this many bytes the transposed vector kernel stores past the caches (stride 2 along
# the last axis, rows of whole cache lines): they would not stay in cache, and streaming skips reading them.
STREAM_MIN_BYTES = 4 * 2**20
# conv_transpose's phase method as one sub-pixel GEMM beats scatter below this many input channels per
# group (scatter's GEMM is already wide there; 256 with the numba kernels, 128 since the C kernels:
# benchmarks/README.md, "Small calls") and from this many GEMM rows s**n * C_out/g.
PHASE_MAX_IN_CHANNELS = 128
PHASE_MIN_ROWS = 64
# ... and while its input's padding does not dominate (a 1x1 input with k4 s1, a DCGAN generator's first
# layer, gives phase 16 times scatter's columns: benchmarks/README.md, "Small calls").
PHASE_MAX_BORDER = 2.0


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` for ``a (G, M, K)`` and ``b (G, K, N)``, each element summed over ``k`` in order.

    Every GEMM of the convolution engines runs here, on the compiled
    fixed-order product (:func:`upconv.kernels.convolution.gemm`) rather than
    BLAS, whose rounding of an element depends on the matrix around it:
    element ``[g, m, n]`` is ``a[g, m, 0] * b[g, 0, n] + a[g, m, 1] *
    b[g, 1, n] + ...``, one multiply-add after another from zero, whatever
    ``M``, ``N`` and the threads, so that a convolution's outputs do not
    depend on the batch size or on which part of the image is computed (the
    chunks of :mod:`upconv.ops.chunked`).  ``a`` may be a transposed view of
    a contiguous array; ``out``, a C-contiguous ``(G, M, N)`` array,
    receives the product.  Speed beside NumPy's BLAS:
    ``benchmarks/README.md``, *The fixed-order GEMM*.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.ops.paths import matmul
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.random((1, 40, 300)), rng.random((1, 300, 50))
    >>> bool(np.allclose(matmul(a, b), a @ b))
    True
    >>> bool((matmul(a[:, 3:9], b[:, :, 7:8]) == matmul(a, b)[:, 3:9, 7:8]).all())  # any part: the same bits
    True
    """
    from upconv.kernels import convolution as nk
    from upconv.kernels.parallel import parallel_for

    G, M, K = a.shape
    N = b.shape[2]
    if out is None:
        out = np.empty((G, M, N), dtype=a.dtype)
    if N < GEMM_NARROW and M > N:  # (b.T @ a.T).T: the same sums, with vectors along the M rows
        out[...] = matmul(b.transpose(0, 2, 1), a.transpose(0, 2, 1)).transpose(0, 2, 1)
        return out
    transposed = not a.flags.c_contiguous and a.transpose(0, 2, 1).flags.c_contiguous
    a = a.transpose(0, 2, 1) if transposed else np.ascontiguousarray(a)
    items = G * ceil_div(M, GEMM_ROWS) * ceil_div(N, GEMM_COLS)
    parallel_for(nk.gemm, items, a, np.ascontiguousarray(b), out, transposed, GEMM_ROWS, GEMM_COLS,
                 cost_ns=2 * G * M * N * K / GEMM_FLOPS_PER_NS)
    return out


def use_direct_conv(g: ConvGeometry, co_g: int, work: int) -> bool:
    """Whether the compiled direct kernels compute a convolution (and its weight gradient): up to 3 axes.

    With one or two output channels per group a GEMM would read the im2col
    matrix (``C_in/g * prod(k)`` times the input) for one or two multiply-adds
    per element; ``work`` is the multiply-adds of the whole call.  Small calls
    too: on the calling thread the kernel costs less than building an im2col
    matrix and calling the GEMM (a 1x1x4x4 conv: 55 -> 30 us).
    """
    return g.ndim <= 3 and co_g <= DIRECT_MAX_CHANNELS


@dataclass(frozen=True)
class Route:
    """The size-dependent choices of one whole-array call, for its chunks to repeat (:mod:`upconv.ops.chunked`).

    A chunk of a Dask array is smaller than the whole, and the rules below choose by size; a chunk that
    follows the whole array's route sums every output as the whole-array call does (every engine's sums
    are independent of the extent: the compiled kernels, and the GEMMs through :func:`matmul`), so the
    chunked result is bit for bit the in-memory one.  None leaves a choice to the rule.
    """

    method: str | None = None  # conv_transpose's method (for "auto")
    simd_conv: bool | None = None  # use_simd_conv: every correlation of the call
    simd_transpose: bool | None = None  # use_simd_transpose: the phase method's vector kernel


_ROUTE: contextvars.ContextVar[Route | None] = contextvars.ContextVar("upconv_route", default=None)


@contextlib.contextmanager
def following(route: Route) -> Iterator[None]:
    """Within the block, the operators take the choices of ``route`` (a chunk's computation, on its thread)."""
    token = _ROUTE.set(route)
    try:
        yield
    finally:
        _ROUTE.reset(token)


def conv_route(x: np.ndarray, g: ConvGeometry, groups: int, c_out: int) -> Route:
    """The route of ``conv`` on ``x`` (its shape and dtype) with geometry ``g``."""
    return Route(simd_conv=use_simd_conv(x, g, x.shape[1] // groups, c_out // groups))


def conv_transpose_route(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int, method: str) -> Route:
    """The route of ``conv_transpose`` on ``y`` (its shape and dtype) by ``method`` (``"auto"`` resolved)."""
    if method == "auto":
        method = auto_method(y, w, g, groups)
    ci_g, co_g = y.shape[1] // groups, w.shape[1]
    simd_conv = None
    if method == "phase":  # the correlations per residue class read y and give g.out_size
        simd_conv = use_simd_conv(y, g, ci_g, co_g)
    elif method == "zero_insertion":  # one correlation of the zero-inserted input
        gz = zero_insertion_geometry(g)
        z = np.broadcast_to(np.zeros((), y.dtype), y.shape[:2] + gz.in_size)
        simd_conv = use_simd_conv(z, gz, ci_g, co_g)
    return Route(method, simd_conv, use_simd_transpose(y, g, ci_g, co_g) if method == "phase" else None)


def use_simd_conv(x: np.ndarray, g: ConvGeometry, ci_g: int, co_g: int) -> bool:
    """Whether the float32 vector kernels compute a convolution and its weight gradient (up to 3 axes).

    They keep blocks of 4 output channels x 24 outputs in registers, and win
    while the channels are few (OpenBLAS is slow on few rows) and the output
    rows fill the blocks.
    """
    route = _ROUTE.get()
    if route is not None and route.simd_conv is not None:
        return route.simd_conv
    return (x.dtype == np.float32 and g.ndim <= 3 and g.out_size[-1] >= SIMD_MIN_WIDTH
            and DIRECT_MAX_CHANNELS < co_g <= SIMD_MAX_CHANNELS and ci_g * co_g <= SIMD_MAX_PRODUCT
            and x.shape[0] * co_g * math.prod(g.out_size) >= COMPILED_MIN_SIZE)


def use_simd_transpose(y: np.ndarray, g: ConvGeometry, ci_g: int, co_g: int) -> bool:
    """Whether the float32 vector kernel computes a transposed convolution (the phase view, up to 3 axes).

    It loses where ``k == s`` (scatter's overlap-add is then a plain
    interleave), with one or two input channels per group (direct stamping)
    and with fewer than 4 output channels per group (its blocks of 4 run
    partly empty); otherwise it wins while the channel pairs ``C_in/g *
    C_out/g`` are few for the positions ``N * prod(in_size)``.
    """
    route = _ROUTE.get()
    if route is not None and route.simd_transpose is not None:
        return route.simd_transpose
    if (y.dtype != np.float32 or g.ndim > 3 or g.kernel_size == g.stride or ci_g <= DIRECT_MAX_CHANNELS
            or not (co_g == SIMD_BLOCK or co_g >= 2 * SIMD_BLOCK)
            or y.shape[0] * co_g * math.prod(g.in_size) < COMPILED_MIN_SIZE):
        return False
    channels, positions = ci_g * co_g, math.prod(y.shape[:1] + y.shape[2:])
    if g.ndim > 1:
        # (with the numba kernels, 2-d even-overlap layers up to 32768 channel pairs took it too: workload a;
        # the C kernels' GEMM path (scatter) is faster there: benchmarks/README.md, "Compiled at install")
        return channels <= 4096 or (positions >= 4096 and (channels <= 16384 or (ci_g <= 128 and co_g <= 256)))
    # 1-d: beyond 64 channel pairs a residue class must fill a block of outputs by itself (no rows below)
    return channels <= 64 or (ceil_div(g.in_size[-1], g.stride[-1]) >= SIMD_MIN_WIDTH
                              and (channels <= 16384 or (positions >= 8192 and ci_g <= 256 and co_g <= 256)))


def auto_method(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> str:
    """``conv_transpose(method="auto")``: ``"phase"`` where a vector kernel or sub-pixel GEMM wins, else ``"scatter"``.

    Scatter is a GEMM over ``C_in/g`` plus an overlap-add of a stamp matrix
    ``k**n / s**n`` times the output; with ``k % s == 0`` and ``d == 1`` phase
    is one GEMM over ``C_in/g * (k/s)**n`` plus an interleave.  Phase wins
    unless scatter's GEMM is already wide, the two are the same (``k == s``),
    phase's GEMM has few rows, or scatter stamps directly (few input channels).
    """
    route = _ROUTE.get()
    if route is not None and route.method is not None:
        return route.method
    subpixel = all(d == 1 and k % s == 0 for k, s, d in zip(g.kernel_size, g.stride, g.dilation, strict=True))
    ci_g, co_g = y.shape[1] // groups, w.shape[1]
    if use_simd_transpose(y, g, ci_g, co_g):
        return "phase"
    overlap = g.kernel_size != g.stride
    if (subpixel and overlap and DIRECT_MAX_CHANNELS < ci_g < PHASE_MAX_IN_CHANNELS
            and math.prod(g.stride) * co_g >= PHASE_MIN_ROWS and _phase_border(g) <= PHASE_MAX_BORDER):
        return "phase"
    return "scatter"


def _phase_border(g: ConvGeometry) -> float:
    """How many times more columns phase's GEMM has than scatter's: each image padded by ``k/s - 1``."""
    return math.prod((m + k // s - 1) / m for m, k, s in zip(g.out_size, g.kernel_size, g.stride, strict=True))


def input_gradient_method(gy: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> str:
    """The ``conv_transpose`` method of conv's input gradient, for the conv weight ``w (C_out, C_in/g, *k)``.

    Strided: ``"phase"``, dense correlations without products with inserted
    zeros.  Stride 1: ``"zero_insertion"``, one correlation with the flipped
    kernel (nothing to insert), unless the convolution widens channels more
    than twice and the vector kernels (which read ``gy`` in place) do not
    take it: then ``"scatter"``, whose GEMM and overlap-add cover the narrow
    input's channels where zero insertion copies the wide ``gy``'s im2col.
    """
    if all(s == 1 for s in g.stride):
        vector = use_simd_conv(gy, zero_insertion_geometry(g), w.shape[0] // groups, w.shape[1])
        return "scatter" if w.shape[0] // groups > 2 * w.shape[1] and not vector else "zero_insertion"
    return "phase"
