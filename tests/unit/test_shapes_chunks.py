"""upconv.shapes.chunks against brute force: which inputs influence which outputs, found by perturbation.

For small 1-d configurations, input ``j`` is set to one (every other input
zero, or -1 for max pooling) and the outputs that change are the ones it
influences.  Every chunk must read every input that influences it, read
nothing else (a transposed convolution's window may start early, by the
rule of ``conv_transpose_chunks``), and the in-memory operator on the
chunk's window with the chunk's local padding must give the chunk exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

import upconv
from upconv import shapes
from upconv.ops.interpolation import interpolate_plans, resize_plans

RNG = np.random.default_rng(23)


def random_chunks(total: int, rng: np.random.Generator) -> tuple[int, ...]:
    """Chunk sizes adding up to ``total``: ones, a regular size with a ragged end, or random cuts."""
    kind = rng.integers(3)
    if kind == 0:
        return (1,) * total
    if kind == 1:
        c = int(rng.integers(1, total + 1))
        return (c,) * (total // c) + ((total % c,) if total % c else ())
    cuts = sorted(set(rng.integers(1, total, size=rng.integers(0, total)).tolist())) if total > 1 else []
    b = [0, *cuts, total]
    return tuple(int(q - p) for p, q in zip(b[:-1], b[1:], strict=True))


def influence(op, n_in: int, background: float = 0.0) -> list[set[int]]:
    """For every output, the inputs whose change changes it."""
    base = op(np.full(n_in, background))
    out: list[set[int]] = [set() for _ in range(base.size)]
    for j in range(n_in):
        x = np.full(n_in, background)
        x[j] = 1.0
        for o in np.flatnonzero(op(x) != base):
            out[o].add(j)
    return out


def check_cover(chunks, n_out: int, n_in: int) -> None:
    assert chunks[0].start == 0 and chunks[-1].stop == n_out
    for a, b in zip(chunks[:-1], chunks[1:], strict=True):
        assert a.stop == b.start
    for c in chunks:
        assert c.start < c.stop and 0 <= c.read_start < c.read_stop <= n_in


def conv_cases(count: int):
    found = 0
    while found < count:
        n_in, k, s, d = (int(RNG.integers(1, top)) for top in (14, 5, 4, 4))
        pads = ((int(RNG.integers(0, 4)), int(RNG.integers(0, 4))),)
        try:
            g = shapes.conv_geometry((n_in,), k, s, pads, d)
        except ValueError:
            continue
        found += 1
        yield g, random_chunks(n_in, RNG)


@pytest.mark.parametrize("case", range(4))
def test_conv_chunks_read_exactly_what_influences_them(case):
    for g, chunks in conv_cases(40):
        k, s, d = g.kernel_size[0], g.stride[0], g.dilation[0]
        w = np.ones((1, 1, k))

        def op(x, g=g, w=w):
            return upconv.conv(x[None, None], w, None, g.stride, g.padding, g.dilation)[0, 0]

        inf = influence(op, g.in_size[0])
        x = RNG.standard_normal(g.in_size[0])
        y = op(x)
        found = shapes.conv_chunks(g, 0, chunks)
        check_cover(found, g.out_size[0], g.in_size[0])
        for c in found:
            reads = set().union(*inf[c.start:c.stop])
            if reads:
                assert (c.read_start, c.read_stop) == (min(reads), max(reads) + 1), (g, chunks, c)
            local = upconv.conv(x[None, None, c.read_start:c.read_stop], w, None, s, [c.padding], d)[0, 0]
            # the GEMM of a window and of the whole array may round differently (see upconv.ops.chunked)
            np.testing.assert_allclose(local, y[c.start:c.stop], rtol=1e-13, atol=1e-13, err_msg=str((g, c)))


def transpose_cases(count: int):
    found = 0
    while found < count:
        n_in, k, s, d = (int(RNG.integers(1, top)) for top in (10, 5, 4, 4))
        pads = ((int(RNG.integers(0, 4)), int(RNG.integers(0, 4))),)
        a = int(RNG.integers(0, max(s, d)))
        try:
            g = shapes.conv_transpose_geometry((n_in,), k, s, pads, a, d)
        except ValueError:
            continue
        found += 1
        yield g, pads, a, random_chunks(n_in, RNG)


@pytest.mark.parametrize("case", range(4))
def test_conv_transpose_chunks_read_what_influences_them(case):
    for g, pads, a, chunks in transpose_cases(40):  # noqa: B007 (bound as defaults of op)
        k, s, d = g.kernel_size[0], g.stride[0], g.dilation[0]
        w = np.ones((1, 1, k))
        n_in, n_out = g.out_size[0], g.in_size[0]

        def op(x, s=s, pads=pads, a=a, d=d, w=w):
            return upconv.conv_transpose(x[None, None], w, None, s, pads, a, 1, d)[0, 0]

        inf = influence(op, n_in)
        x = RNG.standard_normal(n_in)
        y = op(x)
        found = shapes.conv_transpose_chunks(g, 0, chunks)
        check_cover(found, n_out, n_in)
        whole_axis = len(found) == 1 and found[0].padding == g.padding[0]
        for c in found:
            reads = set().union(*inf[c.start:c.stop])
            assert reads or whole_axis
            if reads and not whole_axis:
                assert c.read_stop == max(reads) + 1
                # the window starts at the first input that reaches the chunk, or early enough that its
                # stamps do not start after the chunk
                assert c.read_start == min(min(reads), (c.start + g.padding[0][0]) // s), (g, chunks, c)
            b, e = c.padding
            assert b >= 0 and -e < max(s, d)
            local = upconv.conv_transpose(x[None, None, c.read_start:c.read_stop], w, None, s, [(b, max(e, 0))],
                                          max(-e, 0), 1, d)[0, 0]
            assert np.array_equal(local, y[c.start:c.stop]), (g, chunks, c)


def test_max_pool_chunks_with_ceil_mode():
    checked = 0
    while checked < 60:
        n_in, k, s, d = (int(RNG.integers(1, top)) for top in (14, 5, 4, 3))
        pads = [(int(RNG.integers(0, 3)), int(RNG.integers(0, 3)))]
        ceil_mode = bool(RNG.integers(2))
        try:
            g = shapes.pool_geometry((n_in,), k, s, pads, d, ceil_mode)
        except ValueError:
            continue
        checked += 1

        def op(x, k=k, s=s, pads=pads, d=d, ceil_mode=ceil_mode):
            return upconv.max_pool(x[None, None], k, s, pads, d, ceil_mode)[0, 0]

        inf = influence(op, n_in, background=-1.0)
        x = RNG.standard_normal(n_in)
        y = op(x)
        found = shapes.conv_chunks(g, 0, random_chunks(n_in, RNG))
        check_cover(found, g.out_size[0], n_in)
        for c in found:
            reads = set().union(*inf[c.start:c.stop])
            assert (c.read_start, c.read_stop) == (min(reads), max(reads) + 1)
            local = upconv.max_pool(x[None, None, c.read_start:c.read_stop], k, s, [c.padding], d)[0, 0]
            assert np.array_equal(local, y[c.start:c.stop])


@pytest.mark.parametrize("mode, kw", [
    ("linear", {}), ("linear", {"align_corners": True}), ("nearest", {}), ("nearest-exact", {}),
    ("area", {}),
])
def test_gather_chunks_of_interpolation_plans(mode, kw):
    for _ in range(30):
        n_in = int(RNG.integers(1, 12))
        if RNG.integers(2):
            args = {"scale_factor": float(RNG.uniform(0.3, 4.0))}
        else:
            args = {"size": int(RNG.integers(1, 30))}
        try:
            out, plans = interpolate_plans("interpolate", np.zeros((1, 1, n_in)), args.get("size"),
                                           args.get("scale_factor"), mode, kw.get("align_corners"), None, False)
        except ValueError:
            continue
        if plans is None or plans[2] is None:
            continue

        def op(x, args=args):
            return upconv.interpolate(x[None, None], mode=mode, **args, **kw)[0, 0]

        inf = influence(op, n_in)
        found = shapes.gather_chunks(plans[2].index, n_in, random_chunks(n_in, RNG))
        check_cover(found, out[0], n_in)
        taps = plans[2].index
        for c in found:
            reads = set().union(*inf[c.start:c.stop])
            assert reads <= set(range(c.read_start, c.read_stop))
            assert (c.read_start, c.read_stop) == (taps[:, c.start:c.stop].min(), taps[:, c.start:c.stop].max() + 1)


def test_gather_chunks_of_antialiased_and_onnx_plans():
    for _ in range(20):
        n_in, n_out = int(RNG.integers(2, 30)), int(RNG.integers(1, 30))
        _, plans = interpolate_plans("interpolate", np.zeros((1, 1, 1, n_in)), (1, n_out), None, "bicubic", None,
                                     None, True)
        _, onnx = resize_plans("resize", np.zeros(n_in), [n_out], None, None, "cubic", "half_pixel",
                               "round_prefer_floor", -0.5, True, False, None, "stretch")
        for plan in (plans[3], onnx[0]):
            if plan is None:
                continue
            chunks = random_chunks(n_in, RNG)
            found = shapes.gather_chunks(plan.index, n_in, chunks)
            check_cover(found, n_out, n_in)
            for c in found:
                part = plan.index[:, c.start:c.stop]
                assert (c.read_start, c.read_stop) == (part.min(), part.max() + 1)


def test_output_chunks_follow_input_chunks():
    same = shapes.conv_geometry((12,), 5, padding=2)
    assert [c.stop for c in shapes.conv_chunks(same, 0, (5, 4, 3))] == [5, 9, 12]
    up = shapes.conv_transpose_geometry((9,), 3, stride=2, padding=1, output_padding=1)
    assert [c.stop for c in shapes.conv_transpose_chunks(up, 0, (4, 5))] == [8, 18]
    down = shapes.conv_geometry((12,), 2, stride=2)
    assert [c.stop for c in shapes.conv_chunks(down, 0, (4, 4, 4))] == [2, 4, 6]


def test_chunks_that_read_nothing_are_merged():
    # stride 5 > kernel 1: outputs between the stamps receive nothing
    g = shapes.conv_transpose_geometry((4,), 1, stride=5)
    found = shapes.conv_transpose_chunks(g, 0, (1, 1, 1, 1))
    assert all(c.read_stop > c.read_start for c in found)
    # one output reading padding only: the whole axis in one call, with the operator's padding
    g = shapes.conv_geometry((1,), 1, stride=3, padding=1)
    assert shapes.conv_chunks(g, 0, (1,)) == (shapes.Chunk(0, 1, 0, 1, (1, 1)),)


def test_errors():
    g = shapes.conv_geometry((8,), 3)
    with pytest.raises(ValueError, match="conv_chunks: chunks must add up to the axis length 8"):
        shapes.conv_chunks(g, 0, (4, 3))
    with pytest.raises(ValueError, match=r"gather_chunks: index must lie in \[0, 3\)"):
        shapes.gather_chunks(np.array([[0, 3]]), 3, (3,))
    with pytest.raises(TypeError, match="gather_chunks: index must be an integer array"):
        shapes.gather_chunks(np.array([0.5]), 3, (3,))
