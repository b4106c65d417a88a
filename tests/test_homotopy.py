"""Claims checked: known root counts are reproduced, every path is accounted for, bounds hold."""
from __future__ import annotations

import numpy as np
import pytest

from theory import homotopy as H
from theory.errors import InvalidSpecError, PathBudgetExceeded


def cyclic(n: int) -> list[str]:
    """The cyclic n-roots system (Björck–Fröberg): Σ_i ∏_{j<k} x_{i+j} = 0 for k < n, ∏ x_i = 1."""
    x = [f"x{i}" for i in range(n)]
    polys = []
    for k in range(1, n):
        polys.append(" + ".join("*".join(x[(i + j) % n] for j in range(k)) for i in range(n)) + ";")
    polys.append("*".join(x) + " - 1;")
    return polys


def katsura(n: int) -> list[str]:
    """Katsura-n in u_0..u_n with u_{−l} = u_l, u_l = 0 for |l| > n: 2^n solutions, all regular."""
    def u(l: int) -> str | None:
        return f"u{abs(l)}" if abs(l) <= n else None
    polys = [" + ".join(u(l) for l in range(-n, n + 1)) + " - 1;"]
    for m in range(n):
        terms = [f"{u(l)}*{u(m - l)}" for l in range(-n, n + 1) if u(l) and u(m - l)]
        polys.append(" + ".join(terms) + f" - u{m};")
    return polys


def test_cyclic5_has_70_isolated_solutions():
    s = H.from_strings(cyclic(5), label="cyclic-5")
    r = H.solve(s, options=H.TrackOptions(seed=1))
    assert r.bezout == 120 and r.n_paths == 120
    assert r.mixed_volume == 70
    assert r.n_solutions == 70
    assert sum(r.outcomes.values()) == r.n_paths
    assert r.outcomes["failed"] == 0 and r.n_duplicates == 0
    # the 10 real cyclic-5 roots: permutations/reversals of the golden-ratio solutions
    assert r.n_real == 10
    for x in r.solution_array():
        assert np.max(np.abs(s.evaluate(x))) < 1e-10
    assert r.bkk_complete and r.completeness.startswith("complete: 70 regular solutions = stable mixed volume 70")


def test_katsura6_has_64_regular_solutions_equal_to_bezout():
    s = H.from_strings(katsura(6), label="katsura-6")
    r = H.solve(s, options=H.TrackOptions(seed=2))
    assert r.bezout == 64
    assert r.n_solutions == 64 and r.outcomes["regular"] == 64
    assert r.outcomes["at_infinity"] == r.outcomes["failed"] == r.outcomes["singular"] == 0


def test_multihomogeneous_start_has_m_bezout_many_points_and_finds_all_solutions():
    # x*y − 1 has degrees (1, 1) in ({x}, {y}), x^2*y + y − 3 has (2, 1): m-Bezout 1·1 + 1·2 = 3 < 9
    s = H.from_strings(["x*y - 1;", "x^2*y + y - 3;"])
    st = H.multihomogeneous_start(s, [[0], [1]], seed=0)
    assert st.count == 3 == len(st.points)
    assert st.degree_matrix == ((1, 1), (2, 1))
    for p in st.points:  # every start point solves the start system (independent evaluation)
        g = H.from_strings(list(st.polys), names=list(s.names))
        assert np.max(np.abs(g.evaluate(p))) < 1e-9
    r = H.solve(s, start="multihomogeneous", groups=[[0], [1]])
    # y = 1/x: x − 3x^2... x^2/x + 1/x = 3 → x^2 − 3x + 1 = 0: two solutions
    assert r.m_bezout == 3 and r.n_solutions == 2
    xs = sorted(sol[0].real for sol in r.solutions)
    assert xs == pytest.approx(sorted(np.roots([1, -3, 1]).real), abs=1e-10)


def test_singular_root_is_classified_singular_not_regular():
    # (x − 1)^2 = 0, y − 2 = 0: a double root, both paths end there
    r = H.solve(H.from_strings(["(x - 1)^2;", "y - 2;"]))
    assert r.outcomes["singular"] == 2 and r.n_solutions == 0
    assert r.singular_clusters == (2,)


def test_paths_to_infinity_are_counted_not_dropped():
    # x*y = 1, x*y = 2 + x: the Bezout number 4 exceeds the 1 finite solution
    r = H.solve(H.from_strings(["x*y - 1;", "x*y - x - 2;"]))
    assert r.n_paths == 4 and sum(r.outcomes.values()) == 4
    assert r.n_solutions == 1
    assert r.outcomes["at_infinity"] + r.outcomes["failed"] + r.outcomes["singular"] == 3
    assert r.solutions[0][0] == pytest.approx(-1.0) and r.solutions[0][1] == pytest.approx(-1.0)


def test_count_is_complete_by_bkk_even_when_diverging_paths_fail():
    """Bernstein/Li–Wang: isolated solutions in C^n ≤ stable mixed volume, so reaching it proves completeness.

    The critical system of x ↦ b (a x)² with a generic L2 penalty has Bezout number 121 but 21
    isolated solutions; its 100 other paths head to points at infinity of multiplicity ~50 that
    PHCpack's end game cannot reach in double precision, so they end as failed paths.
    """
    from theory.activations import parse
    from theory.critical import critical_system, generic_penalty
    from theory.networks import NetworkSpec
    from theory.systems import CriticalSystem, random_data

    spec = NetworkSpec.fully_connected(1, 1, 2, parse("z^2"), bias=False)
    crit = CriticalSystem(spec, random_data(spec, 2, 0), penalty=generic_penalty(2, 0))
    r = H.solve(critical_system(crit), options=H.TrackOptions(seed=0, retry=None))
    assert r.n_paths == 121 and r.outcomes["failed"] > 0
    assert r.n_solutions == r.stable_mixed_volume == 21
    assert r.bkk_complete and "the other 100 paths end at infinity" in r.completeness
    # the polyhedral start misses w = 0 (a zero coordinate) and says so
    p = H.solve(critical_system(crit), start="polyhedral", options=H.TrackOptions(seed=0))
    assert p.n_solutions == 20 and not p.bkk_complete and "torus solutions only" in p.completeness


def test_budget_refusal_names_bound_and_budget():
    with pytest.raises(PathBudgetExceeded, match="120 start paths.*budget of 100"):
        H.solve(H.from_strings(cyclic(5)), options=H.TrackOptions(max_paths=100))


def test_solutions_never_exceed_any_root_count_bound():
    s = H.from_strings(["x^2 + y^2 - 4;", "x*y - 1;", "z^3 - x;"])
    r = H.solve(s, start="multihomogeneous", groups=[[0], [1], [2]])
    assert r.n_solutions <= min(r.bezout, r.m_bezout, r.stable_mixed_volume)
    assert r.n_solutions == 12  # 4 (x, y) intersections times 3 cube roots


def test_same_seed_same_numbers():
    s = H.from_strings(["x^3 - 2*y;", "y^2 - x - 1;"])
    a = H.solve(s, options=H.TrackOptions(seed=5))
    b = H.solve(s, options=H.TrackOptions(seed=5))
    assert a.gamma == b.gamma and np.allclose(a.solution_array(), b.solution_array())


def test_non_square_and_unparsable_systems_raise_named_errors():
    with pytest.raises(InvalidSpecError):
        H.solve(H.from_strings(["x + y - 1;"]))
    with pytest.raises(InvalidSpecError, match="cannot parse"):
        H.from_strings(["8450*a0*b0^2/1369 - 1;"])


def test_read_system_file_with_header():
    s = H.read_system_file("2\n x^2 - 1;\n y - x;\n")
    assert s.names == ("x", "y") and s.n_equations == 2
    with pytest.raises(InvalidSpecError, match="announces 3"):
        H.read_system_file("3\n x^2 - 1;\n y - x;\n")


def test_projective_tracking_ends_diverging_paths_at_x0_zero():
    # same system as above, tracked in a random chart of P^2: the 3 paths at infinity converge
    opts = H.TrackOptions(seed=3, projective=True)
    r = H.solve(H.from_strings(["x*y - 1;", "x*y - x - 2;"]), options=opts)
    assert r.outcomes == {"regular": 1, "singular": 0, "at_infinity": 3, "failed": 0}
    assert all(p.x0 < 1e-8 for p in r.paths if p.outcome == "at_infinity")
    k = H.solve(H.from_strings(katsura(6)), options=opts)
    assert k.n_solutions == 64


def test_homogenize_is_exact_on_a_small_example():
    s = H.from_strings(["x^2*y + 3*x - 1;", "y - 2;"])
    polys, degs = H.homogenize(s)
    assert degs == [3, 1]
    hom = H.from_strings(polys, names=[H.HOM, "x", "y"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=2) + 1j * rng.normal(size=2)
    lam = 0.7 - 0.2j
    # f^h(λ, λx) = λ^d f(x)
    got = hom.evaluate(np.concatenate([[lam], lam * x]))
    assert np.allclose(got, [lam**3 * s.evaluate(x)[0], lam * s.evaluate(x)[1]], atol=1e-12)


def test_polyhedral_start_tracks_mixed_volume_paths_and_finds_torus_solutions():
    s = H.from_strings(cyclic(5))
    r = H.solve(s, start="polyhedral", options=H.TrackOptions(seed=4))
    assert r.n_paths == r.mixed_volume == 70
    assert r.n_solutions == 70 and r.outcomes["failed"] == 0
    td = H.solve(s, options=H.TrackOptions(seed=4))
    A, B = r.solution_array(), td.solution_array()
    assert all(np.min(np.max(np.abs(B - a), axis=1)) < 1e-8 for a in A)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=3).flatmap(
    lambda sizes: st.tuples(st.just(sizes), st.lists(st.lists(st.integers(0, 4), min_size=len(sizes),
                                                              max_size=len(sizes)),
                                                     min_size=sum(sizes), max_size=sum(sizes)))))
def test_m_bezout_count_equals_the_bezout_module_and_is_at_most_total_degree(case):
    from theory.bezout import multihomogeneous_bezout
    sizes, D = case
    ours = H.multihomogeneous_count(np.array(D), sizes)
    assert ours == multihomogeneous_bezout(D, sizes)
    assert ours <= H.bezout_number([sum(row) for row in D])


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.integers(-5, 5)).filter(lambda ab: ab[0] != ab[1]),
                min_size=1, max_size=3), st.integers(0, 1000))
def test_product_systems_have_exactly_their_known_roots(roots, seed):
    # (x_k − a_k)(x_k − b_k) = 0: 2^n regular real solutions, whatever γ
    names = [f"x{k}" for k in range(len(roots))]
    polys = [f"({n} - ({a}))*({n} - ({b}));" for n, (a, b) in zip(names, roots)]
    r = H.solve(H.from_strings(polys, names=names), options=H.TrackOptions(seed=seed))
    assert r.n_solutions == 2 ** len(roots) == r.n_real
    got = sorted(tuple(round(z.real, 9) for z in s) for s in r.solutions)
    import itertools
    want = sorted(tuple(float(v) for v in p) for p in itertools.product(*roots))
    assert got == want


def test_second_gamma_reproduces_the_katsura6_solution_set():
    s = H.from_strings(katsura(6))
    first = H.solve(s, options=H.TrackOptions(seed=11))
    g = H.gamma_check(s, first, seed=12)
    assert g.agree and g.union == 64 and g.counts == (64, 64)
