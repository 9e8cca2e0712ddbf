"""The explorer in a real browser: Debian's Chromium, headless, driven by Playwright.

The server runs in a thread on a free port of 127.0.0.1; the browser is the
system's ``/usr/bin/chromium`` (Playwright's own browsers are never
downloaded) with a new, empty profile.  Skipped when Playwright, the [web]
extra or Chromium is missing.  Set ``UPCONV_EXPLORER_SCREENSHOT=path.png`` to
also write the page's screenshot (the README's picture).
"""

from __future__ import annotations

import os
import pathlib
import threading
import time

import numpy as np
import pytest

import upconv

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SEED_RESULT = [1, 1, 3, 2, 2, 1, 1, 3, 2, 2, 4, 4, 10, 6, 6, 3, 3, 7, 4, 4, 3, 3, 7, 4, 4]

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

expect = sync_api.expect


@pytest.fixture(scope="module")
def server():
    from upconv.web.server import bind, make_server, warm_up

    sock = bind(0)
    srv = make_server(sock)
    warm_up()
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(1500):  # up to 30 s for the server to start (a waiting loop, not a timing check)
        if srv.started:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the server did not start")
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    srv.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True,
                                                       args=ARGS, viewport={"width": 1500, "height": 1000})
        yield context
        context.close()


@pytest.fixture
def page(browser, server):
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # a refused configuration is an HTTP 4xx, which Chromium logs as a failed resource: not an error of the page
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 4" not in m.text
            else None)
    page.on("request", lambda r: requests.append(r.url))
    page.goto(server)
    page.wait_for_selector("body[data-ready]")
    yield page
    assert not errors, errors
    # offline: the page asks nothing of any other host
    assert all(u.startswith(server) or u.startswith("data:") for u in requests), requests
    page.close()


def set_param(page, name: str, values) -> None:
    for axis, v in enumerate(values):
        page.fill(f"#p-{name}-{axis}", str(v))


def cell_texts(page, selector: str) -> list[float]:
    return [float(t) for t in page.locator(f"{selector} text").all_text_contents()]


def test_seeds_example_k3_s2_on_2x2(page):
    page.check("#dims-2")
    set_param(page, "size", (2, 2))
    set_param(page, "kernel_size", (3, 3))
    set_param(page, "stride", (2, 2))
    expect(page.locator("#output-size")).to_have_text("5 × 5")
    expect(page.locator("#status")).to_have_text("valid configuration")
    assert cell_texts(page, "#result") == SEED_RESULT
    formula = page.inner_text("#formula")
    assert "H: (2 - 1)*2 - 2*0 + 1*(3 - 1) + 0 + 1 = 5" in formula
    # the same numbers in the zero-insertion view and the gradient view, and the input values shown
    assert cell_texts(page, "#view-zero-insertion .figure > .row:last-child") == SEED_RESULT
    assert cell_texts(page, "#view-gradient .figure > .row") == SEED_RESULT
    assert [page.input_value(f"#x-values input[data-i='{i}']") for i in range(4)] == ["1", "2", "3", "4"]
    assert "F.conv_transpose2d(x, w, stride=2, padding=0" in page.text_content("#call-torch")
    assert page.text_content("#call-explain").startswith("upconv explain --size 2,2 --kernel-size 3,3 --stride 2")


def test_k4_s2_changes_the_ratio(page):
    expect(page.locator("#overlap-ratio")).to_have_text("4")
    expect(page.locator("#overlap-verdict")).to_have_text("checkerboard")
    set_param(page, "kernel_size", (4, 4))
    expect(page.locator("#overlap-ratio")).to_have_text("1")
    expect(page.locator("#overlap-verdict")).to_have_text("artifact-free")
    expect(page.locator("#output-size")).to_have_text("6 × 6")


def test_invalid_padding_shows_the_librarys_message(page):
    page.fill("#p-padding-0", "5")
    status = page.locator("#status")
    expect(status).to_have_class("error")
    with pytest.raises(ValueError) as info:
        upconv.conv_transpose(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), stride=(2, 2), padding=(5, 0))
    expect(status).to_have_text(str(info.value))
    assert "output size is too small" in str(info.value)
    page.fill("#p-padding-0", "0")
    expect(status).to_have_text("valid configuration")


def test_hover_an_output_pixel_highlights_its_matrix_row(page):
    o = 12  # the centre of the 5x5 output: all four input pixels reach it
    page.hover(f"#view-stamping [data-o='{o}']")
    band = page.locator("#matrix-row-band")
    expect(band).to_have_attribute("data-o", str(o))
    expect(page.locator(f"#view-matrix .row-label[data-o='{o}']")).to_have_class("row-label hl")
    assert page.locator("#view-matrix .row-label.hl").count() == 1
    expect(page.locator("#hover-info")).to_have_text(
        "output y[2,2] = 10: reached by x[0,0] = 1, x[0,1] = 2, x[1,0] = 3, x[1,1] = 4")
    # the input pixels reaching it: every column of C^T is marked, and the same pixels in the stamping view
    assert page.locator("#view-matrix rect.band-src").count() == 4
    assert page.locator("#view-stamping rect[data-j].hl-src").count() == 4
    # the row band lies on row o of the matrix
    row = page.locator(f"#view-matrix rect[data-o='{o}'].cell").first.bounding_box()
    box = band.bounding_box()
    assert abs((box["y"] + box["height"] / 2) - (row["y"] + row["height"] / 2)) < 1
    # the entries of C^T are painted on a canvas: the pointer over row 7 of it hovers output pixel 7
    area = page.locator("#view-matrix rect.capture").bounding_box()
    page.mouse.move(area["x"] + area["width"] / 2, area["y"] + area["height"] * 7.5 / 25)
    expect(band).to_have_attribute("data-o", "7")
    expect(page.locator("#view-stamping rect[data-o='7'].hl")).to_have_count(2)  # the canvas and the overlap
    # a corner pixel is reached by one input pixel only
    page.hover("#view-gradient [data-o='0']")
    expect(band).to_have_attribute("data-o", "0")
    assert page.locator("#view-matrix rect.band-src").count() == 1
    assert page.locator("#jacobian-col-band").count() == 1


def test_step_and_play(page):
    label = page.locator("#view-stamping .step-label")
    page.click("#view-stamping [data-action='first']")
    expect(label).to_have_text("no stamp yet (4 to go)")
    page.click("#view-stamping [data-action='forward']")
    expect(label).to_contain_text("stamp 1 of 4: x[0,0] = 1")
    page.click("#view-stamping [data-action='play']")
    expect(label).to_contain_text("stamp 4 of 4", timeout=10000)
    slide = page.locator("#view-zero-insertion .step-label")
    page.click("#view-zero-insertion [data-action='forward']")
    expect(slide).to_contain_text("output 1 of 25 (0,0) = window · flipped kernel = 1")
    assert page.locator("#view-zero-insertion rect.window").count() == 9 + 1  # the taps and the output cell


def test_the_address_holds_the_configuration(page, server):
    set_param(page, "stride", (3, 2))
    page.fill("#p-padding-1", "1")
    expect(page.locator("#output-size")).to_have_text("6 × 3")
    url = page.url
    assert "stride=3%2C2" in url and "padding=0%2C1" in url
    other = page.context.new_page()
    other.goto(url)
    expect(other.locator("#output-size")).to_have_text("6 × 3")
    assert other.input_value("#p-stride-0") == "3"
    other.close()


def test_edit_a_value_and_one_dimension(page):
    page.fill("#x-values input[data-i='0']", "-2")
    expect(page.locator("#result text").first).to_have_text("-2")
    page.check("#dims-1")
    expect(page.locator("#output-size")).to_have_text("5")
    assert cell_texts(page, "#result") == [1, 1, 3, 2, 2]


def test_distill_stack(page):
    page.click("#distill")
    expect(page.locator("#stack-ratio")).to_have_text("9")
    assert "period 4×4" in page.text_content("#story-stack")
    page.check("#weights-random")
    expect(page.locator("#story-dc figcaption").first).to_have_text("random weights (seed 0)")


def _not_blank(path: pathlib.Path) -> None:
    from PIL import Image

    img = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    colors, counts = np.unique(img, axis=0, return_counts=True)
    assert img.shape[0] > 100 * 100, path
    assert len(colors) > 8, f"{path}: {len(colors)} colours"
    assert counts.max() / counts.sum() < 0.9, f"{path}: one colour covers {counts.max() / counts.sum():.0%}"


def test_screenshots_of_every_view(page, tmp_path):
    pytest.importorskip("PIL")
    page.hover("#view-stamping [data-o='12']")
    for panel in ("view-stamping", "view-zero-insertion", "view-matrix", "view-gradient", "view-phase",
                  "story-overlap", "story-stack", "story-dc", "story-resize"):
        path = tmp_path / f"{panel}.png"
        page.locator(f"#{panel}").screenshot(path=str(path))
        _not_blank(path)


def test_readme_screenshot(page):
    """The README's picture: the seeds' example mid-way through stepping, one output pixel hovered."""
    target = os.environ.get("UPCONV_EXPLORER_SCREENSHOT")
    if not target:
        pytest.skip("set UPCONV_EXPLORER_SCREENSHOT=path.png to write the README's screenshot")
    from PIL import Image

    page.set_viewport_size({"width": 1400, "height": 1060})
    page.click("#view-stamping [data-action='first']")
    for _ in range(3):
        page.click("#view-stamping [data-action='forward']")
    expect(page.locator("#view-stamping .step-label")).to_contain_text("stamp 3 of 4")
    for _ in range(8):
        page.click("#view-zero-insertion [data-action='forward']")
    page.hover("#view-gradient [data-o='12']")
    expect(page.locator("#matrix-row-band")).to_have_attribute("data-o", "12")
    raw = pathlib.Path(target).with_suffix(".raw.png")
    page.screenshot(path=str(raw))
    Image.open(raw).convert("RGB").quantize(colors=64, dither=Image.Dither.NONE).save(target, optimize=True)
    raw.unlink()
    _not_blank(pathlib.Path(target))
