"""Image-quality metrics: PSNR and SSIM, with scikit-image's conventions.

Both functions are small re-implementations of
``skimage.metrics.peak_signal_noise_ratio`` and
``skimage.metrics.structural_similarity`` (same defaults, same values to
rounding; ``tests/test_metrics.py`` compares them when scikit-image is
installed), so that upconv does not depend on scikit-image.  They work on
arrays of any dimension; SSIM's local statistics use :mod:`scipy.ndimage`
filters, imported when first called.

Why not depend on scikit-image?  Two functions of a few lines each do not
justify a dependency of that size, and the conventions that matter (the
``data_range`` rule, the window, the border crop, sample covariance) are
stated here once and pinned by tests against scikit-image itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v
from upconv.ops.arrays import array_function

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["psnr", "ssim"]


def _float_type(*dtypes: np.dtype[Any]) -> np.dtype[Any]:
    """scikit-image's ``_supported_float_type``: float16/float32 -> float32, anything else -> float64."""
    return np.result_type(*(np.float32 if d in (np.float16, np.float32) else np.float64 for d in dtypes))


def _pair(func: str, reference: npt.ArrayLike, estimate: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    ref, est = np.asarray(reference), np.asarray(estimate)
    for name, a in (("reference", ref), ("estimate", est)):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{func}: {name} must be a real numeric array, got dtype {a.dtype}")
    if ref.shape != est.shape:
        raise ValueError(
            f"{func}: reference and estimate must have the same shape, got {ref.shape} and {est.shape}"
        )
    if ref.size == 0:
        raise ValueError(f"{func}: reference and estimate must not be empty, got shape {ref.shape}")
    return ref, est


def _data_range(func: str, ref: np.ndarray, data_range: float | None) -> float:
    """The peak-to-peak range ``R``: given, or from ``reference``'s dtype as scikit-image's PSNR does."""
    if data_range is not None:
        return v.float_tuple(data_range, 1, func, "data_range", positive=True)[0]
    if ref.dtype.kind == "b":
        lo, hi = 0, 1
    elif ref.dtype.kind in "iu":
        info = np.iinfo(ref.dtype)
        lo, hi = int(info.min), int(info.max)
    else:
        lo, hi = -1, 1
    rmin, rmax = ref.min(), ref.max()
    if rmin < lo or rmax > hi:
        raise ValueError(
            f"{func}: reference has values in [{rmin}, {rmax}], outside the range [{lo}, {hi}] assumed "
            f"for dtype {ref.dtype}; pass data_range explicitly"
        )
    return float(hi if rmin >= 0 else hi - lo)


@array_function(whole=True)
def psnr(reference: npt.ArrayLike, estimate: npt.ArrayLike, data_range: float | None = None) -> float:
    r"""Peak signal-to-noise ratio of ``estimate`` against ``reference``, in decibels.

    Same definition and defaults as ``skimage.metrics.peak_signal_noise_ratio``.

    Parameters
    ----------
    reference : (*shape) array_like
        Ground truth, any number of dimensions.
    estimate : (*shape) array_like
        Image to score, same shape.
    data_range : float, optional
        Peak-to-peak range ``R`` of the images (``1.0`` for floats in
        [0, 1], ``255`` for 8-bit).  By default it comes from
        ``reference``'s dtype: the dtype's maximum when ``reference`` has no
        negative value (1 for floats, 255 for uint8), else max - min of the
        dtype (2 for floats, whose assumed range is [-1, 1]).

    Returns
    -------
    float
        ``inf`` when the images are equal.

    Raises
    ------
    ValueError
        Different shapes, empty images, a non-positive ``data_range``, or
        (with ``data_range=None``) ``reference`` outside its dtype's range.
    TypeError
        Non-numeric input.

    Notes
    -----
    .. math::

        \mathrm{PSNR} = 10 \log_{10} \frac{R^2}{\frac{1}{M}\sum_i (r_i - e_i)^2}

    The mean is taken in float64 over all ``M`` elements (all channels).

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.restore.metrics import psnr
    >>> round(psnr(np.zeros(4), np.full(4, 0.1)), 6)
    20.0
    """
    func = "psnr"
    ref, est = _pair(func, reference, estimate)
    R = _data_range(func, ref, data_range)
    dtype = _float_type(ref.dtype, est.dtype)
    diff = ref.astype(dtype, copy=False) - est.astype(dtype, copy=False)
    mse = float(np.mean(np.square(diff), dtype=np.float64))
    if not np.isfinite(mse):
        raise ValueError(f"{func}: reference and estimate must be finite")
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(R * R / mse))


@array_function(whole=True)
def ssim(
    reference: npt.ArrayLike,
    estimate: npt.ArrayLike,
    data_range: float | None = None,
    *,
    win_size: int | None = None,
    gaussian_weights: bool = False,
    channel_axis: int | None = None,
    sigma: float = 1.5,
    use_sample_covariance: bool = True,
    K1: float = 0.01,
    K2: float = 0.03,
    full: bool = False,
) -> float | tuple[float, np.ndarray]:
    r"""Mean structural similarity index of ``estimate`` against ``reference``.

    Same definition and defaults as ``skimage.metrics.structural_similarity``
    (Wang et al. 2004, with scikit-image's uniform 7-wide window by default).

    Parameters
    ----------
    reference : (*shape) array_like
        Ground truth, any number of dimensions (each at least ``win_size``
        long, except the channel axis).
    estimate : (*shape) array_like
        Image to score, same shape.
    data_range : float, optional
        Peak-to-peak range ``R``; by default from ``reference``'s dtype, as
        :func:`psnr` (scikit-image raises for float images instead).
    win_size : int, optional
        Odd side of the window: 7 by default, ``2*int(3.5*sigma + 0.5) + 1``
        (11) with ``gaussian_weights``.
    gaussian_weights : bool, optional
        Weight the window by a Gaussian of std ``sigma`` (truncated at
        3.5 sigma) instead of uniformly.
    channel_axis : int, optional
        Axis holding channels: SSIM is computed per channel and averaged.
    sigma : float, optional
        Std of the Gaussian window.
    use_sample_covariance : bool, optional
        Normalise (co)variances by ``NP - 1`` (``NP = win_size**ndim``)
        instead of ``NP``.  Wang et al. use ``False`` with Gaussian weights.
    K1, K2 : float, optional
        Stabilising constants, ``C1 = (K1 R)^2``, ``C2 = (K2 R)^2``.
    full : bool, optional
        Also return the SSIM map.

    Returns
    -------
    mssim : float
        Mean of the SSIM map after cropping ``(win_size - 1) // 2`` elements
        off every border, in [-1, 1]; 1 for equal images.
    S : ndarray
        The SSIM map (``full=True`` only), shape of the input.

    Raises
    ------
    ValueError
        Different shapes, an even ``win_size`` or one larger than an axis,
        a non-positive ``data_range`` or ``sigma``, negative ``K1``/``K2``.
    TypeError
        Non-numeric input or a non-integer ``win_size``.

    Notes
    -----
    With local means :math:`\mu`, variances :math:`\sigma^2` and covariance
    :math:`\sigma_{re}` from a uniform (or Gaussian) filter with
    ``mode="reflect"``:

    .. math::

        S = \frac{(2\mu_r\mu_e + C_1)(2\sigma_{re} + C_2)}
                 {(\mu_r^2 + \mu_e^2 + C_1)(\sigma_r^2 + \sigma_e^2 + C_2)}

    Computed in float32 for float16/float32 input, float64 otherwise, as
    scikit-image.  ``full=True`` returns the whole map; the mean skips
    the border strip.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.restore.metrics import ssim
    >>> a = np.linspace(0, 1, 64).reshape(8, 8)
    >>> ssim(a, a)
    1.0
    >>> round(ssim(a, a[::-1]), 4)
    -0.9257
    """
    func = "ssim"
    ref, est = _pair(func, reference, estimate)
    full = v.boolean(full, func, "full")
    gaussian_weights = v.boolean(gaussian_weights, func, "gaussian_weights")
    use_sample_covariance = v.boolean(use_sample_covariance, func, "use_sample_covariance")
    sigma = v.float_tuple(sigma, 1, func, "sigma", positive=True)[0]
    K1 = v.float_tuple(K1, 1, func, "K1")[0]
    K2 = v.float_tuple(K2, 1, func, "K2")[0]
    if K1 < 0 or K2 < 0:
        raise ValueError(f"{func}: K1 and K2 must be >= 0, got K1={K1}, K2={K2}")
    R = _data_range(func, ref, data_range)
    if win_size is None:
        win_size = 2 * int(3.5 * sigma + 0.5) + 1 if gaussian_weights else 7
    win_size = v.integer(win_size, func, "win_size", minimum=1)
    if win_size % 2 == 0:
        raise ValueError(f"{func}: win_size must be odd, got {win_size}")

    if channel_axis is not None:
        channel_axis = v.integer(channel_axis, func, "channel_axis")
        if not -ref.ndim <= channel_axis < ref.ndim:
            raise ValueError(
                f"{func}: channel_axis must be in [{-ref.ndim}, {ref.ndim - 1}] for {ref.ndim}-d images, "
                f"got {channel_axis}"
            )
        refs, ests = np.moveaxis(ref, channel_axis, 0), np.moveaxis(est, channel_axis, 0)
    else:
        refs, ests = ref[None], est[None]
    spatial = refs.shape[1:]
    if not spatial or min(spatial) < win_size:
        raise ValueError(
            f"{func}: win_size={win_size} exceeds the image extent {spatial} (channel axis excluded); "
            "pass a smaller odd win_size or set channel_axis for multichannel images"
        )

    from scipy import ndimage

    dtype = _float_type(ref.dtype, est.dtype)
    if gaussian_weights:
        def filt(a: np.ndarray) -> np.ndarray:
            return ndimage.gaussian_filter(a, sigma, mode="reflect", truncate=3.5)
    else:
        def filt(a: np.ndarray) -> np.ndarray:
            return ndimage.uniform_filter(a, size=win_size)

    NP = win_size ** len(spatial)
    cov_norm = NP / (NP - 1) if use_sample_covariance and NP > 1 else 1.0
    C1, C2 = (K1 * R) ** 2, (K2 * R) ** 2
    pad = (win_size - 1) // 2
    crop = tuple(slice(pad, s - pad) for s in spatial)
    means, maps = [], []
    for r, e in zip(refs, ests):
        r = r.astype(dtype, copy=False)
        e = e.astype(dtype, copy=False)
        ur, ue = filt(r), filt(e)
        vr = cov_norm * (filt(r * r) - ur * ur)
        ve = cov_norm * (filt(e * e) - ue * ue)
        vre = cov_norm * (filt(r * e) - ur * ue)
        S = ((2 * ur * ue + C1) * (2 * vre + C2)) / ((ur * ur + ue * ue + C1) * (vr + ve + C2))
        means.append(S[crop].mean(dtype=np.float64))
        maps.append(S)
    mssim = float(np.mean(means))
    if not full:
        return mssim
    S_all = np.stack(maps)
    S_all = np.moveaxis(S_all, 0, channel_axis) if channel_axis is not None else S_all[0]
    return mssim, S_all
