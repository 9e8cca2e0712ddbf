"""Transposed-convolution sizes: output size and padding, the views' index maps and canvases, borders."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from upconv import _validate as v
from upconv.shapes.convolution import (
    ConvGeometry,
    Pairs,
    _conv_params,
    _sizes,
    ceil_div,
    effective_kernel_size,
    requested_size,
)


class PhaseClass(NamedTuple):
    """One residue class of the polyphase decomposition of a transposed convolution on one axis.

    The outputs ``first, first + s, first + 2s, ...`` (``count`` of them)
    receive exactly the kernel taps ``taps`` (listed in the order they are
    applied); for them the transposed convolution is an ordinary stride-1
    correlation of the input with those taps, taps ``dilation`` apart and
    input padding ``padding`` (``(begin, end)``, negative = crop).
    """

    first: int
    count: int  # type: ignore[assignment]  # the field shadows tuple.count (a public name, kept)
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
    >>> from upconv.shapes import conv_geometry, tap_reach
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



def _transpose_min_size(g_in: int, k: int, s: int, d: int, b: int, e: int) -> int:
    return (g_in - 1) * s + effective_kernel_size(k, d) - b - e


def conv_transpose_output_size_range(
    in_size: Sequence[int],
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple = 1,
    padding: v.PadPairsLike = 0,
    dilation: v.IntOrTuple = 1,
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
    lo = tuple(_transpose_min_size(i_, k_, s_, d_, b, e) for i_, k_, s_, d_, (b, e) in zip(i, k, s, d, pads))
    return lo, tuple(m + s_ - 1 for m, s_ in zip(lo, s))


def conv_transpose_output_padding(
    output_size: Sequence[int],
    in_size: Sequence[int],
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple = 1,
    padding: v.PadPairsLike = 0,
    dilation: v.IntOrTuple = 1,
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
    o = requested_size(output_size, n, func)
    lo, hi = conv_transpose_output_size_range(i, kernel_size, stride, padding, dilation)
    if any(not (a <= b <= c) for a, b, c in zip(lo, o, hi)):
        raise ValueError(
            f"{func}: requested an output size of {o}, but valid sizes range from {lo} to {hi} "
            f"(for an input of {i})"
        )
    return tuple(b - a for a, b in zip(lo, o))


@v.memoized
def conv_transpose_geometry(
    in_size: Sequence[int],
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple = 1,
    padding: v.PadPairsLike = 0,
    output_padding: v.IntOrTuple = 0,
    dilation: v.IntOrTuple = 1,
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
    out = tuple(
        _transpose_min_size(i_, k_, s_, d_, b, e) + a_ for i_, k_, s_, d_, (b, e), a_ in zip(i, k, s, d, pads, a)
    )
    if any(o < 1 for o in out):
        raise ValueError(
            f"{func}: output size is too small: {out} (input {i}, kernel_size={k}, stride={s}, "
            f"padding={pads}, output_padding={a}, dilation={d})"
        )
    return ConvGeometry(out, i, k, s, d, tuple((b, e - a_) for (b, e), a_ in zip(pads, a)))



def conv_transpose_output_size(
    in_size: Sequence[int],
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple = 1,
    padding: v.PadPairsLike = 0,
    output_padding: v.IntOrTuple = 0,
    dilation: v.IntOrTuple = 1,
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
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple = 1,
    dilation: v.IntOrTuple = 1,
    *,
    pads: Sequence[int] | None = None,
    auto_pad: str = "NOTSET",
    output_shape: Sequence[int] | None = None,
    output_padding: v.IntOrTuple = 0,
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
# border analysis and layer equivalences (checkerboard analysis, planner)


def conv_transpose_interior(
    in_size: Sequence[int],
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple = 1,
    padding: v.PadPairsLike = 0,
    output_padding: v.IntOrTuple = 0,
    dilation: v.IntOrTuple = 1,
    *,
    input_interior: v.PadPairsLike | None = None,
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


def resize_conv_transpose_padding(kernel_size: v.IntOrTuple, padding: v.PadPairsLike = 0) -> Pairs:
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
