"""``--replay``: rerun every up-sampling layer with upconv on its real input and compare with the runtime.

ONNX: onnxruntime runs the whole model once on a random input (every graph
optimisation off) with the inputs and outputs of the up-sampling nodes
exposed as extra graph outputs; each node is then recomputed with upconv
from those inputs.  If the whole model cannot run, each node runs alone in
onnxruntime on a random input of its size.  torch modules: the tensors
recorded during the traced forward are the reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from upconv.linter.calls import interpolate_kwargs, resize_kwargs
from upconv.linter.graph import Graph, Node
from upconv.linter.report import LayerReport
from upconv.linter.thresholds import THRESHOLDS
from upconv.ops import interpolation
from upconv.ops.convolution import conv, conv_transpose
from upconv.ops.pooling import max_pool, max_unpool
from upconv.ops.rearrange import depth_to_space, pixel_shuffle

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["replay_graph", "run_upconv", "compare"]

_NP_TYPES = {1: np.float32, 10: np.float16, 11: np.float64, 6: np.int32, 7: np.int64, 9: np.bool_}


def compare(got: npt.ArrayLike, ref: npt.ArrayLike) -> dict[str, float]:
    """``{"max_abs_diff", "max_rel_diff"}``: largest difference, and it over the reference's largest magnitude."""
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    if got.shape != ref.shape:
        raise ValueError(f"upconv gives shape {got.shape}, the runtime {ref.shape}")
    diff = float(np.abs(got - ref).max(initial=0.0))
    scale = float(np.abs(ref).max(initial=0.0))
    return {"max_abs_diff": diff, "max_rel_diff": diff / scale if scale else (0.0 if diff == 0 else float("inf"))}


def run_upconv(graph: Graph, node: Node, x: np.ndarray, extra: dict[str, np.ndarray], resize: Node | None = None,
               ) -> np.ndarray:
    """The node computed by upconv from its data input ``x`` (and ``extra``: weights, indices)."""
    p = node.params
    if resize is not None:  # resize-convolution: the resize, then the convolution
        return _conv(node, run_upconv(graph, resize, x, extra), extra)
    if node.op == "conv_transpose":
        w = _weight(node, extra, "weight")
        return conv_transpose(x, w.astype(x.dtype), _bias(node, extra, x), tuple(p["stride"]),
                              [tuple(v) for v in p["padding"]], tuple(p["output_padding"]), p["groups"],
                              tuple(p["dilation"]))
    if node.op == "conv":
        return _conv(node, x, extra)
    if node.op == "resize":
        if p.get("torch") is not None:
            return interpolation.interpolate(x, **interpolate_kwargs(p["torch"]))
        return interpolation.resize(x, **resize_kwargs(p))
    if node.op == "depth_to_space":
        if node.source_op == "DepthToSpace":
            return depth_to_space(x, p["blocksize"], p["mode"])
        return pixel_shuffle(x, p["blocksize"])
    if node.op == "max_unpool":
        out = tuple(node.known_out_shape()[2:])
        idx = extra["indices"]
        if graph.source == "onnx":  # global indices over N*C*prod(out) -> per (n, c) plane
            idx = idx % int(np.prod(out))
        return max_unpool(x, idx, p["kernel_size"], p["stride"], [tuple(v) for v in p["padding"]], output_size=out)
    raise ValueError(f"no replay for {node.op}")


def _weight(node: Node, extra: dict[str, np.ndarray], key: str) -> np.ndarray:
    """The weight from the run (``extra[key]``) or the model's constant; ValueError naming the node if neither."""
    w = extra.get(key, node.weight)
    if w is None:
        raise ValueError(f"node {node.name!r} has no weight to replay with")
    return w


def _bias(node: Node, extra: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray | None:
    b = extra.get("bias", node.bias)
    return None if b is None else np.asarray(b).astype(x.dtype)


def _conv(node: Node, x: np.ndarray, extra: dict[str, np.ndarray]) -> np.ndarray:
    p = node.params
    w = _weight(node, extra, "conv_weight")
    b = extra.get("conv_bias", node.bias)
    return conv(x, w.astype(x.dtype), None if b is None else np.asarray(b).astype(x.dtype),
                tuple(p["stride"]), [tuple(v) for v in p["padding"]], tuple(p["dilation"]), p["groups"])


def replay_graph(graph: Graph, proto: Any, layers: list[LayerReport], seed: int = 0) -> None:
    """Fill ``layer.replay`` (and a ``replay_mismatch`` finding beyond the threshold) for every layer."""
    pairs = list(graph.upsamplers())
    if graph.source == "state_dict":
        for layer in layers:
            layer.replay = {"skipped": "a state dict has no runtime to compare with (lint the torch module or its "
                                       "ONNX export)"}
        return
    values, reference, source = graph.values, graph.replay_reference, "torch"
    failure = ""
    if graph.source == "onnx":
        values, reference, failure = _ort_values(graph, proto, pairs, seed)
        source = "model"
    for (node, resize), layer in zip(pairs, layers, strict=True):
        if layer.skipped:
            continue
        first = resize if resize is not None else node
        try:
            if failure:
                got, ref = _ort_single(graph, proto, node, resize, seed)
                src = "random"
            else:
                got = run_upconv(graph, node, values[first.inputs[0]], _extra(graph, node, resize, values), resize)
                ref, src = values[node.outputs[0]], source
            layer.replay = {"reference": reference or "onnxruntime", "input": src, **compare(got, ref)}
        except (ValueError, TypeError, KeyError, MemoryError, RuntimeError) as exc:
            why = f"{failure}; " if failure else ""
            layer.replay = {"skipped": f"{why}{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
            continue
        if layer.replay["max_rel_diff"] > THRESHOLDS["replay_relative"].value:
            layer.add("replay_mismatch", f"upconv and {layer.replay['reference']} differ by up to "
                                         f"{layer.replay['max_abs_diff']:.3g} ({layer.replay['max_rel_diff']:.3g} "
                                         "relative) on this node")


def _extra(graph: Graph, node: Node, resize: Node | None, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    extra = {}
    if graph.source == "torch":
        if node.op == "max_unpool":
            extra["indices"] = values[node.name + ":indices"]
        return extra
    names = {"conv_transpose": ["weight", "bias"], "conv": ["conv_weight", "conv_bias"],
             "max_unpool": ["indices"]}.get(node.op, [])
    for key, name in zip(names, node.inputs[1:], strict=False):
        if name and name in values:
            extra[key] = values[name]
    return extra


def _ort() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise ImportError("upconv lint --replay needs onnxruntime: pip install 'upconv[onnx]'") from None
    return onnxruntime


def _session(ort: Any, model_bytes: bytes) -> Any:
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def _feeds(proto: Any, shapes: dict[str, tuple[int, ...]], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    feeds: dict[str, np.ndarray] = {}
    for inp in proto.graph.input:
        if inp.name in shapes:
            dtype = _NP_TYPES.get(inp.type.tensor_type.elem_type, np.float32)
            feeds[inp.name] = rng.standard_normal(shapes[inp.name]).astype(dtype)
    return feeds


def _ort_values(graph: Graph, proto: Any, pairs: list[tuple[Node, Node | None]], seed: int,
                ) -> tuple[dict[str, np.ndarray], str, str]:
    """Every value the replays need, from one onnxruntime run; ``(values, reference, failure reason)``."""
    import onnx

    ort = _ort()
    reference = f"onnxruntime {ort.__version__}"
    wanted: list[str] = []
    for node, resize in pairs:
        first = resize if resize is not None else node
        wanted += [first.inputs[0], node.outputs[0], *(v for v in node.inputs[1:] if v)]
    present = {o.name for o in proto.graph.output}
    m = onnx.ModelProto()
    m.CopyFrom(proto)
    for name in dict.fromkeys(wanted):
        if name not in present:
            m.graph.output.append(onnx.ValueInfoProto(name=name))
    try:
        sess = _session(ort, m.SerializeToString())
        names = [o.name for o in sess.get_outputs()]
        outs = sess.run(names, _feeds(proto, graph.inputs, seed))
    except Exception as exc:  # onnxruntime's own exceptions are not a public type
        return {}, reference, f"onnxruntime could not run the model ({str(exc).splitlines()[0][:200]})"
    return dict(zip(names, outs, strict=True)), reference, ""


def _ort_single(graph: Graph, proto: Any, node: Node, resize: Node | None, seed: int,
                ) -> tuple[np.ndarray, np.ndarray]:
    """Run one node (or a resize + conv pair) alone in onnxruntime on a random input; ``(upconv, ort)``."""
    import onnx
    from onnx import helper

    ort = _ort()
    chain = [n for n in (resize, node) if n is not None]
    protos = [n_ for n_ in proto.graph.node if n_.name in {c.name for c in chain}]
    consts = {t.name: t for t in proto.graph.initializer}
    needed = {v for n_ in protos for v in n_.input if v}
    produced = {v for n_ in protos for v in n_.output}
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(chain[0].known_in_shape()).astype(np.float32)
    feeds: dict[str, np.ndarray] = {chain[0].inputs[0]: x}
    extra: dict[str, np.ndarray] = {}
    inputs: list[Any] = []
    if node.op == "max_unpool":  # valid indices: those of a max pooling of the output size
        out_shape = node.known_out_shape()
        pooled, idx = max_pool(rng.standard_normal(out_shape), node.params["kernel_size"],
                               node.params["stride"], [tuple(p) for p in node.params["padding"]],
                               return_indices=True)
        if pooled.shape != node.known_in_shape():
            raise ValueError("no max pooling of the output size gives the unpooling's input size")
        plane = int(np.prod(out_shape[2:]))
        n, c = out_shape[:2]
        offset = (np.arange(n * c) * plane).reshape(n, c, *(1,) * (idx.ndim - 2))
        feeds[node.inputs[1]] = extra["indices"] = (idx + offset).astype(np.int64)
        feeds[chain[0].inputs[0]] = x = pooled.astype(np.float32)
    for v in needed - produced:
        if v in feeds:
            inputs.append(helper.make_tensor_value_info(v, helper.np_dtype_to_tensor_dtype(feeds[v].dtype), None))
    inits = [consts[v] for v in needed - produced if v in consts]
    inits += [onnx.numpy_helper.from_array(graph.values[v], v) for v in needed - produced - set(consts)
              if v in graph.values]
    missing = needed - produced - set(feeds) - set(consts) - set(graph.values)
    if missing:
        raise ValueError(f"{sorted(missing)[0]!r} is computed at run time: cannot run the node alone")
    g = helper.make_graph(protos, "replay", inputs, [onnx.ValueInfoProto(name=node.outputs[0])], inits)
    m = helper.make_model(g, opset_imports=list(proto.opset_import), ir_version=proto.ir_version)
    ref = _session(ort, m.SerializeToString()).run([node.outputs[0]], feeds)[0]
    got = run_upconv(graph, node, x, extra, resize)
    return got, ref
