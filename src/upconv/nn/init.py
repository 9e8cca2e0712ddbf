"""Weight initialisers for the layers of :mod:`upconv.nn`.

Every random initialiser takes a :class:`numpy.random.Generator` (``rng=``);
nothing uses a global seed.

``torch_default_weight``, ``torch_default_bias``
    What ``torch.nn.ConvNd`` / ``ConvTransposeNd`` do in ``reset_parameters``:
    ``kaiming_uniform(a=sqrt(5))``, i.e. ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``,
    with torch's ``fan_in = weight.shape[1] * prod(kernel_size)``, which for a
    transposed convolution (weight ``(C_in, C_out/groups, *k)``) counts the
    *output* channels.
``bilinear_kernel``, ``bilinear_weight``
    The fixed bilinear up-sampling filter of FCN (Long et al. 2015) for a
    stride-``s`` transposed convolution (``k = 2s - s % 2``, padding ``s // 2``).
``icnr``
    "Initialised to convolution NN resize" (Aitken et al. 2017): a sub-pixel
    convolution whose ``r**n`` sub-kernels are equal, i.e. nearest up-sampling
    followed by a convolution at initialisation; no checkerboard.
``resize_equivalent``
    A transposed-convolution weight equal to nearest up-sampling followed by a
    random convolution (:func:`upconv.resize_equivalent_kernel`);
    every polyphase component sums to the same value.

References
----------
J. Long, E. Shelhamer, T. Darrell, "Fully Convolutional Networks for Semantic
Segmentation", CVPR 2015 (``surgery.upsample_filt`` in their code).
A. Aitken, C. Ledig, L. Theis, J. Caballero, Z. Wang, W. Shi, "Checkerboard
artifact free sub-pixel convolution", arXiv:1707.02937, 2017.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "fan_in_and_fan_out",
    "kaiming_uniform",
    "torch_default_weight",
    "torch_default_bias",
    "bilinear_kernel",
    "bilinear_padding",
    "bilinear_weight",
    "icnr",
    "resize_equivalent",
]

Initialiser = Callable[..., np.ndarray]


def _shape(func: str, shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (Sequence, np.ndarray)):
        raise TypeError(f"{func}: shape must be a sequence of integers, got {shape!r}")
    return v.int_tuple(tuple(shape), len(shape), func, "shape", minimum=0)


def _rng(func: str, rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{func}: rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}")
    return rng


def _float_dtype(func: str, dtype: npt.DTypeLike) -> np.dtype[Any]:
    dt = np.dtype(dtype)
    if dt not in (np.float16, np.float32, np.float64):
        raise TypeError(f"{func}: dtype must be float16, float32 or float64, got {dt}")
    return dt


def fan_in_and_fan_out(shape: Sequence[int]) -> tuple[int, int]:
    """torch's ``_calculate_fan_in_and_fan_out`` for a weight of ``shape``.

    ``fan_in = shape[1] * prod(shape[2:])``, ``fan_out = shape[0] * prod(shape[2:])``.

    Raises
    ------
    ValueError
        If ``shape`` has fewer than 2 entries.

    Examples
    --------
    >>> fan_in_and_fan_out((16, 8, 3, 3))      # Conv2d(8, 16, 3)
    (72, 144)
    >>> fan_in_and_fan_out((8, 16, 4, 4))      # ConvTranspose2d(8, 16, 4): fan_in counts C_out
    (256, 128)
    """
    func = "fan_in_and_fan_out"
    s = _shape(func, shape)
    if len(s) < 2:
        raise ValueError(f"{func}: shape must have at least 2 entries, got {tuple(shape)!r}")
    field = math.prod(s[2:])
    return s[1] * field, s[0] * field


def kaiming_uniform(
    shape: Sequence[int],
    a: float = 0.0,
    *,
    rng: np.random.Generator,
    mode: str = "fan_in",
    dtype: npt.DTypeLike = np.float32,
) -> npt.NDArray[np.floating[Any]]:
    r"""He (Kaiming) uniform initialisation for a leaky-ReLU slope ``a`` (torch's ``kaiming_uniform_``).

    Parameters
    ----------
    shape : sequence of int
        Weight shape, ``(out, in, *kernel)`` as :func:`fan_in_and_fan_out` reads it.
    a : float, optional
        Negative slope; the gain is ``sqrt(2 / (1 + a**2))``.
    rng : numpy.random.Generator
    mode : {"fan_in", "fan_out"}
    dtype : float dtype, optional

    Returns
    -------
    ndarray
        Samples of :math:`U(-b, b)`, :math:`b = \mathrm{gain}\sqrt{3 / \mathrm{fan}}`.

    Examples
    --------
    >>> import numpy as np
    >>> w = kaiming_uniform((16, 8, 3, 3), a=5 ** 0.5, rng=np.random.default_rng(0))
    >>> bool(np.abs(w).max() <= 1 / 72 ** 0.5)
    True
    """
    func = "kaiming_uniform"
    s = _shape(func, shape)
    mode = v.choice(mode, ("fan_in", "fan_out"), func, "mode")
    r = _rng(func, rng)
    dt = _float_dtype(func, dtype)
    fan_in, fan_out = fan_in_and_fan_out(s)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        raise ValueError(f"{func}: cannot initialise a weight with a zero-size {mode} (shape {s})")
    gain = math.sqrt(2.0 / (1.0 + float(a) ** 2))
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return r.uniform(-bound, bound, s).astype(dt)


def torch_default_weight(
    shape: Sequence[int], *, rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> npt.NDArray[np.floating[Any]]:
    """torch's default weight of a (transposed) convolution: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    ``kaiming_uniform(a=sqrt(5))``: the gain ``sqrt(1/3)`` makes the bound
    ``1/sqrt(fan_in)``, ``fan_in = shape[1] * prod(shape[2:])``.

    Examples
    --------
    >>> import numpy as np
    >>> w = torch_default_weight((4, 2, 3), rng=np.random.default_rng(0))
    >>> w.shape, w.dtype, bool(np.abs(w).max() <= 1 / 6 ** 0.5)
    ((4, 2, 3), dtype('float32'), True)
    """
    return kaiming_uniform(shape, math.sqrt(5.0), rng=rng, dtype=dtype)


def torch_default_bias(
    weight_shape: Sequence[int], out_channels: int, *, rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> npt.NDArray[np.floating[Any]]:
    """torch's default bias: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` with the weight's ``fan_in``.

    Examples
    --------
    >>> import numpy as np
    >>> b = torch_default_bias((4, 2, 3), 4, rng=np.random.default_rng(0))
    >>> b.shape, bool(np.abs(b).max() <= 1 / 6 ** 0.5)
    ((4,), True)
    """
    func = "torch_default_bias"
    c = v.integer(out_channels, func, "out_channels", minimum=0)
    fan_in, _ = fan_in_and_fan_out(weight_shape)
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return _rng(func, rng).uniform(-bound, bound, c).astype(_float_dtype(func, dtype))


def bilinear_kernel(
    stride: int, ndim: int = 2, dtype: npt.DTypeLike = np.float64
) -> npt.NDArray[np.floating[Any]]:
    r"""FCN's bilinear up-sampling kernel for a stride-``s`` transposed convolution.

    ``k = 2s - s % 2`` taps per axis, ``f[t] = 1 - |t - c| / F`` with
    ``F = ceil(k / 2)`` and centre ``c = F - 1`` (``k`` odd) or ``F - 0.5``
    (``k`` even); the ``ndim``-d kernel is the outer product.

    With padding :func:`bilinear_padding` ``= s // 2`` the transposed
    convolution maps ``i`` to ``i * s`` samples and equals
    ``interpolate(mode="bilinear", align_corners=False)`` (scale factor
    ``s``) away from the borders: output ``o`` reads input coordinate
    ``(o + 0.5)/s - 0.5``.

    Parameters
    ----------
    stride : int
        ``s >= 1``.
    ndim : int, optional
    dtype : float dtype, optional

    Returns
    -------
    (k,) * ndim ndarray

    Examples
    --------
    >>> bilinear_kernel(2, ndim=1)
    array([0.25, 0.75, 0.75, 0.25])
    >>> bilinear_kernel(3, ndim=1)
    array([0.33333333, 0.66666667, 1.        , 0.66666667, 0.33333333])
    """
    func = "bilinear_kernel"
    s = v.integer(stride, func, "stride", minimum=1)
    n = v.integer(ndim, func, "ndim", minimum=1)
    k = 2 * s - s % 2
    factor = (k + 1) // 2
    center = factor - 1 if k % 2 == 1 else factor - 0.5
    f = 1.0 - np.abs(np.arange(k) - center) / factor
    out = f
    for _ in range(n - 1):
        out = np.multiply.outer(out, f)
    return out.astype(_float_dtype(func, dtype))


def bilinear_padding(stride: int) -> int:
    """Padding of the bilinear transposed convolution: ``s // 2``, so that ``o = i * s``.

    Examples
    --------
    >>> [bilinear_padding(s) for s in (1, 2, 3, 4)]
    [0, 1, 1, 2]
    """
    return v.integer(stride, "bilinear_padding", "stride", minimum=1) // 2


def bilinear_weight(
    in_channels: int,
    out_channels: int,
    stride: int,
    *,
    ndim: int = 2,
    groups: int = 1,
    dtype: npt.DTypeLike = np.float32,
) -> npt.NDArray[np.floating[Any]]:
    """Transposed-convolution weight that up-samples every channel bilinearly (FCN's initialisation).

    ``weight[ci, co]`` is :func:`bilinear_kernel` when input channel ``ci``
    feeds output channel ``co`` of the same index (``co = ci``; with groups,
    the global output index), zero otherwise: channel ``c`` is interpolated
    into channel ``c``; channels beyond ``min(in, out)`` get zeros.

    Returns
    -------
    (in_channels, out_channels / groups, *(k,) * ndim) ndarray

    Examples
    --------
    >>> w = bilinear_weight(2, 2, 2, ndim=1)
    >>> w[:, :, 1]
    array([[0.75, 0.  ],
           [0.  , 0.75]], dtype=float32)
    """
    func = "bilinear_weight"
    ci = v.integer(in_channels, func, "in_channels", minimum=1)
    co = v.integer(out_channels, func, "out_channels", minimum=1)
    g = v.integer(groups, func, "groups", minimum=1)
    if ci % g or co % g:
        raise ValueError(f"{func}: in_channels={ci} and out_channels={co} must be divisible by groups={g}")
    kern = bilinear_kernel(stride, ndim, dtype)
    co_g = co // g
    w = np.zeros((ci, co_g) + kern.shape, dtype=kern.dtype)
    for c in range(ci):
        group = c // (ci // g)
        local = c - group * co_g
        if 0 <= local < co_g and c < co:
            w[c, local] = kern
    return w


def icnr(
    shape: Sequence[int],
    upscale_factor: int,
    *,
    rng: np.random.Generator,
    init: Initialiser = torch_default_weight,
    dtype: npt.DTypeLike = np.float32,
) -> npt.NDArray[np.floating[Any]]:
    r"""ICNR: a sub-pixel convolution weight whose ``r**n`` sub-kernels are equal (Aitken et al. 2017).

    A sub-pixel convolution (a convolution to ``C * r**n`` channels followed
    by :func:`upconv.pixel_shuffle`) puts channel ``c * r**n + b`` at
    position ``b`` of the ``r x ... x r`` block of output channel ``c``.
    With ``W[c * r**n + b] = W0[c]`` for every ``b`` it is nearest-neighbour
    up-sampling followed by the convolution ``W0`` at initialisation: no
    checkerboard, and every phase of the equivalent transposed convolution
    has the same DC gain.

    Parameters
    ----------
    shape : sequence of int
        ``(C * r**n, C_in / groups, *kernel_size)``: the sub-pixel convolution's weight.
    upscale_factor : int
        ``r``.
    rng : numpy.random.Generator
    init : callable, optional
        ``init(shape, rng=..., dtype=...)`` draws ``W0`` of shape
        ``(C, C_in / groups, *kernel_size)``; torch's default by default.
    dtype : float dtype, optional

    Returns
    -------
    ndarray of ``shape``

    Raises
    ------
    ValueError
        If ``shape[0]`` is not divisible by ``r**n``.

    Examples
    --------
    >>> import numpy as np
    >>> w = icnr((8, 3, 3, 3), 2, rng=np.random.default_rng(0))
    >>> bool(np.all(w[0:4] == w[0]) and np.all(w[4:8] == w[4]))
    True
    """
    func = "icnr"
    s = _shape(func, shape)
    r = v.integer(upscale_factor, func, "upscale_factor", minimum=1)
    if len(s) < 3:
        raise ValueError(f"{func}: shape must be (C * r**n, C_in, *kernel_size), got {s}")
    block = r ** (len(s) - 2)
    if s[0] % block:
        raise ValueError(
            f"{func}: shape[0] (the sub-pixel convolution's out channels, {s[0]}) must be divisible by "
            f"upscale_factor**{len(s) - 2} = {block}"
        )
    w0 = np.asarray(init((s[0] // block,) + s[1:], rng=_rng(func, rng), dtype=dtype))
    return np.repeat(w0, block, axis=0)


def resize_equivalent(
    shape: Sequence[int],
    stride: int | Sequence[int],
    *,
    rng: np.random.Generator,
    groups: int = 1,
    init: Initialiser = torch_default_weight,
    dtype: npt.DTypeLike = np.float32,
) -> npt.NDArray[np.floating[Any]]:
    r"""Transposed-convolution weight equal to nearest up-sampling followed by a random convolution.

    Draws a stride-1 convolution weight ``W0`` of shape
    ``(C_out, C_in / groups, *(K - s + 1))`` with ``init`` and returns
    :func:`upconv.resize_equivalent_kernel` of it: the
    ``K``-tap kernel ``flip(W0) * box_s``, all of whose polyphase components
    sum to ``sum(W0)`` (zero DC-gain spread; Odena et al. 2016).

    Parameters
    ----------
    shape : sequence of int
        ``(C_in, C_out / groups, *K)``: the transposed convolution's weight;
        ``K >= s`` per axis.
    stride : int or sequence of n ints
    rng : numpy.random.Generator
    groups : int, optional
    init : callable, optional
        Draws ``W0`` (torch's default for that convolution by default).
    dtype : float dtype, optional

    Returns
    -------
    ndarray of ``shape``

    Examples
    --------
    >>> import numpy as np
    >>> from upconv import dc_gain_spread
    >>> w = resize_equivalent((4, 4, 4, 4), 2, rng=np.random.default_rng(0))
    >>> dc_gain_spread(w, 2).flat
    True
    """
    func = "resize_equivalent"
    from upconv.ops.resize_convolution import resize_equivalent_kernel

    s_ = _shape(func, shape)
    if len(s_) < 3:
        raise ValueError(f"{func}: shape must be (C_in, C_out / groups, *kernel_size), got {s_}")
    n = len(s_) - 2
    st = v.int_tuple(stride, n, func, "stride", minimum=1)
    g = v.integer(groups, func, "groups", minimum=1)
    if s_[0] % g:
        raise ValueError(f"{func}: shape[0] (in channels, {s_[0]}) must be divisible by groups={g}")
    if any(k < s for k, s in zip(s_[2:], st)):
        raise ValueError(f"{func}: every kernel size must be >= the stride, got kernel {s_[2:]} and stride {st}")
    conv_shape = (s_[1] * g, s_[0] // g) + tuple(k - s + 1 for k, s in zip(s_[2:], st))
    w0 = np.asarray(init(conv_shape, rng=_rng(func, rng), dtype=dtype))
    return resize_equivalent_kernel(w0, st, groups=g)
