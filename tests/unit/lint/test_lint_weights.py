"""Weights: per-channel DC-gain spread and flat-response energy against naive loops; flagging on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

import upconv
from upconv.linter.weights import (
    channel_dc_response,
    subpixel_transpose_weight,
    weights_report,
)
from upconv.nn.init import icnr


def naive_conv_transpose(x, w, s, pads, groups=1):
    """(C_in, H, W) -> (C_out, H', W') by stamping every input pixel (loops; torch semantics, zero bias)."""
    c_in, h, wd = x.shape
    per_in, c_out_g, kh, kw = w.shape[0] // groups, w.shape[1], w.shape[2], w.shape[3]
    full = np.zeros((c_out_g * groups, (h - 1) * s + kh, (wd - 1) * s + kw))
    for ci in range(c_in):
        g = ci // per_in
        for i in range(h):
            for j in range(wd):
                full[g * c_out_g:(g + 1) * c_out_g, i * s:i * s + kh, j * s:j * s + kw] += x[ci, i, j] * w[ci]
    (pb, pe), (qb, qe) = pads
    return full[:, pb:full.shape[1] - pe, qb:full.shape[2] - qe]


def naive_energy(y, s):
    """Share of the spectral energy at the frequencies j/s (mean removed per channel), by a plain FFT."""
    y = y[:, : y.shape[1] // s * s, : y.shape[2] // s * s]
    p = np.abs(np.fft.fft2(y - y.mean(axis=(1, 2), keepdims=True))) ** 2
    bins = [j * y.shape[1] // s for j in range(s)], [j * y.shape[2] // s for j in range(s)]
    at = sum(p[:, a, b].sum() for a in bins[0] for b in bins[1] if (a, b) != (0, 0))
    return at / p.sum()


@pytest.mark.parametrize("groups", [1, 2])
def test_dc_spread_per_output_channel_against_the_interior_of_a_flat_response(groups):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 3, 4, 4))
    s = 2
    params = {"kernel_size": (4, 4), "stride": (s, s), "dilation": (1, 1), "groups": groups,
              "padding": ((1, 1), (1, 1)), "output_padding": (0, 0)}
    report, _ = weights_report(w, params, (6, 5))
    y = naive_conv_transpose(np.ones((4, 12, 12)), w, s, ((0, 0), (0, 0)), groups)
    interior = y[:, 8:12, 8:12]                                    # one 2x2 period per channel, far from borders
    phases = interior.reshape(len(y), -1)
    spread = phases.max(axis=1) - phases.min(axis=1)
    level = np.abs(phases).mean(axis=1).max()
    np.testing.assert_allclose(report["relative_spread"], spread / level, rtol=1e-12)
    assert report["worst_channel"] == int(np.argmax(spread))
    flat = naive_conv_transpose(np.ones((4, 6, 5)), w, s, ((1, 1), (1, 1)), groups)
    assert report["stride_frequency_energy"] == pytest.approx(naive_energy(flat, s), rel=1e-9)
    response, _ = channel_dc_response(w, (2, 2), (1, 1), groups)
    np.testing.assert_allclose(response.reshape(len(y), -1), y[:, 8:10, 8:10].reshape(len(y), -1), rtol=1e-12)


@pytest.mark.parametrize(("mode", "k", "pad", "dil"), [("CRD", 3, 1, 1), ("DCR", 3, 1, 1), ("CRD", 5, 2, 1),
                                                       ("CRD", 2, 0, 1), ("DCR", 3, 2, 2)])
def test_subpixel_transpose_weight_equals_conv_then_depth_to_space(mode, k, pad, dil):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    W = rng.standard_normal((2 * 9, 3, k, k))
    x = rng.standard_normal((1, 3, 5, 6))
    y = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(W), padding=pad, dilation=dil)
    if mode == "CRD":
        y = torch.nn.functional.pixel_shuffle(y, 3)
    else:  # ONNX DepthToSpace DCR, written out
        n, c, h, w = y.shape
        y = y.reshape(n, 3, 3, c // 9, h, w).permute(0, 3, 4, 1, 5, 2).reshape(n, c // 9, h * 3, w * 3)
    K = subpixel_transpose_weight(W, 3, mode, (dil, dil))
    P = (dil * (k - 1) - pad) * 3
    got = torch.nn.functional.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(K), stride=3, padding=P)
    np.testing.assert_allclose(got.numpy(), y.numpy(), atol=1e-12)


def _lint(weight, kind="ConvTranspose2d", **kw):
    return upconv.lint({"up.weight": weight}, config=[{"name": "up", "type": kind, **kw}], input_size=(8, 8))


def test_k3_s2_is_flagged_by_geometry():
    layer = _lint(np.ones((1, 1, 3, 3)), stride=2, padding=1, output_padding=1).layers[0]
    assert layer.flagged and {"overlap", "dc_gain"} <= {f.code for f in layer.findings}
    assert layer.geometry["overlap_ratio"] == 4.0 and layer.geometry["period"] == [2, 2]


def test_k4_s2_with_flat_phases_is_not_flagged():
    conv_w = np.random.default_rng(3).standard_normal((2, 3, 3, 3))
    w = upconv.resize_equivalent_kernel(conv_w, 2)                 # ICNR-like: every phase sums to sum(conv_w)
    report = _lint(w, stride=2, padding=1)
    assert not report.flagged, str(report)
    assert report.layers[0].weights["max_relative_spread"] == 0.0


def test_random_k4_s2_is_flagged_by_its_weights_only():
    layer = _lint(np.random.default_rng(4).standard_normal((3, 2, 4, 4)), stride=2, padding=1).layers[0]
    assert [f.code for f in layer.findings if f.severity == "flag"] == ["dc_gain"]
    assert layer.geometry["overlap_ratio"] == 1.0
    assert layer.suggestion is not None and "nn.Upsample(scale_factor=2" in layer.suggestion["torch"]


def test_fcn_bilinear_k64_s32_is_not_flagged():
    from lint_zoo import bilinear_weight

    report = upconv.lint({"up.weight": bilinear_weight(3, 64)},
                         config=[{"name": "up", "type": "ConvTranspose2d", "stride": 32, "bias": False}],
                         input_size=(1, 3, 3, 3))
    assert not report.flagged, str(report)


def test_subpixel_random_is_flagged_and_icnr_is_not():
    rng = np.random.default_rng(5)
    config = [{"name": "conv", "type": "Conv2d", "padding": 1}, {"name": "shuffle", "type": "PixelShuffle",
                                                                 "upscale_factor": 2}]
    random = upconv.lint({"conv.weight": rng.standard_normal((8, 3, 3, 3))}, config=config, input_size=(6, 6))
    flat = upconv.lint({"conv.weight": icnr((8, 3, 3, 3), 2, rng=rng)}, config=config, input_size=(6, 6))
    assert [L.flagged for L in random.layers] == [True]
    assert random.layers[0].suggestion["icnr"] == {"shape": [8, 3, 3, 3], "upscale_factor": 2}
    assert not flat.flagged and flat.layers[0].weights["max_relative_spread"] == 0.0
