"""The checkerboard story of one transposed convolution, as data (Odena, Dumoulin & Olah, Distill 2016).

:func:`checkerboard_story` gathers, for one single-channel configuration,
what :mod:`upconv.explain.checkerboard` measures and what resize-convolution
does instead, each from the library:

- the overlap map of the layer and of a stack of up to three layers
  (:func:`upconv.overlap_map`: Distill's period-4 pattern is two ``k3 s2``
  layers), with the period tile and the ratio;
- the polyphase DC gain of the layer's weights, the user's or seeded random
  ones (:func:`upconv.dc_gain_spread`), and the map it makes: the response
  to a flat input (:func:`upconv.conv_transpose` of ones);
- the same input up-sampled by resize-convolution (:func:`upconv.resize_conv`,
  nearest ``x s`` then the kernel as a stride-1 ``'same'`` convolution) beside
  the transposed convolution, for ``x`` and for the flat input, and the
  transposed kernel equal to it (:func:`upconv.resize_equivalent_kernel`,
  whose DC gain is flat).

``to_dict()`` is JSON (infinite ratios are None, with the verdict saying
"holes").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from upconv import _validate as v
from upconv.explain._view_data import ViewConfig, to_json
from upconv.explain.dc_gain import DCGainSpread, dc_gain_spread
from upconv.explain.overlap import OverlapMap, overlap_map, verdict
from upconv.explain.report import number
from upconv.explain.views import view_config
from upconv.ops.convolution import conv_transpose
from upconv.ops.resize_convolution import resize_conv, resize_equivalent_kernel

__all__ = ["WEIGHT_SOURCES", "MAX_LAYERS", "MAX_MAP_CELLS", "CheckerboardStory", "checkerboard_story",
           "overlap_dict", "dc_gain_dict", "random_weight"]

#: Where the weights of the DC-gain map and the resize comparison come from.
WEIGHT_SOURCES: tuple[str, ...] = ("user", "random")
#: Most layers in the stack (the configured layer and up to two more).
MAX_LAYERS = 3
#: ``to_dict`` lists an overlap map's counts when it has at most this many cells (else only its tile).
MAX_MAP_CELLS = 4096


def overlap_dict(m: OverlapMap, max_cells: int = MAX_MAP_CELLS) -> dict[str, Any]:
    """An :class:`~upconv.explain.overlap.OverlapMap` as JSON data (``counts`` None beyond ``max_cells``).

    Examples
    --------
    >>> from upconv import overlap_map
    >>> from upconv.explain.story import overlap_dict
    >>> d = overlap_dict(overlap_map(3, 2))
    >>> d["tile"], d["ratio"], d["verdict"], d["layers"][0]["label"]
    ([2, 1], 2.0, 'checkerboard', 'k3 s2')
    """
    ratio = m.ratio
    return to_json({
        "layers": [{"kernel_size": L.kernel_size, "stride": L.stride, "dilation": L.dilation, "label": str(L)}
                   for L in m.layers],
        "in_size": m.in_size, "out_size": m.counts.shape,
        "counts": m.counts if m.counts.size <= max_cells else None,
        "interior": m.interior, "period": m.period, "tile": m.tile,
        "min_count": m.min_count, "max_count": m.max_count,
        "ratio": None if math.isinf(ratio) else ratio, "ratio_text": number(ratio),
        "verdict": verdict(ratio), "artifact_free": m.artifact_free, "advice": m.advice,
    })


def dc_gain_dict(d: DCGainSpread) -> dict[str, Any]:
    """The DC gain of one channel pair as JSON data (gains within the tolerance of 0 are 0).

    Examples
    --------
    >>> import numpy as np
    >>> from upconv import dc_gain_spread
    >>> from upconv.explain.story import dc_gain_dict
    >>> d = dc_gain_dict(dc_gain_spread(np.ones((1, 1, 3)), 2))
    >>> d["gains"], d["spread"], d["flat"]
    ([2.0, 1.0], 1.0, False)
    """
    gains = np.vectorize(d.clean, otypes=[np.float64])(d.gains[0, 0])
    return to_json({
        "stride": d.stride, "dilation": d.dilation, "gains": gains,
        "spread": d.clean(d.spread[0, 0]), "relative_spread": 0.0 if d.flat else d.clean(d.relative_spread[0, 0]),
        "flat": d.flat, "tolerance": d.tolerance, "summary": d.summary,
    })


@dataclass(frozen=True, eq=False)
class CheckerboardStory:
    """The checkerboard story of one configuration (:func:`checkerboard_story`).

    Attributes
    ----------
    config : ViewConfig
        The configuration with the weights of the story (the user's or random).
    weight_source : str
        ``"user"`` or ``"random"`` (:data:`WEIGHT_SOURCES`); ``seed`` the random seed.
    layer, stack : OverlapMap
        The overlap map of the layer alone, and of the stack (the layer, then
        ``layers``; the same map when there are none).
    dc_gain : DCGainSpread
        The polyphase DC gain of ``config.weight``.
    flat_input : ndarray
        Ones, of the layer's overlap-map input size.
    flat_transposed, flat_resized : ndarray
        ``flat_input`` through the transposed convolution (padding 0: its
        interior shows one value per phase, the DC gains) and through
        resize-convolution.
    transposed, resized : ndarray
        ``config.x`` through the transposed convolution (``config.output``)
        and through resize-convolution.
    resize_kernel : ndarray
        The transposed-convolution kernel equal to the resize-convolution
        (nearest ``x s``, then ``config.weight`` as a correlation).
    resize_dc_gain : DCGainSpread
        Its DC gain: flat.
    """

    config: ViewConfig
    weight_source: str
    seed: int
    layer: OverlapMap
    stack: OverlapMap
    dc_gain: DCGainSpread
    flat_input: np.ndarray
    flat_transposed: np.ndarray
    flat_resized: np.ndarray
    transposed: np.ndarray
    resized: np.ndarray
    resize_kernel: np.ndarray
    resize_dc_gain: DCGainSpread

    def to_dict(self, max_map_cells: int = MAX_MAP_CELLS) -> dict[str, Any]:
        """As JSON-serialisable data (overlap counts listed up to ``max_map_cells`` cells)."""
        return {
            "weights": self.weight_source, "seed": self.seed, "weight": to_json(self.config.weight),
            "layer": overlap_dict(self.layer, max_map_cells), "stack": overlap_dict(self.stack, max_map_cells),
            "dc_gain": dc_gain_dict(self.dc_gain),
            "flat_input_size": to_json(self.flat_input.shape),
            "flat_transposed": to_json(self.flat_transposed), "flat_resized": to_json(self.flat_resized),
            "transposed": to_json(self.transposed), "resized": to_json(self.resized),
            "resize_kernel": to_json(self.resize_kernel), "resize_dc_gain": dc_gain_dict(self.resize_dc_gain),
        }


def random_weight(kernel_size: Sequence[int], seed: int) -> np.ndarray:
    """Seeded standard-normal weights of ``kernel_size``, rounded to 2 decimals (exact on a page).

    Examples
    --------
    >>> from upconv.explain.story import random_weight
    >>> random_weight((3,), 0).tolist()
    [0.13, -0.13, 0.64]
    """
    return np.round(np.random.default_rng(seed).standard_normal(tuple(kernel_size)), 2)


def checkerboard_story(x: Any, weight: Any, stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                       dilation: Any = 1, *, layers: Sequence[Sequence[Any]] = (), weights: str = "user",
                       seed: int = 0) -> CheckerboardStory:
    """Overlap maps, DC gain and resize-convolution of one single-channel transposed convolution.

    Parameters
    ----------
    x, weight, stride, padding, output_padding, dilation
        As :func:`upconv.explain.views.view_config`.
    layers : sequence of (kernel_size, stride) or (kernel_size, stride, dilation)
        Further layers of the stack after this one (at most two), as
        :func:`upconv.overlap_map` takes them.
    weights : {"user", "random"}
        The weights of the DC gain and the resize comparison: ``weight``, or
        :func:`random_weight` of its size with ``seed``.
    seed : int
        Seed of the random weights (>= 0).

    Returns
    -------
    CheckerboardStory

    Raises
    ------
    TypeError, ValueError, MemoryError
        For an invalid configuration, layer, weight source or seed.

    Examples
    --------
    Two ``k3 s2`` layers: Distill's period-4 pattern.

    >>> from upconv.explain.story import checkerboard_story
    >>> s = checkerboard_story([1.0, 2.0], [1.0, 1.0, 1.0], stride=2, layers=[(3, 2)])
    >>> s.layer.tile.tolist(), s.layer.ratio, s.stack.tile.tolist(), s.stack.ratio
    ([2, 1], 2.0, [3, 2, 3, 1], 3.0)
    >>> s.dc_gain.gains[0, 0].tolist(), s.resize_dc_gain.flat
    ([2.0, 1.0], True)
    """
    func = "checkerboard_story"
    weights = v.choice(weights, WEIGHT_SOURCES, func, "weights")
    seed = v.integer(seed, func, "seed", minimum=0)
    if isinstance(layers, (str, bytes)) or not isinstance(layers, (Sequence, np.ndarray)):
        raise TypeError(f"{func}: layers must be a sequence of (kernel_size, stride[, dilation]), got {layers!r}")
    if len(layers) > MAX_LAYERS - 1:
        raise ValueError(f"{func}: at most {MAX_LAYERS - 1} further layers (a stack of {MAX_LAYERS}), "
                         f"got {len(layers)}")
    c = view_config(x, weight, stride, padding, output_padding, dilation, func=func)
    if weights == "random":
        c = view_config(c.x, random_weight(c.kernel_size, seed), c.stride, c.padding, c.output_padding, c.dilation,
                        func=func)
    n = c.ndim
    layer = overlap_map(c.kernel_size, c.stride, dilation=c.dilation)
    stack = layer
    if len(layers):
        stack = overlap_map(layers=[(c.kernel_size, c.stride, c.dilation)] + list(layers), ndim=n)
    w = c.weight[None, None]
    flat = np.ones(layer.in_size)
    flat_t = conv_transpose(flat[None, None], w, stride=c.stride, dilation=c.dilation)[0, 0]
    scale = tuple(float(s) for s in c.stride)
    flat_r = resize_conv(flat[None, None], w, scale_factor=scale, padding="same")[0, 0]
    resized = resize_conv(c.x[None, None], w, scale_factor=scale, padding="same")[0, 0]
    kernel = resize_equivalent_kernel(w, c.stride)
    return CheckerboardStory(
        c, weights, seed, layer, stack, dc_gain_spread(w, c.stride, dilation=c.dilation), flat, flat_t, flat_r,
        c.output, resized, kernel[0, 0], dc_gain_spread(kernel, c.stride),
    )
