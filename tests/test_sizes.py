"""Claims about `landscape_core.sizes`: requests are sized before any work, and refused in one line.

The estimates themselves are compared with measured peak memory by `benchmarks/sizes.py`; here:
the refusal rule (memory needs add up against --max-memory or 80 % of physical memory, disk needs
against the free space where the run writes), and that each command named in the size checks
refuses an impossible request with exit code 2 and one line before its computation starts.
"""
from __future__ import annotations

import pytest

import cli
# Imported before any test patches a function they import by name, so that no patch outlives its test.
import empirics.compare  # noqa: F401
import empirics.connectivity  # noqa: F401
import empirics.probe_runs  # noqa: F401
import theory.bounds.bezout  # noqa: F401
import theory.counting.families  # noqa: F401
import theory.homotopy.solve  # noqa: F401
import theory.counting.dimension  # noqa: F401
from landscape_core.errors import PathBudgetExceeded, RequestTooLarge
from landscape_core.sizes import GB, Need, check_needs, memory_limit, physical_memory, size_text


def test_memory_needs_add_up_against_the_limit_and_the_largest_is_named():
    needs = [Need("memory", 6 * GB, "the big matrix"), Need("memory", 5 * GB, "the small one")]
    check_needs(needs, max_memory_gb=11.0)
    with pytest.raises(RequestTooLarge) as info:
        check_needs(needs, max_memory_gb=10.0)
    text = str(info.value)
    assert "6.0 GB of memory for the big matrix (in all 11.0 GB)" in text and "10.0 GB (--max-memory)" in text
    assert "\n" not in text


def test_the_default_limit_is_80_percent_of_physical_memory():
    total = physical_memory()
    limit, how = memory_limit(None)
    assert total is not None and limit == int(0.8 * total) and "80%" in how and "--max-memory" in how


def test_disk_needs_are_checked_against_the_free_space_where_the_run_writes(tmp_path):
    import shutil

    free = shutil.disk_usage(tmp_path).free
    check_needs([Need("disk", free // 2, "half the disk")], out=tmp_path / "not yet made")
    with pytest.raises(RequestTooLarge, match="only .* are free"):
        check_needs([Need("disk", 2 * free + GB, "twice the disk")], out=tmp_path)
    check_needs([Need("disk", 2 * free + GB, "twice the disk")], out=None)  # nothing written: not checked


def test_sizes_read_in_decimal_units():
    assert [size_text(x) for x in (512, 1_500, 2_000_000, 80 * GB, 1.4e12)] == \
        ["512 B", "1.5 kB", "2.0 MB", "80.0 GB", "1.4 TB"]
    assert issubclass(PathBudgetExceeded, RequestTooLarge)  # path budgets are size refusals too


def _refused(capsys, argv: list[str]) -> str:
    capsys.readouterr()
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    return err


def _no_work(*args, **kwargs):
    raise AssertionError("the computation started although the request was refused by its size")


def test_critical_of_a_width_100000_network_is_refused_before_its_guard_runs(capsys, monkeypatch):
    """Claim: `critical --width 100000` (K = 300,001) needs a 300,001² table just to bound its expansion:
    refused with the memory it would take, before the table is built."""
    import theory.bounds.degrees

    monkeypatch.setattr(theory.bounds.degrees, "critical_degree_bounds", _no_work)
    monkeypatch.setattr(theory.bounds.degrees, "zero_error_term_bound", _no_work)
    err = _refused(capsys, ["critical", "--width", "100000", "--no-progress"])
    assert "300,001 × 300,001 table" in err and "1.4 TB of memory" in err and "--max-memory" in err


def test_compare_with_100000_points_is_refused_before_training(capsys, monkeypatch, tmp_path):
    """Claim: `compare --points 100000` (a 100,000-row Jacobian pushed through jacrev) is refused before any
    training, and --max-memory moves the limit."""
    import empirics.compare

    monkeypatch.setattr(empirics.compare, "run_compare", _no_work)
    err = _refused(capsys, ["compare", "--points", "100000", "--out", str(tmp_path)])
    assert "100,000 × 100,000 Jacobian pass" in err and "over the limit of" in err
    err = _refused(capsys, ["compare", "--points", "200", "--max-memory", "0.001", "--out", str(tmp_path)])
    assert "over the limit of 1.0 MB (--max-memory)" in err


def test_train_of_ten_billion_weights_is_refused_before_any_tensor_is_made(capsys, monkeypatch, tmp_path):
    import empirics.train

    monkeypatch.setattr(empirics.train, "train", _no_work)
    err = _refused(capsys, ["train", "--model", "mlp", "--widths", "100000,100000", "--out", str(tmp_path),
                            "--no-progress"])
    assert "10,103,600,010 weights" in err
    assert not (tmp_path / "fashion-mnist-mlp-sgd-s0").exists()


def test_solve_of_an_astronomical_homotopy_is_refused_before_its_system_is_expanded(capsys, monkeypatch):
    """Claim: the square zero-error system of fc 1-30-1 (K = N = 91) would start 10^69.8 multihomogeneous
    paths: refused from the closed-form degrees, without expanding the 91 equations (minutes)."""
    import theory.homotopy.solve

    monkeypatch.setattr(theory.homotopy.solve, "network_system", _no_work)
    err = _refused(capsys, ["solve", "--width", "30", "--points", "91", "--input-dim", "1", "--no-progress"])
    assert "predicted from the closed-form degrees has about 10^69.8 start paths" in err


def test_bezout_refuses_a_jacobian_over_the_limit_and_keeps_its_cap_on_points(capsys, monkeypatch):
    """Claim: `bezout` sizes its N × K Jacobian (fc 8-100-100-1: K = 11,101) before computing it; ten million
    points stay refused by the data cap."""
    import theory.bounds.bezout

    monkeypatch.setattr(theory.bounds.bezout, "bezout_report", _no_work)
    err = _refused(capsys, ["bezout", "--width", "100", "--input-dim", "8", "--points", "1000", "--max-memory", "0.01"])
    assert "1,000 × 11,101 Jacobian (exact rank mod p)" in err
    bezout_points = _refused(capsys, ["bezout", "--points", "10000000"])
    assert "10000000 data points: at most 100000 are supported" in bezout_points


@pytest.mark.parametrize("kind, widths", [("paper-cnn", (8, 8, 8, 8)), ("mlp", (16, 16)), ("theory", (3, 3))])
def test_the_training_estimate_counts_the_weights_of_the_model_train_builds(kind, widths):
    """Claim: train_needs, built on torch's meta device, counts exactly the weights a real model of the
    same config has (the DCNN with batch norm, an MLP, a theory network), K trajectories times
    (weights, gradients, checkpoint copy, momentum)."""
    import torch

    from empirics.models import count_params
    from empirics.train import ModelSpec, TrainConfig, build_model, train_needs
    from theory.network.activations import parse
    from theory.network.spec import NetworkSpec

    if kind == "theory":
        network = NetworkSpec((3, *widths, 1), parse("z + z^2/4"), output_activation=False)
        config = TrainConfig(dataset="regression", model=ModelSpec.theory(network), teacher=network, trajectories=2,
                             momentum=0.9)
        shape, outputs = (3,), 1
    else:
        config = TrainConfig(dataset="digits", model=ModelSpec(kind, widths=widths), trajectories=2, momentum=0.9)
        shape, outputs = (1, 8, 8), 10
    real = count_params(build_model(config.model, shape, outputs, 0, torch.float32))
    state = train_needs(config)[0]
    assert state.amount == 2 * real * 4 * 4 and f"2 × {real:,} weights" in state.what


@pytest.mark.parametrize("argv, patched, says", [
    (["paths", "--layer-widths", "3,100000,100000,2"], ("theory.sublevel.linear_paths", "certify_demo"),
     "two deep linear networks of 10,000,500,000 weights"),
    (["valleys", "--input-dim", "300", "--activation", "z^3", "--points", "100000"],
     ("theory.sublevel.valleys", "valley_experiment"), "the 100,000 × 4,545,100 lifted features"),
    (["dss", "--widths", "100000,100000"], ("empirics.connectivity", "polynomial_regression_study"),
     "a string of 32 MLPs of 10,000,400,001 weights"),
])
def test_connectivity_commands_refuse_what_they_cannot_hold_before_work(capsys, monkeypatch, tmp_path, argv, patched,
                                                                        says):
    """Claim: the arrays `paths`, `valleys` and `dss` must hold at least (endpoint networks, lifted features
    C(n+2, 3) = 4,545,100 for n = 300 and ρ = z³, a string of beads) are sized before any work."""
    import importlib

    monkeypatch.setattr(importlib.import_module(patched[0]), patched[1], _no_work)
    err = _refused(capsys, [*argv, "--out", str(tmp_path), "--no-progress"])
    assert says in err
    assert not any(tmp_path.iterdir())  # refused before the run folder was made


def test_probe_and_mds_size_a_run_from_its_config_before_loading_it(tmp_path, capsys, monkeypatch):
    """Claim: a 2-trajectory, 3-epoch training run holds 2 × 4 saved models (epochs 0–3): mds sizes 8 points and
    their 8 × 8 dissimilarities, probe the run's 18 inputs and 2 models, both from config.json alone."""
    from empirics.probe_runs import ProbeSource, mds_needs, probe_needs

    train = ["train", "--dataset", "regression", "--model", "theory", "--input-dim", "3", "--widths", "4",
             "--activation", "z", "--no-output-activation", "--points", "12", "--test-points", "6", "--float64",
             "--epochs", "3", "--trajectories", "2", "--device", "cpu", "--no-progress", "--out", str(tmp_path),
             "--run", "r"]
    assert cli.main(train) == 0
    run = str(tmp_path / "r")
    points, distances = mds_needs([run])
    weights = 4 * 3 + 4 + 4 + 1
    assert (points.amount, distances.amount) == (8 * 8 * weights, 8 * 8 * 8)
    data, models = probe_needs(ProbeSource(run=run))
    assert (data.amount, models.amount) == (8 * 18 * 3, 8 * 2 * weights)
    import empirics.probe_runs

    monkeypatch.setattr(empirics.probe_runs, "load_source", _no_work)
    err = _refused(capsys, ["probe", "perturb", "--from", run, "--max-memory", "1e-7", "--out", str(tmp_path)])
    assert "18 inputs of shape (3,)" in err


def test_a_grid_is_sized_by_the_tasks_it_runs_at_once(capsys, monkeypatch, tmp_path):
    """Claim: `grid train` with two 10^10-weight tasks and two workers holds both at once: refused before any task
    folder is written; on Slurm the tasks run elsewhere and are not summed here."""
    import landscape_core.executor as executor

    monkeypatch.setattr(executor, "submit", _no_work)
    err = _refused(capsys, ["grid", "train", "--axis", "seed=0,1", "--set", "model=mlp", "--set", "widths=100000,100000",
                            "--workers", "2", "--run", "g", "--out", str(tmp_path), "--no-progress"])
    assert "2 tasks at once (the largest: seed=" in err and "123 GB" in err
    assert not (tmp_path / "g").exists()
    from landscape_toolkit.commands.grid import task_needs
    from landscape_toolkit.grid_targets import TARGETS

    tasks = executor.grid_tasks(TARGETS["train"].path, {"seed": [0, 1]}, {"model": "mlp", "widths": [100000, 100000]})
    assert task_needs(TARGETS["train"], tasks, 2, "slurm") == []
    one = task_needs(TARGETS["train"], tasks, 1, "local")[0].amount
    assert task_needs(TARGETS["train"], tasks, 2, "local")[0].amount == 2 * one
