"""Static figures of a layer's frequency behaviour: polyphase DC gains, and spectra with the stride frequencies."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v
from upconv.explain.checkerboard import dc_gain_spread, stride_frequency_energy
from upconv.figures.style import (
    check_path,
    dims,
    figure,
    fmt,
    matplotlib_style,
    place,
    save,
    text_colour,
)

if TYPE_CHECKING:
    import numpy.typing as npt
    from matplotlib.figure import Figure


def plot_dc_gain(
    weight: npt.ArrayLike,
    stride: int | Sequence[int],
    *,
    dilation: int | Sequence[int] = 1,
    max_pairs: int = 16,
    path: str | os.PathLike | None = None,
) -> Figure:
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
    path = check_path(path, func)
    max_pairs = v.integer(max_pairs, func, "max_pairs", minimum=1)
    r = dc_gain_spread(weight, stride, dilation=dilation)
    n_ci, n_co = r.spread.shape
    phases = list(np.ndindex(*r.stride))
    gains = r.gains.reshape(n_ci, n_co, len(phases))
    pairs = list(np.ndindex(n_ci, n_co))[:max_pairs]
    with matplotlib_style() as mpl:
        width = min(12.0, max(7.0, 0.5 * len(pairs) * max(1, len(phases)) ** 0.5 + 4.5))
        fig = figure(width, 3.4)
        ax = place(fig, 0.65, 0.75, width * 0.58 - 0.65, 2.15)
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
        ax2 = place(fig, width * 0.64, 0.75, min(2.15, width * 0.3), 2.15)
        spread = r.spread
        vmax = float(spread.max()) or 1.0
        rgb = mpl.colormaps["magma_r"](0.05 + 0.8 * spread / vmax)[..., :3]
        ax2.imshow(rgb, interpolation="nearest", aspect="auto")
        ax2.set_xlim(-0.5, n_co - 0.5)
        ax2.set_ylim(n_ci - 0.5, -0.5)
        if n_ci * n_co <= 64:
            for (ci, co), s in np.ndenumerate(spread):
                ax2.text(co, ci, fmt(s) if s > r.tolerance else "0", ha="center", va="center",
                         fontsize=7 if n_ci * n_co <= 16 else 5, color=text_colour(rgb[ci, co]))
        if max(n_ci, n_co) <= 16:
            ax2.set_xticks(range(n_co))
            ax2.set_yticks(range(n_ci))
        ax2.set_xlabel("c_out")
        ax2.set_ylabel("c_in")
        ax2.set_title("spread (max - min gain)")
        verdict = "flat in, flat out" if r.flat else "checkerboard on flat regions"
        spread_text = fmt(r.max_spread) if not r.flat else "0"
        fig.suptitle(f"polyphase DC gain, stride {dims(r.stride)}: max spread {spread_text} — {verdict}", y=0.97)
    save(fig, path)
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
    y: npt.ArrayLike,
    stride: int | Sequence[int],
    *,
    axes: int | Sequence[int] | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
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
    path = check_path(path, func)
    energy = stride_frequency_energy(y, stride, axes)  # validates y, stride, axes
    _, (a,) = v.float_arrays(func, y=y)
    a = np.asarray(a, dtype=np.float64)
    ax_ = _spectrum_axes(a, stride, axes)
    if len(ax_) > 2:
        raise ValueError(f"{func}: at most 2 axes can be drawn, got {len(ax_)} analysed axes (give axes=...)")
    s = v.int_tuple(stride, len(ax_), func, "stride", minimum=1)
    crop = [slice(None)] * a.ndim
    for x, s_ in zip(ax_, s, strict=True):
        crop[x] = slice(0, a.shape[x] - a.shape[x] % s_)
    a = a[tuple(crop)]
    # annotated: numpy's stubs infer 0-d results for both
    moved: np.ndarray = np.moveaxis(a, ax_, tuple(range(a.ndim - len(ax_), a.ndim)))
    lead: np.ndarray = moved.reshape((-1,) + moved.shape[a.ndim - len(ax_):])
    power = (np.abs(np.fft.fftn(lead - lead.mean(axis=tuple(range(1, lead.ndim)), keepdims=True),
                                axes=tuple(range(1, lead.ndim)))) ** 2).sum(axis=0)
    sample = lead[0]
    title = f"power spectrum: {100 * energy:.1f}% at the stride frequencies"
    with matplotlib_style():
        fig = figure(9.0, 3.4)
        ax1 = place(fig, 0.6, 0.6, 3.6, 2.3)
        ax2 = place(fig, 5.0, 0.6, 3.6, 2.3)
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
    save(fig, path)
    return fig
