"""Layers with weights: convolution, transposed convolution, resize-convolution, sub-pixel convolution.

They are small explicit objects with parameters, gradients, ``forward`` and ``backward``.

A layer holds its parameters in ``params`` (a dict of arrays, updated in
place by the optimisers) and, after ``backward``, their gradients in
``grads`` (same keys; each ``backward`` overwrites them).  ``forward(x)``
caches what ``backward`` needs; ``backward(grad_out)`` returns the gradient
with respect to the input of the last ``forward`` (``None`` with
``input_grad=False``, which skips that computation, as autograd does for an
input that needs no gradient).  Every gradient is a function of
:mod:`upconv.grad`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v
from upconv import grad as G
from upconv.nn import init as I
from upconv.nn.module import Module
from upconv.ops.convolution import conv_keeping_cols, conv_transpose
from upconv.ops.rearrange import pixel_shuffle, pixel_unshuffle

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["Conv", "ConvTranspose", "ResizeConv", "SubPixelConv", "PixelShuffle"]

def _ndim(func: str, kernel_size: Any, ndim: Any) -> int:
    if isinstance(kernel_size, Sequence) and not isinstance(kernel_size, (str, bytes)):
        n = len(kernel_size)
        if ndim is not None and v.integer(ndim, func, "ndim", minimum=1) != n:
            raise ValueError(f"{func}: ndim={ndim} does not match kernel_size={kernel_size!r}")
        if n == 0:
            raise ValueError(f"{func}: kernel_size must not be empty")
        return n
    return 2 if ndim is None else v.integer(ndim, func, "ndim", minimum=1)


def _conv_layer_shape(func: str, in_channels: Any, out_channels: Any, kernel_size: Any, groups: Any,
                      ndim: Any) -> tuple[int, int, int, int, tuple[int, ...]]:
    """Validated ``(ndim, in_channels, out_channels, groups, kernel_size)`` of a (transposed) conv layer."""
    n = _ndim(func, kernel_size, ndim)
    ci = v.integer(in_channels, func, "in_channels", minimum=1)
    co = v.integer(out_channels, func, "out_channels", minimum=1)
    groups = v.integer(groups, func, "groups", minimum=1)
    if ci % groups or co % groups:
        raise ValueError(f"{func}: in_channels={ci} and out_channels={co} must be divisible by groups={groups}")
    return n, ci, co, groups, v.int_tuple(kernel_size, n, func, "kernel_size", minimum=1)


def _rng(func: str, rng: Any) -> np.random.Generator:
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{func}: rng must be a numpy.random.Generator or None, got {rng!r}")
    return rng


class _ConvBase(Module):
    """Shared parameter set-up of the convolution layers."""

    def _setup(self, func: str, weight_shape: tuple[int, ...], out_channels: int, bias: bool, weight: np.ndarray,
               rng: np.random.Generator, dtype: np.dtype[Any]) -> None:
        self.params["weight"] = np.ascontiguousarray(weight, dtype=dtype)
        if v.boolean(bias, func, "bias"):
            self.params["bias"] = I.torch_default_bias(weight_shape, out_channels, rng=rng, dtype=dtype)


class Conv(_ConvBase):
    r"""Convolution layer, ``y = upconv.conv(x, weight, bias, stride, padding, dilation, groups)``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or sequence of n ints
        An int means ``ndim`` spatial axes (default 2).
    stride, padding, dilation, groups : optional
        As :func:`upconv.conv` (``padding`` may be ``"same"``).
    bias : bool, optional
    ndim : int, optional
        Number of spatial axes when ``kernel_size`` is an int.
    init : {"default", "icnr"}, optional
        torch's default, or :func:`upconv.nn.init.icnr` with ``upscale_factor``
        (for a convolution that a pixel shuffle follows; the bias is then
        also equal within every group of ``upscale_factor**n`` channels).
    upscale_factor : int, optional
        For ``init="icnr"``.
    rng : numpy.random.Generator, optional
        Source of the initial weights (a fresh unseeded generator if None).
    dtype : float dtype, optional
        Of the parameters (float32 by default); inputs must have it.

    Attributes
    ----------
    params : {"weight": (C_out, C_in / groups, *k), "bias": (C_out,)}

    Notes
    -----
    When ``forward`` computes by im2col + GEMM, it keeps the im2col matrix
    it multiplies (``C_in * prod(k)`` times the output size, up to 256 MiB;
    reused every step) so that ``backward`` computes the weight gradient
    with one GEMM; the direct kernels (few channels) need none.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.nn import Conv
    >>> layer = Conv(3, 8, 3, padding=1, rng=np.random.default_rng(0))
    >>> y = layer.forward(np.ones((2, 3, 5, 5), np.float32))
    >>> gx = layer.backward(np.ones_like(y))
    >>> y.shape, gx.shape, layer.grads["weight"].shape
    ((2, 8, 5, 5), (2, 3, 5, 5), (8, 3, 3, 3))
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int], stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True, *, ndim: int | None = None,
                 init: str = "default", upscale_factor: int = 1, rng: np.random.Generator | None = None,
                 dtype: npt.DTypeLike = np.float32) -> None:
        super().__init__()
        func = "Conv"
        n, ci, co, self.groups, k = _conv_layer_shape(func, in_channels, out_channels, kernel_size, groups, ndim)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        init = v.choice(init, ("default", "icnr"), func, "init")
        r = _rng(func, rng)
        dt = I._float_dtype(func, dtype)
        shape = (co, ci // self.groups) + k
        if init == "icnr":
            w = I.icnr(shape, upscale_factor, rng=r, dtype=dt)
        else:
            w = I.torch_default_weight(shape, rng=r, dtype=dt)
        self._setup(func, shape, co, bias, w, r, dt)
        if init == "icnr" and "bias" in self.params:
            # one bias per group of r**n sub-pixel channels too, or the phases differ by a constant
            block = upscale_factor**n  # icnr() validated it
            self.params["bias"] = np.repeat(self.params["bias"][::block], block)
        self._x: np.ndarray | None = None
        self._cols: np.ndarray | None = None  # im2col matrix of the last forward input (up to 256 MiB)
        self._cols_of: np.ndarray | None = None

    def _args(self) -> tuple[np.ndarray, np.ndarray | None, Any, Any, Any, int]:
        return (self.params["weight"], self.params.get("bias"), self.stride, self.padding, self.dilation, self.groups)

    def forward(self, x: npt.ArrayLike) -> np.ndarray:
        self._x = np.asarray(x)
        return self._conv(self._x)

    def _conv(self, x: np.ndarray) -> np.ndarray:
        """``conv(x, ...)``, keeping its im2col matrix (in the same buffer every step) for backward."""
        y, self._cols = conv_keeping_cols(x, *self._args(), buffer=self._cols)
        self._cols_of = x
        return y

    def _conv_backward(self, grad_out: npt.ArrayLike, x: np.ndarray, input_grad: bool) -> np.ndarray | None:
        cols = self._cols if self._cols_of is x else None
        gx, self.grads["weight"], gb = G.convolution.conv_grads(grad_out, x, *self._args(), cols=cols,
                                                                input_grad=input_grad)
        if gb is not None:  # exactly when the layer has a bias
            self.grads["bias"] = gb
        return gx

    def backward(self, grad_out: npt.ArrayLike, *, input_grad: bool = True) -> np.ndarray | None:
        return self._conv_backward(grad_out, self._cached("_x"), input_grad)

    def extra_repr(self) -> str:
        w = self.params["weight"]
        return (f"{w.shape[1] * self.groups}, {w.shape[0]}, kernel_size={w.shape[2:]}, stride={self.stride}, "
                f"padding={self.padding!r}")


class ConvTranspose(_ConvBase):
    r"""Transposed convolution layer, ``y = upconv.conv_transpose(x, weight, bias, ...)``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or sequence of n ints
    stride, padding, output_padding, groups, dilation : optional
        As :func:`upconv.conv_transpose` (torch's order: groups before dilation).
    bias : bool, optional
    ndim : int, optional
    init : {"default", "bilinear", "resize_equivalent"}, optional
        ``"default"``: torch's (``fan_in = C_out / groups * prod(k)``, torch's
        convention for transposed convolutions); ``"bilinear"``: FCN's fixed
        bilinear kernel (:func:`upconv.nn.init.bilinear_weight`; kernel size
        ``2s - s % 2`` and padding ``s // 2`` reproduce bilinear
        interpolation away from the borders) and a zero bias;
        ``"resize_equivalent"``: nearest up-sampling followed by a random
        convolution (:func:`upconv.nn.init.resize_equivalent`), zero DC-gain
        spread.
    rng : numpy.random.Generator, optional
    dtype : float dtype, optional

    Attributes
    ----------
    params : {"weight": (C_in, C_out / groups, *k), "bias": (C_out,)}

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.nn import ConvTranspose
    >>> up = ConvTranspose(1, 1, 4, stride=2, padding=1, ndim=1, init="bilinear")
    >>> up.forward(np.array([[[0.0, 1.0, 2.0, 3.0]]], np.float32))[0, 0]
    array([0.  , 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 2.25], dtype=float32)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int], stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1, *,
                 ndim: int | None = None, init: str = "default", rng: np.random.Generator | None = None,
                 dtype: npt.DTypeLike = np.float32) -> None:
        super().__init__()
        func = "ConvTranspose"
        n, ci, co, self.groups, k = _conv_layer_shape(func, in_channels, out_channels, kernel_size, groups, ndim)
        self.stride, self.padding, self.output_padding, self.dilation = stride, padding, output_padding, dilation
        init = v.choice(init, ("default", "bilinear", "resize_equivalent"), func, "init")
        r = _rng(func, rng)
        dt = I._float_dtype(func, dtype)
        shape = (ci, co // self.groups) + k
        if init == "bilinear":
            s = v.int_tuple(stride, n, func, "stride", minimum=1)
            if len(set(s)) != 1 or any(k_ != 2 * s[0] - s[0] % 2 for k_ in k):
                raise ValueError(
                    f"{func}: init='bilinear' needs one stride s for every axis and kernel_size 2s - s % 2, "
                    f"got kernel_size={k}, stride={s}"
                )
            w = I.bilinear_weight(ci, co, s[0], ndim=n, groups=self.groups, dtype=dt)
        elif init == "resize_equivalent":
            w = I.resize_equivalent(shape, stride, rng=r, groups=self.groups, dtype=dt)
        else:
            w = I.torch_default_weight(shape, rng=r, dtype=dt)
        self._setup(func, shape, co, bias, w, r, dt)
        if init == "bilinear" and "bias" in self.params:
            self.params["bias"][...] = 0
        self._x: np.ndarray | None = None

    def _args(self) -> tuple[np.ndarray, np.ndarray | None, Any, Any, Any, int, Any]:
        return (self.params["weight"], self.params.get("bias"), self.stride, self.padding, self.output_padding,
                self.groups, self.dilation)

    def forward(self, x: npt.ArrayLike) -> np.ndarray:
        self._x = np.asarray(x)
        return conv_transpose(self._x, *self._args())

    def backward(self, grad_out: npt.ArrayLike, *, input_grad: bool = True) -> np.ndarray | None:
        x = self._cached("_x")
        gx, self.grads["weight"], gb = G.convolution.conv_transpose_grads(grad_out, x, *self._args(),
                                                                          input_grad=input_grad)
        if gb is not None:
            self.grads["bias"] = gb
        return gx

    def transposed_weight(self) -> tuple[np.ndarray, tuple[int, ...]]:
        """The layer as a transposed convolution: ``(weight, stride)`` (for the DC-gain analysis)."""
        w = self.params["weight"]
        return w, v.int_tuple(self.stride, w.ndim - 2, "ConvTranspose", "stride")

    def extra_repr(self) -> str:
        w = self.params["weight"]
        return (f"{w.shape[0]}, {w.shape[1] * self.groups}, kernel_size={w.shape[2:]}, stride={self.stride}, "
                f"padding={self.padding!r}, output_padding={self.output_padding!r}")


class ResizeConv(Conv):
    r"""Resize-convolution layer: :func:`upconv.interpolate`, then a convolution.

    The layer form of :func:`upconv.ops.resize_convolution.resize_conv`.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or sequence of n ints
    scale_factor : float or sequence of floats, optional
        Up-sampling factor (2).
    mode : str, optional
        Interpolation mode, as :func:`upconv.ops.resize_convolution.resize_conv`
        (``"nearest"``, ``"linear"`` = multilinear, ...).
    padding : optional
        The convolution's padding, ``"same"`` by default.
    bias, stride, dilation, groups, ndim, rng, dtype : optional
        As :class:`Conv`.
    align_corners : bool, optional

    Notes
    -----
    With nearest up-sampling by integer factors ``s`` (stride 1, no
    dilation, padding at most ``k - 1``) the layer is computed as the equal
    stride-``s`` transposed convolution with the kernel
    :func:`upconv.resize_equivalent_kernel` of its weight:
    ``(k + s - 1)**n`` taps per ``s**n`` output pixels instead of
    ``k**n`` per pixel (for ``k = 3, s = 2``: 2.25 times fewer
    multiplications).  The result equals
    :func:`upconv.ops.resize_convolution.resize_conv` up to rounding; the weight
    gradient is mapped back through that kernel's (linear) construction.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.nn import ResizeConv
    >>> layer = ResizeConv(2, 4, 3, mode="linear", rng=np.random.default_rng(0))
    >>> layer.forward(np.zeros((1, 2, 5, 6), np.float32)).shape
    (1, 4, 10, 12)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 scale_factor: Any = 2, mode: str = "nearest", padding: Any = "same", bias: bool = True,
                 stride: Any = 1, dilation: Any = 1, groups: int = 1, *, align_corners: bool | None = None,
                 ndim: int | None = None, rng: np.random.Generator | None = None,
                 dtype: npt.DTypeLike = np.float32) -> None:
        from upconv.ops.resize_convolution import RESIZE_CONV_MODES

        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         ndim=ndim, rng=rng, dtype=dtype)
        self.scale_factor = scale_factor
        self.mode = v.choice(mode, RESIZE_CONV_MODES, "ResizeConv", "mode")
        self.align_corners = align_corners
        self._up: np.ndarray | None = None

    def _interp_kwargs(self, x: np.ndarray) -> dict[str, Any]:
        from upconv.ops.resize_convolution import interpolation_args

        n = self.params["weight"].ndim - 2
        mode, align_corners, _ = interpolation_args("ResizeConv", x, n, self.scale_factor, self.mode,
                                                    self.align_corners)
        return {"scale_factor": self.scale_factor, "mode": mode, "align_corners": align_corners}

    def _transposed_form(self, x: np.ndarray) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]] | None:
        """``(s, P)`` when the layer equals a stride-``s`` transposed convolution with padding ``P``, else None.

        Nearest up-sampling by integer factors followed by a stride-1,
        undilated convolution whose padding is at most ``k - 1``
        (:func:`upconv.shapes.resize_conv_transpose_padding`).
        """
        if self.mode not in ("nearest", "nearest-exact") or (self.stride, self.dilation) != (1, 1):
            return None
        w = self.params["weight"]
        n, k = w.ndim - 2, w.shape[2:]
        try:
            sf = v.float_tuple(self.scale_factor, n, "ResizeConv", "scale_factor", positive=True)
        except (TypeError, ValueError):
            return None
        if any(f != int(f) for f in sf):
            return None
        from upconv.shapes import conv_geometry, resize_conv_transpose_padding

        up_size = tuple(i * int(f) for i, f in zip(x.shape[-n:], sf))
        pads = conv_geometry(up_size, k, 1, self.padding, 1, func="ResizeConv").padding
        P = resize_conv_transpose_padding(k, pads)
        if any(b < 0 or e < 0 for b, e in P):
            return None
        return tuple(int(f) for f in sf), P

    def _kernel(self, s: tuple[int, ...]) -> np.ndarray:
        from upconv.ops.resize_convolution import resize_equivalent_kernel

        return resize_equivalent_kernel(self.params["weight"], s, groups=self.groups)

    def _kernel_grad(self, gK: np.ndarray, s: tuple[int, ...]) -> np.ndarray:
        """Adjoint of :meth:`_kernel` (a linear map of the weight): ``dL/dw`` from ``dL/dK``."""
        w = self.params["weight"]
        n, g = w.ndim - 2, self.groups
        c_in, co_g = gK.shape[:2]
        # transposed-conv layout (C_in, C_out/g, *K) back to conv layout (C_out, C_in/g, *K)
        gk = gK.reshape((g, c_in // g, co_g) + gK.shape[2:]).swapaxes(1, 2)
        gk = gk.reshape((g * co_g, c_in // g) + gK.shape[2:])
        for a, s_ in enumerate(s):  # the adjoint of the full convolution with s ones: a valid box sum
            length = gk.shape[2 + a] - s_ + 1
            gk = sum(np.take(gk, np.arange(u, u + length), axis=2 + a) for u in range(s_))
        return np.ascontiguousarray(np.flip(gk, axis=tuple(range(2, 2 + n))), dtype=w.dtype)

    def forward(self, x: npt.ArrayLike) -> np.ndarray:
        from upconv.ops.interpolation import interpolate

        self._x = np.asarray(x)
        self._form = self._transposed_form(self._x)
        if self._form is not None:
            # the same function as interpolate + conv, computed as its transposed convolution on the
            # small grid: (k+s-1)**n / s**n taps per output pixel instead of k**n
            s, P = self._form
            self._up = None
            return conv_transpose(self._x, self._kernel(s), self.params.get("bias"), s, P, 0, self.groups)
        self._up = interpolate(self._x, **self._interp_kwargs(self._x))
        return self._conv(self._up)

    def backward(self, grad_out: npt.ArrayLike, *, input_grad: bool = True) -> np.ndarray | None:
        x = self._cached("_x")
        form: tuple[tuple[int, ...], tuple[tuple[int, int], ...]] | None = getattr(self, "_form", None)
        if form is not None:
            s, P = form
            args = (self._kernel(s), self.params.get("bias"), s, P, 0, self.groups)
            self.grads["weight"] = self._kernel_grad(G.conv_transpose_grad_weight(grad_out, x, *args), s)
            if "bias" in self.params:
                self.grads["bias"] = G.conv_transpose_grad_bias(grad_out, x, *args)
            return G.conv_transpose_grad_input(grad_out, x, *args) if input_grad else None
        g_up = self._conv_backward(grad_out, self._cached("_up"), input_grad)
        return None if g_up is None else G.interpolate_grad_input(g_up, x, **self._interp_kwargs(x))

    def transposed_weight(self) -> tuple[np.ndarray, tuple[int, ...]]:
        """The equal stride-``s`` transposed-convolution kernel (interior), for integer factors.

        ``"nearest"``: :func:`upconv.resize_equivalent_kernel`;
        linear modes: the same with the bilinear kernel
        (:func:`upconv.nn.init.bilinear_kernel`) in place of the box.
        """
        from upconv.ops.resize_convolution import resize_equivalent_kernel
        from upconv.ops.transposed import as_conv_weight

        w = self.params["weight"]
        n = w.ndim - 2
        sf = v.float_tuple(self.scale_factor, n, "ResizeConv.transposed_weight", "scale_factor", positive=True)
        if any(f != int(f) for f in sf) or (self.stride, self.dilation) != (1, 1):
            raise ValueError("ResizeConv.transposed_weight: needs integer scale factors, stride 1 and dilation 1")
        s = tuple(int(f) for f in sf)
        if self.mode in ("nearest", "nearest-exact"):
            return resize_equivalent_kernel(w, s, groups=self.groups), s
        if self.mode not in ("linear", "bilinear", "trilinear") or self.align_corners:
            raise ValueError(
                f"ResizeConv.transposed_weight: mode={self.mode!r} (align_corners={self.align_corners}) has no "
                "transposed-convolution equivalent here; nearest and linear modes only"
            )
        kern = np.flip(w, axis=tuple(range(2, 2 + n))).astype(np.float64)
        for a, s_ in enumerate(s):
            b = I.bilinear_kernel(s_, 1)
            kern = np.apply_along_axis(np.convolve, 2 + a, kern, b)  # np.convolve(t, b) along the axis
        return as_conv_weight(kern, self.groups).astype(w.dtype), s

    def extra_repr(self) -> str:
        return super().extra_repr() + f", scale_factor={self.scale_factor}, mode={self.mode!r}"


class PixelShuffle(Module):
    """:func:`upconv.pixel_shuffle` as a layer (no parameters), like ``torch.nn.PixelShuffle``.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.nn import PixelShuffle
    >>> PixelShuffle(2).forward(np.zeros((1, 8, 3, 3))).shape
    (1, 2, 6, 6)
    """

    def __init__(self, upscale_factor: int, *, ndim: int = 2) -> None:
        super().__init__()
        self.upscale_factor = v.integer(upscale_factor, "PixelShuffle", "upscale_factor", minimum=1)
        self.ndim = v.integer(ndim, "PixelShuffle", "ndim", minimum=1)

    def forward(self, x: npt.ArrayLike) -> np.ndarray:
        return pixel_shuffle(x, self.upscale_factor, ndim=self.ndim)

    def backward(self, grad_out: npt.ArrayLike, *, input_grad: bool = True) -> np.ndarray | None:
        # the adjoint of a permutation is its inverse (upconv.grad.pixel_shuffle_grad_input)
        return pixel_unshuffle(grad_out, self.upscale_factor, ndim=self.ndim) if input_grad else None

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class SubPixelConv(Conv):
    r"""Sub-pixel convolution (Shi et al. 2016).

    A convolution to ``C_out * r**n`` channels, then :func:`upconv.pixel_shuffle`.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels before and after the shuffle.
    kernel_size : int or sequence of n ints
    upscale_factor : int, optional
        ``r`` (2).
    padding : optional
        The convolution's, ``"same"`` by default.
    bias : bool, optional
    init : {"icnr", "default"}, optional
        ICNR (Aitken et al. 2017, :func:`upconv.nn.init.icnr`; the default)
        or torch's default for the convolution.
    ndim, rng, dtype : optional

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.nn import SubPixelConv
    >>> layer = SubPixelConv(3, 4, 3, upscale_factor=2, rng=np.random.default_rng(0))
    >>> layer.params["weight"].shape, layer.forward(np.zeros((1, 3, 5, 5), np.float32)).shape
    ((16, 3, 3, 3), (1, 4, 10, 10))
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 upscale_factor: int = 2, padding: Any = "same", bias: bool = True, *, init: str = "icnr",
                 ndim: int | None = None, rng: np.random.Generator | None = None,
                 dtype: npt.DTypeLike = np.float32) -> None:
        func = "SubPixelConv"
        n = _ndim(func, kernel_size, ndim)
        r = v.integer(upscale_factor, func, "upscale_factor", minimum=1)
        co = v.integer(out_channels, func, "out_channels", minimum=1)
        super().__init__(in_channels, co * r**n, kernel_size, 1, padding, 1, 1, bias, ndim=n,
                         init=v.choice(init, ("icnr", "default"), func, "init"), upscale_factor=r, rng=rng,
                         dtype=dtype)
        self.upscale_factor, self.ndim = r, n

    def forward(self, x: npt.ArrayLike) -> np.ndarray:
        return pixel_shuffle(super().forward(x), self.upscale_factor, ndim=self.ndim)

    def backward(self, grad_out: npt.ArrayLike, *, input_grad: bool = True) -> np.ndarray | None:
        g = pixel_unshuffle(np.asarray(grad_out), self.upscale_factor, ndim=self.ndim)
        return super().backward(g, input_grad=input_grad)

    def transposed_weight(self) -> tuple[np.ndarray, tuple[int, ...]]:
        """The equal stride-``r`` transposed convolution: ``(C_in, C_out, *(k*r))`` weight and stride.

        Per axis ``K[ci, c, (k-1-u)*r + i] = W[c*r**n + b(i), ci, u]``: each
        output phase ``i`` is one group of the convolution's channels, so its
        DC gain is that group's kernel sum (ICNR makes them equal).
        """
        w = self.params["weight"]
        n, r = self.ndim, self.upscale_factor
        c, ci, k = w.shape[0] // r**n, w.shape[1], w.shape[2:]
        wr = np.flip(w.reshape((c,) + (r,) * n + (ci,) + k), axis=tuple(range(2 + n, 2 + 2 * n)))
        # axes (c, r_1..r_n, ci, k_1..k_n) -> (ci, c, k_1, r_1, ..., k_n, r_n)
        axes = (1 + n, 0) + sum(((2 + n + a, 1 + a) for a in range(n)), ())
        return wr.transpose(axes).reshape((ci, c) + tuple(k_ * r for k_ in k)), (r,) * n

    def extra_repr(self) -> str:
        return super().extra_repr() + f", upscale_factor={self.upscale_factor}"
