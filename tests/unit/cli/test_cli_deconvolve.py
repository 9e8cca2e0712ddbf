"""``upconv deconvolve``: the demo table and figure, restoring image files, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

import upconv
from upconv import shapes
from upconv.cli import main
from upconv.images import samples as data
from upconv.images.files import read_image, write_image
from upconv.restore.blur import blur_kernel
from upconv.restore.deconvolution import DECONVOLVE_METHODS

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def table(out: str) -> dict[str, list[str]]:
    """The rows of the demo table: method -> [PSNR, SSIM, time, note...]."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("method"))
    rows = {}
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        name = re.split(r"\s{2,}", line.strip())[0]
        rows[name] = line[len(name):].split()
    return rows


def test_demo_table_and_figure(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    fig = tmp_path / "demo.png"
    rc, out, err = run_cli(capsys, "deconvolve", "--demo", "--size", "40", "--kernel", "gaussian:1.0",
                           "--iterations", "20", "--figure", str(fig), "--no-progress")
    assert rc == 0, err
    rows = table(out)
    assert set(DECONVOLVE_METHODS) <= set(rows) and "degraded input y" in rows
    psnr = {m: float(rows[m][0]) for m in DECONVOLVE_METHODS}
    assert psnr["lsqr"] > psnr["transpose"] + 1
    assert "C^T y: right shape, wrong values" in out
    assert "not the inverse" in out
    with Image.open(fig) as im:
        assert im.size[0] > 200


def test_demo_strided_skips_stride1_methods(capsys):
    rc, out, err = run_cli(capsys, "deconvolve", "--demo", "--size", "32", "--stride", "2", "--kernel", "box:3",
                           "--iterations", "30")
    assert rc == 0, err
    rows = table(out)
    assert rows["wiener"][-3:] == ["stride", "1", "only"] and rows["richardson_lucy"][-1] == "only"
    assert "y, bilinear upsampling" in rows
    assert float(rows["lsqr"][0]) > float(rows["transpose"][0]) + 5
    assert "-> 16×16" in out or "-> 16x16" in out  # image sizes: width × height, as resize prints them


def test_demo_progress_goes_to_stderr(capsys):
    rc, out, err = run_cli(capsys, "deconvolve", "--demo", "--size", "16", "--kernel", "box:3", "--iterations", "3",
                           "--progress")
    assert rc == 0
    # the CLI's one progress line (upconv.cli._progress; the first method's first iteration is always drawn)
    assert "upconv deconvolve --demo: lsqr, iteration 1" in err and "iteration" not in out


@pytest.mark.parametrize("kind", ["gray8", "gray16", "rgb", "rgb16", "rgba", "jpeg"])
def test_restore_image_file_keeps_mode_and_depth(capsys, tmp_path, kind):
    rng = np.random.default_rng(0)
    src = tmp_path / ("in.jpg" if kind == "jpeg" else "in.png")
    dst = tmp_path / ("out.jpg" if kind == "jpeg" else "out.png")
    if kind == "gray16":
        Image.fromarray((rng.random((20, 24)) * 65535).astype(np.uint16)).save(src)
    elif kind == "gray8":
        Image.fromarray((rng.random((20, 24)) * 255).astype(np.uint8)).save(src)
    elif kind == "rgb16":
        write_image(src, rng.random((3, 20, 24)), bit_depth=16)
    elif kind == "rgba":
        Image.fromarray((rng.random((20, 24, 4)) * 255).astype(np.uint8)).save(src)
    else:
        Image.fromarray((rng.random((20, 24, 3)) * 255).astype(np.uint8)).save(src)
    rc, out, err = run_cli(capsys, "deconvolve", str(src), "--kernel", "gaussian:1.0", "--iterations", "5",
                           "-o", str(dst))
    assert rc == 0, err
    img, info = read_image(dst, alpha="keep")
    assert img.shape[-2:] == (20, 24) and 0 <= img.min() and img.max() <= 1
    assert info.bit_depth == (16 if kind.endswith("16") else 8)
    assert info.has_alpha == (kind == "rgba")  # alpha is kept, as upconv resize keeps it
    assert img.shape[:-2] == (() if kind.startswith("gray") else (4,) if kind == "rgba" else (3,))
    if kind == "rgba":  # the alpha channel passes through unchanged at stride 1
        np.testing.assert_array_equal(img[3], read_image(src, alpha="keep")[0][3])
    assert "richardson_lucy" in out and "-> " + str(dst) in out
    name = "gray" if kind.startswith("gray") else "RGBA" if kind == "rgba" else "RGB"
    assert f"24×20 {name} {info.bit_depth}-bit ->" in out  # width × height, as upconv resize prints it


@pytest.mark.parametrize("kind, bits", [("gray", 16), ("rgb", 16), ("rgb", 8)])
def test_restore_image_file_matches_library(capsys, tmp_path, kind, bits):
    """The file written is ``upconv.deconvolve`` of the (C, H, W) samples read, channel by channel,
    at the input's bit depth."""
    rng = np.random.default_rng(2)
    image = rng.random((14, 18) if kind == "gray" else (3, 14, 18))
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    write_image(src, image, bit_depth=bits)
    rc, out, err = run_cli(capsys, "deconvolve", str(src), "--kernel", "gaussian:1.0", "--method", "wiener",
                           "-o", str(dst))
    assert rc == 0, err
    y, _ = read_image(src)
    planes = y[None] if y.ndim == 2 else y
    kernel = blur_kernel("gaussian:1.0")
    c = planes.shape[0]
    w = np.ascontiguousarray(np.broadcast_to(kernel, (c, 1) + kernel.shape))
    x = upconv.deconvolve(planes, w, padding=shapes.same_padding(planes.shape[1:], kernel.shape, 1), groups=c,
                          method="wiener", balance=0.05, boundary="reflect")
    expected = np.clip(x[0] if y.ndim == 2 else x, 0, 1)
    back, info = read_image(dst)
    assert info.bit_depth == bits and back.shape == expected.shape
    np.testing.assert_allclose(back, expected, rtol=0, atol=0.5 / (2**bits - 1) + 1e-9)
    if kind == "rgb":  # the channels stay in order: not a transposed or swapped layout
        assert all(np.abs(back[i] - expected[j]).max() > 0.01 for i in range(3) for j in range(3) if i != j)


def test_restore_16bit_to_jpeg_writes_8_bits(capsys, tmp_path):
    src, dst = tmp_path / "in.png", tmp_path / "out.jpg"
    write_image(src, np.random.default_rng(3).random((3, 16, 16)), bit_depth=16)
    rc, out, err = run_cli(capsys, "deconvolve", str(src), "--iterations", "3", "-o", str(dst))
    assert rc == 0, err
    back, info = read_image(dst)
    assert info.format == "JPEG" and info.bit_depth == 8 and back.shape == (3, 16, 16)
    assert "RGB 16-bit ->" in out


def test_restore_image_file_super_resolution(capsys, tmp_path):
    src, dst = tmp_path / "small.png", tmp_path / "large.png"
    Image.fromarray((np.random.default_rng(1).random((12, 10)) * 255).astype(np.uint8)).save(src)
    rc, out, err = run_cli(capsys, "deconvolve", str(src), "--kernel", "box:2", "--stride", "2",
                           "--iterations", "10", "-o", str(dst))
    assert rc == 0, err
    with Image.open(dst) as im:
        assert im.size == (20, 24)  # PIL: (width, height)
    assert "lsqr" in out


def test_kernel_file(capsys, tmp_path):
    k = tmp_path / "k.npy"
    np.save(k, np.array([[0.0, 0.2, 0.0], [0.2, 0.2, 0.2], [0.0, 0.2, 0.0]]))
    rc, out, err = run_cli(capsys, "deconvolve", "--demo", "--size", "16", "--kernel", str(k), "--iterations", "3")
    assert rc == 0, err
    assert "3×3" in out or "3x3" in out


@pytest.mark.parametrize(
    "argv, match",
    [
        ([], r"argument IMAGE: give an image to restore, or --demo"),
        (["nofile.png", "-o", "x.png"], r"argument IMAGE: cannot read 'nofile.png': no such file$"),
        (["img.png"], r"argument -o/--output: required with an IMAGE"),
        (["--demo", "--kernel", "disk:3"], r"argument --kernel: unknown kernel 'disk:3'"),
        (["--demo", "--method", "inverse"], r"argument --method: must be one of lsqr, cg, wiener"),
        (["--demo", "--stride", "0"], r"argument --stride: must be >= 1, got 0"),
        (["--demo", "--noise", "-1"], r"argument --noise: must be a finite number >= 0"),
        (["--demo", "-o", "x.png"], r"argument --demo: takes no IMAGE and no -o/--output"),
        (["img.png", "-o", "x.png", "--stride", "2", "--method", "wiener"],
         r"argument --method: wiener needs stride 1"),
        (["img.png", "-o", "x.png", "--figure", "f.png"], r"argument --figure: only used with --demo"),
    ],
)
def test_errors(capsys, argv, match):
    rc, out, err = run_cli(capsys, "deconvolve", *argv)
    assert rc == 2
    assert re.search(r"^upconv deconvolve: error: " + match, err), err


def test_help(capsys):
    rc, out, _ = run_cli(capsys, "deconvolve", "--help")
    assert rc == 0 and "gaussian:SIGMA" in out and "motion:LENGTH,ANGLE" in out


def test_errors_unreadable_image_and_output(capsys, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    rc, _, err = run_cli(capsys, "deconvolve", str(bad), "-o", str(tmp_path / "x.png"))
    assert rc == 2 and re.search(r"^upconv deconvolve: error: argument IMAGE: cannot read '.*bad\.png'", err), err
    src = tmp_path / "in.png"
    write_image(src, np.full((8, 8), 0.5))
    rc, _, err = run_cli(capsys, "deconvolve", str(src), "--iterations", "2", "-o", str(tmp_path / "x.unknownext"))
    assert rc == 2
    assert re.search(r"^upconv deconvolve: error: argument -o/--output: cannot tell the format of", err), err


@pytest.mark.parametrize("size", [64, 256, 300])
def test_demo_uses_builtin_photograph(capsys, size):
    """The demo's original x is upconv.data's gray photograph, area-averaged to --size (bilinear above 256):
    with no noise, the printed PSNR of the degraded input is that of x against its blur."""
    from upconv.restore.metrics import psnr

    photo = data.photograph(gray=True)
    if size == 256:
        x = photo
    else:
        mode = "area" if size < 256 else "bilinear"
        x = np.clip(upconv.interpolate(photo[None, None], size=(size, size), mode=mode)[0, 0], 0, 1)
    kernel = blur_kernel("box:3")
    y = upconv.conv(x[None], kernel[None, None], padding=shapes.same_padding(x.shape, kernel.shape, 1))[0]
    rc, out, err = run_cli(capsys, "deconvolve", "--demo", "--size", str(size), "--kernel", "box:3",
                           "--noise", "0", "--iterations", "1")
    assert rc == 0, err
    assert re.search(rf"image\s+upconv\.data\.photograph\(gray=True\), {size}[×x]{size}", out), out
    assert float(table(out)["degraded input y"][0]) == pytest.approx(psnr(x, y, data_range=1), abs=0.006)
