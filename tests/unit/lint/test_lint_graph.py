"""Shape and weight guards: a node a reader could not fully describe is a one-line error naming it, not a crash."""

from __future__ import annotations

import numpy as np
import pytest

from upconv.linter.checks import analyse
from upconv.linter.graph import Graph, ModelError, Node
from upconv.linter.replay import run_upconv

PARAMS = {"kernel_size": (2, 2), "stride": (2, 2), "dilation": (1, 1), "padding": ((0, 0), (0, 0)),
          "output_padding": (0, 0), "groups": 1}


def test_known_shapes_are_the_shapes():
    node = Node(name="up", op="conv_transpose", source_op="ConvTranspose", in_shape=(1, 1, 4, 4),
                out_shape=(1, 1, 8, 8))
    assert node.known_in_shape() == (1, 1, 4, 4)
    assert node.known_out_shape() == (1, 1, 8, 8)


def test_an_unknown_shape_is_a_model_error_naming_the_node():
    node = Node(name="up", op="conv_transpose", source_op="ConvTranspose", params=dict(PARAMS))
    with pytest.raises(ModelError, match=r"^node 'up' \(ConvTranspose\): its input shape is unknown$"):
        node.known_in_shape()
    with pytest.raises(ModelError, match=r"^node 'up' \(ConvTranspose\): its output shape is unknown$"):
        node.known_out_shape()
    with pytest.raises(ModelError, match="its input shape is unknown"):
        analyse(Graph([node], source="onnx", description="m"))


def test_replay_without_a_weight_is_a_value_error_naming_the_node():
    node = Node(name="up", op="conv_transpose", source_op="ConvTranspose", params=dict(PARAMS),
                in_shape=(1, 1, 4, 4), out_shape=(1, 1, 8, 8))
    graph = Graph([node], source="onnx", description="m")
    with pytest.raises(ValueError, match=r"^node 'up' has no weight to replay with$"):
        run_upconv(graph, node, np.ones((1, 1, 4, 4)), {})
    w = np.ones((1, 1, 2, 2))
    assert run_upconv(graph, node, np.ones((1, 1, 4, 4)), {"weight": w}).shape == (1, 1, 8, 8)
