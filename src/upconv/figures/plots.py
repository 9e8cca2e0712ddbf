"""Static figures: the convolution matrix (of any convolution, or of a MatrixView) and overlap maps."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.explain.checkerboard import (
    OverlapMap,
    overlap_map,
)
from upconv.explain.overlap import Layer, layer_stack
from upconv.explain.symbols import symbol_names
from upconv.explain.views import MatrixView, pixel_label
from upconv.figures.style import (
    BLANK_CELL,
    MAX_MATRIX_ENTRIES,
    ORANGE,
    as2d,
    cell_grid,
    check_path,
    dims,
    figure,
    fmt,
    font,
    matplotlib_style,
    place,
    save,
    text_colour,
)
from upconv.ops.matrix import conv_matrix

if TYPE_CHECKING:
    import numpy.typing as npt
    from matplotlib.figure import Figure

# --------------------------------------------------------------------------
# convolution matrix


def plot_conv_matrix(
    input_shape: Sequence[int],
    weight: npt.ArrayLike,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    *,
    show: str = "both",
    annotate: str = "tap",
    path: str | os.PathLike | None = None,
) -> Figure:
    r"""Draw the convolution matrix ``C`` and its transpose ``Cᵀ`` as annotated heatmaps.

    Parameters
    ----------
    input_shape, weight, stride, padding, dilation, groups
        As :func:`upconv.conv_matrix`: the convolution ``x -> C x``; ``Cᵀ``
        is the transposed convolution with the same parameters.
    show : {"both", "C", "CT"}, optional
        Which matrices to draw (side by side).
    annotate : {"tap", "value", "none"}, optional
        Label every stored entry with its kernel tap, named like
        :mod:`upconv.symbolic` (``w11``, ``w12``, ...; 1-based), with its
        value, or not at all.  Entries ``C`` does not store stay blank.
    path : str or os.PathLike, optional
        Save the figure there (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    matplotlib.figure.Figure
        One heatmap axes per matrix, cells coloured by value (blue negative,
        red positive, white where ``C`` stores no entry); row ``r``, column
        ``c`` of the matrix is data point ``(c, r)`` of its axes.

    Raises
    ------
    TypeError, ValueError
        As :func:`upconv.conv_matrix`, for an invalid ``show``,
        ``annotate`` or ``path``, or a matrix of more than
        :data:`MAX_MATRIX_ENTRIES` entries.

    Notes
    -----
    Row ``c_o * prod(out) + flat(o)``, column ``c_i * prod(in) + flat(i)``
    of ``C`` holds ``w[c_o, c_i, t]`` where tap ``t`` of output ``o`` reads
    input ``i = o*s + t*d - p_begin``; annotations stop when the cells get
    too small to read.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.figures import plot_conv_matrix
    >>> fig = plot_conv_matrix((4, 4), np.ones((1, 1, 3, 3)))
    >>> [ax.get_title() for ax in fig.axes]
    ['C: 4 × 16 (conv 4×4 → 2×2)', 'Cᵀ: 16 × 4 (transposed conv 2×2 → 4×4)']
    """
    func = "plot_conv_matrix"
    show = v.choice(show, ("both", "C", "CT"), func, "show")
    annotate = v.choice(annotate, ("tap", "value", "none"), func, "annotate")
    path = check_path(path, func)
    C = conv_matrix(input_shape, weight, stride, padding, dilation, groups)  # validates everything
    _, arrays = v.float_arrays(func, weight=weight)
    w = cast("list[np.ndarray]", arrays)[0]  # not None: conv_matrix validated the weight
    n = w.ndim - 2
    check_matrix_size(C.shape, func)
    taps = conv_matrix(input_shape, np.arange(1.0, w.size + 1.0).reshape(w.shape), stride, padding, dilation, groups)
    in_size = tuple(input_shape)[-n:]
    out_size = shapes.conv_output_size(in_size, w.shape[2:], stride, padding, dilation)
    c_in = C.shape[1] // math.prod(in_size)
    c_out = C.shape[0] // math.prod(out_size)
    fig = _matrix_figure(
        C.toarray(), np.rint(taps.toarray()).astype(np.int64), symbol_names("w", w.shape, 2).ravel(),
        in_size, out_size, c_in, c_out, show, annotate,
    )
    save(fig, path)
    return fig


def check_matrix_size(shape: tuple[int, int], func: str) -> None:
    """Refuse (ValueError naming ``func``) a matrix of more than :data:`MAX_MATRIX_ENTRIES` entries to draw."""
    if shape[0] * shape[1] > MAX_MATRIX_ENTRIES:
        raise ValueError(
            f"{func}: the matrix has shape {shape}, more than {MAX_MATRIX_ENTRIES} entries to draw; "
            "use a smaller input"
        )


def matrix_view_figure(view: MatrixView, show: str = "both", annotate: str = "tap") -> Figure:
    """``C`` and ``Cᵀ`` of a :class:`~upconv.explain.views.MatrixView` as annotated heatmaps (checked by the caller).

    As :func:`plot_conv_matrix` of the convolution going the other way (its
    rows restricted to the input's pixels), the taps named as
    :attr:`~upconv.explain.views.MatrixView.tap_names`; call
    :func:`check_matrix_size` first.
    """
    names = np.array(view.tap_names, dtype=object)
    return _matrix_figure(view.dense(), view.dense_taps(), names, view.conv_in_size, view.config.in_size, 1, 1, show,
                          annotate)


def _pixel_labels(size: tuple[int, ...], channels: int) -> list[str]:
    labels = [pixel_label(i) for i in np.ndindex(*size)]
    return labels if channels == 1 else [f"c{c}:{lab}" for c in range(channels) for lab in labels]


def _matrix_figure(
    C: np.ndarray, taps: np.ndarray, names: np.ndarray, in_size: tuple[int, ...], out_size: tuple[int, ...],
    c_in: int, c_out: int, show: str, annotate: str,
) -> Figure:
    """Figure of the dense ``C`` (``taps``: 1-based flat tap index, 0 = no entry) and/or its transpose."""
    M, N = C.shape
    mats = []
    conv_text = f"conv {dims(in_size)} → {dims(out_size)}"
    back_text = f"transposed conv {dims(out_size)} → {dims(in_size)}"
    rows_c, cols_c = _pixel_labels(out_size, c_out), _pixel_labels(in_size, c_in)
    if show in ("both", "C"):
        mats.append((C, taps, f"C: {M} × {N} ({conv_text})", rows_c, cols_c, "input pixel", "output pixel"))
    if show in ("both", "CT"):
        mats.append((C.T, taps.T, f"Cᵀ: {N} × {M} ({back_text})", cols_c, rows_c, "input pixel", "output pixel"))
    widths = [m[0].shape[1] for m in mats]
    height_cells = max(m[0].shape[0] for m in mats)
    label_in = 0.75 if max(len(t) for t in rows_c + cols_c) > 4 else 0.55
    cell = min(0.36, (10.5 - len(mats) * (label_in + 0.35)) / sum(widths), 7.5 / height_cells)
    cell = max(cell, 0.012)
    gap, top, bottom = 0.35, 0.45, 0.75
    # each matrix gets a slot wide enough for its title; the axes sit centred in it
    slots = [max(w_ * cell + label_in, 3.6) for w_ in widths]
    width = sum(slots) + gap * (len(mats) - 1) + 0.3
    height = height_cells * cell + top + bottom
    with matplotlib_style() as mpl:
        fig = figure(width, height)
        slot_left = 0.15
        vmax = float(np.abs(C).max()) or 1.0
        cmap = mpl.colormaps["RdBu_r"]
        cell_pt = cell * 72
        for mat, tap, title, row_labels, col_labels, xlabel, ylabel in mats:
            h, w_ = mat.shape
            slot = slots.pop(0)
            left = slot_left + (slot - w_ * cell - label_in) / 2 + label_in
            slot_left += slot + gap
            ax = place(fig, left, bottom + (height_cells - h) * cell, w_ * cell, h * cell)
            rgb = cmap(0.5 + 0.42 * mat / vmax)[..., :3]
            rgb[tap == 0] = BLANK_CELL
            ax.imshow(rgb, interpolation="nearest", aspect="equal")
            cell_grid(ax, (h, w_), "0.85" if cell_pt >= 4 else "none")
            ax.set_title(title)
            if cell_pt >= 5.5:  # label every row and column
                fs = min(7.0, 0.8 * cell_pt)
                ax.set_yticks(range(h), row_labels, fontsize=fs)
                ax.set_xticks(range(w_), col_labels, fontsize=fs, rotation=90)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            if annotate == "none":
                continue
            for r, c in zip(*np.nonzero(tap), strict=True):
                text = str(names[tap[r, c] - 1]) if annotate == "tap" else fmt(mat[r, c])
                fs = font(text, cell_pt)
                if fs >= 4.0:
                    ax.text(c, r, text, ha="center", va="center", fontsize=fs, color=text_colour(rgb[r, c]))
    return fig


# --------------------------------------------------------------------------
# overlap maps


def plot_overlap(
    kernel_size: int | Sequence[int] | None = None,
    stride: int | Sequence[int] | None = None,
    *,
    dilation: int | Sequence[int] = 1,
    layers: Sequence[Sequence[Any]] | None = None,
    ndim: int | None = None,
    in_size: int | Sequence[int] | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Draw the overlap map of a transposed convolution or a stack, one panel per layer.

    Parameters
    ----------
    kernel_size, stride, dilation, layers, ndim, in_size
        As :func:`upconv.overlap_map` (1 or 2 spatial axes).  For a stack,
        panel ``j`` shows the map after the first ``j`` layers, all from the
        same all-ones input.
    path : str or os.PathLike, optional
        Save the figure there (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    matplotlib.figure.Figure
        1-d: one bar chart per panel (bars coloured by count, the
        border-free interior shaded); 2-d: one heatmap per panel (interior
        outlined).  Panel titles give the layers and the overlap ratio.

    Raises
    ------
    TypeError, ValueError
        As :func:`upconv.overlap_map`, for more than 2 spatial axes, or an
        invalid ``path``.

    Examples
    --------
    >>> from upconv.figures import plot_overlap
    >>> fig = plot_overlap(layers=[(3, 2), (3, 1)])
    >>> [ax.get_title() for ax in fig.axes]
    ['after layer 1 (k3 s2): ratio 2, tile [2 1]', 'after layer 2 (k3 s1): ratio 1.25, tile [5 4]']
    """
    func = "plot_overlap"
    path = check_path(path, func)
    stack = layer_stack(func, kernel_size, stride, dilation, layers, ndim)
    n = len(stack[0].kernel_size)
    if n > 2:
        raise ValueError(f"{func}: only 1-d and 2-d overlap maps can be drawn, got {n} spatial axes")
    final = overlap_map(layers=list(stack), in_size=in_size)
    maps: list[OverlapMap] = []
    for j in range(1, len(stack)):
        try:  # the same input as the whole stack, when its interior holds a period of the prefix
            maps.append(overlap_map(layers=list(stack[:j]), in_size=final.in_size))
        except ValueError:
            maps.append(overlap_map(layers=list(stack[:j])))
    maps.append(final)
    fig = _overlap_figure(maps, stack)
    save(fig, path)
    return fig


def _tile_text(tile: np.ndarray) -> str:
    """``[2 1]`` (1-d) or ``[4 2; 2 1]`` (2-d), or only the shape when long."""
    rows = [" ".join(map(str, row)) for row in as2d(tile)]
    text = "[" + "; ".join(rows) + "]"
    return text if len(text) <= 40 else dims(tile.shape)


def _overlap_title(j: int, stack: Sequence[Layer], m: OverlapMap) -> str:
    which = f"after layer {j + 1} ({stack[j]})" if len(stack) > 1 else str(stack[0])
    return f"{which}: ratio {fmt(m.ratio) if math.isfinite(m.ratio) else 'inf'}, tile {_tile_text(m.tile)}"


def _overlap_figure(maps: list[OverlapMap], stack: Sequence[Layer]) -> Figure:
    n = maps[-1].ndim
    with matplotlib_style() as mpl:
        cmap = mpl.colormaps["viridis"]
        if n == 1:
            longest = max(m.counts.size for m in maps)
            width = min(12.0, max(5.0, 0.2 * longest + 1.4))
            panel = 1.7
            fig = figure(width, len(maps) * (panel + 0.65) + 0.15)
            for j, m in enumerate(maps):
                bottom = (len(maps) - 1 - j) * (panel + 0.65) + 0.5
                ax = place(fig, 0.6, bottom, width - 0.85, panel)
                counts = m.counts
                lo, hi = counts.min(), counts.max()
                colours = cmap(0.15 + 0.7 * (counts - lo) / max(hi - lo, 1))
                b, e = m.interior[0]
                inside = np.zeros(counts.size, dtype=bool)
                inside[b:e] = True
                colours[~inside, :3] = 0.78
                ax.axvspan(b - 0.5, e - 0.5, color=(1.0, 0.97, 0.85), zorder=0)
                ax.bar(np.arange(counts.size), counts, width=0.82, color=colours, zorder=2)
                ax.set_xlim(-0.7, longest - 0.3)
                ax.set_ylim(0, hi * 1.22 + 0.1)
                if counts.size <= 64:
                    for i, c in enumerate(counts):
                        ax.text(i, c, str(int(c)), ha="center", va="bottom", fontsize=7 if counts.size <= 40 else 5)
                ax.set_title(_overlap_title(j, stack, m))
                ax.set_ylabel("stamps")
                if j == len(maps) - 1:
                    ax.set_xlabel("output position (un-cropped; shaded: border-free interior)")
        else:
            shapes2 = [m.counts.shape for m in maps]
            tallest = max(h for h, _ in shapes2)
            cell = min(0.32, 10.0 / sum(w for _, w in shapes2), 6.0 / tallest)
            cell = max(cell, 0.02)
            gap = 0.55
            width = max(4.5, sum(w for _, w in shapes2) * cell + gap * (len(maps) - 1) + 0.6)
            height = tallest * cell + 1.15
            fig = figure(width, height)
            left = (width - sum(w for _, w in shapes2) * cell - gap * (len(maps) - 1)) / 2
            cell_pt = cell * 72
            for j, m in enumerate(maps):
                h, w_ = m.counts.shape
                ax = place(fig, left, 0.5 + (tallest - h) * cell, w_ * cell, h * cell)
                left += w_ * cell + gap
                counts = m.counts
                lo, hi = counts.min(), counts.max()
                rgb = cmap(0.15 + 0.7 * (counts - lo) / max(hi - lo, 1))[..., :3]
                ax.imshow(rgb, interpolation="nearest", aspect="equal")
                cell_grid(ax, (h, w_), "white" if cell_pt >= 4 else "none")
                (b0, e0), (b1, e1) = m.interior
                from matplotlib.patches import Rectangle

                ax.add_patch(Rectangle((b1 - 0.5, b0 - 0.5), e1 - b1, e0 - b0, fill=False, ec=ORANGE,
                                       lw=2.0, ls="--"))
                for (r, c), count in np.ndenumerate(counts):
                    fs = font(str(count), cell_pt)
                    if fs >= 4.0:
                        ax.text(c, r, str(count), ha="center", va="center", fontsize=fs, color=text_colour(rgb[r, c]))
                ax.set_title(_overlap_title(j, stack, m), fontsize=8)
            fig.text(0.5, 0.2 / height, "stamps per output pixel (un-cropped); dashed: border-free interior",
                     ha="center", fontsize=7.5)
    return fig
