"""``upconv explain --matrix / --symbolic / --figure / --animate``."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import upconv
from upconv.cli import main

Image = pytest.importorskip("PIL.Image")


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def normalized(out: str) -> list[str]:
    return [" ".join(line.split()) for line in out.splitlines()]


def fits(out: str) -> bool:
    return max(map(len, out.splitlines())) <= 80


def test_matrix_prints_c_and_its_transpose_instead_of_the_views(capsys):
    rc, out, err = run_cli(capsys, "explain", "--matrix")
    assert rc == 0 and err == "" and fits(out)
    lines = normalized(out)
    assert "View 1 of 4" not in out and "Convolution matrix C and its transpose" in lines
    assert "C: 4 × 25 (36 stored entries, 36% of all)" in lines
    assert "Cᵀ: 25 × 4" in lines
    C = upconv.conv_matrix((5, 5), np.ones((1, 1, 3, 3)), stride=2, dense=True)
    row0 = " ".join("1" if v else "." for v in C[0])
    assert f"0,0 | {row0}" in lines
    assert "2,2 | 1 1 1 1" in lines  # C^T: the centre output pixel gets all four stamps
    assert lines[-3] == "All 4 views agree exactly (np.array_equal): max |difference| = 0"


def test_matrix_with_method_also_shows_that_view(capsys):
    rc, out, _ = run_cli(capsys, "explain", "--matrix", "--method", "phase")
    assert rc == 0 and "View: phase (polyphase) decomposition" in out and "Convolution matrix C" in out


def test_matrix_sparse_summary_when_large(capsys):
    rc, out, _ = run_cli(capsys, "explain", "--size", "6,6", "--kernel-size", "4", "--padding", "1", "--matrix")
    assert rc == 0 and fits(out)
    text = " ".join(out.split())
    assert "C: 36 × 144 (484 stored entries" in text
    assert "C is too large to print densely (36 × 144)" in text and "Cᵀ is too large to print densely" in text
    # columns of C = the overlap count of the (cropped) output: 4 in 100, 2 in 40, 1 in 4
    counts = upconv.conv_transpose(np.ones((1, 1, 6, 6)), np.ones((1, 1, 4, 4)), stride=2, padding=1)
    values, times = np.unique(counts, return_counts=True)
    listed = ", ".join(f"{int(v)} in {t} columns" for v, t in sorted(zip(values, times), reverse=True))
    assert f"the overlap count): {listed}" in text
    assert "row 0 (0,0): 0:1 1:1 2:1 12:1 13:1 14:1 24:1 25:1 26:1" in text


def test_matrix_and_figure_with_output_padding_beyond_stride(capsys, tmp_path):
    png = tmp_path / "m.png"
    rc, out, _ = run_cli(capsys, "explain", "--size", "3", "--kernel-size", "2", "--stride", "1", "--dilation", "2",
                         "--output-padding", "1", "--matrix", "--figure", str(png))
    assert rc == 0 and png.exists()
    assert "C keeps the first 3 of its outputs as rows" in " ".join(out.split())


def test_symbolic_output_and_matrix(capsys):
    rc, out, err = run_cli(capsys, "explain", "--symbolic")
    assert rc == 0 and err == "" and fits(out)
    lines = normalized(out)
    assert "Symbolic (sympy)" in lines and "View 1 of 4" not in out
    assert "out[0,0] = w11·y11" in lines
    assert "out[2,2] = w11·y22 + w13·y21 + w31·y12 + w33·y11" in lines  # seed 001's centre: four stamps
    assert any(line.startswith("row 0: 0:w11 1:w12 2:w13 5:w21") for line in lines)


def test_symbolic_pretty_matrix_when_it_fits(capsys):
    rc, out, _ = run_cli(capsys, "explain", "--size", "3", "--kernel-size", "3", "--stride", "2", "--padding", "1",
                         "--output-padding", "1", "--symbolic")
    assert rc == 0 and fits(out)
    lines = normalized(out)
    assert "C = d vec(Y) / d vec(Z) of the convolution 6 → 3 (3 × 6)" in " ".join(out.split())
    assert any("w₂ w₃ 0 0 0 0" in line for line in lines)  # sympy's pretty matrix, first row


def test_symbolic_without_sympy_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "sympy", None)
    rc, out, err = run_cli(capsys, "explain", "--symbolic")
    assert rc == 2
    assert "upconv explain: error: argument --symbolic: upconv.symbolic needs sympy" in err


def test_figure_writes_the_matrix_heatmaps(capsys, tmp_path):
    png = tmp_path / "c.png"
    rc, out, _ = run_cli(capsys, "explain", "--figure", str(png))
    assert rc == 0 and fits(out)
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size[0] > 500
    assert f"wrote {png}: C and Cᵀ as heatmaps" in " ".join(out.split())
    assert "View 1 of 4" in out  # --figure alone keeps the four views


@pytest.mark.parametrize("view, frames", [("stamping", 4 + 2), ("zero_insertion", 25 + 2)])
def test_animate(capsys, tmp_path, view, frames):
    gif = tmp_path / "a.gif"
    rc, out, _ = run_cli(capsys, "explain", "--animate", str(gif), "--view", view, "--fps", "4")
    assert rc == 0 and fits(out)
    with Image.open(gif) as im:
        assert im.n_frames == frames and im.info["duration"] == 250
    assert f"{frames} frames of" in " ".join(out.split())


def test_animate_default_view_and_one_dimensional(capsys, tmp_path):
    gif = tmp_path / "a.gif"
    rc, out, _ = run_cli(capsys, "explain", "--size", "3", "--kernel", "1,2,1", "--padding", "1",
                         "--output-padding", "1", "--animate", str(gif))
    assert rc == 0 and "5 frames of kernel stamping" in " ".join(out.split())


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--view", "stamping"], "argument --view: only with --animate OUT.gif"),
        (["--fps", "3"], "argument --fps: only with --animate OUT.gif"),
        # the CLI's words: no function names, "upconv explain" said once (issue 18)
        (["--size", "2,2,2", "--animate", "x.gif"], "argument --animate: only 1-d and 2-d configurations can be "
                                                    "animated, got --size 2"),
        (["--animate", "x.png"], "argument --animate: must end in .gif, got 'x.png'"),
        (["--figure", "x.jpg"], "argument --figure: must end in .png, .svg or .pdf, got 'x.jpg'"),
        (["--figure", "missing/x.png"], "argument --figure: cannot write 'missing/x.png'"),
        (["--view", "scatter"], "argument --view: invalid choice"),
        (["--size", "30,30", "--figure", "x.png"],
         "argument --figure: the matrix has shape (900, 3721)"),
    ],
)
def test_errors_exit_2_before_printing(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_cli(capsys, "explain", *argv)
    assert rc == 2 and out == "" and message in err
    assert err.count("upconv explain: ") == 1 and "animate_conv_transpose" not in err
    assert not (tmp_path / "x.gif").exists()


def test_help_lists_the_extras(capsys):
    rc, out, _ = run_cli(capsys, "explain", "-h")
    assert rc == 0 and fits(out)
    for option in ("--matrix", "--symbolic", "--figure", "--animate", "--view", "--fps"):
        assert option in out


def test_absurd_sizes_are_refused_before_allocating(capsys):
    # 10^10 input values: refused by the memory limit, naming the option, not NumPy's "Unable to allocate"
    rc, out, err = run_cli(capsys, "explain", "--size", "100000,100000")
    assert rc == 2 and out == ""
    assert err.startswith("upconv explain: error: the --input values of shape (100000, 100000) would need 74.51 GiB")
    assert "UPCONV_MEMORY_LIMIT" in err
