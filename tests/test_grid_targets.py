"""Claims about `landscape_toolkit.grid_targets`: each target is the library call it names, task by task."""
import pytest

from landscape_toolkit.grid_targets import TARGETS, bezout_figures, valley_start
from landscape_core.executor import resolve


def test_every_target_path_resolves():
    for target in TARGETS.values():
        assert callable(resolve(target.path))


def test_bezout_target_reports_the_bezout_report_figures():
    from theory.network.activations import parse
    from theory.bounds.bezout import bezout_report
    from theory.network.spec import NetworkSpec

    out = bezout_figures(width=3, seed=2, layers=3, points=5)
    rep = bezout_report(NetworkSpec.fully_connected(2, 3, 3, parse("z + z^2/4")), 5, seed=2)
    assert (out["n_params"], out["degree"], out["bezout"], out["predicted_dimension"]) == \
        (rep.n_params, rep.degree, rep.bezout, rep.predicted_dimension)
    assert out["degree"] == 2 + 4 + 8  # ℓ + ℓ² + ℓ³ with P on the output


def test_valley_starts_reproduce_the_width_sweep_run_by_run():
    """A grid over width × run gives the same final losses as one `valley_experiment` sweep."""
    from theory.sublevel.valleys import ValleyExperimentConfig, valley_experiment

    cfg = ValleyExperimentConfig(widths=(1, 4), runs=2, max_iter=40, samples=30, seed=5)
    sweep = valley_experiment(cfg)
    for outcome in sweep.outcomes:
        for run, final in enumerate(outcome.final_losses):
            out = valley_start(width=outcome.width, seed=5, run=run, max_iter=40, samples=30)
            assert out["final_loss"] == pytest.approx(final, rel=1e-12, abs=1e-15)
            assert out["reached"] == (final <= cfg.success_tol)


@pytest.mark.slow
def test_train_run_is_empirics_train_and_resumes_its_own_folder(tmp_path):
    """The `train` target gives the run `empirics.train.train` gives, and a lost task continues its checkpoint."""
    pytest.importorskip("torch")
    from landscape_toolkit.grid_targets import train_run
    from empirics.train import TrainConfig, train

    config = dict(dataset="digits", model={"kind": "mlp", "widths": [8]}, subset=64, epochs=2, batch_size=16,
                  save_weights=False, seed=1)
    out = train_run(str(tmp_path / "task"), device="cpu", **config)
    direct = train(TrainConfig.from_dict(config), tmp_path / "direct", device="cpu")
    assert out["final"]["train_loss"] == pytest.approx(direct.final.train_loss, rel=1e-6)
    again = train_run(str(tmp_path / "task"), device="cpu", **{**config, "epochs": 3})
    assert (again["resumed_from"], again["epochs"]) == (2, 3)
    flat = {k: v for k, v in config.items() if k != "model"} | {"model": "mlp", "widths": 8}  # as on the grid's axes
    same = train_run(str(tmp_path / "flat"), device="cpu", **flat)
    assert same["final"]["train_loss"] == pytest.approx(direct.final.train_loss, rel=1e-6)
