"""Shape planner (:mod:`upconv.plan`): every answer is run through conv_transpose."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import upconv
from upconv import shapes
from upconv.explain.checkerboard import overlap_ratio
from upconv.explain.inverse import plan_inverse
from upconv.explain.planner import MAX_STACKS, Plan, PlanRow, plan


def _run(row: PlanRow) -> list[int]:
    """Sizes after each layer of ``row``, by actually running upconv.conv_transpose."""
    x = np.ones((1, 1, row.layers[0].in_size))
    sizes = [x.shape[-1]]
    for L in row.layers:
        x = upconv.conv_transpose(
            x, np.ones((1, 1, L.kernel_size)), stride=L.stride, padding=L.padding,
            output_padding=L.output_padding, dilation=L.dilation,
        )
        sizes.append(x.shape[-1])
    return sizes


def _check(p: Plan) -> None:
    for row in p:
        assert _run(row) == list(row.sizes)
        assert row.sizes[0] == p.in_size and row.sizes[-1] == p.out_size
        rating = overlap_ratio(layers=[(L.kernel_size, L.stride, L.dilation) for L in row.layers], ndim=p.ndim)
        assert row.ratio == pytest.approx(rating)
        assert row.artifact_free == (row.ratio == 1.0 and row.unreached == 0)
    free = [r.artifact_free for r in p]
    assert free == sorted(free, reverse=True)  # artifact-free first
    for group in (p.artifact_free, [r for r in p if not r.artifact_free]):
        even = [not r.uneven_border for r in group]
        assert even == sorted(even, reverse=True)  # then even borders
        for part in ([r for r in group if not r.uneven_border], [r for r in group if r.uneven_border]):
            totals = [sum(r.kernel_sizes) for r in part]
            assert totals == sorted(totals)  # then by kernel size


@pytest.mark.parametrize("i, o, kw", [
    (7, 14, {}),
    (4, 8, {}),
    (5, 9, {"max_dilation": 3}),
    (16, 32, {"allow_output_padding": False}),
    (8, 8, {}),
    (13, 4, {"max_padding": 9}),
    (3, 10, {"max_kernel": 9, "max_stride": 5}),
])
def test_single_layer_answers_run(i, o, kw):
    p = plan(i, o, **kw)
    assert len(p) > 0
    _check(p)


@pytest.mark.parametrize("i, o, kw", [
    (7, 28, {"layers": 2, "max_kernel": 4}),
    (4, 16, {"layers": 2, "max_kernel": 5, "max_stride": 3}),
    (5, 40, {"layers": 3, "max_kernel": 4, "identical": True}),
    (6, 12, {"layers": 2, "max_kernel": 3, "monotone": False, "max_stride": 2}),
])
def test_stacks_answers_run(i, o, kw):
    p = plan(i, o, **kw)
    assert len(p) > 0
    _check(p)


def _brute_single(i, o, max_kernel, max_stride, max_dilation, allow_op=True, max_padding=None):
    found = set()
    for k, s, d in itertools.product(range(1, max_kernel + 1), range(1, max_stride + 1), range(1, max_dilation + 1)):
        top = d * (k - 1) if max_padding is None else max_padding
        for p, a in itertools.product(range(top + 1), range(max(s, d) if allow_op else 1)):
            try:
                if shapes.conv_transpose_output_size((i,), k, s, p, a, d) == (o,):
                    found.add((k, s, p, a, d))
            except ValueError:
                pass
    return found


@pytest.mark.parametrize("i, o, kw", [
    (7, 14, {}),
    (5, 9, {"max_dilation": 3}),
    (6, 6, {"max_kernel": 5, "max_dilation": 2, "max_stride": 3}),
    (4, 11, {"allow_output_padding": False}),
    (9, 20, {"max_padding": 1}),
])
def test_single_layer_is_complete(i, o, kw):
    p = plan(i, o, **kw)
    got = {(L.kernel_size, L.stride, L.padding, L.output_padding, L.dilation) for r in p for L in r.layers}
    want = _brute_single(i, o, kw.get("max_kernel", 7), kw.get("max_stride", 4), kw.get("max_dilation", 1),
                         kw.get("allow_output_padding", True), kw.get("max_padding"))
    assert got == want
    assert len(got) == len(p)  # no duplicates


def test_stacks_are_complete():
    p = plan(5, 17, layers=2, max_kernel=4, max_stride=3)
    got = {tuple((L.kernel_size, L.stride, L.padding, L.output_padding, L.dilation) for L in r.layers) for r in p}
    want = set()
    for mid in range(5, 18):  # monotone: intermediate sizes between 5 and 17
        for a in _brute_single(5, mid, 4, 3, 1):
            for b in _brute_single(mid, 17, 4, 3, 1):
                want.add((a, b))
    assert got == want and len(p) == len(want)


def test_identical_and_output_padding_bounds():
    p = plan(7, 29, layers=2, identical=True, max_kernel=5)
    assert len(p) > 0
    for r in p:
        assert len({(L.kernel_size, L.stride, L.padding, L.dilation) for L in r.layers}) == 1
    assert any(len(set(r.output_paddings)) > 1 for r in p)  # output_padding may differ per layer
    assert all(a == 0 for r in plan(9, 18, allow_output_padding=False) for a in r.output_paddings)
    assert all(x <= 1 for r in plan(9, 18, max_padding=1) for x in r.paddings)
    assert all(2 <= s <= 3 for r in plan(9, 18, min_stride=2, max_stride=3) for s in r.strides)
    # dilation beyond the stride allows output_padding up to max(s, d) - 1 (torch)
    assert any(L.output_padding >= L.stride for r in plan(5, 9, max_dilation=3) for L in r.layers)


def test_ratings_and_order():
    p = plan(7, 14)
    rows = {str(r.layers[0]): r for r in p}
    assert rows["k3 s2 p1 a1"].ratio == 2.0 and rows["k3 s2 p1 a1"].verdict == "checkerboard"
    assert rows["k4 s2 p1 a0"].artifact_free
    assert rows["k1 s2 p0 a1"].ratio == math.inf and rows["k1 s2 p0 a1"].verdict == "holes"
    assert str(p[0].layers[0]) == "k2 s2 p0 a0" and str(p[1].layers[0]) == "k4 s2 p1 a0"
    p2 = plan(7, 14, ndim=2)
    assert {str(r.layers[0]): r.ratio for r in p2}["k3 s2 p1 a1"] == 4.0
    # Distill's fix in a stack: k3 s2 then k2 s1 is artifact-free
    st = plan(7, 16, layers=2, max_kernel=3, max_stride=2)
    fixes = [r for r in st if r.kernel_sizes == (3, 2) and r.strides == (2, 1)]
    assert fixes and all(r.artifact_free for r in fixes)


def test_onnx_equivalents():
    onnx = {str(r.layers[0]): r.layers[0].onnx for r in plan(7, 14)}
    assert onnx["k2 s2 p0 a0"] == ("VALID", "SAME_UPPER", "SAME_LOWER")
    assert onnx["k4 s2 p1 a0"] == ("SAME_UPPER", "SAME_LOWER")
    assert onnx["k3 s2 p1 a1"] == ("SAME_UPPER output_padding=1", "SAME_LOWER output_padding=1")
    assert onnx["k1 s2 p0 a1"][0] == "VALID output_padding=1"
    # each listed equivalent translates back to the row's padding and output_padding
    for r in plan(6, 12, max_kernel=6):
        L = r.layers[0]
        for eq in L.onnx:
            mode, _, attr = eq.partition(" output_padding=")
            got = shapes.onnx_conv_transpose_padding(
                (L.in_size,), L.kernel_size, L.stride, L.dilation, auto_pad=mode, output_padding=int(attr or 0)
            )
            assert got == (((L.padding, L.padding),), (L.output_padding,))


def test_onnx_equivalents_match_onnx_reference():
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(0)
    checked = 0
    for r in plan(5, 10, max_kernel=5):
        L = r.layers[0]
        for eq in L.onnx:
            mode, _, attr = eq.partition(" output_padding=")
            node = helper.make_node("ConvTranspose", ["X", "W"], ["Y"], auto_pad=mode, strides=[L.stride],
                                    output_padding=[int(attr or 0)], dilations=[L.dilation])
            graph = helper.make_graph(
                [node], "g",
                [helper.make_tensor_value_info(n, TensorProto.DOUBLE, None) for n in ("X", "W")],
                [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, None)],
            )
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
            x, w = rng.standard_normal((1, 1, 5)), rng.standard_normal((1, 1, L.kernel_size))
            y = ReferenceEvaluator(model).run(None, {"X": x, "W": w})[0]
            z = upconv.conv_transpose(x, w, stride=L.stride, padding=L.padding, output_padding=L.output_padding,
                                      dilation=L.dilation)
            np.testing.assert_allclose(y, z, atol=1e-12)
            checked += 1
    assert checked >= 5
    assert onnx is not None


def test_tables():
    text = plan(7, 14).format_table()
    lines = text.splitlines()
    assert lines[0].startswith("transposed convolutions 7 -> 14: 9 layers")
    header, rule = lines[1], lines[2]
    assert header.split()[:4] == ["#", "kernel", "stride", "padding"] and set(rule) <= {"-", " "}
    # aligned: every row is as wide as the rule or narrower (trailing spaces stripped), columns line up
    assert all(len(line) <= len(rule) for line in lines[3:])
    assert "artifact-free" in text and "SAME_UPPER" in text
    short = plan(7, 14).format_table(limit=2)
    assert short.splitlines()[-1] == "... 7 more" and len(short.splitlines()) == 6
    st = str(plan(7, 28, layers=2, identical=True, max_kernel=4))
    assert "7 -> 14 -> 28" in st and "layer 2" in st
    assert "no transposed convolution" in str(plan(7, 100, max_stride=2))
    assert len(plan(7, 100, max_stride=2)) == 0
    assert str(plan(7, 14)[1]) == "7 -> 14: k4 s2 p1 a0 (ratio 1)"


def test_default_call_is_cached():
    # the default call is fast because the transitions and the ONNX equivalents are computed once
    # (its time is a benchmark's business); a second call finds everything in the caches
    import importlib

    overlap = importlib.import_module("upconv.explain.overlap")
    plan_module = importlib.import_module("upconv.explain.planner")

    caches = (plan_module._transitions, plan_module._onnx_equivalents, overlap._tile_1d)
    for cache in caches:
        cache.cache_clear()
    first = plan(7, 14)
    misses = [cache.cache_info().misses for cache in caches]
    assert all(m > 0 for m in misses)
    assert str(plan(7, 14)) == str(first)
    assert [cache.cache_info().misses for cache in caches] == misses  # all hits


def test_plan_errors():
    with pytest.raises(ValueError, match=r"^plan: in_size must be >= 1, got 0"):
        plan(0, 4)
    with pytest.raises(TypeError, match=r"^plan: out_size must be an integer, got 4.0"):
        plan(2, 4.0)
    with pytest.raises(ValueError, match=r"^plan: layers must be >= 1, got 0"):
        plan(2, 4, layers=0)
    with pytest.raises(TypeError, match=r"^plan: max_kernel must be an integer, got True"):
        plan(2, 4, max_kernel=True)
    with pytest.raises(ValueError, match=r"^plan: min_stride must be <= max_stride, got min_stride=3, max_stride=2"):
        plan(2, 4, min_stride=3, max_stride=2)
    with pytest.raises(TypeError, match=r"^plan: identical must be True or False"):
        plan(2, 4, identical=1)
    with pytest.raises(ValueError, match=r"^plan: \d+ stacks of 3 layers map 4 to 32 within these bounds, more than "
                                         rf"{MAX_STACKS}"):
        plan(4, 32, layers=3)


# --------------------------------------------------------------------------
# plan_inverse: U-Net skip connections


CONV_ARITHMETIC = [(4, 3, 1, 0, 1), (5, 4, 1, 2, 1), (5, 3, 1, 1, 1), (5, 3, 1, 2, 1), (5, 3, 2, 0, 1),
                   (5, 3, 2, 1, 1), (6, 3, 2, 1, 1), (7, 3, 1, 0, 2), (9, 4, 3, 1, 1), (10, 3, 2, 2, 2)]


@pytest.mark.parametrize("i, k, s, p, d", CONV_ARITHMETIC)
def test_plan_inverse_restores_every_input_size(i, k, s, p, d):
    inv = plan_inverse(i, k, s, p, d)
    w = np.ones((1, 1, k))
    for size, a in inv.candidates[0]:
        y = upconv.conv(np.ones((1, 1, size)), w, stride=s, padding=p, dilation=d)
        assert y.shape[-1:] == inv.conv_out_size
        assert upconv.conv_transpose(y, w, stride=s, padding=p, output_padding=a, dilation=d).shape[-1] == size
        assert upconv.conv_transpose(y, w, stride=s, padding=p, dilation=d, output_size=(size,)).shape[-1] == size
    assert i in [c for c, _ in inv.candidates[0]]
    assert dict(inv.candidates[0])[i] == inv.output_padding[0]
    assert 1 <= len(inv.candidates[0]) <= s


def test_plan_inverse_unet_odd_sizes():
    inv = plan_inverse((7, 8), 3, stride=2, padding=1)
    assert inv.conv_out_size == (4, 4) and inv.output_padding == (0, 1)
    assert inv.candidates == (((7, 0), (8, 1)), ((7, 0), (8, 1)))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 7, 8))
    y = upconv.conv(x, rng.standard_normal((3, 2, 3, 3)), stride=2, padding=1)
    back = upconv.conv_transpose(y, rng.standard_normal((3, 2, 3, 3)), stride=2, padding=1,
                                 output_padding=inv.output_padding)
    assert back.shape == x.shape
    assert "output_padding=(0, 1)" in inv.torch and "ConvTranspose2d" in inv.torch
    assert inv.ratio == 4.0
    text = str(inv)
    assert "<- this input" in text and "conv 7x8 -> 4x4" in text


def test_plan_inverse_onnx_and_asymmetric_padding():
    inv = plan_inverse(16, 4, stride=2, padding=1)
    assert inv.output_padding == (0,) and inv.onnx == ("SAME_UPPER", "SAME_LOWER") and inv.ratio == 1.0
    asym = plan_inverse((9,), 3, stride=2, padding=[(1, 0)])
    assert "asymmetric" in asym.torch
    y = upconv.conv(np.ones((1, 1, 9)), np.ones((1, 1, 3)), stride=2, padding=[(1, 0)])
    back = upconv.conv_transpose(y, np.ones((1, 1, 3)), stride=2, padding=asym.padding,
                                 output_padding=asym.output_padding)
    assert back.shape[-1] == 9


def test_plan_inverse_errors():
    with pytest.raises(ValueError, match=r"^plan_inverse: the kernel is larger than the padded input"):
        plan_inverse(2, 5)
    with pytest.raises(TypeError, match=r"^plan_inverse: padding must be an integer"):
        plan_inverse(8, 3, padding="same")
    with pytest.raises(ValueError, match=r"^plan_inverse: in_size must be >= 1, got 0"):
        plan_inverse(0, 3)
    with pytest.raises(ValueError, match=r"^plan_inverse: kernel_size must be an integer or a sequence of 2"):
        plan_inverse((8, 8), (3, 3, 3))


def test_bias_only_rows_are_an_artifact_ranked_after_the_clean_candidates():
    # the U-Net odd-size case: ConvTranspose2d(kernel_size=2, stride=2, output_padding=1) for 37 -> 75 leaves its
    # last row and column to the bias (no kernel tap reaches them)
    import numpy as np

    import upconv

    y = upconv.conv_transpose(np.ones((1, 1, 37, 37)), np.ones((1, 1, 2, 2)), stride=2, output_padding=1)
    assert not y[0, 0, -1].any() and not y[0, 0, :, -1].any()
    p = plan(37, 75, ndim=2)
    rows = {str(r.layers[0]): r for r in p}
    k2 = rows["k2 s2 p0 a1"]
    assert k2.ratio == 1.0 and k2.unreached == 1 and not k2.artifact_free and k2.verdict == "unreached"
    assert "no kernel tap reaches (at 74): bias only" in k2.why and "output_padding 1" in k2.why
    clean = [r for r in p if r.artifact_free]
    assert clean and str(p[0].layers[0]) == "k4 s2 p1 a1" and p[0].unreached == 0
    assert list(p).index(k2) >= len(clean)
    assert "unreached" in p.format_table() and "bias only" in p.format_table()
    # a stack whose layer leaves a row unreached is not artifact-free either
    st = plan(9, 37, layers=2, max_kernel=4, max_stride=2)
    assert any(r.unreached for r in st) and all(r.unreached == 0 for r in st.artifact_free)
