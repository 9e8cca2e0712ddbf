"""Arrays in, same arrays out (upconv.ops.arrays), and the dtype policy (issue 18, section 1)."""

from __future__ import annotations

import numpy as np
import pytest

import upconv
from upconv import grad
from upconv.ops import arrays

rng = np.random.default_rng(0)
X = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
W = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)  # conv_transpose layout
WC = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)  # conv layout
B = rng.standard_normal(3).astype(np.float32)
Y4 = rng.standard_normal((1, 8, 3, 3)).astype(np.float32)
POOLED, IDX = upconv.max_pool(X, 2, return_indices=True)
GCT = rng.standard_normal(upconv.conv_transpose(X, W, B, 2).shape).astype(np.float32)
GC = rng.standard_normal(upconv.conv(X, WC, B).shape).astype(np.float32)
GI = rng.standard_normal((1, 2, 12, 12)).astype(np.float32)
GR = rng.standard_normal(upconv.resize_conv(X, WC, B).shape).astype(np.float32)
GP = rng.standard_normal(POOLED.shape).astype(np.float32)
GU = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
COLS = upconv.im2col(X, 2)

# every decorated function: (name, call with the arrays of args, args)
CALLS = [
    ("conv", lambda x, w, b: upconv.conv(x, w, b, padding=1), (X, WC, B)),
    ("conv_transpose", lambda x, w, b: upconv.conv_transpose(x, w, b, stride=2), (X, W, B)),
    ("conv_matrix", lambda w: upconv.conv_matrix((2, 6, 6), w, dense=True), (WC,)),
    ("interpolate", lambda x: upconv.interpolate(x, scale_factor=2, mode="bilinear"), (X,)),
    ("resize", lambda x: upconv.resize(x, scales=(1, 1, 2, 2), mode="cubic"), (X,)),
    ("resize_conv", lambda x, w, b: upconv.resize_conv(x, w, b), (X, WC, B)),
    ("resize_equivalent_kernel", lambda w: upconv.resize_equivalent_kernel(w, 2), (WC,)),
    ("max_pool", lambda x: upconv.max_pool(x, 2, return_indices=True), (X,)),
    ("max_unpool", lambda x, i: upconv.max_unpool(x, i, 2), (POOLED, IDX)),
    ("unpool", lambda x: upconv.unpool(x, 2), (X,)),
    ("pixel_shuffle", lambda x: upconv.pixel_shuffle(x, 2), (Y4,)),
    ("pixel_unshuffle", lambda x: upconv.pixel_unshuffle(x, 2), (X,)),
    ("depth_to_space", lambda x: upconv.depth_to_space(x, 2), (Y4,)),
    ("space_to_depth", lambda x: upconv.space_to_depth(x, 2), (X,)),
    ("im2col", lambda x: upconv.im2col(x, 2), (X,)),
    ("col2im", lambda c: upconv.col2im(c, (6, 6), 2), (COLS,)),
    ("deconvolve", lambda y, w: upconv.deconvolve(y, w, iterations=3), (upconv.conv(X, WC), WC)),
    ("dc_gain_spread", lambda w: upconv.dc_gain_spread(w, 2).max_spread, (W,)),
    ("stride_frequency_energy", lambda y: upconv.stride_frequency_energy(y, 2), (X,)),
    ("psnr", lambda a, b: upconv.metrics.psnr(a, b, data_range=8.0), (X, X * 0.9)),
    ("ssim", lambda a, b: upconv.metrics.ssim(a[0, 0, ...], b[0, 0, ...], data_range=8.0, win_size=5), (X, X * 0.9)),
    ("conv_grad_input", lambda g, x, w: grad.conv_grad_input(g, x, w), (GC, X, WC)),
    ("conv_grad_weight", lambda g, x, w: grad.conv_grad_weight(g, x, w), (GC, X, WC)),
    ("conv_grad_bias", lambda g, x, w: grad.conv_grad_bias(g, x, w), (GC, X, WC)),
    ("conv_transpose_grad_input", lambda g, x, w: grad.conv_transpose_grad_input(g, x, w, stride=2), (GCT, X, W)),
    ("conv_transpose_grad_weight", lambda g, x, w: grad.conv_transpose_grad_weight(g, x, w, stride=2), (GCT, X, W)),
    ("conv_transpose_grad_bias", lambda g, x, w: grad.conv_transpose_grad_bias(g, x, w, stride=2), (GCT, X, W)),
    ("max_pool_grad_input", lambda g, x: grad.max_pool_grad_input(g, x, 2), (GP, X)),
    ("max_unpool_grad_input", lambda g, x, i: grad.max_unpool_grad_input(g, x, i, 2), (GU, POOLED, IDX)),
    ("unpool_grad_input", lambda g, x: grad.unpool_grad_input(g, x, 2), (GI, X)),
    ("pixel_shuffle_grad_input", lambda g, x: grad.pixel_shuffle_grad_input(g, x, 2), (GI[:, :, :6, :6], Y4)),
    ("pixel_unshuffle_grad_input", lambda g, x: grad.pixel_unshuffle_grad_input(g, x, 2), (Y4, X)),
    ("depth_to_space_grad_input", lambda g, x: grad.depth_to_space_grad_input(g, x, 2), (GI[:, :, :6, :6], Y4)),
    ("space_to_depth_grad_input", lambda g, x: grad.space_to_depth_grad_input(g, x, 2), (Y4, X)),
    ("interpolate_grad_input", lambda g, x: grad.interpolate_grad_input(g, x, scale_factor=2, mode="bilinear"),
     (GI, X)),
    ("resize_grad_input", lambda g, x: grad.resize_grad_input(g, x, scales=(1, 1, 2, 2), mode="linear"), (GI, X)),
    ("resize_conv_grad_input", lambda g, x, w, b: grad.resize_conv_grad_input(g, x, w, b), (GR, X, WC, B)),
    ("resize_conv_grad_weight", lambda g, x, w, b: grad.resize_conv_grad_weight(g, x, w, b), (GR, X, WC, B)),
    ("resize_conv_grad_bias", lambda g, x, w, b: grad.resize_conv_grad_bias(g, x, w, b), (GR, X, WC, B)),
]
IDS = [c[0] for c in CALLS]


def _parts(result):
    return result if isinstance(result, tuple) else (result,)


def test_every_public_array_function_is_wrapped():
    wrapped = {name for name in IDS}
    for name in upconv.grad.__all__:
        assert name in wrapped, name
        assert hasattr(getattr(upconv.grad, name), "__wrapped__"), name
    for name in ("conv", "conv_transpose", "interpolate", "resize", "resize_conv", "max_pool", "max_unpool",
                 "unpool", "pixel_shuffle", "pixel_unshuffle", "depth_to_space", "space_to_depth", "im2col",
                 "col2im", "conv_matrix", "resize_equivalent_kernel", "deconvolve", "dc_gain_spread",
                 "stride_frequency_energy"):
        assert hasattr(getattr(upconv, name), "__wrapped__"), name
    assert hasattr(upconv.metrics.psnr, "__wrapped__") and hasattr(upconv.metrics.ssim, "__wrapped__")


@pytest.mark.parametrize(("name", "call", "args"), CALLS, ids=IDS)
def test_torch_cpu_tensors_in_tensors_out(name, call, args):
    torch = pytest.importorskip("torch")
    expected = call(*args)
    got = call(*(torch.from_numpy(a.copy()) for a in args))
    for e, g in zip(_parts(expected), _parts(got), strict=True):
        if isinstance(e, np.ndarray):
            assert isinstance(g, torch.Tensor), type(g)
            assert g.numpy().dtype == e.dtype
            np.testing.assert_array_equal(g.numpy(), e)
        else:
            assert g == pytest.approx(e)


@pytest.mark.parametrize(("name", "call", "args"), CALLS, ids=IDS)
def test_array_api_strict_in_the_same_out(name, call, args):
    xp = pytest.importorskip("array_api_strict")
    expected = call(*args)
    got = call(*(xp.asarray(a) for a in args))
    for e, g in zip(_parts(expected), _parts(got), strict=True):
        if isinstance(e, np.ndarray):
            assert type(g).__module__.startswith("array_api_strict"), type(g)
            np.testing.assert_array_equal(np.from_dlpack(g), e)
        else:
            assert g == pytest.approx(e)


@pytest.mark.parametrize(("name", "call", "args"), [c for c in CALLS if c[0] != "ssim"],
                         ids=[i for i in IDS if i != "ssim"])
def test_none_for_a_required_array_is_a_type_error_naming_it(name, call, args):
    for k in range(len(args)):
        if args[k] is B:  # the bias is optional
            continue
        with pytest.raises(TypeError, match=rf"^{name}: \w+ must be an array, got None$"):
            call(*args[:k], None, *args[k + 1:])


def test_none_is_refused_by_keyword_too_and_optional_arrays_stay_optional():
    with pytest.raises(TypeError, match=r"^conv: weight must be an array, got None$"):
        upconv.conv(X, weight=None)
    with pytest.raises(TypeError, match=r"^interpolate: x must be an array, got None$"):
        upconv.interpolate(x=None, scale_factor=2)
    with pytest.raises(TypeError, match=r"^max_unpool: indices must be an array, got None$"):
        upconv.max_unpool(POOLED, None, 2)
    da = pytest.importorskip("dask.array")
    with pytest.raises(TypeError, match=r"^conv_transpose: weight must be an array, got None$"):
        upconv.conv_transpose(da.from_array(X), None)
    np.testing.assert_array_equal(upconv.conv(X, WC, None), upconv.conv(X, WC, bias=None))
    np.testing.assert_array_equal(grad.max_pool_grad_input(GP, X, 2, indices=None), grad.max_pool_grad_input(GP, X, 2))


def test_torch_float32_stays_float32():
    torch = pytest.importorskip("torch")
    y = upconv.conv_transpose(torch.randn(1, 2, 5, 5), torch.randn(2, 3, 3, 3), stride=2)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32
    assert upconv.interpolate(torch.randn(1, 1, 4, 4), scale_factor=2, mode="bicubic").dtype == torch.float32
    assert upconv.conv(torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)).dtype == torch.float32
    # the leading array argument decides the type: NumPy first, NumPy out (the dtype still from the tensor)
    y = upconv.conv(X, torch.from_numpy(WC))
    assert isinstance(y, np.ndarray) and y.dtype == np.float32


def test_array_likes_with_a_dtype_give_it():
    class Wrapped:  # only __array__: a pandas- or xarray-like container
        def __init__(self, a):
            self.a = a

        def __array__(self, dtype=None, copy=None):
            return self.a if dtype is None else self.a.astype(dtype)

    y = upconv.conv_transpose(Wrapped(X), Wrapped(W), stride=2)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    assert upconv.conv(X.tolist(), WC.tolist()).dtype == np.float64  # lists: NumPy's default


def test_tensors_that_require_grad_are_refused_with_advice():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"^conv_transpose: weight is a tensor that requires grad.*weight\.detach\(\)"
                                        r".*upconv\.grad"):
        upconv.conv_transpose(torch.randn(1, 2, 5, 5), torch.randn(2, 3, 3, 3, requires_grad=True))


def test_device_arrays_are_refused_with_advice():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"^interpolate: x is an array on device meta.*x\.cpu\(\)"):
        upconv.interpolate(torch.empty(1, 1, 4, 4, device="meta"), scale_factor=2)

    class CudaLike:  # CuPy, numba.cuda and CUDA tensors expose this
        __cuda_array_interface__ = {"shape": (1, 1, 4, 4), "typestr": "<f4", "data": (0, False), "version": 3}

    with pytest.raises(TypeError, match=r"^max_pool: x is an array on a CUDA device.*\.cpu\(\)"):
        upconv.max_pool(CudaLike(), 2)


def test_dask_arrays_go_through_the_one_hook():
    da = pytest.importorskip("dask.array")
    x = da.from_array(X, chunks=(1, 1, 3, 3))
    with pytest.raises(TypeError, match=r"^deconvolve: y is a Dask array, and deconvolve needs the whole array"
                                        r" at once: call y\.compute\(\) first"):
        upconv.deconvolve(x, WC)
    with pytest.raises(TypeError, match="call y.compute"):
        upconv.stride_frequency_energy(x, 2)
    np.testing.assert_array_equal(np.asarray(upconv.conv(x, WC)), upconv.conv(X, WC))
    assert arrays._is_dask(x) and not arrays._is_dask(X)


# --------------------------------------------------------------------------
# byte order, new arrays, zero sizes


@pytest.mark.parametrize(("name", "call", "args"), CALLS, ids=IDS)
def test_big_endian_input_is_accepted_with_a_native_result(name, call, args):
    expected = call(*args)
    swapped = [a.astype(a.dtype.newbyteorder(">")) if a.dtype.kind == "f" else a for a in args]
    got = call(*swapped)
    for e, g in zip(_parts(expected), _parts(got), strict=True):
        if isinstance(e, np.ndarray):
            assert g.dtype == e.dtype and g.dtype.isnative
            np.testing.assert_array_equal(g, e)
        else:
            assert g == pytest.approx(e)


@pytest.mark.parametrize(("name", "call", "args"), CALLS, ids=IDS)
def test_results_are_new_writable_arrays(name, call, args):
    frozen = []
    for a in args:
        a = a.copy()
        a.flags.writeable = False
        frozen.append(a)
    for r in _parts(call(*frozen)):
        if isinstance(r, np.ndarray):
            assert r.flags.writeable
            assert not any(np.shares_memory(r, a) for a in frozen)


@pytest.mark.parametrize("call", [
    lambda x: upconv.unpool(x, 1), lambda x: upconv.unpool(x, 1, mode="bed_of_nails"),
    lambda x: upconv.interpolate(x, size=(6, 6)), lambda x: upconv.interpolate(x, size=(6, 6), mode="bilinear"),
    lambda x: upconv.resize(x, scales=(1, 1, 1, 1)), lambda x: upconv.pixel_shuffle(x, 1),
    lambda x: upconv.max_pool(x, 1), lambda x: upconv.im2col(x, 1), lambda x: upconv.space_to_depth(x, 1),
    lambda x: upconv.conv(x, np.ones((2, 1, 1, 1), np.float32), groups=2),
    lambda x: upconv.conv_transpose(x, np.ones((2, 1, 1, 1), np.float32), groups=2),
    lambda x: upconv.interpolate(x.astype(np.uint8), size=(6, 6)),
    lambda x: upconv.unpool(x.astype(np.int32), 1),
])
def test_identity_calls_return_new_arrays(call):
    x = X.copy()
    x.flags.writeable = False
    y = call(x)
    assert y.flags.writeable and not np.shares_memory(x, y)
    y += 1  # writable: unpool(x, 1) used to return a read-only view of x


def test_max_unpool_zero_output_size_is_empty_as_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, idx = np.ones((1, 1, 1), np.float32), np.zeros((1, 1, 1), np.int64)
    got = upconv.max_unpool(x, idx, 1, stride=2, output_size=(0,))
    expected = F.max_unpool1d(torch.from_numpy(x), torch.from_numpy(idx), 1, stride=2, output_size=(0,))
    assert got.shape == tuple(expected.shape) == (1, 1, 0)
    got = upconv.max_unpool(x, idx, 2, stride=2, padding=1)  # default output size 0
    assert got.shape == (1, 1, 0)
    x2, idx2 = np.ones((1, 1, 1, 1), np.float32), np.zeros((1, 1, 1, 1), np.int64)
    assert upconv.max_unpool(x2, idx2, 1, stride=2, output_size=(0, 1)).shape == (1, 1, 0, 1)
    with pytest.raises(ValueError, match="output size is too small"):  # negative: torch refuses too
        upconv.max_unpool(x, idx, 1, stride=1, padding=1)


# --------------------------------------------------------------------------
# integer data


def test_onnx_maxpool_2d_uint8():
    # the ONNX backend case test_maxpool_2d_uint8: kernel 5x5, pads 2, uint8 in and out
    x = np.arange(1, 26, dtype=np.uint8).reshape(1, 1, 5, 5)
    y = upconv.max_pool(x, 5, stride=1, padding=2)
    expected = np.array([[[[13, 14, 15, 15, 15], [18, 19, 20, 20, 20], [23, 24, 25, 25, 25],
                           [23, 24, 25, 25, 25], [23, 24, 25, 25, 25]]]], dtype=np.uint8)
    assert y.dtype == np.uint8
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64])
def test_max_pool_keeps_integers_with_torch_indices(dtype):
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, (2, 3, 7, 6), dtype=dtype, endpoint=True)
    x[0, 0, :2, :2] = x[0, 0, 0, 0]  # ties: the first in the window wins
    y, idx = upconv.max_pool(x, 3, stride=2, padding=1, return_indices=True)
    assert y.dtype == dtype
    # reference: the window maxima, found by brute force in Python integers
    for n, c, i, j in np.ndindex(*y.shape):
        rows, cols = range(max(2 * i - 1, 0), min(2 * i + 2, 7)), range(max(2 * j - 1, 0), min(2 * j + 2, 6))
        window = [(int(x[n, c, a, b]), a * 6 + b) for a in rows for b in cols]
        best = max(v for v, _ in window)
        assert int(y[n, c, i, j]) == best
        assert int(idx[n, c, i, j]) == next(p for v, p in window if v == best)


def test_value_moving_ops_keep_integer_and_boolean_dtypes():
    x = rng.integers(0, 256, (1, 4, 4, 4)).astype(np.uint8)
    y, idx = upconv.max_pool(x, 2, return_indices=True)
    assert upconv.max_unpool(y, idx, 2).dtype == np.uint8
    np.testing.assert_array_equal(upconv.max_unpool(y, idx, 2), upconv.max_unpool(y.astype(float), idx, 2))
    big = np.array([[[2**62 + 1, 2**62, -(2**63), 7]]], dtype=np.int64)
    y, idx = upconv.max_pool(big, 2, return_indices=True)
    assert y.tolist() == [[[2**62 + 1, 7]]] and idx.tolist() == [[[0, 3]]]
    assert upconv.max_unpool(y, idx, 2).tolist() == [[[2**62 + 1, 0, 0, 7]]]
    for op in (lambda a: upconv.unpool(a, 2), lambda a: upconv.unpool(a, 2, mode="bed_of_nails"),
               lambda a: upconv.pixel_shuffle(a, 2), lambda a: upconv.pixel_unshuffle(a, 2),
               lambda a: upconv.depth_to_space(a, 2), lambda a: upconv.space_to_depth(a, 2),
               lambda a: upconv.interpolate(a, scale_factor=1.5), lambda a: upconv.interpolate(a, size=3,
                                                                                                 mode="nearest-exact"),
               lambda a: upconv.resize(a, scales=(1, 1, 2, 0.5))):
        for dtype in (np.uint8, np.int64, np.bool_):
            a = x.astype(dtype)
            out = op(a)
            assert out.dtype == dtype
            np.testing.assert_array_equal(out, op(a.astype(np.float64)).astype(dtype))


def test_the_other_operators_convert_integers_to_float64():
    x = rng.integers(0, 9, (1, 2, 5, 5))
    assert upconv.conv(x, np.ones((1, 2, 3, 3), np.int64)).dtype == np.float64
    assert upconv.conv_transpose(x.astype(np.uint8), np.ones((2, 1, 3, 3), np.float32)).dtype == np.float32
    assert upconv.interpolate(x, scale_factor=2, mode="bilinear").dtype == np.float64
    assert upconv.interpolate(x, size=3, mode="area").dtype == np.float64
    assert upconv.resize(x, scales=(1, 1, 2, 2), mode="linear").dtype == np.float64


@pytest.mark.parametrize(("mode", "antialias", "align_corners"), [
    ("bilinear", False, False), ("bilinear", False, True), ("bilinear", True, False), ("bicubic", True, False),
])
def test_uint8_interpolation_rounds_as_torch(mode, antialias, align_corners):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    r = np.random.default_rng(7)
    for trial in range(20):
        h, w = (int(v) for v in r.integers(1, 16, 2))
        x = r.integers(0, 256, (2, 3, h, w)).astype(np.uint8)
        kw = ({"size": tuple(int(v) for v in r.integers(1, 30, 2))} if trial % 2
              else {"scale_factor": float(r.uniform(0.5, 3))})
        try:
            expected = F.interpolate(torch.from_numpy(x), mode=mode, antialias=antialias, align_corners=align_corners,
                                     **kw).numpy()
        except RuntimeError:  # an empty output: torch refuses, so does upconv
            continue
        got = upconv.interpolate(x, mode=mode, antialias=antialias, align_corners=align_corners, **kw)
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected)


def test_uint8_bicubic_without_antialias_is_within_two_levels_of_torch():
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(8)
    for _ in range(20):
        x = r.integers(0, 256, (1, 3, *(int(v) for v in r.integers(2, 16, 2)))).astype(np.uint8)
        size = tuple(int(v) for v in r.integers(1, 30, 2))
        expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode="bicubic").numpy()
        got = upconv.interpolate(x, size=size, mode="bicubic")
        assert got.dtype == np.uint8
        assert np.abs(got.astype(int) - expected).max() <= 2
