"""upconv.metrics: PSNR and SSIM, hand-checked values, errors, and scikit-image as the anchor."""

from __future__ import annotations

import math

import numpy as np
import pytest

from upconv.restore.metrics import psnr, ssim


def smooth_image(shape, seed=0):
    """A smooth random field in [0, 1] (sum of a few low-frequency cosines)."""
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.linspace(0, 1, s) for s in shape], indexing="ij")
    out = np.zeros(shape)
    for _ in range(4):
        phase = rng.uniform(0, 2 * np.pi)
        freqs = rng.uniform(0.5, 3, len(shape))
        out += np.cos(2 * np.pi * sum(f * g for f, g in zip(freqs, grids)) + phase)
    return (out - out.min()) / (out.max() - out.min())


# --------------------------------------------------------------------------
# PSNR


def test_psnr_hand_checked():
    ref = np.zeros((4, 4))
    assert psnr(ref, ref + 0.1) == pytest.approx(20.0)
    assert psnr(ref, ref + 0.01, data_range=0.1) == pytest.approx(20.0)
    assert psnr(ref, ref) == math.inf


def test_psnr_default_data_range_from_dtype():
    ref8 = np.full((3, 3), 100, dtype=np.uint8)
    assert psnr(ref8, ref8 + np.uint8(1)) == pytest.approx(10 * np.log10(255**2))
    # a float reference with negative values: the assumed float range is [-1, 1], R = 2
    ref = np.array([-0.5, 0.5])
    assert psnr(ref, ref + 0.1) == pytest.approx(10 * np.log10(4 / 0.01))
    assert psnr(np.array([True, False]), np.array([True, True])) == pytest.approx(10 * np.log10(2))


def test_psnr_does_not_modify_inputs():
    ref, est = np.ones(5), np.zeros(5)
    psnr(ref, est)
    assert ref.tolist() == [1] * 5 and est.tolist() == [0] * 5


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((np.zeros(3), np.zeros(4)), {}, ValueError, r"^psnr: reference and estimate must have the same shape"),
        ((np.zeros(0), np.zeros(0)), {}, ValueError, r"^psnr: .*must not be empty"),
        ((np.full(3, 2.0), np.zeros(3)), {}, ValueError, r"^psnr: reference has values in \[2.0, 2.0\].*pass "
                                                         r"data_range"),
        ((np.zeros(3), np.zeros(3)), {"data_range": 0}, ValueError, r"^psnr: every entry of data_range must be finite "
                                                                    r"and > 0"),
        ((np.zeros(3), np.zeros(3)), {"data_range": "1"}, TypeError, r"^psnr: data_range"),
        ((np.array(["a"]), np.array(["b"])), {}, TypeError, r"^psnr: reference must be a real numeric array"),
        ((np.zeros(3), np.array([0, np.nan, 0])), {}, ValueError, r"^psnr: reference and estimate must be finite"),
    ],
)
def test_psnr_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        psnr(*args, **kwargs)


# --------------------------------------------------------------------------
# SSIM


def test_ssim_identical_and_constant_offset():
    a = smooth_image((16, 16))
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, a + 0.5, data_range=1) < 1.0
    mssim, S = ssim(a, a, full=True)
    assert S.shape == a.shape and np.allclose(S, 1.0)


def test_ssim_channel_axis_is_the_mean_of_channels():
    rng = np.random.default_rng(1)
    a = rng.random((12, 13, 3))
    b = a + 0.1 * rng.standard_normal(a.shape)
    per = [ssim(a[..., c], b[..., c], data_range=1) for c in range(3)]
    assert ssim(a, b, data_range=1, channel_axis=-1) == pytest.approx(np.mean(per))
    _, S = ssim(a, b, data_range=1, channel_axis=2, full=True)
    assert S.shape == a.shape


def test_ssim_keeps_float32():
    a = smooth_image((10, 10)).astype(np.float32)
    _, S = ssim(a, a * 0.9, full=True)
    assert S.dtype == np.float32


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((np.zeros((8, 8)), np.zeros((8, 9))), {}, ValueError, r"^ssim: reference and estimate must have the same "
                                                               r"shape"),
        ((np.zeros((8, 8)), np.zeros((8, 8))), {"win_size": 4}, ValueError, r"^ssim: win_size must be odd, got 4"),
        ((np.zeros((5, 8)), np.zeros((5, 8))), {}, ValueError, r"^ssim: win_size=7 exceeds the image extent \(5, 8\)"),
        ((np.zeros((8, 8)), np.zeros((8, 8))), {"win_size": 2.0}, TypeError, r"^ssim: win_size must be an integer"),
        ((np.zeros((8, 8)), np.zeros((8, 8))), {"channel_axis": 2}, ValueError, r"^ssim: channel_axis must be in \[-2, "
                                                                                r"1\]"),
        ((np.zeros((8, 8)), np.zeros((8, 8))), {"K1": -1}, ValueError, r"^ssim: K1 and K2 must be >= 0"),
        ((np.zeros((8, 8)), np.zeros((8, 8))), {"sigma": 0}, ValueError, r"^ssim: every entry of sigma"),
        ((np.zeros((8, 8)), np.zeros((8, 8))), {"full": 1}, TypeError, r"^ssim: full must be True or False"),
    ],
)
def test_ssim_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ssim(*args, **kwargs)


# --------------------------------------------------------------------------
# scikit-image as the anchor


@pytest.fixture(scope="module")
def skm():
    pytest.importorskip("skimage")
    from skimage import metrics

    return metrics


def image_pairs():
    rng = np.random.default_rng(7)
    noise = rng.random((24, 20))
    smooth = smooth_image((24, 20), seed=3)
    yield "random", noise, np.clip(noise + 0.2 * rng.standard_normal(noise.shape), 0, 1)
    yield "smooth", smooth, np.clip(smooth + 0.05 * rng.standard_normal(smooth.shape), 0, 1)
    yield "3d", smooth_image((11, 12, 13), 4), smooth_image((11, 12, 13), 5)


@pytest.mark.parametrize("name, a, b", list(image_pairs()), ids=lambda p: p if isinstance(p, str) else "")
def test_psnr_matches_skimage(skm, name, a, b):
    assert psnr(a, b) == pytest.approx(skm.peak_signal_noise_ratio(a, b), rel=1e-12)
    assert psnr(a, b, data_range=0.5) == pytest.approx(skm.peak_signal_noise_ratio(a, b, data_range=0.5), rel=1e-12)
    a8, b8 = (np.round(a * 255).astype(np.uint8), np.round(b * 255).astype(np.uint8))
    assert psnr(a8, b8) == pytest.approx(skm.peak_signal_noise_ratio(a8, b8), rel=1e-12)


@pytest.mark.parametrize("name, a, b", list(image_pairs()), ids=lambda p: p if isinstance(p, str) else "")
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"win_size": 5},
        {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False},
        {"gaussian_weights": True, "win_size": 7},
        {"K1": 0.02, "K2": 0.05},
    ],
    ids=["default", "win5", "wang", "gauss-win7", "K"],
)
def test_ssim_matches_skimage(skm, name, a, b, kwargs):
    expected, S_expected = skm.structural_similarity(a, b, data_range=1.0, full=True, **kwargs)
    got, S = ssim(a, b, data_range=1.0, full=True, **kwargs)
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(S, S_expected, rtol=1e-10, atol=1e-12)
    for dtype in (np.float32, np.uint8):
        a_, b_ = (a.astype(np.float32), b.astype(np.float32)) if dtype == np.float32 else (
            np.round(a * 255).astype(np.uint8), np.round(b * 255).astype(np.uint8))
        r = 1.0 if dtype == np.float32 else 255
        assert ssim(a_, b_, data_range=r, **kwargs) == pytest.approx(
            skm.structural_similarity(a_, b_, data_range=r, **kwargs), rel=1e-5, abs=1e-6)


def test_ssim_channel_axis_matches_skimage(skm):
    rng = np.random.default_rng(2)
    a = rng.random((3, 16, 17))
    b = np.clip(a + 0.1 * rng.standard_normal(a.shape), 0, 1)
    assert ssim(a, b, data_range=1, channel_axis=0) == pytest.approx(
        skm.structural_similarity(a, b, data_range=1, channel_axis=0), rel=1e-10)
    a8 = np.round(a * 255).astype(np.uint8)
    b8 = np.round(b * 255).astype(np.uint8)
    # uint8 without data_range: both use 255
    assert ssim(a8, b8, channel_axis=0) == pytest.approx(skm.structural_similarity(a8, b8, channel_axis=0), rel=1e-10)
