"""Gradients of max pooling and of unpooling."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.grad._common import _check_grad_out
from upconv.ops.arrays import array_function
from upconv.ops.pooling import UNPOOL_MODES, count_spatial_axes, max_pool, unpool_indices

if TYPE_CHECKING:
    import numpy.typing as npt

# --------------------------------------------------------------------------
# pooling and unpooling


@array_function
def max_pool_grad_input(
    grad_out: npt.ArrayLike,
    x: npt.ArrayLike,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
    *,
    indices: npt.ArrayLike | None = None,
) -> np.ndarray:
    r"""Gradient of :func:`upconv.max_pool` with respect to ``x``: ``grad_out`` added at the argmax.

    Each window's gradient goes to the element :func:`upconv.max_pool`
    reports as its maximum (the first of equal maxima in row-major window
    order, a NaN if there is one: torch's rule); where windows overlap the
    contributions add up.

    Parameters
    ----------
    grad_out : (N, C, *out_size) or (C, *out_size) array_like
        ``dL/dy`` for the pooled values ``y``.
    x, kernel_size, stride, padding, dilation, ceil_mode, return_indices
        The forward call's arguments, as :func:`upconv.max_pool`
        (``return_indices`` does not matter).
    indices : integer array_like, shape of ``grad_out``, optional
        The forward call's indices; computed from ``x`` when not given.

    Returns
    -------
    grad_x : ndarray, shape of ``x``

    Raises
    ------
    ValueError, TypeError
        For an invalid forward call, or ``grad_out``/``indices`` of the wrong shape.

    Notes
    -----
    .. math::

        \frac{\partial L}{\partial x[n, c].\mathrm{flat}[k]} = \sum_{\mathbf{o}:\
            \mathit{idx}[n, c, \mathbf{o}] = k} g[n, c, \mathbf{o}]

    the adjoint of the gather ``y = x.flat[idx]``.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import max_pool_grad_input
    >>> x = np.array([[[1.0, 3.0, 2.0, 2.0, 0.0]]])
    >>> max_pool_grad_input(np.array([[[10.0, 20.0]]]), x, 3, stride=2)   # windows [1,3,2], [2,2,0]
    array([[[ 0., 10., 20.,  0.,  0.]]])
    """
    func = "max_pool_grad_input"
    result_dtype, arrays = v.float_arrays(func, grad_out=grad_out, x=x)
    gy, xa = cast("list[np.ndarray]", arrays)  # float_arrays types its entries Optional: neither is None
    n = count_spatial_axes(func, xa, kernel_size, "kernel_size")
    xb, unbatched = v.batched(func, xa, n)
    g = shapes.pool_geometry(xb.shape[2:], kernel_size, stride, padding, dilation, ceil_mode, func=func)
    expected = ((xb.shape[1],) if unbatched else xb.shape[:2]) + g.out_size
    _check_grad_out(func, gy, expected, "max_pool")
    if indices is None:
        _, idx = max_pool(xa, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)
    else:
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"{func}: indices must be an integer array, got dtype {idx.dtype}")
        if idx.shape != gy.shape:
            raise ValueError(f"{func}: indices must have the shape of grad_out, {gy.shape}, got {idx.shape}")
    L = math.prod(g.in_size)
    P = math.prod(xb.shape[:2])
    flat = idx.reshape(P, -1).astype(np.int64) + (np.arange(P, dtype=np.int64) * L)[:, None]
    if flat.size and (idx.min() < 0 or idx.max() >= L):
        raise ValueError(f"{func}: indices must lie in [0, {L}) (positions in an input plane of size {g.in_size})")
    gx = np.bincount(flat.ravel(), weights=gy.reshape(-1), minlength=P * L)
    return gx.reshape(xa.shape).astype(result_dtype, copy=False)


@array_function
def max_unpool_grad_input(
    grad_out: npt.ArrayLike,
    x: npt.ArrayLike,
    indices: npt.ArrayLike,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: Any = 0,
    output_size: Sequence[int] | None = None,
) -> np.ndarray:
    r"""Gradient of :func:`upconv.max_unpool` with respect to ``x``: ``grad_out`` gathered at ``indices``.

    Parameters
    ----------
    grad_out : (N, C, *out_size) or (C, *out_size) array_like
    x, indices, kernel_size, stride, padding, output_size
        The forward call's arguments, as :func:`upconv.max_unpool`; only the
        shape of ``x`` is used.

    Returns
    -------
    grad_x : ndarray, shape of ``x``

    Notes
    -----
    :math:`\partial L/\partial x[n, c, \mathbf{j}] = g[n, c].\mathrm{flat}[\mathit{idx}[n, c, \mathbf{j}]]`.
    Where indices repeat, the forward keeps only the last value but every
    duplicate receives the gradient, as in torch (with indices from
    :func:`upconv.max_pool` the duplicates hold equal values).

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import max_unpool_grad_input
    >>> g = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_unpool_grad_input(g, np.ones((1, 1, 2, 2)), np.array([[[[5, 7], [13, 15]]]]), 2)
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """
    func = "max_unpool_grad_input"
    result_dtype, arrays = v.float_arrays(func, grad_out=grad_out, x=x)
    gy, xa = cast("list[np.ndarray]", arrays)  # float_arrays types its entries Optional: neither is None
    ind = unpool_indices(func, indices, xa)
    n = count_spatial_axes(func, xa, kernel_size, "kernel_size")
    xb, unbatched = v.batched(func, xa, n)
    out_size = shapes.max_unpool_output_size(xb.shape[2:], kernel_size, stride, padding, output_size, func=func)
    expected = ((xb.shape[1],) if unbatched else xb.shape[:2]) + out_size
    _check_grad_out(func, gy, expected, "max_unpool")
    P, L = math.prod(xb.shape[:2]), math.prod(out_size)
    ib = ind.reshape(P, -1)
    if ib.size and (ib.min() < 0 or ib.max() >= L):
        raise ValueError(f"{func}: indices must lie in [0, {L}) (positions in an output plane of size {out_size})")
    gx = np.take_along_axis(gy.reshape(P, L), ib.astype(np.intp, copy=False), axis=1)
    return gx.reshape(xa.shape).astype(result_dtype, copy=False)


@array_function
def unpool_grad_input(grad_out: npt.ArrayLike, x: npt.ArrayLike, scale_factor: int | Sequence[int],
                      mode: str = "nearest") -> np.ndarray:
    r"""Gradient of :func:`upconv.unpool` with respect to ``x``.

    ``"nearest"``: the sum of each ``s_1 x ... x s_n`` block of ``grad_out``
    (the adjoint of copying into the block, i.e. sum pooling);
    ``"bed_of_nails"``: the block's first cell, ``grad_out[..., ::s_1, ..., ::s_n]``.

    Parameters
    ----------
    grad_out : (N, C, *(in_size * s)) or (C, *(in_size * s)) array_like
    x, scale_factor, mode
        The forward call's arguments, as :func:`upconv.unpool`; only the
        shape of ``x`` is used.

    Returns
    -------
    grad_x : ndarray, shape of ``x``

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import unpool_grad_input
    >>> g = np.arange(16.0).reshape(1, 4, 4)
    >>> unpool_grad_input(g, np.ones((1, 2, 2)), (2, 2))
    array([[[10., 18.],
            [42., 50.]]])
    >>> unpool_grad_input(g, np.ones((1, 2, 2)), (2, 2), mode="bed_of_nails")
    array([[[ 0.,  2.],
            [ 8., 10.]]])
    """
    func = "unpool_grad_input"
    mode = v.choice(mode, tuple(UNPOOL_MODES), func, "mode")
    result_dtype, arrays = v.float_arrays(func, grad_out=grad_out, x=x)
    gy, xa = cast("list[np.ndarray]", arrays)  # float_arrays types its entries Optional: neither is None
    n = count_spatial_axes(func, xa, scale_factor, "scale_factor")
    xb, unbatched = v.batched(func, xa, n)
    s = v.int_tuple(scale_factor, n, func, "scale_factor", minimum=1)
    out_size = shapes.unpool_output_size(xb.shape[2:], s)
    _check_grad_out(func, gy, xa.shape[: xa.ndim - n] + out_size, "unpool")
    lead = xa.shape[: xa.ndim - n]
    if mode == "nearest":
        split = lead + sum(((i, f) for i, f in zip(xa.shape[-n:], s, strict=True)), ())
        gx = gy.reshape(split).sum(axis=tuple(len(lead) + 2 * a + 1 for a in range(n)))
    else:
        gx = gy[(Ellipsis,) + tuple(slice(None, None, f) for f in s)].copy()  # a new array, even for s = 1
    return np.ascontiguousarray(gx).astype(result_dtype, copy=False)
