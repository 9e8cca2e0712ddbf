"""``upconv lint``: lint every up-sampling layer of an ONNX model; exit 1 when something is flagged.

Prints :func:`upconv.lint`'s report: a summary table (flagged layers
first), then per layer its attributes, the equivalent upconv and torch
calls, overlap / unreached outputs / borders / stack, the weights' DC-gain
spread, findings, a suggestion and, with ``--replay``, the largest
difference between upconv and onnxruntime on the layer's real input.
``--json`` prints one JSON document (schema in the README, "Linting a
model").  Exit status: 0 nothing flagged, 1 something flagged, 2 usage
error or unreadable model.

Example::

    $ upconv lint decoder.onnx
    $ upconv lint decoder.onnx --input-size 64,64 --replay
    $ upconv lint decoder.onnx --json > report.json
"""

from __future__ import annotations

import argparse
import json
import textwrap

from upconv.cli import _format as fmt

__all__ = ["add_parser", "run"]

#: The library's parameter names and the options that set them (errors name the options).
PARAMETERS = {"model": "MODEL", "input_size": "--input-size", "replay": "--replay", "figure": "--figure",
              "seed": "--seed"}

_EPILOG = """\
--input-size: the sizes of a model input declared dynamic: H,W (spatial; the
batch is 1 and the channels come from the model) or N,C,H,W; NAME=N,C,H,W for
one of several inputs (repeatable).  A dynamic batch alone is taken as 1.

exit status: 0 nothing flagged, 1 at least one layer flagged, 2 usage error
or a model that cannot be read.

examples:
  upconv lint decoder.onnx                       the report
  upconv lint decoder.onnx --input-size 64,64    dynamic H and W
  upconv lint decoder.onnx --replay              also rerun every layer vs onnxruntime
  upconv lint decoder.onnx --json | jq '.layers[] | select(.flagged) | .name'
  upconv lint decoder.onnx --figure lint.png     overlap / DC-gain maps of flagged layers
"""


def _size(text: str) -> tuple[str | None, tuple[int, ...]]:
    name, _, sizes = text.rpartition("=")
    try:
        values = tuple(int(v) for v in sizes.replace("x", ",").split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected sizes like 64,64 or 1,3,64,64 or NAME=1,3,64,64, got {text!r}")
    return (name or None), values


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``lint`` on the ``upconv`` sub-parsers."""
    p = subparsers.add_parser(
        "lint",
        help="lint every up-sampling layer of an ONNX model (checkerboards, traps, replay)",
        description=textwrap.fill(
            "Report every up-sampling layer of an ONNX model (ConvTranspose, Resize/Upsample, DepthToSpace, "
            "MaxUnpool, resize-convolutions): geometry (overlap ratio, unreached outputs, uneven borders, "
            "stacks), the weights' DC-gain spread, ONNX/torch/runtime semantic traps, the torch call that "
            "reproduces it, and an artifact-free replacement for flagged layers.", fmt.WIDTH),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", metavar="MODEL", help="an ONNX file (the [onnx] extra)")
    p.add_argument("--input-size", type=_size, action="append", default=[], metavar="SIZES",
                   help="input sizes: H,W or N,C,H,W, or NAME=N,C,H,W (repeatable)")
    p.add_argument("--replay", action="store_true",
                   help="rerun every layer with upconv on its real input and compare with onnxruntime")
    p.add_argument("--json", action="store_true", help="print one JSON document and nothing else")
    p.add_argument("--figure", metavar="PATH.png",
                   help="write the overlap and DC-gain maps of flagged layers (PATH-<i>-<kind>.png)")
    p.add_argument("--quiet", action="store_true", help="print only the verdict and one line per flag")
    p.add_argument("--seed", type=int, default=0, help="seed of the random model input for --replay (default 0)")
    return p


def _input_size(specs: list[tuple[str | None, tuple[int, ...]]]):
    if not specs:
        return None
    names = [n for n, _ in specs]
    if len(specs) == 1 and names[0] is None:
        return specs[0][1]
    if None in names:
        raise ValueError("argument --input-size: with several --input-size options, name each input "
                         "(NAME=N,C,H,W)")
    return dict(specs)


def run(args: argparse.Namespace) -> int:
    """Lint the model; print the report (or JSON); 1 when a layer is flagged."""
    from upconv.linter import lint
    from upconv.linter.graph import ModelError

    try:
        report = lint(args.model, input_size=_input_size(args.input_size), replay=args.replay,
                      figure=args.figure, seed=args.seed)
    except ModelError as exc:
        option = "MODEL" if exc.argument == "model" else "--input-size"
        raise ValueError(f"argument {option}: {exc}") from None
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, allow_nan=False))
    else:
        fmt.Printer().lines(report.lines(quiet=args.quiet))
    return 1 if report.flagged else 0
