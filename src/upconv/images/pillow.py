"""Images decoded by Pillow (every format but the PNGs and TIFFs upconv or tifffile read), imported lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["image_module", "image_module_or_none", "read", "lossy_tiff", "TIFFFILE"]

#: How to get tifffile, which reads the TIFFs Pillow would read with fewer bits.
TIFFFILE = "pip install 'upconv[image]' (or pip install tifffile)"

# Pillow mode -> (mode to convert to, whether the file has alpha)
_CONVERSIONS = {
    "1": ("L", False),
    "L": ("L", False),
    "LA": ("LA", True),
    "La": ("LA", True),
    "I;16": ("I;16", False),
    "I;16L": ("I;16", False),
    "I;16B": ("I;16", False),
    "I;16N": ("I;16", False),
    "I": ("I", False),
    "RGB": ("RGB", False),
    "RGBX": ("RGB", False),
    "CMYK": ("RGB", False),
    "YCbCr": ("RGB", False),
    "LAB": ("RGB", False),
    "HSV": ("RGB", False),
    "RGBA": ("RGBA", True),
    "RGBa": ("RGBA", True),
    "PA": ("RGBA", True),
}



def image_module_or_none() -> ModuleType | None:
    """``PIL.Image``, or None when Pillow is not installed."""
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def image_module(func: str) -> ModuleType:
    """``PIL.Image``, or an ImportError that says what needs it."""
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - Pillow is installed here
        raise ImportError(
            f"{func}: reading and writing images needs Pillow: pip install 'upconv[image]' (or pip install pillow)"
        ) from exc
    return Image


def read(p: str, dtype: np.dtype[Any], func: str) -> tuple[np.ndarray, str, str, int, bool]:
    """``(samples (H, W, C), format, mode, bit depth, has alpha)`` of an image file decoded by Pillow."""
    Image = image_module(func)
    from PIL import ImageOps, UnidentifiedImageError

    try:
        with Image.open(p) as im:
            fmt = im.format or "unknown"
            mode = im.mode
            if fmt == "TIFF":
                lossy = lossy_tiff(im)
                if lossy is not None:
                    raise ValueError(f"{func}: cannot read {p!r}: {lossy}; reading it without losing bits "
                                     f"needs tifffile: {TIFFFILE}")
                if getattr(im, "n_frames", 1) > 1:
                    raise ValueError(f"{func}: cannot read {p!r}: the TIFF holds a stack of {im.n_frames} images; "
                                     "read_image reads one image")
            v.check_allocation((im.height, im.width, 4), dtype, func, "the image")
            im.load()
            im = ImageOps.exif_transpose(im)
            if mode in ("P", "PA"):
                has_alpha = mode == "PA" or "transparency" in im.info
                target = "RGBA" if has_alpha else "RGB"
            elif mode in _CONVERSIONS:
                target, has_alpha = _CONVERSIONS[mode]
                if mode in ("L", "RGB") and "transparency" in im.info:  # a tRNS colour key
                    target, has_alpha = {"L": "LA", "RGB": "RGBA"}[mode], True
            else:
                raise ValueError(
                    f"{func}: cannot read {p!r}: Pillow mode {mode!r} is not supported "
                    "(supported: gray, gray + alpha, RGB, RGBA, palette, CMYK; 1, 8 or 16 bits)"
                )
            if im.mode != target and not (target == "I;16" and im.mode.startswith("I;16")):
                im = im.convert(target)
            raw = np.asarray(im)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(f"{func}: cannot read {p!r}: {exc}") from exc
    if mode == "1":
        depth = 1
    elif target.startswith("I"):
        depth = 16
    else:
        depth = 8
    if target == "I" and raw.size and (raw.min() < 0 or raw.max() > 65535):
        raise ValueError(
            f"{func}: cannot read {p!r}: 32-bit integer samples outside [0, 65535] "
            f"(range {raw.min()}..{raw.max()}) are not supported"
        )
    if raw.ndim == 2:
        raw = raw[..., None]
    return raw, fmt, mode, depth, has_alpha


def lossy_tiff(im: Any) -> str | None:
    """Why Pillow would drop bits of the TIFF ``im`` (more than 8 bits in a colour mode, floats), or None."""
    tags = getattr(im, "tag_v2", None)
    if tags is None:
        return None
    bits = tags.get(258, (8,))
    bits = bits if isinstance(bits, tuple) else (bits,)
    formats = tags.get(339, (1,))
    formats = formats if isinstance(formats, tuple) else (formats,)
    if 3 in formats or im.mode == "F":
        return "it holds floating-point samples"
    if max(bits, default=8) > 8 and not im.mode.startswith("I"):
        return f"it has {max(bits)}-bit samples, which Pillow reads as 8 bits"
    return None
