"""Plain text for results: aligned tables, number cells, integer grids, optional ANSI colour (no numerics).

One formatter for the library's result objects (``str(upconv.plan(7, 14))``,
``str(upconv.overlap_map(3, 2))``, the studies' tables) and for the command
line, which adds colour.  Numbers are right-aligned and text left-aligned;
colour codes are added after the padding, so columns stay aligned on a
terminal.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, SupportsFloat

import numpy as np

__all__ = ["STYLES", "paint", "styled", "verdict_style", "number", "table", "is_integral", "cells", "grid",
           "grid_text"]

#: ANSI styles by name.
STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def paint(text: str, style: str | None, color: bool) -> str:
    """``text`` in ``style`` (a key of :data:`STYLES`) when ``color`` is on."""
    if not color or not style:
        return text
    return f"\033[{STYLES[style]}m{text}\033[0m"


def styled(styles: Sequence[Sequence[str | None]], color: bool) -> Callable[[str, int, int], str]:
    """A :func:`table` ``style``: cell ``j`` of row ``i`` painted in ``styles[i][j]`` when ``color`` is on."""
    return lambda text, i, j: paint(text, styles[i][j], color)


def verdict_style(verdict: str) -> str:
    """Colour of a checkerboard verdict: green artifact-free, yellow checkerboard, red holes."""
    return {"artifact-free": "green", "checkerboard": "yellow", "holes": "red"}.get(verdict, "")


def number(x: SupportsFloat) -> str:
    """Integers as integers, other floats with 4 significant digits, infinity as ``inf``."""
    if isinstance(x, numbers.Integral):
        return str(int(x))
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == round(x) and abs(x) < 1e15:
        return str(int(round(x)))
    return f"{x:.4g}"


def _is_number(x: object) -> bool:
    return isinstance(x, numbers.Number) and not isinstance(x, (bool, np.bool_))


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    align: str | None = None,
    style: Callable[[str, int, int], str] | None = None,
    gap: int = 2,
) -> list[str]:
    """Lines of an aligned table: the header, a rule of dashes, then the rows.

    Numbers are written by :func:`number`, anything else by ``str``.
    ``align`` has one ``"<"`` (left) or ``">"`` (right) per column; by
    default the columns holding only numbers go right, the others left.
    ``style(padded_text, i, j)`` may decorate cell ``j`` of row ``i`` (the
    header and the rule are not styled), e.g. :func:`styled`.

    Examples
    --------
    >>> from upconv.explain.report import table
    >>> print("\\n".join(table(("layer", "ratio"), [("k3 s2", 2.0), ("k4 s2", 1.0)])))
    layer  ratio
    -----  -----
    k3 s2      2
    k4 s2      1
    """
    text = [[number(c) if _is_number(c) else str(c) for c in row] for row in rows]
    if align is None:
        align = "".join(">" if rows and all(_is_number(row[j]) for row in rows) else "<" for j in range(len(headers)))
    widths = [max([len(h)] + [len(r[j]) for r in text]) for j, h in enumerate(headers)]
    sep = " " * gap

    def line(cells_: Sequence[str], i: int | None) -> str:
        parts = []
        for j, (c, w) in enumerate(zip(cells_, widths, strict=False)):
            last = j == len(widths) - 1
            padded = c.rjust(w) if align[j] == ">" else (c if last else c.ljust(w))
            parts.append(padded if style is None or i is None else style(padded, i, j))
        return sep.join(parts).rstrip()

    return [line(headers, None), sep.join("-" * w for w in widths)] + [line(r, i) for i, r in enumerate(text)]


def is_integral(a: np.ndarray) -> bool:
    """Whether every value of ``a`` is an integer that a float64 holds exactly."""
    return bool(a.size == 0 or (np.all(np.isfinite(a)) and np.all(a == np.round(a)) and np.abs(a).max() < 2**53))


def cells(a: np.ndarray, integral: bool | None = None) -> np.ndarray:
    """The values of ``a`` as strings: integers when all values are integral, else 4 significant digits."""
    a = np.asarray(a, dtype=float)
    if integral is None:
        integral = is_integral(a)
    if integral:
        flat = [str(int(v)) for v in a.ravel()]
    else:
        flat = [f"{v:.4g}" for v in a.ravel()]
    return np.array(flat, dtype=object).reshape(a.shape)


def grid(
    a: np.ndarray,
    mask: np.ndarray | None = None,
    blank: str = ".",
    width: int = 1,
    integral: bool | None = None,
) -> list[str]:
    """Right-aligned rows of a 0-, 1- or 2-d array; cells where ``mask`` is False show ``blank``.

    Every cell is at least ``width`` characters wide; ``integral`` forces the
    number format (see :func:`cells`).
    """
    a = np.asarray(a, dtype=float)
    if a.ndim > 2:
        raise ValueError(f"grid: expected at most 2 dimensions, got shape {a.shape}")
    shape2 = (1,) * (2 - a.ndim) + a.shape
    text = cells(a, integral).reshape(shape2)
    if mask is not None:
        text = np.where(np.asarray(mask).reshape(shape2), text, blank)
    width = max([width] + [len(t) for t in text.ravel()])
    return [" ".join(t.rjust(width) for t in row) for row in text]


def grid_text(a: np.ndarray) -> str:
    """An array as right-aligned rows (1-d: one row; n-d: its 2-d slices, each under an ``[i, :, :]`` label)."""
    if a.ndim <= 2:
        return "\n".join(grid(a))
    return "\n".join(f"[{', '.join(map(str, idx))}, :, :]\n" + grid_text(a[idx]) for idx in np.ndindex(*a.shape[:-2]))
