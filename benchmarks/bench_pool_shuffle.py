"""Side-by-side timings of upconv and torch for max_pool, max_unpool and pixel_shuffle.

Run ``python benchmarks/bench_pool_shuffle.py [--repeat R]``.  Both libraries
run in this process on 2 threads (``torch.set_num_threads(2)``,
``upconv.set_num_threads(2)``), float32; the first call
of each (loading the kernels) is excluded, the best of ``R`` runs is reported.
``ratio`` is ``torch_ms / upconv_ms`` (> 1: upconv is faster).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import upconv


def best_ms(fn, repeat: int) -> float:
    fn()  # warm-up: compilation, page cache
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    upconv.set_num_threads(args.threads)
    rng = np.random.default_rng(0)

    pool_in = rng.standard_normal((16, 64, 128, 128), dtype=np.float32)
    unpool_src = rng.standard_normal((16, 64, 128, 128), dtype=np.float32)
    u_vals, u_idx = upconv.max_pool(unpool_src, 2, return_indices=True)  # (16, 64, 64, 64)
    shuffle_in = rng.standard_normal((16, 256, 64, 64), dtype=np.float32)
    tp, tu, ti, ts = (torch.from_numpy(a) for a in (pool_in, u_vals, u_idx, shuffle_in))

    cases = [
        ("max_pool k2 s2 (16,64,128,128)", lambda: F.max_pool2d(tp, 2, 2), lambda: upconv.max_pool(pool_in, 2)),
        (
            "max_pool k2 s2 +indices",
            lambda: F.max_pool2d(tp, 2, 2, return_indices=True),
            lambda: upconv.max_pool(pool_in, 2, return_indices=True),
        ),
        ("max_unpool k2 s2 (16,64,64,64)", lambda: F.max_unpool2d(tu, ti, 2, 2),
         lambda: upconv.max_unpool(u_vals, u_idx, 2)),
        ("pixel_shuffle r2 (16,256,64,64)", lambda: F.pixel_shuffle(ts, 2),
         lambda: upconv.pixel_shuffle(shuffle_in, 2)),
        ("pixel_unshuffle r2 (16,256,64,64)", lambda: F.pixel_unshuffle(ts, 2),
         lambda: upconv.pixel_unshuffle(shuffle_in, 2)),
    ]
    # results must agree before timing means anything
    t_vals, t_idx = F.max_pool2d(tp, 2, 2, return_indices=True)
    p_vals, p_idx = upconv.max_pool(pool_in, 2, return_indices=True)
    np.testing.assert_array_equal(t_vals.numpy(), p_vals)
    np.testing.assert_array_equal(t_idx.numpy(), p_idx)
    np.testing.assert_array_equal(F.max_unpool2d(tu, ti, 2, 2).numpy(), upconv.max_unpool(u_vals, u_idx, 2))
    np.testing.assert_array_equal(F.pixel_shuffle(ts, 2).numpy(), upconv.pixel_shuffle(shuffle_in, 2))
    np.testing.assert_array_equal(F.pixel_unshuffle(ts, 2).numpy(), upconv.pixel_unshuffle(shuffle_in, 2))

    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, numpy {np.__version__}, "
          f"threads {args.threads}, best of {args.repeat}")
    print(f"{'case':36s} {'torch_ms':>9s} {'upconv_ms':>10s} {'ratio':>6s}")
    for name, t_fn, u_fn in cases:
        t_ms, u_ms = best_ms(t_fn, args.repeat), best_ms(u_fn, args.repeat)
        print(f"{name:36s} {t_ms:9.2f} {u_ms:10.2f} {t_ms / u_ms:6.2f}")


if __name__ == "__main__":
    main()
