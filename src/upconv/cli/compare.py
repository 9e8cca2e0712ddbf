"""``upconv compare``: down-sample an image, up-sample it back every way, score and show the results.

``upconv compare [IMAGE] [--scale 4] [--figure OUT.png]`` runs
:func:`upconv.compare.compare_upsamplers` (area down-sampling by ``--scale``,
then every up-sampling method: interpolation modes, unpooling, max-unpooling
with the max-pool indices, FCN's bilinear transposed convolution,
resize-convolution), prints a table of PSNR / SSIM against the original and
time per method, best first, and with ``--figure`` draws the same crop of
every result side by side (:func:`upconv.figures.studies.plot_comparison`).

Examples::

    $ upconv compare
    $ upconv compare --image zone_plate --scale 2 --figure zone.png
    $ upconv compare photo.png --scale 4 --figure cmp.png --crop 100,80,64,64
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable

import numpy as np

from upconv import shapes
from upconv.cli import _format as fmt
from upconv.cli import _output as output
from upconv.cli._args import argument_error, check_figure_output
from upconv.cli._progress import Progress, wanted
from upconv.explain import report

__all__ = ["add_parser", "run", "DEFAULT_IMAGE"]

#: The built-in image used when no IMAGE is given.
DEFAULT_IMAGE = "astronaut"
_BUILTIN = ("zone_plate", "siemens_star", "text", "astronaut", "astronaut_gray")
#: The library's parameter names and the options that set them (errors name the options).
PARAMETERS = {"scale": "--scale", "methods": "--methods", "repeat": "--repeat", "size": "--size", "crop": "--crop"}

_EPILOG = f"""\
the default image:
  With no IMAGE the built-in {DEFAULT_IMAGE} photograph (256 x 256 RGB, public
  domain) is used: its table ranks the methods as real images do (bicubic >
  bilinear > nearest > unpooling).  The test charts (--image zone_plate,
  siemens_star, text) hold detail up to the Nyquist limit, which no method
  recovers after down-sampling by --scale: their PSNRs all sit near 10 dB and
  favour the blocky methods (the block mean is the best constant per block).
  Use them with --figure to see aliasing and blocking.

methods (--methods, comma-separated; default all):
  nearest, nearest-exact, bilinear, bilinear-align-corners, bicubic, area,
  unpool-nearest, bed_of_nails (bed-of-nails accepted),
  max-unpool      the block means put at the max-pool indices of the original
  conv-transpose  FCN bilinear kernel, k = 2s - s%2, stride s, padding s//2
  resize-conv     nearest + a box of width s: bilinear inside, darker borders

examples:
  upconv compare
  upconv compare --image zone_plate --scale 2 --figure zone.png
  upconv compare photo.png --scale 4 --figure cmp.png --crop 100,80,64,64
"""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``compare`` on the ``upconv`` sub-parsers."""
    p = subparsers.add_parser(
        "compare",
        help="down-sample an image and up-sample it back with every method; score them",
        description=textwrap.fill(
            "Down-sample an image by --scale (area average), up-sample it back with every method "
            "(interpolation modes, unpooling, max-unpooling, FCN's bilinear transposed convolution, "
            "resize-convolution), and print PSNR / SSIM against the original and the time of each, "
            "best first; --figure draws the same crop of every result side by side.", fmt.WIDTH),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("image", nargs="?", metavar="IMAGE",
                   help=f"gray or RGB image file (default: the built-in {DEFAULT_IMAGE} photograph)")
    p.add_argument("--image", dest="builtin", choices=_BUILTIN, metavar="NAME",
                   help=f"a built-in image instead: {', '.join(_BUILTIN)}")
    p.add_argument("--scale", type=int, default=4, metavar="S", help="integer factor >= 2 (default 4)")
    p.add_argument("--size", type=int, metavar="N",
                   help="side of the built-in image in pixels (default 256)")
    p.add_argument("--figure", metavar="OUT.png", help="write the crops side by side (.png, .svg or .pdf)")
    p.add_argument("--crop", metavar="X,Y,W,H",
                   help="figure region of the original, in pixels (default: the central half)")
    p.add_argument("--methods", metavar="LIST", help="comma-separated methods to run (default all)")
    p.add_argument("--repeat", type=int, default=3, metavar="N",
                   help="timed runs per method, fastest reported (default 3)")
    output.add_options(p)
    return p


def _parse_crop(text: str) -> tuple[int, int, int, int]:
    try:
        values = tuple(int(t) for t in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or min(values[:2]) < 0 or min(values[2:]) < 1:
        raise ValueError(f"argument --crop: must be X,Y,W,H with X, Y >= 0 and W, H >= 1, got {text!r}")
    return values


def _parse_methods(text: str) -> list[str]:
    from upconv.studies.compare import UPSAMPLERS

    # the library spells bed_of_nails as unpool's mode does; the old bed-of-nails still works here
    names = [t.strip().replace("bed-of-nails", "bed_of_nails") for t in text.split(",") if t.strip()]
    bad = [t for t in names if t not in UPSAMPLERS]
    if bad or not names:
        raise ValueError(f"argument --methods: unknown method(s) {', '.join(bad) or repr(text)}; "
                         f"choose from {', '.join(UPSAMPLERS)}")
    return names


def _check_options(args: argparse.Namespace) -> None:
    if args.image is not None and args.builtin is not None:
        raise ValueError("argument --image: not allowed with an IMAGE file (give one of them)")
    if args.scale < 2:
        raise ValueError(f"argument --scale: must be an integer >= 2, got {args.scale}")
    if args.repeat < 1:
        raise ValueError(f"argument --repeat: must be >= 1, got {args.repeat}")
    if args.size is not None:
        if args.image is not None:
            raise ValueError("argument --size: only for the built-in images, not with an IMAGE file")
        if args.size < 1:
            raise ValueError(f"argument --size: must be >= 1, got {args.size}")
    if args.crop is not None and args.figure is None:
        raise ValueError("argument --crop: only used with --figure")
    if args.figure is not None:  # before any work
        check_figure_output(args.figure, "--figure", inputs=[args.image] if args.image else [])


def _load(args: argparse.Namespace) -> tuple[np.ndarray, str]:
    from upconv.studies.compare import builtin_image

    if args.image is None:
        name = args.builtin or DEFAULT_IMAGE
        img = builtin_image(name, args.size)
        return img, f"{name} (built-in)"
    from upconv.images.files import read_image

    try:
        img, _ = read_image(args.image)
    except ValueError as exc:
        raise argument_error("IMAGE", exc, "read_image") from None
    return img, args.image


def _style(color: bool) -> Callable[[str, str, int], str]:
    def style(text: str, column: str, row: int) -> str:
        if column == "PSNR dB" and row == 0:
            return report.paint(text, "green", color)
        if column == "method" and row == 0:
            return report.paint(text, "bold", color)
        if column == "note":
            return report.paint(text, "dim", color)
        return text
    return style


def run(args: argparse.Namespace) -> int:
    """Run ``upconv compare``; 0 on success."""
    from upconv.figures.studies import plot_comparison
    from upconv.studies.compare import compare_upsamplers

    _check_options(args)
    methods = _parse_methods(args.methods) if args.methods is not None else None
    crop = _parse_crop(args.crop) if args.crop is not None else None
    image, source = _load(args)
    s = args.scale
    in_size = image.shape[-2:]
    source_label = "IMAGE" if args.image is not None else "--size"
    if min(in_size) < s:
        raise ValueError(f"argument {source_label}: the image ({_dims(in_size)}) is smaller than --scale {s}")
    low_size = shapes.pool_output_size(in_size, s)
    size = shapes.unpool_output_size(low_size, s)
    if min(size) < 7:
        raise ValueError(f"argument {source_label}: the image ({_dims(in_size)}, trimmed to {_dims(size)} for "
                         f"--scale {s}) is too small: SSIM needs at least 7 x 7 pixels")
    if crop is not None:
        x0, y0, cw, ch = crop
        if x0 + cw > size[1] or y0 + ch > size[0]:
            raise ValueError(f"argument --crop: {args.crop!r} reaches beyond the {_dims(size)} image "
                             "(width x height, trimmed to a multiple of --scale)")
    with Progress("upconv compare", wanted(json=args.json, quiet=args.quiet)) as progress:
        result = compare_upsamplers(image, s, methods=methods, repeat=args.repeat,
                                    progress=lambda method, i, n: progress.update(method, i, n))
        if args.figure is not None:
            progress.update(f"drawing {args.figure}")
            try:
                plot_comparison(result, args.figure, crop=crop)
            except OSError as exc:
                raise ValueError(f"argument --figure: cannot write {args.figure!r}: {exc.strerror or exc}") from None
    kind = "gray" if image.ndim == 2 else f"{image.shape[0]} channels"
    if args.json:
        output.emit("compare", {
            "image": source, "size": fmt.size_json(in_size), "channels": 1 if image.ndim == 2 else image.shape[0],
            "scale": s, "trimmed_size": fmt.size_json(size), "low_size": fmt.size_json(low_size),
            "down": "area average", "scores": "PSNR and SSIM against the original (data range 1), outputs clipped "
            "to [0, 1]; time of the up-sampling alone, fastest of --repeat runs",
            "rows": [{"rank": i, "method": r.method, "psnr_db": r.psnr, "ssim": r.ssim, "time_ms": r.seconds * 1e3,
                      "note": r.description} for i, r in enumerate(result.scores, 1)],
            "best": result.best, "figure": args.figure,
        })
        return 0
    out = fmt.Printer()
    if args.quiet:
        best = result.scores[0]
        out(f"best: {best.method}, PSNR {best.psnr:.2f} dB, SSIM {best.ssim:.4f}")
        return 0
    out.header(f"upconv compare: {source}, {_dims(in_size)} {kind}, x{s}")
    trimmed = "" if tuple(size) == tuple(in_size) else f" (trimmed to {_dims(size)})"
    out(f"  down  area average {s}×{s}{trimmed} -> {_dims(low_size)}; max-pool indices kept for max-unpool")
    out(f"  up    back to {_dims(size)} by each method, clipped to [0, 1]")
    out("  score PSNR and SSIM against the original, time of the up-sampling alone")
    out()
    out.lines(result.table_lines(_style(out.color)))
    if args.figure is not None:
        out()
        out(f"figure: {args.figure}")
    return 0


#: ``(H, W)`` -> ``"W×H"``: image sizes are width × height in every message.
_dims = fmt.image_size
