"""PNG scanline unfiltering (compiled C: ``csrc/png.c``), for :mod:`upconv.images.files`'s 16-bit PNG decoder.

Used only for files with the Average or Paeth filters (whose recurrences do not vectorise); built at
install, loaded on first use.

``unfilter(types, rows, bpp)``
    Undo the PNG filters in place: ``rows[y]`` (``(h, n)`` uint8) was filtered with ``types[y]``
    (uint8, 0 None .. 4 Paeth), ``bpp`` bytes per pixel.
"""

from __future__ import annotations

from upconv.kernels import _native

unfilter = _native.unfilter
