"""The chunked operators on a dask.distributed LocalCluster of worker processes: the same results.

Two worker processes of one thread each compute the blocks, so the graphs
must pickle, the workers load upconv's compiled kernels from the on-disk
cache, and the thread pool of a worker process is its own.  One cluster for
the module (starting it costs a few seconds).
"""

from __future__ import annotations

import numpy as np
import pytest

import upconv
from upconv.ops import chunked

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def test_same_results_on_worker_processes(client):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 30, 26)).astype(np.float32)
    xd = da.from_array(x, chunks=(1, 2, 11, 9))
    w = rng.standard_normal((4, 3, 4, 4)).astype(np.float32)
    y, i = chunked.max_pool(xd, 3, 2, 1, return_indices=True)
    results = client.compute([
        chunked.interpolate(xd, scale_factor=2.3, mode="bicubic"),
        chunked.resize(xd, scales=[1.5, 0.7], axes=[2, 3], mode="cubic"),
        chunked.conv_transpose(xd, w, stride=2, padding=1, method="matrix"),
        chunked.conv_transpose(xd, w, stride=2, padding=1),
        y, i,
        chunked.pixel_shuffle(xd, 2),
    ], sync=True)
    np.testing.assert_array_equal(results[0], upconv.interpolate(x, scale_factor=2.3, mode="bicubic"))
    np.testing.assert_array_equal(results[1], upconv.resize(x, scales=[1.5, 0.7], axes=[2, 3], mode="cubic"))
    np.testing.assert_array_equal(results[2], upconv.conv_transpose(x, w, stride=2, padding=1, method="matrix"))
    np.testing.assert_array_equal(results[3], upconv.conv_transpose(x, w, stride=2, padding=1))
    y0, i0 = upconv.max_pool(x, 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(results[4], y0)
    np.testing.assert_array_equal(results[5], i0)
    np.testing.assert_array_equal(results[6], upconv.pixel_shuffle(x, 2))
    # the blocks ran in both worker processes (each imported upconv to compute them)
    ran = client.run(lambda: __import__("sys").modules.get("upconv.ops.chunked_graph") is not None)
    assert len(ran) == 2 and all(ran.values())
