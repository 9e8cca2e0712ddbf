"""Learnable up-sampling in plain NumPy: layers, losses, optimisers, initialisers.

Layers (:mod:`upconv.nn.layers`) hold their parameters in ``params`` and,
after ``backward``, their gradients in ``grads``; ``forward(x)`` caches what
``backward(grad_out) -> grad_in`` needs.  Every gradient is a function of
:mod:`upconv.grad`.

Layers
    :class:`Conv`, :class:`ConvTranspose`, :class:`ResizeConv`,
    :class:`SubPixelConv` (convolution + pixel shuffle), :class:`PixelShuffle`,
    :class:`ReLU`, :class:`LeakyReLU`, :class:`Tanh`, :class:`Sigmoid`,
    :class:`Sequential`.
Losses
    :class:`MSELoss`, :class:`L1Loss`: ``forward(prediction, target) -> float``,
    ``backward() -> gradient``.
Optimisers
    :class:`SGD` (momentum, Nesterov) and :class:`Adam`, with torch's update
    formulas.
Initialisers (:mod:`upconv.nn.init`)
    torch's default, FCN's bilinear kernel, ICNR, resize-equivalent.
Parameters on disk
    :func:`save`/:func:`load` (``.npz``), :func:`load_torch_state_dict`.

Examples
--------
One training step of a tiny x2 up-sampler:

>>> import numpy as np
>>> from upconv import nn
>>> rng = np.random.default_rng(0)
>>> model = nn.Sequential(nn.SubPixelConv(1, 4, 3, rng=rng), nn.ReLU(), nn.Conv(4, 1, 3, padding=1, rng=rng))
>>> loss, opt = nn.MSELoss(), nn.Adam(model, lr=1e-2)
>>> x, target = rng.random((2, 1, 8, 8), np.float32), rng.random((2, 1, 16, 16), np.float32)
>>> value = loss.forward(model.forward(x), target)
>>> _ = model.backward(loss.backward(), input_grad=False)
>>> opt.step()
"""

from upconv.nn import init
from upconv.nn.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from upconv.nn.io import load, load_torch_state_dict, save
from upconv.nn.layers import Conv, ConvTranspose, PixelShuffle, ResizeConv, SubPixelConv
from upconv.nn.losses import L1Loss, MSELoss
from upconv.nn.module import Module, Sequential
from upconv.nn.optim import SGD, Adam

__all__ = [
    "Module",
    "Conv",
    "ConvTranspose",
    "ResizeConv",
    "SubPixelConv",
    "PixelShuffle",
    "ReLU",
    "LeakyReLU",
    "Tanh",
    "Sigmoid",
    "Sequential",
    "MSELoss",
    "L1Loss",
    "SGD",
    "Adam",
    "init",
    "save",
    "load",
    "load_torch_state_dict",
]
