"""Worked examples, dtype policy, memory limit and argument validation of conv / conv_transpose / conv_matrix."""

from __future__ import annotations

import numpy as np
import pytest

import upconv
from upconv import conv, conv_matrix, conv_transpose

METHODS = ["scatter", "zero_insertion", "matrix", "phase", "auto"]




# --------------------------------------------------------------------------
# seed 002: 2x2 input [[a, b], [c, d]], 2x2 kernel [[x, y], [z, w]]; distinct primes
# so that every product and every sum of products identifies its terms.

A, B, C, D = 2.0, 3.0, 5.0, 7.0
X, Y, Z, W = 11.0, 13.0, 17.0, 19.0
SEED2_INPUT = np.array([[[[A, B], [C, D]]]])
SEED2_KERNEL = np.array([[[[X, Y], [Z, W]]]])


@pytest.mark.parametrize("method", METHODS)
def test_seed002_stride2_stamps_kernel_copies(method):
    out = conv_transpose(SEED2_INPUT, SEED2_KERNEL, stride=2, method=method)
    expected = np.array(
        [
            [A * X, A * Y, B * X, B * Y],
            [A * Z, A * W, B * Z, B * W],
            [C * X, C * Y, D * X, D * Y],
            [C * Z, C * W, D * Z, D * W],
        ]
    )
    assert out.shape == (1, 1, 4, 4)
    np.testing.assert_array_equal(out[0, 0], expected)


@pytest.mark.parametrize("method", METHODS)
def test_seed002_stride1_overlap_sums(method):
    out = conv_transpose(SEED2_INPUT, SEED2_KERNEL, stride=1, method=method)
    expected = np.array(
        [
            [A * X, A * Y + B * X, B * Y],
            [A * Z + C * X, A * W + B * Z + C * Y + D * X, B * W + D * Y],
            [C * Z, C * W + D * Z, D * W],
        ]
    )
    assert out.shape == (1, 1, 3, 3)
    np.testing.assert_array_equal(out[0, 0], expected)


@pytest.mark.parametrize("method", METHODS)
def test_seed002_stride1_padding1_centre(method):
    out = conv_transpose(SEED2_INPUT, SEED2_KERNEL, stride=1, padding=1, method=method)
    assert out.shape == (1, 1, 1, 1)
    assert out[0, 0, 0, 0] == A * W + B * Z + C * Y + D * X


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1])
def test_seed002_zero_insertion_view_with_conv(stride, padding):
    """seed 002, view 1: insert s-1 zeros, pad k-1-p, correlate with the flipped kernel."""
    k = 2
    z = np.zeros((1, 1, 2 * stride - stride + 1, 2 * stride - stride + 1))
    z[..., ::stride, ::stride] = SEED2_INPUT
    flipped = SEED2_KERNEL[..., ::-1, ::-1]
    via_conv = conv(z, flipped, padding=k - 1 - padding)
    np.testing.assert_array_equal(conv_transpose(SEED2_INPUT, SEED2_KERNEL, stride=stride, padding=padding), via_conv)


# --------------------------------------------------------------------------
# seed 004: ConvTranspose2d(1, 1, 3, stride=2) on a 2x2 input gives 5x5

KERNEL_3X3 = np.array([[[[2.0, 3.0, 5.0], [7.0, 11.0, 13.0], [17.0, 19.0, 23.0]]]])


@pytest.mark.parametrize("method", METHODS)
def test_seed004_shape_and_values(method):
    x = np.array([[[[1.0, 10.0], [100.0, 1000.0]]]])
    out = conv_transpose(x, KERNEL_3X3, stride=2, method=method)
    assert out.shape == (1, 1, 5, 5)
    expected = np.zeros((5, 5))
    for i in range(2):
        for j in range(2):
            expected[2 * i : 2 * i + 3, 2 * j : 2 * j + 3] += x[0, 0, i, j] * KERNEL_3X3[0, 0]
    np.testing.assert_array_equal(out[0, 0], expected)
    # all-ones input as in the seed: the overlap row/column sums twice
    ones = conv_transpose(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), stride=2, method=method)
    np.testing.assert_array_equal(
        ones[0, 0],
        [[1, 1, 2, 1, 1], [1, 1, 2, 1, 1], [2, 2, 4, 2, 2], [1, 1, 2, 1, 1], [1, 1, 2, 1, 1]],
    )


def test_seed004_against_torch_module():
    torch = pytest.importorskip("torch", reason="torch is the differential-test oracle")
    torch.manual_seed(0)
    m = torch.nn.ConvTranspose2d(in_channels=1, out_channels=1, kernel_size=3, stride=2).double()
    inp = torch.ones(1, 1, 2, 2, dtype=torch.float64)
    expected = m(inp).detach().numpy()
    assert expected.shape == (1, 1, 5, 5)
    w = m.weight.detach().numpy()
    b = m.bias.detach().numpy()
    for method in METHODS:
        out = conv_transpose(inp.numpy(), w, b, stride=2, method=method)
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------
# seeds 000/001: 4x4 input, 3x3 kernel, conv 2x2, the 4x16 convolution matrix

PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53]
X44 = np.array(PRIMES, dtype=float).reshape(1, 1, 4, 4)
W33 = np.array([59, 61, 67, 71, 73, 79, 83, 89, 97], dtype=float).reshape(1, 1, 3, 3)


def test_seed001_conv_4x4_by_3x3():
    out = conv(X44, W33)
    assert out.shape == (1, 1, 2, 2)
    x, w = X44[0, 0], W33[0, 0]
    expected = [[np.sum(x[i : i + 3, j : j + 3] * w) for j in range(2)] for i in range(2)]
    np.testing.assert_array_equal(out[0, 0], expected)
    # seed 001 writes out x^{l+1}_{11} term by term
    assert out[0, 0, 0, 0] == sum(w[r, c] * x[r, c] for r in range(3) for c in range(3))


def test_seed000_conv_matrix_rows():
    Cm = conv_matrix((4, 4), W33)
    assert Cm.shape == (4, 16)
    dense = Cm.toarray()
    w = W33[0, 0]
    row = np.array([w[0, 0], w[0, 1], w[0, 2], 0, w[1, 0], w[1, 1], w[1, 2], 0,
                    w[2, 0], w[2, 1], w[2, 2], 0, 0, 0, 0, 0])
    for r, shift in enumerate([0, 1, 4, 5]):
        np.testing.assert_array_equal(dense[r], np.roll(row, shift))
    # with the channel axis given explicitly
    np.testing.assert_array_equal(conv_matrix((1, 4, 4), W33).toarray(), dense)
    # conv(x).ravel() == C @ x.ravel()
    np.testing.assert_array_equal(Cm @ X44.ravel(), conv(X44, W33).ravel())


@pytest.mark.parametrize("method", METHODS)
def test_seed000_transposed_matrix_is_conv_transpose(method):
    y = np.array([[[[101.0, 103.0], [107.0, 109.0]]]])
    Cm = conv_matrix((4, 4), W33)
    via_matrix = (Cm.T @ y.ravel()).reshape(4, 4)
    out = conv_transpose(y, W33, method=method)
    assert out.shape == (1, 1, 4, 4)
    np.testing.assert_array_equal(out[0, 0], via_matrix)
    # seed 001's closed form, first row: w11 y11, w11 y12 + w12 y11, w12 y12 + w13 y11, w13 y12
    w, yy = W33[0, 0], y[0, 0]
    np.testing.assert_array_equal(
        out[0, 0, 0],
        [w[0, 0] * yy[0, 0], w[0, 0] * yy[0, 1] + w[0, 1] * yy[0, 0],
         w[0, 1] * yy[0, 1] + w[0, 2] * yy[0, 0], w[0, 2] * yy[0, 1]],
    )
    assert out[0, 0, 1, 1] == w[0, 0] * yy[1, 1] + w[0, 1] * yy[1, 0] + w[1, 0] * yy[0, 1] + w[1, 1] * yy[0, 0]


def test_docstring_example_values():
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    for method in METHODS:
        y = conv_transpose(x, np.ones((1, 1, 3, 3)), stride=2, method=method)
        np.testing.assert_array_equal(
            y[0, 0],
            [[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6], [3, 3, 7, 4, 4], [3, 3, 7, 4, 4]],
        )


@pytest.mark.parametrize("method", METHODS)
def test_onnx_dilations_example(method):
    # ONNX backend test_convtranspose_dilations
    x = np.array([[[[3.0, 8.0, 1.0], [9.0, 5.0, 7.0], [3.0, 2.0, 6.0]]]], dtype=np.float32)
    w = np.array([[[[7.0, 2.0], [1.0, 9.0]]]], dtype=np.float32)
    expected = np.array(
        [
            [21, 56, 13, 16, 2],
            [63, 35, 67, 10, 14],
            [24, 22, 76, 76, 21],
            [9, 5, 88, 45, 63],
            [3, 2, 33, 18, 54],
        ],
        dtype=np.float32,
    )
    out = conv_transpose(x, w, dilation=2, method=method)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0, 0], expected)


@pytest.mark.parametrize("method", METHODS)
def test_bias_only_region_from_output_padding(method):
    # output_padding > padding: the extra positions get the bias only
    x = np.ones((1, 1, 2))
    w = np.ones((1, 1, 1))
    out = conv_transpose(x, w, np.array([0.5]), stride=3, output_padding=2, method=method)
    np.testing.assert_array_equal(out[0, 0], [1.5, 0.5, 0.5, 1.5, 0.5, 0.5])


@pytest.mark.parametrize("method", METHODS)
def test_groups_block_structure(method):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 3, 3))
    w = rng.standard_normal((4, 3, 2, 2))  # groups=2: C_out = 6
    out = conv_transpose(x, w, stride=2, groups=2, method=method)
    assert out.shape == (2, 6, 6, 6)
    for gi in range(2):
        part = conv_transpose(x[:, 2 * gi : 2 * gi + 2], w[2 * gi : 2 * gi + 2], stride=2, method=method)
        np.testing.assert_allclose(out[:, 3 * gi : 3 * gi + 3], part, rtol=1e-12, atol=1e-12)
    c = conv(out, w, stride=2, groups=2)
    assert c.shape == (2, 4, 3, 3)


def test_conv_padding_strings_like_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 2, 6, 5))
    w = rng.standard_normal((3, 2, 4, 3))
    np.testing.assert_array_equal(conv(x, w, padding="valid"), conv(x, w, padding=0))
    same = conv(x, w, padding="same", dilation=(1, 2))
    assert same.shape == (1, 3, 6, 5)
    # torch: total d*(k-1) split left = total // 2, the odd element at the end
    np.testing.assert_allclose(same, conv(x, w, padding=((1, 2), (2, 2)), dilation=(1, 2)), rtol=1e-12, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")
def test_conv_padding_strings_against_torch():
    torch = pytest.importorskip("torch", reason="torch is the differential-test oracle")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 2, 6, 5))
    w = rng.standard_normal((3, 2, 4, 3))
    F = torch.nn.functional
    for padding in ("valid", "same"):
        expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=padding, dilation=(1, 2)).numpy()
        np.testing.assert_allclose(conv(x, w, padding=padding, dilation=(1, 2)), expected, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------
# dtype policy


def _data(dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2, 4, 3)).astype(dtype)
    w = rng.standard_normal((2, 3, 2, 3)).astype(dtype)
    b = rng.standard_normal(3).astype(dtype)
    return x, w, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", METHODS)
def test_dtype_preserved(dtype, method):
    x, w, b = _data(dtype)
    out = conv_transpose(x, w, b, stride=2, padding=1, method=method)
    assert out.dtype == dtype
    wc = np.ascontiguousarray(w.transpose(1, 0, 2, 3))
    assert conv(x, wc, b).dtype == dtype


@pytest.mark.parametrize("method", METHODS)
def test_float16_close_to_float32(method):
    x, w, b = _data(np.float16)
    out16 = conv_transpose(x, w, b, stride=2, method=method)
    out32 = conv_transpose(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), stride=2, method=method)
    assert out16.dtype == np.float16
    np.testing.assert_allclose(out16.astype(np.float32), out32, rtol=2e-3, atol=2e-3 * np.abs(out32).max())
    wc = np.ascontiguousarray(w.transpose(1, 0, 2, 3))
    c16 = conv(x, wc, b)
    c32 = conv(x.astype(np.float32), wc.astype(np.float32), b.astype(np.float32))
    assert c16.dtype == np.float16
    np.testing.assert_allclose(c16.astype(np.float32), c32, rtol=2e-3, atol=2e-3 * np.abs(c32).max())


@pytest.mark.parametrize("method", METHODS)
def test_int_lists_give_float64(method):
    x = [[[[1, 2], [3, 4]]]]
    w = [[[[1, 0], [0, 1]]]]
    out = conv_transpose(x, w, [1], stride=2, method=method)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out[0, 0], [[2, 1, 3, 1], [1, 2, 1, 3], [4, 1, 5, 1], [1, 4, 1, 5]])
    c = conv(x, w, [1])
    assert c.dtype == np.float64
    assert c[0, 0, 0, 0] == 6
    assert conv(np.arange(16).reshape(1, 1, 4, 4), np.ones((1, 1, 3, 3), dtype=np.int64)).dtype == np.float64


def test_lists_follow_the_float_array_dtype():
    x = np.ones((1, 1, 3), dtype=np.float32)
    assert conv(x, [[[1, 2]]], [0.5]).dtype == np.float32
    assert conv_transpose(x, [[[1, 2]]], [0.5]).dtype == np.float32


@pytest.mark.parametrize(
    "call",
    [
        lambda x, w, b: conv(x, w.astype(np.float64)),
        lambda x, w, b: conv(x, w, b.astype(np.float64)),
        lambda x, w, b: conv_transpose(x, w.astype(np.float64)),
        lambda x, w, b: conv_transpose(x.astype(np.float64), w, None, method="phase"),
        lambda x, w, b: conv_transpose(x, w, b.astype(np.float16), method="matrix"),
    ],
)
def test_mixed_float_dtypes_raise(call):
    x = np.ones((1, 2, 3, 3), dtype=np.float32)
    w = np.ones((2, 2, 2, 2), dtype=np.float32)
    b = np.ones(2, dtype=np.float32)
    with pytest.raises(TypeError, match=r"^conv(_transpose)?: floating inputs must share one dtype"):
        call(x, w, b)


@pytest.mark.parametrize("dtype", [np.complex128, object, "U1"])
def test_unsupported_dtypes(dtype):
    x = np.ones((1, 1, 3), dtype=dtype)
    w = np.ones((1, 1, 2))
    with pytest.raises(TypeError, match=r"^conv: "):
        conv(x, w)
    with pytest.raises(TypeError, match=r"^conv_transpose: "):
        conv_transpose(x, w)


def test_longdouble_rejected():
    if np.dtype(np.longdouble) == np.dtype(np.float64):
        pytest.skip("longdouble is float64 on this platform")
    x = np.ones((1, 1, 3), dtype=np.longdouble)
    with pytest.raises(TypeError, match=r"^conv: dtype .* is not supported"):
        conv(x, x)


# --------------------------------------------------------------------------
# inputs are never modified; layouts; unbatched; empty batch


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_inputs_not_modified(method, dtype):
    x, w, b = _data(dtype, seed=3)
    copies = [a.copy() for a in (x, w, b)]
    conv_transpose(x, w, b, stride=(2, 1), padding=((1, 0), (0, 1)), output_padding=(1, 0), method=method)
    conv_transpose(x, w, b, stride=1, method=method)
    wc = np.ascontiguousarray(w.transpose(1, 0, 2, 3))
    wc_copy = wc.copy()
    conv(x, wc, b, padding=1)
    conv(x, wc, b)
    conv_matrix(x.shape[1:], wc)
    for a, c in zip((x, w, b, wc), copies + [wc_copy], strict=True):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("method", METHODS)
def test_non_contiguous_inputs(method):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 2, 5)).transpose(2, 1, 3, 0)[:, :, ::2, ::-1]  # (2, 3, 3, 4), strided
    w = np.asfortranarray(rng.standard_normal((3, 2, 2, 3)))
    expected = conv_transpose(np.ascontiguousarray(x), np.ascontiguousarray(w), stride=2, method=method)
    np.testing.assert_allclose(conv_transpose(x, w, stride=2, method=method), expected, rtol=1e-12, atol=1e-12)
    wc = np.asfortranarray(rng.standard_normal((4, 3, 2, 2)))
    np.testing.assert_allclose(conv(x, wc), conv(np.ascontiguousarray(x), np.ascontiguousarray(wc)), rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("method", METHODS)
def test_unbatched_equals_batched(n, method):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((1, 2) + (3,) * n)
    w = rng.standard_normal((2, 3) + (2,) * n)
    b = rng.standard_normal(3)
    batched = conv_transpose(x, w, b, stride=2, padding=1, output_padding=1, method=method)
    single = conv_transpose(x[0], w, b, stride=2, padding=1, output_padding=1, method=method)
    assert single.shape == batched.shape[1:]
    np.testing.assert_array_equal(single, batched[0])
    sized = conv_transpose(x[0], w, b, stride=2, padding=1, output_size=batched.shape[2:], method=method)
    np.testing.assert_array_equal(sized, batched[0])
    wc = rng.standard_normal((4, 2) + (2,) * n)
    cb = conv(x, wc, stride=2)
    cs = conv(x[0], wc, stride=2)
    assert cs.shape == cb.shape[1:]
    np.testing.assert_array_equal(cs, cb[0])


def test_conv_empty_batch():
    out = conv(np.zeros((0, 3, 4, 4)), np.ones((2, 3, 2, 2)), np.ones(2), stride=2)
    assert out.shape == (0, 2, 2, 2)
    assert out.dtype == np.float64
    out = conv(np.zeros((0, 3, 4), dtype=np.float32), np.ones((2, 3, 2), dtype=np.float32))
    assert out.shape == (0, 2, 3) and out.dtype == np.float32


@pytest.mark.parametrize(
    "method",
    [
        "scatter",
        "zero_insertion",
        "matrix",
        "phase",
        "auto",
    ],
)
def test_conv_transpose_empty_batch(method):
    out = conv_transpose(np.zeros((0, 2, 3, 3)), np.ones((2, 3, 2, 2)), np.ones(3), stride=2, method=method)
    assert out.shape == (0, 3, 6, 6)
    assert out.dtype == np.float64


# --------------------------------------------------------------------------
# memory limit


def test_memory_limit_get_set(memory_limit, monkeypatch):
    default = upconv.get_memory_limit()
    assert default == 4 * 2**30
    memory_limit(12345)
    assert upconv.get_memory_limit() == 12345
    memory_limit(None)
    assert upconv.get_memory_limit() == default
    monkeypatch.setenv("UPCONV_MEMORY_LIMIT", "1000")
    assert upconv.get_memory_limit() == 1000
    memory_limit(2000)  # an explicit setting wins over the environment
    assert upconv.get_memory_limit() == 2000
    with pytest.raises(ValueError, match=r"^set_memory_limit: nbytes must be >= 1"):
        memory_limit(0)
    with pytest.raises(TypeError, match=r"^set_memory_limit: nbytes must be an integer"):
        memory_limit(1.5)


@pytest.mark.parametrize("method", METHODS)
def test_memory_limit_raises(memory_limit, method):
    x = np.ones((1, 4, 16, 16))
    w = np.ones((4, 4, 3, 3))
    memory_limit(1024)
    with pytest.raises(MemoryError, match=r"^conv_transpose: .* more than the memory limit .*set_memory_limit"):
        conv_transpose(x, w, stride=2, method=method)
    with pytest.raises(MemoryError, match=r"^conv: .*memory limit"):
        conv(x, w)
    memory_limit(None)
    assert conv_transpose(x, w, stride=2, method=method).shape == (1, 4, 33, 33)


def test_memory_limit_names_the_array(memory_limit):
    memory_limit(10_000)
    # the output fits (1*4*9*9*8 = 2592 bytes) but the im2col matrix of the zero-inserted input does not
    # (8*9*81*8 = 46656); with 4 output channels the correlation builds one (with 1 or 2 it computes directly)
    with pytest.raises(MemoryError, match="im2col"):
        conv_transpose(np.ones((1, 8, 4, 4)), np.ones((8, 4, 3, 3)), stride=2, method="zero_insertion")
    # the direct kernels allocate no im2col matrix: nothing to refuse
    conv_transpose(np.ones((1, 8, 4, 4)), np.ones((8, 2, 3, 3)), stride=2, method="zero_insertion")


def test_fcn32s_zero_insertion_refuses_to_allocate(memory_limit):
    # float64: the im2col path (float32 takes the vector kernels, which need no im2col matrix)
    x = np.ones((1, 21, 16, 16))
    w = np.ones((21, 21, 64, 64))
    with pytest.raises(MemoryError,
                       match=r"^conv_transpose: the im2col matrix .* GiB, more than the memory limit of 4.00 GiB"):
        conv_transpose(x, w, stride=32, padding=16, method="zero_insertion")


# --------------------------------------------------------------------------
# validation: every invalid argument names the function and the argument

X2 = np.ones((1, 4, 5, 5))
WT = np.ones((4, 2, 3, 3))  # conv_transpose weight: C_in=4, C_out/groups=2
WC = np.ones((2, 4, 3, 3))  # conv weight: C_out=2, C_in/groups=4


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: conv(X2, np.ones((2, 4))), ValueError, r"weight must have at least 3 dimensions"),
        (lambda: conv(X2, np.ones((2, 4, 3))), ValueError, r"x must have 2 \(unbatched\) or 3 \(batched\) dimensions"),
        (lambda: conv(np.ones((5, 5)), WC), ValueError, r"x must have 3 \(unbatched\) or 4"),
        (lambda: conv(np.ones((1, 1, 4, 5, 5)), WC), ValueError, r"x must have"),
        (lambda: conv(X2, np.ones((2, 3, 3, 3))), ValueError, r"x has 4 channels but weight"),
        (lambda: conv(X2, np.ones((3, 2, 3, 3)), groups=2), ValueError, r"weight.shape\[0\].*divisible by groups=2"),
        (lambda: conv(X2, np.ones((2, 4, 3, 3)), groups=2), ValueError, r"x has 4 channels"),
        (lambda: conv(X2, WC, groups=0), ValueError, r"groups must be >= 1"),
        (lambda: conv(X2, WC, groups=1.0), TypeError, r"groups must be an integer"),
        (lambda: conv(X2, WC, groups=True), TypeError, r"groups must be an integer"),
        (lambda: conv(X2, WC, np.ones(3)), ValueError, r"bias must have shape \(2,\)"),
        (lambda: conv(X2, WC, np.ones((2, 1))), ValueError, r"bias must have shape"),
        (lambda: conv(X2, np.ones((0, 4, 3, 3))), ValueError, r"weight must not have a zero-length axis"),
        (lambda: conv(X2, WC, stride=0), ValueError, r"stride must be >= 1"),
        (lambda: conv(X2, WC, stride=(1, 1, 1)), ValueError, r"stride must be an integer or a sequence of 2"),
        (lambda: conv(X2, WC, dilation=0), ValueError, r"dilation must be >= 1"),
        (lambda: conv(X2, WC, padding=-1), ValueError, r"padding must be >= 0"),
        (lambda: conv(X2, WC, padding=1.5), TypeError, r"padding must be"),
        (lambda: conv(X2, WC, padding="same", stride=2), ValueError, r"padding='same' is not supported for strided"),
        (lambda: conv(X2, WC, padding="full"), ValueError, r"padding must be one of 'valid', 'same'"),
        (lambda: conv(X2, np.ones((2, 4, 6, 6))), ValueError, r"kernel is larger than the padded input"),
        (lambda: conv(X2, WC, dilation=3), ValueError, r"kernel is larger than the padded input"),
        (lambda: conv(np.ones((1, 4, 0, 5)), WC), ValueError, r"input spatial size must be >= 1"),
    ],
)
def test_conv_validation(call, exc, match):
    with pytest.raises(exc, match=rf"^conv: .*{match}"):
        call()


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: conv_transpose(X2, np.ones((4, 2))), ValueError, r"weight must have at least 3 dimensions"),
        (lambda: conv_transpose(X2, np.ones((4, 2, 3))), ValueError, r"x must have 2 \(unbatched\) or 3"),
        (lambda: conv_transpose(np.ones(5), np.ones((1, 1, 3))), ValueError, r"x must have"),
        (lambda: conv_transpose(X2, np.ones((3, 2, 3, 3))), ValueError, r"x has 4 channels but weight"),
        (lambda: conv_transpose(X2, WT, groups=3), ValueError, r"divisible by groups=3"),
        (lambda: conv_transpose(X2, WT, groups=0), ValueError, r"groups must be >= 1"),
        (lambda: conv_transpose(X2, WT, groups="2"), TypeError, r"groups must be an integer"),
        (lambda: conv_transpose(X2, WT, np.ones(4)), ValueError, r"bias must have shape \(2,\)"),
        (lambda: conv_transpose(X2, WT, np.ones(2), groups=2), ValueError, r"bias must have shape \(4,\)"),
        (lambda: conv_transpose(X2, WT, method="fft"), ValueError, r"method must be one of 'auto', 'scatter'"),
        (lambda: conv_transpose(X2, WT, method=None), ValueError, r"method must be one of"),
        (lambda: conv_transpose(X2, WT, stride=0), ValueError, r"stride must be >= 1"),
        (lambda: conv_transpose(X2, WT, stride=(2, 2, 2)), ValueError, r"stride must be an integer or a sequence of 2"),
        (lambda: conv_transpose(X2, WT, stride=(2, 2.0)), TypeError, r"stride must contain integers only"),
        (lambda: conv_transpose(X2, WT, padding=-1), ValueError, r"padding must be >= 0"),
        (lambda: conv_transpose(X2, WT, padding="same"), TypeError, r"padding must be"),
        (lambda: conv_transpose(X2, WT, dilation=0), ValueError, r"dilation must be >= 1"),
        (lambda: conv_transpose(X2, WT, output_padding=1), ValueError, r"output_padding must be smaller than either"),
        (lambda: conv_transpose(X2, WT, stride=2, output_padding=-1), ValueError, r"output_padding must be >= 0"),
        (lambda: conv_transpose(X2, WT, stride=2, output_padding=(1, 2)), ValueError,
         r"output_padding must be smaller"),
        (lambda: conv_transpose(X2, WT, padding=4), ValueError, r"output size is too small"),
        (lambda: conv_transpose(X2, WT, stride=2, output_size=(13, 13)), ValueError, r"valid sizes range from"),
        (lambda: conv_transpose(X2, WT, stride=2, output_size=(10,)), ValueError, r"output_size must have 2 or 4"),
        (lambda: conv_transpose(X2, WT, stride=2, output_size=11), TypeError, r"output_size must be a sequence"),
    ],
)
def test_conv_transpose_validation(call, exc, match):
    with pytest.raises(exc, match=rf"^conv_transpose: .*{match}"):
        call()


def test_conv_transpose_output_size_replaces_output_padding():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 4, 5, 5))
    w = rng.standard_normal((4, 2, 3, 3))
    ref = conv_transpose(x, w, stride=2, padding=1, output_padding=(1, 0))
    assert ref.shape == (1, 2, 10, 9)
    for method in METHODS:
        out = conv_transpose(x, w, stride=2, padding=1, output_size=(10, 9), method=method)
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
        # an explicit output_padding is ignored when output_size is given (torch)
        out = conv_transpose(x, w, stride=2, padding=1, output_padding=1, output_size=(1, 2, 10, 9), method=method)
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: conv_matrix((3, 5, 5), WC), ValueError, r"weight of shape .* expects 4 input channels"),
        (lambda: conv_matrix((5,), WC), ValueError, r"in_shape must be \(C_in, \*in_size\)"),
        (lambda: conv_matrix(5, WC), TypeError, r"in_shape must be a sequence"),
        (lambda: conv_matrix((5, 5), np.ones((2, 4))), ValueError, r"weight must have at least 3 dimensions"),
        (lambda: conv_matrix((5, 5), WC, groups=0), ValueError, r"groups must be >= 1"),
        (lambda: conv_matrix((5, 5), WC, stride=0), ValueError, r"stride must be >= 1"),
        (lambda: conv_matrix((2, 2), WC), ValueError, r"kernel is larger than the padded input"),
        (lambda: conv_matrix((4.0, 5, 5), WC), TypeError, r"in_shape\[0\] must be an integer"),
    ],
)
def test_conv_matrix_validation(call, exc, match):
    with pytest.raises(exc, match=rf"^conv_matrix: .*{match}"):
        call()


def test_conv_matrix_groups_and_dtype():
    rng = np.random.default_rng(11)
    w = rng.standard_normal((4, 1, 2, 3)).astype(np.float32)  # groups=2, C_in=2
    x = rng.standard_normal((2, 5, 6)).astype(np.float32)
    Cm = conv_matrix((2, 5, 6), w, stride=(1, 2), padding=((1, 0), (0, 2)), dilation=(2, 1), groups=2)
    out = conv(x, w, stride=(1, 2), padding=((1, 0), (0, 2)), dilation=(2, 1), groups=2)
    assert Cm.shape == (out.size, x.size)
    assert Cm.dtype == np.float32
    np.testing.assert_allclose(Cm @ x.ravel(), out.ravel(), rtol=1e-5, atol=1e-5)
    # block diagonal: group 0 outputs never read group 1 inputs
    dense = Cm.toarray()
    half_out, half_in = out.size // 2, x.size // 2
    assert not dense[:half_out, half_in:].any()
    assert not dense[half_out:, :half_in].any()
