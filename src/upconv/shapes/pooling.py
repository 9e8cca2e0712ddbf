"""Pooling and unpooling sizes."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from upconv import _validate as v
from upconv.shapes.convolution import (
    ConvGeometry,
    _sizes,
    ceil_div,
    effective_kernel_size,
    requested_size,
)

# --------------------------------------------------------------------------
# pooling and unpooling


def _is_pairs(value: Any) -> bool:  # duck-typed: anything with a length
    """Whether ``padding`` is given as ``(begin, end)`` pairs (ONNX ``pads``) rather than ints."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        return False
    return any(hasattr(p, "__len__") and not isinstance(p, (str, bytes)) for p in value)


def _first_real(start: int, k: int, d: int, size: int) -> int | None:
    """Input position of the first tap ``start + t*d`` (``0 <= t < k``) inside ``[0, size)``, else None."""
    t0 = max(0, -(start // d)) if start < 0 else 0
    pos = start + t0 * d
    return pos if t0 < k and 0 <= pos < size else None


@v.memoized
def pool_geometry(
    in_size: Sequence[int],
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple | None = None,
    padding: v.PadPairsLike = 0,
    dilation: v.IntOrTuple = 1,
    ceil_mode: bool = False,
    *,
    func: str = "pool_geometry",
) -> ConvGeometry:
    """Validate a max pooling's parameters (torch and ONNX rules) and return its geometry.

    ``stride=None`` means ``stride = kernel_size`` (torch's default).
    ``padding`` given as an int or one int per axis follows torch
    (``p <= kernel_size // 2``: the kernel size, not the dilated one);
    given as one ``(begin, end)`` pair per axis it is ONNX ``pads``, any
    non-negative sizes.  Per axis, with ``num = i + b + e - ek``:

    * floor mode: ``o = num // s + 1``
    * ceil mode: ``o = ceil(num / s) + 1``, minus one if ``(o - 1)*s >= i + b``
      (the last window must start inside the input or the leading padding;
      torch and ONNX use the same rule).

    In ceil mode the last window may reach past the end padding; the
    returned geometry's end padding is enlarged to ``(o-1)*s + ek - i - b``
    then, so that ``o = (i + b + e - ek) // s + 1`` holds for it.

    Raises
    ------
    ValueError
        If an output size is below 1, a torch-style padding exceeds
        ``kernel_size // 2``, or a window holds no input element (only
        padding: possible with dilation or large ONNX pads; torch returns
        ``-inf`` with an out-of-range index there).

    Examples
    --------
    >>> g = pool_geometry((5, 5), 2)
    >>> g.out_size, g.stride
    ((2, 2), (2, 2))
    >>> pool_geometry((5,), 2, ceil_mode=True).out_size
    (3,)
    >>> pool_geometry((5,), 3, stride=1, padding=[(2, 0)]).padding
    ((2, 0),)
    """
    i = _sizes(in_size, func, "input spatial size")
    n = len(i)
    k = _sizes(kernel_size, func, "kernel_size", n)
    s = k if stride is None else v.int_tuple(stride, n, func, "stride", minimum=1)
    d = v.int_tuple(dilation, n, func, "dilation", minimum=1)
    ceil_mode = v.boolean(ceil_mode, func, "ceil_mode")
    onnx_pads = _is_pairs(padding)
    pads = v.pad_pairs(padding, n, func, "padding")
    if not onnx_pads:
        for k_, (p, _) in zip(k, pads):
            if p > k_ // 2:
                raise ValueError(
                    f"{func}: padding must be at most half of kernel_size (padding <= kernel_size // 2, "
                    f"dilation not counted, as torch), got padding={tuple(b for b, _ in pads)}, "
                    f"kernel_size={k}; give (begin, end) pairs for ONNX pads without this rule"
                )
    out, eff = [], []
    for ax, (i_, k_, s_, d_, (b, e)) in enumerate(zip(i, k, s, d, pads)):
        ek = effective_kernel_size(k_, d_)
        num = i_ + b + e - ek
        o = (ceil_div(num, s_) if ceil_mode else num // s_) + 1
        if ceil_mode and (o - 1) * s_ >= i_ + b:
            o -= 1
        if o < 1:
            raise ValueError(
                f"{func}: output size is too small on spatial axis {ax}: {o} (input size {i_}, "
                f"kernel_size={k_}, stride={s_}, padding=({b}, {e}), dilation={d_}, ceil_mode={ceil_mode})"
            )
        # only windows starting in the leading padding or past the input can miss every element; of those
        # in the padding, window o + d/gcd(s, d) starts a multiple of d later than window o, so it reads
        # the same residue with fewer taps before it: the first d/gcd(s, d) decide (work bounded by d,
        # not by the padding: pads of 10**9 are an error found at once)
        leading = min(o, ceil_div(b, s_), d_ // math.gcd(s_, d_))
        for start in itertools.chain((o_ * s_ - b for o_ in range(leading)), ((o - 1) * s_ - b,)):
            if _first_real(start, k_, d_, i_) is None:
                raise ValueError(
                    f"{func}: a pooling window on spatial axis {ax} holds padding only (window start "
                    f"{start}, input size {i_}, kernel_size={k_}, stride={s_}, padding=({b}, {e}), "
                    f"dilation={d_}, ceil_mode={ceil_mode})"
                )
        out.append(o)
        eff.append((b, max(e, (o - 1) * s_ + ek - i_ - b)))
    return ConvGeometry(i, tuple(out), k, s, d, tuple(eff))


def pool_output_size(
    in_size: Sequence[int],
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple | None = None,
    padding: v.PadPairsLike = 0,
    dilation: v.IntOrTuple = 1,
    ceil_mode: bool = False,
) -> tuple[int, ...]:
    """Output spatial size of max pooling (torch ``MaxPoolNd``, ONNX ``MaxPool``).

    ``o = (i + b + e - ek) // s + 1`` (floor mode), or the ceil-mode rule of
    :func:`pool_geometry`.  ``stride=None`` is ``kernel_size``.

    Examples
    --------
    >>> pool_output_size((4, 4), 2)
    (2, 2)
    >>> pool_output_size((6,), 3, stride=2, ceil_mode=True)
    (3,)
    >>> pool_output_size((5,), 3, stride=1, padding=[(2, 2)])
    (7,)
    """
    return pool_geometry(in_size, kernel_size, stride, padding, dilation, ceil_mode, func="pool_output_size").out_size


def max_unpool_output_size(
    in_size: Sequence[int],
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple | None = None,
    padding: v.PadPairsLike = 0,
    output_size: Sequence[int] | None = None,
    *,
    func: str = "max_unpool_output_size",
) -> tuple[int, ...]:
    """Output spatial size of max unpooling (torch ``max_unpoolNd``).

    The default is the largest input a pooling with these parameters maps to
    ``i`` without ceil mode: ``o = (i - 1)*s - b - e + k`` (no dilation;
    ``stride=None`` is ``kernel_size``; ``padding`` as an int, ints or
    ``(begin, end)`` pairs).  ``output_size`` (``n`` entries, or ``n + 2``
    whose leading N, C are dropped) replaces it; each entry must lie strictly
    between ``default - s`` and ``default + s``, as torch requires.  A size of
    0 is allowed, as torch (the result is empty).

    Raises
    ------
    ValueError
        If ``output_size`` is out of that range or an output size is negative.

    Examples
    --------
    >>> max_unpool_output_size((2, 2), 2)
    (4, 4)
    >>> max_unpool_output_size((2, 2), 2, output_size=(1, 1, 5, 5))
    (5, 5)
    >>> max_unpool_output_size((3,), 3, stride=2, padding=1)
    (5,)
    >>> max_unpool_output_size((1,), 1, stride=2, output_size=(0,))
    (0,)
    """
    i = _sizes(in_size, func, "input spatial size")
    n = len(i)
    k = _sizes(kernel_size, func, "kernel_size", n)
    s = k if stride is None else v.int_tuple(stride, n, func, "stride", minimum=1)
    pads = v.pad_pairs(padding, n, func, "padding")
    default = tuple((i_ - 1) * s_ - b - e + k_ for i_, k_, s_, (b, e) in zip(i, k, s, pads))
    if output_size is None:
        if any(o < 0 for o in default):
            raise ValueError(
                f"{func}: output size is too small: {default} (input {i}, kernel_size={k}, stride={s}, "
                f"padding={pads})"
            )
        return default
    o = requested_size(output_size, n, func, minimum=0)
    for ax, (o_, m, s_) in enumerate(zip(o, default, s)):
        if not m - s_ < o_ < m + s_:
            raise ValueError(
                f"{func}: invalid output_size {o} (spatial axis {ax} must be strictly between "
                f"{m - s_} and {m + s_}, for an input of {i})"
            )
    return o


def unpool_output_size(in_size: Sequence[int], scale_factor: v.IntOrTuple) -> tuple[int, ...]:
    """Output spatial size of nearest / bed-of-nails unpooling: ``o = i * s``.

    Examples
    --------
    >>> unpool_output_size((3, 4), 2)
    (6, 8)
    >>> unpool_output_size((3, 4), (1, 3))
    (3, 12)
    """
    func = "unpool_output_size"
    i = _sizes(in_size, func, "in_size")
    s = v.int_tuple(scale_factor, len(i), func, "scale_factor", minimum=1)
    return tuple(i_ * s_ for i_, s_ in zip(i, s))
