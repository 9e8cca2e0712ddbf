r"""True deconvolution: recover the input of a convolution from its output.

A convolution is a linear map, ``y = C x`` (:func:`upconv.conv`, with its
``stride``, ``padding``, ``dilation`` and ``groups``).  The transposed
convolution (:func:`upconv.conv_transpose`) applies ``Cᵀ``: it maps ``y``
back to the *shape* of ``x``, not to its values (``CᵀC`` is not the
identity).  *Deconvolution* in the mathematical sense inverts ``C``:
given the kernel and ``y`` (possibly noisy), find ``x``.  This module does
that with the same operators:

``"lsqr"``, ``"cg"``
    Tikhonov-regularised least squares on a matrix-free
    :class:`scipy.sparse.linalg.LinearOperator` whose ``matvec`` is the
    convolution and whose ``rmatvec`` is the transposed convolution.  Any
    stride: with ``stride > 1`` this is super-resolution as an inverse
    problem.
``"wiener"``
    The regularised inverse filter in the Fourier domain (stride 1,
    periodic boundary model).
``"richardson_lucy"``
    The multiplicative EM iteration for non-negative data (stride 1); its
    correction step is a transposed convolution.
``"transpose"``
    ``Cᵀ y``, for comparison: the shape is right, the values are not.

:func:`deconvolve` validates, builds the operator
(:mod:`upconv.restore.operators`), solves (:mod:`upconv.restore.solvers`)
and returns the estimate; :func:`upconv.restore.blur.blur_kernel` builds
the usual blur kernels (Gaussian, box, motion) from a short text spec.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.ops.arrays import array_function
from upconv.restore.operators import UpconvOperator, make_operator
from upconv.restore.solvers import Monitor, least_squares, richardson_lucy, wiener
from upconv.shapes import ConvGeometry

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["deconvolve", "options_for", "DECONVOLVE_METHODS", "ENGINES", "METHOD_OPTIONS"]

#: The values of ``deconvolve(method=...)``.
DECONVOLVE_METHODS: tuple[str, ...] = ("lsqr", "cg", "wiener", "richardson_lucy", "transpose")
#: The values of ``deconvolve(engine=...)``: how the iterative methods apply ``C`` and ``Cᵀ``.
ENGINES: tuple[str, ...] = ("auto", "upconv", "fft", "ndimage")

_ITERATIVE = ("lsqr", "cg", "richardson_lucy")
#: The options of :func:`deconvolve` that only some methods use, with those methods (the others refuse them).
METHOD_OPTIONS: dict[str, tuple[str, ...]] = {
    "damp": ("lsqr", "cg"),
    "smoothness": ("lsqr", "cg"),
    "tol": ("lsqr", "cg"),
    "balance": ("wiener",),
    "boundary": ("wiener",),
    "iterations": _ITERATIVE,
    "x0": _ITERATIVE,
    "callback": _ITERATIVE,
    "engine": _ITERATIVE,
}
# Values that mean "not given" for the options whose default is not None.
_UNSET = {"damp": 0, "smoothness": 0, "engine": "auto"}
_DEFAULT_ITERATIONS = {"lsqr": 100, "cg": 100, "richardson_lucy": 30}
_DEFAULT_TOL = 1e-6
_DEFAULT_BALANCE = 1e-2


def options_for(method: str, **options: Any) -> dict[str, Any]:
    """The ``options`` of :func:`deconvolve` that ``method`` uses (it refuses the others).

    For callers that pass one set of options to every method.

    Examples
    --------
    >>> from upconv.restore.deconvolution import options_for
    >>> options_for("wiener", balance=0.05, smoothness=0.1, iterations=20)
    {'balance': 0.05}
    """
    v.choice(method, DECONVOLVE_METHODS, "options_for", "method")
    return {name: value for name, value in options.items() if method in METHOD_OPTIONS.get(name, DECONVOLVE_METHODS)}


def _refuse_unused(func: str, method: str, **options: Any) -> None:
    """Options the method does not use are an error, not silently ignored."""
    unused = [name for name, value in options.items() if method not in METHOD_OPTIONS[name]
              and (value is not None if name not in _UNSET else value != _UNSET[name])]
    if unused:
        raise ValueError(f"{func}: {', '.join(unused)} {'is' if len(unused) == 1 else 'are'} not used by "
                         f"method={method!r}; leave {'it' if len(unused) == 1 else 'them'} at the default")


# --------------------------------------------------------------------------
# validation


def _geometry(func: str, y_spatial: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], padding: Any,
              dilation: int | Sequence[int], in_size: Sequence[int] | None) -> ConvGeometry:
    """The geometry of the convolution ``in_size -> y_spatial`` (default: the smallest input size)."""
    n = len(y_spatial)
    if isinstance(padding, str):
        padding = v.choice(padding, ("valid", "same"), func, "padding")
        if padding == "valid":
            padding = 0
        elif in_size is None:
            in_size = y_spatial
    if in_size is None:
        lo, _ = shapes.conv_transpose_output_size_range(y_spatial, kernel, stride, padding, dilation)
        if any(i < 1 for i in lo):
            raise ValueError(
                f"{func}: no input size is consistent with y of spatial size {y_spatial}, kernel size {kernel}, "
                f"stride={stride}, padding={padding}, dilation={dilation} (the smallest would be {lo})"
            )
        in_size = lo
    else:
        if isinstance(in_size, (str, bytes)) or not isinstance(in_size, (Sequence, np.ndarray)):
            raise TypeError(f"{func}: in_size must be a sequence of {n} integers, got {in_size!r}")
        in_size = v.int_tuple(tuple(in_size), n, func, "in_size", minimum=1)
    g = shapes.conv_geometry(in_size, kernel, stride, padding, dilation, func=func)
    if g.out_size != y_spatial:
        lo, hi = shapes.conv_transpose_output_size_range(y_spatial, kernel, stride, g.padding, dilation)
        raise ValueError(
            f"{func}: a convolution of an input of size {tuple(in_size)} gives {g.out_size}, not y's spatial "
            f"size {y_spatial}; consistent input sizes range from {lo} to {hi}"
        )
    return g


def _arrays(func: str, y: np.ndarray, w: np.ndarray, x0: np.ndarray | None,
            groups: int) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Check ranks, channels and finiteness: ``(N, C_out, *out)`` data, the weight, ``groups``, unbatched."""
    w = v.kernel_weight(func, w)
    y, unbatched = v.batched(func, y, w.ndim - 2, "y", weight=w)
    if any(s == 0 for s in y.shape[1:]):
        raise ValueError(f"{func}: y must not have a zero-length axis (the batch aside), got shape {y.shape}")
    groups = v.integer(groups, func, "groups", minimum=1)
    c_out = w.shape[0]
    if c_out % groups:
        raise ValueError(f"{func}: weight.shape[0] (out channels, {c_out}) must be divisible by groups={groups}")
    if y.shape[1] != c_out:
        raise ValueError(f"{func}: y has {y.shape[1]} channels but weight of shape {w.shape} produces {c_out} "
                         f"(weight.shape[0])")
    for name, a in (("y", y), ("weight", w), ("x0", x0)):
        if a is not None and not np.all(np.isfinite(a)):
            raise ValueError(f"{func}: {name} must be finite, got {np.count_nonzero(~np.isfinite(a))} "
                             "NaN or infinite value(s)")
    return y, w, groups, unbatched


def _check_method(func: str, method: str, engine: str, g: ConvGeometry, y: np.ndarray, w: np.ndarray,
                  x0: np.ndarray | None) -> None:
    """What the method and the engine need: stride 1 (Wiener, Richardson-Lucy, FFT, ndimage), non-negative data."""
    strided = any(s != 1 for s in g.stride)
    if method in ("wiener", "richardson_lucy") and strided:
        raise ValueError(f"{func}: method={method!r} needs stride 1 (a blur), got stride={g.stride}; "
                         "use method='lsqr' or 'cg' for strided convolutions")
    if engine in ("fft", "ndimage") and strided:
        raise ValueError(f"{func}: engine={engine!r} needs stride 1, got stride={g.stride}; "
                         "use engine='upconv' or 'auto'")
    if method == "richardson_lucy":
        for name, a in (("y", y), ("weight", w), ("x0", x0)):
            if a is not None and a.min() < 0:
                raise ValueError(f"{func}: method='richardson_lucy' needs non-negative {name}, "
                                 f"got a minimum of {a.min()}")


@array_function(whole=True)
def deconvolve(
    y: npt.ArrayLike,
    weight: npt.ArrayLike,
    *,
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    method: str = "lsqr",
    iterations: int | None = None,
    tol: float | None = None,
    damp: float = 0.0,
    smoothness: float = 0.0,
    balance: float | None = None,
    boundary: str | None = None,
    in_size: Sequence[int] | None = None,
    x0: npt.ArrayLike | None = None,
    engine: str = "auto",
    callback: Callable[[int, np.ndarray], Any] | None = None,
    progress: bool = False,
) -> np.ndarray:
    r"""Recover ``x`` from ``y = conv(x, weight, ...)`` (+ noise): the inverse of :func:`upconv.conv`.

    The convolution is described exactly as for :func:`upconv.conv`
    (torch semantics: cross-correlation, zero padding), so
    ``deconvolve(conv(x, w, **kw), w, **kw)`` recovers ``x`` when the
    problem is well posed.

    Parameters
    ----------
    y : (N, C_out, *out_size) or (C_out, *out_size) array_like
        The convolution's output (blurred, possibly strided, possibly noisy).
    weight : (C_out, C_in / groups, *kernel_size) array_like
        The convolution's kernel (:func:`upconv.conv` layout).
    stride, dilation : int or sequence of n ints, optional
    padding : int, sequence of n ints, sequence of n (begin, end) pairs, "valid" or "same"
        As for :func:`upconv.conv` (zero padding).
    groups : int, optional
    method : {"lsqr", "cg", "wiener", "richardson_lucy", "transpose"}
        See Notes.  ``"wiener"`` and ``"richardson_lucy"`` need stride 1.
    iterations : int, optional
        Most iterations of ``"lsqr"``/``"cg"`` (100) or the number of
        ``"richardson_lucy"`` iterations (30).
    tol : float, optional
        Stopping tolerance of ``"lsqr"`` (``atol = btol``) and ``"cg"``
        (relative residual of the normal equations); default 1e-6.
    damp, smoothness : float, optional
        Tikhonov weights of ``"lsqr"``/``"cg"`` (see Notes); default 0.
    balance : float, optional
        Regularisation of ``"wiener"`` (scikit-image's ``balance``);
        default 0.01.
    boundary : {"periodic", "reflect"}, optional
        Boundary model of ``"wiener"`` (default ``"periodic"``):
        ``"reflect"`` first pads ``y`` by half-sample reflection
        (``ek - 1`` per side), then treats the padded data as periodic.
    in_size : sequence of n ints, optional
        Spatial size of ``x``.  A strided convolution maps up to
        ``stride`` input sizes to the same output size; by default the
        smallest, ``(o - 1)*s + ek - p_begin - p_end``
        (:func:`upconv.shapes.conv_transpose_output_size_range`), or
        ``out_size`` with ``padding="same"``.
    x0 : (N, C_in, *in_size) or (C_in, *in_size) array_like, optional
        Starting point of the iterative methods (only that: the objective
        does not depend on it).  Default zeros for ``"lsqr"``/``"cg"``; for
        ``"richardson_lucy"`` the constant with the flux of ``y``
        (``sum(y) / sum(Cᵀ1)`` per sample).
    engine : {"auto", "upconv", "fft", "ndimage"}, optional
        How the iterative methods apply ``C`` and ``Cᵀ`` (same values to
        rounding): :func:`upconv.conv` / :func:`upconv.conv_transpose`
        (im2col + GEMM, any stride); FFT on a circle long enough that
        nothing wraps around (stride 1); direct correlation with
        :mod:`scipy.ndimage`, axis by axis for separable kernels (stride 1).
        ``"auto"`` picks the cheapest by a cost model.
    callback : callable, optional
        ``callback(iteration, x)`` after each iteration of an iterative
        method (``iteration`` from 1; ``x`` a read-only view of the current
        estimate, shaped like the result, in the compute dtype).
        Returning True stops the iteration.
    progress : bool, optional
        Draw a plain-text progress bar on stderr during the iterations.

    Returns
    -------
    x : (N, C_in, *in_size) or (C_in, *in_size) ndarray
        Same dtype as the inputs (float16 is computed in float32).

    Raises
    ------
    ValueError
        Kernel/channel mismatch, non-finite ``y``/``weight``/``x0``, a
        ``y`` no input size is consistent with (or an ``in_size`` that
        does not give ``y``'s size), ``stride > 1`` with ``"wiener"`` or
        ``"richardson_lucy"``, negative ``y``/``weight``/``x0`` with
        ``"richardson_lucy"``, an option the chosen method does not use.
    TypeError
        Wrong argument types, mixed floating dtypes.
    MemoryError
        If a buffer would exceed :func:`upconv.get_memory_limit`.

    See Also
    --------
    upconv.conv : the forward model.
    upconv.conv_transpose : ``Cᵀ``, the adjoint (method ``"transpose"``).
    upconv.metrics.psnr, upconv.metrics.ssim : to score the result.

    Notes
    -----
    Write the convolution as ``y = C x``.

    ``"lsqr"`` and ``"cg"`` minimise

    .. math::

        \|C x - y\|^2 + \text{damp}^2 \|x\|^2 + \text{smoothness}^2 \|\nabla x\|^2

    with :math:`\nabla` the forward differences along every spatial axis
    (no difference across the border, so
    :math:`\nabla^T\nabla = -\Delta` with Neumann boundaries).  Both work on
    a :class:`scipy.sparse.linalg.LinearOperator` whose ``matvec`` is the
    convolution and whose ``rmatvec`` is the transposed convolution
    (``output_size = in_size``, so the shapes match).  ``"lsqr"`` runs
    LSQR on ``[C; smoothness·∇]`` (the iteration of
    :func:`scipy.sparse.linalg.lsqr`, in the input dtype, with a callback);
    ``"cg"`` runs :func:`scipy.sparse.linalg.cg` on the normal equations
    :math:`(C^TC + \text{damp}^2 I + \text{smoothness}^2\nabla^T\nabla)x = C^Ty`.
    Without regularisation, stopping early (``iterations``) regularises.
    With ``stride > 1``, ``C`` has fewer rows than columns and only the
    regularisation picks a solution among the many that fit: this is
    super-resolution as an inverse problem.

    ``"wiener"`` solves the same kind of problem exactly in the Fourier
    domain, under a **periodic** boundary model: ``y`` is taken to be the
    circular correlation of a periodic ``x``,
    :math:`y[o] = \sum_t w[t]\, x[(o + t d - p_{begin}) \bmod M]` with
    ``M = out_size`` (or the padded size with ``boundary="reflect"``), and

    .. math::

        \hat X = \frac{\overline{H}\, Y}{|H|^2 + \text{balance}\,|\Lambda|^2}

    with :math:`H` the transfer function and :math:`\Lambda` that of the
    discrete Laplacian (scikit-image's default regulariser).  Several input
    channels per group are solved per frequency,
    :math:`(H^H H + \text{balance}|\Lambda|^2 I) X = H^H Y`.  Frequencies
    where the denominator vanishes (``balance=0``) are set to 0.

    ``"richardson_lucy"`` (non-negative ``y`` and ``weight``) iterates

    .. math::

        x \leftarrow x \odot \frac{C^T (y \oslash C x)}{C^T \mathbf 1}

    The correction step ``C^T(y / Cx)`` **is a transposed convolution**:
    the ratio of the data to the current prediction is mapped back to the
    input by ``conv_transpose`` with the same kernel, and ``C^T 1`` (the
    transposed convolution of ones) normalises it, which also corrects the
    borders.  ``Cx`` is floored at ``eps * max(y)`` before dividing (so
    ``y = 0`` gives a ratio of 0 where ``Cx = 0``); inputs no output sees
    (``Cᵀ1 = 0``) become 0.

    ``"transpose"`` returns ``C^T y`` (:func:`upconv.conv_transpose`): it
    has the shape of ``x`` but not its values, since :math:`C^TC \ne I`.

    Differences from scikit-image (``skimage.restoration``): its
    ``wiener`` and ``richardson_lucy`` take a PSF used with true
    convolution (``weight`` here is the flipped PSF, as in torch), clip the
    result to [-1, 1] by default (upconv never clips), and its
    ``richardson_lucy`` starts from 0.5, divides by ``Cx + 1e-12`` and does
    not normalise by ``Cᵀ1`` (it assumes a PSF summing to 1 and ignores the
    border loss).  ``wiener`` with ``boundary="periodic"`` equals
    ``skimage.restoration.wiener(..., clip=False)`` for odd kernels with
    ``padding="same"``.

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.array([[0.0, 1.0, 4.0, 2.0, 0.0, 3.0]])
    >>> w = np.array([[[1.0, 2.0, 1.0]]])
    >>> y = upconv.conv(x, w, padding=1)
    >>> np.round(upconv.deconvolve(y, w, padding=1), 6) + 0.0  # + 0.0 turns -0. into 0.
    array([[0., 1., 4., 2., 0., 3.]])
    >>> upconv.deconvolve(y, w, padding=1, method="transpose")
    array([[ 8., 24., 36., 32., 24., 17.]])
    >>> y2 = upconv.conv(x, w, stride=2)  # 6 -> 2 samples: many inputs fit
    >>> upconv.deconvolve(y2, w, stride=2, in_size=(6,)).shape
    (1, 6)
    """
    func = "deconvolve"
    method = v.choice(method, DECONVOLVE_METHODS, func, "method")
    engine = v.choice(engine, ENGINES, func, "engine")
    progress = v.boolean(progress, func, "progress")
    result_dtype, arrays = v.float_arrays(func, y=y, weight=weight, x0=x0)
    # float_arrays types its entries Optional: only x0 may be None
    ya, wa, x0a = cast("tuple[np.ndarray, np.ndarray, np.ndarray | None]", arrays)
    dtype = ya.dtype
    _refuse_unused(func, method, damp=damp, smoothness=smoothness, tol=tol, balance=balance, boundary=boundary,
                   iterations=iterations, x0=x0a, callback=callback, engine=engine)

    # validate: shapes, channels, the geometry of the convolution, the method's needs and settings
    yb, w, groups, unbatched = _arrays(func, ya, wa, x0a, groups)
    n = w.ndim - 2
    g = _geometry(func, yb.shape[2:], w.shape[2:], v.int_tuple(stride, n, func, "stride", minimum=1), padding,
                  dilation, in_size)
    N = yb.shape[0]
    x_shape = (N, w.shape[1] * groups) + g.in_size
    out_shape = x_shape[1:] if unbatched else x_shape
    v.check_allocation(x_shape, dtype, func, "the result")
    if x0a is not None:
        if x0a.shape != out_shape:
            raise ValueError(f"{func}: x0 must have the shape of the result, {out_shape}, got {x0a.shape}")
        x0a = x0a[None] if unbatched else x0a
    _check_method(func, method, engine, g, yb, w, x0a)
    if iterations is not None:
        iterations = v.integer(iterations, func, "iterations", minimum=1)
    else:  # 0 for the direct methods, which do not iterate
        iterations = _DEFAULT_ITERATIONS.get(method, 0)
    tol = _DEFAULT_TOL if tol is None else v.real(tol, func, "tol", minimum=0.0)
    damp = v.real(damp, func, "damp", minimum=0.0)
    smoothness = v.real(smoothness, func, "smoothness", minimum=0.0)
    if callback is not None and not callable(callback):
        raise TypeError(f"{func}: callback must be callable as callback(iteration, x), got {callback!r}")
    # Wiener's settings (the other methods refused them above: None, so the defaults)
    balance = _DEFAULT_BALANCE if balance is None else v.real(balance, func, "balance", minimum=0.0)
    boundary = v.choice("periodic" if boundary is None else boundary, ("periodic", "reflect"), func, "boundary")
    if N == 0:
        return np.empty(out_shape, dtype=result_dtype)

    # build the operator and solve
    if method == "transpose":
        x = UpconvOperator(w, g, groups).adjoint(yb)
    elif method == "wiener":
        x = wiener(yb, w, g, groups, balance, boundary)
    else:
        op = make_operator(engine, w, g, groups, N)
        monitor = Monitor(f"{func} {method}", iterations, out_shape, callback, progress)
        if method == "richardson_lucy":
            if x0a is None:  # the constant with the flux of y
                norm = op.adjoint(np.ones_like(yb))
                flux = yb.reshape(N, -1).sum(axis=1) / np.maximum(norm.reshape(N, -1).sum(axis=1),
                                                                 np.finfo(dtype).tiny)
                x0a = np.broadcast_to(flux.reshape((N,) + (1,) * (n + 1)), x_shape).astype(dtype)
            x, itn = richardson_lucy(op, yb, x0a.astype(dtype, copy=True), iterations, monitor)
        else:
            x, itn = least_squares(method, op, yb, x_shape, x0a, damp, smoothness, iterations, tol, monitor)
        monitor.close(itn)

    # the estimate, shaped and typed like the input
    x = np.asarray(x, dtype=dtype).reshape(x_shape)
    if unbatched:
        x = x[0]
    return x.astype(result_dtype, copy=False)
