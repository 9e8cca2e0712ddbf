"""The compiled kernels (upconv.kernels._native): the choice of instruction set, the 8-lane vector layer,
the argument checks, and equal results from every variant this CPU runs."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import upconv
from upconv import grad
from upconv.kernels import _native
from upconv.kernels import convolution as kernels
from upconv.kernels.png import unfilter
from upconv.ops import paths

VARIANTS = _native.variants()


@pytest.fixture
def variant():
    """Run the kernels of another variant for one test (``variant(name)``); the chosen one is restored."""
    before = _native.variant()
    yield _native.use_variant
    _native.use_variant(before)


def test_the_dispatch_picks_the_best_variant_the_cpu_supports():
    assert VARIANTS and VARIANTS[-1] == "base"  # the baseline runs everywhere
    assert set(VARIANTS) <= {"avx512", "avx2", "base"}
    assert _native.variant() == os.environ.get("UPCONV_KERNELS") or VARIANTS[0]
    assert kernels.WIDE == (_native.variant() == "avx512")  # blocks of 24 accumulators need 32 registers
    if "avx512" in VARIANTS:
        assert "avx2" in VARIANTS  # AVX-512 machines run AVX2 too


@pytest.mark.parametrize("name", VARIANTS)
def test_the_environment_picks_a_variant(name):
    code = ("from upconv.kernels import _native, convolution; "
            "print(_native.variant(), convolution.WIDE)")
    env = dict(os.environ, UPCONV_KERNELS=name)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [name, str(name == "avx512")]


def test_an_unknown_variant_is_refused(variant):
    with pytest.raises(ValueError, match="no variant 'sse9'"):
        variant("sse9")
    env = dict(os.environ, UPCONV_KERNELS="sse9")
    code = "import upconv.kernels._native"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode != 0 and "no variant 'sse9'" in run.stderr


@pytest.mark.parametrize("name", VARIANTS)
def test_vector_layer_lane_by_lane(name, variant):
    variant(name)
    x = np.arange(16, dtype=np.float32) + 1
    a, b = x[:8], x[8:]
    for lo, hi in [(0, 8), (2, 5), (-3, 3), (6, 20), (4, 4), (-(2**40), 2**40)]:
        out = np.full((7, 8), np.nan, np.float32)
        _native.simd_lanes(0, 1, x, out, lo, hi)
        np.testing.assert_array_equal(x, np.arange(16, dtype=np.float32) + 1)
        np.testing.assert_array_equal(out[0], np.stack([a[:4], b[:4]], 1).ravel())  # zip_lo
        np.testing.assert_array_equal(out[1], np.stack([a[4:], b[4:]], 1).ravel())  # zip_hi
        kept = (np.arange(8) >= lo) & (np.arange(8) < hi)
        np.testing.assert_array_equal(out[2], np.where(kept, a, 0))  # range
        np.testing.assert_array_equal(out[3], np.where(np.arange(8) < hi, b, 0))  # head
        np.testing.assert_array_equal(out[4], a + b)
        np.testing.assert_array_equal(out[5], a * b + a)  # fma (exact here)
        pairwise = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
        assert out[6, 0] == pairwise and not out[6, 1:].any()  # sum


def test_fma_is_fused_where_the_variant_has_it(variant):
    """One rounding where the instruction set has FMA (AVX2, AVX-512, aarch64), two in the x86 baseline."""
    eps = np.float32(2.0**-23)
    x = np.zeros(16, np.float32)
    x[:8] = 1 + eps  # a
    x[8:] = 1 - eps  # b: a*b = 1 - eps**2, which rounds to 1; a*b + a fused keeps the -eps**2
    fused = np.float32(np.float64(x[0]) * np.float64(x[8]) + np.float64(x[0]))
    for name in VARIANTS:
        variant(name)
        out = np.empty((7, 8), np.float32)
        _native.simd_lanes(0, 1, x, out, 0, 8)
        rounded = np.float32(np.float32(x[0] * x[8]) + x[0])
        expected = rounded if name == "base" and _is_x86() else fused
        assert (out[5] == expected).all(), name


def _is_x86() -> bool:
    import platform

    return platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


# ---------------------------------------------------------------- argument checks


def test_kernels_check_their_arguments():
    f32, f64 = np.zeros((2, 3, 4, 5, 6), np.float32), np.zeros((2, 3, 4, 5, 6))
    out = np.zeros((3, 1, 2, 4, 5, 6), np.float32)
    geometry = ((1, 1, 1), (1, 1, 1), (1, 1, 1), (0, 0, 0))
    kernels.im2col(0, 0, f32, out, *geometry)  # fine (no items)
    with pytest.raises(TypeError, match=r"^im2col: argument 2 must be a C-contiguous float32 or float64 array"):
        kernels.im2col(0, 1, f32[..., ::2], out, *geometry)
    with pytest.raises(TypeError, match=r"^im2col: argument 3 must be a C-contiguous writable"):
        kernels.im2col(0, 1, f32, _read_only(out), *geometry)
    with pytest.raises(TypeError, match=r"^im2col: argument 3 must be a 6-d float32 or float64 array \(of the same"):
        kernels.im2col(0, 1, f32, out.astype(np.float64), *geometry)  # float types differ
    with pytest.raises(TypeError, match=r"^im2col: argument 2 must be a 5-d"):
        kernels.im2col(0, 1, f32[0], out, *geometry)
    with pytest.raises(TypeError, match=r"^im2col: argument 2 must be a 5-d float32 or float64 array"):
        kernels.im2col(0, 1, f32.astype(np.int32), out, *geometry)
    with pytest.raises(TypeError, match=r"^im2col: takes 8 arguments, got 7"):
        kernels.im2col(0, 1, f32, out, *geometry[:3])
    with pytest.raises(TypeError, match=r"^im2col: argument 4 must be a tuple of 3 ints"):
        kernels.im2col(0, 1, f32, out, (1, 1), *geometry[1:])
    with pytest.raises(TypeError, match=r"^im2col: argument 0 must be an int"):
        kernels.im2col(0.5, 1, f32, out, *geometry)
    with pytest.raises(TypeError, match=r"^im2col: argument 2 must be"):
        kernels.im2col(0, 1, f32.tolist(), out, *geometry)
    with pytest.raises(TypeError, match=r"^correlate_simd: argument 2 must be a 5-d float32 array"):
        kernels.correlate_simd(0, 0, f64, np.zeros((1, 1, 4), np.float32), np.zeros((2, 4, 4, 5, 8), np.float32), 1,
                               (1, 1, 1), np.zeros(1, np.int64), False)
    with pytest.raises(TypeError, match=r"^correlate_simd: argument 7 must be a 1-d int64 array"):
        kernels.correlate_simd(0, 0, f32, np.zeros((1, 1, 4), np.float32), np.zeros((2, 4, 4, 5, 8), np.float32), 1,
                               (1, 1, 1), np.zeros(1, np.int32), False)


def _read_only(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.flags.writeable = False
    return a


def test_read_only_inputs_are_fine():
    """Memory-mapped, frombuffer and image arrays are read-only; inputs need not be writable."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8, 9, 30)).astype(np.float32)
    w = rng.standard_normal((8, 6, 3, 3)).astype(np.float32)
    want = upconv.conv_transpose(x, w, stride=2, padding=1)
    got = upconv.conv_transpose(_read_only(x), _read_only(w), stride=2, padding=1)
    np.testing.assert_array_equal(got, want)
    frozen = np.frombuffer(x.tobytes(), np.float32).reshape(x.shape)
    np.testing.assert_array_equal(upconv.interpolate(frozen, scale_factor=2, mode="bicubic"),
                                  upconv.interpolate(x, scale_factor=2, mode="bicubic"))


# ---------------------------------------------------------------- every variant, the same results


def _results(rng_seed: int = 0) -> dict[str, np.ndarray]:
    """Every kernel on small random inputs (the thresholds are lowered so that each takes its compiled path)."""
    rng = np.random.default_rng(rng_seed)
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    out = {}
    x, w = f32(2, 6, 9, 30), f32(6, 8, 3, 3)
    out["conv_transpose phase f32"] = upconv.conv_transpose(x, w, stride=2, padding=1, output_padding=1, method="phase")
    out["conv_transpose scatter f32 s2"] = upconv.conv_transpose(x, w, stride=2, padding=1, method="scatter")
    out["conv_transpose scatter f32 s3"] = upconv.conv_transpose(x, w, stride=3, padding=1, method="scatter")
    out["conv_transpose scatter f64"] = upconv.conv_transpose(x.astype(float), w.astype(float), stride=2,
                                                              method="scatter")
    out["conv_transpose stamp"] = upconv.conv_transpose(x[:, :2], w[:2], stride=2, method="scatter")
    out["conv_transpose subpixel f64"] = upconv.conv_transpose(x.astype(float), f32(6, 8, 4, 4).astype(float),
                                                               stride=2, padding=1, method="phase")
    x3, w3 = f32(1, 6, 3, 4, 20), f32(6, 4, 3, 3, 3)
    out["conv_transpose phase 3-d"] = upconv.conv_transpose(x3, w3, stride=2, padding=1, method="phase")
    xc, wc = f32(2, 5, 7, 40), f32(7, 5, 3, 3)
    out["conv simd"] = upconv.conv(xc, wc, padding=1, stride=(1, 2))
    out["conv direct f32"] = upconv.conv(xc, wc[:2], padding=1)
    out["conv direct f64"] = upconv.conv(xc.astype(float), wc[:2].astype(float), padding=1)
    out["conv im2col f64"] = upconv.conv(xc.astype(float), wc.astype(float), padding=1)
    gy = f32(2, 7, 7, 40)
    out["conv grad weight simd"] = grad.conv_grad_weight(gy, xc, wc, None, 1, 1)
    out["conv grad weight direct"] = grad.conv_grad_weight(gy[:, :2], xc, wc[:2], None, 1, 1)
    img = rng.random((2, 3, 21, 34)).astype(np.float32)
    for mode in ("nearest", "nearest-exact", "bilinear", "bicubic", "area"):
        for dtype in (np.float32, np.float64):
            out[f"interpolate {mode} {dtype.__name__}"] = upconv.interpolate(img.astype(dtype), scale_factor=2.5,
                                                                            mode=mode)
    out["interpolate antialias"] = upconv.interpolate(img, scale_factor=0.3, mode="bicubic", antialias=True)
    out["interpolate lanczos"] = upconv.interpolate(img, scale_factor=0.45, mode="lanczos", antialias=True)
    out["interpolate area 0.1"] = upconv.interpolate(img, size=(2, 3), mode="area")  # 10 or more taps: pairwise
    out["resize cubic"] = upconv.resize(img, scales=(1, 1, 1.7, 0.6), mode="cubic")
    y, idx = upconv.max_pool(img, 3, 2, 1, return_indices=True)
    out["max_pool"], out["max_pool indices"] = y, idx
    out["max_unpool"] = upconv.max_unpool(y, idx, 3, 2, 1, output_size=img.shape[2:])
    big = rng.integers(0, 255, (2, 8, 256, 129), dtype=np.uint8)
    out["pixel_shuffle uint8"] = upconv.pixel_shuffle(big, 2)
    out["pixel_shuffle f32"] = upconv.pixel_shuffle(big.astype(np.float32), 2)
    rows = rng.integers(0, 256, (9, 40), dtype=np.uint8)
    unfilter(np.arange(9, dtype=np.uint8) % 5, rows, 3)
    out["png unfilter"] = rows
    return out


# fused or re-associated (the vector kernels; every GEMM, which is the fixed-order product of csrc/gemm.c):
# the x86 baseline, without FMA, rounds differently; AVX2 and AVX-512 agree
_FUSED = ("conv_transpose phase", "conv simd", "conv grad weight", "conv_transpose scatter", "conv_transpose subpixel",
          "conv im2col")


def test_every_variant_gives_the_same_results(variant, monkeypatch):
    monkeypatch.setattr(paths, "COMPILED_MIN_SIZE", 0)
    monkeypatch.setattr(paths, "SIMD_MIN_WIDTH", 1)
    results = {}
    for name in VARIANTS:
        variant(name)
        monkeypatch.setattr(kernels, "WIDE", name == "avx512")
        results[name] = _results()
    ref = results[VARIANTS[-1]]  # the baseline
    for name, got in results.items():
        for case, value in got.items():
            fused = case.startswith(_FUSED)
            if fused and name != "base" and ("avx2" in results and "direct" not in case):
                np.testing.assert_array_equal(value, results["avx2"][case], err_msg=f"{name}: {case}")
            if fused:
                np.testing.assert_allclose(value, ref[case], rtol=1e-5, atol=1e-5, err_msg=f"{name}: {case}")
            else:
                np.testing.assert_array_equal(value, ref[case], err_msg=f"{name}: {case}")
