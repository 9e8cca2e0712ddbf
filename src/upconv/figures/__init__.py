"""Figures and animations of transposed convolutions (matplotlib, imported lazily).

Every function builds a :class:`matplotlib.figure.Figure` without pyplot (no
backend is chosen, nothing is shown), returns it, and saves it to ``path``
when one is given.  Output is deterministic: fixed sizes and resolution, the
default style plus a few fixed settings, and no timestamps or software
versions in the files, so the same call writes the same bytes.

``plot_conv_matrix``
    ``C`` and ``Cᵀ`` (:func:`upconv.conv_matrix`) as annotated heatmaps.
``plot_overlap``
    Overlap maps (:func:`upconv.overlap_map`): 1-d bars, 2-d heatmaps, one
    panel per layer of a stack.
``plot_dc_gain``
    The polyphase DC gains of weights (:func:`upconv.dc_gain_spread`).
``plot_spectrum``
    An array and its spectrum with the stride frequencies ``j/s`` marked
    (:func:`upconv.stride_frequency_energy`).
``animate_conv_transpose``
    A GIF of a transposed convolution, step by step, as kernel stamping or
    as zero insertion followed by a sliding flipped kernel.

matplotlib is an optional dependency (``pip install upconv[image]``); the
animation also needs Pillow.  ``import upconv`` imports neither.
"""

from __future__ import annotations

from upconv.figures.animation import ConvTransposeAnimation, animate_conv_transpose
from upconv.figures.plots import plot_conv_matrix, plot_overlap
from upconv.figures.spectra import plot_dc_gain, plot_spectrum
from upconv.figures.style import DPI, MAX_CELLS, MAX_FRAMES, MAX_MATRIX_ENTRIES

__all__ = [
    "DPI",
    "MAX_CELLS",
    "MAX_FRAMES",
    "MAX_MATRIX_ENTRIES",
    "ConvTransposeAnimation",
    "plot_conv_matrix",
    "plot_overlap",
    "plot_dc_gain",
    "plot_spectrum",
    "animate_conv_transpose",
]
