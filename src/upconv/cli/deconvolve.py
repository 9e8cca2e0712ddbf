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

import upconv
from upconv import shapes
from upconv.cli import _format as fmt
from upconv.restore.blur import blur_kernel
from upconv.restore.deconvolution import DECONVOLVE_METHODS as METHODS

__all__ = ["add_parser", "run", "restore_all"]

#: Methods restricted to stride 1 (skipped in a strided demo).
STRIDE1_ONLY = ("wiener", "richardson_lucy")

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
                   help=f"{', '.join(METHODS)} (default richardson_lucy; lsqr with --stride > 1)")
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


# --------------------------------------------------------------------------
# the demo image


#: Where the demo image comes from (printed in the demo's header).
_DEMO_SOURCE = "upconv.data.photograph(gray=True)"


def _demo_image(size: int) -> np.ndarray:
    """The built-in photograph (:func:`upconv.data.photograph`), gray, ``size`` x ``size`` in [0, 1].

    Area averaging when shrinking, bilinear interpolation when enlarging (the
    photograph is 256 x 256, so the default ``--size`` takes it as it is).
    """
    from upconv.images import samples as data

    image = data.photograph(gray=True)
    if image.shape != (size, size):
        mode = "area" if min(image.shape) > size else "bilinear"
        image = upconv.interpolate(image[None, None], size=(size, size), mode=mode)[0, 0]
    return np.clip(image, 0, 1)


# --------------------------------------------------------------------------
# running the methods


def _weight(kernel: np.ndarray, channels: int) -> np.ndarray:
    """One 2-d kernel applied to every channel alike: ``(C, 1, kh, kw)`` with ``groups=C``."""
    return np.ascontiguousarray(np.broadcast_to(kernel, (channels, 1) + kernel.shape))


def _geometry(out_size: tuple[int, ...], kernel: np.ndarray, stride: int) -> tuple[tuple[int, ...], Any]:
    """Input size and padding of the convolution that produced ``out_size``: the image ``stride`` times
    larger (``out * s``, as nearest unpooling), with ONNX SAME_UPPER padding (``out = ceil(in / s)``)."""
    in_size = shapes.unpool_output_size(out_size, stride)
    return in_size, shapes.same_padding(in_size, kernel.shape, stride)


def _method_options(method: str, args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if method in ("lsqr", "cg", "richardson_lucy") and args.iterations is not None:
        opts["iterations"] = args.iterations
    if method in ("lsqr", "cg"):
        opts.update(smoothness=args.smoothness, damp=args.damp)
    if method == "wiener":
        opts.update(balance=args.balance, boundary=args.boundary)
    return opts


def restore_all(y: np.ndarray, kernel: np.ndarray, stride: int, in_size: tuple[int, ...], pads: Any,
                args: argparse.Namespace, methods=METHODS) -> list[tuple[str, np.ndarray | None, float, str]]:
    """Run each method on ``y`` (``(C, *out)``); ``[(method, x or None, seconds, note)]``."""
    import scipy.fft
    import scipy.ndimage
    import scipy.sparse.linalg  # noqa: F401  (imported once here, not inside the first method's time)

    w = _weight(kernel, y.shape[0])
    common = dict(stride=stride, padding=pads, groups=y.shape[0], in_size=in_size)
    # warm up: the first transposed convolution of a size compiles a kernel (numba); not the method's cost
    upconv.deconvolve(y, w, method="transpose", **common)
    results = []
    for method in methods:
        if stride > 1 and method in STRIDE1_ONLY:
            results.append((method, None, 0.0, "stride 1 only"))
            continue
        data, note = y, ""
        if method == "richardson_lucy" and y.min() < 0:
            data, note = np.clip(y, 0, None), "negative noise clipped to 0"
        if method == "transpose":
            note = "C^T y: right shape, wrong values"
        t = time.perf_counter()
        x = upconv.deconvolve(data, w, method=method, progress=bool(args.progress), **common,
                              **_method_options(method, args))
        results.append((method, x, time.perf_counter() - t, note))
    return results


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
    if args.method not in METHODS:
        raise ValueError(f"argument --method: must be one of {', '.join(METHODS)}, got {args.method!r}")
    for name, value, low in (("--stride", args.stride, 1), ("--size", args.size, 8), ("--iterations", args.iterations, 1)):
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


def _strip(message: str, func: str) -> str:
    """``message`` without its ``"func: "`` prefix (it gets the option's name instead)."""
    return message[len(func) + 2:] if message.startswith(func + ": ") else message


def _restore_file(args: argparse.Namespace, kernel: np.ndarray) -> int:
    method = args.method
    if args.stride > 1 and method in STRIDE1_ONLY:
        raise ValueError(f"argument --method: {method} needs stride 1; use lsqr or cg with --stride {args.stride}")
    from upconv.images.files import read_image, write_image

    try:
        image, info = read_image(args.image)  # (H, W) gray or (3, H, W) RGB; alpha dropped
    except ValueError as exc:
        raise ValueError(f"argument IMAGE: {_strip(str(exc), 'read_image')}") from None
    # the input's bit depth where the output format has it (16 bits: PNG only; 1-bit input: 8)
    bits = 16 if info.bit_depth == 16 and Path(args.output).suffix.lower() == ".png" else 8
    y = image[None] if image.ndim == 2 else image  # (C, H, W)
    in_size, pads = _geometry(y.shape[1:], kernel, args.stride)
    t = time.perf_counter()
    x = upconv.deconvolve(y, _weight(kernel, y.shape[0]), stride=args.stride, padding=pads, groups=y.shape[0],
                          in_size=in_size, method=method, progress=bool(args.progress),
                          **_method_options(method, args))
    seconds = time.perf_counter() - t
    out = x[0] if image.ndim == 2 else x
    try:
        write_image(args.output, out, bit_depth=bits)
    except ValueError as exc:
        raise ValueError(f"argument -o/--output: {_strip(str(exc), 'write_image')}") from None
    kind = "gray" if image.ndim == 2 else "RGB"
    print(f"{args.image}: {fmt.join_dims(image.shape[-2:])} {kind}, {info.bit_depth}-bit -> {args.output}: "
          f"{fmt.join_dims(out.shape[-2:])}, {method}, kernel {args.kernel} {fmt.join_dims(kernel.shape)}, "
          f"{seconds * 1e3:.0f} ms")
    return 0


def _demo(args: argparse.Namespace, kernel: np.ndarray) -> int:
    from upconv.restore.metrics import psnr, ssim

    out = fmt.Printer()
    x, source = _demo_image(args.size), _DEMO_SOURCE
    s = args.stride
    pads = shapes.same_padding(x.shape, kernel.shape, s)
    y = upconv.conv(x[None], kernel[None, None], stride=s, padding=pads)
    rng = np.random.default_rng(args.seed)
    y = y + args.noise * rng.standard_normal(y.shape)
    results = restore_all(y, kernel, s, x.shape, pads, args)

    out.header("upconv deconvolve --demo")
    out(f"  image     {source}, {fmt.join_dims(x.shape)}")
    out(f"  degraded  conv with {args.kernel} ({fmt.join_dims(kernel.shape)}), stride {s}, padding 'same'"
        f" -> {fmt.join_dims(y.shape[1:])}, + noise std {args.noise}")
    out(f"  options   lsqr/cg smoothness {args.smoothness}, damp {args.damp}; wiener balance {args.balance}, "
        f"{args.boundary}")
    rows = []
    if s == 1:
        baseline, label = y[0], "degraded input y"
    else:
        baseline = upconv.interpolate(y[None], size=x.shape, mode="bilinear", align_corners=True)[0, 0]
        label = "y, bilinear upsampling"
    rows.append((label, psnr(x, baseline, data_range=1), ssim(x, baseline, data_range=1), None, "baseline"))
    for method, est, seconds, note in results:
        if est is None:
            rows.append((method, None, None, None, note))
        else:
            rows.append((method, psnr(x, est[0], data_range=1), ssim(x, est[0], data_range=1), seconds, note))
    out.header(f"{'method':<24} {'PSNR dB':>8} {'SSIM':>7} {'time ms':>8}  note")
    for name, p, q, t, note in rows:
        cells = (f"{p:8.2f}", f"{q:7.3f}", f"{t * 1e3:8.0f}" if t is not None else f"{'':8}") if p is not None \
            else (f"{'-':>8}", f"{'-':>7}", f"{'-':>8}")
        out(f"{name:<24} {cells[0]} {cells[1]} {cells[2]}  {note}".rstrip())
    scores = {name: p for name, p, *_ in rows if p is not None}
    out()
    out.wrap(f"The transposed convolution scores {scores['transpose']:.1f} dB: it maps y back to the shape of "
             f"x, but C^T C is not the identity, so it is not the inverse; least squares (lsqr) reaches "
             f"{scores['lsqr']:.1f} dB with the same two operators, conv and conv_transpose.", indent=0)
    if args.figure:
        _figure(args.figure, x, y[0], label if s == 1 else "y (observed)", results, rows)
        out(f"figure: {args.figure}")
    return 0


def _figure(path: str, x: np.ndarray, y: np.ndarray, y_label: str, results, rows) -> None:
    from matplotlib.figure import Figure

    scores = {name: (p, q) for name, p, q, *_ in rows}
    panels = [("original x", x, None), (y_label, y, None)]
    panels += [(m, est[0], scores[m]) for m, est, _, _ in results if est is not None]
    cols = 4
    nrows = -(-len(panels) // cols)
    fig = Figure(figsize=(3.2 * cols, 3.5 * nrows), layout="constrained")
    axes = fig.subplots(nrows, cols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (title, img, score) in zip(axes.ravel(), panels):
        ax.imshow(np.clip(img, 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        if score is not None:
            title = f"{title}\nPSNR {score[0]:.2f} dB, SSIM {score[1]:.3f}"
        ax.set_title(title, fontsize=9)
    try:
        fig.savefig(path, dpi=100)
    except (OSError, ValueError) as exc:
        raise ValueError(f"argument --figure: cannot write {path!r}: {exc}") from None
