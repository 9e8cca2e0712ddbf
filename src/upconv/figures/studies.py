"""Figures of the studies' results (:mod:`upconv.studies`), drawn from the result objects by their attributes.

``plot_comparison``
    The same crop of every up-sampler's output side by side
    (:func:`upconv.studies.compare.compare_upsamplers`).
``plot_experiment``
    The checkerboard experiment's outputs and loss curves
    (:func:`upconv.studies.experiment.checkerboard_experiment`).
``plot_deblur``
    Every restoration of the deblurring study
    (:func:`upconv.studies.deblur.deblur_study`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v
from upconv.figures.style import check_path, figure, matplotlib_style, save
from upconv.shapes import ceil_div

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["default_crop", "plot_comparison", "plot_experiment", "plot_deblur"]


# --------------------------------------------------------------------------
# up-samplers compared


def default_crop(size: Sequence[int]) -> tuple[int, int, int, int]:
    """The crop :func:`plot_comparison` shows by default: the central half, ``(x, y, width, height)``.

    A square of side ``max(min(H, W) // 2, 1)`` centred in the image: on the
    zone plate it spans frequencies from zero to half the Nyquist limit, so
    it holds both the clean centre and the onset of aliasing.

    Examples
    --------
    >>> from upconv.figures.studies import default_crop
    >>> default_crop((256, 256))
    (64, 64, 128, 128)
    >>> default_crop((100, 60))
    (15, 35, 30, 30)
    """
    h, w = v.int_tuple(tuple(size), 2, "default_crop", "size", minimum=1)
    side = max(min(h, w) // 2, 1)
    return (w - side) // 2, (h - side) // 2, side, side


def _check_crop(crop: Any, size: tuple[int, int], func: str) -> tuple[int, int, int, int]:
    x0, y0, cw, ch = v.int_tuple(crop, 4, func, "crop")
    h, w = size
    if cw < 1 or ch < 1 or x0 < 0 or y0 < 0 or x0 + cw > w or y0 + ch > h:
        raise ValueError(
            f"{func}: crop (x, y, width, height) must lie inside the {w} x {h} (width x height) image with "
            f"width, height >= 1, got {crop!r}"
        )
    return x0, y0, cw, ch


def _display(img: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """An ``imshow`` array (``(H, W)`` gray or ``(H, W, 3)``) and its options."""
    if img.ndim == 2:
        return img, {"cmap": "gray", "vmin": 0.0, "vmax": 1.0}
    if img.shape[0] == 1:
        return img[0], {"cmap": "gray", "vmin": 0.0, "vmax": 1.0}
    rgb = np.moveaxis(img[:3] if img.shape[0] >= 3 else np.repeat(img[:1], 3, axis=0), 0, -1)
    return np.clip(rgb, 0.0, 1.0), {}


def plot_comparison(
    result: Any,
    path: str | os.PathLike | None = None,
    *,
    crop: Sequence[int] | None = None,
    columns: int = 7,
) -> Figure:
    """One figure with the same crop of the original, the input and every method's output, side by side.

    Parameters
    ----------
    result : UpsamplerComparison
        What :func:`upconv.studies.compare.compare_upsamplers` returned (or
        any object with its ``reference``, ``low``, ``scale``, ``outputs``
        and ``scores``).
    path : str or os.PathLike, optional
        Write the figure there (``.png``, ``.svg`` or ``.pdf``), without
        run-dependent metadata: the same result gives the same bytes.
    crop : (x, y, width, height) ints, optional
        Region of the reference image (default :func:`default_crop`); the
        input panel shows the matching ``1/s`` region of the down-sampled
        image.
    columns : int, optional
        Panels per row (default 7).

    Returns
    -------
    matplotlib.figure.Figure
        Panels in table order (best first), each titled with PSNR and SSIM.

    Raises
    ------
    ValueError
        If ``crop`` does not lie inside the image, or ``path`` has another
        extension.

    Examples
    --------
    >>> from upconv import data
    >>> from upconv.figures.studies import plot_comparison
    >>> from upconv.studies.compare import compare_upsamplers
    >>> r = compare_upsamplers(data.zone_plate(32), 2, methods=["nearest", "bicubic"], repeat=1)
    >>> len(plot_comparison(r).axes)
    4
    """
    func = "plot_comparison"
    if not all(hasattr(result, a) for a in ("reference", "low", "scale", "outputs", "scores")):
        raise TypeError(f"{func}: result must be an UpsamplerComparison, got {type(result).__name__}")
    path = check_path(path, func)
    columns = v.integer(columns, func, "columns", minimum=1)
    size = result.reference.shape[-2:]
    x0, y0, cw, ch = default_crop(size) if crop is None else _check_crop(crop, size, func)
    s = result.scale
    lx0, ly0 = x0 // s, y0 // s
    lx1, ly1 = max(ceil_div(x0 + cw, s), lx0 + 1), max(ceil_div(y0 + ch, s), ly0 + 1)

    def region(img: np.ndarray, a: int, b: int, c: int, d: int) -> np.ndarray:
        return img[..., b:d, a:c]

    panels = [("original", region(result.reference, x0, y0, x0 + cw, y0 + ch), None),
              (f"input (1/{s}, area)", region(result.low, lx0, ly0, lx1, ly1), None)]
    for sc in result.scores:
        panels.append((sc.method, region(result.outputs[sc.method], x0, y0, x0 + cw, y0 + ch), sc))
    cols = min(columns, len(panels))
    rows = ceil_div(len(panels), cols)
    side = 1.9
    with matplotlib_style():
        fig = figure(side * cols, (side + 0.45) * rows)
        axes = fig.subplots(rows, cols, squeeze=False)
        for ax in axes.ravel():
            ax.set_axis_off()
        for ax, (title, img, sc) in zip(axes.ravel(), panels, strict=False):
            data, opts = _display(np.asarray(img))
            ax.imshow(data, interpolation="nearest", **opts)
            if sc is not None:
                title = f"{title}\n{sc.psnr:.2f} dB, SSIM {sc.ssim:.3f}"
            else:
                title = f"{title}\n "
            ax.set_title(title, fontsize=7.5)
        fig.suptitle(f"x{s} up-sampling, crop x={x0} y={y0} {cw}×{ch} of {size[1]}×{size[0]}")
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.55 / ((side + 0.45) * rows),
                            wspace=0.05, hspace=0.3)
    save(fig, path)
    return fig


# --------------------------------------------------------------------------
# the checkerboard experiment


def plot_experiment(result: Any) -> Figure:
    """The checkerboard experiment as a :class:`matplotlib.figure.Figure`: trained outputs, then the loss curves.

    ``result`` is what :func:`upconv.studies.experiment.checkerboard_experiment`
    returned.
    Top row: the low-resolution input (nearest-enlarged), every method's
    output on the first held-out crop after training, and the ground truth;
    second row: the same outputs at initialisation (where the checkerboard
    of the transposed convolutions is plain); bottom: training loss per step
    for every method (log scale).  Save it with ``fig.savefig(path)``; no
    pyplot state is touched.
    """
    from matplotlib.figure import Figure

    res = result.results
    cols = len(res) + 2
    fig = Figure(figsize=(2.2 * cols, 7.5), layout="constrained")
    grid = fig.add_gridspec(3, cols, height_ratios=[1, 1, 1.2])
    scale = result.target.shape[0] // result.low_res.shape[0]
    lr_big = np.kron(result.low_res, np.ones((scale, scale), np.float32))
    for row, (which, name) in enumerate(((1, "trained"), (0, "initialisation"))):
        panels = [(f"input (x{scale} nearest)", lr_big)] + [(r.method, r.outputs[which]) for r in res]
        panels.append(("ground truth", result.target))
        for i, (title, img) in enumerate(panels):
            ax = fig.add_subplot(grid[row, i])
            ax.imshow(np.clip(img, 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i and i <= len(res):
                r = res[i - 1]
                ax.set_title(f"{title}\n{r.psnr[which]:.2f} dB", fontsize=8)
            else:
                ax.set_title(title, fontsize=8)
        fig.axes[-cols].set_ylabel(name, fontsize=9)
    ax = fig.add_subplot(grid[2, :])
    for r in res:
        ax.plot(np.arange(1, len(r.step_losses) + 1), r.step_losses, label=r.method, linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("MSE loss")
    ax.legend(fontsize=8, ncol=3)
    ax.grid(True, alpha=0.3)
    return fig


# --------------------------------------------------------------------------
# the deblurring study


def plot_deblur(result: Any) -> Figure:
    """Every restoration of a deblurring study next to the original and the observation, with PSNR and SSIM.

    ``result`` is what :func:`upconv.studies.deblur.deblur_study` returned.
    Save the figure with ``fig.savefig(path)``; no pyplot state is touched.
    """
    from matplotlib.figure import Figure

    baseline, *methods = result.rows
    y_label = baseline.method if result.stride == 1 else "y (observed)"
    panels: list[tuple[str, np.ndarray, tuple[float, float] | None]] = [
        ("original x", result.original, None), (y_label, result.observed, None)]
    panels += [(r.method, r.estimate[0], (r.psnr, r.ssim)) for r in methods if r.estimate is not None]
    cols = 4
    nrows = ceil_div(len(panels), cols)
    fig = Figure(figsize=(3.2 * cols, 3.5 * nrows), layout="constrained")
    axes = fig.subplots(nrows, cols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (title, img, score) in zip(axes.ravel(), panels, strict=False):
        ax.imshow(np.clip(img, 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        if score is not None:
            title = f"{title}\nPSNR {score[0]:.2f} dB, SSIM {score[1]:.3f}"
        ax.set_title(title, fontsize=9)
    return fig
