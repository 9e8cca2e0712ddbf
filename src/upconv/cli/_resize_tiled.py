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
import time
from collections.abc import Callable
from typing import Any

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


def _read(args: argparse.Namespace, chunks: int | None,
          out_bits: Callable[[int | None], int | None]) -> tuple[Any, int | None, str]:
    """The input as ``(C, H, W)`` Dask values in [0, 1], its bit depth (None: floats), its kind.

    The values are float32 where the output is 8-bit and float64 otherwise (``out_bits`` of the input's
    depth), as the in-memory path computes them, so that both write the same samples.
    """
    import dask.array as da

    from upconv.images.files import read_image
    from upconv.images.tiled import read_tiled, to_float

    if _tiled(args.image):
        try:
            samples, info = read_tiled(args.image, chunks=chunks)
        except ValueError as exc:
            raise argument_error("IMAGE", exc, "read_tiled") from None
        dtype = np.float32 if out_bits(info.bit_depth) == 8 else np.float64
        return (to_float(samples, info, dtype), info.bit_depth,
                "float" if info.bit_depth is None else f"{info.bit_depth}-bit")
    try:
        image, image_info = read_image(args.image, alpha="keep", dtype=np.float32)
        if out_bits(image_info.bit_depth) != 8:  # float32 moves results by up to ~1 step of 16 bits
            image, image_info = read_image(args.image, alpha="keep", dtype=np.float64)
    except ValueError as exc:
        raise argument_error("IMAGE", exc, "read_image") from None
    planes = image[None] if image.ndim == 2 else image
    return (da.from_array(planes, chunks=(planes.shape[0], chunks or -1, chunks or -1)), image_info.bit_depth,
            f"{image_info.bit_depth}-bit")


def run(args: argparse.Namespace, *, plan: Callable[..., Any], antialias: Callable[..., bool],
        resize: Callable[..., Any], output_bit_depth: Callable[..., int]) -> int:
    """Run ``upconv resize`` out of core, with the in-memory path's plan, antialiasing rule, resize call and
    bit-depth rule (passed in by :mod:`upconv.cli.resize`, which checked the options); 0 on success."""
    from upconv.cli import _output as output
    from upconv.cli._progress import Progress, wanted
    from upconv.images.files import write_image
    from upconv.images.tiled import to_samples, write_tiled
    from upconv.ops import chunked

    def out_bits(bits: int | None) -> int | None:
        return (args.bit_depth or bits) if _tiled(args.output) else output_bit_depth(args, bits or 8)

    t = time.perf_counter()
    x, bits, depth = _read(args, args.chunks, out_bits)
    size, scale, out_size, _ = plan(x.shape, args)
    big = max(x.shape[1] * x.shape[2], out_size[0] * out_size[1]) >= LARGE_PIXELS
    chunk = args.chunks or (DEFAULT_CHUNK if big else None)
    if chunk is None:
        x = x.rechunk((x.shape[0], -1, -1))
    elif args.chunks is None:  # a large image: chunks of whole tiles of the file, or of DEFAULT_CHUNK
        x = _read(args, chunk, out_bits)[0] if _tiled(args.image) else x.rechunk((x.shape[0], chunk, chunk))
    aa = antialias(args, x.shape[1:], out_size)
    y, how = resize(x, size, scale, args, aa, ops=chunked)
    kind = fmt.IMAGE_KINDS[x.shape[0]]
    written_bits = out_bits(bits)
    with Progress("upconv resize", wanted(json=args.json, quiet=args.quiet)) as progress:
        if _tiled(args.output):
            data = y.astype(np.float32) if written_bits is None else to_samples(y, written_bits)
            try:
                write_tiled(args.output, data if x.shape[0] > 1 else data[0],
                            progress=lambda done, total: progress.update("resizing and writing", done, total),
                            tile=TIFF_TILE, compression=None if args.compression == "none" else args.compression)
            except ValueError as exc:
                raise argument_error("-o/--output", exc, "write_tiff") from None
        else:
            progress.update("resizing")
            result = np.asarray(y.compute())
            progress.update(f"writing {args.output}")
            try:
                write_image(args.output, result if x.shape[0] > 1 else result[0],
                            bit_depth=output_bit_depth(args, bits or 8), clip=True)
            except ValueError as exc:
                raise argument_error("-o/--output", exc, "write_image") from None
    seconds = time.perf_counter() - t
    written = "float" if written_bits is None else f"{written_bits}-bit"
    chunks = f"chunks {x.chunks[2][0]}×{x.chunks[1][0]}" if len(x.chunks[1]) * len(x.chunks[2]) > 1 else "one chunk"
    if args.json:
        output.emit("resize", {
            "input": {"path": args.image, "size": fmt.size_json(x.shape), "channels": kind, "bit_depth": bits},
            "output": {"path": args.output, "size": fmt.size_json(y.shape), "channels": kind,
                       "bit_depth": written_bits},
            "method": how, "antialias": aa, "chunks": {"width": int(x.chunks[2][0]), "height": int(x.chunks[1][0])},
            "total_ms": seconds * 1e3,
        })
    elif not args.quiet:
        fmt.Printer()(f"{args.image}: {fmt.image_size(x.shape)} {kind} {depth} -> {args.output}: "
                      f"{fmt.image_size(y.shape)} {written}, {how}, {chunks}, "
                      f"{seconds:.1f} s read, resized and written")
    return 0
