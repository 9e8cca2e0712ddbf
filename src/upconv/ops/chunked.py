"""The operators on Dask arrays: larger than memory, on one machine or many.

Every function here takes a Dask array (and the operator's usual arguments,
in the same order and with the same names as the public operator) and returns
a lazy Dask array equal to the in-memory operator applied to the whole array:
nothing is computed until ``.compute()``, ``.to_zarr()`` or ``da.store``.
Each output block is computed by the ordinary in-memory operator on the
window of the input it reads, so blocks run wherever Dask runs them (threads,
processes, a ``dask.distributed`` cluster).  The public operators send
Dask arrays here (the array layer's hook, :mod:`upconv.ops.arrays`):
``upconv.interpolate(dask_array, ...)`` is ``chunked.interpolate(dask_array, ...)``.

=========================  ===================================================
``conv``, ``conv_transpose``  :mod:`upconv.ops.chunked_conv`
``interpolate``, ``resize``,  :mod:`upconv.ops.chunked_resample`
``resize_conv``
``max_pool``, ``max_unpool``, :mod:`upconv.ops.chunked_pool`
``unpool``
``pixel_shuffle``, ...        :mod:`upconv.ops.chunked_rearrange`
the graph                     :mod:`upconv.ops.chunked_graph`
=========================  ===================================================

Chunks
    The input may be chunked along the batch and spatial axes in any way
    (ragged chunks, chunks of one element, chunks smaller than the halo).  The
    channel axis is rechunked to one chunk where the operator mixes channels
    (``conv``, ``conv_transpose``, ``resize_conv``, the shuffles) and kept
    as it is where it does not (interpolation, pooling, unpooling).  The
    output's chunks follow the input's (times the scale along up-sampled
    axes).

Halos
    Which inputs each output chunk reads (its own input chunk and a halo) and
    where each output chunk starts come from :mod:`upconv.shapes.chunks`,
    derived from the operator's own index map: the taps of a convolution
    (padding at the array's edges, stride, dilation, output padding and
    cropping), the per-output taps of an interpolation plan (any mode, scale
    or size, ``align_corners``, antialiasing).  No constant depth is guessed.

Exactness
    The result equals the in-memory call's bit for bit, for every operator
    and chunking, and for ``conv`` and ``conv_transpose`` by every method
    (``"auto"`` too): every block follows the whole array's size-dependent
    choices (:class:`upconv.ops.paths.Route`), and every engine sums each
    output in an order that does not depend on the extent (the compiled
    kernels, the sparse matrix, and the fixed-order GEMM
    :func:`upconv.ops.paths.matmul` that the convolutions use instead of
    BLAS, which rounds an element differently in matrices of different
    widths).

Dtypes
    The in-memory operators' dtype policy, by construction: the result's
    dtype is what the in-memory operator returns for the input's dtype
    (:func:`upconv.ops.chunked_graph.result_dtype` calls it on a
    one-element array; the interpolations take it from the same
    :class:`upconv.ops.resampling.Resampling` the in-memory call makes), and
    every block runs the branch the in-memory call takes: integer and
    boolean data keep their dtype in ``max_pool``, ``max_unpool``,
    ``unpool``, the shuffles and the nearest modes of ``interpolate`` and
    ``resize`` (gathers); uint8 ``bilinear``/``bicubic`` ``interpolate``
    stays uint8 (torch's fixed point, its taps cut per output chunk);
    everything else is converted to floats as
    :func:`upconv._validate.float_arrays` says.  Big-endian input gives
    native-order results.

Validation
    Arguments are checked by the in-memory operators' own validation, on an
    array that has the Dask array's shape and dtype but no memory, before any
    graph is built: the same errors, with the same messages.

Operators that need the whole array (``deconvolve``'s FFTs and solvers,
``im2col``) are not chunked; :func:`whole_array_error` is the error to
raise for them.  Dask is imported when one of these functions is called,
never at ``import upconv``; :func:`is_dask_array` does not import it.
"""

from __future__ import annotations

from upconv.ops.chunked_conv import conv, conv_transpose
from upconv.ops.chunked_graph import is_dask_array
from upconv.ops.chunked_pool import max_pool, max_unpool, unpool
from upconv.ops.chunked_rearrange import depth_to_space, pixel_shuffle, pixel_unshuffle, space_to_depth
from upconv.ops.chunked_resample import interpolate, resize, resize_conv

__all__ = [
    "SUPPORTED",
    "WHOLE_ARRAY",
    "is_dask_array",
    "whole_array_error",
    "conv",
    "conv_transpose",
    "interpolate",
    "resize",
    "resize_conv",
    "unpool",
    "max_pool",
    "max_unpool",
    "pixel_shuffle",
    "pixel_unshuffle",
    "depth_to_space",
    "space_to_depth",
]

#: The operators with a chunked version here (the names of the public operators).
SUPPORTED = (
    "conv",
    "conv_transpose",
    "interpolate",
    "resize",
    "resize_conv",
    "unpool",
    "max_pool",
    "max_unpool",
    "pixel_shuffle",
    "pixel_unshuffle",
    "depth_to_space",
    "space_to_depth",
)

#: Operators that need the whole array, and why.
WHOLE_ARRAY = {
    "deconvolve": "FFT over the full extent, or a solver iterating over the whole image",
    "im2col": "its columns index the windows of the whole array",
    "col2im": "its columns index the windows of the whole array",
}


def whole_array_error(name: str) -> TypeError:
    """The error for a Dask array given to operator ``name``, which needs the whole array (raise it).

    Examples
    --------
    >>> print(whole_array_error("deconvolve"))  # doctest: +ELLIPSIS
    deconvolve needs the whole array (FFT over the full extent, ...): call .compute() first or, ...
    """
    why = WHOLE_ARRAY.get(name, "it is not computed chunk by chunk")
    supported = ", ".join(SUPPORTED)
    hint = ("call .compute() first or, if a blockwise approximation will do, use dask.array.map_overlap with a "
            "depth covering its support")
    if name not in WHOLE_ARRAY:
        hint += f" (the chunked operators are {supported})"
    return TypeError(f"{name} needs the whole array ({why}): {hint}")
