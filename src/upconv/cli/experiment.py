"""``upconv experiment``: run one of the experiments of :mod:`upconv.studies.experiment`.

``upconv experiment checkerboard`` trains the same x4 super-resolution
decoder with each up-sampling method (transposed conv k3/k4, resize-conv
nearest/bilinear, pixel shuffle with and without ICNR) and prints, per
method, PSNR, DC-gain spread and stride-frequency energy at initialisation
and after training.  Progress goes to stderr, the table to stdout.

Example::

    $ upconv experiment checkerboard --quick
    $ upconv experiment checkerboard --epochs 20 --figure checkerboard.png --seed 1
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from upconv.studies.experiment import Progress

__all__ = ["add_parser", "run"]

EXPERIMENTS = ("checkerboard",)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "experiment",
        help="train small up-samplers and measure their checkerboard artifacts",
        description="Train the same x4 super-resolution decoder with every up-sampling method\n"
        "(transposed convolution k3/k4 s2, resize-convolution nearest/bilinear, pixel shuffle\n"
        "with default and ICNR initialisation) and report PSNR, polyphase DC-gain spread,\n"
        "stride-frequency energy and flat-input ripple at initialisation and after training.\n"
        "Progress goes to stderr, the table to stdout.",
        epilog="examples:\n  upconv experiment checkerboard --quick\n"
        "  upconv experiment checkerboard --epochs 20 --figure checkerboard.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", choices=EXPERIMENTS, help="the experiment")
    p.add_argument("--quick", action="store_true", help="a tiny configuration (seconds), for tests")
    p.add_argument("--epochs", type=int, default=None, metavar="N", help="training epochs (default 12; 2 with --quick)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the weights and batches (default 0)")
    p.add_argument("--figure", default=None, metavar="OUT.png", help="write the outputs and loss curves to this file")
    p.add_argument("--no-progress", action="store_true", help="do not show progress on stderr")
    return p


def _progress(enabled: bool) -> Callable[[Progress], None] | None:
    """A progress callback: a status line rewritten in place on a terminal, one line per epoch otherwise."""
    if not enabled:
        return None
    tty = sys.stderr.isatty()

    def show(p: Progress) -> None:
        if tty:
            print("\r" + str(p), end="", file=sys.stderr, flush=True)
        elif p.step == p.steps:
            print(p, file=sys.stderr, flush=True)

    return show


def run(args: argparse.Namespace) -> int:
    from upconv.studies.experiment import checkerboard_experiment

    if args.epochs is not None and args.epochs < 1:
        raise ValueError(f"argument --epochs: must be >= 1, got {args.epochs}")
    if args.seed < 0:
        raise ValueError(f"argument --seed: must be >= 0, got {args.seed}")
    kwargs: dict[str, Any] = {"quick": args.quick, "seed": args.seed, "progress": _progress(not args.no_progress)}
    if args.epochs is not None:
        kwargs["epochs"] = args.epochs
    result = checkerboard_experiment(**kwargs)
    if not args.no_progress and sys.stderr.isatty():
        print(file=sys.stderr)
    print(result.format_table())
    if args.figure:
        from upconv.figures.studies import plot_experiment

        fig = plot_experiment(result)
        try:
            fig.savefig(args.figure, dpi=120)
        except (OSError, ValueError) as exc:
            raise ValueError(f"argument --figure: cannot write {args.figure!r}: {exc}") from None
        print(f"figure written to {args.figure}")
    return 0
