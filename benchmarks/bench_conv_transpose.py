"""conv_transpose: upconv side by side with PyTorch (CPU, 2 threads, float32).

Run: ``python benchmarks/bench_conv_transpose.py [--methods auto,scatter,phase] [--repeat 7]``

For every workload it prints torch's and upconv's best time, their ratio
torch_ms / upconv_ms (> 1: upconv is faster), and for the GEMM-bound
workloads the fraction of NumPy's own float32 matmul rate (timed in the same
rounds) that upconv reaches on the useful work
``2 * N * C_in * C_out/groups * prod(in) * prod(k)``.
The geometric mean of the ratios closes the table.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable

import numpy as np

import upconv

# name, N, C_in, C_out, spatial, kernel, stride, padding, output_padding, groups
WORKLOADS = [
    ("a DCGAN layer", 16, 256, 128, (8, 8), 4, 2, 1, 0, 1),
    ("b DCGAN last", 16, 64, 3, (32, 32), 4, 2, 1, 0, 1),
    ("c U-Net", 4, 128, 64, (64, 64), 2, 2, 0, 0, 1),
    ("d k3 s2 op1", 8, 64, 64, (32, 32), 3, 2, 1, 1, 1),
    ("e FCN-32s g21", 1, 21, 21, (16, 16), 64, 32, 16, 0, 21),
    ("e FCN-32s g1", 1, 21, 21, (16, 16), 64, 32, 16, 0, 1),
    ("f 1-d", 32, 64, 64, (1024,), 4, 2, 1, 0, 1),
    ("g 3-d", 2, 32, 16, (16, 16, 16), 4, 2, 1, 0, 1),
]
GEMM_BOUND = ("a", "d", "f")


def best_times(fns, repeat: int, rounds: int = 3, settle: float = 0.3) -> list[float]:
    """Best time of each function over ``rounds`` rounds of ``repeat`` calls.

    The functions take turns round by round, so that all of them see the
    same machine state (timings on a shared machine drift by 2x over
    minutes); within a round each is called back to back, because torch's
    OpenMP workers spin for a while after each call and would slow a
    different library timed right after it.  OpenBLAS's workers spin for
    longer (about 200 ms), so each round ends with a pause of ``settle``
    seconds.
    """
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, ts in zip(fns, times):
            fn()
            for _ in range(repeat):
                t = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t)
        time.sleep(settle)
    return [min(ts) for ts in times]


def matmul_flops() -> tuple[Callable[[], np.ndarray], int]:
    """NumPy's float32 matmul of (2048, 1024) x (1024, 2048), and its work in FLOP."""
    a = np.random.default_rng(0).standard_normal((2048, 1024), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((1024, 2048), dtype=np.float32)
    return (lambda: a @ b), 2 * 2048 * 1024 * 2048


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="auto", help="comma-separated upconv methods (default: auto)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(2)
    methods = args.methods.split(",")
    matmul, matmul_work = matmul_flops()
    print(f"upconv {upconv.__version__}, torch {torch.__version__}, numpy {np.__version__}, "
          f"{os.cpu_count()} cpus, torch threads {torch.get_num_threads()}")
    print("%matmul: the useful work per second as a fraction of NumPy's float32 matmul rate, "
          "timed in the same rounds\n")
    head = f"{'workload':16s} {'method':15s} {'torch ms':>9s} {'upconv ms':>10s} {'ratio':>6s} {'%matmul':>8s}"
    print(head)
    print("-" * len(head))
    ratios: dict[str, list[float]] = {m: [] for m in methods}
    rng = np.random.default_rng(0)
    for name, N, ci, co, sp, k, s, p, op, g in WORKLOADS:
        n = len(sp)
        x = rng.standard_normal((N, ci) + sp, dtype=np.float32)
        w = rng.standard_normal((ci, co // g) + (k,) * n, dtype=np.float32)
        tx, tw = torch.from_numpy(x), torch.from_numpy(w)
        tfn = getattr(F, f"conv_transpose{n}d")
        ref = tfn(tx, tw, None, s, p, op, g).numpy()
        flops = 2 * N * ci * (co // g) * math.prod(sp) * k**n
        runnable = []
        for m in methods:
            try:
                out = upconv.conv_transpose(x, w, None, s, p, op, g, method=m)
            except MemoryError as e:
                print(f"{name:16s} {m:15s} {'':9s} {'refused':>10s}  ({str(e)[:40]}...)")
                continue
            err = np.abs(out - ref).max() / max(1.0, np.abs(ref).max())
            if err > 1e-4:
                raise SystemExit(f"{name} {m}: result differs from torch (relative error {err:.2e})")
            runnable.append(m)
        # the loop's values bound as defaults (each iteration times its own arrays)
        fns = [lambda tfn=tfn, tx=tx, tw=tw, s=s, p=p, op=op, g=g: tfn(tx, tw, None, s, p, op, g)]
        fns += [lambda m=m, x=x, w=w, s=s, p=p, op=op, g=g: upconv.conv_transpose(x, w, None, s, p, op, g, method=m)
                for m in runnable]
        gemm_bound = name[0] in GEMM_BOUND
        t_torch, *t_ups = best_times(fns + [matmul] * gemm_bound, args.repeat)
        rate = matmul_work / t_ups.pop() if gemm_bound else None
        for m, t_up in zip(runnable, t_ups):
            ratio = t_torch / t_up
            ratios[m].append(ratio)
            frac = f"{flops / t_up / rate:8.0%}" if gemm_bound else ""
            print(f"{name:16s} {m:15s} {t_torch * 1e3:9.2f} {t_up * 1e3:10.2f} {ratio:6.2f} {frac}")
    print()
    for m, r in ratios.items():
        if r:
            print(f"geometric mean torch/upconv ({m}, {len(r)} workloads): {math.exp(np.mean(np.log(r))):.2f}")


if __name__ == "__main__":
    main()
