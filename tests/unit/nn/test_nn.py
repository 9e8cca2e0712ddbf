"""upconv.nn: layers, initialisers, losses, optimisers, training, parameters on disk."""

from __future__ import annotations

import math

import numpy as np
import pytest

import upconv
from upconv import grad, nn
from upconv.explain.checkerboard import dc_gain_spread
from upconv.nn import init as I


def rng(seed=0):
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------
# initialisers


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("r", [2, 3])
def test_icnr_has_zero_dc_gain_spread(n, r):
    layer = nn.SubPixelConv(3, 2, 3, upscale_factor=r, ndim=n, init="icnr", rng=rng(n + r), dtype=np.float64)
    w, s = layer.transposed_weight()
    assert dc_gain_spread(w, s).flat
    assert dc_gain_spread(w, s).max_spread == 0.0
    # the same layer with torch's default init has a spread
    default = nn.SubPixelConv(3, 2, 3, upscale_factor=r, ndim=n, init="default", rng=rng(n + r), dtype=np.float64)
    assert not dc_gain_spread(*default.transposed_weight()).flat


def test_icnr_bias_is_equal_within_each_phase_group():
    layer = nn.SubPixelConv(2, 3, 3, upscale_factor=2, init="icnr", rng=rng())
    b = layer.params["bias"].reshape(3, 4)
    assert np.all(b == b[:, :1])
    x = np.full((1, 2, 5, 5), 0.7, np.float32)
    y = layer.forward(x)[..., 2:-2, 2:-2]  # a flat input gives a flat output (away from the zero padding)
    np.testing.assert_allclose(y, y[..., :1, :1] * np.ones_like(y), rtol=1e-5)


@pytest.mark.parametrize("k, s, n", [(4, 2, 2), (3, 2, 1), (5, 3, 2), (4, 2, 3), (6, 3, 1)])
def test_resize_equivalent_init_has_zero_dc_gain_spread(k, s, n):
    layer = nn.ConvTranspose(4, 3, k, stride=s, ndim=n, init="resize_equivalent", rng=rng(k), dtype=np.float64)
    assert dc_gain_spread(layer.params["weight"], s).flat
    default = nn.ConvTranspose(4, 3, k, stride=s, ndim=n, rng=rng(k), dtype=np.float64)
    assert not dc_gain_spread(default.params["weight"], s).flat


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_resize_conv_layers_have_zero_dc_gain_spread(mode):
    layer = nn.ResizeConv(3, 4, 3, mode=mode, rng=rng(), dtype=np.float64)
    assert dc_gain_spread(*layer.transposed_weight()).flat


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_resize_conv_transposed_weight_reproduces_the_layer(mode):
    layer = nn.ResizeConv(2, 3, 3, mode=mode, bias=False, ndim=1, rng=rng(), dtype=np.float64)
    x = rng(1).standard_normal((2, 2, 12))
    K, (s,) = layer.transposed_weight()
    extra = (K.shape[-1] - 3) // 2  # ek - 1 - p of the equivalent transposed convolution
    full = upconv.conv_transpose(x, K, stride=s)
    y = layer.forward(x)
    # nearest: equal everywhere with the right crop; linear: away from the borders
    crop = full[..., extra + 1 : extra + 1 + y.shape[-1]] if mode == "nearest" else None
    if mode == "nearest":
        np.testing.assert_allclose(y, crop, rtol=1e-12, atol=1e-12)
    else:
        off = (K.shape[-1] - 3) // 2 + 1
        np.testing.assert_allclose(y[..., 4:-4], full[..., off + 4 : off + y.shape[-1] - 4], rtol=1e-12, atol=1e-12)


def test_subpixel_transposed_weight_reproduces_the_layer():
    layer = nn.SubPixelConv(2, 3, 3, upscale_factor=2, bias=False, init="default", rng=rng(), dtype=np.float64)
    x = rng(1).standard_normal((2, 2, 5, 6))
    K, s = layer.transposed_weight()
    # sub-pixel conv with kernel k and padding p == transposed conv with stride r and padding (k-1-p)*r
    np.testing.assert_allclose(layer.forward(x), upconv.conv_transpose(x, K, stride=s, padding=2), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("s", [2, 3, 4])
@pytest.mark.parametrize("n", [1, 2])
def test_bilinear_init_reproduces_bilinear_interpolation_away_from_borders(s, n):
    """FCN's kernel = interpolate(mode=(bi)linear, align_corners=False) up to s pixels from each border."""
    k = 2 * s - s % 2
    layer = nn.ConvTranspose(3, 3, k, stride=s, padding=I.bilinear_padding(s), ndim=n, init="bilinear",
                             dtype=np.float64)
    x = rng(s).standard_normal((2, 3) + (7,) * n)
    y = layer.forward(x)
    ref = upconv.interpolate(x, scale_factor=s, mode="linear" if n == 1 else "bilinear", align_corners=False)
    assert y.shape == ref.shape
    inner = (Ellipsis,) + (slice(s, -s),) * n
    np.testing.assert_allclose(y[inner], ref[inner], rtol=1e-12, atol=1e-12)
    assert not np.allclose(y, ref)  # the borders differ (zero padding vs edge clamping)


def test_bilinear_kernel_values_and_weight_layout():
    np.testing.assert_allclose(I.bilinear_kernel(2, 1), [0.25, 0.75, 0.75, 0.25])
    np.testing.assert_allclose(I.bilinear_kernel(4, 1), [0.125, 0.375, 0.625, 0.875, 0.875, 0.625, 0.375, 0.125])
    assert I.bilinear_kernel(2).shape == (4, 4)
    w = I.bilinear_weight(4, 4, 2, groups=4)
    assert w.shape == (4, 1, 4, 4) and np.all(w[:, 0] == w[0, 0])
    w = I.bilinear_weight(3, 2, 2, ndim=1)
    assert w.shape == (3, 2, 4) and w[2].sum() == 0 and w[0, 1].sum() == 0 and w[1, 1].sum() == 2
    with pytest.raises(ValueError, match="ConvTranspose: init='bilinear' needs"):
        nn.ConvTranspose(2, 2, 3, stride=2, init="bilinear")


def test_torch_default_fan_in_conventions():
    assert I.fan_in_and_fan_out((16, 8, 3, 3)) == (72, 144)
    assert I.fan_in_and_fan_out((8, 16, 4, 4)) == (256, 128)  # ConvTranspose weight: fan_in counts C_out
    layer = nn.ConvTranspose(8, 16, 4, stride=2, rng=rng())
    bound = 1 / math.sqrt(16 * 16)
    w, b = layer.params["weight"], layer.params["bias"]
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound
    conv = nn.Conv(8, 16, 3, groups=2, rng=rng())
    assert np.abs(conv.params["weight"]).max() <= 1 / math.sqrt(4 * 9)


def test_initialisation_is_reproducible_from_the_generator():
    a = nn.Conv(3, 4, 3, rng=rng(5))
    b = nn.Conv(3, 4, 3, rng=rng(5))
    c = nn.Conv(3, 4, 3, rng=rng(6))
    assert np.array_equal(a.params["weight"], b.params["weight"])
    assert not np.array_equal(a.params["weight"], c.params["weight"])
    with pytest.raises(TypeError, match="Conv: rng must be a numpy.random.Generator"):
        nn.Conv(3, 4, 3, rng=5)
    with pytest.raises(TypeError, match="icnr: rng must be"):
        I.icnr((8, 3, 3, 3), 2, rng=None)


# --------------------------------------------------------------------------
# layers: forward and backward


def _fd_layer(layer, x, eps=1e-6, seed=0):
    """Directional finite differences of a layer's input and parameter gradients (float64)."""
    r = np.random.default_rng(seed)
    y = layer.forward(x)
    g = r.standard_normal(y.shape)
    gx = layer.backward(g)
    grads = {k: v.copy() for k, v in layer.grads.items()}
    d = r.standard_normal(x.shape)
    num = np.vdot(g, (layer.forward(x + eps * d) - layer.forward(x - eps * d)) / (2 * eps))
    assert np.vdot(gx, d) == pytest.approx(num, rel=1e-6, abs=1e-9)
    for key, p in layer.params.items():
        d = r.standard_normal(p.shape)
        p0 = p.copy()
        p[...] = p0 + eps * d
        plus = layer.forward(x)
        p[...] = p0 - eps * d
        minus = layer.forward(x)
        p[...] = p0
        num = np.vdot(g, (plus - minus) / (2 * eps))
        assert np.vdot(grads[key], d) == pytest.approx(num, rel=1e-6, abs=1e-9), key


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Conv(3, 4, 3, stride=2, padding=1, dtype=np.float64, rng=rng()), (2, 3, 6, 5)),
    (lambda: nn.ConvTranspose(3, 2, 4, stride=2, padding=1, dtype=np.float64, rng=rng()), (2, 3, 3, 4)),
    (lambda: nn.ConvTranspose(2, 4, 3, 2, 1, 1, groups=2, dtype=np.float64, rng=rng()), (1, 2, 3, 3)),
    (lambda: nn.ResizeConv(2, 3, 3, mode="nearest", dtype=np.float64, rng=rng()), (2, 2, 3, 4)),
    (lambda: nn.ResizeConv(2, 3, 3, mode="linear", ndim=1, dtype=np.float64, rng=rng()), (2, 2, 5)),
    (lambda: nn.SubPixelConv(2, 3, 3, upscale_factor=2, dtype=np.float64, rng=rng()), (2, 2, 3, 3)),
    (lambda: nn.Sequential(nn.Conv(1, 2, 3, padding=1, dtype=np.float64, rng=rng()), nn.LeakyReLU(0.1),
                           nn.SubPixelConv(2, 2, 3, dtype=np.float64, rng=rng()), nn.Tanh(),
                           nn.ConvTranspose(2, 1, 4, 2, 1, dtype=np.float64, rng=rng()), nn.Sigmoid()), (2, 1, 3, 3)),
])
def test_layer_gradients_finite_differences(make, shape):
    layer = make()
    x = rng(1).standard_normal(shape)
    if isinstance(layer, nn.Sequential):
        # the whole chain: through the input and every parameter
        r = rng(2)
        y = layer.forward(x)
        g = r.standard_normal(y.shape)
        gx = layer.backward(g)
        grads = {name: owner.grads[key].copy() for name, owner, key in layer.named_parameters()}
        d = r.standard_normal(x.shape)
        num = np.vdot(g, (layer.forward(x + 1e-6 * d) - layer.forward(x - 1e-6 * d)) / 2e-6)
        assert np.vdot(gx, d) == pytest.approx(num, rel=1e-6)
        for name, owner, key in layer.named_parameters():
            p = owner.params[key]
            d = r.standard_normal(p.shape)
            p0 = p.copy()
            p[...] = p0 + 1e-6 * d
            plus = layer.forward(x)
            p[...] = p0 - 1e-6 * d
            minus = layer.forward(x)
            p[...] = p0
            assert np.vdot(grads[name], d) == pytest.approx(np.vdot(g, (plus - minus) / 2e-6), rel=1e-6, abs=1e-9), name
    else:
        _fd_layer(layer, x)


def test_activations():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    relu = nn.ReLU()
    np.testing.assert_array_equal(relu.forward(x), [0, 0, 0, 0.5, 3])
    np.testing.assert_array_equal(relu.backward(np.ones(5)), [0, 0, 0, 1, 1])
    leaky = nn.LeakyReLU(0.2)
    np.testing.assert_allclose(leaky.forward(x), [-0.4, -0.1, 0, 0.5, 3])
    np.testing.assert_allclose(leaky.backward(np.ones(5)), [0.2, 0.2, 0.2, 1, 1])
    big = np.array([-1000.0, 1000.0])
    np.testing.assert_array_equal(nn.Sigmoid().forward(big), [0.0, 1.0])  # no overflow warning
    for act in (nn.Tanh(), nn.Sigmoid(), nn.LeakyReLU()):
        _fd_layer(act, rng(3).standard_normal((2, 3)))
    with pytest.raises(RuntimeError, match="ReLU.backward: call forward first"):
        nn.ReLU().backward(np.ones(3))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_matches_torch_on_nan_and_inf(dtype):
    torch = pytest.importorskip("torch")
    x = np.array([np.nan, -np.inf, -1.0, -0.0, 0.0, 2.0, np.inf], dtype)
    g = np.array([1.0, np.inf, np.nan, -np.inf, np.nan, np.nan, -3.0], dtype)
    relu = nn.ReLU()
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.relu(tx)
    ty.backward(torch.tensor(g))
    y, gx = relu.forward(x), relu.backward(g)
    assert y.dtype == gx.dtype == dtype
    np.testing.assert_array_equal(y, ty.detach().numpy())
    np.testing.assert_array_equal(gx, tx.grad.numpy())  # masked gradients are exactly 0, not inf * 0


def test_conv_layer_gradients_follow_the_last_forward_input():
    # the layer keeps its forward im2col matrix for the weight gradient
    layer = nn.Conv(3, 4, 3, padding=1, stride=2, rng=rng(), dtype=np.float64)
    x1, x2 = rng(1).standard_normal((2, 2, 3, 9, 8))
    g = rng(2).standard_normal((2, 4, 5, 4))
    args = (layer.params["weight"], layer.params["bias"], 2, 1, 1, 1)
    for calls in ([x1], [x1, x2], [x2, x1]):
        for x in calls:
            layer.forward(x)
        gx, last = layer.backward(g), calls[-1]
        np.testing.assert_allclose(layer.grads["weight"], grad.conv_grad_weight(g, last, *args), rtol=1e-12)
        np.testing.assert_allclose(layer.grads["bias"], grad.conv_grad_bias(g, last, *args), rtol=1e-12)
        np.testing.assert_allclose(gx, grad.conv_grad_input(g, last, *args), rtol=1e-12)
    kept = layer._cols
    layer.forward(x2)
    assert kept is not None and layer._cols is kept  # the same buffer, step after step


def test_backward_without_input_gradient():
    model = nn.Sequential(nn.Conv(1, 2, 3, padding=1, rng=rng()), nn.ReLU(), nn.Conv(2, 1, 1, rng=rng()))
    y = model.forward(np.ones((1, 1, 4, 4), np.float32))
    assert model.backward(np.ones_like(y), input_grad=False) is None
    assert set(model[0].grads) == {"weight", "bias"}


def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    p, t = rng(4).standard_normal((3, 4)), rng(5).standard_normal((3, 4))
    p[0, 0] = t[0, 0]
    for ours, theirs in ((nn.MSELoss(), torch.nn.MSELoss()), (nn.L1Loss(), torch.nn.L1Loss()),
                         (nn.MSELoss("sum"), torch.nn.MSELoss(reduction="sum")),
                         (nn.L1Loss("sum"), torch.nn.L1Loss(reduction="sum"))):
        tp = torch.tensor(p, requires_grad=True)
        value = theirs(tp, torch.tensor(t))
        value.backward()
        assert ours.forward(p, t) == pytest.approx(value.item(), rel=1e-12)
        np.testing.assert_allclose(ours.backward(), tp.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="MSELoss.forward: prediction and target must have the same shape"):
        nn.MSELoss().forward(np.ones(3), np.ones(4))


def test_layers_match_torch_modules():
    torch = pytest.importorskip("torch")
    tn = torch.nn
    ours = nn.Sequential(nn.Conv(2, 4, 3, padding=1, rng=rng()), nn.ReLU(),
                         nn.ConvTranspose(4, 4, 4, stride=2, padding=1, rng=rng()), nn.LeakyReLU(0.1),
                         nn.SubPixelConv(4, 2, 3, upscale_factor=2, rng=rng()), nn.Tanh(),
                         nn.ResizeConv(2, 1, 3, mode="linear", rng=rng()))
    theirs = tn.Sequential(tn.Conv2d(2, 4, 3, padding=1), tn.ReLU(), tn.ConvTranspose2d(4, 4, 4, 2, 1),
                           tn.LeakyReLU(0.1), tn.Conv2d(4, 8, 3, padding=1), tn.PixelShuffle(2), tn.Tanh(),
                           tn.Upsample(scale_factor=2, mode="bilinear"), tn.Conv2d(2, 1, 3, padding=1))
    nn.load_torch_state_dict(ours, theirs, mapping="order")  # names differ (SubPixelConv): matched in order
    x = rng(6).standard_normal((2, 2, 5, 4)).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    ty = theirs(tx)
    y = ours.forward(x)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    g = rng(7).standard_normal(y.shape).astype(np.float32)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.backward(g), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    theirs_grads = [p.grad.numpy() for p in theirs.parameters()]
    our_grads = [owner.grads[key] for _, owner, key in ours.named_parameters()]
    for a, b in zip(our_grads, theirs_grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------
# optimisers


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-14), (np.float32, 1e-6)])
@pytest.mark.parametrize("kw", [dict(), dict(momentum=0.9), dict(momentum=0.9, nesterov=True, weight_decay=0.01),
                                dict(momentum=0.5, dampening=0.3, weight_decay=0.1)])
def test_sgd_matches_torch(kw, dtype, tol):
    torch = pytest.importorskip("torch")
    _compare_optimizer(torch, lambda m: nn.SGD(m, lr=0.05, **kw), lambda p: torch.optim.SGD(p, lr=0.05, **kw),
                       dtype, tol)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-13), (np.float32, 2e-6)])
@pytest.mark.parametrize("kw", [dict(), dict(betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05), dict(amsgrad=True)])
def test_adam_matches_torch(kw, dtype, tol):
    torch = pytest.importorskip("torch")
    _compare_optimizer(torch, lambda m: nn.Adam(m, lr=0.01, **kw), lambda p: torch.optim.Adam(p, lr=0.01, **kw),
                       dtype, tol)


def _compare_optimizer(torch, ours_factory, theirs_factory, dtype, tol):
    layer = nn.Conv(2, 3, 3, rng=rng(), dtype=dtype)
    params = [torch.tensor(layer.params[k].copy(), requires_grad=True) for k in ("weight", "bias")]
    ours, theirs = ours_factory(layer), theirs_factory(params)
    r = rng(8)
    for _ in range(6):
        grads = [r.standard_normal(p.shape).astype(dtype) for p in params]
        layer.grads = {"weight": grads[0], "bias": grads[1]}
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        ours.step()
        theirs.step()
    for key, p in zip(("weight", "bias"), params):
        np.testing.assert_allclose(layer.params[key], p.detach().numpy(), rtol=tol, atol=tol)


def test_optimizer_errors():
    layer = nn.Conv(1, 1, 1, rng=rng())
    with pytest.raises(ValueError, match="SGD: lr must be >= 0"):
        nn.SGD(layer, lr=-1)
    with pytest.raises(ValueError, match="Adam: betas must lie in"):
        nn.Adam(layer, betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="Adam: model must be an upconv.nn.Module"):
        nn.Adam([1, 2])
    opt = nn.Adam(layer)
    before = layer.params["weight"].copy()
    opt.step()  # no gradients yet: nothing changes
    np.testing.assert_array_equal(layer.params["weight"], before)


# --------------------------------------------------------------------------
# training


def _train(seed, steps=30):
    r = np.random.default_rng(seed)
    model = nn.Sequential(nn.Conv(1, 4, 3, padding=1, rng=r), nn.ReLU(),
                          nn.ConvTranspose(4, 4, 4, stride=2, padding=1, rng=r), nn.ReLU(),
                          nn.Conv(4, 1, 3, padding=1, rng=r))
    loss, opt = nn.MSELoss(), nn.Adam(model, lr=1e-2)
    yy, xx = np.mgrid[0:16, 0:16] / 16.0
    target = (np.sin(3 * xx + 2 * yy) * np.cos(2 * xx))[None, None].astype(np.float32)
    x = target.reshape(1, 1, 8, 2, 8, 2).mean(axis=(3, 5))
    losses = []
    for _ in range(steps):
        losses.append(loss.forward(model.forward(x), target))
        model.backward(loss.backward(), input_grad=False)
        opt.step()
    return model, losses


def test_tiny_training_reduces_the_loss_and_is_reproducible():
    model, losses = _train(0)
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    # decreasing on average: every block of 10 steps is below the previous one
    blocks = np.array(losses).reshape(-1, 10).mean(axis=1)
    assert np.all(np.diff(blocks) < 0)
    model2, losses2 = _train(0)
    assert losses == losses2  # bit for bit
    for (n1, o1, k1), (n2, o2, k2) in zip(model.named_parameters(), model2.named_parameters()):
        assert n1 == n2 and np.array_equal(o1.params[k1], o2.params[k2])
    _, losses3 = _train(1)
    assert losses3 != losses


# --------------------------------------------------------------------------
# parameters on disk


def test_save_load_round_trip(tmp_path):
    a = nn.Sequential(nn.Conv(1, 2, 3, rng=rng(1)), nn.ReLU(), nn.SubPixelConv(2, 1, 3, rng=rng(1)))
    b = nn.Sequential(nn.Conv(1, 2, 3, rng=rng(2)), nn.ReLU(), nn.SubPixelConv(2, 1, 3, rng=rng(2)))
    path = tmp_path / "model.npz"
    nn.save(a, path)
    nn.load(b, path)
    for k, val in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k], val)
    assert a.state_dict()["2.weight"].dtype == np.float32
    wrong = nn.Sequential(nn.Conv(1, 3, 3, rng=rng()))
    with pytest.raises(ValueError, match="missing parameters"):
        nn.load(wrong, path)
    with pytest.raises(ValueError, match="parameter '0.weight' has shape"):
        nn.load(wrong, path, strict=False)


def test_load_torch_state_dict_from_file(tmp_path):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.ConvTranspose2d(2, 1, 4, 2, 1))
    path = tmp_path / "state.pt"
    torch.save(theirs.state_dict(), path)
    ours = nn.Sequential(nn.Conv(1, 2, 3, rng=rng()), nn.ReLU(), nn.ConvTranspose(2, 1, 4, 2, 1, rng=rng()))
    nn.load_torch_state_dict(ours, str(path))
    np.testing.assert_array_equal(ours[2].params["weight"], theirs[2].weight.detach().numpy())
    x = rng(3).standard_normal((1, 1, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(ours.forward(x), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="the names differ"):
        nn.load_torch_state_dict(nn.Sequential(nn.Conv(1, 2, 3, rng=rng())), str(path))
    with pytest.raises(ValueError, match="mapping='order' pairs them in order, so the counts must agree"):
        nn.load_torch_state_dict(nn.Sequential(nn.Conv(1, 2, 3, rng=rng())), str(path), mapping="order")


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("groups, padding, n, s, k, size", [
    (1, "same", 2, 2, 3, 5), (2, 1, 2, 3, 3, 5), (1, [(0, 2)], 1, 2, 4, 5), (1, 0, 3, 2, 3, 4),
    (2, "same", 1, (3,), 4, 5), (1, "same", 2, (2, 3), 4, 6), (1, [(2, 1), (0, 1)], 2, 2, (3, 2), 7),
    (1, "same", 2, 1, 3, 5), (1, "same", 1, 2, 3, 3), (1, [(1, 0)], 1, 4, 5, 4), (1, "same", 2, 2, 1, 4),
])
def test_resize_conv_layer_computed_as_transposed_convolution(mode, groups, padding, n, s, k, size):
    """The layer's transposed-convolution form equals resize_conv and its gradients (upconv.grad)."""
    from upconv import grad as G
    from upconv.ops.resize_convolution import resize_conv

    layer = nn.ResizeConv(4, 6, k, scale_factor=s, mode=mode, padding=padding, groups=groups, ndim=n,
                          dtype=np.float64, rng=rng())
    x = rng(1).standard_normal((2, 4) + (size,) * n)
    y = layer.forward(x)
    assert layer._form is not None
    w, b = layer.params["weight"], layer.params["bias"]
    kw = dict(scale_factor=s, mode=mode, padding=padding, groups=groups)
    np.testing.assert_allclose(y, resize_conv(x, w, b, **kw), rtol=1e-12, atol=1e-12)
    g = rng(2).standard_normal(y.shape)
    g_before = g.copy()
    np.testing.assert_allclose(layer.backward(g), G.resize_conv_grad_input(g, x, w, b, **kw), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(g, g_before)  # grad_out is not modified
    np.testing.assert_allclose(layer.grads["weight"], G.resize_conv_grad_weight(g, x, w, b, **kw), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(layer.grads["bias"], G.resize_conv_grad_bias(g, x, w, b, **kw), rtol=1e-12)
    assert layer.backward(g, input_grad=False) is None




def test_conv_layer_keeps_no_im2col_matrix_above_the_memory_limit():
    layer = nn.Conv(3, 4, 3, padding=1, rng=rng(), dtype=np.float64)
    x = rng(1).standard_normal((4, 3, 20, 20))
    g = rng(2).standard_normal((4, 4, 20, 20))
    before = upconv.get_memory_limit()
    try:
        # every per-sample buffer of forward and backward fits (at most 115,200 bytes), the batch's
        # im2col matrix of x (345,600) does not
        upconv.set_memory_limit(200_000)
        layer.forward(x)
        assert layer._cols is None
        layer.backward(g)  # the weight gradient then builds the matrix in chunks
        np.testing.assert_allclose(layer.grads["weight"], grad.conv_grad_weight(g, x, layer.params["weight"], None,
                                                                                1, 1), rtol=1e-12)
    finally:
        upconv.set_memory_limit(before)
    layer.forward(x)
    assert layer._cols is not None
