"""``upconv.lint``: read a model, analyse every up-sampling layer, optionally replay and draw."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from upconv.linter.report import LintReport

__all__ = ["lint"]


def lint(
    model: Any,
    *,
    input_size: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
    example_input: Any = None,
    config: Sequence[Mapping[str, Any]] | None = None,
    replay: bool = False,
    figure: str | os.PathLike | None = None,
    seed: int = 0,
) -> LintReport:
    """Lint every up-sampling layer of a model: geometry, weights, semantic traps, suggestions, replay.

    Parameters
    ----------
    model : path, bytes, onnx.ModelProto, torch.nn.Module or state dict
        An ONNX model (file, bytes or ``ModelProto``; needs the ``[onnx]``
        extra), a torch module (run once on ``example_input``), or a state
        dict (name -> array or tensor) described by ``config``.
    input_size : sequence of int or mapping name -> sequence of int, optional
        ONNX: the input's full shape or its spatial sizes (needed when the
        model declares dynamic sizes; a dynamic batch alone is taken as 1).
        torch: the shape of a random example input.  State dict: the first
        layer's input, full or spatial.
    example_input : tensor or tuple of tensors, optional
        torch: the input the module is run on (default: a standard normal
        tensor of ``input_size``).
    config : sequence of mappings, optional
        State dict only: the layers in order, each ``{"name": ..., "type":
        "ConvTranspose2d" | "Conv2d" | "Upsample" | "PixelShuffle" |
        "MaxUnpool2d" | ..., **constructor keyword arguments}``; see
        :func:`upconv.linter.torch_graph.read_state_dict`.
    replay : bool, optional
        Run every up-sampling layer with upconv on its real input and report
        the largest difference from onnxruntime (ONNX; needs ``onnxruntime``)
        or torch (modules).
    figure : path, optional
        Write the overlap map and DC-gain figures of the flagged layers
        (``<stem>-<i>-overlap<suffix>``, ``<stem>-<i>-dc_gain<suffix>``;
        needs matplotlib).
    seed : int, optional
        Seed of the random inputs (replay, torch example input).

    Returns
    -------
    LintReport
        ``report.flagged``, ``report.layers`` (:class:`LayerReport` rows),
        ``report.to_dict()`` (JSON, documented in the README), ``str(report)``.

    Raises
    ------
    ValueError
        One line: the file is not an ONNX model or is truncated, the input
        size is dynamic and not given, a configuration is invalid.
    TypeError
        For a model of another type.
    ImportError
        When onnx (or onnxruntime for ``replay``) is needed but missing.

    Examples
    --------
    >>> import numpy as np, upconv
    >>> state = {"up.weight": np.ones((1, 1, 3, 3))}
    >>> report = upconv.lint(state, config=[{"name": "up", "type": "ConvTranspose2d", "stride": 2}],
    ...                      input_size=(8, 8))
    >>> report.flagged, report.layers[0].geometry["overlap_ratio"]
    (True, 4.0)
    >>> [f.code for f in report.layers[0].findings]
    ['overlap', 'dc_gain']
    """
    from upconv.linter.checks import analyse
    from upconv.linter.report import LintReport

    torch = sys.modules.get("torch")
    proto = None
    if torch is not None and isinstance(model, torch.nn.Module):
        from upconv.linter.torch_graph import read_torch

        graph = read_torch(model, example_input=example_input, input_size=input_size, seed=seed)
    elif isinstance(model, Mapping):
        from upconv.linter.torch_graph import read_state_dict

        if config is None:
            raise ValueError("lint: a state dict needs config=[{'name': ..., 'type': ...}, ...] describing its layers")
        graph = read_state_dict(model, config, input_size)
    else:
        from upconv.linter.onnx_graph import read_onnx

        graph, proto = read_onnx(model, input_size)
    layers = analyse(graph)
    report = LintReport(model=graph.description, source=graph.source, layers=layers, inputs=graph.inputs,
                        opset=graph.opset, notes=list(graph.notes), op_counts=graph.op_counts)
    if replay:
        from upconv.linter.replay import replay_graph

        replay_graph(graph, proto, layers, seed=seed)
        report.replayed = True
    if figure is not None:
        from upconv.linter.draw import write_figures

        report.figures = write_figures(graph, layers, figure)
    return report
