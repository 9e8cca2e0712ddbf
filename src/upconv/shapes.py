"""All size and padding arithmetic of upconv, on plain integers.

Every operator asks this module for its output size; nothing else computes
one.  The functions take per-axis sizes (tuples, one entry per spatial axis),
validate them with torch's rules and return tuples, so they can be used to
plan a network without allocating anything.

Notation (Dumoulin & Visin, "A guide to convolution arithmetic", arXiv:1603.07285):
per axis, input size ``i``, kernel ``k``, stride ``s``, padding ``p`` (or a
``(begin, end)`` pair), dilation ``d``, output padding ``a``; the effective
kernel is ``ek = d*(k-1) + 1``.

==============================  ==============================================
conv output                      ``o = (i + p_begin + p_end - ek) // s + 1``
conv_transpose output            ``o = (i-1)*s + ek - p_begin - p_end + a``
``output_size`` range            ``[(i-1)*s + ek - 2p, (i-1)*s + ek - 2p + s - 1]``
==============================================================================

The central object is :class:`ConvGeometry`: the geometry of one
convolution, ``in_size -> out_size``.  A transposed convolution is described
by the geometry of the convolution it is the adjoint of (its gradient), run
backwards ``out_size -> in_size``; its ``output_padding`` becomes a smaller
(possibly negative) end padding of that convolution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from upconv import _validate as v

__all__ = [
    "ceil_div",
    "ConvGeometry",
    "PhaseClass",
    "phase_decomposition",
    "tap_reach",
    "zero_insertion_padding",
    "zero_insertion_geometry",
    "stamping_canvas",
    "zero_insertion_canvas",
    "conv_geometry",
    "conv_transpose_geometry",
    "conv_output_size",
    "conv_transpose_output_size",
    "conv_transpose_output_size_range",
    "conv_transpose_output_padding",
    "same_padding",
    "onnx_conv_transpose_padding",
    "effective_kernel_size",
    "interpolate_output_size",
    "ResizeGeometry",
    "resize_geometry",
    "resize_output_size",
    "pool_geometry",
    "pool_output_size",
    "max_unpool_output_size",
    "unpool_output_size",
    "conv_transpose_interior",
    "resize_conv_transpose_padding",
    "fft_conv_size",
]

Pairs = tuple[tuple[int, int], ...]


def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for integers, exactly (no float rounding): ``-(-a // b)``.

    Examples
    --------
    >>> from upconv import shapes
    >>> shapes.ceil_div(7, 2), shapes.ceil_div(8, 2), shapes.ceil_div(-7, 2)
    (4, 4, -3)
    """
    return -(-a // b)


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: ``d*(k-1) + 1``.

    Examples
    --------
    >>> effective_kernel_size(3, dilation=2)
    5
    """
    return dilation * (kernel_size - 1) + 1


@dataclass(frozen=True)
class ConvGeometry:
    """Per-axis geometry of a convolution ``in_size -> out_size`` (and of its transpose).

    Attributes are tuples with one entry per spatial axis.  ``padding`` holds
    ``(begin, end)`` pairs; as the geometry of a transposed convolution the
    end entry may be negative (``end - output_padding``), meaning the
    convolution ignores the last input elements.

    The invariant ``out = (in + begin + end - ek) // s + 1`` always holds;
    for geometries made by :func:`conv_transpose_geometry` the division is
    exact, i.e. every input element of the convolution is reached.
    """

    in_size: tuple[int, ...]
    out_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: Pairs

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return len(self.in_size)

    @property
    def effective_kernel_size(self) -> tuple[int, ...]:
        """``d*(k-1) + 1`` per axis."""
        return tuple(map(effective_kernel_size, self.kernel_size, self.dilation))

    @property
    def full_size(self) -> tuple[int, ...]:
        """Un-cropped length of the transposed convolution, ``(out-1)*s + ek``."""
        return tuple((o - 1) * s + ek for o, s, ek in zip(self.out_size, self.stride, self.effective_kernel_size))


class PhaseClass(NamedTuple):
    """One residue class of the polyphase decomposition of a transposed convolution on one axis.

    The outputs ``first, first + s, first + 2s, ...`` (``count`` of them)
    receive exactly the kernel taps ``taps`` (listed in the order they are
    applied); for them the transposed convolution is an ordinary stride-1
    correlation of the input with those taps, taps ``dilation`` apart and
    input padding ``padding`` (``(begin, end)``, negative = crop).
    """

    first: int
    count: int
    taps: tuple[int, ...]
    dilation: int
    padding: tuple[int, int]


def phase_decomposition(g: ConvGeometry, axis: int) -> tuple[PhaseClass, ...]:
    """Split axis ``axis`` of the transposed convolution ``g`` into its ``s`` residue classes.

    Output ``o`` sits at ``f = o + p_begin`` in the un-cropped result, which
    input ``j`` reaches through tap ``t`` iff ``f = j*s + t*d``: only the taps
    with ``t*d = f (mod s)`` reach it, and they are ``s / gcd(d, s)`` apart, so
    along the outputs of one class they form a dense kernel with dilation
    ``d / gcd(d, s)``.  Classes reached by no tap, or holding no output, have
    ``taps == ()`` or ``count == 0``.

    Examples
    --------
    >>> g = conv_transpose_geometry((2,), 3, stride=2)      # 2 -> 5
    >>> [(c.first, c.count, c.taps) for c in phase_decomposition(g, 0)]
    [(0, 3, (2, 0)), (1, 2, (1,))]
    """
    s, d, k, (pb, _) = g.stride[axis], g.dilation[axis], g.kernel_size[axis], g.padding[axis]
    length, m = g.in_size[axis], g.out_size[axis]
    step = d // math.gcd(d, s)
    classes = []
    for r in range(s):
        first = (r - pb) % s
        count = max(0, (length - first + s - 1) // s)
        taps = tuple(t for t in range(k) if (t * d) % s == r)[::-1]  # input offset increases
        if count == 0 or not taps:
            classes.append(PhaseClass(first, count, taps, step, (0, 0)))
            continue
        pad_b = -((first + pb - taps[0] * d) // s)
        pad_e = count - 1 + step * (len(taps) - 1) + 1 - m - pad_b
        classes.append(PhaseClass(first, count, taps, step, (pad_b, pad_e)))
    return tuple(classes)


def tap_reach(g: ConvGeometry, axis: int, tap: int) -> tuple[range, range]:
    """The outputs whose tap ``tap`` reads inside the input on axis ``axis``, and the inputs they read.

    Output ``o`` of the convolution ``g`` reads, through tap ``t``, input
    ``i = o*s + t*d - p_begin`` (reads outside ``[0, in_size)`` fall on the
    padding); every view uses this map: the transposed convolution stamps its
    input ``o`` through tap ``t`` onto its output ``i``, and the matrix ``C``
    holds ``w[t]`` at ``(o, i)``.  Returns ``(outputs, inputs)``, two ranges of
    one length with ``inputs[j] = outputs[j]*s + t*d - p_begin``.

    Examples
    --------
    >>> g = conv_geometry((5,), 3, stride=2, padding=1)      # 5 -> 3
    >>> tap_reach(g, 0, 0)                                   # output 0 reads the padding
    (range(1, 3), range(1, 5, 2))
    >>> tap_reach(g, 0, 2)
    (range(0, 2), range(1, 5, 2))
    """
    s, d, pb = g.stride[axis], g.dilation[axis], g.padding[axis][0]
    offset = tap * d - pb  # the input output 0 reads
    lo = max(0, ceil_div(-offset, s))
    hi = max(lo, min(g.out_size[axis], (g.in_size[axis] - 1 - offset) // s + 1))
    return range(lo, hi), range(lo * s + offset, hi * s + offset, s)


def zero_insertion_padding(g: ConvGeometry) -> Pairs:
    """Padding of the zero-inserted input in the zero-insertion view of a transposed convolution.

    ``(ek - 1 - p_begin, ek - 1 - p_end)`` per axis, where ``p_end`` already
    includes the output padding (negative entries crop): after inserting
    ``s - 1`` zeros between input pixels and padding this much, a stride-1
    correlation with the flipped kernel gives the transposed convolution
    (Dumoulin & Visin, relationship 14).

    Examples
    --------
    >>> zero_insertion_padding(conv_transpose_geometry((2, 2), 3, stride=2))
    ((2, 2), (2, 2))
    >>> zero_insertion_padding(conv_transpose_geometry((4,), 3, stride=2, padding=1, output_padding=1))
    ((1, 2),)
    """
    return tuple((ek - 1 - b, ek - 1 - e) for ek, (b, e) in zip(g.effective_kernel_size, g.padding))


def _sizes(value: Any, func: str, name: str, n: int | None = None) -> tuple[int, ...]:
    if n is None:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise TypeError(f"{func}: {name} must be a sequence of positive integers, got {value!r}")
        n = len(value)
        if n == 0:
            raise ValueError(f"{func}: {name} must have at least one spatial axis, got {value!r}")
    return v.int_tuple(value, n, func, name, minimum=1)


def _conv_params(func: str, n: int, kernel_size: Any, stride: Any, dilation: Any):
    k = _sizes(kernel_size, func, "kernel_size", n)
    s = v.int_tuple(stride, n, func, "stride", minimum=1)
    d = v.int_tuple(dilation, n, func, "dilation", minimum=1)
    return k, s, d


def same_padding(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    dilation: int | Sequence[int] = 1,
    mode: str = "same_upper",
) -> Pairs:
    """Padding pairs that give ``out = ceil(in / s)`` (ONNX ``auto_pad``, torch ``padding='same'``).

    ``total = max(0, (out-1)*s + ek - in)``; ``"same_upper"`` puts the odd
    element at the end (``begin = total // 2``, as torch's ``'same'``),
    ``"same_lower"`` at the beginning.

    Examples
    --------
    >>> same_padding((5, 6), 4)
    ((1, 2), (1, 2))
    >>> same_padding((5,), 4, mode="same_lower")
    ((2, 1),)
    >>> same_padding((7,), 3, stride=2)
    ((1, 1),)
    """
    func = "same_padding"
    i = _sizes(in_size, func, "in_size")
    k, s, d = _conv_params(func, len(i), kernel_size, stride, dilation)
    mode = v.choice(mode, ("same_upper", "same_lower"), func, "mode")
    pairs = []
    for i_, k_, s_, d_ in zip(i, k, s, d):
        out = ceil_div(i_, s_)
        total = max(0, (out - 1) * s_ + effective_kernel_size(k_, d_) - i_)
        begin = total // 2 if mode == "same_upper" else total - total // 2
        pairs.append((begin, total - begin))
    return tuple(pairs)


def conv_geometry(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    *,
    func: str = "conv_geometry",
) -> ConvGeometry:
    """Validate a convolution's parameters (torch's rules) and return its geometry.

    ``padding`` is an int, one int per axis, one ``(begin, end)`` pair per
    axis, ``"valid"`` (no padding) or ``"same"`` (stride 1 only, as torch;
    use :func:`same_padding` for ONNX ``SAME_UPPER``/``SAME_LOWER`` with
    strides).

    Examples
    --------
    >>> g = conv_geometry((4, 4), 3)
    >>> g.out_size, g.padding
    ((2, 2), ((0, 0), (0, 0)))
    """
    i = _sizes(in_size, func, "input spatial size")
    n = len(i)
    k, s, d = _conv_params(func, n, kernel_size, stride, dilation)
    if isinstance(padding, str):
        padding = v.choice(padding, ("valid", "same"), func, "padding")
        if padding == "valid":
            pads: Pairs = ((0, 0),) * n
        else:
            if any(s_ != 1 for s_ in s):
                raise ValueError(
                    f"{func}: padding='same' is not supported for strided convolutions (stride={s}); "
                    "use upconv.shapes.same_padding(...) for ONNX SAME_UPPER/SAME_LOWER"
                )
            pads = same_padding(i, k, 1, d)
    else:
        pads = v.pad_pairs(padding, n, func, "padding")
    out = []
    for ax, (i_, k_, s_, d_, (b, e)) in enumerate(zip(i, k, s, d, pads)):
        ek = effective_kernel_size(k_, d_)
        if i_ + b + e < ek:
            raise ValueError(
                f"{func}: the kernel is larger than the padded input on spatial axis {ax}: "
                f"effective kernel size {ek} (kernel_size={k_}, dilation={d_}) > "
                f"input size {i_} + padding {b}+{e}"
            )
        out.append((i_ + b + e - ek) // s_ + 1)
    return ConvGeometry(i, tuple(out), k, s, d, pads)


def _transpose_min_size(g_in: int, k: int, s: int, d: int, b: int, e: int) -> int:
    return (g_in - 1) * s + effective_kernel_size(k, d) - b - e


def conv_transpose_output_size_range(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Smallest and largest output size a transposed convolution can produce.

    The smallest is ``(i-1)*s + ek - p_begin - p_end``; ``output_size`` may
    exceed it by at most ``s - 1`` (the sizes of every input a convolution
    with these parameters maps to ``i``), as ``nn.ConvTransposeNd.forward``.

    Examples
    --------
    >>> conv_transpose_output_size_range((4,), 3, stride=2, padding=1)
    ((7,), (8,))
    """
    func = "conv_transpose_output_size_range"
    i = _sizes(in_size, func, "in_size")
    k, s, d = _conv_params(func, len(i), kernel_size, stride, dilation)
    pads = v.pad_pairs(padding, len(i), func)
    lo = tuple(_transpose_min_size(*args, b, e) for *args, (b, e) in zip(i, k, s, d, pads))
    return lo, tuple(m + s_ - 1 for m, s_ in zip(lo, s))


def conv_transpose_output_padding(
    output_size: Sequence[int],
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    *,
    func: str = "conv_transpose_output_padding",
) -> tuple[int, ...]:
    """The ``output_padding`` that makes a transposed convolution produce ``output_size``.

    ``output_size`` has one entry per spatial axis, or two more (leading N, C
    entries are dropped), as ``nn.ConvTransposeNd.forward(x, output_size)``.

    Raises
    ------
    ValueError
        If ``output_size`` is outside :func:`conv_transpose_output_size_range`.

    Examples
    --------
    >>> conv_transpose_output_padding((8, 7), (4, 4), 3, stride=2, padding=1)
    (1, 0)
    """
    i = _sizes(in_size, func, "in_size")
    n = len(i)
    if isinstance(output_size, (str, bytes)) or not isinstance(output_size, Sequence):
        raise TypeError(f"{func}: output_size must be a sequence of integers, got {output_size!r}")
    if len(output_size) == n + 2:
        output_size = tuple(output_size)[2:]
    if len(output_size) != n:
        raise ValueError(
            f"{func}: output_size must have {n} or {n + 2} elements (got {len(output_size)}): {output_size!r}"
        )
    o = v.int_tuple(tuple(output_size), n, func, "output_size")
    lo, hi = conv_transpose_output_size_range(i, kernel_size, stride, padding, dilation)
    if any(not (a <= b <= c) for a, b, c in zip(lo, o, hi)):
        raise ValueError(
            f"{func}: requested an output size of {o}, but valid sizes range from {lo} to {hi} "
            f"(for an input of {i})"
        )
    return tuple(b - a for a, b in zip(lo, o))


def conv_transpose_geometry(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
    *,
    output_size: Sequence[int] | None = None,
    func: str = "conv_transpose_geometry",
) -> ConvGeometry:
    """Validate a transposed convolution's parameters and return the geometry of its adjoint conv.

    The transposed convolution maps ``in_size`` (here the returned geometry's
    ``out_size``) to the geometry's ``in_size``.  ``padding`` crops
    ``begin``/``end`` elements off the un-cropped result of length
    ``(i-1)*s + ek``; ``output_padding`` (``0 <= a < max(s, d)``) extends it at
    the end; ``output_size`` replaces ``output_padding`` (torch semantics).

    Examples
    --------
    >>> g = conv_transpose_geometry((2, 2), 3, stride=2)
    >>> g.in_size, g.out_size
    ((5, 5), (2, 2))
    >>> conv_transpose_geometry((4,), 3, stride=2, padding=1, output_padding=1).padding
    ((1, 0),)
    """
    i = _sizes(in_size, func, "input spatial size")
    n = len(i)
    k, s, d = _conv_params(func, n, kernel_size, stride, dilation)
    pads = v.pad_pairs(padding, n, func, "padding")
    if output_size is not None:
        a = conv_transpose_output_padding(output_size, i, k, s, pads, d, func=func)
    else:
        a = v.int_tuple(output_padding, n, func, "output_padding", minimum=0)
        for a_, s_, d_ in zip(a, s, d):
            if a_ >= max(s_, d_):
                raise ValueError(
                    f"{func}: output_padding must be smaller than either stride or dilation "
                    f"(0 <= output_padding < max(stride, dilation)), got output_padding={a}, "
                    f"stride={s}, dilation={d}"
                )
    out = tuple(_transpose_min_size(*args, b, e) + a_ for *args, (b, e), a_ in zip(i, k, s, d, pads, a))
    if any(o < 1 for o in out):
        raise ValueError(
            f"{func}: output size is too small: {out} (input {i}, kernel_size={k}, stride={s}, "
            f"padding={pads}, output_padding={a}, dilation={d})"
        )
    return ConvGeometry(out, i, k, s, d, tuple((b, e - a_) for (b, e), a_ in zip(pads, a)))


def conv_output_size(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
) -> tuple[int, ...]:
    """Output spatial size of a convolution: ``(i + p_begin + p_end - ek) // s + 1``.

    Examples
    --------
    >>> conv_output_size((4, 4), 3)
    (2, 2)
    >>> conv_output_size((7,), 3, stride=2, padding=1)
    (4,)
    """
    return conv_geometry(in_size, kernel_size, stride, padding, dilation, func="conv_output_size").out_size


def conv_transpose_output_size(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
) -> tuple[int, ...]:
    """Output spatial size of a transposed convolution: ``(i-1)*s + ek - p_begin - p_end + a``.

    Examples
    --------
    >>> conv_transpose_output_size((2, 2), 3, stride=2)
    (5, 5)
    >>> conv_transpose_output_size((8, 8), 4, stride=2, padding=1)
    (16, 16)
    """
    return conv_transpose_geometry(
        in_size, kernel_size, stride, padding, output_padding, dilation, func="conv_transpose_output_size"
    ).in_size


def onnx_conv_transpose_padding(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    dilation: Any = 1,
    *,
    pads: Sequence[int] | None = None,
    auto_pad: str = "NOTSET",
    output_shape: Sequence[int] | None = None,
    output_padding: Any = 0,
) -> tuple[Pairs, tuple[int, ...]]:
    """Translate ONNX ConvTranspose attributes into upconv ``(padding, output_padding)``.

    ONNX ``pads`` is ``[b_1..b_n, e_1..e_n]``.  With ``output_shape`` or
    ``auto_pad`` ``SAME_UPPER``/``SAME_LOWER`` the output length ``O`` is given
    (``O = in*s`` for SAME) and ``total = (i-1)*s + ek + a - O`` is split
    ``begin = total // 2`` (``SAME_UPPER``) or ``total - total // 2``;
    a negative total becomes output padding at the end.  The result is passed
    to :func:`upconv.conv_transpose` as ``padding=...,
    output_padding=...``.

    Examples
    --------
    >>> onnx_conv_transpose_padding((3, 3), 3, 2, auto_pad="SAME_UPPER")
    (((0, 1), (0, 1)), (0, 0))
    >>> onnx_conv_transpose_padding((3,), 3, 1, output_shape=(6,))
    (((0, 0),), (1,))
    """
    func = "onnx_conv_transpose_padding"
    i = _sizes(in_size, func, "in_size")
    n = len(i)
    k, s, d = _conv_params(func, n, kernel_size, stride, dilation)
    a = v.int_tuple(output_padding, n, func, "output_padding", minimum=0)
    auto_pad = v.choice(auto_pad, ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"), func, "auto_pad")
    full = tuple((i_ - 1) * s_ + effective_kernel_size(k_, d_) + a_ for i_, k_, s_, d_, a_ in zip(i, k, s, d, a))
    if output_shape is None and auto_pad in ("NOTSET", "VALID"):
        if pads is None or auto_pad == "VALID":
            return ((0, 0),) * n, a
        p = v.int_tuple(pads, 2 * n, func, "pads", minimum=0)
        return tuple(zip(p[:n], p[n:])), a
    if output_shape is not None:
        o = _sizes(output_shape, func, "output_shape", n)
    else:
        o = tuple(i_ * s_ for i_, s_ in zip(i, s))
    pairs, extra = [], []
    for ax, (f, o_) in enumerate(zip(full, o)):
        total = f - o_
        begin = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
        if begin < 0:
            raise ValueError(
                f"{func}: on axis {ax} the output of {o_} elements would start {-begin} element(s) before "
                f"the un-cropped result of {f} (total padding {total}, auto_pad={auto_pad!r}); a negative "
                "begin padding has no conv_transpose equivalent"
            )
        pairs.append((begin, max(0, total - begin)))
        extra.append(max(0, begin - total))
    return tuple(pairs), tuple(a_ + e for a_, e in zip(a, extra))


# --------------------------------------------------------------------------
# interpolation (torch interpolate) and resize (ONNX Resize)


def interpolate_output_size(
    in_size: Sequence[int],
    size: Any = None,
    scale_factor: Any = None,
    *,
    allow_empty: bool = False,
    func: str = "interpolate_output_size",
) -> tuple[int, ...]:
    """Output spatial size of ``torch.nn.functional.interpolate``.

    Exactly one of ``size`` (an int for every axis, or one int per axis) and
    ``scale_factor`` (a number, or one per axis) is given.  From a scale
    factor the size is ``o = floor(i * scale_factor)``, the product taken in
    double precision as torch does (``int(i * sf)``): ``i = 3, sf = 2.1``
    gives 6.  Every size must be >= 1, or >= 0 with ``allow_empty`` (torch's
    rule for ``mode="area"``, i.e. adaptive average pooling).

    Raises
    ------
    ValueError
        If both or neither of ``size`` and ``scale_factor`` are given, if a
        length does not match ``in_size``, or if an output size is too small.
    TypeError
        If ``size`` holds non-integers or ``scale_factor`` non-numbers.

    Examples
    --------
    >>> interpolate_output_size((2, 2), scale_factor=2)
    (4, 4)
    >>> interpolate_output_size((5, 7), scale_factor=(0.5, 1.5))
    (2, 10)
    >>> interpolate_output_size((3,), scale_factor=2.1)
    (6,)
    >>> interpolate_output_size((5,), size=3)
    (3,)
    """
    i = _sizes(in_size, func, "input spatial size")
    n = len(i)
    if size is not None and scale_factor is not None:
        raise ValueError(f"{func}: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError(f"{func}: either size or scale_factor should be defined")
    minimum = 0 if allow_empty else 1
    if size is not None:
        if isinstance(size, (Sequence, np.ndarray)) and not isinstance(size, (str, bytes)) and len(size) != n:
            raise ValueError(
                f"{func}: size must have one entry per spatial axis: input with spatial size {i} and "
                f"size={size!r}; give the input as (N, C, d1, ..., dK) and size as (o1, ..., oK)"
            )
        return v.int_tuple(size, n, func, "size", minimum=minimum)
    sf = v.float_tuple(scale_factor, n, func, "scale_factor")
    out = tuple(int(i_ * s_) for i_, s_ in zip(i, sf))
    if any(o < minimum for o in out):
        raise ValueError(
            f"{func}: scale_factor={scale_factor!r} gives an output size of {out} for an input of {i}; "
            f"every output size must be >= {minimum}"
        )
    return out


@dataclass(frozen=True)
class ResizeGeometry:
    """Shapes and scales of an ONNX ``Resize``.

    ``scales`` has one entry per axis of ``x``: the scale used for the
    coordinate transformation (``1.0`` on axes that are not resized).
    ``axes`` lists the resized axes, non-negative, in the order they are
    processed (the order of the ``axes`` attribute, else ascending).
    """

    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    scales: tuple[float, ...]
    axes: tuple[int, ...]


def resize_geometry(
    in_shape: Sequence[int],
    sizes: Sequence[int] | None = None,
    scales: Sequence[float] | None = None,
    *,
    axes: Sequence[int] | None = None,
    keep_aspect_ratio_policy: str = "stretch",
    func: str = "resize_geometry",
) -> ResizeGeometry:
    """Output shape and coordinate scales of ONNX ``Resize`` (opset 19).

    ``sizes`` / ``scales`` (exactly one) have one entry per axis of ``x``, or
    per entry of ``axes`` (negative axes count from the end).

    * ``scales``: stored as float32 (an ONNX ``scales`` tensor is float), then
      ``o = floor(i * scale)`` in double precision.
    * ``sizes`` with ``keep_aspect_ratio_policy="stretch"``: ``o = sizes``,
      ``scale = o / i``.
    * ``"not_larger"`` / ``"not_smaller"``: ``scale = min`` / ``max`` of
      ``sizes[k] / i[k]`` over the listed axes; every listed axis gets
      ``o = floor(scale * i + 0.5)`` and that common scale.

    The spec's ``floor(i * (roi_end - roi_start) * scale)`` for
    ``tf_crop_and_resize`` with ``scales`` is not applied: like
    ``onnx.reference``, the region of interest does not change the size.

    Examples
    --------
    >>> g = resize_geometry((1, 1, 2, 4), scales=(1, 1, 0.6, 0.6))
    >>> g.out_shape, g.scales[2:]
    ((1, 1, 1, 2), (0.6000000238418579, 0.6000000238418579))
    >>> resize_geometry((1, 1, 4, 8), sizes=(8, 8), axes=(2, 3),
    ...                 keep_aspect_ratio_policy="not_larger").out_shape
    (1, 1, 4, 8)
    >>> resize_geometry((1, 1, 4, 8), sizes=(8, 8), axes=(2, 3),
    ...                 keep_aspect_ratio_policy="not_smaller").out_shape
    (1, 1, 8, 16)
    >>> resize_geometry((2, 3, 5), sizes=(7,), axes=(-1,)).scales
    (1.0, 1.0, 1.4)
    """
    if isinstance(in_shape, (str, bytes)) or not isinstance(in_shape, Sequence) or len(in_shape) == 0:
        raise TypeError(f"{func}: the input shape must be a non-empty sequence of integers, got {in_shape!r}")
    shape = v.int_tuple(tuple(in_shape), len(in_shape), func, "input shape", minimum=0)
    r = len(shape)
    policy = v.choice(
        keep_aspect_ratio_policy, ("stretch", "not_larger", "not_smaller"), func, "keep_aspect_ratio_policy"
    )
    if axes is None:
        ax = tuple(range(r))
    else:
        if isinstance(axes, (str, bytes)) or not isinstance(axes, (Sequence, np.ndarray)):
            raise TypeError(f"{func}: axes must be a sequence of integers, got {axes!r}")
        raw = v.int_tuple(tuple(axes), len(axes), func, "axes")
        if any(not -r <= a < r for a in raw):
            raise ValueError(f"{func}: every entry of axes must be in [{-r}, {r - 1}] for an input of rank {r}, got {axes!r}")
        ax = tuple(a % r for a in raw)
        if len(set(ax)) != len(ax):
            raise ValueError(f"{func}: axes must not repeat an axis, got {axes!r}")
    if (sizes is None) == (scales is None):
        raise ValueError(f"{func}: exactly one of sizes and scales must be given")
    scale = [1.0] * r
    out = list(shape)
    if scales is not None:
        sc = v.float_tuple(scales, len(ax), func, "scales", positive=True, scalar_ok=False)
        for a, s in zip(ax, sc):
            scale[a] = float(np.float32(s))
            out[a] = int(scale[a] * shape[a])
        return ResizeGeometry(shape, tuple(out), tuple(scale), ax)
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)):
        raise TypeError(f"{func}: sizes must be a sequence of {len(ax)} integers, got {sizes!r}")
    sz = v.int_tuple(tuple(sizes), len(ax), func, "sizes", minimum=0)
    if any(shape[a] == 0 for a in ax):
        raise ValueError(f"{func}: cannot resize a zero-length axis to a given size (input shape {shape}, axes {ax})")
    ratios = [s / shape[a] for a, s in zip(ax, sz)]
    if policy == "stretch":
        for a, s, q in zip(ax, sz, ratios):
            scale[a], out[a] = q, s
    else:
        common = min(ratios) if policy == "not_larger" else max(ratios)
        for a in ax:
            scale[a], out[a] = common, int(common * shape[a] + 0.5)
    return ResizeGeometry(shape, tuple(out), tuple(scale), ax)


def resize_output_size(
    in_shape: Sequence[int],
    sizes: Sequence[int] | None = None,
    scales: Sequence[float] | None = None,
    *,
    axes: Sequence[int] | None = None,
    keep_aspect_ratio_policy: str = "stretch",
) -> tuple[int, ...]:
    """Output shape of ONNX ``Resize``: ``resize_geometry(...).out_shape``.

    Examples
    --------
    >>> resize_output_size((1, 3, 4, 4), scales=(1, 1, 2, 1.5))
    (1, 3, 8, 6)
    >>> resize_output_size((1, 3, 4, 4), sizes=(1, 3, 6, 6))
    (1, 3, 6, 6)
    """
    return resize_geometry(
        in_shape, sizes, scales, axes=axes, keep_aspect_ratio_policy=keep_aspect_ratio_policy,
        func="resize_output_size",
    ).out_shape


# --------------------------------------------------------------------------
# pooling and unpooling


def _is_pairs(value: Any) -> bool:
    """Whether ``padding`` is given as ``(begin, end)`` pairs (ONNX ``pads``) rather than ints."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        return False
    return any(hasattr(p, "__len__") and not isinstance(p, (str, bytes)) for p in value)


def _first_real(start: int, k: int, d: int, size: int) -> int | None:
    """Input position of the first tap ``start + t*d`` (``0 <= t < k``) inside ``[0, size)``, else None."""
    t0 = max(0, -(start // d)) if start < 0 else 0
    pos = start + t0 * d
    return pos if t0 < k and 0 <= pos < size else None


def pool_geometry(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
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
        # only windows starting in the leading padding or past the input can miss every element
        for start in [o_ * s_ - b for o_ in range(min(o, ceil_div(b, s_)))] + [(o - 1) * s_ - b]:
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
    kernel_size: int | Sequence[int],
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
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
    kernel_size: int | Sequence[int],
    stride: Any = None,
    padding: Any = 0,
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
    between ``default - s`` and ``default + s``, as torch requires.

    Raises
    ------
    ValueError
        If ``output_size`` is out of that range or an output size is below 1.

    Examples
    --------
    >>> max_unpool_output_size((2, 2), 2)
    (4, 4)
    >>> max_unpool_output_size((2, 2), 2, output_size=(1, 1, 5, 5))
    (5, 5)
    >>> max_unpool_output_size((3,), 3, stride=2, padding=1)
    (5,)
    """
    i = _sizes(in_size, func, "input spatial size")
    n = len(i)
    k = _sizes(kernel_size, func, "kernel_size", n)
    s = k if stride is None else v.int_tuple(stride, n, func, "stride", minimum=1)
    pads = v.pad_pairs(padding, n, func, "padding")
    default = tuple((i_ - 1) * s_ - b - e + k_ for i_, k_, s_, (b, e) in zip(i, k, s, pads))
    if output_size is None:
        if any(o < 1 for o in default):
            raise ValueError(
                f"{func}: output size is too small: {default} (input {i}, kernel_size={k}, stride={s}, "
                f"padding={pads})"
            )
        return default
    if isinstance(output_size, (str, bytes)) or not isinstance(output_size, Sequence):
        raise TypeError(f"{func}: output_size must be a sequence of integers, got {output_size!r}")
    if len(output_size) == n + 2:
        output_size = tuple(output_size)[2:]
    if len(output_size) != n:
        raise ValueError(
            f"{func}: output_size must have {n} or {n + 2} elements (got {len(output_size)}): {output_size!r}"
        )
    o = v.int_tuple(tuple(output_size), n, func, "output_size", minimum=1)
    for ax, (o_, m, s_) in enumerate(zip(o, default, s)):
        if not m - s_ < o_ < m + s_:
            raise ValueError(
                f"{func}: invalid output_size {o} (spatial axis {ax} must be strictly between "
                f"{m - s_} and {m + s_}, for an input of {i})"
            )
    return o


def unpool_output_size(in_size: Sequence[int], scale_factor: int | Sequence[int]) -> tuple[int, ...]:
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


# --------------------------------------------------------------------------
# border analysis and layer equivalences (checkerboard analysis, planner)


def conv_transpose_interior(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
    *,
    input_interior: Any = None,
) -> Pairs:
    """Output positions of a transposed convolution that the input's borders do not affect.

    Output ``o`` sits at ``f = o + p_begin`` of the un-cropped result and
    can be reached from the inputs ``j`` with
    ``ceil((f - ek + 1) / s) <= j <= floor(f / s)``.  It is *interior* when
    all of them lie in ``input_interior = [lo, hi)`` (default: the whole
    input), i.e.

    ``(lo - 1)*s + ek <= f < hi*s``

    so its value equals that of the same layer applied to an infinite input
    (equal to the given one on ``[lo, hi)``).  Chaining the result into the
    next layer's ``input_interior`` gives the interior of a stack of layers.

    Returns
    -------
    tuple of (begin, end) pairs
        Half-open ranges, one per axis, clipped to ``[0, out)``;
        ``begin == end`` when no position is interior.

    Raises
    ------
    ValueError
        As :func:`conv_transpose_geometry`, or if ``input_interior`` is not
        inside ``[0, in_size]``.

    Examples
    --------
    >>> conv_transpose_interior((4,), 3, stride=2)                 # 4 -> 9
    ((1, 8),)
    >>> conv_transpose_interior((9,), 3, stride=2, input_interior=[(1, 8)])  # 9 -> 19
    ((3, 16),)
    >>> conv_transpose_interior((8,), 5), conv_transpose_interior((2,), 5)   # empty: begin == end
    (((4, 8),), ((4, 4),))
    """
    func = "conv_transpose_interior"
    g = conv_transpose_geometry(in_size, kernel_size, stride, padding, output_padding, dilation, func=func)
    n = g.ndim
    if input_interior is None:
        inner: Pairs = tuple((0, i_) for i_ in g.out_size)
    else:
        inner = v.pad_pairs(input_interior, n, func, "input_interior")
        if any(not lo <= hi <= i_ for (lo, hi), i_ in zip(inner, g.out_size)):
            raise ValueError(
                f"{func}: input_interior must be (lo, hi) pairs with 0 <= lo <= hi <= in_size={g.out_size}, "
                f"got {input_interior!r}"
            )
    out = []
    for (lo, hi), s, ek, (pb, _), length in zip(inner, g.stride, g.effective_kernel_size, g.padding, g.in_size):
        if lo >= hi:
            out.append((0, 0))
            continue
        begin = min(max(0, (lo - 1) * s + ek - pb), length)
        out.append((begin, max(begin, min(length, hi * s - pb))))
    return tuple(out)


def resize_conv_transpose_padding(kernel_size: int | Sequence[int], padding: Any = 0) -> Pairs:
    """Padding of the transposed convolution equal to nearest-upsampling followed by a convolution.

    Nearest upsampling by ``s`` then a stride-1 convolution with a ``k``-tap
    kernel and padding ``(p_begin, p_end)`` equals a stride-``s`` transposed
    convolution with ``k + s - 1`` taps (the flipped kernel convolved with a
    length-``s`` box) and padding ``(k - 1 - p_begin, k - 1 - p_end)``; both
    give ``o = i*s + p_begin + p_end - k + 1``.  A negative entry (``p > k - 1``)
    has no transposed-convolution equivalent.

    Examples
    --------
    >>> resize_conv_transpose_padding(3, padding=(1,))
    ((1, 1),)
    >>> resize_conv_transpose_padding((3, 2), padding=[(1, 1), (0, 1)])
    ((1, 1), (1, 0))
    """
    func = "resize_conv_transpose_padding"
    if isinstance(kernel_size, Sequence) and not isinstance(kernel_size, (str, bytes)):
        k = _sizes(kernel_size, func, "kernel_size")
    else:  # one int: as many axes as padding lists, else one
        n = len(padding) if isinstance(padding, Sequence) and not isinstance(padding, (str, bytes)) else 1
        k = _sizes(kernel_size, func, "kernel_size", max(n, 1))
    pads = v.pad_pairs(padding, len(k), func, "padding")
    return tuple((k_ - 1 - b, k_ - 1 - e) for k_, (b, e) in zip(k, pads))


def zero_insertion_geometry(g: ConvGeometry) -> ConvGeometry:
    """Geometry of the stride-1 correlation in the zero-insertion view of the transposed convolution ``g``.

    The transposed convolution's input (size ``g.out_size``) gets ``s - 1``
    zeros inserted between its pixels, giving ``(o - 1)*s + 1`` elements
    (the returned ``in_size``), is padded by :func:`zero_insertion_padding`
    (negative entries crop) and correlated, stride 1 and dilation ``d``, with
    the flipped kernel; the result has ``g.in_size`` elements (the returned
    ``out_size``).  For a geometry made by :func:`conv_geometry` whose
    division is not exact, first pass it through
    :func:`conv_transpose_geometry` with ``output_size=g.in_size``.

    Examples
    --------
    >>> z = zero_insertion_geometry(conv_transpose_geometry((2, 2), 3, stride=2))
    >>> z.in_size, z.out_size, z.padding
    ((3, 3), (5, 5), ((2, 2), (2, 2)))
    """
    n = g.ndim
    zero_inserted = tuple((o - 1) * s + 1 for o, s in zip(g.out_size, g.stride))
    return ConvGeometry(zero_inserted, g.in_size, g.kernel_size, (1,) * n, g.dilation, zero_insertion_padding(g))


def stamping_canvas(g: ConvGeometry) -> tuple[tuple[int, ...], Pairs]:
    """The canvas the stamps of the transposed convolution ``g`` land on, and where its output lies in it.

    Input pixel ``j`` stamps ``x[j] * w[t]`` at ``j*s + t*d``: the canvas is
    the un-cropped result, ``(i-1)*s + ek`` long, extended at the end by the
    output padding that reaches past it; the output is its half-open
    ``[p_begin, p_begin + out)`` per axis.

    Examples
    --------
    >>> stamping_canvas(conv_transpose_geometry((2, 2), 3, stride=2))
    ((5, 5), ((0, 5), (0, 5)))
    >>> stamping_canvas(conv_transpose_geometry((3,), 3, stride=1, padding=1, output_padding=1, dilation=2))
    ((7,), ((1, 7),))
    """
    size = tuple(f + max(0, -e) for f, (_, e) in zip(g.full_size, g.padding, strict=True))
    return size, tuple((b, b + o) for (b, _), o in zip(g.padding, g.in_size, strict=True))


def zero_insertion_canvas(g: ConvGeometry) -> tuple[tuple[int, ...], Pairs]:
    """The zero-inserted input of the transposed convolution ``g`` with its positive padding, and the part read.

    The zero-insertion view pads the zero-inserted input by
    :func:`zero_insertion_padding`, where a negative amount crops instead;
    the canvas keeps the cropped elements (``(o-1)*s + 1`` plus the positive
    padding per axis) and the stride-1 correlation reads its half-open
    ``[begin, end)``.

    Examples
    --------
    >>> zero_insertion_canvas(conv_transpose_geometry((2, 2), 3, stride=2))
    ((7, 7), ((0, 7), (0, 7)))
    >>> zero_insertion_canvas(conv_transpose_geometry((3,), 2, stride=3, padding=3, dilation=2))   # crops 1 per side
    ((7,), ((1, 6),))
    """
    gz = zero_insertion_geometry(g)
    size = tuple(i + max(b, 0) + max(e, 0) for i, (b, e) in zip(gz.in_size, gz.padding, strict=True))
    return size, tuple((max(-b, 0), n - max(-e, 0)) for n, (b, e) in zip(size, gz.padding, strict=True))


def fft_conv_size(in_size: Sequence[int], padding: Any = 0, *, fast: bool = True) -> tuple[int, ...]:
    """Circle length on which an FFT computes a zero-padded stride-1 convolution (and its transpose) exactly.

    A stride-1 correlation of ``in_size`` elements padded by ``(begin,
    end)`` reads only the padded input ``i + p_begin + p_end``, so on a circle
    at least that long no window wraps around, and the transposed
    convolution's result (``i`` elements) is not aliased either.  With
    ``fast`` the length is rounded up to the next size
    :func:`scipy.fft.next_fast_len` transforms quickly (real input).  Also
    the length of data padded by ``(begin, end)`` before a periodic
    (Wiener) deconvolution.

    Examples
    --------
    >>> fft_conv_size((256, 100), ((6, 6), (1, 1)), fast=False)
    (268, 102)
    >>> fft_conv_size((256, 100), ((6, 6), (1, 1)))
    (270, 108)
    """
    func = "fft_conv_size"
    i = _sizes(in_size, func, "in_size")
    pads = v.pad_pairs(padding, len(i), func, "padding")
    padded = tuple(i_ + b + e for i_, (b, e) in zip(i, pads))
    if not v.boolean(fast, func, "fast"):
        return padded
    from scipy.fft import next_fast_len

    return tuple(next_fast_len(p, real=True) for p in padded)
