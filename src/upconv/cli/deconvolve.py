"""``upconv deconvolve``: undo a blur (or a strided blur) with the true inverse, not the transpose.

Two modes:

``upconv deconvolve IMAGE --kernel SPEC -o OUT``
    Read a gray or RGB(A) image (8- or 16-bit PNG, JPEG, anything Pillow
    reads; :func:`upconv.images.files.read_image`), deconvolve every colour
    channel with the same kernel (:func:`upconv.deconvolve`) and write the
    result with the input's bit depth (16 bits for PNG output only;
    :func:`upconv.images.files.write_image`, atomically).  An alpha channel
    is kept, as ``upconv resize`` keeps it: unchanged, or bilinearly
    enlarged with ``--stride``.  With ``--stride S`` the image is taken to be
    a blurred and ``S``-times subsampled picture and the result is ``S``
    times larger (super-resolution as an inverse problem; lsqr or cg).
    Sizes are printed width × height, as every image command prints them.

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
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from upconv.cli import _format as fmt
from upconv.cli import _output as output
from upconv.cli._args import argument_error, check_figure_output, check_image_output, save_figure
from upconv.cli._progress import Progress, wanted
from upconv.restore.blur import blur_kernel
from upconv.restore.deconvolution import DECONVOLVE_METHODS, METHOD_OPTIONS

__all__ = ["add_parser", "run"]

#: The library's parameter names and the options that set them (errors name the options).
PARAMETERS = {
    "method": "--method", "stride": "--stride", "iterations": "--iterations", "smoothness": "--smoothness",
    "damp": "--damp", "balance": "--balance", "boundary": "--boundary", "noise": "--noise", "size": "--size",
    "seed": "--seed", "kernel": "--kernel", "weight": "--kernel",
}

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
    p.add_argument("-o", "--output", metavar="OUT",
                   help="restored image (same bit depth; .png, .jpg, ...); an existing file is replaced atomically")
    p.add_argument("--force", action="store_true", help="allow OUT to be the input IMAGE (replaced atomically)")
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
                   help="progress line on stderr (default: when stderr is a terminal; never with --json/--quiet)")
    d = p.add_argument_group("demo")
    d.add_argument("--noise", type=float, default=0.01, metavar="SIGMA",
                   help="std of the Gaussian noise added to the blurred image (default 0.01)")
    d.add_argument("--size", type=int, default=256, metavar="N", help="side of the demo image (default 256)")
    d.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    d.add_argument("--figure", metavar="OUT.png", help="write a figure of every restoration")
    output.add_options(p)
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
    asked = args.progress  # --progress: shown at once, terminal or not
    if args.json or args.quiet:
        args.progress = False
    elif args.progress is None:
        args.progress = wanted()
    args.delay = 0.0 if asked else None
    kernel = _parse_kernel(args.kernel)
    if args.demo:
        if args.image is not None or args.output is not None:
            raise ValueError("argument --demo: takes no IMAGE and no -o/--output (use --figure)")
        if args.figure is not None:  # before any work
            check_figure_output(args.figure, "--figure")
        return _demo(args, kernel)
    if args.image is None:
        raise ValueError("argument IMAGE: give an image to restore, or --demo")
    if args.output is None:
        raise ValueError("argument -o/--output: required with an IMAGE")
    if args.figure is not None:
        raise ValueError("argument --figure: only used with --demo")
    return _restore_file(args, kernel)


def _iterations(progress: Progress, methods: list[str]) -> Callable[[int, Any], None]:
    """A :func:`upconv.deconvolve` callback that shows the iterations of ``methods`` run one after the other."""
    state = {"index": -1}

    def callback(iteration: int, x: Any) -> None:
        if iteration == 1:
            state["index"] += 1
        name = methods[min(max(state["index"], 0), len(methods) - 1)]
        progress.update(f"{name}, iteration", iteration)

    return callback


def _restore_file(args: argparse.Namespace, kernel: np.ndarray) -> int:
    from upconv.images.files import read_image, write_image
    from upconv.ops.interpolation import interpolate
    from upconv.studies.deblur import STRIDE1_ONLY, deblur_image

    method = args.method
    if args.stride > 1 and method in STRIDE1_ONLY:
        raise ValueError(f"argument --method: {method} needs stride 1; use lsqr or cg with --stride {args.stride}")
    check_image_output(args.output, "-o/--output", inputs=[args.image], force=args.force)  # before any work
    try:
        image, info = read_image(args.image, alpha="keep")  # (H, W), (2, H, W), (3, H, W) or (4, H, W)
    except ValueError as exc:
        raise argument_error("IMAGE", exc, "read_image") from None
    planes = image[None] if image.ndim == 2 else image
    colour, alpha = (planes[:-1], planes[-1]) if info.has_alpha and planes.shape[0] in (2, 4) else (planes, None)
    # the input's bit depth where the output format has it (16 bits: PNG only; 1-bit input: 8)
    bits = 16 if info.bit_depth >= 16 and Path(args.output).suffix.lower() == ".png" else 8
    check_image_output(args.output, "-o/--output", bit_depth=bits, channels=planes.shape[0])
    options = _options(args)
    with Progress("upconv deconvolve", bool(args.progress), delay=args.delay) as progress:
        if args.progress and method in METHOD_OPTIONS["callback"]:
            options["callback"] = _iterations(progress, [method])
        t = time.perf_counter()
        restored = deblur_image(colour, kernel, stride=args.stride, method=method, **options)
        seconds = time.perf_counter() - t
        if alpha is not None:  # kept, as resize keeps it: the same size as the result
            if alpha.shape != restored.shape[-2:]:
                alpha = np.clip(interpolate(alpha[None, None], size=restored.shape[-2:], mode="bilinear")[0, 0], 0, 1)
            restored = np.concatenate([restored if restored.ndim == 3 else restored[None], alpha[None]])
        progress.update(f"writing {args.output}")
        try:
            write_image(args.output, restored, bit_depth=bits, clip=True)
        except ValueError as exc:
            raise argument_error("-o/--output", exc, "write_image") from None
    kind = fmt.IMAGE_KINDS[planes.shape[0]]
    if args.json:
        output.emit("deconvolve", {
            "input": {"path": args.image, "size": fmt.size_json(planes.shape), "channels": kind,
                      "bit_depth": info.bit_depth},
            "output": {"path": args.output, "size": fmt.size_json(restored.shape), "channels": kind,
                       "bit_depth": bits},
            "method": method, "kernel": {"spec": args.kernel, "size": fmt.size_json(kernel.shape)},
            "stride": args.stride, "time_ms": seconds * 1e3,
        })
    elif not args.quiet:
        fmt.Printer()(f"{args.image}: {fmt.image_size(planes.shape)} {kind} {info.bit_depth}-bit -> {args.output}: "
                      f"{fmt.image_size(restored.shape)} {bits}-bit, {method}, kernel {args.kernel} "
                      f"{fmt.image_size(kernel.shape)}, {seconds * 1e3:.0f} ms")
    return 0


def _demo(args: argparse.Namespace, kernel: np.ndarray) -> int:
    from upconv.studies.deblur import DEMO_SOURCE, STRIDE1_ONLY, deblur_study

    options = _options(args)
    iterative = [m for m in DECONVOLVE_METHODS
                 if m in METHOD_OPTIONS["callback"] and not (args.stride > 1 and m in STRIDE1_ONLY)]
    with Progress("upconv deconvolve --demo", bool(args.progress), delay=args.delay) as progress:
        if args.progress:
            options["callback"] = _iterations(progress, iterative)
        r = deblur_study(kernel, size=args.size, stride=args.stride, noise=args.noise, seed=args.seed,
                         methods=DECONVOLVE_METHODS, **options)
        if args.figure:
            from upconv.figures.studies import plot_deblur

            progress.update(f"drawing {args.figure}")
            save_figure(plot_deblur(r), args.figure, "--figure", dpi=100)
    if args.json:
        output.emit("deconvolve", {
            "demo": {"image": DEMO_SOURCE, "size": fmt.size_json(r.original.shape), "kernel": args.kernel,
                     "kernel_size": fmt.size_json(kernel.shape), "stride": r.stride, "padding": "same",
                     "observed_size": fmt.size_json(r.observed.shape), "noise_std": args.noise, "seed": args.seed,
                     "options": _options(args)},
            "rows": [{"method": row.method, "psnr_db": row.psnr, "ssim": row.ssim,
                      "time_ms": None if row.seconds is None else row.seconds * 1e3, "note": row.note}
                     for row in r.rows],
            "figure": args.figure,
        })
        return 0
    out = fmt.Printer()
    if args.quiet:
        best = max((row for row in r.rows[1:] if row.psnr is not None), key=lambda row: row.psnr or 0.0)
        out(f"best: {best.method}, PSNR {best.psnr:.2f} dB; transpose {r.score('transpose').psnr:.2f} dB")
        return 0
    out.header("upconv deconvolve --demo")
    out(f"  image     {DEMO_SOURCE}, {fmt.image_size(r.original.shape)}")
    out(f"  degraded  conv with {args.kernel} ({fmt.image_size(kernel.shape)}), stride {r.stride}, padding 'same'"
        f" -> {fmt.image_size(r.observed.shape)}, + noise std {args.noise}")
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
        out(f"figure: {args.figure}")
    return 0
