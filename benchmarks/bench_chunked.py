"""Benchmark: the chunked operators (upconv.ops.chunked on Dask) against the in-memory calls, and out-of-core resizing.

``throughput``: float32 inputs that fit in memory, bilinear x2 ``interpolate``
of (1, 3, 4096, 4096) and ``conv_transpose`` (k4 s2 p1, 16 -> 8 channels) of
(1, 16, 2048, 2048), in memory and chunked with 1024 x 1024 input chunks on
Dask's threaded scheduler (2 workers), as ``.compute()`` and as ``da.store``
into a preallocated array; medians of ``--repeat`` interleaved runs.

``cli``: ``upconv resize`` of a generated tiled RGB TIFF, x2 bilinear, to a
tiled TIFF, in one chunk (the whole image in memory) and with ``--chunks
1024`` (out of core), each under ``/usr/bin/time -v`` (wall time, peak RSS);
medians of ``--repeat`` runs.

``big``: the same out of core on a 20000 x 20000 RGB image (a 1.2 GB TIFF
in, 4.8 GB out): peak RSS must stay under 2 GB.

Run:  python benchmarks/bench_chunked.py throughput [--repeat 5]
      python benchmarks/bench_chunked.py cli [--size 4000] [--repeat 3]
      python benchmarks/bench_chunked.py big [--size 20000]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def make_tiff(path: str, size: int, tile: int = 256) -> None:
    """A ``size x size`` RGB uint8 tiled TIFF, written tile by tile (a smooth pattern with some texture)."""
    import tifffile

    def tiles():
        for r in range(0, size, tile):
            y = np.arange(r, r + tile, dtype=np.float32)[:, None]
            for c in range(0, size, tile):
                x = np.arange(c, c + tile, dtype=np.float32)[None, :]
                base = 127.5 + 100 * np.sin(x * 0.011 + y * 0.007) * np.cos(y * 0.013 - x * 0.003)
                rgb = np.stack([base, 255 - base, (base + 64) % 256], -1) + ((x * 31 + y * 17) % 7)[..., None]
                yield np.clip(rgb, 0, 255).astype(np.uint8)

    tifffile.imwrite(path, tiles(), shape=(size, size, 3), dtype=np.uint8, tile=(tile, tile), photometric="rgb",
                     bigtiff=size * size * 3 >= 2**31)


class _Sink:
    """A ``da.store`` target that drops the blocks: the chunked computation alone, no result assembled."""

    def __setitem__(self, key, value) -> None:
        pass


def throughput(repeat: int) -> None:
    import dask.array as da

    import upconv
    from upconv.ops import chunked

    rng = np.random.default_rng(0)
    x = rng.random((1, 3, 4096, 4096), dtype=np.float32)
    y = rng.standard_normal((1, 16, 2048, 2048), dtype=np.float32)
    w = rng.standard_normal((16, 8, 4, 4), dtype=np.float32)
    # the Dask inputs are made once, outside the timings: da.from_array hashes the whole array (0.25-0.75 s
    # for these 200 MB), a cost of wrapping NumPy data, not of the operators (a pipeline's input is already
    # a Dask array, from zarr or TIFF); building the operator's graph is timed
    xd = da.from_array(x, chunks=(1, 3, 1024, 1024))
    yd = da.from_array(y, chunks=(1, 16, 1024, 1024))
    cases = {
        "interpolate bilinear x2 (1,3,4096^2)": (
            lambda: upconv.interpolate(x, scale_factor=2, mode="bilinear"),
            lambda: chunked.interpolate(xd, scale_factor=2, mode="bilinear"),
        ),
        "conv_transpose k4 s2 p1 16->8 (1,16,2048^2)": (
            lambda: upconv.conv_transpose(y, w, stride=2, padding=1),
            lambda: chunked.conv_transpose(yd, w, stride=2, padding=1),
        ),
    }
    kinds = ("sink", "store", "compute")
    print("% of the in-memory throughput (medians); sink: blocks computed and dropped, store: into a NumPy array, "
          "compute: .compute()")
    print(f"{'case':46} {'memory ms':>9} " + " ".join(f"{k + ' w' + str(n):>11}" for n in (1, 2) for k in kinds))
    for name, (memory, lazy) in cases.items():
        ref = memory()
        out = np.empty_like(ref)
        runs = {"memory": memory}
        for n in (1, 2):
            opts = {"scheduler": "threads", "num_workers": n}
            runs[f"sink w{n}"] = lambda o=opts, f=lazy: da.store(f(), _Sink(), lock=False, **o)
            runs[f"store w{n}"] = lambda o=opts, f=lazy, a=out: da.store(f(), a, lock=False, **o)
            runs[f"compute w{n}"] = lambda o=opts, f=lazy: f().compute(**o)
        times: dict[str, list[float]] = {k: [] for k in runs}
        for _ in range(repeat):  # interleaved: a slower spell of the machine slows every variant alike
            for k, fn in runs.items():
                t = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t)
                time.sleep(0.2)
        m = statistics.median(times["memory"])
        cells = " ".join(f"{100 * m / statistics.median(times[f'{k} w{n}']):10.0f}%" for n in (1, 2) for k in kinds)
        print(f"{name:46} {m * 1e3:9.0f} {cells}")


def timed_cli(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of ``upconv`` with ``args``, from /usr/bin/time -v."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "upconv", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 2**20
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", done.stderr).group(1)
    seconds = sum(float(p) * 60**i for i, p in enumerate(reversed(wall.split(":"))))
    return seconds, rss


def cli(size: int, repeat: int, directory: str) -> None:
    src = os.path.join(directory, f"in{size}.tif")
    if not os.path.exists(src):
        make_tiff(src, size)
    out = os.path.join(directory, "out.tif")
    runs: dict[str, list[tuple[float, float]]] = {"one chunk (in memory)": [], "--chunks 1024 (out of core)": []}
    for _ in range(repeat):
        runs["one chunk (in memory)"].append(timed_cli(["resize", src, "--scale", "2", "--mode", "bilinear",
                                                        "-o", out]))
        runs["--chunks 1024 (out of core)"].append(timed_cli(["resize", src, "--scale", "2", "--mode", "bilinear",
                                                              "--chunks", "1024", "-o", out]))
    print(f"upconv resize {size}x{size} RGB x2 bilinear, TIFF -> TIFF, {repeat} runs (medians)")
    for name, r in runs.items():
        print(f"  {name:28} {statistics.median(t for t, _ in r):7.1f} s   peak RSS "
              f"{statistics.median(m for _, m in r):5.2f} GB")


def big(size: int, directory: str) -> None:
    src = os.path.join(directory, f"in{size}.tif")
    if not os.path.exists(src):
        t = time.perf_counter()
        make_tiff(src, size)
        print(f"generated {src} ({os.path.getsize(src) / 2**30:.2f} GiB) in {time.perf_counter() - t:.0f} s")
    out = os.path.join(directory, "out.tif")
    seconds, rss = timed_cli(["resize", src, "--scale", "2", "--mode", "bilinear", "-o", out])
    print(f"upconv resize {size}x{size} RGB x2 bilinear out of core: {seconds:.0f} s, peak RSS {rss:.2f} GB, "
          f"output {os.path.getsize(out) / 2**30:.2f} GiB")
    os.remove(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("throughput", "cli", "big"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", type=int)
    parser.add_argument("--dir", help="where the generated images go (default: a temporary directory)")
    args = parser.parse_args()
    if args.what == "throughput":
        throughput(args.repeat)
        return
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        if args.what == "cli":
            cli(args.size or 4000, args.repeat, tmp)
        else:
            big(args.size or 20000, tmp)


if __name__ == "__main__":
    main()
