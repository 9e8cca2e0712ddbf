"""upconv.deconvolve: the inverse of conv (lsqr, cg, wiener, richardson_lucy) next to the transpose.

Anchors: exact recovery on noise-free well-conditioned problems, the dense
Tikhonov solution from ``conv_matrix``, scipy's own LSQR, scikit-image's
``restoration.wiener`` / ``restoration.richardson_lucy`` (when installed).
"""

from __future__ import annotations

import io

import numpy as np
import pytest

import upconv
from upconv import shapes
from upconv.restore.blur import blur_kernel
from upconv.restore.deconvolution import DECONVOLVE_METHODS, ENGINES
from upconv.restore.metrics import psnr
from upconv.restore.operators import OPERATORS
from upconv.restore.solvers import Monitor

ENGINE_NAMES = [e for e in ENGINES if e != "auto"]


def rel_err(a, b):
    return float(np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b))


def scene(n, seed=0):
    """A piecewise-smooth test image in [0, 1]: a gradient, a disc, rectangles."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n] / n
    img = 0.3 + 0.3 * xx * yy + 0.1 * np.sin(6 * np.pi * xx)
    img[(yy - 0.5) ** 2 + (xx - 0.4) ** 2 < 0.06] = 0.9
    for _ in range(4):
        r0, c0 = rng.integers(0, n - n // 4, 2)
        img[r0 : r0 + n // 5, c0 : c0 + n // 6] = rng.uniform(0.05, 1)
    return np.clip(img, 0, 1)


# a diagonally dominant 3x3 kernel: C is well conditioned (its symbol stays >= 0.2)
WELL = np.array([[0.05, 0.1, 0.05], [0.1, 1.0, 0.1], [0.05, 0.1, 0.05]])


# --------------------------------------------------------------------------
# the three engines compute conv and conv_transpose


@pytest.mark.parametrize("seed", range(12))
def test_engines_equal_conv_and_conv_transpose(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    groups = int(rng.choice([1, 2]))
    ci_g, co_g = (int(c) for c in rng.integers(1, 3, 2))
    k = tuple(int(v) for v in rng.integers(1, 4, n))
    d = tuple(int(v) for v in rng.integers(1, 3, n))
    size = tuple(int(v) for v in rng.integers(5, 8, n))
    pads = tuple((int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(n))
    if seed % 2:  # separable kernels take the axis-by-axis path of the ndimage engine
        factors = [rng.standard_normal(kk) for kk in k]
        kern = factors[0]
        for f in factors[1:]:
            kern = np.multiply.outer(kern, f)
        w = np.broadcast_to(kern, (co_g * groups, ci_g) + k).copy()
    else:
        w = rng.standard_normal((co_g * groups, ci_g) + k)
    x = rng.standard_normal((2, ci_g * groups) + size)
    g = shapes.conv_geometry(size, k, 1, pads, d)
    y = upconv.conv(x, w, padding=pads, dilation=d, groups=groups)
    r = rng.standard_normal(y.shape)
    xt = upconv.conv_transpose(r, w, padding=pads, dilation=d, groups=groups, output_size=size)
    for name in ENGINE_NAMES:
        op = OPERATORS[name](w, g, groups)
        np.testing.assert_allclose(op.forward(x), y, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(op.adjoint(r), xt, atol=1e-12, err_msg=name)


# --------------------------------------------------------------------------
# lsqr and cg: exact recovery, the adjoint is not the inverse


@pytest.mark.parametrize("method", ["lsqr", "cg"])
@pytest.mark.parametrize("engine", ENGINES)
def test_noise_free_recovery_2d(method, engine):
    x = np.random.default_rng(0).random((1, 1, 20, 24))
    w = WELL[None, None]
    y = upconv.conv(x, w, padding=1)
    xh = upconv.deconvolve(y, w, padding=1, method=method, engine=engine)
    assert xh.shape == x.shape and xh.dtype == np.float64
    assert rel_err(xh, x) < 1e-4
    xt = upconv.deconvolve(y, w, padding=1, method="transpose")
    assert rel_err(xt, x) > 0.1  # C^T y has x's shape, not its values
    np.testing.assert_allclose(xt, upconv.conv_transpose(y, w, padding=1))


@pytest.mark.parametrize("method", ["lsqr", "cg"])
def test_noise_free_recovery_nd_multichannel(method):
    rng = np.random.default_rng(1)
    # 1-d, asymmetric padding, batch of 2
    x1 = rng.random((2, 1, 30))
    w1 = np.array([[[0.1, 1.0, 0.2, 0.1]]])
    y1 = upconv.conv(x1, w1, padding=[(1, 2)])
    assert rel_err(upconv.deconvolve(y1, w1, padding=[(1, 2)], method=method), x1) < 1e-4
    # valid padding: 30 unknowns, 27 equations; the least-norm solution fits y exactly
    y1v = upconv.conv(x1, w1)
    assert rel_err(upconv.conv(upconv.deconvolve(y1v, w1, method=method, tol=1e-12), w1), y1v) < 1e-8
    # 3-d, unbatched
    x3 = rng.random((1, 6, 7, 8))
    w3 = np.zeros((1, 1, 3, 3, 3))
    w3[0, 0, 1, 1, 1], w3[0, 0, 0, 1, 1], w3[0, 0, 1, 2, 1] = 1.0, 0.15, 0.1
    y3 = upconv.conv(x3, w3, padding=1)
    xh3 = upconv.deconvolve(y3, w3, padding=1, method=method)
    assert xh3.shape == x3.shape and rel_err(xh3, x3) < 1e-4
    # 2-d, channel mixing (3 -> 3, full) and groups (4 -> 4, groups=2)
    for c, groups in ((3, 1), (4, 2)):
        w = rng.standard_normal((c, c // groups, 3, 3)) * 0.1
        for o in range(c):
            w[o, o % (c // groups), 1, 1] += 1.0
        x = rng.random((1, c, 10, 9))
        y = upconv.conv(x, w, padding=1, groups=groups)
        xh = upconv.deconvolve(y, w, padding=1, groups=groups, method=method, iterations=200)
        assert rel_err(xh, x) < 1e-4, (c, groups)


def test_float32_and_float16_keep_their_dtype():
    rng = np.random.default_rng(2)
    x = rng.random((1, 1, 16, 16)).astype(np.float32)
    w = WELL[None, None].astype(np.float32)
    y = upconv.conv(x, w, padding=1)
    for method in DECONVOLVE_METHODS:
        if method == "wiener":
            out = upconv.deconvolve(y, w, padding=1, method=method, balance=0.0)
        else:
            out = upconv.deconvolve(y, w, padding=1, method=method)
        assert out.dtype == np.float32, method
    assert rel_err(upconv.deconvolve(y, w, padding=1), x) < 1e-4
    out16 = upconv.deconvolve(y.astype(np.float16), w.astype(np.float16), padding=1)
    assert out16.dtype == np.float16 and rel_err(out16.astype(np.float64), x) < 1e-2


def test_lsqr_follows_scipy_lsqr():
    from scipy.sparse.linalg import lsqr

    rng = np.random.default_rng(3)
    w = rng.random((1, 1, 3, 3))
    y = rng.standard_normal((1, 1, 8, 8))
    C = upconv.conv_matrix((10, 10), w)
    for damp in (0.0, 0.3):
        ref = lsqr(C, y.ravel(), damp=damp, iter_lim=7, atol=0, btol=0, conlim=0)[0]
        got = upconv.deconvolve(y, w, damp=damp, iterations=7, tol=0.0, engine="upconv")
        np.testing.assert_allclose(got.ravel(), ref, rtol=1e-10, atol=1e-12)


def test_tikhonov_solution_matches_dense_normal_equations():
    rng = np.random.default_rng(4)
    w = rng.random((1, 1, 3, 3))
    x_shape = (1, 1, 9, 8)
    y = rng.standard_normal((1, 1, 5, 4))  # stride 2 with padding 1: 9x8 -> 5x4
    C = upconv.conv_matrix(x_shape[2:], w, stride=2, padding=1, dense=True)
    D = []
    eye = np.eye(72).reshape(72, 1, 1, 9, 8)
    for axis in (2, 3):
        D.append(np.diff(eye, axis=axis + 1).reshape(72, -1).T)
    D = np.vstack(D)
    damp, smooth = 0.2, 0.5
    A = C.T @ C + damp**2 * np.eye(72) + smooth**2 * D.T @ D
    expected = np.linalg.solve(A, C.T @ y.ravel()).reshape(x_shape)
    kw = dict(stride=2, padding=1, in_size=(9, 8), damp=damp, smoothness=smooth, iterations=500, tol=1e-12)
    x0 = rng.random(x_shape)  # a starting point only: same minimiser
    for method in ("lsqr", "cg"):
        for start in (None, x0):
            np.testing.assert_allclose(upconv.deconvolve(y, w, method=method, x0=start, **kw), expected,
                                       atol=1e-7, err_msg=method)
        np.testing.assert_allclose(upconv.deconvolve(y, w, method=method, x0=x0, **dict(kw, smoothness=0.0)),
                                   np.linalg.solve(C.T @ C + damp**2 * np.eye(72), C.T @ y.ravel()).reshape(x_shape),
                                   atol=1e-7, err_msg=method)


def test_strided_super_resolution_smoothness_beats_transpose():
    x = scene(48)[None, None]
    w = blur_kernel("gaussian:1.0")[None, None]
    y = upconv.conv(x, w, stride=2, padding=3)
    y = y + 0.005 * np.random.default_rng(5).standard_normal(y.shape)
    assert y.shape == (1, 1, 24, 24)
    lo, hi = shapes.conv_transpose_output_size_range((24, 24), 7, 2, 3)
    assert (lo, hi) == ((47, 47), (48, 48))  # ambiguous: 47 or 48
    assert upconv.deconvolve(y, w, stride=2, padding=3, method="transpose").shape == (1, 1, 47, 47)
    kw = dict(stride=2, padding=3, in_size=(48, 48))
    scores = {
        "transpose": psnr(x, upconv.deconvolve(y, w, method="transpose", **kw), data_range=1),
        "lsqr": psnr(x, upconv.deconvolve(y, w, method="lsqr", iterations=30, **kw), data_range=1),
        "lsqr+smooth": psnr(x, upconv.deconvolve(y, w, method="lsqr", smoothness=0.05, **kw), data_range=1),
        "cg+smooth": psnr(x, upconv.deconvolve(y, w, method="cg", smoothness=0.05, **kw), data_range=1),
    }
    assert scores["lsqr+smooth"] > scores["transpose"] + 10, scores
    assert scores["cg+smooth"] > scores["transpose"] + 10, scores
    assert scores["lsqr+smooth"] > scores["lsqr"] - 0.5, scores


# --------------------------------------------------------------------------
# wiener


def periodic_blur(x, w, padding):
    """The circular correlation the Wiener model assumes (y on x's grid)."""
    k = w.shape[2:]
    pads = [(0, 0), (0, 0)] + [(p, kk - 1 - p) for p, kk in zip(padding, k, strict=False)]
    return upconv.conv(np.pad(x, pads, mode="wrap"), w)


@pytest.mark.parametrize("boundary", ["periodic"])
def test_wiener_is_exact_on_periodic_noise_free_data(boundary):
    rng = np.random.default_rng(6)
    # an invertible kernel: its transfer function has no zero
    w = np.array([[[[0.0, 0.1, 0.0], [0.1, 1.0, 0.2], [0.0, 0.05, 0.0]]]])
    x = rng.random((2, 1, 16, 15))
    y = periodic_blur(x, w, (1, 1))
    xh = upconv.deconvolve(y, w, padding=1, method="wiener", balance=0.0, boundary=boundary)
    assert rel_err(xh, x) < 1e-12
    # 1-d, unbatched, asymmetric padding pair
    x1 = rng.random((1, 32))
    w1 = np.array([[[1.0, 0.3, 0.2, 0.1]]])
    y1 = periodic_blur(x1[None], w1, (1,))[0]
    assert rel_err(upconv.deconvolve(y1, w1, padding=[(1, 2)], method="wiener", balance=0.0), x1) < 1e-12
    # channel mixing 2 -> 3 (solved per frequency)
    w2 = rng.standard_normal((3, 2, 3, 3)) * 0.1
    w2[0, 0, 1, 1] = w2[1, 1, 1, 1] = w2[2, 0, 1, 1] = 1.0
    x2 = rng.random((1, 2, 12, 12))
    y2 = periodic_blur(x2, w2, (1, 1))
    assert rel_err(upconv.deconvolve(y2, w2, padding=1, method="wiener", balance=0.0), x2) < 1e-10


def test_wiener_valid_padding_wraps_on_the_output_grid():
    # with padding 0 the input is longer than y; under the periodic model x repeats with y's period
    rng = np.random.default_rng(7)
    base = rng.random((1, 1, 10))
    x = np.concatenate([base, base[..., :2]], axis=-1)  # length 12 = 10 + k - 1, period 10
    w = np.array([[[0.2, 1.0, 0.3]]])
    y = upconv.conv(x, w)
    assert rel_err(upconv.deconvolve(y, w, method="wiener", balance=0.0), x) < 1e-12


def test_wiener_reflect_beats_periodic_on_a_cropped_scene():
    from scipy import ndimage

    big = scene(96, seed=8)
    w = blur_kernel("gaussian:1.5")[None, None]
    blurred = ndimage.correlate(big, w[0, 0], mode="nearest")
    x, y = big[16:80, 16:80], blurred[16:80, 16:80]  # the scene continues beyond the frame
    y = y + 0.002 * np.random.default_rng(8).standard_normal(y.shape)
    score = {b: psnr(x, upconv.deconvolve(y[None], w, padding="same", method="wiener", balance=1e-3,
                                          boundary=b)[0], data_range=1) for b in ("periodic", "reflect")}
    assert score["reflect"] > score["periodic"] + 2, score


# --------------------------------------------------------------------------
# richardson_lucy


def test_richardson_lucy_increases_psnr_and_is_a_transposed_convolution_step():
    x = scene(40, seed=9)[None, None]
    w = blur_kernel("gaussian:1.5")[None, None]
    y = upconv.conv(x, w, padding="same")
    history = []
    xh = upconv.deconvolve(y, w, padding="same", method="richardson_lucy", iterations=25,
                           callback=lambda it, est: history.append(psnr(x, est, data_range=1)))
    assert len(history) == 25
    assert all(b > a for a, b in zip(history, history[1:], strict=False))
    assert history[-1] > psnr(x, y, data_range=1) + 2
    # one step by hand with upconv.conv / upconv.conv_transpose
    norm = upconv.conv_transpose(np.ones_like(y), w, padding=5)  # C^T 1
    flat = np.full_like(x, y.sum() / norm.sum())
    by_hand = flat * upconv.conv_transpose(y / upconv.conv(flat, w, padding=5), w, padding=5) / norm
    for engine in ENGINE_NAMES:
        one = upconv.deconvolve(y, w, padding="same", method="richardson_lucy", iterations=1, engine=engine)
        np.testing.assert_allclose(one, by_hand, rtol=1e-10, err_msg=engine)
    assert xh.min() >= 0


def test_richardson_lucy_multichannel_and_x0():
    rng = np.random.default_rng(10)
    x = rng.random((2, 3, 12, 12)) + 0.1
    w = np.broadcast_to(blur_kernel("box:3"), (3, 1, 3, 3)).copy()
    y = upconv.conv(x, w, padding=1, groups=3)
    a = upconv.deconvolve(y, w, padding=1, groups=3, method="richardson_lucy", iterations=40)
    assert a.shape == x.shape and psnr(x, a, data_range=1.1) > psnr(x, y, data_range=1.1)
    b = upconv.deconvolve(y, w, padding=1, groups=3, method="richardson_lucy", iterations=40, x0=a)
    assert rel_err(upconv.conv(b, w, padding=1, groups=3), y) < rel_err(upconv.conv(a, w, padding=1, groups=3), y)


# --------------------------------------------------------------------------
# scikit-image as the anchor


@pytest.fixture(scope="module")
def restoration():
    pytest.importorskip("skimage")
    from skimage import restoration

    return restoration


@pytest.fixture(scope="module")
def blurred_noisy():
    """A 64x64 scene blurred by each PSF the way scikit-image's examples do (zero boundary), plus noise."""
    from scipy import signal

    x = scene(64, seed=11)
    rng = np.random.default_rng(11)
    cases = {}
    for spec in ("gaussian:1.5", "box:5", "motion:7,30"):
        psf = blur_kernel(spec)
        y = signal.convolve(x, psf, mode="same") + 0.01 * rng.standard_normal(x.shape)
        cases[spec] = (x, psf, y)
    return cases


@pytest.mark.parametrize("spec", ["gaussian:1.5", "box:5", "motion:7,30"])
def test_wiener_matches_and_reaches_skimage(restoration, blurred_noisy, spec):
    x, psf, y = blurred_noisy[spec]
    w = np.flip(psf)[None, None]  # skimage convolves with the PSF; upconv correlates
    for balance in (0.01, 0.1):
        ref = restoration.wiener(y, psf, balance, clip=False)
        ours = upconv.deconvolve(y[None], w, padding="same", method="wiener", balance=balance)[0]
        np.testing.assert_allclose(ours, ref, atol=1e-12)  # the same periodic model
        ref_clipped = restoration.wiener(y, psf, balance)  # default clip=True: values clipped to [-1, 1]
        for boundary in ("periodic", "reflect"):
            ours = upconv.deconvolve(y[None], w, padding="same", method="wiener", balance=balance,
                                     boundary=boundary)[0]
            # periodic: the same numbers; reflect: better (the data were blurred with a zero boundary)
            assert psnr(x, ours, data_range=1) >= psnr(x, ref, data_range=1) - 1e-9, (balance, boundary)
            assert psnr(x, np.clip(ours, -1, 1), data_range=1) >= psnr(x, ref_clipped, data_range=1) - 1e-9


@pytest.mark.parametrize("spec", ["gaussian:1.5", "box:5", "motion:7,30"])
def test_richardson_lucy_reaches_skimage(restoration, blurred_noisy, spec):
    x, psf, y = blurred_noisy[spec]
    y = np.clip(y, 0, None)
    w = np.flip(psf)[None, None]
    for iterations in (10, 30):
        ref = restoration.richardson_lucy(y, psf, num_iter=iterations)
        ours = upconv.deconvolve(y[None], w, padding="same", method="richardson_lucy", iterations=iterations)[0]
        assert psnr(x, ours, data_range=1) >= psnr(x, ref, data_range=1), iterations
        # away from the border (where skimage does not normalise by C^T 1) the two agree closely
        inner = (slice(10, -10), slice(10, -10))
        assert psnr(x[inner], ours[inner], data_range=1) >= psnr(x[inner], ref[inner], data_range=1) - 0.5


# --------------------------------------------------------------------------
# callbacks and progress


def test_callback_sees_read_only_estimates_and_can_stop():
    x = np.random.default_rng(12).random((1, 10, 10))  # unbatched
    w = WELL[None, None]
    y = upconv.conv(x, w, padding=1)
    for method in ("lsqr", "cg", "richardson_lucy"):
        seen = []

        def cb(it, est, seen=seen):
            seen.append(it)
            assert est.shape == x.shape and not est.flags.writeable
            return it == 3

        upconv.deconvolve(y, w, padding=1, method=method, iterations=50, callback=cb)
        assert seen == [1, 2, 3], method


def test_progress_bar_on_stderr(capsys):
    x = np.random.default_rng(13).random((1, 1, 8, 8))
    w = WELL[None, None]
    upconv.deconvolve(upconv.conv(x, w, padding=1), w, padding=1, method="richardson_lucy", iterations=5,
                      progress=True)
    err = capsys.readouterr().err
    assert "deconvolve richardson_lucy [" in err and "5/5" in err and err.endswith("\n")
    stream = io.StringIO()
    m = Monitor("label", 4, (1,), None, True, stream)
    m(1, np.zeros(1))
    m.close(2)
    assert stream.getvalue().startswith("\rlabel [######") and "2/4" in stream.getvalue()


def test_inputs_are_not_modified():
    rng = np.random.default_rng(14)
    y = rng.random((1, 1, 8, 8))
    w = WELL[None, None].copy()
    x0 = rng.random((1, 1, 8, 8))
    copies = [a.copy() for a in (y, w, x0)]
    for method in ("lsqr", "cg", "richardson_lucy"):
        upconv.deconvolve(y, w, padding=1, method=method, x0=x0, iterations=3)
    upconv.deconvolve(y, w, padding=1, method="wiener", boundary="reflect")
    for a, b in zip((y, w, x0), copies, strict=False):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------
# errors


Y = np.ones((1, 1, 8, 8))
W = np.ones((1, 1, 3, 3)) / 9


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((Y, np.ones((2, 1, 3, 3))), {}, ValueError, r"^deconvolve: y has 1 channels but weight of shape \(2, 1, 3, "
                                                     r"3\) produces 2"),
        ((Y, np.ones((3, 3))), {}, ValueError, r"^deconvolve: weight must have at least 3 dimensions"),
        ((np.ones((8, 8)), W), {}, ValueError, r"^deconvolve: y must have 3 \(unbatched\) or 4 \(batched\) dimensions"),
        ((Y, np.ones((3, 1, 3, 3))), {"groups": 2}, ValueError, r"^deconvolve: weight.shape\[0\] .* divisible by "
                                                                r"groups=2"),
        ((np.where(np.eye(8) > 0, np.nan, 1.0)[None, None], W), {}, ValueError, r"^deconvolve: y must be finite, got 8 "
                                                                                r"NaN"),
        ((Y, np.full((1, 1, 3, 3), np.inf)), {}, ValueError, r"^deconvolve: weight must be finite"),
        ((np.ones((1, 1, 2, 2)), W), {"padding": 0, "dilation": 1, "stride": 1, "in_size": (5, 5)}, ValueError,
         r"^deconvolve: a convolution of an input of size \(5, 5\) gives \(3, 3\), not y's spatial size \(2, 2\); "
         r"consistent input sizes range from \(4, 4\) to \(4, 4\)"),
        ((np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1))), {"padding": 2}, ValueError,
         r"^deconvolve: no input size is consistent with y"),
        ((Y, W), {"in_size": 8}, TypeError, r"^deconvolve: in_size must be a sequence of 2 integers"),
        ((Y, W), {"stride": 2, "method": "wiener"}, ValueError, r"^deconvolve: method='wiener' needs stride 1"),
        ((Y, W), {"stride": 2, "method": "richardson_lucy"}, ValueError, r"^deconvolve: method='richardson_lucy' needs "
                                                                         r"stride 1"),
        ((Y, W), {"stride": 2, "engine": "fft"}, ValueError, r"^deconvolve: engine='fft' needs stride 1"),
        ((-Y, W), {"method": "richardson_lucy"}, ValueError, r"^deconvolve: method='richardson_lucy' needs "
                                                             r"non-negative y, got a minimum of -1.0"),
        ((Y, -W), {"method": "richardson_lucy"}, ValueError, r"^deconvolve: method='richardson_lucy' needs "
                                                             r"non-negative weight"),
        ((Y, W), {"method": "inverse"}, ValueError, r"^deconvolve: method must be one of 'lsqr', 'cg', 'wiener', "
                                                    r"'richardson_lucy', 'transpose', got 'inverse'"),
        ((Y, W), {"engine": "gpu"}, ValueError, r"^deconvolve: engine must be one of"),
        ((Y, W), {"method": "wiener", "damp": 0.1}, ValueError, r"^deconvolve: damp is not used by method='wiener'"),
        ((Y, W), {"method": "lsqr", "balance": 0.1, "boundary": "reflect"}, ValueError, r"^deconvolve: balance, "
                                                                                        r"boundary are not used by "
                                                                                        r"method='lsqr'"),
        ((Y, W), {"method": "transpose", "iterations": 3}, ValueError, r"^deconvolve: iterations is not used by "
                                                                       r"method='transpose'"),
        ((Y, W), {"method": "richardson_lucy", "tol": 1e-3}, ValueError, r"^deconvolve: tol is not used"),
        ((Y, W), {"method": "wiener", "boundary": "zero"}, ValueError, r"^deconvolve: boundary must be one of "
                                                                       r"'periodic', 'reflect'"),
        ((Y, W), {"iterations": 0}, ValueError, r"^deconvolve: iterations must be >= 1"),
        ((Y, W), {"iterations": 2.5}, TypeError, r"^deconvolve: iterations must be an integer"),
        ((Y, W), {"damp": -1}, ValueError, r"^deconvolve: damp must be >= 0.0, got -1$"),
        ((Y, W), {"x0": np.ones((1, 1, 8, 8))}, ValueError, r"^deconvolve: x0 must have the shape of the result, \(1, "
                                                            r"1, 10, 10\), got \(1, 1, 8, 8\)"),
        ((Y, W), {"callback": 3}, TypeError, r"^deconvolve: callback must be callable"),
        ((Y, W), {"progress": 1}, TypeError, r"^deconvolve: progress must be True or False"),
        ((Y.astype(np.float32), W), {}, TypeError, r"^deconvolve: floating inputs must share one dtype"),
        ((Y, W), {"stride": 2, "padding": "same"}, ValueError, r"padding='same' is not supported for strided"),
    ],
)
def test_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        upconv.deconvolve(*args, **kwargs)


def test_empty_batch_and_padding_strings():
    w = WELL[None, None]
    assert upconv.deconvolve(np.ones((0, 1, 6, 6)), w, padding=1).shape == (0, 1, 6, 6)
    y = upconv.conv(np.ones((1, 1, 6, 6)), w)
    assert upconv.deconvolve(y, w, padding="valid").shape == (1, 1, 6, 6)
    assert upconv.deconvolve(np.ones((1, 1, 6, 6)), w, padding="same").shape == (1, 1, 6, 6)


# --------------------------------------------------------------------------
# blur_kernel


def test_blur_kernel_specs(tmp_path):
    g = blur_kernel("gaussian:2.0")
    assert g.shape == (13, 13) and g.sum() == pytest.approx(1) and g[6, 6] == g.max()
    np.testing.assert_allclose(g, g.T)
    assert blur_kernel("gaussian:1.0,5").shape == (5, 5)
    assert blur_kernel("gaussian:1.0", ndim=3).shape == (7, 7, 7)
    np.testing.assert_allclose(blur_kernel("box:5"), np.full((5, 5), 1 / 25))
    assert blur_kernel("box:5,3").shape == (5, 3)
    assert blur_kernel("box:4", ndim=1).shape == (4,)
    m = blur_kernel("motion:9,0")
    assert m.shape == (9, 9) and np.allclose(m[4], 1 / 9) and m.sum() == pytest.approx(1)
    np.testing.assert_allclose(blur_kernel("motion:9,90"), m.T)
    d = blur_kernel("motion:9,45")
    assert d.sum() == pytest.approx(1) and np.allclose(d, d.T) and np.allclose(d, d[::-1, ::-1])
    assert d[0, -1] > 0 and d[-1, 0] > 0 and d[0, 0] == 0  # rows point down: 45 deg goes up-right
    path = tmp_path / "k.npy"
    np.save(path, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(blur_kernel(str(path)), np.arange(6.0).reshape(2, 3))  # as stored
    np.testing.assert_array_equal(blur_kernel(path), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(blur_kernel([[1, 2]]), [[1.0, 2.0]])


@pytest.mark.parametrize(
    "spec, kwargs, exc, match",
    [
        ("disk:3", {}, ValueError, r"^blur_kernel: unknown kernel 'disk:3'; expected 'gaussian:SIGMA"),
        ("gaussian", {}, ValueError, r"^blur_kernel: unknown kernel 'gaussian'"),
        ("gaussian:x", {}, ValueError, r"^blur_kernel: cannot read the numbers of 'gaussian:x'"),
        ("gaussian:0", {}, ValueError, r"^blur_kernel: the Gaussian's SIGMA must be > 0"),
        ("gaussian:1,2.5", {}, ValueError, r"^blur_kernel: the Gaussian's SIZE must be a positive integer"),
        ("box:0", {}, ValueError, r"^blur_kernel: box sizes must be positive integers"),
        ("box:1,2,3", {}, ValueError, r"^blur_kernel: cannot read the numbers"),
        ("motion:9", {}, ValueError, r"^blur_kernel: cannot read the numbers of 'motion:9'"),
        ("motion:9,30", {"ndim": 3}, ValueError, r"^blur_kernel: motion kernels are 2-d, got ndim=3"),
        ("motion:-1,0", {}, ValueError, r"^blur_kernel: the motion LENGTH must be > 0"),
        ("missing.npy", {}, ValueError, r"^blur_kernel: no such kernel file 'missing.npy'"),
        ([[np.nan]], {}, ValueError, r"^blur_kernel: spec must be finite"),
        ([], {}, ValueError, r"^blur_kernel: spec must be a non-empty array"),
        (None, {}, TypeError, r"^blur_kernel: spec must be a string, a path or an array"),
        ("box:3", {"ndim": 0}, ValueError, r"^blur_kernel: ndim must be >= 1"),
    ],
)
def test_blur_kernel_errors(spec, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        blur_kernel(spec, **kwargs)
