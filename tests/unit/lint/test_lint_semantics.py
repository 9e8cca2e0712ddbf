"""Resize traps and the reproducing torch call, checked with torch itself and onnx.reference / onnxruntime."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import upconv

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")
F = torch.nn.functional

from lint_zoo import resize_model, run_onnx  # noqa: E402

CASES = [  # (id, x shape, resize kwargs, expected flag codes, expected note codes)
    ("nearest-x2", (1, 2, 5, 6), dict(scales=[1, 1, 2, 2], mode="nearest", coordinate_transformation_mode="asymmetric",
                                      nearest_mode="floor"), set(), set()),
    ("nearest-exact", (1, 2, 5, 6), dict(scales=[1, 1, 1.5, 2], mode="nearest", nearest_mode="round_prefer_ceil"),
     set(), {"nearest_uneven"}),
    ("onnx-default-nearest", (1, 1, 5, 4), dict(sizes=[1, 1, 7, 9]), set(), {"nearest_uneven", "no_torch_call"}),
    ("bilinear", (1, 2, 5, 6), dict(scales=[1, 1, 2, 2], mode="linear"), set(), set()),
    ("bilinear-sizes", (1, 2, 5, 6), dict(sizes=[1, 2, 7, 9], mode="linear"), set(), set()),
    ("align-corners-sizes", (1, 2, 5, 6), dict(sizes=[1, 2, 7, 9], mode="linear",
                                               coordinate_transformation_mode="align_corners"), set(), set()),
    ("align-corners-fractional", (1, 1, 5, 5), dict(scales=[1, 1, 1.5, 1.5], mode="linear",
                                                    coordinate_transformation_mode="align_corners"),
     {"align_corners_scales"}, {"no_torch_call"}),
    ("pytorch-half-pixel-length-1", (1, 1, 4, 6), dict(sizes=[1, 1, 1, 12], mode="linear",
                                                       coordinate_transformation_mode="pytorch_half_pixel"),
     {"half_pixel_length_1"}, {"no_torch_call"}),
    ("bicubic", (1, 1, 6, 5), dict(scales=[1, 1, 2, 2], mode="cubic"), set(), set()),
    ("cubic-a", (1, 1, 6, 5), dict(scales=[1, 1, 2, 2], mode="cubic", cubic_coeff_a=-0.5), set(),
     {"cubic_coeff", "no_torch_call"}),
    ("exclude-outside", (1, 1, 6, 5), dict(scales=[1, 1, 2, 2], mode="cubic", exclude_outside=1), set(),
     {"exclude_outside", "no_torch_call"}),
    ("antialias-down", (1, 1, 12, 10), dict(scales=[1, 1, 0.5, 0.5], mode="linear", antialias=1),
     {"antialias_downscale"}, {"no_torch_call"}),
    ("tf-crop", (1, 1, 6, 6), dict(sizes=[1, 1, 9, 9], roi=[0, 0, 0.2, 0.2, 1, 1, 0.8, 0.8], mode="linear",
                                   coordinate_transformation_mode="tf_crop_and_resize"), set(),
     {"tf_crop_and_resize", "no_torch_call"}),
]


def torch_candidates(in_shape, out_shape, scales):
    """Every F.interpolate call that could match, written out independently of upconv.linter."""
    n = len(in_shape) - 2
    forms = [{"size": tuple(out_shape[2:])}]
    if scales is not None:
        forms.append({"scale_factor": tuple(float(np.float32(s)) for s in scales[2:])})
    linear = {1: "linear", 2: "bilinear", 3: "trilinear"}[n]
    for form in forms:
        yield {**form, "mode": "nearest"}
        yield {**form, "mode": "nearest-exact"}
        for mode, ac, aa in itertools.product([linear, "bicubic"], [False, True], [False, True]):
            yield {**form, "mode": mode, "align_corners": ac, "antialias": aa}


@pytest.mark.parametrize(("case", "shape", "kw", "flags", "notes"), CASES, ids=[c[0] for c in CASES])
def test_resize_traps_and_torch_call(case, shape, kw, flags, notes):
    model = resize_model(shape, **kw)
    layer = upconv.lint(model).layers[0]
    codes = {f.code: f.severity for f in layer.findings}
    assert {c for c, s in codes.items() if s == "flag"} == flags
    assert {c for c, s in codes.items() if s == "note"} == notes
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ref = run_onnx(model, {"x": x})[0]
    assert tuple(layer.out_shape) == ref.shape
    matches = []
    for cand in torch_candidates(shape, ref.shape, kw.get("scales")):
        try:
            got = F.interpolate(torch.from_numpy(x), **cand).numpy()
        except (RuntimeError, ValueError, NotImplementedError):
            continue
        if got.shape == ref.shape and np.allclose(got, ref, rtol=1e-5, atol=1e-6):
            matches.append(cand)
    if layer.torch_call is None:
        assert matches == [], f"{case}: upconv lint found no torch call, but {matches[0]} matches"
    else:
        got = eval(layer.torch_call, {"F": F, "x": torch.from_numpy(x)}).numpy()  # the reported call, run by torch
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
        assert matches


def test_the_flagged_traps_are_real_runtime_differences():
    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(1)
    # align_corners with a fractional in*scale: onnxruntime and the reference disagree
    m = resize_model((1, 1, 5, 5), scales=[1, 1, 1.5, 1.5], mode="linear",
                     coordinate_transformation_mode="align_corners")
    x = rng.standard_normal((1, 1, 5, 5)).astype(np.float32)
    assert not np.allclose(run_onnx(m, {"x": x})[0], run_onnx(m, {"x": x}, "onnxruntime")[0], atol=1e-4)
    # pytorch_half_pixel at length 1: the reference samples -0.5, torch the centre
    m = resize_model((1, 1, 4, 6), sizes=[1, 1, 1, 12], mode="linear",
                     coordinate_transformation_mode="pytorch_half_pixel")
    x = rng.standard_normal((1, 1, 4, 6)).astype(np.float32)
    t = F.interpolate(torch.from_numpy(x), size=(1, 12), mode="bilinear", align_corners=False).numpy()
    assert not np.allclose(run_onnx(m, {"x": x})[0], t, atol=1e-4)
    # antialiased down-sampling: ONNX clamps the taps, torch truncates the window
    m = resize_model((1, 1, 12, 10), scales=[1, 1, 0.5, 0.5], mode="linear", antialias=1)
    x = rng.standard_normal((1, 1, 12, 10)).astype(np.float32)
    t = F.interpolate(torch.from_numpy(x), scale_factor=0.5, mode="bilinear", antialias=True).numpy()
    assert not np.allclose(run_onnx(m, {"x": x})[0], t, atol=1e-4)


def test_torch_module_whose_export_computes_other_values_is_flagged():
    class Up(torch.nn.Module):
        def forward(self, x):
            return F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True)

    layer = upconv.lint(Up(), input_size=(1, 1, 5, 5)).layers[0]
    assert "export_mismatch" in {f.code for f in layer.findings}
    assert layer.torch_call == 'F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True)'
    assert "size=7" in layer.suggestion["torch"]
    fixed = eval(layer.suggestion["torch"].split(": ", 1)[1], {"F": F, "x": torch.ones(1, 1, 5, 5)})
    assert fixed.shape == (1, 1, 7, 7)


def test_conv_transpose_padding_traps():
    from lint_zoo import one_node

    w = np.random.default_rng(0).standard_normal((2, 3, 3, 3)).astype(np.float32)
    same = upconv.lint(one_node("ConvTranspose", (1, 2, 4, 4), [w], strides=[2, 2], auto_pad="SAME_UPPER"))
    layer = same.layers[0]
    assert "auto_pad_odd" in {f.code for f in layer.findings if f.severity == "flag"}
    assert layer.torch_call is None and "drop the last 1" in layer.torch_note
    shape = upconv.lint(one_node("ConvTranspose", (1, 2, 4, 4), [w], strides=[2, 2], output_shape=[8, 8],
                                 pads=[0, 0, 0, 0])).layers[0]
    assert "output_shape" in {f.code for f in shape.findings}
    asym = upconv.lint(one_node("ConvTranspose", (1, 2, 4, 4), [w], strides=[2, 2], pads=[1, 1, 0, 0])).layers[0]
    assert "asymmetric_pads" in {f.code for f in asym.findings}
    assert asym.torch_call == ("nn.ConvTranspose2d(2, 3, kernel_size=3, stride=2, padding=1, output_padding=1, "
                               "bias=False)")
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 4)).astype(np.float32)
    ref = run_onnx(one_node("ConvTranspose", (1, 2, 4, 4), [w], strides=[2, 2], pads=[1, 1, 0, 0]), {"x": x})[0]
    m = eval(asym.torch_call, {"nn": torch.nn})
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(w))
        np.testing.assert_allclose(m(torch.from_numpy(x)).numpy(), ref, rtol=1e-5, atol=1e-6)
