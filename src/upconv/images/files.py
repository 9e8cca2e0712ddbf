"""Reading and writing image files as float arrays in ``[0, 1]``.

:func:`read_image` and :func:`write_image` are what the image commands of
the CLI (``upconv resize``, ``compare``, ...) use; they convert between files
and upconv's channel-first layout:

================  ============================================================
``(H, W)``        gray
``(C, H, W)``     ``C`` = 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA
================  ============================================================

``(C, H, W)`` is an unbatched ``(C, *spatial)`` input of the operators, so
``upconv.interpolate(img[None], scale_factor=2, mode="bicubic")[0]`` resizes
an RGB image.

Files are decoded by Pillow (imported when a function is called, never at
``import upconv``), except 16-bit PNGs, which this module decodes and encodes
itself: Pillow reads 16-bit RGB(A) and gray+alpha PNGs as 8-bit, so it would
lose the low byte.

The module is named ``image_io`` rather than ``io`` (the standard library's
module) or ``imageio`` (a popular third-party package) so that neither name
is shadowed, even in appearance.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v

if TYPE_CHECKING:
    from types import ModuleType

    import numpy.typing as npt

__all__ = ["ImageInfo", "read_image", "write_image", "ALPHA_MODES"]

#: What :func:`read_image` does with an alpha channel.
ALPHA_MODES = ("drop", "keep")

# ITU-R BT.601 luma weights (Pillow's ``convert("L")``), applied in float64.
_LUMA = np.array([0.299, 0.587, 0.114])

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type -> channels (0 gray, 2 RGB, 4 gray + alpha, 6 RGBA; 3, palette, is left to Pillow)
_PNG_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}
_PNG_COLOR_TYPE = {1: 0, 3: 2, 2: 4, 4: 6}
_PNG_MODE_NAMES = {0: "I;16", 2: "RGB;16", 4: "LA;16", 6: "RGBA;16"}
# Adam7 passes: (x start, y start, x step, y step)
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_IDAT_CHUNK = 1 << 20

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


@dataclass(frozen=True)
class ImageInfo:
    """What :func:`read_image` found in a file.

    Attributes
    ----------
    path : str
        The file read.
    format : str
        Pillow's format name (``"PNG"``, ``"JPEG"``, ...).
    mode : str
        The file's pixel mode: Pillow's mode name (``"L"``, ``"RGB"``,
        ``"I;16"``, ``"P"``, ...), or ``"RGB;16"``, ``"RGBA;16"``,
        ``"LA;16"``, ``"I;16"`` for 16-bit PNGs.
    bit_depth : int
        Bits per sample in the file: 1, 8 or 16 (8 for palette images).
    channels : int
        Channels in the file, alpha included (1, 2, 3 or 4; 3 or 4 for
        palette images).
    has_alpha : bool
        Whether the file has an alpha channel (or palette / tRNS
        transparency).
    """

    path: str
    format: str
    mode: str
    bit_depth: int
    channels: int
    has_alpha: bool


def _path(path: object, func: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{func}: path must be a str or os.PathLike, got {path!r}")
    p = os.fspath(path)
    if not isinstance(p, str):
        raise TypeError(f"{func}: path must be a str or os.PathLike of str, got {path!r}")
    return p


def _pillow(func: str) -> ModuleType:
    """``PIL.Image``, or an ImportError that says what needs it."""
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - Pillow is installed here
        raise ImportError(
            f"{func}: reading and writing images needs Pillow: pip install 'upconv[image]' (or pip install pillow)"
        ) from exc
    return Image


def read_image(
    path: str | os.PathLike[str], *, alpha: str = "drop", as_gray: bool = False
) -> tuple[npt.NDArray[np.float64], ImageInfo]:
    r"""Read an image file into a float64 array with values in ``[0, 1]``.

    Parameters
    ----------
    path : str or os.PathLike
        A file Pillow can read: PNG and JPEG above all (BMP, GIF, TIFF, WebP,
        ... work too); gray, gray + alpha, RGB, RGBA, palette, CMYK; 1, 8 or
        16 bits per sample.  Multi-frame files give their first frame.
    alpha : {"drop", "keep"}
        ``"drop"`` (default) returns the colour channels only (the colours
        stored under transparent pixels, not composited on any background);
        ``"keep"`` appends the alpha channel when the file has one.
    as_gray : bool
        Convert colour to gray with the ITU-R BT.601 luma weights
        ``0.299 R + 0.587 G + 0.114 B`` (Pillow's, computed in float64 without
        rounding to 8 bits).

    Returns
    -------
    image : (H, W) or (C, H, W) ndarray of float64
        ``(H, W)`` for gray (also with ``alpha="drop"`` on gray + alpha);
        otherwise channel first: ``(2, H, W)`` gray + alpha, ``(3, H, W)``
        RGB, ``(4, H, W)`` RGBA.  Sample ``k`` of a ``b``-bit file becomes
        ``k / (2**b - 1)``.
    info : ImageInfo
        Format, mode, bit depth, channels and alpha of the file.

    Raises
    ------
    TypeError
        If ``path`` is not a path, or ``alpha`` / ``as_gray`` have the wrong
        type.
    ValueError
        If the file does not exist or cannot be decoded (the message names
        the path and the reason; the original error is chained), if its mode
        is not supported (floating-point ``"F"``; ``"I"`` with values outside
        ``[0, 65535]``), or if ``alpha`` is not one of the allowed values.
    MemoryError
        If the decoded image would exceed :func:`upconv.get_memory_limit`.

    Notes
    -----
    Files with an EXIF orientation tag (JPEG above all) are rotated /
    flipped as a viewer shows them (not 16-bit PNGs, which this module
    decodes; colour profiles and gamma are ignored, as Pillow does).
    Pillow's 32-bit mode ``"I"`` (older Pillow versions read
    16-bit gray PNGs that way) is taken as 16-bit.  Writing what was read
    with :func:`write_image` at the file's bit depth reproduces an 8- or
    16-bit PNG's samples exactly.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from upconv import read_image, write_image
    >>> img = np.array([[[0.0, 1.0]], [[0.5, 0.25]], [[1.0, 0.0]]])  # (3, 1, 2) RGB
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "rgb.png")
    ...     write_image(path, img, bit_depth=16)
    ...     back, info = read_image(path)
    >>> back.shape, info.mode, info.bit_depth
    ((3, 1, 2), 'RGB;16', 16)
    >>> bool(np.abs(back - img).max() <= 0.5 / 65535)
    True
    """
    func = "read_image"
    p = _path(path, func)
    alpha = v.choice(alpha, ALPHA_MODES, func, "alpha")
    as_gray = v.boolean(as_gray, func, "as_gray")
    if not os.path.exists(p):
        raise ValueError(f"{func}: cannot read {p!r}: no such file")
    if os.path.isdir(p):
        raise ValueError(f"{func}: cannot read {p!r}: it is a directory")
    header = _read_header(p, func)
    if header[:8] == _PNG_SIGNATURE and len(header) >= 26 and header[12:16] == b"IHDR" and header[24] == 16:
        channels_last, info = _read_png16(p, func)
    else:
        channels_last, info = _read_pillow(p, func)
    return _finish(channels_last, info, alpha, as_gray), info


def _read_header(p: str, func: str) -> bytes:
    try:
        with open(p, "rb") as f:
            return f.read(32)
    except OSError as exc:
        raise ValueError(f"{func}: cannot read {p!r}: {exc.strerror or exc}") from exc


def _finish(img: npt.NDArray[np.float64], info: ImageInfo, alpha: str, as_gray: bool) -> npt.NDArray[np.float64]:
    """``(H, W, C)`` float64 samples -> the channel-first result."""
    color = img[..., :-1] if info.has_alpha and img.shape[-1] in (2, 4) else img
    if as_gray and color.shape[-1] == 3:
        color = (color @ _LUMA)[..., None]
    if alpha == "keep" and info.has_alpha:
        color = np.concatenate([color, img[..., -1:]], axis=-1)
    if color.shape[-1] == 1:
        return np.ascontiguousarray(color[..., 0])
    return np.ascontiguousarray(np.moveaxis(color, -1, 0))


def _read_pillow(p: str, func: str) -> tuple[npt.NDArray[np.float64], ImageInfo]:
    Image = _pillow(func)
    from PIL import ImageOps, UnidentifiedImageError

    try:
        with Image.open(p) as im:
            fmt = im.format or "unknown"
            mode = im.mode
            v.check_allocation((im.height, im.width, 4), np.float64, func, "the image")
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
    img = raw.astype(np.float64)
    img /= 65535.0 if depth == 16 else 255.0
    if img.ndim == 2:
        img = img[..., None]
    info = ImageInfo(p, fmt, mode, depth, img.shape[-1], has_alpha)
    return img, info


def _png_chunks(data: bytes, p: str, func: str) -> list[tuple[bytes, bytes]]:
    """The ``(type, data)`` chunks of a PNG file, CRCs checked."""
    chunks = []
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        name = ctype.decode("latin-1")
        body = data[pos + 8 : pos + 8 + length]
        crc = data[pos + 8 + length : pos + 12 + length]
        if len(body) != length or len(crc) != 4:
            raise ValueError(f"{func}: cannot read {p!r}: truncated PNG file ({name!r} chunk)")
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != struct.unpack(">I", crc)[0]:
            raise ValueError(f"{func}: cannot read {p!r}: corrupt PNG file (bad CRC in {name!r} chunk)")
        chunks.append((ctype, body))
        pos += 12 + length
        if ctype == b"IEND":
            return chunks
    raise ValueError(f"{func}: cannot read {p!r}: truncated PNG file (no IEND chunk)")


def _read_png16(p: str, func: str) -> tuple[npt.NDArray[np.float64], ImageInfo]:
    """Decode a 16-bit PNG (all colour types, Adam7 too) to ``(H, W, C)`` float64."""
    try:
        with open(p, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ValueError(f"{func}: cannot read {p!r}: {exc.strerror or exc}") from exc
    chunks = _png_chunks(data, p, func)
    width, height, depth, ctype, compression, filtering, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if ctype not in _PNG_CHANNELS or compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise ValueError(
            f"{func}: cannot read {p!r}: invalid 16-bit PNG header (colour type {ctype}, "
            f"compression {compression}, filter {filtering}, interlace {interlace})"
        )
    channels = _PNG_CHANNELS[ctype]
    v.check_allocation((height, width, channels + 1), np.float64, func, "the image")
    try:
        raw = zlib.decompress(b"".join(body for t, body in chunks if t == b"IDAT"))
    except zlib.error as exc:
        raise ValueError(f"{func}: cannot read {p!r}: corrupt PNG image data ({exc})") from exc
    buf = np.frombuffer(raw, dtype=np.uint8)
    bpp = 2 * channels
    passes = [(0, 0, 1, 1)] if interlace == 0 else list(_ADAM7)
    samples = np.empty((height, width, channels), dtype=np.uint16)
    pos = 0
    for xs, ys, dx, dy in passes:
        w = (width - xs + dx - 1) // dx if width > xs else 0
        h = (height - ys + dy - 1) // dy if height > ys else 0
        if w == 0 or h == 0:
            continue
        n = h * (w * bpp + 1)
        if pos + n > buf.size:
            raise ValueError(f"{func}: cannot read {p!r}: truncated PNG image data")
        rows = _unfilter(buf[pos : pos + n].reshape(h, w * bpp + 1), bpp, p, func)
        samples[ys::dy, xs::dx] = rows.view(">u2").reshape(h, w, channels)
        pos += n
    img = samples.astype(np.float64)
    has_alpha = ctype in (4, 6)
    trns = [body for t, body in chunks if t == b"tRNS"]
    if trns and ctype in (0, 2) and len(trns[0]) == 2 * channels:
        key = np.frombuffer(trns[0], dtype=">u2")
        opaque = np.any(samples != key, axis=-1, keepdims=True)
        img = np.concatenate([img, np.where(opaque, 65535.0, 0.0)], axis=-1)
        has_alpha = True
    img /= 65535.0
    return img, ImageInfo(p, "PNG", _PNG_MODE_NAMES[ctype], 16, img.shape[-1], has_alpha)


def _unfilter(rows: np.ndarray, bpp: int, p: str, func: str) -> np.ndarray:
    """Undo PNG's per-scanline filters: ``(h, 1 + rowbytes)`` filtered -> ``(h, rowbytes)`` bytes."""
    types = rows[:, 0]
    if types.size and types.max() > 4:
        raise ValueError(f"{func}: cannot read {p!r}: corrupt PNG image data (filter type {types.max()})")
    out = rows[:, 1:].copy()
    if np.all(types <= 1):
        # filter types None and Sub only (what write_image writes): a running sum per byte lane
        sub = types == 1
        if sub.any():
            h, rb = out[sub].shape
            lanes = out[sub].reshape(h, rb // bpp, bpp).astype(np.uint64)
            out[sub] = (np.cumsum(lanes, axis=1) % 256).astype(np.uint8).reshape(h, rb)
        return out
    from upconv.kernels.png import unfilter

    unfilter(types, out, bpp)
    return out


def write_image(path: str | os.PathLike[str], image: npt.ArrayLike, bit_depth: int = 8, *, quality: int = 95) -> None:
    r"""Write a float image with values in ``[0, 1]`` to a file.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its extension picks the format (``.png``,
        ``.jpg`` / ``.jpeg``, or anything else Pillow writes).
    image : (H, W) or (C, H, W) array_like
        ``(H, W)`` gray, or channel first with ``C`` = 1 gray, 2 gray +
        alpha, 3 RGB, 4 RGBA.  Values are clipped to ``[0, 1]`` (infinities
        too); integer and boolean arrays are taken as values, so they must
        lie in ``[0, 1]`` (divide 8-bit data by 255 first).
    bit_depth : {8, 16}
        Bits per sample.  16 is PNG only.
    quality : int
        JPEG quality, 1 to 100 (ignored by other formats).

    Raises
    ------
    TypeError
        If ``path`` is not a path or ``image`` is not numeric.
    ValueError
        If ``image`` has the wrong shape, holds NaN or (integer arrays)
        values outside ``[0, 1]``; if ``bit_depth`` is not 8 or 16, or 16
        for a format other than PNG; if the format cannot store the channels
        (JPEG with alpha); if the extension is unknown; or if the file cannot
        be written (the message names the path and the reason).

    Notes
    -----
    Sample values are ``round(clip(x, 0, 1) * (2**b - 1))`` (rounding half
    to even), so values read by :func:`read_image` from a ``b``-bit file are
    written back unchanged.  8-bit files are encoded by Pillow, 16-bit PNGs
    by this module (Pillow cannot write 16-bit colour).

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from upconv import read_image, write_image
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "gray.png")
    ...     write_image(path, np.array([[0.0, 0.5, 1.0, 2.0]]))
    ...     back, info = read_image(path)
    >>> back * 255, info.mode
    (array([[  0., 128., 255., 255.]]), 'L')
    """
    func = "write_image"
    p = _path(path, func)
    if isinstance(bit_depth, (bool, np.bool_)) or bit_depth not in (8, 16):
        raise ValueError(f"{func}: bit_depth must be 8 or 16, got {bit_depth!r}")
    quality = v.integer(quality, func, "quality", minimum=1)
    if quality > 100:
        raise ValueError(f"{func}: quality must be <= 100, got {quality}")
    samples = _to_samples(image, int(bit_depth), func)
    ext = os.path.splitext(p)[1].lower()
    if ext == ".png" and bit_depth == 16:
        _write_png16(p, samples, func)
        return
    Image = _pillow(func)
    fmt = Image.registered_extensions().get(ext)
    if fmt is None or fmt not in Image.SAVE:
        raise ValueError(
            f"{func}: cannot tell the format of {p!r} from its extension {ext!r}; "
            "use .png, .jpg, or another extension Pillow writes"
        )
    if bit_depth == 16:
        raise ValueError(f"{func}: bit_depth=16 needs a .png file, got {p!r} ({fmt})")
    channels = samples.shape[-1]
    if fmt == "JPEG" and channels in (2, 4):
        raise ValueError(f"{func}: JPEG cannot store an alpha channel; got an image with {channels} channels")
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels]
    im = Image.fromarray(samples[..., 0] if channels == 1 else samples, mode=mode)
    options = {"quality": quality} if fmt == "JPEG" else {}
    try:
        im.save(p, format=fmt, **options)
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{func}: cannot write {p!r} as {fmt}: {exc}") from exc


def _to_samples(image: npt.ArrayLike, bit_depth: int, func: str) -> npt.NDArray[np.unsignedinteger[Any]]:
    """Validate ``image`` and return its ``(H, W, C)`` unsigned samples."""
    a = np.asarray(image)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{func}: image must be a real numeric array, got dtype {a.dtype}")
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[0] not in (1, 2, 3, 4) or 0 in a.shape[1:]:
        raise ValueError(
            f"{func}: image must have shape (H, W) or (C, H, W) with C in 1..4 and H, W >= 1, "
            f"got shape {np.shape(image)}"
        )
    if a.dtype.kind in "iu" and a.size and (a.min() < 0 or a.max() > 1):
        raise ValueError(
            f"{func}: an integer image must hold values in [0, 1], got {a.min()}..{a.max()}; "
            "divide 8-bit data by 255 (16-bit by 65535) first"
        )
    if a.dtype.kind == "f" and np.isnan(a).any():
        raise ValueError(f"{func}: image must not contain NaN")
    top = (1 << bit_depth) - 1
    scaled = np.clip(a.astype(np.float64), 0.0, 1.0) * top
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    return np.ascontiguousarray(np.moveaxis(np.rint(scaled).astype(dtype), 0, -1))


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def _write_png16(p: str, samples: npt.NDArray[np.unsignedinteger[Any]], func: str) -> None:
    """Write ``(H, W, C)`` uint16 samples as a 16-bit PNG, every scanline Sub-filtered."""
    h, w, c = samples.shape
    raw = samples.astype(">u2").view(np.uint8).reshape(h, w * c * 2)
    bpp = 2 * c
    filtered = np.empty((h, 1 + raw.shape[1]), dtype=np.uint8)
    filtered[:, 0] = 1  # Sub: each byte minus the same byte of the pixel to its left
    filtered[:, 1 : 1 + bpp] = raw[:, :bpp]
    filtered[:, 1 + bpp :] = raw[:, bpp:] - raw[:, :-bpp]  # uint8 arithmetic wraps modulo 256
    compressed = zlib.compress(filtered.tobytes(), 6)
    header = struct.pack(">IIBBBBB", w, h, 16, _PNG_COLOR_TYPE[c], 0, 0, 0)
    parts = [_PNG_SIGNATURE, _png_chunk(b"IHDR", header)]
    parts += [_png_chunk(b"IDAT", compressed[i : i + _IDAT_CHUNK]) for i in range(0, len(compressed), _IDAT_CHUNK)]
    parts.append(_png_chunk(b"IEND", b""))
    try:
        with open(p, "wb") as f:
            f.write(b"".join(parts))
    except OSError as exc:
        raise ValueError(f"{func}: cannot write {p!r}: {exc.strerror or exc}") from exc
