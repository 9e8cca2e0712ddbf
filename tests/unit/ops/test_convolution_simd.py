"""The float32 vector kernels: direct convolution, its weight gradient, and the direct polyphase conv_transpose.

They take convolutions with few channels, float32, up to 3 spatial axes (any
stride) and output rows of at least 24 (``paths.use_simd_conv``); here the thresholds are
lowered so that small random geometries take them, and every result is
compared with the im2col + GEMM paths (which the differential tests compare
with torch) and, for a few, with torch itself.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import upconv
from upconv import grad, shapes
from upconv.ops import paths


def _random_case(rng):
    n = int(rng.integers(1, 4))
    k = tuple(int(a) for a in rng.integers(1, 5, n))
    d = tuple(int(a) for a in rng.integers(1, 3, n))
    s = tuple(int(a) for a in rng.integers(1, 4, n))
    p = tuple(int(a) for a in rng.integers(0, 3, n))
    groups = int(rng.integers(1, 3))
    # the last axis spans whole 24-wide blocks, 8-wide remainders and partial vectors
    size = tuple(int((kk - 1) * dd + 1 + rng.integers(0, 6)) for kk, dd in zip(k[:-1], d[:-1], strict=True))
    size += (int((k[-1] - 1) * d[-1] + 1 + rng.integers(0, 60)),)
    ci, co = groups * int(rng.integers(1, 5)), groups * int(rng.integers(3, 10))
    x = rng.standard_normal((int(rng.integers(1, 4)), ci) + size).astype(np.float32)
    w = rng.standard_normal((co, ci // groups) + k).astype(np.float32)
    return x, w, s, p, d, groups


@pytest.fixture
def simd_everywhere(monkeypatch):
    monkeypatch.setattr(paths, "COMPILED_MIN_SIZE", 0)
    monkeypatch.setattr(paths, "SIMD_MIN_WIDTH", 1)


@pytest.mark.parametrize("seed", range(40))
def test_vector_kernels_equal_im2col_gemm(seed, simd_everywhere, monkeypatch):
    from upconv.kernels import convolution as kernels

    monkeypatch.setattr(kernels, "WIDE", bool(seed % 2))  # blocks of 48 outputs or of 24 only
    x, w, s, p, d, groups = _random_case(np.random.default_rng(2000 + seed))
    g = shapes.conv_geometry(x.shape[2:], w.shape[2:], s, p, d)
    assert paths.use_simd_conv(x, g, x.shape[1] // groups, w.shape[0] // groups)
    y = upconv.conv(x, w, None, s, p, d, groups)
    gy = np.random.default_rng(seed).standard_normal(y.shape).astype(np.float32)
    gw = grad.conv_grad_weight(gy, x, w, None, s, p, d, groups)
    gx = grad.conv_grad_input(gy, x, w, None, s, p, d, groups)
    monkeypatch.setattr(paths, "SIMD_MAX_CHANNELS", 0)  # im2col + GEMM
    scale = float(np.abs(x).max() * np.abs(w).max() * w[0].size)
    np.testing.assert_allclose(y, upconv.conv(x, w, None, s, p, d, groups), rtol=1e-5, atol=1e-6 * scale)
    np.testing.assert_allclose(gw, grad.conv_grad_weight(gy, x, w, None, s, p, d, groups), rtol=1e-4,
                               atol=1e-5 * scale * y[0, 0].size)
    np.testing.assert_allclose(gx, grad.conv_grad_input(gy, x, w, None, s, p, d, groups), rtol=1e-5,
                               atol=1e-6 * scale)
    assert y.dtype == gw.dtype == gx.dtype == np.float32


@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("width", [48, 55, 72, 97])  # one 48-block; + 8 and a partial vector; 48 + 24; 48*2 + 1
def test_vector_conv_on_rows_of_48_and_more(width, wide, simd_everywhere, monkeypatch):
    from upconv.kernels import convolution as kernels

    monkeypatch.setattr(kernels, "WIDE", wide)  # 48-wide blocks where rows fit them, or 24-wide only
    rng = np.random.default_rng(width + wide)
    for x, w, p in [(rng.standard_normal((2, 6, width + 2)), rng.standard_normal((9, 6, 3)), 0),
                    (rng.standard_normal((1, 4, 5, width)), rng.standard_normal((6, 2, 3, 3)), 1)]:
        groups = x.shape[1] // w.shape[1]
        g = shapes.conv_geometry(x.shape[2:], w.shape[2:], 1, p, 1)
        x32 = x.astype(np.float32)
        assert g.out_size[-1] == width and paths.use_simd_conv(x32, g, x.shape[1] // groups, w.shape[0] // groups)
        y = upconv.conv(x32, w.astype(np.float32), None, 1, p, 1, groups)
        # float64 takes im2col + GEMM
        np.testing.assert_allclose(y, upconv.conv(x, w, None, 1, p, 1, groups), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("seed", range(8))
def test_vector_kernels_against_torch(seed, simd_everywhere):
    torch = pytest.importorskip("torch", reason="torch is the oracle of this test")
    x, w, s, p, d, groups = _random_case(np.random.default_rng(3000 + seed))
    n = w.ndim - 2
    f = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d, 3: torch.nn.functional.conv3d}[n]
    tw = torch.from_numpy(w).requires_grad_()
    ty = f(torch.from_numpy(x), tw, None, s, p, d, groups)
    gy = np.random.default_rng(seed).standard_normal(tuple(ty.shape)).astype(np.float32)
    ty.backward(torch.from_numpy(gy))
    y = upconv.conv(x, w, None, s, p, d, groups)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grad.conv_grad_weight(gy, x, w, None, s, p, d, groups), tw.grad.numpy(),
                               rtol=1e-4, atol=1e-3)


def test_weight_gradient_masks_the_padded_lanes(simd_everywhere):
    """Columns past the output width are computed in whole vectors; an inf read only there stays out."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 30)).astype(np.float32)
    x[..., -1] = np.inf  # read by tap 2 of the last output only, and by tap 0 of padded lanes
    w = rng.standard_normal((4, 3, 1, 3)).astype(np.float32)
    gy = rng.standard_normal((2, 4, 4, 28)).astype(np.float32)
    gw = grad.conv_grad_weight(gy, x, w)
    assert np.isfinite(gw[..., :2]).all()
    expected = np.einsum("nchw,ndhw->cd", gy, x[..., :28]).reshape(4, 3)
    np.testing.assert_allclose(gw[:, :, 0, 0], expected, rtol=1e-4, atol=1e-4)


def test_the_rule_follows_dtype_width_and_channels():
    g = shapes.conv_geometry((48, 48), (3, 3), 1, 1, 1)
    x32 = np.zeros((16, 16, 48, 48), np.float32)
    assert paths.use_simd_conv(x32, g, 16, 16)
    assert not paths.use_simd_conv(x32.astype(np.float64), g, 16, 16)
    assert paths.use_simd_conv(x32, shapes.conv_geometry((48, 48), (3, 3), 2, 1, 1), 16, 16)  # 24 wide
    assert not paths.use_simd_conv(x32, shapes.conv_geometry((48, 48), (3, 3), 4, 1, 1), 16, 16)  # 12 wide
    assert not paths.use_simd_conv(x32, g, 16, 2)  # the direct kernels' case
    assert not paths.use_simd_conv(x32, g, 256, 256)  # OpenBLAS's GEMM is fast there
    assert not paths.use_simd_conv(x32[..., :12, :12], shapes.conv_geometry((12, 12), (3, 3), 1, 1, 1), 16, 16)


def test_the_transposed_rule_follows_dtype_channels_and_rows():
    rule = paths.use_simd_transpose
    y = np.zeros((8, 64, 32, 32), np.float32)
    k3s2 = shapes.conv_transpose_geometry((32, 32), (3, 3), 2, 1, 1)
    assert rule(y, k3s2, 64, 64)  # workload d: images up to C_in * C_out = 4096
    assert rule(y[..., :8, :8], shapes.conv_transpose_geometry((8, 8), (3, 3), 2, 1, 1), 64, 64)  # rows of 4
    assert not rule(y.astype(np.float64), k3s2, 64, 64)
    assert not rule(y[:1], k3s2, 128, 64)  # OpenBLAS's GEMM is faster on 1024 pixels of 128 -> 64
    assert rule(y[:4], k3s2, 128, 64)  # but not on 4096
    assert not rule(y, k3s2, 256, 128)  # nor with 256 -> 128
    assert rule(y, k3s2, 128, 256) and not rule(y[:1], k3s2, 128, 256)  # but 128 -> 256 from 4096 pixels
    a = shapes.conv_transpose_geometry((8, 8), (4, 4), 2, 1)
    ya = np.zeros((16, 256, 8, 8), np.float32)
    # workload a (even overlap on 16 images): the GEMM path (scatter) since the C kernels, in both directions
    assert not rule(ya, a, 256, 128) and not rule(ya[:, :128], a, 128, 256)
    a16 = shapes.conv_transpose_geometry((16, 16), (4, 4), 2, 1)
    assert not rule(np.zeros((8, 256, 16, 16), np.float32), a16, 256, 128)  # 8 images (of 2048 pixels)
    assert not rule(ya, shapes.conv_transpose_geometry((8, 8), (3, 3), 2, 1, 1), 256, 128)  # k3: uneven
    assert not rule(ya, a, 256, 256)  # 256 -> 256
    assert not rule(ya, shapes.conv_transpose_geometry((8, 8), (2, 2), 1, 0), 256, 128)  # stride 1
    a3 = shapes.conv_transpose_geometry((4, 4, 4), (4, 4, 4), 2, 1)
    assert not rule(np.zeros((16, 256, 4, 4, 4), np.float32), a3, 256, 128)  # 3-d
    assert not rule(ya[..., :4, :4], shapes.conv_transpose_geometry((4, 4), (4, 4), 2, 1), 256, 128)  # 256 pixels
    assert not rule(y, shapes.conv_transpose_geometry((32, 32), (2, 2), 2, 0), 64, 64)  # k == s: an interleave
    assert not rule(y, k3s2, 64, 3)  # blocks of 4 channels would run partly empty
    y1 = np.zeros((32, 64, 1024), np.float32)
    assert rule(y1, shapes.conv_transpose_geometry((1024,), (4,), 2, 1), 64, 64)  # workload f
    assert not rule(y1[..., :20], shapes.conv_transpose_geometry((20,), (4,), 2, 1), 64, 64)  # classes of 20
    f256 = shapes.conv_transpose_geometry((256,), (4,), 2, 1)
    assert rule(y1[:, :, :256], f256, 256, 256) and not rule(y1[:8, :, :256], f256, 256, 256)  # from 8192 positions


def _random_transpose_case(rng):
    n = int(rng.integers(1, 4))
    k = tuple(int(a) for a in rng.integers(1, 6, n))
    s = tuple(int(a) for a in rng.integers(1, 4, n))  # stride > kernel leaves classes no tap reaches
    if k == s:  # scatter's case (an interleave), not the vector kernel's
        k = (k[0] + 1,) + k[1:]
    d = tuple(int(a) for a in rng.integers(1, 3, n))
    p = tuple(int(rng.integers(0, dd * (kk - 1) // 2 + 1)) for kk, dd in zip(k, d, strict=True))  # output size >= 1
    op = tuple(int(rng.integers(0, max(ss, dd))) for ss, dd in zip(s, d, strict=True))
    groups = int(rng.integers(1, 3))
    size = tuple(int(a) for a in rng.integers(1, 7, n - 1)) + (int(rng.integers(1, 64)),)  # rows of 48 + 24 + 8
    ci, cog = groups * int(rng.integers(3, 6)), int(rng.choice([4, 8, 9]))
    x = rng.standard_normal((int(rng.integers(1, 3)), ci) + size).astype(np.float32)
    w = rng.standard_normal((ci, cog) + k).astype(np.float32)
    return x, w, s, p, op, groups, d


@pytest.mark.parametrize("seed", range(40))
def test_direct_polyphase_conv_transpose_equals_stamping(seed, simd_everywhere, monkeypatch):
    from upconv.kernels import convolution as kernels

    rng = np.random.default_rng(4000 + seed)
    x, w, s, p, op, groups, d = _random_transpose_case(rng)
    monkeypatch.setattr(paths, "CHUNK", int(rng.choice([1, 3, 256])))  # the reduction in chunks
    monkeypatch.setattr(kernels, "WIDE", bool(seed % 2))  # blocks of 24 accumulators or of 12 only
    monkeypatch.setattr(paths, "STREAM_MIN_BYTES", 0 if seed % 4 < 2 else 2**62)  # stores past the caches
    monkeypatch.setattr(paths, "FUSED_ITEMS_PER_THREAD", int(rng.choice([0, 10**6])))  # items (n, g) or rows
    g = shapes.conv_transpose_geometry(x.shape[2:], w.shape[2:], s, p, op, d)
    assert paths.use_simd_transpose(x, g, x.shape[1] // groups, w.shape[1])
    direct = upconv.conv_transpose(x, w, None, s, p, op, groups, d, method="phase")
    assert paths.auto_method(x, w, g, groups) == "phase"
    scale = float(np.abs(x).max() * np.abs(w).max() * w.shape[0])
    np.testing.assert_allclose(direct, upconv.conv_transpose(x, w, None, s, p, op, groups, d, method="scatter"),
                               rtol=1e-5, atol=1e-6 * scale)
    assert direct.dtype == np.float32


@pytest.mark.parametrize("chunk", [256, 5])
@pytest.mark.parametrize("wide", [False, True])
def test_streamed_stores_of_the_polyphase_kernel(chunk, wide, simd_everywhere, monkeypatch):
    # stride 2 along rows of whole cache lines (32 and 64 outputs), 1-3 d, each class's sum in one chunk
    # (streamed) or in several (stored through the caches: later chunks read the output back)
    from upconv.kernels import convolution as kernels

    monkeypatch.setattr(paths, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(paths, "CHUNK", chunk)
    monkeypatch.setattr(kernels, "WIDE", wide)
    rng = np.random.default_rng(chunk + wide)
    cases = [((16,), 4, 1, 8), ((32,), 3, 2, 9), ((7, 16), 4, 1, 9), ((3, 5, 32), 3, 2, 8)]
    for (size, k, groups, cog), fused in itertools.product(cases, (0, 10**6)):
        # blocks of 4 channels full or not (9 per group), one or two groups, items (n, g) or rows
        monkeypatch.setattr(paths, "FUSED_ITEMS_PER_THREAD", fused)
        x = rng.standard_normal((2, 6 * groups) + size).astype(np.float32)
        w = rng.standard_normal((6 * groups, cog) + (k,) * len(size)).astype(np.float32)
        op = (1,) * len(size) if k == 3 else 0
        g = shapes.conv_transpose_geometry(size, w.shape[2:], 2, 1, op)
        assert g.in_size[-1] % 16 == 0 and paths.use_simd_transpose(x, g, 6, cog)
        got = upconv.conv_transpose(x, w, None, 2, 1, op, groups, method="phase")
        assert got.ctypes.data % 64 == 0
        want = upconv.conv_transpose(x, w, None, 2, 1, op, groups, method="scatter")
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_aligned_empty():
    from upconv.kernels.workspace import aligned_empty

    for shape in [(0,), (3, 5), (2, 3, 7)]:
        for alignment in (32, 64, 4096):
            a = aligned_empty(shape, np.float32, alignment)
            assert a.shape == shape and a.dtype == np.float32 and a.flags.c_contiguous and a.flags.writeable
            assert a.size == 0 or a.ctypes.data % alignment == 0


def test_scratch_buffers_start_on_a_cache_line_and_are_reused():
    from upconv.kernels.workspace import scratch

    a = scratch("test_role", (5, 7), np.float32)
    assert a.shape == (5, 7) and a.dtype == np.float32 and a.ctypes.data % 64 == 0
    b = scratch("test_role", (3, 3), np.float64)  # smaller: the same memory
    assert b.ctypes.data == a.ctypes.data and b.dtype == np.float64
    c = scratch("test_role", (100, 100), np.float32)  # larger: a new buffer, aligned too
    assert c.shape == (100, 100) and c.ctypes.data % 64 == 0


@pytest.mark.parametrize("seed", range(6))
def test_direct_polyphase_conv_transpose_against_torch(seed, simd_everywhere, monkeypatch):
    torch = pytest.importorskip("torch", reason="torch is the oracle of this test")
    monkeypatch.setattr(paths, "FUSED_ITEMS_PER_THREAD", seed % 2 * 10**6)  # items (n, g) or rows
    x, w, s, p, op, groups, d = _random_transpose_case(np.random.default_rng(5000 + seed))
    n = w.ndim - 2
    f = {1: torch.nn.functional.conv_transpose1d, 2: torch.nn.functional.conv_transpose2d,
         3: torch.nn.functional.conv_transpose3d}[n]
    ref = f(torch.from_numpy(x), torch.from_numpy(w), None, s, p, op, groups, d).numpy()
    got = upconv.conv_transpose(x, w, None, s, p, op, groups, d, method="phase")
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("seed", range(12))
def test_vector_kernels_keep_the_adjoint_identity(seed, simd_everywhere):
    """<conv(x), y> == <x, conv_transpose(y)> with both sides computed by the vector kernels."""
    rng = np.random.default_rng(6000 + seed)
    x, w, s, p, d, groups = _random_case(rng)
    if w.shape[2:] == s:  # k == s is kernel stamping's case (an interleave), not the vector kernel's
        s = s[:-1] + (s[-1] % 3 + 1,)
    cig = int(rng.choice([4, 8]))  # the transposed convolution's output channels: whole blocks of 4
    x = rng.standard_normal((x.shape[0], groups * cig) + x.shape[2:]).astype(np.float32)
    w = rng.standard_normal((w.shape[0], cig) + w.shape[2:]).astype(np.float32)
    g = shapes.conv_geometry(x.shape[2:], w.shape[2:], s, p, d)
    # conv's weight (C_out, C_in/groups, *k) is, read as (C_in, C_out/groups, *k), its adjoint's
    y = np.random.default_rng(seed).standard_normal((x.shape[0], w.shape[0]) + g.out_size).astype(np.float32)
    op = shapes.conv_transpose_output_padding(g.in_size, g.out_size, g.kernel_size, g.stride, g.padding, g.dilation)
    assert paths.use_simd_conv(x, g, x.shape[1] // groups, w.shape[0] // groups)
    gt = shapes.conv_transpose_geometry(g.out_size, g.kernel_size, g.stride, g.padding, op, g.dilation)
    assert paths.use_simd_transpose(y, gt, w.shape[0] // groups, cig)
    lhs = np.vdot(upconv.conv(x, w, None, s, p, d, groups).astype(np.float64), y)
    rhs = np.vdot(x.astype(np.float64), upconv.conv_transpose(y, w, None, s, p, op, groups, d, method="phase"))
    assert abs(lhs - rhs) <= 1e-4 * (abs(lhs) + np.abs(x).sum() * np.abs(w).max())


@pytest.mark.parametrize("seed", range(12))
def test_layer_backward_of_conv_transpose_by_the_vector_kernels(seed, simd_everywhere, monkeypatch):
    """The ConvTranspose layer's backward (grad.conv_transpose_grads) equals the im2col + GEMM one."""
    x, w, s, p, op, groups, d = _random_transpose_case(np.random.default_rng(7000 + seed))
    y = upconv.conv_transpose(x, w, None, s, p, op, groups, d)
    gy = np.random.default_rng(seed).standard_normal(y.shape).astype(np.float32)
    g = shapes.conv_geometry(y.shape[2:], w.shape[2:], s, p, d)
    assert paths.use_simd_conv(gy, g, w.shape[1], x.shape[1] // groups)
    gx, gw, gb = grad.convolution.conv_transpose_grads(gy, x, w, np.zeros(y.shape[1], np.float32), s, p, op, groups, d)
    monkeypatch.setattr(paths, "SIMD_MAX_CHANNELS", 0)  # im2col + GEMM
    ref = grad.convolution.conv_transpose_grads(gy, x, w, np.zeros(y.shape[1], np.float32), s, p, op, groups, d)
    scale = float(np.abs(gy).max() * max(np.abs(w).max(), np.abs(x).max()) * w[0].size * gy[0, 0].size)
    for got, want in zip((gx, gw, gb), ref, strict=True):
        assert got.shape == want.shape and got.dtype == want.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * scale)
