"""N-d convolution and transposed convolution, with torch's semantics: the public functions and their checks.

``conv`` is the grouped cross-correlation of :mod:`upconv.ops.correlation`
(im2col + GEMM, or compiled kernels); ``conv_transpose``, its adjoint, is
computed by one of the four methods of :mod:`upconv.ops.transposed` (the
four views of the transposed convolution), ``"auto"`` choosing by the rule
of :mod:`upconv.ops.paths`.  Everything works on a
:class:`upconv.shapes.ConvGeometry`: ``conv`` maps ``geometry.in_size ->
geometry.out_size``, ``conv_transpose`` maps back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.ops import paths
from upconv.ops.arrays import array_function
from upconv.ops.correlation import correlate
from upconv.ops.paths import auto_method, use_direct_conv, use_simd_conv
from upconv.ops.transposed import (
    conv_transpose_matrix,
    conv_transpose_phase,
    conv_transpose_scatter,
    conv_transpose_zero_insertion,
)
from upconv.shapes import ConvGeometry

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["conv", "conv_transpose", "CONV_TRANSPOSE_METHODS"]


# --------------------------------------------------------------------------
# argument handling shared by conv and conv_transpose (and their gradients)


def prepare(
    func: str, x: npt.ArrayLike, weight: npt.ArrayLike, bias: npt.ArrayLike | None, groups: int
) -> tuple[np.dtype[Any], np.ndarray, np.ndarray, np.ndarray | None, int, bool]:
    """Dtype policy, rank and group checks: ``(result_dtype, x, weight, bias, groups, unbatched)``, ``x`` batched."""
    xa: np.ndarray
    wa: np.ndarray
    ba: np.ndarray | None
    result_dtype, (xa, wa, ba) = v.float_arrays(func, x=x, weight=weight, bias=bias)
    wa = v.kernel_weight(func, wa)
    xa, unbatched = v.batched(func, xa, wa.ndim - 2, weight=wa)
    groups = v.integer(groups, func, "groups", minimum=1)
    return result_dtype, xa, wa, ba, groups, unbatched


def _check_bias(func: str, bias: np.ndarray | None, channels: int) -> None:
    if bias is not None and bias.shape != (channels,):
        raise ValueError(f"{func}: bias must have shape ({channels},), got {bias.shape}")


def check_conv_channels(func: str, c_in: int, w: np.ndarray, bias: np.ndarray | None, groups: int) -> None:
    """Channel, group and bias checks of a convolution with weight ``(C_out, C_in/groups, *k)``."""
    c_out = w.shape[0]
    if c_out % groups:
        raise ValueError(f"{func}: weight.shape[0] (out channels, {c_out}) must be divisible by groups={groups}")
    if c_in != w.shape[1] * groups:
        raise ValueError(
            f"{func}: x has {c_in} channels but weight of shape {w.shape} with groups={groups} "
            f"expects {w.shape[1] * groups} (weight.shape[1] * groups)"
        )
    _check_bias(func, bias, c_out)


def check_transpose_channels(func: str, c_in: int, w: np.ndarray, bias: np.ndarray | None, groups: int) -> None:
    """Channel, group and bias checks of a transposed convolution with weight ``(C_in, C_out/groups, *k)``."""
    if c_in != w.shape[0]:
        raise ValueError(
            f"{func}: x has {c_in} channels but weight of shape {w.shape} expects {w.shape[0]} (weight.shape[0])"
        )
    if c_in % groups:
        raise ValueError(f"{func}: in channels ({c_in}) must be divisible by groups={groups}")
    _check_bias(func, bias, w.shape[1] * groups)


def spatial_output_size(func: str, output_size: Sequence[int], n: int, unbatched: bool) -> Sequence[int]:
    """``conv_transpose``'s ``output_size`` without the leading non-spatial sizes torch accepts.

    torch takes the ``n`` spatial sizes alone or preceded by ``(C,)`` when
    unbatched, ``(N, C)`` when batched; anything that is not a sequence is
    left to :func:`upconv.shapes.conv_transpose_geometry` to reject.
    """
    if not isinstance(output_size, (str, bytes)) and isinstance(output_size, Sequence):
        leading = 1 if unbatched else 2
        if len(output_size) == n + leading:
            output_size = tuple(output_size)[leading:]
        elif len(output_size) != n:
            raise ValueError(
                f"{func}: output_size must have {n} or {n + leading} elements for a "
                f"{'un' if unbatched else ''}batched input, got {tuple(output_size)!r}"
            )
    return output_size


def finish(out: np.ndarray, bias: np.ndarray | None, result_dtype: np.dtype[Any], unbatched: bool) -> np.ndarray:
    """Add the bias, drop the batch axis of an unbatched call, cast to the result dtype."""
    if bias is not None:
        out += bias.reshape((-1,) + (1,) * (out.ndim - 2))
    if unbatched:
        out = out[0]
    return out.astype(result_dtype, copy=False)


# --------------------------------------------------------------------------
# conv


@array_function
def conv(
    x: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    stride: v.IntOrTuple = 1,
    padding: v.PaddingLike = 0,
    dilation: v.IntOrTuple = 1,
    groups: int = 1,
) -> np.ndarray:
    r"""N-d convolution (cross-correlation), identical to ``torch.nn.functional.conv{1,2,3}d``.

    Parameters
    ----------
    x : (N, C_in, *in_size) or (C_in, *in_size) array_like
        Input; the number of spatial axes ``n`` is ``weight.ndim - 2``.
    weight : (C_out, C_in / groups, *kernel_size) array_like
        Filters.
    bias : (C_out,) array_like, optional
        Added to every output position.
    stride, dilation : int or sequence of n ints, optional
        Step between windows and between kernel taps (>= 1).
    padding : int, sequence of n ints, sequence of n (begin, end) pairs, "valid" or "same"
        Zeros added around each spatial axis.  Pairs express ONNX ``pads``;
        ``"same"`` (stride 1 only) puts the odd element at the end, as torch.
    groups : int, optional
        Split channels into ``groups`` independent convolutions.

    Returns
    -------
    y : (N, C_out, *out_size) or (C_out, *out_size) ndarray
        Same dtype as the inputs (float16 is computed in float32).  With an
        inf or NaN weight, float32 padding is not multiplied by it, and
        float64 padding is (0 * inf = NaN at the borders), as torch's two
        CPU paths do.

    Raises
    ------
    ValueError, TypeError
        For every configuration torch rejects, naming the argument.
    MemoryError
        If the result or the im2col buffer of one sample exceeds
        :func:`upconv.get_memory_limit`.

    See Also
    --------
    conv_transpose : the adjoint (input gradient) of this function.
    upconv.shapes.conv_output_size : the output size without computing.

    Notes
    -----
    .. math::

        y[n, c_o, \mathbf{o}] = b[c_o] + \sum_{c_i, \mathbf{t}}
            w[c_o, c_i, \mathbf{t}]\, x_{pad}[n, g c_i, \mathbf{o}\odot s + \mathbf{t}\odot d]

        o = \lfloor (i + p_{begin} + p_{end} - d(k-1) - 1) / s \rfloor + 1

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> upconv.conv(x, np.ones((1, 1, 3, 3)))
    array([[[[45., 54.],
             [81., 90.]]]])
    """
    func = "conv"
    result_dtype, x, w, b, groups, unbatched = prepare(func, x, weight, bias, groups)
    check_conv_channels(func, x.shape[1], w, b, groups)
    g = shapes.conv_geometry(x.shape[2:], w.shape[2:], stride, padding, dilation, func=func)
    return finish(convolve(x, w, g, groups, func), b, result_dtype, unbatched)


def convolve(x: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int, func: str) -> np.ndarray:
    """:func:`conv` of validated arrays (batched, compute dtype) without its bias: a new array.

    float32 with padding and an inf or NaN weight takes torch's path (:func:`_correlate_real_taps`).
    """
    if x.dtype == np.float32 and g.padding != ((0, 0),) * g.ndim and has_nonfinite(w):
        return _correlate_real_taps(x, w, g, groups, func)
    return correlate(x, w, g, groups, func)


def has_nonfinite(w: np.ndarray) -> bool:
    """Whether ``w`` may hold an inf or NaN: its sum of squares (one BLAS dot, ~1 us for small weights) is not finite.

    Any inf or NaN makes it non-finite; an overflow of finite weights only sends them down the exact path.
    """
    flat = w.reshape(-1)
    return not np.isfinite(np.dot(flat, flat))


def _correlate_real_taps(x: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int, func: str) -> np.ndarray:
    """:func:`correlate` with an inf or NaN weight, as torch computes float32: the padding is never multiplied.

    torch's float32 convolution sums the taps that read inside the input
    only, so ``inf * 0`` never makes a NaN of the padding; the zero-padded
    engine would.  The finite weights are correlated as usual and each
    non-finite weight's products are added over the outputs whose tap reads
    a real input (:func:`upconv.shapes.tap_reach`).
    """
    bad = ~np.isfinite(w)
    out = correlate(x, np.where(bad, np.zeros((), w.dtype), w), g, groups, func)
    co_g, ci_g = w.shape[0] // groups, w.shape[1]
    with np.errstate(invalid="ignore", over="ignore"):
        for co, ci, *taps in zip(*np.nonzero(bad), strict=True):
            reach = [shapes.tap_reach(g, a, int(t)) for a, t in enumerate(taps)]
            dst = (slice(None), int(co)) + tuple(slice(o.start, o.stop) for o, _ in reach)
            channel = int(co) // co_g * ci_g + int(ci)
            src = (slice(None), channel) + tuple(slice(i.start, i.stop, i.step) for _, i in reach)
            out[dst] += x[src] * w[(co, ci) + tuple(taps)]
    return out


def conv_keeping_cols(
    x: npt.ArrayLike, weight: npt.ArrayLike, bias: npt.ArrayLike | None, stride: v.IntOrTuple,
    padding: v.PaddingLike, dilation: v.IntOrTuple, groups: int, buffer: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`conv`, and the whole batch's im2col matrix it multiplied, for the weight gradient.

    The matrix is written into ``buffer`` when that has the right shape and
    dtype (a layer passes last step's, which saves allocating and faulting
    in a fresh one).  It is None when the direct or vector kernels compute
    the convolution (no im2col) or when it would be larger than
    ``paths.KEEP_COLS_BYTES`` or the memory limit (the forward pass then
    works in chunks as ``conv``); the weight gradient then does without it.
    """
    func = "conv"
    result_dtype, x, w, b, groups, unbatched = prepare(func, x, weight, bias, groups)
    check_conv_channels(func, x.shape[1], w, b, groups)
    g = shapes.conv_geometry(x.shape[2:], w.shape[2:], stride, padding, dilation, func=func)
    shape = (groups, x.shape[1] // groups * math.prod(g.kernel_size), x.shape[0] * math.prod(g.out_size))
    cols = None
    co_g = w.shape[0] // groups
    direct = use_direct_conv(g, co_g, math.prod(shape) * co_g) or use_simd_conv(x, g, x.shape[1] // groups, co_g)
    if (not direct and math.prod(shape) * x.itemsize <= min(paths.KEEP_COLS_BYTES, v.get_memory_limit())
            and 0 not in shape):
        ok = buffer is not None and buffer.shape == shape and buffer.dtype == x.dtype
        cols = buffer if ok else np.empty(shape, x.dtype)
    out = correlate(x, w, g, groups, func, cols=cols)
    return finish(out, b, result_dtype, unbatched), cols


# --------------------------------------------------------------------------
# conv_transpose


CONV_TRANSPOSE_METHODS: dict[str, Callable[[np.ndarray, np.ndarray, ConvGeometry, int], np.ndarray]] = {
    "scatter": conv_transpose_scatter,
    "zero_insertion": conv_transpose_zero_insertion,
    "matrix": conv_transpose_matrix,
    "phase": conv_transpose_phase,
}


@array_function
def conv_transpose(
    x: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    stride: v.IntOrTuple = 1,
    padding: v.PadPairsLike = 0,
    output_padding: v.IntOrTuple = 0,
    groups: int = 1,
    dilation: v.IntOrTuple = 1,
    *,
    output_size: Sequence[int] | None = None,
    method: str = "auto",
) -> np.ndarray:
    r"""N-d transposed convolution, identical to ``torch.nn.functional.conv_transpose{1,2,3}d``.

    The adjoint of :func:`conv`: ``<conv(x, w), y> == <x, conv_transpose(y, w)>``
    for the same ``stride``, ``padding`` and ``dilation``, which makes it
    conv's input gradient.  Note torch's argument order: ``groups`` comes
    before ``dilation``.

    Parameters
    ----------
    x : (N, C_in, *in_size) or (C_in, *in_size) array_like
        Input; ``n = weight.ndim - 2`` spatial axes.
    weight : (C_in, C_out / groups, *kernel_size) array_like
        Filters (torch's ``ConvTranspose`` layout).
    bias : (C_out,) array_like, optional
    stride, dilation : int or sequence of n ints, optional
    padding : int, sequence of n ints, or sequence of n (begin, end) pairs
        Elements cropped off the beginning and end of the un-cropped result
        (ONNX ``pads`` as pairs).
    output_padding : int or sequence of n ints, optional
        Elements added at the end, ``0 <= output_padding < max(stride, dilation)``.
    groups : int, optional
    output_size : sequence of n (or n + 2) ints, optional
        Requested output size; replaces ``output_padding`` as
        ``nn.ConvTransposeNd.forward(x, output_size)`` does.  See
        :func:`upconv.shapes.conv_transpose_output_size_range`.
    method : {"auto", "scatter", "zero_insertion", "matrix", "phase"}
        Algorithm (all give the same result); ``"auto"`` picks the fastest.
        With an inf or NaN weight, ``"zero_insertion"`` and ``"phase"``
        stamp instead, so that no inserted or padded zero is multiplied by it
        (``0 * inf`` is NaN where torch gives ``inf``).

    Returns
    -------
    y : (N, C_out, *out_size) or (C_out, *out_size) ndarray

    Raises
    ------
    ValueError, TypeError
        For every configuration torch rejects, naming the argument.
    MemoryError
        When the chosen method would allocate more than
        :func:`upconv.get_memory_limit`.

    Notes
    -----
    .. math::

        o = (i - 1) s - p_{begin} - p_{end} + d (k - 1) + a + 1

    The four methods are the four views of the transposed convolution:
    kernel stamping (``"scatter"``), zero insertion and convolution with the
    flipped kernel (``"zero_insertion"``), multiplication by the transposed
    convolution matrix (``"matrix"``) and the polyphase decomposition
    (``"phase"``).

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> y = upconv.conv_transpose(x, np.ones((1, 1, 3, 3)), stride=2)
    >>> y.shape
    (1, 1, 5, 5)
    >>> y[0, 0]
    array([[ 1.,  1.,  3.,  2.,  2.],
           [ 1.,  1.,  3.,  2.,  2.],
           [ 4.,  4., 10.,  6.,  6.],
           [ 3.,  3.,  7.,  4.,  4.],
           [ 3.,  3.,  7.,  4.,  4.]])
    """
    func = "conv_transpose"
    method = v.choice(method, ("auto",) + tuple(CONV_TRANSPOSE_METHODS), func, "method")
    result_dtype, x, w, b, groups, unbatched = prepare(func, x, weight, bias, groups)
    check_transpose_channels(func, x.shape[1], w, b, groups)
    if output_size is not None:
        output_size = spatial_output_size(func, output_size, w.ndim - 2, unbatched)
    g = shapes.conv_transpose_geometry(
        x.shape[2:], w.shape[2:], stride, padding, output_padding, dilation, output_size=output_size, func=func
    )
    v.check_allocation((x.shape[0], w.shape[1] * groups) + g.in_size, x.dtype, func, "the output")
    if method == "auto":
        method = auto_method(x, w, g, groups)
    if method in ("zero_insertion", "phase") and has_nonfinite(w):
        method = "scatter"  # an inf or NaN weight: stamp, as torch, rather than multiply inserted or padded zeros
    out = CONV_TRANSPOSE_METHODS[method](x, w, g, groups)
    return finish(out, b, result_dtype, unbatched)
