"""The dataclasses of :mod:`upconv.explain.views`: arrays, a few derived ones, and ``to_dict()`` (JSON).

Every ``to_dict()`` returns only dicts, lists, ints, floats, bools, strings
and None; arrays become nested lists (row-major), ``(begin, end)`` pairs
two-element lists.  A view's dict names itself (``"view"``) and repeats the
configuration (``"config"``) unless ``config=False``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v
from upconv import shapes

if TYPE_CHECKING:
    from scipy.sparse import csr_array

Pairs = tuple[tuple[int, int], ...]

#: What each code of :attr:`ZeroInsertionView.kind` means.
CELL_KINDS: tuple[str, ...] = ("padding", "inserted zero", "input pixel", "cropped")


def to_json(value: Any) -> Any:
    """``value`` with arrays, tuples and NumPy scalars turned into lists and Python numbers."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): to_json(x) for k, x in value.items()}
    return [to_json(x) for x in value]


def pixel_label(idx: Sequence[int]) -> str:
    """``(0, 1) -> "0,1"``: how the views name a pixel."""
    return ",".join(str(int(i)) for i in idx)


def _slices(pairs: Pairs) -> tuple[slice, ...]:
    return tuple(slice(b, e) for b, e in pairs)


@dataclass(frozen=True, eq=False)
class ViewConfig:
    """One validated single-channel transposed convolution and its output.

    ``padding`` holds ``(begin, end)`` pairs cropped off the un-cropped
    result; ``geometry`` is :func:`upconv.shapes.conv_transpose_geometry`'s
    (the convolution going the other way, ``out_size -> in_size``);
    ``output`` is :func:`upconv.conv_transpose` of ``x`` and ``weight``.
    """

    x: np.ndarray
    weight: np.ndarray
    stride: tuple[int, ...]
    padding: Pairs
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    geometry: shapes.ConvGeometry
    output: np.ndarray

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return self.x.ndim

    @property
    def in_size(self) -> tuple[int, ...]:
        """The input's size (``x.shape``)."""
        return self.x.shape

    @property
    def kernel_size(self) -> tuple[int, ...]:
        """The kernel's size (``weight.shape``)."""
        return self.weight.shape

    @property
    def out_size(self) -> tuple[int, ...]:
        """The output's size."""
        return self.geometry.in_size

    def to_dict(self) -> dict[str, Any]:
        """The configuration, the input, the kernel and the output as JSON-serialisable data."""
        return to_json({
            "in_size": self.in_size, "kernel_size": self.kernel_size, "out_size": self.out_size,
            "stride": self.stride, "padding": self.padding, "output_padding": self.output_padding,
            "dilation": self.dilation, "x": self.x, "weight": self.weight, "output": self.output,
        })


class _View:
    """``to_dict`` of a view: its name, its configuration, then :meth:`_fields`."""

    name = ""
    config: ViewConfig

    def _fields(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_dict(self, config: bool = True) -> dict[str, Any]:
        """This view as JSON-serialisable data (``config=False``: without the configuration)."""
        head: dict[str, Any] = {"view": self.name}
        if config:
            head["config"] = self.config.to_dict()
        return head | to_json(self._fields())


@dataclass(frozen=True, eq=False)
class StampingView(_View):
    """Kernel stamping: input pixel ``j`` adds ``x[j] * w[t]`` at canvas position ``j*s + t*d``.

    Attributes
    ----------
    config : ViewConfig
    canvas_size : tuple of int
        The un-cropped canvas (:func:`upconv.shapes.stamping_canvas`).
    crop : tuple of (start, stop)
        Where the output lies on the canvas (the padding is cropped).
    canvas : ndarray of canvas_size
        The sum of all stamps: the un-cropped result.
    overlap : int ndarray of canvas_size
        How many stamps cover each cell.
    pixels, starts : int ndarray (pixels, ndim)
        Every input pixel (row-major) and its stamp's first tap on the canvas (``j*s``).
    stamps, reach : ndarray (pixels, *canvas_size), or None without steps
        Each stamp on the canvas, and the cells it covers (bool).
    partial_sums, partial_overlaps : ndarray (pixels + 1, *canvas_size), or None without steps
        The canvas and the overlap count after the first ``i`` stamps (``i = 0 ... pixels``).
    """

    name = "stamping"
    config: ViewConfig
    canvas_size: tuple[int, ...]
    crop: Pairs
    canvas: np.ndarray
    overlap: np.ndarray
    pixels: np.ndarray
    starts: np.ndarray
    stamps: np.ndarray | None
    reach: np.ndarray | None
    partial_sums: np.ndarray | None
    partial_overlaps: np.ndarray | None

    @property
    def crop_slices(self) -> tuple[slice, ...]:
        """:attr:`crop` as slices of the canvas."""
        return _slices(self.crop)

    @property
    def output(self) -> np.ndarray:
        """The cropped canvas: the transposed convolution."""
        return self.canvas[self.crop_slices]

    @property
    def output_overlap(self) -> np.ndarray:
        """The overlap count of the output pixels (the cropped :attr:`overlap`)."""
        return self.overlap[self.crop_slices]

    def _fields(self) -> dict[str, Any]:
        return {
            "canvas_size": self.canvas_size, "crop": self.crop, "canvas": self.canvas, "overlap": self.overlap,
            "output": self.output, "output_overlap": self.output_overlap, "pixels": self.pixels,
            "starts": self.starts, "stamps": self.stamps, "reach": self.reach, "partial_sums": self.partial_sums,
            "partial_overlaps": self.partial_overlaps,
        }


@dataclass(frozen=True, eq=False)
class ZeroInsertionView(_View):
    """Zero insertion: a stride-1 correlation of the zero-inserted, padded input with the flipped kernel.

    Attributes
    ----------
    config : ViewConfig
    inserted : ndarray
        ``x`` with ``s - 1`` zeros between its pixels (``(i-1)*s + 1`` per axis).
    insertion_padding : tuple of (before, after)
        :func:`upconv.shapes.zero_insertion_padding`: ``d*(k-1) - p`` (plus
        ``output_padding`` after); negative amounts crop.
    canvas_size, used : tuple of int, tuple of (start, stop)
        :func:`upconv.shapes.zero_insertion_canvas`: ``inserted`` with the
        positive padding, and the part of it the kernel slides over.
    canvas : ndarray of canvas_size
        ``inserted`` with the positive padding (cropped cells kept).
    kind : int8 ndarray of canvas_size
        What each canvas cell is, an index into :data:`CELL_KINDS`.
    padded : ndarray
        ``canvas[used]``: the input of the correlation.
    flipped : ndarray
        The kernel, flipped on every axis.
    window_starts : int ndarray (output pixels, ndim)
        Per output pixel ``o`` (row-major), the canvas position of its
        window's first tap, ``used_start + o``; the taps are ``d`` apart.
    output : ndarray
        :func:`upconv.conv` of ``padded`` with ``flipped`` (dilation ``d``).
    """

    name = "zero_insertion"
    config: ViewConfig
    inserted: np.ndarray
    insertion_padding: Pairs
    canvas_size: tuple[int, ...]
    used: Pairs
    canvas: np.ndarray
    kind: np.ndarray
    padded: np.ndarray
    flipped: np.ndarray
    window_starts: np.ndarray
    output: np.ndarray

    @property
    def used_slices(self) -> tuple[slice, ...]:
        """:attr:`used` as slices of the canvas."""
        return _slices(self.used)

    def window(self, i: int) -> tuple[np.ndarray, ...]:
        """Per axis, the canvas positions of the taps of output pixel number ``i`` (row-major)."""
        return tuple(start + np.arange(k) * d for start, k, d in
                     zip(self.window_starts[i], self.config.kernel_size, self.config.dilation, strict=True))

    def _fields(self) -> dict[str, Any]:
        return {
            "inserted": self.inserted, "insertion_padding": self.insertion_padding, "canvas_size": self.canvas_size,
            "used": self.used, "canvas": self.canvas, "kind": self.kind, "cell_kinds": CELL_KINDS,
            "padded": self.padded, "flipped": self.flipped, "window_starts": self.window_starts, "output": self.output,
        }


@dataclass(frozen=True, eq=False)
class MatrixView(_View):
    """The transposed matrix: the convolution ``conv_in_size -> in_size`` is ``C``, the transposed one ``Cᵀ``.

    Attributes
    ----------
    config : ViewConfig
    conv_out_size : tuple of int
        The output size of that convolution (:func:`upconv.conv_matrix` of
        ``config.out_size``, same kernel, stride, padding and dilation); when
        ``output_padding >= stride`` it exceeds ``in_size``, and only the
        first ``in_size`` of its outputs are rows of ``C``.
    kept_rows : int ndarray
        Those outputs, flat (row-major in ``conv_out_size``): all of them
        unless ``output_padding >= stride``.
    C : scipy.sparse.csr_array (input pixels, output pixels)
        Row ``j`` (input pixel ``j``, row-major) holds the stamp of ``j`` on
        the output; column ``o`` the input pixels reaching output ``o``.
    taps : scipy.sparse.csr_array
        The same entries holding the 1-based flat kernel tap.
    """

    name = "matrix"
    config: ViewConfig
    conv_out_size: tuple[int, ...]
    kept_rows: np.ndarray
    C: csr_array
    taps: csr_array

    @property
    def conv_in_size(self) -> tuple[int, ...]:
        """The input size of the convolution: the transposed convolution's output size."""
        return self.config.out_size

    @property
    def output(self) -> np.ndarray:
        """``Cᵀ·vec(x)``, reshaped to the output's size."""
        return (self.C.T @ self.config.x.ravel()).reshape(self.config.out_size)

    @property
    def row_labels(self) -> list[str]:
        """The rows of ``C``: input pixels, ``"j0,j1"``."""
        return [pixel_label(j) for j in np.ndindex(*self.config.in_size)]

    @property
    def col_labels(self) -> list[str]:
        """The columns of ``C``: output pixels, ``"o0,o1"``."""
        return [pixel_label(o) for o in np.ndindex(*self.config.out_size)]

    @property
    def tap_names(self) -> list[str]:
        """The kernel taps like the seeds, 1-based: ``w11, w12, ...`` (``w1,10`` when a size exceeds 9)."""
        k = self.config.kernel_size
        sep = "," if max(k) > 9 else ""
        return ["w" + sep.join(str(i + 1) for i in t) for t in np.ndindex(*k)]

    def dense(self) -> np.ndarray:
        """``C`` as a dense array (MemoryError beyond the memory limit)."""
        v.check_allocation(self.C.shape, np.float64, "MatrixView.dense", "the dense matrix")
        return self.C.toarray()

    def dense_taps(self) -> np.ndarray:
        """:attr:`taps` as a dense int array, 0 where ``C`` stores nothing."""
        v.check_allocation(self.C.shape, np.int64, "MatrixView.dense_taps", "the dense matrix")
        return np.rint(self.taps.toarray()).astype(np.int64)

    def inputs_reaching(self, o: int) -> np.ndarray:
        """The input pixels (flat) whose stamps reach output pixel number ``o``: column ``o`` of ``C``."""
        csc = self.C.tocsc()
        return np.sort(csc.indices[csc.indptr[o] : csc.indptr[o + 1]])

    def outputs_reached(self, j: int) -> np.ndarray:
        """The output pixels (flat) input pixel number ``j`` reaches: row ``j`` of ``C``."""
        return np.sort(self.C.indices[self.C.indptr[j] : self.C.indptr[j + 1]])

    def _fields(self) -> dict[str, Any]:
        coo, taps = self.C.tocoo(), self.taps.tocoo()
        order = np.lexsort((coo.col, coo.row))
        tap_order = np.lexsort((taps.col, taps.row))
        csc = self.C.tocsc()
        return {
            "conv_in_size": self.conv_in_size, "conv_out_size": self.conv_out_size, "kept_rows": self.kept_rows,
            "shape": self.C.shape,
            "rows": coo.row[order], "cols": coo.col[order], "values": coo.data[order],
            "taps": np.rint(taps.data[tap_order]).astype(np.int64), "tap_names": self.tap_names,
            "row_labels": self.row_labels, "col_labels": self.col_labels,
            "outputs_reached": [self.outputs_reached(j) for j in range(self.C.shape[0])],
            "inputs_reaching": [np.sort(csc.indices[csc.indptr[o] : csc.indptr[o + 1]]) for o in range(csc.shape[1])],
            "output": self.output,
        }


@dataclass(frozen=True, eq=False)
class PhaseBlock:
    """One output residue class: the outputs ``residues + m*s``, a stride-1 correlation of ``x``.

    ``taps`` are the kernel taps landing there per axis, in the order the
    correlation applies them (:func:`upconv.shapes.phase_decomposition`),
    ``sub_kernel = w[np.ix_(*taps)]`` (None when an axis has no tap: the
    outputs are 0), ``dilation`` and ``padding`` (negative: crop) those of
    the correlation, ``outputs`` its result, of shape ``counts``.
    """

    residues: tuple[int, ...]
    counts: tuple[int, ...]
    taps: tuple[tuple[int, ...], ...]
    dilation: tuple[int, ...]
    padding: Pairs
    sub_kernel: np.ndarray | None
    outputs: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """This class as JSON-serialisable data."""
        return to_json({"residues": self.residues, "counts": self.counts, "taps": self.taps,
                        "dilation": self.dilation, "padding": self.padding, "sub_kernel": self.sub_kernel,
                        "outputs": self.outputs})


def phase_block(c: ViewConfig, parts: Sequence[shapes.PhaseClass], outputs: np.ndarray | None = None) -> PhaseBlock:
    """The :class:`PhaseBlock` of one class per axis (``outputs`` None: zeros)."""
    taps = tuple(p.taps for p in parts)
    counts = tuple(p.count for p in parts)
    return PhaseBlock(tuple(p.first for p in parts), counts, taps, tuple(p.dilation for p in parts),
                      tuple(p.padding for p in parts), c.weight[np.ix_(*taps)] if all(taps) else None,
                      np.zeros(counts) if outputs is None else outputs)


@dataclass(frozen=True, eq=False)
class PhaseView(_View):
    """The polyphase view: ``prod(s)`` output residue classes, interleaved.

    Attributes
    ----------
    config : ViewConfig
    classes : tuple (per axis) of tuple of PhaseClass
        :func:`upconv.shapes.phase_decomposition`, ordered by residue.
    blocks : tuple of PhaseBlock
        The classes that hold outputs and taps, each computed by
        :func:`upconv.conv`; every other class's outputs are 0 (see :meth:`block`).
    output : ndarray
        The blocks' outputs interleaved: the transposed convolution.
    """

    name = "phase"
    config: ViewConfig
    classes: tuple[tuple[shapes.PhaseClass, ...], ...]
    blocks: tuple[PhaseBlock, ...]
    output: np.ndarray

    @property
    def n_classes(self) -> int:
        """``prod(stride)``."""
        return math.prod(self.config.stride)

    def block(self, residues: Sequence[int]) -> PhaseBlock:
        """The class of the outputs ``o ≡ residues (mod s)``, computed or (no taps, no outputs) of zeros."""
        residues = tuple(int(r) for r in residues)
        for b in self.blocks:
            if b.residues == residues:
                return b
        return phase_block(self.config, [axis[r] for axis, r in zip(self.classes, residues, strict=True)])

    def _fields(self) -> dict[str, Any]:
        return {
            "n_classes": self.n_classes,
            "classes": [[{"first": p.first, "count": p.count, "taps": p.taps, "dilation": p.dilation,
                          "padding": p.padding} for p in axis] for axis in self.classes],
            "blocks": [b.to_dict() for b in self.blocks], "output": self.output,
        }


@dataclass(frozen=True, eq=False)
class GradientView(_View):
    """The gradient view: for ``f(X) = <conv(X, w), x>``, ``df/dX`` is the transposed convolution of ``x``.

    ``conv`` is the convolution going the other way, ``out_size ->
    conv_out_size`` (its first ``in_size`` outputs pair with ``x``).

    Attributes
    ----------
    config : ViewConfig
    conv_out_size : tuple of int
    gradient : ndarray of out_size
        ``df/dX`` by one vector-Jacobian product,
        :func:`upconv.grad.conv_grad_input` of ``x``.
    jacobian : ndarray (input pixels, output pixels), or None
        The Jacobian ``J = d conv(X) / dX`` (equal to ``C``), column ``i``
        being ``conv(e_i)`` as :func:`upconv.grad.conv_transpose_grad_input`
        computes it; None without ``jacobian=True``.
    """

    name = "gradient"
    config: ViewConfig
    conv_out_size: tuple[int, ...]
    gradient: np.ndarray
    jacobian: np.ndarray | None

    @property
    def gradient_from_jacobian(self) -> np.ndarray | None:
        """``Jᵀ·vec(x)``, reshaped: ``df/dX`` one pixel of ``X`` at a time (None without the Jacobian)."""
        if self.jacobian is None:
            return None
        return (self.jacobian.T @ self.config.x.ravel()).reshape(self.config.out_size)

    def _fields(self) -> dict[str, Any]:
        return {"conv_out_size": self.conv_out_size, "gradient": self.gradient, "jacobian": self.jacobian,
                "gradient_from_jacobian": self.gradient_from_jacobian}


@dataclass(frozen=True, eq=False)
class ConvTransposeViews:
    """Every view of one transposed convolution (:func:`upconv.explain.views.explain_views`); None: not computed."""

    config: ViewConfig
    stamping: StampingView | None
    zero_insertion: ZeroInsertionView | None
    matrix: MatrixView | None
    phase: PhaseView | None
    gradient: GradientView | None

    def to_dict(self) -> dict[str, Any]:
        """``{"config": ..., "views": {name: view}}`` as JSON-serialisable data (the configuration once)."""
        views = (self.stamping, self.zero_insertion, self.matrix, self.phase, self.gradient)
        return {"config": self.config.to_dict(),
                "views": {view.name: view.to_dict(config=False) for view in views if view is not None}}
