"""The Dask graph of a chunked operator: one task per output block, on the input window it reads.

:mod:`upconv.ops.chunked` describes an operator per axis (an :class:`Axis`:
the output chunks, the input range each one reads, and what the block
function needs to know about it, from :mod:`upconv.shapes.chunks`) and a block
function that calls the in-memory operator; :func:`blocks` turns that into a
lazy Dask array.  The task of output block ``(i_0, ..., i_r)`` takes the input
blocks its window overlaps, cuts the window out of them (a view when it lies
in one block, else one copy), and calls the block function on it.  Per-chunk
data (interpolation plans) and the operator's arrays (weights) are separate
keys of the graph, so each is sent to a worker once rather than with every
task.

Dask is imported when a graph is built, never at ``import upconv``.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from upconv.shapes import Chunk, chunk_bounds

__all__ = ["Axis", "keep", "whole", "windows", "blocks", "as_dask_array", "is_dask_array", "dtype_rule",
           "result_dtype", "native", "prepared", "finished"]


def is_dask_array(x: Any) -> bool:
    """Whether ``x`` is a Dask array; Dask is imported only when ``x``'s type comes from it.

    Examples
    --------
    >>> import numpy as np
    >>> is_dask_array(np.zeros(3))
    False
    """
    module = type(x).__module__ or ""
    if not (module == "dask" or module.startswith(("dask.", "dask_"))):
        return False
    import dask.array as da

    return isinstance(x, da.Array)


def as_dask_array(x: Any) -> Any:
    """``x`` as a Dask array (a NumPy array as one chunk), in native byte order as the array layer reads arrays."""
    if not is_dask_array(x):
        import dask.array as da

        x = da.asarray(x)
    return x if x.dtype.isnative else x.astype(x.dtype.newbyteorder("="))


def native(a: Any) -> Any:
    """A NumPy array argument in native byte order (as the array layer gives it to the in-memory operators)."""
    return a.astype(a.dtype.newbyteorder("=")) if isinstance(a, np.ndarray) and not a.dtype.isnative else a


def dtype_rule(func: str, x: Any, **arrays: Any) -> tuple[np.dtype, np.dtype, list[Any]]:
    """``(result dtype, compute dtype, arrays converted)``: the convolutions' dtype policy
    (:func:`upconv._validate.float_arrays`, which they call) for a Dask ``x`` (its dtype alone) and the other,
    NumPy, arrays.

    A Dask weight is computed (weights are small).
    """
    from upconv import _validate as v

    arrays = {k: native(np.asarray(a) if is_dask_array(a) else a) for k, a in arrays.items()}
    result, converted = v.float_arrays(func, x=np.empty(0, dtype=x.dtype), **arrays)
    return result, converted[0].dtype, converted[1:]


def result_dtype(op: Callable[..., Any], ndim: int, dtype: np.dtype, /, *args: Any, **kwargs: Any) -> np.dtype:
    """The dtype the in-memory operator ``op`` returns for an input of ``dtype``: its own dtype policy.

    ``op`` is called on a one-element array of ``ndim`` axes with ``args`` that keep the call that small (a
    dtype it refuses raises its error).  The first array of a tuple result.
    """
    y = op(np.zeros((1,) * ndim, dtype=dtype), *args, **kwargs)
    return (y[0] if isinstance(y, tuple) else y).dtype


def prepared(x: Any, compute: np.dtype, unbatched: bool, whole_axis: int | None = None) -> Any:
    """Dask ``x`` in the compute dtype, batched, and with axis ``whole_axis`` (channels) in one chunk."""
    if x.dtype != compute:
        x = x.astype(compute)
    if unbatched:
        x = x[None]
    if whole_axis is not None and len(x.chunks[whole_axis]) > 1:
        x = x.rechunk({whole_axis: -1})
    return x


def finished(y: Any, result: np.dtype, unbatched: bool) -> Any:
    """The batched Dask result ``y`` without its batch axis (unbatched call), in the result dtype."""
    if unbatched:
        y = y[0]
    return y if y.dtype == result else y.astype(result)


@dataclass(frozen=True)
class Axis:
    """How the output's chunks along one axis come from the operands'.

    ``out_chunks[i]`` is the size of output chunk ``i``; it reads the input
    range ``reads[i]`` (``(start, stop)``), and the block function receives
    ``local[i]`` for this axis (a :class:`upconv.shapes.Chunk`, a sliced plan,
    or the chunk's ``(start, stop)``).
    """

    out_chunks: tuple[int, ...]
    reads: tuple[tuple[int, int], ...]
    local: tuple[Any, ...]


def keep(chunks: Sequence[int]) -> Axis:
    """An axis the operator leaves alone (batch, or channels it does not mix): the input's chunks.

    The blocks receive their range ``(start, stop)`` along it.
    """
    b = chunk_bounds(chunks)
    reads = tuple(zip(b[:-1], b[1:], strict=True))
    return Axis(tuple(chunks), reads, reads)


def whole(n_in: int, n_out: int) -> Axis:
    """An axis read whole (channels a convolution mixes): one chunk of ``n_out`` from all ``n_in`` inputs."""
    return Axis((n_out,), ((0, n_in),), ((0, n_out),))


def windows(chunks: Sequence[Chunk], local: Sequence[Any] | None = None) -> Axis:
    """An axis chunked by :mod:`upconv.shapes.chunks`; ``local`` replaces the chunks as what the blocks receive."""
    return Axis(tuple(c.stop - c.start for c in chunks), tuple((c.read_start, c.read_stop) for c in chunks),
                tuple(chunks) if local is None else tuple(local))


class _Box:
    """A value stored in the graph as it is (Dask would read a tuple as a task or a key)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


@dataclass(frozen=True)
class _Task:
    """What one output block does: cut its window out of the input blocks, call ``fn``."""

    fn: Callable[..., Any]
    cuts: tuple[tuple[slice, ...], ...]  # per axis, the slice of each input block along it

    def __call__(self, operands: list[Any], local: list[_Box], shared: _Box) -> Any:
        windows = [_window(nested, self.cuts) for nested in operands]
        return self.fn(windows, tuple(b.value for b in local), shared.value)


def _window(nested: Any, cuts: tuple[tuple[slice, ...], ...]) -> np.ndarray:
    """The input window from the nested list (one level per axis) of the input blocks it overlaps."""
    if all(len(c) == 1 for c in cuts):
        block = nested
        for _ in cuts:
            block = block[0]
        return block[tuple(c[0] for c in cuts)]

    def cut(item: Any, depth: int, index: tuple[int, ...]) -> Any:
        if depth == len(cuts):
            return item[tuple(c[i] for c, i in zip(cuts, index, strict=True))]
        return [cut(sub, depth + 1, index + (k,)) for k, sub in enumerate(item)]

    return np.block(cut(nested, 0, ()))


def _pieces(bounds: tuple[int, ...], start: int, stop: int) -> list[tuple[int, slice]]:
    """The input blocks (index, slice within it) holding ``[start, stop)``, for blocks at ``bounds``."""
    last = len(bounds) - 2
    k = min(max(bisect.bisect_right(bounds, start) - 1, 0), last)
    if start >= stop:  # an empty window (an empty chunk of a kept axis)
        return [(k, slice(start - bounds[k], start - bounds[k]))]
    out = []
    while k <= last and bounds[k] < stop:
        lo, hi = max(start, bounds[k]), min(stop, bounds[k + 1])
        if hi > lo:
            out.append((k, slice(lo - bounds[k], hi - bounds[k])))
        k += 1
    return out


def _nested_keys(name: str, pieces: list[list[tuple[int, slice]]], prefix: tuple[int, ...] = ()) -> Any:
    depth = len(prefix)
    if depth == len(pieces):
        return (name,) + prefix
    return [_nested_keys(name, pieces, prefix + (k,)) for k, _ in pieces[depth]]


def blocks(
    name: str,
    fn: Callable[[list[np.ndarray], tuple[Any, ...], Any], Any],
    operands: Sequence[Any],
    axes: Sequence[Axis],
    dtypes: Sequence[Any],
    *,
    shared: Any = None,
    token: Any = (),
) -> list[Any]:
    """The lazy Dask arrays ``fn`` computes block by block from ``operands`` (Dask arrays of equal chunks).

    ``fn(windows, local, shared)`` gets the input windows (one per operand),
    the per-axis ``local`` entries of its output block and ``shared``, and
    returns the output block, or a tuple of ``len(dtypes)`` blocks; one array
    per entry of ``dtypes`` is returned.  ``token`` (the operator's arguments)
    and the operands name the graph's keys.
    """
    from dask.array.core import Array
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    x = operands[0]
    if len(axes) != x.ndim:
        raise ValueError(f"{name}: {len(axes)} axes described for an array of {x.ndim}")
    base = f"{name}-{tokenize(name, [o.name for o in operands], token)}"
    dsk: dict[Any, Any] = {}
    shared_key = (f"{base}-shared",)
    dsk[shared_key] = _Box(shared)
    local_keys = []
    for a, ax in enumerate(axes):
        keys = []
        for i, value in enumerate(ax.local):
            key = (f"{base}-local", a, i)
            dsk[key] = _Box(value)
            keys.append(key)
        local_keys.append(keys)
    per_axis = [[_pieces(chunk_bounds(c), r0, r1) for r0, r1 in ax.reads] for c, ax in zip(x.chunks, axes, strict=True)]
    for index in np.ndindex(*(len(ax.out_chunks) for ax in axes)):
        pieces = [per_axis[a][i] for a, i in enumerate(index)]
        task = _Task(fn, tuple(tuple(s for _, s in p) for p in pieces))
        dsk[(base,) + index] = (task, [_nested_keys(o.name, pieces) for o in operands],
                                [local_keys[a][i] for a, i in enumerate(index)], shared_key)
    chunks = tuple(ax.out_chunks for ax in axes)
    graph = HighLevelGraph.from_collections(base, dsk, dependencies=list(operands))
    if len(dtypes) == 1:
        return [Array(graph, base, chunks, meta=np.empty((0,) * x.ndim, dtype=dtypes[0]))]
    out = []
    for r, dtype in enumerate(dtypes):
        part = f"{base}-{r}"
        layer = {(part,) + k[1:]: (operator.getitem, k, r) for k in dsk if k[0] == base}
        layers: dict[str, Any] = dict(graph.layers)  # a plain dict of tasks is a layer too
        deps = dict(graph.dependencies)
        layers[part], deps[part] = layer, {base}
        out.append(Array(HighLevelGraph(layers, deps), part, chunks, meta=np.empty((0,) * x.ndim, dtype=dtype)))
    return out
