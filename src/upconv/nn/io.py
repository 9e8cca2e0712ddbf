"""Saving and loading parameters: ``.npz`` files and PyTorch ``state_dict`` s.

Loads are all or nothing: every name, shape and dtype is checked (for an
``.npz``, from the array headers, before any data is read) before the first
parameter changes.  Saves replace the file in one step
(:func:`upconv._files.atomic_write`).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from upconv import _validate as v
from upconv._files import atomic_write
from upconv.nn.module import Module, check_parameter

__all__ = ["save", "load", "load_torch_state_dict"]


def _module(func: str, model: Any) -> Module:
    if not isinstance(model, Module):
        raise TypeError(f"{func}: model must be an upconv.nn.Module, got {model!r}")
    return model


def save(model: Module, path: str | os.PathLike[str]) -> None:
    """Write ``model.state_dict()`` to an uncompressed ``.npz`` file (one array per parameter name).

    The file is written at exactly ``path`` (no ``.npz`` is appended, so
    :func:`load` reads it back under the same name), through a temporary
    file that replaces ``path`` at the end: an interrupted save leaves the
    previous file intact.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from upconv.nn import Conv, save, load
    >>> a, b = Conv(1, 2, 3, rng=np.random.default_rng(0)), Conv(1, 2, 3, rng=np.random.default_rng(1))
    >>> path = os.path.join(tempfile.mkdtemp(), "conv.ckpt")
    >>> save(a, path); load(b, path)
    >>> np.array_equal(a.params["weight"], b.params["weight"])
    True
    """
    state = _module("save", model).state_dict()
    with atomic_write(path) as f:
        np.savez(f, **state)  # type: ignore[arg-type]  # mypy checks **kwds against allow_pickle


def _npz_headers(func: str, path: str | os.PathLike[str]) -> dict[str, tuple[str, tuple[int, ...], np.dtype]]:
    """``{name: (member, shape, dtype)}`` of every array of an ``.npz``, read from the headers only."""
    out: dict[str, tuple[str, tuple[int, ...], np.dtype]] = {}
    try:
        with zipfile.ZipFile(path) as z:
            for member in z.namelist():
                if not member.endswith(".npy"):
                    continue
                with z.open(member) as f:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                out[member[: -len(".npy")]] = (member, tuple(shape), dtype)
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ValueError(f"{func}: {os.fspath(path)!r} is not a readable .npz file: {exc}") from None
    return out


def load(model: Module, path: str | os.PathLike[str], strict: bool = True) -> None:
    """Load parameters written by :func:`save` into ``model``, in place; all or nothing.

    Names, shapes and dtypes are read from the array headers and checked
    (with the memory limit) before any data is read; the parameters change
    only when every check has passed.

    Raises
    ------
    ValueError
        If a shape differs, an array is not real numbers (complex, boolean,
        text, objects), the file is not an ``.npz``, or (``strict``) a name
        is missing or unexpected.
    MemoryError
        If an array the model needs would pass :func:`upconv.get_memory_limit`.
    """
    func = "load"
    m = _module(func, model)
    strict = v.boolean(strict, func, "strict")
    headers = _npz_headers(func, path)
    ours = {name: owner.params[key].shape for name, owner, key in m.named_parameters()}
    if strict:
        missing, unexpected = sorted(set(ours) - set(headers)), sorted(set(headers) - set(ours))
        if missing or unexpected:
            raise ValueError(f"{func}: missing parameters {missing}, unexpected parameters {unexpected}")
    wanted = {name: h for name, h in headers.items() if name in ours}
    for name, (_, shape, dtype) in wanted.items():
        check_parameter(func, name, shape, dtype, ours[name])
        v.check_allocation(shape, dtype, func, f"parameter {name!r}")
    with np.load(path, allow_pickle=False) as data:
        state = {name: data[name] for name in wanted}
    m.load_state_dict(state, strict=False)


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def load_torch_state_dict(model: Module, path_or_dict: Any, strict: bool = True, *,
                          mapping: Mapping[str, str] | str | None = None) -> dict[str, str]:
    """Load a PyTorch ``state_dict`` (a file written by ``torch.save``, a mapping, or a ``torch.nn.Module``).

    Names are matched: upconv's parameter names are torch's (``"0.weight"``,
    ``"0.bias"`` in a :class:`~upconv.nn.Sequential`).  Where the names
    differ (an upconv :class:`~upconv.nn.SubPixelConv` is one layer where
    torch has ``Conv2d`` + ``PixelShuffle``, shifting the indices), pass
    ``mapping``: a dict from upconv names to torch names, or ``"order"`` to
    pair the parameters in order; without it differing names are an error
    that shows the in-order pairing.  Every shape must agree; the load is
    all or nothing.  Non-floating entries (e.g. ``num_batches_tracked``)
    are ignored, complex ones refused.  torch is imported only to read a file.

    Parameters
    ----------
    model : upconv.nn.Module
    path_or_dict : str, os.PathLike, mapping of str to tensor/array, or torch.nn.Module
    strict : bool, optional
        Require every parameter of the model (and, matching by name, no
        unexpected torch parameter).
    mapping : dict of str to str, "order" or None, optional
        How upconv parameters find their torch parameter (None: same name).

    Returns
    -------
    dict of str to str
        The mapping used: each loaded upconv parameter and the torch name it came from.

    Raises
    ------
    ValueError
        If the parameters cannot be matched (names, count or shapes).
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
    {'0.weight': '0.weight', '0.bias': '0.bias', '2.weight': '2.weight', '2.bias': '2.bias'}
    >>> float(model[0].params["weight"].sum())
    18.0
    >>> shifted = {"conv.weight": np.ones((2, 1, 3, 3)), "conv.bias": np.zeros(2),
    ...            "out.weight": np.ones((1, 2, 1, 1)), "out.bias": np.zeros(1)}
    >>> load_torch_state_dict(model, shifted, mapping="order")["2.weight"]
    'out.weight'
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
    for k, a in state.items():
        if a.dtype.kind == "c":
            raise ValueError(f"{func}: parameter {k!r} must hold real numbers, got dtype {a.dtype}")
    state = {k: a for k, a in state.items() if a.dtype.kind == "f"}
    ours = [(name, owner.params[key].shape) for name, owner, key in m.named_parameters()]
    names = [n for n, _ in ours]
    in_order = dict(zip(names, state))
    if mapping is None:
        missing, unexpected = sorted(set(names) - set(state)), sorted(set(state) - set(names))
        if unexpected or (strict and missing):
            pairs = ", ".join(f"{a!r} <- {b!r}" for a, b in in_order.items())
            raise ValueError(
                f"{func}: the names differ: missing parameters {missing}, unexpected parameters {unexpected}; "
                f"pass mapping={{upconv name: torch name}}, or mapping='order' to pair them in order ({pairs})"
            )
        used = {n: n for n in names if n in state}
    elif isinstance(mapping, str):
        if mapping != "order":
            raise ValueError(f"{func}: mapping must be a dict of names or 'order', got {mapping!r}")
        if len(state) != len(ours):
            raise ValueError(
                f"{func}: the state_dict has {len(state)} parameters ({list(state)}) and the model {len(ours)} "
                f"({names}); mapping='order' pairs them in order, so the counts must agree"
            )
        used = in_order
    elif isinstance(mapping, Mapping):
        used = {str(a): str(b) for a, b in mapping.items()}
        unknown = sorted(set(used) - set(names))
        absent = sorted(set(used.values()) - set(state))
        missing = sorted(set(names) - set(used)) if strict else []
        if unknown or absent or missing:
            raise ValueError(
                f"{func}: mapping names unknown upconv parameters {unknown} and absent torch parameters {absent}; "
                f"upconv parameters not mapped: {missing}"
            )
    else:
        raise TypeError(f"{func}: mapping must be a dict of names, 'order' or None, got {mapping!r}")
    shapes = dict(ours)
    for name, key in used.items():
        a = state[key]
        if a.shape != shapes[name]:
            raise ValueError(
                f"{func}: torch parameter {key!r} of shape {a.shape} meets {name!r} of shape {shapes[name]}"
            )
    m.load_state_dict({name: state[key] for name, key in used.items()}, strict=strict)
    return used
