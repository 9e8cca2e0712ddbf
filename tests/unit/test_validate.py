"""The validation vocabulary: what each normaliser accepts, returns and refuses (and how it says so)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import upconv
from upconv import _validate as v


@pytest.mark.parametrize("value", [2, 2.5, np.float32(2.5), np.int64(3), -0.0])
def test_real_accepts_real_numbers(value):
    assert v.real(value, "f", "a") == float(value) and type(v.real(value, "f", "a")) is float


@pytest.mark.parametrize(
    "value, kwargs, exc, match",
    [
        (True, {}, TypeError, r"^f: a must be a real number, got True"),
        ("1", {}, TypeError, r"^f: a must be a real number"),
        ([1.0], {}, TypeError, r"^f: a must be a real number, got \[1.0\]"),
        (1j, {}, TypeError, r"^f: a must be a real number"),
        (math.inf, {}, ValueError, r"^f: a must be finite, got inf"),
        (math.nan, {}, ValueError, r"^f: a must be finite, got nan"),
        (-1.0, {"minimum": 0.0}, ValueError, r"^f: a must be >= 0.0, got -1.0"),
    ],
)
def test_real_refuses(value, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        v.real(value, "f", "a", **kwargs)


def test_real_fill_values_may_be_non_finite():
    assert math.isnan(v.real(math.nan, "f", "a", finite=False))
    # ONNX Resize's extrapolation_value may mark the outside with NaN
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    y = upconv.resize(x, roi=[0, 0, 0, 0, 1, 1, 1.5, 1.5], sizes=[1, 1, 4, 4],
                      coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=np.nan)
    assert np.isnan(y[0, 0, -1]).all() and np.isfinite(y[0, 0, :-1, :-1]).all()


def test_batched_adds_and_reports_the_batch_axis():
    x = np.zeros((3, 4, 5))
    b, unbatched = v.batched("f", x, 2)
    assert b.shape == (1, 3, 4, 5) and unbatched
    b, unbatched = v.batched("f", x[None], 2)
    assert b.shape == (1, 3, 4, 5) and not unbatched
    with pytest.raises(ValueError,
                       match=r"^f: x must have 3 \(unbatched\) or 4 \(batched\) dimensions for 2 spatial axes"):
        v.batched("f", np.zeros((4, 5)), 2)


def test_memoized_caches_plain_arguments_and_replays_memory_checks(memory_limit):
    calls = []

    @v.memoized
    def plan(shape, dtype, scale):
        calls.append(shape)
        v.check_allocation(tuple(s * scale for s in shape), dtype, "plan", "the output")
        return object()

    f4 = np.dtype(np.float32)
    first = plan((4, 4), f4, 2)
    assert plan((4, 4), f4, 2) is first and len(calls) == 1  # cached
    assert plan((4, 4), f4, 2.0) is not first and len(calls) == 2  # 2.0 is not 2
    assert plan((4, 4), np.dtype(">f4"), 2) is not first  # nor big-endian the native dtype
    plan([4, 4], f4, 2)
    plan([4, 4], f4, 2)
    assert calls.count([4, 4]) == 2  # lists are not cached
    memory_limit(100)  # the cached plan's check is replayed against the new limit
    with pytest.raises(MemoryError, match=r"^plan: the output of shape \(8, 8\)"):
        plan((4, 4), f4, 2)
    with pytest.raises(MemoryError):  # errors are not cached either
        plan((3, 3), f4, 2)
    memory_limit(None)
    assert plan((3, 3), f4, 2) is not None


def test_memoized_replays_in_order_and_into_an_outer_memoized_call(memory_limit):
    @v.memoized
    def inner(n):
        v.check_allocation((n,), np.uint8, "inner", "the small table")
        v.check_allocation((10 * n,), np.uint8, "inner", "the large table")
        return object()

    @v.memoized
    def outer(n):
        return inner(n)

    inner(50)  # cached before the outer call: its hit must still hand its checks to the outer recording
    first = outer(50)
    assert outer(50) is first
    memory_limit(100)  # the large table (500 bytes) fails first; the small one (50) still fits
    for call in (inner, outer):
        with pytest.raises(MemoryError, match=r"^inner: the large table of shape \(500,\)"):
            call(50)
    memory_limit(20)  # both fail: the first one checked raises, as in an uncached call
    for call in (inner, outer):
        with pytest.raises(MemoryError, match=r"^inner: the small table of shape \(50,\)"):
            call(50)
    memory_limit(None)
    assert outer(50) is first


def test_memoized_tells_zero_from_minus_zero():
    plan = v.memoized(lambda fill: object())
    assert plan(0.0) is plan(0.0) and plan(-0.0) is plan(-0.0)
    assert plan(-0.0) is not plan(0.0)
    # resize's extrapolation_value is part of its memoized plan: -0.0 fills with -0.0 after a call with 0.0
    x = np.arange(4.0).reshape(1, 4)
    crop = dict(sizes=(4,), axes=(1,), roi=(0.5, 1.5), mode="linear",
                coordinate_transformation_mode="tf_crop_and_resize")
    assert not np.signbit(upconv.resize(x, extrapolation_value=0.0, **crop)[0, -1])
    assert np.signbit(upconv.resize(x, extrapolation_value=-0.0, **crop)[0, -1])


def test_memoized_interpolation_honours_a_lowered_limit(memory_limit):
    x = np.zeros((1, 1, 8, 8), np.float32)
    upconv.interpolate(x, scale_factor=4, mode="bilinear")  # planned and cached
    memory_limit(1024)
    with pytest.raises(MemoryError, match=r"^interpolate: the output"):
        upconv.interpolate(x, scale_factor=4, mode="bilinear")
