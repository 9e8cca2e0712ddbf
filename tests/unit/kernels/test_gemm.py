"""The fixed-order matrix product (csrc/gemm.c, upconv.ops.paths.matmul): every element is one sum.

``c[g, m, n] = a[g, m, 0] * b[g, 0, n] + a[g, m, 1] * b[g, 1, n] + ...``,
one multiply-add after another from zero, whatever the shapes, the tiles,
the threads and the orientation, so that any part of a product is bit for bit
the same part of the whole.  In float32 the order itself is checked against
a NumPy emulation of the chain.
"""

from __future__ import annotations

import numpy as np
import pytest

import upconv
from upconv.kernels import _native
from upconv.kernels import convolution as nk
from upconv.kernels.parallel import parallel_for
from upconv.ops import paths

VARIANTS = _native.variants()
RNG = np.random.default_rng(77)


@pytest.fixture
def variant():
    before = _native.variant()
    yield _native.use_variant
    _native.use_variant(before)


def kernel(a, b, mc, nc, transposed=False):
    """The kernel itself, with tiles of ``mc x nc`` (``a`` stored ``(G, K, M)`` when ``transposed``)."""
    G, N = b.shape[0], b.shape[2]
    M = a.shape[2] if transposed else a.shape[1]
    c = np.full((G, M, N), np.nan, a.dtype)  # every element must be written
    parallel_for(nk.gemm, G * -(-M // mc) * -(-N // nc), a, b, c, transposed, mc, nc)
    return c


# sizes around the register blocks (3, 6, 12 or 14 rows; 8 to 32 columns) and the depth blocks (128, 256)
SHAPES = [(1, 1, 1, 1), (1, 5, 3, 7), (2, 15, 40, 33), (1, 29, 129, 65), (3, 14, 257, 31), (1, 40, 600, 100),
          (1, 1, 300, 513), (1, 170, 20, 3), (2, 7, 0, 9)]


def chain_f32(a, b, fused):
    """``a @ b`` in float32 summed as the kernel does: over k in order, from zero, each step rounded once
    (``fused``: a*b + c exact in float64, then rounded to float32) or twice (the product, then the sum)."""
    acc = np.zeros((a.shape[0], a.shape[1], b.shape[2]), np.float32)
    for k in range(a.shape[2]):
        p = a[:, :, k, None].astype(np.float64) * b[:, None, k, :].astype(np.float64)  # exact
        acc = (p + acc).astype(np.float32) if fused else (p.astype(np.float32) + acc)
    return acc


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_float32_is_the_chain_of_multiply_adds_in_order(name, shape, variant):
    variant(name)
    G, M, K, N = shape
    a = RNG.standard_normal((G, M, K)).astype(np.float32)
    b = RNG.standard_normal((G, K, N)).astype(np.float32)
    np.testing.assert_array_equal(paths.matmul(a, b), chain_f32(a, b, fused=name != "base"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_any_part_of_the_product_is_that_part_of_the_whole(shape, dtype):
    G, M, K, N = shape
    a = RNG.standard_normal((G, M, K)).astype(dtype)
    b = RNG.standard_normal((G, K, N)).astype(dtype)
    whole = paths.matmul(a, b)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    tol = (1e-5 if dtype == np.float32 else 1e-13) * max(K, 1)
    np.testing.assert_allclose(whole, ref, rtol=tol, atol=tol)
    for _ in range(4):
        rows = np.sort(RNG.choice(M, RNG.integers(1, M + 1), replace=False))
        cols = np.sort(RNG.choice(N, RNG.integers(1, N + 1), replace=False))
        part = paths.matmul(np.ascontiguousarray(a[:, rows]), np.ascontiguousarray(b[:, :, cols]))
        np.testing.assert_array_equal(part, whole[:, rows][:, :, cols])
    # other tiles, one thread, and a stored transposed: the same sums
    for mc, nc in [(1, 1), (5, 17), (14, 32), (1000, 1000)]:
        np.testing.assert_array_equal(kernel(a, b, mc, nc), whole)
    np.testing.assert_array_equal(kernel(np.ascontiguousarray(a.transpose(0, 2, 1)), b, 7, 40, True), whole)
    upconv.set_num_threads(1)
    try:
        np.testing.assert_array_equal(paths.matmul(a, b), whole)
    finally:
        upconv.set_num_threads(None)


def test_narrow_products_are_computed_transposed_with_the_same_sums(monkeypatch):
    a = RNG.standard_normal((2, 300, 70)).astype(np.float32)
    b = RNG.standard_normal((2, 70, 64)).astype(np.float32)
    whole = paths.matmul(a, b)
    calls = []
    real = nk.gemm
    monkeypatch.setattr(nk, "gemm", lambda *args: calls.append(args[4].shape) or real(*args))
    for n in (1, 5, 31):  # fewer columns than paths.GEMM_NARROW: c.T = b.T @ a.T, vectors along a's rows
        calls.clear()
        out = np.empty((2, 300, n), np.float32)
        assert paths.matmul(a.transpose(0, 2, 1).copy().transpose(0, 2, 1), b[:, :, :n], out=out) is out
        np.testing.assert_array_equal(out, whole[:, :, :n])
        assert calls and all(shape == (2, n, 300) for shape in calls)


def test_the_variants_with_fma_give_the_same_bits(variant):
    fused = [v for v in VARIANTS if v != "base"]
    if len(fused) < 2:
        pytest.skip("one variant with FMA on this CPU")
    a = RNG.standard_normal((2, 50, 300)).astype(np.float64)
    b = RNG.standard_normal((2, 300, 77)).astype(np.float64)
    results = []
    for name in fused:
        variant(name)
        results.append(paths.matmul(a, b))
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_signed_zeros_infinities_and_nan():
    a = np.array([[[-0.0, 1.0], [np.inf, 1.0], [np.nan, 0.0], [1e30, 1e30]]], np.float32)
    b = np.array([[[1.0], [0.0]]], np.float32)
    got = paths.matmul(a, b)
    assert got[0, 0, 0] == 0 and not np.signbit(got[0, 0, 0])  # -0*1 + 0*0 from +0: +0
    assert got[0, 1, 0] == np.inf and np.isnan(got[0, 2, 0]) and got[0, 3, 0] == np.float32(1e30)


def test_the_kernel_checks_its_shapes():
    a, b, c = np.zeros((1, 3, 4)), np.zeros((1, 5, 2)), np.zeros((1, 3, 2))
    with pytest.raises(ValueError, match="gemm: arrays of the wrong shape"):
        nk.gemm(0, 1, a, b, c, False, 8, 8)
    with pytest.raises(TypeError, match="gemm: argument 4"):
        nk.gemm(0, 1, a, np.zeros((1, 4, 2)), c.astype(np.float32), False, 8, 8)


def test_a_threads_packing_buffers_are_freed_when_it_ends():
    # each thread that runs a product keeps its packing buffers (about 0.7 MB here, float64) until it ends:
    # 200 short-lived threads would otherwise hold 140 MB
    resource = pytest.importorskip("resource")
    import threading

    a, b = RNG.standard_normal((1, 168, 300)), RNG.standard_normal((1, 300, 512))
    upconv.set_num_threads(1)
    try:
        paths.matmul(a, b)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        for _ in range(200):
            t = threading.Thread(target=paths.matmul, args=(a, b))
            t.start()
            t.join()
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000
    finally:
        upconv.set_num_threads(None)
