"""The command line: ``upconv plan`` and ``upconv checkerboard``."""

from __future__ import annotations

import numpy as np
import pytest

import upconv
from upconv.cli import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def table_rows(out: str) -> list[list[str]]:
    """The whitespace-split rows of the first table (after its rule of dashes)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("-") and set(line.strip()) <= {"-", " "})
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip() or line.strip().startswith("…"):
            break
        rows.append(line.split())
    return rows


def fits(out: str) -> bool:
    return max(map(len, out.splitlines())) <= 80


# --------------------------------------------------------------------------
# upconv plan


def test_plan_lists_artifact_free_layers_first(capsys):
    rc, out, err = run_cli(capsys, "plan", "7", "14")
    assert rc == 0 and err == "" and fits(out) and "\033[" not in out
    assert out.splitlines()[0] == "upconv plan: transposed convolutions 7 → 14, 1 layer"
    rows = table_rows(out)
    # columns: #, k, s, p, a, ratio, checkerboard, ONNX auto_pad
    layers = [tuple(int(v) for v in r[1:5]) for r in rows]
    ratios = [r[5] for r in rows]
    assert (4, 2, 1, 0) in layers and ratios[layers.index((4, 2, 1, 0))] == "1"
    free = [r[6] == "artifact-free" for r in rows]
    assert free == sorted(free, reverse=True) and free[0]  # ratio-1 rows first
    assert all(ratio == "1" for ratio, f in zip(ratios, free) if f)
    assert rows[layers.index((4, 2, 1, 0))][7:] == ["UPPER", "LOWER"]
    assert rows[layers.index((3, 2, 1, 1))][5:7] == ["2", "checkerboard"]
    # every row really maps 7 to 14
    for k, s, p, a in layers:
        assert upconv.conv_transpose(np.ones((1, 1, 7)), np.ones((1, 1, k)), stride=s, padding=p,
                                     output_padding=a).shape[-1] == 14
    assert len(rows) == len(upconv.plan(7, 14))
    assert "nn.ConvTranspose1d(c_in, c_out, kernel_size=2, stride=2)" in out


def test_plan_stacks_limit_and_dims(capsys):
    rc, out, _ = run_cli(capsys, "plan", "7", "28", "--layers", "2", "--max-kernel", "4", "--identical",
                         "--dims", "2", "--limit", "3")
    assert rc == 0 and fits(out)
    rows = table_rows(out)
    assert len(rows) == 3
    assert rows[0][1] == "7→14→28" and rows[0][-1] == "artifact-free"
    full = upconv.plan(7, 28, layers=2, max_kernel=4, identical=True, ndim=2)
    assert f"… {len(full) - 3} more (--limit 0 prints all)" in out
    rc, out, _ = run_cli(capsys, "plan", "7", "28", "--layers", "2", "--max-kernel", "4", "--identical",
                         "--limit", "0")
    assert len(table_rows(out)) == len(full)


def test_plan_nothing_found_exits_1(capsys):
    rc, out, _ = run_cli(capsys, "plan", "7", "100", "--max-kernel", "2", "--max-stride", "2")
    assert rc == 1 and "No transposed convolution within these bounds" in out


def test_plan_inverse(capsys):
    rc, out, err = run_cli(capsys, "plan", "7", "--inverse", "3", "2", "1")
    assert rc == 0 and err == "" and fits(out)
    assert "undo the conv 7 → 4 (kernel 3, stride 2, padding 1)" in out
    assert "output_padding 0 (or output_size=7)" in " ".join(out.split())
    assert "nn.ConvTranspose1d(c_in, c_out, kernel_size=3, stride=2, padding=1," in out
    rows = table_rows(out)
    assert rows[0] == ["L", "7", "0", "←", "this", "input"] and rows[1] == ["8", "1"]
    rc, out, _ = run_cli(capsys, "plan", "7,8", "--inverse", "3", "2", "1")
    assert rc == 0 and "output_padding (0, 1)" in " ".join(out.split())
    rc, out, _ = run_cli(capsys, "plan", "9", "5", "--inverse", "3", "2", "2", "--dilation", "2")
    assert rc == 0 and "dilation 2" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["plan", "7"], "argument OUT: the output size is required"),
        (["plan", "7,8", "14"], "argument IN: the planner works on one axis at a time"),
        (["plan", "7", "14", "--limit", "-1"], "argument --limit: must be >= 0"),
        (["plan", "7", "14", "--max-kernel", "0"], "argument --max-kernel: must be >= 1, got 0"),  # CLI words
        (["plan", "7", "5", "--inverse", "3", "2", "1"], "argument OUT: the convolution (kernel 3, stride 2"),
        (["plan", "2", "--inverse", "5", "1", "0"], "error: the kernel is larger than the padded input"),
        (["plan", "7", "--inverse", "3", "2"], "argument --inverse: expected 3 arguments"),
        (["plan", "seven", "14"], "argument IN"),
    ],
)
def test_plan_errors_exit_2(capsys, argv, message):
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 2 and out == "" and message in err


# --------------------------------------------------------------------------
# upconv checkerboard


def ratio_line(out: str) -> str:
    return next(line.strip() for line in out.splitlines() if line.strip().startswith("overlap ratio:"))


def test_checkerboard_one_dimensional(capsys):
    rc, out, err = run_cli(capsys, "checkerboard", "--kernel", "3", "--stride", "2")
    assert rc == 0 and err == "" and fits(out)
    assert out.splitlines()[0] == "upconv checkerboard: k3 s2 (1-d)"
    assert ratio_line(out) == "overlap ratio: 2 (max 2 / min 1): checkerboard"
    m = upconv.overlap_map(3, 2)
    assert " ".join(map(str, m.counts)) in out
    lines = out.splitlines()
    tile = lines[next(i for i, line in enumerate(lines) if line.startswith("Period tile")) + 1]
    assert tile.split() == ["2", "1"]
    assert "use kernel 4 (k % s == 0)" in " ".join(out.split())


def test_checkerboard_two_dimensional_tile(capsys):
    rc, out, _ = run_cli(capsys, "checkerboard", "--kernel", "3", "--stride", "2", "--dims", "2")
    assert rc == 0 and fits(out)
    assert ratio_line(out) == "overlap ratio: 4 (max 4 / min 1): checkerboard"
    lines = out.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("Period tile (2 × 2"))
    assert [line.split() for line in lines[i + 1 : i + 3]] == [["4", "2"], ["2", "1"]]


@pytest.mark.parametrize(
    "argv, ratio",
    [
        (["--kernel", "3", "--stride", "2", "--then", "3:1"], "1.25"),
        (["--kernel", "3", "--stride", "2", "--then", "2:1"], "1"),
        (["--kernel", "3", "--stride", "2", "--then", "3:2"], "3"),
        (["--kernel", "4", "--stride", "2"], "1"),
        (["--kernel", "5", "--stride", "2", "--dims", "2"], "2.25"),
        (["--kernel", "4", "--stride", "3"], "2"),
        (["--kernel", "3,4", "--stride", "2"], "2"),  # per axis: 2 x 1
        (["--kernel", "1", "--stride", "2"], "inf"),
    ],
)
def test_checkerboard_ratios(capsys, argv, ratio):
    rc, out, _ = run_cli(capsys, "checkerboard", *argv)
    assert rc == 0 and fits(out)
    assert ratio_line(out).startswith(f"overlap ratio: {ratio} ")


def test_checkerboard_stack_table(capsys):
    rc, out, _ = run_cli(capsys, "checkerboard", "--kernel", "3", "--stride", "2", "--then", "3:1")
    assert out.splitlines()[0] == "upconv checkerboard: k3 s2 → k3 s1 (1-d)"
    assert table_rows(out) == [["1", "3", "2", "1", "2"], ["2", "3", "1", "1", "1.25"]]


def test_checkerboard_weights_dc_gain(capsys, tmp_path):
    rng = np.random.default_rng(0)
    icnr = upconv.resize_equivalent_kernel(rng.normal(size=(3, 2, 3, 3)), 2)  # (2, 3, 4, 4)
    path = tmp_path / "icnr.npy"
    np.save(path, icnr)
    rc, out, err = run_cli(capsys, "checkerboard", "--stride", "2", "--weights", str(path))
    assert rc == 0 and err == "" and fits(out)
    assert "Polyphase DC gain of icnr.npy" in out
    assert "max spread 0, rms 0, max relative 0: flat in, flat out" in out
    assert ratio_line(out).startswith("overlap ratio: 1 ")  # k4 s2 in 2-d, from the weights' shape
    dc = out[out.index("Polyphase DC gain"):]
    rows = table_rows(dc)
    assert len(rows) == 6 and all(r[-2:] == ["0", "0"] for r in rows)
    random = tmp_path / "random.npy"
    np.save(random, rng.normal(size=(1, 1, 4)))  # (C_in, C_out, k): a 1-d layer
    rc, out, _ = run_cli(capsys, "checkerboard", "--stride", "2", "--weights", str(random))
    assert rc == 0 and "checkerboard on flat regions" in out and "k4 s2 (1-d)" in out
    spread = upconv.dc_gain_spread(np.load(random), 2).max_spread
    assert f"max spread {spread:.4g}" in out
    single = tmp_path / "kernel.npy"
    np.save(single, np.ones((3, 3)))  # a single 2-d kernel
    rc, out, _ = run_cli(capsys, "checkerboard", "--stride", "2", "--weights", str(single))
    assert rc == 0 and "k3 s2 (2-d)" in out and "1 × 1 channel pairs" in out


def test_checkerboard_figures(capsys, tmp_path):
    fig, dc = tmp_path / "overlap.png", tmp_path / "dc.png"
    w = tmp_path / "w.npy"
    np.save(w, np.ones((1, 2, 3)))
    rc, out, _ = run_cli(capsys, "checkerboard", "--stride", "2", "--then", "3:1", "--weights", str(w),
                         "--figure", str(fig), "--dc-figure", str(dc))
    assert rc == 0 and fits(out)
    assert fig.stat().st_size > 1000 and dc.stat().st_size > 1000
    assert f"wrote {fig}: overlap map" in " ".join(out.split())
    assert f"wrote {dc}: DC gain" in " ".join(out.split())


def test_checkerboard_colour_on_a_terminal(capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    rc, out, _ = run_cli(capsys, "checkerboard", "--kernel", "3", "--stride", "2")
    assert rc == 0 and "\033[33m" in out  # checkerboard in yellow


@pytest.mark.parametrize(
    "argv, message",
    [
        (["checkerboard"], "argument --kernel: required"),
        (["checkerboard", "--kernel", "3", "--then", "3"], "argument --then: expected K:S, K:S:D or K:S:D:P"),
        (["checkerboard", "--kernel", "3,3,3", "--stride", "2,2"], "argument --dims: per-axis values of different"),
        (["checkerboard", "--kernel", "3,3,3", "--stride", "2,2", "--dims", "3"],
         "argument --stride: expected 1 or 3 values"),
        (["checkerboard", "--kernel", "3", "--weights", "missing.npy"], "argument --weights: cannot read"),
        (["checkerboard", "--kernel", "3", "--dc-figure", "x.png"], "argument --dc-figure: needs --weights"),
        (["checkerboard", "--kernel", "3", "--dims", "3", "--figure", "x.png"],
         "argument --figure: only 1-d and 2-d"),
        (["checkerboard", "--kernel", "3", "--figure", "x.gif"],
         "argument --figure: must end in .png, .svg or .pdf, got 'x.gif'"),
        (["checkerboard", "--kernel", "3", "--in-size", "1"], "argument --in-size: --in-size 1 is too small"),
    ],
)
def test_checkerboard_errors_exit_2(capsys, argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 2 and message in err


def test_checkerboard_weights_mismatch(capsys, tmp_path):
    w = tmp_path / "w.npy"
    np.save(w, np.ones((1, 1, 4, 4)))
    rc, _, err = run_cli(capsys, "checkerboard", "--kernel", "3", "--weights", str(w))
    assert rc == 2 and "does not match the kernel size (4, 4)" in err
    rc, _, err = run_cli(capsys, "checkerboard", "--weights", str(w), "--dims", "1")
    assert rc == 2 and "with --dims 1 expected 1 (one kernel) or 3" in err
