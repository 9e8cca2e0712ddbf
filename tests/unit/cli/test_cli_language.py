"""A command line that speaks its own language (issue 18, section 3) and keeps files safe (issue 17, section 2).

Errors name options, not Python parameters; Ctrl-C exits 130 with one line;
missing extras name their install command; every table or verdict command
has --json and --quiet; progress only on a terminal; one size convention;
antialiased shrinking; -o naming the input refused without --force; output
paths checked before the work.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import upconv
from upconv.cli import _errors, main
from upconv.images import samples as data
from upconv.images.files import read_image, write_image

pytest.importorskip("PIL")


def run_cli(capsys, *argv: object) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def error_line(err: str) -> str:
    return err.strip().splitlines()[-1]


# --------------------------------------------------------------------------
# errors in the CLI's words


@pytest.mark.parametrize(
    "argv, expected, absent",
    [
        (["plan", "7", "14", "--dims", "0"], "upconv plan: error: argument --dims: must be >= 1, got 0", ["ndim"]),
        (["plan", "36", "572", "--layers", "4"], "tighten --max-kernel, --max-stride, --max-padding or --min-stride, "
         "or pass --identical", ["max_kernel", "identical=True", "error: plan:"]),
        (["explain", "--size", "2", "--padding", "5"], "(--size 2, --kernel-size 3, --stride 2, --padding 5, "
         "--output-padding 0, --dilation 1)", ["conv_transpose_geometry", "padding=((5, 5),)"]),
        (["explain", "--figure", "a.gif"], "upconv explain: error: argument --figure: must end in .png, .svg or .pdf, "
         "got 'a.gif'", ["upconv explain: path"]),
        (["checkerboard", "--kernel", "3", "--in-size", "1"], "argument --in-size: --in-size 1 is too small",
         ["in_size", "overlap_map"]),
    ],
)
def test_errors_name_options_not_parameters(capsys, tmp_path, monkeypatch, argv, expected, absent):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 2 and out == ""
    assert expected in err, err
    assert not any(a in err for a in absent), err
    assert err.count(f"upconv {argv[0]}: ") == 1 and "Traceback" not in err


def test_weights_that_are_not_npy(capsys, tmp_path):
    text = tmp_path / "text.png"
    text.write_text("hello")
    rc, _, err = run_cli(capsys, "checkerboard", "--weights", text)
    assert rc == 2 and "allow_pickle" not in err
    assert f"argument --weights: '{text}' is not a .npy file (an array saved by numpy.save)" in err
    objects = tmp_path / "objects.npy"
    np.save(objects, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    rc, _, err = run_cli(capsys, "explain", "--kernel", objects, "--kernel-size", "1")
    assert rc == 2 and "allow_pickle" not in err and "holds Python objects, not numbers" in err


def test_in_cli_words_mechanism():
    params = {"ndim": "--dims", "kernel_size": "--kernel-size", "padding": "--padding", "identical=True": "--identical",
              "max_kernel": "--max-kernel", "input": "--size"}
    words = _errors.in_cli_words
    assert words("plan: ndim must be >= 1, got 0", params) == "argument --dims: must be >= 1, got 0"
    assert words("f: with kernel_size=(3, 4) and padding=((1, 1), (2, 2)) (input (5, 6))", params) == \
        "with --kernel-size 3,4 and --padding 1,2 (--size 5,6)"
    assert words("f: kernel_size=(3, 3) is too large", params) == "argument --kernel-size: --kernel-size 3 is too large"
    assert words("f: tighten max_kernel or pass identical=True", params) == "tighten --max-kernel or pass --identical"
    assert words("argument --figure: upconv explain: path must end in .png", params) == \
        "argument --figure: must end in .png"
    assert words("f: the padding is too large (default 2)", params) == "the padding is too large (default 2)"
    assert words("argument --kernel: blur_kernel: box sizes must be positive", params) == \
        "argument --kernel: box sizes must be positive"


def test_missing_extra_names_the_install_command(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails as if not installed
    rc, out, err = run_cli(capsys, "checkerboard", "--kernel", "3", "--figure", tmp_path / "o.png")
    assert rc == 2 and out == ""  # refused before any work
    assert "pip install 'upconv[image]'" in err and "Traceback" not in err
    exc = ModuleNotFoundError("No module named 'sympy'", name="sympy")
    assert _errors.missing_extra(exc) == "No module named 'sympy'; install it with: pip install 'upconv[symbolic]'"


def test_experiment_without_pillow_uses_the_same_images():
    """Without Pillow the experiment decodes its built-in photograph itself: the same numbers, not synthetic
    images (35.85 dB instead of 21.40 dB before)."""
    code = ("import sys; sys.modules['PIL'] = None\n"
            "from upconv.cli import main\n"
            "sys.exit(main(['experiment', 'checkerboard', '--quick', '--json']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["config"]["images"] == "upconv.data: astronaut_gray"
    assert round(doc["reference"]["psnr_db"], 2) == 21.40


# --------------------------------------------------------------------------
# Ctrl-C


def test_ctrl_c_is_one_line_and_status_130(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr("upconv.cli.plan.run", interrupted)
    rc, out, err = run_cli(capsys, "plan", "7", "14")
    assert rc == 130 and out == ""
    assert err == "upconv plan: interrupted\n"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_in_a_real_run(tmp_path):
    code = ("import sys\n"
            "from upconv.cli import main\n"
            "import upconv.studies.experiment\n"
            "print('ready', file=sys.stderr, flush=True)\n"
            "sys.exit(main(['experiment', 'checkerboard', '--epochs', '50']))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None and proc.stderr.readline() == "ready\n"
    time.sleep(1.0)  # training under way
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["upconv experiment: interrupted"]


# --------------------------------------------------------------------------
# --json and --quiet


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    d = tmp_path_factory.mktemp("json")
    write_image(d / "photo.png", data.photograph()[:, :40, :60])
    return d / "photo.png"


def json_commands(photo, tmp_path):
    return {
        "explain": ["explain"],
        "plan": ["plan", "7", "14"],
        "checkerboard": ["checkerboard", "--kernel", "4", "--stride", "2", "--padding", "1"],
        "compare": ["compare", "--size", "32", "--methods", "bicubic,nearest", "--repeat", "1"],
        "experiment": ["experiment", "checkerboard", "--quick", "--epochs", "1"],
        "deconvolve": ["deconvolve", "--demo", "--size", "16", "--iterations", "2"],
        "resize": ["resize", photo, "--scale", "0.5", "-o", tmp_path / "half.png"],
    }


@pytest.mark.parametrize("command", ["explain", "plan", "checkerboard", "compare", "experiment", "deconvolve",
                                     "resize"])
def test_json_is_one_document_and_nothing_else(capsys, photo, tmp_path, monkeypatch, command):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)  # even on a terminal: no progress
    monkeypatch.setattr("upconv.cli._progress.DELAY", 0.0)
    rc, out, err = run_cli(capsys, *json_commands(photo, tmp_path)[command], "--json")
    assert rc == 0 and err == ""
    doc = json.loads(out)  # the whole of stdout is one JSON document
    assert doc["command"] == command and doc["version"] == upconv.__version__
    if command == "plan":
        assert doc["rows"][0]["overlap_ratio"] == 1.0 and doc["rows"][0]["layers"][0]["kernel_size"] == 2
    if command == "checkerboard":
        assert doc["geometry"] == "artifact-free" and "weights decide the rest" in doc["scope"]
        assert doc["layers"][0]["padding"] == [1]
    if command == "compare":
        assert {r["method"] for r in doc["rows"]} == {"bicubic", "nearest"}
        assert all({"psnr_db", "ssim", "time_ms"} <= set(r) for r in doc["rows"])
    if command == "resize":
        assert doc["input"]["size"] == {"width": 60, "height": 40} and doc["output"]["size"] == {"width": 30,
                                                                                                 "height": 20}
        assert doc["antialias"] is True
    if command == "deconvolve":
        assert all("psnr_db" in r for r in doc["rows"])
    if command == "experiment":
        assert {"init", "trained"} <= set(doc["rows"][0]["psnr_db"])
    if command == "explain":
        assert doc["check"]["agreement"] == "exact" and doc["output"][2] == [4, 4, 10, 6, 6]


@pytest.mark.parametrize("command", ["explain", "plan", "checkerboard", "compare", "experiment", "deconvolve"])
def test_quiet_prints_one_line(capsys, photo, tmp_path, command):
    rc, out, err = run_cli(capsys, *json_commands(photo, tmp_path)[command], "--quiet")
    assert rc == 0 and err == ""
    assert len(out.splitlines()) == 1, out


def test_resize_quiet_prints_nothing(capsys, photo, tmp_path):
    rc, out, err = run_cli(capsys, *json_commands(photo, tmp_path)["resize"], "--quiet")
    assert rc == 0 and out == err == "" and (tmp_path / "half.png").exists()


def test_json_and_quiet_exclude_each_other(capsys):
    rc, _, err = run_cli(capsys, "plan", "7", "14", "--json", "--quiet")
    assert rc == 2 and "not allowed with argument" in err


# --------------------------------------------------------------------------
# progress


def test_progress_only_on_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr("upconv.cli._progress.DELAY", 0.0)
    argv = ["compare", "--size", "32", "--methods", "bicubic,nearest", "--repeat", "1"]
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 0 and err == ""  # not a terminal: no progress
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 0 and "upconv compare: nearest [" in err and "\r" in err
    assert err.endswith("\r")  # erased at the end
    rc, out, err = run_cli(capsys, *argv, "--quiet")
    assert rc == 0 and err == ""


# --------------------------------------------------------------------------
# one size convention, one alpha handling


def test_resize_and_deconvolve_print_width_x_height_and_keep_alpha(capsys, tmp_path):
    rgba = np.random.default_rng(0).random((4, 20, 30))  # 30 wide, 20 high
    src = tmp_path / "rgba.png"
    write_image(src, rgba)
    rc, out_r, _ = run_cli(capsys, "resize", src, "--scale", "1", "-o", tmp_path / "r.png")
    rc2, out_d, _ = run_cli(capsys, "deconvolve", src, "--iterations", "2", "-o", tmp_path / "d.png")
    assert rc == rc2 == 0
    assert "30×20 RGBA 8-bit ->" in out_r and "30×20 RGBA 8-bit ->" in out_d
    shapes = [read_image(tmp_path / name, alpha="keep")[0].shape for name in ("r.png", "d.png")]
    assert shapes == [(4, 20, 30)] * 2


# --------------------------------------------------------------------------
# antialiased shrinking, every mode


def test_resize_antialiases_when_shrinking(capsys, tmp_path):
    zone = data.zone_plate(128)
    src = tmp_path / "zone.png"
    write_image(src, zone, bit_depth=16)
    x = read_image(src, dtype=np.float64)[0][None, None]
    for flag, antialias in (([], True), (["--no-antialias"], False)):
        rc, out, _ = run_cli(capsys, "resize", src, "--scale", "0.25", *flag, "-o", tmp_path / "small.png")
        assert rc == 0 and (", antialias" in out) == antialias
        expected = upconv.interpolate(x, scale_factor=0.25, mode="bicubic", antialias=antialias)[0, 0]
        back = read_image(tmp_path / "small.png")[0]
        np.testing.assert_allclose(back, np.clip(expected, 0, 1), atol=0.5 / 65535 + 1e-12)
    rc, out, _ = run_cli(capsys, "resize", src, "--scale", "2", "-o", tmp_path / "big.png")
    assert rc == 0 and ", antialias" not in out  # enlarging: the same either way


def test_resize_offers_lanczos(capsys, tmp_path):
    src = tmp_path / "photo.png"
    write_image(src, data.photograph()[:, :32, :32])
    rc, out, err = run_cli(capsys, "resize", src, "--scale", "0.5", "--mode", "lanczos", "-o", tmp_path / "l.png")
    assert rc == 0, err
    x = read_image(src, dtype=np.float32)[0]
    expected = upconv.interpolate(x[None], scale_factor=0.5, mode="lanczos", antialias=True)[0]
    np.testing.assert_allclose(read_image(tmp_path / "l.png")[0], np.clip(expected, 0, 1), atol=0.5 / 255 + 1e-6)


def test_resize_huge_scale_is_a_clear_error(capsys, tmp_path):
    src = tmp_path / "photo.png"
    write_image(src, data.photograph()[:, :8, :8])
    for extra in ([], ["--onnx"]):
        rc, _, err = run_cli(capsys, "resize", src, "--scale", "1e308", *extra, "-o", tmp_path / "x.png")
        assert rc == 2 and "OverflowError" not in err and "Traceback" not in err
        assert "argument --scale:" in err and "beyond 2**63" in err


# --------------------------------------------------------------------------
# checkerboard: --padding and what the verdict is about


def test_checkerboard_padding_and_geometry_verdict(capsys):
    rc, out, err = run_cli(capsys, "checkerboard", "--kernel", "4", "--stride", "2", "--padding", "1")
    assert rc == 0, err
    flat = " ".join(out.split())
    assert "overlap ratio: 1 (max 2 / min 2): even overlap (artifact-free geometry)" in flat
    assert "the weights decide the rest" in flat and "dc_gain_spread" in flat and "--weights" in flat
    rc, out, _ = run_cli(capsys, "checkerboard", "--kernel", "4", "--stride", "2", "--then", "4:2:1:1")
    assert rc == 0 and "padding" in out


# --------------------------------------------------------------------------
# files: -o naming the input, output checked before the work


@pytest.mark.parametrize("command", ["resize", "deconvolve"])
def test_output_naming_the_input_needs_force(capsys, tmp_path, command):
    src = tmp_path / "X.png"
    write_image(src, data.photograph()[:, :16, :16])
    before = src.read_bytes()
    extra = ["--scale", "2"] if command == "resize" else ["--iterations", "2"]
    rc, _, err = run_cli(capsys, command, src, *extra, "-o", src)
    assert rc == 2 and "is the input file" in err and "--force" in err
    assert src.read_bytes() == before
    rc, _, err = run_cli(capsys, command, src, *extra, "-o", src, "--force")
    assert rc == 0, err
    assert src.read_bytes() != before and sorted(os.listdir(tmp_path)) == ["X.png"]


def test_outputs_are_checked_before_the_work(capsys, tmp_path, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the work started before the output was checked")

    monkeypatch.setattr("upconv.studies.deblur.deblur_image", no_work)
    monkeypatch.setattr("upconv.studies.experiment.checkerboard_experiment", no_work)
    monkeypatch.setattr("upconv.studies.deblur.deblur_study", no_work)
    src = tmp_path / "in.png"
    write_image(src, data.photograph()[:, :16, :16])
    for argv, option in (
        (["deconvolve", src, "-o", tmp_path / "nodir" / "x.png"], "-o/--output"),
        (["deconvolve", src, "-o", tmp_path / "x.xyz"], "-o/--output"),
        (["deconvolve", "--demo", "--figure", tmp_path / "nodir" / "d.png"], "--figure"),
        (["experiment", "checkerboard", "--figure", tmp_path / "nodir" / "e.png"], "--figure"),
        (["resize", src, "--scale", "2", "-o", tmp_path / "nodir" / "r.png"], "-o/--output"),
        (["compare", "--figure", tmp_path / "nodir" / "c.png"], "--figure"),
    ):
        rc, _, err = run_cli(capsys, *argv)
        assert rc == 2 and f"argument {option}: cannot" in err, err
