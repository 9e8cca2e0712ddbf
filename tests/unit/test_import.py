"""`import upconv` stays light: heavy optional modules, and the compiled kernels, load only when used."""

from __future__ import annotations

import subprocess
import sys

import pytest

# what `import upconv` must not load: compiled kernels and optional dependencies load on first use
HEAVY = ("upconv.kernels._native", "matplotlib", "sympy", "torch", "PIL", "onnx", "onnxruntime", "scipy.sparse",
         "scipy.linalg", "scipy.ndimage", "dask", "starlette", "tifffile", "zarr", "distributed",
         "upconv.web", "uvicorn")


def test_import_loads_no_heavy_module():
    code = f"import sys, upconv; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_lint_of_a_state_dict_imports_neither_onnx_nor_torch():
    code = ("import sys, numpy as np, upconv; "
            "upconv.lint({'up.weight': np.ones((1, 1, 3, 3))}, config=[{'name': 'up', 'type': 'ConvTranspose2d', "
            "'stride': 2}], input_size=(4, 4)); "
            "print(' '.join(m for m in ('onnx', 'onnxruntime', 'torch') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []
    assert callable(__import__("upconv").lint)



def test_cli_and_web_package_load_no_server():
    # the explorer's web framework and server load when a server is made, not with the command line or the package
    code = ("import sys, upconv.cli, upconv.web; "
            "print(' '.join(m for m in ('starlette', 'uvicorn', 'httpx') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_import_loads_no_room_until_a_name_is_used():
    # PEP 562: `import upconv` loads the settings only; a name loads its room on first use
    code = ("import sys, upconv; before = sorted(m for m in sys.modules if m.startswith('upconv')); "
            "upconv.conv_transpose; after = sorted(m for m in sys.modules if m.startswith('upconv')); "
            "print(before, 'upconv.ops' in after, 'upconv.figures' in after)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "['upconv', 'upconv._config', 'upconv._lazy'] True False"


def test_every_public_name_resolves():
    import importlib

    import upconv

    for name in upconv.__all__:
        value = getattr(upconv, name)
        assert value is not None, name
        assert getattr(importlib.import_module("upconv"), name) is value  # cached after the first use
    assert set(upconv.__all__) <= set(dir(upconv))
    with pytest.raises(AttributeError, match="module 'upconv' has no attribute 'nope'"):
        upconv.nope  # noqa: B018
