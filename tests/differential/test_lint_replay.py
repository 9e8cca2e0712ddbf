"""``upconv lint --replay``: upconv recomputes every up-sampling node within 1e-5 (relative) of onnxruntime.

On the real architectures (tests/lint_zoo.py, real inputs computed by
onnxruntime up to each node; and their torch modules, against torch), on
one-node models over ConvTranspose's attributes (1-d to 3-d, groups,
dilation, pads, auto_pad, output_shape) and Resize's modes, and on the
fallback that runs each node alone on a random input.  Where onnxruntime
departs from the ONNX specification (align_corners with a fractional
length) the replay says so.
"""

from __future__ import annotations

import numpy as np
import pytest

import upconv

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from lint_zoo import one_node, resize_model, run_onnx  # noqa: E402

LIMIT = 1e-5


def assert_replayed(report, source="model"):
    assert report.replayed
    for layer in report.layers:
        assert layer.replay is not None and "skipped" not in layer.replay, (layer.name, layer.replay)
        assert layer.replay["input"] == source
        assert layer.replay["max_rel_diff"] <= LIMIT, (layer.name, layer.replay)
        assert "replay_mismatch" not in {f.code for f in layer.findings}


@pytest.mark.parametrize("name", ["dcgan", "unet", "fcn32s", "fcn8s", "espcn", "vae", "segnet", "vae_dynamic"])
def test_every_architecture_replays_within_1e5(lint_zoo, name):
    case = lint_zoo[name]
    report = upconv.lint(case.path, replay=True, input_size=(5, 6) if name == "vae_dynamic" else None)
    assert report.layers
    assert_replayed(report)
    if name != "vae_dynamic":
        assert_replayed(upconv.lint(case.module, example_input=case.inputs, replay=True), "torch")


def test_replay_numbers_are_the_differences_to_onnxruntime(lint_zoo):
    """The reported max abs / rel differences, recomputed from onnxruntime's outputs and the upconv call."""
    case = lint_zoo["dcgan"]
    report = upconv.lint(case.path, replay=True)
    model = onnx.load(str(case.path))
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    nodes = {n.name: n for n in model.graph.node}
    for n in model.graph.node:
        model.graph.output.extend([onnx.ValueInfoProto(name=v) for v in list(n.input[:1]) + list(n.output)
                                   if v not in inits and v not in {o.name for o in model.graph.output}])
    x = np.random.default_rng(0).standard_normal((1, 16, 1, 1)).astype(np.float32)  # replay's input (seed 0)
    names = [o.name for o in model.graph.output]
    values = dict(zip(names, run_onnx(model, {next(iter(report.inputs)): x}, "onnxruntime"), strict=True))
    for layer in report.layers:
        node = nodes[layer.name]
        got = eval(layer.upconv_call, {"upconv": upconv, "x": values[node.input[0]], "w": inits[node.input[1]]})
        ref = values[node.output[0]]
        diff = np.abs(got.astype(np.float64) - ref).max()
        assert layer.replay["max_abs_diff"] == pytest.approx(diff, abs=1e-12)
        assert layer.replay["max_rel_diff"] == pytest.approx(diff / np.abs(ref).max(), abs=1e-12)


CONV_TRANSPOSE = [
    dict(shape=(1, 2, 5), k=(3,), strides=[2]),
    dict(shape=(1, 2, 5, 4), k=(3, 3), strides=[2, 2], pads=[1, 0, 1, 1], output_padding=[1, 0]),
    dict(shape=(1, 4, 4, 4), k=(4, 4), strides=[2, 2], pads=[1, 1, 1, 1], group=2),
    dict(shape=(1, 2, 4, 4), k=(3, 3), strides=[2, 2], auto_pad="SAME_UPPER"),
    dict(shape=(1, 2, 4, 4), k=(3, 3), strides=[2, 2], auto_pad="SAME_LOWER"),
    dict(shape=(1, 2, 4, 4), k=(3, 3), strides=[3, 2], output_shape=[11, 8]),
    dict(shape=(1, 2, 4, 4), k=(3, 2), strides=[2, 2], dilations=[2, 1]),
    dict(shape=(1, 2, 3, 3, 3), k=(2, 3, 2), strides=[2, 1, 2], pads=[0, 1, 0, 0, 1, 0]),
]


def _id(case: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in case.items() if k != "shape")


@pytest.mark.parametrize("case", CONV_TRANSPOSE, ids=_id)
def test_conv_transpose_attributes_replay(case):
    case = dict(case)
    shape, k = case.pop("shape"), case.pop("k")
    g = case.get("group", 1)
    rng = np.random.default_rng(0)
    w = rng.standard_normal((shape[1], 3, *k)).astype(np.float32)
    b = rng.standard_normal(3 * g).astype(np.float32)
    report = upconv.lint(one_node("ConvTranspose", shape, [w, b], opset=17, **case), replay=True)
    assert_replayed(report)


RESIZE = [
    dict(scales=[1, 1, 2, 2], mode="nearest"),
    dict(sizes=[1, 1, 7, 9], mode="nearest", nearest_mode="round_prefer_ceil"),
    dict(sizes=[1, 1, 7, 9], mode="linear", coordinate_transformation_mode="asymmetric"),
    dict(scales=[1, 1, 2, 3], mode="cubic", exclude_outside=1),
    dict(sizes=[1, 1, 9, 10], mode="cubic", cubic_coeff_a=-0.5, coordinate_transformation_mode="align_corners"),
    dict(sizes=[9], axes=[3], mode="linear", coordinate_transformation_mode="half_pixel_symmetric"),
    dict(sizes=[1, 1, 1, 12], mode="linear", coordinate_transformation_mode="pytorch_half_pixel"),
    dict(sizes=[1, 1, 9, 9], roi=[0, 0, 0.2, 0.1, 1, 1, 0.9, 0.8], mode="linear",
         coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=0.5),
    dict(scales=[1, 1, 2.5, 1.5], mode="nearest", coordinate_transformation_mode="half_pixel", nearest_mode="ceil"),
    dict(sizes=[8, 8], axes=[2, 3], mode="linear", keep_aspect_ratio_policy="not_larger"),
    dict(scales=[1, 1, 0.5, 0.6], mode="cubic", antialias=1),
]


@pytest.mark.parametrize("case", RESIZE, ids=_id)
def test_resize_modes_replay(case):
    assert_replayed(upconv.lint(resize_model((1, 1, 5, 6), **case), replay=True))


def test_onnxruntime_departing_from_the_spec_is_reported():
    """align_corners with scales: onnxruntime divides by the integer length, the spec (and upconv) by in*scale."""
    report = upconv.lint(resize_model((1, 1, 5, 5), scales=[1, 1, 1.5, 1.5], mode="linear",
                                      coordinate_transformation_mode="align_corners"), replay=True)
    layer = report.layers[0]
    assert layer.replay["max_rel_diff"] > LIMIT
    assert {"align_corners_scales", "replay_mismatch"} <= {f.code for f in layer.findings}


def test_random_input_fallback_when_the_model_cannot_run(lint_zoo, monkeypatch):
    from upconv.linter import replay

    monkeypatch.setattr(replay, "_ort_values", lambda *a: ({}, "onnxruntime", "onnxruntime could not run it"))
    for name in ("dcgan", "unet", "espcn", "vae", "segnet"):
        assert_replayed(upconv.lint(lint_zoo[name].path, replay=True), "random")


def test_upsample_depth_to_space_and_max_unpool_nodes_replay():
    rng = np.random.default_rng(2)
    for mode in ("nearest", "linear"):  # Upsample-9 = Resize with asymmetric coordinates (and floor)
        report = upconv.lint(one_node("Upsample", (1, 1, 4, 5), [np.array([1, 1, 2, 3], np.float32)], opset=9,
                                      mode=mode), replay=True)
        assert_replayed(report)
        assert report.layers[0].out_shape == (1, 1, 8, 15)
    dcr = upconv.lint(one_node("DepthToSpace", (1, 8, 3, 4), opset=13, blocksize=2, mode="DCR"), replay=True)
    assert_replayed(dcr)
    assert dcr.layers[0].torch_call is None and "dcr_order" in {f.code for f in dcr.layers[0].findings}
    _, idx = upconv.max_pool(rng.standard_normal((1, 2, 8, 8)), 2, return_indices=True)
    offsets = (np.arange(2) * 64).reshape(1, 2, 1, 1)
    unpool = upconv.lint(one_node("MaxUnpool", (1, 2, 4, 4), [idx + offsets], opset=11, kernel_shape=[2, 2],
                                  strides=[2, 2]), replay=True)
    assert_replayed(unpool)
    assert unpool.layers[0].upconv_call == "upconv.max_unpool(x, indices % 64, kernel_size=2, stride=2)"


def test_resize_sizes_computed_from_the_input_shape(tmp_path):
    """torch exports Upsample(size=...) as Shape -> Slice -> Concat: folded from the (given) input size."""
    torch = pytest.importorskip("torch")
    from lint_zoo import _export

    m = torch.nn.Sequential(torch.nn.Conv2d(2, 2, 3, padding=1), torch.nn.Upsample(size=(7, 9), mode="bilinear"))
    x = torch.randn(1, 2, 5, 6)
    static, dynamic = tmp_path / "static.onnx", tmp_path / "dynamic.onnx"
    _export(torch, m.eval(), (x,), static, ("x",))
    _export(torch, m, (x,), dynamic, ("x",), dynamic={"x": {0: "N", 2: "H", 3: "W"}})
    assert {n.op_type for n in onnx.load(str(static)).graph.node} >= {"Shape", "Slice", "Concat", "Resize"}
    for report in (upconv.lint(static, replay=True), upconv.lint(dynamic, input_size=(5, 6), replay=True),
                   upconv.lint(m, example_input=x, replay=True)):
        assert report.layers[0].out_shape == (1, 2, 7, 9)
        assert report.layers[0].torch_call == 'F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=False)'
        assert_replayed(report, "torch" if report.source == "torch" else "model")
