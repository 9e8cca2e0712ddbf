"""upconv.images.tiled and the out-of-core ``upconv resize``: tiled TIFF and zarr images, tile by tile."""

from __future__ import annotations

import io
import os
import pickle

import numpy as np
import pytest

from upconv.cli import _progress, _resize_tiled, main
from upconv.images import samples
from upconv.images.files import read_image, write_image

da = pytest.importorskip("dask.array")
tifffile = pytest.importorskip("tifffile")
zarr = pytest.importorskip("zarr")
pytest.importorskip("PIL")

from upconv.images.tiled import (  # noqa: E402
    is_tiled_path,
    read_tiled,
    to_float,
    to_samples,
    write_tiff,
    write_tiled,
    write_zarr,
)

RNG = np.random.default_rng(7)


def photo(h: int = 90, w: int = 120) -> np.ndarray:
    return samples.photograph()[:, :h, :w]


@pytest.mark.parametrize("channels, dtype, tile", [(3, np.uint8, (32, 48)), (1, np.uint16, (16, 16)),
                                                    (4, np.uint8, None), (2, np.uint16, None)])
def test_read_tiff(tmp_path, channels, dtype, tile):
    top = np.iinfo(dtype).max
    hwc = RNG.integers(0, top, (70, 100, channels), endpoint=True).astype(dtype)
    data = hwc[..., 0] if channels == 1 else hwc
    kw = {"photometric": "rgb" if channels >= 3 else "minisblack"}
    if channels in (2, 4):
        kw["extrasamples"] = ("unassalpha",)
    tifffile.imwrite(tmp_path / "a.tif", data, tile=tile, **({} if tile else {"rowsperstrip": 7}), **kw)
    x, info = read_tiled(tmp_path / "a.tif", chunks=40)
    assert isinstance(x, da.Array) and info.shape == (channels, 70, 100)
    assert info.bit_depth == (8 if dtype == np.uint8 else 16)
    assert info.layout == ("HW" if channels == 1 else "HWC")
    if tile:  # chunks of whole tiles
        assert all(c % tile[0] == 0 for c in x.chunks[1][:-1]) and all(c % tile[1] == 0 for c in x.chunks[2][:-1])
    np.testing.assert_array_equal(x.compute(), np.moveaxis(hwc, -1, 0))
    # the values read_image gives
    f = to_float(x, info).compute()
    np.testing.assert_array_equal(f, np.moveaxis(hwc, -1, 0).astype(np.float64) / top)


def test_tiff_region_pickles_as_its_path(tmp_path):
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((20, 30), np.uint8), tile=(16, 16))
    x, _ = read_tiled(tmp_path / "a.tif", chunks=16)
    clone = pickle.loads(pickle.dumps(x))
    assert clone.shape == (1, 20, 30) and int(clone.sum().compute()) == 0


@pytest.mark.parametrize("shape, layout", [((3, 30, 20), "CHW"), ((30, 20, 3), "HWC"), ((30, 20), "HW")])
def test_read_zarr_layouts(tmp_path, shape, layout):
    a = RNG.random(shape)
    zarr.save_array(str(tmp_path / "a.zarr"), a)
    x, info = read_tiled(tmp_path / "a.zarr")
    assert info.layout == layout and info.bit_depth is None
    ref = a if layout == "CHW" else (a[None] if layout == "HW" else np.moveaxis(a, -1, 0))
    np.testing.assert_array_equal(x.compute(), ref)


def test_write_tiff_and_zarr_round_trip(tmp_path):
    img = da.from_array(photo(), chunks=(3, 33, 50))
    s8 = to_samples(img, 8)
    calls = []
    write_tiff(tmp_path / "o.tif", s8, tile=32, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (90, 90) and len(calls) == 3
    back, info = read_tiled(tmp_path / "o.tif")
    np.testing.assert_array_equal(back.compute(), s8.compute())
    with tifffile.TiffFile(tmp_path / "o.tif") as t:
        assert t.pages[0].is_tiled and t.pages[0].tilewidth == 32
    # write_image's samples
    write_image(tmp_path / "o.png", photo(), bit_depth=16)
    png, _ = read_image(tmp_path / "o.png")
    np.testing.assert_array_equal(to_samples(img, 16).compute().astype(np.float64) / 65535, png)
    gray = da.from_array(photo()[0], chunks=20)
    write_tiled(tmp_path / "g.zarr", gray, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1][0] == calls[-1][1]
    back, info = read_tiled(tmp_path / "g.zarr")
    assert info.layout == "HW"
    np.testing.assert_array_equal(back.compute()[0], photo()[0])


def test_writes_are_atomic(tmp_path):
    target = tmp_path / "o.tif"
    target.write_bytes(b"old")
    bad = da.from_array(np.full((3, 40, 40), np.nan), chunks=20)
    with pytest.raises(ValueError, match="must not contain NaN"):
        write_tiff(target, to_samples(bad, 8), tile=16)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["o.tif"]
    good = da.ones((3, 40, 40), chunks=20)
    write_zarr(tmp_path / "z.zarr", good)
    with pytest.raises(ValueError, match="must not contain NaN"):
        write_zarr(tmp_path / "z.zarr", to_samples(bad, 8))
    assert read_tiled(tmp_path / "z.zarr")[0].compute().min() == 1.0
    write_zarr(tmp_path / "z.zarr", good * 2)  # replaces an existing directory
    assert read_tiled(tmp_path / "z.zarr")[0].compute().min() == 2.0
    assert sorted(os.listdir(tmp_path)) == ["o.tif", "z.zarr"]


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="read_tiled: cannot read"):
        read_tiled(tmp_path / "missing.tif")
    zarr.save_array(str(tmp_path / "big.zarr"), np.zeros((9, 9, 9)))
    with pytest.raises(ValueError, match=r"expected \(H, W\), \(H, W, C\) or \(C, H, W\)"):
        read_tiled(tmp_path / "big.zarr")
    with pytest.raises(ValueError, match="write_tiff: image must have shape"):
        write_tiff(tmp_path / "x.tif", da.zeros((5, 4, 4)))
    assert is_tiled_path("a.TIFF") and is_tiled_path("b.zarr/") and not is_tiled_path("c.png")


# --------------------------------------------------------------------------
# upconv resize, out of core


@pytest.fixture
def images(tmp_path):
    img = photo()
    write_image(tmp_path / "in.png", img)
    hwc = np.rint(np.moveaxis(img, 0, -1) * 255).astype(np.uint8)
    tifffile.imwrite(tmp_path / "in.tif", hwc, tile=(32, 32), photometric="rgb")
    return tmp_path


def run_cli(*argv) -> int:
    return main(["resize", *(str(a) for a in argv)])


@pytest.mark.parametrize("options", [["--scale", "2", "--mode", "bilinear"],
                                     ["--scale", "1.7,0.6", "--mode", "bicubic"], ["--size", "50x70", "--mode", "area"],
                                     ["--scale", "2.5", "--onnx", "--mode", "cubic"]])
def test_cli_tiff_equals_the_in_memory_path(images, options, capsys):
    assert run_cli(images / "in.png", *options, "-o", images / "ref.png") == 0
    assert run_cli(images / "in.tif", *options, "--chunks", 40, "-o", images / "out.tif") == 0
    out = capsys.readouterr().out
    assert "chunks 32×32" in out and "in.tif: 120×90 RGB 8-bit" in out  # 40 rounded to whole tiles
    ref, _ = read_image(images / "ref.png")
    got = tifffile.imread(images / "out.tif")
    np.testing.assert_array_equal(np.moveaxis(got, -1, 0), np.rint(ref * 255).astype(np.uint8))


def test_cli_zarr_png_and_large_images(images, capsys, monkeypatch):
    assert run_cli(images / "in.png", "--scale", "2", "--mode", "bilinear", "-o", images / "ref.png") == 0
    ref, _ = read_image(images / "ref.png")
    # a PNG through --chunks to a PNG, and to zarr
    assert run_cli(images / "in.png", "--scale", "2", "--mode", "bilinear", "--chunks", 25, "-o", images / "o.png") == 0
    np.testing.assert_array_equal(read_image(images / "o.png")[0], ref)
    assert run_cli(images / "in.tif", "--scale", "2", "--mode", "bilinear", "-o", images / "o.zarr") == 0
    assert "one chunk" in capsys.readouterr().out
    np.testing.assert_array_equal(read_tiled(images / "o.zarr")[0].compute(), np.rint(ref * 255).astype(np.uint8))
    # an image past the threshold is processed in chunks without --chunks, with a progress bar on a terminal
    monkeypatch.setattr(_resize_tiled, "LARGE_PIXELS", 10_000)
    monkeypatch.setattr(_resize_tiled, "DEFAULT_CHUNK", 32)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    err = Terminal()
    monkeypatch.setattr("sys.stderr", err)
    monkeypatch.setattr(_progress, "DELAY", 0.0)  # the progress line from the start (a quick run draws none)
    assert run_cli(images / "in.tif", "--scale", "2", "--mode", "bilinear", "-o", images / "big.tif",
                   "--bit-depth", "16", "--compression", "zlib") == 0
    assert "chunks 32×32" in capsys.readouterr().out
    drawn = err.getvalue()
    assert "upconv resize: resizing and writing [" in drawn and drawn.endswith("\r")  # drawn, then erased
    got = tifffile.imread(images / "big.tif")
    assert got.dtype == np.uint16
    assert run_cli(images / "in.png", "--scale", "2", "--mode", "bilinear", "--bit-depth", "16",
                   "-o", images / "ref16.png") == 0
    ref16, _ = read_image(images / "ref16.png")
    np.testing.assert_array_equal(got, np.rint(ref16 * 65535).transpose(1, 2, 0))


def test_cli_errors(images, capsys):
    assert run_cli(images / "missing.tif", "--scale", "2", "-o", images / "o.tif") == 2
    assert "argument IMAGE: cannot read" in capsys.readouterr().err
    assert run_cli(images / "in.tif", "--scale", "2", "--mode", "cubic", "-o", images / "o.tif") == 2
    assert "is an ONNX mode" in capsys.readouterr().err
    assert run_cli(images / "in.tif", "--scale", "2", "--chunks", "0", "-o", images / "o.tif") == 2
    assert "argument --chunks: must be a positive number of pixels, got '0'" in capsys.readouterr().err
