"""Explaining and planning: why a transposed convolution computes what it computes.

=========================  ===================================================
``views``                  one transposed convolution as stamps, zero
                           insertion, matrix, phases and gradient: data for
                           ``upconv explain``, the figures and a browser
``describe``               around the views: the size formula filled in, the
                           configuration as torch / upconv / CLI calls, the
                           views' agreement
``story``                  the checkerboard story of one configuration:
                           overlap maps (layer and stack), DC gain, resize-
                           convolution beside it
=========================  ===================================================
"""

from upconv.explain import checkerboard, symbolic, views
from upconv.explain.checkerboard import (
    dc_gain_spread,
    input_gradient_pattern,
    overlap_map,
    overlap_ratio,
    resize_equivalent_kernel,
    stride_frequency_energy,
)
from upconv.explain.inverse import plan_inverse
from upconv.explain.planner import plan

__all__ = [
    "checkerboard",
    "symbolic",
    "views",
    "overlap_map",
    "overlap_ratio",
    "dc_gain_spread",
    "resize_equivalent_kernel",
    "stride_frequency_energy",
    "input_gradient_pattern",
    "plan",
    "plan_inverse",
]
