"""``upconv resize`` out of core: tiled TIFF and zarr images, and ``--chunks``, through the chunked operators.

The branch of :mod:`upconv.cli.resize` taken when the input or the output is
a TIFF (``.tif``, ``.tiff``) or zarr (``.zarr``) image, or when ``--chunks``
is given.  The image is read lazily (:func:`upconv.images.tiled.read_tiled`;
a PNG or JPEG is read whole), converted to floats in ``[0, 1]`` block by
block, resized by :func:`upconv.ops.chunked.interpolate` (or ``resize`` with
``--onnx``) with the command's options, quantised and streamed to the output
file tile by tile; only a few chunks are in memory at a time.  The samples
written are the ones the in-memory path writes, bit for bit.

Chunks: ``--chunks N`` processes the input in ``N x N`` pixel chunks (all
channels); without it an image of at least ``LARGE_PIXELS`` pixels (input
or output) is processed in chunks of ``DEFAULT_CHUNK``, a smaller one in one
chunk.  On a terminal a progress bar is drawn on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

from upconv.cli import _format as fmt
from upconv.cli._args import argument_error

__all__ = ["add_arguments", "wanted", "run", "LARGE_PIXELS", "DEFAULT_CHUNK"]

#: Images with at least this many pixels (input or output) are processed in chunks without --chunks
#: (8192 x 8192: 1.5 GiB per float64 RGB copy).
LARGE_PIXELS = 2**26
#: Input chunk edge (pixels) for large images.
DEFAULT_CHUNK = 1024
#: Tile edge of the TIFF files written.
TIFF_TILE = 256


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of the out-of-core path."""
    g = p.add_argument_group("large images (tiled TIFF, zarr)")
    g.add_argument("--chunks", type=_chunk_size, metavar="N",
                   help=f"process the image in N x N pixel chunks through Dask (default: chunks of {DEFAULT_CHUNK} "
                        f"for images of {LARGE_PIXELS // 2**20} Mpx or more when reading or writing .tif/.zarr)")
    g.add_argument("--compression", choices=("none", "zlib", "lzma"), default="none",
                   help="compression of a .tif output (default none)")


def _chunk_size(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive number of pixels, got {text!r}")
    return n


def _tiled(path: str) -> bool:
    return os.fspath(path).rstrip("/\\").lower().endswith((".tif", ".tiff", ".zarr"))


def wanted(args: argparse.Namespace) -> bool:
    """Whether ``upconv resize`` takes the out-of-core path: ``--chunks``, or a TIFF or zarr input or output."""
    return getattr(args, "chunks", None) is not None or _tiled(args.image) or _tiled(args.output)


class _Bar:
    """A progress bar on a terminal (nothing elsewhere): ``[#######.....]  58 %  12.3 s``."""

    def __init__(self, stream: TextIO, label: str) -> None:
        isatty = getattr(stream, "isatty", None)
        self.on = bool(isatty and isatty())
        self.stream, self.label, self.t0 = stream, label, time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if not self.on or total <= 0:
            return
        width = 30
        full = width * done // total
        self.stream.write(f"\r{self.label} [{'#' * full}{'.' * (width - full)}] {100 * done // total:3d} % "
                          f"{time.perf_counter() - self.t0:6.1f} s")
        self.stream.flush()

    def close(self) -> None:
        if self.on:
            self.stream.write("\n")
            self.stream.flush()


def _read(args: argparse.Namespace, chunks: int | None) -> tuple[Any, int | None, str]:
    """The input as ``(C, H, W)`` float64 Dask values in [0, 1], its bit depth (None: floats), its kind."""
    import dask.array as da

    from upconv.images.files import read_image
    from upconv.images.tiled import read_tiled, to_float

    if _tiled(args.image):
        try:
            samples, info = read_tiled(args.image, chunks=chunks)
        except ValueError as exc:
            raise argument_error("IMAGE", exc, "read_tiled") from None
        return to_float(samples, info), info.bit_depth, "float" if info.bit_depth is None else f"{info.bit_depth}-bit"
    try:
        image, info = read_image(args.image, alpha="keep")
    except ValueError as exc:
        raise argument_error("IMAGE", exc, "read_image") from None
    planes = image[None] if image.ndim == 2 else image
    return da.from_array(planes, chunks=(planes.shape[0], chunks or -1, chunks or -1)), info.bit_depth, \
        f"{info.bit_depth}-bit"


def run(args: argparse.Namespace, *, check_options: Callable[[argparse.Namespace], None],
        plan: Callable[..., Any], resize: Callable[..., Any], output_bit_depth: Callable[..., int]) -> int:
    """Run ``upconv resize`` out of core, with the in-memory path's option checks, plan, resize call and
    bit-depth rule (passed in by :mod:`upconv.cli.resize`); 0 on success."""
    from upconv.images.files import write_image
    from upconv.images.tiled import to_samples, write_tiled
    from upconv.ops import chunked

    check_options(args)
    t = time.perf_counter()
    x, bits, depth = _read(args, args.chunks)
    size, scale, out_size, _ = plan(x.shape, args)
    big = max(x.shape[1] * x.shape[2], out_size[0] * out_size[1]) >= LARGE_PIXELS
    chunk = args.chunks or (DEFAULT_CHUNK if big else None)
    if chunk is None:
        x = x.rechunk((x.shape[0], -1, -1))
    elif args.chunks is None:  # a large image: chunks of whole tiles of the file, or of DEFAULT_CHUNK
        x = _read(args, chunk)[0] if _tiled(args.image) else x.rechunk((x.shape[0], chunk, chunk))
    y, how = resize(x, size, scale, args, chunked)
    kind = {1: "gray", 2: "gray+alpha", 3: "RGB", 4: "RGBA"}[x.shape[0]]
    bar = _Bar(sys.stderr, "resize")
    try:
        if _tiled(args.output):
            out_bits = args.bit_depth or bits
            data = y.astype(np.float32) if out_bits is None else to_samples(y, out_bits)
            try:
                write_tiled(args.output, data if x.shape[0] > 1 else data[0], progress=bar, tile=TIFF_TILE,
                            compression=None if args.compression == "none" else args.compression)
            except ValueError as exc:
                raise argument_error("-o/--output", exc, "write_tiff") from None
            written = "float" if out_bits is None else f"{out_bits}-bit"
        else:
            out_bits = output_bit_depth(args, bits or 8)
            result = np.asarray(y.compute())
            try:
                write_image(args.output, result if x.shape[0] > 1 else result[0], bit_depth=out_bits)
            except ValueError as exc:
                raise argument_error("-o/--output", exc, "write_image") from None
            written = f"{out_bits}-bit"
    finally:
        bar.close()
    seconds = time.perf_counter() - t
    chunks = f"chunks {x.chunks[2][0]}×{x.chunks[1][0]}" if len(x.chunks[1]) * len(x.chunks[2]) > 1 else "one chunk"
    fmt.Printer()(f"{args.image}: {x.shape[2]}×{x.shape[1]} {kind} {depth} -> {args.output}: "
                  f"{y.shape[-1]}×{y.shape[-2]} {written}, {how}, {chunks}, {seconds:.1f} s read, resized and written")
    return 0
