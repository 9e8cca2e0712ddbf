"""The fixed-order matrix product (``upconv.ops.paths.matmul``) beside NumPy's BLAS matmul (2 threads).

Run: ``python benchmarks/bench_gemm.py [--repeat 21] [--threads 2]``

Every GEMM of upconv's convolutions runs on ``paths.matmul``, whose
elements are each one sum in a fixed order (so a part of a product, a chunk
of an image or one sample of a batch, is bit for bit that part of the
whole).  This prints, for the GEMMs of the benchmarked layers (``M x K x N``,
``A^T``: ``a`` stored transposed, as scatter's weights are), the median time
of each and the ratio blas_ms / upconv_ms (> 1: upconv's is faster).  The two
are timed in separate blocks with a pause between: OpenBLAS's workers spin
for a while after every call and would take a core from a product timed
right after one.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

# name, M, K, N, a stored transposed
SHAPES = [
    ("DCGAN 8->16 scatter, N=16", 2048, 256, 1024, True),
    ("DCGAN 4->8 scatter, N=4", 4096, 512, 64, True),
    ("DCGAN z->4x4, N=1 (narrow)", 8192, 100, 1, True),
    ("conv 64->64 64^2 im2col", 64, 576, 16384, False),
    ("conv 16->16 48^2 im2col", 16, 144, 36864, False),
    ("conv 128->128 32^2 im2col", 128, 1152, 8192, False),
    ("k3 s2 64->64 scatter", 576, 64, 8192, True),
]


def median_ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import upconv
    from upconv.ops import paths

    upconv.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"{'GEMM':30s} {'dtype':8s} {'M x K x N':>20s} {'blas ms':>8s} {'upconv ms':>9s} {'ratio':>6s}")
    ratios = []
    for dtype in (np.float32, np.float64):
        for name, M, K, N, transposed in SHAPES:
            a = rng.standard_normal((1, K, M) if transposed else (1, M, K)).astype(dtype)
            a = a.transpose(0, 2, 1) if transposed else a
            b = rng.standard_normal((1, K, N)).astype(dtype)
            blas = median_ms(lambda a=a, b=b: np.matmul(a, b), args.repeat)
            time.sleep(0.5)  # (OpenBLAS's workers stop spinning)
            ours = median_ms(lambda a=a, b=b: paths.matmul(a, b), args.repeat)
            ratios.append(blas / ours)
            shape = f"{M} x {K} x {N}{' A^T' if transposed else ''}"
            print(f"{name:30s} {np.dtype(dtype).name:8s} {shape:>20s} {blas:8.2f} {ours:9.2f} {blas / ours:6.2f}")
    print(f"\ngeometric mean blas/upconv: {math.exp(np.mean(np.log(ratios))):.2f}")


if __name__ == "__main__":
    main()
