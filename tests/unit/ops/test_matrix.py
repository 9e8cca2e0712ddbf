"""upconv.conv_matrix: a convolution as one sparse matrix; its transpose is the transposed convolution."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import upconv

RNG = np.random.default_rng(20240603)


def _rand(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)




def test_seed_example_4x16():
    # seeds 000/001: a 3x3 kernel on a 4x4 input is a 4x16 matrix; each row is the kernel,
    # laid out row by row with a zero for the input column the window does not cover
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    C = upconv.conv_matrix((4, 4), w)
    assert isinstance(C, sp.csr_array)
    assert C.shape == (4, 16)
    row = [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0]
    expected = np.array([np.roll(row, shift) for shift in (0, 1, 4, 5)], dtype=float)
    np.testing.assert_array_equal(C.toarray(), expected)
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(C @ x.ravel(), upconv.conv(x, w).ravel())
    # the transposed convolution of a 2x2 input is C.T: 4 -> 16 (one-to-many)
    y = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    np.testing.assert_array_equal(C.T @ y.ravel(), upconv.conv_transpose(y, w).ravel())


def test_padding_stride_dilation_1d_by_hand():
    # input 5, kernel [a, b], stride 2, padding 1, dilation 2: padded = 0 x0 x1 x2 x3 x4 0
    # windows read padded positions (0, 2), (2, 4), (4, 6) = (pad, x1), (x1, x3), (x3, pad)
    C = upconv.conv_matrix((5,), np.array([[[2.0, 3.0]]]), stride=2, padding=1, dilation=2)
    np.testing.assert_array_equal(
        C.toarray(),
        [
            [0, 3, 0, 0, 0],
            [0, 2, 0, 3, 0],
            [0, 0, 0, 2, 0],
        ],
    )


CASES = [
    # (in_shape, weight shape, kwargs)
    ((3, 8), (2, 3, 3), {}),
    ((3, 9), (2, 3, 3), {"stride": 2, "padding": ((2, 1),), "dilation": 2}),
    ((4, 7), (6, 2, 2), {"groups": 2, "padding": "same"}),
    ((2, 6, 5), (3, 2, 3, 2), {"stride": (2, 1), "padding": 1}),
    ((4, 7, 6), (4, 1, 3, 3), {"groups": 4, "stride": 2, "dilation": (2, 1), "padding": ((0, 2), (1, 1))}),
    ((2, 4, 3, 5), (3, 2, 2, 2, 3), {"stride": (1, 2, 2), "padding": (1, 0, 1)}),
    ((1, 3, 3, 3, 3), (2, 1, 2, 2, 2, 2), {"stride": 2}),  # 4 spatial axes
]


@pytest.mark.parametrize(("in_shape", "ws", "kwargs"), CASES)
def test_matrix_is_conv_and_its_transpose_is_conv_transpose(in_shape, ws, kwargs):
    w = _rand(*ws)
    C = upconv.conv_matrix(in_shape, w, **kwargs)
    x = _rand(1, *in_shape)
    y = upconv.conv(x, w, **kwargs)
    assert C.shape == (y[0].size, x[0].size)
    np.testing.assert_allclose(C @ x.ravel(), y.ravel(), rtol=1e-12, atol=1e-12)
    # C.T is the transposed convolution with the same parameters (and the same weight array)
    t = _rand(*y.shape)
    ct_kwargs = {k: v for k, v in kwargs.items() if k != "padding" or v != "same"}
    if kwargs.get("padding") == "same":
        ct_kwargs["padding"] = upconv.shapes.same_padding(in_shape[1:], ws[2:], dilation=kwargs.get("dilation", 1))
    tt = upconv.conv_transpose(t, w, output_size=in_shape[1:], **ct_kwargs)
    np.testing.assert_allclose(C.T @ t.ravel(), tt.ravel(), rtol=1e-12, atol=1e-12)
    # dense check of the sparse structure: each row reads at most one window
    K = int(np.prod(ws[2:]))
    assert np.diff(C.indptr).max() <= ws[1] * K


@pytest.mark.parametrize("method", ["scatter", "zero_insertion", "matrix", "phase"])
def test_transpose_matches_every_method(method):
    w = _rand(2, 3, 3, 3)  # as a transposed-conv weight: C_in 2, C_out 3
    y = _rand(1, 2, 3, 4)
    out = upconv.conv_transpose(y, w, stride=2, padding=1, output_padding=(1, 0), method=method)
    C = upconv.conv_matrix(out.shape[1:], w, stride=2, padding=1)
    np.testing.assert_allclose(C.T @ y.ravel(), out.ravel(), rtol=1e-12, atol=1e-12)


def test_in_shape_with_or_without_channels():
    w = _rand(3, 2, 2, 2)
    a = upconv.conv_matrix((5, 4), w, stride=(1, 2))
    b = upconv.conv_matrix([2, 5, 4], w, stride=(1, 2))
    c = upconv.conv_matrix((np.int64(2), np.int64(5), 4), w, stride=(1, 2))
    assert (a != b).nnz == 0 and (a != c).nnz == 0
    g = upconv.conv_matrix((5,), _rand(4, 1, 2), groups=2)
    assert g.shape == (4 * 4, 2 * 5)


def test_grouped_matrix_is_block_diagonal():
    w = _rand(4, 1, 3)
    C = upconv.conv_matrix((6,), w, groups=4).toarray()  # depthwise: 4 blocks of (4 x 6)
    for co in range(4):
        for ci in range(4):
            block = C[co * 4 : (co + 1) * 4, ci * 6 : (ci + 1) * 6]
            assert (np.count_nonzero(block) > 0) == (co == ci)


def test_dtypes():
    assert upconv.conv_matrix((4,), np.ones((1, 1, 2), dtype=np.float32)).dtype == np.float32
    assert upconv.conv_matrix((4,), np.ones((1, 1, 2), dtype=np.float64)).dtype == np.float64
    C = upconv.conv_matrix((4,), [[[1, 2]]])
    assert C.dtype == np.float64
    np.testing.assert_array_equal(C.toarray(), [[1, 2, 0, 0], [0, 1, 2, 0], [0, 0, 1, 2]])


def test_weight_is_not_modified():
    w = _rand(2, 2, 3)
    w0 = w.copy()
    w.flags.writeable = False
    C = upconv.conv_matrix((6,), w, padding=1)
    np.testing.assert_array_equal(w, w0)
    C.data[:] = 0
    np.testing.assert_array_equal(w, w0)


def test_memory_limit_applies(memory_limit):
    memory_limit(1000)
    with pytest.raises(MemoryError, match=r"^conv_matrix: the sparse convolution matrix .*would need .*memory limit"):
        upconv.conv_matrix((8, 8), np.ones((1, 1, 3, 3)))
    memory_limit(None)
    assert upconv.conv_matrix((8, 8), np.ones((1, 1, 3, 3))).shape == (36, 64)


def test_refuses_an_absurd_matrix_before_allocating():
    with pytest.raises(MemoryError, match=r"^conv_matrix: .*would need .*memory limit"):
        upconv.conv_matrix((100000, 100000), np.ones((8, 8, 3, 3)), padding=1)


W = np.ones((4, 2, 3, 3))


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: upconv.conv_matrix("55", W), TypeError,
         r"^conv_matrix: in_shape must be a sequence of integers, got '55'"),
        (lambda: upconv.conv_matrix(5, W), TypeError, r"^conv_matrix: in_shape must be a sequence of integers, got 5"),
        (lambda: upconv.conv_matrix((5,), W), ValueError,
         r"^conv_matrix: in_shape must be \(C_in, \*in_size\) or in_size with 2 spatial axes, got \(5,\)"),
        (lambda: upconv.conv_matrix((1, 2, 5, 5), W), ValueError, r"^conv_matrix: in_shape must be"),
        (lambda: upconv.conv_matrix((3, 5, 5), W), ValueError,
         r"^conv_matrix: weight of shape \(4, 2, 3, 3\) with groups=1 expects 2 input channels"),
        (lambda: upconv.conv_matrix((2.0, 5, 5), W), TypeError, r"^conv_matrix: in_shape\[0\] must be an integer"),
        (lambda: upconv.conv_matrix((0, 5, 5), W), ValueError, r"^conv_matrix: in_shape\[0\] must be >= 1"),
        (lambda: upconv.conv_matrix((5, 5), W, groups=3), ValueError,
         r"^conv_matrix: weight of shape \(4, 2, 3, 3\) with groups=3"),
        (lambda: upconv.conv_matrix((5, 5), W, groups=0), ValueError, r"^conv_matrix: groups must be >= 1, got 0"),
        (lambda: upconv.conv_matrix((5, 5), np.ones((4, 2))), ValueError,
         r"^conv_matrix: weight must have at least 3 dimensions"),
        (lambda: upconv.conv_matrix((5, 0), W), ValueError,
         r"^conv_matrix: every entry of input spatial size must be >= 1"),
        (lambda: upconv.conv_matrix((2, 2), W), ValueError,
         r"^conv_matrix: the kernel is larger than the padded input"),
        (lambda: upconv.conv_matrix((5, 5), W, stride=0), ValueError,
         r"^conv_matrix: every entry of stride must be >= 1"),
        (lambda: upconv.conv_matrix((5, 5), W, padding="same", stride=2), ValueError,
         r"^conv_matrix: padding='same' is not supported"),
        (lambda: upconv.conv_matrix((5, 5), W.astype(complex)), TypeError,
         r"^conv_matrix: weight must be a real numeric array"),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_conv_matrix_checks_its_row_pointers_against_the_limit(memory_limit):
    # a large padding: few entries, but one row pointer per output (8 MB here, 16 TB with padding=10**12)
    memory_limit(2**20)
    with pytest.raises(MemoryError, match=r"^conv_matrix: the row pointers of the sparse convolution matrix"):
        upconv.conv_matrix((4,), np.ones((1, 1, 3)), padding=5 * 10**5)
    with pytest.raises(MemoryError, match=r"^conv_matrix: the row pointers"):
        upconv.conv_matrix((4,), np.ones((1, 1, 3)), padding=10**12)
    memory_limit(None)
    assert upconv.conv_matrix((4,), np.ones((1, 1, 3)), padding=5 * 10**5).nnz == 12
