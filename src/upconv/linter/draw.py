"""``--figure``: the overlap map and DC-gain map of every flagged layer (:mod:`upconv.figures`, matplotlib)."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from upconv import figures
from upconv.linter.graph import Graph
from upconv.linter.report import LayerReport
from upconv.linter.weights import subpixel_transpose_weight

__all__ = ["write_figures"]


def write_figures(graph: Graph, layers: list[LayerReport], path: str | os.PathLike) -> list[str]:
    """Write ``<stem>-<i>-overlap<suffix>`` / ``<stem>-<i>-dc_gain<suffix>`` for flagged layer ``i``; the paths.

    ``i`` counts the flagged layers from 1 in graph order.  Transposed
    convolutions get both figures (the DC-gain one when the weights are
    constant); sub-pixel layers the DC-gain figure of their equivalent
    transposed convolution.  Raises ValueError naming the file when it
    cannot be written.
    """
    base = Path(path)
    suffix = base.suffix or ".png"
    stem = base.with_suffix("")
    written: list[str] = []
    flagged = [node for (node, resize), layer in zip(graph.upsamplers(), layers, strict=True)
               if layer.flagged and resize is None]
    for i, node in enumerate(flagged, 1):
        jobs: list[tuple[str, Callable[..., object]]] = []  # each called with path=
        if node.op == "conv_transpose":
            p = node.params
            jobs.append(("overlap", partial(figures.plot_overlap, tuple(p["kernel_size"]), tuple(p["stride"]),
                                            dilation=tuple(p["dilation"]), ndim=len(p["kernel_size"]))))
            if node.weight is not None:
                jobs.append(("dc_gain", partial(figures.plot_dc_gain, node.weight, tuple(p["stride"]),
                                                dilation=tuple(p["dilation"]))))
        elif node.op == "depth_to_space":
            conv = graph.direct_producer(node, "conv")
            if conv is not None and not conv.skipped and conv.weight is not None and conv.params["groups"] == 1:
                r = node.params["blocksize"]
                K = subpixel_transpose_weight(conv.weight, r, node.params["mode"], conv.params["dilation"])
                jobs.append(("dc_gain", partial(figures.plot_dc_gain, K, (r,) * (K.ndim - 2))))
        for kind, make in jobs:
            target = f"{stem}-{i}-{kind}{suffix}"
            try:
                make(path=target)
            except OSError as exc:
                raise ValueError(f"argument --figure: cannot write {target!r}: {exc.strerror or exc}") from None
            written.append(target)
    return written
