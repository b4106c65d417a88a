"""The one check that an experiment's replicates are whole independent runs (Theory II and IIb experiments).

`replicate_configs(run)` reads the configuration of every training folder under `stages/`, by replicate
tag (`rNN`; '' for folders outside a replicate). `assert_independent(ctx, rep)` checks what a MICRO run
wrote and returned: every judged test's seeds are distinct root seeds the context handed out; every
training folder of a replicate starts (`init_from`) only from a model inside that replicate; no two
replicates share a training seed or a data seed. It returns the tags of the replicates that trained,
for the caller's own expectation (all of them, none, or a subset).
"""
from __future__ import annotations

import json
from pathlib import Path


def replicate_configs(run: Path) -> dict[str, list[dict]]:
    """Return {replicate tag or '': [training config dicts, each with its folder under '_folder']}."""
    out: dict[str, list[dict]] = {}
    for cfg in sorted((Path(run) / "stages").rglob("config.json")):
        rel = cfg.relative_to(Path(run) / "stages").parts
        tag = rel[0] if rel[0].startswith("r") and rel[0][1:].isdigit() and len(rel) > 2 else ""
        data = json.loads(cfg.read_text())
        data = data.get("config", data)
        data["_folder"] = str(cfg.parent)
        out.setdefault(tag, []).append(data)
    return out


def assert_independent(ctx, rep, name: str = "") -> set[str]:
    """Assert that the replicates of `rep` (run in `ctx`) share no draw; return the tags that trained."""
    roots = set(ctx.roots)
    for f in rep.findings:
        for t in (f.judged.tests if f.judged is not None else ()):
            assert set(t.seeds) <= roots, f"{name}/{f.claim}: a replicate seed that no replicate of this run has"
            assert len(set(t.seeds)) == len(t.seeds), f"{name}/{f.claim}: two replicates share a root"
    seen: dict[tuple[str, int], str] = {}
    trained = set()
    for tag, cfgs in replicate_configs(ctx.run.path).items():
        if not tag:
            continue
        own = ctx.run.path / "stages" / tag
        for c in cfgs:
            if "seed" not in c and "data_seed" not in c:
                continue  # not a training folder
            trained.add(tag)
            src = c.get("init_from")
            if src:
                assert Path(src).is_relative_to(own), f"{name}: {c['_folder']} starts from {src}, outside {tag}"
            for key in ("seed", "data_seed"):
                if c.get(key) is not None:
                    owner = seen.setdefault((key, int(c[key])), tag)
                    assert owner == tag, f"{name}: {key} {c[key]} drawn by {owner} and {tag}"
    return trained
