"""Aligned plain-text tables for the CLI commands, with optional ANSI colour per cell (no numerics).

Numbers are right-aligned and text left-aligned; colour codes are added
after the padding, so columns stay aligned on a terminal.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

__all__ = ["STYLES", "number", "paint", "table", "verdict_style"]

#: ANSI styles by name.
STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def paint(text: str, style: str | None, color: bool) -> str:
    """``text`` in ``style`` (a key of :data:`STYLES`) when ``color`` is on."""
    if not color or not style:
        return text
    return f"\033[{STYLES[style]}m{text}\033[0m"


def number(x: Any) -> str:
    """Integers as integers, other floats with 4 significant digits, infinity as ``inf``."""
    if isinstance(x, numbers.Integral):
        return str(int(x))
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == round(x) and abs(x) < 1e15:
        return str(int(round(x)))
    return f"{x:.4g}"


def verdict_style(verdict: str) -> str:
    """Colour of a checkerboard verdict: green artifact-free, yellow checkerboard, red holes."""
    return {"artifact-free": "green", "checkerboard": "yellow", "holes": "red"}.get(verdict, "")


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    styles: Sequence[Sequence[str | None]] | None = None,
    color: bool = False,
    gap: int = 2,
) -> list[str]:
    """Lines of an aligned table: the header, a rule of dashes, then the rows.

    ``styles[i][j]`` colours cell ``j`` of row ``i`` (when ``color``).
    """
    text = [[number(c) if isinstance(c, numbers.Number) else str(c) for c in row] for row in rows]
    numeric = [bool(rows) and all(isinstance(row[j], numbers.Number) for row in rows) for j in range(len(headers))]
    widths = [max([len(h)] + [len(r[j]) for r in text]) for j, h in enumerate(headers)]
    sep = " " * gap

    def line(cells: Sequence[str], row_styles: Sequence[str | None] | None) -> str:
        parts = []
        for j, (c, w) in enumerate(zip(cells, widths)):
            last = j == len(widths) - 1
            padded = c.rjust(w) if numeric[j] else (c if last else c.ljust(w))
            parts.append(paint(padded, row_styles[j] if row_styles else None, color))
        return sep.join(parts).rstrip()

    out = [line(headers, None), sep.join("-" * w for w in widths)]
    for i, r in enumerate(text):
        out.append(line(r, styles[i] if styles else None))
    return out
