"""upconv.im2col / upconv.col2im: torch unfold/fold layout, N-d, ONNX Col2Im pads, adjointness."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import upconv

RNG = np.random.default_rng(20240611)


def _rand(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def _random_2d_configs(count, seed):
    rng = np.random.default_rng(seed)
    configs = []
    while len(configs) < count:
        k = tuple(int(v) for v in rng.integers(1, 4, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        p = tuple(int(v) for v in rng.integers(0, 3, 2))
        size = tuple(int(v) for v in rng.integers(1, 9, 2))
        if any(i + 2 * p_ < d_ * (k_ - 1) + 1 for i, p_, d_, k_ in zip(size, p, d, k, strict=True)):
            continue
        configs.append((size, k, s, p, d))
    return configs


# --------------------------------------------------------------------------
# by hand


def test_seed_1d_by_hand():
    # x = [x0 .. x4], kernel 2, stride 2, padding 1, dilation 2: padded 0 x0 x1 x2 x3 x4 0,
    # windows start at 0, 2, 4 and read (pad, x1), (x1, x3), (x3, pad)
    x = np.array([[[10.0, 11.0, 12.0, 13.0, 14.0]]])
    cols = upconv.im2col(x, (2,), stride=2, padding=1, dilation=2)
    np.testing.assert_array_equal(cols, [[[0, 11, 13], [11, 13, 0]]])
    # col2im sums what lands on each pixel; what lands on padding is dropped
    back = upconv.col2im(np.ones((1, 2, 3)), (5,), 2, stride=2, padding=1, dilation=2)
    np.testing.assert_array_equal(back, [[[0, 2, 0, 2, 0]]])


def test_conv_is_weight_matrix_times_im2col():
    # seed 002, section 2: "im2col: duplicate the pixels, only reshape the weight"
    for n, kw in [(1, {"stride": 2, "padding": ((2, 1),)}), (2, {"padding": 1, "dilation": (1, 2)}),
                  (3, {"stride": (1, 2, 1), "padding": ((1, 0), (0, 1), (1, 1))})]:
        x = _rand(2, 3, *(6,) * n)
        w = _rand(4, 3, *(3,) * n)
        y = upconv.conv(x, w, **kw)
        cols = upconv.im2col(x, (3,) * n, **kw)
        via_gemm = w.reshape(4, -1) @ cols
        np.testing.assert_allclose(via_gemm.reshape(y.shape), y, rtol=1e-12, atol=1e-12)


def test_adjoint_identity():
    # <im2col(x), c> == <x, col2im(c)>, 1-d to 3-d, asymmetric pads
    for n in (1, 2, 3):
        size = tuple(int(v) for v in RNG.integers(4, 7, n))
        kw = {
            "stride": tuple(int(v) for v in RNG.integers(1, 3, n)),
            "padding": tuple((int(b), int(e)) for b, e in RNG.integers(0, 3, (n, 2))),
            "dilation": tuple(int(v) for v in RNG.integers(1, 3, n)),
        }
        k = (2,) * n
        x = _rand(2, 3, *size)
        cols = upconv.im2col(x, k, **kw)
        c = _rand(*cols.shape)
        lhs = np.vdot(cols, c)
        rhs = np.vdot(x, upconv.col2im(c, size, k, **kw))
        np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


def test_unbatched_dtype_and_no_mutation():
    x = _rand(3, 5, 5, dtype=np.float32)
    x_copy = x.copy()
    cols = upconv.im2col(x, 3, padding=1)
    assert cols.shape == (27, 25) and cols.dtype == np.float32
    np.testing.assert_array_equal(x, x_copy)
    back = upconv.col2im(cols, 5, 3, padding=1)
    assert back.shape == (3, 5, 5) and back.dtype == np.float32
    half = upconv.im2col(x.astype(np.float16), 2)
    assert half.dtype == np.float16
    ints = upconv.im2col(np.arange(16).reshape(1, 1, 4, 4), 2)
    assert ints.dtype == np.float64
    # the result is a fresh writable array, never a view of the input
    one = upconv.im2col(x, 1)
    one[...] = 0
    np.testing.assert_array_equal(x, x_copy)


def test_col2im_of_im2col_counts_windows():
    x = np.ones((1, 1, 4, 4))
    back = upconv.col2im(upconv.im2col(x, 3), (4, 4), 3)
    np.testing.assert_array_equal(back[0, 0], [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


# --------------------------------------------------------------------------
# errors


def test_errors():
    with pytest.raises(ValueError, match=r"^col2im: cols must have L = 4 columns.*got L = 5"):
        upconv.col2im(np.zeros((1, 4, 5)), (3, 3), 2)
    with pytest.raises(ValueError,
                       match=r"^col2im: cols.shape\[-2\] must be a positive multiple of prod\(kernel_size\) = 4"):
        upconv.col2im(np.zeros((1, 6, 4)), (3, 3), 2)
    with pytest.raises(ValueError, match=r"^col2im: cols must have 2 \(unbatched\) or 3"):
        upconv.col2im(np.zeros((1, 1, 4, 4)), (3, 3), 2)
    with pytest.raises(ValueError, match=r"^col2im: the kernel is larger than the padded input"):
        upconv.col2im(np.zeros((1, 4, 4)), (1, 3), 2)
    with pytest.raises(ValueError, match=r"^im2col: x must have 3 \(unbatched\) or 4 \(batched\) dimensions"):
        upconv.im2col(np.zeros((4, 4)), 2)
    with pytest.raises(ValueError, match=r"^im2col: x must have 4 \(unbatched\) or 5"):
        upconv.im2col(np.zeros((1, 4, 4)), (2, 2, 2))
    with pytest.raises(ValueError, match=r"^im2col: the kernel is larger than the padded input"):
        upconv.im2col(np.zeros((1, 1, 2, 2)), 3)
    with pytest.raises(ValueError, match=r"^im2col: stride must be an integer or a sequence of 2"):
        upconv.im2col(np.zeros((1, 1, 4, 4)), (2, 2), stride=(1, 1, 1))
    with pytest.raises(TypeError, match=r"^im2col: x must be a real numeric array"):
        upconv.im2col(np.array([["a"]]), 1)


def test_memory_limit():
    upconv.set_memory_limit(1000)
    try:
        with pytest.raises(MemoryError, match=r"^im2col: the column matrix"):
            upconv.im2col(np.zeros((1, 1, 8, 8)), 3)
        with pytest.raises(MemoryError, match=r"^col2im: the output"):
            upconv.col2im(np.zeros((1, 9, 4)), (30, 30), 3, stride=14)
    finally:
        upconv.set_memory_limit(None)


# --------------------------------------------------------------------------
# torch F.unfold / F.fold


@pytest.mark.parametrize(("size", "k", "s", "p", "d"), _random_2d_configs(24, 7))
def test_against_torch(size, k, s, p, d):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = _rand(2, 3, *size)
    ours = upconv.im2col(x, k, stride=s, padding=p, dilation=d)
    theirs = F.unfold(torch.from_numpy(x), k, dilation=d, padding=p, stride=s).numpy()
    np.testing.assert_array_equal(ours, theirs)
    c = _rand(*theirs.shape)
    np.testing.assert_allclose(
        upconv.col2im(c, size, k, stride=s, padding=p, dilation=d),
        F.fold(torch.from_numpy(c), size, k, dilation=d, padding=p, stride=s).numpy(),
        rtol=1e-12,
        atol=1e-12,
    )
    # unbatched, as torch allows
    np.testing.assert_array_equal(
        upconv.im2col(x[0], k, stride=s, padding=p, dilation=d),
        F.unfold(torch.from_numpy(x[0]), k, dilation=d, padding=p, stride=s).numpy(),
    )
    np.testing.assert_allclose(
        upconv.col2im(c[0], size, k, stride=s, padding=p, dilation=d),
        F.fold(torch.from_numpy(c[0]), size, k, dilation=d, padding=p, stride=s).numpy(),
        rtol=1e-12,
        atol=1e-12,
    )


def test_int_arguments_mean_2d_like_torch():
    torch = pytest.importorskip("torch")
    x = _rand(3, 6, 5)  # unbatched 2-d, as torch reads a 3-d input with an int kernel_size
    np.testing.assert_array_equal(
        upconv.im2col(x, 2, stride=2, padding=1),
        torch.nn.functional.unfold(torch.from_numpy(x), 2, padding=1, stride=2).numpy(),
    )


# --------------------------------------------------------------------------
# ONNX Col2Im-18


def _onnx_col2im(cols, image_shape, block_shape, strides, pads, dilations):
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    node = helper.make_node(
        "Col2Im", ["input", "image_shape", "block_shape"], ["output"],
        strides=list(strides), pads=list(pads), dilations=list(dilations),
    )
    graph = helper.make_graph(
        [node],
        "col2im",
        [
            helper.make_tensor_value_info("input", TensorProto.DOUBLE, None),
            helper.make_tensor_value_info("image_shape", TensorProto.INT64, None),
            helper.make_tensor_value_info("block_shape", TensorProto.INT64, None),
        ],
        [helper.make_tensor_value_info("output", TensorProto.DOUBLE, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    feeds = {
        "input": cols,
        "image_shape": np.array(image_shape, dtype=np.int64),
        "block_shape": np.array(block_shape, dtype=np.int64),
    }
    return ReferenceEvaluator(model).run(None, feeds)[0]


@pytest.mark.parametrize(
    ("image", "block", "strides", "pads", "dilations"),
    [
        ((5, 5), (2, 2), (1, 1), ((0, 0), (0, 0)), (1, 1)),
        ((5, 6), (3, 2), (2, 1), ((1, 0), (2, 1)), (1, 2)),
        ((4, 5, 3), (2, 2, 1), (1, 2, 1), ((0, 1), (1, 0), (0, 2)), (1, 1, 2)),
        ((5, 4, 4), (3, 2, 2), (2, 1, 2), ((1, 2), (0, 0), (1, 1)), (1, 2, 1)),
    ],
)
def test_against_onnx_reference(image, block, strides, pads, dilations):
    n = len(image)
    C = 2
    blocks = upconv.shapes.conv_output_size(image, block, strides, pads, dilations)
    cols = _rand(2, C * int(np.prod(block)), int(np.prod(blocks)))
    onnx_pads = [b for b, _ in pads] + [e for _, e in pads]  # [b_1..b_n, e_1..e_n]
    expected = _onnx_col2im(cols, image, block, strides, onnx_pads, dilations)
    ours = upconv.col2im(cols, image, block, stride=strides, padding=pads, dilation=dilations)
    assert ours.shape == (2, C) + tuple(image) and len(image) == n
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


def _onnx_backend_cases():
    try:
        module = importlib.import_module("onnx.backend.test.case.node.col2im")
    except ImportError:
        return []
    cases = []

    def expect(node, inputs, outputs, name, **kwargs):
        import onnx

        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        cases.append(pytest.param(attrs, inputs, outputs[0], id=name))

    original = module.expect
    module.expect = expect
    try:
        for attr in sorted(vars(module.Col2Im)):
            if attr.startswith("export"):
                getattr(module.Col2Im, attr)()
    finally:
        module.expect = original
    return cases


@pytest.mark.parametrize(("attrs", "inputs", "expected"), _onnx_backend_cases())
def test_onnx_backend_cases(attrs, inputs, expected):
    cols, image_shape, block_shape = inputs
    n = len(image_shape)
    pads = attrs.get("pads", [0] * 2 * n)
    ours = upconv.col2im(
        cols,
        tuple(int(v) for v in image_shape),
        tuple(int(v) for v in block_shape),
        stride=tuple(attrs.get("strides", [1] * n)),
        padding=tuple(zip(pads[:n], pads[n:], strict=True)),
        dilation=tuple(attrs.get("dilations", [1] * n)),
    )
    np.testing.assert_allclose(ours, expected, rtol=1e-6)
