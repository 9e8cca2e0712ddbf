"""The transposed convolution that undoes a convolution's size change (U-Net skip connections with odd sizes).

A stride-``s`` convolution maps ``s`` consecutive input sizes to the same
output size; ``plan_inverse`` gives the transposed convolution with the same
parameters and the ``output_padding`` that picks the original one, every
input size it could have been, the ONNX ``auto_pad`` equivalents and the
checkerboard rating.  Every size comes from :mod:`upconv.shapes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from upconv import _validate as v
from upconv import shapes
from upconv.explain.overlap import overlap_ratio, verdict
from upconv.explain.planner import _onnx_equivalents
from upconv.explain.report import number, table

__all__ = ["InversePlan", "plan_inverse"]


@dataclass(frozen=True)
class InversePlan:
    """The transposed convolution that maps a convolution's output size back to its input size.

    Attributes
    ----------
    conv_in_size, conv_out_size : tuple of int
        The convolution ``conv_in_size -> conv_out_size``.
    kernel_size, stride, dilation : tuple of int
    padding : tuple of (begin, end)
        Shared by the convolution and the transposed convolution.
    output_padding : tuple of int
        Restores ``conv_in_size``: ``conv_transpose(..., output_padding=...)``
        or equivalently ``output_size=conv_in_size``.
    candidates : tuple of tuples of (size, output_padding)
        Per axis, every input size the convolution maps to
        ``conv_out_size`` and the output padding that restores it.
    onnx : tuple of str
        ONNX ``auto_pad`` settings giving the same transposed convolution.
    ratio : float
        Its checkerboard overlap ratio (1.0 = artifact-free).
    """

    conv_in_size: tuple[int, ...]
    conv_out_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    output_padding: tuple[int, ...]
    candidates: tuple[tuple[tuple[int, int], ...], ...]
    onnx: tuple[str, ...]
    ratio: float

    @property
    def torch(self) -> str:
        """The ``torch.nn.ConvTranspose{n}d`` arguments, or a note when the padding is asymmetric."""
        n = len(self.kernel_size)

        def f(t: tuple[int, ...]) -> str:
            return str(t[0]) if len(set(t)) == 1 else str(t)

        if any(b != e for b, e in self.padding):
            pad = f"padding={self.padding} (asymmetric: not expressible in torch; upconv accepts it)"
        else:
            pad = f"padding={f(tuple(b for b, _ in self.padding))}"
        dil = "" if set(self.dilation) == {1} else f", dilation={f(self.dilation)}"
        return (
            f"ConvTranspose{n}d(in_channels, out_channels, kernel_size={f(self.kernel_size)}, stride={f(self.stride)}, "
            f"{pad}, output_padding={f(self.output_padding)}{dil})"
        )

    def format_table(self) -> str:
        """The inverse layer and the output padding for every possible input size, as plain text."""
        def f(t: tuple[int, ...]) -> str:
            return "x".join(map(str, t))

        rows = [
            (ax, size, op, "<- this input" if size == self.conv_in_size[ax] else "")
            for ax, cands in enumerate(self.candidates) for size, op in cands
        ]
        return "\n".join([
            f"conv {f(self.conv_in_size)} -> {f(self.conv_out_size)}; "
            f"the transposed conv back to {f(self.conv_in_size)}:",
            "  " + self.torch,
            f"  ONNX auto_pad: {', '.join(self.onnx) or '- (explicit pads only)'}; overlap ratio "
            f"{number(self.ratio)} ({verdict(self.ratio)})",
            "every input size the conv maps to the same output, and the output_padding that restores it:",
            "\n".join(table(("axis", "conv input", "output_padding", ""), rows)),
        ])

    def __str__(self) -> str:
        return self.format_table()


def plan_inverse(
    in_size: int | Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
) -> InversePlan:
    """The transposed convolution that undoes a convolution's size change (U-Net skip connections).

    A stride-``s`` convolution maps ``s`` consecutive input sizes to the same
    output size; the transposed convolution with the same parameters needs
    the ``output_padding`` that picks the original one.

    Parameters
    ----------
    in_size : int or sequence of n ints
        The convolution's input spatial size.
    kernel_size, stride, dilation : int or sequence of n ints
    padding : int, sequence of n ints, or n (begin, end) pairs
        As :func:`upconv.conv` (no strings).

    Returns
    -------
    InversePlan
        ``output_padding``, every ``candidates`` size with its output
        padding, ``onnx`` equivalents, ``ratio``, and a ``torch`` snippet.

    Raises
    ------
    TypeError, ValueError
        For an invalid convolution (as :func:`upconv.shapes.conv_geometry`).

    Examples
    --------
    >>> import upconv
    >>> inv = upconv.plan_inverse((7, 8), 3, stride=2, padding=1)
    >>> inv.conv_out_size, inv.output_padding
    ((4, 4), (0, 1))
    >>> inv.candidates
    (((7, 0), (8, 1)), ((7, 0), (8, 1)))
    """
    func = "plan_inverse"
    if isinstance(in_size, Sequence) and not isinstance(in_size, (str, bytes)):
        size = v.int_tuple(tuple(in_size), len(in_size), func, "in_size", minimum=1)
    else:
        size = (v.integer(in_size, func, "in_size", minimum=1),)
    if isinstance(padding, str):
        raise TypeError(
            f"{func}: padding must be an integer, {len(size)} integers or (begin, end) pairs, got {padding!r}"
        )
    g = shapes.conv_geometry(size, kernel_size, stride, padding, dilation, func=func)
    op = shapes.conv_transpose_output_padding(size, g.out_size, g.kernel_size, g.stride, g.padding, g.dilation,
                                              func=func)
    lo, hi = shapes.conv_transpose_output_size_range(g.out_size, g.kernel_size, g.stride, g.padding, g.dilation)
    candidates = []
    for ax in range(g.ndim):
        k, s, d, pads, m = g.kernel_size[ax], g.stride[ax], g.dilation[ax], (g.padding[ax],), g.out_size[ax]
        cands = []
        for c in range(max(lo[ax], 1), hi[ax] + 1):
            try:
                if shapes.conv_output_size((c,), k, s, pads, d) != (m,):
                    continue
            except ValueError:  # kernel larger than this padded input
                continue
            cands.append((c, shapes.conv_transpose_output_padding((c,), (m,), k, s, pads, d, func=func)[0]))
        candidates.append(tuple(cands))
    onnx = _onnx_equivalents(g.out_size, g.kernel_size, g.stride, g.dilation, g.padding, op)
    ratio = overlap_ratio(g.kernel_size, g.stride, dilation=g.dilation)
    return InversePlan(size, g.out_size, g.kernel_size, g.stride, g.padding, g.dilation, op, tuple(candidates), onnx,
                       ratio)
