"""``upconv plan``: which transposed convolutions map one size to another.

Prints :func:`upconv.plan`'s answer as an aligned table, artifact-free
layers (overlap ratio 1) first, each with its ONNX ``auto_pad``
equivalents, and a ready-to-paste torch layer for the best row; with
``--inverse K S P``, the transposed convolution that undoes the size
change of a convolution (:func:`upconv.plan_inverse`, U-Net skip
connections with odd sizes).  Exit status 0, or 1 when nothing within the
bounds maps IN to OUT.

Example::

    $ upconv plan 7 14                      # one layer 7 -> 14
    $ upconv plan 7 28 --layers 2 --max-kernel 4 --identical
    $ upconv plan 7 --inverse 3 2 1         # the conv k3 s2 p1 maps 7 -> 4; back to 7?
"""

from __future__ import annotations

import argparse
import textwrap
from typing import TYPE_CHECKING, Any

from upconv.cli import _format as fmt
from upconv.cli import _output as output
from upconv.cli._args import int_list
from upconv.explain import report
from upconv.explain.overlap import verdict

if TYPE_CHECKING:
    from upconv.explain.planner import Plan, PlanLayer, PlanRow

__all__ = ["add_parser", "run"]

#: Rows printed unless --limit says otherwise.
DEFAULT_LIMIT = 20

#: The library's parameter names and the options that set them (errors name the options).
PARAMETERS = {
    "in_size": "IN", "out_size": "OUT", "layers": "--layers", "max_kernel": "--max-kernel",
    "max_stride": "--max-stride", "min_stride": "--min-stride", "max_padding": "--max-padding",
    "max_dilation": "--max-dilation", "allow_output_padding": "--no-output-padding",
    "allow_output_padding=False": "--no-output-padding", "identical": "--identical", "identical=True": "--identical",
    "monotone": "--overshoot", "monotone=False": "--overshoot", "ndim": "--dims",
    "kernel_size": "--inverse K", "stride": "--inverse S", "padding": "--inverse P", "dilation": "--dilation",
}

_EPILOG = """\
columns: k kernel_size, s stride, p padding, a output_padding, d dilation;
ratio = interior max / min stamp count (1 = artifact-free, inf = holes);
ONNX = the auto_pad settings that give the same layer (UPPER = SAME_UPPER,
LOWER = SAME_LOWER; +aN: with the attribute output_padding=N); explicit
pads=[p, p] with output_padding=a always do.

examples:
  upconv plan 7 14                       every single layer 7 -> 14
  upconv plan 7 14 --dims 2              rated for 2-d images (ratio squared)
  upconv plan 7 28 --layers 2 --max-kernel 4 --identical
  upconv plan 7 --inverse 3 2 1          undo conv k3 s2 p1 (7 -> 4)
  upconv plan 7,8 --inverse 3 2 1        per axis (H, W)
"""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``plan`` on the ``upconv`` sub-parsers."""
    p = subparsers.add_parser(
        "plan",
        help="find the transposed convolutions that map one size to another",
        description=textwrap.fill(
            "List every transposed convolution (or stack of them) within the bounds that maps IN to OUT "
            "exactly, rated for checkerboard artifacts (artifact-free first), with ONNX auto_pad "
            "equivalents; or, with --inverse, the transposed convolution that undoes a convolution's "
            "size change.", fmt.WIDTH),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("in_size", metavar="IN", type=int_list(1),
                   help="input size (with --inverse: the convolution's input size, one value per axis)")
    p.add_argument("out_size", metavar="OUT", type=int, nargs="?",
                   help="output size (with --inverse: optional, checked against the convolution's output)")
    g = p.add_argument_group("search")
    g.add_argument("--layers", type=int, default=1, metavar="N", help="number of stacked layers (default 1)")
    g.add_argument("--max-kernel", type=int, default=7, metavar="K", help="kernel sizes 1..K (default 7)")
    g.add_argument("--max-stride", type=int, default=4, metavar="S", help="strides up to S (default 4)")
    g.add_argument("--min-stride", type=int, default=1, metavar="S", help="strides from S (default 1)")
    g.add_argument("--max-padding", type=int, metavar="P", help="paddings 0..P (default 0..d*(k-1))")
    g.add_argument("--max-dilation", type=int, default=1, metavar="D", help="dilations 1..D (default 1)")
    g.add_argument("--no-output-padding", action="store_true", help="only layers with output_padding = 0")
    g.add_argument("--identical", action="store_true",
                   help="stacks: every layer the same kernel, stride, padding and dilation")
    g.add_argument("--overshoot", action="store_true",
                   help="stacks: allow intermediate sizes beyond OUT (default: between IN and OUT)")
    g.add_argument("--dims", type=int, default=1, metavar="N",
                   help="rate the checkerboard for N-d images with square kernels (default 1)")
    p.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="ROWS",
                   help=f"print at most ROWS rows, 0 for all (default {DEFAULT_LIMIT})")
    p.add_argument("--inverse", type=int, nargs=3, metavar=("K", "S", "P"),
                   help="the transposed conv that undoes the conv with kernel K, stride S, padding P "
                   "(and --dilation) applied to an IN input")
    p.add_argument("--dilation", type=int, default=1, metavar="D", help="dilation of the --inverse conv (default 1)")
    output.add_options(p)
    return p


def _onnx(modes: tuple[str, ...]) -> str:
    """``('SAME_UPPER output_padding=1', 'VALID')`` -> ``'UPPER+a1 VALID'``."""
    short = []
    for m in modes:
        name, _, attr = m.partition(" output_padding=")
        name = name.replace("SAME_", "")
        short.append(name + (f"+a{attr.replace(' ', '')}" if attr else ""))
    return " ".join(short) or "-"


def _layer(L: PlanLayer) -> str:
    text = f"k{L.kernel_size} s{L.stride} p{L.padding}"
    if L.output_padding:
        text += f" a{L.output_padding}"
    if L.dilation != 1:
        text += f" d{L.dilation}"
    return text


def _torch(L: PlanLayer, dims: int) -> str:
    extra = "".join([
        f", padding={L.padding}" if L.padding else "",
        f", output_padding={L.output_padding}" if L.output_padding else "",
        f", dilation={L.dilation}" if L.dilation != 1 else "",
    ])
    return f"nn.ConvTranspose{dims}d(c_in, c_out, kernel_size={L.kernel_size}, stride={L.stride}{extra})"


def run(args: argparse.Namespace) -> int:
    """Print the plan (or the inverse layer); 1 when no layer within the bounds fits."""
    import upconv

    out = fmt.Printer()
    if args.inverse is not None:
        return _run_inverse(out, args)
    if args.out_size is None:
        raise ValueError("argument OUT: the output size is required (unless --inverse is given)")
    if len(args.in_size) != 1:
        raise ValueError(
            f"argument IN: the planner works on one axis at a time; give one size, got "
            f"{','.join(map(str, args.in_size))} (plan each axis separately)"
        )
    if args.limit < 0:
        raise ValueError(f"argument --limit: must be >= 0, got {args.limit}")
    p = upconv.plan(
        args.in_size[0], args.out_size, layers=args.layers, max_kernel=args.max_kernel,
        max_stride=args.max_stride, min_stride=args.min_stride, max_padding=args.max_padding,
        max_dilation=args.max_dilation, allow_output_padding=not args.no_output_padding,
        identical=args.identical, monotone=not args.overshoot, ndim=args.dims,
    )
    rows = p.rows if args.limit == 0 else p.rows[: args.limit]
    if args.json:
        output.emit("plan", _plan_document(p, rows))
    elif args.quiet:  # the best row in one line
        if not p.rows:
            out(f"no transposed convolution within these bounds maps {p.in_size} to {p.out_size}")
        else:
            out(" → ".join(_layer(L) for L in p.rows[0].layers) + f"  ({p.rows[0].verdict})")
    else:
        _print_plan(out, p, rows)
    return 0 if p.rows else 1


def _plan_document(p: Plan, rows: tuple[PlanRow, ...]) -> dict[str, Any]:
    """What the table shows, for --json (sizes in pixels; the ratio is max / min stamps, 1 = artifact-free)."""
    return {
        "in_size": p.in_size, "out_size": p.out_size, "layers": p.layers, "identical": p.identical,
        "search": {"max_kernel": p.max_kernel, "min_stride": p.min_stride, "max_stride": p.max_stride,
                   "max_padding": p.max_padding, "max_dilation": p.max_dilation,
                   "output_padding": p.allow_output_padding, "overshoot": not p.monotone, "dims": p.ndim},
        "found": len(p.rows), "artifact_free": len(p.artifact_free), "shown": len(rows),
        "rows": [{
            "rank": i, "sizes": list(r.sizes), "overlap_ratio": r.ratio, "checkerboard": r.verdict,
            "layers": [{"kernel_size": L.kernel_size, "stride": L.stride, "padding": L.padding,
                        "output_padding": L.output_padding, "dilation": L.dilation, "onnx_auto_pad": list(L.onnx)}
                       for L in r.layers],
        } for i, r in enumerate(rows, 1)],
        "best": None if not p.rows else {"checkerboard": p.rows[0].verdict,
                                         "torch": [_torch(L, p.ndim) for L in p.rows[0].layers]},
    }


def _print_plan(out: fmt.Printer, p: Plan, rows: tuple[PlanRow, ...]) -> None:
    what = "1 layer" if p.layers == 1 else f"stacks of {p.layers} layers" + (" (identical)" if p.identical else "")
    out.header(f"upconv plan: transposed convolutions {p.in_size} → {p.out_size}, {what}")
    pad = "0..d*(k - 1)" if p.max_padding is None else f"0..{p.max_padding}"
    out()
    out.wrap(
        f"Searched: kernel 1..{p.max_kernel}, stride {p.min_stride}..{p.max_stride}, padding {pad}, "
        + ("dilation 1" if p.max_dilation == 1 else f"dilation 1..{p.max_dilation}")
        + ("" if p.allow_output_padding else ", output_padding 0")
        + f"; checkerboard rated in {p.ndim}-d."
    )
    out()
    if not p.rows:
        out("  No transposed convolution within these bounds maps "
            f"{p.in_size} to {p.out_size}; widen --max-kernel / --max-stride / --layers.")
        return
    n_free = len(p.artifact_free)
    out.wrap(f"{len(p.rows)} found, {n_free} artifact-free (overlap ratio 1), listed first.")
    out()
    dilated = any(L.dilation != 1 for r in rows for L in r.layers)
    if p.layers == 1:
        headers = ["#", "k", "s", "p", "a"] + (["d"] if dilated else []) + ["ratio", "checkerboard", "ONNX auto_pad"]
        body: list[list[Any]] = []
        styles: list[list[str | None]] = []
        for i, r in enumerate(rows, 1):
            L = r.layers[0]
            body.append([i, L.kernel_size, L.stride, L.padding, L.output_padding]
                        + ([L.dilation] if dilated else []) + [r.ratio, r.verdict, _onnx(L.onnx)])
            style = report.verdict_style(r.verdict)
            styles.append([*[None] * (len(headers) - 3), style, style, None])
    else:
        headers = ["#", "sizes"] + [f"layer {j + 1}" for j in range(p.layers)] + ["ratio", "checkerboard"]
        body, styles = [], []
        for i, r in enumerate(rows, 1):
            body.append([i, "→".join(map(str, r.sizes))] + [_layer(L) for L in r.layers] + [r.ratio, r.verdict])
            style = report.verdict_style(r.verdict)
            styles.append([*[None] * (len(headers) - 2), style, style])
    out.lines(report.table(headers, body, style=report.styled(styles, out.color)), indent=2)
    if len(rows) < len(p.rows):
        out(f"  … {len(p.rows) - len(rows)} more (--limit 0 prints all)")
    out()
    if p.layers == 1:
        out.wrap("k kernel_size, s stride, p padding, a output_padding" + (", d dilation" if dilated else "")
                 + "; ONNX: auto_pad settings giving the same layer (UPPER = SAME_UPPER, LOWER = SAME_LOWER, "
                 "+aN: output_padding=N).")
    else:
        out.wrap("layer: kN kernel_size, sN stride, pN padding, aN output_padding (if not 0), dN dilation "
                 "(if not 1).")
    best = p.rows[0]
    out.header("Best: " + ("artifact-free" if best.artifact_free else f"overlap ratio {report.number(best.ratio)}"))
    for L in best.layers:
        out.lines(textwrap.wrap(_torch(L, p.ndim), fmt.WIDTH - 2, subsequent_indent="      "), indent=2)


def _run_inverse(out: fmt.Printer, args: argparse.Namespace) -> int:
    import upconv

    k, s, p = args.inverse
    d = args.dilation
    inv = upconv.plan_inverse(tuple(args.in_size), k, s, p, d)
    conv_in = "×".join(map(str, inv.conv_in_size))
    conv_out = "×".join(map(str, inv.conv_out_size))
    if args.out_size is not None and inv.conv_out_size != (args.out_size,) * len(inv.conv_out_size):
        raise ValueError(
            f"argument OUT: the convolution (kernel {k}, stride {s}, padding {p}, dilation {d}) maps {conv_in} "
            f"to {conv_out}, not {args.out_size}"
        )
    rating = verdict(inv.ratio)
    if args.json:
        output.emit("plan", {
            "inverse": {"in_size": list(inv.conv_in_size), "out_size": list(inv.conv_out_size), "kernel_size": k,
                        "stride": s, "padding": p, "dilation": d},
            "output_padding": list(inv.output_padding), "output_size": list(inv.conv_in_size),
            "torch": inv.torch, "onnx_auto_pad": list(inv.onnx), "overlap_ratio": inv.ratio, "checkerboard": rating,
            "candidates": [[{"conv_input": size, "output_padding": op} for size, op in cands]
                           for cands in inv.candidates],
        })
        return 0
    if args.quiet:
        out(f"output_padding {_tuple(inv.output_padding)}  ({rating})")
        return 0
    dil = f", dilation {d}" if d != 1 else ""
    out.header(f"upconv plan --inverse: undo the conv {conv_in} → {conv_out} (kernel {k}, stride {s}, "
               f"padding {p}{dil})")
    out()
    out.wrap(f"The transposed convolution with the same parameters maps {conv_out} back to {conv_in} with "
             f"output_padding {_tuple(inv.output_padding)} (or output_size={_tuple(inv.conv_in_size)}):")
    out()
    out.lines(textwrap.wrap(inv.torch.replace("ConvTranspose", "nn.ConvTranspose").replace(
        "in_channels, out_channels", "c_in, c_out"), fmt.WIDTH - 4, subsequent_indent="    "), indent=4)
    out()
    style = report.verdict_style(rating)
    out(f"  ONNX auto_pad: {', '.join(inv.onnx) or '- (explicit pads only)'}")
    out("  overlap ratio: " + report.paint(f"{report.number(inv.ratio)} ({rating})", style, out.color))
    out()
    out.wrap(f"Every input size this convolution maps to {conv_out}, and the output_padding that restores it:")
    out()
    axes = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}.get(len(inv.candidates),
                                                              tuple(str(a) for a in range(len(inv.candidates))))
    rows, styles = [], []
    for ax, cands in zip(axes, inv.candidates, strict=False):
        for j, (size, op) in enumerate(cands):
            this = size == inv.conv_in_size[axes.index(ax)]
            rows.append([ax if j == 0 else "", size, op, "← this input" if this else ""])
            styles.append([None, "bold" if this else None, "bold" if this else None, None])
    out.lines(report.table(["axis", "conv input", "output_padding", ""], rows, style=report.styled(styles, out.color)),
              indent=2)
    return 0


def _tuple(t: tuple[int, ...]) -> str:
    return str(t[0]) if len(t) == 1 else str(t)
