"""The first call of every public operator, each in a fresh process: the path a user meets first.

The kernels are compiled at install, so a fresh process only loads them; here each operator runs once in
a new interpreter (no kernel loaded yet) and its result must equal the same call in this process (whose
kernels the rest of the suite checks against torch and ONNX).  No timing is asserted; the times are
measured by benchmarks/bench_cold_start.py.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

SETUP = """
import numpy as np
import upconv
from upconv import grad
rng = np.random.default_rng(0)
x1 = rng.standard_normal((4, 16, 64), dtype=np.float32)
x2 = rng.standard_normal((8, 64, 8, 8), dtype=np.float32)
x3 = rng.standard_normal((1, 8, 6, 6, 6), dtype=np.float32)
img = rng.random((1, 3, 40, 52), dtype=np.float32)
w1 = rng.standard_normal((16, 8, 4), dtype=np.float32)
w2 = rng.standard_normal((64, 32, 4, 4), dtype=np.float32)
w3 = rng.standard_normal((8, 4, 4, 4, 4), dtype=np.float32)
wc = rng.standard_normal((8, 3, 3, 3), dtype=np.float32)
"""

CASES = {
    "conv": "upconv.conv(img, wc, padding=1)",
    "conv float64": "upconv.conv(img.astype(float), wc[:2].astype(float), padding=1)",
    "conv_transpose 1-d": "upconv.conv_transpose(x1, w1, stride=2, padding=1)",
    "conv_transpose 2-d": "upconv.conv_transpose(x2, w2, stride=2, padding=1)",
    "conv_transpose 3-d": "upconv.conv_transpose(x3, w3, stride=2, padding=1)",
    "conv_transpose scatter": "upconv.conv_transpose(x2, w2, stride=2, padding=1, method='scatter')",
    "interpolate nearest": "upconv.interpolate(img, scale_factor=2)",
    "interpolate nearest-exact": "upconv.interpolate(img, scale_factor=1.5, mode='nearest-exact')",
    "interpolate linear": "upconv.interpolate(x1, scale_factor=2, mode='linear')",
    "interpolate bilinear": "upconv.interpolate(img, scale_factor=2, mode='bilinear')",
    "interpolate bicubic": "upconv.interpolate(img, scale_factor=2, mode='bicubic')",
    "interpolate trilinear": "upconv.interpolate(x3, scale_factor=2, mode='trilinear')",
    "interpolate area": "upconv.interpolate(img, size=(13, 17), mode='area')",
    "interpolate antialias": "upconv.interpolate(img, scale_factor=0.5, mode='bilinear', antialias=True)",
    "interpolate lanczos": "upconv.interpolate(img, scale_factor=0.5, mode='lanczos', antialias=True)",
    "resize": "upconv.resize(img, scales=(1, 1, 2, 2), mode='cubic')",
    "max_pool": "np.stack(upconv.max_pool(img, 3, 2, 1, return_indices=True)).astype(float)",
    "max_unpool": "upconv.max_unpool(*upconv.max_pool(img, 2, return_indices=True), 2)",
    "pixel_shuffle": "upconv.pixel_shuffle(rng.random((2, 16, 128, 128), dtype=np.float32), 2)",
    "resize_conv": "upconv.resize_conv(img, wc, scale_factor=2, mode='bilinear')",
    "gradient": "grad.conv_transpose_grad_weight(rng.standard_normal((8, 32, 16, 16), dtype=np.float32), x2, w2, "
                "stride=2, padding=1)",
}


@pytest.mark.parametrize("case", CASES)
def test_first_call_in_a_fresh_process(case, tmp_path):
    path = tmp_path / "result.npy"
    fresh = "import sys\nassert 'upconv.kernels._native' not in sys.modules\n"
    code = SETUP + fresh + f"np.save({str(path)!r}, {CASES[case]})\n"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    scope: dict = {}
    exec(SETUP, scope)
    want = eval(CASES[case], scope)
    got = np.load(path)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
