"""Explaining and planning: why a transposed convolution computes what it computes.

=========================  ===================================================
``checkerboard``           the checkerboard analysis, gathered from:
``overlap``                overlap maps and ratios of layers and stacks
``gradient_artifacts``     input-gradient patterns of strided convolutions
``dc_gain``                polyphase DC-gain spread of weights
``spectral``               stride-frequency energy of any array
``planner``                plan: the transposed convolutions between two sizes
``inverse``                plan_inverse: the one that undoes a convolution's size
``symbolic``               sympy derivations (optional: the ``[symbolic]`` extra),
                           gathered from:
``symbols``                symbols, the symbolic convolution and its Jacobian,
                           LaTeX and pretty printing
``flip_identity``          seed 002: ``C^T`` as the flipped kernel's matrix
``report``                 plain-text tables and grids (shared with the CLI)
=========================  ===================================================
"""

from upconv.explain import checkerboard, symbolic
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
    "overlap_map",
    "overlap_ratio",
    "dc_gain_spread",
    "resize_equivalent_kernel",
    "stride_frequency_energy",
    "input_gradient_pattern",
    "plan",
    "plan_inverse",
]
