"""Optimisers with ``torch.optim``'s update formulas (single-tensor CPU path).

An optimiser takes a :class:`upconv.nn.Module` and updates its parameters
in place from their ``grads`` (parameters without a gradient are skipped,
as torch skips ``grad is None``).  State is kept per parameter name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from upconv import _validate as v
from upconv.nn.module import Module

__all__ = ["SGD", "Adam"]


class _Optimizer:
    def __init__(self, model: Module) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"{type(self).__name__}: model must be an upconv.nn.Module, got {model!r}")
        self.model = model
        self.state: dict[str, dict[str, Any]] = {}  # per parameter: buffers (arrays) and Adam's step count

    def zero_grad(self) -> None:
        """Forget the model's gradients."""
        self.model.zero_grad()

    def _params(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        for name, owner, key in self.model.named_parameters():
            g = owner.grads.get(key)
            if g is not None:
                yield name, owner.params[key], np.asarray(g, dtype=owner.params[key].dtype)


class SGD(_Optimizer):
    r"""Stochastic gradient descent with momentum, as ``torch.optim.SGD``.

    With ``g = grad + weight_decay * p``; ``b = g`` at the first step, then
    ``b = momentum * b + (1 - dampening) * g``; ``g = g + momentum * b``
    (Nesterov) or ``g = b``; ``p = p - lr * g``.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.nn import Conv, SGD
    >>> layer = Conv(1, 1, 1, bias=False, rng=np.random.default_rng(0))
    >>> layer.params["weight"][...] = 1.0
    >>> layer.grads["weight"] = np.full((1, 1, 1, 1), 0.5, np.float32)
    >>> opt = SGD(layer, lr=0.1, momentum=0.9)
    >>> opt.step(); opt.step()
    >>> layer.params["weight"].ravel()
    array([0.855], dtype=float32)
    """

    def __init__(self, model: Module, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(model)
        func = "SGD"
        self.lr = v.real(lr, func, "lr", minimum=0.0)
        self.momentum = v.real(momentum, func, "momentum", minimum=0.0)
        self.dampening = v.real(dampening, func, "dampening")
        self.weight_decay = v.real(weight_decay, func, "weight_decay", minimum=0.0)
        self.nesterov = v.boolean(nesterov, func, "nesterov")
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(f"{func}: Nesterov momentum requires a momentum and zero dampening")

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        for name, p, g in self._params():
            if self.weight_decay:
                g = g + p * p.dtype.type(self.weight_decay)
            if self.momentum:
                st = self.state.setdefault(name, {})
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = g.copy()
                else:
                    buf *= p.dtype.type(self.momentum)
                    buf += g * p.dtype.type(1 - self.dampening)
                g = g + buf * p.dtype.type(self.momentum) if self.nesterov else buf
            p -= g * p.dtype.type(self.lr)


class Adam(_Optimizer):
    r"""Adam (Kingma & Ba 2015), as ``torch.optim.Adam`` (``amsgrad`` included, L2 ``weight_decay``).

    Per step ``t``: ``g = grad + weight_decay * p``; ``m = m + (1 - b1) (g - m)``;
    ``v = b2 v + (1 - b2) g^2``; ``p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``
    (``v`` replaced by its running maximum with ``amsgrad``).  The bias
    corrections are computed in double precision, the rest in the
    parameter's dtype, in torch's order.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.nn import Conv, Adam
    >>> layer = Conv(1, 1, 1, bias=False, rng=np.random.default_rng(0))
    >>> layer.params["weight"][...] = 1.0
    >>> layer.grads["weight"] = np.full((1, 1, 1, 1), 0.5, np.float32)
    >>> opt = Adam(layer, lr=0.1)
    >>> opt.step()
    >>> round(float(layer.params["weight"][0, 0, 0, 0]), 6)   # the first Adam step moves by lr
    0.9
    """

    def __init__(self, model: Module, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(model)
        func = "Adam"
        self.lr = v.real(lr, func, "lr", minimum=0.0)
        b = v.float_tuple(betas, 2, func, "betas", scalar_ok=False)
        if not all(0.0 <= x < 1.0 for x in b):
            raise ValueError(f"{func}: betas must lie in [0, 1), got {betas!r}")
        self.betas = b
        self.eps = v.real(eps, func, "eps", minimum=0.0)
        self.weight_decay = v.real(weight_decay, func, "weight_decay", minimum=0.0)
        self.amsgrad = v.boolean(amsgrad, func, "amsgrad")

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        b1, b2 = self.betas
        for name, p, g in self._params():
            T = p.dtype.type
            st = self.state.get(name)
            if st is None:
                st = self.state[name] = {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
                if self.amsgrad:
                    st["max_exp_avg_sq"] = np.zeros_like(p)
            st["step"] += 1
            t = st["step"]
            if self.weight_decay:
                g = g + p * T(self.weight_decay)
            m, v2 = st["exp_avg"], st["exp_avg_sq"]
            m += (g - m) * T(1 - b1)                     # exp_avg.lerp_(grad, 1 - beta1)
            v2 *= T(b2)                                  # exp_avg_sq.mul_(beta2)
            v2 += (g * T(1 - b2)) * g                    # .addcmul_(grad, grad, value=1 - beta2)
            bias_correction1 = 1 - b1**t
            bias_correction2 = 1 - b2**t
            step_size = self.lr / bias_correction1
            if self.amsgrad:
                np.maximum(st["max_exp_avg_sq"], v2, out=st["max_exp_avg_sq"])
                v2 = st["max_exp_avg_sq"]
            denom = np.sqrt(v2) / T(bias_correction2**0.5) + T(self.eps)
            p -= (m * T(step_size)) / denom              # param.addcdiv_(exp_avg, denom, value=-step_size)
