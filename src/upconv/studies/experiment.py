"""The checkerboard experiment: one x4 super-resolution decoder, six ways to up-sample.

The same small decoder

    conv 3x3 (1 -> F), ReLU, up x2 (F -> F), ReLU, up x2 (F -> F), ReLU, conv 3x3 (F -> 1)

is trained with :mod:`upconv.nn` on patches of the built-in images
(grayscale, the low-resolution input is the 4x4 box average of the target),
with each up-sampling layer of :data:`UPSAMPLING_LAYERS`:

=====================  =========================================================
transposed_k3s2        transposed conv, kernel 3, stride 2 (uneven overlap)
transposed_k4s2        transposed conv, kernel 4, stride 2 (kernel divisible by stride)
resize_nearest         nearest up-sampling, then conv 3x3 (Odena et al. 2016)
resize_bilinear        bilinear up-sampling, then conv 3x3
pixel_shuffle          sub-pixel conv (Shi et al. 2016), torch's default init
pixel_shuffle_icnr     sub-pixel conv with ICNR init (Aitken et al. 2017)
=====================  =========================================================

Every method starts from the same seed and sees the same batches.  For each,
at initialisation and after training, :func:`checkerboard_experiment`
reports the PSNR on held-out image regions, the polyphase DC-gain spread of
the up-sampling weights (:func:`upconv.checkerboard.dc_gain_spread`; zero
means a flat input gives a flat output), the fraction of the output's
spectral energy at the stride frequencies ``j/4``
(:func:`upconv.checkerboard.stride_frequency_energy`, next to the same
measure for the ground truth), and the "ripple": the RMS variation of the
output for a flat input, where every variation is an artifact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from upconv import _validate as v
from upconv import nn
from upconv.explain.dc_gain import dc_gain_spread
from upconv.explain.report import table
from upconv.explain.spectral import stride_frequency_energy
from upconv.ops.interpolation import interpolate
from upconv.restore.metrics import psnr

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["UPSAMPLING_LAYERS", "Progress", "MethodResult", "ExperimentResult", "build_decoder",
           "checkerboard_experiment"]

#: The decoder's up-sampling layers, name -> description.
UPSAMPLING_LAYERS: dict[str, str] = {
    "transposed_k3s2": "transposed conv k3 s2",
    "transposed_k4s2": "transposed conv k4 s2",
    "resize_nearest": "resize-conv nearest",
    "resize_bilinear": "resize-conv bilinear",
    "pixel_shuffle": "pixel shuffle (default init)",
    "pixel_shuffle_icnr": "pixel shuffle (ICNR init)",
}

#: Overall up-sampling factor of the decoder (two x2 stages).
SCALE = 4

# The decoder maps centred images (pixel values minus this) to centred images.
_MEAN = np.float32(0.5)


def _up_layer(method: str, f: int, rng: np.random.Generator, dtype: npt.DTypeLike) -> nn.Module:
    if method == "transposed_k3s2":
        return nn.ConvTranspose(f, f, 3, stride=2, padding=1, output_padding=1, rng=rng, dtype=dtype)
    if method == "transposed_k4s2":
        return nn.ConvTranspose(f, f, 4, stride=2, padding=1, rng=rng, dtype=dtype)
    if method == "resize_nearest":
        return nn.ResizeConv(f, f, 3, scale_factor=2, mode="nearest", rng=rng, dtype=dtype)
    if method == "resize_bilinear":
        return nn.ResizeConv(f, f, 3, scale_factor=2, mode="linear", rng=rng, dtype=dtype)
    if method == "pixel_shuffle":
        return nn.SubPixelConv(f, f, 3, upscale_factor=2, init="default", rng=rng, dtype=dtype)
    return nn.SubPixelConv(f, f, 3, upscale_factor=2, init="icnr", rng=rng, dtype=dtype)


def build_decoder(method: str, *, features: int = 16, channels: int = 1, seed: int = 0,
                  dtype: npt.DTypeLike = np.float32) -> nn.Sequential:
    """The experiment's x4 decoder with the up-sampling layers of ``method``.

    ``conv3x3(channels -> F), ReLU, up(F -> F), ReLU, up(F -> F), ReLU,
    conv3x3(F -> channels)``; the weights are drawn from
    ``numpy.random.default_rng(seed)`` (so the first convolution is the same
    for every method).

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.studies.experiment import build_decoder
    >>> model = build_decoder("pixel_shuffle_icnr", features=4)
    >>> model.forward(np.zeros((1, 1, 6, 6), np.float32)).shape
    (1, 1, 24, 24)
    """
    func = "build_decoder"
    method = v.choice(method, tuple(UPSAMPLING_LAYERS), func, "method")
    f = v.integer(features, func, "features", minimum=1)
    c = v.integer(channels, func, "channels", minimum=1)
    rng = np.random.default_rng(v.integer(seed, func, "seed", minimum=0))
    head = nn.Conv(c, f, 3, padding=1, rng=rng, dtype=dtype)
    ups = [_up_layer(method, f, rng, dtype) for _ in range(2)]
    tail = nn.Conv(f, c, 3, padding=1, rng=rng, dtype=dtype)
    return nn.Sequential(head, nn.ReLU(), ups[0], nn.ReLU(), ups[1], nn.ReLU(), tail)


# --------------------------------------------------------------------------
# data


def _to_gray(img: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """An image as float32 luminance in [0, 1], shape (H, W)."""
    a = np.asarray(img)
    scale = 255.0 if a.dtype == np.uint8 else (65535.0 if a.dtype == np.uint16 else 1.0)
    a = a.astype(np.float32) / np.float32(scale)
    if a.ndim == 3:
        if a.shape[-1] in (3, 4):  # HWC
            a = a[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
        elif a.shape[0] in (3, 4):  # CHW
            a = np.tensordot(np.array([0.299, 0.587, 0.114], np.float32), a[:3], axes=1)
        else:
            a = a.mean(axis=-1)
    return np.clip(a, 0, 1).astype(np.float32)


# Test charts of upconv.data (aliasing patterns up to Nyquist, which no x4 decoder can recover): not used.
_CHARTS = frozenset({"zone_plate", "siemens_star", "text"})


def _images() -> tuple[list[tuple[str, np.ndarray]], str]:
    """The built-in photographs (grayscale) and where they came from.

    Every image of :mod:`upconv.data` but the test charts, and a colour
    image only when it has no ``"_gray"`` twin.  They need no Pillow
    (:mod:`upconv.images.png` decodes them when it is missing), so the
    numbers never depend on what is installed; an error is raised, never
    replaced by other images.
    """
    from upconv.images import samples as data

    names = [n for n in data.names() if n not in _CHARTS]
    names = [n for n in names if f"{n}_gray" not in names] or list(data.names())
    imgs = [(name, _to_gray(data.load(name))) for name in names]
    imgs = [(n, a) for n, a in imgs if a.ndim == 2 and min(a.shape) >= 64]
    return imgs, "upconv.data: " + ", ".join(n for n, _ in imgs)


def _downsample(hr: np.ndarray) -> np.ndarray:
    """``(..., H, W) -> (..., H/4, W/4)``: the mean of every 4x4 block."""
    *lead, h, w = hr.shape
    return hr.reshape(*lead, h // SCALE, SCALE, w // SCALE, SCALE).mean(axis=(-3, -1)).astype(hr.dtype)


def _split(images: list[tuple[str, np.ndarray]], eval_size: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Training regions (top 3/4 of each image) and held-out crops (tiles of the bottom quarter)."""
    train, held = [], []
    for _, img in images:
        h, w = img.shape
        cut = (3 * h // 4) // SCALE * SCALE
        train.append(img[:cut])
        bottom = img[cut:]
        e = min(eval_size, bottom.shape[0] // SCALE * SCALE, w // SCALE * SCALE)
        for x0 in range(0, w - e + 1, e):
            held.append(bottom[:e, x0 : x0 + e])
    e = min(a.shape[0] for a in held)
    return train, np.stack([a[:e, :e] for a in held])[:, None]


def _batches(train: list[np.ndarray], rng: np.random.Generator, steps: int, batch: int, patch: int) -> list[np.ndarray]:
    """``steps`` batches of random high-resolution patches ``(batch, 1, patch, patch)``."""
    out = []
    for _ in range(steps):
        b = np.empty((batch, 1, patch, patch), np.float32)
        for i in range(batch):
            img = train[int(rng.integers(len(train)))]
            y = int(rng.integers(0, img.shape[0] - patch + 1))
            x = int(rng.integers(0, img.shape[1] - patch + 1))
            p = img[y : y + patch, x : x + patch]
            if rng.random() < 0.5:
                p = p[:, ::-1]
            b[i, 0] = p
        out.append(b)
    return out


# --------------------------------------------------------------------------
# measurements


def _psnr(reference: np.ndarray, estimate: np.ndarray) -> float:
    return psnr(reference, np.clip(estimate, 0, 1), data_range=1.0)


def _dc_spread(model: nn.Sequential) -> float:
    """Largest rms polyphase DC-gain spread over the decoder's two up-sampling layers."""
    spreads = []
    for layer in model.layers:
        if hasattr(layer, "transposed_weight"):
            w, s = layer.transposed_weight()
            spreads.append(dc_gain_spread(w, s).rms_spread)
    return max(spreads)


def _ripple(model: nn.Sequential, size: int) -> float:
    """RMS deviation from its mean of the decoder's output for a flat mid-gray input (8 px in from the borders).

    A flat input has no content to reconstruct: whatever varies in the
    output is the up-sampling's own pattern (the checkerboard), in intensity units.
    """
    y = model.forward(np.zeros((1, 1, size, size), np.float32))[0, 0, 8:-8, 8:-8]
    return float(np.sqrt(np.mean((y - y.mean(dtype=np.float64)) ** 2, dtype=np.float64)))


def _stride_energy(y: np.ndarray) -> float:
    """Fraction of the outputs' spectral energy at the frequencies j/4 (4 pixels in from the borders)."""
    return stride_frequency_energy(y[..., 4:-4, 4:-4], (SCALE, SCALE))


class Progress(NamedTuple):
    """Where the training is, passed to the ``progress`` callback after every step; ``str()`` is a status line."""

    method: str
    index: int  # type: ignore[assignment]  # the field names hide tuple.index and tuple.count (public names)
    count: int  # type: ignore[assignment]
    epoch: int
    epochs: int
    step: int
    steps: int
    loss: float

    def __str__(self) -> str:
        done = ((self.epoch - 1) * self.steps + self.step) / (self.epochs * self.steps)
        bar = "#" * int(20 * done) + "." * (20 - int(20 * done))
        return (f"[{self.index}/{self.count} {self.method:<18}] [{bar}] epoch {self.epoch}/{self.epochs} "
                f"step {self.step}/{self.steps} loss {self.loss:.5f}")


@dataclass
class MethodResult:
    """Measurements of one up-sampling method.

    ``psnr``, ``dc_spread``, ``stride_energy`` and ``ripple`` (RMS
    variation of the output for a flat input) are ``(at initialisation,
    after training)`` pairs; ``losses`` holds the mean training loss of every
    epoch; ``outputs`` the decoder's outputs on the first held-out crop
    (initialisation, trained).
    """

    method: str
    label: str
    psnr: tuple[float, float]
    dc_spread: tuple[float, float]
    stride_energy: tuple[float, float]
    ripple: tuple[float, float]
    losses: list[float]
    step_losses: list[float]
    outputs: tuple[np.ndarray, np.ndarray]
    seconds: float


@dataclass
class ExperimentResult:
    """All methods' results, the data used and the configuration."""

    results: list[MethodResult]
    low_res: np.ndarray
    target: np.ndarray
    target_stride_energy: float
    bicubic_psnr: float
    config: dict[str, Any] = field(default_factory=dict)

    def format_table(self) -> str:
        """The results as a plain-text table (one row per method)."""
        head = ("method", "PSNR init", "PSNR trained", "DC spread init", "DC spread trained",
                "E(j/4) init", "E(j/4) trained", "ripple init", "ripple trained", "final loss", "time s")
        rows = []
        for r in self.results:
            rows.append((r.method, f"{r.psnr[0]:.2f}", f"{r.psnr[1]:.2f}", f"{r.dc_spread[0]:.4f}",
                         f"{r.dc_spread[1]:.4f}", f"{r.stride_energy[0]:.4f}", f"{r.stride_energy[1]:.4f}",
                         f"{r.ripple[0]:.4f}", f"{r.ripple[1]:.4f}", f"{r.losses[-1]:.5f}", f"{r.seconds:.1f}"))
        rows.append(("bicubic (reference)", "", f"{self.bicubic_psnr:.2f}", "", "", "",
                     f"{self.target_stride_energy:.4f}", "", "", "", ""))
        lines = table(head, rows, align="<" + ">" * (len(head) - 1))
        c = self.config
        title = (f"checkerboard experiment: x{SCALE} decoder, {c.get('features')} features, {c.get('epochs')} epochs x "
                 f"{c.get('steps_per_epoch')} steps of {c.get('batch_size')} patches {c.get('patch')}px, "
                 f"Adam lr {c.get('lr')}, seed {c.get('seed')}, images: {c.get('images')}")
        notes = ("PSNR (dB) on held-out crops; DC spread: rms polyphase DC-gain spread of the up-sampling weights "
                 "(0 = flat in, flat out); E(j/4): fraction of the output's spectral energy at the stride "
                 "frequencies (reference row: ground truth); ripple: rms variation of the output for a flat "
                 "mid-gray input (the up-sampling's own pattern, intensity units)")
        return "\n".join([title, *lines, notes])

    def __str__(self) -> str:
        return self.format_table()


def checkerboard_experiment(
    *,
    epochs: int = 12,
    steps_per_epoch: int = 25,
    batch_size: int = 16,
    patch: int = 48,
    features: int = 16,
    lr: float = 2e-3,
    seed: int = 0,
    methods: tuple[str, ...] | None = None,
    quick: bool = False,
    progress: Callable[[Progress], None] | None = None,
) -> ExperimentResult:
    r"""Train the x4 decoder with every up-sampling method of :data:`UPSAMPLING_LAYERS` and measure the artifacts.

    Parameters
    ----------
    epochs, steps_per_epoch, batch_size : int, optional
        Training length: ``epochs * steps_per_epoch`` Adam steps on batches of
        ``batch_size`` random patches (the same batches for every method).
    patch : int, optional
        High-resolution patch size (a multiple of 4).
    features : int, optional
        Channels ``F`` of the decoder.
    lr : float, optional
        Adam's learning rate.
    seed : int, optional
        Seeds the weights (:func:`build_decoder`) and the batches; the same
        seed gives the same result.
    methods : tuple of str, optional
        A subset of :data:`UPSAMPLING_LAYERS` (all by default).
    quick : bool, optional
        A small configuration (2 epochs of 4 steps, 8 patches of 24 px, 8
        features) for tests; overrides the sizes above.
    progress : callable, optional
        Called with a :class:`Progress` after every training step (its
        ``str()`` is a one-line status with a bar).

    Returns
    -------
    ExperimentResult
        ``format_table()`` prints the table;
        :func:`upconv.figures.studies.plot_experiment` draws it.

    Notes
    -----
    Images are the photographs of :mod:`upconv.data` (its test charts are
    left out: their content up to the Nyquist frequency cannot be recovered
    from a x4 down-sampled input), in luminance, decoded without Pillow when
    it is missing, so the results do not depend on the installation.  The top three
    quarters of each image give the training patches, the 64 x 64 tiles of
    the bottom quarter are the held-out crops.  The low-resolution input is
    the mean of each 4x4 block; the decoder works on centred values (pixel
    minus 0.5); the loss is the mean squared error.

    Examples
    --------
    >>> from upconv.studies.experiment import checkerboard_experiment
    >>> r = checkerboard_experiment(quick=True, methods=("resize_nearest",))
    >>> [m.method for m in r.results], r.results[0].dc_spread[0] < 1e-6    # zero up to float32 rounding
    (['resize_nearest'], True)
    """
    func = "checkerboard_experiment"
    quick = v.boolean(quick, func, "quick")
    if quick:
        epochs, steps_per_epoch, batch_size, patch, features = min(epochs, 2), 4, 8, 24, 8
    epochs = v.integer(epochs, func, "epochs", minimum=1)
    steps_per_epoch = v.integer(steps_per_epoch, func, "steps_per_epoch", minimum=1)
    batch_size = v.integer(batch_size, func, "batch_size", minimum=1)
    patch = v.integer(patch, func, "patch", minimum=16)
    if patch % SCALE:
        raise ValueError(f"{func}: patch must be a multiple of {SCALE}, got {patch}")
    features = v.integer(features, func, "features", minimum=1)
    lr = v.float_tuple(lr, 1, func, "lr", positive=True)[0]
    seed = v.integer(seed, func, "seed", minimum=0)
    layers = tuple(UPSAMPLING_LAYERS)
    chosen = layers if methods is None else tuple(v.choice(m, layers, func, "methods") for m in methods)
    if not chosen:
        raise ValueError(f"{func}: methods must name at least one method, got {methods!r}")

    data_rng = np.random.default_rng(seed)
    images, source = _images()
    train, held = _split(images, 64)
    if any(min(t.shape) < patch for t in train):
        raise ValueError(f"{func}: patch={patch} is larger than a training region {min(min(t.shape) for t in train)}")
    batches = _batches(train, data_rng, epochs * steps_per_epoch, batch_size, patch)
    held_lr = _downsample(held)

    bicubic = interpolate(held_lr, scale_factor=SCALE, mode="bicubic")
    results = []
    for mi, method in enumerate(chosen):
        t0 = time.perf_counter()
        model = build_decoder(method, features=features, seed=seed)
        loss, opt = nn.MSELoss(), nn.Adam(model, lr=lr)
        out0 = model.forward(held_lr - _MEAN) + _MEAN
        measured0 = (_psnr(held, out0), _dc_spread(model), _stride_energy(out0), _ripple(model, 8))
        epoch_losses, step_losses = [], []
        for e in range(epochs):
            total = 0.0
            for s in range(steps_per_epoch):
                hr = batches[e * steps_per_epoch + s]
                value = loss.forward(model.forward(_downsample(hr) - _MEAN), hr - _MEAN)
                model.backward(loss.backward(), input_grad=False)
                opt.step()
                total += value
                step_losses.append(value)
                if progress is not None:
                    progress(Progress(method, mi + 1, len(chosen), e + 1, epochs, s + 1, steps_per_epoch, value))
            epoch_losses.append(total / steps_per_epoch)
        out1 = model.forward(held_lr - _MEAN) + _MEAN
        measured1 = (_psnr(held, out1), _dc_spread(model), _stride_energy(out1), _ripple(model, 8))
        results.append(MethodResult(
            method, UPSAMPLING_LAYERS[method],
            (measured0[0], measured1[0]), (measured0[1], measured1[1]), (measured0[2], measured1[2]),
            (measured0[3], measured1[3]),
            epoch_losses, step_losses, (out0[0, 0].copy(), out1[0, 0].copy()), time.perf_counter() - t0,
        ))
    config = {"epochs": epochs, "steps_per_epoch": steps_per_epoch, "batch_size": batch_size, "patch": patch,
              "features": features, "lr": lr, "seed": seed, "images": source, "quick": quick}
    return ExperimentResult(results, held_lr[0, 0].copy(), held[0, 0].copy(), _stride_energy(held),
                            _psnr(held, bicubic), config)
