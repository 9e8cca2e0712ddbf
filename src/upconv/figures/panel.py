"""Grids of labelled cells drawn frame by frame into an Agg buffer, and GIF palettes (the animations' machinery)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from upconv.figures.style import ORANGE, cell_grid, font, place, text_colour

if TYPE_CHECKING:
    from types import ModuleType

    import numpy.typing as npt
    from matplotlib.figure import Figure
    from PIL.Image import Image as PILImage


class CellPanel:
    """One grid of cells, each with a colour and a label, redrawn only where it changed.

    Frames are drawn incrementally into the Agg buffer: cell colours are
    painted with NumPy, then the grid lines, outlines, box, spines and the
    labels of the cells concerned are drawn by matplotlib, clipped to the
    changed rectangle.  Every frame, the first included, is drawn the same
    way, so a frame does not depend on which frames came before it.
    """

    MARGIN = 4  # pixels beyond the grid redrawn at its edges (outlines and box are drawn over the border)

    def __init__(self, fig: Figure, rect: tuple[float, float, float, float], shape: tuple[int, int], cell_pt: float,
                 title: str) -> None:
        from matplotlib.patches import Rectangle

        self.Rectangle = Rectangle
        self.ax = place(fig, *rect)
        self.shape = shape
        self.cell_pt = cell_pt
        self.rgb = np.ones(shape + (3,))
        self.labels = np.full(shape, "", dtype=object)
        self.ink = np.full(shape, "black", dtype=object)
        self.box_cells: tuple[int, int, int, int] | None = None
        self.dirty = np.ones(shape, dtype=bool)
        self.image = self.ax.imshow(self.rgb, interpolation="nearest", aspect="equal")  # for the returned figure
        cell_grid(self.ax, shape, "0.6")
        self.ax.set_title(title, fontsize=8)
        self.texts = np.empty(shape, dtype=object)
        for r, c in np.ndindex(*shape):
            self.texts[r, c] = self.ax.text(c, r, "", ha="center", va="center", fontsize=6)
        self.box = Rectangle((-0.5, -0.5), 1, 1, fill=False, ec=ORANGE, lw=2.0, visible=False)
        self.ax.add_patch(self.box)

    def outline(self, rows: slice, cols: slice, **style: Any) -> None:
        """A static rectangle around the cells ``rows x cols``."""
        self.ax.add_patch(self.Rectangle((cols.start - 0.5, rows.start - 0.5), cols.stop - cols.start,
                                         rows.stop - rows.start, fill=False, **style))

    def set(self, rgb: npt.NDArray[np.floating[Any]], labels: npt.NDArray[np.object_],
            ink: npt.NDArray[np.object_] | None = None,
            box: tuple[int, int, int, int] | None = None) -> None:
        """New cell colours, labels, label colours and box ``(r0, r1, c0, c1)`` (inclusive) or None."""
        if ink is None:
            ink = np.empty(self.shape, dtype=object)
            for idx in np.ndindex(*self.shape):
                ink[idx] = text_colour(rgb[idx])
        changed = (rgb != self.rgb).any(axis=-1) | (labels != self.labels) | (ink != self.ink)
        if box != self.box_cells:
            for b in (box, self.box_cells):
                if b is not None:
                    changed[b[0] : b[1] + 1, b[2] : b[3] + 1] = True
        for r, c in zip(*np.nonzero(changed), strict=True):
            text = labels[r, c]
            fs = font(text, self.cell_pt, 8.5)
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

    def blit(self, buf: npt.NDArray[np.uint8]) -> None:
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
        overlay = [a for a in [*self.ax.collections, *self.ax.patches, *self.ax.spines.values()] if a.get_visible()]
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


def palette_image(Image: ModuleType, rgb: npt.NDArray[np.uint8]) -> PILImage:
    """``rgb`` as a 256-colour image (GIF); the background (the corner pixel, white) stays exactly white."""
    img = Image.fromarray(rgb).quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    palette = img.getpalette()
    white = img.getpixel((0, 0))
    palette[3 * white : 3 * white + 3] = [255, 255, 255]
    img.putpalette(palette)
    return img
