"""`import upconv` stays light: heavy optional modules load only when used."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numba", "matplotlib", "sympy", "torch", "PIL", "onnx", "scipy.sparse",
         "dask", "distributed", "zarr", "tifffile")


def test_import_loads_no_heavy_module():
    code = f"import sys, upconv; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_import_time():
    code = "import time; t = time.perf_counter(); import upconv; print(time.perf_counter() - t)"
    best = min(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    )
    assert best < 0.3, f"import upconv took {best:.3f} s"
