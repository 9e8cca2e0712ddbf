r"""Every up-sampling method on one image, scored: the library half of ``upconv compare``.

:func:`compare_upsamplers` down-samples an image by an integer factor ``s``
(``s x s`` area averaging, the box filter, keeping the positions of the
``s x s`` maxima for max-unpooling), up-samples it back with each method of
:data:`UPSAMPLERS` and scores the result against the original with
:func:`upconv.metrics.psnr` and :func:`upconv.metrics.ssim`;
:func:`upconv.figures.studies.plot_comparison` draws the same crop of every
result side by side.

==========================  =================================================
method                      up-sampling of the ``s``-times smaller image
==========================  =================================================
``nearest``                 ``interpolate(mode="nearest")``
``nearest-exact``           ``interpolate(mode="nearest-exact")``
``bilinear``                ``interpolate(mode="bilinear")`` (half-pixel)
``bilinear-align-corners``  ``interpolate(mode="bilinear", align_corners=True)``
``bicubic``                 ``interpolate(mode="bicubic")`` (Keys, ``a = -0.75``)
``area``                    ``interpolate(mode="area")``
``unpool-nearest``          ``unpool(mode="nearest")``: each value fills its block
``bed_of_nails``            ``unpool(mode="bed_of_nails")``: first cell, zeros
``max-unpool``              ``max_unpool`` at the ``max_pool`` indices, zeros
``conv-transpose``          ``conv_transpose`` with FCN's bilinear kernel
``resize-conv``             ``resize_conv``: nearest, then a fixed smoothing conv
==========================  =================================================

Every method receives the same area-averaged image; max-unpooling also
receives the indices of the maxima of the original (the "switches" of
SegNet), which is side information the others do not get.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.explain.report import table
from upconv.images import samples
from upconv.nn.init import bilinear_kernel, bilinear_padding
from upconv.ops.convolution import conv_transpose
from upconv.ops.interpolation import interpolate
from upconv.ops.pooling import max_pool, max_unpool, unpool
from upconv.ops.resize_convolution import resize_conv
from upconv.restore.metrics import psnr, ssim

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["UPSAMPLERS", "UpsamplerScore", "UpsamplerComparison", "compare_upsamplers", "smoothing_kernel",
           "builtin_image"]

#: The up-samplers of :func:`compare_upsamplers`, in their canonical order, with a short note (the table's last column).
UPSAMPLERS: dict[str, str] = {
    "nearest": "floor(o / s)",
    "nearest-exact": "floor((o + 0.5) / s)",
    "bilinear": "half-pixel centres",
    "bilinear-align-corners": "corners aligned",
    "bicubic": "Keys, a = -0.75",
    "area": "footprint average",
    "unpool-nearest": "copy into the block",
    "bed_of_nails": "first cell, zeros",
    "max-unpool": "at max-pool argmax",
    "conv-transpose": "FCN bilinear kernel",
    "resize-conv": "nearest + box conv",
}


def smoothing_kernel(scale: int) -> np.ndarray:
    r"""The 1-d kernel of the ``resize-conv`` method: a box ``scale`` pixels wide, averaged over each pixel.

    ``f[t] = |[t - 1/2, t + 1/2] ∩ [-s/2, s/2]| / s`` for
    ``t = -(s // 2), ..., s // 2``: ``s`` taps of ``1/s`` for odd ``s``;
    ``s + 1`` taps, the two end ones halved, for even ``s``.  The length is
    odd, so ``"same"`` padding is symmetric.

    Parameters
    ----------
    scale : int
        The up-sampling factor ``s >= 1``.

    Returns
    -------
    f : (2 * (s // 2) + 1,) ndarray of float64
        Sums to 1.

    Notes
    -----
    Nearest up-sampling is zero insertion followed by ``box_s``, and
    ``box_s * f`` is the triangle of half-width ``s``: the FCN bilinear
    kernel (:func:`upconv.nn.init.bilinear_kernel`).  So nearest followed by
    this kernel (separably on every axis) *is* ``interpolate(mode="bilinear",
    align_corners=False)`` away from the borders, where the convolution's
    zero padding darkens it.

    Examples
    --------
    >>> from upconv.studies.compare import smoothing_kernel
    >>> smoothing_kernel(2)
    array([0.25, 0.5 , 0.25])
    >>> smoothing_kernel(3)
    array([0.33333333, 0.33333333, 0.33333333])
    """
    s = v.integer(scale, "smoothing_kernel", "scale", minimum=1)
    t = np.arange(-(s // 2), s // 2 + 1, dtype=np.float64)
    return np.clip(np.minimum(t + 0.5, s / 2) - np.maximum(t - 0.5, -s / 2), 0.0, None) / s


@dataclass(frozen=True)
class UpsamplerScore:
    """One row of an :class:`UpsamplerComparison`'s table.

    Attributes
    ----------
    method : str
        A key of :data:`UPSAMPLERS`.
    psnr : float
        Peak signal-to-noise ratio against the original, in dB (data range 1).
    ssim : float
        Mean structural similarity against the original (channels scored
        separately and averaged).
    seconds : float
        Fastest of the timed runs of the up-sampling alone.
    description : str
        A short note on the method (the value in :data:`UPSAMPLERS`).
    """

    method: str
    psnr: float
    ssim: float
    seconds: float
    description: str


_HEADERS = ("rank", "method", "PSNR dB", "SSIM", "time ms", "note")


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


@dataclass(frozen=True, eq=False)
class UpsamplerComparison:
    """What :func:`compare_upsamplers` returns.

    Attributes
    ----------
    reference : (H, W) or (C, H, W) ndarray
        The original, trimmed to a multiple of ``scale``: what every method
        is scored against.
    low : (H / s, W / s) or (C, H / s, W / s) ndarray
        The area-averaged (box-filtered) image every method up-samples.
    scale : int
        The factor ``s``.
    outputs : dict of str to ndarray
        The up-sampled image of each method, reference's shape, clipped to
        ``[0, 1]`` (as an image file would store it), in :data:`UPSAMPLERS` order.
    scores : tuple of UpsamplerScore
        Best first (highest PSNR; ties in :data:`UPSAMPLERS` order).

    The ``table`` property is the table as text; :meth:`table_lines` gives
    its lines, optionally styled (the CLI colours them).
    """

    reference: np.ndarray
    low: np.ndarray
    scale: int
    outputs: dict[str, np.ndarray] = field(repr=False)
    scores: tuple[UpsamplerScore, ...]

    @property
    def best(self) -> str:
        """The method with the highest PSNR."""
        return self.scores[0].method

    def score(self, method: str) -> UpsamplerScore:
        """The row of ``method``."""
        by_method = {s.method: s for s in self.scores}
        return by_method[v.choice(method, tuple(by_method), "UpsamplerComparison.score", "method")]

    def table_lines(self, style: Callable[[str, str, int], str] | None = None) -> list[str]:
        """Lines of the aligned table: header, rule, one row per method, best first.

        ``style(text, column, row)`` may decorate each padded cell (``row``
        is 0 for the best method; the header and rule are not styled), for
        example with ANSI colours, without breaking the alignment.
        """
        cells = [
            (str(i + 1), s.method, f"{s.psnr:.2f}" if np.isfinite(s.psnr) else "inf", f"{s.ssim:.4f}",
             _ms(s.seconds), s.description)
            for i, s in enumerate(self.scores)
        ]
        decorate = None if style is None else (lambda text, i, j: style(text, _HEADERS[j], i))
        return table(_HEADERS, cells, align="><>>><", style=decorate)

    @property
    def table(self) -> str:
        """The table as text (see :meth:`table_lines`)."""
        return "\n".join(self.table_lines())


def _as_image(image: npt.ArrayLike, func: str) -> npt.NDArray[np.float64]:
    a = np.asarray(image)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{func}: image must be a real numeric array, got dtype {a.dtype}")
    if a.ndim not in (2, 3):
        raise ValueError(f"{func}: image must have shape (H, W) or (C, H, W), got shape {a.shape}")
    a = np.array(a, dtype=np.float64)  # a copy: the caller's array is never modified
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{func}: image must be finite (no NaN or infinity)")
    return a


def _runners(scale: int, channels: int, low_size: tuple[int, ...], out_size: tuple[int, ...],
             indices: np.ndarray) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """``method -> f(low)`` with ``low`` of shape ``(1, C, *low_size)``."""
    s = scale
    k_ct = bilinear_kernel(s, 2)
    w_ct = np.ascontiguousarray(np.broadcast_to(k_ct, (channels, 1) + k_ct.shape))
    p_ct = bilinear_padding(s)
    a_ct = shapes.conv_transpose_output_padding(out_size, low_size, k_ct.shape, s, p_ct)
    f = smoothing_kernel(s)
    k_rc = np.multiply.outer(f, f)
    w_rc = np.ascontiguousarray(np.broadcast_to(k_rc, (channels, 1) + k_rc.shape))

    def interp(mode: str, **kw: Any) -> Callable[[np.ndarray], np.ndarray]:
        return lambda x: interpolate(x, size=out_size, mode=mode, **kw)

    return {
        "nearest": interp("nearest"),
        "nearest-exact": interp("nearest-exact"),
        "bilinear": interp("bilinear", align_corners=False),
        "bilinear-align-corners": interp("bilinear", align_corners=True),
        "bicubic": interp("bicubic", align_corners=False),
        "area": interp("area"),
        "unpool-nearest": lambda x: unpool(x, (s, s), mode="nearest"),
        "bed_of_nails": lambda x: unpool(x, (s, s), mode="bed_of_nails"),
        "max-unpool": lambda x: max_unpool(x, indices, (s, s), output_size=out_size),
        "conv-transpose": lambda x: conv_transpose(
            x, w_ct, stride=s, padding=p_ct, output_padding=a_ct, groups=channels),
        "resize-conv": lambda x: resize_conv(x, w_rc, scale_factor=s, mode="nearest", groups=channels),
    }


def compare_upsamplers(
    image: npt.ArrayLike,
    scale: int = 4,
    *,
    methods: Sequence[str] | None = None,
    repeat: int = 3,
    progress: Callable[[str, int, int], object] | None = None,
) -> UpsamplerComparison:
    r"""Down-sample ``image`` by ``scale``, up-sample it back with every method, and score each result.

    Parameters
    ----------
    image : (H, W) or (C, H, W) array_like
        Gray or channel-first image with values in ``[0, 1]`` (as
        :func:`upconv.read_image` and :mod:`upconv.data` return), at least
        ``scale`` pixels and, for SSIM, 7 pixels along each axis after
        trimming.  Not modified.
    scale : int, optional
        Integer factor ``s >= 2`` (default 4).
    methods : sequence of str, optional
        Keys of :data:`UPSAMPLERS` to run (default: all), in any order.
    repeat : int, optional
        Timed runs per method (default 3) after one untimed warm-up run (the
        first call loads the kernels and allocates scratch); the fastest is reported.
    progress : callable, optional
        ``progress(method, i, n)`` before the ``i``-th of ``n`` methods runs
        (the CLI's progress line).

    Returns
    -------
    UpsamplerComparison
        The trimmed original, the down-sampled image, every method's output
        and the scores, best first; ``.table`` is the table as text.

    Raises
    ------
    TypeError
        If ``image`` is not numeric, or ``scale``/``repeat`` not integers.
    ValueError
        If ``image`` is not 2-d or 3-d, holds NaN or infinity, is smaller
        than ``scale`` (or than 7 pixels after trimming); if ``scale < 2``;
        if ``methods`` is empty or names an unknown method (the message lists
        the allowed ones).
    MemoryError
        If the outputs would exceed :func:`upconv.get_memory_limit`.

    Notes
    -----
    With ``H' = s * floor(H / s)`` (the trailing rows and columns that do not
    fill an ``s x s`` block are dropped, as pooling does;
    :func:`upconv.shapes.pool_output_size` and
    :func:`upconv.shapes.unpool_output_size`):

    .. math::

        x_{low}[i, j] = \frac{1}{s^2} \sum_{a, b < s} x[s i + a, s j + b],

    and the indices of ``max_pool(x, s)`` go to ``max_unpool``, which puts
    each *average* at the position of its block's maximum.  Only integer
    factors are used, so every method (unpooling included) lands exactly on
    ``H' x W'``.  The transposed convolution uses FCN's bilinear kernel
    (``k = 2s - s % 2`` taps, :func:`upconv.nn.init.bilinear_kernel`) with
    padding ``s // 2`` and the ``output_padding`` from
    :func:`upconv.shapes.conv_transpose_output_padding`; resize-conv is
    nearest up-sampling followed by :func:`smoothing_kernel` with "same"
    zero padding.  Both equal bilinear interpolation away from the borders
    and fall off towards zero in the outermost rows and columns, where the
    kernel reaches into the zero padding.

    Outputs are clipped to ``[0, 1]`` before scoring (bicubic overshoots);
    PSNR and SSIM use a data range of 1, SSIM scores each channel and
    averages (``channel_axis=0``).

    Nearest up-sampling of the block means is the best piecewise-constant
    estimate in the least-squares sense.  Where most of an image's energy
    lies above the Nyquist limit of the small image (the full
    :func:`upconv.data.zone_plate`, the Siemens star, the text chart), no
    method recovers it and the blocky methods score the highest PSNR; the
    smooth methods (bicubic first) win on photographs and on band-limited
    content, as in the example.

    Examples
    --------
    The centre of a large zone plate, whose frequencies stay below the
    Nyquist limit of the 4-times smaller image:

    >>> from upconv import data
    >>> from upconv import compare_upsamplers
    >>> z = data.zone_plate(512)[224:288, 224:288]
    >>> r = compare_upsamplers(z, 4, repeat=1)
    >>> r.reference.shape, r.low.shape
    ((64, 64), (16, 16))
    >>> r.score("bicubic").psnr > r.score("nearest").psnr
    True
    >>> print(r.table.splitlines()[0])
    rank  method                  PSNR dB    SSIM  time ms  note
    """
    func = "compare_upsamplers"
    x = _as_image(image, func)
    s = v.integer(scale, func, "scale", minimum=2)
    repeat = v.integer(repeat, func, "repeat", minimum=1)
    if methods is None:
        chosen = list(UPSAMPLERS)
    else:
        if isinstance(methods, (str, bytes)) or not isinstance(methods, (Sequence, np.ndarray)):
            raise TypeError(f"{func}: methods must be a sequence of method names, got {methods!r}")
        names = [v.choice(m, tuple(UPSAMPLERS), func, "methods") for m in methods]
        if not names:
            raise ValueError(f"{func}: methods must name at least one of {', '.join(UPSAMPLERS)}, got {methods!r}")
        chosen = [m for m in UPSAMPLERS if m in names]
    planes = x if x.ndim == 3 else x[None]
    in_size = planes.shape[1:]
    if min(in_size) < s:
        raise ValueError(f"{func}: image of spatial size {in_size} is smaller than scale={s} along an axis")
    low_size = shapes.pool_output_size(in_size, s)
    size = shapes.unpool_output_size(low_size, s)
    if min(size) < 7:
        raise ValueError(
            f"{func}: image of spatial size {in_size} trimmed to {size} (a multiple of scale={s}) is too small "
            "for SSIM's 7 x 7 window; every axis must be at least 7 pixels"
        )
    c = planes.shape[0]
    v.check_allocation((len(chosen) + 2, c) + size, np.float64, func, "the up-sampled images")
    ref = np.ascontiguousarray(planes[:, : size[0], : size[1]])[None]
    low = interpolate(ref, size=low_size, mode="area")
    _, indices = max_pool(ref, s, return_indices=True)
    runners = _runners(s, c, low_size, size, indices)
    outputs: dict[str, np.ndarray] = {}
    rows = []
    for i, method in enumerate(chosen, 1):
        if progress is not None:
            progress(method, i, len(chosen))
        run = runners[method]
        y = run(low)  # warm-up (and the output)
        best = np.inf
        for _ in range(repeat):
            t = time.perf_counter()
            run(low)
            best = min(best, time.perf_counter() - t)
        y = np.clip(y[0], 0.0, 1.0)
        out = y if x.ndim == 3 else y[0]
        outputs[method] = out
        p = float(psnr(ref[0], y, data_range=1.0))
        q = float(cast("float", ssim(ref[0], y, data_range=1.0, channel_axis=0)))  # a float without full=True
        rows.append(UpsamplerScore(method, p, q, float(best), UPSAMPLERS[method]))
    order = {m: i for i, m in enumerate(UPSAMPLERS)}
    rows.sort(key=lambda r: (-r.psnr, order[r.method]))
    reference = ref[0] if x.ndim == 3 else ref[0, 0]
    low_out = low[0] if x.ndim == 3 else low[0, 0]
    return UpsamplerComparison(reference, low_out, s, outputs, tuple(rows))


def builtin_image(name: str, size: int | None = None) -> np.ndarray:
    """A built-in image of :mod:`upconv.data`, ``size`` pixels square (default: its own size).

    The charts are drawn at ``size``; the photograph is resampled
    (antialiased bilinear interpolation).

    Examples
    --------
    >>> from upconv.studies.compare import builtin_image
    >>> builtin_image("astronaut_gray", 64).shape, builtin_image("zone_plate", 32).shape
    ((64, 64), (32, 32))
    """
    if name in ("astronaut", "astronaut_gray"):
        img = samples.load(name)
        if size is not None and size != img.shape[-1]:
            planes = img[None] if img.ndim == 2 else img
            planes = interpolate(planes[None], size=(size, size), mode="bilinear", antialias=True)[0]
            img = np.clip(planes if img.ndim == 3 else planes[0], 0.0, 1.0)
        return img
    return samples.load(name) if size is None else samples.load(name, size=size)
