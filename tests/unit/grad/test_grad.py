"""Gradients of every operator (upconv.grad) against finite differences and the adjoint identity."""

from __future__ import annotations

import math

import numpy as np
import pytest

import upconv
from upconv import grad as G
from upconv.ops import paths
from upconv.ops.resize_convolution import resize_conv

RNG = np.random.default_rng(20240505)


def directional_check(f, grad, x, *, eps=1e-6, rtol=1e-6, atol=1e-9, seed=0):
    """``<g, (f(x + e d) - f(x - e d)) / 2e> == <grad(g), d>`` for random ``g`` and ``d``."""
    rng = np.random.default_rng(seed)
    y = f(x)
    g = rng.standard_normal(y.shape)
    d = rng.standard_normal(np.shape(x))
    numeric = np.vdot(g, (f(x + eps * d) - f(x - eps * d)) / (2 * eps))
    analytic = np.vdot(grad(g), d)
    assert analytic == pytest.approx(numeric, rel=rtol, abs=atol)


# --------------------------------------------------------------------------
# conv and conv_transpose

CONV_CASES = [
    # (x shape, weight shape, kwargs)
    ((2, 3, 7), (4, 3, 3), {}),
    ((2, 3, 8), (4, 3, 3), {"stride": 2, "padding": 1}),
    ((1, 4, 9), (4, 2, 2), {"stride": 3, "dilation": 2, "groups": 2, "padding": [(0, 2)]}),
    ((2, 2, 6, 7), (3, 2, 3, 2), {"stride": (2, 1), "padding": (1, 0)}),
    ((1, 2, 6, 6), (2, 2, 4, 4), {"padding": "same"}),
    ((2, 4, 7, 5), (6, 2, 3, 3), {"stride": 2, "dilation": (1, 2), "groups": 2, "padding": 2}),
    ((3, 5, 5), (2, 3, 3, 3), {"padding": 1}),  # unbatched
    ((1, 2, 4, 5, 4), (2, 1, 2, 3, 2), {"stride": (1, 2, 2), "groups": 2, "padding": ((1, 0), (0, 1), (1, 1))}),
]


@pytest.mark.parametrize("xs, ws, kw", CONV_CASES)
@pytest.mark.parametrize("wrt", ["x", "weight", "bias"])
def test_conv_gradients_finite_differences(xs, ws, kw, wrt):
    x, w, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[0])
    if wrt == "x":
        directional_check(lambda a: upconv.conv(a, w, b, **kw), lambda g: G.conv_grad_input(g, x, w, b, **kw), x)
    elif wrt == "weight":
        directional_check(lambda a: upconv.conv(x, a, b, **kw), lambda g: G.conv_grad_weight(g, x, w, b, **kw), w)
    else:
        directional_check(lambda a: upconv.conv(x, w, a, **kw), lambda g: G.conv_grad_bias(g, x, w, b, **kw), b)


CONV_T_CASES = [
    ((2, 3, 4), (3, 2, 3), {"stride": 2}),
    ((1, 2, 5), (2, 3, 4), {"stride": 2, "padding": 1}),
    ((2, 4, 3), (4, 1, 3), {"stride": 3, "padding": 1, "output_padding": 2, "groups": 2}),
    ((1, 2, 4), (2, 2, 2), {"stride": 1, "dilation": 3, "output_padding": 2}),  # output_padding >= stride
    ((2, 2, 3, 4), (2, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((1, 2, 3, 3), (2, 2, 4, 4), {"stride": 2, "padding": 1, "output_size": (7, 6)}),
    ((2, 3, 3), (2, 2, 3, 2), {"stride": (2, 3), "padding": [(2, 0), (0, 1)], "dilation": (2, 1)}),  # unbatched
    ((1, 2, 2, 3, 2), (2, 1, 2, 2, 3), {"stride": 2, "groups": 2, "output_padding": (1, 0, 1)}),
]


@pytest.mark.parametrize("xs, ws, kw", CONV_T_CASES)
@pytest.mark.parametrize("wrt", ["x", "weight", "bias"])
def test_conv_transpose_gradients_finite_differences(xs, ws, kw, wrt):
    groups = kw.get("groups", 1)
    x, w, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[1] * groups)
    ct = upconv.conv_transpose
    if wrt == "x":
        directional_check(lambda a: ct(a, w, b, **kw), lambda g: G.conv_transpose_grad_input(g, x, w, b, **kw), x)
    elif wrt == "weight":
        directional_check(lambda a: ct(x, a, b, **kw), lambda g: G.conv_transpose_grad_weight(g, x, w, b, **kw), w)
    else:
        directional_check(lambda a: ct(x, w, a, **kw), lambda g: G.conv_transpose_grad_bias(g, x, w, b, **kw), b)


@pytest.mark.parametrize("xs, ws, kw", CONV_CASES)
def test_conv_input_gradient_is_conv_transpose(xs, ws, kw):
    """The seeds' identity, exactly: conv's input gradient is the transposed convolution."""
    x, w = RNG.standard_normal(xs), RNG.standard_normal(ws)
    g = RNG.standard_normal(upconv.conv(x, w, **kw).shape)
    n = len(ws) - 2
    geo = upconv.shapes.conv_geometry(xs[-n:], ws[2:], kw.get("stride", 1), kw.get("padding", 0), kw.get("dilation", 1))
    a = upconv.shapes.conv_transpose_output_padding(geo.in_size, geo.out_size, ws[2:], geo.stride, geo.padding,
                                                    geo.dilation)
    args = (g, w, None, geo.stride, geo.padding, a, kw.get("groups", 1), geo.dilation)
    method = "zero_insertion" if geo.stride == (1,) * n else "phase"  # the view conv_grad_input uses
    np.testing.assert_array_equal(G.conv_grad_input(g, x, w, **kw), upconv.conv_transpose(*args, method=method))
    for method in ("scatter", "zero_insertion", "matrix", "phase"):
        np.testing.assert_allclose(G.conv_grad_input(g, x, w, **kw), upconv.conv_transpose(*args, method=method),
                                   rtol=1e-12, atol=1e-12)
    assert G.conv_grad_input(g, x, w, **kw).shape == x.shape


@pytest.mark.parametrize("xs, ws, kw", CONV_T_CASES[:6])
def test_conv_transpose_input_gradient_is_conv(xs, ws, kw):
    x, w = RNG.standard_normal(xs), RNG.standard_normal(ws)
    g = RNG.standard_normal(upconv.conv_transpose(x, w, **kw).shape)
    got = G.conv_transpose_grad_input(g, x, w, **kw)
    if kw.get("output_padding", 0) < kw.get("stride", 1) and "output_size" not in kw:
        keep = {k: kw[k] for k in ("stride", "padding", "dilation", "groups") if k in kw}
        np.testing.assert_array_equal(got, upconv.conv(g, w, **keep))
    assert got.shape == x.shape


def test_weight_gradient_batch_chunks(monkeypatch):
    """The batch is split into chunks when the im2col block is large; the sums agree."""
    x, w = RNG.standard_normal((5, 2, 6, 6)), RNG.standard_normal((3, 2, 3, 3))
    g = RNG.standard_normal((5, 3, 4, 4))
    whole = G.conv_grad_weight(g, x, w)
    monkeypatch.setattr(paths, "BLOCK_BYTES", 1)
    np.testing.assert_allclose(G.conv_grad_weight(g, x, w), whole, rtol=1e-12)


def test_dtypes_are_kept():
    x, w = np.ones((1, 2, 5, 5), np.float32), np.ones((3, 2, 3, 3), np.float32)
    g = np.ones((1, 3, 3, 3), np.float32)
    for f in (G.conv_grad_input, G.conv_grad_weight, G.conv_grad_bias):
        assert f(g, x, w).dtype == np.float32
    h = G.conv_grad_input(g.astype(np.float16), x.astype(np.float16), w.astype(np.float16))
    assert h.dtype == np.float16


def test_grad_out_shape_errors():
    x, w = np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3))
    with pytest.raises(ValueError,
                       match=r"conv_grad_input: grad_out must have the shape of conv's output, \(1, 3, 3, 3\)"):
        G.conv_grad_input(np.ones((1, 3, 4, 4)), x, w)
    with pytest.raises(ValueError, match="conv_transpose_grad_weight: grad_out must have the shape"):
        G.conv_transpose_grad_weight(np.ones((1, 2, 4, 4)), np.ones((1, 3, 3, 3)), np.ones((3, 2, 3, 3)))
    with pytest.raises(ValueError, match="conv_grad_weight: x has 3 channels"):
        G.conv_grad_weight(np.ones((1, 3, 3, 3)), np.ones((1, 3, 5, 5)), w)
    with pytest.raises(TypeError, match="conv_grad_bias: grad_out must have the dtype"):
        G.conv_grad_bias(np.ones((1, 3, 3, 3), np.float32), x, w)
    with pytest.raises(ValueError, match="max_pool_grad_input: grad_out must have"):
        G.max_pool_grad_input(np.ones((1, 2, 3, 3)), x, 2)
    with pytest.raises(ValueError, match="pixel_shuffle_grad_input: the channel axis"):
        G.pixel_shuffle_grad_input(np.ones((1, 1, 4, 4)), np.ones((1, 3, 2, 2)), 2)
    with pytest.raises(ValueError, match="interpolate_grad_input: grad_out must have"):
        G.interpolate_grad_input(np.ones((1, 2, 4)), np.ones((1, 2, 3)), scale_factor=2)


def test_inputs_are_not_modified():
    x, w, b = RNG.standard_normal((1, 2, 5, 5)), RNG.standard_normal((3, 2, 3, 3)), RNG.standard_normal(3)
    g = RNG.standard_normal((1, 3, 3, 3))
    copies = [a.copy() for a in (g, x, w, b)]
    for f in (G.conv_grad_input, G.conv_grad_weight, G.conv_grad_bias):
        f(g, x, w, b)
    for a, c in zip((g, x, w, b), copies, strict=True):
        np.testing.assert_array_equal(a, c)


# --------------------------------------------------------------------------
# pooling, unpooling, rearrangements


@pytest.mark.parametrize("shape, kw", [
    ((2, 2, 7, 6), {"kernel_size": 2}),
    ((1, 3, 7, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),          # overlapping windows
    ((1, 2, 9), {"kernel_size": [3], "stride": 2, "dilation": 2, "ceil_mode": True}),
    ((1, 1, 5, 4, 6), {"kernel_size": (2, 3, 2), "stride": 1}),
])
def test_max_pool_gradient_finite_differences(shape, kw):
    x = RNG.permutation(np.prod(shape)).reshape(shape) / 7.0  # distinct values: differentiable
    directional_check(lambda a: upconv.max_pool(a, **kw), lambda g: G.max_pool_grad_input(g, x, **kw), x)


def test_max_pool_gradient_with_given_indices():
    x = RNG.standard_normal((2, 3, 6, 6))
    y, idx = upconv.max_pool(x, 3, stride=2, return_indices=True)
    g = RNG.standard_normal(y.shape)
    np.testing.assert_array_equal(G.max_pool_grad_input(g, x, 3, stride=2, indices=idx),
                                  G.max_pool_grad_input(g, x, 3, stride=2))


def test_max_pool_gradient_ties_go_to_the_first_maximum():
    x = np.array([[[1.0, 3.0, 3.0, 0.0]]])
    got = G.max_pool_grad_input(np.array([[[5.0, 7.0, 11.0]]]), x, [2], stride=1)
    np.testing.assert_array_equal(got, [[[0.0, 12.0, 11.0, 0.0]]])  # [3, 3] is a tie: the first wins


@pytest.mark.parametrize("kw", [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 3, "padding": 1, "output_size": (5, 5)},
    {"kernel_size": 2, "output_size": (5, 5)},
])
def test_max_unpool_gradient(kw):
    """Non-overlapping windows: no duplicate indices (with duplicates the gradient follows torch, not the forward)."""
    x = RNG.standard_normal((2, 3, 4, 4)) if kw["kernel_size"] == 2 else RNG.standard_normal((2, 3, 5, 5))
    pool_kw = {k: kw[k] for k in ("kernel_size", "stride", "padding") if k in kw}
    y, idx = upconv.max_pool(x, **pool_kw, return_indices=True)
    directional_check(lambda a: upconv.max_unpool(a, idx, **kw), lambda g: G.max_unpool_grad_input(g, y, idx, **kw), y)


@pytest.mark.parametrize("mode", ["nearest", "bed_of_nails"])
@pytest.mark.parametrize("shape, s", [((2, 3, 4), 3), ((1, 2, 3, 4), (2, 3)), ((2, 3, 2, 2), (1, 2, 2))])
def test_unpool_gradient(shape, s, mode):
    x = RNG.standard_normal(shape)
    directional_check(lambda a: upconv.unpool(a, s, mode), lambda g: G.unpool_grad_input(g, x, s, mode), x)


@pytest.mark.parametrize("mode", ["nearest", "bed_of_nails"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unpool_gradient_is_a_new_array(mode, dtype):
    g = RNG.standard_normal((1, 2, 3, 4)).astype(dtype)
    gx = G.unpool_grad_input(g, g, 1, mode)  # scale 1: the gradient equals grad_out, in a new array
    np.testing.assert_array_equal(gx, g)
    assert not np.shares_memory(gx, g) and gx.flags.c_contiguous and gx.flags.writeable


@pytest.mark.parametrize("fwd, grad, x, args", [
    (upconv.pixel_shuffle, G.pixel_shuffle_grad_input, (2, 8, 3, 2), (2,)),
    (upconv.pixel_unshuffle, G.pixel_unshuffle_grad_input, (2, 2, 4, 6), (2,)),
    (upconv.depth_to_space, G.depth_to_space_grad_input, (1, 8, 2, 3), (2,)),
    (upconv.depth_to_space, G.depth_to_space_grad_input, (1, 8, 2, 3), (2, "CRD")),
    (upconv.space_to_depth, G.space_to_depth_grad_input, (1, 2, 4, 6), (2,)),
    (upconv.space_to_depth, G.space_to_depth_grad_input, (1, 2, 4, 6, 2), (2, "CRD")),
])
def test_rearrangement_gradients_are_exact_adjoints(fwd, grad, x, args):
    x = RNG.standard_normal(x)
    g = RNG.standard_normal(fwd(x, *args).shape)
    assert np.vdot(fwd(x, *args), g) == pytest.approx(np.vdot(x, grad(g, x, *args)), rel=1e-12)
    assert grad(g, x, *args).shape == x.shape


def test_pixel_shuffle_gradient_3d():
    x = RNG.standard_normal((1, 16, 2, 2, 3))
    g = RNG.standard_normal((1, 2, 4, 4, 6))
    got = G.pixel_shuffle_grad_input(g, x, 2, ndim=3)
    assert np.vdot(upconv.pixel_shuffle(x, 2, ndim=3), g) == pytest.approx(np.vdot(x, got))


# --------------------------------------------------------------------------
# interpolation and resize-convolution

INTERP_CASES = [
    ((2, 2, 5), {"scale_factor": 2}),
    ((1, 2, 5), {"size": 7, "mode": "nearest-exact"}),
    ((1, 2, 6), {"size": 4, "mode": "nearest"}),
    ((2, 1, 5), {"scale_factor": 2.5, "mode": "linear"}),
    ((1, 2, 4, 5), {"size": (7, 3), "mode": "bilinear", "align_corners": True}),
    ((1, 2, 4, 5), {"scale_factor": 2, "mode": "bicubic"}),
    ((1, 2, 9, 8), {"size": (4, 3), "mode": "bilinear", "antialias": True}),
    ((1, 1, 9, 8), {"size": (4, 5), "mode": "bicubic", "antialias": True}),
    ((1, 2, 7, 5), {"size": (3, 4), "mode": "area"}),
    ((1, 1, 3, 4, 2), {"scale_factor": (2, 1.5, 2), "mode": "trilinear"}),
    ((1, 1, 3, 2, 4), {"scale_factor": 2, "mode": "nearest"}),
    ((1, 2, 3, 4), {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True}),
    ((1, 1, 9, 8), {"size": (4, 5), "mode": "lanczos", "antialias": True}),
]


@pytest.mark.parametrize("shape, kw", INTERP_CASES)
def test_interpolate_gradient(shape, kw):
    x = RNG.standard_normal(shape)
    directional_check(lambda a: upconv.interpolate(a, **kw), lambda g: G.interpolate_grad_input(g, x, **kw), x)


@pytest.mark.parametrize("shape, kw", INTERP_CASES)
def test_interpolate_plans_match_the_forward(shape, kw):
    """The gradient re-derives interpolate's per-axis taps: applying them forward must give interpolate."""
    from upconv.ops.interpolation import interpolate_plans
    from upconv.ops.resampling import apply

    x = RNG.standard_normal(shape)
    _, plans = interpolate_plans("t", x, kw.get("size"), kw.get("scale_factor"), kw.get("mode", "nearest"),
                                 kw.get("align_corners"), kw.get("recompute_scale_factor"), kw.get("antialias", False))
    np.testing.assert_array_equal(apply(x, plans, range(x.ndim - 1, 1, -1), "t"), upconv.interpolate(x, **kw))


RESIZE_CASES = [
    ((1, 2, 4, 5), {"scales": [1, 1, 2, 1.5]}),
    ((1, 2, 4, 5), {"sizes": [7, 3], "axes": [2, 3], "mode": "linear"}),
    ((2, 6), {"sizes": [2, 9], "mode": "cubic", "cubic_coeff_a": -0.5, "exclude_outside": True}),
    ((1, 1, 8, 7), {"sizes": [3, 4], "axes": [2, 3], "mode": "linear", "antialias": True}),
    ((1, 5), {"sizes": [1, 4], "roi": [0.2, 1.3], "mode": "linear", "axes": None,
              "coordinate_transformation_mode": "tf_crop_and_resize", "extrapolation_value": -1.0}),
    ((3, 4, 2), {"scales": [2, 0.5, 1], "mode": "nearest", "nearest_mode": "ceil",
                 "coordinate_transformation_mode": "asymmetric"}),
    ((1, 1, 4, 6), {"sizes": [6, 6], "axes": [3, 2], "keep_aspect_ratio_policy": "not_larger", "mode": "linear",
                    "coordinate_transformation_mode": "align_corners"}),
]


@pytest.mark.parametrize("shape, kw", RESIZE_CASES)
def test_resize_gradient(shape, kw):
    kw = dict(kw)
    if "roi" in kw:  # a roi over every axis
        kw["roi"] = [0.0, 0.2, 1.0, 1.3]
    x = RNG.standard_normal(shape)
    directional_check(lambda a: upconv.resize(a, **kw), lambda g: G.resize_grad_input(g, x, **kw), x)


@pytest.mark.parametrize("shape, kw", RESIZE_CASES)
def test_resize_plans_match_the_forward(shape, kw):
    from upconv.ops.interpolation import resize_plans
    from upconv.ops.resampling import apply

    kw = dict(kw)
    if "roi" in kw:
        kw["roi"] = [0.0, 0.2, 1.0, 1.3]
    x = RNG.standard_normal(shape)
    names = ("sizes", "scales", "roi", "mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a",
             "exclude_outside", "antialias", "axes", "keep_aspect_ratio_policy")
    defaults = (None, None, None, "nearest", "half_pixel", "round_prefer_floor", -0.75, False, False, None, "stretch")
    g, plans = resize_plans("t", x, *(kw.get(n, d) for n, d in zip(names, defaults, strict=True)))
    fill = kw.get("extrapolation_value", 0.0)
    np.testing.assert_array_equal(apply(x, plans, g.axes, "t", fill=fill), upconv.resize(x, **kw))


def test_nearest_integer_upsampling_transposes_to_block_sums():
    x = RNG.standard_normal((2, 3, 4, 5))
    g = RNG.standard_normal((2, 3, 8, 15))
    np.testing.assert_allclose(G.interpolate_grad_input(g, x, scale_factor=(2, 3)),
                               G.unpool_grad_input(g, x, (2, 3)), rtol=1e-12)


RESIZE_CONV_CASES = [
    ((2, 2, 5), (3, 2, 3), {}),
    ((1, 2, 4, 3), (2, 2, 3, 3), {"mode": "linear"}),
    ((1, 2, 3, 4), (4, 1, 3, 3), {"mode": "bilinear", "groups": 2, "padding": 1, "align_corners": True}),
    ((2, 4, 3), (2, 4, 4), {"scale_factor": 3, "padding": "valid", "stride": 2}),
    ((2, 3, 3), (2, 2, 3, 3), {"mode": "nearest-exact", "scale_factor": (2, 1.5)}),  # unbatched
]


@pytest.mark.parametrize("xs, ws, kw", RESIZE_CONV_CASES)
@pytest.mark.parametrize("wrt", ["x", "weight", "bias"])
def test_resize_conv_gradients(xs, ws, kw, wrt):
    x, w, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[0])
    if wrt == "x":
        directional_check(lambda a: resize_conv(a, w, b, **kw),
                          lambda g: G.resize_conv_grad_input(g, x, w, b, **kw), x)
    elif wrt == "weight":
        directional_check(lambda a: resize_conv(x, a, b, **kw),
                          lambda g: G.resize_conv_grad_weight(g, x, w, b, **kw), w)
    else:
        directional_check(lambda a: resize_conv(x, w, a, **kw),
                          lambda g: G.resize_conv_grad_bias(g, x, w, b, **kw), b)


# --------------------------------------------------------------------------
# resize_conv forward


def test_resize_conv_is_interpolate_then_conv():
    x, w, b = RNG.standard_normal((2, 3, 4, 5)), RNG.standard_normal((4, 3, 3, 3)), RNG.standard_normal(4)
    for mode in ("nearest", "bilinear", "bicubic"):
        up = upconv.interpolate(x, scale_factor=2, mode=mode)
        np.testing.assert_array_equal(resize_conv(x, w, b, mode=mode), upconv.conv(up, w, b, padding="same"))
    np.testing.assert_array_equal(resize_conv(x, w, b, mode="linear"), resize_conv(x, w, b, mode="bilinear"))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_nearest_resize_conv_equals_its_transposed_convolution(n):
    from upconv.ops.resize_convolution import resize_equivalent_kernel

    x = RNG.standard_normal((2, 2) + (4,) * n)
    w = RNG.standard_normal((3, 2) + (3,) * n)
    K = resize_equivalent_kernel(w, 2)
    P = upconv.shapes.resize_conv_transpose_padding((3,) * n, padding=1)
    np.testing.assert_allclose(resize_conv(x, w, padding=1), upconv.conv_transpose(x, K, stride=2, padding=P),
                               rtol=1e-12, atol=1e-12)


def test_resize_conv_errors():
    x, w = np.ones((1, 2, 4, 4)), np.ones((3, 2, 3, 3))
    with pytest.raises(ValueError, match="resize_conv: mode must be one of"):
        resize_conv(x, w, mode="cubic")
    with pytest.raises(ValueError, match="resize_conv: mode='trilinear' needs 3 spatial axes"):
        resize_conv(x, w, mode="trilinear")
    with pytest.raises(ValueError, match="resize_conv: x has 2 channels but weight"):
        resize_conv(x, np.ones((3, 1, 3, 3)))
    with pytest.raises(ValueError, match="resize_conv: align_corners option"):
        resize_conv(x, w, align_corners=True)
    with pytest.raises(ValueError, match="resize_conv: padding='same' is not supported for strided"):
        resize_conv(x, w, stride=2)
    with pytest.raises(TypeError, match="resize_conv: scale_factor"):
        resize_conv(x, w, scale_factor="2")


@pytest.mark.parametrize("seed", range(16))
def test_interpolate_gradient_is_the_transposed_jacobian(seed):
    """The adjoint resampling equals J^T g, with J read off interpolate's response to unit inputs."""
    rng = np.random.default_rng(seed)
    mode = ["nearest", "nearest-exact", "linear", "bicubic", "area", "bilinear-aa", "bicubic-aa"][seed % 7]
    aa = mode.endswith("-aa")
    mode = mode.removesuffix("-aa")
    n = 2 if mode in ("bicubic", "bilinear") else int(rng.integers(1, 3))
    mode = "bilinear" if mode == "linear" and n == 2 else mode
    size_in = tuple(int(a) for a in rng.integers(1, 9, n))
    size_out = tuple(int(a) for a in rng.integers(1, 40, n))
    kwargs = {"size": size_out, "mode": mode, "antialias": aa}
    if mode in ("bilinear", "bicubic", "linear"):
        kwargs["align_corners"] = bool(rng.integers(0, 2))
    basis = np.eye(math.prod(size_in)).reshape((-1, 1) + size_in)
    jac = upconv.interpolate(basis, **kwargs).reshape(len(basis), -1).T  # (out, in)
    g = rng.standard_normal((1, 1) + size_out)
    got = G.interpolate_grad_input(g, np.zeros((1, 1) + size_in), **kwargs)
    np.testing.assert_allclose(got.ravel(), jac.T @ g.ravel(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_shared_im2col_backward_equals_the_three_gradients(seed):
    """The layer's one-im2col backward of conv_transpose equals the public gradient functions."""
    from upconv.grad.convolution import conv_transpose_grads

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    groups = int(rng.integers(1, 3))
    ci, cog = groups * int(rng.integers(1, 3)), int(rng.integers(1, 3))
    k = tuple(int(a) for a in rng.integers(1, 4, n))
    s = tuple(int(a) for a in rng.integers(1, 3, n))
    d = tuple(int(a) for a in rng.integers(1, 3, n))
    p = tuple(int(rng.integers(0, 2)) for _ in range(n))
    op = tuple(int(rng.integers(0, max(a, b))) for a, b in zip(s, d, strict=True))
    x = rng.standard_normal((2, ci) + tuple(int(a) for a in rng.integers(2, 5, n)))
    w, b = rng.standard_normal((ci, cog) + k), rng.standard_normal(cog * groups)
    try:
        y = upconv.conv_transpose(x, w, b, s, p, op, groups, d)
    except ValueError:
        return
    gy = rng.standard_normal(y.shape)
    args = (w, b, s, p, op, groups, d)
    gx, gw, gb = conv_transpose_grads(gy, x, *args)
    np.testing.assert_allclose(gx, G.conv_transpose_grad_input(gy, x, *args), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, G.conv_transpose_grad_weight(gy, x, *args), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gb, G.conv_transpose_grad_bias(gy, x, *args), rtol=1e-12, atol=1e-12)
