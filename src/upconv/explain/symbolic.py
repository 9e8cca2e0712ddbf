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
:data:`upconv.explain.symbols.MAX_ENTRIES` entries (a setting) are refused
with a ValueError.

The derivations of seed 001 are here; seed 002's identity is in
:mod:`upconv.explain.flip_identity`, the symbols, the Jacobian and the
printing in :mod:`upconv.explain.symbols` (all gathered here).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.explain.flip_identity import FlipIdentity, symbolic_flip_identity
from upconv.explain.symbols import (
    _channels,
    _check_entries,
    _conv_exprs,
    _conv_jacobian,
    _conv_setup,
    _name,
    _shaped,
    _symbols,
    _sympy,
    pretty,
    symbol_array,
    to_latex,
)

if TYPE_CHECKING:
    import sympy

__all__ = [
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



# --------------------------------------------------------------------------
# public functions


def symbolic_conv(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    *,
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
    input_name: str = "x",
    weight_name: str = "w",
) -> sympy.Matrix | sympy.ImmutableDenseNDimArray:
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
        :data:`~upconv.explain.symbols.MAX_ENTRIES` product terms.

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
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    *,
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
    layout: str = "numerator",
    weight_name: str = "w",
) -> sympy.Matrix:
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
        For invalid sizes or a matrix of more than :data:`~upconv.explain.symbols.MAX_ENTRIES` entries.

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
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
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
    substituted = C.xreplace({s: sp.Integer(int(n)) for s, n in zip(w.ravel(), numbers.ravel(), strict=False)})
    if substituted.free_symbols:
        return False
    ours = np.array(substituted.tolist(), dtype=np.float64).reshape(C.shape)
    direct = conv_matrix((c_in,) + g.in_size, numbers.astype(np.float64), g.stride, g.padding, g.dilation,
                         groups, dense=True)
    return bool(ours.shape == direct.shape and np.array_equal(ours, direct))


def symbolic_conv_transpose(
    in_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    output_padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    *,
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
    input_name: str = "y",
    weight_name: str = "w",
) -> sympy.Matrix | sympy.ImmutableDenseNDimArray:
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
        more than :data:`~upconv.explain.symbols.MAX_ENTRIES` entries.

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
