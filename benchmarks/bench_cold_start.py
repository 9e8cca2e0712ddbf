"""First use: the first call of every public operator, each in a fresh process, side by side with torch.

Run ``python benchmarks/bench_cold_start.py [--baseline PATH] [--repeat R] [--cases conv,resize,...]``.

Every case runs in a new interpreter twice: first with an empty kernel cache (a fresh install: numba,
in a checkout that still uses it, compiles into a new ``NUMBA_CACHE_DIR``), then again with the cache
that run left (a second process).  Printed per case: the first call in milliseconds (after
``import upconv`` and the inputs are made; loading the kernels is part of it), the import, and
torch's ``import torch`` plus its first call of the same operation in a fresh process of its own.
``--baseline PATH`` runs the same cases against another checkout's ``src`` (e.g. the numba version),
in the same run.  Two end-to-end cases time whole processes: the README's Python example and
``upconv resize photo.png`` (a 512 x 512 RGB PNG, bicubic, scale 2).  Byte code is compiled first (as
``pip install`` does), into a directory of the run.  Last, the DCGAN first call is
started in two processes at once (each compiles, or loads, while the other does).  The median of
``--repeat`` runs of each measurement is shown.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

# name: (setup, upconv call, torch call or None); inputs are made before the clock starts
SETUP = """
rng = np.random.default_rng(0)
f32 = lambda *shape: rng.standard_normal(shape, dtype=np.float32)
img = rng.random((1, 3, 512, 512), dtype=np.float32)
"""
CASES: dict[str, tuple[str, str, str | None]] = {
    "conv": ("x, w = f32(8, 16, 64, 64), f32(32, 16, 3, 3)",
             "upconv.conv(x, w, padding=1)", "F.conv2d(x, w, padding=1)"),
    "conv_transpose 1-d": ("x, w = f32(32, 64, 1024), f32(64, 64, 4)",
                           "upconv.conv_transpose(x, w, stride=2, padding=1)",
                           "F.conv_transpose1d(x, w, stride=2, padding=1)"),
    "conv_transpose 2-d (DCGAN)": ("x, w = f32(16, 256, 8, 8), f32(256, 128, 4, 4)",
                                   "upconv.conv_transpose(x, w, stride=2, padding=1)",
                                   "F.conv_transpose2d(x, w, stride=2, padding=1)"),
    "conv_transpose 3-d": ("x, w = f32(2, 32, 16, 16, 16), f32(32, 16, 4, 4, 4)",
                           "upconv.conv_transpose(x, w, stride=2, padding=1)",
                           "F.conv_transpose3d(x, w, stride=2, padding=1)"),
    "interpolate nearest": ("", "upconv.interpolate(img, scale_factor=2)", "F.interpolate(img, scale_factor=2)"),
    "interpolate nearest-exact": ("", "upconv.interpolate(img, scale_factor=2, mode='nearest-exact')",
                                  "F.interpolate(img, scale_factor=2, mode='nearest-exact')"),
    "interpolate linear": ("x = f32(1, 3, 4096)", "upconv.interpolate(x, scale_factor=2, mode='linear')",
                           "F.interpolate(x, scale_factor=2, mode='linear')"),
    "interpolate bilinear": ("", "upconv.interpolate(img, scale_factor=2, mode='bilinear')",
                             "F.interpolate(img, scale_factor=2, mode='bilinear')"),
    "interpolate bicubic": ("", "upconv.interpolate(img, scale_factor=2, mode='bicubic')",
                            "F.interpolate(img, scale_factor=2, mode='bicubic')"),
    "interpolate trilinear": ("x = f32(1, 3, 32, 64, 64)", "upconv.interpolate(x, scale_factor=2, mode='trilinear')",
                              "F.interpolate(x, scale_factor=2, mode='trilinear')"),
    "interpolate area": ("", "upconv.interpolate(img, size=(200, 300), mode='area')",
                         "F.interpolate(img, size=(200, 300), mode='area')"),
    "interpolate antialias": ("", "upconv.interpolate(img, scale_factor=0.3, mode='bilinear', antialias=True)",
                              "F.interpolate(img, scale_factor=0.3, mode='bilinear', antialias=True)"),
    "interpolate lanczos": ("", "upconv.interpolate(img, scale_factor=0.5, mode='lanczos', antialias=True)", None),
    "resize (ONNX cubic)": ("", "upconv.resize(img, scales=(1, 1, 2, 2), mode='cubic')", None),
    "max_pool": ("x = f32(8, 64, 64, 64)", "upconv.max_pool(x, 3, 2, 1)", "F.max_pool2d(x, 3, 2, 1)"),
    "max_unpool": ("x = f32(8, 64, 32, 32)\n"
                   "r, c = rng.integers(0, 2, (2, 8, 64, 32, 32))\n"
                   "idx = ((2 * np.arange(32)[:, None] + r) * 64 + 2 * np.arange(32) + c).astype(np.int64)",
                   "upconv.max_unpool(x, idx, 2)", "F.max_unpool2d(x, idx, 2)"),
    "pixel_shuffle": ("x = f32(8, 64, 128, 128)", "upconv.pixel_shuffle(x, 2)", "F.pixel_shuffle(x, 2)"),
    "resize_conv": ("x, w = f32(8, 64, 32, 32), f32(32, 64, 3, 3)",
                    "upconv.resize_conv(x, w, scale_factor=2, mode='bilinear')",
                    "F.conv2d(F.interpolate(x, scale_factor=2, mode='bilinear'), w, padding=1)"),
    "gradient (conv_transpose weight)": (
        "x, w, gy = f32(16, 256, 8, 8), f32(256, 128, 4, 4), f32(16, 128, 16, 16)",
        "upconv.grad.conv_transpose_grad_weight(gy, x, w, stride=2, padding=1)",
        "torch.autograd.grad(F.conv_transpose2d(x, w.requires_grad_(), stride=2, padding=1), w, gy)"),
}

DRIVER = """
import json, time
t0 = time.perf_counter()
import numpy as np
{imports}
t1 = time.perf_counter()
{setup}
{case_setup}
{tensors}
t2 = time.perf_counter()
{call}
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "first": t3 - t2}}))
"""


def _run(code: str, env: dict[str, str], cwd: str) -> tuple[float, str]:
    """Wall time of a fresh ``python -c code`` and its stdout."""
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if out.returncode:
        raise SystemExit(f"failed:\n{code}\n{out.stderr[-2000:]}")
    return wall, out.stdout


# Byte code as an installed package has it (pip compiles it at install), in a directory of this run
PYCACHE = tempfile.mkdtemp(prefix="cold_start_pycache_")


def _env(src: pathlib.Path, cache: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(src), NUMBA_CACHE_DIR=cache, PYTHONPYCACHEPREFIX=PYCACHE)
    for name in ("UPCONV_KERNELS", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    return env


def _compile(src: pathlib.Path) -> None:
    """Byte-compile a checkout's sources (and write the byte code of what they import on a first run)."""
    env = _env(src, tempfile.gettempdir())
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], env=env, check=True)
    subprocess.run([sys.executable, "-c", "import upconv, upconv.cli, numpy, scipy.sparse, PIL.Image"], env=env,
                   check=True)


def _upconv_case(src: pathlib.Path, name: str, cwd: str) -> tuple[dict, dict]:
    """(cold, warm) timings of one case: a fresh cache directory, then a second process with it."""
    setup, call, _ = CASES[name]
    code = DRIVER.format(imports="import upconv, upconv.grad", setup=SETUP, case_setup=setup, tensors="", call=call)
    with tempfile.TemporaryDirectory() as cache:
        env = _env(src, cache)
        return tuple(json.loads(_run(code, env, cwd)[1]) for _ in range(2))


def _torch_case(name: str, cwd: str) -> dict | None:
    setup, _, call = CASES[name]
    if call is None:
        return None
    tensors = ("import torch as _t\n"
               "for _k, _v in list(globals().items()):\n"
               "    if isinstance(_v, np.ndarray):\n"
               "        globals()[_k] = _t.from_numpy(_v)\n")
    code = DRIVER.format(imports="import torch\nimport torch.nn.functional as F\ntorch.set_num_threads(2)",
                         setup=SETUP, case_setup=setup, tensors=tensors, call=call)
    env = dict(os.environ, PYTHONPYCACHEPREFIX=PYCACHE)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return json.loads(_run(code, env, cwd)[1])


def _readme_example(src: pathlib.Path) -> str:
    text = (src.parent / "README.md").read_text()
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


def _photo(directory: str) -> str:
    """A 512 x 512 RGB PNG (the built-in astronaut, doubled), written with Pillow."""
    import numpy as np
    from PIL import Image

    im = np.asarray(Image.open(ROOT / "src" / "upconv" / "images" / "astronaut.png").convert("RGB"))
    path = os.path.join(directory, "photo.png")
    Image.fromarray(np.repeat(np.repeat(im, 2, 0), 2, 1)).save(path)
    return path


def _end_to_end(src: pathlib.Path, code: str | None, argv: list[str] | None, cwd: str) -> tuple[float, float]:
    """(cold, warm) wall time of a whole process: Python code, or ``python -m upconv argv``."""
    with tempfile.TemporaryDirectory() as cache:
        env = _env(src, cache)
        times = []
        for _ in range(2):
            t = time.perf_counter()
            cmd = [sys.executable, "-c", code] if code is not None else [sys.executable, "-m", "upconv", *argv]
            out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(f"failed: {cmd}\n{out.stderr[-2000:]}")
            times.append(time.perf_counter() - t)
        return times[0], times[1]


def _two_at_once(src: pathlib.Path, cwd: str) -> list[float]:
    """First-call times of the DCGAN case started in two processes at once, sharing one empty cache."""
    setup, call, _ = CASES["conv_transpose 2-d (DCGAN)"]
    code = DRIVER.format(imports="import upconv", setup=SETUP, case_setup=setup, tensors="", call=call)
    with tempfile.TemporaryDirectory() as cache:
        env = _env(src, cache)
        procs = [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=cwd, stdout=subprocess.PIPE, text=True)
                 for _ in range(2)]
        return [json.loads(p.communicate()[0])["first"] for p in procs]


def _median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=pathlib.Path, help="another checkout's src directory (e.g. numba main)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement (the median is shown)")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--no-torch", action="store_true", help="skip torch's column")
    args = parser.parse_args()
    names = list(CASES) if not args.cases else [n for n in CASES if any(c in n for c in args.cases.split(","))]
    sources = {"upconv": ROOT / "src"}
    if args.baseline:
        sources["baseline"] = args.baseline.resolve()
    work = tempfile.mkdtemp(prefix="cold_start_")
    for src in sources.values():
        _compile(src)
    photo = _photo(work)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; this checkout {sources['upconv']}"
          + (f", baseline {sources['baseline']}" if args.baseline else ""))
    print("first call in ms after import (cold: empty kernel cache / warm: a second process); import in ms\n")
    head = f"{'case':34s}" + "".join(f" {k + ' cold':>14s} {k + ' warm':>14s}" for k in sources)
    head += f" {'import':>7s}" + ("" if args.no_torch else f" {'torch import+call':>18s}")
    print(head)
    print("-" * len(head))
    for name in names:
        row = f"{name:34s}"
        imports = []
        for src in sources.values():
            runs = [_upconv_case(src, name, work) for _ in range(args.repeat)]
            cold, warm = _median([r[0]["first"] for r in runs]), _median([r[1]["first"] for r in runs])
            imports.append(_median([r[1]["import"] for r in runs]))
            row += f" {cold * 1e3:14.0f} {warm * 1e3:14.0f}"
        row += f" {imports[0] * 1e3:7.0f}"
        if not args.no_torch:
            runs = [_torch_case(name, work) for _ in range(args.repeat)]
            if runs[0] is None:
                row += f" {'-':>18s}"
            else:
                t_import, t_first = (_median([r[key] for r in runs]) * 1e3 for key in ("import", "first"))
                row += f" {t_import:9.0f} + {t_first:6.0f}"
        print(row, flush=True)
    print("\nwhole processes, wall ms (cold / warm)")
    for label, code, argv in [
        ("README Python example", "README", None),
        ("upconv resize photo.png (bicubic x2)", None,
         ["resize", photo, "--scale", "2", "--mode", "bicubic", "-o", os.path.join(work, "big.png")]),
    ]:
        row = f"{label:40s}"
        for k, src in sources.items():
            runs = [_end_to_end(src, _readme_example(src) if code == "README" else None, argv, work)
                    for _ in range(args.repeat)]
            row += f"  {k}: {_median([r[0] for r in runs]) * 1e3:6.0f} / {_median([r[1] for r in runs]) * 1e3:6.0f}"
        print(row, flush=True)
    print("\nconv_transpose 2-d (DCGAN) started in two processes at once, first call ms of each")
    for k, src in sources.items():
        both = _two_at_once(src, work)
        print(f"  {k}: " + " and ".join(f"{t * 1e3:.0f}" for t in both))


if __name__ == "__main__":
    main()
