"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest

import upconv


@pytest.fixture
def memory_limit(monkeypatch):
    """``upconv.set_memory_limit`` for one test; the default (no environment override) is restored afterwards."""
    monkeypatch.delenv("UPCONV_MEMORY_LIMIT", raising=False)
    upconv.set_memory_limit(None)
    try:
        yield upconv.set_memory_limit
    finally:
        upconv.set_memory_limit(None)


@pytest.fixture(scope="session")
def lint_zoo(tmp_path_factory):
    """Small real architectures as torch modules and ONNX files (tests/lint_zoo.py); skips without torch/onnx."""
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    import lint_zoo

    return lint_zoo.build(tmp_path_factory.mktemp("lint_zoo"))
