"""upconv: up-sampling for neural networks on NumPy, exact to PyTorch and ONNX.

Operators
---------
conv, conv_transpose
    N-d convolution and transposed convolution (torch semantics); the
    transposed convolution computed four ways (``method=``).
max_pool, max_unpool, unpool
    N-d max pooling with indices and its inverse (torch semantics, ONNX
    pads); index-free nearest / bed-of-nails unpooling.
pixel_shuffle, pixel_unshuffle, depth_to_space, space_to_depth
    Sub-pixel rearrangements between channels and space (torch, ONNX).
interpolate, resize
    N-d interpolation: torch's ``interpolate`` (nearest, nearest-exact,
    linear modes, bicubic, area, antialias) and ONNX ``Resize`` (opset 19),
    on one separable engine.
resize_conv
    Interpolation followed by a convolution, the checkerboard-free
    alternative to the transposed convolution.

Learning
--------
grad
    Vector-Jacobian products of every operator (``conv_grad_input`` *is*
    ``conv_transpose``, ``conv_transpose_grad_input`` *is* ``conv``; weight,
    bias, pooling, shuffle, interpolation and resize-conv gradients).
nn
    Layers with forward/backward (Conv, ConvTranspose, ResizeConv,
    SubPixelConv, activations, Sequential), MSE/L1 losses, SGD and Adam with
    torch's formulas, initialisers (torch default, FCN bilinear, ICNR,
    resize-equivalent), ``.npz`` and PyTorch ``state_dict`` loading.
experiment
    ``checkerboard_experiment``: one x4 decoder trained with six up-sampling
    methods, PSNR / DC-gain spread / stride-frequency energy before and
    after training (also ``upconv experiment checkerboard``).

Restoring
---------
deconvolve
    True deconvolution, the inverse of ``conv`` (least squares on a
    matrix-free operator, Wiener, Richardson-Lucy), next to the transpose
    ``Cᵀy`` that only restores the shape; ``blur_kernel`` builds Gaussian,
    box and motion kernels.
metrics
    ``psnr`` and ``ssim`` (scikit-image's conventions, N-d).

Explaining
----------
im2col, col2im
    Windows as columns (torch ``unfold``/``fold``, ONNX ``Col2Im``), N-d;
    ``conv`` is a weight matrix times ``im2col``.
conv_matrix
    The sparse matrix C of a convolution (its transpose is the transposed
    convolution).
shapes
    Every size and padding formula, on plain integers.
symbolic
    Symbolic derivation with sympy (optional): the convolution output in
    x_ij and w_ij, C as the Jacobian d vec(Y) / d vec(X), the transposed
    convolution as C^T y, the flipped-kernel identity, LaTeX.

Planning and checkerboards
--------------------------
plan, plan_inverse
    Every transposed convolution (or stack) within bounds that maps one
    size to another, rated for checkerboard artifacts, with ONNX auto_pad
    equivalents; the transposed convolution that undoes a convolution's size.
checkerboard
    Overlap maps and ratios of layers and stacks (``overlap_map``,
    ``overlap_ratio``), polyphase DC-gain spread of weights
    (``dc_gain_spread``), ``resize_equivalent_kernel``,
    ``stride_frequency_energy`` of any output, ``input_gradient_pattern``.
figures
    matplotlib figures (optional, imported when called): ``plot_conv_matrix``
    (C and Cᵀ as heatmaps), ``plot_overlap``, ``plot_dc_gain``,
    ``plot_spectrum``, and ``animate_conv_transpose`` (a GIF of kernel
    stamping or zero insertion, step by step).

Images
------
read_image, write_image
    Image files (PNG, JPEG, ...; gray, RGB, alpha; 8 and 16 bits) as float
    arrays in [0, 1], ``(H, W)`` or channel-first ``(C, H, W)``.
data
    Built-in test images: zone plate, Siemens star, text chart, photograph.
compare_upsamplers
    Down-sample an image, up-sample it back with every method (interpolation,
    unpooling, max-unpooling, transposed and resize convolution), score each
    with PSNR / SSIM and time it (``upconv.compare``, ``upconv compare``).

Linting models
--------------
lint
    Every up-sampling layer of an ONNX file, a torch module or a state dict:
    geometry (overlap, unreached outputs, borders, stacks), weights (DC-gain
    spread), semantic traps, an artifact-free suggestion, and ``replay``
    against onnxruntime (also ``upconv lint``; the ``[onnx]`` extra).

Configuration
-------------
get_memory_limit, set_memory_limit
    The largest allocation upconv may make.
get_num_threads, set_num_threads
    Threads of the compiled kernels (BLAS keeps its own setting).
release_memory
    Free the scratch buffers the operators keep between calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from upconv import _lazy
from upconv._config import get_memory_limit, get_num_threads, set_memory_limit, set_num_threads

# Every other public name is imported on first use (PEP 562), so that `import upconv` costs little more than
# NumPy: the room each name lives in, and the name there (None: the module itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    **{name: ("upconv.ops", name) for name in (
        "conv", "conv_transpose", "conv_matrix", "im2col", "col2im", "interpolate", "resize", "resize_conv",
        "max_pool", "max_unpool", "unpool", "pixel_shuffle", "pixel_unshuffle", "depth_to_space", "space_to_depth")},
    **{name: ("upconv.explain", name) for name in (
        "checkerboard", "symbolic", "plan", "plan_inverse", "overlap_map", "overlap_ratio", "dc_gain_spread",
        "resize_equivalent_kernel", "stride_frequency_energy", "input_gradient_pattern")},
    **{name: ("upconv.restore", name) for name in ("deconvolve", "blur_kernel", "metrics")},
    **{name: ("upconv.images", name) for name in ("read_image", "write_image")},
    "data": ("upconv.images.samples", None),
    **{name: ("upconv.studies", name) for name in ("compare", "compare_upsamplers")},
    **{name: (f"upconv.{name}", None) for name in ("shapes", "ops", "grad", "explain", "restore", "images", "nn",
                                                   "figures")},
    "lint": ("upconv.linter", "lint"),
    "release_memory": ("upconv.kernels.workspace", "release_memory"),
}


__getattr__, __dir__ = _lazy.attach(__name__, _LAZY)


if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from upconv import explain, figures, grad, images, nn, ops, restore, shapes
    from upconv.explain import (
        checkerboard,
        dc_gain_spread,
        input_gradient_pattern,
        overlap_map,
        overlap_ratio,
        plan,
        plan_inverse,
        resize_equivalent_kernel,
        stride_frequency_energy,
        symbolic,
    )
    from upconv.images import read_image, write_image
    from upconv.images import samples as data
    from upconv.kernels.workspace import release_memory
    from upconv.linter import lint
    from upconv.ops import (
        col2im,
        conv,
        conv_matrix,
        conv_transpose,
        depth_to_space,
        im2col,
        interpolate,
        max_pool,
        max_unpool,
        pixel_shuffle,
        pixel_unshuffle,
        resize,
        resize_conv,
        space_to_depth,
        unpool,
    )
    from upconv.restore import blur_kernel, deconvolve, metrics
    from upconv.studies import compare, compare_upsamplers

__version__ = "0.1.0"

__all__ = [
    "conv",
    "conv_transpose",
    "conv_matrix",
    "deconvolve",
    "blur_kernel",
    "metrics",
    "im2col",
    "col2im",
    "interpolate",
    "resize",
    "resize_conv",
    "ops",
    "grad",
    "explain",
    "restore",
    "images",
    "nn",
    "max_pool",
    "max_unpool",
    "unpool",
    "pixel_shuffle",
    "pixel_unshuffle",
    "depth_to_space",
    "space_to_depth",
    "shapes",
    "symbolic",
    "plan",
    "plan_inverse",
    "checkerboard",
    "overlap_map",
    "overlap_ratio",
    "dc_gain_spread",
    "resize_equivalent_kernel",
    "stride_frequency_energy",
    "input_gradient_pattern",
    "figures",
    "read_image",
    "write_image",
    "data",
    "compare",
    "compare_upsamplers",
    "lint",
    "get_memory_limit",
    "set_memory_limit",
    "get_num_threads",
    "set_num_threads",
    "release_memory",
]
