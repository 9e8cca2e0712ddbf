"""Benchmark: upconv.interpolate against torch.nn.functional.interpolate, in one process.

2x up-sampling of float32 inputs (8, 64, 128, 128) and (1, 3, 1024, 1024) in
bilinear, bicubic and nearest mode, torch limited to 2 threads (upconv uses
its default, the number of cores).  Prints the best of ``--repeat`` interleaved
runs of each, the speed ratio torch_ms / upconv_ms (> 1: upconv is faster) and
the largest difference between the two results (0: bit-identical).

Run:  python benchmarks/bench_interpolate.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np


def best_ms(fns, repeat: int) -> list[float]:
    """Best wall time (ms) of each function; runs are interleaved so that a
    machine shared with other work slows every contender alike."""
    for fn in fns:
        fn()  # warm-up (loading, scratch buffers)
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t)
    return [b * 1e3 for b in best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    import upconv

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; numpy {np.__version__}")
    ratios = []
    print(f"{'shape':>20} {'mode':>9} {'torch_ms':>9} {'upconv_ms':>10} {'ratio':>6} {'max|diff|':>10}")
    for shape in [(8, 64, 128, 128), (1, 3, 1024, 1024)]:
        x = rng.standard_normal(shape, dtype=np.float32)
        xt = torch.from_numpy(x)
        for mode in ["bilinear", "bicubic", "nearest"]:
            kw = {} if mode == "nearest" else {"align_corners": False}
            t_torch, t_ours = best_ms(  # the loop's values bound as defaults
                [lambda xt=xt, mode=mode, kw=kw: F.interpolate(xt, scale_factor=2, mode=mode, **kw),
                 lambda x=x, mode=mode, kw=kw: upconv.interpolate(x, scale_factor=2, mode=mode, **kw)],
                args.repeat,
            )
            diff = np.abs(F.interpolate(xt, scale_factor=2, mode=mode, **kw).numpy()
                          - upconv.interpolate(x, scale_factor=2, mode=mode, **kw)).max()
            print(f"{str(shape):>20} {mode:>9} {t_torch:9.1f} {t_ours:10.1f} {t_torch / t_ours:6.2f} {diff:10.2e}")
            ratios.append(t_torch / t_ours)
    print(f"geometric mean of the ratios: {math.prod(ratios) ** (1 / len(ratios)):.2f}; "
          f"slowest workload: {min(ratios):.2f}x torch's speed")


if __name__ == "__main__":
    main()
