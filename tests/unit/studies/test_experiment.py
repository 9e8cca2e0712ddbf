"""The checkerboard experiment: ``upconv experiment checkerboard --quick`` and its Python function."""

from __future__ import annotations

import numpy as np

from upconv.cli import main
from upconv.studies.experiment import (
    UPSAMPLING_LAYERS,
    build_decoder,
    checkerboard_experiment,
)


def test_cli_quick_run_reports_every_method(tmp_path, capsys, monkeypatch):
    figure = tmp_path / "checkerboard.png"
    # progress is drawn on a terminal only (upconv.cli._progress), after DELAY seconds
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    monkeypatch.setattr("upconv.cli._progress.DELAY", 0.0)
    assert main(["experiment", "checkerboard", "--quick", "--figure", str(figure)]) == 0
    out, err = capsys.readouterr()
    rows = {line.split()[0]: line.split() for line in out.splitlines()
            if line.split() and line.split()[0] in UPSAMPLING_LAYERS}
    assert set(rows) == set(UPSAMPLING_LAYERS)
    for method, cells in rows.items():
        values = [float(c) for c in cells[1:]]
        assert len(values) == 10 and all(np.isfinite(values)), method
    # zero DC-gain spread at initialisation exactly where the theory says so
    assert float(rows["resize_nearest"][3]) == 0 and float(rows["pixel_shuffle_icnr"][3]) == 0
    assert float(rows["transposed_k3s2"][3]) > 0 and float(rows["pixel_shuffle"][3]) > 0
    assert "bicubic (reference)" in out
    assert "epoch 2/2" in err  # progress on stderr
    assert figure.stat().st_size > 10_000


def test_cli_rejects_bad_options(capsys):
    assert main(["experiment", "checkerboard", "--epochs", "0"]) == 2
    assert "argument --epochs: must be >= 1" in capsys.readouterr().err
    assert main(["experiment", "nonsense"]) == 2


def test_experiment_is_reproducible_and_resize_conv_has_no_ripple():
    a = checkerboard_experiment(quick=True, methods=("resize_nearest", "transposed_k3s2"), seed=3)
    b = checkerboard_experiment(quick=True, methods=("resize_nearest", "transposed_k3s2"), seed=3)
    for ra, rb in zip(a.results, b.results, strict=False):
        assert ra.step_losses == rb.step_losses and ra.psnr == rb.psnr
    nearest, transposed = a.results
    assert max(nearest.ripple) < 1e-6 and max(nearest.dc_spread) < 1e-6  # float32 rounding only
    assert transposed.ripple[0] > 0
    assert len(nearest.losses) == a.config["epochs"] and "resize_nearest" in a.format_table()


def test_build_decoder_shapes():
    for method in UPSAMPLING_LAYERS:
        assert build_decoder(method, features=2).forward(np.zeros((1, 1, 5, 7), np.float32)).shape == (1, 1, 20, 28)
