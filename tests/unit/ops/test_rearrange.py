"""pixel_shuffle / pixel_unshuffle / depth_to_space / space_to_depth.

Oracles: the index formulas (written out with loops), torch.nn.functional
and onnx.reference; round trips as properties.  Every case runs on both
copy paths (NumPy and the parallel kernel, forced by a zero threshold).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import upconv
from upconv.ops import rearrange as shuffle

try:
    import torch

    F = torch.nn.functional
except ImportError:
    torch = F = None
try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:
    given = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is the differential-test oracle")
needs_hypothesis = pytest.mark.skipif(given is None, reason="hypothesis is not installed")


@pytest.fixture(params=["numpy", "parallel"], autouse=True)
def copy_path(request, monkeypatch):
    if request.param == "parallel":
        monkeypatch.setattr(shuffle, "_PARALLEL_MIN_BYTES", 0)
    return request.param


def _reference_to_space(x, r, n, dcr):
    """Loop version of the module docstring's formulas, for any n."""
    lead, ch, spatial = x.shape[: -n - 1], x.shape[-n - 1], x.shape[-n:]
    c_out = ch // r**n
    y = np.empty(lead + (c_out,) + tuple(s * r for s in spatial), dtype=x.dtype)
    for c in range(c_out):
        for blk, offs in enumerate(itertools.product(range(r), repeat=n)):
            src = blk * c_out + c if dcr else c * r**n + blk
            dst = tuple(slice(o, None, r) for o in offs)
            y[(Ellipsis, c) + dst] = x[(Ellipsis, src) + (slice(None),) * n]
    return y


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("dcr", [False, True])
def test_against_formula(n, dcr):
    rng = np.random.default_rng(n + 10 * dcr)
    r = 2 if n == 3 else 3
    x = rng.standard_normal((2, 2 * r**n) + (2, 3, 2)[:n]).astype(np.float32)
    expected = _reference_to_space(x, r, n, dcr)
    if dcr:
        y = upconv.depth_to_space(x, r)
        back = upconv.space_to_depth(y, r)
    else:
        y = upconv.pixel_shuffle(x, r, ndim=n)
        back = upconv.pixel_unshuffle(y, r, ndim=n)
        np.testing.assert_array_equal(upconv.depth_to_space(x, r, mode="CRD"), expected)
        np.testing.assert_array_equal(upconv.space_to_depth(y, r, mode="CRD"), x)
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(back, x)
    assert y.flags.c_contiguous and not np.shares_memory(y, x)


@pytest.mark.parametrize(
    "dtype", [np.float16, np.float64, np.int8, np.int64, np.uint16, np.bool_, np.complex64, object]
)
def test_any_dtype_kept(dtype):
    x = (np.arange(2 * 8 * 2 * 3) % 5).astype(dtype).reshape(2, 8, 2, 3)
    y = upconv.pixel_shuffle(x, 2)
    assert y.dtype == x.dtype and y.shape == (2, 2, 4, 6)
    np.testing.assert_array_equal(upconv.pixel_unshuffle(y, 2), x)


def test_non_contiguous_and_lists():
    x = np.arange(2 * 8 * 4 * 6, dtype=np.float64).reshape(2, 8, 4, 6)
    view = x[:, ::2, ::-1, :]  # (2, 4, 4, 6), negative stride
    np.testing.assert_array_equal(upconv.pixel_shuffle(view, 2), upconv.pixel_shuffle(view.copy(), 2))
    np.testing.assert_array_equal(upconv.pixel_shuffle(view.tolist(), 2), upconv.pixel_shuffle(view.copy(), 2))
    before = x.copy()
    upconv.space_to_depth(x, 2)
    np.testing.assert_array_equal(x, before)


def test_factor_one_and_leading_axes():
    x = np.arange(24.0).reshape(2, 3, 4)
    y = upconv.pixel_shuffle(x, 1)
    np.testing.assert_array_equal(y, x)
    assert not np.shares_memory(y, x)
    z = np.arange(2 * 3 * 4 * 2 * 2.0).reshape(2, 3, 4, 2, 2)
    np.testing.assert_array_equal(upconv.pixel_shuffle(z, 2)[1, 2], upconv.pixel_shuffle(z[1, 2][None], 2)[0])


@pytest.mark.parametrize(
    ("func", "args", "kwargs", "exc", "match"),
    [
        (upconv.pixel_shuffle, (np.zeros((1, 4, 2, 2)), 0), {}, ValueError,
         r"^pixel_shuffle: upscale_factor must be >= 1, got 0"),
        (upconv.pixel_shuffle, (np.zeros((1, 4, 2, 2)), 2.0), {}, TypeError,
         r"^pixel_shuffle: upscale_factor must be an integer"),
        (upconv.pixel_shuffle, (np.zeros((1, 6, 2, 2)), 2), {}, ValueError,
         r"^pixel_shuffle: the channel axis .* size 6\) must be divisible by upscale_factor\*\*2 = 4"),
        (upconv.pixel_shuffle, (np.zeros((4, 2)), 2), {}, ValueError,
         r"^pixel_shuffle: x must have at least 3 dimensions"),
        (upconv.pixel_shuffle, (np.zeros((8, 2, 2)), 2), {"ndim": 3}, ValueError,
         r"^pixel_shuffle: x must have at least 4 dimensions"),
        (upconv.pixel_shuffle, (np.zeros((8, 2, 2)), 2), {"ndim": 0}, ValueError, r"^pixel_shuffle: ndim must be >= 1"),
        (upconv.pixel_unshuffle, (np.zeros((1, 1, 3, 4)), 2), {}, ValueError,
         r"^pixel_unshuffle: the spatial sizes \(3, 4\) must be divisible by downscale_factor=2"),
        (upconv.pixel_unshuffle, (np.zeros((1, 1, 4, 4)), -1), {}, ValueError,
         r"^pixel_unshuffle: downscale_factor must be >= 1"),
        (upconv.depth_to_space, (np.zeros((1, 4, 2, 2)), 2), {"mode": "RDC"}, ValueError,
         r"^depth_to_space: mode must be one of 'DCR', 'CRD', got 'RDC'"),
        (upconv.depth_to_space, (np.zeros((1, 4, 2, 2)), 3), {}, ValueError,
         r"^depth_to_space: the channel axis .* blocksize\*\*2 = 9"),
        (upconv.depth_to_space, (np.zeros((4, 2)), 2), {}, ValueError,
         r"^depth_to_space: x must have at least 3 dimensions"),
        (upconv.space_to_depth, (np.zeros((1, 1, 4, 5)), 2), {}, ValueError,
         r"^space_to_depth: the spatial sizes \(4, 5\) must be divisible by blocksize=2"),
        (upconv.space_to_depth, (np.zeros((1, 1, 4, 4)), True), {}, TypeError,
         r"^space_to_depth: blocksize must be an integer"),
    ],
)
def test_errors(func, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        func(*args, **kwargs)


# --------------------------------------------------------------------------
# torch


@needs_torch
@pytest.mark.parametrize("seed", range(30))
def test_pixel_shuffle_vs_torch(seed):
    rng = np.random.default_rng(seed)
    r = int(rng.integers(1, 4))
    lead = tuple(int(v) for v in rng.integers(1, 3, size=int(rng.integers(0, 3))))
    c = int(rng.integers(1, 4))
    hw = tuple(int(v) for v in rng.integers(1, 5, size=2))
    x = rng.standard_normal(lead + (c * r * r,) + hw).astype(np.float32)
    y = upconv.pixel_shuffle(x, r)
    np.testing.assert_array_equal(y, F.pixel_shuffle(torch.from_numpy(x), r).numpy())
    z = rng.standard_normal(lead + (c,) + tuple(s * r for s in hw)).astype(np.float64)
    np.testing.assert_array_equal(upconv.pixel_unshuffle(z, r), F.pixel_unshuffle(torch.from_numpy(z), r).numpy())


@needs_torch
@pytest.mark.parametrize(
    ("name", "shape", "factor"),
    [
        ("pixel_shuffle", (1, 6, 2, 2), 2),
        ("pixel_shuffle", (4, 2), 2),
        ("pixel_shuffle", (1, 4, 2, 2), 0),
        ("pixel_shuffle", (1, 4, 2, 2), -2),
        ("pixel_unshuffle", (1, 1, 3, 4), 2),
        ("pixel_unshuffle", (4, 4), 2),
        ("pixel_unshuffle", (1, 1, 4, 4), 0),
    ],
)
def test_errors_where_torch_raises(name, shape, factor):
    with pytest.raises((RuntimeError, ValueError)):
        getattr(F, name)(torch.zeros(shape), factor)
    with pytest.raises(ValueError, match=rf"^{name}: "):
        getattr(upconv, name)(np.zeros(shape), factor)


# --------------------------------------------------------------------------
# onnx.reference


def _onnx_run(op, x, blocksize, mode):
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    node = helper.make_node(op, ["X"], ["Y"], blocksize=blocksize, mode=mode)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 28)])
    return ReferenceEvaluator(model).run(None, {"X": x})[0]


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
@pytest.mark.parametrize("seed", range(6))
def test_vs_onnx_reference(mode, seed):
    pytest.importorskip("onnx")
    rng = np.random.default_rng(seed)
    b = int(rng.integers(1, 4))
    n_, c = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    hw = tuple(int(v) for v in rng.integers(1, 4, size=2))
    x = rng.standard_normal((n_, c * b * b) + hw).astype(np.float32)
    np.testing.assert_array_equal(upconv.depth_to_space(x, b, mode), _onnx_run("DepthToSpace", x, b, mode))
    z = rng.standard_normal((n_, c) + tuple(s * b for s in hw)).astype(np.float32)
    np.testing.assert_array_equal(upconv.space_to_depth(z, b, mode), _onnx_run("SpaceToDepth", z, b, mode))


# --------------------------------------------------------------------------
# properties


@needs_hypothesis
def test_round_trips():
    @st.composite
    def case(draw):
        n = draw(st.integers(1, 3))
        r = draw(st.integers(1, 3))
        lead = tuple(draw(st.lists(st.integers(1, 2), min_size=1, max_size=2)))
        c = draw(st.integers(1, 3))
        spatial = tuple(draw(st.integers(1, 3)) for _ in range(n))
        mode = draw(st.sampled_from(["DCR", "CRD"]))
        return n, r, lead, c, spatial, mode

    @settings(max_examples=60, deadline=None)
    @given(case())
    def check(args):
        n, r, lead, c, spatial, mode = args
        x = np.arange(math.prod(lead) * c * r**n * math.prod(spatial)).reshape(lead + (c * r**n,) + spatial)
        y = upconv.pixel_shuffle(x, r, ndim=n)
        assert y.shape == lead + (c,) + tuple(s * r for s in spatial)
        np.testing.assert_array_equal(upconv.pixel_unshuffle(y, r, ndim=n), x)
        if len(lead) == 1:
            d = upconv.depth_to_space(x, r, mode)
            np.testing.assert_array_equal(upconv.space_to_depth(d, r, mode), x)
            np.testing.assert_array_equal(upconv.depth_to_space(upconv.space_to_depth(d, r, mode), r, mode), d)
            # DCR and CRD differ only by a channel permutation
            other = "CRD" if mode == "DCR" else "DCR"
            perm = upconv.space_to_depth(d, r, other)
            first = (slice(None), slice(None)) + (0,) * n
            assert sorted(perm[first].ravel().tolist()) == sorted(x[first].ravel().tolist())

    check()
