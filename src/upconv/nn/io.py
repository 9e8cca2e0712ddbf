"""Saving and loading parameters: ``.npz`` files and PyTorch ``state_dict`` s."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from upconv import _validate as v
from upconv.nn.module import Module

__all__ = ["save", "load", "load_torch_state_dict"]


def _module(func: str, model: Any) -> Module:
    if not isinstance(model, Module):
        raise TypeError(f"{func}: model must be an upconv.nn.Module, got {model!r}")
    return model


def save(model: Module, path: str | os.PathLike) -> None:
    """Write ``model.state_dict()`` to an uncompressed ``.npz`` file (one array per parameter name).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from upconv.nn import Conv, save, load
    >>> a, b = Conv(1, 2, 3, rng=np.random.default_rng(0)), Conv(1, 2, 3, rng=np.random.default_rng(1))
    >>> path = os.path.join(tempfile.mkdtemp(), "conv.npz")
    >>> save(a, path); load(b, path)
    >>> np.array_equal(a.params["weight"], b.params["weight"])
    True
    """
    np.savez(path, **_module("save", model).state_dict())  # type: ignore[arg-type]  # mypy checks **kwds against allow_pickle


def load(model: Module, path: str | os.PathLike, strict: bool = True) -> None:
    """Load parameters written by :func:`save` into ``model``, in place.

    Raises
    ------
    ValueError
        If a shape differs or (``strict``) a name is missing or unexpected.
    """
    m = _module("load", model)
    with np.load(path, allow_pickle=False) as data:
        m.load_state_dict({k: data[k] for k in data.files}, strict=strict)


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def load_torch_state_dict(model: Module, path_or_dict: Any, strict: bool = True) -> None:
    """Load a PyTorch ``state_dict`` (a file written by ``torch.save``, a mapping, or a ``torch.nn.Module``).

    Names are matched first: upconv's parameter names are torch's
    (``"0.weight"``, ``"0.bias"`` in a :class:`~upconv.nn.Sequential`).
    When the name sets differ (an upconv :class:`~upconv.nn.SubPixelConv`
    is one layer where torch has ``Conv2d`` + ``PixelShuffle``, shifting the
    indices), parameters are matched in order instead; every shape must
    agree.  Non-floating entries (e.g. ``num_batches_tracked``) are ignored.
    torch is imported only to read a file.

    Parameters
    ----------
    model : upconv.nn.Module
    path_or_dict : str, os.PathLike, mapping of str to tensor/array, or torch.nn.Module
    strict : bool, optional
        Require the same number of parameters (default).

    Raises
    ------
    ValueError
        If the parameters cannot be matched (count or shapes).
    ImportError
        If a path is given and torch is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.nn import Conv, Sequential, ReLU, load_torch_state_dict
    >>> model = Sequential(Conv(1, 2, 3), ReLU(), Conv(2, 1, 1))
    >>> state = {"0.weight": np.ones((2, 1, 3, 3)), "0.bias": np.zeros(2),
    ...          "2.weight": np.ones((1, 2, 1, 1)), "2.bias": np.zeros(1)}
    >>> load_torch_state_dict(model, state)
    >>> float(model[0].params["weight"].sum())
    18.0
    """
    func = "load_torch_state_dict"
    m = _module(func, model)
    strict = v.boolean(strict, func, "strict")
    src = path_or_dict
    if isinstance(src, (str, os.PathLike)):
        import torch

        src = torch.load(src, map_location="cpu", weights_only=True)
    if hasattr(src, "state_dict") and callable(src.state_dict):
        src = src.state_dict()
    if not isinstance(src, Mapping):
        raise TypeError(
            f"{func}: path_or_dict must be a path, a mapping or a torch.nn.Module, got {type(src).__name__}"
        )
    state = {str(k): _to_numpy(val) for k, val in src.items()}
    state = {k: a for k, a in state.items() if a.dtype.kind == "f"}
    ours = [(name, owner.params[key].shape) for name, owner, key in m.named_parameters()]
    names = [n for n, _ in ours]
    if set(state) <= set(names) and (not strict or set(state) == set(names)):
        m.load_state_dict(state, strict=strict)
        return
    if len(state) != len(ours):
        raise ValueError(
            f"{func}: the state_dict has {len(state)} parameters ({list(state)}) and the model {len(ours)} "
            f"({names}); the names differ, so they are matched in order and the counts must agree"
        )
    mapped: dict[str, np.ndarray] = {}
    for (name, shape), (key, a) in zip(ours, state.items()):
        if a.shape != shape:
            raise ValueError(
                f"{func}: matching in order, torch parameter {key!r} of shape {a.shape} meets {name!r} of "
                f"shape {shape}"
            )
        mapped[name] = a
    m.load_state_dict(mapped, strict=True)
