"""The explorer's JSON endpoints: every view is the library's, every refusal is a 4xx with a message.

The functions of :mod:`upconv.web.api` are tested directly (no web framework
needed) and through the ASGI app with Starlette's TestClient (the [web] extra
and httpx), which also checks the security rules: only documented
parameters, bounded sizes, only the package's own static files, the Host
header, the headers of every response.
"""

from __future__ import annotations

import importlib.util
import json
import math
import warnings

import numpy as np
import pytest

import upconv
from upconv import shapes
from upconv.explain import describe, story, views
from upconv.web import api

BASE = "http://127.0.0.1"


def random_queries(count: int, seed: int) -> list[dict[str, str]]:
    """Valid random queries within the explorer's limits, 1-d and 2-d, with random small values."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        n = int(rng.integers(1, 3))
        size = [int(i) for i in rng.integers(1, 6, n)]
        k = [int(i) for i in rng.integers(1, 5, n)]
        s = [int(i) for i in rng.integers(1, 4, n)]
        d = [int(i) for i in rng.integers(1, 3, n)]
        a = [int(rng.integers(0, max(s_, d_))) for s_, d_ in zip(s, d, strict=True)]
        p = [int(i) for i in rng.integers(0, 3, n)]
        try:
            out_size = shapes.conv_transpose_output_size(size, k, s, p, a, d)
        except ValueError:
            continue
        if math.prod(out_size) > api.LIMITS["out_pixels"]:
            continue
        q = {"dims": str(n), "size": ",".join(map(str, size)), "kernel_size": ",".join(map(str, k)),
             "stride": ",".join(map(str, s)), "padding": ",".join(map(str, p)),
             "output_padding": ",".join(map(str, a)), "dilation": ",".join(map(str, d))}
        if rng.random() < 0.7:
            q["input"] = ",".join(str(int(v)) for v in rng.integers(-5, 6, math.prod(size)))
        if rng.random() < 0.7:
            q["kernel"] = ",".join(f"{v:g}" for v in np.round(rng.normal(size=math.prod(k)), 2))
        out.append(q)
    return out


QUERIES = random_queries(24, 11)


def library_args(q: dict[str, str]) -> tuple:
    """What the server should pass to the library for the query ``q``."""
    n = int(q["dims"])
    ints = {name: tuple(int(t) for t in q[name].split(",")) for name in
            ("size", "kernel_size", "stride", "padding", "output_padding", "dilation")}
    ints = {name: v * n if len(v) == 1 else v for name, v in ints.items()}
    size, k = ints["size"], ints["kernel_size"]
    x = (np.array([float(t) for t in q["input"].split(",")]) if "input" in q
         else np.arange(1.0, math.prod(size) + 1.0)).reshape(size)
    w = (np.array([float(t) for t in q["kernel"].split(",")]) if "kernel" in q else np.ones(k)).reshape(k)
    return x, w, ints["stride"], ints["padding"], ints["output_padding"], ints["dilation"]


def roundtrip(value):
    return json.loads(json.dumps(value, allow_nan=False))


# --------------------------------------------------------------------------
# the endpoints as functions


@pytest.mark.parametrize("q", QUERIES, ids=[f"q{i}" for i in range(len(QUERIES))])
def test_views_are_the_librarys(q):
    status, body = api.handle("/api/views", list(q.items()))
    assert status == 200, body
    body = roundtrip(body)
    x, w, s, p, a, d = library_args(q)
    want = views.explain_views(x, w, s, p, a, d, steps=False)
    want_dict = roundtrip(want.to_dict())
    assert body["config"] == want_dict["config"]
    for name in views.VIEW_NAMES:
        assert body["views"][name] == want_dict["views"][name], name
    assert body["formula"] == roundtrip(describe.size_formula(want.config).to_dict())
    assert body["calls"] == describe.config_calls(want.config).to_dict()
    assert body["agreement"] == roundtrip(describe.view_agreement(want))
    assert body["dims"] == int(q["dims"])
    assert body["notes"] == {"steps": None, "jacobian": None}
    assert body["steps"] == {"available": True, "count": x.size}
    # the stamps one by one come from /api/steps
    status, steps = api.handle("/api/steps", list(q.items()))
    assert status == 200
    assert roundtrip(steps["stamping"]) == roundtrip(views.stamping_view(x, w, s, p, a, d).to_dict(config=False))
    np.testing.assert_allclose(steps["stamping"]["partial_sums"][-1], body["views"]["stamping"]["canvas"],
                               atol=1e-12)
    np.testing.assert_array_equal(
        np.array(body["config"]["output"]),
        upconv.conv_transpose(x[None, None], w[None, None], stride=s, padding=p, output_padding=a, dilation=d)[0, 0])


@pytest.mark.parametrize("q", QUERIES[:12], ids=[f"q{i}" for i in range(12)])
def test_checkerboard_is_the_librarys(q):
    rng = np.random.default_rng(len(q["size"]))
    layers = [(int(rng.integers(1, 4)), int(rng.integers(1, 3))) for _ in range(int(rng.integers(0, 3)))]
    q = dict(q)
    if layers:
        q["layers"] = ",".join(f"{k}:{s}" for k, s in layers)
    q["weights"] = "random" if len(q["kernel_size"]) % 2 else "user"
    q["seed"] = "5"
    status, body = api.handle("/api/checkerboard", list(q.items()))
    if max(int(t) for t in q["stride"].split(",")) * math.prod(s for _, s in layers) > api.LIMITS["stack_period"]:
        assert status == 422
        return
    assert status == 200, body
    want = story.checkerboard_story(*library_args(q), layers=[(k, s, 1) for k, s in layers], weights=q["weights"],
                                    seed=5)
    body.pop("elapsed_ms")
    assert roundtrip(body) == roundtrip(want.to_dict())


def test_defaults_are_the_seeds_example():
    status, body = api.handle("/api/views", [])
    assert status == 200
    assert body["config"]["in_size"] == [2, 2] and body["config"]["out_size"] == [5, 5]
    assert body["config"]["x"] == [[1, 2], [3, 4]]
    assert body["config"]["output"] == [[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6], [3, 3, 7, 4, 4],
                                        [3, 3, 7, 4, 4]]
    assert body["formula"]["lines"] == ["H: (2 - 1)*2 - 2*0 + 1*(3 - 1) + 0 + 1 = 5"] * 1 + [
        "W: (2 - 1)*2 - 2*0 + 1*(3 - 1) + 0 + 1 = 5"]
    status, body = api.handle("/api/checkerboard", [])
    assert status == 200 and body["layer"]["ratio"] == 4.0
    status, body = api.handle("/api/checkerboard", [("kernel_size", "4")])
    assert status == 200 and body["layer"]["ratio"] == 1.0
    assert api.handle("/api/views", [("size", "5")])[1]["dims"] == 1


def _conv_transpose_error(size, k, s, p, a, d) -> str:
    with pytest.raises(ValueError) as info:
        upconv.conv_transpose(np.ones((1, 1) + size), np.ones((1, 1) + k), stride=s, padding=p, output_padding=a,
                              dilation=d)
    return str(info.value)


@pytest.mark.parametrize("q, axes", [
    ({"padding": "5"}, ((2, 2), (3, 3), (2, 2), (5, 5), (0, 0), (1, 1))),
    ({"padding": "1,5"}, ((2, 2), (3, 3), (2, 2), (1, 5), (0, 0), (1, 1))),
    ({"stride": "0"}, ((2, 2), (3, 3), (0, 0), (0, 0), (0, 0), (1, 1))),
    ({"output_padding": "2"}, ((2, 2), (3, 3), (2, 2), (0, 0), (2, 2), (1, 1))),
    ({"padding": "-1"}, ((2, 2), (3, 3), (2, 2), (-1, -1), (0, 0), (1, 1))),
    ({"dilation": "0,1"}, ((2, 2), (3, 3), (2, 2), (0, 0), (0, 0), (0, 1))),
    ({"dims": "1", "size": "3", "kernel_size": "2", "padding": "9"}, ((3,), (2,), (2,), (9,), (0,), (1,))),
])
def test_invalid_configurations_give_the_librarys_message(q, axes):
    for path in ("/api/views", "/api/checkerboard"):
        status, body = api.handle(path, list(q.items()))
        assert status == 422
        assert body["error"] == _conv_transpose_error(*axes)


def test_size_zero_gives_the_librarys_message():
    status, body = api.handle("/api/views", [("size", "0,2")])
    assert status == 422
    assert body["error"] == "conv_transpose: every entry of input spatial size must be >= 1, got (0, 2)"


@pytest.mark.parametrize("q, status, message", [
    ({"foo": "1"}, 400, "unknown parameter 'foo'"),
    ({"layers": "3:2"}, 400, "unknown parameter 'layers'"),  # /api/views takes no checkerboard parameter
    ({"stride": "two"}, 400, "parameter 'stride': expected integers separated by commas, got 'two'"),
    ({"stride": "2.0"}, 400, "parameter 'stride': expected integers"),
    ({"stride": ""}, 400, "parameter 'stride': expected integers"),
    ({"stride": "1" * 40}, 400, "parameter 'stride': expected integers"),
    ({"stride": "1,2,3"}, 400, "parameter 'stride': expected 1 or 2 integers (one per axis), got 3"),
    ({"dims": "1", "size": "2,2"}, 400, "parameter 'size': expected 1 integer, got 2"),
    ({"dims": "3"}, 422, "parameter 'dims': the explorer draws 1-d and 2-d configurations"),
    ({"size": "17,2"}, 422, "size=17,2 is over the explorer's limit: input size at most 16 per axis"),
    ({"kernel_size": "9"}, 422, "kernel_size=9,9 is over the explorer's limit"),
    ({"stride": "9"}, 422, "stride=9,9 is over the explorer's limit"),
    ({"dilation": "5"}, 422, "dilation=5,5 is over the explorer's limit"),
    ({"padding": "17", "size": "16,16", "kernel_size": "8"}, 422, "padding=17,17 is over the explorer's limit"),
    ({"size": "16,16", "stride": "3"}, 422, "the output, 48x48, is over the explorer's limit"),
    ({"dims": "1", "size": "16", "stride": "5"}, 422, "the output, 78, is over the explorer's limit"),
    ({"input": "1,2,3"}, 422, "parameter 'input': expected 4 values (row-major), got 3"),
    ({"kernel": "1,2,x,4,5,6,7,8,9"}, 400, "parameter 'kernel': expected numbers separated by commas"),
    ({"input": "1,2,3,nan"}, 422, "parameter 'input': values must be finite numbers"),
    ({"input": "1,2,3,inf"}, 422, "parameter 'input': values must be finite numbers"),
    ({"input": "1,2,3,1e9"}, 422, "parameter 'input': values must be finite numbers of at most 1e+06"),
])
def test_refused_parameters(q, status, message):
    got, body = api.handle("/api/views", list(q.items()))
    assert got == status
    assert body["error"].startswith(message), body["error"]
    assert body["status"] == status


@pytest.mark.parametrize("q, status, message", [
    ({"layers": "3:2,3:2,3:2"}, 422, "parameter 'layers': at most 2 further layers"),
    ({"layers": "3"}, 400, "parameter 'layers': expected K:S or K:S:D"),
    ({"layers": "3:x"}, 400, "parameter 'layers': expected integers"),
    ({"layers": "3:4,3:4"}, 422, "parameter 'layers': the stack's period (the product of the strides), 32"),
    ({"layers": "9:1"}, 422, "parameter 'layers': kernel_size 9 is over the explorer's limit 8"),
    ({"layers": "0:2"}, 422, "overlap_map: every entry of layers[1] kernel_size must be >= 1"),
    ({"weights": "bogus"}, 422, "checkerboard_story: weights must be one of 'user', 'random', got 'bogus'"),
    ({"seed": "-1"}, 422, "checkerboard_story: seed must be >= 0, got -1"),
    ({"seed": str(2**32)}, 422, "parameter 'seed': at most 4294967295"),
])
def test_refused_checkerboard_parameters(q, status, message):
    got, body = api.handle("/api/checkerboard", list(q.items()))
    assert got == status
    assert body["error"].startswith(message), body["error"]


def test_repeated_and_long_queries():
    status, body = api.handle("/api/views", [("stride", "2"), ("stride", "3")])
    assert status == 400 and body["error"] == "parameter 'stride' is given more than once"
    status, body = api.handle("/api/views", [("input", "1," * 10000)])
    assert status == 400 and "longer than" in body["error"]
    assert api.handle("/api/limits", [("x", "1")])[0] == 400
    assert api.handle("/api/nothing", [])[0] == 404


def test_sizes_are_bounded_before_computing(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("computed a configuration over the limits")

    monkeypatch.setattr(views, "explain_views", forbidden)
    monkeypatch.setattr(story, "checkerboard_story", forbidden)
    monkeypatch.setattr(views, "stamping_view", forbidden)
    for q in ({"size": "1000"}, {"size": "16,16", "stride": "8"}, {"dims": "1", "size": "16", "stride": "8",
                                                                  "kernel_size": "8"}):
        for path in ("/api/views", "/api/steps", "/api/checkerboard"):
            status, body = api.handle(path, list(q.items()))
            assert status == 422 and "limit" in body["error"]


def test_steps_and_jacobian_are_left_out_beyond_their_bounds():
    status, body = api.handle("/api/views", [("size", "16,16"), ("kernel_size", "2"), ("stride", "2")])
    assert status == 200
    assert body["config"]["out_size"] == [32, 32]
    assert body["views"]["stamping"]["stamps"] is None and "too many to play" in body["notes"]["steps"]
    assert body["steps"] == {"available": False, "count": 256}
    assert body["views"]["gradient"]["jacobian"] is None and "not built" in body["notes"]["jacobian"]
    assert body["agreement"]["jacobian_vs_C"] is None and body["agreement"]["stamping"] == 0.0
    status, steps = api.handle("/api/steps", [("size", "16,16"), ("kernel_size", "2"), ("stride", "2")])
    assert status == 422 and steps["error"] == body["notes"]["steps"]


def test_fuzzed_queries_never_fail_inside():
    rng = np.random.default_rng(5)
    names = list(api.STORY_PARAMETERS) + ["bogus"]
    texts = ["", "0", "1", "2", "-1", "3,3", "1,2,3", "17", "x", "1e3", "3:2", "3:2:2,2:1", "random", "user",
             "nan", " 2 ", "2,", ",", "9999999999999", "1;2", "%00", "\u00e9"]
    for _ in range(400):
        q = [(str(rng.choice(names)), str(rng.choice(texts))) for _ in range(int(rng.integers(0, 5)))]
        for path in ("/api/views", "/api/steps", "/api/checkerboard"):
            status, body = api.handle(path, q)
            assert status in (200, 400, 422), (q, body)
            json.dumps(body, allow_nan=False)
            if status != 200:
                assert body["error"] and body["status"] == status


def test_limits_endpoint():
    status, body = api.handle("/api/limits", [])
    assert status == 200
    assert body["limits"] == api.LIMITS
    assert body["endpoints"]["/api/views"] == list(api.VIEW_PARAMETERS)
    assert set(body["parameters"]) == set(api.STORY_PARAMETERS)


# --------------------------------------------------------------------------
# through the ASGI app


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("starlette")
    if importlib.util.find_spec("httpx2") is None and importlib.util.find_spec("httpx") is None:
        pytest.skip("Starlette's TestClient needs httpx (or httpx2)")
    with warnings.catch_warnings():  # Starlette >= 1.10 prefers httpx2 and warns about httpx
        warnings.filterwarnings("ignore", message=".*install `httpx2` instead", category=UserWarning)
        from starlette.testclient import TestClient

    from upconv.web.app import create_app

    with TestClient(create_app(), base_url=BASE) as c:
        yield c


@pytest.mark.parametrize("q", QUERIES[:6], ids=[f"q{i}" for i in range(6)])
def test_http_views_equal_the_functions(client, q):
    r = client.get("/api/views", params=q)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    want = views.explain_views(*library_args(q), steps=False).to_dict()
    assert roundtrip(want["views"]) == body["views"]


def test_http_errors_are_json(client):
    r = client.get("/api/views", params={"padding": "5"})
    assert r.status_code == 422
    assert r.json()["error"].startswith("conv_transpose: output size is too small")
    assert client.get("/api/views?stride=2&stride=3").status_code == 400
    r = client.get("/api/nothing")
    assert r.status_code == 404 and r.json()["status"] == 404
    r = client.post("/api/views")
    assert r.status_code == 405 and r.json()["status"] == 405


def test_http_page_and_static_files(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/explorer.js">' in r.text
    for name, media in (("explorer.js", "text/javascript"), ("draw.js", "text/javascript"),
                        ("views.js", "text/javascript"), ("story.js", "text/javascript"),
                        ("explorer.css", "text/css")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(media), name
    assert "http://" not in client.get("/").text.replace("http://www.w3.org", "")  # nothing from the network
    for name in ("explorer.js", "draw.js", "views.js", "story.js", "explorer.css"):
        text = client.get(f"/static/{name}").text
        assert "https://" not in text and "cdn" not in text.lower(), name


@pytest.mark.parametrize("path", [
    "/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/app.py", "/static/%2e%2e%2fapi.py",
    "/static/../../../pyproject.toml", "/static/", "/static/nothing.js", "/static/static", "/app.py",
    "/upconv/web/app.py", "/static/.%2e/__init__.py", "/%2e%2e/%2e%2e/etc/passwd", "/static//etc/passwd",
])
def test_no_path_traversal(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert "import" not in r.text and "root:" not in r.text


def test_security_headers_and_hosts(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert client.get("/api/limits", headers={"host": "localhost:8000"}).status_code == 200
    assert client.get("/api/limits", headers={"host": "evil.example:8000"}).status_code == 400
    assert "content-security-policy" in client.get("/api/views", params={"foo": "1"}).headers
