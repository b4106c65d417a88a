"""Tests for empirics.probes on models whose landscape is known in closed form.

The workhorse is least squares: a bias-free linear model f(x) = wᵀx with the 'sse' loss
L(w) = ‖Xw − y‖² has Hessian 2XᵀX, residuals linear in w (so interpolated losses are exact
quadratics in t or λ), and flatness radius r = √ε / ‖X δw‖ around its minimiser.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from empirics.hessian import hessian_spectrum
from empirics.probes import (Block, Objective, agreement_matrices, interpolate_linear, interpolate_simplex,
                             layer_sigmas, line_radius, module_buffers, perturb, perturbation_probe,
                             radius_probe, random_directions, simplex_grid)
from landscape_core.errors import InvalidSpecError
from landscape_core.seeds import stream

torch.set_num_threads(1)


def least_squares(n=30, k=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, k, generator=g, dtype=torch.float64)
    y = torch.randn(n, 1, generator=g, dtype=torch.float64)
    model = nn.Linear(k, 1, bias=False).double()
    w_star = torch.linalg.lstsq(X, y).solution.ravel()
    return model, X, y, w_star


def test_objective_loss_and_hessian_of_least_squares_are_closed_form():
    """Objective('sse') gives ‖Xw − y‖² and its Hessian is 2XᵀX (nullity 0 for full column rank X)."""
    model, X, y, w_star = least_squares()
    obj = Objective(model, X, y, loss="sse", batch_size=7)  # chunked evaluation must not change sums
    w = torch.randn(5, dtype=torch.float64)
    assert obj.evaluate(w).loss == pytest.approx(float(((X @ w - y.ravel()) ** 2).sum()), rel=1e-12)
    assert obj.evaluate(w).error is None
    spec = hessian_spectrum(obj.loss_fn(w), w)
    np.testing.assert_allclose(np.sort(spec.eigenvalues), np.sort(np.linalg.eigvalsh(2 * (X.T @ X).numpy())),
                               rtol=1e-10)
    assert spec.nullity == 0
    assert Objective(model, X, y, loss="mse").evaluate(w).loss == pytest.approx(obj.evaluate(w).loss / 30)


def test_linear_interpolation_of_linear_model_is_exact_quadratic():
    """Residuals are linear in w, so L(t) = ‖(1 − t) r_a + t r_b‖² for every t, extrapolation included."""
    model, X, y, _ = least_squares(seed=1)
    obj = Objective(model, X, y, loss="sse")
    wa, wb = torch.randn(5, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
    ra, rb = (X @ wa - y.ravel()).numpy(), (X @ wb - y.ravel()).numpy()
    ts = np.linspace(-0.5, 1.5, 9)
    res = interpolate_linear(obj, wa, wb, ts)
    expected = [np.sum(((1 - t) * ra + t * rb) ** 2) for t in ts]
    np.testing.assert_allclose(res.loss, expected, rtol=1e-12)
    assert res.distance == pytest.approx(float(torch.linalg.norm(wb - wa)))
    # A convex loss has no barrier between two points.
    assert res.barrier <= 1e-9


def test_simplex_interpolation_matches_barycentric_residuals():
    """Theory IIb eq. 10: L(Σ λ_i w_i) = ‖Σ λ_i r_i‖² for the linear model, on every grid point of Δ_3."""
    model, X, y, _ = least_squares(seed=2)
    obj = Objective(model, X, y, loss="sse")
    W = [torch.randn(5, dtype=torch.float64) for _ in range(3)]
    R = np.stack([(X @ w - y.ravel()).numpy() for w in W])
    res = interpolate_simplex(obj, *W, resolution=4)
    assert res.lambdas.shape == (15, 3)  # (n + 1)(n + 2)/2 points
    np.testing.assert_allclose(res.lambdas.sum(axis=1), 1.0)
    np.testing.assert_allclose(res.loss, [np.sum((lam @ R) ** 2) for lam in res.lambdas], rtol=1e-12)
    lam, xy = simplex_grid(1)
    np.testing.assert_allclose(xy[np.argmax(lam[:, 2])], [0.5, np.sqrt(3) / 2])


def test_flatness_radius_of_least_squares_minimum_is_sqrt_eps_over_norm_Xd():
    """At w*, L(w* + r d) − L(w*) = r²‖Xd‖², so r(w*, d, ε) = √ε / ‖Xd‖ (Theory IIb eq. 11), to 1e-3 relative."""
    model, X, y, w_star = least_squares(seed=3)
    obj = Objective(model, X, y, loss="sse")
    eps = 0.05
    res = radius_probe(obj, w_star, epsilon=eps, n_directions=6, quantity="loss", seed=11,
                       blocks=[Block("weight", slice(0, 5), 1)], rel_tol=1e-6)
    D = random_directions(5, 6, None, stream(11, "radius directions"))  # the probe's own stream of its seed
    expected = np.sqrt(eps) / np.linalg.norm(D @ X.numpy().T, axis=1)
    np.testing.assert_allclose(res.radii, expected, rtol=1e-5)
    assert not res.censored.any()
    assert res.mean == pytest.approx(expected.mean(), rel=1e-5)


def test_line_radius_reports_censoring_and_first_crossing():
    """A flat function is censored at r_max; for f(r) = r² the ε = 4 radius is 2; a wall at r = 1 stops the search."""
    assert line_radius(lambda r: 0.0, 0.1, r_max=10.0) [:2] == (10.0, True)
    r, censored, _ = line_radius(lambda r: r * r, 4.0, rel_tol=1e-8)
    assert r == pytest.approx(2.0, rel=1e-7) and not censored
    wall = lambda r: 1.0 if 1.0 < r < 3.0 else 0.0  # noqa: E731
    r, censored, _ = line_radius(wall, 0.5, r_init=0.1, rel_tol=1e-6)
    assert r == pytest.approx(1.0, rel=1e-5) and not censored


def test_top_layer_radius_moves_only_the_top_layer():
    """With subset='top', directions vanish outside the last layer: a change confined to layer 1 is invisible."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    X = torch.randn(20, 3, dtype=torch.float64)
    y = torch.randint(0, 2, (20,))
    obj = Objective(model, X, y, loss="cross-entropy")
    mask_dirs = random_directions(26, 4, np.r_[np.zeros(16, bool), np.ones(10, bool)], np.random.default_rng(0))
    assert np.all(mask_dirs[:, :16] == 0) and np.allclose(np.linalg.norm(mask_dirs, axis=1), 1.0)
    res = radius_probe(obj, obj.flat(), epsilon=0.2, n_directions=3, subset="top", quantity="loss", seed=0)
    assert res.radii.shape == (3,) and np.all(res.radii > 0)
    with pytest.raises(InvalidSpecError):
        radius_probe(Objective(model, X, X[:, :2], loss="mse"), obj.flat(), quantity="error")


def test_layerwise_sigmas_follow_the_two_paper_conventions():
    """σ_l = α·std(w_l) (Theory II §4.2) and α·mean|w_l| (Fig. 35), computed per block."""
    w = np.r_[np.arange(4.0), -np.ones(3) * 2]
    blocks = [Block("a", slice(0, 4), 1), Block("b", slice(4, 7), 2)]
    np.testing.assert_allclose(layer_sigmas(w, blocks, 0.5, "std"), [0.5 * np.std(np.arange(4.0)), 0.0])
    np.testing.assert_allclose(layer_sigmas(w, blocks, 0.5, "mean_abs"), [0.5 * 1.5, 1.0])
    with pytest.raises(InvalidSpecError):
        layer_sigmas(w, blocks, 0.5, "max")


def test_perturbation_noise_has_the_requested_layer_scale():
    """The noise in each block is N(0, σ_l²): sample std within 3% over 40,000 draws; same seed, same noise."""
    rng = np.random.default_rng(0)
    w = np.r_[rng.normal(0, 2.0, 20000), rng.normal(0, 0.1, 20000)]
    blocks = [Block("a", slice(0, 20000), 1), Block("b", slice(20000, 40000), 2)]
    wp, sig = perturb(w, blocks, 0.25, "std", np.random.default_rng(5))
    for b, s in zip(blocks, sig):
        noise = (wp - w)[b.slice]
        assert noise.std() == pytest.approx(s, rel=0.03)
        assert abs(noise.mean()) < 4 * s / np.sqrt(20000)
    again, _ = perturb(w, blocks, 0.25, "std", np.random.default_rng(5))
    np.testing.assert_array_equal(wp, again)


def test_perturbation_probe_mean_loss_increase_matches_trace_formula():
    """At the least-squares minimum, E[L(w* + ξ)] − L(w*) = σ² tr(XᵀX) for ξ ~ N(0, σ² I) (5 standard errors)."""
    model, X, y, w_star = least_squares(seed=4)
    obj = Objective(model, X, y, loss="sse")
    blocks = [Block("weight", slice(0, 5), 1)]
    res = perturbation_probe(obj, w_star, blocks, alphas=[0.3], n_samples=400, seed=2)
    sigma = res.sigmas[0, 0]
    assert sigma == pytest.approx(0.3 * float(w_star.std(unbiased=False)))
    rise = res.loss[0] - res.base.loss
    expected = sigma ** 2 * float(torch.trace(X.T @ X))
    assert abs(rise.mean() - expected) < 5 * rise.std() / np.sqrt(rise.size)


def test_agreement_matrices_on_hand_counted_example():
    """P(j correct | i correct) and P(j wrong | i wrong) from hand counts; the diagonal is 1."""
    C = np.array([[1, 1, 1, 0, 0],
                  [1, 1, 0, 0, 1],
                  [1, 1, 1, 1, 1]], dtype=bool)
    res = agreement_matrices(C, labels=["a", "b", "c"])
    assert res.correct_given_correct[0, 1] == pytest.approx(2 / 3)
    assert res.correct_given_correct[1, 0] == pytest.approx(2 / 3)
    assert res.correct_given_correct[0, 2] == pytest.approx(1.0)
    assert res.wrong_given_wrong[0, 1] == pytest.approx(1 / 2)
    assert res.wrong_given_wrong[1, 0] == pytest.approx(1 / 2)
    assert np.isnan(res.wrong_given_wrong[2, 0])  # model c is never wrong
    np.testing.assert_allclose(np.diag(res.correct_given_correct), 1.0)
    np.testing.assert_allclose(res.accuracy, [0.6, 0.6, 1.0])
    assert res.to_dict()["wrong_given_wrong"][2][0] == "nan"


def bn_model():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, affine=False), nn.ReLU(), nn.Linear(6, 3))
    X = torch.randn(64, 4) * 3 + 1
    y = torch.randint(0, 3, (64,))
    return model, X, y


def test_bn_recompute_equals_exact_data_statistics_and_eval_keeps_stored_ones():
    """'recompute' normalises with the data's mean and (unbiased) variance at the probed weights;
    'eval' uses the stored running statistics; 'batch' with one batch equals train-mode normalisation."""
    model, X, y = bn_model()
    w = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    h = model[0](X).detach()
    ref = nn.functional.batch_norm(h, h.mean(0), h.var(0, unbiased=True), training=False, eps=1e-5)
    expected = model[3](torch.relu(ref)).detach()
    rec = Objective(model, X, y, bn="recompute").outputs(w)
    torch.testing.assert_close(rec, expected, atol=1e-4, rtol=1e-4)
    # In chunks (bn_update's cumulative average) the running mean is still the data mean exactly.
    chunked = Objective(model, X, y, bn="recompute", batch_size=16)
    chunked.outputs(w)
    torch.testing.assert_close(chunked.model[1].running_mean, h.mean(0), atol=1e-5, rtol=1e-5)
    model.eval()
    torch.testing.assert_close(Objective(model, X, y, bn="eval").outputs(w), model(X).detach())
    model.train()
    train_out = model(X).detach()
    torch.testing.assert_close(Objective(model, X, y, bn="batch").outputs(w), train_out)


def test_bn_interpolate_mixes_running_statistics():
    """Under 'interpolate', at t = 1/2 the running mean used is the average of the two end models'."""
    model, X, y = bn_model()
    model.eval()
    a = module_buffers(model)
    b = {k: (v + 1.0 if torch.is_floating_point(v) else v) for k, v in a.items()}
    w = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    obj = Objective(model, X, y, bn="interpolate")
    res = interpolate_linear(obj, w, w, [0.5], buffers=(a, b))
    mixed = {k: (v + 0.5 if torch.is_floating_point(v) else v) for k, v in a.items()}
    assert res.loss[0] == pytest.approx(obj.evaluate(w, mixed).loss, rel=1e-6)
    assert res.loss[0] != pytest.approx(obj.evaluate(w, a).loss, rel=1e-6)
    with pytest.raises(InvalidSpecError):
        interpolate_linear(obj, w, w, [0.5])


def test_objective_rejects_bad_input():
    """Unknown loss or BN policy, non-positive batch size, mismatched data: one named error each."""
    model, X, y, _ = least_squares()
    for kwargs in ({"loss": "hinge"}, {"bn": "freeze"}, {"batch_size": 0}):
        with pytest.raises(InvalidSpecError):
            Objective(model, X, y, **kwargs)
    with pytest.raises(InvalidSpecError):
        Objective(model, X, y[:3])
    with pytest.raises(InvalidSpecError):
        Objective(model, X, y, loss="sse").evaluate(torch.zeros(4))


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A tiny run from `cli.py train`: 3 MLP trajectories on 200 digits, 3 epochs."""
    import cli

    root = tmp_path_factory.mktemp("runs")
    rc = cli.main(["train", "--dataset", "digits", "--model", "mlp", "--widths", "16", "--trajectories", "3", "--epochs", "3",
                   "--train-examples", "200", "--lr", "0.1", "--out", str(root), "--run", "tiny", "--no-progress"])
    assert rc == 0
    return root / "tiny"


@pytest.mark.parametrize("argv", [["perturb", "--alphas", "0.1,1", "--draws", "2"],
                                  ["interpolate", "--grid", "5"],
                                  ["interpolate", "--trajectory", "0,1,2", "--grid", "3"],
                                  ["radius", "--directions", "2", "--epsilon", "0.1"],
                                  ["hessian", "--method", "all", "--examples", "50", "--probes", "1", "--steps", "5"],
                                  ["agreement"]])
def test_cli_probe_kinds_write_run_folders(argv, trained_run, tmp_path, capsys):
    """Each probe kind on a trained run writes config, result, figure and manifest and prints a table."""
    import json

    import cli

    rc = cli.main(["probe", *argv, "--from", str(trained_run), "--out", str(tmp_path), "--run", "p", "--no-progress"])
    assert rc == 0
    assert "output" in capsys.readouterr().out
    folder = tmp_path / "p"
    for f in ("config.json", "result.json", "manifest.json", f"{argv[0]}.png"):
        assert (folder / f).exists(), f
    metrics = json.loads((folder / "result.json").read_text())
    assert metrics["probe"] == argv[0] and metrics["source"]["loss"] == "cross-entropy"
    if argv[0] == "hessian":
        # exact and Lanczos agree on the top eigenvalue of the same 50-example loss
        exact, top = metrics["result"]["exact"]["eigenvalues"][0], metrics["result"]["top"]["eigenvalues"][0]
        assert top == pytest.approx(exact, rel=1e-5)


def test_cli_mds_embeds_saved_trajectories(trained_run, tmp_path, capsys):
    """`cli.py mds` embeds 4 epochs × 3 trajectories per layer; --json reports the stress of each."""
    import json

    import cli

    rc = cli.main(["mds", "--from", str(trained_run), "--embed-layers", "0,1,2", "--out", str(tmp_path), "--run", "m", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_points"] == 12 and set(out["stress"]) == {"0", "1", "2"}
    assert all((tmp_path / "m" / f"mds_layer{k}.png").exists() for k in (0, 1, 2))


@pytest.mark.parametrize("argv", [["probe", "perturb", "--from", "/nonexistent/run"],
                                  ["probe", "radius"],
                                  ["probe", "radius", "--demo", "--directions", "0"],
                                  ["mds", "--from", "/nonexistent/run"]])
def test_cli_probe_bad_input_is_one_line_exit_2(argv, tmp_path, capsys):
    """Missing run folder, no source, zero directions: one line on stderr, exit code 2."""
    import cli

    try:
        rc = cli.main(argv + ["--out", str(tmp_path)])
    except SystemExit as exc:
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("bn", ["recompute", "eval", "batch"])
def test_evaluate_many_equals_evaluate_row_by_row(bn):
    """Batched evaluation (vmap over stacked weights, per-row batch-norm statistics) equals `evaluate` for each
    row, in float64 to 1e-9, for a small DCNN with batch norm, in chunks of 16 and 5 models per pass."""
    from empirics.models import PaperCNN
    from empirics.probes import Objective

    torch.manual_seed(0)
    model = PaperCNN(1, 10, widths=(4, 4, 4, 4)).double()
    X, Y = torch.randn(40, 1, 16, 16, dtype=torch.float64), torch.randint(0, 10, (40,))
    obj = Objective(model, X, Y, batch_size=16, bn=bn)
    W = obj.flat() + 0.3 * torch.randn(7, obj.n_params, dtype=torch.float64)
    many = obj.evaluate_many(W, max_models=5)
    for w, ev in zip(W, many):
        one = obj.evaluate(w)
        assert abs(ev.loss - one.loss) < 1e-9 and ev.error == one.error


def test_batched_radius_search_takes_the_steps_of_the_sequential_one():
    """radius_along_batched returns exactly line_radius's radii and censoring, direction by direction."""
    from empirics.probes import line_radius, radius_along_batched

    rng = np.random.default_rng(1)
    D = rng.standard_normal((6, 3))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    w = np.zeros(3)
    f = lambda v: float(np.sin(3 * v[0]) + v[1] ** 2 + 0.1 * v[2] ** 4)  # noqa: E731
    radii, cens = radius_along_batched(lambda V: np.array([f(v) for v in V]), w, D, 0.05, r_max=50.0)
    for d, r, c in zip(D, radii, cens):
        ref = line_radius(lambda t: f(w + t * d), 0.05, r_max=50.0)
        assert (r, c) == (ref[0], ref[1])
    flat = radius_along_batched(lambda V: np.zeros(len(V)), w, D, 0.05, r_max=8.0)
    assert flat[1].all() and (flat[0] == 8.0).all()


def test_probe_takes_the_loss_the_run_was_trained_with(tmp_path, capsys):
    """Claim: a classification run trained with --loss mse is probed with the square loss (read from its config,
    not guessed from the classes): the probe's unperturbed loss equals the run's recorded final training loss."""
    import json

    import cli

    assert cli.main(["train", "--dataset", "digits", "--model", "mlp", "--widths", "8", "--epochs", "1", "--train-examples", "100",
                     "--loss", "mse", "--out", str(tmp_path), "--run", "sq", "--no-progress"]) == 0
    assert cli.main(["probe", "perturb", "--from", str(tmp_path / "sq"), "--alphas", "0.1", "--draws", "1",
                     "--out", str(tmp_path), "--run", "p", "--no-progress"]) == 0
    result = json.loads((tmp_path / "p" / "result.json").read_text())
    recorded = json.loads((tmp_path / "sq" / "metrics.json").read_text())["epochs"][-1]["train_loss"][0]
    assert result["source"]["loss"] == "mse"
    assert result["result"]["base"]["loss"] == pytest.approx(recorded, rel=1e-5)


def test_probe_refuses_a_folder_of_other_options_before_loading_anything(trained_run, tmp_path, capsys, monkeypatch):
    """Claim: a probe into a run folder holding other options is one line, exit 2, and loads no model."""
    import cli
    import empirics.probe_runs

    assert cli.main(["probe", "agreement", "--from", str(trained_run), "--out", str(tmp_path), "--run", "a",
                     "--no-progress"]) == 0
    capsys.readouterr()

    def loaded(*args, **kwargs):
        raise AssertionError("the run was loaded before its folder was checked")

    monkeypatch.setattr(empirics.probe_runs, "load_source", loaded)
    rc = cli.main(["probe", "agreement", "--split", "test", "--from", str(trained_run), "--out", str(tmp_path),
                   "--run", "a", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "another configuration" in err


def test_every_probe_kind_has_one_probe_function_one_renderer_and_one_parser():
    """The probe table (`empirics.probe_runs.PROBES`), the command's renderers and `probe`'s subcommands name the
    same kinds, in the order `KINDS` gives, so a kind cannot be added to one and missed by the others."""
    from empirics.probe_runs import KINDS, PROBES
    from landscape_toolkit.cli import build_parser
    from landscape_toolkit.commands.probe import RENDERERS

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["probe"]
    kinds = next(a for a in sub._actions if getattr(a, "choices", None) and "radius" in a.choices).choices
    assert tuple(PROBES) == KINDS and tuple(RENDERERS) == KINDS and tuple(kinds) == KINDS
