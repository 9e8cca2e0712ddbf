"""Tests of upconv.interpolate (torch semantics) and of the shared interpolation engine.

Hand-checked examples come first (no torch needed); the randomized
differential tests against ``torch.nn.functional.interpolate`` are skipped
when torch is not installed.  Every random configuration comes from
``numpy.random.default_rng(seed)`` with the seed in the test id.
"""

from __future__ import annotations

import numpy as np
import pytest

import upconv
from upconv import shapes
from upconv.ops import resample_torch, resampling
from upconv.ops.interpolation import INTERPOLATE_MODES

# --------------------------------------------------------------------------
# hand-checked examples


def test_seed_004_upsample_bilinear_align_corners():
    """nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True) on [[6, 10], [9, 12]]."""
    x = np.array([6, 10, 9, 12], dtype=np.float32).reshape(1, 1, 2, 2)
    y = upconv.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    expected = [
        [6.0000, 7.3333, 8.6667, 10.0000],
        [7.0000, 8.2222, 9.4444, 10.6667],
        [8.0000, 9.1111, 10.2222, 11.3333],
        [9.0000, 10.0000, 11.0000, 12.0000],
    ]
    assert y.shape == (1, 1, 4, 4) and y.dtype == np.float32
    np.testing.assert_allclose(y[0, 0], expected, atol=5e-5)


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"mode": "nearest"}, [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]),
        (
            {"mode": "bilinear"},
            [[1, 1.25, 1.75, 2], [1.5, 1.75, 2.25, 2.5], [2.5, 2.75, 3.25, 3.5], [3, 3.25, 3.75, 4]],
        ),
        (
            {"mode": "bilinear", "align_corners": True},
            [
                [1.0000, 1.3333, 1.6667, 2.0000],
                [1.6667, 2.0000, 2.3333, 2.6667],
                [2.3333, 2.6667, 3.0000, 3.3333],
                [3.0000, 3.3333, 3.6667, 4.0000],
            ],
        ),
    ],
)
def test_torch_documentation_example(kwargs, expected):
    """The nn.Upsample docstring example, input [[1, 2], [3, 4]]."""
    x = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 2, 2)
    np.testing.assert_allclose(upconv.interpolate(x, scale_factor=2, **kwargs)[0, 0], expected, atol=5e-5)


def test_nearest_2d_shortcut_differs_from_1d():
    """torch's small 2-d nearest kernel maps out == 2*in to dst >> 1 even when sf != 2."""
    x = np.arange(3.0)
    one_d = upconv.interpolate(x.reshape(1, 1, 3), scale_factor=2.1)[0, 0]
    np.testing.assert_array_equal(one_d, [0, 0, 0, 1, 1, 2])  # floor(d / 2.1)
    two_d = upconv.interpolate(x.reshape(1, 1, 3, 1), scale_factor=(2.1, 1))[0, 0, :, 0]
    np.testing.assert_array_equal(two_d, [0, 0, 1, 1, 2, 2])  # d >> 1
    # out_h + out_w > 128: torch's generic kernel, which has no shortcut
    wide = upconv.interpolate(np.repeat(x.reshape(1, 1, 3, 1), 130, axis=3), scale_factor=(2.1, 1))[0, 0, :, 0]
    np.testing.assert_array_equal(wide, [0, 0, 0, 1, 1, 2])


def test_nearest_exact_rounds_half_pixel_centres():
    x = np.arange(3.0).reshape(1, 1, 3)
    np.testing.assert_array_equal(upconv.interpolate(x, size=5)[0, 0], [0, 0, 1, 1, 2])
    np.testing.assert_array_equal(upconv.interpolate(x, size=5, mode="nearest-exact")[0, 0], [0, 0, 1, 2, 2])


def test_linear_same_size_is_copied_even_with_a_scale_factor():
    """torch copies a linear axis with out == in (in=4, sf=1.1), bicubic has no such shortcut."""
    x = np.random.default_rng(0).standard_normal((1, 1, 4, 4))
    np.testing.assert_array_equal(upconv.interpolate(x, scale_factor=1.1, mode="bilinear"), x)
    assert not np.array_equal(upconv.interpolate(x, scale_factor=1.1, mode="bicubic"), x)


def test_area_is_the_adaptive_mean():
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0]).reshape(1, 1, 5)
    # windows [0, 2), [1, 4), [3, 5)
    np.testing.assert_allclose(upconv.interpolate(x, size=3, mode="area")[0, 0], [1.5, 14 / 3, 12.0])
    assert upconv.interpolate(x, size=0, mode="area").shape == (1, 1, 0)
    assert upconv.interpolate(np.ones((2, 0, 4, 4)), size=2, mode="area").shape == (2, 0, 2, 2)


def test_bicubic_overshoots_and_clamps_taps_at_the_edge():
    x = np.array([0.0, 0.0, 1.0, 1.0]).reshape(1, 1, 1, 4)
    y = upconv.interpolate(x, size=(1, 8), mode="bicubic")[0, 0, 0]
    assert y.min() < 0 and y.max() > 1  # Keys kernel with A = -0.75 rings
    np.testing.assert_allclose(y[::-1], 1 - y, atol=1e-12)  # symmetric input -> symmetric output


@pytest.mark.parametrize("mode", INTERPOLATE_MODES)
def test_same_size_is_identity(mode):
    rank = INTERPOLATE_MODES[mode] or 4
    x = np.random.default_rng(1).standard_normal((2, 3) + (5, 4, 3)[: rank - 2])
    if mode == "lanczos":
        np.testing.assert_array_equal(upconv.interpolate(x, size=x.shape[2:], mode=mode, antialias=True), x)
        return
    align = {} if mode in ("nearest", "nearest-exact", "area") else {"align_corners": True}
    np.testing.assert_array_equal(upconv.interpolate(x, size=x.shape[2:], mode=mode), x)
    np.testing.assert_array_equal(upconv.interpolate(x, size=x.shape[2:], mode=mode, **align), x)
    if mode in ("bilinear", "bicubic"):
        np.testing.assert_array_equal(upconv.interpolate(x, size=x.shape[2:], mode=mode, antialias=True), x)


@pytest.mark.parametrize(
    "dtype, result",
    [(np.float16, np.float16), (np.float32, np.float32), (np.float64, np.float64), (np.int32, np.float64)],
)
def test_dtype_policy(dtype, result):
    x = np.arange(16).reshape(1, 1, 4, 4).astype(dtype)
    y = upconv.interpolate(x, scale_factor=2, mode="bilinear")
    assert y.dtype == result
    np.testing.assert_allclose(y, upconv.interpolate(x.astype(np.float64), scale_factor=2, mode="bilinear"), rtol=1e-3)


def test_input_is_not_modified_and_may_be_a_view():
    x = np.random.default_rng(2).standard_normal((2, 3, 6, 5))
    keep = x.copy()
    view = x.transpose(0, 1, 3, 2)[..., ::2]
    y = upconv.interpolate(view, size=(7, 4), mode="bicubic")
    np.testing.assert_array_equal(x, keep)
    np.testing.assert_array_equal(y, upconv.interpolate(np.ascontiguousarray(view), size=(7, 4), mode="bicubic"))


def test_memory_limit_is_checked_before_allocating():
    upconv.set_memory_limit(2**20)
    try:
        with pytest.raises(MemoryError, match="interpolate: the output"):
            upconv.interpolate(np.zeros((1, 1, 4, 4), np.float32), size=(1024, 1024))
    finally:
        upconv.set_memory_limit(None)


def test_output_size_arithmetic():
    assert shapes.interpolate_output_size((3,), scale_factor=2.1) == (6,)
    assert shapes.interpolate_output_size((5, 7), scale_factor=(0.5, 1.5)) == (2, 10)
    assert shapes.interpolate_output_size((5, 7), size=3) == (3, 3)
    assert shapes.interpolate_output_size((5,), scale_factor=0.1, allow_empty=True) == (0,)
    with pytest.raises(ValueError, match="must be >= 1"):
        shapes.interpolate_output_size((5,), scale_factor=0.1)


def test_fused_kernel_equals_two_single_axis_passes():
    """The fused last-two-axes kernel does the same arithmetic as the two passes, bit for bit."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 9, 11)).astype(np.float32)
    ax = resample_torch.TorchAxis(np.dtype(np.float32))
    for mode, (h, w) in [("bicubic", (17, 5)), ("bilinear", (4, 30)), ("area", (3, 7)), ("nearest", (20, 3))]:
        ph = resample_torch.TORCH_PLANS[mode](9, h, None, ax)
        pw = resample_torch.TORCH_PLANS[mode](11, w, None, ax)
        fused = resampling.apply(x, [None, None, ph, pw], [3, 2], "t")
        two = resampling.apply(resampling.apply(x, [None, None, None, pw], [3], "t"), [None, None, ph, None], [2], "t")
        np.testing.assert_array_equal(fused, two)


INVALID = [
    # (shape, kwargs, error, message)
    ((1, 1, 4, 4), {}, ValueError, "either size or scale_factor"),
    ((1, 1, 4, 4), {"size": 2, "scale_factor": 2}, ValueError, "only one of size or scale_factor"),
    ((1, 1, 4, 4), {"size": (2, 2, 2)}, ValueError, "one entry per spatial axis"),
    ((1, 1, 4, 4), {"size": [4]}, ValueError, "one entry per spatial axis"),
    ((1, 1, 4, 4), {"size": 2.0}, TypeError, "size must be"),
    ((1, 1, 4, 4), {"size": (2, 2.0)}, TypeError, "size must contain integers"),
    ((1, 1, 4, 4), {"size": True}, TypeError, "size must be"),
    ((1, 1, 4, 4), {"size": (0, 3)}, ValueError, "must be >= 1"),
    ((1, 1, 4, 4), {"scale_factor": 0.0}, ValueError, "must be >= 1"),
    ((1, 1, 4, 4), {"scale_factor": -1.0}, ValueError, "must be >= 1"),
    ((1, 1, 4, 4), {"scale_factor": float("inf")}, ValueError, "finite"),
    ((1, 1, 4, 4), {"scale_factor": float("nan")}, ValueError, "finite"),
    ((1, 1, 4, 4), {"scale_factor": "2"}, TypeError, "scale_factor must be"),
    ((1, 1, 4, 4), {"scale_factor": (2, 2, 2)}, ValueError, "scale_factor must have 2 entries"),
    ((1, 1, 4, 4), {"size": 4, "recompute_scale_factor": True}, ValueError, "recompute_scale_factor"),
    ((1, 1, 4, 4), {"size": 4, "mode": "foo"}, ValueError, "mode must be one of"),
    ((1, 1, 4, 4), {"size": 4, "mode": "nearest", "align_corners": True}, ValueError, "align_corners option"),
    ((1, 1, 4, 4), {"size": 4, "mode": "area", "align_corners": False}, ValueError, "align_corners option"),
    ((1, 1, 4, 4), {"size": 4, "mode": "bilinear", "align_corners": 1}, TypeError, "align_corners must be"),
    ((1, 1, 4, 4), {"size": 4, "mode": "nearest", "antialias": True}, ValueError, "antialias"),
    ((1, 1, 4, 4, 4), {"size": 4, "mode": "trilinear", "antialias": True}, ValueError, "antialias"),
    ((1, 1, 4), {"size": 4, "mode": "bilinear"}, ValueError, "needs a 4-d input"),
    ((1, 1, 4, 4), {"size": 4, "mode": "linear"}, ValueError, "needs a 3-d input"),
    ((1, 1, 4, 4), {"size": 4, "mode": "trilinear"}, ValueError, "needs a 5-d input"),
    ((1, 1, 4, 4, 4), {"size": 4, "mode": "bicubic"}, ValueError, "needs a 4-d input"),
    ((1, 4), {"size": 4}, ValueError, "3, 4 or 5 dimensions"),
    ((1, 1, 2, 2, 2, 2), {"size": 4}, ValueError, "3, 4 or 5 dimensions"),
    ((1, 1, 0, 4), {"scale_factor": 2}, ValueError, "input spatial size"),
    ((2, 0, 4, 4), {"scale_factor": 2, "mode": "bilinear"}, ValueError, "at least one channel"),
    ((2, 0, 4), {"scale_factor": 2}, ValueError, "at least one channel"),
    ((1, 1, 4, 4), {"size": -1, "mode": "area"}, ValueError, "must be >= 0"),
    ((1, 1, 4, 4), {"size": 2, "mode": "lanczos"}, ValueError, "requires antialias=True"),
    ((1, 1, 4, 4), {"size": 2, "mode": "lanczos", "antialias": True, "align_corners": True}, ValueError,
     "does not support align_corners"),
    ((1, 1, 4), {"size": 2, "mode": "lanczos", "antialias": True}, ValueError, "needs a 4-d input"),
]


@pytest.mark.parametrize("shape, kwargs, error, message", INVALID, ids=[str(c[1]) for c in INVALID])
def test_invalid_arguments_raise(shape, kwargs, error, message):
    x = np.zeros(shape, np.float32)
    with pytest.raises(error, match=f"^interpolate: .*{message}"):
        upconv.interpolate(x, **kwargs)


@pytest.mark.parametrize("shape, kwargs, error, message", INVALID, ids=[str(c[1]) for c in INVALID])
def test_torch_rejects_the_same_arguments(shape, kwargs, error, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception):  # noqa: B017 - torch raises ValueError, TypeError, RuntimeError, ...
        torch.nn.functional.interpolate(torch.zeros(shape), **kwargs)


def test_empty_batch():
    y = upconv.interpolate(np.zeros((0, 3, 4, 4), np.float32), scale_factor=2, mode="bicubic")
    assert y.shape == (0, 3, 8, 8) and y.dtype == np.float32


# --------------------------------------------------------------------------
# differential tests against torch


def _random_case(rng, mode):
    ranks = [INTERPOLATE_MODES[mode]] if INTERPOLATE_MODES[mode] else [3, 4, 5]
    rank = int(rng.choice(ranks))
    n = rank - 2
    big = n == 2 and rng.random() < 0.3  # out_h + out_w > 128: torch's generic 2-d kernels
    max_in = {1: 40, 2: 70 if big else 20, 3: 8}[n]
    in_size = tuple(int(rng.integers(1, max_in)) for _ in range(n))
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4))) + in_size
    kw = {}
    if rng.random() < 0.5:
        kw["size"] = tuple(int(rng.integers(1, 2 * max_in + 1)) for _ in range(n))
        if rng.random() < 0.2:
            kw["size"] = kw["size"][0]
    else:
        factors = [2, 3, 0.5, 1.5, 2.1, 0.7, 1.1, 1 / 3, 4.3, 0.25, 1.0, 7 / 3]
        sf = tuple(float(rng.choice(factors)) if rng.random() < 0.7 else float(rng.uniform(0.2, 4)) for _ in range(n))
        kw["scale_factor"] = sf if rng.random() < 0.7 else sf[0]
        if rng.random() < 0.4:
            kw["recompute_scale_factor"] = bool(rng.random() < 0.5)
    if mode in ("linear", "bilinear", "bicubic", "trilinear") and rng.random() < 0.6:
        kw["align_corners"] = bool(rng.random() < 0.5)
    if mode == "lanczos" or (mode in ("bilinear", "bicubic") and rng.random() < 0.4):
        kw["antialias"] = True
    dtype = np.float32 if rng.random() < 0.6 else np.float64
    return rng.standard_normal(shape).astype(dtype), kw


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("mode", INTERPOLATE_MODES)
def test_matches_torch(mode, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng([seed, list(INTERPOLATE_MODES).index(mode)])
    x, kw = _random_case(rng, mode)
    try:
        ref = torch.nn.functional.interpolate(torch.from_numpy(x), mode=mode, **kw).numpy()
    except Exception:  # noqa: BLE001 - any torch error must be a ValueError/TypeError here
        with pytest.raises((ValueError, TypeError)):
            upconv.interpolate(x, mode=mode, **kw)
        return
    if kw.get("antialias") and ref.shape[-1] == 1 and ref.shape[-2] != x.shape[-2]:
        pytest.skip("torch 2.13 bug: antialiased output of width 1 repeats row 0 (see test below)")
    y = upconv.interpolate(x, mode=mode, **kw)
    assert y.shape == ref.shape and y.dtype == ref.dtype
    if mode.startswith("nearest"):
        np.testing.assert_array_equal(y, ref)
    else:
        tol = 2e-6 if x.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(y, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("mode", INTERPOLATE_MODES)
def test_inf_and_nan_reach_the_outputs_torch_sends_them_to(mode, seed):
    """No NaN where torch has none: upconv pads windows of varying width (antialias, area) with zero-weight
    taps, which torch never computes.  The other way round, torch's N-d kernels also weigh the taps of axes
    they leave unchanged (size 1 -> 1, or out == in) by 0, turning an inf into NaN; upconv skips those axes
    and keeps the inf there."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng([seed, list(INTERPOLATE_MODES).index(mode), 1])
    x, kw = _random_case(rng, mode)
    bad = rng.choice(x.size, size=min(x.size, 1 + seed % 3), replace=False)
    x.flat[bad] = rng.choice([np.inf, -np.inf, np.nan], size=bad.size)
    try:
        ref = torch.nn.functional.interpolate(torch.from_numpy(x), mode=mode, **kw).numpy()
    except Exception:  # noqa: BLE001 - the invalid cases are test_matches_torch's
        return
    if kw.get("antialias") and ref.shape[-1] == 1 and ref.shape[-2] != x.shape[-2]:
        pytest.skip("torch 2.13 bug: antialiased output of width 1 repeats row 0 (see test below)")
    y = upconv.interpolate(x, mode=mode, **kw)
    assert not (np.isnan(y) & ~np.isnan(ref)).any()
    assert np.isinf(y[np.isnan(ref) & ~np.isnan(y)]).all()
    tol = 2e-6 if x.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y[~np.isnan(ref)], ref[~np.isnan(ref)], rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "area"])
def test_the_path_without_padding_equals_the_engine_where_that_is_finite(mode, dtype):
    """Results with a NaN are computed again in NumPy without the padding taps, bit for bit the same elsewhere."""
    import dataclasses

    from upconv.ops.interpolation import interpolate_plans

    x = np.random.default_rng(0).standard_normal((2, 3, 37, 29)).astype(dtype)
    x[1, 2, -1, -1] = np.inf  # read with weight 0 by the padding of windows that end before it
    antialias = mode != "area"
    _, plans = interpolate_plans("test", x, (10, 8), None, mode, None, None, antialias)
    assert plans[2].size is not None and plans[3].size is not None  # windows of varying width
    engine = resampling.apply(x, [None if p is None else dataclasses.replace(p, size=None) for p in plans],
                              [3, 2, 1, 0], "test")
    exact = resampling._apply_without_padding(x, plans, [3, 2], "test", 0.0)
    assert np.isnan(engine).any() and not np.isnan(exact).any()
    finite = np.isfinite(engine)
    np.testing.assert_array_equal(exact[finite], engine[finite])
    np.testing.assert_array_equal(upconv.interpolate(x, size=(10, 8), mode=mode, antialias=antialias), exact)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_nearest_indices_match_torch_exactly(mode, dtype):
    """torch's float32 index arithmetic (and its 2-d kernels' two paths) on a grid of sizes."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    for n_in in (1, 2, 3, 5, 7, 10, 13, 17, 29):
        x = np.arange(n_in, dtype=dtype)
        for n_out in range(1, 72, 2):
            for kw in ({"size": n_out}, {"scale_factor": (n_out + 0.37) / n_in}):
                x1 = x.reshape(1, 1, -1)
                np.testing.assert_array_equal(upconv.interpolate(x1, mode=mode, **kw),
                                              F.interpolate(torch.from_numpy(x1), mode=mode, **kw).numpy())
                for w_out in (1, 130):  # legacy small kernel / generic kernel
                    x2 = np.repeat(x.reshape(1, 1, -1, 1), 2, axis=3)
                    kw2 = {k: ((s, w_out) if k == "size" else (s, w_out / 2)) for k, s in kw.items()}
                    np.testing.assert_array_equal(upconv.interpolate(x2, mode=mode, **kw2),
                                                  F.interpolate(torch.from_numpy(x2), mode=mode, **kw2).numpy())


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
def test_antialias_output_width_one_is_the_separable_result(mode):
    """torch 2.13 returns the value of output row 0 on every row when an antialiased output has
    width 1 and the height changes (its vertical kernel assumes constant weights along the
    innermost loop, which is H once W == 1).  upconv returns the intended result: torch's own
    result on the transposed image (where the bug does not trigger), and row 0 as torch."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = np.random.default_rng(4).standard_normal((2, 2, 7, 9))
    y = upconv.interpolate(x, size=(12, 1), mode=mode, antialias=True)
    one_call = F.interpolate(torch.from_numpy(x), size=(12, 1), mode=mode, antialias=True).numpy()
    assert np.ptp(one_call[0, 0]) == 0  # the torch bug: a constant column
    np.testing.assert_allclose(y[..., :1, :], one_call[..., :1, :], rtol=1e-12, atol=1e-12)
    xt = torch.from_numpy(x).transpose(2, 3)
    transposed = F.interpolate(xt, size=(1, 12), mode=mode, antialias=True).transpose(2, 3).numpy()
    np.testing.assert_allclose(y, transposed, rtol=1e-12, atol=1e-12)


def test_memoized_fixed_point_tables_are_read_only():
    # the plan of a uint8 bilinear call is cached and shared by later calls: nobody may write into its tables
    from upconv.ops.interpolation import interpolate_resampling

    x = np.zeros((1, 1, 4, 4), np.uint8)
    r = interpolate_resampling("interpolate", x, None, 2.0, "bilinear", None, None, False)
    assert r is interpolate_resampling("interpolate", x, None, 2.0, "bilinear", None, None, False)
    for a in (2, 3):
        index, weight, _ = r.tables[a]
        assert not index.flags.writeable and not weight.flags.writeable
    r = interpolate_resampling("interpolate", x, None, 2.0, "bicubic", None, None, False)  # from float32 plans
    assert not any(t.flags.writeable for a in (2, 3) for t in r.tables[a][:2])


@pytest.mark.parametrize(("shape", "kw"), [
    ((2, 3, 5, 7), dict(scale_factor=2, mode="bilinear")),  # the last two axes fused
    ((1, 2, 4, 5, 6), dict(scale_factor=(2, 0.5, 3), mode="trilinear")),  # three passes, one along a middle axis
    ((2, 1, 9), dict(size=4, mode="linear", antialias=False)),
    ((1, 1, 7, 9), dict(size=(3, 4), mode="bicubic", antialias=True)),  # padded windows: the NaN re-run
])
def test_a_kept_schedule_runs_as_a_fresh_one(shape, kw):
    from upconv.ops.resample_plans import interpolate_resampling

    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    r = interpolate_resampling("interpolate", x, kw.get("size"), kw.get("scale_factor"), kw["mode"], None, None,
                               kw.get("antialias", False))
    fresh = resampling.apply(x, r.tables, r.order, "interpolate")
    np.testing.assert_array_equal(r.run(x, "interpolate"), fresh)
    np.testing.assert_array_equal(r.run(x, "interpolate"), fresh)  # the kept schedule
    assert r.__dict__["_schedule"][0] == x.shape
    x[(0,) * x.ndim] = np.nan  # a NaN: padded plans compute it again without their padding taps
    np.testing.assert_array_equal(r.run(x, "interpolate"), resampling.apply(x, r.tables, r.order, "interpolate"))
    sched = resampling.schedule(x.shape, x.itemsize, r.tables, r.order)
    assert sched.out_shape == r.out_shape and sched.padded == ("antialias" in kw and kw["antialias"])
