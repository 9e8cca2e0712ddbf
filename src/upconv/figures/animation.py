"""GIF animations of a transposed convolution: kernel stamping, or zero insertion and a sliding flipped kernel."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv._files import atomic_write
from upconv.explain import views
from upconv.explain.views import pixel_label
from upconv.figures.panel import CellPanel, palette_image
from upconv.figures.style import (
    ANIMATION_DPI,
    BLANK_CELL,
    CROPPED_CELL,
    INPUT_CELL,
    INSERTED_CELL,
    KERNEL_CELL,
    MAX_CELLS,
    MAX_FRAMES,
    ORANGE,
    PADDING_CELL,
    as2d,
    blend,
    check_path,
    dims,
    figure,
    fmt,
    matplotlib_style,
)

if TYPE_CHECKING:
    from types import ModuleType

    import numpy.typing as npt
    from matplotlib.figure import Figure
    from PIL.Image import Image as PILImage

# --------------------------------------------------------------------------
# animations

#: The colour of each kind of cell of the zero-inserted input (:data:`upconv.explain.views.CELL_KINDS`).
_KIND_COLOURS = np.array([{"padding": PADDING_CELL, "inserted zero": INSERTED_CELL, "input pixel": INPUT_CELL,
                           "cropped": CROPPED_CELL}[kind] for kind in views.CELL_KINDS])
_INPUT_PIXEL, _CROPPED = views.CELL_KINDS.index("input pixel"), views.CELL_KINDS.index("cropped")


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
    figure: Figure


def _value_array(func: str, name: str, value: npt.ArrayLike | None, shape: tuple[int, ...],
                 default: str) -> npt.NDArray[np.float64]:
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
    x: npt.ArrayLike | None = None,
    weight: npt.ArrayLike | None = None,
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
    ``sum_t flip(w)[t] z[o + t*d]``.  Both are drawn from
    :func:`upconv.explain.views.stamping_view` and
    :func:`~upconv.explain.views.zero_insertion_view`.

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
    path = check_path(path, func, ("gif",))
    view = v.choice(view, ("stamping", "zero_insertion"), func, "view")
    (fps,) = v.float_tuple(fps, 1, func, "fps", positive=True)
    if fps > 50:
        raise ValueError(f"{func}: fps must be at most 50 (GIF timing is in hundredths of a second), got {fps}")
    if isinstance(in_size, (Sequence, np.ndarray)) and not isinstance(in_size, (str, bytes)):
        if len(in_size) == 0:
            raise ValueError(f"{func}: in_size must have at least one spatial axis, got {in_size!r}")
        size = v.int_tuple(tuple(in_size), len(in_size), func, "in_size", minimum=1)
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
                f"{func}: the {name} has {dims(shape)} cells, more than {MAX_CELLS} along an axis; "
                "use a smaller configuration"
            )
    xs = _value_array(func, "x", x, size, "arange")
    w = _value_array(func, "weight", weight, k, "ones")
    params = dict(stride=g.stride, padding=padding, output_padding=output_padding, dilation=g.dilation)
    if view == "stamping":
        frames = _stamping_frames(views.stamping_view(xs, w, **params))
    else:
        frames = _zero_insertion_frames(views.zero_insertion_view(xs, w, **params))
    fig, images = _render(frames, g)
    duration = max(20, int(round(1000 / fps / 10)) * 10)
    durations = [duration] * (len(images) - 1) + [3 * duration]
    with atomic_write(path) as f:  # an interrupted write leaves the old file
        images[0].save(f, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0,
                       optimize=False, disposal=1)
    return ConvTransposeAnimation(path, view, len(images), tuple(frames["shown"]), frames["output"], frames["crop"],
                                  fig)


def _grid_shapes(g: shapes.ConvGeometry, view: str) -> dict[str, tuple[int, ...]]:
    """The grids an animation draws, per axis: input, kernel and canvas, or zero-inserted input and output."""
    if view == "stamping":
        return {"input": g.out_size, "kernel": g.kernel_size, "output canvas": shapes.stamping_canvas(g)[0]}
    drawn = shapes.zero_insertion_canvas(g)[0]
    return {"zero-inserted, padded input": drawn, "flipped kernel": g.kernel_size, "output": g.in_size}


def _stamping_frames(view: views.StampingView) -> dict[str, Any]:
    """Per frame: the canvas of the stamps so far, their overlap count, the current stamp and input pixel."""
    c = view.config
    x, w = c.x, c.weight
    pixels = [tuple(int(i) for i in j) for j in view.pixels]
    # stamping_view computes the steps by default: not None
    sums, counts = cast("tuple[np.ndarray, np.ndarray]", (view.partial_sums, view.partial_overlaps))
    reach = cast("np.ndarray", view.reach)
    shown = [np.full(view.canvas_size, np.nan)]
    shown += [np.where(counts[i] > 0, sums[i], np.nan) for i in range(1, len(pixels) + 1)]
    shown.append(sums[-1])  # the result: 0 where no stamp reached
    notes = [f"kernel stamping: each input pixel j adds x[j]·w at j·s (stride {dims(c.stride)})"]
    notes += [f"stamp x[{pixel_label(j)}] = {fmt(x[j])} times w, starting at ({pixel_label(start)})"
              for j, start in zip(pixels, view.starts, strict=True)]
    extended = " plus output_padding zeros at the end" if any(e < 0 for _, e in c.geometry.padding) else ""
    crops = any(p > 0 for pair in c.padding for p in pair)
    cropped = "the canvas cropped by the padding" if crops else "the canvas"
    notes.append(f"result ({dims(c.out_size)}): {cropped}{extended} (dashed box)")
    return {
        "view": "stamping", "shown": shown, "counts": list(counts) + [counts[-1]],
        "current": [None, *reach, None], "pixel": [None, *pixels, "done"],
        "notes": notes, "crop": view.crop_slices, "x": x, "w": w, "output": c.output,
        "grids": {"input": as2d(x).shape, "kernel": as2d(w).shape, "output canvas": as2d(view.canvas).shape},
        "legend": "blue: stamps so far (darker = more overlap) · orange: this stamp · dashed: the output kept",
    }


def _zero_insertion_frames(view: views.ZeroInsertionView) -> dict[str, Any]:
    """Per frame: the output computed so far and the window of the flipped kernel on the padded input."""
    c = view.config
    outputs = list(np.ndindex(*c.out_size))
    shown = [np.full(c.out_size, np.nan)]
    windows: list[tuple[np.ndarray, ...] | None] = [None]
    notes = [
        f"zero insertion: {dims(tuple(s - 1 for s in c.stride))} zeros between pixels, pad "
        + ", ".join(f"{b}/{e}" for b, e in view.insertion_padding) + " (negative: crop), then slide the flipped kernel"
    ]
    out = np.full(c.out_size, np.nan)
    for i, o in enumerate(outputs):
        out = out.copy()
        out[o] = view.output[o]
        shown.append(out)
        windows.append(view.window(i))
        notes.append(f"output ({pixel_label(o)}) = sum of flipped kernel × window = {fmt(view.output[o])}")
    shown.append(out)
    windows.append(None)
    notes.append(f"result: {dims(c.out_size)}, the same as kernel stamping")
    return {
        "view": "zero_insertion", "shown": shown, "windows": windows, "notes": notes,
        "crop": tuple(slice(0, o) for o in c.out_size), "drawn": view.canvas, "kind": view.kind,
        "used": view.used_slices, "outputs": [None] + outputs + [None], "flipped": view.flipped,
        "x": c.x, "w": c.weight, "output": c.output,
        "grids": {"zero-inserted, padded input": as2d(view.canvas).shape, "flipped kernel": as2d(c.weight).shape,
                  "output": as2d(out).shape},
        "legend": "yellow: input pixels · grey: inserted zeros · light: padding"
                  + (" · dark: cropped (negative padding)" if (view.kind == _CROPPED).any() else ""),
    }


def _labels(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, dtype=object)
    for idx, val in np.ndenumerate(a):
        out[idx] = "" if np.isnan(val) else fmt(val)
    return out


def _render(frames: dict[str, Any], g: shapes.ConvGeometry) -> tuple[Figure, list[PILImage]]:
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
    with matplotlib_style() as mpl:
        fig = figure(width, height, ANIMATION_DPI)
        canvas = FigureCanvasAgg(fig)
        names = [f"{t} ({dims(shape if not vertical else (shape[1],))})"
                 for t, shape in zip(titles, grids, strict=True)]
        panels = [CellPanel(fig, rect, shape, cell * 72, name)
                  for rect, shape, name in zip(rects, grids, names, strict=True)]
        note = fig.text(0.5, 1 - 0.3 / height, "", ha="center", va="center", fontsize=9.5)
        fig.text(0.5, 0.2 / height, frames["legend"], ha="center", va="center", fontsize=7, color="0.3")
        setup, draw = _VIEWS[frames["view"]]
        setup(frames, panels)
        canvas.draw()  # the static parts: titles, legend; every cell is drawn by CellPanel.blit
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
            images.append(palette_image(Image, buf[..., :3].copy()))
    return fig, images


def _idx2(j: tuple[int, ...]) -> tuple[int, int]:
    return (0, j[0]) if len(j) == 1 else (j[0], j[1])


def _slices2(sl: tuple[slice, ...]) -> tuple[slice, slice]:
    return (slice(0, 1), sl[0]) if len(sl) == 1 else (sl[0], sl[1])


def _setup_stamping(frames: dict[str, Any], panels: list[CellPanel]) -> None:
    _, ker, out = panels
    w2 = as2d(frames["w"])
    ker.set(np.broadcast_to(np.array(KERNEL_CELL), w2.shape + (3,)).copy(), _labels(w2))
    rows, cols = _slices2(frames["crop"])
    out.outline(rows, cols, ec="crimson", lw=1.6, ls="--")


def _draw_stamping(frames: dict[str, Any], i: int, panels: list[CellPanel], mpl: ModuleType) -> None:
    inp, _, out = panels
    x2 = as2d(frames["x"])
    pixel = frames["pixel"][i]
    flat = list(np.ndindex(*frames["x"].shape))
    upto = len(flat) if pixel == "done" else (0 if pixel is None else flat.index(pixel) + 1)
    rgb = np.full(x2.shape + (3,), 0.96)
    for j in flat[:upto]:
        rgb[_idx2(j)] = INPUT_CELL
    box = None
    if pixel not in (None, "done"):
        r, c = _idx2(pixel)
        rgb[r, c] = ORANGE
        box = (r, r, c, c)
    inp.set(rgb, _labels(x2), box=box)
    count = as2d(frames["counts"][i])
    top = max(int(frames["counts"][-1].max()), 1)
    colours = mpl.colormaps["Blues"](0.12 + 0.55 * count / top)[..., :3]
    colours[count == 0] = BLANK_CELL
    current = frames["current"][i]
    box = None
    if current is not None:
        reach = as2d(current)
        colours = blend(colours, ORANGE, 0.55, reach)
        rows, cols = np.nonzero(reach)
        box = (rows.min(), rows.max(), cols.min(), cols.max())
    if pixel == "done":
        kept = np.zeros(count.shape, dtype=bool)
        kept[_slices2(frames["crop"])] = True
        colours = blend(colours, CROPPED_CELL, 0.75, ~kept)
    out.set(colours, _labels(as2d(frames["shown"][i])), box=box)


def _setup_zero_insertion(frames: dict[str, Any], panels: list[CellPanel]) -> None:
    zin, ker, _ = panels
    flipped = as2d(frames["flipped"])
    ker.set(np.broadcast_to(np.array(KERNEL_CELL), flipped.shape + (3,)).copy(), _labels(flipped))
    if (frames["kind"] == _CROPPED).any():
        rows, cols = _slices2(frames["used"])
        zin.outline(rows, cols, ec="crimson", lw=1.4, ls="--")


def _draw_zero_insertion(frames: dict[str, Any], i: int, panels: list[CellPanel], mpl: ModuleType) -> None:
    zin, _, out = panels
    kind = as2d(frames["kind"])
    colours = _KIND_COLOURS[kind]
    labels = _labels(as2d(frames["drawn"]))
    ink = np.where(kind == _INPUT_PIXEL, "black", "0.45").astype(object)
    ink[kind == _CROPPED] = "0.8"
    window = frames["windows"][i]
    box = None
    if window is not None:
        taps = tuple(window) if len(window) == 2 else (np.array([0]),) + tuple(window)
        mask = np.zeros(kind.shape, dtype=bool)
        mask[np.ix_(*taps)] = True
        colours = blend(colours, ORANGE, 0.6, mask)
        ink[mask] = "black"
        box = (taps[0].min(), taps[0].max(), taps[1].min(), taps[1].max())
    zin.set(colours, labels, ink, box)
    shown = as2d(frames["shown"][i])
    final = frames["shown"][-1]
    lo, hi = float(np.nanmin(final)), float(np.nanmax(final))
    colours = mpl.colormaps["Blues"](0.12 + 0.55 * (np.nan_to_num(shown, nan=lo) - lo) / (hi - lo if hi > lo else 1.0))
    colours = colours[..., :3]
    colours[np.isnan(shown)] = BLANK_CELL
    box = None
    if window is not None:
        r, c = _idx2(frames["outputs"][i])
        colours[r, c] = ORANGE
        box = (r, r, c, c)
    out.set(colours, _labels(shown), box=box)


_VIEWS = {
    "stamping": (_setup_stamping, _draw_stamping),
    "zero_insertion": (_setup_zero_insertion, _draw_zero_insertion),
}
