"""The layer protocol: :class:`Module` and :class:`Sequential`.

A :class:`Module` has parameters, gradients, ``forward``/``backward`` and a ``state_dict``.

Parameter names follow torch's ``state_dict``: ``weight`` and ``bias``,
prefixed by the position in a :class:`Sequential` (``"0.weight"``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, cast

import numpy as np

from upconv import _validate as v

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["Module", "Sequential", "check_parameter"]


def check_parameter(func: str, name: str, shape: tuple[int, ...], dtype: np.dtype, expected: tuple[int, ...]) -> None:
    """ValueError unless an array of ``shape`` and ``dtype`` can be loaded into a parameter of shape ``expected``.

    Real numbers only (integers and floats): complex values would lose their imaginary part, booleans,
    strings and objects are not parameters.
    """
    if dtype.kind not in "iuf":
        raise ValueError(f"{func}: parameter {name!r} must hold real numbers, got dtype {dtype}")
    if tuple(shape) != tuple(expected):
        raise ValueError(f"{func}: parameter {name!r} has shape {tuple(expected)}, got {tuple(shape)}")


class Module:
    """Base class: parameters, gradients, ``forward``/``backward`` and ``state_dict``.

    Attributes
    ----------
    params : dict of str to ndarray
        The layer's own parameters (not its children's).
    grads : dict of str to ndarray
        Their gradients after :meth:`backward` (empty before).
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    # subclasses implement these two
    def forward(self, x: npt.ArrayLike) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: npt.ArrayLike, *, input_grad: bool = True) -> np.ndarray | None:
        raise NotImplementedError

    def __call__(self, x: npt.ArrayLike) -> np.ndarray:
        return self.forward(x)

    def children(self) -> list[tuple[str, Module]]:
        """Named sub-layers (none for a plain layer)."""
        return []

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Module, str]]:
        """``(full name, owning layer, key)`` for every parameter, depth first, in registration order."""
        for key in self.params:
            yield prefix + key, self, key
        for name, child in self.children():
            yield from child.named_parameters(f"{prefix}{name}.")

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter, by full name (torch's ``state_dict`` names)."""
        return {name: owner.params[key].copy() for name, owner, key in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, npt.ArrayLike], strict: bool = True) -> None:
        """Copy ``state``'s arrays into the parameters, in place (cast to each parameter's dtype).

        All or nothing: every name, shape and dtype is checked before the
        first parameter changes.

        Raises
        ------
        ValueError
            If a shape differs, with ``strict`` if a name is missing or
            unexpected, or if an array holds complex, boolean, object or
            other non-real data (which casting would silently change).
        """
        func = f"{type(self).__name__}.load_state_dict"
        strict = v.boolean(strict, func, "strict")
        names = {name: (owner, key) for name, owner, key in self.named_parameters()}
        if strict:
            missing = sorted(set(names) - set(state))
            unexpected = sorted(set(state) - set(names))
            if missing or unexpected:
                raise ValueError(f"{func}: missing parameters {missing}, unexpected parameters {unexpected}")
        staged: list[tuple[np.ndarray, np.ndarray]] = []
        for name, value in state.items():
            if name not in names:
                continue
            owner, key = names[name]
            a = np.asarray(value)
            check_parameter(func, name, a.shape, a.dtype, owner.params[key].shape)
            staged.append((owner.params[key], a))
        for param, a in staged:  # every check passed: now copy
            param[...] = a

    def zero_grad(self) -> None:
        """Forget every gradient."""
        for _, owner, _ in self.named_parameters():
            owner.grads.clear()

    def num_parameters(self) -> int:
        """Number of scalar parameters."""
        return sum(owner.params[key].size for _, owner, key in self.named_parameters())

    def _cached(self, name: str) -> np.ndarray:
        value = getattr(self, name, None)
        if value is None:
            raise RuntimeError(f"{type(self).__name__}.backward: call forward first")
        return value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self) -> str:
        return ""


class Sequential(Module):
    """Layers applied in order; ``backward`` runs them in reverse.

    Parameters are named ``"<index>.<name>"`` as in ``torch.nn.Sequential``.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.nn import Conv, ReLU, Sequential
    >>> rng = np.random.default_rng(0)
    >>> model = Sequential(Conv(1, 4, 3, padding=1, rng=rng), ReLU(), Conv(4, 1, 3, padding=1, rng=rng))
    >>> list(model.state_dict())
    ['0.weight', '0.bias', '2.weight', '2.bias']
    >>> y = model.forward(np.ones((1, 1, 6, 6), np.float32))
    >>> model.backward(np.ones_like(y)).shape
    (1, 1, 6, 6)
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: every layer must be an upconv.nn.Module, got {layer!r} at position {i}")
        self.layers: list[Module] = list(layers)

    def children(self) -> list[tuple[str, Module]]:
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def forward(self, x: npt.ArrayLike) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return cast("np.ndarray", x)  # x itself when there are no layers

    def backward(self, grad_out: npt.ArrayLike, *, input_grad: bool = True) -> np.ndarray | None:
        g: npt.ArrayLike | None = grad_out
        for i in range(len(self.layers) - 1, -1, -1):
            # None only after layer 0 with input_grad=False: the loop has ended
            g = self.layers[i].backward(cast("npt.ArrayLike", g), input_grad=input_grad or i > 0)
        return cast("np.ndarray | None", g)  # grad_out itself when there are no layers

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
