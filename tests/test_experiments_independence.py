"""Replicates are whole independent runs (Theory II and IIb experiments judged by the verdict engine).

Every experiment runs at its MICRO preset; then, from what it wrote and returned:
- every verdict's replicate seeds are root seeds the context handed out (`ctx.replicates`), and no
  two replicates of one test share a root (the engine refuses that too);
- every training folder that belongs to a replicate lives under `stages/rNN/`, starts (`init_from`)
  only from a model of its own replicate, and no two replicates' trainings share a training seed or
  a data seed: no data order, initialisation, trajectory, stage or source model is shared.
"""
from __future__ import annotations

import importlib

import pytest
import torch

from empirics.experiments import ExperimentContext, registry
from landscape_core.runs import RunDir
from replicates import assert_independent

# MICRO runs that take more than ~20 s on one core are in the slow run
SLOW = {"ii-gd-branches", "ii-perturb-retrain", "ii-small-perturb", "iib-table1", "iib-poly-activation",
        "degeneracy", "iib-sgd-vs-sgdl", "fb-dss-cnn", "iib-gradient-noise", "iib-simplex", "iib-langevin"}


def _params():
    names = sorted(registry())
    return [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in names]


@pytest.mark.parametrize("name", _params())
def test_replicates_share_no_draw(tmp_path, name):
    exp = registry()[name]
    module = importlib.import_module(exp.run.__module__)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ctx = ExperimentContext("smoke", 0, "cpu", "data", exp.datasets[0] if exp.datasets else None,
                                RunDir(tmp_path, name))
        run = getattr(module, "run_" + name.replace("-", "_"), None) or module.run
        rep = run(ctx, module.MICRO) if not isinstance(getattr(module, "MICRO", None), dict) else run(ctx, module.MICRO[name])
    finally:
        torch.set_num_threads(before)
    judged = [f for f in rep.findings if f.judged is not None]
    assert judged, f"{name}: no finding was judged by the engine"
    assert_independent(ctx, rep, name)


def test_the_check_fails_on_a_shared_seed_and_on_a_source_model_of_another_replicate(tmp_path):
    """Negative controls of `replicates.assert_independent`: it is not a check that cannot fail."""
    import json
    from types import SimpleNamespace

    def write(tag: str, name: str, **cfg) -> None:
        folder = tmp_path / "stages" / tag / name
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps(cfg))

    ctx = SimpleNamespace(roots=[1, 2], run=SimpleNamespace(path=tmp_path))
    rep = SimpleNamespace(findings=())
    write("r00", "main", seed=10, data_seed=20)
    write("r01", "main", seed=11, data_seed=21)
    assert assert_independent(ctx, rep) == {"r00", "r01"}
    write("r01", "branch", seed=12, data_seed=22, init_from=str(tmp_path / "stages" / "r00" / "main") + ":3")
    with pytest.raises(AssertionError, match="outside r01"):
        assert_independent(ctx, rep)
    (tmp_path / "stages" / "r01" / "branch" / "config.json").unlink()
    write("r01", "again", seed=10, data_seed=23)
    with pytest.raises(AssertionError, match="seed 10 drawn by r00 and r01"):
        assert_independent(ctx, rep)
