"""The operators: N-d, exact to PyTorch and ONNX, on NumPy arrays.

=========================  ===================================================
``convolution``            conv, conv_transpose: arguments, checks, the method table
``correlation``            the engine: im2col, correlation (GEMM, direct, vector kernels), weight gradient
``transposed``             conv_transpose's four methods (scatter, zero_insertion, matrix, phase)
``paths``                  which compiled kernel computes what: the rules and tuning constants
``matrix``                 conv_matrix: the convolution as a sparse matrix C
``unfold``                 im2col, col2im (torch unfold/fold, ONNX Col2Im)
``pooling``                max_pool, max_unpool, unpool
``rearrange``              pixel_shuffle, pixel_unshuffle, depth_to_space, space_to_depth
``interpolation``          interpolate (torch), resize (ONNX)
``resampling``             their engine; per-axis taps and weights: ``resample_torch``, ``resample_onnx``;
                           validation, dtype policy and plans of a call: ``resample_plans``
``resize_convolution``     resize_conv: interpolation, then a convolution;
                           resize_equivalent_kernel: the transposed convolution equal to it
``chunked``                the operators on Dask arrays, block by block (``chunked_*``:
                           the graph, convolutions, resampling, pooling, shuffles)
=========================  ===================================================
"""

from upconv.ops.convolution import conv, conv_transpose
from upconv.ops.interpolation import interpolate, resize
from upconv.ops.matrix import conv_matrix
from upconv.ops.pooling import max_pool, max_unpool, unpool
from upconv.ops.rearrange import (
    depth_to_space,
    pixel_shuffle,
    pixel_unshuffle,
    space_to_depth,
)
from upconv.ops.resize_convolution import resize_conv, resize_equivalent_kernel
from upconv.ops.unfold import col2im, im2col

__all__ = [
    "conv",
    "conv_transpose",
    "conv_matrix",
    "im2col",
    "col2im",
    "max_pool",
    "max_unpool",
    "unpool",
    "pixel_shuffle",
    "pixel_unshuffle",
    "depth_to_space",
    "space_to_depth",
    "interpolate",
    "resize",
    "resize_conv",
    "resize_equivalent_kernel",
]
