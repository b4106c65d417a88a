"""Benchmark: wall time of the papers' experiments at one scale against their budgets, and the verdict table.

Run: .venv/bin/python benchmarks/experiments.py [--scale smoke|cpu] [--seed S ...] [--only NAME ...] [--out DIR]
     [--collect] [--json FILE] [--markdown FILE]

Each experiment runs in a fresh subprocess (`cli.py experiment NAME --scale SCALE --seed S`, torch on one
thread: on a shared 2-core machine two threads contend), one after another, never two at once. Budgets
(the experiments' targets on 2 idle cores): smoke ≤ 120 s, cpu ≤ 900 s. The table gives seconds, whether
the budget held, and per claim the verdict, estimate, 95 % interval and replicates from report.json, so
two seed sets can be set side by side: `--seed 0 1000` runs both and prints the seed-set agreement table
(per claim: the same verdict, underpowered in one set, or a contradiction, held in one and not held in the
other). `--collect` reads run folders already under --out (named NAME-SCALE-seedS) instead of running. A
loaded machine inflates the seconds; the load average at the start and the end is printed beside them.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from empirics.scales import SCALE_LIMIT_S  # noqa: E402

BUDGET_S = {k: v for k, v in SCALE_LIMIT_S.items() if v is not None}


def _claims(report: dict) -> list[dict]:
    """Return the per-claim verdict, estimate, interval, replicates and rule of a report.json."""
    return [{k: f.get(k) for k in ("claim", "verdict", "estimate", "interval", "replicates", "rule", "premise",
                                   "premise_value", "delta", "margin", "power")}
            for f in report["findings"]]


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
    claims = _claims(json.loads(rep.read_text())) if proc.returncode == 0 and rep.exists() else []
    return {"experiment": name, "scale": scale, "seed": seed, "seconds": seconds, "budget_s": BUDGET_S.get(scale),
            "within_budget": seconds <= BUDGET_S.get(scale, float("inf")), "returncode": proc.returncode,
            "load_before": load0, "load_after": os.getloadavg()[0], "claims": claims,
            "error": proc.stderr.strip().splitlines()[-1] if proc.returncode else ""}


def collect_one(name: str, scale: str, seed: int, out: Path) -> dict:
    """Read one experiment's finished run folder (as run_one would have left it); seconds from report.json."""
    rep = out / f"{name}-{scale}-seed{seed}" / "report.json"
    row = {"experiment": name, "scale": scale, "seed": seed, "seconds": float("nan"), "budget_s": BUDGET_S.get(scale),
           "within_budget": False, "returncode": 1, "load_before": float("nan"), "load_after": float("nan"),
           "claims": [], "error": f"no {rep}"}
    if rep.exists():
        r = json.loads(rep.read_text())
        row.update(seconds=float(r["seconds"]), within_budget=float(r["seconds"]) <= BUDGET_S.get(scale, float("inf")),
                   returncode=0, error="", claims=_claims(r))
    return row


def agreement(rows_a: list[dict], rows_b: list[dict]) -> list[dict]:
    """Per claim of two seed sets: `same` verdict, `underpowered in one` (or not testable in one), or
    `contradiction` (held in one, not held in the other)."""
    b = {(r["experiment"], c["claim"]): c for r in rows_b for c in r["claims"]}
    out = []
    for r in rows_a:
        for c in r["claims"]:
            d = b.get((r["experiment"], c["claim"]))
            if d is None:
                continue
            va, vb = c["verdict"], d["verdict"]
            kind = ("same" if va == vb else "contradiction" if {va, vb} == {"held", "not held"} else
                    "not testable in one" if "not testable here" in (va, vb) else "underpowered in one")
            out.append({"experiment": r["experiment"], "claim": c["claim"], "a": c, "b": d, "agreement": kind})
    return out


def _num(x) -> str:
    return "–" if x is None or (isinstance(x, float) and x != x) else f"{x:.3g}"


def _fmt(c: dict) -> str:
    """Return 'verdict est [lo, hi] n=k' (by-construction findings: the verdict word alone)."""
    if c.get("rule") is None:
        return c["verdict"]
    lo, hi = c["interval"] or (None, None)
    return f"{c['verdict']} {_num(c['estimate'])} [{_num(lo)}, {_num(hi)}] n={c['replicates']}"


def _extra(c: dict) -> str:
    """Return 'premise values; δ; power' of a claim, as far as it has them."""
    parts = []
    if c.get("premise_value"):
        parts.append("premise " + ", ".join(_num(v) for v in c["premise_value"]))
    if c.get("delta") is not None:
        parts.append(f"δ {c['delta']:g}")
    elif c.get("margin") is not None and c.get("rule"):
        parts.append(f"band ±{c['margin']:g}")
    if c.get("power") is not None:
        parts.append(f"power {_num(c['power'])}")
    return "; ".join(parts)


def markdown(table: list[dict], a: int, b: int) -> str:
    """Return the seed-set table as markdown: experiment, claim, each set's finding with premise, δ and power."""
    lines = [f"| experiment | claim | seed set {a} | seed set {b} | agreement |", "|---|---|---|---|---|"]
    for t in table:
        cells = [f"{_fmt(t[k])}" + (f" ({_extra(t[k])})" if _extra(t[k]) else "") for k in ("a", "b")]
        lines.append(f"| {t['experiment']} | {t['claim']} | {cells[0]} | {cells[1]} | {t['agreement']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", message="Unable to import Axes3D")  # Debian's mpl_toolkits beside pip's matplotlib
    from empirics.experiments import registry

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="smoke", choices=tuple(BUDGET_S))
    ap.add_argument("--seed", type=int, nargs="+", default=[0], help="one seed, or two to compare seed sets")
    ap.add_argument("--only", nargs="*", default=None, help="experiment names (default: all)")
    ap.add_argument("--out", default="runs/benchmark")
    ap.add_argument("--collect", action="store_true", help="read finished run folders under --out, run nothing")
    ap.add_argument("--json", default=None)
    ap.add_argument("--markdown", default=None, help="write the seed-set table as markdown to this file")
    args = ap.parse_args(argv)
    names = args.only or sorted(registry())
    one = collect_one if args.collect else run_one
    by_seed = {seed: [one(n, args.scale, seed, Path(args.out)) for n in names] for seed in args.seed}
    for seed, rows in by_seed.items():
        print(f"seed {seed}, scale {args.scale}")
        for r in rows:
            ok = "" if r["returncode"] else "ok" if r["within_budget"] else "OVER"  # a failed run has no time to judge
            print(f"{r['experiment']:<22} {r['seconds']:7.1f} s  budget {r['budget_s']:.0f} s {ok:<4}  "
                  f"load {r['load_before']:.1f}→{r['load_after']:.1f}" + (f"  FAILED: {r['error']}" if r["returncode"]
                                                                           else ""))
            for c in r["claims"]:
                print(f"    {c['claim']:<34} {_fmt(c)} {c['rule'] or ''}  {_extra(c)}")
    table = []
    if len(args.seed) == 2:
        a, b = args.seed
        table = agreement(by_seed[a], by_seed[b])
        print(f"\nseed-set agreement, seeds {a} and {b}:")
        for t in table:
            print(f"  {t['experiment']:<20} {t['claim']:<32} {t['agreement']:<20} {_fmt(t['a'])}  |  {_fmt(t['b'])}")
        kinds = ("same", "underpowered in one", "not testable in one", "contradiction")
        counts = {k: sum(t["agreement"] == k for t in table) for k in kinds}
        print(f"{len(table)} claims: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        if args.markdown:
            Path(args.markdown).write_text(markdown(table, a, b))
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": by_seed, "agreement": table}, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
