"""Gradients of every operator against torch.autograd: input, weight and bias, randomized parameters."""

from __future__ import annotations

import numpy as np
import pytest

import upconv
from upconv import grad as G
from upconv.ops.resize_convolution import resize_conv

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _t(a):
    return torch.tensor(a, requires_grad=True)


def _random_conv_configs(seed, count, transposed):
    """Random valid (torch accepts them) configurations, 1-d to 3-d."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        n = int(rng.integers(1, 4))
        groups = int(rng.choice([1, 2]))
        ci, co = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
        k = tuple(int(a) for a in rng.integers(1, 4, n))
        s = tuple(int(a) for a in rng.integers(1, 4, n))
        d = tuple(int(a) for a in rng.integers(1, 3, n))
        p = tuple(int(a) for a in rng.integers(0, 3, n))
        size = tuple(int(a) for a in rng.integers(2, 7, n))
        N = int(rng.integers(1, 3))
        if transposed:
            a = tuple(int(rng.integers(0, max(s_, d_))) for s_, d_ in zip(s, d))
            full = [(i - 1) * s_ + d_ * (k_ - 1) + 1 - 2 * p_ + a_
                    for i, s_, d_, k_, p_, a_ in zip(size, s, d, k, p, a)]
            if min(full) < 1:
                continue
            out.append(((N, ci) + size, (ci, co // groups) + k, co, dict(stride=s, padding=p, output_padding=a,
                                                                           groups=groups, dilation=d)))
        else:
            if any(i + 2 * p_ < d_ * (k_ - 1) + 1 for i, p_, d_, k_ in zip(size, p, d, k)):
                continue
            out.append(((N, ci) + size, (co, ci // groups) + k, co, dict(stride=s, padding=p, dilation=d,
                                                                           groups=groups)))
    return out


@pytest.mark.parametrize("xs, ws, co, kw", _random_conv_configs(1, 30, transposed=False))
def test_conv_gradients_match_torch(xs, ws, co, kw):
    rng = np.random.default_rng(abs(hash((xs, ws))) % 2**32)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(co)
    tx, tw, tb = _t(x), _t(w), _t(b)
    conv = (F.conv1d, F.conv2d, F.conv3d)[len(ws) - 3]
    ty = conv(tx, tw, tb, **kw)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(G.conv_grad_input(g, x, w, b, **kw), tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(G.conv_grad_weight(g, x, w, b, **kw), tw.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(G.conv_grad_bias(g, x, w, b, **kw), tb.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("xs, ws, co, kw", _random_conv_configs(2, 30, transposed=True))
def test_conv_transpose_gradients_match_torch(xs, ws, co, kw):
    rng = np.random.default_rng(abs(hash((xs, ws))) % 2**32)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(co)
    tx, tw, tb = _t(x), _t(w), _t(b)
    conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[len(ws) - 3]
    ty = conv(tx, tw, tb, **kw)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(G.conv_transpose_grad_input(g, x, w, b, **kw), tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(G.conv_transpose_grad_weight(g, x, w, b, **kw), tw.grad.numpy(), rtol=1e-10,
                               atol=1e-10)
    np.testing.assert_allclose(G.conv_transpose_grad_bias(g, x, w, b, **kw), tb.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_conv_transpose_output_size_gradient_matches_torch():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(2)
    layer = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(w))
        layer.bias.copy_(torch.tensor(b))
    tx = _t(x)
    ty = layer(tx, output_size=(8, 10))
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    kw = dict(stride=2, padding=1, output_size=(8, 10))
    np.testing.assert_allclose(G.conv_transpose_grad_input(g, x, w, b, **kw), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(G.conv_transpose_grad_weight(g, x, w, b, **kw), layer.weight.grad.numpy(), rtol=1e-12)


def test_float32_gradients_match_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 8, 12, 12)).astype(np.float32)
    w = rng.standard_normal((8, 8, 4, 4)).astype(np.float32)
    tx, tw = _t(x), _t(w)
    ty = F.conv_transpose2d(tx, tw, stride=2, padding=1)
    g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
    ty.backward(torch.tensor(g))
    gx = G.conv_transpose_grad_input(g, x, w, stride=2, padding=1)
    gw = G.conv_transpose_grad_weight(g, x, w, stride=2, padding=1)
    assert gx.dtype == gw.dtype == np.float32
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("shape, kw", [
    ((2, 3, 8, 7), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 9), dict(kernel_size=2, stride=1, dilation=2, ceil_mode=True)),
    ((1, 2, 5, 6, 5), dict(kernel_size=(2, 3, 2), stride=(1, 2, 2))),
])
def test_max_pool_gradient_matches_torch_with_ties(shape, kw):
    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, shape).astype(np.float64)  # many ties: the first maximum gets the gradient
    tx = _t(x)
    pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[len(shape) - 3]
    ty = pool(tx, **kw)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(G.max_pool_grad_input(g, x, **kw), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_max_unpool_gradient_matches_torch_with_overlaps():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 7, 7))
    y, idx = upconv.max_pool(x, 3, stride=2, padding=1, return_indices=True)
    ty = _t(y)
    out = F.max_unpool2d(ty, torch.tensor(idx), 3, stride=2, padding=1, output_size=(7, 7))
    g = rng.standard_normal(tuple(out.shape))
    out.backward(torch.tensor(g))
    np.testing.assert_allclose(G.max_unpool_grad_input(g, y, idx, 3, stride=2, padding=1, output_size=(7, 7)),
                               ty.grad.numpy(), rtol=1e-12)


def test_pixel_shuffle_gradients_match_torch():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 12, 3, 4))
    tx = _t(x)
    ty = F.pixel_shuffle(tx, 2)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(G.pixel_shuffle_grad_input(g, x, 2), tx.grad.numpy())
    x2 = rng.standard_normal((2, 3, 6, 4))
    tx2 = _t(x2)
    ty2 = F.pixel_unshuffle(tx2, 2)
    g2 = rng.standard_normal(tuple(ty2.shape))
    ty2.backward(torch.tensor(g2))
    np.testing.assert_array_equal(G.pixel_unshuffle_grad_input(g2, x2, 2), tx2.grad.numpy())


INTERPOLATE_CASES = [
    ((2, 3, 5), dict(scale_factor=2, mode="nearest")),
    ((1, 2, 5, 4), dict(size=(7, 9), mode="nearest-exact")),
    ((1, 2, 5), dict(scale_factor=2.5, mode="linear")),
    ((1, 2, 4, 5), dict(size=(7, 3), mode="bilinear", align_corners=True)),
    ((1, 2, 4, 5), dict(scale_factor=2, mode="bilinear")),
    ((1, 2, 4, 5), dict(scale_factor=2, mode="bicubic")),
    ((1, 2, 9, 8), dict(size=(4, 3), mode="bilinear", antialias=True)),
    ((1, 2, 7, 5), dict(size=(3, 4), mode="area")),
    ((1, 1, 3, 4, 2), dict(scale_factor=(2, 1.5, 2), mode="trilinear")),
]


@pytest.mark.parametrize("shape, kw", INTERPOLATE_CASES)
def test_interpolate_gradient_matches_torch(shape, kw):
    rng = np.random.default_rng(8)
    x = rng.standard_normal(shape)
    tx = _t(x)
    ty = F.interpolate(tx, **kw)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(G.interpolate_grad_input(g, x, **kw), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape, kw", INTERPOLATE_CASES)
@pytest.mark.parametrize("seed", range(3))
def test_interpolate_gradient_with_inf_and_nan_matches_torch(shape, kw, seed):
    """An inf or NaN in the gradient reaches the inputs torch's backward sends it to, and no others."""
    rng = np.random.default_rng(80 + seed)
    x = rng.standard_normal(shape)
    tx = _t(x)
    ty = F.interpolate(tx, **kw)
    g = rng.standard_normal(tuple(ty.shape))
    bad = rng.choice(g.size, size=1 + seed, replace=False)
    g.flat[bad] = rng.choice([np.inf, -np.inf, np.nan], size=bad.size)
    g.flat[0] = [np.inf, np.nan, -np.inf][seed]  # output 0: where the padding taps of the fast path point
    ty.backward(torch.tensor(g))
    got = G.interpolate_grad_input(g, x, **kw)
    want = tx.grad.numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode, align_corners", [("nearest", None), ("bilinear", None), ("bilinear", True),
                                                 ("bicubic", None)])
def test_resize_conv_gradients_match_torch(mode, align_corners):
    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    tx, tw, tb = _t(x), _t(w), _t(b)
    ty = F.conv2d(F.interpolate(tx, scale_factor=2, mode=mode, align_corners=align_corners), tw, tb, padding="same")
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    kw = dict(mode=mode, align_corners=align_corners)
    np.testing.assert_allclose(resize_conv(x, w, b, **kw), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(G.resize_conv_grad_input(g, x, w, b, **kw), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(G.resize_conv_grad_weight(g, x, w, b, **kw), tw.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(G.resize_conv_grad_bias(g, x, w, b, **kw), tb.grad.numpy(), rtol=1e-10)
