"""Gradient artifacts: the checkerboard's overlap seen backwards, in the input gradient of a strided convolution.

The gradient of :func:`upconv.conv` with respect to its input is
:func:`upconv.conv_transpose` of the output gradient, so the uneven overlap
that makes checkerboards in generators makes gradient artifacts in strided
encoders and discriminators (Odena et al., 2016).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.explain.overlap import (
    _ratio,
    _readonly,
    _smallest,
    _tile,
    layer_stack,
    verdict,
)
from upconv.explain.report import grid_text, number
from upconv.ops.convolution import conv_transpose

__all__ = ["GradientPattern", "input_gradient_pattern"]


@dataclass(frozen=True, eq=False)
class GradientPattern:
    """Input gradient of a strided convolution with an all-ones kernel and an all-ones output gradient.

    Attributes
    ----------
    kernel_size, stride, padding, dilation : tuple of int
        The convolution (``padding`` per axis, symmetric).
    in_size : tuple of int
        Its input size.
    gradient : (*in_size) int64 ndarray
        ``dL/dx`` = how many windows cover each input pixel.
    interior : tuple of (begin, end)
        Positions unaffected by the borders.
    tile : (*stride) int64 ndarray
        ``tile[r] = gradient[i]`` for interior ``i`` with ``i % stride == r``
        (input coordinates).
    """

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    in_size: tuple[int, ...]
    gradient: np.ndarray
    interior: tuple[tuple[int, int], ...]
    tile: np.ndarray

    @property
    def ratio(self) -> float:
        """Interior max / min of the gradient (1.0 = even)."""
        return _ratio(self.tile)

    def format_table(self) -> str:
        """The gradient, its interior tile and ratio as plain text."""
        def f(t: tuple[int, ...]) -> str:
            return "x".join(map(str, t))

        return "\n".join([
            f"input gradient of conv k{f(self.kernel_size)} s{f(self.stride)} p{f(self.padding)} d{f(self.dilation)} "
            f"on {f(self.in_size)} (all-ones kernel and output gradient):",
            grid_text(self.gradient),
            "interior tile (from input index 0 modulo the stride):",
            grid_text(self.tile),
            f"ratio {number(self.ratio)} ({verdict(self.ratio)})",
        ])

    def __str__(self) -> str:
        return self.format_table()


def input_gradient_pattern(
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int],
    ndim: int | None = None,
    *,
    padding: int | Sequence[int] | None = None,
    dilation: int | Sequence[int] = 1,
    in_size: int | Sequence[int] | None = None,
) -> GradientPattern:
    """Input gradient of a strided convolution with all-ones kernel and output gradient.

    The gradient of :func:`upconv.conv` with respect to its input is
    :func:`upconv.conv_transpose` of the output gradient: the same uneven
    overlap that makes checkerboards in generators makes gradient artifacts
    in strided encoders and discriminators (Odena et al., 2016).

    Parameters
    ----------
    kernel_size, stride : int or sequence of ndim ints
    ndim : int, optional
        Number of spatial axes (default: from the tuples given, else 1).
    padding : int or sequence of ndim ints, optional
        The convolution's padding; default the begin of torch's ``"same"``
        padding, ``(d*(k-1)) // 2`` (k=3 -> 1).
    dilation : int or sequence of ndim ints, optional
    in_size : int or sequence of ndim ints, optional
        The convolution's input size; default: the smallest with an interior
        of two periods.

    Returns
    -------
    GradientPattern
        ``gradient``, ``interior``, ``tile``, ``ratio``.

    Raises
    ------
    TypeError, ValueError
        For invalid parameters, or an ``in_size`` whose interior is shorter
        than the stride.

    Examples
    --------
    >>> from upconv import input_gradient_pattern
    >>> input_gradient_pattern(3, 2, in_size=8).gradient
    array([1, 2, 1, 2, 1, 2, 1, 1])
    >>> input_gradient_pattern(3, 2).tile
    array([1, 2])
    """
    func = "input_gradient_pattern"
    (layer,) = layer_stack(func, kernel_size, stride, dilation, None, ndim)
    k, s, d = layer
    n = len(k)
    if padding is None:
        p = tuple(b for b, _ in shapes.same_padding(k, k, 1, d))  # in_size = k: only the kernel matters
    else:
        p = v.int_tuple(padding, n, func, "padding", minimum=0)

    def interior_length(m: int, a: int) -> int:
        try:
            o = shapes.conv_output_size((m,), k[a], s[a], p[a], d[a])
        except ValueError:  # kernel larger than the padded input
            return -1
        op = shapes.conv_transpose_output_padding((m,), o, k[a], s[a], p[a], d[a])
        (b, e), = shapes.conv_transpose_interior(o, k[a], s[a], p[a], op, d[a])
        return e - b

    if in_size is None:
        size = tuple(_smallest(functools.partial(interior_length, a=a), 2 * s[a]) for a in range(n))
    else:
        size = v.int_tuple(in_size, n, func, "in_size", minimum=1)
        for a in range(n):
            if interior_length(size[a], a) < s[a]:
                need = _smallest(functools.partial(interior_length, a=a), s[a])
                raise ValueError(
                    f"{func}: in_size={size} is too small: on axis {a} the border-free interior is shorter than "
                    f"the stride ({s[a]}); use in_size >= {need} on that axis"
                )
    out = shapes.conv_output_size(size, k, s, p, d)
    op = shapes.conv_transpose_output_padding(size, out, k, s, p, d)
    inner = shapes.conv_transpose_interior(out, k, s, p, op, d)
    grad = conv_transpose(np.ones((1, 1) + out), np.ones((1, 1) + k), stride=s, padding=p, dilation=d, output_size=size)
    grad = np.rint(grad[0, 0]).astype(np.int64)
    return GradientPattern(k, s, p, d, size, _readonly(grad), inner, _readonly(_tile(grad, inner, s)))
