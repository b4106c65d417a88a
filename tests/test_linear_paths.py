"""Properties of the completed Prop. 2.2 construction (theory/sublevel/linear_paths.py).

Instances are drawn by hypothesis over depths K ≤ 4, input/output sizes ≤ 4, hidden widths
satisfying n_k > min(n_0, n_K), both risks, and endpoints that are random, rank deficient, zero,
or fibre-equivalent near-optimal factorisations (with sign flips, so they often sit in
different sign components of the fibre).
"""
from __future__ import annotations

import numpy as np

from landscape_core.seeds import stream
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theory.network.activations import linear
from landscape_core.errors import InvalidSpecError, WidthConditionError
from theory.sublevel.linear_paths import (LinearRegressionLoss, canonical_factorization, certify_path, check_widths,
                                 connecting_path, end_to_end, equal_width_obstruction, fibre_equivalent,
                                 fibre_segments, from_flat, random_weights, to_flat)
from theory.network.spec import NetworkSpec, forward

MODES = ("random", "near_optimal", "rank_deficient", "zero")
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_loss(kind: str, widths: tuple[int, ...], rng: np.random.Generator) -> LinearRegressionLoss:
    n, m = widths[0], widths[-1]
    A = rng.normal(size=(m, n))
    if kind == "empirical":
        X = rng.normal(size=(3 * n + 5, n))
        return LinearRegressionLoss.empirical(X, X @ A.T + 0.3 * rng.normal(size=(X.shape[0], m)))
    C = rng.normal(size=(n, n))
    return LinearRegressionLoss.gaussian_teacher(A, C @ C.T + 0.1 * np.eye(n), noise=0.3)


def make_endpoint(mode: str, widths: tuple[int, ...], loss: LinearRegressionLoss, rng: np.random.Generator):
    if mode == "random":
        return random_weights(widths, rng, scale=float(rng.uniform(0.3, 2.0)))
    if mode == "zero":
        return tuple(np.zeros((widths[k], widths[k - 1])) for k in range(1, len(widths)))
    if mode == "near_optimal":
        M = loss.minimizer() + 0.05 * rng.normal(size=(widths[-1], widths[0]))
        return fibre_equivalent(canonical_factorization(M, widths), rng)
    ws = [w.copy() for w in random_weights(widths, rng)]
    k = int(rng.integers(len(ws)))
    ws[k][: max(1, ws[k].shape[0] // 2)] = 0.0          # kill rows of one layer
    top = ws[-1]
    ws[-1] = np.outer(top[:, 0], rng.normal(size=top.shape[1])) * (rng.random() < 0.5)  # rank ≤ 1 top
    return tuple(ws)


@st.composite
def instances(draw):
    K = draw(st.integers(1, 4))
    n0, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    r = min(n0, m)
    widths = (n0,) + tuple(draw(st.integers(r + 1, r + 3)) for _ in range(K - 1)) + (m,)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    loss = make_loss(draw(st.sampled_from(("empirical", "oracle"))), widths, rng)
    a = make_endpoint(draw(st.sampled_from(MODES)), widths, loss, rng)
    b = make_endpoint(draw(st.sampled_from(MODES)), widths, loss, rng)
    return widths, loss, a, b


@PROPERTY
@given(instances())
def test_path_starts_and_ends_exactly_at_the_given_weights(inst):
    widths, loss, a, b = inst
    path = connecting_path(a, b)
    assert all(np.array_equal(x, y) for x, y in zip(path(0.0), a))
    assert all(np.array_equal(x, y) for x, y in zip(path(1.0), b))
    assert path.widths == widths


@PROPERTY
@given(instances())
def test_loss_along_path_never_exceeds_the_worse_endpoint(inst):
    widths, loss, a, b = inst
    cert = certify_path(connecting_path(a, b), loss, n_grid=301)
    assert cert.max_loss <= cert.bound + cert.tolerance, (cert.max_excess, cert.tolerance)
    assert cert.holds


@PROPERTY
@given(instances())
def test_end_to_end_product_follows_the_lifted_convex_segment(inst):
    widths, loss, a, b = inst
    path = connecting_path(a, b)
    ma, mb = end_to_end(a), end_to_end(b)
    scale = 1.0 + np.linalg.norm(ma) + np.linalg.norm(mb)
    for t in np.linspace(0.0, 1.0, 97):
        sigma = path.lifted_time(t)
        assert np.linalg.norm(end_to_end(path(t)) - ((1 - sigma) * ma + sigma * mb)) <= 1e-9 * scale
    # σ is monotone from 0 to 1: the product sweeps the segment exactly once
    sig = [path.lifted_time(t) for t in np.linspace(0, 1, 201)]
    assert sig[0] == 0.0 and sig[-1] == 1.0 and all(y >= x for x, y in zip(sig, sig[1:]))


@PROPERTY
@given(instances())
def test_path_is_continuous_pieces_meet_and_increments_shrink_with_the_grid(inst):
    widths, loss, a, b = inst
    path = connecting_path(a, b)
    size = 1.0 + np.linalg.norm(to_flat(a)) + np.linalg.norm(to_flat(b))
    ends = path.piece_endpoints()
    for (_, end), (start, _) in zip(ends, ends[1:]):
        assert np.linalg.norm(to_flat(end) - to_flat(start)) <= 1e-9 * size
    assert np.linalg.norm(to_flat(ends[0][0]) - to_flat(a)) <= 1e-9 * size
    assert np.linalg.norm(to_flat(ends[-1][1]) - to_flat(b)) <= 1e-9 * size

    def max_increment(n):
        _, th = path.sample(n)
        return np.linalg.norm(np.diff(th, axis=0), axis=1).max()

    coarse, fine = max_increment(101), max_increment(401)
    # a Lipschitz path has increments ∝ grid step: 4× finer grid, about 4× smaller increments
    assert fine <= 0.5 * coarse + 1e-12 * size


def test_straight_line_between_endpoints_breaks_the_bound_where_the_construction_holds():
    rng = np.random.default_rng(2024)
    broken = 0
    for trial in range(12):
        widths = ((2, 3, 2), (3, 4, 4, 2), (2, 3, 3, 3))[trial % 3]
        loss = make_loss("empirical", widths, rng)
        a = make_endpoint("near_optimal", widths, loss, rng)
        b = make_endpoint("near_optimal", widths, loss, rng)
        cert = certify_path(connecting_path(a, b), loss, n_grid=201)
        assert cert.holds
        broken += cert.straight_line_breaks
    # with sign-flipped fibre transforms the straight line passes near M = 0 in most trials
    assert broken >= 4, broken


def test_flat_layout_agrees_with_networkspec_forward():
    rng = np.random.default_rng(3)
    widths = (3, 4, 5, 2)
    spec = NetworkSpec(widths, linear(), bias=False, output_activation=False)
    ws = random_weights(widths, rng)
    X = rng.normal(size=(7, 3))
    assert np.allclose(forward(spec, to_flat(ws), X), X @ end_to_end(ws).T, atol=1e-12)
    assert all(np.array_equal(x, y) for x, y in zip(from_flat(to_flat(ws), widths), ws))


def test_canonical_factorization_reproduces_the_matrix_and_is_linear():
    rng = np.random.default_rng(4)
    for widths in [(3, 4, 5, 2), (2, 3, 4, 5), (1, 2, 2), (4, 4)]:
        M1, M2 = rng.normal(size=(widths[-1], widths[0])), rng.normal(size=(widths[-1], widths[0]))
        assert np.allclose(end_to_end(canonical_factorization(M1, widths)), M1, atol=1e-13)
        combo = canonical_factorization(0.3 * M1 + 0.7 * M2, widths)
        parts = zip(canonical_factorization(M1, widths), canonical_factorization(M2, widths))
        assert all(np.allclose(c, 0.3 * x + 0.7 * y) for c, (x, y) in zip(combo, parts))


def test_fibre_path_keeps_the_product_fixed_and_ends_canonical():
    rng = np.random.default_rng(5)
    widths = (4, 3, 5, 2)
    ws = random_weights(widths, rng)
    M = end_to_end(ws)
    segs = fibre_segments(ws)
    for _, fn in segs:
        for s in np.linspace(0, 1, 11):
            assert np.allclose(end_to_end(fn(s)), M, atol=1e-12)
    for got, want in zip(segs[-1][1](1.0), canonical_factorization(M, widths)):
        assert np.allclose(got, want, atol=1e-12)


def test_oracle_risk_matches_its_closed_form_and_a_monte_carlo_average():
    rng = np.random.default_rng(6)
    n, m, noise = 3, 2, 0.5
    A, M = rng.normal(size=(m, n)), rng.normal(size=(m, n))
    C = rng.normal(size=(n, n))
    cov = C @ C.T + 0.2 * np.eye(n)
    loss = LinearRegressionLoss.gaussian_teacher(A, cov, noise)
    # E‖Mx − y‖² = tr((M − A) Σ (M − A)ᵀ) + m·noise² for y = A x + ε
    closed = np.trace((M - A) @ cov @ (M - A).T) + m * noise**2
    assert loss(M) == pytest.approx(closed, rel=1e-12)
    X = rng.multivariate_normal(np.zeros(n), cov, size=200_000)
    Y = X @ A.T + noise * rng.normal(size=(X.shape[0], m))
    assert LinearRegressionLoss.empirical(X, Y)(M) == pytest.approx(closed, rel=0.02)


@pytest.mark.parametrize("widths", [(1, 1, 1), (2, 2, 3), (3, 2, 4), (3, 5, 2, 2), (2, 0, 2)])
def test_widths_not_above_min_of_ends_are_rejected(widths):
    with pytest.raises(InvalidSpecError):
        check_widths(widths)


def test_width_condition_error_is_raised_by_the_path_builder():
    rng = np.random.default_rng(7)
    a, b = random_weights((2, 2, 2), rng), random_weights((2, 2, 2), rng)
    with pytest.raises(WidthConditionError):
        connecting_path(a, b)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_equal_width_two_layer_minimum_level_set_is_disconnected(n):
    """The strict condition is necessary for K = 2: n_1 = n_0 = n_2 gives two components."""
    ob = equal_width_obstruction(n, seed=n)
    assert ob.loss_a == pytest.approx(ob.min_loss, abs=1e-10)
    assert ob.loss_b == pytest.approx(ob.min_loss, abs=1e-10)
    assert ob.det_a * ob.det_b < 0  # det W_2 must vanish on any connecting path ...
    assert ob.singular_floor > ob.min_loss + 1e-3  # ... where F ≥ this floor > the level
    assert ob.straight_line_max >= ob.singular_floor - 1e-9


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_singular_floor_is_a_lower_bound_for_every_singular_product(n, seed):
    """The inequality used in the equal-width proof: F(M) ≥ floor whenever det M = 0."""
    ob = equal_width_obstruction(n, seed=n)
    rng = stream(n, "equal-width data")  # rebuild the same data as equal_width_obstruction(n, seed=n)
    X = rng.normal(size=(50, n))
    A = rng.normal(size=(n, n)) + 2 * np.eye(n)
    Y = X @ A.T + 0.1 * rng.normal(size=(50, n))
    loss = LinearRegressionLoss.empirical(X, Y)
    assert loss(loss.minimizer()) == pytest.approx(ob.min_loss, rel=1e-12)
    draw = np.random.default_rng(seed)
    M = loss.minimizer() + draw.normal(scale=draw.uniform(0.01, 2.0), size=(n, n))
    u, s, vt = np.linalg.svd(M)
    s[-1] = 0.0
    assert loss((u * s) @ vt) >= ob.singular_floor - 1e-10


def test_cli_paths_certifies_and_saves_a_run_folder(tmp_path, capsys):
    import json

    import cli

    rc = cli.main(["paths", "--layer-widths", "2,3,3,2", "--grid", "101", "--json", "--out", str(tmp_path), "--seed", "4"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["holds"] and out["endpoints_exact"] and out["seed"] == 4
    folder = tmp_path / "paths-seed4"
    for name in ("config.json", "result.json", "manifest.json", "path_profile.png"):
        assert (folder / name).exists()


def test_cli_paths_rejects_widths_below_the_condition_in_one_line(tmp_path, capsys):
    import cli

    rc = cli.main(["paths", "--layer-widths", "3,2,2", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "must exceed min(n_0, n_K)" in err


def test_the_drafts_formulas_fail_where_the_docstring_says():
    """Each gap of the draft's proof, exhibited on a random instance with its own formulas."""
    rng = np.random.default_rng(11)
    m, h, p = 2, 4, 3
    WK, WK1 = rng.normal(size=(m, h)), rng.normal(size=(h, p))
    # (1) the left pseudo-inverse (WᵀW)⁻¹Wᵀ does not exist: WᵀW is h × h of rank m < h
    assert np.linalg.matrix_rank(WK.T @ WK) == m < h
    # (2) even with the right inverse, W_{K−1}(0) = W_K^† W_K W_{K−1} is only a projection of W_{K−1}
    right = WK.T @ np.linalg.inv(WK @ WK.T)
    assert np.allclose(WK @ right, np.eye(m))
    assert np.linalg.norm(right @ WK @ WK1 - WK1) > 0.1
    # (3) with n_{K−1} = n_K, det W_K(t) = det(tB + (1−t)A + t(1−t)V) vanishes for every V when
    #     det A and det B have opposite signs: the claimed full rank on (0, 1) fails
    A = rng.normal(size=(2, 2))
    B = A.copy()
    B[0] *= -1
    ts = np.linspace(0, 1, 2001)
    for _ in range(20):
        V = rng.normal(size=(2, 2)) * 10
        dets = [np.linalg.det(t * B + (1 - t) * A + t * (1 - t) * V) for t in ts]
        assert min(dets) <= 0 <= max(dets)
    # (4) rank-deficient endpoint: the draft's W_{K−1}(t) = W_K(t)^† W̃(t) jumps as t → 0
    WK0 = np.outer(rng.normal(size=m), rng.normal(size=h))  # rank 1 < m
    WKB = rng.normal(size=(m, h))
    V = rng.normal(size=(m, h))
    lower_a, lower_b = rng.normal(size=(h, p)), rng.normal(size=(h, p))
    tilde = lambda t: (1 - t) * WK0 @ lower_a + t * WKB @ lower_b  # noqa: E731
    WKt = lambda t: t * WKB + (1 - t) * WK0 + t * (1 - t) * V  # noqa: E731
    near0 = np.linalg.pinv(WKt(1e-9)) @ tilde(1e-9)
    assert np.linalg.norm(near0 - lower_a) > 0.1
    # the completed construction connects the same rank-deficient endpoint continuously
    path = connecting_path((lower_a, WK0), (lower_b, WKB))
    assert np.linalg.norm(to_flat(path(1e-9)) - to_flat((lower_a, WK0))) < 1e-6


@pytest.mark.parametrize("seed", [0, 1])
def test_certify_demo_holds_and_is_the_certificate_of_the_seeded_instance(seed):
    """Claim: the one-call demo certifies Prop. 2.2 (bound holds, exact endpoints) and measures the very path
    built from `demo_instance`'s endpoints (the same loss profile as the three calls chained by hand)."""
    from theory.sublevel.linear_paths import certify_demo, certify_path, connecting_path, demo_instance, end_to_end

    cert = certify_demo((3, 4, 4, 2), "empirical", 30, "equivalent", seed, n_grid=51)
    loss, a, b = demo_instance((3, 4, 4, 2), "empirical", 30, "equivalent", seed)
    by_hand = certify_path(connecting_path(a, b), loss, n_grid=51)
    assert cert.holds and cert.endpoints_exact and cert.n_grid == 51
    assert cert.losses == by_hand.losses
    assert cert.loss_a == pytest.approx(loss(end_to_end(a)), rel=1e-12)
    assert cert.loss_b == pytest.approx(loss(end_to_end(b)), rel=1e-12)
