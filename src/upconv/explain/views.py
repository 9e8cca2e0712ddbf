"""The views of one transposed convolution, each computed once, as data (no printing, no figures).

The seeds explain ``conv_transpose`` four ways, and the library adds the
polyphase view.  Each view here is computed from the library itself
(:func:`upconv.conv_transpose`, :func:`upconv.conv`, :func:`upconv.conv_matrix`,
:mod:`upconv.grad` and the sizes of :mod:`upconv.shapes`) for one channel,
and returned as a frozen dataclass of arrays whose ``to_dict()`` holds only
lists, ints, floats, bools, strings and None (JSON):

=========================  ===================================================
:func:`stamping_view`      every input pixel times the kernel, stamped at
                           ``j*s`` on an un-cropped canvas; overlaps add up
:func:`zero_insertion_view`  ``s - 1`` zeros between the pixels, padding
                           ``d*(k-1) - p`` (negative: crop), flipped kernel
:func:`matrix_view`        ``Cᵀ·vec(x)``, ``C`` the matrix of the convolution
                           going the other way
:func:`phase_view`         the ``s**n`` output residue classes, each a
                           stride-1 correlation with the taps landing in it
:func:`gradient_view`      ``Cᵀ`` as the Jacobian (and the VJP) of that
                           convolution, from :mod:`upconv.grad`
:func:`explain_views`      all of them: :class:`ConvTransposeViews`
=========================  ===================================================

Indices are 0-based and row-major; "input" is ``x``, "output" the transposed
convolution's result.  The view dataclasses live in
:mod:`upconv.explain._view_data`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import upconv.grad
from upconv import _validate as v
from upconv import shapes
from upconv.explain._view_data import (
    CELL_KINDS,
    ConvTransposeViews,
    GradientView,
    MatrixView,
    PhaseBlock,
    PhaseView,
    StampingView,
    ViewConfig,
    ZeroInsertionView,
    phase_block,
    pixel_label,
)
from upconv.ops.convolution import conv, conv_transpose
from upconv.ops.correlation import pad
from upconv.ops.matrix import conv_matrix

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "VIEW_NAMES",
    "MAX_STEP_CELLS",
    "MAX_JACOBIAN_PIXELS",
    "MAX_AXIS_CLASSES",
    "CELL_KINDS",
    "ViewConfig",
    "StampingView",
    "ZeroInsertionView",
    "MatrixView",
    "PhaseBlock",
    "PhaseView",
    "GradientView",
    "ConvTransposeViews",
    "view_config",
    "stamping_view",
    "zero_insertion_view",
    "matrix_view",
    "phase_view",
    "gradient_view",
    "explain_views",
    "pixel_label",
]

#: The views :func:`explain_views` computes, in the seeds' order (then the gradient).
VIEW_NAMES: tuple[str, ...] = ("stamping", "zero_insertion", "matrix", "phase", "gradient")
#: Largest ``(input pixels) * (canvas cells)`` for which :func:`stamping_view` keeps every stamp (``steps=True``).
MAX_STEP_CELLS = 1 << 20
#: Largest output (pixels) for which :func:`gradient_view` builds the Jacobian (``jacobian=True``).
MAX_JACOBIAN_PIXELS = 4096
#: Largest number of residue classes (the sum of the strides) :func:`phase_view` lists along the axes.
MAX_AXIS_CLASSES = 1 << 16
#: Unit images per call when the Jacobian is built column by column.
_JACOBIAN_CHUNK = 256


def view_config(
    x: npt.ArrayLike, weight: npt.ArrayLike, stride: int | Sequence[int] = 1, padding: Any = 0,
    output_padding: int | Sequence[int] = 0, dilation: int | Sequence[int] = 1, *, func: str = "view_config",
) -> ViewConfig:
    """Validate a single-channel transposed convolution and compute its output (:class:`ViewConfig`).

    ``x`` and ``weight`` are arrays of the spatial shapes (same number of
    axes, finite values); the parameters are those of
    :func:`upconv.conv_transpose` (``padding`` may be ``(begin, end)`` pairs).

    Examples
    --------
    >>> from upconv.explain.views import view_config
    >>> c = view_config([[1.0, 2.0], [3.0, 4.0]], [[1.0] * 3] * 3, stride=2)
    >>> c.out_size, c.output[2].tolist()
    ((5, 5), [4.0, 4.0, 10.0, 6.0, 6.0])
    """
    _, (xa, wa) = v.float_arrays(func, x=x, weight=weight)
    xa, wa = np.asarray(xa, dtype=np.float64), np.asarray(wa, dtype=np.float64)
    if xa.ndim == 0 or wa.ndim != xa.ndim:
        raise ValueError(
            f"{func}: x and weight must have the same number of axes (at least 1), got shapes {xa.shape} and {wa.shape}"
        )
    for name, arr in (("x", xa), ("weight", wa)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{func}: {name} must hold finite values")
    g = shapes.conv_transpose_geometry(xa.shape, wa.shape, stride, padding, output_padding, dilation, func=func)
    pads = v.pad_pairs(padding, g.ndim, func, "padding")
    a = tuple(e - ge for (_, e), (_, ge) in zip(pads, g.padding, strict=True))
    y = conv_transpose(xa[None, None], wa[None, None], stride=g.stride, padding=pads, output_padding=a,
                       dilation=g.dilation)[0, 0]
    return ViewConfig(xa, wa, g.stride, pads, a, g.dilation, g, y)


def _pixels(size: tuple[int, ...]) -> np.ndarray:
    """``(prod(size), n)`` int array of the indices of an array of ``size``, row-major."""
    return np.indices(size).reshape(len(size), -1).T.copy()


def _stamping(c: ViewConfig, steps: bool, func: str) -> StampingView:
    canvas_size, crop = shapes.stamping_canvas(c.geometry)
    extend = [(0, n - f) for n, f in zip(canvas_size, c.geometry.full_size, strict=True)]
    pixels = _pixels(c.in_size)
    n_px = len(pixels)

    def on_canvas(inputs: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        """The un-cropped transposed convolution of a batch ``(N, *in_size)``, extended to the canvas."""
        y = conv_transpose(inputs[:, None], kernel[None, None], stride=c.stride, dilation=c.dilation)
        return pad(y, extend)[:, 0]

    ones = np.ones(c.kernel_size)
    canvas = on_canvas(c.x[None], c.weight)[0]
    overlap = np.rint(on_canvas(np.ones((1,) + c.in_size), ones)[0]).astype(np.int64)
    stamps = reach = sums = counts = None
    if steps:
        cells = n_px * math.prod(canvas_size)
        if cells > MAX_STEP_CELLS:
            raise ValueError(
                f"{func}: steps=True keeps {n_px} stamps of {math.prod(canvas_size)} canvas cells each ({cells} in "
                f"all), more than MAX_STEP_CELLS = {MAX_STEP_CELLS}; use a smaller x or steps=False"
            )
        v.check_allocation((4, n_px) + canvas_size, np.float64, func, "the stamps and their partial sums")
        one_hot = np.eye(n_px).reshape((n_px,) + c.in_size)  # stamp j: the input with only pixel j kept
        stamps = on_canvas(one_hot * c.x, c.weight)
        reach = on_canvas(one_hot, ones) != 0
        sums = np.concatenate([np.zeros((1,) + canvas_size), np.cumsum(stamps, axis=0)])
        counts = np.concatenate([np.zeros((1,) + canvas_size, np.int64), np.cumsum(reach, axis=0, dtype=np.int64)])
    starts = pixels * np.array(c.stride, dtype=np.int64)
    return StampingView(c, canvas_size, crop, canvas, overlap, pixels, starts, stamps, reach, sums, counts)


def _zero_insertion(c: ViewConfig, func: str) -> ZeroInsertionView:
    gz = shapes.zero_insertion_geometry(c.geometry)
    canvas_size, used = shapes.zero_insertion_canvas(c.geometry)
    v.check_allocation((3,) + canvas_size, np.float64, func, "the zero-inserted, padded input")
    at_pixels = tuple(slice(None, None, s) for s in c.stride)
    inserted = np.zeros(gz.in_size)
    inserted[at_pixels] = c.x
    positive = [(max(b, 0), max(e, 0)) for b, e in gz.padding]
    canvas = pad(inserted[None, None], positive)[0, 0]
    padded = pad(inserted[None, None], gz.padding)[0, 0]  # negative padding crops
    kind = np.full(gz.in_size, CELL_KINDS.index("inserted zero"), dtype=np.int8)
    kind[at_pixels] = CELL_KINDS.index("input pixel")
    kind = pad(kind[None, None], positive)[0, 0]  # 0: padding
    read = np.zeros(canvas_size, dtype=bool)
    read[tuple(slice(b, e) for b, e in used)] = True
    kind[~read] = CELL_KINDS.index("cropped")
    flipped = np.flip(c.weight)
    output = conv(padded[None, None], flipped[None, None], dilation=c.dilation)[0, 0]
    starts = _pixels(c.out_size) + np.array([b for b, _ in used], dtype=np.int64)
    return ZeroInsertionView(c, inserted, gz.padding, canvas_size, used, canvas, kind, padded, flipped, starts, output)


def _matrix(c: ViewConfig) -> MatrixView:
    conv_out = shapes.conv_output_size(c.out_size, c.kernel_size, c.stride, c.padding, c.dilation)
    tap_numbers = np.arange(1.0, c.weight.size + 1.0).reshape(c.weight.shape)
    C, taps = (conv_matrix(c.out_size, w[None, None], c.stride, c.padding, c.dilation) for w in (c.weight, tap_numbers))
    # output_padding >= stride: only the first in_size outputs of the conv are x's pixels
    rows = np.arange(math.prod(conv_out)).reshape(conv_out)[tuple(slice(0, i) for i in c.in_size)].ravel()
    if conv_out != c.in_size:
        C, taps = C[rows], taps[rows]
    return MatrixView(c, conv_out, rows, C, taps)


def _phase(c: ViewConfig, func: str) -> PhaseView:
    g = c.geometry
    if sum(c.stride) > MAX_AXIS_CLASSES:
        raise ValueError(
            f"{func}: stride={c.stride} gives {sum(c.stride)} residue classes along the axes, more than "
            f"MAX_AXIS_CLASSES = {MAX_AXIS_CLASSES}"
        )
    classes = tuple(tuple(sorted(shapes.phase_decomposition(g, a), key=lambda p: p.first)) for a in range(g.ndim))
    v.check_allocation(c.out_size, np.float64, func, "the interleaved output")
    output = np.zeros(c.out_size)
    blocks = []
    # only the classes with outputs and taps need a correlation: at most one per kernel tap
    for parts in itertools.product(*[[p for p in axis if p.count and p.taps] for axis in classes]):
        xp = pad(c.x[None, None], [p.padding for p in parts])  # negative padding crops
        sub = c.weight[np.ix_(*[p.taps for p in parts])]
        values = conv(xp, sub[None, None], dilation=tuple(p.dilation for p in parts))[0, 0]
        output[tuple(slice(p.first, None, s) for p, s in zip(parts, c.stride, strict=True))] = values
        blocks.append(phase_block(c, parts, values))
    return PhaseView(c, classes, tuple(blocks), output)


def _gradient(c: ViewConfig, jacobian: bool, func: str) -> GradientView:
    conv_out = shapes.conv_output_size(c.out_size, c.kernel_size, c.stride, c.padding, c.dilation)
    w = c.weight[None, None]
    # the conv's outputs past x's size (output_padding >= stride) are not in f: their cotangent is 0
    cotangent = pad(c.x[None, None], [(0, o - i) for o, i in zip(conv_out, c.in_size, strict=True)])
    X = np.broadcast_to(np.zeros(()), (1, 1) + c.out_size)  # only its shape is read
    grad = upconv.grad  # looked up per call, so that a test can replace its functions
    gradient = grad.conv_grad_input(cotangent, X, w, stride=c.stride, padding=c.padding, dilation=c.dilation)[0, 0]
    J = None
    if jacobian:
        n_out, n_in = math.prod(c.out_size), math.prod(c.in_size)
        if n_out > MAX_JACOBIAN_PIXELS:
            raise ValueError(
                f"{func}: jacobian=True needs one image per output pixel, {n_out} of them, more than "
                f"MAX_JACOBIAN_PIXELS = {MAX_JACOBIAN_PIXELS}; use a smaller x or jacobian=False"
            )
        columns = np.empty((n_out, n_in))
        for start in range(0, n_out, _JACOBIAN_CHUNK):
            m = min(_JACOBIAN_CHUNK, n_out - start)
            units = np.zeros((m, n_out))
            units[np.arange(m), start + np.arange(m)] = 1.0
            x = np.broadcast_to(c.x, (m, 1) + c.in_size)  # only its shape is read
            # the conv going the other way is conv_transpose's input gradient; column i of J is conv(e_i)
            y = grad.conv_transpose_grad_input(units.reshape((m, 1) + c.out_size), x, w, stride=c.stride,
                                               padding=c.padding, output_padding=c.output_padding,
                                               dilation=c.dilation)
            columns[start : start + m] = y.reshape(m, n_in)
        J = columns.T
    return GradientView(c, conv_out, gradient, J)


def stamping_view(x: npt.ArrayLike, weight: npt.ArrayLike, stride: int | Sequence[int] = 1, padding: Any = 0,
                  output_padding: int | Sequence[int] = 0, dilation: int | Sequence[int] = 1, *,
                  steps: bool = True) -> StampingView:
    """Kernel stamping: every input pixel ``x[j]`` times the kernel, placed at ``j*s`` (taps ``d`` apart).

    Parameters
    ----------
    x, weight, stride, padding, output_padding, dilation
        As :func:`view_config`.
    steps : bool, optional
        Also keep every stamp, where it reaches and the partial sums after
        each one (for an animation); at most :data:`MAX_STEP_CELLS` cells.

    Returns
    -------
    StampingView

    Raises
    ------
    ValueError, TypeError, MemoryError
        For an invalid configuration, or ``steps=True`` beyond the bound.

    Examples
    --------
    >>> from upconv.explain.views import stamping_view
    >>> s = stamping_view([1.0, 10.0], [1.0, 2.0, 3.0], stride=2)
    >>> s.stamps.tolist(), s.overlap.tolist()
    ([[1.0, 2.0, 3.0, 0.0, 0.0], [0.0, 0.0, 10.0, 20.0, 30.0]], [1, 1, 2, 1, 1])
    """
    func = "stamping_view"
    steps = v.boolean(steps, func, "steps")
    return _stamping(view_config(x, weight, stride, padding, output_padding, dilation, func=func), steps, func)


def zero_insertion_view(x: npt.ArrayLike, weight: npt.ArrayLike, stride: int | Sequence[int] = 1, padding: Any = 0,
                        output_padding: int | Sequence[int] = 0,
                        dilation: int | Sequence[int] = 1) -> ZeroInsertionView:
    """Zero insertion: ``s - 1`` zeros between the pixels, padding, then a stride-1 correlation with the flipped kernel.

    Parameters are those of :func:`view_config`; raises as it does (and
    MemoryError for a canvas beyond the memory limit).

    Examples
    --------
    >>> from upconv.explain.views import zero_insertion_view
    >>> z = zero_insertion_view([1.0, 10.0], [1.0, 2.0, 3.0], stride=2, padding=1)
    >>> z.insertion_padding, z.padded.tolist(), z.output.tolist()
    (((1, 1),), [0.0, 1.0, 0.0, 10.0, 0.0], [2.0, 13.0, 20.0])
    """
    func = "zero_insertion_view"
    return _zero_insertion(view_config(x, weight, stride, padding, output_padding, dilation, func=func), func)


def matrix_view(x: npt.ArrayLike, weight: npt.ArrayLike, stride: int | Sequence[int] = 1, padding: Any = 0,
                output_padding: int | Sequence[int] = 0, dilation: int | Sequence[int] = 1) -> MatrixView:
    """The transposed matrix: ``Cᵀ·vec(x)``, ``C`` the matrix of the convolution going the other way.

    Parameters are those of :func:`view_config`; raises as it does and as
    :func:`upconv.conv_matrix`.

    Examples
    --------
    >>> from upconv.explain.views import matrix_view
    >>> m = matrix_view([1.0, 10.0], [1.0, 2.0, 3.0], stride=2)
    >>> m.dense().tolist(), m.inputs_reaching(2).tolist()
    ([[1.0, 2.0, 3.0, 0.0, 0.0], [0.0, 0.0, 1.0, 2.0, 3.0]], [0, 1])
    """
    func = "matrix_view"
    return _matrix(view_config(x, weight, stride, padding, output_padding, dilation, func=func))


def phase_view(x: npt.ArrayLike, weight: npt.ArrayLike, stride: int | Sequence[int] = 1, padding: Any = 0,
               output_padding: int | Sequence[int] = 0, dilation: int | Sequence[int] = 1) -> PhaseView:
    """The polyphase view: each output residue class (mod ``s``) is a stride-1 correlation with its taps.

    Parameters are those of :func:`view_config`; raises as it does.

    Examples
    --------
    >>> from upconv.explain.views import phase_view
    >>> p = phase_view([1.0, 10.0], [1.0, 2.0, 3.0], stride=2)
    >>> [(b.residues, b.taps, b.outputs.tolist()) for b in p.blocks]
    [((0,), ((2, 0),), [1.0, 13.0, 30.0]), ((1,), ((1,),), [2.0, 20.0])]
    """
    func = "phase_view"
    return _phase(view_config(x, weight, stride, padding, output_padding, dilation, func=func), func)


def gradient_view(x: npt.ArrayLike, weight: npt.ArrayLike, stride: int | Sequence[int] = 1, padding: Any = 0,
                  output_padding: int | Sequence[int] = 0, dilation: int | Sequence[int] = 1, *,
                  jacobian: bool = True) -> GradientView:
    """The gradient view: the transposed convolution is the gradient of the convolution going the other way.

    Parameters
    ----------
    x, weight, stride, padding, output_padding, dilation
        As :func:`view_config`.
    jacobian : bool, optional
        Also build that convolution's Jacobian ``J`` (equal to ``C``), one
        column per output pixel; at most :data:`MAX_JACOBIAN_PIXELS` of them.

    Returns
    -------
    GradientView

    Raises
    ------
    ValueError, TypeError, MemoryError
        For an invalid configuration, or ``jacobian=True`` beyond the bound.

    Examples
    --------
    >>> from upconv.explain.views import gradient_view
    >>> gv = gradient_view([1.0, 10.0], [1.0, 2.0, 3.0], stride=2)
    >>> gv.gradient.tolist(), gv.jacobian.tolist()[1]
    ([1.0, 2.0, 13.0, 20.0, 30.0], [0.0, 0.0, 1.0, 2.0, 3.0])
    """
    func = "gradient_view"
    jacobian = v.boolean(jacobian, func, "jacobian")
    return _gradient(view_config(x, weight, stride, padding, output_padding, dilation, func=func), jacobian, func)


def explain_views(x: npt.ArrayLike, weight: npt.ArrayLike, stride: int | Sequence[int] = 1, padding: Any = 0,
                  output_padding: int | Sequence[int] = 0, dilation: int | Sequence[int] = 1, *,
                  views: Sequence[str] = VIEW_NAMES, steps: bool = True,
                  jacobian: bool = True) -> ConvTransposeViews:
    """Compute the views of one single-channel transposed convolution, once.

    Parameters
    ----------
    x, weight, stride, padding, output_padding, dilation
        As :func:`view_config`: ``x`` and ``weight`` of the spatial shapes,
        1-d, 2-d or n-d.
    views : sequence of str, optional
        Which of :data:`VIEW_NAMES` to compute (the others are None).
    steps, jacobian : bool, optional
        As :func:`stamping_view` and :func:`gradient_view`.

    Returns
    -------
    ConvTransposeViews
        ``config`` (with the output of :func:`upconv.conv_transpose`) and
        one attribute per view; ``to_dict()`` for JSON.

    Raises
    ------
    ValueError, TypeError, MemoryError
        As the view functions, or for an unknown name in ``views``.

    Examples
    --------
    The seeds' example: a 2x2 input, a 3x3 kernel of ones, stride 2.

    >>> import json
    >>> from upconv.explain.views import explain_views
    >>> e = explain_views([[1.0, 2.0], [3.0, 4.0]], [[1.0] * 3] * 3, stride=2)
    >>> e.stamping.output[2].tolist(), e.matrix.C.shape, e.zero_insertion.padded.shape
    ([4.0, 4.0, 10.0, 6.0, 6.0], (4, 25), (7, 7))
    >>> sorted(json.loads(json.dumps(e.to_dict()))["views"])
    ['gradient', 'matrix', 'phase', 'stamping', 'zero_insertion']
    """
    func = "explain_views"
    if isinstance(views, str) or not isinstance(views, Sequence):
        raise TypeError(f"{func}: views must be a sequence of view names, got {views!r}")
    names = {v.choice(name, VIEW_NAMES, func, "views") for name in views}
    steps = v.boolean(steps, func, "steps")
    jacobian = v.boolean(jacobian, func, "jacobian")
    c = view_config(x, weight, stride, padding, output_padding, dilation, func=func)
    return ConvTransposeViews(
        c,
        _stamping(c, steps, func) if "stamping" in names else None,
        _zero_insertion(c, func) if "zero_insertion" in names else None,
        _matrix(c) if "matrix" in names else None,
        _phase(c, func) if "phase" in names else None,
        _gradient(c, jacobian, func) if "gradient" in names else None,
    )
