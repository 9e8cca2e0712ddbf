"""Sub-pixel rearrangements: pixel_shuffle / pixel_unshuffle (torch), depth_to_space / space_to_depth (ONNX).

All four move channel entries to spatial positions or back, without
arithmetic: each is one reshape, one transpose and one copy, written as a
:class:`Rearrangement` (the einops idea: a small recipe, then apply it).
The copy runs as a parallel compiled kernel (:mod:`upconv.kernels.rearrange`) for large arrays (NumPy's
transposing copy is single-threaded) and with NumPy otherwise; every dtype
is kept.

With block size ``r`` and ``n`` spatial axes (the ONNX "DCR"/"CRD" names
read depth-column-row / column-row-depth):

==================  ==========================================================
CRD (torch)         ``y[.., c, h*r+i, w*r+j] = x[.., c*r*r + i*r + j, h, w]``
DCR (ONNX default)  ``y[.., c, h*r+i, w*r+j] = x[.., (i*r + j)*C + c, h, w]``
==================  ==========================================================

Reference: Shi et al., "Real-Time Single Image and Video Super-Resolution
Using an Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from upconv import _validate as v
from upconv.kernels.parallel import parallel_for
from upconv.ops.arrays import array_function

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["pixel_shuffle", "pixel_unshuffle", "depth_to_space", "space_to_depth"]

# Arrays of at least this many bytes are copied by the parallel kernel.
_PARALLEL_MIN_BYTES = 1 << 20
# Unsigned integer type the kernel moves items of each size as.
_RAW = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


@dataclass(frozen=True)
class Rearrangement:
    """The recipe ``y = x.reshape(split).transpose(axes).reshape(out_shape)``, applied as a new C-contiguous array."""

    split: tuple[int, ...]
    axes: tuple[int, ...]
    out_shape: tuple[int, ...]

    def apply(self, x: np.ndarray, func: str) -> np.ndarray:
        """The rearranged copy of ``x`` (of the shape the recipe was made for); ``func`` names a MemoryError."""
        v.check_allocation(self.out_shape, x.dtype, func, "the output")
        raw = _RAW.get(x.dtype.itemsize)
        if raw is not None and x.nbytes >= _PARALLEL_MIN_BYTES and x.flags.c_contiguous and x.dtype.kind != "O":
            # a pure move of bytes: one kernel per item size serves every dtype
            bits = x.view(raw)
            out = _parallel_copy(bits, bits.reshape(self.split).transpose(self.axes))
            if out is not None:
                return out.view(x.dtype).reshape(self.out_shape)
        return x.reshape(self.split).transpose(self.axes).copy(order="C").reshape(self.out_shape)


def _merged(view: np.ndarray) -> tuple[list[int], list[int]]:
    """Shape and element strides of ``view`` with unit axes dropped and mergeable axes merged."""
    item = view.itemsize
    shape: list[int] = []
    strides: list[int] = []
    for size, st in zip(view.shape, view.strides, strict=True):
        if size == 1:
            continue
        st //= item
        if shape and strides[-1] == st * size:
            shape[-1] *= size
            strides[-1] = st
        else:
            shape.append(size)
            strides.append(st)
    return shape, strides


def _parallel_copy(x: np.ndarray, view: np.ndarray) -> np.ndarray | None:
    """C-contiguous copy of ``view``, a reshaped and transposed view of C-contiguous ``x``.

    Returns None when the kernel does not help (the view is a plain copy).
    """
    shape, strides = _merged(view)
    if len(shape) < 2 or view.size == 0:
        return None
    out = np.empty(view.size, dtype=view.dtype)
    outer_shape = np.array(shape[:-2], dtype=np.int64)
    outer_strides = np.array(strides[:-2], dtype=np.int64)
    M = view.size // (shape[-2] * shape[-1])  # blocks of the two innermost axes
    from upconv.kernels.rearrange import permuted_copy

    parallel_for(permuted_copy, M, x.reshape(-1), out, outer_shape, outer_strides, shape[-2], strides[-2],
                 shape[-1], strides[-1])
    return out


# --------------------------------------------------------------------------
# recipes: (*lead, channels, *spatial) with n spatial axes, block size r


def _interleave(lead: int, n: int) -> tuple[int, ...]:
    """Axes of ``(*lead, C, r_1..r_n, S_1..S_n)`` reordered to ``(*lead, C, S_1, r_1, ..., S_n, r_n)``."""
    c = lead
    return tuple(range(lead + 1)) + sum(((c + 1 + n + a, c + 1 + a) for a in range(n)), ())


def _deinterleave(lead: int, n: int) -> tuple[int, ...]:
    """Inverse of :func:`_interleave`: ``(*lead, C, S_1, r_1, ...)`` to ``(*lead, C, r_1..r_n, S_1..S_n)``."""
    fwd = _interleave(lead, n)
    return tuple(int(a) for a in np.argsort(fwd))


def _to_space(shape: tuple[int, ...], r: int, n: int, dcr: bool, func: str, name: str) -> Rearrangement:
    """``(*lead, C*r^n, *S) -> (*lead, C, *(S*r))``; channel index ``c*r^n + blk`` (CRD) or ``blk*C + c`` (DCR)."""
    lead, ch, spatial = shape[: -n - 1], shape[-n - 1], shape[-n:]
    block = r**n
    if ch % block:
        raise ValueError(
            f"{func}: the channel axis (axis {-n - 1}, size {ch}) must be divisible by "
            f"{name}**{n} = {block}, got x of shape {shape}"
        )
    c = ch // block
    L = len(lead)
    if dcr:  # (*lead, r_1..r_n, C, *S): move C in front of the blocks, then interleave
        split = lead + (r,) * n + (c,) + spatial
        first = tuple(range(L)) + (L + n,) + tuple(range(L, L + n)) + tuple(range(L + n + 1, L + 2 * n + 1))
        axes = tuple(first[a] for a in _interleave(L, n))
    else:
        split = lead + (c,) + (r,) * n + spatial
        axes = _interleave(L, n)
    out_shape = lead + (c,) + tuple(s * r for s in spatial)
    return Rearrangement(split, axes, out_shape)


def _to_depth(shape: tuple[int, ...], r: int, n: int, dcr: bool, func: str, name: str) -> Rearrangement:
    """Inverse of :func:`_to_space`: ``(*lead, C, *(S*r)) -> (*lead, C*r^n, *S)``."""
    lead, c, spatial = shape[: -n - 1], shape[-n - 1], shape[-n:]
    if any(s % r for s in spatial):
        raise ValueError(
            f"{func}: the spatial sizes {spatial} must be divisible by {name}={r}, got x of shape {shape}"
        )
    L = len(lead)
    small = tuple(s // r for s in spatial)
    split = lead + (c,) + sum(((s, r) for s in small), ())
    axes = _deinterleave(L, n)  # (*lead, C, r_1..r_n, S_1..S_n)
    if dcr:  # move C behind the blocks
        behind = tuple(range(L)) + tuple(range(L + 1, L + n + 1)) + (L,) + tuple(range(L + n + 1, L + 2 * n + 1))
        axes = tuple(axes[a] for a in behind)
    out_shape = lead + (c * r**n,) + small
    return Rearrangement(split, axes, out_shape)


def _check_min_rank(func: str, shape: tuple[int, ...], ndim: int, layout: str) -> None:
    """Refuse an input ``x`` of fewer than ``ndim`` axes; ``layout`` (in parentheses) says what they are."""
    if len(shape) < ndim:
        raise ValueError(f"{func}: x must have at least {ndim} dimensions {layout}, got x of shape {shape}")


# --------------------------------------------------------------------------
# validated recipes of the four operations; func names the caller in error messages (a gradient names itself)


def _torch_args(func: str, shape: tuple[int, ...], factor: int, name: str, ndim: int,
                to_space: bool) -> tuple[int, int, bool]:
    """Block size, number of spatial axes and DCR order (never) of a torch pixel_shuffle / pixel_unshuffle call."""
    n = v.integer(ndim, func, "ndim", minimum=1)
    r = v.integer(factor, func, name, minimum=1)
    channels = f"C * {name}**{n}" if to_space else "C"
    _check_min_rank(func, shape, n + 1, f"((*, {channels}, *spatial) with {n} spatial axes)")
    return r, n, False


def pixel_shuffle_plan(shape: Sequence[int], upscale_factor: int, ndim: int = 2, *,
                       func: str = "pixel_shuffle") -> Rearrangement:
    """The validated :class:`Rearrangement` of :func:`pixel_shuffle` for an input of ``shape``."""
    shape = tuple(shape)
    return _to_space(shape, *_torch_args(func, shape, upscale_factor, "upscale_factor", ndim, True), func,
                     "upscale_factor")


def pixel_unshuffle_plan(shape: Sequence[int], downscale_factor: int, ndim: int = 2, *,
                         func: str = "pixel_unshuffle") -> Rearrangement:
    """The validated :class:`Rearrangement` of :func:`pixel_unshuffle` for an input of ``shape``."""
    shape = tuple(shape)
    return _to_depth(shape, *_torch_args(func, shape, downscale_factor, "downscale_factor", ndim, False), func,
                     "downscale_factor")


def _onnx_args(func: str, shape: tuple[int, ...], blocksize: int, mode: str) -> tuple[int, int, bool]:
    """Block size, number of spatial axes and DCR order of an ONNX DepthToSpace / SpaceToDepth call."""
    mode = v.choice(mode, ("DCR", "CRD"), func, "mode")
    b = v.integer(blocksize, func, "blocksize", minimum=1)
    _check_min_rank(func, shape, 3, "(N, C, *spatial)")
    return b, len(shape) - 2, mode == "DCR"


def depth_to_space_plan(shape: Sequence[int], blocksize: int, mode: str = "DCR", *,
                        func: str = "depth_to_space") -> Rearrangement:
    """The validated :class:`Rearrangement` of :func:`depth_to_space` for an input of ``shape``."""
    shape = tuple(shape)
    return _to_space(shape, *_onnx_args(func, shape, blocksize, mode), func, "blocksize")


def space_to_depth_plan(shape: Sequence[int], blocksize: int, mode: str = "DCR", *,
                        func: str = "space_to_depth") -> Rearrangement:
    """The validated :class:`Rearrangement` of :func:`space_to_depth` for an input of ``shape``."""
    shape = tuple(shape)
    return _to_depth(shape, *_onnx_args(func, shape, blocksize, mode), func, "blocksize")


# --------------------------------------------------------------------------
# public functions


@array_function
def pixel_shuffle(x: npt.ArrayLike, upscale_factor: int, *, ndim: int = 2) -> np.ndarray:
    r"""Rearrange channels into space, identical to ``torch.nn.functional.pixel_shuffle``.

    ``(*, C*r^n, S_1, ..., S_n) -> (*, C, S_1*r, ..., S_n*r)``: each group
    of ``r^n`` consecutive channels becomes an ``r x ... x r`` block (CRD order).
    The sub-pixel convolution of Shi et al. (2016) is a convolution
    followed by this.

    Parameters
    ----------
    x : (*, C * r**ndim, *spatial) array_like
        Input with any number of leading axes; any dtype (kept).
    upscale_factor : int
        ``r >= 1``.
    ndim : int, optional
        Number of trailing spatial axes ``n`` (default 2, torch's behaviour).

    Returns
    -------
    y : (*, C, *(spatial * r)) ndarray
        A new array with ``x``'s dtype.

    Raises
    ------
    ValueError
        If ``r < 1``, ``x`` has fewer than ``ndim + 1`` axes, or the channel
        axis is not divisible by ``r**ndim``.

    See Also
    --------
    pixel_unshuffle : the inverse.
    depth_to_space : the ONNX operator (``mode="CRD"`` is this function).

    Notes
    -----
    .. math::

        y[\ldots, c, h r + i, w r + j] = x[\ldots, c r^2 + i r + j, h, w]

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.arange(8).reshape(1, 4, 1, 2)
    >>> upconv.pixel_shuffle(x, 2)
    array([[[[0, 2, 1, 3],
             [4, 6, 5, 7]]]])
    >>> upconv.pixel_shuffle(np.arange(8).reshape(4, 2), 2, ndim=1)
    array([[0, 2, 1, 3],
           [4, 6, 5, 7]])
    """
    xa = np.asarray(x)
    return pixel_shuffle_plan(xa.shape, upscale_factor, ndim).apply(xa, "pixel_shuffle")


@array_function
def pixel_unshuffle(x: npt.ArrayLike, downscale_factor: int, *, ndim: int = 2) -> np.ndarray:
    r"""Rearrange space into channels, identical to ``torch.nn.functional.pixel_unshuffle``.

    ``(*, C, S_1*r, ..., S_n*r) -> (*, C*r^n, S_1, ..., S_n)``, the inverse
    of :func:`pixel_shuffle`.

    Parameters
    ----------
    x : (*, C, *spatial) array_like
        Input whose ``ndim`` trailing (spatial) sizes are divisible by ``r``.
    downscale_factor : int
        ``r >= 1``.
    ndim : int, optional
        Number of trailing spatial axes (default 2, torch's behaviour).

    Returns
    -------
    y : (*, C * r**ndim, *(spatial / r)) ndarray
        A new array with ``x``'s dtype.

    Raises
    ------
    ValueError
        If ``r < 1``, ``x`` has fewer than ``ndim + 1`` axes, or a spatial
        size is not divisible by ``r``.

    Notes
    -----
    .. math::

        y[\ldots, c r^2 + i r + j, h, w] = x[\ldots, c, h r + i, w r + j]

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.arange(8).reshape(1, 1, 2, 4)
    >>> upconv.pixel_unshuffle(x, 2)[0, :, 0]
    array([[0, 2],
           [1, 3],
           [4, 6],
           [5, 7]])
    """
    xa = np.asarray(x)
    return pixel_unshuffle_plan(xa.shape, downscale_factor, ndim).apply(xa, "pixel_unshuffle")


@array_function
def depth_to_space(x: npt.ArrayLike, blocksize: int, mode: str = "DCR") -> np.ndarray:
    r"""ONNX ``DepthToSpace``, generalised to any number of spatial axes.

    ``(N, C*b^n, S_1, ..., S_n) -> (N, C, S_1*b, ..., S_n*b)`` with
    ``n = x.ndim - 2`` (ONNX: 4-D input, ``n = 2``, identical results).

    Parameters
    ----------
    x : (N, C * b**n, *spatial) array_like
        Input, any dtype (kept).
    blocksize : int
        ``b >= 1``.
    mode : {"DCR", "CRD"}
        Channel order of a block: ``"DCR"`` (ONNX default; depth, column,
        row) takes channel ``blk*C + c``, ``"CRD"`` takes ``c*b^n + blk``
        (= :func:`pixel_shuffle`), where ``blk`` is the row-major position
        inside the ``b x ... x b`` block.

    Returns
    -------
    y : (N, C, *(spatial * b)) ndarray

    Raises
    ------
    ValueError
        If ``b < 1``, ``x`` has fewer than 3 axes, the channel axis is not
        divisible by ``b**n``, or ``mode`` is unknown.

    Notes
    -----
    .. math::

        y_{DCR}[n, c, h b + i, w b + j] = x[n, (i b + j) C + c, h, w]

        y_{CRD}[n, c, h b + i, w b + j] = x[n, c b^2 + i b + j, h, w]

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.arange(8).reshape(1, 4, 1, 2)
    >>> upconv.depth_to_space(x, 2)[0, 0]
    array([[0, 2, 1, 3],
           [4, 6, 5, 7]])
    >>> upconv.depth_to_space(x, 2, mode="CRD")[0, 0]
    array([[0, 2, 1, 3],
           [4, 6, 5, 7]])
    >>> upconv.depth_to_space(np.arange(8).reshape(1, 8, 1, 1), 2)[0]
    array([[[0, 2],
            [4, 6]],
    <BLANKLINE>
           [[1, 3],
            [5, 7]]])
    """
    xa = np.asarray(x)
    return depth_to_space_plan(xa.shape, blocksize, mode).apply(xa, "depth_to_space")


@array_function
def space_to_depth(x: npt.ArrayLike, blocksize: int, mode: str = "DCR") -> np.ndarray:
    r"""ONNX ``SpaceToDepth``, generalised to any number of spatial axes; inverse of :func:`depth_to_space`.

    ``(N, C, S_1*b, ..., S_n*b) -> (N, C*b^n, S_1, ..., S_n)`` with
    ``n = x.ndim - 2``.

    Parameters
    ----------
    x : (N, C, *spatial) array_like
        Input whose spatial sizes are divisible by ``b``; any dtype (kept).
    blocksize : int
        ``b >= 1``.
    mode : {"DCR", "CRD"}
        ``"DCR"`` (the only behaviour before ONNX opset 28, the default)
        writes channel ``blk*C + c``; ``"CRD"`` writes ``c*b^n + blk``
        (= :func:`pixel_unshuffle`).

    Returns
    -------
    y : (N, C * b**n, *(spatial / b)) ndarray

    Raises
    ------
    ValueError
        If ``b < 1``, ``x`` has fewer than 3 axes, a spatial size is not
        divisible by ``b``, or ``mode`` is unknown.

    Notes
    -----
    .. math::

        y_{DCR}[n, (i b + j) C + c, h, w] = x[n, c, h b + i, w b + j]

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.arange(8).reshape(1, 2, 2, 2)
    >>> upconv.space_to_depth(x, 2)[:, :, 0, 0]
    array([[0, 4, 1, 5, 2, 6, 3, 7]])
    >>> upconv.space_to_depth(x, 2, mode="CRD")[:, :, 0, 0]
    array([[0, 1, 2, 3, 4, 5, 6, 7]])
    """
    xa = np.asarray(x)
    return space_to_depth_plan(xa.shape, blocksize, mode).apply(xa, "space_to_depth")
