"""Checkerboard analysis of transposed convolutions (Odena, Dumoulin & Olah, Distill 2016).

A stride-``s`` transposed convolution stamps a copy of its kernel at every
``s``-th output position.  When the stamps overlap unevenly (the kernel size
is not a multiple of the stride) some output pixels receive more stamps than
their neighbours, with period ``s``: the checkerboard.  Three kinds of
evidence measure it, each in its own module, gathered here:

geometry (:mod:`upconv.explain.overlap`, :mod:`upconv.explain.gradient_artifacts`)
    ``overlap_map`` / ``overlap_ratio``: how many input pixels' stamps cover
    each output pixel, for one layer or a stack of layers (stride-1 layers
    included), computed by running :func:`upconv.conv_transpose` on ones;
    the ratio of the most to the least covered interior pixel (1.0 = even
    coverage).  ``input_gradient_pattern``: the same overlap seen
    backwards, the input gradient of a strided convolution (Distill's
    "gradient artifacts").
weights (:mod:`upconv.explain.dc_gain`)
    ``dc_gain_spread``: for actual weights, the response to a constant
    input, per output phase (residue class modulo the stride) and channel
    pair.  Zero spread iff a flat input gives a flat output.
    ``resize_equivalent_kernel`` (:mod:`upconv.ops.resize_convolution`):
    the transposed-convolution kernel equal to nearest upsampling followed
    by a convolution (zero spread by construction).
outputs (:mod:`upconv.explain.spectral`)
    ``stride_frequency_energy``: the fraction of an output's spectral energy
    at the stride frequencies ``j/s``, the checkerboard seen in any array.

Coordinates: counts and phases are given in *un-cropped* coordinates, where
position ``j*s + t*d`` is tap ``t`` of input pixel ``j``; padding only
crops, i.e. rotates the period tile.

References
----------
A. Odena, V. Dumoulin, C. Olah, "Deconvolution and Checkerboard Artifacts",
Distill, 2016.  https://distill.pub/2016/deconv-checkerboard/
"""

from __future__ import annotations

from upconv.explain.dc_gain import DCGainSpread, dc_gain_spread
from upconv.explain.gradient_artifacts import GradientPattern, input_gradient_pattern
from upconv.explain.overlap import Layer, OverlapMap, overlap_map, overlap_ratio
from upconv.explain.spectral import stride_frequency_energy
from upconv.ops.resize_convolution import resize_equivalent_kernel

__all__ = [
    "Layer",
    "OverlapMap",
    "DCGainSpread",
    "GradientPattern",
    "overlap_map",
    "overlap_ratio",
    "dc_gain_spread",
    "resize_equivalent_kernel",
    "stride_frequency_energy",
    "input_gradient_pattern",
]
