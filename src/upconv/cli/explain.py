"""``upconv explain``: one transposed convolution, computed and shown four ways.

Prints the configuration and the output size with its formula filled in, then
the four views of the transposed convolution, each computed by its own
method of :func:`upconv.conv_transpose` (``method=``):

1. kernel stamping (``"scatter"``): every input pixel times the kernel,
   stamped at stride ``s``; the stamps add up where they overlap;
2. zero insertion (``"zero_insertion"``): zeros between the input pixels,
   padding ``d*(k-1) - p``, correlation with the flipped kernel;
3. matrix (``"matrix"``): ``Cᵀ·vec(x)`` with ``C`` the matrix of the
   convolution going the other way (:func:`upconv.conv_matrix`);
4. phase (``"phase"``): the ``s**n`` output residue classes, each a small
   convolution with the kernel taps that land in it;

and finally whether the four results agree (exit status 0) or not (1).

Extras: ``--matrix`` prints ``C`` and ``Cᵀ`` (dense when small, else a
sparse summary) and ``--symbolic`` the transposed convolution and ``C`` in
symbols (sympy); either replaces the four views unless ``--method`` asks for
one.  ``--figure OUT.png`` writes ``C`` and ``Cᵀ`` as heatmaps and
``--animate OUT.gif`` a step-by-step animation (``--view stamping`` or
``zero_insertion``), both from :mod:`upconv.figures`.

Example::

    $ upconv explain                       # 2x2 input, 3x3 kernel, stride 2 -> 5x5
    $ upconv explain --size 4 --kernel 1,2,1 --stride 2 --padding 1
    $ upconv explain --size 2,2,2 --method phase
    $ upconv explain --size 4 --kernel 1,2,3 --matrix --symbolic
    $ upconv explain --animate stamping.gif --figure matrix.png
"""

from __future__ import annotations

import argparse
import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import upconv
from upconv import shapes
from upconv.cli import _format as fmt
from upconv.cli._args import int_list, per_axis
from upconv.ops.convolution import CONV_TRANSPOSE_METHODS

__all__ = ["add_parser", "run"]

METHODS: tuple[str, ...] = tuple(CONV_TRANSPOSE_METHODS)

#: Method for the helper arrays of the views (stamps, their reach, overlap counts, zero insertion):
#: all methods give the same arrays; this one is the cheapest on tiny inputs.
AUX_METHOD = "zero_insertion"
#: Individual stamps are printed for 1-d and 2-d inputs with at most this many pixels.
MAX_STAMPS = 16
#: The dense ``Cᵀ`` is printed when both of its sides are at most this long.
MAX_DENSE = 25
#: Per-class sub-kernels are printed for 1-d and 2-d configurations with at most this many classes.
MAX_PHASES = 16

_TITLES = {
    "scatter": "kernel stamping",
    "zero_insertion": "zero insertion",
    "matrix": "the transposed matrix",
    "phase": "phase (polyphase) decomposition",
}

_EPILOG = """\
scalars apply to every axis; comma-separated lists give one value per axis
of --size.  VALUES for --input/--kernel: numbers separated by commas,
semicolons or spaces, filling the array in row-major order; 'arange'
(1, 2, 3, ...), 'ones', or a .npy file (whose shape sets --size or
--kernel-size when those are not given).  Negative numbers need '=':
--kernel=-1,2,-1.

examples:
  upconv explain                     2x2 input, 3x3 kernel, stride 2 -> 5x5
  upconv explain --kernel arange     a kernel 1..9 (shows the flip)
  upconv explain --size 4 --kernel 1,2,1 --padding 1 --output-padding 1
  upconv explain --size 2,2,2 --method phase
  upconv explain --size 4 --kernel 1,2,3 --matrix --symbolic
  upconv explain --animate out.gif --view zero_insertion --padding 1
  upconv explain --figure matrix.png
"""


# --------------------------------------------------------------------------
# arguments



def _method(text: str) -> str:
    name = text.strip().lower().replace("-", "_")
    if name not in METHODS:
        raise argparse.ArgumentTypeError(f"invalid choice {text!r} (choose from {', '.join(METHODS)})")
    return name


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``explain`` on the ``upconv`` sub-parsers."""
    p = subparsers.add_parser(
        "explain",
        help="show one transposed convolution computed four ways",
        description=textwrap.fill(
            "Explain a transposed convolution (torch's ConvTranspose, one channel): the output size "
            "formula, then kernel stamping, zero insertion, the transposed matrix and the polyphase "
            "view, each computed by upconv, and a check that all four agree.", fmt.WIDTH),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = p.add_argument_group("configuration")
    g.add_argument("--size", type=int_list(1), metavar="N[,N...]",
                   help="input spatial size, any number of axes: L, H,W or D,H,W (default 2,2)")
    g.add_argument("--kernel-size", type=int_list(1), metavar="K[,K...]", help="kernel size (default 3)")
    g.add_argument("--stride", type=int_list(1), default=(2,), metavar="S[,S...]", help="stride (default 2)")
    g.add_argument("--padding", type=int_list(0), default=(0,), metavar="P[,P...]",
                   help="padding cropped from both ends of the output (default 0)")
    g.add_argument("--output-padding", type=int_list(0), default=(0,), metavar="A[,A...]",
                   help="extra output at the end, < max(stride, dilation) (default 0)")
    g.add_argument("--dilation", type=int_list(1), default=(1,), metavar="D[,D...]",
                   help="spacing of the kernel taps (default 1)")
    v = p.add_argument_group("values")
    v.add_argument("--input", metavar="VALUES", help="input values (default 'arange': 1, 2, 3, ...)")
    v.add_argument("--kernel", metavar="VALUES", help="kernel values (default 'ones')")
    p.add_argument("--method", type=_method, metavar="METHOD",
                   help=f"show only this view: {', '.join(METHODS)} (all four are still checked)")
    e = p.add_argument_group("extras", "--matrix and --symbolic replace the four views unless --method is given")
    e.add_argument("--matrix", action="store_true",
                   help="print C and Cᵀ with their shapes (dense when small, else a sparse summary)")
    e.add_argument("--symbolic", action="store_true",
                   help="print the output and C in symbols y, w (needs sympy)")
    e.add_argument("--figure", metavar="OUT.png", help="write C and Cᵀ as annotated heatmaps (.png, .svg, .pdf)")
    e.add_argument("--animate", metavar="OUT.gif", help="write a step-by-step GIF of the transposed convolution")
    e.add_argument("--view", choices=("stamping", "zero_insertion"),
                   help="what --animate shows: kernel stamping (default) or zero insertion + sliding kernel")
    e.add_argument("--fps", type=float, help="frames per second of --animate (default 2)")
    return p



def _load_npy(spec: str | None, option: str) -> np.ndarray | None:
    if spec is None or not spec.strip().lower().endswith(".npy"):
        return None
    try:
        arr = np.load(Path(spec.strip()), allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"argument {option}: cannot read {spec!r}: {exc}") from None
    if arr.ndim == 0 or arr.dtype.kind not in "biuf":
        raise ValueError(
            f"argument {option}: {spec!r} must hold a real numeric array with at least one axis, "
            f"got dtype {arr.dtype} and shape {arr.shape}"
        )
    return arr


def _values(spec: str | None, array: np.ndarray | None, shape: tuple[int, ...], option: str,
            default: str) -> np.ndarray:
    """The array given by ``--input``/``--kernel`` (already loaded when a .npy), of ``shape``."""
    count = math.prod(shape)
    where = f"{fmt.join_dims(shape)} = {count} values, row-major"
    if array is not None:
        if array.size != count:
            raise ValueError(f"argument {option}: expected {where}; {spec!r} has shape {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"argument {option}: values must be finite numbers, {spec!r} has NaN or inf")
        return array.astype(float).reshape(shape)
    text = (default if spec is None else spec).strip()
    if text.lower() == "arange":
        return np.arange(1.0, count + 1.0).reshape(shape)
    if text.lower() == "ones":
        return np.ones(shape)
    parts = [t for t in re.split(r"[\s,;]+", text) if t]
    try:
        numbers = [float(t) for t in parts]
    except ValueError:
        raise ValueError(
            f"argument {option}: expected numbers separated by commas, 'arange', 'ones' or a .npy file, "
            f"got {spec!r}"
        ) from None
    if len(numbers) != count:
        raise ValueError(f"argument {option}: expected {where}, got {len(numbers)}")
    if not all(math.isfinite(v) for v in numbers):
        raise ValueError(f"argument {option}: values must be finite numbers, got {spec!r}")
    return np.array(numbers).reshape(shape)


# --------------------------------------------------------------------------
# the configuration


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

    def transpose(
        self, x: np.ndarray, w: np.ndarray, method: str = AUX_METHOD, **params: tuple[int, ...]
    ) -> np.ndarray:
        """``upconv.conv_transpose`` of one single-channel image with this configuration (or ``params``)."""
        kw = dict(stride=self.stride, padding=self.padding, output_padding=self.output_padding,
                  dilation=self.dilation)
        kw.update(params)
        return upconv.conv_transpose(x[None, None], w[None, None], method=method, **kw)[0, 0]


def _config(args: argparse.Namespace) -> Config:
    x_arr = _load_npy(args.input, "--input")
    w_arr = _load_npy(args.kernel, "--kernel")
    if args.size is not None:
        size = args.size
    else:
        size = x_arr.shape if x_arr is not None else (2, 2)
    n = len(size)
    if args.kernel_size is not None:
        k = per_axis(args.kernel_size, n, "--kernel-size")
    elif w_arr is not None:
        if w_arr.ndim != n:
            raise ValueError(
                f"argument --kernel: {args.kernel!r} has shape {w_arr.shape}, but the input has {n} axes; "
                "give --kernel-size"
            )
        k = w_arr.shape
    else:
        k = (3,) * n
    s = per_axis(args.stride, n, "--stride")
    p = per_axis(args.padding, n, "--padding")
    a = per_axis(args.output_padding, n, "--output-padding")
    d = per_axis(args.dilation, n, "--dilation")
    geometry = shapes.conv_transpose_geometry(size, k, s, p, a, d)
    out_size = shapes.conv_transpose_output_size(size, k, s, p, a, d)
    x = _values(args.input, x_arr, size, "--input", "arange")
    w = _values(args.kernel, w_arr, k, "--kernel", "ones")
    return Config(x, w, size, k, s, p, a, d, out_size, geometry)


# --------------------------------------------------------------------------
# sections


def _index(idx: tuple[int, ...]) -> str:
    return ",".join(map(str, idx))


def _print_config(out: fmt.Printer, c: Config) -> None:
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
    out("  " + " " * 16 + "  ".join(ax.rjust(wd) for ax, wd in zip(c.axes, widths)))
    for label, values in rows:
        out(f"  {label:<16}" + "  ".join(str(v).rjust(wd) for v, wd in zip(values, widths)))
    out()
    out("  out = (in - 1)*s - 2p + d*(k - 1) + output_padding + 1")
    for ax, i, k, s, p, a, d, o in zip(c.axes, c.size, c.kernel_size, c.stride, c.padding, c.output_padding,
                                      c.dilation, c.out_size):
        out(f"    {ax + ':':<4}({i} - 1)*{s} - 2*{p} + {d}*({k} - 1) + {a} + 1 = {o}")
    out()
    out.lines(fmt.side_by_side([
        (f"input x ({fmt.join_dims(c.size)})", fmt.array_lines(c.x)),
        (f"kernel w ({fmt.join_dims(c.kernel_size)})", fmt.array_lines(c.w)),
    ]), indent=2)


def _view_header(out: fmt.Printer, method: str, number: int, total: int, explanation: str) -> None:
    where = f"View {number} of {total}: " if total > 1 else "View: "
    out.header(f"{where}{_TITLES[method]}  (method={method!r})")
    out.wrap(explanation)
    out()


def _stamps(c: Config) -> list[tuple[tuple[int, ...], np.ndarray, np.ndarray]]:
    """Per input pixel ``j``: its stamp ``x[j] * kernel`` placed in the output, and where the stamp reaches.

    Both come from :func:`upconv.conv_transpose` of a one-pixel input (with
    the kernel, and with a kernel of ones); their sum is the result.
    """
    ones_k = np.ones(c.kernel_size)
    stamps = []
    for j in np.ndindex(*c.size):
        one = np.zeros(c.size)
        one[j] = 1.0
        stamps.append((j, c.transpose(one * c.x, c.w), c.transpose(one, ones_k) != 0))
    return stamps


def _view_scatter(out: fmt.Printer, c: Config, result: np.ndarray, number: int, total: int) -> None:
    _view_header(out, "scatter", number, total,
                 "Each input pixel x[j] multiplies the whole kernel; the product is stamped into the "
                 "output starting at j*s - p (taps d apart), and the stamps add up where they overlap.")
    count = c.transpose(np.ones(c.size), np.ones(c.kernel_size))
    n_px = math.prod(c.size)
    lines = _stamp_lines(c, result, count) if c.ndim <= 2 and n_px <= MAX_STAMPS else None
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


def _stamp_lines(c: Config, result: np.ndarray, count: np.ndarray) -> list[str]:
    """The stamps one by one, then their sum and the overlap count (1-d: one row each; 2-d: grids)."""
    stamps = [(f"x[{_index(j)}] = {fmt.cells(c.x[j])[()]}", stamp, covered) for j, stamp, covered in _stamps(c)]
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


def _pad_or_crop(z: np.ndarray, pads: Sequence[tuple[int, int]]) -> np.ndarray:
    """Zero-pad each axis by ``(before, after)``; negative amounts crop instead."""
    z = np.pad(z, [(max(b, 0), max(e, 0)) for b, e in pads])
    return z[tuple(slice(max(-b, 0), z.shape[i] - max(-e, 0)) for i, (b, e) in enumerate(pads))]


def _amount(v: int) -> str:
    return str(v) if v >= 0 else f"{v} (crop {-v})"


def _intermediate(c: Config) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The zero-inserted, padded input and the ``(before, after)`` padding per axis.

    ``upconv.conv(intermediate, flip(w), dilation=d)`` is the result.
    """
    g = c.geometry
    # zero insertion itself is a transposed convolution with a one-pixel kernel of 1
    inserted = c.transpose(c.x, np.ones((1,) * c.ndim), stride=c.stride, padding=0, output_padding=0, dilation=1)
    # d*(k-1) - p on both sides; the end padding of the geometry already includes -output_padding
    pads = list(shapes.zero_insertion_padding(g))
    return _pad_or_crop(inserted, pads), pads


def _view_zero_insertion(out: fmt.Printer, c: Config, result: np.ndarray, number: int, total: int) -> None:
    _view_header(out, "zero_insertion", number, total,
                 "Insert s - 1 zeros between the input pixels, pad d*(k - 1) - p zeros on each side "
                 "(plus output_padding at the end), then slide the flipped kernel over it with stride 1 "
                 "(taps d apart): an ordinary convolution.")
    intermediate, pads = _intermediate(c)
    out("  before = d*(k - 1) - p,  after = d*(k - 1) - p + output_padding")
    for ax, s, (b, e) in zip(c.axes, c.stride, pads):
        zeros = "1 zero" if s == 2 else f"{s - 1} zeros"
        out(f"    {ax + ':':<4}insert {zeros}, pad {_amount(b)} before and {_amount(e)} after")
    out()
    flipped = np.flip(c.w)
    dil = "" if all(d == 1 for d in c.dilation) else f", dilation {','.join(map(str, c.dilation))}"
    out.lines(fmt.side_by_side([
        (f"intermediate ({fmt.join_dims(intermediate.shape)})", fmt.array_lines(intermediate)),
        (f"flipped kernel{dil}", fmt.array_lines(flipped)),
        (f"result ({fmt.join_dims(result.shape)})", fmt.array_lines(result)),
    ]), indent=2)


def _matrix(c: Config, w: np.ndarray | None = None):
    """``(C, conv_out)``: the matrix of the convolution ``out_size -> size`` (``C.T @ vec(x)`` is the result).

    ``C`` comes from :func:`upconv.conv_matrix` of the convolution of an
    ``out_size`` input with the same stride, padding and dilation, whose
    output size is ``conv_out``.  When ``output_padding >= stride`` (possible
    with dilation) that convolution has more outputs than ``size``; only the
    first ``size`` of them (per axis) are rows of ``C``.  ``w`` replaces the
    kernel (e.g. by tap numbers).
    """
    w = c.w if w is None else w
    C = upconv.conv_matrix(c.out_size, w[None, None], c.stride, c.padding, c.dilation)
    conv_out = shapes.conv_output_size(c.out_size, c.kernel_size, c.stride, c.padding, c.dilation)
    if conv_out != c.size:
        rows = np.arange(math.prod(conv_out)).reshape(conv_out)[tuple(slice(0, i) for i in c.size)]
        C = C[rows.ravel()]
    return C, conv_out


def _view_matrix(out: fmt.Printer, c: Config, result: np.ndarray, number: int, total: int) -> None:
    _view_header(out, "matrix", number, total,
                 "The convolution that goes the other way (input size = this output size, same stride, "
                 "padding and dilation) is a sparse matrix C acting on vec(input); the transposed "
                 "convolution multiplies by Cᵀ instead.")
    C, conv_out = _matrix(c)
    out(f"  conv: {fmt.join_dims(c.out_size)} → {fmt.join_dims(conv_out)}")
    if conv_out != c.size:
        out.wrap(f"(output_padding >= stride: C keeps the first {fmt.join_dims(c.size)} of its outputs as rows)")
    out(f"  C:  {C.shape[0]} × {C.shape[1]}  ({C.nnz} stored {'entry' if C.nnz == 1 else 'entries'})")
    out(f"  Cᵀ: {C.shape[1]} × {C.shape[0]}  (rows: output pixels; columns: input pixels, row-major)")
    out()
    dense_lines = _dense_transpose(C, c.out_size) if max(C.shape) <= MAX_DENSE else None
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


def _dense_transpose(C, out_size: tuple[int, ...]) -> list[str] | None:
    """``C.T`` as a table (row labels: output pixels; '.' where ``C`` stores nothing), or None if too wide."""
    return _dense_lines(C.T, [_index(o) for o in np.ndindex(*out_size)])


def _dense_lines(M, labels: Sequence[str]) -> list[str] | None:
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
    return lines + [f"{label:>{lw}} | {line}" for label, line in zip(labels, body)]


def _view_phase(out: fmt.Printer, c: Config, result: np.ndarray, number: int, total: int) -> None:

    _view_header(out, "phase", number, total,
                 "Output pixel o receives kernel tap t only when o + p - t*d is a multiple of s: each "
                 "residue class of o (mod s) is a small stride-1 convolution of the input with the taps "
                 "that land in it; the s^n results interleave.  Classes with fewer taps are the "
                 "checkerboard.")
    g = c.geometry
    per_axis = []
    for a, (ax, s) in enumerate(zip(c.axes, c.stride)):
        classes = sorted((c.first, c.count, sorted(c.taps)) for c in shapes.phase_decomposition(g, a))
        per_axis.append(classes)
        for i, (o0, count, taps) in enumerate(classes):
            head = f"{ax + ':':<4}" if i == 0 else " " * 4
            which = "no taps (zeros)" if not taps else ("tap " if len(taps) == 1 else "taps ") + ", ".join(
                map(str, taps))
            out(f"    {head}o ≡ {o0} (mod {s}): {count} output{'s' if count != 1 else ''}, {which}")
    out()
    n_classes = math.prod(c.stride)
    if c.ndim <= 2 and n_classes <= MAX_PHASES:
        blocks = []
        for combo in np.ndindex(*c.stride):
            parts = [per_axis[a][r] for a, r in enumerate(combo)]
            o0s = tuple(p[0] for p in parts)
            title = "o ≡ " + (str(o0s[0]) if c.ndim == 1 else f"({_index(o0s)})")
            lines = ["taps " + " × ".join(",".join(map(str, p[2])) or "-" for p in parts)]
            if all(p[2] for p in parts):
                lines += ["sub-kernel"] + fmt.array_lines(c.w[np.ix_(*[p[2] for p in parts])]) + [""]
            else:
                lines += ["no taps", ""]
            if all(p[1] for p in parts):
                sub = result[tuple(slice(o0, None, s) for o0, s in zip(o0s, c.stride))]
                lines += ["outputs"] + fmt.array_lines(sub)
            else:
                lines += ["no outputs"]
            blocks.append((title, lines))
        out.lines(fmt.side_by_side(blocks), indent=2)
        out()
    else:
        out(f"  {n_classes} classes: every combination of the per-axis classes above")
        out()
    out(f"  interleaved ({fmt.join_dims(result.shape)}):")
    out.lines(fmt.array_lines(result), indent=2)


#: The gradient view perturbs every output pixel; above this many it only reports the check.
MAX_GRADIENT_PIXELS = 4096


def _conv_gradient(c: Config) -> np.ndarray:
    """Gradient of ``f(X) = <conv(X, w), x>`` with respect to ``X``, by finite differences.

    ``conv`` is the convolution this transposed convolution is the transpose
    of: same kernel, stride, padding and dilation, mapping an ``X`` of the
    output's size back to the input's size (upconv.grad computes it as the
    input gradient of the transposed convolution).  ``f`` is linear, so the
    forward difference ``f(e_i) - f(0)`` with a unit step is exact: one
    perturbed image per output pixel, run as one batch.
    """
    from upconv.grad import conv_transpose_grad_input

    size = c.geometry.in_size
    pixels = math.prod(size)
    units = np.eye(pixels).reshape((pixels, 1) + size)
    x = np.broadcast_to(c.x, (pixels, 1) + c.x.shape)  # only its shape is used
    y = conv_transpose_grad_input(units, x, c.w[None, None], stride=c.stride,
                                  padding=c.padding, output_padding=c.output_padding, dilation=c.dilation)
    return np.tensordot(y[:, 0], c.x, axes=c.ndim).reshape(size)


def _view_gradient(out: fmt.Printer, c: Config, result: np.ndarray) -> bool:
    """The fifth view: the transposed convolution is the gradient of a convolution.  Returns agreement."""
    out.header("The gradient view")
    out.wrap(
        "The transposed convolution is the gradient of a convolution: take conv with the same "
        "kernel, stride, padding and dilation, mapping an image X of the output's size to the "
        "input's size, and f(X) = <conv(X, w), x>.  Nudging one pixel of X at a time (finite "
        "differences; exact, since f is linear) gives df/dX:",
        indent=2,
    )
    if math.prod(c.geometry.in_size) > MAX_GRADIENT_PIXELS:
        out(f"  (more than {MAX_GRADIENT_PIXELS} output pixels: not computed)")
        out()
        return True
    grad = _conv_gradient(c)
    out.lines(fmt.array_lines(grad), indent=2)
    diff = float(np.max(np.abs(grad - result), initial=0.0))
    agree = bool(np.allclose(grad, result, rtol=1e-9, atol=1e-12 * max(1.0, float(np.max(np.abs(result))))))
    verdict = "equals" if agree else "DIFFERS from"
    out(f"  df/dX {verdict} the transposed convolution of x: max |difference| = {diff:.3g}")
    out()
    return agree


_VIEWS = {
    "scatter": _view_scatter,
    "zero_insertion": _view_zero_insertion,
    "matrix": _view_matrix,
    "phase": _view_phase,
}


def _print_agreement(out: fmt.Printer, results: dict[str, np.ndarray]) -> int:
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
    listed = ", ".join(names)
    out.header("Check")
    if exact:
        out(f"  All {len(names)} views agree exactly (np.array_equal): max |difference| = 0")
    elif close:
        out(f"  All {len(names)} views agree to rounding (np.allclose): max |difference| = {worst:.3g}")
    else:
        out(f"  The views DISAGREE: max |difference| = {worst:.3g} ({worst_name} vs {ref_name})")
    out.wrap(f"({listed}: each computed by upconv.conv_transpose(..., method=...))")
    return 0 if close else 1


# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# extras: --matrix, --symbolic, --figure, --animate

#: ``--matrix`` prints a matrix densely when it has at most this many rows (and fits the width).
MAX_MATRIX_ROWS = 64
#: ``--matrix`` lists the entries of this many rows of a matrix too large to print densely.
SPARSE_ROWS = 4
#: ``--symbolic`` lists at most this many entries or rows one per line.
MAX_SYMBOLIC_LINES = 64


def _print_matrix(out: fmt.Printer, c: Config) -> None:
    C, conv_out = _matrix(c)
    M, N = C.shape
    out.header("Convolution matrix C and its transpose")
    out.wrap(f"C is the matrix of the convolution {fmt.join_dims(c.out_size)} → {fmt.join_dims(conv_out)} "
             "with the same kernel, stride, padding and dilation (conv(z) = C·vec(z)); the transposed "
             f"convolution is Cᵀ: from the {M} input pixels to the {N} output pixels, both in row-major order.")
    out()
    out(f"  C:  {M} × {N}  ({C.nnz} stored {'entry' if C.nnz == 1 else 'entries'}, "
        f"{100 * C.nnz / (M * N):.3g}% of all)")
    out(f"  Cᵀ: {N} × {M}")
    if conv_out != c.size:
        out.wrap(f"(output_padding >= stride: C keeps the first {fmt.join_dims(c.size)} of its outputs as rows)")
    in_labels = [_index(j) for j in np.ndindex(*c.size)]
    out_labels = [_index(o) for o in np.ndindex(*c.out_size)]
    for name, mat, labels, rows, cols in (
        ("C", C, in_labels, "input pixels x[j]", "output pixels"),
        ("Cᵀ", C.T, out_labels, "output pixels", "input pixels x[j]"),
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
                     for v, t in sorted(zip(values.tolist(), times.tolist()), reverse=True))


def _sparse_summary(out: fmt.Printer, mat, labels: Sequence[str], name: str) -> None:
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
        entries = "  ".join(f"{j}:{fmt.cells(np.array(v))[()]}" for j, v in zip(cols[order], vals[order]))
        out.lines(textwrap.wrap(f"row {r} ({labels[r]}): {entries or 'no entries'}", fmt.WIDTH - 6,
                                subsequent_indent="  "), indent=6)
    if csr.shape[0] > SPARSE_ROWS:
        out(f"      … {csr.shape[0] - SPARSE_ROWS} more rows")


def _print_symbolic(out: fmt.Printer, c: Config) -> None:
    from upconv.explain import symbolic

    try:
        X = symbolic.symbolic_conv_transpose(c.size, c.kernel_size, c.stride, c.padding, c.output_padding,
                                             c.dilation)
        C = symbolic.symbolic_conv_matrix(c.out_size, c.kernel_size, c.stride, c.padding, c.dilation)
    except ImportError as exc:
        raise ValueError(f"argument --symbolic: {exc}") from None
    conv_out = shapes.conv_output_size(c.out_size, c.kernel_size, c.stride, c.padding, c.dilation)
    if conv_out != c.size:
        rows = np.arange(math.prod(conv_out)).reshape(conv_out)[tuple(slice(0, i) for i in c.size)]
        C = C.extract(rows.ravel().tolist(), list(range(C.cols)))
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


def _pretty_if_fits(expr, uni: bool) -> list[str] | None:
    from upconv.explain.symbolic import pretty

    lines = pretty(expr, unicode=uni).splitlines()
    return lines if max(map(len, lines), default=0) <= fmt.WIDTH - 4 and len(lines) <= 2 * MAX_SYMBOLIC_LINES else None


def _symbolic_lines(out: fmt.Printer, X, values: np.ndarray, name: str, uni: bool) -> None:
    lines = _pretty_if_fits(X, uni)
    if lines is None:
        lines = []
        for idx, e in list(np.ndenumerate(values))[:MAX_SYMBOLIC_LINES]:
            text = str(e).replace("*", "·")
            lines += textwrap.wrap(f"{name}[{_index(idx)}] = {text}", fmt.WIDTH - 4, subsequent_indent="    ")
        if values.size > MAX_SYMBOLIC_LINES:
            lines.append(f"… {values.size - MAX_SYMBOLIC_LINES} more")
    out.lines(lines, indent=4)


def _write_figure(c: Config, path: str) -> str:
    from upconv import figures

    C, _ = _matrix(c)
    try:
        figures.plots._check_matrix_size(C.shape, "upconv explain")
    except ValueError as exc:
        raise ValueError(f"argument --figure: {exc}") from None
    taps, _ = _matrix(c, np.arange(1.0, c.w.size + 1.0).reshape(c.w.shape))
    names = np.array([f"w{_index(tuple(i + 1 for i in t))}" if max(c.kernel_size) > 9 else
                      "w" + "".join(str(i + 1) for i in t) for t in np.ndindex(*c.kernel_size)], dtype=object)
    try:
        path = figures.style._check_path(path, "upconv explain")
        fig = figures.plots._matrix_figure(C.toarray(), np.rint(taps.toarray()).astype(np.int64), names, c.out_size,
                                     c.size, 1, 1, "both", "tap")
        figures.style._save(fig, path)
    except OSError as exc:
        raise ValueError(f"argument --figure: cannot write {path!r}: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise ValueError(f"argument --figure: {exc}") from None
    w, h = (int(round(x * fig.dpi)) for x in fig.get_size_inches())
    return f"wrote {path}: C and Cᵀ as heatmaps ({w} × {h} pixels)"


def _write_animation(c: Config, path: str, view: str, fps: float) -> str:
    from upconv import figures

    try:
        anim = figures.animate_conv_transpose(path, c.size, c.kernel_size, c.stride, c.padding, c.output_padding,
                                              c.dilation, view=view, x=c.x, weight=c.w, fps=fps)
    except OSError as exc:
        raise ValueError(f"argument --animate: cannot write {path!r}: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise ValueError(f"argument --animate: {exc}") from None
    w, h = (int(round(x * anim.figure.dpi)) for x in anim.figure.get_size_inches())
    what = "kernel stamping" if view == "stamping" else "zero insertion + sliding flipped kernel"
    return f"wrote {path}: {anim.frames} frames of {what} ({w} × {h} pixels)"


# --------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Print the explanation; 0 when the four methods agree, 1 when they do not."""
    if args.animate is None:
        for option, value in (("--view", args.view), ("--fps", args.fps)):
            if value is not None:
                raise ValueError(f"argument {option}: only with --animate OUT.gif")
    c = _config(args)
    results = {m: c.transpose(c.x, c.w, method=m) for m in METHODS}
    written = []  # files first: a file that cannot be written is an error before anything is printed
    if args.figure:
        written.append(_write_figure(c, args.figure))
    if args.animate:
        fps = 2.0 if args.fps is None else args.fps
        written.append(_write_animation(c, args.animate, args.view or "stamping", fps))
    out = fmt.Printer()
    _print_config(out, c)
    if args.method is not None:
        shown: tuple[str, ...] = (args.method,)
    else:
        shown = () if args.matrix or args.symbolic else METHODS
    for number, method in enumerate(shown, 1):
        _VIEWS[method](out, c, results[method], number, len(shown))
    gradient_agrees = _view_gradient(out, c, results[METHODS[0]]) if len(shown) == len(METHODS) else True
    if args.matrix:
        _print_matrix(out, c)
    if args.symbolic:
        _print_symbolic(out, c)
    if written:
        out.header("Files")
        for line in written:
            out.wrap(line)
    status = _print_agreement(out, results)
    return status if gradient_agrees else 1
