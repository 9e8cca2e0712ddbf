"""The figures' shared style and machinery: fixed sizes and resolution, colours, saving, cell grids."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from upconv._files import atomic_write

if TYPE_CHECKING:
    from types import ModuleType

    import numpy.typing as npt
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Resolution of every figure (dots per inch); the figure's display coordinates are PNG pixels.
DPI = 100
#: Resolution of the animation frames.
ANIMATION_DPI = 100
#: Largest dense matrix (rows * columns) that :func:`plot_conv_matrix` draws.
MAX_MATRIX_ENTRIES = 250_000
#: Largest grid (cells per axis) an animation draws.
MAX_CELLS = 40
#: Largest number of frames of an animation.
MAX_FRAMES = 400

_FORMATS = ("png", "svg", "pdf")
#: Metadata that would differ between runs or versions, removed from the files.
_METADATA = {
    "png": {"Software": None},
    "svg": {"Creator": None, "Date": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
}
_RC = {
    "font.size": 8.0,
    "axes.titlesize": 8.5,
    "figure.titlesize": 10.0,
    "svg.hashsalt": "upconv",
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
    "savefig.bbox": None,
}

# cell colours of the animations and figures
ORANGE = (1.0, 0.6, 0.1)
INPUT_CELL = (1.0, 0.88, 0.54)
INSERTED_CELL = (0.78, 0.78, 0.78)
PADDING_CELL = (0.93, 0.93, 0.93)
CROPPED_CELL = (0.55, 0.55, 0.55)
KERNEL_CELL = (0.87, 0.91, 0.97)
BLANK_CELL = (1.0, 1.0, 1.0)


# --------------------------------------------------------------------------
# shared machinery


@contextlib.contextmanager
def matplotlib_style() -> Iterator[ModuleType]:
    """matplotlib with the default style and :data:`_RC`, whatever the user's matplotlibrc says."""
    try:
        import matplotlib
        import matplotlib.style
    except ImportError as exc:  # pragma: no cover - matplotlib is installed in the test environment
        raise ImportError(
            "upconv.figures needs matplotlib: pip install 'upconv[image]' (or pip install matplotlib)"
        ) from exc
    with matplotlib.style.context(["default", _RC]):
        yield matplotlib


def figure(width: float, height: float, dpi: float = DPI) -> Figure:
    """A white pyplot-free :class:`matplotlib.figure.Figure` of ``width`` x ``height`` inches."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
    return fig


@overload
def check_path(path: None, func: str, formats: Sequence[str] = ...) -> None: ...
@overload
def check_path(path: str | os.PathLike[str], func: str, formats: Sequence[str] = ...) -> str: ...
@overload
def check_path(path: Any, func: str, formats: Sequence[str] = ...) -> str | None: ...
def check_path(path: Any, func: str, formats: Sequence[str] = _FORMATS) -> str | None:
    """``path`` as a str (None stays None), refused unless it ends in one of ``formats``; errors name ``func``."""
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{func}: path must be a str or os.PathLike, got {path!r}")
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in formats:
        listed = ", ".join("." + f for f in formats)
        raise ValueError(f"{func}: path must end in {listed}, got {path!r}")
    return path


def save(fig: Figure, path: str | None) -> None:
    """Save ``fig`` at its own resolution without any run-dependent metadata, atomically.

    The file is written through :func:`upconv._files.atomic_write`: an error
    or an interrupt while saving leaves an existing file as it was.
    """
    if path is None:
        return
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    with matplotlib_style(), atomic_write(path) as f:  # matplotlib_style: the settings read at save time
        fig.savefig(f, format=ext, dpi=fig.dpi, metadata=_METADATA[ext], facecolor="white")


def place(fig: Figure, left: float, bottom: float, width: float, height: float) -> Axes:
    """Axes at a rectangle given in inches from the figure's lower left corner."""
    W, H = fig.get_size_inches()
    return fig.add_axes((left / W, bottom / H, width / W, height / H))


def fmt(x: float) -> str:
    """A cell label: an integer without ``.0``, else 3 significant digits."""
    x = float(x)
    if math.isfinite(x) and x == round(x) and abs(x) < 1e15:
        return str(int(round(x)))
    return f"{x:.3g}"


def dims(shape: Sequence[int]) -> str:
    """``(5, 5) -> "5×5"``."""
    return "×".join(str(s) for s in shape)


def text_colour(rgb: Sequence[float]) -> str:
    """Black or white text, whichever reads better on ``rgb``."""
    r, g, b = rgb[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def font(text: str, cell_pt: float, base: float = 9.0) -> float:
    """Font size (points) for ``text`` in a square cell ``cell_pt`` points wide."""
    return min(base, 0.42 * cell_pt, 1.55 * cell_pt / max(len(text), 2))


def blend(rgb: npt.NDArray[np.floating[Any]], colour: Sequence[float], amount: float,
          where: npt.NDArray[np.bool_]) -> npt.NDArray[np.floating[Any]]:
    """A copy of the colours ``rgb`` moved ``amount`` of the way to ``colour`` where ``where`` is True."""
    out = rgb.copy()
    out[where] = (1 - amount) * out[where] + amount * np.asarray(colour, dtype=float)
    return out


def cell_grid(ax: Axes, shape: tuple[int, int], colour: str = "0.7") -> None:
    """Hide ticks and draw thin lines between the cells of a ``shape`` grid."""
    h, w = shape
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.hlines(np.arange(h + 1) - 0.5, -0.5, w - 0.5, colors=colour, linewidths=0.5)
    ax.vlines(np.arange(w + 1) - 0.5, -0.5, h - 0.5, colors=colour, linewidths=0.5)


def as2d(a: np.ndarray) -> np.ndarray:
    """A 1-d array as one row; a 2-d array unchanged."""
    return a.reshape((1,) * (2 - a.ndim) + a.shape)

