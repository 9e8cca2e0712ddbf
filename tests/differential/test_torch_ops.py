"""Randomized differential tests of conv / conv_transpose against torch.nn.functional.

Every configuration is drawn from ``numpy.random.default_rng(seed)`` with a
fixed seed, so a failure is reproduced by its test id.  A configuration torch
accepts must give the same shape, dtype and values in upconv (every method of
conv_transpose); a configuration torch rejects must raise ValueError or
TypeError in upconv.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is the differential-test oracle")
F = torch.nn.functional

import upconv  # noqa: E402
from upconv import shapes  # noqa: E402

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
CONV_T_MODULE = {1: torch.nn.ConvTranspose1d, 2: torch.nn.ConvTranspose2d, 3: torch.nn.ConvTranspose3d}
METHODS = ["scatter", "zero_insertion", "matrix", "phase", "auto"]
MAX_IN = {1: 8, 2: 5, 3: 4}

N_CONV_SEEDS = 150
N_CONV_T_SEEDS = 150
N_OUTPUT_SIZE_SEEDS = 60
N_GRAD_SEEDS = 40
N_PAIRS_SEEDS = 40


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a)) if a is not None else None


def _maybe_int(rng, values):
    """Pass an int when every axis has the same value (half of the time), the tuple otherwise."""
    values = tuple(int(v) for v in values)
    if len(set(values)) == 1 and rng.random() < 0.5:
        return values[0]
    return values


def _assert_matches(actual, expected_t, where=""):
    expected = expected_t.detach().numpy()
    assert actual.shape == expected.shape, f"shape mismatch {where}: upconv={actual.shape} | torch={expected.shape}"
    assert actual.dtype == expected.dtype, f"dtype mismatch {where}: upconv={actual.dtype} | torch={expected.dtype}"
    scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
    if expected.dtype == np.float64:
        np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-10 * scale, err_msg=where)
    else:
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5 * scale, err_msg=where)


def _random_config(seed, transpose):
    """A random conv (or conv_transpose) call; about one in six is invalid on purpose."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    groups = int(rng.choice([1, 1, 2, 3]))
    ci_g, co_g = (int(c) for c in rng.integers(1, 3, 2))
    k = tuple(int(v) for v in rng.integers(1, 4, n))
    s = [int(v) for v in rng.integers(1, 4, n)]
    d = [int(v) for v in rng.integers(1, 3, n)]
    p = [int(v) for v in rng.integers(0, 3, n)]
    in_size = tuple(int(v) for v in rng.integers(1, MAX_IN[n] + 1, n))
    op = [int(rng.integers(0, max(s_, d_))) for s_, d_ in zip(s, d)]
    batch = [None, 1, 2, 3][int(rng.integers(0, 4))]
    dtype = [np.float32, np.float64][int(rng.integers(0, 2))]
    c_in = ci_g * groups
    x_channels = c_in
    corrupt = rng.choice(["none"] * 10 + ["channels", "output_padding", "stride", "padding", "dilation"])
    ax = int(rng.integers(0, n))
    if corrupt == "channels":
        x_channels += 1
    elif corrupt == "output_padding" and transpose:
        op[ax] = max(s[ax], d[ax])
    elif corrupt == "stride":
        s[ax] = 0
    elif corrupt == "padding":
        p[ax] = -1
    elif corrupt == "dilation":
        d[ax] = 0
    x = rng.standard_normal(((batch,) if batch else ()) + (x_channels,) + in_size).astype(dtype)
    if transpose:
        w = rng.standard_normal((c_in, co_g) + k).astype(dtype)
    else:
        w = rng.standard_normal((co_g * groups, ci_g) + k).astype(dtype)
    b = rng.standard_normal(co_g * groups).astype(dtype) if rng.random() < 0.5 else None
    params = {"stride": _maybe_int(rng, s), "padding": _maybe_int(rng, p), "dilation": _maybe_int(rng, d)}
    if transpose:
        params["output_padding"] = _maybe_int(rng, op)
    return n, x, w, b, params, groups


@pytest.mark.parametrize("seed", range(N_CONV_SEEDS))
def test_conv_matches_torch(seed):
    n, x, w, b, params, groups = _random_config(seed, transpose=False)
    try:
        expected = CONV[n](_t(x), _t(w), _t(b), params["stride"], params["padding"], params["dilation"], groups)
    except (RuntimeError, ValueError, TypeError, NotImplementedError):
        with pytest.raises((ValueError, TypeError), match=r"^conv: "):
            upconv.conv(x, w, b, groups=groups, **params)
        return
    out = upconv.conv(x, w, b, groups=groups, **params)
    _assert_matches(out, expected, f"conv {params} groups={groups}")
    assert out.shape[-n:] == shapes.conv_output_size(
        x.shape[-n:], w.shape[2:], params["stride"], params["padding"], params["dilation"]
    )


@pytest.mark.parametrize("seed", range(N_CONV_T_SEEDS))
def test_conv_transpose_matches_torch(seed):
    n, x, w, b, params, groups = _random_config(1000 + seed, transpose=True)
    try:
        expected = CONV_T[n](
            _t(x), _t(w), _t(b), params["stride"], params["padding"], params["output_padding"], groups,
            params["dilation"],
        )
    except (RuntimeError, ValueError, TypeError, NotImplementedError):
        for method in METHODS:
            with pytest.raises((ValueError, TypeError), match=r"^conv_transpose: "):
                upconv.conv_transpose(x, w, b, groups=groups, method=method, **params)
        return
    if 0 in expected.shape[-n:]:
        # torch is inconsistent here: some backends (e.g. batch > 1) return an empty
        # tensor where others raise "Output size is too small"; upconv always raises.
        for method in METHODS:
            with pytest.raises(ValueError, match=r"^conv_transpose: output size is too small"):
                upconv.conv_transpose(x, w, b, groups=groups, method=method, **params)
        return
    for method in METHODS:
        out = upconv.conv_transpose(x, w, b, groups=groups, method=method, **params)
        _assert_matches(out, expected, f"conv_transpose method={method} {params} groups={groups}")
    assert out.shape[-n:] == shapes.conv_transpose_output_size(
        x.shape[-n:], w.shape[2:], params["stride"], params["padding"], params["output_padding"], params["dilation"]
    )


def test_random_configs_cover_valid_and_invalid_cases():
    """The generators are not degenerate: most configurations are valid, some are not, all n occur."""
    outcomes = {"ok": 0, "raised": 0}
    ndims = set()
    for seed in range(N_CONV_T_SEEDS):
        n, x, w, b, params, groups = _random_config(1000 + seed, transpose=True)
        ndims.add(n)
        try:
            shapes.conv_transpose_geometry(
                x.shape[-n:], w.shape[2:], params["stride"], params["padding"], params["output_padding"],
                params["dilation"],
            )
            outcomes["ok" if x.shape[-n - 1] == w.shape[0] else "raised"] += 1
        except (ValueError, TypeError):
            outcomes["raised"] += 1
    assert ndims == {1, 2, 3}
    assert outcomes["ok"] > 60 and outcomes["raised"] > 10


# --------------------------------------------------------------------------
# output_size: nn.ConvTransposeNd.forward(x, output_size)


@pytest.mark.parametrize("seed", range(N_OUTPUT_SIZE_SEEDS))
def test_output_size_matches_torch_module(seed):
    rng = np.random.default_rng(5000 + seed)
    n = int(rng.integers(1, 4))
    groups = int(rng.choice([1, 2]))
    c_in, co_g = groups * int(rng.integers(1, 3)), int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(1, 4, n))
    s = tuple(int(v) for v in rng.integers(1, 4, n))
    d = tuple(int(v) for v in rng.integers(1, 3, n))
    p = tuple(int(v) for v in rng.integers(0, 2, n))
    in_size = tuple(int(v) for v in rng.integers(2, MAX_IN[n] + 1, n))
    batched = rng.random() < 0.7
    x = rng.standard_normal(((2,) if batched else ()) + (c_in,) + in_size)
    lo = [(i - 1) * s_ - 2 * p_ + d_ * (k_ - 1) + 1 for i, s_, p_, d_, k_ in zip(in_size, s, p, d, k)]
    # mostly inside [lo, lo + s - 1], sometimes one step outside
    size = [int(rng.integers(lo_ - 1, lo_ + s_ + 1)) if rng.random() < 0.3 else int(rng.integers(lo_, lo_ + s_))
            for lo_, s_ in zip(lo, s)]
    size = [max(1, v) for v in size]
    output_size = ([2, co_g * groups] + size) if batched and rng.random() < 0.5 else size

    m = CONV_T_MODULE[n](c_in, co_g * groups, k, stride=s, padding=p, groups=groups, dilation=d, bias=True)
    m = m.double()
    w = m.weight.detach().numpy().copy()
    b = m.bias.detach().numpy().copy()
    try:
        with torch.no_grad():
            expected = m(_t(x), output_size=output_size)
    except (RuntimeError, ValueError, TypeError):
        in_range = all(lo_ <= v <= lo_ + s_ - 1 for lo_, v, s_ in zip(lo, size, s))
        assert not in_range, "torch rejected an in-range output_size"
        for method in METHODS:
            with pytest.raises(ValueError, match=r"^conv_transpose: requested an output size of .* valid sizes range "
                                                 r"from"):
                upconv.conv_transpose(x, w, b, s, p, 0, groups, d, output_size=output_size, method=method)
        return
    for method in METHODS:
        out = upconv.conv_transpose(x, w, b, s, p, 0, groups, d, output_size=output_size, method=method)
        _assert_matches(out, expected, f"output_size={output_size} method={method}")
        assert out.shape[-n:] == tuple(size)


def test_output_size_unbatched_with_channel_entry_like_torch():
    m = torch.nn.ConvTranspose2d(2, 3, 3, stride=2).double()
    x = np.ones((2, 4, 4))
    expected = m(_t(x), output_size=[3, 9, 9])
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    out = upconv.conv_transpose(x, w, b, stride=2, output_size=(3, 9, 9))
    _assert_matches(out, expected)


def test_output_size_dilation_range_uses_stride():
    """s=1, d=2: output_padding=1 is legal, but output_size=min+1 is rejected (both libraries)."""
    m = torch.nn.ConvTranspose1d(1, 1, 3, stride=1, dilation=2, bias=False).double()
    x = np.ones((1, 1, 4))
    w = m.weight.detach().numpy()
    with pytest.raises(ValueError):
        m(_t(x), output_size=[9])
    with pytest.raises(ValueError, match="valid sizes range from"):
        upconv.conv_transpose(x, w, dilation=2, output_size=(9,))
    expected = F.conv_transpose1d(_t(x), _t(w), None, 1, 0, 1, 1, 2)
    _assert_matches(upconv.conv_transpose(x, w, None, 1, 0, 1, 1, 2), expected)


# --------------------------------------------------------------------------
# conv_transpose is conv's input gradient


@pytest.mark.parametrize("seed", range(N_GRAD_SEEDS))
def test_conv_transpose_is_input_gradient_of_conv(seed):
    rng = np.random.default_rng(7000 + seed)
    n = int(rng.integers(1, 4))
    groups = int(rng.choice([1, 2]))
    c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(1, 4, n))
    s = tuple(int(v) for v in rng.integers(1, 4, n))
    d = tuple(int(v) for v in rng.integers(1, 3, n))
    p = tuple(int(v) for v in rng.integers(0, 3, n))
    ek = [d_ * (k_ - 1) + 1 for d_, k_ in zip(d, k)]
    in_size = tuple(max(int(rng.integers(1, MAX_IN[n] + 3)), e - 2 * p_) for e, p_ in zip(ek, p))
    x = rng.standard_normal((2, c_in) + in_size)
    w = rng.standard_normal((c_out, c_in // groups) + k)

    xt = _t(x).requires_grad_(True)
    y = CONV[n](xt, _t(w), None, s, p, d, groups)
    gy = rng.standard_normal(tuple(y.shape))
    (grad,) = torch.autograd.grad(y, xt, grad_outputs=_t(gy))

    op = tuple((i + 2 * p_ - e) % s_ for i, p_, e, s_ in zip(in_size, p, ek, s))
    for method in METHODS:
        out = upconv.conv_transpose(gy, w, None, s, p, op, groups, d, method=method)
        _assert_matches(out, grad, f"method={method}")
    out = upconv.conv_transpose(gy, w, None, s, p, groups=groups, dilation=d, output_size=in_size)
    _assert_matches(out, grad, "output_size")


# --------------------------------------------------------------------------
# padding as (begin, end) pairs


def _random_pairs_config(seed):
    rng = np.random.default_rng(9000 + seed)
    n = int(rng.integers(1, 4))
    groups = int(rng.choice([1, 2]))
    c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(1, 4, n))
    s = tuple(int(v) for v in rng.integers(1, 4, n))
    d = tuple(int(v) for v in rng.integers(1, 3, n))
    pairs = tuple((int(b), int(e)) for b, e in rng.integers(0, 4, (n, 2)))
    dtype = [np.float32, np.float64][int(rng.integers(0, 2))]
    return rng, n, groups, c_in, c_out, k, s, d, pairs, dtype


def _f_pad_arg(pairs):
    """F.pad takes (begin, end) of the last axis first."""
    return [v for b, e in reversed(pairs) for v in (b, e)]


@pytest.mark.parametrize("seed", range(N_PAIRS_SEEDS))
def test_conv_pairs_padding_equals_torch_on_padded_input(seed):
    rng, n, groups, c_in, c_out, k, s, d, pairs, dtype = _random_pairs_config(seed)
    ek = [d_ * (k_ - 1) + 1 for d_, k_ in zip(d, k)]
    in_size = tuple(max(int(rng.integers(1, MAX_IN[n] + 1)), e - b - f) for e, (b, f) in zip(ek, pairs))
    x = rng.standard_normal((2, c_in) + in_size).astype(dtype)
    w = rng.standard_normal((c_out, c_in // groups) + k).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    expected = CONV[n](F.pad(_t(x), _f_pad_arg(pairs)), _t(w), _t(b), s, 0, d, groups)
    _assert_matches(upconv.conv(x, w, b, s, pairs, d, groups), expected, f"pairs={pairs}")


@pytest.mark.parametrize("seed", range(N_PAIRS_SEEDS))
def test_conv_transpose_pairs_padding_equals_cropped_torch(seed):
    rng, n, groups, c_in, c_out, k, s, d, pairs, dtype = _random_pairs_config(seed)
    in_size = tuple(int(v) for v in rng.integers(1, MAX_IN[n] + 1, n))
    op = tuple(int(rng.integers(0, max(s_, d_))) for s_, d_ in zip(s, d))
    x = rng.standard_normal((2, c_in) + in_size).astype(dtype)
    w = rng.standard_normal((c_in, c_out // groups) + k).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    full = CONV_T[n](_t(x), _t(w), _t(b), s, 0, op, groups, d)  # length full + op on each axis
    crop = tuple(slice(bb, full.shape[2 + a] - e) for a, (bb, e) in enumerate(pairs))
    valid = all(sl.stop - sl.start >= 1 for sl in crop)
    for method in METHODS:
        if not valid:
            with pytest.raises(ValueError, match=r"^conv_transpose: output size is too small"):
                upconv.conv_transpose(x, w, b, s, pairs, op, groups, d, method=method)
            continue
        out = upconv.conv_transpose(x, w, b, s, pairs, op, groups, d, method=method)
        _assert_matches(out, full[(slice(None), slice(None)) + crop], f"pairs={pairs} op={op} method={method}")


def test_symmetric_pairs_equal_int_padding():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 5, 4))
    w = rng.standard_normal((2, 3, 3, 2))
    expected = F.conv_transpose2d(_t(x), _t(w), None, 2, (1, 0), (1, 0))
    _assert_matches(upconv.conv_transpose(x, w, None, 2, ((1, 1), (0, 0)), (1, 0)), expected)
