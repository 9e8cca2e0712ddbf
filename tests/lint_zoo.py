"""Small real architectures for ``upconv lint`` tests, as torch modules and their ONNX files.

``build(directory)`` returns ``{name: Case}``; the ``lint_zoo`` fixture
(tests/conftest.py) builds them once per session.  torch exports with the
TorchScript exporter (``dynamo=False``): it works offline without
onnxscript, which the default dynamo exporter of torch 2.13 needs.
MaxUnpool has no torch exporter, so SegNet's ONNX graph is written by hand
with the module's own weights.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Case:
    module: Any
    inputs: tuple
    path: Path
    names: tuple[str, ...] = ("x",)


def bilinear_weight(channels: int, k: int) -> np.ndarray:
    """FCN's bilinear initialisation: (C, C, k, k), the bilinear kernel on the diagonal, zero elsewhere."""
    factor = (k + 1) // 2
    center = factor - 1 if k % 2 == 1 else factor - 0.5
    og = np.arange(k)
    filt = 1 - np.abs(og - center) / factor
    w = np.zeros((channels, channels, k, k), np.float32)
    w[range(channels), range(channels)] = np.outer(filt, filt)
    return w


def _modules(torch):
    nn, F = torch.nn, torch.nn.functional

    class UNetDecoder(nn.Module):
        """Odd sizes: up1 k2 s2 called with output_size (output_padding 1), concat with the skip, conv, up2."""

        def __init__(self):
            super().__init__()
            self.up1 = nn.ConvTranspose2d(8, 4, 2, stride=2)
            self.conv1 = nn.Conv2d(8, 4, 3, padding=1)
            self.up2 = nn.ConvTranspose2d(4, 2, 2, stride=2)
            self.conv2 = nn.Conv2d(2, 1, 3, padding=1)

        def forward(self, x, skip):
            y = self.up1(x, output_size=skip.shape[-2:])
            y = F.relu(self.conv1(torch.cat([y, skip], 1)))
            return self.conv2(self.up2(y))

    class FCN8s(nn.Module):
        """FCN-8s heads: upscore2 k4 s2, upscore_pool4 k4 s2, upscore8 k16 s8, bilinear, crops as in Caffe."""

        def __init__(self, c=5):
            super().__init__()
            self.upscore2 = nn.ConvTranspose2d(c, c, 4, stride=2, bias=False)
            self.upscore_pool4 = nn.ConvTranspose2d(c, c, 4, stride=2, bias=False)
            self.upscore8 = nn.ConvTranspose2d(c, c, 16, stride=8, bias=False)
            with torch.no_grad():
                for m, k in ((self.upscore2, 4), (self.upscore_pool4, 4), (self.upscore8, 16)):
                    m.weight.copy_(torch.from_numpy(bilinear_weight(c, k)))

        def forward(self, score_fr, score_pool4, score_pool3):
            h = self.upscore2(score_fr)[:, :, 1:9, 1:9] + score_pool4
            h = self.upscore_pool4(h)[:, :, 1:17, 1:17] + score_pool3
            return self.upscore8(h)[:, :, 4:132, 4:132]

    class FCN32s(nn.Module):
        def __init__(self, c=5):
            super().__init__()
            self.upscore = nn.ConvTranspose2d(c, c, 64, stride=32, bias=False)
            with torch.no_grad():
                self.upscore.weight.copy_(torch.from_numpy(bilinear_weight(c, 64)))

        def forward(self, x):
            return self.upscore(x)[:, :, 19:19 + 64, 19:19 + 64]

    class ESPCN(nn.Module):
        def __init__(self, r=3):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, 5, padding=2)
            self.conv2 = nn.Conv2d(16, r * r, 3, padding=1)
            self.shuffle = nn.PixelShuffle(r)

        def forward(self, x):
            return self.shuffle(self.conv2(torch.tanh(self.conv1(x))))

    class VAEDecoder(nn.Module):
        """As diffusers' decoder: nearest x2 + conv (Upsample2D), bilinear x2 + conv, GroupNorm + SiLU."""

        def __init__(self):
            super().__init__()
            self.conv_in = nn.Conv2d(4, 8, 3, padding=1)
            self.up1 = nn.Upsample(scale_factor=2, mode="nearest")
            self.conv1 = nn.Conv2d(8, 8, 3, padding=1)
            self.norm = nn.GroupNorm(2, 8)
            self.conv2 = nn.Conv2d(8, 3, 3, padding=1)

        def forward(self, z):
            h = self.conv1(self.up1(self.conv_in(z)))
            h = F.silu(self.norm(h))
            return self.conv2(F.interpolate(h, scale_factor=2.0, mode="bilinear", align_corners=False))

    class SegNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.pool = nn.MaxPool2d(2, stride=2, return_indices=True)
            self.conv = nn.Conv2d(3, 3, 3, padding=1)
            self.unpool = nn.MaxUnpool2d(2, stride=2)
            self.dec = nn.Conv2d(3, 2, 3, padding=1)

        def forward(self, x):
            y, idx = self.pool(x)
            return self.dec(self.unpool(self.conv(y), idx, output_size=x.shape[-2:]))

    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)

        def forward(self, x):
            return torch.relu(self.conv(x))

    return UNetDecoder, FCN8s, FCN32s, ESPCN, VAEDecoder, SegNet, Plain


def _dcgan(torch):
    nn = torch.nn
    layers = []
    for c_in, c_out, s, p in ((16, 32, 1, 0), (32, 16, 2, 1), (16, 8, 2, 1)):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, s, p, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
    m = nn.Sequential(*layers, nn.ConvTranspose2d(8, 3, 4, 2, 1, bias=False), nn.Tanh())
    for bn in (layer for layer in m if isinstance(layer, nn.BatchNorm2d)):  # trained-looking statistics
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 2.0)
    return m


def _export(torch, module, inputs, path, names, dynamic=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, inputs, str(path), dynamo=False, input_names=list(names), dynamic_axes=dynamic)


def _segnet_onnx(module, path):
    """SegNet by hand: MaxPool (with indices) -> Conv -> MaxUnpool(output_shape) -> Conv, the module's weights."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def w(t):
        return t.detach().numpy()

    inits = [numpy_helper.from_array(w(module.conv.weight), "conv.weight"),
             numpy_helper.from_array(w(module.conv.bias), "conv.bias"),
             numpy_helper.from_array(w(module.dec.weight), "dec.weight"),
             numpy_helper.from_array(w(module.dec.bias), "dec.bias"),
             numpy_helper.from_array(np.array([1, 3, 9, 9], np.int64), "unpool.shape")]
    nodes = [helper.make_node("MaxPool", ["x"], ["p", "i"], name="/pool/MaxPool", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["p", "conv.weight", "conv.bias"], ["c"], name="/conv/Conv", kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1]),
             helper.make_node("MaxUnpool", ["c", "i", "unpool.shape"], ["u"], name="/unpool/MaxUnpool",
                              kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["u", "dec.weight", "dec.bias"], ["y"], name="/dec/Conv", kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1])]
    graph = helper.make_graph(nodes, "segnet", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 9, 9])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 9, 9])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def build(directory: Path) -> dict[str, Case]:
    """Every architecture, seeded, exported into ``directory``."""
    import torch

    torch.manual_seed(0)
    UNetDecoder, FCN8s, FCN32s, ESPCN, VAEDecoder, SegNet, Plain = _modules(torch)
    g = torch.Generator().manual_seed(0)

    def randn(*shape):
        return torch.randn(*shape, generator=g)

    cases = {
        "dcgan": Case(_dcgan(torch), (randn(1, 16, 1, 1),), directory / "dcgan.onnx"),
        "unet": Case(UNetDecoder(), (randn(1, 8, 4, 4), randn(1, 4, 9, 9)), directory / "unet.onnx", ("x", "skip")),
        "fcn32s": Case(FCN32s(), (randn(1, 5, 3, 3),), directory / "fcn32s.onnx"),
        "fcn8s": Case(FCN8s(), (randn(1, 5, 4, 4), randn(1, 5, 8, 8), randn(1, 5, 16, 16)),
                      directory / "fcn8s.onnx", ("score_fr", "score_pool4", "score_pool3")),
        "espcn": Case(ESPCN(), (randn(1, 1, 6, 7),), directory / "espcn.onnx"),
        "vae": Case(VAEDecoder(), (randn(1, 4, 5, 6),), directory / "vae.onnx"),
        "segnet": Case(SegNet(), (randn(1, 3, 9, 9),), directory / "segnet.onnx"),
        "plain": Case(Plain(), (randn(1, 3, 8, 8),), directory / "plain.onnx"),
    }
    for name, case in cases.items():
        case.module.eval()
        if name == "segnet":
            _segnet_onnx(case.module, case.path)
        else:
            _export(torch, case.module, case.inputs, case.path, case.names)
    dyn = Case(cases["vae"].module, cases["vae"].inputs, directory / "vae_dynamic.onnx")
    _export(torch, dyn.module, dyn.inputs, dyn.path, ("x",), dynamic={"x": {0: "N", 2: "H", 3: "W"}})
    cases["vae_dynamic"] = dyn
    return cases


def one_node(op: str, x_shape, inputs=(), opset: int = 19, x_dims=None, **attrs):
    """A one-node ONNX model ``op(x, *inputs)``: ``inputs`` are arrays (initializers) or None (absent)."""
    from onnx import TensorProto, helper, numpy_helper

    names, inits = ["x"], []
    for i, value in enumerate(inputs):
        if value is None:
            names.append("")
        else:
            names.append(f"in{i}")
            inits.append(numpy_helper.from_array(np.asarray(value), f"in{i}"))
    node = helper.make_node(op, names, ["y"], name=f"/{op.lower()}", **attrs)
    graph = helper.make_graph([node], op.lower(), [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, list(x_dims if x_dims is not None else x_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def resize_model(x_shape, scales=None, sizes=None, roi=None, opset=19, **attrs):
    """A one-node Resize model with constant roi / scales / sizes."""
    inputs = [None if roi is None else np.asarray(roi, np.float32),
              None if scales is None else np.asarray(scales, np.float32),
              None if sizes is None else np.asarray(sizes, np.int64)]
    while inputs and inputs[-1] is None:
        inputs.pop()
    return one_node("Resize", x_shape, inputs, opset, **attrs)


def run_onnx(model, feeds, runtime="reference"):
    """Outputs of ``model`` with onnx.reference or onnxruntime (all optimisations off)."""
    if runtime == "reference":
        from onnx.reference import ReferenceEvaluator

        return ReferenceEvaluator(model).run(None, feeds)
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"]).run(None, feeds)
