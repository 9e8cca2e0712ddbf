"""The compiled paths of conv_transpose (compiled overlap-add, direct stamping, sub-pixel interleave).

Random differential tests use small shapes, which take the NumPy paths; these
configurations are large enough to take the compiled ones, and are compared
with the readable NumPy overlap-add (the definition of kernel stamping).
"""

from __future__ import annotations

import numpy as np
import pytest

import upconv
from upconv import shapes
from upconv.ops import correlation, paths, transposed


def _reference(x, w, g, groups):
    return transposed.overlap_add(transposed._scatter_gemm(x, w, groups), x.shape[0], g)


CASES = [
    # (N, C_in, C_out/groups, spatial, kernel, stride, padding, output_padding, dilation, groups)
    (4, 16, 8, (20, 18), (4, 4), (2, 2), (1, 1), (0, 0), (1, 1), 1),  # GEMM + overlap-add, sub-pixel
    (3, 8, 8, (17, 15), (3, 5), (2, 3), (1, 2), (1, 2), (1, 1), 1),  # uneven overlap, output padding
    (4, 8, 6, (16, 16), (3, 3), (2, 2), (0, 2), (1, 1), (2, 1), 2),  # dilation, groups
    (6, 4, 4, (12, 10), (4, 2), (2, 2), (1, 0), (0, 1), (1, 1), 4),  # depthwise: direct stamping
    (3, 6, 3, (9, 9), (8, 8), (4, 4), (2, 2), (3, 0), (1, 1), 3),  # 2 channels per group: direct
    (8, 12, 16, (200,), (6,), (3,), (2,), (2,), (1,), 1),  # 1-d, sub-pixel
    (2, 6, 4, (7, 6, 8), (4, 2, 4), (2, 2, 2), (1, 0, 2), (0, 1, 1), (1, 1, 1), 1),  # 3-d, sub-pixel
    (2, 6, 4, (7, 6, 8), (3, 2, 3), (2, 1, 2), (1, 0, 0), (1, 0, 1), (1, 2, 1), 2),  # 3-d, dilation
    (4, 8, 8, (30, 25), (2, 2), (3, 3), (0, 1), (2, 1), (1, 1), 1),  # stride > kernel: gaps stay zero
    (4, 8, 8, (20, 20), (3, 3), (1, 1), (1, 1), (0, 0), (2, 2), 1),  # stride 1, dilation 2
    (16, 4, 4, (300,), (5,), (2,), (4,), (1,), (1,), 2),  # 1-d, heavy cropping, direct stamping
    (8, 8, 8, (16, 14), (3, 3), (2, 2), (1, 1), (0, 0), (1, 1), 1),  # stride 2, odd output sizes (31, 27)
    (8, 2, 8, (16, 14), (3, 3), (2, 2), (1, 1), (0, 0), (1, 1), 1),  # the same, direct stamping
    (16, 8, 16, (8, 8), (4, 4), (2, 2), (1, 1), (0, 0), (1, 1), 1),  # DCGAN-like rows of 16: one vector per class
]


@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_paths_equal_the_numpy_overlap_add(case, dtype):
    N, ci, cog, sp, k, s, p, op, d, groups = case
    rng = np.random.default_rng(len(sp) * 100 + ci)
    x = rng.standard_normal((N, ci) + sp).astype(dtype)
    w = rng.standard_normal((ci, cog) + k).astype(dtype)
    g = shapes.conv_transpose_geometry(sp, k, s, p, op, d)
    stamps = N * cog * groups * np.prod(k) * np.prod(g.out_size)
    assert stamps >= paths.COMPILED_MIN_SIZE, "case too small to reach the compiled kernel"
    expected = _reference(x, w, g, groups)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    for method in ("scatter", "phase", "auto"):
        out = upconv.conv_transpose(x, w, None, s, p, op, groups, d, method=method)
        assert out.dtype == dtype and out.shape == expected.shape
        np.testing.assert_allclose(out, expected, rtol=tol, atol=tol * np.abs(expected).max(), err_msg=method)


def test_auto_rule_picks_phase_only_where_it_is_the_sub_pixel_gemm():
    pick = paths.auto_method
    x, w = np.empty((1, 64, 1, 1)), np.empty((64, 64, 4, 4))
    assert pick(x, w, shapes.conv_transpose_geometry((8, 8), 4, 2, 1), 1) == "phase"
    w3 = np.empty((64, 64, 3, 3))  # k % s != 0: classes differ in size
    assert pick(x, w3, shapes.conv_transpose_geometry((8, 8), 3, 2, 1), 1) == "scatter"
    wide = np.empty((1, 256, 1, 1))  # scatter's GEMM is already wide
    assert pick(wide, np.empty((256, 64, 4, 4)), shapes.conv_transpose_geometry((8, 8), 4, 2, 1), 1) == "scatter"
    no_overlap = np.empty((64, 64, 2, 2))  # k == s: the same GEMM as scatter
    assert pick(x, no_overlap, shapes.conv_transpose_geometry((8, 8), 2, 2, 0), 1) == "scatter"
    few_rows = np.empty((64, 3, 4, 4))  # 4 classes x 3 channels: a GEMM of 12 rows
    assert pick(x, few_rows, shapes.conv_transpose_geometry((8, 8), 4, 2, 1), 1) == "scatter"


@pytest.mark.parametrize("seed", range(40))
def test_compiled_im2col_equals_the_numpy_strided_slices(seed, monkeypatch):
    # random 1-3 d geometries, with asymmetric and negative (cropping) padding, on tiny shapes
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    k = tuple(int(a) for a in rng.integers(1, 4, n))
    s = tuple(int(a) for a in rng.integers(1, 4, n))
    d = tuple(int(a) for a in rng.integers(1, 3, n))
    pads = tuple((int(b), int(e)) for b, e in rng.integers(-1, 4, (n, 2)))
    size = tuple(int((kk - 1) * dd + 1 + max(0, -b) + max(0, -e) + rng.integers(0, 6))
                 for kk, dd, (b, e) in zip(k, d, pads, strict=True))
    x = rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 4))) + size)
    # ConvGeometry directly: conv's public arguments refuse negative padding, which the phase view uses
    out = tuple((i + b + e - dd * (kk - 1) - 1) // ss + 1
                for i, (b, e), kk, ss, dd in zip(size, pads, k, s, d, strict=True))
    g = shapes.ConvGeometry(size, out, k, s, d, pads)
    monkeypatch.setattr(paths, "COMPILED_MIN_SIZE", 2**62)
    expected = correlation.im2col_into(x, g, 1)
    monkeypatch.setattr(paths, "COMPILED_MIN_SIZE", 0)
    compiled = correlation.im2col_into(x, g, 1)
    np.testing.assert_array_equal(compiled, expected)


@pytest.mark.parametrize("seed", range(30))
def test_direct_convolution_equals_im2col_gemm(seed, monkeypatch):
    # one or two output channels per group take the compiled direct kernels (forward and weight
    # gradient); compared with the im2col + GEMM path on random 1-3 d geometries
    from upconv import grad

    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(1, 4))
    k = tuple(int(a) for a in rng.integers(1, 4, n))
    s = tuple(int(a) for a in rng.integers(1, 4, n))
    d = tuple(int(a) for a in rng.integers(1, 3, n))
    p = tuple(int(a) for a in rng.integers(0, 3, n))
    groups = int(rng.integers(1, 3))
    size = tuple(int((kk - 1) * dd + 1 + rng.integers(0, 7)) for kk, dd in zip(k, d, strict=True))
    ci, co = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 3))
    x = rng.standard_normal((int(rng.integers(1, 4)), ci) + size)
    w = rng.standard_normal((co, ci // groups) + k)
    monkeypatch.setattr(paths, "COMPILED_MIN_SIZE", 0)
    direct = upconv.conv(x, w, None, s, p, d, groups)
    gy = rng.standard_normal(direct.shape)
    direct_gw = grad.conv_grad_weight(gy, x, w, None, s, p, d, groups)
    monkeypatch.setattr(paths, "DIRECT_MAX_CHANNELS", 0)
    np.testing.assert_allclose(direct, upconv.conv(x, w, None, s, p, d, groups), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(direct_gw, grad.conv_grad_weight(gy, x, w, None, s, p, d, groups), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_conv_transpose_kernels_on_random_geometries(seed, dtype, monkeypatch):
    # every compiled path (overlap-add, direct stamping, sub-pixel interleave) on random small 1-3 d
    # geometries: dilation, stride > kernel, cropping padding, output padding, groups; in float32 half
    # the draws have stride 2 along the last axis (the vector overlap-add), with rows up to 60 long
    rng = np.random.default_rng(2000 + seed)
    while True:  # draw until the output is not empty
        n = int(rng.integers(1, 4))
        k = tuple(int(a) for a in rng.integers(1, 5, n))
        s = tuple(int(a) for a in rng.integers(1, 4, n))
        if dtype == np.float32 and seed % 2:
            k, s = k[:-1] + (int(rng.integers(3, 8)),), s[:-1] + (2,)
        d = tuple(int(a) for a in rng.integers(1, 3, n))
        size = tuple(int(a) for a in rng.integers(1, 6, n - 1)) + (int(rng.integers(1, 31 if seed % 2 else 6)),)
        p = tuple(int(rng.integers(0, (kk - 1) * dd + 1)) for kk, dd in zip(k, d, strict=True))
        op = tuple(int(rng.integers(0, max(ss, dd))) for ss, dd in zip(s, d, strict=True))
        if all((i - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1 >= 1
               for i, ss, pp, dd, kk, oo in zip(size, s, p, d, k, op, strict=True)):
            break
    g = shapes.conv_transpose_geometry(size, k, s, p, op, d)
    groups = int(rng.integers(1, 3))
    ci = groups * int(rng.integers(1, 5))  # 1-2 channels per group stamp directly, more use the GEMM
    x = rng.standard_normal((int(rng.integers(1, 3)), ci) + size).astype(dtype)
    w = rng.standard_normal((ci, int(rng.integers(1, 3))) + k).astype(dtype)
    expected = _reference(x, w, g, groups)
    monkeypatch.setattr(paths, "COMPILED_MIN_SIZE", 0)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for method in ("scatter", "phase"):
        out = upconv.conv_transpose(x, w, None, s, p, op, groups, d, method=method)
        assert out.dtype == dtype
        np.testing.assert_allclose(out, expected, rtol=tol, atol=tol * max(1.0, np.abs(expected).max()), err_msg=method)
