"""Read an ONNX model into a :class:`upconv.linter.graph.Graph`: attributes, constants and shapes.

Shapes are propagated node by node from the model's declared input sizes
(or the sizes the user gives): the up-sampling operators and convolutions
through :mod:`upconv.shapes`, the common others through
:mod:`upconv.linter.onnx_shapes`, anything else through ONNX's shape
inference.  ``onnx`` is imported here, lazily (the ``[onnx]`` extra).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from upconv import shapes
from upconv.linter.graph import Graph, ModelError, Node
from upconv.linter.onnx_shapes import BROADCAST, POINTWISE, conv_pads, fold, infer

__all__ = ["KNOWN_VERSIONS", "require_onnx", "load_model", "read_onnx", "input_shapes"]

#: Operator versions (``since_version``) whose semantics upconv implements and checks.
KNOWN_VERSIONS = {
    "ConvTranspose": (1, 11, 22), "Conv": (1, 11, 22), "Resize": (11, 13, 18, 19), "Upsample": (7, 9),
    "DepthToSpace": (1, 11, 13, 28), "MaxUnpool": (9, 11, 22),
}
_KINDS = {"ConvTranspose": "conv_transpose", "Conv": "conv", "Resize": "resize", "Upsample": "resize",
          "DepthToSpace": "depth_to_space", "MaxUnpool": "max_unpool"}
_WHY_UNKNOWN = {("Resize", 10): "Resize-10 leaves the coordinate mapping unspecified (runtimes disagree)",
                ("Upsample", 1): "Upsample-1 is experimental (height_scale/width_scale)"}


def require_onnx() -> Any:
    """Import ``onnx``, or raise an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError("upconv lint needs the onnx package for ONNX models: pip install 'upconv[onnx]'") from None
    return onnx


def load_model(model: Any) -> tuple[Any, str]:
    """``(ModelProto, description)`` from a path, bytes or a ``ModelProto``; ValueError for anything else."""
    onnx = require_onnx()
    if isinstance(model, onnx.ModelProto):
        return model, model.graph.name or "<ModelProto>"
    if isinstance(model, (bytes, bytearray)):
        data, name = bytes(model), "<bytes>"
    elif isinstance(model, (str, os.PathLike)):
        name = os.fspath(model)
        try:
            with open(name, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise ModelError(f"cannot read {name!r}: {exc.strerror or exc}") from None
    else:
        raise TypeError(f"lint: model must be an ONNX file, a ModelProto, a torch.nn.Module or a state dict, "
                        f"got {type(model).__name__}")
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ModelError(f"{name!r} is not an ONNX model ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else 'unreadable'})") from None
    if proto.ir_version <= 0 or not proto.graph.node or not any(o.domain in ("", "ai.onnx")
                                                                  for o in proto.opset_import):
        raise ModelError(f"{name!r} is not an ONNX model (no graph, IR version or ai.onnx opset): not an ONNX "
                         "file, or a truncated one")
    if isinstance(model, (str, os.PathLike)) and any(t.data_location == 1 for t in proto.graph.initializer):
        from onnx.external_data_helper import load_external_data_for_model

        try:
            load_external_data_for_model(proto, os.path.dirname(os.path.abspath(name)))
        except Exception as exc:
            raise ModelError(f"{name!r}: cannot load its external data ({exc})") from None
    return proto, name


def _attrs(onnx: Any, node: Any) -> dict[str, Any]:
    out = {}
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, onnx.TensorProto):
            v = onnx.numpy_helper.to_array(v)
        elif isinstance(v, list):
            v = [x.decode() if isinstance(x, bytes) else x for x in v]
        out[a.name] = v
    return out


def input_shapes(
    proto: Any, input_size: Sequence[int] | Mapping[str, Sequence[int]] | None,
) -> tuple[dict[str, tuple[int, ...]], list[str]]:
    """Concrete shapes of the graph inputs: declared, or from ``input_size``; and notes (dynamic batch -> 1).

    ``input_size``: None; a sequence of ints (the full shape, or the
    spatial sizes of the only data input); or a mapping name -> sequence.
    """
    inits = {t.name for t in proto.graph.initializer}
    inputs = [i for i in proto.graph.input if i.name not in inits]

    def bad(message: str) -> ModelError:
        return ModelError(message, argument="input_size")

    given: Mapping[str, Sequence[int]] = {}
    if isinstance(input_size, Mapping):
        unknown = set(input_size) - {i.name for i in inputs}
        if unknown:
            raise bad(f"the model has no input {sorted(unknown)[0]!r} (inputs: {', '.join(i.name for i in inputs)})")
        given = input_size
    elif input_size is not None:
        if len(inputs) != 1:
            raise bad(f"the model has {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); give NAME=SIZES "
                      "for each")
        given = {inputs[0].name: input_size}
    result, notes = {}, []
    for inp in inputs:
        dims: list[int | str] = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else (d.dim_param or "?")
                                 for d in inp.type.tensor_type.shape.dim]
        if not inp.type.tensor_type.HasField("shape") and inp.name not in given:
            raise bad(f"input {inp.name!r} declares no shape: give its size (--input-size {inp.name}=N,C,H,W; "
                      "input_size= in Python)")
        if inp.name in given:
            size = [int(x) for x in given[inp.name]]
            if any(x < 1 for x in size):
                raise bad(f"sizes must be >= 1, got {size}")
            if not inp.type.tensor_type.HasField("shape"):
                dims = list(size)
            full: list[int | str] = list(size)  # spatial sizes get the declared batch (or 1) and channels
            if len(size) == len(dims) - 2 and len(dims) >= 3:
                full = [dims[0] if isinstance(dims[0], int) else 1, dims[1], *size]
            if len(full) != len(dims):
                raise bad(f"input {inp.name!r} has rank {len(dims)}; give {len(dims)} sizes or {len(dims) - 2} "
                          f"spatial sizes, got {len(given[inp.name])}")
            if len(full) > 1 and not isinstance(full[1], int):
                raise bad(f"input {inp.name!r} has a dynamic channel count; give all {len(dims)} sizes")
            dims = full
        elif dims and not isinstance(dims[0], int) and all(isinstance(d, int) for d in dims[1:]):
            notes.append(f"dynamic batch size {dims[0]!r} of input {inp.name!r} taken as 1")
            dims = [1, *dims[1:]]
        if not all(isinstance(d, int) and d > 0 for d in dims):
            raise bad(f"input {inp.name!r} has dynamic size ({', '.join(map(str, dims))}): give the input size "
                      "(--input-size H,W or N,C,H,W; input_size= in Python)")
        result[inp.name] = tuple(int(d) for d in dims)
    return result, notes


def read_onnx(
    model: Any, input_size: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
) -> tuple[Graph, Any]:
    """The :class:`Graph` of an ONNX model (path, bytes or ``ModelProto``), and the ``ModelProto``."""
    onnx = require_onnx()
    proto, name = load_model(model)
    opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    known_opset = onnx.defs.onnx_opset_version()
    ins, notes = input_shapes(proto, input_size)
    shape: dict[str, tuple[int, ...] | None] = dict(ins)
    const: dict[str, np.ndarray] = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    for t in proto.graph.initializer:
        shape[t.name] = tuple(t.dims)
    fallback: dict[str, tuple[int, ...]] | None = None
    initializers, folded = set(const), {}
    nodes: list[Node] = []
    counts: Counter[str] = Counter()
    for index, pn in enumerate(proto.graph.node):
        attrs = _attrs(onnx, pn)
        op = pn.op_type if pn.domain in ("", "ai.onnx") else f"{pn.domain}.{pn.op_type}"
        counts[op] += 1
        for v in pn.input:
            if v and v not in shape and v not in const:
                raise ModelError(f"{name!r}: node {pn.name or op!r} reads {v!r}, which nothing produces (a truncated "
                                 "or invalid model)")
        in_shapes = [shape.get(v) if v else None for v in pn.input]
        in_consts = [const.get(v) if v else None for v in pn.input]
        node = Node(name=pn.name or f"{op}_{index}", op=_kind(op, pn, in_consts), source_op=op,
                    inputs=tuple(pn.input), outputs=tuple(pn.output), in_shape=in_shapes[0] if in_shapes else None)
        if node.op in ("conv_transpose", "conv", "resize", "depth_to_space", "max_unpool"):
            node.skipped = _version_problem(onnx, op, opset, known_opset)
            out = None
            if node.skipped is None:
                try:
                    out = _read_upsampler(node, attrs, in_shapes, in_consts)
                except ValueError as exc:
                    node.skipped = str(exc)
        else:
            out = None
        values = fold(op, attrs, in_consts, in_shapes) if pn.domain in ("", "ai.onnx") else None
        if values is not None:
            for v, arr in zip(pn.output, values, strict=False):
                const[v] = np.asarray(arr)
                shape[v] = tuple(np.shape(arr))
            outs: list[tuple[int, ...] | None] | None = [tuple(np.shape(a)) for a in values]
        else:
            outs = out or infer(op, attrs, in_shapes, in_consts, len(pn.output))
        if outs is None:
            if fallback is None:
                fallback = _onnx_inference(onnx, proto, ins)
            outs = [fallback.get(v) for v in pn.output]
        for v, s in zip(pn.output, outs, strict=False):
            shape[v] = s
        node.out_shape = outs[0] if outs else None
        if node.op in ("conv_transpose", "conv", "resize", "depth_to_space", "max_unpool"):
            node.attributes = _user_attributes(attrs, pn, in_consts)
            if node.skipped is None and (node.in_shape is None or node.out_shape is None):
                node.skipped = "input size unknown: " + _unknown_reason(proto, pn, shape)
            # constants computed by nodes (Constant, Shape -> Concat, ...): a node replayed alone needs them
            folded.update({v: const[v] for v in pn.input[1:] if v in const and v not in initializers})
        nodes.append(node)
    graph = Graph(nodes, source="onnx", description=name, inputs=ins, opset=opset, notes=notes,
                  op_counts=dict(counts), values=folded)
    return graph, proto


def _kind(op: str, pn: Any, consts: list[np.ndarray | None]) -> str:
    if op in _KINDS:
        return _KINDS[op]
    if op in POINTWISE:
        return "pointwise"
    if op in BROADCAST and op in ("Add", "Sub", "Mul", "Div") and sum(c is None for c in consts) == 1:
        return "pointwise"  # a bias or a scale: one data input, one constant
    return "other"


def _version_problem(onnx: Any, op: str, opset: int, known_opset: int) -> str | None:
    if opset > known_opset:
        return (f"opset {opset} is newer than this onnx package knows ({known_opset}): {op}'s meaning there cannot "
                "be checked")
    since = onnx.defs.get_schema(op, opset).since_version
    if since not in KNOWN_VERSIONS[op]:
        why = _WHY_UNKNOWN.get((op, since), "")
        known = ", ".join(f"{op}-{v}" for v in KNOWN_VERSIONS[op])
        return f"{op}-{since} (opset {opset}) is not a version upconv knows ({known})" + (f": {why}" if why else "")
    return None


def _unknown_reason(proto: Any, pn: Any, shape: dict[str, Any]) -> str:
    missing = [v for v in pn.input[:1] if shape.get(v) is None]
    producer = {o: n for n in proto.graph.node for o in n.output}
    if missing and missing[0] in producer:
        p = producer[missing[0]]
        return f"the shape of {missing[0]!r} (output of {p.op_type} {p.name!r}) could not be propagated"
    return "the output shape could not be computed"


def _onnx_inference(onnx: Any, proto: Any, ins: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    """Static shapes from ONNX's shape inference, with the inputs fixed to ``ins`` (the fallback)."""
    m = onnx.ModelProto()
    m.CopyFrom(proto)
    for inp in m.graph.input:
        if inp.name in ins:
            shape = inp.type.tensor_type.shape
            shape.ClearField("dim")
            for size in ins[inp.name]:
                shape.dim.add().dim_value = size
    try:
        m = onnx.shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)
    except Exception:
        return {}
    out = {}
    for vi in list(m.graph.value_info) + list(m.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if dims and all(d.HasField("dim_value") for d in dims):
            out[vi.name] = tuple(d.dim_value for d in dims)
    return out


def _user_attributes(attrs: dict[str, Any], pn: Any, consts: list[np.ndarray | None]) -> dict[str, Any]:
    out = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in attrs.items()}
    if pn.op_type in ("Resize", "Upsample"):
        names = ["roi", "scales", "sizes"] if pn.op_type == "Resize" else ["scales"]
        for key, value in zip(names, consts[1:], strict=False):
            if value is not None and value.size:
                out[key] = value.tolist()
    if pn.op_type == "MaxUnpool" and len(consts) > 2 and consts[2] is not None:
        out["output_shape"] = consts[2].tolist()
    return out


def _ints(attrs: dict[str, Any], key: str, n: int, default: int) -> tuple[int, ...]:
    v = attrs.get(key)
    return (default,) * n if v is None else tuple(int(x) for x in v)


def _read_upsampler(node: Node, attrs: dict[str, Any], in_shapes: list[tuple[int, ...] | None],
                    consts: list[np.ndarray | None]) -> list[tuple[int, ...] | None] | None:
    """Fill ``node.params``/weights from the attributes; return the output shapes (None if unknown)."""
    x = in_shapes[0]
    op = node.source_op
    if op in ("ConvTranspose", "Conv"):
        w = consts[1] if len(consts) > 1 else None
        wshape = in_shapes[1] if len(in_shapes) > 1 else None
        node.weight = None if w is None else w.astype(np.float64)
        node.bias = consts[2] if len(consts) > 2 else None
        if x is None or wshape is None:
            return None
        n = len(x) - 2
        k = tuple(int(v) for v in attrs.get("kernel_shape", wshape[2:]))
        s, d = _ints(attrs, "strides", n, 1), _ints(attrs, "dilations", n, 1)
        g = int(attrs.get("group", 1))
        p: dict[str, Any] = {"kernel_size": k, "stride": s, "dilation": d, "groups": g}
        if op == "Conv":
            p["padding"] = conv_pads(attrs, x[2:], k, s, d)
            node.params = p
            return [(x[0], wshape[0], *shapes.conv_output_size(x[2:], k, s, p["padding"], d))]
        pads = attrs.get("pads")
        auto = attrs.get("auto_pad", "NOTSET")
        output_shape = attrs.get("output_shape")
        a = _ints(attrs, "output_padding", n, 0)
        padding, op_pad = shapes.onnx_conv_transpose_padding(
            x[2:], k, s, d, pads=None if pads is None else [int(v) for v in pads], auto_pad=auto,
            output_shape=None if output_shape is None else [int(v) for v in output_shape][-n:], output_padding=a)
        p.update(padding=padding, output_padding=op_pad, auto_pad=auto,
                 output_shape=None if output_shape is None else [int(v) for v in output_shape][-n:],
                 pads=None if pads is None else [int(v) for v in pads], onnx_output_padding=a)
        node.params = p
        return [(x[0], wshape[1] * g, *shapes.conv_transpose_output_size(x[2:], k, s, padding, op_pad, d))]
    if x is None:
        return None
    if op in ("Resize", "Upsample"):
        p = _resize_params(op, attrs, consts)
        node.params = p
        out = shapes.resize_output_size(x, p["sizes"], p["scales"], axes=p["axes"],
                                        keep_aspect_ratio_policy=p["keep_aspect_ratio_policy"])
        return [out]
    if op == "DepthToSpace":
        b = int(attrs["blocksize"])
        node.params = {"blocksize": b, "mode": attrs.get("mode", "DCR")}
        if x[1] % (b ** (len(x) - 2)):
            raise ValueError(f"DepthToSpace: {x[1]} channels are not divisible by blocksize**2 = {b * b}")
        return [(x[0], x[1] // b ** (len(x) - 2), *(v * b for v in x[2:]))]
    if op == "MaxUnpool":
        n = len(x) - 2
        k = tuple(int(v) for v in attrs["kernel_shape"])
        s = _ints(attrs, "strides", n, 1)
        pads = list(attrs.get("pads", [0] * (2 * n)))
        padding = tuple((int(pads[i]), int(pads[i + n])) for i in range(n))
        given = consts[2] if len(consts) > 2 and consts[2] is not None else None
        if len(node.inputs) > 2 and node.inputs[2] and given is None:
            raise ValueError("MaxUnpool's output_shape is computed at run time (not constant)")
        size = None if given is None else tuple(int(v) for v in given[2:])
        node.params = {"kernel_size": k, "stride": s, "padding": padding, "output_size": size,
                       "default_size": shapes.max_unpool_output_size(x[2:], k, s, padding)}
        out = shapes.max_unpool_output_size(x[2:], k, s, padding, output_size=size)
        return [(*x[:2], *out)]
    return None


def _resize_params(op: str, attrs: dict[str, Any], consts: list[np.ndarray | None]) -> dict[str, Any]:
    """ONNX-form Resize parameters (see :mod:`upconv.linter.graph`) of a Resize or Upsample node."""
    p: dict[str, Any] = {"mode": attrs.get("mode", "nearest"), "torch": None,
                         "coordinate_transformation_mode": attrs.get("coordinate_transformation_mode", "half_pixel"),
                         "nearest_mode": attrs.get("nearest_mode", "round_prefer_floor"),
                         "cubic_coeff_a": float(attrs.get("cubic_coeff_a", -0.75)),
                         "exclude_outside": int(attrs.get("exclude_outside", 0)),
                         "extrapolation_value": float(attrs.get("extrapolation_value", 0.0)),
                         "antialias": int(attrs.get("antialias", 0)),
                         "keep_aspect_ratio_policy": attrs.get("keep_aspect_ratio_policy", "stretch"),
                         "axes": None if attrs.get("axes") is None else [int(a) for a in attrs["axes"]],
                         "roi": None, "scales": None, "sizes": None}
    if op == "Upsample":  # = Resize with asymmetric coordinates and floor rounding (SEMANTICS.md §6)
        p.update(coordinate_transformation_mode="asymmetric", nearest_mode="floor",
                 mode="linear" if p["mode"] in ("linear", "bilinear") else p["mode"])
        scales = attrs.get("scales", consts[1] if len(consts) > 1 else None)
        if scales is None:
            raise ValueError("Upsample's scales are computed at run time (not constant)")
        p["scales"] = [float(v) for v in np.asarray(scales, dtype=np.float32)]
        return p
    named = dict(zip(["roi", "scales", "sizes"], consts[1:4], strict=False))
    for key in ("roi", "scales", "sizes"):
        value = named.get(key)
        if value is not None and value.size:
            p[key] = [float(v) for v in value] if key != "sizes" else [int(v) for v in value]
    if p["scales"] is None and p["sizes"] is None:
        raise ValueError("Resize's scales/sizes are computed at run time (not constant)")
    if p["scales"] is not None:
        p["scales"] = [float(v) for v in np.asarray(p["scales"], dtype=np.float32)]
    return p
