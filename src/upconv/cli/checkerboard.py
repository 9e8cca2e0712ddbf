"""``upconv checkerboard``: will this transposed convolution (or stack) make checkerboards, and how strong?

Prints the overlap map of the layer or stack (:func:`upconv.overlap_map`:
how many stamps cover each output pixel of an all-ones input), its period
tile and the overlap ratio (interior max / min count; 1 = artifact-free);
with ``--weights``, the polyphase DC-gain spread of actual weights
(:func:`upconv.dc_gain_spread`: zero iff a flat input gives a flat output);
with ``--figure`` / ``--dc-figure``, the same as figures
(:mod:`upconv.figures`).

Example::

    $ upconv checkerboard --kernel 3 --stride 2                 # ratio 2
    $ upconv checkerboard --kernel 3 --stride 2 --dims 2        # ratio 4, tile [[4, 2], [2, 1]]
    $ upconv checkerboard --kernel 3 --stride 2 --then 3:1      # ratio 1.25
    $ upconv checkerboard --stride 2 --weights w.npy --figure overlap.png
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from upconv.cli import _format as fmt
from upconv.cli import _output as output
from upconv.cli._args import check_figure_output, int_list, load_npy, per_axis
from upconv.explain import report
from upconv.explain.overlap import verdict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from upconv.explain.dc_gain import DCGainSpread

__all__ = ["add_parser", "run"]

#: Channel pairs listed in the DC-gain table.
MAX_PAIRS = 16

#: The library's parameter names and the options that set them (errors name the options).
PARAMETERS = {
    "kernel_size": "--kernel", "stride": "--stride", "dilation": "--dilation", "padding": "--padding",
    "in_size": "--in-size", "ndim": "--dims", "weight": "--weights", "layers": "--then",
}

#: What the overlap verdict is about, and what it is not (printed with it, and in the JSON).
SCOPE = ("The overlap ratio is geometry: how many stamps cover each output pixel. Even overlap is necessary "
         "for a flat input to give a flat output, not sufficient: the weights decide the rest. Their polyphase "
         "DC-gain spread (upconv.dc_gain_spread; --weights FILE.npy) must be 0 as well; a random or learned "
         "kernel with even overlap (k4 s2) still makes checkerboards (Odena et al. 2016).")

_EPILOG = """\
K, S, D, P: one value for every axis or comma-separated per axis (3,5).
--padding P (and the 4th field of --then K:S:D:P) crops P pixels from both
ends of a layer's output, as torch's padding does (DCGAN: k4 s2 p1): it moves
the borders, not the interior overlap.
--weights: a .npy file, (C_in, C_out, *kernel) in torch's ConvTranspose
layout, or a single 1-d / 2-d kernel; its kernel size is the first layer's.

examples:
  upconv checkerboard --kernel 3 --stride 2                 ratio 2 (1-d)
  upconv checkerboard --kernel 3 --stride 2 --dims 2        ratio 4
  upconv checkerboard --kernel 4 --stride 2 --padding 1     k % s == 0: ratio 1
  upconv checkerboard --kernel 3 --stride 2 --then 3:2      two layers: ratio 3
  upconv checkerboard --kernel 3 --stride 2 --then 2:1      evened out: ratio 1
  upconv checkerboard --stride 2 --weights w.npy --dc-figure dc.png
"""


def _layer_spec(text: str) -> tuple[tuple[int, ...], ...]:
    parts = text.split(":")
    if len(parts) not in (2, 3, 4):
        raise argparse.ArgumentTypeError(f"expected K:S, K:S:D or K:S:D:P (kernel, stride, dilation, padding), "
                                         f"got {text!r}")
    return tuple(int_list(0 if i == 3 else 1)(p) for i, p in enumerate(parts))


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``checkerboard`` on the ``upconv`` sub-parsers."""
    p = subparsers.add_parser(
        "checkerboard",
        help="overlap map, overlap ratio and DC-gain spread of transposed convolutions",
        description=textwrap.fill(
            "Measure the checkerboard of a transposed convolution or a stack: the overlap map (stamps "
            "per output pixel), its period tile and the overlap ratio (1 = artifact-free); for actual "
            "weights the polyphase DC-gain spread (0 = a flat input gives a flat output).", fmt.WIDTH),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = p.add_argument_group("layers")
    g.add_argument("--kernel", type=int_list(1), metavar="K", help="kernel size (default: from --weights)")
    g.add_argument("--stride", type=int_list(1), default=(2,), metavar="S", help="stride (default 2)")
    g.add_argument("--dilation", type=int_list(1), default=(1,), metavar="D", help="dilation (default 1)")
    g.add_argument("--padding", type=int_list(0), default=(0,), metavar="P",
                   help="padding cropped from both ends of the output (default 0)")
    g.add_argument("--then", type=_layer_spec, action="append", default=[], metavar="K:S[:D[:P]]",
                   help="a further layer (repeatable), e.g. --then 3:1 for a stride-1 3-tap layer")
    g.add_argument("--dims", type=int, metavar="N", help="spatial axes (default: from the values given, else 1)")
    g.add_argument("--in-size", type=int_list(1), metavar="N",
                   help="size of the all-ones input (default: the smallest with two periods of interior)")
    w = p.add_argument_group("weights and figures")
    w.add_argument("--weights", metavar="FILE.npy", help="transposed-conv weights: print the DC-gain spread")
    w.add_argument("--figure", metavar="OUT.png", help="write the overlap map figure (1-d bars, 2-d heatmaps)")
    w.add_argument("--dc-figure", metavar="OUT.png", help="write the DC-gain figure of --weights")
    output.add_options(p)
    return p


def _load_weights(spec: str, dims: int | None) -> np.ndarray:
    arr = load_npy(spec, "--weights")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"argument --weights: {spec!r} holds NaN or inf")
    if dims is None:
        dims = arr.ndim - 2 if arr.ndim >= 3 else arr.ndim
    elif arr.ndim not in (dims, dims + 2):
        raise ValueError(f"argument --weights: {spec!r} has shape {arr.shape}; with --dims {dims} expected "
                         f"{dims} (one kernel) or {dims + 2} (C_in, C_out, *kernel) dimensions")
    arr = arr.astype(np.float64)
    return arr if arr.ndim == dims + 2 else arr[None, None]


def _dims_of(args: argparse.Namespace, weights: np.ndarray | None) -> int:
    if args.dims is not None:
        if args.dims < 1:
            raise ValueError(f"argument --dims: must be >= 1, got {args.dims}")
        return args.dims
    if weights is not None:
        return weights.ndim - 2
    lengths = {len(v) for v in [args.kernel or (), args.stride, args.dilation, args.padding, args.in_size or ()]
               if len(v) > 1}
    lengths |= {len(v) for spec in args.then for v in spec if len(v) > 1}
    if len(lengths) > 1:
        raise ValueError(f"argument --dims: per-axis values of different lengths {sorted(lengths)} were given; "
                         "give --dims N and 1 or N values per option")
    return lengths.pop() if lengths else 1


def _fmt_axes(t: tuple[int, ...]) -> str:
    return str(t[0]) if len(set(t)) == 1 else "x".join(map(str, t))


def run(args: argparse.Namespace) -> int:
    """Print the overlap map and ratio (and the DC-gain spread of --weights); write the figures."""
    import upconv
    from upconv import figures
    from upconv.explain.checkerboard import overlap_map
    from upconv.explain.dc_gain import dc_gain_spread

    if args.dc_figure and not args.weights:
        raise ValueError("argument --dc-figure: needs --weights FILE.npy")
    inputs = [args.weights] if args.weights else []
    for option, path in (("--figure", args.figure), ("--dc-figure", args.dc_figure)):
        if path:  # before any work
            check_figure_output(path, option, inputs=inputs)
    weights = _load_weights(args.weights, args.dims) if args.weights else None
    n = _dims_of(args, weights)
    if weights is not None:
        k = tuple(weights.shape[2:])
        if args.kernel is not None and per_axis(args.kernel, n, "--kernel") != k:
            raise ValueError(f"argument --kernel: {','.join(map(str, args.kernel))} does not match the kernel "
                             f"size {k} of --weights {args.weights!r}")
    elif args.kernel is None:
        raise ValueError("argument --kernel: required (or give --weights FILE.npy)")
    else:
        k = per_axis(args.kernel, n, "--kernel")
    layers: list[tuple[tuple[int, ...], ...]] = [
        (k, per_axis(args.stride, n, "--stride"), per_axis(args.dilation, n, "--dilation"))]
    paddings = [per_axis(args.padding, n, "--padding")]
    for j, spec in enumerate(args.then, 1):
        values = [per_axis(v, n, f"--then ({j})") for v in spec]
        layers.append((values[0], values[1], values[2] if len(values) > 2 else (1,) * n))
        paddings.append(values[3] if len(values) > 3 else (0,) * n)
    in_size = None if args.in_size is None else per_axis(args.in_size, n, "--in-size")
    m = overlap_map(layers=layers, ndim=n, in_size=in_size)
    ratios = [m.ratio if j == len(m.layers) else upconv.overlap_ratio(layers=layers[:j], ndim=n)
              for j in range(1, len(m.layers) + 1)]
    dc = None if weights is None else dc_gain_spread(weights, layers[0][1], dilation=layers[0][2])
    written = []
    if args.figure:
        written.append(_write(args.figure, "--figure", "overlap map", lambda p: figures.plot_overlap(
            layers=layers, ndim=n, in_size=in_size, path=p)))
    if args.dc_figure and weights is not None:  # --dc-figure needs --weights (checked above)
        written.append(_write(args.dc_figure, "--dc-figure", "DC gain", lambda p: figures.plot_dc_gain(
            weights, layers[0][1], dilation=layers[0][2], path=p)))
    geometry = verdict(m.ratio)
    if args.json:
        output.emit("checkerboard", {
            "dims": n,
            "layers": [{"kernel_size": L.kernel_size, "stride": L.stride, "dilation": L.dilation, "padding": pad,
                        "overlap_ratio_so_far": r} for L, pad, r in zip(m.layers, paddings, ratios)],
            "overlap_map": {"in_size": m.in_size, "counts": m.counts, "interior": m.interior, "period": m.period,
                            "tile": m.tile, "coordinates": "un-cropped (padding not applied)"},
            "overlap_ratio": m.ratio, "max_count": m.max_count, "min_count": m.min_count,
            "geometry": geometry, "scope": SCOPE, "advice": m.advice or None,
            "dc_gain": None if dc is None else _dc_document(dc, args.weights),
            "files": written,
        })
        return 0
    out = fmt.Printer()
    if args.quiet:
        out(_verdict_line(m.ratio, geometry, dc))
        return 0
    stack = " → ".join(map(str, m.layers))
    out.header(f"upconv checkerboard: {stack} ({n}-d)")
    out()
    padded = any(any(pad) for pad in paddings)  # the padding column only when a layer has padding
    rows = [[j, _fmt_axes(L.kernel_size), _fmt_axes(L.stride), _fmt_axes(L.dilation)]
            + ([_fmt_axes(pad)] if padded else []) + [r]
            for j, (L, pad, r) in enumerate(zip(m.layers, paddings, ratios), 1)]
    headers = (["layer", "kernel", "stride", "dilation"] + (["padding"] if padded else [])
               + ["ratio so far" if len(rows) > 1 else "ratio"])
    out.lines(report.table(headers, rows), indent=2)

    out.header(f"Overlap map: stamps per output pixel ({fmt.join_dims(m.counts.shape)})")
    cropped = "; --padding crops the borders of the real output" if padded else ""
    out.wrap(f"all-ones input of {fmt.join_dims(m.in_size)}, all-ones kernels, un-cropped positions{cropped}")
    out()
    out.lines(fmt.array_lines(m.counts), indent=2)
    out()
    interior = ", ".join(f"{b}..{e - 1}" for b, e in m.interior)
    out.wrap(f"border-free interior: positions {interior} (per axis); there the map repeats with period "
             f"{fmt.join_dims(m.period)}")
    out.header(f"Period tile ({fmt.join_dims(m.period)}, starting at a multiple of the period)")
    out.lines(fmt.array_lines(m.tile), indent=2)
    out()
    ratio_text = f"{report.number(m.ratio)} (max {m.max_count} / min {m.min_count}): {_geometry_words(geometry)}"
    out("  overlap ratio: " + report.paint(ratio_text, report.verdict_style(geometry), out.color))
    if m.advice:
        out.wrap(m.advice)
    out.wrap(SCOPE)
    if dc is not None and weights is not None:
        _print_dc_gain(out, dc, weights, args.weights)
    out.header("Verdict")
    out.wrap(_verdict_line(m.ratio, geometry, dc))
    if written:
        out.header("Files")
        for line in written:
            out.wrap(line)
    return 0


def _geometry_words(geometry: str) -> str:
    """The library's verdict of the overlap ratio, said to be about geometry."""
    return "even overlap (artifact-free geometry)" if geometry == "artifact-free" else geometry


def _verdict_line(ratio: float, geometry: str, dc: DCGainSpread | None) -> str:
    """Geometry and weights in one line."""
    line = f"geometry: {'even overlap' if geometry == 'artifact-free' else geometry} (ratio {report.number(ratio)}); "
    if dc is None:
        return line + "weights: not checked (--weights FILE.npy)"
    return line + "weights: " + dc.summary


def _dc_document(dc: DCGainSpread, name: str) -> dict[str, object]:
    """The DC-gain table for --json: gains per channel pair and phase (output per unit constant input)."""
    headers, rows = dc.table(MAX_PAIRS)
    return {"weights": name, "stride": dc.stride, "dilation": dc.dilation, "gains": dc.gains,
            "spread": dc.spread, "relative_spread": dc.relative_spread, "max_spread": dc.clean(dc.max_spread),
            "rms_spread": dc.clean(dc.rms_spread), "max_relative_spread": 0.0 if dc.flat
            else dc.clean(dc.max_relative_spread), "flat": dc.flat, "tolerance": dc.tolerance,
            "summary": dc.summary}


def _print_dc_gain(out: fmt.Printer, r: DCGainSpread, w: np.ndarray, name: str) -> None:
    n_ci, n_co = r.spread.shape
    out.header(f"Polyphase DC gain of {Path(name).name}")
    out.wrap(f"{n_ci} × {n_co} channel pairs (C_in × C_out), kernel {fmt.join_dims(w.shape[2:])}, stride "
             f"{fmt.join_dims(r.stride)}: {r.gains[0, 0].size} output phases.  The gain of a phase is the sum of "
             "the kernel taps that land in it: the output for a constant 1 input.")
    out()
    headers, rows = r.table(MAX_PAIRS)
    styles = [[*[None] * (len(headers) - 2), "green" if row[-2] == 0 else "yellow", None] for row in rows]
    out.lines(report.table(headers, rows, style=report.styled(styles, out.color)), indent=2)
    if n_ci * n_co > MAX_PAIRS:
        out(f"  … {n_ci * n_co - MAX_PAIRS} more pairs")
    out()
    out("  " + report.paint(r.summary, "green" if r.flat else "yellow", out.color))


def _write(path: str, option: str, what: str, make: Callable[[str], Figure]) -> str:
    try:
        fig = make(path)
    except OSError as exc:
        raise ValueError(f"argument {option}: cannot write {path!r}: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise ValueError(f"argument {option}: {exc}") from None
    w, h = (int(round(x * fig.dpi)) for x in fig.get_size_inches())
    return f"wrote {path}: {what} ({w} × {h} pixels)"
