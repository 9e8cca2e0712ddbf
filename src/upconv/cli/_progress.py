"""The one progress line of the command line: on a terminal only, never with ``--json`` or ``--quiet``.

Work that takes longer than about two seconds (``compare``, large
``resize`` runs, ``experiment``, ``deconvolve``) reports what it is doing on
stderr, rewritten in place (``\\r``); nothing is drawn in the first
:data:`DELAY` seconds, so quick runs stay silent, and the line is erased
when the work ends (also on an error or Ctrl-C), so that it never mixes
with the output.

    with Progress("upconv compare", enabled) as progress:
        for i, method in enumerate(methods, 1):
            progress.update(f"{method}", i, len(methods))
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress", "DELAY", "wanted"]

#: Seconds of silence before the first progress line.
DELAY = 0.5
# least time between two redraws
_INTERVAL = 0.1
_BAR = 20


def wanted(stream: TextIO | None = None, *, json: bool = False, quiet: bool = False) -> bool:
    """Whether progress is shown: ``stream`` (stderr) is a terminal and neither --json nor --quiet was given."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not json and not quiet


class Progress:
    """A status line on ``stream``: ``label: what [####......] i/n  elapsed``."""

    def __init__(self, label: str, enabled: bool, stream: TextIO | None = None, delay: float | None = None) -> None:
        self.label, self.enabled = label, enabled
        self.delay = DELAY if delay is None else delay
        self.stream = sys.stderr if stream is None else stream
        self.start = time.perf_counter()
        self.last = -1.0
        self.width = 0

    def __enter__(self) -> Progress:
        self.start = time.perf_counter()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.clear()

    def update(self, what: str, step: int | None = None, total: int | None = None) -> None:
        """Show ``what`` (and ``step`` of ``total`` as a bar) unless the last redraw was moments ago."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.start < self.delay or (now - self.last < _INTERVAL and step != total):
            return
        self.last = now
        text = f"{self.label}: {what}"
        if step is not None and total:
            fill = min(_BAR, _BAR * step // total)
            text += f" [{'#' * fill}{'.' * (_BAR - fill)}] {step}/{total}"
        elif step is not None:
            text += f" {step}"
        text += f"  {now - self.start:.1f} s"
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def clear(self) -> None:
        """Erase the line (when one was drawn)."""
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0
