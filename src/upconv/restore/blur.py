"""Blur kernels from a short text spec (Gaussian, box, motion) or a ``.npy`` file, for deconvolution and the CLI."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from upconv import _validate as v

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["blur_kernel"]


def _gaussian(sigma: float, size: int | None, ndim: int) -> np.ndarray:
    if size is None:
        size = 2 * math.ceil(3 * sigma) + 1
    v.check_allocation((size,) * ndim, np.float64, "blur_kernel", "the Gaussian kernel")
    t = np.arange(size) - (size - 1) / 2
    g1 = np.exp(-0.5 * (t / sigma) ** 2)
    k = g1
    for _ in range(ndim - 1):
        k = np.multiply.outer(k, g1)
    return k


def _motion(length: float, angle: float) -> np.ndarray:
    """A line of ``length`` pixels at ``angle`` degrees (counter-clockwise, rows pointing down), 16x supersampled."""
    m = max(1, int(math.ceil(length * 16)))
    v.check_allocation((6, m), np.float64, "blur_kernel", "the motion kernel's samples")
    v.check_allocation((2 * m // 16 + 3,) * 2, np.float64, "blur_kernel", "the motion kernel")
    t = (np.arange(m) + 0.5) / m * length - length / 2
    theta = math.radians(angle)
    cols = np.rint(t * math.cos(theta)).astype(int)
    rows = np.rint(-t * math.sin(theta)).astype(int)
    r = max(int(np.abs(cols).max()), int(np.abs(rows).max()))
    k = np.zeros((2 * r + 1, 2 * r + 1))
    np.add.at(k, (rows + r, cols + r), 1.0)
    return k


def _spec_numbers(func: str, spec: str, body: str, counts: Sequence[int]) -> list[float]:
    try:
        values = [float(p) for p in body.split(",")] if body.strip() else []
    except ValueError:
        values = None
    if values is None or len(values) not in counts or not all(map(math.isfinite, values)):
        raise ValueError(f"{func}: cannot read the numbers of {spec!r}; {_SPEC_HELP}")
    return values


_SPEC_HELP = ("expected 'gaussian:SIGMA[,SIZE]', 'box:SIZE[,SIZE...]', 'motion:LENGTH,ANGLE' "
              "or the path of a .npy file")


def blur_kernel(spec: str | os.PathLike[str] | npt.ArrayLike, *, ndim: int = 2) -> npt.NDArray[np.float64]:
    """A blur kernel from a short text spec (or a ``.npy`` file), for :func:`deconvolve` and the CLI.

    Parameters
    ----------
    spec : str, os.PathLike or array_like
        ``"gaussian:SIGMA"`` or ``"gaussian:SIGMA,SIZE"``: a sampled
        Gaussian of std SIGMA pixels, ``SIZE`` taps per axis (default
        ``2*ceil(3*SIGMA) + 1``);
        ``"box:SIZE"`` (or one size per axis, ``"box:5,3"``): a uniform
        kernel;
        ``"motion:LENGTH,ANGLE"`` (2-d only): a line ``LENGTH`` pixels long
        at ``ANGLE`` degrees counter-clockwise from the horizontal (rows
        pointing down), rasterised with 16x supersampling;
        a path to a ``.npy`` file, or an array: used as stored.
    ndim : int, optional
        Dimensions of the Gaussian and box kernels.

    Returns
    -------
    kernel : (*kernel_size) ndarray of float64
        The named kernels sum to 1; file and array kernels are returned
        unchanged (as float64).  For :func:`upconv.deconvolve` on a single-channel
        image use ``kernel[None, None]``; for ``C`` channels blurred alike,
        ``np.broadcast_to(kernel, (C, 1) + kernel.shape)`` with ``groups=C``.

    Raises
    ------
    ValueError
        An unknown spec, non-positive sizes, a missing file, a kernel with
        a non-finite value, a zero-size kernel.

    Examples
    --------
    >>> from upconv import blur_kernel
    >>> blur_kernel("box:3") * 9
    array([[1., 1., 1.],
           [1., 1., 1.],
           [1., 1., 1.]])
    >>> blur_kernel("gaussian:2.0").shape
    (13, 13)
    >>> k = blur_kernel("motion:5,0")
    >>> k.shape, k[2].tolist()
    ((5, 5), [0.2, 0.2, 0.2, 0.2, 0.2])
    """
    func = "blur_kernel"
    ndim = v.integer(ndim, func, "ndim", minimum=1)
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and (spec.endswith(".npy") or os.path.isfile(spec))):
        path = os.fspath(spec)
        if not os.path.isfile(path):
            raise ValueError(f"{func}: no such kernel file {path!r}")
        try:
            k = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{func}: cannot read {path!r} as a .npy array: {exc}") from None
        return _checked_array(func, k, f"the kernel in {path!r}")
    if not isinstance(spec, str):
        if isinstance(spec, (bytes, bool)) or spec is None:
            raise TypeError(f"{func}: spec must be a string, a path or an array, got {spec!r}")
        return _checked_array(func, np.asarray(spec), "spec")
    return _named_kernel(func, spec, ndim)


def _named_kernel(func: str, spec: str, ndim: int) -> npt.NDArray[np.float64]:
    """``"gaussian:..."``, ``"box:..."`` or ``"motion:..."`` as a kernel that sums to 1."""
    kind, sep, body = spec.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in ("gaussian", "box", "motion"):
        raise ValueError(f"{func}: unknown kernel {spec!r}; {_SPEC_HELP}")
    if kind == "gaussian":
        nums = _spec_numbers(func, spec, body, (1, 2))
        if nums[0] <= 0:
            raise ValueError(f"{func}: the Gaussian's SIGMA must be > 0, got {spec!r}")
        size = None
        if len(nums) == 2:
            if nums[1] != int(nums[1]) or nums[1] < 1:
                raise ValueError(f"{func}: the Gaussian's SIZE must be a positive integer, got {spec!r}")
            size = int(nums[1])
        k = _gaussian(nums[0], size, ndim)
    elif kind == "box":
        nums = _spec_numbers(func, spec, body, (1, ndim))
        if any(s != int(s) or s < 1 for s in nums):
            raise ValueError(f"{func}: box sizes must be positive integers, got {spec!r}")
        sizes = [int(s) for s in nums] * (ndim if len(nums) == 1 else 1)
        v.check_allocation(sizes, np.float64, func, "the box kernel")
        k = np.ones(sizes)
    else:
        if ndim != 2:
            raise ValueError(f"{func}: motion kernels are 2-d, got ndim={ndim}")
        nums = _spec_numbers(func, spec, body, (2,))
        if nums[0] <= 0:
            raise ValueError(f"{func}: the motion LENGTH must be > 0, got {spec!r}")
        k = _motion(nums[0], nums[1])
    return k / k.sum()


def _checked_array(func: str, k: np.ndarray, what: str) -> npt.NDArray[np.float64]:
    if k.dtype.kind not in "biuf":
        raise ValueError(f"{func}: {what} must be a real numeric array, got dtype {k.dtype}")
    if k.ndim == 0 or k.size == 0:
        raise ValueError(f"{func}: {what} must be a non-empty array with at least one axis, got shape {k.shape}")
    k = k.astype(np.float64)
    if not np.all(np.isfinite(k)):
        raise ValueError(f"{func}: {what} must be finite")
    return k
