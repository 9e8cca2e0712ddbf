"""Checkerboard analysis (:mod:`upconv.checkerboard`): Distill's numbers, weights, spectra, gradients."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import upconv
from upconv import shapes
from upconv.explain.checkerboard import (
    dc_gain_spread,
    input_gradient_pattern,
    overlap_map,
    overlap_ratio,
    resize_equivalent_kernel,
    stride_frequency_energy,
)


def test_public_names_are_exported():
    for name in upconv.checkerboard.__all__:
        assert hasattr(upconv.checkerboard, name), name
    for name in ("overlap_map", "overlap_ratio", "dc_gain_spread", "resize_equivalent_kernel",
                 "stride_frequency_energy", "input_gradient_pattern"):
        assert getattr(upconv, name) is getattr(upconv.checkerboard, name)


# --------------------------------------------------------------------------
# overlap maps: the numbers of seed 003 / Distill

RATIOS = [  # (k, s, 1-d ratio, 2-d ratio)
    (3, 2, 2.0, 4.0),
    (5, 2, 1.5, 2.25),
    (7, 2, 4 / 3, 16 / 9),
    (4, 3, 2.0, 4.0),
]


@pytest.mark.parametrize("k, s, r1, r2", RATIOS)
def test_overlap_ratio_distill(k, s, r1, r2):
    assert overlap_ratio(k, s) == pytest.approx(r1, rel=1e-12)
    assert overlap_ratio(k, s, ndim=2) == pytest.approx(r2, rel=1e-12)
    assert overlap_map(k, s).ratio == pytest.approx(r1, rel=1e-12)
    assert overlap_map(k, s, ndim=2).ratio == pytest.approx(r2, rel=1e-12)
    assert overlap_ratio(k, s, ndim=3) == pytest.approx(r1**3, rel=1e-12)


@pytest.mark.parametrize("k, s", [(1, 1), (2, 2), (4, 2), (6, 2), (3, 3), (6, 3), (4, 4), (8, 4), (2, 1), (5, 1)])
def test_kernel_multiple_of_stride_is_flat(k, s):
    for n in (1, 2):
        m = overlap_map(k, s, ndim=n)
        assert m.ratio == 1.0 and m.artifact_free
        assert np.all(m.tile == (k // s) ** n)


def test_k3_s2_tiles():
    assert overlap_map(3, 2).tile.tolist() == [2, 1]
    assert overlap_map(3, 2, ndim=2).tile.tolist() == [[4, 2], [2, 1]]
    t3 = overlap_map(3, 2, ndim=3).tile
    np.testing.assert_array_equal(t3, np.einsum("i,j,k->ijk", [2, 1], [2, 1], [2, 1]))
    assert overlap_map(3, 2, ndim=2).max_count == 4 and overlap_map(3, 2, ndim=2).min_count == 1


def _is_rotation(a, b):
    return len(a) == len(b) and any(list(np.roll(a, r)) == list(b) for r in range(len(a)))


def test_two_stacked_k3_s2_layers():
    m = overlap_map(layers=[(3, 2), (3, 2)])
    # the tile starts at a multiple of the period (4), counted from the first tap of input pixel 0
    assert m.tile.tolist() == [3, 2, 3, 1]
    assert _is_rotation(m.tile, [3, 1, 3, 2])  # Distill's pattern, up to the phase
    assert m.period == (4,) and m.ratio == 3.0
    assert overlap_ratio(layers=[(3, 2), (3, 2)], ndim=2) == 9.0


def test_stride_one_layers_between():
    flat = overlap_map(layers=[(3, 2), (2, 1)])
    assert flat.ratio == 1.0 and flat.tile.tolist() == [3, 3]
    m = overlap_map(layers=[(3, 2), (3, 1)])
    assert m.tile.tolist() == [5, 4] and m.ratio == 1.25
    assert overlap_ratio(layers=[(3, 2), (3, 1)]) == 1.25
    assert overlap_ratio(layers=[(3, 2), (3, 1), (2, 1)]) == 1.0  # 9, 9


def test_holes():
    assert overlap_ratio(1, 2) == math.inf
    assert overlap_ratio(3, 2, dilation=2) == math.inf  # taps 0, 2, 4: odd pixels get nothing
    assert overlap_map(1, 2).tile.tolist() == [1, 0]
    assert overlap_ratio(layers=[(1, 2), (4, 2)]) == 1.0  # zero insertion then k4 s2 = k4 s4
    assert overlap_ratio(3, 2, dilation=3) == 2.0  # taps 0, 3, 6 -> residues 0, 1, 0


def _brute_counts(layers, n0):
    """Path counts through a 1-d stack by explicit loops (no conv_transpose)."""
    c = np.ones(n0, dtype=np.int64)
    for k, s, d in layers:
        out = np.zeros((len(c) - 1) * s + d * (k - 1) + 1, dtype=np.int64)
        for j, t in itertools.product(range(len(c)), range(k)):
            out[j * s + t * d] += c[j]
        c = out
    return c


@pytest.mark.parametrize("layers", [
    [(3, 2, 1)], [(5, 3, 1)], [(4, 2, 2)], [(3, 2, 1), (3, 2, 1)], [(3, 2, 1), (3, 1, 1)],
    [(5, 2, 1), (2, 3, 1), (3, 1, 2)], [(1, 3, 1), (3, 2, 1)],
])
def test_counts_against_loops_and_periodic_interior(layers):
    m = overlap_map(layers=layers)
    np.testing.assert_array_equal(m.counts, _brute_counts(layers, m.in_size[0]))
    (b, e), = m.interior
    assert e - b >= 2 * m.period[0]
    pos = np.arange(b, e)
    np.testing.assert_array_equal(m.counts[b:e], m.tile[pos % m.period[0]])
    # the interior is border-free: a larger input gives the same counts there
    big = _brute_counts(layers, m.in_size[0] + 3)
    np.testing.assert_array_equal(big[b:e], m.counts[b:e])


def test_nd_non_square_and_periodic():
    m = overlap_map((3, 4), (2, 3), ndim=2)
    assert m.period == (2, 3)
    np.testing.assert_array_equal(m.tile, np.outer([2, 1], [2, 1, 1]))
    assert m.ratio == 4.0 == overlap_ratio((3, 4), (2, 3))
    inner = m.interior_counts
    idx = np.indices(inner.shape)
    start = [b for b, _ in m.interior]
    expected = m.tile[tuple((i + s0) % p for i, s0, p in zip(idx, start, m.period))]
    np.testing.assert_array_equal(inner, expected)


def test_in_size_and_tables():
    m = overlap_map(3, 2, in_size=10)
    assert m.in_size == (10,) and m.counts.shape == (21,)
    text = str(m)
    assert "overlap ratio 2" in text and "checkerboard" in text and "2 1" in text
    assert "artifact-free" in overlap_map(4, 2).format_table()
    assert "holes" in overlap_map(1, 2).format_table()
    with pytest.raises(ValueError, match=r"^overlap_map: in_size=\(1,\) is too small.*use in_size >= 2 on that axis"):
        overlap_map(3, 2, in_size=1)
    assert not m.counts.flags.writeable


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 2)), min_size=1, max_size=3),
       st.integers(1, 2))
def test_overlap_ratio_matches_map(layers, ndim):
    assert overlap_ratio(layers=layers, ndim=ndim) == pytest.approx(overlap_map(layers=layers, ndim=ndim).ratio)


def test_overlap_map_errors():
    with pytest.raises(TypeError, match=r"^overlap_map: give kernel_size and stride"):
        overlap_map()
    with pytest.raises(ValueError, match=r"^overlap_map: give either kernel_size.*or layers, not both"):
        overlap_map(3, 2, layers=[(3, 2)])
    with pytest.raises(ValueError, match=r"^overlap_map: layers\[1\] must be \(kernel_size, stride\)"):
        overlap_map(layers=[(3, 2), (3,)])
    with pytest.raises(TypeError, match=r"^overlap_map: layers must be a non-empty sequence"):
        overlap_map(layers=[])
    with pytest.raises(ValueError, match=r"^overlap_map: every entry of layers\[0\] stride must be >= 1"):
        overlap_map(layers=[(3, 0)])
    with pytest.raises(ValueError, match=r"^overlap_map: the per-axis tuples must all have one length"):
        overlap_map(layers=[((3, 3), 2), ((3, 3, 3), 2)])
    with pytest.raises(ValueError, match=r"^overlap_ratio: kernel_size must be an integer or a sequence of 2"):
        overlap_ratio((3, 3, 3), 2, ndim=2)
    with pytest.raises(TypeError, match=r"^overlap_ratio: stride must be an integer"):
        overlap_ratio(3, 2.0)


# --------------------------------------------------------------------------
# shapes helpers added for this module


@pytest.mark.parametrize("n, k, s, p, a, d", [
    (6, 3, 2, 0, 0, 1), (6, 3, 2, 1, 1, 1), (7, 4, 3, 2, 2, 1), (5, 2, 3, 0, 1, 1), (8, 3, 2, 1, 0, 2),
    (9, 5, 1, 2, 0, 1),
])
def test_conv_transpose_interior_is_border_free(n, k, s, p, a, d):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 1, n)), rng.standard_normal((1, 1, k))
    y = upconv.conv_transpose(x, w, stride=s, padding=p, output_padding=a, dilation=d)
    (b, e), = shapes.conv_transpose_interior((n,), k, s, p, a, d)
    assert 0 <= b <= e <= y.shape[-1]
    # pad the input with random values: outputs in the interior do not change
    big = np.concatenate([rng.standard_normal((1, 1, 4)), x, rng.standard_normal((1, 1, 4))], axis=-1)
    yb = upconv.conv_transpose(big, w, stride=s, padding=p, output_padding=a, dilation=d)
    np.testing.assert_allclose(yb[0, 0, b + 4 * s: e + 4 * s], y[0, 0, b:e], atol=1e-12)


def test_shapes_helper_errors():
    with pytest.raises(ValueError, match=r"^conv_transpose_interior: input_interior must be"):
        shapes.conv_transpose_interior((4,), 3, 2, input_interior=[(1, 9)])
    assert shapes.resize_conv_transpose_padding(3, 1) == ((1, 1),)
    assert shapes.resize_conv_transpose_padding(5, [(1, 2), (0, 0)]) == ((3, 2), (4, 4))


# --------------------------------------------------------------------------
# weights: polyphase DC gain


def test_dc_gain_of_ones():
    r = dc_gain_spread(np.ones((1, 1, 3)), 2)
    assert r.gains.tolist() == [[[2.0, 1.0]]]
    assert r.max_spread == 1.0 and r.relative_spread[0, 0] == pytest.approx(1 / 1.5) and not r.flat
    r2 = dc_gain_spread(np.ones((1, 1, 3, 3)), 2)
    assert r2.gains[0, 0].tolist() == [[4.0, 2.0], [2.0, 1.0]] and r2.max_spread == 3.0
    assert dc_gain_spread(np.ones((2, 3, 4, 4)), 2).flat


def test_random_k4_s2_has_spread_and_resize_and_icnr_have_none():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 4, 4, 4))
    r = dc_gain_spread(w, 2)
    assert r.spread.shape == (3, 4) and r.gains.shape == (3, 4, 2, 2)
    assert r.max_spread > 0.1 and r.rms_spread > 0.1 and not r.flat
    assert r.rms_spread <= r.max_spread
    conv_w = rng.standard_normal((4, 3, 3, 3))  # conv layout (C_out, C_in, k, k)
    resize = dc_gain_spread(resize_equivalent_kernel(conv_w, 2), 2)
    assert resize.flat and resize.max_spread < 1e-12
    # every phase of the resize kernel sums to the conv kernel's sum
    np.testing.assert_allclose(resize.gains, np.broadcast_to(conv_w.sum(axis=(2, 3)).T[..., None, None], (3, 4, 2, 2)))
    # ICNR as a transposed conv: every phase gets the same sub-kernel (each tap repeated s times)
    sub = rng.standard_normal((3, 4, 2, 2))
    icnr = np.repeat(np.repeat(sub, 2, axis=2), 2, axis=3)
    assert dc_gain_spread(icnr, 2).flat
    assert "checkerboard on flat regions" in str(r) and "flat in, flat out" in str(resize)


@pytest.mark.parametrize("k, s, d", [(5, 2, 1), (4, 3, 1), (5, 2, 2), (3, 3, 2)])
def test_dc_gains_are_the_response_to_constant_input(k, s, d):
    rng = np.random.default_rng(2)
    w = rng.standard_normal((2, 3, k))
    r = dc_gain_spread(w, s, dilation=d)
    n = 12
    (b, e), = shapes.conv_transpose_interior((n,), k, s, 0, 0, d)
    for ci in range(2):
        x = np.zeros((1, 2, n))
        x[0, ci] = 1.0
        y = upconv.conv_transpose(x, w, stride=s, dilation=d)[0]
        for o in range(b, e):
            np.testing.assert_allclose(y[:, o], r.gains[ci, :, o % s], atol=1e-12)
    # all channels constant: r.response
    y = upconv.conv_transpose(np.ones((1, 2, n)), w, stride=s, dilation=d)[0]
    for o in range(b, e):
        np.testing.assert_allclose(y[:, o], r.response[:, o % s], atol=1e-12)
    assert r.response_spread.shape == (3,)


def test_flat_iff_zero_spread_on_outputs():
    rng = np.random.default_rng(3)
    x = np.ones((1, 1, 10, 10))
    w = rng.standard_normal((1, 1, 4, 4))
    y = upconv.conv_transpose(x, w, stride=2)[0, 0, 4:-4, 4:-4]
    assert np.ptp(y) > 1e-3
    k = resize_equivalent_kernel(rng.standard_normal((1, 1, 3, 3)), 2)
    y = upconv.conv_transpose(x, k, stride=2)[0, 0, 4:-4, 4:-4]
    assert np.ptp(y) < 1e-12


def test_dc_gain_dtypes_and_errors():
    r = dc_gain_spread(np.ones((1, 1, 4), dtype=np.float32), 2)
    assert r.gains.dtype == np.float64 and r.flat and r.tolerance > 1e-7
    with pytest.raises(ValueError, match=r"^dc_gain_spread: weight must have at least 3 dimensions"):
        dc_gain_spread(np.ones((3, 3)), 2)
    with pytest.raises(ValueError, match=r"^dc_gain_spread: stride must be an integer or a sequence of 2"):
        dc_gain_spread(np.ones((1, 1, 3, 3)), (2, 2, 2))
    with pytest.raises(TypeError, match=r"^dc_gain_spread: weight must be a real numeric array"):
        dc_gain_spread(np.ones((1, 1, 3), dtype=complex), 2)
    with pytest.raises(ValueError, match=r"^dc_gain_spread: every entry of dilation must be >= 1"):
        dc_gain_spread(np.ones((1, 1, 3)), 2, dilation=0)


# --------------------------------------------------------------------------
# resize-convolution as a transposed convolution


def _nearest(x, s):
    for a, f in enumerate(s):
        x = np.repeat(x, f, axis=2 + a)
    return x


@pytest.mark.parametrize("shape, k, s, p, groups", [
    ((2, 3, 7), (3,), (2,), [(1, 1)], 1),
    ((1, 2, 5, 6), (3, 2), (2, 3), [(1, 1), (0, 1)], 1),
    ((1, 4, 4, 5), (4, 3), (2, 2), [(0, 0), (2, 0)], 2),
    ((1, 2, 3, 4, 3), (2, 3, 2), (2, 1, 3), [(1, 0), (1, 1), (0, 0)], 1),
])
def test_resize_equivalent_kernel_equals_nearest_then_conv(shape, k, s, p, groups):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape)
    c_in = shape[1]
    w = rng.standard_normal((6, c_in // groups) + k)
    expected = upconv.conv(_nearest(x, s), w, padding=p, groups=groups)
    K = resize_equivalent_kernel(w, s, groups=groups)
    assert K.shape == (c_in, 6 // groups) + tuple(k_ + s_ - 1 for k_, s_ in zip(k, s))
    got = upconv.conv_transpose(x, K, stride=s, padding=shapes.resize_conv_transpose_padding(k, p), groups=groups)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert dc_gain_spread(K, s).flat


def test_resize_equivalent_kernel_values_dtype_and_errors():
    K = resize_equivalent_kernel(np.array([[[1.0, 2.0, 3.0]]], dtype=np.float32), 3)
    assert K.dtype == np.float32 and K[0, 0].tolist() == [3.0, 5.0, 6.0, 3.0, 1.0]
    w = np.ones((1, 1, 3))
    before = w.copy()
    resize_equivalent_kernel(w, 2)
    np.testing.assert_array_equal(w, before)
    with pytest.raises(ValueError, match=r"^resize_equivalent_kernel: mode must be one of 'nearest', got 'bilinear'"):
        resize_equivalent_kernel(w, 2, mode="bilinear")
    with pytest.raises(ValueError, match=r"^resize_equivalent_kernel: conv_weight.shape\[0\].*divisible by groups=2"):
        resize_equivalent_kernel(np.ones((3, 1, 3)), 2, groups=2)
    with pytest.raises(ValueError, match=r"^resize_equivalent_kernel: conv_weight must have at least 3 dimensions"):
        resize_equivalent_kernel(np.ones(3), 2)


# --------------------------------------------------------------------------
# spectra


def test_stride_frequency_energy_patterns():
    i, j = np.indices((16, 16))
    assert stride_frequency_energy((-1.0) ** (i + j), 2) == pytest.approx(1.0)
    assert stride_frequency_energy((-1.0) ** i, 2) == pytest.approx(1.0)  # stripes: (1/2, 0)
    assert stride_frequency_energy(np.tile([3.0, 0.0, 1.0], 10), 3) == pytest.approx(1.0)
    assert stride_frequency_energy(np.add.outer(np.arange(64.0), np.arange(64.0)), 2) < 0.01  # smooth ramp
    blob = np.exp(-((i - 7.5) ** 2 + (j - 7.5) ** 2) / 20.0)
    assert stride_frequency_energy(blob, 2) < 1e-3
    assert stride_frequency_energy(np.full((8, 8), 3.0), 2) == 0.0
    assert stride_frequency_energy(i + 0.0, 1) == 0.0  # stride 1: no stride frequency
    # overlap maps are pure period-s patterns on their interior
    m = overlap_map(3, 2, ndim=2)
    assert stride_frequency_energy(m.interior_counts[: 4, : 4].astype(float), 2) == pytest.approx(1.0)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("value", [0.1, 0.125, -7.3, 1e-30, 3e4, 1.0 / 3.0])
def test_stride_frequency_energy_of_flat_arrays_is_zero(value, dtype):
    # the mean's rounding residue (0.1 is not a binary fraction) must not count as stride energy
    for shape, stride in (((8, 8), 2), ((3, 12), 3), ((2, 3, 10, 6), (2, 3))):
        assert stride_frequency_energy(np.full(shape, value, dtype), stride) == 0.0


def test_stride_frequency_energy_of_flat_outputs_is_zero():
    # resize-convolution of a flat image is flat inside; so is a sub-pixel layer with ICNR-initialised weights
    for seed in range(8):
        w = np.random.default_rng(seed).standard_normal((1, 1, 3, 3))
        y = upconv.resize_conv(np.ones((1, 1, 16, 16)), w)
        assert np.ptp(y[..., 2:-2, 2:-2]) == 0.0
        assert stride_frequency_energy(y[..., 2:-2, 2:-2], 2) == 0.0
    w = upconv.nn.init.icnr((4 * 3, 3, 3, 3), 2, rng=np.random.default_rng(0))
    y = upconv.pixel_shuffle(upconv.conv(np.full((1, 3, 8, 8), 0.3, np.float32), w, padding=1), 2)
    assert np.ptp(y[..., 2:-2, 2:-2], axis=(-2, -1)).max() < 1e-6  # flat in every channel
    assert stride_frequency_energy(y[..., 2:-2, 2:-2], 2) == 0.0
    # a tiny real checkerboard on a large flat level is still seen, where the dtype resolves it
    i, j = np.indices((16, 16))
    assert stride_frequency_energy(1000.0 + 1e-3 * (-1.0) ** (i + j), 2) == pytest.approx(1.0)
    assert stride_frequency_energy((1000.0 + 0.25 * (-1.0) ** (i + j)).astype(np.float32), 2) == pytest.approx(1.0)
    assert stride_frequency_energy((1000.0 + 1e-3 * (-1.0) ** (i + j)).astype(np.float32), 2) == 0.0  # below float32's


def test_stride_frequency_energy_of_layers():
    # a smooth positive image (the measure sees the checkerboard of the local mean)
    x = (2 + np.cos(np.linspace(0, np.pi, 16))[None, None, :, None]
         * np.cos(np.linspace(0, np.pi, 16))[None, None, None, :])
    board = upconv.conv_transpose(x, np.ones((1, 1, 3, 3)), stride=2)[..., 2:-2, 2:-2]
    rng = np.random.default_rng(5)
    smooth = upconv.conv_transpose(x, resize_equivalent_kernel(np.ones((1, 1, 3, 3)) / 9, 2), stride=2)[..., 2:-2, 2:-2]
    assert stride_frequency_energy(board, 2) > 0.1
    assert stride_frequency_energy(smooth, 2) < 0.01
    # (N, C, H, W): spatial axes by default; explicit axes and per-axis strides agree
    y = rng.standard_normal((2, 3, 8, 8))
    assert stride_frequency_energy(y, 2) == pytest.approx(stride_frequency_energy(y, (2, 2)))
    assert stride_frequency_energy(y, 2) == pytest.approx(stride_frequency_energy(y, 2, axes=(-2, -1)))
    # cropping to a multiple of the stride
    assert stride_frequency_energy(np.tile([1.0, -1.0], 8)[:15], 2) == pytest.approx(1.0)


def test_stride_frequency_energy_errors():
    with pytest.raises(ValueError, match=r"^stride_frequency_energy: axis 0 of y \(length 2\) is shorter than its "
                                         r"stride 3"):
        stride_frequency_energy(np.ones(2), 3)
    with pytest.raises(ValueError, match=r"^stride_frequency_energy: every entry of axes must be in \[-2, 1\]"):
        stride_frequency_energy(np.ones((4, 4)), 2, axes=2)
    with pytest.raises(ValueError, match=r"^stride_frequency_energy: axes must not repeat an axis"):
        stride_frequency_energy(np.ones((4, 4)), 2, axes=(0, -2))
    with pytest.raises(ValueError, match=r"^stride_frequency_energy: y must have at least one axis"):
        stride_frequency_energy(1.0, 2)
    with pytest.raises(ValueError, match=r"^stride_frequency_energy: stride has 3 entries but y has 2 axes"):
        stride_frequency_energy(np.ones((4, 4)), (2, 2, 2))
    with pytest.raises(TypeError, match=r"^stride_frequency_energy: y must be a real numeric array"):
        stride_frequency_energy(np.ones(4, dtype=complex), 2)
    with pytest.raises(ValueError, match=r"^stride_frequency_energy: y must be finite"):
        stride_frequency_energy(np.array([1.0, np.inf, 0.0, 1.0]), 2)


# --------------------------------------------------------------------------
# gradient artifacts


def test_input_gradient_pattern_k3_s2():
    g = input_gradient_pattern(3, 2, in_size=12)
    assert g.padding == (1,)
    assert g.gradient[:6].tolist() == [1, 2, 1, 2, 1, 2]
    assert g.tile.tolist() == [1, 2] and g.ratio == 2.0
    g2 = input_gradient_pattern(3, 2, ndim=2)
    assert g2.tile.tolist() == [[1, 2], [2, 4]] and g2.ratio == 4.0
    assert input_gradient_pattern(3, 2, padding=0).tile.tolist() == [2, 1]
    assert input_gradient_pattern(4, 2).ratio == 1.0
    assert "ratio 2" in str(g)


@pytest.mark.parametrize("k, s, p, d, n", [(3, 2, 1, 1, 9), (5, 3, 2, 1, 14), (3, 2, 0, 2, 11), (4, 2, 1, 1, 10)])
def test_input_gradient_is_window_count(k, s, p, d, n):
    g = input_gradient_pattern(k, s, padding=p, dilation=d, in_size=n)
    (m,) = shapes.conv_output_size((n,), k, s, p, d)
    count = np.zeros(n, dtype=np.int64)
    for o, t in itertools.product(range(m), range(k)):
        i = o * s + t * d - p
        if 0 <= i < n:
            count[i] += 1
    np.testing.assert_array_equal(g.gradient, count)
    (b, e), = g.interior
    np.testing.assert_array_equal(g.gradient[b:e], g.tile[np.arange(b, e) % s])


def test_input_gradient_pattern_errors():
    with pytest.raises(ValueError, match=r"^input_gradient_pattern: in_size=\(1,\) is too small"):
        input_gradient_pattern(3, 2, in_size=1)
    with pytest.raises(ValueError, match=r"^input_gradient_pattern: every entry of padding must be >= 0"):
        input_gradient_pattern(3, 2, padding=-1)


def test_an_even_geometry_verdict_says_the_weights_decide_the_rest():
    import numpy as np

    import upconv

    m = upconv.overlap_map(4, 2, ndim=2)
    assert m.verdict == "artifact-free" and m.artifact_free
    assert "geometry" in m.advice and "upconv.dc_gain_spread(weight, stride)" in m.advice
    assert "geometry" in m.format_table() and "dc_gain_spread" in m.format_table()
    # the caveat is real: random k4 s2 weights make a checkerboard that the geometry does not
    w = np.random.default_rng(0).standard_normal((4, 4, 4, 4))
    assert upconv.dc_gain_spread(w, 2).max_relative_spread > 0.5
    odd = upconv.overlap_map(3, 2)
    assert odd.verdict == "checkerboard" and "whatever the weights" in odd.advice
