"""Built-in images (upconv.data) and image files (upconv.image_io)."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

import upconv
from upconv.images import samples as data
from upconv.images.files import ImageInfo, read_image, write_image

Image = pytest.importorskip("PIL.Image")

SHAPES = {
    "zone_plate": (256, 256),
    "siemens_star": (256, 256),
    "text": (256, 256),
    "astronaut": (3, 256, 256),
    "astronaut_gray": (256, 256),
}
LUMA = np.array([0.299, 0.587, 0.114])


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ---------------------------------------------------------------- built-in images


def test_names():
    assert data.names() == tuple(SHAPES)


@pytest.mark.parametrize("name", list(SHAPES))
def test_builtin_shape_dtype_range_deterministic(name):
    a = data.load(name)
    assert a.shape == SHAPES[name]
    assert a.dtype == np.float64
    assert a.flags.writeable and a.flags.c_contiguous
    assert 0.0 <= a.min() and a.max() <= 1.0
    assert a.std() > 0.1  # not flat
    a[...] = -1.0  # the caller owns the result: a second call is unaffected
    b, c = data.load(name), data.load(name)
    np.testing.assert_array_equal(b, c)
    assert b.min() >= 0.0


def test_zone_plate_energy_reaches_nyquist():
    z = data.zone_plate(256)
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(z - z.mean()))) ** 2
    f = np.abs(np.fft.fftshift(np.fft.fftfreq(256)))
    high = np.maximum(f[:, None], f[None, :]) >= 0.4
    # the chirp spreads its energy about evenly over the band: 1 - 0.8**2 = 36% lies above 0.4 cycles/pixel
    assert spectrum[high].sum() / spectrum.sum() > 0.25
    # at the middle of the right edge neighbouring pixels alternate around 1/2 (Nyquist along x)
    row = z[128, -8:] - 0.5
    assert np.all(row[1:] * row[:-1] < 0)
    # and the centre is smooth
    assert abs(z[127, 128] - z[128, 128]) < 1e-3
    np.testing.assert_array_equal(z, z.T)
    np.testing.assert_array_equal(z, z[::-1])


def test_zone_plate_formula():
    z = data.zone_plate(5)
    x = np.arange(5) - 2.0
    np.testing.assert_allclose(z, 0.5 + 0.5 * np.cos(np.pi / 5 * (x[:, None] ** 2 + x[None, :] ** 2)))


def test_siemens_star():
    sharp = data.siemens_star(128, spokes=12, supersample=1)
    assert set(np.unique(sharp)) <= {0.0, 1.0}
    smooth = data.siemens_star(128, spokes=12)
    assert ((smooth > 0) & (smooth < 1)).mean() > 0.05  # antialiased edges
    assert abs(smooth.mean() - sharp.mean()) < 0.01
    # 2 * spokes black/white transitions around a circle of radius 50
    t = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
    ring = sharp[np.rint(63.5 + 50 * np.sin(t)).astype(int), np.rint(63.5 + 50 * np.cos(t)).astype(int)]
    assert np.count_nonzero(ring != np.roll(ring, 1)) == 24
    assert sharp[0, 0] == 1.0  # white outside the disk
    np.testing.assert_array_equal(data.siemens_star(64), data.siemens_star(64))


def test_text_chart_has_text_and_nyquist_bars():
    t = data.text_chart()
    dark = t < 0.5
    assert 0.03 < dark.mean() < 0.4
    assert dark[:100].any(axis=1).sum() > 40  # many rows of text in the upper part
    # some row holds the 1-pixel line pairs: dark, light, dark, light, ...
    runs = [np.flatnonzero(np.diff(r.astype(int)) != 0) for r in dark[100:160]]
    assert any(np.any(np.convolve(np.diff(d) == 1, np.ones(5), "valid") == 5) for d in runs if d.size > 6)
    for size in (64, 100, 512):
        assert data.text_chart(size).shape == (size, size)


def test_text_chart_bitmap_font_fallback(monkeypatch):
    real = data._font
    monkeypatch.setattr(data, "_font", lambda size: None if size is not None else real(None))
    t = data.text_chart(128)
    assert t.shape == (128, 128) and (t[:50] < 0.5).any()
    np.testing.assert_array_equal(t, data.text_chart(128))


def test_photograph():
    rgb = data.photograph()
    gray = data.photograph(gray=True)
    assert rgb.shape == (3, 256, 256) and gray.shape == (256, 256)
    np.testing.assert_array_equal(np.rint(rgb * 255) / 255, rgb)  # 8-bit samples
    np.testing.assert_allclose(gray, np.tensordot(LUMA, rgb, axes=1), atol=1e-12)
    np.testing.assert_array_equal(data.load("astronaut_gray"), gray)
    assert rgb[0].mean() > rgb[2].mean()  # the orange suit


def test_load_options_and_errors():
    assert data.load("zone_plate", size=32).shape == (32, 32)
    assert data.load("siemens_star", size=16, spokes=4).shape == (16, 16)
    with pytest.raises(ValueError, match=r"^load: name must be one of 'zone_plate'.*got 'lena'"):
        data.load("lena")
    with pytest.raises(TypeError, match=r"^load: image 'astronaut' takes no option"):
        data.load("astronaut", size=3)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: data.zone_plate(0), ValueError, r"^zone_plate: size must be >= 1, got 0"),
        (lambda: data.zone_plate(2.0), TypeError, r"^zone_plate: size must be an integer, got 2.0"),
        (lambda: data.siemens_star(spokes=0), ValueError, r"^siemens_star: spokes must be >= 1"),
        (lambda: data.siemens_star(supersample=True), TypeError, r"^siemens_star: supersample must be an integer"),
        (lambda: data.text_chart(32), ValueError, r"^text_chart: size must be >= 64, got 32"),
        (lambda: data.photograph(gray=1), TypeError, r"^photograph: gray must be True or False, got 1"),
    ],
)
def test_builtin_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_builtin_memory_limit():
    upconv.set_memory_limit(2**20)
    try:
        with pytest.raises(MemoryError, match=r"^zone_plate: the image of shape \(1000, 1000\)"):
            data.zone_plate(1000)
        with pytest.raises(MemoryError, match=r"^siemens_star: "):
            data.siemens_star(1000)
    finally:
        upconv.set_memory_limit(None)


def test_modules_import_no_pillow():
    code = ("import sys, upconv.images.samples, upconv.images.files; "
            "print('PIL' in sys.modules, 'upconv.kernels._native' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# ---------------------------------------------------------------- image files


def _levels(rng, shape, bit_depth):
    top = 2**bit_depth - 1
    return rng.integers(0, top + 1, shape) / top


@pytest.mark.parametrize("bit_depth", [8, 16])
@pytest.mark.parametrize(("channels", "mode"), [(1, "L"), (2, "LA"), (3, "RGB"), (4, "RGBA")])
def test_png_round_trip_exact(tmp_path, rng, channels, mode, bit_depth):
    img = _levels(rng, (channels, 7, 9), bit_depth)
    if channels == 1:
        img = img[0]
    path = tmp_path / "x.png"
    before = img.copy()
    write_image(path, img, bit_depth=bit_depth)
    np.testing.assert_array_equal(img, before)
    back, info = read_image(path, alpha="keep")
    np.testing.assert_array_equal(back, img)
    assert back.dtype == np.float64
    file_mode = mode if bit_depth == 8 else {"L": "I;16"}.get(mode, mode + ";16")
    assert info == ImageInfo(str(path), "PNG", file_mode, bit_depth, channels, channels in (2, 4))
    # and Pillow reads what we wrote (16-bit gray exactly; colour 16-bit as its high bytes)
    with Image.open(path) as im:
        pil = np.asarray(im).astype(np.float64)
    if bit_depth == 8 or channels == 1:
        expect = np.rint(img * (2**bit_depth - 1))
        np.testing.assert_array_equal(pil, expect if channels == 1 else np.moveaxis(expect, 0, -1))


def test_round_trip_float32_and_bool(tmp_path):
    path = tmp_path / "b.png"
    write_image(path, np.eye(3, dtype=bool))
    np.testing.assert_array_equal(read_image(path)[0], np.eye(3))
    img = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    write_image(path, img, 16)
    np.testing.assert_allclose(read_image(path)[0], img, atol=0.5 / 65535 + 1e-7)


def test_write_clips_and_rounds(tmp_path):
    path = tmp_path / "c.png"
    write_image(path, np.array([[-1.0, -np.inf, 0.5 / 255, 1.5 / 255, 0.7, 2.0, np.inf]]), clip=True)
    with Image.open(path) as im:
        np.testing.assert_array_equal(np.asarray(im), [[0, 0, 0, 2, 178, 255, 255]])  # half to even


def _png16(samples, color_type, filters=None, interlace=0, trns=None):
    """Encode ``(H, W, C)`` uint16 samples as a 16-bit PNG with the given per-row filter types."""
    h, w, c = samples.shape
    bpp = 2 * c
    passes = [(0, 0, 1, 1)] if interlace == 0 else [
        (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)
    ]
    out, row_index = [], 0
    for xs, ys, dx, dy in passes:
        sub = samples[ys::dy, xs::dx]
        if sub.size == 0:
            continue
        raw = sub.astype(">u2").view(np.uint8).reshape(sub.shape[0], -1).astype(np.int32)
        prev = np.zeros(raw.shape[1], np.int32)
        for r in raw:
            t = 0 if filters is None else filters[row_index % len(filters)]
            row_index += 1
            a = np.concatenate([np.zeros(bpp, np.int32), r[:-bpp]])
            b = prev
            cc = np.concatenate([np.zeros(bpp, np.int32), prev[:-bpp]])
            p = a + b - cc
            pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - cc)
            paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, cc))
            pred = [np.zeros_like(r), a, b, (a + b) // 2, paeth][t]
            out.append(bytes([t]) + ((r - pred) % 256).astype(np.uint8).tobytes())
            prev = r

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, interlace))
    if trns is not None:
        png += chunk(b"tRNS", np.asarray(trns, ">u2").tobytes())
    return png + chunk(b"IDAT", zlib.compress(b"".join(out))) + chunk(b"IEND", b"")


@pytest.mark.parametrize("interlace", [0, 1])
def test_png16_decoder_all_filters_against_pillow(tmp_path, rng, interlace):
    # Pillow decodes 16-bit gray correctly: it is the oracle for our unfiltering and Adam7
    samples = rng.integers(0, 65536, (13, 11, 1)).astype(np.uint16)
    samples[5:] = np.cumsum(samples[5:] % 97, axis=1)  # some smooth rows too
    path = tmp_path / "g.png"
    path.write_bytes(_png16(samples, 0, filters=[0, 1, 2, 3, 4, 4, 3], interlace=interlace))
    with Image.open(path) as im:
        pil = np.asarray(im)
    np.testing.assert_array_equal(pil, samples[..., 0])
    back, info = read_image(path)
    np.testing.assert_array_equal(back * 65535, samples[..., 0])
    assert (info.mode, info.bit_depth) == ("I;16", 16)


@pytest.mark.parametrize("interlace", [0, 1])
def test_png16_rgb_decoder(tmp_path, rng, interlace):
    samples = rng.integers(0, 65536, (9, 10, 3)).astype(np.uint16)
    path = tmp_path / "rgb.png"
    path.write_bytes(_png16(samples, 2, filters=[4, 3, 2, 1, 0], interlace=interlace))
    back, info = read_image(path)
    np.testing.assert_array_equal(np.moveaxis(back, 0, -1) * 65535, samples)
    assert (info.mode, info.channels, info.has_alpha) == ("RGB;16", 3, False)


def test_png16_transparent_colour_key(tmp_path):
    samples = np.array([[[1, 2, 3], [4, 5, 6]]], dtype=np.uint16)
    path = tmp_path / "t.png"
    path.write_bytes(_png16(samples, 2, trns=[4, 5, 6]))
    back, info = read_image(path, alpha="keep")
    assert info.has_alpha and back.shape == (4, 1, 2)
    np.testing.assert_array_equal(back[3], [[1.0, 0.0]])
    assert read_image(path)[0].shape == (3, 1, 2)


def test_pillow_modes(tmp_path, rng):
    rgba = rng.integers(0, 256, (6, 5, 4)).astype(np.uint8)
    cases = {
        "L": Image.fromarray(rgba[..., 0]),
        "LA": Image.fromarray(rgba[..., :2], mode="LA"),
        "RGB": Image.fromarray(rgba[..., :3]),
        "RGBA": Image.fromarray(rgba),
    }
    for mode, im in cases.items():
        path = tmp_path / f"{mode}.png"
        im.save(path)
        expect = np.moveaxis(rgba[..., : len(mode)], -1, 0) / 255
        kept, info = read_image(path, alpha="keep")
        np.testing.assert_array_equal(kept, expect[0] if mode == "L" else expect)
        assert (info.mode, info.bit_depth, info.channels, info.has_alpha) == (mode, 8, len(mode), "A" in mode)
        dropped = read_image(path)[0]
        color = expect[:-1] if "A" in mode else expect
        np.testing.assert_array_equal(dropped, color[0] if len(color) == 1 else color)
        gray = read_image(path, as_gray=True, alpha="keep")[0]
        if mode.startswith("RGB"):
            luma = np.tensordot(LUMA, color, axes=1)
            np.testing.assert_allclose(gray[0] if mode == "RGBA" else gray, luma, atol=1e-12)
            assert gray.shape == ((2, 6, 5) if mode == "RGBA" else (6, 5))


def test_palette_bilevel_and_16bit_gray_from_pillow(tmp_path, rng):
    rgb = rng.integers(0, 256, (6, 5, 3)).astype(np.uint8)
    p = Image.fromarray(rgb).quantize(8)
    p.save(tmp_path / "p.png")
    back, info = read_image(tmp_path / "p.png")
    assert (info.mode, back.shape, info.has_alpha) == ("P", (3, 6, 5), False)
    np.testing.assert_array_equal(back, np.moveaxis(np.asarray(p.convert("RGB")), -1, 0) / 255)
    p.save(tmp_path / "pt.png", transparency=0)
    back, info = read_image(tmp_path / "pt.png", alpha="keep")
    assert info.has_alpha and back.shape == (4, 6, 5)
    np.testing.assert_array_equal(back[3] == 0, np.asarray(p) == 0)

    Image.fromarray(rgb[..., 0] > 128).save(tmp_path / "b.png")
    back, info = read_image(tmp_path / "b.png")
    assert (info.mode, info.bit_depth) == ("1", 1)
    np.testing.assert_array_equal(back, rgb[..., 0] > 128)

    g16 = rng.integers(0, 65536, (4, 3)).astype(np.uint16)
    Image.fromarray(g16).save(tmp_path / "g16.png")
    back, info = read_image(tmp_path / "g16.png")
    np.testing.assert_array_equal(back * 65535, g16)
    assert info.bit_depth == 16


def test_int32_and_float_modes(tmp_path):
    Image.fromarray(np.array([[0, 65535]], dtype=np.int32), mode="I").save(tmp_path / "i.tif")
    back, info = read_image(tmp_path / "i.tif")
    assert (info.mode, info.bit_depth) == ("I", 16)
    np.testing.assert_array_equal(back, [[0.0, 1.0]])
    Image.fromarray(np.array([[0, 70000]], dtype=np.int32), mode="I").save(tmp_path / "big.tif")
    with pytest.raises(ValueError, match=r"^read_image: cannot read .*outside \[0, 65535\]"):
        read_image(tmp_path / "big.tif")
    # a float TIFF: read as stored by tifffile (Pillow's mode 'F' was refused before tifffile was used)
    Image.fromarray(np.array([[0.25, 0.5]], np.float32), mode="F").save(tmp_path / "f.tif")
    back, info = read_image(tmp_path / "f.tif", dtype=np.float32)
    assert (info.mode, info.bit_depth, back.dtype) == ("L;float32", 32, np.float32)
    np.testing.assert_array_equal(back, [[0.25, 0.5]])


def test_jpeg(tmp_path):
    y, x = np.mgrid[0:32, 0:48] / 48
    img = np.stack([x, y, 0.5 * (x + y)])
    path = tmp_path / "s.jpg"
    write_image(path, img)
    back, info = read_image(path)
    assert (info.format, info.mode, info.bit_depth, back.shape) == ("JPEG", "RGB", 8, (3, 32, 48))
    assert np.abs(back - img).mean() < 0.02
    write_image(tmp_path / "g.jpeg", img[0])
    assert read_image(tmp_path / "g.jpeg")[0].shape == (32, 48)
    # CMYK JPEG becomes RGB; an EXIF orientation is applied
    Image.new("CMYK", (4, 3), (0, 255, 0, 0)).save(tmp_path / "cmyk.jpg")
    back, info = read_image(tmp_path / "cmyk.jpg")
    assert (info.mode, back.shape) == ("CMYK", (3, 3, 4))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees to display
    Image.new("RGB", (4, 3)).save(tmp_path / "rot.jpg", exif=exif)
    assert read_image(tmp_path / "rot.jpg")[0].shape == (3, 4, 3)


def test_other_8bit_formats(tmp_path, rng):
    img = _levels(rng, (3, 4, 5), 8)
    write_image(tmp_path / "x.bmp", img)
    back, info = read_image(tmp_path / "x.bmp")
    assert info.format == "BMP"
    np.testing.assert_array_equal(back, img)


@pytest.mark.parametrize(
    ("image", "kwargs", "exc", "match"),
    [
        (np.zeros((5, 2, 2)), {}, ValueError,
         r"^write_image: image must have shape \(H, W\) or \(C, H, W\).*got shape \(5, 2, 2\)"),
        (np.zeros(4), {}, ValueError, r"^write_image: image must have shape .*got shape \(4,\)"),
        (np.zeros((1, 1, 2, 2)), {}, ValueError, r"^write_image: image must have shape"),
        (np.zeros((0, 3)), {}, ValueError, r"^write_image: image must have shape .*H, W >= 1"),
        (np.full((2, 2), np.nan), {}, ValueError, r"^write_image: image must not contain NaN"),
        (np.full((2, 2), 255, np.uint8), {}, ValueError,
         r"^write_image: an integer image must hold values in \[0, 1\], got 255..255; divide"),
        (np.array([["a"]]), {}, TypeError, r"^write_image: image must be a real numeric array, got dtype <U1"),
        (np.zeros((2, 2)), {"bit_depth": 12}, ValueError, r"^write_image: bit_depth must be 8 or 16, got 12"),
        (np.zeros((2, 2)), {"bit_depth": True}, ValueError, r"^write_image: bit_depth must be 8 or 16, got True"),
        (np.zeros((2, 2)), {"quality": 101}, ValueError, r"^write_image: quality must be <= 100, got 101"),
    ],
)
def test_write_errors(tmp_path, image, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        write_image(tmp_path / "e.png", image, **kwargs)
    assert not (tmp_path / "e.png").exists()


def test_write_format_errors(tmp_path):
    with pytest.raises(ValueError, match=r"^write_image: bit_depth=16 needs a .png file, got '.*e.jpg' \(JPEG\)"):
        write_image(tmp_path / "e.jpg", np.zeros((2, 2)), 16)
    with pytest.raises(ValueError, match=r"^write_image: JPEG cannot store an alpha channel; got an image with 4 "
                                         r"channels"):
        write_image(tmp_path / "e.jpg", np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match=r"^write_image: cannot tell the format of '.*e.xyz' from its extension "
                                         r"'.xyz'"):
        write_image(tmp_path / "e.xyz", np.zeros((2, 2)))
    for bit_depth in (8, 16):
        with pytest.raises(ValueError, match=r"^write_image: cannot write '.*nodir/e.png'"):
            write_image(tmp_path / "nodir" / "e.png", np.zeros((2, 2)), bit_depth)
    with pytest.raises(TypeError, match=r"^write_image: path must be a str or os.PathLike, got 3"):
        write_image(3, np.zeros((2, 2)))


def test_read_errors(tmp_path):
    with pytest.raises(ValueError, match=r"^read_image: cannot read '.*missing.png': no such file"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ValueError, match=r"^read_image: cannot read '.*': it is a directory"):
        read_image(tmp_path)
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match=r"^read_image: cannot read '.*notes.png': cannot identify image file"):
        read_image(tmp_path / "notes.png")
    good = _png16(np.zeros((3, 3, 3), np.uint16), 2)
    (tmp_path / "trunc.png").write_bytes(good[:-20])
    with pytest.raises(ValueError, match=r"^read_image: cannot read '.*trunc.png': truncated PNG file"):
        read_image(tmp_path / "trunc.png")
    bad = bytearray(good)
    bad[45] ^= 0xFF  # inside IDAT's data
    (tmp_path / "crc.png").write_bytes(bytes(bad))
    with pytest.raises(ValueError, match=r"^read_image: cannot read '.*crc.png': corrupt PNG file \(bad CRC in 'IDAT' "
                                         r"chunk\)"):
        read_image(tmp_path / "crc.png")
    write_image(tmp_path / "ok.png", np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"^read_image: alpha must be one of 'drop', 'keep', got 'blend'"):
        read_image(tmp_path / "ok.png", alpha="blend")
    with pytest.raises(TypeError, match=r"^read_image: as_gray must be True or False, got 'yes'"):
        read_image(tmp_path / "ok.png", as_gray="yes")
    with pytest.raises(TypeError, match=r"^read_image: path must be a str or os.PathLike, got None"):
        read_image(None)


def test_read_memory_limit(tmp_path):
    write_image(tmp_path / "big.png", np.zeros((3, 300, 300)), 16)
    write_image(tmp_path / "big8.png", np.zeros((3, 300, 300)))
    upconv.set_memory_limit(2**20)
    try:
        for name in ("big.png", "big8.png"):
            with pytest.raises(MemoryError, match=r"^read_image: the image of shape \(300, 300, 4\)"):
                read_image(tmp_path / name)
    finally:
        upconv.set_memory_limit(None)
