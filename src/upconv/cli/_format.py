"""Plain-text layout helpers shared by the CLI commands (no numerics).

Arrays are printed as right-aligned grids (integers without ``.0`` when
every value is integral), several grids side by side when they fit in the
terminal width, 3-d and larger arrays as labelled 2-d slices, and only their
shape when they are too large.  :class:`Printer` adds ANSI bold headers when
stdout is a terminal and ``NO_COLOR`` is unset, and falls back to ASCII when
stdout cannot encode the few Unicode symbols used.  The cells and grids
themselves come from :mod:`upconv.explain.report`, shared with the library.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

import numpy as np

from upconv.explain.report import cells, grid, is_integral

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["WIDTH", "Printer", "cells", "grid", "side_by_side", "array_lines", "join_dims", "image_size",
           "size_json", "IMAGE_KINDS"]

#: Channels of an image -> what the messages call it.
IMAGE_KINDS = {1: "gray", 2: "gray+alpha", 3: "RGB", 4: "RGBA"}

#: Target line width (an 80-column terminal, minus a margin).
WIDTH = 78
#: Arrays with more elements than this are summarised by their shape.
MAX_ELEMENTS = 1000

_ASCII = str.maketrans({"ᵀ": "^T", "·": "*", "≡": "=", "×": "x", "…": "...", "→": "->", "—": "-"})


class Printer:
    """Write lines to a stream, with optional bold headers and an ASCII fallback."""

    def __init__(self, stream: TextIO | None = None, color: bool | None = None) -> None:
        self.stream = sys.stdout if stream is None else stream
        if color is None:
            isatty = getattr(self.stream, "isatty", None)
            color = bool(isatty and isatty()) and "NO_COLOR" not in os.environ
        self.color = color
        self._started = False
        encoding = getattr(self.stream, "encoding", None) or "ascii"
        try:
            "ᵀ·≡×…→—".encode(encoding)
            self.ascii = False
        except (UnicodeEncodeError, LookupError):
            self.ascii = True

    def __call__(self, line: str = "") -> None:
        if self.ascii:
            line = line.translate(_ASCII)
        print(line.rstrip(), file=self.stream)
        self._started = True

    def lines(self, lines: Sequence[str], indent: int = 0) -> None:
        for line in lines:
            self(" " * indent + line)

    def wrap(self, text: str, indent: int = 2) -> None:
        """Print ``text`` as a paragraph wrapped to :data:`WIDTH` columns."""
        self.lines(textwrap.wrap(text, WIDTH - indent), indent)

    def header(self, text: str) -> None:
        """A blank line (except at the top), then ``text`` in bold when colour is on."""
        if self._started:
            self()
        self(f"\033[1m{text}\033[0m" if self.color else text)


def join_dims(values: Sequence[int]) -> str:
    """``(5, 5) -> "5 x 5"``."""
    return " × ".join(str(v) for v in values)


def image_size(shape: Sequence[int]) -> str:
    """The size of an image of shape ``(..., H, W)`` as every image message writes it: width × height, ``"451×300"``.

    Width first, as ``--size WxH``, Pillow, ImageMagick and image viewers
    say it; array shapes (``explain``, ``checkerboard``) keep NumPy's axis
    order (:func:`join_dims`).
    """
    h, w = shape[-2:]
    return f"{w}×{h}"


def size_json(shape: Sequence[int]) -> dict[str, int]:
    """``{"width": W, "height": H}`` of an image of shape ``(..., H, W)``, for --json."""
    return {"width": int(shape[-1]), "height": int(shape[-2])}


def side_by_side(blocks: Sequence[tuple[str, list[str]]], width: int = WIDTH, gap: int = 4) -> list[str]:
    """Lay out ``(title, lines)`` blocks left to right, wrapping to new rows at ``width``."""
    out: list[str] = []
    row: list[tuple[str, list[str]]] = []
    used = 0

    def flush() -> None:
        if not row:
            return
        widths = [max([len(t)] + [len(x) for x in ls]) for t, ls in row]
        height = max(len(ls) for _, ls in row)
        if out:
            out.append("")
        out.append((" " * gap).join(t.ljust(w) for (t, _), w in zip(row, widths, strict=False)).rstrip())
        for i in range(height):
            parts = [(ls[i] if i < len(ls) else "").ljust(w) for (_, ls), w in zip(row, widths, strict=False)]
            out.append((" " * gap).join(parts).rstrip())

    for title, lines in blocks:
        w = max([len(title)] + [len(x) for x in lines])
        if row and used + gap + w > width:
            flush()
            row, used = [], 0
        used = w if not row else used + gap + w
        row.append((title, lines))
    flush()
    return out


def array_lines(a: npt.ArrayLike, width: int = WIDTH, mask: np.ndarray | None = None) -> list[str]:
    """Lines showing ``a``: a grid (n <= 2), labelled 2-d slices (n >= 3), or only its shape when large."""
    a = np.asarray(a, dtype=float)
    too_large = [f"({join_dims(a.shape)} array, too large to print here)"]
    if a.size > MAX_ELEMENTS:
        return too_large
    if a.ndim <= 2:
        lines = grid(a, mask)
        if a.ndim == 1 and len(lines[0]) > width:  # wrap a long row, each piece labelled by its first index
            text = grid(a, mask)[0].split()
            cell = max(map(len, text))
            label = len(str(a.size - 1)) + 2
            per = max(1, (width - label + 1) // (cell + 1))
            return [f"{f'{i}:':>{label - 1}} " + " ".join(t.rjust(cell) for t in text[i : i + per])
                    for i in range(0, a.size, per)]
        return too_large if max(map(len, lines)) > width else lines
    integral = is_integral(a)
    cell_width = max((len(t) for t in cells(a, integral).ravel()), default=1)
    blocks = []
    for lead in np.ndindex(*a.shape[:-2]):
        title = "[" + ", ".join(str(i) for i in lead) + ", :, :]"
        sub_mask = None if mask is None else np.asarray(mask)[lead]
        blocks.append((title, grid(a[lead], sub_mask, width=cell_width, integral=integral)))
    lines = side_by_side(blocks, width)
    return too_large if max(map(len, lines)) > width else lines
