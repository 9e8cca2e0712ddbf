"""Read a torch module (one traced forward) or a state dict with a layer config into a :class:`Graph`.

The module is run once, in eval mode and without gradients, under a
``TorchFunctionMode`` that records every torch function call (the
functional ops ``conv_transpose2d``, ``interpolate``, ``pixel_shuffle``,
``max_unpool2d``, ``relu``, ``cat``, ...) with its tensors, while module
hooks name each call after the innermost module running it.  Shapes are the
tensors' own (the ONNX reader propagates them with :mod:`upconv.shapes`;
linting a module and its export checks one against the other).  torch is
imported here only.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from upconv import shapes
from upconv.linter.graph import Graph, Node
from upconv.linter.semantics import onnx_form

__all__ = ["read_torch", "read_state_dict", "TORCH_POINTWISE"]

#: torch functions (by ``__name__``) that keep every position where it is.
TORCH_POINTWISE = frozenset("""relu relu_ leaky_relu leaky_relu_ sigmoid sigmoid_ tanh tanh_ elu elu_ selu celu
gelu silu mish hardtanh hardtanh_ hardswish hardsigmoid softplus relu6 prelu batch_norm instance_norm group_norm
dropout dropout2d dropout3d feature_dropout alpha_dropout clamp clamp_ clip contiguous clone detach to float
add add_ sub sub_ mul mul_ div div_ __add__ __radd__ __iadd__ __sub__ __rsub__ __mul__ __rmul__ __imul__
__truediv__ __itruediv__ neg exp abs sqrt""".split())
_BINARY = frozenset("add add_ sub sub_ mul mul_ div div_ __add__ __radd__ __iadd__ __sub__ __rsub__ __mul__ "
                    "__rmul__ __imul__ __truediv__ __itruediv__".split())


def _numpy(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _tuple(v: Any, n: int) -> tuple[int, ...]:
    return tuple(int(x) for x in v) if isinstance(v, (list, tuple)) else (int(v),) * n


def _bind(func_name: str, args: tuple[Any, ...], kwargs: dict[str, Any], names: Sequence[str],
          defaults: dict[str, Any]) -> dict[str, Any]:
    out = dict(defaults)
    out.update(zip(names, args, strict=False))
    out.update(kwargs)
    return out


_SIGNATURES: dict[str, tuple[list[str], dict[str, Any]]] = {
    "conv_transpose": (["input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation"],
                       {"bias": None, "stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "dilation": 1}),
    "conv": (["input", "weight", "bias", "stride", "padding", "dilation", "groups"],
             {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1}),
    "interpolate": (["input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias"],
                    {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None,
                     "recompute_scale_factor": None, "antialias": False}),
    "pixel_shuffle": (["input", "upscale_factor"], {}),
    "max_unpool": (["input", "indices", "kernel_size", "stride", "padding", "output_size"],
                   {"stride": None, "padding": 0, "output_size": None}),
}


def _family(name: str) -> str | None:
    for fam in ("conv_transpose", "max_unpool"):
        if name.startswith(fam):
            return fam
    if name in ("conv1d", "conv2d", "conv3d"):
        return "conv"
    if name in ("interpolate", "pixel_shuffle"):
        return name
    return None


def read_torch(module: Any, example_input: Any = None,
               input_size: Sequence[int] | Mapping[str, Sequence[int]] | None = None, seed: int = 0) -> Graph:
    """The :class:`Graph` of a torch module run once on ``example_input`` (or a random input of ``input_size``)."""
    import torch
    from torch.overrides import TorchFunctionMode

    if example_input is None:
        if input_size is None:
            raise ValueError("lint: a torch module needs example_input= (a tensor) or input_size= (its shape)")
        if isinstance(input_size, Mapping):
            raise ValueError("input_size: a torch module takes one shape (N, C, *spatial), not a mapping")
        gen = torch.Generator().manual_seed(seed)
        example_input = torch.randn(tuple(int(s) for s in input_size), generator=gen)
    inputs = example_input if isinstance(example_input, tuple) else (example_input,)
    names: dict[int, str] = {}
    keep: list[Any] = []  # every tensor seen stays alive, so that id() values are not reused
    graph_inputs = {}
    for i, t in enumerate(inputs):
        if isinstance(t, torch.Tensor):
            names[id(t)] = f"input{i}"
            keep.append(t)
            graph_inputs[f"input{i}"] = tuple(t.shape)
    stack: list[tuple[str, Any]] = [("", module)]
    records: list[tuple[Any, ...]] = []

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            result = func(*args, **kwargs)
            fname = getattr(func, "__name__", str(func))
            if fname in ("__get__", "__set__", "size", "dim"):
                return result
            outs = result if isinstance(result, tuple) else (result,)
            if any(isinstance(o, torch.Tensor) for o in outs):
                # values of the layers replayed, copied now: later in-place ops may change the tensors
                snap = None
                if _family(fname) is not None:
                    snap = [_numpy(t) for t in _flat(list(args) + list(kwargs.values()))
                            if isinstance(t, torch.Tensor)], [_numpy(o) for o in outs if isinstance(o, torch.Tensor)]
                records.append((fname, args, kwargs, outs, snap, stack[-1]))
                keep.extend(o for o in outs if isinstance(o, torch.Tensor))
            return result

    def enter(name: str) -> Any:
        def hook(m: Any, args: Any) -> None:
            stack.append((name, m))
        return hook

    def leave(m: Any, args: Any, out: Any) -> None:
        stack.pop()

    hooks = []
    for name, sub in module.named_modules():
        if sub is not module:
            hooks += [sub.register_forward_pre_hook(enter(name)), sub.register_forward_hook(leave)]
    training = {m: m.training for m in module.modules()}
    module.eval()
    try:
        with torch.no_grad(), Recorder():
            module(*inputs)
    except Exception as exc:  # the user's module failed on this input
        raise ValueError(f"lint: the module's forward failed on an input of shape "
                         f"{tuple(inputs[0].shape) if hasattr(inputs[0], 'shape') else '?'}: "
                         f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    finally:
        for h in hooks:
            h.remove()
        for m, flag in training.items():
            m.train(flag)
    return _build(records, names, graph_inputs, type(module).__name__, torch)


def _build(records: list[tuple[Any, ...]], names: dict[int, str], graph_inputs: dict[str, tuple[int, ...]],
           description: str, torch: Any) -> Graph:
    nodes: list[Node] = []
    values: dict[str, np.ndarray] = {}
    counts: Counter[str] = Counter()
    used: Counter[str] = Counter()
    serial = itertools.count()
    for fname, args, kwargs, outs, snap, (mod_name, mod) in records:
        tensors_in = [a for a in _flat(args) + _flat(list(kwargs.values())) if isinstance(a, torch.Tensor)]
        data_in = [names[id(t)] for t in tensors_in if id(t) in names]
        for o in outs:  # a new name even for a tensor seen before (in-place ops): a new version of it
            if isinstance(o, torch.Tensor):
                names[id(o)] = f"v{next(serial)}"
        out_names = tuple(names[id(o)] if isinstance(o, torch.Tensor) else "" for o in outs)
        counts[fname] += 1
        fam = _family(fname)
        first = next((a for a in _flat(args) if isinstance(a, torch.Tensor)), None)
        in_shape = tuple(first.shape) if first is not None else None
        out_shape = tuple(outs[0].shape) if isinstance(outs[0], torch.Tensor) else None
        if fam is None:
            if fname in TORCH_POINTWISE and (fname not in _BINARY or len(data_in) <= 1):
                kind = "pointwise"
            else:
                kind = "other"
            nodes.append(Node(name=_unique(mod_name, fname, used), op=kind, source_op=fname,
                              inputs=tuple(data_in[:1]) if kind == "pointwise" else tuple(data_in),
                              outputs=out_names, in_shape=in_shape, out_shape=out_shape))
            continue
        sig, defaults = _SIGNATURES[fam]
        bound = _bind(fname, args, kwargs, sig, defaults)
        node = Node(name="", op=fam if fam != "interpolate" else "resize", source_op=fname,
                    inputs=(names.get(id(bound["input"]), ""),) + tuple(n for n in data_in[1:]),
                    outputs=out_names, in_shape=in_shape, out_shape=out_shape)
        own = _module_owns(mod, fam, torch)
        node.name = mod_name if own and mod_name else _unique(mod_name, fname, used)
        node.source_op = type(mod).__name__ if own else f"F.{fname}"
        try:
            _params(node, fam, bound, mod if own else None)
        except ValueError as exc:
            node.skipped = str(exc)
        if fam == "pixel_shuffle":
            node.op = "depth_to_space"
        ins, outs_ = snap
        values[node.inputs[0]] = ins[0]
        values[out_names[0]] = outs_[0]
        if fam == "max_unpool":
            values[node.name + ":indices"] = ins[1]
        nodes.append(node)
    graph = Graph(nodes, source="torch", description=description, inputs=graph_inputs, values=values,
                  op_counts=dict(counts), replay_reference=f"torch {torch.__version__}")
    return graph


def _flat(items: Sequence[Any]) -> list[Any]:
    out = []
    for a in items:
        out.extend(_flat(a) if isinstance(a, (list, tuple)) else [a])
    return out


def _unique(mod_name: str, fname: str, used: Counter[str]) -> str:
    base = f"{mod_name}.{fname}" if mod_name else fname
    used[base] += 1
    return base if used[base] == 1 else f"{base}_{used[base] - 1}"


def _module_owns(mod: Any, fam: str, torch: Any) -> bool:
    nn = torch.nn
    kinds = {"conv_transpose": (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d),
             "conv": (nn.Conv1d, nn.Conv2d, nn.Conv3d), "interpolate": (nn.Upsample,),
             "pixel_shuffle": (nn.PixelShuffle,), "max_unpool": (nn.MaxUnpool1d, nn.MaxUnpool2d, nn.MaxUnpool3d)}
    return isinstance(mod, kinds[fam])


def _params(node: Node, fam: str, b: dict[str, Any], mod: Any) -> None:
    """Normalised parameters (as :mod:`upconv.linter.graph`) and user-facing attributes of one call."""
    in_shape = node.known_in_shape()
    n = len(in_shape) - 2
    if fam in ("conv_transpose", "conv"):
        w = _numpy(b["weight"]).astype(np.float64)
        node.weight, node.bias = w, None if b["bias"] is None else _numpy(b["bias"])
        k = tuple(w.shape[2:])
        s, d = _tuple(b["stride"], n), _tuple(b["dilation"], n)
        pad = b["padding"]
        if isinstance(pad, str):  # conv: 'valid' / 'same' (extra element at the end, SEMANTICS.md §1)
            pad = (((0, 0),) * n if pad == "valid" else
                   tuple((t // 2, t - t // 2) for t in (dd * (kk - 1) for dd, kk in zip(d, k, strict=True))))
        else:
            pad = tuple((p, p) for p in _tuple(pad, n))
        node.params = {"kernel_size": k, "stride": s, "dilation": d, "groups": int(b["groups"]), "padding": pad}
        if fam == "conv_transpose":
            node.params["output_padding"] = _tuple(b["output_padding"], n)
        if mod is not None:
            node.attributes = {key: getattr(mod, key) for key in ("in_channels", "out_channels", "kernel_size",
                                                                  "stride", "padding", "output_padding", "groups",
                                                                  "dilation") if hasattr(mod, key)}
            node.attributes["bias"] = mod.bias is not None
            if fam == "conv_transpose" and tuple(mod.output_padding) != node.params["output_padding"]:
                node.attributes["output_size"] = list(node.known_out_shape()[2:])
        else:
            node.attributes = {key: b[key] for key in ("stride", "padding", "output_padding", "groups", "dilation")
                               if key in b}
        return
    if fam == "interpolate":
        size, sf = b["size"], b["scale_factor"]
        tp = {"size": None if size is None else _tuple(size, n),
              "scale_factor": None if sf is None else tuple(float(x) for x in (sf if isinstance(sf, (list, tuple))
                                                                                 else (sf,) * n)),
              "mode": b["mode"], "align_corners": b["align_corners"],
              "recompute_scale_factor": b["recompute_scale_factor"], "antialias": bool(b["antialias"])}
        node.attributes = {k: v for k, v in tp.items() if v is not None and v is not False}
        form = onnx_form(tp, n, in_shape)
        node.params = dict(form or {})
        node.params["torch"] = tp
        return
    if fam == "pixel_shuffle":
        r = int(b["upscale_factor"])
        node.params = {"blocksize": r, "mode": "CRD"}
        node.attributes = {"upscale_factor": r}
        return
    k = _tuple(b["kernel_size"], n)
    s = k if b["stride"] is None else _tuple(b["stride"], n)
    p = _tuple(b["padding"], n)
    pairs = tuple((x, x) for x in p)
    size = None if b["output_size"] is None else tuple(int(x) for x in list(b["output_size"])[-n:])
    node.params = {"kernel_size": k, "stride": s, "padding": pairs, "output_size": size,
                   "default_size": shapes.max_unpool_output_size(in_shape[2:], k, s, pairs)}
    node.attributes = {"kernel_size": k, "stride": s, "padding": p} | ({"output_size": size} if size else {})


def read_state_dict(state_dict: Mapping[str, Any], config: Sequence[Mapping[str, Any]],
                    input_size: Sequence[int] | Mapping[str, Sequence[int]] | None) -> Graph:
    """The :class:`Graph` of layers described by ``config``, applied in order, with weights from ``state_dict``.

    Each entry: ``{"name": prefix in the state dict, "type": one of
    ConvTranspose{1,2,3}d, Conv{1,2,3}d, Upsample, PixelShuffle,
    MaxUnpool{1,2,3}d, or any other name for a pointwise layer (ReLU,
    BatchNorm2d, ...), **the torch constructor's keyword arguments}``.
    Convolution weights come from ``state_dict[name + ".weight"]`` (and
    ``".bias"``); ``input_size`` is the first layer's input, full
    ``(N, C, *spatial)`` or spatial only (N = 1, C from the first weight).
    """
    if input_size is None or isinstance(input_size, Mapping):
        raise ValueError("input_size: a state dict needs the first layer's input size, (N, C, *spatial) or spatial")
    size = [int(x) for x in input_size]
    nodes, value = [], "input0"
    shape: tuple[int, ...] | None = None
    for i, layer in enumerate(config):
        typ, name = str(layer.get("type", "")), str(layer.get("name", f"layer{i}"))
        kw = {k: v for k, v in layer.items() if k not in ("type", "name")}
        w = state_dict.get(f"{name}.weight")
        if shape is None:
            if len(size) >= 3 and (w is None or len(size) == np.ndim(w)):
                shape = tuple(size)
            else:
                if w is None:
                    raise ValueError(f"input_size: give (N, C, *spatial): the first layer {name!r} has no weight")
                c = np.shape(w)[0] if typ.startswith("ConvTranspose") else np.shape(w)[1] * int(layer.get("groups", 1))
                shape = (1, int(c), *size)
        out_name = f"v{i}"
        node = _config_node(typ, name, kw, w, state_dict.get(f"{name}.bias"), shape, value, out_name)
        nodes.append(node)
        shape, value = node.out_shape, out_name
    return Graph(nodes, source="state_dict", description=f"state dict ({len(state_dict)} tensors)",
                 inputs={"input0": nodes[0].known_in_shape() if nodes else tuple(size)},
                 op_counts=dict(Counter(str(c.get("type")) for c in config)))


def _config_node(typ: str, name: str, kw: dict[str, Any], w: Any, bias: Any, shape: tuple[int, ...], value: str,
                 out_name: str) -> Node:
    node = Node(name=name, op="pointwise", source_op=typ, inputs=(value,), outputs=(out_name,), in_shape=shape,
                out_shape=shape, attributes=dict(kw))
    if typ.startswith(("ConvTranspose", "Conv")):
        if w is None:
            raise ValueError(f"config: layer {name!r} ({typ}) has no {name + '.weight'!r} in the state dict")
        fam = "conv_transpose" if typ.startswith("ConvTranspose") else "conv"
        b = {"weight": w, "bias": bias, "stride": kw.get("stride", 1), "padding": kw.get("padding", 0),
             "output_padding": kw.get("output_padding", 0), "groups": kw.get("groups", 1),
             "dilation": kw.get("dilation", 1)}
        node.op = fam
        _params(node, fam, b, None)
        p = node.params
        weight = node.weight
        if weight is None:  # not reached: _params sets it for convolutions
            raise ValueError(f"config: layer {name!r} ({typ}) has no weight")
        if fam == "conv_transpose":
            c_out = weight.shape[1] * p["groups"]
            spatial = shapes.conv_transpose_output_size(shape[2:], p["kernel_size"], p["stride"], p["padding"],
                                                        p["output_padding"], p["dilation"])
        else:
            c_out = weight.shape[0]
            spatial = shapes.conv_output_size(shape[2:], p["kernel_size"], p["stride"], p["padding"], p["dilation"])
        node.out_shape = (shape[0], c_out, *spatial)
    elif typ == "Upsample":
        node.op = "resize"
        _params(node, "interpolate", {"size": kw.get("size"), "scale_factor": kw.get("scale_factor"),
                                      "mode": kw.get("mode", "nearest"), "align_corners": kw.get("align_corners"),
                                      "recompute_scale_factor": kw.get("recompute_scale_factor"),
                                      "antialias": kw.get("antialias", False)}, None)
        tp = node.params["torch"]
        node.out_shape = (*shape[:2], *shapes.interpolate_output_size(shape[2:], tp["size"], tp["scale_factor"]))
    elif typ == "PixelShuffle":
        node.op = "depth_to_space"
        r = int(kw["upscale_factor"])
        node.params, node.attributes = {"blocksize": r, "mode": "CRD"}, {"upscale_factor": r}
        node.out_shape = (shape[0], shape[1] // (r * r), *(s * r for s in shape[2:]))
    elif typ.startswith("MaxUnpool"):
        node.op = "max_unpool"
        _params(node, "max_unpool", {"kernel_size": kw["kernel_size"], "stride": kw.get("stride"),
                                     "padding": kw.get("padding", 0), "output_size": kw.get("output_size")}, None)
        p = node.params
        node.out_shape = (*shape[:2], *shapes.max_unpool_output_size(shape[2:], p["kernel_size"], p["stride"],
                                                                      p["padding"], output_size=p["output_size"]))
    return node
