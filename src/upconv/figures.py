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

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _validate as v
from . import shapes
from .checkerboard import OverlapMap, _layers, dc_gain_spread, overlap_map, stride_frequency_energy
from .conv import conv, conv_transpose
from .matrix import conv_matrix
from .symbolic import _names

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

#: Resolution of every figure (dots per inch); the figure's display coordinates are PNG pixels.
DPI = 100
#: Resolution of the animation frames.
ANIMATION_DPI = 100
#: Largest dense matrix (rows * columns) that :func:`plot_conv_matrix` draws.
MAX_MATRIX_ENTRIES = 250_000
#: Largest grid (cells per axis) an animation draws.
MAX_CELLS = 40
#: Largest number of frames of an animation.
MAX_FRAMES = 400

_FORMATS = ("png", "svg", "pdf")
#: Metadata that would differ between runs or versions, removed from the files.
_METADATA = {
    "png": {"Software": None},
    "svg": {"Creator": None, "Date": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
}
_RC = {
    "font.size": 8.0,
    "axes.titlesize": 8.5,
    "figure.titlesize": 10.0,
    "svg.hashsalt": "upconv",
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
    "savefig.bbox": None,
}

# cell colours of the animations and figures
_ORANGE = (1.0, 0.6, 0.1)
_GREY = (0.55, 0.55, 0.55)
_INPUT = (1.0, 0.88, 0.54)
_INSERTED = (0.78, 0.78, 0.78)
_PADDING = (0.93, 0.93, 0.93)
_CROPPED = (0.55, 0.55, 0.55)
_KERNEL = (0.87, 0.91, 0.97)
_BLANK = (1.0, 1.0, 1.0)


# --------------------------------------------------------------------------
# shared machinery


@contextlib.contextmanager
def _style() -> Iterator[Any]:
    """matplotlib with the default style and :data:`_RC`, whatever the user's matplotlibrc says."""
    try:
        import matplotlib
        import matplotlib.style
    except ImportError as exc:  # pragma: no cover - matplotlib is installed in the test environment
        raise ImportError(
            "upconv.figures needs matplotlib: pip install 'upconv[image]' (or pip install matplotlib)"
        ) from exc
    with matplotlib.style.context(["default", _RC]):
        yield matplotlib


def _figure(width: float, height: float, dpi: float = DPI):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
    return fig


def _check_path(path: Any, func: str, formats: Sequence[str] = _FORMATS) -> str | None:
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{func}: path must be a str or os.PathLike, got {path!r}")
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in formats:
        listed = ", ".join("." + f for f in formats)
        raise ValueError(f"{func}: path must end in {listed}, got {path!r}")
    return path


def _save(fig: Any, path: str | None) -> None:
    """Save ``fig`` at its own resolution without any run-dependent metadata."""
    if path is None:
        return
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    with _style():  # the settings read at save time (svg.hashsalt: the same ids on every run)
        fig.savefig(path, dpi=fig.dpi, metadata=_METADATA[ext], facecolor="white")


def _place(fig: Any, left: float, bottom: float, width: float, height: float):
    """Axes at a rectangle given in inches from the figure's lower left corner."""
    W, H = fig.get_size_inches()
    return fig.add_axes((left / W, bottom / H, width / W, height / H))


def _fmt(x: float) -> str:
    x = float(x)
    if math.isfinite(x) and x == round(x) and abs(x) < 1e15:
        return str(int(round(x)))
    return f"{x:.3g}"


def _dims(shape: Sequence[int]) -> str:
    return "×".join(str(s) for s in shape)


def _ink(rgb: Sequence[float]) -> str:
    """Black or white text, whichever reads better on ``rgb``."""
    r, g, b = rgb[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def _font(text: str, cell_pt: float, base: float = 9.0) -> float:
    """Font size (points) for ``text`` in a square cell ``cell_pt`` points wide."""
    return min(base, 0.42 * cell_pt, 1.55 * cell_pt / max(len(text), 2))


def _blend(rgb: np.ndarray, colour: Sequence[float], amount: float, where: np.ndarray) -> np.ndarray:
    out = rgb.copy()
    out[where] = (1 - amount) * out[where] + amount * np.asarray(colour, dtype=float)
    return out


def _cell_grid(ax: Any, shape: tuple[int, int], colour: str = "0.7") -> None:
    """Hide ticks and draw thin lines between the cells of a ``shape`` grid."""
    h, w = shape
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.hlines(np.arange(h + 1) - 0.5, -0.5, w - 0.5, colors=colour, linewidths=0.5)
    ax.vlines(np.arange(w + 1) - 0.5, -0.5, h - 0.5, colors=colour, linewidths=0.5)


def _as2d(a: np.ndarray) -> np.ndarray:
    """A 1-d array as one row; a 2-d array unchanged."""
    return a.reshape((1,) * (2 - a.ndim) + a.shape)


def _index_label(idx: tuple[int, ...]) -> str:
    return ",".join(map(str, idx))


# --------------------------------------------------------------------------
# convolution matrix


def plot_conv_matrix(
    input_shape: Sequence[int],
    weight: Any,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    *,
    show: str = "both",
    annotate: str = "tap",
    path: str | os.PathLike | None = None,
):
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
    path = _check_path(path, func)
    C = conv_matrix(input_shape, weight, stride, padding, dilation, groups)  # validates everything
    _, (w,) = v.float_arrays(func, weight=weight)
    n = w.ndim - 2
    _check_matrix_size(C.shape, func)
    taps = conv_matrix(input_shape, np.arange(1.0, w.size + 1.0).reshape(w.shape), stride, padding, dilation, groups)
    in_size = tuple(input_shape)[-n:]
    out_size = shapes.conv_output_size(in_size, w.shape[2:], stride, padding, dilation)
    c_in = C.shape[1] // math.prod(in_size)
    c_out = C.shape[0] // math.prod(out_size)
    fig = _matrix_figure(
        C.toarray(), np.rint(taps.toarray()).astype(np.int64), _names("w", w.shape, 2).ravel(),
        in_size, out_size, c_in, c_out, show, annotate,
    )
    _save(fig, path)
    return fig


def _check_matrix_size(shape: tuple[int, int], func: str) -> None:
    if shape[0] * shape[1] > MAX_MATRIX_ENTRIES:
        raise ValueError(
            f"{func}: the matrix has shape {shape}, more than {MAX_MATRIX_ENTRIES} entries to draw; "
            "use a smaller input"
        )


def _pixel_labels(size: tuple[int, ...], channels: int) -> list[str]:
    labels = [_index_label(i) for i in np.ndindex(*size)]
    return labels if channels == 1 else [f"c{c}:{lab}" for c in range(channels) for lab in labels]


def _matrix_figure(
    C: np.ndarray, taps: np.ndarray, names: np.ndarray, in_size: tuple[int, ...], out_size: tuple[int, ...],
    c_in: int, c_out: int, show: str, annotate: str,
):
    """Figure of the dense ``C`` (``taps``: 1-based flat tap index, 0 = no entry) and/or its transpose."""
    M, N = C.shape
    mats = []
    conv_text = f"conv {_dims(in_size)} → {_dims(out_size)}"
    back_text = f"transposed conv {_dims(out_size)} → {_dims(in_size)}"
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
    with _style() as mpl:
        fig = _figure(width, height)
        slot_left = 0.15
        vmax = float(np.abs(C).max()) or 1.0
        cmap = mpl.colormaps["RdBu_r"]
        cell_pt = cell * 72
        for mat, tap, title, row_labels, col_labels, xlabel, ylabel in mats:
            h, w_ = mat.shape
            slot = slots.pop(0)
            left = slot_left + (slot - w_ * cell - label_in) / 2 + label_in
            slot_left += slot + gap
            ax = _place(fig, left, bottom + (height_cells - h) * cell, w_ * cell, h * cell)
            rgb = cmap(0.5 + 0.42 * mat / vmax)[..., :3]
            rgb[tap == 0] = _BLANK
            ax.imshow(rgb, interpolation="nearest", aspect="equal")
            _cell_grid(ax, (h, w_), "0.85" if cell_pt >= 4 else "none")
            ax.set_title(title)
            if cell_pt >= 5.5:  # label every row and column
                fs = min(7.0, 0.8 * cell_pt)
                ax.set_yticks(range(h), row_labels, fontsize=fs)
                ax.set_xticks(range(w_), col_labels, fontsize=fs, rotation=90)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            if annotate == "none":
                continue
            for r, c in zip(*np.nonzero(tap)):
                text = str(names[tap[r, c] - 1]) if annotate == "tap" else _fmt(mat[r, c])
                fs = _font(text, cell_pt)
                if fs >= 4.0:
                    ax.text(c, r, text, ha="center", va="center", fontsize=fs, color=_ink(rgb[r, c]))
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
):
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
    path = _check_path(path, func)
    stack = _layers(func, kernel_size, stride, dilation, layers, ndim)
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
    _save(fig, path)
    return fig


def _tile_text(tile: np.ndarray) -> str:
    """``[2 1]`` (1-d) or ``[4 2; 2 1]`` (2-d), or only the shape when long."""
    rows = [" ".join(map(str, row)) for row in _as2d(tile)]
    text = "[" + "; ".join(rows) + "]"
    return text if len(text) <= 40 else _dims(tile.shape)


def _overlap_title(j: int, stack: Sequence[Any], m: OverlapMap) -> str:
    which = f"after layer {j + 1} ({stack[j]})" if len(stack) > 1 else str(stack[0])
    return f"{which}: ratio {_fmt(m.ratio) if math.isfinite(m.ratio) else 'inf'}, tile {_tile_text(m.tile)}"


def _overlap_figure(maps: list[OverlapMap], stack: Sequence[Any]):
    n = maps[-1].ndim
    with _style() as mpl:
        cmap = mpl.colormaps["viridis"]
        if n == 1:
            longest = max(m.counts.size for m in maps)
            width = min(12.0, max(5.0, 0.2 * longest + 1.4))
            panel = 1.7
            fig = _figure(width, len(maps) * (panel + 0.65) + 0.15)
            for j, m in enumerate(maps):
                bottom = (len(maps) - 1 - j) * (panel + 0.65) + 0.5
                ax = _place(fig, 0.6, bottom, width - 0.85, panel)
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
            fig = _figure(width, height)
            left = (width - sum(w for _, w in shapes2) * cell - gap * (len(maps) - 1)) / 2
            cell_pt = cell * 72
            for j, m in enumerate(maps):
                h, w_ = m.counts.shape
                ax = _place(fig, left, 0.5 + (tallest - h) * cell, w_ * cell, h * cell)
                left += w_ * cell + gap
                counts = m.counts
                lo, hi = counts.min(), counts.max()
                rgb = cmap(0.15 + 0.7 * (counts - lo) / max(hi - lo, 1))[..., :3]
                ax.imshow(rgb, interpolation="nearest", aspect="equal")
                _cell_grid(ax, (h, w_), "white" if cell_pt >= 4 else "none")
                (b0, e0), (b1, e1) = m.interior
                from matplotlib.patches import Rectangle

                ax.add_patch(Rectangle((b1 - 0.5, b0 - 0.5), e1 - b1, e0 - b0, fill=False, ec=_ORANGE,
                                       lw=2.0, ls="--"))
                for (r, c), count in np.ndenumerate(counts):
                    fs = _font(str(count), cell_pt)
                    if fs >= 4.0:
                        ax.text(c, r, str(count), ha="center", va="center", fontsize=fs, color=_ink(rgb[r, c]))
                ax.set_title(_overlap_title(j, stack, m), fontsize=8)
            fig.text(0.5, 0.2 / height, "stamps per output pixel (un-cropped); dashed: border-free interior",
                     ha="center", fontsize=7.5)
    return fig


# --------------------------------------------------------------------------
# DC gain and spectrum


def plot_dc_gain(
    weight: Any,
    stride: int | Sequence[int],
    *,
    dilation: int | Sequence[int] = 1,
    max_pairs: int = 16,
    path: str | os.PathLike | None = None,
):
    """Draw the polyphase DC gains of transposed-convolution weights, per channel pair.

    Parameters
    ----------
    weight : (C_in, C_out / groups, *kernel_size) array_like
        Transposed-convolution weights (torch layout).
    stride, dilation : int or sequence of n ints
        As :func:`upconv.dc_gain_spread`.
    max_pairs : int, optional
        Channel pairs drawn as bars (the spread heatmap shows all).
    path : str or os.PathLike, optional
        Save the figure there (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    matplotlib.figure.Figure
        Left: the DC gain of every output phase, grouped by channel pair
        (equal bars = flat in, flat out); right: the spread (max - min over
        the phases) per ``(c_in, c_out)``.

    Raises
    ------
    TypeError, ValueError
        As :func:`upconv.dc_gain_spread`, or for an invalid ``max_pairs``
        or ``path``.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.figures import plot_dc_gain
    >>> fig = plot_dc_gain(np.ones((1, 1, 3)), 2)
    >>> fig.axes[0].get_title()
    'DC gain per output phase'
    """
    func = "plot_dc_gain"
    path = _check_path(path, func)
    max_pairs = v.integer(max_pairs, func, "max_pairs", minimum=1)
    r = dc_gain_spread(weight, stride, dilation=dilation)
    n_ci, n_co = r.spread.shape
    phases = list(np.ndindex(*r.stride))
    gains = r.gains.reshape(n_ci, n_co, len(phases))
    pairs = list(np.ndindex(n_ci, n_co))[:max_pairs]
    with _style() as mpl:
        width = min(12.0, max(7.0, 0.5 * len(pairs) * max(1, len(phases)) ** 0.5 + 4.5))
        fig = _figure(width, 3.4)
        ax = _place(fig, 0.65, 0.75, width * 0.58 - 0.65, 2.15)
        P = len(phases)
        bar = 0.8 / P
        cmap = mpl.colormaps["tab10" if P <= 10 else "viridis"]
        for k, ph in enumerate(phases):
            colour = cmap(k if P <= 10 else k / max(P - 1, 1))
            xs = np.arange(len(pairs)) - 0.4 + (k + 0.5) * bar
            label = f"phase {ph[0] if len(ph) == 1 else ph}"
            ax.bar(xs, [gains[ci, co, k] for ci, co in pairs], width=bar * 0.92, color=colour,
                   label=label if P <= 16 else None)
        ax.axhline(0.0, color="0.3", lw=0.6)
        ax.set_xticks(range(len(pairs)), [f"{ci}→{co}" for ci, co in pairs], fontsize=7)
        ax.set_xlim(-0.6, len(pairs) - 0.4)
        more = f" (first {len(pairs)} of {n_ci * n_co})" if n_ci * n_co > len(pairs) else ""
        ax.set_xlabel("channel pair c_in→c_out" + more)
        ax.set_ylabel("DC gain")
        ax.set_title("DC gain per output phase")
        if P <= 16:
            ax.legend(fontsize=6.5, ncol=min(P, 4), loc="lower right", framealpha=0.85)
        ax2 = _place(fig, width * 0.64, 0.75, min(2.15, width * 0.3), 2.15)
        spread = r.spread
        vmax = float(spread.max()) or 1.0
        rgb = mpl.colormaps["magma_r"](0.05 + 0.8 * spread / vmax)[..., :3]
        ax2.imshow(rgb, interpolation="nearest", aspect="auto")
        ax2.set_xlim(-0.5, n_co - 0.5)
        ax2.set_ylim(n_ci - 0.5, -0.5)
        if n_ci * n_co <= 64:
            for (ci, co), s in np.ndenumerate(spread):
                ax2.text(co, ci, _fmt(s) if s > r.tolerance else "0", ha="center", va="center",
                         fontsize=7 if n_ci * n_co <= 16 else 5, color=_ink(rgb[ci, co]))
        if max(n_ci, n_co) <= 16:
            ax2.set_xticks(range(n_co))
            ax2.set_yticks(range(n_ci))
        ax2.set_xlabel("c_out")
        ax2.set_ylabel("c_in")
        ax2.set_title("spread (max - min gain)")
        verdict = "flat in, flat out" if r.flat else "checkerboard on flat regions"
        spread_text = _fmt(r.max_spread) if not r.flat else "0"
        fig.suptitle(f"polyphase DC gain, stride {_dims(r.stride)}: max spread {spread_text} — {verdict}", y=0.97)
    _save(fig, path)
    return fig


def _spectrum_axes(a: np.ndarray, stride: Any, axes: Any) -> tuple[int, ...]:
    """The analysed axes, chosen as :func:`upconv.stride_frequency_energy` does (already validated there)."""
    if axes is None:
        if isinstance(stride, (Sequence, np.ndarray)) and not isinstance(stride, (str, bytes)):
            return tuple(range(a.ndim - len(stride), a.ndim))
        return tuple(range(a.ndim)) if a.ndim <= 2 else tuple(range(2, a.ndim))
    raw = [axes] if not isinstance(axes, (Sequence, np.ndarray)) else list(axes)
    return tuple(int(x) % a.ndim for x in raw)


def plot_spectrum(
    y: Any,
    stride: int | Sequence[int],
    *,
    axes: int | Sequence[int] | None = None,
    path: str | os.PathLike | None = None,
):
    """Draw an array and its power spectrum with the stride frequencies ``j/s`` marked.

    Parameters
    ----------
    y : array_like
        Any real array, e.g. a transposed convolution's output.
    stride, axes
        As :func:`upconv.stride_frequency_energy`; one or two axes are
        analysed.
    path : str or os.PathLike, optional
        Save the figure there (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    matplotlib.figure.Figure
        Left: the signal (1 axis) or image (2 axes; the first of the
        leading indices); right: the power ``|FFT(y - mean)|^2`` (pooled
        over the other axes; 2 axes: ``log10``, centred) with the stride
        frequencies marked in red, and the energy fraction there in the
        title.

    Raises
    ------
    TypeError, ValueError
        As :func:`upconv.stride_frequency_energy`, for more than two
        analysed axes, or an invalid ``path``.

    Notes
    -----
    Each analysed axis is cropped to a multiple of its stride, as in
    :func:`upconv.stride_frequency_energy`, so that ``j/s`` falls on a bin.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.figures import plot_spectrum
    >>> fig = plot_spectrum(np.indices((8, 8)).sum(axis=0) % 2, 2)
    >>> fig.axes[1].get_title()
    'power spectrum: 100.0% at the stride frequencies'
    """
    func = "plot_spectrum"
    path = _check_path(path, func)
    energy = stride_frequency_energy(y, stride, axes)  # validates y, stride, axes
    _, (a,) = v.float_arrays(func, y=y)
    a = np.asarray(a, dtype=np.float64)
    ax_ = _spectrum_axes(a, stride, axes)
    if len(ax_) > 2:
        raise ValueError(f"{func}: at most 2 axes can be drawn, got {len(ax_)} analysed axes (give axes=...)")
    s = v.int_tuple(stride, len(ax_), func, "stride", minimum=1)
    crop = [slice(None)] * a.ndim
    for x, s_ in zip(ax_, s):
        crop[x] = slice(0, a.shape[x] - a.shape[x] % s_)
    a = a[tuple(crop)]
    moved = np.moveaxis(a, ax_, tuple(range(a.ndim - len(ax_), a.ndim)))
    lead = moved.reshape((-1,) + moved.shape[a.ndim - len(ax_):])
    power = (np.abs(np.fft.fftn(lead - lead.mean(axis=tuple(range(1, lead.ndim)), keepdims=True),
                                axes=tuple(range(1, lead.ndim)))) ** 2).sum(axis=0)
    sample = lead[0]
    title = f"power spectrum: {100 * energy:.1f}% at the stride frequencies"
    with _style():
        fig = _figure(9.0, 3.4)
        ax1 = _place(fig, 0.6, 0.6, 3.6, 2.3)
        ax2 = _place(fig, 5.0, 0.6, 3.6, 2.3)
        if len(ax_) == 1:
            L = sample.size
            ax1.plot(np.arange(L), sample, marker="o" if L <= 64 else None, ms=3, lw=1)
            ax1.set_xlabel("position")
            ax1.set_title("signal" + (f" (first of {lead.shape[0]})" if lead.shape[0] > 1 else ""))
            freqs = np.fft.rfftfreq(L)
            ax2.plot(freqs, power[: freqs.size], lw=1.2, color="0.2")
            for j in range(1, s[0] // 2 + 1):
                ax2.axvline(j / s[0], color="crimson", ls="--", lw=1)
                ax2.text(j / s[0], 1.0, f" {j}/{s[0]}", color="crimson", transform=ax2.get_xaxis_transform(),
                         va="top", fontsize=7.5)
            ax2.set_xlim(0, 0.5)
            ax2.set_xlabel("frequency (cycles per sample)")
            ax2.set_ylabel("power")
        else:
            ax1.imshow(sample, cmap="gray", interpolation="nearest")
            ax1.set_title("array" + (f" (first of {lead.shape[0]})" if lead.shape[0] > 1 else ""))
            shifted = np.fft.fftshift(power)
            floor = max(float(shifted.max()) * 1e-12, np.finfo(float).tiny)
            f0, f1 = (np.fft.fftshift(np.fft.fftfreq(n_)) for n_ in shifted.shape)
            d0, d1 = 1.0 / shifted.shape[0], 1.0 / shifted.shape[1]
            ax2.imshow(np.log10(shifted + floor), cmap="viridis", interpolation="nearest", origin="lower",
                       extent=(f1[0] - d1 / 2, f1[-1] + d1 / 2, f0[0] - d0 / 2, f0[-1] + d0 / 2), aspect="auto")
            marks = [((j0 / s[0] + 0.5) % 1 - 0.5, (j1 / s[1] + 0.5) % 1 - 0.5)
                     for j0 in range(s[0]) for j1 in range(s[1]) if (j0, j1) != (0, 0)]
            if marks:
                ax2.scatter([m[1] for m in marks], [m[0] for m in marks], s=60, facecolors="none",
                            edgecolors="crimson", linewidths=1.3)
            ax2.set_xlabel("frequency, last axis (cycles per pixel)")
            ax2.set_ylabel("frequency, first axis")
        ax2.set_title(title)
    _save(fig, path)
    return fig


# --------------------------------------------------------------------------
# animations


@dataclass(frozen=True, eq=False)
class ConvTransposeAnimation:
    """What :func:`animate_conv_transpose` wrote.

    Attributes
    ----------
    path : str
        The GIF file.
    view : str
        ``"stamping"`` or ``"zero_insertion"``.
    frames : int
        Number of frames: one per step (input pixel stamped, or output pixel
        computed) plus a first and a last frame.
    shown : tuple of ndarray
        Per frame, the values drawn in the output panel: the un-cropped
        canvas of the stamps so far (stamping; NaN = no stamp yet, except in
        the last frame, the whole result) or the output computed so far
        (zero insertion; NaN = not yet).
    output : ndarray
        The result, :func:`upconv.conv_transpose` of the configuration; the
        last frame shows it (stamping: the kept part of the canvas).
    crop : tuple of slice
        Where the output lies in ``shown[-1]``.
    figure : matplotlib.figure.Figure
        The figure in the state of the last frame.
    """

    path: str
    view: str
    frames: int
    shown: tuple[np.ndarray, ...]
    output: np.ndarray
    crop: tuple[slice, ...]
    figure: Any


def _value_array(func: str, name: str, value: Any, shape: tuple[int, ...], default: str) -> np.ndarray:
    if value is None:
        return np.arange(1.0, math.prod(shape) + 1.0).reshape(shape) if default == "arange" else np.ones(shape)
    _, (a,) = v.float_arrays(func, **{name: value})
    a = np.asarray(a, dtype=np.float64)
    if a.shape != shape:
        raise ValueError(f"{func}: {name} must have shape {shape}, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{func}: {name} must hold finite values")
    return a


def animate_conv_transpose(
    path: str | os.PathLike,
    in_size: int | Sequence[int],
    kernel_size: int | Sequence[int] | None = None,
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    output_padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    *,
    view: str = "stamping",
    x: Any = None,
    weight: Any = None,
    fps: float = 2.0,
) -> ConvTransposeAnimation:
    r"""Write a step-by-step GIF of a single-channel transposed convolution.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.gif`` file to write.
    in_size : int or sequence of 1 or 2 ints
        Spatial size of the input (1-d or 2-d).
    kernel_size : int or sequence of ints, optional
        Default: the shape of ``weight``, else 3.
    stride, padding, output_padding, dilation
        As :func:`upconv.conv_transpose` (non-square values, dilation and
        output padding allowed).
    view : {"stamping", "zero_insertion"}, optional
        ``"stamping"``: every input pixel's stamp ``x[j] * w`` is added to
        an un-cropped canvas in turn (colour: stamps so far, so the overlap
        shows; text: the sum so far); the padding is the cropped border
        (dashed: the part kept).  ``"zero_insertion"``: the zero-inserted,
        padded input (:func:`upconv.shapes.zero_insertion_geometry`) with
        the flipped kernel sliding over it, one output value per frame.
    x : array_like of shape in_size, optional
        Input values (default ``1, 2, 3, ...``).
    weight : array_like of shape kernel_size, optional
        Kernel values (default all ones).
    fps : float, optional
        Frames per second (at most 50); the last frame is held 3 times as
        long.

    Returns
    -------
    ConvTransposeAnimation
        ``path``, ``frames``, the values ``shown`` in every frame, the
        ``output`` (:func:`upconv.conv_transpose`) and the ``figure`` in its
        last state.

    Raises
    ------
    TypeError, ValueError
        For an invalid configuration (as :func:`upconv.conv_transpose`),
        more than 2 spatial axes, a grid of more than :data:`MAX_CELLS`
        cells along an axis, more than :data:`MAX_FRAMES` frames, or a
        ``path`` not ending in ``.gif``.

    Notes
    -----
    Stamping: input pixel ``j`` adds ``x[j] w[t]`` at un-cropped position
    ``j*s + t*d``; the canvas is ``(i-1)*s + d*(k-1) + 1`` long (plus
    ``output_padding - p`` zeros when that is positive) and the output is
    its part ``[p, p + out)``.  Zero insertion: ``s - 1`` zeros between the
    input pixels, ``d*(k-1) - p`` zeros before and ``d*(k-1) - p + a``
    after (negative: cropped), then output ``o`` is
    ``sum_t flip(w)[t] z[o + t*d]``.  Both panels are computed with
    :func:`upconv.conv_transpose` and :func:`upconv.conv`.

    Examples
    --------
    >>> import os, tempfile
    >>> from upconv.figures import animate_conv_transpose
    >>> gif = os.path.join(tempfile.mkdtemp(), "stamping.gif")
    >>> anim = animate_conv_transpose(gif, (2, 2), 3, stride=2)
    >>> anim.frames, anim.output.shape
    (6, (5, 5))
    """
    func = "animate_conv_transpose"
    if path is None:
        raise TypeError(f"{func}: path must be a str or os.PathLike ending in .gif, got None")
    path = _check_path(path, func, ("gif",))
    view = v.choice(view, ("stamping", "zero_insertion"), func, "view")
    (fps,) = v.float_tuple(fps, 1, func, "fps", positive=True)
    if fps > 50:
        raise ValueError(f"{func}: fps must be at most 50 (GIF timing is in hundredths of a second), got {fps}")
    if isinstance(in_size, (Sequence, np.ndarray)) and not isinstance(in_size, (str, bytes)):
        size = shapes._sizes(tuple(in_size), func, "in_size")
    else:
        size = (v.integer(in_size, func, "in_size", minimum=1),)
    n = len(size)
    if n > 2:
        raise ValueError(f"{func}: only 1-d and 2-d configurations can be animated, got in_size={size}")
    if kernel_size is None:
        kernel_size = np.shape(weight) if weight is not None else 3
    g = shapes.conv_transpose_geometry(size, kernel_size, stride, padding, output_padding, dilation, func=func)
    k = g.kernel_size
    steps = math.prod(size) if view == "stamping" else math.prod(g.in_size)
    if steps + 2 > MAX_FRAMES:
        raise ValueError(
            f"{func}: this animation would have {steps + 2} frames, more than {MAX_FRAMES}; use a smaller "
            + ("input" if view == "stamping" else "output")
        )
    for name, shape in _grid_shapes(g, view).items():  # before allocating anything
        if max(shape) > MAX_CELLS:
            raise ValueError(
                f"{func}: the {name} has {_dims(shape)} cells, more than {MAX_CELLS} along an axis; "
                "use a smaller configuration"
            )
    xs = _value_array(func, "x", x, size, "arange")
    w = _value_array(func, "weight", weight, k, "ones")
    output = conv_transpose(xs[None, None], w[None, None], stride=g.stride, padding=padding,
                            output_padding=output_padding, dilation=g.dilation)[0, 0]
    frames = _stamping_frames(g, xs, w) if view == "stamping" else _zero_insertion_frames(g, xs, w)
    fig, images = _render(frames, g)
    duration = max(20, int(round(1000 / fps / 10)) * 10)
    durations = [duration] * (len(images) - 1) + [3 * duration]
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0,
                   optimize=False, disposal=1)
    return ConvTransposeAnimation(path, view, len(images), tuple(frames["shown"]), output, frames["crop"], fig)


def _grid_shapes(g: shapes.ConvGeometry, view: str) -> dict[str, tuple[int, ...]]:
    """The grids an animation draws, per axis: input, kernel and canvas, or zero-inserted input and output."""
    if view == "stamping":
        canvas = tuple(f + max(0, -e) for f, (_, e) in zip(g.full_size, g.padding))
        return {"input": g.out_size, "kernel": g.kernel_size, "output canvas": canvas}
    gz = shapes.zero_insertion_geometry(g)
    drawn = tuple(i + max(b, 0) + max(e, 0) for i, (b, e) in zip(gz.in_size, gz.padding))
    return {"zero-inserted, padded input": drawn, "flipped kernel": g.kernel_size, "output": g.in_size}


def _stamping_frames(g: shapes.ConvGeometry, x: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    """Per frame: the canvas of the stamps so far, their overlap count, the current stamp and input pixel."""
    size, s, d = g.out_size, g.stride, g.dilation
    extend = [(0, max(0, -e)) for _, e in g.padding]  # output_padding beyond the un-cropped result
    canvas_shape = tuple(f + e for f, (_, e) in zip(g.full_size, extend))
    crop = tuple(slice(b, b + o) for (b, _), o in zip(g.padding, g.in_size))
    ones = np.ones((1, 1) + g.kernel_size)
    total = np.zeros(canvas_shape)
    count = np.zeros(canvas_shape, dtype=np.int64)
    shown, counts, current, pixel, notes = [np.full(canvas_shape, np.nan)], [count.copy()], [None], [None], []
    notes.append(f"kernel stamping: each input pixel j adds x[j]·w at j·s (stride {_dims(s)})")
    for j in np.ndindex(*size):
        one = np.zeros((1, 1) + size)
        one[(0, 0) + j] = 1.0
        stamp = np.pad(conv_transpose(one * x, w[None, None], stride=s, dilation=d)[0, 0], extend)
        reach = np.pad(conv_transpose(one, ones, stride=s, dilation=d)[0, 0], extend) != 0
        total = total + stamp
        count = count + reach
        shown.append(np.where(count > 0, total, np.nan))
        counts.append(count.copy())
        current.append(reach)
        pixel.append(j)
        start = tuple(j_ * s_ for j_, s_ in zip(j, s))
        notes.append(f"stamp x[{_index_label(j)}] = {_fmt(x[j])} times w, starting at ({_index_label(start)})")
    shown.append(total)  # the result: 0 where no stamp reached
    counts.append(count.copy())
    current.append(None)
    pixel.append("done")
    extended = " plus output_padding zeros at the end" if any(e < 0 for _, e in g.padding) else ""
    crops = any(p > 0 for pair in g.padding for p in pair)
    cropped = "the canvas cropped by the padding" if crops else "the canvas"
    notes.append(f"result ({_dims(g.in_size)}): {cropped}{extended} (dashed box)")
    return {
        "view": "stamping", "shown": shown, "counts": counts, "current": current, "pixel": pixel,
        "notes": notes, "crop": crop, "x": x, "w": w,
        "grids": {"input": _as2d(x).shape, "kernel": _as2d(w).shape, "output canvas": _as2d(total).shape},
        "legend": "blue: stamps so far (darker = more overlap) · orange: this stamp · dashed: the output kept",
    }


def _zero_insertion_frames(g: shapes.ConvGeometry, x: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    """Per frame: the output computed so far and the window of the flipped kernel on the padded input."""
    gz = shapes.zero_insertion_geometry(g)
    pads = shapes.zero_insertion_padding(g)
    # drawn grid: the zero-inserted input with the positive pads added; negative pads are shown as cropped cells
    inserted = np.zeros(gz.in_size)
    inserted[tuple(slice(None, None, s) for s in g.stride)] = x
    kind = np.ones(gz.in_size, dtype=np.int64)  # 1: inserted zero
    kind[tuple(slice(None, None, s) for s in g.stride)] = 2  # 2: input pixel
    pos = [(max(b, 0), max(e, 0)) for b, e in pads]
    drawn = np.pad(inserted, pos)
    kind = np.pad(kind, pos)  # 0: padding
    used = tuple(slice(max(-b, 0), drawn.shape[a] - max(-e, 0)) for a, (b, e) in enumerate(pads))
    cropped = np.ones(drawn.shape, dtype=bool)
    cropped[used] = False
    kind[cropped] = 3  # 3: cropped
    flipped = np.flip(w)
    result = conv(drawn[used][None, None], flipped[None, None], dilation=g.dilation)[0, 0]
    offset = tuple(u.start for u in used)
    shown = [np.full(g.in_size, np.nan)]
    windows: list[Any] = [None]
    notes = [
        f"zero insertion: {_dims(tuple(s - 1 for s in g.stride))} zeros between pixels, pad "
        + ", ".join(f"{b}/{e}" for b, e in pads) + " (negative: crop), then slide the flipped kernel"
    ]
    out = np.full(g.in_size, np.nan)
    for o in np.ndindex(*g.in_size):
        out = out.copy()
        out[o] = result[o]
        shown.append(out)
        taps = tuple(
            np.array([off + o_ + t * d for t in range(k)])
            for off, o_, k, d in zip(offset, o, g.kernel_size, g.dilation)
        )
        windows.append(taps)
        notes.append(f"output ({_index_label(o)}) = sum of flipped kernel × window = {_fmt(result[o])}")
    shown.append(out)
    windows.append(None)
    notes.append(f"result: {_dims(g.in_size)}, the same as kernel stamping")
    return {
        "view": "zero_insertion", "shown": shown, "windows": windows, "notes": notes,
        "crop": tuple(slice(0, o) for o in g.in_size), "drawn": drawn, "kind": kind, "used": used,
        "flipped": flipped, "x": x, "w": w,
        "grids": {"zero-inserted, padded input": _as2d(drawn).shape, "flipped kernel": _as2d(w).shape,
                  "output": _as2d(out).shape},
        "legend": "yellow: input pixels · grey: inserted zeros · light: padding"
                  + (" · dark: cropped (negative padding)" if (kind == 3).any() else ""),
    }


class _Panel:
    """One grid of cells, each with a colour and a label, redrawn only where it changed.

    Frames are drawn incrementally into the Agg buffer: cell colours are
    painted with NumPy, then the grid lines, outlines, box, spines and the
    labels of the cells concerned are drawn by matplotlib, clipped to the
    changed rectangle.  Every frame, the first included, is drawn the same
    way, so a frame does not depend on which frames came before it.
    """

    MARGIN = 4  # pixels beyond the grid redrawn at its edges (outlines and box are drawn over the border)

    def __init__(self, fig: Any, rect: tuple[float, float, float, float], shape: tuple[int, int], cell_pt: float,
                 title: str):
        from matplotlib.patches import Rectangle

        self.Rectangle = Rectangle
        self.ax = _place(fig, *rect)
        self.shape = shape
        self.cell_pt = cell_pt
        self.rgb = np.ones(shape + (3,))
        self.labels = np.full(shape, "", dtype=object)
        self.ink = np.full(shape, "black", dtype=object)
        self.box_cells: tuple[int, int, int, int] | None = None
        self.dirty = np.ones(shape, dtype=bool)
        self.image = self.ax.imshow(self.rgb, interpolation="nearest", aspect="equal")  # for the returned figure
        _cell_grid(self.ax, shape, "0.6")
        self.ax.set_title(title, fontsize=8)
        self.texts = np.empty(shape, dtype=object)
        for r, c in np.ndindex(*shape):
            self.texts[r, c] = self.ax.text(c, r, "", ha="center", va="center", fontsize=6)
        self.box = Rectangle((-0.5, -0.5), 1, 1, fill=False, ec=_ORANGE, lw=2.0, visible=False)
        self.ax.add_patch(self.box)

    def outline(self, rows: slice, cols: slice, **style: Any) -> None:
        """A static rectangle around the cells ``rows x cols``."""
        self.ax.add_patch(self.Rectangle((cols.start - 0.5, rows.start - 0.5), cols.stop - cols.start,
                                         rows.stop - rows.start, fill=False, **style))

    def set(self, rgb: np.ndarray, labels: np.ndarray, ink: np.ndarray | None = None,
            box: tuple[int, int, int, int] | None = None) -> None:
        """New cell colours, labels, label colours and box ``(r0, r1, c0, c1)`` (inclusive) or None."""
        if ink is None:
            ink = np.empty(self.shape, dtype=object)
            for idx in np.ndindex(*self.shape):
                ink[idx] = _ink(rgb[idx])
        changed = (rgb != self.rgb).any(axis=-1) | (labels != self.labels) | (ink != self.ink)
        if box != self.box_cells:
            for b in (box, self.box_cells):
                if b is not None:
                    changed[b[0] : b[1] + 1, b[2] : b[3] + 1] = True
        for r, c in zip(*np.nonzero(changed)):
            text = labels[r, c]
            fs = _font(text, self.cell_pt, 8.5)
            t = self.texts[r, c]
            t.set_text(text if fs >= 4.0 else "")
            t.set_fontsize(fs)
            t.set_color(ink[r, c])
        self.dirty |= changed
        self.rgb, self.labels, self.ink, self.box_cells = rgb.copy(), labels.copy(), ink.copy(), box
        self.image.set_data(self.rgb)
        if box is None:
            self.box.set_visible(False)
        else:
            self.box.set_bounds(box[2] - 0.5, box[0] - 0.5, box[3] - box[2] + 1, box[1] - box[0] + 1)
            self.box.set_visible(True)

    def locate(self, height_px: int) -> None:
        """Pixel boundaries of the cells in the buffer (after the figure was drawn once)."""
        h, w = self.shape
        to_px = self.ax.transData.transform
        self.xb = np.rint(to_px(np.column_stack([np.arange(w + 1) - 0.5, np.zeros(w + 1)]))[:, 0]).astype(int)
        ys = to_px(np.column_stack([np.zeros(h + 1), np.arange(h + 1) - 0.5]))[:, 1]
        self.yb = np.rint(height_px - ys).astype(int)

    def blit(self, buf: np.ndarray) -> None:
        """Redraw the changed cells, their neighbours and whatever lies over them."""
        from matplotlib.transforms import Bbox

        if not self.dirty.any():
            return
        h, w = self.shape
        H, W = buf.shape[:2]
        rows, cols = np.nonzero(self.dirty)
        r0, r1 = max(rows.min() - 1, 0), min(rows.max() + 1, h - 1)
        c0, c1 = max(cols.min() - 1, 0), min(cols.max() + 1, w - 1)
        m = self.MARGIN
        y0 = max(self.yb[r0] - (m if r0 == 0 else 0), 0)
        y1 = min(self.yb[r1 + 1] + (m if r1 == h - 1 else 0), H)
        x0 = max(self.xb[c0] - (m if c0 == 0 else 0), 0)
        x1 = min(self.xb[c1 + 1] + (m if c1 == w - 1 else 0), W)
        buf[y0:y1, x0:x1] = 255
        colours = np.rint(self.rgb * 255).astype(np.uint8)
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                buf[self.yb[r] : self.yb[r + 1], self.xb[c] : self.xb[c + 1], :3] = colours[r, c]
        clip = Bbox.from_extents(x0, H - y1, x1, H - y0)
        overlay = [a for a in self.ax.collections + self.ax.patches + list(self.ax.spines.values()) if a.get_visible()]
        for artist in sorted(overlay, key=lambda a: a.get_zorder()):
            saved = artist.get_clip_box(), artist.get_clip_on()
            artist.set_clip_box(clip)
            artist.set_clip_on(True)
            self.ax.draw_artist(artist)
            artist.set_clip_box(saved[0])
            artist.set_clip_on(saved[1])
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if self.texts[r, c].get_text():
                    self.ax.draw_artist(self.texts[r, c])
        self.dirty[:] = False


def _labels(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, dtype=object)
    for idx, val in np.ndenumerate(a):
        out[idx] = "" if np.isnan(val) else _fmt(val)
    return out


def _render(frames: dict[str, Any], g: shapes.ConvGeometry):
    """Draw every frame with Agg; return the figure (last frame) and the frames as palette images."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    grids = list(frames["grids"].values())
    titles = list(frames["grids"])
    vertical = g.ndim == 1
    side, top, bottom, title_h = 0.3, 0.55, 0.5, 0.3
    gap = 0.2 if vertical else 0.45
    if vertical:
        cell = min(0.36, 9.0 / max(w for _, w in grids))
        width = max(6.0, 2 * side + max(w for _, w in grids) * cell)
        height = top + sum(h * cell + title_h for h, _ in grids) + gap * (len(grids) - 1) + bottom
    else:
        cell = min(0.36, (10.5 - 2 * side - gap * (len(grids) - 1)) / sum(w for _, w in grids))
        width = max(6.0, 2 * side + sum(w for _, w in grids) * cell + gap * (len(grids) - 1))
        height = top + title_h + max(h for h, _ in grids) * cell + bottom
    rects = []
    if vertical:
        y = height - top
        for h, w_ in grids:
            y -= title_h + h * cell
            rects.append(((width - w_ * cell) / 2, y, w_ * cell, h * cell))
            y -= gap
    else:
        left = (width - sum(w for _, w in grids) * cell - gap * (len(grids) - 1)) / 2
        tallest = max(h for h, _ in grids)
        for h, w_ in grids:
            rects.append((left, bottom + (tallest - h) * cell, w_ * cell, h * cell))
            left += w_ * cell + gap
    with _style() as mpl:
        fig = _figure(width, height, ANIMATION_DPI)
        canvas = FigureCanvasAgg(fig)
        names = [f"{t} ({_dims(shape if not vertical else (shape[1],))})" for t, shape in zip(titles, grids)]
        panels = [_Panel(fig, rect, shape, cell * 72, name) for rect, shape, name in zip(rects, grids, names)]
        note = fig.text(0.5, 1 - 0.3 / height, "", ha="center", va="center", fontsize=9.5)
        fig.text(0.5, 0.2 / height, frames["legend"], ha="center", va="center", fontsize=7, color="0.3")
        setup, draw = _VIEWS[frames["view"]]
        setup(frames, panels)
        canvas.draw()  # the static parts: titles, legend; every cell is drawn by _Panel.blit
        buf = np.asarray(canvas.buffer_rgba())
        H = buf.shape[0]
        band = int(round((top - 0.08) * ANIMATION_DPI))  # rows of the note above the panels
        for p in panels:
            p.locate(H)
        images = []
        for i in range(len(frames["shown"])):
            draw(frames, i, panels, mpl)
            for p in panels:
                p.blit(buf)
            buf[:band] = 255
            note.set_text(frames["notes"][i])
            fig.draw_artist(note)
            images.append(_palette_image(Image, buf[..., :3].copy()))
    return fig, images


def _palette_image(Image: Any, rgb: np.ndarray) -> Any:
    """``rgb`` as a 256-colour image (GIF); the background (the corner pixel, white) stays exactly white."""
    img = Image.fromarray(rgb).quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    palette = img.getpalette()
    white = img.getpixel((0, 0))
    palette[3 * white : 3 * white + 3] = [255, 255, 255]
    img.putpalette(palette)
    return img


def _idx2(j: tuple[int, ...]) -> tuple[int, int]:
    return (0, j[0]) if len(j) == 1 else (j[0], j[1])


def _slices2(sl: tuple[slice, ...]) -> tuple[slice, slice]:
    return (slice(0, 1),) + tuple(sl) if len(sl) == 1 else tuple(sl)  # type: ignore[return-value]


def _setup_stamping(frames: dict[str, Any], panels: list[_Panel]) -> None:
    _, ker, out = panels
    w2 = _as2d(frames["w"])
    ker.set(np.broadcast_to(np.array(_KERNEL), w2.shape + (3,)).copy(), _labels(w2))
    rows, cols = _slices2(frames["crop"])
    out.outline(rows, cols, ec="crimson", lw=1.6, ls="--")


def _draw_stamping(frames: dict[str, Any], i: int, panels: list[_Panel], mpl: Any) -> None:
    inp, _, out = panels
    x2 = _as2d(frames["x"])
    pixel = frames["pixel"][i]
    flat = list(np.ndindex(*frames["x"].shape))
    upto = len(flat) if pixel == "done" else (0 if pixel is None else flat.index(pixel) + 1)
    rgb = np.full(x2.shape + (3,), 0.96)
    for j in flat[:upto]:
        rgb[_idx2(j)] = _INPUT
    box = None
    if pixel not in (None, "done"):
        r, c = _idx2(pixel)
        rgb[r, c] = _ORANGE
        box = (r, r, c, c)
    inp.set(rgb, _labels(x2), box=box)
    count = _as2d(frames["counts"][i])
    top = max(int(frames["counts"][-1].max()), 1)
    colours = mpl.colormaps["Blues"](0.12 + 0.55 * count / top)[..., :3]
    colours[count == 0] = _BLANK
    current = frames["current"][i]
    box = None
    if current is not None:
        reach = _as2d(current)
        colours = _blend(colours, _ORANGE, 0.55, reach)
        rows, cols = np.nonzero(reach)
        box = (rows.min(), rows.max(), cols.min(), cols.max())
    if pixel == "done":
        kept = np.zeros(count.shape, dtype=bool)
        kept[_slices2(frames["crop"])] = True
        colours = _blend(colours, _CROPPED, 0.75, ~kept)
    out.set(colours, _labels(_as2d(frames["shown"][i])), box=box)


def _setup_zero_insertion(frames: dict[str, Any], panels: list[_Panel]) -> None:
    zin, ker, _ = panels
    flipped = _as2d(frames["flipped"])
    ker.set(np.broadcast_to(np.array(_KERNEL), flipped.shape + (3,)).copy(), _labels(flipped))
    if (frames["kind"] == 3).any():
        rows, cols = _slices2(frames["used"])
        zin.outline(rows, cols, ec="crimson", lw=1.4, ls="--")


def _draw_zero_insertion(frames: dict[str, Any], i: int, panels: list[_Panel], mpl: Any) -> None:
    zin, _, out = panels
    kind = _as2d(frames["kind"])
    colours = np.array([_PADDING, _INSERTED, _INPUT, _CROPPED])[kind]
    labels = _labels(_as2d(frames["drawn"]))
    ink = np.where(kind == 2, "black", "0.45").astype(object)
    ink[kind == 3] = "0.8"
    window = frames["windows"][i]
    box = None
    if window is not None:
        taps = tuple(window) if len(window) == 2 else (np.array([0]),) + tuple(window)
        mask = np.zeros(kind.shape, dtype=bool)
        mask[np.ix_(*taps)] = True
        colours = _blend(colours, _ORANGE, 0.6, mask)
        ink[mask] = "black"
        box = (taps[0].min(), taps[0].max(), taps[1].min(), taps[1].max())
    zin.set(colours, labels, ink, box)
    shown = _as2d(frames["shown"][i])
    final = frames["shown"][-1]
    lo, hi = float(np.nanmin(final)), float(np.nanmax(final))
    colours = mpl.colormaps["Blues"](0.12 + 0.55 * (np.nan_to_num(shown, nan=lo) - lo) / (hi - lo if hi > lo else 1.0))
    colours = colours[..., :3]
    colours[np.isnan(shown)] = _BLANK
    box = None
    if window is not None:
        o = tuple(int(t[0]) - u.start for t, u in zip(window, frames["used"]))
        r, c = _idx2(o)
        colours[r, c] = _ORANGE
        box = (r, r, c, c)
    out.set(colours, _labels(shown), box=box)


_VIEWS = {
    "stamping": (_setup_stamping, _draw_stamping),
    "zero_insertion": (_setup_zero_insertion, _draw_zero_insertion),
}
