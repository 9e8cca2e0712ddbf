"""``--json`` and ``--quiet``, shared by every command that prints a table or a verdict.

``--json`` prints one JSON document on stdout and nothing else (no
progress, no colour, no notes): the values the table shows, with their units
in the key names (``psnr_db``, ``time_ms``) and image sizes as
``{"width": W, "height": H}``; infinities as ``"inf"`` (as ``upconv lint
--json`` writes them), NaN as null.  ``--quiet`` prints only the one-line
result (or nothing where the result is a file).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import numpy as np

import upconv

__all__ = ["add_options", "to_json", "emit"]


def add_options(p: argparse.ArgumentParser) -> None:
    """Add ``--json`` and ``--quiet`` (mutually exclusive) to the command's parser."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true",
                   help="print one JSON document (the table's values, with units) and nothing else")
    g.add_argument("--quiet", action="store_true", help="print only the one-line result; no progress")


def to_json(value: Any) -> Any:
    """``value`` with arrays, tuples and NumPy scalars as lists and numbers, infinities as ``"inf"``, NaN as null."""
    if isinstance(value, (np.ndarray, np.generic)):
        return to_json(value.tolist())
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dict):
        return {str(k): to_json(x) for k, x in value.items()}
    return [to_json(x) for x in value]


def emit(command: str, document: dict[str, Any]) -> None:
    """Print ``{"command": ..., "version": ..., **document}`` as one JSON document on stdout."""
    head = {"command": command, "version": upconv.__version__}
    print(json.dumps(to_json(head | document), indent=2, allow_nan=False, ensure_ascii=False))
    sys.stdout.flush()
