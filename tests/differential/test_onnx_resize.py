"""Tests of upconv.resize against ONNX Resize (opset 19).

The oracle is ``onnx.reference.ReferenceEvaluator`` running a one-node
Resize model (skipped without onnx): random configurations over every
attribute must agree bit for bit, in float32 and float64.  The official
backend test cases (``onnx.backend.test.case.node.resize``) are checked too;
their cubic expectations use a double-precision ``cubic_coeff_a`` where the
reference (and upconv) use the float32 attribute value, hence a tolerance.

Where onnx.reference deviates from the written spec upconv follows it:

* ``roi`` does not change the output size computed from ``scales``;
* ``pytorch_half_pixel`` samples ``-0.5`` (not 0) for an output of length 1;
* ``cubic_coeff_a`` is a float32 and the cubic polynomial is evaluated in
  float32 (numpy scalar promotion), normalisations follow numpy's order;
* with ``exclude_outside`` a nearest sample outside the input gives 0.
"""

from __future__ import annotations

import numpy as np
import pytest

import upconv
from upconv import shapes
from upconv.ops import resample_onnx

CTM = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]


def onnx_resize(x, sizes=None, scales=None, roi=None, **attrs):
    """Run a one-node Resize-19 model with onnx.reference (roi as a double tensor)."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    names = ["X", "roi" if roi is not None else "", "scales" if scales is not None else "",
             "sizes" if sizes is not None else ""]
    while names[-1] == "":
        names.pop()
    ttype = helper.np_dtype_to_tensor_dtype(x.dtype)
    inputs = [helper.make_tensor_value_info("X", ttype, x.shape)]
    feeds = {"X": x}
    for name, value, dtype, proto in [("roi", roi, np.float64, TensorProto.DOUBLE),
                                      ("scales", scales, np.float32, TensorProto.FLOAT),
                                      ("sizes", sizes, np.int64, TensorProto.INT64)]:
        if value is not None:
            inputs.append(helper.make_tensor_value_info(name, proto, [len(value)]))
            feeds[name] = np.asarray(value, dtype)
    node = helper.make_node("Resize", names, ["Y"], **attrs)
    graph = helper.make_graph([node], "resize", inputs, [helper.make_tensor_value_info("Y", ttype, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    return ReferenceEvaluator(model).run(None, feeds)[0]


def _random_case(seed):
    rng = np.random.default_rng(seed)
    r = int(rng.integers(1, 5))
    shape = tuple(int(rng.integers(1, 9)) for _ in range(r))
    dtype = np.float32 if rng.random() < 0.5 else np.float64
    x = rng.standard_normal(shape).astype(dtype)
    mode = ["nearest", "linear", "cubic"][seed % 3]
    axes = None
    if rng.random() < 0.4:
        axes = [int(a) for a in rng.permutation(r)[: int(rng.integers(1, r + 1))]]
    listed = axes if axes is not None else list(range(r))
    kw = {"mode": mode, "coordinate_transformation_mode": CTM[int(rng.integers(len(CTM)))]}
    if mode == "nearest":
        kw["nearest_mode"] = NEAREST[int(rng.integers(4))]
    if mode == "cubic" and rng.random() < 0.5:
        kw["cubic_coeff_a"] = float(rng.choice([-0.5, -0.75, -0.6]))
    if rng.random() < 0.3:
        kw["exclude_outside"] = 1
    if mode != "nearest" and rng.random() < 0.4:
        kw["antialias"] = 1
    if axes is not None:
        kw["axes"] = axes
    sizes = scales = roi = None
    if rng.random() < 0.5:
        sizes = [int(rng.integers(1, 14)) for _ in listed]
        if rng.random() < 0.3:
            kw["keep_aspect_ratio_policy"] = str(rng.choice(["not_larger", "not_smaller"]))
    else:
        choices = [0.5, 2.0, 1.0, 1.5, 0.6, 0.3, 3.0, 1.7, 0.8]
        scales = [float(rng.choice(choices)) if rng.random() < 0.7 else float(rng.uniform(0.3, 3)) for _ in listed]
    if kw["coordinate_transformation_mode"] == "tf_crop_and_resize":
        start = [float(rng.uniform(-0.3, 0.6)) if rng.random() < 0.7 else 0.0 for _ in listed]
        end = [s + float(rng.uniform(0.1, 1.0)) if rng.random() < 0.7 else 1.0 for s in start]
        roi = start + end
        kw["extrapolation_value"] = float(rng.choice([0.0, -1.0, 2.5]))
    return x, sizes, scales, roi, kw


@pytest.mark.parametrize("seed", range(240))
def test_matches_onnx_reference_bit_for_bit(seed):
    x, sizes, scales, roi, kw = _random_case(seed)
    expected = onnx_resize(x, sizes, scales, roi, **kw)
    y = upconv.resize(x, sizes, scales, roi, **kw)
    assert y.shape == expected.shape and y.dtype == expected.dtype
    np.testing.assert_array_equal(y, expected)


def test_float16_is_computed_in_double_and_rounded_once():
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 6)).astype(np.float16)
    kw = {"mode": "cubic", "coordinate_transformation_mode": "align_corners"}
    y = upconv.resize(x, sizes=[1, 2, 9, 4], **kw)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y, onnx_resize(x, sizes=[1, 2, 9, 4], **kw))


def _backend_cases():
    try:
        import onnx.backend.test.case.node.resize as cases
        from onnx import helper
    except ImportError:  # pragma: no cover - onnx not installed
        return []
    found = []
    saved = cases.expect
    cases.expect = lambda node, inputs, outputs, name, **kw: found.append((node, inputs, outputs, name))
    try:
        for name in dir(cases.Resize):
            if name.startswith("export"):
                getattr(cases.Resize, name)()
    finally:
        cases.expect = saved
    out = []
    for node, inputs, outputs, name in found:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
        if "axes" in attrs:
            attrs["axes"] = list(attrs["axes"])
        feed = dict(zip([n for n in node.input if n], inputs, strict=True))
        slots = list(node.input) + [""] * (4 - len(node.input))
        given = [feed[n] if n else None for n in slots]  # X, roi, scales, sizes; empty = absent
        x, roi, scales, sizes = [None if v is not None and v.size == 0 else v for v in given]
        out.append(pytest.param(x, sizes, scales, roi, attrs, outputs[0], id=name))
    return out


@pytest.mark.parametrize("x, sizes, scales, roi, attrs, expected", _backend_cases())
def test_onnx_backend_cases(x, sizes, scales, roi, attrs, expected):
    y = upconv.resize(x, None if sizes is None else list(sizes), None if scales is None else list(scales),
                      None if roi is None else list(roi), **attrs)
    assert y.shape == expected.shape and y.dtype == expected.dtype
    if attrs.get("mode") == "cubic":  # expectations computed with a double cubic_coeff_a
        np.testing.assert_allclose(y, expected, rtol=0, atol=2e-6 * np.abs(expected).max())
    else:
        np.testing.assert_array_equal(y, expected)


# --------------------------------------------------------------------------
# properties and hand-checked values


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
@pytest.mark.parametrize("ctm", CTM)
def test_same_size_is_identity(mode, ctm):
    """Scale 1 maps every output index onto itself for every coordinate mode (roi [0, 1])."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 5))
    extra = {"roi": [0, 0, 0, 0, 1, 1, 1, 1]} if ctm == "tf_crop_and_resize" else {}
    for options in ({}, {"exclude_outside": 1}, {"antialias": 1} if mode != "nearest" else {}):
        kw = {"mode": mode, "coordinate_transformation_mode": ctm, **options, **extra}
        np.testing.assert_array_equal(upconv.resize(x, sizes=x.shape, **kw), x)
        np.testing.assert_array_equal(upconv.resize(x, scales=[1, 1, 1, 1], **kw), x)


@pytest.mark.parametrize("ctm", CTM)
def test_coordinates_at_scale_one_are_the_identity(ctm):
    """The coordinate transforms themselves (not only the engine's skip) map y -> y at scale 1;
    pytorch_half_pixel is the exception for an output of length 1 (-0.5)."""
    y = np.arange(6.0)
    np.testing.assert_array_equal(resample_onnx.ONNX_COORDINATES[ctm](y, 1.0, 6, 6.0, 6, (0.0, 1.0)), y)
    one = resample_onnx.ONNX_COORDINATES[ctm](np.zeros(1), 1.0, 1, 1.0, 1, (0.0, 1.0))
    assert one[0] == (-0.5 if ctm == "pytorch_half_pixel" else 0.0)
    # at an integral coordinate (ratio 1) the cubic weights are one-hot on the sample itself
    weights = resample_onnx.ONNX_COEFFICIENTS["cubic", False](np.ones(1), 1.0, resample_onnx.OnnxAxis("cubic"))
    np.testing.assert_array_equal(weights, [[0, 0, 1, 0]])


def test_tf_crop_and_resize_extrapolates():
    x = np.arange(4.0).reshape(1, 4)
    y = upconv.resize(x, sizes=[4], axes=[1], roi=[0.5, 1.5], mode="linear",
                      coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=-1)
    np.testing.assert_array_equal(y, [[1.5, 2.5, -1, -1]])


def test_keep_aspect_ratio_policy():
    x = np.zeros((1, 1, 4, 8))
    assert upconv.resize(x, sizes=[8, 8], axes=[2, 3], keep_aspect_ratio_policy="not_larger").shape == (1, 1, 4, 8)
    assert upconv.resize(x, sizes=[8, 8], axes=[2, 3], keep_aspect_ratio_policy="not_smaller").shape == (1, 1, 8, 16)
    assert shapes.resize_output_size((1, 1, 4, 8), sizes=(6, 6), axes=(-2, -1),
                                     keep_aspect_ratio_policy="not_larger") == (1, 1, 3, 6)


def test_negative_axes_equal_positive_axes():
    x = np.random.default_rng(6).standard_normal((2, 3, 5, 4)).astype(np.float32)
    kw = {"mode": "cubic", "antialias": 1}
    np.testing.assert_array_equal(upconv.resize(x, sizes=[3, 7], axes=[-2, -1], **kw),
                                  upconv.resize(x, sizes=[3, 7], axes=[2, 3], **kw))


def test_nearest_rounding_modes():
    x = np.arange(4.0)
    # asymmetric, scale 2: x = y / 2 = 0, 0.5, 1, 1.5, ...
    got = {m: upconv.resize(x, scales=[2], mode="nearest", coordinate_transformation_mode="asymmetric",
                            nearest_mode=m) for m in NEAREST}
    np.testing.assert_array_equal(got["round_prefer_floor"], [0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(got["round_prefer_ceil"], [0, 1, 1, 2, 2, 3, 3, 3])
    np.testing.assert_array_equal(got["floor"], [0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(got["ceil"], [0, 1, 1, 2, 2, 3, 3, 3])


def test_input_is_not_modified_and_zero_sized_outputs():
    x = np.random.default_rng(7).standard_normal((2, 3, 4))
    keep = x.copy()
    assert upconv.resize(x, scales=[1, 1, 0.1], mode="linear").shape == (2, 3, 0)
    assert upconv.resize(x, sizes=[2, 3, 0]).shape == (2, 3, 0)
    np.testing.assert_array_equal(x, keep)


INVALID = [
    ({}, ValueError, "exactly one of sizes and scales"),
    ({"sizes": [1, 1, 4, 4], "scales": [1, 1, 2, 2]}, ValueError, "exactly one of sizes and scales"),
    ({"sizes": [4, 4]}, ValueError, "sizes must be an integer or a sequence of 4 integers"),
    ({"scales": [2, 2]}, ValueError, "scales must have 4 entries"),
    ({"scales": 2.0}, TypeError, "scales must be a sequence"),
    ({"scales": [1, 1, 0, 2]}, ValueError, "finite and > 0"),
    ({"scales": [1, 1, float("nan"), 2]}, ValueError, "finite and > 0"),
    ({"sizes": [1, 1, -1, 2]}, ValueError, "must be >= 0"),
    ({"sizes": [1, 1, 2.5, 2]}, TypeError, "sizes must contain integers"),
    ({"sizes": [4, 4], "axes": [2, 2]}, ValueError, "must not repeat an axis"),
    ({"sizes": [4], "axes": [4]}, ValueError, r"axes must be in \[-4, 3\]"),
    ({"sizes": [4], "axes": 2}, TypeError, "axes must be a sequence"),
    ({"scales": [1, 1, 2, 2], "mode": "bilinear"}, ValueError, "mode must be one of"),
    ({"scales": [1, 1, 2, 2], "coordinate_transformation_mode": "foo"}, ValueError, "coordinate_transformation_mode"),
    ({"scales": [1, 1, 2, 2], "nearest_mode": "round"}, ValueError, "nearest_mode must be one of"),
    ({"scales": [1, 1, 2, 2], "keep_aspect_ratio_policy": "fit"}, ValueError, "keep_aspect_ratio_policy"),
    ({"scales": [1, 1, 2, 2], "antialias": 1}, ValueError, "antialias is not supported for mode='nearest'"),
    ({"scales": [1, 1, 2, 2], "mode": "linear", "antialias": 2}, TypeError, "antialias must be"),
    ({"scales": [1, 1, 2, 2], "exclude_outside": "yes"}, TypeError, "exclude_outside must be"),
    ({"scales": [1, 1, 2, 2], "cubic_coeff_a": "a"}, TypeError, "cubic_coeff_a must be a real number"),
    ({"scales": [1, 1, 2, 2], "coordinate_transformation_mode": "tf_crop_and_resize"}, ValueError, "needs roi"),
    ({"scales": [1, 1, 2, 2], "roi": [0, 1], "coordinate_transformation_mode": "tf_crop_and_resize"},
     ValueError, "roi must have 8 entries"),
]


@pytest.mark.parametrize("kwargs, error, message", INVALID, ids=[str(c[0]) for c in INVALID])
def test_invalid_arguments_raise(kwargs, error, message):
    with pytest.raises(error, match=f"^resize: .*{message}"):
        upconv.resize(np.zeros((1, 1, 2, 2), np.float32), **kwargs)


def test_scalar_input_is_rejected():
    with pytest.raises(ValueError, match="at least one dimension"):
        upconv.resize(np.float32(1), scales=[])


# --------------------------------------------------------------------------
# property tests (hypothesis)


def test_identity_property_over_random_shapes_and_attributes():
    """Resizing to the input size (sizes = shape, or scales = 1) returns x exactly, for every mode,
    coordinate transformation, rounding mode, exclude_outside and antialias; interpolate likewise."""
    pytest.importorskip("hypothesis")
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=60, deadline=None)
    @given(
        shape=st.lists(st.integers(1, 5), min_size=1, max_size=4),
        mode=st.sampled_from(["nearest", "linear", "cubic"]),
        ctm=st.sampled_from(CTM),
        nearest_mode=st.sampled_from(NEAREST),
        exclude_outside=st.booleans(),
        antialias=st.booleans(),
        use_scales=st.booleans(),
        dtype=st.sampled_from([np.float16, np.float32, np.float64]),
        seed=st.integers(0, 2**16),
    )
    def check(shape, mode, ctm, nearest_mode, exclude_outside, antialias, use_scales, dtype, seed):
        x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
        kw = {"mode": mode, "coordinate_transformation_mode": ctm, "nearest_mode": nearest_mode,
              "exclude_outside": exclude_outside, "antialias": antialias and mode != "nearest"}
        if ctm == "tf_crop_and_resize":
            kw["roi"] = [0.0] * len(shape) + [1.0] * len(shape)
        y = upconv.resize(x, scales=[1.0] * len(shape), **kw) if use_scales else upconv.resize(x, sizes=shape, **kw)
        assert y.dtype == x.dtype
        np.testing.assert_array_equal(y, x)
        if 3 <= x.ndim <= 5:
            for m in ("nearest", "nearest-exact", "area", {3: "linear", 4: "bicubic", 5: "trilinear"}[x.ndim]):
                np.testing.assert_array_equal(upconv.interpolate(x, size=x.shape[2:], mode=m), x)

    check()
