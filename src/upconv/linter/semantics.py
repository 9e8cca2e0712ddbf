"""Semantic traps: what a Resize computes in ONNX, in torch and in runtimes, and the torch call that reproduces it.

Which torch call reproduces a Resize is decided by computation, not by a
table: every candidate ``F.interpolate`` call (:func:`upconv.interpolate`,
identical to torch) is run on a probe of the node's actual spatial size and
compared with the node (:func:`upconv.resize`, identical to ONNX); the first
exact match wins.  The runtime traps follow /work/shared/SEMANTICS.md §6.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import shapes
from upconv.linter.calls import interpolate_call, interpolate_kwargs, resize_kwargs
from upconv.ops.interpolation import interpolate, resize

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["onnx_form", "find_torch_call", "resize_geometry_report", "resize_traps", "export_mismatch"]

LINEAR_MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}


def onnx_form(torch_params: dict[str, Any], ndim: int, in_shape: Sequence[int]) -> dict[str, Any] | None:
    """The ONNX Resize parameters of a torch ``interpolate`` call (what the exporter writes), or None (``area``).

    nearest -> (asymmetric, floor); nearest-exact -> (half_pixel,
    round_prefer_ceil); linear modes and bicubic -> half_pixel, or
    align_corners with ``align_corners=True``; bicubic -> cubic with
    ``A = -0.75``; ``scale_factor`` -> ``scales`` (float32) unless
    ``recompute_scale_factor``, ``size`` -> ``sizes``.  torch 2.13's
    TorchScript exporter refuses nearest-exact and antialias; these are the
    ONNX nodes that compute the same thing.
    """
    mode = torch_params["mode"]
    if mode in ("area", "lanczos"):
        return None
    p: dict[str, Any] = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor",
                         "cubic_coeff_a": -0.75, "exclude_outside": 0, "extrapolation_value": 0.0,
                         "antialias": int(bool(torch_params.get("antialias"))),
                         "keep_aspect_ratio_policy": "stretch", "axes": None, "scales": None, "sizes": None,
                         "roi": None}
    if mode == "nearest-exact":
        p.update(coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")
    elif mode != "nearest":
        p["mode"] = "cubic" if mode == "bicubic" else "linear"
        p["coordinate_transformation_mode"] = "align_corners" if torch_params.get("align_corners") else "half_pixel"
    if torch_params.get("size") is not None or torch_params.get("recompute_scale_factor"):
        size = torch_params.get("size") or shapes.interpolate_output_size(
            in_shape[2:], scale_factor=torch_params["scale_factor"])
        p["sizes"] = [int(x) for x in (*in_shape[:2], *size)]
    else:
        sf = list(torch_params["scale_factor"])
        p["scales"] = [1.0, 1.0] + [float(np.float32(x)) for x in (sf * ndim if len(sf) == 1 else sf)]
    return p


def _probe(in_shape: Sequence[int], rng_seed: int = 0) -> npt.NDArray[np.float64]:
    spatial = tuple(in_shape[2:])
    return np.random.default_rng(rng_seed).standard_normal((1, 1, *spatial))


def _same(a: np.ndarray, b: np.ndarray) -> float:
    """Largest absolute difference (inf when the shapes differ)."""
    return float(np.abs(a - b).max()) if a.shape == b.shape else math.inf


def _candidates(params: dict[str, Any], in_shape: Sequence[int], out_shape: Sequence[int]) -> list[dict[str, Any]]:
    n = len(in_shape) - 2
    mode, ctm = params["mode"], params["coordinate_transformation_mode"]
    if mode == "nearest":
        modes = ["nearest", "nearest-exact"]
        if ctm != "asymmetric":
            modes.reverse()
    elif mode == "linear":
        modes = [LINEAR_MODES[n]] if n in LINEAR_MODES else []
    else:
        modes = ["bicubic"] if n == 2 else []
    forms: list[dict[str, Any]] = [{"size": tuple(out_shape[2:])}]
    if params.get("scales") is not None and params.get("axes") is None:
        sf = tuple(float(x) for x in params["scales"][2:])
        if tuple(math.floor(i * s) for i, s in zip(in_shape[2:], sf, strict=True)) == tuple(out_shape[2:]):
            forms.insert(0, {"scale_factor": sf})
    aligns = [None] if mode == "nearest" else ([True, False] if ctm == "align_corners" else [False, True])
    aas = [False] if mode == "nearest" or n != 2 else ([True, False] if params.get("antialias") else [False, True])
    out = []
    for m in modes:
        for ac in aligns:
            for aa in aas:
                for form in forms:
                    out.append({**form, "mode": m, "align_corners": ac, "antialias": aa})
    return out


def find_torch_call(
    params: dict[str, Any], in_shape: Sequence[int], out_shape: Sequence[int],
) -> tuple[dict[str, Any] | None, str]:
    """The first ``F.interpolate`` call that reproduces the node exactly at these sizes, and a sentence.

    Returns ``(torch params, "")`` on a match; otherwise ``(None, why)``
    naming the closest candidate and its largest difference on a standard
    normal probe.
    """
    if tuple(out_shape[:2]) != tuple(in_shape[:2]):
        return None, "the node also resizes the batch or channel axis; F.interpolate resizes spatial axes only"
    n = len(in_shape) - 2
    if not 1 <= n <= 3:
        return None, f"F.interpolate takes 1 to 3 spatial axes, the node has {n}"
    if params["coordinate_transformation_mode"] == "tf_crop_and_resize":
        return None, "tf_crop_and_resize has no F.interpolate equivalent"
    return _search(params, in_shape, out_shape, _probe(in_shape))


def _search(params: dict[str, Any], in_shape: Sequence[int], out_shape: Sequence[int], x: np.ndarray,
            ) -> tuple[dict[str, Any] | None, str]:
    want = resize(x, **_probe_kwargs(params, in_shape))
    best: tuple[float, dict[str, Any] | None] = (math.inf, None)
    for cand in _candidates(params, in_shape, out_shape):
        try:
            got = interpolate(x, **interpolate_kwargs(cand))
        except (ValueError, TypeError):
            continue
        diff = _same(got, want)
        if diff <= 1e-12 * max(1.0, float(np.abs(want).max(initial=0.0))):
            return cand, ""
        if diff < best[0]:
            best = (diff, cand)
    if best[1] is None:
        return None, f"no F.interpolate mode matches ONNX mode {params['mode']!r} on {len(in_shape) - 2} axes"
    return None, (f"closest: {interpolate_call(best[1])} differs by up to {best[0]:.3g} on a standard normal "
                  "input")


def _probe_kwargs(params: dict[str, Any], in_shape: Sequence[int]) -> dict[str, Any]:
    """:func:`upconv.resize` keywords for a ``(1, 1, *spatial)`` probe of a node with input ``in_shape``."""
    kw = resize_kwargs(params)
    if kw.get("sizes") is not None:
        axes = params.get("axes")
        full = range(len(in_shape)) if axes is None else [a % len(in_shape) for a in axes]
        kw["sizes"] = [1 if a < 2 else int(s) for a, s in zip(full, kw["sizes"], strict=True)]
    return kw


def resize_geometry_report(
    params: dict[str, Any], in_shape: Sequence[int], out_shape: Sequence[int],
) -> dict[str, Any]:
    """Scales per axis and, for nearest, how many times each input row is repeated (min, max per axis)."""
    geo = shapes.resize_geometry(in_shape, params.get("sizes"), params.get("scales"), axes=params.get("axes"),
                                 keep_aspect_ratio_policy=params.get("keep_aspect_ratio_policy", "stretch"))
    report: dict[str, Any] = {"scales": [float(x) for x in geo.scales]}
    if params["mode"] == "nearest":
        repeats = []
        for axis in range(2, len(in_shape)):
            if out_shape[axis] == in_shape[axis] and geo.scales[axis] == 1:
                repeats.append([1, 1])
                continue
            counts = np.bincount(_index_map(params, in_shape, axis), minlength=in_shape[axis])
            repeats.append([int(counts.min()), int(counts.max())])
        report["repeats_per_axis"] = repeats
    return report


def _index_map(params: dict[str, Any], in_shape: Sequence[int], axis: int) -> npt.NDArray[np.int64]:
    """Source index of every output position on ``axis`` (nearest): resize a probe holding its own index."""
    shape = [1, 1, *in_shape[2:]]
    index = np.arange(in_shape[axis], dtype=np.float64).reshape([-1 if a == axis else 1 for a in range(len(shape))])
    y = resize(np.broadcast_to(index, shape).copy(), **_probe_kwargs(params, in_shape))
    return y[tuple(slice(None) if a == axis else 0 for a in range(len(shape)))].astype(np.int64)


def resize_traps(
    params: dict[str, Any], in_shape: Sequence[int], out_shape: Sequence[int], geometry: dict[str, Any],
) -> list[tuple[str, str]]:
    """Runtime and portability traps of a Resize at these sizes: ``[(code, message), ...]``."""
    out = []
    ctm, mode = params["coordinate_transformation_mode"], params["mode"]
    scales = geometry["scales"]
    axes = [a for a in range(len(in_shape)) if in_shape[a] != out_shape[a] or scales[a] != 1]
    if ctm == "pytorch_half_pixel" and any(out_shape[a] == 1 and in_shape[a] > 1 for a in axes):
        out.append(("half_pixel_length_1", "pytorch_half_pixel with an output length of 1: the spec samples 0, "
                                           "onnx.reference -0.5, torch (and half_pixel) the centre; use half_pixel"))
    if ctm == "align_corners" and params.get("scales") is not None:
        frac = [a for a in axes if (in_shape[a] * np.float32(scales[a])) % 1]
        if frac:
            out.append(("align_corners_scales", f"align_corners with scales: in*scale is fractional on axes {frac} "
                                                "(the spec divides by it, onnxruntime by the integer length, "
                                                "torch ignores the scale); give sizes instead"))
    if params.get("antialias") and mode != "nearest" and any(scales[a] < 1 for a in axes):
        out.append(("antialias_downscale", "antialiased down-sampling: ONNX clamps the taps at the borders, torch "
                                           "truncates the window: the border rows differ"))
    if params.get("exclude_outside") and mode == "cubic":
        out.append(("exclude_outside", "exclude_outside=1: the border taps are renormalised; torch's bicubic "
                                       "reads the edge value"))
    if mode == "cubic" and params.get("cubic_coeff_a", -0.75) != -0.75:
        out.append(("cubic_coeff", f"cubic_coeff_a={params['cubic_coeff_a']}: torch's bicubic uses -0.75"))
    if ctm == "tf_crop_and_resize":
        out.append(("tf_crop_and_resize", "tf_crop_and_resize: the output depends on roi"))
    if mode == "nearest":
        uneven = [(a, r) for a, r in zip(range(2, len(in_shape)), geometry.get("repeats_per_axis", []), strict=True)
                  if r[0] != r[1] and out_shape[a] > in_shape[a]]
        if uneven:
            text = ", ".join(f"axis {a}: {r[0]} to {r[1]} times" for a, r in uneven)
            out.append(("nearest_uneven", f"non-integer nearest factor: input rows repeated unevenly ({text})"))
    return out


def export_mismatch(torch_params: dict[str, Any], onnx_params: dict[str, Any], in_shape: Sequence[int]) -> str:
    """Why the ONNX export of a torch interpolate call computes other values, or ``""`` if it does not."""
    x = _probe(in_shape)
    want = interpolate(x, **interpolate_kwargs(torch_params))
    kw = _probe_kwargs(onnx_params, in_shape)
    got = resize(x, **kw)
    diff = _same(got, want)
    if diff <= 1e-12 * max(1.0, float(np.abs(want).max(initial=0.0))):
        return ""
    shapes = "" if got.shape == want.shape else f" (output {got.shape[2:]} instead of {want.shape[2:]})"
    return (f"torch.onnx.export writes Resize({onnx_params['mode']}, {onnx_params['coordinate_transformation_mode']}"
            f"{', scales' if onnx_params.get('scales') else ', sizes'}), which differs from the torch call by up to "
            f"{diff:.3g} on a standard normal input{shapes}")
