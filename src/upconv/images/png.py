"""upconv's own PNG codec for 8- and 16-bit gray, gray + alpha, RGB and RGBA (:mod:`upconv.images.files` uses it).

Pillow reads 16-bit RGB(A) and gray + alpha PNGs as 8-bit and cannot write
16-bit colour, so 16-bit PNGs are decoded and encoded here; 8-bit PNGs are
decoded here too when Pillow is not installed (the built-in photograph
needs no Pillow).  Palette and 1/2/4-bit PNGs are left to Pillow.

A file is untrusted input: the header must be a 13-byte IHDR with a
non-zero width and height, decompression stops at the size the header
implies (a small file cannot inflate into gigabytes), data beyond it is an
error, and every buffer is checked against the memory limit before it is
allocated.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from upconv import _validate as v

__all__ = ["SIGNATURE", "PngHeader", "read_header", "decode", "encode"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# colour type -> channels (0 gray, 2 RGB, 4 gray + alpha, 6 RGBA; 3, palette, is left to Pillow)
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}
_COLOR_TYPE = {1: 0, 3: 2, 2: 4, 4: 6}
_MODE_NAMES = {(0, 16): "I;16", (2, 16): "RGB;16", (4, 16): "LA;16", (6, 16): "RGBA;16",
               (0, 8): "L", (2, 8): "RGB", (4, 8): "LA", (6, 8): "RGBA"}
# Adam7 passes: (x start, y start, x step, y step)
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_IDAT_CHUNK = 1 << 20
_MAX_SIDE = 2**31 - 1  # the PNG specification's limit


@dataclass(frozen=True)
class PngHeader:
    """The IHDR of a PNG file this module decodes."""

    width: int
    height: int
    depth: int
    color_type: int
    interlace: int

    @property
    def channels(self) -> int:
        """Samples per pixel in the file (before a tRNS colour key adds alpha)."""
        return _CHANNELS[self.color_type]

    @property
    def mode(self) -> str:
        """The mode name :class:`upconv.images.files.ImageInfo` reports (Pillow's, or ``"RGB;16"`` ...)."""
        return _MODE_NAMES[(self.color_type, self.depth)]

    def passes(self) -> list[tuple[int, int, int, int, int, int]]:
        """``(x start, y start, x step, y step, width, height)`` of every non-empty pass."""
        out = []
        for xs, ys, dx, dy in [(0, 0, 1, 1)] if self.interlace == 0 else _ADAM7:
            w = (self.width - xs + dx - 1) // dx if self.width > xs else 0
            h = (self.height - ys + dy - 1) // dy if self.height > ys else 0
            if w and h:
                out.append((xs, ys, dx, dy, w, h))
        return out

    def raw_size(self) -> int:
        """Bytes of decompressed image data the header implies (a filter byte per scanline)."""
        bpp = self.channels * self.depth // 8
        return sum(h * (1 + w * bpp) for *_, w, h in self.passes())


def read_header(data: bytes | memoryview, p: str, func: str) -> PngHeader | None:
    """The header of PNG ``data`` when this module decodes it (8/16-bit, colour types 0, 2, 4, 6), else None.

    Raises ValueError for a malformed header (not 13 bytes, zero width or
    height, invalid compression, filter or interlace method).
    """
    if bytes(data[:8]) != SIGNATURE or bytes(data[12:16]) != b"IHDR":
        return None
    length = struct.unpack(">I", data[8:12])[0] if len(data) >= 12 else 0
    if length != 13 or len(data) < 29:
        raise ValueError(f"{func}: cannot read {p!r}: corrupt PNG file (IHDR of {length} bytes, not 13)")
    width, height, depth, ctype, compression, filtering, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if width == 0 or height == 0 or width > _MAX_SIDE or height > _MAX_SIDE:
        raise ValueError(f"{func}: cannot read {p!r}: corrupt PNG file (size {width} x {height})")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise ValueError(
            f"{func}: cannot read {p!r}: invalid PNG header (compression {compression}, filter {filtering}, "
            f"interlace {interlace})"
        )
    if ctype not in _CHANNELS or depth not in (8, 16):
        if depth == 16:
            raise ValueError(f"{func}: cannot read {p!r}: invalid 16-bit PNG header (colour type {ctype})")
        return None
    return PngHeader(width, height, depth, ctype, interlace)


def _chunks(data: memoryview, p: str, func: str) -> list[tuple[bytes, memoryview]]:
    """The ``(type, data)`` chunks of a PNG file, CRCs checked (views into ``data``, no copies)."""
    chunks = []
    pos = len(SIGNATURE)
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        name = ctype.decode("latin-1")
        body = data[pos + 8 : pos + 8 + length]
        crc = data[pos + 8 + length : pos + 12 + length]
        if len(body) != length or len(crc) != 4:
            raise ValueError(f"{func}: cannot read {p!r}: truncated PNG file ({name!r} chunk)")
        if zlib.crc32(body, zlib.crc32(ctype)) & 0xFFFFFFFF != struct.unpack(">I", crc)[0]:
            raise ValueError(f"{func}: cannot read {p!r}: corrupt PNG file (bad CRC in {name!r} chunk)")
        chunks.append((ctype, body))
        pos += 12 + length
        if ctype == b"IEND":
            return chunks
    raise ValueError(f"{func}: cannot read {p!r}: truncated PNG file (no IEND chunk)")


def _inflate(bodies: list[memoryview], expected: int, p: str, func: str) -> np.ndarray:
    """The IDAT stream decompressed into exactly ``expected`` bytes; more or less is an error."""
    v.check_allocation((expected,), np.uint8, func, "the decompressed PNG data")
    out = np.empty(expected, dtype=np.uint8)
    d = zlib.decompressobj()
    total = 0
    try:
        for body in bodies:
            if d.eof:
                if len(body):
                    raise ValueError(f"{func}: cannot read {p!r}: corrupt PNG file (data after the image)")
                continue
            # at most one byte more than the header allows: enough to tell that there is extra data
            chunk = d.decompress(body, expected - total + 1)
            if total + len(chunk) > expected:
                raise ValueError(
                    f"{func}: cannot read {p!r}: corrupt PNG file (the image data inflates to more than the "
                    f"{expected} bytes its header implies)"
                )
            out[total : total + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
            total += len(chunk)
    except zlib.error as exc:
        raise ValueError(f"{func}: cannot read {p!r}: corrupt PNG image data ({exc})") from exc
    if total < expected:
        raise ValueError(f"{func}: cannot read {p!r}: truncated PNG image data")
    if d.unused_data:
        raise ValueError(f"{func}: cannot read {p!r}: corrupt PNG file (data after the image)")
    return out


def decode(data: bytes, header: PngHeader, p: str, func: str) -> tuple[np.ndarray, np.ndarray | None]:
    """``(samples, key)``: ``(H, W, C)`` uint8 or uint16 samples, and the tRNS colour key (or None)."""
    view = memoryview(data)
    chunks = _chunks(view, p, func)
    if chunks[0][0] != b"IHDR":
        raise ValueError(f"{func}: cannot read {p!r}: corrupt PNG file (IHDR is not the first chunk)")
    h, w, c = header.height, header.width, header.channels
    dtype = np.uint16 if header.depth == 16 else np.uint8
    v.check_allocation((h, w, c), dtype, func, "the image")
    buf = _inflate([body for t, body in chunks if t == b"IDAT"], header.raw_size(), p, func)
    bpp = c * header.depth // 8
    samples = np.empty((h, w, c), dtype=dtype)
    pos = 0
    for xs, ys, dx, dy, pw, ph in header.passes():
        n = ph * (pw * bpp + 1)
        rows = _unfilter(buf[pos : pos + n].reshape(ph, pw * bpp + 1), bpp, p, func)
        samples[ys::dy, xs::dx] = (rows.view(">u2") if header.depth == 16 else rows).reshape(ph, pw, c)
        pos += n
    key = None
    trns = [bytes(body) for t, body in chunks if t == b"tRNS"]
    if trns and header.color_type in (0, 2) and len(trns[0]) == 2 * c:
        key = np.frombuffer(trns[0], dtype=">u2").astype(dtype)
    return samples, key


def _unfilter(rows: np.ndarray, bpp: int, p: str, func: str) -> np.ndarray:
    """Undo PNG's per-scanline filters: ``(h, 1 + rowbytes)`` filtered -> ``(h, rowbytes)`` bytes."""
    types = rows[:, 0]
    if types.size and types.max() > 4:
        raise ValueError(f"{func}: cannot read {p!r}: corrupt PNG image data (filter type {types.max()})")
    out = rows[:, 1:].copy()
    if np.all(types <= 1):
        # filter types None and Sub only (what encode writes): a running sum per byte lane
        sub = types == 1
        if sub.any():
            h, rb = out[sub].shape
            lanes = out[sub].reshape(h, rb // bpp, bpp).astype(np.uint64)
            out[sub] = (np.cumsum(lanes, axis=1) % 256).astype(np.uint8).reshape(h, rb)
        return out
    from upconv.kernels.png import unfilter

    unfilter(np.ascontiguousarray(types), out, bpp)  # (types is a column of rows: strided)
    return out


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def encode(f: IO[bytes], samples: np.ndarray[Any, np.dtype[np.uint16]], level: int) -> None:
    """Write ``(H, W, C)`` uint16 samples to ``f`` as a 16-bit PNG, every scanline Sub-filtered.

    Compressed in blocks of rows, so that no more than a few megabytes of
    filtered data exist at once.
    """
    h, w, c = samples.shape
    bpp = 2 * c
    f.write(SIGNATURE + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, _COLOR_TYPE[c], 0, 0, 0)))
    compressor = zlib.compressobj(level)
    pending = b""
    rows = max(1, (4 << 20) // (w * bpp + 1))
    for r0 in range(0, h, rows):
        raw = samples[r0 : r0 + rows].astype(">u2").view(np.uint8).reshape(-1, w * bpp)
        filtered = np.empty((raw.shape[0], 1 + raw.shape[1]), dtype=np.uint8)
        filtered[:, 0] = 1  # Sub: each byte minus the same byte of the pixel to its left
        filtered[:, 1 : 1 + bpp] = raw[:, :bpp]
        np.subtract(raw[:, bpp:], raw[:, :-bpp], out=filtered[:, 1 + bpp :])  # uint8: wraps modulo 256
        pending += compressor.compress(filtered.data)
        while len(pending) >= _IDAT_CHUNK:
            f.write(_chunk(b"IDAT", pending[:_IDAT_CHUNK]))
            pending = pending[_IDAT_CHUNK:]
    pending += compressor.flush()
    for i in range(0, len(pending), _IDAT_CHUNK):
        f.write(_chunk(b"IDAT", pending[i : i + _IDAT_CHUNK]))
    f.write(_chunk(b"IEND", b""))
