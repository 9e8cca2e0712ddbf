"""``upconv deconvolve``: undo a blur (or a strided blur) with the true inverse, not the transpose.

Two modes:

``upconv deconvolve IMAGE --kernel SPEC -o OUT``
    Read a gray or RGB image (8- or 16-bit PNG, JPEG, anything Pillow
    reads; :func:`upconv.images.files.read_image`, alpha dropped), deconvolve
    every channel with the same kernel (:func:`upconv.deconvolve`) and write
    the result with the input's bit depth (16 bits for PNG output only;
    :func:`upconv.images.files.write_image`).  With ``--stride S`` the image is
    taken to be a blurred and ``S``-times subsampled picture and the result
    is ``S`` times larger (super-resolution as an inverse problem; lsqr or
    cg).

``upconv deconvolve --demo``
    Blur (and with ``--stride 2`` also subsample) the built-in photograph
    (:func:`upconv.data.photograph`, gray, resized to ``--size``), add
    noise, restore it with every method, print a table (PSNR, SSIM, time)
    and optionally draw a figure.  The ``transpose`` row is the transposed
    convolution ``Cᵀy``: it restores the shape, not the image.

Examples::

    $ upconv deconvolve --demo
    $ upconv deconvolve --demo --stride 2 --figure demo.png
    $ upconv deconvolve photo.png --kernel motion:9,30 --method richardson_lucy -o sharp.png
    $ upconv deconvolve small.png --kernel gaussian:1.0 --stride 2 --method lsqr -o large.png
"""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np

from upconv.cli import _format as fmt
from upconv.cli._args import argument_error
from upconv.restore.blur import blur_kernel
from upconv.restore.deconvolution import DECONVOLVE_METHODS

__all__ = ["add_parser", "run"]

_EPILOG = """\
kernels (--kernel):
  gaussian:SIGMA[,SIZE]   Gaussian of std SIGMA pixels (SIZE taps, default 2*ceil(3*SIGMA)+1)
  box:SIZE                uniform SIZE x SIZE
  motion:LENGTH,ANGLE     a line LENGTH pixels long at ANGLE degrees (counter-clockwise)
  FILE.npy                a 2-d kernel as stored (the correlation kernel, torch convention)

methods (--method):
  lsqr, cg          least squares with a smoothness prior (--smoothness, --damp); any stride
  wiener            Fourier-domain inverse filter (--balance, --boundary); stride 1
  richardson_lucy   multiplicative EM for non-negative images; stride 1
  transpose         the transposed convolution C^T y, for comparison: not an inverse

examples:
  upconv deconvolve --demo
  upconv deconvolve --demo --stride 2 --noise 0.005 --figure demo.png
  upconv deconvolve photo.png --kernel motion:9,30 -o sharp.png
  upconv deconvolve small.png --kernel gaussian:1.0 --stride 2 --method lsqr -o large.png
"""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``deconvolve`` on the ``upconv`` sub-parsers."""
    p = subparsers.add_parser(
        "deconvolve",
        help="undo a blur with the true inverse (and see that the transpose is not one)",
        description=textwrap.fill(
            "Recover an image from its blurred (and possibly subsampled) version with a known kernel: "
            "least squares (lsqr, cg), Wiener, Richardson-Lucy, and the transposed convolution for "
            "comparison.  --demo runs every method on a built-in image and scores them.", fmt.WIDTH),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("image", nargs="?", metavar="IMAGE", help="image to restore (gray or RGB, 8/16-bit)")
    p.add_argument("-o", "--output", metavar="OUT", help="restored image (same bit depth; .png, .jpg, ...)")
    p.add_argument("--demo", action="store_true", help="blur a built-in image, restore it every way, score")
    p.add_argument("--kernel", default="gaussian:2.0", metavar="SPEC",
                   help="blur kernel: gaussian:SIGMA, box:SIZE, motion:LENGTH,ANGLE or FILE.npy "
                        "(default gaussian:2.0)")
    p.add_argument("--method", metavar="METHOD",
                   help=f"{', '.join(DECONVOLVE_METHODS)} (default richardson_lucy; lsqr with --stride > 1)")
    p.add_argument("--stride", type=int, default=1, metavar="S",
                   help="subsampling of the observed image (default 1); > 1 upscales by S")
    p.add_argument("--iterations", type=int, metavar="N",
                   help="iterations (default: lsqr/cg up to 100, richardson_lucy 30)")
    p.add_argument("--smoothness", type=float, default=0.1, metavar="L",
                   help="lsqr/cg: weight of the smoothness prior ||grad x||^2 (default 0.1)")
    p.add_argument("--damp", type=float, default=0.0, metavar="D", help="lsqr/cg: weight of ||x||^2 (default 0)")
    p.add_argument("--balance", type=float, default=0.05, metavar="B",
                   help="wiener: regularisation (scikit-image's balance, default 0.05)")
    p.add_argument("--boundary", choices=("periodic", "reflect"), default="reflect",
                   help="wiener: boundary model (default reflect)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    d = p.add_argument_group("demo")
    d.add_argument("--noise", type=float, default=0.01, metavar="SIGMA",
                   help="std of the Gaussian noise added to the blurred image (default 0.01)")
    d.add_argument("--size", type=int, default=256, metavar="N", help="side of the demo image (default 256)")
    d.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    d.add_argument("--figure", metavar="OUT.png", help="write a figure of every restoration")
    return p


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The options of :func:`upconv.deconvolve` given on the command line (each method uses its own)."""
    return dict(iterations=args.iterations, smoothness=args.smoothness, damp=args.damp, balance=args.balance,
                boundary=args.boundary)


# --------------------------------------------------------------------------
# the two modes


def _parse_kernel(spec: str) -> np.ndarray:
    try:
        kernel = blur_kernel(spec)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"argument --kernel: {exc}") from None
    if kernel.ndim != 2:
        raise ValueError(f"argument --kernel: images need a 2-d kernel, got shape {kernel.shape}")
    return kernel


def _check_options(args: argparse.Namespace) -> None:
    if args.method is None:
        args.method = "richardson_lucy" if args.stride == 1 else "lsqr"
    if args.method not in DECONVOLVE_METHODS:
        raise ValueError(f"argument --method: must be one of {', '.join(DECONVOLVE_METHODS)}, got {args.method!r}")
    for name, value, low in (("--stride", args.stride, 1), ("--size", args.size, 8),
                             ("--iterations", args.iterations, 1)):
        if value is not None and value < low:
            raise ValueError(f"argument {name}: must be >= {low}, got {value}")
    for name, value in (("--smoothness", args.smoothness), ("--damp", args.damp), ("--balance", args.balance),
                        ("--noise", args.noise)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"argument {name}: must be a finite number >= 0, got {value}")


def run(args: argparse.Namespace) -> int:
    """Run ``upconv deconvolve``; 0 on success."""
    _check_options(args)
    if args.progress is None:
        args.progress = sys.stderr.isatty()
    kernel = _parse_kernel(args.kernel)
    if args.demo:
        if args.image is not None or args.output is not None:
            raise ValueError("argument --demo: takes no IMAGE and no -o/--output (use --figure)")
        return _demo(args, kernel)
    if args.image is None:
        raise ValueError("argument IMAGE: give an image to restore, or --demo")
    if args.output is None:
        raise ValueError("argument -o/--output: required with an IMAGE")
    if args.figure is not None:
        raise ValueError("argument --figure: only used with --demo")
    return _restore_file(args, kernel)


def _restore_file(args: argparse.Namespace, kernel: np.ndarray) -> int:
    from upconv.images.files import read_image, write_image
    from upconv.studies.deblur import STRIDE1_ONLY, deblur_image

    method = args.method
    if args.stride > 1 and method in STRIDE1_ONLY:
        raise ValueError(f"argument --method: {method} needs stride 1; use lsqr or cg with --stride {args.stride}")
    try:
        image, info = read_image(args.image)  # (H, W) gray or (3, H, W) RGB; alpha dropped
    except ValueError as exc:
        raise argument_error("IMAGE", exc, "read_image") from None
    # the input's bit depth where the output format has it (16 bits: PNG only; 1-bit input: 8)
    bits = 16 if info.bit_depth == 16 and Path(args.output).suffix.lower() == ".png" else 8
    t = time.perf_counter()
    out = deblur_image(image, kernel, stride=args.stride, method=method, progress=bool(args.progress),
                       **_options(args))
    seconds = time.perf_counter() - t
    try:
        write_image(args.output, out, bit_depth=bits)
    except ValueError as exc:
        raise argument_error("-o/--output", exc, "write_image") from None
    kind = "gray" if image.ndim == 2 else "RGB"
    print(f"{args.image}: {fmt.join_dims(image.shape[-2:])} {kind}, {info.bit_depth}-bit -> {args.output}: "
          f"{fmt.join_dims(out.shape[-2:])}, {method}, kernel {args.kernel} {fmt.join_dims(kernel.shape)}, "
          f"{seconds * 1e3:.0f} ms")
    return 0


def _demo(args: argparse.Namespace, kernel: np.ndarray) -> int:
    from upconv.studies.deblur import DEMO_SOURCE, deblur_study

    out = fmt.Printer()
    r = deblur_study(kernel, size=args.size, stride=args.stride, noise=args.noise, seed=args.seed,
                     progress=bool(args.progress), **_options(args))
    out.header("upconv deconvolve --demo")
    out(f"  image     {DEMO_SOURCE}, {fmt.join_dims(r.original.shape)}")
    out(f"  degraded  conv with {args.kernel} ({fmt.join_dims(kernel.shape)}), stride {r.stride}, padding 'same'"
        f" -> {fmt.join_dims(r.observed.shape)}, + noise std {args.noise}")
    out(f"  options   lsqr/cg smoothness {args.smoothness}, damp {args.damp}; wiener balance {args.balance}, "
        f"{args.boundary}")
    header, *rows = r.table_lines()
    out.header(header)
    out.lines(rows)
    out()
    out.wrap(f"The transposed convolution scores {r.score('transpose').psnr:.1f} dB: it maps y back to the shape "
             f"of x, but C^T C is not the identity, so it is not the inverse; least squares (lsqr) reaches "
             f"{r.score('lsqr').psnr:.1f} dB with the same two operators, conv and conv_transpose.", indent=0)
    if args.figure:
        from upconv.figures.studies import plot_deblur

        try:
            plot_deblur(r).savefig(args.figure, dpi=100)
        except (OSError, ValueError) as exc:
            raise ValueError(f"argument --figure: cannot write {args.figure!r}: {exc}") from None
        out(f"figure: {args.figure}")
    return 0
