"""Weights and the checkerboard: the polyphase DC gain of transposed-convolution weights.

For a constant input the interior output of a stride-``s`` transposed
convolution takes one value per phase (output position modulo the stride):
the sum of the taps that land in it.  :func:`dc_gain_spread` computes these
gains per channel pair; their spread is zero iff a flat input gives a flat
output (:func:`upconv.resize_equivalent_kernel` builds weights with zero
spread).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v
from upconv.explain.overlap import _readonly
from upconv.explain.report import number, table
from upconv.ops.arrays import array_function

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["DCGainSpread", "dc_gain_spread"]

#: Phases shown as columns of the table (more: their min and max).
_PHASE_COLUMNS = 4


@dataclass(frozen=True, eq=False)
class DCGainSpread:
    """Polyphase DC gains of transposed-convolution weights.

    Attributes
    ----------
    gains : (C_in, C_out / groups, *stride) float64 ndarray
        ``gains[ci, co, r]`` = sum of the taps ``w[ci, co, t]`` with
        ``t*d = r (mod s)`` (per axis): the interior output of phase ``r``
        (un-cropped coordinates) for a constant 1 in input channel ``ci``.
    spread : (C_in, C_out / groups) float64 ndarray
        ``max_r gains - min_r gains`` per channel pair.
    relative_spread : (C_in, C_out / groups) float64 ndarray
        ``spread / mean_r |gains|`` (0 where every gain is 0).
    stride, dilation : tuple of int
    tolerance : float
        Spreads up to this are rounding (``16 * eps(dtype) * max_pair sum|w|``).
    """

    gains: np.ndarray
    spread: np.ndarray
    relative_spread: np.ndarray
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    tolerance: float

    @property
    def max_spread(self) -> float:
        """Largest spread over the channel pairs."""
        return float(self.spread.max())

    @property
    def rms_spread(self) -> float:
        """Root mean square of the spreads over the channel pairs."""
        return float(np.sqrt(np.mean(self.spread**2)))

    @property
    def max_relative_spread(self) -> float:
        """Largest relative spread over the channel pairs."""
        return float(self.relative_spread.max())

    @property
    def response(self) -> np.ndarray:
        """``(C_out / groups, *stride)``: interior output per phase for a constant 1 in every input channel."""
        return self.gains.sum(axis=0)

    @property
    def response_spread(self) -> np.ndarray:
        """``(C_out / groups,)``: max - min over the phases of :attr:`response`."""
        r = self.response.reshape(self.response.shape[0], -1)
        return r.max(axis=1) - r.min(axis=1)

    @property
    def flat(self) -> bool:
        """Whether every channel pair maps a flat input to a flat output (spread within tolerance)."""
        return self.max_spread <= self.tolerance

    def clean(self, x: float) -> float:
        """``x``, or 0.0 when it is within :attr:`tolerance` of 0 (rounding, not a spread)."""
        return 0.0 if abs(x) <= self.tolerance else float(x)

    def table(self, max_pairs: int = 16) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        """Headers and rows of the first ``max_pairs`` channel pairs (values within :attr:`tolerance` are 0).

        Columns: ``c_in``, ``c_out``, the gain of every phase (up to 4
        phases; more: the smallest and largest gain), ``spread`` and
        ``relative`` spread.
        """
        n_ci, n_co = self.spread.shape
        phases = list(np.ndindex(*self.stride))
        g = self.gains.reshape(n_ci, n_co, -1)
        if len(phases) <= _PHASE_COLUMNS:
            gains = tuple(f"phase {p[0] if len(p) == 1 else ','.join(map(str, p))}" for p in phases)
        else:
            gains = ("min gain", "max gain")
        rows = []
        for ci, co in list(np.ndindex(n_ci, n_co))[:max_pairs]:
            values = g[ci, co] if len(phases) <= _PHASE_COLUMNS else (g[ci, co].min(), g[ci, co].max())
            spread = self.clean(self.spread[ci, co])
            relative = self.clean(self.relative_spread[ci, co]) if spread else 0.0
            rows.append((ci, co, *(self.clean(x) for x in values), spread, relative))
        return ("c_in", "c_out", *gains, "spread", "relative"), rows

    @property
    def summary(self) -> str:
        """The aggregates and the verdict in a line (values within :attr:`tolerance` are 0)."""
        relative = 0.0 if self.flat else self.clean(self.max_relative_spread)
        return (f"max spread {number(self.clean(self.max_spread))}, rms {number(self.clean(self.rms_spread))}, "
                f"max relative {number(relative)}: "
                + ("flat in, flat out" if self.flat else "checkerboard on flat regions"))

    def format_table(self, max_pairs: int = 16) -> str:
        """Summary and the first ``max_pairs`` channel pairs as plain text."""
        n_ci, n_co = self.spread.shape
        headers, rows = self.table(max_pairs)
        lines = [
            f"polyphase DC gain, stride {'x'.join(map(str, self.stride))}, dilation "
            f"{'x'.join(map(str, self.dilation))}: {n_ci * n_co} channel pairs, {self.gains[0, 0].size} phases",
            *table(headers, rows),
        ]
        if n_ci * n_co > max_pairs:
            lines.append(f"... {n_ci * n_co - max_pairs} more pairs")
        lines.append(self.summary)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format_table()


@array_function(whole=True)
def dc_gain_spread(weight: npt.ArrayLike, stride: int | Sequence[int], *,
                   dilation: int | Sequence[int] = 1) -> DCGainSpread:
    r"""Polyphase DC gain of transposed-convolution weights: does a flat input give a flat output?

    Parameters
    ----------
    weight : (C_in, C_out / groups, *kernel_size) array_like
        Transposed-convolution weights (torch layout).
    stride, dilation : int or sequence of n ints
        The layer's stride and dilation.

    Returns
    -------
    DCGainSpread
        ``gains`` per (c_in, c_out, phase), ``spread`` and
        ``relative_spread`` per channel pair, aggregates ``max_spread``,
        ``rms_spread``, ``max_relative_spread`` and ``flat``.

    Raises
    ------
    TypeError, ValueError
        For a non-numeric weight, fewer than 3 dimensions, or invalid stride
        or dilation.

    Notes
    -----
    For a constant input ``c`` the interior output at un-cropped position
    ``o`` is ``c * sum_{t : t d = o (mod s)} w[t]``: the output takes one value
    per phase ``r = o mod s``,

    .. math:: G[c_i, c_o, r] = \sum_{t:\ t d \equiv r \ (\mathrm{mod}\ s)} w[c_i, c_o, t]

    and ``spread = max_r G - min_r G`` is zero for every pair iff the layer
    maps every per-channel constant input to a constant output.  Computed in
    float64.  Padding only relabels the phases.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv import dc_gain_spread
    >>> r = dc_gain_spread(np.ones((1, 1, 3)), 2)
    >>> r.gains, r.max_spread, r.flat
    (array([[[2., 1.]]]), 1.0, False)
    >>> dc_gain_spread(np.ones((1, 1, 4, 4)), 2).flat
    True
    """
    func = "dc_gain_spread"
    dtype, (wa,) = v.float_arrays(func, weight=weight)
    w = v.kernel_weight(func, wa)
    n = w.ndim - 2
    s = v.int_tuple(stride, n, func, "stride", minimum=1)
    d = v.int_tuple(dilation, n, func, "dilation", minimum=1)
    # the phase gains (C_in, C_out, *stride) in float64, about three times over in the temporaries below
    v.check_allocation((3,) + w.shape[:2] + s, np.float64, func, "the phase gains")
    g = w.astype(np.float64)
    for a, (k, s_, d_) in enumerate(zip(w.shape[2:], s, d, strict=False)):
        onehot = np.zeros((k, s_))
        onehot[np.arange(k), (np.arange(k) * d_) % s_] = 1.0
        g = np.moveaxis(np.tensordot(g, onehot, axes=([2 + a], [0])), -1, 2 + a)
    phases = tuple(range(2, 2 + n))
    spread = g.max(axis=phases) - g.min(axis=phases)
    mean_abs = np.abs(g).mean(axis=phases)
    relative = np.divide(spread, mean_abs, out=np.zeros_like(spread), where=mean_abs > 0)
    scale = float(np.abs(w.astype(np.float64)).sum(axis=phases).max())
    tol = 16 * float(np.finfo(dtype).eps) * max(scale, np.finfo(np.float64).tiny)
    return DCGainSpread(_readonly(g), _readonly(spread), _readonly(relative), s, d, tol)


