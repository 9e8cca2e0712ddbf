r"""Symbolic derivation of convolutions and their matrices, with sympy (seeds 001 and 002).

Seed 001 writes a 3x3 convolution of a 4x4 input symbolically, derives the
matrix ``C = d vec(Y) / d vec(X)`` with sympy and shows that ``C^T`` applied
to the output is the transposed convolution; seed 002 shows that ``C^T`` is,
rearranged, the convolution matrix of the flipped kernel on the
zero-inserted, padded input.  The functions here do the same for any small
configuration (N-d, stride, padding, dilation, channels, groups) and return
sympy objects that print directly (:func:`pretty`, :func:`to_latex`).

Symbols are 1-based as in the seeds: ``x11 .. x44`` for a 4x4 input, ``w11
.. w33`` for a 3x3 kernel, ``y11 .. y22`` for the input of a transposed
convolution (see :func:`symbol_array` for the naming rule with channels and
sizes above 9).

sympy is an optional dependency (``pip install upconv[symbolic]``), imported
when a function here is first called; ``import upconv`` does not import it.
Configurations whose symbolic matrix would have more than
:data:`MAX_ENTRIES` entries are refused with a ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.shapes import ConvGeometry

__all__ = [
    "MAX_ENTRIES",
    "FlipIdentity",
    "symbol_array",
    "symbolic_conv",
    "symbolic_conv_matrix",
    "symbolic_conv_transpose",
    "symbolic_flip_identity",
    "verify_conv_matrix",
    "to_latex",
    "pretty",
]

#: Largest symbolic matrix (rows * columns), or number of product terms of a
#: symbolic convolution output, that the functions here build.
MAX_ENTRIES = 100_000


def _sympy():
    try:
        import sympy
    except ImportError as exc:  # pragma: no cover - sympy is installed in the test environment
        raise ImportError(
            "upconv.symbolic needs sympy: pip install 'upconv[symbolic]' (or pip install sympy)"
        ) from exc
    return sympy


# --------------------------------------------------------------------------
# symbols


def _names(name: str, shape: tuple[int, ...], channel_axes: int) -> np.ndarray:
    """Object array of symbol names: ``name`` + 1-based indices (see :func:`symbol_array`)."""
    channel_shape, spatial_shape = shape[:channel_axes], shape[channel_axes:]

    def group(sizes: tuple[int, ...]):
        sep = "" if all(s <= 9 for s in sizes) else "_"
        return lambda idx: sep.join(str(i + 1) for i in idx)

    spatial = group(spatial_shape)
    channels = group(channel_shape) if math.prod(channel_shape) > 1 else None
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        s = spatial(idx[channel_axes:])
        out[idx] = f"{name}{channels(idx[:channel_axes])}_{s}" if channels else f"{name}{s}"
    return out


def _symbols(sp, name: str, shape: tuple[int, ...], channel_axes: int) -> np.ndarray:
    return np.vectorize(sp.Symbol, otypes=[object])(_names(name, shape, channel_axes))


def symbol_array(name: str, shape: Sequence[int], channel_axes: int = 0):
    """A sympy Array of symbols named like the seeds: ``x11, x12, ..., x44``.

    Parameters
    ----------
    name : str
        Base name (``"x"``, ``"w"``, ``"y"``, ...).
    shape : sequence of ints
        ``(*channels, *spatial)``.
    channel_axes : int, optional
        How many leading axes of ``shape`` are channel axes.

    Returns
    -------
    sympy.ImmutableDenseNDimArray, shape ``shape``

    Notes
    -----
    The name is ``name`` followed by the 1-based spatial indices, written
    one after the other when every spatial size is at most 9 (``x23``) and
    separated by ``_`` otherwise (``x2_11``; sympy prints ``x_{2 11}``).
    When the channel axes hold more than one element, the channel indices
    come first, separated from the spatial ones by ``_`` (``w21_13``: output
    channel 2, input channel 1, tap (1, 3); sympy prints ``w_{21 13}``).

    Examples
    --------
    >>> from upconv.explain.symbolic import symbol_array
    >>> symbol_array("x", (2, 3))
    [[x11, x12, x13], [x21, x22, x23]]
    >>> symbol_array("x", (2, 1, 3), channel_axes=1)
    [[[x1_11, x1_12, x1_13]], [[x2_11, x2_12, x2_13]]]
    >>> symbol_array("w", (1, 12))[0, 10]
    w1_11
    """
    func = "symbol_array"
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"{func}: name must be a Python identifier such as 'x', got {name!r}")
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or len(shape) == 0:
        raise TypeError(f"{func}: shape must be a non-empty sequence of positive integers, got {shape!r}")
    shape = v.int_tuple(tuple(shape), len(shape), func, "shape", minimum=1)
    channel_axes = v.integer(channel_axes, func, "channel_axes", minimum=0)
    if channel_axes >= len(shape):
        raise ValueError(
            f"{func}: channel_axes must be smaller than the number of axes of shape {shape}, got {channel_axes}"
        )
    _check_entries(func, math.prod(shape), "symbols")
    sp = _sympy()
    return sp.Array(_symbols(sp, name, shape, channel_axes).tolist(), shape)


# --------------------------------------------------------------------------
# shared machinery


def _check_entries(func: str, count: int, what: str) -> None:
    if count > MAX_ENTRIES:
        raise ValueError(
            f"{func}: this configuration needs {count} {what}, more than the limit of {MAX_ENTRIES} "
            "(upconv.symbolic.MAX_ENTRIES); symbolic derivation is meant for small sizes: "
            "reduce in_size, kernel_size or the channels"
        )


def _channels(func: str, in_channels: Any, out_channels: Any, groups: Any) -> tuple[int, int, int]:
    c_in = v.integer(in_channels, func, "in_channels", minimum=1)
    c_out = v.integer(out_channels, func, "out_channels", minimum=1)
    groups = v.integer(groups, func, "groups", minimum=1)
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"{func}: in_channels ({c_in}) and out_channels ({c_out}) must both be divisible by groups={groups}"
        )
    return c_in, c_out, groups


def _name(func: str, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.isidentifier():
        raise ValueError(f"{func}: {what} must be a Python identifier such as 'x', got {value!r}")
    return value


def _window_index(g: ConvGeometry) -> np.ndarray:
    """``(prod(k), prod(out))`` flat input index read by each tap of each output (-1: padding)."""
    from upconv.ops.correlation import pad, windows

    flat = np.arange(1, math.prod(g.in_size) + 1, dtype=np.int64).reshape((1, 1) + g.in_size)
    win = windows(pad(flat, g.padding), g)
    return win.reshape(math.prod(g.kernel_size), math.prod(g.out_size)) - 1


def _conv_exprs(sp, x: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """Symbolic grouped correlation: ``x (C_in, *in)``, ``w (C_out, C_in/g, *k)`` -> ``(C_out, prod(out))``."""
    idx = _window_index(g)
    c_out, ci_g = w.shape[:2]
    co_g = c_out // groups
    xf = x.reshape(x.shape[0], -1)
    wf = w.reshape(c_out, ci_g, -1)
    out = np.empty((c_out, idx.shape[1]), dtype=object)
    for co in range(c_out):
        first = (co // co_g) * ci_g
        for o in range(idx.shape[1]):
            terms = [
                wf[co, ci, t] * xf[first + ci, idx[t, o]]
                for ci in range(ci_g)
                for t in range(idx.shape[0])
                if idx[t, o] >= 0
            ]
            out[co, o] = sp.Add(*terms)
    return out


def _conv_jacobian(sp, w: np.ndarray, g: ConvGeometry, groups: int, c_in: int):
    """``C = d vec(Y) / d vec(X)`` (numerator layout) of the convolution ``g`` with symbolic weight ``w``."""
    x = np.array(sp.symbols(f"_x0:{c_in * math.prod(g.in_size)}", cls=sp.Dummy), dtype=object)
    x = x.reshape((c_in,) + g.in_size)
    return _jacobian(sp, _conv_exprs(sp, x, w, g, groups).ravel(), x.ravel())


def _jacobian(sp, y: np.ndarray, x: np.ndarray):
    """``d y / d x`` as a sympy Matrix ``(len(y), len(x))``, one ``diff`` per entry.

    The same matrix as ``Matrix(y).jacobian(Matrix(x))`` (tests check it),
    computed with the sum rule (only the terms that contain the variable)
    and the product rule (a term ``w*x`` gives ``w``), many times faster
    than differentiating every entry with ``diff``.
    """
    column = {s: j for j, s in enumerate(x)}
    J = sp.zeros(len(y), len(x))
    for i, expr in enumerate(y):
        # sum rule: differentiate only the terms that contain the variable
        by_symbol: dict[Any, list[Any]] = {}
        for term in sp.Add.make_args(expr):
            for s in term.free_symbols:
                if s in column:
                    by_symbol.setdefault(s, []).append(term)
        for s, terms in by_symbol.items():
            J[i, column[s]] = sp.Add(*[_term_derivative(sp, t, s) for t in terms])
    return J


def _term_derivative(sp, term, s):
    """``d term / d s``: the other factors when ``s`` is a plain factor (product rule), else ``diff``."""
    factors = sp.Mul.make_args(term)
    others = [f for f in factors if f != s]
    if len(others) == len(factors) - 1 and not any(s in f.free_symbols for f in others):
        return sp.Mul(*others)
    return term.diff(s)


def _shaped(sp, values: np.ndarray, spatial: tuple[int, ...], multi_channel: bool):
    """A Matrix for 1-d/2-d single-channel results (the seeds' view), an Array otherwise."""
    if multi_channel:
        return sp.Array(values.reshape((-1,) + spatial).tolist(), (values.shape[0],) + spatial)
    values = values.reshape(spatial)
    if len(spatial) == 1:
        return sp.Matrix([values.tolist()])
    if len(spatial) == 2:
        return sp.Matrix(values.tolist())
    return sp.Array(values.tolist(), spatial)


def _conv_setup(func, in_size, kernel_size, stride, padding, dilation, in_channels, out_channels, groups):
    c_in, c_out, groups = _channels(func, in_channels, out_channels, groups)
    g = shapes.conv_geometry(in_size, kernel_size, stride, padding, dilation, func=func)
    return g, c_in, c_out, groups


# --------------------------------------------------------------------------
# public functions


def symbolic_conv(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    *,
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
    input_name: str = "x",
    weight_name: str = "w",
):
    r"""The output of a convolution as symbolic sums of ``w * x`` terms (seed 001's ``X * W``).

    Parameters
    ----------
    in_size : sequence of n ints
        Spatial size of the input; ``n`` is its length.
    kernel_size : int or sequence of n ints
    stride, padding, dilation
        As :func:`upconv.conv` (padding: int, n ints, n ``(begin, end)``
        pairs, ``"valid"`` or ``"same"``).
    in_channels, out_channels, groups : int, optional
        Channels; the weight has shape ``(out_channels, in_channels / groups, *kernel_size)``.
    input_name, weight_name : str, optional
        Base names of the symbols (:func:`symbol_array`).

    Returns
    -------
    sympy.Matrix or sympy.Array
        With one channel in and out: a Matrix of shape ``out_size`` for 2-d
        (``(1, out)`` for 1-d), an Array of shape ``out_size`` for 3-d and
        more; with several channels an Array ``(out_channels, *out_size)``.

    Raises
    ------
    ValueError, TypeError
        For invalid sizes (as :func:`upconv.conv`) or more than
        :data:`MAX_ENTRIES` product terms.

    Notes
    -----
    .. math::

        y[c_o, \mathbf o] = \sum_{c_i, \mathbf t} w[c_o, c_i, \mathbf t]\,
            x_{pad}[g\,c_i, \mathbf o \odot s + \mathbf t \odot d]

    Terms that fall on the padding are zero and left out.

    Examples
    --------
    Seed 001: a 3x3 kernel on a 4x4 input.

    >>> from upconv.explain.symbolic import symbolic_conv
    >>> Y = symbolic_conv((4, 4), 3)
    >>> Y.shape
    (2, 2)
    >>> Y[0, 1]
    w11*x12 + w12*x13 + w13*x14 + w21*x22 + w22*x23 + w23*x24 + w31*x32 + w32*x33 + w33*x34
    >>> symbolic_conv((3,), 2, padding=1)
    Matrix([[w2*x1, w1*x1 + w2*x2, w1*x2 + w2*x3, w1*x3]])
    """
    func = "symbolic_conv"
    g, c_in, c_out, groups = _conv_setup(
        func, in_size, kernel_size, stride, padding, dilation, in_channels, out_channels, groups
    )
    input_name, weight_name = _name(func, input_name, "input_name"), _name(func, weight_name, "weight_name")
    ci_g = c_in // groups
    _check_entries(func, c_out * math.prod(g.out_size) * ci_g * math.prod(g.kernel_size), "product terms")
    sp = _sympy()
    x = _symbols(sp, input_name, (c_in,) + g.in_size, 1)
    w = _symbols(sp, weight_name, (c_out, ci_g) + g.kernel_size, 2)
    y = _conv_exprs(sp, x, w, g, groups)
    return _shaped(sp, y, g.out_size, c_in > 1 or c_out > 1)


def symbolic_conv_matrix(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    *,
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
    layout: str = "numerator",
    weight_name: str = "w",
):
    r"""The convolution matrix derived as the Jacobian ``C = d vec(Y) / d vec(X)``, as seed 001 does.

    The convolution output is built symbolically (:func:`symbolic_conv`) and
    differentiated with respect to every input symbol (the matrix
    ``Matrix(vec(Y)).jacobian(Matrix(vec(X)))`` of seed 001, computed
    without differentiating an output with respect to inputs it does not
    contain); ``vec`` is row-major over ``(channel, *spatial)``.

    Parameters
    ----------
    in_size, kernel_size, stride, padding, dilation, in_channels, out_channels, groups
        As :func:`symbolic_conv`.
    layout : {"numerator", "denominator"}, optional
        ``"numerator"``: ``C`` has one row per output, ``(C_out * prod(out),
        C_in * prod(in))``, the layout of :func:`upconv.conv_matrix`
        (``vec(Y) = C vec(X)``).  ``"denominator"``: its transpose, one row
        per input, as seed 001 prints it (16x4 for a 3x3 kernel on 4x4,
        ``vec(Y)^T = vec(X)^T C``).
    weight_name : str, optional

    Returns
    -------
    sympy.Matrix
        Entries are weight symbols or 0.

    Raises
    ------
    ValueError, TypeError
        For invalid sizes or a matrix of more than :data:`MAX_ENTRIES` entries.

    See Also
    --------
    verify_conv_matrix : checks this matrix against :func:`upconv.conv_matrix`.

    Examples
    --------
    >>> from upconv.explain.symbolic import symbolic_conv_matrix
    >>> symbolic_conv_matrix((4,), 3)
    Matrix([
    [w1, w2, w3,  0],
    [ 0, w1, w2, w3]])
    >>> symbolic_conv_matrix((4, 4), 3, layout="denominator").shape
    (16, 4)
    """
    func = "symbolic_conv_matrix"
    layout = v.choice(layout, ("numerator", "denominator"), func, "layout")
    g, c_in, c_out, groups = _conv_setup(
        func, in_size, kernel_size, stride, padding, dilation, in_channels, out_channels, groups
    )
    weight_name = _name(func, weight_name, "weight_name")
    _check_entries(func, c_out * math.prod(g.out_size) * c_in * math.prod(g.in_size), "matrix entries")
    sp = _sympy()
    w = _symbols(sp, weight_name, (c_out, c_in // groups) + g.kernel_size, 2)
    C = _conv_jacobian(sp, w, g, groups, c_in)
    return C if layout == "numerator" else C.T


def verify_conv_matrix(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    *,
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
    seed: int = 0,
) -> bool:
    """Whether the Jacobian :func:`symbolic_conv_matrix` equals the direct construction :func:`upconv.conv_matrix`.

    Random non-zero integers (distinct up to sign) are substituted for the
    weight symbols and the result is compared exactly with
    ``upconv.conv_matrix(..., dense=True)`` for the same weight.

    Parameters
    ----------
    in_size, kernel_size, stride, padding, dilation, in_channels, out_channels, groups
        As :func:`symbolic_conv`.
    seed : int, optional
        Seed of the random weight.

    Returns
    -------
    bool

    Examples
    --------
    >>> from upconv.explain.symbolic import verify_conv_matrix
    >>> verify_conv_matrix((4, 4), 3)
    True
    >>> verify_conv_matrix((5, 4), (2, 3), stride=2, padding=((1, 0), (2, 1)), dilation=(2, 1))
    True
    """
    from upconv.ops.matrix import conv_matrix

    func = "verify_conv_matrix"
    seed = v.integer(seed, func, "seed", minimum=0)
    g, c_in, c_out, groups = _conv_setup(
        func, in_size, kernel_size, stride, padding, dilation, in_channels, out_channels, groups
    )
    _check_entries(func, c_out * math.prod(g.out_size) * c_in * math.prod(g.in_size), "matrix entries")
    sp = _sympy()
    wshape = (c_out, c_in // groups) + g.kernel_size
    w = _symbols(sp, "w", wshape, 2)
    C = _conv_jacobian(sp, w, g, groups, c_in)
    rng = np.random.default_rng(seed)
    size = math.prod(wshape)
    numbers = ((rng.permutation(size) + 1) * rng.choice([-1, 1], size)).reshape(wshape)
    substituted = C.xreplace({s: sp.Integer(int(n)) for s, n in zip(w.ravel(), numbers.ravel())})
    if substituted.free_symbols:
        return False
    ours = np.array(substituted.tolist(), dtype=np.float64).reshape(C.shape)
    direct = conv_matrix((c_in,) + g.in_size, numbers.astype(np.float64), g.stride, g.padding, g.dilation,
                         groups, dense=True)
    return bool(ours.shape == direct.shape and np.array_equal(ours, direct))


def symbolic_conv_transpose(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
    *,
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
    input_name: str = "y",
    weight_name: str = "w",
):
    r"""The output of a transposed convolution as symbolic sums, computed as ``C^T vec(y)`` (seed 001).

    ``C`` is the Jacobian (:func:`symbolic_conv_matrix`) of the convolution
    this transposed convolution is the adjoint of, with the same weight.

    Parameters
    ----------
    in_size : sequence of n ints
        Spatial size of the transposed convolution's input ``y``.
    kernel_size, stride, padding, output_padding, dilation
        As :func:`upconv.conv_transpose`.
    in_channels, out_channels, groups : int, optional
        The weight has torch's transposed layout ``(in_channels,
        out_channels / groups, *kernel_size)``.
    input_name, weight_name : str, optional

    Returns
    -------
    sympy.Matrix or sympy.Array
        Shaped as in :func:`symbolic_conv`: the output size is
        ``(i-1)*s + d*(k-1) + 1 - p_begin - p_end + output_padding``.

    Raises
    ------
    ValueError, TypeError
        For invalid sizes (as :func:`upconv.conv_transpose`) or a matrix of
        more than :data:`MAX_ENTRIES` entries.

    Examples
    --------
    Seed 001: the 2x2 output of the 3x3 convolution of a 4x4 input, sent back
    to 4x4 (every input pixel stamps the kernel, overlaps add up).

    >>> from upconv.explain.symbolic import symbolic_conv_transpose
    >>> X = symbolic_conv_transpose((2, 2), 3)
    >>> X.shape
    (4, 4)
    >>> X[0, :]
    Matrix([[w11*y11, w11*y12 + w12*y11, w12*y12 + w13*y11, w13*y12]])
    >>> symbolic_conv_transpose((2,), 2, stride=2)
    Matrix([[w1*y1, w2*y1, w1*y2, w2*y2]])
    """
    func = "symbolic_conv_transpose"
    c_in, c_out, groups = _channels(func, in_channels, out_channels, groups)
    g = shapes.conv_transpose_geometry(in_size, kernel_size, stride, padding, output_padding, dilation, func=func)
    input_name, weight_name = _name(func, input_name, "input_name"), _name(func, weight_name, "weight_name")
    _check_entries(func, c_in * math.prod(g.out_size) * c_out * math.prod(g.in_size), "matrix entries")
    sp = _sympy()
    y = _symbols(sp, input_name, (c_in,) + g.out_size, 1)
    w = _symbols(sp, weight_name, (c_in, c_out // groups) + g.kernel_size, 2)
    C = _conv_jacobian(sp, w, g, groups, c_out)
    x = C.T * sp.Matrix(y.ravel().tolist())
    return _shaped(sp, np.array(list(x), dtype=object).reshape(c_out, -1), g.in_size, c_in > 1 or c_out > 1)


class FlipIdentity(NamedTuple):
    r"""Seed 002's identity ``C^T = F P``: both sides, and the pieces of the right-hand side.

    ``C`` is the matrix of the convolution (numerator layout, as
    :func:`symbolic_conv_matrix`), so ``C^T`` is the transposed convolution.
    ``P`` inserts ``s - 1`` zeros between the pixels of ``y`` and pads (or
    crops) the result into the intermediate image; ``F`` is the matrix of
    the stride-1, unpadded convolution of that image with the flipped (and
    channel-transposed) kernel.  Seed 002 writes the same with row vectors:
    its ``W_r^T`` is ``C`` and its ``\overline{W_r^T}`` = ``flip(W)_r`` is
    ``F^T``.
    """

    #: ``C^T``, shape ``(C_in * prod(in), C_out * prod(out))``.
    transposed: Any
    #: ``F``, shape ``(C_in * prod(in), C_out * prod(intermediate_size))``.
    flipped: Any
    #: ``P``, 0/1 matrix of shape ``(C_out * prod(intermediate_size), C_out * prod(out))``.
    embedding: Any
    #: ``F P`` (the columns of ``F`` at the pixels of ``y``; zero columns where ``y`` was cropped).
    rearranged: Any
    #: Size of the zero-inserted, padded image.
    intermediate_size: tuple[int, ...]
    #: ``(begin, end)`` padding of the zero-inserted image (negative: crop).
    padding: tuple[tuple[int, int], ...]

    @property
    def holds(self) -> bool:
        """``C^T == F P``, entry by entry as symbols."""
        return bool(self.transposed == self.rearranged)


def symbolic_flip_identity(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    *,
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
    weight_name: str = "w",
) -> FlipIdentity:
    r"""Seed 002: ``C^T`` rearranges into the convolution matrix of the flipped kernel on the padded, zero-inserted input.

    Parameters
    ----------
    in_size, kernel_size, stride, padding, dilation, in_channels, out_channels, groups
        The convolution ``C`` (as :func:`symbolic_conv_matrix`); ``C^T`` is
        its transposed convolution (with the output padding that gives back
        ``in_size``).
    weight_name : str, optional

    Returns
    -------
    FlipIdentity
        ``transposed`` (``C^T``), ``flipped`` (``F``), ``embedding``
        (``P``), ``rearranged`` (``F P``), the intermediate image's size and
        padding; ``.holds`` is ``C^T == F P``.

    Raises
    ------
    ValueError, TypeError
        For invalid sizes or an ``F`` of more than :data:`MAX_ENTRIES` entries.

    Notes
    -----
    The intermediate image has ``(o - 1)*s + 1`` pixels per axis after
    zero insertion and is padded by ``d*(k-1) - p_begin`` and
    ``d*(k-1) - p_end + a`` (:func:`upconv.shapes.zero_insertion_geometry`);
    its valid stride-1 correlation with the flipped kernel has ``in_size``
    pixels.  Each entry of ``F P`` is an entry of ``F``: ``P`` only selects
    columns.

    Examples
    --------
    Seed 002: a 2x2 kernel on a 4x4 input.  ``C^T`` is 16x9, the
    intermediate image is the 3x3 output padded by 1 (5x5).

    >>> from upconv.explain.symbolic import symbolic_flip_identity
    >>> ident = symbolic_flip_identity((4, 4), 2)
    >>> ident.transposed.shape, ident.flipped.shape, ident.intermediate_size
    ((16, 9), (16, 25), (5, 5))
    >>> ident.flipped[0, :7]
    Matrix([[w22, w21, 0, 0, 0, w12, w11]])
    >>> ident.holds
    True
    """
    from upconv.ops.correlation import pad
    from upconv.ops.transposed import as_conv_weight

    func = "symbolic_flip_identity"
    g, c_in, c_out, groups = _conv_setup(
        func, in_size, kernel_size, stride, padding, dilation, in_channels, out_channels, groups
    )
    weight_name = _name(func, weight_name, "weight_name")
    # the transposed convolution that maps out_size back to in_size (output padding included)
    gt = shapes.conv_transpose_geometry(
        g.out_size, g.kernel_size, g.stride, g.padding, dilation=g.dilation, output_size=g.in_size, func=func
    )
    _check_entries(func, c_in * math.prod(g.in_size) * c_out * math.prod(g.out_size), "matrix entries")
    gz = shapes.zero_insertion_geometry(gt)
    v.check_allocation(gz.in_size, np.int64, func, "the zero-inserted image")
    # intermediate image as a map: flat index of y (+1) at each pixel, 0 for inserted zeros and padding
    z = np.zeros((1, 1) + gz.in_size, dtype=np.int64)
    z[(0, 0) + tuple(slice(None, None, s) for s in g.stride)] = np.arange(1, math.prod(g.out_size) + 1).reshape(
        g.out_size
    )
    z = pad(z, gz.padding)[0, 0]
    inter = z.shape
    P_out, P_in, P_z = math.prod(g.out_size), math.prod(g.in_size), math.prod(inter)
    _check_entries(func, max(c_in * P_in * c_out * P_z, c_out * P_z * c_out * P_out), "matrix entries")
    sp = _sympy()
    w = _symbols(sp, weight_name, (c_out, c_in // groups) + g.kernel_size, 2)
    C = _conv_jacobian(sp, w, g, groups, c_in)
    # C^T is the transposed convolution with weight w (layout (C_out, C_in/g, *k)): its zero-insertion
    # view correlates with the flipped, channel-transposed kernel
    flipped_w = np.flip(as_conv_weight(w, groups), axis=tuple(range(2, 2 + g.ndim)))
    gf = shapes.conv_geometry(inter, g.kernel_size, 1, 0, g.dilation, func=func)
    F = _conv_jacobian(sp, flipped_w, gf, groups, c_out)
    pos = z.ravel()
    P = sp.zeros(c_out * P_z, c_out * P_out)
    columns = [None] * (c_out * P_out)
    for c in range(c_out):
        for j in np.flatnonzero(pos):
            P[c * P_z + j, c * P_out + pos[j] - 1] = 1
            columns[c * P_out + pos[j] - 1] = c * P_z + j
    zero = sp.zeros(F.rows, 1)
    rearranged = sp.Matrix.hstack(*[F[:, k] if k is not None else zero for k in columns])
    return FlipIdentity(C.T, F, P, rearranged, tuple(inter), gz.padding)


# --------------------------------------------------------------------------
# printing


def to_latex(expr: Any, **kwargs: Any) -> str:
    r"""LaTeX source of a symbolic result (``sympy.latex``; keyword arguments are passed on).

    Examples
    --------
    >>> from upconv.explain.symbolic import symbolic_conv, to_latex
    >>> to_latex(symbolic_conv((2,), 2))
    '\\left[\\begin{matrix}w_{1} x_{1} + w_{2} x_{2}\\end{matrix}\\right]'
    """
    return _sympy().latex(expr, **kwargs)


def pretty(expr: Any, *, unicode: bool = True, wrap_line: bool = False, **kwargs: Any) -> str:
    """Pretty-printed text of a symbolic result for a terminal (``sympy.pretty``).

    Parameters
    ----------
    expr : sympy object
    unicode : bool, optional
        Unicode box characters and subscripts (``False``: ASCII only).
    wrap_line : bool, optional
        Break long lines at 80 columns (off by default: matrices stay intact).
    **kwargs
        Passed on to ``sympy.pretty``.

    Examples
    --------
    >>> from upconv.explain.symbolic import pretty, symbolic_conv_matrix
    >>> print(pretty(symbolic_conv_matrix((3,), 2), unicode=False))
    [w1  w2  0 ]
    [          ]
    [0   w1  w2]
    """
    unicode = v.boolean(unicode, "pretty", "unicode")
    wrap_line = v.boolean(wrap_line, "pretty", "wrap_line")
    return _sympy().pretty(expr, use_unicode=unicode, wrap_line=wrap_line, **kwargs)
