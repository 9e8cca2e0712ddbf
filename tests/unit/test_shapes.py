"""Unit tests for :mod:`upconv.shapes`: the size and padding arithmetic, on plain integers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import upconv
from upconv import shapes
from upconv.shapes import (
    ConvGeometry,
    conv_geometry,
    conv_output_size,
    conv_transpose_geometry,
    conv_transpose_output_padding,
    conv_transpose_output_size,
    conv_transpose_output_size_range,
    effective_kernel_size,
    onnx_conv_transpose_padding,
    same_padding,
)


def test_public_names_are_exported():
    for name in shapes.__all__:
        assert hasattr(shapes, name), name


# --------------------------------------------------------------------------
# Dumoulin & Visin, "A guide to convolution arithmetic": (i, k, s, p, d) -> o

CONV_ARITHMETIC = [
    ((4, 3, 1, 0, 1), 2),  # relationship 1: no padding, unit stride
    ((5, 4, 1, 2, 1), 6),  # relationship 2: arbitrary padding
    ((5, 3, 1, 1, 1), 5),  # relationship 3: half (same) padding
    ((5, 3, 1, 2, 1), 7),  # relationship 4: full padding
    ((5, 3, 2, 0, 1), 2),  # relationship 5: no padding, stride 2
    ((5, 3, 2, 1, 1), 3),  # relationship 6: padding and stride
    ((6, 3, 2, 1, 1), 3),  # relationship 6, (i + 2p - k) not a multiple of s
    ((7, 3, 1, 0, 2), 3),  # relationship 15: dilation
]


@pytest.mark.parametrize(("iksp_d", "o"), CONV_ARITHMETIC)
def test_conv_arithmetic_table(iksp_d, o):
    i, k, s, p, d = iksp_d
    assert conv_output_size((i,), k, stride=s, padding=p, dilation=d) == (o,)
    # the same on every axis of an N-d input, given as ints or as tuples
    assert conv_output_size((i, i), k, s, p, d) == (o, o)
    assert conv_output_size((i, i, i), (k,) * 3, (s,) * 3, (p,) * 3, (d,) * 3) == (o, o, o)


@pytest.mark.parametrize(("iksp_d", "o"), CONV_ARITHMETIC)
def test_conv_transpose_with_output_padding_recovers_input_size(iksp_d, o):
    i, k, s, p, d = iksp_d
    a = (i + 2 * p - effective_kernel_size(k, d)) % s
    assert conv_transpose_output_size((o,), k, stride=s, padding=p, output_padding=a, dilation=d) == (i,)
    assert conv_transpose_output_padding((i,), (o,), k, s, p, d) == (a,)
    lo, hi = conv_transpose_output_size_range((o,), k, s, p, d)
    assert lo[0] <= i <= hi[0]


def test_effective_kernel_size():
    assert effective_kernel_size(3) == 3
    assert effective_kernel_size(3, dilation=2) == 5
    assert effective_kernel_size(1, dilation=7) == 1
    assert effective_kernel_size(4, 3) == 10


# --------------------------------------------------------------------------
# conv_output_size / conv_geometry


def test_conv_output_size_per_axis_parameters():
    assert conv_output_size((10, 9, 8), (3, 2, 1), stride=(1, 2, 3), padding=(0, 1, 2), dilation=(2, 1, 1)) == (
        (10 - 5) // 1 + 1,
        (9 + 2 - 2) // 2 + 1,
        (8 + 4 - 1) // 3 + 1,
    )


def test_conv_output_size_accepts_numpy_integers():
    assert conv_output_size((np.int64(7),), np.int32(3), stride=np.int64(2), padding=np.int16(1)) == (4,)
    assert conv_output_size(np.array([7, 7]).tolist(), 3) == (5, 5)


def test_conv_output_size_with_pairs():
    # ONNX pads [b_1, b_2, e_1, e_2] = [1, 0, 2, 3] regrouped per axis
    assert conv_output_size((5, 5), 3, padding=((1, 2), (0, 3))) == (6, 6)
    assert conv_output_size((5,), 3, stride=2, padding=((0, 1),)) == (2,)
    # pairs and the symmetric int agree
    assert conv_output_size((6, 7), 3, 2, ((1, 1), (2, 2))) == conv_output_size((6, 7), 3, 2, (1, 2))


def test_conv_padding_strings():
    assert conv_output_size((5, 6), 3, padding="valid") == conv_output_size((5, 6), 3, padding=0) == (3, 4)
    for i, k, d in itertools.product(range(1, 7), range(1, 5), range(1, 4)):
        g = conv_geometry((i,), k, 1, "same", d)
        assert g.out_size == (i,)
        total = d * (k - 1)
        # torch: left = total // 2, the odd element goes at the end
        assert g.padding == ((total // 2, total - total // 2),)


def test_conv_geometry_fields():
    g = conv_geometry((4, 5), (3, 2), stride=(1, 2), padding=((1, 0), (0, 1)), dilation=(1, 2))
    assert isinstance(g, ConvGeometry)
    assert g.ndim == 2
    assert g.in_size == (4, 5)
    assert g.kernel_size == (3, 2)
    assert g.stride == (1, 2)
    assert g.dilation == (1, 2)
    assert g.padding == ((1, 0), (0, 1))
    assert g.effective_kernel_size == (3, 3)
    assert g.out_size == ((4 + 1 - 3) // 1 + 1, (5 + 1 - 3) // 2 + 1)
    assert g.full_size == tuple((o - 1) * s + ek for o, s, ek in zip(g.out_size, g.stride, (3, 3)))
    with pytest.raises(AttributeError):
        g.stride = (3, 3)  # frozen


def test_conv_geometry_exhaustive_against_formula():
    for i, k, s, b, e, d in itertools.product(range(1, 7), range(1, 4), range(1, 4), range(3), range(3), range(1, 3)):
        ek = d * (k - 1) + 1
        if i + b + e < ek:
            with pytest.raises(ValueError, match="kernel is larger than the padded input"):
                conv_geometry((i,), k, s, ((b, e),), d)
            continue
        g = conv_geometry((i,), k, s, ((b, e),), d)
        assert g.out_size == ((i + b + e - ek) // s + 1,)


# --------------------------------------------------------------------------
# conv_transpose_output_size / _range / _padding / geometry


def test_conv_transpose_output_size_examples():
    # seed 004: ConvTranspose2d(1, 1, 3, stride=2) on 2x2 gives 5x5
    assert conv_transpose_output_size((2, 2), 3, stride=2) == (5, 5)
    # seed 002: H=2, k=2: stride 2 -> 4, stride 1 -> 3, stride 1 pad 1 -> 1
    assert conv_transpose_output_size((2, 2), 2, stride=2) == (4, 4)
    assert conv_transpose_output_size((2, 2), 2, stride=1) == (3, 3)
    assert conv_transpose_output_size((2, 2), 2, stride=1, padding=1) == (1, 1)
    # DCGAN-style doubling
    assert conv_transpose_output_size((8, 8), 4, stride=2, padding=1) == (16, 16)
    # FCN-32s
    assert conv_transpose_output_size((16, 16), 64, stride=32, padding=16) == (512, 512)
    # pairs crop begin / end separately
    assert conv_transpose_output_size((3,), 3, stride=2, padding=((0, 1),)) == (6,)
    # output padding allowed up to max(stride, dilation) - 1
    assert conv_transpose_output_size((3,), 3, stride=1, output_padding=1, dilation=2) == (8,)


def test_conv_transpose_output_size_exhaustive_against_formula():
    for i, k, s, p, d in itertools.product(range(1, 5), range(1, 4), range(1, 4), range(3), range(1, 3)):
        for a in range(max(s, d)):
            expected = (i - 1) * s - 2 * p + d * (k - 1) + a + 1
            if expected < 1:
                with pytest.raises(ValueError, match="output size is too small"):
                    conv_transpose_output_size((i,), k, s, p, a, d)
            else:
                assert conv_transpose_output_size((i,), k, s, p, a, d) == (expected,)


def test_conv_transpose_output_size_range():
    assert conv_transpose_output_size_range((4,), 3, stride=2, padding=1) == ((7,), (8,))
    assert conv_transpose_output_size_range((4, 3), (3, 2), stride=(3, 1), padding=(0, 1)) == ((12, 2), (14, 2))
    # the range uses the stride, not max(stride, dilation)
    assert conv_transpose_output_size_range((4,), 3, stride=1, dilation=2) == ((8,), (8,))
    # pairs
    assert conv_transpose_output_size_range((4,), 3, stride=2, padding=((2, 0),)) == ((7,), (8,))


def test_conv_transpose_range_is_preimage_of_conv():
    # every size in the range maps back to the input size under conv, nothing outside it does
    for i, k, s, p, d in itertools.product(range(1, 5), range(1, 4), range(1, 4), range(3), range(1, 3)):
        lo, hi = conv_transpose_output_size_range((i,), k, s, p, d)
        for size in range(max(1, lo[0] - 3), hi[0] + 4):
            ek = d * (k - 1) + 1
            maps_back = size + 2 * p >= ek and (size + 2 * p - ek) // s + 1 == i
            assert maps_back == (lo[0] <= size <= hi[0]), (i, k, s, p, d, size)


def test_conv_transpose_output_padding_variants():
    assert conv_transpose_output_padding((8, 7), (4, 4), 3, stride=2, padding=1) == (1, 0)
    # n + 2 entries: the leading N, C are dropped (nn.ConvTransposeNd.forward)
    assert conv_transpose_output_padding((5, 3, 8, 7), (4, 4), 3, stride=2, padding=1) == (1, 0)
    assert conv_transpose_output_padding([1, 1, 8], (4,), 3, stride=2, padding=1) == (1,)
    assert conv_transpose_output_padding(np.array([8, 8]).tolist(), (4, 4), 3, 2, 1) == (1, 1)


def test_conv_transpose_output_padding_errors():
    with pytest.raises(ValueError,
                       match=r"requested an output size of \(9,\), but valid sizes range from \(7,\) to \(8,\)"):
        conv_transpose_output_padding((9,), (4,), 3, 2, 1)
    with pytest.raises(ValueError, match="valid sizes range from"):
        conv_transpose_output_padding((6,), (4,), 3, 2, 1)
    # s=1, d=2: output_padding=1 is legal, output_size=min+1 is not (torch)
    assert conv_transpose_output_size((4,), 3, 1, 0, 1, 2) == (9,)
    with pytest.raises(ValueError, match="valid sizes range from"):
        conv_transpose_output_padding((9,), (4,), 3, 1, 0, 2)
    with pytest.raises(ValueError, match=r"conv_transpose_output_padding: output_size must have 2 or 4 elements"):
        conv_transpose_output_padding((8, 8, 8), (4, 4), 3, 2, 1)
    with pytest.raises(TypeError, match="conv_transpose_output_padding: output_size must be a sequence"):
        conv_transpose_output_padding(8, (4,), 3, 2, 1)
    with pytest.raises(TypeError, match="output_size"):
        conv_transpose_output_padding((8.0,), (4,), 3, 2, 1)


def test_conv_transpose_geometry_is_adjoint_geometry():
    g = conv_transpose_geometry((2, 2), 3, stride=2)
    assert (g.in_size, g.out_size) == ((5, 5), (2, 2))
    g = conv_transpose_geometry((4,), 3, stride=2, padding=1, output_padding=1)
    assert g.padding == ((1, 0),)
    assert g.in_size == (8,) and g.out_size == (4,)
    g = conv_transpose_geometry((4,), 3, stride=2, padding=1, output_size=(8,))
    assert g.padding == ((1, 0),)
    # output_size replaces output_padding
    g2 = conv_transpose_geometry((4,), 3, stride=2, padding=1, output_padding=0, output_size=(1, 1, 8))
    assert g2 == g


def test_conv_transpose_geometry_invariant_exhaustive():
    """``out == (in + b + e - ek) // s + 1`` with exact division, for every valid configuration."""
    count = 0
    for i, k, s, b, e, d in itertools.product(range(1, 5), range(1, 4), range(1, 4), range(3), range(3), range(1, 3)):
        for a in range(max(s, d)):
            ek = d * (k - 1) + 1
            size = (i - 1) * s + ek - b - e + a
            if size < 1:
                with pytest.raises(ValueError, match="too small"):
                    conv_transpose_geometry((i,), k, s, ((b, e),), a, d)
                continue
            g = conv_transpose_geometry((i,), k, s, ((b, e),), a, d)
            count += 1
            ((gb, ge),) = g.padding
            assert g.out_size == (i,)
            assert g.in_size == (size,)
            assert (gb, ge) == (b, e - a)
            assert (g.in_size[0] + gb + ge - ek) % s == 0
            assert g.out_size[0] == (g.in_size[0] + gb + ge - ek) // s + 1
            assert g.full_size == ((i - 1) * s + ek,)
    assert count > 500


def test_conv_transpose_geometry_nd():
    g = conv_transpose_geometry(
        (3, 2, 4), (2, 3, 1), stride=(2, 1, 3), padding=(0, 1, 0), output_padding=(1, 0, 2), dilation=(1, 1, 1)
    )
    assert g.in_size == (2 * 2 + 2 + 1, 1 + 3 - 2, 3 * 3 + 1 + 2)
    assert g.out_size == (3, 2, 4)
    assert g.padding == ((0, -1), (1, 1), (0, -2))


# --------------------------------------------------------------------------
# same_padding


def test_same_padding_examples():
    assert same_padding((5, 6), 4) == ((1, 2), (1, 2))
    assert same_padding((5,), 4, mode="same_lower") == ((2, 1),)
    assert same_padding((7,), 3, stride=2) == ((1, 1),)
    assert same_padding((6,), 3, stride=2) == ((0, 1),)
    assert same_padding((6,), 3, stride=2, mode="same_lower") == ((1, 0),)
    assert same_padding((5,), 1, stride=3) == ((0, 0),)
    assert same_padding((5,), 3, dilation=2) == ((2, 2),)


def test_same_padding_gives_ceil_output_exhaustive():
    for i, k, s, d in itertools.product(range(1, 9), range(1, 5), range(1, 4), range(1, 3)):
        out = -(-i // s)
        ek = d * (k - 1) + 1
        total = max(0, (out - 1) * s + ek - i)
        upper = same_padding((i,), k, s, d, mode="same_upper")
        lower = same_padding((i,), k, s, d, mode="same_lower")
        assert upper == ((total // 2, total - total // 2),)
        assert lower == ((total - total // 2, total // 2),)
        assert conv_output_size((i,), k, s, upper, d) == (out,)
        assert conv_output_size((i,), k, s, lower, d) == (out,)


def test_same_padding_errors():
    with pytest.raises(ValueError, match="same_padding: mode must be one of 'same_upper', 'same_lower'"):
        same_padding((4,), 3, mode="SAME_UPPER")
    with pytest.raises(ValueError, match="same_padding: every entry of stride must be >= 1"):
        same_padding((4,), 3, stride=0)
    with pytest.raises(TypeError, match="same_padding: in_size"):
        same_padding(4, 3)


# --------------------------------------------------------------------------
# onnx_conv_transpose_padding


def test_onnx_explicit_pads():
    # test_convtranspose_pads: strides [3, 2], pads [1, 2, 1, 2] -> (1, 1) on H, (2, 2) on W
    assert onnx_conv_transpose_padding((3, 3), 3, (3, 2), pads=[1, 2, 1, 2]) == (((1, 1), (2, 2)), (0, 0))
    # asymmetric begin/end
    assert onnx_conv_transpose_padding((3,), 3, 2, pads=[0, 2]) == (((0, 2),), (0,))
    # NOTSET without pads, VALID (pads ignored)
    assert onnx_conv_transpose_padding((3, 3), 3, 2) == (((0, 0), (0, 0)), (0, 0))
    assert onnx_conv_transpose_padding((3, 3), 3, 2, pads=[1, 1, 1, 1], auto_pad="VALID") == (((0, 0), (0, 0)), (0, 0))
    # the output_padding attribute passes through
    assert onnx_conv_transpose_padding((3, 3), 3, (3, 2), output_padding=(1, 1)) == (((0, 0), (0, 0)), (1, 1))


def test_onnx_output_shape_backend_cases():
    # test_convtranspose_output_shape: total = full - O = 9-10, 7-8 = -1 -> begin 0, extra row at the end
    assert onnx_conv_transpose_padding((3, 3), 3, (3, 2), output_shape=(10, 8)) == (((0, 0), (0, 0)), (1, 1))
    # test_convtranspose_kernel_shape: output_padding [1, 1] participates, total = 0
    assert onnx_conv_transpose_padding((3, 3), (3, 3), (3, 2), output_shape=[10, 8], output_padding=[1, 1]) == (
        ((0, 0), (0, 0)),
        (1, 1),
    )
    # pads are ignored when output_shape is given
    assert onnx_conv_transpose_padding((3, 3), 3, (3, 2), pads=[5, 5, 5, 5], output_shape=(10, 8)) == (
        ((0, 0), (0, 0)),
        (1, 1),
    )
    assert onnx_conv_transpose_padding((3,), 3, 1, output_shape=(6,)) == (((0, 0),), (1,))


def test_onnx_same_backend_cases():
    # test_convtranspose_autopad_same: O = in*s = 6 of full 7: SAME_UPPER keeps rows 0..5
    assert onnx_conv_transpose_padding((3, 3), 3, 2, auto_pad="SAME_UPPER") == (((0, 1), (0, 1)), (0, 0))
    assert onnx_conv_transpose_padding((3, 3), 3, 2, auto_pad="SAME_LOWER") == (((1, 0), (1, 0)), (0, 0))
    # even total
    assert onnx_conv_transpose_padding((4,), 4, 2, auto_pad="SAME_UPPER") == (((1, 1),), (0,))
    # total -1: begin = -1 - (-1 // 2) = 0 (SAME_LOWER), the missing element is output padding at the end
    assert onnx_conv_transpose_padding((3,), 2, 3, auto_pad="SAME_LOWER") == (((0, 0),), (1,))
    # total -2: the ONNX output would start before the un-cropped result: no conv_transpose equivalent
    with pytest.raises(ValueError, match=r"^onnx_conv_transpose_padding: on axis 0 .*negative begin padding"):
        onnx_conv_transpose_padding((4,), 1, 3, auto_pad="SAME_LOWER")
    with pytest.raises(ValueError, match=r"negative begin padding"):
        onnx_conv_transpose_padding((3,), 1, 3, auto_pad="SAME_UPPER")


def test_onnx_translation_gives_requested_size_exhaustive():
    for i, k, s, d, a in itertools.product(range(1, 5), range(1, 4), range(1, 4), range(1, 3), range(2)):
        if a >= max(s, d):
            continue
        full = (i - 1) * s + d * (k - 1) + 1 + a
        for mode in ("SAME_UPPER", "SAME_LOWER"):
            total = full - i * s
            begin = total // 2 if mode == "SAME_UPPER" else total - total // 2
            if begin < 0:
                with pytest.raises(ValueError, match="negative begin padding"):
                    onnx_conv_transpose_padding((i,), k, s, d, auto_pad=mode, output_padding=a)
                continue
            pads, op = onnx_conv_transpose_padding((i,), k, s, d, auto_pad=mode, output_padding=a)
            ((b, e),) = pads
            assert b == begin
            assert b >= 0 and e >= 0 and op[0] >= 0
            assert b + e - op[0] == full - a - i * s
            if mode == "SAME_UPPER":
                assert e >= b
            else:
                assert b >= e
            if op[0] < max(s, d):
                assert conv_transpose_output_size((i,), k, s, pads, op, d) == (i * s,)
        for o in range(max(1, full - 3), full + 2):
            pads, op = onnx_conv_transpose_padding((i,), k, s, d, output_shape=(o,), output_padding=a)
            if op[0] < max(s, d):
                assert conv_transpose_output_size((i,), k, s, pads, op, d) == (o,)


ONNX_X = np.arange(9.0, dtype=np.float32).reshape(1, 1, 3, 3)
ONNX_W = np.ones((1, 2, 3, 3), dtype=np.float32)
# one channel of the expected outputs of the ONNX backend tests (both channels are equal)
ONNX_OUTPUT_SHAPE_Y = np.array(
    [[0, 0, 1, 1, 3, 2, 2, 0]] * 3 + [[3, 3, 7, 4, 9, 5, 5, 0]] * 3 + [[6, 6, 13, 7, 15, 8, 8, 0]] * 3 + [[0] * 8],
    dtype=np.float32,
)
ONNX_PADS_Y = np.array([[1, 1, 3]] * 2 + [[7, 4, 9]] * 3 + [[13, 7, 15]] * 2, dtype=np.float32)
ONNX_SAME_UPPER_Y = np.array(
    [
        [0, 0, 1, 1, 3, 2],
        [0, 0, 1, 1, 3, 2],
        [3, 3, 8, 5, 12, 7],
        [3, 3, 7, 4, 9, 5],
        [9, 9, 20, 11, 24, 13],
        [6, 6, 13, 7, 15, 8],
    ],
    dtype=np.float32,
)


@pytest.mark.parametrize(
    ("kwargs", "stride", "expected"),
    [
        ({"output_shape": (10, 8)}, (3, 2), ONNX_OUTPUT_SHAPE_Y),  # test_convtranspose_output_shape
        ({"output_padding": (1, 1)}, (3, 2), ONNX_OUTPUT_SHAPE_Y),  # test_convtranspose_pad
        ({"output_shape": (10, 8), "output_padding": (1, 1)}, (3, 2), ONNX_OUTPUT_SHAPE_Y),  # _kernel_shape
        ({"pads": [1, 2, 1, 2]}, (3, 2), ONNX_PADS_Y),  # test_convtranspose_pads
        ({"auto_pad": "SAME_UPPER"}, (2, 2), ONNX_SAME_UPPER_Y),  # test_convtranspose_autopad_same
    ],
)
@pytest.mark.parametrize("method", ["scatter", "zero_insertion", "matrix", "phase"])
def test_onnx_backend_values(kwargs, stride, expected, method):
    pads, op = onnx_conv_transpose_padding((3, 3), 3, stride, **kwargs)
    y = upconv.conv_transpose(ONNX_X, ONNX_W, stride=stride, padding=pads, output_padding=op, method=method)
    assert y.dtype == np.float32
    assert y.shape == (1, 2) + expected.shape
    np.testing.assert_array_equal(y[0, 0], expected)
    np.testing.assert_array_equal(y[0, 1], expected)


def test_onnx_same_lower_values():
    # SAME_LOWER keeps rows/columns 1..6 of the full 7x7 result
    pads, op = onnx_conv_transpose_padding((3, 3), 3, 2, auto_pad="SAME_LOWER")
    full = upconv.conv_transpose(ONNX_X, ONNX_W, stride=2)
    y = upconv.conv_transpose(ONNX_X, ONNX_W, stride=2, padding=pads, output_padding=op)
    np.testing.assert_array_equal(y, full[:, :, 1:, 1:])


def test_onnx_errors():
    with pytest.raises(ValueError, match="onnx_conv_transpose_padding: auto_pad must be one of"):
        onnx_conv_transpose_padding((3,), 3, auto_pad="same_upper")
    with pytest.raises(ValueError, match="onnx_conv_transpose_padding: pads must be"):
        onnx_conv_transpose_padding((3, 3), 3, pads=[1, 1])
    with pytest.raises(ValueError, match="onnx_conv_transpose_padding: every entry of pads must be >= 0"):
        onnx_conv_transpose_padding((3,), 3, pads=[-1, 0])
    with pytest.raises(ValueError, match="onnx_conv_transpose_padding: output_shape"):
        onnx_conv_transpose_padding((3, 3), 3, output_shape=(5,))
    with pytest.raises(ValueError, match="onnx_conv_transpose_padding: every entry of output_padding"):
        onnx_conv_transpose_padding((3,), 3, output_padding=-1)


# --------------------------------------------------------------------------
# error cases shared by the public functions

CONV_FUNCS = {
    "conv_output_size": lambda **kw: conv_output_size((5, 5), 3, **kw),
    "conv_geometry": lambda **kw: conv_geometry((5, 5), 3, **kw),
    "conv_transpose_output_size": lambda **kw: conv_transpose_output_size((5, 5), 3, **kw),
    "conv_transpose_geometry": lambda **kw: conv_transpose_geometry((5, 5), 3, **kw),
    "conv_transpose_output_size_range": lambda **kw: conv_transpose_output_size_range((5, 5), 3, **kw),
}


@pytest.mark.parametrize("func", sorted(CONV_FUNCS))
@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"stride": 0}, ValueError, r"every entry of stride must be >= 1, got 0"),
        ({"stride": (1, 0)}, ValueError, r"every entry of stride must be >= 1"),
        ({"stride": -2}, ValueError, r"stride must be >= 1"),
        ({"dilation": 0}, ValueError, r"every entry of dilation must be >= 1"),
        ({"padding": -1}, ValueError, r"every entry of padding must be >= 0"),
        ({"padding": ((0, -1), (0, 0))}, ValueError, r"padding must be >= 0"),
        ({"stride": (1, 1, 1)}, ValueError, r"stride must be an integer or a sequence of 2 integers"),
        ({"dilation": (1,)}, ValueError, r"dilation must be an integer or a sequence of 2 integers"),
        ({"padding": (1, 1, 1)}, ValueError, r"padding must be"),
        ({"padding": ((1, 1, 1), (0, 0))}, ValueError, r"padding must be"),
        ({"stride": (1, True)}, TypeError, r"stride must contain integers only"),
        ({"stride": 2.0}, TypeError, r"stride must"),
        ({"stride": (2.0, 1)}, TypeError, r"stride must contain integers only"),
        ({"dilation": 1.5}, TypeError, r"dilation must"),
        ({"padding": 1.0}, TypeError, r"padding must"),
        ({"stride": "2"}, TypeError, r"stride must"),
    ],
)
def test_parameter_errors(func, kwargs, exc, match):
    with pytest.raises(exc, match=rf"^{func}: .*{match}"):
        CONV_FUNCS[func](**kwargs)


def test_bool_scalar_is_type_error_1d():
    with pytest.raises(TypeError,
                       match=r"^conv_output_size: stride must be an integer or a sequence of 1 integers, got True"):
        conv_output_size((5,), 3, stride=True)
    with pytest.raises(TypeError, match=r"^conv_output_size: padding must be"):
        conv_output_size((5,), 3, padding=False)


@pytest.mark.parametrize("kwargs", [{"stride": True}, {"padding": False}, {"dilation": True}])
def test_bool_scalar_is_type_error_nd(kwargs):
    with pytest.raises(TypeError, match=r"^conv_output_size: "):
        conv_output_size((5, 5), 3, **kwargs)


@pytest.mark.parametrize(
    "call",
    [
        lambda: conv_output_size((5,), 3, padding=(1, 1)),
        lambda: conv_output_size((5,), (3, 3)),
        lambda: conv_output_size((5, 5), (3, 3, 3)),
    ],
)
def test_wrong_tuple_length(call):
    with pytest.raises(ValueError, match=r"^conv_output_size: .*(padding|kernel_size)"):
        call()


def test_size_argument_errors():
    with pytest.raises(TypeError, match="conv_output_size: input spatial size must be a sequence"):
        conv_output_size(5, 3)
    with pytest.raises(ValueError, match="conv_output_size: input spatial size must have at least one spatial axis"):
        conv_output_size((), 3)
    with pytest.raises(ValueError, match="conv_output_size: every entry of input spatial size must be >= 1"):
        conv_output_size((0, 4), 3)
    with pytest.raises(TypeError, match="conv_output_size: input spatial size"):
        conv_output_size((4.0,), 3)
    with pytest.raises(ValueError, match="conv_output_size: every entry of kernel_size must be >= 1"):
        conv_output_size((4,), 0)
    with pytest.raises(TypeError, match="conv_output_size: kernel_size"):
        conv_output_size((4,), True)
    with pytest.raises(TypeError, match="conv_transpose_output_size: kernel_size"):
        conv_transpose_output_size((4,), 3.0)


def test_kernel_larger_than_padded_input():
    with pytest.raises(
        ValueError, match=r"^conv_output_size: the kernel is larger than the padded input on spatial axis 1"
    ):
        conv_output_size((5, 2), 3)
    with pytest.raises(ValueError, match="effective kernel size 5"):
        conv_output_size((4,), 3, dilation=2)
    assert conv_output_size((4,), 3, padding=((0, 1),), dilation=2) == (1,)


def test_conv_padding_string_errors():
    with pytest.raises(
        ValueError, match=r"^conv_output_size: padding='same' is not supported for strided convolutions"
    ):
        conv_output_size((5,), 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"^conv_output_size: padding must be one of 'valid', 'same', got 'full'"):
        conv_output_size((5,), 3, padding="full")
    # strings are a conv-only convenience
    with pytest.raises(TypeError, match=r"^conv_transpose_output_size: padding must be"):
        conv_transpose_output_size((5,), 3, padding="same")


def test_output_too_small():
    with pytest.raises(ValueError, match=r"^conv_transpose_output_size: output size is too small: \(-1,\)"):
        conv_transpose_output_size((1,), 1, padding=1)
    with pytest.raises(ValueError, match="output size is too small"):
        conv_transpose_output_size((2, 2), 2, padding=(0, 2))
    # exactly 1 is fine (seed 002, stride 1, pad 1)
    assert conv_transpose_output_size((2,), 2, padding=1) == (1,)


def test_output_padding_limits():
    assert conv_transpose_output_size((3,), 3, stride=2, output_padding=1) == (8,)
    assert conv_transpose_output_size((3,), 3, stride=1, output_padding=2, dilation=3) == (11,)
    for kwargs in (
        {"stride": 2, "output_padding": 2},
        {"stride": 1, "output_padding": 1},
        {"stride": 2, "dilation": 3, "output_padding": 3},
        {"stride": (2, 1), "output_padding": (1, 1)},
    ):
        in_size = (3, 3) if isinstance(kwargs["stride"], tuple) else (3,)
        with pytest.raises(
            ValueError,
            match=r"^conv_transpose_output_size: output_padding must be smaller than either stride or dilation",
        ):
            conv_transpose_output_size(in_size, 3, **kwargs)
    with pytest.raises(ValueError, match=r"^conv_transpose_output_size: every entry of output_padding must be >= 0"):
        conv_transpose_output_size((3,), 3, stride=2, output_padding=-1)
    with pytest.raises(TypeError, match=r"^conv_transpose_output_size: output_padding"):
        conv_transpose_output_size((3,), 3, stride=2, output_padding=0.5)


def test_output_size_out_of_range_in_geometry():
    with pytest.raises(
        ValueError,
        match=r"^conv_transpose_geometry: requested an output size of \(10,\), but valid sizes range from",
    ):
        conv_transpose_geometry((4,), 3, stride=2, padding=1, output_size=(10,))
    with pytest.raises(ValueError, match="valid sizes range from"):
        conv_transpose_geometry((4, 4), 3, stride=2, padding=1, output_size=(1, 1, 8, 6))


@pytest.mark.parametrize("seed", range(40))
def test_phase_decomposition_partitions_outputs_and_taps(seed):
    """Every output lies in exactly one class; a class's taps are exactly those reaching its outputs."""
    rng = np.random.default_rng(seed)
    k, s, d = (int(v) for v in rng.integers(1, 6, 3))
    m, p = int(rng.integers(1, 6)), int(rng.integers(0, 3))
    op = int(rng.integers(0, max(s, d)))
    try:
        g = shapes.conv_transpose_geometry((m,), k, s, p, op, d)
    except ValueError:
        return
    classes = shapes.phase_decomposition(g, 0)
    assert len(classes) == s
    covered = sorted(c.first + i * s for c in classes for i in range(c.count))
    assert covered == list(range(g.in_size[0]))
    for c in classes:
        for i in range(c.count):
            f = c.first + i * s + g.padding[0][0]
            reaching = {t for t in range(k) if (f - t * d) % s == 0}
            assert set(c.taps) == reaching


def test_memoized_geometries_still_validate_every_call():
    # a cached call for kernel_size=2 must not answer for 2.0, True or numpy's 2 (equal dictionary keys)
    g = shapes.conv_geometry((8,), 2, 2)
    assert shapes.conv_geometry((8,), 2, 2) is g  # cached: plain ints
    with pytest.raises(TypeError, match="kernel_size"):
        shapes.conv_geometry((8,), 2.0, 2)
    with pytest.raises(TypeError, match="stride"):
        shapes.conv_geometry((8,), 2, True)
    assert shapes.conv_geometry((8,), np.int64(2), 2) == g  # computed, not cached, and equal
    with pytest.raises(TypeError, match="stride"):
        shapes.conv_transpose_geometry((4,), 3, (2.0,))
    shapes.conv_transpose_geometry((4,), 3, (2,))
    with pytest.raises(TypeError, match="stride"):
        shapes.conv_transpose_geometry((4,), 3, (2.0,))
