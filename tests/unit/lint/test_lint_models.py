"""Real architectures (tests/lint_zoo.py) linted from ONNX: every reported number against an independent computation.

The independent side: onnxruntime runs the model with every intermediate
value exposed (node shapes and outputs); the reported upconv and torch
calls are evaluated and compared with those outputs; overlap ratios and
DC-gain spreads are recomputed with torch on all-ones inputs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import upconv

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
F, nn = torch.nn.functional, torch.nn

#: Which layers each architecture's report flags, in graph order.
EXPECTED_FLAGGED = {
    "dcgan": [False, True, True, True],        # random k4 s2 weights: uneven DC phases (the k4 s1 layer has one phase)
    "unet": [True, True],                      # up1: the output_size row is bias-only; random weights
    "fcn32s": [False], "fcn8s": [False, False, False],   # bilinear initialisation: flat
    "espcn": [True],                           # random sub-pixel convolution
    "vae": [False, False, False, False],       # Resize + conv: flat by construction
    "segnet": [False], "plain": [],
}


def ort_values(path, inputs, names):
    """Every value of the model, from onnxruntime (optimisations off)."""
    m = onnx.load(str(path))
    have = {o.name for o in m.graph.output}
    for node in m.graph.node:
        for v in list(node.input) + list(node.output):
            if v and v not in have and v not in {i.name for i in m.graph.initializer}:
                m.graph.output.append(onnx.ValueInfoProto(name=v))
                have.add(v)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    out_names = [o.name for o in sess.get_outputs()]
    feeds = {n: t.numpy() for n, t in zip(names, inputs, strict=True)}
    values = dict(zip(out_names, sess.run(out_names, feeds), strict=True))
    values.update({i.name: onnx.numpy_helper.to_array(i) for i in m.graph.initializer})
    return m, values


def brute_ratio_nd(k, s, d):
    """Interior max/min stamp count with torch: a transposed convolution of ones by ones."""
    n = len(k)
    size = [3 * (ki * di // si + 2) for ki, si, di in zip(k, s, d, strict=True)]
    y = getattr(F, f"conv_transpose{n}d")(torch.ones(1, 1, *size, dtype=torch.float64),
                                          torch.ones(1, 1, *k, dtype=torch.float64), stride=s, dilation=d)[0, 0]
    sl = tuple(slice(di * ki, di * ki + 2 * si) for ki, si, di in zip(k, s, d, strict=True))
    inner = y[sl]
    return math.inf if inner.min() == 0 else float(inner.max() / inner.min())


def brute_dc(w, s, groups, d):
    """Per output channel (max - min) / layer level of the interior response to all-ones (torch)."""
    n = w.ndim - 2
    size = [3 * (w.shape[2 + i] // s[i] + 2) for i in range(n)]
    y = getattr(F, f"conv_transpose{n}d")(torch.ones(1, w.shape[0], *size, dtype=torch.float64),
                                          torch.from_numpy(w), stride=s, groups=groups, dilation=d)[0].numpy()
    sl = (slice(None),) + tuple(slice(d[i] * w.shape[2 + i], d[i] * w.shape[2 + i] + s[i]) for i in range(n))
    ph = y[sl].reshape(y.shape[0], -1)
    spread = ph.max(axis=1) - ph.min(axis=1)
    return spread, np.abs(ph).mean(axis=1).max()


@pytest.mark.parametrize("name", list(EXPECTED_FLAGGED))
def test_reported_numbers_against_onnxruntime_and_torch(lint_zoo, name):
    case = lint_zoo[name]
    report = upconv.lint(case.path)
    assert [L.flagged for L in report.layers] == EXPECTED_FLAGGED[name], str(report)
    assert report.flagged == any(EXPECTED_FLAGGED[name])
    model, values = ort_values(case.path, case.inputs, case.names)
    nodes = {n.name: n for n in model.graph.node}
    producer = {o: n for n in model.graph.node for o in n.output}
    for layer in report.layers:
        node = nodes[layer.name]
        first = producer[node.input[0]] if layer.op == "resize_conv" else node
        x, y = values[first.input[0]], values[node.output[0]]
        assert tuple(layer.in_shape) == x.shape and tuple(layer.out_shape) == y.shape     # shape propagation
        env = {"upconv": upconv, "x": x, "np": np}
        if layer.op in ("conv_transpose", "resize_conv"):
            env.update(w=values[node.input[1]], b=values[node.input[2]] if len(node.input) > 2 else None)
        if layer.op == "max_unpool":
            env["indices"] = values[node.input[1]]
        np.testing.assert_allclose(eval(layer.upconv_call, env), y, rtol=1e-5, atol=1e-5 * np.abs(y).max())
        _check_torch_call(layer, env, y)
        if layer.op == "conv_transpose":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            k, s = attrs["kernel_shape"], attrs["strides"]
            assert layer.geometry["overlap_ratio"] == pytest.approx(brute_ratio_nd(k, s, attrs["dilations"]))
            w = values[node.input[1]].astype(np.float64)
            spread, level = brute_dc(w, s, attrs["group"], attrs["dilations"])
            np.testing.assert_allclose(layer.weights["relative_spread"], spread / level, rtol=1e-9, atol=1e-12)


def _check_torch_call(layer, env, y):
    t = {k: (torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v) for k, v in env.items()}
    if layer.torch_call is None:
        return
    if layer.op == "conv_transpose":
        m = eval(layer.torch_call, {"nn": nn})
        with torch.no_grad():
            m.weight.copy_(t["w"])
            if m.bias is not None:
                m.bias.copy_(t["b"])
            got = m(t["x"])
    elif layer.op == "max_unpool":
        ctor, _, size = layer.torch_call.partition(" with output_size=")
        plane = int(np.prod(y.shape[2:]))
        idx = t["indices"] % plane
        got = eval(ctor, {"nn": nn})(t["x"], idx, output_size=eval(size) if size else None)
    elif layer.op == "depth_to_space":
        got = eval(layer.torch_call, {"nn": nn})(t["x"])
    else:
        got = eval(layer.torch_call, {"F": F, **t})
    np.testing.assert_allclose(got.detach().numpy(), y, rtol=1e-5, atol=1e-5 * np.abs(y).max())


def _strip(value):
    """A report without what names the source: node names, attributes in the user's terms, the upconv call."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items()
                if k not in ("name", "source_op", "attributes", "upconv_call", "torch_note", "resize", "conv",
                             "sub_pixel_conv", "replay")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


@pytest.mark.parametrize("name", ["dcgan", "unet", "fcn32s", "fcn8s", "espcn", "vae", "segnet", "plain"])
def test_torch_module_and_its_onnx_export_give_the_same_report(lint_zoo, name):
    case = lint_zoo[name]
    a = upconv.lint(case.module, example_input=case.inputs).to_dict()
    b = upconv.lint(case.path).to_dict()
    assert len(a["layers"]) == len(b["layers"])
    for la, lb in zip(a["layers"], b["layers"], strict=True):
        la, lb = _strip(la), _strip(lb)
        # notes may be worded in each source's vocabulary; everything else must agree
        la["findings"] = [f for f in la["findings"] if f["severity"] == "flag"]
        lb["findings"] = [f for f in lb["findings"] if f["severity"] == "flag"]
        assert la == lb


def test_suggested_replacements_keep_the_size_and_are_not_flagged(lint_zoo):
    for name in ("dcgan", "unet"):
        case = lint_zoo[name]
        for layer in upconv.lint(case.path).layers:
            if layer.op != "conv_transpose" or not layer.flagged:
                continue
            ns = {"nn": nn, "torch": torch, "upconv": upconv, "np": np}
            exec(layer.suggestion["torch"], ns)                    # the snippet runs as printed
            x = torch.randn(*layer.in_shape)
            up, ct = ns["up"].eval(), ns["ct"]
            assert tuple(up(x).shape) == tuple(layer.out_shape) == tuple(ct(x).shape)
            assert not upconv.lint(up, example_input=x).flagged
            assert not upconv.lint(ct, example_input=x).flagged
            conv = up[-1]
            with torch.no_grad():
                bias = 0 if conv.bias is None else conv.bias.view(1, -1, 1, 1)
                ct_bias = 0 if ct.bias is None else ct.bias.view(1, -1, 1, 1)
                np.testing.assert_allclose((ct(x) - ct_bias).numpy(), (up(x) - bias).numpy(), rtol=1e-5, atol=1e-5)


def test_dynamic_sizes_need_an_input_size(lint_zoo):
    case = lint_zoo["vae_dynamic"]
    with pytest.raises(ValueError, match=r"^input 'x' has dynamic size \(N, 4, H, W\): give the input size"):
        upconv.lint(case.path)
    given = upconv.lint(case.path, input_size=(5, 6)).to_dict()
    static = upconv.lint(lint_zoo["vae"].path).to_dict()
    assert [L["out_shape"] for L in given["layers"]] == [L["out_shape"] for L in static["layers"]]
    assert upconv.lint(case.path, input_size={"x": (2, 4, 3, 3)}).layers[-1].out_shape == (2, 3, 12, 12)
    with pytest.raises(ValueError, match="rank 4; give 4 sizes or 2 spatial sizes, got 3"):
        upconv.lint(case.path, input_size=(1, 5, 6))
    with pytest.raises(ValueError, match="no input 'y'"):
        upconv.lint(case.path, input_size={"y": (5, 6)})


def test_model_without_upsampling(lint_zoo):
    report = upconv.lint(lint_zoo["plain"].path)
    assert report.layers == [] and not report.flagged
    assert "no up-sampling layer" in str(report) and "Conv x1" in str(report)
