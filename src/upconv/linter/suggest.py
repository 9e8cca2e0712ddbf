"""A suggestion per flagged layer: an artifact-free replacement with the same output size, as a torch snippet.

Transposed convolutions get two: a resize-convolution (nearest up-sampling
by the stride, then a convolution; every phase of its equivalent kernel
sums to the convolution's sum, so a flat input gives a flat output), and
the transposed convolution :func:`upconv.plan` rates artifact-free for the
same sizes and stride, initialised as that resize-convolution with
:func:`upconv.resize_equivalent_kernel`.  Sub-pixel layers get ICNR
(:func:`upconv.nn.init.icnr`); Resize nodes the call that avoids the trap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from upconv.explain.planner import PlanLayer, plan
from upconv.linter.calls import axes_text, call, fmt_value, interpolate_call
from upconv.linter.geometry import border_deficits, unreached_positions

__all__ = ["resize_conv_for", "plan_choice", "conv_transpose_suggestion", "subpixel_suggestion", "resize_suggestion"]

#: Kernel size of the suggested resize-convolution's convolution (larger only to crop).
CONV_KERNEL = 3


def resize_conv_for(in_size: int, out_size: int, stride: int) -> tuple[int, tuple[int, int]]:
    """``(kernel, (pad_begin, pad_end))`` of a convolution after nearest x``stride`` giving ``out_size``.

    The padded length ``in*stride + pb + pe`` minus ``kernel - 1`` must be
    ``out_size``: a 3-tap kernel with the padding split evenly (the extra
    element at the end), or a larger unpadded kernel when the output is
    shorter than ``in*stride - 2``.

    Examples
    --------
    >>> resize_conv_for(7, 14, 2), resize_conv_for(7, 15, 2), resize_conv_for(7, 12, 2)
    ((3, (1, 1)), (3, (1, 2)), (3, (0, 0)))
    """
    total = out_size - in_size * stride + CONV_KERNEL - 1
    if total < 0:
        return CONV_KERNEL - total, (0, 0)
    return CONV_KERNEL, (total // 2, total - total // 2)


def plan_choice(in_size: int, out_size: int, kernel_size: int, stride: int,
                prefer: tuple[int, int, int] | None = None) -> PlanLayer | None:
    """The :func:`upconv.plan` layer for ``in_size -> out_size`` with this stride that is artifact-free.

    Artifact-free here: overlap ratio 1, every output reached by a tap
    (:func:`upconv.linter.geometry.unreached_positions`, which the planner
    does not check yet), dilation 1.  ``prefer`` = ``(kernel, padding,
    output_padding)`` is taken when the plan lists it so; otherwise the first
    with a kernel at least ``kernel_size`` (not blockier than the layer), even
    borders first; None if there is none.
    """
    rows = plan(in_size, out_size, max_kernel=max(kernel_size, 2 * stride, prefer[0] if prefer else 1),
                       min_stride=stride, max_stride=stride, max_dilation=1)
    ok = [r.layers[0] for r in rows if r.ratio == 1
          and not unreached_positions(in_size, r.layers[0].kernel_size, stride, (r.layers[0].padding,) * 2,
                                      r.layers[0].output_padding).size]
    same = [L for L in ok if (L.kernel_size, L.padding, L.output_padding) == prefer]
    if same:
        return same[0]
    big = [L for L in ok if L.kernel_size >= kernel_size]
    if big:
        even = [L for L in big if _even(in_size, L, stride)]
        return (even or big)[0]
    return ok[-1] if ok else None


def _even(in_size: int, layer: PlanLayer, stride: int) -> bool:
    b, e = border_deficits(in_size, layer.kernel_size, stride, (layer.padding,) * 2, layer.output_padding)
    return b == e


def conv_transpose_suggestion(
    params: dict[str, Any], in_shape: Sequence[int], out_shape: Sequence[int], has_bias: bool,
) -> dict[str, Any] | None:
    """Resize-convolution (and plan's transposed convolution) with the layer's output size, as a torch snippet."""
    s = tuple(params["stride"])
    if set(s) == {1}:
        return None
    n = len(s)
    c_in, c_out, groups = in_shape[1], out_shape[1], params["groups"]
    ins, outs = in_shape[2:], out_shape[2:]
    convs = [resize_conv_for(i, o, st) for i, o, st in zip(ins, outs, s, strict=True)]
    kc = tuple(k for k, _ in convs)
    pads = tuple(p for _, p in convs)
    lines = [f"# same output size {tuple(out_shape)}, no checkerboard: nearest x{fmt_value(s)}, then a convolution",
             "up = nn.Sequential(", f"    nn.Upsample(scale_factor={fmt_value(s)}, mode=\"nearest\"),"]
    conv_kw: dict[str, Any] = {"kernel_size": kc}
    if all(b == e for b, e in pads):
        if any(b for b, _ in pads):
            conv_kw["padding"] = tuple(b for b, _ in pads)
    else:  # ZeroPadNd takes (last axis begin, end, ..., first axis begin, end)
        order = [x for b, e in reversed(pads) for x in (b, e)]
        lines.append(f"    nn.ZeroPad{n}d({tuple(order)}),")
    if groups != 1:
        conv_kw["groups"] = groups
    if not has_bias:
        conv_kw["bias"] = False
    lines += [f"    {call(f'nn.Conv{n}d', str(c_in), str(c_out), **conv_kw)},", ")"]
    result: dict[str, Any] = {
        "summary": f"resize-convolution: nearest x{fmt_value(s)} then a {axes_text(kc)} convolution "
                   f"(padding {fmt_value(pads)}), same output size",
        "resize_conv": {"scale_factor": list(s), "kernel_size": list(kc), "padding": [list(p) for p in pads]},
        "conv_transpose": None,
    }
    # `up` as a transposed convolution: kernel kc + s - 1, padding kc - 1 - pad_begin, output padding pe - pb
    prefer = [(k + st - 1, k - 1 - b, e - b) for k, (b, e), st in zip(kc, pads, s, strict=True)]
    found = [plan_choice(i, o, k, st, pr)
             for i, o, k, st, pr in zip(ins, outs, params["kernel_size"], s, prefer, strict=True)]
    choice = [c for c in found if c is not None]
    if len(choice) == len(found):
        K = tuple(c.kernel_size for c in choice)
        P = tuple(c.padding for c in choice)
        A = tuple(c.output_padding for c in choice)
        kw: dict[str, Any] = {"kernel_size": K, "stride": s}
        if any(P):
            kw["padding"] = P
        if any(A):
            kw["output_padding"] = A
        if groups != 1:
            kw["groups"] = groups
        if not has_bias:
            kw["bias"] = False
        ct = call(f"nn.ConvTranspose{n}d", str(c_in), str(c_out), **kw)
        result["conv_transpose"] = {"kernel_size": list(K), "stride": list(s), "padding": list(P),
                                    "output_padding": list(A)}
        lines += ["# or keep a transposed convolution, with upconv.plan's artifact-free geometry for these sizes,",
                  f"ct = {ct}"]
        g = f", groups={groups}" if groups != 1 else ""
        if [(c.kernel_size, c.padding, c.output_padding) for c in choice] == prefer:
            result["conv_transpose"]["init_conv_kernel"] = list(kc)
            lines += ["# initialised as that resize-convolution (equal outputs, bias aside):",
                      "with torch.no_grad():",
                      "    w = up[-1].weight.detach().numpy()",
                      f"    ct.weight.copy_(torch.from_numpy(upconv.resize_equivalent_kernel(w, {fmt_value(s)}{g})))"]
        else:
            kc2 = tuple(k - st + 1 for k, st in zip(K, s, strict=True))
            if all(k >= 1 and k - 1 - p >= 0 for k, p in zip(kc2, P, strict=True)):
                result["conv_transpose"]["init_conv_kernel"] = list(kc2)
                lines += [f"# initialised as nearest x{fmt_value(s)} + a {axes_text(kc2)} convolution w "
                          f"({c_out}, {c_in // groups}, {', '.join(map(str, kc2))}):",
                          "with torch.no_grad():",
                          "    ct.weight.copy_(torch.from_numpy(upconv.resize_equivalent_kernel("
                          f"w, {fmt_value(s)}{g})))"]
    result["torch"] = "\n".join(lines)
    return result


def subpixel_suggestion(conv_shape: Sequence[int], r: int, mode: str) -> dict[str, Any]:
    """ICNR initialisation of the convolution before a depth-to-space, as a torch snippet."""
    lines = ["# ICNR: all r**n sub-kernels equal at initialisation (nearest up-sampling + conv): no checkerboard",
             "import numpy as np",
             "from upconv.nn.init import icnr",
             f"w = icnr({tuple(conv_shape)}, {r}, rng=np.random.default_rng(0))"]
    if mode == "DCR":
        c, n = conv_shape[0] // r ** (len(conv_shape) - 2), len(conv_shape) - 2
        lines.append(f"w = w.reshape({c}, {r ** n}, *w.shape[1:]).swapaxes(0, 1).reshape(w.shape)"
                     "  # DCR channel order")
    lines += ["with torch.no_grad():", "    conv.weight.copy_(torch.from_numpy(w))"]
    return {"summary": f"initialise the sub-pixel convolution with ICNR (upconv.nn.init.icnr, r={r})",
            "icnr": {"shape": list(conv_shape), "upscale_factor": r}, "torch": "\n".join(lines)}


def resize_suggestion(codes: Sequence[str], torch_params: dict[str, Any] | None, out_shape: Sequence[int],
                      ) -> dict[str, Any] | None:
    """The call that avoids a Resize trap (sizes instead of scales, half_pixel instead of pytorch_half_pixel)."""
    texts = []
    if "half_pixel_length_1" in codes:
        texts.append("use coordinate_transformation_mode=\"half_pixel\" (equal elsewhere, unambiguous at length 1)")
    if {"align_corners_scales", "export_mismatch"} & set(codes) and torch_params is not None:
        fixed = {**torch_params, "size": tuple(out_shape[2:]), "scale_factor": None, "recompute_scale_factor": None}
        texts.append(f"give the output size, so the export writes sizes: {interpolate_call(fixed)}")
    elif "align_corners_scales" in codes:
        texts.append(f"give sizes={list(out_shape)} instead of scales")
    if "antialias_downscale" in codes:
        texts.append("ONNX and torch antialias differ at the borders: pad the input by the filter support "
                     "before resizing and crop after, or resize outside the model")
    if not texts:
        return None
    return {"summary": texts[0], "torch": "\n".join(f"# {t}" for t in texts)}
