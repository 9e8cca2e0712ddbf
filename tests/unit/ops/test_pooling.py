"""max_pool, max_unpool and unpool: hand-checked cases, torch / onnx.reference differentials, properties.

Random configurations come from ``numpy.random.default_rng(seed)`` with the
seed in the test id.  Values are drawn from a few small integers plus NaN
and -inf so that ties, NaN propagation and all--inf windows occur often.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import upconv
from upconv import shapes

try:
    import torch

    F = torch.nn.functional
except ImportError:  # the differential tests are skipped
    torch = F = None
try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:
    given = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is the differential-test oracle")
needs_hypothesis = pytest.mark.skipif(given is None, reason="hypothesis is not installed")

SEED_004_X = np.arange(1.0, 17.0, dtype=np.float32).reshape(1, 1, 4, 4)


def _tricky(rng, shape, dtype=np.float32, special=True):
    """Small integers (many ties), with some NaN and -inf when ``special``."""
    x = rng.integers(-3, 4, size=shape).astype(dtype)
    if special:
        u = rng.random(shape)
        x[u < 0.05] = np.nan
        x[(u >= 0.05) & (u < 0.1)] = -np.inf
    return x


# --------------------------------------------------------------------------
# hand-checked


def test_seed_004_max_pool_unpool():
    y, idx = upconv.max_pool(SEED_004_X, 2, stride=2, return_indices=True)
    np.testing.assert_array_equal(y, [[[[6, 8], [14, 16]]]])
    assert y.dtype == np.float32 and idx.dtype == np.int64
    np.testing.assert_array_equal(idx, [[[[5, 7], [13, 15]]]])
    back = upconv.max_unpool(y, idx, 2, stride=2)
    expected = np.zeros((1, 1, 4, 4), np.float32)
    expected[0, 0, 1, 1], expected[0, 0, 1, 3], expected[0, 0, 3, 1], expected[0, 0, 3, 3] = 6, 8, 14, 16
    np.testing.assert_array_equal(back, expected)
    assert back.dtype == np.float32
    five = upconv.max_unpool(y, idx, 2, stride=2, output_size=(1, 1, 5, 5))
    np.testing.assert_array_equal(
        five[0, 0],
        [[0, 0, 0, 0, 0], [6, 0, 8, 0, 0], [0, 0, 0, 14, 0], [16, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
    )
    np.testing.assert_array_equal(upconv.max_unpool(y, idx, 2, output_size=(5, 5)), five)


def test_nan_ties_and_padding_rules():
    nan, inf = np.nan, np.inf
    y, i = upconv.max_pool([[[1.0, nan, 3.0, nan]]], 4, return_indices=True)
    assert np.isnan(y).all() and i.tolist() == [[[3]]]  # the last NaN, as torch
    y, i = upconv.max_pool([[[2.0, 2.0, 3.0, 3.0]]], 4, return_indices=True)
    assert y.tolist() == [[[3.0]]] and i.tolist() == [[[2]]]  # the first maximum
    y, i = upconv.max_pool([[[-inf, -inf]]], 2, stride=1, padding=1, return_indices=True)
    assert y.tolist() == [[[-inf, -inf, -inf]]] and i.tolist() == [[[0, 0, 1]]]  # padding never wins
    y, i = upconv.max_pool([[[-1.0, -2.0]]], 3, stride=1, padding=[(2, 0)], return_indices=True)
    np.testing.assert_array_equal(y, [[[-1.0, -1.0]]])
    np.testing.assert_array_equal(i, [[[0, 0]]])


def test_unbatched_and_dtypes():
    x = np.arange(12.0).reshape(1, 3, 4)
    y, i = upconv.max_pool(x, (2, 2), return_indices=True)
    assert y.shape == (1, 1, 2) and i.shape == (1, 1, 2)
    np.testing.assert_array_equal(upconv.max_unpool(y, i, (2, 2), output_size=(3, 4)).shape, (1, 3, 4))
    assert upconv.max_pool(x.astype(np.float16)[None], 2).dtype == np.float16
    assert upconv.max_pool(np.arange(8).reshape(1, 1, 8), 2).dtype == np.int64  # integers are kept (torch, ONNX)
    assert upconv.max_unpool(np.ones((1, 1, 2), np.float16), np.array([[[0, 3]]], np.int32), 2).dtype == np.float16
    before = x.copy()
    upconv.max_pool(x, (2, 2), padding=1)
    np.testing.assert_array_equal(x, before)


def test_max_pool_empty_batch():
    y, i = upconv.max_pool(np.zeros((0, 3, 4, 4), np.float32), 2, return_indices=True)
    assert y.shape == i.shape == (0, 3, 2, 2)
    assert upconv.max_unpool(y, i, 2).shape == (0, 3, 4, 4)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"kernel_size": 0}, ValueError, r"^max_pool: every entry of kernel_size must be >= 1"),
        ({"kernel_size": 2.0}, TypeError, r"^max_pool: kernel_size"),
        ({"kernel_size": (2, 2), "stride": (1, 1, 1)}, ValueError, r"^max_pool: stride must be"),
        ({"kernel_size": 3, "padding": 2}, ValueError, r"^max_pool: padding must be at most half of kernel_size"),
        ({"kernel_size": 3, "dilation": 2, "padding": 2}, ValueError, r"kernel_size // 2"),
        ({"kernel_size": 5}, ValueError, r"^max_pool: output size is too small"),
        ({"kernel_size": 2, "dilation": 5, "padding": 1}, ValueError, r"padding only"),
        ({"kernel_size": 2, "padding": [(0, 0), (0, 5)]}, ValueError, r"^max_pool: a pooling window .* padding only"),
        ({"kernel_size": 2, "ceil_mode": 1}, TypeError, r"^max_pool: ceil_mode must be True or False"),
        ({"kernel_size": 2, "return_indices": "yes"}, TypeError, r"^max_pool: return_indices"),
        ({"kernel_size": (2, 2, 2, 2)}, ValueError, r"^max_pool: x must have 5 \(unbatched\) or 6"),
        ({"kernel_size": 2, "padding": -1}, ValueError, r"^max_pool: every entry of padding must be >= 0"),
    ],
)
def test_max_pool_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        upconv.max_pool(np.zeros((1, 1, 4, 4)), **kwargs)


def test_max_pool_rank_errors():
    with pytest.raises(ValueError, match=r"^max_pool: x must have at least 3 dimensions"):
        upconv.max_pool(np.zeros((4, 4)), 2)
    with pytest.raises(TypeError, match=r"^max_pool: x must be a real numeric array"):
        upconv.max_pool(np.zeros((1, 1, 4), np.complex64), 2)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), np.float32), 2), {}, TypeError,
         r"^max_unpool: indices must be an integer"),
        ((np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 1), np.int64), 2), {}, ValueError,
         r"^max_unpool: indices must have the shape"),
        ((np.ones((1, 1, 2, 2)), np.full((1, 1, 2, 2), 16), 2), {}, ValueError,
         r"^max_unpool: indices\[0, 0, 0, 0\] = 16 is not a valid"),
        ((np.ones((1, 2, 2)), np.array([[[0, 1], [2, -1]]]), (2, 2)), {}, ValueError,
         r"^max_unpool: indices\[0, 1, 1\] = -1"),
        ((np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), int), 2), {"output_size": (6, 4)}, ValueError,
         r"^max_unpool: invalid output_size \(6, 4\)"),
        ((np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), int), 2), {"output_size": (2, 4)}, ValueError,
         r"strictly between 2 and 6"),
        ((np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), int), 2), {"output_size": (4, 4, 4)}, ValueError,
         r"^max_unpool: output_size must have 2 or 4"),
        ((np.ones((1, 1, 2)), np.zeros((1, 1, 2), int), 1), {"padding": 2}, ValueError,
         r"^max_unpool: output size is too small"),
        ((np.ones((1, 1, 2)), np.zeros((1, 1, 2), bool), 2), {}, TypeError, r"^max_unpool: indices must be an integer"),
    ],
)
def test_max_unpool_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        upconv.max_unpool(*args, **kwargs)


def test_shapes_functions():
    assert shapes.pool_output_size((4, 4), 2) == (2, 2)
    assert shapes.pool_output_size((5,), 2, ceil_mode=True) == (3,)
    # the last window would start in the end padding
    assert shapes.pool_output_size((5,), 2, stride=2, padding=1, ceil_mode=True) == (3,)
    # torch: a ceil window may exceed the input
    assert shapes.pool_output_size((2,), 4, stride=3, ceil_mode=True) == (1,)
    assert shapes.pool_geometry((5,), 2, ceil_mode=True).padding == ((0, 1),)
    assert shapes.max_unpool_output_size((2, 2), 2, output_size=(1, 1, 5, 5)) == (5, 5)
    assert shapes.unpool_output_size((2, 3), (3, 1)) == (6, 3)
    with pytest.raises(ValueError, match=r"^pool_output_size: padding must be at most half"):
        shapes.pool_output_size((8,), 3, padding=2)
    assert shapes.pool_output_size((8,), 3, padding=[(2, 2)]) == (4,)


# --------------------------------------------------------------------------
# unpool


def test_unpool_modes_hand():
    x = np.array([[[1.0, 2.0, 3.0]]], np.float32)
    np.testing.assert_array_equal(upconv.unpool(x, 2), [[[1, 1, 2, 2, 3, 3]]])
    np.testing.assert_array_equal(upconv.unpool(x, 2, mode="bed_of_nails"), [[[1, 0, 2, 0, 3, 0]]])
    assert upconv.unpool(x, 2).dtype == np.float32
    y = upconv.unpool(np.ones((1, 2, 3, 4)), (1, 2, 3))  # unbatched 3-D
    assert y.shape == (1, 2, 6, 12)


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        ((np.ones((1, 1, 2)), 0), ValueError, r"^unpool: every entry of scale_factor must be >= 1"),
        ((np.ones((1, 1, 2)), 2, "linear"), ValueError, r"^unpool: mode must be one of 'nearest', 'bed_of_nails'"),
        ((np.ones((1, 2)), 2), ValueError, r"^unpool: x must have at least 3 dimensions"),
        ((np.ones((1, 1, 2)), (2, 2, 2)), ValueError, r"^unpool: x must have 4 \(unbatched\) or 5"),
        ((np.ones((1, 1, 2)), 1.5), TypeError, r"^unpool: scale_factor"),
    ],
)
def test_unpool_errors(args, exc, match):
    with pytest.raises(exc, match=match):
        upconv.unpool(*args)


def _block_sum(y, s):
    n = len(s)
    lead = y.shape[:2]
    split = lead + sum(((o // f, f) for o, f in zip(y.shape[2:], s)), ())
    return y.reshape(split).sum(axis=tuple(3 + 2 * a for a in range(n)))


@pytest.mark.parametrize("seed", range(12))
def test_unpool_identities(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    s = tuple(int(f) for f in rng.integers(1, 4, size=n))
    x = rng.standard_normal((2, 2) + tuple(int(i) for i in rng.integers(1, 4, size=n)))
    near, nails = upconv.unpool(x, s), upconv.unpool(x, s, mode="bed_of_nails")
    np.testing.assert_allclose(_block_sum(near, s), x * math.prod(s))
    np.testing.assert_array_equal(_block_sum(nails, s), x)
    np.testing.assert_array_equal(upconv.max_pool(near, s), x)
    # bed of nails = max unpooling with every maximum in its block's first cell
    out_size = tuple(i * f for i, f in zip(x.shape[2:], s))
    corners = np.meshgrid(*[np.arange(i) * f for i, f in zip(x.shape[2:], s)], indexing="ij")
    first = np.broadcast_to(np.ravel_multi_index(corners, out_size), x.shape)
    np.testing.assert_array_equal(upconv.max_unpool(x, first, s), nails)
    # ... and a stride-s transposed convolution with a one-hot kernel
    w = np.zeros((2, 1) + s)
    w[(slice(None), 0) + (0,) * n] = 1
    np.testing.assert_allclose(upconv.conv_transpose(x, w, stride=s, groups=2), nails)


# --------------------------------------------------------------------------
# differential: torch

MAX_POOL = {1: "max_pool1d", 2: "max_pool2d", 3: "max_pool3d"}
MAX_UNPOOL = {1: "max_unpool1d", 2: "max_unpool2d", 3: "max_unpool3d"}
MAX_IN = {1: 12, 2: 7, 3: 5}


def _pool_config(rng, valid_only=False):
    n = int(rng.integers(1, 4))
    k = tuple(int(v) for v in rng.integers(1, 5, size=n))
    s = tuple(int(v) for v in rng.integers(1, 4, size=n))
    d = tuple(int(v) for v in rng.integers(1, 3, size=n))
    p = tuple(int(rng.integers(0, kk // 2 + 1 + (0 if valid_only else int(rng.random() < 0.15)))) for kk in k)
    size = tuple(int(v) for v in rng.integers(1, MAX_IN[n] + 1, size=n))
    kwargs = dict(
        kernel_size=k if rng.random() < 0.7 or len(set(k)) > 1 else k[0],
        stride=None if rng.random() < 0.25 else s,
        padding=p,
        dilation=d,
        ceil_mode=bool(rng.random() < 0.4),
    )
    batch = () if rng.random() < 0.2 else (int(rng.integers(1, 3)),)
    shape = batch + (int(rng.integers(1, 4)),) + size
    return n, shape, kwargs


@needs_torch
@pytest.mark.parametrize("seed", range(200))
def test_max_pool_vs_torch(seed):
    rng = np.random.default_rng(seed)
    n, shape, kwargs = _pool_config(rng)
    if not isinstance(kwargs["kernel_size"], tuple) and len(shape) == n + 1:
        kwargs["kernel_size"] = (kwargs["kernel_size"],) * n  # an int kernel means batched input
    dtype = np.float32 if rng.random() < 0.7 else np.float64
    x = _tricky(rng, shape, dtype)
    try:
        ty, ti = getattr(F, MAX_POOL[n])(torch.from_numpy(x), return_indices=True, **kwargs)
    except (RuntimeError, ValueError):
        with pytest.raises((ValueError, TypeError)):
            upconv.max_pool(x, **kwargs)
        return
    try:
        y, i = upconv.max_pool(x, return_indices=True, **kwargs)
    except ValueError as e:
        # deliberate difference: a window of padding only is an error (torch: -inf, an index outside the window)
        assert "padding only" in str(e)
        assert np.isneginf(ty.numpy()).any()
        return
    assert y.shape == tuple(ty.shape) and y.dtype == x.dtype
    np.testing.assert_array_equal(y, ty.numpy(), err_msg=str(kwargs))
    np.testing.assert_array_equal(i, ti.numpy(), err_msg=str(kwargs))
    assert shapes.pool_output_size(shape[-n:], **kwargs) == y.shape[-n:]
    np.testing.assert_array_equal(upconv.max_pool(x, **kwargs), y)


@needs_torch
@pytest.mark.parametrize("seed", range(120))
def test_max_unpool_vs_torch(seed):
    rng = np.random.default_rng(1000 + seed)
    n, shape, kwargs = _pool_config(rng, valid_only=True)
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4))) + shape[-n:]
    kwargs["dilation"] = 1
    kwargs["ceil_mode"] = False
    x = rng.standard_normal(shape).astype(np.float32)
    try:
        vals, idx = getattr(F, MAX_POOL[n])(torch.from_numpy(x), return_indices=True, **kwargs)
    except RuntimeError:
        return
    k = kwargs["kernel_size"]
    s = kwargs["stride"]
    try:
        default = shapes.max_unpool_output_size(tuple(vals.shape[2:]), k, s, kwargs["padding"])
    except ValueError:  # a negative default output size: torch refuses too
        with pytest.raises(RuntimeError, match="non-negative"):
            getattr(F, MAX_UNPOOL[n])(vals, idx, k, s, kwargs["padding"])
        return
    if 0 in default:  # an empty default output: an empty array, as torch
        expected = getattr(F, MAX_UNPOOL[n])(vals, idx, k, s, kwargs["padding"]).numpy()
        got = upconv.max_unpool(vals.numpy(), idx.numpy(), k, s, kwargs["padding"])
        assert got.shape == expected.shape and got.dtype == expected.dtype
        return
    out_size = None
    if rng.random() < 0.5:
        s_t = (k if isinstance(k, tuple) else (k,) * n) if s is None else s
        out_size = tuple(int(rng.integers(max(1, m - st + 1), m + st)) for m, st in zip(default, s_t))
        if rng.random() < 0.3:
            out_size = tuple(shape[:2]) + out_size
    try:
        expected = getattr(F, MAX_UNPOOL[n])(vals, idx, k, s, kwargs["padding"], output_size=out_size)
    except (RuntimeError, ValueError):
        with pytest.raises(ValueError):
            upconv.max_unpool(vals.numpy(), idx.numpy(), k, s, kwargs["padding"], out_size)
        return
    got = upconv.max_unpool(vals.numpy(), idx.numpy(), k, s, kwargs["padding"], out_size)
    assert got.shape == tuple(expected.shape) and got.dtype == np.float32
    np.testing.assert_array_equal(got, expected.numpy())


@needs_torch
@pytest.mark.parametrize("n", [1, 2, 3])
def test_max_unpool_output_size_range_vs_torch(n):
    x = torch.ones((1, 1) + (3,) * n)
    idx = torch.zeros((1, 1) + (3,) * n, dtype=torch.long)
    for size in range(1, 12):
        out = (size,) + (6,) * (n - 1)
        try:
            getattr(F, MAX_UNPOOL[n])(x, idx, 2, output_size=out)
            ok = True
        except ValueError:
            ok = False
        if ok:
            assert upconv.max_unpool(x.numpy(), idx.numpy(), 2, output_size=out).shape == (1, 1) + out
        else:
            with pytest.raises(ValueError, match="invalid output_size"):
                upconv.max_unpool(x.numpy(), idx.numpy(), 2, output_size=out)


@needs_torch
def test_unpool_nearest_vs_torch_interpolate():
    rng = np.random.default_rng(7)
    for n, mode in [(1, "nearest"), (2, "nearest"), (3, "nearest")]:
        x = rng.standard_normal((2, 3) + (3,) * n).astype(np.float32)
        s = (2, 3, 1)[:n]
        expected = F.interpolate(torch.from_numpy(x), scale_factor=s, mode=mode)
        np.testing.assert_array_equal(upconv.unpool(x, s), expected.numpy())


# --------------------------------------------------------------------------
# properties (hypothesis)

@needs_hypothesis
def test_unpool_keeps_maxima():
    """max_unpool(max_pool(x)) is x at the selected maxima and 0 elsewhere; pooling it again gives the maxima."""

    @st.composite
    def pooled(draw):
        n = draw(st.integers(1, 3))
        k = tuple(draw(st.integers(1, 3)) for _ in range(n))
        size = tuple(draw(st.integers(kk, 2 * kk + 1)) for kk in k)
        seed = draw(st.integers(0, 2**32 - 1))
        x = np.random.default_rng(seed).integers(1, 6, size=(2, 2) + size).astype(np.float64)
        return x, k

    @settings(max_examples=40, deadline=None)
    @given(pooled())
    def check(case):
        _check_keeps_maxima(*case)

    check()


def _check_keeps_maxima(x, k):
    y, idx = upconv.max_pool(x, k, return_indices=True)
    back = upconv.max_unpool(y, idx, k, output_size=x.shape[2:])
    flat_back, flat_x = back.reshape(4, -1), x.reshape(4, -1)
    chosen = np.zeros_like(flat_back, dtype=bool)
    np.put_along_axis(chosen, idx.reshape(4, -1), True, axis=1)
    np.testing.assert_array_equal(flat_back[chosen], flat_x[chosen])
    assert (flat_back[~chosen] == 0).all()
    np.testing.assert_array_equal(upconv.max_pool(back, k), y)


# --------------------------------------------------------------------------
# differential: onnx.reference MaxPool with ONNX pads

def _onnx_max_pool(x, kernel, strides, pads, dilations, ceil_mode):
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    node = helper.make_node(
        "MaxPool", ["X"], ["Y", "I"], kernel_shape=list(kernel), strides=list(strides),
        pads=[b for b, _ in pads] + [e for _, e in pads], dilations=list(dilations), ceil_mode=int(ceil_mode),
    )
    dims = list(x.shape)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("I", TensorProto.INT64, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    return ReferenceEvaluator(model).run(None, {"X": x})


@pytest.mark.parametrize("seed", range(50))
def test_max_pool_onnx_pads_vs_onnx_reference(seed):
    pytest.importorskip("onnx")
    rng = np.random.default_rng(5000 + seed)
    n = int(rng.integers(1, 4))
    k = tuple(int(v) for v in rng.integers(1, 4, size=n))
    s = tuple(int(v) for v in rng.integers(1, 3, size=n))
    d = tuple(int(v) for v in rng.integers(1, 3, size=n))
    if max(s) == max(d) == 1:
        # onnx.reference's path for all-1 strides and dilations (CommonPool) mishandles explicit
        # pads (ignored for 1-D/3-D, read as top, bottom, left, right for 2-D): avoid it
        s = (2,) + s[1:]
    pads = tuple((int(rng.integers(0, kk + 1)), int(rng.integers(0, kk + 1))) for kk in k)
    pads = tuple((min(b, kk - 1), e) if rng.random() < 0.7 else (b, e) for (b, e), kk in zip(pads, k))
    ceil_mode = bool(rng.random() < 0.3)
    size = tuple(int(v) for v in rng.integers(2, {1: 9, 2: 6, 3: 4}[n] + 1, size=n))
    x = rng.standard_normal((2, 2) + size).astype(np.float32)  # distinct values: no tie-order question
    try:
        y, i = upconv.max_pool(x, k, s, pads, d, ceil_mode, return_indices=True)
    except ValueError as e:
        assert "padding only" in str(e) or "too small" in str(e)
        return
    res = _onnx_max_pool(x, k, s, pads, d, ceil_mode)
    assert y.shape == res[0].shape
    np.testing.assert_array_equal(y, res[0])
    if len(res) > 1 and res[1] is not None and res[1].size and (res[1] >= 0).all():
        plane = math.prod(size)
        offset = (np.arange(4).reshape(2, 2) * plane).reshape((2, 2) + (1,) * n)
        np.testing.assert_array_equal(i + offset, res[1])


def _windows_of_padding_only(i, k, s, d, b, e, ceil_mode):
    """Whether a window of a pooling reads no input element, by brute force: the start of the first such window
    in the leading padding, else of the last window (the farthest past the input), or None."""
    ek = d * (k - 1) + 1
    num = i + b + e - ek
    o = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (o - 1) * s >= i + b:
        o -= 1
    if o < 1:
        return "too small"
    starts = [w * s - b for w in range(o)]
    bad = [st for st in starts if not any(0 <= st + t * d < i for t in range(k))]
    return None if not bad else next((st for st in bad if st < 0), starts[-1])


def test_pool_geometry_checks_windows_of_padding_only_without_scanning_the_padding():
    import tracemalloc

    rng = np.random.default_rng(0)
    for _ in range(3000):  # the reduced scan finds the window a scan of every window finds
        i, k, s, d = (int(v) for v in rng.integers(1, 7, size=4))
        b, e = (int(v) for v in rng.integers(0, 25, size=2))
        ceil_mode = bool(rng.random() < 0.3)
        want = _windows_of_padding_only(i, k, s, d, b, e, ceil_mode)
        try:
            shapes.pool_geometry((i,), k, s, [(b, e)], d, ceil_mode)
            got = None
        except ValueError as err:
            got = "too small" if "too small" in str(err) else int(str(err).split("window start ")[1].split(",")[0])
        assert got == want, (i, k, s, d, b, e, ceil_mode)
    tracemalloc.start()
    try:  # huge ONNX pads: an error (or a valid geometry) at once, not a list of every padded window
        with pytest.raises(ValueError, match=r"^max_pool: a pooling window on spatial axis 0 holds padding only"):
            shapes.pool_geometry((3,), 3, padding=[(10**6, 10**6)], func="max_pool")
        assert shapes.pool_geometry((1,), 10**6 + 1, 1, [(10**6, 10**6)]).out_size == (10**6 + 1,)
        assert tracemalloc.get_traced_memory()[1] < 2**20
    finally:
        tracemalloc.stop()
