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
