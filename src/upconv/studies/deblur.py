"""Deblurring an image every way: the library half of ``upconv deconvolve``.

Every channel of an image is taken to be blurred by the same 2-d kernel
(a ``(C, 1, *kernel)`` weight with ``groups=C``, :func:`channel_weight`) and,
with ``stride > 1``, subsampled with ONNX ``SAME_UPPER`` padding
(:func:`observation_geometry`).  :func:`deblur_image` restores one image
with one method of :func:`upconv.deconvolve`; :func:`deblur_study` blurs the
built-in photograph, adds noise, restores it with every method and scores
each result with PSNR and SSIM (the ``transpose`` row is ``Cᵀy``: it
restores the shape, not the image); :func:`upconv.figures.studies.plot_deblur`
draws it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.explain.report import table
from upconv.images import samples
from upconv.ops.convolution import conv
from upconv.ops.interpolation import interpolate
from upconv.restore.deconvolution import DECONVOLVE_METHODS, deconvolve, options_for
from upconv.restore.metrics import psnr, ssim

__all__ = ["STRIDE1_ONLY", "DEMO_SOURCE", "channel_weight", "observation_geometry", "deblur_image",
           "demo_image", "Restoration", "DeblurStudy", "restore_all", "deblur_study"]

#: Methods restricted to stride 1 (skipped in a strided study).
STRIDE1_ONLY = ("wiener", "richardson_lucy")
#: Where the study's image comes from.
DEMO_SOURCE = "upconv.data.photograph(gray=True)"


def channel_weight(kernel: np.ndarray, channels: int) -> np.ndarray:
    """One kernel applied to every channel alike: ``(C, 1, *kernel.shape)``, for ``groups=C``."""
    return np.ascontiguousarray(np.broadcast_to(kernel, (channels, 1) + kernel.shape))


def observation_geometry(out_size: Sequence[int], kernel_shape: Sequence[int],
                         stride: int) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Input size and padding of the convolution that produced ``out_size``.

    The image ``stride`` times larger (``out * s``, as nearest unpooling),
    with ONNX ``SAME_UPPER`` padding (``out = ceil(in / s)``).

    Examples
    --------
    >>> from upconv.studies.deblur import observation_geometry
    >>> observation_geometry((10, 12), (3, 3), 2)
    ((20, 24), ((0, 1), (0, 1)))
    """
    in_size = shapes.unpool_output_size(tuple(out_size), stride)
    return in_size, shapes.same_padding(in_size, tuple(kernel_shape), stride)


def deblur_image(y: np.ndarray, kernel: np.ndarray, *, stride: int = 1, method: str = "richardson_lucy",
                 progress: bool = False, **options: Any) -> np.ndarray:
    """Restore an ``(H, W)`` or ``(C, H, W)`` image whose every channel was blurred by ``kernel`` (and subsampled).

    ``options`` are :func:`upconv.deconvolve`'s; those that ``method`` does
    not use are left out (:func:`upconv.restore.deconvolution.options_for`).
    The result is ``stride`` times larger than ``y``, same number of axes.
    """
    planes = y[None] if y.ndim == 2 else y
    in_size, padding = observation_geometry(planes.shape[1:], kernel.shape, stride)
    x = deconvolve(planes, channel_weight(kernel, planes.shape[0]), stride=stride, padding=padding,
                   groups=planes.shape[0], in_size=in_size, method=method, progress=progress,
                   **options_for(method, **options))
    return x[0] if y.ndim == 2 else x


def demo_image(size: int) -> np.ndarray:
    """The built-in photograph (:func:`upconv.data.photograph`), gray, ``size`` x ``size`` in [0, 1].

    Area averaging when shrinking, bilinear interpolation when enlarging (the
    photograph is 256 x 256, so ``size=256`` takes it as it is).
    """
    size = v.integer(size, "demo_image", "size", minimum=1)
    image = samples.photograph(gray=True)
    if image.shape != (size, size):
        mode = "area" if min(image.shape) > size else "bilinear"
        image = interpolate(image[None, None], size=(size, size), mode=mode)[0, 0]
    return np.clip(image, 0, 1)


@dataclass(frozen=True, eq=False)
class Restoration:
    """One row of a :class:`DeblurStudy`: a method's estimate (None when skipped), scores, time and a note."""

    method: str
    estimate: np.ndarray | None
    seconds: float | None
    note: str
    psnr: float | None = None
    ssim: float | None = None


def restore_all(y: np.ndarray, kernel: np.ndarray, *, stride: int, in_size: Sequence[int], padding: Any,
                methods: Sequence[str] = DECONVOLVE_METHODS, progress: bool = False,
                **options: Any) -> list[Restoration]:
    """Restore ``y`` (``(C, *out)``) with each method, timed; methods that need stride 1 are skipped when strided."""
    import scipy.fft
    import scipy.ndimage
    import scipy.sparse.linalg  # noqa: F401  (imported once here, not inside the first method's time)

    w = channel_weight(kernel, y.shape[0])
    common = dict(stride=stride, padding=padding, groups=y.shape[0], in_size=tuple(in_size))
    # warm up: the first transposed convolution loads the kernels and allocates scratch; not the method's cost
    deconvolve(y, w, method="transpose", **common)
    results = []
    for method in methods:
        if stride > 1 and method in STRIDE1_ONLY:
            results.append(Restoration(method, None, None, "stride 1 only"))
            continue
        data, note = y, ""
        if method == "richardson_lucy" and y.min() < 0:
            data, note = np.clip(y, 0, None), "negative noise clipped to 0"
        if method == "transpose":
            note = "C^T y: right shape, wrong values"
        t = time.perf_counter()
        x = deconvolve(data, w, method=method, progress=progress, **common, **options_for(method, **options))
        results.append(Restoration(method, x, time.perf_counter() - t, note))
    return results


@dataclass(frozen=True, eq=False)
class DeblurStudy:
    """What :func:`deblur_study` returns.

    Attributes
    ----------
    original : (H, W) ndarray
        The image ``x``.
    observed : (H', W') ndarray
        ``y``: ``x`` blurred (and subsampled), plus noise.
    kernel : ndarray
        The blur kernel.
    stride, noise : int, float
        The subsampling and the noise's standard deviation.
    rows : tuple of Restoration
        The baseline first (``y`` itself, or its bilinear up-sampling when
        strided), then every method, scored against ``original``; the
        estimates are ``(1, H, W)``.
    """

    original: np.ndarray
    observed: np.ndarray
    kernel: np.ndarray
    stride: int
    noise: float
    rows: tuple[Restoration, ...]

    def score(self, method: str) -> Restoration:
        """The row of ``method`` (or of the baseline, by its name)."""
        by_method = {r.method: r for r in self.rows}
        return by_method[v.choice(method, tuple(by_method), "DeblurStudy.score", "method")]

    def table_lines(self) -> list[str]:
        """Lines of the aligned table: method, PSNR dB, SSIM, time ms, note."""
        cells = []
        for r in self.rows:
            if r.psnr is None:
                cells.append((r.method, "-", "-", "-", r.note))
            else:
                ms = "" if r.seconds is None else f"{r.seconds * 1e3:.0f}"
                cells.append((r.method, f"{r.psnr:.2f}", f"{r.ssim:.3f}", ms, r.note))
        return table(("method", "PSNR dB", "SSIM", "time ms", "note"), cells, align="<>>><")


def deblur_study(kernel: np.ndarray, *, size: int = 256, stride: int = 1, noise: float = 0.01, seed: int = 0,
                 methods: Sequence[str] = DECONVOLVE_METHODS, progress: bool = False,
                 **options: Any) -> DeblurStudy:
    """Blur (and subsample) the built-in photograph, add noise, restore it with every method and score each.

    Parameters
    ----------
    kernel : 2-d ndarray
        The blur kernel (:func:`upconv.blur_kernel`).
    size : int, optional
        Side of the image (:func:`demo_image`).
    stride : int, optional
        Subsampling of the observation (``"same"`` padding, ONNX SAME_UPPER).
    noise : float, optional
        Standard deviation of the Gaussian noise added, from ``seed``.
    methods : sequence of str, optional
        Methods of :func:`upconv.deconvolve` to run.
    progress : bool, optional
        Progress bars on stderr.
    **options
        :func:`upconv.deconvolve`'s options, each given to the methods that use it.

    Returns
    -------
    DeblurStudy

    Examples
    --------
    >>> from upconv.restore.blur import blur_kernel
    >>> from upconv.studies.deblur import deblur_study
    >>> r = deblur_study(blur_kernel("box:3"), size=16, noise=0.0, methods=("lsqr", "transpose"), iterations=20)
    >>> [row.method for row in r.rows]
    ['degraded input y', 'lsqr', 'transpose']
    >>> r.score("lsqr").psnr > r.score("transpose").psnr
    True
    """
    func = "deblur_study"
    stride = v.integer(stride, func, "stride", minimum=1)
    noise = v.real(noise, func, "noise", minimum=0.0)
    x = demo_image(size)
    padding = shapes.same_padding(x.shape, kernel.shape, stride)
    y = conv(x[None], kernel[None, None], stride=stride, padding=padding)
    y = y + noise * np.random.default_rng(v.integer(seed, func, "seed", minimum=0)).standard_normal(y.shape)
    results = restore_all(y, kernel, stride=stride, in_size=x.shape, padding=padding, methods=methods,
                          progress=progress, **options)
    if stride == 1:
        baseline, label = y[0], "degraded input y"
    else:
        baseline = interpolate(y[None], size=x.shape, mode="bilinear", align_corners=True)[0, 0]
        label = "y, bilinear upsampling"
    # ssim is a float without full=True
    rows = [Restoration(label, baseline[None], None, "baseline", psnr(x, baseline, data_range=1),
                        cast("float", ssim(x, baseline, data_range=1)))]
    for r in results:
        if r.estimate is None:
            rows.append(r)
        else:
            rows.append(Restoration(r.method, r.estimate, r.seconds, r.note, psnr(x, r.estimate[0], data_range=1),
                                    cast("float", ssim(x, r.estimate[0], data_range=1))))
    return DeblurStudy(x, y[0], kernel, stride, noise, tuple(rows))
