"""Argument validation shared by every public function.

Each validator takes the public function's name (``func``) and the argument's
name (``name``) so that its message reads
``"<func>: <name> must be <what is allowed>, got <value>"``; validators return
the normalised value.  User input is never checked with ``assert``.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, cast, overload

import numpy as np

from upconv._config import get_memory_limit

if TYPE_CHECKING:
    import numpy.typing as npt

# Shared annotations of the arguments the validators normalise (the public signatures use them):
#: one int for every axis, or one per axis (kernel_size, stride, dilation, output_padding, scale factors)
IntOrTuple: TypeAlias = int | Sequence[int]
#: padding as an int, one int per axis or one ``(begin, end)`` pair per axis (:func:`pad_pairs`)
PadPairsLike: TypeAlias = int | Sequence[int] | Sequence[Sequence[int]]
#: a convolution's padding: :data:`PadPairsLike` or a mode name (``"valid"``, ``"same"``)
PaddingLike: TypeAlias = PadPairsLike | str
#: one real number for every axis, or one per axis (:func:`float_tuple`)
FloatOrTuple: TypeAlias = float | Sequence[float]
#: normalised padding: one ``(begin, end)`` pair per axis
Pairs: TypeAlias = tuple[tuple[int, int], ...]


def check_allocation(shape: Sequence[int], dtype: npt.DTypeLike, func: str, what: str) -> None:
    """Raise MemoryError if an array of ``shape`` and ``dtype`` exceeds the memory limit."""
    itemsize = dtype.itemsize if isinstance(dtype, np.dtype) else np.dtype(dtype).itemsize
    nbytes = math.prod(map(int, shape)) * itemsize  # Python ints: no overflow
    recording = getattr(_memo, "checks", None)
    if recording is not None:  # a memoized computation: the check is replayed on every cache hit
        recording.append((nbytes, (tuple(shape), dtype, func, what)))
    limit = get_memory_limit()
    if nbytes > limit:
        raise MemoryError(
            f"{func}: {what} of shape {tuple(int(s) for s in shape)} would need "
            f"{nbytes / 2**30:.2f} GiB, more than the memory limit of {limit / 2**30:.2f} GiB; "
            "use another method or raise the limit with upconv.set_memory_limit() "
            "or the UPCONV_MEMORY_LIMIT environment variable (e.g. UPCONV_MEMORY_LIMIT=16GiB)"
        )


_F = TypeVar("_F", bound=Callable[..., Any])
_memo = threading.local()
_RAW = frozenset((int, str, type(None)))


class _Uncacheable(Exception):
    pass


def _key(value: object) -> object:
    """A key equal only for values that mean the same: each scalar with its exact type (``2``, ``2.0`` and
    ``True`` differ; so do ``'<f4'`` and ``'>f4'``, and ``0.0`` and ``-0.0``), tuples element by element;
    anything else is uncacheable.  ints, strs and None stand for themselves (no two of them are equal across
    types, nor equal to a tagged ``(type, value)`` pair or a tuple); bools, floats and dtypes are tagged with
    their type.  On every small call: written for speed (about 1.5 us for an operator's plan)."""
    kind = type(value)
    if kind is tuple:
        for item in cast(tuple[object, ...], value):
            if type(item) not in _RAW:
                return (tuple, tuple([item if type(item) in _RAW else _key(item)
                                      for item in cast(tuple[object, ...], value)]))
        return value  # sizes, shapes and names: the common case, as they are
    if kind in _RAW:
        return value
    if kind is float:  # 0.0 == -0.0, but a fill value of -0.0 fills with -0.0
        return (kind, value, math.copysign(1.0, value)) if value == 0.0 else (kind, value)
    if kind is bool or isinstance(value, np.dtype):
        return (kind, value)
    raise _Uncacheable


def memoized(fn: _F, maxsize: int = 1024) -> _F:
    """``fn`` cached for arguments that are plain scalars, dtypes and tuples of them (other calls compute).

    For the pure planning behind every operator (sizes, geometries, interpolation plans), whose Python
    validation costs a small call more than its arithmetic.  What is cached is only ever a success: an
    error is raised again by the next call.  The memory checks ``fn`` made (:func:`check_allocation`)
    are recorded and replayed on every hit, so a lowered memory limit applies to cached plans too.
    """
    cache: OrderedDict[object, tuple[Any, tuple[tuple[int, tuple[Any, ...]], ...], int]] = OrderedDict()
    lock = threading.Lock()

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            key = _key(args) if not kwargs else (_key(args), _key(tuple(sorted(kwargs.items()))))
        except _Uncacheable:
            return fn(*args, **kwargs)
        with lock:
            hit = cache.get(key)
            if hit is not None:
                cache.move_to_end(key)
        if hit is not None:
            result, checks, largest = hit
            if checks:
                outer = getattr(_memo, "checks", None)
                if outer is not None:  # memoized inside memoized: the outer call replays these checks too
                    outer.extend(checks)
                if largest > get_memory_limit():  # one comparison when all pass; else the first to fail raises
                    for _, check in checks:
                        check_allocation(*check)
            return result
        outer = getattr(_memo, "checks", None)
        recorded: list[tuple[int, tuple[Any, ...]]] = []
        _memo.checks = recorded
        try:
            result = fn(*args, **kwargs)
        finally:
            _memo.checks = outer
        if outer is not None:  # memoized inside memoized: the outer call replays these checks too
            outer.extend(recorded)
        with lock:
            cache[key] = (result, tuple(recorded), max((n for n, _ in recorded), default=0))
            if len(cache) > maxsize:
                cache.popitem(last=False)
        return result

    wrapper.cache_clear = cache.clear  # type: ignore[attr-defined]
    return cast(_F, wrapper)


def memoized_on_shape(fn: _F) -> _F:
    """``fn(func, x, *args)``, which reads only ``x``'s shape and dtype, :func:`memoized` on them.

    The planning of an operator for an array (validation, tables): a call with an array of the same shape
    and dtype and the same plain arguments returns the cached plan; ``fn`` itself is given a
    :func:`proxy` (so it cannot read the data, and the cache holds no array).
    """
    @memoized
    def cached(func: str, shape: tuple[int, ...], dtype: np.dtype[Any], *args: Any, **kwargs: Any) -> Any:
        return fn(func, proxy(shape, dtype), *args, **kwargs)

    @functools.wraps(fn)
    def wrapper(func: str, x: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        return cached(func, tuple(x.shape), x.dtype, *args, **kwargs)

    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return cast(_F, wrapper)


def proxy(shape: Sequence[int], dtype: npt.DTypeLike) -> np.ndarray:
    """A read-only array of ``shape`` and ``dtype`` that takes no memory: what validation and planning read
    (shapes and dtypes only) in place of the data, for memoized plans and lazy (Dask) arrays."""
    return np.broadcast_to(np.zeros((), dtype=dtype), tuple(shape))


def integer(value: object, func: str, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as a Python int, rejecting bools, floats and anything below ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: {name} must be an integer, got {value!r}")
    value = operator.index(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{func}: {name} must be >= {minimum}, got {value}")
    return value


def int_tuple(value: object, n: int, func: str, name: str, *, minimum: int | None = None) -> tuple[int, ...]:
    """Normalise an int or a length-``n`` sequence of ints to a tuple of ``n`` ints.

    Unlike ``torch.nn.modules.utils._ntuple``, a sequence of the wrong length is
    an error rather than passed through.
    """
    # the common cases first, without the ABC checks below
    if type(value) is int:
        values = (value,) * n
        if minimum is not None and min(values, default=minimum) < minimum:
            raise ValueError(f"{func}: every entry of {name} must be >= {minimum}, got {value!r}")
        return values
    if type(value) is tuple and len(value) == n and all(type(v) is int for v in value):
        if minimum is not None and min(value, default=minimum) < minimum:
            raise ValueError(f"{func}: every entry of {name} must be >= {minimum}, got {value!r}")
        return value
    if isinstance(value, (str, bytes, bool, np.bool_)) or not isinstance(
        value, (numbers.Integral, Sequence, np.ndarray)
    ):
        raise TypeError(
            f"{func}: {name} must be an integer or a sequence of {n} integers, got {value!r}"
        )
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_)):
        items: Sequence[object] = (value,) * n
    else:
        items = list(value) if not isinstance(value, numbers.Integral) else [value]
        if len(items) != n:
            raise ValueError(
                f"{func}: {name} must be an integer or a sequence of {n} integers "
                f"(one per spatial axis), got {value!r}"
            )
    out = []
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral):
            raise TypeError(f"{func}: {name} must contain integers only, got {value!r}")
        i = operator.index(item)
        if minimum is not None and i < minimum:
            raise ValueError(f"{func}: every entry of {name} must be >= {minimum}, got {value!r}")
        out.append(i)
    return tuple(out)


def pad_pairs(value: object, n: int, func: str, name: str = "padding") -> Pairs:
    """Normalise padding to ``n`` non-negative ``(begin, end)`` pairs.

    Accepts an int (same on both sides of every axis), ``n`` ints (same on
    both sides of each axis) or ``n`` pairs ``(begin, end)`` (ONNX ``pads``
    regrouped per axis).
    """
    allowed = f"an integer, {n} integers, or {n} (begin, end) pairs"
    if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes)):
        items = list(value)
        if len(items) == n and all(
            isinstance(v, (Sequence, np.ndarray)) and not isinstance(v, (str, bytes)) for v in items
        ):
            pairs = []
            for v in items:
                if len(v) != 2:
                    raise ValueError(f"{func}: {name} must be {allowed}, got {value!r}")
                pairs.append(int_tuple(tuple(v), 2, func, name, minimum=0))
            return tuple((b, e) for b, e in pairs)
        if any(isinstance(v, (Sequence, np.ndarray)) for v in items):
            raise ValueError(f"{func}: {name} must be {allowed}, got {value!r}")
    try:
        flat = int_tuple(value, n, func, name, minimum=0)
    except TypeError:
        raise TypeError(f"{func}: {name} must be {allowed}, got {value!r}") from None
    return tuple((p, p) for p in flat)


def real(value: object, func: str, name: str, *, minimum: float | None = None, finite: bool = True) -> float:
    """Return ``value`` as a Python float, rejecting bools, strings, complex numbers, sequences and anything
    below ``minimum``; with ``finite=False`` an inf or NaN is accepted (a fill value, say)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: {name} must be a real number, got {value!r}")
    x = float(value)
    if finite and not math.isfinite(x):
        raise ValueError(f"{func}: {name} must be finite, got {value!r}")
    if minimum is not None and x < minimum:
        raise ValueError(f"{func}: {name} must be >= {minimum}, got {value!r}")
    return x


def kernel_weight(func: str, w: np.ndarray, name: str = "weight") -> np.ndarray:
    """Check that ``w`` is a weight ``(channels, channels, *kernel)``: 3 or more axes, none of length 0."""
    if w.ndim < 3:
        raise ValueError(
            f"{func}: {name} must have at least 3 dimensions (channels, channels, *kernel), got shape {w.shape}"
        )
    if any(s == 0 for s in w.shape):
        raise ValueError(f"{func}: {name} must not have a zero-length axis, got shape {w.shape}")
    return w


def batched(
    func: str, x: np.ndarray, n: int, name: str = "x", *, weight: np.ndarray | None = None
) -> tuple[np.ndarray, bool]:
    """``(N, C, *spatial)`` view of ``x`` with ``n`` spatial axes, and whether it was unbatched ``(C, *spatial)``.

    ``weight``, when the rank comes from a weight's shape, is named in the message.
    """
    if x.ndim not in (n + 1, n + 2):
        source = (f"a weight with {n} spatial axes" if weight is not None else f"{n} spatial axes")
        shapes = f"{name} of shape {x.shape}" + (f" and weight of shape {weight.shape}" if weight is not None else "")
        raise ValueError(
            f"{func}: {name} must have {n + 1} (unbatched) or {n + 2} (batched) dimensions for {source}, got {shapes}"
        )
    if x.ndim == n + 1:
        return x[None], True
    return x, False


def boolean(value: object, func: str, name: str) -> bool:
    """Return ``value`` as a Python bool, accepting only ``bool`` and ``numpy.bool_``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{func}: {name} must be True or False, got {value!r}")
    return bool(value)


def float_tuple(
    value: object, n: int, func: str, name: str, *, positive: bool = False, scalar_ok: bool = True
) -> tuple[float, ...]:
    """Normalise a real number or a length-``n`` sequence of reals to ``n`` finite floats.

    Bools, strings and complex numbers are a TypeError; a wrong length, a
    non-finite entry, or (``positive=True``) an entry ``<= 0`` is a ValueError.
    With ``scalar_ok=False`` a bare number is rejected (ONNX tensors).
    """
    def bad_type() -> TypeError:
        what = f"a real number or a sequence of {n} real numbers" if scalar_ok else f"a sequence of {n} real numbers"
        return TypeError(f"{func}: {name} must be {what}, got {value!r}")

    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise bad_type()
    if isinstance(value, numbers.Real):
        if not scalar_ok:
            raise bad_type()
        values: list[object] = [value] * n
    elif isinstance(value, (Sequence, np.ndarray)):
        values = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)
        if isinstance(value, np.ndarray) and value.ndim > 1:
            raise ValueError(f"{func}: {name} must be 1-D, got an array of shape {value.shape}")
        if len(values) != n:
            raise ValueError(f"{func}: {name} must have {n} entries, got {len(values)}: {value!r}")
    else:
        raise bad_type()
    out = []
    for x in values:
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
            raise TypeError(f"{func}: {name} must contain real numbers only, got {value!r}")
        x = float(x)
        if not np.isfinite(x) or (positive and x <= 0):
            need = "finite and > 0" if positive else "finite"
            raise ValueError(f"{func}: every entry of {name} must be {need}, got {value!r}")
        out.append(x)
    return tuple(out)


def choice(value: object, choices: Sequence[str], func: str, name: str) -> str:
    """Check that ``value`` is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{func}: {name} must be one of {listed}, got {value!r}")
    return value


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


@overload
def float_arrays(func: str, **arrays: npt.ArrayLike) -> tuple[np.dtype[Any], Sequence[np.ndarray]]: ...


# With an optional input each entry is an array or None, input by input: callers declare their types
# (``b: np.ndarray | None``) before unpacking.
@overload
def float_arrays(func: str, **arrays: npt.ArrayLike | None) -> tuple[np.dtype[Any], Sequence[Any]]: ...


def float_arrays(func: str, **arrays: npt.ArrayLike | None) -> tuple[np.dtype[Any], Sequence[np.ndarray | None]]:
    """Convert inputs to one floating compute dtype, following torch's dtype rule.

    Floating ndarrays among the inputs must share a dtype (torch raises on a
    mismatch; so do we, with a TypeError).  Everything else (lists, integer
    arrays, scalars) is cast to that dtype, or to float64 when no input is a
    floating ndarray.  float16 is computed in float32.  ``None`` passes through.

    Returns the dtype the result must have and the converted arrays (not
    copies when no conversion was needed: callers never write into them).
    """
    for v in arrays.values():  # the common case first: NumPy arrays of one native float32 or float64 dtype
        if v is not None and (v.__class__ is not np.ndarray or (v.dtype is not _F32 and v.dtype is not _F64)):
            break
    else:
        given = cast("list[np.ndarray | None]", list(arrays.values()))
        dtypes = {a.dtype for a in given if a is not None}
        if len(dtypes) == 1:
            return dtypes.pop(), given
    float_dtypes = {
        k: np.asarray(v).dtype
        for k, v in arrays.items()
        if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating)
    }
    distinct = set(float_dtypes.values())
    if len(distinct) > 1:
        listed = ", ".join(f"{k} has dtype {d}" for k, d in float_dtypes.items())
        raise TypeError(f"{func}: floating inputs must share one dtype, but {listed}")
    result_dtype = distinct.pop() if distinct else np.dtype(np.float64)
    if result_dtype not in (np.float16, np.float32, np.float64):
        raise TypeError(
            f"{func}: dtype {result_dtype} is not supported; use float16, float32 or float64"
        )
    compute = np.dtype(np.float32) if result_dtype == np.float16 else result_dtype
    out: list[np.ndarray | None] = []
    for k, v in arrays.items():
        if v is None:
            out.append(None)
            continue
        a = np.asarray(v)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{func}: {k} must be a real numeric array, got dtype {a.dtype}")
        out.append(a.astype(compute, copy=False))
    return result_dtype, out
