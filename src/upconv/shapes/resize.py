"""Interpolation sizes (torch ``interpolate``) and ONNX ``Resize`` geometry."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from upconv import _validate as v
from upconv.shapes.convolution import _sizes

# --------------------------------------------------------------------------
# interpolation (torch interpolate) and resize (ONNX Resize)


def interpolate_output_size(
    in_size: Sequence[int],
    size: v.IntOrTuple | None = None,
    scale_factor: v.FloatOrTuple | None = None,
    *,
    allow_empty: bool = False,
    func: str = "interpolate_output_size",
) -> tuple[int, ...]:
    """Output spatial size of ``torch.nn.functional.interpolate``.

    Exactly one of ``size`` (an int for every axis, or one int per axis) and
    ``scale_factor`` (a number, or one per axis) is given.  From a scale
    factor the size is ``o = floor(i * scale_factor)``, the product taken in
    double precision as torch does (``int(i * sf)``): ``i = 3, sf = 2.1``
    gives 6.  Every size must be >= 1, or >= 0 with ``allow_empty`` (torch's
    rule for ``mode="area"``, i.e. adaptive average pooling).

    Raises
    ------
    ValueError
        If both or neither of ``size`` and ``scale_factor`` are given, if a
        length does not match ``in_size``, or if an output size is too small.
    TypeError
        If ``size`` holds non-integers or ``scale_factor`` non-numbers.

    Examples
    --------
    >>> interpolate_output_size((2, 2), scale_factor=2)
    (4, 4)
    >>> interpolate_output_size((5, 7), scale_factor=(0.5, 1.5))
    (2, 10)
    >>> interpolate_output_size((3,), scale_factor=2.1)
    (6,)
    >>> interpolate_output_size((5,), size=3)
    (3,)
    """
    i = _sizes(in_size, func, "input spatial size")
    n = len(i)
    if size is not None and scale_factor is not None:
        raise ValueError(f"{func}: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError(f"{func}: either size or scale_factor should be defined")
    minimum = 0 if allow_empty else 1
    if size is not None:
        if isinstance(size, (Sequence, np.ndarray)) and not isinstance(size, (str, bytes)) and len(size) != n:
            raise ValueError(
                f"{func}: size must have one entry per spatial axis: input with spatial size {i} and "
                f"size={size!r}; give the input as (N, C, d1, ..., dK) and size as (o1, ..., oK)"
            )
        return v.int_tuple(size, n, func, "size", minimum=minimum)
    sf = v.float_tuple(scale_factor, n, func, "scale_factor")
    out = tuple(_scaled(i_, s_, func, "scale_factor", scale_factor) for i_, s_ in zip(i, sf))
    if any(o < minimum for o in out):
        raise ValueError(
            f"{func}: scale_factor={scale_factor!r} gives an output size of {out} for an input of {i}; "
            f"every output size must be >= {minimum}"
        )
    return out


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _scaled(size: int, scale: float, func: str, name: str, given: object) -> int:
    """``floor(size * scale)`` as torch and ONNX compute it, refused when it is not a representable size."""
    product = size * scale
    if not math.isfinite(product) or product >= 2**63:
        raise ValueError(f"{func}: {name}={given!r} gives an output size beyond 2**63 for an input size of {size}")
    return int(product)


@dataclass(frozen=True)
class ResizeGeometry:
    """Shapes and scales of an ONNX ``Resize``.

    ``scales`` has one entry per axis of ``x``: the scale used for the
    coordinate transformation (``1.0`` on axes that are not resized).
    ``axes`` lists the resized axes, non-negative, in the order they are
    processed (the order of the ``axes`` attribute, else ascending).
    """

    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    scales: tuple[float, ...]
    axes: tuple[int, ...]


def resize_geometry(
    in_shape: Sequence[int],
    sizes: Sequence[int] | None = None,
    scales: Sequence[float] | None = None,
    *,
    axes: Sequence[int] | None = None,
    keep_aspect_ratio_policy: str = "stretch",
    func: str = "resize_geometry",
) -> ResizeGeometry:
    """Output shape and coordinate scales of ONNX ``Resize`` (opset 19).

    ``sizes`` / ``scales`` (exactly one) have one entry per axis of ``x``, or
    per entry of ``axes`` (negative axes count from the end).

    * ``scales``: stored as float32 (an ONNX ``scales`` tensor is float), then
      ``o = floor(i * scale)`` in double precision.
    * ``sizes`` with ``keep_aspect_ratio_policy="stretch"``: ``o = sizes``,
      ``scale = o / i``.
    * ``"not_larger"`` / ``"not_smaller"``: ``scale = min`` / ``max`` of
      ``sizes[k] / i[k]`` over the listed axes; every listed axis gets
      ``o = floor(scale * i + 0.5)`` and that common scale.

    The spec's ``floor(i * (roi_end - roi_start) * scale)`` for
    ``tf_crop_and_resize`` with ``scales`` is not applied: like
    ``onnx.reference``, the region of interest does not change the size.

    Examples
    --------
    >>> g = resize_geometry((1, 1, 2, 4), scales=(1, 1, 0.6, 0.6))
    >>> g.out_shape, g.scales[2:]
    ((1, 1, 1, 2), (0.6000000238418579, 0.6000000238418579))
    >>> resize_geometry((1, 1, 4, 8), sizes=(8, 8), axes=(2, 3),
    ...                 keep_aspect_ratio_policy="not_larger").out_shape
    (1, 1, 4, 8)
    >>> resize_geometry((1, 1, 4, 8), sizes=(8, 8), axes=(2, 3),
    ...                 keep_aspect_ratio_policy="not_smaller").out_shape
    (1, 1, 8, 16)
    >>> resize_geometry((2, 3, 5), sizes=(7,), axes=(-1,)).scales
    (1.0, 1.0, 1.4)
    """
    if isinstance(in_shape, (str, bytes)) or not isinstance(in_shape, Sequence) or len(in_shape) == 0:
        raise TypeError(f"{func}: the input shape must be a non-empty sequence of integers, got {in_shape!r}")
    shape = v.int_tuple(tuple(in_shape), len(in_shape), func, "input shape", minimum=0)
    r = len(shape)
    policy = v.choice(
        keep_aspect_ratio_policy, ("stretch", "not_larger", "not_smaller"), func, "keep_aspect_ratio_policy"
    )
    if axes is None:
        ax = tuple(range(r))
    else:
        if isinstance(axes, (str, bytes)) or not isinstance(axes, (Sequence, np.ndarray)):
            raise TypeError(f"{func}: axes must be a sequence of integers, got {axes!r}")
        raw = v.int_tuple(tuple(axes), len(axes), func, "axes")
        if any(not -r <= a < r for a in raw):
            raise ValueError(
                f"{func}: every entry of axes must be in [{-r}, {r - 1}] for an input of rank {r}, got {axes!r}"
            )
        ax = tuple(a % r for a in raw)
        if len(set(ax)) != len(ax):
            raise ValueError(f"{func}: axes must not repeat an axis, got {axes!r}")
    if (sizes is None) == (scales is None):
        raise ValueError(f"{func}: exactly one of sizes and scales must be given")
    scale = [1.0] * r
    out = list(shape)
    if scales is not None:
        sc = v.float_tuple(scales, len(ax), func, "scales", positive=True, scalar_ok=False)
        for a, s in zip(ax, sc):
            scale[a] = float(np.float32(s)) if abs(s) <= _FLOAT32_MAX else math.inf  # ONNX scales are float32
            out[a] = _scaled(shape[a], scale[a], func, "scales", scales)
        return ResizeGeometry(shape, tuple(out), tuple(scale), ax)
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)):
        raise TypeError(f"{func}: sizes must be a sequence of {len(ax)} integers, got {sizes!r}")
    sz = v.int_tuple(tuple(sizes), len(ax), func, "sizes", minimum=0)
    if any(shape[a] == 0 for a in ax):
        raise ValueError(f"{func}: cannot resize a zero-length axis to a given size (input shape {shape}, axes {ax})")
    ratios = [s / shape[a] for a, s in zip(ax, sz)]
    if policy == "stretch":
        for a, s, q in zip(ax, sz, ratios):
            scale[a], out[a] = q, s
    else:
        common = min(ratios) if policy == "not_larger" else max(ratios)
        for a in ax:
            scale[a], out[a] = common, int(common * shape[a] + 0.5)
    return ResizeGeometry(shape, tuple(out), tuple(scale), ax)


def resize_output_size(
    in_shape: Sequence[int],
    sizes: Sequence[int] | None = None,
    scales: Sequence[float] | None = None,
    *,
    axes: Sequence[int] | None = None,
    keep_aspect_ratio_policy: str = "stretch",
) -> tuple[int, ...]:
    """Output shape of ONNX ``Resize``: ``resize_geometry(...).out_shape``.

    Examples
    --------
    >>> resize_output_size((1, 3, 4, 4), scales=(1, 1, 2, 1.5))
    (1, 3, 8, 6)
    >>> resize_output_size((1, 3, 4, 4), sizes=(1, 3, 6, 6))
    (1, 3, 6, 6)
    """
    return resize_geometry(
        in_shape, sizes, scales, axes=axes, keep_aspect_ratio_policy=keep_aspect_ratio_policy,
        func="resize_output_size",
    ).out_shape
