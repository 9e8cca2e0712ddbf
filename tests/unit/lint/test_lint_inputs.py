"""Bad input: a clear one-line error, or a row that says what was skipped and why; never a crash."""

from __future__ import annotations

import numpy as np
import pytest

import upconv
from upconv.linter.graph import ModelError

onnx = pytest.importorskip("onnx")

from lint_zoo import one_node, resize_model  # noqa: E402


def one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    return message


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "notes.onnx"
    path.write_text("these are not the weights you are looking for\n")
    with pytest.raises(ModelError, match=r"is not an ONNX model") as exc:
        upconv.lint(path)
    assert exc.value.argument == "model"
    one_line(exc)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"cannot read '.*nothing\.onnx': No such file or directory"):
        upconv.lint(tmp_path / "nothing.onnx")


def test_every_truncation_of_a_model_is_a_one_line_error():
    data = resize_model((1, 1, 4, 4), scales=[1, 1, 2, 2]).SerializeToString()
    for cut in range(1, len(data), 3):
        with pytest.raises(ModelError) as exc:
            upconv.lint(data[:cut])
        one_line(exc)


def test_model_without_upsampling():
    w = np.ones((2, 1, 3, 3), np.float32)
    report = upconv.lint(one_node("Conv", (1, 1, 6, 6), [w], pads=[1, 1, 1, 1]))
    assert report.layers == [] and not report.flagged
    assert report.op_counts == {"Conv": 1}
    assert "no up-sampling layer" in str(report)


def test_unknown_dynamic_size_is_an_error_naming_the_option():
    model = resize_model((1, 1, 4, 4), scales=[1, 1, 2, 2], x_dims=(1, 1, "H", "W"))
    with pytest.raises(ModelError, match=r"input 'x' has dynamic size \(1, 1, H, W\)") as exc:
        upconv.lint(model)
    assert exc.value.argument == "input_size"
    assert upconv.lint(model, input_size=(3, 5)).layers[0].out_shape == (1, 1, 6, 10)


def test_dynamic_batch_alone_is_taken_as_one():
    report = upconv.lint(resize_model((1, 1, 4, 4), scales=[1, 1, 2, 2], x_dims=("N", 1, 4, 4)))
    assert report.inputs == {"x": (1, 1, 4, 4)}
    assert report.notes == ["dynamic batch size 'N' of input 'x' taken as 1"]


def test_resize_10_is_skipped_with_the_reason():
    model = one_node("Resize", (1, 1, 4, 4), [np.array([1, 1, 2, 2], np.float32)], opset=10, mode="nearest")
    report = upconv.lint(model)
    layer = report.layers[0]
    assert layer.skipped.startswith("Resize-10 (opset 10) is not a version upconv knows (Resize-11, Resize-13")
    assert "coordinate mapping unspecified" in layer.skipped
    assert not report.flagged and report.summary()["skipped"] == 1
    assert "[SKIPPED] /resize" in str(report)


def test_an_opset_newer_than_onnx_knows_is_skipped():
    w = np.ones((1, 1, 3, 3), np.float32)
    model = one_node("ConvTranspose", (1, 1, 4, 4), [w], opset=onnx.defs.onnx_opset_version() + 10, strides=[2, 2])
    layer = upconv.lint(model).layers[0]
    assert layer.skipped and "is newer than this onnx package knows" in layer.skipped


def test_scales_computed_at_run_time_are_a_skipped_row():
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Resize", ["x", "", "s"], ["y"], name="/up"), helper.make_node("Relu", ["y"], ["z"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4]),
                                           helper.make_tensor_value_info("s", TensorProto.FLOAT, None)],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    with pytest.raises(ModelError, match="input 's' declares no shape: give its size"):
        upconv.lint(model)
    graph.input[1].CopyFrom(helper.make_tensor_value_info("s", TensorProto.FLOAT, [4]))
    report = upconv.lint(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)]))
    assert report.layers[0].skipped == "Resize's scales/sizes are computed at run time (not constant)"
    assert upconv.lint(model, input_size={"x": (1, 1, 4, 4), "s": (4,)}).layers[0].skipped


def test_invalid_conv_transpose_attributes_are_a_skipped_row():
    w = np.ones((1, 1, 3, 3), np.float32)
    layer = upconv.lint(one_node("ConvTranspose", (1, 1, 3, 3), [w], strides=[2, 2], output_shape=[10, 10])).layers[0]
    assert "negative begin padding has no conv_transpose equivalent" in layer.skipped


def test_wrong_model_types():
    with pytest.raises(TypeError, match="model must be an ONNX file, a ModelProto, a torch.nn.Module or a state dict"):
        upconv.lint(42)
    with pytest.raises(ValueError, match="a state dict needs config="):
        upconv.lint({"w": np.ones(3)})


def test_state_dict_config_errors():
    with pytest.raises(ValueError, match="has no 'up.weight' in the state dict"):
        upconv.lint({}, config=[{"name": "up", "type": "ConvTranspose2d", "stride": 2}], input_size=(1, 1, 4, 4))
    with pytest.raises(ValueError, match="input_size: a state dict needs"):
        upconv.lint({"up.weight": np.ones((1, 1, 2, 2))}, config=[{"name": "up", "type": "ConvTranspose2d"}])


def test_torch_module_errors():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="needs example_input= .* or input_size="):
        upconv.lint(torch.nn.Upsample(scale_factor=2))
    with pytest.raises(ValueError, match=r"the module's forward failed on an input of shape \(1, 5, 4, 4\): "
                                         r"RuntimeError: "):
        upconv.lint(torch.nn.ConvTranspose2d(3, 2, 2), input_size=(1, 5, 4, 4))


def test_a_skipped_convolution_ends_paths_without_a_crash():
    from upconv.linter.checks import analyse
    from upconv.linter.graph import Graph, Node, path_layers

    conv = Node("conv", "conv", "Conv", ("x",), ("c",), in_shape=(1, 1, 4, 4), out_shape=(1, 4, 4, 4),
                skipped="Conv-99 is not a version upconv knows")
    ct = Node("ct", "conv_transpose", "ConvTranspose", ("c",), ("y",), in_shape=(1, 4, 4, 4), out_shape=(1, 1, 8, 8),
              params={"kernel_size": (2, 2), "stride": (2, 2), "dilation": (1, 1), "groups": 1,
                      "padding": ((0, 0), (0, 0)), "output_padding": (0, 0)}, weight=np.ones((4, 1, 2, 2)))
    d2s = Node("d2s", "depth_to_space", "DepthToSpace", ("c",), ("z",), in_shape=(1, 4, 4, 4),
               out_shape=(1, 1, 8, 8), params={"blocksize": 2, "mode": "CRD"})
    graph = Graph([conv, ct, d2s], source="onnx", description="synthetic")
    assert [n.name for n, _ in path_layers(graph, ct)] == ["ct"]
    layers = analyse(graph)
    assert [L.name for L in layers] == ["ct", "d2s"] and layers[0].geometry["stack"] is None
    assert layers[1].weights["note"].startswith("the input is not the output of a stride-1 convolution")
