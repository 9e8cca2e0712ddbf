"""Image files under hostile input and interruption (issue 17, section 2): never lose or corrupt data."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import zlib

import numpy as np
import pytest

import upconv
from upconv.images import png, tiff
from upconv.images.files import check_image_path, read_image, write_image


@pytest.fixture
def rng():
    return np.random.default_rng(17)


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def _png(ihdr: bytes, idat: bytes) -> bytes:
    return png.SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _ihdr(w: int, h: int, depth: int = 16, ctype: int = 0) -> bytes:
    return struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0)


# ---------------------------------------------------------------- the PNG decoder


def test_decompression_bomb_is_refused_without_inflating(tmp_path):
    # a 1x1 16-bit gray PNG (3 bytes of image data) whose IDAT inflates to 64 MiB: refused, and the
    # decoder never holds more than the header's 3 bytes (+1) of inflated data
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png(_ihdr(1, 1), zlib.compress(b"\0" * (64 << 20), 9)))
    assert bomb.stat().st_size < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"^read_image: cannot read .*inflates to more than the 3 bytes"):
            read_image(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


def test_data_after_the_compressed_stream_is_refused(tmp_path):
    path = tmp_path / "extra.png"
    path.write_bytes(_png(_ihdr(1, 1), zlib.compress(b"\0\0\0") + b"trailing"))
    with pytest.raises(ValueError, match=r"data after the image"):
        read_image(path)


def test_short_ihdr_and_zero_size_are_clear_errors(tmp_path):
    short = tmp_path / "short.png"
    short.write_bytes(png.SIGNATURE + _chunk(b"IHDR", _ihdr(1, 1)[:12]) + _chunk(b"IEND", b""))
    with pytest.raises(ValueError, match=r"^read_image: cannot read .*IHDR of 12 bytes, not 13"):
        read_image(short)
    for w, h in ((0, 5), (5, 0)):
        zero = tmp_path / f"zero{w}{h}.png"
        zero.write_bytes(_png(_ihdr(w, h), zlib.compress(b"")))
        with pytest.raises(ValueError, match=r"^read_image: cannot read .*corrupt PNG file \(size"):
            read_image(zero)


def test_truncated_image_data(tmp_path):
    path = tmp_path / "short_data.png"
    path.write_bytes(_png(_ihdr(4, 4), zlib.compress(b"\0" * 10)))
    with pytest.raises(ValueError, match=r"truncated PNG image data"):
        read_image(path)


def test_memory_limit_is_checked_from_the_header(tmp_path):
    path = tmp_path / "huge.png"  # declares 100000 x 100000 RGBA, 16 bits: refused before decompressing
    path.write_bytes(_png(_ihdr(100_000, 100_000, 16, 6), zlib.compress(b"\0")))
    with pytest.raises(MemoryError, match=r"^read_image: the image of shape \(100000, 100000, 5\)"):
        read_image(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    result: list[BaseException | None] = []

    def read() -> None:
        try:
            read_image(fifo)
            result.append(None)
        except ValueError as exc:
            result.append(exc)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(10)
    if t.is_alive():  # unblock the reader so that the test process can end
        with open(fifo, "wb"):
            pass
        pytest.fail("read_image blocked on a FIFO")
    assert "not a regular file" in str(result[0])


def test_8bit_png_decoded_without_pillow_equals_pillow(tmp_path, monkeypatch, rng):
    from upconv.images import pillow

    paths = []
    for channels in (1, 2, 3, 4):
        img = rng.integers(0, 256, (channels, 9, 11)) / 255
        paths.append(tmp_path / f"c{channels}.png")
        write_image(paths[-1], img[0] if channels == 1 else img)
    with_pillow = [read_image(p, alpha="keep") for p in paths]
    monkeypatch.setattr(pillow, "image_module_or_none", lambda: None)
    for p, (expected, info) in zip(paths, with_pillow):
        got, got_info = read_image(p, alpha="keep")
        np.testing.assert_array_equal(got, expected)
        assert (got_info.mode, got_info.bit_depth, got_info.has_alpha) == (info.mode, info.bit_depth, info.has_alpha)


def test_builtin_photograph_needs_no_pillow():
    code = ("import sys; sys.modules['PIL'] = None\n"
            "from upconv.images import samples\n"
            "print(samples.photograph(gray=True).sum())")
    without = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert without.returncode == 0, without.stderr
    assert float(without.stdout) == float(upconv.data.photograph(gray=True).sum())


# ---------------------------------------------------------------- TIFF: no silent loss of bits


def test_16bit_rgb_tiff_keeps_every_bit(tmp_path, rng):
    tifffile = pytest.importorskip("tifffile")
    samples = rng.integers(0, 65536, (6, 7, 3), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "rgb16.tif", samples, photometric="rgb")
    img, info = read_image(tmp_path / "rgb16.tif")
    assert (info.format, info.mode, info.bit_depth) == ("TIFF", "RGB;16", 16)
    np.testing.assert_array_equal(np.rint(img * 65535).astype(np.uint16), np.moveaxis(samples, -1, 0))


def test_float_tiff_and_stacks(tmp_path, rng):
    tifffile = pytest.importorskip("tifffile")
    data = rng.random((5, 4)).astype(np.float32)
    tifffile.imwrite(tmp_path / "f.tif", data)
    img, info = read_image(tmp_path / "f.tif", dtype=np.float32)
    assert info.bit_depth == 32
    np.testing.assert_array_equal(img, data)
    tifffile.imwrite(tmp_path / "stack.tif", rng.integers(0, 255, (3, 5, 4), dtype=np.uint8), photometric="minisblack")
    with pytest.raises(ValueError, match=r"holds a stack of images"):
        read_image(tmp_path / "stack.tif")


def test_without_tifffile_a_lossy_tiff_is_refused(tmp_path, monkeypatch, rng):
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(tmp_path / "rgb16.tif", rng.integers(0, 65536, (6, 7, 3), dtype=np.uint16), photometric="rgb")
    tifffile.imwrite(tmp_path / "rgb8.tif", rng.integers(0, 256, (6, 7, 3), dtype=np.uint8), photometric="rgb")
    monkeypatch.setattr(tiff, "tifffile_or_none", lambda: None)
    with pytest.raises(ValueError, match=r"16-bit samples, which Pillow reads as 8 bits; .*needs tifffile: pip "
                                         r"install 'upconv\[image\]'"):
        read_image(tmp_path / "rgb16.tif")
    assert read_image(tmp_path / "rgb8.tif")[1].bit_depth == 8  # 8 bits lose nothing: Pillow reads it


# ---------------------------------------------------------------- writing


@pytest.mark.parametrize("bit_depth", [8, 16])
def test_float_data_outside_unit_range_is_an_error(tmp_path, bit_depth):
    y = np.linspace(0, 1, 12).reshape(3, 4)
    with pytest.raises(ValueError, match=r"^write_image: a float image must hold values in \[0, 1\], got 0\.\.255; "
                                         r"divide 8-bit data by 255"):
        write_image(tmp_path / "x.png", y * 255, bit_depth)
    assert not (tmp_path / "x.png").exists()
    half = 0.5 / (2**bit_depth - 1)
    write_image(tmp_path / "ok.png", np.clip(y, 0, 1) + np.where(y == 1, 0.9 * half, 0), bit_depth)  # rounding
    write_image(tmp_path / "clipped.png", y * 1.2 - 0.1, bit_depth, clip=True)  # overshoot, clipped on request
    assert read_image(tmp_path / "clipped.png")[0].max() == 1.0


def test_write_converts_in_blocks_without_full_temporaries(tmp_path):
    image = np.random.default_rng(0).random((3, 2000, 1000), dtype=np.float32)  # 24 MB
    tracemalloc.start()
    try:
        write_image(tmp_path / "big.png", image)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the uint8 samples (6 MB) and one block of rows: no float64 copy (48 MB) and no full temporaries
    assert peak < image.nbytes, peak


@pytest.mark.parametrize("bit_depth", [8, 16])
def test_an_error_while_writing_keeps_the_old_file(tmp_path, monkeypatch, bit_depth):
    path = tmp_path / "out.png"
    write_image(path, np.zeros((4, 4)), bit_depth)
    before = path.read_bytes()

    def fail(f, *args, **kwargs):
        f.write(b"partial data")
        raise KeyboardInterrupt

    if bit_depth == 16:
        monkeypatch.setattr(png, "encode", fail)
    else:
        from PIL import Image

        monkeypatch.setattr(Image.Image, "save", lambda self, f, **kw: fail(f))
    with pytest.raises(KeyboardInterrupt):
        write_image(path, np.ones((4, 4)), bit_depth)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["out.png"]


# A subprocess whose first write() into a file opened for writing is followed by a real SIGINT: the data is
# half written when Ctrl-C arrives, whoever opened the file (write_image, Pillow, atomic_write).
_INTERRUPTING = textwrap.dedent("""
    import builtins, os, signal

    real_open, real_fdopen = builtins.open, os.fdopen

    class Interrupting:
        def __init__(self, f):
            self._f, self._done = f, False
        def write(self, data):
            n = self._f.write(data)
            if not self._done:
                self._done = True
                self._f.flush()
                os.kill(os.getpid(), signal.SIGINT)
            return n
        def __getattr__(self, name):
            return getattr(self._f, name)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return self._f.__exit__(*exc)

    def open_(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        return Interrupting(f) if "w" in mode and str(file).endswith(".png") else f

    def fdopen(fd, mode="r", *args, **kwargs):
        f = real_fdopen(fd, mode, *args, **kwargs)
        return Interrupting(f) if "w" in mode else f

    builtins.open, os.fdopen = open_, fdopen
""")


@pytest.mark.parametrize("bit_depth", [8, 16])
def test_sigint_during_a_write_leaves_the_old_file(tmp_path, bit_depth):
    """A real SIGINT in a subprocess while the new image is being written: the old image survives intact."""
    path = tmp_path / "photo.png"
    write_image(path, np.full((3, 64, 64), 0.25), bit_depth)
    before = path.read_bytes()
    code = _INTERRUPTING + textwrap.dedent(f"""
        import numpy as np
        from upconv.images import files
        files.write_image({str(path)!r}, np.full((3, 64, 64), 0.75), {bit_depth})
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "KeyboardInterrupt" in proc.stderr, proc.stderr
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["photo.png"]  # no temporary file left behind
    np.testing.assert_allclose(read_image(path)[0], 0.25, atol=0.5 / 255)


def test_sigint_during_resize_onto_its_input_keeps_the_input(tmp_path):
    """upconv resize X.png -o X.png --force, interrupted while writing: X.png is still the input."""
    path = tmp_path / "X.png"
    write_image(path, upconv.data.photograph()[:, :32, :32], 16)
    before = path.read_bytes()
    code = _INTERRUPTING + textwrap.dedent(f"""
        import sys
        from upconv.cli import main
        sys.exit(main(["resize", {str(path)!r}, "--scale", "2", "-o", {str(path)!r}, "--force"]))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 130 and proc.stderr.strip() == "upconv resize: interrupted", proc.stderr
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["X.png"]


def test_figures_and_gifs_are_written_atomically(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from upconv import figures

    fig_path, gif_path = tmp_path / "overlap.png", tmp_path / "a.gif"
    figures.plot_overlap(3, 2, path=fig_path)
    figures.animate_conv_transpose(gif_path, 2, 3, 2)
    before = fig_path.read_bytes(), gif_path.read_bytes()

    def fail(self, f, *args, **kwargs):
        f.write(b"half")
        raise KeyboardInterrupt

    from matplotlib.figure import Figure
    from PIL import Image

    monkeypatch.setattr(Figure, "savefig", fail)
    monkeypatch.setattr(Image.Image, "save", fail)
    with pytest.raises(KeyboardInterrupt):
        figures.plot_overlap(3, 2, path=fig_path)
    with pytest.raises(KeyboardInterrupt):
        figures.animate_conv_transpose(gif_path, 2, 3, 2)
    assert (fig_path.read_bytes(), gif_path.read_bytes()) == before
    assert sorted(os.listdir(tmp_path)) == ["a.gif", "overlap.png"]


def test_check_image_path_before_any_work(tmp_path):
    assert check_image_path(tmp_path / "a.png", 16) == "PNG"
    with pytest.raises(ValueError, match=r"^write_image: cannot write '.*nodir/a.png': the directory .* does not"):
        check_image_path(tmp_path / "nodir" / "a.png")
    with pytest.raises(ValueError, match=r"^write_image: bit_depth=16 needs a .png file"):
        check_image_path(tmp_path / "a.jpg", 16)
    with pytest.raises(ValueError, match=r"^write_image: JPEG cannot store an alpha channel"):
        check_image_path(tmp_path / "a.jpg", 8, 4)


def test_read_image_float32(tmp_path, rng):
    img = rng.integers(0, 65536, (3, 5, 6)) / 65535
    write_image(tmp_path / "x.png", img, 16)
    back, _ = read_image(tmp_path / "x.png", dtype=np.float32)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, img.astype(np.float32))
    with pytest.raises(ValueError, match=r"^read_image: dtype must be float32 or float64, got 'int8'"):
        read_image(tmp_path / "x.png", dtype="int8")
