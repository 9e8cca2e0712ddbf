"""Images larger than memory: tiled TIFF and zarr files as Dask arrays, read and written tile by tile.

:func:`read_tiled` returns a lazy Dask array backed by the file (each chunk
reads only the tiles it covers), channel first like :func:`upconv.read_image`;
:func:`to_float` and :func:`to_samples` convert samples to floats in
``[0, 1]`` and back with that function's and :func:`upconv.write_image`'s
arithmetic, block by block; :func:`write_tiff` and :func:`write_zarr` compute
a Dask array block by block and stream it to a file, so that neither the
image nor the result is ever whole in memory.  Writes are atomic: into a
temporary file (or directory) beside the target, then ``os.replace``.

===============  ==============================================================
TIFF             ``(H, W)`` gray or ``(H, W, C)`` samples (tifffile's
                 ``YX``/``YXS``); written tiled, ``C`` = 1 gray, 2 gray + alpha,
                 3 RGB, 4 RGBA, uncompressed unless asked
zarr             a directory holding one array, ``(H, W)``, ``(C, H, W)`` or
                 ``(H, W, C)`` (``C <= 4``); written ``(C, H, W)`` (gray:
                 ``(H, W)``), chunked like the Dask array
===============  ==============================================================

tifffile and zarr (the ``upconv[dask]`` extra) are imported when a function
is called, never at ``import upconv``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from upconv.images.files import quantise, quantising_dtype

__all__ = ["TiledInfo", "TILED_SUFFIXES", "is_tiled_path", "read_tiled", "to_float", "to_samples", "write_tiff",
           "write_zarr", "write_tiled"]

#: File name endings read and written by this module.
TILED_SUFFIXES = (".tif", ".tiff", ".zarr")

Progress = Callable[[int, int], None]


def is_tiled_path(path: Any) -> bool:
    """Whether ``path`` names a TIFF or zarr image (by its ending), the formats of this module.

    Examples
    --------
    >>> is_tiled_path("scan.tif"), is_tiled_path("out.zarr/"), is_tiled_path("photo.png")
    (True, True, False)
    """
    return os.fspath(path).rstrip("/\\").lower().endswith(TILED_SUFFIXES)


@dataclass(frozen=True)
class TiledInfo:
    """What :func:`read_tiled` found: ``shape`` ``(C, H, W)``, the sample ``dtype``, its ``bit_depth`` (8 or 16;
    None for floats) and the file's ``layout`` (``"HW"``, ``"HWC"`` or ``"CHW"``)."""

    shape: tuple[int, int, int]
    dtype: np.dtype
    bit_depth: int | None
    layout: str


def _layout(shape: tuple[int, ...], path: str, func: str) -> str:
    if len(shape) == 2:
        return "HW"
    if len(shape) == 3 and 1 <= shape[-1] <= 4 and shape[0] > 4:
        return "HWC"
    if len(shape) == 3 and 1 <= shape[0] <= 4:
        return "CHW"
    if len(shape) == 3 and 1 <= shape[-1] <= 4:
        return "HWC"
    raise ValueError(f"{func}: {path!r} holds an array of shape {shape}; expected (H, W), (H, W, C) or (C, H, W) "
                     "with C <= 4 channels")


class _TiffRegion:
    """The first image of a TIFF file as an array-like Dask can slice: each read opens the file and decodes
    only the tiles (or strips) it covers; pickles as its path (for worker processes)."""

    def __init__(self, path: str) -> None:
        import tifffile

        self.path = path
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            self.shape = tuple(series.shape)
            self.dtype = np.dtype(series.dtype)
            page = tif.pages[0]
            self.tile = (page.tilelength, page.tilewidth) if page.is_tiled else (page.rowsperstrip, self.shape[1])
        self.ndim = len(self.shape)

    def __getitem__(self, key: Any) -> np.ndarray:
        import tifffile
        import zarr

        with tifffile.imread(self.path, aszarr=True) as store:
            return np.asarray(zarr.open(store, mode="r")[key])

    def __reduce__(self) -> tuple[Any, ...]:
        return (_TiffRegion, (self.path,))


def _spatial_chunks(tile: tuple[int, int], chunks: int | None, shape: tuple[int, int]) -> tuple[int, int]:
    """``chunks`` (or 1024) rounded to whole tiles, at most the image."""
    want = 1024 if chunks is None else chunks
    return tuple(max(1, min(s, max(t, want // t * t))) for t, s in zip(tile, shape, strict=True))  # type: ignore[return-value]


def read_tiled(path: Any, *, chunks: int | None = None) -> tuple[Any, TiledInfo]:
    """A TIFF or zarr image as a lazy ``(C, H, W)`` Dask array of its samples (the file's dtype), and what it is.

    Parameters
    ----------
    path : str or os.PathLike
        ``.tif``/``.tiff`` (the first image; tiled, striped or plain) or a
        ``.zarr`` directory holding one array.
    chunks : int, optional
        Spatial chunk edge in pixels, rounded to whole tiles of the file
        (default about 1024); channels are one chunk.

    Returns
    -------
    samples : (C, H, W) dask.array.Array
        A gray ``(H, W)`` image is ``(1, H, W)``.
    info : TiledInfo

    Raises
    ------
    ValueError
        If the file cannot be read or does not hold an image.

    Examples
    --------
    >>> import os, tempfile, numpy as np, dask.array as da
    >>> from upconv.images.tiled import read_tiled, write_tiff
    >>> img = da.from_array(np.arange(3 * 40 * 50, dtype=np.uint8).reshape(3, 40, 50), chunks=(3, 16, 16))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_tiff(os.path.join(tmp, "a.tif"), img, tile=16)
    ...     back, info = read_tiled(os.path.join(tmp, "a.tif"), chunks=32)
    ...     print(back.shape, back.chunks[1], info.layout, bool((back.compute() == img.compute()).all()))
    (3, 40, 50) (32, 8) HWC True
    """
    import dask.array as da

    func = "read_tiled"
    p = os.fspath(path)
    try:
        if p.rstrip("/\\").lower().endswith(".zarr"):
            import zarr

            arr = zarr.open_array(p, mode="r")
            shape, dtype = tuple(arr.shape), np.dtype(arr.dtype)
            tile = tuple(arr.chunks)
            source: Any = arr
        else:
            source = _TiffRegion(p)
            shape, dtype, tile = source.shape, source.dtype, source.tile
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{func}: cannot read {p!r}: {exc}") from exc
    layout = _layout(shape, p, func)
    hw = shape[1:] if layout == "CHW" else shape[:2]
    spatial = tuple(tile[1:3]) if layout == "CHW" else tuple(tile[:2])
    ch, cw = _spatial_chunks(spatial, chunks, hw)  # type: ignore[arg-type]
    if layout == "HW":
        x = da.from_array(source, chunks=(ch, cw))[None]
    elif layout == "HWC":
        x = da.from_array(source, chunks=(ch, cw, shape[2])).transpose(2, 0, 1)
    else:
        x = da.from_array(source, chunks=(shape[0], ch, cw))
    bits = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}.get(dtype)
    if bits is None and dtype.kind != "f":
        raise ValueError(f"{func}: {p!r} holds {dtype} samples; expected 8- or 16-bit unsigned integers or floats")
    return x, TiledInfo((x.shape[0], x.shape[1], x.shape[2]), dtype, bits, layout)


def to_float(samples: Any, info: TiledInfo, dtype: npt.DTypeLike = np.float64) -> Any:
    """Samples as float values in ``[0, 1]`` (divided by ``2**bits - 1``; floats as they are), block by block,
    in ``dtype`` (float64 or float32): :func:`upconv.read_image`'s arithmetic, the same values it reads."""
    dtype = np.dtype(dtype)
    if info.bit_depth is None:
        return samples.astype(dtype)
    return samples.map_blocks(_divide, dtype.type((1 << info.bit_depth) - 1), dtype=dtype)


def _divide(block: np.ndarray, top: np.floating[Any]) -> np.ndarray:
    out = block.astype(top.dtype)
    out /= top  # correctly rounded k / (2**b - 1) in the dtype, as read_image
    return out


# Rows of a block quantised at a time: the float64 temporaries stay small (a block is often 100 MB).
_SLAB = 64


def _quantise(block: np.ndarray, top: int, dtype: np.dtype) -> np.ndarray:
    out = np.empty(block.shape, dtype=dtype)
    tmp = np.empty(block[..., :_SLAB, :].shape, dtype=quantising_dtype(block.dtype))
    for r in range(0, block.shape[-2], _SLAB):
        part = block[..., r:r + _SLAB, :]
        if np.isnan(part).any():
            raise ValueError("to_samples: image must not contain NaN")
        out[..., r:r + _SLAB, :] = quantise(part, top, tmp[..., :part.shape[-2], :])
    return out


def to_samples(image: Any, bit_depth: int) -> Any:
    """Float values as ``bit_depth`` unsigned samples, ``round(clip(x, 0, 1) * (2**b - 1))`` (half to even),
    block by block: :func:`upconv.write_image`'s arithmetic (a NaN raises ValueError when computed)."""
    if bit_depth not in (8, 16):
        raise ValueError(f"to_samples: bit_depth must be 8 or 16, got {bit_depth!r}")
    dtype = np.dtype(np.uint8 if bit_depth == 8 else np.uint16)
    return image.map_blocks(_quantise, (1 << bit_depth) - 1, dtype, dtype=dtype)


def _check_image(func: str, image: Any) -> Any:
    from upconv.ops.chunked_graph import as_dask_array

    x = as_dask_array(image)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or not 1 <= x.shape[0] <= 4 or 0 in x.shape[1:]:
        raise ValueError(f"{func}: image must have shape (H, W) or (C, H, W) with C in 1..4 and H, W >= 1, "
                         f"got shape {x.shape}")
    return x


def _replace(func: str, tmp: str, target: str) -> None:
    """Move the finished ``tmp`` onto ``target`` (a directory target is moved aside, then removed)."""
    if os.path.isdir(target) and not os.path.islink(target):
        old = tempfile.mkdtemp(prefix=os.path.basename(target) + ".old-", dir=os.path.dirname(target) or ".")
        os.replace(target, os.path.join(old, "x"))
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)


def write_tiff(path: Any, image: Any, *, tile: int = 256, compression: str | None = None,
               progress: Progress | None = None) -> None:
    """Compute a ``(C, H, W)`` (or ``(H, W)``) Dask array band by band and write it as a tiled TIFF.

    Rows of the image are computed one band of Dask chunks at a time (rows
    rounded to whole tiles) and its tiles handed to tifffile as they come, so
    the memory used is about one band of the result.  ``image`` holds the
    samples to store (uint8 or uint16, as :func:`to_samples` makes; floats
    are stored as floats).  ``progress(rows_done, rows)`` is called after
    every band is computed.

    Raises
    ------
    ValueError
        If the image has the wrong shape or the file cannot be written (the
        target is then left as it was).
    """
    import tifffile

    func = "write_tiff"
    x = _check_image(func, image)
    p = os.fspath(path)
    C, H, W = x.shape
    band = max(tile, round(max(x.chunks[1]) / tile) * tile)
    cols = max(tile, round(max(x.chunks[2]) / tile) * tile)
    hwc = x.transpose(1, 2, 0).rechunk((band, cols, C)) if C > 1 else x[0].rechunk((band, cols))
    photometric = "rgb" if C >= 3 else "minisblack"
    extrasamples = ("unassalpha",) if C in (2, 4) else None

    import dask

    edges = np.cumsum((0,) + hwc.chunks[1])

    def tiles() -> Iterator[np.ndarray]:
        for i, row in enumerate(hwc.to_delayed()):  # one band: its blocks, not concatenated (no second copy)
            parts = dask.compute(*row.ravel())
            if progress is not None:
                progress(sum(hwc.chunks[0][:i + 1]), H)
            for r in range(0, parts[0].shape[0], tile):
                for c in range(0, W, tile):
                    k = int(np.searchsorted(edges, c, side="right")) - 1
                    if c + tile <= edges[k + 1] or k + 1 == len(parts):
                        yield parts[k][r:r + tile, c - edges[k]:c - edges[k] + tile]
                    else:  # a tile across two blocks
                        yield np.concatenate([parts[k][r:r + tile, c - edges[k]:],
                                              parts[k + 1][r:r + tile, :c + tile - edges[k + 1]]], axis=1)
            del parts

    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(p) + ".", suffix=".part", dir=os.path.dirname(p) or ".")
    os.close(fd)
    try:
        tifffile.imwrite(tmp, tiles(), shape=hwc.shape, dtype=hwc.dtype, tile=(tile, tile), photometric=photometric,
                         extrasamples=extrasamples, compression=compression, bigtiff=hwc.nbytes >= 2**31)
        _replace(func, tmp, p)
    except OSError as exc:
        raise ValueError(f"{func}: cannot write {p!r}: {exc}") from exc
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_zarr(path: Any, image: Any, *, progress: Progress | None = None) -> None:
    """Compute a ``(C, H, W)`` (or ``(H, W)``) Dask array block by block into a zarr directory, ``(C, H, W)``
    (gray ``(H, W)``), chunked like the array; ``progress(blocks_done, blocks)`` follows the blocks written.

    Raises
    ------
    ValueError
        If the image has the wrong shape or the directory cannot be written
        (the target is then left as it was).
    """
    import dask
    from dask.callbacks import Callback

    func = "write_zarr"
    x = _check_image(func, image)
    x = x[0] if x.shape[0] == 1 else x
    p = os.fspath(path).rstrip("/\\")
    tmp = tempfile.mkdtemp(prefix=os.path.basename(p) + ".", suffix=".part", dir=os.path.dirname(p) or ".")
    store = x.to_zarr(tmp, overwrite=True, compute=False)

    class _Count(Callback):
        def _start_state(self, dsk: Any, state: Any) -> None:
            self.total, self.done = len(dsk), 0

        def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
            self.done += 1
            if progress is not None:
                progress(self.done, self.total)

    try:
        with _Count():
            dask.compute(store)
        _replace(func, tmp, p)
    except OSError as exc:
        raise ValueError(f"{func}: cannot write {p!r}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_tiled(path: Any, image: Any, *, progress: Progress | None = None, **options: Any) -> None:
    """:func:`write_zarr` for a ``.zarr`` path, else :func:`write_tiff` (``options``: its ``tile``, ``compression``)."""
    if os.fspath(path).rstrip("/\\").lower().endswith(".zarr"):
        write_zarr(path, image, progress=progress)
    else:
        write_tiff(path, image, progress=progress, **options)
