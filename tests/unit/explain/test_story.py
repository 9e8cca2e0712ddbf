"""The checkerboard story (:mod:`upconv.explain.story`): every part equals the library function it comes from."""

from __future__ import annotations

import json

import numpy as np
import pytest

import upconv
from upconv.explain import story


def random_cases(count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        n = int(rng.integers(1, 3))
        size = tuple(int(i) for i in rng.integers(1, 5, n))
        k = tuple(int(i) for i in rng.integers(1, 6, n))
        s = tuple(int(i) for i in rng.integers(1, 4, n))
        d = tuple(int(i) for i in rng.integers(1, 3, n))
        p = tuple(int(i) for i in rng.integers(0, 2, n))
        layers = [(int(rng.integers(1, 5)), int(rng.integers(1, 3))) for _ in range(int(rng.integers(0, 3)))]
        try:
            upconv.shapes.conv_transpose_geometry(size, k, s, p, 0, d)
        except ValueError:
            continue
        cases.append({"x": rng.normal(size=size), "weight": rng.normal(size=k), "stride": s, "padding": p,
                      "dilation": d, "layers": layers, "weights": str(rng.choice(story.WEIGHT_SOURCES)),
                      "seed": int(rng.integers(0, 100))})
    return cases


CASES = random_cases(16, 3)


@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_story_is_the_library(case):
    s = story.checkerboard_story(case["x"], case["weight"], case["stride"], case["padding"], 0, case["dilation"],
                                 layers=case["layers"], weights=case["weights"], seed=case["seed"])
    c = s.config
    w = case["weight"] if case["weights"] == "user" else story.random_weight(c.kernel_size, case["seed"])
    np.testing.assert_array_equal(c.weight, w)
    layer = upconv.overlap_map(c.kernel_size, c.stride, dilation=c.dilation)
    np.testing.assert_array_equal(s.layer.counts, layer.counts)
    assert s.layer.ratio == layer.ratio == upconv.overlap_ratio(c.kernel_size, c.stride, dilation=c.dilation)
    if case["layers"]:
        stack_layers = [(c.kernel_size, c.stride, c.dilation)] + case["layers"]
        stack = upconv.overlap_map(layers=stack_layers, ndim=c.ndim)
        np.testing.assert_array_equal(s.stack.tile, stack.tile)
        assert s.stack.ratio == upconv.overlap_ratio(layers=stack_layers, ndim=c.ndim)
    else:
        assert s.stack is s.layer
    dc = upconv.dc_gain_spread(w[None, None], c.stride, dilation=c.dilation)
    np.testing.assert_array_equal(s.dc_gain.gains, dc.gains)
    ones = np.ones((1, 1) + layer.in_size)
    np.testing.assert_array_equal(
        s.flat_transposed, upconv.conv_transpose(ones, w[None, None], stride=c.stride, dilation=c.dilation)[0, 0])
    scale = tuple(float(v) for v in c.stride)
    np.testing.assert_array_equal(s.flat_resized, upconv.resize_conv(ones, w[None, None], scale_factor=scale)[0, 0])
    np.testing.assert_array_equal(s.resized, upconv.resize_conv(case["x"][None, None], w[None, None],
                                                                scale_factor=scale)[0, 0])
    want = upconv.conv_transpose(case["x"][None, None], w[None, None], stride=c.stride, padding=case["padding"],
                                 dilation=c.dilation)[0, 0]
    np.testing.assert_allclose(s.transposed, want, atol=1e-12)
    K = upconv.resize_equivalent_kernel(w[None, None], c.stride)
    np.testing.assert_array_equal(s.resize_kernel, K[0, 0])
    assert s.resize_dc_gain.flat
    d = json.loads(json.dumps(s.to_dict(), allow_nan=False))
    assert d["layer"]["ratio_text"] == upconv.explain.report.number(layer.ratio)
    assert d["weights"] == case["weights"]


def test_distill_period_four_in_two_dimensions():
    s = story.checkerboard_story(np.ones((2, 2)), np.ones((3, 3)), 2, layers=[(3, 2)])
    assert s.stack.period == (4, 4)
    assert s.stack.tile[0].tolist() == [9, 6, 9, 3]
    assert s.layer.ratio == 4.0 and s.stack.ratio == 9.0
    d = s.to_dict()
    assert d["stack"]["verdict"] == "checkerboard" and d["stack"]["period"] == [4, 4]
    assert [L["label"] for L in d["stack"]["layers"]] == ["k3 s2", "k3 s2"]


def test_holes_are_json_and_large_maps_keep_their_tile():
    s = story.checkerboard_story([1.0, 2.0], [1.0], stride=3)
    d = s.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["layer"]["ratio"] is None and d["layer"]["ratio_text"] == "inf" and d["layer"]["verdict"] == "holes"
    small = s.to_dict(max_map_cells=2)
    assert small["layer"]["counts"] is None and small["layer"]["tile"] == [1, 0, 0]


def test_random_weights_are_seeded_and_exact_on_a_page():
    a = story.random_weight((3, 3), 7)
    np.testing.assert_array_equal(a, story.random_weight((3, 3), 7))
    assert not np.array_equal(a, story.random_weight((3, 3), 8))
    np.testing.assert_array_equal(a, np.round(a, 2))


def test_flat_in_flat_out_for_k4_s2():
    s = story.checkerboard_story(np.ones((2, 2)), np.ones((4, 4)), 2)
    assert s.layer.artifact_free and s.dc_gain.flat


@pytest.mark.parametrize("kwargs, error, match", [
    ({"weights": "bogus"}, ValueError, "checkerboard_story: weights must be one of 'user', 'random'"),
    ({"seed": -1}, ValueError, "checkerboard_story: seed must be >= 0"),
    ({"seed": 1.5}, TypeError, "checkerboard_story: seed must be an integer"),
    ({"layers": [(3, 2)] * 3}, ValueError, "at most 2 further layers"),
    ({"layers": "3:2"}, TypeError, "layers must be a sequence"),
    ({"layers": [(0, 2)]}, ValueError, "overlap_map: every entry of layers\\[1\\] kernel_size must be >= 1"),
])
def test_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        story.checkerboard_story([1.0, 2.0], [1.0, 1.0, 1.0], 2, **kwargs)
