"""Benchmark: wall time of the papers' experiments at one scale against their budgets, and the verdict table.

Run: .venv/bin/python benchmarks/experiments.py [--scale smoke|cpu] [--seed S] [--only NAME ...] [--out DIR]
     [--json FILE]

Each experiment runs in a fresh subprocess (`cli.py experiment NAME --scale SCALE --seed S`, torch on one
thread: on a shared 2-core machine two threads contend), one after another, never two at once. Budgets
(the experiments' targets on 2 idle cores): smoke ≤ 120 s, cpu ≤ 900 s. The table gives seconds, whether
the budget held, and per claim the verdict, estimate, 95 % interval and replicates from report.json, so
two seed sets can be set side by side (`--seed 0`, then `--seed 1000`). A loaded machine inflates the
seconds; the load average at the start and the end is printed beside them.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = {"smoke": 120.0, "cpu": 900.0}


def run_one(name: str, scale: str, seed: int, out: Path) -> dict:
    """Run one experiment in a subprocess; return its seconds, exit status and claim table."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "cli.py"), "experiment", name, "--scale", scale, "--seed",
                           str(seed), "--out", str(out), "--run", f"{name}-{scale}-seed{seed}"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    rep = out / f"{name}-{scale}-seed{seed}" / "report.json"
    claims = []
    if proc.returncode == 0 and rep.exists():
        for f in json.loads(rep.read_text())["findings"]:
            claims.append({k: f.get(k) for k in ("claim", "verdict", "estimate", "interval", "replicates", "rule")})
    return {"experiment": name, "scale": scale, "seed": seed, "seconds": seconds, "budget_s": BUDGET_S.get(scale),
            "within_budget": seconds <= BUDGET_S.get(scale, float("inf")), "returncode": proc.returncode,
            "load_before": load0, "load_after": os.getloadavg()[0], "claims": claims,
            "error": proc.stderr.strip().splitlines()[-1] if proc.returncode else ""}


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    from empirics.experiments import registry

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="smoke", choices=("smoke", "cpu"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="*", default=None, help="experiment names (default: all)")
    ap.add_argument("--out", default="runs/benchmark")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    names = args.only or sorted(registry())
    rows = [run_one(n, args.scale, args.seed, Path(args.out)) for n in names]
    for r in rows:
        ok = "ok" if r["within_budget"] else "OVER"
        print(f"{r['experiment']:<22} {r['seconds']:7.1f} s  budget {r['budget_s']:.0f} s {ok:<4}  "
              f"load {r['load_before']:.1f}→{r['load_after']:.1f}" + (f"  FAILED: {r['error']}" if r["returncode"] else ""))
        for c in r["claims"]:
            lo, hi = c["interval"] or (float("nan"), float("nan"))
            est = float("nan") if c["estimate"] is None else c["estimate"]
            print(f"    {c['claim']:<34} {c['verdict']:<13} {est:.3g} [{lo:.3g}, {hi:.3g}] n={c['replicates']} "
                  f"{c['rule']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
