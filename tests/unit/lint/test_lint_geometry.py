"""Geometry of ``upconv lint``: every number against a brute-force count of kernel stamps."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from upconv.linter.geometry import (
    border_deficits,
    conv_transpose_geometry_report,
    minimal_period,
    stack_report,
    stamp_counts,
    unreached_positions,
)


def brute_counts(in_size, k, s, pads=(0, 0), a=0, d=1):
    """Stamps per output position by looping over every (input, tap) pair."""
    out = (in_size - 1) * s + d * (k - 1) + 1 - pads[0] - pads[1] + a
    counts = [0] * out
    for j in range(in_size):
        for t in range(k):
            o = j * s + t * d - pads[0]
            if 0 <= o < out:
                counts[o] += 1
    return counts


def brute_ratio(k, s, d=1):
    """Interior max/min of the stamp counts of a long all-ones input (inf with holes)."""
    counts = brute_counts(8 * (k * d + s), k, s, d=d)
    ek = d * (k - 1) + 1
    interior = counts[ek:len(counts) - ek]
    return math.inf if min(interior) == 0 else max(interior) / min(interior)


CASES = [(4, 3, 2, (0, 0), 0, 1), (4, 3, 2, (1, 1), 1, 1), (4, 2, 2, (0, 0), 1, 1), (5, 4, 2, (1, 1), 0, 1),
         (5, 4, 2, (1, 1), 1, 1), (3, 1, 2, (0, 0), 0, 1), (6, 3, 3, (1, 0), 2, 1), (5, 3, 1, (0, 0), 1, 2),
         (4, 5, 2, (2, 2), 1, 1), (7, 64, 32, (0, 0), 0, 1), (3, 2, 3, (0, 0), 2, 1), (6, 3, 2, (0, 2), 1, 2)]


@pytest.mark.parametrize(("n", "k", "s", "pads", "a", "d"), CASES)
def test_stamp_counts_unreached_and_borders_match_brute_force(n, k, s, pads, a, d):
    counts = brute_counts(n, k, s, pads, a, d)
    assert stamp_counts(n, k, s, pads, a, d).tolist() == counts
    assert unreached_positions(n, k, s, pads, a, d).tolist() == [i for i, c in enumerate(counts) if c == 0]
    # deficits against the counts of a much longer input at the same un-cropped positions
    long = brute_counts(n + 40, k, s, (pads[0] + 20 * s, 0), d=d)
    deficit = [long[i] - c for i, c in enumerate(counts)]
    half = (len(counts) + 1) // 2
    trim = lambda v: v[: max([i + 1 for i, x in enumerate(v) if x] or [0])]  # noqa: E731
    assert border_deficits(n, k, s, pads, a, d) == (trim(deficit[:half]), trim(deficit[::-1][:half]))


def test_unet_odd_size_leaves_the_last_row_to_the_bias():
    assert unreached_positions(4, 2, 2, output_padding=1).tolist() == [8]
    assert border_deficits(4, 2, 2, output_padding=1) == ([], [1])
    assert border_deficits(4, 4, 2, (1, 1)) == ([1], [1])                       # k4 s2 p1: even


@pytest.mark.parametrize(("tile", "period"), [([1], 1), ([2, 1], 2), ([2, 2], 1), ([3, 2, 3, 2], 2),
                                              ([1, 2, 3], 3), ([2, 2, 2, 2, 2, 2], 1)])
def test_minimal_period(tile, period):
    assert minimal_period(tile) == period


@pytest.mark.parametrize(("k", "s", "d"), [((3, 3), (2, 2), (1, 1)), ((4, 3), (2, 2), (1, 1)), ((1, 2), (2, 2), (1, 1)),
                                           ((5, 4), (3, 2), (1, 1)), ((3, 3), (2, 1), (2, 1))])
def test_geometry_report_against_brute_force(k, s, d):
    p = {"kernel_size": k, "stride": s, "dilation": d, "padding": ((1, 1), (0, 1)), "output_padding": (0, 0),
         "groups": 1}
    g, findings = conv_transpose_geometry_report((9, 8), p)
    per_axis = [brute_ratio(k[i], s[i], d[i]) for i in range(2)]
    assert [math.inf if r == "inf" else r for r in g["overlap_ratio_per_axis"]] == per_axis
    total = math.prod(per_axis)  # stamp counts are separable: the 2-d interior is the outer product
    assert (math.inf if g["overlap_ratio"] == "inf" else g["overlap_ratio"]) == pytest.approx(total)
    for i in range(2):
        counts = brute_counts(40, k[i], s[i], d=d[i])
        tile = [counts[(d[i] * k[i] // s[i] + 2) * s[i] + r] for r in range(s[i])]
        assert g["tile_per_axis"][i] == tile
        periods = [q for q in range(1, s[i] + 1) if s[i] % q == 0 and tile == (tile[:q] * s[i])[:s[i]]]
        assert g["period"][i] == min(periods)
        assert g["unreached"][i]["count"] == brute_counts((9, 8)[i], k[i], s[i], p["padding"][i], 0, d[i]).count(0)
    codes = {c for c, _ in findings}
    assert ("overlap" in codes) == (1 < total < math.inf)
    assert ("holes" in codes) == math.isinf(total)


def test_stack_ratio_is_the_path_count_of_the_chain():
    layers = [("a", ((3,), (2,), (1,))), ("b", ((3,), (1,), (1,))), ("c", ((4,), (2,), (1,)))]
    r = stack_report(layers, 1)
    counts = np.ones(40)
    for _, (k, s, _d) in layers:  # compose: transposed convolution of the counts with an all-ones kernel
        up = np.zeros((len(counts) - 1) * s[0] + k[0])
        for j, c in enumerate(counts):
            up[j * s[0]: j * s[0] + k[0]] += c
        counts = up
    mid = counts[len(counts) // 2 - 8: len(counts) // 2 + 8]
    assert r["overlap_ratio"] == pytest.approx(mid.max() / mid.min())
    assert r["overlap_ratio_so_far"][0] == 2.0
    assert [x["name"] for x in r["layers"]] == ["a", "b", "c"]


@pytest.mark.parametrize(("k", "s"), list(itertools.product([2, 3, 4, 5], [1, 2, 3])))
def test_overlap_flag_is_k_not_a_multiple_of_s(k, s):
    p = {"kernel_size": (k,), "stride": (s,), "dilation": (1,), "padding": ((0, 0),), "output_padding": (0,),
         "groups": 1}
    _, findings = conv_transpose_geometry_report((6,), p)
    codes = {c for c, _ in findings}
    assert ("overlap" in codes or "holes" in codes) == (k % s != 0)


def test_stack_on_one_path_is_flagged_where_the_layer_alone_is_even():
    import upconv

    rng = np.random.default_rng(0)
    state = {"a.weight": upconv.resize_equivalent_kernel(rng.standard_normal((2, 2, 2, 2)), 3),  # k4 s3, flat
             "b.weight": upconv.resize_equivalent_kernel(rng.standard_normal((2, 2, 3, 3)), 2),  # k4 s2, flat
             "c.weight": rng.standard_normal((2, 2, 3, 3))}
    a = {"name": "a", "type": "ConvTranspose2d", "stride": 3}
    b = {"name": "b", "type": "ConvTranspose2d", "stride": 2, "padding": 1}
    uneven = upconv.lint(state, input_size=(1, 2, 6, 6), config=[a, {"name": "relu", "type": "ReLU"}, b])
    layer = uneven.layers[1]
    assert layer.geometry["overlap_ratio"] == 1.0
    # path counts by hand: k4 s3 stamps [2, 1, 1] per period of 3; k4 s2 then sums two consecutive inputs,
    # giving 3 or 2 per output: 1.5 per axis, 2.25 in 2-d
    assert layer.geometry["stack"]["overlap_ratio"] == 2.25
    assert [x["name"] for x in layer.geometry["stack"]["layers"]] == ["a", "b"]
    assert [f.code for f in layer.findings if f.severity == "flag"] == ["stack_overlap"]
    evened = upconv.lint(state, input_size=(1, 2, 6, 6), config=[a, {"name": "c", "type": "Conv2d", "padding": 1}, b])
    stack = evened.layers[1].geometry["stack"]
    assert [x["name"] for x in stack["layers"]] == ["a", "c", "b"] and stack["overlap_ratio"] == 1.0
    assert not evened.layers[1].flagged
