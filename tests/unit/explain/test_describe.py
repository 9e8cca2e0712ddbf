"""What goes around the views (:mod:`upconv.explain.describe`): the size formula, the calls, the agreement."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex

import numpy as np
import pytest

import upconv
from upconv import shapes
from upconv.cli import main
from upconv.explain import describe, views


def random_configs(count: int, seed: int, ndims=(1, 2, 3), asymmetric: bool = False) -> list[tuple]:
    """Valid random configurations with integer-valued x and w (the snippets print them exactly)."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        n = int(rng.choice(ndims))
        size = tuple(int(i) for i in rng.integers(1, 5 if n < 3 else 3, n))
        k = tuple(int(i) for i in rng.integers(1, 5, n))
        s = tuple(int(i) for i in rng.integers(1, 4, n))
        d = tuple(int(i) for i in rng.integers(1, 3, n))
        a = tuple(int(rng.integers(0, max(s_, d_))) for s_, d_ in zip(s, d, strict=True))
        if asymmetric:
            p = tuple((int(rng.integers(0, 4)), int(rng.integers(0, 4))) for _ in range(n))
        else:
            p = tuple(int(i) for i in rng.integers(0, 4, n))
        try:
            shapes.conv_transpose_geometry(size, k, s, p, a, d)
        except ValueError:
            continue
        x = rng.integers(-4, 5, size).astype(float)
        w = rng.integers(-3, 4, k).astype(float) + (rng.random(k) < 0.2) * 0.5  # some non-integers too
        out.append((x, w, s, p, a, d))
    return out


CONFIGS = random_configs(20, 1)


@pytest.mark.parametrize("cfg", CONFIGS, ids=[f"{c[0].ndim}d-{i}" for i, c in enumerate(CONFIGS)])
def test_size_formula_filled_in_equals_the_size(cfg):
    c = views.view_config(*cfg)
    f = describe.size_formula(c)
    assert f.axes == describe.axis_names(c.ndim)
    assert len(f.lines) == c.ndim
    for line, term, o in zip(f.lines, f.terms, c.out_size, strict=True):
        ax, rest = line.split(": ", 1)
        expression, value = rest.rsplit(" = ", 1)
        assert int(value) == o == term["out"]
        assert eval(expression, {}) == o  # the numbers filled in compute the size
    json.dumps(f.to_dict())


def test_size_formula_with_pairs():
    c = views.view_config(np.ones(4), np.ones(3), stride=2, padding=((2, 1),), output_padding=1)
    (line,) = describe.size_formula(c).lines
    assert line == "L: (4 - 1)*2 - (2 + 1) + 1*(3 - 1) + 1 + 1 = 7"
    assert c.out_size == (7,)


@pytest.mark.parametrize("cfg", CONFIGS[:12] + random_configs(6, 2, asymmetric=True),
                         ids=[f"cfg{i}" for i in range(18)])
def test_upconv_and_torch_calls_reproduce_the_output(cfg):
    c = views.view_config(*cfg)
    calls = describe.config_calls(c)
    ns: dict = {}
    exec(calls.upconv, ns)
    np.testing.assert_array_equal(ns["y"], c.output)
    torch = pytest.importorskip("torch")
    if c.ndim <= 3:
        ns = {}
        exec(calls.torch, ns)
        np.testing.assert_allclose(ns["y"].numpy(), c.output, rtol=1e-12, atol=1e-12)
        assert isinstance(ns["y"], torch.Tensor)
    symmetric = all(b == e for b, e in c.padding)
    assert (calls.explain is None) == (not symmetric)


@pytest.mark.parametrize("cfg", CONFIGS[:8], ids=[f"cfg{i}" for i in range(8)])
def test_explain_command_runs_the_same_configuration(cfg, capsys):
    c = views.view_config(*cfg)
    cmd = describe.config_calls(c).explain
    argv = shlex.split(cmd)
    assert argv[:2] == ["upconv", "explain"]
    assert main(argv[1:]) == 0
    out = capsys.readouterr().out
    arrow = f"{' × '.join(map(str, c.in_size))} → {' × '.join(map(str, c.out_size))}"
    assert out.splitlines()[0] == f"upconv explain: transposed convolution, {arrow}"
    assert "All 4 views agree" in out


def test_calls_of_the_seeds_example():
    c = views.view_config([[1.0, 2.0], [3.0, 4.0]], np.ones((3, 3)), stride=2)
    calls = describe.config_calls(c)
    assert "F.conv_transpose2d(x, w, stride=2, padding=0, output_padding=0, dilation=1)[0, 0]  # 5x5" in calls.torch
    assert calls.explain == ("upconv explain --size 2,2 --kernel-size 3,3 --stride 2 --padding 0 --output-padding 0 "
                             "--dilation 1 --input=1,2,3,4 --kernel=1,1,1,1,1,1,1,1,1")
    assert re.search(r"np\.array\(\[1, 2, 3, 4\], dtype=np\.float64\)\.reshape\(1, 1, 2, 2\)", calls.upconv)


def test_values_read_back_exactly():
    x = np.array([0.1, -1e-7, 1 / 3])
    c = views.view_config(x, [1.0, 2.0], stride=1)
    ns: dict = {}
    exec(describe.config_calls(c).upconv, ns)
    np.testing.assert_array_equal(ns["x"][0, 0], x)


@pytest.mark.parametrize("cfg", CONFIGS, ids=[f"cfg{i}" for i in range(len(CONFIGS))])
def test_agreement_is_zero_for_the_library(cfg):
    e = views.explain_views(*cfg)
    ag = describe.view_agreement(e)
    assert set(ag) == set(views.VIEW_NAMES) | {"gradient_from_jacobian", "jacobian_vs_C"}
    assert all(v is not None and v < 1e-9 for v in ag.values()), ag


def test_agreement_sees_a_difference_and_what_is_missing():
    e = views.explain_views([1.0, 2.0], [1.0, 2.0, 3.0], stride=2)
    wrong = dataclasses.replace(e, zero_insertion=dataclasses.replace(e.zero_insertion,
                                                                       output=e.zero_insertion.output + 0.5))
    assert describe.view_agreement(wrong)["zero_insertion"] == 0.5
    few = views.explain_views([1.0, 2.0], [1.0, 2.0, 3.0], stride=2, views=("gradient",), jacobian=False)
    assert describe.view_agreement(few) == {"gradient": 0.0, "gradient_from_jacobian": None, "jacobian_vs_C": None}


def test_the_output_is_conv_transpose():
    x, w, s, p, a, d = CONFIGS[0]
    c = views.view_config(x, w, s, p, a, d)
    want = upconv.conv_transpose(x[None, None], w[None, None], stride=s, padding=p, output_padding=a, dilation=d)
    np.testing.assert_array_equal(c.output, want[0, 0])
