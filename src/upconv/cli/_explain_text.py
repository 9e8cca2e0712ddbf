"""The text of ``upconv explain``: every section rendered from :mod:`upconv.explain.views` (no numerics here)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

import upconv
from upconv import shapes
from upconv.cli import _format as fmt
from upconv.explain import views
from upconv.explain.views import (
    GradientView,
    MatrixView,
    PhaseView,
    StampingView,
    ZeroInsertionView,
    pixel_label,
)

if TYPE_CHECKING:
    from scipy.sparse import sparray
    from sympy.matrices import MatrixBase

#: Individual stamps are printed for 1-d and 2-d inputs with at most this many pixels.
MAX_STAMPS = 16
#: The dense ``Cᵀ`` is printed when both of its sides are at most this long.
MAX_DENSE = 25
#: Per-class sub-kernels are printed for 1-d and 2-d configurations with at most this many classes.
MAX_PHASES = 16
#: ``--matrix`` prints a matrix densely when it has at most this many rows (and fits the width).
MAX_MATRIX_ROWS = 64
#: ``--matrix`` lists the entries of this many rows of a matrix too large to print densely.
SPARSE_ROWS = 4
#: ``--symbolic`` lists at most this many entries or rows one per line.
MAX_SYMBOLIC_LINES = 64

#: Per view (the method of :func:`upconv.conv_transpose` computing it): its title and what it shows.
_VIEWS = {
    "scatter": ("kernel stamping",
                "Each input pixel x[j] multiplies the whole kernel; the product is stamped into the "
                "output starting at j*s - p (taps d apart), and the stamps add up where they overlap."),
    "zero_insertion": ("zero insertion",
                       "Insert s - 1 zeros between the input pixels, pad d*(k - 1) - p zeros on each side "
                       "(plus output_padding at the end), then slide the flipped kernel over it with stride 1 "
                       "(taps d apart): an ordinary convolution."),
    "matrix": ("the transposed matrix",
               "The convolution that goes the other way (input size = this output size, same stride, "
               "padding and dilation) is a sparse matrix C acting on vec(input); the transposed "
               "convolution multiplies by Cᵀ instead."),
    "phase": ("phase (polyphase) decomposition",
              "Output pixel o receives kernel tap t only when o + p - t*d is a multiple of s: each "
              "residue class of o (mod s) is a small stride-1 convolution of the input with the taps "
              "that land in it; the s^n results interleave.  Classes with fewer taps are the "
              "checkerboard."),
}


@dataclass(frozen=True)
class Config:
    """A validated single-channel transposed convolution and its input and kernel."""

    x: np.ndarray
    w: np.ndarray
    size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    out_size: tuple[int, ...]
    geometry: shapes.ConvGeometry

    @property
    def ndim(self) -> int:
        return len(self.size)

    @property
    def axes(self) -> tuple[str, ...]:
        names = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
        return names.get(self.ndim, tuple(f"ax{i}" for i in range(self.ndim)))

    def transpose(self, x: np.ndarray, w: np.ndarray, method: str = "auto") -> np.ndarray:
        """``upconv.conv_transpose`` of one single-channel image with this configuration."""
        return upconv.conv_transpose(x[None, None], w[None, None], stride=self.stride, padding=self.padding,
                                     output_padding=self.output_padding, dilation=self.dilation, method=method)[0, 0]

    def compute_views(self, names: tuple[str, ...], steps: bool, jacobian: bool) -> views.ConvTransposeViews:
        """The views ``names`` of this configuration (:func:`upconv.explain.views.explain_views`)."""
        return views.explain_views(self.x, self.w, self.stride, self.padding, self.output_padding, self.dilation,
                                   views=names, steps=steps, jacobian=jacobian)


def print_config(out: fmt.Printer, c: Config) -> None:
    """The title, the parameters per axis, the output size formula filled in, the input and the kernel."""
    out.header(f"upconv explain: transposed convolution, {fmt.join_dims(c.size)} → {fmt.join_dims(c.out_size)}")
    rows = [
        ("input size", c.size),
        ("kernel size", c.kernel_size),
        ("stride", c.stride),
        ("padding", c.padding),
        ("output_padding", c.output_padding),
        ("dilation", c.dilation),
        ("output size", c.out_size),
    ]
    widths = [max(len(ax), *(len(str(r[1][i])) for r in rows)) for i, ax in enumerate(c.axes)]
    out("  " + " " * 16 + "  ".join(ax.rjust(wd) for ax, wd in zip(c.axes, widths, strict=True)))
    for label, values in rows:
        out(f"  {label:<16}" + "  ".join(str(v).rjust(wd) for v, wd in zip(values, widths, strict=True)))
    out()
    out("  out = (in - 1)*s - 2p + d*(k - 1) + output_padding + 1")
    for ax, i, k, s, p, a, d, o in zip(c.axes, c.size, c.kernel_size, c.stride, c.padding, c.output_padding,
                                      c.dilation, c.out_size, strict=True):
        out(f"    {ax + ':':<4}({i} - 1)*{s} - 2*{p} + {d}*({k} - 1) + {a} + 1 = {o}")
    out()
    out.lines(fmt.side_by_side([
        (f"input x ({fmt.join_dims(c.size)})", fmt.array_lines(c.x)),
        (f"kernel w ({fmt.join_dims(c.kernel_size)})", fmt.array_lines(c.w)),
    ]), indent=2)


def _view_header(out: fmt.Printer, method: str, number: int, total: int) -> None:
    title, explanation = _VIEWS[method]
    where = f"View {number} of {total}: " if total > 1 else "View: "
    out.header(f"{where}{title}  (method={method!r})")
    out.wrap(explanation)
    out()


def print_stamping(out: fmt.Printer, c: Config, view: StampingView, result: np.ndarray, number: int,
                   total: int) -> None:
    """View 1: the stamps one by one (small 1-d and 2-d inputs), their sum and the overlap count."""
    _view_header(out, "scatter", number, total)
    count = view.output_overlap
    n_px = math.prod(c.size)
    lines = _stamp_lines(c, view, result, count) if view.stamps is not None else None
    if lines is not None and max(map(len, lines)) <= fmt.WIDTH:
        out.lines(lines, indent=2)
        out()
        out.wrap("('.' = outside the stamp; the overlap count is how many stamps cover each pixel)")
        return
    out.wrap(f"{n_px} stamps (printed one by one only for 1-d and 2-d inputs of at most {MAX_STAMPS} "
             f"pixels, when they fit in {fmt.WIDTH + 2} columns)")
    out()
    out.lines(fmt.side_by_side([
        ("overlap count (stamps per pixel)", fmt.array_lines(count)),
        ("sum of the stamps (the result)", fmt.array_lines(result)),
    ]), indent=2)


def _stamp_lines(c: Config, view: StampingView, result: np.ndarray, count: np.ndarray) -> list[str]:
    """The stamps one by one, then their sum and the overlap count (1-d: one row each; 2-d: grids)."""
    crop = (slice(None),) + view.crop_slices
    # computed with the steps (the caller checked view.stamps)
    each, reach = cast("tuple[np.ndarray, np.ndarray]", (view.stamps, view.reach))
    stamps = [(f"x[{pixel_label(j)}] = {fmt.cells(c.x[tuple(j)])[()]}", stamp, covered)
              for j, stamp, covered in zip(view.pixels, each[crop], reach[crop], strict=True)]
    cell = max(len(t) for arr in [result] + [s for _, s, _ in stamps] for t in fmt.cells(arr).ravel())
    if c.ndim == 1:
        label = max(len(t) for t, _, _ in stamps)
        lines = [f"{t:>{label}}:  " + fmt.grid(stamp, covered, width=cell)[0] for t, stamp, covered in stamps]
        lines.append(f"{'sum':>{label}}:  " + fmt.grid(result, width=cell)[0] + "   (the result)")
        lines.append(f"{'overlap':>{label}}:  " + fmt.grid(count, width=cell)[0] + "   (stamps per pixel)")
        return lines
    return fmt.side_by_side([(t, fmt.grid(s, m, width=cell)) for t, s, m in stamps]) + [""] + fmt.side_by_side([
        ("overlap count", fmt.grid(count)),
        ("sum of the stamps (the result)", fmt.grid(result)),
    ])


def _amount(v: int) -> str:
    return str(v) if v >= 0 else f"{v} (crop {-v})"


def print_zero_insertion(out: fmt.Printer, c: Config, view: ZeroInsertionView, result: np.ndarray, number: int,
                         total: int) -> None:
    """View 2: the padding per axis, the zero-inserted padded input, the flipped kernel and the result."""
    _view_header(out, "zero_insertion", number, total)
    out("  before = d*(k - 1) - p,  after = d*(k - 1) - p + output_padding")
    for ax, s, (b, e) in zip(c.axes, c.stride, view.insertion_padding, strict=True):
        zeros = "1 zero" if s == 2 else f"{s - 1} zeros"
        out(f"    {ax + ':':<4}insert {zeros}, pad {_amount(b)} before and {_amount(e)} after")
    out()
    dil = "" if all(d == 1 for d in c.dilation) else f", dilation {','.join(map(str, c.dilation))}"
    out.lines(fmt.side_by_side([
        (f"intermediate ({fmt.join_dims(view.padded.shape)})", fmt.array_lines(view.padded)),
        (f"flipped kernel{dil}", fmt.array_lines(view.flipped)),
        (f"result ({fmt.join_dims(result.shape)})", fmt.array_lines(result)),
    ]), indent=2)


def _rows_note(out: fmt.Printer, c: Config, view: MatrixView) -> None:
    if view.conv_out_size != c.size:
        out.wrap(f"(output_padding >= stride: C keeps the first {fmt.join_dims(c.size)} of its outputs as rows)")


def print_matrix_view(out: fmt.Printer, c: Config, view: MatrixView, result: np.ndarray, number: int,
                      total: int) -> None:
    """View 3: the shapes of ``C`` and ``Cᵀ``, ``Cᵀ`` itself when small, and ``Cᵀ·vec(x)``."""
    _view_header(out, "matrix", number, total)
    C = view.C
    out(f"  conv: {fmt.join_dims(c.out_size)} → {fmt.join_dims(view.conv_out_size)}")
    _rows_note(out, c, view)
    out(f"  C:  {C.shape[0]} × {C.shape[1]}  ({C.nnz} stored {'entry' if C.nnz == 1 else 'entries'})")
    out(f"  Cᵀ: {C.shape[1]} × {C.shape[0]}  (rows: output pixels; columns: input pixels, row-major)")
    out()
    dense_lines = _dense_lines(C.T, view.col_labels) if max(C.shape) <= MAX_DENSE else None
    if dense_lines is not None:
        out.lines(dense_lines, indent=2)
        out()
        out.wrap("('.' = no entry; column j multiplies the j-th input pixel in row-major order)")
    else:
        out.wrap(f"(Cᵀ is printed only when it has at most {MAX_DENSE} rows and columns and fits in "
                 f"{fmt.WIDTH + 2} columns)")
    out()
    out(f"  Cᵀ·vec(x), reshaped to {fmt.join_dims(c.out_size)}:")
    out.lines(fmt.array_lines(result), indent=2)


def _dense_lines(M: sparray, labels: Sequence[str]) -> list[str] | None:
    """A sparse matrix as a table (row labels, column numbers; '.' where nothing is stored), or None if too wide."""
    coo = M.tocoo()
    dense = coo.toarray()
    stored = np.zeros(dense.shape, dtype=bool)
    stored[coo.row, coo.col] = True
    body = fmt.grid(dense, stored)
    cell = (len(body[0]) - (dense.shape[1] - 1)) // dense.shape[1]
    lw = max(len(t) for t in labels)
    if 2 + lw + 3 + len(body[0]) > fmt.WIDTH + 2:
        return None
    header = " ".join(str(j).rjust(cell) for j in range(dense.shape[1]))
    lines = [f"{'':>{lw}}   {header}"] if len(header) == len(body[0]) else []
    return lines + [f"{label:>{lw}} | {line}" for label, line in zip(labels, body, strict=True)]


def print_phase(out: fmt.Printer, c: Config, view: PhaseView, result: np.ndarray, number: int, total: int) -> None:
    """View 4: the residue classes per axis, each class's taps, sub-kernel and outputs, the interleaved result."""
    _view_header(out, "phase", number, total)
    for ax, s, classes in zip(c.axes, c.stride, view.classes, strict=True):
        for i, p in enumerate(classes):
            taps = sorted(p.taps)
            head = f"{ax + ':':<4}" if i == 0 else " " * 4
            which = "no taps (zeros)" if not taps else ("tap " if len(taps) == 1 else "taps ") + ", ".join(
                map(str, taps))
            out(f"    {head}o ≡ {p.first} (mod {s}): {p.count} output{'s' if p.count != 1 else ''}, {which}")
    out()
    if c.ndim <= 2 and view.n_classes <= MAX_PHASES:
        blocks = []
        for residues in np.ndindex(*c.stride):
            block = view.block(residues)
            title = "o ≡ " + (str(residues[0]) if c.ndim == 1 else f"({pixel_label(residues)})")
            lines = ["taps " + " × ".join(",".join(map(str, sorted(t))) or "-" for t in block.taps)]
            if block.sub_kernel is not None:  # the taps in the kernel's order (the correlation applies them flipped)
                lines += ["sub-kernel"] + fmt.array_lines(np.flip(block.sub_kernel)) + [""]
            else:
                lines += ["no taps", ""]
            if all(block.counts):
                lines += ["outputs"] + fmt.array_lines(block.outputs)
            else:
                lines += ["no outputs"]
            blocks.append((title, lines))
        out.lines(fmt.side_by_side(blocks), indent=2)
        out()
    else:
        out(f"  {view.n_classes} classes: every combination of the per-axis classes above")
        out()
    out(f"  interleaved ({fmt.join_dims(result.shape)}):")
    out.lines(fmt.array_lines(result), indent=2)


def gradient_check(view: GradientView, result: np.ndarray) -> tuple[bool, float | None]:
    """``(agrees, max |difference|)`` of the gradient view and the transposed convolution (None: not computed)."""
    grad = view.gradient_from_jacobian
    if grad is None:
        return True, None
    diff = float(np.max(np.abs(grad - result), initial=0.0))
    agree = bool(np.allclose(grad, result, rtol=1e-9, atol=1e-12 * max(1.0, float(np.max(np.abs(result))))))
    return agree, diff


def print_gradient(out: fmt.Printer, view: GradientView, result: np.ndarray, max_pixels: int) -> bool:
    """The fifth view: the transposed convolution is the gradient of a convolution.  Returns agreement."""
    out.header("The gradient view")
    out.wrap(
        "The transposed convolution is the gradient of a convolution: take conv with the same "
        "kernel, stride, padding and dilation, mapping an image X of the output's size to the "
        "input's size, and f(X) = <conv(X, w), x>.  Nudging one pixel of X at a time (finite "
        "differences; exact, since f is linear) gives df/dX:",
        indent=2,
    )
    agree, diff = gradient_check(view, result)
    if diff is None or view.gradient_from_jacobian is None:
        out(f"  (more than {max_pixels} output pixels: not computed)")
        out()
        return True
    out.lines(fmt.array_lines(view.gradient_from_jacobian), indent=2)
    verdict = "equals" if agree else "DIFFERS from"
    out(f"  df/dX {verdict} the transposed convolution of x: max |difference| = {diff:.3g}")
    out()
    return agree


def agreement(results: dict[str, np.ndarray]) -> tuple[str, float, str]:
    """``(kind, max |difference|, worst method)`` of the methods' results against the first one.

    ``kind`` is ``"exact"`` (np.array_equal), ``"rounding"`` (np.allclose)
    or ``"disagree"``.
    """
    names = list(results)
    ref_name = names[0]
    ref = results[ref_name]
    scale = max(1.0, float(np.max(np.abs(ref), initial=0.0)))
    exact = close = True
    worst, worst_name = 0.0, ref_name
    for name, r in results.items():
        if r.shape != ref.shape:
            exact = close = False
            worst, worst_name = math.inf, name
            continue
        diff = float(np.max(np.abs(r - ref), initial=0.0))
        if diff > worst:
            worst, worst_name = diff, name
        exact = exact and bool(np.array_equal(r, ref))
        close = close and bool(np.allclose(r, ref, rtol=1e-9, atol=1e-12 * scale))
    return ("exact" if exact else "rounding" if close else "disagree"), worst, worst_name


def agreement_line(results: dict[str, np.ndarray]) -> str:
    """The check in one line."""
    kind, worst, worst_name = agreement(results)
    n = len(results)
    if kind == "exact":
        return f"All {n} views agree exactly (np.array_equal): max |difference| = 0"
    if kind == "rounding":
        return f"All {n} views agree to rounding (np.allclose): max |difference| = {worst:.3g}"
    return f"The views DISAGREE: max |difference| = {worst:.3g} ({worst_name} vs {next(iter(results))})"


def print_agreement(out: fmt.Printer, results: dict[str, np.ndarray]) -> int:
    """The check: do the methods' results agree?  0 when they do (to rounding), 1 when not."""
    out.header("Check")
    out("  " + agreement_line(results))
    out.wrap(f"({', '.join(results)}: each computed by upconv.conv_transpose(..., method=...))")
    return 0 if agreement(results)[0] != "disagree" else 1


def print_matrix(out: fmt.Printer, c: Config, view: MatrixView) -> None:
    """``--matrix``: ``C`` and ``Cᵀ``, dense when small, else the structure and the first rows."""
    C = view.C
    M, N = C.shape
    out.header("Convolution matrix C and its transpose")
    out.wrap(f"C is the matrix of the convolution {fmt.join_dims(c.out_size)} → {fmt.join_dims(view.conv_out_size)} "
             "with the same kernel, stride, padding and dilation (conv(z) = C·vec(z)); the transposed "
             f"convolution is Cᵀ: from the {M} input pixels to the {N} output pixels, both in row-major order.")
    out()
    out(f"  C:  {M} × {N}  ({C.nnz} stored {'entry' if C.nnz == 1 else 'entries'}, "
        f"{100 * C.nnz / (M * N):.3g}% of all)")
    out(f"  Cᵀ: {N} × {M}")
    _rows_note(out, c, view)
    for name, mat, labels, rows, cols in (
        ("C", C, view.row_labels, "input pixels x[j]", "output pixels"),
        ("Cᵀ", C.T, view.col_labels, "output pixels", "input pixels x[j]"),
    ):
        lines = _dense_lines(mat, labels) if mat.shape[0] <= MAX_MATRIX_ROWS else None
        out()
        if lines is not None:
            out(f"  {name} (rows: {rows}; columns: {cols}; '.' = no entry):")
            out.lines(lines, indent=2)
        else:
            out(f"  {name} is too large to print densely ({mat.shape[0]} × {mat.shape[1]}); its structure:")
            _sparse_summary(out, mat, labels, name)


def _counts_text(counts: np.ndarray, unit: str) -> str:
    """``[4, 4, 2] -> "4 in 2 rows, 2 in 1 row"`` (``unit`` = "row" or "column")."""
    values, times = np.unique(counts, return_counts=True)
    return ", ".join(f"{v} in {t} {unit}{'s' if t != 1 else ''}"
                     for v, t in sorted(zip(values.tolist(), times.tolist(), strict=True), reverse=True))


def _sparse_summary(out: fmt.Printer, mat: sparray, labels: Sequence[str], name: str) -> None:
    csr = mat.tocsr()
    per_row = np.diff(csr.indptr)
    per_col = np.bincount(csr.indices, minlength=csr.shape[1])
    if name == "C":
        out.wrap(f"entries per row (kernel taps that read an output pixel): {_counts_text(per_row, 'row')}", 4)
        out.wrap(f"entries per column (stamps covering the output pixel: the overlap count): "
                 f"{_counts_text(per_col, 'column')}", 4)
    else:
        out.wrap(f"entries per row (stamps covering the output pixel: the overlap count): "
                 f"{_counts_text(per_row, 'row')}", 4)
        out.wrap(f"entries per column (taps of one stamp that land in the output): {_counts_text(per_col, 'column')}",
                 4)
    out("    first rows (column:value):")
    for r in range(min(SPARSE_ROWS, csr.shape[0])):
        cols = csr.indices[csr.indptr[r] : csr.indptr[r + 1]]
        vals = csr.data[csr.indptr[r] : csr.indptr[r + 1]]
        order = np.argsort(cols)
        entries = "  ".join(f"{j}:{fmt.cells(np.array(v))[()]}" for j, v in zip(cols[order], vals[order], strict=True))
        out.lines(textwrap.wrap(f"row {r} ({labels[r]}): {entries or 'no entries'}", fmt.WIDTH - 6,
                                subsequent_indent="  "), indent=6)
    if csr.shape[0] > SPARSE_ROWS:
        out(f"      … {csr.shape[0] - SPARSE_ROWS} more rows")


def print_symbolic(out: fmt.Printer, c: Config, view: MatrixView) -> None:
    """``--symbolic``: the output and ``C`` in symbols (sympy); ``view`` gives the rows ``C`` keeps."""
    from upconv.explain import symbolic

    try:
        X = symbolic.symbolic_conv_transpose(c.size, c.kernel_size, c.stride, c.padding, c.output_padding,
                                             c.dilation)
        C = symbolic.symbolic_conv_matrix(c.out_size, c.kernel_size, c.stride, c.padding, c.dilation)
    except ImportError as exc:
        raise ValueError(f"argument --symbolic: {exc}") from None
    if view.conv_out_size != c.size:
        C = C.extract(view.kept_rows.tolist(), list(range(C.cols)))
    uni = not out.ascii
    out.header("Symbolic (sympy)")
    out.wrap("Symbols y (the input x of this transposed convolution) and w (the kernel), 1-based as in the "
             "seeds: y12 is x[0,1], w21 is w[1,0].  The output is Cᵀ·vec(y) with C derived as the Jacobian "
             "d vec(Y) / d vec(Z) of the convolution going the other way.")
    out()
    out(f"  Output ({fmt.join_dims(c.out_size)}):")
    values = np.array(X.tolist(), dtype=object).reshape(c.out_size)
    _symbolic_lines(out, X, values, "out", uni)
    out()
    out.wrap(f"C = d vec(Y) / d vec(Z) of the convolution {fmt.join_dims(c.out_size)} → {fmt.join_dims(c.size)} "
             f"({C.rows} × {C.cols}); the transposed convolution is Cᵀ:")
    entries = np.array(C.tolist(), dtype=object)
    lines = _pretty_if_fits(C, uni)
    if lines is None:
        grid = [[str(e) if e != 0 else "." for e in row] for row in entries]
        width = max(len(t) for row in grid for t in row)
        lines = [" ".join(t.rjust(width) for t in row) for row in grid]
        if max(map(len, lines)) > fmt.WIDTH - 4 or len(lines) > MAX_SYMBOLIC_LINES:
            lines = []
            for r, row in enumerate(entries[:MAX_SYMBOLIC_LINES]):
                listed = "  ".join(f"{j}:{e}" for j, e in enumerate(row) if e != 0) or "no entries"
                lines += textwrap.wrap(f"row {r}: {listed}", fmt.WIDTH - 4, subsequent_indent="  ")
            if C.rows > MAX_SYMBOLIC_LINES:
                lines.append(f"… {C.rows - MAX_SYMBOLIC_LINES} more rows")
        else:
            lines = ["('.' = 0)"] + lines
    out.lines(lines, indent=4)


def _pretty_if_fits(expr: MatrixBase, uni: bool) -> list[str] | None:
    from upconv.explain.symbolic import pretty

    lines = pretty(expr, unicode=uni).splitlines()
    return lines if max(map(len, lines), default=0) <= fmt.WIDTH - 4 and len(lines) <= 2 * MAX_SYMBOLIC_LINES else None


def _symbolic_lines(out: fmt.Printer, X: MatrixBase, values: np.ndarray, name: str, uni: bool) -> None:
    lines = _pretty_if_fits(X, uni)
    if lines is None:
        lines = []
        for idx, e in list(np.ndenumerate(values))[:MAX_SYMBOLIC_LINES]:
            text = str(e).replace("*", "·")
            lines += textwrap.wrap(f"{name}[{pixel_label(idx)}] = {text}", fmt.WIDTH - 4, subsequent_indent="    ")
        if values.size > MAX_SYMBOLIC_LINES:
            lines.append(f"… {values.size - MAX_SYMBOLIC_LINES} more")
    out.lines(lines, indent=4)
