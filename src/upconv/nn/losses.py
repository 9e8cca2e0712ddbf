"""Losses: ``forward(prediction, target) -> float`` and ``backward() -> dL/dprediction``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from upconv import _validate as v

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["MSELoss", "L1Loss"]


class _Loss:
    """Shared checks; ``reduction`` is ``"mean"`` (torch's default) or ``"sum"``."""

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = v.choice(reduction, ("mean", "sum"), type(self).__name__, "reduction")
        self._diff: np.ndarray | None = None

    def _pair(self, prediction: npt.ArrayLike, target: npt.ArrayLike) -> np.ndarray:
        func = f"{type(self).__name__}.forward"
        _, arrays = v.float_arrays(func, prediction=prediction, target=target)
        p, t = cast("list[np.ndarray]", arrays)  # None only for a None input
        if p.shape != t.shape:
            raise ValueError(f"{func}: prediction and target must have the same shape, got {p.shape} and {t.shape}")
        if p.size == 0:
            raise ValueError(f"{func}: prediction must not be empty")
        self._diff = p - t
        return self._diff

    def _scale(self, diff: np.ndarray) -> np.floating[Any]:
        return diff.dtype.type(1.0 / diff.size if self.reduction == "mean" else 1.0)

    def _cached(self) -> np.ndarray:
        if self._diff is None:
            raise RuntimeError(f"{type(self).__name__}.backward: call forward first")
        return self._diff

    def __call__(self, prediction: npt.ArrayLike, target: npt.ArrayLike) -> float:
        return self.forward(prediction, target)

    def forward(self, prediction: npt.ArrayLike, target: npt.ArrayLike) -> float:
        raise NotImplementedError


class MSELoss(_Loss):
    r"""Mean squared error, ``torch.nn.MSELoss``.

    :math:`L = \frac{1}{M}\sum (p - t)^2`, :math:`\partial L/\partial p = 2 (p - t) / M`.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.nn import MSELoss
    >>> loss = MSELoss()
    >>> loss.forward(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    2.5
    >>> loss.backward()
    array([1., 2.])
    """

    def forward(self, prediction: npt.ArrayLike, target: npt.ArrayLike) -> float:
        d = self._pair(prediction, target)
        total = float(np.sum(np.square(d, dtype=np.float64)))
        return total / d.size if self.reduction == "mean" else total

    def backward(self) -> np.ndarray:
        d = self._cached()
        return d * (2 * self._scale(d))


class L1Loss(_Loss):
    r"""Mean absolute error, ``torch.nn.L1Loss``.

    :math:`L = \frac{1}{M}\sum |p - t|`, gradient ``sign(p - t) / M`` (0 at 0).

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.nn import L1Loss
    >>> loss = L1Loss()
    >>> loss.forward(np.array([1.0, -2.0, 0.0]), np.zeros(3))
    1.0
    >>> loss.backward()
    array([ 0.33333333, -0.33333333,  0.        ])
    """

    def forward(self, prediction: npt.ArrayLike, target: npt.ArrayLike) -> float:
        d = self._pair(prediction, target)
        total = float(np.sum(np.abs(d), dtype=np.float64))
        return total / d.size if self.reduction == "mean" else total

    def backward(self) -> np.ndarray:
        d = self._cached()
        return np.sign(d) * self._scale(d)
