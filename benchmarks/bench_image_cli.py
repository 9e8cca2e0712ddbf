"""Peak memory and time of the image commands: ``upconv resize`` on a photo-sized PNG, run under /usr/bin/time -v.

Makes a deterministic 2400 x 1600 RGB test photo (the built-in photograph
enlarged, plus noise so that it compresses like a photograph) and runs
``upconv resize`` on it in a fresh process per case, reporting wall time,
the peak resident set size (``Maximum resident set size``), the float32
result's size and their ratio, and the output file's size.  Not a timed
test: run it by hand and record the numbers in benchmarks/README.md.

    python benchmarks/bench_image_cli.py [--src-dir DIR] [--python PYTHON] [--cases 2,4] [--memory-limit 8G]

``--python`` picks the interpreter (with ``PYTHONPATH`` set as needed, to
compare two checkouts).  The default cases are ``--scale 2`` and
``--scale 4`` (bicubic, 8-bit PNG out).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

WIDTH, HEIGHT = 2400, 1600


def make_photo(path: str) -> None:
    """A 2400 x 1600 RGB 8-bit PNG: the built-in photograph enlarged by bicubic interpolation, plus noise."""
    from PIL import Image

    import upconv
    from upconv.images.samples import photograph

    x = photograph()
    y = upconv.interpolate(x[None], size=(HEIGHT, WIDTH), mode="bicubic")[0]
    y += np.random.default_rng(0).normal(0, 0.02, y.shape)
    samples = np.rint(np.clip(y, 0, 1) * 255).astype(np.uint8)
    Image.fromarray(np.ascontiguousarray(np.moveaxis(samples, 0, -1))).save(path)


def run(python: str, src: str, dst: str, scale: str, memory_limit: str | None) -> tuple[float, float, str]:
    """``(wall seconds, peak RSS MiB, the command's own line)`` of one ``upconv resize`` run."""
    env = dict(os.environ)
    if memory_limit:
        env["UPCONV_MEMORY_LIMIT"] = memory_limit
    cmd = ["/usr/bin/time", "-v", python, "-m", "upconv", "resize", src, "--scale", scale, "-o", dst]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return wall, rss_kb / 1024, proc.stdout.strip()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--python", default=sys.executable, help="interpreter running upconv (default: this one)")
    p.add_argument("--cases", default="2,4", help="comma-separated --scale values (default 2,4)")
    p.add_argument("--memory-limit", default=None, help="UPCONV_MEMORY_LIMIT for the runs (bytes)")
    p.add_argument("--repeat", type=int, default=1, help="runs per case, the fastest reported (default 1)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "photo.png")
        make_photo(src)
        print(f"input: {WIDTH}x{HEIGHT} RGB 8-bit PNG, {os.path.getsize(src) / 2**20:.1f} MiB; python {args.python}")
        print(f"{'scale':>5}  {'output':>11}  {'result MiB':>10}  {'wall s':>6}  {'peak RSS MiB':>12}  "
              f"{'RSS/result':>10}  {'file MiB':>8}")
        for scale in args.cases.split(","):
            dst = os.path.join(tmp, f"out{scale}.png")
            best = min((run(args.python, src, dst, scale, args.memory_limit) for _ in range(args.repeat)),
                       key=lambda r: r[0])
            w, h = int(WIDTH * float(scale)), int(HEIGHT * float(scale))
            result = 3 * w * h * 4 / 2**20  # the float32 result
            print(f"{scale:>5}  {f'{w}x{h}':>11}  {result:10.0f}  {best[0]:6.1f}  {best[1]:12.0f}  "
                  f"{best[1] / result:10.2f}  {os.path.getsize(dst) / 2**20:8.1f}")
            print(f"       {best[2]}")


if __name__ == "__main__":
    main()
