"""Compiled PNG scanline unfiltering (numba), for :mod:`upconv.images.files`'s 16-bit PNG decoder.

Imported lazily, only for files that use the Average or Paeth filters (whose
recurrences do not vectorise); compiled on first use and cached on disk.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def unfilter(types: np.ndarray, rows: np.ndarray, bpp: int) -> None:  # pragma: no cover - compiled
    """Undo the PNG filters in place: ``rows[y]`` was filtered with ``types[y]`` (0 None .. 4 Paeth).

    Arithmetic is modulo 256 on bytes; ``a`` is the byte ``bpp`` to the left,
    ``b`` the byte above, ``c`` the byte above ``a`` (zero outside the image).
    """
    h, n = rows.shape
    for y in range(h):
        t = types[y]
        for i in range(n):
            a = np.int32(rows[y, i - bpp]) if i >= bpp else np.int32(0)
            b = np.int32(rows[y - 1, i]) if y > 0 else np.int32(0)
            c = np.int32(rows[y - 1, i - bpp]) if (y > 0 and i >= bpp) else np.int32(0)
            if t == 0:
                pred = np.int32(0)
            elif t == 1:
                pred = a
            elif t == 2:
                pred = b
            elif t == 3:
                pred = (a + b) // 2
            else:
                p = a + b - c
                pa = abs(p - a)
                pb = abs(p - b)
                pc = abs(p - c)
                if pa <= pb and pa <= pc:
                    pred = a
                elif pb <= pc:
                    pred = b
                else:
                    pred = c
            rows[y, i] = np.uint8((np.int32(rows[y, i]) + pred) & 255)
