"""upconv.deconvolve vs scikit-image: Wiener and Richardson-Lucy, side by side.

Same inputs for both: a 256x256 and a 512x512 image in [0, 1] (a smooth random
field plus edges, seeded), blurred with ``scipy.signal.convolve(mode="same")``
(zero boundary) by each kernel, plus Gaussian noise (std 0.01), clipped at 0
for Richardson-Lucy.  upconv gets the flipped PSF as its correlation kernel
and ``padding="same"``, so both solve the same problem:

* Wiener: ``skimage.restoration.wiener(y, psf, balance, clip=False)`` vs
  ``deconvolve(method="wiener", balance=..., boundary="periodic")`` (the same
  periodic model: equal results) and ``boundary="reflect"`` (upconv's padded
  variant, larger FFTs);
* Richardson-Lucy, 30 iterations: ``skimage.restoration.richardson_lucy(y,
  psf, num_iter=30, clip=False)`` vs ``deconvolve(method="richardson_lucy",
  iterations=30)`` (engine "auto").

Times are the best of ``--repeat`` runs (the two libraries alternating), in
milliseconds, single thread for both (scipy.fft with its default of one
worker).  PSNR against the sharp
image is printed too, so that speed is never bought with quality.

Run: ``python benchmarks/bench_deconvolve.py [--sizes 256 512] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import upconv
from upconv.restore.blur import blur_kernel
from upconv.restore.metrics import psnr


def test_image(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n] / n
    img = 0.5 + 0.2 * np.sin(2 * np.pi * (3 * xx + 2 * yy)) * np.cos(2 * np.pi * 5 * yy)
    for _ in range(12):  # rectangles: edges to restore
        r0, c0 = rng.integers(0, n - n // 6, 2)
        h, w = rng.integers(n // 16, n // 6, 2)
        img[r0 : r0 + h, c0 : c0 + w] = rng.uniform(0, 1)
    return np.clip(img, 0, 1)


def best_of_pair(fn_a, fn_b, repeat: int) -> tuple[float, np.ndarray, float, np.ndarray]:
    """Best time (ms) and result of each function, the two runs interleaved so that load drift hits both."""
    times_a, times_b, out_a, out_b = [], [], None, None
    for _ in range(repeat):
        t = time.perf_counter()
        out_a = fn_a()
        times_a.append(time.perf_counter() - t)
        t = time.perf_counter()
        out_b = fn_b()
        times_b.append(time.perf_counter() - t)
    return min(times_a) * 1e3, out_a, min(times_b) * 1e3, out_b


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    p.add_argument("--kernels", nargs="+", default=["gaussian:2.0", "box:5", "motion:9,30"])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--iterations", type=int, default=30)
    p.add_argument("--balance", type=float, default=0.01)
    args = p.parse_args(argv)

    import skimage
    from scipy import signal
    from skimage import restoration

    print(f"numpy {np.__version__}, scikit-image {skimage.__version__}, upconv {upconv.__version__}, "
          f"{platform.machine()}, Python {platform.python_version()}")
    head = f"{'method':<22} {'size':>7} {'kernel':<13} {'skimage ms':>10} {'upconv ms':>10} {'ratio':>6}  " \
           f"{'PSNR sk':>7} {'PSNR up':>7}"
    print(head)
    print("-" * len(head))
    rng = np.random.default_rng(1)
    for n in args.sizes:
        x = test_image(n)
        for spec in args.kernels:
            psf = blur_kernel(spec)
            w = np.ascontiguousarray(np.flip(psf))[None, None]
            blurred = signal.convolve(x, psf, mode="same")
            noisy = blurred + 0.01 * rng.standard_normal(x.shape)
            positive = np.clip(noisy, 0, None)
            # the loop's values bound as defaults (each iteration times its own arrays)
            rows = [
                ("wiener (periodic)",
                 lambda noisy=noisy, psf=psf: restoration.wiener(noisy, psf, args.balance, clip=False),
                 lambda noisy=noisy, w=w: upconv.deconvolve(noisy[None], w, padding="same", method="wiener",
                                                            balance=args.balance)[0]),
                ("wiener (reflect)",
                 lambda noisy=noisy, psf=psf: restoration.wiener(noisy, psf, args.balance, clip=False),
                 lambda noisy=noisy, w=w: upconv.deconvolve(noisy[None], w, padding="same", method="wiener",
                                                            balance=args.balance, boundary="reflect")[0]),
                (f"richardson_lucy x{args.iterations}",
                 lambda positive=positive, psf=psf: restoration.richardson_lucy(positive, psf,
                                                                                num_iter=args.iterations, clip=False),
                 lambda positive=positive, w=w: upconv.deconvolve(positive[None], w, padding="same",
                                                                  method="richardson_lucy",
                                                                  iterations=args.iterations)[0]),
            ]
            for name, sk_fn, up_fn in rows:
                t_sk, r_sk, t_up, r_up = best_of_pair(sk_fn, up_fn, args.repeat)
                print(f"{name:<22} {f'{n}x{n}':>7} {spec:<13} {t_sk:>10.1f} {t_up:>10.1f} {t_up / t_sk:>6.2f}  "
                      f"{psnr(x, r_sk, data_range=1):>7.2f} {psnr(x, r_up, data_range=1):>7.2f}")
    print("ratio = upconv / skimage (< 1: upconv is faster)")


if __name__ == "__main__":
    main()
