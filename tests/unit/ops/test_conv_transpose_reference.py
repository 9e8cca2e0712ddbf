"""upconv.conv_transpose: the four methods, checked against the naive oracle, conv and each other."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from conv_reference import conv_transpose_ref, pairs, tup

import upconv
from upconv import shapes

METHODS = ["scatter", "zero_insertion", "matrix", "phase"]
ALL_METHODS = ["auto", *METHODS]
RNG = np.random.default_rng(20240602)


def test_every_registered_method_is_tested():
    assert sorted(importlib.import_module("upconv.ops.convolution").CONV_TRANSPOSE_METHODS) == sorted(METHODS)


def _rand(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)




# --------------------------------------------------------------------------
# hand-checked values


@pytest.mark.parametrize("method", ALL_METHODS)
def test_stride_2_kernel_3_overlap_pattern(method):
    # every input pixel stamps [1, 1, 1] at 2*j: the overlaps (checkerboard) get 2
    y = upconv.conv_transpose(np.ones((1, 1, 4)), np.ones((1, 1, 3)), stride=2, method=method)
    np.testing.assert_array_equal(y, [[[1, 1, 2, 1, 2, 1, 2, 1, 1]]])
    # in 2-d the overlaps of the overlaps get 4
    y = upconv.conv_transpose(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), stride=2, method=method)
    row = np.array([1, 1, 2, 1, 1])
    np.testing.assert_array_equal(y[0, 0], np.outer(row, row))


@pytest.mark.parametrize("method", ALL_METHODS)
def test_docstring_example(method):
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    y = upconv.conv_transpose(x, np.ones((1, 1, 3, 3)), stride=2, method=method)
    expected = [
        [1, 1, 3, 2, 2],
        [1, 1, 3, 2, 2],
        [4, 4, 10, 6, 6],
        [3, 3, 7, 4, 4],
        [3, 3, 7, 4, 4],
    ]
    np.testing.assert_array_equal(y[0, 0], expected)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_each_pixel_stamps_the_kernel(method):
    # one non-zero input pixel: the output is the kernel (not flipped), scaled, at j*s - p
    w = np.arange(1.0, 7.0).reshape(1, 1, 2, 3)
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 2] = 2.0
    y = upconv.conv_transpose(x, w, stride=(2, 3), padding=((1, 0), (0, 0)), method=method)
    assert y.shape == (1, 1, 5, 9)
    expected = np.zeros((5, 9))
    expected[2 - 1 : 2 - 1 + 2, 6 : 6 + 3] = 2 * w[0, 0]
    np.testing.assert_array_equal(y[0, 0], expected)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_output_padding_zero_extends_and_gets_the_bias(method):
    # full result has length (2-1)*1 + 2*(2-1) + 1 = 4; dilation 2 allows output_padding 1
    y = upconv.conv_transpose([[[1.0, 10.0]]], [[[1.0, 2.0]]], bias=[0.5], dilation=2, output_padding=1, method=method)
    np.testing.assert_array_equal(y, [[[1.5, 10.5, 2.5, 20.5, 0.5]]])
    # padding crops both ends first, output_padding then extends the end (window [1, 4 - 1 + 1))
    y = upconv.conv_transpose([[[1.0, 10.0]]], [[[1.0, 2.0]]], padding=1, dilation=2, output_padding=1, method=method)
    np.testing.assert_array_equal(y, [[[10.0, 2.0, 20.0]]])


# --------------------------------------------------------------------------
# against the naive oracle, 1-d to 4-d, every method

CASES = [
    # (x shape, weight shape, kwargs)
    ((2, 3, 4), (3, 2, 3), {}),
    ((2, 3, 4), (3, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((1, 2, 5), (2, 3, 2), {"stride": 3}),  # stride > kernel: gaps of zeros
    ((1, 2, 5), (2, 1, 4), {"stride": 2, "padding": 4}),  # padding > ek - 1: crops inside the stamps
    ((2, 2, 3), (2, 2, 3), {"stride": 2, "dilation": 3, "output_padding": 2}),  # s <= op < d
    ((1, 1, 4), (1, 1, 3), {"stride": 1, "dilation": 2, "output_padding": 1, "padding": ((3, 0),)}),
    ((1, 4, 4), (4, 3, 3), {"groups": 2, "stride": 2, "padding": ((0, 2),)}),
    ((2, 4, 3), (4, 1, 2), {"groups": 4, "stride": 3, "output_padding": 1}),
    ((2, 3, 3, 4), (3, 2, 3, 3), {}),
    ((2, 3, 3, 4), (3, 2, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((1, 2, 3, 3), (2, 2, 4, 4), {"stride": 2, "padding": 1}),  # DCGAN: k = 2s, no checkerboard overlaps
    ((1, 2, 4, 3), (2, 3, 2, 3), {"stride": (3, 2), "dilation": (2, 1), "padding": ((2, 1), (0, 3))}),
    ((1, 4, 3, 3), (4, 2, 3, 2), {"groups": 2, "stride": (1, 3), "dilation": (2, 2), "output_padding": (1, 2)}),
    ((1, 2, 2, 3, 2), (2, 2, 3, 2, 2), {"stride": (2, 1, 3), "padding": (1, 0, 1), "output_padding": (1, 0, 2)}),
    ((2, 2, 2, 2, 3), (2, 1, 2, 3, 2), {"groups": 2, "dilation": (1, 2, 2), "stride": 2}),
    ((1, 2, 2, 3, 2, 2), (2, 2, 2, 2, 3, 2), {"stride": 2, "padding": 1, "output_padding": (1, 0, 0, 1)}),  # 4-d
]


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize(("xs", "ws", "kwargs"), CASES)
def test_matches_oracle(xs, ws, kwargs, method):
    x, w, b = _rand(*xs), _rand(*ws), _rand(ws[1] * kwargs.get("groups", 1))
    n = len(ws) - 2
    y = upconv.conv_transpose(x, w, b, method=method, **kwargs)
    ref = conv_transpose_ref(
        x,
        w,
        b,
        tup(kwargs.get("stride", 1), n),
        pairs(kwargs.get("padding", 0), n),
        tup(kwargs.get("output_padding", 0), n),
        tup(kwargs.get("dilation", 1), n),
        kwargs.get("groups", 1),
    )
    predicted = shapes.conv_transpose_output_size(xs[2:], ws[2:], **{k: v for k, v in kwargs.items() if k != "groups"})
    assert y.shape == ref.shape == (xs[0], ref.shape[1]) + predicted
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_output_size(method):
    x, w, b = _rand(1, 2, 4, 5), _rand(2, 3, 3, 3), _rand(3)
    kw = {"stride": 3, "padding": 1, "dilation": 2}
    lo, hi = shapes.conv_transpose_output_size_range((4, 5), 3, **kw)
    assert (lo, hi) == ((12, 15), (14, 17))
    for size in [(12, 15), (13, 17), (14, 16)]:
        op = tuple(s - m for s, m in zip(size, lo, strict=True))
        ref = upconv.conv_transpose(x, w, b, output_padding=op, method=method, **kw)
        assert ref.shape == (1, 3) + size
        np.testing.assert_array_equal(upconv.conv_transpose(x, w, b, output_size=size, method=method, **kw), ref)
        # torch.Size of the whole output: N and C are dropped
        np.testing.assert_array_equal(
            upconv.conv_transpose(x, w, b, output_size=[1, 3, *size], method=method, **kw), ref
        )
    with pytest.raises(ValueError, match=r"^conv_transpose: requested an output size of \(15, 15\), but valid sizes"):
        upconv.conv_transpose(x, w, b, output_size=(15, 15), method=method, **kw)


# --------------------------------------------------------------------------
# the transpose of conv


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize(
    ("xs", "ws", "kwargs"),
    [
        ((2, 3, 9), (4, 3, 3), {"stride": 2, "padding": 1}),
        ((2, 3, 10), (4, 3, 3), {"stride": 3, "dilation": 2, "padding": ((2, 0),)}),
        ((1, 4, 7, 6), (6, 2, 3, 2), {"groups": 2, "stride": (2, 3), "padding": (1, 2)}),
        ((1, 2, 5, 4, 6), (3, 2, 2, 3, 2), {"stride": 2, "dilation": (1, 1, 2), "padding": ((0, 1), (1, 1), (2, 0))}),
    ],
)
def test_adjoint_of_conv(xs, ws, kwargs, method):
    """<conv(x, w), y> == <x, conv_transpose(y, w)> with the same weight array and parameters."""
    x, w = _rand(*xs), _rand(*ws)
    cx = upconv.conv(x, w, **kwargs)
    y = _rand(*cx.shape)
    ty = upconv.conv_transpose(y, w, method=method, output_size=xs[2:], **kwargs)
    assert ty.shape == x.shape
    np.testing.assert_allclose(np.vdot(cx, y), np.vdot(x, ty), rtol=1e-11)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_adjoint_exact_with_integers(method):
    # small integers: both sides are exact in float64
    x = RNG.integers(-3, 4, (2, 2, 7, 8)).astype(np.float64)
    w = RNG.integers(-3, 4, (3, 2, 3, 2)).astype(np.float64)
    cx = upconv.conv(x, w, stride=2, padding=1)
    y = RNG.integers(-3, 4, cx.shape).astype(np.float64)
    ty = upconv.conv_transpose(y, w, stride=2, padding=1, output_size=(7, 8), method=method)
    assert np.vdot(cx, y) == np.vdot(x, ty)


# --------------------------------------------------------------------------
# dtype policy, input handling


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtype_is_kept(method, dtype):
    x, w, b = _rand(2, 4, 3, 4, dtype=dtype), _rand(4, 3, 3, 3, dtype=dtype), _rand(3, dtype=dtype)
    y = upconv.conv_transpose(x, w, b, stride=2, padding=1, method=method)
    assert y.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    ref = conv_transpose_ref(x, w, b, (2, 2), ((1, 1), (1, 1)))
    np.testing.assert_allclose(y, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_float16_is_computed_in_float32(method):
    x, w = _rand(1, 2, 3, 3, dtype=np.float16), _rand(2, 2, 3, 3, dtype=np.float16)
    y = upconv.conv_transpose(x, w, [1, 2], stride=2, method=method)
    assert y.dtype == np.float16
    y32 = upconv.conv_transpose(x.astype(np.float32), w.astype(np.float32), [1, 2], stride=2, method=method)
    np.testing.assert_array_equal(y, y32.astype(np.float16))


@pytest.mark.parametrize("method", ALL_METHODS)
def test_ints_and_lists_become_float64(method):
    y = upconv.conv_transpose([[[1, 2]]], np.array([[[1, 1, 1]]], dtype=np.int64), bias=[1], stride=2, method=method)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [[[2.0, 2.0, 4.0, 3.0, 3.0]]])


@pytest.mark.parametrize("method", ALL_METHODS)
def test_unbatched_input(method):
    x, w, b = _rand(3, 4, 2), _rand(3, 2, 2, 3), _rand(2)
    y = upconv.conv_transpose(x, w, b, stride=2, method=method)
    assert y.shape == (2, 8, 5)
    # output_size of an unbatched input: the spatial sizes, or (C_out, *spatial) as torch.Size of the output
    np.testing.assert_array_equal(upconv.conv_transpose(x, w, b, stride=2, output_size=(9, 5), method=method)[:, :8], y)
    assert upconv.conv_transpose(x, w, b, stride=2, output_size=(2, 9, 6), method=method).shape == (2, 9, 6)
    with pytest.raises(ValueError, match=r"^conv_transpose: output_size must have 2 or 3 elements"):
        upconv.conv_transpose(x, w, b, stride=2, output_size=(1, 2, 9, 6), method=method)
    np.testing.assert_allclose(y, upconv.conv_transpose(x[None], w, b, stride=2, method=method)[0],
                               rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
def test_empty_batch(method, ndim):
    y = upconv.conv_transpose(np.zeros((0, 2) + (3,) * ndim), np.ones((2, 1) + (2,) * ndim), stride=2, method=method)
    assert y.shape == (0, 1) + (6,) * ndim


@pytest.mark.parametrize("method", ALL_METHODS)
def test_samples_are_independent(method):
    x, w, b = _rand(4, 2, 3, 3), _rand(2, 3, 3, 3), _rand(3)
    whole = upconv.conv_transpose(x, w, b, stride=2, method=method)
    for i in range(4):
        np.testing.assert_allclose(
            whole[i], upconv.conv_transpose(x[i : i + 1], w, b, stride=2, method=method)[0], rtol=1e-13, atol=1e-13
        )


@pytest.mark.parametrize("method", ALL_METHODS)
def test_inputs_are_not_modified(method):
    x, w, b = _rand(2, 3, 4, 4), _rand(3, 2, 3, 3), _rand(2)
    copies = [a.copy() for a in (x, w, b)]
    for a in (x, w, b):
        a.flags.writeable = False  # any write into an input raises
    y = upconv.conv_transpose(x, w, b, stride=2, padding=1, method=method)
    for a, c in zip((x, w, b), copies, strict=True):
        np.testing.assert_array_equal(a, c)
    assert y.flags.writeable
    assert not any(np.shares_memory(y, a) for a in (x, w, b))


@pytest.mark.parametrize("method", ALL_METHODS)
def test_non_contiguous_inputs(method):
    x = _rand(4, 6, 7, 9)[::2, ::-2, 1::2, ::3]  # (2, 3, 3, 3), strided and reversed
    w = _rand(2, 3, 3, 2).transpose(1, 0, 3, 2)[:, :, ::-1]  # (3, 2, 2, 3)
    kw = {"stride": (2, 1), "padding": (0, 1), "output_padding": (1, 0), "method": method}
    ref = upconv.conv_transpose(np.ascontiguousarray(x), np.ascontiguousarray(w), **kw)
    np.testing.assert_allclose(upconv.conv_transpose(x, w, **kw), ref, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(upconv.conv_transpose(np.asfortranarray(x), w, **kw), ref, rtol=1e-13, atol=1e-13)


# --------------------------------------------------------------------------
# memory limit


@pytest.mark.parametrize("method", ALL_METHODS)
def test_refuses_an_absurd_output_before_allocating(method):
    # 2 pixels, stride 10**6: a 1000001**2 output (8 TB) must be refused, not attempted
    with pytest.raises(MemoryError, match=r"^conv_transpose: the output of shape \(1, 1, 1000001, 1000001\)"):
        upconv.conv_transpose(np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1)), stride=10**6, output_padding=0,
                              method=method)


def test_refuses_an_absurd_zero_inserted_input():
    # the output is 3 x 3 (the window [99998, 100001) of the full 100001 x 100001 result, whose
    # only non-zero pixels are at 0 and 10**5), but zero insertion would build that whole input
    x, w = np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1))
    kw = {"stride": 10**5, "padding": ((10**5 - 2, 0), (10**5 - 2, 0))}
    with pytest.raises(MemoryError,
                       match=r"^conv_transpose: the zero-inserted input of shape \(1, 1, 100001, 100001\)"):
        upconv.conv_transpose(x, w, method="zero_insertion", **kw)
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 2, 2] = 1.0
    for method in ("scatter", "matrix"):
        np.testing.assert_array_equal(upconv.conv_transpose(x, w, method=method, **kw), expected)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_memory_limit_applies(memory_limit, method):
    x, w = np.ones((1, 1, 8, 8)), np.ones((1, 1, 5, 5))
    memory_limit(100)  # less than the 8 x 8 output
    with pytest.raises(MemoryError, match=r"^conv_transpose: the output of shape \(1, 1, 12, 12\)"):
        upconv.conv_transpose(x, w, method=method)
    memory_limit(2**20)
    assert upconv.conv_transpose(x, w, method=method).shape == (1, 1, 12, 12)


def test_matrix_method_memory_error_names_conv_transpose(memory_limit):
    memory_limit(3000)  # the 12 x 12 output fits, the 64 x 25 stored entries of C do not
    with pytest.raises(MemoryError, match=r"^conv_transpose: "):
        upconv.conv_transpose(np.ones((1, 1, 8, 8)), np.ones((1, 1, 5, 5)), method="matrix")


# --------------------------------------------------------------------------
# errors: "conv_transpose: <argument> ..., got ..."

X2 = np.ones((1, 2, 5, 5))
W2 = np.ones((2, 3, 3, 3))


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"method": "fft"}, ValueError,
         r"^conv_transpose: method must be one of 'auto', 'scatter', 'zero_insertion', 'matrix', 'phase', got 'fft'"),
        ({"method": None}, ValueError, r"^conv_transpose: method must be one of"),
        ({"stride": 0}, ValueError, r"^conv_transpose: every entry of stride must be >= 1, got 0"),
        ({"stride": (2, 2, 2)}, ValueError, r"^conv_transpose: stride must be an integer or a sequence of 2 integers"),
        ({"stride": 2.0}, TypeError, r"^conv_transpose: stride must be an integer"),
        ({"dilation": 0}, ValueError, r"^conv_transpose: every entry of dilation must be >= 1"),
        ({"padding": -1}, ValueError, r"^conv_transpose: every entry of padding must be >= 0, got -1"),
        ({"padding": "same"}, TypeError,
         r"^conv_transpose: padding must be an integer, 2 integers, or 2 \(begin, end\) pairs, got 'same'"),
        ({"output_padding": -1}, ValueError, r"^conv_transpose: every entry of output_padding must be >= 0"),
        ({"stride": 2, "output_padding": 2}, ValueError,
         r"^conv_transpose: output_padding must be smaller than either stride or dilation .*got output_padding=\(2, "
         r"2\), stride=\(2, 2\), dilation=\(1, 1\)"),
        ({"stride": 1, "dilation": 2, "output_padding": (0, 2)}, ValueError,
         r"^conv_transpose: output_padding must be smaller than either stride or dilation"),
        ({"stride": 2, "output_size": (20, 20)}, ValueError,
         r"^conv_transpose: requested an output size of \(20, 20\), but valid sizes range from \(11, 11\) to \(12, "
         r"12\) \(for an input of \(5, 5\)\)"),
        ({"stride": 2, "output_size": (11,)}, ValueError,
         r"^conv_transpose: output_size must have 2 or 4 elements .*got \(11,\)"),
        ({"stride": 2, "output_size": 11}, TypeError,
         r"^conv_transpose: output_size must be a sequence of integers, got 11"),
        ({"stride": 2, "output_size": (11.0, 11)}, TypeError,
         r"^conv_transpose: output_size must contain integers only"),
        ({"padding": 4}, ValueError, r"^conv_transpose: output size is too small: \(-1, -1\)"),
        ({"groups": 0}, ValueError, r"^conv_transpose: groups must be >= 1, got 0"),
        ({"groups": 4}, ValueError, r"^conv_transpose: in channels \(2\) must be divisible by groups=4"),
        ({"groups": True}, TypeError, r"^conv_transpose: groups must be an integer, got True"),
        ({"bias": np.ones(2)}, ValueError, r"^conv_transpose: bias must have shape \(3,\), got \(2,\)"),
        ({"groups": 2, "bias": np.ones(3)}, ValueError, r"^conv_transpose: bias must have shape \(6,\), got \(3,\)"),
        ({"bias": np.ones(3, dtype=np.float32)}, TypeError, r"^conv_transpose: floating inputs must share one dtype"),
    ],
)
def test_argument_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        upconv.conv_transpose(X2, W2, **kwargs)


@pytest.mark.parametrize(
    ("x", "w", "exc", "match"),
    [
        (X2, np.ones((3, 3, 3, 3)), ValueError,
         r"^conv_transpose: x has 2 channels but weight of shape \(3, 3, 3, 3\) expects 3 \(weight.shape\[0\]\)"),
        (np.ones((1, 1, 2, 5, 5)), W2, ValueError,
         r"^conv_transpose: x must have 3 \(unbatched\) or 4 \(batched\) dimensions"),
        (X2, np.ones((2, 3)), ValueError, r"^conv_transpose: weight must have at least 3 dimensions"),
        (X2, np.ones((2, 0, 3, 3)), ValueError, r"^conv_transpose: weight must not have a zero-length axis"),
        (X2.astype(np.float16), W2.astype(np.float32), TypeError,
         r"^conv_transpose: floating inputs must share one dtype"),
        (X2.astype(np.complex64), W2, TypeError,
         r"^conv_transpose: x must be a real numeric array, got dtype complex64"),
        (X2, np.full(W2.shape, "a"), TypeError, r"^conv_transpose: weight must be a real numeric array"),
    ],
)
def test_array_errors(x, w, exc, match):
    with pytest.raises(exc, match=match):
        upconv.conv_transpose(x, w)


def test_phase_skips_empty_residue_classes():
    # stride 1000 on a 2x2 input: 10^6 residue classes, only 4 of which are reached
    x = np.arange(4.0).reshape(1, 1, 2, 2)
    y = upconv.conv_transpose(x, np.ones((1, 1, 1, 1)), stride=1000, padding=499, method="phase")
    np.testing.assert_array_equal(
        y, upconv.conv_transpose(x, np.ones((1, 1, 1, 1)), stride=1000, padding=499, method="scatter")
    )
    assert y.shape == (1, 1, 3, 3)
