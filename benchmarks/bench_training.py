"""One training step of the checkerboard experiment's decoder: upconv vs the same model in PyTorch.

Run ``python benchmarks/bench_training.py [--repeat R] [--threads T] [--batch B] [--patch P]``.

A step is forward + MSE loss + backward (no input gradient) + Adam, float32,
on the x4 decoder of :func:`upconv.studies.experiment.build_decoder` (16 features,
batch 16 of 12x12 -> 48x48) with each up-sampling method.  The torch model
has the same layers and, through :func:`upconv.nn.load_torch_state_dict`,
the same weights.  Both run in this process on ``T`` threads (2 by default:
``torch.set_num_threads``, ``upconv.set_num_threads`` and, when this script
sets them before NumPy is imported, ``OPENBLAS_NUM_THREADS`` /
``OMP_NUM_THREADS``).  The median of ``R`` steps after 3 warm-up steps is
reported (the two libraries take turns in 3 rounds); ``ratio`` is
``upconv_ms / torch_ms`` (target: <= 1.5).  The ``cpu`` columns give the
median process CPU time of a step (all threads together): on a machine
shared with other work, where wall-clock times of parallel code swing, they
show how much computing each step needs.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

_THREADS = "2"
for _i, _a in enumerate(sys.argv):
    if _a == "--threads" and _i + 1 < len(sys.argv):
        _THREADS = sys.argv[_i + 1]
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _THREADS)

import numpy as np  # noqa: E402

import upconv  # noqa: E402
from upconv import nn  # noqa: E402
from upconv.studies.experiment import UPSAMPLING_LAYERS, build_decoder  # noqa: E402


def torch_decoder(method: str, features: int, channels: int = 1):
    import torch.nn as tn

    f = features

    def up():
        if method == "transposed_k3s2":
            return [tn.ConvTranspose2d(f, f, 3, 2, 1, 1)]
        if method == "transposed_k4s2":
            return [tn.ConvTranspose2d(f, f, 4, 2, 1)]
        if method == "resize_nearest":
            return [tn.Upsample(scale_factor=2, mode="nearest"), tn.Conv2d(f, f, 3, padding=1)]
        if method == "resize_bilinear":
            return [tn.Upsample(scale_factor=2, mode="bilinear"), tn.Conv2d(f, f, 3, padding=1)]
        return [tn.Conv2d(f, 4 * f, 3, padding=1), tn.PixelShuffle(2)]

    return tn.Sequential(tn.Conv2d(channels, f, 3, padding=1), tn.ReLU(), *up(), tn.ReLU(), *up(), tn.ReLU(),
                         tn.Conv2d(f, channels, 3, padding=1))


def median_ms(steps, repeat: int, rounds: int = 3) -> list[tuple[float, float]]:
    """Median wall-clock and process CPU time of one step of each function, in ms.

    The functions take turns for ``rounds`` rounds of ``repeat // rounds``
    steps (after 3 warm-up steps each), so that all of them see the same
    machine state; wall-clock times on a shared machine drift by 2x over
    minutes.
    """
    wall = [[] for _ in steps]
    cpu = [[] for _ in steps]
    for _ in range(rounds):
        for step, w, c in zip(steps, wall, cpu):
            for _ in range(3):
                step()
            for _ in range(max(1, repeat // rounds)):
                t0, c0 = time.perf_counter(), time.process_time()
                step()
                w.append(time.perf_counter() - t0)
                c.append(time.process_time() - c0)
    return [(1e3 * float(np.median(w)), 1e3 * float(np.median(c))) for w, c in zip(wall, cpu)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--patch", type=int, default=48, help="high-resolution patch size (multiple of 4)")
    parser.add_argument("--features", type=int, default=16)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    upconv.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    hr = rng.random((args.batch, 1, args.patch, args.patch), dtype=np.float32) - np.float32(0.5)
    lr = hr.reshape(args.batch, 1, args.patch // 4, 4, args.patch // 4, 4).mean(axis=(3, 5))
    t_lr, t_hr = torch.from_numpy(lr), torch.from_numpy(hr)

    print(f"# {platform.processor() or platform.machine()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"{args.threads} threads, float32, batch {args.batch}, {lr.shape[-1]}->{hr.shape[-1]} px, "
          f"{args.features} features; median of {args.repeat} steps (forward + backward + Adam)")
    print(f"{'method':<20} {'upconv ms':>10} {'torch ms':>10} {'ratio':>7} {'upconv cpu':>11} {'torch cpu':>10}")
    ratios = []
    for method in UPSAMPLING_LAYERS:
        model = build_decoder(method, features=args.features)
        loss, opt = nn.MSELoss(), nn.Adam(model, lr=1e-3)
        tmodel = torch_decoder(method, args.features)
        nn.load_torch_state_dict(model, tmodel, mapping="order")  # sub-pixel layers shift the names
        topt = torch.optim.Adam(tmodel.parameters(), lr=1e-3)
        tloss = torch.nn.MSELoss()

        # the loop's values bound as defaults
        def step_upconv(loss=loss, model=model, opt=opt):
            loss.forward(model.forward(lr), hr)
            model.backward(loss.backward(), input_grad=False)
            opt.step()

        def step_torch(topt=topt, tloss=tloss, tmodel=tmodel):
            topt.zero_grad()
            tloss(tmodel(t_lr), t_hr).backward()
            topt.step()

        (u, uc), (t, tc) = median_ms([step_upconv, step_torch], args.repeat)
        ratios.append(u / t)
        print(f"{method:<20} {u:10.2f} {t:10.2f} {u / t:7.2f} {uc:11.2f} {tc:10.2f}")
    print(f"{'geometric mean':<20} {'':>10} {'':>10} {float(np.exp(np.mean(np.log(ratios)))):7.2f}")


if __name__ == "__main__":
    main()
