"""conv and its weight gradient: upconv side by side with PyTorch, and upconv's two engines (CPU, 2 threads, float32).

Run: ``python benchmarks/bench_conv.py [--repeat 7]``

For few-channel convolutions (the layers of small decoders and
super-resolution nets) it prints, for the forward convolution and for the
weight gradient, torch's best time, upconv's (``auto``: the rule
``upconv.ops.paths.use_simd_conv`` picks the engine), upconv's im2col + GEMM engine and its
float32 vector kernels forced, and the ratio torch_ms / upconv_ms (> 1:
upconv is faster).  torch's weight gradient is timed as
``torch.ops.aten.convolution_backward`` with only the weight mask set.  The
``gemm/simd`` column is the evidence behind the rule.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np

import upconv
from upconv import grad
from upconv.ops import paths

sys.path.insert(0, os.path.dirname(__file__))
from bench_conv_transpose import best_times  # noqa: E402

# name, N, C_in, C_out, spatial, kernel, padding
WORKLOADS = [
    ("decoder 16->16 48^2", 16, 16, 16, (48, 48), 3, 1),
    ("decoder 16->16 24^2", 16, 16, 16, (24, 24), 3, 1),
    ("sub-pixel 16->64 24^2", 16, 16, 64, (24, 24), 3, 1),
    ("SR 32->32 64^2", 4, 32, 32, (64, 64), 3, 1),
    ("SR 64->64 64^2", 4, 64, 64, (64, 64), 3, 1),
    ("k5 8->8 96^2", 4, 8, 8, (96, 96), 5, 2),
    ("1-d 16->16 L4096", 16, 16, 16, (4096,), 7, 3),
    ("3-d 8->8 24^3", 2, 8, 8, (24, 24, 24), 3, 1),
    ("wide 128->128 32^2", 8, 128, 128, (32, 32), 3, 1),
]


def _engines(monkeypatch_value):
    """A context that sets ``paths.SIMD_MAX_CHANNELS`` (0: im2col + GEMM; large: vector kernels)."""

    class _Engine:
        def __enter__(self):
            self.saved = paths.SIMD_MAX_CHANNELS, paths.SIMD_MAX_PRODUCT
            paths.SIMD_MAX_CHANNELS = monkeypatch_value
            paths.SIMD_MAX_PRODUCT = monkeypatch_value**2

        def __exit__(self, *exc):
            paths.SIMD_MAX_CHANNELS, paths.SIMD_MAX_PRODUCT = self.saved

    return _Engine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    upconv.set_num_threads(2)
    print(f"upconv {upconv.__version__}, torch {torch.__version__}, numpy {np.__version__}, "
          f"{os.cpu_count()} cpus, 2 threads, float32; best of {args.repeat} x 3 rounds\n")
    head = (f"{'workload':22s} {'pass':7s} {'torch ms':>9s} {'auto ms':>8s} {'gemm ms':>8s} {'simd ms':>8s} "
            f"{'torch/auto':>10s} {'gemm/simd':>9s}")
    print(head)
    print("-" * len(head))
    ratios: dict[str, list[float]] = {"forward": [], "weight": []}
    rng = np.random.default_rng(0)
    for name, N, ci, co, sp, k, p in WORKLOADS:
        n = len(sp)
        x = rng.standard_normal((N, ci) + sp, dtype=np.float32)
        w = rng.standard_normal((co, ci) + (k,) * n, dtype=np.float32)
        tx, tw = torch.from_numpy(x), torch.from_numpy(w)
        tconv = getattr(torch.nn.functional, f"conv{n}d")
        ty = tconv(tx, tw, None, 1, p)
        gy = rng.standard_normal(tuple(ty.shape), dtype=np.float32)
        tgy = torch.from_numpy(gy)
        ref_w = torch.ops.aten.convolution_backward(tgy, tx, tw, None, (1,) * n, (p,) * n, (1,) * n, False,
                                                    (0,) * n, 1, (False, True, False))[1].numpy()
        np.testing.assert_allclose(upconv.conv(x, w, None, 1, p), ty.numpy(), rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(grad.conv_grad_weight(gy, x, w, None, 1, p), ref_w, rtol=1e-3, atol=1e-2)

        def gemm(fn):
            def run():
                with _engines(0):
                    fn()
            return run

        def simd(fn):
            def run():
                with _engines(1 << 20):
                    fn()
            return run

        # the loop's values bound as defaults (each iteration times its own arrays)
        passes = {
            "forward": (lambda tconv=tconv, tx=tx, tw=tw, p=p: tconv(tx, tw, None, 1, p),
                        lambda x=x, w=w, p=p: upconv.conv(x, w, None, 1, p)),
            "weight": (lambda tgy=tgy, tx=tx, tw=tw, n=n, p=p: torch.ops.aten.convolution_backward(
                tgy, tx, tw, None, (1,) * n, (p,) * n, (1,) * n, False, (0,) * n, 1, (False, True, False)),
                lambda gy=gy, x=x, w=w, p=p: grad.conv_grad_weight(gy, x, w, None, 1, p)),
        }
        for label, (t_fn, u_fn) in passes.items():
            t_torch, t_auto, t_gemm, t_simd = best_times([t_fn, u_fn, gemm(u_fn), simd(u_fn)], args.repeat)
            ratios[label].append(t_torch / t_auto)
            print(f"{name:22s} {label:7s} {t_torch * 1e3:9.2f} {t_auto * 1e3:8.2f} {t_gemm * 1e3:8.2f} "
                  f"{t_simd * 1e3:8.2f} {t_torch / t_auto:10.2f} {t_gemm / t_simd:9.2f}")
    print()
    for label, r in ratios.items():
        print(f"geometric mean torch/upconv ({label}, {len(r)} workloads): {math.exp(np.mean(np.log(r))):.2f}")


if __name__ == "__main__":
    main()
