"""``upconv deconvolve``: the demo table and figure, restoring image files, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

from upconv.cli import main
from upconv.cli import deconvolve as cli_deconvolve
from upconv.deconvolve import METHODS

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
    assert set(METHODS) <= set(rows) and "degraded input y" in rows
    psnr = {m: float(rows[m][0]) for m in METHODS}
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
    assert "-> 16 × 16" in out or "-> 16 x 16" in out


def test_demo_progress_goes_to_stderr(capsys):
    rc, out, err = run_cli(capsys, "deconvolve", "--demo", "--size", "16", "--kernel", "box:3", "--iterations", "3",
                           "--progress")
    assert rc == 0
    assert "deconvolve richardson_lucy [" in err and "deconvolve richardson_lucy [" not in out


@pytest.mark.parametrize("kind", ["gray8", "gray16", "rgb", "jpeg"])
def test_restore_image_file_keeps_mode_and_depth(capsys, tmp_path, kind):
    rng = np.random.default_rng(0)
    src = tmp_path / ("in.jpg" if kind == "jpeg" else "in.png")
    dst = tmp_path / ("out.jpg" if kind == "jpeg" else "out.png")
    if kind == "gray16":
        Image.fromarray((rng.random((20, 24)) * 65535).astype(np.uint16)).save(src)
    elif kind == "gray8":
        Image.fromarray((rng.random((20, 24)) * 255).astype(np.uint8)).save(src)
    else:
        Image.fromarray((rng.random((20, 24, 3)) * 255).astype(np.uint8)).save(src)
    rc, out, err = run_cli(capsys, "deconvolve", str(src), "--kernel", "gaussian:1.0", "--iterations", "5",
                           "-o", str(dst))
    assert rc == 0, err
    img, bits = cli_deconvolve.read_image(dst)
    assert img.shape[:2] == (20, 24) and 0 <= img.min() and img.max() <= 1
    assert bits == (16 if kind == "gray16" else 8)
    assert img.ndim == (2 if kind.startswith("gray") else 3)
    assert "richardson_lucy" in out and "-> " + str(dst) in out


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
    assert "3 × 3" in out or "3 x 3" in out


@pytest.mark.parametrize(
    "argv, match",
    [
        ([], r"argument IMAGE: give an image to restore, or --demo"),
        (["nofile.png", "-o", "x.png"], r"argument IMAGE: no such file: 'nofile.png'"),
        (["img.png"], r"argument -o/--output: required with an IMAGE"),
        (["--demo", "--kernel", "disk:3"], r"argument --kernel: blur_kernel: unknown kernel 'disk:3'"),
        (["--demo", "--method", "inverse"], r"argument --method: must be one of lsqr, cg, wiener"),
        (["--demo", "--stride", "0"], r"argument --stride: must be >= 1, got 0"),
        (["--demo", "--noise", "-1"], r"argument --noise: must be a finite number >= 0"),
        (["--demo", "-o", "x.png"], r"argument --demo: takes no IMAGE and no -o/--output"),
        (["img.png", "-o", "x.png", "--stride", "2", "--method", "wiener"], r"argument --method: wiener needs stride 1"),
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


def test_builtin_image_fallback_and_io_roundtrip(tmp_path):
    img, source = cli_deconvolve.builtin_image(64)
    assert img.shape == (64, 64) and 0 <= img.min() and img.max() <= 1 and source
    a = np.linspace(0, 1, 30).reshape(5, 6)
    cli_deconvolve.write_image(tmp_path / "a.png", a, bits=16)
    back, bits = cli_deconvolve.read_image(tmp_path / "a.png")
    assert bits == 16 and np.abs(back - a).max() <= 0.5 / 65535 + 1e-12
    cli_deconvolve.write_image(tmp_path / "b.png", a, bits=8)
    back, bits = cli_deconvolve.read_image(tmp_path / "b.png")
    assert bits == 8 and np.abs(back - a).max() <= 0.5 / 255 + 1e-12
