"""``upconv serve``: the explorer, an interactive page of the transposed convolution, in the browser.

Starts a local web server (:mod:`upconv.web`) on ``127.0.0.1`` only, on a
free port unless ``--port`` names one, prints its address and opens it in
the default browser (``--no-browser``: not).  The page sets a 1-d or 2-d
configuration and shows its four views side by side, the checkerboard
story and the configuration as code; every number comes from the library
through JSON.  Ctrl-C stops the server with one line on stderr and exit
status 0 (stopping is how a server ends, not an error).  Needs the
``[web]`` extra: ``pip install 'upconv[web]'``.

Example::

    $ upconv serve                 # a free port, opens the browser
    $ upconv serve --port 8765 --no-browser
"""

from __future__ import annotations

import argparse
import sys
import textwrap

from upconv.cli import _format as fmt

__all__ = ["add_parser", "run"]


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 65535, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 65535, got {text!r}")
    return port


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``serve`` on the ``upconv`` sub-parsers."""
    p = subparsers.add_parser(
        "serve",
        help="explore transposed convolutions interactively in the browser",
        description=textwrap.fill(
            "Start the explorer: a local web server on 127.0.0.1 (never another address) with a page that "
            "shows any 1-d or 2-d transposed convolution four ways side by side, steps through the "
            "stamping and the sliding, tells the checkerboard story and copies the configuration as "
            "code. Ctrl-C stops it (exit status 0). Needs the [web] extra.", fmt.WIDTH),
        epilog="examples:\n  upconv serve\n  upconv serve --port 8765 --no-browser",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--port", type=_port, default=0, metavar="N",
                   help="port on 127.0.0.1 (default 0: a free port chosen by the system)")
    p.add_argument("--no-browser", action="store_true", help="do not open the page in the browser")
    return p


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; 0 then, 2 when the port is taken or the [web] extra is missing."""
    from upconv.web.server import serve

    try:
        serve(args.port, open_browser=not args.no_browser, announce=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        print("upconv serve: stopped", file=sys.stderr, flush=True)
        return 0
    except OSError as exc:
        raise ValueError(f"argument --port: cannot listen on 127.0.0.1:{args.port}: "
                         f"{exc.strerror or exc}") from None
    return 0
