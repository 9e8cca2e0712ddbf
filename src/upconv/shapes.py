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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import _validate as v

__all__ = [
    "ConvGeometry",
    "conv_geometry",
    "conv_transpose_geometry",
    "conv_output_size",
    "conv_transpose_output_size",
    "conv_transpose_output_size_range",
    "conv_transpose_output_padding",
    "same_padding",
    "onnx_conv_transpose_padding",
    "effective_kernel_size",
]

Pairs = tuple[tuple[int, int], ...]


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
        out = -(-i_ // s_)
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
    (((1, 2), (1, 2)), (0, 0))
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
    for f, o_ in zip(full, o):
        total = f - o_
        if total < 0:
            pairs.append((0, 0))
            extra.append(-total)
        else:
            begin = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
            pairs.append((begin, total - begin))
            extra.append(0)
    return tuple(pairs), tuple(a_ + e for a_, e in zip(a, extra))
