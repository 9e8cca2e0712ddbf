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

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'upconv.explain' has no attribute {name!r}") from None
    value = importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
