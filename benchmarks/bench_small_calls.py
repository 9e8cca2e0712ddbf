"""Small calls: the fixed cost of every operator on a 1x1x4x4 input, and conv_transpose at batch 1, beside torch.

Run ``python benchmarks/bench_small_calls.py [--threads 2] [--cpu]``.

Part 1 times each operator on a ``(1, 1, 4, 4)`` float32 input (pixel_shuffle: ``(1, 4, 4, 4)``), where
the arithmetic is nothing and the time is the call's fixed cost: validation, planning, dispatch.  Part 2
times ``conv_transpose`` on the layers of the DCGAN generator (4x4 kernels: 100 -> 512 from 1x1, then
512 -> 256 -> 128 -> 64 -> 3 doubling 4x4 to 64x64) at batch 1, 4 and 16, with the ratio torch_us /
upconv_us (> 1: upconv is faster) and its geometric mean.  Both libraries run in this process on
``--threads`` threads; each time is the best of interleaved rounds.  ``--cpu`` measures the calling
thread's CPU time instead of wall time, with one thread for upconv, torch and OpenBLAS (set before NumPy
loads): on a shared machine a stable measure of the work, blind to waiting.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

LAYERS = [  # name, C_in, C_out, input size, stride, padding (kernel 4)
    ("z -> 4x4, 100 -> 512", 100, 512, 1, 1, 0),
    ("4 -> 8, 512 -> 256", 512, 256, 4, 2, 1),
    ("8 -> 16, 256 -> 128", 256, 128, 8, 2, 1),
    ("16 -> 32, 128 -> 64", 128, 64, 16, 2, 1),
    ("32 -> 64, 64 -> 3", 64, 3, 32, 2, 1),
]


def best_times(fns, number: int, clock, rounds: int = 7) -> list[float]:
    """Best time per call of each function; the functions take turns round by round."""
    for fn in fns:
        fn()
    best = [math.inf] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t = clock()
            for _ in range(number):
                fn()
            best[i] = min(best[i], (clock() - t) / number)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cpu", action="store_true", help="thread CPU time, one thread everywhere")
    args = parser.parse_args()
    if args.cpu:
        if "numpy" in sys.modules:
            raise SystemExit("--cpu must set OpenBLAS's threads before NumPy loads")
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        args.threads = 1
    import numpy as np
    import torch
    import torch.nn.functional as F

    import upconv
    from upconv import grad

    torch.set_num_threads(args.threads)
    upconv.set_num_threads(args.threads)
    clock = time.thread_time if args.cpu else time.perf_counter
    print(f"upconv {upconv.__version__}, torch {torch.__version__}, {args.threads} threads, "
          f"{'thread CPU' if args.cpu else 'wall'} time\n")

    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 1, 4, 4), dtype=np.float32)
    w = rng.standard_normal((1, 1, 3, 3), dtype=np.float32)
    x4 = rng.standard_normal((1, 4, 4, 4), dtype=np.float32)
    y, idx = upconv.max_pool(x, 2, return_indices=True)
    xt, wt, x4t, yt, it = map(torch.from_numpy, (x, w, x4, y, idx))
    ops = {
        "conv": (lambda: upconv.conv(x, w, padding=1), lambda: F.conv2d(xt, wt, padding=1)),
        "conv_transpose": (lambda: upconv.conv_transpose(x, w, stride=2, padding=1),
                           lambda: F.conv_transpose2d(xt, wt, stride=2, padding=1)),
        "interpolate nearest": (lambda: upconv.interpolate(x, scale_factor=2),
                                lambda: F.interpolate(xt, scale_factor=2)),
        "interpolate bilinear": (lambda: upconv.interpolate(x, scale_factor=2, mode="bilinear"),
                                 lambda: F.interpolate(xt, scale_factor=2, mode="bilinear")),
        "interpolate bicubic": (lambda: upconv.interpolate(x, scale_factor=2, mode="bicubic"),
                                lambda: F.interpolate(xt, scale_factor=2, mode="bicubic")),
        "interpolate area": (lambda: upconv.interpolate(x, size=(3, 3), mode="area"),
                             lambda: F.interpolate(xt, size=(3, 3), mode="area")),
        "resize (ONNX linear)": (lambda: upconv.resize(x, scales=(1, 1, 2, 2), mode="linear"), None),
        "max_pool": (lambda: upconv.max_pool(x, 2), lambda: F.max_pool2d(xt, 2)),
        "max_pool with indices": (lambda: upconv.max_pool(x, 2, return_indices=True),
                                  lambda: F.max_pool2d(xt, 2, return_indices=True)),
        "max_unpool": (lambda: upconv.max_unpool(y, idx, 2), lambda: F.max_unpool2d(yt, it, 2)),
        "pixel_shuffle": (lambda: upconv.pixel_shuffle(x4, 2), lambda: F.pixel_shuffle(x4t, 2)),
        "resize_conv": (lambda: upconv.resize_conv(x, w, scale_factor=2),
                        lambda: F.conv2d(F.interpolate(xt, scale_factor=2), wt, padding=1)),
        "conv_grad_weight": (lambda: grad.conv_grad_weight(x, x, w, padding=1), None),
        "interpolate_grad_input": (lambda: grad.interpolate_grad_input(x4[:, :1], x, scale_factor=1, mode="bilinear"),
                                   None),
    }
    print(f"{'operator on 1x1x4x4':28s} {'upconv us':>10s} {'torch us':>9s}")
    for name, (up, ref) in ops.items():
        t_up, *t_ref = best_times([up] + ([ref] if ref else []), 300, clock)
        shown = f"{t_ref[0] * 1e6:9.1f}" if t_ref else f"{'-':>9s}"
        print(f"{name:28s} {t_up * 1e6:10.1f} {shown}")

    print(f"\n{'DCGAN generator layer (k4)':28s} {'N':>3s} {'torch us':>10s} {'upconv us':>10s} {'ratio':>6s}  method")
    for N in (1, 4, 16):
        ratios = []
        for name, ci, co, size, s, p in LAYERS:
            xl = rng.standard_normal((N, ci, size, size), dtype=np.float32)
            wl = rng.standard_normal((ci, co, 4, 4), dtype=np.float32)
            xlt, wlt = torch.from_numpy(xl), torch.from_numpy(wl)
            t_ref, t_up = best_times([lambda a=xlt, b=wlt, s=s, p=p: F.conv_transpose2d(a, b, stride=s, padding=p),
                                      lambda a=xl, b=wl, s=s, p=p: upconv.conv_transpose(a, b, stride=s, padding=p)],
                                     max(1, 20 // N), clock)
            ratios.append(t_ref / t_up)
            g = upconv.shapes.conv_transpose_geometry((size, size), (4, 4), s, p)
            method = upconv.ops.paths.auto_method(xl, wl, g, 1)
            print(f"{name:28s} {N:3d} {t_ref * 1e6:10.0f} {t_up * 1e6:10.0f} {t_ref / t_up:6.2f}  {method}")
        print(f"{'geometric mean':28s} {N:3d} {'':21s} {math.exp(sum(map(math.log, ratios)) / len(ratios)):6.2f}")


if __name__ == "__main__":
    main()
