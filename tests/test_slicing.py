"""Claims checked: randomization keeps the zeros of f, the witness slice is one draw fixed by the
seed (so witness sets and witness families cut the same slice), and slices have the stated shapes."""
from __future__ import annotations

import numpy as np

from landscape_core.seeds import stream
from theory.homotopy import slicing as L
from theory.polynomials.system import from_strings


def test_randomized_system_vanishes_where_the_system_does():
    s = from_strings(["x*y - 1;", "x - y;", "x^2 - 1;"], names=["x", "y"])
    r, R = L.randomize(s, 2, stream(0, "test"))
    assert R.shape == (2, 3) and r.n_equations == 2
    for root in ([1, 1], [-1, -1]):
        assert np.max(np.abs(r.evaluate(np.array(root, dtype=complex)))) < 1e-14
    x = np.array([0.3 + 0.1j, -1.2j])
    assert np.allclose(r.evaluate(x), R @ s.evaluate(x)) and np.allclose(r.jacobian(x), R @ s.jacobian(x))
    # the PHCpack strings say the same as the evaluator
    text = from_strings(list(r.polys), names=["x", "y"])
    assert np.allclose(text.evaluate(x), r.evaluate(x), atol=1e-12)


def test_randomize_to_at_least_m_rows_is_the_identity():
    s = from_strings(["x - 1;", "y + 2;"])
    r, R = L.randomize(s, 2, stream(0, "test"))
    assert r is s and np.array_equal(R, np.eye(2))


def test_witness_slice_is_one_draw_fixed_by_the_seed():
    s = from_strings(["x*y*z - 1;"], names=["x", "y", "z"])
    a, b, c = L.witness_slice(s, 2, 7), L.witness_slice(s, 2, 7), L.witness_slice(s, 2, 8)
    assert a.A.shape == (2, 3) and a.b.shape == (2,) and a.R.shape == (1, 1)
    assert np.array_equal(a.A, b.A) and np.array_equal(a.b, b.b)
    assert not np.allclose(a.A, c.A)
    sliced = a.sliced("cut")
    assert sliced.is_square and sliced.n_equations == 3


def test_random_complex_entries_have_unit_variance():
    z = L.random_complex(stream(1, "test"), 200_000)
    assert abs(np.mean(np.abs(z) ** 2) - 1) < 0.01 and abs(np.mean(z)) < 0.01
