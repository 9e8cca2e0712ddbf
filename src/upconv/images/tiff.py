"""TIFF files without silent loss of bits: read with tifffile when it is installed.

Pillow reads a 16-bit RGB TIFF as 8-bit (it has no 16-bit colour mode) and
cannot read float or multi-sample float TIFFs; tifffile (in the ``[image]``
extra) reads every bit.  :func:`read_tiff` reads one gray, gray + alpha,
RGB or RGBA image of unsigned 8/16-bit or float samples; a stack of images
(more than one page, or extra axes) is refused rather than cut to its first
image.  Without tifffile, :func:`upconv.images.pillow.lossy_tiff` refuses
the TIFFs Pillow would read with fewer bits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["TIFF_SIGNATURES", "tifffile_or_none", "read_tiff"]

#: The first four bytes of a TIFF (little- and big-endian) or BigTIFF file.
TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_BASE = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def tifffile_or_none() -> ModuleType | None:
    """The tifffile module, or None when it is not installed."""
    try:
        import tifffile
    except ImportError:
        return None
    return tifffile


def read_tiff(p: str, func: str, tifffile: ModuleType) -> tuple[np.ndarray, str, int, bool] | None:
    """``(samples (H, W, C), mode, bit depth, has alpha)`` of a TIFF, or None for what Pillow should read.

    Palette, CMYK, YCbCr and other photometric interpretations than gray
    and RGB go to Pillow (8-bit data), and so do integer samples other
    than 8 and 16 bits (Pillow's mode ``"I"``); stacks and complex data
    raise ValueError.
    """
    try:
        with tifffile.TiffFile(p) as tf:
            series = tf.series[0]
            page = series.pages[0] if series.pages else tf.pages[0]
            photometric = int(page.photometric)
            if photometric not in (int(tifffile.PHOTOMETRIC.MINISBLACK), int(tifffile.PHOTOMETRIC.RGB)):
                return None
            shape, axes, dtype = tuple(series.shape), series.axes, np.dtype(series.dtype)
            pages = len(tf.pages)
            kept = [(a, n) for a, n in zip(axes, shape, strict=True) if a in "YXS" or n != 1]
            layout = "".join(a for a, _ in kept)
            if pages > 1 or layout not in ("YX", "YXS", "SYX"):
                raise ValueError(
                    f"{func}: cannot read {p!r}: the TIFF holds a stack of images ({pages} page(s), axes "
                    f"{axes!r}, shape {shape}); read_image reads one image: use tifffile.imread for stacks"
                )
            if dtype.kind in "iu" and dtype not in (np.uint8, np.uint16):
                return None  # Pillow's mode "I" (32-bit) and its range check, or its refusal
            if dtype.kind not in "fb" and dtype not in (np.uint8, np.uint16):
                raise ValueError(
                    f"{func}: cannot read {p!r}: TIFF samples of type {dtype} are not supported "
                    "(supported: unsigned 8 or 16 bits, float)"
                )
            dims = [n for _, n in kept]
            channels = 1 if layout == "YX" else (dims[2] if layout == "YXS" else dims[0])
            if channels not in _BASE:
                raise ValueError(f"{func}: cannot read {p!r}: {channels} samples per pixel are not supported "
                                 "(supported: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA)")
            height, width = (dims[0], dims[1]) if layout != "SYX" else (dims[1], dims[2])
            v.check_allocation((height, width, channels), dtype, func, "the image")
            data: Any = series.asarray()
    except (OSError, tifffile.TiffFileError, KeyError, IndexError) as exc:
        raise ValueError(f"{func}: cannot read {p!r}: {exc}") from exc
    data = data.reshape([n for _, n in kept])
    if layout == "SYX":
        data = np.moveaxis(data, 0, -1)
    elif layout == "YX":
        data = data[..., None]
    has_alpha = channels in (2, 4)
    if dtype.kind == "f":
        return data, f"{_BASE[channels]};float{dtype.itemsize * 8}", dtype.itemsize * 8, has_alpha
    depth = {np.dtype(np.bool_): 1, np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}[dtype]
    if depth == 1:
        data = data.astype(np.uint8) * np.uint8(255)
    mode = _BASE[channels] if depth <= 8 else ("I;16" if channels == 1 else f"{_BASE[channels]};16")
    return data, mode, depth, has_alpha
