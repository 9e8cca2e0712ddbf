"""inf and NaN in the weights: where each tap's product goes, as torch (issue 18, section 2).

``0 * inf`` is NaN: a method that multiplies inserted zeros (zero insertion)
or padding (phase, the zero-padded float32 engine) by an inf weight made NaN
where torch gives +-inf.  torch's float32 convolution (oneDNN) sums the taps
that read a real input; its float64 one multiplies the padding.  Every
placement of +inf, -inf and NaN in a small kernel is compared.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import upconv

torch = pytest.importorskip("torch")
F = torch.nn.functional

SPECIALS = [np.inf, -np.inf, np.nan]


def _pattern(a) -> np.ndarray:
    """-2 for -inf, 2 for +inf, 3 for NaN, 0 for finite: where the non-finite values are."""
    a = np.asarray(a, dtype=np.float64)
    return np.where(np.isnan(a), 3, np.where(np.isinf(a), 2 * np.sign(a), 0))


def _placements(shape):
    for special, where in itertools.product(SPECIALS, itertools.product(*(range(s) for s in shape[2:]))):
        yield special, (0, 0) + where


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["auto", "scatter", "zero_insertion", "matrix", "phase"])
@pytest.mark.parametrize(("k", "s", "p"), [(3, 2, 0), (4, 2, 1), (2, 2, 0), (3, 1, 1)])
def test_conv_transpose_with_non_finite_weights(dtype, method, k, s, p):
    rng = np.random.default_rng(0)
    x = (rng.random((2, 3, 5, 5)) + 0.5).astype(dtype)  # positive: no inf - inf between finite products
    base = (rng.random((3, 2, k, k)) + 0.5).astype(dtype)
    for special, at in _placements(base.shape):
        w = base.copy()
        w[at] = special
        # torch's float64 transposed convolution stamps (its float32 oneDNN kernels leave NaN at some
        # outputs that only an inf reaches, for some shapes: upconv gives the stamped +-inf there)
        expected = F.conv_transpose2d(torch.from_numpy(x.astype(np.float64)), torch.from_numpy(w.astype(np.float64)),
                                      stride=s, padding=p).numpy()
        with np.errstate(invalid="ignore", over="ignore"):
            got = upconv.conv_transpose(x, w, stride=s, padding=p, method=method)
        np.testing.assert_array_equal(_pattern(got), _pattern(expected), err_msg=f"{special} at {at}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("k", "s", "p", "d"), [(3, 1, 1, 1), (3, 2, 1, 1), (4, 1, 2, 1), (2, 1, 1, 2)])
def test_conv_with_non_finite_weights(dtype, k, s, p, d):
    rng = np.random.default_rng(1)
    x = (rng.random((2, 12, 7, 7)) + 0.5).astype(dtype)
    base = (rng.random((4, 12, k, k)) + 0.5).astype(dtype)
    for special, at in _placements(base.shape):
        w = base.copy()
        w[at] = special
        expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=s, padding=p, dilation=d).numpy()
        with np.errstate(invalid="ignore", over="ignore"):  # NumPy's matmul warns about 0 * inf (float64)
            got = upconv.conv(x, w, stride=s, padding=p, dilation=d)
        np.testing.assert_array_equal(_pattern(got), _pattern(expected), err_msg=f"{special} at {at}")
        if dtype == np.float32:  # the finite outputs are untouched by the correction
            finite = np.isfinite(expected)
            np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("k", "p"), [(3, 1), (4, 2), (2, 1)])
def test_resize_conv_with_non_finite_weights(k, p):
    rng = np.random.default_rng(2)
    x = (rng.random((2, 12, 5, 5)) + 0.5).astype(np.float32)
    base = (rng.random((4, 12, k, k)) + 0.5).astype(np.float32)
    for special, at in _placements(base.shape):
        w = base.copy()
        w[at] = special
        expected = F.conv2d(F.interpolate(torch.from_numpy(x), scale_factor=2), torch.from_numpy(w), padding=p).numpy()
        with np.errstate(invalid="ignore", over="ignore"):
            got = upconv.resize_conv(x, w, padding=p)
        np.testing.assert_array_equal(_pattern(got), _pattern(expected), err_msg=f"{special} at {at}")
