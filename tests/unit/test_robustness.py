"""Robustness: forked workers, threads, scratch memory, the memory limit, checkpoints (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import upconv
from upconv.kernels import parallel, workspace

# --------------------------------------------------------------------------
# processes: the thread pool survives fork


def _run(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter; a hang fails the test after ``timeout`` seconds."""
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the child process hung (killed after {timeout} s)")


# a parallel op in the parent: parallel_for really hands slices to the pool's threads
_PARENT = """
    import os, sys, numpy as np, upconv
    from upconv.kernels.parallel import parallel_for
    upconv.set_num_threads(2)
    seen = set()
    import threading
    parallel_for(lambda a, b: seen.add(threading.get_ident()), 64)
    assert len(seen) >= 1
    x = np.ones((1, 2, 4, 4), np.float32); w = np.ones((2, 3, 3, 3), np.float32)
    expected = upconv.conv_transpose(x, w, stride=2)
    def child_work():
        hits = []
        parallel_for(lambda a, b: hits.append(b - a), 64)
        assert sum(hits) == 64
        y = upconv.conv_transpose(x, w, stride=2)
        assert np.array_equal(y, expected)
        return float(y.sum())
"""


def test_os_fork_after_a_parallel_op():
    r = _run(_PARENT + """
    pid = os.fork()
    if pid == 0:
        try:
            child_work()
            os._exit(0)
        except BaseException:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
    """, timeout=60)
    assert r.returncode == 0, r.stderr


def test_multiprocessing_fork_after_a_parallel_op():
    r = _run(_PARENT + """
    import multiprocessing as mp
    with mp.get_context("fork").Pool(2) as pool:
        sums = pool.starmap(child_work, [()] * 4, chunksize=1)
    assert sums == [float(expected.sum())] * 4
    """, timeout=60)
    assert r.returncode == 0, r.stderr


def test_torch_dataloader_workers_after_a_parallel_op():
    pytest.importorskip("torch")
    r = _run(_PARENT + """
    import torch
    class Data(torch.utils.data.Dataset):
        def __len__(self):
            return 4
        def __getitem__(self, i):
            child_work()  # the pool, then an op
            return torch.from_numpy(upconv.conv_transpose(x, w, stride=2))
    loader = torch.utils.data.DataLoader(Data(), batch_size=2, num_workers=2,
                                         multiprocessing_context="fork", timeout=60)
    batches = list(loader)
    assert len(batches) == 2 and all(np.array_equal(b[0].numpy(), expected) for b in batches)
    """, timeout=120)
    assert r.returncode == 0, r.stderr


def test_the_pool_is_sized_without_private_attributes(monkeypatch):
    monkeypatch.setattr(parallel, "_pool", None)
    monkeypatch.setattr(parallel, "_pool_size", 0)
    upconv.set_num_threads(3)
    try:
        seen: set[int] = set()
        parallel.parallel_for(lambda a, b: seen.add(threading.get_ident()), 48)
        assert parallel._pool_size == 2
        pool = parallel._pool
        upconv.set_num_threads(2)
        parallel.parallel_for(lambda a, b: None, 48)
        assert parallel._pool is pool  # large enough: kept
    finally:
        upconv.set_num_threads(None)


def _ops_battery(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 4, 9, 9)).astype(np.float32)
    w = rng.standard_normal((4, 3, 4, 4)).astype(np.float32)
    return [
        upconv.conv_transpose(x, w, stride=2, padding=1),
        upconv.conv(x, w.transpose(1, 0, 2, 3).copy(), padding=1),
        upconv.interpolate(x, scale_factor=2, mode="bicubic"),
        upconv.max_pool(x, 2, return_indices=True)[1].astype(np.float32),
        upconv.pixel_shuffle(x, 2),
        upconv.resize(x, scales=(1, 1, 1.5, 1.5), mode="cubic"),
    ]


def test_eight_threads_calling_ops_agree_with_serial_runs():
    serial = {seed: _ops_battery(seed) for seed in range(8)}
    results: dict[int, list[list[np.ndarray]]] = {seed: [] for seed in range(8)}
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        try:
            for _ in range(5):
                results[seed].append(_ops_battery(seed))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors
    mismatches = sum(
        not np.array_equal(a, b) for seed in range(8) for run in results[seed] for a, b in zip(run, serial[seed])
    )
    assert mismatches == 0
    assert all(len(results[seed]) == 5 for seed in range(8))


# --------------------------------------------------------------------------
# scratch buffers: bounded, released with their thread and on request


def test_scratch_buffers_are_released_on_request():
    x = np.random.default_rng(0).standard_normal((1, 8, 64, 64)).astype(np.float32)
    upconv.conv(x, np.ones((8, 8, 3, 3), np.float32), padding=1)
    upconv.conv_transpose(x, np.ones((8, 8, 4, 4), np.float32), stride=2, padding=1)
    assert workspace.kept_bytes() > 0
    upconv.release_memory()
    assert workspace.kept_bytes() == 0


def test_scratch_buffers_of_a_finished_thread_are_freed():
    upconv.release_memory()

    def work() -> None:
        workspace.scratch("im2col", (1024, 1024), np.float32)
        assert workspace.kept_bytes() >= 4 * 2**20

    t = threading.Thread(target=work)
    t.start()
    t.join()
    import gc

    gc.collect()
    assert workspace.kept_bytes() == 0


def test_scratch_buffers_of_all_threads_stay_under_the_total_bound(monkeypatch):
    upconv.release_memory()
    monkeypatch.setattr(workspace, "MAX_TOTAL_BYTES", 8 * 2**20)
    barrier = threading.Barrier(8)
    peaks: list[int] = []

    def work() -> None:
        for role in ("a", "b", "c", "d", "e", "f"):
            a = workspace.scratch(role, (2**20,), np.float32)  # 4 MiB each: 6 roles x 8 threads = 192 MiB
            a[:] = 1
        peaks.append(workspace.kept_bytes())
        barrier.wait()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(peaks) <= 8 * 2**20
    upconv.release_memory()


# --------------------------------------------------------------------------
# memory: the limit bounds what upconv allocates, intermediates included

_REPROS = {
    "conv, padded input": lambda: upconv.conv(np.ones((1, 8, 4, 4), np.float32), np.ones((8, 8, 3, 3), np.float32),
                                              padding=4000, dilation=4000),
    "interpolate 1-d, output": lambda: upconv.interpolate(np.ones((1, 1, 4)), size=20_000_000, mode="linear"),
    "interpolate 1-d, tables": lambda: upconv.interpolate(np.ones((1, 1, 4), np.float32), size=2_000_000,
                                                          mode="linear"),
    "blur box": lambda: upconv.blur_kernel("box:4000"),
    "blur gaussian 9-d": lambda: upconv.blur_kernel("gaussian:1", ndim=9),
    "blur motion": lambda: upconv.blur_kernel("motion:1e7,30"),
    "dc_gain_spread": lambda: upconv.dc_gain_spread(np.ones((1, 1, 3, 3)), 4000, dilation=4000),
    "overlap_map": lambda: upconv.overlap_map(2000, 7, ndim=3),
    "bicubic x1e5": lambda: upconv.interpolate(np.ones((1, 1, 4, 4), np.float32), scale_factor=1e5, mode="bicubic"),
    "onnx cubic x1e5": lambda: upconv.resize(np.ones((1, 1, 4, 4), np.float32), scales=(1, 1, 1e5, 1e5),
                                             mode="cubic"),
    "antialiased down-sampling tables": lambda: upconv.interpolate(np.broadcast_to(np.float32(1), (1, 1, 1, 3_000_000)),
                                                                   size=(1, 1_000_000), mode="bicubic",
                                                                   antialias=True),
}


@pytest.mark.parametrize("name", sorted(_REPROS))
def test_requests_over_the_limit_are_refused_before_allocating(name, memory_limit):
    import tracemalloc

    memory_limit(64 * 2**20)
    tracemalloc.start()
    try:
        with pytest.raises(MemoryError) as err:
            _REPROS[name]()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"{peak / 2**20:.0f} MiB allocated before refusing"
    assert "upconv.set_memory_limit()" in str(err.value) and "UPCONV_MEMORY_LIMIT" in str(err.value)


@pytest.mark.parametrize(("text", "nbytes"), [
    ("4294967296", 4294967296), ("1.5e9", 1_500_000_000), ("4G", 4_000_000_000), ("8GiB", 8 * 2**30),
    ("512 MiB", 512 * 2**20), ("64k", 64_000), ("2KiB", 2048), ("1t", 10**12), (" 3M ", 3_000_000),
])
def test_memory_limit_variable_takes_units(text, nbytes, monkeypatch, memory_limit):
    monkeypatch.setenv("UPCONV_MEMORY_LIMIT", text)
    assert upconv.get_memory_limit() == nbytes


@pytest.mark.parametrize("text", ["0", "-1", "0.1", "abc", "4X", "4 G B", "inf", "nan", "1e400", "G"])
def test_memory_limit_variable_rejects_invalid_values_by_name(text, monkeypatch, memory_limit):
    monkeypatch.setenv("UPCONV_MEMORY_LIMIT", text)
    with pytest.raises(ValueError, match="UPCONV_MEMORY_LIMIT"):
        upconv.get_memory_limit()
    with pytest.raises(ValueError, match="UPCONV_MEMORY_LIMIT"):
        upconv.conv(np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1)))


def test_set_memory_limit_takes_units(memory_limit):
    memory_limit("1.5GiB")
    assert upconv.get_memory_limit() == 3 * 2**29
    with pytest.raises(ValueError, match="set_memory_limit"):
        memory_limit("lots")


# --------------------------------------------------------------------------
# checkpoints: all or nothing, headers first, one file name


def _pair():
    from upconv import nn

    def make(seed):
        return nn.Sequential(nn.Conv(1, 2, 3, rng=np.random.default_rng(seed)), nn.ReLU(),
                             nn.ConvTranspose(2, 1, 4, 2, 1, rng=np.random.default_rng(seed)))

    return make


def _snapshot(model):
    return {k: a.copy() for k, a in model.state_dict().items()}


def test_failed_loads_change_nothing(tmp_path):
    from upconv import nn

    make = _pair()
    target = make(1)
    before = _snapshot(target)
    good = make(2).state_dict()
    bad = dict(good, **{"2.bias": np.zeros(3, np.float32)})  # the last parameter has the wrong shape
    path = tmp_path / "bad.npz"
    np.savez(path, **bad)
    with pytest.raises(ValueError, match="'2.bias' has shape"):
        nn.load(target, path)
    with pytest.raises(ValueError, match="'2.bias' has shape"):
        target.load_state_dict(bad)
    with pytest.raises(ValueError, match="'2.bias'"):
        nn.load_torch_state_dict(target, bad)
    for k, a in target.state_dict().items():
        np.testing.assert_array_equal(a, before[k])


@pytest.mark.parametrize("value", [np.ones(1, np.complex64), np.array([True]), np.array(["a"]),
                                   np.array([b"x"])])
def test_non_real_parameters_are_refused(tmp_path, value):
    from upconv import nn

    model = nn.Sequential(nn.Conv(1, 1, 1, rng=np.random.default_rng(0)))
    before = _snapshot(model)
    path = tmp_path / "odd.npz"
    np.savez(path, **{"0.weight": np.ones((1, 1, 1, 1), np.float32), "0.bias": value})
    with pytest.raises(ValueError, match="must hold real numbers"):
        nn.load(model, path)
    with pytest.raises(ValueError, match="must hold real numbers"):
        model.load_state_dict({"0.weight": np.ones((1, 1, 1, 1)), "0.bias": value})
    np.testing.assert_array_equal(model.state_dict()["0.bias"], before["0.bias"])


def test_object_arrays_are_refused_from_the_header(tmp_path):
    from upconv import nn

    model = nn.Sequential(nn.Conv(1, 1, 1, rng=np.random.default_rng(0)))
    path = tmp_path / "pickle.npz"
    np.savez(path, **{"0.weight": np.ones((1, 1, 1, 1)), "0.bias": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="must hold real numbers, got dtype object"):
        nn.load(model, path)


def test_npz_names_and_shapes_are_checked_before_any_data_is_read(tmp_path, memory_limit):
    import tracemalloc

    from upconv import nn

    model = nn.Sequential(nn.Conv(1, 1, 1, rng=np.random.default_rng(0)))
    path = tmp_path / "big.npz"
    big = np.zeros((64, 2**20), np.float32)  # 256 MiB of zeros: a small compressed file
    np.savez_compressed(path, **{"0.weight": np.ones((1, 1, 1, 1)), "0.bias": np.zeros(1), "extra": big})
    del big
    assert path.stat().st_size < 2 * 2**20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="unexpected parameters \\['extra'\\]"):
            nn.load(model, path)
        with pytest.raises(ValueError, match="'0.weight' has shape"):
            nn.load(nn.Sequential(nn.Conv(1, 2, 1)), path, strict=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20
    np.savez_compressed(path, **{"0.weight": np.ones((1, 1, 1, 1)), "0.bias": np.zeros(1)})
    memory_limit(4)  # the 8-byte weight is over it: refused from its header
    with pytest.raises(MemoryError, match="parameter '0.weight'"):
        nn.load(model, path)


def test_save_and_load_agree_on_the_file_name(tmp_path):
    from upconv import nn

    make = _pair()
    a, b = make(1), make(2)
    path = tmp_path / "model.ckpt"
    nn.save(a, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.ckpt"]
    nn.load(b, path)
    for k, val in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k], val)


def test_save_replaces_the_file_atomically(tmp_path, monkeypatch):
    from upconv import nn

    make = _pair()
    path = tmp_path / "model.npz"
    nn.save(make(1), path)
    before = path.read_bytes()

    def interrupted(file, *args, **kwargs):  # Ctrl-C after the first bytes are written
        if isinstance(file, (str, os.PathLike)):
            with open(file, "wb") as f:
                f.write(b"PK")
        else:
            file.write(b"PK")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        nn.save(make(2), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_torch_state_dict_names_must_match_or_be_mapped():
    from upconv import nn

    model = nn.Sequential(nn.Conv(1, 1, 1, rng=np.random.default_rng(0)), nn.ReLU(),
                          nn.Conv(1, 1, 1, rng=np.random.default_rng(0)))
    before = _snapshot(model)
    one, two = np.ones((1, 1, 1, 1)), 2 * np.ones((1, 1, 1, 1))
    state = {"b.weight": one, "b.bias": np.ones(1), "a.weight": two, "a.bias": 2 * np.ones(1)}
    with pytest.raises(ValueError, match="the names differ.*mapping='order'"):
        nn.load_torch_state_dict(model, state)
    for k, a in model.state_dict().items():
        np.testing.assert_array_equal(a, before[k])
    used = nn.load_torch_state_dict(model, state, mapping={"0.weight": "a.weight", "0.bias": "a.bias",
                                                           "2.weight": "b.weight", "2.bias": "b.bias"})
    assert used == {"0.weight": "a.weight", "0.bias": "a.bias", "2.weight": "b.weight", "2.bias": "b.bias"}
    assert model[0].params["weight"].item() == 2 and model[2].params["weight"].item() == 1
    used = nn.load_torch_state_dict(model, state, mapping="order")
    assert used["0.weight"] == "b.weight" and model[0].params["weight"].item() == 1
    with pytest.raises(ValueError, match="absent torch parameters \\['c.weight'\\]"):
        nn.load_torch_state_dict(model, state, mapping={"0.weight": "c.weight"})


def test_no_cache_location_is_needed(tmp_path):
    # the kernels are compiled at install: a process without a home or a cache directory (a read-only
    # container) computes as any other, without a warning (numba's "no locator available" used to crash 12 ops)
    env = {k: val for k, val in os.environ.items() if not k.startswith(("NUMBA", "XDG"))}
    env.update(HOME=str(tmp_path / "missing"), XDG_CACHE_HOME=str(tmp_path / "missing"))
    code = ("import numpy as np, upconv; x = np.ones((1, 2, 8, 8), np.float32); "
            "y = upconv.conv_transpose(x, np.ones((2, 3, 4, 4), np.float32), stride=2, padding=1); "
            "z = upconv.interpolate(x, scale_factor=2, mode='bicubic'); print(y.shape, z.shape)")
    proc = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(1, 3, 16, 16) (1, 2, 16, 16)" and proc.stderr == ""
