"""Gradients of the sub-pixel rearrangements: the inverse permutation."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv.grad._common import _check_grad_out
from upconv.ops.arrays import array_function
from upconv.ops.rearrange import (
    depth_to_space_plan,
    pixel_shuffle_plan,
    pixel_unshuffle_plan,
    space_to_depth_plan,
)

if TYPE_CHECKING:
    import numpy.typing as npt

    from upconv.ops.rearrange import Rearrangement

# --------------------------------------------------------------------------
# sub-pixel rearrangements: the gradient is the inverse permutation


def _rearrangement_grad(func: str, op: str, grad_out: npt.ArrayLike, x: npt.ArrayLike,
                        plan: Callable[..., Rearrangement], inverse_plan: Callable[..., Rearrangement],
                        *args: Any) -> np.ndarray:
    """``grad_out`` rearranged back by ``inverse_plan``, once ``plan`` (the forward ``op``) has validated the call."""
    gy = np.asarray(grad_out)
    expected = plan(np.shape(x), *args, func=func).out_shape
    _check_grad_out(func, gy, expected, op)
    return inverse_plan(gy.shape, *args, func=func).apply(gy, func)


@array_function
def pixel_shuffle_grad_input(
    grad_out: npt.ArrayLike, x: npt.ArrayLike, upscale_factor: int, *, ndim: int = 2
) -> np.ndarray:
    r"""Gradient of :func:`upconv.pixel_shuffle` with respect to ``x``: :func:`upconv.pixel_unshuffle`.

    A permutation's adjoint is its inverse.

    Parameters
    ----------
    grad_out : (*, C, *(spatial * r)) array_like
    x, upscale_factor, ndim
        The forward call's arguments; only the shape of ``x`` is used.

    Returns
    -------
    grad_x : ndarray, shape of ``x``, dtype of ``grad_out``

    Examples
    --------
    >>> import numpy as np, upconv
    >>> from upconv.grad import pixel_shuffle_grad_input
    >>> x = np.arange(8.0).reshape(1, 4, 1, 2)
    >>> np.array_equal(pixel_shuffle_grad_input(upconv.pixel_shuffle(x, 2), x, 2), x)
    True
    """
    return _rearrangement_grad("pixel_shuffle_grad_input", "pixel_shuffle", grad_out, x,
                               pixel_shuffle_plan, pixel_unshuffle_plan, upscale_factor, ndim)


@array_function
def pixel_unshuffle_grad_input(
    grad_out: npt.ArrayLike, x: npt.ArrayLike, downscale_factor: int, *, ndim: int = 2
) -> np.ndarray:
    r"""Gradient of :func:`upconv.pixel_unshuffle` with respect to ``x``: :func:`upconv.pixel_shuffle`.

    Parameters
    ----------
    grad_out : (*, C * r**ndim, *(spatial / r)) array_like
    x, downscale_factor, ndim
        The forward call's arguments; only the shape of ``x`` is used.

    Returns
    -------
    grad_x : ndarray, shape of ``x``, dtype of ``grad_out``

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import pixel_unshuffle_grad_input
    >>> pixel_unshuffle_grad_input(np.arange(4.0).reshape(1, 4, 1, 1), np.zeros((1, 1, 2, 2)), 2)[0, 0]
    array([[0., 1.],
           [2., 3.]])
    """
    return _rearrangement_grad("pixel_unshuffle_grad_input", "pixel_unshuffle", grad_out, x,
                               pixel_unshuffle_plan, pixel_shuffle_plan, downscale_factor, ndim)


@array_function
def depth_to_space_grad_input(
    grad_out: npt.ArrayLike, x: npt.ArrayLike, blocksize: int, mode: str = "DCR"
) -> np.ndarray:
    r"""Gradient of :func:`upconv.depth_to_space` with respect to ``x``: :func:`upconv.space_to_depth`.

    Parameters
    ----------
    grad_out : (N, C, *(spatial * b)) array_like
    x, blocksize, mode
        The forward call's arguments; only the shape of ``x`` is used.

    Returns
    -------
    grad_x : ndarray, shape of ``x``, dtype of ``grad_out``

    Examples
    --------
    >>> import numpy as np, upconv
    >>> from upconv.grad import depth_to_space_grad_input
    >>> x = np.arange(8.0).reshape(1, 8, 1, 1)
    >>> np.array_equal(depth_to_space_grad_input(upconv.depth_to_space(x, 2), x, 2), x)
    True
    """
    return _rearrangement_grad("depth_to_space_grad_input", "depth_to_space", grad_out, x,
                               depth_to_space_plan, space_to_depth_plan, blocksize, mode)


@array_function
def space_to_depth_grad_input(
    grad_out: npt.ArrayLike, x: npt.ArrayLike, blocksize: int, mode: str = "DCR"
) -> np.ndarray:
    r"""Gradient of :func:`upconv.space_to_depth` with respect to ``x``: :func:`upconv.depth_to_space`.

    Parameters
    ----------
    grad_out : (N, C * b**n, *(spatial / b)) array_like
    x, blocksize, mode
        The forward call's arguments; only the shape of ``x`` is used.

    Returns
    -------
    grad_x : ndarray, shape of ``x``, dtype of ``grad_out``

    Examples
    --------
    >>> import numpy as np, upconv
    >>> from upconv.grad import space_to_depth_grad_input
    >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
    >>> np.array_equal(space_to_depth_grad_input(upconv.space_to_depth(x, 2), x, 2), x)
    True
    """
    return _rearrangement_grad("space_to_depth_grad_input", "space_to_depth", grad_out, x,
                               space_to_depth_plan, depth_to_space_plan, blocksize, mode)
