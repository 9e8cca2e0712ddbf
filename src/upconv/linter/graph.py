"""The model as ``upconv lint`` sees it: a list of nodes in execution order, whatever the source.

The ONNX reader (:mod:`upconv.linter.onnx_graph`), the torch reader and the
state-dict reader (:mod:`upconv.linter.torch_graph`) all produce a
:class:`Graph`; the checks (:mod:`upconv.linter.checks`) only read this.

Node kinds (``Node.op``)
------------------------
``conv_transpose``  params: kernel_size, stride, dilation, padding ((b, e) per axis), output_padding, groups
                    (torch-style: the output is ``full - b - e + output_padding``)
``conv``            params: kernel_size, stride, dilation, padding ((b, e) per axis), groups
``resize``          params: the ONNX Resize attributes (mode, coordinate_transformation_mode, nearest_mode,
                    cubic_coeff_a, exclude_outside, extrapolation_value, antialias, keep_aspect_ratio_policy,
                    axes) and scales / sizes / roi; ``torch``: the torch call when read from torch (else None)
``depth_to_space``  params: blocksize, mode ("DCR" or "CRD")
``max_unpool``      params: kernel_size, stride, padding, output_size (spatial, or None), global_indices
``pointwise``       keeps every position where it is (activations, normalisations, bias, scale)
``other``           anything else (ends a path)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["ModelError", "Node", "Graph", "UPSAMPLERS", "path_layers"]

#: Node kinds that are up-sampling layers (``conv`` is one when it directly follows a ``resize``).
UPSAMPLERS = ("conv_transpose", "resize", "depth_to_space", "max_unpool")

#: Most nodes walked back along one path (a guard against huge graphs).
MAX_PATH = 256


class ModelError(ValueError):
    """A model, or its input size, that cannot be linted; ``argument`` is ``"model"`` or ``"input_size"``."""

    def __init__(self, message: str, argument: str = "model"):
        super().__init__(message)
        self.argument = argument


@dataclass
class Node:
    """One operation: its user-facing name and attributes, and the normalised parameters upconv needs."""

    name: str
    op: str
    source_op: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    in_shape: tuple[int, ...] | None = None
    out_shape: tuple[int, ...] | None = None
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    skipped: str | None = None

    @property
    def ndim(self) -> int | None:
        """Number of spatial axes of the data input (None when its shape is unknown)."""
        return None if self.in_shape is None else len(self.in_shape) - 2

    def known_in_shape(self) -> tuple[int, ...]:
        """``in_shape``; a :class:`ModelError` naming the node when the reader could not tell it."""
        if self.in_shape is None:
            raise ModelError(f"node {self.name!r} ({self.source_op}): its input shape is unknown")
        return self.in_shape

    def known_out_shape(self) -> tuple[int, ...]:
        """``out_shape``; a :class:`ModelError` naming the node when the reader could not tell it."""
        if self.out_shape is None:
            raise ModelError(f"node {self.name!r} ({self.source_op}): its output shape is unknown")
        return self.out_shape


@dataclass
class Graph:
    """Nodes in execution order, plus where the model came from.

    ``values`` maps value names to arrays captured while reading, for
    ``--replay``: the torch reader keeps the inputs and outputs of the
    up-sampling calls, the ONNX reader the constants that nodes compute
    (Constant, Shape -> Concat, ...) and up-sampling nodes read.
    """

    nodes: list[Node]
    source: str
    description: str
    inputs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    opset: int | None = None
    values: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    op_counts: dict[str, int] = field(default_factory=dict)
    replay_reference: str | None = None

    def __post_init__(self) -> None:
        self.producer: dict[str, Node] = {}
        for node in self.nodes:
            for name in node.outputs:
                if name:
                    self.producer[name] = node

    def upsamplers(self) -> Iterator[tuple[Node, Node | None]]:
        """``(node, resize)`` for every up-sampling node; ``resize`` is set for a conv that directly follows one."""
        for node in self.nodes:
            if node.op in UPSAMPLERS:
                yield node, None
            elif node.op == "conv" and node.inputs:
                prev = self.producer.get(node.inputs[0])
                if prev is not None and prev.op == "resize":
                    yield node, prev

    def direct_producer(self, node: Node, op: str) -> Node | None:
        """The node of kind ``op`` that produces ``node``'s data input, or None."""
        prev = self.producer.get(node.inputs[0]) if node.inputs else None
        return prev if prev is not None and prev.op == op else None


def path_layers(graph: Graph, node: Node) -> list[tuple[Node, tuple[tuple[int, ...], ...]]]:
    """Transposed and stride-1 convolutions on ``node``'s path, first layer first, ``node`` last.

    Walks back from ``node``'s data input through ``pointwise`` nodes and
    stride-1 convolutions, collecting ``(node, (kernel_size, stride,
    dilation))`` for :func:`upconv.overlap_ratio` ``(layers=...)``; stops at
    anything else (a merge, a resize, a reshape, a graph input).
    """
    layers = [(node, _layer(node))]
    current = graph.producer.get(node.inputs[0]) if node.inputs else None
    for _ in range(MAX_PATH):
        if current is None or current.skipped:
            break
        if current.op == "conv_transpose" or (current.op == "conv" and set(current.params["stride"]) == {1}):
            if current.ndim != node.ndim:
                break
            layers.append((current, _layer(current)))
        elif current.op != "pointwise":
            break
        current = graph.producer.get(current.inputs[0]) if current.inputs else None
    layers.reverse()
    # a stack starts and ends with a transposed convolution: stride-1 convs before the first add nothing
    while layers and layers[0][0].op != "conv_transpose":
        layers.pop(0)
    return layers


def _layer(node: Node) -> tuple[tuple[int, ...], ...]:
    p = node.params
    return (tuple(p["kernel_size"]), tuple(p["stride"]), tuple(p["dilation"]))
