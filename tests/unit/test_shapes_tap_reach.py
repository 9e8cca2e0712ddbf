"""upconv.shapes.tap_reach: the index map ``i = o*s + t*d - p_begin`` of every view, against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from upconv import shapes


@pytest.mark.parametrize("seed", range(20))
def test_tap_reach_is_every_output_whose_tap_reads_inside_the_input(seed):
    rng = np.random.default_rng(seed)
    checked = 0
    while checked < 50:
        i, k, s, d = (int(a) for a in rng.integers(1, (12, 5, 4, 3)))
        b, e = (int(a) for a in rng.integers(-2, 5, 2))  # negative: the cropping end padding of a transpose
        o = (i + b + e - d * (k - 1) - 1) // s + 1
        if o < 1:
            continue
        g = shapes.ConvGeometry((4, i), (3, o), (2, k), (1, s), (1, d), ((0, 0), (b, e)))
        for t in range(k):
            outputs, inputs = shapes.tap_reach(g, 1, t)
            expected = [oo for oo in range(o) if 0 <= oo * s + t * d - b < i]
            assert list(outputs) == expected
            assert list(inputs) == [oo * s + t * d - b for oo in expected]
        checked += 1


def test_tap_reach_is_what_the_conv_reads():
    # the taps of every output of a strided, dilated, padded convolution, read off conv's windows
    g = shapes.conv_geometry((9,), 3, stride=2, padding=(2,), dilation=2)
    padded = np.arange(-g.padding[0][0], 9 + g.padding[0][1])  # input index at each padded position
    for t in range(3):
        outputs, inputs = shapes.tap_reach(g, 0, t)
        reads = padded[t * 2 :: 2][: g.out_size[0]]  # tap t of every output
        inside = np.flatnonzero((reads >= 0) & (reads < 9))
        assert list(outputs) == list(inside)
        assert list(inputs) == list(reads[inside])


@pytest.mark.parametrize("seed", range(10))
def test_stamp_counts_are_a_transposed_convolution_of_ones(seed):
    # brute force: conv_transpose of an all-ones input with an all-ones kernel counts the (input, tap) pairs
    import upconv

    rng = np.random.default_rng(seed)
    checked = 0
    while checked < 40:
        i, k, s, d = (int(a) for a in rng.integers(1, (10, 6, 5, 3)))
        p = int(rng.integers(0, d * (k - 1) + 1))
        a = int(rng.integers(0, max(s, d)))
        try:
            (o,) = shapes.conv_transpose_output_size((i,), k, s, p, a, d)
        except ValueError:
            continue
        if o < 1:
            continue
        counts = upconv.conv_transpose(np.ones((1, 1, i)), np.ones((1, 1, k)), stride=s, padding=p,
                                       output_padding=a, dilation=d)[0, 0]
        got = shapes.stamp_counts(i, k, s, (p, p), a, d)
        np.testing.assert_array_equal(got, counts)
        assert list(shapes.unreached_positions(i, k, s, (p, p), a, d)) == [int(x) for x in np.flatnonzero(counts == 0)]
        c = shapes.tap_coverage(i, k, s, (p, p), a, d)
        begin, end = shapes.border_deficits(i, k, s, (p, p), a, d)
        assert (list(c.begin), list(c.end)) == (begin, end) and c.unreached == tuple(np.flatnonzero(counts == 0))
        # deficits by brute force: an input long enough that the window sees no border
        long = upconv.conv_transpose(np.ones((1, 1, i + 4 * k * d)), np.ones((1, 1, k)), stride=s, dilation=d)[0, 0]
        f = np.arange(o) + p + 2 * k * d * s  # the same phase, far from both borders
        deficit = long[f] - counts
        half = (o + 1) // 2
        trim = lambda v: [int(x) for x in v[: np.flatnonzero(v)[-1] + 1]] if np.flatnonzero(v).size else []  # noqa: E731
        assert begin == trim(deficit[:half]) and end == trim(deficit[::-1][:half])
        checked += 1
