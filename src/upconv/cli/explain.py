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

then the gradient view (``Cᵀ`` as the Jacobian of that convolution), and
finally whether the results agree (exit status 0) or not (1).  What every
view shows (stamps, the zero-inserted input, ``C``, the classes, the
Jacobian) is computed once by :mod:`upconv.explain.views`; this module
parses the arguments and calls the library, :mod:`upconv.cli._explain_text`
prints.

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
from collections.abc import Callable
from typing import cast

import numpy as np

from upconv import shapes
from upconv._validate import check_allocation
from upconv.cli import _explain_text as render
from upconv.cli import _format as fmt
from upconv.cli import _output as output
from upconv.cli._args import check_figure_output, int_list, load_npy, per_axis
from upconv.cli._explain_text import Config
from upconv.explain import views
from upconv.ops.convolution import CONV_TRANSPOSE_METHODS

__all__ = ["add_parser", "run"]

#: The methods of :func:`upconv.conv_transpose`, one per view, in the order the views are shown.
VIEW_METHODS: tuple[str, ...] = tuple(CONV_TRANSPOSE_METHODS)
#: The library's parameter names and the options that set them (errors name the options).
PARAMETERS = {
    "size": "--size", "in_size": "--size", "input": "--size", "kernel_size": "--kernel-size", "stride": "--stride",
    "padding": "--padding", "output_padding": "--output-padding", "dilation": "--dilation", "x": "--input",
    "weight": "--kernel", "fps": "--fps", "view": "--view",
}
#: The view of :mod:`upconv.explain.views` each method shows.
_VIEW_OF_METHOD = {"scatter": "stamping", "zero_insertion": "zero_insertion", "matrix": "matrix", "phase": "phase"}

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
    if name not in VIEW_METHODS:
        raise argparse.ArgumentTypeError(f"invalid choice {text!r} (choose from {', '.join(VIEW_METHODS)})")
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
                   help=f"show only this view: {', '.join(VIEW_METHODS)} (all four are still checked)")
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
    p.add_argument("--force", action="store_true", help="let --figure / --animate replace an --input .npy file")
    output.add_options(p)
    return p



def _load_npy(spec: str | None, option: str) -> np.ndarray | None:
    if spec is None or not spec.strip().lower().endswith(".npy"):
        return None
    return load_npy(spec, option)


def _values(spec: str | None, array: np.ndarray | None, shape: tuple[int, ...], option: str,
            default: str) -> np.ndarray:
    """The array given by ``--input``/``--kernel`` (already loaded when a .npy), of ``shape``."""
    count = math.prod(shape)
    check_allocation(shape, np.float64, "upconv explain", f"the {option} values")  # before building them
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
# files: --figure, --animate


def _write_figure(c: Config, view: views.MatrixView, path: str) -> str:
    from upconv import figures

    try:
        figures.plots.check_matrix_size(view.C.shape, "upconv explain")
        fig = figures.plots.matrix_view_figure(view)
        figures.style.save(fig, path)
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


def _compute_views(c: Config, args: argparse.Namespace, shown: tuple[str, ...]) -> views.ConvTransposeViews:
    """The views the text and the files need, each computed once."""
    names = {_VIEW_OF_METHOD[m] for m in shown}
    if len(shown) == len(VIEW_METHODS):
        names.add("gradient")
    if args.matrix or args.symbolic or args.figure:
        names.add("matrix")
    # every stamp only where they are printed one by one (small 1-d and 2-d inputs)
    stamps = math.prod(c.size) * math.prod(shapes.stamping_canvas(c.geometry)[0])
    steps = c.ndim <= 2 and math.prod(c.size) <= render.MAX_STAMPS and stamps <= views.MAX_STEP_CELLS
    jacobian = math.prod(c.out_size) <= views.MAX_JACOBIAN_PIXELS
    return c.compute_views(tuple(sorted(names)), steps, jacobian)


def run(args: argparse.Namespace) -> int:
    """Print the explanation; 0 when the four methods agree, 1 when they do not."""
    if args.animate is None:
        for option, value in (("--view", args.view), ("--fps", args.fps)):
            if value is not None:
                raise ValueError(f"argument {option}: only with --animate OUT.gif")
    inputs = [spec for spec in (args.input, args.kernel) if spec is not None]
    if args.figure:  # files are checked before any work
        check_figure_output(args.figure, "--figure", inputs=inputs, force=args.force)
    if args.animate:
        check_figure_output(args.animate, "--animate", ("gif",), inputs=inputs, force=args.force)
    c = _config(args)
    results = {m: c.transpose(c.x, c.w, method=m) for m in VIEW_METHODS}
    if args.method is not None:
        shown: tuple[str, ...] = (args.method,)
    else:
        shown = () if args.matrix or args.symbolic else VIEW_METHODS
    v = _compute_views(c, args, shown)
    matrix = cast("views.MatrixView", v.matrix)  # computed whenever --matrix, --symbolic or --figure uses it
    written = []  # files first: a file that cannot be written is an error before anything is printed
    if args.figure:
        written.append(_write_figure(c, matrix, args.figure))
    if args.animate:
        fps = 2.0 if args.fps is None else args.fps
        written.append(_write_animation(c, args.animate, args.view or "stamping", fps))
    gradient_agrees = True
    if v.gradient is not None:
        gradient_agrees = render.gradient_check(v.gradient, results[VIEW_METHODS[0]])[0]
    status = (0 if render.agreement(results)[0] != "disagree" else 1) if gradient_agrees else 1
    if args.json:
        output.emit("explain", _document(c, v, results, shown, args, written))
        return status
    out = fmt.Printer()
    if args.quiet:
        out(render.agreement_line(results))
        return status
    render.print_config(out, c)
    printers: dict[str, tuple[Callable[..., None], object]] = {
        "scatter": (render.print_stamping, v.stamping),
        "zero_insertion": (render.print_zero_insertion, v.zero_insertion),
        "matrix": (render.print_matrix_view, v.matrix),
        "phase": (render.print_phase, v.phase),
    }
    for number, method in enumerate(shown, 1):
        show, view = printers[method]
        show(out, c, view, results[method], number, len(shown))
    if v.gradient is not None:
        render.print_gradient(out, v.gradient, results[VIEW_METHODS[0]], views.MAX_JACOBIAN_PIXELS)
    if args.matrix:
        render.print_matrix(out, c, matrix)
    if args.symbolic:
        render.print_symbolic(out, c, matrix)
    if written:
        out.header("Files")
        for line in written:
            out.wrap(line)
    render.print_agreement(out, results)
    return status


def _document(c: Config, v: views.ConvTransposeViews, results: dict[str, np.ndarray], shown: tuple[str, ...],
              args: argparse.Namespace, written: list[str]) -> dict[str, object]:
    """What the text shows, for --json: the configuration, the output size formula, each view, the checks."""
    kind, worst, worst_name = render.agreement(results)
    doc: dict[str, object] = {
        "config": {"in_size": c.size, "kernel_size": c.kernel_size, "stride": c.stride, "padding": c.padding,
                   "output_padding": c.output_padding, "dilation": c.dilation, "out_size": c.out_size},
        "formula": "out = (in - 1)*s - 2p + d*(k - 1) + output_padding + 1",
        "input": c.x, "kernel": c.w, "output": results[VIEW_METHODS[0]],
        "views": {name: view.to_dict(config=False) for name in ("stamping", "zero_insertion", "matrix", "phase",
                                                                "gradient")
                  if (view := getattr(v, name)) is not None and (name != "matrix" or "matrix" in shown
                                                                 or args.matrix)},
        "check": {"agreement": kind, "max_abs_difference": worst, "worst_method": worst_name,
                  "methods": list(results)},
    }
    if v.gradient is not None:
        agrees, diff = render.gradient_check(v.gradient, results[VIEW_METHODS[0]])
        doc["gradient_check"] = {"agrees": agrees, "max_abs_difference": diff}
    if written:
        doc["files"] = written
    return doc
