"""upconv.symbolic: seed 001's derivation (C as a Jacobian, C^T y) and seed 002's flipped-kernel identity."""

from __future__ import annotations

import re

import numpy as np
import pytest

import upconv
from upconv.explain import symbolic, symbols

sp = pytest.importorskip("sympy")

# --------------------------------------------------------------------------
# seed 001, transcribed verbatim (LaTeX of the blog post)

SEED_001_CONV = (
    r"w_{11} x^{(l)}_{11} + w_{12} x^{(l)}_{12} + w_{13} x^{(l)}_{13} + w_{21} x^{(l)}_{21} + w_{22} x^{(l)}_{22} + "
    r"w_{23} x^{(l)}_{23} + w_{31} x^{(l)}_{31} + w_{32} x^{(l)}_{32} + w_{33} x^{(l)}_{33} & w_{11} x^{(l)}_{12} + "
    r"w_{12} x^{(l)}_{13} + w_{13} x^{(l)}_{14} + w_{21} x^{(l)}_{22} + w_{22} x^{(l)}_{23} + w_{23} x^{(l)}_{24} + "
    r"w_{31} x^{(l)}_{32} + w_{32} x^{(l)}_{33} + w_{33} x^{(l)}_{34}\\ w_{11} x^{(l)}_{21} + w_{12} x^{(l)}_{22} + "
    r"w_{13} x^{(l)}_{23} + w_{21} x^{(l)}_{31} + w_{22} x^{(l)}_{32} + w_{23} x^{(l)}_{33} + w_{31} x^{(l)}_{41} + "
    r"w_{32} x^{(l)}_{42} + w_{33} x^{(l)}_{43} & w_{11} x^{(l)}_{22} + w_{12} x^{(l)}_{23} + w_{13} x^{(l)}_{24} + "
    r"w_{21} x^{(l)}_{32} + w_{22} x^{(l)}_{33} + w_{23} x^{(l)}_{34} + w_{31} x^{(l)}_{42} + w_{32} x^{(l)}_{43} + "
    r"w_{33} x^{(l)}_{44}"
)
SEED_001_C = (
    r"w_{11} & 0 & 0 & 0\\w_{12} & w_{11} & 0 & 0\\w_{13} & w_{12} & 0 & 0\\0 & w_{13} & 0 & 0\\"
    r"w_{21} & 0 & w_{11} & 0\\w_{22} & w_{21} & w_{12} & w_{11}\\"
    r"w_{23} & w_{22} & w_{13} & w_{12}\\0 & w_{23} & 0 & w_{13}\\"
    r"w_{31} & 0 & w_{21} & 0\\w_{32} & w_{31} & w_{22} & w_{21}\\"
    r"w_{33} & w_{32} & w_{23} & w_{22}\\0 & w_{33} & 0 & w_{23}\\"
    r"0 & 0 & w_{31} & 0\\0 & 0 & w_{32} & w_{31}\\0 & 0 & w_{33} & w_{32}\\0 & 0 & 0 & w_{33}"
)
SEED_001_TRANSPOSED = (
    r"w_{11} x^{(l+1)}_{11} & w_{11} x^{(l+1)}_{12} + w_{12} x^{(l+1)}_{11} & w_{12} x^{(l+1)}_{12} + w_{13} "
    r"x^{(l+1)}_{11} & w_{13} x^{(l+1)}_{12}\\w_{11} x^{(l+1)}_{21} + w_{21} x^{(l+1)}_{11} & w_{11} x^{(l+1)}_{22} + "
    r"w_{12} x^{(l+1)}_{21} + w_{21} x^{(l+1)}_{12} + w_{22} x^{(l+1)}_{11} & w_{12} x^{(l+1)}_{22} + w_{13} "
    r"x^{(l+1)}_{21} + w_{22} x^{(l+1)}_{12} + w_{23} x^{(l+1)}_{11} & w_{13} x^{(l+1)}_{22} + w_{23} "
    r"x^{(l+1)}_{12}\\w_{21} x^{(l+1)}_{21} + w_{31} x^{(l+1)}_{11} & w_{21} x^{(l+1)}_{22} + w_{22} x^{(l+1)}_{21} + "
    r"w_{31} x^{(l+1)}_{12} + w_{32} x^{(l+1)}_{11} & w_{22} x^{(l+1)}_{22} + w_{23} x^{(l+1)}_{21} + w_{32} "
    r"x^{(l+1)}_{12} + w_{33} x^{(l+1)}_{11} & w_{23} x^{(l+1)}_{22} + w_{33} x^{(l+1)}_{12}\\w_{31} x^{(l+1)}_{21} & "
    r"w_{31} x^{(l+1)}_{22} + w_{32} x^{(l+1)}_{21} & w_{32} x^{(l+1)}_{22} + w_{33} x^{(l+1)}_{21} & w_{33} "
    r"x^{(l+1)}_{22}"
)


def _parse_seed(latex):
    """The seed's bmatrix body as a sympy Matrix; x^{(l)}_{ij} -> xij, x^{(l+1)}_{ij} -> yij, w_{ij} -> wij."""
    text = re.sub(r"x\^\{\(l\+1\)\}_\{(\d+)\}", r"y\1", latex)
    text = re.sub(r"x\^\{\(l\)\}_\{(\d+)\}", r"x\1", text)
    text = re.sub(r"w_\{(\d+)\}", r"w\1", text)
    rows = []
    for row in text.split(r"\\"):
        entries = []
        for entry in row.split("&"):
            terms = [t.split() for t in entry.split("+")]
            entries.append(sp.Add(*[sp.Mul(*[sp.Symbol(f) if f != "0" else 0 for f in t]) for t in terms]))
        rows.append(entries)
    return sp.Matrix(rows)


def test_seed_001_conv_output():
    expected = _parse_seed(SEED_001_CONV)
    assert expected.shape == (2, 2)
    assert symbolic.symbolic_conv((4, 4), 3) == expected


def test_seed_001_C_entry_by_entry():
    expected = _parse_seed(SEED_001_C)
    assert expected.shape == (16, 4)
    C = symbolic.symbolic_conv_matrix((4, 4), 3, layout="denominator")
    assert C.shape == (16, 4)
    for i in range(16):
        for j in range(4):
            assert C[i, j] == expected[i, j], (i, j)
    assert symbolic.symbolic_conv_matrix((4, 4), 3) == expected.T  # upconv.conv_matrix's layout


def test_seed_001_transposed_output():
    expected = _parse_seed(SEED_001_TRANSPOSED)
    assert expected.shape == (4, 4)
    assert symbolic.symbolic_conv_transpose((2, 2), 3) == expected
    # and literally C^T y with the seed's own code: (vec(Y)^T C^T).reshape(4, 4)
    C = _parse_seed(SEED_001_C)
    y = sp.Matrix(sp.symbols("y11 y12 y21 y22")).reshape(1, 4)
    assert (y @ C.T).reshape(4, 4).expand() == expected


def test_seed_001_code_gives_the_same_C():
    # the seed's own sympy code, run on upconv's symbolic output
    Y = symbolic.symbolic_conv((4, 4), 3)
    X = sp.Matrix(symbolic.symbol_array("x", (4, 4)).tolist())
    C = Y.reshape(1, 4).diff(X.reshape(16, 1)).reshape(16, 4)
    assert sp.Matrix(C.tolist()) == symbolic.symbolic_conv_matrix((4, 4), 3, layout="denominator")


@pytest.mark.parametrize(
    ("in_size", "k", "kw"),
    [
        ((4, 4), 3, {}),
        ((5, 4), 2, {"stride": 2, "padding": ((1, 0), (0, 1))}),
        ((3,), 2, {"in_channels": 2, "out_channels": 2}),
    ],
)
def test_equals_sympy_jacobian(in_size, k, kw):
    # symbolic_conv_matrix skips structurally zero derivatives; Matrix.jacobian gives the same matrix
    Y = symbolic.symbolic_conv(in_size, k, **kw)
    X = symbolic.symbol_array("x", (kw.get("in_channels", 1),) + in_size, channel_axes=1)
    vec = lambda a: sp.Matrix(list(sp.flatten(a.tolist())))  # noqa: E731
    assert vec(Y).jacobian(vec(X)) == symbolic.symbolic_conv_matrix(in_size, k, **kw)


# --------------------------------------------------------------------------
# symbolic C equals the direct construction


CONFIGS = [
    # in_size, kernel_size, kwargs
    ((6,), 3, {}),
    ((7,), 2, {"stride": 3, "padding": ((2, 1),), "dilation": 2}),
    ((5, 5), 3, {"stride": 2, "padding": 1}),
    ((5, 4), (2, 3), {"stride": (1, 2), "padding": ((1, 0), (2, 2)), "dilation": (2, 1)}),
    ((4, 4), 2, {"padding": "same"}),
    ((3, 4, 3), 2, {"stride": (2, 1, 1), "padding": (1, 0, 1)}),
    ((3, 3, 4), (1, 2, 2), {"dilation": (1, 2, 2)}),
    ((4, 3), 2, {"in_channels": 2, "out_channels": 3}),
    ((5,), 2, {"in_channels": 4, "out_channels": 2, "groups": 2, "stride": 2, "padding": 1}),
]


@pytest.mark.parametrize(("in_size", "k", "kw"), CONFIGS)
def test_jacobian_equals_conv_matrix(in_size, k, kw):
    assert symbolic.verify_conv_matrix(in_size, k, seed=3, **kw)


def _values(rng, shape):
    return rng.integers(-9, 10, shape)


def _subs(expr, symbols_values):
    mapping = {}
    for arr, values in symbols_values:
        flat = np.array(arr.tolist(), dtype=object).ravel()
        mapping.update({s: sp.Integer(int(n)) for s, n in zip(flat, values.ravel())})
    out = expr.xreplace(mapping)
    return np.array(out.tolist(), dtype=np.float64)


@pytest.mark.parametrize(("in_size", "k", "kw"), CONFIGS)
def test_symbolic_conv_substituted_equals_conv(in_size, k, kw):
    rng = np.random.default_rng(11)
    kw = dict(kw)
    c_in, c_out, groups = kw.pop("in_channels", 1), kw.pop("out_channels", 1), kw.pop("groups", 1)
    n = len(in_size)
    ks = (k,) * n if isinstance(k, int) else k
    Y = symbolic.symbolic_conv(in_size, k, in_channels=c_in, out_channels=c_out, groups=groups, **kw)
    X = symbolic.symbol_array("x", (c_in,) + in_size, channel_axes=1)
    W = symbolic.symbol_array("w", (c_out, c_in // groups) + ks, channel_axes=2)
    x, w = _values(rng, X.shape), _values(rng, W.shape)
    ours = _subs(Y, [(X, x), (W, w)])
    expected = upconv.conv(x.astype(float), w.astype(float), None, groups=groups, **kw)
    np.testing.assert_array_equal(ours.reshape(expected.shape), expected)


TRANSPOSE_CONFIGS = [
    ((3,), 3, {"stride": 2}),
    ((4,), 3, {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 3), (3, 2), {"stride": (2, 3), "padding": ((1, 0), (0, 1)), "output_padding": (1, 2)}),
    ((3, 3), 2, {"dilation": 2, "stride": 2, "output_padding": 1}),
    ((2, 2, 2), 2, {"stride": 2}),
    ((3, 2), 2, {"stride": 2, "in_channels": 2, "out_channels": 4, "groups": 2}),
]


@pytest.mark.parametrize(("in_size", "k", "kw"), TRANSPOSE_CONFIGS)
def test_symbolic_conv_transpose_substituted_equals_conv_transpose(in_size, k, kw):
    rng = np.random.default_rng(12)
    kw = dict(kw)
    c_in, c_out, groups = kw.pop("in_channels", 1), kw.pop("out_channels", 1), kw.pop("groups", 1)
    n = len(in_size)
    ks = (k,) * n if isinstance(k, int) else k
    X = symbolic.symbolic_conv_transpose(in_size, k, in_channels=c_in, out_channels=c_out, groups=groups, **kw)
    Y = symbolic.symbol_array("y", (c_in,) + in_size, channel_axes=1)
    W = symbolic.symbol_array("w", (c_in, c_out // groups) + ks, channel_axes=2)
    y, w = _values(rng, Y.shape), _values(rng, W.shape)
    ours = _subs(X, [(Y, y), (W, w)])
    expected = upconv.conv_transpose(y.astype(float), w.astype(float), None, groups=groups, **kw)
    np.testing.assert_array_equal(ours.reshape(expected.shape), expected)


# --------------------------------------------------------------------------
# seed 002: C^T is the flipped kernel's convolution matrix on the padded, zero-inserted input


def test_seed_002_flip_identity():
    ident = symbolic.symbolic_flip_identity((4, 4), 2)
    w11, w12, w21, w22 = sp.symbols("w11 w12 w21 w22")
    assert ident.transposed.shape == (16, 9)
    assert ident.intermediate_size == (5, 5) and ident.padding == ((1, 1), (1, 1))
    # seed 002, figure 4: the 25x16 matrix (its F^T) is flip(W)_r; its first column and its
    # last column, read off the figure
    FT = ident.flipped.T
    assert FT.shape == (25, 16)
    assert list(FT[:, 0]) == [w22, w21, 0, 0, 0, w12, w11] + [0] * 18
    assert list(FT[:, 15]) == [0] * 18 + [w22, w21, 0, 0, 0, w12, w11]
    assert ident.holds
    # P really is the zero-insertion + padding, and F P is a matrix product
    assert ident.embedding.shape == (25, 9)
    assert ident.flipped * ident.embedding == ident.rearranged == ident.transposed


@pytest.mark.parametrize(
    ("in_size", "k", "kw"),
    [
        ((5,), 3, {"stride": 2}),  # exact division
        ((6,), 3, {"stride": 2}),  # the transpose needs output padding 1
        ((7,), 2, {"stride": 2, "padding": 1, "dilation": 2}),
        ((6,), 2, {"stride": 2, "padding": 2}),  # padding > k - 1: the intermediate image is cropped
        ((4, 5), (2, 3), {"stride": (2, 1), "padding": ((0, 1), (1, 0))}),
        ((3, 3, 3), 2, {"stride": 2}),
        ((4,), 2, {"in_channels": 2, "out_channels": 4, "groups": 2, "stride": 2}),
    ],
)
def test_flip_identity_holds(in_size, k, kw):
    ident = symbolic.symbolic_flip_identity(in_size, k, **kw)
    assert ident.holds
    P = np.array(ident.embedding.tolist(), dtype=np.int64)
    assert set(np.unique(P)) <= {0, 1} and P.sum(axis=0).max() <= 1 and P.sum(axis=1).max() <= 1
    assert ident.flipped * ident.embedding == ident.transposed


def test_flip_identity_numbers_equal_conv_transpose():
    ident = symbolic.symbolic_flip_identity((5, 4), 3, stride=2, padding=1)
    rng = np.random.default_rng(5)
    w = _values(rng, (1, 1, 3, 3))
    W = symbolic.symbol_array("w", (1, 1, 3, 3), channel_axes=2)
    F = _subs(ident.flipped, [(W, w)])
    P = np.array(ident.embedding.tolist(), dtype=np.float64)
    y = rng.standard_normal((1, 1, 3, 2))
    expected = upconv.conv_transpose(y, w.astype(float), stride=2, padding=1, output_size=(5, 4))
    np.testing.assert_allclose(F @ P @ y.ravel(), expected.ravel(), rtol=1e-12)


# --------------------------------------------------------------------------
# printing, naming, shapes, errors


def test_latex_and_pretty():
    tex = symbolic.to_latex(symbolic.symbolic_conv((4, 4), 3))
    for token in (r"\begin{matrix}", r"w_{11} x_{11}", r"w_{33} x_{44}", "&", r"\\"):
        assert token in tex
    tex_t = symbolic.to_latex(symbolic.symbolic_conv_transpose((2, 2), 3))
    assert r"w_{11} y_{12} + w_{12} y_{11}" in tex_t
    text = symbolic.pretty(symbolic.symbolic_conv_matrix((4, 4), 3))
    assert "w₁₁" in text and "\n" in text
    ascii_text = symbolic.pretty(symbolic.symbolic_conv_matrix((4,), 3), unicode=False)
    assert ascii_text.splitlines()[0] == "[w1  w2  w3  0 ]"


def test_result_types_and_naming():
    assert isinstance(symbolic.symbolic_conv((5,), 2), sp.MatrixBase)
    assert symbolic.symbolic_conv((5,), 2).shape == (1, 4)
    y3 = symbolic.symbolic_conv((3, 3, 3), 2)
    assert isinstance(y3, sp.NDimArray) and y3.shape == (2, 2, 2)
    assert y3[0, 0, 0].coeff(sp.Symbol("w111")) == sp.Symbol("x111")
    multi = symbolic.symbolic_conv((3,), 2, in_channels=2, out_channels=3)
    assert multi.shape == (3, 2)
    assert multi[2, 0] == sp.sympify("w31_1*x1_1 + w31_2*x1_2 + w32_1*x2_1 + w32_2*x2_2")
    # sizes above 9 separate the indices
    wide = symbolic.symbolic_conv((2, 11), 1)
    assert wide[1, 10] == sp.Symbol("w11") * sp.Symbol("x2_11")
    assert symbolic.symbolic_conv((4,), 2, input_name="u", weight_name="k")[0, 0] == sp.sympify("k1*u1 + k2*u2")
    assert symbolic.symbolic_conv_matrix((4,), 3, layout="denominator") == symbolic.symbolic_conv_matrix((4,), 3).T


def test_size_guard(monkeypatch):
    with pytest.raises(ValueError, match=r"^symbolic_conv_matrix: this configuration needs 1081600 matrix "
                                         r"entries.*100000"):
        symbolic.symbolic_conv_matrix((40, 40), 15)
    with pytest.raises(ValueError, match=r"^symbolic_conv: this configuration needs .* product terms"):
        symbolic.symbolic_conv((400, 400), 3)
    with pytest.raises(ValueError, match=r"^symbolic_conv_transpose: this configuration needs"):
        symbolic.symbolic_conv_transpose((30, 30), 3, stride=2)
    with pytest.raises(ValueError, match=r"^symbolic_flip_identity: this configuration needs"):
        symbolic.symbolic_flip_identity((10**6,), 3)
    monkeypatch.setattr(symbols, "MAX_ENTRIES", 10)
    with pytest.raises(ValueError, match=r"^verify_conv_matrix: this configuration needs 12 matrix entries"):
        symbolic.verify_conv_matrix((4,), 2)


def test_errors():
    with pytest.raises(ValueError, match=r"^symbolic_conv_matrix: layout must be one of 'numerator', 'denominator'"):
        symbolic.symbolic_conv_matrix((4,), 2, layout="rows")
    with pytest.raises(ValueError, match=r"^symbolic_conv: in_channels \(3\) and out_channels \(2\) must both be "
                                         r"divisible by groups=2"):
        symbolic.symbolic_conv((4,), 2, in_channels=3, out_channels=2, groups=2)
    with pytest.raises(ValueError, match=r"^symbolic_conv: input_name must be a Python identifier"):
        symbolic.symbolic_conv((4,), 2, input_name="x y")
    with pytest.raises(ValueError, match=r"^symbolic_conv: the kernel is larger than the padded input"):
        symbolic.symbolic_conv((2,), 3)
    with pytest.raises(ValueError, match=r"^symbolic_conv_transpose: output_padding must be smaller"):
        symbolic.symbolic_conv_transpose((2,), 3, stride=2, output_padding=2)
    with pytest.raises(TypeError, match=r"^symbolic_conv: in_channels must be an integer"):
        symbolic.symbolic_conv((4,), 2, in_channels=1.5)
    with pytest.raises(ValueError, match=r"^symbol_array: channel_axes must be smaller"):
        symbolic.symbol_array("x", (2, 2), channel_axes=2)
    with pytest.raises(TypeError, match=r"^symbol_array: shape must be a non-empty sequence"):
        symbolic.symbol_array("x", 3)
