"""Claims checked (theory.homotopy.local_dimension): the local dimension of V(f) at a point is 0 at isolated roots of any
multiplicity and the dimension of the component through it otherwise; on random rank-deficient linear systems
(a hypothesis property) it is n − rank."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.homotopy.local_dimension import local_dimension
from theory.polynomials.system import from_strings

SVW = ["(y - x^2)*(x^2 + y^2 + z^2 - 1)*(x - 0.5)", "(z - x^3)*(x^2 + y^2 + z^2 - 1)*(y - 0.5)",
       "(y - x^2)*(z - x^3)*(x^2 + y^2 + z^2 - 1)*(z - 0.5)"]


@pytest.mark.parametrize("polys,point,expected", [
    (["29/16*x^3 - 2*x*y", "y - x^2"], [0, 0], 0),        # Griewank–Osborne: multiplicity 3, isolated
    (["(x - 1)^2*(x + 2)"], [1], 0),                          # a double root
    (["x^10"], [0], 0),                                       # multiplicity 10: f is 1e-30 small nearby, still isolated
    (["x^2 + y^2 - 1", "(x^2 + y^2 - 1)*(x - 2*y)"], [0.6, 0.8], 1),           # a circle
    (["x^2 + y^2 - 1", "(x^2 + y^2 - 1)*(x - 2*y)"], [0.6 + 1e-7, 0.8], 1),    # near it, as an endpoint is
    (["(x - y)^2", "(x - y)^2*(x + 1)"], [0.3, 0.3], 1),     # a double line (non-reduced)
    (SVW, [0.6, 0.0, 0.8], 2),                                # the sphere
    (SVW, [2, 4, 8], 1),                                      # the twisted cubic
    (SVW, [0.5, 0.5, 0.5], 0),                                # the isolated point
    (["x*y", "x*z"], [0, 0.3, 0.7], 2),                       # the plane x = 0
    (["x*y", "x*z"], [0.2, 0, 0], 1),                         # the line y = z = 0
    (["x*y", "x*z"], [0, 0, 0], 2),                           # where they meet: the larger
])
def test_local_dimension_tells_isolated_roots_from_components(polys, point, expected):
    names = sorted({c for p in polys for c in "xyz" if c in p})
    assert local_dimension(from_strings(polys, names), np.array(point, dtype=complex)) == expected


@settings(max_examples=12, deadline=None)
@given(n=st.integers(2, 4), data=st.data())
def test_linear_systems_have_local_dimension_n_minus_rank(n, data):
    """A x = b with A = B C of rank r (random B: n × r, C: r × n) has a solution set of dimension n − r."""
    r = data.draw(st.integers(1, n))
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, r)) @ rng.normal(size=(r, n))
    x0 = rng.normal(size=n)
    b = A @ x0
    names = [f"x{i + 1}" for i in range(n)]
    polys = [" + ".join(f"({A[i, j]:.17g})*{names[j]}" for j in range(n)) + f" - ({b[i]:.17g})" for i in range(n)]
    assert local_dimension(from_strings(polys, names), x0.astype(complex), seed=seed) == n - r
