"""The views of a transposed convolution (:mod:`upconv.explain.views`): each one equals the operator."""

from __future__ import annotations

import json

import numpy as np
import pytest

import upconv
from upconv import shapes
from upconv.explain import views

SEED_RESULT = [[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6], [3, 3, 7, 4, 4], [3, 3, 7, 4, 4]]


def random_configs(count: int, seed: int) -> list[tuple]:
    """Valid random single-channel configurations: 1-3 axes, output padding, dilation, padding past the kernel."""
    rng = np.random.default_rng(seed)
    configs = []
    while len(configs) < count:
        n = int(rng.integers(1, 4))
        size = tuple(int(i) for i in rng.integers(1, 5 if n < 3 else 3, n))
        k = tuple(int(i) for i in rng.integers(1, 5, n))
        s = tuple(int(i) for i in rng.integers(1, 4, n))
        d = tuple(int(i) for i in rng.integers(1, 4, n))
        a = tuple(int(rng.integers(0, max(s_, d_))) for s_, d_ in zip(s, d, strict=True))
        p = tuple((int(rng.integers(0, 7)), int(rng.integers(0, 7))) for _ in range(n))
        try:
            shapes.conv_transpose_geometry(size, k, s, p, a, d)
        except ValueError:
            continue
        x = rng.normal(size=size)
        w = rng.normal(size=k)
        configs.append((x, w, s, p, a, d))
    return configs


CONFIGS = random_configs(40, 0) + [
    # padding beyond the kernel: the zero-inserted input is cropped
    (np.arange(1.0, 4.0), np.array([1.0, -2.0]), (3,), 3, 0, (2,)),
    # output_padding >= stride (dilation): the conv going the other way has more outputs than x
    (np.array([1.0, 10.0, 100.0]), np.array([1.0, 2.0, 3.0]), 1, 0, 1, 2),
    (np.arange(8.0).reshape(2, 2, 2), np.ones((2, 3, 1)), 1, ((1, 0), (0, 0), (0, 0)), 0, (2, 1, 1)),
]
IDS = [f"{x.ndim}d-{i}" for i, (x, *_) in enumerate(CONFIGS)]


def reference(x, w, s, p, a, d) -> np.ndarray:
    return upconv.conv_transpose(x[None, None], w[None, None], stride=s, padding=p, output_padding=a,
                                 dilation=d)[0, 0]


@pytest.fixture(scope="module", params=range(len(CONFIGS)), ids=IDS)
def case(request):
    x, w, s, p, a, d = CONFIGS[request.param]
    return reference(x, w, s, p, a, d), views.explain_views(x, w, s, p, a, d)


def test_config_output_is_conv_transpose(case):
    want, e = case
    np.testing.assert_array_equal(e.config.output, want)
    assert e.config.out_size == want.shape


def test_sum_of_stamps_is_conv_transpose(case):
    want, e = case
    st, c = e.stamping, e.config
    crop = (slice(None),) + st.crop_slices
    np.testing.assert_allclose(st.stamps[crop].sum(axis=0), want, atol=1e-12)
    np.testing.assert_allclose(st.output, want, atol=1e-12)
    np.testing.assert_allclose(st.partial_sums[-1], st.canvas, atol=1e-12)
    np.testing.assert_array_equal(st.partial_sums[0], 0)
    np.testing.assert_array_equal(st.partial_overlaps[-1], st.overlap)
    np.testing.assert_array_equal(st.reach.sum(axis=0), st.overlap)
    ones = reference(np.ones(c.in_size), np.ones(c.kernel_size), c.stride, c.padding, c.output_padding, c.dilation)
    np.testing.assert_array_equal(st.output_overlap, ones)
    for j, start, stamp, reach in zip(st.pixels, st.starts, st.stamps, st.reach, strict=True):
        # every tap lands on the canvas, at j*s + t*d, in the kernel's order; nothing outside the reach
        assert reach.sum() == c.weight.size
        np.testing.assert_array_equal(stamp[reach].reshape(c.kernel_size), c.x[tuple(j)] * c.weight)
        np.testing.assert_array_equal(stamp[~reach], 0)
        np.testing.assert_array_equal(np.argwhere(reach)[0], start)
        np.testing.assert_array_equal(start, j * np.array(c.stride))


def test_zero_insertion_correlation_is_conv_transpose(case):
    want, e = case
    z, c = e.zero_insertion, e.config
    np.testing.assert_allclose(z.output, want, atol=1e-12)
    assert z.insertion_padding == shapes.zero_insertion_padding(c.geometry)
    np.testing.assert_array_equal(z.inserted[tuple(slice(None, None, s) for s in c.stride)], c.x)
    assert np.count_nonzero(z.inserted) == np.count_nonzero(c.x)
    np.testing.assert_array_equal(z.padded, z.canvas[z.used_slices])
    np.testing.assert_array_equal(z.flipped, np.flip(c.weight))
    kinds = np.array(views.CELL_KINDS)[z.kind]
    assert not (kinds[z.used_slices] == "cropped").any() and (kinds == "cropped").sum() == z.kind.size - z.padded.size
    np.testing.assert_array_equal(z.canvas[np.isin(kinds, ["padding", "inserted zero"])], 0)
    redo = upconv.conv(z.padded[None, None], z.flipped[None, None], dilation=c.dilation)[0, 0]
    np.testing.assert_array_equal(redo, z.output)
    for i, o in enumerate(np.ndindex(*c.out_size)):  # each output: the flipped kernel times its window
        assert np.isclose((z.canvas[np.ix_(*z.window(i))] * z.flipped).sum(), want[o], atol=1e-12)


def test_transposed_matrix_is_conv_transpose(case):
    want, e = case
    m, c = e.matrix, e.config
    n_in, n_out = c.x.size, want.size
    assert m.C.shape == (n_in, n_out)
    np.testing.assert_allclose(m.output, want, atol=1e-12)
    np.testing.assert_allclose(m.C.T @ c.x.ravel(), want.ravel(), atol=1e-12)
    taps = m.dense_taps()
    dense = m.dense()
    np.testing.assert_array_equal(dense[taps > 0], c.weight.ravel()[taps[taps > 0] - 1])
    np.testing.assert_array_equal(dense[taps == 0], 0)
    # row j is the stamp of x[j] on the output; column o lists the stamps covering o
    st = e.stamping
    reach = st.reach[(slice(None),) + st.crop_slices].reshape(n_in, n_out)
    for j in range(n_in):
        np.testing.assert_array_equal(m.outputs_reached(j), np.flatnonzero(reach[j]))
    for o in range(n_out):
        np.testing.assert_array_equal(m.inputs_reaching(o), np.flatnonzero(reach[:, o]))
    assert len(m.row_labels) == n_in and len(m.col_labels) == n_out and len(m.tap_names) == c.weight.size
    assert m.conv_out_size == shapes.conv_output_size(c.out_size, c.kernel_size, c.stride, c.padding, c.dilation)


def test_phase_classes_partition_the_output(case):
    want, e = case
    ph, c = e.phase, e.config
    np.testing.assert_allclose(ph.output, want, atol=1e-12)
    for axis, s, k, o in zip(ph.classes, c.stride, c.kernel_size, c.out_size, strict=True):
        assert sorted(p.first for p in axis) == list(range(s))
        assert sum(p.count for p in axis) == o
        assert sorted(t for p in axis for t in p.taps) == list(range(k))  # every tap lands in one class
    covered = np.zeros(c.out_size, dtype=int)
    for residues in np.ndindex(*c.stride):
        block = ph.block(residues)
        where = tuple(slice(r, None, s) for r, s in zip(residues, c.stride, strict=True))
        covered[where] += 1
        assert block.outputs.shape == covered[where].shape == block.counts
        np.testing.assert_allclose(block.outputs, want[where], atol=1e-12)
        if block.sub_kernel is not None:
            np.testing.assert_array_equal(block.sub_kernel, c.weight[np.ix_(*block.taps)])
    np.testing.assert_array_equal(covered, 1)
    for block in ph.blocks:  # the computed ones: outputs and taps on every axis
        assert all(block.counts) and block.sub_kernel is not None and ph.block(block.residues) is block


def test_gradient_view_is_the_transposed_matrix(case):
    want, e = case
    g, m = e.gradient, e.matrix
    np.testing.assert_allclose(g.gradient, want, atol=1e-12)
    np.testing.assert_allclose(g.jacobian, m.dense(), atol=1e-12)
    np.testing.assert_allclose(g.gradient_from_jacobian, want, atol=1e-12)
    assert g.conv_out_size == m.conv_out_size


def test_to_dict_is_json(case):
    _, e = case
    d = json.loads(json.dumps(e.to_dict()))
    assert set(d["views"]) == set(views.VIEW_NAMES)
    assert d["config"]["out_size"] == list(e.config.out_size)
    for name in views.VIEW_NAMES:
        view = getattr(e, name)
        alone = json.loads(json.dumps(view.to_dict()))
        assert alone["view"] == name and alone["config"] == d["config"]
        assert d["views"][name] == {k: x for k, x in alone.items() if k != "config"}
    np.testing.assert_allclose(d["views"]["matrix"]["output"], e.config.output.ravel().reshape(e.config.out_size))


# --------------------------------------------------------------------------
# the seeds' worked example: 2x2 input, 3x3 kernel of ones, stride 2 -> 5x5


def test_seed_example():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    e = views.explain_views(x, np.ones((3, 3)), stride=2)
    np.testing.assert_array_equal(e.config.output, SEED_RESULT)
    st = e.stamping
    assert st.canvas_size == (5, 5) and st.crop == ((0, 5), (0, 5))
    assert st.starts.tolist() == [[0, 0], [0, 2], [2, 0], [2, 2]]
    np.testing.assert_array_equal(st.stamps[3], np.pad(np.full((3, 3), 4.0), ((2, 0), (2, 0))))
    np.testing.assert_array_equal(st.overlap, [[1, 1, 2, 1, 1], [1, 1, 2, 1, 1], [2, 2, 4, 2, 2], [1, 1, 2, 1, 1],
                                               [1, 1, 2, 1, 1]])
    np.testing.assert_array_equal(st.partial_sums[2][:3], [[1, 1, 3, 2, 2]] * 3)
    z = e.zero_insertion
    assert z.insertion_padding == ((2, 2), (2, 2)) and z.padded.shape == (7, 7)
    np.testing.assert_array_equal(z.padded[2:5, 2:5], [[1, 0, 2], [0, 0, 0], [3, 0, 4]])
    assert np.count_nonzero(z.kind == views.CELL_KINDS.index("padding")) == 49 - 9
    m = e.matrix
    assert m.C.shape == (4, 25) and m.C.nnz == 36
    assert m.inputs_reaching(12).tolist() == [0, 1, 2, 3]  # the centre gets all four stamps
    assert m.tap_names[:3] == ["w11", "w12", "w13"] and m.row_labels == ["0,0", "0,1", "1,0", "1,1"]
    p = e.phase
    assert [(c.first, c.count, c.taps) for c in p.classes[0]] == [(0, 3, (2, 0)), (1, 2, (1,))]
    assert len(p.blocks) == 4
    np.testing.assert_array_equal(p.block((1, 1)).outputs, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(p.block((0, 0)).outputs, [[1, 3, 2], [4, 10, 6], [3, 7, 4]])
    np.testing.assert_array_equal(e.gradient.gradient, SEED_RESULT)
    np.testing.assert_array_equal(e.gradient.jacobian, m.dense())


def test_each_view_function_alone():
    x, w = np.array([1.0, 10.0]), np.array([1.0, 2.0, 3.0])
    want = reference(x, w, 2, 1, 1, 1)
    for fn in (views.stamping_view, views.zero_insertion_view, views.matrix_view, views.phase_view,
               views.gradient_view):
        view = fn(x, w, 2, 1, 1, 1)
        np.testing.assert_allclose(view.output if fn is not views.gradient_view else view.gradient, want)
        np.testing.assert_array_equal(view.config.output, want)


def test_optional_parts_and_selected_views():
    x, w = np.ones((3, 3)), np.ones((2, 2))
    e = views.explain_views(x, w, 2, views=["phase"], steps=False, jacobian=False)
    assert e.stamping is e.zero_insertion is e.matrix is e.gradient is None and e.phase is not None
    assert list(e.to_dict()["views"]) == ["phase"]
    st = views.stamping_view(x, w, 2, steps=False)
    assert st.stamps is st.reach is st.partial_sums is st.partial_overlaps is None
    np.testing.assert_array_equal(st.output, reference(x, w, 2, 0, 0, 1))
    g = views.gradient_view(x, w, 2, jacobian=False)
    assert g.jacobian is None and g.gradient_from_jacobian is None


# --------------------------------------------------------------------------
# refused configurations


def test_invalid_configurations_name_the_function_and_argument():
    with pytest.raises(ValueError, match="explain_views: x and weight must have the same number of axes"):
        views.explain_views(np.ones((2, 2)), np.ones(3))
    with pytest.raises(ValueError, match="stamping_view: x must hold finite values"):
        views.stamping_view([1.0, np.nan], [1.0])
    with pytest.raises(ValueError, match="phase_view: output_padding must be smaller"):
        views.phase_view([1.0], [1.0, 1.0], stride=2, output_padding=2)
    with pytest.raises(ValueError, match="views must be one of"):
        views.explain_views([1.0], [1.0], views=["stamps"])
    with pytest.raises(TypeError, match="explain_views: views must be a sequence"):
        views.explain_views([1.0], [1.0], views="phase")
    with pytest.raises(TypeError, match="gradient_view: jacobian must be"):
        views.gradient_view([1.0], [1.0], jacobian="yes")


def test_absurd_sizes_are_refused_before_allocating(memory_limit):
    with pytest.raises(ValueError, match=r"stamping_view: steps=True keeps 1024 stamps .* MAX_STEP_CELLS"):
        views.stamping_view(np.ones(1024), np.ones(1025))
    assert views.stamping_view(np.ones(1024), np.ones(1025), steps=False).overlap.max() == 1024
    with pytest.raises(ValueError, match=r"gradient_view: jacobian=True needs .* 4356 of them"):
        views.gradient_view(np.ones((33, 33)), np.ones((2, 2)), stride=2)
    with pytest.raises(ValueError, match=r"phase_view: stride=\(100000,\) gives 100000 residue classes"):
        views.phase_view([1.0], [1.0], stride=100_000)
    memory_limit(1 << 16)
    with pytest.raises(MemoryError, match="conv_transpose: .* memory limit"):
        views.explain_views(np.ones((200, 200)), np.ones((3, 3)), stride=2)
    with pytest.raises(MemoryError, match="stamping_view: the stamps and their partial sums .* memory limit"):
        views.stamping_view(np.ones((8, 8)), np.ones((3, 3)), stride=2)
    assert views.stamping_view(np.ones((8, 8)), np.ones((3, 3)), stride=2, steps=False).canvas_size == (17, 17)
