"""Interpolation: torch's ``interpolate`` and ONNX ``Resize``, on one separable engine.

Both functions are validated and planned by :mod:`upconv.ops.resample_plans`
(a :class:`upconv.ops.resampling.Resampling`, which also applies the dtype
policy), and reduce to one "taps and weights" plan per axis
(:class:`upconv.ops.resampling.AxisPlan`), chosen from a table keyed by mode
(:mod:`upconv.ops.resample_torch`, :mod:`upconv.ops.resample_onnx`), and
apply the plans axis after axis with compiled kernels.  They differ only in
how the taps are computed:

:func:`interpolate`
    ``torch.nn.functional.interpolate`` (torch 2.13, CPU) exactly: torch's
    single-precision index arithmetic for the nearest modes, its shortcuts
    (identity when ``out == in``; ``dst >> 1`` for 2-d nearest), PIL-style
    antialiasing, ``area`` as adaptive average pooling.
:func:`resize`
    ONNX ``Resize`` (opset 19) exactly as ``onnx.reference`` computes it: all
    coordinate transformation modes (including ``tf_crop_and_resize`` with a
    region of interest and extrapolation), all nearest rounding modes,
    ``cubic_coeff_a``, ``exclude_outside``, antialiasing,
    ``keep_aspect_ratio_policy`` and ``axes``; computed in float64 and cast
    back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from upconv import _validate as v
from upconv.ops.arrays import array_function
from upconv.ops.resample_plans import (
    INTERPOLATE_MODES,
    RESIZE_MODES,
    interpolate_plans,
    interpolate_resampling,
    resize_plans,
    resize_resampling,
)

if TYPE_CHECKING:
    import numpy.typing as npt

# the planning (validation, dtype policy, per-axis plans) is in resample_plans, re-exported here
__all__ = ["interpolate", "resize", "INTERPOLATE_MODES", "RESIZE_MODES", "interpolate_resampling",
           "resize_resampling", "interpolate_plans", "resize_plans"]


@array_function
def interpolate(
    x: npt.ArrayLike,
    size: v.IntOrTuple | None = None,
    scale_factor: v.FloatOrTuple | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> np.ndarray:
    r"""Up- or down-sample ``x``, identical to ``torch.nn.functional.interpolate``.

    Parameters
    ----------
    x : (N, C, *in_size) array_like
        Input with 1, 2 or 3 spatial axes (rank 3, 4 or 5).
    size : int or sequence of ints, optional
        Output spatial size (an int applies to every axis).
    scale_factor : float or sequence of floats, optional
        Multiplier of the spatial size: ``out = floor(in * scale_factor)``.
        Exactly one of ``size`` and ``scale_factor`` must be given.
    mode : {"nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area", "lanczos"}
        ``linear`` needs rank 3, ``bilinear``/``bicubic``/``lanczos`` rank
        4, ``trilinear`` rank 5; the others accept 3, 4 or 5.  ``lanczos``
        (Lanczos-3, as PIL) needs ``antialias=True``.
    align_corners : bool, optional
        Linear and cubic modes only (None means False): map the centres of
        the corner pixels onto each other, ``src = dst * (in-1)/(out-1)``.
    recompute_scale_factor : bool, optional
        With ``scale_factor``: True computes the coordinates from the
        resulting size (as if ``size`` had been given) rather than from
        ``1/scale_factor``.  Meaningless (an error) with ``size``.
    antialias : bool, optional
        ``bilinear``/``bicubic``/``lanczos`` only: PIL-style resampling whose
        filter is widened by the downsampling factor.

    Returns
    -------
    y : (N, C, *out_size) ndarray
        Same dtype as ``x`` (float16 computed in float32).  Integer and
        boolean arrays keep their dtype in the nearest modes (a gather);
        uint8 stays uint8 in ``bilinear`` and ``bicubic``, rounded as torch
        rounds it; other integer input is converted to float64.

    Raises
    ------
    ValueError, TypeError
        Wherever torch raises (torch often raises RuntimeError or
        NotImplementedError), naming the argument.

    See Also
    --------
    resize : ONNX Resize.
    upconv.shapes.interpolate_output_size : the output size without computing.

    Notes
    -----
    Per axis, with ``scale = 1/scale_factor`` when a scale factor is used for
    the coordinates and ``in/out`` otherwise (``(in-1)/(out-1)`` with
    ``align_corners``), the source coordinate of output index ``d`` is

    =================  ====================================================
    nearest            ``min(floor(d * scale), in - 1)`` (OpenCV's
                       INTER_NEAREST), floored in float32 (``floorf``)
    nearest-exact      ``min(floor((d + 0.5) * scale), in - 1)`` (PIL,
                       scikit-image)
    linear modes       ``max(0, scale*(d + 0.5) - 0.5)``; two taps
    bicubic            ``scale*(d + 0.5) - 0.5``; four taps clamped to the
                       edge, Keys kernel ``A = -0.75``
    area               mean over ``[floor(d*in/out), ceil((d+1)*in/out))``
    =================  ====================================================

    ``nearest`` is the buggy OpenCV rule kept by torch for compatibility;
    ``nearest-exact`` is the correct one.  torch's shortcuts are reproduced:
    a linear axis with ``out == in`` is copied even if ``scale_factor != 1``,
    and 2-d ``nearest`` with ``out_h + out_w <= 128`` uses ``dst >> 1``
    when ``out == 2*in`` (for ``in=3, scale_factor=2.1``: 0,0,1,1,2,2,
    where 1-d and 3-d give 0,0,0,1,1,2).  Antialiasing uses a triangle or a
    Keys (``A = -0.5``) filter stretched by ``max(scale, 1)`` on a window
    truncated at the borders; ``lanczos`` uses Lanczos-3 (``sinc(x) sinc(x/3)``).

    Exactness: the nearest modes are exact (a gather, torch's float32 index
    arithmetic).  In float32 the linear modes and bicubic are bit-identical
    to torch's kernels, whose multiply-adds (fused by its compiler) are
    reproduced, except 2-d bilinear with ``out_h + out_w <= 128``, which torch
    computes with a non-separable kernel.  That case, float64 inputs,
    ``area``, and antialiasing agree to rounding (about 1e-7 relative in
    float32, 1e-15 in float64).

    One deliberate difference: torch 2.13 returns the value of output row 0
    on every row when an antialiased output has width 1 and a different
    height (a stride bug of its vertical pass); upconv returns the intended
    values, which torch gives for the transposed image.

    Examples
    --------
    The up-sampling layer ``nn.Upsample(scale_factor=2, mode="bilinear",
    align_corners=True)``:

    >>> import numpy as np, upconv
    >>> x = np.array([[[[6.0, 10.0], [9.0, 12.0]]]], dtype=np.float32)
    >>> y = upconv.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    >>> print(np.round(y[0, 0], 4))
    [[ 6.      7.3333  8.6667 10.    ]
     [ 7.      8.2222  9.4444 10.6667]
     [ 8.      9.1111 10.2222 11.3333]
     [ 9.     10.     11.     12.    ]]

    torch's documentation example, ``[[1, 2], [3, 4]]`` doubled:

    >>> x = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 2, 2)
    >>> upconv.interpolate(x, scale_factor=2)[0, 0]
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.],
           [3., 3., 4., 4.],
           [3., 3., 4., 4.]], dtype=float32)
    >>> upconv.interpolate(x, scale_factor=2, mode="bilinear")[0, 0]
    array([[1.  , 1.25, 1.75, 2.  ],
           [1.5 , 1.75, 2.25, 2.5 ],
           [2.5 , 2.75, 3.25, 3.5 ],
           [3.  , 3.25, 3.75, 4.  ]], dtype=float32)
    >>> print(np.round(upconv.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)[0, 0], 4))
    [[1.     1.3333 1.6667 2.    ]
     [1.6667 2.     2.3333 2.6667]
     [2.3333 2.6667 3.     3.3333]
     [3.     3.3333 3.6667 4.    ]]

    The two nearest modes differ:

    >>> x = np.arange(3.0).reshape(1, 1, 3)
    >>> upconv.interpolate(x, size=5)[0, 0], upconv.interpolate(x, size=5, mode="nearest-exact")[0, 0]
    (array([0., 0., 1., 1., 2.]), array([0., 0., 1., 2., 2.]))
    """
    func = "interpolate"
    xa = x if isinstance(x, np.ndarray) else v.float_arrays(func, x=x)[1][0]  # lists and scalars: floats
    return interpolate_resampling(func, xa, size, scale_factor, mode, align_corners, recompute_scale_factor,
                                  antialias).run(xa, func)


@array_function
def resize(
    x: npt.ArrayLike,
    sizes: Sequence[int] | None = None,
    scales: Sequence[float] | None = None,
    roi: Sequence[float] | None = None,
    *,
    mode: str = "nearest",
    coordinate_transformation_mode: str = "half_pixel",
    nearest_mode: str = "round_prefer_floor",
    cubic_coeff_a: float = -0.75,
    exclude_outside: bool = False,
    extrapolation_value: float = 0.0,
    antialias: bool = False,
    axes: Sequence[int] | None = None,
    keep_aspect_ratio_policy: str = "stretch",
) -> np.ndarray:
    r"""Resize ``x`` as ONNX ``Resize`` (opset 19) does.

    Parameters
    ----------
    x : array_like
        Input of any rank; every axis may be resized (N and C included).
    sizes : sequence of ints, optional
        Output length of every axis of ``x``, or of every axis in ``axes``.
    scales : sequence of floats, optional
        Scale of every axis (or of every axis in ``axes``), stored as
        float32 as in an ONNX model; ``out = floor(in * scale)``.  Exactly one
        of ``sizes`` and ``scales`` must be given.
    roi : sequence of floats, optional
        ``[start_1, ..., start_k, end_1, ..., end_k]`` over the same axes,
        normalised to ``[0, 1]``; required by, and only used by,
        ``coordinate_transformation_mode="tf_crop_and_resize"``.
    mode : {"nearest", "linear", "cubic"}
    coordinate_transformation_mode : str
        ``"half_pixel"`` (default), ``"half_pixel_symmetric"``,
        ``"pytorch_half_pixel"``, ``"align_corners"``, ``"asymmetric"`` or
        ``"tf_crop_and_resize"``.
    nearest_mode : {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}
        Rounding of the source coordinate in ``mode="nearest"``.
    cubic_coeff_a : float
        ``A`` of the Keys cubic kernel (-0.75 as torch, -0.5 as TensorFlow).
    exclude_outside : bool or {0, 1}
        Give taps outside the input weight 0 and renormalise the others.
    extrapolation_value : float
        Output value where ``tf_crop_and_resize`` samples outside the input.
    antialias : bool or {0, 1}
        Linear and cubic only: when down-sampling, stretch the filter by
        ``1/scale`` (edge-clamped taps, unlike torch's truncated window).
    axes : sequence of ints, optional
        The axes ``sizes``/``scales``/``roi`` refer to (negative values count
        from the end); the others are left unchanged.
    keep_aspect_ratio_policy : {"stretch", "not_larger", "not_smaller"}
        With ``sizes``: ``"not_larger"``/``"not_smaller"`` scale every listed
        axis by the smallest/largest ratio ``sizes/in``, keeping the aspect
        ratio (``out = round_half_up(scale * in)``).

    Returns
    -------
    y : ndarray
        Same dtype as ``x`` (float16 kept; integer and boolean arrays keep
        their dtype with ``mode="nearest"``, and become float64 otherwise).  Computed
        in float64 and rounded once.

    Raises
    ------
    ValueError, TypeError
        For invalid arguments (naming the argument).

    See Also
    --------
    interpolate : torch's interpolation.
    upconv.shapes.resize_output_size : the output shape without computing.

    Notes
    -----
    Per resized axis, with ``scale`` the axis scale (``sizes/in`` or the
    given scale) and ``L = scale * in`` (fractional when ``scales`` is given),
    output index ``y`` samples the input at

    ====================  ===================================================
    half_pixel            ``(y + 0.5)/scale - 0.5``
    half_pixel_symmetric  ``in/2 * (1 - out/L) + (y + 0.5)/scale - 0.5``
    pytorch_half_pixel    as half_pixel, ``-0.5`` when ``L == 1``
    align_corners         ``y * (in - 1)/(L - 1)`` (0 when ``L == 1``)
    asymmetric            ``y / scale``
    tf_crop_and_resize    ``start*(in-1) + y*(end-start)*(in-1)/(L-1)``;
                          outside ``[0, in-1]``: ``extrapolation_value``
    ====================  ===================================================

    ``nearest`` rounds that coordinate (an integral one maps to itself);
    ``linear`` uses the two and ``cubic`` the four nearest samples; samples
    beyond the border repeat the edge.  The axes are resampled one after the
    other in the order of ``axes`` (ascending without it).

    The result is bit-identical to ``onnx.reference`` (float16, float32 and
    float64), including its float32 evaluation of the cubic polynomial
    (``cubic_coeff_a`` is a float32 attribute) and numpy's summation order.
    Where the reference deviates from the written spec this follows the
    reference: ``roi`` does not change the output size given by ``scales``;
    ``pytorch_half_pixel`` gives ``-0.5`` (not 0) for an output of length 1;
    with ``exclude_outside`` a nearest sample outside the input gives 0.
    ``roi`` is taken in double precision (an ONNX double ``roi`` tensor).
    Nearest sampling is an exact copy (the reference's ``1*a + 0*b`` can
    turn a NaN or infinite neighbour into NaN; this does not).

    Examples
    --------
    The ONNX test ``resize_upsample_scales_nearest``:

    >>> import numpy as np, upconv
    >>> x = np.array([[[[1, 2], [3, 4]]]], dtype=np.float32)
    >>> upconv.resize(x, scales=[1, 1, 2, 3])[0, 0]
    array([[1., 1., 1., 2., 2., 2.],
           [1., 1., 1., 2., 2., 2.],
           [3., 3., 3., 4., 4., 4.],
           [3., 3., 3., 4., 4., 4.]], dtype=float32)

    ``resize_downsample_sizes_linear_pytorch_half_pixel``:

    >>> x = np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)
    >>> upconv.resize(x, sizes=[3, 1], axes=[2, 3], mode="linear",
    ...               coordinate_transformation_mode="pytorch_half_pixel")[0, 0]
    array([[ 1.6666666],
           [ 7.       ],
           [12.333333 ]], dtype=float32)

    A crop with extrapolation:

    >>> x = np.arange(4.0).reshape(1, 4)
    >>> upconv.resize(x, sizes=[4], axes=[1], roi=[0.5, 1.5], mode="linear",
    ...               coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=-1)
    array([[ 1.5,  2.5, -1. , -1. ]])
    """
    func = "resize"
    xa = x if isinstance(x, np.ndarray) else v.float_arrays(func, x=x)[1][0]  # lists and scalars: floats
    return resize_resampling(func, xa, sizes, scales, roi, mode, coordinate_transformation_mode, nearest_mode,
                             cubic_coeff_a, exclude_outside, extrapolation_value, antialias, axes,
                             keep_aspect_ratio_policy).run(xa, func)
