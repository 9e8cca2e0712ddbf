r"""Seed 002's identity: ``C^T``, the transposed convolution's matrix, is the flipped kernel's matrix rearranged.

``C^T = F P``: ``P`` inserts zeros between the pixels of ``y`` and pads the
result, ``F`` is the matrix of the stride-1 convolution of that image with
the flipped (and channel-transposed) kernel.  Built symbolically with sympy
(:mod:`upconv.explain.symbols`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.explain.symbols import (
    _check_entries,
    _conv_jacobian,
    _conv_setup,
    _name,
    _symbols,
    _sympy,
)

if TYPE_CHECKING:
    import sympy

__all__ = ["FlipIdentity", "symbolic_flip_identity"]


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
    transposed: sympy.Matrix
    #: ``F``, shape ``(C_in * prod(in), C_out * prod(intermediate_size))``.
    flipped: sympy.Matrix
    #: ``P``, 0/1 matrix of shape ``(C_out * prod(intermediate_size), C_out * prod(out))``.
    embedding: sympy.Matrix
    #: ``F P`` (the columns of ``F`` at the pixels of ``y``; zero columns where ``y`` was cropped).
    rearranged: sympy.Matrix
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
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    *,
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
    weight_name: str = "w",
) -> FlipIdentity:
    r"""Seed 002: ``C^T`` rearranges into the flipped kernel's convolution matrix on the padded, zero-inserted input.

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
        For invalid sizes or an ``F`` of more than :data:`~upconv.explain.symbols.MAX_ENTRIES` entries.

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

