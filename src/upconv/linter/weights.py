"""Artifacts from the actual weights: per-output-channel DC-gain spread and the flat response's stride energy.

:func:`subpixel_transpose_weight` turns a sub-pixel convolution (a
convolution followed by ``DepthToSpace``/``PixelShuffle``) into the equal
transposed convolution, so the same measures apply to it (a candidate for
the library, beside :func:`upconv.resize_equivalent_kernel`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv.explain.dc_gain import dc_gain_spread
from upconv.explain.spectral import stride_frequency_energy
from upconv.linter.thresholds import THRESHOLDS
from upconv.ops.convolution import conv_transpose

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["channel_dc_response", "weights_report", "subpixel_transpose_weight"]

#: Largest flat-response computation (input elements x output channels x taps) before the input is shrunk.
MAX_RESPONSE_WORK = 2e8


def channel_dc_response(
    weight: npt.ArrayLike, stride: Sequence[int], dilation: Sequence[int], groups: int = 1,
) -> tuple[npt.NDArray[np.float64], float]:
    """Interior output per phase for a constant 1 in every input channel: ``(response, tolerance)``.

    ``response`` has shape ``(C_out, *stride)``: :attr:`DCGainSpread.response`
    of :func:`upconv.dc_gain_spread` for each group, stacked (an output
    channel only sees its group's inputs); ``tolerance`` is the rounding
    level below which spreads are zero.

    Examples
    --------
    >>> r, tol = channel_dc_response(np.ones((2, 1, 3)), (2,), (1,))
    >>> r.tolist()
    [[4.0, 2.0]]
    """
    w = np.asarray(weight, dtype=np.float64)
    per = w.shape[0] // groups
    parts, tols = [], []
    for g in range(groups):
        r = dc_gain_spread(w[g * per:(g + 1) * per], tuple(stride), dilation=tuple(dilation))
        parts.append(r.response)
        tols.append(r.tolerance * per)
    return np.concatenate(parts, axis=0), max(tols)


def weights_report(
    weight: npt.ArrayLike, params: dict[str, Any], in_size: Sequence[int],
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """DC-gain spread per output channel and stride-frequency energy of the flat response of a transposed conv.

    Returns ``(weights dict, [(code, message), ...])``.  Per output channel
    ``c``, ``relative_spread[c] = (max_r R[c, r] - min_r R[c, r]) / L`` with
    ``R`` from :func:`channel_dc_response` and ``L = max_c mean_r |R[c, r]|``
    (the layer's DC level, so that channels of near-zero gain do not divide
    by zero).  ``stride_frequency_energy`` is
    :func:`upconv.stride_frequency_energy` of the layer's output for an
    all-ones input of the layer's input size (no bias): the share of the
    flat response's variation that is a period-``stride`` pattern (borders
    make up the rest).
    """
    s, d, g = tuple(params["stride"]), tuple(params["dilation"]), int(params["groups"])
    response, tol = channel_dc_response(weight, s, d, g)
    flat = response.reshape(response.shape[0], -1)
    spread = flat.max(axis=1) - flat.min(axis=1)
    spread[spread <= tol] = 0.0
    level = float(np.abs(flat).mean(axis=1).max())
    relative = spread / level if level > tol else np.zeros_like(spread)
    worst = int(np.argmax(relative))
    energy = _flat_response_energy(weight, params, in_size)
    report = {
        "dc_gain_per_phase_worst_channel": flat[worst].round(12).tolist(),
        "relative_spread": [float(x) for x in relative],
        "max_relative_spread": float(relative[worst]),
        "worst_channel": worst,
        "channels_over_threshold": int((relative > THRESHOLDS["dc_relative_spread"].value).sum()),
        "stride_frequency_energy": energy,
    }
    findings = []
    if report["max_relative_spread"] > THRESHOLDS["dc_relative_spread"].value:
        e = "" if energy is None else f"; {energy:.0%} of the flat response's variation is at the stride frequency"
        findings.append(("dc_gain", f"uneven DC gain over the {int(np.prod(s))} phases: a flat input gives a "
                                    f"period-{'x'.join(map(str, s))} pattern; output channel {worst} spreads "
                                    f"{report['max_relative_spread']:.3g} x the layer's DC gain "
                                    f"({report['channels_over_threshold']} of {len(relative)} channels over "
                                    f"{THRESHOLDS['dc_relative_spread'].value}){e}"))
    return report, findings


def _flat_response_energy(weight: npt.ArrayLike, params: dict[str, Any], in_size: Sequence[int]) -> float | None:
    s, g = tuple(params["stride"]), int(params["groups"])
    w = np.asarray(weight, dtype=np.float64)
    per = w.shape[0] // g
    # every input channel is 1: sum each group's input channels first (one input channel per group)
    w = w.reshape(g, per, *w.shape[1:]).sum(axis=1)
    size = list(in_size)
    work = lambda: np.prod(size) * w.shape[0] * w.shape[1] * np.prod(w.shape[2:])  # noqa: E731
    while work() > MAX_RESPONSE_WORK and max(size) > 8:
        size = [max(8, x // 2) for x in size]
    try:
        y = conv_transpose(np.ones((1, g, *size)), w, None, s, [tuple(p) for p in params["padding"]],
                           tuple(params["output_padding"]), g, tuple(params["dilation"]))
        return float(stride_frequency_energy(y, s))
    except (ValueError, MemoryError):  # an output axis shorter than its stride
        return None


def subpixel_transpose_weight(
    conv_weight: npt.ArrayLike, upscale_factor: int, mode: str = "CRD", dilation: Sequence[int] | None = None,
) -> npt.NDArray[np.float64]:
    """The transposed-convolution weight equal to a stride-1 convolution followed by a depth-to-space.

    ``depth_to_space(conv(x, W, padding=p, dilation=dl), r, mode) ==
    conv_transpose(x, K, stride=r, padding=P)`` with, per axis,
    ``K[ci, c, i + dl*(k-1-t)*r] = W[channel(c, i), ci, t]`` (length
    ``(dl*(k-1)+1)*r``) and ``P = (dl*(k-1) - p) * r`` per side;
    ``channel(c, i)`` is ``c*r^n + i`` for ``CRD`` (``PixelShuffle``) and
    ``i*C + c`` for ``DCR``, ``i`` the row-major phase.  Every phase sum of
    ``K`` is a sub-kernel's sum, so :func:`upconv.dc_gain_spread` of ``K``
    is the sub-pixel layer's DC-gain spread (zero for ICNR weights).

    Parameters
    ----------
    conv_weight : (C * r**n, C_in, *k) array_like
        The convolution's weights (groups 1).
    upscale_factor : int
    mode : {"CRD", "DCR"}
    dilation : sequence of n ints, optional

    Returns
    -------
    (C_in, C, *((dl*(k-1)+1)*r)) ndarray

    Examples
    --------
    >>> W = np.arange(4.0).reshape(2, 1, 2)            # C = 1, r = 2, 1-d, k = 2
    >>> subpixel_transpose_weight(W, 2).tolist()       # taps t=1 first (flipped), phases interleaved
    [[[1.0, 3.0, 0.0, 2.0]]]
    """
    w = np.asarray(conv_weight, dtype=np.float64)
    n, r = w.ndim - 2, int(upscale_factor)
    k = w.shape[2:]
    dl = (1,) * n if dilation is None else tuple(dilation)
    c = w.shape[0] // r**n
    K = np.zeros((w.shape[1], c, *((dl[i] * (k[i] - 1) + 1) * r for i in range(n))))
    for phase in itertools.product(range(r), repeat=n):
        flat = int(np.ravel_multi_index(phase, (r,) * n))
        rows = [cc * r**n + flat for cc in range(c)] if mode == "CRD" else [flat * c + cc for cc in range(c)]
        sub = w[rows].transpose(1, 0, *range(2, n + 2))           # (C_in, C, *k)
        for taps in itertools.product(*(range(x) for x in k)):
            pos = tuple(phase[i] + dl[i] * (k[i] - 1 - taps[i]) * r for i in range(n))
            K[(slice(None), slice(None)) + pos] = sub[(slice(None), slice(None)) + taps]
    return K
