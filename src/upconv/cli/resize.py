"""``upconv resize``: resize an image file with torch's ``interpolate`` or ONNX ``Resize``.

``upconv resize IMAGE (--scale S | --scale SX,SY | --size WxH) [--mode M] -o OUT``
reads a gray or RGB(A) image (8- or 16-bit PNG, JPEG, anything Pillow
reads; :func:`upconv.read_image`), resizes every channel with
:func:`upconv.interpolate` (or, with ``--onnx``, :func:`upconv.resize`),
writes it with the input's bit depth unless ``--bit-depth`` says otherwise
(:func:`upconv.write_image`), and prints one line: sizes, mode and time.

Examples::

    $ upconv resize photo.png --scale 2 --mode bicubic -o photo2x.png
    $ upconv resize photo.png --size 640x480 --mode area -o small.png
    $ upconv resize photo.png --scale 0.5 --mode bilinear --antialias -o half.png
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
from typing import Any

import numpy as np

from upconv import shapes
from upconv.cli import _format as fmt
from upconv.cli import _resize_tiled
from upconv.cli._args import argument_error

__all__ = ["add_parser", "run", "TORCH_MODES", "ONNX_MODES"]

#: ``--mode`` values of torch's ``interpolate`` (2-d).
TORCH_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic", "area")
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
  --antialias    bilinear/bicubic: widen the filter by the shrink factor (PIL)

with --onnx (ONNX Resize, opset 19):
  --mode nearest | linear | cubic (bilinear, bicubic accepted)
  --coordinate-transformation-mode  half_pixel (default), half_pixel_symmetric,
                 pytorch_half_pixel, align_corners, asymmetric
  --nearest-mode round_prefer_floor (default), round_prefer_ceil, floor, ceil
  --cubic-coeff-a  A of the cubic kernel (default -0.75; TensorFlow: -0.5)
  --antialias    linear/cubic: stretch the filter when shrinking

examples:
  upconv resize photo.png --scale 2 --mode bicubic -o photo2x.png
  upconv resize photo.png --size 640x480 --mode area -o small.png
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
            "torch's interpolate (nearest, nearest-exact, bilinear, bicubic, area) or, with --onnx, ONNX "
            "Resize and its coordinate and rounding modes.", fmt.WIDTH),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("image", metavar="IMAGE", help="image to resize (gray or RGB, 8/16-bit; alpha is kept)")
    p.add_argument("-o", "--output", metavar="OUT", required=True,
                   help="resized image (.png, .jpg, ...; the extension picks the format)")
    p.add_argument("--scale", metavar="S|SX,SY",
                   help="scale factor, or one for the width and one for the height (e.g. 2, 0.5, 3,2)")
    p.add_argument("--size", metavar="WxH", help="output size in pixels, width x height (e.g. 640x480)")
    p.add_argument("--mode", default="bicubic", choices=sorted(set(TORCH_MODES + ONNX_MODES)),
                   metavar="MODE", help=f"{', '.join(TORCH_MODES)} (default bicubic); see below for --onnx")
    p.add_argument("--align-corners", action="store_true",
                   help="bilinear/bicubic: align the corner pixel centres (torch align_corners=True)")
    p.add_argument("--antialias", action="store_true",
                   help="bilinear/bicubic (linear/cubic with --onnx): anti-alias when shrinking")
    p.add_argument("--bit-depth", type=int, choices=(8, 16), metavar="8|16",
                   help="bits per sample of the output (default: the input's; 16 needs .png)")
    o = p.add_argument_group("ONNX Resize")
    o.add_argument("--onnx", action="store_true", help="use upconv.resize (ONNX Resize) instead of interpolate")
    o.add_argument("--coordinate-transformation-mode", choices=_COORDINATE_MODES, metavar="MODE",
                   help="ONNX coordinate mapping (default half_pixel)")
    o.add_argument("--nearest-mode", choices=_NEAREST_MODES, metavar="MODE",
                   help="ONNX rounding for --mode nearest (default round_prefer_floor)")
    o.add_argument("--cubic-coeff-a", type=float, metavar="A", help="ONNX cubic coefficient (default -0.75)")
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


def _dims(h: int, w: int) -> str:
    return f"{w}×{h}"


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
        if args.antialias and args.mode not in ("bilinear", "bicubic"):
            raise ValueError(f"argument --antialias: only with --mode bilinear or bicubic, not {args.mode}")
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


def _output_bit_depth(args: argparse.Namespace, in_bits: int) -> int:
    is_png = os.path.splitext(args.output)[1].lower() == ".png"
    if args.bit_depth is not None:
        if args.bit_depth == 16 and not is_png:
            raise ValueError(f"argument --bit-depth: 16 bits need a .png output, got {args.output!r}")
        return args.bit_depth
    return 16 if in_bits == 16 and is_png else 8


# --------------------------------------------------------------------------
# running


def _plan(in_shape: tuple[int, ...], args: argparse.Namespace) -> tuple[Any, Any, tuple[int, int], str]:
    """``(size, scale, output (H, W), option name)``: the requested resize, validated without computing."""
    size = parse_size(args.size) if args.size is not None else None
    scale = parse_scale(args.scale) if args.scale is not None else None
    name = "--size" if size else "--scale"
    if not args.onnx:
        out = shapes.interpolate_output_size(in_shape[1:], size, scale, func=f"argument {name}")
    else:
        try:
            out = shapes.resize_output_size(in_shape, list(size) if size else None, list(scale) if scale else None,
                                            axes=(1, 2))[1:]
        except ValueError as exc:
            raise ValueError(f"argument {name}: {exc}") from None
        if min(out) < 1:
            raise ValueError(f"argument {name}: gives an output size of {_dims(*out)} (width x height) for an "
                             f"input of {_dims(*in_shape[1:])}; both must be >= 1")
    return size, scale, (int(out[0]), int(out[1])), name


def _resize(img: np.ndarray, size: Any, scale: Any, args: argparse.Namespace, ops: Any = None) -> tuple[Any, str]:
    """``(C, H, W)`` -> ``(C, H', W')`` and a description of what was done; ``ops`` has the operators
    (default ``upconv``; :mod:`upconv.ops.chunked` for Dask arrays)."""
    import upconv

    ops = upconv if ops is None else ops
    if not args.onnx:
        kw: dict[str, Any] = {}
        if args.mode in ("bilinear", "bicubic"):
            kw = {"align_corners": bool(args.align_corners), "antialias": bool(args.antialias)}
        y = ops.interpolate(img[None], size=size, scale_factor=scale, mode=args.mode, **kw)[0]
        return y, args.mode + "".join(f", {k}" for k, on in kw.items() if on)
    ctm = args.coordinate_transformation_mode or "half_pixel"
    opts: dict[str, Any] = {"mode": args.mode, "coordinate_transformation_mode": ctm,
                            "antialias": bool(args.antialias)}
    how = f"ONNX Resize {args.mode}, {ctm}"
    if args.mode == "nearest":
        opts["nearest_mode"] = args.nearest_mode or "round_prefer_floor"
        how += f", {opts['nearest_mode']}"
    if args.mode == "cubic":
        opts["cubic_coeff_a"] = -0.75 if args.cubic_coeff_a is None else args.cubic_coeff_a
        how += f", a={opts['cubic_coeff_a']:g}"
    if args.antialias:
        how += ", antialias"
    sizes = list(size) if size else None
    scales = list(scale) if scale else None
    return ops.resize(img, sizes, scales, axes=(1, 2), **opts), how


def _warm_up(img: np.ndarray, out: tuple[int, int], args: argparse.Namespace) -> None:
    """Resize a corner of at most 16 x 16 pixels in the same direction, so that the timed call does not
    include the one-time loading of compiled kernels."""
    small = np.ascontiguousarray(img[:, :16, :16])
    target = tuple(max(1, round(o * t / i)) for o, t, i in zip(out, small.shape[1:], img.shape[1:], strict=False))
    try:
        _resize(small, target, None, args)
    except (ValueError, MemoryError):  # the real call reports any problem
        pass


def run(args: argparse.Namespace) -> int:
    """Run ``upconv resize``; 0 on success."""
    from upconv.images.files import read_image, write_image

    # --- out of core (issue 23): tiled TIFF / zarr, --chunks; see upconv.cli._resize_tiled ---
    if _resize_tiled.wanted(args):
        return _resize_tiled.run(args, check_options=_check_options, plan=_plan, resize=_resize,
                                 output_bit_depth=_output_bit_depth)
    # ---

    _check_options(args)
    try:
        image, info = read_image(args.image, alpha="keep")
    except ValueError as exc:
        raise argument_error("IMAGE", exc, "read_image") from None
    bits = _output_bit_depth(args, info.bit_depth)
    planes = image[None] if image.ndim == 2 else image
    size, scale, out_size, _ = _plan(planes.shape, args)
    _warm_up(planes, out_size, args)
    t = time.perf_counter()
    out, how = _resize(planes, size, scale, args)
    seconds = time.perf_counter() - t
    result = out[0] if image.ndim == 2 else out
    try:
        write_image(args.output, result, bit_depth=bits)
    except ValueError as exc:
        raise argument_error("-o/--output", exc, "write_image") from None
    kind = {1: "gray", 2: "gray+alpha", 3: "RGB", 4: "RGBA"}[planes.shape[0]]
    printer = fmt.Printer()
    printer(f"{args.image}: {_dims(*planes.shape[1:])} {kind} {info.bit_depth}-bit -> {args.output}: "
            f"{_dims(*out.shape[1:])} {bits}-bit, {how}, {seconds * 1e3:.1f} ms")
    return 0
