"""`upconv explain` shows the gradient view: conv's input gradient, by finite differences, is conv_transpose."""

from __future__ import annotations

import numpy as np
import pytest

from upconv.cli import explain, main


def test_default_prints_the_gradient_equal_to_the_result(capsys):
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    section = out[out.index("The gradient view") :]
    rows = [line.split() for line in section.splitlines()[6:11]]
    assert rows == [["1", "1", "3", "2", "2"], ["1", "1", "3", "2", "2"], ["4", "4", "10", "6", "6"],
                    ["3", "3", "7", "4", "4"], ["3", "3", "7", "4", "4"]]
    assert "df/dX equals the transposed convolution of x: max |difference| = 0" in section


@pytest.mark.parametrize(
    "argv",
    [
        ["--size", "4", "--kernel-size", "3", "--stride", "2", "--padding", "1", "--output-padding", "1"],
        ["--size", "3,2", "--kernel-size", "2,3", "--stride", "1,2", "--dilation", "2,1", "--output-padding", "1,0"],
        ["--size", "2,2,2", "--kernel-size", "2", "--stride", "2", "--kernel", "arange"],
    ],
)
def test_finite_difference_gradient_matches_conv_transpose(argv):
    args = explain.add_parser(__import__("argparse").ArgumentParser().add_subparsers()).parse_args(argv)
    c = explain._config(args)
    expected = c.transpose(c.x, c.w, method="scatter")
    gradient = c.compute_views(("gradient",), steps=False, jacobian=True).gradient.gradient_from_jacobian
    np.testing.assert_allclose(gradient, expected, rtol=1e-12, atol=1e-12)


def test_a_wrong_transpose_fails_the_gradient_check(capsys, monkeypatch):
    import upconv.grad

    real = upconv.grad.conv_transpose_grad_input

    def doubled(*a, **k):  # a convolution that is not the adjoint of conv_transpose
        return real(*a, **k) * 2.0

    monkeypatch.setattr(upconv.grad, "conv_transpose_grad_input", doubled)
    assert main(["explain"]) == 1
    assert "df/dX DIFFERS from the transposed convolution" in capsys.readouterr().out
