"""``upconv experiment``: run one of the experiments of :mod:`upconv.studies.experiment`.

``upconv experiment checkerboard`` trains the same x4 super-resolution
decoder with each up-sampling method (transposed conv k3/k4, resize-conv
nearest/bilinear, pixel shuffle with and without ICNR) and prints, per
method, PSNR, DC-gain spread and stride-frequency energy at initialisation
and after training.  Progress goes to stderr (on a terminal), the table to
stdout; ``--json`` prints the table as one JSON document.

Example::

    $ upconv experiment checkerboard --quick
    $ upconv experiment checkerboard --epochs 20 --figure checkerboard.png --seed 1
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from upconv.cli import _output as output
from upconv.cli._args import check_figure_output, save_figure
from upconv.cli._progress import Progress, wanted

if TYPE_CHECKING:
    from upconv.studies.experiment import ExperimentResult

__all__ = ["add_parser", "run"]

EXPERIMENTS = ("checkerboard",)
#: The library's parameter names and the options that set them (errors name the options).
PARAMETERS = {"epochs": "--epochs", "seed": "--seed", "quick": "--quick"}


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "experiment",
        help="train small up-samplers and measure their checkerboard artifacts",
        description="Train the same x4 super-resolution decoder with every up-sampling method\n"
        "(transposed convolution k3/k4 s2, resize-convolution nearest/bilinear, pixel shuffle\n"
        "with default and ICNR initialisation) and report PSNR, polyphase DC-gain spread,\n"
        "stride-frequency energy and flat-input ripple at initialisation and after training.\n"
        "The images are the built-in photographs (decoded without Pillow when it is missing).\n"
        "Progress goes to stderr on a terminal, the table to stdout.",
        epilog="examples:\n  upconv experiment checkerboard --quick\n"
        "  upconv experiment checkerboard --epochs 20 --figure checkerboard.png\n"
        "  upconv experiment checkerboard --quick --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", choices=EXPERIMENTS, help="the experiment")
    p.add_argument("--quick", action="store_true", help="a tiny configuration (seconds), for tests")
    p.add_argument("--epochs", type=int, default=None, metavar="N", help="training epochs (default 12; 2 with --quick)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the weights and batches (default 0)")
    p.add_argument("--figure", default=None, metavar="OUT.png", help="write the outputs and loss curves to this file")
    p.add_argument("--no-progress", action="store_true", help="do not show progress on stderr")
    output.add_options(p)
    return p


def run(args: argparse.Namespace) -> int:
    from upconv.studies.experiment import checkerboard_experiment

    if args.epochs is not None and args.epochs < 1:
        raise ValueError(f"argument --epochs: must be >= 1, got {args.epochs}")
    if args.seed < 0:
        raise ValueError(f"argument --seed: must be >= 0, got {args.seed}")
    if args.figure:  # before the training
        check_figure_output(args.figure, "--figure")
    kwargs: dict[str, Any] = {"quick": args.quick, "seed": args.seed}
    if args.epochs is not None:
        kwargs["epochs"] = args.epochs
    shown = wanted(json=args.json, quiet=args.quiet) and not args.no_progress
    with Progress("upconv experiment", shown) as progress:
        if shown:
            kwargs["progress"] = lambda p: progress.update(
                f"{p.method} ({p.index}/{p.count}), epoch {p.epoch}/{p.epochs}, loss {p.loss:.5f}",
                p.step, p.steps)
        result = checkerboard_experiment(**kwargs)
        if args.figure:
            from upconv.figures.studies import plot_experiment

            progress.update(f"drawing {args.figure}")
            save_figure(plot_experiment(result), args.figure, "--figure", dpi=120)
    if args.json:
        output.emit("experiment", _document(result, args.figure))
    elif args.quiet:
        best = max(result.results, key=lambda r: r.psnr[1])
        print(f"best: {best.method}, PSNR {best.psnr[1]:.2f} dB trained (bicubic {result.bicubic_psnr:.2f} dB)")
    else:
        print(result.format_table())
        if args.figure:
            print(f"figure written to {args.figure}")
    return 0


def _document(result: ExperimentResult, figure: str | None) -> dict[str, Any]:
    """The table for --json: every method's measurements at initialisation and after training."""
    return {
        "experiment": "checkerboard", "config": result.config,
        "units": {"psnr_db": "dB on held-out crops", "dc_spread": "rms polyphase DC-gain spread (0 = flat in, "
                  "flat out)", "stride_energy": "fraction of spectral energy at the stride frequencies",
                  "ripple": "rms variation for a flat mid-gray input, intensity units", "time_s": "seconds"},
        "rows": [{"method": r.method, "label": r.label,
                  "psnr_db": {"init": r.psnr[0], "trained": r.psnr[1]},
                  "dc_spread": {"init": r.dc_spread[0], "trained": r.dc_spread[1]},
                  "stride_energy": {"init": r.stride_energy[0], "trained": r.stride_energy[1]},
                  "ripple": {"init": r.ripple[0], "trained": r.ripple[1]},
                  "final_loss": r.losses[-1], "time_s": r.seconds} for r in result.results],
        "reference": {"method": "bicubic", "psnr_db": result.bicubic_psnr,
                      "stride_energy": result.target_stride_energy},
        "figure": figure,
    }
