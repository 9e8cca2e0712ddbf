"""Property tests (hypothesis): the chunked operators equal the in-memory ones for random chunkings.

Chunk sizes are drawn per axis: one element per chunk, sizes smaller than the
halo, ragged last chunks, random cuts.  Interpolation and resize (every mode,
random scales and sizes), pooling, unpooling, shuffles, conv and
conv_transpose by every method (and "auto"), with 1 to 4 channels per group
(direct kernels and GEMMs) in float32 and float64, must be bit for bit equal.
Inputs are drawn from every dtype class (float16/32/64, big-endian float,
uint8, int16, int64 over its whole range, bool): the result has the
in-memory result's dtype too.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("hypothesis")
da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import upconv  # noqa: E402
from upconv.ops import chunked  # noqa: E402

pytestmark = pytest.mark.slow

SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def chunks_of(draw, n: int) -> tuple[int, ...]:
    """Chunk sizes adding up to ``n``: ones, a regular size with a ragged end, or random cuts."""
    kind = draw(st.sampled_from(["one", "regular", "cuts"]))
    if kind == "one":
        return (1,) * n
    if kind == "regular":
        c = draw(st.integers(1, n))
        return (c,) * (n // c) + ((n % c,) if n % c else ())
    cuts = sorted(draw(st.sets(st.integers(1, max(1, n - 1)), max_size=n))) if n > 1 else []
    b = [0, *[c for c in cuts if 0 < c < n], n]
    return tuple(q - p for p, q in zip(b[:-1], b[1:], strict=True))


#: One dtype of every class: floats (big-endian too), small and wide integers, booleans.
DTYPES = ("float16", "float32", "float64", ">f4", "uint8", "int16", "int64", "bool")


def sample(rng: np.random.Generator, shape: tuple[int, ...], dtype: str, moderate: bool = False) -> np.ndarray:
    """Random data of ``dtype``: integers over the dtype's whole range (``moderate``: within +-1000)."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind in "iu":
        info = np.iinfo(dt)
        lo, hi = (max(info.min, -1000), min(info.max, 1000)) if moderate else (info.min, info.max)
        return rng.integers(lo, hi, shape, dtype=dt.newbyteorder("="), endpoint=True).astype(dt)
    return rng.standard_normal(shape).astype(dt)


@st.composite
def arrays(draw, shape, whole=(), dtypes=("float32",), moderate=False):
    seed = draw(st.integers(0, 2**16))
    x = sample(np.random.default_rng(seed), shape, draw(st.sampled_from(dtypes)), moderate)
    chunks = tuple((s,) if a in whole else draw(chunks_of(s)) for a, s in enumerate(shape))
    return x, da.from_array(x, chunks=chunks)


def computed(y):
    with dask.config.set(scheduler="synchronous"):
        return y.compute()


def assert_same(got, ref):
    """Equal values (NaN where the reference has NaN), shape and dtype."""
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_array_equal(got, ref)


@st.composite
def interpolations(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "bilinear", "bicubic", "area", "aa-bilinear",
                                 "aa-bicubic", "lanczos"]))
    kw = {}
    if mode.startswith("aa-") or mode == "lanczos":
        kw["antialias"] = True
        mode = mode.removeprefix("aa-")
    if mode in ("bilinear", "bicubic") and draw(st.booleans()):
        kw["align_corners"] = True
    if draw(st.booleans()):
        kw["scale_factor"] = tuple(draw(st.floats(0.25, 4.0)) for _ in range(2))
    else:
        kw["size"] = tuple(draw(st.integers(1, 16)) for _ in range(2))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    return mode, kw, draw(arrays(shape, dtypes=DTYPES))


@SETTINGS
@given(interpolations())
def test_interpolate_bit_for_bit(case):
    mode, kw, (x, xd) = case
    try:
        ref = upconv.interpolate(x, mode=mode, **kw)
    except ValueError:
        assume(False)
    assert_same(computed(chunked.interpolate(xd, mode=mode, **kw)), ref)


@st.composite
def resizes(draw):
    mode = draw(st.sampled_from(["nearest", "linear", "cubic"]))
    ctm = draw(st.sampled_from(["half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel",
                                "tf_crop_and_resize"]))
    kw = {"mode": mode, "coordinate_transformation_mode": ctm, "exclude_outside": draw(st.booleans())}
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    axes = draw(st.sampled_from([[1, 2], [2], [0, 1, 2]]))
    if draw(st.booleans()):
        kw["scales"] = [draw(st.floats(0.3, 3.0)) for _ in axes]
    else:
        kw["sizes"] = [draw(st.integers(1, 14)) for _ in axes]
    if ctm == "tf_crop_and_resize":
        kw["roi"] = [draw(st.floats(-0.3, 0.5)) for _ in axes] + [draw(st.floats(0.6, 1.3)) for _ in axes]
        kw["extrapolation_value"] = draw(st.sampled_from([0.0, -2.0, 7.0]))
    if mode != "nearest" and draw(st.booleans()):
        kw["antialias"] = True
    return dict(kw, axes=axes), draw(arrays(shape, dtypes=DTYPES))


@SETTINGS
@given(resizes())
def test_resize_bit_for_bit(case):
    kw, (x, xd) = case
    try:
        ref = upconv.resize(x, **kw)
    except ValueError:
        assume(False)
    assert_same(computed(chunked.resize(xd, **kw)), ref)


@st.composite
def transposed(draw):
    n = draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 4)) for _ in range(n))
    s = tuple(draw(st.integers(1, 3)) for _ in range(n))
    d = tuple(draw(st.integers(1, 2)) for _ in range(n))
    p = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(n))
    a = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d, strict=True))
    groups = draw(st.sampled_from([1, 2]))
    ci_g, co_g = draw(st.integers(1, 4)), draw(st.integers(1, 4))  # up to 2: direct kernels; more: GEMMs
    spatial = tuple(draw(st.integers(1, 7)) for _ in range(n))
    x, xd = draw(arrays((draw(st.integers(1, 2)), ci_g * groups) + spatial,
                        whole=(1,) if draw(st.booleans()) else (),
                        dtypes=("float32", "float64", ">f4", "uint8", "int16", "int64", "bool"), moderate=True))
    w = np.random.default_rng(draw(st.integers(0, 99))).standard_normal((ci_g * groups, co_g) + k)
    w = w.astype(np.float64 if x.dtype == np.float64 else np.float32)  # (floating inputs share one dtype)
    return x, xd, w, dict(stride=s, padding=p, output_padding=a, groups=groups, dilation=d)


@SETTINGS
@given(transposed(), st.sampled_from(["auto", "scatter", "phase", "zero_insertion", "matrix"]))
def test_conv_transpose(case, method):
    x, xd, w, kw = case
    try:
        ref = upconv.conv_transpose(x, w, method=method, **kw)
    except ValueError:
        assume(False)
    # every block takes the whole array's route, and every GEMM sums each element in one order
    assert_same(computed(chunked.conv_transpose(xd, w, method=method, **kw)), ref)


@SETTINGS
@given(transposed())
def test_conv(case):
    x, xd, w, kw = case
    groups, ci_g, co_g = kw["groups"], x.shape[1] // kw["groups"], w.shape[1]
    wc = np.ascontiguousarray(w.reshape(groups, ci_g, co_g, *w.shape[2:]).swapaxes(1, 2)
                              .reshape(groups * co_g, ci_g, *w.shape[2:]))
    try:
        ref = upconv.conv(x, wc, None, kw["stride"], kw["padding"], kw["dilation"], groups)
    except ValueError:
        assume(False)
    assert_same(computed(chunked.conv(xd, wc, None, kw["stride"], kw["padding"], kw["dilation"], groups)), ref)


@SETTINGS
@given(st.data())
def test_pooling_unpooling_and_shuffles_bit_for_bit(data):
    x, xd = data.draw(arrays((1, 2, data.draw(st.integers(2, 9)), data.draw(st.integers(2, 9))), dtypes=DTYPES))
    k = data.draw(st.integers(1, 3))
    s = data.draw(st.integers(1, 3))
    p = data.draw(st.integers(0, k // 2))
    d = data.draw(st.integers(1, 2))
    ceil = data.draw(st.booleans())
    try:
        y0, i0 = upconv.max_pool(x, k, s, p, d, ceil, return_indices=True)
    except ValueError:
        assume(False)
    y, i = chunked.max_pool(xd, k, s, p, d, ceil, return_indices=True)
    assert_same(computed(y), y0)
    assert_same(computed(i), i0)
    if d == 1 and not ceil and k >= s:
        chunks = data.draw(arrays(y0.shape))[1].chunks
        out = x.shape[2:]
        got = chunked.max_unpool(da.from_array(y0, chunks=chunks), i0, k, s, p, output_size=out)
        assert_same(computed(got), upconv.max_unpool(y0, i0, k, s, p, output_size=out))
    f = data.draw(st.integers(1, 3))
    mode = data.draw(st.sampled_from(["nearest", "bed_of_nails"]))
    assert_same(computed(chunked.unpool(xd, f, mode)), upconv.unpool(x, f, mode))
    assert_same(computed(chunked.depth_to_space(xd, 1)), upconv.depth_to_space(x, 1))
    z, zd = data.draw(arrays((1, 4 * f * f, data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))),
                             dtypes=DTYPES))
    assert_same(computed(chunked.pixel_shuffle(zd, f)), upconv.pixel_shuffle(z, f))
    assert_same(computed(chunked.pixel_unshuffle(chunked.pixel_shuffle(zd, f), f)), upconv.pixel_unshuffle(
        upconv.pixel_shuffle(z, f), f))
