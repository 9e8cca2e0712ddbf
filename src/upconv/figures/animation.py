"""GIF animations of a transposed convolution: kernel stamping, or zero insertion and a sliding flipped kernel."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.figures.style import (
    _BLANK,
    _CROPPED,
    _INPUT,
    _INSERTED,
    _KERNEL,
    _ORANGE,
    _PADDING,
    ANIMATION_DPI,
    MAX_CELLS,
    MAX_FRAMES,
    _as2d,
    _blend,
    _cell_grid,
    _check_path,
    _dims,
    _figure,
    _fmt,
    _font,
    _index_label,
    _ink,
    _place,
    _style,
)
from upconv.ops.convolution import conv, conv_transpose

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
