"""Shapes and small constants of the ONNX operators around the up-sampling nodes.

:func:`infer` gives the output shapes of the common operators (pointwise,
broadcasting, normalisations, convolutions and pools through
:mod:`upconv.shapes`, reshapes); :func:`fold` evaluates the small integer
sub-graphs exporters emit to compute Resize sizes (``Shape -> Slice ->
Concat``).  Operators without a rule here fall back to ONNX's own shape
inference (:mod:`upconv.linter.onnx_graph`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from upconv import shapes

__all__ = ["POINTWISE", "BROADCAST", "SAME_SHAPE", "conv_pads", "infer", "fold"]

#: Element-wise operators with one data input: the output is the input, position by position.
POINTWISE = frozenset("""Relu LeakyRelu PRelu Sigmoid Tanh Elu Selu Celu Softplus Softsign HardSigmoid HardSwish Gelu
Mish Erf Exp Log Abs Neg Sqrt Reciprocal Clip Cast Identity Dropout BatchNormalization InstanceNormalization
GroupNormalization ThresholdedRelu Floor Ceil Round Sign Sin Cos Swish QuickGelu""".split())
#: Shape of input 0, but mixing positions or channels (not pointwise for path walks).
SAME_SHAPE = frozenset("LayerNormalization LpNormalization Softmax LogSoftmax LRN MeanVarianceNormalization".split())
#: Numpy broadcasting.
BROADCAST = frozenset("Add Sub Mul Div Pow Max Min Sum Mean Where And Or Xor Equal Less LessOrEqual Greater "
                      "GreaterOrEqual Mod BitShift".split())


def conv_pads(attrs: dict[str, Any], in_size: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
              dilation: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """``(begin, end)`` per axis of an ONNX Conv or pool from ``pads`` or ``auto_pad`` (``shapes.same_padding``)."""
    n = len(kernel)
    auto = attrs.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        return shapes.same_padding(in_size, kernel, stride, dilation, mode=auto.lower())
    if auto == "VALID":
        return ((0, 0),) * n
    pads = list(attrs.get("pads", [0] * (2 * n)))
    return tuple((int(pads[i]), int(pads[i + n])) for i in range(n))


def _ints(attrs: dict[str, Any], key: str, n: int, default: int) -> tuple[int, ...]:
    v = attrs.get(key)
    return (default,) * n if v is None else tuple(int(x) for x in v)


def infer(op: str, attrs: dict[str, Any], shapes_in: list[tuple[int, ...] | None],
          consts: list[np.ndarray | None], n_out: int) -> list[tuple[int, ...] | None] | None:
    """Output shapes of one node, or None when there is no rule (or an input shape is unknown)."""
    x = shapes_in[0] if shapes_in else None
    known = [s for s in shapes_in if s is not None]  # all of shapes_in when every input shape is known
    if op in POINTWISE or op in SAME_SHAPE:
        return None if x is None else [x] * n_out
    if op in BROADCAST:
        if len(known) < len(shapes_in):
            return None
        return [tuple(np.broadcast_shapes(*known))]
    if x is None:
        return None
    if op in ("Conv", "MaxPool", "AveragePool", "LpPool"):
        return _conv_like(op, attrs, x, shapes_in, n_out)
    if op in ("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"):
        return [(*x[:2], *(1,) * (len(x) - 2))]
    if op == "Concat":
        if len(known) < len(shapes_in):
            return None
        axis = int(attrs["axis"]) % len(x)
        return [(*x[:axis], sum(s[axis] for s in known), *x[axis + 1:])]
    if op == "Flatten":
        axis = int(attrs.get("axis", 1)) % (len(x) + 1)
        return [(math.prod(x[:axis]), math.prod(x[axis:]))]
    if op == "Transpose":
        perm = attrs.get("perm", list(range(len(x)))[::-1])
        return [tuple(x[p] for p in perm)]
    if op == "Gemm":
        b = shapes_in[1]
        return None if b is None else [(x[1] if attrs.get("transA") else x[0], b[0] if attrs.get("transB") else b[1])]
    if op == "SpaceToDepth":
        block = int(attrs["blocksize"])
        return [(x[0], x[1] * block * block, *(s // block for s in x[2:]))]
    if op == "Reshape":
        if len(consts) < 2 or consts[1] is None:
            return None
        target = [x[i] if t == 0 and not attrs.get("allowzero") else int(t) for i, t in enumerate(consts[1])]
        if -1 in target:
            target[target.index(-1)] = math.prod(x) // -math.prod(target)
        return [tuple(target)]
    if op in ("Squeeze", "Unsqueeze", "Slice", "Expand", "Tile", "Shape", "Gather", "Pad"):
        # evaluate on a zero-stride stand-in of the input: views only, no allocation of the input's size
        stand_in = np.lib.stride_tricks.as_strided(np.zeros(1, np.int8), shape=x, strides=(0,) * len(x))
        if op in ("Pad", "Tile", "Expand"):
            stand_in = np.zeros((1,) * len(x), np.int8)
            const = fold(op, attrs, [stand_in, *consts[1:]], [x])
            if const is None:
                return None
            grow = [c - 1 for c in const[0].shape]  # Pad adds, Tile/Expand multiply / broadcast
            if op == "Pad":
                return [tuple(a + g for a, g in zip(x, grow, strict=True))]
            given = consts[1]
            if given is None:  # not reached: fold needs Tile's repeats and Expand's shape
                return None
            reps = [int(t) for t in given]
            return [tuple(a * r for a, r in zip(x, reps, strict=True))] if op == "Tile" else [
                tuple(np.broadcast_shapes(x, tuple(reps)))]
        const = fold(op, attrs, [stand_in, *consts[1:]], shapes_in)
        return None if const is None else [tuple(c.shape) for c in const]
    return None


def _conv_like(op: str, attrs: dict[str, Any], x: tuple[int, ...], shapes_in: list[tuple[int, ...] | None],
               n_out: int) -> list[tuple[int, ...] | None] | None:
    n = len(x) - 2
    w = shapes_in[1] if op == "Conv" else None
    if op == "Conv":
        if w is None:
            return None
        kernel = tuple(attrs.get("kernel_shape", w[2:]))
    else:
        kernel = tuple(attrs["kernel_shape"])
    stride = _ints(attrs, "strides", n, 1)
    dilation = _ints(attrs, "dilations", n, 1)
    pads = conv_pads(attrs, x[2:], kernel, stride, dilation)
    if w is not None:  # Conv
        return [(x[0], w[0], *shapes.conv_output_size(x[2:], kernel, stride, pads, dilation))]
    out = shapes.pool_output_size(x[2:], kernel, stride, pads, dilation, bool(attrs.get("ceil_mode", 0)))
    return [(*x[:2], *out)] * n_out


def fold(op: str, attrs: dict[str, Any], values: list[np.ndarray | None],
         shapes_in: list[tuple[int, ...] | None]) -> list[np.ndarray] | None:
    """Evaluate a node on constant inputs with NumPy (the shape arithmetic exporters emit), or None."""
    if op == "Constant":
        return [np.asarray(next(iter(attrs.values())))]
    if op == "Shape":
        if not shapes_in or shapes_in[0] is None:
            return None
        shape = np.array(shapes_in[0], dtype=np.int64)
        start, end = attrs.get("start", 0), attrs.get("end")
        return [shape[start:end]]
    if op == "ConstantOfShape":
        if values[0] is None:
            return None
        fill = np.asarray(attrs.get("value", np.zeros(1, np.float32))).ravel()
        return [np.full(tuple(int(v) for v in values[0]), fill[0], dtype=fill.dtype)]
    v = values
    if not v or v[0] is None:
        return None
    if op in ("Identity", "Cast"):
        x = v[0]
        return [x.astype(_NP.get(int(attrs["to"]), x.dtype)) if op == "Cast" else x]
    if op in ("Add", "Sub", "Mul", "Div"):
        if len(v) < 2 or v[1] is None:
            return None
        a, b = v[0], v[1]
        if op == "Div":
            r = a // b if np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer) else a / b
        else:
            r = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}[op](a, b)
        return [np.asarray(r)]
    if op in ("Floor", "Ceil"):
        return [np.floor(v[0]) if op == "Floor" else np.ceil(v[0])]
    if op == "Concat":
        parts = [x for x in v if x is not None]
        if len(parts) < len(v):
            return None
        return [np.concatenate([np.atleast_1d(x) for x in parts], axis=int(attrs["axis"]))]
    if op == "Gather":
        if len(v) < 2 or v[1] is None:
            return None
        return [np.take(v[0], v[1].astype(np.int64), axis=int(attrs.get("axis", 0)))]
    if op == "Unsqueeze":
        axes = attrs.get("axes", None if len(v) < 2 or v[1] is None else v[1].tolist())
        if axes is None:
            return None
        out = v[0]
        for axis in sorted(int(a) % (out.ndim + len(axes)) for a in axes):
            out = np.expand_dims(out, axis)
        return [out]
    if op == "Squeeze":
        axes = attrs.get("axes", None if len(v) < 2 or v[1] is None else v[1].tolist())
        return [np.squeeze(v[0], axis=None if axes is None else tuple(int(a) for a in axes))]
    if op == "Slice":
        return _slice(attrs, v)
    if op == "Reshape":
        if len(v) < 2 or v[1] is None:
            return None
        target = [int(t) for t in v[1]]
        target = [v[0].shape[i] if t == 0 and not attrs.get("allowzero") else t for i, t in enumerate(target)]
        return [v[0].reshape(target)]
    if op == "Pad":
        pads = attrs.get("pads", None if len(v) < 2 or v[1] is None else v[1].tolist())
        if pads is None or attrs.get("mode", "constant") != "constant" or (len(v) > 3 and v[3] is not None):
            return None
        n = v[0].ndim
        return [np.pad(v[0], [(int(pads[i]), int(pads[i + n])) for i in range(n)])]
    if op in ("Expand", "Tile"):
        if len(v) < 2 or v[1] is None:
            return None
        if op == "Tile":
            return [np.tile(v[0], [int(t) for t in v[1]])]
        return [v[0] * np.ones(tuple(int(t) for t in v[1]), dtype=v[0].dtype)]
    return None


def _slice(attrs: dict[str, Any], v: list[np.ndarray | None]) -> list[np.ndarray] | None:
    x = v[0]
    if x is None:
        return None
    if "starts" in attrs:  # Slice-1: attributes
        starts, ends, axes, steps = attrs["starts"], attrs["ends"], attrs.get("axes"), None
    else:
        if len(v) < 3 or v[1] is None or v[2] is None:
            return None
        starts, ends = v[1].tolist(), v[2].tolist()
        axes = None if len(v) < 4 or v[3] is None else v[3].tolist()
        steps = None if len(v) < 5 or v[4] is None else v[4].tolist()
    axes = list(range(len(starts))) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * x.ndim
    for a, b, e, s in zip(axes, starts, ends, steps, strict=True):
        index[int(a)] = slice(int(b), int(e), int(s))  # Python slicing clamps as ONNX does
    return [x[tuple(index)]]


#: ONNX TensorProto element types -> NumPy dtypes (the ones shape arithmetic uses).
_NP = {1: np.float32, 6: np.int32, 7: np.int64, 10: np.float16, 11: np.float64, 9: np.bool_}
