"""Property tests (hypothesis) of conv / conv_transpose / conv_matrix on small N-d shapes (n = 1..3)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import upconv  # noqa: E402
from upconv import conv, conv_matrix, conv_transpose, shapes  # noqa: E402

pytestmark = pytest.mark.slow

METHODS = ["scatter", "zero_insertion", "matrix", "phase"]
SETTINGS = settings(max_examples=60, deadline=None)


@dataclass
class Config:
    n: int
    groups: int
    ci_g: int
    co_g: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: object  # ints per axis or (begin, end) pairs
    pairs: tuple[tuple[int, int], ...]
    batch: int
    seed: int

    @property
    def ek(self):
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    def rng(self):
        return np.random.default_rng(self.seed)


@st.composite
def base_configs(draw):
    n = draw(st.integers(1, 3))
    axes = st.lists  # shorthand

    def per_axis(lo, hi):
        return tuple(draw(axes(st.integers(lo, hi), min_size=n, max_size=n)))

    kernel = per_axis(1, 3)
    stride = per_axis(1, 3)
    dilation = per_axis(1, 2)
    if draw(st.booleans()):
        pairs = tuple(zip(per_axis(0, 2), per_axis(0, 2)))
        padding = pairs
    else:
        padding = per_axis(0, 2)
        pairs = tuple((p, p) for p in padding)
    return Config(
        n=n,
        groups=draw(st.integers(1, 2)),
        ci_g=draw(st.integers(1, 2)),
        co_g=draw(st.integers(1, 2)),
        kernel=kernel,
        stride=stride,
        dilation=dilation,
        padding=padding,
        pairs=pairs,
        batch=draw(st.integers(1, 2)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@st.composite
def conv_cases(draw):
    """A valid convolution: config plus an input spatial size the kernel fits in."""
    c = draw(base_configs())
    extra = 4 if c.n < 3 else 2
    in_size = tuple(
        draw(st.integers(max(1, ek - b - e), max(1, ek - b - e) + extra)) for ek, (b, e) in zip(c.ek, c.pairs)
    )
    return c, in_size


@st.composite
def conv_transpose_cases(draw):
    """A transposed convolution: config, input spatial size and a valid output_padding."""
    c = draw(base_configs())
    in_size = tuple(draw(st.integers(1, 4 if c.n < 3 else 3)) for _ in range(c.n))
    op = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(c.stride, c.dilation))
    out = [(i - 1) * s + ek - b - e + a for i, s, ek, (b, e), a in zip(in_size, c.stride, c.ek, c.pairs, op)]
    assume(all(o >= 1 for o in out))
    return c, in_size, op


def _conv_data(c, in_size):
    rng = c.rng()
    x = rng.standard_normal((c.batch, c.ci_g * c.groups) + in_size)
    w = rng.standard_normal((c.co_g * c.groups, c.ci_g) + c.kernel)
    return rng, x, w


def _conv(c, x, w):
    return conv(x, w, None, c.stride, c.padding, c.dilation, c.groups)


def _conv_t(c, y, w, **kw):
    return conv_transpose(y, w, None, c.stride, c.padding, groups=c.groups, dilation=c.dilation, **kw)


def _close(a, b, scale):
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * max(1.0, scale))


@SETTINGS
@given(conv_transpose_cases())
def test_methods_agree(case):
    c, in_size, op = case
    rng = c.rng()
    y = rng.standard_normal((c.batch, c.ci_g * c.groups) + in_size)
    w = rng.standard_normal((c.ci_g * c.groups, c.co_g) + c.kernel)
    b = rng.standard_normal(c.co_g * c.groups)
    results = {
        m: conv_transpose(y, w, b, c.stride, c.padding, op, c.groups, c.dilation, method=m)
        for m in METHODS + ["auto"]
    }
    ref = results["scatter"]
    scale = float(np.abs(ref).max())
    for m, out in results.items():
        assert out.shape == ref.shape, m
        assert out.dtype == np.float64
        _close(out, ref, scale)


@SETTINGS
@given(conv_cases(), st.sampled_from(METHODS))
def test_adjoint_identity(case, method):
    c, in_size = case
    rng, x, w = _conv_data(c, in_size)
    cx = _conv(c, x, w)
    y = rng.standard_normal(cx.shape)
    ty = _conv_t(c, y, w, output_size=in_size, method=method)
    assert ty.shape == x.shape
    lhs = float(np.vdot(cx, y))
    rhs = float(np.vdot(x, ty))
    scale = float(np.abs(cx).ravel() @ np.abs(y).ravel() + np.abs(x).ravel() @ np.abs(ty).ravel()) + 1.0
    assert abs(lhs - rhs) <= 1e-12 * scale, (lhs, rhs)


@SETTINGS
@given(conv_cases())
def test_conv_matrix_applies_conv_and_its_transpose(case):
    c, in_size = case
    rng, x, w = _conv_data(c, in_size)
    C = conv_matrix(x.shape[1:], w, c.stride, c.padding, c.dilation, c.groups)
    cx = _conv(c, x[0], w)  # unbatched
    assert C.shape == (cx.size, x[0].size)
    _close(C @ x[0].ravel(), cx.ravel(), float(np.abs(cx).max()))
    y = rng.standard_normal(cx.shape)
    ty = _conv_t(c, y, w, output_size=in_size, method="scatter")
    _close(C.T @ y.ravel(), ty.ravel(), float(np.abs(ty).max()))
    # the spatial-only input_shape form gives the same matrix
    C2 = conv_matrix(in_size, w, c.stride, c.padding, c.dilation, c.groups)
    assert (C2 != C).nnz == 0


@SETTINGS
@given(conv_cases())
def test_conv_shape_matches_prediction(case):
    c, in_size = case
    _, x, w = _conv_data(c, in_size)
    out = _conv(c, x, w)
    predicted = shapes.conv_output_size(in_size, c.kernel, c.stride, c.padding, c.dilation)
    assert out.shape == (c.batch, c.co_g * c.groups) + predicted
    g = shapes.conv_geometry(in_size, c.kernel, c.stride, c.padding, c.dilation)
    assert g.out_size == predicted


@SETTINGS
@given(conv_transpose_cases(), st.sampled_from(METHODS))
def test_conv_transpose_shape_matches_prediction(case, method):
    c, in_size, op = case
    rng = c.rng()
    y = rng.standard_normal((c.batch, c.ci_g * c.groups) + in_size)
    w = rng.standard_normal((c.ci_g * c.groups, c.co_g) + c.kernel)
    out = conv_transpose(y, w, None, c.stride, c.padding, op, c.groups, c.dilation, method=method)
    predicted = shapes.conv_transpose_output_size(in_size, c.kernel, c.stride, c.padding, op, c.dilation)
    assert out.shape == (c.batch, c.co_g * c.groups) + predicted
    lo, hi = shapes.conv_transpose_output_size_range(in_size, c.kernel, c.stride, c.padding, c.dilation)
    assert all(a <= p for a, p in zip(lo, predicted))
    # output_size anywhere in the range is honoured (sizes below 1 are never valid)
    if any(h < 1 for h in hi):
        return
    for size in (tuple(max(1, a) for a in lo), hi):
        sized = conv_transpose(y, w, None, c.stride, c.padding, groups=c.groups, dilation=c.dilation,
                               output_size=size, method=method)
        assert sized.shape[2:] == size


@SETTINGS
@given(conv_cases(), st.sampled_from(METHODS))
def test_conv_transpose_of_conv_restores_shape(case, method):
    c, in_size = case
    _, x, w = _conv_data(c, in_size)
    cx = _conv(c, x, w)
    back = _conv_t(c, cx, w, output_size=x.shape[2:], method=method)
    assert back.shape == x.shape
    # the n + 2 form of output_size too
    back2 = _conv_t(c, cx, w, output_size=x.shape, method=method)
    assert back2.shape == x.shape
    # and the geometry of the transpose is the geometry of the conv
    g = shapes.conv_geometry(in_size, c.kernel, c.stride, c.padding, c.dilation)
    gt = shapes.conv_transpose_geometry(cx.shape[2:], c.kernel, c.stride, c.padding, dilation=c.dilation,
                                        output_size=in_size)
    assert (gt.in_size, gt.out_size) == (g.in_size, g.out_size)
    assert all(b2 == b and e2 <= e for (b, e), (b2, e2) in zip(g.padding, gt.padding))


@SETTINGS
@given(conv_transpose_cases(), st.integers(1, 4), st.integers(1, 4), st.sampled_from(["float32", "float64"]),
       st.sampled_from(METHODS))
def test_each_sample_is_computed_as_if_alone(case, ci_g, co_g, dtype, method):
    """A sample's result does not depend on the batch around it, bit for bit, by every method: every GEMM
    (several channels per group) sums each element in one order (below the sizes where the float32 vector
    kernels take over, which the size rules choose by the whole call)."""
    c, in_size, op = case
    c = replace(c, ci_g=ci_g, co_g=co_g)
    rng = c.rng()
    y = rng.standard_normal((3, ci_g * c.groups) + in_size).astype(dtype)
    w = rng.standard_normal((ci_g * c.groups, co_g) + c.kernel).astype(dtype)
    batch = conv_transpose(y, w, None, c.stride, c.padding, op, c.groups, c.dilation, method=method)
    wc = rng.standard_normal((ci_g * c.groups, co_g) + c.kernel).astype(dtype)  # conv back to y's channels
    forward = conv(batch, wc, None, c.stride, c.padding, c.dilation, c.groups)
    for i in range(3):
        alone = conv_transpose(y[i : i + 1], w, None, c.stride, c.padding, op, c.groups, c.dilation, method=method)
        np.testing.assert_array_equal(alone, batch[i : i + 1])
        np.testing.assert_array_equal(conv(batch[i], wc, None, c.stride, c.padding, c.dilation, c.groups), forward[i])


def test_upconv_exports():
    assert set(upconv.__all__) >= {"conv", "conv_transpose", "conv_matrix", "shapes"}
