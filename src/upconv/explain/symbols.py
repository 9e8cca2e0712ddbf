"""The sympy plumbing of :mod:`upconv.explain.symbolic`: symbols, the symbolic convolution, its Jacobian, printing.

sympy is imported when a function here is first called (``import upconv``
does not import it).  Sizes are checked against
:data:`MAX_ENTRIES` before anything is built.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.shapes import ConvGeometry

if TYPE_CHECKING:
    from types import ModuleType

    import sympy

__all__ = ["symbol_names", "symbol_array", "to_latex", "pretty"]


#: Largest symbolic matrix (rows * columns), or number of product terms of a
#: symbolic convolution output, that upconv builds (read at each call: set
#: ``upconv.explain.symbols.MAX_ENTRIES`` to change it).
MAX_ENTRIES = 100_000


def _sympy() -> ModuleType:
    try:
        import sympy
    except ImportError as exc:  # pragma: no cover - sympy is installed in the test environment
        raise ImportError(
            "upconv.symbolic needs sympy: pip install 'upconv[symbolic]' (or pip install sympy)"
        ) from exc
    return sympy


# --------------------------------------------------------------------------
# symbols


def symbol_names(name: str, shape: tuple[int, ...], channel_axes: int) -> np.ndarray:
    """Object array of symbol names: ``name`` + 1-based indices (see :func:`symbol_array`)."""
    channel_shape, spatial_shape = shape[:channel_axes], shape[channel_axes:]

    def group(sizes: tuple[int, ...]) -> Callable[[tuple[int, ...]], str]:
        sep = "" if all(s <= 9 for s in sizes) else "_"
        return lambda idx: sep.join(str(i + 1) for i in idx)

    spatial = group(spatial_shape)
    channels = group(channel_shape) if math.prod(channel_shape) > 1 else None
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        s = spatial(idx[channel_axes:])
        out[idx] = f"{name}{channels(idx[:channel_axes])}_{s}" if channels else f"{name}{s}"
    return out


def _symbols(sp: ModuleType, name: str, shape: tuple[int, ...], channel_axes: int) -> np.ndarray:
    return np.vectorize(sp.Symbol, otypes=[object])(symbol_names(name, shape, channel_axes))


def symbol_array(name: str, shape: Sequence[int], channel_axes: int = 0) -> sympy.ImmutableDenseNDimArray:
    """A sympy Array of symbols named like the seeds: ``x11, x12, ..., x44``.

    Parameters
    ----------
    name : str
        Base name (``"x"``, ``"w"``, ``"y"``, ...).
    shape : sequence of ints
        ``(*channels, *spatial)``.
    channel_axes : int, optional
        How many leading axes of ``shape`` are channel axes.

    Returns
    -------
    sympy.ImmutableDenseNDimArray, shape ``shape``

    Notes
    -----
    The name is ``name`` followed by the 1-based spatial indices, written
    one after the other when every spatial size is at most 9 (``x23``) and
    separated by ``_`` otherwise (``x2_11``; sympy prints ``x_{2 11}``).
    When the channel axes hold more than one element, the channel indices
    come first, separated from the spatial ones by ``_`` (``w21_13``: output
    channel 2, input channel 1, tap (1, 3); sympy prints ``w_{21 13}``).

    Examples
    --------
    >>> from upconv.explain.symbolic import symbol_array
    >>> symbol_array("x", (2, 3))
    [[x11, x12, x13], [x21, x22, x23]]
    >>> symbol_array("x", (2, 1, 3), channel_axes=1)
    [[[x1_11, x1_12, x1_13]], [[x2_11, x2_12, x2_13]]]
    >>> symbol_array("w", (1, 12))[0, 10]
    w1_11
    """
    func = "symbol_array"
    name = _name(func, name, "name")
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or len(shape) == 0:
        raise TypeError(f"{func}: shape must be a non-empty sequence of positive integers, got {shape!r}")
    shape = v.int_tuple(tuple(shape), len(shape), func, "shape", minimum=1)
    channel_axes = v.integer(channel_axes, func, "channel_axes", minimum=0)
    if channel_axes >= len(shape):
        raise ValueError(
            f"{func}: channel_axes must be smaller than the number of axes of shape {shape}, got {channel_axes}"
        )
    _check_entries(func, math.prod(shape), "symbols")
    sp = _sympy()
    return sp.Array(_symbols(sp, name, shape, channel_axes).tolist(), shape)


# --------------------------------------------------------------------------
# checks, the symbolic convolution and its Jacobian


def _check_entries(func: str, count: int, what: str) -> None:
    if count > MAX_ENTRIES:  # read at each call: the setting may change
        raise ValueError(
            f"{func}: this configuration needs {count} {what}, more than the limit of {MAX_ENTRIES} "
            "(upconv.explain.symbols.MAX_ENTRIES); symbolic derivation is meant for small sizes: "
            "reduce in_size, kernel_size or the channels"
        )


def _channels(func: str, in_channels: int, out_channels: int, groups: int) -> tuple[int, int, int]:
    c_in = v.integer(in_channels, func, "in_channels", minimum=1)
    c_out = v.integer(out_channels, func, "out_channels", minimum=1)
    groups = v.integer(groups, func, "groups", minimum=1)
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"{func}: in_channels ({c_in}) and out_channels ({c_out}) must both be divisible by groups={groups}"
        )
    return c_in, c_out, groups


def _name(func: str, value: object, what: str) -> str:
    if not isinstance(value, str) or not value.isidentifier():
        raise ValueError(f"{func}: {what} must be a Python identifier such as 'x', got {value!r}")
    return value


def _window_index(g: ConvGeometry) -> np.ndarray:
    """``(prod(k), prod(out))`` flat input index read by each tap of each output (-1: padding)."""
    from upconv.ops.correlation import pad, windows

    flat = np.arange(1, math.prod(g.in_size) + 1, dtype=np.int64).reshape((1, 1) + g.in_size)
    win = windows(pad(flat, g.padding), g)
    return win.reshape(math.prod(g.kernel_size), math.prod(g.out_size)) - 1


def _conv_exprs(sp: ModuleType, x: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """Symbolic grouped correlation: ``x (C_in, *in)``, ``w (C_out, C_in/g, *k)`` -> ``(C_out, prod(out))``."""
    idx = _window_index(g)
    c_out, ci_g = w.shape[:2]
    co_g = c_out // groups
    xf = x.reshape(x.shape[0], -1)
    wf = w.reshape(c_out, ci_g, -1)
    out = np.empty((c_out, idx.shape[1]), dtype=object)
    for co in range(c_out):
        first = (co // co_g) * ci_g
        for o in range(idx.shape[1]):
            terms = [
                wf[co, ci, t] * xf[first + ci, idx[t, o]]
                for ci in range(ci_g)
                for t in range(idx.shape[0])
                if idx[t, o] >= 0
            ]
            out[co, o] = sp.Add(*terms)
    return out


def _conv_jacobian(sp: ModuleType, w: np.ndarray, g: ConvGeometry, groups: int, c_in: int) -> sympy.Matrix:
    """``C = d vec(Y) / d vec(X)`` (numerator layout) of the convolution ``g`` with symbolic weight ``w``."""
    x = np.array(sp.symbols(f"_x0:{c_in * math.prod(g.in_size)}", cls=sp.Dummy), dtype=object)
    x = x.reshape((c_in,) + g.in_size)
    return _jacobian(sp, _conv_exprs(sp, x, w, g, groups).ravel(), x.ravel())


def _jacobian(sp: ModuleType, y: np.ndarray, x: np.ndarray) -> sympy.Matrix:
    """``d y / d x`` as a sympy Matrix ``(len(y), len(x))``, one ``diff`` per entry.

    The same matrix as ``Matrix(y).jacobian(Matrix(x))`` (tests check it),
    computed with the sum rule (only the terms that contain the variable)
    and the product rule (a term ``w*x`` gives ``w``), many times faster
    than differentiating every entry with ``diff``.
    """
    column = {s: j for j, s in enumerate(x)}
    J = sp.zeros(len(y), len(x))
    for i, expr in enumerate(y):
        # sum rule: differentiate only the terms that contain the variable
        by_symbol: dict[sympy.Symbol, list[sympy.Expr]] = {}
        for term in sp.Add.make_args(expr):
            for s in term.free_symbols:
                if s in column:
                    by_symbol.setdefault(s, []).append(term)
        for s, terms in by_symbol.items():
            J[i, column[s]] = sp.Add(*[_term_derivative(sp, t, s) for t in terms])
    return J


def _term_derivative(sp: ModuleType, term: sympy.Expr, s: sympy.Symbol) -> sympy.Expr:
    """``d term / d s``: the other factors when ``s`` is a plain factor (product rule), else ``diff``."""
    factors = sp.Mul.make_args(term)
    others = [f for f in factors if f != s]
    if len(others) == len(factors) - 1 and not any(s in f.free_symbols for f in others):
        return sp.Mul(*others)
    return term.diff(s)


def _shaped(sp: ModuleType, values: np.ndarray, spatial: tuple[int, ...],
            multi_channel: bool) -> sympy.Matrix | sympy.ImmutableDenseNDimArray:
    """A Matrix for 1-d/2-d single-channel results (the seeds' view), an Array otherwise."""
    if multi_channel:
        return sp.Array(values.reshape((-1,) + spatial).tolist(), (values.shape[0],) + spatial)
    values = values.reshape(spatial)
    if len(spatial) == 1:
        return sp.Matrix([values.tolist()])
    if len(spatial) == 2:
        return sp.Matrix(values.tolist())
    return sp.Array(values.tolist(), spatial)


def _conv_setup(func: str, in_size: Sequence[int], kernel_size: int | Sequence[int], stride: int | Sequence[int],
                padding: Any, dilation: int | Sequence[int], in_channels: int, out_channels: int,
                groups: int) -> tuple[ConvGeometry, int, int, int]:
    c_in, c_out, groups = _channels(func, in_channels, out_channels, groups)
    g = shapes.conv_geometry(in_size, kernel_size, stride, padding, dilation, func=func)
    return g, c_in, c_out, groups


# --------------------------------------------------------------------------
# printing


def to_latex(expr: Any, **kwargs: Any) -> str:
    r"""LaTeX source of a symbolic result (``sympy.latex``; keyword arguments are passed on).

    Examples
    --------
    >>> from upconv.explain.symbolic import symbolic_conv, to_latex
    >>> to_latex(symbolic_conv((2,), 2))
    '\\left[\\begin{matrix}w_{1} x_{1} + w_{2} x_{2}\\end{matrix}\\right]'
    """
    return _sympy().latex(expr, **kwargs)


def pretty(expr: Any, *, unicode: bool = True, wrap_line: bool = False, **kwargs: Any) -> str:
    """Pretty-printed text of a symbolic result for a terminal (``sympy.pretty``).

    Parameters
    ----------
    expr : sympy object
    unicode : bool, optional
        Unicode box characters and subscripts (``False``: ASCII only).
    wrap_line : bool, optional
        Break long lines at 80 columns (off by default: matrices stay intact).
    **kwargs
        Passed on to ``sympy.pretty``.

    Examples
    --------
    >>> from upconv.explain.symbolic import pretty, symbolic_conv_matrix
    >>> print(pretty(symbolic_conv_matrix((3,), 2), unicode=False))
    [w1  w2  0 ]
    [          ]
    [0   w1  w2]
    """
    unicode = v.boolean(unicode, "pretty", "unicode")
    wrap_line = v.boolean(wrap_line, "pretty", "wrap_line")
    return _sympy().pretty(expr, use_unicode=unicode, wrap_line=wrap_line, **kwargs)
