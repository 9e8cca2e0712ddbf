"""The one progress line of the command line: on a terminal only, never with ``--json`` or ``--quiet``.

Work that takes longer than about two seconds (``compare``, large
``resize`` runs, ``experiment``, ``deconvolve``) reports what it is doing on
stderr, rewritten in place (``\\r``) with the time elapsed; nothing is drawn
in the first :data:`DELAY` seconds, so quick runs stay silent; a background
thread redraws the line twice a second, so that one long step (resizing a
large gray image, encoding a PNG) still shows time passing; and the line is
erased when the work ends (also on an error or Ctrl-C), so that it never
mixes with the output.

    with Progress("upconv compare", wanted(json=args.json, quiet=args.quiet)) as progress:
        for i, method in enumerate(methods, 1):
            progress.update(method, i, len(methods))
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress", "DELAY", "wanted"]

#: Seconds of silence before the first progress line.
DELAY = 0.5
# least time between two redraws by update(); the background thread redraws every _TICK seconds
_INTERVAL = 0.1
_TICK = 0.5
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
        self.stream = sys.stderr if stream is None else stream
        self.delay = DELAY if delay is None else delay
        self.start = time.perf_counter()
        self.last = -1.0
        self.width = 0
        self.status: tuple[str, int | None, int | None] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> Progress:
        self.start = time.perf_counter()
        if self.enabled:
            self._ticker = threading.Thread(target=self._tick, name="upconv-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        self.clear()

    def update(self, what: str, step: int | None = None, total: int | None = None) -> None:
        """Show ``what`` (and ``step`` of ``total`` as a bar) unless the last redraw was moments ago."""
        if not self.enabled:
            return
        self.status = (what, step, total)
        now = time.perf_counter()
        if now - self.last < _INTERVAL and step != total:
            return
        self._draw(now)

    def _tick(self) -> None:
        while not self._stop.wait(_TICK):
            self._draw(time.perf_counter())

    def _draw(self, now: float) -> None:
        with self._lock:
            if self.status is None or now - self.start < self.delay or self._stop.is_set():
                return
            self.last = now
            what, step, total = self.status
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
        with self._lock:
            if self.width:
                self.stream.write("\r" + " " * self.width + "\r")
                self.stream.flush()
                self.width = 0
