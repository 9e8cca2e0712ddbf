"""The convolution ``C`` and its transpose ``Cᵀ`` as operators for the deconvolution solvers, three ways.

Every engine gives the same values (to rounding): :class:`UpconvOperator`
(:func:`upconv.conv` and :func:`upconv.conv_transpose`, im2col + GEMM, any
stride), :class:`NdimageOperator` (direct correlation with
:mod:`scipy.ndimage`, axis by axis for separable kernels; stride 1) and
:class:`FFTOperator` (FFT on a circle long enough that nothing wraps around;
stride 1).  :func:`make_operator` picks the cheapest by a cost model
(:func:`engine_costs`).  Also the smoothness prior's forward differences.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.ops.convolution import conv, conv_transpose
from upconv.ops.correlation import pad
from upconv.shapes import ConvGeometry

__all__ = ["Operator", "UpconvOperator", "NdimageOperator", "FFTOperator", "OPERATORS", "engine_costs",
           "make_operator", "kernel_spectrum", "differences", "differences_adjoint"]


# --------------------------------------------------------------------------
# the convolution C and its transpose, three ways (all give the same values)


def _dilated(w: np.ndarray, dilation: Sequence[int]) -> np.ndarray:
    """The kernel with ``d - 1`` zeros between taps: a dense kernel of the effective size."""
    if all(d == 1 for d in dilation):
        return w
    ek = tuple(map(shapes.effective_kernel_size, w.shape[2:], dilation))
    out = np.zeros(w.shape[:2] + ek, dtype=w.dtype)
    out[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in dilation)] = w
    return out


class Operator:
    """``forward``: conv ``(N, C_in, *g.in_size) -> (N, C_out, *g.out_size)``; ``adjoint``: its transpose."""

    name = ""

    def __init__(self, w: np.ndarray, g: ConvGeometry, groups: int):
        self.w, self.g, self.groups = w, g, groups
        self.c_out, self.ci_g = w.shape[0], w.shape[1]
        self.co_g = self.c_out // groups
        self.c_in = self.ci_g * groups

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def adjoint(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class UpconvOperator(Operator):
    """:func:`upconv.conv` and :func:`upconv.conv_transpose` (im2col + GEMM; any stride)."""

    name = "upconv"

    def forward(self, x: np.ndarray) -> np.ndarray:
        g = self.g
        return conv(x, self.w, stride=g.stride, padding=g.padding, dilation=g.dilation, groups=self.groups)

    def adjoint(self, y: np.ndarray) -> np.ndarray:
        g = self.g
        return conv_transpose(y, self.w, stride=g.stride, padding=g.padding, groups=self.groups,
                              dilation=g.dilation, output_size=g.in_size)


def _rank_one_factors(k: np.ndarray) -> list[np.ndarray] | None:
    """1-d factors whose outer product is ``k`` (a separable kernel), or None."""
    if k.ndim == 1:
        return [k]
    m = np.unravel_index(np.argmax(np.abs(k)), k.shape)
    pivot = k[m]
    if pivot == 0:
        return None
    factors = [k[m[:a] + (slice(None),) + m[a + 1:]] for a in range(k.ndim)]
    factors[0] = factors[0] / pivot ** (k.ndim - 1)
    approx = factors[0]
    for f in factors[1:]:
        approx = np.multiply.outer(approx, f)
    if np.max(np.abs(approx - k)) > 64 * np.finfo(k.dtype).eps * abs(pivot):
        return None
    return factors


class NdimageOperator(Operator):
    """Stride 1: direct correlation per channel pair with :mod:`scipy.ndimage` (separable kernels axis by axis)."""

    name = "ndimage"

    def __init__(self, w: np.ndarray, g: ConvGeometry, groups: int):
        super().__init__(w, g, groups)
        kd = _dilated(w, g.dilation)
        self.ek = kd.shape[2:]
        self.kernels = [[kd[co, ci] for ci in range(self.ci_g)] for co in range(self.c_out)]
        factors = [[_rank_one_factors(k) for k in row] for row in self.kernels]
        separable = all(f is not None for row in factors for f in row)
        self.factors = cast("list[list[list[np.ndarray]]]", factors) if separable else None  # no None left
        self.padded = shapes.fft_conv_size(g.in_size, g.padding, fast=False)

    def _correlate(self, a: np.ndarray, co: int, ci: int, flip: bool) -> np.ndarray:
        from scipy import ndimage

        if self.factors is not None:
            for axis, f in enumerate(self.factors[co][ci]):
                m = f.shape[0]
                origin = (m - 1) // 2 if flip else -(m // 2)
                a = ndimage.correlate1d(a, f[::-1] if flip else f, axis=axis, mode="constant", origin=origin)
            return a
        k = self.kernels[co][ci]
        origin = [(m - 1) // 2 if flip else -(m // 2) for m in k.shape]
        return ndimage.correlate(a, np.flip(k) if flip else k, mode="constant", origin=origin)

    def forward(self, x: np.ndarray) -> np.ndarray:
        g = self.g
        xp = pad(x, g.padding)
        out = np.zeros((x.shape[0], self.c_out) + g.out_size, dtype=x.dtype)
        crop = tuple(slice(0, o) for o in g.out_size)
        for n in range(x.shape[0]):
            for co in range(self.c_out):
                base = (co // self.co_g) * self.ci_g
                for ci in range(self.ci_g):
                    out[n, co] += self._correlate(xp[n, base + ci], co, ci, flip=False)[crop]
        return out

    def adjoint(self, y: np.ndarray) -> np.ndarray:
        g = self.g
        yp = pad(y, tuple((0, p - o) for p, o in zip(self.padded, g.out_size, strict=False)))
        acc = np.zeros((y.shape[0], self.c_in) + self.padded, dtype=y.dtype)
        for n in range(y.shape[0]):
            for co in range(self.c_out):
                base = (co // self.co_g) * self.ci_g
                for ci in range(self.ci_g):
                    acc[n, base + ci] += self._correlate(yp[n, co], co, ci, flip=True)
        crop = tuple(slice(b, b + i) for i, (b, _) in zip(g.in_size, g.padding, strict=False))
        return acc[(slice(None), slice(None)) + crop]


def kernel_spectrum(w: np.ndarray, g: ConvGeometry, L: Sequence[int]) -> np.ndarray:
    """``rfftn`` of the dilated kernel placed on a length-``L`` circle with tap ``t`` at ``t - p_begin``."""
    from scipy import fft

    kd = _dilated(w, g.dilation)
    n = g.ndim
    kp = np.zeros(kd.shape[:2] + tuple(L), dtype=kd.dtype)
    # tap t lands at (t - p_begin) mod L; taps that meet on a short circle add up
    where = np.ix_(*[(np.arange(e) - b) % length
                     for e, (b, _), length in zip(kd.shape[2:], g.padding, L, strict=False)])
    np.add.at(kp, (slice(None), slice(None)) + where, kd)  # type: ignore[arg-type]  # numpy's stubs refuse slices
    return fft.rfftn(kp, axes=tuple(range(2, 2 + n)))


def _mix(X: np.ndarray, K: np.ndarray, Kc: np.ndarray, groups: int, adjoint: bool) -> np.ndarray:
    """Channel mixing in the Fourier domain: ``Y[n, co] = sum_ci conj(K[co, ci]) X[n, ci]``
    (forward, ``Kc = conj(K)``) or ``X[n, ci] = sum_co K[co, ci] Y[n, co]`` (adjoint), per group.
    ``X`` is a scratch array (overwritten when possible)."""
    c_out, ci_g = K.shape[:2]
    co_g = c_out // groups
    if ci_g == 1 and co_g == 1:  # one kernel per channel: an element-wise product, in place
        X *= (K if adjoint else Kc)[:, 0]
        return X
    N, F = X.shape[0], X.shape[2:]
    if adjoint:
        out = np.einsum("ngo...,goi...->ngi...", X.reshape((N, groups, co_g) + F), K.reshape((groups, co_g, ci_g) + F))
        return out.reshape((N, groups * ci_g) + F)
    out = np.einsum("ngi...,goi...->ngo...", X.reshape((N, groups, ci_g) + F), Kc.reshape((groups, co_g, ci_g) + F))
    return out.reshape((N, c_out) + F)


class FFTOperator(Operator):
    """Stride 1: circular correlation on a circle long enough that nothing wraps around (exact zero padding)."""

    name = "fft"

    def __init__(self, w: np.ndarray, g: ConvGeometry, groups: int):
        super().__init__(w, g, groups)
        self.L = shapes.fft_conv_size(g.in_size, g.padding)
        spectrum = self.L[:-1] + (self.L[-1] // 2 + 1,)
        v.check_allocation(w.shape[:2] + spectrum, np.result_type(w.dtype, np.complex64), "deconvolve",
                           "the kernel spectrum")
        self.K = kernel_spectrum(w, g, self.L)
        self.Kc = np.conj(self.K)
        self.axes = tuple(range(2, 2 + g.ndim))

    def forward(self, x: np.ndarray) -> np.ndarray:
        from scipy import fft

        Y = _mix(fft.rfftn(x, s=self.L, axes=self.axes), self.K, self.Kc, self.groups, adjoint=False)
        y = fft.irfftn(Y, s=self.L, axes=self.axes)
        return y[(slice(None), slice(None)) + tuple(slice(0, o) for o in self.g.out_size)]

    def adjoint(self, y: np.ndarray) -> np.ndarray:
        from scipy import fft

        X = _mix(fft.rfftn(y, s=self.L, axes=self.axes), self.K, self.Kc, self.groups, adjoint=True)
        x = fft.irfftn(X, s=self.L, axes=self.axes)
        return x[(slice(None), slice(None)) + tuple(slice(0, i) for i in self.g.in_size)]


#: The operator class of each engine (``deconvolve(engine=...)``, ``"auto"`` aside).
OPERATORS: dict[str, type[Operator]] = {"upconv": UpconvOperator, "ndimage": NdimageOperator, "fft": FFTOperator}


def engine_costs(w: np.ndarray, g: ConvGeometry, groups: int, N: int) -> dict[str, float]:
    """Rough cost (ns) of one forward application with each engine (fitted on one core, 128² to 512²).

    ``"upconv"``: im2col copy + GEMM; ``"ndimage"``: per channel pair, a
    pass per axis over ``Σ ek`` taps (separable) or one pass over the
    non-zero taps (scipy.ndimage skips zero weights); ``"fft"``: one
    transform per input and output channel plus the spectral products.
    """
    c_out, ci_g = w.shape[:2]
    c_in = ci_g * groups
    pairs = N * c_out * ci_g
    ek = g.effective_kernel_size
    K = math.prod(ek)
    out = math.prod(g.out_size)
    costs = {"upconv": N * c_in * out * K * 4.0 + pairs * out * K * 0.05}
    if all(s == 1 for s in g.stride):
        P = math.prod(shapes.fft_conv_size(g.in_size, g.padding, fast=False))
        kd = _dilated(w, g.dilation)
        separable = all(_rank_one_factors(kd[co, ci]) is not None for co in range(c_out) for ci in range(ci_g))
        if separable:
            costs["ndimage"] = pairs * P * (0.3 * sum(ek) + 2.0 * g.ndim)
        else:
            costs["ndimage"] = N * P * 0.8 * int(np.count_nonzero(kd)) + pairs * P * 3.0
        L = math.prod(shapes.fft_conv_size(g.in_size, g.padding))
        costs["fft"] = N * (c_in + c_out) * L * math.log2(max(L, 2)) * 0.28 + pairs * L * 1.0
    return costs


def make_operator(engine: str, w: np.ndarray, g: ConvGeometry, groups: int, N: int) -> Operator:
    """The operator of ``engine`` for the weight ``w`` and batch size ``N``; ``"auto"``: the cheapest."""
    if engine == "auto":
        costs = engine_costs(w, g, groups, N)
        engine = min(costs, key=costs.__getitem__)
    return OPERATORS[engine](w, g, groups)


# --------------------------------------------------------------------------
# smoothness prior: forward differences along every spatial axis


def differences(x: np.ndarray) -> list[np.ndarray]:
    """``D x``: the forward differences of ``(N, C, *spatial)`` along every spatial axis."""
    return [np.diff(x, axis=a) for a in range(2, x.ndim)]


def differences_adjoint(parts: Sequence[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """``Dᵀ g``: minus the divergence, ``(Dᵀg)[i] = g[i-1] - g[i]`` with ``g`` zero outside."""
    out = np.zeros(shape, dtype=parts[0].dtype)
    for a, p in enumerate(parts, start=2):
        lo = [slice(None)] * len(shape)
        hi = [slice(None)] * len(shape)
        lo[a], hi[a] = slice(1, None), slice(0, -1)
        out[tuple(lo)] += p
        out[tuple(hi)] -= p
    return out

