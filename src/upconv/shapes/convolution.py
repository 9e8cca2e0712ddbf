"""Convolution sizes: the geometry of one convolution, ``in_size -> out_size``, and its padding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from upconv import _validate as v
from upconv._validate import Pairs

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


@overload
def ceil_div(a: int, b: int) -> int: ...


@overload
def ceil_div(a: npt.NDArray[np.integer[Any]], b: int) -> npt.NDArray[np.integer[Any]]: ...


def ceil_div(a: int | npt.NDArray[np.integer[Any]], b: int) -> int | npt.NDArray[np.integer[Any]]:
    """``ceil(a / b)`` for integers, exactly (no float rounding): ``-(-a // b)``; elementwise for integer arrays.

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


def _sizes(value: object, func: str, name: str, n: int | None = None) -> tuple[int, ...]:
    if n is None:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise TypeError(f"{func}: {name} must be a sequence of positive integers, got {value!r}")
        n = len(value)
        if n == 0:
            raise ValueError(f"{func}: {name} must have at least one spatial axis, got {value!r}")
    return v.int_tuple(value, n, func, name, minimum=1)


def _conv_params(
    func: str, n: int, kernel_size: object, stride: object, dilation: object
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    k = _sizes(kernel_size, func, "kernel_size", n)
    s = v.int_tuple(stride, n, func, "stride", minimum=1)
    d = v.int_tuple(dilation, n, func, "dilation", minimum=1)
    return k, s, d


def same_padding(
    in_size: Sequence[int],
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple = 1,
    dilation: v.IntOrTuple = 1,
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


@v.memoized
def conv_geometry(
    in_size: Sequence[int],
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple = 1,
    padding: v.PaddingLike = 0,
    dilation: v.IntOrTuple = 1,
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



def requested_size(output_size: object, n: int, func: str, *, minimum: int | None = None) -> tuple[int, ...]:
    """A requested ``output_size``: ``n`` spatial sizes, or ``n + 2`` with the batch and channel sizes first
    (as torch accepts them), as a tuple of ``n`` ints."""
    if isinstance(output_size, (str, bytes)) or not isinstance(output_size, Sequence):
        raise TypeError(f"{func}: output_size must be a sequence of integers, got {output_size!r}")
    if len(output_size) == n + 2:
        output_size = tuple(output_size)[2:]
    if len(output_size) != n:
        raise ValueError(
            f"{func}: output_size must have {n} or {n + 2} elements (got {len(output_size)}): {output_size!r}"
        )
    return v.int_tuple(tuple(output_size), n, func, "output_size", minimum=minimum)


def conv_output_size(
    in_size: Sequence[int],
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple = 1,
    padding: v.PaddingLike = 0,
    dilation: v.IntOrTuple = 1,
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



def fft_conv_size(in_size: Sequence[int], padding: v.PadPairsLike = 0, *, fast: bool = True) -> tuple[int, ...]:
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
