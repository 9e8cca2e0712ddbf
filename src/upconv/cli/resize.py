"""``upconv resize``: resize an image file with torch's ``interpolate`` or ONNX ``Resize``.

``upconv resize IMAGE (--scale S | --scale SX,SY | --size WxH) [--mode M] -o OUT``
reads a gray or RGB(A) image (8- or 16-bit PNG, JPEG, TIFF, anything Pillow
reads; :func:`upconv.read_image`), resizes every channel with
:func:`upconv.interpolate` (or, with ``--onnx``, :func:`upconv.resize`),
writes it with the input's bit depth unless ``--bit-depth`` says otherwise
(:func:`upconv.write_image`, atomically, overshoot clipped), and prints one
line: sizes (width × height), mode and time.  Shrinking antialiases
(bilinear, bicubic, lanczos; ONNX linear, cubic) unless ``--no-antialias``;
``-o`` naming the input is refused unless ``--force``; the output path and
format are checked before the work.  The pipeline stays in float32 for
8-bit output (float32 moves a result by at most ~2e-5, a two-hundredth
of an 8-bit step; it would move 16-bit results by up to a step, so those
are computed in float64) and converts to samples a block of rows at a
time: the peak memory stays within about 1.5 times the result
(benchmarks/bench_image_cli.py).

Examples::

    $ upconv resize photo.png --scale 2 --mode bicubic -o photo2x.png
    $ upconv resize photo.png --size 640x480 --mode area -o small.png
    $ upconv resize photo.png --scale 0.5 --mode bilinear -o half.png     # antialiased
    $ upconv resize photo.png --scale 0.5 --no-antialias -o half.png      # torch's default
    $ upconv resize scan.png --scale 3,2 --onnx --mode cubic --cubic-coeff-a -0.5 -o out.png
    $ upconv resize scan.tif --scale 2 --mode bilinear -o scan2x.tif       # out of core, tile by tile
"""

from __future__ import annotations

import argparse
import math
import os
import re
import textwrap
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import shapes
from upconv.cli import _format as fmt
from upconv.cli import _output as output
from upconv.cli import _resize_tiled
from upconv.cli._args import argument_error, check_image_output, refuse_input
from upconv.cli._progress import Progress, wanted

if TYPE_CHECKING:
    from upconv.images.files import ImageInfo

__all__ = ["add_parser", "run", "TORCH_MODES", "ONNX_MODES"]

#: ``--mode`` values of torch's ``interpolate`` (2-d), and upconv's lanczos (PIL's filter).
TORCH_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic", "area", "lanczos")
#: Modes that antialias when they shrink (torch's antialias=True; ONNX antialias=1).
ANTIALIAS_MODES = ("bilinear", "bicubic", "lanczos", "linear", "cubic")
#: The library's parameter names and the options that set them (errors name the options).
PARAMETERS = {
    "scale_factor": "--scale", "scales": "--scale", "size": "--size", "sizes": "--size", "mode": "--mode",
    "align_corners=True": "--align-corners", "antialias=True": "--antialias", "cubic_coeff_a": "--cubic-coeff-a",
    "coordinate_transformation_mode": "--coordinate-transformation-mode", "nearest_mode": "--nearest-mode",
}
#: ``--mode`` values with ``--onnx`` (``bilinear`` and ``bicubic`` are accepted for ``linear`` and ``cubic``).
ONNX_MODES = ("nearest", "linear", "cubic")
_ONNX_ALIASES = {"bilinear": "linear", "bicubic": "cubic"}
_COORDINATE_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric")
_NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")

_EPILOG = """\
modes (--mode):
  nearest        the pixel at floor(o / scale) (torch, OpenCV INTER_NEAREST)
  nearest-exact  the pixel at floor((o + 0.5) / scale) (PIL, scikit-image)
  bilinear       2 x 2 taps; --align-corners maps the corner pixel centres
                 onto each other
  bicubic        4 x 4 taps, Keys a = -0.75 (overshoot is clipped when written)
  area           the average over each output pixel's footprint (shrinking)
  lanczos        Lanczos-3, always antialiased (PIL's LANCZOS)

antialiasing: shrinking with bilinear, bicubic or lanczos (linear or cubic
with --onnx) widens the filter by the shrink factor, as Pillow, scikit-image
and ImageMagick do, unless --no-antialias (torch's and ONNX's default, which
aliases: moire on fine detail).  Enlarging is the same either way.

with --onnx (ONNX Resize, opset 19):
  --mode nearest | linear | cubic (bilinear, bicubic accepted)
  --coordinate-transformation-mode  half_pixel (default), half_pixel_symmetric,
                 pytorch_half_pixel, align_corners, asymmetric
  --nearest-mode round_prefer_floor (default), round_prefer_ceil, floor, ceil
  --cubic-coeff-a  A of the cubic kernel (default -0.75; TensorFlow: -0.5)

examples:
  upconv resize photo.png --scale 2 --mode bicubic -o photo2x.png
  upconv resize photo.png --size 640x480 --mode area -o small.png
  upconv resize photo.png --scale 0.25 --json -o small.png
  upconv resize scan.png --scale 3,2 --onnx --mode cubic --cubic-coeff-a -0.5 \\
      -o out.png
  upconv resize scan.tif --scale 2 --mode bilinear -o scan2x.tif
                 (.tif/.zarr in or out, or --chunks: out of core, tile by tile)
"""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``resize`` on the ``upconv`` sub-parsers."""
    p = subparsers.add_parser(
        "resize",
        help="resize an image file (torch interpolate or ONNX Resize semantics)",
        description=textwrap.fill(
            "Resize a gray or RGB image (8/16-bit PNG, JPEG, ...) by a scale factor or to a size, with "
            "torch's interpolate (nearest, nearest-exact, bilinear, bicubic, area, lanczos) or, with --onnx, "
            "ONNX Resize and its coordinate and rounding modes; antialiased when shrinking.", fmt.WIDTH),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("image", metavar="IMAGE", help="image to resize (gray or RGB, 8/16-bit; alpha is kept)")
    p.add_argument("-o", "--output", metavar="OUT", required=True,
                   help="resized image (.png, .jpg, ...; the extension picks the format); an existing file is "
                   "replaced atomically")
    p.add_argument("--force", action="store_true", help="allow OUT to be the input IMAGE (replaced atomically)")
    p.add_argument("--scale", metavar="S|SX,SY",
                   help="scale factor, or one for the width and one for the height (e.g. 2, 0.5, 3,2)")
    p.add_argument("--size", metavar="WxH", help="output size in pixels, width x height (e.g. 640x480)")
    p.add_argument("--mode", default="bicubic", choices=sorted(set(TORCH_MODES + ONNX_MODES)),
                   metavar="MODE", help=f"{', '.join(TORCH_MODES)} (default bicubic); see below for --onnx")
    p.add_argument("--align-corners", action="store_true",
                   help="bilinear/bicubic: align the corner pixel centres (torch align_corners=True)")
    p.add_argument("--antialias", action=argparse.BooleanOptionalAction, default=None,
                   help="bilinear/bicubic/lanczos (linear/cubic with --onnx): widen the filter when shrinking "
                   "(default: on when shrinking; --no-antialias for torch's default)")
    p.add_argument("--bit-depth", type=int, choices=(8, 16), metavar="8|16",
                   help="bits per sample of the output (default: the input's; 16 needs .png)")
    o = p.add_argument_group("ONNX Resize")
    o.add_argument("--onnx", action="store_true", help="use upconv.resize (ONNX Resize) instead of interpolate")
    o.add_argument("--coordinate-transformation-mode", choices=_COORDINATE_MODES, metavar="MODE",
                   help="ONNX coordinate mapping (default half_pixel)")
    o.add_argument("--nearest-mode", choices=_NEAREST_MODES, metavar="MODE",
                   help="ONNX rounding for --mode nearest (default round_prefer_floor)")
    o.add_argument("--cubic-coeff-a", type=float, metavar="A", help="ONNX cubic coefficient (default -0.75)")
    output.add_options(p)
    # --- out of core (issue 23): tiled TIFF / zarr, --chunks; see upconv.cli._resize_tiled ---
    _resize_tiled.add_arguments(p)
    # ---
    return p


# --------------------------------------------------------------------------
# option parsing


def parse_scale(text: str) -> tuple[float, float]:
    """``"S"`` or ``"SX,SY"`` -> ``(scale_y, scale_x)`` (positive, finite)."""
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or not all(math.isfinite(x) and x > 0 for x in values):
        raise ValueError(f"argument --scale: must be S or SX,SY with numbers > 0 (e.g. 2, 0.5, 3,2), got {text!r}")
    sx, sy = (values[0], values[0]) if len(values) == 1 else values
    return sy, sx


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` -> ``(height, width)`` (integers >= 1)."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise ValueError(f"argument --size: must be WxH with integers >= 1 (e.g. 640x480), got {text!r}")
    return int(m.group(2)), int(m.group(1))


def _check_options(args: argparse.Namespace) -> None:
    if args.scale is not None and args.size is not None:
        raise ValueError("argument --size: not allowed with argument --scale (give one of them)")
    if args.scale is None and args.size is None:
        raise ValueError("argument --scale: give --scale S (or SX,SY) or --size WxH")
    onnx_only = (("--coordinate-transformation-mode", args.coordinate_transformation_mode),
                 ("--nearest-mode", args.nearest_mode), ("--cubic-coeff-a", args.cubic_coeff_a))
    if not args.onnx:
        for name, value in onnx_only:
            if value is not None:
                raise ValueError(f"argument {name}: only used with --onnx")
        if args.mode not in TORCH_MODES:
            raise ValueError(f"argument --mode: {args.mode!r} is an ONNX mode; use --onnx, or one of "
                             f"{', '.join(TORCH_MODES)}")
        if args.align_corners and args.mode not in ("bilinear", "bicubic"):
            raise ValueError(f"argument --align-corners: only with --mode bilinear or bicubic, not {args.mode}")
        if args.antialias and args.mode not in ANTIALIAS_MODES:
            raise ValueError(f"argument --antialias: only with --mode bilinear, bicubic or lanczos, not {args.mode}")
        if args.antialias is False and args.mode == "lanczos":
            raise ValueError("argument --no-antialias: lanczos is always antialiased (PIL's filter); "
                             "use --mode bicubic --no-antialias")
        if args.align_corners and args.antialias:
            raise ValueError("argument --align-corners: not with --antialias (give --no-antialias)")
        return
    args.mode = _ONNX_ALIASES.get(args.mode, args.mode)
    if args.mode not in ONNX_MODES:
        raise ValueError(f"argument --mode: with --onnx must be one of {', '.join(ONNX_MODES)}, got {args.mode!r}")
    if args.align_corners:
        raise ValueError("argument --align-corners: not used with --onnx; "
                         "give --coordinate-transformation-mode align_corners")
    if args.nearest_mode is not None and args.mode != "nearest":
        raise ValueError(f"argument --nearest-mode: only with --mode nearest, not {args.mode}")
    if args.cubic_coeff_a is not None and args.mode != "cubic":
        raise ValueError(f"argument --cubic-coeff-a: only with --mode cubic, not {args.mode}")
    if args.cubic_coeff_a is not None and not math.isfinite(args.cubic_coeff_a):
        raise ValueError(f"argument --cubic-coeff-a: must be a finite number, got {args.cubic_coeff_a}")
    if args.antialias and args.mode == "nearest":
        raise ValueError("argument --antialias: only with --mode linear or cubic")
    if args.mode == "lanczos":
        raise ValueError("argument --mode: lanczos is not an ONNX Resize mode; leave out --onnx")


def _output_bit_depth(args: argparse.Namespace, in_bits: int) -> int:
    is_png = os.path.splitext(args.output)[1].lower() == ".png"
    if args.bit_depth is not None:
        if args.bit_depth == 16 and not is_png:
            raise ValueError(f"argument --bit-depth: 16 bits need a .png output, got {args.output!r}")
        return args.bit_depth
    return 16 if in_bits >= 16 and is_png else 8


# --------------------------------------------------------------------------
# running


def _plan(in_shape: tuple[int, ...],
          args: argparse.Namespace) -> tuple[tuple[int, int] | None, tuple[float, float] | None, tuple[int, int], str]:
    """``(size, scale, output (H, W), option name)``: the requested resize, validated without computing."""
    size = parse_size(args.size) if args.size is not None else None
    scale = parse_scale(args.scale) if args.scale is not None else None
    name = "--size" if size else "--scale"
    try:
        if not args.onnx:
            out = shapes.interpolate_output_size(in_shape[1:], size, scale, allow_empty=True)
        else:
            out = shapes.resize_output_size(in_shape, list(size) if size else None, list(scale) if scale else None,
                                            axes=(1, 2))[1:]
    except ValueError as exc:  # the library's words, put in the CLI's by upconv.cli._errors
        raise ValueError(f"argument {name}: {exc}") from None
    if min(out) < 1:
        raise ValueError(f"argument {name}: gives an output size of {fmt.image_size(out)} (width x height) for an "
                         f"input of {fmt.image_size(in_shape)}; both must be >= 1")
    return size, scale, (int(out[0]), int(out[1])), name


def _antialias(args: argparse.Namespace, in_size: tuple[int, int], out_size: tuple[int, int]) -> bool:
    """``--antialias`` as given, else on when an axis shrinks and the mode has an antialiased filter."""
    if args.mode == "lanczos":
        return True
    if args.antialias is not None:
        return bool(args.antialias)
    return args.mode in ANTIALIAS_MODES and not args.align_corners and any(
        o < i for o, i in zip(out_size, in_size))


def _resize(img: Any, size: Sequence[int] | None, scale: Sequence[float] | None,
            args: argparse.Namespace, antialias: bool, progress: Progress | None = None,
            ops: Any = None) -> tuple[Any, str]:
    """``(C, H, W)`` -> ``(C, H', W')`` and a description of what was done.

    NumPy images go one channel at a time; ``ops`` (:mod:`upconv.ops.chunked`) resizes a Dask image in
    one lazy call.
    """
    import upconv

    if not args.onnx:
        kw: dict[str, Any] = {}
        if args.mode in ("bilinear", "bicubic", "lanczos"):
            kw = {"align_corners": bool(args.align_corners), "antialias": antialias}

        def one(plane: np.ndarray) -> np.ndarray:
            return upconv.interpolate(plane[None, None], size=size, scale_factor=scale, mode=args.mode, **kw)[0, 0]
        how = args.mode + "".join(f", {k}" for k, on in kw.items() if on)
        if ops is not None:
            return ops.interpolate(img[None], size=size, scale_factor=scale, mode=args.mode, **kw)[0], how
    else:
        ctm = args.coordinate_transformation_mode or "half_pixel"
        opts: dict[str, Any] = {"mode": args.mode, "coordinate_transformation_mode": ctm, "antialias": antialias}
        how = f"ONNX Resize {args.mode}, {ctm}"
        if args.mode == "nearest":
            opts["nearest_mode"] = args.nearest_mode or "round_prefer_floor"
            how += f", {opts['nearest_mode']}"
        if args.mode == "cubic":
            opts["cubic_coeff_a"] = -0.75 if args.cubic_coeff_a is None else args.cubic_coeff_a
            how += f", a={opts['cubic_coeff_a']:g}"
        if antialias:
            how += ", antialias"
        sizes = list(size) if size else None
        scales = list(scale) if scale else None

        def one(plane: np.ndarray) -> np.ndarray:
            return upconv.resize(plane, sizes, scales, axes=(0, 1), **opts)
        if ops is not None:
            return ops.resize(img, sizes, scales, axes=(1, 2), **opts), how
    n = img.shape[0]
    if progress is not None:
        progress.update("resizing", 1 if n > 1 else None, n if n > 1 else None)
    first = one(img[0])
    if n == 1:
        return first[None], how
    out = np.empty((n, *first.shape), dtype=first.dtype)  # the result, filled a channel at a time
    out[0] = first
    del first
    for c in range(1, n):
        if progress is not None:
            progress.update("resizing", c + 1, n)
        out[c] = one(img[c])
    return out, how


def _warm_up(img: np.ndarray, out: tuple[int, int], args: argparse.Namespace, antialias: bool) -> None:
    """Resize a corner of at most 16 x 16 pixels in the same direction, so that the timed call does not
    include the one-time loading of compiled kernels."""
    small = np.ascontiguousarray(img[:1, :16, :16])
    target = tuple(max(1, round(o * t / i)) for o, t, i in zip(out, small.shape[1:], img.shape[1:], strict=False))
    try:
        _resize(small, target, None, args, antialias)
    except (ValueError, MemoryError):  # the real call reports any problem
        pass


def _read(path: str, dtype: type[np.floating[Any]]) -> tuple[np.ndarray, ImageInfo]:
    from upconv.images.files import read_image

    try:
        return read_image(path, alpha="keep", dtype=dtype)
    except ValueError as exc:
        raise argument_error("IMAGE", exc, "read_image") from None


def run(args: argparse.Namespace) -> int:
    """Run ``upconv resize``; 0 on success."""
    from upconv.images.files import write_image

    _check_options(args)
    # --- out of core (issue 23): tiled TIFF / zarr, --chunks; see upconv.cli._resize_tiled ---
    if _resize_tiled.wanted(args):
        refuse_input(args.output, "-o/--output", [args.image], args.force)
        return _resize_tiled.run(args, plan=_plan, antialias=_antialias, resize=_resize,
                                 output_bit_depth=_output_bit_depth)
    # ---
    _output_bit_depth(args, 8)  # --bit-depth 16 needs .png
    check_image_output(args.output, "-o/--output", inputs=[args.image], force=args.force,
                       bit_depth=args.bit_depth or 8)  # before any work; the input's depth and alpha below
    image, info = _read(args.image, np.float32)
    bits = _output_bit_depth(args, info.bit_depth)
    if bits == 16:  # float32 moves results by up to ~1 step of 16 bits (not of 8): compute in float64
        image, info = _read(args.image, np.float64)
    planes = image[None] if image.ndim == 2 else image
    del image
    check_image_output(args.output, "-o/--output", bit_depth=bits, channels=planes.shape[0])
    size, scale, out_size, _ = _plan(planes.shape, args)
    antialias = _antialias(args, planes.shape[1:], out_size)
    _warm_up(planes, out_size, args, antialias)
    with Progress("upconv resize", wanted(json=args.json, quiet=args.quiet)) as progress:
        t = time.perf_counter()
        out, how = _resize(planes, size, scale, args, antialias, progress)
        seconds = time.perf_counter() - t
        progress.update(f"writing {args.output}")
        t = time.perf_counter()
        try:
            write_image(args.output, out[0] if out.shape[0] == 1 else out, bit_depth=bits, clip=True)
        except ValueError as exc:
            raise argument_error("-o/--output", exc, "write_image") from None
        write_seconds = time.perf_counter() - t
    kind = fmt.IMAGE_KINDS[planes.shape[0]]
    if args.json:
        output.emit("resize", {
            "input": {"path": args.image, "size": fmt.size_json(planes.shape), "channels": kind,
                      "bit_depth": info.bit_depth, "format": info.format},
            "output": {"path": args.output, "size": fmt.size_json(out.shape), "channels": kind, "bit_depth": bits},
            "method": how, "antialias": antialias, "resize_ms": seconds * 1e3, "write_ms": write_seconds * 1e3,
        })
    elif not args.quiet:
        fmt.Printer()(f"{args.image}: {fmt.image_size(planes.shape)} {kind} {info.bit_depth}-bit -> {args.output}: "
                      f"{fmt.image_size(out.shape)} {bits}-bit, {how}, {seconds * 1e3:.1f} ms")
    return 0
