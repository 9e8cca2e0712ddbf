"""The equivalent ``upconv`` call and the torch call of a node, as text (and the ONNX -> torch translation).

Formatting only, apart from :func:`conv_transpose_torch_args` (which torch
``ConvTranspose`` arguments give the node's output window, if any) and the
Resize <-> interpolate keyword translations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "fmt_value",
    "call",
    "conv_transpose_torch_args",
    "conv_transpose_calls",
    "resize_kwargs",
    "interpolate_kwargs",
    "interpolate_call",
    "resize_call",
    "axes_text",
    "Exact",
]

#: ONNX Resize attribute defaults (opset 19): omitted from calls.
RESIZE_DEFAULTS = {
    "mode": "nearest", "coordinate_transformation_mode": "half_pixel", "nearest_mode": "round_prefer_floor",
    "cubic_coeff_a": -0.75, "exclude_outside": 0, "extrapolation_value": 0.0, "antialias": 0,
    "keep_aspect_ratio_policy": "stretch", "axes": None,
}


def fmt_value(v: Any) -> str:
    """A value as Python source: tuples with equal entries collapse to one, strings quoted with ``"``."""
    if isinstance(v, (_List, Exact)):
        return repr(v)
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, (list, tuple)):
        items = [fmt_value(x) for x in v]
        if items and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v) and len(set(v)) == 1:
            return items[0]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    return repr(v)


def call(func: str, *args: str, **kwargs: Any) -> str:
    """``func(arg, ..., key=value, ...)`` with values through :func:`fmt_value`."""
    parts = list(args) + [f"{k}={fmt_value(v)}" for k, v in kwargs.items()]
    return f"{func}({', '.join(parts)})"


def conv_transpose_torch_args(params: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """torch ``ConvTranspose`` ``padding``/``output_padding`` giving the node's window, or None and why.

    The node outputs window ``[b, full - e + a)`` of the un-cropped result
    (zero-extended); torch outputs ``[p, full - p + a')``.  So ``p = b`` and
    ``a' = a + b - e``, valid when ``0 <= a' < max(stride, dilation)``.
    """
    pads, a = params["padding"], params["output_padding"]
    s, d = params["stride"], params["dilation"]
    p, op = [], []
    for i, ((b, e), ai) in enumerate(zip(pads, a, strict=True)):
        ap = ai + b - e
        if ap < 0:
            return None, (f"axis {i} crops {e} at the end but {b} at the start; torch crops the same on both "
                          f"sides: use padding={b}, then drop the last {-ap} element(s) (y[..., :-{-ap}])")
        if ap >= max(s[i], d[i]):
            return None, (f"axis {i} needs output_padding {ap} >= max(stride, dilation) = {max(s[i], d[i])}: use "
                          f"padding={b}, output_padding=0, then pad {ap} zero(s) at the end")
        p.append(b)
        op.append(ap)
    return {"padding": tuple(p), "output_padding": tuple(op)}, ""


def conv_transpose_calls(params: dict[str, Any], c_in: int, c_out: int, has_bias: bool) -> tuple[str, str | None]:
    """``(upconv call, torch module call or None)`` of a transposed convolution."""
    n = len(params["kernel_size"])
    kw: dict[str, Any] = {"stride": tuple(params["stride"])}
    pads = [tuple(p) for p in params["padding"]]
    if any(pads_ != (0, 0) for pads_ in pads):
        kw["padding"] = tuple(b for b, _ in pads) if all(b == e for b, e in pads) else tuple(pads)
    for key in ("output_padding", "groups", "dilation"):
        default = 1 if key != "output_padding" else 0
        value = params[key]
        if (value != default) if isinstance(value, int) else any(x != default for x in value):
            kw[key] = value if isinstance(value, int) else tuple(value)
    up = call("upconv.conv_transpose", "x", "w", "b" if has_bias else "None", **kw)
    args, _ = conv_transpose_torch_args(params)
    if args is None:
        return up, None
    tk: dict[str, Any] = {"kernel_size": tuple(params["kernel_size"])}
    if any(x != 1 for x in params["stride"]):
        tk["stride"] = tuple(params["stride"])
    if any(args["padding"]):
        tk["padding"] = args["padding"]
    if any(args["output_padding"]):
        tk["output_padding"] = args["output_padding"]
    if params["groups"] != 1:
        tk["groups"] = params["groups"]
    if any(x != 1 for x in params["dilation"]):
        tk["dilation"] = tuple(params["dilation"])
    if not has_bias:
        tk["bias"] = False
    return up, call(f"nn.ConvTranspose{n}d", str(c_in), str(c_out), **tk)


def resize_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of :func:`upconv.resize` for a node's ONNX-form parameters."""
    kw = {key: params[key] for key in ("sizes", "scales", "roi") if params.get(key) is not None}
    for key, default in RESIZE_DEFAULTS.items():
        if params.get(key, default) != default:
            kw[key] = params[key]
    return kw


def resize_call(params: dict[str, Any]) -> str:
    """``upconv.resize(x, ...)`` for a node's ONNX-form parameters (attributes the mode ignores left out)."""
    kw = resize_kwargs(params)
    mode = params.get("mode", "nearest")
    for key, used in (("nearest_mode", mode == "nearest"), ("cubic_coeff_a", mode == "cubic"),
                      ("exclude_outside", mode != "nearest")):
        if not used:
            kw.pop(key, None)
    return call("upconv.resize", "x", **{k: (_List(v) if isinstance(v, (list, tuple)) else v) for k, v in kw.items()})


class _List(list):
    """A list printed as a list (not collapsed) by :func:`fmt_value`."""

    def __repr__(self) -> str:
        return "[" + ", ".join(repr(x) for x in self) + "]"


class Exact(tuple):
    """A tuple printed as a tuple (not collapsed to one value) by :func:`fmt_value`: a size that must be a sequence."""

    def __repr__(self) -> str:
        return "(" + ", ".join(repr(x) for x in self) + ("," if len(self) == 1 else "") + ")"


def interpolate_kwargs(torch_params: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of :func:`upconv.interpolate` / ``F.interpolate`` (canonical: None values dropped)."""
    kw: dict[str, Any] = {}
    if torch_params.get("size") is not None:
        kw["size"] = tuple(torch_params["size"])
    else:
        kw["scale_factor"] = tuple(float(x) for x in torch_params["scale_factor"])
    kw["mode"] = torch_params["mode"]
    if torch_params["mode"] in ("linear", "bilinear", "trilinear", "bicubic"):
        kw["align_corners"] = bool(torch_params.get("align_corners"))
    if torch_params.get("recompute_scale_factor"):
        kw["recompute_scale_factor"] = True
    if torch_params.get("antialias"):
        kw["antialias"] = True
    return kw


def interpolate_call(torch_params: dict[str, Any], func: str = "F.interpolate") -> str:
    """``F.interpolate(x, ...)`` (or ``upconv.interpolate``) for a torch-form call."""
    return call(func, "x", **interpolate_kwargs(torch_params))


def axes_text(values: Sequence[Any]) -> str:
    """``3x3``: the sizes joined by ``x``."""
    return "x".join(map(str, values))
