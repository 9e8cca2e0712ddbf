"""Every threshold and severity of ``upconv lint``, in one place, each with a one-line why.

A finding is either a ``"flag"`` (the layer is flagged; ``upconv lint``
exits with status 1) or a ``"note"`` (reported, does not fail a CI gate).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Threshold", "THRESHOLDS", "SEVERITY", "severity", "thresholds_dict"]


@dataclass(frozen=True)
class Threshold:
    """A flagging threshold: ``value`` and the reason for it."""

    value: float
    why: str


THRESHOLDS: dict[str, Threshold] = {
    "overlap_ratio": Threshold(
        1.0, "a ratio above 1 means some output phases receive more kernel stamps than others: a period-s pattern "
        "on every output, before any training"),
    "dc_relative_spread": Threshold(
        0.02, "phases whose DC gains differ by 2% of the layer's DC gain give ±1% on flat regions, about 2.5 of "
        "255 grey levels at mid-grey: the visibility threshold of a flat patch"),
    "replay_relative": Threshold(
        1e-5, "float32 results of the same formula agree to about 1e-6 relative; beyond 1e-5 the runtime "
        "computes something else than the ONNX specification"),
}

#: Severity of every finding code, and why.
SEVERITY: dict[str, tuple[str, str]] = {
    # geometry
    "overlap": ("flag", "uneven stamp counts (overlap ratio > 1): a checkerboard whatever the weights"),
    "holes": ("flag", "some output phases receive no stamp at all (kernel smaller than the stride)"),
    "unreached": ("flag", "output rows/columns no kernel tap reaches hold the bias only"),
    "uneven_border": ("note", "one border gets fewer stamps than the other (a weaker last or first row); odd "
                      "output sizes cannot avoid it, and zero-padded convolutions have border rows too"),
    "stack_overlap": ("flag", "the stack's combined path counts are uneven although it is one path"),
    # weights
    "dc_gain": ("flag", "a flat input gives a periodic output: the learned (or initial) phases are uneven"),
    # ConvTranspose semantics
    "auto_pad_odd": ("flag", "SAME_* with odd total padding crops unevenly; runtimes have disagreed on the side, "
                     "and no torch ConvTranspose call does it"),
    "asymmetric_pads": ("note", "pads that differ per side have no single torch ConvTranspose call"),
    "output_shape": ("note", "output_shape implies pads and output_padding; torch spells it output_size"),
    # Resize semantics
    "half_pixel_length_1": ("flag", "pytorch_half_pixel at an output length of 1: spec 0, onnx.reference -0.5, "
                            "torch the centre"),
    "align_corners_scales": ("flag", "align_corners with a fractional in*scale: the spec uses the fractional "
                             "length, onnxruntime the integer one, torch ignores the scale"),
    "antialias_downscale": ("flag", "antialiased down-sampling: ONNX clamps the border taps, torch truncates them"),
    "export_mismatch": ("flag", "torch.onnx.export writes a Resize that computes other values than the torch call"),
    "no_onnx_resize": ("note", "this torch mode has no ONNX Resize equivalent (the exporter refuses it)"),
    "no_torch_call": ("note", "no torch call reproduces the node exactly: the model is not portable back to torch"),
    "exclude_outside": ("note", "exclude_outside=1 renormalises the border taps; torch has no such option"),
    "cubic_coeff": ("note", "torch's bicubic uses A=-0.75; this node uses another A"),
    "nearest_uneven": ("note", "a non-integer nearest factor repeats input rows unevenly"),
    "tf_crop_and_resize": ("note", "tf_crop_and_resize depends on roi and has no torch equivalent"),
    # DepthToSpace / MaxUnpool
    "dcr_order": ("note", "DepthToSpace DCR has no torch op (PixelShuffle is CRD)"),
    "sparse_output": ("note", "max-unpooling writes one value per window and zeros elsewhere"),
    "unpool_output_shape": ("note", "with output_shape, onnx.reference places the indices differently from "
                            "onnxruntime and torch"),
    # replay
    "replay_mismatch": ("flag", "onnxruntime (or torch) and upconv's exact implementation differ beyond "
                        "replay_relative"),
}


def severity(code: str) -> str:
    """``"flag"`` or ``"note"`` for a finding code of :data:`SEVERITY`."""
    return SEVERITY[code][0]


def thresholds_dict() -> dict[str, dict[str, object]]:
    """The thresholds as JSON-able ``{name: {"value": v, "why": text}}``."""
    return {name: {"value": t.value, "why": t.why} for name, t in THRESHOLDS.items()}
