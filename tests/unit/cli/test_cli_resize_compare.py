"""``upconv resize`` and ``upconv compare`` (CLI), and :mod:`upconv.compare` (library)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import upconv
from upconv.cli import compare as cli_compare
from upconv.cli import main
from upconv.figures.studies import default_crop, plot_comparison
from upconv.images import samples as data
from upconv.images.files import read_image, write_image
from upconv.studies.compare import (
    UPSAMPLERS,
    compare_upsamplers,
    smoothing_kernel,
)

pytest.importorskip("PIL")


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def band_limited_zone_plate(n: int = 64, scale: int = 4) -> np.ndarray:
    """The central ``n x n`` of a zone plate whose frequencies stay below half the small image's Nyquist limit."""
    z = data.zone_plate(2 * scale * n)
    c = (z.shape[0] - n) // 2
    return z[c : c + n, c : c + n]


def table_rows(out: str) -> dict[str, tuple[int, float, float, float]]:
    """method -> (rank, PSNR, SSIM, ms) from the printed table."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\d+)\s{2}(\S+)\s+([\d.]+|inf)\s+([\d.]+)\s+([\d.]+)\s{2}", line)
        if m:
            rows[m.group(2)] = (int(m.group(1)), float(m.group(3)), float(m.group(4)), float(m.group(5)))
    return rows


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("img")
    gray = data.zone_plate(64)
    rgb = data.photograph()[:, 96:160, 96:160]
    write_image(d / "gray8.png", gray)
    write_image(d / "rgb16.png", rgb, bit_depth=16)
    write_image(d / "rgb.jpg", rgb)
    write_image(d / "band.png", band_limited_zone_plate(64, 4), bit_depth=16)
    return d


# --------------------------------------------------------------------------
# upconv resize


def test_resize_gray_8bit_bicubic(capsys, files, tmp_path):
    out = tmp_path / "out.png"
    rc, stdout, err = run_cli(capsys, "resize", files / "gray8.png", "--scale", "2", "--mode", "bicubic", "-o", out)
    assert rc == 0, err
    assert len(stdout.splitlines()) == 1
    assert "64×64 gray 8-bit" in stdout and "128×128 8-bit, bicubic" in stdout and "ms" in stdout
    back, info = read_image(out)
    assert back.shape == (128, 128) and info.bit_depth == 8 and info.mode == "L"
    src, _ = read_image(files / "gray8.png")
    expect = upconv.interpolate(src[None, None], scale_factor=2, mode="bicubic")[0, 0]
    np.testing.assert_array_equal(back * 255, np.rint(np.clip(expect, 0, 1) * 255))


def test_resize_rgb_16bit_per_axis_scale(capsys, files, tmp_path):
    out = tmp_path / "out.png"
    rc, stdout, err = run_cli(capsys, "resize", files / "rgb16.png", "--scale", "2,1.5", "--mode", "bilinear",
                              "--align-corners", "-o", out)
    assert rc == 0, err
    back, info = read_image(out)
    assert back.shape == (3, 96, 128)  # SX = 2 (width), SY = 1.5 (height)
    assert info.bit_depth == 16 and info.mode == "RGB;16"
    src, _ = read_image(files / "rgb16.png")
    expect = upconv.interpolate(src[None], scale_factor=(1.5, 2.0), mode="bilinear", align_corners=True)[0]
    assert np.abs(back - np.clip(expect, 0, 1)).max() <= 0.5 / 65535 + 1e-12
    assert "128×96 16-bit, bilinear, align_corners" in stdout


def test_resize_size_and_bit_depth(capsys, files, tmp_path):
    rc, stdout, err = run_cli(capsys, "resize", files / "rgb16.png", "--size", "40x25", "--mode", "area",
                              "--bit-depth", "8", "-o", tmp_path / "a.png")
    assert rc == 0, err
    back, info = read_image(tmp_path / "a.png")
    assert back.shape == (3, 25, 40) and info.bit_depth == 8 and "40×25 8-bit, area" in stdout
    rc, _, err = run_cli(capsys, "resize", files / "gray8.png", "--size", "30X20", "--bit-depth", "16",
                         "-o", tmp_path / "b.png")
    assert rc == 0, err
    back, info = read_image(tmp_path / "b.png")
    assert back.shape == (20, 30) and info.bit_depth == 16
    # a JPEG output of a 16-bit input falls back to 8 bits; antialiased shrinking
    rc, stdout, err = run_cli(capsys, "resize", files / "rgb16.png", "--scale", "0.5", "--mode", "bilinear",
                              "--antialias", "-o", tmp_path / "c.jpg")
    assert rc == 0, err
    back, info = read_image(tmp_path / "c.jpg")
    assert back.shape == (3, 32, 32) and info.bit_depth == 8 and "antialias" in stdout


def test_resize_jpeg_input_nearest_exact(capsys, files, tmp_path):
    rc, stdout, err = run_cli(capsys, "resize", files / "rgb.jpg", "--scale", "3", "--mode", "nearest-exact",
                              "-o", tmp_path / "x.png")
    assert rc == 0, err
    src, _ = read_image(files / "rgb.jpg")
    back, info = read_image(tmp_path / "x.png")
    assert back.shape == (3, 192, 192) and info.bit_depth == 8
    np.testing.assert_array_equal(back, np.repeat(np.repeat(src, 3, axis=1), 3, axis=2))


def test_resize_onnx(capsys, files, tmp_path):
    src, _ = read_image(files / "rgb16.png")
    out = tmp_path / "onnx.png"
    rc, stdout, err = run_cli(capsys, "resize", files / "rgb16.png", "--onnx", "--scale", "1.5,2", "--mode",
                              "bicubic", "--cubic-coeff-a", "-0.5", "--coordinate-transformation-mode",
                              "asymmetric", "-o", out)
    assert rc == 0, err
    assert "ONNX Resize cubic, asymmetric, a=-0.5" in stdout
    back, info = read_image(out)
    expect = upconv.resize(src, scales=[2.0, 1.5], axes=[1, 2], mode="cubic", cubic_coeff_a=-0.5,
                           coordinate_transformation_mode="asymmetric")
    assert back.shape == (3, 128, 96) and info.bit_depth == 16
    assert np.abs(back - np.clip(expect, 0, 1)).max() <= 0.5 / 65535 + 1e-12
    rc, stdout, err = run_cli(capsys, "resize", files / "gray8.png", "--onnx", "--size", "50x70", "--mode",
                              "nearest", "--nearest-mode", "floor", "-o", tmp_path / "n.png")
    assert rc == 0, err
    src, _ = read_image(files / "gray8.png")
    back, _ = read_image(tmp_path / "n.png")
    np.testing.assert_array_equal(back, upconv.resize(src, sizes=[70, 50], mode="nearest", nearest_mode="floor"))


@pytest.mark.parametrize(
    "argv, name",
    [
        (["--scale", "abc"], "--scale"),
        (["--scale", "0"], "--scale"),
        (["--scale", "2,3,4"], "--scale"),
        (["--scale", "nan"], "--scale"),
        (["--scale", "0.001"], "--scale"),
        (["--scale", "0.001", "--onnx"], "--scale"),
        ([], "--scale"),
        (["--scale", "2", "--size", "10x10"], "--size"),
        (["--size", "10"], "--size"),
        (["--size", "0x5"], "--size"),
        (["--scale", "2", "--onnx", "--mode", "area"], "--mode"),
        (["--scale", "2", "--mode", "linear"], "--mode"),
        (["--scale", "2", "--mode", "nearest", "--align-corners"], "--align-corners"),
        (["--scale", "2", "--mode", "area", "--antialias"], "--antialias"),
        (["--scale", "2", "--onnx", "--align-corners"], "--align-corners"),
        (["--scale", "2", "--cubic-coeff-a", "-0.5"], "--cubic-coeff-a"),
        (["--scale", "2", "--onnx", "--mode", "linear", "--nearest-mode", "floor"], "--nearest-mode"),
        (["--scale", "2", "--bit-depth", "16", "-o", "OUT.jpg"], "--bit-depth"),
        (["--scale", "2", "-o", "OUT.xyz"], "-o/--output"),
    ],
)
def test_resize_errors_exit_2_naming_the_argument(capsys, files, tmp_path, argv, name):
    argv = [a.replace("OUT", str(tmp_path / "out")) for a in argv]
    if "-o" not in argv:
        argv += ["-o", str(tmp_path / "out.png")]
    rc, out, err = run_cli(capsys, "resize", files / "gray8.png", *argv)
    assert rc == 2
    assert f"argument {name}" in err and "Traceback" not in err
    assert not (tmp_path / "out.png").exists()


def test_resize_missing_file_and_output(capsys, tmp_path):
    rc, _, err = run_cli(capsys, "resize", tmp_path / "nope.png", "--scale", "2", "-o", tmp_path / "o.png")
    assert rc == 2 and "argument IMAGE" in err and "no such file" in err
    rc, _, err = run_cli(capsys, "resize", tmp_path / "nope.png", "--scale", "2")
    assert rc == 2 and "-o/--output" in err


# --------------------------------------------------------------------------
# upconv compare


def test_compare_default_image(capsys, tmp_path):
    fig = tmp_path / "cmp.png"
    rc, out, err = run_cli(capsys, "compare", "--size", "96", "--repeat", "1", "--figure", fig)
    assert rc == 0, err
    assert f"{cli_compare.DEFAULT_IMAGE} (built-in), 96×96" in out and "x4" in out
    assert "\033[" not in out  # no colour off a terminal
    rows = table_rows(out)
    assert set(rows) == set(UPSAMPLERS)
    assert sorted(r[0] for r in rows.values()) == list(range(1, len(UPSAMPLERS) + 1))
    psnr = {m: r[1] for m, r in rows.items()}
    assert list(sorted(psnr, key=lambda m: rows[m][0])) == sorted(psnr, key=lambda m: -psnr[m])
    assert psnr["bicubic"] > psnr["bilinear"] > psnr["nearest"]
    assert max(psnr["max-unpool"], psnr["bed_of_nails"]) < psnr["bilinear"] - 5
    assert {m for m, r in rows.items() if r[0] > len(UPSAMPLERS) - 2} == {"max-unpool", "bed_of_nails"}
    assert all(0 < r[2] <= 1 and r[3] >= 0 for r in rows.values())
    assert f"figure: {fig}" in out
    figure_is_nontrivial(fig)


def figure_is_nontrivial(path) -> None:
    from PIL import Image

    assert path.stat().st_size > 20_000
    with Image.open(path) as im:
        assert im.size[0] > 800 and im.size[1] > 200
        pixels = np.asarray(im.convert("L"), dtype=float)
    assert pixels.std() > 20


def test_compare_small_file_zone_plate(capsys, files, tmp_path):
    fig = tmp_path / "zone.png"
    rc, out, err = run_cli(capsys, "compare", files / "band.png", "--scale", "4", "--repeat", "1",
                           "--figure", fig, "--crop", "8,8,32,32")
    assert rc == 0, err
    assert "band.png" in out and "64×64 gray" in out
    rows = table_rows(out)
    assert set(rows) == set(UPSAMPLERS)
    psnr = {m: r[1] for m, r in rows.items()}
    assert psnr["bicubic"] > psnr["nearest"] + 3
    assert psnr["bicubic"] == max(psnr.values())
    assert max(psnr["max-unpool"], psnr["bed_of_nails"]) < psnr["bilinear"]
    figure_is_nontrivial(fig)


def test_compare_builtin_chart_methods_subset(capsys, tmp_path):
    rc, out, err = run_cli(capsys, "compare", "--image", "zone_plate", "--size", "48", "--scale", "2",
                           "--methods", "bicubic,nearest,max-unpool", "--repeat", "1", "--figure", tmp_path / "f.svg")
    assert rc == 0, err
    assert "zone_plate (built-in), 48×48 gray, x2" in out
    assert set(table_rows(out)) == {"bicubic", "nearest", "max-unpool"}
    assert (tmp_path / "f.svg").read_text().startswith("<?xml")


def test_compare_accepts_the_old_bed_of_nails_spelling(capsys):
    rc, out, err = run_cli(capsys, "compare", "--image", "zone_plate", "--size", "16", "--scale", "2",
                           "--methods", "bed-of-nails,nearest", "--repeat", "1")
    assert rc == 0, err
    assert set(table_rows(out)) == {"bed_of_nails", "nearest"}


def test_compare_trims_to_a_multiple_of_scale(capsys, tmp_path):
    write_image(tmp_path / "odd.png", data.photograph(gray=True)[:30, :43])
    rc, out, err = run_cli(capsys, "compare", tmp_path / "odd.png", "--scale", "4", "--repeat", "1",
                           "--methods", "bilinear")
    assert rc == 0, err
    assert "43×30 gray" in out and "trimmed to 40×28" in out and "-> 10×7" in out


@pytest.mark.parametrize(
    "argv, name",
    [
        (["--scale", "1"], "--scale"),
        (["--repeat", "0"], "--repeat"),
        (["--image", "text", "FILE"], "--image"),
        (["FILE", "--size", "32"], "--size"),
        (["--size", "0"], "--size"),
        (["--size", "6", "--scale", "4"], "--size"),
        (["--size", "3", "--scale", "4"], "--size"),
        (["--crop", "0,0,8,8"], "--crop"),
        (["--figure", "F.png", "--crop", "0,0,8"], "--crop"),
        (["--figure", "F.png", "--crop", "20,0,16,8", "--size", "32"], "--crop"),
        (["--figure", "F.gif"], "--figure"),
        (["--figure", "NODIR/F.png", "--size", "16", "--methods", "nearest"], "--figure"),
        (["--methods", "nearest,bogus"], "--methods"),
        (["--methods", ","], "--methods"),
        (["MISSING"], "IMAGE"),
    ],
)
def test_compare_errors_exit_2_naming_the_argument(capsys, files, tmp_path, argv, name):
    subs = {"FILE": str(files / "gray8.png"), "MISSING": str(tmp_path / "missing.png")}
    argv = [subs.get(a, a.replace("F.", str(tmp_path / "F.")).replace("NODIR", str(tmp_path / "nodir")))
            for a in argv]
    rc, out, err = run_cli(capsys, "compare", "--repeat", "1", *argv) if "--repeat" not in argv \
        else run_cli(capsys, "compare", *argv)
    assert rc == 2, (out, err)
    assert f"argument {name}" in err and "Traceback" not in err


def test_compare_table_colour_keeps_alignment():
    r = compare_upsamplers(band_limited_zone_plate(32, 2), 2, methods=["nearest", "bicubic"], repeat=1)
    plain = r.table_lines()
    coloured = r.table_lines(cli_compare._style(True))
    assert any("\033[" in line for line in coloured)
    assert [re.sub(r"\033\[[0-9;]*m", "", line) for line in coloured] == plain
    assert cli_compare._style(False)("x", "PSNR dB", 0) == "x"


# --------------------------------------------------------------------------
# upconv.compare (library)


@pytest.fixture(scope="module")
def band_result():
    return compare_upsamplers(band_limited_zone_plate(64, 4), 4, repeat=1)


def test_compare_upsamplers_scores_and_order(band_result):
    r = band_result
    assert r.scale == 4 and r.reference.shape == (64, 64) and r.low.shape == (16, 16)
    assert [s.method for s in r.scores] == sorted(UPSAMPLERS, key=lambda m: -r.score(m).psnr)
    assert r.best == "bicubic" and r.score("bicubic").psnr > r.score("nearest").psnr
    for m in ("max-unpool", "bed_of_nails"):
        assert r.score(m).psnr < r.score("bilinear").psnr and r.score(m).ssim < r.score("bilinear").ssim
    assert set(r.outputs) == set(UPSAMPLERS) and list(r.outputs) == list(UPSAMPLERS)
    assert all(o.shape == (64, 64) and o.min() >= 0 and o.max() <= 1 for o in r.outputs.values())
    assert all(s.description == UPSAMPLERS[s.method] and s.seconds >= 0 for s in r.scores)
    lines = r.table.splitlines()
    assert lines[0].split() == ["rank", "method", "PSNR", "dB", "SSIM", "time", "ms", "note"]
    assert len(lines) == 2 + len(UPSAMPLERS) and lines[2].split()[1] == "bicubic"
    assert max(map(len, lines)) <= 78
    with pytest.raises(ValueError, match=r"UpsamplerComparison.score: method must be one of .*'nearest'"):
        r.score("lanczos")


def test_compare_upsamplers_method_identities(band_result):
    """What each method is, checked on its output."""
    r, s = band_result, 4
    o = r.outputs
    low = r.low
    blocks = np.repeat(np.repeat(low, s, 0), s, 1)
    for m in ("nearest", "nearest-exact", "area", "unpool-nearest"):  # integer factor: all the same blocks
        np.testing.assert_allclose(o[m], blocks, rtol=0, atol=1e-12)
    nails = np.zeros_like(blocks)
    nails[::s, ::s] = low
    np.testing.assert_allclose(o["bed_of_nails"], nails, atol=1e-12)
    _, idx = upconv.max_pool(r.reference[None, None], s, return_indices=True)
    expect = np.zeros(blocks.size)
    expect[idx.ravel()] = low.ravel()
    np.testing.assert_allclose(o["max-unpool"].ravel(), expect, atol=1e-12)
    np.testing.assert_allclose(low, r.reference.reshape(16, s, 16, s).mean(axis=(1, 3)), atol=1e-12)


@pytest.mark.parametrize("s", [2, 3, 4])
def test_conv_transpose_and_resize_conv_equal_bilinear_inside(s):
    rng = np.random.default_rng(s)
    img = rng.random((3, 8 * s, 7 * s))
    r = compare_upsamplers(img, s, methods=["bilinear", "conv-transpose", "resize-conv"], repeat=1)
    inside = (slice(None), slice(s, -s), slice(s, -s))
    for m in ("conv-transpose", "resize-conv"):
        assert r.outputs[m].shape == img.shape
        np.testing.assert_allclose(r.outputs[m][inside], r.outputs["bilinear"][inside], rtol=0, atol=1e-12)
    # the borders reach into the zero padding: darker than bilinear
    assert r.outputs["conv-transpose"][:, 0, :].mean() < r.outputs["bilinear"][:, 0, :].mean()


@pytest.mark.parametrize("s", [1, 2, 3, 4, 5])
def test_smoothing_kernel_times_box_is_fcn_bilinear(s):
    from upconv.nn.init import bilinear_kernel

    f = smoothing_kernel(s)
    assert f.size % 2 == 1 and f.sum() == pytest.approx(1.0) and np.allclose(f, f[::-1])
    np.testing.assert_allclose(np.convolve(np.ones(s), f), bilinear_kernel(s, 1), atol=1e-12)


def test_compare_upsamplers_rgb_trimming_and_input_untouched():
    img = data.photograph()[:, :45, :50].astype(np.float32)
    before = img.copy()
    r = compare_upsamplers(img, 4, methods=["bicubic", "max-unpool"], repeat=2)
    np.testing.assert_array_equal(img, before)
    assert r.reference.shape == (3, 44, 48) and r.low.shape == (3, 11, 12)
    assert r.outputs["bicubic"].shape == (3, 44, 48) and r.reference.dtype == np.float64
    np.testing.assert_array_equal(r.reference, before[:, :44, :48])
    assert [s.method for s in r.scores] == ["bicubic", "max-unpool"]


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"scale": 1}, ValueError, r"compare_upsamplers: scale must be >= 2, got 1"),
        ({"scale": 2.0}, TypeError, r"compare_upsamplers: scale must be an integer"),
        ({"repeat": 0}, ValueError, r"compare_upsamplers: repeat must be >= 1"),
        ({"methods": ["nearest", "sinc"]}, ValueError, r"compare_upsamplers: methods must be one of .*'sinc'"),
        ({"methods": []}, ValueError, r"compare_upsamplers: methods must name at least one"),
        ({"methods": "nearest"}, TypeError, r"compare_upsamplers: methods must be a sequence"),
        ({"image": np.zeros((2, 3, 16, 16))}, ValueError, r"shape \(H, W\) or \(C, H, W\), got shape \(2, 3, 16, 16\)"),
        ({"image": np.full((16, 16), np.nan)}, ValueError, r"compare_upsamplers: image must be finite"),
        ({"image": np.array([["a"]])}, TypeError, r"compare_upsamplers: image must be a real numeric array"),
        ({"image": np.zeros((3, 40)), "scale": 4}, ValueError, r"smaller than scale=4"),
        ({"image": np.zeros((6, 40)), "scale": 6}, ValueError, r"too small for SSIM"),
    ],
)
def test_compare_upsamplers_errors(kwargs, exc, match):
    kwargs = {"image": np.zeros((16, 16)), "scale": 2, **kwargs}
    with pytest.raises(exc, match=match):
        compare_upsamplers(kwargs.pop("image"), **kwargs)


def test_plot_comparison_is_deterministic(band_result, tmp_path):
    pytest.importorskip("matplotlib")
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    fig = plot_comparison(band_result, a)
    plot_comparison(band_result, b)
    assert a.read_bytes() == b.read_bytes()
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 2 + len(UPSAMPLERS)
    assert images[2].get_title().startswith("bicubic\n")
    fig = plot_comparison(band_result, crop=(0, 0, 20, 12), columns=4)
    assert [ax for ax in fig.axes if ax.images][0].images[0].get_array().shape == (12, 20)
    with pytest.raises(ValueError, match=r"plot_comparison: crop \(x, y, width, height\) must lie inside"):
        plot_comparison(band_result, crop=(60, 0, 8, 8))
    with pytest.raises(ValueError, match=r"plot_comparison: path must end in"):
        plot_comparison(band_result, tmp_path / "x.gif")
    with pytest.raises(TypeError, match=r"plot_comparison: result must be an UpsamplerComparison"):
        plot_comparison({"scores": ()})


def test_default_crop():
    assert default_crop((96, 96)) == (24, 24, 48, 48)
    assert default_crop((1, 5)) == (2, 0, 1, 1)
