"""The command line: ``upconv explain`` and the ``upconv`` entry point."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import upconv
from upconv.cli import _format as fmt
from upconv.cli import explain, main
from upconv.ops.convolution import CONV_TRANSPOSE_METHODS

SEED_RESULT = [[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6], [3, 3, 7, 4, 4], [3, 3, 7, 4, 4]]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def normalized(out: str) -> list[str]:
    return [" ".join(line.split()) for line in out.splitlines()]


def grid_after(out: str, label: str) -> np.ndarray:
    """The grid printed on the lines after the line starting with ``label`` (up to a blank line)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(label))
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows.append([float(t) for t in line.split()])
    return np.array(rows)


def count_block(out: str, rows: list[list[int]]) -> int:
    """How often ``rows`` appear as consecutive lines (each line may have other blocks to its left)."""
    want = [" ".join(map(str, r)) for r in rows]
    lines = normalized(out)
    return sum(
        all(line == w or line.endswith(" " + w) for line, w in zip(lines[i : i + len(want)], want, strict=True))
        for i in range(len(lines) - len(want) + 1)
    )


def config(*argv: str) -> explain.Config:
    import argparse

    sub = argparse.ArgumentParser().add_subparsers()
    return explain._config(explain.add_parser(sub).parse_args(list(argv)))


# --------------------------------------------------------------------------
# upconv explain


def test_default_is_the_seed_example(capsys):
    rc, out, err = run_cli(capsys, "explain")
    assert rc == 0 and err == ""
    lines = normalized(out)
    assert "out = (in - 1)*s - 2p + d*(k - 1) + output_padding + 1" in lines
    assert "H: (2 - 1)*2 - 2*0 + 1*(3 - 1) + 0 + 1 = 5" in lines
    assert "W: (2 - 1)*2 - 2*0 + 1*(3 - 1) + 0 + 1 = 5" in lines
    assert count_block(out, [[1, 2], [3, 4]]) >= 1  # input x = [[1, 2], [3, 4]]
    # the result of every view, all four computed by upconv, and conv's input gradient
    assert count_block(out, SEED_RESULT) == 5
    np.testing.assert_array_equal(grid_after(out, "interleaved"), SEED_RESULT)
    # scatter: the four stamps and the overlap-count map
    assert "x[0,0] = 1 x[0,1] = 2 x[1,0] = 3 x[1,1] = 4" in lines
    assert count_block(out, [[1, 1, 2, 1, 1, 1, 1, 3, 2, 2], [2, 2, 4, 2, 2, 4, 4, 10, 6, 6]]) == 1
    # zero insertion: the 7 x 7 intermediate image
    assert "intermediate (7 × 7) flipped kernel result (5 × 5)" in lines
    assert count_block(out, [[0, 0, 1, 0, 2, 0, 0, 1, 1, 1, 4, 4, 10, 6, 6]]) == 1
    # matrix: C is 4 x 25 and C^T is printed (25 rows, one per output pixel)
    assert "C: 4 × 25 (36 stored entries)" in lines
    assert "2,2 | 1 1 1 1" in lines
    # phase: residue classes and the taps that land in them
    assert "H: o ≡ 0 (mod 2): 3 outputs, taps 0, 2" in lines
    assert "o ≡ 1 (mod 2): 2 outputs, tap 1" in lines
    assert lines[-3] == "All 4 views agree exactly (np.array_equal): max |difference| = 0"
    assert "\033[" not in out  # not a terminal: no colour


def test_default_fits_80_columns_and_has_all_sections(capsys):
    rc, out, _ = run_cli(capsys, "explain")
    assert rc == 0
    assert max(map(len, out.splitlines())) <= 80
    for title in ("kernel stamping", "zero insertion", "the transposed matrix", "phase (polyphase)"):
        assert sum(title in line for line in out.splitlines()) == 1
    assert out.splitlines()[0].startswith("upconv explain: transposed convolution, 2 × 2 → 5 × 5")


def test_one_dimensional_with_padding_and_output_padding(capsys):
    rc, out, _ = run_cli(
        capsys, "explain", "--size", "5", "--kernel", "1,2,1", "--padding", "1", "--output-padding", "1"
    )
    assert rc == 0
    lines = normalized(out)
    assert "L: (5 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 10" in lines
    # stamps 1*[1 2 1], 2*[1 2 1], ... at 2j - 1 (the first one cropped), sum, overlap count
    assert "x[0] = 1: 2 1 . . . . . . . ." in lines
    assert "x[1] = 2: . 2 4 2 . . . . . ." in lines
    assert "sum: 2 3 4 5 6 7 8 9 10 5 (the result)" in lines
    assert "overlap: 1 2 1 2 1 2 1 2 1 1 (stamps per pixel)" in lines
    assert "L: insert 1 zero, pad 1 before and 2 after" in lines
    np.testing.assert_array_equal(grid_after(out, "interleaved")[0], [2, 3, 4, 5, 6, 7, 8, 9, 10, 5])
    assert max(map(len, out.splitlines())) <= 80


def test_three_dimensional(capsys):
    rc, out, _ = run_cli(capsys, "explain", "--size", "2,2,2", "--kernel-size", "2")
    assert rc == 0
    lines = normalized(out)
    assert "D: (2 - 1)*2 - 2*0 + 1*(2 - 1) + 0 + 1 = 4" in lines
    assert "8 stamps (printed one by one only for 1-d and 2-d inputs of at most 16" in lines
    assert "[0, :, :] [1, :, :] [2, :, :] [3, :, :]" in lines  # 2-d slices of the 4 x 4 x 4 output
    assert "C: 8 × 64 (64 stored entries)" in lines
    assert "8 classes: every combination of the per-axis classes above" in lines
    assert "All 4 views agree exactly (np.array_equal): max |difference| = 0" in lines
    assert max(map(len, out.splitlines())) <= 80


def test_dilation_with_output_padding_beyond_stride(capsys):
    # torch.nn.functional.conv_transpose1d([1, 10, 100], [1, 2, 3], stride=1, dilation=2, output_padding=1)
    rc, out, _ = run_cli(
        capsys, "explain", "--size", "3", "--input", "1 10 100", "--kernel", "1;2;3",
        "--stride", "1", "--dilation", "2", "--output-padding", "1",
    )
    assert rc == 0
    lines = normalized(out)
    assert "L: (3 - 1)*1 - 2*0 + 2*(3 - 1) + 1 + 1 = 8" in lines
    assert "x[2] = 100: . . 100 . 200 . 300 ." in lines  # taps d = 2 apart
    assert "(output_padding >= stride: C keeps the first 3 of its outputs as rows)" in lines
    np.testing.assert_array_equal(grid_after(out, "interleaved")[0], [1, 10, 102, 20, 203, 30, 300, 0])


def test_per_axis_parameters_and_values(capsys):
    argv = ["--size", "2x3", "--kernel-size", "3,2", "--stride", "2,1", "--padding", "1,0",
            "--output-padding", "1,0", "--input", "1,2,3;4,5,6", "--kernel", "arange"]
    rc, out, _ = run_cli(capsys, "explain", *argv)
    assert rc == 0
    lines = normalized(out)
    assert "H: (2 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 4" in lines
    assert "W: (3 - 1)*1 - 2*0 + 1*(2 - 1) + 0 + 1 = 4" in lines
    x = np.array([[1.0, 2, 3], [4, 5, 6]])
    w = np.arange(1.0, 7.0).reshape(3, 2)
    want = upconv.conv_transpose(x[None, None], w[None, None], stride=(2, 1), padding=(1, 0),
                                 output_padding=(1, 0))[0, 0]
    np.testing.assert_array_equal(grid_after(out, "interleaved"), want)
    assert "0 1 2 3 0 4 3 9 29 43 30" in lines  # rows of the intermediate, flipped kernel and result


def test_non_integer_values_and_npy_files(capsys, tmp_path):
    x = np.array([[0.5, -1.25, 2.0]])
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "w.npy", np.array([[1.0, 0.5], [0.25, 2.0]]))
    rc, out, _ = run_cli(capsys, "explain", "--input", str(tmp_path / "x.npy"), "--kernel", str(tmp_path / "w.npy"))
    assert rc == 0
    lines = normalized(out)
    assert "input x (1 × 3) kernel w (2 × 2)" in lines  # sizes taken from the .npy files
    assert "0.5 -1.25 2 1 0.5" in lines  # not all integral: printed as decimals
    want = upconv.conv_transpose(x[None, None], np.array([[[[1.0, 0.5], [0.25, 2.0]]]]), stride=2)[0, 0]
    np.testing.assert_allclose(grid_after(out, "interleaved"), want)
    assert any(line.startswith("All 4 views agree") for line in lines)


def test_method_shows_one_view_but_checks_all(capsys):
    rc, out, _ = run_cli(capsys, "explain", "--method", "zero-insertion")
    assert rc == 0
    assert "View: zero insertion  (method='zero_insertion')" in out
    assert "kernel stamping" not in out and "polyphase" not in out
    assert "All 4 views agree exactly" in out


@pytest.mark.parametrize(
    "argv, name",
    [
        (["--stride", "0"], "--stride"),
        (["--size", "2,0"], "--size"),
        (["--stride", "two"], "--stride"),
        (["--input", "1,2,3"], "--input"),
        (["--kernel", "1,2"], "--kernel"),
        (["--input", "1,2,x,4"], "--input"),
        (["--input", "1,nan,3,4"], "--input"),
        (["--kernel-size", "3,3,3"], "--kernel-size"),
        (["--method", "fft"], "--method"),
        (["--input", "missing.npy"], "--input"),
        (["--output-padding", "2"], "argument --output-padding: must be smaller"),  # rejected by upconv.shapes
        (["--size", "2", "--padding", "5"], "output size is too small"),
    ],
)
def test_invalid_arguments_exit_2_naming_the_argument(capsys, argv, name):
    rc, out, err = run_cli(capsys, "explain", *argv)
    assert rc == 2
    assert out == ""
    assert "upconv explain: error: " in err and name in err
    assert "Traceback" not in err


def test_input_count_message(capsys):
    rc, _, err = run_cli(capsys, "explain", "--input", "1,2,3")
    assert rc == 2
    assert err.strip() == "upconv explain: error: argument --input: expected 2 × 2 = 4 values, row-major, got 3"


def test_library_memory_error_is_reported(capsys, monkeypatch):
    monkeypatch.setenv("UPCONV_MEMORY_LIMIT", "100")
    rc, out, err = run_cli(capsys, "explain")
    assert rc == 2 and out == ""
    # the CLI's words: the library function's name is dropped (issue 18)
    assert err.startswith("upconv explain: error: the output of shape ") and "memory limit" in err


def test_disagreeing_methods_exit_1(capsys, monkeypatch):
    phase = CONV_TRANSPOSE_METHODS["phase"]
    monkeypatch.setitem(CONV_TRANSPOSE_METHODS, "phase", lambda *a: phase(*a) + 0.5)
    rc, out, _ = run_cli(capsys, "explain", "--method", "scatter")
    assert rc == 1
    assert "The views DISAGREE: max |difference| = 0.5 (phase vs scatter)" in out


# --------------------------------------------------------------------------
# what the views print is what the library computes


CONFIGS = [
    ("--size", "2,2"),
    ("--size", "5", "--kernel", "1,2,1", "--padding", "1", "--output-padding", "1"),
    ("--size", "3", "--stride", "1", "--dilation", "2", "--output-padding", "1"),
    ("--size", "3,2", "--kernel-size", "2,3", "--stride", "3,1", "--padding", "3,0", "--kernel", "arange"),
    ("--size", "4", "--kernel-size", "2", "--stride", "1", "--padding", "2", "--kernel", "arange"),
    ("--size", "2,2,2", "--kernel-size", "2,3,1", "--dilation", "2,1,1", "--padding", "1,0,0"),
]


@pytest.mark.parametrize("argv", CONFIGS)
def test_shown_intermediates_reproduce_the_result(argv):
    c = config(*argv)
    result = c.transpose(c.x, c.w)
    views = c.compute_views(("stamping", "zero_insertion", "matrix"), steps=True, jacobian=False)
    crop = (slice(None),) + views.stamping.crop_slices
    stamps = list(zip(views.stamping.stamps[crop], views.stamping.reach[crop], strict=True))
    np.testing.assert_array_equal(sum(s for s, _ in stamps), result)
    np.testing.assert_array_equal(sum(m.astype(int) for _, m in stamps),
                                  c.transpose(np.ones(c.size), np.ones(c.kernel_size)))
    intermediate = views.zero_insertion.padded
    redo = upconv.conv(intermediate[None, None], np.flip(c.w)[None, None], dilation=c.dilation)[0, 0]
    np.testing.assert_array_equal(redo, result)
    C = views.matrix.C
    assert C.shape == (np.prod(c.size), np.prod(c.out_size))
    np.testing.assert_array_equal((C.T @ c.x.ravel()).reshape(c.out_size), result)


@pytest.mark.parametrize("argv", CONFIGS)
def test_every_line_fits_80_columns(capsys, argv):
    rc, out, _ = run_cli(capsys, "explain", *argv)
    assert rc == 0
    assert max(map(len, out.splitlines())) <= 80


# --------------------------------------------------------------------------
# layout helpers


def test_format_integers_without_decimal_point():
    assert fmt.grid(np.array([[1.0, -2.0], [3.0, 40.0]])) == [" 1 -2", " 3 40"]
    assert fmt.grid(np.array([0.5, 2.0])) == ["0.5   2"]
    assert fmt.array_lines(np.zeros((40, 40))) == ["(40 × 40 array, too large to print here)"]


def test_printer_colour_and_ascii_fallback(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = Tty()
    fmt.Printer(tty).header("Check")
    assert tty.getvalue() == "\033[1mCheck\033[0m\n"
    monkeypatch.setenv("NO_COLOR", "1")
    tty = Tty()
    fmt.Printer(tty).header("Check")
    assert tty.getvalue() == "Check\n"
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    fmt.Printer(stream)("Cᵀ·vec(x): 2 × 2, o ≡ 1")
    stream.flush()
    assert raw.getvalue() == b"C^T*vec(x): 2 x 2, o = 1\n"


# --------------------------------------------------------------------------
# the entry point


def test_help(capsys):
    rc, out, _ = run_cli(capsys, "--help")
    assert rc == 0 and "explain" in out and "--version" in out
    rc, out, _ = run_cli(capsys, "explain", "-h")
    assert rc == 0
    for option in ("--size", "--kernel-size", "--stride", "--padding", "--output-padding", "--dilation",
                   "--input", "--kernel", "--method"):
        assert option in out
    assert max(map(len, out.splitlines())) <= 80


def test_no_command_is_a_usage_error(capsys):
    rc, _, err = run_cli(capsys)
    assert rc == 2 and "upconv: error:" in err


def test_version_in_process(capsys):
    rc, out, _ = run_cli(capsys, "--version")
    assert rc == 0 and out.strip() == f"upconv {upconv.__version__}"


def test_python_dash_m_with_an_ascii_terminal(tmp_path):
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    proc = subprocess.run(
        [sys.executable, "-m", "upconv", "explain", "--method", "matrix"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "C^T: 25 x 4" in proc.stdout  # Unicode symbols fall back to ASCII
    assert "All 4 views agree exactly" in proc.stdout


def test_console_script_version():
    # how fast it starts is benchmarks/bench_cold_start.py's business: a busy machine makes timings flaky
    script = shutil.which("upconv")
    if script is None:
        pytest.skip("the upconv console script is not installed (pip install -e .)")
    proc = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"upconv {upconv.__version__}"


def fresh_python(code: str) -> str:
    """What ``code`` prints in a new interpreter (no PYTHONSTARTUP), stripped; it must succeed."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_import_is_light():
    code = (
        "import sys, upconv.cli; upconv.cli.build_parser(); "
        "print(sorted(m for m in ('matplotlib', 'sympy', 'torch', 'upconv.kernels._native', 'onnx', 'PIL') "
        "if m in sys.modules))"
    )
    assert fresh_python(code) == "[]"


def test_a_command_imports_only_its_own_module(tmp_path):
    """``upconv resize`` builds its own sub-parser only: none of the explaining tools, no Pillow plugin beyond
    the common formats' (the first call's time: benchmarks/README.md)."""
    from upconv.images.files import write_image

    write_image(tmp_path / "in.png", np.zeros((4, 4, 3)))
    code = (
        "import sys\nfrom upconv.cli import main\n"
        f"rc = main(['resize', {str(tmp_path / 'in.png')!r}, '-o', {str(tmp_path / 'out.png')!r}, "
        "'--scale', '2', '--quiet'])\n"
        "print(rc, sorted(m for m in sys.modules if m.startswith(('upconv.cli.', 'upconv.explain.views', "
        "'upconv.figures', 'PIL.TiffImagePlugin', 'PIL.WebPImagePlugin'))))"
    )
    rc, modules = fresh_python(code).split(" ", 1)
    assert rc == "0"
    assert "upconv.cli.resize" in modules
    assert not any(f"'{m}'" in modules for m in ("upconv.cli.explain", "upconv.cli.serve", "upconv.explain.views",
                                                 "upconv.figures", "PIL.TiffImagePlugin", "PIL.WebPImagePlugin"))


def test_help_and_a_mistyped_command_still_name_every_command(capsys):
    rc, out, _ = run_cli(capsys, "--help")
    assert rc == 0
    for name in upconv.cli.COMMANDS:
        assert name in out
    rc, _, err = run_cli(capsys, "resiz", "x.png")
    assert rc == 2 and "invalid choice: 'resiz'" in err and all(name in err for name in upconv.cli.COMMANDS)
    rc, out, _ = run_cli(capsys, "resize", "--help")  # the chosen command's own options
    assert rc == 0 and "--scale" in out


def test_colour_only_on_a_terminal(capsys):
    rc, out, _ = run_cli(capsys, "explain", "--size", "1")
    assert rc == 0 and not re.search("\033\\[", out)


def test_missing_optional_dependency_is_a_clean_error(capsys, monkeypatch, tmp_path):
    """Without Pillow (the [image] extra) an image command says what to install, without a traceback."""
    import builtins

    src = tmp_path / "in.png"
    src.write_bytes(b"not read: Pillow is missing")
    real_import = builtins.__import__

    def no_pillow(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ModuleNotFoundError("No module named 'PIL'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pillow)
    rc = main(["resize", str(src), "--scale", "2", "-o", str(tmp_path / "out.png")])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "needs Pillow: pip install 'upconv[image]'" in err and "Traceback" not in err
