"""The Theory IIb, Theory II §5 and Freeman–Bruna experiments run end to end and write honest reports.

Fast tests shrink each experiment's smoke preset (tiny networks, digits) and run it through
`run_experiment`, the code path of `cli.py experiment`; the `slow` tests run the real smoke presets
on the default data set.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from empirics.experiments import OUTCOMES, registry, run_experiment
import empirics.experiments.freeman_bruna_dss as dss
import empirics.experiments.theory2b_activation as act
import empirics.experiments.theory2b_flatness as flat
import empirics.experiments.theory2b_noise as noise
from replicates import assert_independent, replicate_configs

OURS = ("iib-table1", "iib-simplex", "iib-gradient-noise", "iib-sgd-vs-sgdl", "iib-langevin", "iib-poly-activation",
        "ii-basins", "fb-dss-cnn")
TINY_W = (4, 4, 4, 4)


@pytest.fixture
def tiny(monkeypatch):
    """Shrink the smoke preset of the DSS experiment to seconds (digits, 4-channel CNN)."""
    monkeypatch.setitem(dss.PRESETS, "smoke", dss.DSSPreset(
        subset=24, widths=TINY_W, epochs=2, lr=0.05, batch=8, factors=(4.0, 1.5), interp_points=3, max_beads=3,
        max_steps=5, pairs=2))


def _check(rep, path, claims: int) -> None:
    assert path.exists() and (path.parent / "report.json").exists()
    assert len(rep.findings) == claims and {f.verdict for f in rep.findings} <= set(OUTCOMES)
    assert all(f.reason for f in rep.findings)
    for file, _ in rep.figures:
        assert (path.parent / file).stat().st_size > 10_000, file
    json.loads((path.parent / "report.json").read_text())


def test_every_experiment_is_registered_with_its_paper_reference():
    exps = registry()
    for name in OURS:
        assert name in exps and exps[name].reference and exps[name].claims


def test_layer_scaled_directions_move_every_tensor_by_its_own_norm():
    from empirics.probes import Block

    w = np.concatenate([np.full(4, 2.0), np.full(3, 10.0)])
    blocks = [Block("a", slice(0, 4), 1), Block("b", slice(4, 7), 2)]
    D = flat.layer_scaled_directions(w, blocks, None, 5, np.random.default_rng(0))
    assert np.allclose(np.linalg.norm(D[:, :4], axis=1), 4.0) and np.allclose(np.linalg.norm(D[:, 4:], axis=1), np.sqrt(300))
    # rescaling a tensor rescales its part of the direction: r stays a relative size
    w2 = w.copy()
    w2[4:] *= 3
    D2 = flat.layer_scaled_directions(w2, blocks, None, 5, np.random.default_rng(0))
    assert np.allclose(D2[:, 4:], 3 * D[:, 4:]) and np.allclose(D2[:, :4], D[:, :4])
    mask = np.array([True, False, True, False, False, False, False])
    Dm = flat.layer_scaled_directions(w, blocks, mask, 2, np.random.default_rng(0))
    assert np.all(Dm[:, ~mask] == 0) and np.allclose(np.linalg.norm(Dm, axis=1), np.linalg.norm(w[mask]))


def test_simplex_flat_fraction_counts_points_near_the_corners():
    from empirics.probes import simplex_grid

    lam, xy = simplex_grid(2)
    err = np.where(lam.max(axis=1) == 1.0, 0.0, 0.5)
    err[3] = 0.01  # one interior point within ε of the corners
    sim = {"lambdas": lam.tolist(), "error": err.tolist()}
    assert flat.simplex_flat_fraction(sim, 0.05) == pytest.approx(1 / 3)


def test_simplex_corner_fractions_count_each_corners_own_neighbourhood():
    from empirics.probes import simplex_grid

    lam, _ = simplex_grid(4)
    err = np.where(lam.max(axis=1) == 1.0, 0.0, 0.5)
    err[(lam[:, 0] == lam.max(axis=1)) & (lam.max(axis=1) < 1.0)] = 0.0  # corner 1's neighbourhood is flat
    fr = flat.corner_flat_fractions({"lambdas": lam.tolist(), "error": err.tolist()}, 0.05)
    assert fr[0] == 1.0 and fr[1] < 1.0 and fr[2] < 1.0


def test_per_example_gradients_average_to_the_minibatch_gradient_and_moments_scale_with_b():
    """With fixed batch-norm statistics the mean of per-example gradients is the batch gradient (autograd),
    and the statistics' skewness at B is the per-example skewness over √B (checked by simulation)."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.BatchNorm1d(7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    model.train()
    x, y = torch.randn(40, 5), torch.randint(0, 3, (40,))
    model(x)
    model.eval()
    G = noise.per_example_gradients(model, x, y, chunk=16).numpy()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    full = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(model.parameters()))]).double().numpy()
    np.testing.assert_allclose(G.mean(axis=0), full, rtol=1e-5, atol=1e-7)
    st = noise.gradient_noise_statistics(G, (1, 4))
    assert st["ratio_b1"] == pytest.approx(np.linalg.norm(full) / np.sqrt(G.var(axis=0).sum()), rel=1e-6)
    assert st["by_batch"][1]["mean_over_noise"] == pytest.approx(2 * st["ratio_b1"])
    rng = np.random.default_rng(1)
    col = int(np.argmax(G.var(axis=0)))
    sims = G[rng.integers(0, 40, size=(100_000, 4)), col].mean(axis=1)
    c = G[:, col] - G[:, col].mean()
    skew1 = (c**3).mean() / (c**2).mean() ** 1.5
    assert stats.skew(sims) == pytest.approx(skew1 / 2, abs=0.03)


def test_gradient_noise_mean_is_the_average_of_the_samples():
    g = np.random.default_rng(0).standard_normal(500)
    m = noise._moments(g)
    assert m["mean"] == pytest.approx(g.mean()) and abs(m["skew"]) < 0.3 and abs(m["kurtosis"]) < 0.6


def test_polynomial_approximation_numbers_match_an_independent_legendre_fit():
    """Worst error, error at 0 and P(8) of relu-legendre:4 on [−4, 4], against numpy's Legendre least squares."""
    from numpy.polynomial import legendre as L

    got = act.approximation(4)
    # continuous least squares on [−1, 1] of relu(4t): the integrand vanishes for t < 0, so Gauss–Legendre
    # on [0, 1] is exact
    x, wq = L.leggauss(20)
    t, wq = (x + 1) / 2, wq / 2
    coef = [(2 * k + 1) / 2 * np.sum(wq * 4 * t * L.legval(t, [0] * k + [1])) for k in range(5)]
    z = np.linspace(-4, 4, 4001)
    p = L.legval(z / 4, coef)
    assert got["sup_error"] == pytest.approx(np.abs(p - np.maximum(z, 0)).max(), rel=1e-3)
    assert got["error_at_0"] == pytest.approx(L.legval(0.0, coef), rel=1e-6)
    assert got["value_at_8"] == pytest.approx(L.legval(2.0, coef), rel=1e-6)


def test_dss_levels_are_above_both_end_losses(tmp_path, tiny):
    rep, path = run_experiment("fb-dss-cnn", "smoke", dataset="digits", out=str(tmp_path))
    _check(rep, path, 1)
    top = max(rep.measured["end_losses"])
    assert all(lv["threshold"] > top for lv in rep.measured["levels"])
    assert all(lv["normalized_length"] >= 1 - 1e-9 for lv in rep.measured["levels"])


def test_dss_pair_slope_needs_two_connected_levels():
    """Rule dss-curvier-at-lower-loss@v1: one slope of log length per pair of end models (the replicate);
    the verdict is the engine's over pairs (was a per-run monotonicity rule)."""
    lv = lambda L, n, ok: {"config": {"threshold": L}, "normalized_length": n, "n_beads": 3, "connected": ok,  # noqa: E731
                           "reason": ""}
    assert dss.pair_slope([lv(1.0, 1.0, True), lv(0.5, 1.2, True)]) == pytest.approx(np.log(1.2))
    assert dss.pair_slope([lv(1.0, 1.3, True), lv(0.5, 1.0, True)]) < 0
    assert np.isnan(dss.pair_slope([lv(1.0, 1.0, True), lv(0.5, 1.2, False)]))


@pytest.mark.slow
def test_langevin_smoke(tmp_path):
    rep, path = run_experiment("iib-langevin", "smoke", out=str(tmp_path))
    _check(rep, path, 4)
    rise = next(f for f in rep.findings if f.claim == "flatter-likelier-with-dimension")
    assert rise.estimate > 0 and rise.premise_value  # the Boltzmann mass rises 0.65 → 0.94 over d = 1–5


@pytest.mark.slow
def test_basins_smoke(tmp_path):
    rep, path = run_experiment("ii-basins", "smoke", out=str(tmp_path))
    _check(rep, path, 3)
    assert rep.measured["predictions"]["basin"]["within_barrier"] == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["iib-table1", "iib-simplex", "iib-gradient-noise", "iib-sgd-vs-sgdl",
                                  "iib-poly-activation", "fb-dss-cnn"])
def test_cnn_experiments_smoke(tmp_path, name):
    rep, path = run_experiment(name, "smoke", out=str(tmp_path))
    _check(rep, path, len(registry()[name].claims))


# ----------------------------------------------------------------------------------------------
# Theory IIb: replicates are whole runs, premises gate, every rule has a positive and a negative control

import empirics.experiments.theory2b_langevin as lang  # noqa: E402
from landscape_core.runs import RunDir  # noqa: E402
from empirics.experiments import ExperimentContext  # noqa: E402
from empirics.experiments.verdicts import Sample, judge  # noqa: E402


def _ctx(tmp_path, name: str) -> ExperimentContext:
    return ExperimentContext("smoke", 0, "cpu", "data", "digits", RunDir(tmp_path, name))


def _roots(ctx, n: int) -> set[int]:
    return {r.root for r in ctx.replicates(n)}


def _independent(ctx, rep, n: int, claims, trained: bool = True) -> None:
    """Every finding's tests carry replicate roots of ctx.replicates(n); every training config lives under a
    replicate's folder, starts inside it, and no two replicates share a seed or a data seed."""
    assert {f.claim for f in rep.findings} == {c.key for c in claims}
    assert all(f.verdict in OUTCOMES and f.reason for f in rep.findings)
    for f in rep.findings:
        if f.judged is not None:
            for t in f.judged.tests:
                assert set(t.seeds) <= _roots(ctx, n)
    assert "replace(v" not in "".join(open(m.__file__).read() for m in (flat, noise, act, lang))
    tags = {t for t in replicate_configs(ctx.run.path) if t}
    assert bool(tags) == trained and tags <= {r.tag for r in ctx.replicates(n)}
    assert_independent(ctx, rep)


def test_table1_micro_replicates_are_whole_runs_and_resume(tmp_path, one_thread):
    ctx = _ctx(tmp_path, "t1")
    rep = flat.run_table1(ctx, flat.MICRO)
    _independent(ctx, rep, flat.MICRO.replicates, registry_claims("iib-table1"))
    assert "| all params | natural |" in rep.measured["table1_markdown"]
    assert len(rep.measured["radii"]["natural"]["all"]) == flat.MICRO.replicates  # one minimum per replicate
    ctx2 = _ctx(tmp_path, "t1")
    flat.run_table1(ctx2, flat.MICRO)
    assert not any("minima" in s or "radii" in s for s in ctx2.stages_run)


def test_simplex_micro_has_a_simplex_per_replicate(tmp_path, one_thread):
    ctx = _ctx(tmp_path, "sx")
    rep = flat.run_simplex(ctx, flat.MICRO)
    _independent(ctx, rep, flat.MICRO.simplex_replicates, registry_claims("iib-simplex"))
    errs = rep.measured["corner_error"]["natural"]
    assert len(errs) == flat.MICRO.simplex_replicates and all(len(e) == 3 for e in errs)
    assert errs[0] != errs[1]  # two replicates, two different triples of minima


def test_gradient_noise_and_sgdl_micro(tmp_path, one_thread):
    ctx = _ctx(tmp_path, "g")
    rep = noise.run_fig1(ctx, noise.MICRO)
    _independent(ctx, rep, noise.MICRO.replicates, registry_claims("iib-gradient-noise"))
    assert all(np.isfinite(r["trained"]["gaussian_batch"]) for r in rep.measured["replicates"])
    ctx = _ctx(tmp_path, "s")
    rep = noise.run_fig2(ctx, noise.MICRO)
    _independent(ctx, rep, noise.MICRO.pairs, registry_claims("iib-sgd-vs-sgdl"))
    for r in rep.measured["replicates"]:  # γ′ = ρ · (the replicate's own end step noise) / √P
        for rho in noise.SGDL_RATIOS:
            want = rho * r["step_noise"]["end"] / np.sqrt(r["step_noise"]["n_params"])
            assert r["gamma_prime"][f"{rho:g}"] == pytest.approx(want)


def test_polynomial_activation_micro(tmp_path, one_thread):
    ctx = _ctx(tmp_path, "a")
    rep = act.run(ctx, act.MICRO)
    _independent(ctx, rep, act.MICRO.replicates, registry_claims("iib-poly-activation"))
    assert rep.measured["judged_degree"] == act.MICRO.degrees[-1]
    assert all(0.0 <= x <= 1.0 for x in rep.measured["outside_fraction"]["poly4"])


def test_langevin_micro_replicates_redraw_everything(tmp_path):
    ctx = _ctx(tmp_path, "l")
    rep = lang.run(ctx, lang.MICRO)
    _independent(ctx, rep, lang.MICRO.replicates, registry_claims("iib-langevin"), trained=False)
    assert rep.measured["replicate_seeds"] == [r.root for r in ctx.replicates(lang.MICRO.replicates)]
    assert all(abs(r["boltzmann"] - 0.5) < 1e-3 for r in rep.measured["masses"]["control"])


def registry_claims(name: str):
    mods = {"iib-table1": flat, "iib-simplex": flat, "iib-gradient-noise": noise, "iib-sgd-vs-sgdl": noise,
            "iib-poly-activation": act, "iib-langevin": lang}
    return next(e for e in mods[name].EXPERIMENTS if e.name == name).claims


# Constructed inputs: each rule gives held on a true effect and not held on a null, and its premise gates both.

def _seeds(n: int) -> list[int]:
    return list(range(101, 101 + n))


def _radii_rep(nat: float, ran: float, err: float = 0.0) -> dict:
    return {lab: {"radii": {"all": [[r, r]], "top": [[r, r]]}, "train_error": [err]}
            for lab, r in (("natural", nat), ("random", ran))}


def test_table1_rule_controls():
    """table1-natural-flatter@v3: ln(r_nat / r_ran) > 0 with δ = ½ ln(19.5/12.1)."""
    rule = flat.table_rule(flat.PRESETS["smoke"])
    jitter = [0.0, 0.02, -0.02, 0.01, -0.01, 0.015]
    held = [_radii_rep(10.0 * np.exp(0.7 + j), 10.0) for j in jitter]
    null = [_radii_rep(10.0 * np.exp(j), 10.0) for j in jitter]
    assert judge(rule, flat.table_sample("all", held, _seeds(6))).verdict == "held"
    assert judge(rule, flat.table_sample("all", null, _seeds(6))).verdict == "not held"
    unfit = [_radii_rep(10.0 * np.exp(0.7 + j), 10.0, err=0.2) for j in jitter]
    assert judge(rule, flat.table_sample("all", unfit, _seeds(6))).verdict == "not testable here"
    assert judge(rule, flat.table_sample("all", [_radii_rep(10.0, 10.0 * np.exp(0.7 + j)) for j in jitter],
                                         _seeds(6))).verdict == "not held"


def _sim(flat_near: bool) -> dict:
    from empirics.probes import simplex_grid

    lam, _ = simplex_grid(6)
    corner = lam.max(axis=1) == 1.0
    err = np.where(corner, 0.0, 0.01 if flat_near else 0.5)
    return {"lambdas": lam.tolist(), "error": err.tolist(), "train_error": [0.0, 0.0, 0.0]}


def test_simplex_rule_controls():
    """simplex-natural-flatter@v2: natural minus random corner flat fraction > 0 with δ = 0.1, per replicate."""
    rule = flat.simplex_rule(flat.PRESETS["smoke"])
    wide = [{"natural": _sim(True), "random": _sim(False)} for _ in range(4)]
    wide[1]["random"]["error"][5] = 0.0  # a little spread between replicates
    same = [{"natural": _sim(True), "random": _sim(True)} for _ in range(4)]
    same[1]["natural"]["error"][5] = 0.5
    same[2]["random"]["error"][5] = 0.5
    assert judge(rule, flat.simplex_sample(wide, _seeds(4), 0.05)).verdict == "held"
    assert judge(rule, flat.simplex_sample(same, _seeds(4), 0.05)).verdict == "not held"


def test_gaussian_batch_is_where_the_median_score_reaches_one():
    """B_G from one example's moments: at B = B_G the median gauss score is 1 (γ₁/√B, κ/B scaling)."""
    rng = np.random.default_rng(0)
    G = rng.exponential(size=(4000, 30)) ** 2  # skewed, heavy-tailed per-example gradients
    st = noise.gradient_noise_statistics(G, (1, 4))
    bg = st["gaussian_batch"]
    at = noise.gradient_noise_statistics(G, (bg * 0.999, bg * 1.001))["by_batch"]
    assert at[0]["gauss_score"] > 1.0 >= at[1]["gauss_score"] - 1e-9


def test_gaussian_and_mean_rule_controls():
    """gradient-noise-gaussian@v2 (log10 B_G < log10 100, δ = log10 2) and full-gradient-small@v2 (< 0.1, δ 0.05)."""
    s = noise.PRESETS["smoke"]
    rng = np.random.default_rng(1)
    gauss, heavy, ok = [], [], [0.0] * 5
    for k in range(5):
        gauss.append(np.log10(noise.gradient_noise_statistics(rng.standard_normal((3000, 20)), (1,))["gaussian_batch"]))
        sparse = rng.standard_normal((3000, 20)) * (rng.random((3000, 20)) < 0.002)  # rare large gradients
        heavy.append(np.log10(noise.gradient_noise_statistics(sparse, (1,))["gaussian_batch"]))
    assert judge(noise.gauss_rule(s), Sample("B", gauss, _seeds(5), premise=ok)).verdict == "held"
    assert judge(noise.gauss_rule(s), Sample("B", heavy, _seeds(5), premise=ok)).verdict == "not held"
    assert judge(noise.gauss_rule(s), Sample("B", gauss, _seeds(5), premise=[0.3] * 5)).verdict == "not testable here"
    rule = noise.mean_rule(s)
    assert judge(rule, Sample("r", [0.01, 0.02, 0.015, 0.012, 0.018], _seeds(5), premise=ok)).verdict == "held"
    assert judge(rule, Sample("r", [0.38, 0.40, 0.39, 0.37, 0.41], _seeds(5), premise=ok)).verdict == "not held"


def test_sgdl_rule_controls():
    """sgdl-like-sgd@v3 (within ±0.03) and sgd-better-validation@v3 (> 0, δ = 0.01) on paired differences."""
    near = [0.002, -0.003, 0.001, 0.0, -0.001]
    far = [0.10, 0.12, 0.09, 0.11, 0.10]
    assert judge(noise.RULE_SGDL, Sample("t", near, _seeds(5))).verdict == "held"
    assert judge(noise.RULE_SGDL, Sample("t", far, _seeds(5))).verdict == "not held"
    assert judge(noise.RULE_SGD_BETTER, Sample("t", far, _seeds(5))).verdict == "held"
    assert judge(noise.RULE_SGD_BETTER, Sample("t", near, _seeds(5))).verdict == "not held"


def test_curve_mean_skips_the_shared_start():
    c = {"epochs": [0, 5, 10], "train_error": [[0.9], [0.2], [0.0]]}
    assert noise.curve_mean(c, "train_error") == pytest.approx(0.1) == act.curve_mean(c, "train_error")


def _act_rep(d_train: float, d_test: float, relu_err: float = 0.0) -> dict:
    base = {"train_curve": 0.2, "test_curve": 0.3, "train": relu_err}
    return {"relu": base, "poly8": {"train_curve": 0.2 + d_train, "test_curve": 0.3 + d_test, "train": 0.0}}


def test_polynomial_rule_controls():
    """polynomial-unchanged@v2: both curve-mean differences within ±0.03; the ReLU fit gates both ways."""
    rule = act.rule(act.PRESETS["smoke"])
    j = [0.0, 0.004, -0.004, 0.002, -0.002]
    same = [_act_rep(x, -x) for x in j]
    worse = [_act_rep(0.2 + x, 0.15 + x) for x in j]
    assert judge(rule, act.samples(same, _seeds(5), 8)).verdict == "held"
    assert judge(rule, act.samples(worse, _seeds(5), 8)).verdict == "not held"
    unfit = [_act_rep(0.2 + x, 0.15 + x, relu_err=0.3) for x in j]
    assert judge(rule, act.samples(unfit, _seeds(5), 8)).verdict == "not testable here"


def _lang_reps(n: int, flat_of, drift: float = 0.0) -> list[dict]:
    """Constructed Langevin replicates: flat_of(key, dyn, d, i) gives the mass, the Boltzmann mass is 0.5 + 0.05 d,
    the record's halves differ by `drift` with a standard error of 0.01."""
    out = []
    for i in range(n):
        rep = {}
        for key, dyns, dims in (("fig3", ("gdl",), lang.DIMS), ("fig4-5", ("gdl",), lang.DIMS),
                                ("control", ("gdl",), lang.DIMS), ("fig6", ("sgd", "sgdl"), (2,))):
            runs = []
            for dyn in dyns:
                for d in dims:
                    m = flat_of(key, dyn, d, i)
                    runs.append({"dynamics": dyn, "dim": d, "flat_fraction": m, "boltzmann_flat_fraction":
                                 0.5 if key == "control" else 0.5 + 0.05 * d,
                                 "flat_fraction_halves": [m - drift / 2, m + drift / 2], "drift_se": 0.01})
            rep[key] = {"runs": runs}
        out.append(rep)
    return out


def test_langevin_rule_controls():
    """Every Langevin rule: a Boltzmann-like rise is held, a flat null is not held, drift makes it not testable."""
    rules = lang.rules(lang.PRESETS["smoke"])
    off = {"fig3": 0, "fig4-5": 1, "control": 2, "fig6": 1}
    jit = lambda i, d, k: 0.003 * np.sin(12.9898 * i + 78.233 * d + 37.719 * off[k])  # noqa: E731  (fixed jitter)
    boltz = _lang_reps(5, lambda k, dyn, d, i: (0.5 if k == "control" else 0.5 + 0.05 * d) + jit(i, d, k))
    null = _lang_reps(5, lambda k, dyn, d, i: 0.5 + jit(i, d, k))
    seeds = _seeds(5)
    tb, tn = lang.claim_samples(boltz, seeds), lang.claim_samples(null, seeds)
    for key in ("rise", "degenerate", "sgd", "boltzmann"):
        assert judge(rules[key], tb[key]).verdict == "held", key
    for key in ("rise", "degenerate", "sgd"):
        assert judge(rules[key], tn[key]).verdict == "not held", key
    above = _lang_reps(5, lambda k, dyn, d, i: (0.5 if k == "control" else 0.6 + 0.05 * d) + jit(i, d, k))
    assert judge(rules["boltzmann"], lang.claim_samples(above, seeds)["boltzmann"]).verdict == "not held"
    drifting = _lang_reps(5, lambda k, dyn, d, i: (0.5 if k == "control" else 0.5 + 0.05 * d) + jit(i, d, k), drift=0.05)
    for key in ("rise", "degenerate", "sgd", "boltzmann"):
        assert judge(rules[key], lang.claim_samples(drifting, seeds)[key]).verdict == "not testable here", key
