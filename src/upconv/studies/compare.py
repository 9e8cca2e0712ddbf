r"""Every up-sampling method on one image, scored: the library half of ``upconv compare``.

:func:`compare_upsamplers` down-samples an image by an integer factor ``s``
(``s x s`` area averaging, the box filter, keeping the positions of the
``s x s`` maxima for max-unpooling), up-samples it back with each method of
:data:`METHODS` and scores the result against the original with
:func:`upconv.metrics.psnr` and :func:`upconv.metrics.ssim`;
:func:`plot_comparison` draws the same crop of every result side by side.

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
``bed-of-nails``            ``unpool(mode="bed_of_nails")``: first cell, zeros
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
from typing import Any

import numpy as np

from upconv import _validate as v
from upconv import shapes

__all__ = ["METHODS", "UpsamplerScore", "UpsamplerComparison", "compare_upsamplers", "plot_comparison",
           "default_crop", "smoothing_kernel"]

#: The methods of :func:`compare_upsamplers`, in their canonical order, with a short note (the table's last column).
METHODS: dict[str, str] = {
    "nearest": "floor(o / s)",
    "nearest-exact": "floor((o + 0.5) / s)",
    "bilinear": "half-pixel centres",
    "bilinear-align-corners": "corners aligned",
    "bicubic": "Keys, a = -0.75",
    "area": "footprint average",
    "unpool-nearest": "copy into the block",
    "bed-of-nails": "first cell, zeros",
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
        A key of :data:`METHODS`.
    psnr : float
        Peak signal-to-noise ratio against the original, in dB (data range 1).
    ssim : float
        Mean structural similarity against the original (channels scored
        separately and averaged).
    seconds : float
        Fastest of the timed runs of the up-sampling alone.
    description : str
        A short note on the method (the value in :data:`METHODS`).
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
        ``[0, 1]`` (as an image file would store it), in :data:`METHODS` order.
    scores : tuple of UpsamplerScore
        Best first (highest PSNR; ties in :data:`METHODS` order).

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
        for s in self.scores:
            if s.method == method:
                return s
        listed = ", ".join(repr(s.method) for s in self.scores)
        raise ValueError(f"UpsamplerComparison.score: method must be one of {listed}, got {method!r}")

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
        widths = [max([len(h)] + [len(r[j]) for r in cells]) for j, h in enumerate(_HEADERS)]
        left = {1, 5}

        def line(row: Sequence[str], index: int | None) -> str:
            parts = []
            for j, (text, w) in enumerate(zip(row, widths)):
                last = j == len(widths) - 1
                padded = text if last else text.ljust(w) if j in left else text.rjust(w)
                if style is not None and index is not None:
                    padded = style(padded, _HEADERS[j], index)
                parts.append(padded)
            return "  ".join(parts).rstrip()

        out = [line(_HEADERS, None), "  ".join("-" * w for w in widths)]
        out += [line(r, i) for i, r in enumerate(cells)]
        return out

    @property
    def table(self) -> str:
        """The table as text (see :meth:`table_lines`)."""
        return "\n".join(self.table_lines())


def _as_image(image: Any, func: str) -> np.ndarray:
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
    import upconv
    from upconv.nn.init import bilinear_kernel, bilinear_padding
    from upconv.ops.resize_convolution import resize_conv

    s = scale
    k_ct = bilinear_kernel(s, 2)
    w_ct = np.ascontiguousarray(np.broadcast_to(k_ct, (channels, 1) + k_ct.shape))
    p_ct = bilinear_padding(s)
    a_ct = shapes.conv_transpose_output_padding(out_size, low_size, k_ct.shape, s, p_ct)
    f = smoothing_kernel(s)
    k_rc = np.multiply.outer(f, f)
    w_rc = np.ascontiguousarray(np.broadcast_to(k_rc, (channels, 1) + k_rc.shape))

    def interp(mode: str, **kw: Any) -> Callable[[np.ndarray], np.ndarray]:
        return lambda x: upconv.interpolate(x, size=out_size, mode=mode, **kw)

    return {
        "nearest": interp("nearest"),
        "nearest-exact": interp("nearest-exact"),
        "bilinear": interp("bilinear", align_corners=False),
        "bilinear-align-corners": interp("bilinear", align_corners=True),
        "bicubic": interp("bicubic", align_corners=False),
        "area": interp("area"),
        "unpool-nearest": lambda x: upconv.unpool(x, (s, s), mode="nearest"),
        "bed-of-nails": lambda x: upconv.unpool(x, (s, s), mode="bed_of_nails"),
        "max-unpool": lambda x: upconv.max_unpool(x, indices, (s, s), output_size=out_size),
        "conv-transpose": lambda x: upconv.conv_transpose(
            x, w_ct, stride=s, padding=p_ct, output_padding=a_ct, groups=channels),
        "resize-conv": lambda x: resize_conv(x, w_rc, scale_factor=s, mode="nearest", groups=channels),
    }


def compare_upsamplers(
    image: Any,
    scale: int = 4,
    *,
    methods: Sequence[str] | None = None,
    repeat: int = 3,
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
        Keys of :data:`METHODS` to run (default: all), in any order.
    repeat : int, optional
        Timed runs per method (default 3) after one untimed warm-up run (the
        first call of some kernels compiles them); the fastest is reported.

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
        chosen = list(METHODS)
    else:
        if isinstance(methods, (str, bytes)) or not isinstance(methods, (Sequence, np.ndarray)):
            raise TypeError(f"{func}: methods must be a sequence of method names, got {methods!r}")
        names = [v.choice(m, tuple(METHODS), func, "methods") for m in methods]
        if not names:
            raise ValueError(f"{func}: methods must name at least one of {', '.join(METHODS)}, got {methods!r}")
        chosen = [m for m in METHODS if m in names]
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
    import upconv
    from upconv.restore.metrics import psnr, ssim

    ref = np.ascontiguousarray(planes[:, : size[0], : size[1]])[None]
    low = upconv.interpolate(ref, size=low_size, mode="area")
    _, indices = upconv.max_pool(ref, s, return_indices=True)
    runners = _runners(s, c, low_size, size, indices)
    outputs: dict[str, np.ndarray] = {}
    rows = []
    for method in chosen:
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
        q = float(ssim(ref[0], y, data_range=1.0, channel_axis=0))
        rows.append(UpsamplerScore(method, p, q, float(best), METHODS[method]))
    order = {m: i for i, m in enumerate(METHODS)}
    rows.sort(key=lambda r: (-r.psnr, order[r.method]))
    reference = ref[0] if x.ndim == 3 else ref[0, 0]
    low_out = low[0] if x.ndim == 3 else low[0, 0]
    return UpsamplerComparison(reference, low_out, s, outputs, tuple(rows))


def default_crop(size: Sequence[int]) -> tuple[int, int, int, int]:
    """The crop :func:`plot_comparison` shows by default: the central half, ``(x, y, width, height)``.

    A square of side ``max(min(H, W) // 2, 1)`` centred in the image: on the
    zone plate it spans frequencies from zero to half the Nyquist limit, so
    it holds both the clean centre and the onset of aliasing.

    Examples
    --------
    >>> from upconv.studies.compare import default_crop
    >>> default_crop((256, 256))
    (64, 64, 128, 128)
    >>> default_crop((100, 60))
    (15, 35, 30, 30)
    """
    h, w = v.int_tuple(tuple(size), 2, "default_crop", "size", minimum=1)
    side = max(min(h, w) // 2, 1)
    return (w - side) // 2, (h - side) // 2, side, side


def _check_crop(crop: Any, size: tuple[int, int], func: str) -> tuple[int, int, int, int]:
    x0, y0, cw, ch = v.int_tuple(crop, 4, func, "crop")
    h, w = size
    if cw < 1 or ch < 1 or x0 < 0 or y0 < 0 or x0 + cw > w or y0 + ch > h:
        raise ValueError(
            f"{func}: crop (x, y, width, height) must lie inside the {w} x {h} (width x height) image with "
            f"width, height >= 1, got {crop!r}"
        )
    return x0, y0, cw, ch


def _display(img: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """An ``imshow`` array (``(H, W)`` gray or ``(H, W, 3)``) and its options."""
    if img.ndim == 2:
        return img, {"cmap": "gray", "vmin": 0.0, "vmax": 1.0}
    if img.shape[0] == 1:
        return img[0], {"cmap": "gray", "vmin": 0.0, "vmax": 1.0}
    rgb = np.moveaxis(img[:3] if img.shape[0] >= 3 else np.repeat(img[:1], 3, axis=0), 0, -1)
    return np.clip(rgb, 0.0, 1.0), {}


def plot_comparison(
    result: UpsamplerComparison,
    path: Any = None,
    *,
    crop: Sequence[int] | None = None,
    columns: int = 7,
) -> Any:
    """One figure with the same crop of the original, the input and every method's output, side by side.

    Parameters
    ----------
    result : UpsamplerComparison
        What :func:`compare_upsamplers` returned.
    path : str or os.PathLike, optional
        Write the figure there (``.png``, ``.svg`` or ``.pdf``), without
        run-dependent metadata: the same result gives the same bytes.
    crop : (x, y, width, height) ints, optional
        Region of the reference image (default :func:`default_crop`); the
        input panel shows the matching ``1/s`` region of the down-sampled
        image.
    columns : int, optional
        Panels per row (default 7).

    Returns
    -------
    matplotlib.figure.Figure
        Panels in table order (best first), each titled with PSNR and SSIM.

    Raises
    ------
    ValueError
        If ``crop`` does not lie inside the image, or ``path`` has another
        extension.

    Examples
    --------
    >>> from upconv import data
    >>> from upconv.studies.compare import compare_upsamplers, plot_comparison
    >>> r = compare_upsamplers(data.zone_plate(32), 2, methods=["nearest", "bicubic"], repeat=1)
    >>> len(plot_comparison(r).axes)
    4
    """
    from upconv import figures

    func = "plot_comparison"
    if not isinstance(result, UpsamplerComparison):
        raise TypeError(f"{func}: result must be an UpsamplerComparison, got {type(result).__name__}")
    path = figures.style.check_path(path, func)
    columns = v.integer(columns, func, "columns", minimum=1)
    size = result.reference.shape[-2:]
    x0, y0, cw, ch = default_crop(size) if crop is None else _check_crop(crop, size, func)
    s = result.scale
    lx0, ly0 = x0 // s, y0 // s
    lx1, ly1 = max(-(-(x0 + cw) // s), lx0 + 1), max(-(-(y0 + ch) // s), ly0 + 1)

    def region(img: np.ndarray, a: int, b: int, c: int, d: int) -> np.ndarray:
        return img[..., b:d, a:c]

    panels = [("original", region(result.reference, x0, y0, x0 + cw, y0 + ch), None),
              (f"input (1/{s}, area)", region(result.low, lx0, ly0, lx1, ly1), None)]
    for sc in result.scores:
        panels.append((sc.method, region(result.outputs[sc.method], x0, y0, x0 + cw, y0 + ch), sc))
    cols = min(columns, len(panels))
    rows = -(-len(panels) // cols)
    side = 1.9
    with figures.style.matplotlib_style():
        fig = figures.style.figure(side * cols, (side + 0.45) * rows)
        axes = fig.subplots(rows, cols, squeeze=False)
        for ax in axes.ravel():
            ax.set_axis_off()
        for ax, (title, img, sc) in zip(axes.ravel(), panels):
            data, opts = _display(np.asarray(img))
            ax.imshow(data, interpolation="nearest", **opts)
            if sc is not None:
                title = f"{title}\n{sc.psnr:.2f} dB, SSIM {sc.ssim:.3f}"
            else:
                title = f"{title}\n "
            ax.set_title(title, fontsize=7.5)
        fig.suptitle(f"x{s} up-sampling, crop x={x0} y={y0} {cw}×{ch} of {size[1]}×{size[0]}")
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.55 / ((side + 0.45) * rows),
                            wspace=0.05, hspace=0.3)
    figures.style.save(fig, path)
    return fig
