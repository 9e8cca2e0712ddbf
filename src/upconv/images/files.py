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
``import upconv``), except 16-bit PNGs, which :mod:`upconv.images.png`
decodes and encodes (Pillow reads 16-bit RGB(A) and gray+alpha PNGs as
8-bit, so it would lose the low byte; it also decodes 8-bit PNGs when Pillow
is missing), and TIFFs, which tifffile reads when it is installed
(:mod:`upconv.images.tiff`; without it a TIFF that Pillow would read with
fewer bits is refused).  Every file is written through
:func:`upconv._files.atomic_write`: an interrupted write leaves the old file.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v
from upconv._files import atomic_write, check_writable
from upconv.images import pillow, png, tiff

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["ImageInfo", "read_image", "write_image", "check_image_path", "ALPHA_MODES", "FAST_PNG_PIXELS"]

#: What :func:`read_image` does with an alpha channel.
ALPHA_MODES = ("drop", "keep")
#: Images with more pixels than this are written as PNG with zlib level 1 (else 6, Pillow's default): level 6
#: spends about 5x the time for files about 20 % smaller, which dominated large resizes (benchmarks/README.md).
FAST_PNG_PIXELS = 1 << 22

# ITU-R BT.601 luma weights (Pillow's ``convert("L")``), applied in float64.
_LUMA = np.array([0.299, 0.587, 0.114])
# samples converted per block when writing (bounds the temporary memory)
_BLOCK = 1 << 22
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
        ``"LA;16"``, ``"I;16"`` for 16-bit PNGs and TIFFs, ``"RGB;float32"``
        (``"L;float32"``, ...) for float TIFFs.
    bit_depth : int
        Bits per sample in the file: 1, 8 or 16 (8 for palette images), or
        16, 32, 64 for float TIFFs.
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


def read_image(
    path: str | os.PathLike[str], *, alpha: str = "drop", as_gray: bool = False, dtype: npt.DTypeLike = np.float64
) -> tuple[npt.NDArray[np.floating[Any]], ImageInfo]:
    r"""Read an image file into a float array with values in ``[0, 1]``.

    Parameters
    ----------
    path : str or os.PathLike
        A regular file Pillow can read: PNG and JPEG above all (BMP, GIF,
        TIFF, WebP, ... work too); gray, gray + alpha, RGB, RGBA, palette,
        CMYK; 1, 8 or 16 bits per sample.  Multi-frame files give their
        first frame, except TIFF stacks, which are refused.
    alpha : {"drop", "keep"}
        ``"drop"`` (default) returns the colour channels only (the colours
        stored under transparent pixels, not composited on any background);
        ``"keep"`` appends the alpha channel when the file has one.
    as_gray : bool
        Convert colour to gray with the ITU-R BT.601 luma weights
        ``0.299 R + 0.587 G + 0.114 B`` (Pillow's, computed in float64 without
        rounding to 8 bits).
    dtype : {float64, float32}
        The result's dtype.  float32 holds every 8- and 16-bit sample to
        within 1e-7 and takes half the memory (the CLI's image commands
        use it).

    Returns
    -------
    image : (H, W) or (C, H, W) ndarray of dtype
        ``(H, W)`` for gray (also with ``alpha="drop"`` on gray + alpha);
        otherwise channel first: ``(2, H, W)`` gray + alpha, ``(3, H, W)``
        RGB, ``(4, H, W)`` RGBA.  Sample ``k`` of a ``b``-bit file becomes
        ``k / (2**b - 1)``; the samples of a float TIFF are returned as
        stored.
    info : ImageInfo
        Format, mode, bit depth, channels and alpha of the file.

    Raises
    ------
    TypeError
        If ``path`` is not a path, or ``alpha`` / ``as_gray`` have the wrong
        type.
    ValueError
        If the file does not exist, is not a regular file (a directory, a
        FIFO, a device), or cannot be decoded (the message names the path
        and the reason; the original error is chained); if its mode is not
        supported (``"I"`` with values outside ``[0, 65535]``, signed or
        32-bit integer TIFF samples, a stack of images); if it is a TIFF
        that Pillow would read with fewer bits (16-bit colour, floats) and
        tifffile is not installed; or if ``alpha`` or ``dtype`` is not one
        of the allowed values.
    MemoryError
        If the decoded image would exceed :func:`upconv.get_memory_limit`
        (checked from the header, before the data is decompressed).

    Notes
    -----
    Files with an EXIF orientation tag (JPEG above all) are rotated /
    flipped as a viewer shows them (not PNGs decoded by upconv; colour
    profiles and gamma are ignored, as Pillow does).  Pillow's 32-bit mode
    ``"I"`` (older Pillow versions read 16-bit gray PNGs that way) is taken
    as 16-bit.  Writing what was read with :func:`write_image` at the
    file's bit depth reproduces an 8- or 16-bit PNG's samples exactly.

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
    out_dtype = _float_dtype(dtype, func)
    header = _read_header(p, func)
    png_header = png.read_header(header, p, func)
    decoded = None
    if png_header is not None and (png_header.depth == 16 or pillow.image_module_or_none() is None):
        decoded = _read_png(p, png_header, out_dtype, func)
    elif header[:4] in tiff.TIFF_SIGNATURES and (tifffile := tiff.tifffile_or_none()) is not None:
        found = tiff.read_tiff(p, func, tifffile)
        if found is not None:
            samples, mode, depth, has_alpha = found
            decoded = samples, ImageInfo(p, "TIFF", mode, depth, samples.shape[-1], has_alpha)
    if decoded is None:
        raw, fmt, mode, depth, has_alpha = pillow.read(p, out_dtype, func)
        decoded = raw, ImageInfo(p, fmt, mode, depth, raw.shape[-1], has_alpha)
    samples, info = decoded
    return _finish(samples, info, alpha, as_gray, out_dtype), info


def _float_dtype(dtype: npt.DTypeLike, func: str) -> np.dtype[Any]:
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{func}: dtype must be float32 or float64, got {dtype!r}")
    return d


def _read_header(p: str, func: str) -> bytes:
    """The first bytes of ``p``, which must exist and be a regular file (a FIFO would block the reader)."""
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise ValueError(f"{func}: cannot read {p!r}: no such file") from None
    except OSError as exc:
        raise ValueError(f"{func}: cannot read {p!r}: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise ValueError(f"{func}: cannot read {p!r}: it is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{func}: cannot read {p!r}: it is not a regular file (a FIFO, socket or device)")
    try:
        with open(p, "rb") as f:
            return f.read(32)
    except OSError as exc:
        raise ValueError(f"{func}: cannot read {p!r}: {exc.strerror or exc}") from exc


def _finish(samples: np.ndarray, info: ImageInfo, alpha: str, as_gray: bool,
            dtype: np.dtype[Any]) -> npt.NDArray[np.floating[Any]]:
    """``(H, W, C)`` samples (integers of ``info.bit_depth`` bits, or floats) -> the channel-first result."""
    scale = 1.0 if samples.dtype.kind == "f" else float(2 ** max(info.bit_depth, 8) - 1)
    c = samples.shape[-1]
    color = list(range(c - 1)) if info.has_alpha and c in (2, 4) else list(range(c))
    keep_alpha = alpha == "keep" and info.has_alpha
    if as_gray and len(color) == 3:
        rgb = samples[..., :3].astype(np.float64)
        rgb /= scale
        gray = (rgb @ _LUMA).astype(dtype, copy=False)
        del rgb
        if not keep_alpha:
            return gray
        out = np.empty((2, *gray.shape), dtype=dtype)
        out[0] = gray
        out[1] = samples[..., -1]
        out[1] /= dtype.type(scale)
        return out
    channels = color + ([c - 1] if keep_alpha else [])
    out = np.empty((len(channels), *samples.shape[:2]), dtype=dtype)
    for i, j in enumerate(channels):  # one plane at a time: no (H, W, C) float temporary
        out[i] = samples[..., j]
        if scale != 1.0:
            out[i] /= dtype.type(scale)  # correctly rounded k / (2**b - 1) in either dtype
    return out[0] if len(channels) == 1 else out


def _read_png(p: str, header: png.PngHeader, dtype: np.dtype[Any], func: str) -> tuple[np.ndarray, ImageInfo]:
    """A PNG decoded by :mod:`upconv.images.png`: ``(H, W, C)`` samples and the info."""
    v.check_allocation((header.height, header.width, header.channels + 1), dtype, func, "the image")
    try:
        with open(p, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ValueError(f"{func}: cannot read {p!r}: {exc.strerror or exc}") from exc
    samples, key = png.decode(data, header, p, func)
    del data
    has_alpha = header.color_type in (4, 6)
    if key is not None:  # a tRNS colour key: pixels of that colour are transparent
        top = np.iinfo(samples.dtype).max
        opaque = np.any(samples != key, axis=-1, keepdims=True)
        samples = np.concatenate([samples, np.where(opaque, top, 0).astype(samples.dtype)], axis=-1)
        has_alpha = True
    return samples, ImageInfo(p, "PNG", header.mode, header.depth, samples.shape[-1], has_alpha)


def write_image(path: str | os.PathLike[str], image: npt.ArrayLike, bit_depth: int = 8, *, quality: int = 95,
                clip: bool = False, compress_level: int | None = None) -> None:
    r"""Write a float image with values in ``[0, 1]`` to a file.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its extension picks the format (``.png``,
        ``.jpg`` / ``.jpeg``, or anything else Pillow writes).  An existing
        file is replaced in one step (:func:`upconv._files.atomic_write`):
        an error or an interrupt while writing leaves it as it was.
    image : (H, W) or (C, H, W) array_like
        ``(H, W)`` gray, or channel first with ``C`` = 1 gray, 2 gray +
        alpha, 3 RGB, 4 RGBA.  Float values must lie in ``[0, 1]`` up to
        half a step of ``bit_depth`` (so that ``y * 255`` is an error, not
        a white image), unless ``clip``; integer and boolean arrays are
        taken as values, so they must lie in ``[0, 1]`` (divide 8-bit data
        by 255 first).
    bit_depth : {8, 16}
        Bits per sample.  16 is PNG only.
    quality : int
        JPEG quality, 1 to 100 (ignored by other formats).
    clip : bool
        Clip float values to ``[0, 1]`` (infinities too) instead of
        refusing them: for results that overshoot, such as bicubic
        interpolation or deconvolution.
    compress_level : int, optional
        PNG zlib level 0 (none, fastest) to 9 (smallest); default 6, or 1
        for images of more than :data:`FAST_PNG_PIXELS` pixels.

    Raises
    ------
    TypeError
        If ``path`` is not a path or ``image`` is not numeric.
    ValueError
        If ``image`` has the wrong shape, holds NaN or values outside
        ``[0, 1]`` (see ``image`` and ``clip``); if ``bit_depth`` is not 8
        or 16, or 16 for a format other than PNG; if the format cannot
        store the channels (JPEG with alpha); if the extension is unknown;
        or if the file cannot be written (the message names the path and
        the reason).

    Notes
    -----
    Sample values are ``round(clip(x, 0, 1) * (2**b - 1))`` (rounding half
    to even), computed in the image's float type (float32 stays float32),
    a block of rows at a time, so values read by :func:`read_image` from a
    ``b``-bit file are written back unchanged and the memory needed beyond
    the samples is a few megabytes.  8-bit files are encoded by Pillow,
    16-bit PNGs by :mod:`upconv.images.png` (Pillow cannot write 16-bit
    colour).

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from upconv import read_image, write_image
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "gray.png")
    ...     write_image(path, np.array([[0.0, 0.5, 1.0, 1.5]]), clip=True)
    ...     back, info = read_image(path)
    >>> back * 255, info.mode
    (array([[  0., 128., 255., 255.]]), 'L')
    """
    func = "write_image"
    p = _path(path, func)
    clip = v.boolean(clip, func, "clip")
    if compress_level is not None:
        compress_level = v.integer(compress_level, func, "compress_level", minimum=0)
        if compress_level > 9:
            raise ValueError(f"{func}: compress_level must be <= 9, got {compress_level}")
    quality = v.integer(quality, func, "quality", minimum=1)
    if quality > 100:
        raise ValueError(f"{func}: quality must be <= 100, got {quality}")
    samples = _to_samples(image, _bit_depth(bit_depth, func), clip, func)
    fmt = check_image_path(p, bit_depth, samples.shape[-1], func=func)
    level = compress_level if compress_level is not None else (
        1 if samples.shape[0] * samples.shape[1] > FAST_PNG_PIXELS else 6)
    try:
        with atomic_write(p) as f:
            if fmt == "PNG" and bit_depth == 16:
                png.encode(f, samples, level)
                return
            Image = pillow.image_module(func)
            channels = samples.shape[-1]
            mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels]
            im = Image.fromarray(samples[..., 0] if channels == 1 else samples, mode=mode)
            options: dict[str, Any] = {"quality": quality} if fmt == "JPEG" else {}
            if fmt == "PNG":
                options["compress_level"] = level
            try:
                im.save(f, format=fmt, **options)
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{func}: cannot write {p!r} as {fmt}: {exc}") from exc
    except OSError as exc:
        raise ValueError(f"{func}: cannot write {p!r}: {exc.strerror or exc}") from exc


def _bit_depth(bit_depth: object, func: str) -> int:
    if isinstance(bit_depth, (bool, np.bool_)) or bit_depth not in (8, 16):
        raise ValueError(f"{func}: bit_depth must be 8 or 16, got {bit_depth!r}")
    return 16 if bit_depth == 16 else 8


def check_image_path(path: str | os.PathLike[str], bit_depth: int = 8, channels: int | None = None, *,
                     func: str = "write_image") -> str:
    """Check, before any work, that :func:`write_image` can write ``path``; return the format's name.

    The extension must name a format Pillow writes (a PNG needs no Pillow
    at 16 bits), ``bit_depth=16`` needs PNG, JPEG cannot store alpha
    (``channels`` 2 or 4), and the directory must exist and be writable.
    Errors are ValueErrors naming ``func``.

    Examples
    --------
    >>> from upconv.images.files import check_image_path
    >>> check_image_path("out.png", 16)
    'PNG'
    """
    p = _path(path, func)
    bit_depth = _bit_depth(bit_depth, func)
    ext = os.path.splitext(p)[1].lower()
    if ext == ".png" and bit_depth == 16:
        fmt = "PNG"
    else:
        Image = pillow.image_module(func)
        Image.preinit()  # BMP, GIF, JPEG, PPM and PNG, as Image.save does: the others' plugins cost ~50 ms
        found = Image.EXTENSION.get(ext) or Image.registered_extensions().get(ext)
        if found is None or found not in Image.SAVE:
            raise ValueError(
                f"{func}: cannot tell the format of {p!r} from its extension {ext!r}; "
                "use .png, .jpg, or another extension Pillow writes"
            )
        fmt = found
        if bit_depth == 16:
            raise ValueError(f"{func}: bit_depth=16 needs a .png file, got {p!r} ({fmt})")
    if fmt == "JPEG" and channels in (2, 4):
        raise ValueError(f"{func}: JPEG cannot store an alpha channel; got an image with {channels} channels")
    check_writable(p, func)
    return fmt


def _to_samples(image: npt.ArrayLike, bit_depth: int, clip: bool, func: str) -> np.ndarray:
    """Validate ``image`` and return its ``(H, W, C)`` unsigned samples, converted a block of rows at a time."""
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
    top = (1 << bit_depth) - 1
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    c, h, w = a.shape
    if a.dtype.kind in "biu":
        if a.size and (a.min() < 0 or a.max() > 1):
            raise ValueError(
                f"{func}: an integer image must hold values in [0, 1], got {a.min()}..{a.max()}; "
                "divide 8-bit data by 255 (16-bit by 65535) first"
            )
        return np.ascontiguousarray(np.moveaxis(a.astype(dtype) * dtype(top), 0, -1))
    lo, hi = float(a.min()), float(a.max())  # NaN propagates: no boolean temporary needed
    if np.isnan(lo) or np.isnan(hi):
        raise ValueError(f"{func}: image must not contain NaN")
    slack = 0.5 / top  # what rounds into [0, top] anyway
    if not clip and (lo < -slack or hi > 1 + slack):
        raise ValueError(
            f"{func}: a float image must hold values in [0, 1], got {lo:.6g}..{hi:.6g}; divide 8-bit data by 255 "
            "(16-bit by 65535) first, or pass clip=True to clip values that overshoot (bicubic, deconvolution)"
        )
    v.check_allocation((h, w, c), dtype, func, "the samples")
    out = np.empty((h, w, c), dtype=dtype)
    rows = max(1, _BLOCK // (c * w))
    tmp = np.empty((c, min(rows, h), w), dtype=quantising_dtype(a.dtype))
    for r0 in range(0, h, rows):
        blk = quantise(a[:, r0 : r0 + rows], top, tmp[:, : min(rows, h - r0)])
        np.copyto(out[r0 : r0 + rows], np.moveaxis(blk, 0, -1), casting="unsafe")
    return out


def quantising_dtype(dtype: npt.DTypeLike) -> np.dtype[Any]:
    """The float type float values are quantised in: float64 stays float64, anything else is float32."""
    return np.dtype(np.float64 if np.dtype(dtype) == np.float64 else np.float32)


def quantise(values: np.ndarray, top: int, out: np.ndarray) -> np.ndarray:
    """``round(clip(values, 0, 1) * top)`` (half to even) into ``out`` (of :func:`quantising_dtype`), returned.

    The one arithmetic of every writer (whole images and tiled blocks alike), so they write the same samples.
    """
    np.clip(values, 0.0, 1.0, out=out)
    out *= top
    return np.rint(out, out=out)
