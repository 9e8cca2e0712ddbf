"""What a page or a report says around the views of one transposed convolution, as data.

:mod:`upconv.explain.views` computes the views; this module adds the words
and numbers that go with them, so that a client (the browser explorer of
``upconv serve``) only draws:

=========================  ===================================================
:func:`size_formula`       ``out = (in - 1)*s - 2p + d*(k - 1) + a + 1``,
                           filled in per axis with the size from
                           :mod:`upconv.shapes`
:func:`config_calls`       the configuration as a torch call, an upconv call
                           and an ``upconv explain`` command
:func:`view_agreement`     how far each view's result is from the operator's
                           (and the Jacobian from ``C``): the check
=========================  ===================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from upconv.explain._view_data import ConvTransposeViews, ViewConfig, to_json

__all__ = ["SizeFormula", "ConfigCalls", "axis_names", "size_formula", "config_calls", "view_agreement"]

#: The output size formula of a transposed convolution (symmetric padding ``p``; ``a`` is output_padding).
FORMULA = "out = (in - 1)*s - 2p + d*(k - 1) + output_padding + 1"


def axis_names(ndim: int) -> tuple[str, ...]:
    """How the views name the axes: ``L``; ``H, W``; ``D, H, W``; else ``ax0, ax1, ...``.

    Examples
    --------
    >>> from upconv.explain.describe import axis_names
    >>> axis_names(1), axis_names(2), axis_names(4)
    (('L',), ('H', 'W'), ('ax0', 'ax1', 'ax2', 'ax3'))
    """
    names = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
    return names.get(ndim, tuple(f"ax{i}" for i in range(ndim)))


@dataclass(frozen=True)
class SizeFormula:
    """The output size formula, and per axis its terms and the text with the numbers filled in."""

    formula: str
    axes: tuple[str, ...]
    terms: tuple[dict[str, int], ...]
    lines: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """As JSON-serialisable data."""
        return to_json({"formula": self.formula, "axes": self.axes, "terms": self.terms, "lines": self.lines})


def size_formula(c: ViewConfig) -> SizeFormula:
    """The output size formula of ``c`` filled in per axis (``(begin, end)`` padding as ``- (b + e)``).

    Examples
    --------
    >>> from upconv.explain.views import view_config
    >>> from upconv.explain.describe import size_formula
    >>> size_formula(view_config([[1.0, 2.0], [3.0, 4.0]], [[1.0] * 3] * 3, stride=2)).lines
    ('H: (2 - 1)*2 - 2*0 + 1*(3 - 1) + 0 + 1 = 5', 'W: (2 - 1)*2 - 2*0 + 1*(3 - 1) + 0 + 1 = 5')
    """
    axes = axis_names(c.ndim)
    terms, lines = [], []
    for ax, i, k, s, (b, e), a, d, o in zip(axes, c.in_size, c.kernel_size, c.stride, c.padding,
                                            c.output_padding, c.dilation, c.out_size, strict=True):
        terms.append({"in": i, "kernel_size": k, "stride": s, "padding_begin": b, "padding_end": e,
                      "output_padding": a, "dilation": d, "out": o})
        pad = f"2*{b}" if b == e else f"({b} + {e})"
        lines.append(f"{ax}: ({i} - 1)*{s} - {pad} + {d}*({k} - 1) + {a} + 1 = {o}")
    return SizeFormula(FORMULA, axes, tuple(terms), tuple(lines))


def _number(v: float) -> str:
    """A value as the shortest text that reads back exactly (integers without a decimal point)."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def _axes_value(t: tuple[int, ...]) -> str:
    """``(2, 2) -> "2"`` (the same on every axis), ``(2, 3) -> "(2, 3)"`` (Python)."""
    return str(t[0]) if len(set(t)) == 1 else "(" + ", ".join(map(str, t)) + ("," if len(t) == 1 else "") + ")"


def _cli_value(t: tuple[int, ...]) -> str:
    """``(2, 2) -> "2"``, ``(2, 3) -> "2,3"`` (the command line's per-axis lists)."""
    return str(t[0]) if len(set(t)) == 1 else ",".join(map(str, t))


@dataclass(frozen=True)
class ConfigCalls:
    """The configuration as code: ``torch`` and ``upconv`` (Python) and ``explain`` (a shell command, or None)."""

    torch: str
    upconv: str
    explain: str | None

    def to_dict(self) -> dict[str, Any]:
        """As JSON-serialisable data."""
        return {"torch": self.torch, "upconv": self.upconv, "explain": self.explain}


def config_calls(c: ViewConfig) -> ConfigCalls:
    """The same transposed convolution as a torch call, an upconv call and an ``upconv explain`` command.

    The Python snippets define ``x`` and ``w`` (one channel, float64) and
    leave the ``out_size`` result in ``y``; the command reproduces the
    configuration and the values (``upconv explain`` takes symmetric padding
    only: with ``(begin, end)`` pairs that differ it is None, and torch's
    call crops the pairs itself).

    Examples
    --------
    >>> from upconv.explain.views import view_config
    >>> from upconv.explain.describe import config_calls
    >>> calls = config_calls(view_config([1.0, 2.0], [1.0, -1.0, 1.0], stride=2, padding=1))
    >>> print(calls.upconv)
    import numpy as np
    import upconv
    <BLANKLINE>
    x = np.array([1, 2], dtype=np.float64).reshape(1, 1, 2)
    w = np.array([1, -1, 1], dtype=np.float64).reshape(1, 1, 3)
    y = upconv.conv_transpose(x, w, stride=2, padding=1, output_padding=0, dilation=1)[0, 0]  # 3
    >>> calls.explain.split(" --")
    ['upconv explain', 'size 2', 'kernel-size 3', 'stride 2', 'padding 1', 'output-padding 0', 'dilation 1', \
'input=1,2', 'kernel=1,-1,1']
    """
    n = c.ndim
    x_values = ", ".join(_number(v) for v in c.x.ravel())
    w_values = ", ".join(_number(v) for v in c.weight.ravel())
    x_shape = ", ".join(map(str, (1, 1) + c.in_size))
    w_shape = ", ".join(map(str, (1, 1) + c.kernel_size))
    out = "x".join(map(str, c.out_size))
    symmetric = all(b == e for b, e in c.padding)
    p = tuple(b for b, _ in c.padding)
    pairs = ", ".join(f"({b}, {e})" for b, e in c.padding) + ("," if n == 1 else "")
    padding = _axes_value(p) if symmetric else f"({pairs})"
    rest = f"output_padding={_axes_value(c.output_padding)}, dilation={_axes_value(c.dilation)}"
    up = "\n".join([
        "import numpy as np", "import upconv", "",
        f"x = np.array([{x_values}], dtype=np.float64).reshape({x_shape})",
        f"w = np.array([{w_values}], dtype=np.float64).reshape({w_shape})",
        f"y = upconv.conv_transpose(x, w, stride={_axes_value(c.stride)}, padding={padding}, "
        f"output_padding={_axes_value(c.output_padding)}, dilation={_axes_value(c.dilation)})[0, 0]  # {out}",
    ])
    head = ["import torch", "import torch.nn.functional as F", "",
            f"x = torch.tensor([{x_values}], dtype=torch.float64).reshape({x_shape})",
            f"w = torch.tensor([{w_values}], dtype=torch.float64).reshape({w_shape})"]
    if symmetric:
        call = f"y = F.conv_transpose{n}d(x, w, stride={_axes_value(c.stride)}, padding={_axes_value(p)}, {rest})"
        tail = [call + f"[0, 0]  # {out}"]
    else:  # torch pads both ends alike: compute the un-cropped result and crop (begin, end) ourselves
        crop = ", ".join(f"{b}:{b + o}" for (b, _), o in zip(c.padding, c.out_size, strict=True))
        tail = [f"y = F.conv_transpose{n}d(x, w, stride={_axes_value(c.stride)}, {rest})[0, 0, {crop}]  # {out}"]
    explain = None
    if symmetric:
        explain = (f"upconv explain --size {','.join(map(str, c.in_size))} "
                   f"--kernel-size {','.join(map(str, c.kernel_size))} --stride {_cli_value(c.stride)} "
                   f"--padding {_cli_value(p)} --output-padding {_cli_value(c.output_padding)} "
                   f"--dilation {_cli_value(c.dilation)} "
                   f"--input={','.join(_number(v) for v in c.x.ravel())} "
                   f"--kernel={','.join(_number(v) for v in c.weight.ravel())}")
    return ConfigCalls("\n".join(head + tail), up, explain)


def _max_difference(a: np.ndarray | None, b: np.ndarray) -> float | None:
    if a is None:
        return None
    a = np.asarray(a, dtype=np.float64)
    return math.inf if a.shape != b.shape else float(np.max(np.abs(a - b), initial=0.0))


def view_agreement(e: ConvTransposeViews) -> dict[str, float | None]:
    """The check: max ``|view result - conv_transpose|`` per view computed, and ``max |J - C|`` (None: not computed).

    Keys: the names of the views computed (their result against
    ``e.config.output``; for the gradient view its one-VJP gradient),
    ``"gradient_from_jacobian"`` (``Jᵀ·vec(x)``) and ``"jacobian_vs_C"``
    (both need the Jacobian and, for the latter, the matrix view).

    Examples
    --------
    >>> from upconv.explain.views import explain_views
    >>> from upconv.explain.describe import view_agreement
    >>> view_agreement(explain_views([1.0, 2.0], [1.0, 2.0, 3.0], stride=2))
    {'stamping': 0.0, 'zero_insertion': 0.0, 'matrix': 0.0, 'phase': 0.0, 'gradient': 0.0, \
'gradient_from_jacobian': 0.0, 'jacobian_vs_C': 0.0}
    """
    y = e.config.output
    out: dict[str, float | None] = {}
    for view in (e.stamping, e.zero_insertion, e.matrix, e.phase):
        if view is not None:
            out[view.name] = _max_difference(view.output, y)
    if e.gradient is not None:
        out["gradient"] = _max_difference(e.gradient.gradient, y)
        out["gradient_from_jacobian"] = _max_difference(e.gradient.gradient_from_jacobian, y)
        J = e.gradient.jacobian
        out["jacobian_vs_C"] = None if J is None or e.matrix is None else _max_difference(J, e.matrix.dense())
    return out
