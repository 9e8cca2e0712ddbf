"""The report: the JSON document matches the schema printed in the README, the text puts flagged layers first."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import upconv
from upconv.linter.report import JSON_SCHEMA
from upconv.linter.thresholds import SEVERITY, THRESHOLDS

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_schema() -> dict:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- lint-json-schema -->\s*```json\n(.*?)\n```", text, re.S)
    assert block, "README.md has no lint JSON schema block"
    return json.loads(block.group(1))


def test_readme_prints_the_schema_the_code_uses():
    assert readme_schema() == JSON_SCHEMA


def test_readme_lists_every_finding_code_and_threshold():
    text = README.read_text(encoding="utf-8")
    for code, (severity, _) in SEVERITY.items():
        assert f"| `{code}` | {severity} |" in text
    for name in THRESHOLDS:
        assert f"| `{name}` |" in text


def validate(document: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(document, readme_schema())
    json.dumps(document, allow_nan=False)  # strict JSON: no NaN or Infinity


def test_state_dict_report_validates():
    report = upconv.lint({"a.weight": np.ones((1, 2, 3, 3)), "b.weight": np.ones((2, 1, 1, 1))},
                         config=[{"name": "a", "type": "ConvTranspose2d", "stride": 2},
                                 {"name": "b", "type": "ConvTranspose2d", "stride": 2}], input_size=(4, 4))
    doc = report.to_dict()
    validate(doc)
    assert doc["layers"][1]["geometry"]["overlap_ratio"] == "inf"          # k1 s2: holes
    assert doc["layers"][1]["geometry"]["stack"]["overlap_ratio"] == "inf"
    assert doc["summary"] == {"layers": 2, "flagged": 2, "skipped": 0}


@pytest.mark.parametrize("name", ["dcgan", "unet", "fcn8s", "espcn", "vae", "segnet", "plain"])
def test_every_zoo_report_validates(lint_zoo, name):
    pytest.importorskip("onnxruntime")
    doc = upconv.lint(lint_zoo[name].path, replay=True).to_dict()
    validate(doc)
    validate(upconv.lint(lint_zoo[name].module, example_input=lint_zoo[name].inputs, replay=True).to_dict())
    assert doc["replayed"] and all(L["replay"] for L in doc["layers"])


def test_text_report_lists_flagged_layers_first():
    conv_w = np.random.default_rng(0).standard_normal((1, 1, 3, 3))
    state = {"ok.weight": upconv.resize_equivalent_kernel(conv_w, 2), "bad.weight": np.ones((1, 1, 3, 3))}
    report = upconv.lint(state, config=[{"name": "ok", "type": "ConvTranspose2d", "stride": 2, "padding": 1},
                                        {"name": "bad", "type": "ConvTranspose2d", "stride": 2}],
                         input_size=(1, 1, 4, 4))
    text = str(report)
    assert [L.flagged for L in report.layers] == [False, True]
    assert text.index("[FLAGGED] bad") < text.index("[ok] ok")
    table = text.splitlines()[5:7]
    assert table[0].startswith("FLAG  bad") and table[1].startswith("ok    ok")
    assert "1 flagged, 1 clean, 0 skipped" in text
    quiet = report.lines(quiet=True)
    assert quiet[0].endswith("2 up-sampling layer(s): 1 flagged, 1 clean, 0 skipped")
    assert all(line.startswith("  bad: ") for line in quiet[1:])
