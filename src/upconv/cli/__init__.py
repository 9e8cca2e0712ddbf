"""The ``upconv`` command line: ``upconv <command> [options]``.

``main(argv=None) -> int`` builds an :mod:`argparse` parser with one
sub-command per module of this package and returns the exit status
(``[project.scripts] upconv = "upconv.cli:main"``; ``python -m upconv`` runs
the same function).

Adding a command
----------------
Write ``upconv/cli/<name>.py`` exposing

``add_parser(subparsers) -> argparse.ArgumentParser``
    ``p = subparsers.add_parser("<name>", help=..., description=...)``, then
    the options;
``run(args) -> int``
    a thin adapter: parse the option values, call library functions (no
    numerics here; every size comes from :mod:`upconv.shapes`), print, and
    return the exit status,

then add ``"<name>"`` to :data:`COMMANDS` (and a test to
``tests/test_cli.py``): a new module plus a one-line change here.

Rules for command modules: ``import upconv.cli`` imports every command module
to build the parser, so matplotlib, sympy, torch and other heavy imports go
inside ``run`` (``upconv --version`` must finish in well under a second).
``ValueError``, ``TypeError``, ``MemoryError`` and ``ImportError`` (a missing
optional dependency) escaping ``run`` are printed
as ``upconv <name>: error: <message>`` on stderr with exit status 2, without
a traceback (set ``UPCONV_DEBUG=1`` to see it); messages about an option
should name it (``argument --input: ...``), as argparse does.  Library
messages are put in the command line's words by
:func:`upconv.cli._errors.in_cli_words` with the module's ``PARAMETERS``
(library parameter name -> option), and a missing extra gets its ``pip
install`` command.  Ctrl-C prints one line and exits with status 130.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

import upconv
from upconv.cli._errors import in_cli_words, missing_extra

__all__ = ["COMMANDS", "build_parser", "main"]

#: Sub-command modules of :mod:`upconv.cli`, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "explain", "experiment", "deconvolve", "plan", "checkerboard", "resize", "compare", "lint", "serve",
)

PROG = "upconv"


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The top-level parser, with one sub-parser per entry of :data:`COMMANDS`.

    Given the command line ``argv`` that names a command, only that command's module is imported and
    its sub-parser built (the others are names only, which no parse of ``argv`` shows): a command
    starts without the imports of the others (``upconv resize`` without the explaining tools).
    """
    chosen = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="upconv: up-sampling for neural networks on NumPy "
        "(transposed convolution and its relatives), explained.",
        epilog=f"Run '{PROG} <command> --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {upconv.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", title="commands")
    subparsers.required = True
    for name in COMMANDS:
        if chosen in COMMANDS and name != chosen:
            subparsers.add_parser(name)
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(_run=module.run, _parameters=getattr(module, "PARAMETERS", {}))
    return parser


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``upconv`` command line on ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        args = build_parser(argv).parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors (status 2)
        return _exit_status(exc.code)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    try:
        return int(args._run(args))
    except (ValueError, TypeError, MemoryError, ImportError) as exc:
        if os.environ.get("UPCONV_DEBUG"):
            raise
        if isinstance(exc, ImportError):  # an optional dependency (an extra) is missing: say what to install
            message = missing_extra(exc)
        else:
            message = in_cli_words(str(exc), args._parameters)
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: one line, the shell's status for SIGINT; files are written atomically
        if os.environ.get("UPCONV_DEBUG"):
            raise
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `upconv explain | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
