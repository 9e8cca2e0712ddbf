"""upconv.ops.chunked: the operators on Dask arrays equal the in-memory operators, for any chunking.

Bit for bit, every operator, every method: a block sums every output as the
whole array does (interpolation, pooling, unpooling and shuffles by
construction; the convolutions because every block takes the whole array's
route and every GEMM is the fixed-order product).  Chunkings: one element per
chunk, 2 (smaller than most halos), 3 with a ragged end, and random cuts.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import numpy as np
import pytest

import upconv
from upconv import shapes
from upconv.ops import chunked, paths
from upconv.restore.metrics import psnr, ssim

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

RNG = np.random.default_rng(2323)
KINDS = ["one", "ragged3", "random"]


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def cut(n: int, kind: str) -> tuple[int, ...]:
    if kind == "one":
        return (1,) * n
    if kind in ("two", "ragged3"):
        c = 2 if kind == "two" else 3
        return (c,) * (n // c) + ((n % c,) if n % c else ())
    cuts = sorted(set(RNG.integers(1, n, size=RNG.integers(0, n)).tolist())) if n > 1 else []
    b = [0, *cuts, n]
    return tuple(int(q - p) for p, q in zip(b[:-1], b[1:], strict=True))


def dask_of(x: np.ndarray, kind: str, whole=()) -> da.Array:
    """``x`` as a Dask array chunked by ``kind`` along every axis but those in ``whole`` (and size-1 axes)."""
    chunks = tuple((s,) if a in whole or s == 0 else cut(s, kind) for a, s in enumerate(x.shape))
    return da.from_array(x, chunks=chunks)


def same(got, ref) -> None:
    assert isinstance(got, da.Array)
    out = got.compute()
    assert out.shape == ref.shape and out.dtype == ref.dtype
    np.testing.assert_array_equal(out, ref)


# --------------------------------------------------------------------------
# interpolation


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode, kw", [
    ("nearest", {}), ("nearest-exact", {}), ("bilinear", {}), ("bilinear", {"align_corners": True}),
    ("bicubic", {}), ("bicubic", {"align_corners": True}), ("area", {}),
    ("bilinear", {"antialias": True}), ("bicubic", {"antialias": True}), ("lanczos", {"antialias": True}),
])
def test_interpolate_2d(kind, mode, kw):
    x = RNG.standard_normal((1, 2, 7, 6)).astype(np.float32)
    for args in ({"scale_factor": 2}, {"scale_factor": (2.7, 0.45)}, {"size": (4, 11)}):
        same(chunked.interpolate(dask_of(x, kind), mode=mode, **args, **kw),
             upconv.interpolate(x, mode=mode, **args, **kw))


@pytest.mark.parametrize("kind", KINDS)
def test_interpolate_1d_3d_and_dtypes(kind):
    x1 = RNG.standard_normal((2, 3, 11))
    same(chunked.interpolate(dask_of(x1, kind), scale_factor=1.6, mode="linear"),
         upconv.interpolate(x1, scale_factor=1.6, mode="linear"))
    x3 = RNG.standard_normal((1, 2, 4, 5, 3)).astype(np.float32)
    same(chunked.interpolate(dask_of(x3, kind), size=(7, 3, 5), mode="trilinear"),
         upconv.interpolate(x3, size=(7, 3, 5), mode="trilinear"))
    x16 = RNG.standard_normal((1, 2, 6, 6)).astype(np.float16)
    same(chunked.interpolate(dask_of(x16, kind), scale_factor=1.5, mode="bicubic", recompute_scale_factor=True),
         upconv.interpolate(x16, scale_factor=1.5, mode="bicubic", recompute_scale_factor=True))
    xi = RNG.integers(0, 255, (1, 3, 5, 6)).astype(np.uint8)
    same(chunked.interpolate(dask_of(xi, kind), scale_factor=2, mode="bilinear"),
         upconv.interpolate(xi, scale_factor=2, mode="bilinear"))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_resize(kind, mode):
    x = RNG.standard_normal((2, 2, 7, 5)).astype(np.float32)
    xd = dask_of(x, kind)
    for kw in ({"coordinate_transformation_mode": "half_pixel"},
               {"coordinate_transformation_mode": "align_corners"},
               {"coordinate_transformation_mode": "asymmetric", "exclude_outside": True},
               {"coordinate_transformation_mode": "tf_crop_and_resize", "roi": [0.2, -0.1, 0.9, 1.3],
                "extrapolation_value": -2.0}):
        args = dict(scales=[1.7, 0.6], axes=[2, 3], mode=mode, **kw)
        same(chunked.resize(xd, **args), upconv.resize(x, **args))
    if mode != "nearest":
        same(chunked.resize(xd, sizes=[3, 4], axes=[2, 3], mode=mode, antialias=True),
             upconv.resize(x, sizes=[3, 4], axes=[2, 3], mode=mode, antialias=True))
    # every axis may be resized, the batch and channel axes too
    same(chunked.resize(xd, sizes=[3, 3, 5, 2], mode=mode, keep_aspect_ratio_policy="stretch"),
         upconv.resize(x, sizes=[3, 3, 5, 2], mode=mode))
    same(chunked.resize(xd, sizes=[10, 10], axes=[2, 3], mode=mode, keep_aspect_ratio_policy="not_larger"),
         upconv.resize(x, sizes=[10, 10], axes=[2, 3], mode=mode, keep_aspect_ratio_policy="not_larger"))


# --------------------------------------------------------------------------
# convolutions


@pytest.mark.parametrize("kind", KINDS)
def test_conv_transpose(kind):
    x = RNG.standard_normal((2, 4, 5, 4) if kind == "one" else (2, 4, 7, 6)).astype(np.float32)
    xd = dask_of(x, kind, whole=(1,))
    methods = ("auto", "scatter", "phase", "zero_insertion") if kind == "random" else ("auto",)
    for k, s, p, a, d, groups in [(4, 2, 1, 0, 1, 1), (3, 2, 1, 1, 1, 2), (2, 2, 0, 0, 1, 1), (3, 1, 1, 0, 2, 1),
                                  (1, 3, 0, 2, 1, 1), (5, 3, ((2, 0), (1, 3)), 1, 2, 4)]:
        w = RNG.standard_normal((4, 6 // groups if groups != 4 else 1, k, k)).astype(np.float32)
        b = RNG.standard_normal(w.shape[1] * groups).astype(np.float32)
        args = (w, b, s, p, a, groups, d)
        same(chunked.conv_transpose(xd, *args, method="matrix"), upconv.conv_transpose(x, *args, method="matrix"))
        for method in methods:
            same(chunked.conv_transpose(xd, *args, method=method), upconv.conv_transpose(x, *args, method=method))
    # channels chunked: rechunked whole; output_size; unbatched; 1-d and 3-d
    w = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
    out = tuple(2 * n for n in x.shape[2:])
    same(chunked.conv_transpose(dask_of(x, kind), w, stride=2, padding=1, output_size=out),
         upconv.conv_transpose(x, w, stride=2, padding=1, output_size=out))
    same(chunked.conv_transpose(dask_of(x[0], kind), w, stride=(2, 1)),
         upconv.conv_transpose(x[0], w, stride=(2, 1)))
    x1 = RNG.standard_normal((3, 2, 9))
    w1 = RNG.standard_normal((2, 2, 4))
    same(chunked.conv_transpose(dask_of(x1, kind), w1, stride=3, padding=2, method="matrix"),
         upconv.conv_transpose(x1, w1, stride=3, padding=2, method="matrix"))
    x3 = RNG.standard_normal((1, 2, 3, 4, 3))
    w3 = RNG.standard_normal((2, 1, 2, 3, 2))
    same(chunked.conv_transpose(dask_of(x3, kind), w3, stride=2), upconv.conv_transpose(x3, w3, stride=2))


@pytest.mark.parametrize("kind", KINDS)
def test_conv_and_resize_conv(kind):
    x = RNG.standard_normal((1, 4, 6, 5) if kind == "one" else (2, 4, 9, 8)).astype(np.float32)
    xd = dask_of(x, kind)
    for k, s, p, d, groups in [(3, 1, "same", 1, 1), (3, 2, 1, 1, 2), (2, 2, 0, 1, 1), (3, 1, ((0, 2), (3, 1)), 2, 4),
                               (1, 3, 1, 1, 1)]:
        w = RNG.standard_normal((4, 4 // groups, k, k)).astype(np.float32)
        b = RNG.standard_normal(4).astype(np.float32)
        same(chunked.conv(xd, w, b, s, p, d, groups), upconv.conv(x, w, b, s, p, d, groups))
    w = RNG.standard_normal((3, 4, 3, 3)).astype(np.float32)
    same(chunked.conv(dask_of(x[0], kind), w, padding=1), upconv.conv(x[0], w, padding=1))
    for mode in ("nearest", "bilinear", "bicubic"):
        same(chunked.resize_conv(xd, w, None, 2, mode), upconv.resize_conv(x, w, None, 2, mode))
    same(chunked.resize_conv(dask_of(x[0], kind), w, None, 1.5, "bilinear", align_corners=True, padding=0),
         upconv.resize_conv(x[0], w, None, 1.5, "bilinear", align_corners=True, padding=0))
    x64 = x.astype(np.float64)
    same(chunked.conv(dask_of(x64, kind), w.astype(np.float64), stride=2),
         upconv.conv(x64, w.astype(np.float64), stride=2))


# --------------------------------------------------------------------------
# pooling, unpooling, shuffles: exact


@pytest.mark.parametrize("kind", KINDS)
def test_max_pool_and_unpool(kind):
    x = RNG.standard_normal((1, 2, 7, 6) if kind == "one" else (2, 2, 9, 8)).astype(np.float32)
    x[0, 0, 3, 3] = np.nan
    xd = dask_of(x, kind)
    for k, s, p, d, ceil in [(2, None, 0, 1, False), (3, 2, 1, 1, True), (3, 1, [(2, 0), (0, 1)], 2, False),
                             (2, 3, 1, 1, True)]:
        y, i = chunked.max_pool(xd, k, s, p, d, ceil, return_indices=True)
        y0, i0 = upconv.max_pool(x, k, s, p, d, ceil, return_indices=True)
        same(y, y0)
        same(i, i0)
        same(chunked.max_pool(xd, k, s, p, d, ceil), y0)
        if d == 1 and not ceil:
            out = x.shape[2:]
            for indices in (i0, dask_of(i0, "random")):
                same(chunked.max_unpool(dask_of(y0, kind), indices, k, s, p, output_size=out),
                     upconv.max_unpool(y0, i0, k, s, p, output_size=out))
    y0, i0 = upconv.max_pool(x[0], 2, return_indices=True)
    same(chunked.max_unpool(dask_of(y0, kind), i0, 2), upconv.max_unpool(y0, i0, 2))
    for mode in ("nearest", "bed_of_nails"):
        same(chunked.unpool(xd, (3, 2), mode), upconv.unpool(x, (3, 2), mode))
        same(chunked.unpool(dask_of(x[0, :, :, 0], kind), (2,), mode), upconv.unpool(x[0, :, :, 0], (2,), mode))


def test_max_unpool_refuses_indices_outside_their_window():
    y = da.from_array(np.ones((1, 1, 4, 4)), chunks=2)
    ind = np.zeros((1, 1, 4, 4), dtype=np.int64)
    z = chunked.max_unpool(y, ind, 2)
    with pytest.raises(ValueError, match=r"max_unpool: indices\[0, 0, \d, \d\] = 0 lies outside the pooling window"):
        z.compute()
    _, ind = upconv.max_pool(np.ones((1, 1, 8, 8)), 2, return_indices=True)
    ind[0, 0, 3, 2] = 64
    with pytest.raises(ValueError, match=r"not a valid position in an output plane of size \(8, 8\)"):
        chunked.max_unpool(y, ind, 2).compute()


@pytest.mark.parametrize("kind", KINDS)
def test_shuffles(kind):
    x = RNG.integers(0, 100, (2, 3, 8, 5, 4))
    same(chunked.pixel_shuffle(dask_of(x, kind), 2), upconv.pixel_shuffle(x, 2))
    one = RNG.integers(0, 100, (3, 6, 7))
    same(chunked.pixel_shuffle(dask_of(one, kind), 2, ndim=1), upconv.pixel_shuffle(one, 2, ndim=1))
    same(chunked.pixel_unshuffle(dask_of(x, kind), 2, ndim=1), upconv.pixel_unshuffle(x, 2, ndim=1))
    f = RNG.standard_normal((2, 8, 3, 5)).astype(np.float32)
    for mode in ("DCR", "CRD"):
        same(chunked.depth_to_space(dask_of(f, kind), 2, mode), upconv.depth_to_space(f, 2, mode))
        g = RNG.standard_normal((1, 2, 6, 4))
        same(chunked.space_to_depth(dask_of(g, kind), 2, mode), upconv.space_to_depth(g, 2, mode))


# --------------------------------------------------------------------------
# laziness, chunks, validation, the drop-in contract


def _refuse(*args, **kwargs):
    raise AssertionError("something was computed while the graph was built")


def test_graphs_are_lazy():
    x = da.from_array(RNG.standard_normal((1, 4, 16, 16)).astype(np.float32), chunks=(1, 2, 5, 5))
    w = np.ones((2, 4, 3, 3), np.float32)
    with dask.config.set(scheduler=_refuse):
        made = [chunked.conv(x, w), chunked.conv_transpose(x, np.ones((4, 2, 4, 4), np.float32), None, 2, 1),
                chunked.interpolate(x, scale_factor=3.3, mode="bicubic"), chunked.resize(x, scales=[2.0], axes=[3]),
                chunked.resize_conv(x, w), chunked.unpool(x, 2), *chunked.max_pool(x, 2, return_indices=True),
                chunked.pixel_shuffle(x, 2), chunked.space_to_depth(x, 2)]
        made.append(chunked.max_unpool(*made[6:8], 2))
    assert all(isinstance(m, da.Array) for m in made)
    assert made[1].chunks[2] == (10, 10, 10, 2)  # the x2 transposed convolution doubles the chunks
    assert made[2].numblocks == (1, 2, 4, 4)
    for m in made:
        m.compute()


def test_default_threaded_scheduler():
    x = RNG.standard_normal((2, 16, 40, 40)).astype(np.float32)
    w = RNG.standard_normal((16, 8, 4, 4)).astype(np.float32)
    with dask.config.set(scheduler="threads"):
        got = chunked.conv_transpose(da.from_array(x, chunks=(1, 16, 13, 17)), w, stride=2, padding=1).compute()
    ref = upconv.conv_transpose(x, w, stride=2, padding=1)
    assert np.abs(got - ref).max() <= 1e-6 * np.abs(ref).max()


def test_empty_outputs_and_batches():
    x = da.zeros((0, 2, 5, 5), chunks=(1, 2, 2, 2))
    assert chunked.interpolate(x, scale_factor=2).compute().shape == (0, 2, 10, 10)
    assert chunked.conv(x, np.ones((3, 2, 2, 2))).compute().shape == (0, 3, 4, 4)
    y = da.ones((1, 2, 5, 5), chunks=2)
    same(chunked.interpolate(y, size=(0, 3), mode="area"), upconv.interpolate(np.ones((1, 2, 5, 5)), size=(0, 3),
                                                                              mode="area"))


def _messages(fn, *args, **kwargs) -> str:
    with pytest.raises((ValueError, TypeError)) as info:
        fn(*args, **kwargs)
    return f"{type(info.value).__name__}: {info.value}"


@pytest.mark.parametrize("call", [
    lambda m, x: m.conv(x, np.ones((2, 3, 3, 3))),
    lambda m, x: m.conv(x, np.ones((2, 2, 9, 3))),
    lambda m, x: m.conv(x, np.ones((2, 2, 3, 3), np.float32)),
    lambda m, x: m.conv_transpose(x, np.ones((2, 1, 3, 3)), output_padding=2),
    lambda m, x: m.conv_transpose(x, np.ones((2, 1, 3, 3)), method="fft"),
    lambda m, x: m.conv_transpose(x, np.ones((2, 1, 3, 3)), stride=2, output_size=(20, 3)),
    lambda m, x: m.interpolate(x, scale_factor=2, mode="linear"),
    lambda m, x: m.interpolate(x, size=3, scale_factor=2),
    lambda m, x: m.resize(x, scales=[2.0], mode="bogus"),
    lambda m, x: m.resize_conv(x, np.ones((2, 2, 3)), mode="bilinear"),
    lambda m, x: m.max_pool(x, 2, padding=2),
    lambda m, x: m.max_unpool(x, np.zeros(x.shape, np.int64), 2, output_size=(20, 20)),
    lambda m, x: m.max_unpool(x, np.zeros(x.shape, np.float32), 2),
    lambda m, x: m.unpool(x, 0),
    lambda m, x: m.pixel_shuffle(x, 2),
    lambda m, x: m.pixel_unshuffle(x, 2),
    lambda m, x: m.depth_to_space(x, 2, mode="XYZ"),
    lambda m, x: m.space_to_depth(x, 4),
])
def test_the_in_memory_messages(call):
    x = RNG.standard_normal((1, 2, 5, 6))
    assert _messages(call, chunked, da.from_array(x, chunks=2)) == _messages(call, upconv, x)


def test_a_drop_in_target():
    # same parameters after the array(s), same defaults: what a dispatch from upconv.<op> needs
    for name in chunked.SUPPORTED:
        ours = list(inspect.signature(getattr(chunked, name)).parameters.values())
        theirs = list(inspect.signature(getattr(upconv, name)).parameters.values())
        assert [(p.name, p.kind, p.default) for p in ours] == [(p.name, p.kind, p.default) for p in theirs], name
    assert chunked.is_dask_array(da.zeros(3)) and not chunked.is_dask_array(np.zeros(3))
    assert not chunked.is_dask_array([1, 2])


def test_whole_array_error():
    err = chunked.whole_array_error("deconvolve")
    assert isinstance(err, TypeError)
    assert str(err).startswith("deconvolve needs the whole array (FFT over the full extent")
    assert "call .compute() first" in str(err)
    assert "the chunked operators are conv, conv_transpose" in str(chunked.whole_array_error("checkerboard"))


def test_chunked_module_imports_no_dask():
    code = ("import sys, numpy as np; from upconv.ops import chunked; "
            "assert not chunked.is_dask_array(np.zeros(2)); print('dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --------------------------------------------------------------------------
# dtypes: the in-memory policy, every operator, every dtype class

DTYPES = ["float16", "float32", "float64", ">f4", ">f8", "uint8", "int16", "int64", ">i4", "bool"]


def _sample(shape, dtype) -> np.ndarray:
    """Random ``dtype`` data; integers over the dtype's whole range."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return RNG.random(shape) < 0.5
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return RNG.integers(info.min, info.max, shape, dtype=dt.newbyteorder("="), endpoint=True).astype(dt)
    return RNG.standard_normal(shape).astype(dt)


W4 = RNG.standard_normal((3, 4, 3, 3)).astype(np.float32)  # 4 channels in, 3 out (conv); 4 in, 3 out (transposed)

#: name -> call on a (2, 4, 9, 8) input through ``m`` (upconv or upconv.ops.chunked); bit for bit
DTYPE_CALLS = {
    "nearest": lambda m, x: m.interpolate(x, scale_factor=2.3),
    "nearest-exact": lambda m, x: m.interpolate(x, size=(5, 13), mode="nearest-exact"),
    "bilinear": lambda m, x: m.interpolate(x, scale_factor=1.7, mode="bilinear"),
    "bilinear-ac": lambda m, x: m.interpolate(x, size=(9, 3), mode="bilinear", align_corners=True),
    "bilinear-aa": lambda m, x: m.interpolate(x, scale_factor=0.4, mode="bilinear", antialias=True),
    "bicubic": lambda m, x: m.interpolate(x, size=(11, 4), mode="bicubic"),
    "bicubic-aa": lambda m, x: m.interpolate(x, size=(3, 20), mode="bicubic", antialias=True),
    "area": lambda m, x: m.interpolate(x, size=(3, 5), mode="area"),
    "lanczos": lambda m, x: m.interpolate(x, size=(4, 14), mode="lanczos", antialias=True),
    "resize-nearest": lambda m, x: m.resize(x, scales=[1, 1, 1.6, 0.7]),
    "resize-crop": lambda m, x: m.resize(x, sizes=[6, 5], axes=[2, 3], roi=[0.2, -0.1, 0.9, 1.3],
                                         coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=3),
    "resize-linear": lambda m, x: m.resize(x, scales=[1.6, 0.7], axes=[2, 3], mode="linear"),
    "resize-cubic": lambda m, x: m.resize(x, sizes=[2, 3, 5, 5], mode="cubic"),
    "max_pool": lambda m, x: m.max_pool(x, 3, 2, 1, return_indices=True),
    "unpool": lambda m, x: m.unpool(x, (2, 3)),
    "bed_of_nails": lambda m, x: m.unpool(x, 2, "bed_of_nails"),
    "pixel_shuffle": lambda m, x: m.pixel_shuffle(x, 2),
    "pixel_unshuffle": lambda m, x: m.pixel_unshuffle(x[..., :8, :6], 2),
    "depth_to_space": lambda m, x: m.depth_to_space(x, 2, "CRD"),
    "space_to_depth": lambda m, x: m.space_to_depth(x[..., :8, :6], 2),
    "conv": lambda m, x: m.conv(x, W4, None, 1, 1),
    "conv_transpose": lambda m, x: m.conv_transpose(x, W4.swapaxes(0, 1).copy(), None, 2, 1, method="matrix"),
    "resize_conv": lambda m, x: m.resize_conv(x, W4, None, 2, "bilinear"),
}


def _expect(got, ref, name: str) -> None:
    for g, r in zip(got if isinstance(got, tuple) else (got,), ref if isinstance(ref, tuple) else (ref,),
                    strict=True):
        assert isinstance(g, da.Array)
        out = g.compute()
        assert out.dtype == r.dtype and out.dtype.isnative and out.shape == r.shape, name
        np.testing.assert_array_equal(out, r, err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtypes_follow_the_in_memory_policy(dtype):
    # chunked and through the public operators: the in-memory result's values and dtype, or its error
    x = _sample((2, 4, 9, 8), dtype)
    xd = dask_of(x, "random")
    for name, call in DTYPE_CALLS.items():
        try:
            ref = call(upconv, x)
        except (TypeError, ValueError) as err:
            for m in (chunked, upconv):
                with pytest.raises(type(err), match=f"^{re.escape(str(err))}$"):
                    call(m, xd)
            continue
        _expect(call(chunked, xd), ref, name)
        _expect(call(upconv, xd), ref, name)
    y0, i0 = upconv.max_pool(x, 2, return_indices=True)
    ref = upconv.max_unpool(y0, i0, 2, output_size=x.shape[2:])
    _expect(chunked.max_unpool(dask_of(y0, "random"), i0, 2, output_size=x.shape[2:]), ref, "max_unpool")
    _expect(upconv.max_unpool(dask_of(y0, "random"), dask_of(i0, "one"), 2, output_size=x.shape[2:]), ref,
            "max_unpool")


def test_the_policy_by_dtype_class():
    # what the policy is, said once more in plain terms (the property tests check it for random chunkings)
    def dtype_of(call, dtype):
        y = call(chunked, dask_of(_sample((1, 4, 4, 4), dtype), "one"))
        return (y[0] if isinstance(y, tuple) else y).dtype

    keeps = ["nearest", "nearest-exact", "resize-nearest", "max_pool", "unpool", "pixel_shuffle", "depth_to_space"]
    for dtype in ("uint8", "int16", "int64", "bool", ">i4"):
        native = np.dtype(dtype).newbyteorder("=")
        assert all(dtype_of(DTYPE_CALLS[k], dtype) == native for k in keeps), dtype
        assert dtype_of(DTYPE_CALLS["bicubic"], dtype) == (np.uint8 if dtype == "uint8" else np.float64)
        assert dtype_of(DTYPE_CALLS["area"], dtype) == np.float64
        assert dtype_of(DTYPE_CALLS["conv"], dtype) == np.float32  # the weights' dtype
    assert dtype_of(DTYPE_CALLS["bilinear"], "float16") == np.float16
    assert dtype_of(DTYPE_CALLS["bilinear"], ">f8") == np.dtype("<f8").newbyteorder("=")


# --------------------------------------------------------------------------
# the public operators route Dask arrays here

#: every chunkable operator, called the same way on upconv and on upconv.ops.chunked
ROUTED = {
    "conv": lambda m, x: m.conv(x, W4[:, :2], padding=1),
    "conv_transpose": lambda m, x: m.conv_transpose(x, W4[:2], stride=2, padding=1, method="matrix"),
    "interpolate": lambda m, x: m.interpolate(x, scale_factor=2.5, mode="bicubic"),
    "resize": lambda m, x: m.resize(x, scales=[1.7, 0.6], axes=[2, 3], mode="linear"),
    "resize_conv": lambda m, x: m.resize_conv(x, W4[:, :2], None, 2, "bilinear"),
    "unpool": lambda m, x: m.unpool(x, 2, "bed_of_nails"),
    "max_pool": lambda m, x: m.max_pool(x, 3, stride=2, padding=1, return_indices=True),
    "max_unpool": lambda m, x: m.max_unpool(x, upconv.max_pool(np.zeros((1, 2, 16, 12)), 2, return_indices=True)[1],
                                            2),
    "pixel_shuffle": lambda m, x: m.pixel_shuffle(x, 1),
    "pixel_unshuffle": lambda m, x: m.pixel_unshuffle(x, 2),
    "depth_to_space": lambda m, x: m.depth_to_space(x, 1),
    "space_to_depth": lambda m, x: m.space_to_depth(x, 2, mode="CRD"),
}


@pytest.mark.parametrize("name", sorted(ROUTED))
def test_the_public_operators_route_dask_arrays(name):
    assert set(ROUTED) == set(chunked.SUPPORTED)
    x = RNG.standard_normal((1, 2, 8, 6)).astype(np.float32)
    xd = dask_of(x, "random")
    with dask.config.set(scheduler=_refuse):  # lazy: nothing computed while the graph is built
        public, ours = ROUTED[name](upconv, xd), ROUTED[name](chunked, xd)
    ref = ROUTED[name](upconv, x)
    for p, o, r in zip(*((a if isinstance(a, tuple) else (a,)) for a in (public, ours, ref)), strict=True):
        assert isinstance(p, da.Array) and p.name == o.name  # the very graph chunked builds
        out = p.compute()
        assert out.dtype == r.dtype and out.shape == r.shape
        np.testing.assert_array_equal(out, r)


@pytest.mark.parametrize(("name", "call", "arg"), [
    ("deconvolve", lambda x: upconv.deconvolve(x, np.ones((2, 1, 2, 2)), stride=2), "y"),
    ("conv_matrix", lambda x: upconv.conv_matrix((1, 2, 4, 4), x), "weight"),
    ("dc_gain_spread", lambda x: upconv.dc_gain_spread(x, 2), "weight"),
    ("stride_frequency_energy", lambda x: upconv.stride_frequency_energy(x, 2), "y"),
    ("psnr", lambda x: psnr(x, np.ones((2, 2, 4, 4))), "reference"),
    ("ssim", lambda x: ssim(np.ones((2, 2, 8, 8)), x), "estimate"),
    ("im2col", lambda x: upconv.im2col(x, 3), "x"),
    ("col2im", lambda x: upconv.col2im(x, (3, 3), 2), "cols"),
])
def test_whole_array_functions_refuse_dask(name, call, arg):
    x = da.ones((2, 2, 8, 8) if name == "ssim" else (2, 2, 4, 4), chunks=2)
    with pytest.raises(TypeError, match=rf"^{name}: {arg} is a Dask array, and {name} needs the whole array at "
                                        rf"once: call {arg}\.compute\(\) first$"):
        call(x)


def test_functions_without_a_chunked_version_refuse_dask_instead_of_loading_it():
    from upconv import grad

    x = da.ones((1, 2, 4, 4), chunks=2)
    with pytest.raises(TypeError, match=r"^interpolate_grad_input: grad_out is a Dask array, and "
                                        r"interpolate_grad_input has no chunked version \(the chunked operators "
                                        r"are conv, conv_transpose, .*\): call grad_out\.compute\(\) first$"):
        grad.interpolate_grad_input(da.ones((1, 2, 8, 8), chunks=4), np.ones((1, 2, 4, 4)), scale_factor=2)
    with pytest.raises(TypeError, match=r"^resize_equivalent_kernel: conv_weight is a Dask array"):
        upconv.resize_equivalent_kernel(x, 2)


# --------------------------------------------------------------------------
# the whole array's route: where it is a compiled kernel, the chunks sum as the whole array does


KERNEL_ROUTES = [  # (name, x shape, call on (module, x), the whole array's route): each takes a vector kernel
    ("conv 2-d", (2, 4, 72, 72), lambda m, x: m.conv(x, W_CONV, padding=1),
     lambda x: paths.conv_route(x, shapes.conv_geometry(x.shape[2:], (3, 3), 1, 1), 1, 8)),
    ("conv 3-d", (1, 4, 20, 24, 40), lambda m, x: m.conv(x, W_CONV3, padding=(0, 1, 2)),
     lambda x: paths.conv_route(x, shapes.conv_geometry(x.shape[2:], (3, 3, 3), 1, (0, 1, 2)), 1, 8)),
    ("conv_transpose phase", (1, 8, 64, 64),
     lambda m, x: m.conv_transpose(x, W_T, stride=2, padding=1, method="phase"),
     lambda x: paths.conv_transpose_route(x, W_T, shapes.conv_transpose_geometry(x.shape[2:], (4, 4), 2, 1), 1,
                                          "phase")),
    ("conv_transpose auto", (1, 8, 64, 64), lambda m, x: m.conv_transpose(x, W_T, stride=2, padding=1),
     lambda x: paths.conv_transpose_route(x, W_T, shapes.conv_transpose_geometry(x.shape[2:], (4, 4), 2, 1), 1,
                                          "auto")),
    ("conv_transpose zero_insertion", (1, 8, 48, 48),
     lambda m, x: m.conv_transpose(x, W_T, stride=2, padding=(1, 2), output_padding=1, method="zero_insertion"),
     lambda x: paths.conv_transpose_route(
         x, W_T, shapes.conv_transpose_geometry(x.shape[2:], (4, 4), 2, (1, 2), 1), 1, "zero_insertion")),
]
W_CONV = np.random.default_rng(5).standard_normal((8, 4, 3, 3)).astype(np.float32)
W_CONV3 = np.random.default_rng(6).standard_normal((8, 4, 3, 3, 3)).astype(np.float32)
W_T = np.random.default_rng(7).standard_normal((8, 8, 4, 4)).astype(np.float32)


@pytest.mark.parametrize(("name", "shape", "call", "route"), KERNEL_ROUTES, ids=[r[0] for r in KERNEL_ROUTES])
@pytest.mark.parametrize("kind", ["ragged3", "cuts", "two"])
def test_chunks_follow_the_whole_arrays_compiled_kernel_bit_for_bit(name, shape, call, route, kind):
    x = np.random.default_rng(len(name)).standard_normal(shape).astype(np.float32)
    r = route(x)
    assert r.simd_conv or r.simd_transpose  # the whole array takes a vector kernel
    # chunks this small would take im2col + GEMM by the size rules (and round differently): they follow the
    # whole array's route instead
    chunks = (1, shape[1]) + tuple(cut(s, kind) if a == 0 else (s // 2, s - s // 2)
                                   for a, s in enumerate(shape[2:]))
    with dask.config.set(scheduler="synchronous"):
        same(call(chunked, da.from_array(x, chunks=chunks)), call(upconv, x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["auto", "scatter", "phase", "zero_insertion"])
def test_gemm_bound_layers_bit_for_bit_on_chunks_far_smaller_than_the_whole(method, dtype):
    # the whole array's GEMMs run threaded on many tiles, its overlap-add in vector registers; the chunks'
    # GEMMs are narrow (computed transposed) and their overlap-add scalar: every output the same sum
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 16, 40, 44)).astype(dtype)
    w = rng.standard_normal((16, 12, 4, 4)).astype(dtype)
    chunks = ((1, 1), (16,), (1, 2, 3, 34), (5, 30, 9))
    with dask.config.set(scheduler="synchronous"):
        same(chunked.conv_transpose(da.from_array(x, chunks=chunks), w, stride=2, padding=1, method=method),
             upconv.conv_transpose(x, w, stride=2, padding=1, method=method))
        wc = rng.standard_normal((12, 16, 3, 3)).astype(dtype)
        same(chunked.conv(da.from_array(x, chunks=chunks), wc, padding=1, stride=(1, 2)),
             upconv.conv(x, wc, padding=1, stride=(1, 2)))


def test_a_route_pins_the_size_rules_only_inside_its_block():
    x = np.zeros((1, 8, 4, 4), np.float32)  # far too small for the vector kernel by the rule
    g = shapes.conv_geometry((4, 4), (3, 3))
    assert not paths.use_simd_conv(x, g, 8, 8)
    with paths.following(paths.Route(method="phase", simd_conv=True, simd_transpose=True)):
        assert paths.use_simd_conv(x, g, 8, 8)
        assert paths.auto_method(x, W_T, shapes.conv_transpose_geometry((4, 4), (4, 4), 2), 1) == "phase"
    assert not paths.use_simd_conv(x, g, 8, 8)
