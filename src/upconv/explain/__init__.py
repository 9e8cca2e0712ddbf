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

from __future__ import annotations

from typing import TYPE_CHECKING

from upconv import _lazy

#: name -> (module, attribute or None for the module itself), imported on first access (PEP 562): a
#: submodule (``upconv.explain.report`` for the CLI's grids) loads without the others
_LAZY: dict[str, tuple[str, str | None]] = {
    "checkerboard": ("upconv.explain.checkerboard", None),
    "symbolic": ("upconv.explain.symbolic", None),
    "views": ("upconv.explain.views", None),
    **{name: ("upconv.explain.checkerboard", name) for name in (
        "dc_gain_spread", "input_gradient_pattern", "overlap_map", "overlap_ratio", "resize_equivalent_kernel",
        "stride_frequency_energy")},
    "plan_inverse": ("upconv.explain.inverse", "plan_inverse"),
    "plan": ("upconv.explain.planner", "plan"),
}

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


__getattr__, __dir__ = _lazy.attach(__name__, _LAZY)


if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
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
