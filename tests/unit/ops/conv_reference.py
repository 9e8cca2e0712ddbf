"""Naive loop implementations of convolution and transposed convolution: the test oracle.

Written from the definitions (SEMANTICS.md sections 1 and 2) without using
upconv, so that the vectorised code is checked against something
independent.  Slow on purpose: one Python iteration per (output position,
kernel tap) or (input position, kernel tap).  Everything is float64.

``pads`` are ``(begin, end)`` pairs per spatial axis.
"""

from __future__ import annotations

import numpy as np


def conv_ref(x, w, b=None, stride=None, pads=None, dilation=None, groups=1):
    """``y[n, co, o] = b[co] + sum_{ci, t} w[co, ci, t] * x_pad[n, g*ci_g + ci, o*s + t*d]``."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n = w.ndim - 2
    stride = stride or (1,) * n
    dilation = dilation or (1,) * n
    pads = pads or ((0, 0),) * n
    N, c_in = x.shape[:2]
    c_out, ci_g = w.shape[:2]
    co_g = c_out // groups
    k = w.shape[2:]
    xp = np.pad(x, [(0, 0), (0, 0)] + [tuple(p) for p in pads])
    out_size = tuple(
        (xp.shape[2 + a] - (dilation[a] * (k[a] - 1) + 1)) // stride[a] + 1 for a in range(n)
    )
    y = np.zeros((N, c_out) + out_size)
    for o in np.ndindex(*out_size):
        for t in np.ndindex(*k):
            pos = tuple(o[a] * stride[a] + t[a] * dilation[a] for a in range(n))
            for gi in range(groups):
                xs = xp[(slice(None), slice(gi * ci_g, (gi + 1) * ci_g)) + pos]  # (N, ci_g)
                ws = w[(slice(gi * co_g, (gi + 1) * co_g), slice(None)) + t]  # (co_g, ci_g)
                y[(slice(None), slice(gi * co_g, (gi + 1) * co_g)) + o] += xs @ ws.T
    if b is not None:
        y += np.asarray(b, dtype=np.float64).reshape((-1,) + (1,) * n)
    return y


def conv_transpose_ref(x, w, b=None, stride=None, pads=None, output_padding=None, dilation=None, groups=1):
    """Stamp ``x[n, ci, j] * w[ci, co, t]`` at ``j*s + t*d`` of the full result, then take the
    window ``[p_begin, full - p_end + output_padding)``, zero-extended on the right."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n = w.ndim - 2
    stride = stride or (1,) * n
    dilation = dilation or (1,) * n
    pads = pads or ((0, 0),) * n
    output_padding = output_padding or (0,) * n
    N, c_in = x.shape[:2]
    ci_g, co_g = c_in // groups, w.shape[1]
    k = w.shape[2:]
    in_size = x.shape[2:]
    full = tuple((in_size[a] - 1) * stride[a] + dilation[a] * (k[a] - 1) + 1 for a in range(n))
    out_size = tuple(full[a] - pads[a][0] - pads[a][1] + output_padding[a] for a in range(n))
    big = tuple(max(full[a], pads[a][0] + out_size[a]) for a in range(n))
    y = np.zeros((N, co_g * groups) + big)
    for j in np.ndindex(*in_size):
        for t in np.ndindex(*k):
            pos = tuple(j[a] * stride[a] + t[a] * dilation[a] for a in range(n))
            for gi in range(groups):
                xs = x[(slice(None), slice(gi * ci_g, (gi + 1) * ci_g)) + j]  # (N, ci_g)
                ws = w[(slice(gi * ci_g, (gi + 1) * ci_g), slice(None)) + t]  # (ci_g, co_g)
                y[(slice(None), slice(gi * co_g, (gi + 1) * co_g)) + pos] += xs @ ws
    y = y[(slice(None), slice(None)) + tuple(slice(p[0], p[0] + o) for p, o in zip(pads, out_size))]
    if b is not None:
        y = y + np.asarray(b, dtype=np.float64).reshape((-1,) + (1,) * n)
    return y


def tup(value, n):
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints."""
    return (int(value),) * n if np.ndim(value) == 0 else tuple(int(v) for v in value)


def pairs(padding, n):
    """An int, ``n`` ints or ``n`` (begin, end) pairs as ``n`` (begin, end) pairs."""
    if np.ndim(padding) == 2:
        return tuple((int(b), int(e)) for b, e in padding)
    return tuple((p, p) for p in tup(padding, n))
