"""Argument helpers shared by the sub-commands: integer lists, per-axis values, errors naming an argument,
.npy inputs, and the checks of output files made before any work."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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


def load_npy(spec: str, option: str) -> np.ndarray:
    """The array in the ``.npy`` file ``spec`` (never a pickle); errors say what the file is instead."""
    path = spec.strip()
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as exc:
        raise ValueError(f"argument {option}: cannot read {spec!r}: {exc.strerror or exc}") from None
    if magic != b"\x93NUMPY":
        raise ValueError(f"argument {option}: {spec!r} is not a .npy file (an array saved by numpy.save)")
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        if "pickle" in str(exc):  # an object array: pickled Python objects, never loaded
            raise ValueError(f"argument {option}: {spec!r} holds Python objects, not numbers") from None
        raise ValueError(f"argument {option}: cannot read {spec!r}: {exc}") from None
    if arr.ndim == 0 or arr.dtype.kind not in "biuf" or arr.size == 0:
        raise ValueError(f"argument {option}: {spec!r} must hold a non-empty real array with at least one axis, "
                         f"got dtype {arr.dtype} and shape {arr.shape}")
    return arr


def check_image_output(path: str, option: str, *, inputs: Sequence[str] = (), force: bool = False,
                       bit_depth: int = 8, channels: int | None = None) -> None:
    """Before any work: ``path`` can be written as an image, and it is none of ``inputs`` unless ``force``."""
    from upconv.images.files import check_image_path

    try:
        check_image_path(path, bit_depth, channels)
    except ValueError as exc:
        raise argument_error(option, exc, "write_image") from None
    refuse_input(path, option, inputs, force)


def refuse_input(path: str, option: str, inputs: Sequence[str], force: bool) -> None:
    """``path`` names one of the ``inputs``: an error unless ``force`` (the input would be replaced)."""
    if force or not os.path.exists(path):
        return
    for source in inputs:
        if os.path.exists(source) and os.path.samefile(path, source):
            raise ValueError(f"argument {option}: {path!r} is the input file {source!r}; writing it would replace "
                             "the input (give --force to replace it)")


def check_figure_output(path: str, option: str, formats: Sequence[str] = ("png", "svg", "pdf"), *,
                        inputs: Sequence[str] = (), force: bool = False) -> None:
    """Before any work: ``path`` ends in one of ``formats``, its directory is writable, matplotlib is installed."""
    from upconv._files import check_writable

    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in formats:
        listed = ", ".join("." + f for f in formats[:-1]) + (" or ." if len(formats) > 1 else ".") + formats[-1]
        raise ValueError(f"argument {option}: must end in {listed}, got {path!r}")
    check_writable(path, f"argument {option}")
    try:
        import matplotlib  # noqa: F401  (needed for the figure anyway)
    except ImportError:
        raise ImportError(f"{option} draws with matplotlib, which is not installed: pip install 'upconv[image]' "
                          "(or pip install matplotlib)") from None
    refuse_input(path, option, inputs, force)


def save_figure(fig: Figure, path: str, option: str, dpi: float) -> None:
    """``fig.savefig`` at ``dpi`` through :func:`upconv._files.atomic_write` (an interrupt leaves the old file)."""
    from upconv._files import atomic_write

    ext = os.path.splitext(path)[1].lower().lstrip(".")
    try:
        with atomic_write(path) as f:
            fig.savefig(f, format=ext, dpi=dpi)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ValueError(f"argument {option}: cannot write {path!r}: {reason}") from None
