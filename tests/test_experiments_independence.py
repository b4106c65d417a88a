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
import json
from pathlib import Path

import pytest
import torch

from empirics.experiments import ExperimentContext, registry
from landscape_core.runs import RunDir

# MICRO runs that take more than ~20 s on one core are in the slow run
SLOW = {"ii-gd-branches", "ii-perturb-retrain", "ii-small-perturb", "iib-table1", "iib-poly-activation",
        "degeneracy", "iib-sgd-vs-sgdl", "fb-dss-cnn", "iib-gradient-noise", "iib-simplex", "iib-langevin"}


def _training_configs(run: Path) -> dict[str, list[dict]]:
    """Return {replicate tag or '': [training config dicts]} for every training folder under stages/."""
    out: dict[str, list[dict]] = {}
    for cfg in sorted((run / "stages").rglob("config.json")):
        rel = cfg.relative_to(run / "stages").parts
        tag = rel[0] if rel[0].startswith("r") and rel[0][1:].isdigit() and len(rel) > 2 else ""
        data = json.loads(cfg.read_text())
        data = data.get("config", data)
        data["_folder"] = str(cfg.parent)
        out.setdefault(tag, []).append(data)
    return out


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
    roots = set(ctx.roots)
    judged = [f for f in rep.findings if f.judged is not None]
    assert judged, f"{name}: no finding was judged by the engine"
    for f in judged:
        for t in f.judged.tests:
            assert set(t.seeds) <= roots, f"{name}/{f.claim}: a replicate seed that no replicate of this run has"
            assert len(set(t.seeds)) == len(t.seeds)
    configs = _training_configs(ctx.run.path)
    seen: dict[int, str] = {}
    for tag, cfgs in configs.items():
        if not tag:
            continue
        own = str(ctx.run.path / "stages" / tag)
        for c in cfgs:
            src = c.get("init_from")
            if src:
                assert str(Path(src)).startswith(own), f"{name}: {c['_folder']} starts from {src}, outside {tag}"
            for key in ("seed", "data_seed"):
                s = c.get(key)
                if s is None:
                    continue
                assert seen.setdefault(s, tag) == tag, f"{name}: {key} {s} drawn by {seen[s]} and {tag}"
