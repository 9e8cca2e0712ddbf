"""Shape planner: which transposed convolutions map one size to another.

``plan(in_size, out_size)`` answers "which kernel / stride / padding gets
me from 7 to 14?" for one layer or a stack of layers, rating every answer
with its checkerboard overlap ratio (:func:`upconv.checkerboard.overlap_ratio`,
1.0 = even overlap), the output rows no kernel tap reaches (bias only) and
its uneven borders (:func:`upconv.shapes.tap_coverage`), and listing its ONNX
``auto_pad`` equivalents
(``plan_inverse``, the transposed convolution that undoes a convolution's
size change, is in :mod:`upconv.explain.inverse`).

Every size comes from :mod:`upconv.shapes`; this module only searches.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from upconv import _validate as v
from upconv import shapes
from upconv.explain.overlap import stack_ratio, verdict
from upconv.explain.report import number, table
from upconv.shapes.stamps import TapCoverage, tap_coverage

if TYPE_CHECKING:
    from typing import TypeAlias

    #: A layer of the search, ``(out, k, s, p, a, d)`` (``a`` None until :func:`_output_padding`).
    _Transition: TypeAlias = tuple[int, int, int, int, int | None, int]
    #: A layer of a found stack, ``(in, out, k, s, p, a, d)``.
    _StackLayer: TypeAlias = tuple[int, int, int, int, int, int, int]

__all__ = ["PlanLayer", "PlanRow", "Plan", "plan"]

#: Refuse searches that would list more stacks than this (tighten the bounds instead).
MAX_STACKS = 50_000
_AUTO_PADS = ("VALID", "SAME_UPPER", "SAME_LOWER")


# --------------------------------------------------------------------------
# ONNX auto_pad equivalents


def _onnx_axis(in_size: int, k: int, s: int, d: int, pads: tuple[int, int], a: int, mode: str) -> int | None:
    """ONNX ``output_padding`` attribute that makes ``auto_pad=mode`` equal ``(pads, a)`` on one axis, else None.

    ``SAME_*`` counts only where ONNX's total padding is non-negative (no
    output padding beyond the attribute): a negative total is split
    differently by ``onnx.reference`` (floor division) and C-style runtimes.
    """
    for attr in range(max(s, d)):
        try:
            got = shapes.onnx_conv_transpose_padding((in_size,), k, s, d, auto_pad=mode, output_padding=attr)
        except ValueError:  # ONNX's output would start before the result: no equivalent
            continue
        if got == ((pads,), (a,)) and (mode == "VALID" or a == attr):
            return attr
    return None


@functools.lru_cache(maxsize=8192)
def _onnx_equivalents(
    in_size: tuple[int, ...], k: tuple[int, ...], s: tuple[int, ...], d: tuple[int, ...],
    pads: tuple[tuple[int, int], ...], a: tuple[int, ...],
) -> tuple[str, ...]:
    """The ``auto_pad`` settings (with ``output_padding`` attributes) that give the same transposed conv."""
    found: list[str] = []
    for mode in _AUTO_PADS:
        attrs = [_onnx_axis(i, k_, s_, d_, p, a_, mode)
                 for i, k_, s_, d_, p, a_ in zip(in_size, k, s, d, pads, a, strict=False)]
        if all(x is not None for x in attrs):
            extra = "" if not any(attrs) else f" output_padding={attrs[0] if len(attrs) == 1 else attrs}"
            found.append(mode + extra)
    return tuple(found)


# --------------------------------------------------------------------------
# results


class PlanLayer(NamedTuple):
    """One transposed convolution ``in_size -> out_size`` (torch parameters, one axis).

    ``onnx`` lists the ONNX ``auto_pad`` settings that give the same layer
    (explicit ``pads=[padding, padding]`` with ``output_padding`` always
    does).
    """

    in_size: int
    out_size: int
    kernel_size: int
    stride: int
    padding: int
    output_padding: int
    dilation: int
    onnx: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"k{self.kernel_size} s{self.stride} p{self.padding} a{self.output_padding}"
            + ("" if self.dilation == 1 else f" d{self.dilation}")
        )


@dataclass(frozen=True)
class PlanRow:
    """A stack of transposed convolutions that maps the planned sizes exactly, with its rating.

    ``ratio`` is the overlap ratio of the whole stack in ``ndim`` dimensions
    (square kernels): 1.0 = even overlap, ``inf`` = some pixels receive no
    stamp.  ``coverage`` holds, per layer, the outputs no kernel tap reaches
    and the stamps each border misses (:func:`upconv.shapes.tap_coverage`,
    on one axis).
    """

    layers: tuple[PlanLayer, ...]
    ratio: float
    coverage: tuple[TapCoverage, ...] = ()

    @property
    def unreached(self) -> int:
        """Output rows (per axis) that no kernel tap reaches, over the stack's layers: they hold the bias only."""
        return sum(len(c.unreached) for c in self.coverage)

    @property
    def uneven_border(self) -> bool:
        """Whether some layer's borders miss different stamps (a weaker first or last row)."""
        return not all(c.even_borders for c in self.coverage)

    @property
    def artifact_free(self) -> bool:
        """Even overlap (every interior output pixel receives the same number of stamps) and every output reached."""
        return self.ratio == 1.0 and self.unreached == 0

    @property
    def verdict(self) -> str:
        """``"artifact-free"``, ``"checkerboard"``, ``"holes"``, or ``"unreached"`` (even overlap, bias-only rows)."""
        if self.ratio == 1.0 and self.unreached:
            return "unreached"
        return verdict(self.ratio)

    @property
    def why(self) -> str:
        """What is wrong with this candidate, in a phrase (empty for a clean one)."""
        notes = []
        if math.isinf(self.ratio):
            notes.append("holes: some outputs receive no stamp (kernel smaller than the stride)")
        elif self.ratio != 1.0:
            notes.append(f"uneven overlap (ratio {number(self.ratio)}): a checkerboard whatever the weights")
        for j, (L, c) in enumerate(zip(self.layers, self.coverage, strict=False)):
            where = f"layer {j + 1}: " if len(self.layers) > 1 else ""
            if c.unreached and not math.isinf(self.ratio):
                shown = ", ".join(map(str, c.unreached[:4])) + (", ..." if len(c.unreached) > 4 else "")
                notes.append(f"{where}{len(c.unreached)} output row(s) per axis no kernel tap reaches (at {shown}):"
                             f" bias only" + (f", output_padding {L.output_padding} reaches past the kernel"
                                              if L.output_padding else ""))
            if not c.even_borders:
                notes.append(f"{where}uneven borders (stamps missing from the start {list(c.begin) or 'none'}, "
                             f"from the end {list(c.end) or 'none'})")
        return "; ".join(notes)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Input size, every intermediate size, output size."""
        return (self.layers[0].in_size,) + tuple(L.out_size for L in self.layers)

    @property
    def kernel_sizes(self) -> tuple[int, ...]:
        """Kernel size of each layer."""
        return tuple(L.kernel_size for L in self.layers)

    @property
    def strides(self) -> tuple[int, ...]:
        """Stride of each layer."""
        return tuple(L.stride for L in self.layers)

    @property
    def paddings(self) -> tuple[int, ...]:
        """Padding of each layer."""
        return tuple(L.padding for L in self.layers)

    @property
    def output_paddings(self) -> tuple[int, ...]:
        """Output padding of each layer."""
        return tuple(L.output_padding for L in self.layers)

    @property
    def dilations(self) -> tuple[int, ...]:
        """Dilation of each layer."""
        return tuple(L.dilation for L in self.layers)

    def __str__(self) -> str:
        return f"{' -> '.join(map(str, self.sizes))}: {' | '.join(map(str, self.layers))} (ratio {number(self.ratio)})"


@dataclass(frozen=True)
class Plan:
    """Every transposed-convolution stack within the bounds that maps ``in_size`` to ``out_size``.

    ``rows`` are sorted: artifact-free stacks first (even overlap, every
    output reached by a kernel tap), even borders before uneven ones, then by
    total kernel size, overlap ratio, unreached rows, padding, output padding
    and dilation.  A ``Plan``
    is a sequence of its rows.
    """

    in_size: int
    out_size: int
    layers: int
    ndim: int
    rows: tuple[PlanRow, ...]
    max_kernel: int
    max_stride: int
    max_padding: int | None
    max_dilation: int
    min_stride: int
    allow_output_padding: bool
    identical: bool
    monotone: bool

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[PlanRow]:
        return iter(self.rows)

    def __getitem__(self, i: int) -> PlanRow:
        return self.rows[i]

    @property
    def artifact_free(self) -> tuple[PlanRow, ...]:
        """The artifact-free rows."""
        return tuple(r for r in self.rows if r.artifact_free)

    def format_table(self, limit: int | None = None) -> str:
        """The rows as an aligned plain-text table (the first ``limit`` rows)."""
        title = (
            f"transposed convolutions {self.in_size} -> {self.out_size}: {len(self.rows)} "
            + (f"stack{'s' if len(self.rows) != 1 else ''} of {self.layers} layers" if self.layers > 1
               else f"layer{'s' if len(self.rows) != 1 else ''}")
            + f" "
            f"(kernel <= {self.max_kernel}, stride {self.min_stride}..{self.max_stride}, "
            f"dilation <= {self.max_dilation}"
            f"{'' if self.max_padding is None else f', padding <= {self.max_padding}'}); "
            f"overlap ratio in {self.ndim}-d, 1 = artifact-free"
        )
        rows = self.rows if limit is None else self.rows[: v.integer(limit, "Plan.format_table", "limit", minimum=0)]
        if self.layers == 1:
            headers: tuple[str, ...] = (
                "#", "kernel", "stride", "padding", "output_padding", "dilation", "ratio", "checkerboard",
                "ONNX auto_pad", "why",
            )
            body: list[tuple[object, ...]] = [
                (i + 1, L.kernel_size, L.stride, L.padding, L.output_padding, L.dilation, r.ratio, r.verdict,
                 ", ".join(L.onnx) or "-", r.why or "-")
                for i, r in enumerate(rows) for L in r.layers
            ]
        else:
            headers = (("#", "sizes") + tuple(f"layer {j + 1}" for j in range(self.layers))
                       + ("ratio", "checkerboard", "why"))
            body = [
                (i + 1, " -> ".join(map(str, r.sizes))) + tuple(str(L) for L in r.layers)
                + (r.ratio, r.verdict, r.why or "-")
                for i, r in enumerate(rows)
            ]
        lines = [title, "\n".join(table(headers, body)) if body else "(no transposed convolution within these bounds)"]
        if len(rows) < len(self.rows):
            lines.append(f"... {len(self.rows) - len(rows)} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format_table()


# --------------------------------------------------------------------------
# search


class _Bounds(NamedTuple):
    max_kernel: int
    max_stride: int
    min_stride: int
    max_padding: int | None
    max_dilation: int
    allow_output_padding: bool


@functools.lru_cache(maxsize=4096)
def _transitions(size: int, b: _Bounds) -> tuple[_Transition, ...]:
    """Every single layer from ``size``: ``(out, k, s, p, a, d)``; ``a = None`` until :func:`_output_padding`."""
    found: list[_Transition] = []
    for k in range(1, b.max_kernel + 1):
        for d in range(1, b.max_dilation + 1):
            ek = shapes.effective_kernel_size(k, d)
            top = ek - 1 if b.max_padding is None else b.max_padding
            for s in range(b.min_stride, b.max_stride + 1):
                for p in range(top + 1):
                    (lo,), (hi,) = shapes.conv_transpose_output_size_range((size,), k, s, p, d)
                    outs = range(max(lo, 1), (hi if b.allow_output_padding else lo) + 1)
                    found.extend((o, k, s, p, None, d) for o in outs)  # output_padding: see _output_padding
                    # output_padding may reach max(s, d) - 1 (torch), beyond the output_size range when d > s
                    for a in range(s, d) if b.allow_output_padding else ():
                        try:
                            (o,) = shapes.conv_transpose_output_size((size,), k, s, p, a, d)
                        except ValueError:  # output size below 1
                            continue
                        found.append((o, k, s, p, a, d))
    return tuple(found)


@functools.lru_cache(maxsize=65536)
def _coverage(size: int, k: int, s: int, p: int, a: int, d: int) -> TapCoverage:
    return tap_coverage(size, k, s, (p, p), a, d)


@functools.lru_cache(maxsize=65536)
def _output_padding(size: int, o: int, k: int, s: int, p: int, d: int) -> int:
    return shapes.conv_transpose_output_padding((o,), (size,), k, s, p, d, func="plan")[0]


def _size_ok(o: int, cur: int, out_size: int, monotone: bool, cap: int) -> bool:
    """Whether an intermediate size ``o`` after ``cur`` is searched."""
    if monotone:
        return min(cur, out_size) <= o <= max(cur, out_size)
    return 1 <= o <= cap


def _search(in_size: int, out_size: int, n: int, b: _Bounds, identical: bool,
            monotone: bool) -> tuple[int, Iterator[tuple[_StackLayer, ...]]]:
    """All stacks of ``n`` layers ``in_size -> out_size``, as tuples of ``(in, out, k, s, p, a, d)``."""
    cap = max(in_size, out_size) * b.max_stride  # bound on intermediate sizes when not monotone

    @functools.cache
    def count(size: int, left: int, fixed: tuple[int, int, int, int] | None) -> int:
        total = 0
        for o, k, s, p, _a, d in _transitions(size, b):
            if fixed is not None and (k, s, p, d) != fixed:
                continue
            if left == 1:
                total += o == out_size
            elif _size_ok(o, size, out_size, monotone, cap):
                total += count(o, left - 1, (k, s, p, d) if identical else None)
        return total

    def walk(size: int, left: int, fixed: tuple[int, int, int, int] | None) -> Iterator[tuple[_StackLayer, ...]]:
        for o, k, s, p, a, d in _transitions(size, b):
            if fixed is not None and (k, s, p, d) != fixed:
                continue
            if left == 1:
                if o == out_size:
                    yield ((size, o, k, s, p, _output_padding(size, o, k, s, p, d) if a is None else a, d),)
            elif _size_ok(o, size, out_size, monotone, cap):
                nxt = (k, s, p, d) if identical else None
                if count(o, left - 1, nxt):
                    layer = (size, o, k, s, p, _output_padding(size, o, k, s, p, d) if a is None else a, d)
                    for rest in walk(o, left - 1, nxt):
                        yield (layer,) + rest

    return count(in_size, n, None), walk(in_size, n, None)


def plan(
    in_size: int,
    out_size: int,
    *,
    layers: int = 1,
    max_kernel: int = 7,
    max_stride: int = 4,
    max_padding: int | None = None,
    max_dilation: int = 1,
    allow_output_padding: bool = True,
    min_stride: int = 1,
    identical: bool = False,
    monotone: bool = True,
    ndim: int = 1,
) -> Plan:
    """List every transposed convolution (or stack) within bounds that maps ``in_size`` to ``out_size``.

    Parameters
    ----------
    in_size, out_size : int
        Spatial size before and after, on one axis (plan each axis of a
        non-square input separately).
    layers : int, optional
        Number of stacked transposed convolutions (>= 1).
    max_kernel, max_stride, max_dilation : int, optional
        Kernel sizes ``1..max_kernel``, strides ``min_stride..max_stride``,
        dilations ``1..max_dilation``.
    max_padding : int, optional
        Paddings ``0..max_padding``; default ``0..ek-1`` per kernel (larger
        paddings crop outputs that every stamp reaches).
    allow_output_padding : bool, optional
        Allow ``output_padding > 0`` (``0 <= a < max(s, d)``).
    min_stride : int, optional
        Smallest stride tried.
    identical : bool, optional
        Stacks only: every layer has the same kernel, stride, padding and
        dilation (one module class reused); the output padding may differ
        per layer (it is ``output_size`` at call time).
    monotone : bool, optional
        Stacks only: intermediate sizes lie between the current size and
        ``out_size`` (no layer overshoots then shrinks).  With ``False`` they
        lie in ``[1, max(in_size, out_size) * max_stride]``.
    ndim : int, optional
        Number of spatial axes the rating is for (square kernels): the
        overlap ratio in ``n`` dimensions is the 1-d one to the ``n``.

    Returns
    -------
    Plan
        A sequence of :class:`PlanRow`, artifact-free first (even overlap
        and every output reached by a kernel tap; a row whose last output
        rows hold the bias only, such as ``k2 s2 a1`` for 37 -> 75, comes
        after the clean ones and says why), even borders before uneven
        ones, then by total kernel size, ratio, padding, output padding,
        dilation; ``format_table()`` prints it.

    Raises
    ------
    TypeError, ValueError
        For invalid bounds, or a stack search with more than
        :data:`MAX_STACKS` answers (tighten the bounds).

    Notes
    -----
    A layer maps ``i`` to ``o = (i-1)*s + d*(k-1) + 1 - 2p + a``
    (:func:`upconv.shapes.conv_transpose_output_size`); for each
    ``(k, s, p, d)`` the reachable ``o`` are
    :func:`upconv.shapes.conv_transpose_output_size_range` and ``a`` is
    :func:`upconv.shapes.conv_transpose_output_padding`.  Stacks are
    searched layer by layer over the intermediate sizes (memoised).  The
    rating is :func:`upconv.checkerboard.overlap_ratio` of the whole stack
    (a stride-1 layer can even out a checkerboard: k3 s2 then k2 s1 is
    artifact-free).

    Examples
    --------
    >>> import upconv
    >>> p = upconv.plan(7, 14, max_kernel=4)
    >>> [str(L) for r in p for L in r.layers]
    ['k2 s2 p0 a0', 'k4 s2 p1 a0', 'k1 s2 p0 a1', 'k3 s2 p1 a1']
    >>> p[1].layers[0].onnx
    ('SAME_UPPER', 'SAME_LOWER')
    >>> upconv.plan(7, 28, layers=2, max_kernel=4, max_stride=2, identical=True)[0].sizes
    (7, 14, 28)
    """
    func = "plan"
    i = v.integer(in_size, func, "in_size", minimum=1)
    o = v.integer(out_size, func, "out_size", minimum=1)
    n = v.integer(layers, func, "layers", minimum=1)
    b = _Bounds(
        v.integer(max_kernel, func, "max_kernel", minimum=1),
        v.integer(max_stride, func, "max_stride", minimum=1),
        v.integer(min_stride, func, "min_stride", minimum=1),
        None if max_padding is None else v.integer(max_padding, func, "max_padding", minimum=0),
        v.integer(max_dilation, func, "max_dilation", minimum=1),
        v.boolean(allow_output_padding, func, "allow_output_padding"),
    )
    if b.min_stride > b.max_stride:
        raise ValueError(
            f"{func}: min_stride must be <= max_stride, got min_stride={min_stride}, max_stride={max_stride}"
        )
    identical = v.boolean(identical, func, "identical")
    monotone = v.boolean(monotone, func, "monotone")
    nd = v.integer(ndim, func, "ndim", minimum=1)
    total, stacks = _search(i, o, n, b, identical, monotone)
    if total > MAX_STACKS:
        raise ValueError(
            f"{func}: {total} stacks of {n} layers map {i} to {o} within these bounds, more than {MAX_STACKS}; "
            "tighten max_kernel, max_stride, max_padding or min_stride, or pass identical=True"
        )
    rows = []
    for stack in stacks:
        ratio = stack_ratio([((k,), (s,), (d,)) for _, _, k, s, _, _, d in stack]) ** nd
        rows.append(PlanRow(tuple(
            PlanLayer(a, b_, k, s, p, op, d, _onnx_equivalents((a,), (k,), (s,), (d,), ((p, p),), (op,)))
            for a, b_, k, s, p, op, d in stack
        ), ratio, tuple(_coverage(a, k, s, p, op, d) for a, _, k, s, p, op, d in stack)))
    rows.sort(key=lambda r: (
        not r.artifact_free, r.uneven_border, sum(r.kernel_sizes), r.ratio, r.unreached, sum(r.paddings),
        sum(r.output_paddings), sum(r.dilations), r.strides, r.kernel_sizes, r.paddings,
    ))
    return Plan(
        i, o, n, nd, tuple(rows), b.max_kernel, b.max_stride, b.max_padding, b.max_dilation, b.min_stride,
        b.allow_output_padding, identical, monotone,
    )
