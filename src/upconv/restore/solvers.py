"""The deconvolution solvers: LSQR, conjugate gradients, Richardson-Lucy, Wiener, and their progress monitor.

The iterative solvers work on an :class:`upconv.restore.operators.Operator`
(``C`` and ``Cᵀ``) and report every iteration to a :class:`Monitor`, which
calls the user's callback and draws a progress bar; :func:`wiener` solves in
the Fourier domain directly.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.restore.operators import (
    Operator,
    differences,
    differences_adjoint,
    kernel_spectrum,
)
from upconv.shapes import ConvGeometry

if TYPE_CHECKING:
    from scipy.sparse.linalg import LinearOperator

__all__ = ["Monitor", "lsqr", "conjugate_gradient", "least_squares", "richardson_lucy", "wiener"]


# --------------------------------------------------------------------------
# progress and callbacks


class _Stop(Exception):
    """Raised inside a solver when the callback asks to stop."""


class Monitor:
    """Calls ``callback(iteration, x)`` and draws a plain-text progress bar on stderr."""

    def __init__(self, label: str, total: int, shape: tuple[int, ...],
                 callback: Callable[[int, np.ndarray], Any] | None, progress: bool, stream: TextIO | None = None):
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


def lsqr(A: LinearOperator, b: np.ndarray, x0: np.ndarray | None, damp: float, iterations: int, tol: float,
          monitor: Monitor) -> tuple[np.ndarray, int]:
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


def conjugate_gradient(A: LinearOperator, b: np.ndarray, x0: np.ndarray | None, iterations: int, tol: float,
                       monitor: Monitor) -> tuple[np.ndarray, int]:
    """:func:`scipy.sparse.linalg.cg` on the normal equations, with the monitor as its callback."""
    from scipy.sparse.linalg import cg

    itn = 0
    stopped_at: np.ndarray | None = None  # the iterate the callback stopped at

    def cb(xk: np.ndarray) -> None:
        nonlocal itn, stopped_at
        itn += 1
        if monitor(itn, xk):
            stopped_at = xk.copy()
            raise _Stop

    try:
        x, _ = cg(A, b, x0=x0, rtol=tol, atol=0.0, maxiter=iterations, callback=cb)
    except _Stop:
        x = stopped_at
    return np.asarray(x, dtype=b.dtype), itn


def richardson_lucy(op: Operator, y: np.ndarray, x: np.ndarray, iterations: int,
                    monitor: Monitor) -> tuple[np.ndarray, int]:
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


def _laplacian_symbol(L: Sequence[int], dtype: np.dtype[Any]) -> np.ndarray:
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


def wiener(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int, balance: float, boundary: str) -> np.ndarray:
    """The regularised inverse filter: ``x`` from ``y`` in the Fourier domain (stride 1, periodic or reflect)."""
    from scipy import fft

    n = g.ndim
    axes = tuple(range(2, 2 + n))
    if boundary == "periodic":
        M = g.out_size
        y_ext, starts = y, (0,) * n
    else:  # pad by (half-sample) reflection, ek - 1 on each side, up to a fast FFT length
        margins = tuple(e - 1 for e in g.effective_kernel_size)
        M = shapes.fft_conv_size(g.out_size, [(m, m) for m in margins])
        pads = [(0, 0), (0, 0)] + [(m, L - o - m) for o, m, L in zip(g.out_size, margins, M, strict=False)]
        v.check_allocation(y.shape[:2] + M, y.dtype, "deconvolve", "the reflection-padded data")
        y_ext, starts = np.pad(y, pads, mode="symmetric"), margins
    K = kernel_spectrum(w, g, M)
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
    for a, (start, i_len, L) in enumerate(zip(starts, g.in_size, M, strict=False)):
        if start + i_len <= L:
            x_ext = x_ext[(slice(None),) * (2 + a) + (slice(start, start + i_len),)]
        else:
            x_ext = np.take(x_ext, np.arange(start, start + i_len) % L, axis=2 + a)
    return x_ext



def least_squares(method: str, op: Operator, y: np.ndarray, x_shape: tuple[int, ...], x0: np.ndarray | None,
                  damp: float, smoothness: float, iterations: int, tol: float,
                  monitor: Monitor) -> tuple[np.ndarray, int]:
    """``"lsqr"`` on ``[C; smoothness·∇; damp·I]`` or ``"cg"`` on the normal equations: ``(x, iterations)``."""
    from scipy.sparse.linalg import LinearOperator

    dtype = y.dtype
    nx, ny = math.prod(x_shape), y.size
    grad_sizes = [math.prod(x_shape) // x_shape[a] * (x_shape[a] - 1) for a in range(2, len(x_shape))]

    def conv(xf: np.ndarray) -> np.ndarray:
        return op.forward(xf.reshape(x_shape)).ravel()

    def conv_t(yf: np.ndarray) -> np.ndarray:
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

            def matvec(xf: np.ndarray) -> np.ndarray:
                x = xf.reshape(x_shape)
                parts = [op.forward(x).ravel()]
                if smoothness:
                    parts += [smoothness * d.ravel() for d in differences(x)]
                if explicit_damp:
                    parts.append(damp * xf)
                return np.concatenate(parts)

            def rmatvec(uf: np.ndarray) -> np.ndarray:
                parts = np.split(uf, splits)
                out = op.adjoint(parts[0].reshape(y.shape))
                if smoothness:
                    grads = parts[1 : 1 + len(grad_shapes)]
                    scaled = [smoothness * p.reshape(s) for p, s in zip(grads, grad_shapes, strict=False)]
                    out += differences_adjoint(scaled, x_shape)
                out = out.ravel()
                if explicit_damp:
                    out += damp * parts[-1]
                return out

            A = LinearOperator((sum(sizes), nx), matvec=matvec, rmatvec=rmatvec, dtype=dtype)
        b = np.concatenate([y.ravel(), np.zeros(sum(sizes) - ny, dtype=dtype)])
        return lsqr(A, b, x0f, 0.0 if explicit_damp else damp, iterations, tol, monitor)

    def normal(xf: np.ndarray) -> np.ndarray:
        x = xf.reshape(x_shape)
        out = op.adjoint(op.forward(x))
        if damp:
            out = out + damp * damp * x
        if smoothness:
            out = out + smoothness * smoothness * differences_adjoint(differences(x), x_shape)
        return out.ravel()

    A = LinearOperator((nx, nx), matvec=normal, rmatvec=normal, dtype=dtype)
    return conjugate_gradient(A, conv_t(y.ravel()), x0f, iterations, tol, monitor)

