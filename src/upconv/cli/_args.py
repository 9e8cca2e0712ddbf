"""Argument helpers shared by the sub-commands: integer lists, per-axis values, errors naming an argument."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable


def int_list(minimum: int) -> Callable[[str], tuple[int, ...]]:
    """An argparse ``type``: ``"3"``, ``"3,4"`` or ``"3x4"`` as a tuple of integers ``>= minimum``."""

    def parse(text: str) -> tuple[int, ...]:
        parts = [t for t in re.split(r"[\s,x]+", text.strip()) if t]
        try:
            values = tuple(int(t) for t in parts)
        except ValueError:
            values = ()
        if not values:
            raise argparse.ArgumentTypeError(f"expected an integer or comma-separated integers, got {text!r}")
        if any(v < minimum for v in values):
            raise argparse.ArgumentTypeError(f"every value must be >= {minimum}, got {text!r}")
        return values

    return parse


def per_axis(values: tuple[int, ...], n: int, option: str) -> tuple[int, ...]:
    """One value per axis: a single value repeated ``n`` times, or exactly ``n`` values."""
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise ValueError(
            f"argument {option}: expected 1 or {n} values (one per axis of the {n}-d input), "
            f"got {len(values)}: {','.join(map(str, values))}"
        )
    return values


def argument_error(argument: str, exc: Exception, func: str) -> ValueError:
    """``exc`` as an error about ``argument``: ``"argument ARGUMENT: message"``, the message's ``"func: "`` dropped."""
    message = str(exc)
    if message.startswith(func + ": "):
        message = message[len(func) + 2:]
    return ValueError(f"argument {argument}: {message}")
