r"""True deconvolution: recover the input of a convolution from its output.

A convolution is a linear map, ``y = C x`` (:func:`upconv.conv`, with its
``stride``, ``padding``, ``dilation`` and ``groups``).  The transposed
convolution (:func:`upconv.conv_transpose`) applies ``Cᵀ``: it maps ``y``
back to the *shape* of ``x``, not to its values (``CᵀC`` is not the
identity).  *Deconvolution* in the mathematical sense inverts ``C``:
given the kernel and ``y`` (possibly noisy), find ``x``.  This module does
that with the same operators:

``"lsqr"``, ``"cg"``
    Tikhonov-regularised least squares on a matrix-free
    :class:`scipy.sparse.linalg.LinearOperator` whose ``matvec`` is the
    convolution and whose ``rmatvec`` is the transposed convolution.  Any
    stride: with ``stride > 1`` this is super-resolution as an inverse
    problem.
``"wiener"``
    The regularised inverse filter in the Fourier domain (stride 1,
    periodic boundary model).
``"richardson_lucy"``
    The multiplicative EM iteration for non-negative data (stride 1); its
    correction step is a transposed convolution.
``"transpose"``
    ``Cᵀ y``, for comparison: the shape is right, the values are not.

:func:`blur_kernel` builds the usual blur kernels (Gaussian, box, motion)
from a short text spec.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.shapes import ConvGeometry

__all__ = ["deconvolve", "blur_kernel", "METHODS", "ENGINES"]

#: The values of ``deconvolve(method=...)``.
METHODS: tuple[str, ...] = ("lsqr", "cg", "wiener", "richardson_lucy", "transpose")
#: The values of ``deconvolve(engine=...)``: how the iterative methods apply ``C`` and ``Cᵀ``.
ENGINES: tuple[str, ...] = ("auto", "upconv", "fft", "ndimage")

_ITERATIVE = ("lsqr", "cg", "richardson_lucy")
_DEFAULT_ITERATIONS = {"lsqr": 100, "cg": 100, "richardson_lucy": 30}
_DEFAULT_TOL = 1e-6
_DEFAULT_BALANCE = 1e-2


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


class _Op:
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


class _UpconvOp(_Op):
    """:func:`upconv.conv` and :func:`upconv.conv_transpose` (im2col + GEMM; any stride)."""

    name = "upconv"

    def forward(self, x):
        from upconv.ops.convolution import conv

        g = self.g
        return conv(x, self.w, stride=g.stride, padding=g.padding, dilation=g.dilation, groups=self.groups)

    def adjoint(self, y):
        from upconv.ops.convolution import conv_transpose

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


class _NdimageOp(_Op):
    """Stride 1: direct correlation per channel pair with :mod:`scipy.ndimage` (separable kernels axis by axis)."""

    name = "ndimage"

    def __init__(self, w, g, groups):
        super().__init__(w, g, groups)
        kd = _dilated(w, g.dilation)
        self.ek = kd.shape[2:]
        self.kernels = [[kd[co, ci] for ci in range(self.ci_g)] for co in range(self.c_out)]
        factors = [[_rank_one_factors(k) for k in row] for row in self.kernels]
        self.factors = factors if all(f is not None for row in factors for f in row) else None
        self.padded = shapes.fft_conv_size(g.in_size, g.padding, fast=False)

    def _correlate(self, a, co, ci, flip):
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

    def forward(self, x):
        from upconv.ops.correlation import pad

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

    def adjoint(self, y):
        from upconv.ops.correlation import pad

        g = self.g
        yp = pad(y, tuple((0, p - o) for p, o in zip(self.padded, g.out_size)))
        acc = np.zeros((y.shape[0], self.c_in) + self.padded, dtype=y.dtype)
        for n in range(y.shape[0]):
            for co in range(self.c_out):
                base = (co // self.co_g) * self.ci_g
                for ci in range(self.ci_g):
                    acc[n, base + ci] += self._correlate(yp[n, co], co, ci, flip=True)
        crop = tuple(slice(b, b + i) for i, (b, _) in zip(g.in_size, g.padding))
        return acc[(slice(None), slice(None)) + crop]


def _kernel_spectrum(w: np.ndarray, g: ConvGeometry, L: Sequence[int]) -> np.ndarray:
    """``rfftn`` of the dilated kernel placed on a length-``L`` circle with tap ``t`` at ``t - p_begin``."""
    from scipy import fft

    kd = _dilated(w, g.dilation)
    n = g.ndim
    kp = np.zeros(kd.shape[:2] + tuple(L), dtype=kd.dtype)
    # tap t lands at (t - p_begin) mod L; taps that meet on a short circle add up
    where = np.ix_(*[(np.arange(e) - b) % length for e, (b, _), length in zip(kd.shape[2:], g.padding, L)])
    np.add.at(kp, (slice(None), slice(None)) + where, kd)
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


class _FFTOp(_Op):
    """Stride 1: circular correlation on a circle long enough that nothing wraps around (exact zero padding)."""

    name = "fft"

    def __init__(self, w, g, groups):
        super().__init__(w, g, groups)
        self.L = shapes.fft_conv_size(g.in_size, g.padding)
        spectrum = self.L[:-1] + (self.L[-1] // 2 + 1,)
        v.check_allocation(w.shape[:2] + spectrum, np.result_type(w.dtype, np.complex64), "deconvolve",
                           "the kernel spectrum")
        self.K = _kernel_spectrum(w, g, self.L)
        self.Kc = np.conj(self.K)
        self.axes = tuple(range(2, 2 + g.ndim))

    def forward(self, x):
        from scipy import fft

        Y = _mix(fft.rfftn(x, s=self.L, axes=self.axes), self.K, self.Kc, self.groups, adjoint=False)
        y = fft.irfftn(Y, s=self.L, axes=self.axes)
        return y[(slice(None), slice(None)) + tuple(slice(0, o) for o in self.g.out_size)]

    def adjoint(self, y):
        from scipy import fft

        X = _mix(fft.rfftn(y, s=self.L, axes=self.axes), self.K, self.Kc, self.groups, adjoint=True)
        x = fft.irfftn(X, s=self.L, axes=self.axes)
        return x[(slice(None), slice(None)) + tuple(slice(0, i) for i in self.g.in_size)]


_OPS = {"upconv": _UpconvOp, "ndimage": _NdimageOp, "fft": _FFTOp}


def _engine_costs(w: np.ndarray, g: ConvGeometry, groups: int, N: int) -> dict[str, float]:
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


def _make_op(engine: str, w: np.ndarray, g: ConvGeometry, groups: int, N: int) -> _Op:
    if engine == "auto":
        costs = _engine_costs(w, g, groups, N)
        engine = min(costs, key=costs.__getitem__)
    return _OPS[engine](w, g, groups)


# --------------------------------------------------------------------------
# smoothness prior: forward differences along every spatial axis


def _grad(x: np.ndarray) -> list[np.ndarray]:
    return [np.diff(x, axis=a) for a in range(2, x.ndim)]


def _grad_adjoint(parts: Sequence[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """``Dᵀ g``: minus the divergence, ``(Dᵀg)[i] = g[i-1] - g[i]`` with ``g`` zero outside."""
    out = np.zeros(shape, dtype=parts[0].dtype)
    for a, p in enumerate(parts, start=2):
        lo = [slice(None)] * len(shape)
        hi = [slice(None)] * len(shape)
        lo[a], hi[a] = slice(1, None), slice(0, -1)
        out[tuple(lo)] += p
        out[tuple(hi)] -= p
    return out


# --------------------------------------------------------------------------
# progress and callbacks


class _Stop(Exception):
    """Raised inside a solver when the callback asks to stop."""


class _Monitor:
    """Calls ``callback(iteration, x)`` and draws a plain-text progress bar on stderr."""

    def __init__(self, label, total, shape, callback, progress, stream=None):
        self.label, self.total, self.shape = label, total, shape
        self.callback, self.progress = callback, progress
        self.stream = sys.stderr if stream is None else stream
        self.start = self.last = time.perf_counter()
        self.drawn = False

    def __call__(self, iteration: int, x: np.ndarray) -> bool:
        """Report iteration ``iteration`` (1-based); True when the callback asks to stop."""
        if self.progress:
            now = time.perf_counter()
            if iteration >= self.total or now - self.last >= 0.1 or not self.drawn:
                self.last = now
                self.draw(iteration, now)
        if self.callback is None:
            return False
        view = x.reshape(self.shape)
        view.flags.writeable = False
        return bool(self.callback(iteration, view))

    def draw(self, iteration: int, now: float) -> None:
        width = 24
        fill = int(width * iteration / self.total)
        self.stream.write(f"\r{self.label} [{'#' * fill}{'.' * (width - fill)}] "
                          f"{iteration}/{self.total}  {now - self.start:.1f} s")
        self.stream.flush()
        self.drawn = True

    def close(self, iteration: int) -> None:
        if self.progress:
            self.draw(iteration, time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()


# --------------------------------------------------------------------------
# the solvers


def _lsqr(A, b: np.ndarray, x0: np.ndarray | None, damp: float, iterations: int, tol: float,
          monitor: _Monitor) -> tuple[np.ndarray, int]:
    """LSQR (Paige & Saunders 1982) for ``min ||A x - b||² + damp² ||x||²``.

    The iteration of :func:`scipy.sparse.linalg.lsqr` (same iterates, same
    ``atol = btol = tol`` stopping tests), in the dtype of ``b``, with a
    per-iteration callback, which scipy's function lacks.
    """
    dtype = b.dtype
    eps = float(np.finfo(dtype).eps)
    n = A.shape[1]
    bnorm = float(np.linalg.norm(b))
    if x0 is None:
        x = np.zeros(n, dtype=dtype)
        u = b.copy()
    else:
        x = x0.astype(dtype, copy=True)
        u = b - A.matvec(x)
    beta = float(np.linalg.norm(u))
    if beta > 0:
        u /= beta
        vv = A.rmatvec(u)
        alfa = float(np.linalg.norm(vv))
    else:
        vv, alfa = np.zeros(n, dtype=dtype), 0.0
    if alfa > 0:
        vv /= alfa
    w = vv.copy()
    rhobar, phibar = alfa, beta
    anorm = res2 = xxnorm = z = sn2 = 0.0
    cs2 = -1.0
    dampsq = damp * damp
    if alfa * beta == 0:
        return x, 0
    itn = 0
    while itn < iterations:
        itn += 1
        u = A.matvec(vv) - alfa * u
        beta = float(np.linalg.norm(u))
        if beta > 0:
            u /= beta
            anorm = math.sqrt(anorm**2 + alfa**2 + beta**2 + dampsq)
            vv = A.rmatvec(u) - beta * vv
            alfa = float(np.linalg.norm(vv))
            if alfa > 0:
                vv /= alfa
        if damp > 0:
            rhobar1 = math.hypot(rhobar, damp)
            cs1, sn1 = rhobar / rhobar1, damp / rhobar1
            psi = sn1 * phibar
            phibar = cs1 * phibar
        else:
            rhobar1, psi = rhobar, 0.0
        rho = math.hypot(rhobar1, beta)
        cs, sn = rhobar1 / rho, beta / rho
        theta = sn * alfa
        rhobar = -cs * alfa
        phi = cs * phibar
        phibar = sn * phibar
        tau = sn * phi
        x += (phi / rho) * w
        w = vv + (-theta / rho) * w
        delta = sn2 * rho
        gambar = -cs2 * rho
        rhs = phi - delta * z
        zbar = rhs / gambar
        xnorm = math.sqrt(xxnorm + zbar**2)
        gamma = math.hypot(gambar, theta)
        cs2, sn2 = gambar / gamma, theta / gamma
        z = rhs / gamma
        xxnorm += z * z
        res2 += psi * psi
        rnorm = math.sqrt(phibar**2 + res2)
        arnorm = alfa * abs(tau)
        test1 = rnorm / bnorm
        test2 = arnorm / (anorm * rnorm + eps)
        rtol = tol + tol * anorm * xnorm / bnorm
        if monitor(itn, x):
            break
        if test1 <= rtol or test2 <= tol or 1 + test2 <= 1 or 1 + test1 / (1 + anorm * xnorm / bnorm) <= 1:
            break
    return x, itn


def _cg(A, b: np.ndarray, x0: np.ndarray | None, iterations: int, tol: float,
        monitor: _Monitor) -> tuple[np.ndarray, int]:
    """:func:`scipy.sparse.linalg.cg` on the normal equations, with the monitor as its callback."""
    from scipy.sparse.linalg import cg

    state = {"it": 0, "x": x0}

    def cb(xk):
        state["it"] += 1
        state["x"] = xk
        if monitor(state["it"], xk):
            state["x"] = xk.copy()
            raise _Stop

    try:
        x, _ = cg(A, b, x0=x0, rtol=tol, atol=0.0, maxiter=iterations, callback=cb)
    except _Stop:
        x = state["x"]
    return np.asarray(x, dtype=b.dtype), state["it"]


def _richardson_lucy(op: _Op, y: np.ndarray, x: np.ndarray, iterations: int, monitor: _Monitor) -> tuple[np.ndarray, int]:
    """``x <- x * Cᵀ(y / C x) / Cᵀ1``."""
    eps = float(np.finfo(y.dtype).eps)
    norm = op.adjoint(np.ones_like(y))
    inv_norm = np.zeros_like(norm)
    np.divide(1.0, norm, out=inv_norm, where=norm > float(norm.max()) * 16 * eps)
    # Cx is floored at eps * max(y): where Cx = 0 the ratio is 0 (y = 0) or large but finite
    floor = max(float(y.max()) * eps, float(np.finfo(y.dtype).tiny))
    itn = 0
    for itn in range(1, iterations + 1):
        ratio = op.forward(x)
        np.maximum(ratio, floor, out=ratio)
        np.divide(y, ratio, out=ratio)
        correction = op.adjoint(ratio)
        correction *= inv_norm
        x *= correction
        np.maximum(x, 0, out=x)  # FFT round-off can leave -1e-17 where the exact value is 0
        if monitor(itn, x):
            break
    return x, itn


def _laplacian_symbol(L: Sequence[int], dtype: np.dtype) -> np.ndarray:
    """Eigenvalues of the periodic discrete Laplacian ``-Δ`` on the ``rfftn`` grid: ``Σ_a 2 - 2 cos(2π f_a / L_a)``."""
    from scipy import fft

    n = len(L)
    out = np.zeros(tuple(L[:-1]) + (L[-1] // 2 + 1,), dtype=dtype)
    for a, length in enumerate(L):
        f = fft.rfftfreq(length) if a == n - 1 else fft.fftfreq(length)
        shape = [1] * n
        shape[a] = f.shape[0]
        out += (2 - 2 * np.cos(2 * np.pi * f)).astype(dtype).reshape(shape)
    return out


def _wiener(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int, balance: float, boundary: str) -> np.ndarray:
    from scipy import fft

    n = g.ndim
    axes = tuple(range(2, 2 + n))
    if boundary == "periodic":
        M = g.out_size
        y_ext, starts = y, (0,) * n
    else:  # pad by (half-sample) reflection, ek - 1 on each side, up to a fast FFT length
        margins = tuple(e - 1 for e in g.effective_kernel_size)
        M = shapes.fft_conv_size(g.out_size, [(m, m) for m in margins])
        pads = [(0, 0), (0, 0)] + [(m, L - o - m) for o, m, L in zip(g.out_size, margins, M)]
        v.check_allocation(y.shape[:2] + M, y.dtype, "deconvolve", "the reflection-padded data")
        y_ext, starts = np.pad(y, pads, mode="symmetric"), margins
    K = _kernel_spectrum(w, g, M)
    Y = fft.rfftn(y_ext, axes=axes)
    reg = balance * _laplacian_symbol(M, y.real.dtype) ** 2
    c_out, ci_g = w.shape[:2]
    co_g = c_out // groups
    if ci_g == 1 and co_g == 1:
        den = np.abs(K[:, 0]) ** 2 + reg
        X = np.zeros_like(Y)
        np.divide(K[:, 0] * Y, den, out=X, where=den > 0)
    else:  # per frequency: (Hᴴ H + reg I) x = Hᴴ y with H[co, ci] = conj(K[co, ci]), per group
        N, F = Y.shape[0], Y.shape[2:]
        H = np.moveaxis(np.conj(K).reshape((groups, co_g, ci_g) + F), (1, 2), (-2, -1))  # (g, *F, co, ci)
        Hh = np.conj(np.swapaxes(H, -1, -2))
        A = Hh @ H + reg[..., None, None] * np.eye(ci_g)
        rhs = Hh[None] @ np.moveaxis(Y.reshape((N, groups, co_g) + F), 2, -1)[..., None]  # (N, g, *F, ci, 1)
        X = (np.linalg.pinv(A, hermitian=True)[None] @ rhs)[..., 0]  # pinv: singular where H and reg vanish
        X = np.moveaxis(X, -1, 2).reshape((N, groups * ci_g) + F)
    x_ext = fft.irfftn(X, s=M, axes=axes)
    # the model reads x[i] at circle position start + i (y[o] sits at start + o); x may be longer than the circle
    for a, (start, i_len, L) in enumerate(zip(starts, g.in_size, M)):
        if start + i_len <= L:
            x_ext = x_ext[(slice(None),) * (2 + a) + (slice(start, start + i_len),)]
        else:
            x_ext = np.take(x_ext, np.arange(start, start + i_len) % L, axis=2 + a)
    return x_ext


# --------------------------------------------------------------------------
# argument handling


def _real(value: Any, func: str, name: str, minimum: float = 0.0) -> float:
    value = v.float_tuple(value, 1, func, name)[0]
    if value < minimum:
        raise ValueError(f"{func}: {name} must be >= {minimum}, got {value}")
    return value


def _geometry(func: str, y_spatial: tuple[int, ...], kernel: tuple[int, ...], stride, padding, dilation,
              input_size) -> ConvGeometry:
    """The geometry of the convolution ``input_size -> y_spatial`` (default: the smallest input size)."""
    n = len(y_spatial)
    if isinstance(padding, str):
        padding = v.choice(padding, ("valid", "same"), func, "padding")
        if padding == "valid":
            padding = 0
        elif input_size is None:
            input_size = y_spatial
    if input_size is None:
        lo, _ = shapes.conv_transpose_output_size_range(y_spatial, kernel, stride, padding, dilation)
        if any(i < 1 for i in lo):
            raise ValueError(
                f"{func}: no input size is consistent with y of spatial size {y_spatial}, kernel size {kernel}, "
                f"stride={stride}, padding={padding}, dilation={dilation} (the smallest would be {lo})"
            )
        input_size = lo
    else:
        if isinstance(input_size, (str, bytes)) or not isinstance(input_size, (Sequence, np.ndarray)):
            raise TypeError(f"{func}: input_size must be a sequence of {n} integers, got {input_size!r}")
        input_size = v.int_tuple(tuple(input_size), n, func, "input_size", minimum=1)
    g = shapes.conv_geometry(input_size, kernel, stride, padding, dilation, func=func)
    if g.out_size != y_spatial:
        lo, hi = shapes.conv_transpose_output_size_range(y_spatial, kernel, stride, g.padding, dilation)
        raise ValueError(
            f"{func}: a convolution of an input of size {tuple(input_size)} gives {g.out_size}, not y's spatial "
            f"size {y_spatial}; consistent input sizes range from {lo} to {hi}"
        )
    return g


def deconvolve(
    y: Any,
    weight: Any,
    *,
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    method: str = "lsqr",
    iterations: int | None = None,
    tol: float | None = None,
    damp: float = 0.0,
    smoothness: float = 0.0,
    balance: float | None = None,
    boundary: str | None = None,
    input_size: Sequence[int] | None = None,
    x0: Any = None,
    engine: str = "auto",
    callback: Callable[[int, np.ndarray], Any] | None = None,
    progress: bool = False,
) -> np.ndarray:
    r"""Recover ``x`` from ``y = conv(x, weight, ...)`` (+ noise): the inverse of :func:`upconv.conv`.

    The convolution is described exactly as for :func:`upconv.conv`
    (torch semantics: cross-correlation, zero padding), so
    ``deconvolve(conv(x, w, **kw), w, **kw)`` recovers ``x`` when the
    problem is well posed.

    Parameters
    ----------
    y : (N, C_out, *out_size) or (C_out, *out_size) array_like
        The convolution's output (blurred, possibly strided, possibly noisy).
    weight : (C_out, C_in / groups, *kernel_size) array_like
        The convolution's kernel (:func:`upconv.conv` layout).
    stride, dilation : int or sequence of n ints, optional
    padding : int, sequence of n ints, sequence of n (begin, end) pairs, "valid" or "same"
        As for :func:`upconv.conv` (zero padding).
    groups : int, optional
    method : {"lsqr", "cg", "wiener", "richardson_lucy", "transpose"}
        See Notes.  ``"wiener"`` and ``"richardson_lucy"`` need stride 1.
    iterations : int, optional
        Most iterations of ``"lsqr"``/``"cg"`` (100) or the number of
        ``"richardson_lucy"`` iterations (30).
    tol : float, optional
        Stopping tolerance of ``"lsqr"`` (``atol = btol``) and ``"cg"``
        (relative residual of the normal equations); default 1e-6.
    damp, smoothness : float, optional
        Tikhonov weights of ``"lsqr"``/``"cg"`` (see Notes); default 0.
    balance : float, optional
        Regularisation of ``"wiener"`` (scikit-image's ``balance``);
        default 0.01.
    boundary : {"periodic", "reflect"}, optional
        Boundary model of ``"wiener"`` (default ``"periodic"``):
        ``"reflect"`` first pads ``y`` by half-sample reflection
        (``ek - 1`` per side), then treats the padded data as periodic.
    input_size : sequence of n ints, optional
        Spatial size of ``x``.  A strided convolution maps up to
        ``stride`` input sizes to the same output size; by default the
        smallest, ``(o - 1)*s + ek - p_begin - p_end``
        (:func:`upconv.shapes.conv_transpose_output_size_range`), or
        ``out_size`` with ``padding="same"``.
    x0 : (N, C_in, *input_size) or (C_in, *input_size) array_like, optional
        Starting point of the iterative methods (only that: the objective
        does not depend on it).  Default zeros for ``"lsqr"``/``"cg"``; for
        ``"richardson_lucy"`` the constant with the flux of ``y``
        (``sum(y) / sum(Cᵀ1)`` per sample).
    engine : {"auto", "upconv", "fft", "ndimage"}, optional
        How the iterative methods apply ``C`` and ``Cᵀ`` (same values to
        rounding): :func:`upconv.conv` / :func:`upconv.conv_transpose`
        (im2col + GEMM, any stride); FFT on a circle long enough that
        nothing wraps around (stride 1); direct correlation with
        :mod:`scipy.ndimage`, axis by axis for separable kernels (stride 1).
        ``"auto"`` picks the cheapest by a cost model.
    callback : callable, optional
        ``callback(iteration, x)`` after each iteration of an iterative
        method (``iteration`` from 1; ``x`` a read-only view of the current
        estimate, shaped like the result, in the compute dtype).
        Returning True stops the iteration.
    progress : bool, optional
        Draw a plain-text progress bar on stderr during the iterations.

    Returns
    -------
    x : (N, C_in, *input_size) or (C_in, *input_size) ndarray
        Same dtype as the inputs (float16 is computed in float32).

    Raises
    ------
    ValueError
        Kernel/channel mismatch, non-finite ``y``/``weight``/``x0``, a
        ``y`` no input size is consistent with (or an ``input_size`` that
        does not give ``y``'s size), ``stride > 1`` with ``"wiener"`` or
        ``"richardson_lucy"``, negative ``y``/``weight``/``x0`` with
        ``"richardson_lucy"``, an option the chosen method does not use.
    TypeError
        Wrong argument types, mixed floating dtypes.
    MemoryError
        If a buffer would exceed :func:`upconv.get_memory_limit`.

    See Also
    --------
    upconv.conv : the forward model.
    upconv.conv_transpose : ``Cᵀ``, the adjoint (method ``"transpose"``).
    upconv.metrics.psnr, upconv.metrics.ssim : to score the result.

    Notes
    -----
    Write the convolution as ``y = C x``.

    ``"lsqr"`` and ``"cg"`` minimise

    .. math::

        \|C x - y\|^2 + \text{damp}^2 \|x\|^2 + \text{smoothness}^2 \|\nabla x\|^2

    with :math:`\nabla` the forward differences along every spatial axis
    (no difference across the border, so
    :math:`\nabla^T\nabla = -\Delta` with Neumann boundaries).  Both work on
    a :class:`scipy.sparse.linalg.LinearOperator` whose ``matvec`` is the
    convolution and whose ``rmatvec`` is the transposed convolution
    (``output_size = input_size``, so the shapes match).  ``"lsqr"`` runs
    LSQR on ``[C; smoothness·∇]`` (the iteration of
    :func:`scipy.sparse.linalg.lsqr`, in the input dtype, with a callback);
    ``"cg"`` runs :func:`scipy.sparse.linalg.cg` on the normal equations
    :math:`(C^TC + \text{damp}^2 I + \text{smoothness}^2\nabla^T\nabla)x = C^Ty`.
    Without regularisation, stopping early (``iterations``) regularises.
    With ``stride > 1``, ``C`` has fewer rows than columns and only the
    regularisation picks a solution among the many that fit: this is
    super-resolution as an inverse problem.

    ``"wiener"`` solves the same kind of problem exactly in the Fourier
    domain, under a **periodic** boundary model: ``y`` is taken to be the
    circular correlation of a periodic ``x``,
    :math:`y[o] = \sum_t w[t]\, x[(o + t d - p_{begin}) \bmod M]` with
    ``M = out_size`` (or the padded size with ``boundary="reflect"``), and

    .. math::

        \hat X = \frac{\overline{H}\, Y}{|H|^2 + \text{balance}\,|\Lambda|^2}

    with :math:`H` the transfer function and :math:`\Lambda` that of the
    discrete Laplacian (scikit-image's default regulariser).  Several input
    channels per group are solved per frequency,
    :math:`(H^H H + \text{balance}|\Lambda|^2 I) X = H^H Y`.  Frequencies
    where the denominator vanishes (``balance=0``) are set to 0.

    ``"richardson_lucy"`` (non-negative ``y`` and ``weight``) iterates

    .. math::

        x \leftarrow x \odot \frac{C^T (y \oslash C x)}{C^T \mathbf 1}

    The correction step ``C^T(y / Cx)`` **is a transposed convolution**:
    the ratio of the data to the current prediction is mapped back to the
    input by ``conv_transpose`` with the same kernel, and ``C^T 1`` (the
    transposed convolution of ones) normalises it, which also corrects the
    borders.  ``Cx`` is floored at ``eps * max(y)`` before dividing (so
    ``y = 0`` gives a ratio of 0 where ``Cx = 0``); inputs no output sees
    (``Cᵀ1 = 0``) become 0.

    ``"transpose"`` returns ``C^T y`` (:func:`upconv.conv_transpose`): it
    has the shape of ``x`` but not its values, since :math:`C^TC \ne I`.

    Differences from scikit-image (``skimage.restoration``): its
    ``wiener`` and ``richardson_lucy`` take a PSF used with true
    convolution (``weight`` here is the flipped PSF, as in torch), clip the
    result to [-1, 1] by default (upconv never clips), and its
    ``richardson_lucy`` starts from 0.5, divides by ``Cx + 1e-12`` and does
    not normalise by ``Cᵀ1`` (it assumes a PSF summing to 1 and ignores the
    border loss).  ``wiener`` with ``boundary="periodic"`` equals
    ``skimage.restoration.wiener(..., clip=False)`` for odd kernels with
    ``padding="same"``.

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.array([[0.0, 1.0, 4.0, 2.0, 0.0, 3.0]])
    >>> w = np.array([[[1.0, 2.0, 1.0]]])
    >>> y = upconv.conv(x, w, padding=1)
    >>> np.round(upconv.deconvolve(y, w, padding=1), 6) + 0.0  # + 0.0 turns -0. into 0.
    array([[0., 1., 4., 2., 0., 3.]])
    >>> upconv.deconvolve(y, w, padding=1, method="transpose")
    array([[ 8., 24., 36., 32., 24., 17.]])
    >>> y2 = upconv.conv(x, w, stride=2)  # 6 -> 2 samples: many inputs fit
    >>> upconv.deconvolve(y2, w, stride=2, input_size=(6,)).shape
    (1, 6)
    """
    func = "deconvolve"
    method = v.choice(method, METHODS, func, "method")
    engine = v.choice(engine, ENGINES, func, "engine")
    progress = v.boolean(progress, func, "progress")
    result_dtype, (y, w, x0) = v.float_arrays(func, y=y, weight=weight, x0=x0)
    dtype = y.dtype

    # options the method does not use are an error, not silently ignored
    unused = []
    if method not in ("lsqr", "cg"):
        unused += [name for name, val in (("damp", damp), ("smoothness", smoothness)) if val != 0]
        if tol is not None:
            unused.append("tol")
    if method != "wiener":
        unused += [name for name, val in (("balance", balance), ("boundary", boundary)) if val is not None]
    if method in ("wiener", "transpose"):
        unused += [name for name, val in (("iterations", iterations), ("x0", x0), ("callback", callback))
                   if val is not None]
        if engine != "auto":
            unused.append("engine")
    if unused:
        raise ValueError(f"{func}: {', '.join(unused)} {'is' if len(unused) == 1 else 'are'} not used by "
                         f"method={method!r}; leave {'it' if len(unused) == 1 else 'them'} at the default")

    # shapes and channels
    if w.ndim < 3:
        raise ValueError(f"{func}: weight must have at least 3 dimensions (C_out, C_in / groups, *kernel), "
                         f"got shape {w.shape}")
    n = w.ndim - 2
    if y.ndim not in (n + 1, n + 2):
        raise ValueError(f"{func}: y must have {n + 1} (unbatched) or {n + 2} (batched) dimensions for a weight "
                         f"with {n} spatial axes, got y of shape {y.shape} and weight of shape {w.shape}")
    unbatched = y.ndim == n + 1
    if unbatched:
        y = y[None]
    if any(s == 0 for s in w.shape) or any(s == 0 for s in y.shape[1:]):
        raise ValueError(f"{func}: y and weight must not have a zero-length axis, got shapes {y.shape} and {w.shape}")
    groups = v.integer(groups, func, "groups", minimum=1)
    c_out = w.shape[0]
    if c_out % groups:
        raise ValueError(f"{func}: weight.shape[0] (out channels, {c_out}) must be divisible by groups={groups}")
    if y.shape[1] != c_out:
        raise ValueError(f"{func}: y has {y.shape[1]} channels but weight of shape {w.shape} produces {c_out} "
                         f"(weight.shape[0])")
    c_in = w.shape[1] * groups
    for name, a in (("y", y), ("weight", w), ("x0", x0)):
        if a is not None and not np.all(np.isfinite(a)):
            raise ValueError(f"{func}: {name} must be finite, got {np.count_nonzero(~np.isfinite(a))} "
                             "NaN or infinite value(s)")
    stride_t = v.int_tuple(stride, n, func, "stride", minimum=1)
    g = _geometry(func, y.shape[2:], w.shape[2:], stride_t, padding, dilation, input_size)
    N = y.shape[0]
    x_shape = (N, c_in) + g.in_size
    out_shape = x_shape[1:] if unbatched else x_shape
    v.check_allocation(x_shape, dtype, func, "the result")

    if x0 is not None:
        if x0.shape != out_shape:
            raise ValueError(f"{func}: x0 must have the shape of the result, {out_shape}, got {x0.shape}")
        x0 = x0[None] if unbatched else x0

    # method-specific checks
    strided = any(s != 1 for s in g.stride)
    if method in ("wiener", "richardson_lucy") and strided:
        raise ValueError(f"{func}: method={method!r} needs stride 1 (a blur), got stride={g.stride}; "
                         "use method='lsqr' or 'cg' for strided convolutions")
    if engine in ("fft", "ndimage") and strided:
        raise ValueError(f"{func}: engine={engine!r} needs stride 1, got stride={g.stride}; "
                         "use engine='upconv' or 'auto'")
    if method == "richardson_lucy":
        for name, a in (("y", y), ("weight", w), ("x0", x0)):
            if a is not None and a.min() < 0:
                raise ValueError(f"{func}: method='richardson_lucy' needs non-negative {name}, "
                                 f"got a minimum of {a.min()}")
    if iterations is not None:
        iterations = v.integer(iterations, func, "iterations", minimum=1)
    elif method in _ITERATIVE:
        iterations = _DEFAULT_ITERATIONS[method]
    tol = _DEFAULT_TOL if tol is None else _real(tol, func, "tol")
    damp = _real(damp, func, "damp")
    smoothness = _real(smoothness, func, "smoothness")
    if callback is not None and not callable(callback):
        raise TypeError(f"{func}: callback must be callable as callback(iteration, x), got {callback!r}")

    if N == 0:
        return np.empty(out_shape, dtype=result_dtype)

    if method == "transpose":
        x = _UpconvOp(w, g, groups).adjoint(y)
    elif method == "wiener":
        balance = _DEFAULT_BALANCE if balance is None else _real(balance, func, "balance")
        boundary = v.choice("periodic" if boundary is None else boundary, ("periodic", "reflect"), func, "boundary")
        x = _wiener(y, w, g, groups, balance, boundary)
    else:
        op = _make_op(engine, w, g, groups, N)
        monitor = _Monitor(f"{func} {method}", iterations, out_shape, callback, progress)
        if method == "richardson_lucy":
            if x0 is None:
                norm = op.adjoint(np.ones_like(y))
                flux = y.reshape(N, -1).sum(axis=1) / np.maximum(norm.reshape(N, -1).sum(axis=1), np.finfo(dtype).tiny)
                x0 = np.broadcast_to(flux.reshape((N,) + (1,) * (n + 1)), x_shape).astype(dtype)
            x, itn = _richardson_lucy(op, y, x0.astype(dtype, copy=True), iterations, monitor)
        else:
            x, itn = _least_squares(method, op, y, x_shape, x0, damp, smoothness, iterations, tol, monitor)
        monitor.close(itn)
    x = np.asarray(x, dtype=dtype).reshape(x_shape)
    if unbatched:
        x = x[0]
    return x.astype(result_dtype, copy=False)


def _least_squares(method, op: _Op, y, x_shape, x0, damp, smoothness, iterations, tol, monitor):
    from scipy.sparse.linalg import LinearOperator

    dtype = y.dtype
    nx, ny = math.prod(x_shape), y.size
    grad_sizes = [math.prod(x_shape) // x_shape[a] * (x_shape[a] - 1) for a in range(2, len(x_shape))]

    def conv(xf):
        return op.forward(xf.reshape(x_shape)).ravel()

    def conv_t(yf):
        return op.adjoint(yf.reshape(y.shape)).ravel()

    x0f = None if x0 is None else x0.ravel()
    if method == "lsqr":
        # blocks of the stacked operator [C; smoothness·∇; damp·I] and their right-hand sides (y, 0, 0).
        # LSQR handles damp itself, but then penalises ||x - x0||; with x0 the damp block is explicit.
        explicit_damp = damp > 0 and x0 is not None
        grad_shapes = [x_shape[:a] + (x_shape[a] - 1,) + x_shape[a + 1:] for a in range(2, len(x_shape))]
        sizes = [ny] + (grad_sizes if smoothness else []) + ([nx] if explicit_damp else [])
        if len(sizes) == 1:
            A = LinearOperator((ny, nx), matvec=conv, rmatvec=conv_t, dtype=dtype)
        else:
            splits = np.cumsum(sizes)[:-1]

            def matvec(xf):
                x = xf.reshape(x_shape)
                parts = [op.forward(x).ravel()]
                if smoothness:
                    parts += [smoothness * d.ravel() for d in _grad(x)]
                if explicit_damp:
                    parts.append(damp * xf)
                return np.concatenate(parts)

            def rmatvec(uf):
                parts = np.split(uf, splits)
                out = op.adjoint(parts[0].reshape(y.shape))
                if smoothness:
                    grads = parts[1 : 1 + len(grad_shapes)]
                    out += _grad_adjoint([smoothness * p.reshape(s) for p, s in zip(grads, grad_shapes)], x_shape)
                out = out.ravel()
                if explicit_damp:
                    out += damp * parts[-1]
                return out

            A = LinearOperator((sum(sizes), nx), matvec=matvec, rmatvec=rmatvec, dtype=dtype)
        b = np.concatenate([y.ravel(), np.zeros(sum(sizes) - ny, dtype=dtype)])
        return _lsqr(A, b, x0f, 0.0 if explicit_damp else damp, iterations, tol, monitor)

    def normal(xf):
        x = xf.reshape(x_shape)
        out = op.adjoint(op.forward(x))
        if damp:
            out = out + damp * damp * x
        if smoothness:
            out = out + smoothness * smoothness * _grad_adjoint(_grad(x), x_shape)
        return out.ravel()

    A = LinearOperator((nx, nx), matvec=normal, rmatvec=normal, dtype=dtype)
    return _cg(A, conv_t(y.ravel()), x0f, iterations, tol, monitor)


# --------------------------------------------------------------------------
# blur kernels


def _gaussian(sigma: float, size: int | None, ndim: int) -> np.ndarray:
    if size is None:
        size = 2 * math.ceil(3 * sigma) + 1
    t = np.arange(size) - (size - 1) / 2
    g1 = np.exp(-0.5 * (t / sigma) ** 2)
    k = g1
    for _ in range(ndim - 1):
        k = np.multiply.outer(k, g1)
    return k


def _motion(length: float, angle: float) -> np.ndarray:
    """A line of ``length`` pixels at ``angle`` degrees (counter-clockwise, rows pointing down), 16x supersampled."""
    m = max(1, int(math.ceil(length * 16)))
    t = (np.arange(m) + 0.5) / m * length - length / 2
    theta = math.radians(angle)
    cols = np.rint(t * math.cos(theta)).astype(int)
    rows = np.rint(-t * math.sin(theta)).astype(int)
    r = max(int(np.abs(cols).max()), int(np.abs(rows).max()))
    k = np.zeros((2 * r + 1, 2 * r + 1))
    np.add.at(k, (rows + r, cols + r), 1.0)
    return k


def _spec_numbers(func: str, spec: str, body: str, counts: Sequence[int]) -> list[float]:
    try:
        values = [float(p) for p in body.split(",")] if body.strip() else []
    except ValueError:
        values = None
    if values is None or len(values) not in counts or not all(map(math.isfinite, values)):
        raise ValueError(f"{func}: cannot read the numbers of {spec!r}; {_SPEC_HELP}")
    return values


_SPEC_HELP = ("expected 'gaussian:SIGMA[,SIZE]', 'box:SIZE[,SIZE...]', 'motion:LENGTH,ANGLE' "
              "or the path of a .npy file")


def blur_kernel(spec: Any, *, ndim: int = 2) -> np.ndarray:
    """A blur kernel from a short text spec (or a ``.npy`` file), for :func:`deconvolve` and the CLI.

    Parameters
    ----------
    spec : str, os.PathLike or array_like
        ``"gaussian:SIGMA"`` or ``"gaussian:SIGMA,SIZE"``: a sampled
        Gaussian of std SIGMA pixels, ``SIZE`` taps per axis (default
        ``2*ceil(3*SIGMA) + 1``);
        ``"box:SIZE"`` (or one size per axis, ``"box:5,3"``): a uniform
        kernel;
        ``"motion:LENGTH,ANGLE"`` (2-d only): a line ``LENGTH`` pixels long
        at ``ANGLE`` degrees counter-clockwise from the horizontal (rows
        pointing down), rasterised with 16x supersampling;
        a path to a ``.npy`` file, or an array: used as stored.
    ndim : int, optional
        Dimensions of the Gaussian and box kernels.

    Returns
    -------
    kernel : (*kernel_size) ndarray of float64
        The named kernels sum to 1; file and array kernels are returned
        unchanged (as float64).  For :func:`deconvolve` on a single-channel
        image use ``kernel[None, None]``; for ``C`` channels blurred alike,
        ``np.broadcast_to(kernel, (C, 1) + kernel.shape)`` with ``groups=C``.

    Raises
    ------
    ValueError
        An unknown spec, non-positive sizes, a missing file, a kernel with
        a non-finite value, a zero-size kernel.

    Examples
    --------
    >>> from upconv import blur_kernel
    >>> blur_kernel("box:3") * 9
    array([[1., 1., 1.],
           [1., 1., 1.],
           [1., 1., 1.]])
    >>> blur_kernel("gaussian:2.0").shape
    (13, 13)
    >>> k = blur_kernel("motion:5,0")
    >>> k.shape, k[2].tolist()
    ((5, 5), [0.2, 0.2, 0.2, 0.2, 0.2])
    """
    func = "blur_kernel"
    ndim = v.integer(ndim, func, "ndim", minimum=1)
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and (spec.endswith(".npy") or os.path.isfile(spec))):
        path = os.fspath(spec)
        if not os.path.isfile(path):
            raise ValueError(f"{func}: no such kernel file {path!r}")
        try:
            k = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{func}: cannot read {path!r} as a .npy array: {exc}") from None
        return _checked_array(func, k, f"the kernel in {path!r}")
    if not isinstance(spec, str):
        if isinstance(spec, (bytes, bool)) or spec is None:
            raise TypeError(f"{func}: spec must be a string, a path or an array, got {spec!r}")
        return _checked_array(func, np.asarray(spec), "spec")
    kind, sep, body = spec.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in ("gaussian", "box", "motion"):
        raise ValueError(f"{func}: unknown kernel {spec!r}; {_SPEC_HELP}")
    if kind == "gaussian":
        nums = _spec_numbers(func, spec, body, (1, 2))
        if nums[0] <= 0:
            raise ValueError(f"{func}: the Gaussian's SIGMA must be > 0, got {spec!r}")
        size = None
        if len(nums) == 2:
            if nums[1] != int(nums[1]) or nums[1] < 1:
                raise ValueError(f"{func}: the Gaussian's SIZE must be a positive integer, got {spec!r}")
            size = int(nums[1])
        k = _gaussian(nums[0], size, ndim)
    elif kind == "box":
        nums = _spec_numbers(func, spec, body, (1, ndim))
        if any(s != int(s) or s < 1 for s in nums):
            raise ValueError(f"{func}: box sizes must be positive integers, got {spec!r}")
        sizes = [int(s) for s in nums] * (ndim if len(nums) == 1 else 1)
        k = np.ones(sizes)
    else:
        if ndim != 2:
            raise ValueError(f"{func}: motion kernels are 2-d, got ndim={ndim}")
        nums = _spec_numbers(func, spec, body, (2,))
        if nums[0] <= 0:
            raise ValueError(f"{func}: the motion LENGTH must be > 0, got {spec!r}")
        k = _motion(nums[0], nums[1])
    return k / k.sum()


def _checked_array(func: str, k: np.ndarray, what: str) -> np.ndarray:
    if k.dtype.kind not in "biuf":
        raise ValueError(f"{func}: {what} must be a real numeric array, got dtype {k.dtype}")
    if k.ndim == 0 or k.size == 0:
        raise ValueError(f"{func}: {what} must be a non-empty array with at least one axis, got shape {k.shape}")
    k = k.astype(np.float64)
    if not np.all(np.isfinite(k)):
        raise ValueError(f"{func}: {what} must be finite")
    return k
