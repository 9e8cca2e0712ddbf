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
