"""All size and padding arithmetic of upconv, on plain integers.

Every operator asks this module for its output size; nothing else computes
one.  The functions take per-axis sizes (tuples, one entry per spatial axis),
validate them with torch's rules and return tuples, so they can be used to
plan a network without allocating anything.

Notation (Dumoulin & Visin, "A guide to convolution arithmetic", arXiv:1603.07285):
per axis, input size ``i``, kernel ``k``, stride ``s``, padding ``p`` (or a
``(begin, end)`` pair), dilation ``d``, output padding ``a``; the effective
kernel is ``ek = d*(k-1) + 1``.

==============================  ==============================================
conv output                      ``o = (i + p_begin + p_end - ek) // s + 1``
conv_transpose output            ``o = (i-1)*s + ek - p_begin - p_end + a``
``output_size`` range            ``[(i-1)*s + ek - 2p, (i-1)*s + ek - 2p + s - 1]``
==============================================================================

The central object is :class:`ConvGeometry`: the geometry of one
convolution, ``in_size -> out_size``.  A transposed convolution is described
by the geometry of the convolution it is the adjoint of (its gradient), run
backwards ``out_size -> in_size``; its ``output_padding`` becomes a smaller
(possibly negative) end padding of that convolution.


The arithmetic lives in five modules, re-exported here:

=================  ===========================================================
``convolution``    :class:`ConvGeometry`, conv sizes, ``same`` padding, FFT sizes
``transposed``     transposed-conv sizes and padding, ONNX ``auto_pad``, the
                   polyphase classes, tap index maps, zero insertion, borders
``stamps``         which outputs a transposed conv's taps reach, how often; borders
``resize``         interpolate and ONNX Resize sizes
``pooling``        pooling and unpooling sizes
``chunks``         chunked computation: the output chunks of an operator for
                   given input chunks, and the input range each one reads
=================  ===========================================================
"""

from __future__ import annotations

from upconv.shapes.chunks import (
    Chunk,
    chunk_bounds,
    conv_chunks,
    conv_transpose_chunks,
    gather_chunks,
    max_unpool_geometry,
)
from upconv.shapes.convolution import (
    ConvGeometry,
    ceil_div,
    conv_geometry,
    conv_output_size,
    effective_kernel_size,
    fft_conv_size,
    same_padding,
)
from upconv.shapes.pooling import (
    max_unpool_output_size,
    pool_geometry,
    pool_output_size,
    unpool_output_size,
)
from upconv.shapes.resize import (
    ResizeGeometry,
    interpolate_output_size,
    resize_geometry,
    resize_output_size,
)
from upconv.shapes.stamps import (
    TapCoverage,
    border_deficits,
    interior_counts,
    stamp_counts,
    tap_coverage,
    unreached_positions,
)
from upconv.shapes.transposed import (
    PhaseClass,
    conv_transpose_geometry,
    conv_transpose_interior,
    conv_transpose_output_padding,
    conv_transpose_output_size,
    conv_transpose_output_size_range,
    onnx_conv_transpose_padding,
    phase_decomposition,
    resize_conv_transpose_padding,
    stamping_canvas,
    tap_reach,
    zero_insertion_canvas,
    zero_insertion_geometry,
    zero_insertion_padding,
)

__all__ = [
    "stamp_counts",
    "interior_counts",
    "unreached_positions",
    "border_deficits",
    "TapCoverage",
    "tap_coverage",
    "ceil_div",
    "ConvGeometry",
    "PhaseClass",
    "phase_decomposition",
    "tap_reach",
    "zero_insertion_padding",
    "zero_insertion_geometry",
    "stamping_canvas",
    "zero_insertion_canvas",
    "conv_geometry",
    "conv_transpose_geometry",
    "conv_output_size",
    "conv_transpose_output_size",
    "conv_transpose_output_size_range",
    "conv_transpose_output_padding",
    "same_padding",
    "onnx_conv_transpose_padding",
    "effective_kernel_size",
    "interpolate_output_size",
    "ResizeGeometry",
    "resize_geometry",
    "resize_output_size",
    "pool_geometry",
    "pool_output_size",
    "max_unpool_output_size",
    "unpool_output_size",
    "conv_transpose_interior",
    "resize_conv_transpose_padding",
    "fft_conv_size",
    "Chunk",
    "chunk_bounds",
    "conv_chunks",
    "conv_transpose_chunks",
    "gather_chunks",
    "max_unpool_geometry",
]
