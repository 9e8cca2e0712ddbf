"""From a :class:`upconv.linter.graph.Graph` to :class:`upconv.linter.report.LayerReport` rows.

One analyser per kind of up-sampling node: transposed convolutions
(geometry, stacks, weights, ONNX padding traps), Resize (torch call, runtime
traps), depth-to-space (sub-pixel weights), max-unpooling, and the
convolution that directly follows a Resize (resize-convolution).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from upconv import shapes
from upconv.linter import semantics, suggest
from upconv.linter.calls import (
    Exact,
    call,
    conv_transpose_calls,
    conv_transpose_torch_args,
    fmt_value,
    interpolate_call,
    resize_call,
)
from upconv.linter.geometry import (
    conv_transpose_geometry_report,
    overlap_summary,
    stack_report,
)
from upconv.linter.graph import Graph, ModelError, Node, path_layers
from upconv.linter.report import LayerReport
from upconv.linter.weights import subpixel_transpose_weight, weights_report
from upconv.ops.resize_convolution import resize_equivalent_kernel

__all__ = ["analyse"]

_OPS = {"conv_transpose": "conv_transpose", "resize": "resize", "depth_to_space": "depth_to_space",
        "max_unpool": "max_unpool", "conv": "resize_conv"}


def analyse(graph: Graph) -> list[LayerReport]:
    """One :class:`LayerReport` per up-sampling node (and resize-convolution) of ``graph``, in graph order."""
    reports = []
    for node, resize in graph.upsamplers():
        layer = LayerReport(name=node.name, op=_OPS[node.op], source_op=node.source_op,
                            attributes=dict(node.attributes), in_shape=node.in_shape, out_shape=node.out_shape)
        if resize is not None:
            layer.source_op = f"{resize.source_op} + {node.source_op}"
            layer.in_shape = resize.in_shape
        skipped = node.skipped or (resize.skipped if resize is not None else None)
        if skipped:
            layer.skipped = skipped
        elif resize is not None:
            _resize_conv(graph, node, resize, layer)
        else:
            ANALYSERS[node.op](graph, node, layer)
        reports.append(layer)
    return reports


def _conv_transpose(graph: Graph, node: Node, layer: LayerReport) -> None:
    p = node.params
    in_shape, out_shape = node.known_in_shape(), node.known_out_shape()
    layer.upconv_call, layer.torch_call = conv_transpose_calls(p, in_shape[1], out_shape[1], node.bias is not None)
    if layer.torch_call is None:
        layer.torch_note = conv_transpose_torch_args(p)[1]
    geometry, findings = conv_transpose_geometry_report(in_shape[2:], p)
    stack = path_layers(graph, node)
    geometry["stack"] = None
    if sum(n.op == "conv_transpose" for n, _ in stack) >= 2:
        geometry["stack"] = stack_report([(n.name, spec) for n, spec in stack], len(p["kernel_size"]))
        ratio = geometry["stack"]["overlap_ratio"]
        own = geometry["overlap_ratio"]
        if own == 1.0 and ratio != 1.0:
            chain = " -> ".join(n.name for n, _ in stack)
            findings.append(("stack_overlap", f"this layer is even, but the stack {chain} combines to an overlap "
                                              f"ratio of {ratio if isinstance(ratio, str) else f'{ratio:.4g}'}"))
    layer.geometry = geometry
    for code, message in findings:
        layer.add(code, message)
    for code, message in _conv_transpose_traps(p):
        layer.add(code, message)
    if node.weight is not None:
        layer.weights, wf = weights_report(node.weight, p, in_shape[2:])
        for code, message in wf:
            layer.add(code, message)
    else:
        layer.weights = {"note": "the weights are not constant in the model: not analysed"}
    if any(f.severity == "flag" and f.code not in ("auto_pad_odd",) for f in layer.findings):
        layer.suggestion = suggest.conv_transpose_suggestion(p, in_shape, out_shape, node.bias is not None)


def _conv_transpose_traps(p: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    pads = p["padding"]
    auto = p.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        odd = [i for i, (b, e) in enumerate(pads) if (b + e) % 2]
        if odd:
            out.append(("auto_pad_odd", f"auto_pad={auto} with odd total padding on axes {odd}: the output keeps "
                                        f"crop (begin, end) = {fmt_value([tuple(x) for x in pads])}; onnxruntime "
                                        "versions disagreed on the side (onnxruntime#4086, #11927, onnx#4299) and "
                                        "no torch ConvTranspose call crops unevenly"))
    elif p.get("output_shape") is None and any(b != e for b, e in pads):
        args, why = conv_transpose_torch_args(p)
        out.append(("asymmetric_pads", f"pads differ per side {fmt_value([tuple(x) for x in pads])}: "
                    + (f"torch reaches it with padding={fmt_value(args['padding'])}, output_padding="
                       f"{fmt_value(args['output_padding'])}" if args else why)))
    if p.get("output_shape") is not None:
        args, why = conv_transpose_torch_args(p)
        out.append(("output_shape", f"output_shape={p['output_shape']} implies pads "
                                    f"{fmt_value([tuple(x) for x in pads])} and output_padding "
                                    f"{fmt_value(p['output_padding'])}; torch: "
                    + (f"padding={fmt_value(args['padding'])}, output_padding={fmt_value(args['output_padding'])}"
                       " (or forward(x, output_size=...))" if args else why)))
    return out


def _resize(graph: Graph, node: Node, layer: LayerReport) -> None:
    p = node.params
    in_shape, out_shape = node.known_in_shape(), node.known_out_shape()
    torch_params = p.get("torch")
    if "coordinate_transformation_mode" not in p:  # torch's area (or lanczos): no ONNX Resize
        if torch_params is None:
            raise ModelError(f"node {node.name!r} ({node.source_op}): a resize with neither ONNX nor torch "
                             "parameters")
        layer.upconv_call = interpolate_call(torch_params, "upconv.interpolate")
        layer.torch_call = interpolate_call(torch_params)
        ratios = [o / i for i, o in zip(in_shape[2:], out_shape[2:], strict=True)]
        layer.geometry = {"scales": [1.0, 1.0] + ratios}
        layer.add("no_onnx_resize", f"mode {torch_params['mode']!r} has no ONNX Resize equivalent")
        return
    layer.upconv_call = (resize_call(p) if torch_params is None
                         else interpolate_call(torch_params, "upconv.interpolate"))
    geometry = layer.geometry = semantics.resize_geometry_report(p, in_shape, out_shape)
    for code, message in semantics.resize_traps(p, in_shape, out_shape, geometry):
        layer.add(code, message)
    cand, why = semantics.find_torch_call(p, in_shape, out_shape)
    if torch_params is not None:  # a torch call reproduces itself; the canonical candidate when equal
        mismatch = semantics.export_mismatch(torch_params, p, in_shape)
        if mismatch:
            layer.add("export_mismatch", mismatch)
        if mismatch or cand is None:
            cand = torch_params
    layer.torch_call = None if cand is None else interpolate_call(cand)
    if cand is None:
        layer.torch_note = why
        layer.add("no_torch_call", f"no F.interpolate call reproduces this node exactly; {why}")
    if layer.flagged:
        layer.suggestion = suggest.resize_suggestion([f.code for f in layer.findings], cand, out_shape)


def _depth_to_space(graph: Graph, node: Node, layer: LayerReport) -> None:
    b, mode = node.params["blocksize"], node.params["mode"]
    n = len(node.known_in_shape()) - 2
    layer.upconv_call = call("upconv.depth_to_space", "x", str(b), mode=mode) if node.source_op == "DepthToSpace" \
        else call("upconv.pixel_shuffle", "x", str(b))
    if mode == "CRD" and n == 2:
        layer.torch_call = call("nn.PixelShuffle", str(b))
    else:
        c = node.known_out_shape()[1]
        layer.torch_note = (f"PixelShuffle is CRD and 2-d; DCR is x.reshape(N, {b}, {b}, {c}, H, W)"
                            f".permute(0, 3, 4, 1, 5, 2).reshape(N, {c}, H*{b}, W*{b})" if n == 2
                            else "PixelShuffle is 2-d only")
        layer.add("dcr_order", f"DepthToSpace mode {mode} on {n} axes: no torch op; {layer.torch_note}")
    conv = graph.direct_producer(node, "conv")
    geometry: dict[str, Any] = {"blocksize": b}
    if (conv is None or conv.skipped or conv.weight is None or conv.params["groups"] != 1
            or set(conv.params["stride"]) != {1}):
        layer.geometry = geometry
        layer.weights = {"note": "the input is not the output of a stride-1 convolution with constant weights: "
                                 "sub-pixel weights not analysed"}
        return
    cp = conv.params
    K = subpixel_transpose_weight(conv.weight, b, mode, cp["dilation"])
    span = [d * (k - 1) for k, d in zip(cp["kernel_size"], cp["dilation"], strict=True)]
    params: dict[str, Any] = {
        "kernel_size": K.shape[2:], "stride": (b,) * n, "dilation": (1,) * n, "groups": 1,
        "padding": tuple(((e - pb) * b, (e - pe) * b) for e, (pb, pe) in zip(span, cp["padding"], strict=True)),
        "output_padding": (0,) * n}
    geometry["sub_pixel_conv"] = conv.name
    geometry["equivalent_conv_transpose"] = {"kernel_size": list(K.shape[2:]), "stride": [b] * n,
                                             "padding": [list(x) for x in params["padding"]]}
    geometry.update(overlap_summary(K.shape[2:], (b,) * n, (1,) * n))
    layer.geometry = geometry
    layer.weights, findings = weights_report(K, params, conv.known_in_shape()[2:])
    for code, message in findings:
        layer.add(code, message.replace("uneven DC gain", "uneven DC gain of the sub-pixel convolution"))
    if layer.flagged:
        layer.suggestion = suggest.subpixel_suggestion(conv.weight.shape, b, mode)


def _max_unpool(graph: Graph, node: Node, layer: LayerReport) -> None:
    p = node.params
    n = len(p["kernel_size"])
    out = tuple(node.known_out_shape()[2:])
    plane = int(np.prod(out))
    kw: dict[str, Any] = {"kernel_size": p["kernel_size"], "stride": p["stride"]}
    if any(b or e for b, e in p["padding"]):
        kw["padding"] = tuple(b for b, _ in p["padding"]) if all(b == e for b, e in p["padding"]) else p["padding"]
    size = {"output_size": Exact(out)} if out != tuple(p["default_size"]) else {}
    indices = "indices" if graph.source != "onnx" else f"indices % {plane}"
    layer.upconv_call = call("upconv.max_unpool", "x", indices, **kw, **size)
    if all(b == e for b, e in p["padding"]):
        layer.torch_call = call(f"nn.MaxUnpool{n}d", **kw) + (f" with output_size={fmt_value(Exact(out))}"
                                                                if size else "")
    else:
        layer.torch_note = "MaxUnpool pads that differ per side have no torch equivalent"
    fill = float(np.prod(node.known_in_shape()[2:]) / plane)
    layer.geometry = {"default_size": list(p["default_size"]), "output_size": list(out),
                      "filled_fraction": fill}
    layer.add("sparse_output", f"at most {fill:.3g} of the outputs are non-zero (one per window); the "
                               "following convolutions must fill the rest")
    if graph.source == "onnx" and size:
        layer.add("unpool_output_shape", f"output_shape {list(out)} differs from the default "
                                         f"{list(p['default_size'])}: onnx.reference places the indices in the "
                                         "default-size plane, onnxruntime and torch in the output plane")


def _resize_conv(graph: Graph, conv: Node, resize: Node, layer: LayerReport) -> None:
    rp, cp = resize.params, conv.params
    in_shape, out_shape = resize.known_in_shape(), resize.known_out_shape()
    n = len(cp["kernel_size"])
    conv_kw: dict[str, Any] = {}
    if any(b or e for b, e in cp["padding"]):
        conv_kw["padding"] = tuple(b for b, _ in cp["padding"]) if all(b == e for b, e in cp["padding"]) \
            else tuple(tuple(x) for x in cp["padding"])
    for key in ("stride", "dilation"):
        if set(cp[key]) != {1}:
            conv_kw[key] = tuple(cp[key])
    if cp["groups"] != 1:
        conv_kw["groups"] = cp["groups"]
    b = "b" if conv.bias is not None else "None"
    tp = rp.get("torch")  # torch's call, or None for an ONNX node (then the ONNX-form keys are there)
    inner = resize_call(rp) if tp is None else interpolate_call(tp, "upconv.interpolate")
    layer.upconv_call = call("upconv.conv", inner, "w", b, **conv_kw)
    onnx_form = "coordinate_transformation_mode" in rp
    cand = tp if tp is not None else semantics.find_torch_call(rp, in_shape, out_shape)[0]
    if cand is not None and all(b_ == e for b_, e in cp["padding"]):
        layer.torch_call = call(f"F.conv{n}d", interpolate_call(cand), "w", b, **conv_kw)
    else:
        layer.torch_note = "the resize or the convolution's padding has no torch equivalent (see the Resize row)"
    geometry: dict[str, Any] = {"resize": resize.name, "conv": conv.name}
    # nearest up-sampling that repeats every input row exactly s times: then it *is* a transposed convolution
    rg: dict[str, Any] = semantics.resize_geometry_report(rp, in_shape, out_shape) if onnx_form else {}
    s = [float(x) for x in rg.get("scales", [])[2:]]
    repeat = rp.get("mode") == "nearest" and bool(s) and all(
        x == int(x) >= 1 and r == [int(x), int(x)] for x, r in zip(s, rg["repeats_per_axis"], strict=True))
    if repeat and set(cp["stride"]) == {1} and set(cp["dilation"]) == {1} and conv.weight is not None:
        st = tuple(int(x) for x in s)
        K = resize_equivalent_kernel(conv.weight, st, groups=cp["groups"])
        P = shapes.resize_conv_transpose_padding(cp["kernel_size"], cp["padding"])
        params = {"kernel_size": K.shape[2:], "stride": st, "dilation": (1,) * n, "groups": cp["groups"],
                  "padding": P, "output_padding": (0,) * n}
        geometry["equivalent_conv_transpose"] = {"kernel_size": list(K.shape[2:]), "stride": list(st),
                                                 "padding": [list(x) for x in P]}
        layer.weights, findings = weights_report(K, params, in_shape[2:])
        for code, message in findings:  # cannot happen: every phase of K sums to sum(w) (a self-check)
            layer.add(code, message)
    else:
        layer.weights = {"note": "resize-convolution: a flat input gives a flat output away from the borders "
                                 "for any weights (interpolation then a stride-1 convolution)"}
    layer.geometry = geometry


ANALYSERS = {"conv_transpose": _conv_transpose, "resize": _resize, "depth_to_space": _depth_to_space,
             "max_unpool": _max_unpool}

