"""Arrays in, same arrays out: the one layer between the caller's array type and the NumPy operators.

Every public operator, gradient and array analysis is wrapped by
:func:`array_function`.  The operators themselves compute on NumPy; this
layer decides what goes in and what comes back:

* **NumPy arrays** go straight through (the fast path: a type check per
  array argument, about a microsecond per call).  A non-native byte order
  (``>f4``) is converted to the native one first.
* **CPU arrays of the Python array API standard** (torch tensors,
  ``array_api_strict``, ...) are read without a copy where DLPack allows,
  so their dtype decides the computation (a float32 tensor is computed in
  float32), and the result comes back as the type of the leading array
  argument (the first one given), through ``array_api_compat``; tuple
  results too.
* **Other array-likes** with a dtype (``__array__``) are converted with
  ``numpy.asarray`` and keep their dtype; lists and scalars are NumPy's
  business (float64 unless another input has a floating dtype).
* **Device arrays** (CUDA tensors, CuPy) and **tensors that require grad**
  are refused with a TypeError that says what to do.
* **Dask arrays** go to the chunked implementation where one exists (the
  hook in :func:`_dask_call`); every other function refuses them with a
  TypeError that says to call ``.compute()`` first (a Dask array may be
  larger than memory: it is never loaded silently).
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = ["array_function", "ARRAY_PARAMETERS"]

F = TypeVar("F", bound=Callable[..., Any])

#: Parameter names that hold arrays, in every wrapped function.
ARRAY_PARAMETERS = frozenset({
    "x", "weight", "bias", "indices", "cols", "grad_out", "y", "conv_weight", "reference", "estimate", "x0",
})

_ndarray = np.ndarray
# DLPack device types whose memory the CPU reads: kDLCPU, kDLCUDAHost (pinned), kDLCUDAManaged, kDLROCMHost
_CPU_DEVICES = {1, 3, 13, 11}


def array_function(func: F | None = None, *, whole: bool = False) -> Any:
    """Decorate a public function whose :data:`ARRAY_PARAMETERS` take arrays (see the module docstring).

    ``whole=True``: the function needs the whole array at once (a solver, a
    Fourier transform, a metric), so a Dask input is refused with a
    message that says to ``.compute()`` it first.
    """

    def decorate(fn: F) -> F:
        params = list(inspect.signature(fn).parameters.values())
        names = tuple(p.name for p in params if p.name in ARRAY_PARAMETERS)
        positions = tuple(i for i, p in enumerate(params) if p.name in ARRAY_PARAMETERS
                          and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
        required = frozenset(p.name for p in params if p.name in names and p.default is p.empty)
        required_positions = frozenset(i for i in positions if params[i].name in required)
        spec = _Spec(fn, fn.__name__, names, positions, tuple(p.name for p in params), whole, required)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # the fast path: every array argument given is a native-order NumPy array (or None where optional)
            n = len(args)
            for i in positions:
                if i < n:
                    a = args[i]
                    if a.__class__ is not _ndarray:
                        if a is not None or i in required_positions:
                            return _dispatch(spec, args, kwargs)
                    elif not a.dtype.isnative:
                        return _dispatch(spec, args, kwargs)
            if kwargs:
                for k in names:
                    a = kwargs.get(k)
                    if a is None:
                        if k in required and k in kwargs:
                            return _dispatch(spec, args, kwargs)
                    elif a.__class__ is not _ndarray or not a.dtype.isnative:
                        return _dispatch(spec, args, kwargs)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


class _Spec:
    """What the slow path needs to know about one wrapped function."""

    __slots__ = ("fn", "name", "names", "positions", "params", "whole", "required")

    def __init__(self, fn: Callable[..., Any], name: str, names: tuple[str, ...], positions: tuple[int, ...],
                 params: tuple[str, ...], whole: bool, required: frozenset[str]) -> None:
        self.fn, self.name, self.names, self.positions, self.params, self.whole, self.required = (
            fn, name, names, positions, params, whole, required)


def _is_dask(a: object) -> bool:
    """A Dask collection, recognised by its type's module (dask is never imported here)."""
    return type(a).__module__.split(".", 1)[0] == "dask"


def _dispatch(spec: _Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The slow path: convert the array arguments to NumPy, call, convert the result back."""
    new_args = list(args)
    new_kwargs = dict(kwargs)
    slots: list[tuple[str, Any, bool, int | str]] = []  # (name, value, positional?, index or key)
    for i, name in enumerate(spec.params):
        if name not in spec.names:
            continue
        if i < len(args) and i in spec.positions:
            slots.append((name, args[i], True, i))
        elif name in kwargs:
            slots.append((name, kwargs[name], False, name))
    for name, a, _, _ in slots:
        if a is None and name in spec.required:  # an optional array (bias) may be None, a required one may not
            raise TypeError(f"{spec.name}: {name} must be an array, got None")
    for name, a, _, _ in slots:
        if _is_dask(a):
            return _dask_call(spec, name, args, kwargs)
    back: _Back | None = None
    leading = True
    for name, a, positional, where in slots:
        if a is None:
            continue
        converted, kind = _to_numpy(spec.name, name, a)
        if positional:
            new_args[where] = converted  # type: ignore[index]
        else:
            new_kwargs[where] = converted  # type: ignore[index]
        if leading:  # the first array argument given decides the result's type (and device)
            leading = False
            if kind is not None:
                back = _Back(kind, a)
    result = spec.fn(*new_args, **new_kwargs)
    return result if back is None else back(result)


class _Kind:
    """How arrays of one type are read and written back (found once per type: :func:`_kind`)."""

    __slots__ = ("xp", "torch")

    def __init__(self, xp: Any, torch: bool) -> None:
        self.xp, self.torch = xp, torch


class _Back:
    """Converts results to the leading argument's array type, on its device."""

    __slots__ = ("kind", "device")

    def __init__(self, kind: _Kind, a: Any) -> None:
        import array_api_compat

        self.kind = kind
        self.device = None if kind.torch else array_api_compat.device(a)

    def one(self, r: np.ndarray) -> Any:
        if self.kind.torch:  # CPU tensors share the result's memory
            return self.kind.xp.asarray(r)
        return self.kind.xp.asarray(r, device=self.device)

    def __call__(self, result: Any) -> Any:
        if isinstance(result, _ndarray):
            return self.one(result)
        if isinstance(result, tuple):
            return tuple(self.one(r) if isinstance(r, _ndarray) else r for r in result)
        return result


_KINDS: dict[type, _Kind | None] = {}


def _kind(a: Any) -> _Kind | None:
    """The :class:`_Kind` of ``type(a)`` when it is an array API array other than NumPy's, else None (cached)."""
    t = type(a)
    if t not in _KINDS:
        import array_api_compat

        if array_api_compat.is_array_api_obj(a) and not isinstance(a, np.ndarray):
            _KINDS[t] = _Kind(array_api_compat.array_namespace(a), array_api_compat.is_torch_array(a))
        else:
            _KINDS[t] = None
    return _KINDS[t]


def _device_error(func: str, name: str, a: object, where: str) -> TypeError:
    hint = ".get()" if type(a).__module__.split(".", 1)[0] == "cupy" else ".cpu()"
    return TypeError(
        f"{func}: {name} is an array on {where}; upconv computes on the CPU with NumPy: pass {name}{hint} "
        f"(and move the result back yourself), or use your framework's own function on the device"
    )


def _grad_error(func: str, name: str) -> TypeError:
    return TypeError(
        f"{func}: {name} is a tensor that requires grad; upconv computes plain arrays and does not track "
        f"gradients: pass {name}.detach() (gradients of upconv's operators are in upconv.grad)"
    )


def _to_numpy(func: str, name: str, a: Any) -> tuple[Any, _Kind | None]:
    """``(argument for the NumPy code, how to return results or None)`` for one array argument."""
    if isinstance(a, _ndarray):
        return (a if a.dtype.isnative else a.astype(a.dtype.newbyteorder("="))), None
    if isinstance(a, (np.generic, int, float, complex, bool, list, tuple)):
        return a, None
    kind = _kind(a)
    if kind is not None and kind.torch:  # the common case, without DLPack's per-call cost
        if a.requires_grad:
            raise _grad_error(func, name)
        if a.device.type != "cpu":
            raise _device_error(func, name, a, f"device {a.device}")
        try:
            return a.numpy(), kind
        except (TypeError, RuntimeError):  # bfloat16, conjugate or negative views: the general route
            return _read(func, name, a), kind
    if getattr(a, "__cuda_array_interface__", None) is not None:
        raise _device_error(func, name, a, "a CUDA device")
    if getattr(a, "requires_grad", False):
        raise _grad_error(func, name)
    dlpack_device = getattr(a, "__dlpack_device__", None)
    if dlpack_device is not None:
        try:
            where = int(dlpack_device()[0])
        except Exception:  # noqa: BLE001 - a device the array cannot describe: let the conversion decide
            where = 1
        if where not in _CPU_DEVICES:
            raise _device_error(func, name, a, f"device {getattr(a, 'device', where)}")
    if kind is not None or hasattr(a, "__array__") or dlpack_device is not None:
        return _read(func, name, a), kind
    return a, None


def _read(func: str, name: str, a: Any) -> np.ndarray:
    """A NumPy view of a CPU array (DLPack, else ``__array__``), in native byte order."""
    try:
        out = np.from_dlpack(a)
    except Exception:  # noqa: BLE001 - no DLPack (or an unusual layout): NumPy's own conversion
        try:
            out = np.asarray(a)
        except Exception as exc:
            dtype = getattr(a, "dtype", None)
            raise TypeError(
                f"{func}: cannot read {name} (a {type(a).__module__}.{type(a).__name__} of dtype {dtype}) as a "
                f"NumPy array: {exc}; convert it to a float32 or float64 array first"
            ) from None
    return out if out.dtype.isnative else out.astype(out.dtype.newbyteorder("="))


# --------------------------------------------------------------------------
# DASK HOOK: the single place where Dask arrays are routed.


def _chunked(name: str) -> Callable[..., Any] | None:
    """``upconv.ops.chunked.<name>`` when that module exists and lists ``name`` in ``chunked.SUPPORTED``."""
    try:  # by name: the module is being written (lazy Dask implementations with the operators' signatures)
        chunked = importlib.import_module("upconv.ops.chunked")
    except ImportError:
        return None
    supported = getattr(chunked, "SUPPORTED", ())
    return getattr(chunked, name, None) if name in supported else None


def _dask_call(spec: _Spec, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Route a call with a Dask array ``name``: the chunked implementation, or a clear refusal."""
    if spec.whole:
        raise TypeError(
            f"{spec.name}: {name} is a Dask array, and {spec.name} needs the whole array at once: "
            f"call {name}.compute() first"
        )
    chunked = _chunked(spec.name)
    if chunked is not None:
        return chunked(*args, **kwargs)
    # never load a Dask array silently (it may be larger than memory): say what to do instead
    supported = ", ".join(getattr(importlib.import_module("upconv.ops.chunked"), "SUPPORTED", ()))
    raise TypeError(
        f"{spec.name}: {name} is a Dask array, and {spec.name} has no chunked version (the chunked operators "
        f"are {supported}): call {name}.compute() first"
    )
