"""Outputs and the checkerboard: the fraction of any array's spectral energy at the stride frequencies.

A checkerboard of period ``s`` puts energy at the frequencies ``j/s``;
:func:`stride_frequency_energy` measures it in any array (a layer's output,
an image, a trained network's response), with no knowledge of the layers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from upconv import _validate as v
from upconv.explain.overlap import _is_seq
from upconv.ops.arrays import array_function

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["stride_frequency_energy"]

# Deviations below this many units of rounding of the largest magnitude: stride_frequency_energy sees a constant.
_FLAT_ULPS = 64


@array_function(whole=True)
def stride_frequency_energy(y: npt.ArrayLike, stride: int | Sequence[int],
                            axes: int | Sequence[int] | None = None) -> float:
    """Fraction of an array's spectral energy at the stride frequencies ``j/s``.

    Parameters
    ----------
    y : array_like
        Any real array, e.g. a transposed convolution's output.
    stride : int or sequence of ints
        Period of the suspected checkerboard, per analysed axis.
    axes : int or sequence of ints, optional
        Axes analysed.  Default: the last ``len(stride)`` axes when
        ``stride`` is a sequence; otherwise every axis of an array with at
        most 2 dimensions, and the spatial axes ``2, 3, ...`` of a
        ``(N, C, *spatial)`` array with 3 or more.

    Returns
    -------
    float
        In ``[0, 1]``: near 0 for smooth images, 1 for a pure period-``s``
        pattern; 0 for an array that is constant up to rounding (deviations
        below ``64 eps`` of its largest magnitude, with the ``eps`` of its
        dtype: float32's for float16 and float32, else float64's).

    Raises
    ------
    TypeError, ValueError
        For a non-numeric or non-finite ``y``, invalid ``axes`` or
        ``stride``, or an axis shorter than its stride.

    Notes
    -----
    Each analysed axis is cropped to a multiple of its stride, ``L' = s*floor(L/s)``,
    so that the frequencies ``j/s`` fall on FFT bins ``j L'/s``.  With ``P``
    the power ``|FFT(y - mean)|^2`` over the analysed axes (means taken per
    leading index), the result is ``sum P[j_1 L'_1/s_1, ..., j_n L'_n/s_n]``
    over ``0 <= j_a < s_a``, not all zero, divided by ``sum P``; leading
    axes are pooled.  A checkerboard ``m(o) * c(o)`` (``c`` of period ``s``)
    puts ``|sum m|^2``-weighted energy on those exact bins: the measure sees
    the checkerboard of the local mean (images: positive intensities); for an
    envelope ``m`` of zero mean the energy lands next to them and is not
    counted.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv import stride_frequency_energy
    >>> board = np.indices((8, 8)).sum(axis=0) % 2
    >>> stride_frequency_energy(board, 2)
    1.0
    >>> round(stride_frequency_energy(np.arange(64.0), 2), 4)
    0.0007
    """
    func = "stride_frequency_energy"
    _, (ya,) = v.float_arrays(func, y=y)
    a = ya
    eps = float(np.finfo(a.dtype).eps)  # float16 and float32 input: float32's; float64: float64's
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        raise ValueError(f"{func}: y must have at least one axis, got a scalar")
    if axes is None:
        if _is_seq(stride):
            n = len(stride)
            if not 1 <= n <= a.ndim:
                raise ValueError(f"{func}: stride has {n} entries but y has {a.ndim} axes (shape {a.shape})")
            ax = tuple(range(a.ndim - n, a.ndim))
        else:
            ax = tuple(range(a.ndim)) if a.ndim <= 2 else tuple(range(2, a.ndim))
    else:
        raw = v.int_tuple(axes, len(axes) if _is_seq(axes) else 1, func, "axes")
        if not raw or any(not -a.ndim <= x < a.ndim for x in raw):
            raise ValueError(f"{func}: every entry of axes must be in [{-a.ndim}, {a.ndim - 1}] "
                             f"for y of shape {a.shape}, got {axes!r}")
        ax = tuple(x % a.ndim for x in raw)
        if len(set(ax)) != len(ax):
            raise ValueError(f"{func}: axes must not repeat an axis, got {axes!r}")
    s = v.int_tuple(stride, len(ax), func, "stride", minimum=1)
    for x, s_ in zip(ax, s, strict=False):
        if a.shape[x] < s_:
            raise ValueError(f"{func}: axis {x} of y (length {a.shape[x]}) is shorter than its stride {s_}")
    crop = [slice(None)] * a.ndim
    for x, s_ in zip(ax, s, strict=False):
        crop[x] = slice(0, a.shape[x] - a.shape[x] % s_)
    a = a[tuple(crop)]
    if not np.isfinite(a).all():
        raise ValueError(f"{func}: y must be finite (no inf or NaN): its spectrum is undefined")
    scale = float(np.abs(a).max(initial=0.0))
    a = a - a.mean(axis=ax, keepdims=True)
    power = np.abs(np.fft.fftn(a, axes=ax)) ** 2
    dc = [slice(None)] * a.ndim
    for x in ax:
        dc[x] = slice(0, 1)
    power[tuple(dc)] = 0.0  # the mean: removed above, up to rounding, which must not count
    total = float(power.sum())
    # Parseval: rounding alone (|a| ~ eps * scale per element) gives about size * prod(L) * (eps * scale)^2
    floor = a.size * math.prod(a.shape[x] for x in ax) * (_FLAT_ULPS * eps * scale) ** 2
    if total <= floor:
        return 0.0  # a constant array, up to rounding
    sub = power
    for x, s_ in zip(ax, s, strict=False):
        sub = np.take(sub, np.arange(s_) * (a.shape[x] // s_), axis=x)
    return float(min(1.0, sub.sum() / total))


