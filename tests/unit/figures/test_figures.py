"""upconv.figures: files, sizes, a few pixel facts, determinism, and animations that end on the true output."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import upconv
from upconv import figures, shapes
from upconv.explain import views

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

WHITE = (255, 255, 255)


def png_pixels(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def gif_frames(path) -> list[np.ndarray]:
    frames = []
    with Image.open(path) as im:
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(np.asarray(im.convert("RGB")))
    return frames


def cell_pixel(ax, r: int, c: int, height: int, offset: float = 0.3) -> tuple[int, int]:
    """(row, column) of a pixel inside cell (r, c) of a heatmap axes, away from the centred label."""
    x, y = ax.transData.transform((c - offset, r - offset))
    return int(round(height - y)), int(round(x))


def is_white(p) -> bool:
    return tuple(int(v) for v in p) == WHITE


# --------------------------------------------------------------------------
# convolution matrix


def test_conv_matrix_heatmap_is_coloured_exactly_where_c_is_non_zero(tmp_path):
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    path = tmp_path / "c.png"
    fig = figures.plot_conv_matrix((4, 4), w, path=path)
    assert path.exists()
    px = png_pixels(path)
    W, H = (int(round(v * figures.DPI)) for v in fig.get_size_inches())
    assert px.shape == (H, W, 3)
    C = upconv.conv_matrix((4, 4), w, dense=True)
    ax_c, ax_t = fig.axes
    assert ax_c.get_title().startswith("C: 4 × 16") and ax_t.get_title().startswith("Cᵀ: 16 × 4")
    for ax, mat in ((ax_c, C), (ax_t, C.T)):
        for (r, c), value in np.ndenumerate(mat):
            assert is_white(px[cell_pixel(ax, r, c, H)]) == (value == 0), (ax.get_title(), r, c)
    # entries labelled by tap, as the seeds write them
    labels = [t.get_text() for t in ax_c.texts]
    assert labels[:3] == ["w11", "w12", "w13"] and len(labels) == np.count_nonzero(C)


def test_conv_matrix_values_one_panel_and_channels(tmp_path):
    w = np.array([[[1.0, -2.0, 3.0]]])
    fig = figures.plot_conv_matrix((5,), w, stride=2, padding=1, show="CT", annotate="value")
    (ax,) = fig.axes
    assert ax.get_title() == "Cᵀ: 5 × 3 (transposed conv 3 → 5)"
    assert sorted(t.get_text() for t in ax.texts) == sorted(["-2", "3", "1", "-2", "3", "1", "-2"])
    w2 = np.ones((2, 3, 2, 2))  # 2 output channels, 3 input channels
    fig = figures.plot_conv_matrix((3, 3, 3), w2, show="C", annotate="none")
    assert fig.axes[0].get_title().startswith("C: 8 × 27") and not fig.axes[0].texts


def test_conv_matrix_errors():
    w = np.ones((1, 1, 3, 3))
    with pytest.raises(ValueError, match="plot_conv_matrix: show must be one of"):
        figures.plot_conv_matrix((4, 4), w, show="both!")
    with pytest.raises(ValueError, match="plot_conv_matrix: path must end in .png, .svg, .pdf, got 'c.jpg'"):
        figures.plot_conv_matrix((4, 4), w, path="c.jpg")
    with pytest.raises(ValueError, match="more than 250000 entries"):
        figures.plot_conv_matrix((40, 40), w)
    with pytest.raises(ValueError, match="conv_matrix"):
        figures.plot_conv_matrix((2, 2), w)  # kernel larger than the input: conv_matrix's message


def test_pngs_are_deterministic(tmp_path):
    w = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    figures.plot_conv_matrix((3, 3), w, stride=2, padding=1, path=a)
    figures.plot_conv_matrix((3, 3), w, stride=2, padding=1, path=b)
    assert a.read_bytes() == b.read_bytes()
    assert b"Software" not in a.read_bytes() and b"matplotlib" not in a.read_bytes()
    svg1, svg2 = tmp_path / "1.svg", tmp_path / "2.svg"
    figures.plot_overlap(3, 2, path=svg1)
    figures.plot_overlap(3, 2, path=svg2)
    assert svg1.read_bytes() == svg2.read_bytes()


# --------------------------------------------------------------------------
# overlap maps, DC gain, spectrum


def test_overlap_one_dimensional_bars_are_the_counts(tmp_path):
    path = tmp_path / "o.png"
    fig = figures.plot_overlap(3, 2, path=path)
    (ax,) = fig.axes
    m = upconv.overlap_map(3, 2)
    heights = [p.get_height() for p in ax.patches if p.get_width() < 1][: m.counts.size]
    np.testing.assert_array_equal(heights, m.counts)
    assert ax.get_title() == "k3 s2: ratio 2, tile [2 1]"
    assert path.stat().st_size > 1000


def test_overlap_stack_has_one_panel_per_layer():
    fig = figures.plot_overlap(layers=[(3, 2), (3, 2)])
    assert [ax.get_title() for ax in fig.axes] == [
        "after layer 1 (k3 s2): ratio 2, tile [2 1]",
        "after layer 2 (k3 s2): ratio 3, tile [3 2 3 1]",
    ]


def test_overlap_two_dimensional_heatmap_brighter_where_more_stamps(tmp_path):
    path = tmp_path / "o2.png"
    fig = figures.plot_overlap(3, 2, ndim=2, path=path)
    (ax,) = fig.axes
    assert ax.get_title() == "k3 s2: ratio 4, tile [4 2; 2 1]"
    px = png_pixels(path).astype(float)
    counts = upconv.overlap_map(3, 2, ndim=2).counts
    H = px.shape[0]
    lum = {int(counts[r, c]): px[cell_pixel(ax, r, c, H)].mean() for r, c in [(2, 2), (2, 1), (1, 1)]}
    assert lum[4] > lum[2] > lum[1]  # viridis: more stamps, brighter
    with pytest.raises(ValueError, match="plot_overlap: only 1-d and 2-d"):
        figures.plot_overlap(3, 2, ndim=3)


def test_dc_gain_flat_for_a_resize_kernel_and_not_for_a_random_one(tmp_path):
    rng = np.random.default_rng(0)
    icnr = upconv.resize_equivalent_kernel(rng.normal(size=(2, 1, 3)), 2)  # (1, 2, 4)
    fig = figures.plot_dc_gain(icnr, 2, path=tmp_path / "dc.png")
    assert "flat in, flat out" in fig._suptitle.get_text()
    bars = [p.get_height() for p in fig.axes[0].patches]
    assert len(bars) == 2 * 2  # 2 channel pairs x 2 phases
    np.testing.assert_allclose(bars[:2], bars[2:])  # phase 0 and phase 1 of each pair: equal gains
    np.testing.assert_allclose(bars[:2], upconv.dc_gain_spread(icnr, 2).gains[0, :, 0])
    fig = figures.plot_dc_gain(rng.normal(size=(1, 1, 4)), 2)
    assert "checkerboard on flat regions" in fig._suptitle.get_text()
    assert (tmp_path / "dc.png").exists()


def test_spectrum_marks_the_stride_frequencies(tmp_path):
    board = np.indices((8, 8)).sum(axis=0) % 2
    fig = figures.plot_spectrum(board, 2, path=tmp_path / "s.png")
    assert fig.axes[1].get_title() == "power spectrum: 100.0% at the stride frequencies"
    y = upconv.conv_transpose(np.ones((1, 1, 8)), np.ones((1, 1, 3)), stride=2)[0, 0]
    fig = figures.plot_spectrum(y, 2)
    lines = [ln.get_xdata()[0] for ln in fig.axes[1].lines[1:]]
    assert lines == [0.5]
    with pytest.raises(ValueError, match="plot_spectrum: at most 2 axes"):
        figures.plot_spectrum(np.ones((4, 4, 4)), (2, 2, 2))


# --------------------------------------------------------------------------
# animations


CONFIGS = [
    # in_size, kernel, stride, padding, output_padding, dilation
    ((2, 2), 3, 2, 0, 0, 1),
    ((2, 3), (3, 2), (2, 3), (1, 0), (1, 2), 1),
    ((3,), 3, 2, 1, 1, 1),
    ((3,), 2, 3, 3, 0, 2),  # padding beyond d*(k-1): the zero-inserted input is cropped
    ((2, 2), 2, 1, 0, 1, 2),  # output_padding < dilation, stride 1
    ((4,), 5, 2, 4, 1, 1),
]


@pytest.mark.parametrize("cfg", CONFIGS)
def test_frames_end_on_the_true_output(cfg):
    size, k, s, p, a, d = cfg
    g = shapes.conv_transpose_geometry(size, k, s, p, a, d)
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=size), rng.normal(size=g.kernel_size)
    want = upconv.conv_transpose(x[None, None], w[None, None], stride=s, padding=p, output_padding=a,
                                 dilation=d)[0, 0]
    params = dict(stride=s, padding=p, output_padding=a, dilation=d)
    stamping = figures.animation._stamping_frames(views.stamping_view(x, w, **params))
    assert len(stamping["shown"]) == np.prod(size) + 2
    np.testing.assert_allclose(stamping["shown"][-1][stamping["crop"]], want, atol=1e-12)
    zero = figures.animation._zero_insertion_frames(views.zero_insertion_view(x, w, **params))
    assert len(zero["shown"]) == np.prod(want.shape) + 2
    np.testing.assert_allclose(zero["shown"][-1], want, atol=1e-12)
    assert np.isnan(zero["shown"][0]).all() and np.isnan(stamping["shown"][0]).all()
    # the drawn zero-inserted input holds the input at stride s, and its used part has the geometry's size
    for frames, view in ((stamping, "stamping"), (zero, "zero_insertion")):  # checked before drawing
        predicted = figures.animation._grid_shapes(g, view)
        assert [((1,) + s)[-2:] for s in predicted.values()] == list(frames["grids"].values())
    gz = shapes.zero_insertion_geometry(g)
    used = zero["drawn"][zero["used"]]
    assert used.shape == tuple(i + b + e for i, (b, e) in zip(gz.in_size, gz.padding, strict=True))


def test_stamping_gif(tmp_path):
    path = tmp_path / "stamping.gif"
    anim = figures.animate_conv_transpose(path, (2, 2), 3, stride=2)
    assert anim.frames == 4 + 2
    frames = gif_frames(path)
    assert len(frames) == anim.frames
    W, H = (int(round(v * figures.style.ANIMATION_DPI)) for v in anim.figure.get_size_inches())
    assert frames[0].shape == (H, W, 3)
    expected = [[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6], [3, 3, 7, 4, 4], [3, 3, 7, 4, 4]]
    np.testing.assert_array_equal(anim.output, expected)
    np.testing.assert_array_equal(anim.shown[-1][anim.crop], expected)
    out_ax = anim.figure.axes[2]
    for r, c in np.ndindex(5, 5):
        rc = cell_pixel(out_ax, r, c, H, 0.35)
        assert is_white(frames[0][rc])  # nothing stamped yet
        assert not is_white(frames[-1][rc])  # every output pixel received a stamp
    assert [t.get_text() for t in out_ax.texts][:5] == ["1", "1", "3", "2", "2"]  # the last frame's values


def test_zero_insertion_gif_non_square_with_padding(tmp_path):
    path = tmp_path / "zero.gif"
    anim = figures.animate_conv_transpose(path, (2, 3), (3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
                                          view="zero_insertion", fps=5)
    out_shape = shapes.conv_transpose_output_size((2, 3), (3, 2), (2, 1), (1, 0), (1, 0))
    assert anim.output.shape == out_shape and anim.frames == np.prod(out_shape) + 2
    np.testing.assert_allclose(anim.shown[-1], anim.output)
    frames = gif_frames(path)
    assert len(frames) == anim.frames
    H = frames[0].shape[0]
    out_ax = anim.figure.axes[2]
    for r, c in np.ndindex(*out_shape):
        rc = cell_pixel(out_ax, r, c, H, 0.35)
        assert is_white(frames[0][rc]) and not is_white(frames[-1][rc])
    # frame 1 computes output (0, 0): highlighted, the others still blank
    assert not is_white(frames[1][cell_pixel(out_ax, 0, 0, H, 0.35)])
    assert is_white(frames[1][cell_pixel(out_ax, 0, 1, H, 0.35)])
    with Image.open(path) as im:
        assert im.info["duration"] == 200


def test_gifs_are_deterministic(tmp_path):
    a, b = tmp_path / "a.gif", tmp_path / "b.gif"
    figures.animate_conv_transpose(a, 3, 3, stride=2, padding=1, view="zero_insertion")
    figures.animate_conv_transpose(b, 3, 3, stride=2, padding=1, view="zero_insertion")
    assert a.read_bytes() == b.read_bytes()


def test_animation_errors(tmp_path):
    gif = tmp_path / "a.gif"
    with pytest.raises(ValueError, match="animate_conv_transpose: only 1-d and 2-d configurations"):
        figures.animate_conv_transpose(gif, (2, 2, 2), 3, stride=2)
    with pytest.raises(ValueError, match=r"would have 402 frames, more than 400"):
        figures.animate_conv_transpose(gif, (20, 20), 1)
    with pytest.raises(ValueError, match="the output canvas has 42 cells, more than 40"):
        figures.animate_conv_transpose(gif, 10, 6, stride=4)
    with pytest.raises(ValueError, match=r"path must end in .gif, got '.*a.png'"):
        figures.animate_conv_transpose(tmp_path / "a.png", 2, 3)
    with pytest.raises(ValueError, match="view must be one of 'stamping', 'zero_insertion'"):
        figures.animate_conv_transpose(gif, 2, 3, view="scatter")
    with pytest.raises(ValueError, match=r"x must have shape \(2,\), got shape \(3,\)"):
        figures.animate_conv_transpose(gif, 2, 3, x=[1, 2, 3])
    with pytest.raises(ValueError, match="output_padding must be smaller"):
        figures.animate_conv_transpose(gif, 2, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="fps must be at most 50"):
        figures.animate_conv_transpose(gif, 2, 3, fps=100)
    assert not gif.exists()


def test_weight_sets_the_kernel_size(tmp_path):
    anim = figures.animate_conv_transpose(tmp_path / "w.gif", 2, weight=[1.0, -1.0], stride=2, x=[3.0, 5.0])
    np.testing.assert_array_equal(anim.output, [3, -3, 5, -5])


def test_importing_figures_does_not_import_matplotlib():
    code = "import sys, upconv.figures; print('matplotlib' in sys.modules, 'PIL' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
