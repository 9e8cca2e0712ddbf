"""``upconv lint``: exit status 0 / 1 / 2, JSON only with --json, one-line errors naming the option."""

from __future__ import annotations

import json

import numpy as np
import pytest

import upconv
from upconv.cli import COMMANDS, main

onnx = pytest.importorskip("onnx")

from lint_zoo import one_node, resize_model  # noqa: E402


@pytest.fixture
def clean_model(tmp_path):
    path = tmp_path / "clean.onnx"
    onnx.save(resize_model((1, 2, 4, 4), scales=[1, 1, 2, 2], mode="nearest",
                           coordinate_transformation_mode="asymmetric", nearest_mode="floor"), str(path))
    return path


@pytest.fixture
def flagged_model(tmp_path):
    path = tmp_path / "flagged.onnx"
    onnx.save(one_node("ConvTranspose", (1, 1, 5, 5), [np.ones((1, 1, 3, 3), np.float32)], strides=[2, 2]), str(path))
    return path


def test_registered():
    assert "lint" in COMMANDS


def test_exit_0_when_clean(clean_model, capsys):
    assert main(["lint", str(clean_model)]) == 0
    out = capsys.readouterr().out
    assert "1 up-sampling layer(s): 0 flagged, 1 clean, 0 skipped" in out
    assert 'F.interpolate(x, scale_factor=2.0, mode="nearest")' in out


def test_exit_1_when_flagged(flagged_model, capsys):
    assert main(["lint", str(flagged_model)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[5].startswith("FLAG  /convtranspose")
    assert "x overlap: overlap ratio 4" in out


def test_json_prints_one_document_and_nothing_else(flagged_model, capsys):
    assert main(["lint", str(flagged_model), "--json"]) == 1
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert captured.err == ""
    assert doc["schema"] == "upconv.lint/1" and doc["flagged"] is True
    assert doc == upconv.lint(flagged_model).to_dict() | {"model": str(flagged_model)}


def test_quiet(flagged_model, capsys):
    assert main(["lint", str(flagged_model), "--quiet"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"upconv lint: {flagged_model}: 1 up-sampling layer(s): 1 flagged, 0 clean, 0 skipped"
    assert [line.split(": ")[1] for line in lines[1:]] == ["overlap", "dc_gain"]


def test_replay(flagged_model, capsys):
    pytest.importorskip("onnxruntime")
    assert main(["lint", str(flagged_model), "--replay", "--json"]) == 1
    replay = json.loads(capsys.readouterr().out)["layers"][0]["replay"]
    assert replay["input"] == "model" and replay["max_rel_diff"] <= 1e-5


def test_figure(flagged_model, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["lint", str(flagged_model), "--figure", str(tmp_path / "lint.png")]) == 1
    assert sorted(p.name for p in tmp_path.glob("lint-*.png")) == ["lint-1-dc_gain.png", "lint-1-overlap.png"]
    assert "figures: " in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["nothing.onnx"], "upconv lint: error: argument MODEL: cannot read 'nothing.onnx': No such file or directory"),
    (["{bad}"], "upconv lint: error: argument MODEL: '{bad}' is not an ONNX model (DecodeError: "),
    (["{dynamic}"], "upconv lint: error: argument --input-size: input 'x' has dynamic size (1, 1, H, W): give"),
    (["{dynamic}", "--input-size", "1,2,3"], "upconv lint: error: argument --input-size: input 'x' has rank 4"),
    (["{dynamic}", "--input-size", "a=1,1,2,2", "--input-size", "3,3"],
     "upconv lint: error: argument --input-size: with several --input-size options, name each input"),
])
def test_errors_are_one_line_naming_the_option(args, message, tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\x01 definitely not protobuf \xff\xfe" * 3)
    dynamic = tmp_path / "dynamic.onnx"
    onnx.save(resize_model((1, 1, 4, 4), scales=[1, 1, 2, 2], x_dims=(1, 1, "H", "W")), str(dynamic))
    assert main(["lint", *[a.format(bad=bad, dynamic=dynamic) for a in args]]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message.format(bad=bad)), captured.err


def test_bad_input_size_is_a_usage_error(tmp_path, capsys):
    assert main(["lint", "model.onnx", "--input-size", "0,2"]) == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        "argument --input-size: expected sizes like 64,64 or 1,3,64,64 or NAME=1,3,64,64, got '0,2'")


def test_input_size_forms(tmp_path, capsys):
    dynamic = tmp_path / "dynamic.onnx"
    onnx.save(resize_model((1, 1, 4, 4), scales=[1, 1, 2, 2], x_dims=(1, 1, "H", "W")), str(dynamic))
    for sizes in (["3,5"], ["1,1,3,5"], ["x=1,1,3,5"], ["3x5"]):
        assert main(["lint", str(dynamic), "--json", *[a for s in sizes for a in ("--input-size", s)]]) == 0
        assert json.loads(capsys.readouterr().out)["layers"][0]["out_shape"] == [1, 1, 6, 10]
