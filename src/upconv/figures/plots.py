"""Static figures: the convolution matrix, overlap maps, DC gains, spectra."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.explain.checkerboard import (
    OverlapMap,
    dc_gain_spread,
    overlap_map,
    stride_frequency_energy,
)
from upconv.explain.overlap import layer_stack as _layers
from upconv.explain.symbols import symbol_names as _names
from upconv.figures.style import (
    _BLANK,
    _ORANGE,
    MAX_MATRIX_ENTRIES,
    _as2d,
    _cell_grid,
    _check_path,
    _dims,
    _figure,
    _fmt,
    _font,
    _index_label,
    _ink,
    _place,
    _save,
    _style,
)
from upconv.ops.matrix import conv_matrix

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
