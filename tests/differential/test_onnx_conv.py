"""ONNX Conv / ConvTranspose backend test cases, replayed through upconv.

The cases come from ``onnx.backend.test.case.node.{conv,convtranspose}``: each
``export_*`` function builds a node and its expected output and hands them to
``expect``, which we replace by a collector.  Padding attributes go through
:func:`upconv.shapes.same_padding` and
:func:`upconv.shapes.onnx_conv_transpose_padding`.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import upconv
from upconv import shapes

onnx = pytest.importorskip("onnx", reason="the ONNX backend test cases come with the onnx package")


def _collect(module_name, class_name):
    module = importlib.import_module(f"onnx.backend.test.case.node.{module_name}")
    cases = []

    def expect(node, inputs, outputs, name, **kwargs):
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        cases.append(pytest.param(attrs, inputs, outputs[0], id=name))

    original = module.expect
    module.expect = expect
    try:
        cls = getattr(module, class_name)
        for attr in sorted(vars(cls)):
            if attr.startswith("export"):
                getattr(cls, attr)()
    finally:
        module.expect = original
    return cases


def _decode(value, default):
    return value.decode() if isinstance(value, bytes) else default


CONV_CASES = _collect("conv", "Conv")
CONV_TRANSPOSE_CASES = _collect("convtranspose", "ConvTranspose")


def test_cases_were_collected():
    assert len(CONV_CASES) >= 5
    assert len(CONV_TRANSPOSE_CASES) >= 10


@pytest.mark.parametrize(("attrs", "inputs", "expected"), CONV_CASES)
def test_onnx_conv(attrs, inputs, expected):
    x, w, *rest = inputs
    n = w.ndim - 2
    stride, dilation = attrs.get("strides", 1), attrs.get("dilations", 1)
    auto_pad = _decode(attrs.get("auto_pad"), "NOTSET")
    if auto_pad.startswith("SAME"):
        pads = shapes.same_padding(x.shape[2:], w.shape[2:], stride, dilation, mode=auto_pad.lower())
    else:
        p = attrs.get("pads", [0] * 2 * n) if auto_pad == "NOTSET" else [0] * 2 * n
        pads = tuple(zip(p[:n], p[n:]))
    y = upconv.conv(x, w, rest[0] if rest else None, stride, pads, dilation, attrs.get("group", 1))
    assert y.shape == expected.shape
    assert y.dtype == expected.dtype
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("method", ["auto", "scatter", "zero_insertion", "matrix", "phase"])
@pytest.mark.parametrize(("attrs", "inputs", "expected"), CONV_TRANSPOSE_CASES)
def test_onnx_conv_transpose(attrs, inputs, expected, method):
    x, w, *rest = inputs
    stride, dilation = attrs.get("strides", 1), attrs.get("dilations", 1)
    padding, output_padding = shapes.onnx_conv_transpose_padding(
        x.shape[2:],
        w.shape[2:],
        stride,
        dilation,
        pads=attrs.get("pads"),
        auto_pad=_decode(attrs.get("auto_pad"), "NOTSET"),
        output_shape=attrs.get("output_shape"),
        output_padding=attrs.get("output_padding", 0),
    )
    y = upconv.conv_transpose(
        x,
        w,
        rest[0] if rest else None,
        stride,
        padding,
        output_padding,
        attrs.get("group", 1),
        dilation,
        method=method,
    )
    assert y.shape == expected.shape
    assert y.dtype == expected.dtype
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
